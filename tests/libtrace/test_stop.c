/*
 * Stopping a loop with work still queued: functions posted before the stop all run, later posts
 * are refused, open connections close with reason loop_stop (their pending handoffs dropped and
 * counted), waiting producers are released, and references the caller still holds stay valid
 * after the loop is destroyed.
 */
#include "harness.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#define FRAME 16

static bool stopped_result(int rc)
{
    return rc == -EPIPE || rc == -ESHUTDOWN;
}

/* ---- Posted functions ------------------------------------------------------------------------ */

#define QUEUED 100

struct run_log {
    xtio_loop *loop;
    uint32_t order[QUEUED];
    int runs;
    int post_rc_during_stop; /* a post made by the last queued function */
};

struct queued_item {
    struct run_log *log;
    uint32_t index;
};

static void run_queued(void *arg)
{
    struct queued_item *item = arg;
    struct run_log *log = item->log;
    if (log->runs < QUEUED)
        log->order[log->runs] = item->index;
    log->runs++;
    if (item->index == QUEUED - 1)
        log->post_rc_during_stop = xtio_loop_post(log->loop, run_queued, item);
}

static void test_posts_before_stop_all_run(void **state)
{
    (void)state;
    xtio_loop *loop = NULL;
    assert_int_equal(xtio_loop_create(&loop, "t-stopq"), 0);
    assert_int_equal(xtio_loop_start(loop), 0);
    struct blocker blocker;
    blocker_init(&blocker);
    assert_int_equal(blocker_hold(&blocker, loop), 0);

    static struct run_log log;
    static struct queued_item items[QUEUED];
    memset(&log, 0, sizeof(log));
    log.loop = loop;
    log.post_rc_during_stop = 1;
    for (uint32_t i = 0; i < QUEUED; i++) {
        items[i] = (struct queued_item){.log = &log, .index = i};
        assert_int_equal(xtio_loop_post(loop, run_queued, &items[i]), 0);
    }
    xtio_loop_stop(loop);
    assert_int_equal(xtio_loop_post(loop, run_queued, &items[0]), -ESHUTDOWN);
    assert_int_equal(xtio_loop_call(loop, run_queued, &items[0]), -ESHUTDOWN);

    blocker_release(&blocker);
    assert_int_equal(xtio_loop_join(loop), 0);
    assert_false(blocker.timed_out);
    assert_int_equal(log.runs, QUEUED);
    for (uint32_t i = 0; i < QUEUED; i++)
        assert_int_equal(log.order[i], i);
    /* The loop itself cannot queue more work once stopping either. */
    assert_int_equal(log.post_rc_during_stop, -ESHUTDOWN);
    blocker_destroy(&blocker);
    xtio_loop_destroy(loop);
}

struct self_stop {
    xtio_loop *loop;
    int post_rc;
};

static void stop_self(void *arg)
{
    struct self_stop *s = arg;
    xtio_loop_stop(s->loop);
    s->post_rc = xtio_loop_post(s->loop, stop_self, s);
}

static void test_stop_from_loop_thread(void **state)
{
    (void)state;
    xtio_loop *loop = NULL;
    assert_int_equal(xtio_loop_create(&loop, "t-stopself"), 0);
    assert_int_equal(xtio_loop_start(loop), 0);
    struct self_stop s = {.loop = loop, .post_rc = 1};
    assert_int_equal(xtio_loop_post(loop, stop_self, &s), 0);
    assert_int_equal(xtio_loop_join(loop), 0);
    assert_int_equal(s.post_rc, -ESHUTDOWN);
    xtio_loop_destroy(loop);
}

/* ---- Connections open at the stop ------------------------------------------------------------ */

#define WRITTEN_BEFORE 50
#define SENT_AFTER     50

