/*
 * Closing: a local close drops every pending handoff (counted), fails waiting and later senders
 * with -EPIPE and calls on_close once; a peer's end of file closes with reason peer; a close when
 * flushed delivers everything first. References stay valid across all of it (run under ASan).
 */
#include "harness.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define FRAME 16

static void expect_sends_refused(xtio_conn *conn)
{
    unsigned char frame[FRAME];
    frame_fill(frame, FRAME, 7, 0, 0);
    assert_int_equal(xtio_conn_send(conn, XTIO_MODE_SYNC, frame, FRAME), -EPIPE);
    assert_int_equal(xtio_conn_send(conn, XTIO_MODE_ASYNC, frame, FRAME), -EPIPE);
    assert_int_equal(xtio_conn_send(conn, XTIO_MODE_DIRECT, frame, FRAME), -EPIPE);
}

static void expect_closed_once(struct fixture *f, enum xtio_close_reason reason)
{
    assert_true(latch_wait(&f->record.closed, 1, HARNESS_WAIT_MS));
    /* Give a second on_close the chance to show up before counting. */
    assert_int_equal(loop_barrier(f->loop), 0);
    assert_int_equal(latch_get(&f->record.closed), 1);
    assert_int_equal(atomic_load(&f->record.reason), (int)reason);
    assert_int_equal(atomic_load(&f->record.close_tid), xtio_loop_tid(f->loop));
    assert_false(atomic_load(&f->record.open_in_on_close));
    assert_false(xtio_conn_is_open(f->conn));
}

/* ---- Close with 1000 handoffs pending -------------------------------------------------------- */

#define PENDING 1000

struct close_on_loop {
    struct fixture *f;
    bool open_after_close;
    int on_close_calls_after_close;
};

static void close_from_loop(void *arg)
{
    struct close_on_loop *c = arg;
    xtio_conn_close(c->f->conn);
    c->open_after_close = xtio_conn_is_open(c->f->conn);
    c->on_close_calls_after_close = latch_get(&c->f->record.closed);
}

struct sync_sender {
    xtio_conn *conn;
    atomic_bool started;
    atomic_bool returned;
    int rc;
};

static void *sync_sender_main(void *arg)
{
    struct sync_sender *sender = arg;
    unsigned char frame[FRAME];
    frame_fill(frame, FRAME, 1, 0, 0);
    atomic_store(&sender->started, true);
    sender->rc = xtio_conn_send(sender->conn, XTIO_MODE_SYNC, frame, FRAME);
    atomic_store(&sender->returned, true);
    return NULL;
}

static void test_close_drops_pending_handoffs(void **state)
{
    (void)state;
    struct fixture f;
    assert_int_equal(fixture_setup(&f, "t-close", 0, 0), 0);
    struct reader reader;
    assert_int_equal(reader_start(&reader, f.client_fd, FRAME, false, false), 0);

    /* The loop is held in a function that, once released, closes the connection before anything
     * queued behind it (the drain of the async sends among it) can run: all of them are pending
     * at the close. */
    struct close_on_loop closer = {.f = &f};
    struct blocker blocker;
    blocker_init(&blocker);
    blocker.then = close_from_loop;
    blocker.then_arg = &closer;
    assert_int_equal(blocker_hold(&blocker, f.loop), 0);

    unsigned char frame[FRAME];
    for (uint32_t i = 0; i < PENDING; i++) {
        frame_fill(frame, FRAME, 0, i, 0);
        assert_int_equal(xtio_conn_send(f.conn, XTIO_MODE_ASYNC, frame, FRAME), 0);
    }
    struct sync_sender sender = {.conn = f.conn};
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, sync_sender_main, &sender), 0);
    for (int i = 0; i < 1000 && !atomic_load(&sender.started); i++)
        harness_sleep_ms(1);
    /* Time for the sender to queue its handoff and block on it. */
    harness_sleep_ms(200);
    bool returned_early = atomic_load(&sender.returned);

    blocker_release(&blocker);
    pthread_join(thread, NULL);
    assert_false(returned_early);
    assert_int_equal(sender.rc, -EPIPE);
    assert_false(blocker.timed_out);

    expect_closed_once(&f, XTIO_CLOSE_LOCAL);
    /* On the loop thread the close is complete when xtio_conn_close() returns. */
    assert_false(closer.open_after_close);
    assert_int_equal(closer.on_close_calls_after_close, 1);

    struct xtio_loop_stats stats;
    xtio_loop_get_stats(f.loop, &stats);
    assert_int_equal(stats.mode[XTIO_MODE_ASYNC].drops, PENDING);
    assert_int_equal(stats.mode[XTIO_MODE_ASYNC].drop_bytes, PENDING * FRAME);
    assert_int_equal(stats.mode[XTIO_MODE_ASYNC].handoffs, 0);
    assert_int_equal(stats.mode[XTIO_MODE_SYNC].drops, 1);
    assert_int_equal(stats.mode[XTIO_MODE_SYNC].drop_bytes, FRAME);
    assert_int_equal(stats.mode[XTIO_MODE_SYNC].handoffs, 0);
    assert_int_equal(stats.conns_opened, 1);
    assert_int_equal(stats.conns_closed, 1);

    expect_sends_refused(f.conn);
    /* Idempotent, from either side. */
    xtio_conn_close(f.conn);
    xtio_conn_close_when_flushed(f.conn);
    expect_closed_once(&f, XTIO_CLOSE_LOCAL);

    /* Dropped means never written: the client sees the end of the stream and nothing else. */
    reader_join(&reader);
    assert_true(reader.eof);
    assert_int_equal(reader.bytes, 0);
    blocker_destroy(&blocker);
    fixture_teardown(&f);
}

