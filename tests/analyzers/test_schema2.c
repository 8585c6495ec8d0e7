/*
 * Schema version 2: a handoff_run writes a run of a connection's queue where version 1 had a
 * handoff_write per handoff. Each scenario here is fed twice, once as version 1 traced it and
 * once as version 2 traces it, and every metric, finding and coverage count must come out the
 * same: the runs lose nothing. Then what only version 2 has: the queued bytes at enqueue.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_events.h"

#define CONN  7
#define CONN2 8

/* One way of tracing: version 1 or 2. */
struct tracer {
    xtio_analysis *a;
    unsigned version;
};

static void enqueue_by(struct tracer *t, uint64_t ts, int64_t tid, uint64_t handoff, uint64_t conn,
                       uint64_t seq, int mode, uint32_t bytes, uint32_t depth, uint64_t queued)
{
    struct xtio_event event = event_at(XTIO_EVENT_HANDOFF_ENQUEUE, ts, PID, tid);
    event.layout_version = t->version;
    event.handoff_id = handoff;
    event.conn_id = conn;
    event.seq = seq;
    event.mode = mode;
    event.bytes = bytes;
    event.records = 2;
    event.owner_tid = LOOP;
    event.spool_ns = mode == BATCH ? 1000 + handoff : 0;
    event.queue_depth = depth;
    event.queued_bytes = queued;
    feed(t->a, &event);
}

static void enqueue(struct tracer *t, uint64_t ts, uint64_t handoff, uint64_t conn, uint64_t seq,
                    int mode, uint32_t bytes)
{
    enqueue_by(t, ts, WORKER, handoff, conn, seq, mode, bytes, (uint32_t)(seq % 4) + 1, 0);
}

/* What the loop wrote of a connection's queue in one go, by thread `tid`: handoffs (id, seq,
 * bytes) from stream offset `offset`; version 1 traces a write of each, version 2 one run. A
 * handoff id 0 is one whose enqueue the trace does not have. */
struct piece {
    uint64_t handoff;
    uint64_t seq;
    uint32_t bytes;
};

static void write_run_by(struct tracer *t, uint64_t ts, int64_t tid, uint64_t conn, int mode,
                         uint64_t offset, const struct piece *pieces, size_t count)
{
    if (t->version == 1) {
        for (size_t i = 0; i < count; i++) {
            ev_write_full(t->a, ts, PID, tid, LOOP, pieces[i].handoff, conn, pieces[i].seq, mode,
                          pieces[i].bytes, offset);
            offset += pieces[i].bytes;
        }
        return;
    }
    struct xtio_event event = event_at(XTIO_EVENT_HANDOFF_RUN, ts, PID, tid);
    event.conn_id = conn;
    event.seq = pieces[0].seq;
    event.count = (uint32_t)count;
    event.mode = mode;
    event.owner_tid = LOOP;
    event.offset = offset;
    for (size_t i = 0; i < count; i++)
        event.run_bytes += pieces[i].bytes;
    feed(t->a, &event);
}

#define RUN(t, ts, conn, mode, offset, ...)                                                        \
    do {                                                                                           \
        static const struct piece pieces_[] = {__VA_ARGS__};                                       \
        write_run_by((t), (ts), LOOP, (conn), (mode), (offset), pieces_,                           \
                     sizeof(pieces_) / sizeof(pieces_[0]));                                        \
    } while (0)

/* ---- Comparing the two analyses ------------------------------------------------------------ */

static void assert_same_latency(const struct xtio_latency_summary *a,
                                const struct xtio_latency_summary *b, const char *what, int mode)
{
    if (a->count != b->count || a->p50_us != b->p50_us || a->p90_us != b->p90_us ||
        a->p99_us != b->p99_us || a->p999_us != b->p999_us || a->max_us != b->max_us)
        fail_msg("%s of mode %d: version 1 n=%" PRIu64 " p50=%g p99=%g max=%g, version 2 n=%" PRIu64
                 " p50=%g p99=%g max=%g",
                 what, mode, a->count, a->p50_us, a->p99_us, a->max_us, b->count, b->p50_us,
                 b->p99_us, b->max_us);
}

