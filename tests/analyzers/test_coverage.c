/*
 * What the trace does not cover, and the analysis core must not mistake for a fault: discarded
 * events (unknown, never lost), a trace that starts or ends mid-run (incomplete), connections
 * first seen without their conn_open, several processes in one trace, and timestamp ties.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_events.h"

#define CONN 1

static void finish(xtio_analysis *analysis)
{
    assert_int_equal(xtio_analysis_finish(analysis), 0);
}

/* An enqueue whose write or drop never shows, on a connection closed later. */
static void feed_unfinished_handoff(xtio_analysis *a)
{
    ev_conn_open(a, 100, PID, LOOP, CONN);
    ev_enqueue(a, 1000, PID, 1, CONN, 0, ASYNC, 10);
    ev_conn_close(a, 5000, PID, LOOP, CONN);
}

static void discard_after_the_enqueue_makes_it_unknown_not_lost(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    feed_unfinished_handoff(a);
    discard(a, 3, true, 2000, 3000);
    finish(a);

    assert_int_equal(findings(a, XTIO_FINDING_LOST_HANDOFF), 0);
    assert_int_equal(coverage(a, PID).unknown_in_flight, 1);
    assert_int_equal(xtio_analysis_exit_code(a), 0);
    xtio_analysis_destroy(a);
}

static void discard_without_range_makes_it_unknown_not_lost(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    feed_unfinished_handoff(a);
    discard(a, 3, false, 0, 0);
    finish(a);

    assert_int_equal(findings(a, XTIO_FINDING_LOST_HANDOFF), 0);
    assert_int_equal(coverage(a, PID).unknown_in_flight, 1);
    xtio_analysis_destroy(a);
}

static void discard_that_ended_before_the_enqueue_leaves_it_lost(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    discard(a, 3, true, 10, 500);
    feed_unfinished_handoff(a);
    finish(a);

    assert_int_equal(findings(a, XTIO_FINDING_LOST_HANDOFF), 1);
    assert_int_equal(coverage(a, PID).unknown_in_flight, 0);
    xtio_analysis_destroy(a);
}

static void discards_are_summed_over_the_trace(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_conn_open(a, 100, PID, LOOP, CONN);
    discard(a, 3, true, 200, 300);
    discard(a, 4, false, 0, 0);
    finish(a);

    struct xtio_discard_summary d;
    xtio_analysis_discard_summary(a, &d);
    assert_int_equal(d.events, 7);
    assert_int_equal(d.messages, 2);
    assert_int_equal(d.unranged, 1);
    xtio_analysis_destroy(a);
}

static void write_before_which_the_trace_started_is_incomplete(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    /* No conn_open, no enqueue: both happened before the session started. */
    ev_write(a, 1000, PID, 41, CONN, 9, ASYNC, 10, 500);
    ev_drop(a, 1100, PID, 42, CONN, 10, 10);
    ev_sync_wait_end(a, 1200, PID, 40, CONN, 1);
    ev_conn_close(a, 1300, PID, LOOP, CONN);
    finish(a);

    struct xtio_coverage_summary cov = coverage(a, PID);
    assert_int_equal(cov.incomplete_writes, 1);
    assert_int_equal(cov.incomplete_drops, 1);
    assert_int_equal(cov.incomplete_sync_waits, 1);
    assert_int_equal(cov.unknown_writes, 0);
    assert_int_equal(xtio_analysis_findings_total(a), 0);
    assert_int_equal(xtio_analysis_exit_code(a), 0);
    xtio_analysis_destroy(a);
}

static void write_without_enqueue_after_a_discard_is_unknown(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_conn_open(a, 100, PID, LOOP, CONN);
    discard(a, 5, true, 500, 900);
    ev_write(a, 1000, PID, 1, CONN, 0, ASYNC, 10, 0);
    finish(a);

    struct xtio_coverage_summary cov = coverage(a, PID);
    assert_int_equal(cov.unknown_writes, 1);
    assert_int_equal(cov.incomplete_writes, 0);
    xtio_analysis_destroy(a);
}

