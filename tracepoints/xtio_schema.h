/*
 * The `xtio` event schema, defined once: its version, its events and their payload fields (name,
 * width, signedness), and its two enumerations with their labels. Plain C without LTTng, so that
 * everything that writes or reads the events derives from it: the provider (xtio_tp.h), libxtio,
 * the analyzers' decoder and core, and the tests' trace checker. docs/tracepoints.md is its
 * reference; CONTRIBUTING.md says how to add an event or a field.
 */
#ifndef XTIO_SCHEMA_H
#define XTIO_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The version libxtio emits, in the schema_version field of loop_start and conn_open. */
#define XTIO_SCHEMA_VERSION     4
/* The oldest version the analyzers of this tree read. */
#define XTIO_SCHEMA_VERSION_MIN 1

/* The LTTng-UST provider name: events are named "xtio:<event>" in a trace. */
#define XTIO_SCHEMA_PROVIDER "xtio"

/* ---- Enumerations -------------------------------------------------------------------------- */

/* Labels are macros because LTTng's enumeration macros take string literals. */

/* `mode`: how a handoff travels (enum xtio_mode in <xtio/xtio.h> has these values). */
enum xtio_schema_mode {
    XTIO_SCHEMA_MODE_INLINE = 0,
    XTIO_SCHEMA_MODE_SYNC = 1,
    XTIO_SCHEMA_MODE_ASYNC = 2,
    XTIO_SCHEMA_MODE_BATCH = 3,
    XTIO_SCHEMA_MODE_DIRECT = 4,
    XTIO_SCHEMA_MODE_COUNT
};
#define XTIO_SCHEMA_MODE_INLINE_LABEL "inline"
#define XTIO_SCHEMA_MODE_SYNC_LABEL   "sync"
#define XTIO_SCHEMA_MODE_ASYNC_LABEL  "async"
#define XTIO_SCHEMA_MODE_BATCH_LABEL  "batch"
#define XTIO_SCHEMA_MODE_DIRECT_LABEL "direct"

/* `close_reason`: why a connection closed (enum xtio_close_reason in <xtio/xtio.h>). */
enum xtio_schema_close_reason {
    XTIO_SCHEMA_CLOSE_LOCAL = 0,
    XTIO_SCHEMA_CLOSE_PEER = 1,
    XTIO_SCHEMA_CLOSE_ERROR = 2,
    XTIO_SCHEMA_CLOSE_LOOP_STOP = 3,
    XTIO_SCHEMA_CLOSE_REASON_COUNT
};
#define XTIO_SCHEMA_CLOSE_LOCAL_LABEL     "local"
#define XTIO_SCHEMA_CLOSE_PEER_LABEL      "peer"
#define XTIO_SCHEMA_CLOSE_ERROR_LABEL     "error"
#define XTIO_SCHEMA_CLOSE_LOOP_STOP_LABEL "loop_stop"

/* `mech` (since version 4): how work was posted to a loop, for loop_post and loop_run. */
enum xtio_schema_mech {
    XTIO_SCHEMA_MECH_LOOP_POST = 0,       /* libxtio's xtio_loop_post() */
    XTIO_SCHEMA_MECH_LOOP_CALL = 1,       /* libxtio's xtio_loop_call(): the poster waits */
    XTIO_SCHEMA_MECH_EVENT_ACTIVE = 2,    /* libevent's event_active() */
    XTIO_SCHEMA_MECH_EVENT_BASE_ONCE = 3, /* libevent's event_base_once() */
    XTIO_SCHEMA_MECH_EVENTFD = 4,         /* a write to an eventfd that the loop watches */
    XTIO_SCHEMA_MECH_PIPE = 5,            /* a write to a pipe whose read end the loop watches */
    XTIO_SCHEMA_MECH_COUNT
};
#define XTIO_SCHEMA_MECH_LOOP_POST_LABEL       "loop_post"
#define XTIO_SCHEMA_MECH_LOOP_CALL_LABEL       "loop_call"
#define XTIO_SCHEMA_MECH_EVENT_ACTIVE_LABEL    "event_active"
#define XTIO_SCHEMA_MECH_EVENT_BASE_ONCE_LABEL "event_base_once"
#define XTIO_SCHEMA_MECH_EVENTFD_LABEL         "eventfd"
#define XTIO_SCHEMA_MECH_PIPE_LABEL            "pipe"

