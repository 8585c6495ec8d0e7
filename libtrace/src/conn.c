/*
 * Connections: a bufferevent owned by one loop, the ordered queue that carries other threads'
 * output to it, the backpressure that bounds that queue, and the tracing of every handoff.
 *
 * Locks, always taken in this order: conn->mu, then the bufferevent's own lock (inside libevent
 * calls), then conn->flow_mu or conn->spare_mu, which are leaves (nothing is taken while holding
 * them). The output buffer's callback runs under the bufferevent lock, so it touches only atomics
 * and flow_mu.
 */
#include "internal.h"
#include "trace.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* libevent caps each writev at 16 KiB by default; larger writes measured 6-35% faster here. */
#define MAX_SINGLE_WRITE (256 * 1024)

enum conn_state { CONN_OPEN, CONN_CLOSING, CONN_CLOSED };

/* A producer blocked in a sync send, on its own stack. */
struct sync_wait {
    bool done; /* under conn->mu */
    int result;
};

/* One queued handoff: its bytes inline in data[], or a spooled chunk. */
struct handoff {
    struct handoff *next;
    uint64_t id;
    uint64_t seq;
    enum xtio_mode mode;
    uint32_t records;
    size_t len;
    size_t room;                   /* allocated for data[]: len, or more in a reused handoff */
    struct evbuffer *chunk;        /* owned; NULL when the bytes are in data[] */
    struct sync_wait *waiter;      /* weak; set for sync handoffs */
    struct xtio_tp_enqueue traced; /* its enqueue, for its handoff_run or handoff_drop */
    unsigned char data[];
};

struct xtio_conn {
    uint64_t id;
    xtio_loop *loop; /* weak: the loop outlives the connection while it is open */
    pid_t owner_tid;
    int fd;
    atomic_uint refs;
    struct xtio_conn_callbacks callbacks;
    void *user;
    size_t max_pending;

    pthread_mutex_t mu;
    /* Broadcast when a sync handoff is written or dropped, and when the queue empties while a
     * direct writer waits for it. */
    pthread_cond_t queue_progress;
    /* Under mu (state is atomic so that readers without the lock see a coherent value): */
    _Atomic enum conn_state state;
    struct bufferevent *bev; /* owned until close */
    struct handoff *head, **tail;
    uint32_t depth;
    bool drain_posted;
    uint64_t next_seq;
    uint64_t bytes_written; /* the stream offset of the next handoff */
    bool writing;           /* the loop writes a batch it took from the queue, without mu */
    unsigned direct_waiters;

    /* Backpressure: bytes accepted but not yet in the kernel, and the producers waiting. */
    atomic_size_t queued_bytes; /* in the queue (changed under mu) */
    atomic_size_t unflushed;    /* in the output buffer (changed by the buffer's callback) */
    atomic_uint flow_waiters;
    pthread_mutex_t flow_mu;
    pthread_cond_t flow_cv;

    atomic_uint_fast64_t bytes_flushed; /* total handed to the kernel */
    struct evbuffer_cb_entry *output_cb;

    /* Written handoffs kept for the next sends (see reuse_written), at most max_pending bytes. */
    pthread_mutex_t spare_mu;
    struct handoff *spare; /* under spare_mu, as is spare_bytes */
    size_t spare_bytes;

    xtio_conn *prev, *next; /* in the loop's list of open connections, loop thread only */
};

static atomic_uint_fast64_t next_conn_id = 1;

static bool on_owner_thread(const xtio_conn *conn)
{
    return conn->owner_tid == xtio__gettid();
}

static size_t pending_bytes(xtio_conn *conn)
{
    return atomic_load(&conn->queued_bytes) + atomic_load(&conn->unflushed);
}

/* ---- Lifetime ----------------------------------------------------------------------------- */

xtio_conn *xtio_conn_ref(xtio_conn *conn)
{
    if (conn)
        atomic_fetch_add_explicit(&conn->refs, 1, memory_order_relaxed);
    return conn;
}

