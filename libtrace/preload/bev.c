/*
 * libxtio-preload's hooks on bufferevents, evbuffers and evhttp replies: a socket bufferevent is a
 * connection, and whatever is added to its output buffer, by any thread, is a write to it.
 *
 * Bytes are counted by an evbuffer callback on each bufferevent's output buffer, not by hooking
 * each add function: libevent calls it synchronously on the thread that adds, for every way in
 * (evbuffer_add*, prepend, add_reference, commit_space, add_file, remove_buffer into it), so none
 * is missed. The hooks on the common entry points only say which outermost call the bytes belong
 * to and where it was called from, so that evhttp_send_reply's half-dozen adds make one io_write.
 */
#include "preload.h"

#include <errno.h>
#include <event2/http.h>
#include <stdarg.h>
#include <stdlib.h>

/* ---- One io_write per outermost call -------------------------------------------------------- */

static bool write_begin(int call, void *site)
{
    struct xtio__tls *t = &xtio__tls;
    if (t->depth++ != 0)
        return false;
    t->call = call;
    t->site = (uint64_t)(uintptr_t)site;
    t->wbytes = 0;
    return true;
}

static void write_end(bool outer)
{
    struct xtio__tls *t = &xtio__tls;
    t->depth--;
    if (!outer)
        return;
    int call = t->call;
    t->call = -1;
    if (t->wbytes) {
        int saved = errno;
        XTIO_PRE_TRACE(io_write, t->wconn_id, t->wbytes, t->wowner, t->wwatched, call, t->site);
        errno = saved;
    }
}

static void outbuf_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    (void)buf;
    struct xtio__bev *b = arg;
    if (!info->n_added || !XTIO_PRE_ENABLED(io_write))
        return;
    struct xtio__fdrec *rec = atomic_load(&b->fdrec);
    if (!rec)
        return; /* no socket yet (fd -1 until bufferevent_setfd) */
    struct xtio__tls *t = &xtio__tls;
    uint32_t bytes = info->n_added > UINT32_MAX ? UINT32_MAX : (uint32_t)info->n_added;
    int32_t owner = xtio__owner(rec->base);
    /* A bufferevent's socket is watched by its loop for as long as the bufferevent lives. */
    uint8_t watched = atomic_load(&rec->watch) > 0;
    if (t->call >= 0) {
        if (!t->wbytes) {
            t->wconn_id = rec->conn_id;
            t->wowner = owner;
            t->wwatched = watched;
        }
        if (t->wconn_id == rec->conn_id) {
            t->wbytes += bytes;
            return;
        }
    }
    /* An add outside the hooked entry points: its own write, its caller unknown at top level. */
    int saved = errno;
    XTIO_PRE_TRACE(io_write, rec->conn_id, bytes, owner, watched, XTIO_SCHEMA_CALL_EVBUFFER_ADD,
                   t->depth ? t->site : 0);
    errno = saved;
}

/* ---- Bufferevents as connections ------------------------------------------------------------ */

static void attach(struct xtio__bev *b, evutil_socket_t fd)
{
    if (fd < 0)
        return;
    struct xtio__fdrec *rec = xtio__fd_watch(fd, b->base, NULL);
    if (!rec || rec->kind != XTIO__FD_SOCKET)
        return;
    b->fdgen = atomic_load(&rec->gen);
    xtio__watch_add(rec, b->fdgen);
    atomic_store(&b->fdrec, rec);
}

/* The bufferevent lets its socket go: the connection closes. */
static void detach(struct xtio__bev *b)
{
    struct xtio__fdrec *rec = atomic_exchange(&b->fdrec, NULL);
    if (!rec)
        return;
    xtio__watch_del(rec, b->fdgen);
    if (atomic_load(&rec->gen) == b->fdgen)
        xtio__fd_drop(rec->fd, rec);
}

XTIO_HOOK struct bufferevent *bufferevent_socket_new(struct event_base *base, evutil_socket_t fd,
                                                     int options)
{
    struct bufferevent *bev;
    XTIO_INSIDE(bev = XTIO_REAL(bufferevent_socket_new)(base, fd, options));
    struct xtio__bev *b;
    if (!bev || !xtio__active || !(b = calloc(1, sizeof(*b))))
        return bev;
    int saved = errno;
    b->bev = bev;
    b->base = xtio__base_get(base);
    XTIO_INSIDE(b->out = XTIO_REAL(bufferevent_get_output)(bev));
    xtio__bev_insert(b);
    XTIO_INSIDE(XTIO_REAL(evbuffer_add_cb)(b->out, outbuf_cb, b));
    attach(b, fd);
    errno = saved;
    return bev;
}

XTIO_HOOK int bufferevent_setfd(struct bufferevent *bev, evutil_socket_t fd)
{
    int r;
    XTIO_INSIDE(r = XTIO_REAL(bufferevent_setfd)(bev, fd));
    struct xtio__bev *b;
    if (r != 0 || !xtio__active || !(b = xtio__bev_lookup(bev)))
        return r;
    struct xtio__fdrec *cur = atomic_load(&b->fdrec);
    if (cur && cur->fd == fd)
        return r;
    int saved = errno;
    detach(b);
    attach(b, fd);
    errno = saved;
    return r;
}

XTIO_HOOK void bufferevent_free(struct bufferevent *bev)
{
    struct xtio__bev *b = xtio__active ? xtio__bev_remove(bev) : NULL;
    if (b) {
        /* Once removed (under the buffer's lock), the callback runs no more: b can go. */
        XTIO_INSIDE(XTIO_REAL(evbuffer_remove_cb)(b->out, outbuf_cb, b));
        detach(b);
        free(b);
    }
    XTIO_INSIDE(XTIO_REAL(bufferevent_free)(bev));
}