static void assert_same(const xtio_analysis *v1, const xtio_analysis *v2)
{
    for (int m = 0; m < XTIO_SCHEMA_MODE_COUNT; m++) {
        struct xtio_mode_summary a = mode_summary(v1, PID, m), b = mode_summary(v2, PID, m);
        assert_int_equal(a.handoffs, b.handoffs);
        assert_int_equal(a.bytes, b.bytes);
        assert_int_equal(a.records, b.records);
        assert_int_equal(a.drops, b.drops);
        assert_int_equal(a.drop_bytes, b.drop_bytes);
        assert_same_latency(&a.queue_wait, &b.queue_wait, "queue wait", m);
        assert_same_latency(&a.end_to_end, &b.end_to_end, "end to end", m);
        assert_same_latency(&a.flush, &b.flush, "flush", m);
        assert_same_latency(&a.producer_blocked, &b.producer_blocked, "producer blocked", m);
        assert_same_latency(&a.spool_delay, &b.spool_delay, "spool delay", m);
        assert_memory_equal(&a.queue_depth, &b.queue_depth, sizeof(a.queue_depth));
    }
    for (int k = 0; k < XTIO_FINDING_KIND_COUNT; k++)
        assert_int_equal(xtio_analysis_finding_count(v1, PID, (enum xtio_finding_kind)k),
                         xtio_analysis_finding_count(v2, PID, (enum xtio_finding_kind)k));
    struct xtio_coverage_summary c1 = coverage(v1, PID), c2 = coverage(v2, PID);
    assert_memory_equal(&c1, &c2, sizeof(c1));
    struct xtio_process_summary p1, p2;
    assert_int_equal(xtio_analysis_process_summary(v1, PID, &p1), 0);
    assert_int_equal(xtio_analysis_process_summary(v2, PID, &p2), 0);
    assert_int_equal(p1.unflushed_at_close, p2.unflushed_at_close);
    assert_int_equal(p1.unflushed_at_close_bytes, p2.unflushed_at_close_bytes);
    assert_int_equal(xtio_analysis_exit_code(v1), xtio_analysis_exit_code(v2));
    assert_int_equal(xtio_analysis_inflight_count(v1), xtio_analysis_inflight_count(v2));
}

typedef void scenario_fn(struct tracer *t);

/* Feeds the scenario as version 1 and as version 2, and compares. */
static void run_both(scenario_fn *scenario, bool strict)
{
    struct tracer v1 = {new_analysis(strict, true, true), 1};
    struct tracer v2 = {new_analysis(strict, true, true), 2};
    /* One after the other: feed() keeps the last event of each in the same two buffers. */
    scenario(&v1);
    assert_int_equal(xtio_analysis_finish(v1.a), 0);
    scenario(&v2);
    assert_int_equal(xtio_analysis_finish(v2.a), 0);
    assert_same(v1.a, v2.a);
    xtio_analysis_destroy(v1.a);
    xtio_analysis_destroy(v2.a);
}

/* ---- Scenarios ----------------------------------------------------------------------------- */

/* Async: four handoffs in two runs, flushed in parts that split a run. */
static void async_runs(struct tracer *t)
{
    ev_loop_start(t->a, 10, PID, LOOP, 1, "loop");
    ev_conn_open(t->a, 20, PID, LOOP, CONN);
    enqueue(t, 100, 1, CONN, 0, ASYNC, 10);
    enqueue(t, 110, 2, CONN, 1, ASYNC, 20);
    enqueue(t, 120, 3, CONN, 2, ASYNC, 30);
    RUN(t, 300, CONN, ASYNC, 0, {1, 0, 10}, {2, 1, 20}, {3, 2, 30});
    ev_flush(t->a, 400, PID, CONN, 30); /* the first two */
    enqueue(t, 450, 4, CONN, 3, ASYNC, 40);
    ev_flush(t->a, 500, PID, CONN, 60);
    RUN(t, 700, CONN, ASYNC, 60, {4, 3, 40});
    ev_flush(t->a, 900, PID, CONN, 100);
    ev_conn_close(t->a, 1000, PID, LOOP, CONN);
}