/* `call` (since version 4): the outermost call that wrote to a connection, for io_write. */
enum xtio_schema_call {
    XTIO_SCHEMA_CALL_WRITE = 0, /* libc write() */
    XTIO_SCHEMA_CALL_WRITEV = 1,
    XTIO_SCHEMA_CALL_SEND = 2,
    XTIO_SCHEMA_CALL_SENDTO = 3,
    XTIO_SCHEMA_CALL_SENDMSG = 4,
    XTIO_SCHEMA_CALL_BUFFEREVENT_WRITE = 5, /* bufferevent_write(), bufferevent_write_buffer() */
    XTIO_SCHEMA_CALL_EVBUFFER_ADD = 6,      /* any add to a bufferevent's output buffer */
    XTIO_SCHEMA_CALL_EVHTTP_SEND = 7,       /* evhttp_send_reply() and its chunked forms */
    XTIO_SCHEMA_CALL_COUNT
};
#define XTIO_SCHEMA_CALL_WRITE_LABEL             "write"
#define XTIO_SCHEMA_CALL_WRITEV_LABEL            "writev"
#define XTIO_SCHEMA_CALL_SEND_LABEL              "send"
#define XTIO_SCHEMA_CALL_SENDTO_LABEL            "sendto"
#define XTIO_SCHEMA_CALL_SENDMSG_LABEL           "sendmsg"
#define XTIO_SCHEMA_CALL_BUFFEREVENT_WRITE_LABEL "bufferevent_write"
#define XTIO_SCHEMA_CALL_EVBUFFER_ADD_LABEL      "evbuffer_add"
#define XTIO_SCHEMA_CALL_EVHTTP_SEND_LABEL       "evhttp_send_reply"

/* Which enumeration a field holds. */
enum xtio_schema_enum {
    XTIO_SCHEMA_ENUM_NONE,
    XTIO_SCHEMA_ENUM_MODE,
    XTIO_SCHEMA_ENUM_CLOSE_REASON,
    XTIO_SCHEMA_ENUM_MECH,
    XTIO_SCHEMA_ENUM_CALL,
};

struct xtio_schema_enumeration {
    const char *name;          /* as in the provider: LTTNG_UST_TRACEPOINT_ENUM(xtio, NAME, ...) */
    const char *const *labels; /* by value, from 0 */
    unsigned count;
};

static const char *const xtio_schema_mode_labels[XTIO_SCHEMA_MODE_COUNT] = {
    [XTIO_SCHEMA_MODE_INLINE] = XTIO_SCHEMA_MODE_INLINE_LABEL,
    [XTIO_SCHEMA_MODE_SYNC] = XTIO_SCHEMA_MODE_SYNC_LABEL,
    [XTIO_SCHEMA_MODE_ASYNC] = XTIO_SCHEMA_MODE_ASYNC_LABEL,
    [XTIO_SCHEMA_MODE_BATCH] = XTIO_SCHEMA_MODE_BATCH_LABEL,
    [XTIO_SCHEMA_MODE_DIRECT] = XTIO_SCHEMA_MODE_DIRECT_LABEL,
};

static const char *const xtio_schema_close_reason_labels[XTIO_SCHEMA_CLOSE_REASON_COUNT] = {
    [XTIO_SCHEMA_CLOSE_LOCAL] = XTIO_SCHEMA_CLOSE_LOCAL_LABEL,
    [XTIO_SCHEMA_CLOSE_PEER] = XTIO_SCHEMA_CLOSE_PEER_LABEL,
    [XTIO_SCHEMA_CLOSE_ERROR] = XTIO_SCHEMA_CLOSE_ERROR_LABEL,
    [XTIO_SCHEMA_CLOSE_LOOP_STOP] = XTIO_SCHEMA_CLOSE_LOOP_STOP_LABEL,
};

