/*
 * xtio-compare over several reports a side: each metric is computed within each report and
 * taken as the median over the side's reports, by the percentile rule of every xtio tool (the
 * lower middle of an even count); a finding kind counts with its largest count over them.
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

#define MAX_REPORTS 5

/* baseline.json, its latencies times scale, with a reference of cpu_us. */
static xtio_compare_report *scaled(double scale, double cpu_us)
{
    json_t *root = fixture_json("baseline.json");
    scale_latencies(root, scale);
    set_reference(root, 30.0, 40.0, cpu_us);
    return load_json(root);
}

/* The comparison of the reports (freed here, NULL-terminated lists) under one threshold. */
static struct run compare_sides(xtio_compare_report **baselines, xtio_compare_report **currents,
                                const char *spec)
{
    struct run run;
    struct xtio_compare_threshold threshold;
    if (xtio_compare_threshold_parse(spec, &threshold, &run.error) != 0)
        fail_msg("'%s' refused: %s", spec, run.error.message);
    size_t counts[2] = {0, 0};
    while (baselines[counts[0]])
        counts[0]++;
    while (currents[counts[1]])
        counts[1]++;
    const struct xtio_compare_inputs inputs = {
        .baselines = (const xtio_compare_report *const *)baselines,
        .baseline_count = counts[0],
        .currents = (const xtio_compare_report *const *)currents,
        .current_count = counts[1],
        .thresholds = &threshold,
        .threshold_count = 1};
    run.status = xtio_compare_run_inputs(&inputs, &run.result, &run.error);
    for (size_t i = 0; i < counts[0]; i++)
        xtio_compare_report_free(baselines[i]);
    for (size_t i = 0; i < counts[1]; i++)
        xtio_compare_report_free(currents[i]);
    if (run.status != 0)
        fail_msg("the comparison failed: %s", run.error.message);
    return run;
}

#define E2E "async.end_to_end_us.p50" /* 20 us in baseline.json */

/* An odd count: the middle one, whatever the order of the reports. */
static void an_odd_count_takes_the_middle_report(void **state)
{
    (void)state;
    xtio_compare_report *baselines[] = {scaled(1, 10), scaled(9, 10), scaled(3, 10), NULL};
    xtio_compare_report *currents[] = {scaled(2, 10),   scaled(20, 10), scaled(5, 10),
                                       scaled(0.5, 10), scaled(4, 10),  NULL};
    struct run run = compare_sides(baselines, currents, E2E "=100");
    assert_int_equal(run.result.baseline_reports, 3);
    assert_int_equal(run.result.current_reports, 5);
    assert_true(row(&run, E2E)->baseline.number == 3 * 20.0);
    assert_true(row(&run, E2E)->current.number == 4 * 20.0);
    assert_int_equal(row(&run, E2E)->verdict, XTIO_COMPARE_WITHIN);
    /* The default rows are medians too. */
    assert_true(row(&run, "direct.end_to_end_us.p99")->baseline.number == 3 * 80.0);
    xtio_compare_result_fini(&run.result);
}

/* An even count: the lower middle, the nearest rank of p50 (xtio_hist_rank), not a mean. */
static void an_even_count_takes_the_lower_middle(void **state)
{
    (void)state;
    xtio_compare_report *baselines[] = {scaled(10, 10), scaled(1, 10), NULL};
    xtio_compare_report *currents[] = {scaled(2, 10), scaled(8, 10), scaled(4, 10), scaled(6, 10),
                                       NULL};
    struct run run = compare_sides(baselines, currents, E2E "=0");
    assert_true(row(&run, E2E)->baseline.number == 1 * 20.0);
    assert_true(row(&run, E2E)->current.number == 4 * 20.0);
    xtio_compare_result_fini(&run.result);
}

/* A ratio is computed within each report, then the median taken: not a ratio of medians. */
static void a_ratio_is_the_median_of_each_reports_ratio(void **state)
{
    (void)state;
    /* Ratios 2, 6 and 1 (20/10, 60/10, 40/40); medians 40 and 10 would make 4. */
    xtio_compare_report *baselines[] = {scaled(1, 10), scaled(3, 10), scaled(2, 40), NULL};
    xtio_compare_report *currents[] = {scaled(1, 10), NULL};
    struct run run = compare_sides(baselines, currents, E2E "/reference.cpu_us.p50=0");
    assert_true(row(&run, E2E "/reference.cpu_us.p50")->baseline.number == 2.0);
    assert_true(row(&run, E2E)->baseline.number == 40.0);
    xtio_compare_result_fini(&run.result);
}

/* The reports without a number are left out of the median. */
static void reports_without_a_value_are_left_out(void **state)
{
    (void)state;
    json_t *root = fixture_json("baseline.json");
    set_reference(root, 30.0, 40.0, 10.0);
    json_t *latency = latency_json(root, "async", "async", "end_to_end_us");
    json_object_set_new(latency, "p50", json_null());
    xtio_compare_report *baselines[] = {scaled(1, 10), load_json(root), scaled(3, 10),
                                        scaled(5, 10), NULL};
    xtio_compare_report *currents[] = {scaled(1, 10), NULL};
    struct run run = compare_sides(baselines, currents, E2E "=0");
    assert_true(row(&run, E2E)->baseline.number == 3 * 20.0);
    xtio_compare_result_fini(&run.result);
}

