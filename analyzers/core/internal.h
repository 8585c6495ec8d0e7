/*
 * Private to the analysis core: the state of an analysis, shared by the feeding code
 * (analysis.c), the result accessors (results.c), the report dispatcher (report.c) and the report
 * writers (report_text.c, report_json.c).
 */
#ifndef XTIO_ANALYZERS_INTERNAL_H
#define XTIO_ANALYZERS_INTERNAL_H

#include "analysis.h"
#include "handoffs.h"
#include "xtio_hist.h"
#include "map.h"

#include <stdbool.h>
#include <stdint.h>

/* 64 buckets per power of two (percentiles within 0.8%) for the per-mode tables; 16 (within 3.1%)
 * for the per-connection and per-thread tables, which there may be thousands of. */
#define HIST_BITS_MODE   6
#define HIST_BITS_ROW    4
/* How close a percentile of such a histogram is: within 1/HIST_ERROR(bits) of the value
 * (docs/analysis.md, "Percentiles"). */
#define HIST_ERROR(bits) (1u << ((bits) + 1))

#define DEFAULT_MAX_SAMPLES 5
#define NAME_SIZE           32 /* procname is at most 16 bytes in LTTng (TASK_COMM_LEN) */

/* A latency, from `from` to `to`: never negative, so a tie or a clock step backwards reads 0. */
static inline uint64_t xtio__since(uint64_t from, uint64_t to)
{
    return to > from ? to - from : 0;
}

/* Percentiles reported, in permille. */
#define PERCENTILE_COUNT 4
extern const unsigned xtio__percentiles[PERCENTILE_COUNT];
/* What the text and HTML reports call things (results.c): each latency, each statistic of a
 * latency row (n, the percentiles, max), each finding kind, and what a finding means. */
const char *xtio__latency_label(int kind);
extern const char *const xtio__stat_labels[PERCENTILE_COUNT + 2];
const char *xtio__finding_label(int kind);
const char *xtio__finding_explanation(int kind);
/* Statistic `stat` of a latency row: 0 the count, then the percentiles, then the max; "-" when
 * empty. */
void xtio__format_stat(char *buf, size_t size, const struct xtio_hist *hist, int stat);
/* A trace timestamp as seconds with nanoseconds: "1796564886.841099039 s". */
void xtio__put_ts(FILE *out, uint64_t ns);
/* A conn_id; xtio-preload's have their top bit set, and read as its numbering in hex. */
void xtio__put_conn(FILE *out, uint64_t conn_id);

struct process;
/* "xtio-server (pid 4401)", or "pid 4401" for a process the trace does not name. */
void xtio__format_process(char *buf, size_t size, const struct process *process);
/* "4402 (xtio-loop-1)", "4402" for a thread the trace does not name, "unknown" for -1. */
void xtio__format_thread(char *buf, size_t size, const xtio_analysis *analysis, int64_t vpid,
                         int64_t tid);

/* One column of a side-by-side table, and one series of each HTML plot: a mode of a process. */
struct column {
    const struct process *process;
    int mode;
};
/* Each of the `count` processes with a primary mode, in that mode, into `columns` (room for
 * `count`); returns how many. */
size_t xtio__primary_columns(struct process *const *processes, size_t count,
                             struct column *columns);

/* The per-mode numbers of one process. */
struct mode_stats {
    uint64_t handoffs; /* written */
    uint64_t bytes;
    uint64_t records;
    uint64_t drops;
    uint64_t drop_bytes;
    struct xtio_hist metric[XTIO_LATENCY_KIND_COUNT];
    struct xtio_hist queue_depth;  /* at enqueue */
    struct xtio_hist queued_bytes; /* at enqueue, from schema version 2 */
};
/* The rows of the modes tables (text and HTML) that are not latencies: a mode's counts, and the
 * queue its handoffs joined at their enqueue (`which` 0: in handoffs, 1: in bytes), its
 * statistic `stat` (0 p50, 1 p99, 2 max) as text, "-" when none was recorded. */
#define XTIO__MODE_COUNTS 5
extern const char *const xtio__mode_count_labels[XTIO__MODE_COUNTS];
uint64_t xtio__mode_count(const struct mode_stats *s, int row);
extern const char *const xtio__queue_stat_labels[3];
void xtio__format_queue(char *buf, size_t size, const struct mode_stats *s, int which, int stat);

/* One line of a per-connection, per-loop-thread or per-producer-thread table. */
struct row {
    uint64_t id;       /* conn_id, or the thread's tid */
    int64_t owner_tid; /* connections: the owning loop's thread; -1 when unknown */
    uint32_t loop_id;
    bool has_loop_id;
    uint64_t handoffs[XTIO_SCHEMA_MODE_COUNT];
    uint64_t bytes;
    uint64_t records;
    struct xtio_hist metric[XTIO_LATENCY_KIND_COUNT];
    struct xtio_hist backpressure;
};
/* The statistics of a row that the per-connection and per-thread tables show, as text: queue wait
 * p99, end to end p50, p99 and max, producer blocked p99, backpressure waits and their p99; and
 * the row's handoffs over every mode. */
