/*
 * Schema versions 2 and 3: a handoff_run writes a run of a connection's queue where version 1
 * had a handoff_write per handoff, and from version 3 it carries each handoff's enqueue, where
 * earlier versions had a handoff_enqueue per handoff. Each scenario here is fed as version 1,
 * 2 and 3 trace it, and every metric, finding and coverage count must come out the same: the
 * runs lose nothing. Then what only versions 2 and 3 have: the queued bytes at enqueue, and how
 * version 3 tells a lost handoff without its enqueue.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "test_events.h"

#define CONN  7
#define CONN2 8

#define MAX_HANDOFFS 128

/* One way of tracing: version 1, 2 or 3. Version 3 keeps each queued handoff's enqueue here
 * until the run or drop that carries it. */
struct tracer {
    xtio_analysis *a;
    unsigned version;
    struct xtio_enqueue enqueued[MAX_HANDOFFS]; /* by handoff id; enqueue_ns 0: none */
    int mode[MAX_HANDOFFS];
};

/* The layout version the decoder gives an event of `kind` in a trace of `version`: the layout
 * that version had, known by the last version with it; XTIO_SCHEMA_VERSION when no later version
 * changed it (a version 2 handoff_enqueue reads as version 3's, for instance). */
static unsigned layout_of(enum xtio_event_kind kind, unsigned version)
{
    unsigned layout = XTIO_SCHEMA_VERSION;
    for (size_t l = 0; l < XTIO_SCHEMA_OLD_LAYOUT_COUNT; l++) {
        const struct xtio_schema_layout *old = &xtio_schema_old_layouts[l];
        if (old->kind == kind && old->until >= version && old->until < layout)
            layout = old->until;
    }
    return layout;
}

static struct tracer *new_tracer(unsigned version, bool strict)
{
    struct tracer *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    t->a = new_analysis(strict, true, true);
    t->version = version;
    return t;
}

static void free_tracer(struct tracer *t)
{
    xtio_analysis_destroy(t->a);
    free(t);
}

static void enqueue_by(struct tracer *t, uint64_t ts, int64_t tid, uint64_t handoff, uint64_t conn,
                       uint64_t seq, int mode, uint32_t bytes, uint32_t depth, uint64_t queued)
{
    if (t->version >= 3 && mode != DIRECT) {
        assert_true(handoff < MAX_HANDOFFS);
        t->enqueued[handoff] = (struct xtio_enqueue){
            .handoff_id = handoff,
            .enqueue_ns = ts,
            .queued_bytes = queued,
            .spool_ns = mode == BATCH ? 1000 + handoff : 0,
            .producer_tid = tid,
            .bytes = bytes,
            .records = 2,
            .queue_depth = depth,
        };
        t->mode[handoff] = mode;
        (void)conn;
        (void)seq;
        return;
    }
    struct xtio_event event = event_at(XTIO_EVENT_HANDOFF_ENQUEUE, ts, PID, tid);
    event.layout_version = layout_of(XTIO_EVENT_HANDOFF_ENQUEUE, t->version);
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
    event.layout_version = layout_of(XTIO_EVENT_HANDOFF_RUN, t->version);
    event.conn_id = conn;
    event.seq = pieces[0].seq;
    event.count = (uint32_t)count;
    event.mode = mode;
    event.owner_tid = LOOP;
    event.offset = offset;
    for (size_t i = 0; i < count; i++)
        event.run_bytes += pieces[i].bytes;
    if (t->version >= 3) {
        /* Valid until the next feed (analysis.h): three buffers in turn, so that a tie of runs
         * finds its earlier runs' buffers reused unless the core copied them. */
        static struct xtio_enqueue buffers[3][MAX_HANDOFFS];
        static unsigned next;
        struct xtio_enqueue *enqueues = buffers[next];
        next = (next + 1) % 3;
        assert_true(count <= MAX_HANDOFFS);
        for (size_t i = 0; i < count; i++) {
            /* A handoff without a kept enqueue was enqueued before the session. */
            enqueues[i] = pieces[i].handoff < MAX_HANDOFFS ? t->enqueued[pieces[i].handoff]
                                                           : (struct xtio_enqueue){0};
            enqueues[i].handoff_id = pieces[i].handoff;
            enqueues[i].bytes = pieces[i].bytes;
        }
        event.enqueues = enqueues;
    }
    feed(t->a, &event);
}

