/*
 * The Perfetto timeline of export.h on synthetic events: it parses and keeps the rules that
 * perfetto_check.h checks (flows that start end, steps in order and inside slices, timestamps
 * monotonic and slices nested per track); each handoff has its slices and its flow through them,
 * a queue run is one write slice, a sync producer's wait and the findings are drawn on their
 * threads, tracks are named as in the trace; --begin, --end and --limit cut and say so.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "export.h"
#include "perfetto_check.h"
#include "test_export.h"

#define CONN  1
#define CONN2 2

typedef void scenario_fn(xtio_analysis *a);

/* The timeline of the export of `scenario`, which the analysis finishes with `finish_status`,
 * parsed and held to perfetto_check.h's rules (their counts in *stats). */
static json_t *render(scenario_fn *scenario, const struct xtio_export_options *options,
                      int finish_status, struct timeline_stats *stats)
{
    struct exported e;
    export_open(&e, XTIO_EXPORT_PERFETTO, options, false, false);
    scenario(e.analysis);
    assert_int_equal(xtio_analysis_finish(e.analysis), finish_status);
    char *text = export_close(&e);
    json_error_t error;
    json_t *root = json_loads(text, 0, &error);
    if (!root)
        fail_msg("timeline does not parse: %s (line %d)", error.text, error.line);
    free(text);
    const char *why = timeline_check(root, stats);
    if (why)
        fail_msg("timeline breaks a rule: %s", why);
    return root;
}

/* Every mode on two connections, a sync wait, an off-loop write, overlapping flushes. */
static void every_mode(xtio_analysis *a)
{
    struct xtio_event event = event_at(XTIO_EVENT_BACKPRESSURE, 10, PID, WORKER);
    event.conn_id = CONN;
    event.queued_bytes = 300000;
    event.waited_ns = 2500;
    event.procname = "worker-1";
    feed(a, &event);
    ev_loop_start(a, 20, PID, LOOP, 1, "xtio-loop-1");
    assert_int_equal(xtio_analysis_name_process(a, PID, "xtio-server"), 0);
    ev_conn_open(a, 100, PID, LOOP, CONN);
    ev_conn_open(a, 110, PID, LOOP, CONN2);
    ev_write(a, 1000, PID, 1, CONN, 0, INLINE, 10, 0);
    ev_enqueue(a, 1100, PID, 2, CONN, 1, SYNC, 10);
    ev_enqueue(a, 1200, PID, 3, CONN, 2, ASYNC, 10);
    ev_enqueue_full(a, 1300, PID, WORKER, LOOP, 4, CONN, 3, BATCH, 10, 4, 900);
    /* Two handoffs written at one timestamp: one write slice, two flows through it. */
    ev_write(a, 1400, PID, 2, CONN, 1, SYNC, 10, 10);
    ev_write(a, 1400, PID, 3, CONN, 2, ASYNC, 10, 20);
    ev_enqueue(a, 1500, PID, 6, CONN2, 0, ASYNC, 10);
    ev_sync_wait_end(a, 1550, PID, 2, CONN, 1);
    ev_write(a, 1600, PID, 4, CONN, 3, BATCH, 10, 30);
    ev_write(a, 1650, PID, 6, CONN2, 0, ASYNC, 10, 0);
    ev_enqueue(a, 1700, PID, 5, CONN, 4, DIRECT, 10);
    /* An off-loop write: its finding is a marker on the writing thread. */
    ev_write_full(a, 1800, PID, WORKER, LOOP, 5, CONN, 4, DIRECT, 10, 40);
    ev_flush(a, 2000, PID, CONN, 50);
    /* Flushed after conn 1's: their flush slices overlap without nesting. */
    ev_flush(a, 2100, PID, CONN2, 10);
    ev_conn_close(a, 3000, PID, LOOP, CONN);
    ev_conn_close(a, 3000, PID, LOOP, CONN2);
}

static json_t *timeline(const struct xtio_export_options *options)
{
    struct timeline_stats stats;
    return render(every_mode, options, 0, &stats);
}

/* The events of phase ph and name (NULL: any), in file order. */
static size_t find_events(const json_t *root, const char *ph, const char *name,
                          const json_t **found, size_t max)
{
    size_t n = 0, i;
    const json_t *event;
    json_array_foreach(json_object_get(root, "traceEvents"), i, event)
    {
        if (strcmp(json_string_value(json_object_get(event, "ph")), ph) != 0)
            continue;
        if (name && strcmp(json_string_value(json_object_get(event, "name")), name) != 0)
            continue;
        if (n < max)
            found[n] = event;
        n++;
    }
    return n;
}

