/*
 * Sync sends: off the loop, the call returns only once the bytes are in the connection's output
 * (the loop counts a handoff when it writes it, so the count is already there when the call
 * returns); on the loop thread, it writes at once without waiting for itself.
 */
#include "harness.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define FRAME 16

static void test_sync_send_is_written_when_it_returns(void **state)
{
    (void)state;
    enum { SENDS = 200 };
    struct fixture f;
    assert_int_equal(fixture_setup(&f, "t-sync", 0, 0), 0);
    struct reader reader;
    assert_int_equal(reader_start(&reader, f.client_fd, FRAME, false, false), 0);

    unsigned char frame[FRAME];
    for (uint32_t i = 0; i < SENDS; i++) {
        frame_fill(frame, FRAME, 0, i, 0);
        assert_int_equal(xtio_conn_send(f.conn, XTIO_MODE_SYNC, frame, FRAME), 0);
        /* No waiting, no barrier: the write and its count happened before the send returned. */
        struct xtio_loop_stats stats;
        xtio_loop_get_stats(f.loop, &stats);
        assert_int_equal(stats.mode[XTIO_MODE_SYNC].handoffs, i + 1);
        assert_int_equal(stats.mode[XTIO_MODE_SYNC].records, i + 1);
        assert_int_equal(stats.mode[XTIO_MODE_SYNC].bytes, (i + 1) * FRAME);
    }
    fixture_finish_stream(&f, &reader, SENDS, FRAME);
    fixture_teardown(&f);
}

struct sync_sender {
    xtio_conn *conn;
    xtio_loop *loop;
    atomic_bool returned;
    int rc;
    struct xtio_loop_stats after; /* snapshot taken right after the send returned */
};

static void *sync_sender_main(void *arg)
{
    struct sync_sender *sender = arg;
    unsigned char frame[FRAME];
    frame_fill(frame, FRAME, 0, 0, 0);
    sender->rc = xtio_conn_send(sender->conn, XTIO_MODE_SYNC, frame, FRAME);
    xtio_loop_get_stats(sender->loop, &sender->after);
    atomic_store(&sender->returned, true);
    return NULL;
}

static void test_sync_send_waits_for_a_busy_loop(void **state)
{
    (void)state;
    struct fixture f;
    assert_int_equal(fixture_setup(&f, "t-syncwait", 0, 0), 0);
    struct reader reader;
    assert_int_equal(reader_start(&reader, f.client_fd, FRAME, false, false), 0);
    struct blocker blocker;
    blocker_init(&blocker);
    assert_int_equal(blocker_hold(&blocker, f.loop), 0);

    struct sync_sender sender = {.conn = f.conn, .loop = f.loop};
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, sync_sender_main, &sender), 0);
    /* The loop cannot write anything while it is held, so the sender must still be waiting. */
    harness_sleep_ms(200);
    bool returned_early = atomic_load(&sender.returned);
    struct xtio_loop_stats stats;
    xtio_loop_get_stats(f.loop, &stats);
    blocker_release(&blocker);
    pthread_join(thread, NULL);

    assert_false(returned_early);
    assert_int_equal(stats.mode[XTIO_MODE_SYNC].handoffs, 0);
    assert_int_equal(sender.rc, 0);
    assert_int_equal(sender.after.mode[XTIO_MODE_SYNC].handoffs, 1);
    assert_int_equal(sender.after.mode[XTIO_MODE_SYNC].bytes, FRAME);
    assert_false(blocker.timed_out);
    fixture_finish_stream(&f, &reader, 1, FRAME);
    blocker_destroy(&blocker);
    fixture_teardown(&f);
}

/* ---- On the loop thread ---------------------------------------------------------------------- */

#define LOOP_SENDS 10

struct loop_sync {
    struct fixture *f;
    uint32_t first_global; /* global counter of the first frame sent here */
    int rc[LOOP_SENDS];
    uint64_t inline_after[LOOP_SENDS]; /* INLINE handoffs counted right after each send */
    uint64_t async_after_first;        /* ASYNC handoffs counted right after the first send */
    struct latch done;
};

