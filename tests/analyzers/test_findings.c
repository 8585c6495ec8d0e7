/*
 * Findings of the analysis core, each with a case that must be flagged and one that must not:
 * off-loop writes, ordering breaks, writes after close, lost handoffs, and dropped data (a
 * finding only with strict); and the exit code they lead to.
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

/* ---- Off-loop writes ----------------------------------------------------------------------- */

static void write_on_a_producer_thread_is_off_loop(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_conn_open(a, 100, PID, LOOP, CONN);
    ev_enqueue(a, 1000, PID, 1, CONN, 0, DIRECT, 10);
    ev_write_full(a, 1100, PID, WORKER, LOOP, 1, CONN, 0, DIRECT, 10, 0);
    ev_flush(a, 2000, PID, CONN, 10);
    finish(a);

    assert_int_equal(findings(a, XTIO_FINDING_OFF_LOOP_WRITE), 1);
    assert_int_equal(xtio_analysis_findings_total(a), 1);
    assert_int_equal(xtio_analysis_exit_code(a), 1);
    xtio_analysis_destroy(a);
}

static void writes_on_the_loop_thread_are_not_off_loop(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_conn_open(a, 100, PID, LOOP, CONN);
    ev_write(a, 1000, PID, 1, CONN, 0, INLINE, 10, 0);
    ev_enqueue(a, 1100, PID, 2, CONN, 1, ASYNC, 10);
    ev_write(a, 1200, PID, 2, CONN, 1, ASYNC, 10, 10);
    ev_flush(a, 2000, PID, CONN, 20);
    finish(a);

    assert_int_equal(findings(a, XTIO_FINDING_OFF_LOOP_WRITE), 0);
    assert_int_equal(xtio_analysis_exit_code(a), 0);
    xtio_analysis_destroy(a);
}

static void write_is_checked_against_conn_open_owner_too(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_conn_open(a, 100, PID, LOOP, CONN);
    /* The event claims its own thread owns the connection; conn_open said otherwise. */
    ev_write_full(a, 1000, PID, WORKER, WORKER, 1, CONN, 0, INLINE, 10, 0);
    finish(a);

    assert_int_equal(findings(a, XTIO_FINDING_OFF_LOOP_WRITE), 1);
    xtio_analysis_destroy(a);
}

/* ---- Ordering breaks ----------------------------------------------------------------------- */

static void write_with_lower_seq_is_an_ordering_break(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_conn_open(a, 100, PID, LOOP, CONN);
    ev_write(a, 1000, PID, 1, CONN, 0, INLINE, 10, 0);
    ev_write(a, 1100, PID, 3, CONN, 2, INLINE, 10, 10);
    ev_write(a, 1200, PID, 2, CONN, 1, INLINE, 10, 20); /* 1 after 2 */
    ev_write(a, 1300, PID, 4, CONN, 3, INLINE, 10, 30); /* fine after 1 */
    finish(a);

    assert_int_equal(findings(a, XTIO_FINDING_ORDERING_BREAK), 1);
    assert_int_equal(xtio_analysis_exit_code(a), 1);
    xtio_analysis_destroy(a);
}

static void write_repeating_a_seq_is_an_ordering_break(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_conn_open(a, 100, PID, LOOP, CONN);
    ev_write(a, 1000, PID, 1, CONN, 5, INLINE, 10, 0);
    ev_write(a, 1100, PID, 2, CONN, 5, INLINE, 10, 10);
    finish(a);

    assert_int_equal(findings(a, XTIO_FINDING_ORDERING_BREAK), 1);
    xtio_analysis_destroy(a);
}

static void seq_order_is_per_connection(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_conn_open(a, 100, PID, LOOP, 1);
    ev_conn_open(a, 100, PID, LOOP, 2);
    ev_write(a, 1000, PID, 1, 1, 7, INLINE, 10, 0);
    ev_write(a, 1100, PID, 2, 2, 0, INLINE, 10, 0); /* another connection's seq starts at 0 */
    ev_write(a, 1200, PID, 3, 1, 8, INLINE, 10, 10);
    ev_write(a, 1300, PID, 4, 2, 1, INLINE, 10, 10);
    finish(a);

    assert_int_equal(findings(a, XTIO_FINDING_ORDERING_BREAK), 0);
    xtio_analysis_destroy(a);
}

/* ---- Writes after close -------------------------------------------------------------------- */

