/* The log-linear latency histogram of the xtio tools (see xtio_hist.h). */
#include "xtio_hist.h"

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

/* The value every statistic takes for the values of bucket `index`: its middle, kept within
 * [min, max]. */
static uint64_t bucket_value(const struct xtio_hist *hist, uint32_t index)
{
    uint64_t low, width;
    bucket_range(index, hist->bits, &low, &width);
    uint64_t value = low + width / 2;
    if (value < hist->min)
        value = hist->min;
    if (value > hist->max)
        value = hist->max;
    return value;
}

void xtio_hist_init(struct xtio_hist *hist, unsigned bits)
{
    memset(hist, 0, sizeof(*hist));
    hist->bits = (uint8_t)bits;
}

void xtio_hist_fini(struct xtio_hist *hist)
{
    free(hist->counts);
    hist->counts = NULL;
    hist->len = 0;
}

/* Widens the buckets to cover the indices [first, last]. */
static int cover(struct xtio_hist *hist, uint32_t first, uint32_t last)
{
    uint32_t lo = octave_floor(first, hist->bits);
    uint32_t hi = octave_floor(last, hist->bits) + (UINT32_C(1) << hist->bits);
    if (hist->len) {
        if (hist->lo < lo)
            lo = hist->lo;
        if (hist->lo + hist->len > hi)
            hi = hist->lo + hist->len;
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

static void count(struct xtio_hist *hist, uint32_t index, uint64_t value)
{
    hist->counts[index - hist->lo]++;
    if (hist->count == 0 || value < hist->min)
        hist->min = value;
    if (value > hist->max)
        hist->max = value;
    hist->count++;
}

int xtio_hist_record(struct xtio_hist *hist, uint64_t value)
{
    uint32_t index = bucket_of(value, hist->bits);
    /* Unsigned, so that one comparison also catches an index below lo, and an empty histogram. */
    if (index - hist->lo >= hist->len) {
        int status = cover(hist, index, index);
        if (status)
            return status;
    }
    count(hist, index, value);
    return 0;
}

int xtio_hist_merge(struct xtio_hist *into, const struct xtio_hist *from)
{
    if (from->count == 0)
        return 0;
    if (from->bits != into->bits)
        return -EINVAL;
    int status = cover(into, from->lo, from->lo + from->len - 1);
    if (status != 0)
        return status;
    for (uint32_t i = 0; i < from->len; i++)
        into->counts[from->lo - into->lo + i] += from->counts[i];
    if (into->count == 0 || from->min < into->min)
        into->min = from->min;
    if (from->max > into->max)
        into->max = from->max;
    into->count += from->count;
    return 0;
}

uint64_t xtio_hist_rank(uint64_t count, unsigned permille)
{
    if (count == 0)
        return 0;
    uint64_t rank = (count / 1000) * permille + ((count % 1000) * permille + 999) / 1000;
    if (rank == 0)
        rank = 1;
    return rank > count ? count : rank;
}

uint64_t xtio_hist_percentile(const struct xtio_hist *hist, unsigned permille)
{
    if (hist->count == 0)
        return 0;
    uint64_t rank = xtio_hist_rank(hist->count, permille);

    uint64_t seen = 0;
    for (uint32_t i = 0; i < hist->len; i++) {
        seen += hist->counts[i];
        if (seen >= rank)
            return bucket_value(hist, hist->lo + i);
    }
    return hist->max;
}

double xtio_hist_mean(const struct xtio_hist *hist)
{
    if (hist->count == 0)
        return 0.0;
    double sum = 0.0;
    for (uint32_t i = 0; i < hist->len; i++)
        if (hist->counts[i])
            sum += (double)hist->counts[i] * (double)bucket_value(hist, hist->lo + i);
    return sum / (double)hist->count;
}
