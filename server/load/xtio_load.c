/*
 * xtio-load's entry point: the control connection (FLUSHALL, DEBUG POPULATE, INFO), the run's
 * phases, and the text or JSON report.
 */
#include "drive.h"
#include "raw.h"
#include "run.h"
#include "xtio_schema.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Handoff modes an INFO reply may list. */
#define MAX_MODES 8

/* ---- Logs ------------------------------------------------------------------------------------ */

static void print_log(struct xtio_load_log *log)
{
    uint64_t count = atomic_load(&log->count);
    if (!count)
        return;
    uint64_t shown = count < XTIO_LOAD_LOG_KEEP ? count : XTIO_LOAD_LOG_KEEP;
    fprintf(stderr, "xtio-load: %" PRIu64 " %s; the first %" PRIu64 ":\n", count,
            count == 1 ? log->name : log->plural, shown);
    for (uint64_t i = 0; i < shown; i++)
        fprintf(stderr, "  %s\n", log->first[i]);
}

static json_t *log_json(struct xtio_load_log *log)
{
    uint64_t count = atomic_load(&log->count);
    json_t *first = json_array();
    for (uint64_t i = 0; i < count && i < XTIO_LOAD_LOG_KEEP; i++)
        json_array_append_new(first, json_string(log->first[i]));
    return json_pack("{s:I, s:o}", "count", (json_int_t)count, "first", first);
}

/* ---- Control connection ---------------------------------------------------------------------- */

static struct timeval seconds_tv(double s)
{
    return (struct timeval){.tv_sec = (time_t)s,
                            .tv_usec = (suseconds_t)((s - (double)(time_t)s) * 1e6)};
}

/* Runs one command on the control connection; NULL after logging when there is no reply. */
static redisReply *control(redisContext *ctl, const char *what, int argc, const char **argv)
{
    redisReply *reply = redisCommandArgv(ctl, argc, argv, NULL);
    if (!reply && ctl->err == REDIS_ERR_IO && strcmp(ctl->errstr, strerror(EAGAIN)) == 0)
        xtio_load_error("control connection: %s: no reply within --timeout", what);
    else if (!reply)
        xtio_load_error("control connection: %s: %s", what,
                        ctl->errstr[0] ? ctl->errstr : "no reply");
    return reply;
}

static bool control_status(redisContext *ctl, const char *what, int argc, const char **argv,
                           const char *status)
{
    redisReply *reply = control(ctl, what, argc, argv);
    if (!reply)
        return false;
    char msg[XTIO_LOAD_MSG_MAX];
    bool ok = xtio_load_check_status(reply, status, msg);
    if (!ok)
        xtio_load_error("control connection: %s: %s", what, msg);
    freeReplyObject(reply);
    return ok;
}

/* The handoff counters of one INFO reply. */
struct handoff_counters {
    char name[16];
    uint64_t handoffs, bytes, records, drops, drop_bytes, backpressure_waits;
};

struct info {
    bool valid;
    char mode[16]; /* handoff_mode: the server's mode for heavy commands */
    struct handoff_counters modes[MAX_MODES];
    int count;
    uint64_t wire_bytes; /* of the INFO reply itself, which the next INFO counts */
};

static bool fetch_info(redisContext *ctl, struct info *info)
{
    memset(info, 0, sizeof(*info));
    const char *argv[] = {"INFO", "all"};
    redisReply *reply = control(ctl, "INFO all", 2, argv);
    if (!reply)
        return false;
    if (reply->type != REDIS_REPLY_STRING) {
        xtio_load_error("control connection: INFO all: expected a bulk string reply");
        freeReplyObject(reply);
        return false;
    }
    info->wire_bytes = xtio_load_reply_wire_bytes(reply);
    char *save = NULL;
    for (char *line = strtok_r(reply->str, "\r\n", &save); line;
         line = strtok_r(NULL, "\r\n", &save)) {
        if (strncmp(line, "handoff_mode:", 13) == 0) {
            snprintf(info->mode, sizeof(info->mode), "%s", line + 13);
            continue;
        }
        if (strncmp(line, "handoff_", 8) != 0 || info->count == MAX_MODES)
            continue;
        char *colon = strchr(line, ':');
        if (!colon || (size_t)(colon - line - 8) >= sizeof(info->modes[0].name))
            continue;
        struct handoff_counters *m = &info->modes[info->count];
        memcpy(m->name, line + 8, (size_t)(colon - line - 8));
        m->name[colon - line - 8] = '\0';
        if (sscanf(colon + 1,
                   "handoffs=%" SCNu64 ",bytes=%" SCNu64 ",records=%" SCNu64 ",drops=%" SCNu64
                   ",drop_bytes=%" SCNu64 ",backpressure_waits=%" SCNu64,
                   &m->handoffs, &m->bytes, &m->records, &m->drops, &m->drop_bytes,
                   &m->backpressure_waits) == 6)
            info->count++;
    }
    freeReplyObject(reply);
    info->valid = info->count > 0;
    if (!info->valid)
        xtio_load_error("control connection: INFO all has no handoff_<mode> counters");
    return info->valid;
}

