/*
 * libxtio-preload's tables: the program's event bases, the fds they watch (connections and
 * wake-ups, with conn_open and conn_close), and the records of its events and bufferevents.
 * Writers take one mutex; the libc write path only reads, with atomics.
 */
#include "preload.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- Bases ---------------------------------------------------------------------------------- */

static struct xtio__base *_Atomic bases;
static _Atomic uint32_t loops_made;

struct xtio__base *xtio__base_find(const struct event_base *base)
{
    if (!base)
        return NULL;
    for (struct xtio__base *b = atomic_load(&bases); b; b = atomic_load(&b->next))
        if (atomic_load_explicit(&b->base, memory_order_relaxed) == base)
            return b;
    return NULL;
}

struct xtio__base *xtio__base_get(struct event_base *base)
{
    if (!base)
        return NULL;
    struct xtio__base *b = xtio__base_find(base);
    if (b)
        return b;
    pthread_mutex_lock(&lock);
    b = xtio__base_find(base);
    if (!b && (b = calloc(1, sizeof(*b)))) {
        b->loop_id = 0x80000000u | (atomic_fetch_add(&loops_made, 1) + 1);
        atomic_store(&b->base, base);
        atomic_store(&b->next, atomic_load(&bases));
        atomic_store(&bases, b);
    }
    pthread_mutex_unlock(&lock);
    return b;
}

void xtio__base_forget(struct xtio__base *b)
{
    atomic_store(&b->base, NULL);
}

void xtio__bases_orphan(int32_t tid)
{
    for (struct xtio__base *b = atomic_load(&bases); b; b = atomic_load(&b->next)) {
        int32_t owner = tid;
        atomic_compare_exchange_strong(&b->owner, &owner, 0);
    }
}

/* A fork child inherits the lock as some parent thread held it, and no thread of the parent:
 * fork waits until no other thread holds it, and the child's bases have no loop thread yet. */
void xtio__tables_fork_prepare(void)
{
    pthread_mutex_lock(&lock);
}

void xtio__tables_fork_parent(void)
{
    pthread_mutex_unlock(&lock);
}

void xtio__tables_fork_child(void)
{
    pthread_mutex_unlock(&lock);
    for (struct xtio__base *b = atomic_load(&bases); b; b = atomic_load(&b->next))
        atomic_store(&b->owner, 0);
}

/* ---- Watched fds ---------------------------------------------------------------------------- */

static struct xtio__fdrec *_Atomic fd_free; /* pushed lock-free, popped under `lock` */
static _Atomic uint64_t conns_made;

static struct xtio__fdrec *fdrec_alloc(void)
{
    struct xtio__fdrec *rec = atomic_load(&fd_free);
    while (rec && !atomic_compare_exchange_weak(&fd_free, &rec, atomic_load(&rec->next_free)))
        ;
    if (!rec)
        rec = calloc(1, sizeof(*rec));
    return rec;
}

/* Signal-safe: only atomics. Readers that still hold `rec` see the new generation. */
static void fdrec_recycle(struct xtio__fdrec *rec)
{
    atomic_fetch_add(&rec->gen, 1);
    struct xtio__fdrec *head = atomic_load(&fd_free);
    do
        atomic_store(&rec->next_free, head);
    while (!atomic_compare_exchange_weak(&fd_free, &head, rec));
}

static void fdrec_retire(struct xtio__fdrec *rec)
{
    if (rec->kind == XTIO__FD_SOCKET) {
        int saved = errno;
        XTIO_PRE_TRACE(conn_close, rec->conn_id, xtio__owner(rec->base), 0, 0,
                       XTIO_SCHEMA_CLOSE_LOCAL, 0);
        errno = saved;
    }
    fdrec_recycle(rec);
}

static bool is_eventfd(int fd)
{
    char path[64], target[32];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, target, sizeof(target) - 1);
    if (n <= 0)
        return false;
    target[n] = '\0';
    return strcmp(target, "anon_inode:[eventfd]") == 0;
}

/* Which kind of watched fd `fd` is, and its inode; false for anything else (files, timers,
 * listening sockets, which are never written as connections). */
static bool classify(int fd, enum xtio__fd_kind *kind, uint64_t *ino)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return false;
    *ino = (uint64_t)st.st_ino;
    if (S_ISSOCK(st.st_mode)) {
        int listening = 0;
        socklen_t len = sizeof(listening);
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && listening)
            return false;
        *kind = XTIO__FD_SOCKET;
        return true;
    }
    if (S_ISFIFO(st.st_mode)) {
        *kind = XTIO__FD_FIFO;
        return true;
    }
    if (is_eventfd(fd)) {
        *kind = XTIO__FD_EVENTFD;
        return true;
    }
    return false;
}

struct xtio__fdrec *xtio__fd_watch(int fd, struct xtio__base *base, struct xtio__ev *wake)
{
    struct xtio__fdslot *slot = xtio__fd_slot(fd);
    enum xtio__fd_kind kind;
    uint64_t ino;
    if (!slot || !base)
        return NULL;
    /* The same fd watched again by the same base, as a program that re-arms its event on every
     * state change does: the close, dup2 and dup3 hooks empty the slot of a number that is
     * reused, so the record still names this file, and the system calls of classify() (about
     * 0.8 us a re-arm) are not needed. */
    struct xtio__fdrec *seen = atomic_load_explicit(&slot->rec, memory_order_acquire);
    uint32_t gen = seen ? atomic_load(&seen->gen) : 0;
    if (seen && seen->fd == fd && seen->base == base && atomic_load(&slot->rec) == seen &&
        atomic_load(&seen->gen) == gen) {
        if (wake)
            atomic_store(&seen->wake, wake);
        return seen;
    }
    int saved = errno;
    bool watchable = classify(fd, &kind, &ino);
    errno = saved;
    if (!watchable)
        return NULL;

