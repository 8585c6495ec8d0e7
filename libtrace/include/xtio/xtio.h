/*
 * libxtio: event loops on their own threads, connections owned by one loop, and the handoff of
 * output from any thread to the connection's loop, every handoff traced by the `xtio` LTTng-UST
 * provider (docs/tracepoints.md).
 *
 * Threading contract, in one place:
 *   - A loop runs a libevent event_base on a thread of its own. Each connection belongs to exactly
 *     one loop; its socket is only read and written on that loop's thread, except in the
 *     deliberately unsafe XTIO_MODE_DIRECT.
 *   - Functions marked "any thread" may be called from any thread, including the loop's own.
 *     Functions marked "loop thread" must be called on the owning loop's thread.
 *   - Output reaches the client in the order of the xtio_conn_send() calls that produced it (the
 *     connection's `seq` order), whatever the modes used and however many threads send.
 *
 * Errors are negative errno values (-EINVAL, -ENOMEM, -EPIPE, -ESHUTDOWN, ...); 0 is success.
 *
 * As with libevent itself, a write to a socket whose peer has gone raises SIGPIPE: a process using
 * libxtio must ignore it (signal(SIGPIPE, SIG_IGN)) or the first such write kills it.
 */
#ifndef XTIO_XTIO_H
#define XTIO_XTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define XTIO_EXTERN __attribute__((visibility("default")))

/* How output produced on some thread reaches a connection's output buffer. */
enum xtio_mode {
    /* The loop writes its own output (no handoff); what a send on the loop thread amounts to. */
    XTIO_MODE_INLINE = 0,
    /* The bytes are written on the loop thread; the caller waits until they are in the output. */
    XTIO_MODE_SYNC = 1,
    /* Enqueued on the connection's ordered queue; the caller only waits for backpressure. */
    XTIO_MODE_ASYNC = 2,
    /* A whole spooled chunk of records handed off at once (see xtio_spool). */
    XTIO_MODE_BATCH = 3,
    /* UNSAFE, on purpose: the calling thread writes into the socket's output buffer itself. It
     * does not crash (the output buffer is locked) but it is the pattern the analyzers flag. */
    XTIO_MODE_DIRECT = 4,
};
#define XTIO_MODE_COUNT 5

/* Why a connection closed (the `reason` field of xtio:conn_close). */
enum xtio_close_reason {
    XTIO_CLOSE_LOCAL = 0,     /* xtio_conn_close() or xtio_conn_close_when_flushed() */
    XTIO_CLOSE_PEER = 1,      /* end of file from the peer */
    XTIO_CLOSE_ERROR = 2,     /* socket error */
    XTIO_CLOSE_LOOP_STOP = 3, /* the owning loop stopped with the connection still open */
};

/* "inline", "sync", ...; NULL for a value out of range. */
XTIO_EXTERN const char *xtio_mode_name(enum xtio_mode mode);
/* Parses a name as printed by xtio_mode_name(); -EINVAL when unknown. */
XTIO_EXTERN int xtio_mode_parse(const char *name, enum xtio_mode *mode);

/* ---- Loops ------------------------------------------------------------------------------- */

typedef struct xtio_loop xtio_loop;

/* Counters of one loop, summed over its connections (open and closed). */
struct xtio_mode_stats {
    uint64_t handoffs; /* handoffs written to an output (inline: loop writes) */
    uint64_t bytes;    /* bytes of those handoffs */
    uint64_t records;  /* records they carried (batch: many per handoff) */
    uint64_t drops;    /* handoffs discarded because their connection closed first */
    uint64_t drop_bytes;
    uint64_t backpressure_waits; /* times a producer of this mode waited for the client */
};
struct xtio_loop_stats {
    struct xtio_mode_stats mode[XTIO_MODE_COUNT];
    uint64_t conns_opened;
    uint64_t conns_closed;
};

/* Creates a loop (not yet running). `name` names its thread (at most 15 bytes are kept); NULL
 * gives "xtio-loop-<id>". Any thread. */