static void handoff_queued_at_the_end_on_an_open_connection_is_incomplete(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_conn_open(a, 100, PID, LOOP, CONN);
    ev_enqueue(a, 1000, PID, 1, CONN, 0, ASYNC, 10);
    ev_enqueue(a, 1100, PID, 2, CONN, 1, ASYNC, 10);
    ev_write(a, 1200, PID, 1, CONN, 0, ASYNC, 10, 0);
    finish(a);

    struct xtio_coverage_summary cov = coverage(a, PID);
    assert_int_equal(cov.incomplete_in_flight, 1); /* handoff 2: never written */
    assert_int_equal(cov.incomplete_unflushed, 1); /* handoff 1: never flushed */
    assert_int_equal(findings(a, XTIO_FINDING_LOST_HANDOFF), 0);
    assert_int_equal(xtio_analysis_exit_code(a), 0);
    xtio_analysis_destroy(a);
}

static void inline_write_needs_no_enqueue(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_conn_open(a, 100, PID, LOOP, CONN);
    ev_write(a, 1000, PID, 1, CONN, 0, INLINE, 10, 0);
    ev_flush(a, 1100, PID, CONN, 10);
    finish(a);

    struct xtio_coverage_summary cov = coverage(a, PID);
    assert_int_equal(cov.incomplete_writes, 0);
    assert_int_equal(cov.unknown_writes, 0);
    xtio_analysis_destroy(a);
}

/* Opened before the trace began, written after it ended: known by its enqueues alone, it is one
 * connection without conn_open, however many of them there are; a connection the trace saw open
 * is not. */
static void connection_seen_only_through_its_enqueues_has_no_conn_open(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_conn_open(a, 100, PID, LOOP, CONN + 1);
    ev_enqueue(a, 1000, PID, 1, CONN, 0, ASYNC, 10);
    ev_enqueue(a, 1100, PID, 2, CONN, 1, ASYNC, 10);
    ev_enqueue(a, 1200, PID, 3, CONN + 1, 0, ASYNC, 10);
    finish(a);

    struct xtio_coverage_summary cov = coverage(a, PID);
    assert_int_equal(cov.conns_without_open, 1);
    assert_int_equal(cov.incomplete_in_flight, 3);
    assert_int_equal(xtio_analysis_findings_total(a), 0);
    xtio_analysis_destroy(a);
}

static void connection_without_conn_open_uses_the_event_owner(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_enqueue(a, 1000, PID, 1, CONN, 0, ASYNC, 10);
    ev_write(a, 1100, PID, 1, CONN, 0, ASYNC, 10, 4096);
    ev_flush(a, 1200, PID, CONN, 4106);
    finish(a);

    assert_int_equal(coverage(a, PID).conns_without_open, 1);
    assert_int_equal(mode_summary(a, PID, ASYNC).end_to_end.count, 1);
    assert_int_equal(xtio_analysis_findings_total(a), 0);
    xtio_analysis_destroy(a);
}

static void processes_are_kept_apart(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    const int64_t other = PID + 500;
    ev_loop_start(a, 10, PID, LOOP, 1, "xtio-loop-1");
    ev_loop_start(a, 10, other, LOOP, 1, "xtio-loop-1");
    assert_int_equal(xtio_analysis_name_process(a, PID, "server-a"), 0);
    assert_int_equal(xtio_analysis_name_process(a, other, "server-b"), 0);
    /* The same ids in both: a's handoff 1 is written, b's is lost. */
    ev_conn_open(a, 100, PID, LOOP, CONN);
    ev_conn_open(a, 100, other, LOOP, CONN);
    ev_enqueue(a, 1000, PID, 1, CONN, 0, ASYNC, 10);
    ev_enqueue(a, 1000, other, 1, CONN, 0, ASYNC, 20);
    ev_write(a, 2000, PID, 1, CONN, 0, ASYNC, 10, 0);
    ev_conn_close(a, 3000, other, LOOP, CONN);
    finish(a);

    assert_int_equal(xtio_analysis_process_count(a), 2);
    assert_int_equal(xtio_analysis_finding_count(a, PID, XTIO_FINDING_LOST_HANDOFF), 0);
    assert_int_equal(xtio_analysis_finding_count(a, other, XTIO_FINDING_LOST_HANDOFF), 1);
    assert_int_equal(mode_summary(a, PID, ASYNC).handoffs, 1);
    assert_int_equal(mode_summary(a, other, ASYNC).handoffs, 0);
    struct xtio_process_summary p;
    assert_int_equal(xtio_analysis_process_summary(a, PID, &p), 0);
    assert_string_equal(p.name, "server-a");
    assert_int_equal(xtio_analysis_process_summary(a, other, &p), 0);
    assert_string_equal(p.name, "server-b");
    int64_t vpid;
    assert_int_equal(xtio_analysis_process_vpid(a, 1, &vpid), 0);
    assert_int_equal(vpid, other);
    xtio_analysis_destroy(a);
}

