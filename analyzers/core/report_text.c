/* The text report: with several processes, their modes side by side first; then per process,
 * the side-by-side table of its modes, backpressure, drops, findings with evidence, coverage and
 * the optional tables; then the trace's discards and the summary. */
#include "internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#define LABEL_WIDTH 30
#define CELL_WIDTH  12

static void print_process_name(FILE *out, const struct process *process)
{
    char buf[NAME_SIZE + 32];
    xtio__format_process(buf, sizeof(buf), process);
    fputs(buf, out);
}

static void print_thread(FILE *out, const xtio_analysis *analysis, int64_t vpid, int64_t tid)
{
    char buf[NAME_SIZE + 32];
    xtio__format_thread(buf, sizeof(buf), analysis, vpid, tid);
    fputs(buf, out);
}

/* The side-by-side table of `columns`. With `per_process`, each column is a whole process (one
 * for each process of the trace, in the mode it was run in), so its pid and its findings are
 * shown as well. */
static void print_table(FILE *out, const xtio_analysis *analysis, const char *title,
                        const struct column *columns, size_t count, bool per_process)
{
    char cell[32];
    fprintf(out, "%-*s", LABEL_WIDTH, title);
    for (size_t c = 0; c < count; c++)
        fprintf(out, "%*s", CELL_WIDTH, xtio_schema_mode_label(columns[c].mode));
    fputc('\n', out);
    if (per_process) {
        fprintf(out, "  %-*s", LABEL_WIDTH - 2, "pid");
        for (size_t c = 0; c < count; c++)
            fprintf(out, "%*" PRId64, CELL_WIDTH, columns[c].process->vpid);
        fputc('\n', out);
    }

    for (int row = 0; row < XTIO__MODE_COUNTS; row++) {
        fprintf(out, "  %-*s", LABEL_WIDTH - 2, xtio__mode_count_labels[row]);
        for (size_t c = 0; c < count; c++)
            fprintf(out, "%*" PRIu64, CELL_WIDTH,
                    xtio__mode_count(&columns[c].process->modes[columns[c].mode], row));
        fputc('\n', out);
    }
    for (int metric = 0; metric < XTIO_LATENCY_KIND_COUNT; metric++) {
        for (int stat = 0; stat < PERCENTILE_COUNT + 2; stat++) {
            char label[64];
            snprintf(label, sizeof(label), "%s%s", stat == 0 ? xtio__latency_label(metric) : "",
                     stat == 0 ? " (us)" : "");
            fprintf(out, "  %-*s%-6s", LABEL_WIDTH - 8, label, xtio__stat_labels[stat]);
            for (size_t c = 0; c < count; c++) {
                const struct mode_stats *s = &columns[c].process->modes[columns[c].mode];
                xtio__format_stat(cell, sizeof(cell), &s->metric[metric], stat);
                fprintf(out, "%*s", CELL_WIDTH, cell);
            }
            fputc('\n', out);
        }
    }
    /* The queue each handoff joined at its enqueue: what its queue wait waited behind. */
    static const char *const queue_labels[] = {"queue (handoffs)", "queue (bytes)"};
    for (int which = 0; which < 2; which++) {
        for (int stat = 0; stat < 3; stat++) {
            fprintf(out, "  %-*s%-6s", LABEL_WIDTH - 8, stat == 0 ? queue_labels[which] : "",
                    xtio__queue_stat_labels[stat]);
            for (size_t c = 0; c < count; c++) {
                xtio__format_queue(cell, sizeof(cell), &columns[c].process->modes[columns[c].mode],
                                   which, stat);
                fprintf(out, "%*s", CELL_WIDTH, cell);
            }
            fputc('\n', out);
        }
    }
    if (per_process) {
        fprintf(out, "  %-*s", LABEL_WIDTH - 2, "findings");
        for (size_t c = 0; c < count; c++)
            fprintf(out, "%*" PRIu64, CELL_WIDTH,
                    xtio__process_findings(analysis, columns[c].process));
        fputc('\n', out);
    }
}

static void print_mode_table(FILE *out, const xtio_analysis *analysis,
                             const struct process *process)
{
    struct column columns[XTIO_SCHEMA_MODE_COUNT];
    for (int m = 0; m < XTIO_SCHEMA_MODE_COUNT; m++)
        columns[m] = (struct column){process, m};
    print_table(out, analysis, "handoffs by mode", columns, XTIO_SCHEMA_MODE_COUNT, false);
}

