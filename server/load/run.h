/*
 * The state of an xtio-load run that its parts share: what every thread reads (the run), what
 * each thread counts (the stats), the mismatch and error logs, and the clock and random numbers.
 */
#ifndef XTIO_LOAD_RUN_H
#define XTIO_LOAD_RUN_H

#include "verify.h"
#include "xtio_hist.h"
#include "xtio_load.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* What the connections of one thread saw; merged at the end. */
struct xtio_load_stats {
    uint64_t replies[XTIO_LOAD_KINDS];
    uint64_t records;       /* RANGE pairs received */
    uint64_t keys_listed;   /* KEYS entries received */
    uint64_t reply_bytes;   /* RESP bytes of every reply */
    uint64_t heavy_records; /* records as the server counts them: array header + elements */
    uint64_t heavy_bytes;   /* RESP bytes of RANGE and KEYS replies */
    uint64_t light_replies; /* GET, SET, PING: one handoff_inline record each */
    uint64_t light_bytes;
    struct xtio_hist latency[XTIO_LOAD_KINDS]; /* nanoseconds */
    uint64_t unrecorded;                       /* latencies lost for want of memory */
};

/* 64 buckets per power of two, as the analyzers' per-mode tables. */
#define XTIO_LOAD_HIST_BITS 6

void xtio_load_stats_init(struct xtio_load_stats *stats);
void xtio_load_stats_fini(struct xtio_load_stats *stats);
/* A histogram that cannot grow leaves its values out, counted in into->unrecorded. */
void xtio_load_stats_merge(struct xtio_load_stats *into, const struct xtio_load_stats *from);

/* State every thread of the run reads; only the atomics are written once threads run. */
struct xtio_load_run {
    const struct xtio_load_config *cfg;
    const struct xtio_load_keyset *ks;
    unsigned mix_total;
    uint64_t deadline_ns; /* with --duration */
    long pid;             /* in SET keys, so concurrent xtio-loads never share one */
    atomic_uint_fast64_t issued;
    atomic_bool load_done; /* the connections of the mix all finished */
};

/* Messages of each log kept for the report; the rest are only counted. */
#define XTIO_LOAD_LOG_KEEP 10

struct xtio_load_log {
    const char *name, *plural;
    atomic_uint_fast64_t count;
    char first[XTIO_LOAD_LOG_KEEP][XTIO_LOAD_MSG_MAX + 256];
};

/* Written through the two functions below from any thread; the report reads them once the
 * run's threads are joined. */
extern struct xtio_load_log xtio_load_mismatches, xtio_load_errors;

/* Records a reply that differs from the expectation; the first ones are kept for the report. */
void xtio_load_mismatch(const char *format, ...) __attribute__((format(printf, 1, 2)));
/* Records a connection failure (refused, reset, timed out, closed by the server). */
void xtio_load_error(const char *format, ...) __attribute__((format(printf, 1, 2)));

uint64_t xtio_load_now_ns(void);
/* splitmix64: cheap, seedable, good enough to pick keys. */
uint64_t xtio_load_rand(uint64_t *state);

#endif