static int64_t int_field(const json_t *event, const char *key)
{
    const json_t *v = json_object_get(event, key);
    if (!json_is_integer(v))
        fail_msg("no integer \"%s\"", key);
    return json_integer_value(v);
}

static int64_t arg(const json_t *event, const char *key)
{
    return int_field(json_object_get(event, "args"), key);
}

/* The event is at ns on the trace's clock: its ts counts microseconds from ts_origin_ns. */
static void assert_ts(const json_t *root, const json_t *event, long long ns)
{
    double ts = json_number_value(json_object_get(event, "ts"));
    double us = (double)(ns - timeline_meta(root, "ts_origin_ns")) / 1000;
    if (fabs(ts - us) > 1e-9)
        fail_msg("ts %.3f, expected %.3f", ts, us);
}

/* Every handoff is drawn, with its steps and flows. */
static void test_handoffs(void **state)
{
    (void)state;
    json_t *root = timeline(NULL);
    const json_t *found[16];

    assert_int_equal(timeline_meta(root, "handoffs"), 6);
    assert_int_equal(timeline_meta(root, "handoffs_drawn"), 6);
    assert_int_equal(timeline_meta(root, "handoffs_cut_over_limit"), 0);
    assert_int_equal(timeline_meta(root, "trace_first_ns"), 10);
    assert_int_equal(timeline_meta(root, "ts_origin_ns"), 10);

    /* Enqueues on the producer: every mode but inline, each its own. */
    assert_int_equal(find_events(root, "X", "enqueue sync", found, 16), 1);
    assert_int_equal(int_field(found[0], "tid"), WORKER);
    assert_ts(root, found[0], 1100);
    assert_int_equal(arg(found[0], "handoff"), 2);
    assert_int_equal(find_events(root, "X", "enqueue async", found, 16), 2);
    assert_int_equal(find_events(root, "X", "enqueue batch", found, 16), 1);
    assert_int_equal(arg(found[0], "records"), 4);
    assert_int_equal(find_events(root, "X", "enqueue direct", found, 16), 1);
    assert_int_equal(find_events(root, "X", "enqueue inline", found, 16), 0);

    /* Writes: the two at 1400 are one slice; the direct one is on its producer. */
    assert_int_equal(find_events(root, "X", "write x2", found, 16), 1);
    assert_int_equal(int_field(found[0], "tid"), LOOP);
    assert_ts(root, found[0], 1400);
    assert_int_equal(arg(found[0], "handoffs"), 2);
    assert_int_equal(arg(found[0], "bytes"), 20);
    assert_int_equal(arg(found[0], "seq_first"), 1);
    assert_int_equal(arg(found[0], "seq_last"), 2);
    assert_int_equal(find_events(root, "X", "write direct", found, 16), 1);
    assert_int_equal(int_field(found[0], "tid"), WORKER);
    assert_ts(root, found[0], 1800);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(found[0], "args"), "finding")),
        "off_loop_write");
    assert_int_equal(find_events(root, "X", "write inline", found, 16), 1);
    assert_int_equal(find_events(root, "X", "write batch", found, 16), 1);
    json_t *q = json_object_get(json_object_get(found[0], "args"), "queue_wait_us");
    assert_true(json_is_real(q) && fabs(json_real_value(q) - 0.3) < 1e-9);

    /* Flushes on lanes: one slice per flush of a connection, from the first write it took to
     * the kernel; conn 2's overlaps conn 1's without nesting, on a second lane. */
    const json_t *all[64];
    size_t nslices = find_events(root, "X", NULL, all, 64), flushes = 0, flushed = 0;
    for (size_t i = 0; i < nslices && i < 64; i++) {
        if (strncmp(json_string_value(json_object_get(all[i], "name")), "flush ", 6) == 0) {
            flushes++;
            flushed += (size_t)arg(all[i], "handoffs");
        }
    }
    assert_int_equal(flushes, 2);
    assert_int_equal(flushed, 6);
    assert_int_equal(find_events(root, "X", "flush x5", found, 16), 1);
    assert_int_equal(arg(found[0], "conn"), CONN);
    assert_int_equal(arg(found[0], "seq_first"), 0);
    assert_int_equal(arg(found[0], "seq_last"), 4);
    assert_ts(root, found[0], 1000);
    assert_true(fabs(json_number_value(json_object_get(found[0], "dur")) - 1.0) < 1e-9);
    assert_int_equal(find_events(root, "X", "flush async", found, 16), 1);
    assert_int_equal(arg(found[0], "conn"), CONN2);
    assert_ts(root, found[0], 1650);
    const json_t *lanes[16];
    size_t nlanes = find_events(root, "M", "thread_name", lanes, 16);
    size_t flush_lanes = 0;
    for (size_t i = 0; i < nlanes && i < 16; i++)
        if (strncmp(json_string_value(json_object_get(json_object_get(lanes[i], "args"), "name")),
                    "flush lane ", 11) == 0)
            flush_lanes++;
    assert_int_equal(flush_lanes, 2);

    /* Flows: one per handoff, enqueue -> write -> flush; inline's write -> flush. */
    assert_int_equal(find_events(root, "s", NULL, found, 16), 6);
    assert_int_equal(find_events(root, "f", NULL, found, 16), 6);
    assert_int_equal(find_events(root, "t", NULL, found, 16), 5);
    json_decref(root);
}

