/*
 * xtio-server's commands as server.c runs them: a request dispatched on the loop thread, and the
 * work of a heavy command, which server.c schedules.
 */
#ifndef XTIO_SERVER_COMMANDS_H
#define XTIO_SERVER_COMMANDS_H

#include "reply.h"
#include "resp_parser.h"

#include <stdbool.h>
#include <stddef.h>

struct client;
struct xtio_server;

/* Executes one request on the loop thread, answering into client->reply. Returns true, having
 * answered nothing, when the request is a heavy command: the caller runs it (see below), so that
 * it decides on which thread and in which order with the client's other requests. */
bool xtio_command_dispatch(struct client *client, const struct xtio_resp_request *request);

/* A heavy command's work, run in steps from any thread: create it over the job's arguments (which
 * must outlive it), call step until it returns true (each step writes at most one store batch to
 * `out`), destroy it. */
struct xtio_heavy_run;
struct xtio_heavy_run *xtio_heavy_create(struct xtio_server *server, size_t argc, char *const *argv,
                                         const size_t *argv_len);
bool xtio_heavy_step(struct xtio_heavy_run *run, struct stream *out);
void xtio_heavy_destroy(struct xtio_heavy_run *run);

#endif