/* ---- Report ---------------------------------------------------------------------------------- */

struct result {
    const struct xtio_load_config *cfg;
    struct xtio_load_stats stats;
    struct xtio_load_side side;
    double populate_seconds;
    double elapsed;
    struct info before, after;
};

static uint64_t total_replies(const struct xtio_load_stats *st)
{
    uint64_t n = 0;
    for (int k = 0; k < XTIO_LOAD_KINDS; k++)
        n += st->replies[k];
    return n;
}

static double per_second(uint64_t n, double seconds)
{
    return seconds > 0 ? (double)n / seconds : 0.0;
}

/* The handoff comparison: the server's counters over the run against the client's tally. */
struct comparison {
    bool present;
    bool exact; /* no storm and no cut slow reply, so the numbers must be equal */
    const char *mode;
    struct handoff_counters delta[MAX_MODES];
    int count;
    uint64_t heavy_records, heavy_bytes; /* what the client received of heavy replies */
    uint64_t light_records, light_bytes; /* and of loop-thread replies */
    uint64_t server_heavy_records, server_heavy_bytes;
    uint64_t server_light_records, server_light_bytes;
    bool records_match, bytes_match;
};

static void compare(const struct result *r, struct comparison *c)
{
    memset(c, 0, sizeof(*c));
    if (!r->cfg->expect_info || !r->before.valid || !r->after.valid)
        return;
    c->present = true;
    c->mode = r->after.mode;
    c->exact = r->cfg->storm == 0 && r->side.slow_abandoned == 0;
    for (int i = 0; i < r->after.count; i++) {
        struct handoff_counters d = r->after.modes[i];
        for (int j = 0; j < r->before.count; j++) {
            const struct handoff_counters *b = &r->before.modes[j];
            if (strcmp(b->name, d.name) != 0)
                continue;
            d.handoffs -= b->handoffs;
            d.bytes -= b->bytes;
            d.records -= b->records;
            d.drops -= b->drops;
            d.drop_bytes -= b->drop_bytes;
            d.backpressure_waits -= b->backpressure_waits;
        }
        c->delta[c->count++] = d;
    }
    c->heavy_records = r->stats.heavy_records + r->side.slow_heavy_records;
    c->heavy_bytes = r->stats.heavy_bytes + r->side.slow_heavy_bytes;
    /* The first INFO's own reply went out after its counters were read. */
    c->light_records = r->stats.light_replies + 1;
    c->light_bytes = r->stats.light_bytes + r->before.wire_bytes;
    for (int i = 0; i < c->count; i++) {
        const struct handoff_counters *d = &c->delta[i];
        if (strcmp(d->name, XTIO_SCHEMA_MODE_INLINE_LABEL) == 0) {
            c->server_light_records += d->records;
            c->server_light_bytes += d->bytes;
        }
        if (strcmp(d->name, c->mode) == 0) {
            c->server_heavy_records += d->records;
            c->server_heavy_bytes += d->bytes;
        }
    }
    if (strcmp(c->mode, XTIO_SCHEMA_MODE_INLINE_LABEL) == 0) {
        /* Heavy and light replies share the inline counters; compare the sums. */
        c->heavy_records += c->light_records;
        c->heavy_bytes += c->light_bytes;
        c->light_records = c->server_light_records;
        c->light_bytes = c->server_light_bytes;
    }
    c->records_match =
        c->server_heavy_records == c->heavy_records && c->server_light_records == c->light_records;
    c->bytes_match =
        c->server_heavy_bytes == c->heavy_bytes && c->server_light_bytes == c->light_bytes;
}

/* p50, p90, p99 and p99.9, in permille. */
static const unsigned percentiles[] = {500, 900, 990, 999};

