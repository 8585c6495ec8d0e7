/*
 * The xtio-server key-value store: a skip list of binary-safe pairs in byte order under one
 * rwlock, with batched scan cursors that never hold the lock while their caller streams output.
 *
 * Why a skip list: ordered iteration and O(log n) point operations from a few dozen lines, and a
 * node's successor pointer is all a scan needs to walk, so a batch is a plain linked walk. Each
 * pair is one allocation (links, key and value together) made before the write lock is taken and
 * freed after it is released, so a writer holds the lock only to relink pointers.
 */
#include "store.h"

#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* 4^16 nodes before the top level is crowded: far beyond what fits in memory. */
#define MAX_LEVEL             16
/* Pairs inserted per write-lock hold by populate: about a millisecond of relinking, short
 * enough for the loops' SETs queued behind it. */
#define POPULATE_BATCH        1024
/* Keys a filtered scan may visit per batch, bounding the read-lock hold when few keys match. */
#define SCAN_VISIT_BUDGET     4096
/* Pair slots reserved before the read lock is taken; more are grown under it if needed. */
#define SCAN_PRERESERVE_PAIRS 1024

struct node {
    size_t klen;
    size_t vlen;
    int level;
    /* weak: successor at each of `level` levels (the list as a whole owns the nodes); the key
     * bytes, then the value bytes, follow the last link in the same allocation */
    struct node *next[];
};

struct xtio_store {
    pthread_rwlock_t lock;
    struct node *head; /* owned: sentinel with MAX_LEVEL links and no key */
    int level;         /* levels in use, >= 1; guarded by lock */
    size_t count;      /* guarded by lock */
    size_t bytes;      /* guarded by lock */
    /* Levels are drawn before the write lock is taken, by any thread, hence atomic. */
    atomic_uint_fast64_t level_seq;
};

static unsigned char *node_key(struct node *n)
{
    return (unsigned char *)&n->next[n->level];
}

static unsigned char *node_val(struct node *n)
{
    return node_key(n) + n->klen;
}

static size_t node_size(int level, size_t klen, size_t vlen)
{
    return sizeof(struct node) + (size_t)level * sizeof(struct node *) + klen + vlen;
}

static int keycmp(const void *a, size_t alen, const void *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c != 0)
        return c;
    return (alen > blen) - (alen < blen);
}

static int node_cmp(struct node *n, const void *key, size_t klen)
{
    return keycmp(node_key(n), n->klen, key, klen);
}

/* splitmix64 over a shared counter: independent draws from any thread without a lock. */
static int random_level(xtio_store *store)
{
    uint64_t z =
        atomic_fetch_add_explicit(&store->level_seq, 0x9e3779b97f4a7c15ull, memory_order_relaxed);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    /* p = 1/4 per level: fewer links per node than 1/2 for about the same search cost. */
    int level = 1;
    while (level < MAX_LEVEL && (z & 3) == 0) {
        level++;
        z >>= 2;
    }
    return level;
}

static struct node *node_alloc(xtio_store *store, size_t klen, size_t vlen)
{
    if (klen > SIZE_MAX / 2 || vlen > SIZE_MAX / 2 - klen - 1024)
        return NULL;
    int level = random_level(store);
    struct node *n = malloc(node_size(level, klen, vlen));
    if (!n)
        return NULL;
    n->klen = klen;
    n->vlen = vlen;
    n->level = level;
    return n;
}

static void free_chain(struct node *n)
{
    while (n) {
        struct node *next = n->next[0];
        free(n);
        n = next;
    }
}

/* First node >= key, and in update[] its predecessor at every level in use. Lock held. */
static struct node *find(xtio_store *store, const void *key, size_t klen,
                         struct node *update[MAX_LEVEL])
{
    struct node *x = store->head;
    for (int i = store->level - 1; i >= 0; i--) {
        while (x->next[i] && node_cmp(x->next[i], key, klen) < 0)
            x = x->next[i];
        if (update)
            update[i] = x;
    }
    return x->next[0];
}

