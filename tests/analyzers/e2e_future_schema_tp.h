/*
 * A stand-in `xtio` provider for the analyzers' end-to-end tests of another schema:
 * - xtio:loop_start of the real shape (tracepoints/xtio_tp.h), so that it can share a session
 *   with real libxtio processes, but carrying the version after XTIO_SCHEMA_VERSION, which no
 *   analyzer knows yet;
 * - xtio:handoff_write with the fields of the current schema, but owner_tid unsigned (the schema
 *   makes it an int32_t): a changed field that no schema_version announces.
 */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER xtio

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "e2e_future_schema_tp.h"

#if !defined(E2E_FUTURE_SCHEMA_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define E2E_FUTURE_SCHEMA_TP_H

#include <lttng/tracepoint.h>
#include <stdint.h>

#include "xtio_schema.h"

#define E2E_FUTURE_SCHEMA_VERSION (XTIO_SCHEMA_VERSION + 1)

// clang-format off
LTTNG_UST_TRACEPOINT_EVENT(xtio, loop_start,
    LTTNG_UST_TP_ARGS(uint32_t, loop_id),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint32_t, loop_id, loop_id)
        lttng_ust_field_integer(uint16_t, schema_version, E2E_FUTURE_SCHEMA_VERSION)))

LTTNG_UST_TRACEPOINT_EVENT(xtio, handoff_write,
    LTTNG_UST_TP_ARGS(uint64_t, handoff_id, uint32_t, owner_tid),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint64_t, handoff_id, handoff_id)
        lttng_ust_field_integer(uint64_t, conn_id, 1)
        lttng_ust_field_integer(uint64_t, seq, 0)
        lttng_ust_field_integer(int, mode, 0)
        lttng_ust_field_integer(uint32_t, bytes, 8)
        lttng_ust_field_integer(uint32_t, owner_tid, owner_tid)
        lttng_ust_field_integer(uint64_t, offset, 0)))
// clang-format on

#endif /* E2E_FUTURE_SCHEMA_TP_H */

#include <lttng/tracepoint-event.h>
