/*
 * Builders of synthetic `xtio` event streams for the analysis core's tests: one function per
 * event, which feeds it and checks that it was accepted, plus small accessors. Include after
 * <cmocka.h>.
 *
 * They trace as schema version 1 did (a handoff_enqueue and a handoff_write per handoff; their
 * layout_version 0 reads as 1), so their loop_start and conn_open say version 1. Later versions'
 * traces are built in test_schema2.c.
 */
#ifndef XTIO_TESTS_ANALYZERS_TEST_EVENTS_H
#define XTIO_TESTS_ANALYZERS_TEST_EVENTS_H

#include "analysis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PID     1000
#define LOOP    1001 /* the loop thread */
#define WORKER  1002 /* a producer */
#define WORKER2 1003 /* another producer */

/* The schema version whose events these builders make. */
#define BUILDERS_SCHEMA_VERSION 1

#define INLINE 0
#define SYNC   1
#define ASYNC  2
#define BATCH  3
#define DIRECT 4

static inline xtio_analysis *new_analysis(bool strict, bool by_connection, bool by_thread)
{
    struct xtio_analysis_options options = {
        .strict = strict, .by_connection = by_connection, .by_thread = by_thread};
    xtio_analysis *analysis = NULL;
    assert_int_equal(xtio_analysis_create(&analysis, &options), 0);
    assert_non_null(analysis);
    return analysis;
}

static inline struct xtio_event event_at(enum xtio_event_kind kind, uint64_t ts, int64_t vpid,
                                         int64_t vtid)
{
    struct xtio_event event;
    memset(&event, 0, sizeof(event));
    event.kind = kind;
    event.ts_ns = ts;
    event.has_vtid = true;
    event.vpid = vpid;
    event.vtid = vtid;
    return event;
}

/* The core may keep the last event fed by reference until the next feed (analysis.h), and the
 * builders below make theirs on their stack: each is fed from a copy that outlives it, the two
 * copies taking turns. (Their strings are literals.) */
static inline void feed(xtio_analysis *analysis, const struct xtio_event *event)
{
    static struct xtio_event kept[2];
    static unsigned next;
    struct xtio_event *copy = &kept[next];
    next ^= 1;
    *copy = *event;
    assert_int_equal(xtio_analysis_feed_event(analysis, copy), 0);
}

static inline void ev_loop_start(xtio_analysis *analysis, uint64_t ts, int64_t vpid, int64_t tid,
                                 uint32_t loop_id, const char *procname)
{
    struct xtio_event event = event_at(XTIO_EVENT_LOOP_START, ts, vpid, tid);
    event.loop_id = loop_id;
    event.procname = procname;
    event.has_schema_version = true;
    event.schema_version = BUILDERS_SCHEMA_VERSION;
    feed(analysis, &event);
}

static inline void ev_conn_open(xtio_analysis *analysis, uint64_t ts, int64_t vpid, int64_t owner,
                                uint64_t conn)
{
    struct xtio_event event = event_at(XTIO_EVENT_CONN_OPEN, ts, vpid, owner);
    event.conn_id = conn;
    event.loop_id = 1;
    event.owner_tid = owner;
    event.has_schema_version = true;
    event.schema_version = BUILDERS_SCHEMA_VERSION;
    feed(analysis, &event);
}

static inline void ev_conn_close(xtio_analysis *analysis, uint64_t ts, int64_t vpid, int64_t owner,
                                 uint64_t conn)
{
    struct xtio_event event = event_at(XTIO_EVENT_CONN_CLOSE, ts, vpid, owner);
    event.conn_id = conn;
    event.owner_tid = owner;
    feed(analysis, &event);
}

static inline void ev_enqueue_full(xtio_analysis *analysis, uint64_t ts, int64_t vpid, int64_t tid,
                                   int64_t owner, uint64_t handoff, uint64_t conn, uint64_t seq,
                                   int mode, uint32_t bytes, uint32_t records, uint64_t spool_ns)
{
    struct xtio_event event = event_at(XTIO_EVENT_HANDOFF_ENQUEUE, ts, vpid, tid);
    event.handoff_id = handoff;
    event.conn_id = conn;
    event.seq = seq;
    event.mode = mode;
    event.bytes = bytes;
    event.records = records;
    event.owner_tid = owner;
    event.spool_ns = spool_ns;
    feed(analysis, &event);
}

/* A sync, async or direct enqueue by WORKER on a connection owned by LOOP. */
static inline void ev_enqueue(xtio_analysis *analysis, uint64_t ts, int64_t vpid, uint64_t handoff,
                              uint64_t conn, uint64_t seq, int mode, uint32_t bytes)
{
    ev_enqueue_full(analysis, ts, vpid, WORKER, LOOP, handoff, conn, seq, mode, bytes, 1, 0);
}

