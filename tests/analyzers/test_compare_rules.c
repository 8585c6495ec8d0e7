/*
 * xtio-compare's rules, on the fixtures: how MODE. names a process, thresholds on latencies,
 * counts and ratios, `*`, null and absent values, new and known findings, and what the table and
 * the JUnit XML say about them.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compare/fixtures.h"

#define MAX_THRESHOLDS 4

/* A comparison of two fixtures under up to MAX_THRESHOLDS --max-regress specs. */
static struct run compare(const char *baseline, const char *current, const char *const *specs)
{
    struct xtio_compare_threshold thresholds[MAX_THRESHOLDS];
    size_t count = 0;
    struct run run;
    for (; specs && specs[count]; count++) {
        assert_true(count < MAX_THRESHOLDS);
        if (xtio_compare_threshold_parse(specs[count], &thresholds[count], &run.error) != 0)
            fail_msg("'%s' refused: %s", specs[count], run.error.message);
    }
    xtio_compare_report *b = load(baseline), *c = load(current);
    run.status = xtio_compare_run(b, c, thresholds, count, NULL, 0, &run.result, &run.error);
    xtio_compare_report_free(b);
    xtio_compare_report_free(c);
    return run;
}

/* The comparison succeeded with this exit code. */
static struct run compared(const char *baseline, const char *current, const char *const *specs,
                           int exit_code)
{
    struct run run = compare(baseline, current, specs);
    if (run.status != 0)
        fail_msg("%s vs %s failed: %s", baseline, current, run.error.message);
    assert_int_equal(run.result.exit_code, exit_code);
    return run;
}

static void assert_refused(const char *baseline, const char *current, const char *const *specs,
                           const char *part)
{
    struct run run = compare(baseline, current, specs);
    assert_int_equal(run.status, -EINVAL);
    if (!strstr(run.error.message, part))
        fail_msg("\"%s\" does not say \"%s\"", run.error.message, part);
}

/* ---- Processes and modes ------------------------------------------------------------------- */

static void a_report_compared_with_itself_passes(void **state)
{
    (void)state;
    static const char *const specs[] = {"*.end_to_end_us.p99=0", NULL};
    struct run run = compared("baseline.json", "baseline.json", specs, 0);
    assert_int_equal(run.result.thresholds, 3);
    assert_int_equal(run.result.thresholds_failed, 0);
    assert_int_equal(run.result.findings_new, 0);
    assert_int_equal(row(&run, "async.end_to_end_us.p99")->verdict, XTIO_COMPARE_WITHIN);
    assert_true(row(&run, "async.end_to_end_us.p99")->delta_pct == 0);
    xtio_compare_result_fini(&run.result);
}

static void a_mode_names_the_process_of_that_primary_mode(void **state)
{
    (void)state;
    /* Three servers with inline handoffs: inline. is the one whose primary_mode is inline. */
    static const char *const specs[] = {"inline.handoffs=0", "direct.handoffs=0", NULL};
    struct run run = compared("baseline.json", "baseline.json", specs, 0);
    assert_true(row(&run, "inline.handoffs")->current.number == 100);
    assert_true(row(&run, "direct.handoffs")->current.number == 1000);
    xtio_compare_result_fini(&run.result);
}

static void else_the_only_process_with_handoffs_in_it(void **state)
{
    (void)state;
    /* One async server: its short replies are the only inline handoffs. */
    static const char *const specs[] = {"inline.end_to_end_us.p50=0", NULL};
    struct run run = compared("single_async.json", "single_async.json", specs, 0);
    assert_true(row(&run, "inline.end_to_end_us.p50")->baseline.number == 2.0);
    xtio_compare_result_fini(&run.result);
}

