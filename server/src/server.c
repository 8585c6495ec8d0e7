/*
 * xtio-server's lifecycle and clients: the listening socket shared by every loop, accepting into
 * libxtio connections, request parsing, keeping replies in request order while a heavy command
 * streams from a worker, and the graceful stop.
 */
#include "server.h"

#include "commands.h"
#include "reply.h"
#include "server_internal.h"

#include <errno.h>
#include <event2/listener.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* How long a stop waits for clients to receive what they were sent before closing them anyway. */
#define STOP_FLUSH_TIMEOUT_MS 5000

static uint64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Inline mode's paused commands (see run_inline_turn()). */
static void resume_paused(struct client *client);
static void drop_paused(struct client *client);
/* Runs a heavy command: on a worker through the handoff, or on the loop itself in inline mode. */
static void run_heavy(struct client *client, const struct xtio_resp_request *request);

/* ---- Clients ---------------------------------------------------------------------------- */

static void client_unref(struct client *client)
{
    if (atomic_fetch_sub(&client->refs, 1) != 1)
        return;
    xtio_conn_unref(client->conn);
    xtio_resp_parser_destroy(client->parser);
    xtio_buf_free(&client->reply);
    free(client);
}

static void process_requests(struct client *client)
{
    struct xtio_server *server = client->ctx->server;
    while (!client->busy && !client->quitting && !client->closed) {
        struct xtio_resp_request request;
        enum xtio_resp_status status = xtio_resp_parser_next(client->parser, &request);
        if (status == XTIO_RESP_NEED_MORE)
            break;
        if (status == XTIO_RESP_PROTO_ERROR) {
            /* The stream cannot be resynchronised: answer, then close once that is sent. */
            atomic_fetch_add(&server->protocol_errors, 1);
            xtio_resp_error(&client->reply, "ERR %s", xtio_resp_parser_error(client->parser));
            xtio_reply_flush(client->conn, &client->reply);
            client->quitting = true;
            xtio_conn_close_when_flushed(client->conn);
            break;
        }
        if (status == XTIO_RESP_NOMEM) {
            xtio_conn_close(client->conn);
            break;
        }
        atomic_fetch_add(&server->commands_processed, 1);
        if (xtio_command_dispatch(client, &request))
            run_heavy(client, &request);
        xtio_reply_flush(client->conn, &client->reply);
    }
}

static void on_client_data(xtio_conn *conn, const void *data, size_t len, void *user)
{
    struct client *client = user;
    if (client->quitting)
        return;
    enum xtio_resp_status status = xtio_resp_parser_feed(client->parser, data, len);
    if (status == XTIO_RESP_NOMEM) {
        xtio_conn_close(conn);
        return;
    }
    /* A PROTO_ERROR from feed (query buffer limit) is sticky and reported by next(), after the
     * requests that were complete before it. */
    process_requests(client);
}

static void on_client_close(xtio_conn *conn, enum xtio_close_reason reason, void *user)
{
    (void)conn;
    struct client *client = user;
    struct loop_ctx *ctx = client->ctx;
    if (ctx->server->config.verbose)
        fprintf(ctx->server->log, "xtio-server: connection %llu closed (%d)\n",
                (unsigned long long)xtio_conn_id(conn), (int)reason);
    client->closed = true;
    drop_paused(client);
    if (client->prev)
        client->prev->next = client->next;
    else
        ctx->clients = client->next;
    if (client->next)
        client->next->prev = client->prev;
    atomic_fetch_sub(&ctx->server->clients, 1);
    client_unref(client);
}

static void on_client_drained(xtio_conn *conn, void *user)
{
    (void)conn;
    resume_paused(user);
}

static void accept_client(struct evconnlistener *listener, evutil_socket_t fd,
                          struct sockaddr *addr, int addrlen, void *arg)
{
    (void)listener;
    (void)addr;
    (void)addrlen;
    struct loop_ctx *ctx = arg;
    struct xtio_server *server = ctx->server;
    atomic_fetch_add(&server->connections_received, 1);

