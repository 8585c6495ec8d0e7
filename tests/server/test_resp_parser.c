/* Unit tests of the RESP2 request parser (server/src/resp_parser.h), one contract per test. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resp_parser.h"

static xtio_resp_parser *make_parser(const struct xtio_resp_limits *limits)
{
    xtio_resp_parser *p = NULL;

    assert_int_equal(xtio_resp_parser_create(&p, limits), XTIO_RESP_OK);
    assert_non_null(p);
    return p;
}

static void feed(xtio_resp_parser *p, const void *data, size_t len)
{
    assert_int_equal(xtio_resp_parser_feed(p, data, len), XTIO_RESP_OK);
}

static void feed_str(xtio_resp_parser *p, const char *s)
{
    feed(p, s, strlen(s));
}

/* Takes one request and checks it has exactly the given NUL-free arguments (NULL-terminated). */
static void expect_request(xtio_resp_parser *p, ...)
{
    struct xtio_resp_request req;
    va_list ap;
    size_t i = 0;
    const char *want;

    assert_int_equal(xtio_resp_parser_next(p, &req), XTIO_RESP_OK);
    va_start(ap, p);
    while ((want = va_arg(ap, const char *)) != NULL) {
        assert_true(i < req.argc);
        assert_int_equal(req.argv_len[i], strlen(want));
        assert_memory_equal(req.argv[i], want, strlen(want));
        i++;
    }
    va_end(ap);
    assert_int_equal(req.argc, i);
}

static void expect_need_more(xtio_resp_parser *p)
{
    struct xtio_resp_request req;

    assert_int_equal(xtio_resp_parser_next(p, &req), XTIO_RESP_NEED_MORE);
}

static void expect_error(xtio_resp_parser *p, const char *msg)
{
    struct xtio_resp_request req;

    assert_int_equal(xtio_resp_parser_next(p, &req), XTIO_RESP_PROTO_ERROR);
    assert_non_null(xtio_resp_parser_error(p));
    assert_string_equal(xtio_resp_parser_error(p), msg);
}

/* Feeds `input` to a fresh parser with default limits and expects `msg`. */
static void expect_input_error(const char *input, size_t len, const char *msg)
{
    xtio_resp_parser *p = make_parser(NULL);

    feed(p, input, len);
    expect_error(p, msg);
    xtio_resp_parser_destroy(p);
}

/* A readable record of what a parser returned, to compare runs fed differently. */
struct transcript {
    char data[16384];
    size_t len;
};

static void transcript_add(struct transcript *t, const void *data, size_t len)
{
    assert_true(t->len + len <= sizeof(t->data));
    memcpy(t->data + t->len, data, len);
    t->len += len;
}

static void transcript_addf(struct transcript *t, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof(line));
    transcript_add(t, line, (size_t)n);
}

/* Drains the parser into `t`; false once it has failed. */
static bool drain(xtio_resp_parser *p, struct transcript *t)
{
    struct xtio_resp_request req;

    for (;;) {
        enum xtio_resp_status st = xtio_resp_parser_next(p, &req);

        if (st == XTIO_RESP_NEED_MORE)
            return true;
        if (st == XTIO_RESP_PROTO_ERROR) {
            transcript_addf(t, "error %s\n", xtio_resp_parser_error(p));
            return false;
        }
        assert_int_equal(st, XTIO_RESP_OK);
        transcript_addf(t, "request %zu:", req.argc);
        for (size_t i = 0; i < req.argc; i++) {
            transcript_addf(t, " %zu=", req.argv_len[i]);
            transcript_add(t, req.argv[i], req.argv_len[i]);
        }
        transcript_add(t, "\n", 1);
    }
}

/* Feeds `input` cut at the given points (ascending, within the input) and drains after each. */
static void run_split(const char *input, size_t len, const size_t *cuts, size_t ncuts,
                      struct transcript *t)
{
    xtio_resp_parser *p = make_parser(NULL);
    size_t from = 0;

    t->len = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : len;

