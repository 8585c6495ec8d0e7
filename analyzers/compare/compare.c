/* xtio-compare's rules: loading and checking reports, metric names, thresholds and findings. */
#include "compare.h"

#include "analysis.h"
#include "xtio_formats.h"
#include "xtio_hist.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* The processes' primary_mode groups: the modes, then the processes without handoffs. */
#define GROUP_NONE  XTIO_SCHEMA_MODE_COUNT
#define GROUP_COUNT (XTIO_SCHEMA_MODE_COUNT + 1)

static const char *const count_keys[] = {"handoffs", "bytes", "records", "dropped",
                                         "dropped_bytes"};
#define COUNT_KEY_COUNT   (int)(sizeof(count_keys) / sizeof(count_keys[0]))
/* The latencies' keys are the analysis core's, xtio_latency_kind_key(). */
#define LATENCY_KEY_COUNT XTIO_LATENCY_KIND_COUNT
static const char *latency_key(int k)
{
    return xtio_latency_kind_key((enum xtio_latency_kind)k);
}
static const char *const stat_keys[] = {"p50", "p90", "p99", "p99_9", "max"};
#define STAT_COUNT (int)(sizeof(stat_keys) / sizeof(stat_keys[0]))
/* The timings of xtio-reference's JSON, as a report's `reference` carries them. */
static const char *const reference_keys[] = {"wakeup_us", "loopback_us", "cpu_us"};
#define REFERENCE_KEY_COUNT (int)(sizeof(reference_keys) / sizeof(reference_keys[0]))
#define REFERENCE_NAME      "reference"
/* The workload's own figures per mode, as scripts/workload writes them and xtio-reference
 * --workload carries them: reference.workload.modes.MODE.KEY. */
static const char *const workload_keys[] = {"server_cpu_ns_per_record", "server_cpu_us",
                                            "loop_cpu_ns_per_record", "loop_cpu_us"};
#define WORKLOAD_KEY_COUNT (int)(sizeof(workload_keys) / sizeof(workload_keys[0]))
#define WORKLOAD_NAME      "workload"

static const char metric_syntax[] =
    "write MODE.COUNT, MODE.LATENCY.STAT, MODE.WORKLOAD or reference.TIMING.STAT, or A/B for the "
    "ratio of two of them; MODE: inline sync async batch direct, or * for every mode present; "
    "COUNT: handoffs bytes records dropped dropped_bytes; LATENCY: queue_wait_us end_to_end_us "
    "flush_us producer_blocked_us spool_delay_us loop_write_us wake_us; WORKLOAD (the workload's "
    "figures that "
    "xtio-reference --workload carries): server_cpu_ns_per_record server_cpu_us "
    "loop_cpu_ns_per_record loop_cpu_us; TIMING: "
    "wakeup_us loopback_us cpu_us; STAT: p50 p90 p99 p99_9 max (e.g. "
    "async.end_to_end_us.p99/reference.wakeup_us.p99=100, "
    "async.server_cpu_ns_per_record/reference.cpu_us.p50=25)";

static const char expectation_syntax[] =
    "write MODE.KIND; MODE: inline sync async batch direct; KIND: off_loop_write ordering_break "
    "write_after_close lost_handoff dropped_data (e.g. direct.off_loop_write)";

struct xtio_compare_report {
    char *path;               /* owned */
    json_t *root;             /* owned */
    const json_t **processes; /* owned array of weak references into root */
    int *groups;              /* owned: per process, its primary mode or GROUP_NONE */
    size_t process_count;
    const json_t *reference; /* weak into root: xtio-reference's timings, or NULL */
    const json_t *workload;  /* weak into root: reference.workload.modes, or NULL */
};

static int fail(struct xtio_compare_error *error, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(error->message, sizeof(error->message), fmt, ap);
    va_end(ap);
    return status;
}

static int mode_index(const char *name)
{
    for (int m = 0; m < XTIO_SCHEMA_MODE_COUNT; m++) {
        if (strcmp(name, xtio_schema_mode_label(m)) == 0)
            return m;
    }
    return -1;
}

static const char *group_name(int group)
{
    return group == GROUP_NONE ? "none" : xtio_schema_mode_label(group);
}

/* ---- Loading ------------------------------------------------------------------------------- */

/* Keys a report may leave out are zero or null; a key of the wrong type is refused, since
 * comparing a number that is not one would give a verdict on nothing. */
static bool optional_is(const json_t *value, json_type type)
{
    return !value || json_typeof(value) == type;
}

/* where: the JSON path of the latency's object, e.g. processes[2].modes.async. */
static int check_latency(const char *path, const char *where, const char *key,
                         const json_t *latency, struct xtio_compare_error *error)
{
    if (!optional_is(latency, JSON_OBJECT))
        goto refused;
    for (int s = 0; latency && s < STAT_COUNT; s++) {
        const json_t *stat = json_object_get(latency, stat_keys[s]);
        if (stat && !json_is_number(stat) && !json_is_null(stat))
            goto refused;
    }
    return 0;
refused:
    return fail(error, -EINVAL,
                "%s: %s.%s is not a latency object of numbers or nulls: give the unmodified "
                "output of `xtio-analyze --format json`",
                path, where, key);
}

static int check_process(const char *path, size_t index, const json_t *process, int *group,
                         struct xtio_compare_error *error)
{
    if (!json_is_object(process))
        return fail(error, -EINVAL, "%s: processes[%zu] is not an object", path, index);
    const json_t *primary = json_object_get(process, "primary_mode");
    if (!primary)
        return fail(error, -EINVAL,
                    "%s: processes[%zu] has no primary_mode: the report was written by an older "
                    "xtio-analyze; analyse the trace again with this xtio's xtio-analyze",
                    path, index);
    *group = json_is_string(primary) ? mode_index(json_string_value(primary))
             : json_is_null(primary) ? GROUP_NONE
                                     : -1;
    if (*group < 0)
        return fail(error, -EINVAL,
                    "%s: processes[%zu].primary_mode is neither a mode name nor null", path, index);
    const json_t *modes = json_object_get(process, "modes");
    if (!optional_is(modes, JSON_OBJECT))
        return fail(error, -EINVAL, "%s: processes[%zu].modes is not an object", path, index);
    for (int m = 0; modes && m < XTIO_SCHEMA_MODE_COUNT; m++) {
        const char *name = xtio_schema_mode_label(m);
        const json_t *mode = json_object_get(modes, name);
        if (!optional_is(mode, JSON_OBJECT))
            return fail(error, -EINVAL, "%s: processes[%zu].modes.%s is not an object", path, index,
                        name);
        for (int k = 0; mode && k < COUNT_KEY_COUNT; k++) {
            if (!optional_is(json_object_get(mode, count_keys[k]), JSON_INTEGER))
                return fail(error, -EINVAL, "%s: processes[%zu].modes.%s.%s is not an integer",
                            path, index, name, count_keys[k]);
        }
        char where[64];
        snprintf(where, sizeof(where), "processes[%zu].modes.%s", index, name);
        for (int k = 0; mode && k < LATENCY_KEY_COUNT; k++) {
            int status = check_latency(path, where, latency_key(k),
                                       json_object_get(mode, latency_key(k)), error);
            if (status)
                return status;
        }
    }
    const json_t *findings = json_object_get(process, "findings");
    if (!optional_is(findings, JSON_OBJECT))
        return fail(error, -EINVAL, "%s: processes[%zu].findings is not an object", path, index);
    for (int k = 0; findings && k < XTIO_FINDING_KIND_COUNT; k++) {
        const char *kind = xtio_finding_kind_name((enum xtio_finding_kind)k);
        const json_t *finding = json_object_get(findings, kind);
        if (finding &&
            (!json_is_object(finding) || !json_is_integer(json_object_get(finding, "count"))))
            return fail(error, -EINVAL, "%s: processes[%zu].findings.%s has no integer count", path,
                        index, kind);
    }
    return 0;
}

