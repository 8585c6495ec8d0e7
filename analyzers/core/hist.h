/*
 * Private to the analysis core: a bounded-memory latency histogram, log-linear like HDR. Values
 * below 2^(bits+1) are exact; above, each power of two is split into 2^bits equal buckets, so a
 * bucket is at most 1/2^bits of its values wide. Memory follows the span of values recorded, not
 * their number.
 */
#ifndef XTIO_ANALYZERS_HIST_H
#define XTIO_ANALYZERS_HIST_H

#include <stdint.h>

struct xtio__hist {
    uint64_t *counts; /* owned: buckets [lo, lo + len) */
    uint32_t lo;
    uint32_t len;
    uint8_t bits;
    uint64_t count;
    uint64_t min;
    uint64_t max;
};

void xtio__hist_init(struct xtio__hist *hist, unsigned bits);
void xtio__hist_fini(struct xtio__hist *hist);
/* 0, or -ENOMEM (the histogram is unchanged). */
int xtio__hist_record(struct xtio__hist *hist, uint64_t value);
/* The value at rank ceil(permille * count / 1000) (nearest rank), as the middle of its bucket
 * kept within [min, max]; 0 when empty. */
uint64_t xtio__hist_percentile(const struct xtio__hist *hist, unsigned permille);

#endif
