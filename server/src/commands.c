/*
 * What each xtio-server command does. Light commands answer on the loop thread into the client's
 * reply buffer; heavy ones (RANGE, KEYS, DEBUG POPULATE) write their reply to a stream, record by
 * record, from whichever thread runs them. Errors are worded as Redis words them.
 */
#include "commands.h"

#include "server_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* Pairs copied out of the store per scan batch: small enough that a batch never holds the store's
 * read lock for long, large enough to amortise the lock. */
#define SCAN_BATCH_PAIRS 256
#define SCAN_BATCH_BYTES (256 * 1024)

typedef void (*light_fn)(struct client *client, const struct xtio_resp_request *request);

struct command {
    const char *name;
    int arity;      /* > 0: exactly that many words; < 0: at least -arity */
    light_fn light; /* NULL: heavy, left to the caller of xtio_command_dispatch() */
};

static bool arg_is(const struct xtio_resp_request *request, size_t index, const char *word)
{
    return index < request->argc && strcasecmp(request->argv[index], word) == 0;
}

/* Parses a non-negative decimal integer the whole argument consists of. */
static bool parse_count(const char *text, size_t len, long long max, long long *value)
{
    if (len == 0 || len > 19)
        return false;
    long long result = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return false;
        result = result * 10 + (text[i] - '0');
    }
    if (result > max)
        return false;
    *value = result;
    return true;
}

/* ---- Light commands (loop thread) ----------------------------------------------------------- */

static xtio_store *store_of(struct client *client)
{
    return client->ctx->server->store;
}

static void cmd_ping(struct client *client, const struct xtio_resp_request *request)
{
    if (request->argc > 2) {
        xtio_resp_error(&client->reply, "ERR wrong number of arguments for 'ping' command");
    } else if (request->argc == 2) {
        xtio_resp_bulk(&client->reply, request->argv[1], request->argv_len[1]);
    } else {
        xtio_resp_simple(&client->reply, "PONG");
    }
}

static void cmd_echo(struct client *client, const struct xtio_resp_request *request)
{
    xtio_resp_bulk(&client->reply, request->argv[1], request->argv_len[1]);
}

static int append_bulk_value(void *arg, const void *val, size_t vlen)
{
    xtio_resp_bulk(arg, val, vlen);
    return 0;
}

static void cmd_get(struct client *client, const struct xtio_resp_request *request)
{
    int rc = xtio_store_get_with(store_of(client), request->argv[1], request->argv_len[1],
                                 append_bulk_value, &client->reply);
    if (rc == -ENOENT)
        xtio_resp_nil(&client->reply);
}

static void cmd_set(struct client *client, const struct xtio_resp_request *request)
{
    if (request->argc != 3) {
        xtio_resp_error(&client->reply, "ERR syntax error"); /* no EX/PX/NX/XX here */
        return;
    }
    int rc = xtio_store_set(store_of(client), request->argv[1], request->argv_len[1],
                            request->argv[2], request->argv_len[2]);
    if (rc < 0)
        xtio_resp_error(&client->reply, "OOM command not allowed when used memory > 'maxmemory'.");
    else
        xtio_resp_simple(&client->reply, "OK");
}

static void cmd_del(struct client *client, const struct xtio_resp_request *request)
{
    long long deleted = 0;
    for (size_t i = 1; i < request->argc; i++)
        deleted += xtio_store_del(store_of(client), request->argv[i], request->argv_len[i]) > 0;
    xtio_resp_integer(&client->reply, deleted);
}

static void cmd_exists(struct client *client, const struct xtio_resp_request *request)
{
    long long found = 0;
    for (size_t i = 1; i < request->argc; i++)
        found += xtio_store_exists(store_of(client), request->argv[i], request->argv_len[i]) > 0;
    xtio_resp_integer(&client->reply, found);
}

