/*
 * Loopback TCP, frames, the verifying client reader and the waiting helpers of the libxtio unit
 * tests (see harness.h).
 */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

uint64_t harness_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void harness_sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Absolute CLOCK_MONOTONIC deadline for the condvars below, which all use that clock so that a
 * wall-clock step cannot stretch or cut a bounded wait. */
static struct timespec deadline_in(unsigned ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

static void monotonic_cond_init(pthread_cond_t *cv)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &attr);
    pthread_condattr_destroy(&attr);
}

/* ---- Sockets ------------------------------------------------------------------------------- */

int harness_tcp_pair(int *server_fd, int *client_fd, int sockbuf)
{
    *server_fd = *client_fd = -1;
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener < 0)
        return -errno;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t addr_len = sizeof(addr);
    int client = -1, server = -1, err = 0;
    if (bind(listener, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(listener, 1) != 0 ||
        getsockname(listener, (struct sockaddr *)&addr, &addr_len) != 0) {
        err = -errno;
        goto end;
    }
    client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (client < 0) {
        err = -errno;
        goto end;
    }
    /* The receive buffer must be set before connect: it sizes the window scale offered. */
    if (sockbuf > 0 && setsockopt(client, SOL_SOCKET, SO_RCVBUF, &sockbuf, sizeof(sockbuf)) != 0) {
        err = -errno;
        goto end;
    }
    /* Loopback connects complete against the backlog, so a blocking connect before accept is
     * fine on one thread. */
    if (connect(client, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        err = -errno;
        goto end;
    }
    server = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    if (server < 0) {
        err = -errno;
        goto end;
    }
    if (sockbuf > 0 && setsockopt(server, SOL_SOCKET, SO_SNDBUF, &sockbuf, sizeof(sockbuf)) != 0) {
        err = -errno;
        goto end;
    }
    *server_fd = server;
    *client_fd = client;
    server = client = -1;
end:
    if (server >= 0)
        close(server);
    if (client >= 0)
        close(client);
    close(listener);
    return err;
}

int harness_sockbuf(int fd, int option)
{
    int value = 0;
    socklen_t len = sizeof(value);
    return getsockopt(fd, SOL_SOCKET, option, &value, &len) == 0 ? value : 0;
}

/* ---- Frames ------------------------------------------------------------------------------- */

static uint32_t fnv1a(uint32_t hash, const unsigned char *bytes, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        hash ^= bytes[i];
        hash *= 16777619u;
    }
    return hash;
}

static uint32_t frame_check(const unsigned char *frame, size_t size)
{
    uint32_t hash = fnv1a(2166136261u, frame, 12);
    /* Mix in the size so that frames of a test with another frame size never pass. */
    hash ^= (uint32_t)size;
    return fnv1a(hash, frame + FRAME_HEADER_SIZE, size - FRAME_HEADER_SIZE);
}

void frame_fill(void *buf, size_t size, uint32_t producer, uint32_t counter, uint32_t global)
{
    unsigned char *frame = buf;
    memcpy(frame, &producer, 4);
    memcpy(frame + 4, &counter, 4);
    memcpy(frame + 8, &global, 4);
    for (size_t i = FRAME_HEADER_SIZE; i < size; i++)
        frame[i] = (unsigned char)(counter * 7u + producer * 31u + i);
    uint32_t check = frame_check(frame, size);
    memcpy(frame + 12, &check, 4);
}

/* ---- Latch -------------------------------------------------------------------------------- */

void latch_init(struct latch *latch)
{
    pthread_mutex_init(&latch->mu, NULL);
    monotonic_cond_init(&latch->cv);
    latch->count = 0;
}

void latch_destroy(struct latch *latch)
{
    pthread_cond_destroy(&latch->cv);
    pthread_mutex_destroy(&latch->mu);
}

void latch_add(struct latch *latch, int n)
{
    pthread_mutex_lock(&latch->mu);
    latch->count += n;
    pthread_cond_broadcast(&latch->cv);
    pthread_mutex_unlock(&latch->mu);
}

int latch_get(struct latch *latch)
{
    pthread_mutex_lock(&latch->mu);
    int count = latch->count;
    pthread_mutex_unlock(&latch->mu);
    return count;
}

bool latch_wait(struct latch *latch, int target, unsigned timeout_ms)
{
    struct timespec deadline = deadline_in(timeout_ms);
    pthread_mutex_lock(&latch->mu);
    int rc = 0;
    while (latch->count < target && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&latch->cv, &latch->mu, &deadline);
    bool reached = latch->count >= target;
    pthread_mutex_unlock(&latch->mu);
    return reached;
}

/* ---- Blocker ------------------------------------------------------------------------------ */

void blocker_init(struct blocker *blocker)
{
    memset(blocker, 0, sizeof(*blocker));
    latch_init(&blocker->entered);
    latch_init(&blocker->released);
}

void blocker_destroy(struct blocker *blocker)
{
    latch_destroy(&blocker->entered);
    latch_destroy(&blocker->released);
}

