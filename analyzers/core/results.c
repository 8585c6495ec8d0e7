/* The results of an analysis as numbers (the accessors of analysis.h), and what the report
 * writers share: names, sorting, summaries, the findings total and the exit code. */
#include "internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

const unsigned xtio__percentiles[PERCENTILE_COUNT] = {500, 900, 990, 999};

/* Each finding kind: its name (the JSON keys), what the reports call it, and what it means. */
static const struct {
    const char *name;
    const char *label;
    const char *explanation;
} findings[XTIO_FINDING_KIND_COUNT] = {
    [XTIO_FINDING_OFF_LOOP_WRITE] = {"off_loop_write", "off-loop writes",
                                     "written by a thread other than the connection's loop "
                                     "thread"},
    [XTIO_FINDING_ORDERING_BREAK] = {"ordering_break", "ordering breaks",
                                     "a write whose seq is not above the previous write's on its "
                                     "connection"},
    [XTIO_FINDING_WRITE_AFTER_CLOSE] = {"write_after_close", "writes after close",
                                        "an enqueue or write on a closed connection"},
    [XTIO_FINDING_LOST_HANDOFF] = {"lost_handoff", "lost handoffs",
                                   "enqueued, then its connection closed with neither its write "
                                   "nor its drop"},
    [XTIO_FINDING_DROPPED_DATA] = {"dropped_data", "dropped data",
                                   "handoffs dropped at close; a finding because of strict"},
};

const char *xtio__finding_label(int kind)
{
    return findings[kind].label;
}

const char *xtio__finding_explanation(int kind)
{
    return findings[kind].explanation;
}

const char *xtio_finding_kind_name(enum xtio_finding_kind kind)
{
    if ((unsigned)kind >= XTIO_FINDING_KIND_COUNT)
        return NULL;
    return findings[kind].name;
}

/* Each latency: its name, its key in the JSON report and xtio-compare's metrics, and what the
 * reports call it. */
static const struct {
    const char *name;
    const char *key;
    const char *label;
} latencies[XTIO_LATENCY_KIND_COUNT] = {
    [XTIO_LATENCY_QUEUE_WAIT] = {"queue_wait", "queue_wait_us", "queue wait"},
    [XTIO_LATENCY_END_TO_END] = {"end_to_end", "end_to_end_us", "end to end"},
    [XTIO_LATENCY_FLUSH] = {"flush", "flush_us", "flush"},
    [XTIO_LATENCY_PRODUCER_BLOCKED] = {"producer_blocked", "producer_blocked_us",
                                       "producer blocked"},
    [XTIO_LATENCY_SPOOL_DELAY] = {"spool_delay", "spool_delay_us", "spool delay"},
    [XTIO_LATENCY_LOOP_WRITE] = {"loop_write", "loop_write_us", "loop write"},
    [XTIO_LATENCY_WAKE] = {"wake", "wake_us", "producer wake"},
};

const char *xtio__latency_label(int kind)
{
    return latencies[kind].label;
}

const char *const xtio__stat_labels[PERCENTILE_COUNT + 2] = {"n",   "p50",   "p90",
                                                             "p99", "p99.9", "max"};

/* Microseconds with as many decimals as fit a cell. */
static void format_us(char *buf, size_t size, uint64_t ns)
{
    double us = ns / 1000.0;
    if (us < 100)
        snprintf(buf, size, "%.2f", us);
    else if (us < 100000)
        snprintf(buf, size, "%.1f", us);
    else
        snprintf(buf, size, "%.0f", us);
}

/* Statistic `stat` of a histogram: 0 is the count, then the percentiles, then the max. */
void xtio__format_stat(char *buf, size_t size, const struct xtio_hist *hist, int stat)
{
    if (hist->count == 0)
        snprintf(buf, size, "-");
    else if (stat == 0)
        snprintf(buf, size, "%" PRIu64, hist->count);
    else if (stat <= PERCENTILE_COUNT)
        format_us(buf, size, xtio_hist_percentile(hist, xtio__percentiles[stat - 1]));
    else
        format_us(buf, size, hist->max);
}

void xtio__put_ts(FILE *out, uint64_t ns)
{
    fprintf(out, "%" PRIu64 ".%09" PRIu64 " s", ns / 1000000000u, ns % 1000000000u);
}

