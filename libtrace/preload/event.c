/*
 * libxtio-preload's hooks on libevent's bases and events: which thread loops each base
 * (loop_start, loop_stop), which fds its events watch (the fd table's watch count), and the
 * cross-thread handoffs event_active and event_base_once (loop_post on the producer, loop_run when
 * the callback begins, through a trampoline the program never sees).
 */
#include "preload.h"

#include <errno.h>
#include <event2/event_compat.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <stdlib.h>

/* Ids of event_base_once calls: a range apart from event addresses, the other tasks. */
static _Atomic uint64_t onces_made;

/* ---- The watch count ------------------------------------------------------------------------ */

void xtio__watch_add(struct xtio__fdrec *rec, uint32_t gen)
{
    if (rec && atomic_load(&rec->gen) == gen)
        atomic_fetch_add(&rec->watch, 1);
}

void xtio__watch_del(struct xtio__fdrec *rec, uint32_t gen)
{
    if (rec && atomic_load(&rec->gen) == gen)
        atomic_fetch_sub(&rec->watch, 1);
}

static void ev_watch(struct xtio__ev *rec)
{
    if (!atomic_exchange(&rec->added, true))
        xtio__watch_add(atomic_load(&rec->fdrec), rec->fdgen);
}

static void ev_unwatch(struct xtio__ev *rec)
{
    if (atomic_exchange(&rec->added, false))
        xtio__watch_del(atomic_load(&rec->fdrec), rec->fdgen);
}

/* ---- Trampolines ---------------------------------------------------------------------------- */

/* The program's callback runs as top-level program code, whatever libevent call it runs in. */
struct tls_frame {
    unsigned depth;
    int call;
    uint64_t site, wconn_id;
    uint32_t wbytes;
    int32_t wowner;
    uint8_t wwatched;
};

static struct tls_frame tls_enter_callback(void)
{
    struct xtio__tls *t = &xtio__tls;
    struct tls_frame f = {t->depth,  t->call,   t->site,    t->wconn_id,
                          t->wbytes, t->wowner, t->wwatched};
    t->depth = 0;
    t->call = -1;
    return f;
}

static void tls_leave_callback(struct tls_frame f)
{
    struct xtio__tls *t = &xtio__tls;
    t->depth = f.depth;
    t->call = f.call;
    t->site = f.site;
    t->wconn_id = f.wconn_id;
    t->wbytes = f.wbytes;
    t->wowner = f.wowner;
    t->wwatched = f.wwatched;
}

static void trampoline(evutil_socket_t fd, short what, void *arg)
{
    struct xtio__ev *rec = arg;
    /* libevent deleted a non-persistent event before calling back. */
    if (!(rec->events & EV_PERSIST))
        ev_unwatch(rec);
    if (atomic_exchange(&rec->pending, 0)) {
        struct xtio__base *b = atomic_load(&rec->base);
        XTIO_PRE_TRACE(loop_run, (uint64_t)(uintptr_t)rec->ev, b ? b->loop_id : 0,
                       atomic_load(&rec->mech));
    }
    event_callback_fn cb = rec->cb;
    void *cb_arg = rec->arg;
    struct tls_frame f = tls_enter_callback();
    cb(fd, what, cb_arg);
    tls_leave_callback(f);
}

struct once {
    event_callback_fn cb;
    void *arg;
    uint32_t loop_id;
    uint64_t task; /* 0: not posted from another thread */
};

static void once_trampoline(evutil_socket_t fd, short what, void *arg)
{
    struct once *o = arg;
    if (o->task)
        XTIO_PRE_TRACE(loop_run, o->task, o->loop_id, XTIO_SCHEMA_MECH_EVENT_BASE_ONCE);
    struct tls_frame f = tls_enter_callback();
    o->cb(fd, what, o->arg);
    tls_leave_callback(f);
    free(o);
}

/* The record of an event the shim wrapped; NULL for any other event (libevent's own, or one set
 * up before the shim knew). The event must be set up, as for any libevent call on it. */
static struct xtio__ev *ev_of(const struct event *ev)
{
    if (XTIO_REAL(event_get_callback)(ev) != trampoline)
        return NULL;
    struct xtio__ev *rec = XTIO_REAL(event_get_callback_arg)(ev);
    return rec && rec->ev == ev ? rec : NULL;
}

/* Whether the program's event would watch `fd` for I/O and so may be wrapped and registered. */
static bool wrappable(short events, event_callback_fn cb)
{
    return xtio__active && xtio__tls.depth == 0 && cb && !(events & EV_SIGNAL);
}