/* Without its program's name, a process takes its main thread's, never another thread's. */
static void process_is_named_after_its_main_thread_only(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    struct xtio_event event = event_at(XTIO_EVENT_BACKPRESSURE, 5, PID, WORKER);
    event.procname = "worker";
    feed(a, &event);
    ev_loop_start(a, 10, PID, LOOP, 1, "xtio-loop-1");
    struct xtio_process_summary p;
    assert_int_equal(xtio_analysis_finish(a), 0);
    assert_int_equal(xtio_analysis_process_summary(a, PID, &p), 0);
    assert_string_equal(p.name, "");
    xtio_analysis_destroy(a);

    a = new_analysis(false, false, false);
    ev_loop_start(a, 10, PID, LOOP, 1, "xtio-loop-1");
    event = event_at(XTIO_EVENT_BACKPRESSURE, 20, PID, PID);
    event.procname = "xtio-server";
    feed(a, &event);
    assert_int_equal(xtio_analysis_finish(a), 0);
    assert_int_equal(xtio_analysis_process_summary(a, PID, &p), 0);
    assert_string_equal(p.name, "xtio-server");
    xtio_analysis_destroy(a);
}

static void ties_in_any_order_make_no_false_findings(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(true, false, false);
    ev_conn_open(a, 100, PID, LOOP, CONN);
    ev_enqueue(a, 1000, PID, 1, CONN, 0, ASYNC, 10);
    /* At 2000, as a muxer may deliver ties from several streams: the close first, then the
     * direct write (a producer), the inline write and the drop, whose offsets and seqs give
     * their true order. */
    ev_conn_close(a, 2000, PID, LOOP, CONN);
    ev_write_full(a, 2000, PID, LOOP, LOOP, 3, CONN, 2, INLINE, 10, 10);
    ev_drop(a, 2000, PID, 4, CONN, 3, 10);
    ev_enqueue(a, 2000, PID, 4, CONN, 3, ASYNC, 10);
    ev_write(a, 2000, PID, 1, CONN, 0, ASYNC, 10, 0);
    finish(a);

    assert_int_equal(findings(a, XTIO_FINDING_WRITE_AFTER_CLOSE), 0);
    assert_int_equal(findings(a, XTIO_FINDING_ORDERING_BREAK), 0);
    assert_int_equal(findings(a, XTIO_FINDING_LOST_HANDOFF), 0);
    struct xtio_coverage_summary cov = coverage(a, PID);
    assert_int_equal(cov.incomplete_drops, 0);
    assert_int_equal(cov.incomplete_writes, 0);
    /* The drop is still counted, and with strict it is the only finding. */
    assert_int_equal(xtio_analysis_findings_total(a), 1);
    xtio_analysis_destroy(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(discard_after_the_enqueue_makes_it_unknown_not_lost),
        cmocka_unit_test(discard_without_range_makes_it_unknown_not_lost),
        cmocka_unit_test(discard_that_ended_before_the_enqueue_leaves_it_lost),
        cmocka_unit_test(discards_are_summed_over_the_trace),
        cmocka_unit_test(write_before_which_the_trace_started_is_incomplete),
        cmocka_unit_test(write_without_enqueue_after_a_discard_is_unknown),
        cmocka_unit_test(handoff_queued_at_the_end_on_an_open_connection_is_incomplete),
        cmocka_unit_test(inline_write_needs_no_enqueue),
        cmocka_unit_test(connection_without_conn_open_uses_the_event_owner),
        cmocka_unit_test(connection_seen_only_through_its_enqueues_has_no_conn_open),
        cmocka_unit_test(processes_are_kept_apart),
        cmocka_unit_test(process_is_named_after_its_main_thread_only),
        cmocka_unit_test(ties_in_any_order_make_no_false_findings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