    pthread_mutex_lock(&lock);
    struct xtio__fdrec *cur = atomic_load(&slot->rec);
    if (cur && cur->kind == kind && cur->ino == ino && cur->base == base) {
        /* The same connection watched again (memcached re-sets its event on every state). */
        if (wake)
            atomic_store(&cur->wake, wake);
        pthread_mutex_unlock(&lock);
        return cur;
    }
    struct xtio__fdrec *rec = fdrec_alloc();
    if (!rec) {
        pthread_mutex_unlock(&lock);
        return NULL;
    }
    rec->kind = kind;
    rec->fd = fd;
    rec->ino = ino;
    rec->base = base;
    rec->conn_id =
        kind == XTIO__FD_SOCKET ? (1ull << 63) | (atomic_fetch_add(&conns_made, 1) + 1) : 0;
    atomic_store(&rec->watch, 0);
    atomic_store(&rec->wake, wake);
    struct xtio__fdrec *old = atomic_exchange(&slot->rec, rec);
    pthread_mutex_unlock(&lock);

    /* A new socket on a watched fd number: the old connection ended without a close we saw. */
    if (old)
        fdrec_retire(old);
    if (kind == XTIO__FD_SOCKET)
        XTIO_PRE_TRACE(conn_open, rec->conn_id, base->loop_id, xtio__owner(base), fd);
    errno = saved;
    return rec;
}

void xtio__fd_drop(int fd, struct xtio__fdrec *rec)
{
    struct xtio__fdslot *slot = xtio__fd_slot(fd);
    if (slot && atomic_compare_exchange_strong(&slot->rec, &rec, NULL))
        fdrec_retire(rec);
}

void xtio__fd_gone(int fd)
{
    struct xtio__fdslot *slot = xtio__fd_slot(fd);
    if (!slot)
        return;
    atomic_store(&slot->pipe_ino, 0);
    struct xtio__fdrec *rec = atomic_exchange(&slot->rec, NULL);
    if (rec)
        fdrec_retire(rec);
}

/* ---- Events and bufferevents, by address ----------------------------------------------------- */

#define BUCKETS 4096

static struct xtio__ev *ev_buckets[BUCKETS];
static struct xtio__ev *ev_free;
static struct xtio__bev *bev_buckets[BUCKETS];

static size_t bucket(const void *p)
{
    uintptr_t x = (uintptr_t)p;
    return (size_t)((x >> 4) ^ (x >> 16)) % BUCKETS;
}

struct xtio__ev *xtio__ev_alloc(void)
{
    pthread_mutex_lock(&lock);
    struct xtio__ev *rec = ev_free;
    if (rec)
        ev_free = rec->hnext;
    pthread_mutex_unlock(&lock);
    /* Recycled, never freed: a stale pointer read from an event (event_get_callback_arg) still
     * points at an event record, whose `ev` then says whether it is current. */
    if (!rec && !(rec = calloc(1, sizeof(*rec))))
        return NULL;
    rec->ev = NULL;
    rec->hnext = NULL;
    atomic_store(&rec->base, NULL);
    atomic_store(&rec->fdrec, NULL);
    atomic_store(&rec->added, false);
    atomic_store(&rec->pending, 0);
    return rec;
}

void xtio__ev_insert(struct xtio__ev *rec)
{
    pthread_mutex_lock(&lock);
    struct xtio__ev **head = &ev_buckets[bucket(rec->ev)];
    rec->hnext = *head;
    *head = rec;
    pthread_mutex_unlock(&lock);
}

struct xtio__ev *xtio__ev_lookup(const struct event *ev)
{
    pthread_mutex_lock(&lock);
    struct xtio__ev *rec = ev_buckets[bucket(ev)];
    while (rec && rec->ev != ev)
        rec = rec->hnext;
    pthread_mutex_unlock(&lock);
    return rec;
}

void xtio__ev_release(struct xtio__ev *rec)
{
    pthread_mutex_lock(&lock);
    if (rec->ev) {
        struct xtio__ev **p = &ev_buckets[bucket(rec->ev)];
        while (*p && *p != rec)
            p = &(*p)->hnext;
        if (*p)
            *p = rec->hnext;
    }
    rec->ev = NULL;
    rec->hnext = ev_free;
    ev_free = rec;
    pthread_mutex_unlock(&lock);
}

void xtio__bev_insert(struct xtio__bev *rec)
{
    pthread_mutex_lock(&lock);
    struct xtio__bev **head = &bev_buckets[bucket(rec->bev)];
    rec->hnext = *head;
    *head = rec;
    pthread_mutex_unlock(&lock);
}

struct xtio__bev *xtio__bev_lookup(const struct bufferevent *bev)
{
    pthread_mutex_lock(&lock);
    struct xtio__bev *rec = bev_buckets[bucket(bev)];
    while (rec && rec->bev != bev)
        rec = rec->hnext;
    pthread_mutex_unlock(&lock);
    return rec;
}

struct xtio__bev *xtio__bev_remove(const struct bufferevent *bev)
{
    pthread_mutex_lock(&lock);
    struct xtio__bev **p = &bev_buckets[bucket(bev)];
    while (*p && (*p)->bev != bev)
        p = &(*p)->hnext;
    struct xtio__bev *rec = *p;
    if (rec)
        *p = rec->hnext;
    pthread_mutex_unlock(&lock);
    return rec;
}
