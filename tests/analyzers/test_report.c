/*
 * The reports of the analysis core: the JSON report parses back with jansson and has exactly the
 * keys docs/analysis.md lists, with findings' evidence and the optional tables; the text report
 * opens with the side-by-side table of the modes; a refused input is reported as such.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "test_events.h"

#define CONN 1

/* Every mode, a direct (off-loop) write, a drop, a backpressure wait and a discard. */
static xtio_analysis *analysed(bool strict, bool by_connection, bool by_thread)
{
    xtio_analysis *a = new_analysis(strict, by_connection, by_thread);
    feed_every_mode(a, "xtio-server", "xtio-loop-1");
    discard(a, 2, true, 2500, 2600);
    assert_int_equal(xtio_analysis_finish(a), 0);
    return a;
}

static json_t *json_report(const xtio_analysis *a)
{
    char *text = report(a, XTIO_REPORT_JSON);
    json_error_t error;
    json_t *root = json_loads(text, 0, &error);
    if (!root)
        fail_msg("JSON report does not parse: %s (line %d)", error.text, error.line);
    free(text);
    return root;
}

/* The object has exactly these keys: the documented ones, no more, no fewer. */
static void assert_keys(const json_t *object, const char *const *keys, size_t count)
{
    assert_true(json_is_object(object));
    for (size_t i = 0; i < count; i++) {
        if (!json_object_get(object, keys[i]))
            fail_msg("missing key \"%s\"", keys[i]);
    }
    assert_int_equal(json_object_size(object), count);
}

#define ASSERT_KEYS(object, ...)                                                                   \
    do {                                                                                           \
        static const char *const keys_[] = {__VA_ARGS__};                                          \
        assert_keys((object), keys_, sizeof(keys_) / sizeof(keys_[0]));                            \
    } while (0)

static void assert_latency_keys(const json_t *latency)
{
    ASSERT_KEYS(latency, "count", "p50", "p90", "p99", "p99_9", "max");
}

static void assert_metric_keys(const json_t *object)
{
    assert_latency_keys(json_object_get(object, "queue_wait_us"));
    assert_latency_keys(json_object_get(object, "end_to_end_us"));
    assert_latency_keys(json_object_get(object, "flush_us"));
    assert_latency_keys(json_object_get(object, "producer_blocked_us"));
    assert_latency_keys(json_object_get(object, "spool_delay_us"));
    assert_latency_keys(json_object_get(object, "loop_write_us"));
    assert_latency_keys(json_object_get(object, "wake_us"));
}