#define XTIO__ROW_CELLS 7
uint64_t xtio__row_cells(const struct row *row, char cells[XTIO__ROW_CELLS][32]);

/* Evidence of one finding. Thread names are looked up at report time, since the owner's name
 * may only show in events after the finding. */
struct sample {
    uint64_t ts_ns;
    enum xtio_event_kind event;
    uint64_t handoff_id; /* when has_handoff */
    uint64_t conn_id;
    uint64_t seq;
    uint64_t prev_seq; /* ordering break: the previous write's seq */
    bool has_handoff;
    bool has_seq; /* also without a handoff: a version 3 lost handoff, told by its seq alone */
    bool has_prev_seq;
    int mode; /* -1 when unknown */
    uint64_t bytes;
    int64_t writer_tid; /* the thread of the event; -1 when unknown */
    int64_t owner_tid;  /* -1 when unknown */
    uint64_t site;      /* io_write (schema version 4): its call and call site */
    int call;
};

struct finding {
    uint64_t count;
    uint64_t bytes;
    unsigned nsamples;
    struct sample *samples; /* owned: the earliest max_samples, by time */
};

/* Sorted, disjoint, inclusive ranges of ids: conn_ids are numbered from 1 and mostly close in
 * order, so the closed ones make few ranges however many there are. */
struct idset {
    uint64_t (*ranges)[2]; /* owned */
    size_t len;
    size_t cap;
};

/* Schema version 4: the posts of one mechanism in a process, and their waits. */
struct mech_stats {
    uint64_t posts;
    uint64_t runs;
    uint64_t coalesced;
    uint64_t runs_without_post;
    uint64_t pending;
    struct xtio_hist wait; /* post -> run */
};

/* Schema version 4: io_write counts, by enum xtio_write_class. */
struct write_counts {
    uint64_t writes[XTIO_WRITE_CLASS_COUNT];
    uint64_t bytes[XTIO_WRITE_CLASS_COUNT];
};

struct process {
    int64_t vpid;
    char name[NAME_SIZE]; /* its program's, else its main thread's; "" when unknown */
    uint64_t events;
    uint64_t first_ns;
    uint64_t last_ns;
    uint64_t schema_checked;
    unsigned schema_version; /* of the last checked event */
    uint64_t loops;
    uint64_t conns;
    struct mode_stats modes[XTIO_SCHEMA_MODE_COUNT];
    struct xtio_hist backpressure;
    uint64_t backpressure_max_queued;
    uint64_t drops;
    uint64_t drop_bytes;
    uint64_t unflushed_at_close;
    uint64_t unflushed_at_close_bytes;
    struct finding findings[XTIO_FINDING_KIND_COUNT];
    struct xtio_coverage_summary coverage;
    struct idset closed; /* conn_ids whose conn_close was seen */
    /* Schema version 4: sections reported only when the trace has their events. */
    bool has_posts;  /* a loop_post or loop_run */
    bool has_writes; /* an io_write */
    struct mech_stats mechs[XTIO_SCHEMA_MECH_COUNT];
    /* The loop threads in a drain (drain_step()): a handful per process at most. */
    struct drain_mark {
        int64_t vtid;
        uint64_t ts_ns; /* the drain's last loop_run or handoff_run */
    } * drains;         /* owned */
    size_t drain_count;
    size_t drain_cap;
};

/* A task posted to a loop and not yet run: the posts since the last run of (loop_id, task). Keyed
 * by (vpid, task); the posts of the same task to other loops are chained. */
struct pending_posts {
    uint64_t task;
    uint32_t loop_id;
    struct pending_posts *next; /* owned */
    struct post {
        uint64_t ts_ns;
        int mech;
    } * posts; /* owned */
    size_t len;
    size_t cap;
};

/* The io_writes of one thread. */
struct writer {
    int64_t tid;
    struct write_counts counts;
};

/* Handover writes of one thread to one connection. Keyed by (vpid, conn_id); the other writers
 * of the same connection are chained. */
struct handover {
    int64_t writer_tid;
    uint64_t conn_id;
    int64_t owner_tid; /* of its first write */
    uint64_t writes;
    uint64_t bytes;
    uint64_t first_ns;
    uint64_t site; /* of its first write */
    int call;
    struct handover *next; /* owned */
};

/* The modules of a process (xtio_analysis_add_module()), sorted by baddr, disjoint. */
struct module {
    uint64_t baddr;
    uint64_t memsz;
    char *path; /* owned */
};
struct modules {
    struct module *items; /* owned */
    size_t len;
    size_t cap;
};

