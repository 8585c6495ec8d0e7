/*
 * xtio_hist: the latency histogram of every xtio tool (xtio-load, the analysis core), and the one
 * rule by which its percentiles and mean are read. Log-linear like HDR: values below 2^(bits+1)
 * are exact; above, each power of two is split into 2^bits equal buckets. Memory follows the
 * span of the values recorded, not their number. Histograms of one bits merge, so that threads
 * can record apart.
 *
 * The rule (docs/analysis.md, "Percentiles"): a percentile is the value at the nearest rank,
 * ceil(permille * count / 1000), taken as the middle of its bucket kept within [min, max]; so it
 * is within 1/2^(bits+1) of the true value. count, min and max are exact.
 */
#ifndef XTIO_HIST_H
#define XTIO_HIST_H

#include <stdint.h>

struct xtio_hist {
    uint64_t *counts; /* owned: buckets [lo, lo + len) */
    uint32_t lo;
    uint32_t len;
    uint8_t bits;
    uint64_t count;
    uint64_t min; /* when count > 0 */
    uint64_t max;
};

/* bits is at most 16. */
void xtio_hist_init(struct xtio_hist *hist, unsigned bits);
void xtio_hist_fini(struct xtio_hist *hist);
/* 0, or -ENOMEM (the histogram is unchanged). */
int xtio_hist_record(struct xtio_hist *hist, uint64_t value);
/* Adds every value of from into into, of the same bits: 0, -ENOMEM or -EINVAL (other bits); into
 * is unchanged on failure. */
int xtio_hist_merge(struct xtio_hist *into, const struct xtio_hist *from);
/* The nearest rank of a percentile among count sorted values, 1-based: ceil(permille * count /
 * 1000), at least 1 and at most count; 0 when count is 0. The rule of every percentile and median
 * xtio reads, of a histogram or of a few sorted numbers (xtio-compare's medians over reports). */
uint64_t xtio_hist_rank(uint64_t count, unsigned permille);
/* The value at rank xtio_hist_rank(count, permille), as the middle of its bucket kept within
 * [min, max]; 0 when empty. */
uint64_t xtio_hist_percentile(const struct xtio_hist *hist, unsigned permille);
/* The mean of the values, each taken as a percentile takes it (its bucket's middle within
 * [min, max]), so within 1/2^(bits+1) too; 0 when empty. */
double xtio_hist_mean(const struct xtio_hist *hist);

#endif
