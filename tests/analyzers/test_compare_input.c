/*
 * What xtio-compare accepts: reports of format "xtio-analysis" version 1 only, refused with a
 * message naming the file and what to do otherwise; and --max-regress METRIC=PCT, with the
 * valid names listed when a metric is unknown.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "compare/fixtures.h"

/* Loading NAME fails with status, and the message names the file and says `part`. */
static void assert_refused(const char *name, int status, const char *part)
{
    struct xtio_compare_error error;
    xtio_compare_report *report = (xtio_compare_report *)&error;
    assert_int_equal(xtio_compare_report_load(fixture(name), &report, &error), status);
    assert_null(report);
    assert_contains(error.message, name);
    assert_contains(error.message, part);
}

static void a_report_of_version_1_loads(void **state)
{
    (void)state;
    xtio_compare_report_free(load("baseline.json"));
}

static void an_unreadable_file_is_refused(void **state)
{
    (void)state;
    assert_refused("missing.json", -ENOENT, "cannot read");
}

static void a_text_report_is_not_json(void **state)
{
    (void)state;
    assert_refused("not_json.json", -EINVAL, "is not JSON");
}

static void another_format_is_refused(void **state)
{
    (void)state;
    assert_refused("other_format.json", -EINVAL, "xtio-analyze --format json");
}

static void an_unknown_version_is_refused(void **state)
{
    (void)state;
    assert_refused("version2.json", -EINVAL, "version 2");
}

static void the_report_of_a_refused_trace_is_refused(void **state)
{
    (void)state;
    assert_refused("refused.json", -EINVAL, "lttng enable-event -u 'xtio:*'");
}

static void a_report_without_primary_mode_asks_to_analyse_again(void **state)
{
    (void)state;
    assert_refused("no_primary_mode.json", -EINVAL, "processes[0] has no primary_mode");
}

static void a_value_of_the_wrong_type_is_refused(void **state)
{
    (void)state;
    assert_refused("bad_type.json", -EINVAL, "processes[0].modes.async.handoffs");
}

/* reference.workload: the figures xtio-reference --workload carries, checked on load. */
static void a_workload_of_the_wrong_shape_is_refused(void **state)
{
    (void)state;
    xtio_compare_report *report = load("workload.json");
    xtio_compare_report_free(report);
    assert_refused("bad_workload.json", -EINVAL, "reference.workload.modes.inline");
    assert_refused("bad_workload.json", -EINVAL, "scripts/workload --out DIR");

    json_t *root = fixture_json("workload.json");
    json_object_set_new(json_object_get(json_object_get(root, "reference"), "workload"), "format",
                        json_string("xtio-reference"));
    char path[] = "/tmp/xtio-compare-test-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0 && json_dumpfd(root, fd, 0) == 0);
    close(fd);
    json_decref(root);
    struct xtio_compare_error error;
    assert_int_equal(xtio_compare_report_load(path, &report, &error), -EINVAL);
    unlink(path);
    assert_null(report);
    assert_contains(error.message, "reference.workload is not a workload's figures");
    assert_contains(error.message, "\"format\": \"xtio-workload\"");
}

static struct xtio_compare_threshold parsed(const char *spec)
{
    struct xtio_compare_threshold threshold;
    struct xtio_compare_error error;
    if (xtio_compare_threshold_parse(spec, &threshold, &error) != 0)
        fail_msg("'%s' refused: %s", spec, error.message);
    return threshold;
}