/* The timings of one xtio-reference run: latency objects under reference_keys. */
static int check_timings(const char *path, const char *where, const json_t *timings,
                         struct xtio_compare_error *error)
{
    if (!json_is_object(timings))
        return fail(error, -EINVAL,
                    "%s: %s is not an object of xtio-reference timings: embed the unmodified "
                    "output of xtio-reference with `xtio-analyze --reference`",
                    path, where);
    for (int k = 0; k < REFERENCE_KEY_COUNT; k++) {
        const json_t *latency = json_object_get(timings, reference_keys[k]);
        int status = check_latency(path, where, reference_keys[k], latency, error);
        if (status)
            return status;
    }
    return 0;
}

/* reference.workload, when the reference carries one: an object of format "xtio-workload"
 * whose modes hold numbers (or nulls) under workload_keys. Sets report->workload to its modes. */
static int check_workload(struct xtio_compare_report *report, const json_t *reference,
                          struct xtio_compare_error *error)
{
    const json_t *workload = json_object_get(reference, WORKLOAD_NAME);
    if (!workload || json_is_null(workload))
        return 0;
    const json_t *format = json_object_get(workload, "format");
    const json_t *modes = json_object_get(workload, "modes");
    if (!json_is_object(workload) || !json_is_string(format) ||
        strcmp(json_string_value(format), XTIO_FORMAT_WORKLOAD) != 0 || !json_is_object(modes))
        return fail(error, -EINVAL,
                    "%s: " REFERENCE_NAME "." WORKLOAD_NAME " is not a workload's figures (an "
                    "object with \"format\": \"" XTIO_FORMAT_WORKLOAD "\" and a \"modes\" object): "
                    "give xtio-reference --workload the cpu.json of `scripts/workload --out DIR`",
                    report->path);
    const char *name;
    const json_t *mode;
    json_object_foreach((json_t *)modes, name, mode)
    {
        bool numbers = json_is_object(mode);
        for (int k = 0; k < WORKLOAD_KEY_COUNT && numbers; k++) {
            const json_t *figure = json_object_get(mode, workload_keys[k]);
            numbers = !figure || json_is_number(figure) || json_is_null(figure);
        }
        if (!numbers)
            return fail(error, -EINVAL,
                        "%s: " REFERENCE_NAME "." WORKLOAD_NAME ".modes.%s is not an object of "
                        "numbers or nulls: give the unmodified cpu.json of `scripts/workload "
                        "--out DIR` to xtio-reference --workload",
                        report->path, name);
    }
    report->workload = modes;
    return 0;
}

/* `reference`, when the report has one: the timings xtio-reference took around the run, and the
 * workload's figures it may carry. */
static int check_reference(struct xtio_compare_report *report, struct xtio_compare_error *error)
{
    const json_t *reference = json_object_get(report->root, REFERENCE_NAME);
    if (!reference || json_is_null(reference))
        return 0;
    int status = check_timings(report->path, REFERENCE_NAME, reference, error);
    if (!status)
        status = check_workload(report, reference, error);
    report->reference = status ? NULL : reference;
    return status;
}

static int check_report(struct xtio_compare_report *report, struct xtio_compare_error *error)
{
    const char *path = report->path;
    const json_t *root = report->root;
    const json_t *format = json_object_get(root, "format");
    if (!json_is_object(root) || !json_is_string(format) ||
        strcmp(json_string_value(format), XTIO_FORMAT_ANALYSIS) != 0)
        return fail(error, -EINVAL,
                    "%s is not an xtio-analysis report (no \"format\": \"" XTIO_FORMAT_ANALYSIS
                    "\"): give the output of `xtio-analyze --format json`",
                    path);
    const json_t *version = json_object_get(root, "version");
    if (!json_is_integer(version))
        return fail(error, -EINVAL,
                    "%s has no integer \"version\": give the unmodified output "
                    "of `xtio-analyze --format json`",
                    path);
    if (json_integer_value(version) != XTIO_FORMAT_ANALYSIS_VERSION)
        return fail(error, -EINVAL,
                    "%s is an xtio-analysis report of version %lld, and this xtio-compare reads "
                    "version %d only: analyse the trace again with this xtio's xtio-analyze, or "
                    "compare with the xtio-compare of the xtio that wrote it",
                    path, (long long)json_integer_value(version), XTIO_FORMAT_ANALYSIS_VERSION);
    const json_t *refusal = json_object_get(json_object_get(root, "summary"), "error");
    if (json_is_string(refusal))
        return fail(error, -EINVAL,
                    "%s is the report of a trace xtio-analyze refused (%s): fix the capture, "
                    "then analyse it again",
                    path, json_string_value(refusal));
    const json_t *processes = json_object_get(root, "processes");
    if (!json_is_array(processes))
        return fail(error, -EINVAL,
                    "%s has no \"processes\" array: give the unmodified output "
                    "of `xtio-analyze --format json`",
                    path);
    int status = check_reference(report, error);
    if (status)
        return status;
    report->process_count = json_array_size(processes);
    report->processes = calloc(report->process_count + 1, sizeof(*report->processes));
    report->groups = calloc(report->process_count + 1, sizeof(*report->groups));
    if (!report->processes || !report->groups)
        return fail(error, -ENOMEM, "out of memory reading %s", path);
    for (size_t i = 0; i < report->process_count; i++) {
        report->processes[i] = json_array_get(processes, i);
        status = check_process(path, i, report->processes[i], &report->groups[i], error);
        if (status)
            return status;
    }
    return 0;
}

