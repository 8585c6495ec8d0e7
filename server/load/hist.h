/*
 * xtio-load's latency histogram: log-linear buckets (64 per power of two, like HdrHistogram with
 * two significant digits), so any count of samples takes the same 30 KB and a percentile is off
 * by less than 1.6%.
 */
#ifndef XTIO_LOAD_HIST_H
#define XTIO_LOAD_HIST_H

#include <stdint.h>

#define XTIO_LOAD_HIST_SUB_BITS 6
/* Exact below 2^(SUB_BITS+1); above, 2^SUB_BITS buckets per power of two up to 2^64. */
#define XTIO_LOAD_HIST_BUCKETS  ((64 - XTIO_LOAD_HIST_SUB_BITS + 1) << XTIO_LOAD_HIST_SUB_BITS)

struct xtio_load_hist {
    uint64_t count;
    uint64_t min, max;
    double sum;
    uint64_t buckets[XTIO_LOAD_HIST_BUCKETS];
};

void xtio_load_hist_init(struct xtio_load_hist *h);
void xtio_load_hist_record(struct xtio_load_hist *h, uint64_t value);
void xtio_load_hist_merge(struct xtio_load_hist *into, const struct xtio_load_hist *from);
/* The value at or below which `percent` of the samples fall (the top of its bucket, capped by
 * the maximum seen); 0 for an empty histogram. */
uint64_t xtio_load_hist_percentile(const struct xtio_load_hist *h, double percent);
double xtio_load_hist_mean(const struct xtio_load_hist *h);

#endif