/* First node > key (after == true) or >= key. Lock held. */
static struct node *seek(xtio_store *store, const void *key, size_t klen, bool after)
{
    struct node *x = store->head;
    for (int i = store->level - 1; i >= 0; i--) {
        while (x->next[i]) {
            int c = node_cmp(x->next[i], key, klen);
            if (c > 0 || (c == 0 && !after))
                break;
            x = x->next[i];
        }
    }
    return x->next[0];
}

/* Write lock held; update[] from find() for the node's key, which is absent. */
static void link_node(xtio_store *store, struct node *n, struct node *update[MAX_LEVEL])
{
    for (int i = store->level; i < n->level; i++)
        update[i] = store->head;
    if (n->level > store->level)
        store->level = n->level;
    for (int i = 0; i < n->level; i++) {
        n->next[i] = update[i]->next[i];
        update[i]->next[i] = n;
    }
    store->count++;
    store->bytes += node_size(n->level, n->klen, n->vlen);
}

/* Write lock held; update[] from find() for the node's key. The caller frees the node once the
 * lock is released. */
static void unlink_node(xtio_store *store, struct node *n, struct node *update[MAX_LEVEL])
{
    for (int i = 0; i < n->level; i++)
        update[i]->next[i] = n->next[i];
    store->count--;
    store->bytes -= node_size(n->level, n->klen, n->vlen);
}

/* After deletions, so searches do not start on empty levels. Write lock held. */
static void shrink_levels(xtio_store *store)
{
    while (store->level > 1 && !store->head->next[store->level - 1])
        store->level--;
}

int xtio_store_create(xtio_store **out)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    xtio_store *store = calloc(1, sizeof(*store));
    if (!store)
        return -ENOMEM;
    store->head = calloc(1, node_size(MAX_LEVEL, 0, 0));
    if (!store->head) {
        free(store);
        return -ENOMEM;
    }
    store->head->level = MAX_LEVEL;
    store->level = 1;
    atomic_init(&store->level_seq, 0x5eed);

    /* glibc's default rwlock lets a steady stream of readers (workers scanning back to back)
     * starve writers; the loops' SETs must not wait on that. */
    pthread_rwlockattr_t attr;
    int rc = pthread_rwlockattr_init(&attr);
    if (rc == 0) {
        pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
        rc = pthread_rwlock_init(&store->lock, &attr);
        pthread_rwlockattr_destroy(&attr);
    }
    if (rc != 0) {
        free(store->head);
        free(store);
        return -rc;
    }
    *out = store;
    return 0;
}

void xtio_store_destroy(xtio_store *store)
{
    if (!store)
        return;
    free_chain(store->head->next[0]);
    free(store->head);
    pthread_rwlock_destroy(&store->lock);
    free(store);
}

static bool bad_bytes(const void *p, size_t len)
{
    return !p && len;
}

int xtio_store_set(xtio_store *store, const void *key, size_t klen, const void *val, size_t vlen)
{
    if (!store || bad_bytes(key, klen) || bad_bytes(val, vlen))
        return -EINVAL;
    struct node *n = node_alloc(store, klen, vlen);
    if (!n)
        return -ENOMEM;
    if (klen)
        memcpy(node_key(n), key, klen);
    if (vlen)
        memcpy(node_val(n), val, vlen);

    struct node *update[MAX_LEVEL];
    pthread_rwlock_wrlock(&store->lock);
    struct node *old = find(store, key, klen, update);
    if (old && node_cmp(old, key, klen) != 0)
        old = NULL;
    /* Replace the whole node rather than its value: the new node is already built, and the
     * predecessors in update[] are still right once the old node is gone. */
    if (old)
        unlink_node(store, old, update);
    link_node(store, n, update);
    shrink_levels(store);
    pthread_rwlock_unlock(&store->lock);
    int created = old ? 0 : 1;
    free(old);
    return created;
}

struct copy_out {
    void *val;
    size_t vlen;
};