void xtio_conn_unref(xtio_conn *conn)
{
    if (!conn || atomic_fetch_sub_explicit(&conn->refs, 1, memory_order_acq_rel) != 1)
        return;
    /* The last reference: the loop dropped its own at close, so the queue is empty and the
     * bufferevent freed, unless the connection never reached its loop. */
    if (conn->bev)
        bufferevent_free(conn->bev);
    else if (conn->fd >= 0 && atomic_load(&conn->state) != CONN_CLOSED)
        close(conn->fd);
    for (struct handoff *handoff = conn->spare, *next; handoff; handoff = next) {
        next = handoff->next;
        free(handoff);
    }
    pthread_mutex_destroy(&conn->spare_mu);
    pthread_cond_destroy(&conn->flow_cv);
    pthread_mutex_destroy(&conn->flow_mu);
    pthread_cond_destroy(&conn->queue_progress);
    pthread_mutex_destroy(&conn->mu);
    free(conn);
}

uint64_t xtio_conn_id(const xtio_conn *conn)
{
    return conn ? conn->id : 0;
}

size_t xtio_conn_pending_bytes(const xtio_conn *conn)
{
    return conn ? pending_bytes((xtio_conn *)conn) : 0;
}

xtio_loop *xtio_conn_loop(const xtio_conn *conn)
{
    return conn ? conn->loop : NULL;
}

bool xtio_conn_is_open(const xtio_conn *conn)
{
    return conn && atomic_load(&((xtio_conn *)conn)->state) == CONN_OPEN;
}

/* ---- Writing into the output (loop thread, or the producer in direct mode) ---------------- */

/* Puts one handoff's bytes into the output and counts them; the caller traces them. Caller holds
 * mu, or is the loop writing a batch taken from the queue (see write_queue); the connection is
 * open. */
static int put_output(xtio_conn *conn, enum xtio_mode mode, const void *data, size_t len,
                      struct evbuffer *chunk, uint32_t records)
{
    struct evbuffer *output = bufferevent_get_output(conn->bev);
    int rc = chunk ? evbuffer_add_buffer(output, chunk) : evbuffer_add(output, data, len);
    if (rc != 0)
        return -ENOMEM;
    conn->bytes_written += len;
    struct xtio__mode_counters *counters = xtio__loop_counters(conn->loop, mode);
    atomic_fetch_add_explicit(&counters->handoffs, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&counters->bytes, len, memory_order_relaxed);
    atomic_fetch_add_explicit(&counters->records, records, memory_order_relaxed);
    return 0;
}

/* put_output() for a handoff that is not queued (inline and direct), traced as its own write. */
static int write_one(xtio_conn *conn, uint64_t handoff_id, uint64_t seq, enum xtio_mode mode,
                     const void *data, size_t len, struct evbuffer *chunk, uint32_t records)
{
    uint64_t offset = conn->bytes_written;
    int rc = put_output(conn, mode, data, len, chunk, records);
    if (rc == 0)
        XTIO_TRACE(handoff_write, handoff_id, conn->id, seq, (int)mode, (uint32_t)len,
                   conn->owner_tid, offset);
    return rc;
}

static void free_handoff(struct handoff *handoff)
{
    if (handoff->chunk)
        evbuffer_free(handoff->chunk);
    free(handoff);
}

static size_t handoff_size(const struct handoff *handoff)
{
    return sizeof(*handoff) + handoff->room;
}

/* Keeps written handoffs, a list through next, for the producers' next sends; frees what would
 * take the spare list over max_pending bytes. A handoff freed on the loop was allocated on its
 * producer's thread: glibc then takes that thread's arena lock twice per send, against the
 * producer's malloc, and at a few KiB per send it trims and faults the arena's pages back in. */
static void reuse_written(xtio_conn *conn, struct handoff *list)
{
    pthread_mutex_lock(&conn->spare_mu);
    while (list && conn->spare_bytes + handoff_size(list) <= conn->max_pending) {
        struct handoff *next = list->next;
        list->next = conn->spare;
        conn->spare = list;
        conn->spare_bytes += handoff_size(list);
        list = next;
    }
    pthread_mutex_unlock(&conn->spare_mu);
    for (struct handoff *next; list; list = next) {
        next = list->next;
        free(list);
    }
}

/* A written handoff with room for len bytes, or NULL. */
static struct handoff *take_spare(xtio_conn *conn, size_t len)
{
    pthread_mutex_lock(&conn->spare_mu);
    struct handoff *handoff = conn->spare;
    if (handoff) {
        conn->spare = handoff->next;
        conn->spare_bytes -= handoff_size(handoff);
    }
    pthread_mutex_unlock(&conn->spare_mu);
    if (handoff && handoff->room < len) {
        free(handoff);
        handoff = NULL;
    }
    return handoff;
}

