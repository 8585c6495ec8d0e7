/*
 * The `xtio` LTTng-UST tracepoint provider: the events of the schema that xtio_schema.h defines,
 * as LTTng-UST emits them. Each payload here lists its event's fields of xtio_schema.h, in the
 * same order, with the same names and integer types; tests/trace checks a real trace of them
 * against xtio_schema.h. docs/tracepoints.md is the schema's reference.
 */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER xtio

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "xtio_tp.h"

#include "xtio_tp_args.h"

#if !defined(XTIO_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define XTIO_TP_H

#include <lttng/tracepoint.h>
#include <stdint.h>

#include "xtio_schema.h"

/* The LTTng macros below read best laid out as LTTng's own providers are, not as clang-format
 * would lay them out. */
// clang-format off

/* Every value of the schema's enumerations (xtio_tp.c checks that none is left out). */
LTTNG_UST_TRACEPOINT_ENUM(xtio, mode,
    LTTNG_UST_TP_ENUM_VALUES(
        lttng_ust_field_enum_value(XTIO_SCHEMA_MODE_INLINE_LABEL, XTIO_SCHEMA_MODE_INLINE)
        lttng_ust_field_enum_value(XTIO_SCHEMA_MODE_SYNC_LABEL, XTIO_SCHEMA_MODE_SYNC)
        lttng_ust_field_enum_value(XTIO_SCHEMA_MODE_ASYNC_LABEL, XTIO_SCHEMA_MODE_ASYNC)
        lttng_ust_field_enum_value(XTIO_SCHEMA_MODE_BATCH_LABEL, XTIO_SCHEMA_MODE_BATCH)
        lttng_ust_field_enum_value(XTIO_SCHEMA_MODE_DIRECT_LABEL, XTIO_SCHEMA_MODE_DIRECT)))

LTTNG_UST_TRACEPOINT_ENUM(xtio, close_reason,
    LTTNG_UST_TP_ENUM_VALUES(
        lttng_ust_field_enum_value(XTIO_SCHEMA_CLOSE_LOCAL_LABEL, XTIO_SCHEMA_CLOSE_LOCAL)
        lttng_ust_field_enum_value(XTIO_SCHEMA_CLOSE_PEER_LABEL, XTIO_SCHEMA_CLOSE_PEER)
        lttng_ust_field_enum_value(XTIO_SCHEMA_CLOSE_ERROR_LABEL, XTIO_SCHEMA_CLOSE_ERROR)
        lttng_ust_field_enum_value(XTIO_SCHEMA_CLOSE_LOOP_STOP_LABEL, XTIO_SCHEMA_CLOSE_LOOP_STOP)))

LTTNG_UST_TRACEPOINT_ENUM(xtio, mech,
    LTTNG_UST_TP_ENUM_VALUES(
        lttng_ust_field_enum_value(XTIO_SCHEMA_MECH_LOOP_POST_LABEL, XTIO_SCHEMA_MECH_LOOP_POST)
        lttng_ust_field_enum_value(XTIO_SCHEMA_MECH_LOOP_CALL_LABEL, XTIO_SCHEMA_MECH_LOOP_CALL)
        lttng_ust_field_enum_value(XTIO_SCHEMA_MECH_EVENT_ACTIVE_LABEL,
                                   XTIO_SCHEMA_MECH_EVENT_ACTIVE)
        lttng_ust_field_enum_value(XTIO_SCHEMA_MECH_EVENT_BASE_ONCE_LABEL,
                                   XTIO_SCHEMA_MECH_EVENT_BASE_ONCE)
        lttng_ust_field_enum_value(XTIO_SCHEMA_MECH_EVENTFD_LABEL, XTIO_SCHEMA_MECH_EVENTFD)
        lttng_ust_field_enum_value(XTIO_SCHEMA_MECH_PIPE_LABEL, XTIO_SCHEMA_MECH_PIPE)))

