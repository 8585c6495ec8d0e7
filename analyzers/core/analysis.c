/*
 * The feeding half of the analysis core: checks each event, holds back the events of one
 * timestamp so that ties are taken in causal order, pairs handoffs by (vpid, handoff_id), matches
 * writes to flushes by offsets, and at the end sorts what is left into incomplete, unknown and
 * lost.
 */
#include "internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Worded for the user of the CLI, which prints it as is. */
#define VTID_MESSAGE                                                                               \
    "the trace lacks the vtid context; record it with: `lttng add-context -u -t vtid -t vpid` "    \
    "(before `lttng start`)"
#define NO_EVENTS_MESSAGE                                                                          \
    "the trace holds no xtio events; record them with: `lttng enable-event -u 'xtio:*'` (before "  \
    "`lttng start`)"
#define NOMEM_MESSAGE "out of memory while analysing the trace"
/* A view (export.h) failed to take a handoff, a wait or a finding: it writes a file. */
#define VIEW_MESSAGE                                                                               \
    "writing the output failed while analysing the trace: check that its file system has room "    \
    "and that the file is writable"

static const char *failure_message(int status)
{
    return status == -ENOMEM ? NOMEM_MESSAGE : VIEW_MESSAGE;
}

/* The most events of one timestamp held back to be put in causal order. */
#define HELD_MAX 4096

/* Where an event goes among others of the same timestamp: the order in which libxtio emits
 * them for one handoff and one connection. Events of different threads may share a timestamp
 * and then come out of a muxer in any order; taking them in this order instead keeps a tie from
 * looking like a write before its enqueue, a write after its close, or a flush before its write. */
static const int tie_rank[XTIO_EVENT_KIND_COUNT] = {
    [XTIO_EVENT_THREAD_NAME] = 0,     [XTIO_EVENT_LOOP_START] = 0,
    [XTIO_EVENT_CONN_OPEN] = 1,       [XTIO_EVENT_BACKPRESSURE] = 2,
    [XTIO_EVENT_HANDOFF_ENQUEUE] = 3, [XTIO_EVENT_HANDOFF_WRITE] = 4,
    [XTIO_EVENT_CONN_FLUSH] = 5,      [XTIO_EVENT_HANDOFF_RUN] = 4,
    [XTIO_EVENT_HANDOFF_DROP] = 6,    [XTIO_EVENT_SYNC_WAIT_END] = 7,
    [XTIO_EVENT_CONN_CLOSE] = 8,      [XTIO_EVENT_LOOP_STOP] = 9,
    [XTIO_EVENT_LOOP_POST] = 3,       [XTIO_EVENT_LOOP_RUN] = 4,
    [XTIO_EVENT_IO_WRITE] = 4,
};

/* ---- Small helpers ----------------------------------------------------------------------- */

/* A time that is not known: the loop's write time of a handoff outside a drain. */
#define NO_TIME UINT64_MAX

static int refuse(xtio_analysis *analysis, int status, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(analysis->error, sizeof(analysis->error), format, args);
    va_end(args);
    analysis->status = status;
    return status;
}

/* Called for every event (see hold()), so no printf machinery: a bounded copy. */
static void copy_name(char *dst, const char *src)
{
    size_t len = strnlen(src, NAME_SIZE - 1);
    memcpy(dst, src, len);
    dst[len] = '\0';
}