/* baseline.json with `count` off-loop writes in the async server. */
static xtio_compare_report *with_findings(json_int_t count)
{
    json_t *root = fixture_json("baseline.json");
    json_t *process = json_array_get(json_object_get(root, "processes"), 1);
    assert_string_equal(json_string_value(json_object_get(process, "primary_mode")), "async");
    json_t *finding = json_object_get(json_object_get(process, "findings"), "off_loop_write");
    json_object_set_new(finding, "count", json_integer(count));
    return load_json(root);
}

/* A finding kind counts with its largest count over a side's reports: one run that shows it is
 * enough to make it new, or known. */
static void a_finding_counts_with_its_largest_count_per_side(void **state)
{
    (void)state;
    xtio_compare_report *baselines[] = {with_findings(0), with_findings(0), with_findings(0), NULL};
    xtio_compare_report *currents[] = {with_findings(0), with_findings(7), with_findings(3), NULL};
    struct run run = compare_sides(baselines, currents, E2E "=1000");
    const struct xtio_compare_finding *f = finding(&run, "async", "off_loop_write");
    assert_int_equal(f->baseline, 0);
    assert_int_equal(f->current, 7);
    assert_int_equal(f->verdict, XTIO_COMPARE_NEW);
    assert_int_equal(run.result.exit_code, 1);
    xtio_compare_result_fini(&run.result);

    xtio_compare_report *known_baselines[] = {with_findings(0), with_findings(2), with_findings(0),
                                              NULL};
    xtio_compare_report *known_currents[] = {with_findings(0), with_findings(7), NULL};
    run = compare_sides(known_baselines, known_currents, E2E "=1000");
    f = finding(&run, "async", "off_loop_write");
    assert_int_equal(f->baseline, 2);
    assert_int_equal(f->verdict, XTIO_COMPARE_KNOWN);
    assert_int_equal(run.result.exit_code, 0);
    xtio_compare_result_fini(&run.result);
}

/* The table's summary line and the JUnit properties. */
static void the_output_says_which_reports_each_median_took(void **state)
{
    (void)state;
    xtio_compare_report *baselines[] = {scaled(1, 10), scaled(1, 10), scaled(1, 10), NULL};
    xtio_compare_report *currents[] = {scaled(1, 10), scaled(1, 10), NULL};
    struct run run = compare_sides(baselines, currents, E2E "=0");
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    assert_int_equal(xtio_compare_write_table(&run.result, true, out), 0);
    fclose(out);
    if (!strstr(text, "each value is the median over 3 baseline and 2 current reports"))
        fail_msg("the summary does not give the sample sizes: %s", text);
    free(text);

    /* JUnit names every report of each side. */
    static const char *const baseline_paths[] = {"b1.json", "b2.json", "b3.json"};
    static const char *const current_paths[] = {"c1.json", "c2.json"};
    out = open_memstream(&text, &size);
    assert_int_equal(xtio_compare_write_junit(&run.result, baseline_paths, current_paths, out), 0);
    fclose(out);
    if (!strstr(text, "  <properties>\n"
                      "    <property name=\"baseline\" value=\"b1.json\"/>\n"
                      "    <property name=\"baseline\" value=\"b2.json\"/>\n"
                      "    <property name=\"baseline\" value=\"b3.json\"/>\n"
                      "    <property name=\"current\" value=\"c1.json\"/>\n"
                      "    <property name=\"current\" value=\"c2.json\"/>\n"
                      "  </properties>\n"))
        fail_msg("the JUnit properties do not list the 5 reports: %s", text);
    free(text);
    xtio_compare_result_fini(&run.result);
}

static void a_side_without_reports_is_refused(void **state)
{
    (void)state;
    xtio_compare_report *report = scaled(1, 10);
    const xtio_compare_report *reports[] = {report};
    struct xtio_compare_result result;
    struct xtio_compare_error error;
    const struct xtio_compare_inputs inputs = {
        .baselines = reports, .baseline_count = 1, .currents = reports, .current_count = 0};
    assert_int_equal(xtio_compare_run_inputs(&inputs, &result, &error), -EINVAL);
    if (!strstr(error.message, "no current report to compare"))
        fail_msg("\"%s\" does not name the missing side", error.message);
    xtio_compare_report_free(report);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_odd_count_takes_the_middle_report),
        cmocka_unit_test(an_even_count_takes_the_lower_middle),
        cmocka_unit_test(a_ratio_is_the_median_of_each_reports_ratio),
        cmocka_unit_test(reports_without_a_value_are_left_out),
        cmocka_unit_test(a_finding_counts_with_its_largest_count_per_side),
        cmocka_unit_test(the_output_says_which_reports_each_median_took),
        cmocka_unit_test(a_side_without_reports_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
