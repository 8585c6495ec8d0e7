/*
 * The xtio-server key-value store: binary-safe keys kept in byte order, shared by the loop threads
 * (short GET/SET/DEL/EXISTS) and the worker threads (range scans, KEYS, DEBUG POPULATE).
 *
 * Threading contract:
 *   - Every function may be called from any thread, concurrently, except xtio_store_destroy()
 *     (nobody else may use the store any more) and the per-object rules of scans and batches
 *     below (one thread uses a given scan or batch at a time).
 *   - The store is guarded by one rwlock. No function holds it while calling back into code
 *     that might block, with the single documented exception of xtio_store_get_with(), whose
 *     callback must be short and must not call the store.
 *   - A scan copies a bounded batch out under the read lock and releases it before returning, so
 *     the caller can stream that batch to a slow client while SETs go on. The next batch re-seeks
 *     after the last key visited: keys inserted or deleted between batches may or may not be
 *     seen, but the keys returned by one scan are always strictly increasing, and a key that
 *     exists for the whole scan and is in its range is always returned.
 *
 * Order: keys compare with memcmp() over their common length, then the shorter key first (so
 * "a" < "a\0" < "ab" < "b" < "\xff"), as Redis orders strings.
 *
 * Errors are negative errno values (-EINVAL, -ENOMEM, -ENOENT); 0 or a count is success.
 */
#ifndef XTIO_SERVER_STORE_H
#define XTIO_SERVER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct xtio_store xtio_store;

int xtio_store_create(xtio_store **out);
/* Frees every pair and the store. NULL is a no-op. */
void xtio_store_destroy(xtio_store *store);

/* Stores a copy of `val` under a copy of `key`, replacing any earlier value. A NULL pointer is
 * allowed with a length of 0 (empty keys and values are valid). Returns 1 when the key is new,
 * 0 when it replaced a value. */
int xtio_store_set(xtio_store *store, const void *key, size_t klen, const void *val, size_t vlen);

/* Copies the value of `key` into a malloc'd buffer the caller owns and frees with free(); the
 * buffer has one more byte, a NUL, after the `*vlen` value bytes so it may be read as a string.
 * -ENOENT (and *val = NULL) when the key is absent. */
int xtio_store_get(xtio_store *store, const void *key, size_t klen, void **val, size_t *vlen);

/* Called under the store's read lock with the value; `val` is only valid during the call. It
 * must not block nor call the store (a writer would deadlock behind it). Its return value is
 * returned by xtio_store_get_with(). */
typedef int (*xtio_store_value_fn)(void *arg, const void *val, size_t vlen);
/* Zero-copy GET for the loops, e.g. appending the value straight into an evbuffer: returns what
 * fn returned, or -ENOENT (fn not called) when the key is absent. */
int xtio_store_get_with(xtio_store *store, const void *key, size_t klen, xtio_store_value_fn fn,
                        void *arg);

/* 1 when the key was deleted, 0 when it was absent. */
int xtio_store_del(xtio_store *store, const void *key, size_t klen);
/* 1 when present, 0 when absent. */
int xtio_store_exists(xtio_store *store, const void *key, size_t klen);
/* Number of keys (DBSIZE). */
size_t xtio_store_count(xtio_store *store);
/* Bytes held for the pairs (nodes, keys and values as requested from malloc, without the
 * allocator's own overhead), for INFO. */
size_t xtio_store_bytes(xtio_store *store);
/* Deletes every key (FLUSHALL) and returns how many there were. The pairs are freed after the
 * lock is released, so a large flush does not stall the loops. */
size_t xtio_store_flush(xtio_store *store);

/* DEBUG POPULATE count [prefix] [size], Redis semantics: keys "<prefix>:<n>" for n in
 * [0, count) (prefix NULL means "key"), values "value:<n>"; when value_size is not 0 the value is
 * exactly value_size bytes: "value:<n>" truncated, or padded with zero bytes. Existing keys are
 * left as they are. Inserts in batches, each under one short write lock, so the loops keep
 * serving while a worker populates. Returns the number of keys added, or -ENOMEM (the keys added
 * before the failure stay). */
int64_t xtio_store_populate(xtio_store *store, size_t count, const void *prefix, size_t plen,
                            size_t value_size);

/* ---- Scans: RANGE and KEYS ------------------------------------------------------------- */

