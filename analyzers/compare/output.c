/* xtio-compare's output: the delta table for people, JUnit XML for CI systems. */
#include "compare.h"
#include "xtio_markup.h"

#include <errno.h>
#include <math.h>
#include <string.h>

/* Wide enough for any double printed below, and for "absent". */
#define CELL_MAX 48

/* Counts print as integers, the rest (microseconds, ratios) with 3 decimals, or 3 significant
 * digits below 1 (a loop's 0.07 us per handoff over a 27 us reference is 0.00270). */
static void format_value(const struct xtio_compare_value *value, char *buf, size_t size)
{
    if (value->presence == XTIO_COMPARE_ABSENT)
        snprintf(buf, size, "absent");
    else if (value->presence == XTIO_COMPARE_NULL)
        snprintf(buf, size, "null");
    else if (value->number == floor(value->number) && fabs(value->number) < 1e15)
        snprintf(buf, size, "%.0f", value->number);
    else if (value->number != 0 && fabs(value->number) < 1)
        snprintf(buf, size, "%#.3g", value->number);
    else
        snprintf(buf, size, "%.3f", value->number);
}

static void format_delta(const struct xtio_compare_row *row, char *buf, size_t size)
{
    if (!row->has_delta)
        snprintf(buf, size, "-");
    else if (isinf(row->delta_pct))
        snprintf(buf, size, "%cinf%%", row->delta_pct > 0 ? '+' : '-');
    else
        snprintf(buf, size, "%+.1f%%", row->delta_pct);
}

/* The largest change allowed: +25% (larger is worse) or +/-25% (a change either way is). */
static void format_limit(const struct xtio_compare_row *row, char *buf, size_t size)
{
    if (!row->thresholded)
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%s%g%%",
                 row->either_direction ? "+/-"
                 : row->limit_pct >= 0 ? "+"
                                       : "",
                 row->limit_pct);
}

static bool changed(const struct xtio_compare_row *row)
{
    return row->verdict == XTIO_COMPARE_CHANGED || row->verdict == XTIO_COMPARE_CHANGED_FAILS;
}

/* The verdict, and for a change how much better: "changed: faster by 62.0%" (a latency or a
 * latency over the reference), "changed: lower by ..." otherwise. */
static void format_verdict(const struct xtio_compare_row *row, char *buf, size_t size)
{
    if (changed(row))
        snprintf(buf, size, "%s: %s by %.1f%%", xtio_compare_verdict_name(row->verdict),
                 strstr(row->metric, "_us.") ? "faster" : "lower", -row->delta_pct);
    else
        snprintf(buf, size, "%s", xtio_compare_verdict_name(row->verdict));
}

static void print_row(const struct xtio_compare_row *row, int width, FILE *out)
{
    char baseline[CELL_MAX], current[CELL_MAX], delta[CELL_MAX], limit[CELL_MAX];
    char verdict[CELL_MAX];
    format_value(&row->baseline, baseline, sizeof(baseline));
    format_value(&row->current, current, sizeof(current));
    format_delta(row, delta, sizeof(delta));
    format_limit(row, limit, sizeof(limit));
    format_verdict(row, verdict, sizeof(verdict));
    fprintf(out, "%-*s %14s %14s %9s %9s  %s\n", width, row->metric, baseline, current, delta,
            limit, verdict);
}