static void write_and_enqueue_after_close_are_flagged(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_conn_open(a, 100, PID, LOOP, CONN);
    ev_write(a, 1000, PID, 1, CONN, 0, INLINE, 10, 0);
    ev_conn_close(a, 2000, PID, LOOP, CONN);
    ev_write(a, 3000, PID, 2, CONN, 1, INLINE, 10, 10);
    ev_enqueue(a, 3100, PID, 3, CONN, 2, ASYNC, 10);
    finish(a);

    assert_int_equal(findings(a, XTIO_FINDING_WRITE_AFTER_CLOSE), 2);
    /* The enqueue on the closed connection is that finding, not a lost handoff as well. */
    assert_int_equal(findings(a, XTIO_FINDING_LOST_HANDOFF), 0);
    assert_int_equal(xtio_analysis_exit_code(a), 1);
    xtio_analysis_destroy(a);
}

static void producer_events_after_close_are_not_writes(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_conn_open(a, 100, PID, LOOP, CONN);
    ev_enqueue(a, 1000, PID, 1, CONN, 0, SYNC, 10);
    ev_drop(a, 2000, PID, 1, CONN, 0, 10);
    ev_conn_close(a, 2000, PID, LOOP, CONN);
    /* docs/tracepoints.md: only these may follow a close. */
    ev_sync_wait_end(a, 3000, PID, 1, CONN, 0);
    ev_backpressure(a, 3100, PID, CONN, 300000, 500);
    finish(a);

    assert_int_equal(findings(a, XTIO_FINDING_WRITE_AFTER_CLOSE), 0);
    assert_int_equal(xtio_analysis_exit_code(a), 0);
    xtio_analysis_destroy(a);
}

static void close_is_per_process(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_conn_open(a, 100, PID, LOOP, CONN);
    ev_conn_open(a, 100, PID + 1, LOOP, CONN);
    ev_conn_close(a, 1000, PID, LOOP, CONN);
    ev_write(a, 2000, PID + 1, 1, CONN, 0, INLINE, 10, 0); /* same conn_id, other process */
    finish(a);

    assert_int_equal(xtio_analysis_finding_count(a, PID + 1, XTIO_FINDING_WRITE_AFTER_CLOSE), 0);
    assert_int_equal(xtio_analysis_exit_code(a), 0);
    xtio_analysis_destroy(a);
}

/* ---- Lost handoffs ------------------------------------------------------------------------- */

static void enqueued_then_closed_without_write_or_drop_is_lost(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_conn_open(a, 100, PID, LOOP, CONN);
    ev_enqueue(a, 1000, PID, 1, CONN, 0, ASYNC, 10);
    ev_conn_close(a, 2000, PID, LOOP, CONN);
    finish(a);

    assert_int_equal(findings(a, XTIO_FINDING_LOST_HANDOFF), 1);
    assert_int_equal(coverage(a, PID).incomplete_in_flight, 0);
    assert_int_equal(xtio_analysis_exit_code(a), 1);
    xtio_analysis_destroy(a);
}

/* The lost handoff stays in flight while a hundred thousand later ones pass by (the core keeps
 * handoffs in a ring by id, whose slot the lost one holds every ring length). */
static void lost_among_many_later_handoffs_is_still_found(void **state)
{
    (void)state;
    const uint64_t later = 100000, busy = CONN + 1;
    xtio_analysis *a = new_analysis(false, false, false);
    uint64_t ts = 100;
    ev_conn_open(a, ts++, PID, LOOP, CONN);
    ev_conn_open(a, ts++, PID, LOOP, busy);
    ev_enqueue(a, ts++, PID, 1, CONN, 0, ASYNC, 10);
    for (uint64_t id = 2; id <= later + 1; id++) {
        ev_enqueue(a, ts++, PID, id, busy, id - 2, ASYNC, 10);
        ev_write(a, ts++, PID, id, busy, id - 2, ASYNC, 10, (id - 2) * 10);
    }
    ev_conn_close(a, ts++, PID, LOOP, CONN);
    finish(a);

    assert_int_equal(findings(a, XTIO_FINDING_LOST_HANDOFF), 1);
    assert_int_equal(mode_summary(a, PID, ASYNC).queue_wait.count, later);
    assert_int_equal(findings(a, XTIO_FINDING_ORDERING_BREAK), 0);
    xtio_analysis_destroy(a);
}

static void dropped_handoff_is_not_lost(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_conn_open(a, 100, PID, LOOP, CONN);
    ev_enqueue(a, 1000, PID, 1, CONN, 0, ASYNC, 10);
    ev_drop(a, 2000, PID, 1, CONN, 0, 10);
    ev_conn_close(a, 2000, PID, LOOP, CONN);
    finish(a);

    assert_int_equal(findings(a, XTIO_FINDING_LOST_HANDOFF), 0);
    assert_int_equal(xtio_analysis_inflight_count(a), 0);
    xtio_analysis_destroy(a);
}