static const char *const xtio_schema_mech_labels[XTIO_SCHEMA_MECH_COUNT] = {
    [XTIO_SCHEMA_MECH_LOOP_POST] = XTIO_SCHEMA_MECH_LOOP_POST_LABEL,
    [XTIO_SCHEMA_MECH_LOOP_CALL] = XTIO_SCHEMA_MECH_LOOP_CALL_LABEL,
    [XTIO_SCHEMA_MECH_EVENT_ACTIVE] = XTIO_SCHEMA_MECH_EVENT_ACTIVE_LABEL,
    [XTIO_SCHEMA_MECH_EVENT_BASE_ONCE] = XTIO_SCHEMA_MECH_EVENT_BASE_ONCE_LABEL,
    [XTIO_SCHEMA_MECH_EVENTFD] = XTIO_SCHEMA_MECH_EVENTFD_LABEL,
    [XTIO_SCHEMA_MECH_PIPE] = XTIO_SCHEMA_MECH_PIPE_LABEL,
};

static const char *const xtio_schema_call_labels[XTIO_SCHEMA_CALL_COUNT] = {
    [XTIO_SCHEMA_CALL_WRITE] = XTIO_SCHEMA_CALL_WRITE_LABEL,
    [XTIO_SCHEMA_CALL_WRITEV] = XTIO_SCHEMA_CALL_WRITEV_LABEL,
    [XTIO_SCHEMA_CALL_SEND] = XTIO_SCHEMA_CALL_SEND_LABEL,
    [XTIO_SCHEMA_CALL_SENDTO] = XTIO_SCHEMA_CALL_SENDTO_LABEL,
    [XTIO_SCHEMA_CALL_SENDMSG] = XTIO_SCHEMA_CALL_SENDMSG_LABEL,
    [XTIO_SCHEMA_CALL_BUFFEREVENT_WRITE] = XTIO_SCHEMA_CALL_BUFFEREVENT_WRITE_LABEL,
    [XTIO_SCHEMA_CALL_EVBUFFER_ADD] = XTIO_SCHEMA_CALL_EVBUFFER_ADD_LABEL,
    [XTIO_SCHEMA_CALL_EVHTTP_SEND] = XTIO_SCHEMA_CALL_EVHTTP_SEND_LABEL,
};

static const struct xtio_schema_enumeration xtio_schema_enumerations[] = {
    [XTIO_SCHEMA_ENUM_NONE] = {NULL, NULL, 0},
    [XTIO_SCHEMA_ENUM_MODE] = {"mode", xtio_schema_mode_labels, XTIO_SCHEMA_MODE_COUNT},
    [XTIO_SCHEMA_ENUM_CLOSE_REASON] = {"close_reason", xtio_schema_close_reason_labels,
                                       XTIO_SCHEMA_CLOSE_REASON_COUNT},
    [XTIO_SCHEMA_ENUM_MECH] = {"mech", xtio_schema_mech_labels, XTIO_SCHEMA_MECH_COUNT},
    [XTIO_SCHEMA_ENUM_CALL] = {"call", xtio_schema_call_labels, XTIO_SCHEMA_CALL_COUNT},
};

/* The label of `value` in an enumeration; NULL when the value is not in it. */
static inline const char *xtio_schema_label(enum xtio_schema_enum enumeration, int64_t value)
{
    const struct xtio_schema_enumeration *e = &xtio_schema_enumerations[enumeration];
    return value >= 0 && value < (int64_t)e->count ? e->labels[value] : NULL;
}