/* Percentile i of h in microseconds (docs/analysis.md, "Percentiles", says how it is read). */
static double percentile_us(const struct xtio_hist *h, int i)
{
    return (double)xtio_hist_percentile(h, percentiles[i]) / 1e3;
}

static void print_latency_row(const char *name, const struct xtio_hist *h)
{
    if (!h->count)
        return;
    printf("  %-8s %10" PRIu64 " %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f\n", name, h->count,
           percentile_us(h, 0), percentile_us(h, 1), percentile_us(h, 2), percentile_us(h, 3),
           (double)h->max / 1e3, xtio_hist_mean(h) / 1e3);
}

static void report_text(const struct result *r, const struct xtio_hist *all,
                        const struct comparison *cmp)
{
    const struct xtio_load_config *cfg = r->cfg;
    const struct xtio_load_stats *st = &r->stats;
    char mix[128];
    xtio_load_format_mix(cfg->mix, mix, sizeof(mix));
    printf("xtio-load %s:%d: %u connections on %u thread%s, pipeline %u, mix %s, seed %" PRIu64
           "\n",
           cfg->host, cfg->port, cfg->connections, cfg->threads, cfg->threads == 1 ? "" : "s",
           cfg->pipeline, mix, cfg->seed);
    if (cfg->keys) {
        printf("keys: %zu \"%s:<n>\", values %s", cfg->keys, cfg->prefix,
               cfg->value_size ? "" : "\"value:<n>\"");
        if (cfg->value_size)
            printf("of %zu bytes", cfg->value_size);
        if (cfg->populate)
            printf(", populated in %.3f s", r->populate_seconds);
        if (cfg->mix[XTIO_LOAD_RANGE]) {
            printf("; RANGE spans %zu keys", cfg->range_width);
            if (cfg->range_limit)
                printf(" with LIMIT %zu", cfg->range_limit);
        }
        printf("\n");
    }
    uint64_t replies = total_replies(st);
    printf("requests:   %" PRIu64 " in %.3f s = %.0f requests/s\n", replies, r->elapsed,
           per_second(replies, r->elapsed));
    printf("records:    %" PRIu64 " RANGE pairs = %.0f records/s\n", st->records,
           per_second(st->records, r->elapsed));
    printf("replies:    %" PRIu64 " bytes = %.1f MB/s\n", st->reply_bytes,
           per_second(st->reply_bytes, r->elapsed) / 1e6);
    printf("latency us     count       p50       p90       p99     p99.9       max      mean\n");
    print_latency_row("all", all);
    for (int k = 0; k < XTIO_LOAD_KINDS; k++)
        print_latency_row(xtio_load_kind_names[k], &st->latency[k]);
    const struct xtio_load_side *sd = &r->side;
    if (cfg->storm)
        printf("storm:      %" PRIu64 " connections cut (%" PRIu64 " right after sending, %" PRIu64
               " mid-reply, %" PRIu64 " after a whole reply); %" PRIu64 " bytes, %" PRIu64
               " pairs verified\n",
               sd->storm_conns, sd->storm_cut_after_send, sd->storm_cut_mid_reply,
               sd->storm_completed, sd->storm_bytes, sd->storm_pairs);
    if (cfg->slow_reader)
        printf("slow reader: %" PRIu64 " replies of %zu pairs verified, %" PRIu64
               " abandoned; %" PRIu64 " bytes in %" PRIu64 " reads over %.2f s\n",
               sd->slow_replies, sd->slow_width, sd->slow_abandoned, sd->slow_bytes, sd->slow_reads,
               sd->slow_elapsed);
    if (cmp->present) {
        printf("handoff counters over the run (server mode %s):\n", cmp->mode);
        printf("  %-8s %10s %12s %14s %8s %12s %10s\n", "mode", "handoffs", "records", "bytes",
               "drops", "drop_bytes", "bp_waits");
        for (int i = 0; i < cmp->count; i++) {
            const struct handoff_counters *d = &cmp->delta[i];
            printf("  %-8s %10" PRIu64 " %12" PRIu64 " %14" PRIu64 " %8" PRIu64 " %12" PRIu64
                   " %10" PRIu64 "\n",
                   d->name, d->handoffs, d->records, d->bytes, d->drops, d->drop_bytes,
                   d->backpressure_waits);
        }
        const char *verdict = cmp->records_match && cmp->bytes_match ? "equal" : "DIFFERENT";
        printf("  heavy (handoff_%s): server %" PRIu64 " records, %" PRIu64
               " bytes; client %" PRIu64 " records, %" PRIu64 " bytes\n",
               cmp->mode, cmp->server_heavy_records, cmp->server_heavy_bytes, cmp->heavy_records,
               cmp->heavy_bytes);
        if (strcmp(cmp->mode, XTIO_SCHEMA_MODE_INLINE_LABEL) != 0)
            printf("  light (handoff_inline): server %" PRIu64 " records, %" PRIu64
                   " bytes; client %" PRIu64 " records, %" PRIu64 " bytes\n",
                   cmp->server_light_records, cmp->server_light_bytes, cmp->light_records,
                   cmp->light_bytes);
        printf("  %s%s\n", verdict,
               cmp->exact ? ""
                          : " (inexact: the storm's cut replies are counted by the server only)");
    }
    printf("verified:   %" PRIu64 " replies, %" PRIu64 " mismatches, %" PRIu64
           " connection errors\n",
           replies, (uint64_t)atomic_load(&xtio_load_mismatches.count),
           (uint64_t)atomic_load(&xtio_load_errors.count));
}

