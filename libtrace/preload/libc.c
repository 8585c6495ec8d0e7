/*
 * libxtio-preload's hooks on libc: writes to a watched socket (io_write), writes to an eventfd or
 * a pipe that a loop watches (loop_post), and the calls that end or move an fd number (close,
 * dup2, dup3) or make a pipe whose ends must be matched (pipe, pipe2).
 *
 * Signal handlers call write and close: everything here is async-signal-safe (atomics, the
 * tracepoint, fstat), and errno is what the real call left.
 */
#include "preload.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* What a write to a connection is, read just before the real call. */
struct wctx {
    uint64_t conn_id;
    uint64_t site;
    int32_t owner;
    uint8_t watched;
};

/* A wake-up of the loop that watches `rec` with its event: a handoff when another thread wakes
 * it; the run is that event's callback. */
static void post(struct xtio__fdrec *rec, int mech, uint64_t site)
{
    struct xtio__ev *wake = atomic_load(&rec->wake);
    struct xtio__base *b = wake ? atomic_load(&wake->base) : NULL;
    int32_t owner = xtio__owner(b);
    struct event *ev = wake ? wake->ev : NULL;
    if (!ev || !owner || owner == xtio__tid() || !XTIO_PRE_ENABLED(loop_post))
        return;
    atomic_store(&wake->mech, mech);
    atomic_fetch_add(&wake->pending, 1);
    XTIO_PRE_TRACE(loop_post, (uint64_t)(uintptr_t)ev, b->loop_id, mech, site);
}

/* True for a write to a connection (then `c` is filled); posts a wake-up instead for an eventfd or
 * a watched pipe. libevent's own writes (its flushes, its notify fd) come at depth > 0. */
static bool before(int fd, struct wctx *c, void *site)
{
    if (xtio__tls.depth || !(XTIO_PRE_ENABLED(io_write) || XTIO_PRE_ENABLED(loop_post)))
        return false;
    struct xtio__fdslot *slot = xtio__fd_slot(fd);
    if (!slot)
        return false;
    int saved = errno;
    struct xtio__fdrec *rec = atomic_load_explicit(&slot->rec, memory_order_acquire);
    if (!rec) {
        /* A pipe's write end: matched to its read end by inode, in case the fd was reused. */
        uint64_t ino = atomic_load_explicit(&slot->pipe_ino, memory_order_relaxed);
        struct xtio__fdslot *peer = ino ? xtio__fd_slot(atomic_load(&slot->pipe_peer)) : NULL;
        struct xtio__fdrec *read_end = peer ? atomic_load(&peer->rec) : NULL;
        if (read_end && read_end->kind == XTIO__FD_FIFO && read_end->ino == ino)
            post(read_end, XTIO_SCHEMA_MECH_PIPE, (uint64_t)(uintptr_t)site);
        errno = saved;
        return false;
    }
    if (rec->kind == XTIO__FD_EVENTFD) {
        post(rec, XTIO_SCHEMA_MECH_EVENTFD, (uint64_t)(uintptr_t)site);
        errno = saved;
        return false;
    }
    if (rec->kind != XTIO__FD_SOCKET)
        return false;
    uint32_t gen = atomic_load(&rec->gen);
    c->conn_id = rec->conn_id;
    c->owner = xtio__owner(rec->base);
    c->watched = atomic_load(&rec->watch) > 0;
    c->site = (uint64_t)(uintptr_t)site;
    /* The record may have been recycled for another fd while it was read. */
    return atomic_load(&slot->rec) == rec && atomic_load(&rec->gen) == gen;
}

static void after(const struct wctx *c, ssize_t written, int call)
{
    if (written <= 0)
        return;
    int saved = errno;
    uint32_t bytes = (size_t)written > UINT32_MAX ? UINT32_MAX : (uint32_t)written;
    XTIO_PRE_TRACE(io_write, c->conn_id, bytes, c->owner, c->watched, call, c->site);
    errno = saved;
}

XTIO_HOOK ssize_t write(int fd, const void *buf, size_t count)
{
    ssize_t (*real)(int, const void *, size_t) = XTIO_REAL(write);
    struct wctx c;
    if (!before(fd, &c, __builtin_return_address(0)))
        return real(fd, buf, count);
    ssize_t r = real(fd, buf, count);
    after(&c, r, XTIO_SCHEMA_CALL_WRITE);
    return r;
}

