/*
 * The xtio analysis core: plain C, no babeltrace2. It is fed decoded `xtio` events one at a time
 * (from a babeltrace2 sink, the xtio-analyze CLI, or a unit test), pairs them by (vpid,
 * handoff_id) keeping only what is in flight, and produces a report: handoff latency by mode,
 * and findings (off-loop writes, ordering breaks, writes after close, lost handoffs, drops). From
 * schema version 4 also the wait of work posted to loops, per mechanism, and the writes to
 * connections of programs that xtio-preload watches, with their call sites.
 *
 * Lifecycle: xtio_analysis_create(), then xtio_analysis_feed_event() and
 * xtio_analysis_feed_discard() in trace order (timestamps non-decreasing, as a muxed babeltrace2
 * graph delivers them), then xtio_analysis_finish() once, then the report functions.
 *
 * Errors are negative errno values; an input error is sticky and explained by
 * xtio_analysis_error().
 */
#ifndef XTIO_ANALYZERS_ANALYSIS_H
#define XTIO_ANALYZERS_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "xtio_hist.h"
#include "xtio_schema.h"

/* The enqueue of one handoff of a handoff_run, from schema version 3 on: what its own
 * handoff_enqueue carried before. */
struct xtio_enqueue {
    uint64_t handoff_id;
    uint64_t enqueue_ns; /* on the clock of ts_ns; 0: not recorded (the session began later) */
    uint64_t queued_bytes;
    uint64_t spool_ns;
    int64_t producer_tid;
    uint32_t bytes;
    uint32_t records;
    uint32_t queue_depth;
};

/* One decoded event. Fields an event does not carry are 0. */
struct xtio_event {
    enum xtio_event_kind kind;
    uint64_t ts_ns; /* nanoseconds from the clock's origin */
    /* Contexts: the analyzers need vtid (an off-loop write is told by it). */
    bool has_vtid;
    int64_t vpid;
    int64_t vtid;
    /* The thread's name: its procname context, or the name of its xtio:thread_name; NULL when
     * the event has neither. */
    const char *procname;

    /* The schema version whose layout the event has: 1 for a handoff_enqueue without
     * queued_bytes, XTIO_SCHEMA_VERSION for an event no version changed. 0 reads as 1. From
     * version 2 on, a queued handoff (sync, async, batch) is written by a handoff_run, not by a
     * handoff_write of its own; from version 3 on, its enqueue is carried by that run (or by its
     * handoff_drop), not by a handoff_enqueue of its own. */
    unsigned layout_version;

    /* Payload, as named in docs/tracepoints.md: the fields the analysis uses (not fd, nor
     * conn_close's pending, pending_bytes and reason). */
    uint64_t handoff_id;
    uint64_t conn_id;
    uint64_t seq;
    int mode; /* enum xtio_schema_mode */
    uint64_t bytes;
    uint32_t records;
    int64_t owner_tid;
    uint64_t spool_ns;
    uint64_t offset;
    uint64_t bytes_flushed_total;
    int written;
    uint32_t queue_depth;  /* handoff_enqueue */
    uint64_t queued_bytes; /* backpressure; handoff_enqueue from version 2 */
    uint64_t waited_ns;
    uint32_t count;     /* handoff_run: handoffs seq .. seq + count - 1 */
    uint64_t run_bytes; /* handoff_run */
    uint32_t loop_id;
    bool has_schema_version; /* loop_start and conn_open carry it */
    unsigned schema_version;

    /* From schema version 3. handoff_drop: its handoff's enqueue, with the enqueue fields above
     * (enqueue_ns 0: not carried, as for a direct handoff, whose handoff_enqueue is an event of
     * its own). conn_close: next_seq, the seqs the connection gave. handoff_run: the enqueue of
     * each of its `count` handoffs, in seq order, kept valid as the strings are (see
     * xtio_analysis_feed_event()); NULL in earlier versions. */
    uint64_t enqueue_ns;
    int64_t producer_tid;
    bool has_next_seq;
    uint64_t next_seq;
    const struct xtio_enqueue *enqueues;

    /* From schema version 4 (xtio-preload, and libxtio's loop posts). loop_post, loop_run: task,
     * loop_id, mech (enum xtio_schema_mech); loop_post, io_write: site, the code address of the
     * call (0: not known). io_write: conn_id, bytes, owner_tid (0: its loop had not started),
     * watched (1: the owning loop watched the socket), call (enum xtio_schema_call). */
    uint64_t task;
    uint64_t site;
    int mech;
    int call;
    uint32_t watched;
};