static json_t *hist_json(const struct xtio_hist *h)
{
    return json_pack("{s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "count", (json_int_t)h->count,
                     "p50", percentile_us(h, 0), "p90", percentile_us(h, 1), "p99",
                     percentile_us(h, 2), "p99_9", percentile_us(h, 3), "max",
                     (double)(h->count ? h->max : 0) / 1e3, "mean", xtio_hist_mean(h) / 1e3, "min",
                     (double)(h->count ? h->min : 0) / 1e3);
}

static void report_json(const struct result *r, const struct xtio_hist *all,
                        const struct comparison *cmp, bool ok)
{
    const struct xtio_load_config *cfg = r->cfg;
    const struct xtio_load_stats *st = &r->stats;
    char mix[128];
    xtio_load_format_mix(cfg->mix, mix, sizeof(mix));
    json_t *config = json_pack(
        "{s:s, s:i, s:i, s:i, s:i, s:I, s:f, s:s, s:I, s:I, s:I, s:I, s:I, s:s, s:I, s:b, s:b}",
        "host", cfg->host, "port", cfg->port, "connections", (int)cfg->connections, "pipeline",
        (int)cfg->pipeline, "threads", (int)cfg->threads, "requests", (json_int_t)cfg->requests,
        "duration", cfg->duration, "mix", mix, "range_width", (json_int_t)cfg->range_width,
        "range_limit", (json_int_t)cfg->range_limit, "keys", (json_int_t)cfg->keys, "populate",
        (json_int_t)cfg->populate, "value_size", (json_int_t)cfg->value_size, "key_prefix",
        cfg->prefix, "seed", (json_int_t)cfg->seed, "slow_reader", cfg->slow_reader, "expect_info",
        cfg->expect_info);
    json_object_set_new(config, "disconnect_storm", json_integer(cfg->storm));

    json_t *latency = json_object();
    json_object_set_new(latency, "all", hist_json(all));
    json_t *by_kind = json_object();
    for (int k = 0; k < XTIO_LOAD_KINDS; k++) {
        if (!st->replies[k])
            continue;
        json_object_set_new(latency, xtio_load_kind_names[k], hist_json(&st->latency[k]));
        json_object_set_new(by_kind, xtio_load_kind_names[k],
                            json_integer((json_int_t)st->replies[k]));
    }
    uint64_t replies = total_replies(st);
    json_t *root = json_pack(
        "{s:b, s:o, s:f, s:f, s:I, s:f, s:I, s:f, s:I, s:f, s:I, s:o, s:o, s:o, s:o}", "ok", ok,
        "config", config, "populate_seconds", r->populate_seconds, "elapsed_seconds", r->elapsed,
        "requests", (json_int_t)replies, "requests_per_second", per_second(replies, r->elapsed),
        "records", (json_int_t)st->records, "records_per_second",
        per_second(st->records, r->elapsed), "reply_bytes", (json_int_t)st->reply_bytes,
        "mb_per_second", per_second(st->reply_bytes, r->elapsed) / 1e6, "keys_listed",
        (json_int_t)st->keys_listed, "by_kind", by_kind, "latency_us", latency, "mismatches",
        log_json(&xtio_load_mismatches), "errors", log_json(&xtio_load_errors));
    const struct xtio_load_side *sd = &r->side;
    if (cfg->storm)
        json_object_set_new(
            root, "storm",
            json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "connections", (json_int_t)sd->storm_conns,
                      "cut_after_send", (json_int_t)sd->storm_cut_after_send, "cut_mid_reply",
                      (json_int_t)sd->storm_cut_mid_reply, "completed",
                      (json_int_t)sd->storm_completed, "bytes", (json_int_t)sd->storm_bytes,
                      "pairs_verified", (json_int_t)sd->storm_pairs));
    if (cfg->slow_reader)
        json_object_set_new(
            root, "slow_reader",
            json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:f}", "replies",
                      (json_int_t)sd->slow_replies, "abandoned", (json_int_t)sd->slow_abandoned,
                      "width", (json_int_t)sd->slow_width, "pairs", (json_int_t)sd->slow_pairs,
                      "bytes", (json_int_t)sd->slow_bytes, "reads", (json_int_t)sd->slow_reads,
                      "seconds", sd->slow_elapsed));
    if (cmp->present) {
        json_t *server = json_object();
        for (int i = 0; i < cmp->count; i++) {
            const struct handoff_counters *d = &cmp->delta[i];
            json_object_set_new(
                server, d->name,
                json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "handoffs", (json_int_t)d->handoffs,
                          "records", (json_int_t)d->records, "bytes", (json_int_t)d->bytes, "drops",
                          (json_int_t)d->drops, "drop_bytes", (json_int_t)d->drop_bytes,
                          "backpressure_waits", (json_int_t)d->backpressure_waits));
        }
        json_t *client =
            json_pack("{s:I, s:I, s:I, s:I}", "heavy_records", (json_int_t)cmp->heavy_records,
                      "heavy_bytes", (json_int_t)cmp->heavy_bytes, "light_records",
                      (json_int_t)cmp->light_records, "light_bytes", (json_int_t)cmp->light_bytes);
        json_object_set_new(root, "info",
                            json_pack("{s:s, s:o, s:o, s:I, s:I, s:I, s:I, s:b, s:b, s:b}", "mode",
                                      cmp->mode, "server_delta", server, "client", client,
                                      "server_heavy_records", (json_int_t)cmp->server_heavy_records,
                                      "server_heavy_bytes", (json_int_t)cmp->server_heavy_bytes,
                                      "server_light_records", (json_int_t)cmp->server_light_records,
                                      "server_light_bytes", (json_int_t)cmp->server_light_bytes,
                                      "exact", cmp->exact, "records_match", cmp->records_match,
                                      "bytes_match", cmp->bytes_match));
    }
    json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(root);
}