int xtio_compare_write_table(const struct xtio_compare_result *result, bool quiet, FILE *out)
{
    int width = (int)strlen("metric");
    for (size_t i = 0; i < result->row_count; i++) {
        int length = (int)strlen(result->rows[i].metric);
        width = length > width ? length : width;
    }
    if (!quiet && result->row_count)
        fprintf(out, "%-*s %14s %14s %9s %9s  %s\n", width, "metric", "baseline", "current",
                "delta", "limit", "verdict");
    for (size_t i = 0; i < result->row_count; i++) {
        if (!quiet || xtio_compare_verdict_fails(result->rows[i].verdict))
            print_row(&result->rows[i], width, out);
    }

    bool heading = false;
    for (size_t i = 0; i < result->finding_count; i++) {
        const struct xtio_compare_finding *f = &result->findings[i];
        /* Kinds neither report has are noise; quiet shows only the failures. */
        if (quiet ? !xtio_compare_verdict_fails(f->verdict) : f->verdict == XTIO_COMPARE_CLEAN)
            continue;
        if (!heading && !quiet)
            fprintf(out, "\n%-30s %14s %14s  %s\n", "findings (by primary_mode)", "baseline",
                    "current", "verdict");
        heading = true;
        char label[64];
        snprintf(label, sizeof(label), "%s %s", f->group, f->kind);
        fprintf(out, "%-30s %14llu %14llu  %s\n", label, (unsigned long long)f->baseline,
                (unsigned long long)f->current, xtio_compare_verdict_name(f->verdict));
    }
    if (!heading && !quiet)
        fprintf(out,
                "\nfindings: none, in the current report or in the baseline's processes of the "
                "same primary_mode\n");

    if (!quiet && (result->row_count || heading))
        fputc('\n', out);
    if (result->baseline_reports > 1 || result->current_reports > 1)
        fprintf(out,
                "xtio-compare: each value is the median over %zu baseline and %zu current "
                "reports\n",
                result->baseline_reports, result->current_reports);
    if (result->thresholds_changed)
        fprintf(out,
                "xtio-compare: %zu of %zu thresholds changed: better by more than the limit "
                "allows for worse; the behaviour changed, refresh the baseline if it is meant\n",
                result->thresholds_changed, result->thresholds);
    fprintf(out,
            "xtio-compare: %s: %zu of %zu thresholds crossed, new finding kinds: %zu, expected "
            "ones missing: %zu; exit status %d\n",
            result->exit_code ? "FAIL" : "PASS", result->thresholds_failed, result->thresholds,
            result->findings_new, result->findings_missing, result->exit_code);
    return fflush(out) == 0 && !ferror(out) ? 0 : -EIO;
}

/* ---- JUnit ----------------------------------------------------------------------------------- */

static void put_testcase(const char *classname, const char *name, FILE *out)
{
    fputs("  <testcase classname=\"", out);
    xtio_markup_put_escaped(out, classname);
    fputs("\" name=\"", out);
    xtio_markup_put_escaped(out, name);
    fputs("\"", out);
}

/* <failure> or <skipped> with its message, or for a pass nothing, or <system-out> with the
 * message when there is one (a change that passes). */
static void put_outcome(const char *element, const char *message, FILE *out)
{
    if (!element && !message) {
        fputs("/>\n", out);
        return;
    }
    if (element) {
        fprintf(out, ">\n    <%s message=\"", element);
        xtio_markup_put_escaped(out, message);
        fputs("\"/>\n  </testcase>\n", out);
        return;
    }
    fputs(">\n    <system-out>", out);
    xtio_markup_put_escaped(out, message);
    fputs("</system-out>\n  </testcase>\n", out);
}

