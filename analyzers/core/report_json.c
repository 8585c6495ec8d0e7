/* The JSON report ("format": "xtio-analysis", "version": 1; every key is in docs/analysis.md):
 * everything the text report has, as numbers. */
#include "internal.h"
#include "xtio_formats.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

static const char *const percentile_keys[PERCENTILE_COUNT] = {"p50", "p90", "p99", "p99_9"};

/* Building a document is many small allocations: instead of checking each, a failure is noted
 * and the document dropped at the end. */
struct builder {
    const xtio_analysis *analysis;
    bool failed;
};

static void put(struct builder *b, json_t *object, const char *key, json_t *value)
{
    if (!object) {
        json_decref(value);
        b->failed = true;
        return;
    }
    /* Steals value, even when it fails. */
    if (json_object_set_new(object, key, value) != 0)
        b->failed = true;
}

static void append(struct builder *b, json_t *array, json_t *value)
{
    if (!array) {
        json_decref(value);
        b->failed = true;
        return;
    }
    if (json_array_append_new(array, value) != 0)
        b->failed = true;
}

static json_t *count_json(uint64_t value)
{
    return json_integer(value > INT64_MAX ? INT64_MAX : (json_int_t)value);
}

/* An id: an integer, or for one above INT64_MAX (xtio-preload's conn_ids have their top bit set)
 * a string of its value in hex, which JSON integers of 64 signed bits cannot hold. */
static json_t *id_json(uint64_t id)
{
    char hex[24];
    if (id <= INT64_MAX)
        return json_integer((json_int_t)id);
    snprintf(hex, sizeof(hex), "0x%" PRIx64, id);
    return json_string(hex);
}

static json_t *tid_json(int64_t tid)
{
    return tid < 0 ? json_null() : json_integer(tid);
}

static json_t *name_json(const char *name)
{
    return name && name[0] ? json_string(name) : json_null();
}

static json_t *latency_json(struct builder *b, const struct xtio_hist *hist)
{
    json_t *object = json_object();
    put(b, object, "count", count_json(hist->count));
    for (int i = 0; i < PERCENTILE_COUNT; i++) {
        put(b, object, percentile_keys[i],
            hist->count ? json_real(xtio_hist_percentile(hist, xtio__percentiles[i]) / 1000.0)
                        : json_null());
    }
    put(b, object, "max", hist->count ? json_real(hist->max / 1000.0) : json_null());
    return object;
}

/* {"count", "p50", "p99", "max"} of a quantity, nulls without samples. */
static json_t *quantity_json(struct builder *b, const struct xtio_hist *hist)
{
    struct xtio_quantity_summary q;
    xtio__quantity(hist, &q);
    json_t *object = json_object();
    put(b, object, "count", count_json(q.count));
    put(b, object, "p50", q.count ? count_json(q.p50) : json_null());
    put(b, object, "p99", q.count ? count_json(q.p99) : json_null());
    put(b, object, "max", q.count ? count_json(q.max) : json_null());
    return object;
}

static json_t *metrics_json(struct builder *b, json_t *object, const struct xtio_hist *metrics)
{
    for (int i = 0; i < XTIO_LATENCY_KIND_COUNT; i++)
        put(b, object, xtio_latency_kind_key((enum xtio_latency_kind)i),
            latency_json(b, &metrics[i]));
    return object;
}

static json_t *modes_json(struct builder *b, const struct process *process)
{
    json_t *modes = json_object();
    for (int m = 0; m < XTIO_SCHEMA_MODE_COUNT; m++) {
        const struct mode_stats *s = &process->modes[m];
        json_t *mode = json_object();
        put(b, mode, "handoffs", count_json(s->handoffs));
        put(b, mode, "bytes", count_json(s->bytes));
        put(b, mode, "records", count_json(s->records));
        put(b, mode, "dropped", count_json(s->drops));
        put(b, mode, "dropped_bytes", count_json(s->drop_bytes));
        put(b, mode, "queue_depth", quantity_json(b, &s->queue_depth));
        put(b, mode, "queued_bytes", quantity_json(b, &s->queued_bytes));
        put(b, modes, xtio_schema_mode_label(m), metrics_json(b, mode, s->metric));
    }
    return modes;
}