/* "inline" ... "direct"; NULL for a value out of range. */
static inline const char *xtio_schema_mode_label(int64_t mode)
{
    return xtio_schema_label(XTIO_SCHEMA_ENUM_MODE, mode);
}

/* ---- Payload fields ------------------------------------------------------------------------ */

/* Every payload field of every event. A field has the same type in every event that carries
 * it. XTIO_FIELD_NONE ends an event's field list. */
enum xtio_field {
    XTIO_FIELD_NONE,
    XTIO_FIELD_LOOP_ID,
    XTIO_FIELD_SCHEMA_VERSION,
    XTIO_FIELD_CONN_ID,
    XTIO_FIELD_OWNER_TID,
    XTIO_FIELD_FD,
    XTIO_FIELD_PENDING,
    XTIO_FIELD_PENDING_BYTES,
    XTIO_FIELD_REASON,
    XTIO_FIELD_HANDOFF_ID,
    XTIO_FIELD_SEQ,
    XTIO_FIELD_MODE,
    XTIO_FIELD_BYTES,
    XTIO_FIELD_RECORDS,
    XTIO_FIELD_QUEUE_DEPTH,
    XTIO_FIELD_SPOOL_NS,
    XTIO_FIELD_OFFSET,
    XTIO_FIELD_BYTES_FLUSHED_TOTAL,
    XTIO_FIELD_WRITTEN,
    XTIO_FIELD_QUEUED_BYTES,
    XTIO_FIELD_WAITED_NS,
    XTIO_FIELD_COUNT_IN_RUN,
    XTIO_FIELD_RUN_BYTES,
    XTIO_FIELD_THREAD_NAME,
    XTIO_FIELD_ENQUEUE_NS,
    XTIO_FIELD_PRODUCER_TID,
    XTIO_FIELD_NEXT_SEQ,
    /* The sequences of handoff_run, one element per handoff of the run, in seq order. */
    XTIO_FIELD_EACH_HANDOFF_ID,
    XTIO_FIELD_EACH_ENQUEUE_NS,
    XTIO_FIELD_EACH_PRODUCER_TID,
    XTIO_FIELD_EACH_BYTES,
    XTIO_FIELD_EACH_RECORDS,
    XTIO_FIELD_EACH_QUEUE_DEPTH,
    XTIO_FIELD_EACH_QUEUED_BYTES,
    XTIO_FIELD_EACH_SPOOL_NS,
    /* Since version 4: loop_post, loop_run and io_write. */
    XTIO_FIELD_TASK,
    XTIO_FIELD_MECH,
    XTIO_FIELD_SITE,
    XTIO_FIELD_WATCHED,
    XTIO_FIELD_CALL,
    XTIO_FIELD_COUNT
};

struct xtio_schema_field {
    const char *name; /* as in the trace IR (the CTF metadata adds a leading '_') */
    uint8_t bits;     /* integer width, of each element for a sequence; 0 for a string */
    bool is_signed;
    enum xtio_schema_enum enumeration; /* an enumeration's fields are signed ints */
    bool sequence; /* a sequence (dynamic array) of integers rather than one integer */
};

