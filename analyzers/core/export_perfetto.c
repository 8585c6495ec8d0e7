/*
 * The perfetto view of export.h: a timeline in the Chrome JSON trace event format, which
 * ui.perfetto.dev and chrome://tracing open. docs/analysis.md ("Perfetto timeline") says what is
 * drawn. Records are kept as the analysis is fed, compactly, and those of the bound (--begin,
 * --end,
 * --limit, counted from the trace's first timestamp, known at the end) selected, laid out, sorted
 * and written at finish.
 *
 * Flows are the format's version 1 events (ph s, t, f), bound to the slice that encloses them on
 * their track (bp "e"): a loop's write of a run is one slice that many handoffs' flows go through,
 * which version 2 (one bind_id per slice) cannot draw. Perfetto binds a flow event to the topmost
 * open slice of its track when it reads the event, and reads events of one timestamp as complete
 * slices by decreasing duration, then the rest in file order. So the file is written in that
 * order, with at most one zero-length slice per (track, timestamp) carrying flows, each flow
 * event after the slices of its timestamp and before the instants (which are slices too).
 */
#include "export_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* Tracks that are no thread of the trace (the flush lanes) take tids from here: above any kernel
 * thread id (pid_max is at most 2^22). */
#define LANE_TID_BASE 1000000000
#define CATEGORY      "xtio"

struct handoff {
    int64_t vpid;
    uint64_t conn_id;
    uint64_t handoff_id;
    uint64_t seq;
    uint64_t bytes;
    uint64_t enqueue_ns; /* 0: no step of its own (enqueue_drawn()) */
    uint64_t write_ns;
    uint64_t flush_ns; /* 0: not flushed */
    int32_t producer_tid;
    int32_t writer_tid;
    uint32_t records;
    uint32_t lane; /* flush lane, from 1; 0: no flush slice */
    int8_t mode;
    int8_t finding;
    bool drawn;
};

struct sync_wait {
    int64_t vpid;
    uint64_t conn_id;
    uint64_t handoff_id;
    uint64_t enqueue_ns;
    uint64_t end_ns;
    int32_t tid;
    bool drawn;
};

struct marker {
    int64_t vpid;
    uint64_t ts_ns;
    uint64_t conn_id;
    uint64_t handoff_id;
    uint64_t seq;
    uint64_t bytes;
    int32_t tid;
    int8_t kind;
    int8_t mode;
    bool has_seq;
    bool drawn;
};

/* A handoff's enqueue or write: a zero-length slice on its thread, one per thread and
 * timestamp, however many handoffs it has. */
enum point_kind { POINT_ENQUEUE, POINT_WRITE };
struct point {
    int64_t vpid;
    uint64_t ts_ns;
    int32_t tid;
    uint32_t kind;
    size_t handoff; /* index in perfetto.handoffs */
};

/* A handoff's flush. The handoffs of a connection that one flush took to the kernel are one
 * slice, from the first one's write. */
struct flush_key {
    int64_t vpid;
    uint64_t conn_id;
    uint64_t write_ns;
    uint64_t flush_ns;
    size_t handoff;
};

/* One entry of the traceEvents array. */
enum item_kind {
    ITEM_SYNC_WAIT, /* index: sync wait */
    ITEM_POINT,     /* index: first point of its group; count: points in it */
    ITEM_FLUSH,     /* index: first flush of its group; count: flushes in it */
    ITEM_FLOW,      /* index: handoff; count: its step (enum step) */
    ITEM_MARKER,    /* index: marker */
};
enum step { STEP_ENQUEUE, STEP_WRITE, STEP_FLUSH };
struct item {
    uint64_t ts_ns;
    uint64_t dur_ns; /* slices */
    size_t index;
    size_t order; /* creation order, for ties */
    uint32_t kind;
    uint32_t count;
};

#define VECTOR(type)                                                                               \
    struct {                                                                                       \
        type *items;                                                                               \
        size_t len;                                                                                \
        size_t cap;                                                                                \
    }

struct perfetto {
    FILE *out; /* weak */
    struct xtio_export_options options;
    VECTOR(struct handoff) handoffs;
    VECTOR(struct sync_wait) waits;
    VECTOR(struct marker) markers;
    VECTOR(struct point) points;
    struct flush_key *flushes; /* owned: the drawn flushes, grouped (assign_lanes()) */
    VECTOR(struct item) items;
    uint64_t origin_ns; /* ts 0 of the file */
    /* Without --begin the window starts at the trace's first event, before any handoff, and the
     * bound is the first max_handoffs by start, whatever the trace's first timestamp: then the
     * handoffs are a max-heap by start of at most max_handoffs, and the others are counted; with
     * --end, their starts are kept, to tell at the end those after it from those over the limit. */
    bool bounded;
    uint64_t evicted_count;
    VECTOR(uint64_t) evicted;
    uint64_t waits_seen;
    /* What the bound left out. */
    uint64_t cut_before, cut_after, cut_limit;
    uint64_t waits_cut, markers_cut;
};