static void finish_sync(struct handoff *handoff, int result)
{
    if (handoff->waiter) {
        handoff->waiter->result = result;
        handoff->waiter->done = true;
    }
}

/* ---- Closing (loop thread) ----------------------------------------------------------------- */

static void close_now(xtio_conn *conn, enum xtio_close_reason reason)
{
    pthread_mutex_lock(&conn->mu);
    if (atomic_load(&conn->state) == CONN_CLOSED) {
        pthread_mutex_unlock(&conn->mu);
        return;
    }
    atomic_store(&conn->state, CONN_CLOSED);

    uint32_t dropped = 0;
    uint64_t dropped_bytes = 0;
    for (struct handoff *handoff = conn->head, *next; handoff; handoff = next) {
        next = handoff->next;
        XTIO_TRACE(handoff_drop, handoff->id, conn->id, handoff->seq, (uint32_t)handoff->len,
                   (int)handoff->mode, handoff->records, &handoff->traced);
        struct xtio__mode_counters *counters = xtio__loop_counters(conn->loop, handoff->mode);
        atomic_fetch_add_explicit(&counters->drops, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&counters->drop_bytes, handoff->len, memory_order_relaxed);
        dropped++;
        dropped_bytes += handoff->len;
        finish_sync(handoff, -EPIPE);
        free_handoff(handoff);
    }
    conn->head = NULL;
    conn->tail = &conn->head;
    conn->depth = 0;
    atomic_store(&conn->queued_bytes, 0);
    pthread_cond_broadcast(&conn->queue_progress);
    XTIO_TRACE(conn_close, conn->id, conn->owner_tid, dropped, dropped_bytes, (int)reason,
               conn->next_seq);

    evbuffer_remove_cb_entry(bufferevent_get_output(conn->bev), conn->output_cb);
    bufferevent_free(conn->bev); /* closes the socket */
    conn->bev = NULL;
    pthread_mutex_unlock(&conn->mu);

    pthread_mutex_lock(&conn->flow_mu);
    pthread_cond_broadcast(&conn->flow_cv);
    pthread_mutex_unlock(&conn->flow_mu);

    xtio_conn **list = xtio__loop_conn_list(conn->loop);
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        *list = conn->next;
    if (conn->next)
        conn->next->prev = conn->prev;
    conn->prev = conn->next = NULL;
    xtio__loop_count_conn(conn->loop, false);

    if (conn->callbacks.on_close)
        conn->callbacks.on_close(conn, reason, conn->user);
    xtio_conn_unref(conn); /* the loop's reference */
}

void xtio__conn_close_all(xtio_conn **list)
{
    while (*list)
        close_now(*list, XTIO_CLOSE_LOOP_STOP);
}

/* Closes a closing connection once all it accepted reached the kernel. Loop thread. */
static void close_if_flushed(xtio_conn *conn)
{
    pthread_mutex_lock(&conn->mu);
    bool flushed = atomic_load(&conn->state) == CONN_CLOSING && !conn->head &&
                   evbuffer_get_length(bufferevent_get_output(conn->bev)) == 0;
    pthread_mutex_unlock(&conn->mu);
    if (flushed)
        close_now(conn, XTIO_CLOSE_LOCAL);
}

/* Runs a connection task on its loop, holding a reference until it ran; inline when already on
 * the loop. A loop that is stopping refuses it, which is fine for every task here: the stop
 * closes the connection anyway. */
static void run_on_loop(xtio_conn *conn, xtio_loop_fn task)
{
    if (on_owner_thread(conn)) {
        xtio_conn_ref(conn);
        task(conn);
        return;
    }
    xtio_conn_ref(conn);
    if (xtio_loop_post(conn->loop, task, conn) != 0)
        xtio_conn_unref(conn);
}

static void close_task(void *arg)
{
    close_now(arg, XTIO_CLOSE_LOCAL);
    xtio_conn_unref(arg);
}

void xtio_conn_close(xtio_conn *conn)
{
    if (conn && atomic_load(&conn->state) != CONN_CLOSED)
        run_on_loop(conn, close_task);
}

static void close_when_flushed_task(void *arg)
{
    xtio_conn *conn = arg;
    close_if_flushed(conn);
    xtio_conn_unref(conn);
}