/* Sync and batch on two connections, interleaved, with a zero-byte handoff. */
static void sync_and_batch(struct tracer *t)
{
    ev_conn_open(t->a, 20, PID, LOOP, CONN);
    ev_conn_open(t->a, 21, PID, LOOP, CONN2);
    enqueue(t, 100, 1, CONN, 0, SYNC, 8);
    enqueue(t, 105, 2, CONN2, 0, BATCH, 4096);
    RUN(t, 200, CONN, SYNC, 0, {1, 0, 8});
    RUN(t, 201, CONN2, BATCH, 0, {2, 0, 4096});
    ev_sync_wait_end(t->a, 250, PID, 1, CONN, 1);
    ev_flush(t->a, 260, PID, CONN, 8);
    enqueue(t, 300, 3, CONN2, 1, BATCH, 0);
    enqueue(t, 310, 4, CONN2, 2, BATCH, 100);
    RUN(t, 400, CONN2, BATCH, 4096, {3, 1, 0}, {4, 2, 100});
    ev_flush(t->a, 500, PID, CONN2, 4196);
}

/* Findings: a run by a thread that is not the connection's loop (one off-loop write per
 * handoff), a run out of seq order (an ordering break), handoffs dropped at close and one lost
 * (closed with neither its write nor its drop), an enqueue after the close. */
static void with_findings(struct tracer *t)
{
    ev_conn_open(t->a, 20, PID, LOOP, CONN);
    for (uint64_t i = 0; i < 6; i++)
        enqueue(t, 100 + i, 1 + i, CONN, i, ASYNC, 10);
    write_run_by(t, 200, WORKER2, CONN, ASYNC, 0, (const struct piece[]){{1, 0, 10}, {2, 1, 10}},
                 2);
    RUN(t, 300, CONN, ASYNC, 20, {4, 3, 10});
    RUN(t, 310, CONN, ASYNC, 30, {3, 2, 10}); /* seq 2 after seq 3 */
    ev_flush(t->a, 400, PID, CONN, 30);
    ev_drop(t->a, 500, PID, 5, CONN, 4, 10);
    /* Handoff 6 (seq 5): neither written nor dropped. */
    ev_conn_close(t->a, 510, PID, LOOP, CONN);
    enqueue(t, 600, 7, CONN, 6, ASYNC, 10);
}

/* The trace began after seq 0 and 1 were enqueued: their run still counts them, as writes
 * without an enqueue, and every known handoff keeps its exact offset. */
static void trace_starts_mid_run(struct tracer *t)
{
    enqueue(t, 100, 3, CONN, 2, ASYNC, 30);
    enqueue(t, 110, 4, CONN, 3, ASYNC, 40);
    RUN(t, 200, CONN, ASYNC, 1000, {1, 0, 10}, {2, 1, 20}, {3, 2, 30}, {4, 3, 40});
    ev_flush(t->a, 300, PID, CONN, 1030);
    ev_flush(t->a, 400, PID, CONN, 1100);
}

/* A discard held the enqueue of seq 1: its write is unknown, not incomplete, and seq 2 after it
 * keeps its exact offset, counted from the run's end. */
static void discard_in_a_run(struct tracer *t)
{
    ev_conn_open(t->a, 20, PID, LOOP, CONN);
    enqueue(t, 100, 1, CONN, 0, ASYNC, 10);
    discard(t->a, 1, true, 150, 160);
    enqueue(t, 200, 3, CONN, 2, ASYNC, 30);
    RUN(t, 300, CONN, ASYNC, 0, {1, 0, 10}, {2, 1, 20}, {3, 2, 30});
    ev_flush(t->a, 400, PID, CONN, 10);
    ev_flush(t->a, 500, PID, CONN, 30);
    ev_flush(t->a, 600, PID, CONN, 60);
    ev_conn_close(t->a, 700, PID, LOOP, CONN);
}