static void cmd_dbsize(struct client *client, const struct xtio_resp_request *request)
{
    (void)request;
    xtio_resp_integer(&client->reply, (long long)xtio_store_count(store_of(client)));
}

static void cmd_flushall(struct client *client, const struct xtio_resp_request *request)
{
    if (request->argc == 2 && !arg_is(request, 1, "sync") && !arg_is(request, 1, "async")) {
        xtio_resp_error(&client->reply, "ERR syntax error");
        return;
    }
    xtio_store_flush(store_of(client));
    xtio_resp_simple(&client->reply, "OK");
}

static void cmd_quit(struct client *client, const struct xtio_resp_request *request)
{
    (void)request;
    xtio_resp_simple(&client->reply, "OK");
    xtio_reply_flush(client->conn, &client->reply);
    client->quitting = true;
    xtio_conn_close_when_flushed(client->conn);
}

/* redis-benchmark asks for `save` and `appendonly` before it starts; answer as a server without
 * persistence does. */
static void cmd_config(struct client *client, const struct xtio_resp_request *request)
{
    if (!arg_is(request, 1, "get") || request->argc != 3) {
        xtio_resp_error(&client->reply, "ERR CONFIG subcommand not supported by xtio-server");
        return;
    }
    const char *name = request->argv[2];
    const char *value = strcasecmp(name, "save") == 0         ? ""
                        : strcasecmp(name, "appendonly") == 0 ? "no"
                                                              : NULL;
    if (!value) {
        xtio_resp_array(&client->reply, 0);
        return;
    }
    xtio_resp_array(&client->reply, 2);
    xtio_resp_bulk(&client->reply, name, request->argv_len[2]);
    xtio_resp_bulk(&client->reply, value, strlen(value));
}

/* redis-cli asks for command docs at start-up; an empty answer makes it skip hints. */
static void cmd_command(struct client *client, const struct xtio_resp_request *request)
{
    (void)request;
    xtio_resp_array(&client->reply, 0);
}

