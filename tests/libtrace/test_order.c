/*
 * Ordering: output reaches the client in the order of the sends that produced it, in every mode,
 * with several producer threads and with the loop sending its own output in between. The client
 * checks every frame (no tearing), every producer's counter (no reordering within a thread) and,
 * when producers serialize their sends on a test mutex, one global counter (the order of sends
 * across threads is the order of the output).
 */
#include "harness.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define PRODUCERS            4
#define RECORDS_PER_PRODUCER 10000
#define TOTAL_RECORDS        ((uint64_t)PRODUCERS * RECORDS_PER_PRODUCER)
#define FRAME                16
/* In global order, a batch producer spools this many records under the mutex, then flushes. */
#define GLOBAL_BATCH_GROUP   8
/* With the default spool threshold, how many batch handoffs one producer makes. */
#define BATCHES_PER_PRODUCER                                                                       \
    ((RECORDS_PER_PRODUCER * FRAME + XTIO_SPOOL_DEFAULT_THRESHOLD - 1) /                           \
     XTIO_SPOOL_DEFAULT_THRESHOLD)

struct global_order {
    pthread_mutex_t mu;
    uint32_t next; /* under mu */
};

struct producer {
    xtio_conn *conn;
    enum xtio_mode mode; /* XTIO_MODE_BATCH means through an xtio_spool */
    uint32_t id;
    struct global_order *global; /* NULL: no global order */
    pthread_barrier_t *start;
    int error; /* first failure: of a send, or of the spool's create, append, flush or destroy */
    uint32_t failed_at;
};

static void note_failure(struct producer *producer, int rc, uint32_t i)
{
    if (rc != 0 && producer->error == 0) {
        producer->error = rc;
        producer->failed_at = i;
    }
}

static void produce_sends(struct producer *producer)
{
    unsigned char frame[FRAME];
    for (uint32_t i = 0; i < RECORDS_PER_PRODUCER && producer->error == 0; i++) {
        if (producer->global) {
            /* The send is inside the critical section, so the global counter's order is the
             * order of the xtio_conn_send() calls. */
            pthread_mutex_lock(&producer->global->mu);
            frame_fill(frame, FRAME, producer->id, i, producer->global->next++);
            note_failure(producer, xtio_conn_send(producer->conn, producer->mode, frame, FRAME), i);
            pthread_mutex_unlock(&producer->global->mu);
        } else {
            frame_fill(frame, FRAME, producer->id, i, 0);
            note_failure(producer, xtio_conn_send(producer->conn, producer->mode, frame, FRAME), i);
        }
    }
}

static void produce_spooled(struct producer *producer)
{
    unsigned char frame[FRAME];
    xtio_spool *spool = NULL;
    note_failure(producer, xtio_spool_create(&spool, producer->conn, 0), 0);
    if (!spool)
        return;
    for (uint32_t i = 0; i < RECORDS_PER_PRODUCER && producer->error == 0;) {
        if (producer->global) {
            /* A whole group is one handoff, made inside the critical section. */
            pthread_mutex_lock(&producer->global->mu);
            for (int k = 0; k < GLOBAL_BATCH_GROUP && i < RECORDS_PER_PRODUCER; k++, i++) {
                frame_fill(frame, FRAME, producer->id, i, producer->global->next++);
                note_failure(producer, xtio_spool_append(spool, frame, FRAME), i);
            }
            note_failure(producer, xtio_spool_flush(spool), i);
            pthread_mutex_unlock(&producer->global->mu);
        } else {
            frame_fill(frame, FRAME, producer->id, i, 0);
            note_failure(producer, xtio_spool_append(spool, frame, FRAME), i);
            i++;
        }
    }
    note_failure(producer, xtio_spool_destroy(spool), RECORDS_PER_PRODUCER);
}

static void *producer_main(void *arg)
{
    struct producer *producer = arg;
    pthread_barrier_wait(producer->start);
    if (producer->mode == XTIO_MODE_BATCH)
        produce_spooled(producer);
    else
        produce_sends(producer);
    return NULL;
}