/* A babeltrace2 discarded-events message: `count` events of one stream were lost between
 * begin_ns and end_ns (has_range false: the time range is unknown, the whole trace is suspect). */
struct xtio_discard {
    uint64_t count;
    bool has_range;
    uint64_t begin_ns;
    uint64_t end_ns;
    const char *stream; /* weak: a name for the report, e.g. "trace-name/stream 3" */
};

/* ---- Each handoff as it completes, for views that show handoffs one by one ---------------- */

/* One written handoff, given once its end is known: when the kernel took its last byte (its
 * flush), at its write when nothing was left to flush, or at its connection's close or the end of
 * the trace when its bytes never reached the kernel (flush_ns 0). So handoffs come in the order
 * they complete, not in the order of their enqueues. Timestamps are on the clock of ts_ns. */
struct xtio_handoff_record {
    int64_t vpid;
    uint64_t conn_id;
    uint64_t handoff_id; /* 0: not known (an inline write, or one whose enqueue was not seen) */
    uint64_t seq;        /* the connection's sequence number; from schema version 2 */
    int mode;            /* enum xtio_schema_mode */
    uint64_t bytes;
    uint32_t records;     /* 0 when the enqueue was not seen */
    int64_t producer_tid; /* -1 when not known */
    int64_t writer_tid;   /* the thread that wrote it: the loop's, or a direct producer's */
    uint64_t enqueue_ns;  /* 0: not seen; an inline handoff's is its write's */
    uint64_t write_ns;
    uint64_t flush_ns; /* 0: not flushed within the trace */
    int finding;       /* enum xtio_finding_kind made at its write (an off-loop write, an
                          ordering break, a write after close), or -1 */
};

/* A sync producer's wait for its handoff: from the enqueue to its xtio:sync_wait_end. */
struct xtio_sync_wait_record {
    int64_t vpid;
    uint64_t conn_id;
    uint64_t handoff_id;
    int64_t producer_tid;
    uint64_t enqueue_ns;
    uint64_t end_ns;
};

/* A finding as it is made: the evidence the report's samples hold, for every finding. */
struct xtio_finding_record {
    int64_t vpid;
    int kind; /* enum xtio_finding_kind */
    uint64_t ts_ns;
    int64_t tid;       /* the thread of the event that showed it; -1 when not known */
    int64_t owner_tid; /* the owning loop's thread; -1 when not known */
    uint64_t conn_id;
    uint64_t handoff_id; /* 0 when not known */
    uint64_t seq;
    bool has_seq;
    int mode; /* -1 when not known */
    uint64_t bytes;
};

/* Callbacks the core calls as it feeds, in trace order (any may be NULL). A non-zero return (a
 * negative errno) refuses the input as a feeding error does: sticky, given by
 * xtio_analysis_feed_event() or xtio_analysis_finish(). Records are valid during the call. */
struct xtio_analysis_observer {
    void *data;
    int (*handoff)(void *data, const struct xtio_handoff_record *record);
    int (*sync_wait)(void *data, const struct xtio_sync_wait_record *record);
    int (*finding)(void *data, const struct xtio_finding_record *record);
};

struct xtio_analysis_options {
    /* weak, may be NULL: told of each handoff, sync wait and finding as the trace is fed */
    const struct xtio_analysis_observer *observer;
    bool strict;          /* dropped data is a finding, not only reported */
    bool by_connection;   /* keep per-connection latency tables as well */
    bool by_thread;       /* keep per loop thread and per producing thread tables as well */
    unsigned max_samples; /* evidence samples kept per finding kind; 0: a default (5) */
};

typedef struct xtio_analysis xtio_analysis;

int xtio_analysis_create(xtio_analysis **analysis, const struct xtio_analysis_options *options);
void xtio_analysis_destroy(xtio_analysis *analysis);

/* 0, or a negative errno when the input cannot be analysed (sticky): an event without the vtid
 * context (-EPROTO), an unknown schema version (-EPROTONOSUPPORT), a mode outside the schema
 * (-EPROTO). -EINVAL for bad arguments or after finish (not sticky). Events of one timestamp are
 * held until a later one comes, so that ties are taken in causal order: an accepted event, and
 * the strings it points to, must stay valid and unchanged until the next
 * xtio_analysis_feed_event() or xtio_analysis_finish() call (the core copies an event only
 * when another shares its timestamp). The same holds for a handoff_run's enqueues. A refused
 * event is not kept. */