void xtio__put_conn(FILE *out, uint64_t conn_id)
{
    if (conn_id >> 63)
        fprintf(out, "0x%" PRIx64, conn_id);
    else
        fprintf(out, "%" PRIu64, conn_id);
}

void xtio__format_process(char *buf, size_t size, const struct process *process)
{
    if (process->name[0])
        snprintf(buf, size, "%s (pid %" PRId64 ")", process->name, process->vpid);
    else
        snprintf(buf, size, "pid %" PRId64, process->vpid);
}

void xtio__format_thread(char *buf, size_t size, const xtio_analysis *analysis, int64_t vpid,
                         int64_t tid)
{
    const char *name = xtio__thread_name(analysis, vpid, tid);
    if (tid < 0)
        snprintf(buf, size, "unknown");
    else if (name && name[0])
        snprintf(buf, size, "%" PRId64 " (%s)", tid, name);
    else
        snprintf(buf, size, "%" PRId64, tid);
}

const char *const xtio__mode_count_labels[XTIO__MODE_COUNTS] = {"handoffs", "bytes", "records",
                                                                "dropped", "dropped bytes"};

uint64_t xtio__mode_count(const struct mode_stats *s, int row)
{
    uint64_t values[XTIO__MODE_COUNTS] = {s->handoffs, s->bytes, s->records, s->drops,
                                          s->drop_bytes};
    return values[row];
}

const char *const xtio__queue_stat_labels[3] = {"p50", "p99", "max"};

void xtio__format_queue(char *buf, size_t size, const struct mode_stats *s, int which, int stat)
{
    struct xtio_quantity_summary q;
    xtio__quantity(which == 0 ? &s->queue_depth : &s->queued_bytes, &q);
    uint64_t values[] = {q.p50, q.p99, q.max};
    if (q.count == 0)
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%" PRIu64, values[stat]);
}

uint64_t xtio__row_cells(const struct row *row, char cells[XTIO__ROW_CELLS][32])
{
    static const struct {
        int metric; /* XTIO_LATENCY_KIND_COUNT: the backpressure waits */
        int stat;
    } shown[XTIO__ROW_CELLS] = {
        {XTIO_LATENCY_QUEUE_WAIT, 3},       {XTIO_LATENCY_END_TO_END, 1},
        {XTIO_LATENCY_END_TO_END, 3},       {XTIO_LATENCY_END_TO_END, 5},
        {XTIO_LATENCY_PRODUCER_BLOCKED, 3}, {XTIO_LATENCY_KIND_COUNT, 0},
        {XTIO_LATENCY_KIND_COUNT, 3},
    };
    for (int c = 0; c < XTIO__ROW_CELLS; c++) {
        const struct xtio_hist *hist = shown[c].metric == XTIO_LATENCY_KIND_COUNT
                                           ? &row->backpressure
                                           : &row->metric[shown[c].metric];
        xtio__format_stat(cells[c], sizeof(cells[c]), hist, shown[c].stat);
    }
    uint64_t handoffs = 0;
    for (int m = 0; m < XTIO_SCHEMA_MODE_COUNT; m++)
        handoffs += row->handoffs[m];
    return handoffs;
}

size_t xtio__primary_columns(struct process *const *processes, size_t count, struct column *columns)
{
    size_t used = 0;
    for (size_t i = 0; i < count; i++) {
        int mode = xtio__primary_mode(processes[i]);
        if (mode >= 0)
            columns[used++] = (struct column){processes[i], mode};
    }
    return used;
}

static int compare_processes(const void *pa, const void *pb)
{
    const struct process *a = *(struct process *const *)pa, *b = *(struct process *const *)pb;
    return a->vpid < b->vpid ? -1 : a->vpid > b->vpid;
}

struct process **xtio__sorted_processes(const xtio_analysis *analysis, size_t *count)
{
    *count = 0;
    struct process **processes = malloc((analysis->processes.len + 1) * sizeof(*processes));
    if (!processes)
        return NULL;
    for (size_t i = 0; i < analysis->processes.cap; i++) {
        if (analysis->processes.slots[i].value)
            processes[(*count)++] = analysis->processes.slots[i].value;
    }
    qsort(processes, *count, sizeof(*processes), compare_processes);
    return processes;
}

static int compare_rows(const void *pa, const void *pb)
{
    const struct row *a = *(struct row *const *)pa, *b = *(struct row *const *)pb;
    return a->id < b->id ? -1 : a->id > b->id;
}

