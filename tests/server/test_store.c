/*
 * Contracts of the xtio-server store (server/src/store.h): point operations, byte order of
 * binary keys, RANGE bounds and limits, batched scans that resume by key, KEYS globs, DEBUG
 * POPULATE, and scans racing a writer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A key or value as the tests see it: bytes and a length, owned. */
struct bytes {
    unsigned char *p; /* owned */
    size_t len;
};

/* Every pair a scan returned, in order. */
struct collected {
    struct bytes *keys; /* owned */
    struct bytes *vals; /* owned; p NULL for keys-only scans */
    size_t count;
    size_t cap;
    size_t batches;
    size_t max_batch; /* most pairs seen in one batch */
};

static int setup(void **state)
{
    xtio_store *store = NULL;
    if (xtio_store_create(&store) != 0)
        return -1;
    *state = store;
    return 0;
}

static int teardown(void **state)
{
    xtio_store_destroy(*state);
    return 0;
}

static void set_str(xtio_store *store, const char *key, const char *val)
{
    assert_true(xtio_store_set(store, key, strlen(key), val, strlen(val)) >= 0);
}

static struct bytes copy_bytes(const void *p, size_t len)
{
    /* One NUL past the bytes so a test may read a copy as a string. */
    struct bytes b = {.p = p ? malloc(len + 1) : NULL, .len = len};
    if (p) {
        assert_non_null(b.p);
        memcpy(b.p, p, len);
        b.p[len] = '\0';
    }
    return b;
}

static void collected_free(struct collected *c)
{
    for (size_t i = 0; i < c->count; i++) {
        free(c->keys[i].p);
        free(c->vals[i].p);
    }
    free(c->keys);
    free(c->vals);
    memset(c, 0, sizeof(*c));
}

/* Runs the scan to its end in batches of max_pairs/max_bytes, keeping copies of the pairs. */
static void drain(xtio_store *store, struct xtio_store_scan *scan, size_t max_pairs,
                  size_t max_bytes, struct collected *out)
{
    struct xtio_store_batch batch;
    xtio_store_batch_init(&batch);
    memset(out, 0, sizeof(*out));
    while (!xtio_store_scan_done(scan)) {
        int n = xtio_store_scan_next(store, scan, &batch, max_pairs, max_bytes);
        assert_true(n >= 0);
        assert_int_equal((size_t)n, batch.count);
        assert_true((size_t)n <= max_pairs);
        out->batches++;
        if ((size_t)n > out->max_batch)
            out->max_batch = (size_t)n;
        for (int i = 0; i < n; i++) {
            if (out->count == out->cap) {
                out->cap = out->cap ? out->cap * 2 : 64;
                out->keys = realloc(out->keys, out->cap * sizeof(*out->keys));
                out->vals = realloc(out->vals, out->cap * sizeof(*out->vals));
                assert_non_null(out->keys);
                assert_non_null(out->vals);
            }
            struct xtio_store_pair *p = &batch.pairs[i];
            out->keys[out->count] = copy_bytes(p->key, p->klen);
            out->vals[out->count] = copy_bytes(p->val, p->vlen);
            out->count++;
        }
    }
    xtio_store_batch_fini(&batch);
}

static void range(xtio_store *store, const char *start, const char *end, size_t limit,
                  size_t max_pairs, struct collected *out)
{
    struct xtio_store_scan scan;
    assert_int_equal(xtio_store_scan_init(&scan, start, start ? strlen(start) : 0, end,
                                          end ? strlen(end) : 0, limit),
                     0);
    drain(store, &scan, max_pairs, 0, out);
    xtio_store_scan_fini(&scan);
}

static void keys(xtio_store *store, const char *pattern, struct collected *out)
{
    struct xtio_store_scan scan;
    assert_int_equal(xtio_store_scan_init_keys(&scan, pattern), 0);
    drain(store, &scan, 100, 0, out);
    xtio_store_scan_fini(&scan);
}

static void assert_key(const struct collected *c, size_t i, const char *key)
{
    assert_true(i < c->count);
    assert_int_equal(c->keys[i].len, strlen(key));
    assert_memory_equal(c->keys[i].p, key, strlen(key));
}