/* Room for one more element in a vector: its address, or NULL (-ENOMEM). */
static void *grow(void **items, size_t *len, size_t *cap, size_t size)
{
    if (*len == *cap) {
        size_t cap2 = *cap ? *cap * 2 : 1024;
        void *p = realloc(*items, cap2 * size);
        if (!p)
            return NULL;
        *items = p;
        *cap = cap2;
    }
    return (char *)*items + (*len)++ * size;
}
#define PUSH(v) grow((void **)&(v).items, &(v).len, &(v).cap, sizeof(*(v).items))

static int create(void **state, const struct xtio_export_options *options, FILE *out)
{
    struct perfetto *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->out = out;
    p->options = *options; /* export.c gave max_handoffs its default */
    p->bounded = options->begin_ns == 0;
    *state = p;
    return 0;
}

static void destroy(void *state)
{
    struct perfetto *p = state;
    if (!p)
        return;
    free(p->handoffs.items);
    free(p->evicted.items);
    free(p->waits.items);
    free(p->markers.items);
    free(p->points.items);
    free(p->flushes);
    free(p->items.items);
    free(p);
}

/* Whether a handoff's enqueue is drawn as a step of its own on its producer's thread: not for an
 * inline write (the core gives its write as its enqueue), nor one whose enqueue was not seen. */
static bool enqueue_drawn(const struct xtio_handoff_record *r)
{
    return r->enqueue_ns != 0 && r->producer_tid >= 0 && r->enqueue_ns <= r->write_ns &&
           !(r->producer_tid == r->writer_tid && r->enqueue_ns == r->write_ns);
}

static uint64_t handoff_start(const struct handoff *h)
{
    return h->enqueue_ns ? h->enqueue_ns : h->write_ns;
}

static uint64_t handoff_end(const struct handoff *h)
{
    return h->flush_ns ? h->flush_ns : h->write_ns;
}

#define CMP(a, b)                                                                                  \
    do {                                                                                           \
        if ((a) != (b))                                                                            \
            return (a) < (b) ? -1 : 1;                                                             \
    } while (0)

static int by_start(const void *a, const void *b)
{
    const struct handoff *x = a, *y = b;
    CMP(handoff_start(x), handoff_start(y));
    CMP(x->write_ns, y->write_ns);
    CMP(x->vpid, y->vpid);
    CMP(x->conn_id, y->conn_id);
    CMP(x->seq, y->seq);
    return 0;
}

/* The heap of handoffs (p->bounded): the one of the latest start on top. */
static void heap_sift_down(struct handoff *heap, size_t len, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < len && by_start(&heap[l], &heap[m]) > 0)
            m = l;
        if (r < len && by_start(&heap[r], &heap[m]) > 0)
            m = r;
        if (m == i)
            return;
        struct handoff t = heap[i];
        heap[i] = heap[m];
        heap[m] = t;
        i = m;
    }
}