static void written_handoff_is_not_lost(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_conn_open(a, 100, PID, LOOP, CONN);
    ev_enqueue(a, 1000, PID, 1, CONN, 0, ASYNC, 10);
    ev_write(a, 1500, PID, 1, CONN, 0, ASYNC, 10, 0);
    ev_conn_close(a, 2000, PID, LOOP, CONN);
    finish(a);

    assert_int_equal(findings(a, XTIO_FINDING_LOST_HANDOFF), 0);
    xtio_analysis_destroy(a);
}

/* ---- Dropped data -------------------------------------------------------------------------- */

static void drops_are_counted_but_not_a_finding_without_strict(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_conn_open(a, 100, PID, LOOP, CONN);
    ev_enqueue(a, 1000, PID, 1, CONN, 0, ASYNC, 10);
    ev_enqueue(a, 1100, PID, 2, CONN, 1, BATCH, 30);
    ev_drop(a, 2000, PID, 1, CONN, 0, 10);
    ev_drop(a, 2000, PID, 2, CONN, 1, 30);
    ev_conn_close(a, 2000, PID, LOOP, CONN);
    finish(a);

    struct xtio_process_summary p;
    assert_int_equal(xtio_analysis_process_summary(a, PID, &p), 0);
    assert_int_equal(p.drops, 2);
    assert_int_equal(p.drop_bytes, 40);
    assert_int_equal(mode_summary(a, PID, ASYNC).drops, 1);
    assert_int_equal(mode_summary(a, PID, BATCH).drop_bytes, 30);
    assert_int_equal(xtio_analysis_findings_total(a), 0);
    assert_int_equal(xtio_analysis_exit_code(a), 0);
    xtio_analysis_destroy(a);
}

static void drops_are_a_finding_with_strict(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(true, false, false);
    ev_conn_open(a, 100, PID, LOOP, CONN);
    ev_enqueue(a, 1000, PID, 1, CONN, 0, ASYNC, 10);
    ev_drop(a, 2000, PID, 1, CONN, 0, 10);
    ev_conn_close(a, 2000, PID, LOOP, CONN);
    finish(a);

    assert_int_equal(findings(a, XTIO_FINDING_DROPPED_DATA), 1);
    assert_int_equal(xtio_analysis_findings_total(a), 1);
    assert_int_equal(xtio_analysis_exit_code(a), 1);
    xtio_analysis_destroy(a);
}

/* ---- A clean run --------------------------------------------------------------------------- */

static void clean_run_in_every_mode_has_no_findings(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(true, false, false);
    ev_loop_start(a, 50, PID, LOOP, 1, "xtio-loop-1");
    ev_conn_open(a, 100, PID, LOOP, CONN);
    ev_write(a, 1000, PID, 1, CONN, 0, INLINE, 10, 0);
    ev_enqueue(a, 1100, PID, 2, CONN, 1, SYNC, 10);
    ev_enqueue(a, 1200, PID, 3, CONN, 2, ASYNC, 10);
    ev_enqueue_full(a, 1300, PID, WORKER2, LOOP, 4, CONN, 3, BATCH, 10, 4, 900);
    ev_write(a, 1400, PID, 2, CONN, 1, SYNC, 10, 10);
    ev_write(a, 1500, PID, 3, CONN, 2, ASYNC, 10, 20);
    ev_sync_wait_end(a, 1550, PID, 2, CONN, 1);
    ev_write(a, 1600, PID, 4, CONN, 3, BATCH, 10, 30);
    ev_flush(a, 2000, PID, CONN, 40);
    ev_conn_close(a, 3000, PID, LOOP, CONN);
    finish(a);

    assert_int_equal(xtio_analysis_findings_total(a), 0);
    assert_int_equal(xtio_analysis_exit_code(a), 0);
    assert_int_equal(xtio_analysis_inflight_count(a), 0);
    xtio_analysis_destroy(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(write_on_a_producer_thread_is_off_loop),
        cmocka_unit_test(writes_on_the_loop_thread_are_not_off_loop),
        cmocka_unit_test(write_is_checked_against_conn_open_owner_too),
        cmocka_unit_test(write_with_lower_seq_is_an_ordering_break),
        cmocka_unit_test(write_repeating_a_seq_is_an_ordering_break),
        cmocka_unit_test(seq_order_is_per_connection),
        cmocka_unit_test(write_and_enqueue_after_close_are_flagged),
        cmocka_unit_test(producer_events_after_close_are_not_writes),
        cmocka_unit_test(close_is_per_process),
        cmocka_unit_test(enqueued_then_closed_without_write_or_drop_is_lost),
        cmocka_unit_test(lost_among_many_later_handoffs_is_still_found),
        cmocka_unit_test(dropped_handoff_is_not_lost),
        cmocka_unit_test(written_handoff_is_not_lost),
        cmocka_unit_test(drops_are_counted_but_not_a_finding_without_strict),
        cmocka_unit_test(drops_are_a_finding_with_strict),
        cmocka_unit_test(clean_run_in_every_mode_has_no_findings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