void xtio_conn_close_when_flushed(xtio_conn *conn)
{
    if (!conn)
        return;
    pthread_mutex_lock(&conn->mu);
    bool was_open = atomic_load(&conn->state) == CONN_OPEN;
    if (was_open)
        atomic_store(&conn->state, CONN_CLOSING);
    pthread_mutex_unlock(&conn->mu);
    if (was_open)
        run_on_loop(conn, close_when_flushed_task);
}

/* ---- libevent callbacks (loop thread, bufferevent unlocked) -------------------------------- */

static void on_readable(struct bufferevent *bev, void *arg)
{
    xtio_conn *conn = arg;
    struct evbuffer *input = bufferevent_get_input(bev);
    xtio_conn_ref(conn); /* on_data may close the connection and drop the last other reference */
    size_t len;
    while (atomic_load(&conn->state) != CONN_CLOSED &&
           (len = evbuffer_get_contiguous_space(input)) > 0) {
        const unsigned char *data = evbuffer_pullup(input, (ssize_t)len);
        if (conn->callbacks.on_data)
            conn->callbacks.on_data(conn, data, len, conn->user);
        if (atomic_load(&conn->state) != CONN_CLOSED)
            evbuffer_drain(input, len);
    }
    xtio_conn_unref(conn);
}

static void on_output_empty(struct bufferevent *bev, void *arg)
{
    (void)bev;
    xtio_conn *conn = xtio_conn_ref(arg); /* closing may drop every other reference */
    close_if_flushed(conn);
    if (conn->callbacks.on_drained && atomic_load(&conn->state) != CONN_CLOSED)
        conn->callbacks.on_drained(conn, conn->user);
    xtio_conn_unref(conn);
}

static void on_socket_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    if (what & BEV_EVENT_EOF)
        close_now(arg, XTIO_CLOSE_PEER);
    else if (what & BEV_EVENT_ERROR)
        close_now(arg, XTIO_CLOSE_ERROR);
}

/* Every change of the output buffer: additions (any writer) and drains into the kernel (the loop's
 * writev). Runs under the bufferevent lock, hence atomics and the leaf flow_mu only. */
static void on_output_changed(struct evbuffer *output, const struct evbuffer_cb_info *info,
                              void *arg)
{
    (void)output;
    xtio_conn *conn = arg;
    if (info->n_added)
        atomic_fetch_add(&conn->unflushed, info->n_added);
    if (!info->n_deleted)
        return;
    atomic_fetch_sub(&conn->unflushed, info->n_deleted);
    uint64_t total = atomic_fetch_add(&conn->bytes_flushed, info->n_deleted) + info->n_deleted;
    XTIO_TRACE(conn_flush, conn->id, total);
    /* Wake producers at half the bound, not at the bound, so they are not woken once per write. */
    if (atomic_load(&conn->flow_waiters) && pending_bytes(conn) <= conn->max_pending / 2) {
        pthread_mutex_lock(&conn->flow_mu);
        pthread_cond_broadcast(&conn->flow_cv);
        pthread_mutex_unlock(&conn->flow_mu);
    }
}

/* ---- Opening ---------------------------------------------------------------------------- */

struct open_request {
    xtio_conn *conn;
    int result;
};

static void open_on_loop(void *arg)
{
    struct open_request *request = arg;
    xtio_conn *conn = request->conn;
    xtio_loop *loop = conn->loop;

    /* Deferred, unlocked callbacks: our callbacks take conn->mu, which a direct writer holds
     * while it takes the bufferevent lock, so they must not run under that lock. */
    conn->bev = bufferevent_socket_new(xtio_loop_event_base(loop), conn->fd,
                                       BEV_OPT_CLOSE_ON_FREE | BEV_OPT_THREADSAFE |
                                           BEV_OPT_DEFER_CALLBACKS | BEV_OPT_UNLOCK_CALLBACKS);
    if (!conn->bev) {
        request->result = -ENOMEM;
        return;
    }
    conn->output_cb = evbuffer_add_cb(bufferevent_get_output(conn->bev), on_output_changed, conn);
    if (!conn->output_cb || bufferevent_enable(conn->bev, EV_READ) != 0) {
        request->result = -ENOMEM;
        return;
    }
    bufferevent_set_max_single_write(conn->bev, MAX_SINGLE_WRITE);
    bufferevent_setcb(conn->bev, on_readable, on_output_empty, on_socket_event, conn);

    conn->owner_tid = xtio_loop_tid(loop);
    xtio_conn **list = xtio__loop_conn_list(loop);
    conn->next = *list;
    if (*list)
        (*list)->prev = conn;
    *list = conn;
    xtio_conn_ref(conn); /* the loop's reference, dropped by close_now() */
    xtio__loop_count_conn(loop, true);
    XTIO_TRACE(conn_open, conn->id, xtio_loop_id(loop), conn->owner_tid, conn->fd);
    request->result = 0;
}