/* ---- Write entry points --------------------------------------------------------------------- */

XTIO_HOOK int bufferevent_write(struct bufferevent *bev, const void *data, size_t size)
{
    bool outer = write_begin(XTIO_SCHEMA_CALL_BUFFEREVENT_WRITE, __builtin_return_address(0));
    int r = XTIO_REAL(bufferevent_write)(bev, data, size);
    write_end(outer);
    return r;
}

XTIO_HOOK int bufferevent_write_buffer(struct bufferevent *bev, struct evbuffer *buf)
{
    bool outer = write_begin(XTIO_SCHEMA_CALL_BUFFEREVENT_WRITE, __builtin_return_address(0));
    int r = XTIO_REAL(bufferevent_write_buffer)(bev, buf);
    write_end(outer);
    return r;
}

XTIO_HOOK int evbuffer_add(struct evbuffer *buf, const void *data, size_t len)
{
    bool outer = write_begin(XTIO_SCHEMA_CALL_EVBUFFER_ADD, __builtin_return_address(0));
    int r = XTIO_REAL(evbuffer_add)(buf, data, len);
    write_end(outer);
    return r;
}

XTIO_HOOK int evbuffer_add_buffer(struct evbuffer *out, struct evbuffer *in)
{
    bool outer = write_begin(XTIO_SCHEMA_CALL_EVBUFFER_ADD, __builtin_return_address(0));
    int r = XTIO_REAL(evbuffer_add_buffer)(out, in);
    write_end(outer);
    return r;
}

XTIO_HOOK int evbuffer_add_vprintf(struct evbuffer *buf, const char *fmt, va_list ap)
{
    bool outer = write_begin(XTIO_SCHEMA_CALL_EVBUFFER_ADD, __builtin_return_address(0));
    int r = XTIO_REAL(evbuffer_add_vprintf)(buf, fmt, ap);
    write_end(outer);
    return r;
}

/* libevent's own evbuffer_add_printf is va_start + evbuffer_add_vprintf: the same here. */
XTIO_HOOK int evbuffer_add_printf(struct evbuffer *buf, const char *fmt, ...)
{
    bool outer = write_begin(XTIO_SCHEMA_CALL_EVBUFFER_ADD, __builtin_return_address(0));
    va_list ap;
    va_start(ap, fmt);
    int r = XTIO_REAL(evbuffer_add_vprintf)(buf, fmt, ap);
    va_end(ap);
    write_end(outer);
    return r;
}

XTIO_HOOK int evbuffer_prepend(struct evbuffer *buf, const void *data, size_t size)
{
    bool outer = write_begin(XTIO_SCHEMA_CALL_EVBUFFER_ADD, __builtin_return_address(0));
    int r = XTIO_REAL(evbuffer_prepend)(buf, data, size);
    write_end(outer);
    return r;
}

XTIO_HOOK int evbuffer_add_reference(struct evbuffer *out, const void *data, size_t len,
                                     evbuffer_ref_cleanup_cb cleanupfn, void *cleanupfn_arg)
{
    bool outer = write_begin(XTIO_SCHEMA_CALL_EVBUFFER_ADD, __builtin_return_address(0));
    int r = XTIO_REAL(evbuffer_add_reference)(out, data, len, cleanupfn, cleanupfn_arg);
    write_end(outer);
    return r;
}

/* libevent's flush of a bufferevent's socket (from bufferevent_writecb): not the program's write,
 * so the libc writev inside it is ignored. */
XTIO_HOOK int evbuffer_write_atmost(struct evbuffer *buf, evutil_socket_t fd, ev_ssize_t howmuch)
{
    int r;
    XTIO_INSIDE(r = XTIO_REAL(evbuffer_write_atmost)(buf, fd, howmuch));
    return r;
}

XTIO_HOOK void evhttp_send_reply(struct evhttp_request *req, int code, const char *reason,
                                 struct evbuffer *databuf)
{
    bool outer = write_begin(XTIO_SCHEMA_CALL_EVHTTP_SEND, __builtin_return_address(0));
    XTIO_REAL(evhttp_send_reply)(req, code, reason, databuf);
    write_end(outer);
}

XTIO_HOOK void evhttp_send_reply_start(struct evhttp_request *req, int code, const char *reason)
{
    bool outer = write_begin(XTIO_SCHEMA_CALL_EVHTTP_SEND, __builtin_return_address(0));
    XTIO_REAL(evhttp_send_reply_start)(req, code, reason);
    write_end(outer);
}

XTIO_HOOK void evhttp_send_reply_chunk(struct evhttp_request *req, struct evbuffer *databuf)
{
    bool outer = write_begin(XTIO_SCHEMA_CALL_EVHTTP_SEND, __builtin_return_address(0));
    XTIO_REAL(evhttp_send_reply_chunk)(req, databuf);
    write_end(outer);
}

XTIO_HOOK void evhttp_send_reply_end(struct evhttp_request *req)
{
    bool outer = write_begin(XTIO_SCHEMA_CALL_EVHTTP_SEND, __builtin_return_address(0));
    XTIO_REAL(evhttp_send_reply_end)(req);
    write_end(outer);
}

XTIO_HOOK void evhttp_send_error(struct evhttp_request *req, int error, const char *reason)
{
    bool outer = write_begin(XTIO_SCHEMA_CALL_EVHTTP_SEND, __builtin_return_address(0));
    XTIO_REAL(evhttp_send_error)(req, error, reason);
    write_end(outer);
}
