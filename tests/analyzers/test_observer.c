/*
 * analyzers.observer: what the core tells an observer (analysis.h, struct
 * xtio_analysis_observer), and the accessors the views read after finish: each written handoff
 * once its end is known, with its times and threads; each sync producer's wait; each finding as
 * it is made; a failing observer refusing the input; the histograms, thread names and time range.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "test_events.h"

#define MAX_SEEN 16

struct seen {
    struct xtio_handoff_record handoffs[MAX_SEEN];
    size_t handoff_count;
    struct xtio_sync_wait_record waits[MAX_SEEN];
    size_t wait_count;
    struct xtio_finding_record findings[MAX_SEEN];
    size_t finding_count;
    int fail_with; /* returned by on_handoff when not 0 */
};

static int on_handoff(void *data, const struct xtio_handoff_record *record)
{
    struct seen *seen = data;
    assert_true(seen->handoff_count < MAX_SEEN);
    seen->handoffs[seen->handoff_count++] = *record;
    return seen->fail_with;
}

static int on_sync_wait(void *data, const struct xtio_sync_wait_record *record)
{
    struct seen *seen = data;
    assert_true(seen->wait_count < MAX_SEEN);
    seen->waits[seen->wait_count++] = *record;
    return 0;
}

static int on_finding(void *data, const struct xtio_finding_record *record)
{
    struct seen *seen = data;
    assert_true(seen->finding_count < MAX_SEEN);
    seen->findings[seen->finding_count++] = *record;
    return 0;
}

static xtio_analysis *observed(struct seen *seen, struct xtio_analysis_observer *observer)
{
    *observer = (struct xtio_analysis_observer){seen, on_handoff, on_sync_wait, on_finding};
    struct xtio_analysis_options options = {.observer = observer};
    xtio_analysis *analysis = NULL;
    assert_int_equal(xtio_analysis_create(&analysis, &options), 0);
    ev_loop_start(analysis, 10, PID, LOOP, 1, "loop-1");
    ev_conn_open(analysis, 20, PID, LOOP, 1);
    return analysis;
}

/* A sync handoff: its wait, then the handoff itself at its flush, with every field. */
static void test_sync_handoff(void **state)
{
    (void)state;
    struct seen seen = {0};
    struct xtio_analysis_observer observer;
    xtio_analysis *analysis = observed(&seen, &observer);
    ev_enqueue(analysis, 100, PID, 7, 1, 0, SYNC, 10);
    ev_write(analysis, 300, PID, 7, 1, 0, SYNC, 10, 0);
    ev_sync_wait_end(analysis, 350, PID, 7, 1, 1);
    ev_flush(analysis, 500, PID, 1, 10);
    assert_int_equal(xtio_analysis_finish(analysis), 0);

    assert_int_equal(seen.wait_count, 1);
    assert_int_equal(seen.waits[0].vpid, PID);
    assert_int_equal(seen.waits[0].conn_id, 1);
    assert_int_equal(seen.waits[0].handoff_id, 7);
    assert_int_equal(seen.waits[0].producer_tid, WORKER);
    assert_int_equal(seen.waits[0].enqueue_ns, 100);
    assert_int_equal(seen.waits[0].end_ns, 350);

    assert_int_equal(seen.handoff_count, 1);
    const struct xtio_handoff_record *r = &seen.handoffs[0];
    assert_int_equal(r->vpid, PID);
    assert_int_equal(r->conn_id, 1);
    assert_int_equal(r->handoff_id, 7);
    assert_int_equal(r->seq, 0);
    assert_int_equal(r->mode, SYNC);
    assert_int_equal(r->bytes, 10);
    assert_int_equal(r->records, 1);
    assert_int_equal(r->producer_tid, WORKER);
    assert_int_equal(r->writer_tid, LOOP);
    assert_int_equal(r->enqueue_ns, 100);
    assert_int_equal(r->write_ns, 300);
    assert_int_equal(r->flush_ns, 500);
    assert_int_equal(r->finding, -1);
    assert_int_equal(seen.finding_count, 0);

    /* The histogram behind the summary, in ns. */
    const struct xtio_hist *e2e =
        xtio_analysis_latency_hist(analysis, PID, SYNC, XTIO_LATENCY_END_TO_END);
    assert_non_null(e2e);
    assert_int_equal(e2e->count, 1);
    assert_int_equal(xtio_hist_percentile(e2e, 500), 400);
    assert_null(xtio_analysis_latency_hist(analysis, PID + 1, SYNC, XTIO_LATENCY_END_TO_END));
    assert_null(xtio_analysis_latency_hist(analysis, PID, 5, XTIO_LATENCY_END_TO_END));
    assert_string_equal(xtio_latency_kind_name(XTIO_LATENCY_PRODUCER_BLOCKED), "producer_blocked");
    assert_null(xtio_latency_kind_name(XTIO_LATENCY_KIND_COUNT));
    assert_string_equal(xtio_analysis_thread_name(analysis, PID, LOOP), "loop-1");
    assert_string_equal(xtio_analysis_thread_name(analysis, PID, 4242), "");
    uint64_t first, last;
    assert_true(xtio_analysis_time_range(analysis, &first, &last));
    assert_int_equal(first, 10);
    assert_int_equal(last, 500);
    xtio_analysis_destroy(analysis);
}