int xtio_conn_open(xtio_conn **out, xtio_loop *loop, int fd,
                   const struct xtio_conn_options *options)
{
    if (!out || !loop || fd < 0) {
        if (fd >= 0)
            close(fd);
        return -EINVAL;
    }
    *out = NULL;
    xtio_conn *conn = calloc(1, sizeof(*conn));
    if (!conn) {
        close(fd);
        return -ENOMEM;
    }
    conn->id = atomic_fetch_add_explicit(&next_conn_id, 1, memory_order_relaxed);
    conn->loop = loop;
    conn->fd = fd;
    atomic_init(&conn->refs, 1);
    atomic_init(&conn->state, CONN_OPEN);
    conn->tail = &conn->head;
    conn->max_pending = XTIO_CONN_DEFAULT_MAX_PENDING;
    if (options) {
        conn->callbacks = options->callbacks;
        conn->user = options->user;
        if (options->max_pending)
            conn->max_pending = options->max_pending;
    }
    pthread_mutex_init(&conn->mu, NULL);
    pthread_cond_init(&conn->queue_progress, NULL);
    pthread_mutex_init(&conn->flow_mu, NULL);
    pthread_cond_init(&conn->flow_cv, NULL);
    pthread_mutex_init(&conn->spare_mu, NULL);

    /* Small replies must not wait for Nagle; not every socket is TCP, hence no error check. */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    evutil_make_socket_nonblocking(fd);

    struct open_request request = {.conn = conn, .result = -EINVAL};
    int rc = xtio_loop_call(loop, open_on_loop, &request);
    if (rc == 0)
        rc = request.result;
    if (rc != 0) {
        xtio_conn_unref(conn); /* closes fd, directly or through the bufferevent */
        return rc;
    }
    *out = conn;
    return 0;
}

int xtio_conn_set_reading(xtio_conn *conn, bool reading)
{
    if (!conn || !on_owner_thread(conn))
        return -EINVAL;
    if (atomic_load(&conn->state) == CONN_CLOSED)
        return -EPIPE;
    return (reading ? bufferevent_enable(conn->bev, EV_READ)
                    : bufferevent_disable(conn->bev, EV_READ)) == 0
               ? 0
               : -ENOMEM;
}

/* ---- Sending ------------------------------------------------------------------------------ */

/* Puts handoffs that could not be written back in front of the queue, for the close that follows
 * to drop and trace them. Caller holds mu. */
static void requeue_front(xtio_conn *conn, struct handoff *first)
{
    struct handoff *last = first;
    conn->depth++;
    while (last->next) {
        last = last->next;
        conn->depth++;
    }
    last->next = conn->head;
    if (!conn->head)
        conn->tail = &last->next;
    conn->head = first;
}

/* Puts a written handoff's enqueue into the run that traces it, at run->count. */
static void add_to_run(struct xtio_tp_run *run, const struct handoff *handoff)
{
    uint32_t i = run->count;
    run->handoff_id[i] = handoff->id;
    run->enqueue_ns[i] = handoff->traced.enqueue_ns;
    run->queued_bytes[i] = handoff->traced.queued_bytes;
    run->spool_ns[i] = handoff->traced.spool_ns;
    run->producer_tid[i] = handoff->traced.producer_tid;
    run->bytes[i] = (uint32_t)handoff->len;
    run->records[i] = handoff->records;
    run->queue_depth[i] = handoff->traced.queue_depth;
}

static void trace_run(xtio_conn *conn, struct xtio_tp_run *run, bool traced)
{
    if (!traced)
        return; /* a session that started during the batch: its arrays were not filled */
    run->conn_id = conn->id;
    run->owner_tid = conn->owner_tid;
    run->run_bytes = conn->bytes_written - run->offset;
    XTIO_TRACE(handoff_run, run);
}

