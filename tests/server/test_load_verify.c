/*
 * Contracts of xtio-load's offline parts (server/load): the byte order of populated keys, the
 * populated values, the RANGE/KEYS/GET/status reply checks on hiredis replies, the streaming
 * RANGE checker and the command line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "verify.h"
#include "xtio_load.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Helpers --------------------------------------------------------------------------------- */

/* A growing RESP text. */
struct resp {
    char *p; /* owned */
    size_t len, cap;
};

static void resp_add(struct resp *r, const void *data, size_t len)
{
    if (r->len + len + 1 > r->cap) {
        r->cap = (r->len + len + 1) * 2;
        r->p = realloc(r->p, r->cap);
        assert_non_null(r->p);
    }
    memcpy(r->p + r->len, data, len);
    r->len += len;
    r->p[r->len] = '\0';
}

static void resp_fmt(struct resp *r, const char *format, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, format);
    int n = vsnprintf(buf, sizeof(buf), format, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof(buf));
    resp_add(r, buf, (size_t)n);
}

static void resp_bulk(struct resp *r, const void *data, size_t len)
{
    resp_fmt(r, "$%zu\r\n", len);
    resp_add(r, data, len);
    resp_add(r, "\r\n", 2);
}

/* The populated value of n as the server builds it. */
static size_t value_of(const struct xtio_load_keyset *ks, uint64_t n, char *out, size_t cap)
{
    char natural[32];
    int len = snprintf(natural, sizeof(natural), "value:%llu", (unsigned long long)n);
    return xtio_load_padded(natural, (size_t)len, ks->value_size, out, cap);
}

/* The RANGE reply for order[first .. first+pairs), as a correct server sends it. */
static struct resp range_reply(const struct xtio_load_keyset *ks, size_t first, size_t pairs)
{
    struct resp r = {0};
    resp_fmt(&r, "*%zu\r\n", 2 * pairs);
    for (size_t i = 0; i < pairs; i++) {
        char key[XTIO_LOAD_KEY_MAX], value[4096];
        size_t klen = xtio_load_key(ks, ks->order[first + i], key);
        resp_bulk(&r, key, klen);
        size_t vlen = value_of(ks, ks->order[first + i], value, sizeof(value));
        resp_bulk(&r, value, vlen);
    }
    return r;
}

static redisReply *parse(const char *data, size_t len)
{
    redisReader *reader = redisReaderCreate();
    assert_non_null(reader);
    assert_int_equal(redisReaderFeed(reader, data, len), REDIS_OK);
    void *reply = NULL;
    assert_int_equal(redisReaderGetReply(reader, &reply), REDIS_OK);
    assert_non_null(reply);
    redisReaderFree(reader);
    return reply;
}

static int cmp_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void assert_contains(const char *text, const char *part)
{
    if (!strstr(text, part))
        fail_msg("\"%s\" does not contain \"%s\"", text, part);
}

/* ---- Key order and values -------------------------------------------------------------------- */

static void test_lex_order_matches_sorted_strings(void **state)
{
    (void)state;
    const size_t counts[] = {1,   2,   9,   10,   11,   19,   20,    99,    100,
                             101, 110, 999, 1000, 1001, 1234, 20000, 100000};
    for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
        size_t count = counts[c];
        uint32_t *order = malloc(count * sizeof(*order));
        char **strings = malloc(count * sizeof(*strings));
        assert_non_null(order);
        assert_non_null(strings);
        for (size_t i = 0; i < count; i++) {
            strings[i] = malloc(24);
            snprintf(strings[i], 24, "%zu", i);
        }
        qsort(strings, count, sizeof(*strings), cmp_strings);
        xtio_load_lex_order(order, count);
        for (size_t i = 0; i < count; i++) {
            char digits[24];
            snprintf(digits, sizeof(digits), "%u", order[i]);
            if (strcmp(digits, strings[i]) != 0)
                fail_msg("count %zu, position %zu: %s instead of %s", count, i, digits, strings[i]);
        }
        for (size_t i = 0; i < count; i++)
            free(strings[i]);
        free(strings);
        free(order);
    }
}