static bool idset_contains(const struct idset *set, uint64_t id)
{
    size_t lo = 0, hi = set->len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (set->ranges[mid][0] <= id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && id <= set->ranges[lo - 1][1];
}

static int idset_add(struct idset *set, uint64_t id)
{
    size_t lo = 0, hi = set->len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (set->ranges[mid][0] <= id)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* ranges[lo - 1] starts at or before id; ranges[lo] starts after it. */
    if (lo > 0 && id <= set->ranges[lo - 1][1])
        return 0;
    bool join_prev = lo > 0 && set->ranges[lo - 1][1] + 1 == id;
    bool join_next = lo < set->len && set->ranges[lo][0] == id + 1;
    if (join_prev && join_next) {
        set->ranges[lo - 1][1] = set->ranges[lo][1];
        memmove(&set->ranges[lo], &set->ranges[lo + 1], (set->len - lo - 1) * sizeof(*set->ranges));
        set->len--;
        return 0;
    }
    if (join_prev) {
        set->ranges[lo - 1][1] = id;
        return 0;
    }
    if (join_next) {
        set->ranges[lo][0] = id;
        return 0;
    }
    if (set->len == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 8;
        void *ranges = realloc(set->ranges, cap * sizeof(*set->ranges));
        if (!ranges)
            return -ENOMEM;
        set->ranges = ranges;
        set->cap = cap;
    }
    memmove(&set->ranges[lo + 1], &set->ranges[lo], (set->len - lo) * sizeof(*set->ranges));
    set->ranges[lo][0] = id;
    set->ranges[lo][1] = id;
    set->len++;
    return 0;
}

/* ---- Lifecycle --------------------------------------------------------------------------- */

int xtio_analysis_create(xtio_analysis **analysis, const struct xtio_analysis_options *options)
{
    if (!analysis)
        return -EINVAL;
    *analysis = NULL;
    xtio_analysis *created = calloc(1, sizeof(*created));
    if (!created)
        return -ENOMEM;
    if (options)
        created->options = *options;
    if (created->options.max_samples == 0)
        created->options.max_samples = DEFAULT_MAX_SAMPLES;
    *analysis = created;
    return 0;
}

static void free_process(struct process *process)
{
    for (int m = 0; m < XTIO_SCHEMA_MODE_COUNT; m++) {
        for (int i = 0; i < XTIO_LATENCY_KIND_COUNT; i++)
            xtio_hist_fini(&process->modes[m].metric[i]);
    }
    for (int m = 0; m < XTIO_SCHEMA_MODE_COUNT; m++) {
        xtio_hist_fini(&process->modes[m].queue_depth);
        xtio_hist_fini(&process->modes[m].queued_bytes);
    }
    xtio_hist_fini(&process->backpressure);
    for (int m = 0; m < XTIO_SCHEMA_MECH_COUNT; m++)
        xtio_hist_fini(&process->mechs[m].wait);
    for (int k = 0; k < XTIO_FINDING_KIND_COUNT; k++)
        free(process->findings[k].samples);
    free(process->closed.ranges);
    free(process->drains);
    free(process);
}

static void free_row(struct row *row)
{
    for (int i = 0; i < XTIO_LATENCY_KIND_COUNT; i++)
        xtio_hist_fini(&row->metric[i]);
    xtio_hist_fini(&row->backpressure);
    free(row);
}

static void free_conn(struct conn_state *conn)
{
    free(conn->queue);
    free(conn->pending);
    free(conn->gaps);
    free(conn);
}

/* Frees every value of the map with free_value, then the map. */
static void clear_map(struct xtio__map *map, void (*free_value)(void *))
{
    for (size_t i = 0; i < map->cap; i++) {
        if (map->slots[i].value)
            free_value(map->slots[i].value);
    }
    xtio__map_fini(map);
}

static void free_process_value(void *value)
{
    free_process(value);
}

static void free_row_value(void *value)
{
    free_row(value);
}

static void free_conn_value(void *value)
{
    free_conn(value);
}

void xtio_analysis_destroy(xtio_analysis *analysis)
{
    if (!analysis)
        return;
    clear_map(&analysis->processes, free_process_value);
    clear_map(&analysis->threads, free);
    clear_map(&analysis->programs, free);
    xtio__handoffs_fini(&analysis->handoffs);
    clear_map(&analysis->conns, free_conn_value);
    clear_map(&analysis->conn_rows, free_row_value);
    clear_map(&analysis->loop_rows, free_row_value);
    clear_map(&analysis->producer_rows, free_row_value);
    xtio__free_loops(analysis);
    xtio__free_sites(analysis);
    for (size_t i = 0; i < analysis->stream_count; i++)
        free(analysis->streams[i].name);
    free(analysis->streams);
    for (size_t i = 0; i < analysis->held_len; i++)
        free((void *)analysis->held[i].event.enqueues);
    free(analysis->held);
    free(analysis);
}

const char *xtio_analysis_error(const xtio_analysis *analysis)
{
    if (!analysis || analysis->status == 0)
        return NULL;
    return analysis->error;
}

void xtio_analysis_refuse(xtio_analysis *analysis, int status, const char *why)
{
    if (analysis && analysis->status == 0 && status < 0 && why)
        refuse(analysis, status, "%s", why);
}

/* ---- State lookups ----------------------------------------------------------------------- */

static int get_process(xtio_analysis *analysis, int64_t vpid, struct process **out)
{
    int status = 0;
    struct process *process = analysis->last_process;
    if (process && process->vpid == vpid)
        goto end;
    process = xtio__map_get(&analysis->processes, vpid, 0);
    if (process)
        goto end;

    process = calloc(1, sizeof(*process));
    if (!process) {
        status = -ENOMEM;
        goto end;
    }
    process->vpid = vpid;
    for (int m = 0; m < XTIO_SCHEMA_MODE_COUNT; m++) {
        for (int i = 0; i < XTIO_LATENCY_KIND_COUNT; i++)
            xtio_hist_init(&process->modes[m].metric[i], HIST_BITS_MODE);
        xtio_hist_init(&process->modes[m].queue_depth, HIST_BITS_MODE);
        xtio_hist_init(&process->modes[m].queued_bytes, HIST_BITS_MODE);
    }
    xtio_hist_init(&process->backpressure, HIST_BITS_MODE);
    for (int m = 0; m < XTIO_SCHEMA_MECH_COUNT; m++)
        xtio_hist_init(&process->mechs[m].wait, HIST_BITS_MODE);
    status = xtio__map_put(&analysis->processes, vpid, 0, process);
    if (status) {
        free_process(process);
        process = NULL;
    }
end:
    if (process)
        analysis->last_process = process;
    *out = process;
    return status;
}

static int get_row(struct xtio__map *rows, int64_t vpid, uint64_t id, struct row **out)
{
    int status = 0;
    struct row *row = xtio__map_get(rows, vpid, id);
    if (row)
        goto end;
    row = calloc(1, sizeof(*row));
    if (!row) {
        status = -ENOMEM;
        goto end;
    }
    row->id = id;
    row->owner_tid = -1;
    for (int i = 0; i < XTIO_LATENCY_KIND_COUNT; i++)
        xtio_hist_init(&row->metric[i], HIST_BITS_ROW);
    xtio_hist_init(&row->backpressure, HIST_BITS_ROW);
    status = xtio__map_put(rows, vpid, id, row);
    if (status) {
        free_row(row);
        row = NULL;
    }
end:
    *out = row;
    return status;
}

/* The connection's row, when per-connection tables are kept; its owner filled in once known. */
static int get_conn_row(xtio_analysis *analysis, int64_t vpid, uint64_t conn_id, int64_t owner_tid,
                        struct row **out)
{
    *out = NULL;
    if (!analysis->options.by_connection)
        return 0;
    int status = get_row(&analysis->conn_rows, vpid, conn_id, out);
    if (status == 0 && (*out)->owner_tid < 0)
        (*out)->owner_tid = owner_tid;
    return status;
}

static int get_conn(xtio_analysis *analysis, struct process *process, uint64_t conn_id,
                    int64_t owner_tid, bool from_open, struct conn_state **out)
{
    int status = 0;
    struct conn_state *conn = xtio__map_get(&analysis->conns, process->vpid, conn_id);
    if (conn)
        goto end;
    conn = calloc(1, sizeof(*conn));
    if (!conn) {
        status = -ENOMEM;
        goto end;
    }
    conn->conn_id = conn_id;
    conn->owner_tid = owner_tid;
    status = xtio__map_put(&analysis->conns, process->vpid, conn_id, conn);
    if (status) {
        free_conn(conn);
        conn = NULL;
        goto end;
    }
    /* Not a fault: the trace started after the connection opened. */
    if (!from_open)
        process->coverage.conns_without_open++;
end:
    *out = conn;
    return status;
}

/* Names the thread after its first named event, and the process after its main thread (tid ==
 * pid), which carries the program's name, unless the program's name itself is known
 * (xtio_analysis_name_process()). LTTng-UST reads a thread's procname once, before its first
 * event, so that a trace carries one name per thread: comparing every event's name with it would
 * only cost a string read. */
static int note_thread(xtio_analysis *analysis, struct process *process,
                       const struct xtio_event *event)
{
    int status = 0;
    if (!event->procname)
        goto end;
    struct thread *thread = xtio__map_get(&analysis->threads, event->vpid, (uint64_t)event->vtid);
    if (!thread) {
        thread = calloc(1, sizeof(*thread));
        if (!thread) {
            status = -ENOMEM;
            goto end;
        }
        copy_name(thread->name, event->procname);
        status = xtio__map_put(&analysis->threads, event->vpid, (uint64_t)event->vtid, thread);
        if (status) {
            free(thread);
            goto end;
        }
        if (event->vtid == event->vpid)
            copy_name(process->name, event->procname);
    }
end:
    return status;
}

/* ---- Recording metrics ------------------------------------------------------------------- */

/* Whom a measurement is about: a mode of a process, and the rows it also goes to. */
struct attribution {
    struct process *process;
    int mode; /* -1: unknown, rows only */
    uint64_t conn_id;
    int64_t owner_tid;    /* the loop thread; -1 when unknown */
    int64_t producer_tid; /* -1 when unknown */
};

/* The per-connection and per-thread rows the measurement also goes to (see rows_of()). */
static int table_rows_of(xtio_analysis *analysis, const struct attribution *at, struct row *rows[3],
                         size_t *count)
{
    int status = 0;
    int64_t vpid = at->process->vpid;
    *count = 0;
    if (analysis->options.by_connection) {
        status = get_conn_row(analysis, vpid, at->conn_id, at->owner_tid, &rows[*count]);
        if (status)
            goto end;
        (*count)++;
    }
    if (!analysis->options.by_thread)
        goto end;
    if (at->owner_tid >= 0) {
        status = get_row(&analysis->loop_rows, vpid, (uint64_t)at->owner_tid, &rows[*count]);
        if (status)
            goto end;
        (*count)++;
    }
    if (at->producer_tid >= 0) {
        status = get_row(&analysis->producer_rows, vpid, (uint64_t)at->producer_tid, &rows[*count]);
        if (status)
            goto end;
        (*count)++;
    }
end:
    return status;
}

/* Per-connection or per-thread tables; not by default. */
static bool keeps_tables(const xtio_analysis *analysis)
{
    return analysis->options.by_connection || analysis->options.by_thread;
}

/* As table_rows_of(), but without a call when there are no such tables, the default: it runs
 * several times for every handoff. */
static inline int rows_of(xtio_analysis *analysis, const struct attribution *at,
                          struct row *rows[3], size_t *count)
{
    *count = 0;
    if (!keeps_tables(analysis))
        return 0;
    return table_rows_of(analysis, at, rows, count);
}

static int record_metric(xtio_analysis *analysis, const struct attribution *at,
                         enum xtio_latency_kind metric, uint64_t value_ns)
{
    struct row *rows[3];
    size_t count;
    if (at->mode >= 0) {
        int status = xtio_hist_record(&at->process->modes[at->mode].metric[metric], value_ns);
        if (status)
            return status;
    }
    int status = rows_of(analysis, at, rows, &count);
    for (size_t i = 0; i < count && status == 0; i++)
        status = xtio_hist_record(&rows[i]->metric[metric], value_ns);
    return status;
}

static int count_handoff(xtio_analysis *analysis, const struct attribution *at, uint64_t bytes,
                         uint64_t records)
{
    struct row *rows[3];
    size_t count;
    int status = rows_of(analysis, at, rows, &count);
    if (status)
        goto end;
    struct mode_stats *mode = &at->process->modes[at->mode];
    mode->handoffs++;
    mode->bytes += bytes;
    mode->records += records;
    for (size_t i = 0; i < count; i++) {
        rows[i]->handoffs[at->mode]++;
        rows[i]->bytes += bytes;
        rows[i]->records += records;
    }
end:
    return status;
}

/* ---- Findings and coverage --------------------------------------------------------------- */

static struct sample sample_of(const struct xtio_event *event, int64_t owner_tid)
{
    struct sample sample = {
        .ts_ns = event->ts_ns,
        .event = event->kind,
        .conn_id = event->conn_id,
        .seq = event->seq,
        .mode = -1,
        .bytes = event->bytes,
        .writer_tid = event->vtid,
        .owner_tid = owner_tid,
    };
    switch (event->kind) {
    case XTIO_EVENT_HANDOFF_RUN:
        /* One handoff of the run (see on_run()): its id when its enqueue was seen. */
        sample.mode = event->mode;
        sample.has_handoff = event->handoff_id != 0;
        sample.has_seq = true;
        sample.handoff_id = event->handoff_id;
        break;
    case XTIO_EVENT_HANDOFF_ENQUEUE:
    case XTIO_EVENT_HANDOFF_WRITE:
        sample.mode = event->mode;
        /* fall through */
    case XTIO_EVENT_HANDOFF_DROP:
    case XTIO_EVENT_SYNC_WAIT_END:
        sample.has_handoff = true;
        sample.has_seq = event->kind != XTIO_EVENT_SYNC_WAIT_END; /* it has no seq */
        sample.handoff_id = event->handoff_id;
        break;
    default:
        break;
    }
    return sample;
}

static bool sample_after(const struct sample *a, const struct sample *b)
{
    if (a->ts_ns != b->ts_ns)
        return a->ts_ns > b->ts_ns;
    return a->handoff_id > b->handoff_id;
}

/* Counts the finding and keeps it as evidence if it is among the earliest max_samples: findings
 * made at the end (lost handoffs) come in the order of the handoff table, not in time order. */
int xtio__add_finding(xtio_analysis *analysis, struct process *process, enum xtio_finding_kind kind,
                      const struct sample *sample)
{
    int status = 0;
    struct finding *finding = &process->findings[kind];
    unsigned max = analysis->options.max_samples;
    const struct xtio_analysis_observer *observer = analysis->options.observer;
    if (observer && observer->finding) {
        struct xtio_finding_record record = {
            .vpid = process->vpid,
            .kind = (int)kind,
            .ts_ns = sample->ts_ns,
            .tid = sample->writer_tid,
            .owner_tid = sample->owner_tid,
            .conn_id = sample->conn_id,
            .handoff_id = sample->has_handoff ? sample->handoff_id : 0,
            .seq = sample->seq,
            .has_seq = sample->has_seq,
            .mode = sample->mode,
            .bytes = sample->bytes,
        };
        status = observer->finding(observer->data, &record);
        if (status)
            return status;
    }
    finding->count++;
    finding->bytes += sample->bytes;

    unsigned pos = finding->nsamples;
    while (pos > 0 && sample_after(&finding->samples[pos - 1], sample))
        pos--;
    if (pos >= max)
        goto end;
    if (!finding->samples) {
        finding->samples = calloc(max, sizeof(*finding->samples));
        if (!finding->samples) {
            status = -ENOMEM;
            goto end;
        }
    }
    if (finding->nsamples < max)
        finding->nsamples++;
    memmove(&finding->samples[pos + 1], &finding->samples[pos],
            (finding->nsamples - 1 - pos) * sizeof(*finding->samples));
    finding->samples[pos] = *sample;
end:
    return status;
}

/* Could a discard hold an event from before `ts_ns`? Discards come in trace order, so every
 * discard that began before ts_ns is known by now; one without a range could be anywhere. */
static bool discarded_before(const xtio_analysis *analysis, uint64_t ts_ns)
{
    return analysis->discards.unranged > 0 ||
           (analysis->has_ranged_discard && analysis->discard_min_begin <= ts_ns);
}

/* Could a discard hold an event from `ts_ns` on? One without a range could be anywhere. */
static bool discarded_since(const xtio_analysis *analysis, uint64_t ts_ns)
{
    return analysis->discards.unranged > 0 ||
           (analysis->has_ranged_discard && analysis->discard_max_end >= ts_ns);
}

/* A write, drop or sync_wait_end whose enqueue was not seen. */
static void note_without_enqueue(xtio_analysis *analysis, struct process *process,
                                 const struct xtio_event *event)
{
    struct xtio_coverage_summary *cov = &process->coverage;
    bool unknown = discarded_before(analysis, event->ts_ns);
    switch (event->kind) {
    case XTIO_EVENT_HANDOFF_WRITE:
    case XTIO_EVENT_HANDOFF_RUN:
        unknown ? cov->unknown_writes++ : cov->incomplete_writes++;
        break;
    case XTIO_EVENT_HANDOFF_DROP:
        unknown ? cov->unknown_drops++ : cov->incomplete_drops++;
        break;
    default:
        unknown ? cov->unknown_sync_waits++ : cov->incomplete_sync_waits++;
        break;
    }
}

/* Retires a handoff once nothing more is expected of it: its write or drop, and for a sync
 * handoff also its producer's sync_wait_end. */
static void retire_if_done(xtio_analysis *analysis, int64_t vpid, uint64_t handoff_id,
                           struct handoff *handoff)
{
    if (!handoff->written && !handoff->dropped)
        return;
    if (handoff->mode == XTIO_SCHEMA_MODE_SYNC && !handoff->waited)
        return;
    xtio__handoffs_remove(&analysis->handoffs, vpid, handoff_id, handoff);
}

/* Doubles a full ring of `size`-byte items (its cap a power of two, or 0 for none yet), its `len`
 * items moved to the front of a new allocation: 0, or -ENOMEM with the ring unchanged. */
static int grow_ring(void **items, size_t size, size_t *cap, size_t *head, size_t len)
{
    size_t grown = *cap ? *cap * 2 : 8;
    unsigned char *moved = malloc(grown * size);
    if (!moved)
        return -ENOMEM;
    for (size_t i = 0; i < len; i++)
        memcpy(moved + i * size, (unsigned char *)*items + ((*head + i) & (*cap - 1)) * size, size);
    free(*items);
    *items = moved;
    *cap = grown;
    *head = 0;
    return 0;
}

/* ---- Version 3: seqs named, and the gaps between them ------------------------------------ */

static int push_gap(struct conn_state *conn, struct seq_gap gap)
{
    size_t front = 0; /* an array, not a ring: it always starts at 0 */
    if (conn->gaps_len == conn->gaps_cap && grow_ring((void **)&conn->gaps, sizeof(*conn->gaps),
                                                      &conn->gaps_cap, &front, conn->gaps_len) != 0)
        return -ENOMEM;
    conn->gaps[conn->gaps_len++] = gap;
    return 0;
}

/* Takes seqs [first, end), written out of order, out of the gaps. */
static int fill_gaps(struct conn_state *conn, uint64_t first, uint64_t end)
{
    for (size_t i = 0, n = conn->gaps_len; i < n; i++) {
        struct seq_gap *gap = &conn->gaps[i];
        uint64_t gap_end = gap->first + gap->count;
        if (end <= gap->first || first >= gap_end)
            continue;
        if (first > gap->first && end < gap_end) {
            struct seq_gap after = {end, gap_end - end, gap->since_ns};
            gap->count = first - gap->first;
            if (push_gap(conn, after) != 0)
                return -ENOMEM;
        } else if (first > gap->first) {
            gap->count = first - gap->first;
        } else {
            gap->count = end < gap_end ? gap_end - end : 0;
            gap->first = end < gap_end ? end : gap_end;
        }
    }
    return 0;
}

/* Version 3: seqs first .. first + count - 1 of a connection were written or dropped at ts_ns.
 * Seqs skipped over become a gap; seqs below the ones named so far (out of order) fill one. */
static int name_seqs(struct conn_state *conn, uint64_t first, uint64_t count, uint64_t ts_ns)
{
    if (!conn)
        return 0;
    conn->names_seqs = true;
    if (!conn->seq_known) {
        conn->seq_known = true;
        conn->seq_next = first;
    }
    uint64_t end = first + count;
    if (first < conn->seq_next) {
        int status = fill_gaps(conn, first, end < conn->seq_next ? end : conn->seq_next);
        if (status || end <= conn->seq_next)
            return status;
        first = conn->seq_next;
    }
    if (first > conn->seq_next &&
        push_gap(conn,
                 (struct seq_gap){conn->seq_next, first - conn->seq_next, conn->seq_since_ns}) != 0)
        return -ENOMEM;
    conn->seq_next = end;
    conn->seq_since_ns = ts_ns;
    return 0;
}

/* A closed connection's gaps in its seqs: lost handoffs, or unknown when a discard since the
 * event before a gap may have held the events that named it. One sample per gap. */
static int settle_gaps(xtio_analysis *analysis, struct process *process,
                       const struct xtio_event *close, struct conn_state *conn)
{
    int status = 0;
    for (size_t i = 0; i < conn->gaps_len && status == 0; i++) {
        const struct seq_gap *gap = &conn->gaps[i];
        if (gap->count == 0)
            continue;
        if (discarded_since(analysis, gap->since_ns)) {
            process->coverage.unknown_in_flight += gap->count;
            continue;
        }
        struct sample sample = {
            .ts_ns = close->ts_ns,
            .event = XTIO_EVENT_CONN_CLOSE,
            .conn_id = conn->conn_id,
            .seq = gap->first,
            .has_seq = true,
            .mode = -1,
            .writer_tid = -1,
            .owner_tid = conn->owner_tid,
        };
        status = xtio__add_finding(analysis, process, XTIO_FINDING_LOST_HANDOFF, &sample);
        process->findings[XTIO_FINDING_LOST_HANDOFF].count += gap->count - 1;
    }
    return status;
}

/* ---- Events ------------------------------------------------------------------------------ */

static void note_schema(struct process *process, const struct xtio_event *event)
{
    if (!event->has_schema_version)
        return;
    process->schema_checked++;
    process->schema_version = event->schema_version;
}

static int on_loop_start(xtio_analysis *analysis, struct process *process,
                         const struct xtio_event *event)
{
    int status = 0;
    process->loops++;
    note_schema(process, event);
    if (analysis->options.by_thread) {
        struct row *row;
        status = get_row(&analysis->loop_rows, process->vpid, (uint64_t)event->vtid, &row);
        if (status)
            goto end;
        row->loop_id = event->loop_id;
        row->has_loop_id = true;
    }
end:
    return status;
}

static int on_conn_open(xtio_analysis *analysis, struct process *process,
                        const struct xtio_event *event)
{
    struct conn_state *conn;
    struct row *row;
    process->conns++;
    note_schema(process, event);
    int status = get_conn(analysis, process, event->conn_id, event->owner_tid, true, &conn);
    if (status)
        goto end;
    conn->owner_tid = event->owner_tid;
    conn->owner_from_open = true;
    /* Version 3 names each of its seqs, from 0 (see name_seqs()). */
    if (event->has_schema_version && event->schema_version >= 3) {
        conn->names_seqs = true;
        conn->seq_known = true;
        conn->seq_next = 0;
        conn->seq_since_ns = event->ts_ns;
    }
    status = get_conn_row(analysis, process->vpid, event->conn_id, event->owner_tid, &row);
    if (status || !row)
        goto end;
    row->owner_tid = event->owner_tid;
    row->loop_id = event->loop_id;
    row->has_loop_id = true;
end:
    return status;
}

/* Tells the observer of a written handoff once its end is known (flush_ns 0: never flushed). */
static int observe_handoff(xtio_analysis *analysis, int64_t vpid, uint64_t conn_id,
                           const struct unflushed *entry, uint64_t flush_ns)
{
    const struct xtio_analysis_observer *observer = analysis->options.observer;
    if (!observer || !observer->handoff)
        return 0;
    struct xtio_handoff_record record = {
        .vpid = vpid,
        .conn_id = conn_id,
        .handoff_id = entry->handoff_id,
        .seq = entry->seq,
        .mode = entry->mode,
        .bytes = entry->bytes,
        .records = entry->records,
        .producer_tid = entry->producer_tid,
        .writer_tid = entry->writer_tid,
        .enqueue_ns = entry->has_start ? entry->start_ns : 0,
        .write_ns = entry->write_ns,
        .flush_ns = flush_ns,
        .finding = entry->finding,
    };
    return observer->handoff(observer->data, &record);
}

static int on_conn_close(xtio_analysis *analysis, struct process *process,
                         const struct xtio_event *event)
{
    int status = 0;
    struct conn_state *conn = xtio__map_remove(&analysis->conns, process->vpid, event->conn_id);
    if (conn) {
        /* Version 3: seqs it gave that no write, run or drop named. */
        if (event->has_next_seq && conn->seq_known && event->next_seq > conn->seq_next)
            status =
                push_gap(conn, (struct seq_gap){conn->seq_next, event->next_seq - conn->seq_next,
                                                conn->seq_since_ns});
        if (status == 0)
            status = settle_gaps(analysis, process, event, conn);
        /* docs/tracepoints.md: bytes still in the output buffer at close never reach the
         * kernel, and no flush can follow a close. */
        for (size_t i = 0; i < conn->len; i++) {
            const struct unflushed *entry = &conn->pending[(conn->head + i) & (conn->cap - 1)];
            process->unflushed_at_close++;
            process->unflushed_at_close_bytes += entry->bytes;
            if (status == 0)
                status = observe_handoff(analysis, process->vpid, conn->conn_id, entry, 0);
        }
        analysis->unflushed_count -= conn->len;
        free_conn(conn);
    } else if (!idset_contains(&process->closed, event->conn_id)) {
        process->coverage.conns_without_open++;
    }
    return status ? status : idset_add(&process->closed, event->conn_id);
}

/* A version 2 handoff joins its connection's queue, for the handoff_run that writes it. */
static int push_queued(xtio_analysis *analysis, struct process *process,
                       const struct xtio_event *event)
{
    struct conn_state *conn;
    int status = get_conn(analysis, process, event->conn_id, event->owner_tid, false, &conn);
    if (status)
        return status;
    if (conn->queue_len == conn->queue_cap &&
        grow_ring((void **)&conn->queue, sizeof(*conn->queue), &conn->queue_cap, &conn->queue_head,
                  conn->queue_len) != 0)
        return -ENOMEM;
    conn->queue[(conn->queue_head + conn->queue_len) & (conn->queue_cap - 1)] =
        (struct queued){event->seq, event->handoff_id, event->bytes, false};
    conn->queue_len++;
    return 0;
}

/* A handoff enters the table: `e` from its handoff_enqueue, or the enqueue that a version 3 run
 * or drop carries. `at` is that event: it gives the connection, the mode and the layout, and
 * whether the connection was closed (`closed` is false for a carried enqueue: the run or drop
 * that carries it is the one flagged). *added: false for a handoff_id already in the table. */
static int enqueue_handoff(xtio_analysis *analysis, struct process *process,
                           const struct xtio_event *at, const struct xtio_enqueue *e, uint64_t seq,
                           int64_t owner_tid, bool closed, bool *added)
{
    int status = 0;
    struct handoff *handoff =
        xtio__handoffs_add(&analysis->handoffs, process->vpid, e->handoff_id, &status);
    *added = handoff != NULL;
    if (!handoff) {
        /* handoff_ids are unique in a process: a second enqueue of one is ignored, not paired. */
        if (status == -EEXIST)
            status = 0;
        goto end;
    }
    *handoff = (struct handoff){
        .enqueue_ns = e->enqueue_ns,
        .conn_id = at->conn_id,
        .seq = seq,
        .bytes = e->bytes,
        .producer_tid = e->producer_tid,
        .owner_tid = owner_tid,
        .records = e->records,
        .mode = (int8_t)at->mode,
        .enqueued_after_close = closed,
    };
    struct mode_stats *mode = &process->modes[at->mode];
    status = xtio_hist_record(&mode->queue_depth, e->queue_depth);
    if (status == 0 && at->layout_version >= 2)
        status = xtio_hist_record(&mode->queued_bytes, e->queued_bytes);
    if (status)
        goto end;
    if (at->mode == XTIO_SCHEMA_MODE_BATCH) {
        struct attribution who = {process, at->mode, at->conn_id, owner_tid, e->producer_tid};
        status = record_metric(analysis, &who, XTIO_LATENCY_SPOOL_DELAY, e->spool_ns);
    }
end:
    return status;
}

static int on_enqueue(xtio_analysis *analysis, struct process *process,
                      const struct xtio_event *event)
{
    bool closed = idset_contains(&process->closed, event->conn_id);
    if (closed) {
        struct sample sample = sample_of(event, event->owner_tid);
        int status = xtio__add_finding(analysis, process, XTIO_FINDING_WRITE_AFTER_CLOSE, &sample);
        if (status)
            return status;
    }
    struct xtio_enqueue e = {
        .handoff_id = event->handoff_id,
        .enqueue_ns = event->ts_ns,
        .queued_bytes = event->queued_bytes,
        .spool_ns = event->spool_ns,
        .producer_tid = event->vtid,
        .bytes = (uint32_t)event->bytes,
        .records = event->records,
        .queue_depth = event->queue_depth,
    };
    bool added;
    int status =
        enqueue_handoff(analysis, process, event, &e, event->seq, event->owner_tid, closed, &added);
    /* A queued handoff's handoff_enqueue (versions 2 and later, though version 3 traces only
     * direct ones) waits in its connection's queue for the handoff_run that writes it. Its layout
     * says nothing more precise: version 3 left it as version 2 had it. */
    if (status == 0 && added && !closed && event->layout_version >= 2 &&
        event->mode != XTIO_SCHEMA_MODE_DIRECT && event->mode != XTIO_SCHEMA_MODE_INLINE)
        status = push_queued(analysis, process, event);
    return status;
}

/* The enqueue that a version 3 run or drop (`carrier`) carries for its handoff `seq`, taken as
 * its handoff_enqueue would have been; nothing when it was not recorded. */
static int carried_enqueue(xtio_analysis *analysis, struct process *process,
                           const struct xtio_event *carrier, const struct xtio_enqueue *e,
                           uint64_t seq, int64_t owner_tid)
{
    bool added;
    return e->enqueue_ns == 0
               ? 0
               : enqueue_handoff(analysis, process, carrier, e, seq, owner_tid, false, &added);
}

/* The entry is taken by value: built field by field on the stack and copied as a block, it would
 * stall every write on store forwarding. */
static int push_unflushed(xtio_analysis *analysis, struct conn_state *conn, struct unflushed entry)
{
    if (conn->len == conn->cap && grow_ring((void **)&conn->pending, sizeof(*conn->pending),
                                            &conn->cap, &conn->head, conn->len) != 0)
        return -ENOMEM;
    conn->pending[(conn->head + conn->len) & (conn->cap - 1)] = entry;
    conn->len++;
    analysis->unflushed_count++;
    return 0;
}

/* Findings a write shows by itself: off the loop thread, on a closed connection, out of seq. */
static int check_write(xtio_analysis *analysis, struct process *process,
                       const struct xtio_event *event, struct conn_state *conn, bool closed,
                       int8_t *finding)
{
    int status = 0;
    *finding = -1;
    int64_t owner = event->owner_tid;
    bool off_loop = event->vtid != event->owner_tid;
    if (!off_loop && conn && conn->owner_from_open && event->vtid != conn->owner_tid) {
        off_loop = true;
        owner = conn->owner_tid;
    }
    if (off_loop) {
        struct sample sample = sample_of(event, owner);
        status = xtio__add_finding(analysis, process, XTIO_FINDING_OFF_LOOP_WRITE, &sample);
        if (status)
            goto end;
        *finding = XTIO_FINDING_OFF_LOOP_WRITE;
    }
    if (closed) {
        struct sample sample = sample_of(event, event->owner_tid);
        status = xtio__add_finding(analysis, process, XTIO_FINDING_WRITE_AFTER_CLOSE, &sample);
        if (status)
            goto end;
        if (*finding < 0)
            *finding = XTIO_FINDING_WRITE_AFTER_CLOSE;
    }
    if (!conn)
        goto end;
    if (conn->has_last_seq && event->seq <= conn->last_seq) {
        struct sample sample = sample_of(event, conn->owner_tid);
        sample.prev_seq = conn->last_seq;
        sample.has_prev_seq = true;
        status = xtio__add_finding(analysis, process, XTIO_FINDING_ORDERING_BREAK, &sample);
        if (status)
            goto end;
        if (*finding < 0)
            *finding = XTIO_FINDING_ORDERING_BREAK;
    }
    conn->has_last_seq = true;
    conn->last_seq = event->seq;
end:
    return status;
}

/* One handoff written: by its own handoff_write, or as one of a handoff_run (then `event` is the
 * run's, with this handoff's handoff_id, seq, bytes and offset, see on_run()). `end`: the stream
 * offset its last byte is flushed at; `exact`: end is offset + bytes, not a bound (on_run()).
 * `loop_write_ns`: the loop's time on it in a drain, or NO_TIME (drain_step()). */
static int write_handoff(xtio_analysis *analysis, struct process *process,
                         const struct xtio_event *event, struct conn_state *conn, bool closed,
                         uint64_t end, bool exact, uint64_t loop_write_ns)
{
    int8_t finding;
    int status = check_write(analysis, process, event, conn, closed, &finding);
    if (status)
        goto end;

    struct attribution at = {process, event->mode, event->conn_id,
                             conn ? conn->owner_tid : event->owner_tid, -1};
    struct unflushed entry = {
        .end = end,
        .bytes = event->bytes,
        .write_ns = event->ts_ns,
        .handoff_id = event->handoff_id,
        .seq = event->seq,
        .writer_tid = event->vtid,
        .finding = finding,
        .mode = (int8_t)event->mode,
    };
    uint64_t records = 0;
    struct handoff *handoff =
        xtio__handoffs_get(&analysis->handoffs, process->vpid, event->handoff_id);
    if (handoff && !handoff->written && !handoff->dropped) {
        at.producer_tid = handoff->producer_tid;
        status = record_metric(analysis, &at, XTIO_LATENCY_QUEUE_WAIT,
                               xtio__since(handoff->enqueue_ns, event->ts_ns));
        if (status)
            goto end;
        entry.start_ns = handoff->enqueue_ns;
        entry.has_start = true;
        records = handoff->records;
        handoff->written = true;
        handoff->write_ns = event->ts_ns;
        retire_if_done(analysis, process->vpid, event->handoff_id, handoff);
    } else if (event->mode == XTIO_SCHEMA_MODE_INLINE) {
        /* No enqueue: the loop thread is its own producer, and the handoff starts here. */
        at.producer_tid = event->vtid;
        entry.start_ns = event->ts_ns;
        entry.has_start = true;
        records = 1;
    } else {
        /* A direct write runs on its producer even when its enqueue was missed. */
        if (event->mode == XTIO_SCHEMA_MODE_DIRECT)
            at.producer_tid = event->vtid;
        note_without_enqueue(analysis, process, event);
    }
    entry.producer_tid = at.producer_tid;
    entry.records = (uint32_t)records;
    if (loop_write_ns != NO_TIME)
        status = record_metric(analysis, &at, XTIO_LATENCY_LOOP_WRITE, loop_write_ns);
    if (status == 0)
        status = count_handoff(analysis, &at, event->bytes, records);
    if (status)
        goto end;
    if (!conn) {
        /* Written after its close: its bytes never reach the kernel. */
        status = observe_handoff(analysis, process->vpid, event->conn_id, &entry, 0);
        goto end;
    }

    if ((exact && event->bytes == 0) || entry.end <= conn->flushed) {
        /* Nothing left to flush: complete at the write, with a flush time of 0
         * (docs/tracepoints.md). */
        if (entry.has_start)
            status = record_metric(analysis, &at, XTIO_LATENCY_END_TO_END,
                                   xtio__since(entry.start_ns, event->ts_ns));
        if (status == 0)
            status = record_metric(analysis, &at, XTIO_LATENCY_FLUSH, 0);
        if (status == 0)
            status = observe_handoff(analysis, process->vpid, event->conn_id, &entry, event->ts_ns);
        goto end;
    }
    status = push_unflushed(analysis, conn, entry);
end:
    return status;
}

/* The connection a write goes to; NULL (and *closed) once its conn_close was seen. */
static int written_conn(xtio_analysis *analysis, struct process *process,
                        const struct xtio_event *event, struct conn_state **conn, bool *closed)
{
    *conn = NULL;
    *closed = idset_contains(&process->closed, event->conn_id);
    if (*closed)
        return 0;
    return get_conn(analysis, process, event->conn_id, event->owner_tid, false, conn);
}

static int on_write(xtio_analysis *analysis, struct process *process,
                    const struct xtio_event *event)
{
    struct conn_state *conn;
    bool closed;
    int status = written_conn(analysis, process, event, &conn, &closed);
    /* handoff_write kept its layout in version 3: the connection says whether it is of one. */
    if (status == 0 && conn && conn->names_seqs)
        status = name_seqs(conn, event->seq, 1, event->ts_ns);
    if (status == 0)
        status = write_handoff(analysis, process, event, conn, closed, event->offset + event->bytes,
                               true, NO_TIME);
    return status;
}

/* The queued handoff with this seq, NULL when its enqueue was not seen. Runs take the queue
 * from its front, so the handoff is looked for at *hint first (the place after the last one
 * found), and only then in the whole queue. */
static struct queued *find_queued(struct conn_state *conn, uint64_t seq, size_t *hint)
{
    if (!conn)
        return NULL;
    size_t mask = conn->queue_cap - 1;
    if (*hint < conn->queue_len) {
        struct queued *q = &conn->queue[(conn->queue_head + *hint) & mask];
        if (!q->taken && q->seq == seq) {
            (*hint)++;
            return q;
        }
    }
    for (size_t i = 0; i < conn->queue_len; i++) {
        struct queued *q = &conn->queue[(conn->queue_head + i) & mask];
        if (!q->taken && q->seq == seq) {
            *hint = i + 1;
            return q;
        }
    }
    return NULL;
}

/* Takes a handoff that find_queued() returned off the queue. One out of order (an ordering
 * break) is marked taken where it is, and leaves the queue once it reaches the front. */
static void take_queued(struct conn_state *conn, struct queued *q)
{
    size_t mask = conn->queue_cap - 1;
    q->taken = true;
    while (conn->queue_len && conn->queue[conn->queue_head].taken) {
        conn->queue_head = (conn->queue_head + 1) & mask;
        conn->queue_len--;
    }
}

/* A version 3 handoff_run: it carries each handoff's enqueue, and so its bytes, and every
 * offset in it is exact. */
static int on_run_with_enqueues(xtio_analysis *analysis, struct process *process,
                                const struct xtio_event *run, uint64_t loop_write_ns)
{
    struct conn_state *conn;
    bool closed;
    int status = written_conn(analysis, process, run, &conn, &closed);
    if (status == 0 && run->count)
        status = name_seqs(conn, run->seq, run->count, run->ts_ns);
    struct xtio_event write = *run;
    uint64_t offset = run->offset;
    for (uint32_t i = 0; i < run->count && status == 0; i++) {
        const struct xtio_enqueue *e = &run->enqueues[i];
        status = carried_enqueue(analysis, process, run, e, run->seq + i, run->owner_tid);
        if (status)
            break;
        write.seq = run->seq + i;
        write.handoff_id = e->handoff_id;
        write.bytes = e->bytes;
        write.offset = offset;
        status = write_handoff(analysis, process, &write, conn, closed, offset + e->bytes, true,
                               loop_write_ns);
        offset += e->bytes;
    }
    return status;
}

/* A handoff_run: `count` queued handoffs of one mode, seq .. seq + count - 1, written in one go
 * from stream offset `offset`. Each is taken as its own write would be, with the bytes its
 * enqueue gave it. A handoff whose enqueue was not seen (the trace began later, or a discard held
 * it) is counted as a write without its enqueue; the bytes the run's known handoffs leave
 * unexplained are its. Offsets are exact from the run's start up to the first such handoff and
 * from its end back to the last; in between, a handoff is taken as flushed with that last part. */
static int on_run(xtio_analysis *analysis, struct process *process, const struct xtio_event *run,
                  uint64_t drain_since_ns)
{
    /* The loop's time on the run, shared by its handoffs. */
    uint64_t loop_write_ns = NO_TIME;
    if (drain_since_ns != NO_TIME && run->count)
        loop_write_ns = xtio__since(drain_since_ns, run->ts_ns) / run->count;
    if (run->enqueues)
        return on_run_with_enqueues(analysis, process, run, loop_write_ns);
    struct conn_state *conn;
    bool closed;
    int status = written_conn(analysis, process, run, &conn, &closed);
    if (status || run->count == 0)
        return status;

    /* First pass, on the queue as it is: the bytes known, the first and last unknown, and the
     * bytes known after the last unknown. */
    uint64_t known_bytes = 0, tail_bytes = 0, last_seq = run->seq + run->count - 1;
    uint64_t first_unknown = 0, last_unknown = 0, unknown = 0;
    size_t hint = 0;
    for (uint64_t seq = run->seq; seq <= last_seq; seq++) {
        const struct queued *q = find_queued(conn, seq, &hint);
        if (q) {
            known_bytes += q->bytes;
            tail_bytes += q->bytes;
            continue;
        }
        if (unknown++ == 0)
            first_unknown = seq;
        last_unknown = seq;
        tail_bytes = 0;
    }
    uint64_t unexplained = run->run_bytes > known_bytes ? run->run_bytes - known_bytes : 0;
    /* Where the exact part after the last unknown handoff begins. */
    uint64_t run_end = run->offset + run->run_bytes;
    uint64_t tail_start = run_end - (tail_bytes < run->run_bytes ? tail_bytes : run->run_bytes);

    struct xtio_event write = *run;
    uint64_t offset = run->offset;
    hint = 0;
    for (uint64_t seq = run->seq; seq <= last_seq && status == 0; seq++) {
        struct queued *q = find_queued(conn, seq, &hint);
        bool exact = !unknown || seq < first_unknown || seq > last_unknown;
        if (unknown && seq == last_unknown + 1)
            offset = tail_start;
        write.seq = seq;
        write.handoff_id = q ? q->handoff_id : 0;
        write.bytes = q ? q->bytes : (seq == first_unknown ? unexplained : 0);
        write.offset = offset;
        if (q) {
            take_queued(conn, q);
            /* Taking may move the queue's front past the hint. */
            hint = 0;
        }
        status = write_handoff(analysis, process, &write, conn, closed,
                               exact ? offset + write.bytes : tail_start, exact, loop_write_ns);
        offset += write.bytes;
    }
    return status;
}

static int on_flush(xtio_analysis *analysis, struct process *process,
                    const struct xtio_event *event)
{
    int status = 0;
    struct conn_state *conn;
    /* A flush after the close has no bytes to match; it is not a write, so not a finding. */
    if (idset_contains(&process->closed, event->conn_id))
        goto end;
    /* Flushes run on the loop thread: the best guess of the owner of a connection not seen yet. */
    status = get_conn(analysis, process, event->conn_id, event->vtid, false, &conn);
    if (status)
        goto end;
    if (event->bytes_flushed_total > conn->flushed)
        conn->flushed = event->bytes_flushed_total;
    while (conn->len) {
        struct unflushed *entry = &conn->pending[conn->head];
        if (entry->end > conn->flushed)
            break;
        struct attribution at = {process, entry->mode, conn->conn_id, conn->owner_tid,
                                 entry->producer_tid};
        if (entry->has_start) {
            status = record_metric(analysis, &at, XTIO_LATENCY_END_TO_END,
                                   xtio__since(entry->start_ns, event->ts_ns));
            if (status)
                goto end;
        }
        status = record_metric(analysis, &at, XTIO_LATENCY_FLUSH,
                               xtio__since(entry->write_ns, event->ts_ns));
        if (status == 0)
            status = observe_handoff(analysis, process->vpid, conn->conn_id, entry, event->ts_ns);
        if (status)
            goto end;
        conn->head = (conn->head + 1) & (conn->cap - 1);
        conn->len--;
        analysis->unflushed_count--;
    }
end:
    return status;
}

static int on_drop(xtio_analysis *analysis, struct process *process, const struct xtio_event *event)
{
    struct conn_state *conn = xtio__map_get(&analysis->conns, process->vpid, event->conn_id);
    if (event->layout_version >= 3) {
        /* It carries its enqueue (unless the enqueue is an event of its own, or unrecorded). */
        struct xtio_enqueue e = {event->handoff_id, event->enqueue_ns,   event->queued_bytes,
                                 event->spool_ns,   event->producer_tid, (uint32_t)event->bytes,
                                 event->records,    event->queue_depth};
        int status = carried_enqueue(analysis, process, event, &e, event->seq,
                                     conn ? conn->owner_tid : event->vtid);
        if (status == 0)
            status = name_seqs(conn, event->seq, 1, event->ts_ns);
        if (status)
            return status;
    }
    struct handoff *handoff =
        xtio__handoffs_get(&analysis->handoffs, process->vpid, event->handoff_id);
    struct sample sample = sample_of(event, conn ? conn->owner_tid : -1);
    process->drops++;
    process->drop_bytes += event->bytes;
    if (handoff && !handoff->written && !handoff->dropped) {
        sample.mode = handoff->mode;
        process->modes[handoff->mode].drops++;
        process->modes[handoff->mode].drop_bytes += event->bytes;
        handoff->dropped = true;
        retire_if_done(analysis, process->vpid, event->handoff_id, handoff);
    } else {
        note_without_enqueue(analysis, process, event);
    }
    /* Kept as a finding always; whether it counts is decided by options.strict when reporting. */
    return xtio__add_finding(analysis, process, XTIO_FINDING_DROPPED_DATA, &sample);
}

static int on_sync_wait_end(xtio_analysis *analysis, struct process *process,
                            const struct xtio_event *event)
{
    int status = 0;
    struct handoff *handoff =
        xtio__handoffs_get(&analysis->handoffs, process->vpid, event->handoff_id);
    if (!handoff || handoff->waited) {
        note_without_enqueue(analysis, process, event);
        goto end;
    }
    /* Counted whether it was written or dropped: the producer was blocked either way. */
    struct attribution at = {process, handoff->mode, handoff->conn_id, handoff->owner_tid,
                             event->vtid};
    status = record_metric(analysis, &at, XTIO_LATENCY_PRODUCER_BLOCKED,
                           xtio__since(handoff->enqueue_ns, event->ts_ns));
    if (status == 0 && handoff->written)
        status = record_metric(analysis, &at, XTIO_LATENCY_WAKE,
                               xtio__since(handoff->write_ns, event->ts_ns));
    const struct xtio_analysis_observer *observer = analysis->options.observer;
    if (status == 0 && observer && observer->sync_wait) {
        struct xtio_sync_wait_record record = {
            .vpid = process->vpid,
            .conn_id = handoff->conn_id,
            .handoff_id = event->handoff_id,
            .producer_tid = event->vtid,
            .enqueue_ns = handoff->enqueue_ns,
            .end_ns = event->ts_ns,
        };
        status = observer->sync_wait(observer->data, &record);
    }
    if (status)
        goto end;
    handoff->waited = true;
    retire_if_done(analysis, process->vpid, event->handoff_id, handoff);
end:
    return status;
}

static int on_backpressure(xtio_analysis *analysis, struct process *process,
                           const struct xtio_event *event)
{
    int status = xtio_hist_record(&process->backpressure, event->waited_ns);
    if (status)
        goto end;
    if (event->queued_bytes > process->backpressure_max_queued)
        process->backpressure_max_queued = event->queued_bytes;

    /* The event does not say the mode of the send that waited, so it goes to the connection
     * and the producer only. */
    struct row *row;
    status = get_conn_row(analysis, process->vpid, event->conn_id, -1, &row);
    if (status)
        goto end;
    if (row) {
        status = xtio_hist_record(&row->backpressure, event->waited_ns);
        if (status)
            goto end;
    }
    if (analysis->options.by_thread) {
        status = get_row(&analysis->producer_rows, process->vpid, (uint64_t)event->vtid, &row);
        if (status)
            goto end;
        status = xtio_hist_record(&row->backpressure, event->waited_ns);
    }
end:
    return status;
}

/* A thread names itself (schema version 2): the name holds over a procname context's, and a
 * later name over an earlier one (a thread renamed). note_thread() added the thread. */
static int on_thread_name(xtio_analysis *analysis, struct process *process,
                          const struct xtio_event *event)
{
    struct thread *thread = xtio__map_get(&analysis->threads, event->vpid, (uint64_t)event->vtid);
    if (!event->procname || !thread)
        return 0;
    copy_name(thread->name, event->procname);
    if (event->vtid == event->vpid)
        copy_name(process->name, event->procname);
    return 0;
}

/* Follows each loop thread through its drains, for XTIO_LATENCY_LOOP_WRITE: a drain starts at
 * the loop_run of a posted task (libxtio's drain_task(), or any task posted with xtio_loop_post()
 * that writes a queue) and goes on through the handoff_runs that follow it on the same thread;
 * any other event of the thread ends it, and so does a discard that ended after it began. Only
 * the drains in progress are kept. Returns 1 when `event` is a handoff_run of a drain, with
 * *since_ns when the loop began on it (the drain's start, or its previous run); 0 when not;
 * -ENOMEM. */
static int drain_step(const xtio_analysis *analysis, struct process *process,
                      const struct xtio_event *event, uint64_t *since_ns)
{
    bool starts = event->kind == XTIO_EVENT_LOOP_RUN && event->mech == XTIO_SCHEMA_MECH_LOOP_POST;
    if (process->drain_count == 0 && !starts)
        return 0;
    struct drain_mark *mark = NULL;
    for (size_t i = 0; i < process->drain_count && !mark; i++) {
        if (process->drains[i].vtid == event->vtid)
            mark = &process->drains[i];
    }
    if (!mark && !starts)
        return 0;
    if (mark && event->kind == XTIO_EVENT_HANDOFF_RUN && analysis->lost_until_ns < mark->ts_ns) {
        *since_ns = mark->ts_ns;
        mark->ts_ns = event->ts_ns;
        return 1;
    }
    if (mark && !starts) {
        *mark = process->drains[--process->drain_count];
        return 0;
    }
    if (!mark) {
        if (process->drain_count == process->drain_cap) {
            size_t cap = process->drain_cap ? process->drain_cap * 2 : 4;
            struct drain_mark *drains = realloc(process->drains, cap * sizeof(*drains));
            if (!drains)
                return -ENOMEM;
            process->drains = drains;
            process->drain_cap = cap;
        }
        mark = &process->drains[process->drain_count++];
        mark->vtid = event->vtid;
    }
    mark->ts_ns = event->ts_ns;
    return 0;
}

static int process_event(xtio_analysis *analysis, const struct xtio_event *event)
{
    struct process *process;
    int status = get_process(analysis, event->vpid, &process);
    if (status)
        goto end;
    status = note_thread(analysis, process, event);
    if (status)
        goto end;
    if (process->events == 0)
        process->first_ns = event->ts_ns;
    process->events++;
    if (event->ts_ns > process->last_ns)
        process->last_ns = event->ts_ns;
    uint64_t drain_since_ns = 0;
    int in_drain = drain_step(analysis, process, event, &drain_since_ns);
    if (in_drain < 0) {
        status = in_drain;
        goto end;
    }

    switch (event->kind) {
    case XTIO_EVENT_LOOP_START:
        status = on_loop_start(analysis, process, event);
        break;
    case XTIO_EVENT_CONN_OPEN:
        status = on_conn_open(analysis, process, event);
        break;
    case XTIO_EVENT_CONN_CLOSE:
        status = on_conn_close(analysis, process, event);
        break;
    case XTIO_EVENT_HANDOFF_ENQUEUE:
        status = on_enqueue(analysis, process, event);
        break;
    case XTIO_EVENT_HANDOFF_WRITE:
        status = on_write(analysis, process, event);
        break;
    case XTIO_EVENT_HANDOFF_RUN:
        status = on_run(analysis, process, event, in_drain ? drain_since_ns : NO_TIME);
        break;
    case XTIO_EVENT_CONN_FLUSH:
        status = on_flush(analysis, process, event);
        break;
    case XTIO_EVENT_SYNC_WAIT_END:
        status = on_sync_wait_end(analysis, process, event);
        break;
    case XTIO_EVENT_HANDOFF_DROP:
        status = on_drop(analysis, process, event);
        break;
    case XTIO_EVENT_BACKPRESSURE:
        status = on_backpressure(analysis, process, event);
        break;
    case XTIO_EVENT_THREAD_NAME:
        status = on_thread_name(analysis, process, event);
        break;
    case XTIO_EVENT_LOOP_POST:
        status = xtio__on_loop_post(analysis, process, event);
        break;
    case XTIO_EVENT_LOOP_RUN:
        status = xtio__on_loop_run(analysis, process, event);
        break;
    case XTIO_EVENT_IO_WRITE:
        status = xtio__on_io_write(analysis, process, event);
        break;
    case XTIO_EVENT_LOOP_STOP:
        break;
    }
end:
    return status;
}

/* ---- Feeding ----------------------------------------------------------------------------- */

static uint64_t tie_key(const struct xtio_event *event)
{
    switch (event->kind) {
    case XTIO_EVENT_HANDOFF_ENQUEUE:
    case XTIO_EVENT_HANDOFF_DROP:
        return event->seq;
    case XTIO_EVENT_HANDOFF_WRITE:
    case XTIO_EVENT_HANDOFF_RUN:
        return event->offset;
    case XTIO_EVENT_CONN_FLUSH:
        return event->bytes_flushed_total;
    default:
        return 0;
    }
}

static int compare_held(const void *pa, const void *pb)
{
    const struct held_event *a = pa, *b = pb;
    const struct xtio_event *ea = &a->event, *eb = &b->event;
    if (tie_rank[ea->kind] != tie_rank[eb->kind])
        return tie_rank[ea->kind] < tie_rank[eb->kind] ? -1 : 1;
    if (ea->vpid != eb->vpid)
        return ea->vpid < eb->vpid ? -1 : 1;
    if (ea->conn_id != eb->conn_id)
        return ea->conn_id < eb->conn_id ? -1 : 1;
    if (tie_key(ea) != tie_key(eb))
        return tie_key(ea) < tie_key(eb) ? -1 : 1;
    return a->arrival < b->arrival ? -1 : a->arrival > b->arrival;
}

/* Takes what is held: the pending event, or the events of a tie in causal order, which are
 * dropped after a failure (the analysis has then refused its input). */
static inline int release_held(xtio_analysis *analysis)
{
    int status = 0;
    if (analysis->pending) {
        status = process_event(analysis, analysis->pending);
        analysis->pending = NULL;
    }
    if (analysis->held_len && status == 0) {
        if (analysis->held_len > 1)
            qsort(analysis->held, analysis->held_len, sizeof(*analysis->held), compare_held);
        for (size_t i = 0; i < analysis->held_len && !status; i++) {
            struct held_event *held = &analysis->held[i];
            held->event.procname = held->has_procname ? held->procname : NULL;
            status = process_event(analysis, &held->event);
        }
    }
    for (size_t i = 0; i < analysis->held_len; i++)
        free((void *)analysis->held[i].event.enqueues);
    analysis->held_len = 0;
    if (status)
        refuse(analysis, status, failure_message(status));
    return status;
}

/* Copies an event of a tie, strings included: the caller keeps only the last one valid. */
static int hold_copy(xtio_analysis *analysis, const struct xtio_event *event)
{
    if (analysis->held_len == analysis->held_cap) {
        size_t cap = analysis->held_cap ? analysis->held_cap * 2 : 16;
        struct held_event *held = realloc(analysis->held, cap * sizeof(*held));
        if (!held)
            return refuse(analysis, -ENOMEM, NOMEM_MESSAGE);
        analysis->held = held;
        analysis->held_cap = cap;
    }
    const struct xtio_enqueue *enqueues = NULL;
    if (event->enqueues && event->count) {
        size_t size = event->count * sizeof(*event->enqueues);
        void *copy = malloc(size);
        if (!copy)
            return refuse(analysis, -ENOMEM, NOMEM_MESSAGE);
        enqueues = memcpy(copy, event->enqueues, size);
    }
    struct held_event *held = &analysis->held[analysis->held_len++];
    held->event = *event;
    held->event.enqueues = enqueues;
    held->event.procname = NULL;
    held->has_procname = event->procname != NULL;
    if (held->has_procname)
        copy_name(held->procname, event->procname);
    held->arrival = analysis->arrivals++;
    return 0;
}

/* Holds the event until the timestamp moves on. Most timestamps are not shared: the event is
 * then held by reference (the caller keeps it valid until the next feed, analysis.h), and only
 * the events of a tie are copied, to be sorted. */
static int hold(xtio_analysis *analysis, const struct xtio_event *event)
{
    int status = 0;
    const struct xtio_event *pending = analysis->pending;
    if (pending && pending->ts_ns == event->ts_ns) {
        analysis->pending = NULL;
        status = hold_copy(analysis, pending);
        if (status == 0)
            status = hold_copy(analysis, event);
    } else if (analysis->held_len && analysis->held[0].event.ts_ns == event->ts_ns &&
               analysis->held_len < HELD_MAX) {
        status = hold_copy(analysis, event);
    } else {
        /* A tie longer than HELD_MAX is a clock that does not tick (synthetic input), not a tie
         * to reorder: it is taken in parts. */
        status = release_held(analysis);
        if (status == 0)
            analysis->pending = event;
    }
    return status;
}

static int check_event(xtio_analysis *analysis, const struct xtio_event *event)
{
    const char *name = xtio_schema_events[event->kind].name;
    if (!event->has_vtid)
        return refuse(analysis, -EPROTO, VTID_MESSAGE);
    if ((event->kind == XTIO_EVENT_LOOP_START || event->kind == XTIO_EVENT_CONN_OPEN) &&
        event->has_schema_version &&
        (event->schema_version < XTIO_SCHEMA_VERSION_MIN ||
         event->schema_version > XTIO_SCHEMA_VERSION))
        return refuse(analysis, -EPROTONOSUPPORT,
                      "the trace uses xtio schema version %u (in xtio:%s of pid %" PRId64
                      "), but this analyzer reads versions %d to %d; analyse it with the xtio "
                      "release that matches the traced application's libxtio",
                      event->schema_version, name, event->vpid, XTIO_SCHEMA_VERSION_MIN,
                      XTIO_SCHEMA_VERSION);
    if ((event->kind == XTIO_EVENT_HANDOFF_ENQUEUE || event->kind == XTIO_EVENT_HANDOFF_WRITE ||
         event->kind == XTIO_EVENT_HANDOFF_RUN ||
         (event->kind == XTIO_EVENT_HANDOFF_DROP && event->layout_version >= 3)) &&
        (event->mode < 0 || event->mode >= XTIO_SCHEMA_MODE_COUNT))
        return refuse(analysis, -EPROTO,
                      "the trace has xtio:%s with mode %d (pid %" PRId64 ", handoff %" PRIu64
                      "), but the schema defines modes 0 (inline) to 4 (direct): the trace is "
                      "corrupt or not from libxtio",
                      name, event->mode, event->vpid, event->handoff_id);
    if ((event->kind == XTIO_EVENT_LOOP_POST || event->kind == XTIO_EVENT_LOOP_RUN) &&
        (event->mech < 0 || event->mech >= XTIO_SCHEMA_MECH_COUNT))
        return refuse(analysis, -EPROTO,
                      "the trace has xtio:%s with mech %d (pid %" PRId64 ", loop %" PRIu32
                      "), but the schema defines mechanisms 0 to %d: the trace is corrupt or not "
                      "from xtio",
                      name, event->mech, event->vpid, event->loop_id, XTIO_SCHEMA_MECH_COUNT - 1);
    if (event->kind == XTIO_EVENT_IO_WRITE &&
        (event->call < 0 || event->call >= XTIO_SCHEMA_CALL_COUNT))
        return refuse(analysis, -EPROTO,
                      "the trace has xtio:%s with call %d (pid %" PRId64 ", conn %" PRIu64
                      "), but the schema defines calls 0 to %d: the trace is corrupt or not from "
                      "xtio",
                      name, event->call, event->vpid, event->conn_id, XTIO_SCHEMA_CALL_COUNT - 1);
    return 0;
}

int xtio_analysis_feed_event(xtio_analysis *analysis, const struct xtio_event *event)
{
    int status = 0;
    if (!analysis || !event || (unsigned)event->kind >= XTIO_EVENT_KIND_COUNT)
        return -EINVAL;
    if (analysis->status)
        return analysis->status;
    if (analysis->finished)
        return -EINVAL;
    status = check_event(analysis, event);
    if (status)
        goto end;
    analysis->events++;
    /* Events of one timestamp are held until the next timestamp, then taken in causal order. */
    status = hold(analysis, event);
end:
    return status;
}

void xtio_analysis_feed_discard(xtio_analysis *analysis, const struct xtio_discard *discard)
{
    if (!analysis || !discard || analysis->status || analysis->finished)
        return;
    const char *name = discard->stream ? discard->stream : "(unnamed stream)";
    struct stream_discards *stream = NULL;
    for (size_t i = 0; i < analysis->stream_count && !stream; i++) {
        if (strcmp(analysis->streams[i].name, name) == 0)
            stream = &analysis->streams[i];
    }
    if (!stream) {
        struct stream_discards *streams =
            realloc(analysis->streams, (analysis->stream_count + 1) * sizeof(*streams));
        if (!streams) {
            refuse(analysis, -ENOMEM, NOMEM_MESSAGE);
            return;
        }
        analysis->streams = streams;
        stream = &streams[analysis->stream_count];
        *stream = (struct stream_discards){.name = strdup(name)};
        if (!stream->name) {
            refuse(analysis, -ENOMEM, NOMEM_MESSAGE);
            return;
        }
        analysis->stream_count++;
    }

    /* The lost events may be a loop's, inside a drain: no drain is timed across them. */
    uint64_t lost_until = discard->has_range ? discard->end_ns : UINT64_MAX;
    if (lost_until > analysis->lost_until_ns)
        analysis->lost_until_ns = lost_until;
    stream->events += discard->count;
    stream->messages++;
    analysis->discards.events += discard->count;
    analysis->discards.messages++;
    if (!discard->has_range) {
        stream->unranged++;
        analysis->discards.unranged++;
        return;
    }
    if (!stream->has_range || discard->begin_ns < stream->begin_ns)
        stream->begin_ns = discard->begin_ns;
    if (!stream->has_range || discard->end_ns > stream->end_ns)
        stream->end_ns = discard->end_ns;
    stream->has_range = true;
    if (!analysis->has_ranged_discard || discard->begin_ns < analysis->discard_min_begin)
        analysis->discard_min_begin = discard->begin_ns;
    if (!analysis->has_ranged_discard || discard->end_ns > analysis->discard_max_end)
        analysis->discard_max_end = discard->end_ns;
    analysis->has_ranged_discard = true;
}

int xtio_analysis_add_module(xtio_analysis *analysis, int64_t vpid, uint64_t baddr, uint64_t memsz,
                             const char *path)
{
    if (!analysis || !path || analysis->finished)
        return -EINVAL;
    if (analysis->status)
        return analysis->status;
    int status = xtio__add_module(analysis, vpid, baddr, memsz, path);
    return status == -ENOMEM ? refuse(analysis, status, NOMEM_MESSAGE) : status;
}

int xtio_analysis_name_process(xtio_analysis *analysis, int64_t vpid, const char *program)
{
    if (!analysis || !program || analysis->finished)
        return -EINVAL;
    if (analysis->status)
        return analysis->status;
    char *name = xtio__map_get(&analysis->programs, vpid, 0);
    if (!name) {
        name = malloc(NAME_SIZE);
        if (!name || xtio__map_put(&analysis->programs, vpid, 0, name) != 0) {
            free(name);
            return refuse(analysis, -ENOMEM, NOMEM_MESSAGE);
        }
    }
    copy_name(name, program);
    return 0;
}

/* ---- The end of the trace ---------------------------------------------------------------- */

/* Processes take their program's name, when the trace gave it. */
static void name_processes(xtio_analysis *analysis)
{
    for (size_t i = 0; i < analysis->processes.cap; i++) {
        struct process *process = analysis->processes.slots[i].value;
        const char *program = process ? xtio__map_get(&analysis->programs, process->vpid, 0) : NULL;
        if (program)
            copy_name(process->name, program);
    }
}

/* A handoff still queued at the end. */
static int settle_in_flight(void *data, int64_t vpid, uint64_t handoff_id,
                            const struct handoff *handoff)
{
    xtio_analysis *analysis = data;
    struct process *process = xtio__map_get(&analysis->processes, vpid, 0);
    if (handoff->written || handoff->dropped)
        return 0; /* a sync producer still waiting: nothing is missing from the output */
    if (!idset_contains(&process->closed, handoff->conn_id)) {
        process->coverage.incomplete_in_flight++;
        /* A connection seen only through its enqueues was opened before the trace began: it
         * counts among those without conn_open, as one seen through its writes does. */
        struct conn_state *conn;
        return get_conn(analysis, process, handoff->conn_id, handoff->owner_tid, false, &conn);
    }
    /* Enqueued on a closed connection: already a write-after-close finding, not a loss too. */
    if (handoff->enqueued_after_close)
        return 0;
    /* Its close was seen, yet neither its write nor its drop: unless a discard since its enqueue
     * may have held them. */
    if (discarded_since(analysis, handoff->enqueue_ns)) {
        process->coverage.unknown_in_flight++;
        return 0;
    }
    struct sample sample = {
        .ts_ns = handoff->enqueue_ns,
        .event = XTIO_EVENT_HANDOFF_ENQUEUE,
        .handoff_id = handoff_id,
        .conn_id = handoff->conn_id,
        .seq = handoff->seq,
        .has_handoff = true,
        .has_seq = true,
        .mode = handoff->mode,
        .bytes = handoff->bytes,
        .writer_tid = handoff->producer_tid,
        .owner_tid = handoff->owner_tid,
    };
    return xtio__add_finding(analysis, process, XTIO_FINDING_LOST_HANDOFF, &sample);
}

int xtio_analysis_finish(xtio_analysis *analysis)
{
    int status = 0;
    if (!analysis)
        return -EINVAL;
    if (analysis->finished)
        return analysis->status ? analysis->status : -EINVAL;
    analysis->finished = true;
    if (analysis->status)
        return analysis->status;
    status = release_held(analysis);
    if (status)
        goto end;
    if (analysis->events == 0) {
        status = refuse(analysis, -ENODATA, NO_EVENTS_MESSAGE);
        goto end;
    }

    name_processes(analysis);
    status = xtio__handoffs_visit(&analysis->handoffs, settle_in_flight, analysis);
    if (status) {
        /* Its findings go to the observer too, whose output may fail. */
        refuse(analysis, status, failure_message(status));
        goto end;
    }
    xtio__settle_posts(analysis);
    status = xtio__name_sites(analysis);
    if (status) {
        refuse(analysis, status, NOMEM_MESSAGE);
        goto end;
    }
    for (size_t i = 0; i < analysis->conns.cap; i++) {
        const struct xtio__map_slot *slot = &analysis->conns.slots[i];
        if (!slot->value)
            continue;
        struct process *process = xtio__map_get(&analysis->processes, slot->vpid, 0);
        const struct conn_state *conn = slot->value;
        process->coverage.incomplete_unflushed += conn->len;
        for (size_t k = 0; k < conn->len && status == 0; k++)
            status = observe_handoff(analysis, process->vpid, conn->conn_id,
                                     &conn->pending[(conn->head + k) & (conn->cap - 1)], 0);
        if (status) {
            refuse(analysis, status, failure_message(status));
            goto end;
        }
        /* Version 3: gaps in the seqs of a connection still open, as in flight (not lost: that
         * takes its close, as for handoffs of earlier versions). */
        for (size_t g = 0; g < conn->gaps_len; g++)
            process->coverage.incomplete_in_flight += conn->gaps[g].count;
    }
    /* A discard without a time range may have held any enqueue, even one the trace seemed to
     * start after. */
    if (analysis->discards.unranged == 0)
        goto end;
    for (size_t i = 0; i < analysis->processes.cap; i++) {
        struct process *process = analysis->processes.slots[i].value;
        if (!process)
            continue;
        struct xtio_coverage_summary *cov = &process->coverage;
        cov->unknown_writes += cov->incomplete_writes;
        cov->unknown_drops += cov->incomplete_drops;
        cov->unknown_sync_waits += cov->incomplete_sync_waits;
        cov->incomplete_writes = cov->incomplete_drops = cov->incomplete_sync_waits = 0;
    }
end:
    return status;
}
