/*
 * The JSON half of the analyzers' end-to-end tests (e2e_test.sh): reads a report of xtio-analyze
 * or sink.xtio.analyze (docs/analysis.md) and checks one expectation, printing what differs.
 *
 * Usage:
 *   e2e_check_report counts REPORT LOAD_JSON INFO_TEXT INFO_REPLY_BYTES
 *       handoffs, bytes, records and drops per mode equal the server's own counters: the INFO
 *       text read right before the server stopped, plus that INFO reply itself (one inline
 *       handoff of INFO_REPLY_BYTES). And, for the server's heavy mode, xtio-load's
 *       .info.server_delta plus the DEBUG POPULATE reply (one "+OK\r\n" handoff), made before
 *       the delta's window opened.
 *   e2e_check_report clean REPORT       exit code 0, no finding of any kind
 *   e2e_check_report off-loop REPORT    exit code 1, off-loop writes found
 *   e2e_check_report discards REPORT    discarded events reported, exit code 0: no finding, so
 *                                       nothing "lost" that a discard may explain
 *   e2e_check_report refused REPORT TEXT  exit code 2, and summary.error contains TEXT
 *   e2e_check_report same REPORT OTHER  both reports are the same document
 *   e2e_check_report preload REPORT EXPECT_FILE
 *       a preloaded program's report holds the counts of its `expect KEY N` lines
 *       (tests/preload/fixture.c): io_write classes, per thread, loop_post and loop_run per
 *       mechanism, runs without a post, posts never run; exit code 1 with one off-loop finding
 *       per off-loop write. Keys the report does not give (events, sites) are skipped.
 *   e2e_check_report memcached REPORT CLIENT_FILE
 *       a report of memcached under xtio-preload agrees with its client's `client KEY N` lines
 *       (tests/preload/memcached_client.c): the workers wrote every reply, on their loop, and
 *       nothing else; accepted connections reached them by eventfd wake-ups, with a wait; with a
 *       watcher, mc-log's writes are handovers (off-loop only for the first "OK\r\n", a race
 *       with the worker's event_del) and mc-itemcrawler's the metadumps (off-loop when one races
 *       the same way), one a handover at least; without one, no handover and no finding.
 *
 * Exit status: 0 when the expectation holds, 1 when it does not, 2 on bad usage or input.
 */
#include "check_lib.h"
#include "xtio_schema.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MODE_COUNT XTIO_SCHEMA_MODE_COUNT

/* The DEBUG POPULATE reply: one handoff of the heavy mode, before xtio-load's first INFO. */
#define POPULATE_REPLY_BYTES 5 /* "+OK\r\n" */

const char check_name[] = "e2e_check_report";

/* A number at a path of object keys; a problem (and 0) when it is missing. */
static int64_t number(const json_t *root, const char *what, const char *path)
{
    char keys[256];
    snprintf(keys, sizeof(keys), "%s", path);
    const json_t *node = root;
    for (char *save = NULL, *key = strtok_r(keys, ".", &save); key && node;
         key = strtok_r(NULL, ".", &save))
        node = json_object_get(node, key);
    if (!json_is_integer(node)) {
        problem("%s has no integer at %s", what, path);
        return 0;
    }
    return json_integer_value(node);
}

/* The one process of the report: the tests trace a single xtio-server. */
static const json_t *the_process(const json_t *report)
{
    const json_t *processes = json_object_get(report, "processes");
    if (json_array_size(processes) != 1) {
        problem("the report has %zu processes, expected exactly 1 (the traced xtio-server)",
                json_array_size(processes));
        return NULL;
    }
    return json_array_get(processes, 0);
}

static void expect_eq(const char *what, int64_t got, int64_t want)
{
    if (got != want)
        problem("%s: the report says %" PRId64 ", expected %" PRId64, what, got, want);
}

/* ---- counts ---------------------------------------------------------------------------------- */

struct counters {
    int64_t handoffs, bytes, records, drops, drop_bytes;
};