XTIO_HOOK ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
    ssize_t (*real)(int, const struct iovec *, int) = XTIO_REAL(writev);
    struct wctx c;
    if (!before(fd, &c, __builtin_return_address(0)))
        return real(fd, iov, iovcnt);
    ssize_t r = real(fd, iov, iovcnt);
    after(&c, r, XTIO_SCHEMA_CALL_WRITEV);
    return r;
}

XTIO_HOOK ssize_t send(int fd, const void *buf, size_t len, int flags)
{
    ssize_t (*real)(int, const void *, size_t, int) = XTIO_REAL(send);
    struct wctx c;
    if (!before(fd, &c, __builtin_return_address(0)))
        return real(fd, buf, len, flags);
    ssize_t r = real(fd, buf, len, flags);
    after(&c, r, XTIO_SCHEMA_CALL_SEND);
    return r;
}

XTIO_HOOK ssize_t sendto(int fd, const void *buf, size_t len, int flags,
                         const struct sockaddr *dest, socklen_t dest_len)
{
    ssize_t (*real)(int, const void *, size_t, int, const struct sockaddr *, socklen_t) =
        XTIO_REAL(sendto);
    struct wctx c;
    if (!before(fd, &c, __builtin_return_address(0)))
        return real(fd, buf, len, flags, dest, dest_len);
    ssize_t r = real(fd, buf, len, flags, dest, dest_len);
    after(&c, r, XTIO_SCHEMA_CALL_SENDTO);
    return r;
}

XTIO_HOOK ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    ssize_t (*real)(int, const struct msghdr *, int) = XTIO_REAL(sendmsg);
    struct wctx c;
    if (!before(fd, &c, __builtin_return_address(0)))
        return real(fd, msg, flags);
    ssize_t r = real(fd, msg, flags);
    after(&c, r, XTIO_SCHEMA_CALL_SENDMSG);
    return r;
}

/* Forgotten before the real close: once it returns, another thread may reuse the number. */
XTIO_HOOK int close(int fd)
{
    int (*real)(int) = XTIO_REAL(close);
    struct xtio__fdslot *slot = xtio__fd_slot(fd);
    if (slot && (atomic_load_explicit(&slot->rec, memory_order_relaxed) ||
                 atomic_load_explicit(&slot->pipe_ino, memory_order_relaxed)))
        xtio__fd_gone(fd);
    return real(fd);
}

static void note_pipe(const int fds[2])
{
    struct xtio__fdslot *w = xtio__fd_slot(fds[1]);
    struct stat st;
    if (!w || !xtio__fd_slot(fds[0]))
        return;
    int saved = errno;
    if (fstat(fds[0], &st) == 0) {
        atomic_store(&w->pipe_peer, fds[0]);
        atomic_store(&w->pipe_ino, (uint64_t)st.st_ino);
    }
    errno = saved;
}

XTIO_HOOK int pipe(int fds[2])
{
    int r = XTIO_REAL(pipe)(fds);
    if (r == 0)
        note_pipe(fds);
    return r;
}

XTIO_HOOK int pipe2(int fds[2], int flags)
{
    int r = XTIO_REAL(pipe2)(fds, flags);
    if (r == 0)
        note_pipe(fds);
    return r;
}

/* `newfd` now names what `oldfd` names: whatever it was is gone; a pipe's write end stays one. */
static void note_dup(int oldfd, int newfd)
{
    struct xtio__fdslot *from = xtio__fd_slot(oldfd), *to = xtio__fd_slot(newfd);
    if (!to || oldfd == newfd)
        return;
    xtio__fd_gone(newfd);
    if (from && atomic_load(&from->pipe_ino)) {
        atomic_store(&to->pipe_peer, atomic_load(&from->pipe_peer));
        atomic_store(&to->pipe_ino, atomic_load(&from->pipe_ino));
    }
}

XTIO_HOOK int dup2(int oldfd, int newfd)
{
    int r = XTIO_REAL(dup2)(oldfd, newfd);
    if (r >= 0) {
        int saved = errno;
        note_dup(oldfd, newfd);
        errno = saved;
    }
    return r;
}

XTIO_HOOK int dup3(int oldfd, int newfd, int flags)
{
    int r = XTIO_REAL(dup3)(oldfd, newfd, flags);
    if (r >= 0) {
        int saved = errno;
        note_dup(oldfd, newfd);
        errno = saved;
    }
    return r;
}
