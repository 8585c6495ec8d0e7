/*
 * Checks of a timeline of `xtio-analyze --format perfetto` (docs/analysis.md, "Perfetto
 * timeline"), parsed by jansson: the unit test (test_perfetto.c) and the end-to-end checker
 * (perfetto_check.c) share them.
 *
 * timeline_check() holds a timeline to the rules that Perfetto and chrome://tracing need to draw
 * it as meant: every event has its fields; on each track (pid, tid) timestamps do not decrease and
 * complete slices nest or are disjoint; every flow has one start and one end, its steps in time
 * order; each flow event binds (to the innermost slice open on its track when it is read, as
 * Perfetto binds it) to the slice of its step: an enqueue or write slice at its own timestamp,
 * or the flush slice around it.
 */
#ifndef XTIO_TESTS_ANALYZERS_PERFETTO_CHECK_H
#define XTIO_TESTS_ANALYZERS_PERFETTO_CHECK_H

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct timeline_stats {
    size_t events;   /* in traceEvents, metadata included */
    size_t slices;   /* ph X */
    size_t instants; /* ph i */
    size_t flows;    /* flow ids */
    size_t flow_steps;
    size_t tracks;
};

struct timeline_flow {
    char id[32];
    double start_ts, end_ts, last_ts;
    unsigned starts, ends, steps;
};

/* Flows by id: open addressing, grown at half full. */
struct timeline_flows {
    struct timeline_flow *slots; /* an empty id: a free slot */
    size_t len;
    size_t cap;
};

static inline size_t timeline_hash(const char *id)
{
    size_t h = 14695981039346656037ull;
    for (; *id; id++)
        h = (h ^ (unsigned char)*id) * 1099511628211ull;
    return h;
}