static void blocker_run(void *arg)
{
    struct blocker *blocker = arg;
    latch_add(&blocker->entered, 1);
    /* Bounded, so that a failed test leaves a loop that can still be stopped. */
    blocker->timed_out = !latch_wait(&blocker->released, 1, HARNESS_WAIT_MS);
    if (blocker->then)
        blocker->then(blocker->then_arg);
}

int blocker_hold(struct blocker *blocker, xtio_loop *loop)
{
    int rc = xtio_loop_post(loop, blocker_run, blocker);
    if (rc != 0)
        return rc;
    return latch_wait(&blocker->entered, 1, HARNESS_WAIT_MS) ? 0 : -ETIMEDOUT;
}

void blocker_release(struct blocker *blocker)
{
    latch_add(&blocker->released, 1);
}

/* ---- Reader ------------------------------------------------------------------------------- */

__attribute__((format(printf, 2, 3))) static void note_problem(struct reader *reader,
                                                               const char *fmt, ...)
{
    if (reader->first_problem[0] != '\0')
        return;
    va_list args;
    va_start(args, fmt);
    vsnprintf(reader->first_problem, sizeof(reader->first_problem), fmt, args);
    va_end(args);
}

static void verify_frame(struct reader *reader, const unsigned char *frame)
{
    uint32_t producer, counter, global, check;
    memcpy(&producer, frame, 4);
    memcpy(&counter, frame + 4, 4);
    memcpy(&global, frame + 8, 4);
    memcpy(&check, frame + 12, 4);
    if (check != frame_check(frame, reader->frame_size) || producer >= FRAME_MAX_PRODUCERS) {
        reader->bad_frames++;
        note_problem(reader, "bad frame: producer=%" PRIu32 " frame=%" PRIu64, producer,
                     reader->frames);
        return;
    }
    if (counter != reader->next[producer]) {
        reader->order_errors++;
        note_problem(reader,
                     "out of order: producer=%" PRIu32 " counter=%" PRIu32 " expected=%" PRIu32,
                     producer, counter, reader->next[producer]);
    }
    reader->next[producer] = counter + 1;
    if (reader->check_global) {
        if (global != reader->next_global) {
            reader->global_errors++;
            note_problem(reader,
                         "global out of order: producer=%" PRIu32 " global=%" PRIu32
                         " expected=%" PRIu64,
                         producer, global, reader->next_global);
        }
        reader->next_global = (uint64_t)global + 1;
    }
}

/* Waits while paused; false when told to stop. */
static bool wait_unpaused(struct reader *reader)
{
    pthread_mutex_lock(&reader->mu);
    while (reader->paused && !atomic_load(&reader->stop)) {
        struct timespec deadline = deadline_in(100);
        pthread_cond_timedwait(&reader->cv, &reader->mu, &deadline);
    }
    pthread_mutex_unlock(&reader->mu);
    return !atomic_load(&reader->stop);
}

static void *reader_main(void *arg)
{
    struct reader *reader = arg;
    unsigned char buf[64 * 1024], partial[FRAME_MAX_SIZE];
    size_t have = 0;
    uint64_t last_progress = harness_now_ms();

    while (wait_unpaused(reader)) {
        struct pollfd pfd = {.fd = reader->fd, .events = POLLIN};
        int ready = poll(&pfd, 1, 100);
        if (ready < 0 && errno != EINTR) {
            reader->read_error = errno;
            break;
        }
        if (ready <= 0) {
            if (harness_now_ms() - last_progress > HARNESS_WAIT_MS) {
                reader->deadline_hit = true;
                break;
            }
            continue;
        }
        ssize_t got = recv(reader->fd, buf, sizeof(buf), 0);
        if (got < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            reader->read_error = errno;
            break;
        }
        if (got == 0) {
            reader->eof = true;
            break;
        }
        last_progress = harness_now_ms();
        reader->bytes += (uint64_t)got;
        int completed = 0;
        for (ssize_t i = 0; i < got;) {
            size_t take = reader->frame_size - have;
            if (take > (size_t)(got - i))
                take = (size_t)(got - i);
            memcpy(partial + have, buf + i, take);
            have += take;
            i += (ssize_t)take;
            if (have == reader->frame_size) {
                verify_frame(reader, partial);
                reader->frames++;
                completed++;
                have = 0;
            }
        }
        if (completed)
            latch_add(&reader->frames_seen, completed);
    }
    if (have != 0)
        note_problem(reader,
                     "stream ended inside a frame: %zu bytes of it after %" PRIu64 " frames", have,
                     reader->frames);
    latch_add(&reader->ended, 1);
    return NULL;
}

