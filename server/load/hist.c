/* The log-linear latency histogram of xtio-load. */
#include "hist.h"

#include <string.h>

#define SUB_COUNT ((uint64_t)1 << XTIO_LOAD_HIST_SUB_BITS)

void xtio_load_hist_init(struct xtio_load_hist *h)
{
    memset(h, 0, sizeof(*h));
    h->min = UINT64_MAX;
}

/* shift is how many low bits the bucket ignores; index = shift * 64 + (value >> shift), which
 * lands values of [2^(k), 2^(k+1)) on 64 consecutive buckets for every k above the exact range. */
static unsigned bucket_shift(uint64_t value)
{
    if (value < 2 * SUB_COUNT)
        return 0;
    unsigned msb = 63u - (unsigned)__builtin_clzll(value);
    return msb - XTIO_LOAD_HIST_SUB_BITS;
}

static size_t bucket_of(uint64_t value)
{
    unsigned shift = bucket_shift(value);
    return ((size_t)shift << XTIO_LOAD_HIST_SUB_BITS) + (size_t)(value >> shift);
}

/* The largest value that falls in bucket `index`. */
static uint64_t bucket_top(size_t index)
{
    if (index < 2 * SUB_COUNT)
        return index;
    unsigned shift = (unsigned)(index >> XTIO_LOAD_HIST_SUB_BITS) - 1;
    uint64_t mantissa = (index & (SUB_COUNT - 1)) | SUB_COUNT;
    uint64_t low = mantissa << shift;
    return low + (((uint64_t)1 << shift) - 1);
}

void xtio_load_hist_record(struct xtio_load_hist *h, uint64_t value)
{
    h->buckets[bucket_of(value)]++;
    h->count++;
    h->sum += (double)value;
    if (value < h->min)
        h->min = value;
    if (value > h->max)
        h->max = value;
}

void xtio_load_hist_merge(struct xtio_load_hist *into, const struct xtio_load_hist *from)
{
    if (!from->count)
        return;
    for (size_t i = 0; i < XTIO_LOAD_HIST_BUCKETS; i++)
        into->buckets[i] += from->buckets[i];
    into->count += from->count;
    into->sum += from->sum;
    if (from->min < into->min)
        into->min = from->min;
    if (from->max > into->max)
        into->max = from->max;
}

uint64_t xtio_load_hist_percentile(const struct xtio_load_hist *h, double percent)
{
    if (!h->count)
        return 0;
    double exact = percent / 100.0 * (double)h->count;
    uint64_t rank = (uint64_t)exact;
    if ((double)rank < exact)
        rank++;
    if (rank < 1)
        rank = 1;
    if (rank > h->count)
        rank = h->count;
    uint64_t seen = 0;
    for (size_t i = 0; i < XTIO_LOAD_HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            uint64_t top = bucket_top(i);
            return top > h->max ? h->max : top < h->min ? h->min : top;
        }
    }
    return h->max;
}

double xtio_load_hist_mean(const struct xtio_load_hist *h)
{
    return h->count ? h->sum / (double)h->count : 0.0;
}