static inline void ev_write_full(xtio_analysis *analysis, uint64_t ts, int64_t vpid, int64_t tid,
                                 int64_t owner, uint64_t handoff, uint64_t conn, uint64_t seq,
                                 int mode, uint32_t bytes, uint64_t offset)
{
    struct xtio_event event = event_at(XTIO_EVENT_HANDOFF_WRITE, ts, vpid, tid);
    event.handoff_id = handoff;
    event.conn_id = conn;
    event.seq = seq;
    event.mode = mode;
    event.bytes = bytes;
    event.owner_tid = owner;
    event.offset = offset;
    feed(analysis, &event);
}

/* A write on LOOP, its owner. */
static inline void ev_write(xtio_analysis *analysis, uint64_t ts, int64_t vpid, uint64_t handoff,
                            uint64_t conn, uint64_t seq, int mode, uint32_t bytes, uint64_t offset)
{
    ev_write_full(analysis, ts, vpid, LOOP, LOOP, handoff, conn, seq, mode, bytes, offset);
}

static inline void ev_flush(xtio_analysis *analysis, uint64_t ts, int64_t vpid, uint64_t conn,
                            uint64_t total)
{
    struct xtio_event event = event_at(XTIO_EVENT_CONN_FLUSH, ts, vpid, LOOP);
    event.conn_id = conn;
    event.bytes_flushed_total = total;
    feed(analysis, &event);
}

static inline void ev_sync_wait_end(xtio_analysis *analysis, uint64_t ts, int64_t vpid,
                                    uint64_t handoff, uint64_t conn, int written)
{
    struct xtio_event event = event_at(XTIO_EVENT_SYNC_WAIT_END, ts, vpid, WORKER);
    event.handoff_id = handoff;
    event.conn_id = conn;
    event.written = written;
    feed(analysis, &event);
}

static inline void ev_drop(xtio_analysis *analysis, uint64_t ts, int64_t vpid, uint64_t handoff,
                           uint64_t conn, uint64_t seq, uint32_t bytes)
{
    struct xtio_event event = event_at(XTIO_EVENT_HANDOFF_DROP, ts, vpid, LOOP);
    event.handoff_id = handoff;
    event.conn_id = conn;
    event.seq = seq;
    event.bytes = bytes;
    feed(analysis, &event);
}

static inline void ev_backpressure(xtio_analysis *analysis, uint64_t ts, int64_t vpid,
                                   uint64_t conn, uint64_t queued, uint64_t waited_ns)
{
    struct xtio_event event = event_at(XTIO_EVENT_BACKPRESSURE, ts, vpid, WORKER);
    event.conn_id = conn;
    event.queued_bytes = queued;
    event.waited_ns = waited_ns;
    feed(analysis, &event);
}

/* Schema version 4: thread `tid` posts `task` to loop `loop_id`. */
static inline void ev_loop_post(xtio_analysis *analysis, uint64_t ts, int64_t vpid, int64_t tid,
                                uint32_t loop_id, uint64_t task, int mech)
{
    struct xtio_event event = event_at(XTIO_EVENT_LOOP_POST, ts, vpid, tid);
    event.task = task;
    event.loop_id = loop_id;
    event.mech = mech;
    feed(analysis, &event);
}

/* Schema version 4: loop `loop_id`, on thread `tid`, runs `task`. */
static inline void ev_loop_run(xtio_analysis *analysis, uint64_t ts, int64_t vpid, int64_t tid,
                               uint32_t loop_id, uint64_t task, int mech)
{
    struct xtio_event event = event_at(XTIO_EVENT_LOOP_RUN, ts, vpid, tid);
    event.task = task;
    event.loop_id = loop_id;
    event.mech = mech;
    feed(analysis, &event);
}

/* Schema version 4: thread `tid` writes `bytes` to `conn`, whose loop thread is `owner` (0: not
 * started) and watches the socket or not. */
static inline void ev_io_write(xtio_analysis *analysis, uint64_t ts, int64_t vpid, int64_t tid,
                               uint64_t conn, uint32_t bytes, int64_t owner, bool watched, int call,
                               uint64_t site)
{
    struct xtio_event event = event_at(XTIO_EVENT_IO_WRITE, ts, vpid, tid);
    event.conn_id = conn;
    event.bytes = bytes;
    event.owner_tid = owner;
    event.watched = watched;
    event.call = call;
    event.site = site;
    feed(analysis, &event);
}

/* A thread names itself (xtio:thread_name, schema version 2 on). */
static inline void ev_thread_name(xtio_analysis *analysis, uint64_t ts, int64_t vpid, int64_t tid,
                                  const char *name)
{
    struct xtio_event event = event_at(XTIO_EVENT_THREAD_NAME, ts, vpid, tid);
    event.procname = name;
    feed(analysis, &event);
}