static void several_processes_of_a_mode_are_ambiguous(void **state)
{
    (void)state;
    static const char *const by_primary[] = {"async.handoffs=5", NULL};
    assert_refused("single_async.json", "ambiguous.json", by_primary,
                   "2 processes whose primary_mode is async (pids 11, 13)");
    static const char *const glob[] = {"*.handoffs=5", NULL};
    assert_refused("ambiguous.json", "single_async.json", glob, "ambiguous");
    /* The async and direct servers both have inline handoffs, and none runs in inline mode. */
    static const char *const by_handoffs[] = {"inline.handoffs=5", NULL};
    assert_refused("no_direct.json", "ambiguous.json", by_handoffs,
                   "no process whose primary_mode is inline, and 2 processes with inline handoffs");
}

static void the_default_rows_leave_ambiguous_modes_out(void **state)
{
    (void)state;
    struct run run = compared("ambiguous.json", "ambiguous.json", NULL, 0);
    assert_int_equal(run.result.row_count, 0);
    xtio_compare_result_fini(&run.result);
}

static void the_default_rows_cover_every_mode_present(void **state)
{
    (void)state;
    struct run run = compared("baseline.json", "slower.json", NULL, 0);
    static const char *const shown[] = {
        "inline.handoffs",          "inline.end_to_end_us.p50", "inline.end_to_end_us.p99",
        "async.handoffs",           "async.queue_wait_us.p50",  "async.queue_wait_us.p99",
        "async.end_to_end_us.p50",  "async.end_to_end_us.p99",  "direct.handoffs",
        "direct.queue_wait_us.p50", "direct.queue_wait_us.p99", "direct.end_to_end_us.p50",
        "direct.end_to_end_us.p99",
    };
    assert_int_equal(run.result.row_count, sizeof(shown) / sizeof(shown[0]));
    for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++)
        assert_int_equal(row(&run, shown[i])->verdict, XTIO_COMPARE_SHOWN);
    /* An inline handoff has no queue wait: a row of nothing is left out. */
    assert_false(has_row(&run, "inline.queue_wait_us.p50"));
    assert_true(row(&run, "async.end_to_end_us.p99")->delta_pct == 100);
    assert_int_equal(run.result.thresholds, 0);
    xtio_compare_result_fini(&run.result);
}

/* ---- Thresholds ---------------------------------------------------------------------------- */

static void a_latency_worse_than_its_limit_fails(void **state)
{
    (void)state;
    static const char *const specs[] = {"async.end_to_end_us.p99=99.9",
                                        "async.queue_wait_us.p50=100", NULL};
    struct run run = compared("baseline.json", "slower.json", specs, 1);
    const struct xtio_compare_row *crossed = row(&run, "async.end_to_end_us.p99");
    assert_int_equal(crossed->verdict, XTIO_COMPARE_CROSSED);
    assert_true(crossed->baseline.number == 100 && crossed->current.number == 200);
    /* Exactly at the limit holds. */
    assert_int_equal(row(&run, "async.queue_wait_us.p50")->verdict, XTIO_COMPARE_WITHIN);
    assert_int_equal(run.result.thresholds_failed, 1);
    /* Faster is never worse. */
    static const char *const faster[] = {"async.end_to_end_us.p99=0", NULL};
    xtio_compare_result_fini(&run.result);
    run = compared("slower.json", "baseline.json", faster, 0);
    assert_true(row(&run, "async.end_to_end_us.p99")->delta_pct == -50);
    xtio_compare_result_fini(&run.result);
}

static void a_ratio_holds_where_absolute_times_drift(void **state)
{
    (void)state;
    /* Every latency doubled: the machine, not the code. */
    static const char *const specs[] = {"async.end_to_end_us.p99/inline.end_to_end_us.p99=1",
                                        "async.queue_wait_us.p99/async.end_to_end_us.p99=1", NULL};
    struct run run = compared("baseline.json", "slower.json", specs, 0);
    const struct xtio_compare_row *ratio =
        row(&run, "async.end_to_end_us.p99/inline.end_to_end_us.p99");
    assert_true(ratio->baseline.number == 0.5 && ratio->current.number == 0.5);
    assert_int_equal(ratio->verdict, XTIO_COMPARE_WITHIN);
    xtio_compare_result_fini(&run.result);
}