static void info_line(struct xtio_buf *text, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
static void info_line(struct xtio_buf *text, const char *format, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, format);
    int n = vsnprintf(line, sizeof(line), format, ap);
    va_end(ap);
    if (n > 0)
        xtio_buf_append(text, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
    xtio_buf_append(text, "\r\n", 2);
}

static bool wants_section(const struct xtio_resp_request *request, const char *section)
{
    return request->argc < 2 || arg_is(request, 1, "all") || arg_is(request, 1, "everything") ||
           arg_is(request, 1, "default") || arg_is(request, 1, section);
}

static void cmd_info(struct client *client, const struct xtio_resp_request *request)
{
    struct xtio_server *server = client->ctx->server;
    struct xtio_buf text;
    xtio_buf_init(&text);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    uint64_t now_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;

    if (wants_section(request, "server")) {
        info_line(&text, "# Server");
        info_line(&text, "redis_version:7.0.0");
        info_line(&text, "xtio_version:%s", XTIO_VERSION);
        info_line(&text, "process_id:%ld", (long)getpid());
        info_line(&text, "tcp_port:%d", server->port);
        info_line(&text, "uptime_in_seconds:%llu",
                  (unsigned long long)((now_ns - server->start_ns) / 1000000000u));
        info_line(&text, "handoff_mode:%s", xtio_mode_name(server->config.handoff));
        info_line(&text, "batch_bytes:%zu", server->config.batch_bytes);
        info_line(&text, "loops:%u", server->config.loops);
        info_line(&text, "workers:%u", server->config.workers);
        xtio_buf_append(&text, "\r\n", 2);
    }
    if (wants_section(request, "clients")) {
        info_line(&text, "# Clients");
        info_line(&text, "connected_clients:%u", atomic_load(&server->clients));
        info_line(&text, "maxclients:%u", server->config.max_clients);
        xtio_buf_append(&text, "\r\n", 2);
    }
    if (wants_section(request, "memory")) {
        info_line(&text, "# Memory");
        info_line(&text, "store_bytes:%zu", xtio_store_bytes(server->store));
        xtio_buf_append(&text, "\r\n", 2);
    }
    if (wants_section(request, "stats")) {
        info_line(&text, "# Stats");
        info_line(&text, "total_connections_received:%llu",
                  (unsigned long long)atomic_load(&server->connections_received));
        info_line(&text, "total_commands_processed:%llu",
                  (unsigned long long)atomic_load(&server->commands_processed));
        info_line(&text, "rejected_connections:%llu",
                  (unsigned long long)atomic_load(&server->connections_rejected));
        info_line(&text, "protocol_errors:%llu",
                  (unsigned long long)atomic_load(&server->protocol_errors));
        info_line(&text, "heavy_commands:%llu",
                  (unsigned long long)atomic_load(&server->heavy_commands));
        xtio_buf_append(&text, "\r\n", 2);
    }
    if (wants_section(request, "handoff")) {
        struct xtio_loop_stats total = {0};
        for (unsigned i = 0; i < server->config.loops; i++) {
            struct xtio_loop_stats stats;
            xtio_loop_get_stats(server->loops[i].loop, &stats);
            for (int m = 0; m < XTIO_MODE_COUNT; m++) {
                total.mode[m].handoffs += stats.mode[m].handoffs;
                total.mode[m].bytes += stats.mode[m].bytes;
                total.mode[m].records += stats.mode[m].records;
                total.mode[m].drops += stats.mode[m].drops;
                total.mode[m].drop_bytes += stats.mode[m].drop_bytes;
                total.mode[m].backpressure_waits += stats.mode[m].backpressure_waits;
            }
        }
        info_line(&text, "# Handoff");
        for (int m = 0; m < XTIO_MODE_COUNT; m++) {
            const struct xtio_mode_stats *s = &total.mode[m];
            info_line(&text,
                      "handoff_%s:handoffs=%llu,bytes=%llu,records=%llu,drops=%llu,"
                      "drop_bytes=%llu,backpressure_waits=%llu",
                      xtio_mode_name((enum xtio_mode)m), (unsigned long long)s->handoffs,
                      (unsigned long long)s->bytes, (unsigned long long)s->records,
                      (unsigned long long)s->drops, (unsigned long long)s->drop_bytes,
                      (unsigned long long)s->backpressure_waits);
        }
        xtio_buf_append(&text, "\r\n", 2);
    }
    if (wants_section(request, "keyspace")) {
        info_line(&text, "# Keyspace");
        size_t keys = xtio_store_count(server->store);
        if (keys)
            info_line(&text, "db0:keys=%zu,expires=0,avg_ttl=0", keys);
        xtio_buf_append(&text, "\r\n", 2);
    }
    if (text.failed)
        xtio_resp_error(&client->reply, "ERR out of memory");
    else
        xtio_resp_bulk(&client->reply, text.data, text.len);
    xtio_buf_free(&text);
}

/* ---- Heavy commands (a worker, or the loop in inline mode) ---------------------------------- */

enum heavy_kind { HEAVY_RANGE, HEAVY_KEYS, HEAVY_POPULATE };

/* A heavy command in progress. Each step writes at most one store batch, so the loop can run a
 * heavy command itself in inline mode without holding everyone else up, and pause it while its
 * client is slow to read. */
struct xtio_heavy_run {
    xtio_store *store; /* weak */
    enum heavy_kind kind;
    size_t argc;
    char *const *argv; /* weak: the job's copy */
    const size_t *argv_len;
    bool started;
    bool scanning; /* scan is initialised */
    struct xtio_store_scan scan;
    struct xtio_store_batch batch;
    long long count; /* elements announced in the array header */
    long long sent;
    size_t per_pair; /* bulk strings per element: 2 for RANGE, 1 for KEYS */
};

/* Sends a one-record reply: an error or a status. */
static void stream_error(struct stream *out, const char *message)
{
    xtio_resp_error(&out->record, "%s", message);
    xtio_stream_send(out);
}

static bool heavy_fail(struct stream *out, const char *message)
{
    stream_error(out, message);
    return true;
}

/* RESP2 needs the element count first, so the scan is counted, then streamed; the store is not
 * frozen in between, so keys deleted meanwhile are sent as nil elements and keys inserted
 * meanwhile past the count are left out, keeping the reply valid. */
static bool start_scan(struct xtio_heavy_run *run, struct stream *out)
{
    if (run->kind == HEAVY_RANGE) {
        long long limit = 0;
        if (run->argc == 5 && strcasecmp(run->argv[3], "limit") == 0) {
            if (!parse_count(run->argv[4], run->argv_len[4], (long long)1 << 62, &limit))
                return heavy_fail(out, "ERR value is not an integer or out of range");
            if (limit == 0) {
                xtio_resp_array(&out->record, 0);
                xtio_stream_send(out);
                return true;
            }
        } else if (run->argc != 3) {
            return heavy_fail(out, "ERR syntax error");
        }
        if (xtio_store_scan_init(&run->scan, run->argv[1], run->argv_len[1], run->argv[2],
                                 run->argv_len[2], (size_t)limit))
            return heavy_fail(out, "ERR out of memory");
        run->per_pair = 2;
    } else {
        if (xtio_store_scan_init_keys(&run->scan, run->argv[1]))
            return heavy_fail(out, "ERR out of memory");
        run->per_pair = 1;
    }
    run->scanning = true;
    xtio_store_batch_init(&run->batch);
    run->count = xtio_store_scan_count(run->store, &run->scan);
    if (run->count < 0)
        return heavy_fail(out, "ERR out of memory");
    xtio_resp_array(&out->record, (size_t)run->count * run->per_pair);
    xtio_stream_send(out);
    return run->count == 0;
}

static bool scan_step(struct xtio_heavy_run *run, struct stream *out)
{
    if (run->sent < run->count && !xtio_store_scan_done(&run->scan)) {
        int copied = xtio_store_scan_next(run->store, &run->scan, &run->batch, SCAN_BATCH_PAIRS,
                                          SCAN_BATCH_BYTES);
        if (copied < 0) {
            out->error = copied;
            return true;
        }
        for (size_t i = 0; i < run->batch.count && run->sent < run->count && !out->error;
             i++, run->sent++) {
            const struct xtio_store_pair *pair = &run->batch.pairs[i];
            xtio_resp_bulk(&out->record, pair->key, pair->klen);
            if (run->per_pair == 2)
                xtio_resp_bulk(&out->record, pair->val, pair->vlen);
            xtio_stream_send(out);
        }
        if (run->sent < run->count && !xtio_store_scan_done(&run->scan))
            return out->error != 0;
    }
    /* Only reached with elements missing on a store shrunk under the scan; after an error the
     * client is gone or being closed, and the padding would go nowhere. */
    for (; run->sent < run->count && !out->error; run->sent++) {
        for (size_t i = 0; i < run->per_pair; i++)
            xtio_resp_nil(&out->record);
        xtio_stream_send(out);
    }
    return true;
}

static bool run_populate(struct xtio_heavy_run *run, struct stream *out)
{
    long long count, size = 0;
    if (run->argc > 5 || !parse_count(run->argv[2], run->argv_len[2], (long long)1 << 40, &count) ||
        (run->argc == 5 && !parse_count(run->argv[4], run->argv_len[4], (long long)1 << 30, &size)))
        return heavy_fail(out, "ERR value is out of range, must be positive");
    const char *prefix = run->argc >= 4 ? run->argv[3] : NULL;
    size_t prefix_len = run->argc >= 4 ? run->argv_len[3] : 0;
    if (xtio_store_populate(run->store, (size_t)count, prefix, prefix_len, (size_t)size) < 0)
        return heavy_fail(out, "ERR out of memory");
    xtio_resp_simple(&out->record, "OK");
    xtio_stream_send(out);
    return true;
}

struct xtio_heavy_run *xtio_heavy_create(struct xtio_server *server, size_t argc, char *const *argv,
                                         const size_t *argv_len)
{
    struct xtio_heavy_run *run = calloc(1, sizeof(*run));
    if (!run)
        return NULL;
    run->store = server->store;
    run->kind = strcasecmp(argv[0], "range") == 0  ? HEAVY_RANGE
                : strcasecmp(argv[0], "keys") == 0 ? HEAVY_KEYS
                                                   : HEAVY_POPULATE;
    run->argc = argc;
    run->argv = argv;
    run->argv_len = argv_len;
    return run;
}

bool xtio_heavy_step(struct xtio_heavy_run *run, struct stream *out)
{
    if (out->error)
        return true;
    if (!run->started) {
        run->started = true;
        if (run->kind == HEAVY_POPULATE)
            return run_populate(run, out);
        return start_scan(run, out) || out->error;
    }
    return scan_step(run, out);
}

void xtio_heavy_destroy(struct xtio_heavy_run *run)
{
    if (!run)
        return;
    if (run->scanning) {
        xtio_store_batch_fini(&run->batch);
        xtio_store_scan_fini(&run->scan);
    }
    free(run);
}

/* ---- Dispatch --------------------------------------------------------------------------- */

static const struct command commands[] = {
    {"ping", -1, cmd_ping},     {"echo", 2, cmd_echo},
    {"get", 2, cmd_get},        {"set", -3, cmd_set},
    {"del", -2, cmd_del},       {"exists", -2, cmd_exists},
    {"dbsize", 1, cmd_dbsize},  {"flushall", -1, cmd_flushall},
    {"info", -1, cmd_info},     {"quit", -1, cmd_quit},
    {"config", -2, cmd_config}, {"command", -1, cmd_command},
    {"range", -3, NULL},        {"keys", 2, NULL},
    {"debug", -2, NULL},
};

static void reply_unknown_command(struct client *client, const struct xtio_resp_request *request)
{
    char args[256] = "";
    size_t used = 0;
    for (size_t i = 1; i < request->argc && used < 128; i++) {
        int n = snprintf(args + used, sizeof(args) - used, "'%.*s' ",
                         (int)(request->argv_len[i] < 128 ? request->argv_len[i] : 128),
                         request->argv[i]);
        if (n < 0 || (size_t)n >= sizeof(args) - used)
            break;
        used += (size_t)n;
    }
    xtio_resp_error(&client->reply, "ERR unknown command '%.128s', with args beginning with: %s",
                    request->argv[0], args);
}

bool xtio_command_dispatch(struct client *client, const struct xtio_resp_request *request)
{
    const struct command *command = NULL;
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcasecmp(request->argv[0], commands[i].name) == 0) {
            command = &commands[i];
            break;
        }
    }
    if (!command) {
        reply_unknown_command(client, request);
        return false;
    }
    size_t argc = request->argc;
    if ((command->arity > 0 && argc != (size_t)command->arity) ||
        (command->arity < 0 && argc < (size_t)-command->arity)) {
        xtio_resp_error(&client->reply, "ERR wrong number of arguments for '%s' command",
                        command->name);
        return false;
    }
    if (command->light) {
        command->light(client, request);
    } else if (strcmp(command->name, "debug") == 0 && !arg_is(request, 1, "populate")) {
        xtio_resp_error(&client->reply, "ERR DEBUG subcommand '%.64s' not supported by xtio-server",
                        request->argv[1]);
    } else if (strcmp(command->name, "debug") == 0 && argc < 3) {
        xtio_resp_error(&client->reply,
                        "ERR wrong number of arguments for 'debug|populate' command");
    } else {
        return true; /* heavy */
    }
    return false;
}
