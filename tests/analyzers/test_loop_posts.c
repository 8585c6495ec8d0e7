/*
 * Work posted to loops (schema version 4: loop_post, loop_run): posts matched with the run that
 * serves them by (vpid, loop_id, task), coalesced posts, runs without a post, posts pending at the
 * end, the wait per mechanism, and the report sections they make.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_events.h"

#define PID2   2000
#define LOOP_A 0x80000001u
#define LOOP_B 0x80000002u
#define TASK   0x5555000010ull

#define ACTIVE  XTIO_SCHEMA_MECH_EVENT_ACTIVE
#define EVENTFD XTIO_SCHEMA_MECH_EVENTFD

static struct xtio_post_summary posts(const xtio_analysis *a, int64_t vpid, int mech)
{
    struct xtio_post_summary summary;
    assert_int_equal(xtio_analysis_post_summary(a, vpid, mech, &summary), 0);
    return summary;
}

static void posts_before_a_run_coalesce_into_it(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_loop_post(a, 1000, PID, WORKER, LOOP_A, TASK, ACTIVE);
    ev_loop_post(a, 1100, PID, WORKER, LOOP_A, TASK, ACTIVE);
    ev_loop_post(a, 1300, PID, WORKER2, LOOP_A, TASK, ACTIVE);
    ev_loop_run(a, 2000, PID, LOOP, LOOP_A, TASK, ACTIVE);
    /* The next post waits for the next run. */
    ev_loop_post(a, 3000, PID, WORKER, LOOP_A, TASK, ACTIVE);
    ev_loop_run(a, 3050, PID, LOOP, LOOP_A, TASK, ACTIVE);
    assert_int_equal(xtio_analysis_finish(a), 0);

    struct xtio_post_summary s = posts(a, PID, ACTIVE);
    assert_int_equal(s.posts, 4);
    assert_int_equal(s.runs, 2);
    assert_int_equal(s.coalesced, 2);
    assert_int_equal(s.runs_without_post, 0);
    assert_int_equal(s.pending, 0);
    /* Waits 1000, 900, 700 and 50 ns. */
    assert_int_equal(s.wait.count, 4);
    assert_us(s.wait.max_us, 1.0);
    assert_near_us(s.wait.p50_us, 0.7);
    assert_near_us(s.wait.p90_us, 1.0);
    assert_int_equal(xtio_analysis_inflight_count(a), 0);
    assert_int_equal(xtio_analysis_exit_code(a), 0);
    xtio_analysis_destroy(a);
}

static void a_run_without_a_post_is_counted_not_refused(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_loop_run(a, 1000, PID, LOOP, LOOP_A, TASK, EVENTFD);
    ev_loop_post(a, 2000, PID, WORKER, LOOP_A, TASK, EVENTFD);
    ev_loop_run(a, 2500, PID, LOOP, LOOP_A, TASK, EVENTFD);
    ev_loop_run(a, 3000, PID, LOOP, LOOP_A, TASK, EVENTFD); /* nothing pending any more */
    assert_int_equal(xtio_analysis_finish(a), 0);

    struct xtio_post_summary s = posts(a, PID, EVENTFD);
    assert_int_equal(s.posts, 1);
    assert_int_equal(s.runs, 3);
    assert_int_equal(s.runs_without_post, 2);
    assert_int_equal(s.coalesced, 0);
    assert_int_equal(s.wait.count, 1);
    assert_us(s.wait.max_us, 0.5);
    assert_int_equal(xtio_analysis_exit_code(a), 0);
    xtio_analysis_destroy(a);
}

static void posts_not_run_by_the_end_are_pending(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_loop_post(a, 1000, PID, WORKER, LOOP_A, TASK, ACTIVE);
    ev_loop_post(a, 1100, PID, WORKER, LOOP_A, TASK, ACTIVE);
    ev_loop_post(a, 1200, PID, WORKER, LOOP_A, TASK + 1, EVENTFD);
    assert_int_equal(xtio_analysis_inflight_count(a), 3);
    assert_int_equal(xtio_analysis_finish(a), 0);

    assert_int_equal(posts(a, PID, ACTIVE).pending, 2);
    assert_int_equal(posts(a, PID, EVENTFD).pending, 1);
    assert_int_equal(posts(a, PID, ACTIVE).wait.count, 0);
    assert_int_equal(xtio_analysis_exit_code(a), 0);
    xtio_analysis_destroy(a);
}

