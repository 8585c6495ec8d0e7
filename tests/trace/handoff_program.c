/*
 * The traced half of the trace.events test: drives libxtio through every event of the `xtio`
 * provider (tracepoints/xtio_tp.h) while run_trace_test.sh records it, then prints what it did as
 * `key=value` lines for check_trace to compare with the trace.
 *
 * Two loopback TCP connections on one loop:
 *   A  read by a client thread that checks every record arrives in send order; it gets inline,
 *      sync, async, batch and direct handoffs, and a burst that the client stops reading for so
 *      that the producer hits max_pending (backpressure).
 *   B  never read; async handoffs are queued to it while the loop is held by a posted function,
 *      which then closes it, so they are dropped (handoff_drop, conn_close pending > 0).
 * Every wait is bounded; on any failure the program says what failed and exits 1.
 */
#include <xtio/xtio.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Thread names, as the procname context will show them (at most 15 bytes). run_trace_test.sh
 * records only threads named "hprog-*" or "handoff_program" (the main thread), so that other
 * processes using libxtio meanwhile (a parallel ctest) cannot fill the session's buffers. */
#define LOOP_NAME   "hprog-loop"
#define WORKER_NAME "hprog-worker"
#define READER_NAME "hprog-reader"

/* What the worker sends on A, per mode, and to B to be dropped. */
#define INLINE_SENDS   3 /* one each in INLINE, SYNC and ASYNC mode, all from the loop thread */
#define SYNC_SENDS     4
#define ASYNC_SENDS    8
#define DIRECT_SENDS   4
#define PRESSURE_SENDS 256 /* async, 1 KiB each: far beyond max_pending plus socket buffers */
#define DROP_SENDS     5

#define INLINE_LEN   64
#define SYNC_LEN     128
#define ASYNC_LEN    512
#define DIRECT_LEN   256
#define PRESSURE_LEN 1024
#define BATCH_LEN    100
#define DROP_LEN     200
#define MAX_RECORD   1024

/* Small enough that the pressure burst must wait for the client. */
#define CONN_A_MAX_PENDING 4096
/* Small socket buffers so the kernel cannot swallow the whole pressure burst. */
#define SOCKET_BUFFER      4096
#define SPOOL_THRESHOLD    1000
#define BATCH_TAIL_RECORDS 3

#define MS                   1000000ull
#define WAIT_LIMIT_NS        (10000 * MS)
/* A send blocked this long while the client does not read can only be backpressure. */
#define BLOCKED_SEND_NS      (50 * MS)
#define PAUSE_LIMIT_NS       (5000 * MS)
#define READER_IDLE_LIMIT_NS (30000 * MS)
/* Kills the program (SIGALRM) should a library call never return; run_trace_test.sh also
 * bounds the whole run, this keeps a standalone run bounded too. */
#define WATCHDOG_SECONDS     60

struct expected {
    uint64_t write[XTIO_MODE_COUNT];
    uint64_t enqueue[XTIO_MODE_COUNT];
    uint64_t sync_wait_end;
    uint64_t drops, drop_bytes;
    uint64_t batch_records;
    uint64_t bytes_a;
    atomic_uint_fast64_t loop_calls; /* xtio_loop_call()s from other threads: each posts */
};

/* The client end of A: reads and checks every record, and stops reading on request. */
struct reader {
    int fd;
    pthread_t thread;
    atomic_bool pause_requested; /* set by the worker */
    atomic_bool paused;          /* set by the reader once it no longer reads */
    atomic_uint_fast64_t bytes;
    uint32_t next_index; /* reader thread only */
    char line[MAX_RECORD + 1];
    size_t line_len;
};

/* Lets the worker queue handoffs on B while the loop thread is held. */
struct blocker {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool loop_held, records_queued, closed; /* under mu */
    xtio_conn *conn;
};