/* The event now belongs to `base`: its fd becomes a watched connection or wake-up. */
static void ev_bind(struct xtio__ev *rec, struct event_base *base)
{
    struct xtio__base *b = xtio__base_get(base);
    atomic_store(&rec->base, b);
    struct xtio__fdrec *fdrec = NULL;
    if (b && rec->fd >= 0 && (rec->events & (EV_READ | EV_WRITE)))
        fdrec = xtio__fd_watch(rec->fd, b, rec);
    rec->fdgen = fdrec ? atomic_load(&fdrec->gen) : 0;
    atomic_store(&rec->fdrec, fdrec);
}

static void ev_fill(struct xtio__ev *rec, struct event *ev, evutil_socket_t fd, short events,
                    event_callback_fn cb, void *arg)
{
    rec->ev = ev;
    rec->cb = cb;
    /* event_self_cbarg(): libevent would have given the event itself. */
    rec->arg = arg == XTIO_REAL(event_self_cbarg)() ? (void *)ev : arg;
    rec->fd = fd;
    rec->events = events;
}

/* A record for `ev` about to be (re)assigned: its old one if it had one, else a new one. */
static struct xtio__ev *ev_claim(struct event *ev)
{
    struct xtio__ev *rec = xtio__ev_lookup(ev);
    if (rec) {
        ev_unwatch(rec);
        atomic_store(&rec->pending, 0);
        return rec;
    }
    rec = xtio__ev_alloc();
    if (rec) {
        rec->ev = ev;
        xtio__ev_insert(rec);
    }
    return rec;
}

/* ---- Bases ---------------------------------------------------------------------------------- */

XTIO_HOOK struct event_base *event_base_new(void)
{
    struct event_base *base;
    XTIO_INSIDE(base = XTIO_REAL(event_base_new)());
    if (base && xtio__active)
        xtio__base_get(base);
    return base;
}

XTIO_HOOK struct event_base *event_base_new_with_config(const struct event_config *cfg)
{
    struct event_base *base;
    XTIO_INSIDE(base = XTIO_REAL(event_base_new_with_config)(cfg));
    if (base && xtio__active)
        xtio__base_get(base);
    return base;
}

static void base_gone(struct xtio__base *b)
{
    if (!b)
        return;
    if (atomic_load(&b->looped)) {
        int saved = errno;
        XTIO_PRE_TRACE(loop_stop, b->loop_id);
        errno = saved;
    }
    xtio__base_forget(b);
}

XTIO_HOOK void event_base_free(struct event_base *base)
{
    struct xtio__base *b = xtio__active ? xtio__base_find(base) : NULL;
    XTIO_INSIDE(XTIO_REAL(event_base_free)(base));
    base_gone(b);
}

XTIO_HOOK void event_base_free_nofinalize(struct event_base *base)
{
    struct xtio__base *b = xtio__active ? xtio__base_find(base) : NULL;
    XTIO_INSIDE(XTIO_REAL(event_base_free_nofinalize)(base));
    base_gone(b);
}

/* Not a nesting call: the program's callbacks run inside it. memcached's main thread loops with
 * EVLOOP_ONCE in a while loop: one loop, so loop_start only when the loop thread changes. */
XTIO_HOOK int event_base_loop(struct event_base *base, int flags)
{
    if (xtio__active && base) {
        struct xtio__base *b = xtio__base_get(base);
        int32_t self = xtio__tid();
        if (b && atomic_load_explicit(&b->owner, memory_order_relaxed) != self) {
            atomic_store(&b->owner, self);
            atomic_store(&b->looped, true);
            xtio__loop_thread();
            XTIO_PRE_TRACE(loop_start, b->loop_id);
        }
    }
    return XTIO_REAL(event_base_loop)(base, flags);
}

/* Uses event_base_once itself: libevent's exit timer is no handoff of the program. */
XTIO_HOOK int event_base_loopexit(struct event_base *base, const struct timeval *tv)
{
    int r;
    XTIO_INSIDE(r = XTIO_REAL(event_base_loopexit)(base, tv));
    return r;
}

/* libevent's own notify eventfd or pipe, and its event, are not the program's. */
XTIO_HOOK int evthread_make_base_notifiable(struct event_base *base)
{
    int r;
    XTIO_INSIDE(r = XTIO_REAL(evthread_make_base_notifiable)(base));
    return r;
}

/* A listener's socket and event are libevent's: never a connection. */
XTIO_HOOK struct evconnlistener *evconnlistener_new(struct event_base *base, evconnlistener_cb cb,
                                                    void *ptr, unsigned flags, int backlog,
                                                    evutil_socket_t fd)
{
    struct evconnlistener *l;
    XTIO_INSIDE(l = XTIO_REAL(evconnlistener_new)(base, cb, ptr, flags, backlog, fd));
    return l;
}