static void json_report_has_the_documented_keys(void **state)
{
    (void)state;
    xtio_analysis *a = analysed(false, false, false);
    json_t *root = json_report(a);

    ASSERT_KEYS(root, "format", "version", "options", "summary", "discards", "processes");
    assert_string_equal(json_string_value(json_object_get(root, "format")), "xtio-analysis");
    assert_int_equal(json_integer_value(json_object_get(root, "version")), 1);
    ASSERT_KEYS(json_object_get(root, "options"), "strict", "by_connection", "by_thread",
                "max_samples");
    ASSERT_KEYS(json_object_get(root, "summary"), "exit_code", "findings_total", "processes",
                "events", "error");
    json_t *discards = json_object_get(root, "discards");
    ASSERT_KEYS(discards, "events", "messages", "unranged", "streams");
    ASSERT_KEYS(json_array_get(json_object_get(discards, "streams"), 0), "stream", "events",
                "messages", "unranged", "begin_ns", "end_ns");

    json_t *process = json_array_get(json_object_get(root, "processes"), 0);
    ASSERT_KEYS(process, "pid", "name", "events", "first_ns", "last_ns", "loops", "connections",
                "primary_mode", "schema", "modes", "backpressure", "drops", "unflushed_at_close",
                "findings_total", "findings", "coverage");
    ASSERT_KEYS(json_object_get(process, "schema"), "checked_events", "version");
    json_t *modes = json_object_get(process, "modes");
    ASSERT_KEYS(modes, "inline", "sync", "async", "batch", "direct");
    for (int m = 0; m < XTIO_SCHEMA_MODE_COUNT; m++) {
        json_t *mode = json_object_get(modes, xtio_schema_mode_label(m));
        ASSERT_KEYS(mode, "handoffs", "bytes", "records", "dropped", "dropped_bytes",
                    "queue_wait_us", "end_to_end_us", "flush_us", "producer_blocked_us",
                    "spool_delay_us", "loop_write_us", "wake_us", "queue_depth", "queued_bytes");
        assert_metric_keys(mode);
        ASSERT_KEYS(json_object_get(mode, "queue_depth"), "count", "p50", "p99", "max");
        ASSERT_KEYS(json_object_get(mode, "queued_bytes"), "count", "p50", "p99", "max");
    }
    json_t *backpressure = json_object_get(process, "backpressure");
    ASSERT_KEYS(backpressure, "waited_us", "max_queued_bytes");
    assert_latency_keys(json_object_get(backpressure, "waited_us"));
    ASSERT_KEYS(json_object_get(process, "drops"), "handoffs", "bytes", "finding");
    ASSERT_KEYS(json_object_get(process, "unflushed_at_close"), "handoffs", "bytes");
    json_t *findings = json_object_get(process, "findings");
    ASSERT_KEYS(findings, "off_loop_write", "ordering_break", "write_after_close", "lost_handoff");
    ASSERT_KEYS(json_object_get(findings, "off_loop_write"), "count", "bytes", "samples");
    json_t *coverage = json_object_get(process, "coverage");
    ASSERT_KEYS(coverage, "connections_without_open", "incomplete", "unknown");
    ASSERT_KEYS(json_object_get(coverage, "incomplete"), "writes_without_enqueue",
                "drops_without_enqueue", "sync_waits_without_enqueue", "in_flight_at_end",
                "unflushed_at_end");
    ASSERT_KEYS(json_object_get(coverage, "unknown"), "writes_without_enqueue",
                "drops_without_enqueue", "sync_waits_without_enqueue",
                "in_flight_on_closed_connection");
    json_decref(root);
    xtio_analysis_destroy(a);
}

static void json_report_values_match_the_analysis(void **state)
{
    (void)state;
    xtio_analysis *a = analysed(false, false, false);
    json_t *root = json_report(a);
    json_t *summary = json_object_get(root, "summary");
    assert_int_equal(json_integer_value(json_object_get(summary, "exit_code")), 1);
    assert_int_equal(json_integer_value(json_object_get(summary, "findings_total")), 1);
    assert_true(json_is_null(json_object_get(summary, "error")));

    json_t *process = json_array_get(json_object_get(root, "processes"), 0);
    assert_int_equal(json_integer_value(json_object_get(process, "pid")), PID);
    assert_string_equal(json_string_value(json_object_get(process, "name")), "xtio-server");
    json_t *sync = json_object_get(json_object_get(process, "modes"), "sync");
    assert_int_equal(json_integer_value(json_object_get(sync, "handoffs")), 1);
    json_t *blocked = json_object_get(sync, "producer_blocked_us");
    assert_int_equal(json_integer_value(json_object_get(blocked, "count")), 1);
    assert_us(json_real_value(json_object_get(blocked, "max")), 0.45);
    /* An empty distribution has no percentiles, rather than zeros. */
    json_t *inline_queue = json_object_get(
        json_object_get(json_object_get(process, "modes"), "inline"), "queue_wait_us");
    assert_int_equal(json_integer_value(json_object_get(inline_queue, "count")), 0);
    assert_true(json_is_null(json_object_get(inline_queue, "p50")));
    json_t *drops = json_object_get(process, "drops");
    assert_int_equal(json_integer_value(json_object_get(drops, "handoffs")), 1);
    assert_int_equal(json_integer_value(json_object_get(drops, "bytes")), 7);
    assert_false(json_boolean_value(json_object_get(drops, "finding")));
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(root, "discards"), "events")), 2);
    json_decref(root);
    xtio_analysis_destroy(a);
}