    if (atomic_fetch_add(&server->clients, 1) >= server->config.max_clients) {
        static const char full[] = "-ERR max number of clients reached\r\n";
        atomic_fetch_sub(&server->clients, 1);
        atomic_fetch_add(&server->connections_rejected, 1);
        ssize_t ignored = write(fd, full, sizeof(full) - 1); /* best effort, as Redis does */
        (void)ignored;
        close(fd);
        return;
    }
    struct client *client = calloc(1, sizeof(*client));
    if (!client || xtio_resp_parser_create(&client->parser, &server->config.limits) != 0) {
        free(client);
        atomic_fetch_sub(&server->clients, 1);
        close(fd);
        return;
    }
    client->ctx = ctx;
    atomic_init(&client->refs, 1);
    xtio_buf_init(&client->reply);
    struct xtio_conn_options options = {
        .callbacks = {.on_data = on_client_data,
                      .on_close = on_client_close,
                      .on_drained = on_client_drained},
        .user = client,
        .max_pending = server->config.max_pending,
    };
    int rc = xtio_conn_open(&client->conn, ctx->loop, fd, &options);
    if (rc != 0) {
        fprintf(server->log, "xtio-server: cannot set up a connection: %s\n", strerror(-rc));
        xtio_resp_parser_destroy(client->parser);
        free(client);
        atomic_fetch_sub(&server->clients, 1);
        return;
    }
    client->next = ctx->clients;
    if (ctx->clients)
        ctx->clients->prev = client;
    ctx->clients = client;
    if (server->config.verbose)
        fprintf(server->log, "xtio-server: connection %llu accepted on loop %u\n",
                (unsigned long long)xtio_conn_id(client->conn), xtio_loop_id(ctx->loop));
}

/* ---- Heavy commands --------------------------------------------------------------------- */

static void continue_inline(void *arg);

/* How many store batches inline mode writes per turn of the loop before yielding to others. */
#define INLINE_STEPS_PER_TURN 4

struct heavy_job {
    struct client *client; /* owned reference */
    xtio_conn *conn;       /* owned reference */
    size_t argc;
    char **argv; /* owned, each NUL-terminated */
    size_t *argv_len;
    struct xtio_heavy_run *run; /* owned */
    struct stream out;          /* owned once opened */
    bool out_open;
};

static void free_job(struct heavy_job *job)
{
    atomic_fetch_sub(&job->client->ctx->server->heavy_running, 1);
    if (job->out_open)
        xtio_stream_close(&job->out);
    xtio_heavy_destroy(job->run);
    for (size_t i = 0; i < job->argc; i++)
        free(job->argv[i]);
    free(job->argv);
    free(job->argv_len);
    xtio_conn_unref(job->conn);
    client_unref(job->client);
    free(job);
}

static struct heavy_job *create_job(struct client *client, const struct xtio_resp_request *request)
{
    struct heavy_job *job = calloc(1, sizeof(*job));
    if (!job)
        return NULL;
    atomic_fetch_add(&client->ctx->server->heavy_running, 1); /* until free_job() */
    job->argv = calloc(request->argc, sizeof(*job->argv));
    job->argv_len = calloc(request->argc, sizeof(*job->argv_len));
    atomic_fetch_add(&client->refs, 1);
    job->client = client;
    job->conn = xtio_conn_ref(client->conn);
    if (!job->argv || !job->argv_len) {
        free_job(job);
        return NULL;
    }
    for (size_t i = 0; i < request->argc; i++, job->argc++) {
        job->argv[i] = malloc(request->argv_len[i] + 1);
        if (!job->argv[i]) {
            free_job(job);
            return NULL;
        }
        memcpy(job->argv[i], request->argv[i], request->argv_len[i] + 1);
        job->argv_len[i] = request->argv_len[i];
    }
    job->run = xtio_heavy_create(client->ctx->server, job->argc, job->argv, job->argv_len);
    if (!job->run) {
        free_job(job);
        return NULL;
    }
    return job;
}

static void open_job_stream(struct heavy_job *job, enum xtio_mode mode)
{
    xtio_stream_open(&job->out, job->conn, mode, job->client->ctx->server->config.batch_bytes);
    job->out_open = true;
}

/* On the loop, once the command's whole reply is handed off: requests that arrived meanwhile may
 * run now. `resume` is false when called from within process_requests(), which goes on itself. */
static void finish_job(struct heavy_job *job, bool resume)
{
    struct client *client = job->client;
    if (job->out_open) {
        xtio_stream_close(&job->out);
        job->out_open = false;
    }
    client->busy = false;
    if (!client->closed) {
        xtio_conn_set_reading(client->conn, true);
        if (resume)
            process_requests(client);
    }
    free_job(job);
}

static void heavy_done(void *arg)
{
    finish_job(arg, true);
}

static void run_heavy_job(void *arg, bool cancelled)
{
    struct heavy_job *job = arg;
    struct xtio_server *server = job->client->ctx->server;
    open_job_stream(job, server->config.handoff);
    if (cancelled) {
        xtio_resp_error(&job->out.record, "ERR server is shutting down");
        xtio_stream_send(&job->out);
    } else {
        while (!xtio_heavy_step(job->run, &job->out))
            continue;
    }
    xtio_stream_close(&job->out); /* the last spooled chunk goes before the completion below */
    job->out_open = false;
    if (xtio_loop_post(job->client->ctx->loop, heavy_done, job) != 0)
        free_job(job); /* the loop is stopping: nothing more will be read from this client */
}