static void a_negative_limit_demands_an_improvement(void **state)
{
    (void)state;
    static const char *const impossible[] = {"async.queue_wait_us.p99=-100", NULL};
    struct run run = compared("baseline.json", "baseline.json", impossible, 1);
    xtio_compare_result_fini(&run.result);
    static const char *const halved[] = {"async.queue_wait_us.p99=-50", NULL};
    run = compared("slower.json", "baseline.json", halved, 0);
    xtio_compare_result_fini(&run.result);
}

static void workload_counts_fail_on_a_change_either_way(void **state)
{
    (void)state;
    /* nulls.json: 900 async handoffs where single_async.json has 1000. */
    static const char *const specs[] = {"async.handoffs=5", NULL};
    struct run run = compared("single_async.json", "nulls.json", specs, 1);
    assert_true(row(&run, "async.handoffs")->either_direction);
    assert_true(row(&run, "async.handoffs")->delta_pct == -10);
    xtio_compare_result_fini(&run.result);
    run = compared("nulls.json", "single_async.json", specs, 1);
    xtio_compare_result_fini(&run.result);
    static const char *const wide[] = {"async.handoffs=12", NULL};
    run = compared("nulls.json", "single_async.json", wide, 0);
    xtio_compare_result_fini(&run.result);
}

static void drops_from_zero_fail_whatever_the_limit(void **state)
{
    (void)state;
    static const char *const specs[] = {"async.dropped=1000000", NULL};
    struct run run = compared("single_async.json", "nulls.json", specs, 1);
    const struct xtio_compare_row *dropped = row(&run, "async.dropped");
    assert_false(dropped->either_direction);
    assert_true(isinf(dropped->delta_pct) && dropped->delta_pct > 0);
    xtio_compare_result_fini(&run.result);
}

static void the_glob_expands_to_the_modes_present(void **state)
{
    (void)state;
    static const char *const specs[] = {"*.end_to_end_us.p99=50", NULL};
    struct run run = compared("baseline.json", "slower.json", specs, 1);
    assert_int_equal(run.result.thresholds, 3);
    assert_int_equal(run.result.thresholds_failed, 3);
    assert_true(row(&run, "inline.end_to_end_us.p99")->thresholded);
    assert_true(row(&run, "direct.end_to_end_us.p99")->thresholded);
    assert_false(has_row(&run, "sync.end_to_end_us.p99"));
    xtio_compare_result_fini(&run.result);
}

/* ---- Null and absent values ---------------------------------------------------------------- */

static void a_value_the_current_report_lost_fails(void **state)
{
    (void)state;
    /* nulls.json: no end-to-end value (count 0) for async. */
    static const char *const specs[] = {"async.end_to_end_us.p50=1000", NULL};
    struct run run = compared("single_async.json", "nulls.json", specs, 1);
    assert_int_equal(row(&run, "async.end_to_end_us.p50")->verdict, XTIO_COMPARE_LOST);
    assert_int_equal(row(&run, "async.end_to_end_us.p50")->current.presence, XTIO_COMPARE_NULL);
    xtio_compare_result_fini(&run.result);
    /* The direct server is gone from the current run. */
    static const char *const gone[] = {"direct.end_to_end_us.p50=1000", NULL};
    run = compared("baseline.json", "no_direct.json", gone, 1);
    assert_int_equal(row(&run, "direct.end_to_end_us.p50")->verdict, XTIO_COMPARE_LOST);
    assert_int_equal(row(&run, "direct.end_to_end_us.p50")->current.presence, XTIO_COMPARE_ABSENT);
    xtio_compare_result_fini(&run.result);
}

static void a_value_without_baseline_passes(void **state)
{
    (void)state;
    /* nulls.json: the only one with a producer-blocked time. */
    static const char *const blocked[] = {"async.producer_blocked_us.p99=0", NULL};
    struct run run = compared("single_async.json", "nulls.json", blocked, 0);
    assert_int_equal(row(&run, "async.producer_blocked_us.p99")->verdict, XTIO_COMPARE_NO_BASELINE);
    xtio_compare_result_fini(&run.result);
    /* A server new in the current run; it fails for its off-loop writes only. */
    static const char *const direct[] = {"direct.end_to_end_us.p50=0", NULL};
    run = compared("no_direct.json", "baseline.json", direct, 1);
    assert_int_equal(row(&run, "direct.end_to_end_us.p50")->verdict, XTIO_COMPARE_NO_BASELINE);
    assert_int_equal(run.result.thresholds_failed, 0);
    assert_int_equal(run.result.findings_new, 1);
    xtio_compare_result_fini(&run.result);
}