/* A call site: its address, its module and offset, and its function and line when known. */
static json_t *site_json(struct builder *b, int64_t vpid, uint64_t address)
{
    char hex[24];
    struct xtio_site_info info;
    if (address == 0 || xtio_analysis_site_info(b->analysis, vpid, address, &info) != 0)
        return json_null();
    json_t *object = json_object();
    snprintf(hex, sizeof(hex), "0x%" PRIx64, address);
    put(b, object, "address", json_string(hex));
    put(b, object, "module", name_json(info.module));
    put(b, object, "offset", info.module ? count_json(info.offset) : json_null());
    put(b, object, "function", name_json(info.function));
    put(b, object, "function_offset",
        info.function ? count_json(info.function_offset) : json_null());
    put(b, object, "file", name_json(info.file));
    put(b, object, "line", info.file ? json_integer(info.line) : json_null());
    return object;
}

static json_t *sample_json(struct builder *b, const struct process *process, const struct sample *s)
{
    const xtio_analysis *analysis = b->analysis;
    json_t *object = json_object();
    put(b, object, "ts_ns", count_json(s->ts_ns));
    put(b, object, "event", json_string(xtio_schema_events[s->event].name));
    put(b, object, "pid", json_integer(process->vpid));
    put(b, object, "process", name_json(process->name));
    put(b, object, "conn_id", id_json(s->conn_id));
    put(b, object, "handoff_id", s->has_handoff ? count_json(s->handoff_id) : json_null());
    put(b, object, "seq", s->has_seq ? count_json(s->seq) : json_null());
    if (s->has_prev_seq)
        put(b, object, "previous_seq", count_json(s->prev_seq));
    put(b, object, "mode",
        s->mode >= 0 ? json_string(xtio_schema_mode_label(s->mode)) : json_null());
    put(b, object, "bytes", count_json(s->bytes));
    put(b, object, "writer_tid", tid_json(s->writer_tid));
    put(b, object, "writer_name",
        name_json(xtio__thread_name(analysis, process->vpid, s->writer_tid)));
    put(b, object, "owner_tid", tid_json(s->owner_tid));
    put(b, object, "owner_name",
        name_json(xtio__thread_name(analysis, process->vpid, s->owner_tid)));
    if (s->event == XTIO_EVENT_IO_WRITE) {
        put(b, object, "call", json_string(xtio_schema_call_labels[s->call]));
        put(b, object, "site", site_json(b, process->vpid, s->site));
    }
    return object;
}

static json_t *finding_json(struct builder *b, const struct process *process,
                            const struct finding *finding)
{
    json_t *object = json_object();
    json_t *samples = json_array();
    put(b, object, "count", count_json(finding->count));
    put(b, object, "bytes", count_json(finding->bytes));
    for (unsigned i = 0; i < finding->nsamples; i++)
        append(b, samples, sample_json(b, process, &finding->samples[i]));
    put(b, object, "samples", samples);
    return object;
}

static json_t *findings_json(struct builder *b, const struct process *process)
{
    json_t *findings = json_object();
    for (int k = 0; k < XTIO_FINDING_KIND_COUNT; k++) {
        if (xtio__finding_counts(b->analysis, (enum xtio_finding_kind)k))
            put(b, findings, xtio_finding_kind_name((enum xtio_finding_kind)k),
                finding_json(b, process, &process->findings[k]));
    }
    return findings;
}