static inline struct timeline_flow *timeline_slot(struct timeline_flow *slots, size_t cap,
                                                  const char *id)
{
    size_t i = timeline_hash(id) & (cap - 1);
    while (slots[i].id[0] && strcmp(slots[i].id, id) != 0)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

/* The flow of id, a new one if none. */
static inline struct timeline_flow *timeline_flow_of(struct timeline_flows *flows, const char *id)
{
    if (2 * (flows->len + 1) > flows->cap) {
        size_t cap = flows->cap ? 2 * flows->cap : 1024;
        struct timeline_flow *slots = calloc(cap, sizeof(*slots));
        if (!slots)
            abort();
        for (size_t i = 0; i < flows->cap; i++)
            if (flows->slots[i].id[0])
                *timeline_slot(slots, cap, flows->slots[i].id) = flows->slots[i];
        free(flows->slots);
        flows->slots = slots;
        flows->cap = cap;
    }
    struct timeline_flow *f = timeline_slot(flows->slots, flows->cap, id);
    if (!f->id[0]) {
        snprintf(f->id, sizeof(f->id), "%s", id);
        f->last_ts = -INFINITY;
        flows->len++;
    }
    return f;
}

struct timeline_track {
    int64_t pid, tid;
    double last_ts;
    /* Open slices, outermost first. */
    struct timeline_open {
        double start, end;
        const char *name; /* weak: the timeline's */
    } open[64];
    size_t depth;
};

/* The event's number field, or NAN. */
static inline double timeline_number(const json_t *event, const char *key)
{
    const json_t *v = json_object_get(event, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static inline struct timeline_track *timeline_track_of(struct timeline_track **tracks, size_t *len,
                                                       int64_t pid, int64_t tid)
{
    for (size_t i = 0; i < *len; i++)
        if ((*tracks)[i].pid == pid && (*tracks)[i].tid == tid)
            return &(*tracks)[i];
    struct timeline_track *grown = realloc(*tracks, (*len + 1) * sizeof(**tracks));
    if (!grown)
        abort();
    *tracks = grown;
    struct timeline_track *t = &grown[(*len)++];
    memset(t, 0, sizeof(*t));
    t->pid = pid;
    t->tid = tid;
    t->last_ts = -INFINITY;
    return t;
}

/* Whether a slice of the track, among those read up to now, encloses ts: Perfetto binds a flow
 * event to the innermost slice open on its track when it reads it. */
static inline bool timeline_enclosed(const struct timeline_track *t, double ts)
{
    return t->depth > 0 && t->open[t->depth - 1].end >= ts;
}

static inline bool timeline_prefix(const char *name, const char *prefix)
{
    return strncmp(name, prefix, strlen(prefix)) == 0;
}

/* Whether the slice a flow event binds to is the step it stands for: a start at an enqueue or a
 * write, a step at a write, at the event's own timestamp (those slices have no length); an end at
 * a write or in a flush. */
static inline bool timeline_step_slice(char ph, const struct timeline_open *slice, double ts)
{
    bool write =
        timeline_prefix(slice->name, "write ") || timeline_prefix(slice->name, "enqueue+write ");
    if (ph == 's')
        return slice->start == ts && (write || timeline_prefix(slice->name, "enqueue "));
    if (ph == 't')
        return slice->start == ts && write;
    return write ? slice->start == ts : timeline_prefix(slice->name, "flush ");
}

/* NULL when the timeline follows the rules, else what breaks one (in a static buffer). */
static inline const char *timeline_check(const json_t *root, struct timeline_stats *stats)
{
    static char why[512];
    /* A slice and its flow events share a timestamp: ends are compared within a rounding of the
     * microsecond fractions the file gives (nanoseconds). */
    const double eps = 1e-6;
    memset(stats, 0, sizeof(*stats));
    const json_t *events = json_object_get(root, "traceEvents");
    if (!json_is_array(events))
        return "no traceEvents array";
    if (!json_is_string(json_object_get(root, "displayTimeUnit")))
        return "no displayTimeUnit";
    struct timeline_track *tracks = NULL;
    size_t ntracks = 0;
    struct timeline_flows flows = {0};
    const char *result = NULL;
    size_t i;
    const json_t *event;
    json_array_foreach(events, i, event)
    {
        stats->events++;
        const char *ph = json_string_value(json_object_get(event, "ph"));
        const json_t *pid = json_object_get(event, "pid"), *tid = json_object_get(event, "tid");
        if (!ph || strlen(ph) != 1 || !json_is_integer(pid) || !json_is_integer(tid) ||
            !json_is_string(json_object_get(event, "name"))) {
            snprintf(why, sizeof(why), "event %zu lacks ph, name, pid or tid", i);
            result = why;
            break;
        }
        if (ph[0] == 'M')
            continue;
        double ts = timeline_number(event, "ts");
        if (!(ts >= 0)) {
            snprintf(why, sizeof(why), "event %zu has no ts", i);
            result = why;
            break;
        }
        struct timeline_track *t =
            timeline_track_of(&tracks, &ntracks, json_integer_value(pid), json_integer_value(tid));
        if (ts < t->last_ts) {
            snprintf(why, sizeof(why),
                     "event %zu: ts %.3f before %.3f on track pid %" PRId64 " tid %" PRId64, i, ts,
                     t->last_ts, t->pid, t->tid);
            result = why;
            break;
        }
        t->last_ts = ts;
        if (ph[0] == 'X' || ph[0] == 'i') {
            double dur = ph[0] == 'X' ? timeline_number(event, "dur") : 0;
            if (!(dur >= 0)) {
                snprintf(why, sizeof(why), "slice %zu has no dur", i);
                result = why;
                break;
            }
            /* A slice closes the open ones it starts at or after the end of, as Perfetto's. */
            while (t->depth > 0 && t->open[t->depth - 1].end <= ts)
                t->depth--;
            if (t->depth > 0 && ts + dur > t->open[t->depth - 1].end + eps) {
                snprintf(
                    why, sizeof(why),
                    "slice %zu [%.3f, %.3f] overlaps a slice ending at %.3f without nesting on "
                    "track pid %" PRId64 " tid %" PRId64,
                    i, ts, ts + dur, t->open[t->depth - 1].end, t->pid, t->tid);
                result = why;
                break;
            }
            if (t->depth == sizeof(t->open) / sizeof(t->open[0])) {
                result = "slices nested too deep";
                break;
            }
            t->open[t->depth++] = (struct timeline_open){
                ts, ts + dur, json_string_value(json_object_get(event, "name"))};
            if (ph[0] == 'X')
                stats->slices++;
            else
                stats->instants++;
        } else if (ph[0] == 's' || ph[0] == 't' || ph[0] == 'f') {
            const char *id = json_string_value(json_object_get(event, "id"));
            if (!id || !id[0] || strlen(id) >= sizeof(flows.slots[0].id)) {
                snprintf(why, sizeof(why), "flow event %zu has no string id", i);
                result = why;
                break;
            }
            if (!timeline_enclosed(t, ts)) {
                snprintf(why, sizeof(why),
                         "flow event %zu (%s %s at %.3f) is in no slice of track pid %" PRId64
                         " tid %" PRId64,
                         i, ph, id, ts, t->pid, t->tid);
                result = why;
                break;
            }
            if (!timeline_step_slice(ph[0], &t->open[t->depth - 1], ts)) {
                snprintf(why, sizeof(why),
                         "flow event %zu (%s %s at %.3f) binds to \"%s\" at %.3f, not its step", i,
                         ph, id, ts, t->open[t->depth - 1].name, t->open[t->depth - 1].start);
                result = why;
                break;
            }
            if (ph[0] != 's') {
                const char *bp = json_string_value(json_object_get(event, "bp"));
                if (!bp || strcmp(bp, "e") != 0) {
                    snprintf(why, sizeof(why), "flow event %zu does not bind its enclosing slice",
                             i);
                    result = why;
                    break;
                }
            }
            struct timeline_flow *f = timeline_flow_of(&flows, id);
            if (ts < f->last_ts || f->ends > 0 || (ph[0] != 's' && f->starts == 0)) {
                snprintf(why, sizeof(why), "flow %s: %s at %.3f out of order", id, ph, ts);
                result = why;
                break;
            }
            f->last_ts = ts;
            if (ph[0] == 's') {
                if (f->starts++ > 0) {
                    snprintf(why, sizeof(why), "flow %s starts twice", id);
                    result = why;
                    break;
                }
                f->start_ts = ts;
            } else if (ph[0] == 't') {
                f->steps++;
                stats->flow_steps++;
            } else {
                f->ends++;
                f->end_ts = ts;
            }
        }
    }
    for (size_t k = 0; !result && k < flows.cap; k++) {
        const struct timeline_flow *f = &flows.slots[k];
        if (f->id[0] && (f->starts != 1 || f->ends != 1)) {
            snprintf(why, sizeof(why), "flow %s starts %u times and ends %u times", f->id,
                     f->starts, f->ends);
            result = why;
        }
    }
    stats->flows = flows.len;
    stats->tracks = ntracks;
    free(tracks);
    free(flows.slots);
    return result;
}

/* The timeline's otherData field `key` as an integer; -1 when it lacks it. */
static inline long long timeline_meta(const json_t *root, const char *key)
{
    const json_t *v = json_object_get(json_object_get(root, "otherData"), key);
    return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

#endif