/* An inline or direct write of its own, by `tid`, in the tracer's version. */
static void write_one(struct tracer *t, uint64_t ts, int64_t tid, uint64_t handoff, uint64_t conn,
                      uint64_t seq, int mode, uint32_t bytes, uint64_t offset)
{
    struct xtio_event event = event_at(XTIO_EVENT_HANDOFF_WRITE, ts, PID, tid);
    event.layout_version = layout_of(XTIO_EVENT_HANDOFF_WRITE, t->version);
    event.handoff_id = handoff;
    event.conn_id = conn;
    event.seq = seq;
    event.mode = mode;
    event.bytes = bytes;
    event.owner_tid = LOOP;
    event.offset = offset;
    feed(t->a, &event);
}

/* A queued handoff dropped at close; version 3 carries its enqueue. */
static void drop(struct tracer *t, uint64_t ts, uint64_t handoff, uint64_t conn, uint64_t seq,
                 uint32_t bytes)
{
    struct xtio_event event = event_at(XTIO_EVENT_HANDOFF_DROP, ts, PID, LOOP);
    event.layout_version = layout_of(XTIO_EVENT_HANDOFF_DROP, t->version);
    event.handoff_id = handoff;
    event.conn_id = conn;
    event.seq = seq;
    event.bytes = bytes;
    if (t->version >= 3 && handoff < MAX_HANDOFFS) {
        const struct xtio_enqueue *e = &t->enqueued[handoff];
        event.mode = t->mode[handoff];
        event.records = e->records;
        event.queue_depth = e->queue_depth;
        event.queued_bytes = e->queued_bytes;
        event.spool_ns = e->spool_ns;
        event.enqueue_ns = e->enqueue_ns;
        event.producer_tid = e->producer_tid;
    }
    feed(t->a, &event);
}

/* A loop_start and a conn_open say the version of their trace. */
static void start_loop(struct tracer *t, uint64_t ts)
{
    struct xtio_event event = event_at(XTIO_EVENT_LOOP_START, ts, PID, LOOP);
    event.loop_id = 1;
    event.procname = "loop";
    event.has_schema_version = true;
    event.schema_version = t->version;
    feed(t->a, &event);
}

static void open_conn(struct tracer *t, uint64_t ts, uint64_t conn)
{
    struct xtio_event event = event_at(XTIO_EVENT_CONN_OPEN, ts, PID, LOOP);
    event.conn_id = conn;
    event.loop_id = 1;
    event.owner_tid = LOOP;
    event.has_schema_version = true;
    event.schema_version = t->version;
    feed(t->a, &event);
}

/* A conn_close; version 3 says how many seqs the connection gave. */
static void close_conn(struct tracer *t, uint64_t ts, uint64_t conn, uint64_t next_seq)
{
    struct xtio_event event = event_at(XTIO_EVENT_CONN_CLOSE, ts, PID, LOOP);
    event.layout_version = layout_of(XTIO_EVENT_CONN_CLOSE, t->version);
    event.conn_id = conn;
    event.owner_tid = LOOP;
    event.has_next_seq = t->version >= 3;
    event.next_seq = next_seq;
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

/* `unseen`: enqueues that the second trace cannot have (version 3 has none of a lost handoff),
 * and so fewer queue depths. */
static void assert_same(const xtio_analysis *v1, const xtio_analysis *v2, uint64_t unseen)
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
        assert_same_latency(&a.wake, &b.wake, "wake", m);
        if (unseen)
            assert_int_equal(a.queue_depth.count, b.queue_depth.count + (m == ASYNC ? unseen : 0));
        else
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
    /* A lost handoff stays in the table to the end, where the trace has its enqueue. */
    assert_int_equal(xtio_analysis_inflight_count(v1), xtio_analysis_inflight_count(v2) + unseen);
}

typedef void scenario_fn(struct tracer *t);

/* Feeds the scenario as versions 1, 2 and 3, and compares each with version 1; `lost`: the async
 * handoffs it loses, whose enqueues version 3 cannot show. */