/* A reported site, named at finish (sites.c). */
struct site {
    const struct module *module; /* weak: NULL when none covers it */
    char *function;              /* owned; NULL when not known */
    uint64_t function_offset;
    char *file; /* owned; NULL when not known */
    int line;
};

struct thread {
    char name[NAME_SIZE];
};

/* A write whose bytes have not reached the kernel yet. */
struct unflushed {
    uint64_t end; /* offset + bytes */
    uint64_t bytes;
    uint64_t start_ns; /* enqueue, or the write itself for inline; valid when has_start */
    uint64_t write_ns;
    int64_t producer_tid; /* -1 when unknown */
    /* For the observer's handoff record only. */
    uint64_t handoff_id;
    uint64_t seq;
    int64_t writer_tid;
    uint32_t records;
    int8_t finding; /* enum xtio_finding_kind made at the write, or -1 */
    int8_t mode;
    bool has_start;
};

/* A handoff of schema version 2 waiting for the handoff_run that writes it. */
struct queued {
    uint64_t seq;
    uint64_t handoff_id;
    uint64_t bytes;
    bool taken; /* written out of order, before those in front of it (see take_queued()) */
};

/* Seqs of a connection that no write, run or drop of schema version 3 named, though a later one
 * was: each was lost, unless a discard held its event. */
struct seq_gap {
    uint64_t first;
    uint64_t count;
    uint64_t since_ns; /* the event before the gap: a discard after it may hold the missing */
};

/* The state of one open connection; freed at its conn_close. */
struct conn_state {
    uint64_t conn_id;
    int64_t owner_tid;
    bool owner_from_open; /* owner_tid is conn_open's, to cross-check writes with */
    bool has_last_seq;
    uint64_t last_seq;
    uint64_t flushed;          /* highest bytes_flushed_total seen */
    struct unflushed *pending; /* owned ring: cap a power of two */
    size_t head;
    size_t len;
    size_t cap;
    /* Owned ring, cap a power of two: the version 2 handoffs enqueued and not yet in a run, in
     * seq order. */
    struct queued *queue;
    size_t queue_head;
    size_t queue_len;
    size_t queue_cap;
    /* Schema version 3: every write, run and drop names its seqs (known from the conn_open's
     * schema_version, or from the first run or drop of version 3); the seqs named so far, up to
     * seq_next (from the conn_open, or from the first seq named), and the gaps below it. */
    bool names_seqs;
    bool seq_known;
    uint64_t seq_next;
    uint64_t seq_since_ns; /* when seq_next was last moved on */
    struct seq_gap *gaps;  /* owned */
    size_t gaps_len;
    size_t gaps_cap;
};

/* Discards of one stream. */
struct stream_discards {
    char *name; /* owned */
    uint64_t events;
    uint64_t messages;
    uint64_t unranged;
    bool has_range;
    uint64_t begin_ns; /* earliest begin */
    uint64_t end_ns;   /* latest end */
};

/* A copy of an event of a timestamp tie, held back until the timestamp moves on (see hold()). */
struct held_event {
    struct xtio_event event; /* its enqueues, when it has them, owned */
    char procname[NAME_SIZE];
    bool has_procname;
    uint64_t arrival;
};

struct xtio_analysis {
    struct xtio_analysis_options options;
    int status; /* sticky input error */
    char error[XTIO_ANALYSIS_ERROR_SIZE];
    bool finished;
    uint64_t events;

    struct xtio__map processes;     /* (vpid, 0) -> owned struct process */
    struct xtio__map threads;       /* (vpid, tid) -> owned struct thread */
    struct xtio__map programs;      /* (vpid, 0) -> owned char[NAME_SIZE]: the program's name */
    struct xtio__handoffs handoffs; /* (vpid, handoff_id) -> in flight */
    struct xtio__map conns;         /* (vpid, conn_id) -> owned struct conn_state */
    struct xtio__map conn_rows;     /* (vpid, conn_id) -> owned struct row */
    struct xtio__map loop_rows;     /* (vpid, tid) -> owned struct row */
    struct xtio__map producer_rows; /* (vpid, tid) -> owned struct row */
    struct process *last_process;   /* weak: a cache, events come in runs of one process */
    /* Schema version 4. */
    struct xtio__map posts;     /* (vpid, task) -> owned struct pending_posts */
    size_t pending_post_count;  /* posts in them */
    struct xtio__map writers;   /* (vpid, tid) -> owned struct writer */
    struct xtio__map handovers; /* (vpid, conn_id) -> owned struct handover */
    struct xtio__map modules;   /* (vpid, 0) -> owned struct modules */
    struct xtio__map sites;     /* (vpid, site) -> owned struct site: the reported ones */
    size_t unflushed_count;     /* entries in every connection's ring */

