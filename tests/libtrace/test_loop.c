/*
 * Loops: lifecycle, the loop thread's identity, and the post/call contracts (order, never inline,
 * waiting, refusal once stopping or before start); plus the mode names.
 */
#include "harness.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static xtio_loop *started_loop(const char *name)
{
    xtio_loop *loop = NULL;
    assert_int_equal(xtio_loop_create(&loop, name), 0);
    assert_non_null(loop);
    assert_int_equal(xtio_loop_start(loop), 0);
    return loop;
}

/* What a function saw about the thread it ran on. */
struct thread_seen {
    xtio_loop *loop;
    pid_t tid;
    bool is_current;
    char name[16];
    int runs;
};

static void see_thread(void *arg)
{
    struct thread_seen *seen = arg;
    seen->tid = gettid();
    seen->is_current = xtio_loop_is_current(seen->loop);
    pthread_getname_np(pthread_self(), seen->name, sizeof(seen->name));
    seen->runs++;
}

static void test_lifecycle(void **state)
{
    (void)state;
    xtio_loop *loop = NULL;
    assert_int_equal(xtio_loop_create(&loop, "t-life"), 0);
    assert_int_equal(xtio_loop_tid(loop), 0);
    assert_false(xtio_loop_is_current(loop));
    assert_non_null(xtio_loop_event_base(loop));

    assert_int_equal(xtio_loop_start(loop), 0);
    assert_true(xtio_loop_tid(loop) > 0);
    assert_int_not_equal(xtio_loop_tid(loop), gettid());
    assert_false(xtio_loop_is_current(loop));
    /* Once per loop: a second thread for the same event_base would be a disaster. */
    assert_true(xtio_loop_start(loop) < 0);

    xtio_loop_stop(loop);
    xtio_loop_stop(loop); /* idempotent */
    assert_int_equal(xtio_loop_join(loop), 0);
    xtio_loop_destroy(loop);
}

static void test_destroy_running_loop(void **state)
{
    (void)state;
    xtio_loop *loop = started_loop("t-destroy");
    struct thread_seen seen = {.loop = loop};
    assert_int_equal(xtio_loop_post(loop, see_thread, &seen), 0);
    /* Stops and joins by itself; the post accepted before it still runs. */
    xtio_loop_destroy(loop);
    assert_int_equal(seen.runs, 1);
}

static void test_tid_and_is_current(void **state)
{
    (void)state;
    xtio_loop *loop = started_loop("t-tid");
    struct thread_seen posted = {.loop = loop}, called = {.loop = loop};

    assert_int_equal(xtio_loop_post(loop, see_thread, &posted), 0);
    assert_int_equal(xtio_loop_call(loop, see_thread, &called), 0);
    /* The call was queued behind the post, so the post ran too. */
    assert_int_equal(posted.runs, 1);
    assert_int_equal(called.runs, 1);
    assert_int_equal(posted.tid, xtio_loop_tid(loop));
    assert_int_equal(called.tid, xtio_loop_tid(loop));
    assert_true(posted.is_current);
    assert_true(called.is_current);
    assert_string_equal(posted.name, "t-tid");
    assert_false(xtio_loop_is_current(loop));

    /* Another loop's thread is not this loop's. */
    xtio_loop *other = started_loop("t-other");
    struct thread_seen on_other = {.loop = loop};
    assert_int_equal(xtio_loop_call(other, see_thread, &on_other), 0);
    assert_false(on_other.is_current);
    assert_int_equal(on_other.tid, xtio_loop_tid(other));
    assert_int_not_equal(xtio_loop_tid(other), xtio_loop_tid(loop));
    assert_int_not_equal(xtio_loop_id(other), xtio_loop_id(loop));

    xtio_loop_destroy(other);
    xtio_loop_destroy(loop);
}

