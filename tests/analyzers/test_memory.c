/*
 * Memory of the analysis core follows what is in flight, not the length of the trace: a million
 * handoffs (enqueue, write, flush) over a few connections leave only a handful of entries alive
 * at any time, and the totals still add up; a clock that never ticks does not make it hold every
 * event back as one tie.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_events.h"

#define HANDOFFS    1000000u
#define CONNS       8u
#define FLUSH_EVERY 4u /* handoffs per flush on each connection */
#define BYTES       100u

static void million_handoffs_keep_in_flight_state_small(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    uint64_t offset[CONNS + 1] = {0}, seq[CONNS + 1] = {0};
    size_t most = 0;
    uint64_t ts = 1000;
    for (uint64_t conn = 1; conn <= CONNS; conn++)
        ev_conn_open(a, ts++, PID, LOOP, conn);

    for (uint64_t id = 1; id <= HANDOFFS; id++) {
        uint64_t conn = id % CONNS + 1;
        ev_enqueue(a, ts, PID, id, conn, seq[conn], ASYNC, BYTES);
        ts += 3;
        ev_write(a, ts, PID, id, conn, seq[conn]++, ASYNC, BYTES, offset[conn]);
        ts += 3;
        offset[conn] += BYTES;
        if (seq[conn] % FLUSH_EVERY == 0) {
            ev_flush(a, ts, PID, conn, offset[conn]);
            ts += 3;
        }
        size_t live = xtio_analysis_inflight_count(a);
        if (live > most)
            most = live;
    }
    assert_int_equal(xtio_analysis_finish(a), 0);

    /* At most FLUSH_EVERY unflushed writes per connection, plus one event held for its tie. */
    assert_true(most <= CONNS * FLUSH_EVERY + 1);
    assert_int_equal(xtio_analysis_inflight_count(a), 0);
    struct xtio_mode_summary async = mode_summary(a, PID, ASYNC);
    assert_int_equal(async.handoffs, HANDOFFS);
    assert_int_equal(async.bytes, (uint64_t)HANDOFFS * BYTES);
    assert_int_equal(async.end_to_end.count, HANDOFFS);
    assert_int_equal(xtio_analysis_exit_code(a), 0);
    xtio_analysis_destroy(a);
}

static void events_of_one_timestamp_are_not_held_without_bound(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    size_t most = 0;
    ev_conn_open(a, 5, PID, LOOP, 1);
    /* A clock that never ticks: every event is a tie with every other. */
    for (uint64_t i = 0; i < 100000; i++) {
        ev_write(a, 5, PID, i + 1, 1, i, INLINE, 1, i);
        ev_flush(a, 5, PID, 1, i + 1);
        size_t live = xtio_analysis_inflight_count(a);
        if (live > most)
            most = live;
    }
    assert_int_equal(xtio_analysis_finish(a), 0);
    assert_true(most <= 10000);
    assert_int_equal(mode_summary(a, PID, INLINE).handoffs, 100000);
    assert_int_equal(xtio_analysis_findings_total(a), 0);
    xtio_analysis_destroy(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(million_handoffs_keep_in_flight_state_small),
        cmocka_unit_test(events_of_one_timestamp_are_not_held_without_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