static void no_values_on_either_side_pass(void **state)
{
    (void)state;
    static const char *const specs[] = {"async.spool_delay_us.max=0",
                                        "async.end_to_end_us.p50/async.end_to_end_us.p50=0",
                                        "async.dropped/inline.dropped=0", NULL};
    struct run run = compared("nulls.json", "nulls.json", specs, 0);
    assert_int_equal(row(&run, "async.spool_delay_us.max")->verdict, XTIO_COMPARE_NO_DATA);
    /* A ratio of a null, and a ratio over 0, are null. */
    assert_int_equal(row(&run, "async.end_to_end_us.p50/async.end_to_end_us.p50")->verdict,
                     XTIO_COMPARE_NO_DATA);
    assert_int_equal(row(&run, "async.dropped/inline.dropped")->baseline.presence,
                     XTIO_COMPARE_NULL);
    xtio_compare_result_fini(&run.result);
}

static void a_metric_in_neither_report_lists_the_processes(void **state)
{
    (void)state;
    static const char *const specs[] = {"sync.end_to_end_us.p99=10", NULL};
    assert_refused("baseline.json", "slower.json", specs, "in neither report");
    assert_refused("baseline.json", "slower.json", specs,
                   "pid 10 inline, pid 11 async, pid 12 direct");
}

/* MODE.server_cpu_ns_per_record: the workload's figure for MODE, larger is worse (not a count of
 * the workload, which fails either way); in no report, a usage error saying how to record it. */
static void a_workload_figure_is_gated_one_way(void **state)
{
    (void)state;
    static const char *const specs[] = {"async.server_cpu_ns_per_record=10",
                                        "direct.server_cpu_us=10", NULL};
    struct run run = compared("workload.json", "workload.json", specs, 0);
    const struct xtio_compare_row *r = row(&run, "async.server_cpu_ns_per_record");
    assert_true(r->thresholded);
    assert_false(r->either_direction);
    assert_true(r->baseline.number == 450);
    assert_true(row(&run, "direct.server_cpu_us")->current.number == 70000);
    xtio_compare_result_fini(&run.result);

    assert_refused("baseline.json", "slower.json", specs, "no report has the workload's figures");
    assert_refused("baseline.json", "slower.json", specs, "--workload cpu.json");
    /* A mode the workload has no figures for, on both sides. */
    static const char *const sync_specs[] = {"sync.server_cpu_ns_per_record=10", NULL};
    assert_refused("workload.json", "workload.json", sync_specs, "(reference.workload.modes)");
}

/* ---- Findings ------------------------------------------------------------------------------ */

static void a_new_finding_fails_and_a_known_one_is_shown(void **state)
{
    (void)state;
    struct run run = compared("baseline.json", "new_finding.json", NULL, 1);
    const struct xtio_compare_finding *ordering = finding(&run, "async", "ordering_break");
    assert_int_equal(ordering->verdict, XTIO_COMPARE_NEW);
    assert_int_equal(ordering->current, 2);
    const struct xtio_compare_finding *off_loop = finding(&run, "direct", "off_loop_write");
    assert_int_equal(off_loop->verdict, XTIO_COMPARE_KNOWN);
    assert_int_equal(off_loop->baseline, 1000);
    assert_int_equal(off_loop->current, 900);
    assert_int_equal(finding(&run, "inline", "lost_handoff")->verdict, XTIO_COMPARE_CLEAN);
    assert_int_equal(run.result.findings_new, 1);
    /* 3 primary modes x 4 kinds: no dropped_data without strict. */
    assert_int_equal(run.result.finding_count, 12);
    xtio_compare_result_fini(&run.result);

    run = compared("new_finding.json", "baseline.json", NULL, 0);
    assert_int_equal(finding(&run, "async", "ordering_break")->verdict, XTIO_COMPARE_FIXED);
    xtio_compare_result_fini(&run.result);
}