/* A sync producer's wait, the markers and the names. */
static void test_waits_markers_names(void **state)
{
    (void)state;
    json_t *root = timeline(NULL);
    const json_t *found[16];
    assert_int_equal(find_events(root, "X", "sync wait", found, 16), 1);
    assert_int_equal(int_field(found[0], "tid"), WORKER);
    assert_ts(root, found[0], 1100);
    assert_true(fabs(json_number_value(json_object_get(found[0], "dur")) - 0.45) < 1e-9);
    assert_int_equal(arg(found[0], "handoff"), 2);

    assert_int_equal(find_events(root, "i", "off_loop_write", found, 16), 1);
    assert_int_equal(int_field(found[0], "tid"), WORKER);
    assert_ts(root, found[0], 1800);
    assert_int_equal(arg(found[0], "conn"), CONN);
    assert_int_equal(arg(found[0], "seq"), 4);
    assert_int_equal(arg(found[0], "handoff"), 5);
    assert_int_equal(arg(found[0], "bytes"), 10);
    assert_int_equal(find_events(root, "i", NULL, found, 16), 1);

    assert_int_equal(find_events(root, "M", "process_name", found, 16), 1);
    assert_int_equal(int_field(found[0], "pid"), PID);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(found[0], "args"), "name")),
        "xtio-server");
    size_t n = find_events(root, "M", "thread_name", found, 16);
    bool loop = false, worker = false;
    for (size_t i = 0; i < n && i < 16; i++) {
        const char *name =
            json_string_value(json_object_get(json_object_get(found[i], "args"), "name"));
        loop = loop || (int_field(found[i], "tid") == LOOP && strcmp(name, "xtio-loop-1") == 0);
        worker = worker || (int_field(found[i], "tid") == WORKER && strcmp(name, "worker-1") == 0);
    }
    assert_true(loop && worker);
    json_decref(root);
}

/* --limit: the first handoffs by start; the rest are counted as cut, with their markers. */
static void test_limit(void **state)
{
    (void)state;
    struct xtio_export_options options = {.max_handoffs = 2};
    json_t *root = timeline(&options);
    const json_t *found[16];
    assert_int_equal(timeline_meta(root, "max_handoffs"), 2);
    assert_int_equal(timeline_meta(root, "handoffs_drawn"), 2);
    assert_int_equal(timeline_meta(root, "handoffs_cut_over_limit"), 4);
    /* The inline write (1000) and the sync enqueue (1100) start first. */
    assert_int_equal(find_events(root, "X", "write inline", found, 16), 1);
    assert_int_equal(find_events(root, "X", "enqueue sync", found, 16), 1);
    assert_int_equal(find_events(root, "X", "sync wait", found, 16), 1);
    assert_int_equal(find_events(root, "X", "write direct", found, 16), 0);
    assert_int_equal(find_events(root, "s", NULL, found, 16), 2);
    /* The direct write's marker goes with it. */
    assert_int_equal(find_events(root, "i", NULL, found, 16), 0);
    assert_int_equal(timeline_meta(root, "findings_cut"), 1);
    json_decref(root);

    /* With --end too: of those the limit let go, the ones that start after the end are cut
     * after it. Starts: 1000, 1100, then 1200 and later, after the end (1190). */
    options = (struct xtio_export_options){.max_handoffs = 1, .end_ns = 1180};
    root = timeline(&options);
    assert_int_equal(timeline_meta(root, "handoffs_drawn"), 1);
    assert_int_equal(timeline_meta(root, "handoffs_cut_over_limit"), 1);
    assert_int_equal(timeline_meta(root, "handoffs_cut_after_end"), 4);
    json_decref(root);
    options = (struct xtio_export_options){.max_handoffs = 2, .end_ns = 1180};
    root = timeline(&options);
    assert_int_equal(timeline_meta(root, "handoffs_drawn"), 2);
    assert_int_equal(timeline_meta(root, "handoffs_cut_over_limit"), 0);
    assert_int_equal(timeline_meta(root, "handoffs_cut_after_end"), 4);
    json_decref(root);
}

