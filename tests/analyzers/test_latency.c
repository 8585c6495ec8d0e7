/*
 * Latency and volume metrics of the analysis core, on small hand-computed event streams: queue
 * wait, end to end through offsets and flush totals, flush, producer blocked, spool delay,
 * backpressure kept apart, percentiles of a known distribution, overlapping handoffs from
 * several producers and timestamp ties.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_events.h"

#define CONN 1

static xtio_analysis *finished(xtio_analysis *analysis)
{
    assert_int_equal(xtio_analysis_finish(analysis), 0);
    return analysis;
}

static void queue_wait_is_enqueue_to_write(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_conn_open(a, 100, PID, LOOP, CONN);
    ev_enqueue(a, 1000, PID, 1, CONN, 0, ASYNC, 10);
    ev_write(a, 4000, PID, 1, CONN, 0, ASYNC, 10, 0);
    ev_flush(a, 9000, PID, CONN, 10);
    finished(a);

    struct xtio_mode_summary async = mode_summary(a, PID, ASYNC);
    assert_int_equal(async.queue_wait.count, 1);
    assert_near_us(async.queue_wait.p50_us, 3.0);
    assert_us(async.queue_wait.max_us, 3.0);
    /* Inline handoffs have no enqueue, so no queue wait. */
    assert_int_equal(mode_summary(a, PID, INLINE).queue_wait.count, 0);
    xtio_analysis_destroy(a);
}

static void end_to_end_ends_at_first_flush_covering_offset_plus_bytes(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_conn_open(a, 100, PID, LOOP, CONN);
    ev_enqueue(a, 1000, PID, 1, CONN, 0, ASYNC, 100);
    ev_enqueue(a, 2000, PID, 2, CONN, 1, ASYNC, 50);
    ev_write(a, 3000, PID, 1, CONN, 0, ASYNC, 100, 0);  /* bytes [0, 100) */
    ev_write(a, 4000, PID, 2, CONN, 1, ASYNC, 50, 100); /* bytes [100, 150) */
    ev_flush(a, 5000, PID, CONN, 80);                   /* neither is whole in the kernel */
    ev_flush(a, 7000, PID, CONN, 120);                  /* handoff 1 */
    ev_flush(a, 12000, PID, CONN, 150);                 /* handoff 2 */
    finished(a);

    struct xtio_mode_summary async = mode_summary(a, PID, ASYNC);
    assert_int_equal(async.end_to_end.count, 2);
    /* 1: 7000 - 1000; 2: 12000 - 2000. */
    assert_near_us(async.end_to_end.p50_us, 6.0);
    assert_us(async.end_to_end.max_us, 10.0);
    /* Flush, from the write: 1: 7000 - 3000; 2: 12000 - 4000. */
    assert_int_equal(async.flush.count, 2);
    assert_near_us(async.flush.p50_us, 4.0);
    assert_us(async.flush.max_us, 8.0);
    assert_int_equal(xtio_analysis_inflight_count(a), 0);
    xtio_analysis_destroy(a);
}

static void inline_end_to_end_starts_at_the_write(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_conn_open(a, 100, PID, LOOP, CONN);
    ev_write(a, 1000, PID, 1, CONN, 0, INLINE, 10, 0);
    ev_flush(a, 3500, PID, CONN, 10);
    finished(a);

    struct xtio_mode_summary inl = mode_summary(a, PID, INLINE);
    assert_int_equal(inl.handoffs, 1);
    assert_int_equal(inl.records, 1);
    assert_int_equal(inl.end_to_end.count, 1);
    assert_us(inl.end_to_end.max_us, 2.5);
    struct xtio_coverage_summary cov = coverage(a, PID);
    assert_int_equal(cov.incomplete_writes, 0);
    assert_int_equal(cov.unknown_writes, 0);
    xtio_analysis_destroy(a);
}