static void a_baseline_without_the_direct_server_makes_its_findings_new(void **state)
{
    (void)state;
    struct run run = compared("no_direct.json", "baseline.json", NULL, 1);
    assert_int_equal(finding(&run, "direct", "off_loop_write")->verdict, XTIO_COMPARE_NEW);
    assert_int_equal(run.result.findings_new, 1);
    xtio_compare_result_fini(&run.result);
}

/* A comparison under one --expect-finding. */
static struct run compare_expecting(const char *baseline, const char *current, const char *spec)
{
    struct xtio_compare_expectation expectation;
    struct run run;
    if (xtio_compare_expectation_parse(spec, &expectation, &run.error) != 0)
        fail_msg("'%s' refused: %s", spec, run.error.message);
    xtio_compare_report *b = load(baseline), *c = load(current);
    run.status = xtio_compare_run(b, c, NULL, 0, &expectation, 1, &run.result, &run.error);
    assert_int_equal(run.status, 0);
    xtio_compare_report_free(b);
    xtio_compare_report_free(c);
    return run;
}

static void an_expected_finding_passes_when_there_and_fails_when_missing(void **state)
{
    (void)state;
    struct run run = compare_expecting("no_direct.json", "baseline.json", "direct.off_loop_write");
    /* Expected, so not "new" although the baseline had no direct server. */
    assert_int_equal(finding(&run, "direct", "off_loop_write")->verdict, XTIO_COMPARE_EXPECTED);
    assert_int_equal(run.result.exit_code, 0);
    xtio_compare_result_fini(&run.result);

    /* The canary: the current report has no direct server at all, so nothing flagged it. */
    run = compare_expecting("baseline.json", "no_direct.json", "direct.off_loop_write");
    const struct xtio_compare_finding *missing = finding(&run, "direct", "off_loop_write");
    assert_int_equal(missing->verdict, XTIO_COMPARE_MISSING);
    assert_int_equal(missing->current, 0);
    assert_int_equal(run.result.findings_missing, 1);
    assert_int_equal(run.result.exit_code, 1);
    xtio_compare_result_fini(&run.result);
}

static void an_expectation_names_a_mode_and_a_finding_kind(void **state)
{
    (void)state;
    struct xtio_compare_expectation expectation;
    struct xtio_compare_error error;
    assert_int_equal(xtio_compare_expectation_parse("direct.off_loop_write", &expectation, &error),
                     0);
    assert_int_equal(expectation.mode, 4);
    static const char *const refused[] = {"direct", "direct.", "fast.off_loop_write",
                                          "direct.off_loop", ".off_loop_write"};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        assert_int_equal(xtio_compare_expectation_parse(refused[i], &expectation, &error), -EINVAL);
        assert_non_null(strstr(error.message, "MODE.KIND"));
    }
}

/* ---- Output -------------------------------------------------------------------------------- */

static char *table(const struct run *run, bool quiet)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    assert_non_null(out);
    assert_int_equal(xtio_compare_write_table(&run->result, quiet, out), 0);
    fclose(out);
    return text;
}

static void the_table_shows_deltas_findings_and_a_summary(void **state)
{
    (void)state;
    static const char *const specs[] = {"async.end_to_end_us.p99=25", NULL};
    struct run run = compared("baseline.json", "new_finding.json", specs, 1);
    char *text = table(&run, false);
    assert_contains(text, "metric");
    assert_contains(text, "async.end_to_end_us.p99");
    assert_contains(text, "+0.0%");
    assert_contains(text, "+25%");
    assert_contains(text, "direct.handoffs");
    assert_contains(text, "async ordering_break");
    assert_contains(text, "FAIL: new");
    assert_contains(text, "direct off_loop_write");
    assert_contains(text, "known");
    assert_contains(text, "xtio-compare: FAIL: 0 of 1 thresholds crossed, new finding kinds: 1, "
                          "expected ones missing: 0; exit status 1\n");
    free(text);
    text = table(&run, true);
    assert_null(strstr(text, "direct.handoffs"));
    assert_null(strstr(text, "known"));
    assert_contains(text, "async ordering_break");
    free(text);
    xtio_compare_result_fini(&run.result);
}