/* The handoff_<mode> lines of INFO: "handoff_async:handoffs=1,bytes=5,records=1,drops=0,...". */
static int read_info(const char *path, struct counters info[MODE_COUNT])
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return -1;
    }
    char line[512];
    int seen = 0;
    while (fgets(line, sizeof(line), f)) {
        for (int m = 0; m < MODE_COUNT; m++) {
            char prefix[32];
            int n = snprintf(prefix, sizeof(prefix), "handoff_%s:", xtio_schema_mode_label(m));
            struct counters *c = &info[m];
            if (strncmp(line, prefix, (size_t)n) == 0 &&
                sscanf(line + n,
                       "handoffs=%" SCNd64 ",bytes=%" SCNd64 ",records=%" SCNd64 ",drops=%" SCNd64
                       ",drop_bytes=%" SCNd64,
                       &c->handoffs, &c->bytes, &c->records, &c->drops, &c->drop_bytes) == 5)
                seen |= 1 << m;
        }
    }
    fclose(f);
    if (seen != (1 << MODE_COUNT) - 1) {
        fprintf(stderr, "e2e_check_report: %s lacks some handoff_<mode> lines of INFO\n", path);
        return -1;
    }
    return 0;
}

static void check_counts(const json_t *report, const char *load_path, const char *info_path,
                         int64_t info_reply_bytes)
{
    struct counters info[MODE_COUNT] = {{0}};
    if (read_info(info_path, info))
        exit(2);
    if (number(report, "the report", "discards.events") != 0)
        problem("LTTng discarded events, so the counts cannot match: enlarge the capture's "
                "sub-buffers");
    const json_t *process = the_process(report);
    if (!process)
        return;
    for (int m = 0; m < MODE_COUNT; m++) {
        /* The last INFO's own reply went out after its counters were read. */
        int64_t extra = m == 0 ? 1 : 0;
        char path[64], what[96];
        struct {
            const char *key, *info_name;
            int64_t want;
        } fields[] = {
            {"handoffs", "handoffs", info[m].handoffs + extra},
            {"bytes", "bytes", info[m].bytes + (m == 0 ? info_reply_bytes : 0)},
            {"records", "records", info[m].records + extra},
            {"dropped", "drops", info[m].drops},
            {"dropped_bytes", "drop_bytes", info[m].drop_bytes},
        };
        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
            snprintf(path, sizeof(path), "modes.%s.%s", xtio_schema_mode_label(m), fields[i].key);
            snprintf(what, sizeof(what), "%s %s (server INFO: %s)", xtio_schema_mode_label(m),
                     fields[i].key, fields[i].info_name);
            expect_eq(what, number(process, "the process", path), fields[i].want);
        }
    }

    json_t *load_report = load(load_path);
    const json_t *info_obj = json_object_get(load_report, "info");
    const char *heavy = json_string_value(json_object_get(info_obj, "mode"));
    if (!heavy) {
        problem("%s has no .info.mode: was xtio-load run with --expect-info?", load_path);
    } else if (strcmp(heavy, "inline") != 0) {
        /* Inline: INFO and PING replies share the mode; the INFO check above covers it. */
        static const char *const keys[] = {"handoffs", "bytes", "records"};
        for (size_t i = 0; i < 3; i++) {
            char path[64], what[128];
            snprintf(path, sizeof(path), "info.server_delta.%s.%s", heavy, keys[i]);
            int64_t delta = number(load_report, load_path, path);
            snprintf(path, sizeof(path), "modes.%s.%s", heavy, keys[i]);
            snprintf(what, sizeof(what), "%s %s (xtio-load's server_delta plus DEBUG POPULATE)",
                     heavy, keys[i]);
            expect_eq(what, number(process, "the process", path),
                      delta + (strcmp(keys[i], "bytes") == 0 ? POPULATE_REPLY_BYTES : 1));
        }
    }
    json_decref(load_report);
}

/* ---- findings -------------------------------------------------------------------------------- */

static int64_t finding(const json_t *process, const char *kind)
{
    const json_t *f = json_object_get(json_object_get(process, "findings"), kind);
    return f ? json_integer_value(json_object_get(f, "count")) : 0;
}

