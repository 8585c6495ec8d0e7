/*
 * The `xtio` LTTng-UST tracepoint provider: the event schema that libxtio emits and the xtio
 * analyzers read. This schema is a public interface; docs/tracepoints.md is its reference and
 * XTIO_TP_SCHEMA_VERSION below must change whenever an event or field changes meaning or shape.
 */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER xtio

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "xtio_tp.h"

#if !defined(XTIO_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define XTIO_TP_H

#include <lttng/tracepoint.h>
#include <stdint.h>

/* Emitted in loop_start and conn_open so that a reader can refuse a schema it does not know. */
#define XTIO_TP_SCHEMA_VERSION 1

/* The LTTng macros below read best laid out as LTTng's own providers are, not as clang-format
 * would lay them out. */
// clang-format off

/* Labels and values mirror enum xtio_mode in <xtio/xtio.h>. */
LTTNG_UST_TRACEPOINT_ENUM(xtio, mode,
    LTTNG_UST_TP_ENUM_VALUES(
        lttng_ust_field_enum_value("inline", 0)
        lttng_ust_field_enum_value("sync", 1)
        lttng_ust_field_enum_value("async", 2)
        lttng_ust_field_enum_value("batch", 3)
        lttng_ust_field_enum_value("direct", 4)))

/* Labels and values mirror enum xtio_close_reason in <xtio/xtio.h>. */
LTTNG_UST_TRACEPOINT_ENUM(xtio, close_reason,
    LTTNG_UST_TP_ENUM_VALUES(
        lttng_ust_field_enum_value("local", 0)
        lttng_ust_field_enum_value("peer", 1)
        lttng_ust_field_enum_value("error", 2)
        lttng_ust_field_enum_value("loop_stop", 3)))

LTTNG_UST_TRACEPOINT_EVENT(xtio, loop_start,
    LTTNG_UST_TP_ARGS(uint32_t, loop_id),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint32_t, loop_id, loop_id)
        lttng_ust_field_integer(uint16_t, schema_version, XTIO_TP_SCHEMA_VERSION)))

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
        lttng_ust_field_integer(uint16_t, schema_version, XTIO_TP_SCHEMA_VERSION)))

LTTNG_UST_TRACEPOINT_EVENT(xtio, conn_close,
    LTTNG_UST_TP_ARGS(uint64_t, conn_id, int32_t, owner_tid, uint32_t, pending,
                      uint64_t, pending_bytes, int, reason),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint64_t, conn_id, conn_id)
        lttng_ust_field_integer(int32_t, owner_tid, owner_tid)
        lttng_ust_field_integer(uint32_t, pending, pending)
        lttng_ust_field_integer(uint64_t, pending_bytes, pending_bytes)
        lttng_ust_field_enum(xtio, close_reason, int, reason, reason)))

LTTNG_UST_TRACEPOINT_EVENT(xtio, handoff_enqueue,
    LTTNG_UST_TP_ARGS(uint64_t, handoff_id, uint64_t, conn_id, uint64_t, seq, int, mode,
                      uint32_t, bytes, uint32_t, records, uint32_t, queue_depth,
                      int32_t, owner_tid, uint64_t, spool_ns),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint64_t, handoff_id, handoff_id)
        lttng_ust_field_integer(uint64_t, conn_id, conn_id)
        lttng_ust_field_integer(uint64_t, seq, seq)
        lttng_ust_field_enum(xtio, mode, int, mode, mode)
        lttng_ust_field_integer(uint32_t, bytes, bytes)
        lttng_ust_field_integer(uint32_t, records, records)
        lttng_ust_field_integer(uint32_t, queue_depth, queue_depth)
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

LTTNG_UST_TRACEPOINT_EVENT(xtio, handoff_drop,
    LTTNG_UST_TP_ARGS(uint64_t, handoff_id, uint64_t, conn_id, uint64_t, seq, uint32_t, bytes),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint64_t, handoff_id, handoff_id)
        lttng_ust_field_integer(uint64_t, conn_id, conn_id)
        lttng_ust_field_integer(uint64_t, seq, seq)
        lttng_ust_field_integer(uint32_t, bytes, bytes)))

LTTNG_UST_TRACEPOINT_EVENT(xtio, backpressure,
    LTTNG_UST_TP_ARGS(uint64_t, conn_id, uint64_t, queued_bytes, uint64_t, waited_ns),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint64_t, conn_id, conn_id)
        lttng_ust_field_integer(uint64_t, queued_bytes, queued_bytes)
        lttng_ust_field_integer(uint64_t, waited_ns, waited_ns)))

// clang-format on

#endif /* XTIO_TP_H */

#include <lttng/tracepoint-event.h>
