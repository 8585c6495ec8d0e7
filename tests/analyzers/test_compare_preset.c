/*
 * xtio-compare's default set, the preset "handoffs": which thresholds it makes, how each latency
 * is divided by the reference of its own report, its limits, the "changed" verdict of a metric
 * better by the limit's factor (a pass, unless fail_on_change), a report without a reference, and
 * the server's CPU time per record that the reference's workload figures carry.
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

#define CPU_US 10.0

/* baseline.json with a reference of CPU_US, its latencies times `scale`. */
static xtio_compare_report *scaled(double scale)
{
    json_t *root = fixture_json("baseline.json");
    scale_latencies(root, scale);
    set_reference(root, 30.0, 40.0, CPU_US);
    return load_json(root);
}

/* The comparison of two reports (freed here) under --preset NAME. */
static struct run compare_preset(xtio_compare_report *baseline, xtio_compare_report *current,
                                 const char *name, bool fail_on_change)
{
    struct xtio_compare_threshold thresholds[XTIO_COMPARE_PRESET_MAX];
    size_t count = 0;
    struct run run;
    if (xtio_compare_preset(name, thresholds, XTIO_COMPARE_PRESET_MAX, &count, &run.error) != 0)
        fail_msg("--preset %s refused: %s", name, run.error.message);
    const xtio_compare_report *baselines[] = {baseline}, *currents[] = {current};
    const struct xtio_compare_inputs inputs = {.baselines = baselines,
                                               .baseline_count = 1,
                                               .currents = currents,
                                               .current_count = 1,
                                               .thresholds = thresholds,
                                               .threshold_count = count,
                                               .fail_on_change = fail_on_change};
    run.status = xtio_compare_run_inputs(&inputs, &run.result, &run.error);
    xtio_compare_report_free(baseline);
    xtio_compare_report_free(current);
    return run;
}

/* exit_code: the one expected, or -1 for any. */
static struct run compared(double baseline_scale, double current_scale, bool fail_on_change,
                           int exit_code)
{
    struct run run =
        compare_preset(scaled(baseline_scale), scaled(current_scale), "handoffs", fail_on_change);
    if (run.status != 0)
        fail_msg("the comparison failed: %s", run.error.message);
    if (exit_code >= 0)
        assert_int_equal(run.result.exit_code, exit_code);
    return run;
}

#define P50_QW  "async.queue_wait_us.p50/reference.cpu_us.p50"
#define P50_E2E "async.end_to_end_us.p50/reference.cpu_us.p50"
#define P99_E2E "async.end_to_end_us.p99/reference.cpu_us.p50"

/* ---- The set ------------------------------------------------------------------------------- */