/* A direct write on its producer: the finding as it is made, and the handoff carries it. */
static void test_off_loop_write(void **state)
{
    (void)state;
    struct seen seen = {0};
    struct xtio_analysis_observer observer;
    xtio_analysis *analysis = observed(&seen, &observer);
    ev_enqueue(analysis, 100, PID, 8, 1, 0, DIRECT, 4);
    ev_write_full(analysis, 120, PID, WORKER, LOOP, 8, 1, 0, DIRECT, 4, 0);
    ev_flush(analysis, 130, PID, 1, 4);
    assert_int_equal(xtio_analysis_finish(analysis), 0);

    assert_int_equal(seen.finding_count, 1);
    assert_int_equal(seen.findings[0].kind, XTIO_FINDING_OFF_LOOP_WRITE);
    assert_int_equal(seen.findings[0].ts_ns, 120);
    assert_int_equal(seen.findings[0].tid, WORKER);
    assert_int_equal(seen.findings[0].owner_tid, LOOP);
    assert_int_equal(seen.findings[0].handoff_id, 8);
    assert_int_equal(seen.findings[0].mode, DIRECT);
    assert_int_equal(seen.handoff_count, 1);
    assert_int_equal(seen.handoffs[0].finding, XTIO_FINDING_OFF_LOOP_WRITE);
    assert_int_equal(seen.handoffs[0].writer_tid, WORKER);
    assert_int_equal(seen.handoffs[0].flush_ns, 130);
    xtio_analysis_destroy(analysis);
}

/* Bytes that never reach the kernel: told at the close, or at the end of the trace, flush 0. */
static void test_never_flushed(void **state)
{
    (void)state;
    struct seen seen = {0};
    struct xtio_analysis_observer observer;
    xtio_analysis *analysis = observed(&seen, &observer);
    ev_conn_open(analysis, 30, PID, LOOP, 2);
    ev_enqueue(analysis, 100, PID, 1, 1, 0, ASYNC, 5);
    ev_write(analysis, 200, PID, 1, 1, 0, ASYNC, 5, 0);
    ev_enqueue(analysis, 210, PID, 2, 2, 0, ASYNC, 6);
    ev_write(analysis, 220, PID, 2, 2, 0, ASYNC, 6, 0);
    ev_conn_close(analysis, 300, PID, LOOP, 1);
    ev_flush(analysis, 310, PID, 2, 1); /* not the whole handoff */
    assert_int_equal(seen.handoff_count, 1);
    assert_int_equal(seen.handoffs[0].handoff_id, 1);
    assert_int_equal(seen.handoffs[0].flush_ns, 0);
    assert_int_equal(xtio_analysis_finish(analysis), 0);
    assert_int_equal(seen.handoff_count, 2);
    assert_int_equal(seen.handoffs[1].handoff_id, 2);
    assert_int_equal(seen.handoffs[1].write_ns, 220);
    assert_int_equal(seen.handoffs[1].flush_ns, 0);
    xtio_analysis_destroy(analysis);
}

/* An observer that cannot take a handoff (its file is full) refuses the input, saying so. */
static void test_failing_observer(void **state)
{
    (void)state;
    struct seen seen = {.fail_with = -EIO};
    struct xtio_analysis_observer observer;
    xtio_analysis *analysis = observed(&seen, &observer);
    ev_enqueue(analysis, 100, PID, 1, 1, 0, ASYNC, 5);
    ev_write(analysis, 200, PID, 1, 1, 0, ASYNC, 5, 0);
    ev_flush(analysis, 300, PID, 1, 5);
    assert_int_equal(xtio_analysis_finish(analysis), -EIO);
    assert_non_null(xtio_analysis_error(analysis));
    assert_non_null(strstr(xtio_analysis_error(analysis), "writing the output failed"));
    assert_int_equal(xtio_analysis_exit_code(analysis), 2);
    xtio_analysis_destroy(analysis);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sync_handoff),
        cmocka_unit_test(test_off_loop_write),
        cmocka_unit_test(test_never_flushed),
        cmocka_unit_test(test_failing_observer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
