/*
 * The shared latency histogram (common/xtio_hist.h) and its one percentile rule: exact small
 * values, a bucket's middle, clamping to [min, max], nearest rank, the error bound, the mean,
 * merge, an empty histogram, and running out of memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "xtio_hist.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

/* The histogram's calloc goes through here (-Wl,--wrap=calloc), so that a test can refuse it. */
static bool refuse_calloc;
void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size)
{
    return refuse_calloc ? NULL : __real_calloc(n, size);
}

static void record_all(struct xtio_hist *hist, const uint64_t *values, size_t n)
{
    for (size_t i = 0; i < n; i++)
        assert_int_equal(xtio_hist_record(hist, values[i]), 0);
}

static void empty_histogram_reads_zero(void **state)
{
    (void)state;
    struct xtio_hist h;
    xtio_hist_init(&h, 6);
    assert_int_equal(h.count, 0);
    assert_int_equal(xtio_hist_percentile(&h, 0), 0);
    assert_int_equal(xtio_hist_percentile(&h, 500), 0);
    assert_int_equal(xtio_hist_percentile(&h, 1000), 0);
    assert_true(xtio_hist_mean(&h) == 0.0);
    xtio_hist_fini(&h);
    xtio_hist_fini(&h); /* fini twice, as an error path may */
}

/* Below 2^(bits+1) every value has a bucket of its own. */
static void small_values_are_exact(void **state)
{
    (void)state;
    struct xtio_hist h;
    xtio_hist_init(&h, 6);
    const uint64_t values[] = {127, 0, 3, 64, 100};
    record_all(&h, values, 5);
    /* Sorted: 0 3 64 100 127. */
    assert_int_equal(xtio_hist_percentile(&h, 200), 0);
    assert_int_equal(xtio_hist_percentile(&h, 400), 3);
    assert_int_equal(xtio_hist_percentile(&h, 600), 64);
    assert_int_equal(xtio_hist_percentile(&h, 800), 100);
    assert_int_equal(xtio_hist_percentile(&h, 1000), 127);
    assert_true(xtio_hist_mean(&h) == (0 + 3 + 64 + 100 + 127) / 5.0);
    assert_int_equal(h.min, 0);
    assert_int_equal(h.max, 127);
    xtio_hist_fini(&h);
}

/* With 6 bits, 1000 falls in [1000, 1008): shift 3, 8 wide, middle 1004. */
static void a_percentile_is_its_buckets_middle(void **state)
{
    (void)state;
    struct xtio_hist h;
    xtio_hist_init(&h, 6);
    const uint64_t values[] = {10, 1000, 1007, 5000};
    record_all(&h, values, 4);
    /* Rank 2 and rank 3 are both in [1000, 1008): neither its bottom nor its top. */
    assert_int_equal(xtio_hist_percentile(&h, 500), 1004);
    assert_int_equal(xtio_hist_percentile(&h, 750), 1004);
    assert_int_equal(xtio_hist_percentile(&h, 250), 10);
    /* 5000 is in [4992, 5056), whose middle 5024 is above the max. */
    assert_int_equal(xtio_hist_percentile(&h, 1000), 5000);
    xtio_hist_fini(&h);
}

static void the_middle_is_kept_within_min_and_max(void **state)
{
    (void)state;
    struct xtio_hist h;
    /* Both in [1000, 1008), above its middle: the min stands for them. */
    xtio_hist_init(&h, 6);
    const uint64_t high[] = {1005, 1006};
    record_all(&h, high, 2);
    assert_int_equal(xtio_hist_percentile(&h, 500), 1005);
    assert_int_equal(xtio_hist_percentile(&h, 1000), 1005);
    assert_true(xtio_hist_mean(&h) == 1005.0);
    xtio_hist_fini(&h);

    /* Both below its middle: the max stands for them. */
    xtio_hist_init(&h, 6);
    const uint64_t low[] = {1000, 1001};
    record_all(&h, low, 2);
    assert_int_equal(xtio_hist_percentile(&h, 1), 1001);
    assert_int_equal(xtio_hist_percentile(&h, 1000), 1001);
    xtio_hist_fini(&h);

    /* A lone value reads as itself, however wide its bucket (2^59 here). */
    xtio_hist_init(&h, 4);
    assert_int_equal(xtio_hist_record(&h, UINT64_MAX), 0);
    assert_int_equal(xtio_hist_percentile(&h, 500), UINT64_MAX);
    xtio_hist_fini(&h);
}