/* A trace of several processes, typically one server per handoff mode captured in one session:
 * their modes side by side first, each process in the mode it was run in. */
static int print_processes_table(FILE *out, const xtio_analysis *analysis,
                                 struct process *const *processes, size_t count)
{
    struct column *columns = calloc(count, sizeof(*columns));
    if (!columns)
        return -ENOMEM;
    size_t used = xtio__primary_columns(processes, count, columns);
    if (used >= 2) {
        print_table(out, analysis, "processes side by side", columns, used, true);
        fputc('\n', out);
    }
    free(columns);
    return 0;
}

static void print_summary_line(FILE *out, const struct xtio_hist *hist)
{
    char cell[32];
    for (int stat = 1; stat < PERCENTILE_COUNT + 2; stat++) {
        xtio__format_stat(cell, sizeof(cell), hist, stat);
        fprintf(out, "%s %s%s", xtio__stat_labels[stat], cell,
                stat < PERCENTILE_COUNT + 1 ? ", " : "");
    }
}

static void print_site(FILE *out, const xtio_analysis *analysis, int64_t vpid, uint64_t site)
{
    char buf[512];
    xtio__format_site(analysis, vpid, site, buf, sizeof(buf));
    fputs(buf, out);
}

static void print_sample(FILE *out, const xtio_analysis *analysis, const struct process *process,
                         const struct sample *s)
{
    fprintf(out, "    - ");
    xtio__put_ts(out, s->ts_ns);
    fprintf(out, ": xtio:%s in ", xtio_schema_events[s->event].name);
    print_process_name(out, process);
    fprintf(out, ", conn ");
    xtio__put_conn(out, s->conn_id);
    if (s->has_handoff)
        fprintf(out, ", handoff %" PRIu64, s->handoff_id);
    if (s->has_seq)
        fprintf(out, ", seq %" PRIu64, s->seq);
    if (s->has_prev_seq)
        fprintf(out, " after seq %" PRIu64, s->prev_seq);
    if (s->mode >= 0)
        fprintf(out, ", %s", xtio_schema_mode_label(s->mode));
    fprintf(out, ", %" PRIu64 " bytes; thread ", s->bytes);
    print_thread(out, analysis, process->vpid, s->writer_tid);
    fprintf(out, ", owner ");
    print_thread(out, analysis, process->vpid, s->owner_tid);
    if (s->event == XTIO_EVENT_IO_WRITE) {
        fprintf(out, "; %s at ", xtio_schema_call_labels[s->call]);
        print_site(out, analysis, process->vpid, s->site);
    }
    fputc('\n', out);
}

static void print_findings(FILE *out, const xtio_analysis *analysis, const struct process *process)
{
    fprintf(out, "findings: %" PRIu64 "\n", xtio__process_findings(analysis, process));
    for (int k = 0; k < XTIO_FINDING_KIND_COUNT; k++) {
        if (!xtio__finding_counts(analysis, (enum xtio_finding_kind)k))
            continue;
        const struct finding *finding = &process->findings[k];
        fprintf(out, "  %s: %" PRIu64 " (%s)\n", xtio__finding_label(k), finding->count,
                xtio__finding_explanation(k));
        for (unsigned i = 0; i < finding->nsamples; i++)
            print_sample(out, analysis, process, &finding->samples[i]);
        if (finding->count > finding->nsamples)
            fprintf(out, "    ... and %" PRIu64 " more\n", finding->count - finding->nsamples);
    }
}