/* Inline mode: the loop runs the command itself, a few batches per turn, yielding to other
 * clients between turns and pausing while its own client has more than --max-pending bytes to
 * read (the loop cannot wait like a worker, so without this a slow reader would make it buffer
 * the whole reply). Returns true when the command finished. */
static bool run_inline_turn(struct heavy_job *job)
{
    struct client *client = job->client;
    size_t bound = client->ctx->server->config.max_pending;
    for (int i = 0; i < INLINE_STEPS_PER_TURN; i++) {
        if (xtio_heavy_step(job->run, &job->out))
            return true;
        if (xtio_conn_pending_bytes(job->conn) > bound) {
            client->paused = job; /* resumed by on_client_drained() */
            return false;
        }
    }
    if (xtio_loop_post(client->ctx->loop, continue_inline, job) != 0)
        return true; /* the loop is stopping and closes this client anyway */
    return false;
}

static void continue_inline(void *arg)
{
    struct heavy_job *job = arg;
    if (run_inline_turn(job))
        finish_job(job, true);
}

static void resume_paused(struct client *client)
{
    struct heavy_job *job = client->paused;
    client->paused = NULL;
    if (job && run_inline_turn(job))
        finish_job(job, true);
}

static void drop_paused(struct client *client)
{
    struct heavy_job *job = client->paused;
    client->paused = NULL;
    if (job)
        finish_job(job, false);
}

static void run_heavy(struct client *client, const struct xtio_resp_request *request)
{
    struct xtio_server *server = client->ctx->server;
    atomic_fetch_add(&server->heavy_commands, 1);
    struct heavy_job *job = create_job(client, request);
    if (!job) {
        xtio_resp_error(&client->reply, "ERR out of memory");
        return;
    }
    client->busy = true;
    xtio_conn_set_reading(client->conn, false); /* the client waits; let TCP push back */
    if (server->config.handoff == XTIO_MODE_INLINE) {
        /* Keep the order of replies already built. */
        xtio_reply_flush(client->conn, &client->reply);
        open_job_stream(job, XTIO_MODE_INLINE);
        if (run_inline_turn(job))
            finish_job(job, false);
        return;
    }
    int rc = xtio_workers_submit(server->workers, run_heavy_job, job);
    if (rc != 0) {
        finish_job(job, false);
        xtio_resp_error(&client->reply, "ERR server is shutting down");
    }
}

/* ---- Listening -------------------------------------------------------------------------- */

static int listen_on(const struct xtio_server_config *config, FILE *log, int *port)
{
    char service[16];
    snprintf(service, sizeof(service), "%d", config->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *addresses;
    int gai = getaddrinfo(config->bind, service, &hints, &addresses);
    if (gai != 0) {
        fprintf(log, "xtio-server: cannot resolve --bind %s: %s\n", config->bind,
                gai_strerror(gai));
        return -EINVAL;
    }
    int fd = socket(addresses->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int err = fd < 0 ? errno : 0;
    if (!err) {
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, addresses->ai_addr, addresses->ai_addrlen) != 0 || listen(fd, 511) != 0 ||
            evutil_make_socket_nonblocking(fd) != 0)
            err = errno;
    }
    freeaddrinfo(addresses);
    if (err) {
        fprintf(log, "xtio-server: cannot listen on %s:%d: %s%s\n", config->bind, config->port,
                strerror(err),
                err == EADDRINUSE ? " (another server uses this port: pick one with --port)" : "");
        if (fd >= 0)
            close(fd);
        return -err;
    }
    struct sockaddr_storage bound;
    socklen_t bound_len = sizeof(bound);
    getsockname(fd, (struct sockaddr *)&bound, &bound_len);
    *port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                              : ((struct sockaddr_in *)&bound)->sin_port);
    return fd;
}

struct listener_setup {
    struct loop_ctx *ctx;
    int fd;
    int result;
};

/* Every loop accepts from the same socket (its own descriptor of it), so the kernel spreads
 * connections over whichever loops are idle. */
static void add_listener(void *arg)
{
    struct listener_setup *setup = arg;
    struct loop_ctx *ctx = setup->ctx;
    ctx->listener = evconnlistener_new(xtio_loop_event_base(ctx->loop), accept_client, ctx,
                                       LEV_OPT_CLOSE_ON_FREE, -1, setup->fd);
    setup->result = ctx->listener ? 0 : -ENOMEM;
    if (!ctx->listener)
        close(setup->fd);
}

static void remove_listener(void *arg)
{
    struct loop_ctx *ctx = arg;
    if (ctx->listener)
        evconnlistener_free(ctx->listener);
    ctx->listener = NULL;
}