static void zero_byte_handoff_is_complete_at_its_write(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_conn_open(a, 100, PID, LOOP, CONN);
    ev_enqueue(a, 1000, PID, 1, CONN, 0, ASYNC, 0);
    ev_write(a, 2500, PID, 1, CONN, 0, ASYNC, 0, 0);
    finished(a);

    struct xtio_mode_summary async = mode_summary(a, PID, ASYNC);
    assert_int_equal(async.end_to_end.count, 1);
    assert_us(async.end_to_end.max_us, 1.5);
    /* Flushed at its write: a flush time of 0, counted like every other handoff's. */
    assert_int_equal(async.flush.count, 1);
    assert_us(async.flush.max_us, 0);
    assert_int_equal(coverage(a, PID).incomplete_unflushed, 0);
    xtio_analysis_destroy(a);
}

/* A write whose bytes an earlier flush already covered is complete at its write too. */
static void write_already_flushed_is_complete_at_its_write(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_conn_open(a, 100, PID, LOOP, CONN);
    ev_flush(a, 500, PID, CONN, 10);
    ev_write(a, 1000, PID, 1, CONN, 0, INLINE, 10, 0);
    finished(a);

    struct xtio_mode_summary inline_mode = mode_summary(a, PID, INLINE);
    assert_int_equal(inline_mode.end_to_end.count, 1);
    assert_us(inline_mode.end_to_end.max_us, 0);
    assert_int_equal(inline_mode.flush.count, 1);
    assert_us(inline_mode.flush.max_us, 0);
    assert_int_equal(coverage(a, PID).incomplete_unflushed, 0);
    xtio_analysis_destroy(a);
}

static void producer_blocked_is_enqueue_to_sync_wait_end(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_conn_open(a, 100, PID, LOOP, CONN);
    ev_enqueue(a, 1000, PID, 1, CONN, 0, SYNC, 10);
    ev_write(a, 2000, PID, 1, CONN, 0, SYNC, 10, 0);
    ev_sync_wait_end(a, 5000, PID, 1, CONN, 1);
    ev_flush(a, 6000, PID, CONN, 10);
    finished(a);

    struct xtio_mode_summary sync = mode_summary(a, PID, SYNC);
    assert_int_equal(sync.producer_blocked.count, 1);
    assert_us(sync.producer_blocked.max_us, 4.0);
    assert_us(sync.queue_wait.max_us, 1.0);
    assert_us(sync.end_to_end.max_us, 5.0);
    assert_int_equal(xtio_analysis_inflight_count(a), 0);
    xtio_analysis_destroy(a);
}

static void producer_blocked_counts_a_sync_wait_ended_by_a_drop(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_conn_open(a, 100, PID, LOOP, CONN);
    ev_enqueue(a, 1000, PID, 1, CONN, 0, SYNC, 10);
    ev_drop(a, 3000, PID, 1, CONN, 0, 10);
    ev_conn_close(a, 3000, PID, LOOP, CONN);
    ev_sync_wait_end(a, 8000, PID, 1, CONN, 0);
    finished(a);

    struct xtio_mode_summary sync = mode_summary(a, PID, SYNC);
    assert_int_equal(sync.producer_blocked.count, 1);
    assert_us(sync.producer_blocked.max_us, 7.0);
    assert_int_equal(sync.drops, 1);
    assert_int_equal(sync.drop_bytes, 10);
    assert_int_equal(xtio_analysis_inflight_count(a), 0);
    xtio_analysis_destroy(a);
}

static void spool_delay_is_the_batch_spool_ns(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_conn_open(a, 100, PID, LOOP, CONN);
    ev_enqueue_full(a, 1000, PID, WORKER, LOOP, 1, CONN, 0, BATCH, 800, 40, 7000);
    ev_write(a, 2000, PID, 1, CONN, 0, BATCH, 800, 0);
    ev_flush(a, 3000, PID, CONN, 800);
    finished(a);

    struct xtio_mode_summary batch = mode_summary(a, PID, BATCH);
    assert_int_equal(batch.spool_delay.count, 1);
    assert_us(batch.spool_delay.max_us, 7.0);
    assert_int_equal(batch.handoffs, 1);
    assert_int_equal(batch.bytes, 800);
    assert_int_equal(batch.records, 40);
    /* Only batch handoffs spool. */
    assert_int_equal(mode_summary(a, PID, ASYNC).spool_delay.count, 0);
    xtio_analysis_destroy(a);
}

