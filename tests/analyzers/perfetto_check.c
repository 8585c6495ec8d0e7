/*
 * The JSON half of analyzers.perfetto.e2e (perfetto_test.sh): reads a timeline of
 * `xtio-analyze --format perfetto` and the JSON report of the same trace, and checks one
 * expectation, printing what differs.
 *
 * Usage:
 *   perfetto_check full TIMELINE REPORT
 *       the timeline keeps the rules of perfetto_check.h (it parses, every flow that starts
 *       ends, timestamps monotonic and slices nested per track, flow events in slices); every
 *       handoff of the report is drawn at its write, with a flow: per process, as many flows as
 *       handoffs, and a step at the write for every queued (not inline) one; every off-loop write
 *       has its marker on a direct write slice of its thread; every sync wait its slice
 *   perfetto_check limit TIMELINE REPORT N
 *       --limit N: N handoffs drawn, as many flows, the rest counted as cut over the limit
 *   perfetto_check window TIMELINE REPORT
 *       --begin/--end: some handoffs cut before or after, the drawn and the cut add up to the
 *       report's handoffs, and the timeline keeps the rules
 *
 * Exit status: 0 when the expectation holds, 1 when it does not, 2 on bad usage or input.
 */
#include "check_lib.h"
#include "perfetto_check.h"
#include "xtio_schema.h"

#include <stdarg.h>

const char check_name[] = "perfetto_check";