static int bytes_cmp(const struct bytes *a, const struct bytes *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = n ? memcmp(a->p, b->p, n) : 0;
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

static void assert_strictly_increasing(const struct collected *c)
{
    for (size_t i = 1; i < c->count; i++)
        assert_true(bytes_cmp(&c->keys[i - 1], &c->keys[i]) < 0);
}

/* ---- Point operations ---------------------------------------------------------------- */

static void test_set_reports_new_or_replaced(void **state)
{
    xtio_store *store = *state;
    assert_int_equal(xtio_store_set(store, "a", 1, "1", 1), 1);
    assert_int_equal(xtio_store_set(store, "a", 1, "22", 2), 0);
    assert_int_equal(xtio_store_count(store), 1);
}

static void test_get_returns_owned_nul_terminated_copy(void **state)
{
    xtio_store *store = *state;
    set_str(store, "greeting", "hello");
    void *val = NULL;
    size_t len = 0;
    assert_int_equal(xtio_store_get(store, "greeting", 8, &val, &len), 0);
    assert_int_equal(len, 5);
    assert_string_equal(val, "hello");
    /* The copy stays valid after the pair changes: the caller owns it. */
    set_str(store, "greeting", "bye");
    assert_string_equal(val, "hello");
    free(val);
    assert_int_equal(xtio_store_get(store, "greeting", 8, &val, &len), 0);
    assert_int_equal(len, 3);
    assert_memory_equal(val, "bye", 3);
    free(val);
}

static void test_get_missing_is_enoent(void **state)
{
    xtio_store *store = *state;
    set_str(store, "ab", "x");
    void *val = (void *)1;
    size_t len = 7;
    assert_int_equal(xtio_store_get(store, "a", 1, &val, &len), -ENOENT);
    assert_null(val);
    assert_int_equal(len, 0);
    assert_int_equal(xtio_store_get(store, "abc", 3, &val, &len), -ENOENT);
}

static int append_value(void *arg, const void *val, size_t vlen)
{
    struct bytes *out = arg;
    *out = copy_bytes(val, vlen);
    return 42;
}

static void test_get_with_calls_back_with_value(void **state)
{
    xtio_store *store = *state;
    set_str(store, "k", "value");
    struct bytes got = {0};
    assert_int_equal(xtio_store_get_with(store, "k", 1, append_value, &got), 42);
    assert_int_equal(got.len, 5);
    assert_memory_equal(got.p, "value", 5);
    free(got.p);
    got.p = NULL;
    assert_int_equal(xtio_store_get_with(store, "nope", 4, append_value, &got), -ENOENT);
    assert_null(got.p);
}

static void test_del_and_exists(void **state)
{
    xtio_store *store = *state;
    set_str(store, "a", "1");
    set_str(store, "b", "2");
    assert_int_equal(xtio_store_exists(store, "a", 1), 1);
    assert_int_equal(xtio_store_exists(store, "c", 1), 0);
    assert_int_equal(xtio_store_del(store, "a", 1), 1);
    assert_int_equal(xtio_store_del(store, "a", 1), 0);
    assert_int_equal(xtio_store_exists(store, "a", 1), 0);
    assert_int_equal(xtio_store_exists(store, "b", 1), 1);
    assert_int_equal(xtio_store_count(store), 1);
}

static void test_empty_key_and_value_are_valid(void **state)
{
    xtio_store *store = *state;
    assert_int_equal(xtio_store_set(store, NULL, 0, NULL, 0), 1);
    assert_int_equal(xtio_store_exists(store, "", 0), 1);
    void *val = NULL;
    size_t len = 9;
    assert_int_equal(xtio_store_get(store, NULL, 0, &val, &len), 0);
    assert_int_equal(len, 0);
    assert_string_equal(val, "");
    free(val);
    assert_int_equal(xtio_store_del(store, "", 0), 1);
}

static void test_count_bytes_and_flush(void **state)
{
    xtio_store *store = *state;
    assert_int_equal(xtio_store_count(store), 0);
    assert_int_equal(xtio_store_bytes(store), 0);
    char key[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        set_str(store, key, "some value");
    }
    assert_int_equal(xtio_store_count(store), 1000);
    size_t bytes = xtio_store_bytes(store);
    assert_true(bytes >= 1000 * (2 + 10)); /* at least the keys and values themselves */
    /* Replacing with a bigger value grows the accounting; deleting shrinks it. */
    assert_int_equal(xtio_store_set(store, "k0", 2, "a much longer value", 19), 0);
    assert_true(xtio_store_bytes(store) > bytes);
    assert_int_equal(xtio_store_del(store, "k0", 2), 1);
    assert_true(xtio_store_bytes(store) < bytes);

    assert_int_equal(xtio_store_flush(store), 999);
    assert_int_equal(xtio_store_count(store), 0);
    assert_int_equal(xtio_store_bytes(store), 0);
    assert_int_equal(xtio_store_exists(store, "k5", 2), 0);
    /* Still usable after a flush. */
    set_str(store, "after", "flush");
    assert_int_equal(xtio_store_count(store), 1);
}

static void test_invalid_arguments(void **state)
{
    xtio_store *store = *state;
    assert_int_equal(xtio_store_create(NULL), -EINVAL);
    assert_int_equal(xtio_store_set(NULL, "a", 1, "b", 1), -EINVAL);
    assert_int_equal(xtio_store_set(store, NULL, 1, "b", 1), -EINVAL);
    assert_int_equal(xtio_store_set(store, "a", 1, NULL, 1), -EINVAL);
    void *val;
    size_t len;
    assert_int_equal(xtio_store_get(store, "a", 1, NULL, &len), -EINVAL);
    assert_int_equal(xtio_store_get(store, NULL, 2, &val, &len), -EINVAL);
    assert_int_equal(xtio_store_del(store, NULL, 1), -EINVAL);
    assert_int_equal(xtio_store_exists(store, NULL, 1), -EINVAL);
    struct xtio_store_scan scan;
    assert_int_equal(xtio_store_scan_init(&scan, NULL, 1, NULL, 0, 0), -EINVAL);
    assert_int_equal(xtio_store_scan_init(&scan, NULL, 0, NULL, 0, 0), 0);
    struct xtio_store_batch batch;
    xtio_store_batch_init(&batch);
    assert_int_equal(xtio_store_scan_next(store, &scan, &batch, 0, 0), -EINVAL);
    xtio_store_scan_fini(&scan);
    xtio_store_batch_fini(&batch);
    assert_int_equal(xtio_store_populate(NULL, 1, NULL, 0, 0), -EINVAL);
}

/* ---- Order ---------------------------------------------------------------------------- */

static void test_binary_keys_sort_by_bytes_then_length(void **state)
{
    xtio_store *store = *state;
    /* Expected order: memcmp over the common length, then the shorter first; bytes unsigned. */
    static const struct {
        const char *p;
        size_t len;
    } sorted[] = {
        {"", 0},     {"\0", 1},   {"\0\0", 2}, {"\0\xff", 2}, {"\x01", 1},     {"a", 1},
        {"a\0", 2},  {"a\0b", 3}, {"ab", 2},   {"a\x7f", 2},  {"a\x80", 2},    {"b", 1},
        {"\x7f", 1}, {"\x80", 1}, {"\xff", 1}, {"\xff\0", 2}, {"\xff\xff", 2},
    };
    size_t n = sizeof(sorted) / sizeof(sorted[0]);
    /* Insert in a scrambled order (7 is coprime with 17). */
    for (size_t i = 0; i < n; i++) {
        size_t j = (i * 7) % n;
        assert_int_equal(xtio_store_set(store, sorted[j].p, sorted[j].len, &j, sizeof(j)), 1);
    }
    assert_int_equal(xtio_store_count(store), n);
    struct collected c;
    range(store, NULL, NULL, 0, 5, &c);
    assert_int_equal(c.count, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(c.keys[i].len, sorted[i].len);
        if (sorted[i].len)
            assert_memory_equal(c.keys[i].p, sorted[i].p, sorted[i].len);
        assert_int_equal(c.vals[i].len, sizeof(size_t));
        assert_memory_equal(c.vals[i].p, &i, sizeof(size_t));
        assert_int_equal(xtio_store_exists(store, sorted[i].p, sorted[i].len), 1);
    }
    collected_free(&c);
}

/* ---- RANGE ---------------------------------------------------------------------------- */

static void fill_k00_k19(xtio_store *store)
{
    char key[32], val[32];
    for (int i = 19; i >= 0; i--) {
        snprintf(key, sizeof(key), "k%02d", i);
        snprintf(val, sizeof(val), "v%02d", i);
        set_str(store, key, val);
    }
}

static void test_range_bounds_are_inclusive(void **state)
{
    xtio_store *store = *state;
    fill_k00_k19(store);
    struct collected c;
    range(store, "k05", "k10", 0, 100, &c);
    assert_int_equal(c.count, 6);
    for (size_t i = 0; i < 6; i++) {
        char key[32], val[32];
        snprintf(key, sizeof(key), "k%02zu", i + 5);
        snprintf(val, sizeof(val), "v%02zu", i + 5);
        assert_key(&c, i, key);
        assert_int_equal(c.vals[i].len, 3);
        assert_memory_equal(c.vals[i].p, val, 3);
    }
    collected_free(&c);

    range(store, "k07", "k07", 0, 100, &c);
    assert_int_equal(c.count, 1);
    assert_key(&c, 0, "k07");
    collected_free(&c);
}

static void test_range_bounds_between_keys(void **state)
{
    xtio_store *store = *state;
    fill_k00_k19(store);
    struct collected c;
    /* "k05a" sorts after k05, "k08" < "k08!" < "k09": [k06, k08]. */
    range(store, "k05a", "k08!", 0, 100, &c);
    assert_int_equal(c.count, 3);
    assert_key(&c, 0, "k06");
    assert_key(&c, 2, "k08");
    collected_free(&c);
}

static void test_range_open_bounds(void **state)
{
    xtio_store *store = *state;
    fill_k00_k19(store);
    struct collected c;
    range(store, NULL, "k02", 0, 100, &c);
    assert_int_equal(c.count, 3);
    assert_key(&c, 0, "k00");
    collected_free(&c);
    range(store, "k17", NULL, 0, 100, &c);
    assert_int_equal(c.count, 3);
    assert_key(&c, 2, "k19");
    collected_free(&c);
    range(store, NULL, NULL, 0, 100, &c);
    assert_int_equal(c.count, 20);
    collected_free(&c);
}

static void test_range_empty(void **state)
{
    xtio_store *store = *state;
    struct collected c;
    range(store, NULL, NULL, 0, 10, &c); /* empty store */
    assert_int_equal(c.count, 0);
    collected_free(&c);
    fill_k00_k19(store);
    range(store, "k05a", "k05z", 0, 10, &c); /* no key inside */
    assert_int_equal(c.count, 0);
    collected_free(&c);
    range(store, "x", "z", 0, 10, &c); /* past every key */
    assert_int_equal(c.count, 0);
    collected_free(&c);
    range(store, "a", "b", 0, 10, &c); /* before every key */
    assert_int_equal(c.count, 0);
    collected_free(&c);
}

static void test_range_start_after_end_is_done_at_once(void **state)
{
    xtio_store *store = *state;
    fill_k00_k19(store);
    struct xtio_store_scan scan;
    assert_int_equal(xtio_store_scan_init(&scan, "k10", 3, "k05", 3, 0), 0);
    assert_true(xtio_store_scan_done(&scan));
    struct xtio_store_batch batch;
    xtio_store_batch_init(&batch);
    assert_int_equal(xtio_store_scan_next(store, &scan, &batch, 10, 0), 0);
    assert_int_equal(batch.count, 0);
    xtio_store_batch_fini(&batch);
    xtio_store_scan_fini(&scan);
}

static void test_range_limit(void **state)
{
    xtio_store *store = *state;
    fill_k00_k19(store);
    struct collected c;
    range(store, "k03", "k15", 4, 100, &c);
    assert_int_equal(c.count, 4);
    assert_key(&c, 0, "k03");
    assert_key(&c, 3, "k06");
    collected_free(&c);
    /* The limit holds across batches smaller than it. */
    range(store, NULL, NULL, 5, 2, &c);
    assert_int_equal(c.count, 5);
    assert_key(&c, 4, "k04");
    assert_int_equal(c.batches, 3);
    collected_free(&c);
    /* A limit above the range's size changes nothing. */
    range(store, "k18", NULL, 10, 100, &c);
    assert_int_equal(c.count, 2);
    collected_free(&c);
}

/* ---- Batches ------------------------------------------------------------------------- */

static void check_batched_scan(xtio_store *store, size_t total, size_t max_pairs)
{
    struct collected c;
    range(store, NULL, NULL, 0, max_pairs, &c);
    assert_int_equal(c.count, total);
    assert_true(c.max_batch <= max_pairs);
    /* Full batches except the last; at most one extra empty call to learn the end. */
    size_t full = (total + max_pairs - 1) / max_pairs;
    assert_true(c.batches >= full && c.batches <= full + 1);
    for (size_t i = 0; i < total; i++) {
        char key[32];
        snprintf(key, sizeof(key), "key:%06zu", i);
        assert_key(&c, i, key);
    }
    collected_free(&c);
}

static void test_scan_batches_resume_after_last_key(void **state)
{
    xtio_store *store = *state;
    const size_t total = 2500;
    char key[32];
    for (size_t i = 0; i < total; i++) {
        snprintf(key, sizeof(key), "key:%06zu", (i * 7919) % total);
        set_str(store, key, "v");
    }
    check_batched_scan(store, total, 1);
    check_batched_scan(store, total, 3);
    check_batched_scan(store, total, 1000);
    check_batched_scan(store, total, 5000);
}

static void test_scan_max_bytes_bounds_batch(void **state)
{
    xtio_store *store = *state;
    char big[100];
    memset(big, 'x', sizeof(big));
    for (int i = 0; i < 10; i++) {
        char key[4] = {'k', (char)('0' + i), 0};
        assert_int_equal(xtio_store_set(store, key, 2, "0123456789", 8), 1); /* 10 bytes */
    }
    assert_int_equal(xtio_store_set(store, "k5", 2, big, sizeof(big)), 0);
    struct xtio_store_scan scan;
    struct xtio_store_batch batch;
    xtio_store_batch_init(&batch);
    assert_int_equal(xtio_store_scan_init(&scan, NULL, 0, NULL, 0, 0), 0);
    /* 35 bytes: three 10-byte pairs per batch; the 102-byte pair comes alone. */
    size_t sizes[8] = {0};
    size_t n = 0;
    while (!xtio_store_scan_done(&scan)) {
        int got = xtio_store_scan_next(store, &scan, &batch, 100, 35);
        assert_true(got >= 0);
        assert_true(n < 8);
        sizes[n++] = (size_t)got;
        if (got > 1)
            assert_true(batch.arena_used <= 35);
    }
    /* k0 k1 k2 | k3 k4 | k5 (big) | k6 k7 k8 | k9 */
    assert_int_equal(n, 5);
    assert_int_equal(sizes[0], 3);
    assert_int_equal(sizes[1], 2);
    assert_int_equal(sizes[2], 1);
    assert_int_equal(sizes[3], 3);
    assert_int_equal(sizes[4], 1);
    xtio_store_scan_fini(&scan);
    xtio_store_batch_fini(&batch);
}

static void test_scan_survives_changes_between_batches(void **state)
{
    xtio_store *store = *state;
    fill_k00_k19(store);
    struct xtio_store_scan scan;
    struct xtio_store_batch batch;
    xtio_store_batch_init(&batch);
    assert_int_equal(xtio_store_scan_init(&scan, NULL, 0, NULL, 0, 0), 0);
    assert_int_equal(xtio_store_scan_next(store, &scan, &batch, 5, 0), 5); /* k00..k04 */
    /* The resume point itself disappears, a key appears behind the cursor and one ahead. */
    assert_int_equal(xtio_store_del(store, "k04", 3), 1);
    assert_int_equal(xtio_store_del(store, "k05", 3), 1);
    set_str(store, "k01a", "behind");
    set_str(store, "k04a", "ahead");
    assert_int_equal(xtio_store_scan_next(store, &scan, &batch, 2, 0), 2);
    assert_int_equal(batch.pairs[0].klen, 4);
    assert_memory_equal(batch.pairs[0].key, "k04a", 4);
    assert_memory_equal(batch.pairs[1].key, "k06", 3);
    xtio_store_flush(store);
    assert_int_equal(xtio_store_scan_next(store, &scan, &batch, 2, 0), 0);
    assert_true(xtio_store_scan_done(&scan));
    xtio_store_scan_fini(&scan);
    xtio_store_batch_fini(&batch);
}

static int64_t count_range(xtio_store *store, const char *start, const char *end, size_t limit)
{
    struct xtio_store_scan scan;
    assert_int_equal(xtio_store_scan_init(&scan, start, start ? strlen(start) : 0, end,
                                          end ? strlen(end) : 0, limit),
                     0);
    int64_t n = xtio_store_scan_count(store, &scan);
    xtio_store_scan_fini(&scan);
    return n;
}

static void test_scan_count_matches_what_the_scan_returns(void **state)
{
    xtio_store *store = *state;
    assert_int_equal(count_range(store, NULL, NULL, 0), 0);
    /* More keys than one read-lock hold visits, so the count itself resumes by key. */
    assert_int_equal(xtio_store_populate(store, 10000, "c", 1, 0), 10000);
    fill_k00_k19(store);
    assert_int_equal(count_range(store, NULL, NULL, 0), 10020);
    assert_int_equal(count_range(store, "k05", "k10", 0), 6);
    assert_int_equal(count_range(store, "k05", "k10", 4), 4);
    assert_int_equal(count_range(store, "k10", "k05", 0), 0);
    assert_int_equal(count_range(store, "c:", "c;", 7000), 7000);

    struct xtio_store_scan scan;
    assert_int_equal(xtio_store_scan_init_keys(&scan, "c:9*"), 0);
    assert_int_equal(xtio_store_scan_count(store, &scan), 1111); /* 9, 9x, 9xx, 9xxx */
    xtio_store_scan_fini(&scan);
}

static void test_scan_count_mid_scan_leaves_cursor_alone(void **state)
{
    xtio_store *store = *state;
    fill_k00_k19(store);
    struct xtio_store_scan scan;
    struct xtio_store_batch batch;
    xtio_store_batch_init(&batch);
    assert_int_equal(xtio_store_scan_init(&scan, "k02", 3, NULL, 0, 12), 0);
    assert_int_equal(xtio_store_scan_count(store, &scan), 12);
    assert_int_equal(xtio_store_scan_next(store, &scan, &batch, 5, 0), 5); /* k02..k06 */
    assert_int_equal(xtio_store_scan_count(store, &scan), 7);              /* limit left */
    assert_int_equal(xtio_store_scan_next(store, &scan, &batch, 1, 0), 1);
    assert_memory_equal(batch.pairs[0].key, "k07", 3);
    assert_int_equal(xtio_store_scan_next(store, &scan, &batch, 100, 0), 6);
    assert_true(xtio_store_scan_done(&scan));
    assert_int_equal(xtio_store_scan_count(store, &scan), 0);
    xtio_store_scan_fini(&scan);
    xtio_store_batch_fini(&batch);
}

/* ---- Concurrency ----------------------------------------------------------------------- */

#define RACE_KEYS 4000

struct race {
    xtio_store *store;
    atomic_bool stop;
    atomic_ulong writes;
};

static void race_key(char *buf, size_t i)
{
    snprintf(buf, 32, "r%06zu", i);
}

/* Inserts and deletes the odd keys while the scanner runs; the even keys are never touched. */
static void *race_writer(void *arg)
{
    struct race *race = arg;
    uint64_t x = 88172645463325252ull;
    char key[32];
    while (!atomic_load(&race->stop)) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t i = (size_t)(x % (RACE_KEYS / 2)) * 2 + 1;
        race_key(key, i);
        if (x & (1ull << 40))
            assert_true(xtio_store_set(race->store, key, strlen(key), "odd", 3) >= 0);
        else
            assert_true(xtio_store_del(race->store, key, strlen(key)) >= 0);
        atomic_fetch_add(&race->writes, 1);
    }
    return NULL;
}