static int copy_value(void *arg, const void *val, size_t vlen)
{
    struct copy_out *out = arg;
    out->val = malloc(vlen + 1);
    if (!out->val)
        return -ENOMEM;
    if (vlen)
        memcpy(out->val, val, vlen);
    ((char *)out->val)[vlen] = '\0';
    out->vlen = vlen;
    return 0;
}

int xtio_store_get(xtio_store *store, const void *key, size_t klen, void **val, size_t *vlen)
{
    if (!val || !vlen)
        return -EINVAL;
    *val = NULL;
    *vlen = 0;
    struct copy_out out = {0};
    int rc = xtio_store_get_with(store, key, klen, copy_value, &out);
    if (rc == 0) {
        *val = out.val;
        *vlen = out.vlen;
    }
    return rc;
}

int xtio_store_get_with(xtio_store *store, const void *key, size_t klen, xtio_store_value_fn fn,
                        void *arg)
{
    if (!store || bad_bytes(key, klen) || !fn)
        return -EINVAL;
    pthread_rwlock_rdlock(&store->lock);
    struct node *n = find(store, key, klen, NULL);
    int rc = -ENOENT;
    if (n && node_cmp(n, key, klen) == 0)
        rc = fn(arg, node_val(n), n->vlen);
    pthread_rwlock_unlock(&store->lock);
    return rc;
}

int xtio_store_del(xtio_store *store, const void *key, size_t klen)
{
    if (!store || bad_bytes(key, klen))
        return -EINVAL;
    struct node *update[MAX_LEVEL];
    pthread_rwlock_wrlock(&store->lock);
    struct node *n = find(store, key, klen, update);
    if (n && node_cmp(n, key, klen) == 0) {
        unlink_node(store, n, update);
        shrink_levels(store);
    } else {
        n = NULL;
    }
    pthread_rwlock_unlock(&store->lock);
    int deleted = n ? 1 : 0;
    free(n);
    return deleted;
}

int xtio_store_exists(xtio_store *store, const void *key, size_t klen)
{
    if (!store || bad_bytes(key, klen))
        return -EINVAL;
    pthread_rwlock_rdlock(&store->lock);
    struct node *n = find(store, key, klen, NULL);
    int found = n && node_cmp(n, key, klen) == 0;
    pthread_rwlock_unlock(&store->lock);
    return found;
}

size_t xtio_store_count(xtio_store *store)
{
    if (!store)
        return 0;
    pthread_rwlock_rdlock(&store->lock);
    size_t count = store->count;
    pthread_rwlock_unlock(&store->lock);
    return count;
}

size_t xtio_store_bytes(xtio_store *store)
{
    if (!store)
        return 0;
    pthread_rwlock_rdlock(&store->lock);
    size_t bytes = store->bytes;
    pthread_rwlock_unlock(&store->lock);
    return bytes;
}

size_t xtio_store_flush(xtio_store *store)
{
    if (!store)
        return 0;
    pthread_rwlock_wrlock(&store->lock);
    struct node *chain = store->head->next[0];
    size_t count = store->count;
    for (int i = 0; i < MAX_LEVEL; i++)
        store->head->next[i] = NULL;
    store->level = 1;
    store->count = 0;
    store->bytes = 0;
    pthread_rwlock_unlock(&store->lock);
    free_chain(chain);
    return count;
}