static void run_all(scenario_fn *scenario, bool strict, uint64_t lost)
{
    struct tracer *v1 = new_tracer(1, strict);
    /* One after the other: feed() keeps the last event of each in the same two buffers. */
    scenario(v1);
    assert_int_equal(xtio_analysis_finish(v1->a), 0);
    for (unsigned version = 2; version <= 3; version++) {
        struct tracer *t = new_tracer(version, strict);
        scenario(t);
        assert_int_equal(xtio_analysis_finish(t->a), 0);
        assert_same(v1->a, t->a, version >= 3 ? lost : 0);
        free_tracer(t);
    }
    free_tracer(v1);
}

/* The scenario fed as `version` and finished, for its own checks. */
static struct tracer *traced(scenario_fn *scenario, unsigned version, bool strict)
{
    struct tracer *t = new_tracer(version, strict);
    scenario(t);
    assert_int_equal(xtio_analysis_finish(t->a), 0);
    return t;
}

/* ---- Scenarios ----------------------------------------------------------------------------- */

/* Async: four handoffs in two runs, flushed in parts that split a run. */
static void async_runs(struct tracer *t)
{
    start_loop(t, 10);
    open_conn(t, 20, CONN);
    enqueue(t, 100, 1, CONN, 0, ASYNC, 10);
    enqueue(t, 110, 2, CONN, 1, ASYNC, 20);
    enqueue(t, 120, 3, CONN, 2, ASYNC, 30);
    RUN(t, 300, CONN, ASYNC, 0, {1, 0, 10}, {2, 1, 20}, {3, 2, 30});
    ev_flush(t->a, 400, PID, CONN, 30); /* the first two */
    enqueue(t, 450, 4, CONN, 3, ASYNC, 40);
    ev_flush(t->a, 500, PID, CONN, 60);
    RUN(t, 700, CONN, ASYNC, 60, {4, 3, 40});
    ev_flush(t->a, 900, PID, CONN, 100);
    close_conn(t, 1000, CONN, 4);
}