/* Inline and direct writes stay handoff_writes of their own in version 2. */
static void inline_and_direct(struct tracer *t)
{
    ev_conn_open(t->a, 20, PID, LOOP, CONN);
    ev_write(t->a, 100, PID, 1, CONN, 0, INLINE, 5, 0);
    enqueue(t, 150, 2, CONN, 1, DIRECT, 7);
    ev_write_full(t->a, 160, PID, WORKER, LOOP, 2, CONN, 1, DIRECT, 7, 5);
    enqueue(t, 170, 3, CONN, 2, ASYNC, 9);
    RUN(t, 200, CONN, ASYNC, 12, {3, 2, 9});
    ev_flush(t->a, 300, PID, CONN, 21);
}

static void async_runs_are_exact(void **state)
{
    (void)state;
    run_both(async_runs, false);
}

static void sync_and_batch_runs_are_exact(void **state)
{
    (void)state;
    run_both(sync_and_batch, false);
}

static void findings_keep_their_granularity(void **state)
{
    (void)state;
    run_both(with_findings, true);
    /* And they are there: two off-loop writes (one run of two), one break, one lost. */
    struct tracer v2 = {new_analysis(true, false, false), 2};
    with_findings(&v2);
    assert_int_equal(xtio_analysis_finish(v2.a), 0);
    assert_int_equal(xtio_analysis_finding_count(v2.a, PID, XTIO_FINDING_OFF_LOOP_WRITE), 2);
    assert_int_equal(xtio_analysis_finding_count(v2.a, PID, XTIO_FINDING_ORDERING_BREAK), 1);
    assert_int_equal(xtio_analysis_finding_count(v2.a, PID, XTIO_FINDING_LOST_HANDOFF), 1);
    assert_int_equal(xtio_analysis_finding_count(v2.a, PID, XTIO_FINDING_WRITE_AFTER_CLOSE), 1);
    assert_int_equal(xtio_analysis_finding_count(v2.a, PID, XTIO_FINDING_DROPPED_DATA), 1);
    assert_int_equal(xtio_analysis_exit_code(v2.a), 1);
    xtio_analysis_destroy(v2.a);
}

static void runs_without_their_enqueues_are_counted(void **state)
{
    (void)state;
    run_both(trace_starts_mid_run, false);
    struct tracer v2 = {new_analysis(false, false, false), 2};
    trace_starts_mid_run(&v2);
    assert_int_equal(xtio_analysis_finish(v2.a), 0);
    struct xtio_mode_summary s = mode_summary(v2.a, PID, ASYNC);
    assert_int_equal(s.handoffs, 4);
    assert_int_equal(s.bytes, 100);
    assert_int_equal(s.end_to_end.count, 2);
    /* Handoff 3 ends at offset 1060, flushed at 400; handoff 4 at 1100, also at 400. */
    assert_true(s.end_to_end.max_us > 0.29 && s.end_to_end.max_us < 0.31);
    assert_int_equal(coverage(v2.a, PID).incomplete_writes, 2);
    xtio_analysis_destroy(v2.a);
}

static void discards_keep_their_meaning(void **state)
{
    (void)state;
    run_both(discard_in_a_run, false);
    struct tracer v2 = {new_analysis(false, false, false), 2};
    discard_in_a_run(&v2);
    assert_int_equal(xtio_analysis_finish(v2.a), 0);
    assert_int_equal(coverage(v2.a, PID).unknown_writes, 1);
    struct xtio_mode_summary s = mode_summary(v2.a, PID, ASYNC);
    /* End to end: seq 0 from 100 to its flush at 400, seq 2 from 200 to 600 (the max). */
    assert_int_equal(s.end_to_end.count, 2);
    assert_true(s.end_to_end.max_us > 0.39 && s.end_to_end.max_us < 0.41);
    assert_int_equal(s.flush.count, 3);
    xtio_analysis_destroy(v2.a);
}

static void inline_and_direct_writes_stay_writes(void **state)
{
    (void)state;
    run_both(inline_and_direct, false);
}