static void test_scan_races_writer(void **state)
{
    xtio_store *store = *state;
    char key[32];
    for (size_t i = 0; i < RACE_KEYS; i += 2) {
        race_key(key, i);
        set_str(store, key, "even");
    }
    struct race race = {.store = store};
    atomic_init(&race.stop, false);
    atomic_init(&race.writes, 0);
    pthread_t writer;
    assert_int_equal(pthread_create(&writer, NULL, race_writer, &race), 0);

    size_t scans = 0;
    unsigned long writes_during = 0;
    /* Keep scanning until the writer has really interleaved with us, within bounds. */
    while (scans < 14 || (scans < 200 && atomic_load(&race.writes) < 20000)) {
        struct collected c;
        range(store, NULL, NULL, 0, 1 + scans % 7, &c);
        assert_strictly_increasing(&c);
        size_t evens = 0;
        for (size_t i = 0; i < c.count; i++) {
            assert_int_equal(c.keys[i].len, 7);
            size_t n = strtoul((const char *)c.keys[i].p + 1, NULL, 10);
            bool even = n % 2 == 0;
            assert_int_equal(c.vals[i].len, even ? 4 : 3);
            assert_memory_equal(c.vals[i].p, even ? "even" : "odd", c.vals[i].len);
            evens += even;
        }
        /* Present for the whole scan, so never skipped by a re-seek. */
        assert_int_equal(evens, RACE_KEYS / 2);
        collected_free(&c);
        scans++;
    }
    atomic_store(&race.stop, true);
    assert_int_equal(pthread_join(writer, NULL), 0);
    writes_during = atomic_load(&race.writes);
    print_message("race: %zu scans against %lu writes\n", scans, writes_during);
    assert_true(writes_during > 0);
}