static size_t occurrences(const char *text, const char *part)
{
    size_t count = 0;
    for (const char *p = text; (p = strstr(p, part)); p += strlen(part))
        count++;
    return count;
}

static void junit_has_a_testcase_per_check_and_escapes(void **state)
{
    (void)state;
    static const char *const specs[] = {"*.end_to_end_us.p99=25", "async.spool_delay_us.p99=5",
                                        NULL};
    struct run run = compared("baseline.json", "new_finding.json", specs, 1);
    char *xml = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&xml, &size);
    assert_non_null(out);
    static const char *const baselines[] = {"base<&>\"'\n.json"}, *currents[] = {"current.json"};
    assert_int_equal(xtio_compare_write_junit(&run.result, baselines, currents, out), 0);
    fclose(out);
    /* 4 thresholds, 12 findings checks; the new ordering break fails, no spool delay is skipped. */
    assert_contains(xml, "<testsuite name=\"xtio-compare\" tests=\"16\" failures=\"1\" "
                         "errors=\"0\" skipped=\"1\">");
    assert_int_equal(occurrences(xml, "<testcase "), 16);
    assert_int_equal(occurrences(xml, "<failure "), 1);
    assert_int_equal(occurrences(xml, "<skipped "), 1);
    assert_int_equal(occurrences(xml, "</testcase>"), 2);
    assert_contains(xml, "<property name=\"baseline\" value=\"base&lt;&amp;&gt;&quot;&#39;&#10;"
                         ".json\"/>\n    <property name=\"current\" value=\"current.json\"/>");
    assert_contains(xml, "name=\"async ordering_break\">\n    <failure message=\"ordering_break: "
                         "new finding in the processes of primary_mode async: baseline 0, "
                         "current 2, limit 0 new\"/>");
    assert_contains(xml, "name=\"async.end_to_end_us.p99 within +25%\"/>");
    free(xml);
    xtio_compare_result_fini(&run.result);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_report_compared_with_itself_passes),
        cmocka_unit_test(a_mode_names_the_process_of_that_primary_mode),
        cmocka_unit_test(else_the_only_process_with_handoffs_in_it),
        cmocka_unit_test(several_processes_of_a_mode_are_ambiguous),
        cmocka_unit_test(the_default_rows_leave_ambiguous_modes_out),
        cmocka_unit_test(the_default_rows_cover_every_mode_present),
        cmocka_unit_test(a_latency_worse_than_its_limit_fails),
        cmocka_unit_test(a_ratio_holds_where_absolute_times_drift),
        cmocka_unit_test(a_negative_limit_demands_an_improvement),
        cmocka_unit_test(workload_counts_fail_on_a_change_either_way),
        cmocka_unit_test(drops_from_zero_fail_whatever_the_limit),
        cmocka_unit_test(the_glob_expands_to_the_modes_present),
        cmocka_unit_test(a_value_the_current_report_lost_fails),
        cmocka_unit_test(a_value_without_baseline_passes),
        cmocka_unit_test(no_values_on_either_side_pass),
        cmocka_unit_test(a_metric_in_neither_report_lists_the_processes),
        cmocka_unit_test(a_workload_figure_is_gated_one_way),
        cmocka_unit_test(a_new_finding_fails_and_a_known_one_is_shown),
        cmocka_unit_test(a_baseline_without_the_direct_server_makes_its_findings_new),
        cmocka_unit_test(an_expected_finding_passes_when_there_and_fails_when_missing),
        cmocka_unit_test(an_expectation_names_a_mode_and_a_finding_kind),
        cmocka_unit_test(the_table_shows_deltas_findings_and_a_summary),
        cmocka_unit_test(junit_has_a_testcase_per_check_and_escapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