static void the_preset_is_queue_wait_and_end_to_end_p50_and_p99_over_cpu(void **state)
{
    (void)state;
    struct xtio_compare_threshold thresholds[XTIO_COMPARE_PRESET_MAX];
    struct xtio_compare_error error;
    size_t count = 0;
    assert_int_equal(
        xtio_compare_preset("handoffs", thresholds, XTIO_COMPARE_PRESET_MAX, &count, &error), 0);
    static const struct {
        const char *name;
        double limit;
    } want[] = {
        {"*.queue_wait_us.p50/reference.cpu_us.p50", 700},
        {"*.queue_wait_us.p99/reference.cpu_us.p50", 3000},
        {"*.end_to_end_us.p50/reference.cpu_us.p50", 700},
        {"*.end_to_end_us.p99/reference.cpu_us.p50", 3000},
        {"*.spool_delay_us.p50/reference.cpu_us.p50", 700},
        {"*.spool_delay_us.p99/reference.cpu_us.p50", 3000},
        {"inline.server_cpu_ns_per_record/reference.cpu_us.p50",
         XTIO_COMPARE_PRESET_LIMIT_CPU_INLINE},
        {"sync.server_cpu_ns_per_record/reference.cpu_us.p50", XTIO_COMPARE_PRESET_LIMIT_CPU},
        {"async.server_cpu_ns_per_record/reference.cpu_us.p50", XTIO_COMPARE_PRESET_LIMIT_CPU},
        {"batch.server_cpu_ns_per_record/reference.cpu_us.p50", XTIO_COMPARE_PRESET_LIMIT_CPU},
        {"direct.server_cpu_ns_per_record/reference.cpu_us.p50", XTIO_COMPARE_PRESET_LIMIT_CPU},
        {"sync.loop_cpu_ns_per_record/sync.server_cpu_ns_per_record",
         XTIO_COMPARE_PRESET_LIMIT_LOOP_SHARE},
        {"async.loop_cpu_ns_per_record/async.server_cpu_ns_per_record",
         XTIO_COMPARE_PRESET_LIMIT_LOOP_SHARE},
        {"batch.loop_cpu_ns_per_record/batch.server_cpu_ns_per_record",
         XTIO_COMPARE_PRESET_LIMIT_LOOP_SHARE},
        {"direct.loop_cpu_ns_per_record/direct.server_cpu_ns_per_record",
         XTIO_COMPARE_PRESET_LIMIT_LOOP_SHARE_DIRECT},
        {"async.loop_write_us.p50/reference.cpu_us.p50", XTIO_COMPARE_PRESET_LIMIT_LOOP_WRITE},
        {"batch.loop_write_us.p50/reference.cpu_us.p50",
         XTIO_COMPARE_PRESET_LIMIT_LOOP_WRITE_BATCH},
    };
    assert_int_equal(count, 17);
    for (size_t i = 0; i < count; i++) {
        assert_string_equal(thresholds[i].name, want[i].name);
        assert_true(thresholds[i].limit_pct == want[i].limit);
        assert_true(thresholds[i].preset);
    }
    assert_int_equal(
        xtio_compare_preset("none", thresholds, XTIO_COMPARE_PRESET_MAX, &count, &error), 0);
    assert_int_equal(count, 0);
    assert_int_equal(
        xtio_compare_preset("fast", thresholds, XTIO_COMPARE_PRESET_MAX, &count, &error), -EINVAL);
    assert_contains(error.message, "unknown --preset 'fast': use handoffs");
    assert_contains(error.message, "or none");
}

/* baseline.json: inline (end to end only), async and direct (queue wait and end to end). */
static void the_preset_covers_every_mode_and_skips_what_a_mode_lacks(void **state)
{
    (void)state;
    struct run run = compared(1, 1, false, 0);
    assert_int_equal(run.result.thresholds, 10);
    static const char *const modes[] = {"async", "direct"};
    for (size_t m = 0; m < 2; m++) {
        for (size_t k = 0; k < 4; k++) {
            char metric[XTIO_COMPARE_METRIC_MAX];
            snprintf(metric, sizeof(metric), "%s.%s.%s/reference.cpu_us.p50", modes[m],
                     k < 2 ? "queue_wait_us" : "end_to_end_us", k % 2 ? "p99" : "p50");
            assert_true(row(&run, metric)->thresholded);
            assert_true(row(&run, metric)->limit_pct == (k % 2 ? 3000 : 700));
        }
    }
    assert_true(row(&run, "inline.end_to_end_us.p50/reference.cpu_us.p50")->thresholded);
    assert_true(row(&run, "inline.end_to_end_us.p99/reference.cpu_us.p50")->thresholded);
    /* Inline has no queue, and only batch spools: no row, rather than a skipped check in every
     * report. */
    assert_false(has_row(&run, "inline.queue_wait_us.p50/reference.cpu_us.p50"));
    assert_false(has_row(&run, "inline.queue_wait_us.p99/reference.cpu_us.p50"));
    assert_false(has_row(&run, "async.spool_delay_us.p50/reference.cpu_us.p50"));
    /* No workload figures on either side: no CPU row either. */
    assert_false(has_row(&run, "async.server_cpu_ns_per_record/reference.cpu_us.p50"));
    assert_false(has_row(&run, "async.server_cpu_ns_per_record"));
    assert_false(has_row(&run, "async.loop_cpu_ns_per_record/async.server_cpu_ns_per_record"));
    xtio_compare_result_fini(&run.result);
}