/* Runs PRODUCERS threads sending RECORDS_PER_PRODUCER frames each, producer p in modes[p]. */
static void run_producers(xtio_conn *conn, const enum xtio_mode *modes, struct global_order *global)
{
    struct producer producers[PRODUCERS];
    pthread_t threads[PRODUCERS];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, PRODUCERS);
    for (uint32_t p = 0; p < PRODUCERS; p++) {
        producers[p] = (struct producer){
            .conn = conn, .mode = modes[p], .id = p, .global = global, .start = &start};
        assert_int_equal(pthread_create(&threads[p], NULL, producer_main, &producers[p]), 0);
    }
    for (int p = 0; p < PRODUCERS; p++)
        pthread_join(threads[p], NULL);
    pthread_barrier_destroy(&start);
    for (int p = 0; p < PRODUCERS; p++) {
        if (producers[p].error != 0)
            print_error("producer %d failed with %d at record %u\n", p, producers[p].error,
                        producers[p].failed_at);
        assert_int_equal(producers[p].error, 0);
    }
}

/* fixture_finish_stream(), and each producer's counters arrived as 0..n-1. */
static void finish_stream(struct fixture *f, struct reader *reader, uint64_t frames,
                          const uint32_t *expected_per_producer, int producers)
{
    fixture_finish_stream(f, reader, frames, FRAME);
    for (int p = 0; p < producers; p++)
        assert_int_equal(reader->next[p], expected_per_producer[p]);
}

struct expected_counts {
    enum xtio_mode mode;
    uint64_t records;
};

static bool mode_counted(const struct xtio_loop_stats *stats, void *arg)
{
    const struct expected_counts *expected = arg;
    return stats->mode[expected->mode].records >= expected->records;
}

/* The loop's counters for `mode` say exactly what was written; nothing dropped anywhere. */
static void check_mode_stats(xtio_loop *loop, enum xtio_mode mode, uint64_t handoffs,
                             uint64_t records)
{
    struct expected_counts expected = {.mode = mode, .records = records};
    struct xtio_loop_stats stats;
    assert_true(wait_stats(loop, mode_counted, &expected, HARNESS_WAIT_MS, &stats));
    assert_int_equal(stats.mode[mode].handoffs, handoffs);
    assert_int_equal(stats.mode[mode].records, records);
    assert_int_equal(stats.mode[mode].bytes, records * FRAME);
    for (int m = 0; m < XTIO_MODE_COUNT; m++)
        assert_int_equal(stats.mode[m].drops, 0);
}

static void run_order_test(enum xtio_mode mode, bool global_order)
{
    struct fixture f;
    assert_int_equal(fixture_setup(&f, "t-order", 0, 0), 0);
    struct reader reader;
    assert_int_equal(reader_start(&reader, f.client_fd, FRAME, global_order, false), 0);

    const enum xtio_mode modes[PRODUCERS] = {mode, mode, mode, mode};
    struct global_order global = {.next = 0};
    pthread_mutex_init(&global.mu, NULL);
    run_producers(f.conn, modes, global_order ? &global : NULL);
    pthread_mutex_destroy(&global.mu);

    uint32_t expected[PRODUCERS];
    for (int p = 0; p < PRODUCERS; p++)
        expected[p] = RECORDS_PER_PRODUCER;
    finish_stream(&f, &reader, TOTAL_RECORDS, expected, PRODUCERS);
    if (global_order)
        assert_int_equal(reader.next_global, TOTAL_RECORDS);

    uint64_t handoffs = TOTAL_RECORDS;
    if (mode == XTIO_MODE_BATCH)
        handoffs = global_order ? TOTAL_RECORDS / GLOBAL_BATCH_GROUP
                                : (uint64_t)PRODUCERS * BATCHES_PER_PRODUCER;
    check_mode_stats(f.loop, mode, handoffs, TOTAL_RECORDS);
    struct xtio_loop_stats stats;
    xtio_loop_get_stats(f.loop, &stats);
    /* Nothing was sent from the loop thread, so nothing may be counted as the loop's own. */
    assert_int_equal(stats.mode[XTIO_MODE_INLINE].handoffs, 0);
    assert_int_equal(stats.conns_opened, 1);
    fixture_teardown(&f);
}