/* The loop writes what producers queued, in seq order. It takes the whole queue and writes it
 * without holding mu, so producers go on enqueueing meanwhile instead of sleeping on the lock;
 * only a direct writer, whose bytes must follow these, waits for `writing` to clear. Returns 0, or
 * -ENOMEM when a handoff could not be written: the connection is then closed, and the close drops
 * and traces what was left. Loop thread. */
static int write_queue(xtio_conn *conn)
{
    pthread_mutex_lock(&conn->mu);
    struct handoff *batch = NULL;
    if (atomic_load(&conn->state) != CONN_CLOSED && conn->head) {
        batch = conn->head;
        conn->head = NULL;
        conn->tail = &conn->head;
        conn->depth = 0;
        conn->writing = true;
    }
    pthread_mutex_unlock(&conn->mu);
    if (!batch)
        return 0;

    /* One handoff_run event per run of one mode, of at most XTIO_SCHEMA_RUN_MAX handoffs: seqs
     * are consecutive in the queue, so the run's first seq and its count name every handoff in
     * it, and it carries each one's enqueue (docs/tracepoints.md). Filled only with a session. */
    bool traced = XTIO_TRACE_ENABLED(handoff_run);
    struct xtio_tp_run run; /* 3 KiB, not cleared: each field is set before it is traced */
    run.count = 0;
    struct handoff *unwritten = NULL;
    for (struct handoff *handoff = batch; handoff; handoff = handoff->next) {
        if (run.count &&
            (handoff->mode != (enum xtio_mode)run.mode || run.count == XTIO_SCHEMA_RUN_MAX)) {
            trace_run(conn, &run, traced);
            run.count = 0;
        }
        if (run.count == 0) {
            run.seq = handoff->seq;
            run.mode = (int)handoff->mode;
            run.offset = conn->bytes_written;
        }
        if (put_output(conn, handoff->mode, handoff->data, handoff->len, handoff->chunk,
                       handoff->records) != 0) {
            unwritten = handoff;
            break;
        }
        if (traced)
            add_to_run(&run, handoff);
        run.count++;
        atomic_fetch_sub(&conn->queued_bytes, handoff->len);
    }
    if (run.count)
        trace_run(conn, &run, traced);

    pthread_mutex_lock(&conn->mu);
    conn->writing = false;
    bool released_sync = false;
    for (struct handoff *handoff = batch; handoff != unwritten; handoff = handoff->next) {
        released_sync |= handoff->waiter != NULL;
        finish_sync(handoff, 0);
    }
    if (unwritten)
        requeue_front(conn, unwritten);
    if (released_sync || conn->direct_waiters)
        pthread_cond_broadcast(&conn->queue_progress);
    pthread_mutex_unlock(&conn->mu);

    struct handoff *written = batch, **tail = &written;
    for (struct handoff *handoff = batch; handoff != unwritten; handoff = handoff->next) {
        if (handoff->chunk)
            evbuffer_free(handoff->chunk); /* moved into the output: empty */
        handoff->chunk = NULL;
        tail = &handoff->next;
    }
    *tail = NULL;
    reuse_written(conn, written);
    if (!unwritten)
        return 0;
    close_now(conn, XTIO_CLOSE_ERROR);
    return -ENOMEM;
}

static void drain_task(void *arg)
{
    xtio_conn *conn = arg;
    pthread_mutex_lock(&conn->mu);
    conn->drain_posted = false; /* sends from now on need a drain of their own */
    pthread_mutex_unlock(&conn->mu);
    if (write_queue(conn) == 0)
        close_if_flushed(conn);
    xtio_conn_unref(conn);
}

static bool over_bound(const xtio_conn *conn, size_t pending, size_t len)
{
    return pending > 0 && pending + len > conn->max_pending;
}

/* Holds a producer back while the connection is over its bound. Returns whether it waited. */
static bool wait_for_room(xtio_conn *conn, size_t len)
{
    size_t pending = pending_bytes(conn);
    if (!over_bound(conn, pending, len))
        return false;
    uint64_t start = xtio__now_ns();
    pthread_mutex_lock(&conn->flow_mu);
    atomic_fetch_add(&conn->flow_waiters, 1);
    while (atomic_load(&conn->state) == CONN_OPEN && over_bound(conn, pending_bytes(conn), len))
        pthread_cond_wait(&conn->flow_cv, &conn->flow_mu);
    atomic_fetch_sub(&conn->flow_waiters, 1);
    pthread_mutex_unlock(&conn->flow_mu);
    XTIO_TRACE(backpressure, conn->id, (uint64_t)pending, xtio__now_ns() - start);
    return true;
}

