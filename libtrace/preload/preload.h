/*
 * libxtio-preload's internals, shared by its files: the real functions behind the hooks, the
 * per-thread state, the tables of bases, watched fds, events and bufferevents, and the emission of
 * `xtio` events. Nothing here is public: the library's only interface is the set of libevent and
 * libc functions it interposes (docs: issue 14; tracepoints/xtio_tp.h for the events).
 *
 * Which table a path may touch: the libc write path (write, send*, close, pipe, dup*) may run in
 * a signal handler, so it reads the fd table with atomics only (no mutex, no malloc, no stdio).
 * The libevent paths may take xtio__lock.
 */
#ifndef XTIO_PRELOAD_H
#define XTIO_PRELOAD_H

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "xtio_tp.h"

/* The hooks are the library's exported symbols; everything else is hidden. */
#define XTIO_HOOK __attribute__((visibility("default")))

/* ---- The real functions (init.c) ------------------------------------------------------------ */

/* One slot per interposed function, resolved with dlsym(RTLD_NEXT) at load time, or at first use
 * for a function of a libevent library the program loads later. */
struct xtio__real {
    _Atomic(void *) write, writev, send, sendto, sendmsg, close, pipe, pipe2, dup2, dup3;
    _Atomic(void *) event_base_new, event_base_new_with_config, event_base_free,
        event_base_free_nofinalize, event_base_loop, event_base_loopexit,
        evthread_make_base_notifiable;
    _Atomic(void *) event_new, event_assign, event_set, event_base_set, event_free, event_add,
        event_del, event_del_block, event_del_noblock, event_active, event_base_once,
        event_get_callback, event_get_callback_arg, event_get_assignment, event_get_base,
        event_self_cbarg;
    _Atomic(void *) bufferevent_socket_new, bufferevent_setfd, bufferevent_free, bufferevent_write,
        bufferevent_write_buffer, bufferevent_get_output, evbuffer_add, evbuffer_add_buffer,
        evbuffer_add_vprintf, evbuffer_prepend, evbuffer_add_reference, evbuffer_write_atmost,
        evbuffer_add_cb, evbuffer_remove_cb, evconnlistener_new, evconnlistener_new_bind;
    _Atomic(void *) evhttp_send_reply, evhttp_send_reply_start, evhttp_send_reply_chunk,
        evhttp_send_reply_end, evhttp_send_error;
    _Atomic(void *) pthread_setname_np;
    _Atomic(void *) sigaction;
};
extern struct xtio__real xtio__real;

void *xtio__resolve(_Atomic(void *) *slot, const char *name);

static inline void *xtio__real_get(_Atomic(void *) *slot, const char *name)
{
    void *fn = atomic_load_explicit(slot, memory_order_relaxed);
    return fn ? fn : xtio__resolve(slot, name);
}

/* The real `name`, typed as the interposed function. */
#define XTIO_REAL(name) ((__typeof__(&name))xtio__real_get(&xtio__real.name, #name))

/* True when the program runs a dynamic libevent 2.1: otherwise every hook only passes through. */
extern bool xtio__active;

/* ---- Per-thread state (init.c) -------------------------------------------------------------- */

struct xtio__fdrec;

struct xtio__tls {
    int32_t tid;         /* 0 until first needed (and in a fork child) */
    uint32_t events;     /* events this thread emitted, to name it again every so often */
    uint32_t names_seen; /* xtio__names_set when this thread last named itself */
    /* Hooked libevent calls in progress: inside one, the calls libevent makes itself (its notify
     * eventfd, its socket flush, its internal events) are not the program's. */
    unsigned depth;
    /* The outermost write-type call in progress (-1: none), its caller, and what the output
     * buffer callback counted for it, so that nested adds make one io_write. */
    int call;
    uint64_t site;
    uint64_t wconn_id;
    uint32_t wbytes;
    int32_t wowner;
    uint8_t wwatched;
};
extern _Thread_local struct xtio__tls xtio__tls __attribute__((tls_model("initial-exec")));

int32_t xtio__tid(void);
/* This thread now loops a base: when it exits, its bases are left without a loop thread. */
void xtio__loop_thread(void);

/* Runs a real libevent call as libevent's own work: the hooked calls nested in it are ignored. */
#define XTIO_INSIDE(expr)                                                                          \
    do {                                                                                           \
        xtio__tls.depth++;                                                                         \
        expr;                                                                                      \
        xtio__tls.depth--;                                                                         \
    } while (0)

/* ---- Emission (init.c) ---------------------------------------------------------------------- */

#define XTIO__THREAD_NAME_EVERY 65536u
void xtio__thread_name(void);
/* Bumped by every pthread_setname_np: a thread may be named after its first event (memcached
 * names each worker from the main thread once the worker runs), so each names itself again. */
extern _Atomic uint32_t xtio__names_set;

/* Emits one `xtio` event on this thread, naming the thread before its first one, and again when
 * a thread was renamed since. */
#define XTIO_PRE_TRACE(event, ...)                                                                 \
    do {                                                                                           \
        if (lttng_ust_tracepoint_enabled(xtio, event)) {                                           \
            if (xtio__tls.events++ % XTIO__THREAD_NAME_EVERY == 0 ||                               \
                xtio__tls.names_seen !=                                                            \
                    atomic_load_explicit(&xtio__names_set, memory_order_relaxed))                  \
                xtio__thread_name();                                                               \
            lttng_ust_do_tracepoint(xtio, event, __VA_ARGS__);                                     \
        }                                                                                          \
    } while (0)