LTTNG_UST_TRACEPOINT_ENUM(xtio, call,
    LTTNG_UST_TP_ENUM_VALUES(
        lttng_ust_field_enum_value(XTIO_SCHEMA_CALL_WRITE_LABEL, XTIO_SCHEMA_CALL_WRITE)
        lttng_ust_field_enum_value(XTIO_SCHEMA_CALL_WRITEV_LABEL, XTIO_SCHEMA_CALL_WRITEV)
        lttng_ust_field_enum_value(XTIO_SCHEMA_CALL_SEND_LABEL, XTIO_SCHEMA_CALL_SEND)
        lttng_ust_field_enum_value(XTIO_SCHEMA_CALL_SENDTO_LABEL, XTIO_SCHEMA_CALL_SENDTO)
        lttng_ust_field_enum_value(XTIO_SCHEMA_CALL_SENDMSG_LABEL, XTIO_SCHEMA_CALL_SENDMSG)
        lttng_ust_field_enum_value(XTIO_SCHEMA_CALL_BUFFEREVENT_WRITE_LABEL,
                                   XTIO_SCHEMA_CALL_BUFFEREVENT_WRITE)
        lttng_ust_field_enum_value(XTIO_SCHEMA_CALL_EVBUFFER_ADD_LABEL,
                                   XTIO_SCHEMA_CALL_EVBUFFER_ADD)
        lttng_ust_field_enum_value(XTIO_SCHEMA_CALL_EVHTTP_SEND_LABEL,
                                   XTIO_SCHEMA_CALL_EVHTTP_SEND)))

LTTNG_UST_TRACEPOINT_EVENT(xtio, loop_start,
    LTTNG_UST_TP_ARGS(uint32_t, loop_id),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint32_t, loop_id, loop_id)
        lttng_ust_field_integer(uint16_t, schema_version, XTIO_SCHEMA_VERSION)))

LTTNG_UST_TRACEPOINT_EVENT(xtio, loop_stop,
    LTTNG_UST_TP_ARGS(uint32_t, loop_id),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint32_t, loop_id, loop_id)))

LTTNG_UST_TRACEPOINT_EVENT(xtio, conn_open,
    LTTNG_UST_TP_ARGS(uint64_t, conn_id, uint32_t, loop_id, int32_t, owner_tid, int32_t, fd),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint64_t, conn_id, conn_id)
        lttng_ust_field_integer(uint32_t, loop_id, loop_id)
        lttng_ust_field_integer(int32_t, owner_tid, owner_tid)
        lttng_ust_field_integer(int32_t, fd, fd)
        lttng_ust_field_integer(uint16_t, schema_version, XTIO_SCHEMA_VERSION)))

/* next_seq (since version 3): the seqs the connection gave, 0 .. next_seq - 1; each was written
 * or dropped before this event, so that one neither written nor dropped is seen as lost. */
LTTNG_UST_TRACEPOINT_EVENT(xtio, conn_close,
    LTTNG_UST_TP_ARGS(uint64_t, conn_id, int32_t, owner_tid, uint32_t, pending,
                      uint64_t, pending_bytes, int, reason, uint64_t, next_seq),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint64_t, conn_id, conn_id)
        lttng_ust_field_integer(int32_t, owner_tid, owner_tid)
        lttng_ust_field_integer(uint32_t, pending, pending)
        lttng_ust_field_integer(uint64_t, pending_bytes, pending_bytes)
        lttng_ust_field_enum(xtio, close_reason, int, reason, reason)
        lttng_ust_field_integer(uint64_t, next_seq, next_seq)))

LTTNG_UST_TRACEPOINT_EVENT(xtio, handoff_enqueue,
    LTTNG_UST_TP_ARGS(uint64_t, handoff_id, uint64_t, conn_id, uint64_t, seq, int, mode,
                      uint32_t, bytes, uint32_t, records, uint32_t, queue_depth,
                      uint64_t, queued_bytes, int32_t, owner_tid, uint64_t, spool_ns),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint64_t, handoff_id, handoff_id)
        lttng_ust_field_integer(uint64_t, conn_id, conn_id)
        lttng_ust_field_integer(uint64_t, seq, seq)
        lttng_ust_field_enum(xtio, mode, int, mode, mode)
        lttng_ust_field_integer(uint32_t, bytes, bytes)
        lttng_ust_field_integer(uint32_t, records, records)
        lttng_ust_field_integer(uint32_t, queue_depth, queue_depth)
        lttng_ust_field_integer(uint64_t, queued_bytes, queued_bytes)
        lttng_ust_field_integer(int32_t, owner_tid, owner_tid)
        lttng_ust_field_integer(uint64_t, spool_ns, spool_ns)))

