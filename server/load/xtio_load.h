/*
 * xtio-load's command line (options.c): the commands the mix draws from, the options, and their
 * parsing.
 */
#ifndef XTIO_LOAD_XTIO_LOAD_H
#define XTIO_LOAD_XTIO_LOAD_H

#include "verify.h"

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

#endif