static void heap_sift_up(struct handoff *heap, size_t i)
{
    while (i > 0 && by_start(&heap[(i - 1) / 2], &heap[i]) < 0) {
        struct handoff t = heap[i];
        heap[i] = heap[(i - 1) / 2];
        heap[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static bool heap_full(const struct perfetto *p)
{
    return p->bounded && p->handoffs.len >= p->options.max_handoffs;
}

static int on_handoff(void *data, const struct xtio_handoff_record *r)
{
    struct perfetto *p = data;
    struct handoff record = {
        .vpid = r->vpid,
        .conn_id = r->conn_id,
        .handoff_id = r->handoff_id,
        .seq = r->seq,
        .bytes = r->bytes,
        .enqueue_ns = enqueue_drawn(r) ? r->enqueue_ns : 0,
        .write_ns = r->write_ns,
        .flush_ns = r->flush_ns >= r->write_ns ? r->flush_ns : 0,
        .producer_tid = (int32_t)r->producer_tid,
        .writer_tid = (int32_t)r->writer_tid,
        .records = r->records,
        .mode = (int8_t)r->mode,
        .finding = (int8_t)r->finding,
    };
    if (heap_full(p)) {
        struct handoff *top = &p->handoffs.items[0];
        bool keep = by_start(&record, top) < 0;
        p->evicted_count++;
        if (p->options.end_ns) {
            uint64_t *start = PUSH(p->evicted);
            if (!start)
                return -ENOMEM;
            *start = handoff_start(keep ? top : &record);
        }
        if (keep) {
            *top = record;
            heap_sift_down(p->handoffs.items, p->handoffs.len, 0);
        }
        return 0;
    }
    struct handoff *h = PUSH(p->handoffs);
    if (!h)
        return -ENOMEM;
    *h = record;
    if (p->bounded)
        heap_sift_up(p->handoffs.items, p->handoffs.len - 1);
    return 0;
}

static int on_sync_wait(void *data, const struct xtio_sync_wait_record *r)
{
    struct perfetto *p = data;
    if (r->end_ns < r->enqueue_ns)
        return 0; /* not drawable: a clock that went back */
    p->waits_seen++;
    /* Its handoff starts at its enqueue: later than every handoff kept, it is not drawn. */
    if (heap_full(p) && r->enqueue_ns > handoff_start(&p->handoffs.items[0])) {
        p->waits_cut++;
        return 0;
    }
    struct sync_wait *w = PUSH(p->waits);
    if (!w)
        return -ENOMEM;
    *w = (struct sync_wait){
        .vpid = r->vpid,
        .conn_id = r->conn_id,
        .handoff_id = r->handoff_id,
        .enqueue_ns = r->enqueue_ns,
        .end_ns = r->end_ns,
        .tid = (int32_t)r->producer_tid,
    };
    return 0;
}

static int on_finding(void *data, const struct xtio_finding_record *r)
{
    struct perfetto *p = data;
    struct marker *m = PUSH(p->markers);
    if (!m)
        return -ENOMEM;
    *m = (struct marker){
        .vpid = r->vpid,
        .ts_ns = r->ts_ns,
        .conn_id = r->conn_id,
        .handoff_id = r->handoff_id,
        .seq = r->seq,
        .bytes = r->bytes,
        .tid = (int32_t)(r->tid >= 0 ? r->tid : r->owner_tid),
        .kind = (int8_t)r->kind,
        .mode = (int8_t)r->mode,
        .has_seq = r->has_seq,
    };
    return 0;
}

static void observe(struct xtio_analysis_observer *observer)
{
    observer->handoff = on_handoff;
    observer->sync_wait = on_sync_wait;
    observer->finding = on_finding;
}

/* ---- Selection ------------------------------------------------------------------------------ */

static int by_key(const void *a, const void *b)
{
    const struct handoff *x = a, *y = b;
    CMP(x->vpid, y->vpid);
    CMP(x->handoff_id, y->handoff_id);
    return 0;
}

static int by_time(const void *a, const void *b)
{
    const struct marker *x = a, *y = b;
    CMP(x->ts_ns, y->ts_ns);
    CMP(x->vpid, y->vpid);
    CMP(x->tid, y->tid);
    return 0;
}

/* The handoff (vpid, handoff_id) among the handoffs sorted by_key; NULL when not there. */
static const struct handoff *find_handoff(const struct perfetto *p, int64_t vpid,
                                          uint64_t handoff_id)
{
    if (handoff_id == 0)
        return NULL;
    struct handoff key = {.vpid = vpid, .handoff_id = handoff_id};
    return bsearch(&key, p->handoffs.items, p->handoffs.len, sizeof(key), by_key);
}

/* qsort, but for an empty array too: qsort's base must not be NULL even when there is nothing. */
static void sort(void *base, size_t count, size_t size, int (*compare)(const void *, const void *))
{
    if (count > 1)
        qsort(base, count, size, compare);
}

/* Marks what is drawn: the handoffs that overlap the window, the first max_handoffs of them by
 * start; the sync waits and markers of those (or, without a handoff, those in the window, the
 * first max_handoffs of them). Counts what is left out. */
static void select_drawn(struct perfetto *p, uint64_t first_ns)
{
    uint64_t begin = first_ns + p->options.begin_ns;
    uint64_t end = p->options.end_ns ? first_ns + p->options.end_ns : UINT64_MAX;
    uint64_t max = p->options.max_handoffs;

    sort(p->handoffs.items, p->handoffs.len, sizeof(struct handoff), by_start);
    uint64_t taken = 0;
    /* The start of the last handoff drawn when the limit cut any: what starts later was cut. */
    uint64_t last_start = 0;
    for (size_t i = 0; i < p->handoffs.len; i++) {
        struct handoff *h = &p->handoffs.items[i];
        if (handoff_end(h) < begin)
            p->cut_before++;
        else if (handoff_start(h) > end)
            p->cut_after++;
        else if (taken >= max)
            p->cut_limit++;
        else {
            h->drawn = true;
            taken++;
            last_start = handoff_start(h);
        }
    }
    /* Those the heap let go started after every one kept: after the window (only with --end),
     * or over the limit. */
    p->cut_limit += p->evicted_count - p->evicted.len;
    for (size_t i = 0; i < p->evicted.len; i++) {
        if (p->evicted.items[i] > end)
            p->cut_after++;
        else
            p->cut_limit++;
    }
    uint64_t limit_start = p->cut_limit ? last_start : UINT64_MAX;
    /* Sorted by (vpid, handoff_id) for the look-ups below; the handoffs of id 0 (not known) are
     * never looked up. */
    sort(p->handoffs.items, p->handoffs.len, sizeof(struct handoff), by_key);

    for (size_t i = 0; i < p->waits.len; i++) {
        struct sync_wait *w = &p->waits.items[i];
        const struct handoff *h = find_handoff(p, w->vpid, w->handoff_id);
        /* A wait whose handoff was dropped has no handoff to follow: the window and the limit
         * decide. */
        w->drawn = h ? h->drawn
                     : w->end_ns >= begin && w->enqueue_ns <= end && w->enqueue_ns <= limit_start;
        if (!w->drawn)
            p->waits_cut++;
    }

    sort(p->markers.items, p->markers.len, sizeof(struct marker), by_time);
    uint64_t alone = 0;
    for (size_t i = 0; i < p->markers.len; i++) {
        struct marker *m = &p->markers.items[i];
        const struct handoff *h = find_handoff(p, m->vpid, m->handoff_id);
        if (h)
            m->drawn = h->drawn;
        else
            m->drawn = m->ts_ns >= begin && m->ts_ns <= end && m->ts_ns <= limit_start &&
                       m->tid >= 0 && alone++ < max;
        if (!m->drawn)
            p->markers_cut++;
    }
}

/* ---- Layout --------------------------------------------------------------------------------- */

static int by_point(const void *a, const void *b)
{
    const struct point *x = a, *y = b;
    CMP(x->vpid, y->vpid);
    CMP(x->tid, y->tid);
    CMP(x->ts_ns, y->ts_ns);
    CMP(x->kind, y->kind);
    CMP(x->handoff, y->handoff);
    return 0;
}

/* One zero-length slice per track and timestamp: two would stack, and the flow events of that
 * timestamp would all bind to the top one. A thread that writes a handoff and enqueues another
 * at one timestamp gets one slice of both. */
static bool same_slot(const struct point *x, const struct point *y)
{
    return x->vpid == y->vpid && x->tid == y->tid && x->ts_ns == y->ts_ns;
}

/* Where each flush slice goes. A slice is one flush of one connection: the handoffs it took to
 * the kernel, from the first one's write. The flushes of a process's connections overlap without
 * nesting, which one track cannot show, so they go on flush lanes, tracks of their own: a lane
 * takes a slice that starts after its last one ended (strictly, so that a flow event at a
 * slice's end binds to it and not to a next one). */
static int by_flush(const void *a, const void *b)
{
    const struct flush_key *x = a, *y = b;
    CMP(x->vpid, y->vpid);
    CMP(x->conn_id, y->conn_id);
    CMP(x->flush_ns, y->flush_ns);
    CMP(x->write_ns, y->write_ns);
    CMP(x->handoff, y->handoff);
    return 0;
}

struct flush_group {
    int64_t vpid;
    uint64_t start_ns; /* the first write */
    uint64_t end_ns;   /* the flush */
    size_t first;      /* in perfetto.flushes */
    size_t count;
};

static int by_group_start(const void *a, const void *b)
{
    const struct flush_group *x = a, *y = b;
    CMP(x->vpid, y->vpid);
    CMP(x->start_ns, y->start_ns);
    CMP(x->end_ns, y->end_ns);
    CMP(x->first, y->first);
    return 0;
}

static int add_item(struct perfetto *p, enum item_kind kind, uint64_t ts_ns, uint64_t dur_ns,
                    size_t index, uint32_t count)
{
    struct item *it = PUSH(p->items);
    if (!it)
        return -ENOMEM;
    *it = (struct item){.ts_ns = ts_ns,
                        .dur_ns = dur_ns,
                        .index = index,
                        .order = p->items.len,
                        .kind = kind,
                        .count = count};
    return 0;
}

/* Groups the drawn flushes into slices (p->flushes) and gives each a lane. */
static int assign_lanes(struct perfetto *p)
{
    size_t n = 0, ngroups = 0, nlanes = 0;
    struct flush_key *keys = malloc((p->handoffs.len + 1) * sizeof(*keys));
    struct flush_group *groups = malloc((p->handoffs.len + 1) * sizeof(*groups));
    uint64_t *lanes = NULL; /* each lane's last end */
    if (!keys || !groups) {
        free(keys);
        free(groups);
        return -ENOMEM;
    }
    p->flushes = keys;
    for (size_t i = 0; i < p->handoffs.len; i++) {
        const struct handoff *h = &p->handoffs.items[i];
        if (h->drawn && h->flush_ns)
            keys[n++] = (struct flush_key){h->vpid, h->conn_id, h->write_ns, h->flush_ns, i};
    }
    sort(keys, n, sizeof(*keys), by_flush);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && keys[j].vpid == keys[i].vpid && keys[j].conn_id == keys[i].conn_id &&
               keys[j].flush_ns == keys[i].flush_ns)
            j++;
        groups[ngroups++] =
            (struct flush_group){keys[i].vpid, keys[i].write_ns, keys[i].flush_ns, i, j - i};
        i = j;
    }
    sort(groups, ngroups, sizeof(*groups), by_group_start);
    int status = 0;
    size_t used = 0; /* lanes of the current process */
    for (size_t g = 0; g < ngroups && status == 0; g++) {
        const struct flush_group *group = &groups[g];
        if (g > 0 && groups[g - 1].vpid != group->vpid)
            used = 0;
        size_t k = 0;
        while (k < used && lanes[k] >= group->start_ns)
            k++;
        if (k == used && used++ == nlanes) {
            uint64_t *grown = realloc(lanes, (nlanes + 1) * sizeof(*lanes));
            if (!grown) {
                status = -ENOMEM;
                break;
            }
            lanes = grown;
            nlanes++;
        }
        lanes[k] = group->end_ns;
        for (size_t m = group->first; m < group->first + group->count; m++)
            p->handoffs.items[keys[m].handoff].lane = (uint32_t)k + 1;
        status = add_item(p, ITEM_FLUSH, group->start_ns, group->end_ns - group->start_ns,
                          group->first, (uint32_t)group->count);
    }
    free(lanes);
    free(groups);
    return status;
}

/* Slices first, by decreasing duration; then flow events; then instants; each in creation order:
 * the order in which Perfetto reads events of one timestamp (see the top of the file). */
static int item_rank(const struct item *it)
{
    return it->kind == ITEM_FLOW ? 1 : it->kind == ITEM_MARKER ? 2 : 0;
}

static int by_item(const void *a, const void *b)
{
    const struct item *x = a, *y = b;
    CMP(x->ts_ns, y->ts_ns);
    CMP(item_rank(x), item_rank(y));
    if (item_rank(x) == 0)
        CMP(y->dur_ns, x->dur_ns);
    CMP(x->order, y->order);
    return 0;
}

static int lay_out(struct perfetto *p)
{
    int status = assign_lanes(p);
    if (status)
        return status;
    for (size_t i = 0; i < p->handoffs.len; i++) {
        const struct handoff *h = &p->handoffs.items[i];
        if (!h->drawn)
            continue;
        struct point *pt;
        if (h->enqueue_ns) {
            if (!(pt = PUSH(p->points)))
                return -ENOMEM;
            *pt = (struct point){h->vpid, h->enqueue_ns, h->producer_tid, POINT_ENQUEUE, i};
        }
        if (!(pt = PUSH(p->points)))
            return -ENOMEM;
        *pt = (struct point){h->vpid, h->write_ns, h->writer_tid, POINT_WRITE, i};
    }
    sort(p->points.items, p->points.len, sizeof(struct point), by_point);
    for (size_t i = 0; i < p->points.len;) {
        size_t j = i + 1;
        while (j < p->points.len && same_slot(&p->points.items[i], &p->points.items[j]))
            j++;
        if ((status = add_item(p, ITEM_POINT, p->points.items[i].ts_ns, 0, i, (uint32_t)(j - i))))
            return status;
        i = j;
    }
    for (size_t i = 0; i < p->waits.len; i++) {
        const struct sync_wait *w = &p->waits.items[i];
        if (w->drawn &&
            (status = add_item(p, ITEM_SYNC_WAIT, w->enqueue_ns, w->end_ns - w->enqueue_ns, i, 0)))
            return status;
    }
    for (size_t i = 0; i < p->handoffs.len; i++) {
        const struct handoff *h = &p->handoffs.items[i];
        if (!h->drawn)
            continue;
        bool enqueue = h->enqueue_ns != 0, flush = h->flush_ns != 0;
        /* A flow needs two steps: a handoff with its write alone has none. */
        if (!enqueue && !flush)
            continue;
        if (enqueue && (status = add_item(p, ITEM_FLOW, h->enqueue_ns, 0, i, STEP_ENQUEUE)))
            return status;
        if ((status = add_item(p, ITEM_FLOW, h->write_ns, 0, i, STEP_WRITE)))
            return status;
        if (flush && (status = add_item(p, ITEM_FLOW, h->write_ns, 0, i, STEP_FLUSH)))
            return status;
    }
    for (size_t i = 0; i < p->markers.len; i++) {
        const struct marker *m = &p->markers.items[i];
        if (m->drawn && (status = add_item(p, ITEM_MARKER, m->ts_ns, 0, i, 0)))
            return status;
    }
    sort(p->items.items, p->items.len, sizeof(struct item), by_item);
    return 0;
}

/* ---- Writing -------------------------------------------------------------------------------- */

/* Microseconds, the format's unit, exact to the nanosecond. */
static void put_us(FILE *out, const char *key, uint64_t ns)
{
    fprintf(out, ",\"%s\":%" PRIu64 ".%03u", key, ns / 1000, (unsigned)(ns % 1000));
}

static void put_string(FILE *out, const char *s)
{
    json_t *string = json_string(s);
    if (!string || json_dumpf(string, out, JSON_ENCODE_ANY) != 0)
        fputs("\"\"", out); /* a name that is not UTF-8: jansson refuses it */
    json_decref(string);
}

static const char *mode_label(int mode)
{
    const char *label = xtio_schema_mode_label(mode);
    return label ? label : "unknown";
}

/* Opens an event: its separator, phase, name, category, pid, tid and ts (from the file's
 * origin: microseconds from the clock's own origin, some 10^15, would not keep nanoseconds in the
 * doubles that viewers read them into). */
static void open_event(const struct perfetto *p, bool *first, char phase, const char *name,
                       int64_t pid, int64_t tid, uint64_t ts_ns)
{
    FILE *out = p->out;
    fputs(*first ? "\n" : ",\n", out);
    *first = false;
    fprintf(out, "{\"ph\":\"%c\",\"name\":", phase);
    put_string(out, name);
    fprintf(out, ",\"cat\":\"" CATEGORY "\",\"pid\":%" PRId64 ",\"tid\":%" PRId64, pid, tid);
    put_us(out, "ts", ts_ns - p->origin_ns);
}

/* The handoffs of one slice. */
struct group {
    const struct handoff *first;
    uint32_t count;
    bool one_mode;
    bool one_conn;
    uint64_t bytes;
    uint64_t seq_min;
    uint64_t seq_max;
};

static void group_add(struct group *g, const struct handoff *h)
{
    if (g->count++ == 0) {
        *g = (struct group){h, 1, true, true, h->bytes, h->seq, h->seq};
        return;
    }
    g->one_mode = g->one_mode && h->mode == g->first->mode;
    g->one_conn = g->one_conn && h->conn_id == g->first->conn_id;
    g->bytes += h->bytes;
    g->seq_min = h->seq < g->seq_min ? h->seq : g->seq_min;
    g->seq_max = h->seq > g->seq_max ? h->seq : g->seq_max;
}

/* "write async", or "write async x12" for a run. */
static void group_name(const struct group *g, const char *what, char *name, size_t size)
{
    if (g->count == 1)
        snprintf(name, size, "%s %s", what, mode_label(g->first->mode));
    else if (g->one_mode)
        snprintf(name, size, "%s %s x%" PRIu32, what, mode_label(g->first->mode), g->count);
    else
        snprintf(name, size, "%s x%" PRIu32, what, g->count);
}

/* Opens args with what every slice of handoffs says: how many, their bytes, connection and seqs;
 * for one handoff, its id and records too. */
static void group_args(FILE *out, const struct group *g)
{
    const struct handoff *h = g->first;
    fprintf(out, ",\"args\":{\"handoffs\":%" PRIu32 ",\"bytes\":%" PRIu64, g->count, g->bytes);
    if (g->one_conn)
        fprintf(out, ",\"conn\":%" PRIu64, h->conn_id);
    if (g->count == 1)
        fprintf(out, ",\"seq\":%" PRIu64 ",\"handoff\":%" PRIu64 ",\"records\":%" PRIu32, h->seq,
                h->handoff_id, h->records);
    else if (g->one_conn)
        fprintf(out, ",\"seq_first\":%" PRIu64 ",\"seq_last\":%" PRIu64, g->seq_min, g->seq_max);
}

static void write_point(const struct perfetto *p, const struct item *it, bool *first)
{
    FILE *out = p->out;
    const struct point *pts = &p->points.items[it->index];
    struct group g = {0};
    uint32_t writes = 0;
    for (uint32_t k = 0; k < it->count; k++) {
        group_add(&g, &p->handoffs.items[pts[k].handoff]);
        writes += pts[k].kind == POINT_WRITE;
    }
    char name[96];
    group_name(&g,
               writes == 0         ? "enqueue"
               : writes == g.count ? "write"
                                   : "enqueue+write",
               name, sizeof(name));
    open_event(p, first, 'X', name, pts[0].vpid, pts[0].tid, pts[0].ts_ns);
    fputs(",\"dur\":0", out);
    group_args(out, &g);
    if (writes > 0 && writes < g.count)
        fprintf(out, ",\"writes\":%" PRIu32, writes);
    const struct handoff *h = g.first;
    if (g.count == 1 && pts[0].kind == POINT_WRITE) {
        if (h->enqueue_ns)
            put_us(out, "queue_wait_us", h->write_ns - h->enqueue_ns);
        if (h->finding >= 0) {
            fputs(",\"finding\":", out);
            put_string(out, xtio_finding_kind_name(h->finding));
        }
    }
    fputs("}}", out);
}

static void write_flush(const struct perfetto *p, const struct item *it, bool *first)
{
    FILE *out = p->out;
    const struct flush_key *keys = &p->flushes[it->index];
    struct group g = {0};
    for (uint32_t k = 0; k < it->count; k++)
        group_add(&g, &p->handoffs.items[keys[k].handoff]);
    const struct handoff *h = g.first;
    char name[96];
    group_name(&g, "flush", name, sizeof(name));
    open_event(p, first, 'X', name, h->vpid, LANE_TID_BASE + (int64_t)h->lane, h->write_ns);
    put_us(out, "dur", h->flush_ns - h->write_ns);
    group_args(out, &g);
    fprintf(out, ",\"writer_tid\":%" PRId32, h->writer_tid);
    if (g.count == 1)
        put_us(out, "end_to_end_us", h->flush_ns - handoff_start(h));
    fputs("}}", out);
}

static void write_flow(const struct perfetto *p, const struct item *it, bool *first)
{
    FILE *out = p->out;
    const struct handoff *h = &p->handoffs.items[it->index];
    bool enqueue = h->enqueue_ns != 0, flush = h->flush_ns != 0;
    enum step step = it->count;
    char phase = 't';
    int64_t tid = h->writer_tid;
    if (step == STEP_ENQUEUE || (step == STEP_WRITE && !enqueue))
        phase = 's';
    else if (step == STEP_FLUSH || (step == STEP_WRITE && !flush))
        phase = 'f';
    if (step == STEP_ENQUEUE)
        tid = h->producer_tid;
    else if (step == STEP_FLUSH)
        tid = LANE_TID_BASE + (int64_t)h->lane;
    open_event(p, first, phase, "handoff", h->vpid, tid, it->ts_ns);
    /* Flow ids: one per drawn handoff, its index, unique across processes. */
    fprintf(out, ",\"id\":\"0x%zx\"%s}", it->index + 1, phase == 's' ? "" : ",\"bp\":\"e\"");
}

static void write_wait(const struct perfetto *p, const struct item *it, bool *first)
{
    FILE *out = p->out;
    const struct sync_wait *w = &p->waits.items[it->index];
    open_event(p, first, 'X', "sync wait", w->vpid, w->tid, w->enqueue_ns);
    put_us(out, "dur", w->end_ns - w->enqueue_ns);
    fprintf(out, ",\"args\":{\"conn\":%" PRIu64 ",\"handoff\":%" PRIu64 "}}", w->conn_id,
            w->handoff_id);
}

static void write_marker(const struct perfetto *p, const struct item *it, bool *first)
{
    FILE *out = p->out;
    const struct marker *m = &p->markers.items[it->index];
    const char *kind = xtio_finding_kind_name(m->kind);
    open_event(p, first, 'i', kind ? kind : "finding", m->vpid, m->tid, m->ts_ns);
    fprintf(out, ",\"s\":\"t\",\"args\":{\"conn\":%" PRIu64, m->conn_id);
    if (m->has_seq)
        fprintf(out, ",\"seq\":%" PRIu64, m->seq);
    if (m->handoff_id)
        fprintf(out, ",\"handoff\":%" PRIu64, m->handoff_id);
    fprintf(out, ",\"bytes\":%" PRIu64, m->bytes);
    if (m->mode >= 0) {
        fputs(",\"mode\":", out);
        put_string(out, mode_label(m->mode));
    }
    fputs("}}", out);
}

struct track {
    int64_t vpid;
    int64_t tid;
};

static int by_track(const void *a, const void *b)
{
    const struct track *x = a, *y = b;
    CMP(x->vpid, y->vpid);
    CMP(x->tid, y->tid);
    return 0;
}

static void write_metadata_event(FILE *out, bool *first, const char *what, int64_t pid, int64_t tid,
                                 const char *key, const char *name, int64_t index)
{
    fputs(*first ? "\n" : ",\n", out);
    *first = false;
    fprintf(out,
            "{\"ph\":\"M\",\"name\":\"%s\",\"pid\":%" PRId64 ",\"tid\":%" PRId64
            ",\"ts\":0,\"args\":{",
            what, pid, tid);
    if (name) {
        fprintf(out, "\"%s\":", key);
        put_string(out, name);
    } else {
        fprintf(out, "\"%s\":%" PRId64, key, index);
    }
    fputs("}}", out);
}

/* Process and track names: every (pid, tid) that an item is drawn on. */
static int write_names(const struct perfetto *p, const xtio_analysis *analysis, bool *first)
{
    size_t n = 0;
    struct track *tracks = malloc(
        (p->points.len + p->waits.len + p->markers.len + p->handoffs.len + 1) * sizeof(*tracks));
    if (!tracks)
        return -ENOMEM;
    for (size_t i = 0; i < p->points.len; i++)
        tracks[n++] = (struct track){p->points.items[i].vpid, p->points.items[i].tid};
    for (size_t i = 0; i < p->waits.len; i++)
        if (p->waits.items[i].drawn)
            tracks[n++] = (struct track){p->waits.items[i].vpid, p->waits.items[i].tid};
    for (size_t i = 0; i < p->markers.len; i++)
        if (p->markers.items[i].drawn)
            tracks[n++] = (struct track){p->markers.items[i].vpid, p->markers.items[i].tid};
    for (size_t i = 0; i < p->handoffs.len; i++)
        if (p->handoffs.items[i].lane)
            tracks[n++] = (struct track){p->handoffs.items[i].vpid,
                                         LANE_TID_BASE + (int64_t)p->handoffs.items[i].lane};
    sort(tracks, n, sizeof(*tracks), by_track);
    FILE *out = p->out;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && by_track(&tracks[i - 1], &tracks[i]) == 0)
            continue;
        const struct track *t = &tracks[i];
        if (i == 0 || tracks[i - 1].vpid != t->vpid) {
            struct xtio_process_summary summary = {0};
            char fallback[48];
            const char *name = NULL;
            if (xtio_analysis_process_summary(analysis, t->vpid, &summary) == 0 && summary.name[0])
                name = summary.name;
            else {
                snprintf(fallback, sizeof(fallback), "pid %" PRId64, t->vpid);
                name = fallback;
            }
            write_metadata_event(out, first, "process_name", t->vpid, 0, "name", name, 0);
        }
        if (t->tid >= LANE_TID_BASE) {
            char name[64];
            snprintf(name, sizeof(name), "flush lane %" PRId64, t->tid - LANE_TID_BASE);
            write_metadata_event(out, first, "thread_name", t->vpid, t->tid, "name", name, 0);
            /* After the threads. */
            write_metadata_event(out, first, "thread_sort_index", t->vpid, t->tid, "sort_index",
                                 NULL, t->tid);
        } else {
            const char *name = xtio_analysis_thread_name(analysis, t->vpid, t->tid);
            if (name && name[0])
                write_metadata_event(out, first, "thread_name", t->vpid, t->tid, "name", name, 0);
        }
    }
    free(tracks);
    return 0;
}

