/*
 * xtio-compare's core: reads JSON reports of xtio-analyze (format "xtio-analysis", version 1),
 * resolves metric names such as `async.end_to_end_us.p99` against them, checks thresholds and new
 * findings, and writes the verdict as a table and as JUnit XML. Plain C over jansson, without
 * I/O beyond the report files and the FILE it is given, so that tests drive it directly; the CLI
 * (xtio_compare.c) only parses options. The rules are in docs/ci.md and man/xtio-compare.1.
 */
#ifndef XTIO_ANALYZERS_COMPARE_COMPARE_H
#define XTIO_ANALYZERS_COMPARE_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The longest metric name accepted, e.g. `producer_blocked_us.p99_9` twice in a ratio. */
#define XTIO_COMPARE_METRIC_MAX 128
/* Room for an error message: what went wrong, the names involved and what to do. */
#define XTIO_COMPARE_ERROR_MAX  1024

/* Why a function refused its input; message is one or more sentences, without a trailing
 * newline. */
struct xtio_compare_error {
    char message[XTIO_COMPARE_ERROR_MAX];
};

/* ---- Reports ------------------------------------------------------------------------------- */

/* A report checked on load: its format, version, summary.error and the types of the keys read. */
typedef struct xtio_compare_report xtio_compare_report;

/* 0 and *report (owned by the caller), or -EINVAL (not JSON, not an xtio-analysis report of
 * version 1, refused input, wrong types), -ENOENT/-EACCES/... (unreadable) or -ENOMEM, with
 * error->message naming the file and what to do. */
int xtio_compare_report_load(const char *path, xtio_compare_report **report,
                             struct xtio_compare_error *error);
void xtio_compare_report_free(xtio_compare_report *report);

/* ---- Metrics and thresholds ---------------------------------------------------------------- */

/* One side of a metric: MODE.KEY for a count or a figure of the workload, MODE.KEY.STAT for a
 * latency. */
struct xtio_compare_term {
    int mode;      /* 0..4 as xtio_schema_mode_label(); XTIO_COMPARE_ANY_MODE for `*` */
    int key;       /* index into the counts, the latency objects or the workload's figures */
    int stat;      /* index of p50 p90 p99 p99_9 max; -1 for a count or a workload figure */
    bool workload; /* MODE.server_cpu_ns_per_record, MODE.loop_cpu_ns_per_record, ...: the
                      figures of the workload's MODE server that xtio-reference --workload
                      carries, as the report's reference.workload.modes.MODE */
};
#define XTIO_COMPARE_ANY_MODE  (-1)
/* The term `reference.KEY.STAT`: the report's reference, timed by xtio-reference (KEY:
 * wakeup_us, loopback_us, cpu_us), in the same run as the workload: one per run, whatever the
 * other term's mode. */
#define XTIO_COMPARE_REFERENCE (-2)

/* A term, or the ratio of two terms computed within one report. */
struct xtio_compare_metric {
    struct xtio_compare_term terms[2];
    int term_count;
};

/* --max-regress METRIC=PCT: CURRENT may be worse than BASELINE by at most limit_pct percent. */
struct xtio_compare_threshold {
    char name[XTIO_COMPARE_METRIC_MAX]; /* METRIC as given */
    struct xtio_compare_metric metric;
    double limit_pct; /* negative: an improvement of at least that much is required */
    bool preset;      /* from --preset: its rows without values on either side are left out */
};

/* Parses METRIC=PCT. 0, or -EINVAL with error->message giving the syntax and the valid names. */
int xtio_compare_threshold_parse(const char *spec, struct xtio_compare_threshold *threshold,
                                 struct xtio_compare_error *error);

/* --preset NAME: the thresholds of a named set, in threshold[0..*count) (at most capacity).
 * "handoffs": every mode's queue_wait_us, end_to_end_us and spool_delay_us, p50 and p99, and its
 * server_cpu_ns_per_record, each divided by reference.cpu_us.p50, and its
 * loop_cpu_ns_per_record divided by its server_cpu_ns_per_record (limits:
 * XTIO_COMPARE_PRESET_*); "none": no threshold (findings only). 0, or -EINVAL with
 * error->message naming the presets. */