/* ---- Main ------------------------------------------------------------------------------------ */

static int populate(redisContext *ctl, const struct xtio_load_config *cfg, double *seconds)
{
    char count[24], size[24];
    xtio_load_digits(cfg->populate, count);
    xtio_load_digits(cfg->value_size, size);
    const char *argv[] = {"DEBUG", "POPULATE", count, cfg->prefix, size};
    /* Populating is linear in the count: allow it more than --timeout on big sets. */
    redisSetTimeout(ctl, seconds_tv(cfg->timeout + (double)cfg->populate / 50000.0));
    uint64_t start = xtio_load_now_ns();
    bool ok = control_status(ctl, "DEBUG POPULATE", 5, argv, "OK");
    *seconds = (double)(xtio_load_now_ns() - start) / 1e9;
    redisSetTimeout(ctl, seconds_tv(cfg->timeout));
    return ok ? 0 : -1;
}

/* The mix, with the storm and the slow reader running beside it. */
static void run_load(struct xtio_load_run *run, struct result *r)
{
    const struct xtio_load_config *cfg = run->cfg;
    pthread_t storm, slow;
    bool storm_started = false, slow_started = false;
    r->side.run = run;
    uint64_t start = xtio_load_now_ns();
    if (cfg->duration > 0)
        run->deadline_ns = start + (uint64_t)(cfg->duration * 1e9);
    if (cfg->storm) {
        storm_started = pthread_create(&storm, NULL, xtio_load_storm_main, &r->side) == 0;
        if (!storm_started)
            xtio_load_error("cannot start the storm thread");
    }
    if (cfg->slow_reader) {
        slow_started = pthread_create(&slow, NULL, xtio_load_slow_main, &r->side) == 0;
        if (!slow_started)
            xtio_load_error("cannot start the slow reader thread");
    }
    xtio_load_drive(run, &r->stats);
    r->elapsed = (double)(xtio_load_now_ns() - start) / 1e9;
    atomic_store(&run->load_done, true);
    if (storm_started)
        pthread_join(storm, NULL);
    if (slow_started)
        pthread_join(slow, NULL);
}