/* Sends on the loop thread: whatever is still queued goes first, then these bytes, at once. */
static int send_on_loop(xtio_conn *conn, const void *data, size_t len, struct evbuffer *chunk,
                        uint32_t records)
{
    int rc = 0;
    pthread_mutex_lock(&conn->mu);
    /* Producers may queue more until this thread holds mu with the queue empty. */
    while (rc == 0 && conn->head && atomic_load(&conn->state) == CONN_OPEN) {
        pthread_mutex_unlock(&conn->mu);
        rc = write_queue(conn);
        pthread_mutex_lock(&conn->mu);
    }
    if (rc == 0)
        rc = atomic_load(&conn->state) != CONN_OPEN
                 ? -EPIPE
                 : write_one(conn, xtio__next_handoff_id(), conn->next_seq++, XTIO_MODE_INLINE,
                             data, len, chunk, records);
    pthread_mutex_unlock(&conn->mu);
    if (chunk)
        evbuffer_free(chunk);
    return rc;
}

/* Caller holds mu and the connection is open, so the loop (and its counters) are alive. */
static void count_backpressure_wait(xtio_conn *conn, enum xtio_mode mode)
{
    struct xtio__mode_counters *counters = xtio__loop_counters(conn->loop, mode);
    atomic_fetch_add_explicit(&counters->backpressure_waits, 1, memory_order_relaxed);
}

/* The unsafe pattern, on purpose: this thread writes into the loop's output itself. It first
 * waits for the handoffs queued before it, so that order holds and their bytes are still written
 * by the loop: the trace must blame the direct writes only. */
static int send_direct(xtio_conn *conn, const void *data, size_t len, bool waited)
{
    pthread_mutex_lock(&conn->mu);
    conn->direct_waiters++;
    while ((conn->head || conn->writing) && atomic_load(&conn->state) == CONN_OPEN)
        pthread_cond_wait(&conn->queue_progress, &conn->mu);
    conn->direct_waiters--;
    int rc = -EPIPE;
    if (atomic_load(&conn->state) == CONN_OPEN) {
        if (waited)
            count_backpressure_wait(conn, XTIO_MODE_DIRECT);
        uint64_t handoff_id = xtio__next_handoff_id();
        uint64_t seq = conn->next_seq++;
        XTIO_TRACE(handoff_enqueue, handoff_id, conn->id, seq, (int)XTIO_MODE_DIRECT, (uint32_t)len,
                   1u, 0u, (uint64_t)0, conn->owner_tid, (uint64_t)0);
        /* Held so that the loop cannot flush these bytes before their handoff_write is traced. */
        bufferevent_lock(conn->bev);
        rc = write_one(conn, handoff_id, seq, XTIO_MODE_DIRECT, data, len, NULL, 1);
        bufferevent_unlock(conn->bev);
        if (rc != 0) {
            /* Every enqueue ends in a write or a drop, also when memory ran out. Its enqueue is
             * an event of its own (enqueue_ns 0 says so). */
            XTIO_TRACE(handoff_drop, handoff_id, conn->id, seq, (uint32_t)len,
                       (int)XTIO_MODE_DIRECT, 1u, &(struct xtio_tp_enqueue){.enqueue_ns = 0});
            struct xtio__mode_counters *counters =
                xtio__loop_counters(conn->loop, XTIO_MODE_DIRECT);
            atomic_fetch_add_explicit(&counters->drops, 1, memory_order_relaxed);
            atomic_fetch_add_explicit(&counters->drop_bytes, len, memory_order_relaxed);
        }
    }
    pthread_mutex_unlock(&conn->mu);
    if (rc == -ENOMEM)
        xtio_conn_close(conn);
    return rc;
}