static void json_finding_samples_carry_the_evidence(void **state)
{
    (void)state;
    xtio_analysis *a = analysed(false, false, false);
    json_t *root = json_report(a);
    json_t *process = json_array_get(json_object_get(root, "processes"), 0);
    json_t *off_loop = json_object_get(json_object_get(process, "findings"), "off_loop_write");
    assert_int_equal(json_integer_value(json_object_get(off_loop, "count")), 1);
    json_t *sample = json_array_get(json_object_get(off_loop, "samples"), 0);
    ASSERT_KEYS(sample, "ts_ns", "event", "pid", "process", "conn_id", "handoff_id", "seq", "mode",
                "bytes", "writer_tid", "writer_name", "owner_tid", "owner_name");
    assert_int_equal(json_integer_value(json_object_get(sample, "ts_ns")), 1800);
    assert_string_equal(json_string_value(json_object_get(sample, "event")), "handoff_write");
    assert_int_equal(json_integer_value(json_object_get(sample, "pid")), PID);
    assert_string_equal(json_string_value(json_object_get(sample, "process")), "xtio-server");
    assert_int_equal(json_integer_value(json_object_get(sample, "conn_id")), CONN);
    assert_int_equal(json_integer_value(json_object_get(sample, "handoff_id")), 5);
    assert_int_equal(json_integer_value(json_object_get(sample, "seq")), 4);
    assert_string_equal(json_string_value(json_object_get(sample, "mode")), "direct");
    assert_int_equal(json_integer_value(json_object_get(sample, "writer_tid")), WORKER);
    assert_string_equal(json_string_value(json_object_get(sample, "writer_name")), "worker-1");
    assert_int_equal(json_integer_value(json_object_get(sample, "owner_tid")), LOOP);
    assert_string_equal(json_string_value(json_object_get(sample, "owner_name")), "xtio-loop-1");
    json_decref(root);
    xtio_analysis_destroy(a);
}

static void json_many_findings_keep_a_count_and_the_first_samples(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_conn_open(a, 100, PID, LOOP, CONN);
    for (uint64_t i = 0; i < 20; i++)
        ev_write_full(a, 1000 + i, PID, WORKER, LOOP, i + 1, CONN, i, DIRECT, 1, i);
    assert_int_equal(xtio_analysis_finish(a), 0);
    json_t *root = json_report(a);
    json_t *process = json_array_get(json_object_get(root, "processes"), 0);
    json_t *off_loop = json_object_get(json_object_get(process, "findings"), "off_loop_write");
    assert_int_equal(json_integer_value(json_object_get(off_loop, "count")), 20);
    json_t *samples = json_object_get(off_loop, "samples");
    assert_int_equal(json_array_size(samples), 5);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(samples, 0), "ts_ns")),
                     1000);
    json_decref(root);
    xtio_analysis_destroy(a);
}

static void json_dropped_data_is_a_finding_with_strict(void **state)
{
    (void)state;
    xtio_analysis *a = analysed(true, false, false);
    json_t *root = json_report(a);
    json_t *process = json_array_get(json_object_get(root, "processes"), 0);
    json_t *dropped = json_object_get(json_object_get(process, "findings"), "dropped_data");
    assert_non_null(dropped);
    assert_int_equal(json_integer_value(json_object_get(dropped, "count")), 1);
    assert_int_equal(json_integer_value(json_object_get(process, "findings_total")), 2);
    assert_true(json_boolean_value(json_object_get(json_object_get(process, "drops"), "finding")));
    json_decref(root);
    xtio_analysis_destroy(a);
}