static void test_keys_sort_as_the_server_sorts(void **state)
{
    (void)state;
    struct xtio_load_keyset ks;
    assert_int_equal(xtio_load_keyset_init(&ks, "key", 1000, 0), 0);
    char prev[XTIO_LOAD_KEY_MAX], cur[XTIO_LOAD_KEY_MAX];
    size_t plen = xtio_load_key(&ks, ks.order[0], prev);
    assert_string_equal(prev, "key:0");
    for (size_t i = 1; i < ks.count; i++) {
        size_t clen = xtio_load_key(&ks, ks.order[i], cur);
        size_t n = plen < clen ? plen : clen;
        int c = memcmp(prev, cur, n);
        assert_true(c < 0 || (c == 0 && plen < clen));
        memcpy(prev, cur, clen + 1);
        plen = clen;
    }
    /* "key:10" < "key:2": the note of the RANGE contract. */
    assert_int_equal(ks.order[1], 1);
    assert_int_equal(ks.order[2], 10);
    xtio_load_keyset_fini(&ks);
}

static void test_keyset_rejects_long_prefix(void **state)
{
    (void)state;
    char prefix[XTIO_LOAD_MAX_PREFIX + 2];
    memset(prefix, 'p', sizeof(prefix) - 1);
    prefix[sizeof(prefix) - 1] = '\0';
    struct xtio_load_keyset ks;
    assert_int_not_equal(xtio_load_keyset_init(&ks, prefix, 10, 0), 0);
    assert_int_equal(xtio_load_keyset_init(&ks, "", 10, 0), 0);
    char key[XTIO_LOAD_KEY_MAX];
    assert_int_equal(xtio_load_key(&ks, 7, key), 2);
    assert_string_equal(key, ":7");
    xtio_load_keyset_fini(&ks);
}

static void test_values_natural_truncated_padded(void **state)
{
    (void)state;
    struct xtio_load_keyset ks;
    assert_int_equal(xtio_load_keyset_init(&ks, "key", 10, 0), 0);
    assert_true(xtio_load_value_equals(&ks, 42, "value:42", 8));
    assert_false(xtio_load_value_equals(&ks, 42, "value:43", 8));
    assert_false(xtio_load_value_equals(&ks, 42, "value:42\0", 9));
    ks.value_size = 3;
    assert_true(xtio_load_value_equals(&ks, 42, "val", 3));
    assert_false(xtio_load_value_equals(&ks, 42, "value:42", 8));
    ks.value_size = 12;
    assert_true(xtio_load_value_equals(&ks, 42, "value:42\0\0\0\0", 12));
    assert_false(xtio_load_value_equals(&ks, 42, "value:42\0\0\0x", 12));
    assert_false(xtio_load_value_equals(&ks, 42, "value:42\0\0\0", 11));
    char out[16];
    assert_int_equal(xtio_load_padded("abc", 3, 5, out, sizeof(out)), 5);
    assert_memory_equal(out, "abc\0\0", 5);
    assert_int_equal(xtio_load_padded("abcdef", 6, 0, out, sizeof(out)), 6);
    xtio_load_keyset_fini(&ks);
}

static void test_digit_block_is_what_keys_matches(void **state)
{
    (void)state;
    struct xtio_load_keyset ks;
    assert_int_equal(xtio_load_keyset_init(&ks, "k*[x]", 1234, 0), 0);
    char pattern[64];
    size_t plen = xtio_load_glob_escape(ks.prefix, ks.plen, pattern, sizeof(pattern));
    const char *digit_sets[] = {"0", "1", "12", "123", "1233", "9", "99", "5"};
    for (size_t d = 0; d < sizeof(digit_sets) / sizeof(digit_sets[0]); d++) {
        snprintf(pattern + plen, sizeof(pattern) - plen, ":%s*", digit_sets[d]);
        size_t first = 0;
        size_t count = xtio_load_digit_block(&ks, digit_sets[d], &first);
        size_t matched = 0;
        for (size_t i = 0; i < ks.count; i++) {
            char key[XTIO_LOAD_KEY_MAX];
            xtio_load_key(&ks, ks.order[i], key);
            if (fnmatch(pattern, key, 0) == 0) {
                assert_int_equal(i, first + matched); /* contiguous, from first */
                matched++;
            }
        }
        assert_int_equal(matched, count);
        assert_true(count > 0);
    }
    xtio_load_keyset_fini(&ks);
}

/* ---- Reply checks ---------------------------------------------------------------------------- */

struct fixture {
    struct xtio_load_keyset ks;
};