/* ---- The reference ------------------------------------------------------------------------- */

/* A machine twice as slow: the latencies and the reference double, the ratios hold. */
static void a_latency_is_divided_by_its_reports_reference(void **state)
{
    (void)state;
    json_t *root = fixture_json("baseline.json");
    scale_latencies(root, 2);
    set_reference(root, 30.0, 40.0, 2 * CPU_US);
    struct run run = compare_preset(scaled(1), load_json(root), "handoffs", false);
    assert_int_equal(run.status, 0);
    assert_int_equal(run.result.exit_code, 0);
    const struct xtio_compare_row *r = row(&run, P50_E2E);
    assert_true(r->baseline.number == 20.0 / CPU_US);
    assert_true(r->current.number == 20.0 / CPU_US);
    assert_true(r->delta_pct == 0);
    assert_int_equal(r->verdict, XTIO_COMPARE_WITHIN);
    /* The default rows stay raw: they show the doubling. */
    assert_true(row(&run, "async.end_to_end_us.p50")->current.number == 40.0);
    xtio_compare_result_fini(&run.result);
}

/* reference.TIMING.STAT names each of the three timings; alone, it is the whole run's. */
static void reference_terms_name_each_timing(void **state)
{
    (void)state;
    static const char *const specs[] = {
        "reference.wakeup_us.p99=0",
        "reference.loopback_us.p50=0",
        "reference.cpu_us.max=0",
        "async.end_to_end_us.p99/reference.loopback_us.p50=0",
    };
    struct xtio_compare_threshold thresholds[4], refused;
    struct xtio_compare_error error;
    assert_int_equal(xtio_compare_threshold_parse("reference.cpu_us=0", &refused, &error), -EINVAL);
    assert_int_equal(xtio_compare_threshold_parse("reference.idle_us.p50=0", &refused, &error),
                     -EINVAL);
    assert_contains(error.message, "TIMING: wakeup_us loopback_us cpu_us");
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(xtio_compare_threshold_parse(specs[i], &thresholds[i], &error), 0);

    xtio_compare_report *b = scaled(1), *c = scaled(1);
    struct xtio_compare_result result;
    assert_int_equal(xtio_compare_run(b, c, thresholds, 4, NULL, 0, &result, &error), 0);
    assert_string_equal(result.rows[0].metric, "reference.wakeup_us.p99");
    assert_true(result.rows[0].current.number == 30.0);
    assert_true(result.rows[1].current.number == 40.0);
    assert_true(result.rows[2].current.number == CPU_US);
    assert_string_equal(result.rows[3].metric, "async.end_to_end_us.p99/reference.loopback_us.p50");
    assert_true(result.rows[3].current.number == 100.0 / 40.0);
    xtio_compare_result_fini(&result);
    xtio_compare_report_free(b);
    xtio_compare_report_free(c);
}

/* Under the preset, the reports must carry a reference: a usage error saying how to record one. */
static void a_report_without_a_reference_is_refused_with_the_recipe(void **state)
{
    (void)state;
    struct run run = compare_preset(scaled(1), load("baseline.json"), "handoffs", false);
    assert_int_equal(run.status, -EINVAL);
    assert_contains(run.error.message, "needs a reference, and the current report (");
    assert_contains(run.error.message, "baseline.json) has none");
    assert_contains(run.error.message, "xtio-reference -o ref.json -- WORKLOAD");
    assert_contains(run.error.message, "xtio-analyze --format json --reference ref.json");
    assert_contains(run.error.message, "--preset none");

    run = compare_preset(load("baseline.json"), scaled(1), "handoffs", false);
    assert_int_equal(run.status, -EINVAL);
    assert_contains(run.error.message, "the baseline (");

    /* --preset none: findings only, no reference needed. */
    run = compare_preset(load("baseline.json"), load("baseline.json"), "none", false);
    assert_int_equal(run.status, 0);
    assert_int_equal(run.result.thresholds, 0);
    xtio_compare_result_fini(&run.result);
}