static void the_same_task_on_two_loops_and_in_two_processes_is_kept_apart(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_loop_post(a, 1000, PID, WORKER, LOOP_A, TASK, ACTIVE);
    ev_loop_post(a, 1100, PID, WORKER, LOOP_B, TASK, ACTIVE);
    ev_loop_post(a, 1200, PID2, WORKER, LOOP_A, TASK, ACTIVE);
    /* Serves PID's post to LOOP_A only. */
    ev_loop_run(a, 1500, PID, LOOP, LOOP_A, TASK, ACTIVE);
    /* PID2's post to LOOP_B was never made: this run has none. */
    ev_loop_run(a, 1600, PID2, LOOP, LOOP_B, TASK, ACTIVE);
    assert_int_equal(xtio_analysis_finish(a), 0);

    struct xtio_post_summary one = posts(a, PID, ACTIVE), two = posts(a, PID2, ACTIVE);
    assert_int_equal(one.posts, 2);
    assert_int_equal(one.runs, 1);
    assert_int_equal(one.coalesced, 0);
    assert_int_equal(one.pending, 1); /* LOOP_B's */
    assert_int_equal(one.wait.count, 1);
    assert_us(one.wait.max_us, 0.5);
    assert_int_equal(two.posts, 1);
    assert_int_equal(two.runs, 1);
    assert_int_equal(two.runs_without_post, 1);
    assert_int_equal(two.pending, 1);
    assert_int_equal(two.wait.count, 0);
    xtio_analysis_destroy(a);
}

static void waits_are_kept_per_mechanism(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_loop_post(a, 1000, PID, WORKER, LOOP_A, TASK, ACTIVE);
    ev_loop_post(a, 1000, PID, WORKER, LOOP_A, TASK + 1, EVENTFD);
    /* A tie: the posts are taken before the run, which serves its own (a wait of 0). */
    ev_loop_run(a, 1000, PID, LOOP, LOOP_A, TASK, ACTIVE);
    ev_loop_post(a, 1001, PID, WORKER, LOOP_A, TASK, ACTIVE);
    ev_loop_run(a, 4000, PID, LOOP, LOOP_A, TASK + 1, EVENTFD);
    ev_loop_run(a, 5001, PID, LOOP, LOOP_A, TASK, ACTIVE);
    /* A run of another mechanism than its post's: the wait is the post's, the run the run's. */
    ev_loop_post(a, 6000, PID, WORKER, LOOP_A, TASK + 2, XTIO_SCHEMA_MECH_PIPE);
    ev_loop_run(a, 8000, PID, LOOP, LOOP_A, TASK + 2, XTIO_SCHEMA_MECH_EVENT_BASE_ONCE);
    assert_int_equal(xtio_analysis_finish(a), 0);

    struct xtio_post_summary active = posts(a, PID, ACTIVE), eventfd = posts(a, PID, EVENTFD);
    assert_int_equal(active.posts, 2);
    assert_int_equal(active.runs, 2);
    assert_int_equal(active.runs_without_post, 0);
    assert_int_equal(active.coalesced, 0);
    assert_int_equal(active.wait.count, 2);
    assert_us(active.wait.max_us, 4.0);
    assert_int_equal(eventfd.posts, 1);
    assert_int_equal(eventfd.wait.count, 1);
    assert_us(eventfd.wait.max_us, 3.0);
    struct xtio_post_summary pipe = posts(a, PID, XTIO_SCHEMA_MECH_PIPE);
    struct xtio_post_summary once = posts(a, PID, XTIO_SCHEMA_MECH_EVENT_BASE_ONCE);
    assert_int_equal(pipe.posts, 1);
    assert_int_equal(pipe.runs, 0);
    assert_int_equal(pipe.wait.count, 1);
    assert_us(pipe.wait.max_us, 2.0);
    assert_int_equal(once.posts, 0);
    assert_int_equal(once.runs, 1);
    assert_int_equal(once.runs_without_post, 0);
    assert_int_equal(once.wait.count, 0);
    xtio_analysis_destroy(a);
}