static void print_coverage(FILE *out, const struct process *process)
{
    const struct xtio_coverage_summary *c = &process->coverage;
    fprintf(out, "coverage:\n");
    if (process->schema_checked)
        fprintf(out, "  schema version %u, checked in %" PRIu64 " loop_start/conn_open events\n",
                process->schema_version, process->schema_checked);
    else
        fprintf(out, "  schema version not checked: the trace holds no loop_start or conn_open of "
                     "this process\n");
    fprintf(out, "  incomplete, the trace started or ended mid-run:\n");
    fprintf(out,
            "    without their enqueue: writes %" PRIu64 ", drops %" PRIu64 ", sync waits %" PRIu64
            "\n",
            c->incomplete_writes, c->incomplete_drops, c->incomplete_sync_waits);
    fprintf(out, "    at the end: still queued %" PRIu64 ", written but not flushed %" PRIu64 "\n",
            c->incomplete_in_flight, c->incomplete_unflushed);
    fprintf(out, "  unknown, the rest may be among discarded events:\n");
    fprintf(out,
            "    without their enqueue: writes %" PRIu64 ", drops %" PRIu64 ", sync waits %" PRIu64
            "\n",
            c->unknown_writes, c->unknown_drops, c->unknown_sync_waits);
    fprintf(out, "    neither written nor dropped on a closed connection: %" PRIu64 "\n",
            c->unknown_in_flight);
    fprintf(out, "  connections first seen after their conn_open: %" PRIu64 "\n",
            c->conns_without_open);
}

/* Schema version 4: work posted to loops, one column per mechanism that was used. */
static void print_posts(FILE *out, const struct process *process)
{
    enum { POSTS_CELL = 16 };
    char cell[32];
    int used[XTIO_SCHEMA_MECH_COUNT];
    int count = 0;
    for (int m = 0; m < XTIO_SCHEMA_MECH_COUNT; m++) {
        if (process->mechs[m].posts || process->mechs[m].runs)
            used[count++] = m;
    }
    fprintf(out, "\n%-*s", LABEL_WIDTH, "work posted to loops");
    for (int c = 0; c < count; c++)
        fprintf(out, "%*s", POSTS_CELL, xtio_schema_mech_labels[used[c]]);
    fputc('\n', out);
    static const char *const labels[] = {"posts", "runs", "coalesced posts", "runs without a post",
                                         "pending at the end"};
    for (int row = 0; row < 5; row++) {
        fprintf(out, "  %-*s", LABEL_WIDTH - 2, labels[row]);
        for (int c = 0; c < count; c++) {
            const struct mech_stats *m = &process->mechs[used[c]];
            uint64_t values[] = {m->posts, m->runs, m->coalesced, m->runs_without_post, m->pending};
            fprintf(out, "%*" PRIu64, POSTS_CELL, values[row]);
        }
        fputc('\n', out);
    }
    for (int stat = 0; stat < PERCENTILE_COUNT + 2; stat++) {
        fprintf(out, "  %-*s%-6s", LABEL_WIDTH - 8, stat == 0 ? "wait (us)" : "",
                xtio__stat_labels[stat]);
        for (int c = 0; c < count; c++) {
            xtio__format_stat(cell, sizeof(cell), &process->mechs[used[c]].wait, stat);
            fprintf(out, "%*s", POSTS_CELL, cell);
        }
        fputc('\n', out);
    }
}

static const char *const write_class_labels[XTIO_WRITE_CLASS_COUNT] = {
    [XTIO_WRITE_ON_LOOP] = "on the loop thread",
    [XTIO_WRITE_OFF_LOOP] = "off-loop (findings)",
    [XTIO_WRITE_HANDOVER] = "handovers",
    [XTIO_WRITE_BEFORE_LOOP] = "before the loop started",
};

