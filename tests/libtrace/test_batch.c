/*
 * Batch handoffs through xtio_spool: records stay on the producer until the threshold is reached
 * (one handoff carrying them all), an explicit flush or the spool's destruction; the client gets
 * every record once, in order.
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

#define RECORD 100

struct batch_counts {
    uint64_t handoffs;
    uint64_t records;
};

static bool batch_counted(const struct xtio_loop_stats *stats, void *arg)
{
    const struct batch_counts *expected = arg;
    return stats->mode[XTIO_MODE_BATCH].handoffs >= expected->handoffs;
}

/* Batch handoffs are written by the loop after the flush returned, hence the bounded wait; once
 * there, the counts must be exact. */
static void expect_batches(xtio_loop *loop, uint64_t handoffs, uint64_t records)
{
    struct batch_counts expected = {.handoffs = handoffs, .records = records};
    struct xtio_loop_stats stats;
    assert_true(wait_stats(loop, batch_counted, &expected, HARNESS_WAIT_MS, &stats));
    /* A barrier, then a fresh look, so that an extra handoff would show up too. */
    assert_int_equal(loop_barrier(loop), 0);
    xtio_loop_get_stats(loop, &stats);
    assert_int_equal(stats.mode[XTIO_MODE_BATCH].handoffs, handoffs);
    assert_int_equal(stats.mode[XTIO_MODE_BATCH].records, records);
    assert_int_equal(stats.mode[XTIO_MODE_BATCH].bytes, records * RECORD);
    assert_int_equal(stats.mode[XTIO_MODE_BATCH].drops, 0);
}

static void append_record(xtio_spool *spool, uint32_t counter)
{
    unsigned char record[RECORD];
    frame_fill(record, RECORD, 0, counter, counter);
    assert_int_equal(xtio_spool_append(spool, record, RECORD), 0);
}

static void expect_pending(const xtio_spool *spool, size_t records)
{
    assert_int_equal(xtio_spool_pending_records(spool), records);
    assert_int_equal(xtio_spool_pending_bytes(spool), records * RECORD);
}

static void test_threshold_flush_and_destroy(void **state)
{
    (void)state;
    struct fixture f;
    assert_int_equal(fixture_setup(&f, "t-batch", 0, 0), 0);
    struct reader reader;
    assert_int_equal(reader_start(&reader, f.client_fd, RECORD, true, false), 0);
    xtio_spool *spool = NULL;
    assert_int_equal(xtio_spool_create(&spool, f.conn, 1024), 0);
    expect_pending(spool, 0);

    uint32_t counter = 0;
    /* 10 records are 1000 bytes: under the threshold, so they all stay spooled. */
    for (size_t k = 1; k <= 10; k++) {
        append_record(spool, counter++);
        expect_pending(spool, k);
    }
    expect_batches(f.loop, 0, 0);

    /* The 11th reaches 1100 >= 1024: all 11 leave as one handoff. */
    append_record(spool, counter++);
    expect_pending(spool, 0);
    expect_batches(f.loop, 1, 11);

    for (size_t k = 1; k <= 5; k++)
        append_record(spool, counter++);
    expect_pending(spool, 5);
    assert_int_equal(xtio_spool_flush(spool), 0);
    expect_pending(spool, 0);
    expect_batches(f.loop, 2, 16);

    /* Nothing spooled, nothing handed off. */
    assert_int_equal(xtio_spool_flush(spool), 0);
    expect_batches(f.loop, 2, 16);

    for (size_t k = 1; k <= 3; k++)
        append_record(spool, counter++);
    assert_int_equal(xtio_spool_destroy(spool), 0);
    expect_batches(f.loop, 3, 19);

    fixture_finish_stream(&f, &reader, 19, RECORD);
    struct xtio_loop_stats stats;
    xtio_loop_get_stats(f.loop, &stats);
    assert_int_equal(stats.mode[XTIO_MODE_ASYNC].handoffs, 0);
    assert_int_equal(stats.mode[XTIO_MODE_INLINE].handoffs, 0);
    fixture_teardown(&f);
}

static void test_threshold_is_reached_at_equality(void **state)
{
    (void)state;
    struct fixture f;
    assert_int_equal(fixture_setup(&f, "t-batcheq", 0, 0), 0);
    struct reader reader;
    assert_int_equal(reader_start(&reader, f.client_fd, RECORD, true, false), 0);
    xtio_spool *spool = NULL;
    assert_int_equal(xtio_spool_create(&spool, f.conn, 10 * RECORD), 0);
    for (uint32_t i = 0; i < 9; i++)
        append_record(spool, i);
    expect_pending(spool, 9);
    append_record(spool, 9);
    expect_pending(spool, 0);
    expect_batches(f.loop, 1, 10);
    assert_int_equal(xtio_spool_destroy(spool), 0);
    expect_batches(f.loop, 1, 10);
    fixture_finish_stream(&f, &reader, 10, RECORD);
    fixture_teardown(&f);
}