int xtio_compare_report_load(const char *path, xtio_compare_report **out,
                             struct xtio_compare_error *error)
{
    int status = 0;
    FILE *file = NULL;
    struct xtio_compare_report *report = calloc(1, sizeof(*report));
    *out = NULL;
    if (!report || !(report->path = strdup(path))) {
        status = fail(error, -ENOMEM, "out of memory reading %s", path);
        goto end;
    }
    file = fopen(path, "r");
    if (!file) {
        status = -errno;
        fail(error, status,
             "cannot read %s: %s; give the path of a report written by `xtio-analyze --format "
             "json --output FILE`",
             path, strerror(errno));
        goto end;
    }
    json_error_t json_error;
    report->root = json_loadf(file, 0, &json_error);
    if (!report->root) {
        status = fail(error, -EINVAL,
                      "%s is not JSON (line %d: %s): give the output of `xtio-analyze --format "
                      "json`",
                      path, json_error.line, json_error.text);
        goto end;
    }
    status = check_report(report, error);
end:
    if (file)
        fclose(file);
    if (status) {
        xtio_compare_report_free(report);
        return status;
    }
    *out = report;
    return 0;
}

void xtio_compare_report_free(xtio_compare_report *report)
{
    if (!report)
        return;
    json_decref(report->root);
    free(report->processes);
    free(report->groups);
    free(report->path);
    free(report);
}

/* ---- Metric names -------------------------------------------------------------------------- */

static bool is_latency(const struct xtio_compare_term *term)
{
    return term->stat >= 0;
}

static bool parse_term(const char *text, struct xtio_compare_term *term)
{
    char copy[XTIO_COMPARE_METRIC_MAX];
    char *parts[4];
    int count = 0;
    snprintf(copy, sizeof(copy), "%s", text);
    for (char *p = copy, *dot; count < 4; p = dot + 1) {
        parts[count++] = p;
        if (!(dot = strchr(p, '.')))
            break;
        *dot = '\0';
    }
    if (count < 2 || count > 3)
        return false;
    if (strcmp(parts[0], REFERENCE_NAME) == 0) {
        term->mode = XTIO_COMPARE_REFERENCE;
        term->key = term->stat = -1;
        for (int k = 0; count == 3 && k < REFERENCE_KEY_COUNT; k++) {
            if (strcmp(parts[1], reference_keys[k]) == 0)
                term->key = k;
        }
        for (int s = 0; count == 3 && s < STAT_COUNT; s++) {
            if (strcmp(parts[2], stat_keys[s]) == 0)
                term->stat = s;
        }
        return term->key >= 0 && term->stat >= 0;
    }
    term->mode = strcmp(parts[0], "*") == 0 ? XTIO_COMPARE_ANY_MODE : mode_index(parts[0]);
    if (term->mode == -1 && strcmp(parts[0], "*") != 0)
        return false;
    term->key = -1;
    term->stat = -1;
    term->workload = false;
    for (int k = 0; count == 2 && k < COUNT_KEY_COUNT; k++) {
        if (strcmp(parts[1], count_keys[k]) == 0)
            term->key = k;
    }
    for (int k = 0; count == 2 && k < WORKLOAD_KEY_COUNT; k++) {
        if (strcmp(parts[1], workload_keys[k]) == 0) {
            term->key = k;
            term->workload = true;
        }
    }
    for (int k = 0; count == 3 && k < LATENCY_KEY_COUNT; k++) {
        if (strcmp(parts[1], latency_key(k)) == 0)
            term->key = k;
    }
    for (int s = 0; count == 3 && s < STAT_COUNT; s++) {
        if (strcmp(parts[2], stat_keys[s]) == 0)
            term->stat = s;
    }
    return term->key >= 0 && (count == 2 || term->stat >= 0);
}

static void term_name(const struct xtio_compare_term *term, int mode, char *buf, size_t size)
{
    const char *mode_name = mode < 0 ? "*" : xtio_schema_mode_label(mode);
    if (term->mode == XTIO_COMPARE_REFERENCE)
        snprintf(buf, size, REFERENCE_NAME ".%s.%s", reference_keys[term->key],
                 stat_keys[term->stat]);
    else if (is_latency(term))
        snprintf(buf, size, "%s.%s.%s", mode_name, latency_key(term->key), stat_keys[term->stat]);
    else if (term->workload)
        snprintf(buf, size, "%s.%s", mode_name, workload_keys[term->key]);
    else
        snprintf(buf, size, "%s.%s", mode_name, count_keys[term->key]);
}

/* The metric's name with every `*` read as glob_mode (or kept, for a negative glob_mode). */
static void metric_name(const struct xtio_compare_metric *metric, int glob_mode, char *buf,
                        size_t size)
{
    /* The longest term, direct.server_cpu_ns_per_record, is 31 characters. */
    char terms[2][XTIO_COMPARE_METRIC_MAX / 2];
    for (int t = 0; t < metric->term_count; t++) {
        const struct xtio_compare_term *term = &metric->terms[t];
        term_name(term, term->mode == XTIO_COMPARE_ANY_MODE ? glob_mode : term->mode, terms[t],
                  sizeof(terms[t]));
    }
    if (metric->term_count == 2)
        snprintf(buf, size, "%s/%s", terms[0], terms[1]);
    else
        snprintf(buf, size, "%s", terms[0]);
}

static bool has_glob(const struct xtio_compare_metric *metric)
{
    for (int t = 0; t < metric->term_count; t++) {
        if (metric->terms[t].mode == XTIO_COMPARE_ANY_MODE)
            return true;
    }
    return false;
}

int xtio_compare_threshold_parse(const char *spec, struct xtio_compare_threshold *threshold,
                                 struct xtio_compare_error *error)
{
    const char *equals = strrchr(spec, '=');
    if (!equals || equals == spec || !equals[1])
        return fail(error, -EINVAL,
                    "bad --max-regress '%s': expected METRIC=PCT, e.g. "
                    "async.end_to_end_us.p99=25",
                    spec);
    size_t length = (size_t)(equals - spec);
    if (length >= sizeof(threshold->name))
        return fail(error, -EINVAL, "bad --max-regress '%s': the metric is too long; %s", spec,
                    metric_syntax);
    memset(threshold, 0, sizeof(*threshold));
    memcpy(threshold->name, spec, length);
    char *slash = strchr(threshold->name, '/');
    char first[XTIO_COMPARE_METRIC_MAX];
    snprintf(first, sizeof(first), "%.*s", slash ? (int)(slash - threshold->name) : (int)length,
             threshold->name);
    threshold->metric.term_count = slash ? 2 : 1;
    if (!parse_term(first, &threshold->metric.terms[0]) ||
        (slash && !parse_term(slash + 1, &threshold->metric.terms[1])))
        return fail(error, -EINVAL, "unknown metric '%s' in --max-regress '%s': %s",
                    threshold->name, spec, metric_syntax);