/* Queues a sync, async or batch handoff for the loop to write; sync waits until it is written. */
static int send_queued(xtio_conn *conn, enum xtio_mode mode, const void *data, size_t len,
                       struct evbuffer *chunk, uint32_t records, uint64_t spool_ns, bool waited)
{
    size_t room = chunk ? 0 : len;
    struct handoff *handoff = take_spare(conn, room);
    if (handoff)
        room = handoff->room;
    else
        handoff = malloc(sizeof(*handoff) + room);
    if (!handoff) {
        if (chunk)
            evbuffer_free(chunk);
        return -ENOMEM;
    }
    *handoff = (struct handoff){.id = xtio__next_handoff_id(),
                                .mode = mode,
                                .records = records,
                                .len = len,
                                .room = room,
                                .chunk = chunk};
    if (!chunk && len)
        memcpy(handoff->data, data, len);
    /* Kept apart: the loop frees the handoff as soon as it is written, even while we wait. */
    uint64_t handoff_id = handoff->id;
    struct sync_wait wait = {.done = false};
    if (mode == XTIO_MODE_SYNC)
        handoff->waiter = &wait;

    pthread_mutex_lock(&conn->mu);
    if (atomic_load(&conn->state) != CONN_OPEN) {
        pthread_mutex_unlock(&conn->mu);
        free_handoff(handoff);
        return -EPIPE;
    }
    if (waited)
        count_backpressure_wait(conn, mode);
    handoff->seq = conn->next_seq++;
    *conn->tail = handoff;
    conn->tail = &handoff->next;
    conn->depth++;
    atomic_fetch_add(&conn->queued_bytes, len);
    /* Traced by the handoff_run that writes it, or its handoff_drop: an event of its own per
     * handoff cost the server about half as much again as the handoff (docs/performance.md). */
    if (XTIO_TRACE_ENABLED(handoff_run)) {
        XTIO_TRACE_COUNT_THREAD_EVENT(); /* named before the enqueue it makes */
        handoff->traced = (struct xtio_tp_enqueue){
            .enqueue_ns = xtio__now_ns(),
            .queued_bytes = atomic_load(&conn->queued_bytes),
            .spool_ns = spool_ns,
            .producer_tid = xtio__gettid(),
            .queue_depth = conn->depth,
        };
    }
    if (!conn->drain_posted) {
        /* One drain task per burst: later sends find it already posted. A stopping loop refuses
         * it, and then closes the connection, dropping (and tracing) what is queued. */
        conn->drain_posted = true;
        xtio_conn_ref(conn);
        if (xtio_loop_post(conn->loop, drain_task, conn) != 0) {
            conn->drain_posted = false;
            atomic_fetch_sub(&conn->refs, 1); /* not the last: the caller holds one */
        }
    }
    int rc = 0;
    if (mode == XTIO_MODE_SYNC) {
        while (!wait.done)
            pthread_cond_wait(&conn->queue_progress, &conn->mu);
        rc = wait.result;
    }
    pthread_mutex_unlock(&conn->mu);
    if (mode == XTIO_MODE_SYNC)
        XTIO_TRACE(sync_wait_end, handoff_id, conn->id, rc == 0);
    return rc;
}

static int send_any(xtio_conn *conn, enum xtio_mode mode, const void *data, size_t len,
                    struct evbuffer *chunk, uint32_t records, uint64_t spool_ns)
{
    if (atomic_load(&conn->state) != CONN_OPEN) {
        if (chunk)
            evbuffer_free(chunk);
        return -EPIPE;
    }
    if (on_owner_thread(conn))
        return send_on_loop(conn, data, len, chunk, records);
    bool waited = wait_for_room(conn, len);
    if (mode == XTIO_MODE_DIRECT)
        return send_direct(conn, data, len, waited);
    return send_queued(conn, mode, data, len, chunk, records, spool_ns, waited);
}

int xtio_conn_send(xtio_conn *conn, enum xtio_mode mode, const void *data, size_t len)
{
    if (!conn || (!data && len) || len > UINT32_MAX || (unsigned)mode >= XTIO_MODE_COUNT)
        return -EINVAL;
    bool handoff_mode =
        mode == XTIO_MODE_SYNC || mode == XTIO_MODE_ASYNC || mode == XTIO_MODE_DIRECT;
    if (!handoff_mode && !on_owner_thread(conn))
        return -EINVAL;
    return send_any(conn, mode, data, len, NULL, 1, 0);
}

int xtio__conn_send_chunk(xtio_conn *conn, struct evbuffer *chunk, uint32_t records,
                          uint64_t spool_ns)
{
    size_t len = evbuffer_get_length(chunk);
    if (len > UINT32_MAX) {
        evbuffer_free(chunk);
        return -EINVAL;
    }
    return send_any(conn, XTIO_MODE_BATCH, NULL, len, chunk, records, spool_ns);
}