/* Version 2's enqueue says how many bytes were queued: reported per mode. */
static void queued_bytes_at_enqueue(void **state)
{
    (void)state;
    struct tracer t = {new_analysis(false, false, false), 2};
    ev_conn_open(t.a, 20, PID, LOOP, CONN);
    for (uint64_t i = 0; i < 100; i++)
        enqueue_by(&t, 100 + i, WORKER, 1 + i, CONN, i, ASYNC, 10, (uint32_t)i + 1, 10 * (i + 1));
    struct piece pieces[100];
    for (uint64_t i = 0; i < 100; i++)
        pieces[i] = (struct piece){1 + i, i, 10};
    write_run_by(&t, 300, LOOP, CONN, ASYNC, 0, pieces, 100);
    assert_int_equal(xtio_analysis_finish(t.a), 0);
    struct xtio_mode_summary s = mode_summary(t.a, PID, ASYNC);
    assert_int_equal(s.queue_depth.count, 100);
    assert_int_equal(s.queue_depth.max, 100);
    /* Percentiles are bucket middles (docs/analysis.md#percentiles): within 0.8%. */
    assert_in_range(s.queue_depth.p50, 49, 51);
    assert_int_equal(s.queued_bytes.count, 100);
    assert_int_equal(s.queued_bytes.max, 1000);
    assert_in_range(s.queued_bytes.p50, 496, 504);
    assert_in_range(s.queued_bytes.p99, 982, 998);
    assert_int_equal(mode_summary(t.a, PID, SYNC).queued_bytes.count, 0);
    xtio_analysis_destroy(t.a);

    /* Version 1 has no queued bytes: none reported, the depth still is. */
    struct tracer v1 = {new_analysis(false, false, false), 1};
    enqueue_by(&v1, 100, WORKER, 1, CONN, 0, ASYNC, 10, 3, 999);
    assert_int_equal(xtio_analysis_finish(v1.a), 0);
    s = mode_summary(v1.a, PID, ASYNC);
    assert_int_equal(s.queue_depth.count, 1);
    assert_int_equal(s.queue_depth.max, 3);
    assert_int_equal(s.queued_bytes.count, 0);
    xtio_analysis_destroy(v1.a);
}

/* What is held for runs stays at what is in flight: a long stream of runs leaves nothing. */
static void runs_hold_only_what_is_in_flight(void **state)
{
    (void)state;
    struct tracer t = {new_analysis(false, false, false), 2};
    ev_conn_open(t.a, 20, PID, LOOP, CONN);
    uint64_t ts = 100, seq = 0, offset = 0;
    for (int round = 0; round < 10000; round++) {
        struct piece pieces[3];
        for (int i = 0; i < 3; i++) {
            enqueue(&t, ts++, seq + 1, CONN, seq, ASYNC, 16);
            pieces[i] = (struct piece){seq + 1, seq, 16};
            seq++;
        }
        write_run_by(&t, ts++, LOOP, CONN, ASYNC, offset, pieces, 3);
        offset += 48;
        ev_flush(t.a, ts++, PID, CONN, offset);
        /* The last run's three writes, until the flush held back (analysis.h) is taken. */
        assert_true(xtio_analysis_inflight_count(t.a) <= 4);
    }
    assert_int_equal(xtio_analysis_finish(t.a), 0);
    assert_int_equal(mode_summary(t.a, PID, ASYNC).handoffs, 30000);
    assert_int_equal(xtio_analysis_exit_code(t.a), 0);
    xtio_analysis_destroy(t.a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(async_runs_are_exact),
        cmocka_unit_test(sync_and_batch_runs_are_exact),
        cmocka_unit_test(findings_keep_their_granularity),
        cmocka_unit_test(runs_without_their_enqueues_are_counted),
        cmocka_unit_test(discards_keep_their_meaning),
        cmocka_unit_test(inline_and_direct_writes_stay_writes),
        cmocka_unit_test(queued_bytes_at_enqueue),
        cmocka_unit_test(runs_hold_only_what_is_in_flight),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