static void handoffs_bytes_records_are_counted_per_mode(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_conn_open(a, 100, PID, LOOP, CONN);
    uint64_t offset = 0, seq = 0, id = 1;
    ev_write(a, 1000, PID, id++, CONN, seq++, INLINE, 5, offset);
    offset += 5;
    ev_enqueue(a, 1100, PID, id, CONN, seq, SYNC, 7);
    ev_write(a, 1200, PID, id++, CONN, seq++, SYNC, 7, offset);
    offset += 7;
    for (int i = 0; i < 3; i++) {
        ev_enqueue(a, 1300 + i, PID, id, CONN, seq, ASYNC, 11);
        ev_write(a, 1400 + i, PID, id++, CONN, seq++, ASYNC, 11, offset);
        offset += 11;
    }
    ev_enqueue_full(a, 1500, PID, WORKER, LOOP, id, CONN, seq, BATCH, 64, 8, 100);
    ev_write(a, 1600, PID, id++, CONN, seq++, BATCH, 64, offset);
    offset += 64;
    ev_enqueue_full(a, 1700, PID, WORKER, LOOP, id, CONN, seq, DIRECT, 3, 1, 0);
    ev_write_full(a, 1700, PID, WORKER, LOOP, id++, CONN, seq++, DIRECT, 3, offset);
    finished(a);

    const uint64_t handoffs[] = {1, 1, 3, 1, 1}, bytes[] = {5, 7, 33, 64, 3},
                   records[] = {1, 1, 3, 8, 1};
    for (int mode = 0; mode < XTIO_SCHEMA_MODE_COUNT; mode++) {
        struct xtio_mode_summary s = mode_summary(a, PID, mode);
        assert_int_equal(s.handoffs, handoffs[mode]);
        assert_int_equal(s.bytes, bytes[mode]);
        assert_int_equal(s.records, records[mode]);
    }
    xtio_analysis_destroy(a);
}

static void percentiles_of_a_known_distribution_are_within_histogram_error(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_conn_open(a, 100, PID, LOOP, CONN);
    /* Queue waits of 1, 2, ..., 1000 us, enqueued in a scrambled order of waits. */
    uint64_t ts = 1000000, offset = 0;
    for (uint64_t i = 0; i < 1000; i++) {
        uint64_t wait_us = (i * 7919) % 1000 + 1;
        ev_enqueue(a, ts, PID, i + 1, CONN, i, ASYNC, 1);
        ts += wait_us * 1000;
        ev_write(a, ts, PID, i + 1, CONN, i, ASYNC, 1, offset++);
        ev_flush(a, ts + 1, PID, CONN, offset);
        ts += 10;
    }
    finished(a);

    struct xtio_latency_summary q = mode_summary(a, PID, ASYNC).queue_wait;
    assert_int_equal(q.count, 1000);
    /* Nearest rank: p50 is the 500th value, p99.9 the 999th; one bucket is 1/64 wide. */
    const double expected[] = {500, 900, 990, 999};
    const double actual[] = {q.p50_us, q.p90_us, q.p99_us, q.p999_us};
    for (int i = 0; i < 4; i++)
        assert_near_us(actual[i], expected[i]);
    assert_us(q.max_us, 1000.0);
    xtio_analysis_destroy(a);
}

static void overlapping_handoffs_from_several_producers_pair_by_id(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_conn_open(a, 100, PID, LOOP, CONN);
    /* Two producers interleave; the loop writes in seq order, one flush covers three. */
    ev_enqueue_full(a, 1000, PID, WORKER, LOOP, 1, CONN, 0, ASYNC, 10, 1, 0);
    ev_enqueue_full(a, 1100, PID, WORKER2, LOOP, 2, CONN, 1, SYNC, 20, 1, 0);
    ev_enqueue_full(a, 1200, PID, WORKER, LOOP, 3, CONN, 2, ASYNC, 30, 1, 0);
    ev_write(a, 2000, PID, 1, CONN, 0, ASYNC, 10, 0);
    ev_enqueue_full(a, 2100, PID, WORKER2, LOOP, 4, CONN, 3, ASYNC, 40, 1, 0);
    ev_write(a, 2200, PID, 2, CONN, 1, SYNC, 20, 10);
    ev_write(a, 2400, PID, 3, CONN, 2, ASYNC, 30, 30);
    ev_flush(a, 3000, PID, CONN, 60);
    ev_write(a, 3100, PID, 4, CONN, 3, ASYNC, 40, 60);
    ev_flush(a, 4000, PID, CONN, 100);
    finished(a);

    struct xtio_mode_summary async = mode_summary(a, PID, ASYNC);
    assert_int_equal(async.handoffs, 3);
    /* Queue waits 1000, 1200, 1000 ns; end to end 2000, 1800, 1900 ns. */
    assert_near_us(async.queue_wait.p50_us, 1.0);
    assert_us(async.queue_wait.max_us, 1.2);
    assert_near_us(async.end_to_end.p50_us, 1.9);
    assert_us(async.end_to_end.max_us, 2.0);
    struct xtio_mode_summary sync = mode_summary(a, PID, SYNC);
    assert_us(sync.queue_wait.max_us, 1.1);
    assert_us(sync.end_to_end.max_us, 1.9);
    assert_int_equal(xtio_analysis_findings_total(a), 0);
    assert_int_equal(xtio_analysis_exit_code(a), 0);
    xtio_analysis_destroy(a);
}