        if (xtio_resp_parser_feed(p, input + from, to - from) == XTIO_RESP_PROTO_ERROR)
            break;
        if (!drain(p, t))
            break;
        from = to;
    }
    xtio_resp_parser_destroy(p);
}

static void assert_same_transcript(const struct transcript *a, const struct transcript *b)
{
    assert_int_equal(a->len, b->len);
    assert_memory_equal(a->data, b->data, a->len);
}

/* A pipeline of every request form, ending in a half-sent request. */
static const char pipeline[] = "PING\r\n"
                               "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nv\r\n\0x\r\n"
                               "\r\n"
                               "*0\r\n"
                               "SET \"a b\" 'c d' \"\\x41\\n\"\n"
                               "*-1\r\n"
                               "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n"
                               "   \r\n"
                               "*1\r\n$4\r\nPI";

static void test_limits_init_gives_redis_defaults(void **state)
{
    struct xtio_resp_limits l;

    (void)state;
    memset(&l, 0xff, sizeof(l));
    xtio_resp_limits_init(&l);
    assert_int_equal(l.max_bulk_len, (size_t)512 * 1024 * 1024);
    assert_int_equal(l.max_multibulk_len, (size_t)1024 * 1024);
    assert_int_equal(l.max_inline_len, (size_t)64 * 1024);
    assert_int_equal(l.max_query_buffer, (size_t)1024 * 1024 * 1024);
}

static void test_empty_parser_needs_more(void **state)
{
    xtio_resp_parser *p = make_parser(NULL);

    (void)state;
    expect_need_more(p);
    assert_null(xtio_resp_parser_error(p));
    xtio_resp_parser_destroy(p);
}

static void test_inline_command(void **state)
{
    xtio_resp_parser *p = make_parser(NULL);

    (void)state;
    feed_str(p, "PING\r\n");
    expect_request(p, "PING", NULL);
    expect_need_more(p);
    xtio_resp_parser_destroy(p);
}

static void test_inline_lf_terminator(void **state)
{
    xtio_resp_parser *p = make_parser(NULL);

    (void)state;
    feed_str(p, "GET k\n");
    expect_request(p, "GET", "k", NULL);
    expect_need_more(p);
    xtio_resp_parser_destroy(p);
}

static void test_inline_blanks_separate_arguments(void **state)
{
    xtio_resp_parser *p = make_parser(NULL);

    (void)state;
    feed_str(p, "  SET\tk \t  v\r \r\n");
    expect_request(p, "SET", "k", "v", NULL);
    xtio_resp_parser_destroy(p);
}

static void test_inline_double_quotes_and_escapes(void **state)
{
    xtio_resp_parser *p = make_parser(NULL);

    (void)state;
    feed_str(p, "SET \"a b\" \"\\x41\\x7a\\x4A\\n\\r\\t\\b\\a\\\"\\\\\\q\" \"\" x\"y z\"\r\n");
    expect_request(p, "SET", "a b", "AzJ\n\r\t\b\a\"\\q", "", "xy z", NULL);
    xtio_resp_parser_destroy(p);
}

static void test_inline_hex_escape_needs_two_digits(void **state)
{
    xtio_resp_parser *p = make_parser(NULL);

    (void)state;
    feed_str(p, "\"\\x4\" \"\\xZZ\"\r\n");
    expect_request(p, "x4", "xZZ", NULL);
    xtio_resp_parser_destroy(p);
}

static void test_inline_single_quotes(void **state)
{
    xtio_resp_parser *p = make_parser(NULL);

    (void)state;
    feed_str(p, "SET 'it\\'s' 'a \"b\" \\n'\r\n");
    expect_request(p, "SET", "it's", "a \"b\" \\n", NULL);
    xtio_resp_parser_destroy(p);
}

