/* The log-linear latency histogram of the analysis core (see hist.h). */
#include "hist.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Grown in whole powers of two, so that a run of values drifting upwards reallocates rarely. */
static uint32_t octave_floor(uint32_t index, unsigned bits)
{
    return index & ~((UINT32_C(1) << bits) - 1);
}

static uint32_t bucket_of(uint64_t value, unsigned bits)
{
    unsigned msb = value ? 63u - (unsigned)__builtin_clzll(value) : 0;
    unsigned shift = msb > bits ? msb - bits : 0;
    return (uint32_t)(((uint64_t)shift << bits) + (value >> shift));
}

static void bucket_range(uint32_t index, unsigned bits, uint64_t *low, uint64_t *width)
{
    uint32_t shift = index < (UINT32_C(2) << bits) ? 0 : (index >> bits) - 1;
    uint64_t sub = index - ((uint64_t)shift << bits);
    *low = sub << shift;
    *width = UINT64_C(1) << shift;
}

void xtio__hist_init(struct xtio__hist *hist, unsigned bits)
{
    memset(hist, 0, sizeof(*hist));
    hist->bits = (uint8_t)bits;
}

void xtio__hist_fini(struct xtio__hist *hist)
{
    free(hist->counts);
    hist->counts = NULL;
    hist->len = 0;
}

static int cover(struct xtio__hist *hist, uint32_t index)
{
    uint32_t octave = UINT32_C(1) << hist->bits;
    uint32_t lo, hi;
    if (hist->len == 0) {
        lo = octave_floor(index, hist->bits);
        hi = lo + octave;
    } else {
        lo = hist->lo;
        hi = hist->lo + hist->len;
        if (index < lo)
            lo = octave_floor(index, hist->bits);
        if (index >= hi)
            hi = octave_floor(index, hist->bits) + octave;
    }
    if (lo == hist->lo && hi == hist->lo + hist->len)
        return 0;

    uint64_t *counts = calloc(hi - lo, sizeof(*counts));
    if (!counts)
        return -ENOMEM;
    if (hist->len)
        memcpy(counts + (hist->lo - lo), hist->counts, hist->len * sizeof(*counts));
    free(hist->counts);
    hist->counts = counts;
    hist->lo = lo;
    hist->len = hi - lo;
    return 0;
}

static void count(struct xtio__hist *hist, uint32_t index, uint64_t value)
{
    hist->counts[index - hist->lo]++;
    if (hist->count == 0 || value < hist->min)
        hist->min = value;
    if (value > hist->max)
        hist->max = value;
    hist->count++;
}

/* Out of line, and reached by a tail call: inlined, it would make every record save and restore
 * registers, though a value falls outside the buckets so far only now and then. */
__attribute__((noinline)) static int record_widening(struct xtio__hist *hist, uint32_t index,
                                                     uint64_t value)
{
    int status = cover(hist, index);
    if (status == 0)
        count(hist, index, value);
    return status;
}

int xtio__hist_record(struct xtio__hist *hist, uint64_t value)
{
    uint32_t index = bucket_of(value, hist->bits);
    /* Unsigned, so that one comparison also catches an index below lo, and an empty histogram. */
    if (index - hist->lo >= hist->len)
        return record_widening(hist, index, value);
    count(hist, index, value);
    return 0;
}

uint64_t xtio__hist_percentile(const struct xtio__hist *hist, unsigned permille)
{
    if (hist->count == 0)
        return 0;
    uint64_t rank =
        (hist->count / 1000) * permille + ((hist->count % 1000) * permille + 999) / 1000;
    if (rank == 0)
        rank = 1;
    if (rank > hist->count)
        rank = hist->count;

    uint64_t seen = 0;
    for (uint32_t i = 0; i < hist->len; i++) {
        seen += hist->counts[i];
        if (seen < rank)
            continue;
        uint64_t low, width;
        bucket_range(hist->lo + i, hist->bits, &low, &width);
        uint64_t value = low + width / 2;
        if (value < hist->min)
            value = hist->min;
        if (value > hist->max)
            value = hist->max;
        return value;
    }
    return hist->max;
}
