/*
 * The raw-socket side runs of xtio-load (raw.c), beside the mix: the disconnect storm and the
 * slow reader, each on a thread of its own.
 */
#ifndef XTIO_LOAD_RAW_H
#define XTIO_LOAD_RAW_H

#include "run.h"

#include <stddef.h>
#include <stdint.h>

/* The raw-socket side runs: the disconnect storm and the slow reader. */
struct xtio_load_side {
    struct xtio_load_run *run; /* weak */
    /* storm */
    uint64_t storm_conns;
    uint64_t storm_cut_after_send; /* closed without reading */
    uint64_t storm_cut_mid_reply;  /* closed after reading part of the reply */
    uint64_t storm_completed;      /* the reply was whole before the cut */
    uint64_t storm_bytes;
    uint64_t storm_pairs; /* pairs read and verified */
    /* slow reader */
    uint64_t slow_replies; /* complete and verified */
    uint64_t slow_abandoned;
    uint64_t slow_pairs;
    uint64_t slow_bytes;
    uint64_t slow_reads;
    size_t slow_width;
    double slow_elapsed;
    uint64_t slow_heavy_records; /* of complete replies, as the server counts them */
    uint64_t slow_heavy_bytes;
};

/* Thread entry points, each given the side. */
void *xtio_load_storm_main(void *side);
void *xtio_load_slow_main(void *side);

#endif