static int finish(void *state, const xtio_analysis *analysis)
{
    struct perfetto *p = state;
    FILE *out = p->out;
    uint64_t first_ns = 0, last_ns = 0;
    bool any = xtio_analysis_time_range(analysis, &first_ns, &last_ns);
    select_drawn(p, first_ns);
    int status = lay_out(p);
    if (status)
        return status;
    /* An enqueue the run carries may precede the first event. */
    p->origin_ns = first_ns;
    if (p->items.len > 0 && p->items.items[0].ts_ns < p->origin_ns)
        p->origin_ns = p->items.items[0].ts_ns;

    bool first = true;
    fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[", out);
    if ((status = write_names(p, analysis, &first)))
        return status;
    for (size_t i = 0; i < p->items.len; i++) {
        const struct item *it = &p->items.items[i];
        switch (it->kind) {
        case ITEM_POINT:
            write_point(p, it, &first);
            break;
        case ITEM_FLUSH:
            write_flush(p, it, &first);
            break;
        case ITEM_FLOW:
            write_flow(p, it, &first);
            break;
        case ITEM_SYNC_WAIT:
            write_wait(p, it, &first);
            break;
        case ITEM_MARKER:
            write_marker(p, it, &first);
            break;
        }
    }
    uint64_t handoffs = p->handoffs.len + p->evicted_count;
    uint64_t drawn = handoffs - p->cut_before - p->cut_after - p->cut_limit;
    fprintf(out,
            "\n],\n\"otherData\":{\"generator\":\"xtio-analyze\",\"format\":\"xtio timeline 1\","
            "\"ts_origin_ns\":%" PRIu64 ",\"trace_first_ns\":%" PRIu64 ",\"trace_last_ns\":%" PRIu64
            ",\"begin_ns\":%" PRIu64 ",\"end_ns\":%" PRIu64 ",\"max_handoffs\":%" PRIu64
            ",\"handoffs\":%" PRIu64 ",\"handoffs_drawn\":%" PRIu64
            ",\"handoffs_cut_before_begin\":%" PRIu64 ",\"handoffs_cut_after_end\":%" PRIu64
            ",\"handoffs_cut_over_limit\":%" PRIu64 ",\"sync_waits\":%" PRIu64
            ",\"sync_waits_cut\":%" PRIu64 ",\"findings\":%zu"
            ",\"findings_cut\":%" PRIu64 "}}\n",
            p->origin_ns, any ? first_ns : 0, any ? last_ns : 0, p->options.begin_ns,
            p->options.end_ns, p->options.max_handoffs, handoffs, drawn, p->cut_before,
            p->cut_after, p->cut_limit, p->waits_seen, p->waits_cut, p->markers.len,
            p->markers_cut);
    if (fflush(out) != 0 || ferror(out))
        return -EIO;
    return 0;
}

const struct xtio__export_ops xtio__export_perfetto = {create, destroy, observe, finish};