static json_t *coverage_json(struct builder *b, const struct process *process)
{
    const struct xtio_coverage_summary *c = &process->coverage;
    json_t *coverage = json_object();
    json_t *incomplete = json_object();
    json_t *unknown = json_object();
    put(b, coverage, "connections_without_open", count_json(c->conns_without_open));
    put(b, incomplete, "writes_without_enqueue", count_json(c->incomplete_writes));
    put(b, incomplete, "drops_without_enqueue", count_json(c->incomplete_drops));
    put(b, incomplete, "sync_waits_without_enqueue", count_json(c->incomplete_sync_waits));
    put(b, incomplete, "in_flight_at_end", count_json(c->incomplete_in_flight));
    put(b, incomplete, "unflushed_at_end", count_json(c->incomplete_unflushed));
    put(b, unknown, "writes_without_enqueue", count_json(c->unknown_writes));
    put(b, unknown, "drops_without_enqueue", count_json(c->unknown_drops));
    put(b, unknown, "sync_waits_without_enqueue", count_json(c->unknown_sync_waits));
    put(b, unknown, "in_flight_on_closed_connection", count_json(c->unknown_in_flight));
    put(b, coverage, "incomplete", incomplete);
    put(b, coverage, "unknown", unknown);
    return coverage;
}

static json_t *rows_json(struct builder *b, const struct process *process, enum xtio__table kind)
{
    const xtio_analysis *analysis = b->analysis;
    size_t count;
    struct row **rows = xtio__table_rows(analysis, process->vpid, kind, &count);
    json_t *array = json_array();
    if (!rows) {
        b->failed = true;
        return array;
    }
    for (size_t i = 0; i < count; i++) {
        const struct row *row = rows[i];
        json_t *object = json_object();
        json_t *handoffs = json_object();
        if (kind == XTIO__TABLE_CONNECTIONS) {
            put(b, object, "conn_id", id_json(row->id));
            put(b, object, "owner_tid", tid_json(row->owner_tid));
        } else {
            put(b, object, "tid", json_integer((int64_t)row->id));
            put(b, object, "name",
                name_json(xtio__thread_name(analysis, process->vpid, (int64_t)row->id)));
        }
        if (kind != XTIO__TABLE_PRODUCER_THREADS)
            put(b, object, "loop_id", row->has_loop_id ? count_json(row->loop_id) : json_null());
        for (int m = 0; m < XTIO_SCHEMA_MODE_COUNT; m++)
            put(b, handoffs, xtio_schema_mode_label(m), count_json(row->handoffs[m]));
        put(b, object, "handoffs", handoffs);
        put(b, object, "bytes", count_json(row->bytes));
        put(b, object, "records", count_json(row->records));
        metrics_json(b, object, row->metric);
        put(b, object, "backpressure_us", latency_json(b, &row->backpressure));
        append(b, array, object);
    }
    free(rows);
    return array;
}

/* Schema version 4: work posted to loops, by mechanism. */
static json_t *posts_json(struct builder *b, const struct process *process)
{
    json_t *object = json_object();
    for (int m = 0; m < XTIO_SCHEMA_MECH_COUNT; m++) {
        const struct mech_stats *s = &process->mechs[m];
        json_t *mech = json_object();
        put(b, mech, "posts", count_json(s->posts));
        put(b, mech, "runs", count_json(s->runs));
        put(b, mech, "coalesced", count_json(s->coalesced));
        put(b, mech, "runs_without_post", count_json(s->runs_without_post));
        put(b, mech, "pending_at_end", count_json(s->pending));
        put(b, mech, "wait_us", latency_json(b, &s->wait));
        put(b, object, xtio_schema_mech_labels[m], mech);
    }
    return object;
}

static const char *const write_class_keys[XTIO_WRITE_CLASS_COUNT] = {
    [XTIO_WRITE_ON_LOOP] = "on_loop",
    [XTIO_WRITE_OFF_LOOP] = "off_loop",
    [XTIO_WRITE_HANDOVER] = "handover",
    [XTIO_WRITE_BEFORE_LOOP] = "before_loop",
};

/* {"writes", "bytes", and per class {"writes", "bytes"}}. */
static json_t *write_counts_json(struct builder *b, json_t *object, const struct write_counts *w)
{
    uint64_t writes = 0, bytes = 0;
    for (int c = 0; c < XTIO_WRITE_CLASS_COUNT; c++) {
        json_t *class = json_object();
        put(b, class, "writes", count_json(w->writes[c]));
        put(b, class, "bytes", count_json(w->bytes[c]));
        put(b, object, write_class_keys[c], class);
        writes += w->writes[c];
        bytes += w->bytes[c];
    }
    put(b, object, "writes", count_json(writes));
    put(b, object, "bytes", count_json(bytes));
    return object;
}