int xtio_compare_preset(const char *name, struct xtio_compare_threshold *thresholds,
                        size_t capacity, size_t *count, struct xtio_compare_error *error);
/* The regression allowed by the preset "handoffs", in percent, against medians of at least 3
 * reports a side (docs/ci.md, "Default limits", says how they were measured). An improvement of
 * the same factor (the ratio below baseline / (1 + limit)) is reported as a change. A busy loop
 * beside the gate moved inline's end to end p50 5x, so only a p50 8x worse fails. */
#define XTIO_COMPARE_PRESET_LIMIT_P50               700.0
/* A p99 is a handful of outliers: medians of clean runs moved by up to 12x, so only a tail far
 * worse than that fails. */
#define XTIO_COMPARE_PRESET_LIMIT_P99               3000.0
/* The server's CPU time per record, over the reference: inline's, without handoffs, holds within
 * 10%; a mode with handoffs spends most of it on wake-ups, whose number and cost follow the
 * machine's load (up to 2.3x on medians of 3 against 5). */
#define XTIO_COMPARE_PRESET_LIMIT_CPU_INLINE        25.0
#define XTIO_COMPARE_PRESET_LIMIT_CPU               150.0
/* The event loops' share of that CPU time (sync, async and batch; direct's apart): load moves
 * both terms alike, a costlier loop only the numerator, so it holds within 16% (direct's 25%). */
#define XTIO_COMPARE_PRESET_LIMIT_LOOP_SHARE        20.0
#define XTIO_COMPARE_PRESET_LIMIT_LOOP_SHARE_DIRECT 40.0
/* The loop's own time per handoff of a drain (loop_write_us p50), over the reference: async's
 * drains are long and hot, so it holds within 16%; batch's, about one chunk a drain, within 58%.
 * Sync's follows how idle the loop was before each drain (7x) and has no row. */
#define XTIO_COMPARE_PRESET_LIMIT_LOOP_WRITE        50.0
#define XTIO_COMPARE_PRESET_LIMIT_LOOP_WRITE_BATCH  200.0
#define XTIO_COMPARE_PRESET_MAX                     24

/* --expect-finding MODE.KIND: CURRENT must have findings of KIND (off_loop_write, ...) in the
 * processes whose primary_mode is MODE. A canary: it fails when the analysis stops flagging what
 * a deliberately broken component does (e.g. direct.off_loop_write). */
struct xtio_compare_expectation {
    int mode; /* 0..4 as xtio_schema_mode_label() */
    int kind; /* enum xtio_finding_kind */
};

/* Parses MODE.KIND. 0, or -EINVAL with error->message giving the syntax and the valid names. */
int xtio_compare_expectation_parse(const char *spec, struct xtio_compare_expectation *expectation,
                                   struct xtio_compare_error *error);

/* ---- The comparison ------------------------------------------------------------------------ */

enum xtio_compare_presence {
    XTIO_COMPARE_VALUE,  /* a number */
    XTIO_COMPARE_NULL,   /* the report has no value: a latency of count 0, a ratio over 0 */
    XTIO_COMPARE_ABSENT, /* no process of the report runs in that mode */
};

struct xtio_compare_value {
    enum xtio_compare_presence presence;
    double number;
};

enum xtio_compare_verdict {
    XTIO_COMPARE_WITHIN,        /* threshold held */
    XTIO_COMPARE_CHANGED,       /* better by more than the limit's factor: passes, but the
                                   behaviour changed (refresh the baseline) */
    XTIO_COMPARE_CHANGED_FAILS, /* the same, with fail_on_change: fails */
    XTIO_COMPARE_CROSSED,       /* threshold crossed: fails */
    XTIO_COMPARE_LOST,          /* the baseline has a value, the current report none: fails */
    XTIO_COMPARE_NO_BASELINE,   /* the current report has a value, the baseline none: passes */
    XTIO_COMPARE_NO_DATA,       /* neither report has a value: passes */
    XTIO_COMPARE_SHOWN,         /* a row of the default set: never fails */
    XTIO_COMPARE_NEW,           /* a finding kind the baseline did not have: fails */
    XTIO_COMPARE_KNOWN,         /* a finding kind the baseline had too: passes */
    XTIO_COMPARE_FIXED,         /* a finding kind only the baseline had: passes */
    XTIO_COMPARE_CLEAN,         /* a finding kind neither report has: passes */
    XTIO_COMPARE_EXPECTED,      /* an expected finding kind CURRENT has: passes */
    XTIO_COMPARE_MISSING,       /* an expected finding kind CURRENT lacks: fails */
};