static void thresholds_name_counts_latencies_and_ratios(void **state)
{
    (void)state;
    struct xtio_compare_threshold t = parsed("async.handoffs=5");
    assert_string_equal(t.name, "async.handoffs");
    assert_int_equal(t.metric.term_count, 1);
    assert_int_equal(t.metric.terms[0].mode, 2);
    assert_int_equal(t.metric.terms[0].stat, -1);
    assert_true(t.limit_pct == 5);

    t = parsed("sync.producer_blocked_us.p99_9=12.5%");
    assert_int_equal(t.metric.terms[0].mode, 1);
    assert_int_equal(t.metric.terms[0].stat, 3);
    assert_true(t.limit_pct == 12.5);

    t = parsed("async.end_to_end_us.p99/inline.end_to_end_us.p99=-100");
    assert_int_equal(t.metric.term_count, 2);
    assert_int_equal(t.metric.terms[1].mode, 0);
    assert_true(t.limit_pct == -100);

    t = parsed("*.end_to_end_us.max=25");
    assert_int_equal(t.metric.terms[0].mode, XTIO_COMPARE_ANY_MODE);
    assert_int_equal(t.metric.terms[0].stat, 4);
    assert_false(t.metric.terms[0].workload);

    t = parsed("async.server_cpu_ns_per_record=25");
    assert_string_equal(t.name, "async.server_cpu_ns_per_record");
    assert_int_equal(t.metric.terms[0].mode, 2);
    assert_int_equal(t.metric.terms[0].stat, -1);
    assert_true(t.metric.terms[0].workload);

    t = parsed("*.server_cpu_us/reference.cpu_us.p50=10");
    assert_int_equal(t.metric.term_count, 2);
    assert_true(t.metric.terms[0].workload);
    assert_int_equal(t.metric.terms[0].key, 1);
    assert_int_equal(t.metric.terms[1].mode, XTIO_COMPARE_REFERENCE);
}

static void assert_bad_threshold(const char *spec, const char *part)
{
    struct xtio_compare_threshold threshold;
    struct xtio_compare_error error;
    assert_int_equal(xtio_compare_threshold_parse(spec, &threshold, &error), -EINVAL);
    assert_contains(error.message, spec);
    assert_contains(error.message, part);
}

static void a_bad_threshold_says_the_syntax(void **state)
{
    (void)state;
    assert_bad_threshold("async.end_to_end_us.p99", "expected METRIC=PCT");
    assert_bad_threshold("=25", "expected METRIC=PCT");
    assert_bad_threshold("async.handoffs=", "expected METRIC=PCT");
    assert_bad_threshold("async.handoffs=lots", "is not a number of percent");
    assert_bad_threshold("async.handoffs=inf", "is not a number of percent");
    assert_bad_threshold("async.handoffs=5%%", "is not a number of percent");
}

static void an_unknown_metric_lists_the_valid_names(void **state)
{
    (void)state;
    static const char *const unknown[] = {
        "async.queue_wait.p99=5",    /* no such key */
        "async.queue_wait_us=5",     /* a latency without its stat */
        "async.handoffs.p99=5",      /* a count with a stat */
        "async.end_to_end_us.p95=5", /* no such stat */
        "fast.handoffs=5",           /* no such mode */
        "handoffs=5",                /* no mode */
        "a.handoffs/b.handoffs/c.handoffs=5",
        "async.handoffs/=5",
        "async.server_cpu_ns_per_record.p50=5", /* a workload figure with a stat */
        "async.server_cpu_ns=5",                /* no such figure */
        "reference.server_cpu_us=5",            /* a figure of no mode */
    };
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        assert_bad_threshold(unknown[i], "unknown metric");
        assert_bad_threshold(unknown[i], "queue_wait_us end_to_end_us");
        assert_bad_threshold(unknown[i], "p50 p90 p99 p99_9 max");
        assert_bad_threshold(unknown[i], "server_cpu_ns_per_record server_cpu_us");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_report_of_version_1_loads),
        cmocka_unit_test(an_unreadable_file_is_refused),
        cmocka_unit_test(a_text_report_is_not_json),
        cmocka_unit_test(another_format_is_refused),
        cmocka_unit_test(an_unknown_version_is_refused),
        cmocka_unit_test(the_report_of_a_refused_trace_is_refused),
        cmocka_unit_test(a_report_without_primary_mode_asks_to_analyse_again),
        cmocka_unit_test(a_value_of_the_wrong_type_is_refused),
        cmocka_unit_test(a_workload_of_the_wrong_shape_is_refused),
        cmocka_unit_test(thresholds_name_counts_latencies_and_ratios),
        cmocka_unit_test(a_bad_threshold_says_the_syntax),
        cmocka_unit_test(an_unknown_metric_lists_the_valid_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