/* Decimal digits of n into buf (at least 20 bytes); snprintf costs more than the insert at 1M. */
static size_t format_u64(char *buf, uint64_t n)
{
    char tmp[20];
    size_t len = 0;
    do {
        tmp[len++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    for (size_t i = 0; i < len; i++)
        buf[i] = tmp[len - 1 - i];
    return len;
}

static struct node *populate_node(xtio_store *store, uint64_t num, const void *prefix, size_t plen,
                                  size_t value_size)
{
    char digits[20];
    size_t dlen = format_u64(digits, num);
    size_t klen = plen + 1 + dlen;
    char value[26] = "value:";
    size_t natural = 6 + format_u64(value + 6, num);
    size_t vlen = value_size ? value_size : natural;

    struct node *n = node_alloc(store, klen, vlen);
    if (!n)
        return NULL;
    unsigned char *k = node_key(n);
    if (plen)
        memcpy(k, prefix, plen);
    k[plen] = ':';
    memcpy(k + plen + 1, digits, dlen);
    unsigned char *v = node_val(n);
    size_t copy = natural < vlen ? natural : vlen;
    memcpy(v, value, copy);
    if (vlen > copy)
        memset(v + copy, 0, vlen - copy);
    return n;
}

int64_t xtio_store_populate(xtio_store *store, size_t count, const void *prefix, size_t plen,
                            size_t value_size)
{
    if (!store || bad_bytes(prefix, plen))
        return -EINVAL;
    if (!prefix) {
        prefix = "key";
        plen = 3;
    }
    struct node *batch[POPULATE_BATCH];
    struct node *update[MAX_LEVEL];
    int64_t added = 0;
    for (size_t base = 0; base < count; base += POPULATE_BATCH) {
        size_t n = count - base < POPULATE_BATCH ? count - base : POPULATE_BATCH;
        for (size_t i = 0; i < n; i++) {
            batch[i] = populate_node(store, base + i, prefix, plen, value_size);
            if (!batch[i]) {
                for (size_t j = 0; j < i; j++)
                    free(batch[j]);
                return -ENOMEM;
            }
        }
        pthread_rwlock_wrlock(&store->lock);
        for (size_t i = 0; i < n; i++) {
            struct node *x = batch[i];
            struct node *found = find(store, node_key(x), x->klen, update);
            if (found && node_cmp(found, node_key(x), x->klen) == 0)
                continue; /* Redis leaves existing keys alone */
            link_node(store, x, update);
            batch[i] = NULL;
            added++;
        }
        pthread_rwlock_unlock(&store->lock);
        for (size_t i = 0; i < n; i++)
            free(batch[i]);
    }
    return added;
}

/* ---- Scans ----------------------------------------------------------------------------- */

void xtio_store_batch_init(struct xtio_store_batch *batch)
{
    if (batch)
        memset(batch, 0, sizeof(*batch));
}

void xtio_store_batch_fini(struct xtio_store_batch *batch)
{
    if (!batch)
        return;
    free(batch->pairs);
    free(batch->arena);
    memset(batch, 0, sizeof(*batch));
}

static int reserve(void **buf, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 64;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / elem)
            return -ENOMEM;
        ncap *= 2;
    }
    void *p = realloc(*buf, ncap * elem);
    if (!p)
        return -ENOMEM;
    *buf = p;
    *cap = ncap;
    return 0;
}

static int dup_bytes(unsigned char **out, const void *p, size_t len)
{
    *out = malloc(len ? len : 1); /* non-NULL even when empty: NULL means "no bound" */
    if (!*out)
        return -ENOMEM;
    if (len)
        memcpy(*out, p, len);
    return 0;
}

int xtio_store_scan_init(struct xtio_store_scan *scan, const void *start, size_t start_len,
                         const void *end, size_t end_len, size_t limit)
{
    if (!scan)
        return -EINVAL;
    memset(scan, 0, sizeof(*scan));
    if ((!start && start_len) || (!end && end_len))
        return -EINVAL;
    if (start && dup_bytes(&scan->start, start, start_len) != 0)
        return -ENOMEM;
    scan->start_len = start_len;
    if (end && dup_bytes(&scan->end, end, end_len) != 0) {
        xtio_store_scan_fini(scan);
        return -ENOMEM;
    }
    scan->end_len = end_len;
    scan->limit = limit;
    if (start && end && keycmp(start, start_len, end, end_len) > 0)
        scan->done = true;
    return 0;
}