static int setup_keys(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f || xtio_load_keyset_init(&f->ks, "key", 1000, 0) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown_keys(void **state)
{
    struct fixture *f = *state;
    xtio_load_keyset_fini(&f->ks);
    free(f);
    return 0;
}

static void check_range_text(const struct xtio_load_keyset *ks, size_t first, size_t pairs,
                             const char *text, size_t len, bool expect_ok, const char *part)
{
    redisReply *reply = parse(text, len);
    char msg[XTIO_LOAD_MSG_MAX] = "";
    bool ok = xtio_load_check_range(ks, first, pairs, reply, msg);
    if (ok != expect_ok)
        fail_msg("check_range gave %d (%s), expected %d", ok, msg, expect_ok);
    if (part)
        assert_contains(msg, part);
    freeReplyObject(reply);
}

static void test_range_exact_reply_passes(void **state)
{
    struct fixture *f = *state;
    struct resp r = range_reply(&f->ks, 5, 100);
    check_range_text(&f->ks, 5, 100, r.p, r.len, true, NULL);
    free(r.p);
    f->ks.value_size = 64; /* padded values with zero bytes */
    r = range_reply(&f->ks, 900, 100);
    check_range_text(&f->ks, 900, 100, r.p, r.len, true, NULL);
    free(r.p);
    f->ks.value_size = 0;
    struct resp empty = {0};
    resp_fmt(&empty, "*0\r\n");
    check_range_text(&f->ks, 0, 0, empty.p, empty.len, true, NULL);
    free(empty.p);
}

static void test_range_wrong_key_value_count(void **state)
{
    struct fixture *f = *state;
    const struct xtio_load_keyset *ks = &f->ks;
    struct resp r;

    /* One pair too few. */
    r = range_reply(ks, 10, 4);
    check_range_text(ks, 10, 5, r.p, r.len, false, "4 pairs instead of 5");
    free(r.p);
    /* One too many. */
    r = range_reply(ks, 10, 6);
    check_range_text(ks, 10, 5, r.p, r.len, false, "6 pairs instead of 5");
    free(r.p);

    /* A wrong value: key:1 holding value:2. */
    r = (struct resp){0};
    resp_fmt(&r, "*4\r\n$5\r\nkey:0\r\n$7\r\nvalue:0\r\n$5\r\nkey:1\r\n$7\r\nvalue:2\r\n");
    check_range_text(ks, 0, 2, r.p, r.len, false, "expected value \"value:1\", got \"value:2\"");
    free(r.p);

    /* A skipped key: key:0 then key:100 instead of key:1. */
    r = (struct resp){0};
    resp_fmt(&r, "*4\r\n$5\r\nkey:0\r\n$7\r\nvalue:0\r\n$7\r\nkey:100\r\n$9\r\nvalue:100\r\n");
    check_range_text(ks, 0, 2, r.p, r.len, false, "expected key \"key:1\", got \"key:100\"");
    free(r.p);

    /* Out of order: key:1 then key:0. */
    r = (struct resp){0};
    resp_fmt(&r, "*4\r\n$5\r\nkey:1\r\n$7\r\nvalue:1\r\n$5\r\nkey:0\r\n$7\r\nvalue:0\r\n");
    check_range_text(ks, 0, 2, r.p, r.len, false, "expected key \"key:0\", got \"key:1\"");
    free(r.p);
    r = (struct resp){0};
    resp_fmt(&r, "*4\r\n$5\r\nkey:0\r\n$7\r\nvalue:0\r\n$5\r\nkey:0\r\n$7\r\nvalue:0\r\n");
    check_range_text(ks, 0, 2, r.p, r.len, false, "not strictly increasing at pair 1");
    free(r.p);

    /* Nil elements (a store that shrank under the scan). */
    r = (struct resp){0};
    resp_fmt(&r, "*2\r\n$-1\r\n$-1\r\n");
    check_range_text(ks, 0, 1, r.p, r.len, false, "got nil");
    free(r.p);
    r = (struct resp){0};
    resp_fmt(&r, "*2\r\n$5\r\nkey:0\r\n$-1\r\n");
    check_range_text(ks, 0, 1, r.p, r.len, false, "expected value \"value:0\", got nil");
    free(r.p);

    /* An odd element count, an error, a non-array. */
    r = (struct resp){0};
    resp_fmt(&r, "*1\r\n$5\r\nkey:0\r\n");
    check_range_text(ks, 0, 1, r.p, r.len, false, "odd");
    free(r.p);
    r = (struct resp){0};
    resp_fmt(&r, "-ERR out of memory\r\n");
    check_range_text(ks, 0, 1, r.p, r.len, false, "an error \"ERR out of memory\"");
    free(r.p);
    r = (struct resp){0};
    resp_fmt(&r, ":3\r\n");
    check_range_text(ks, 0, 1, r.p, r.len, false, "got an integer");
    free(r.p);

    char msg[XTIO_LOAD_MSG_MAX];
    assert_false(xtio_load_check_range(ks, 0, 1, NULL, msg));
    assert_contains(msg, "no reply");
}

static void test_range_padded_value_shows_bytes(void **state)
{
    struct fixture *f = *state;
    f->ks.value_size = 10;
    struct resp r = {0};
    resp_fmt(&r, "*2\r\n$5\r\nkey:0\r\n");
    resp_bulk(&r, "value:0\0\0x", 10);
    check_range_text(&f->ks, 0, 1, r.p, r.len, false, "got \"value:0\\x00\\x00x\"");
    free(r.p);
    f->ks.value_size = 0;
}

static void test_keys_check(void **state)
{
    struct fixture *f = *state;
    size_t first = 0;
    size_t count = xtio_load_digit_block(&f->ks, "12", &first);
    assert_int_equal(count, 11); /* 12, 120..129 */
    struct resp r = {0};
    resp_fmt(&r, "*%zu\r\n", count);
    for (size_t i = 0; i < count; i++) {
        char key[XTIO_LOAD_KEY_MAX];
        size_t klen = xtio_load_key(&f->ks, f->ks.order[first + i], key);
        resp_bulk(&r, key, klen);
    }
    redisReply *reply = parse(r.p, r.len);
    char msg[XTIO_LOAD_MSG_MAX] = "";
    assert_true(xtio_load_check_keys(&f->ks, first, count, reply, msg));
    assert_false(xtio_load_check_keys(&f->ks, first, count + 1, reply, msg));
    assert_contains(msg, "11 keys instead of 12");
    assert_false(xtio_load_check_keys(&f->ks, first + 1, count, reply, msg));
    assert_contains(msg, "key 0: expected key");
    freeReplyObject(reply);
    free(r.p);
}

static void test_bulk_and_status_checks(void **state)
{
    (void)state;
    char msg[XTIO_LOAD_MSG_MAX];
    redisReply *reply = parse("$7\r\nvalue:9\r\n", 13);
    assert_true(xtio_load_check_bulk(reply, "value:9", 7, 0, msg));
    assert_false(xtio_load_check_bulk(reply, "value:8", 7, 0, msg));
    assert_contains(msg, "expected \"value:8\", got \"value:9\"");
    assert_false(xtio_load_check_bulk(reply, "value:9", 7, 8, msg));
    freeReplyObject(reply);
    reply = parse("$-1\r\n", 5);
    assert_false(xtio_load_check_bulk(reply, "value:9", 7, 0, msg));
    assert_contains(msg, "got nil");
    freeReplyObject(reply);
    reply = parse("+OK\r\n", 5);
    assert_true(xtio_load_check_status(reply, "OK", msg));
    assert_false(xtio_load_check_status(reply, "PONG", msg));
    assert_contains(msg, "got status \"OK\"");
    freeReplyObject(reply);
    reply = parse("-ERR wrong\r\n", 12);
    assert_false(xtio_load_check_status(reply, "OK", msg));
    assert_contains(msg, "got an error \"ERR wrong\"");
    freeReplyObject(reply);
}

static void test_wire_bytes_are_exact(void **state)
{
    struct fixture *f = *state;
    const char *texts[] = {"+OK\r\n",
                           "-ERR x y\r\n",
                           ":-12345\r\n",
                           "$-1\r\n",
                           "*-1\r\n",
                           "$0\r\n\r\n",
                           "*0\r\n",
                           "$12\r\nhello world!\r\n",
                           "*2\r\n*1\r\n:1\r\n$3\r\nabc\r\n"};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        redisReply *reply = parse(texts[i], strlen(texts[i]));
        assert_int_equal(xtio_load_reply_wire_bytes(reply), strlen(texts[i]));
        freeReplyObject(reply);
    }
    struct resp r = range_reply(&f->ks, 0, 1000);
    redisReply *reply = parse(r.p, r.len);
    assert_int_equal(xtio_load_reply_wire_bytes(reply), r.len);
    freeReplyObject(reply);
    free(r.p);
}