static const struct xtio_schema_field xtio_schema_fields[XTIO_FIELD_COUNT] = {
    /* name, bits, signed, enumeration, sequence */
    [XTIO_FIELD_NONE] = {NULL, 0, false, XTIO_SCHEMA_ENUM_NONE},
    [XTIO_FIELD_LOOP_ID] = {"loop_id", 32, false, XTIO_SCHEMA_ENUM_NONE},
    [XTIO_FIELD_SCHEMA_VERSION] = {"schema_version", 16, false, XTIO_SCHEMA_ENUM_NONE},
    [XTIO_FIELD_CONN_ID] = {"conn_id", 64, false, XTIO_SCHEMA_ENUM_NONE},
    [XTIO_FIELD_OWNER_TID] = {"owner_tid", 32, true, XTIO_SCHEMA_ENUM_NONE},
    [XTIO_FIELD_FD] = {"fd", 32, true, XTIO_SCHEMA_ENUM_NONE},
    [XTIO_FIELD_PENDING] = {"pending", 32, false, XTIO_SCHEMA_ENUM_NONE},
    [XTIO_FIELD_PENDING_BYTES] = {"pending_bytes", 64, false, XTIO_SCHEMA_ENUM_NONE},
    [XTIO_FIELD_REASON] = {"reason", 32, true, XTIO_SCHEMA_ENUM_CLOSE_REASON},
    [XTIO_FIELD_HANDOFF_ID] = {"handoff_id", 64, false, XTIO_SCHEMA_ENUM_NONE},
    [XTIO_FIELD_SEQ] = {"seq", 64, false, XTIO_SCHEMA_ENUM_NONE},
    [XTIO_FIELD_MODE] = {"mode", 32, true, XTIO_SCHEMA_ENUM_MODE},
    [XTIO_FIELD_BYTES] = {"bytes", 32, false, XTIO_SCHEMA_ENUM_NONE},
    [XTIO_FIELD_RECORDS] = {"records", 32, false, XTIO_SCHEMA_ENUM_NONE},
    [XTIO_FIELD_QUEUE_DEPTH] = {"queue_depth", 32, false, XTIO_SCHEMA_ENUM_NONE},
    [XTIO_FIELD_SPOOL_NS] = {"spool_ns", 64, false, XTIO_SCHEMA_ENUM_NONE},
    [XTIO_FIELD_OFFSET] = {"offset", 64, false, XTIO_SCHEMA_ENUM_NONE},
    [XTIO_FIELD_BYTES_FLUSHED_TOTAL] = {"bytes_flushed_total", 64, false, XTIO_SCHEMA_ENUM_NONE},
    [XTIO_FIELD_WRITTEN] = {"written", 8, false, XTIO_SCHEMA_ENUM_NONE},
    [XTIO_FIELD_QUEUED_BYTES] = {"queued_bytes", 64, false, XTIO_SCHEMA_ENUM_NONE},
    [XTIO_FIELD_WAITED_NS] = {"waited_ns", 64, false, XTIO_SCHEMA_ENUM_NONE},
    [XTIO_FIELD_COUNT_IN_RUN] = {"count", 32, false, XTIO_SCHEMA_ENUM_NONE},
    [XTIO_FIELD_RUN_BYTES] = {"run_bytes", 64, false, XTIO_SCHEMA_ENUM_NONE},
    [XTIO_FIELD_THREAD_NAME] = {"name", 0, false, XTIO_SCHEMA_ENUM_NONE},
    [XTIO_FIELD_ENQUEUE_NS] = {"enqueue_ns", 64, false, XTIO_SCHEMA_ENUM_NONE},
    [XTIO_FIELD_PRODUCER_TID] = {"producer_tid", 32, true, XTIO_SCHEMA_ENUM_NONE},
    [XTIO_FIELD_NEXT_SEQ] = {"next_seq", 64, false, XTIO_SCHEMA_ENUM_NONE},
    [XTIO_FIELD_EACH_HANDOFF_ID] = {"each_handoff_id", 64, false, XTIO_SCHEMA_ENUM_NONE, true},
    [XTIO_FIELD_EACH_ENQUEUE_NS] = {"each_enqueue_ns", 64, false, XTIO_SCHEMA_ENUM_NONE, true},
    [XTIO_FIELD_EACH_PRODUCER_TID] = {"each_producer_tid", 32, true, XTIO_SCHEMA_ENUM_NONE, true},
    [XTIO_FIELD_EACH_BYTES] = {"each_bytes", 32, false, XTIO_SCHEMA_ENUM_NONE, true},
    [XTIO_FIELD_EACH_RECORDS] = {"each_records", 32, false, XTIO_SCHEMA_ENUM_NONE, true},
    [XTIO_FIELD_EACH_QUEUE_DEPTH] = {"each_queue_depth", 32, false, XTIO_SCHEMA_ENUM_NONE, true},
    [XTIO_FIELD_EACH_QUEUED_BYTES] = {"each_queued_bytes", 64, false, XTIO_SCHEMA_ENUM_NONE, true},
    [XTIO_FIELD_EACH_SPOOL_NS] = {"each_spool_ns", 64, false, XTIO_SCHEMA_ENUM_NONE, true},
    [XTIO_FIELD_TASK] = {"task", 64, false, XTIO_SCHEMA_ENUM_NONE},
    [XTIO_FIELD_MECH] = {"mech", 32, true, XTIO_SCHEMA_ENUM_MECH},
    [XTIO_FIELD_SITE] = {"site", 64, false, XTIO_SCHEMA_ENUM_NONE},
    [XTIO_FIELD_WATCHED] = {"watched", 8, false, XTIO_SCHEMA_ENUM_NONE},
    [XTIO_FIELD_CALL] = {"call", 32, true, XTIO_SCHEMA_ENUM_CALL},
};