int xtio_analysis_feed_event(xtio_analysis *analysis, const struct xtio_event *event);
void xtio_analysis_feed_discard(xtio_analysis *analysis, const struct xtio_discard *discard);
/* Names process `vpid` after its program (LTTng-UST's lttng_ust_statedump:procname event), at
 * any time before finish: the name a report gives the process, over its main thread's procname.
 * A process without xtio events is not reported. 0, -ENOMEM (sticky), or -EINVAL. */
int xtio_analysis_name_process(xtio_analysis *analysis, int64_t vpid, const char *program);
/* A module (executable or shared object) loaded in process `vpid` at [baddr, baddr + memsz),
 * from file `path` (LTTng-UST's lttng_ust_statedump:bin_info and lttng_ust_dl:dlopen events), at
 * any time before finish: the call sites of the process's events are named after it. A later
 * module over the same addresses replaces an earlier one. 0, -ENOMEM (sticky), or -EINVAL. */
int xtio_analysis_add_module(xtio_analysis *analysis, int64_t vpid, uint64_t baddr, uint64_t memsz,
                             const char *path);
/* The trace ended: what is still in flight becomes incomplete, unknown or lost. Once. Returns
 * the sticky input error if there is one, and -ENODATA when no `xtio` event was fed at all
 * (xtio_analysis_error() then says which events to enable). */
int xtio_analysis_finish(xtio_analysis *analysis);
/* Why the input was refused, with what to do about it; NULL when it was not. */
const char *xtio_analysis_error(const xtio_analysis *analysis);
/* The longest refusal kept, its terminating NUL included. */
#define XTIO_ANALYSIS_ERROR_SIZE 1024
/* Refuses the input for a reason found outside the core, such as an event its reader cannot
 * decode: sticky as a refused event is (a first refusal stays), and carried by the report, so
 * that a reader of a JSON report learns why as well. `status`: a negative errno. */
void xtio_analysis_refuse(xtio_analysis *analysis, int status, const char *why);

enum xtio_report_format { XTIO_REPORT_TEXT, XTIO_REPORT_JSON };
/* Writes the report (after finish). 0, or a negative errno when writing failed. */
int xtio_analysis_write_report(const xtio_analysis *analysis, enum xtio_report_format format,
                               FILE *out);
/* 0: clean; 1: findings; 2: the input was refused or held no `xtio` events. */
int xtio_analysis_exit_code(const xtio_analysis *analysis);

/* ---- Results as numbers, for tests and other front ends (valid after finish) -------------- */

enum xtio_finding_kind {
    XTIO_FINDING_OFF_LOOP_WRITE,
    XTIO_FINDING_ORDERING_BREAK,
    XTIO_FINDING_WRITE_AFTER_CLOSE,
    XTIO_FINDING_LOST_HANDOFF,
    XTIO_FINDING_DROPPED_DATA, /* a finding only with options.strict */
};
#define XTIO_FINDING_KIND_COUNT 5
/* "off_loop_write", ... (the JSON keys); NULL when out of range. */
const char *xtio_finding_kind_name(enum xtio_finding_kind kind);

/* The latencies of a mode, as struct xtio_mode_summary has them. */
enum xtio_latency_kind {
    XTIO_LATENCY_QUEUE_WAIT,
    XTIO_LATENCY_END_TO_END,
    XTIO_LATENCY_FLUSH,
    XTIO_LATENCY_PRODUCER_BLOCKED,
    XTIO_LATENCY_SPOOL_DELAY,
    XTIO_LATENCY_LOOP_WRITE,
    XTIO_LATENCY_WAKE,
};
#define XTIO_LATENCY_KIND_COUNT 7
/* "queue_wait", ...; NULL when out of range. */
const char *xtio_latency_kind_name(enum xtio_latency_kind kind);
/* Its key in the JSON report and in xtio-compare's metrics: "queue_wait_us", ... */
const char *xtio_latency_kind_key(enum xtio_latency_kind kind);

/* A latency distribution in microseconds. Percentiles come from a log-linear histogram, read by
 * the rule of common/xtio_hist.h (docs/analysis.md, "Percentiles"); max is exact. All 0 when
 * count is 0. */
struct xtio_latency_summary {
    uint64_t count;
    double p50_us;
    double p90_us;
    double p99_us;
    double p999_us;
    double max_us;
};

/* A distribution of a quantity (a queue's depth, its bytes), read by the same rule as latencies;
 * max is exact. All 0 when count is 0. */
struct xtio_quantity_summary {
    uint64_t count;
    uint64_t p50;
    uint64_t p99;
    uint64_t max;
};