/* ---- The server's CPU time per record ------------------------------------------------------ */

#define CPU_ROW   "async.server_cpu_ns_per_record/reference.cpu_us.p50"
#define SHARE_ROW "async.loop_cpu_ns_per_record/async.server_cpu_ns_per_record"

/* workload_json(1, 1, 1) with `ns` more per async record on its event loop: its loop's figures
 * and its server's. */
static json_t *costlier_async_loop(double ns)
{
    json_t *root = workload_json(1, 1, 1);
    json_t *async = json_object_get(
        json_object_get(json_object_get(json_object_get(root, "reference"), "workload"), "modes"),
        "async");
    static const char *const figures[] = {"server_cpu_ns_per_record", "loop_cpu_ns_per_record"};
    for (size_t f = 0; f < 2; f++) {
        json_t *value = json_object_get(async, figures[f]);
        json_real_set(value, json_number_value(value) + ns);
    }
    return root;
}

/* A cost on the loop moves its share of the server's CPU; every thread costlier (contention)
 * does not. */
static void the_loops_share_catches_a_costlier_loop(void **state)
{
    (void)state;
    /* The ns on the loop that move async's share, 300/450, by the limit and 2 points less or
     * more: (300 + x) / (450 + x) = t. */
    double t = 300.0 / 450.0 * (1 + (XTIO_COMPARE_PRESET_LIMIT_LOOP_SHARE - 2) / 100);
    struct run run = compare_preset(load_json(workload_json(1, 1, 1)),
                                    load_json(costlier_async_loop((450 * t - 300) / (1 - t))),
                                    "handoffs", false);
    assert_int_equal(run.status, 0);
    assert_int_equal(row(&run, SHARE_ROW)->verdict, XTIO_COMPARE_WITHIN);
    xtio_compare_result_fini(&run.result);
    t = 300.0 / 450.0 * (1 + (XTIO_COMPARE_PRESET_LIMIT_LOOP_SHARE + 2) / 100);
    run = compare_preset(load_json(workload_json(1, 1, 1)),
                         load_json(costlier_async_loop((450 * t - 300) / (1 - t))), "handoffs",
                         false);
    assert_int_equal(run.status, 0);
    assert_int_equal(run.result.exit_code, 1);
    assert_int_equal(row(&run, SHARE_ROW)->verdict, XTIO_COMPARE_CROSSED);
    assert_int_equal(
        row(&run, "direct.loop_cpu_ns_per_record/direct.server_cpu_ns_per_record")->verdict,
        XTIO_COMPARE_WITHIN);
    xtio_compare_result_fini(&run.result);
    /* Every thread of every server costlier beyond the CPU limits: the CPU rows fail, the
     * shares hold. */
    double costlier = 1.1 + XTIO_COMPARE_PRESET_LIMIT_CPU / 100;
    run = compare_preset(load_json(workload_json(1, 1, 1)),
                         load_json(workload_json(costlier, 1, 1)), "handoffs", false);
    assert_int_equal(run.status, 0);
    assert_int_equal(row(&run, SHARE_ROW)->verdict, XTIO_COMPARE_WITHIN);
    assert_true(fabs(row(&run, SHARE_ROW)->delta_pct) < 1e-9);
    assert_int_equal(row(&run, CPU_ROW)->verdict, XTIO_COMPARE_CROSSED);
    assert_int_equal(row(&run, "inline.server_cpu_ns_per_record/reference.cpu_us.p50")->verdict,
                     XTIO_COMPARE_CROSSED);
    xtio_compare_result_fini(&run.result);
}