static long long integer(const json_t *object, const char *key)
{
    const json_t *v = json_object_get(object, key);
    return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

static const char *string(const json_t *object, const char *key)
{
    const char *s = json_string_value(json_object_get(object, key));
    return s ? s : "";
}

/* The report's handoffs: all of them, or of one process (pid >= 0), or its inline ones only. */
static long long report_handoffs(const json_t *report, long long pid, bool inline_only)
{
    long long total = 0;
    size_t i;
    const json_t *process;
    json_array_foreach(json_object_get(report, "processes"), i, process)
    {
        if (pid >= 0 && integer(process, "pid") != pid)
            continue;
        for (int m = 0; m < XTIO_SCHEMA_MODE_COUNT; m++)
            if (!inline_only || m == XTIO_SCHEMA_MODE_INLINE)
                total += integer(
                    json_object_get(json_object_get(process, "modes"), xtio_schema_mode_label(m)),
                    "handoffs");
    }
    return total;
}

/* Events of phase ph (and of name, when not NULL) of process pid (any when < 0). */
static long long count(const json_t *timeline, const char *ph, const char *name, long long pid)
{
    long long n = 0;
    size_t i;
    const json_t *event;
    json_array_foreach(json_object_get(timeline, "traceEvents"), i, event)
    {
        if (strcmp(string(event, "ph"), ph) == 0 &&
            (!name || strcmp(string(event, "name"), name) == 0) &&
            (pid < 0 || integer(event, "pid") == pid))
            n++;
    }
    return n;
}

static void check_rules(const json_t *timeline, struct timeline_stats *stats)
{
    const char *why = timeline_check(timeline, stats);
    if (why)
        problem("the timeline breaks a rule: %s", why);
}

/* Where a slice named "write direct" is. */
struct place {
    long long pid, tid;
    double ts;
};

static int by_place(const void *a, const void *b)
{
    const struct place *x = a, *y = b;
    if (x->pid != y->pid)
        return x->pid < y->pid ? -1 : 1;
    if (x->tid != y->tid)
        return x->tid < y->tid ? -1 : 1;
    return x->ts < y->ts ? -1 : x->ts > y->ts;
}

static struct place place_of(const json_t *event)
{
    return (struct place){integer(event, "pid"), integer(event, "tid"),
                          json_number_value(json_object_get(event, "ts"))};
}

/* Every off_loop_write marker sits at a direct write slice: same pid, tid and ts. */
static void check_markers_on_writes(const json_t *timeline)
{
    const json_t *events = json_object_get(timeline, "traceEvents");
    struct place *writes = malloc((json_array_size(events) + 1) * sizeof(*writes));
    if (!writes)
        abort();
    size_t n = 0, i;
    const json_t *event;
    json_array_foreach(events, i, event)
    {
        if (strcmp(string(event, "ph"), "X") == 0 &&
            strcmp(string(event, "name"), "write direct") == 0)
            writes[n++] = place_of(event);
    }
    qsort(writes, n, sizeof(*writes), by_place);
    json_array_foreach(events, i, event)
    {
        if (strcmp(string(event, "ph"), "i") != 0 ||
            strcmp(string(event, "name"), "off_loop_write") != 0)
            continue;
        struct place key = place_of(event);
        if (!bsearch(&key, writes, n, sizeof(*writes), by_place)) {
            problem("the off_loop_write marker at %.3f (pid %lld tid %lld) is on no direct write",
                    key.ts, key.pid, key.tid);
            break;
        }
    }
    free(writes);
}

static void check_full(const json_t *timeline, const json_t *report)
{
    struct timeline_stats stats;
    check_rules(timeline, &stats);
    long long handoffs = report_handoffs(report, -1, false);
    if (handoffs <= 0)
        problem("the report has no handoffs");
    if (timeline_meta(timeline, "handoffs") != handoffs ||
        timeline_meta(timeline, "handoffs_drawn") != handoffs)
        problem("the timeline has %lld handoffs (%lld drawn), the report %lld",
                timeline_meta(timeline, "handoffs"), timeline_meta(timeline, "handoffs_drawn"),
                handoffs);

    /* Every handoff drawn at its write: the write slices' handoffs add up. */
    long long written = 0;
    size_t i;
    const json_t *event;
    json_array_foreach(json_object_get(timeline, "traceEvents"), i, event)
    {
        if (strcmp(string(event, "ph"), "X") != 0)
            continue;
        /* A thread that wrote one handoff and enqueued another at one timestamp: one slice. */
        if (strncmp(string(event, "name"), "write ", 6) == 0)
            written += integer(json_object_get(event, "args"), "handoffs");
        else if (strncmp(string(event, "name"), "enqueue+write ", 14) == 0)
            written += integer(json_object_get(event, "args"), "writes");
    }
    if (written != handoffs)
        problem("the write slices hold %lld handoffs, the report has %lld", written, handoffs);

    long long discarded = integer(json_object_get(report, "discards"), "events");
    if (discarded)
        printf("perfetto_check: %lld events discarded: flows and steps checked as at most one per "
               "handoff\n",
               discarded);
    size_t p;
    const json_t *process;
    long long off_loop_total = 0;
    json_array_foreach(json_object_get(report, "processes"), p, process)
    {
        long long pid = integer(process, "pid");
        long long all = report_handoffs(report, pid, false);
        long long queued = all - report_handoffs(report, pid, true);
        long long flows = count(timeline, "s", NULL, pid);
        long long ends = count(timeline, "f", NULL, pid);
        long long steps = count(timeline, "t", NULL, pid);
        /* A handoff whose flush was among discarded events has no flush slice: its flow ends at
         * its write (an inline one has none). */
        if (flows != ends || (discarded ? flows > all : flows != all))
            problem("pid %lld: %lld flows start and %lld end, for %lld handoffs", pid, flows, ends,
                    all);
        /* A queued handoff's flow goes enqueue -> write -> flush: a step at the write. */
        if (discarded ? steps > queued : steps != queued)
            problem("pid %lld: %lld flows step at a write, for %lld queued handoffs", pid, steps,
                    queued);
        long long off_loop = integer(
            json_object_get(json_object_get(process, "findings"), "off_loop_write"), "count");
        long long markers = count(timeline, "i", "off_loop_write", pid);
        if (markers != off_loop)
            problem("pid %lld: %lld off_loop_write markers, the report has %lld findings", pid,
                    markers, off_loop);
        off_loop_total += off_loop;
        long long waits =
            integer(json_object_get(json_object_get(json_object_get(process, "modes"), "sync"),
                                    "producer_blocked_us"),
                    "count");
        long long wait_slices = count(timeline, "X", "sync wait", pid);
        if (wait_slices != waits)
            problem("pid %lld: %lld sync wait slices, the report has %lld producer waits", pid,
                    wait_slices, waits);
    }
    if (off_loop_total == 0)
        problem("no off-loop write in the report: direct mode did not run");
    check_markers_on_writes(timeline);
    printf("perfetto_check: %lld handoffs, %zu flows (%zu steps), %zu slices, %zu markers, %zu "
           "tracks\n",
           handoffs, stats.flows, stats.flow_steps, stats.slices, stats.instants, stats.tracks);
}

static void check_limit(const json_t *timeline, const json_t *report, long long limit)
{
    struct timeline_stats stats;
    check_rules(timeline, &stats);
    long long handoffs = report_handoffs(report, -1, false);
    if (handoffs <= limit)
        problem("the report has %lld handoffs, not more than the limit %lld", handoffs, limit);
    if (timeline_meta(timeline, "max_handoffs") != limit ||
        timeline_meta(timeline, "handoffs_drawn") != limit ||
        timeline_meta(timeline, "handoffs_cut_over_limit") != handoffs - limit)
        problem("limit %lld: max_handoffs %lld, %lld drawn, %lld cut over the limit, of %lld",
                limit, timeline_meta(timeline, "max_handoffs"),
                timeline_meta(timeline, "handoffs_drawn"),
                timeline_meta(timeline, "handoffs_cut_over_limit"), handoffs);
    if ((long long)stats.flows != limit)
        problem("limit %lld: %zu flows drawn", limit, stats.flows);
}

static void check_window(const json_t *timeline, const json_t *report)
{
    struct timeline_stats stats;
    check_rules(timeline, &stats);
    long long handoffs = report_handoffs(report, -1, false);
    long long drawn = timeline_meta(timeline, "handoffs_drawn");
    long long before = timeline_meta(timeline, "handoffs_cut_before_begin");
    long long after = timeline_meta(timeline, "handoffs_cut_after_end");
    if (drawn + before + after + timeline_meta(timeline, "handoffs_cut_over_limit") != handoffs)
        problem("window: %lld drawn, %lld cut before, %lld after: not the report's %lld", drawn,
                before, after, handoffs);
    if (drawn <= 0 || before <= 0 || after <= 0)
        problem("window: %lld drawn, %lld cut before, %lld after: expected some of each", drawn,
                before, after);
    if ((long long)stats.flows != drawn)
        problem("window: %zu flows for %lld handoffs drawn", stats.flows, drawn);
    printf("perfetto_check: window: %lld drawn, %lld cut before, %lld after\n", drawn, before,
           after);
}

int main(int argc, char **argv)
{
    if (argc < 4 || (strcmp(argv[1], "limit") == 0) != (argc == 5) ||
        (strcmp(argv[1], "full") != 0 && strcmp(argv[1], "limit") != 0 &&
         strcmp(argv[1], "window") != 0)) {
        fprintf(stderr, "usage: perfetto_check full|window TIMELINE REPORT\n"
                        "       perfetto_check limit TIMELINE REPORT N\n");
        return 2;
    }
    json_t *timeline = load(argv[2]);
    json_t *report = load(argv[3]);
    if (strcmp(argv[1], "full") == 0)
        check_full(timeline, report);
    else if (strcmp(argv[1], "limit") == 0)
        check_limit(timeline, report, atoll(argv[4]));
    else
        check_window(timeline, report);
    json_decref(timeline);
    json_decref(report);
    return problems ? 1 : 0;
}
