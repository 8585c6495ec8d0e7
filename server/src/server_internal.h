/*
 * Private to xtio-server: the state that server.c (lifecycle, sockets, clients) and commands.c
 * (what each command does) share.
 */
#ifndef XTIO_SERVER_SERVER_INTERNAL_H
#define XTIO_SERVER_SERVER_INTERNAL_H

#include "buf.h"
#include "config.h"
#include "resp_parser.h"
#include "server.h"
#include "store.h"
#include "workers.h"

#include <stdatomic.h>
#include <stdint.h>
#include <xtio/xtio.h>

struct client;
struct heavy_job;

/* One loop thread's share of the server; touched on that loop's thread only. */
struct loop_ctx {
    struct xtio_server *server; /* weak */
    xtio_loop *loop;            /* owned */
    struct evconnlistener *listener;
    struct client *clients; /* the loop's connected clients (each owned by its connection) */
};

struct xtio_server {
    struct xtio_server_config config;
    FILE *log;
    xtio_store *store;            /* owned */
    struct xtio_workers *workers; /* owned */
    struct loop_ctx *loops;       /* owned, config.loops of them */
    int listen_fd;
    int port;
    uint64_t start_ns;
    atomic_uint clients;
    atomic_uint heavy_running; /* heavy commands between their start and their job's end */
    atomic_uint_fast64_t connections_received, connections_rejected, commands_processed,
        protocol_errors, heavy_commands;
};

/* A connected client. Freed when its last reference goes: one is held from accept to the
 * connection's close, one by each heavy command in flight. */
struct client {
    struct loop_ctx *ctx;     /* weak */
    xtio_conn *conn;          /* owned reference */
    xtio_resp_parser *parser; /* owned */
    struct xtio_buf reply;    /* the loop's reply being built, reused */
    atomic_uint refs;
    struct client *prev, *next; /* in ctx->clients */
    /* Loop thread only: */
    bool busy;     /* a heavy command is running: later requests wait so replies stay in order */
    bool closed;   /* the connection closed */
    bool quitting; /* QUIT or shutdown: no more requests are served */
    struct heavy_job *paused; /* inline mode: a command waiting for the client to read (owned) */
};

/* The output of a command that may run on a worker: records handed off in the server's mode. */
struct stream {
    xtio_conn *conn; /* weak: the job holds the reference */
    enum xtio_mode mode;
    xtio_spool *spool; /* owned, batch mode only */
    struct xtio_buf record;
    int error; /* sticky: first failed handoff (-EPIPE once the client is gone) */
};

/* Sends client->reply from the loop thread, then empties it. */
void xtio_client_flush_reply(struct client *client);
/* Runs a heavy command: on a worker through the handoff, or on the loop itself in inline mode. */
void xtio_client_run_heavy(struct client *client, const struct xtio_resp_request *request);

/* Executes one request on the loop thread (commands.c). */
void xtio_command_dispatch(struct client *client, const struct xtio_resp_request *request);
/* A heavy command's work (commands.c), run in steps from any thread: create it over the job's
 * arguments (which must outlive it), call step until it returns true (each step writes at most one
 * store batch to `out`), destroy it. */
struct xtio_heavy_run;
struct xtio_heavy_run *xtio_heavy_create(struct xtio_server *server, size_t argc, char *const *argv,
                                         const size_t *argv_len);
bool xtio_heavy_step(struct xtio_heavy_run *run, struct stream *out);
void xtio_heavy_destroy(struct xtio_heavy_run *run);

/* Hands the current record off and empties it; keeps the first error. */
void xtio_stream_send(struct stream *out);

#endif