static void json_tables_are_there_only_on_request(void **state)
{
    (void)state;
    xtio_analysis *a = analysed(false, true, true);
    json_t *root = json_report(a);
    json_t *process = json_array_get(json_object_get(root, "processes"), 0);

    json_t *conns = json_object_get(process, "per_connection");
    assert_int_equal(json_array_size(conns), 1);
    json_t *conn = json_array_get(conns, 0);
    ASSERT_KEYS(conn, "conn_id", "owner_tid", "loop_id", "handoffs", "bytes", "records",
                "queue_wait_us", "end_to_end_us", "flush_us", "producer_blocked_us",
                "spool_delay_us", "loop_write_us", "wake_us", "backpressure_us");
    assert_int_equal(json_integer_value(json_object_get(conn, "owner_tid")), LOOP);
    assert_int_equal(json_integer_value(json_object_get(conn, "bytes")), 50);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(conn, "handoffs"), "async")), 1);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(conn, "backpressure_us"), "count")), 1);

    json_t *loops = json_object_get(process, "per_loop_thread");
    assert_int_equal(json_array_size(loops), 1);
    json_t *loop = json_array_get(loops, 0);
    ASSERT_KEYS(loop, "tid", "name", "loop_id", "handoffs", "bytes", "records", "queue_wait_us",
                "end_to_end_us", "flush_us", "producer_blocked_us", "spool_delay_us",
                "loop_write_us", "wake_us", "backpressure_us");
    assert_int_equal(json_integer_value(json_object_get(loop, "tid")), LOOP);
    assert_int_equal(json_integer_value(json_object_get(loop, "bytes")), 50);

    /* The loop produced its inline write; the worker everything else. */
    json_t *producers = json_object_get(process, "per_producer_thread");
    assert_int_equal(json_array_size(producers), 2);
    json_t *worker = json_array_get(producers, 1);
    ASSERT_KEYS(worker, "tid", "name", "handoffs", "bytes", "records", "queue_wait_us",
                "end_to_end_us", "flush_us", "producer_blocked_us", "spool_delay_us",
                "loop_write_us", "wake_us", "backpressure_us");
    assert_int_equal(json_integer_value(json_object_get(worker, "tid")), WORKER);
    assert_string_equal(json_string_value(json_object_get(worker, "name")), "worker-1");
    assert_int_equal(json_integer_value(json_object_get(worker, "bytes")), 40);
    json_decref(root);
    xtio_analysis_destroy(a);

    a = analysed(false, false, false);
    root = json_report(a);
    process = json_array_get(json_object_get(root, "processes"), 0);
    assert_null(json_object_get(process, "per_connection"));
    assert_null(json_object_get(process, "per_loop_thread"));
    assert_null(json_object_get(process, "per_producer_thread"));
    json_decref(root);
    xtio_analysis_destroy(a);
}

static void text_report_opens_with_the_side_by_side_mode_table(void **state)
{
    (void)state;
    xtio_analysis *a = analysed(false, true, true);
    char *text = report(a, XTIO_REPORT_TEXT);

    /* The process's heading, then at once the table with a column per mode. */
    assert_true(strncmp(text, "== xtio-server (pid 1000)", 25) == 0);
    const char *table = strchr(text, '\n') + 1;
    assert_true(strncmp(table, "handoffs by mode", 16) == 0);
    const char *end = strchr(table, '\n');
    const char *columns[] = {"inline", "sync", "async", "batch", "direct"};
    const char *at = table;
    for (int i = 0; i < 5; i++) {
        at = strstr(at, columns[i]);
        assert_non_null(at);
        assert_true(at < end);
    }
    for (const char *row = end + 1; row < strstr(text, "\nbackpressure"); row++)
        assert_false(strncmp(row, "findings:", 9) == 0);
    assert_non_null(strstr(table, "queue wait (us)"));
    assert_non_null(strstr(table, "end to end (us)"));
    assert_non_null(strstr(table, "producer blocked (us)"));
    assert_non_null(strstr(table, "spool delay (us)"));
    free(text);
    xtio_analysis_destroy(a);
}

static void text_report_shows_evidence_coverage_and_summary(void **state)
{
    (void)state;
    xtio_analysis *a = analysed(false, true, true);
    char *text = report(a, XTIO_REPORT_TEXT);
    assert_non_null(strstr(text, "off-loop writes: 1"));
    assert_non_null(strstr(text, "thread 1002 (worker-1), owner 1001 (xtio-loop-1)"));
    assert_non_null(strstr(text, "dropped at close: handoffs 1, bytes 7"));
    assert_non_null(strstr(text, "coverage:"));
    assert_non_null(strstr(text, "discarded events: 2"));
    assert_non_null(strstr(text, "connections (percentiles within 1/32)"));
    assert_non_null(strstr(text, "producer threads (percentiles within 1/32)"));
    assert_non_null(strstr(text, "exit code 1"));
    free(text);
    xtio_analysis_destroy(a);
}

/* A named event of `tid`: a backpressure wait, which any thread may emit. */
static void named_event(xtio_analysis *a, uint64_t ts, int64_t tid, const char *procname)
{
    struct xtio_event event = event_at(XTIO_EVENT_BACKPRESSURE, ts, PID, tid);
    event.conn_id = CONN;
    event.procname = procname;
    feed(a, &event);
}

/* The evidence names each thread after its first named event (LTTng-UST reads a thread's name
 * once), and two threads of one process each by its own. */