/* One pair of a batch. */
struct xtio_store_pair {
    const unsigned char *key; /* weak: into the batch's arena */
    size_t klen;
    const unsigned char *val; /* weak: into the batch's arena; NULL in a keys-only scan */
    size_t vlen;
};

/* What one xtio_store_scan_next() copied out. Valid until the next xtio_store_scan_next() with
 * this batch or xtio_store_batch_fini(); one batch can serve any number of scans in turn. */
struct xtio_store_batch {
    struct xtio_store_pair *pairs; /* owned */
    size_t count;
    size_t pairs_cap;
    unsigned char *arena; /* owned: each pair's key then value bytes, back to back */
    size_t arena_used;
    size_t arena_cap;
};

void xtio_store_batch_init(struct xtio_store_batch *batch);
void xtio_store_batch_fini(struct xtio_store_batch *batch);

/* A cursor over the keys k with start <= k <= end, optionally filtered by a glob pattern. It
 * holds no lock and no reference into the store between calls, only copies of its bounds and of
 * the last key visited. The fields are private; initialise with xtio_store_scan_init() or
 * xtio_store_scan_init_keys() and release with xtio_store_scan_fini() (also after a failed
 * init). */
struct xtio_store_scan {
    unsigned char *start; /* owned; NULL: from the first key */
    size_t start_len;
    bool start_is_prefix; /* KEYS with a literal prefix: stop at the first key without it */
    unsigned char *end;   /* owned; NULL: to the last key */
    size_t end_len;
    char *pattern; /* owned; NULL: every key matches */
    bool keys_only;
    size_t limit;        /* 0: no limit */
    size_t emitted;      /* pairs returned so far, against limit */
    unsigned char *last; /* owned: copy of the last key visited, the resume point */
    size_t last_len;
    size_t last_cap;
    bool resumed; /* `last` is valid: seek after it rather than to start */
    bool done;
    char *scratch; /* owned: NUL-terminated key for fnmatch() */
    size_t scratch_cap;
};

/* RANGE start end [LIMIT n]: keys and values of the keys in [start, end], both inclusive, in
 * order, at most `limit` pairs (0: no limit). A NULL bound (with length 0) is open; an empty
 * non-NULL bound is the empty key. A start greater than end gives an empty scan. */
int xtio_store_scan_init(struct xtio_store_scan *scan, const void *start, size_t start_len,
                         const void *end, size_t end_len, size_t limit);
/* KEYS pattern: every key matching the glob `pattern` (fnmatch(3) with no flags: *, ?, [a-c],
 * [!a], backslash escapes; '/' and '.' are ordinary), keys only, in order. NULL or "*" matches
 * every key. fnmatch() works on C strings, so a key containing a NUL byte never matches a pattern
 * other than "*" (it would otherwise be matched on its prefix only). A literal prefix of the
 * pattern ("user:*") narrows the scan to the keys starting with it. */
int xtio_store_scan_init_keys(struct xtio_store_scan *scan, const char *pattern);
void xtio_store_scan_fini(struct xtio_store_scan *scan);

/* Replaces the batch's contents with the next pairs of the scan, copied under the read lock: at
 * most max_pairs (> 0) pairs, and stops adding pairs once their keys and values reach max_bytes
 * (0: no byte bound; a single pair bigger than max_bytes is still returned alone so a scan
 * always progresses). A filtered scan also stops after visiting a bounded number of keys, so a
 * batch may be empty without the scan being done. Returns the number of pairs copied (also in
 * batch->count) or a negative errno; loop until xtio_store_scan_done(). */
int xtio_store_scan_next(xtio_store *store, struct xtio_store_scan *scan,
                         struct xtio_store_batch *batch, size_t max_pairs, size_t max_bytes);
/* How many pairs the scan would still return (limit and pattern included) if the store stayed
 * as it is now, without moving the scan: for replies that need their length first (RESP2
 * arrays). The store is not frozen, so the pairs xtio_store_scan_next() then returns may differ
 * by the keys inserted or deleted in between. Counts in bounded read-lock holds like a scan,
 * so counting a huge range does not stall writers. Returns the count or a negative errno. */
int64_t xtio_store_scan_count(xtio_store *store, const struct xtio_store_scan *scan);
/* True once the scan has returned its last pair (reached end, the last key, or its limit). */
bool xtio_store_scan_done(const struct xtio_store_scan *scan);

#endif /* XTIO_SERVER_STORE_H */