    char *end;
    errno = 0;
    double limit = strtod(equals + 1, &end);
    if (*end == '%')
        end++;
    if (errno || *end || end == equals + 1 || !isfinite(limit))
        return fail(error, -EINVAL,
                    "bad --max-regress '%s': PCT '%s' is not a number of percent, e.g. 25 or "
                    "12.5",
                    spec, equals + 1);
    threshold->limit_pct = limit;
    return 0;
}

/* Adds the preset's threshold that `format` writes, when there is room for it. */
__attribute__((format(printf, 5, 6))) static int
preset_add(struct xtio_compare_threshold *thresholds, size_t capacity, size_t *count,
           struct xtio_compare_error *error, const char *format, ...)
{
    char spec[XTIO_COMPARE_METRIC_MAX];
    va_list args;
    va_start(args, format);
    vsnprintf(spec, sizeof(spec), format, args);
    va_end(args);
    if (*count == capacity)
        return fail(error, -EINVAL, "no room for the thresholds of --preset handoffs");
    int status = xtio_compare_threshold_parse(spec, &thresholds[*count], error);
    if (status)
        return status;
    thresholds[(*count)++].preset = true;
    return 0;
}

int xtio_compare_preset(const char *name, struct xtio_compare_threshold *thresholds,
                        size_t capacity, size_t *count, struct xtio_compare_error *error)
{
    /* spool_delay_us: batch only, where a record waits before its chunk is handed off. */
    static const char *const latencies[] = {"queue_wait_us", "end_to_end_us", "spool_delay_us"};
    static const struct {
        const char *stat;
        double limit;
    } stats[] = {{"p50", XTIO_COMPARE_PRESET_LIMIT_P50}, {"p99", XTIO_COMPARE_PRESET_LIMIT_P99}};
    /* A per-record CPU cost, which latencies cannot resolve: the server's, over the reference,
     * and the share of it that its event loops take, which holds when contention makes every
     * thread costlier. Per mode, as their noise differs: inline's cost has no handoff in it, and
     * its loop does all of its work (a share of 1, no row); direct's producers write
     * themselves, under the loop's lock, which makes its share noisier. */
    static const struct {
        const char *mode;
        double cpu, share; /* share < 0: no row */
    } cpu[] = {
        {"inline", XTIO_COMPARE_PRESET_LIMIT_CPU_INLINE, -1},
        {"sync", XTIO_COMPARE_PRESET_LIMIT_CPU, XTIO_COMPARE_PRESET_LIMIT_LOOP_SHARE},
        {"async", XTIO_COMPARE_PRESET_LIMIT_CPU, XTIO_COMPARE_PRESET_LIMIT_LOOP_SHARE},
        {"batch", XTIO_COMPARE_PRESET_LIMIT_CPU, XTIO_COMPARE_PRESET_LIMIT_LOOP_SHARE},
        {"direct", XTIO_COMPARE_PRESET_LIMIT_CPU, XTIO_COMPARE_PRESET_LIMIT_LOOP_SHARE_DIRECT},
    };
    /* The same cost as the loop's own time per handoff, which no wake-up is part of: for the
     * modes whose drains make it hold. */
    static const struct {
        const char *mode;
        double limit;
    } loop_write[] = {
        {"async", XTIO_COMPARE_PRESET_LIMIT_LOOP_WRITE},
        {"batch", XTIO_COMPARE_PRESET_LIMIT_LOOP_WRITE_BATCH},
    };
    int status = 0;
    *count = 0;
    if (strcmp(name, "none") == 0)
        return 0;
    if (strcmp(name, "handoffs") != 0)
        return fail(error, -EINVAL,
                    "unknown --preset '%s': use handoffs (every mode's queue wait, end to "
                    "end and spool delay, p50 and p99, its server's CPU time per record and "
                    "its loop's time per handoff, against the reference) or none (findings "
                    "only)",
                    name);
    for (size_t l = 0; l < sizeof(latencies) / sizeof(latencies[0]); l++) {
        for (size_t s = 0; s < 2 && status == 0; s++)
            status = preset_add(thresholds, capacity, count, error,
                                "*.%s.%s/" REFERENCE_NAME ".cpu_us.p50=%g", latencies[l],
                                stats[s].stat, stats[s].limit);
    }
    for (size_t m = 0; m < sizeof(cpu) / sizeof(cpu[0]) && status == 0; m++)
        status = preset_add(thresholds, capacity, count, error,
                            "%s.server_cpu_ns_per_record/" REFERENCE_NAME ".cpu_us.p50=%g",
                            cpu[m].mode, cpu[m].cpu);
    for (size_t m = 0; m < sizeof(cpu) / sizeof(cpu[0]) && status == 0; m++) {
        if (cpu[m].share >= 0)
            status = preset_add(thresholds, capacity, count, error,
                                "%s.loop_cpu_ns_per_record/%s.server_cpu_ns_per_record=%g",
                                cpu[m].mode, cpu[m].mode, cpu[m].share);
    }
    for (size_t m = 0; m < sizeof(loop_write) / sizeof(loop_write[0]) && status == 0; m++)
        status = preset_add(thresholds, capacity, count, error,
                            "%s.loop_write_us.p50/" REFERENCE_NAME ".cpu_us.p50=%g",
                            loop_write[m].mode, loop_write[m].limit);
    return status;
}

/* ---- Values -------------------------------------------------------------------------------- */

struct comparison {
    const xtio_compare_report *const *reports[2]; /* weak: the baselines, the currents */
    size_t report_counts[2];
    const struct xtio_compare_expectation *expectations; /* weak */
    size_t expectation_count;
    struct xtio_compare_result *result;
    struct xtio_compare_error *error;
    size_t row_capacity;
    bool fail_on_change;
};

static const char *const report_roles[2] = {"the baseline", "the current report"};

static uint64_t handoffs_in(const json_t *process, int mode)
{
    const json_t *modes = json_object_get(process, "modes");
    const json_t *stats = json_object_get(modes, xtio_schema_mode_label(mode));
    json_int_t handoffs = json_integer_value(json_object_get(stats, "handoffs"));
    return handoffs > 0 ? (uint64_t)handoffs : 0;
}