/* "ok", "FAIL", ... as printed in the table. */
const char *xtio_compare_verdict_name(enum xtio_compare_verdict verdict);
bool xtio_compare_verdict_fails(enum xtio_compare_verdict verdict);

/* One line of the delta table: a thresholded metric, or one of the default set. */
struct xtio_compare_row {
    char metric[XTIO_COMPARE_METRIC_MAX];
    bool thresholded;
    bool either_direction; /* a workload count: a change either way is a regression */
    double limit_pct;
    struct xtio_compare_value baseline, current; /* medians over the reports of each side */
    bool has_delta;                              /* both are numbers */
    double delta_pct;                            /* +inf/-inf from a baseline of 0 */
    enum xtio_compare_verdict verdict;
};

/* One findings check: a finding kind of the processes of one primary mode. */
struct xtio_compare_finding {
    char group[16];   /* the processes' primary_mode, or "none" (no handoffs) */
    const char *kind; /* static: the JSON key, e.g. "off_loop_write" */
    uint64_t baseline, current;
    enum xtio_compare_verdict verdict;
};

struct xtio_compare_result {
    struct xtio_compare_row *rows; /* owned: thresholds first, in the order given */
    size_t row_count;
    struct xtio_compare_finding *findings; /* owned */
    size_t finding_count;
    size_t thresholds, thresholds_failed, thresholds_changed, findings_new, findings_missing;
    size_t baseline_reports, current_reports; /* the medians' sample sizes */
    int exit_code; /* 0 pass, 1 a threshold crossed, a new finding or an expected one missing */
};

/* What to compare: one or more reports a side. With several, each metric is computed in each
 * report (a ratio within its report) and compared as the median over the side's reports that
 * have a value (nearest rank, xtio_hist_rank: the lower middle of an even count); a finding kind
 * counts with its largest count over them. */
struct xtio_compare_inputs {
    const xtio_compare_report *const *baselines; /* weak */
    size_t baseline_count;
    const xtio_compare_report *const *currents; /* weak */
    size_t current_count;
    const struct xtio_compare_threshold *thresholds;
    size_t threshold_count;
    const struct xtio_compare_expectation *expectations;
    size_t expectation_count;
    bool fail_on_change; /* an improvement beyond a limit fails too */
};

/* As xtio_compare_run, over the reports and options of inputs. A metric that needs a reference
 * a report lacks is -EINVAL, with error->message saying how to record one. */
int xtio_compare_run_inputs(const struct xtio_compare_inputs *inputs,
                            struct xtio_compare_result *result, struct xtio_compare_error *error);

/* Compares CURRENT with BASELINE. 0 and *result (free it with xtio_compare_result_fini()), or
 * -EINVAL (a metric in neither report, an ambiguous mode) or -ENOMEM, with error->message. */
int xtio_compare_run(const xtio_compare_report *baseline, const xtio_compare_report *current,
                     const struct xtio_compare_threshold *thresholds, size_t threshold_count,
                     const struct xtio_compare_expectation *expectations, size_t expectation_count,
                     struct xtio_compare_result *result, struct xtio_compare_error *error);
void xtio_compare_result_fini(struct xtio_compare_result *result);

/* ---- Output -------------------------------------------------------------------------------- */

/* The delta table, the findings lines and one summary line; with quiet, only the failures and
 * the summary. 0, or -EIO. */
int xtio_compare_write_table(const struct xtio_compare_result *result, bool quiet, FILE *out);
/* JUnit XML: testsuite "xtio-compare", a property "baseline" per baseline report and "current"
 * per current report (result->baseline_reports and current_reports of them, in order), one
 * testcase per threshold (a failure with the values and the limit; a change that passes says so
 * in its system-out) and per findings check. 0, or -EIO. */
int xtio_compare_write_junit(const struct xtio_compare_result *result,
                             const char *const *baseline_paths, const char *const *current_paths,
                             FILE *out);

#endif