LTTNG_UST_TRACEPOINT_EVENT(xtio, handoff_write,
    LTTNG_UST_TP_ARGS(uint64_t, handoff_id, uint64_t, conn_id, uint64_t, seq, int, mode,
                      uint32_t, bytes, int32_t, owner_tid, uint64_t, offset),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint64_t, handoff_id, handoff_id)
        lttng_ust_field_integer(uint64_t, conn_id, conn_id)
        lttng_ust_field_integer(uint64_t, seq, seq)
        lttng_ust_field_enum(xtio, mode, int, mode, mode)
        lttng_ust_field_integer(uint32_t, bytes, bytes)
        lttng_ust_field_integer(int32_t, owner_tid, owner_tid)
        lttng_ust_field_integer(uint64_t, offset, offset)))

LTTNG_UST_TRACEPOINT_EVENT(xtio, conn_flush,
    LTTNG_UST_TP_ARGS(uint64_t, conn_id, uint64_t, bytes_flushed_total),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint64_t, conn_id, conn_id)
        lttng_ust_field_integer(uint64_t, bytes_flushed_total, bytes_flushed_total)))

LTTNG_UST_TRACEPOINT_EVENT(xtio, sync_wait_end,
    LTTNG_UST_TP_ARGS(uint64_t, handoff_id, uint64_t, conn_id, int, written),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint64_t, handoff_id, handoff_id)
        lttng_ust_field_integer(uint64_t, conn_id, conn_id)
        lttng_ust_field_integer(uint8_t, written, written)))

/* From mode on (since version 3): the dropped handoff's enqueue; enqueue_ns 0 when it has a
 * handoff_enqueue of its own (direct) or was enqueued before the session. */
LTTNG_UST_TRACEPOINT_EVENT(xtio, handoff_drop,
    LTTNG_UST_TP_ARGS(uint64_t, handoff_id, uint64_t, conn_id, uint64_t, seq, uint32_t, bytes,
                      int, mode, uint32_t, records, const struct xtio_tp_enqueue *, enq),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint64_t, handoff_id, handoff_id)
        lttng_ust_field_integer(uint64_t, conn_id, conn_id)
        lttng_ust_field_integer(uint64_t, seq, seq)
        lttng_ust_field_integer(uint32_t, bytes, bytes)
        lttng_ust_field_enum(xtio, mode, int, mode, mode)
        lttng_ust_field_integer(uint32_t, records, records)
        lttng_ust_field_integer(uint32_t, queue_depth, enq->queue_depth)
        lttng_ust_field_integer(uint64_t, queued_bytes, enq->queued_bytes)
        lttng_ust_field_integer(uint64_t, spool_ns, enq->spool_ns)
        lttng_ust_field_integer(uint64_t, enqueue_ns, enq->enqueue_ns)
        lttng_ust_field_integer(int32_t, producer_tid, enq->producer_tid)))

LTTNG_UST_TRACEPOINT_EVENT(xtio, backpressure,
    LTTNG_UST_TP_ARGS(uint64_t, conn_id, uint64_t, queued_bytes, uint64_t, waited_ns),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint64_t, conn_id, conn_id)
        lttng_ust_field_integer(uint64_t, queued_bytes, queued_bytes)
        lttng_ust_field_integer(uint64_t, waited_ns, waited_ns)))

/* Since version 2: the loop wrote `count` queued handoffs of one mode, seq .. seq + count - 1, in
 * one go, their run_bytes starting at stream offset `offset`. Since version 3, with the enqueue
 * of each (the each_* sequences). */