/* ---- Streaming RANGE check ------------------------------------------------------------------- */

static enum xtio_load_stream_status feed_in_pieces(struct xtio_load_range_stream *s,
                                                   const char *data, size_t len, uint64_t seed)
{
    size_t off = 0;
    while (off < len && s->status == XTIO_LOAD_STREAM_MORE) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        size_t piece = seed ? 1 + (size_t)(seed >> 33) % 37 : 1;
        if (piece > len - off)
            piece = len - off;
        size_t used = 0;
        xtio_load_range_stream_feed(s, data + off, piece, &used);
        off += used;
    }
    return s->status;
}

static void test_stream_accepts_any_split(void **state)
{
    struct fixture *f = *state;
    for (size_t size = 0; size <= 40; size += 20) {
        f->ks.value_size = size;
        struct resp r = range_reply(&f->ks, 123, 200);
        struct xtio_load_range_stream s;
        /* Byte by byte. */
        xtio_load_range_stream_init(&s, &f->ks, 123, 200);
        for (size_t i = 0; i < r.len; i++) {
            size_t used = 0;
            enum xtio_load_stream_status st = xtio_load_range_stream_feed(&s, r.p + i, 1, &used);
            assert_int_equal(used, 1);
            assert_int_equal(st, i + 1 == r.len ? XTIO_LOAD_STREAM_DONE : XTIO_LOAD_STREAM_MORE);
        }
        assert_int_equal(s.pairs_done, 200);
        assert_int_equal(s.bytes, r.len);
        /* Random pieces, several seeds. */
        for (uint64_t seed = 1; seed < 6; seed++) {
            xtio_load_range_stream_init(&s, &f->ks, 123, 200);
            assert_int_equal(feed_in_pieces(&s, r.p, r.len, seed), XTIO_LOAD_STREAM_DONE);
        }
        /* A prefix is fine so far, and counts only the pairs whole. */
        xtio_load_range_stream_init(&s, &f->ks, 123, 200);
        size_t used = 0;
        assert_int_equal(xtio_load_range_stream_feed(&s, r.p, r.len / 2, &used),
                         XTIO_LOAD_STREAM_MORE);
        assert_true(s.pairs_done > 0 && s.pairs_done < 200);
        free(r.p);
    }
    f->ks.value_size = 0;
}