/* ---- DEBUG POPULATE -------------------------------------------------------------------- */

static void assert_value(xtio_store *store, const char *key, const void *val, size_t vlen)
{
    void *got = NULL;
    size_t len = 0;
    assert_int_equal(xtio_store_get(store, key, strlen(key), &got, &len), 0);
    assert_int_equal(len, vlen);
    if (vlen)
        assert_memory_equal(got, val, vlen);
    free(got);
}

static void test_populate_default_prefix(void **state)
{
    xtio_store *store = *state;
    assert_int_equal(xtio_store_populate(store, 100, NULL, 0, 0), 100);
    assert_int_equal(xtio_store_count(store), 100);
    assert_value(store, "key:0", "value:0", 7);
    assert_value(store, "key:99", "value:99", 8);
    assert_int_equal(xtio_store_exists(store, "key:100", 7), 0);
    assert_int_equal(xtio_store_populate(store, 0, NULL, 0, 0), 0);
}

static void test_populate_prefix(void **state)
{
    xtio_store *store = *state;
    assert_int_equal(xtio_store_populate(store, 3, "user", 4, 0), 3);
    assert_value(store, "user:2", "value:2", 7);
    assert_int_equal(xtio_store_exists(store, "key:0", 5), 0);
}

static void test_populate_size_pads_or_truncates(void **state)
{
    xtio_store *store = *state;
    assert_int_equal(xtio_store_populate(store, 8, "big", 3, 12), 8);
    assert_value(store, "big:7", "value:7\0\0\0\0\0", 12);
    assert_int_equal(xtio_store_populate(store, 8, "small", 5, 3), 8);
    assert_value(store, "small:7", "val", 3);
}

