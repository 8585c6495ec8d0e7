/*
 * The csv view of export.h: one row per written handoff, written as the handoff completes, so that
 * memory stays flat however long the trace. The header and the meaning of each column are in
 * docs/analysis.md ("CSV rows"); RFC 4180: comma-separated, CRLF-free (LF), nothing to quote (every
 * field is a number or a fixed name).
 */
#include "export_internal.h"
#include "internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#define CSV_HEADER                                                                                 \
    "vpid,conn_id,handoff_id,seq,mode,bytes,records,producer_tid,writer_tid,enqueue_ns,write_ns,"  \
    "flush_ns,queue_wait_ns,end_to_end_ns,finding\n"

struct csv {
    FILE *out; /* weak; its error flag says whether a write failed */
    bool header_written;
};

static int create(void **state, const struct xtio_export_options *options, FILE *out)
{
    (void)options;
    struct csv *csv = calloc(1, sizeof(*csv));
    if (!csv)
        return -ENOMEM;
    csv->out = out;
    *state = csv;
    return 0;
}

static void destroy(void *state)
{
    free(state);
}

static int write_header(struct csv *csv)
{
    if (!csv->header_written) {
        csv->header_written = true;
        fputs(CSV_HEADER, csv->out);
    }
    return ferror(csv->out) ? -EIO : 0;
}

/* A timestamp or a latency: empty when not known. */
static void put_optional(FILE *out, bool known, uint64_t value)
{
    if (known)
        fprintf(out, ",%" PRIu64, value);
    else
        fputc(',', out);
}

static int on_handoff(void *data, const struct xtio_handoff_record *r)
{
    struct csv *csv = data;
    int status = write_header(csv);
    if (status)
        return status;
    /* Queue wait and end to end as the report counts them (docs/analysis.md): a queue wait
     * needs the enqueue of a queued mode, an end to end its start and its flush. */
    bool enqueued = r->enqueue_ns != 0;
    bool waited = enqueued && r->mode != XTIO_SCHEMA_MODE_INLINE;
    bool flushed = r->flush_ns != 0;
    const char *finding = r->finding >= 0 ? xtio_finding_kind_name(r->finding) : NULL;
    FILE *out = csv->out;
    fprintf(out, "%" PRId64 ",%" PRIu64, r->vpid, r->conn_id);
    put_optional(out, r->handoff_id != 0, r->handoff_id);
    fprintf(out, ",%" PRIu64 ",%s,%" PRIu64, r->seq, xtio_schema_mode_label(r->mode), r->bytes);
    put_optional(out, r->records != 0, r->records);
    put_optional(out, r->producer_tid >= 0, (uint64_t)r->producer_tid);
    fprintf(out, ",%" PRId64, r->writer_tid);
    put_optional(out, enqueued, r->enqueue_ns);
    fprintf(out, ",%" PRIu64, r->write_ns);
    put_optional(out, flushed, r->flush_ns);
    put_optional(out, waited, xtio__since(r->enqueue_ns, r->write_ns));
    put_optional(out, enqueued && flushed, xtio__since(r->enqueue_ns, r->flush_ns));
    fprintf(out, ",%s\n", finding ? finding : "");
    return ferror(out) ? -EIO : 0;
}

static void observe(struct xtio_analysis_observer *observer)
{
    observer->handoff = on_handoff;
}

static int finish(void *state, const xtio_analysis *analysis)
{
    (void)analysis;
    struct csv *csv = state;
    /* A trace without handoffs still gives a file a reader can load: its header. */
    int status = write_header(csv);
    if (status == 0 && (fflush(csv->out) != 0 || ferror(csv->out)))
        status = -EIO;
    return status;
}

const struct xtio__export_ops xtio__export_csv = {create, destroy, observe, finish};