static void test_stop_closes_connection_and_drops_pending(void **state)
{
    (void)state;
    struct fixture f;
    assert_int_equal(fixture_setup(&f, "t-stopconn", 0, 0), 0);
    struct reader reader;
    assert_int_equal(reader_start(&reader, f.client_fd, FRAME, false, false), 0);

    /* Some output fully delivered before the stop... */
    unsigned char frame[FRAME];
    uint32_t counter = 0;
    for (; counter < WRITTEN_BEFORE; counter++) {
        frame_fill(frame, FRAME, 0, counter, 0);
        assert_int_equal(xtio_conn_send(f.conn, XTIO_MODE_ASYNC, frame, FRAME), 0);
    }
    assert_true(reader_wait_frames(&reader, WRITTEN_BEFORE, HARNESS_WAIT_MS));

    /* ...then sends made while the loop is held and already stopping: whatever of them is
     * accepted can never be written, so the stop must drop and count it. */
    struct blocker blocker;
    blocker_init(&blocker);
    assert_int_equal(blocker_hold(&blocker, f.loop), 0);
    xtio_loop_stop(f.loop);
    int accepted = 0, refused = 0;
    for (int i = 0; i < SENT_AFTER; i++, counter++) {
        frame_fill(frame, FRAME, 0, counter, 0);
        int rc = xtio_conn_send(f.conn, XTIO_MODE_ASYNC, frame, FRAME);
        if (rc == 0)
            accepted++;
        else if (stopped_result(rc))
            refused++;
    }
    blocker_release(&blocker);
    assert_int_equal(xtio_loop_join(f.loop), 0);
    assert_false(blocker.timed_out);
    assert_int_equal(accepted + refused, SENT_AFTER);
    print_message("sends while stopping: %d accepted (then dropped), %d refused\n", accepted,
                  refused);

    assert_int_equal(latch_get(&f.record.closed), 1);
    assert_int_equal(atomic_load(&f.record.reason), XTIO_CLOSE_LOOP_STOP);
    assert_int_equal(atomic_load(&f.record.close_tid), xtio_loop_tid(f.loop));
    assert_false(atomic_load(&f.record.open_in_on_close));
    struct xtio_loop_stats stats;
    xtio_loop_get_stats(f.loop, &stats);
    assert_int_equal(stats.mode[XTIO_MODE_ASYNC].handoffs, WRITTEN_BEFORE);
    assert_int_equal(stats.mode[XTIO_MODE_ASYNC].drops, accepted);
    assert_int_equal(stats.mode[XTIO_MODE_ASYNC].drop_bytes, accepted * FRAME);
    assert_int_equal(stats.conns_closed, 1);

    /* The client got what was delivered before the stop, then the end of the stream: the stop
     * closed the socket, not just the connection object, even though the loop is not destroyed
     * yet. */
    if (!reader_wait_end(&reader, 5000))
        reader_stop(&reader);
    reader_join(&reader);
    assert_true(reader.eof);
    assert_int_equal(reader.frames, WRITTEN_BEFORE);
    assert_int_equal(reader.bad_frames, 0);
    assert_int_equal(reader.order_errors, 0);

    /* The caller's reference outlives the loop. */
    xtio_loop_destroy(f.loop);
    f.loop = NULL;
    assert_false(xtio_conn_is_open(f.conn));
    assert_true(stopped_result(xtio_conn_send(f.conn, XTIO_MODE_ASYNC, frame, FRAME)));
    assert_true(stopped_result(xtio_conn_send(f.conn, XTIO_MODE_SYNC, frame, FRAME)));
    assert_true(stopped_result(xtio_conn_send(f.conn, XTIO_MODE_DIRECT, frame, FRAME)));
    xtio_conn_close(f.conn);
    blocker_destroy(&blocker);
    fixture_teardown(&f);
}

struct sync_sender {
    xtio_conn *conn;
    atomic_bool returned;
    int rc;
};

static void *sync_sender_main(void *arg)
{
    struct sync_sender *sender = arg;
    unsigned char frame[FRAME];
    frame_fill(frame, FRAME, 0, 0, 0);
    sender->rc = xtio_conn_send(sender->conn, XTIO_MODE_SYNC, frame, FRAME);
    atomic_store(&sender->returned, true);
    return NULL;
}