/* Every mode of the workload's figures gets a row, over cpu_us; a mode without figures none. */
static void the_preset_gates_every_modes_cpu_per_record(void **state)
{
    (void)state;
    struct run run = compare_preset(load_json(workload_json(1, 1, 1)),
                                    load_json(workload_json(1, 1, 1)), "handoffs", false);
    assert_int_equal(run.status, 0);
    assert_int_equal(run.result.exit_code, 0);
    /* 10 latency rows, 3 of CPU per record, 2 of the loops' share (async and direct; none for
     * inline, nor for sync, which the reports do not have). */
    assert_int_equal(run.result.thresholds, 15);
    assert_true(row(&run, SHARE_ROW)->limit_pct == XTIO_COMPARE_PRESET_LIMIT_LOOP_SHARE);
    assert_true(row(&run, SHARE_ROW)->current.number == 300.0 / 450.0);
    assert_true(
        row(&run, "direct.loop_cpu_ns_per_record/direct.server_cpu_ns_per_record")->limit_pct ==
        XTIO_COMPARE_PRESET_LIMIT_LOOP_SHARE_DIRECT);
    assert_false(has_row(&run, "sync.loop_cpu_ns_per_record/sync.server_cpu_ns_per_record"));
    static const char *const modes[] = {"inline", "async", "direct"};
    static const double ns[] = {300, 450, 700};
    for (size_t m = 0; m < 3; m++) {
        char metric[XTIO_COMPARE_METRIC_MAX];
        snprintf(metric, sizeof(metric), "%s.server_cpu_ns_per_record/reference.cpu_us.p50",
                 modes[m]);
        const struct xtio_compare_row *r = row(&run, metric);
        assert_true(r->thresholded);
        assert_false(r->either_direction);
        assert_true(r->limit_pct ==
                    (m ? XTIO_COMPARE_PRESET_LIMIT_CPU : XTIO_COMPARE_PRESET_LIMIT_CPU_INLINE));
        assert_true(fabs(r->current.number - ns[m] / CPU_US) < 1e-9);
        /* And the raw figure, as a row of the default set. */
        snprintf(metric, sizeof(metric), "%s.server_cpu_ns_per_record", modes[m]);
        assert_false(row(&run, metric)->thresholded);
        assert_true(row(&run, metric)->current.number == ns[m]);
    }
    assert_false(has_row(&run, "sync.server_cpu_ns_per_record/reference.cpu_us.p50"));
    xtio_compare_result_fini(&run.result);
}

/* Async's CPU per record up by more than the limit fails that row alone; less holds. */
static void a_costlier_record_fails_its_modes_cpu_row(void **state)
{
    (void)state;
    double over = 1 + XTIO_COMPARE_PRESET_LIMIT_CPU / 100 + 0.05;
    struct run run = compare_preset(load_json(workload_json(1, 1, 1)),
                                    load_json(workload_json(1, over, 1)), "handoffs", false);
    assert_int_equal(run.status, 0);
    assert_int_equal(run.result.exit_code, 1);
    assert_int_equal(row(&run, CPU_ROW)->verdict, XTIO_COMPARE_CROSSED);
    assert_int_equal(run.result.thresholds_failed, 1);

    static const char *const baselines[] = {"b.json"}, *currents[] = {"c.json"};
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    assert_int_equal(xtio_compare_write_junit(&run.result, baselines, currents, out), 0);
    fclose(out);
    assert_contains(text, "name=\"" CPU_ROW " within +");
    assert_contains(text, "<failure message=\"" CPU_ROW ": baseline 45, current ");
    free(text);
    xtio_compare_result_fini(&run.result);

    double under = 1 + XTIO_COMPARE_PRESET_LIMIT_CPU / 100 - 0.05;
    run = compare_preset(load_json(workload_json(1, 1, 1)), load_json(workload_json(1, under, 1)),
                         "handoffs", false);
    assert_int_equal(run.status, 0);
    assert_int_equal(run.result.exit_code, 0);
    assert_int_equal(row(&run, CPU_ROW)->verdict, XTIO_COMPARE_WITHIN);
    xtio_compare_result_fini(&run.result);
}