static void test_populate_keeps_existing_keys(void **state)
{
    xtio_store *store = *state;
    set_str(store, "key:5", "mine");
    assert_int_equal(xtio_store_populate(store, 10, NULL, 0, 0), 9);
    assert_value(store, "key:5", "mine", 4);
    assert_value(store, "key:6", "value:6", 7);
    assert_int_equal(xtio_store_populate(store, 10, NULL, 0, 0), 0);
    assert_int_equal(xtio_store_populate(store, 12, NULL, 0, 0), 2);
    assert_int_equal(xtio_store_count(store), 12);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_populate_million_then_full_scan(void **state)
{
    xtio_store *store = *state;
    const size_t n = 1000000;
    double t0 = now_s();
    assert_int_equal(xtio_store_populate(store, n, NULL, 0, 0), (int64_t)n);
    double t1 = now_s();
    assert_int_equal(xtio_store_count(store), n);

    struct xtio_store_scan scan;
    struct xtio_store_batch batch;
    xtio_store_batch_init(&batch);
    assert_int_equal(xtio_store_scan_init(&scan, NULL, 0, NULL, 0, 0), 0);
    size_t seen = 0, bytes = 0;
    unsigned char prev[32];
    size_t prev_len = 0;
    while (!xtio_store_scan_done(&scan)) {
        int got = xtio_store_scan_next(store, &scan, &batch, 1000, 64 * 1024);
        assert_true(got >= 0);
        for (int i = 0; i < got; i++) {
            struct xtio_store_pair *p = &batch.pairs[i];
            struct bytes a = {prev, prev_len}, b = {(unsigned char *)p->key, p->klen};
            if (seen)
                assert_true(bytes_cmp(&a, &b) < 0);
            assert_true(p->klen <= sizeof(prev));
            memcpy(prev, p->key, p->klen);
            prev_len = p->klen;
            bytes += p->klen + p->vlen;
            seen++;
        }
    }
    double t2 = now_s();
    assert_int_equal(seen, n);

    xtio_store_scan_fini(&scan);
    assert_int_equal(xtio_store_scan_init(&scan, NULL, 0, NULL, 0, 0), 0);
    assert_int_equal(xtio_store_scan_count(store, &scan), (int64_t)n);
    xtio_store_scan_fini(&scan);
    double t2c = now_s();

    struct collected c;
    keys(store, "key:99999?", &c);
    double t3 = now_s();
    assert_int_equal(c.count, 10);
    assert_key(&c, 0, "key:999990");
    collected_free(&c);

    print_message("populate 1M: %.3f s; full scan (1000-pair batches): %.3f s, %zu bytes; "
                  "count: %.3f s; KEYS key:99999?: %.4f s; store bytes %zu\n",
                  t1 - t0, t2 - t1, bytes, t2c - t2, t3 - t2c, xtio_store_bytes(store));
    double t4 = now_s();
    assert_int_equal(xtio_store_flush(store), n);
    print_message("flush 1M: %.3f s\n", now_s() - t4);
    xtio_store_batch_fini(&batch);
}

/* ---- KEYS ------------------------------------------------------------------------------ */

static void fill_glob_keys(xtio_store *store)
{
    static const char *const names[] = {"hallo",    "hbllo", "hello",  "hllo",
                                        "heeeello", "hxllo", "user:1", "user:2",
                                        "user:10",  "users", "a*b",    "x/y.z"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        set_str(store, names[i], "v");
    assert_int_equal(xtio_store_set(store, "h\0llo", 5, "nul", 3), 1);
}

static void assert_keys(xtio_store *store, const char *pattern, const char *const *expect, size_t n)
{
    struct collected c;
    keys(store, pattern, &c);
    assert_int_equal(c.count, n);
    for (size_t i = 0; i < n; i++) {
        assert_key(&c, i, expect[i]);
        assert_null(c.vals[i].p); /* keys only */
    }
    collected_free(&c);
}

#define ASSERT_KEYS(store, pattern, ...)                                                           \
    do {                                                                                           \
        static const char *const expect_[] = {__VA_ARGS__};                                        \
        assert_keys(store, pattern, expect_, sizeof(expect_) / sizeof(expect_[0]));                \
    } while (0)

static void test_keys_star_matches_all_including_nul_keys(void **state)
{
    xtio_store *store = *state;
    fill_glob_keys(store);
    struct collected c;
    keys(store, "*", &c);
    assert_int_equal(c.count, 13);
    assert_strictly_increasing(&c);
    assert_int_equal(c.keys[1].len, 5);
    assert_memory_equal(c.keys[1].p, "h\0llo", 5); /* a*b, h\0llo, hallo, ... */
    collected_free(&c);
    keys(store, NULL, &c);
    assert_int_equal(c.count, 13);
    collected_free(&c);
}

static void test_keys_glob_star_question_class(void **state)
{
    xtio_store *store = *state;
    fill_glob_keys(store);
    ASSERT_KEYS(store, "h?llo", "hallo", "hbllo", "hello", "hxllo");
    ASSERT_KEYS(store, "h*llo", "hallo", "hbllo", "heeeello", "hello", "hllo", "hxllo");
    ASSERT_KEYS(store, "h[a-c]llo", "hallo", "hbllo");
    ASSERT_KEYS(store, "h[!a-e]llo", "hxllo");
    ASSERT_KEYS(store, "user:*", "user:1", "user:10", "user:2");
    ASSERT_KEYS(store, "user?", "users");
    ASSERT_KEYS(store, "*1*", "user:1", "user:10");
    ASSERT_KEYS(store, "a\\*b", "a*b");
    ASSERT_KEYS(store, "x/*", "x/y.z"); /* '/' is an ordinary character */
    ASSERT_KEYS(store, "*.z", "x/y.z");
    struct collected c;
    keys(store, "nomatch*", &c);
    assert_int_equal(c.count, 0);
    collected_free(&c);
    keys(store, "h", &c); /* literal pattern: exact key only, "hallo" etc. start with "h" */
    assert_int_equal(c.count, 0);
    collected_free(&c);
}

static void test_keys_skips_nul_keys_for_patterns(void **state)
{
    xtio_store *store = *state;
    fill_glob_keys(store);
    /* "h\0llo" would match "h*" on its prefix "h" if handed to fnmatch(). */
    struct collected c;
    keys(store, "h*", &c);
    assert_int_equal(c.count, 6);
    for (size_t i = 0; i < c.count; i++)
        assert_null(memchr(c.keys[i].p, '\0', c.keys[i].len));
    collected_free(&c);
}

static void test_keys_bounds_lock_hold_when_few_match(void **state)
{
    xtio_store *store = *state;
    assert_int_equal(xtio_store_populate(store, 20000, "p", 1, 0), 20000);
    set_str(store, "p:5000z", "needle");
    struct xtio_store_scan scan;
    struct xtio_store_batch batch;
    xtio_store_batch_init(&batch);
    assert_int_equal(xtio_store_scan_init_keys(&scan, "*z"), 0);
    size_t calls = 0, found = 0, empty_not_done = 0;
    while (!xtio_store_scan_done(&scan)) {
        int got = xtio_store_scan_next(store, &scan, &batch, 100, 0);
        assert_true(got >= 0);
        calls++;
        found += (size_t)got;
        if (got == 0 && !xtio_store_scan_done(&scan))
            empty_not_done++;
    }
    assert_int_equal(found, 1);
    /* 20001 keys cannot be walked in one call: the visit budget split the walk. */
    assert_true(calls > 1);
    assert_true(empty_not_done > 0);
    xtio_store_scan_fini(&scan);
    xtio_store_batch_fini(&batch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_set_reports_new_or_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_returns_owned_nul_terminated_copy, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_get_missing_is_enoent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_with_calls_back_with_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_del_and_exists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_key_and_value_are_valid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_count_bytes_and_flush, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_binary_keys_sort_by_bytes_then_length, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_range_bounds_are_inclusive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_range_bounds_between_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_range_open_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_range_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_range_start_after_end_is_done_at_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_range_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_batches_resume_after_last_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_max_bytes_bounds_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_survives_changes_between_batches, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_scan_count_matches_what_the_scan_returns, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_scan_count_mid_scan_leaves_cursor_alone, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_scan_races_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_populate_default_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_populate_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_populate_size_pads_or_truncates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_populate_keeps_existing_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_star_matches_all_including_nul_keys, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_keys_glob_star_question_class, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_skips_nul_keys_for_patterns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_bounds_lock_hold_when_few_match, setup, teardown),
        cmocka_unit_test_setup_teardown(test_populate_million_then_full_scan, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