/* Schema version 4: io_write by class, by thread, and the handovers. */
static int print_writes(FILE *out, const xtio_analysis *analysis, const struct process *process)
{
    int status = 0;
    size_t count;
    const struct write_counts totals = xtio__process_writes(analysis, process->vpid);
    uint64_t writes = 0, bytes = 0;
    for (int c = 0; c < XTIO_WRITE_CLASS_COUNT; c++) {
        writes += totals.writes[c];
        bytes += totals.bytes[c];
    }
    fprintf(out, "\nwrites to connections: %" PRIu64 ", bytes %" PRIu64 "\n", writes, bytes);
    for (int c = 0; c < XTIO_WRITE_CLASS_COUNT; c++)
        fprintf(out, "  %-*s writes %" PRIu64 ", bytes %" PRIu64 "\n", LABEL_WIDTH - 6,
                write_class_labels[c], totals.writes[c], totals.bytes[c]);

    struct writer **writers = xtio__sorted_writers(analysis, process->vpid, &count);
    if (!writers)
        return -ENOMEM;
    fprintf(out, "  by thread:\n  %10s %-17s%9s%12s%9s%9s%9s%9s\n", "tid", "name", "writes",
            "bytes", "on loop", "off loop", "handover", "no loop");
    for (size_t i = 0; i < count; i++) {
        const struct write_counts *w = &writers[i]->counts;
        const char *name = xtio__thread_name(analysis, process->vpid, writers[i]->tid);
        uint64_t total = 0, total_bytes = 0;
        for (int c = 0; c < XTIO_WRITE_CLASS_COUNT; c++) {
            total += w->writes[c];
            total_bytes += w->bytes[c];
        }
        fprintf(out,
                "  %10" PRId64 " %-17s%9" PRIu64 "%12" PRIu64 "%9" PRIu64 "%9" PRIu64 "%9" PRIu64
                "%9" PRIu64 "\n",
                writers[i]->tid, name ? name : "?", total, total_bytes,
                w->writes[XTIO_WRITE_ON_LOOP], w->writes[XTIO_WRITE_OFF_LOOP],
                w->writes[XTIO_WRITE_HANDOVER], w->writes[XTIO_WRITE_BEFORE_LOOP]);
    }
    free(writers);

    struct handover **handovers = xtio__sorted_handovers(analysis, process->vpid, &count);
    if (!handovers)
        return -ENOMEM;
    fprintf(out,
            "handovers (a thread wrote a connection whose loop had stopped watching it; not "
            "findings): %zu\n",
            count);
    for (size_t i = 0; i < count; i++) {
        const struct handover *h = handovers[i];
        fprintf(out, "  - conn ");
        xtio__put_conn(out, h->conn_id);
        fprintf(out, ": writer ");
        print_thread(out, analysis, process->vpid, h->writer_tid);
        fprintf(out, ", loop thread ");
        print_thread(out, analysis, process->vpid, h->owner_tid);
        fprintf(out, ": writes %" PRIu64 ", bytes %" PRIu64 ", first at ", h->writes, h->bytes);
        xtio__put_ts(out, h->first_ns);
        fprintf(out, " by %s at ", xtio_schema_call_labels[h->call]);
        print_site(out, analysis, process->vpid, h->site);
        fputc('\n', out);
    }
    free(handovers);
    return status;
}

static int print_rows(FILE *out, const xtio_analysis *analysis, const struct process *process,
                      enum xtio__table kind)
{
    static const char *const titles[] = {"connections", "loop threads", "producer threads"};
    size_t count;
    struct row **rows = xtio__table_rows(analysis, process->vpid, kind, &count);
    if (!rows)
        return -ENOMEM;

    fprintf(out, "%s (percentiles within 1/%u):\n", titles[kind], HIST_ERROR(HIST_BITS_ROW));
    fprintf(out, "  %10s %-17s%9s%12s%9s%10s%10s%10s%10s%10s%9s%10s\n",
            kind == XTIO__TABLE_CONNECTIONS ? "conn" : "tid",
            kind == XTIO__TABLE_CONNECTIONS ? "owner" : "name", "handoffs", "bytes", "records",
            "qwait p99", "e2e p50", "e2e p99", "e2e max", "block p99", "bp waits", "bp p99");
    for (size_t i = 0; i < count; i++) {
        const struct row *row = rows[i];
        char who[24], cells[XTIO__ROW_CELLS][32];
        uint64_t handoffs = xtio__row_cells(row, cells);
        if (kind == XTIO__TABLE_CONNECTIONS && row->owner_tid >= 0)
            snprintf(who, sizeof(who), "%" PRId64, row->owner_tid);
        else if (kind == XTIO__TABLE_CONNECTIONS)
            snprintf(who, sizeof(who), "?");
        else
            snprintf(who, sizeof(who), "%s",
                     xtio__thread_name(analysis, process->vpid, (int64_t)row->id)
                         ? xtio__thread_name(analysis, process->vpid, (int64_t)row->id)
                         : "?");
        fprintf(out,
                "  %10" PRIu64 " %-17s%9" PRIu64 "%12" PRIu64 "%9" PRIu64
                "%10s%10s%10s%10s%10s%9s%10s\n",
                row->id, who, handoffs, row->bytes, row->records, cells[0], cells[1], cells[2],
                cells[3], cells[4], cells[5], cells[6]);
    }
    free(rows);
    return 0;
}