/* --begin and --end, from the first event (10 ns): what overlaps the window is drawn whole. */
static void test_window(void **state)
{
    (void)state;
    /* [1690, 1790]: every handoff is flushed at 2000 or later and starts before 1790, so every
     * one overlaps it, and is drawn whole. */
    struct xtio_export_options options = {.begin_ns = 1680, .end_ns = 1780};
    json_t *root = timeline(&options);
    const json_t *found[16];
    assert_int_equal(timeline_meta(root, "begin_ns"), 1680);
    assert_int_equal(timeline_meta(root, "end_ns"), 1780);
    assert_int_equal(timeline_meta(root, "handoffs_drawn"), 6);
    json_decref(root);

    /* [2050, 2060]: only conn 2's handoff, flushed at 2100, overlaps. */
    options = (struct xtio_export_options){.begin_ns = 2040, .end_ns = 2050};
    root = timeline(&options);
    assert_int_equal(timeline_meta(root, "handoffs_drawn"), 1);
    assert_int_equal(timeline_meta(root, "handoffs_cut_before_begin"), 5);
    assert_int_equal(find_events(root, "X", "enqueue async", found, 16), 1);
    assert_int_equal(arg(found[0], "conn"), CONN2);
    assert_int_equal(find_events(root, "i", NULL, found, 16), 0);
    json_decref(root);

    /* [0, 1090]: the inline write only; the others start after. */
    options = (struct xtio_export_options){.end_ns = 1080};
    root = timeline(&options);
    assert_int_equal(timeline_meta(root, "handoffs_drawn"), 1);
    assert_int_equal(timeline_meta(root, "handoffs_cut_after_end"), 5);
    assert_int_equal(find_events(root, "X", "write inline", found, 16), 1);
    json_decref(root);
}

/* A sync handoff dropped at close, and a direct producer that writes one handoff and enqueues
 * the next at one timestamp. */
static void drops(xtio_analysis *a)
{
    ev_loop_start(a, 20, PID, LOOP, 1, "xtio-loop-1");
    ev_conn_open(a, 100, PID, LOOP, CONN);
    ev_enqueue(a, 1000, PID, 1, CONN, 0, SYNC, 10);
    ev_drop(a, 1500, PID, 1, CONN, 0, 10);
    ev_sync_wait_end(a, 1600, PID, 1, CONN, 0);
    ev_enqueue(a, 2000, PID, 2, CONN, 1, DIRECT, 10);
    ev_write_full(a, 2100, PID, WORKER, LOOP, 2, CONN, 1, DIRECT, 10, 0);
    ev_enqueue(a, 2100, PID, 3, CONN, 2, ASYNC, 10);
    ev_write(a, 2200, PID, 3, CONN, 2, ASYNC, 10, 10);
    ev_flush(a, 2300, PID, CONN, 20);
    ev_conn_close(a, 3000, PID, LOOP, CONN);
}

static json_t *drops_timeline(const struct xtio_export_options *options)
{
    struct timeline_stats stats;
    return render(drops, options, 0, &stats);
}

static void test_drops_and_ties(void **state)
{
    (void)state;
    json_t *root = drops_timeline(NULL);
    const json_t *found[16];
    /* The drop: a marker on the loop; the producer's wait, released by it, a slice. */
    assert_int_equal(find_events(root, "i", "dropped_data", found, 16), 1);
    assert_int_equal(int_field(found[0], "tid"), LOOP);
    assert_ts(root, found[0], 1500);
    assert_int_equal(arg(found[0], "handoff"), 1);
    assert_int_equal(find_events(root, "X", "sync wait", found, 16), 1);
    assert_ts(root, found[0], 1000);
    assert_true(fabs(json_number_value(json_object_get(found[0], "dur")) - 0.6) < 1e-9);
    /* One slice for the write and the enqueue at 2100 on the producer, both flows through it. */
    assert_int_equal(find_events(root, "X", "enqueue+write x2", found, 16), 1);
    assert_int_equal(int_field(found[0], "tid"), WORKER);
    assert_ts(root, found[0], 2100);
    assert_int_equal(arg(found[0], "writes"), 1);
    assert_int_equal(find_events(root, "s", NULL, found, 16), 2);
    assert_int_equal(find_events(root, "f", NULL, found, 16), 2);
    assert_int_equal(timeline_meta(root, "findings"), 2);
    json_decref(root);

    /* --limit 1: the direct handoff, the earlier wait and drop with it; the async one cut. */
    struct xtio_export_options options = {.max_handoffs = 1};
    root = drops_timeline(&options);
    assert_int_equal(timeline_meta(root, "handoffs_cut_over_limit"), 1);
    assert_int_equal(find_events(root, "X", "write direct", found, 16), 1);
    assert_int_equal(find_events(root, "X", "sync wait", found, 16), 1);
    assert_int_equal(find_events(root, "i", "dropped_data", found, 16), 1);
    json_decref(root);

    /* A window after the drop: the wait and the marker are cut. */
    options = (struct xtio_export_options){.begin_ns = 2000};
    root = drops_timeline(&options);
    assert_int_equal(find_events(root, "X", "sync wait", found, 16), 0);
    assert_int_equal(find_events(root, "i", "dropped_data", found, 16), 0);
    assert_int_equal(timeline_meta(root, "sync_waits_cut"), 1);
    assert_int_equal(timeline_meta(root, "handoffs_drawn"), 2);
    json_decref(root);
}