/* Schema version 4: io_write by class, by thread, and the handovers. */
static json_t *writes_json(struct builder *b, const struct process *process)
{
    const xtio_analysis *analysis = b->analysis;
    const struct write_counts totals = xtio__process_writes(analysis, process->vpid);
    json_t *object = write_counts_json(b, json_object(), &totals);
    json_t *threads = json_array();
    json_t *handovers = json_array();
    size_t count;
    struct writer **writers = xtio__sorted_writers(analysis, process->vpid, &count);
    if (!writers)
        b->failed = true;
    for (size_t i = 0; writers && i < count; i++) {
        json_t *thread = json_object();
        put(b, thread, "tid", json_integer(writers[i]->tid));
        put(b, thread, "name",
            name_json(xtio__thread_name(analysis, process->vpid, writers[i]->tid)));
        append(b, threads, write_counts_json(b, thread, &writers[i]->counts));
    }
    free(writers);
    struct handover **sorted = xtio__sorted_handovers(analysis, process->vpid, &count);
    if (!sorted)
        b->failed = true;
    for (size_t i = 0; sorted && i < count; i++) {
        const struct handover *h = sorted[i];
        json_t *handover = json_object();
        put(b, handover, "conn_id", id_json(h->conn_id));
        put(b, handover, "writer_tid", tid_json(h->writer_tid));
        put(b, handover, "writer_name",
            name_json(xtio__thread_name(analysis, process->vpid, h->writer_tid)));
        put(b, handover, "owner_tid", tid_json(h->owner_tid));
        put(b, handover, "owner_name",
            name_json(xtio__thread_name(analysis, process->vpid, h->owner_tid)));
        put(b, handover, "writes", count_json(h->writes));
        put(b, handover, "bytes", count_json(h->bytes));
        put(b, handover, "first_ns", count_json(h->first_ns));
        put(b, handover, "call", json_string(xtio_schema_call_labels[h->call]));
        put(b, handover, "site", site_json(b, process->vpid, h->site));
        append(b, handovers, handover);
    }
    free(sorted);
    put(b, object, "per_thread", threads);
    put(b, object, "handovers", handovers);
    return object;
}

static json_t *process_json(struct builder *b, const struct process *process)
{
    const xtio_analysis *analysis = b->analysis;
    json_t *object = json_object();
    json_t *schema = json_object();
    json_t *backpressure = json_object();
    json_t *drops = json_object();
    json_t *unflushed = json_object();

    put(b, object, "pid", json_integer(process->vpid));
    put(b, object, "name", name_json(process->name));
    put(b, object, "events", count_json(process->events));
    put(b, object, "first_ns", count_json(process->first_ns));
    put(b, object, "last_ns", count_json(process->last_ns));
    put(b, object, "loops", count_json(process->loops));
    put(b, object, "connections", count_json(process->conns));
    int primary_mode = xtio__primary_mode(process);
    put(b, object, "primary_mode",
        primary_mode < 0 ? json_null() : json_string(xtio_schema_mode_label(primary_mode)));
    put(b, schema, "checked_events", count_json(process->schema_checked));
    put(b, schema, "version",
        process->schema_checked ? count_json(process->schema_version) : json_null());
    put(b, object, "schema", schema);
    put(b, object, "modes", modes_json(b, process));
    put(b, backpressure, "waited_us", latency_json(b, &process->backpressure));
    put(b, backpressure, "max_queued_bytes", count_json(process->backpressure_max_queued));
    put(b, object, "backpressure", backpressure);
    put(b, drops, "handoffs", count_json(process->drops));
    put(b, drops, "bytes", count_json(process->drop_bytes));
    put(b, drops, "finding", json_boolean(analysis->options.strict));
    put(b, object, "drops", drops);
    put(b, unflushed, "handoffs", count_json(process->unflushed_at_close));
    put(b, unflushed, "bytes", count_json(process->unflushed_at_close_bytes));
    put(b, object, "unflushed_at_close", unflushed);
    if (process->has_posts)
        put(b, object, "loop_posts", posts_json(b, process));
    if (process->has_writes)
        put(b, object, "io_writes", writes_json(b, process));
    put(b, object, "findings_total", count_json(xtio__process_findings(analysis, process)));
    put(b, object, "findings", findings_json(b, process));
    put(b, object, "coverage", coverage_json(b, process));
    if (analysis->options.by_connection)
        put(b, object, "per_connection", rows_json(b, process, XTIO__TABLE_CONNECTIONS));
    if (analysis->options.by_thread) {
        put(b, object, "per_loop_thread", rows_json(b, process, XTIO__TABLE_LOOP_THREADS));
        put(b, object, "per_producer_thread", rows_json(b, process, XTIO__TABLE_PRODUCER_THREADS));
    }
    return object;
}