static void test_sync_per_producer(void **state)
{
    (void)state;
    run_order_test(XTIO_MODE_SYNC, false);
}

static void test_async_per_producer(void **state)
{
    (void)state;
    run_order_test(XTIO_MODE_ASYNC, false);
}

static void test_batch_per_producer(void **state)
{
    (void)state;
    run_order_test(XTIO_MODE_BATCH, false);
}

static void test_direct_per_producer(void **state)
{
    (void)state;
    run_order_test(XTIO_MODE_DIRECT, false);
}

static void test_sync_global(void **state)
{
    (void)state;
    run_order_test(XTIO_MODE_SYNC, true);
}

static void test_async_global(void **state)
{
    (void)state;
    run_order_test(XTIO_MODE_ASYNC, true);
}

static void test_batch_global(void **state)
{
    (void)state;
    run_order_test(XTIO_MODE_BATCH, true);
}

static void test_direct_global(void **state)
{
    (void)state;
    run_order_test(XTIO_MODE_DIRECT, true);
}

/* ---- Every mode at once --------------------------------------------------------------------- */

/* One producer per off-loop mode on the same connection: the order promise holds "whatever the
 * modes used", and no mode may starve another (a direct send waits for what was queued before
 * it, while the other producers keep queuing). */
static void run_mixed_test(bool global_order)
{
    static const enum xtio_mode modes[PRODUCERS] = {XTIO_MODE_SYNC, XTIO_MODE_ASYNC,
                                                    XTIO_MODE_BATCH, XTIO_MODE_DIRECT};
    struct fixture f;
    assert_int_equal(fixture_setup(&f, "t-ordermix", 0, 0), 0);
    struct reader reader;
    assert_int_equal(reader_start(&reader, f.client_fd, FRAME, global_order, false), 0);

    struct global_order global = {.next = 0};
    pthread_mutex_init(&global.mu, NULL);
    run_producers(f.conn, modes, global_order ? &global : NULL);
    pthread_mutex_destroy(&global.mu);

    uint32_t expected[PRODUCERS];
    for (int p = 0; p < PRODUCERS; p++)
        expected[p] = RECORDS_PER_PRODUCER;
    finish_stream(&f, &reader, TOTAL_RECORDS, expected, PRODUCERS);
    if (global_order)
        assert_int_equal(reader.next_global, TOTAL_RECORDS);

    check_mode_stats(f.loop, XTIO_MODE_SYNC, RECORDS_PER_PRODUCER, RECORDS_PER_PRODUCER);
    check_mode_stats(f.loop, XTIO_MODE_ASYNC, RECORDS_PER_PRODUCER, RECORDS_PER_PRODUCER);
    check_mode_stats(f.loop, XTIO_MODE_BATCH,
                     global_order ? RECORDS_PER_PRODUCER / GLOBAL_BATCH_GROUP
                                  : BATCHES_PER_PRODUCER,
                     RECORDS_PER_PRODUCER);
    check_mode_stats(f.loop, XTIO_MODE_DIRECT, RECORDS_PER_PRODUCER, RECORDS_PER_PRODUCER);
    fixture_teardown(&f);
}

static void test_mixed_modes_per_producer(void **state)
{
    (void)state;
    run_mixed_test(false);
}

static void test_mixed_modes_global(void **state)
{
    (void)state;
    run_mixed_test(true);
}

/* ---- The loop sending its own output among async producers ---------------------------------- */

#define LOOP_PRODUCER        PRODUCERS /* the id of the loop's own frames */
#define LOOP_RECORDS         10000
#define LOOP_RECORDS_PER_RUN 10