static void test_stream_stops_at_the_end(void **state)
{
    struct fixture *f = *state;
    struct resp r = range_reply(&f->ks, 0, 3);
    resp_add(&r, "+PONG\r\n", 7);
    struct xtio_load_range_stream s;
    xtio_load_range_stream_init(&s, &f->ks, 0, 3);
    size_t used = 0;
    assert_int_equal(xtio_load_range_stream_feed(&s, r.p, r.len, &used), XTIO_LOAD_STREAM_DONE);
    assert_int_equal(used, r.len - 7);
    free(r.p);
}

static void stream_expect_mismatch(const struct xtio_load_keyset *ks, size_t first, size_t pairs,
                                   const char *text, size_t len, const char *part)
{
    struct xtio_load_range_stream s;
    xtio_load_range_stream_init(&s, ks, first, pairs);
    assert_int_equal(feed_in_pieces(&s, text, len, 7), XTIO_LOAD_STREAM_MISMATCH);
    assert_contains(s.msg, part);
}

static void test_stream_reports_mismatches(void **state)
{
    struct fixture *f = *state;
    const struct xtio_load_keyset *ks = &f->ks;
    struct resp r = {0};
    resp_fmt(&r, "*4\r\n$5\r\nkey:0\r\n$7\r\nvalue:0\r\n$5\r\nkey:1\r\n$7\r\nvalue:2\r\n");
    stream_expect_mismatch(ks, 0, 2, r.p, r.len, "pair 1 (\"key:1\"): expected value \"value:1\"");
    free(r.p);
    r = (struct resp){0};
    resp_fmt(&r, "*4\r\n$5\r\nkey:0\r\n$7\r\nvalue:0\r\n$6\r\nkey:10\r\n$8\r\nvalue:10\r\n");
    stream_expect_mismatch(ks, 0, 2, r.p, r.len, "pair 1: expected key \"key:1\", got \"key:10\"");
    free(r.p);
    r = (struct resp){0};
    resp_fmt(&r, "*2\r\n$5\r\nkey:0\r\n");
    stream_expect_mismatch(ks, 0, 2, r.p, r.len, "expected an array of 4 elements, got 2");
    free(r.p);
    r = (struct resp){0};
    resp_fmt(&r, "-ERR out of memory\r\n");
    stream_expect_mismatch(ks, 0, 2, r.p, r.len, "got \"-ERR out of memory\"");
    free(r.p);
    r = (struct resp){0};
    resp_fmt(&r, "*2\r\n$-1\r\n$-1\r\n");
    stream_expect_mismatch(ks, 0, 1, r.p, r.len, "got nil");
    free(r.p);
    r = (struct resp){0};
    resp_fmt(&r, "*2\r\n$5\r\nkey:0XX$7\r\nvalue:0\r\n");
    stream_expect_mismatch(ks, 0, 1, r.p, r.len, "not followed by CRLF");
    free(r.p);
    r = (struct resp){0};
    resp_fmt(&r, "*2\n");
    stream_expect_mismatch(ks, 0, 1, r.p, r.len, "bare LF");
    free(r.p);
}