/* Rank ceil(permille * count / 1000), at least 1; exact values (10 bits: below 2048) show it. */
static void a_percentile_is_the_nearest_rank(void **state)
{
    (void)state;
    struct xtio_hist h;
    xtio_hist_init(&h, 10);
    for (uint64_t i = 0; i < 1000; i++)
        assert_int_equal(xtio_hist_record(&h, (i * 7919) % 1000 + 1), 0); /* 1..1000, scrambled */
    for (unsigned p = 1; p <= 1000; p++)
        assert_int_equal(xtio_hist_percentile(&h, p), p);
    assert_int_equal(xtio_hist_percentile(&h, 0), 1);
    xtio_hist_fini(&h);

    xtio_hist_init(&h, 10);
    for (uint64_t v = 1; v <= 7; v++)
        assert_int_equal(xtio_hist_record(&h, v), 0);
    assert_int_equal(xtio_hist_percentile(&h, 142), 1); /* 0.994 */
    assert_int_equal(xtio_hist_percentile(&h, 143), 2); /* 1.001 */
    assert_int_equal(xtio_hist_percentile(&h, 500), 4); /* 3.5 */
    assert_int_equal(xtio_hist_percentile(&h, 999), 7); /* 6.993 */
    xtio_hist_fini(&h);
}

/* The rank alone, as xtio-compare reads its medians of a few numbers: the lower middle of an
 * even count. */
static void the_rank_is_shared_by_every_median(void **state)
{
    (void)state;
    assert_int_equal(xtio_hist_rank(0, 500), 0);
    assert_int_equal(xtio_hist_rank(1, 500), 1);
    assert_int_equal(xtio_hist_rank(2, 500), 1);
    assert_int_equal(xtio_hist_rank(3, 500), 2);
    assert_int_equal(xtio_hist_rank(4, 500), 2);
    assert_int_equal(xtio_hist_rank(5, 500), 3);
    assert_int_equal(xtio_hist_rank(5, 0), 1);
    assert_int_equal(xtio_hist_rank(5, 1000), 5);
    assert_int_equal(xtio_hist_rank(UINT64_MAX, 1000), UINT64_MAX);
}

/* Every reading is within 1/2^(bits+1) of the true value of its rank, on either side. */
static void readings_are_within_the_error_bound(void **state)
{
    (void)state;
    const unsigned bits[] = {4, 6};
    for (size_t b = 0; b < 2; b++) {
        struct xtio_hist h;
        xtio_hist_init(&h, bits[b]);
        const uint64_t n = 1000000;
        double sum = 0;
        for (uint64_t v = 1; v <= n; v++) {
            assert_int_equal(xtio_hist_record(&h, v * 1000), 0); /* 1 us .. 1 s in ns */
            sum += (double)(v * 1000);
        }
        double bound = 1.0 / (double)(UINT64_C(2) << bits[b]);
        const unsigned permille[] = {1, 500, 900, 990, 999, 1000};
        for (size_t i = 0; i < sizeof(permille) / sizeof(permille[0]); i++) {
            double exact = (double)permille[i] * (double)n; /* rank p*n/1000, value rank*1000 */
            double got = (double)xtio_hist_percentile(&h, permille[i]);
            if (fabs(got - exact) > exact * bound)
                fail_msg("%u bits, p%u: %.0f for %.0f", bits[b], permille[i], got, exact);
        }
        double mean = sum / (double)n;
        if (fabs(xtio_hist_mean(&h) - mean) > mean * bound)
            fail_msg("%u bits: mean %.1f for %.1f", bits[b], xtio_hist_mean(&h), mean);
        assert_int_equal(h.min, 1000);
        assert_int_equal(h.max, 1000000000);
        xtio_hist_fini(&h);
    }
}