/* The clock of enqueue_ns and each_enqueue_ns: libxtio reads CLOCK_MONOTONIC, as LTTng-UST's
 * default trace clock does, so that these times and the events' timestamps are one clock. */
#define XTIO_SCHEMA_CLOCK_NAME "monotonic"

/* The most handoffs one handoff_run describes: a longer run of the queue is traced as several
 * consecutive handoff_runs, so that an event stays under 4 KiB, the smallest sub-buffer. */
#define XTIO_SCHEMA_RUN_MAX 64

/* ---- Events -------------------------------------------------------------------------------- */

enum xtio_event_kind {
    XTIO_EVENT_LOOP_START,
    XTIO_EVENT_LOOP_STOP,
    XTIO_EVENT_CONN_OPEN,
    XTIO_EVENT_CONN_CLOSE,
    XTIO_EVENT_HANDOFF_ENQUEUE,
    XTIO_EVENT_HANDOFF_WRITE,
    XTIO_EVENT_CONN_FLUSH,
    XTIO_EVENT_SYNC_WAIT_END,
    XTIO_EVENT_HANDOFF_DROP,
    XTIO_EVENT_BACKPRESSURE,
    XTIO_EVENT_HANDOFF_RUN, /* since version 2 */
    XTIO_EVENT_THREAD_NAME, /* since version 2 */
    XTIO_EVENT_LOOP_POST,   /* since version 4 */
    XTIO_EVENT_LOOP_RUN,    /* since version 4 */
    XTIO_EVENT_IO_WRITE,    /* since version 4 */
};
/* Not an enumerator, so that a switch over the kinds must name each of them (-Wswitch). */
#define XTIO_EVENT_KIND_COUNT (XTIO_EVENT_IO_WRITE + 1)

/* The most payload fields of one event. */
#define XTIO_SCHEMA_MAX_FIELDS 16

/* An event as the current version (XTIO_SCHEMA_VERSION) has it. */
struct xtio_schema_event {
    const char *name; /* without the "xtio:" provider prefix */
    unsigned since;   /* the first version with this event */
    /* In the provider's order, ended by XTIO_FIELD_NONE when shorter than the maximum. */
    enum xtio_field fields[XTIO_SCHEMA_MAX_FIELDS];
};