static void list_pids(const xtio_compare_report *report, int mode, bool by_primary, char *buf,
                      size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < report->process_count && used < size; i++) {
        const json_t *process = report->processes[i];
        if (by_primary ? report->groups[i] == mode : handoffs_in(process, mode) > 0) {
            int n = snprintf(buf + used, size - used, "%s%lld", used ? ", " : "",
                             (long long)json_integer_value(json_object_get(process, "pid")));
            used += n > 0 ? (size_t)n : 0;
        }
    }
}

/* The processes a MODE. prefix may name in one report: how many have MODE as primary_mode, how
 * many have handoffs in MODE, and the one it names (NULL: none, or several). */
struct candidates {
    size_t primaries, users;
    const json_t *process; /* weak */
};

static struct candidates find_candidates(const xtio_compare_report *report, int mode)
{
    struct candidates found = {0};
    const json_t *by_primary = NULL, *by_handoffs = NULL;
    for (size_t i = 0; i < report->process_count; i++) {
        if (report->groups[i] == mode) {
            by_primary = report->processes[i];
            found.primaries++;
        }
        if (handoffs_in(report->processes[i], mode) > 0) {
            by_handoffs = report->processes[i];
            found.users++;
        }
    }
    if (found.primaries == 1)
        found.process = by_primary;
    else if (found.primaries == 0 && found.users == 1)
        found.process = by_handoffs;
    return found;
}

static bool ambiguous(const struct candidates *found)
{
    return found->primaries > 1 || (found->primaries == 0 && found->users > 1);
}

/* The process a MODE. prefix names: the one whose primary_mode is MODE, else the one with
 * handoffs in MODE. 0 with *process (NULL when there is none), or -EINVAL when several match. */
static int resolve(struct comparison *c, const xtio_compare_report *report, int role, int mode,
                   const char *metric, const json_t **process)
{
    struct candidates found = find_candidates(report, mode);
    *process = found.process;
    if (!ambiguous(&found))
        return 0;
    char pids[256];
    list_pids(report, mode, found.primaries > 1, pids, sizeof(pids));
    const char *name = xtio_schema_mode_label(mode);
    if (found.primaries > 1)
        return fail(c->error, -EINVAL,
                    "metric '%s' is ambiguous: %s (%s) has %zu processes whose primary_mode is "
                    "%s (pids %s); compare one process per mode: one trace per mode, or one "
                    "server per mode in one trace",
                    metric, report_roles[role], report->path, found.primaries, name, pids);
    return fail(c->error, -EINVAL,
                "metric '%s' is ambiguous: %s (%s) has no process whose primary_mode is %s, and "
                "%zu processes with %s handoffs (pids %s); compare one process per mode: one "
                "trace per mode, or one server per mode in one trace",
                metric, report_roles[role], report->path, name, found.users, name, pids);
}

/* A number of a report as a value: `missing` when `v` is NULL (not in the report), null when it is
 * not a number. */
static struct xtio_compare_value json_figure(const json_t *v, enum xtio_compare_presence missing)
{
    if (!v)
        return (struct xtio_compare_value){.presence = missing};
    if (!json_is_number(v))
        return (struct xtio_compare_value){.presence = XTIO_COMPARE_NULL};
    return (struct xtio_compare_value){.presence = XTIO_COMPARE_VALUE,
                                       .number = json_number_value(v)};
}

/* reference.KEY.STAT in one report. */
static int reference_value(struct comparison *c, const xtio_compare_report *report, int role,
                           const struct xtio_compare_term *term, const char *metric,
                           struct xtio_compare_value *value)
{
    if (!report->reference)
        return fail(c->error, -EINVAL,
                    "metric '%s' needs a reference, and %s (%s) has none: run the workload "
                    "under xtio-reference (`xtio-reference -o ref.json -- WORKLOAD`) and "
                    "analyse its trace with `xtio-analyze --format json --reference ref.json`; "
                    "or, without a reference, give --preset none and thresholds of your own",
                    metric, report_roles[role], report->path);
    const json_t *timings = report->reference;
    const json_t *stat =
        json_object_get(json_object_get(timings, reference_keys[term->key]), stat_keys[term->stat]);
    *value = json_figure(stat, XTIO_COMPARE_NULL);
    return 0;
}

/* MODE.KEY of the workload's figures in one report: absent when the report has no reference,
 * when its reference carries no workload figures, or none for MODE (a preset's or the default
 * set's rows are then left out; add_threshold says how to record them). */
static void workload_value(const xtio_compare_report *report, const struct xtio_compare_term *term,
                           int mode, struct xtio_compare_value *value)
{
    const json_t *figures = json_object_get(report->workload, xtio_schema_mode_label(mode));
    const json_t *figure = json_object_get(figures, workload_keys[term->key]);
    *value = json_figure(figure, XTIO_COMPARE_ABSENT);
}

/* A term in one report, of `mode` (a reference term ignores it: a run has one reference). */
static int term_value(struct comparison *c, const xtio_compare_report *report, int role,
                      const struct xtio_compare_term *term, int mode, const char *metric,
                      struct xtio_compare_value *value)
{
    if (term->mode == XTIO_COMPARE_REFERENCE)
        return reference_value(c, report, role, term, metric, value);
    if (term->workload) {
        workload_value(report, term, mode, value);
        return 0;
    }
    const json_t *process;
    int status = resolve(c, report, role, mode, metric, &process);
    if (status)
        return status;
    *value = (struct xtio_compare_value){.presence = XTIO_COMPARE_ABSENT};
    if (!process)
        return 0;
    const json_t *stats =
        json_object_get(json_object_get(process, "modes"), xtio_schema_mode_label(mode));
    if (!is_latency(term)) {
        const json_t *count = json_object_get(stats, count_keys[term->key]);
        *value = (struct xtio_compare_value){.presence = XTIO_COMPARE_VALUE,
                                             .number = (double)json_integer_value(count)};
        return 0;
    }
    const json_t *latency = json_object_get(stats, latency_key(term->key));
    *value = json_figure(json_object_get(latency, stat_keys[term->stat]), XTIO_COMPARE_NULL);
    return 0;
}

static int term_mode(const struct xtio_compare_term *term, int glob_mode)
{
    return term->mode == XTIO_COMPARE_ANY_MODE ? glob_mode : term->mode;
}

/* The metric's value in one report, `*` read as glob_mode. A ratio is absent when either term
 * is, and null when either is null or the denominator is 0. */