    /* weak: the last event fed, while no other shares its timestamp; the caller keeps it valid
     * until the next feed (analysis.h). Never set while `held` holds events. */
    const struct xtio_event *pending;
    struct held_event *held; /* owned: the events of the current timestamp, when they tie */
    size_t held_len;
    size_t held_cap;
    uint64_t arrivals;

    struct stream_discards *streams; /* owned */
    size_t stream_count;
    struct xtio_discard_summary discards;
    uint64_t lost_until_ns; /* the latest end of a discard's range; UINT64_MAX: one without */
    bool has_ranged_discard;
    uint64_t discard_min_begin;
    uint64_t discard_max_end;
};

/* Processes sorted by vpid: an owned array of weak pointers, or NULL (-ENOMEM) when count > 0. */
struct process **xtio__sorted_processes(const xtio_analysis *analysis, size_t *count);
/* The rows of one process in a row map, sorted by id: as above. */
struct row **xtio__sorted_rows(const struct xtio__map *rows, int64_t vpid, size_t *count);
/* The tables of rows the analysis keeps with by_connection and by_thread. */
enum xtio__table {
    XTIO__TABLE_CONNECTIONS,
    XTIO__TABLE_LOOP_THREADS,
    XTIO__TABLE_PRODUCER_THREADS
};
/* The rows of one process in `table`, sorted by id: as above. */
struct row **xtio__table_rows(const xtio_analysis *analysis, int64_t vpid, enum xtio__table table,
                              size_t *count);
const char *xtio__thread_name(const xtio_analysis *analysis, int64_t vpid, int64_t tid);
void xtio__latency(const struct xtio_hist *hist, struct xtio_latency_summary *summary);
void xtio__quantity(const struct xtio_hist *hist, struct xtio_quantity_summary *summary);
uint64_t xtio__process_findings(const xtio_analysis *analysis, const struct process *process);
/* The mode a process was run in: the one with the most handoffs apart from inline (which every
 * server also uses for its short replies), else inline; -1 for a process with no handoffs. */
int xtio__primary_mode(const struct process *process);
bool xtio__finding_counts(const xtio_analysis *analysis, enum xtio_finding_kind kind);

/* Counts the finding and keeps its sample if among the earliest (analysis.c). */
int xtio__add_finding(xtio_analysis *analysis, struct process *process, enum xtio_finding_kind kind,
                      const struct sample *sample);

/* Schema version 4 (loops.c): the events, and the end of the trace. */
int xtio__on_loop_post(xtio_analysis *analysis, struct process *process,
                       const struct xtio_event *event);
int xtio__on_loop_run(xtio_analysis *analysis, struct process *process,
                      const struct xtio_event *event);
int xtio__on_io_write(xtio_analysis *analysis, struct process *process,
                      const struct xtio_event *event);
/* Posts still pending become counts. */
void xtio__settle_posts(xtio_analysis *analysis);
void xtio__free_loops(xtio_analysis *analysis);
/* Writers and handovers of a process, sorted by tid and by (conn_id, writer_tid): owned arrays of
 * weak pointers, or NULL (-ENOMEM). */
struct writer **xtio__sorted_writers(const xtio_analysis *analysis, int64_t vpid, size_t *count);
/* The io_writes of process `vpid`: the sum of its writers'. */
struct write_counts xtio__process_writes(const xtio_analysis *analysis, int64_t vpid);
struct handover **xtio__sorted_handovers(const xtio_analysis *analysis, int64_t vpid,
                                         size_t *count);

/* Call sites (sites.c). */
int xtio__add_module(xtio_analysis *analysis, int64_t vpid, uint64_t baddr, uint64_t memsz,
                     const char *path);
/* The module covering `address` in process vpid; NULL when none. */
const struct module *xtio__module_of(const xtio_analysis *analysis, int64_t vpid, uint64_t address);
/* Names the sites that the report gives (off-loop write samples, handovers), once, at finish:
 * 0 or -ENOMEM. A site whose symbols cannot be read keeps its module and offset. */
int xtio__name_sites(xtio_analysis *analysis);
/* The named site; NULL when it was not named (not reported, or not in a module). */
const struct site *xtio__site(const xtio_analysis *analysis, int64_t vpid, uint64_t address);
void xtio__free_sites(xtio_analysis *analysis);
/* "libevent-2.1.so.7+0x1a2b3 (bufferevent_write+0x42, file.c:12)", or "0x7f12..." without a
 * module, "unknown" for 0: what the reports print for a site. */
void xtio__format_site(const xtio_analysis *analysis, int64_t vpid, uint64_t address, char *buf,
                       size_t size);

int xtio__write_text(const xtio_analysis *analysis, FILE *out);
int xtio__write_json(const xtio_analysis *analysis, FILE *out);

#endif