static const struct xtio_schema_event xtio_schema_events[XTIO_EVENT_KIND_COUNT] = {
    [XTIO_EVENT_LOOP_START] = {"loop_start", 1, {XTIO_FIELD_LOOP_ID, XTIO_FIELD_SCHEMA_VERSION}},
    [XTIO_EVENT_LOOP_STOP] = {"loop_stop", 1, {XTIO_FIELD_LOOP_ID}},
    [XTIO_EVENT_CONN_OPEN] = {"conn_open",
                              1,
                              {XTIO_FIELD_CONN_ID, XTIO_FIELD_LOOP_ID, XTIO_FIELD_OWNER_TID,
                               XTIO_FIELD_FD, XTIO_FIELD_SCHEMA_VERSION}},
    [XTIO_EVENT_CONN_CLOSE] = {"conn_close",
                               1,
                               {XTIO_FIELD_CONN_ID, XTIO_FIELD_OWNER_TID, XTIO_FIELD_PENDING,
                                XTIO_FIELD_PENDING_BYTES, XTIO_FIELD_REASON, XTIO_FIELD_NEXT_SEQ}},
    [XTIO_EVENT_HANDOFF_ENQUEUE] = {"handoff_enqueue",
                                    1,
                                    {XTIO_FIELD_HANDOFF_ID, XTIO_FIELD_CONN_ID, XTIO_FIELD_SEQ,
                                     XTIO_FIELD_MODE, XTIO_FIELD_BYTES, XTIO_FIELD_RECORDS,
                                     XTIO_FIELD_QUEUE_DEPTH, XTIO_FIELD_QUEUED_BYTES,
                                     XTIO_FIELD_OWNER_TID, XTIO_FIELD_SPOOL_NS}},
    [XTIO_EVENT_HANDOFF_WRITE] = {"handoff_write",
                                  1,
                                  {XTIO_FIELD_HANDOFF_ID, XTIO_FIELD_CONN_ID, XTIO_FIELD_SEQ,
                                   XTIO_FIELD_MODE, XTIO_FIELD_BYTES, XTIO_FIELD_OWNER_TID,
                                   XTIO_FIELD_OFFSET}},
    [XTIO_EVENT_CONN_FLUSH] = {"conn_flush",
                               1,
                               {XTIO_FIELD_CONN_ID, XTIO_FIELD_BYTES_FLUSHED_TOTAL}},
    [XTIO_EVENT_SYNC_WAIT_END] = {"sync_wait_end",
                                  1,
                                  {XTIO_FIELD_HANDOFF_ID, XTIO_FIELD_CONN_ID, XTIO_FIELD_WRITTEN}},
    [XTIO_EVENT_HANDOFF_DROP] = {"handoff_drop",
                                 1,
                                 {XTIO_FIELD_HANDOFF_ID, XTIO_FIELD_CONN_ID, XTIO_FIELD_SEQ,
                                  XTIO_FIELD_BYTES, XTIO_FIELD_MODE, XTIO_FIELD_RECORDS,
                                  XTIO_FIELD_QUEUE_DEPTH, XTIO_FIELD_QUEUED_BYTES,
                                  XTIO_FIELD_SPOOL_NS, XTIO_FIELD_ENQUEUE_NS,
                                  XTIO_FIELD_PRODUCER_TID}},
    [XTIO_EVENT_BACKPRESSURE] =
        {"backpressure", 1, {XTIO_FIELD_CONN_ID, XTIO_FIELD_QUEUED_BYTES, XTIO_FIELD_WAITED_NS}},
    [XTIO_EVENT_HANDOFF_RUN] = {"handoff_run",
                                2,
                                {XTIO_FIELD_CONN_ID, XTIO_FIELD_SEQ, XTIO_FIELD_COUNT_IN_RUN,
                                 XTIO_FIELD_MODE, XTIO_FIELD_RUN_BYTES, XTIO_FIELD_OWNER_TID,
                                 XTIO_FIELD_OFFSET, XTIO_FIELD_EACH_HANDOFF_ID,
                                 XTIO_FIELD_EACH_ENQUEUE_NS, XTIO_FIELD_EACH_PRODUCER_TID,
                                 XTIO_FIELD_EACH_BYTES, XTIO_FIELD_EACH_RECORDS,
                                 XTIO_FIELD_EACH_QUEUE_DEPTH, XTIO_FIELD_EACH_QUEUED_BYTES,
                                 XTIO_FIELD_EACH_SPOOL_NS}},
    [XTIO_EVENT_THREAD_NAME] = {"thread_name", 2, {XTIO_FIELD_THREAD_NAME}},
    [XTIO_EVENT_LOOP_POST] =
        {"loop_post", 4, {XTIO_FIELD_TASK, XTIO_FIELD_LOOP_ID, XTIO_FIELD_MECH, XTIO_FIELD_SITE}},
    [XTIO_EVENT_LOOP_RUN] = {"loop_run", 4, {XTIO_FIELD_TASK, XTIO_FIELD_LOOP_ID, XTIO_FIELD_MECH}},
    [XTIO_EVENT_IO_WRITE] = {"io_write",
                             4,
                             {XTIO_FIELD_CONN_ID, XTIO_FIELD_BYTES, XTIO_FIELD_OWNER_TID,
                              XTIO_FIELD_WATCHED, XTIO_FIELD_CALL, XTIO_FIELD_SITE}},
};

