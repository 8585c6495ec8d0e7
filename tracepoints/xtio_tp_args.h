/*
 * What libxtio hands the `xtio` provider where an event has more fields than a tracepoint takes
 * arguments: plain C, so that libxtio builds the same code with the tracepoints compiled out.
 */
#ifndef XTIO_TP_ARGS_H
#define XTIO_TP_ARGS_H

#include <stdint.h>

#include "xtio_schema.h"

/* A queued handoff's enqueue, as the producer saw it: carried by the handoff_run that writes the
 * handoff, or by its handoff_drop, rather than by an event of its own (schema version 3). */
struct xtio_tp_enqueue {
    uint64_t enqueue_ns; /* CLOCK_MONOTONIC; 0: not recorded (no session then) */
    uint64_t queued_bytes;
    uint64_t spool_ns;
    int32_t producer_tid;
    uint32_t queue_depth;
};

/* A handoff_run's payload: more fields than a tracepoint takes arguments. The each_* arrays hold
 * `count` elements, one per handoff, in seq order. */
struct xtio_tp_run {
    uint64_t conn_id;
    uint64_t seq;
    uint64_t run_bytes;
    uint64_t offset;
    uint32_t count;
    int mode;
    int32_t owner_tid;
    uint64_t handoff_id[XTIO_SCHEMA_RUN_MAX];
    uint64_t enqueue_ns[XTIO_SCHEMA_RUN_MAX];
    uint64_t queued_bytes[XTIO_SCHEMA_RUN_MAX];
    uint64_t spool_ns[XTIO_SCHEMA_RUN_MAX];
    int32_t producer_tid[XTIO_SCHEMA_RUN_MAX];
    uint32_t bytes[XTIO_SCHEMA_RUN_MAX];
    uint32_t records[XTIO_SCHEMA_RUN_MAX];
    uint32_t queue_depth[XTIO_SCHEMA_RUN_MAX];
};

#endif
