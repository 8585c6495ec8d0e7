/*
 * A stand-in `xtio` provider for the analyzers' end-to-end test of an unknown schema: the real
 * xtio:loop_start's shape (tracepoints/xtio_tp.h), so that it can share a session with real
 * libxtio processes, but carrying schema_version 2, which no analyzer knows yet.
 */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER xtio

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "e2e_future_schema_tp.h"

#if !defined(E2E_FUTURE_SCHEMA_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define E2E_FUTURE_SCHEMA_TP_H

#include <lttng/tracepoint.h>
#include <stdint.h>

#define E2E_FUTURE_SCHEMA_VERSION 2

// clang-format off
LTTNG_UST_TRACEPOINT_EVENT(xtio, loop_start,
    LTTNG_UST_TP_ARGS(uint32_t, loop_id),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint32_t, loop_id, loop_id)
        lttng_ust_field_integer(uint16_t, schema_version, E2E_FUTURE_SCHEMA_VERSION)))
// clang-format on

#endif /* E2E_FUTURE_SCHEMA_TP_H */

#include <lttng/tracepoint-event.h>