static void threads_keep_the_name_of_their_first_event(void **state)
{
    (void)state;
    const int64_t neighbour = WORKER + 64;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_loop_start(a, 10, PID, LOOP, 1, "xtio-loop-1");
    ev_conn_open(a, 20, PID, LOOP, CONN);
    named_event(a, 30, WORKER, "worker-1");
    named_event(a, 40, neighbour, "worker-2");
    named_event(a, 50, WORKER, "renamed");
    ev_write_full(a, 60, PID, WORKER, LOOP, 1, CONN, 0, DIRECT, 10, 0);
    ev_write_full(a, 70, PID, neighbour, LOOP, 2, CONN, 1, DIRECT, 10, 10);
    assert_int_equal(xtio_analysis_finish(a), 0);
    char *text = report(a, XTIO_REPORT_TEXT);
    assert_non_null(strstr(text, "off-loop writes: 2"));
    assert_non_null(strstr(text, "thread 1002 (worker-1), owner 1001 (xtio-loop-1)"));
    assert_non_null(strstr(text, "thread 1066 (worker-2), owner 1001 (xtio-loop-1)"));
    assert_null(strstr(text, "renamed"));
    free(text);
    xtio_analysis_destroy(a);
}

static const char *process_name(const xtio_analysis *a, int64_t vpid)
{
    struct xtio_process_summary summary;
    assert_int_equal(xtio_analysis_process_summary(a, vpid, &summary), 0);
    return summary.name;
}

/* A process is named after its program (LTTng-UST's statedump), else after its main thread,
 * never after another of its threads: a loop thread's name would read as the program's. */
static void processes_are_named_after_their_program(void **state)
{
    (void)state;
    const int64_t named = PID + 100, main_only = PID + 200;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_loop_start(a, 10, PID, LOOP, 1, "xtio-loop-0");
    ev_loop_start(a, 10, named, LOOP, 1, "xtio-loop-0");
    ev_loop_start(a, 10, main_only, LOOP, 1, "xtio-loop-0");
    /* The program's name may come before or after the process's events, and wins over its main
     * thread's. */
    assert_int_equal(xtio_analysis_name_process(a, named, "xtio-server"), 0);
    struct xtio_event event = event_at(XTIO_EVENT_BACKPRESSURE, 20, named, named);
    event.procname = "renamed-main";
    feed(a, &event);
    event = event_at(XTIO_EVENT_BACKPRESSURE, 30, main_only, main_only);
    event.procname = "main-thread";
    feed(a, &event);
    /* A program that emitted no xtio event is not a process of the report. */
    assert_int_equal(xtio_analysis_name_process(a, PID + 300, "lttng-sessiond"), 0);
    assert_int_equal(xtio_analysis_name_process(NULL, PID, "x"), -EINVAL);
    assert_int_equal(xtio_analysis_finish(a), 0);
    assert_int_equal(xtio_analysis_name_process(a, PID, "late"), -EINVAL);

    assert_string_equal(process_name(a, PID), "");
    assert_string_equal(process_name(a, named), "xtio-server");
    assert_string_equal(process_name(a, main_only), "main-thread");
    assert_int_equal(xtio_analysis_process_count(a), 3);
    char *text = report(a, XTIO_REPORT_TEXT);
    assert_non_null(strstr(text, "== pid 1000: "));
    assert_non_null(strstr(text, "== xtio-server (pid 1100): "));
    assert_null(strstr(text, "xtio-loop-0 (pid"));
    free(text);
    json_t *root = json_report(a);
    json_t *first = json_array_get(json_object_get(root, "processes"), 0);
    assert_true(json_is_null(json_object_get(first, "name")));
    json_decref(root);
    xtio_analysis_destroy(a);
}

/* Two servers captured in one session, one in async mode, one in direct: both also write their
 * short replies inline. */
static xtio_analysis *two_servers(void)
{
    const int64_t other = PID + 100;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_loop_start(a, 10, PID, LOOP, 1, "xtio-loop-1");
    ev_loop_start(a, 10, other, LOOP, 1, "xtio-loop-1");
    assert_int_equal(xtio_analysis_name_process(a, PID, "xtio-server"), 0);
    assert_int_equal(xtio_analysis_name_process(a, other, "xtio-server"), 0);
    ev_conn_open(a, 20, PID, LOOP, 1);
    ev_conn_open(a, 20, other, LOOP, 1);
    ev_write(a, 30, PID, 1, 1, 1, INLINE, 5, 0);
    ev_write(a, 30, other, 1, 1, 1, INLINE, 5, 0);
    for (uint64_t h = 2; h <= 4; h++) {
        ev_enqueue(a, 100 * h, PID, h, 1, h, ASYNC, 10);
        ev_write(a, 100 * h + 50, PID, h, 1, h, ASYNC, 10, 5 + 10 * (h - 2));
        ev_enqueue(a, 100 * h, other, h, 1, h, DIRECT, 10);
        ev_write_full(a, 100 * h + 50, other, WORKER, LOOP, h, 1, h, DIRECT, 10, 5 + 10 * (h - 2));
    }
    xtio_analysis_finish(a);
    return a;
}