static void test_thread_names(void **state)
{
    (void)state;
    xtio_loop *unnamed = started_loop(NULL);
    struct thread_seen seen = {.loop = unnamed};
    assert_int_equal(xtio_loop_call(unnamed, see_thread, &seen), 0);
    char expected[32];
    snprintf(expected, sizeof(expected), "xtio-loop-%u", (unsigned)xtio_loop_id(unnamed));
    expected[15] = '\0';
    assert_string_equal(seen.name, expected);
    xtio_loop_destroy(unnamed);

    xtio_loop *long_name = started_loop("abcdefghijklmnopqrstuvwxyz");
    seen = (struct thread_seen){.loop = long_name};
    assert_int_equal(xtio_loop_call(long_name, see_thread, &seen), 0);
    assert_string_equal(seen.name, "abcdefghijklmno");
    xtio_loop_destroy(long_name);
}

/* ---- Order of posts ------------------------------------------------------------------------- */

#define POSTERS          4
#define POSTS_PER_POSTER 2000

struct post_log {
    /* Written on the loop thread only; read after a call, which orders it before the reader. */
    uint32_t entries[POSTERS * POSTS_PER_POSTER];
    size_t count;
    int wrong_thread;
    xtio_loop *loop;
};

struct post_item {
    struct post_log *log;
    uint32_t value; /* poster << 16 | index */
};

static void log_post(void *arg)
{
    struct post_item *item = arg;
    struct post_log *log = item->log;
    if (!xtio_loop_is_current(log->loop))
        log->wrong_thread++;
    if (log->count < POSTERS * POSTS_PER_POSTER)
        log->entries[log->count] = item->value;
    log->count++;
}

struct poster {
    xtio_loop *loop;
    struct post_item items[POSTS_PER_POSTER];
    pthread_barrier_t *start;
    int failures;
};

static void *poster_main(void *arg)
{
    struct poster *poster = arg;
    pthread_barrier_wait(poster->start);
    for (size_t i = 0; i < POSTS_PER_POSTER; i++)
        if (xtio_loop_post(poster->loop, log_post, &poster->items[i]) != 0)
            poster->failures++;
    return NULL;
}

static void test_posts_run_in_order(void **state)
{
    (void)state;
    xtio_loop *loop = started_loop("t-order");
    static struct post_log log;
    static struct poster posters[POSTERS];
    memset(&log, 0, sizeof(log));
    log.loop = loop;

    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, POSTERS);
    pthread_t threads[POSTERS];
    for (uint32_t p = 0; p < POSTERS; p++) {
        posters[p] = (struct poster){.loop = loop, .start = &start};
        for (uint32_t i = 0; i < POSTS_PER_POSTER; i++)
            posters[p].items[i] = (struct post_item){.log = &log, .value = p << 16 | i};
        assert_int_equal(pthread_create(&threads[p], NULL, poster_main, &posters[p]), 0);
    }
    for (int p = 0; p < POSTERS; p++)
        pthread_join(threads[p], NULL);
    pthread_barrier_destroy(&start);
    /* Posted after every poster finished, so it runs after all their functions. */
    assert_int_equal(loop_barrier(loop), 0);

    assert_int_equal(log.count, POSTERS * POSTS_PER_POSTER);
    assert_int_equal(log.wrong_thread, 0);
    uint32_t next[POSTERS] = {0};
    for (size_t i = 0; i < log.count; i++) {
        uint32_t poster = log.entries[i] >> 16, index = log.entries[i] & 0xffff;
        assert_true(poster < POSTERS);
        assert_int_equal(index, next[poster]);
        next[poster]++;
    }
    for (int p = 0; p < POSTERS; p++)
        assert_int_equal(posters[p].failures, 0);
    xtio_loop_destroy(loop);
}

/* ---- Never inline ---------------------------------------------------------------------------- */

struct nested_post {
    xtio_loop *loop;
    bool outer_running;
    int post_rc;
    bool inner_ran_before_post_returned;
    bool inner_ran;
    bool inner_saw_outer_running;
    pid_t inner_tid;
};