static void memory_follows_the_posts_in_flight(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    size_t most = 0;
    for (uint64_t i = 0; i < 200000; i++) {
        uint64_t ts = 1000 + 10 * i;
        ev_loop_post(a, ts, PID, WORKER, LOOP_A, TASK + i % 7, ACTIVE);
        if (i % 3 == 2)
            ev_loop_run(a, ts + 5, PID, LOOP, LOOP_A, TASK + (i - 2) % 7, ACTIVE);
        size_t now = xtio_analysis_inflight_count(a);
        most = now > most ? now : most;
    }
    assert_true(most < 64);
    assert_int_equal(xtio_analysis_finish(a), 0);
    struct xtio_post_summary s = posts(a, PID, ACTIVE);
    assert_int_equal(s.posts, 200000);
    assert_int_equal(s.posts, s.wait.count + s.pending);
    xtio_analysis_destroy(a);
}

static void a_mechanism_outside_the_schema_is_refused(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    struct xtio_event event = event_at(XTIO_EVENT_LOOP_POST, 1000, PID, WORKER);
    event.mech = XTIO_SCHEMA_MECH_COUNT;
    assert_int_equal(xtio_analysis_feed_event(a, &event), -EPROTO);
    assert_non_null(strstr(xtio_analysis_error(a), "mech"));
    assert_int_equal(xtio_analysis_exit_code(a), 2);
    xtio_analysis_destroy(a);
}

static void reports_give_the_posts_by_mechanism(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_loop_post(a, 1000, PID, WORKER, LOOP_A, TASK, EVENTFD);
    ev_loop_post(a, 1500, PID, WORKER, LOOP_A, TASK, EVENTFD);
    ev_loop_run(a, 3000, PID, LOOP, LOOP_A, TASK, EVENTFD);
    assert_int_equal(xtio_analysis_finish(a), 0);

    char *text = report(a, XTIO_REPORT_TEXT);
    assert_non_null(strstr(text, "work posted to loops"));
    assert_non_null(strstr(text, "eventfd"));
    assert_null(strstr(text, "event_active")); /* unused mechanisms get no column */
    assert_non_null(strstr(text, "  coalesced posts                            1\n"));
    assert_null(strstr(text, "writes to connections")); /* no io_write */
    free(text);

    char *json = report(a, XTIO_REPORT_JSON);
    const char *eventfd = strstr(json, "\"eventfd\": {");
    assert_non_null(eventfd);
    assert_non_null(strstr(eventfd, "\"posts\": 2,\n          \"runs\": 1,\n          "
                                    "\"coalesced\": 1,"));
    assert_non_null(strstr(eventfd, "\"wait_us\": {\n            \"count\": 2,"));
    assert_null(strstr(json, "\"io_writes\""));
    free(json);
    xtio_analysis_destroy(a);
}

static void reports_without_loop_events_have_no_such_sections(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_conn_open(a, 100, PID, LOOP, 1);
    ev_write(a, 1000, PID, 1, 1, 0, INLINE, 10, 0);
    assert_int_equal(xtio_analysis_finish(a), 0);
    char *text = report(a, XTIO_REPORT_TEXT);
    assert_null(strstr(text, "work posted to loops"));
    assert_null(strstr(text, "writes to connections"));
    free(text);
    char *json = report(a, XTIO_REPORT_JSON);
    assert_null(strstr(json, "\"loop_posts\""));
    assert_null(strstr(json, "\"io_writes\""));
    free(json);
    xtio_analysis_destroy(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(posts_before_a_run_coalesce_into_it),
        cmocka_unit_test(a_run_without_a_post_is_counted_not_refused),
        cmocka_unit_test(posts_not_run_by_the_end_are_pending),
        cmocka_unit_test(the_same_task_on_two_loops_and_in_two_processes_is_kept_apart),
        cmocka_unit_test(waits_are_kept_per_mechanism),
        cmocka_unit_test(memory_follows_the_posts_in_flight),
        cmocka_unit_test(a_mechanism_outside_the_schema_is_refused),
        cmocka_unit_test(reports_give_the_posts_by_mechanism),
        cmocka_unit_test(reports_without_loop_events_have_no_such_sections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