int xtio_store_scan_init_keys(struct xtio_store_scan *scan, const char *pattern)
{
    int rc = xtio_store_scan_init(scan, NULL, 0, NULL, 0, 0);
    if (rc != 0)
        return rc;
    scan->keys_only = true;
    if (!pattern || strcmp(pattern, "*") == 0)
        return 0;
    scan->pattern = strdup(pattern);
    if (!scan->pattern)
        return -ENOMEM;
    /* Ordinary characters before the first special one match only themselves (no flags), so
     * every matching key starts with them: seek there and stop past them instead of walking
     * the whole store. */
    size_t plen = strcspn(pattern, "*?[\\");
    if (plen > 0) {
        if (dup_bytes(&scan->start, pattern, plen) != 0) {
            xtio_store_scan_fini(scan);
            return -ENOMEM;
        }
        scan->start_len = plen;
        scan->start_is_prefix = true;
    }
    return 0;
}

void xtio_store_scan_fini(struct xtio_store_scan *scan)
{
    if (!scan)
        return;
    free(scan->start);
    free(scan->end);
    free(scan->pattern);
    free(scan->last);
    free(scan->scratch);
    memset(scan, 0, sizeof(*scan));
    scan->done = true;
}

bool xtio_store_scan_done(const struct xtio_store_scan *scan)
{
    return !scan || scan->done;
}

/* Read lock held. 1 on a match, 0 on none, -ENOMEM. */
static int key_matches(struct xtio_store_scan *scan, struct node *n)
{
    if (!scan->pattern)
        return 1;
    if (memchr(node_key(n), '\0', n->klen))
        return 0; /* fnmatch() would only see the part before the NUL */
    if (reserve((void **)&scan->scratch, &scan->scratch_cap, n->klen + 1, 1) != 0)
        return -ENOMEM;
    memcpy(scan->scratch, node_key(n), n->klen);
    scan->scratch[n->klen] = '\0';
    return fnmatch(scan->pattern, scan->scratch, 0) == 0;
}

/* Read lock held: true when n, and so every later node, is past the scan's range. */
static bool past_range(const struct xtio_store_scan *scan, struct node *n)
{
    if (scan->end && node_cmp(n, scan->end, scan->end_len) > 0)
        return true;
    if (scan->start_is_prefix &&
        (n->klen < scan->start_len || memcmp(node_key(n), scan->start, scan->start_len) != 0))
        return true; /* n >= the prefix but does not start with it: beyond all that do */
    return false;
}

/* Read lock held: appends n to the batch. */
static int batch_add(struct xtio_store_batch *batch, struct node *n, bool keys_only)
{
    size_t vlen = keys_only ? 0 : n->vlen;
    size_t need = batch->arena_used + n->klen + vlen;
    if (reserve((void **)&batch->pairs, &batch->pairs_cap, batch->count + 1,
                sizeof(*batch->pairs)) != 0 ||
        reserve((void **)&batch->arena, &batch->arena_cap, need, 1) != 0)
        return -ENOMEM;
    memcpy(batch->arena + batch->arena_used, node_key(n), n->klen);
    memcpy(batch->arena + batch->arena_used + n->klen, node_val(n), vlen);
    batch->arena_used += n->klen + vlen;
    /* Pointers are set once the arena has stopped moving (fix_pointers). */
    batch->pairs[batch->count++] = (struct xtio_store_pair){
        .klen = n->klen,
        .vlen = vlen,
    };
    return 0;
}

static void fix_pointers(struct xtio_store_batch *batch, bool keys_only)
{
    size_t off = 0;
    for (size_t i = 0; i < batch->count; i++) {
        struct xtio_store_pair *p = &batch->pairs[i];
        p->key = batch->arena + off;
        off += p->klen;
        p->val = keys_only ? NULL : batch->arena + off;
        off += p->vlen;
    }
}

/* One read-lock hold of a scan. With a batch, copies the matching pairs into it within
 * max_pairs/max_bytes; without one (counting), only counts them in *found. Either way the walk
 * stops after SCAN_VISIT_BUDGET keys when it may visit keys it does not return, so no call holds
 * the lock for a whole large range. On an error the scan is left where it stood. */