struct loop_sender {
    xtio_loop *loop;
    xtio_conn *conn;
    uint32_t next;
    int error;
    bool off_loop;
    struct latch done;
};

/* Sends a few frames on the loop thread, then reposts itself, so that the drains of the async
 * producers run in between. Every requested mode is a plain write on the loop thread. */
static void loop_send_some(void *arg)
{
    static const enum xtio_mode modes[] = {XTIO_MODE_INLINE, XTIO_MODE_SYNC, XTIO_MODE_ASYNC,
                                           XTIO_MODE_DIRECT};
    struct loop_sender *sender = arg;
    unsigned char frame[FRAME];
    if (!xtio_loop_is_current(sender->loop))
        sender->off_loop = true;
    for (int k = 0; k < LOOP_RECORDS_PER_RUN && sender->next < LOOP_RECORDS; k++) {
        frame_fill(frame, FRAME, LOOP_PRODUCER, sender->next, 0);
        int rc = xtio_conn_send(sender->conn, modes[sender->next % 4], frame, FRAME);
        if (rc != 0 && sender->error == 0)
            sender->error = rc;
        sender->next++;
    }
    if (sender->next < LOOP_RECORDS && sender->error == 0) {
        int rc = xtio_loop_post(sender->loop, loop_send_some, sender);
        if (rc == 0)
            return;
        sender->error = rc;
    }
    latch_add(&sender->done, 1);
}

static void test_loop_sends_among_async_producers(void **state)
{
    (void)state;
    struct fixture f;
    assert_int_equal(fixture_setup(&f, "t-mixed", 0, 0), 0);
    struct reader reader;
    assert_int_equal(reader_start(&reader, f.client_fd, FRAME, false, false), 0);

    struct loop_sender sender = {.loop = f.loop, .conn = f.conn};
    latch_init(&sender.done);
    assert_int_equal(xtio_loop_post(f.loop, loop_send_some, &sender), 0);
    const enum xtio_mode modes[PRODUCERS] = {XTIO_MODE_ASYNC, XTIO_MODE_ASYNC, XTIO_MODE_ASYNC,
                                             XTIO_MODE_ASYNC};
    run_producers(f.conn, modes, NULL);
    assert_true(latch_wait(&sender.done, 1, HARNESS_WAIT_MS));
    latch_destroy(&sender.done);
    assert_int_equal(sender.error, 0);
    assert_false(sender.off_loop);

    uint32_t expected[PRODUCERS + 1];
    for (int p = 0; p < PRODUCERS; p++)
        expected[p] = RECORDS_PER_PRODUCER;
    expected[LOOP_PRODUCER] = LOOP_RECORDS;
    finish_stream(&f, &reader, TOTAL_RECORDS + LOOP_RECORDS, expected, PRODUCERS + 1);

    check_mode_stats(f.loop, XTIO_MODE_ASYNC, TOTAL_RECORDS, TOTAL_RECORDS);
    /* Sends on the loop thread are the loop's own writes, whatever mode was asked for. */
    check_mode_stats(f.loop, XTIO_MODE_INLINE, LOOP_RECORDS, LOOP_RECORDS);
    struct xtio_loop_stats stats;
    xtio_loop_get_stats(f.loop, &stats);
    assert_int_equal(stats.mode[XTIO_MODE_SYNC].handoffs, 0);
    assert_int_equal(stats.mode[XTIO_MODE_DIRECT].handoffs, 0);
    fixture_teardown(&f);
}

/* ---- Modes that a thread other than the loop may not use ------------------------------------ */

