/*
 * What the parts of xtio-load share: the command line, the run's shared state, the per-thread
 * counters, and the mismatch and error logs.
 */
#ifndef XTIO_LOAD_XTIO_LOAD_H
#define XTIO_LOAD_XTIO_LOAD_H

#include "hist.h"
#include "verify.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Commands the mix draws from. */
enum xtio_load_kind {
    XTIO_LOAD_RANGE,
    XTIO_LOAD_GET,
    XTIO_LOAD_SET,
    XTIO_LOAD_KEYS,
    XTIO_LOAD_PING,
    XTIO_LOAD_KINDS,
};
extern const char *const xtio_load_kind_names[XTIO_LOAD_KINDS];

/* Largest --value-size: a RANGE of 100 pairs is then a 100 MB reply already. */
#define XTIO_LOAD_MAX_VALUE_SIZE (1u << 20)

struct xtio_load_config {
    const char *host;
    int port;
    unsigned connections;
    unsigned pipeline;
    unsigned threads;
    uint64_t requests; /* 0 when duration is set */
    double duration;   /* seconds; 0 when requests is set */
    unsigned mix[XTIO_LOAD_KINDS];
    size_t range_width;
    size_t range_limit; /* 0: no LIMIT clause */
    size_t populate;    /* keys to DEBUG POPULATE first; 0: none */
    size_t keys;        /* keys assumed populated (populate, or --keys) */
    size_t value_size;  /* 0: natural "value:<n>" */
    const char *prefix;
    bool flush;
    bool json;
    bool expect_info;
    bool slow_reader;
    double slow_seconds;
    unsigned storm;
    double timeout;
    uint64_t seed;
};

enum xtio_load_verdict {
    XTIO_LOAD_ARGS_RUN,
    XTIO_LOAD_ARGS_EXIT,  /* --help or --version printed */
    XTIO_LOAD_ARGS_USAGE, /* bad command line, explained on err */
};

/* Fills cfg from the command line (defaults first), checking the options against each other. */
enum xtio_load_verdict xtio_load_parse_args(struct xtio_load_config *cfg, int argc, char **argv,
                                            FILE *out, FILE *err);
/* "range=70,get=20,set=10" back from the weights. */
void xtio_load_format_mix(const unsigned *mix, char *out, size_t cap);

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
    struct xtio_load_hist latency[XTIO_LOAD_KINDS]; /* nanoseconds */
};

void xtio_load_stats_init(struct xtio_load_stats *stats);
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

/* Runs the mix on cfg->connections hiredis connections over cfg->threads threads, until the
 * request budget or the deadline is spent and every reply is in. */
void xtio_load_drive(struct xtio_load_run *run, struct xtio_load_stats *total);

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

void *xtio_load_storm_main(void *side);
void *xtio_load_slow_main(void *side);

/* Records a reply that differs from the expectation; the first ones are kept for the report. */
void xtio_load_mismatch(const char *format, ...) __attribute__((format(printf, 1, 2)));
/* Records a connection failure (refused, reset, timed out, closed by the server). */
void xtio_load_error(const char *format, ...) __attribute__((format(printf, 1, 2)));

uint64_t xtio_load_now_ns(void);
/* splitmix64: cheap, seedable, good enough to pick keys. */
uint64_t xtio_load_rand(uint64_t *state);

#endif
