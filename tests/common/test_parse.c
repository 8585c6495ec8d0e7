/*
 * The shared command-line number parsers (common/xtio_parse.h): whole decimal numbers, sizes
 * with a k, m or g suffix, and TCP ports, which never take a suffix.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "xtio_parse.h"

/* Neither digits only nor a number at all: refused by every parser. */
static const char *const not_numbers[] = {
    "", " 1", "1 ", "+1", "-1", " -1", "0x10", "1.5", "1e3", "one", "1kb", "k", "12ab",
};
#define NOT_NUMBERS (sizeof(not_numbers) / sizeof(not_numbers[0]))

static void whole_numbers_are_digits_in_range(void **state)
{
    (void)state;
    uint64_t v = 7;
    assert_true(xtio_parse_uint("0", 0, 10, &v));
    assert_int_equal(v, 0);
    assert_true(xtio_parse_uint("10", 0, 10, &v));
    assert_int_equal(v, 10);
    assert_true(xtio_parse_uint("007", 0, 10, &v)); /* decimal, not octal */
    assert_int_equal(v, 7);
    assert_true(xtio_parse_uint("18446744073709551615", 0, UINT64_MAX, &v));
    assert_int_equal(v, UINT64_MAX);

    v = 42;
    assert_false(xtio_parse_uint("11", 0, 10, &v));
    assert_false(xtio_parse_uint("0", 1, 10, &v));
    assert_false(xtio_parse_uint("18446744073709551616", 0, UINT64_MAX, &v)); /* 2^64 */
    assert_false(xtio_parse_uint("1k", 0, UINT64_MAX, &v));                   /* no suffix */
    for (size_t i = 0; i < NOT_NUMBERS; i++)
        if (xtio_parse_uint(not_numbers[i], 0, UINT64_MAX, &v))
            fail_msg("'%s' was taken as %llu", not_numbers[i], (unsigned long long)v);
    assert_int_equal(v, 42); /* a refusal leaves the value alone */
}

static void sizes_take_a_power_of_1024_suffix(void **state)
{
    (void)state;
    const struct {
        const char *text;
        uint64_t value;
    } good[] = {
        {"0", 0},
        {"4096", 4096},
        {"1k", 1024},
        {"1K", 1024},
        {"3m", 3 << 20},
        {"3M", 3 << 20},
        {"2g", UINT64_C(2) << 30},
        {"2G", UINT64_C(2) << 30},
        {"0k", 0},
        {"17179869183G", UINT64_C(17179869183) << 30}, /* the largest whole number of G */
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        uint64_t v = 1;
        if (!xtio_parse_size(good[i].text, 0, UINT64_MAX, &v) || v != good[i].value)
            fail_msg("'%s': %llu, expected %llu", good[i].text, (unsigned long long)v,
                     (unsigned long long)good[i].value);
    }

    uint64_t v = 42;
    const char *const bad[] = {"1t", "1kk", "1k1", "1 k", "k1", "17179869184G"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (xtio_parse_size(bad[i], 0, UINT64_MAX, &v))
            fail_msg("'%s' was taken as %llu", bad[i], (unsigned long long)v);
    for (size_t i = 0; i < NOT_NUMBERS; i++)
        if (xtio_parse_size(not_numbers[i], 0, UINT64_MAX, &v))
            fail_msg("'%s' was taken as %llu", not_numbers[i], (unsigned long long)v);
    /* The range applies after the suffix. */
    assert_false(xtio_parse_size("2k", 0, 2047, &v));
    assert_false(xtio_parse_size("1k", 1025, UINT64_MAX, &v));
    assert_true(xtio_parse_size("2k", 0, 2048, &v));
    assert_int_equal(v, 2048);
}

static void ports_take_no_suffix(void **state)
{
    (void)state;
    unsigned port = 9;
    assert_true(xtio_parse_port("6390", 1, &port));
    assert_int_equal(port, 6390);
    assert_true(xtio_parse_port("65535", 1, &port));
    assert_int_equal(port, 65535);
    assert_true(xtio_parse_port("1", 1, &port));
    assert_int_equal(port, 1);
    /* 0 only where the tool lets the kernel choose. */
    assert_true(xtio_parse_port("0", 0, &port));
    assert_int_equal(port, 0);

    port = 9;
    assert_false(xtio_parse_port("0", 1, &port));
    assert_false(xtio_parse_port("65536", 0, &port));
    assert_false(xtio_parse_port("1k", 0, &port)); /* 1024 as a size */
    assert_false(xtio_parse_port("1K", 0, &port));
    assert_false(xtio_parse_port("4294967297", 0, &port)); /* 2^32 + 1, 1 once truncated */
    for (size_t i = 0; i < NOT_NUMBERS; i++)
        if (xtio_parse_port(not_numbers[i], 0, &port))
            fail_msg("'%s' was taken as port %u", not_numbers[i], port);
    assert_int_equal(port, 9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(whole_numbers_are_digits_in_range),
        cmocka_unit_test(sizes_take_a_power_of_1024_suffix),
        cmocka_unit_test(ports_take_no_suffix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