static inline void discard(xtio_analysis *analysis, uint64_t count, bool has_range,
                           uint64_t begin_ns, uint64_t end_ns)
{
    struct xtio_discard d = {.count = count,
                             .has_range = has_range,
                             .begin_ns = begin_ns,
                             .end_ns = end_ns,
                             .stream = "test/stream 0"};
    xtio_analysis_feed_discard(analysis, &d);
}

static inline struct xtio_mode_summary mode_summary(const xtio_analysis *analysis, int64_t vpid,
                                                    int mode)
{
    struct xtio_mode_summary summary;
    assert_int_equal(xtio_analysis_mode_summary(analysis, vpid, mode, &summary), 0);
    return summary;
}

static inline struct xtio_coverage_summary coverage(const xtio_analysis *analysis, int64_t vpid)
{
    struct xtio_coverage_summary summary;
    assert_int_equal(xtio_analysis_coverage_summary(analysis, vpid, &summary), 0);
    return summary;
}

static inline uint64_t findings(const xtio_analysis *analysis, enum xtio_finding_kind kind)
{
    return xtio_analysis_finding_count(analysis, PID, kind);
}

/* One process on one connection (conn_id 1), in every mode: an inline write, a sync handoff and
 * its wait, an async one, a batch chunk, a direct write off the loop thread, an async handoff
 * dropped at close, and a backpressure wait of thread "worker-1" (WORKER). The program and its
 * loop thread are named `program` and `loop_thread`. The reports' and views' tests read it. */
static inline void feed_every_mode(xtio_analysis *a, const char *program, const char *loop_thread)
{
    struct xtio_event event = event_at(XTIO_EVENT_BACKPRESSURE, 10, PID, WORKER);
    event.conn_id = 1;
    event.queued_bytes = 300000;
    event.waited_ns = 2500;
    event.procname = "worker-1";
    feed(a, &event);
    ev_loop_start(a, 20, PID, LOOP, 1, loop_thread);
    assert_int_equal(xtio_analysis_name_process(a, PID, program), 0);
    ev_conn_open(a, 100, PID, LOOP, 1);
    ev_write(a, 1000, PID, 1, 1, 0, INLINE, 10, 0);
    ev_enqueue(a, 1100, PID, 2, 1, 1, SYNC, 10);
    ev_enqueue(a, 1200, PID, 3, 1, 2, ASYNC, 10);
    ev_enqueue_full(a, 1300, PID, WORKER, LOOP, 4, 1, 3, BATCH, 10, 4, 900);
    ev_write(a, 1400, PID, 2, 1, 1, SYNC, 10, 10);
    ev_write(a, 1500, PID, 3, 1, 2, ASYNC, 10, 20);
    ev_sync_wait_end(a, 1550, PID, 2, 1, 1);
    ev_write(a, 1600, PID, 4, 1, 3, BATCH, 10, 30);
    ev_enqueue(a, 1700, PID, 5, 1, 4, DIRECT, 10);
    ev_write_full(a, 1800, PID, WORKER, LOOP, 5, 1, 4, DIRECT, 10, 40);
    ev_flush(a, 2000, PID, 1, 50);
    ev_enqueue(a, 2100, PID, 6, 1, 5, ASYNC, 7);
    ev_drop(a, 3000, PID, 6, 1, 5, 7);
    ev_conn_close(a, 3000, PID, LOOP, 1);
}

/* A stream into memory: membuf_open(), write to .out, then membuf_text() closes it and returns
 * what was written (free it). */
struct membuf {
    FILE *out;
    struct {
        char *text;
        size_t size;
    } * buffer; /* on the heap: GCC takes a memstream's buffer in a local for a dangling one */
};

static inline void membuf_open(struct membuf *m)
{
    m->buffer = calloc(1, sizeof(*m->buffer));
    assert_non_null(m->buffer);
    m->out = open_memstream(&m->buffer->text, &m->buffer->size);
    assert_non_null(m->out);
}

static inline char *membuf_text(struct membuf *m)
{
    assert_int_equal(fclose(m->out), 0);
    char *text = m->buffer->text;
    free(m->buffer);
    return text;
}

/* The report as a string (free it). */
static inline char *report(const xtio_analysis *analysis, enum xtio_report_format format)
{
    struct membuf m;
    membuf_open(&m);
    assert_int_equal(xtio_analysis_write_report(analysis, format, m.out), 0);
    return membuf_text(&m);
}

/* Exact values: maxima, and any statistic of a single measurement. */
#define assert_us(actual, expected)                                                                \
    assert_true((actual) > (expected)-1e-9 && (actual) < (expected) + 1e-9)
/* Other percentiles: within one histogram bucket (1/64 of the value). */
#define assert_near_us(actual, expected)                                                           \
    assert_true((actual) >= (expected) * (1 - 1.0 / 64) - 1e-9 &&                                  \
                (actual) <= (expected) * (1 + 1.0 / 64) + 1e-9)

#endif