XTIO_EXTERN int xtio_loop_create(xtio_loop **loop, const char *name);
/* Starts the loop's thread and returns once it runs. Once per loop. Any thread but the loop's. */
XTIO_EXTERN int xtio_loop_start(xtio_loop *loop);
/* Asks the loop to stop: functions posted before this call still run, later posts fail with
 * -ESHUTDOWN, then every open connection is closed (reason loop_stop, its pending handoffs
 * dropped and traced) and the thread exits. Idempotent. Any thread. */
XTIO_EXTERN void xtio_loop_stop(xtio_loop *loop);
/* Waits for the loop's thread to exit (after xtio_loop_stop). Any thread but the loop's. */
XTIO_EXTERN int xtio_loop_join(xtio_loop *loop);
/* Stops and joins the loop if needed, then frees it. Connection references still held by the
 * caller stay valid (their connections are closed). Any thread but the loop's. */
XTIO_EXTERN void xtio_loop_destroy(xtio_loop *loop);

/* Kernel thread id of the loop's thread (the `owner_tid` of its connections); 0 before start. */
XTIO_EXTERN pid_t xtio_loop_tid(const xtio_loop *loop);
XTIO_EXTERN uint32_t xtio_loop_id(const xtio_loop *loop);
/* True when called on the loop's own thread. */
XTIO_EXTERN bool xtio_loop_is_current(const xtio_loop *loop);
/* Snapshot of the loop's counters. Any thread. */
XTIO_EXTERN void xtio_loop_get_stats(const xtio_loop *loop, struct xtio_loop_stats *stats);

typedef void (*xtio_loop_fn)(void *arg);

/* Queues fn(arg) to run on the loop's thread, never inline, in posting order. A burst of posts
 * costs one wake-up of the loop. -ESHUTDOWN once the loop is stopping (fn will not run). Any
 * thread. */
XTIO_EXTERN int xtio_loop_post(xtio_loop *loop, xtio_loop_fn fn, void *arg);
/* Runs fn(arg) on the loop's thread and returns after it ran: queued behind earlier posts, or at
 * once when called on the loop's thread. -ESHUTDOWN when the loop is stopping, -EINVAL when it was
 * never started (nothing would run fn). Any thread. */
XTIO_EXTERN int xtio_loop_call(xtio_loop *loop, xtio_loop_fn fn, void *arg);

/* The loop's libevent `struct event_base *`, for adding the caller's own events (listeners,
 * timers). Only to be used on the loop's thread. */
XTIO_EXTERN void *xtio_loop_event_base(xtio_loop *loop);

/* ---- Connections ------------------------------------------------------------------------- */

typedef struct xtio_conn xtio_conn;

struct xtio_conn_callbacks {
    /* Bytes received, on the loop thread. The data is only valid during the call. */
    void (*on_data)(xtio_conn *conn, const void *data, size_t len, void *user);
    /* The connection closed, on the loop thread, once. Pending handoffs are already dropped;
     * sends now fail with -EPIPE. Release your reference when you are done with it. */
    void (*on_close)(xtio_conn *conn, enum xtio_close_reason reason, void *user);
    /* Optional: everything written so far reached the kernel (the output buffer emptied), on the
     * loop thread. Lets a loop that produces a large reply itself pause while the client reads,
     * since the loop cannot wait for backpressure like other threads. */
    void (*on_drained)(xtio_conn *conn, void *user);
};

/* Default bound on a connection's queued plus unflushed output bytes (see backpressure). */
#define XTIO_CONN_DEFAULT_MAX_PENDING ((size_t)256 * 1024)

struct xtio_conn_options {
    struct xtio_conn_callbacks callbacks;
    void *user;
    /* Producers off the loop thread wait while queued + unflushed bytes exceed this; 0 means
     * XTIO_CONN_DEFAULT_MAX_PENDING. A single send larger than the bound still goes through
     * once the connection has nothing pending, so no size of message can deadlock. */
    size_t max_pending;
};

/* Makes a connection of `loop` from a connected socket `fd`, which it owns from now on (closed
 * with the connection, also on failure). On success *conn holds a reference for the caller;
 * the loop holds its own while the connection is open. Any thread (off the loop thread it waits
 * for the loop to take the socket). -ESHUTDOWN when the loop is stopping. */
XTIO_EXTERN int xtio_conn_open(xtio_conn **conn, xtio_loop *loop, int fd,
                               const struct xtio_conn_options *options);