XTIO_HOOK struct evconnlistener *evconnlistener_new_bind(struct event_base *base,
                                                         evconnlistener_cb cb, void *ptr,
                                                         unsigned flags, int backlog,
                                                         const struct sockaddr *sa, int socklen)
{
    struct evconnlistener *l;
    XTIO_INSIDE(l = XTIO_REAL(evconnlistener_new_bind)(base, cb, ptr, flags, backlog, sa, socklen));
    return l;
}

/* ---- Events: set-up ------------------------------------------------------------------------- */

XTIO_HOOK struct event *event_new(struct event_base *base, evutil_socket_t fd, short events,
                                  event_callback_fn cb, void *arg)
{
    struct xtio__ev *rec = wrappable(events, cb) ? xtio__ev_alloc() : NULL;
    struct event *ev;
    if (!rec) {
        XTIO_INSIDE(ev = XTIO_REAL(event_new)(base, fd, events, cb, arg));
        return ev;
    }
    XTIO_INSIDE(ev = XTIO_REAL(event_new)(base, fd, events, trampoline, rec));
    if (!ev) {
        int saved = errno;
        xtio__ev_release(rec);
        errno = saved;
        return NULL;
    }
    ev_fill(rec, ev, fd, events, cb, arg);
    xtio__ev_insert(rec);
    ev_bind(rec, base ? base : XTIO_REAL(event_get_base)(ev));
    return ev;
}

XTIO_HOOK int event_assign(struct event *ev, struct event_base *base, evutil_socket_t fd,
                           short events, event_callback_fn cb, void *arg)
{
    struct xtio__ev *rec = wrappable(events, cb) ? ev_claim(ev) : NULL;
    int r;
    if (!rec) {
        XTIO_INSIDE(r = XTIO_REAL(event_assign)(ev, base, fd, events, cb, arg));
        return r;
    }
    ev_fill(rec, ev, fd, events, cb, arg);
    XTIO_INSIDE(r = XTIO_REAL(event_assign)(ev, base, fd, events, trampoline, rec));
    if (r == 0)
        ev_bind(rec, base ? base : XTIO_REAL(event_get_base)(ev));
    return r;
}

/* The deprecated pair memcached uses: event_set, then event_base_set names the base. */
XTIO_HOOK void event_set(struct event *ev, evutil_socket_t fd, short events, event_callback_fn cb,
                         void *arg)
{
    struct xtio__ev *rec = wrappable(events, cb) ? ev_claim(ev) : NULL;
    if (!rec) {
        XTIO_INSIDE(XTIO_REAL(event_set)(ev, fd, events, cb, arg));
        return;
    }
    ev_fill(rec, ev, fd, events, cb, arg);
    XTIO_INSIDE(XTIO_REAL(event_set)(ev, fd, events, trampoline, rec));
    struct event_base *base = XTIO_REAL(event_get_base)(ev); /* event_init()'s global base */
    atomic_store(&rec->fdrec, NULL);
    if (base)
        ev_bind(rec, base);
}

XTIO_HOOK int event_base_set(struct event_base *base, struct event *ev)
{
    int r;
    XTIO_INSIDE(r = XTIO_REAL(event_base_set)(base, ev));
    struct xtio__ev *rec;
    if (r == 0 && xtio__active && xtio__tls.depth == 0 && (rec = ev_of(ev)))
        ev_bind(rec, base);
    return r;
}

XTIO_HOOK void event_free(struct event *ev)
{
    struct xtio__ev *rec = xtio__active && ev ? ev_of(ev) : NULL;
    XTIO_INSIDE(XTIO_REAL(event_free)(ev));
    if (rec) {
        ev_unwatch(rec);
        struct xtio__fdrec *fdrec = atomic_load(&rec->fdrec);
        struct xtio__ev *self = rec;
        if (fdrec)
            atomic_compare_exchange_strong(&fdrec->wake, &self, NULL);
        xtio__ev_release(rec);
    }
}

/* ---- Events: watching ----------------------------------------------------------------------- */

XTIO_HOOK int event_add(struct event *ev, const struct timeval *tv)
{
    int r;
    bool outer = xtio__tls.depth == 0;
    XTIO_INSIDE(r = XTIO_REAL(event_add)(ev, tv));
    struct xtio__ev *rec;
    if (r == 0 && outer && xtio__active && (rec = ev_of(ev)))
        ev_watch(rec);
    return r;
}