static void check_clean(const json_t *report)
{
    expect_eq("summary.exit_code", number(report, "the report", "summary.exit_code"), 0);
    expect_eq("summary.findings_total", number(report, "the report", "summary.findings_total"), 0);
    const json_t *process = the_process(report);
    if (!process)
        return;
    const char *kind;
    const json_t *value;
    json_object_foreach((json_t *)json_object_get(process, "findings"), kind, value)
    {
        char what[96];
        snprintf(what, sizeof(what), "findings.%s.count", kind);
        expect_eq(what, json_integer_value(json_object_get(value, "count")), 0);
    }
}

static void check_off_loop(const json_t *report)
{
    expect_eq("summary.exit_code", number(report, "the report", "summary.exit_code"), 1);
    const json_t *process = the_process(report);
    if (process && finding(process, "off_loop_write") <= 0)
        problem("no off_loop_write finding in a trace of the direct mode");
}

static void check_discards(const json_t *report)
{
    if (number(report, "the report", "discards.events") <= 0)
        problem("no discarded events reported, yet the capture used tiny sub-buffers: is the "
                "discard test still overflowing them?");
    /* Discards are per CPU buffer: a handoff whose end may be among them is unknown, not lost. */
    check_clean(report);
}

static void check_refused(const json_t *report, const char *text)
{
    expect_eq("summary.exit_code", number(report, "the report", "summary.exit_code"), 2);
    const char *error =
        json_string_value(json_object_get(json_object_get(report, "summary"), "error"));
    if (!error || !strstr(error, text))
        problem("summary.error is \"%s\", expected it to contain \"%s\"", error ? error : "(null)",
                text);
}

/* ---- preload --------------------------------------------------------------------------------- */

/* The process of the report that has io_writes: the preloaded program. */
static const json_t *preloaded_process(const json_t *report)
{
    const json_t *found = NULL, *process;
    size_t i;
    json_array_foreach(json_object_get(report, "processes"), i, process)
    {
        if (json_object_get(process, "io_writes")) {
            if (found)
                problem("more than one process has io_writes");
            found = process;
        }
    }
    if (!found)
        problem("no process of the report has io_writes");
    return found;
}

static int64_t thread_writes(const json_t *io, const char *name)
{
    const json_t *thread;
    size_t i;
    json_array_foreach(json_object_get(io, "per_thread"), i, thread)
    {
        const char *thread_name = json_string_value(json_object_get(thread, "name"));
        if (thread_name && strcmp(thread_name, name) == 0)
            return json_integer_value(json_object_get(thread, "writes"));
    }
    return 0;
}

static const char *const mechs[] = {"loop_post",       "loop_call", "event_active",
                                    "event_base_once", "eventfd",   "pipe"};
#define MECH_COUNT (sizeof(mechs) / sizeof(mechs[0]))

/* The report's figure for one `expect` key; false for a key the report does not give. */
static bool preload_figure(const json_t *process, const char *key, int64_t *got)
{
    const json_t *io = json_object_get(process, "io_writes");
    char path[128], name[64];
    static const char *const classes[] = {"on_loop", "off_loop", "handover", "before_loop"};
    if (strcmp(key, "io_write") == 0 || strcmp(key, "io_write.bytes") == 0) {
        *got = number(io, "io_writes", key[8] ? "bytes" : "writes");
        return true;
    }
    for (size_t c = 0; c < sizeof(classes) / sizeof(classes[0]); c++) {
        snprintf(path, sizeof(path), "io_write.%s", classes[c]);
        if (strcmp(key, path) == 0) {
            snprintf(path, sizeof(path), "%s.writes", classes[c]);
            *got = number(io, "io_writes", path);
            return true;
        }
    }
    if (sscanf(key, "io_write.by.%63s", name) == 1) {
        *got = thread_writes(io, name);
        return true;
    }
    const json_t *posts = json_object_get(process, "loop_posts");
    int64_t sum = 0;
    if (strcmp(key, "loop_run.without_post") == 0 || strcmp(key, "loop_post.unrun") == 0) {
        const char *field = key[5] == 'r' ? "runs_without_post" : "pending_at_end";
        for (size_t m = 0; m < MECH_COUNT; m++) {
            snprintf(path, sizeof(path), "%s.%s", mechs[m], field);
            sum += number(posts, "loop_posts", path);
        }
        *got = sum;
        return true;
    }
    for (size_t m = 0; m < MECH_COUNT; m++) {
        for (int run = 0; run < 2; run++) {
            snprintf(path, sizeof(path), "%s.%s", run ? "loop_run" : "loop_post", mechs[m]);
            if (strcmp(key, path) == 0) {
                snprintf(path, sizeof(path), "%s.%s", mechs[m], run ? "runs" : "posts");
                *got = number(posts, "loop_posts", path);
                return true;
            }
        }
    }
    return false;
}

