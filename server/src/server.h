/*
 * xtio-server's runtime: its loops, listener, worker pool, store and clients. main() only parses
 * the command line, waits for a signal and calls these.
 */
#ifndef XTIO_SERVER_SERVER_H
#define XTIO_SERVER_SERVER_H

#include "config.h"

#include <stdio.h>

struct xtio_server;

/* Binds and listens, starts the loops and the workers. On failure writes the reason to `log`
 * and returns a negative errno (-EADDRINUSE when the port is taken). */
int xtio_server_start(struct xtio_server **server, const struct xtio_server_config *config,
                      FILE *log);
/* The port actually listened on (useful with --port 0). */
int xtio_server_port(const struct xtio_server *server);
/* Stops accepting, lets in-flight commands finish, flushes every client, stops and frees. */
void xtio_server_stop(struct xtio_server *server);

#endif
