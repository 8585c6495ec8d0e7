/*
 * xtio-server's settings: their defaults, and the command line that overrides them. Parsing does
 * not exit, so it is testable; main() turns its verdict into an exit code.
 */
#ifndef XTIO_SERVER_CONFIG_H
#define XTIO_SERVER_CONFIG_H

#include "resp_parser.h"

#include <stddef.h>
#include <stdio.h>
#include <xtio/xtio.h>

#define XTIO_SERVER_DEFAULT_PORT        6390
#define XTIO_SERVER_DEFAULT_WORKERS     2
#define XTIO_SERVER_DEFAULT_MAX_CLIENTS 10000

struct xtio_server_config {
    const char *bind;       /* weak: argv or a literal */
    int port;               /* 0: the kernel picks one (printed at start) */
    unsigned loops;         /* loop threads owning connections */
    unsigned workers;       /* threads running heavy commands */
    enum xtio_mode handoff; /* how workers' output reaches the socket */
    size_t batch_bytes;     /* spool threshold in batch mode */
    size_t max_pending;     /* per-connection bound on queued + unflushed output */
    unsigned max_clients;
    struct xtio_resp_limits limits;
    int verbose;
};

enum xtio_config_verdict {
    XTIO_CONFIG_RUN,   /* start the server */
    XTIO_CONFIG_EXIT,  /* --help or --version printed: exit 0 */
    XTIO_CONFIG_USAGE, /* bad command line, already explained on err: exit 2 */
};

void xtio_server_config_defaults(struct xtio_server_config *config);
enum xtio_config_verdict xtio_server_config_parse(struct xtio_server_config *config, int argc,
                                                  char **argv, FILE *out, FILE *err);

#endif