static int report_value(struct comparison *c, const xtio_compare_report *report, int role,
                        const struct xtio_compare_metric *metric, int glob_mode, const char *name,
                        struct xtio_compare_value *value)
{
    struct xtio_compare_value terms[2] = {{0}};
    for (int t = 0; t < metric->term_count; t++) {
        const struct xtio_compare_term *term = &metric->terms[t];
        int status = term_value(c, report, role, term, term_mode(term, glob_mode), name, &terms[t]);
        if (status)
            return status;
    }
    *value = terms[0];
    if (metric->term_count == 1)
        return 0;
    if (terms[0].presence == XTIO_COMPARE_ABSENT || terms[1].presence == XTIO_COMPARE_ABSENT)
        value->presence = XTIO_COMPARE_ABSENT;
    else if (terms[0].presence == XTIO_COMPARE_NULL || terms[1].presence == XTIO_COMPARE_NULL ||
             terms[1].number == 0)
        value->presence = XTIO_COMPARE_NULL;
    else
        value->number = terms[0].number / terms[1].number;
    return 0;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The metric's value over the reports of a side: the median of the reports that have a number,
 * by the percentile rule of every xtio tool (xtio_hist_rank: the lower middle of an even count);
 * else null when one is null, else absent. */
static int metric_value(struct comparison *c, int role, const struct xtio_compare_metric *metric,
                        int glob_mode, const char *name, struct xtio_compare_value *value)
{
    size_t count = c->report_counts[role], numbers = 0;
    double *sorted = calloc(count ? count : 1, sizeof(*sorted));
    if (!sorted)
        return fail(c->error, -ENOMEM, "out of memory comparing the reports");
    *value = (struct xtio_compare_value){.presence = XTIO_COMPARE_ABSENT};
    for (size_t i = 0; i < count; i++) {
        struct xtio_compare_value one;
        int status = report_value(c, c->reports[role][i], role, metric, glob_mode, name, &one);
        if (status) {
            free(sorted);
            return status;
        }
        if (one.presence == XTIO_COMPARE_VALUE)
            sorted[numbers++] = one.number;
        else if (one.presence == XTIO_COMPARE_NULL)
            value->presence = XTIO_COMPARE_NULL;
    }
    if (numbers) {
        qsort(sorted, numbers, sizeof(*sorted), compare_doubles);
        value->presence = XTIO_COMPARE_VALUE;
        value->number = sorted[xtio_hist_rank(numbers, 500) - 1];
    }
    free(sorted);
    return 0;
}

/* ---- Rows ---------------------------------------------------------------------------------- */

static bool either_direction(const struct xtio_compare_metric *metric)
{
    const struct xtio_compare_term *term = &metric->terms[0];
    /* handoffs, bytes, records: the workload itself; dropped ones: larger is worse. */
    return metric->term_count == 1 && !is_latency(term) && !term->workload && term->key <= 2;
}

static bool has_number(const struct xtio_compare_value *value)
{
    return value->presence == XTIO_COMPARE_VALUE;
}

static void judge(struct xtio_compare_row *row)
{
    if (has_number(&row->baseline) && has_number(&row->current)) {
        double base = row->baseline.number, current = row->current.number;
        row->has_delta = true;
        row->delta_pct = base != 0      ? (current - base) / fabs(base) * 100.0
                         : current == 0 ? 0.0
                                        : copysign(INFINITY, current);
    }
    if (!row->thresholded)
        row->verdict = XTIO_COMPARE_SHOWN;
    else if (row->has_delta &&
             (row->either_direction ? fabs(row->delta_pct) : row->delta_pct) > row->limit_pct)
        row->verdict = XTIO_COMPARE_CROSSED;
    else if (row->has_delta)
        /* Better by the factor the limit allows for worse: the behaviour changed. */
        row->verdict =
            !row->either_direction && row->limit_pct >= 0 && row->baseline.number > 0 &&
                    row->current.number * (1 + row->limit_pct / 100) < row->baseline.number
                ? XTIO_COMPARE_CHANGED
                : XTIO_COMPARE_WITHIN;
    else if (has_number(&row->baseline))
        row->verdict = XTIO_COMPARE_LOST;
    else if (has_number(&row->current))
        row->verdict = XTIO_COMPARE_NO_BASELINE;
    else
        row->verdict = XTIO_COMPARE_NO_DATA;
}

static struct xtio_compare_row *find_row(const struct xtio_compare_result *result,
                                         const char *metric)
{
    for (size_t i = 0; i < result->row_count; i++) {
        if (strcmp(result->rows[i].metric, metric) == 0)
            return &result->rows[i];
    }
    return NULL;
}

/* Adds a row for the metric with `*` read as glob_mode (a threshold when limit is not NULL).
 * 0, or a negative errno. */
static int add_row(struct comparison *c, const struct xtio_compare_metric *metric, int glob_mode,
                   const double *limit)
{
    struct xtio_compare_result *result = c->result;
    struct xtio_compare_row row = {.thresholded = limit != NULL,
                                   .limit_pct = limit ? *limit : 0,
                                   .either_direction = either_direction(metric)};
    metric_name(metric, glob_mode, row.metric, sizeof(row.metric));
    for (int role = 0; role < 2; role++) {
        int status = metric_value(c, role, metric, glob_mode, row.metric,
                                  role ? &row.current : &row.baseline);
        if (status)
            return status;
    }
    judge(&row);
    if (row.verdict == XTIO_COMPARE_CHANGED && c->fail_on_change)
        row.verdict = XTIO_COMPARE_CHANGED_FAILS;
    if (result->row_count == c->row_capacity) {
        size_t capacity = c->row_capacity ? 2 * c->row_capacity : 16;
        struct xtio_compare_row *rows = realloc(result->rows, capacity * sizeof(*rows));
        if (!rows)
            return fail(c->error, -ENOMEM, "out of memory comparing the reports");
        result->rows = rows;
        c->row_capacity = capacity;
    }
    result->rows[result->row_count++] = row;
    return 0;
}

/* The modes some process of either report runs in: its primary_mode. */
static unsigned present_modes(const struct comparison *c)
{
    unsigned modes = 0;
    for (int role = 0; role < 2; role++) {
        for (size_t r = 0; r < c->report_counts[role]; r++) {
            const xtio_compare_report *report = c->reports[role][r];
            for (size_t i = 0; i < report->process_count; i++) {
                if (report->groups[i] != GROUP_NONE)
                    modes |= 1u << report->groups[i];
            }
        }
    }
    return modes;
}

/* "the baseline (PATH): pid 12 async, pid 13 direct; the current report (PATH): ...", of the
 * first report of each side. */
static void describe_modes(const struct comparison *c, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int role = 0; role < 2; role++) {
        const xtio_compare_report *report = c->reports[role][0];
        int n = snprintf(buf + used, size - used, "%s%s (%s):%s", role ? "; " : "",
                         report_roles[role], report->path, report->process_count ? "" : " none");
        used += n > 0 && (size_t)n < size - used ? (size_t)n : 0;
        for (size_t i = 0; i < report->process_count; i++) {
            n = snprintf(
                buf + used, size - used, "%s pid %lld %s", i ? "," : "",
                (long long)json_integer_value(json_object_get(report->processes[i], "pid")),
                group_name(report->groups[i]));
            used += n > 0 && (size_t)n < size - used ? (size_t)n : 0;
        }
    }
}