static void inner_posted(void *arg)
{
    struct nested_post *nested = arg;
    nested->inner_ran = true;
    nested->inner_saw_outer_running = nested->outer_running;
    nested->inner_tid = gettid();
}

static void outer_posting(void *arg)
{
    struct nested_post *nested = arg;
    nested->outer_running = true;
    nested->post_rc = xtio_loop_post(nested->loop, inner_posted, nested);
    nested->inner_ran_before_post_returned = nested->inner_ran;
    nested->outer_running = false;
}

static void test_post_from_loop_is_never_inline(void **state)
{
    (void)state;
    xtio_loop *loop = started_loop("t-inline");
    struct nested_post nested = {.loop = loop};
    assert_int_equal(xtio_loop_call(loop, outer_posting, &nested), 0);
    assert_int_equal(nested.post_rc, 0);
    assert_false(nested.inner_ran_before_post_returned);
    /* The inner function was posted before this barrier. */
    assert_int_equal(loop_barrier(loop), 0);
    assert_true(nested.inner_ran);
    assert_false(nested.inner_saw_outer_running);
    assert_int_equal(nested.inner_tid, xtio_loop_tid(loop));
    xtio_loop_destroy(loop);
}

/* ---- xtio_loop_call ------------------------------------------------------------------------- */

struct slow_call {
    unsigned sleep_ms;
    int value; /* which of the calls this one was: 1st, 2nd */
    int *next;
};

static void slow_step(void *arg)
{
    struct slow_call *call = arg;
    harness_sleep_ms(call->sleep_ms);
    *call->next = *call->next + 1;
    call->value = *call->next;
}

static void test_call_waits_for_completion(void **state)
{
    (void)state;
    xtio_loop *loop = started_loop("t-call");
    int counter = 0;
    struct slow_call first = {.sleep_ms = 50, .next = &counter};
    struct slow_call second = {.sleep_ms = 0, .next = &counter};

    uint64_t started = harness_now_ms();
    /* The call queues behind the slow post and returns only after both ran, in that order. */
    assert_int_equal(xtio_loop_post(loop, slow_step, &first), 0);
    assert_int_equal(xtio_loop_call(loop, slow_step, &second), 0);
    assert_true(harness_now_ms() - started >= 45);
    assert_int_equal(first.value, 1);
    assert_int_equal(second.value, 2);
    xtio_loop_destroy(loop);
}

struct nested_call {
    xtio_loop *loop;
    bool outer_running;
    int call_rc;
    bool inner_done_when_call_returned;
    bool inner_saw_outer_running;
    bool inner_done;
    pid_t inner_tid;
};

static void inner_called(void *arg)
{
    struct nested_call *nested = arg;
    nested->inner_saw_outer_running = nested->outer_running;
    nested->inner_tid = gettid();
    nested->inner_done = true;
}

static void outer_calling(void *arg)
{
    struct nested_call *nested = arg;
    nested->outer_running = true;
    /* Queuing it would deadlock: the loop is busy right here. */
    nested->call_rc = xtio_loop_call(nested->loop, inner_called, nested);
    nested->inner_done_when_call_returned = nested->inner_done;
    nested->outer_running = false;
}

static void test_call_from_loop_runs_inline(void **state)
{
    (void)state;
    xtio_loop *loop = started_loop("t-callin");
    struct nested_call nested = {.loop = loop};
    assert_int_equal(xtio_loop_call(loop, outer_calling, &nested), 0);
    assert_int_equal(nested.call_rc, 0);
    assert_true(nested.inner_done_when_call_returned);
    assert_true(nested.inner_saw_outer_running);
    assert_int_equal(nested.inner_tid, xtio_loop_tid(loop));
    xtio_loop_destroy(loop);
}

/* ---- Refusals ------------------------------------------------------------------------------- */

static void count_run(void *arg)
{
    int *runs = arg;
    (*runs)++;
}