/* One mode of one process: handoffs written (count, bytes, records), handoffs dropped at close,
 * the latencies that apply to the mode, and the queue each handoff joined. */
struct xtio_mode_summary {
    uint64_t handoffs;
    uint64_t bytes;
    uint64_t records;
    uint64_t drops;
    uint64_t drop_bytes;
    struct xtio_latency_summary queue_wait;       /* enqueue -> write */
    struct xtio_latency_summary end_to_end;       /* enqueue (inline: write) -> kernel */
    struct xtio_latency_summary flush;            /* write -> kernel */
    struct xtio_latency_summary producer_blocked; /* sync: enqueue -> sync_wait_end */
    struct xtio_latency_summary spool_delay;      /* batch: spool_ns */
    /* Queued modes: the loop's own time to write the handoff in a drain, from the drain's start
     * (its loop_run) or the drain's previous handoff_run to this handoff_run, over the run's
     * handoffs. Wake-ups and waits are not in it, so it tracks the cost of the write path. */
    struct xtio_latency_summary loop_write;
    struct xtio_latency_summary wake; /* sync: write -> sync_wait_end */
    /* At each enqueue, the connection's queue with this handoff in it: handoffs (queue_depth) and
     * bytes accepted and not yet in the output buffer (queued_bytes, from schema version 2). */
    struct xtio_quantity_summary queue_depth;
    struct xtio_quantity_summary queued_bytes;
};

/* One process: everything that is not per mode. */
struct xtio_process_summary {
    int64_t vpid;
    /* weak: owned by the analysis. The program's name (lttng_ust_statedump:procname), else its
     * main thread's procname; "" when neither was recorded. */
    const char *name;
    uint64_t events;
    uint64_t schema_checked; /* loop_start and conn_open events whose version was checked */
    uint64_t findings_total;
    uint64_t drops; /* every handoff_drop, whether its mode is known or not */
    uint64_t drop_bytes;
    uint64_t unflushed_at_close; /* written handoffs whose bytes never reached the kernel */
    uint64_t unflushed_at_close_bytes;
    struct xtio_latency_summary backpressure; /* waited_ns of every backpressure event */
    uint64_t backpressure_max_queued_bytes;
    /* The mode it was run in: the one with the most handoffs apart from inline, else inline;
     * -1 without handoffs. */
    int primary_mode;
};

/* What the trace could not show for one process. Incomplete: the trace started or ended
 * mid-run. Unknown: the missing half may be among discarded events. */
struct xtio_coverage_summary {
    uint64_t conns_without_open;    /* first seen after their conn_open */
    uint64_t incomplete_writes;     /* non-inline writes whose enqueue precedes the trace */
    uint64_t incomplete_drops;      /* drops whose enqueue precedes the trace */
    uint64_t incomplete_sync_waits; /* sync_wait_end whose enqueue precedes the trace */
    uint64_t incomplete_in_flight;  /* enqueued, still queued at the end, connection open */
    uint64_t incomplete_unflushed;  /* written, not yet flushed at the end, connection open */
    uint64_t unknown_writes;        /* as incomplete_writes, but after a discard */
    uint64_t unknown_drops;         /* as incomplete_drops, but after a discard */
    uint64_t unknown_sync_waits;    /* as incomplete_sync_waits, but after a discard */
    uint64_t unknown_in_flight;     /* would be lost, but a discard may hold the end */
};

/* Discarded events over the whole trace (streams are not per process). */
struct xtio_discard_summary {
    uint64_t events;
    uint64_t messages;
    uint64_t unranged; /* messages without a time range */
};

/* Schema version 4: work posted to loops by one mechanism (enum xtio_schema_mech) in one
 * process, a post matched with the next loop_run of its (loop_id, task). */
struct xtio_post_summary {
    uint64_t posts;
    uint64_t runs;
    uint64_t coalesced;         /* posts served by a run that served an earlier one too */
    uint64_t runs_without_post; /* the session began after the post, or the loop posted to itself */
    uint64_t pending;           /* posts no run served by the end of the trace */
    struct xtio_latency_summary wait; /* post -> run, one value per served post */
};

/* Schema version 4: how an io_write's thread stood to the connection's owning loop thread. */
enum xtio_write_class {
    XTIO_WRITE_ON_LOOP,     /* the owning loop thread itself */
    XTIO_WRITE_OFF_LOOP,    /* another thread while the loop watched the socket: a finding */
    XTIO_WRITE_HANDOVER,    /* another thread after the loop stopped watching the socket */
    XTIO_WRITE_BEFORE_LOOP, /* before the owning loop started (owner_tid 0) */
};
#define XTIO_WRITE_CLASS_COUNT 4