struct program {
    xtio_loop *loop;
    xtio_conn *conn_a, *conn_b;
    int client_b;
    struct reader reader;
    struct blocker blocker;
    pid_t worker_tid;
    /* Sends on A are strictly sequential (one thread at a time), so record indexes are too. */
    uint32_t next_index;
    struct expected exp;
    /* When the worker entered the send it is still in, 0 when it is not in one. */
    atomic_uint_fast64_t send_started_ns;
    atomic_bool failed;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void fail(struct program *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("handoff_program: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    atomic_store(&p->failed, true);
}

/* Waits until *flag is set (under mu) or the limit passes; false on time-out. */
static bool wait_flag(pthread_mutex_t *mu, pthread_cond_t *cv, const bool *flag, uint64_t limit_ns)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    uint64_t ns = (uint64_t)deadline.tv_nsec + limit_ns;
    deadline.tv_sec += (time_t)(ns / 1000000000ull);
    deadline.tv_nsec = (long)(ns % 1000000000ull);

    pthread_mutex_lock(mu);
    int err = 0;
    while (!*flag && err != ETIMEDOUT)
        err = pthread_cond_timedwait(cv, mu, &deadline);
    bool set = *flag;
    pthread_mutex_unlock(mu);
    return set;
}

static void set_flag(pthread_mutex_t *mu, pthread_cond_t *cv, bool *flag)
{
    pthread_mutex_lock(mu);
    *flag = true;
    pthread_cond_broadcast(cv);
    pthread_mutex_unlock(mu);
}

/* Every record on A is one line, "<index, 8 hex digits> xxx...\n", so that the reader can tell
 * the bytes came out in send order across modes and threads. */
static void make_record(char *buf, size_t len, uint32_t index)
{
    snprintf(buf, len, "%08" PRIx32 " ", index);
    memset(buf + 9, 'x', len - 10);
    buf[len - 1] = '\n';
}

/* One send on A in `mode`, counted as the handoff_write of `traced_mode` it must produce. */
static bool send_a(struct program *p, enum xtio_mode mode, enum xtio_mode traced_mode, size_t len)
{
    char buf[MAX_RECORD];
    make_record(buf, len, p->next_index);

    atomic_store(&p->send_started_ns, now_ns());
    int err = xtio_conn_send(p->conn_a, mode, buf, len);
    atomic_store(&p->send_started_ns, 0);
    if (err) {
        fail(p, "xtio_conn_send(A, %s, %zu bytes) failed: %s", xtio_mode_name(mode), len,
             strerror(-err));
        return false;
    }
    p->next_index++;
    p->exp.bytes_a += len;
    p->exp.write[traced_mode]++;
    if (traced_mode != XTIO_MODE_INLINE)
        p->exp.enqueue[traced_mode]++;
    if (traced_mode == XTIO_MODE_SYNC)
        p->exp.sync_wait_end++;
    return true;
}

/* Posted to the loop: on the loop thread every mode is written at once and traced as inline. */
static void send_inline_on_loop(void *arg)
{
    struct program *p = arg;
    static const enum xtio_mode modes[INLINE_SENDS] = {XTIO_MODE_INLINE, XTIO_MODE_SYNC,
                                                       XTIO_MODE_ASYNC};
    if (!xtio_loop_is_current(p->loop)) {
        fail(p, "a function run by xtio_loop_call() is not on the loop thread");
        return;
    }
    for (int i = 0; i < INLINE_SENDS; i++) {
        if (!send_a(p, modes[i], XTIO_MODE_INLINE, INLINE_LEN))
            return;
    }
}

static bool send_batches(struct program *p)
{
    char buf[BATCH_LEN];
    xtio_spool *spool = NULL;
    int err = xtio_spool_create(&spool, p->conn_a, SPOOL_THRESHOLD);
    if (err) {
        fail(p, "xtio_spool_create(A) failed: %s", strerror(-err));
        return false;
    }

    /* The first batch is handed off by the threshold, the second by an explicit flush. */
    uint32_t spooled = 0;
    bool ok = true;
    for (int i = 0; ok && i < 10 * SPOOL_THRESHOLD / BATCH_LEN; i++) {
        make_record(buf, sizeof(buf), p->next_index);
        err = xtio_spool_append(spool, buf, sizeof(buf));
        if (err) {
            fail(p, "xtio_spool_append(A) failed: %s", strerror(-err));
            ok = false;
            break;
        }
        p->next_index++;
        p->exp.bytes_a += sizeof(buf);
        spooled++;
        if (xtio_spool_pending_records(spool) == 0)
            break;
    }
    if (ok && xtio_spool_pending_records(spool) != 0) {
        fail(p, "the spool never handed off: %zu bytes spooled with threshold %d",
             xtio_spool_pending_bytes(spool), SPOOL_THRESHOLD);
        ok = false;
    }
    if (ok) {
        p->exp.batch_records += spooled;
        for (int i = 0; i < BATCH_TAIL_RECORDS; i++) {
            make_record(buf, sizeof(buf), p->next_index);
            err = xtio_spool_append(spool, buf, sizeof(buf));
            if (err) {
                fail(p, "xtio_spool_append(A) failed: %s", strerror(-err));
                ok = false;
                break;
            }
            p->next_index++;
            p->exp.bytes_a += sizeof(buf);
        }
    }
    if (ok) {
        err = xtio_spool_flush(spool);
        if (err) {
            fail(p, "xtio_spool_flush(A) failed: %s", strerror(-err));
            ok = false;
        }
        p->exp.batch_records += BATCH_TAIL_RECORDS;
        p->exp.write[XTIO_MODE_BATCH] += 2;
        p->exp.enqueue[XTIO_MODE_BATCH] += 2;
    }
    err = xtio_spool_destroy(spool);
    if (ok && err) {
        fail(p, "xtio_spool_destroy(A) failed with nothing left to flush: %s", strerror(-err));
        ok = false;
    }
    return ok;
}

/* Sends a burst the client does not read, so the worker must wait for it. */
static bool send_under_pressure(struct program *p)
{
    atomic_store(&p->reader.pause_requested, true);
    uint64_t start = now_ns();
    while (!atomic_load(&p->reader.paused)) {
        if (now_ns() - start > WAIT_LIMIT_NS) {
            fail(p, "the reader thread did not stop reading within 10 s");
            return false;
        }
        sleep_ms(1);
    }
    for (int i = 0; i < PRESSURE_SENDS; i++) {
        if (!send_a(p, XTIO_MODE_ASYNC, XTIO_MODE_ASYNC, PRESSURE_LEN))
            return false;
    }
    return true;
}

/* Posted to the loop: holds it while the worker queues to B, then closes B on the loop thread,
 * so that everything queued is dropped by that close. */
static void hold_loop_and_close_b(void *arg)
{
    struct program *p = arg;
    struct blocker *b = &p->blocker;

    set_flag(&b->mu, &b->cv, &b->loop_held);
    if (!wait_flag(&b->mu, &b->cv, &b->records_queued, WAIT_LIMIT_NS))
        fail(p, "the worker did not queue its records to B within 10 s");
    xtio_conn_close(b->conn);
    if (xtio_conn_is_open(b->conn))
        fail(p, "B is still open after xtio_conn_close() on its loop thread");
    set_flag(&b->mu, &b->cv, &b->closed);
}

static bool send_to_be_dropped(struct program *p)
{
    struct blocker *b = &p->blocker;
    char buf[DROP_LEN];

    int err = xtio_loop_post(p->loop, hold_loop_and_close_b, p);
    if (err) {
        fail(p, "xtio_loop_post() failed: %s", strerror(-err));
        return false;
    }
    if (!wait_flag(&b->mu, &b->cv, &b->loop_held, WAIT_LIMIT_NS)) {
        fail(p, "the loop did not run the posted function within 10 s");
        return false;
    }
    bool ok = true;
    for (uint32_t i = 0; i < DROP_SENDS; i++) {
        make_record(buf, sizeof(buf), i);
        err = xtio_conn_send(p->conn_b, XTIO_MODE_ASYNC, buf, sizeof(buf));
        if (err) {
            fail(p, "xtio_conn_send(B, async) failed while B was open: %s", strerror(-err));
            ok = false;
            break;
        }
        p->exp.enqueue[XTIO_MODE_ASYNC]++;
        p->exp.drops++;
        p->exp.drop_bytes += sizeof(buf);
    }
    set_flag(&b->mu, &b->cv, &b->records_queued);
    if (!wait_flag(&b->mu, &b->cv, &b->closed, WAIT_LIMIT_NS)) {
        fail(p, "the loop did not close B within 10 s");
        return false;
    }
    return ok;
}

/* Run through xtio_loop_call() to wait until the loop went through what was posted before. */
static void nothing(void *arg)
{
    (void)arg;
}

/* xtio_loop_call() from a thread other than the loop's, counted for the trace's loop_call posts. */
static int call_on_loop(struct program *p, xtio_loop_fn fn, void *arg)
{
    atomic_fetch_add(&p->exp.loop_calls, 1);
    return xtio_loop_call(p->loop, fn, arg);
}

static void *worker_main(void *arg)
{
    struct program *p = arg;

    pthread_setname_np(pthread_self(), WORKER_NAME);
    p->worker_tid = gettid();

    int err = call_on_loop(p, send_inline_on_loop, p);
    if (err) {
        fail(p, "xtio_loop_call() failed: %s", strerror(-err));
        return NULL;
    }
    if (atomic_load(&p->failed))
        return NULL;
    for (int i = 0; i < SYNC_SENDS; i++) {
        if (!send_a(p, XTIO_MODE_SYNC, XTIO_MODE_SYNC, SYNC_LEN))
            return NULL;
    }
    for (int i = 0; i < ASYNC_SENDS; i++) {
        if (!send_a(p, XTIO_MODE_ASYNC, XTIO_MODE_ASYNC, ASYNC_LEN))
            return NULL;
    }
    if (!send_batches(p))
        return NULL;
    /* A direct send first writes, on its own thread, whatever is still queued (send order must
     * hold), and those writes would then carry the worker's tid. Let the loop drain the queue, so
     * that every write but the direct ones is the loop's. */
    err = call_on_loop(p, nothing, NULL);
    if (err) {
        fail(p, "xtio_loop_call() failed: %s", strerror(-err));
        return NULL;
    }
    for (int i = 0; i < DIRECT_SENDS; i++) {
        if (!send_a(p, XTIO_MODE_DIRECT, XTIO_MODE_DIRECT, DIRECT_LEN))
            return NULL;
    }
    if (!send_under_pressure(p))
        return NULL;
    send_to_be_dropped(p);
    return NULL;
}

/* Stops reading until the worker has been stuck in a send for a while (or a bounded time
 * passed), so that the producer waits for the client at least once. */
static void hold_off_reading(struct program *p)
{
    atomic_store(&p->reader.paused, true);
    uint64_t start = now_ns();
    while (now_ns() - start < PAUSE_LIMIT_NS) {
        uint64_t started = atomic_load(&p->send_started_ns);
        if (started && now_ns() - started >= BLOCKED_SEND_NS)
            break;
        sleep_ms(2);
    }
    atomic_store(&p->reader.pause_requested, false);
    atomic_store(&p->reader.paused, false);
}

static bool take_bytes(struct program *p, const char *data, size_t len)
{
    struct reader *r = &p->reader;
    for (size_t i = 0; i < len; i++) {
        if (r->line_len == MAX_RECORD) {
            fail(p, "reader: a record on A is longer than %d bytes: the stream is garbled",
                 MAX_RECORD);
            return false;
        }
        r->line[r->line_len++] = data[i];
        if (data[i] != '\n')
            continue;
        r->line[r->line_len] = '\0';
        unsigned long index = strtoul(r->line, NULL, 16);
        if (r->line_len < 10 || r->line[8] != ' ' || index != r->next_index) {
            fail(p,
                 "reader: record %" PRIu32 " expected on A, got \"%.20s...\": output is "
                 "out of send order or garbled",
                 r->next_index, r->line);
            return false;
        }
        r->next_index++;
        r->line_len = 0;
    }
    atomic_fetch_add(&r->bytes, len);
    return true;
}

static void *reader_main(void *arg)
{
    struct program *p = arg;
    struct reader *r = &p->reader;
    char buf[16384];
    uint64_t last_data = now_ns();

    pthread_setname_np(pthread_self(), READER_NAME);
    for (;;) {
        if (atomic_load(&r->pause_requested)) {
            hold_off_reading(p);
            last_data = now_ns();
            continue;
        }
        struct pollfd pfd = {.fd = r->fd, .events = POLLIN};
        int n = poll(&pfd, 1, 20);
        if (n < 0 && errno != EINTR) {
            fail(p, "reader: poll() failed: %s", strerror(errno));
            return NULL;
        }
        if (n <= 0) {
            if (now_ns() - last_data > READER_IDLE_LIMIT_NS) {
                fail(p, "reader: nothing arrived on A for 30 s and it was not closed");
                return NULL;
            }
            continue;
        }
        ssize_t got = read(r->fd, buf, sizeof(buf));
        if (got == 0)
            return NULL; /* A closed: the loop stopped */
        if (got < 0) {
            if (errno == EINTR)
                continue;
            fail(p, "reader: read() on A failed: %s", strerror(errno));
            return NULL;
        }
        last_data = now_ns();
        if (!take_bytes(p, buf, (size_t)got))
            return NULL;
    }
}

/* Makes a connected loopback TCP pair; *server goes to libxtio, *client stays here. */
static int make_tcp_pair(int *server, int *client)
{
    int bufsize = SOCKET_BUFFER;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    socklen_t addrlen = sizeof(addr);
    int err = 0;

    *server = *client = -1;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener < 0)
        return -errno;
    if (bind(listener, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(listener, 1) != 0 ||
        getsockname(listener, (struct sockaddr *)&addr, &addrlen) != 0) {
        err = -errno;
        goto end;
    }
    *client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    /* Before connect, so that the window is negotiated with the small buffer. */
    if (*client < 0 || setsockopt(*client, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof(bufsize)) != 0 ||
        connect(*client, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        err = -errno;
        goto end;
    }
    *server = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    if (*server < 0 || setsockopt(*server, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof(bufsize)) != 0)
        err = -errno;
end:
    close(listener);
    if (err) {
        if (*server >= 0)
            close(*server);
        if (*client >= 0)
            close(*client);
        *server = *client = -1;
    }
    return err;
}

static void on_data(xtio_conn *conn, const void *data, size_t len, void *user)
{
    (void)conn;
    (void)data;
    (void)len;
    (void)user;
}

static void on_close(xtio_conn *conn, enum xtio_close_reason reason, void *user)
{
    (void)conn;
    (void)reason;
    (void)user;
}

static int open_conn(struct program *p, xtio_conn **conn, int *client, size_t max_pending,
                     const char *which)
{
    int server;
    int err = make_tcp_pair(&server, client);
    if (err) {
        fail(p, "cannot make a loopback TCP connection for %s: %s", which, strerror(-err));
        return err;
    }
    struct xtio_conn_options options = {
        .callbacks = {.on_data = on_data, .on_close = on_close},
        .max_pending = max_pending,
    };
    err = xtio_conn_open(conn, p->loop, server, &options);
    if (err)
        fail(p, "xtio_conn_open(%s) failed: %s", which, strerror(-err));
    return err;
}

static bool wait_for_client_a(struct program *p)
{
    uint64_t start = now_ns();
    while (atomic_load(&p->reader.bytes) < p->exp.bytes_a) {
        if (atomic_load(&p->failed))
            return false;
        if (now_ns() - start > WAIT_LIMIT_NS) {
            fail(p, "the client of A received %" PRIu64 " of %" PRIu64 " bytes within 10 s",
                 (uint64_t)atomic_load(&p->reader.bytes), p->exp.bytes_a);
            return false;
        }
        sleep_ms(2);
    }
    /* Flush notifications for the last bytes may come a turn after the client saw them. */
    for (int i = 0; i < 2; i++)
        call_on_loop(p, nothing, NULL);
    return true;
}

/* The library's own counters must tell the same story as the trace will. */
static void check_stats(struct program *p, const struct xtio_loop_stats *stats)
{
    for (int m = 0; m < XTIO_MODE_COUNT; m++) {
        const char *name = xtio_mode_name((enum xtio_mode)m);
        if (stats->mode[m].handoffs != p->exp.write[m])
            fail(p, "xtio_loop_get_stats: %s handoffs=%" PRIu64 ", the program made %" PRIu64, name,
                 stats->mode[m].handoffs, p->exp.write[m]);
    }
    uint64_t drops = 0, drop_bytes = 0;
    for (int m = 0; m < XTIO_MODE_COUNT; m++) {
        drops += stats->mode[m].drops;
        drop_bytes += stats->mode[m].drop_bytes;
    }
    if (drops != p->exp.drops || drop_bytes != p->exp.drop_bytes)
        fail(p,
             "xtio_loop_get_stats: %" PRIu64 " drops of %" PRIu64
             " bytes, the program made %" PRIu64 " of %" PRIu64,
             drops, drop_bytes, p->exp.drops, p->exp.drop_bytes);
    if (stats->mode[XTIO_MODE_BATCH].records != p->exp.batch_records)
        fail(p, "xtio_loop_get_stats: batch records=%" PRIu64 ", the program spooled %" PRIu64,
             stats->mode[XTIO_MODE_BATCH].records, p->exp.batch_records);
    if (stats->conns_opened != 2 || stats->conns_closed != 2)
        fail(p,
             "xtio_loop_get_stats: %" PRIu64 " connections opened and %" PRIu64
             " closed, expected 2 and 2",
             stats->conns_opened, stats->conns_closed);
}

static void print_expectations(const struct program *p, const struct xtio_loop_stats *stats,
                               pid_t loop_tid, uint32_t loop_id)
{
    uint64_t backpressure = 0;
    for (int m = 0; m < XTIO_MODE_COUNT; m++)
        backpressure += stats->mode[m].backpressure_waits;

    printf("pid=%d\n", (int)getpid());
    printf("loop_id=%" PRIu32 "\n", loop_id);
    printf("loop_tid=%d\n", (int)loop_tid);
    printf("worker_tid=%d\n", (int)p->worker_tid);
    printf("loop_name=%s\n", LOOP_NAME);
    printf("worker_name=%s\n", WORKER_NAME);
    printf("conn_a=%" PRIu64 "\n", xtio_conn_id(p->conn_a));
    printf("conn_b=%" PRIu64 "\n", xtio_conn_id(p->conn_b));
    printf("bytes_a=%" PRIu64 "\n", p->exp.bytes_a);
    printf("loop_start=1\nloop_stop=1\nconn_open=2\nconn_close=2\n");
    for (int m = 0; m < XTIO_MODE_COUNT; m++) {
        const char *name = xtio_mode_name((enum xtio_mode)m);
        printf("handoff_write.%s=%" PRIu64 "\n", name, p->exp.write[m]);
        printf("handoff_enqueue.%s=%" PRIu64 "\n", name, p->exp.enqueue[m]);
    }
    printf("batch_records=%" PRIu64 "\n", p->exp.batch_records);
    printf("sync_wait_end=%" PRIu64 "\n", p->exp.sync_wait_end);
    printf("handoff_drop=%" PRIu64 "\n", p->exp.drops);
    printf("drop_bytes=%" PRIu64 "\n", p->exp.drop_bytes);
    /* Only the library knows how often its producers waited; the program made sure it was >0. */
    printf("backpressure=%" PRIu64 "\n", backpressure);
    printf("loop_calls=%" PRIu64 "\n", (uint64_t)atomic_load(&p->exp.loop_calls));
}

int main(void)
{
    static struct program prog = {
        .blocker = {.mu = PTHREAD_MUTEX_INITIALIZER},
        .reader = {.fd = -1},
        .client_b = -1,
    };
    struct program *p = &prog;
    bool reader_started = false;
    int err;

    alarm(WATCHDOG_SECONDS);
    pthread_condattr_t cattr;
    pthread_condattr_init(&cattr);
    pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
    pthread_cond_init(&p->blocker.cv, &cattr);
    pthread_condattr_destroy(&cattr);

    err = xtio_loop_create(&p->loop, LOOP_NAME);
    if (err) {
        fail(p, "xtio_loop_create() failed: %s", strerror(-err));
        return 1;
    }
    err = xtio_loop_start(p->loop);
    if (err) {
        fail(p, "xtio_loop_start() failed: %s", strerror(-err));
        goto end;
    }
    if (open_conn(p, &p->conn_a, &p->reader.fd, CONN_A_MAX_PENDING, "A") ||
        open_conn(p, &p->conn_b, &p->client_b, 0, "B"))
        goto end;
    p->blocker.conn = p->conn_b;

    err = pthread_create(&p->reader.thread, NULL, reader_main, p);
    if (err) {
        fail(p, "cannot start the reader thread: %s", strerror(err));
        goto end;
    }
    reader_started = true;
    pthread_t worker;
    err = pthread_create(&worker, NULL, worker_main, p);
    if (err) {
        fail(p, "cannot start the worker thread: %s", strerror(err));
        goto end;
    }
    pthread_join(worker, NULL);
    if (!atomic_load(&p->failed))
        wait_for_client_a(p);

end:;
    pid_t loop_tid = xtio_loop_tid(p->loop);
    uint32_t loop_id = xtio_loop_id(p->loop);
    struct xtio_loop_stats stats;
    /* Stopping closes A (reason loop_stop). Its socket, though, is only shut once the loop is
     * destroyed (libevent finishes freeing a bufferevent on its loop, which no longer runs), so
     * the reader, which ends at end of file, is joined after that. */
    xtio_loop_stop(p->loop);
    xtio_loop_join(p->loop);
    xtio_loop_get_stats(p->loop, &stats);
    xtio_loop_destroy(p->loop);
    if (reader_started)
        pthread_join(p->reader.thread, NULL);

    if (!atomic_load(&p->failed)) {
        check_stats(p, &stats);
        uint64_t waits = 0;
        for (int m = 0; m < XTIO_MODE_COUNT; m++)
            waits += stats.mode[m].backpressure_waits;
        if (waits == 0)
            fail(p,
                 "no producer ever waited for the client (backpressure_waits=0), although A "
                 "was not read during a burst of %d KiB with max_pending=%d",
                 PRESSURE_SENDS * PRESSURE_LEN / 1024, CONN_A_MAX_PENDING);
    }
    if (!atomic_load(&p->failed))
        print_expectations(p, &stats, loop_tid, loop_id);

    if (p->conn_a)
        xtio_conn_unref(p->conn_a);
    if (p->conn_b)
        xtio_conn_unref(p->conn_b);
    if (p->reader.fd >= 0)
        close(p->reader.fd);
    if (p->client_b >= 0)
        close(p->client_b);
    pthread_cond_destroy(&p->blocker.cv);
    return atomic_load(&p->failed) ? 1 : 0;
}