static void put_threshold(const struct xtio_compare_row *row, FILE *out)
{
    char baseline[CELL_MAX], current[CELL_MAX], delta[CELL_MAX], limit[CELL_MAX];
    char name[XTIO_COMPARE_METRIC_MAX + CELL_MAX + 8];
    char message[XTIO_COMPARE_METRIC_MAX + 5 * CELL_MAX + 128], verdict[CELL_MAX];
    format_value(&row->baseline, baseline, sizeof(baseline));
    format_value(&row->current, current, sizeof(current));
    format_delta(row, delta, sizeof(delta));
    format_limit(row, limit, sizeof(limit));
    snprintf(name, sizeof(name), "%s within %s", row->metric, limit);
    const char *element = NULL, *text = message;
    format_verdict(row, verdict, sizeof(verdict));
    switch (row->verdict) {
    case XTIO_COMPARE_CHANGED:
        snprintf(message, sizeof(message),
                 "%s: baseline %s, current %s, delta %s: %s beyond limit %s; passes, refresh "
                 "the baseline if the change is meant",
                 row->metric, baseline, current, delta, verdict, limit);
        break;
    case XTIO_COMPARE_CHANGED_FAILS:
        element = "failure";
        snprintf(message, sizeof(message),
                 "%s: baseline %s, current %s, delta %s: %s beyond limit %s", row->metric, baseline,
                 current, delta, verdict, limit);
        break;
    case XTIO_COMPARE_CROSSED:
        element = "failure";
        snprintf(message, sizeof(message), "%s: baseline %s, current %s, delta %s > limit %s",
                 row->metric, baseline, current, delta, limit);
        break;
    case XTIO_COMPARE_LOST:
        element = "failure";
        snprintf(message, sizeof(message),
                 "%s: baseline %s, current %s (limit %s): the current run no longer measures it",
                 row->metric, baseline, current, limit);
        break;
    case XTIO_COMPARE_NO_BASELINE:
        element = "skipped";
        snprintf(message, sizeof(message),
                 "%s: baseline %s, current %s (limit %s): no baseline value; refresh the baseline",
                 row->metric, baseline, current, limit);
        break;
    case XTIO_COMPARE_NO_DATA:
        element = "skipped";
        snprintf(message, sizeof(message), "%s: baseline %s, current %s: no values to compare",
                 row->metric, baseline, current);
        break;
    default:
        text = NULL;
        break;
    }
    put_testcase("xtio-compare.thresholds", name, out);
    put_outcome(element, text, out);
}

static void put_finding(const struct xtio_compare_finding *f, FILE *out)
{
    char name[64], message[256];
    snprintf(name, sizeof(name), "%s %s", f->group, f->kind);
    if (f->verdict == XTIO_COMPARE_MISSING)
        snprintf(message, sizeof(message),
                 "%s: expected in the processes of primary_mode %s, none found: baseline %llu, "
                 "current 0",
                 f->kind, f->group, (unsigned long long)f->baseline);
    else
        snprintf(message, sizeof(message),
                 "%s: new finding in the processes of primary_mode %s: baseline %llu, current "
                 "%llu, limit 0 new",
                 f->kind, f->group, (unsigned long long)f->baseline,
                 (unsigned long long)f->current);
    put_testcase("xtio-compare.findings", name, out);
    bool fails = xtio_compare_verdict_fails(f->verdict);
    put_outcome(fails ? "failure" : NULL, fails ? message : NULL, out);
}

static void put_properties(const char *name, const char *const *paths, size_t count, FILE *out)
{
    for (size_t i = 0; i < count; i++) {
        fprintf(out, "    <property name=\"%s\" value=\"", name);
        xtio_markup_put_escaped(out, paths[i]);
        fputs("\"/>\n", out);
    }
}

int xtio_compare_write_junit(const struct xtio_compare_result *result,
                             const char *const *baseline_paths, const char *const *current_paths,
                             FILE *out)
{
    size_t skipped = 0;
    for (size_t i = 0; i < result->row_count; i++) {
        enum xtio_compare_verdict verdict = result->rows[i].verdict;
        skipped += verdict == XTIO_COMPARE_NO_BASELINE || verdict == XTIO_COMPARE_NO_DATA;
    }
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
    fprintf(out,
            "<testsuite name=\"xtio-compare\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
            "skipped=\"%zu\">\n",
            result->thresholds + result->finding_count,
            result->thresholds_failed + result->findings_new + result->findings_missing, skipped);
    fputs("  <properties>\n", out);
    put_properties("baseline", baseline_paths, result->baseline_reports, out);
    put_properties("current", current_paths, result->current_reports, out);
    fputs("  </properties>\n", out);
    for (size_t i = 0; i < result->row_count; i++) {
        if (result->rows[i].thresholded)
            put_threshold(&result->rows[i], out);
    }
    for (size_t i = 0; i < result->finding_count; i++)
        put_finding(&result->findings[i], out);
    fputs("</testsuite>\n", out);
    return fflush(out) == 0 && !ferror(out) ? 0 : -EIO;
}