/* io_write events of a process, or of one thread, or of one (writer thread, connection)
 * handover, by class. */
struct xtio_write_summary {
    uint64_t writes[XTIO_WRITE_CLASS_COUNT];
    uint64_t bytes[XTIO_WRITE_CLASS_COUNT];
};

/* Where a call site is: the module that covers it (xtio_analysis_add_module()) and the offset
 * from the module's load address, and, once the site is reported (the evidence of an off-loop
 * write, the first write of a handover), its function and source line when the module's symbols
 * and debug information can be read. Strings are weak: owned by the analysis. */
struct xtio_site_info {
    const char *module;       /* the module's path; NULL when no module covers the site */
    uint64_t offset;          /* site - the module's baddr */
    const char *function;     /* NULL when not known */
    uint64_t function_offset; /* from the function's start */
    const char *file;         /* NULL when not known */
    int line;                 /* 0 when not known */
};

/* Number of processes seen; their vpids in increasing order by index. */
size_t xtio_analysis_process_count(const xtio_analysis *analysis);
/* -EINVAL when index is out of range. */
int xtio_analysis_process_vpid(const xtio_analysis *analysis, size_t index, int64_t *vpid);
/* -ENOENT for a vpid not seen, -EINVAL for a bad mode or argument. */
int xtio_analysis_mode_summary(const xtio_analysis *analysis, int64_t vpid, int mode,
                               struct xtio_mode_summary *summary);
int xtio_analysis_process_summary(const xtio_analysis *analysis, int64_t vpid,
                                  struct xtio_process_summary *summary);
int xtio_analysis_coverage_summary(const xtio_analysis *analysis, int64_t vpid,
                                   struct xtio_coverage_summary *summary);
void xtio_analysis_discard_summary(const xtio_analysis *analysis,
                                   struct xtio_discard_summary *summary);
/* Findings of one kind in one process (dropped data counts even without strict); 0 for an
 * unknown vpid. */
uint64_t xtio_analysis_finding_count(const xtio_analysis *analysis, int64_t vpid,
                                     enum xtio_finding_kind kind);
/* -ENOENT for a vpid not seen, -EINVAL for a bad mechanism or argument. */
int xtio_analysis_post_summary(const xtio_analysis *analysis, int64_t vpid, int mech,
                               struct xtio_post_summary *summary);
/* tid < 0: the whole process. -ENOENT for a vpid, or a thread, without io_write events. */
int xtio_analysis_write_summary(const xtio_analysis *analysis, int64_t vpid, int64_t tid,
                                struct xtio_write_summary *summary);
/* The handover of connection conn_id to thread writer_tid: only its XTIO_WRITE_HANDOVER entries
 * are set. -ENOENT when that thread made no handover write to it. */
int xtio_analysis_handover_summary(const xtio_analysis *analysis, int64_t vpid, int64_t writer_tid,
                                   uint64_t conn_id, struct xtio_write_summary *summary);
/* The site's module and offset; its function and line when it was reported (see struct
 * xtio_site_info). -EINVAL for bad arguments. */
int xtio_analysis_site_info(const xtio_analysis *analysis, int64_t vpid, uint64_t site,
                            struct xtio_site_info *info);

/* The histogram, in nanoseconds, behind one latency of a mode's summary: for a view that draws
 * the whole distribution (a CDF), read with xtio_hist_percentile(). NULL for a vpid not seen or a
 * bad argument. */
const struct xtio_hist *xtio_analysis_latency_hist(const xtio_analysis *analysis, int64_t vpid,
                                                   int mode, enum xtio_latency_kind kind);
/* A thread's name as the trace gives it (its procname, or its xtio:thread_name); "" when it has
 * none. Weak: owned by the analysis. */
const char *xtio_analysis_thread_name(const xtio_analysis *analysis, int64_t vpid, int64_t tid);
/* The time range of the trace's `xtio` events, first and last timestamps; false before any. */
bool xtio_analysis_time_range(const xtio_analysis *analysis, uint64_t *first_ns, uint64_t *last_ns);

/* What decides the exit code: findings of every process (dropped data only with strict). */
uint64_t xtio_analysis_findings_total(const xtio_analysis *analysis);

/* Debug: handoffs held in memory (enqueued and not yet finished with), writes waiting for their
 * flush, and events held back for a timestamp tie. It stays at what is in flight, whatever the
 * length of the trace. */
size_t xtio_analysis_inflight_count(const xtio_analysis *analysis);

#endif