static void test_post_after_stop_is_refused(void **state)
{
    (void)state;
    xtio_loop *loop = started_loop("t-stopped");
    int runs = 0;
    xtio_loop_stop(loop);
    assert_int_equal(xtio_loop_post(loop, count_run, &runs), -ESHUTDOWN);
    assert_int_equal(xtio_loop_call(loop, count_run, &runs), -ESHUTDOWN);
    assert_int_equal(xtio_loop_join(loop), 0);
    assert_int_equal(xtio_loop_post(loop, count_run, &runs), -ESHUTDOWN);
    assert_int_equal(xtio_loop_call(loop, count_run, &runs), -ESHUTDOWN);
    xtio_loop_destroy(loop);
    assert_int_equal(runs, 0);
}

static void test_call_on_never_started_loop(void **state)
{
    (void)state;
    xtio_loop *loop = NULL;
    int runs = 0;
    assert_int_equal(xtio_loop_create(&loop, "t-never"), 0);
    /* Nothing would ever run it, so waiting would hang forever. */
    assert_int_equal(xtio_loop_call(loop, count_run, &runs), -EINVAL);
    assert_int_equal(runs, 0);
    xtio_loop_destroy(loop);
}

static void test_invalid_arguments(void **state)
{
    (void)state;
    assert_int_equal(xtio_loop_create(NULL, "x"), -EINVAL);
    xtio_loop *loop = started_loop("t-args");
    assert_int_equal(xtio_loop_post(loop, NULL, NULL), -EINVAL);
    assert_int_equal(xtio_loop_call(loop, NULL, NULL), -EINVAL);
    assert_int_equal(xtio_loop_post(NULL, count_run, NULL), -EINVAL);
    xtio_loop_destroy(loop);
}

/* ---- Mode names ----------------------------------------------------------------------------- */

static void test_mode_names(void **state)
{
    (void)state;
    static const char *const names[XTIO_MODE_COUNT] = {"inline", "sync", "async", "batch",
                                                       "direct"};
    for (int m = 0; m < XTIO_MODE_COUNT; m++) {
        assert_string_equal(xtio_mode_name((enum xtio_mode)m), names[m]);
        enum xtio_mode parsed = (enum xtio_mode) - 1;
        assert_int_equal(xtio_mode_parse(names[m], &parsed), 0);
        assert_int_equal(parsed, m);
    }
    assert_null(xtio_mode_name((enum xtio_mode)XTIO_MODE_COUNT));
    assert_null(xtio_mode_name((enum xtio_mode) - 1));

    enum xtio_mode untouched = XTIO_MODE_ASYNC;
    assert_int_equal(xtio_mode_parse("bogus", &untouched), -EINVAL);
    assert_int_equal(xtio_mode_parse("", &untouched), -EINVAL);
    assert_int_equal(xtio_mode_parse("SYNC", &untouched), -EINVAL);
    assert_int_equal(xtio_mode_parse("sync ", &untouched), -EINVAL);
    assert_int_equal(xtio_mode_parse(NULL, &untouched), -EINVAL);
    assert_int_equal(untouched, XTIO_MODE_ASYNC);
}

int main(void)
{
    /* libxtio leaves SIGPIPE to the process; a write to a client that left must not kill us. */
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lifecycle),
        cmocka_unit_test(test_destroy_running_loop),
        cmocka_unit_test(test_tid_and_is_current),
        cmocka_unit_test(test_thread_names),
        cmocka_unit_test(test_posts_run_in_order),
        cmocka_unit_test(test_post_from_loop_is_never_inline),
        cmocka_unit_test(test_call_waits_for_completion),
        cmocka_unit_test(test_call_from_loop_runs_inline),
        cmocka_unit_test(test_post_after_stop_is_refused),
        cmocka_unit_test(test_call_on_never_started_loop),
        cmocka_unit_test(test_invalid_arguments),
        cmocka_unit_test(test_mode_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