/* ---- Command line ---------------------------------------------------------------------------- */

/* Parses a NULL-terminated argument list, catching what goes to stderr in err. */
static enum xtio_load_verdict parse_list(struct xtio_load_config *cfg, char *err, size_t cap,
                                         const char *const *args)
{
    char *argv[32] = {"xtio-load"};
    int argc = 1;
    for (; args[argc - 1] && argc < 31; argc++)
        argv[argc] = (char *)args[argc - 1];
    argv[argc] = NULL;
    FILE *out = fopen("/dev/null", "w");
    FILE *errf = fmemopen(err, cap, "w");
    assert_non_null(out);
    assert_non_null(errf);
    setvbuf(errf, NULL, _IONBF, 0);
    memset(err, 0, cap);
    enum xtio_load_verdict v = xtio_load_parse_args(cfg, argc, argv, out, errf);
    fclose(errf);
    fclose(out);
    return v;
}

static enum xtio_load_verdict parse_args(struct xtio_load_config *cfg, char *err, size_t cap,
                                         const char *first, ...)
{
    const char *args[32] = {first};
    va_list ap;
    va_start(ap, first);
    for (int i = 1; args[i - 1] && i < 31; i++)
        args[i] = va_arg(ap, const char *);
    va_end(ap);
    return parse_list(cfg, err, cap, args);
}