static void send_sync_on_loop(void *arg)
{
    struct loop_sync *ls = arg;
    unsigned char frame[FRAME];
    for (uint32_t i = 0; i < LOOP_SENDS; i++) {
        frame_fill(frame, FRAME, 1, i, ls->first_global + i);
        ls->rc[i] = xtio_conn_send(ls->f->conn, XTIO_MODE_SYNC, frame, FRAME);
        struct xtio_loop_stats stats;
        xtio_loop_get_stats(ls->f->loop, &stats);
        ls->inline_after[i] = stats.mode[XTIO_MODE_INLINE].handoffs;
        if (i == 0)
            ls->async_after_first = stats.mode[XTIO_MODE_ASYNC].handoffs;
    }
    latch_add(&ls->done, 1);
}

static void check_loop_sends(struct loop_sync *ls)
{
    for (int i = 0; i < LOOP_SENDS; i++) {
        assert_int_equal(ls->rc[i], 0);
        /* Written at once, as the loop's own output. */
        assert_int_equal(ls->inline_after[i], i + 1);
    }
}

static void test_sync_send_on_loop_does_not_wait(void **state)
{
    (void)state;
    struct fixture f;
    assert_int_equal(fixture_setup(&f, "t-syncloop", 0, 0), 0);
    struct reader reader;
    assert_int_equal(reader_start(&reader, f.client_fd, FRAME, true, false), 0);

    struct loop_sync ls = {.f = &f};
    latch_init(&ls.done);
    assert_int_equal(xtio_loop_post(f.loop, send_sync_on_loop, &ls), 0);
    /* A sync send waiting for its own loop would never finish: bounded wait, not a call. */
    assert_true(latch_wait(&ls.done, 1, HARNESS_WAIT_MS));
    check_loop_sends(&ls);
    latch_destroy(&ls.done);

    struct xtio_loop_stats stats;
    xtio_loop_get_stats(f.loop, &stats);
    assert_int_equal(stats.mode[XTIO_MODE_SYNC].handoffs, 0);
    fixture_finish_stream(&f, &reader, LOOP_SENDS, FRAME);
    fixture_teardown(&f);
}

/* A send on the loop thread goes after what other threads already queued, not ahead of it. */
static void test_loop_send_follows_queued_handoffs(void **state)
{
    (void)state;
    enum { QUEUED = 100 };
    struct fixture f;
    assert_int_equal(fixture_setup(&f, "t-syncq", 0, 0), 0);
    struct reader reader;
    assert_int_equal(reader_start(&reader, f.client_fd, FRAME, true, false), 0);

    struct loop_sync ls = {.f = &f, .first_global = QUEUED};
    latch_init(&ls.done);
    struct blocker blocker;
    blocker_init(&blocker);
    blocker.then = send_sync_on_loop;
    blocker.then_arg = &ls;
    assert_int_equal(blocker_hold(&blocker, f.loop), 0);

    unsigned char frame[FRAME];
    for (uint32_t i = 0; i < QUEUED; i++) {
        frame_fill(frame, FRAME, 0, i, i);
        assert_int_equal(xtio_conn_send(f.conn, XTIO_MODE_ASYNC, frame, FRAME), 0);
    }
    blocker_release(&blocker);
    assert_true(latch_wait(&ls.done, 1, HARNESS_WAIT_MS));
    assert_false(blocker.timed_out);
    check_loop_sends(&ls);
    /* The queued handoffs were written before the loop's first own send. */
    assert_int_equal(ls.async_after_first, QUEUED);
    latch_destroy(&ls.done);

    fixture_finish_stream(&f, &reader, QUEUED + LOOP_SENDS, FRAME);
    assert_int_equal(reader.next_global, QUEUED + LOOP_SENDS);
    blocker_destroy(&blocker);
    fixture_teardown(&f);
}

int main(void)
{
    /* libxtio leaves SIGPIPE to the process; a write to a client that left must not kill us. */
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sync_send_is_written_when_it_returns),
        cmocka_unit_test(test_sync_send_waits_for_a_busy_loop),
        cmocka_unit_test(test_sync_send_on_loop_does_not_wait),
        cmocka_unit_test(test_loop_send_follows_queued_handoffs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