struct row **xtio__sorted_rows(const struct xtio__map *rows, int64_t vpid, size_t *count)
{
    *count = 0;
    struct row **sorted = malloc((rows->len + 1) * sizeof(*sorted));
    if (!sorted)
        return NULL;
    for (size_t i = 0; i < rows->cap; i++) {
        if (rows->slots[i].value && rows->slots[i].vpid == vpid)
            sorted[(*count)++] = rows->slots[i].value;
    }
    qsort(sorted, *count, sizeof(*sorted), compare_rows);
    return sorted;
}

struct row **xtio__table_rows(const xtio_analysis *analysis, int64_t vpid, enum xtio__table table,
                              size_t *count)
{
    const struct xtio__map *maps[] = {&analysis->conn_rows, &analysis->loop_rows,
                                      &analysis->producer_rows};
    return xtio__sorted_rows(maps[table], vpid, count);
}

const char *xtio__thread_name(const xtio_analysis *analysis, int64_t vpid, int64_t tid)
{
    if (tid < 0)
        return NULL;
    const struct thread *thread = xtio__map_get(&analysis->threads, vpid, (uint64_t)tid);
    return thread ? thread->name : NULL;
}

void xtio__latency(const struct xtio_hist *hist, struct xtio_latency_summary *summary)
{
    *summary = (struct xtio_latency_summary){.count = hist->count};
    if (hist->count == 0)
        return;
    summary->p50_us = xtio_hist_percentile(hist, xtio__percentiles[0]) / 1000.0;
    summary->p90_us = xtio_hist_percentile(hist, xtio__percentiles[1]) / 1000.0;
    summary->p99_us = xtio_hist_percentile(hist, xtio__percentiles[2]) / 1000.0;
    summary->p999_us = xtio_hist_percentile(hist, xtio__percentiles[3]) / 1000.0;
    summary->max_us = hist->max / 1000.0;
}

void xtio__quantity(const struct xtio_hist *hist, struct xtio_quantity_summary *summary)
{
    *summary = (struct xtio_quantity_summary){.count = hist->count};
    if (hist->count == 0)
        return;
    summary->p50 = xtio_hist_percentile(hist, xtio__percentiles[0]);
    summary->p99 = xtio_hist_percentile(hist, xtio__percentiles[2]);
    summary->max = hist->max;
}

bool xtio__finding_counts(const xtio_analysis *analysis, enum xtio_finding_kind kind)
{
    return kind != XTIO_FINDING_DROPPED_DATA || analysis->options.strict;
}

uint64_t xtio__process_findings(const xtio_analysis *analysis, const struct process *process)
{
    uint64_t total = 0;
    for (int k = 0; k < XTIO_FINDING_KIND_COUNT; k++) {
        if (xtio__finding_counts(analysis, (enum xtio_finding_kind)k))
            total += process->findings[k].count;
    }
    return total;
}

uint64_t xtio_analysis_findings_total(const xtio_analysis *analysis)
{
    uint64_t total = 0;
    if (!analysis)
        return 0;
    for (size_t i = 0; i < analysis->processes.cap; i++) {
        const struct process *process = analysis->processes.slots[i].value;
        if (process)
            total += xtio__process_findings(analysis, process);
    }
    return total;
}

int xtio_analysis_exit_code(const xtio_analysis *analysis)
{
    if (!analysis || analysis->status || analysis->events == 0)
        return 2;
    return xtio_analysis_findings_total(analysis) ? 1 : 0;
}

int xtio__primary_mode(const struct process *process)
{
    int primary = -1;
    for (int m = 0; m < XTIO_SCHEMA_MODE_COUNT; m++) {
        if (m != XTIO_SCHEMA_MODE_INLINE && process->modes[m].handoffs &&
            (primary < 0 || process->modes[m].handoffs > process->modes[primary].handoffs))
            primary = m;
    }
    if (primary < 0 && process->modes[XTIO_SCHEMA_MODE_INLINE].handoffs)
        primary = XTIO_SCHEMA_MODE_INLINE;
    return primary;
}

size_t xtio_analysis_process_count(const xtio_analysis *analysis)
{
    return analysis ? analysis->processes.len : 0;
}