static void test_default_threshold(void **state)
{
    (void)state;
    /* The last record that still fits under the default threshold, and the one that reaches it. */
    const uint32_t fitting = (uint32_t)((XTIO_SPOOL_DEFAULT_THRESHOLD - 1) / RECORD);
    struct fixture f;
    assert_int_equal(fixture_setup(&f, "t-batchdef", 0, 0), 0);
    struct reader reader;
    assert_int_equal(reader_start(&reader, f.client_fd, RECORD, true, false), 0);
    xtio_spool *spool = NULL;
    assert_int_equal(xtio_spool_create(&spool, f.conn, 0), 0);
    for (uint32_t i = 0; i < fitting; i++)
        append_record(spool, i);
    expect_pending(spool, fitting);
    append_record(spool, fitting);
    expect_pending(spool, 0);
    expect_batches(f.loop, 1, fitting + 1);
    assert_int_equal(xtio_spool_destroy(spool), 0);
    fixture_finish_stream(&f, &reader, fitting + 1, RECORD);
    fixture_teardown(&f);
}

static void test_spool_after_close(void **state)
{
    (void)state;
    struct fixture f;
    assert_int_equal(fixture_setup(&f, "t-batchcl", 0, 0), 0);
    xtio_spool *spool = NULL;
    assert_int_equal(xtio_spool_create(&spool, f.conn, 1024), 0);
    for (uint32_t i = 0; i < 3; i++)
        append_record(spool, i);

    xtio_conn_close(f.conn);
    assert_true(latch_wait(&f.record.closed, 1, HARNESS_WAIT_MS));
    /* The connection is gone: what was spooled cannot be handed off, and the producer is told to
     * stop rather than left spooling for nobody. */
    assert_int_equal(xtio_spool_flush(spool), -EPIPE);
    unsigned char record[RECORD];
    frame_fill(record, RECORD, 0, 3, 3);
    assert_int_equal(xtio_spool_append(spool, record, RECORD), -EPIPE);
    int destroyed = xtio_spool_destroy(spool);
    assert_true(destroyed == 0 || destroyed == -EPIPE);

    assert_int_equal(loop_barrier(f.loop), 0);
    struct xtio_loop_stats stats;
    xtio_loop_get_stats(f.loop, &stats);
    assert_int_equal(stats.mode[XTIO_MODE_BATCH].handoffs, 0);
    fixture_teardown(&f);
}

/* ---- A spool used on the loop thread -------------------------------------------------------- */

struct loop_spool {
    struct fixture *f;
    int rc;
    uint64_t inline_after_threshold; /* INLINE records counted right after the 11th append */
    uint64_t batch_after_threshold;
    struct latch done;
};

static void spool_on_loop(void *arg)
{
    struct loop_spool *ls = arg;
    xtio_spool *spool = NULL;
    ls->rc = xtio_spool_create(&spool, ls->f->conn, 1024);
    unsigned char record[RECORD];
    for (uint32_t i = 0; i < 11 && ls->rc == 0; i++) {
        frame_fill(record, RECORD, 0, i, i);
        ls->rc = xtio_spool_append(spool, record, RECORD);
    }
    struct xtio_loop_stats stats;
    xtio_loop_get_stats(ls->f->loop, &stats);
    ls->inline_after_threshold = stats.mode[XTIO_MODE_INLINE].records;
    ls->batch_after_threshold = stats.mode[XTIO_MODE_BATCH].handoffs;
    if (spool && xtio_spool_destroy(spool) != 0 && ls->rc == 0)
        ls->rc = -EIO;
    latch_add(&ls->done, 1);
}

static void test_spool_on_loop_writes_at_once(void **state)
{
    (void)state;
    struct fixture f;
    assert_int_equal(fixture_setup(&f, "t-batchloop", 0, 0), 0);
    struct reader reader;
    assert_int_equal(reader_start(&reader, f.client_fd, RECORD, true, false), 0);
    struct loop_spool ls = {.f = &f};
    latch_init(&ls.done);
    assert_int_equal(xtio_loop_post(f.loop, spool_on_loop, &ls), 0);
    assert_true(latch_wait(&ls.done, 1, HARNESS_WAIT_MS));
    latch_destroy(&ls.done);
    assert_int_equal(ls.rc, 0);
    /* On the loop a chunk is the loop's own write, made before the append returned. */
    assert_int_equal(ls.inline_after_threshold, 11);
    assert_int_equal(ls.batch_after_threshold, 0);
    fixture_finish_stream(&f, &reader, 11, RECORD);
    fixture_teardown(&f);
}

int main(void)
{
    /* libxtio leaves SIGPIPE to the process; a write to a client that left must not kill us. */
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threshold_flush_and_destroy),
        cmocka_unit_test(test_threshold_is_reached_at_equality),
        cmocka_unit_test(test_default_threshold),
        cmocka_unit_test(test_spool_after_close),
        cmocka_unit_test(test_spool_on_loop_writes_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
