/*
 * Private to xtio-server: the state that server.c (lifecycle, sockets, clients) and commands.c
 * (what each command does) share: the server, its loops and its clients. Functions live in the
 * headers of the files that own them (commands.h, reply.h, server.h).
 */
#ifndef XTIO_SERVER_SERVER_INTERNAL_H
#define XTIO_SERVER_SERVER_INTERNAL_H

#include "buf.h"
#include "config.h"
#include "resp_parser.h"
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

#endif