/* ---- Close from another thread --------------------------------------------------------------- */

static void test_close_off_loop_then_unref(void **state)
{
    (void)state;
    enum { SENT = 10 };
    struct fixture f;
    assert_int_equal(fixture_setup(&f, "t-closeoff", 0, 0), 0);
    struct reader reader;
    assert_int_equal(reader_start(&reader, f.client_fd, FRAME, false, false), 0);

    unsigned char frame[FRAME];
    for (uint32_t i = 0; i < SENT; i++) {
        frame_fill(frame, FRAME, 0, i, 0);
        assert_int_equal(xtio_conn_send(f.conn, XTIO_MODE_ASYNC, frame, FRAME), 0);
    }
    /* Queued to the loop; the reference dropped right away must not be what keeps the connection
     * alive until the loop gets to it. */
    xtio_loop *loop = f.loop;
    xtio_conn_close(f.conn);
    xtio_conn_unref(f.conn);
    f.conn = NULL;

    assert_true(latch_wait(&f.record.closed, 1, HARNESS_WAIT_MS));
    assert_int_equal(loop_barrier(loop), 0);
    assert_int_equal(latch_get(&f.record.closed), 1);
    assert_int_equal(atomic_load(&f.record.reason), XTIO_CLOSE_LOCAL);

    /* Every accepted handoff was either written or dropped, and the client got a clean prefix. */
    struct xtio_loop_stats stats;
    xtio_loop_get_stats(loop, &stats);
    assert_int_equal(stats.mode[XTIO_MODE_ASYNC].handoffs + stats.mode[XTIO_MODE_ASYNC].drops,
                     SENT);
    reader_join(&reader);
    assert_true(reader.eof);
    assert_int_equal(reader.bad_frames, 0);
    assert_int_equal(reader.order_errors, 0);
    assert_true(reader.frames <= stats.mode[XTIO_MODE_ASYNC].handoffs);
    assert_int_equal(reader.bytes, reader.frames * FRAME);
    fixture_teardown(&f);
}

/* ---- The peer closes ------------------------------------------------------------------------- */

static void test_peer_close(void **state)
{
    (void)state;
    struct fixture f;
    assert_int_equal(fixture_setup(&f, "t-peer", 0, 0), 0);
    assert_true(xtio_conn_is_open(f.conn));
    /* Nothing unread on the client side, so the close is a clean end of file, not a reset. */
    close(f.client_fd);
    f.client_fd = -1;

    expect_closed_once(&f, XTIO_CLOSE_PEER);
    expect_sends_refused(f.conn);
    struct xtio_loop_stats stats;
    xtio_loop_get_stats(f.loop, &stats);
    assert_int_equal(stats.conns_closed, 1);
    fixture_teardown(&f);
}

/* ---- Close once flushed ---------------------------------------------------------------------- */