static void test_options(void **state)
{
    (void)state;
    struct xtio_load_config cfg;
    char err[1024];
    assert_int_equal(parse_args(&cfg, err, sizeof(err), "--populate", "1000", NULL),
                     XTIO_LOAD_ARGS_RUN);
    assert_int_equal(cfg.keys, 1000);
    assert_int_equal(cfg.requests, 100000);
    assert_int_equal(cfg.connections, 16);
    assert_int_equal(cfg.port, 6390);
    assert_string_equal(cfg.host, "127.0.0.1");
    assert_int_equal(cfg.mix[XTIO_LOAD_RANGE], 70);

    assert_int_equal(parse_args(&cfg, err, sizeof(err), "-h", "localhost", "-p", "6391", "-c", "4",
                                "-P", "8", "-t", "2", "-d", "1.5", "--keys", "50", "--mix",
                                "range=1,keys=2,ping=3", "--range-width", "50", "--range-limit",
                                "7", "--value-size", "100", "--json", "--expect-info",
                                "--disconnect-storm", "3", "--slow-reader", "--seed", "9", NULL),
                     XTIO_LOAD_ARGS_RUN);
    assert_int_equal(cfg.port, 6391);
    assert_int_equal(cfg.pipeline, 8);
    assert_int_equal(cfg.requests, 0);
    assert_true(cfg.duration == 1.5);
    assert_int_equal(cfg.mix[XTIO_LOAD_GET], 0);
    assert_int_equal(cfg.mix[XTIO_LOAD_KEYS], 2);
    assert_int_equal(cfg.range_limit, 7);
    assert_int_equal(cfg.seed, 9);
    char mix[64];
    xtio_load_format_mix(cfg.mix, mix, sizeof(mix));
    assert_string_equal(mix, "range=1,keys=2,ping=3");

    /* GET and SET alone need no populated keys. */
    assert_int_equal(parse_args(&cfg, err, sizeof(err), "--mix", "get=1,set=1", NULL),
                     XTIO_LOAD_ARGS_RUN);
    assert_int_equal(cfg.keys, 0);

    /* The default width shrinks to a small key set; an explicit one does not. */
    assert_int_equal(parse_args(&cfg, err, sizeof(err), "--keys", "10", NULL), XTIO_LOAD_ARGS_RUN);
    assert_int_equal(cfg.range_width, 10);

    struct {
        const char *args[5]; /* NULL-terminated */
        const char *message;
    } bad[] = {
        {{"--bogus"}, "unknown option '--bogus'"},
        {{"-c", "0"}, "invalid value '0' for option '-c'"},
        {{"-n", "-5"}, "invalid value '-5'"},
        {{"-p", "70000"}, "invalid value '70000' for option '-p'"},
        {{"--port", "0"}, "invalid value '0' for option '--port'"},
        {{"--port", "1k"}, "invalid value '1k' for option '--port': use a whole number from 1 to"},
        {{"-p", " 80"}, "invalid value ' 80' for option '-p'"},
        {{"--seed", "-1"}, "invalid value '-1' for option '--seed'"},
        {{"--connections=0"}, "invalid value '0' for option '--connections'"},
        {{"-d", "abc"}, "invalid value 'abc'"},
        {{"-n"}, "needs a value"},
        {{"--mix", "range=70,foo=3"}, "'foo=3' is not KIND=WEIGHT"},
        {{"--mix", "get=0"}, "all 0"},
        {{"--mix", "get=1,get=2"}, "names get twice"},
        {{"-n", "10", "-d", "1"}, "exclude each other"},
        {{"--mix", "range=1"}, "need populated keys"},
        {{"--mix", "keys=1"}, "need populated keys"},
        {{"--slow-reader", "--mix", "set=1"}, "need populated keys"},
        {{"--keys", "10", "--range-width", "11"}, "more than the 10 populated keys"},
        {{"--populate", "10", "--keys", "10"}, "exclude each other"},
        {{"-c", "2", "-t", "3"}, "more than the 2 connections"},
        {{"--value-size", "2000000"}, "invalid value"},
        {{"stray"}, "unexpected argument 'stray'"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        enum xtio_load_verdict v = parse_list(&cfg, err, sizeof(err), bad[i].args);
        if (v != XTIO_LOAD_ARGS_USAGE)
            fail_msg("case %zu (%s): verdict %d", i, bad[i].args[0], v);
        assert_contains(err, bad[i].message);
    }
    assert_int_equal(parse_args(&cfg, err, sizeof(err), "--help", NULL), XTIO_LOAD_ARGS_EXIT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lex_order_matches_sorted_strings),
        cmocka_unit_test(test_keys_sort_as_the_server_sorts),
        cmocka_unit_test(test_keyset_rejects_long_prefix),
        cmocka_unit_test(test_values_natural_truncated_padded),
        cmocka_unit_test(test_digit_block_is_what_keys_matches),
        cmocka_unit_test_setup_teardown(test_range_exact_reply_passes, setup_keys, teardown_keys),
        cmocka_unit_test_setup_teardown(test_range_wrong_key_value_count, setup_keys,
                                        teardown_keys),
        cmocka_unit_test_setup_teardown(test_range_padded_value_shows_bytes, setup_keys,
                                        teardown_keys),
        cmocka_unit_test_setup_teardown(test_keys_check, setup_keys, teardown_keys),
        cmocka_unit_test(test_bulk_and_status_checks),
        cmocka_unit_test_setup_teardown(test_wire_bytes_are_exact, setup_keys, teardown_keys),
        cmocka_unit_test_setup_teardown(test_stream_accepts_any_split, setup_keys, teardown_keys),
        cmocka_unit_test_setup_teardown(test_stream_stops_at_the_end, setup_keys, teardown_keys),
        cmocka_unit_test_setup_teardown(test_stream_reports_mismatches, setup_keys, teardown_keys),
        cmocka_unit_test(test_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