/* Sync and batch on two connections, interleaved, with a zero-byte handoff. */
static void sync_and_batch(struct tracer *t)
{
    open_conn(t, 20, CONN);
    open_conn(t, 21, CONN2);
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
 * (closed with neither its write nor its drop), a run after the close. */
static void with_findings(struct tracer *t)
{
    open_conn(t, 20, CONN);
    for (uint64_t i = 0; i < 6; i++)
        enqueue(t, 100 + i, 1 + i, CONN, i, ASYNC, 10);
    write_run_by(t, 200, WORKER2, CONN, ASYNC, 0, (const struct piece[]){{1, 0, 10}, {2, 1, 10}},
                 2);
    RUN(t, 300, CONN, ASYNC, 20, {4, 3, 10});
    RUN(t, 310, CONN, ASYNC, 30, {3, 2, 10}); /* seq 2 after seq 3 */
    ev_flush(t->a, 400, PID, CONN, 30);
    drop(t, 500, 5, CONN, 4, 10);
    /* Handoff 6 (seq 5): neither written nor dropped. */
    close_conn(t, 510, CONN, 6);
    RUN(t, 600, CONN, ASYNC, 40, {7, 6, 10});
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
    open_conn(t, 20, CONN);
    enqueue(t, 100, 1, CONN, 0, ASYNC, 10);
    discard(t->a, 1, true, 150, 160);
    enqueue(t, 200, 3, CONN, 2, ASYNC, 30);
    RUN(t, 300, CONN, ASYNC, 0, {1, 0, 10}, {2, 1, 20}, {3, 2, 30});
    ev_flush(t->a, 400, PID, CONN, 10);
    ev_flush(t->a, 500, PID, CONN, 30);
    ev_flush(t->a, 600, PID, CONN, 60);
    close_conn(t, 700, CONN, 3);
}

/* Inline and direct writes stay handoff_writes of their own in version 2. */
static void inline_and_direct(struct tracer *t)
{
    open_conn(t, 20, CONN);
    write_one(t, 100, LOOP, 1, CONN, 0, INLINE, 5, 0);
    enqueue(t, 150, 2, CONN, 1, DIRECT, 7);
    write_one(t, 160, WORKER, 2, CONN, 1, DIRECT, 7, 5);
    enqueue(t, 170, 3, CONN, 2, ASYNC, 9);
    RUN(t, 200, CONN, ASYNC, 12, {3, 2, 9});
    ev_flush(t->a, 300, PID, CONN, 21);
}

static void async_runs_are_exact(void **state)
{
    (void)state;
    run_all(async_runs, false, 0);
}

static void sync_and_batch_runs_are_exact(void **state)
{
    (void)state;
    run_all(sync_and_batch, false, 0);
}

static void findings_keep_their_granularity(void **state)
{
    (void)state;
    run_all(with_findings, true, 1);
    /* And they are there: two off-loop writes (one run of two), one break, one lost. */
    for (unsigned version = 2; version <= 3; version++) {
        struct tracer *t = traced(with_findings, version, true);
        assert_int_equal(xtio_analysis_finding_count(t->a, PID, XTIO_FINDING_OFF_LOOP_WRITE), 2);
        assert_int_equal(xtio_analysis_finding_count(t->a, PID, XTIO_FINDING_ORDERING_BREAK), 1);
        assert_int_equal(xtio_analysis_finding_count(t->a, PID, XTIO_FINDING_LOST_HANDOFF), 1);
        assert_int_equal(xtio_analysis_finding_count(t->a, PID, XTIO_FINDING_WRITE_AFTER_CLOSE), 1);
        assert_int_equal(xtio_analysis_finding_count(t->a, PID, XTIO_FINDING_DROPPED_DATA), 1);
        assert_int_equal(mode_summary(t->a, PID, ASYNC).drops, 1);
        assert_int_equal(xtio_analysis_exit_code(t->a), 1);
        free_tracer(t);
    }
}

static void runs_without_their_enqueues_are_counted(void **state)
{
    (void)state;
    run_all(trace_starts_mid_run, false, 0);
    for (unsigned version = 2; version <= 3; version++) {
        struct tracer *t = traced(trace_starts_mid_run, version, false);
        struct xtio_mode_summary s = mode_summary(t->a, PID, ASYNC);
        assert_int_equal(s.handoffs, 4);
        assert_int_equal(s.bytes, 100);
        assert_int_equal(s.end_to_end.count, 2);
        /* Handoff 3 ends at offset 1060, flushed at 400; handoff 4 at 1100, also at 400. */
        assert_true(s.end_to_end.max_us > 0.29 && s.end_to_end.max_us < 0.31);
        assert_int_equal(coverage(t->a, PID).incomplete_writes, 2);
        free_tracer(t);
    }
}

static void discards_keep_their_meaning(void **state)
{
    (void)state;
    run_all(discard_in_a_run, false, 0);
    for (unsigned version = 2; version <= 3; version++) {
        struct tracer *t = traced(discard_in_a_run, version, false);
        assert_int_equal(coverage(t->a, PID).unknown_writes, 1);
        struct xtio_mode_summary s = mode_summary(t->a, PID, ASYNC);
        /* End to end: seq 0 from 100 to its flush at 400, seq 2 from 200 to 600 (the max). */
        assert_int_equal(s.end_to_end.count, 2);
        assert_true(s.end_to_end.max_us > 0.39 && s.end_to_end.max_us < 0.41);
        assert_int_equal(s.flush.count, 3);
        free_tracer(t);
    }
}

static void inline_and_direct_writes_stay_writes(void **state)
{
    (void)state;
    run_all(inline_and_direct, false, 0);
}

/* Versions 2 and 3 say how many bytes were queued at each enqueue: reported per mode. */
static void queued_bytes_at_enqueue(void **state)
{
    (void)state;
    for (unsigned version = 2; version <= 3; version++) {
        struct tracer *t = new_tracer(version, false);
        open_conn(t, 20, CONN);
        for (uint64_t i = 0; i < 100; i++)
            enqueue_by(t, 100 + i, WORKER, 1 + i, CONN, i, ASYNC, 10, (uint32_t)i + 1,
                       10 * (i + 1));
        struct piece pieces[100];
        for (uint64_t i = 0; i < 100; i++)
            pieces[i] = (struct piece){1 + i, i, 10};
        write_run_by(t, 300, LOOP, CONN, ASYNC, 0, pieces, 100);
        assert_int_equal(xtio_analysis_finish(t->a), 0);
        struct xtio_mode_summary s = mode_summary(t->a, PID, ASYNC);
        assert_int_equal(s.queue_depth.count, 100);
        assert_int_equal(s.queue_depth.max, 100);
        /* Percentiles are bucket middles (docs/analysis.md#percentiles): within 0.8%. */
        assert_in_range(s.queue_depth.p50, 49, 51);
        assert_int_equal(s.queued_bytes.count, 100);
        assert_int_equal(s.queued_bytes.max, 1000);
        assert_in_range(s.queued_bytes.p50, 496, 504);
        assert_in_range(s.queued_bytes.p99, 982, 998);
        assert_int_equal(mode_summary(t->a, PID, SYNC).queued_bytes.count, 0);
        free_tracer(t);
    }

    /* Version 1 has no queued bytes: none reported, the depth still is. */
    struct tracer *v1 = new_tracer(1, false);
    enqueue_by(v1, 100, WORKER, 1, CONN, 0, ASYNC, 10, 3, 999);
    assert_int_equal(xtio_analysis_finish(v1->a), 0);
    struct xtio_mode_summary s = mode_summary(v1->a, PID, ASYNC);
    assert_int_equal(s.queue_depth.count, 1);
    assert_int_equal(s.queue_depth.max, 3);
    assert_int_equal(s.queued_bytes.count, 0);
    free_tracer(v1);
}

/* What is held for runs stays at what is in flight: a long stream of runs leaves nothing. */
static void runs_hold_only_what_is_in_flight(void **state)
{
    (void)state;
    for (unsigned version = 2; version <= 3; version++) {
        struct tracer *t = new_tracer(version, false);
        open_conn(t, 20, CONN);
        uint64_t ts = 100, seq = 0, offset = 0;
        for (int round = 0; round < 10000; round++) {
            struct piece pieces[3];
            for (int i = 0; i < 3; i++) {
                /* Handoff ids taken in turn from the tracer's table (version 3 keeps them). */
                uint64_t id = 1 + seq % (MAX_HANDOFFS - 1);
                enqueue(t, ts++, id, CONN, seq, ASYNC, 16);
                pieces[i] = (struct piece){id, seq, 16};
                seq++;
            }
            write_run_by(t, ts++, LOOP, CONN, ASYNC, offset, pieces, 3);
            offset += 48;
            ev_flush(t->a, ts++, PID, CONN, offset);
            /* The last run's three writes, until the flush held back (analysis.h) is taken. */
            assert_true(xtio_analysis_inflight_count(t->a) <= 4);
        }
        assert_int_equal(xtio_analysis_finish(t->a), 0);
        assert_int_equal(mode_summary(t->a, PID, ASYNC).handoffs, 30000);
        assert_int_equal(xtio_analysis_exit_code(t->a), 0);
        free_tracer(t);
    }
}

/* ---- Version 3: a lost handoff has no event of its own ----------------------------------- */

/* Seq 2 is skipped by the runs and seq 5 is neither written nor dropped before the close: two
 * lost handoffs, told by the seqs alone. */
static void seq_gaps_are_lost_handoffs(void **state)
{
    (void)state;
    struct tracer *t = new_tracer(3, false);
    open_conn(t, 20, CONN);
    for (uint64_t i = 0; i < 6; i++)
        enqueue(t, 100 + i, 1 + i, CONN, i, ASYNC, 10);
    RUN(t, 200, CONN, ASYNC, 0, {1, 0, 10}, {2, 1, 10});
    RUN(t, 300, CONN, ASYNC, 20, {4, 3, 10}, {5, 4, 10});
    close_conn(t, 400, CONN, 6);
    assert_int_equal(xtio_analysis_finish(t->a), 0);
    assert_int_equal(xtio_analysis_finding_count(t->a, PID, XTIO_FINDING_LOST_HANDOFF), 2);
    assert_int_equal(xtio_analysis_finding_count(t->a, PID, XTIO_FINDING_ORDERING_BREAK), 0);
    assert_int_equal(xtio_analysis_exit_code(t->a), 1);
    assert_int_equal(coverage(t->a, PID).unknown_in_flight, 0);
    free_tracer(t);
}

/* A seq written out of order fills its gap: an ordering break, not a loss as well. A later seq
 * written in a run that also fills part of a gap splits it. */
static void out_of_order_fills_a_gap(void **state)
{
    (void)state;
    struct tracer *t = new_tracer(3, false);
    open_conn(t, 20, CONN);
    for (uint64_t i = 0; i < 8; i++)
        enqueue(t, 100 + i, 1 + i, CONN, i, ASYNC, 10);
    RUN(t, 200, CONN, ASYNC, 0, {1, 0, 10});
    RUN(t, 210, CONN, ASYNC, 10, {7, 6, 10}, {8, 7, 10}); /* seqs 1-5 skipped */
    RUN(t, 220, CONN, ASYNC, 30, {3, 2, 10}, {4, 3, 10}); /* fills the middle of the gap */
    close_conn(t, 400, CONN, 8);
    assert_int_equal(xtio_analysis_finish(t->a), 0);
    /* Seqs 1, 4 and 5 are lost; 2 and 3 came late, after 7: one break (as a write after 7). */
    assert_int_equal(xtio_analysis_finding_count(t->a, PID, XTIO_FINDING_LOST_HANDOFF), 3);
    assert_int_equal(xtio_analysis_finding_count(t->a, PID, XTIO_FINDING_ORDERING_BREAK), 1);
    free_tracer(t);
}

/* A discard after the last event before a gap may hold the run that named it: unknown, not
 * lost. A gap on a connection still open at the end is in flight. */
static void gaps_after_a_discard_or_still_open_are_not_lost(void **state)
{
    (void)state;
    struct tracer *t = new_tracer(3, false);
    open_conn(t, 20, CONN);
    open_conn(t, 21, CONN2);
    for (uint64_t i = 0; i < 3; i++)
        enqueue(t, 100 + i, 1 + i, CONN, i, ASYNC, 10);
    for (uint64_t i = 0; i < 3; i++)
        enqueue(t, 110 + i, 11 + i, CONN2, i, ASYNC, 10);
    RUN(t, 200, CONN, ASYNC, 0, {1, 0, 10});
    discard(t->a, 1, true, 250, 260);
    RUN(t, 300, CONN, ASYNC, 20, {3, 2, 10});
    close_conn(t, 400, CONN, 3);
    RUN(t, 410, CONN2, ASYNC, 0, {11, 0, 10});
    RUN(t, 420, CONN2, ASYNC, 20, {13, 2, 10});
    assert_int_equal(xtio_analysis_finish(t->a), 0);
    assert_int_equal(xtio_analysis_finding_count(t->a, PID, XTIO_FINDING_LOST_HANDOFF), 0);
    struct xtio_coverage_summary c = coverage(t->a, PID);
    assert_int_equal(c.unknown_in_flight, 1);
    assert_int_equal(c.incomplete_in_flight, 1);
    free_tracer(t);
}

/* Runs of one timestamp are held and sorted: their enqueues are copied, since the buffers they
 * were fed from are reused meanwhile. A handoff whose enqueue was not recorded is a write without
 * its enqueue. */
static void tied_runs_keep_their_enqueues(void **state)
{
    (void)state;
    struct tracer *t = new_tracer(3, false);
    open_conn(t, 20, CONN);
    open_conn(t, 21, CONN2);
    enqueue(t, 100, 1, CONN, 0, ASYNC, 10);
    enqueue(t, 110, 2, CONN2, 0, ASYNC, 20);
    enqueue(t, 120, 3, CONN, 1, ASYNC, 30);
    enqueue(t, 130, 4, CONN2, 1, ASYNC, 40);
    /* Four runs, three buffers: the fourth is fed from the first one's. */
    RUN(t, 500, CONN, ASYNC, 0, {1, 0, 10});
    RUN(t, 500, CONN2, ASYNC, 0, {2, 0, 20});
    RUN(t, 500, CONN, ASYNC, 10, {3, 1, 30}, {99, 2, 5});
    RUN(t, 500, CONN2, ASYNC, 20, {4, 1, 40});
    ev_flush(t->a, 600, PID, CONN, 45);
    ev_flush(t->a, 600, PID, CONN2, 60);
    assert_int_equal(xtio_analysis_finish(t->a), 0);
    struct xtio_mode_summary s = mode_summary(t->a, PID, ASYNC);
    assert_int_equal(s.handoffs, 5);
    assert_int_equal(s.bytes, 105);
    assert_int_equal(s.queue_wait.count, 4);
    /* Waits 400, 390, 380 and 370 ns: each run kept its own enqueues. */
    assert_true(s.queue_wait.max_us > 0.39 && s.queue_wait.max_us < 0.41);
    assert_int_equal(s.end_to_end.count, 4);
    assert_int_equal(coverage(t->a, PID).incomplete_writes, 1);
    assert_int_equal(xtio_analysis_exit_code(t->a), 0);
    free_tracer(t);
}

/* The loop's time on each handoff of a drain: from the drain's loop_run, or the drain's previous
 * run, to the run, over its handoffs; any other event of the loop thread ends the drain. */
static void drains(struct tracer *t)
{
    start_loop(t, 10);
    open_conn(t, 20, CONN);
    open_conn(t, 21, CONN2);
    for (uint64_t h = 1; h <= 4; h++)
        enqueue(t, 100 + h, h, CONN, h - 1, ASYNC, 10);
    ev_loop_run(t->a, 1000, PID, LOOP, 0, 0x10, XTIO_SCHEMA_MECH_LOOP_POST);
    RUN(t, 1400, CONN, ASYNC, 0, {1, 0, 10}, {2, 1, 10}); /* 200 ns each */
    RUN(t, 1700, CONN, ASYNC, 20, {3, 2, 10});            /* 300 ns */
    ev_flush(t->a, 1800, PID, CONN, 30);                  /* the drain is over */
    RUN(t, 2500, CONN, ASYNC, 30, {4, 3, 10});            /* not in a drain: not timed */
    enqueue(t, 2600, 5, CONN2, 0, SYNC, 8);
    ev_loop_run(t->a, 2700, PID, LOOP, 0, 0x20, XTIO_SCHEMA_MECH_LOOP_CALL); /* not a drain */
    RUN(t, 2800, CONN2, SYNC, 0, {5, 0, 8});
    ev_sync_wait_end(t->a, 3300, PID, 5, CONN2, 1); /* woken 500 ns after its write */
    enqueue(t, 3400, 6, CONN2, 1, SYNC, 8);
    ev_loop_run(t->a, 3500, PID, LOOP, 0, 0x10, XTIO_SCHEMA_MECH_LOOP_POST);
    RUN(t, 3600, CONN2, SYNC, 8, {6, 1, 8}); /* 100 ns */
    ev_sync_wait_end(t->a, 4400, PID, 6, CONN2, 1);
    enqueue(t, 4410, 7, CONN2, 2, SYNC, 8);
    ev_loop_run(t->a, 4420, PID, LOOP, 0, 0x10, XTIO_SCHEMA_MECH_LOOP_POST);
    discard(t->a, 1, true, 4430, 4440); /* the drain's own events may be among them */
    RUN(t, 4450, CONN2, SYNC, 16, {7, 2, 8});
    ev_flush(t->a, 4500, PID, CONN, 40);
    ev_flush(t->a, 4600, PID, CONN2, 24);
}

static void loop_write_times_the_runs_of_a_drain(void **state)
{
    (void)state;
    struct tracer *t = traced(drains, 3, false);
    struct xtio_mode_summary async = mode_summary(t->a, PID, ASYNC);
    assert_int_equal(async.handoffs, 4);
    assert_int_equal(async.loop_write.count, 3);
    assert_near_us(async.loop_write.p50_us, 0.2);
    assert_us(async.loop_write.max_us, 0.3);
    assert_int_equal(async.wake.count, 0);
    struct xtio_mode_summary sync = mode_summary(t->a, PID, SYNC);
    assert_int_equal(sync.handoffs, 3);
    assert_int_equal(sync.loop_write.count, 1);
    assert_us(sync.loop_write.max_us, 0.1);
    /* From each write to its sync_wait_end, drain or not. */
    assert_int_equal(sync.wake.count, 2);
    assert_us(sync.wake.max_us, 0.8);
    assert_near_us(sync.wake.p50_us, 0.5);
    free_tracer(t);
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
        cmocka_unit_test(seq_gaps_are_lost_handoffs),
        cmocka_unit_test(out_of_order_fills_a_gap),
        cmocka_unit_test(gaps_after_a_discard_or_still_open_are_not_lost),
        cmocka_unit_test(tied_runs_keep_their_enqueues),
        cmocka_unit_test(loop_write_times_the_runs_of_a_drain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