static int print_process(FILE *out, const xtio_analysis *analysis, const struct process *process)
{
    int status = 0;
    fprintf(out, "== ");
    print_process_name(out, process);
    fprintf(out, ": events %" PRIu64 ", loops %" PRIu64 ", connections opened %" PRIu64 " ==\n",
            process->events, process->loops, process->conns);
    /* A program that xtio-preload watches has no libxtio handoffs: their tables would be
     * empty. */
    if (xtio__primary_mode(process) >= 0 || !(process->has_posts || process->has_writes)) {
        print_mode_table(out, analysis, process);

        fprintf(out, "\nbackpressure (producers waiting for room, any mode): waits %" PRIu64,
                process->backpressure.count);
        if (process->backpressure.count) {
            fprintf(out, "; waited us ");
            print_summary_line(out, &process->backpressure);
            fprintf(out, "; most pending %" PRIu64 " bytes", process->backpressure_max_queued);
        }
        fprintf(out, "\ndropped at close: handoffs %" PRIu64 ", bytes %" PRIu64 "%s\n",
                process->drops, process->drop_bytes,
                analysis->options.strict ? " (a finding: strict)"
                                         : " (a finding only with strict)");
        fprintf(out,
                "not flushed at close (never reached the kernel): handoffs %" PRIu64
                ", bytes %" PRIu64 "\n",
                process->unflushed_at_close, process->unflushed_at_close_bytes);
    }
    if (process->has_posts)
        print_posts(out, process);
    if (process->has_writes) {
        status = print_writes(out, analysis, process);
        if (status)
            goto end;
    }
    print_findings(out, analysis, process);
    print_coverage(out, process);

    if (analysis->options.by_connection) {
        status = print_rows(out, analysis, process, XTIO__TABLE_CONNECTIONS);
        if (status)
            goto end;
    }
    if (analysis->options.by_thread) {
        status = print_rows(out, analysis, process, XTIO__TABLE_LOOP_THREADS);
        if (status)
            goto end;
        status = print_rows(out, analysis, process, XTIO__TABLE_PRODUCER_THREADS);
    }
end:
    fputc('\n', out);
    return status;
}

static void print_discards(FILE *out, const xtio_analysis *analysis)
{
    const struct xtio_discard_summary *d = &analysis->discards;
    fprintf(out, "== trace ==\ndiscarded events: %" PRIu64, d->events);
    if (d->messages)
        fprintf(out, " in %" PRIu64 " discard messages, %" PRIu64 " without a time range",
                d->messages, d->unranged);
    fputc('\n', out);
    for (size_t i = 0; i < analysis->stream_count; i++) {
        const struct stream_discards *s = &analysis->streams[i];
        fprintf(out, "  %s: %" PRIu64 " events in %" PRIu64 " messages", s->name, s->events,
                s->messages);
        if (s->has_range) {
            fprintf(out, ", from ");
            xtio__put_ts(out, s->begin_ns);
            fprintf(out, " to ");
            xtio__put_ts(out, s->end_ns);
        }
        if (s->unranged)
            fprintf(out, ", %" PRIu64 " without a time range", s->unranged);
        fputc('\n', out);
    }
}

int xtio__write_text(const xtio_analysis *analysis, FILE *out)
{
    int status = 0;
    size_t count = 0;
    struct process **processes = NULL;
    if (analysis->status) {
        fprintf(out, "input refused: %s\n", analysis->error);
        goto summary;
    }
    processes = xtio__sorted_processes(analysis, &count);
    if (!processes) {
        status = -ENOMEM;
        goto end;
    }
    status = print_processes_table(out, analysis, processes, count);
    if (status)
        goto end;
    for (size_t i = 0; i < count; i++) {
        status = print_process(out, analysis, processes[i]);
        if (status)
            goto end;
    }
    print_discards(out, analysis);
summary:
    fprintf(out, "summary: %zu processes, %" PRIu64 " events, %" PRIu64 " findings, exit code %d\n",
            count, analysis->events, analysis->status ? 0 : xtio_analysis_findings_total(analysis),
            xtio_analysis_exit_code(analysis));
end:
    free(processes);
    if (status == 0 && (fflush(out) != 0 || ferror(out)))
        status = -EIO;
    return status;
}