int reader_start(struct reader *reader, int fd, size_t frame_size, bool check_global, bool paused)
{
    if (frame_size < FRAME_HEADER_SIZE || frame_size > FRAME_MAX_SIZE)
        return -EINVAL;
    memset(reader, 0, sizeof(*reader));
    reader->fd = fd;
    reader->frame_size = frame_size;
    reader->check_global = check_global;
    reader->paused = paused;
    latch_init(&reader->frames_seen);
    latch_init(&reader->ended);
    pthread_mutex_init(&reader->mu, NULL);
    monotonic_cond_init(&reader->cv);
    int err = pthread_create(&reader->thread, NULL, reader_main, reader);
    return -err;
}

void reader_resume(struct reader *reader)
{
    pthread_mutex_lock(&reader->mu);
    reader->paused = false;
    pthread_cond_broadcast(&reader->cv);
    pthread_mutex_unlock(&reader->mu);
}

bool reader_wait_frames(struct reader *reader, uint64_t frames, unsigned timeout_ms)
{
    return latch_wait(&reader->frames_seen, (int)frames, timeout_ms);
}

bool reader_wait_end(struct reader *reader, unsigned timeout_ms)
{
    return latch_wait(&reader->ended, 1, timeout_ms);
}

void reader_stop(struct reader *reader)
{
    atomic_store(&reader->stop, true);
}

void reader_join(struct reader *reader)
{
    pthread_join(reader->thread, NULL);
    pthread_cond_destroy(&reader->cv);
    pthread_mutex_destroy(&reader->mu);
    latch_destroy(&reader->frames_seen);
    latch_destroy(&reader->ended);
}

/* ---- Fixture ------------------------------------------------------------------------------ */

static void record_close(xtio_conn *conn, enum xtio_close_reason reason, void *user)
{
    struct conn_record *record = user;
    atomic_store(&record->reason, (int)reason);
    atomic_store(&record->close_tid, gettid());
    atomic_store(&record->open_in_on_close, xtio_conn_is_open(conn));
    latch_add(&record->closed, 1);
}

static void record_data(xtio_conn *conn, const void *data, size_t len, void *user)
{
    (void)conn;
    (void)data;
    struct conn_record *record = user;
    atomic_fetch_add(&record->data_bytes, len);
}

int fixture_setup(struct fixture *fixture, const char *name, size_t max_pending, int sockbuf)
{
    memset(fixture, 0, sizeof(*fixture));
    fixture->client_fd = -1;
    latch_init(&fixture->record.closed);
    atomic_store(&fixture->record.reason, -1);

    int rc = xtio_loop_create(&fixture->loop, name);
    if (rc == 0)
        rc = xtio_loop_start(fixture->loop);
    int server_fd = -1;
    if (rc == 0)
        rc = harness_tcp_pair(&server_fd, &fixture->client_fd, sockbuf);
    if (rc == 0) {
        fixture->server_sndbuf = harness_sockbuf(server_fd, SO_SNDBUF);
        fixture->client_rcvbuf = harness_sockbuf(fixture->client_fd, SO_RCVBUF);
        struct xtio_conn_options options = {
            .callbacks = {.on_data = record_data, .on_close = record_close},
            .user = &fixture->record,
            .max_pending = max_pending,
        };
        rc = xtio_conn_open(&fixture->conn, fixture->loop, server_fd, &options);
    }
    return rc;
}

void fixture_teardown(struct fixture *fixture)
{
    xtio_conn_unref(fixture->conn);
    fixture->conn = NULL;
    xtio_loop_destroy(fixture->loop);
    fixture->loop = NULL;
    if (fixture->client_fd >= 0)
        close(fixture->client_fd);
    fixture->client_fd = -1;
    latch_destroy(&fixture->record.closed);
}

bool wait_stats(xtio_loop *loop, bool (*pred)(const struct xtio_loop_stats *stats, void *arg),
                void *arg, unsigned timeout_ms, struct xtio_loop_stats *stats)
{
    uint64_t deadline = harness_now_ms() + timeout_ms;
    for (;;) {
        xtio_loop_get_stats(loop, stats);
        if (pred(stats, arg))
            return true;
        if (harness_now_ms() >= deadline)
            return false;
        harness_sleep_ms(1);
    }
}

static void do_nothing(void *arg)
{
    (void)arg;
}

int loop_barrier(xtio_loop *loop)
{
    return xtio_loop_call(loop, do_nothing, NULL);
}

void fixture_finish_stream(struct fixture *fixture, struct reader *reader, uint64_t frames,
                           size_t frame_size)
{
    bool complete = reader_wait_frames(reader, frames, HARNESS_WAIT_MS);
    xtio_conn_close(fixture->conn);
    reader_join(reader);
    if (reader->first_problem[0])
        print_error("client: %s\n", reader->first_problem);
    assert_true(complete);
    assert_true(reader->eof);
    assert_int_equal(reader->read_error, 0);
    assert_int_equal(reader->bad_frames, 0);
    assert_int_equal(reader->order_errors, 0);
    assert_int_equal(reader->global_errors, 0);
    assert_int_equal(reader->frames, frames);
    assert_int_equal(reader->bytes, frames * frame_size);
}