/* A machine twice as slow doubles the CPU time per record and the reference: the ratio holds. */
static void cpu_per_record_is_divided_by_the_reference(void **state)
{
    (void)state;
    struct run run = compare_preset(load_json(workload_json(1, 1, 1)),
                                    load_json(workload_json(2, 1, 2)), "handoffs", false);
    assert_int_equal(run.status, 0);
    assert_true(row(&run, CPU_ROW)->delta_pct == 0);
    assert_int_equal(row(&run, CPU_ROW)->verdict, XTIO_COMPARE_WITHIN);
    assert_true(row(&run, "async.server_cpu_ns_per_record")->current.number == 900);
    xtio_compare_result_fini(&run.result);
}

/* A current report whose reference lost the workload's figures fails the rows the baseline has;
 * a baseline without them lets the current ones pass ("no baseline value"). */
static void workload_figures_lost_fail_and_new_ones_pass(void **state)
{
    (void)state;
    struct run run =
        compare_preset(load_json(workload_json(1, 1, 1)), scaled(1), "handoffs", false);
    assert_int_equal(run.status, 0);
    assert_int_equal(run.result.exit_code, 1);
    assert_int_equal(row(&run, CPU_ROW)->verdict, XTIO_COMPARE_LOST);
    assert_int_equal(run.result.thresholds_failed, 5);
    xtio_compare_result_fini(&run.result);

    run = compare_preset(scaled(1), load_json(workload_json(1, 1, 1)), "handoffs", false);
    assert_int_equal(run.status, 0);
    assert_int_equal(run.result.exit_code, 0);
    assert_int_equal(row(&run, CPU_ROW)->verdict, XTIO_COMPARE_NO_BASELINE);
    xtio_compare_result_fini(&run.result);
}

/* ---- Limits and verdicts ------------------------------------------------------------------- */

/* p50: +700% holds, more fails; p99: +3000% holds, more fails. */
static void the_limits_are_700_percent_at_p50_and_3000_at_p99(void **state)
{
    (void)state;
    /* Exactly +700% (20 us to 160 us); other rows land on either side of it by rounding. */
    struct run run = compared(1, 8, false, -1);
    assert_true(row(&run, P50_E2E)->delta_pct == 700);
    assert_int_equal(row(&run, P50_E2E)->verdict, XTIO_COMPARE_WITHIN);
    xtio_compare_result_fini(&run.result);
    run = compared(1, 7.99, false, 0);
    xtio_compare_result_fini(&run.result);

    run = compared(1, 8.1, false, 1);
    assert_int_equal(row(&run, P50_QW)->verdict, XTIO_COMPARE_CROSSED);
    assert_int_equal(row(&run, P50_E2E)->verdict, XTIO_COMPARE_CROSSED);
    assert_int_equal(row(&run, P99_E2E)->verdict, XTIO_COMPARE_WITHIN);
    /* Inline, async and direct, p50 of each latency they have. */
    assert_int_equal(run.result.thresholds_failed, 5);
    xtio_compare_result_fini(&run.result);

    run = compared(1, 31, false, 1);
    assert_true(row(&run, P99_E2E)->delta_pct == 3000);
    assert_int_equal(row(&run, P99_E2E)->verdict, XTIO_COMPARE_WITHIN);
    xtio_compare_result_fini(&run.result);
    run = compared(1, 31.5, false, 1);
    assert_int_equal(row(&run, P99_E2E)->verdict, XTIO_COMPARE_CROSSED);
    assert_int_equal(run.result.thresholds_failed, 10);
    xtio_compare_result_fini(&run.result);
}