static int add_threshold(struct comparison *c, const struct xtio_compare_threshold *threshold)
{
    const struct xtio_compare_metric *metric = &threshold->metric;
    struct xtio_compare_result *result = c->result;
    size_t before = result->row_count;
    if (has_glob(metric)) {
        unsigned modes = present_modes(c);
        for (int m = 0; m < XTIO_SCHEMA_MODE_COUNT; m++) {
            int status = modes & (1u << m) ? add_row(c, metric, m, &threshold->limit_pct) : 0;
            if (status)
                return status;
            /* A preset's metric that a mode does not have (inline has no queue wait). */
            if (modes & (1u << m) && threshold->preset &&
                result->rows[result->row_count - 1].verdict == XTIO_COMPARE_NO_DATA)
                result->row_count--;
        }
        if (result->row_count == before && !threshold->preset)
            return fail(c->error, -EINVAL,
                        "metric '%s' of --max-regress matches nothing: no process of either "
                        "report has handoffs",
                        threshold->name);
    } else {
        int status = add_row(c, metric, XTIO_COMPARE_ANY_MODE, &threshold->limit_pct);
        if (status)
            return status;
        const struct xtio_compare_row *row = &result->rows[before];
        /* A preset's row that neither side has a value for (a mode no server ran). */
        if (threshold->preset && row->verdict == XTIO_COMPARE_NO_DATA) {
            result->row_count--;
            return 0;
        }
        /* Absent from both: the workload's figures were not recorded, or a mode no process
         * runs, most likely a typo. */
        if (!threshold->preset && row->baseline.presence == XTIO_COMPARE_ABSENT &&
            row->current.presence == XTIO_COMPARE_ABSENT) {
            if (metric->terms[0].workload || (metric->term_count == 2 && metric->terms[1].workload))
                return fail(c->error, -EINVAL,
                            "metric '%s' of --max-regress is in neither report: no report has "
                            "the workload's figures for its mode (reference.workload.modes); run "
                            "the workload under `xtio-reference -o ref.json --workload "
                            "cpu.json`, where it writes cpu.json as `scripts/workload --out DIR` "
                            "does, and analyse its trace with `xtio-analyze --format json "
                            "--reference ref.json`; or drop the metric",
                            threshold->name);
            char found[512];
            describe_modes(c, found, sizeof(found));
            return fail(c->error, -EINVAL,
                        "metric '%s' of --max-regress is in neither report: no process runs in "
                        "its mode (its primary_mode, or the only process with handoffs in it). "
                        "The processes and their primary_mode are, in %s",
                        threshold->name, found);
        }
    }
    result->thresholds += result->row_count - before;
    return 0;
}

/* Per mode present: handoffs, queue wait and end to end p50 and p99, and the server's CPU time
 * per record. Left out: rows neither
 * report has a value for, rows a threshold already shows, and modes that name several processes
 * (only a metric asked for says so, and fails). */
static int add_default_rows(struct comparison *c)
{
    static const struct xtio_compare_term defaults[] = {
        {.key = 0, .stat = -1}, /* handoffs */
        {.key = 0, .stat = 0},
        {.key = 0, .stat = 2}, /* queue_wait_us p50, p99 */
        {.key = 1, .stat = 0},
        {.key = 1, .stat = 2},                    /* end_to_end_us p50, p99 */
        {.key = 0, .stat = -1, .workload = true}, /* server_cpu_ns_per_record */
    };
    unsigned modes = present_modes(c);
    for (int m = 0; m < XTIO_SCHEMA_MODE_COUNT; m++) {
        bool several = false;
        for (int role = 0; role < 2; role++) {
            for (size_t r = 0; r < c->report_counts[role]; r++) {
                struct candidates found = find_candidates(c->reports[role][r], m);
                several = several || ambiguous(&found);
            }
        }
        if (!(modes & (1u << m)) || several)
            continue;
        for (size_t d = 0; d < sizeof(defaults) / sizeof(defaults[0]); d++) {
            struct xtio_compare_metric metric = {.terms = {defaults[d]}, .term_count = 1};
            metric.terms[0].mode = m;
            char name[XTIO_COMPARE_METRIC_MAX];
            metric_name(&metric, m, name, sizeof(name));
            if (find_row(c->result, name))
                continue;
            int status = add_row(c, &metric, m, NULL);
            if (status)
                return status;
            const struct xtio_compare_row *row = &c->result->rows[c->result->row_count - 1];
            if (!has_number(&row->baseline) && !has_number(&row->current))
                c->result->row_count--;
        }
    }
    return 0;
}

/* ---- Findings ------------------------------------------------------------------------------ */

int xtio_compare_expectation_parse(const char *spec, struct xtio_compare_expectation *expectation,
                                   struct xtio_compare_error *error)
{
    const char *dot = strchr(spec, '.');
    char mode[16];
    if (!dot || (size_t)(dot - spec) >= sizeof(mode))
        return fail(error, -EINVAL, "--expect-finding '%s': %s", spec, expectation_syntax);
    snprintf(mode, sizeof(mode), "%.*s", (int)(dot - spec), spec);
    expectation->mode = mode_index(mode);
    expectation->kind = -1;
    for (int k = 0; k < XTIO_FINDING_KIND_COUNT; k++) {
        if (strcmp(dot + 1, xtio_finding_kind_name((enum xtio_finding_kind)k)) == 0)
            expectation->kind = k;
    }
    if (expectation->mode < 0 || expectation->kind < 0)
        return fail(error, -EINVAL, "--expect-finding '%s': %s", spec, expectation_syntax);
    return 0;
}

/* The count of a finding kind over the processes of a group; *reported: whether any of them
 * reports that kind at all (dropped_data is reported only by strict analyses). */
static uint64_t report_findings(const xtio_compare_report *report, int group, const char *kind,
                                bool *reported)
{
    uint64_t total = 0;
    for (size_t i = 0; i < report->process_count; i++) {
        if (report->groups[i] != group)
            continue;
        const json_t *finding =
            json_object_get(json_object_get(report->processes[i], "findings"), kind);
        if (!finding)
            continue;
        *reported = true;
        json_int_t count = json_integer_value(json_object_get(finding, "count"));
        total += count > 0 ? (uint64_t)count : 0;
    }
    return total;
}

/* The largest count of a finding kind in a group over the reports of a side. */
static uint64_t group_findings(const struct comparison *c, int role, int group, const char *kind,
                               bool *reported)
{
    uint64_t most = 0;
    for (size_t r = 0; r < c->report_counts[role]; r++) {
        uint64_t count = report_findings(c->reports[role][r], group, kind, reported);
        most = count > most ? count : most;
    }
    return most;
}