static void test_close_when_flushed_delivers_everything(void **state)
{
    (void)state;
    enum { SENT = 1000 };
    struct fixture f;
    assert_int_equal(fixture_setup(&f, "t-flushed", 0, 0), 0);
    struct reader reader;
    assert_int_equal(reader_start(&reader, f.client_fd, FRAME, false, false), 0);

    unsigned char frame[FRAME];
    for (uint32_t i = 0; i < SENT; i++) {
        frame_fill(frame, FRAME, 0, i, 0);
        assert_int_equal(xtio_conn_send(f.conn, XTIO_MODE_ASYNC, frame, FRAME), 0);
    }
    xtio_conn_close_when_flushed(f.conn);
    /* Refused at once, before the loop even got to the close. */
    expect_sends_refused(f.conn);

    /* The connection closes by itself: the reader ends on its end of file. */
    reader_join(&reader);
    if (reader.first_problem[0])
        print_error("client: %s\n", reader.first_problem);
    assert_true(reader.eof);
    assert_int_equal(reader.frames, SENT);
    assert_int_equal(reader.bad_frames, 0);
    assert_int_equal(reader.order_errors, 0);
    expect_closed_once(&f, XTIO_CLOSE_LOCAL);
    struct xtio_loop_stats stats;
    xtio_loop_get_stats(f.loop, &stats);
    assert_int_equal(stats.mode[XTIO_MODE_ASYNC].handoffs, SENT);
    assert_int_equal(stats.mode[XTIO_MODE_ASYNC].drops, 0);
    fixture_teardown(&f);
}

/* ---- The documented pattern: the last reference released in on_close ------------------------- */

struct owner {
    struct latch closed;
    _Atomic int reason;
};

static void unref_on_close(xtio_conn *conn, enum xtio_close_reason reason, void *user)
{
    struct owner *owner = user;
    atomic_store(&owner->reason, (int)reason);
    xtio_conn_unref(conn);
    latch_add(&owner->closed, 1);
}

static void test_unref_in_on_close(void **state)
{
    (void)state;
    xtio_loop *loop = NULL;
    assert_int_equal(xtio_loop_create(&loop, "t-owner"), 0);
    assert_int_equal(xtio_loop_start(loop), 0);

    struct owner owners[2];
    int client_fds[2];
    xtio_conn *conns[2];
    for (int i = 0; i < 2; i++) {
        latch_init(&owners[i].closed);
        atomic_store(&owners[i].reason, -1);
        int server_fd;
        assert_int_equal(harness_tcp_pair(&server_fd, &client_fds[i], 0), 0);
        struct xtio_conn_options options = {.callbacks = {.on_close = unref_on_close},
                                            .user = &owners[i]};
        assert_int_equal(xtio_conn_open(&conns[i], loop, server_fd, &options), 0);
        unsigned char frame[FRAME];
        frame_fill(frame, FRAME, 0, 0, 0);
        assert_int_equal(xtio_conn_send(conns[i], XTIO_MODE_ASYNC, frame, FRAME), 0);
    }
    /* One closed by us, one by its peer; neither connection is touched after its on_close. */
    xtio_conn_close(conns[0]);
    close(client_fds[1]);
    for (int i = 0; i < 2; i++)
        assert_true(latch_wait(&owners[i].closed, 1, HARNESS_WAIT_MS));
    assert_int_equal(atomic_load(&owners[0].reason), XTIO_CLOSE_LOCAL);
    /* The client end closed with one frame unread may also arrive as a reset. */
    int peer_reason = atomic_load(&owners[1].reason);
    assert_true(peer_reason == XTIO_CLOSE_PEER || peer_reason == XTIO_CLOSE_ERROR);

    struct xtio_loop_stats stats;
    xtio_loop_get_stats(loop, &stats);
    assert_int_equal(stats.conns_closed, 2);
    xtio_loop_destroy(loop);
    close(client_fds[0]);
    for (int i = 0; i < 2; i++)
        latch_destroy(&owners[i].closed);
}

int main(void)
{
    /* libxtio leaves SIGPIPE to the process; a write to a client that left must not kill us. */
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_close_drops_pending_handoffs),
        cmocka_unit_test(test_close_off_loop_then_unref),
        cmocka_unit_test(test_peer_close),
        cmocka_unit_test(test_close_when_flushed_delivers_everything),
        cmocka_unit_test(test_unref_in_on_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