static void test_off_loop_send_rejects_inline_and_batch(void **state)
{
    (void)state;
    struct fixture f;
    assert_int_equal(fixture_setup(&f, "t-modes", 0, 0), 0);
    struct reader reader;
    assert_int_equal(reader_start(&reader, f.client_fd, FRAME, false, false), 0);
    unsigned char frame[FRAME];
    frame_fill(frame, FRAME, 0, 0, 0);

    assert_int_equal(xtio_conn_send(f.conn, XTIO_MODE_INLINE, frame, FRAME), -EINVAL);
    assert_int_equal(xtio_conn_send(f.conn, XTIO_MODE_BATCH, frame, FRAME), -EINVAL);
    assert_int_equal(xtio_conn_send(f.conn, (enum xtio_mode)XTIO_MODE_COUNT, frame, FRAME),
                     -EINVAL);
    assert_int_equal(xtio_conn_send(f.conn, XTIO_MODE_ASYNC, NULL, FRAME), -EINVAL);
    assert_int_equal(xtio_conn_send(NULL, XTIO_MODE_ASYNC, frame, FRAME), -EINVAL);
    assert_true(xtio_conn_is_open(f.conn));

    /* Refused sends leave no trace: the client gets exactly the one frame sent after them. */
    assert_int_equal(xtio_conn_send(f.conn, XTIO_MODE_SYNC, frame, FRAME), 0);
    uint32_t expected[1] = {1};
    finish_stream(&f, &reader, 1, expected, 1);
    struct xtio_loop_stats stats;
    xtio_loop_get_stats(f.loop, &stats);
    uint64_t handoffs = 0;
    for (int m = 0; m < XTIO_MODE_COUNT; m++)
        handoffs += stats.mode[m].handoffs;
    assert_int_equal(handoffs, 1);
    fixture_teardown(&f);
}

/* ---- Sends whose sizes change ------------------------------------------------------------- */

#define SIZES_FRAME  1024
#define SIZES_FRAMES 2000

/* One stream of frames cut into async sends that grow and shrink, small and several KiB, so that
 * sends reuse the handoffs of earlier ones, larger and smaller: every byte must still arrive, in
 * order. */
static void test_async_sends_of_changing_sizes(void **state)
{
    (void)state;
    static const size_t cuts[] = {1, 5000, 16, 3000, 100, 9000, 7, 2048, 64};
    struct fixture f;
    assert_int_equal(fixture_setup(&f, "t-ordersize", 0, 0), 0);
    struct reader reader;
    assert_int_equal(reader_start(&reader, f.client_fd, SIZES_FRAME, false, false), 0);

    size_t total = (size_t)SIZES_FRAME * SIZES_FRAMES;
    unsigned char *stream = malloc(total);
    assert_non_null(stream);
    for (uint32_t i = 0; i < SIZES_FRAMES; i++)
        frame_fill(stream + (size_t)i * SIZES_FRAME, SIZES_FRAME, 0, i, 0);
    for (size_t off = 0, sends = 0; off < total; sends++) {
        size_t len = cuts[sends % (sizeof(cuts) / sizeof(cuts[0]))];
        if (len > total - off)
            len = total - off;
        assert_int_equal(xtio_conn_send(f.conn, XTIO_MODE_ASYNC, stream + off, len), 0);
        off += len;
    }
    free(stream);

    fixture_finish_stream(&f, &reader, SIZES_FRAMES, SIZES_FRAME);
    assert_int_equal(reader.next[0], SIZES_FRAMES);
    fixture_teardown(&f);
}

int main(void)
{
    /* libxtio leaves SIGPIPE to the process; a write to a client that left must not kill us. */
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sync_per_producer),
        cmocka_unit_test(test_async_per_producer),
        cmocka_unit_test(test_batch_per_producer),
        cmocka_unit_test(test_direct_per_producer),
        cmocka_unit_test(test_sync_global),
        cmocka_unit_test(test_async_global),
        cmocka_unit_test(test_batch_global),
        cmocka_unit_test(test_direct_global),
        cmocka_unit_test(test_mixed_modes_per_producer),
        cmocka_unit_test(test_mixed_modes_global),
        cmocka_unit_test(test_loop_sends_among_async_producers),
        cmocka_unit_test(test_off_loop_send_rejects_inline_and_batch),
        cmocka_unit_test(test_async_sends_of_changing_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