/* No xtio event: still a timeline that parses, empty. */
static void nothing(xtio_analysis *a)
{
    (void)a;
}

static void test_empty(void **state)
{
    (void)state;
    struct timeline_stats stats;
    json_t *root = render(nothing, NULL, -ENODATA, &stats);
    assert_int_equal(stats.events, 0);
    assert_int_equal(timeline_meta(root, "handoffs"), 0);
    json_decref(root);
}

/* The checker itself catches what it is for, and passes a right timeline. */
static void test_checker(void **state)
{
    (void)state;
#define HEAD "{\"displayTimeUnit\":\"ns\",\"traceEvents\":["
#define SLICE(name, tid, ts, dur)                                                                  \
    "{\"ph\":\"X\",\"name\":\"" name "\",\"pid\":1,\"tid\":" #tid ",\"ts\":" #ts ",\"dur\":" #dur  \
    "}"
#define FLOW(ph, tid, ts)                                                                          \
    "{\"ph\":\"" ph "\",\"name\":\"handoff\",\"id\":\"0x1\",\"bp\":\"e\",\"pid\":1,\"tid\":" #tid  \
    ",\"ts\":" #ts "}"
    static const struct {
        const char *json;
        const char *why; /* NULL: passes */
    } cases[] = {
        {HEAD SLICE("enqueue async", 2, 1, 0) "," FLOW("s", 2, 1) "," SLICE(
             "write async", 1, 2, 0) "," FLOW("t", 1, 2) "," SLICE("flush async", 9, 2,
                                                                   3) "," FLOW("f", 9, 2) "]}",
         NULL},
        {HEAD SLICE("write inline", 1, 1, 0) "," FLOW("s", 1, 1) "]}", "ends 0 times"},
        {HEAD SLICE("write inline", 1, 2, 0) "," SLICE("write inline", 1, 1, 0) "]}", "before"},
        {HEAD SLICE("flush x2", 9, 1, 5) "," SLICE("flush x2", 9, 3, 5) "]}", "without nesting"},
        {HEAD SLICE("write inline", 1, 1, 1) "," FLOW("s", 1, 3) "]}", "in no slice"},
        /* a step bound to the flush slice it should end in */
        {HEAD SLICE("write inline", 1, 1, 0) "," FLOW("s", 1, 1) "," SLICE(
             "flush inline", 9, 1, 4) "," FLOW("t", 9, 2) "," FLOW("f", 9, 3) "]}",
         "not its step"},
        /* an end after its slice ended */
        {HEAD SLICE("enqueue sync", 2, 1, 0) "," FLOW("s", 2, 1) "," SLICE(
             "write sync", 1, 1, 0) "," SLICE("write sync", 1, 2, 0) "," FLOW("f", 1, 3) "]}",
         "in no slice"},
    };
#undef HEAD
#undef SLICE
#undef FLOW
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_error_t error;
        json_t *root = json_loads(cases[i].json, 0, &error);
        if (!root)
            fail_msg("case %zu does not parse: %s", i, error.text);
        struct timeline_stats stats;
        const char *why = timeline_check(root, &stats);
        if (!cases[i].why && why)
            fail_msg("case %zu: %s", i, why);
        if (cases[i].why && (!why || !strstr(why, cases[i].why)))
            fail_msg("case %zu: \"%s\", expected \"%s\"", i, why ? why : "passes", cases[i].why);
        json_decref(root);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handoffs),       cmocka_unit_test(test_waits_markers_names),
        cmocka_unit_test(test_limit),          cmocka_unit_test(test_window),
        cmocka_unit_test(test_drops_and_ties), cmocka_unit_test(test_empty),
        cmocka_unit_test(test_checker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