/* Per-thread histograms merge into one that reads as if one had recorded everything. */
static void merged_histograms_read_as_one(void **state)
{
    (void)state;
    struct xtio_hist a, b, one;
    xtio_hist_init(&a, 6);
    xtio_hist_init(&b, 6);
    xtio_hist_init(&one, 6);
    /* b's values lie on both sides of a's, so that merging widens a downwards and upwards. */
    for (uint64_t v = 0; v < 3000; v += 3) {
        struct xtio_hist *to = v >= 1000 && v < 2000 ? &a : &b;
        assert_int_equal(xtio_hist_record(to, v * v), 0);
        assert_int_equal(xtio_hist_record(&one, v * v), 0);
    }
    assert_int_equal(xtio_hist_record(&b, UINT64_MAX), 0);
    assert_int_equal(xtio_hist_record(&one, UINT64_MAX), 0);
    assert_int_equal(xtio_hist_merge(&a, &b), 0);
    assert_int_equal(a.count, one.count);
    assert_int_equal(a.min, 0);
    assert_int_equal(a.max, UINT64_MAX);
    for (unsigned p = 0; p <= 1000; p++)
        assert_int_equal(xtio_hist_percentile(&a, p), xtio_hist_percentile(&one, p));
    assert_true(xtio_hist_mean(&a) == xtio_hist_mean(&one));

    /* Into an empty histogram, and from one. */
    struct xtio_hist empty;
    xtio_hist_init(&empty, 6);
    assert_int_equal(xtio_hist_merge(&a, &empty), 0);
    assert_int_equal(a.count, one.count);
    assert_int_equal(xtio_hist_merge(&empty, &one), 0);
    assert_int_equal(empty.count, one.count);
    assert_int_equal(empty.min, 0);
    assert_int_equal(xtio_hist_percentile(&empty, 500), xtio_hist_percentile(&one, 500));

    /* Other bits do not merge, and leave the histogram as it was. */
    struct xtio_hist coarse;
    xtio_hist_init(&coarse, 4);
    assert_int_equal(xtio_hist_record(&coarse, 5), 0);
    assert_int_equal(xtio_hist_merge(&a, &coarse), -EINVAL);
    assert_int_equal(a.count, one.count);
    assert_int_equal(xtio_hist_percentile(&a, 500), xtio_hist_percentile(&one, 500));

    xtio_hist_fini(&coarse);
    xtio_hist_fini(&empty);
    xtio_hist_fini(&one);
    xtio_hist_fini(&b);
    xtio_hist_fini(&a);
}

/* Out of memory, recording and merging fail with -ENOMEM and change nothing. */
static void a_histogram_that_cannot_grow_is_unchanged(void **state)
{
    (void)state;
    struct xtio_hist h, wide;
    xtio_hist_init(&h, 6);
    xtio_hist_init(&wide, 6);
    assert_int_equal(xtio_hist_record(&h, 1000), 0);
    assert_int_equal(xtio_hist_record(&wide, 1), 0);
    assert_int_equal(xtio_hist_record(&wide, 1000000), 0);

    refuse_calloc = true;
    assert_int_equal(xtio_hist_record(&h, 1001), 0); /* in the buckets already */
    assert_int_equal(xtio_hist_record(&h, 1000000), -ENOMEM);
    assert_int_equal(xtio_hist_merge(&h, &wide), -ENOMEM);
    refuse_calloc = false;
    assert_int_equal(h.count, 2);
    assert_int_equal(h.min, 1000);
    assert_int_equal(h.max, 1001);
    assert_int_equal(xtio_hist_percentile(&h, 1000), 1001);

    assert_int_equal(xtio_hist_merge(&h, &wide), 0);
    assert_int_equal(h.count, 4);
    assert_int_equal(h.min, 1);
    assert_int_equal(h.max, 1000000);
    xtio_hist_fini(&wide);
    xtio_hist_fini(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_histogram_reads_zero),
        cmocka_unit_test(small_values_are_exact),
        cmocka_unit_test(a_percentile_is_its_buckets_middle),
        cmocka_unit_test(the_middle_is_kept_within_min_and_max),
        cmocka_unit_test(a_percentile_is_the_nearest_rank),
        cmocka_unit_test(the_rank_is_shared_by_every_median),
        cmocka_unit_test(readings_are_within_the_error_bound),
        cmocka_unit_test(merged_histograms_read_as_one),
        cmocka_unit_test(a_histogram_that_cannot_grow_is_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