int xtio_analysis_process_vpid(const xtio_analysis *analysis, size_t index, int64_t *vpid)
{
    int status = 0;
    size_t count;
    if (!analysis || !vpid || index >= analysis->processes.len)
        return -EINVAL;
    struct process **processes = xtio__sorted_processes(analysis, &count);
    if (!processes) {
        status = -ENOMEM;
        goto end;
    }
    *vpid = processes[index]->vpid;
end:
    free(processes);
    return status;
}

static const struct process *find_process(const xtio_analysis *analysis, int64_t vpid)
{
    return analysis ? xtio__map_get(&analysis->processes, vpid, 0) : NULL;
}

int xtio_analysis_mode_summary(const xtio_analysis *analysis, int64_t vpid, int mode,
                               struct xtio_mode_summary *summary)
{
    if (!summary || mode < 0 || mode >= XTIO_SCHEMA_MODE_COUNT)
        return -EINVAL;
    const struct process *process = find_process(analysis, vpid);
    if (!process)
        return -ENOENT;
    const struct mode_stats *stats = &process->modes[mode];
    *summary = (struct xtio_mode_summary){
        .handoffs = stats->handoffs,
        .bytes = stats->bytes,
        .records = stats->records,
        .drops = stats->drops,
        .drop_bytes = stats->drop_bytes,
    };
    xtio__latency(&stats->metric[XTIO_LATENCY_QUEUE_WAIT], &summary->queue_wait);
    xtio__latency(&stats->metric[XTIO_LATENCY_END_TO_END], &summary->end_to_end);
    xtio__latency(&stats->metric[XTIO_LATENCY_FLUSH], &summary->flush);
    xtio__latency(&stats->metric[XTIO_LATENCY_PRODUCER_BLOCKED], &summary->producer_blocked);
    xtio__latency(&stats->metric[XTIO_LATENCY_SPOOL_DELAY], &summary->spool_delay);
    xtio__latency(&stats->metric[XTIO_LATENCY_LOOP_WRITE], &summary->loop_write);
    xtio__latency(&stats->metric[XTIO_LATENCY_WAKE], &summary->wake);
    xtio__quantity(&stats->queue_depth, &summary->queue_depth);
    xtio__quantity(&stats->queued_bytes, &summary->queued_bytes);
    return 0;
}

int xtio_analysis_process_summary(const xtio_analysis *analysis, int64_t vpid,
                                  struct xtio_process_summary *summary)
{
    if (!summary)
        return -EINVAL;
    const struct process *process = find_process(analysis, vpid);
    if (!process)
        return -ENOENT;
    *summary = (struct xtio_process_summary){
        .vpid = process->vpid,
        .name = process->name,
        .events = process->events,
        .schema_checked = process->schema_checked,
        .findings_total = xtio__process_findings(analysis, process),
        .drops = process->drops,
        .drop_bytes = process->drop_bytes,
        .unflushed_at_close = process->unflushed_at_close,
        .unflushed_at_close_bytes = process->unflushed_at_close_bytes,
        .backpressure_max_queued_bytes = process->backpressure_max_queued,
        .primary_mode = xtio__primary_mode(process),
    };
    xtio__latency(&process->backpressure, &summary->backpressure);
    return 0;
}

int xtio_analysis_coverage_summary(const xtio_analysis *analysis, int64_t vpid,
                                   struct xtio_coverage_summary *summary)
{
    if (!summary)
        return -EINVAL;
    const struct process *process = find_process(analysis, vpid);
    if (!process)
        return -ENOENT;
    *summary = process->coverage;
    return 0;
}

void xtio_analysis_discard_summary(const xtio_analysis *analysis,
                                   struct xtio_discard_summary *summary)
{
    if (!summary)
        return;
    *summary = analysis ? analysis->discards : (struct xtio_discard_summary){0};
}

uint64_t xtio_analysis_finding_count(const xtio_analysis *analysis, int64_t vpid,
                                     enum xtio_finding_kind kind)
{
    const struct process *process = find_process(analysis, vpid);
    if (!process || (unsigned)kind >= XTIO_FINDING_KIND_COUNT)
        return 0;
    return process->findings[kind].count;
}

size_t xtio_analysis_inflight_count(const xtio_analysis *analysis)
{
    if (!analysis)
        return 0;
    return analysis->handoffs.len + analysis->unflushed_count + analysis->held_len +
           (analysis->pending != NULL) + analysis->pending_post_count;
}