static void timestamp_ties_give_zero_not_negative_latencies(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_conn_open(a, 100, PID, LOOP, CONN);
    /* All at one timestamp, in the worst order a muxer could give: flush, write, enqueue. */
    ev_flush(a, 5000, PID, CONN, 10);
    ev_write(a, 5000, PID, 1, CONN, 0, ASYNC, 10, 0);
    ev_enqueue(a, 5000, PID, 1, CONN, 0, ASYNC, 10);
    finished(a);

    struct xtio_mode_summary async = mode_summary(a, PID, ASYNC);
    assert_int_equal(async.queue_wait.count, 1);
    assert_us(async.queue_wait.max_us, 0.0);
    assert_int_equal(async.end_to_end.count, 1);
    assert_us(async.end_to_end.max_us, 0.0);
    struct xtio_coverage_summary cov = coverage(a, PID);
    assert_int_equal(cov.incomplete_writes, 0);
    assert_int_equal(cov.incomplete_in_flight, 0);
    assert_int_equal(cov.incomplete_unflushed, 0);
    assert_int_equal(xtio_analysis_findings_total(a), 0);
    xtio_analysis_destroy(a);
}

static void backpressure_is_reported_apart_from_the_modes(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_conn_open(a, 100, PID, LOOP, CONN);
    ev_backpressure(a, 1000, PID, CONN, 300000, 2000);
    ev_backpressure(a, 2000, PID, CONN, 260000, 6000);
    finished(a);

    struct xtio_process_summary p;
    assert_int_equal(xtio_analysis_process_summary(a, PID, &p), 0);
    assert_int_equal(p.backpressure.count, 2);
    assert_near_us(p.backpressure.p50_us, 2.0);
    assert_us(p.backpressure.max_us, 6.0);
    assert_int_equal(p.backpressure_max_queued_bytes, 300000);
    for (int mode = 0; mode < XTIO_SCHEMA_MODE_COUNT; mode++)
        assert_int_equal(mode_summary(a, PID, mode).producer_blocked.count, 0);
    xtio_analysis_destroy(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(queue_wait_is_enqueue_to_write),
        cmocka_unit_test(end_to_end_ends_at_first_flush_covering_offset_plus_bytes),
        cmocka_unit_test(inline_end_to_end_starts_at_the_write),
        cmocka_unit_test(zero_byte_handoff_is_complete_at_its_write),
        cmocka_unit_test(write_already_flushed_is_complete_at_its_write),
        cmocka_unit_test(producer_blocked_is_enqueue_to_sync_wait_end),
        cmocka_unit_test(producer_blocked_counts_a_sync_wait_ended_by_a_drop),
        cmocka_unit_test(spool_delay_is_the_batch_spool_ns),
        cmocka_unit_test(handoffs_bytes_records_are_counted_per_mode),
        cmocka_unit_test(percentiles_of_a_known_distribution_are_within_histogram_error),
        cmocka_unit_test(overlapping_handoffs_from_several_producers_pair_by_id),
        cmocka_unit_test(timestamp_ties_give_zero_not_negative_latencies),
        cmocka_unit_test(backpressure_is_reported_apart_from_the_modes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