static void test_inline_unbalanced_quotes_is_error(void **state)
{
    static const char *const cases[] = {
        "SET \"abc\r\n", "SET 'abc\r\n", "SET \"a\"b\r\n", "SET 'a'b\r\n", "SET \"abc\\\"\r\n",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_input_error(cases[i], strlen(cases[i]),
                           "Protocol error: unbalanced quotes in request");
}

static void test_inline_empty_lines_skipped(void **state)
{
    xtio_resp_parser *p = make_parser(NULL);

    (void)state;
    feed_str(p, "\r\n\n   \r\n\t\nPING\r\n\r\n");
    expect_request(p, "PING", NULL);
    expect_need_more(p);
    xtio_resp_parser_destroy(p);
}

static void test_inline_nul_ends_line(void **state)
{
    xtio_resp_parser *p = make_parser(NULL);

    (void)state;
    feed(p, "GET a\0b c\r\nPING\r\n", 17);
    expect_request(p, "GET", "a", NULL);
    expect_request(p, "PING", NULL);
    xtio_resp_parser_destroy(p);
}

static void test_inline_too_big(void **state)
{
    size_t len = XTIO_RESP_DEFAULT_MAX_INLINE_LEN + 1;
    char *line = malloc(len);

    (void)state;
    assert_non_null(line);
    memset(line, 'a', len);
    /* No newline yet: the error comes as soon as the line is known to be too long. */
    expect_input_error(line, len, "Protocol error: too big inline request");
    free(line);
}

static void test_multibulk_command(void **state)
{
    xtio_resp_parser *p = make_parser(NULL);

    (void)state;
    feed_str(p, "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nhello\r\n");
    expect_request(p, "SET", "key", "hello", NULL);
    expect_need_more(p);
    xtio_resp_parser_destroy(p);
}

static void test_multibulk_binary_safe(void **state)
{
    static const char input[] = "*2\r\n$3\r\nSET\r\n$7\r\na\r\nb\0c\n\r\n";
    xtio_resp_parser *p = make_parser(NULL);
    struct xtio_resp_request req;

    (void)state;
    feed(p, input, sizeof(input) - 1);
    assert_int_equal(xtio_resp_parser_next(p, &req), XTIO_RESP_OK);
    assert_int_equal(req.argc, 2);
    assert_int_equal(req.argv_len[1], 7);
    assert_memory_equal(req.argv[1], "a\r\nb\0c\n", 7);
    expect_need_more(p);
    xtio_resp_parser_destroy(p);
}

static void test_multibulk_empty_argument(void **state)
{
    xtio_resp_parser *p = make_parser(NULL);

    (void)state;
    feed_str(p, "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n");
    expect_request(p, "ECHO", "", NULL);
    xtio_resp_parser_destroy(p);
}

static void test_multibulk_zero_and_negative_counts_skipped(void **state)
{
    xtio_resp_parser *p = make_parser(NULL);

    (void)state;
    feed_str(p, "*0\r\n*-1\r\n*-7\r\n*1\r\n$4\r\nPING\r\n*0\r\n");
    expect_request(p, "PING", NULL);
    expect_need_more(p);
    assert_null(xtio_resp_parser_error(p));
    xtio_resp_parser_destroy(p);
}

static void test_bulk_terminator_not_checked(void **state)
{
    xtio_resp_parser *p = make_parser(NULL);

    (void)state;
    /* As in Redis: two bytes follow the data and the byte after a count's '\r' is skipped. */
    feed_str(p, "*1\rX$4\r\nPINGxy");
    expect_request(p, "PING", NULL);
    xtio_resp_parser_destroy(p);
}

static void test_arguments_are_nul_terminated(void **state)
{
    xtio_resp_parser *p = make_parser(NULL);
    struct xtio_resp_request req;

    (void)state;
    feed_str(p, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\nSET \"a\" b'c'\r\n");
    assert_int_equal(xtio_resp_parser_next(p, &req), XTIO_RESP_OK);
    for (size_t i = 0; i < req.argc; i++)
        assert_int_equal(req.argv[i][req.argv_len[i]], '\0');
    assert_string_equal(req.argv[0], "GET");
    assert_int_equal(xtio_resp_parser_next(p, &req), XTIO_RESP_OK);
    assert_int_equal(req.argc, 3);
    for (size_t i = 0; i < req.argc; i++)
        assert_int_equal(req.argv[i][req.argv_len[i]], '\0');
    assert_string_equal(req.argv[2], "bc");
    xtio_resp_parser_destroy(p);
}

static void test_pipelined_requests_in_one_feed(void **state)
{
    xtio_resp_parser *p = make_parser(NULL);
    struct xtio_resp_request req;

    (void)state;
    feed(p, pipeline, sizeof(pipeline) - 1);
    expect_request(p, "PING", NULL);
    assert_int_equal(xtio_resp_parser_next(p, &req), XTIO_RESP_OK);
    assert_int_equal(req.argc, 3);
    assert_memory_equal(req.argv[2], "v\r\n\0x", 5);
    expect_request(p, "SET", "a b", "c d", "A\n", NULL);
    expect_request(p, "ECHO", "", NULL);
    expect_need_more(p);
    feed_str(p, "NG\r\n");
    expect_request(p, "PING", NULL);
    expect_need_more(p);
    xtio_resp_parser_destroy(p);
}

static void test_every_split_point_gives_same_result(void **state)
{
    static const char with_error[] =
        "*1\r\n$4\r\nPING\r\nGET k\r\n*2\r\n$3\r\nGET\r\n!3\r\nkey\r\n";
    const char *inputs[] = {pipeline, with_error};
    size_t lens[] = {sizeof(pipeline) - 1, sizeof(with_error) - 1};
    struct transcript whole, split;

    (void)state;
    for (size_t k = 0; k < 2; k++) {
        run_split(inputs[k], lens[k], NULL, 0, &whole);
        for (size_t i = 0; i <= lens[k]; i++) {
            run_split(inputs[k], lens[k], &i, 1, &split);
            assert_same_transcript(&whole, &split);
            for (size_t j = i; j <= lens[k]; j++) {
                size_t cuts[2] = {i, j};

                run_split(inputs[k], lens[k], cuts, 2, &split);
                assert_same_transcript(&whole, &split);
            }
        }
    }
}

static void test_byte_by_byte_gives_same_result(void **state)
{
    size_t len = sizeof(pipeline) - 1;
    size_t cuts[sizeof(pipeline)];
    struct transcript whole, split;

    (void)state;
    for (size_t i = 0; i < len; i++)
        cuts[i] = i + 1;
    run_split(pipeline, len, NULL, 0, &whole);
    run_split(pipeline, len, cuts, len, &split);
    assert_same_transcript(&whole, &split);
}

static void test_every_prefix_needs_more(void **state)
{
    static const char input[] = "*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n";

    (void)state;
    for (size_t i = 0; i < sizeof(input) - 1; i++) {
        xtio_resp_parser *p = make_parser(NULL);

        feed(p, input, i);
        expect_need_more(p);
        feed(p, input + i, sizeof(input) - 1 - i);
        expect_request(p, "GET", "key", NULL);
        xtio_resp_parser_destroy(p);
    }
}

static void test_many_requests_in_odd_chunks(void **state)
{
    static const char req[] = "*3\r\n$3\r\nSET\r\n$6\r\nkey:01\r\n$10\r\n0123456789\r\n";
    const size_t count = 10000;
    size_t total = (sizeof(req) - 1) * count;
    char *input = malloc(total);
    xtio_resp_parser *p = make_parser(NULL);
    size_t seen = 0;

    (void)state;
    assert_non_null(input);
    for (size_t i = 0; i < count; i++)
        memcpy(input + i * (sizeof(req) - 1), req, sizeof(req) - 1);
    /* Chunks of 1..97 bytes, drained in between, move the buffer under half-parsed requests. */
    for (size_t off = 0, step = 1; off < total; off += step, step = step % 97 + 1) {
        struct xtio_resp_request r;

        feed(p, input + off, off + step <= total ? step : total - off);
        while (xtio_resp_parser_next(p, &r) == XTIO_RESP_OK) {
            assert_int_equal(r.argc, 3);
            assert_memory_equal(r.argv[2], "0123456789", 10);
            seen++;
        }
    }
    assert_int_equal(seen, count);
    expect_need_more(p);
    xtio_resp_parser_destroy(p);
    free(input);
}

static void test_large_bulk_across_many_feeds(void **state)
{
    const size_t len = (size_t)3 * 1024 * 1024 + 7;
    char head[64];
    char *value = malloc(len);
    xtio_resp_parser *p = make_parser(NULL);
    struct xtio_resp_request req;

    (void)state;
    assert_non_null(value);
    for (size_t i = 0; i < len; i++)
        value[i] = (char)(i * 31 + 7);
    snprintf(head, sizeof(head), "*2\r\n$3\r\nSET\r\n$%zu\r\n", len);
    feed_str(p, head);
    for (size_t off = 0; off < len; off += 4096) {
        feed(p, value + off, len - off < 4096 ? len - off : 4096);
        if (off + 4096 < len)
            expect_need_more(p);
    }
    feed_str(p, "\r\nPING\r\n");
    assert_int_equal(xtio_resp_parser_next(p, &req), XTIO_RESP_OK);
    assert_int_equal(req.argv_len[1], len);
    assert_memory_equal(req.argv[1], value, len);
    expect_request(p, "PING", NULL);
    expect_need_more(p);
    /* Drained, the parser lets go of the big buffer and still works. */
    feed_str(p, "PING\r\n");
    expect_request(p, "PING", NULL);
    xtio_resp_parser_destroy(p);
    free(value);
}

static void test_many_arguments(void **state)
{
    const size_t n = 3000;
    xtio_resp_parser *p = make_parser(NULL);
    struct xtio_resp_request req;
    char arg[32];

    (void)state;
    for (size_t i = 0; i < n; i++)
        feed_str(p, " x");
    feed_str(p, "\r\n");
    snprintf(arg, sizeof(arg), "*%zu\r\n", n);
    feed_str(p, arg);
    for (size_t i = 0; i < n; i++) {
        int digits = snprintf(arg, sizeof(arg), "%zu", i);

        snprintf(arg, sizeof(arg), "$%d\r\n%zu\r\n", digits, i);
        feed_str(p, arg);
    }
    assert_int_equal(xtio_resp_parser_next(p, &req), XTIO_RESP_OK);
    assert_int_equal(req.argc, n);
    assert_string_equal(req.argv[n - 1], "x");
    assert_int_equal(xtio_resp_parser_next(p, &req), XTIO_RESP_OK);
    assert_int_equal(req.argc, n);
    for (size_t i = 0; i < n; i++) {
        snprintf(arg, sizeof(arg), "%zu", i);
        assert_string_equal(req.argv[i], arg);
    }
    expect_need_more(p);
    /* The big argument arrays are given back once drained; small requests still work. */
    feed_str(p, "*1\r\n$4\r\nPING\r\nGET k\r\n");
    expect_request(p, "PING", NULL);
    expect_request(p, "GET", "k", NULL);
    xtio_resp_parser_destroy(p);
}

static void test_error_invalid_multibulk_length(void **state)
{
    static const char *const cases[] = {
        "*abc\r\n", "*\r\n", "*+1\r\n", "*01\r\n", "*1 \r\n", "*-0\r\n", "*1048577\r\n",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_input_error(cases[i], strlen(cases[i]), "Protocol error: invalid multibulk length");
}

static void test_error_invalid_bulk_length(void **state)
{
    static const char *const cases[] = {
        "*1\r\n$-1\r\n", "*1\r\n$abc\r\n", "*1\r\n$\r\n",
        "*1\r\n$01\r\n", "*1\r\n$+4\r\n",  "*1\r\n$536870913\r\n",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_input_error(cases[i], strlen(cases[i]), "Protocol error: invalid bulk length");
}

static void test_error_huge_lengths(void **state)
{
    static const char *const multibulk[] = {"*9223372036854775808\r\n",
                                            "*99999999999999999999999\r\n"};
    static const char *const bulk[] = {"*1\r\n$9223372036854775807\r\n",
                                       "*1\r\n$18446744073709551617\r\n",
                                       "*1\r\n$-9223372036854775808\r\n"};

    (void)state;
    for (size_t i = 0; i < sizeof(multibulk) / sizeof(multibulk[0]); i++)
        expect_input_error(multibulk[i], strlen(multibulk[i]),
                           "Protocol error: invalid multibulk length");
    for (size_t i = 0; i < sizeof(bulk) / sizeof(bulk[0]); i++)
        expect_input_error(bulk[i], strlen(bulk[i]), "Protocol error: invalid bulk length");
}

static void test_error_expected_dollar(void **state)
{
    (void)state;
    expect_input_error("*1\r\n:4\r\n", 8, "Protocol error: expected '$', got ':'");
    expect_input_error("*2\r\n$3\r\nGET\r\nkey\r\n", 18, "Protocol error: expected '$', got 'k'");
    /* The reply must stay one line, so CR and LF read as spaces, as Redis words it. */
    expect_input_error("*1\r\n\r\n", 6, "Protocol error: expected '$', got ' '");
}

static void test_error_too_big_mbulk_count_string(void **state)
{
    size_t len = XTIO_RESP_DEFAULT_MAX_INLINE_LEN + 2;
    char *input = malloc(len);

    (void)state;
    assert_non_null(input);
    input[0] = '*';
    memset(input + 1, '1', len - 1);
    expect_input_error(input, len, "Protocol error: too big mbulk count string");
    free(input);
}

static void test_error_too_big_bulk_count_string(void **state)
{
    size_t len = XTIO_RESP_DEFAULT_MAX_INLINE_LEN + 6;
    char *input = malloc(len);

    (void)state;
    assert_non_null(input);
    memcpy(input, "*1\r\n$", 5);
    memset(input + 5, '1', len - 5);
    expect_input_error(input, len, "Protocol error: too big bulk count string");
    free(input);
}

static void test_error_is_sticky(void **state)
{
    xtio_resp_parser *p = make_parser(NULL);
    struct xtio_resp_request req;

    (void)state;
    feed_str(p, "*x\r\n");
    expect_error(p, "Protocol error: invalid multibulk length");
    expect_error(p, "Protocol error: invalid multibulk length");
    assert_int_equal(xtio_resp_parser_feed(p, "PING\r\n", 6), XTIO_RESP_PROTO_ERROR);
    assert_int_equal(xtio_resp_parser_next(p, &req), XTIO_RESP_PROTO_ERROR);
    assert_string_equal(xtio_resp_parser_error(p), "Protocol error: invalid multibulk length");
    xtio_resp_parser_destroy(p);
}

static void test_requests_before_error_are_returned(void **state)
{
    xtio_resp_parser *p = make_parser(NULL);

    (void)state;
    feed_str(p, "PING\r\n*1\r\n$4\r\nPING\r\n*1\r\n$-4\r\n");
    expect_request(p, "PING", NULL);
    expect_request(p, "PING", NULL);
    expect_error(p, "Protocol error: invalid bulk length");
    xtio_resp_parser_destroy(p);
}

static void test_limit_max_bulk_len_overridden(void **state)
{
    struct xtio_resp_limits l;
    xtio_resp_parser *p;

    (void)state;
    xtio_resp_limits_init(&l);
    l.max_bulk_len = 4;
    p = make_parser(&l);
    feed_str(p, "*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n");
    expect_error(p, "Protocol error: invalid bulk length");
    xtio_resp_parser_destroy(p);
}

static void test_limit_max_multibulk_len_overridden(void **state)
{
    struct xtio_resp_limits l;
    xtio_resp_parser *p;

    (void)state;
    xtio_resp_limits_init(&l);
    l.max_multibulk_len = 2;
    p = make_parser(&l);
    feed_str(p, "*2\r\n$4\r\nECHO\r\n$1\r\nx\r\n*3\r\n");
    expect_request(p, "ECHO", "x", NULL);
    expect_error(p, "Protocol error: invalid multibulk length");
    xtio_resp_parser_destroy(p);
}

static void test_limit_max_inline_len_overridden(void **state)
{
    struct xtio_resp_limits l;
    xtio_resp_parser *p;

    (void)state;
    xtio_resp_limits_init(&l);
    l.max_inline_len = 8;
    p = make_parser(&l);
    /* The limit counts the bytes before the '\n', the '\r' included. */
    feed_str(p, "ECHO 12\r\nECHO 123\r\n");
    expect_request(p, "ECHO", "12", NULL);
    expect_error(p, "Protocol error: too big inline request");
    xtio_resp_parser_destroy(p);
}

static void test_limit_max_inline_len_bounds_count_lines(void **state)
{
    struct xtio_resp_limits l;
    xtio_resp_parser *p;

    (void)state;
    xtio_resp_limits_init(&l);
    l.max_inline_len = 3;
    p = make_parser(&l);
    feed_str(p, "*1\r\n$4\r\nPING\r\n*1\r\n$1000\r\n");
    expect_request(p, "PING", NULL);
    expect_error(p, "Protocol error: too big bulk count string");
    xtio_resp_parser_destroy(p);
}

static void test_limit_max_query_buffer_overridden(void **state)
{
    struct xtio_resp_limits l;
    xtio_resp_parser *p;

    (void)state;
    xtio_resp_limits_init(&l);
    l.max_query_buffer = 16;
    p = make_parser(&l);
    feed_str(p, "*1\r\n$4\r\nPING\r\n"); /* 14 bytes */
    expect_request(p, "PING", NULL);
    /* Consumed bytes do not count ... */
    feed_str(p, "*2\r\n$3\r\nGET\r\n$");
    /* ... unconsumed ones do: 14 + 3 > 16. */
    assert_int_equal(xtio_resp_parser_feed(p, "1\r\n", 3), XTIO_RESP_PROTO_ERROR);
    expect_error(p, "Protocol error: query buffer limit exceeded");
    xtio_resp_parser_destroy(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limits_init_gives_redis_defaults),
        cmocka_unit_test(test_empty_parser_needs_more),
        cmocka_unit_test(test_inline_command),
        cmocka_unit_test(test_inline_lf_terminator),
        cmocka_unit_test(test_inline_blanks_separate_arguments),
        cmocka_unit_test(test_inline_double_quotes_and_escapes),
        cmocka_unit_test(test_inline_hex_escape_needs_two_digits),
        cmocka_unit_test(test_inline_single_quotes),
        cmocka_unit_test(test_inline_unbalanced_quotes_is_error),
        cmocka_unit_test(test_inline_empty_lines_skipped),
        cmocka_unit_test(test_inline_nul_ends_line),
        cmocka_unit_test(test_inline_too_big),
        cmocka_unit_test(test_multibulk_command),
        cmocka_unit_test(test_multibulk_binary_safe),
        cmocka_unit_test(test_multibulk_empty_argument),
        cmocka_unit_test(test_multibulk_zero_and_negative_counts_skipped),
        cmocka_unit_test(test_bulk_terminator_not_checked),
        cmocka_unit_test(test_arguments_are_nul_terminated),
        cmocka_unit_test(test_pipelined_requests_in_one_feed),
        cmocka_unit_test(test_every_split_point_gives_same_result),
        cmocka_unit_test(test_byte_by_byte_gives_same_result),
        cmocka_unit_test(test_every_prefix_needs_more),
        cmocka_unit_test(test_many_requests_in_odd_chunks),
        cmocka_unit_test(test_large_bulk_across_many_feeds),
        cmocka_unit_test(test_many_arguments),
        cmocka_unit_test(test_error_invalid_multibulk_length),
        cmocka_unit_test(test_error_invalid_bulk_length),
        cmocka_unit_test(test_error_huge_lengths),
        cmocka_unit_test(test_error_expected_dollar),
        cmocka_unit_test(test_error_too_big_mbulk_count_string),
        cmocka_unit_test(test_error_too_big_bulk_count_string),
        cmocka_unit_test(test_error_is_sticky),
        cmocka_unit_test(test_requests_before_error_are_returned),
        cmocka_unit_test(test_limit_max_bulk_len_overridden),
        cmocka_unit_test(test_limit_max_multibulk_len_overridden),
        cmocka_unit_test(test_limit_max_inline_len_overridden),
        cmocka_unit_test(test_limit_max_inline_len_bounds_count_lines),
        cmocka_unit_test(test_limit_max_query_buffer_overridden),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