/* Better by the limit's factor (current < baseline / (1 + limit)): "changed", a pass. */
static void a_change_passes_and_says_so(void **state)
{
    (void)state;
    /* 10x faster: beyond 1/8 at p50, within 1/31 at p99. */
    struct run run = compared(10, 1, false, 0);
    assert_int_equal(row(&run, P50_E2E)->verdict, XTIO_COMPARE_CHANGED);
    assert_int_equal(row(&run, P99_E2E)->verdict, XTIO_COMPARE_WITHIN);
    assert_int_equal(run.result.thresholds_changed, 5);
    assert_int_equal(run.result.thresholds_failed, 0);
    assert_false(xtio_compare_verdict_fails(XTIO_COMPARE_CHANGED));

    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    assert_int_equal(xtio_compare_write_table(&run.result, false, out), 0);
    fclose(out);
    assert_contains(text, "changed: faster by 90.0%");
    assert_contains(text, "5 of 10 thresholds changed: better by more than the limit allows");
    assert_contains(text, "PASS: 0 of 10 thresholds crossed");
    free(text);

    /* In JUnit: a pass whose system-out says what changed. */
    static const char *const baselines[] = {"b.json"}, *currents[] = {"c.json"};
    out = open_memstream(&text, &size);
    assert_int_equal(xtio_compare_write_junit(&run.result, baselines, currents, out), 0);
    fclose(out);
    assert_contains(text, "failures=\"0\"");
    assert_contains(text, "name=\"" P50_E2E " within +700%\">\n    <system-out>" P50_E2E
                          ": baseline 20, current 2, delta -90.0%: changed: faster by 90.0% "
                          "beyond limit +700%; passes, refresh the baseline if the change is "
                          "meant</system-out>\n  </testcase>");
    assert_contains(text, "name=\"" P99_E2E " within +3000%\"/>");
    free(text);
    xtio_compare_result_fini(&run.result);

    /* 7.9x faster: within the factor at p50. */
    run = compared(7.9, 1, false, 0);
    assert_int_equal(row(&run, P50_E2E)->verdict, XTIO_COMPARE_WITHIN);
    assert_int_equal(run.result.thresholds_changed, 0);
    xtio_compare_result_fini(&run.result);
}

static void fail_on_change_makes_a_change_fail(void **state)
{
    (void)state;
    struct run run = compared(10, 1, true, 1);
    assert_int_equal(row(&run, P50_E2E)->verdict, XTIO_COMPARE_CHANGED_FAILS);
    assert_int_equal(row(&run, P99_E2E)->verdict, XTIO_COMPARE_WITHIN);
    assert_int_equal(run.result.thresholds_failed, 5);
    assert_int_equal(run.result.thresholds_changed, 5);

    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    static const char *const baselines[] = {"b.json"}, *currents[] = {"c.json"};
    assert_int_equal(xtio_compare_write_junit(&run.result, baselines, currents, out), 0);
    fclose(out);
    assert_contains(text, "failures=\"5\"");
    assert_contains(text, "name=\"" P50_E2E " within +700%\">\n    <failure message=\"" P50_E2E
                          ": baseline 20, current 2, delta -90.0%: FAIL: changed: faster by "
                          "90.0% beyond limit +700%\"/>");
    free(text);
    xtio_compare_result_fini(&run.result);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_preset_is_queue_wait_and_end_to_end_p50_and_p99_over_cpu),
        cmocka_unit_test(the_preset_covers_every_mode_and_skips_what_a_mode_lacks),
        cmocka_unit_test(a_latency_is_divided_by_its_reports_reference),
        cmocka_unit_test(reference_terms_name_each_timing),
        cmocka_unit_test(a_report_without_a_reference_is_refused_with_the_recipe),
        cmocka_unit_test(the_preset_gates_every_modes_cpu_per_record),
        cmocka_unit_test(a_costlier_record_fails_its_modes_cpu_row),
        cmocka_unit_test(cpu_per_record_is_divided_by_the_reference),
        cmocka_unit_test(workload_figures_lost_fail_and_new_ones_pass),
        cmocka_unit_test(the_loops_share_catches_a_costlier_loop),
        cmocka_unit_test(the_limits_are_700_percent_at_p50_and_3000_at_p99),
        cmocka_unit_test(a_change_passes_and_says_so),
        cmocka_unit_test(fail_on_change_makes_a_change_fail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