static bool group_present(const struct comparison *c, int role, int group)
{
    for (size_t r = 0; r < c->report_counts[role]; r++) {
        const xtio_compare_report *report = c->reports[role][r];
        for (size_t i = 0; i < report->process_count; i++) {
            if (report->groups[i] == group)
                return true;
        }
    }
    return false;
}

static bool is_expected(const struct comparison *c, int group, int kind)
{
    for (size_t i = 0; i < c->expectation_count; i++) {
        if (c->expectations[i].mode == group && c->expectations[i].kind == kind)
            return true;
    }
    return false;
}

static enum xtio_compare_verdict finding_verdict(const struct xtio_compare_finding *finding,
                                                 bool expected)
{
    if (expected)
        return finding->current ? XTIO_COMPARE_EXPECTED : XTIO_COMPARE_MISSING;
    if (finding->current)
        return finding->baseline ? XTIO_COMPARE_KNOWN : XTIO_COMPARE_NEW;
    return finding->baseline ? XTIO_COMPARE_FIXED : XTIO_COMPARE_CLEAN;
}

static int add_findings(struct comparison *c)
{
    struct xtio_compare_result *result = c->result;
    result->findings = calloc(GROUP_COUNT * XTIO_FINDING_KIND_COUNT, sizeof(*result->findings));
    if (!result->findings)
        return fail(c->error, -ENOMEM, "out of memory comparing the reports");
    for (int g = 0; g < GROUP_COUNT; g++) {
        for (int k = 0; k < XTIO_FINDING_KIND_COUNT; k++) {
            const char *kind = xtio_finding_kind_name((enum xtio_finding_kind)k);
            bool expected = is_expected(c, g, k), reported = false;
            /* An expected kind gets its check even when no process of its mode reports it. */
            if (!group_present(c, 1, g) && !expected)
                continue;
            struct xtio_compare_finding finding = {
                .kind = kind,
                .current = group_findings(c, 1, g, kind, &reported),
                .baseline = group_findings(c, 0, g, kind, &reported),
            };
            if (!reported && !expected)
                continue;
            snprintf(finding.group, sizeof(finding.group), "%s", group_name(g));
            finding.verdict = finding_verdict(&finding, expected);
            result->findings_new += finding.verdict == XTIO_COMPARE_NEW;
            result->findings_missing += finding.verdict == XTIO_COMPARE_MISSING;
            result->findings[result->finding_count++] = finding;
        }
    }
    return 0;
}

/* ---- The comparison ------------------------------------------------------------------------ */

int xtio_compare_run(const xtio_compare_report *baseline, const xtio_compare_report *current,
                     const struct xtio_compare_threshold *thresholds, size_t threshold_count,
                     const struct xtio_compare_expectation *expectations, size_t expectation_count,
                     struct xtio_compare_result *result, struct xtio_compare_error *error)
{
    const struct xtio_compare_inputs inputs = {.baselines = &baseline,
                                               .baseline_count = 1,
                                               .currents = &current,
                                               .current_count = 1,
                                               .thresholds = thresholds,
                                               .threshold_count = threshold_count,
                                               .expectations = expectations,
                                               .expectation_count = expectation_count};
    return xtio_compare_run_inputs(&inputs, result, error);
}

int xtio_compare_run_inputs(const struct xtio_compare_inputs *in,
                            struct xtio_compare_result *result, struct xtio_compare_error *error)
{
    int status = 0;
    struct comparison c = {.reports = {in->baselines, in->currents},
                           .report_counts = {in->baseline_count, in->current_count},
                           .expectations = in->expectations,
                           .expectation_count = in->expectation_count,
                           .result = result,
                           .error = error,
                           .fail_on_change = in->fail_on_change};
    memset(result, 0, sizeof(*result));
    if (!in->baseline_count || !in->current_count)
        return fail(error, -EINVAL,
                    "no %s report to compare: give at least one baseline and one current report",
                    in->baseline_count ? "current" : "baseline");
    result->baseline_reports = in->baseline_count;
    result->current_reports = in->current_count;
    for (size_t i = 0; i < in->threshold_count && !status; i++)
        status = add_threshold(&c, &in->thresholds[i]);
    if (!status)
        status = add_default_rows(&c);
    if (!status)
        status = add_findings(&c);
    if (status) {
        xtio_compare_result_fini(result);
        return status;
    }
    for (size_t i = 0; i < result->row_count; i++) {
        result->thresholds_failed += xtio_compare_verdict_fails(result->rows[i].verdict);
        result->thresholds_changed += result->rows[i].verdict == XTIO_COMPARE_CHANGED ||
                                      result->rows[i].verdict == XTIO_COMPARE_CHANGED_FAILS;
    }
    result->exit_code =
        result->thresholds_failed || result->findings_new || result->findings_missing ? 1 : 0;
    return 0;
}

void xtio_compare_result_fini(struct xtio_compare_result *result)
{
    free(result->rows);
    free(result->findings);
    memset(result, 0, sizeof(*result));
}

const char *xtio_compare_verdict_name(enum xtio_compare_verdict verdict)
{
    switch (verdict) {
    case XTIO_COMPARE_WITHIN:
        return "ok";
    case XTIO_COMPARE_CHANGED:
        return "changed";
    case XTIO_COMPARE_CHANGED_FAILS:
        return "FAIL: changed";
    case XTIO_COMPARE_CROSSED:
        return "FAIL";
    case XTIO_COMPARE_LOST:
        return "FAIL: no current value";
    case XTIO_COMPARE_NO_BASELINE:
        return "ok: no baseline value";
    case XTIO_COMPARE_NO_DATA:
        return "ok: no values";
    case XTIO_COMPARE_SHOWN:
        return "-";
    case XTIO_COMPARE_NEW:
        return "FAIL: new";
    case XTIO_COMPARE_KNOWN:
        return "known";
    case XTIO_COMPARE_FIXED:
        return "fixed";
    case XTIO_COMPARE_CLEAN:
        return "none";
    case XTIO_COMPARE_EXPECTED:
        return "expected";
    case XTIO_COMPARE_MISSING:
        return "FAIL: expected, missing";
    }
    return "?";
}

bool xtio_compare_verdict_fails(enum xtio_compare_verdict verdict)
{
    return verdict == XTIO_COMPARE_CROSSED || verdict == XTIO_COMPARE_CHANGED_FAILS ||
           verdict == XTIO_COMPARE_LOST || verdict == XTIO_COMPARE_NEW ||
           verdict == XTIO_COMPARE_MISSING;
}