static json_t *discards_json(struct builder *b)
{
    const xtio_analysis *analysis = b->analysis;
    json_t *object = json_object();
    json_t *streams = json_array();
    put(b, object, "events", count_json(analysis->discards.events));
    put(b, object, "messages", count_json(analysis->discards.messages));
    put(b, object, "unranged", count_json(analysis->discards.unranged));
    for (size_t i = 0; i < analysis->stream_count; i++) {
        const struct stream_discards *s = &analysis->streams[i];
        json_t *stream = json_object();
        put(b, stream, "stream", json_string(s->name));
        put(b, stream, "events", count_json(s->events));
        put(b, stream, "messages", count_json(s->messages));
        put(b, stream, "unranged", count_json(s->unranged));
        put(b, stream, "begin_ns", s->has_range ? count_json(s->begin_ns) : json_null());
        put(b, stream, "end_ns", s->has_range ? count_json(s->end_ns) : json_null());
        append(b, streams, stream);
    }
    put(b, object, "streams", streams);
    return object;
}

int xtio__write_json(const xtio_analysis *analysis, FILE *out)
{
    int status = 0;
    struct builder b = {.analysis = analysis};
    size_t count = 0;
    struct process **processes = NULL;
    json_t *root = json_object();
    json_t *options = json_object();
    json_t *summary = json_object();
    json_t *array = json_array();

    if (!analysis->status) {
        processes = xtio__sorted_processes(analysis, &count);
        if (!processes) {
            status = -ENOMEM;
            goto end;
        }
    }
    put(&b, root, "format", json_string(XTIO_FORMAT_ANALYSIS));
    put(&b, root, "version", json_integer(XTIO_FORMAT_ANALYSIS_VERSION));
    put(&b, options, "strict", json_boolean(analysis->options.strict));
    put(&b, options, "by_connection", json_boolean(analysis->options.by_connection));
    put(&b, options, "by_thread", json_boolean(analysis->options.by_thread));
    put(&b, options, "max_samples", count_json(analysis->options.max_samples));
    put(&b, root, "options", options);
    options = NULL;
    put(&b, summary, "exit_code", json_integer(xtio_analysis_exit_code(analysis)));
    put(&b, summary, "findings_total",
        count_json(analysis->status ? 0 : xtio_analysis_findings_total(analysis)));
    put(&b, summary, "processes", count_json(count));
    put(&b, summary, "events", count_json(analysis->events));
    put(&b, summary, "error", analysis->status ? json_string(analysis->error) : json_null());
    put(&b, root, "summary", summary);
    summary = NULL;
    put(&b, root, "discards", discards_json(&b));
    for (size_t i = 0; i < count; i++)
        append(&b, array, process_json(&b, processes[i]));
    put(&b, root, "processes", array);
    array = NULL;
    if (b.failed) {
        status = -ENOMEM;
        goto end;
    }
    if (json_dumpf(root, out, JSON_INDENT(2) | JSON_REAL_PRECISION(15)) != 0 ||
        fputc('\n', out) == EOF || fflush(out) != 0)
        status = -EIO;
end:
    json_decref(array);
    json_decref(summary);
    json_decref(options);
    json_decref(root);
    free(processes);
    return status;
}