static void close_clients_when_flushed(void *arg)
{
    struct loop_ctx *ctx = arg;
    for (struct client *client = ctx->clients, *next; client; client = next) {
        next = client->next; /* a client with nothing left to send is closed and freed at once */
        client->quitting = true;
        if (!client->busy)
            xtio_conn_close_when_flushed(client->conn);
    }
}

static void close_busy_clients(void *arg)
{
    struct loop_ctx *ctx = arg;
    for (struct client *client = ctx->clients, *next; client; client = next) {
        next = client->next;
        if (client->busy)
            xtio_conn_close(client->conn);
    }
}

static bool all_clients_closed(struct xtio_server *server)
{
    return atomic_load(&server->clients) == 0;
}

static bool no_heavy_command_running(struct xtio_server *server)
{
    return atomic_load(&server->heavy_running) == 0;
}

static void wait_until(struct xtio_server *server, bool (*done)(struct xtio_server *),
                       int timeout_ms)
{
    for (int waited_ms = 0; !done(server) && waited_ms < timeout_ms; waited_ms += 10)
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
}

int xtio_server_port(const struct xtio_server *server)
{
    return server->port;
}

void xtio_server_stop(struct xtio_server *server)
{
    if (!server)
        return;
    for (unsigned i = 0; i < server->config.loops && server->loops; i++)
        if (server->loops[i].loop)
            xtio_loop_call(server->loops[i].loop, remove_listener, &server->loops[i]);
    /* Commands in flight may finish and post their completion to running loops; queued ones
     * are answered with an error. A command streaming to a client that stopped reading would
     * wait for it forever, so after a while such clients are closed, which ends their commands
     * (their sends fail). Only then may the loops stop. */
    wait_until(server, no_heavy_command_running, STOP_FLUSH_TIMEOUT_MS);
    for (unsigned i = 0; i < server->config.loops && server->loops; i++)
        if (server->loops[i].loop)
            xtio_loop_call(server->loops[i].loop, close_busy_clients, &server->loops[i]);
    xtio_workers_stop(server->workers);
    for (unsigned i = 0; i < server->config.loops && server->loops; i++)
        if (server->loops[i].loop)
            xtio_loop_call(server->loops[i].loop, close_clients_when_flushed, &server->loops[i]);
    wait_until(server, all_clients_closed, STOP_FLUSH_TIMEOUT_MS);
    for (unsigned i = 0; i < server->config.loops && server->loops; i++)
        xtio_loop_destroy(server->loops[i].loop); /* closes whatever did not drain in time */
    if (server->listen_fd >= 0)
        close(server->listen_fd);
    free(server->loops);
    xtio_workers_destroy(server->workers);
    xtio_store_destroy(server->store);
    free(server);
}

int xtio_server_start(struct xtio_server **out, const struct xtio_server_config *config, FILE *log)
{
    *out = NULL;
    struct xtio_server *server = calloc(1, sizeof(*server));
    if (!server)
        return -ENOMEM;
    server->config = *config;
    server->log = log;
    server->start_ns = monotonic_ns();
    server->listen_fd = listen_on(config, log, &server->port);
    if (server->listen_fd < 0) {
        int rc = server->listen_fd;
        free(server);
        return rc;
    }
    int rc = xtio_store_create(&server->store);
    if (rc == 0)
        rc = xtio_workers_create(&server->workers, config->workers);
    if (rc == 0) {
        server->loops = calloc(config->loops, sizeof(*server->loops));
        rc = server->loops ? 0 : -ENOMEM;
    }
    for (unsigned i = 0; rc == 0 && i < config->loops; i++) {
        struct loop_ctx *ctx = &server->loops[i];
        ctx->server = server;
        char name[16];
        snprintf(name, sizeof(name), "xtio-loop-%u", i % 100000);
        rc = xtio_loop_create(&ctx->loop, name);
        if (rc == 0)
            rc = xtio_loop_start(ctx->loop);
    }
    /* Only once every loop exists: a client accepted by the first one may already ask for INFO,
     * which reads them all. */
    for (unsigned i = 0; rc == 0 && i < config->loops; i++) {
        struct listener_setup setup = {.ctx = &server->loops[i], .fd = -1, .result = -ENOMEM};
        setup.fd = dup(server->listen_fd);
        rc = setup.fd < 0 ? -errno : xtio_loop_call(setup.ctx->loop, add_listener, &setup);
        if (rc == 0)
            rc = setup.result;
        else if (setup.fd >= 0)
            close(setup.fd);
    }
    if (rc != 0) {
        fprintf(log, "xtio-server: cannot start: %s\n", strerror(-rc));
        xtio_server_stop(server);
        return rc;
    }
    *out = server;
    return 0;
}