static void count_close(xtio_conn *conn, enum xtio_close_reason reason, void *user)
{
    (void)conn;
    struct conn_record *record = user;
    atomic_store(&record->reason, (int)reason);
    latch_add(&record->closed, 1);
}

/* xtio_loop_destroy() alone stops a loop with connections open and a sync sender waiting. */
static void test_destroy_releases_connections_and_waiters(void **state)
{
    (void)state;
    enum { CONNS = 3 };
    xtio_loop *loop = NULL;
    assert_int_equal(xtio_loop_create(&loop, "t-stopdestroy"), 0);
    assert_int_equal(xtio_loop_start(loop), 0);
    struct conn_record records[CONNS];
    xtio_conn *conns[CONNS];
    int client_fds[CONNS];
    for (int i = 0; i < CONNS; i++) {
        memset(&records[i], 0, sizeof(records[i]));
        latch_init(&records[i].closed);
        int server_fd;
        assert_int_equal(harness_tcp_pair(&server_fd, &client_fds[i], 0), 0);
        struct xtio_conn_options options = {.callbacks = {.on_close = count_close},
                                            .user = &records[i]};
        assert_int_equal(xtio_conn_open(&conns[i], loop, server_fd, &options), 0);
    }

    /* The loop is held and told to stop, so the sync send can be neither written nor refused by
     * a running loop: it is either refused outright or released by the stop. */
    struct blocker blocker;
    blocker_init(&blocker);
    assert_int_equal(blocker_hold(&blocker, loop), 0);
    xtio_loop_stop(loop);
    struct sync_sender sender = {.conn = conns[0]};
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, sync_sender_main, &sender), 0);
    harness_sleep_ms(100);
    blocker_release(&blocker);

    xtio_loop_destroy(loop);
    for (int i = 0; i < 200 && !atomic_load(&sender.returned); i++)
        harness_sleep_ms(10);
    bool returned = atomic_load(&sender.returned);
    if (returned)
        pthread_join(thread, NULL);
    assert_true(returned);
    assert_true(stopped_result(sender.rc));

    for (int i = 0; i < CONNS; i++) {
        assert_int_equal(latch_get(&records[i].closed), 1);
        assert_int_equal(atomic_load(&records[i].reason), XTIO_CLOSE_LOOP_STOP);
        assert_false(xtio_conn_is_open(conns[i]));
        xtio_conn_unref(conns[i]);
        latch_destroy(&records[i].closed);
        close(client_fds[i]);
    }
    blocker_destroy(&blocker);
}

static void test_open_after_stop_is_refused(void **state)
{
    (void)state;
    xtio_loop *loop = NULL;
    assert_int_equal(xtio_loop_create(&loop, "t-stopopen"), 0);
    assert_int_equal(xtio_loop_start(loop), 0);
    xtio_loop_stop(loop);
    int server_fd, client_fd;
    assert_int_equal(harness_tcp_pair(&server_fd, &client_fd, 0), 0);
    xtio_conn *conn = NULL;
    assert_int_equal(xtio_conn_open(&conn, loop, server_fd, NULL), -ESHUTDOWN);
    assert_null(conn);
    /* The socket was the connection's even though it never opened: it is closed, so the client
     * sees the end of the stream. */
    struct timeval timeout = {.tv_sec = HARNESS_WAIT_MS / 1000};
    assert_int_equal(setsockopt(client_fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)), 0);
    char byte;
    assert_int_equal(recv(client_fd, &byte, 1, 0), 0);
    close(client_fd);
    xtio_loop_destroy(loop);
}

int main(void)
{
    /* libxtio leaves SIGPIPE to the process; a write to a client that left must not kill us. */
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_posts_before_stop_all_run),
        cmocka_unit_test(test_stop_from_loop_thread),
        cmocka_unit_test(test_stop_closes_connection_and_drops_pending),
        cmocka_unit_test(test_destroy_releases_connections_and_waiters),
        cmocka_unit_test(test_open_after_stop_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