/* Marked after the real call: until event_del returns, the loop still watches the socket. */
static int del(int (*real)(struct event *), struct event *ev)
{
    int r;
    bool outer = xtio__tls.depth == 0;
    XTIO_INSIDE(r = real(ev));
    struct xtio__ev *rec;
    if (r == 0 && outer && xtio__active && (rec = ev_of(ev))) {
        int saved = errno;
        ev_unwatch(rec);
        errno = saved;
    }
    return r;
}

XTIO_HOOK int event_del(struct event *ev)
{
    return del(XTIO_REAL(event_del), ev);
}

XTIO_HOOK int event_del_block(struct event *ev)
{
    return del(XTIO_REAL(event_del_block), ev);
}

XTIO_HOOK int event_del_noblock(struct event *ev)
{
    return del(XTIO_REAL(event_del_noblock), ev);
}

/* ---- Events: handoffs ----------------------------------------------------------------------- */

XTIO_HOOK void event_active(struct event *ev, int res, short ncalls)
{
    uint64_t site = (uint64_t)(uintptr_t)__builtin_return_address(0);
    struct xtio__ev *rec;
    if (xtio__active && xtio__tls.depth == 0 && XTIO_PRE_ENABLED(loop_post) && (rec = ev_of(ev))) {
        struct xtio__base *b = atomic_load(&rec->base);
        int32_t owner = xtio__owner(b);
        /* Counted before the real call, whose wake-up may run the callback at once; every
         * coalesced post is counted against the one run. */
        if (owner && owner != xtio__tid()) {
            atomic_store(&rec->mech, XTIO_SCHEMA_MECH_EVENT_ACTIVE);
            atomic_fetch_add(&rec->pending, 1);
            XTIO_PRE_TRACE(loop_post, (uint64_t)(uintptr_t)ev, b->loop_id,
                           XTIO_SCHEMA_MECH_EVENT_ACTIVE, site);
        }
    }
    XTIO_INSIDE(XTIO_REAL(event_active)(ev, res, ncalls));
}

XTIO_HOOK int event_base_once(struct event_base *base, evutil_socket_t fd, short events,
                              event_callback_fn cb, void *arg, const struct timeval *tv)
{
    uint64_t site = (uint64_t)(uintptr_t)__builtin_return_address(0);
    struct once *o = wrappable(events, cb) && base ? malloc(sizeof(*o)) : NULL;
    int r;
    if (!o) {
        XTIO_INSIDE(r = XTIO_REAL(event_base_once)(base, fd, events, cb, arg, tv));
        return r;
    }
    struct xtio__base *b = xtio__base_get(base);
    int32_t owner = xtio__owner(b);
    *o = (struct once){cb, arg, b ? b->loop_id : 0, 0};
    if (owner && owner != xtio__tid() && XTIO_PRE_ENABLED(loop_post)) {
        o->task = (1ull << 62) | (atomic_fetch_add(&onces_made, 1) + 1);
        XTIO_PRE_TRACE(loop_post, o->task, o->loop_id, XTIO_SCHEMA_MECH_EVENT_BASE_ONCE, site);
    }
    XTIO_INSIDE(r = XTIO_REAL(event_base_once)(base, fd, events, once_trampoline, o, tv));
    if (r != 0) {
        int saved = errno;
        free(o);
        errno = saved;
    }
    return r;
}

/* ---- Events: what the program reads back ---------------------------------------------------- */

XTIO_HOOK event_callback_fn event_get_callback(const struct event *ev)
{
    event_callback_fn cb = XTIO_REAL(event_get_callback)(ev);
    if (cb == trampoline) {
        struct xtio__ev *rec = XTIO_REAL(event_get_callback_arg)(ev);
        if (rec && rec->ev == ev)
            return rec->cb;
    }
    return cb;
}

XTIO_HOOK void *event_get_callback_arg(const struct event *ev)
{
    void *arg = XTIO_REAL(event_get_callback_arg)(ev);
    if (XTIO_REAL(event_get_callback)(ev) == trampoline) {
        struct xtio__ev *rec = arg;
        if (rec && rec->ev == ev)
            return rec->arg;
    }
    return arg;
}

XTIO_HOOK void event_get_assignment(const struct event *ev, struct event_base **base_out,
                                    evutil_socket_t *fd_out, short *events_out,
                                    event_callback_fn *callback_out, void **arg_out)
{
    event_callback_fn cb;
    void *arg;
    XTIO_REAL(event_get_assignment)(ev, base_out, fd_out, events_out, &cb, &arg);
    if (cb == trampoline) {
        struct xtio__ev *rec = arg;
        if (rec && rec->ev == ev) {
            cb = rec->cb;
            arg = rec->arg;
        }
    }
    if (callback_out)
        *callback_out = cb;
    if (arg_out)
        *arg_out = arg;
}