static void check_preload(const json_t *report, const char *expect_path)
{
    const json_t *process = preloaded_process(report);
    FILE *f = fopen(expect_path, "r");
    if (!f) {
        perror(expect_path);
        exit(2);
    }
    char line[256], key[128];
    int64_t want, got, off_loop = -1;
    unsigned checked = 0;
    while (process && fgets(line, sizeof(line), f)) {
        if (sscanf(line, "expect %127s %" SCNd64, key, &want) != 2)
            continue;
        if (!preload_figure(process, key, &got))
            continue;
        expect_eq(key, got, want);
        checked++;
        if (strcmp(key, "io_write.off_loop") == 0)
            off_loop = want;
    }
    fclose(f);
    if (checked == 0)
        problem("%s has no expect line that the report gives", expect_path);
    if (off_loop > 0) {
        expect_eq("summary.exit_code", number(report, "the report", "summary.exit_code"), 1);
        expect_eq("findings.off_loop_write.count",
                  number(process, "the process", "findings.off_loop_write.count"), off_loop);
    }
}

/* ---- memcached ------------------------------------------------------------------------------ */

/* The client's figure for KEY, -1 when it printed none. */
static int64_t client_figure(const char *path, const char *key)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        exit(2);
    }
    char line[256], name[128];
    int64_t value, found = -1;
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "client %127s %" SCNd64, name, &value) == 2 && strcmp(name, key) == 0)
            found = value;
    }
    fclose(f);
    return found;
}

static int64_t class_figure(const json_t *counts, const char *class, const char *figure)
{
    return json_integer_value(json_object_get(json_object_get(counts, class), figure));
}

/* Whether the report lists a handover of a connection of an mc-worker to thread `writer`. */
static bool has_handover(const json_t *io, const char *writer)
{
    const json_t *h;
    size_t i;
    json_array_foreach(json_object_get(io, "handovers"), i, h)
    {
        const char *by = json_string_value(json_object_get(h, "writer_name"));
        const char *owner = json_string_value(json_object_get(h, "owner_name"));
        if (by && owner && strcmp(by, writer) == 0 && strcmp(owner, "mc-worker") == 0)
            return true;
    }
    return false;
}