int main(int argc, char **argv)
{
    static struct xtio_load_config cfg;
    switch (xtio_load_parse_args(&cfg, argc, argv, stdout, stderr)) {
    case XTIO_LOAD_ARGS_EXIT:
        return 0;
    case XTIO_LOAD_ARGS_USAGE:
        return 2;
    case XTIO_LOAD_ARGS_RUN:
        break;
    }
    signal(SIGPIPE, SIG_IGN); /* a server that vanished is reported, not fatal */

    static struct xtio_load_keyset ks;
    int rc = xtio_load_keyset_init(&ks, cfg.prefix, cfg.keys, cfg.value_size);
    if (rc != 0) {
        fprintf(stderr, "xtio-load: cannot index %zu keys: %s\n", cfg.keys, strerror(-rc));
        return 1;
    }
    static struct result r;
    r.cfg = &cfg;
    static struct xtio_load_run run;
    run.cfg = &cfg;
    run.ks = &ks;
    run.pid = (long)getpid();
    for (int k = 0; k < XTIO_LOAD_KINDS; k++)
        run.mix_total += cfg.mix[k];

    redisContext *ctl = redisConnectWithTimeout(cfg.host, cfg.port, seconds_tv(cfg.timeout));
    if (!ctl || ctl->err) {
        fprintf(stderr, "xtio-load: cannot connect to %s:%d: %s\n", cfg.host, cfg.port,
                ctl ? ctl->errstr : "out of memory");
        redisFree(ctl);
        xtio_load_keyset_fini(&ks);
        return 1;
    }
    redisSetTimeout(ctl, seconds_tv(cfg.timeout));
    bool setup_ok = true;
    if (cfg.flush) {
        const char *flush[] = {"FLUSHALL"};
        setup_ok = control_status(ctl, "FLUSHALL", 1, flush, "OK");
    }
    if (setup_ok && cfg.populate)
        setup_ok = populate(ctl, &cfg, &r.populate_seconds) == 0;
    if (setup_ok && cfg.expect_info)
        fetch_info(ctl, &r.before);
    if (setup_ok) {
        run_load(&run, &r);
        if (cfg.expect_info)
            fetch_info(ctl, &r.after);
        /* A server that survived the storm still answers. */
        const char *ping[] = {"PING"};
        control_status(ctl, "PING after the run", 1, ping, "PONG");
    }
    redisFree(ctl);

    struct xtio_hist all;
    xtio_hist_init(&all, XTIO_LOAD_HIST_BITS);
    uint64_t unrecorded = r.stats.unrecorded;
    for (int k = 0; k < XTIO_LOAD_KINDS; k++)
        if (xtio_hist_merge(&all, &r.stats.latency[k]) != 0)
            unrecorded += r.stats.latency[k].count;
    struct comparison cmp;
    compare(&r, &cmp);
    bool ok = atomic_load(&xtio_load_mismatches.count) == 0 &&
              atomic_load(&xtio_load_errors.count) == 0 && unrecorded == 0;
    if (setup_ok) {
        if (cfg.json)
            report_json(&r, &all, &cmp, ok);
        else
            report_text(&r, &all, &cmp);
    }
    print_log(&xtio_load_mismatches);
    if (atomic_load(&xtio_load_mismatches.count))
        fprintf(stderr,
                "xtio-load: note: DEBUG POPULATE leaves existing keys alone, so keys left "
                "by an earlier run with another --value-size, or other keys under \"%s:\", "
                "show up as mismatches; --flush starts from an empty store\n",
                cfg.prefix);
    print_log(&xtio_load_errors);
    if (unrecorded)
        fprintf(stderr,
                "xtio-load: out of memory: %" PRIu64 " latencies could not be recorded, so the "
                "latency figures leave them out; run with more memory free\n",
                unrecorded);
    if (!ok)
        fprintf(stderr,
                "xtio-load: FAILED: %" PRIu64 " mismatches, %" PRIu64 " connection errors%s\n",
                (uint64_t)atomic_load(&xtio_load_mismatches.count),
                (uint64_t)atomic_load(&xtio_load_errors.count),
                unrecorded ? ", latencies not recorded" : "");
    xtio_hist_fini(&all);
    xtio_load_stats_fini(&r.stats);
    xtio_load_keyset_fini(&ks);
    return ok ? 0 : 1;
}