int xtio_analysis_post_summary(const xtio_analysis *analysis, int64_t vpid, int mech,
                               struct xtio_post_summary *summary)
{
    if (!summary || mech < 0 || mech >= XTIO_SCHEMA_MECH_COUNT)
        return -EINVAL;
    const struct process *process = find_process(analysis, vpid);
    if (!process)
        return -ENOENT;
    const struct mech_stats *stats = &process->mechs[mech];
    *summary = (struct xtio_post_summary){
        .posts = stats->posts,
        .runs = stats->runs,
        .coalesced = stats->coalesced,
        .runs_without_post = stats->runs_without_post,
        .pending = stats->pending,
    };
    xtio__latency(&stats->wait, &summary->wait);
    return 0;
}

static void write_summary(const struct write_counts *counts, struct xtio_write_summary *summary)
{
    for (int c = 0; c < XTIO_WRITE_CLASS_COUNT; c++) {
        summary->writes[c] = counts->writes[c];
        summary->bytes[c] = counts->bytes[c];
    }
}

int xtio_analysis_write_summary(const xtio_analysis *analysis, int64_t vpid, int64_t tid,
                                struct xtio_write_summary *summary)
{
    if (!summary)
        return -EINVAL;
    *summary = (struct xtio_write_summary){0};
    const struct process *process = find_process(analysis, vpid);
    if (!process || !process->has_writes)
        return -ENOENT;
    if (tid < 0) {
        const struct write_counts totals = xtio__process_writes(analysis, vpid);
        write_summary(&totals, summary);
        return 0;
    }
    const struct writer *writer = xtio__map_get(&analysis->writers, vpid, (uint64_t)tid);
    if (!writer)
        return -ENOENT;
    write_summary(&writer->counts, summary);
    return 0;
}

int xtio_analysis_handover_summary(const xtio_analysis *analysis, int64_t vpid, int64_t writer_tid,
                                   uint64_t conn_id, struct xtio_write_summary *summary)
{
    if (!analysis || !summary)
        return -EINVAL;
    *summary = (struct xtio_write_summary){0};
    const struct handover *h = xtio__map_get(&analysis->handovers, vpid, conn_id);
    while (h && h->writer_tid != writer_tid)
        h = h->next;
    if (!h)
        return -ENOENT;
    summary->writes[XTIO_WRITE_HANDOVER] = h->writes;
    summary->bytes[XTIO_WRITE_HANDOVER] = h->bytes;
    return 0;
}

const char *xtio_latency_kind_name(enum xtio_latency_kind kind)
{
    if ((unsigned)kind >= XTIO_LATENCY_KIND_COUNT)
        return NULL;
    return latencies[kind].name;
}

const char *xtio_latency_kind_key(enum xtio_latency_kind kind)
{
    if ((unsigned)kind >= XTIO_LATENCY_KIND_COUNT)
        return NULL;
    return latencies[kind].key;
}

const struct xtio_hist *xtio_analysis_latency_hist(const xtio_analysis *analysis, int64_t vpid,
                                                   int mode, enum xtio_latency_kind kind)
{
    if (!analysis || mode < 0 || mode >= XTIO_SCHEMA_MODE_COUNT ||
        (unsigned)kind >= XTIO_LATENCY_KIND_COUNT)
        return NULL;
    const struct process *process = xtio__map_get(&analysis->processes, vpid, 0);
    return process ? &process->modes[mode].metric[kind] : NULL;
}

const char *xtio_analysis_thread_name(const xtio_analysis *analysis, int64_t vpid, int64_t tid)
{
    const char *name = analysis ? xtio__thread_name(analysis, vpid, tid) : NULL;
    return name ? name : "";
}

bool xtio_analysis_time_range(const xtio_analysis *analysis, uint64_t *first_ns, uint64_t *last_ns)
{
    bool any = false;
    uint64_t first = 0, last = 0;
    for (size_t i = 0; analysis && i < analysis->processes.cap; i++) {
        const struct process *process = analysis->processes.slots[i].value;
        if (!process || process->events == 0)
            continue;
        if (!any || process->first_ns < first)
            first = process->first_ns;
        if (!any || process->last_ns > last)
            last = process->last_ns;
        any = true;
    }
    if (first_ns)
        *first_ns = first;
    if (last_ns)
        *last_ns = last;
    return any;
}