/* The layouts of earlier versions that the current one changed, newest first for each kind: what
 * the analyzers need to read a trace of an older libxtio. An event not listed here has its
 * current fields in every version since it appeared. */
struct xtio_schema_layout {
    enum xtio_event_kind kind;
    unsigned until; /* the last version with this layout */
    enum xtio_field fields[XTIO_SCHEMA_MAX_FIELDS];
};

static const struct xtio_schema_layout xtio_schema_old_layouts[] = {
    /* Version 3 added next_seq. */
    {XTIO_EVENT_CONN_CLOSE,
     2,
     {XTIO_FIELD_CONN_ID, XTIO_FIELD_OWNER_TID, XTIO_FIELD_PENDING, XTIO_FIELD_PENDING_BYTES,
      XTIO_FIELD_REASON}},
    /* Version 3 added the enqueue of the dropped handoff, from mode on. */
    {XTIO_EVENT_HANDOFF_DROP,
     2,
     {XTIO_FIELD_HANDOFF_ID, XTIO_FIELD_CONN_ID, XTIO_FIELD_SEQ, XTIO_FIELD_BYTES}},
    /* Version 3 added the enqueue of each handoff, the each_* sequences. */
    {XTIO_EVENT_HANDOFF_RUN,
     2,
     {XTIO_FIELD_CONN_ID, XTIO_FIELD_SEQ, XTIO_FIELD_COUNT_IN_RUN, XTIO_FIELD_MODE,
      XTIO_FIELD_RUN_BYTES, XTIO_FIELD_OWNER_TID, XTIO_FIELD_OFFSET}},
    /* Version 2 added queued_bytes. */
    {XTIO_EVENT_HANDOFF_ENQUEUE,
     1,
     {XTIO_FIELD_HANDOFF_ID, XTIO_FIELD_CONN_ID, XTIO_FIELD_SEQ, XTIO_FIELD_MODE, XTIO_FIELD_BYTES,
      XTIO_FIELD_RECORDS, XTIO_FIELD_QUEUE_DEPTH, XTIO_FIELD_OWNER_TID, XTIO_FIELD_SPOOL_NS}},
};
#define XTIO_SCHEMA_OLD_LAYOUT_COUNT                                                               \
    (sizeof(xtio_schema_old_layouts) / sizeof(xtio_schema_old_layouts[0]))

/* The event of a trace's event name, such as "xtio:loop_start"; false for any other name (another
 * provider's event, or one of a newer schema). */
static inline bool xtio_schema_event_find(const char *name, enum xtio_event_kind *kind)
{
    static const char prefix[] = XTIO_SCHEMA_PROVIDER ":";
    if (!name || strncmp(name, prefix, sizeof(prefix) - 1) != 0)
        return false;
    name += sizeof(prefix) - 1;
    for (int k = 0; k < XTIO_EVENT_KIND_COUNT; k++) {
        if (strcmp(name, xtio_schema_events[k].name) == 0) {
            *kind = (enum xtio_event_kind)k;
            return true;
        }
    }
    return false;
}

#endif