static void json_names_the_mode_each_process_ran_in(void **state)
{
    (void)state;
    xtio_analysis *a = two_servers();
    json_t *root = json_report(a);
    json_t *processes = json_object_get(root, "processes");
    assert_int_equal(json_array_size(processes), 2);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(processes, 0), "primary_mode")), "async");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(processes, 1), "primary_mode")), "direct");
    struct xtio_process_summary summary;
    assert_int_equal(xtio_analysis_process_summary(a, PID, &summary), 0);
    assert_int_equal(summary.primary_mode, ASYNC);
    json_decref(root);
    xtio_analysis_destroy(a);
}

static void text_report_of_several_processes_opens_with_them_side_by_side(void **state)
{
    (void)state;
    xtio_analysis *a = two_servers();
    char *text = report(a, XTIO_REPORT_TEXT);

    assert_true(strncmp(text, "processes side by side", 22) == 0);
    const char *end = strchr(text, '\n');
    const char *async = strstr(text, "async");
    const char *direct = strstr(text, "direct");
    assert_true(async && direct && async < direct && direct < end);
    const char *pids = end + 1;
    assert_true(strncmp(pids, "  pid", 5) == 0);
    assert_true(strstr(pids, "1000") < strstr(pids, "1100"));
    /* The direct server's off-loop writes show in its column: 0 for async, 3 for direct. */
    const char *findings = strstr(text, "  findings");
    assert_non_null(findings);
    assert_true(findings < strstr(text, "== xtio-server (pid 1000)"));
    unsigned async_findings, direct_findings;
    assert_int_equal(sscanf(findings, "  findings %u %u", &async_findings, &direct_findings), 2);
    assert_int_equal(async_findings, 0);
    assert_int_equal(direct_findings, 3);
    free(text);
    xtio_analysis_destroy(a);
}

static void refused_input_is_reported_with_its_reason(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    struct xtio_event event = event_at(XTIO_EVENT_CONN_FLUSH, 1000, PID, LOOP);
    event.has_vtid = false;
    assert_int_equal(xtio_analysis_feed_event(a, &event), -EPROTO);
    assert_int_equal(xtio_analysis_finish(a), -EPROTO);

    json_t *root = json_report(a);
    json_t *summary = json_object_get(root, "summary");
    assert_int_equal(json_integer_value(json_object_get(summary, "exit_code")), 2);
    assert_string_equal(json_string_value(json_object_get(summary, "error")),
                        xtio_analysis_error(a));
    json_decref(root);
    char *text = report(a, XTIO_REPORT_TEXT);
    assert_non_null(strstr(text, "input refused: the trace lacks the vtid context"));
    assert_non_null(strstr(text, "exit code 2"));
    free(text);
    xtio_analysis_destroy(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_report_has_the_documented_keys),
        cmocka_unit_test(json_report_values_match_the_analysis),
        cmocka_unit_test(json_finding_samples_carry_the_evidence),
        cmocka_unit_test(json_many_findings_keep_a_count_and_the_first_samples),
        cmocka_unit_test(json_dropped_data_is_a_finding_with_strict),
        cmocka_unit_test(json_tables_are_there_only_on_request),
        cmocka_unit_test(text_report_opens_with_the_side_by_side_mode_table),
        cmocka_unit_test(text_report_shows_evidence_coverage_and_summary),
        cmocka_unit_test(json_names_the_mode_each_process_ran_in),
        cmocka_unit_test(text_report_of_several_processes_opens_with_them_side_by_side),
        cmocka_unit_test(refused_input_is_reported_with_its_reason),
        cmocka_unit_test(threads_keep_the_name_of_their_first_event),
        cmocka_unit_test(processes_are_named_after_their_program),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