/* References keep the connection's memory (not its socket) alive: every handoff in flight holds
 * one, so a connection closed under a producer is never freed under it. Any thread. */
XTIO_EXTERN xtio_conn *xtio_conn_ref(xtio_conn *conn);
XTIO_EXTERN void xtio_conn_unref(xtio_conn *conn);

/* Closes now: pending handoffs are dropped (each traced as xtio:handoff_drop and counted), the
 * socket is closed, waiting producers return -EPIPE. On the loop thread it happens before the
 * call returns; elsewhere it is queued to the loop. Idempotent. Any thread. */
XTIO_EXTERN void xtio_conn_close(xtio_conn *conn);
/* Refuses further sends and closes once everything already sent reached the kernel (e.g. after a
 * QUIT reply). Any thread. */
XTIO_EXTERN void xtio_conn_close_when_flushed(xtio_conn *conn);

XTIO_EXTERN uint64_t xtio_conn_id(const xtio_conn *conn);
/* Bytes accepted for this connection and not yet handed to the kernel: queued plus in the output
 * buffer, the quantity that backpressure bounds. Any thread (a snapshot). */
XTIO_EXTERN size_t xtio_conn_pending_bytes(const xtio_conn *conn);
XTIO_EXTERN xtio_loop *xtio_conn_loop(const xtio_conn *conn);
XTIO_EXTERN bool xtio_conn_is_open(const xtio_conn *conn);
/* Stops or resumes reading from the socket (e.g. while a request is being served). Loop thread:
 * -EINVAL elsewhere, -EPIPE once closed. */
XTIO_EXTERN int xtio_conn_set_reading(xtio_conn *conn, bool reading);

/* Sends `len` bytes in `mode`; the bytes are copied before the call returns.
 *   - On the loop thread every mode writes at once, after whatever earlier sends are still
 *     queued, and never waits (so a sync send from the loop cannot deadlock).
 *   - Off the loop thread: sync returns once the bytes are in the connection's output; async
 *     returns once they are queued; direct writes them into the output itself; inline is
 *     -EINVAL (inline means "written by the loop"); batch is for xtio_spool and is -EINVAL here.
 *   - Off the loop thread every mode first waits while the connection is over its bound
 *     (backpressure, traced as xtio:backpressure).
 * -EPIPE when the connection is closed or closing (nothing was sent, or, for sync, the connection
 * closed before the bytes were written); -EINVAL for a send over UINT32_MAX bytes. Any thread. */
XTIO_EXTERN int xtio_conn_send(xtio_conn *conn, enum xtio_mode mode, const void *data, size_t len);

/* ---- Batch handoff: spooling records on the producer --------------------------------------- */

typedef struct xtio_spool xtio_spool;

#define XTIO_SPOOL_DEFAULT_THRESHOLD ((size_t)8 * 1024)

/* A spool gathers records for one connection on the producer's thread and hands them off as one
 * XTIO_MODE_BATCH handoff when `threshold` bytes (0: XTIO_SPOOL_DEFAULT_THRESHOLD) are spooled or
 * on xtio_spool_flush(). It holds a reference to `conn`. One thread uses a spool at a time. */
XTIO_EXTERN int xtio_spool_create(xtio_spool **spool, xtio_conn *conn, size_t threshold);
/* Appends one record (copied); hands the chunk off when the threshold is reached. Returns what
 * that handoff returned (-EPIPE once the connection closed: stop producing). */
XTIO_EXTERN int xtio_spool_append(xtio_spool *spool, const void *data, size_t len);
/* Hands off what is spooled, if anything. */
XTIO_EXTERN int xtio_spool_flush(xtio_spool *spool);
/* Flushes what is left, releases the connection and frees the spool; returns the flush result. */
XTIO_EXTERN int xtio_spool_destroy(xtio_spool *spool);
/* Bytes and records currently spooled. */
XTIO_EXTERN size_t xtio_spool_pending_bytes(const xtio_spool *spool);
XTIO_EXTERN size_t xtio_spool_pending_records(const xtio_spool *spool);

#ifdef __cplusplus
}
#endif

#endif /* XTIO_XTIO_H */