LTTNG_UST_TRACEPOINT_EVENT(xtio, handoff_run,
    LTTNG_UST_TP_ARGS(const struct xtio_tp_run *, run),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint64_t, conn_id, run->conn_id)
        lttng_ust_field_integer(uint64_t, seq, run->seq)
        lttng_ust_field_integer(uint32_t, count, run->count)
        lttng_ust_field_enum(xtio, mode, int, mode, run->mode)
        lttng_ust_field_integer(uint64_t, run_bytes, run->run_bytes)
        lttng_ust_field_integer(int32_t, owner_tid, run->owner_tid)
        lttng_ust_field_integer(uint64_t, offset, run->offset)
        lttng_ust_field_sequence(uint64_t, each_handoff_id, run->handoff_id, uint32_t, run->count)
        lttng_ust_field_sequence(uint64_t, each_enqueue_ns, run->enqueue_ns, uint32_t, run->count)
        lttng_ust_field_sequence(int32_t, each_producer_tid, run->producer_tid, uint32_t,
                                 run->count)
        lttng_ust_field_sequence(uint32_t, each_bytes, run->bytes, uint32_t, run->count)
        lttng_ust_field_sequence(uint32_t, each_records, run->records, uint32_t, run->count)
        lttng_ust_field_sequence(uint32_t, each_queue_depth, run->queue_depth, uint32_t,
                                 run->count)
        lttng_ust_field_sequence(uint64_t, each_queued_bytes, run->queued_bytes, uint32_t,
                                 run->count)
        lttng_ust_field_sequence(uint64_t, each_spool_ns, run->spool_ns, uint32_t, run->count)))

/* Since version 2: the emitting thread's name (pthread_getname_np()), given once rather than
 * with every event, as the procname context would. */
LTTNG_UST_TRACEPOINT_EVENT(xtio, thread_name,
    LTTNG_UST_TP_ARGS(const char *, name),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_string(name, name)))

/* Since version 4: the emitting thread posted work `task` to loop `loop_id`, from the call at
 * address `site` (0: not known). Its wait ends at the loop_run of the same task and loop. */
LTTNG_UST_TRACEPOINT_EVENT(xtio, loop_post,
    LTTNG_UST_TP_ARGS(uint64_t, task, uint32_t, loop_id, int, mech, uint64_t, site),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint64_t, task, task)
        lttng_ust_field_integer(uint32_t, loop_id, loop_id)
        lttng_ust_field_enum(xtio, mech, int, mech, mech)
        lttng_ust_field_integer_hex(uint64_t, site, site)))

/* Since version 4: loop `loop_id`, on the emitting thread, begins to run `task`: every
 * loop_post of that task and loop since its previous loop_run (posts coalesce). */
LTTNG_UST_TRACEPOINT_EVENT(xtio, loop_run,
    LTTNG_UST_TP_ARGS(uint64_t, task, uint32_t, loop_id, int, mech),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint64_t, task, task)
        lttng_ust_field_integer(uint32_t, loop_id, loop_id)
        lttng_ust_field_enum(xtio, mech, int, mech, mech)))

/* Since version 4: one outermost call on the emitting thread wrote `bytes` to connection
 * `conn_id` of a program that xtio-preload watches, whose loop thread was `owner_tid` (0: its
 * loop had not started) and watched the socket (`watched`) at the call. */
LTTNG_UST_TRACEPOINT_EVENT(xtio, io_write,
    LTTNG_UST_TP_ARGS(uint64_t, conn_id, uint32_t, bytes, int32_t, owner_tid, int, watched,
                      int, call, uint64_t, site),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint64_t, conn_id, conn_id)
        lttng_ust_field_integer(uint32_t, bytes, bytes)
        lttng_ust_field_integer(int32_t, owner_tid, owner_tid)
        lttng_ust_field_integer(uint8_t, watched, watched)
        lttng_ust_field_enum(xtio, call, int, call, call)
        lttng_ust_field_integer_hex(uint64_t, site, site)))

// clang-format on

#endif /* XTIO_TP_H */

#include <lttng/tracepoint-event.h>