static int scan_step(xtio_store *store, struct xtio_store_scan *scan,
                     struct xtio_store_batch *batch, size_t max_pairs, size_t max_bytes,
                     size_t *found)
{
    int rc = 0;
    size_t emitted = scan->emitted;
    size_t matched = 0;
    bool done = false;
    size_t visited = 0;
    bool budgeted = scan->pattern || !batch;
    struct node *last = NULL; /* weak: last node consumed, valid while the lock is held */

    pthread_rwlock_rdlock(&store->lock);
    struct node *x;
    if (scan->resumed)
        x = seek(store, scan->last, scan->last_len, true);
    else if (scan->start)
        x = seek(store, scan->start, scan->start_len, false);
    else
        x = store->head->next[0];
    for (;;) {
        if (!x || past_range(scan, x)) {
            done = true;
            break;
        }
        int match = key_matches(scan, x);
        if (match < 0) {
            rc = match;
            break;
        }
        if (match) {
            if (batch) {
                size_t size = x->klen + (scan->keys_only ? 0 : x->vlen);
                if (matched >= max_pairs ||
                    (matched > 0 && max_bytes && batch->arena_used + size > max_bytes))
                    break; /* x is the first pair of the next batch */
                rc = batch_add(batch, x, scan->keys_only);
                if (rc != 0)
                    break;
            }
            matched++;
            emitted++;
        }
        last = x;
        x = x->next[0];
        if (scan->limit && emitted == scan->limit) {
            done = true;
            break;
        }
        if (++visited >= SCAN_VISIT_BUDGET && budgeted)
            break;
    }
    if (rc == 0 && last) {
        rc = reserve((void **)&scan->last, &scan->last_cap, last->klen ? last->klen : 1, 1);
        if (rc == 0) {
            memcpy(scan->last, node_key(last), last->klen);
            scan->last_len = last->klen;
            scan->resumed = true;
        }
    }
    pthread_rwlock_unlock(&store->lock);

    if (rc != 0)
        return rc;
    scan->emitted = emitted;
    scan->done = done;
    *found = matched;
    return 0;
}

int xtio_store_scan_next(xtio_store *store, struct xtio_store_scan *scan,
                         struct xtio_store_batch *batch, size_t max_pairs, size_t max_bytes)
{
    if (!store || !scan || !batch || max_pairs == 0)
        return -EINVAL;
    if (max_pairs > INT_MAX)
        max_pairs = INT_MAX; /* the count is returned as an int */
    batch->count = 0;
    batch->arena_used = 0;
    if (scan->done)
        return 0;
    /* Allocate outside the lock where the sizes are known in advance. */
    size_t pre = max_pairs < SCAN_PRERESERVE_PAIRS ? max_pairs : SCAN_PRERESERVE_PAIRS;
    if (reserve((void **)&batch->pairs, &batch->pairs_cap, pre, sizeof(*batch->pairs)) != 0 ||
        reserve((void **)&batch->arena, &batch->arena_cap, 1, 1) != 0)
        return -ENOMEM;

    size_t found = 0;
    int rc = scan_step(store, scan, batch, max_pairs, max_bytes, &found);
    if (rc != 0) {
        batch->count = 0;
        batch->arena_used = 0;
        return rc;
    }
    fix_pointers(batch, scan->keys_only);
    return (int)batch->count;
}

int64_t xtio_store_scan_count(xtio_store *store, const struct xtio_store_scan *scan)
{
    if (!store || !scan)
        return -EINVAL;
    if (scan->done)
        return 0;
    /* A private cursor: shares the bounds and pattern (read only), owns its resume point. */
    struct xtio_store_scan probe = *scan;
    probe.last = NULL;
    probe.last_cap = 0;
    probe.scratch = NULL;
    probe.scratch_cap = 0;
    int rc = 0;
    if (scan->resumed)
        rc = reserve((void **)&probe.last, &probe.last_cap, scan->last_len ? scan->last_len : 1, 1);
    if (rc == 0 && scan->resumed)
        memcpy(probe.last, scan->last, scan->last_len);
    int64_t total = 0;
    while (rc == 0 && !probe.done) {
        size_t found = 0;
        rc = scan_step(store, &probe, NULL, 0, 0, &found);
        total += (int64_t)found;
    }
    free(probe.last);
    free(probe.scratch);
    return rc != 0 ? rc : total;
}