static void check_memcached(const json_t *report, const char *client_path)
{
    const json_t *process = preloaded_process(report);
    if (!process)
        return;
    int64_t conns = client_figure(client_path, "connections");
    int64_t replies = client_figure(client_path, "replies");
    int64_t reply_bytes = client_figure(client_path, "reply_bytes");
    int64_t watchers = client_figure(client_path, "watchers");
    if (conns < 1 || replies < 1 || reply_bytes < 1) {
        fprintf(stderr,
                "e2e_check_report: %s lacks the client's connections, replies or "
                "reply_bytes\n",
                client_path);
        exit(2);
    }
    const json_t *io = json_object_get(process, "io_writes");

    /* Every writer by name: the workers on their loop only; mc-log and mc-itemcrawler only with a
     * watcher, and never anything but their handovers (and mc-log's one racing "OK"). */
    int64_t worker_writes = 0, worker_bytes = 0, log_off = 0, log_off_bytes = 0, log_bytes = 0;
    int64_t crawler_writes = 0, crawler_bytes = 0, crawler_off = 0;
    const json_t *thread;
    size_t i;
    json_array_foreach(json_object_get(io, "per_thread"), i, thread)
    {
        const char *name = json_string_value(json_object_get(thread, "name"));
        int64_t tid = json_integer_value(json_object_get(thread, "tid"));
        name = name ? name : "";
        if (class_figure(thread, "before_loop", "writes"))
            problem("thread %" PRId64 " (%s) wrote before its loop started", tid, name);
        if (strcmp(name, "mc-worker") == 0) {
            worker_writes += class_figure(thread, "on_loop", "writes");
            worker_bytes += class_figure(thread, "on_loop", "bytes");
            if (class_figure(thread, "off_loop", "writes") ||
                class_figure(thread, "handover", "writes"))
                problem("worker %" PRId64 " wrote a connection of another loop", tid);
        } else if (watchers > 0 && strcmp(name, "mc-log") == 0) {
            log_off += class_figure(thread, "off_loop", "writes");
            log_off_bytes += class_figure(thread, "off_loop", "bytes");
            log_bytes += json_integer_value(json_object_get(thread, "bytes"));
            if (class_figure(thread, "on_loop", "writes"))
                problem("mc-log %" PRId64 " wrote on a loop of its own", tid);
        } else if (watchers > 0 && strcmp(name, "mc-itemcrawler") == 0) {
            crawler_writes += class_figure(thread, "handover", "writes");
            crawler_off += class_figure(thread, "off_loop", "writes");
            crawler_bytes += json_integer_value(json_object_get(thread, "bytes"));
            if (class_figure(thread, "on_loop", "writes"))
                problem("mc-itemcrawler %" PRId64 " wrote on a loop of its own", tid);
        } else {
            problem("thread %" PRId64 " (\"%s\") wrote a connection: %" PRId64 " writes", tid, name,
                    (int64_t)json_integer_value(json_object_get(thread, "writes")));
        }
    }
    expect_eq("mc-worker writes on their loop (one per reply)", worker_writes, replies);
    expect_eq("mc-worker bytes on their loop (the client's reply bytes)", worker_bytes,
              reply_bytes);
    int64_t off_loop = number(io, "io_writes", "off_loop.writes");
    expect_eq("summary.exit_code", number(report, "the report", "summary.exit_code"), off_loop > 0);
    expect_eq("findings.off_loop_write.count",
              number(process, "the process", "findings.off_loop_write.count"), off_loop);
    if (watchers > 0) {
        /* The races: the logger may write the queued "OK\r\n", and the crawler a metadump,
         * before the worker's event_del. */
        expect_eq("off-loop writes not by mc-log or mc-itemcrawler",
                  off_loop - log_off - crawler_off, 0);
        if (crawler_off > client_figure(client_path, "metadumps"))
            problem("mc-itemcrawler made %" PRId64 " off-loop writes, more than one per metadump",
                    crawler_off);
        if (log_off > watchers)
            problem("mc-log made %" PRId64 " off-loop writes, more than one per watcher (%" PRId64
                    ")",
                    log_off, watchers);
        expect_eq("mc-log off-loop bytes (\"OK\\r\\n\" per off-loop write)", log_off_bytes,
                  4 * log_off);
        if (!has_handover(io, "mc-log"))
            problem("no handover by mc-log of a worker's connection");
        int64_t watch_bytes = client_figure(client_path, "watch_bytes");
        if (log_bytes < watch_bytes)
            problem("mc-log wrote %" PRId64 " bytes, less than the watcher read (%" PRId64 ")",
                    log_bytes, watch_bytes);
        if (!has_handover(io, "mc-itemcrawler") || crawler_writes < 1)
            problem("no handover by mc-itemcrawler of a worker's connection (%" PRId64
                    " metadumps, all off-loop)",
                    crawler_off);
        expect_eq("mc-itemcrawler bytes (the metadumps the client read)", crawler_bytes,
                  client_figure(client_path, "metadump_bytes"));
    } else {
        expect_eq("summary.findings_total", number(report, "the report", "summary.findings_total"),
                  0);
        expect_eq("io_writes.off_loop.writes", off_loop, 0);
        expect_eq("io_writes.handover.writes", number(io, "io_writes", "handover.writes"), 0);
    }

    /* Accepted connections reach their worker by a write to its eventfd; nothing else posts. */
    const json_t *posts = json_object_get(process, "loop_posts");
    int64_t eventfd_posts = number(posts, "loop_posts", "eventfd.posts");
    if (eventfd_posts < conns)
        problem("eventfd posts: %" PRId64 ", fewer than the client's %" PRId64 " connections",
                eventfd_posts, conns);
    expect_eq("eventfd runs", number(posts, "loop_posts", "eventfd.runs"), eventfd_posts);
    expect_eq("eventfd posts never run", number(posts, "loop_posts", "eventfd.pending_at_end"), 0);
    expect_eq("eventfd waits", number(posts, "loop_posts", "eventfd.wait_us.count"), eventfd_posts);
    const json_t *wait = json_object_get(json_object_get(posts, "eventfd"), "wait_us");
    if (!json_is_number(json_object_get(wait, "p50")) ||
        !json_is_number(json_object_get(wait, "p99")))
        problem("the eventfd wait has no p50 or p99");
    for (size_t m = 0; m < MECH_COUNT; m++) {
        char path[64];
        snprintf(path, sizeof(path), "%s.posts", mechs[m]);
        if (strcmp(mechs[m], "eventfd") != 0)
            expect_eq(path, number(posts, "loop_posts", path), 0);
    }
    printf("memcached: replies %" PRId64 " (%" PRId64 " bytes) by mc-worker on loop; eventfd "
           "posts %" PRId64 ", wait p50 %.1f us p99 %.1f us; mc-log off-loop %" PRId64 " (%" PRId64
           " bytes), all %" PRId64 " bytes; mc-itemcrawler handovers %" PRId64 ", off-loop %" PRId64
           ", all %" PRId64 " bytes\n",
           worker_writes, worker_bytes, eventfd_posts,
           json_number_value(json_object_get(wait, "p50")),
           json_number_value(json_object_get(wait, "p99")), log_off, log_off_bytes, log_bytes,
           crawler_writes, crawler_off, crawler_bytes);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr,
                "usage: e2e_check_report counts|clean|off-loop|discards|refused|preload|memcached|"
                "same "
                "REPORT [ARGS...] (see the source)\n");
        return 2;
    }
    const char *check = argv[1];
    json_t *report = load(argv[2]);
    if (strcmp(check, "counts") == 0 && argc == 6) {
        check_counts(report, argv[3], argv[4], strtoll(argv[5], NULL, 10));
    } else if (strcmp(check, "clean") == 0 && argc == 3) {
        check_clean(report);
    } else if (strcmp(check, "off-loop") == 0 && argc == 3) {
        check_off_loop(report);
    } else if (strcmp(check, "discards") == 0 && argc == 3) {
        check_discards(report);
    } else if (strcmp(check, "refused") == 0 && argc == 4) {
        check_refused(report, argv[3]);
    } else if (strcmp(check, "preload") == 0 && argc == 4) {
        check_preload(report, argv[3]);
    } else if (strcmp(check, "memcached") == 0 && argc == 4) {
        check_memcached(report, argv[3]);
    } else if (strcmp(check, "same") == 0 && argc == 4) {
        json_t *other = load(argv[3]);
        if (!json_equal(report, other))
            problem("%s and %s differ: the plugin and xtio-analyze must report the same", argv[2],
                    argv[3]);
        json_decref(other);
    } else {
        fprintf(stderr, "e2e_check_report: bad arguments for '%s' (see the source)\n", check);
        json_decref(report);
        return 2;
    }
    json_decref(report);
    if (problems)
        fprintf(stderr, "e2e_check_report: %s: %d problem(s) in %s\n", check, problems, argv[2]);
    return problems ? 1 : 0;
}