#define XTIO_PRE_ENABLED(event) lttng_ust_tracepoint_enabled(xtio, event)

/* ---- Bases (tables.c) ----------------------------------------------------------------------- */

/* One event_base the program made. Never freed, so that a pointer read without the lock stays
 * valid; a freed base's record keeps its loop id and is no longer found by address. */
struct xtio__base {
    _Atomic(struct event_base *) base; /* NULL once freed */
    uint32_t loop_id;                  /* 0x80000000 | n: never one of libxtio's own */
    _Atomic int32_t owner; /* the thread in event_base_loop; 0 before, and after it exits */
    _Atomic bool looped;   /* some thread ran it: loop_stop when freed */
    struct xtio__base *_Atomic next;
};

struct xtio__base *xtio__base_find(const struct event_base *base);
struct xtio__base *xtio__base_get(struct event_base *base); /* finds or adds */
void xtio__base_forget(struct xtio__base *rec);
/* The thread `tid` exits: the bases it looped have no loop thread until another one runs them. */
void xtio__bases_orphan(int32_t tid);
/* pthread_atfork handlers of the tables. */
void xtio__tables_fork_prepare(void);
void xtio__tables_fork_parent(void);
void xtio__tables_fork_child(void);

static inline int32_t xtio__owner(const struct xtio__base *b)
{
    return b ? atomic_load_explicit(&b->owner, memory_order_relaxed) : 0;
}

/* ---- Watched fds (tables.c) ----------------------------------------------------------------- */

enum xtio__fd_kind {
    XTIO__FD_SOCKET,  /* a connection: io_write on writes */
    XTIO__FD_EVENTFD, /* a wake-up: loop_post on writes, loop_run when `wake` runs */
    XTIO__FD_FIFO,    /* a pipe's read end: the same, for writes to its write end */
};

struct xtio__ev;

/* What a base watches on one fd. Recycled after the fd closes, never freed: the libc write path
 * reads it without a lock and checks that the fd table still points to it afterwards. */
struct xtio__fdrec {
    enum xtio__fd_kind kind;
    int fd;
    uint64_t ino; /* st_ino: a reused fd number is a new record */
    struct xtio__base *base;
    uint64_t conn_id;                /* sockets: (1 << 63) | n */
    _Atomic int watch;               /* added events on the fd with EV_READ/EV_WRITE, + live bevs */
    _Atomic(struct xtio__ev *) wake; /* eventfd/fifo: the event whose run ends a post */
    _Atomic uint32_t gen;            /* bumped when recycled */
    struct xtio__fdrec *_Atomic next_free;
};

/* One slot per fd number, below xtio__fd_cap. */
struct xtio__fdslot {
    _Atomic(struct xtio__fdrec *) rec;
    _Atomic uint64_t pipe_ino; /* a pipe's write end: the pipe's inode, and its read end */
    _Atomic int pipe_peer;
};
extern struct xtio__fdslot *xtio__fds;
extern int xtio__fd_cap;

static inline struct xtio__fdslot *xtio__fd_slot(int fd)
{
    return (xtio__fds && fd >= 0 && fd < xtio__fd_cap) ? &xtio__fds[fd] : NULL;
}

/* Registers `fd` as watched by `base` (a socket: a connection, conn_open; an eventfd or a fifo:
 * a wake-up for `wake`). NULL when the fd is none of those. */
struct xtio__fdrec *xtio__fd_watch(int fd, struct xtio__base *base, struct xtio__ev *wake);
/* The fd is no longer watched through `rec`: conn_close for a connection (signal-safe). */
void xtio__fd_drop(int fd, struct xtio__fdrec *rec);
/* The fd number is gone (close, dup2 over it): forgets whatever it was (signal-safe). */
void xtio__fd_gone(int fd);

/* ---- Events (tables.c, event.c) ------------------------------------------------------------- */

/* One event the program assigned: its own callback and argument, which the trampoline calls. */
struct xtio__ev {
    struct event *ev;
    event_callback_fn cb;
    void *arg;
    struct xtio__base *_Atomic base;
    int fd;
    short events;
    struct xtio__fdrec *_Atomic fdrec; /* what it watches when added (NULL: nothing) */
    uint32_t fdgen;
    _Atomic bool added;
    _Atomic uint32_t pending; /* cross-thread posts since its last run */
    _Atomic int mech;         /* of the latest post */
    struct xtio__ev *hnext;   /* hash chain, or free list */
};

struct xtio__ev *xtio__ev_alloc(void);
void xtio__ev_insert(struct xtio__ev *rec); /* indexes rec->ev */
struct xtio__ev *xtio__ev_lookup(const struct event *ev);
void xtio__ev_release(struct xtio__ev *rec); /* removes it from the index and recycles it */

/* ---- Bufferevents (tables.c, bev.c) --------------------------------------------------------- */

struct xtio__bev {
    struct bufferevent *bev;
    struct evbuffer *out;
    struct xtio__base *base;
    _Atomic(struct xtio__fdrec *) fdrec;
    uint32_t fdgen;
    struct xtio__bev *hnext;
};

void xtio__bev_insert(struct xtio__bev *rec);
struct xtio__bev *xtio__bev_remove(const struct bufferevent *bev);
struct xtio__bev *xtio__bev_lookup(const struct bufferevent *bev);

/* ---- The watch count (event.c) -------------------------------------------------------------- */

void xtio__watch_add(struct xtio__fdrec *rec, uint32_t gen);
void xtio__watch_del(struct xtio__fdrec *rec, uint32_t gen);

#endif
