/*
 * xtio-analyze: the command-line front end of the analysis. It owns option parsing, trace
 * discovery (as the babeltrace2 CLI does it), building and running the babeltrace2 graph
 * (sources -> filter.utils.muxer -> the `analyze` sink of analyzers/bt2/, created in-process) and
 * turning the outcome into an exit status: 0 clean, 1 findings, 2 bad input or usage.
 */
#include <babeltrace2/babeltrace.h>

#include <dirent.h>
#include <jansson.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "export.h"
#include "sink.h"
#include "xtio_formats.h"
#include "xtio_parse.h"

#ifndef XTIO_VERSION
#define XTIO_VERSION "unknown"
#endif

#define EXIT_USAGE 2

/* Directories below an input searched for traces; deeper ones are not looked at (and symlink
 * cycles end here). An lttng session output puts its traces 4 levels down. */
#define MAX_DEPTH       16
/* Lines of babeltrace2's error causes shown for a failed run, and their longest length. */
#define MAX_CAUSE_LINES 5
#define MAX_CAUSE_CHARS 240

/* A packetized CTF metadata file: packets of a 37-byte header (magic, uuid, checksum, then the
 * content and packet sizes in bits at offsets 24 and 28) and TSDL text. */
#define TSDL_MAGIC       0x75d11d57u
#define TSDL_HEADER_SIZE 37

static const char usage_text[] =
    "Usage: xtio-analyze [OPTION]... TRACE...\n"
    "Analyse the xtio handoffs of LTTng traces: handoff latency by mode, and findings\n"
    "(off-loop writes, ordering breaks, writes after close, lost handoffs, drops).\n"
    "\n"
    "TRACE is any of:\n"
    "  an lttng session output directory, or any directory above CTF traces: it is searched\n"
    "    recursively, and the traces found are read together, in timestamp order\n"
    "  a CTF trace directory (the one holding `metadata`, e.g. OUT/ust/uid/0/64-bit)\n"
    "  net://HOST/host/HOSTNAME/SESSION: a live session served by lttng-relayd; the analysis\n"
    "    ends when the session is destroyed, or at SIGINT with the report of what was read\n"
    "Several TRACEs are analysed as one.\n"
    "\n"
    "The trace needs the `xtio:*` events and the vtid context:\n"
    "  lttng enable-event -u 'xtio:*'\n"
    "  lttng add-context -u -t vtid -t vpid\n"
    "\n"
    "Options:\n"
    "  -f, --format FORMAT   report format (docs/analysis.md describes each):\n"
    "                          text      the tables of the report (default)\n"
    "                          json      the same as one JSON document, for scripts and CI\n"
    "                          html      one self-contained page with plots (CDFs, latency\n"
    "                                    and throughput over time), for a browser\n"
    "                          perfetto  a timeline of the handoffs with flow arrows, in the\n"
    "                                    Chrome JSON trace format (ui.perfetto.dev)\n"
    "                          csv       one row per handoff, streamed as the trace is read\n"
    "  -o, --output FILE     write the report to FILE instead of standard output\n"
    "      --strict          handoffs dropped at close (handoff_drop) are findings too,\n"
    "                        not only counted\n"
    "      --by-connection   add per-connection latency tables\n"
    "      --by-thread       add per loop thread and per producing thread tables\n"
    "      --rows handoffs   csv: what a row is; handoffs, one row per handoff, is the only\n"
    "                        kind so far (and the default)\n"
    "      --begin SECONDS   perfetto: leave out what ends before SECONDS from the first\n"
    "                        xtio event (default 0)\n"
    "      --end SECONDS     perfetto: leave out what starts after SECONDS from the first\n"
    "                        xtio event (default: the end of the trace)\n"
    "      --limit N         perfetto: at most N handoffs, the earliest (default 100000), so\n"
    "                        that a browser can open the file; it says what was left out\n"
    "      --window MS       html: the window of the plots over time, in ms (default 100)\n"
    "      --reference FILE  embed FILE, the timings of xtio-reference taken in the same run,\n"
    "                        as the JSON report's `reference` (needs --format json and\n"
    "                        --output): what xtio-compare divides latencies by\n"
    "  -q, --quiet           show no progress; it is shown on stderr while the trace is\n"
    "                        read, only when stderr is a terminal\n"
    "  -v, --verbose         let babeltrace2's components log their warnings on stderr\n"
    "  -h, --help            print this help and exit\n"
    "  -V, --version         print the version and exit\n"
    "\n"
    "Exit status:\n"
    "  0  the trace was analysed and nothing was found\n"
    "  1  the trace was analysed and the report has findings\n"
    "  2  bad usage, or the input cannot be analysed: no trace found, a trace babeltrace2\n"
    "     cannot read (truncated, corrupt), no vtid context, no xtio events, an unknown\n"
    "     xtio schema version\n"
    "Gate CI on this command. The babeltrace2 plugin (babeltrace2 --plugin-path=DIR\n"
    "-c sink.xtio.analyze TRACE) prints the same report but cannot exit 1 on findings.\n";

struct options {
    const char *format;
    const char *output;
    const char *reference;
    const char *rows;   /* csv */
    double begin, end;  /* perfetto, seconds; end 0: to the end */
    uint64_t limit;     /* perfetto; 0: the default */
    uint64_t window_ms; /* html; 0: the default */
    bool strict, by_connection, by_thread;
    bool quiet; /* no progress on stderr */
    /* Of the babeltrace2 components: their failures reach the user as error causes anyway. */
    bt_logging_level log_level;
};

/* ---- Messages -------------------------------------------------------------------------------- */

static void complain(const char *fmt, ...)
{
    va_list ap;
    fputs("xtio-analyze: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* One line of a cause, cut to `size` - 1 characters: whitespace runs (causes can span lines)
 * become single spaces. */
static void cause_line(const bt_error_cause *cause, char *buf, size_t size)
{
    const char *module = bt_error_cause_get_module_name(cause);
    const char *p = bt_error_cause_get_message(cause);
    int len = snprintf(buf, size, "%s: ", module ? module : "babeltrace2");
    size_t n = len < 0 ? 0 : (size_t)len < size ? (size_t)len : size - 1;
    bool space = false;
    for (; p && *p && n + 1 < size; p++) {
        bool ws = *p == ' ' || *p == '\n' || *p == '\t' || *p == '\r';
        if (!(ws && space))
            buf[n++] = ws ? ' ' : *p;
        space = ws;
    }
    buf[n] = '\0';
    if (p && *p && n >= 3)
        memcpy(buf + n - 3, "...", 3);
}

/* Prints the current thread's babeltrace2 error, most specific cause first (causes are appended
 * on the way up, so index 0 is the root), deduplicated and cut to a few lines, and clears it. */
static void print_bt_error(const char *what)
{
    complain("%s", what);
    const bt_error *error = bt_current_thread_take_error();
    if (!error)
        return;
    uint64_t count = bt_error_get_cause_count(error);
    char lines[MAX_CAUSE_LINES][MAX_CAUSE_CHARS + 1];
    unsigned shown = 0;
    uint64_t hidden = 0;
    for (uint64_t i = 0; i < count; i++) {
        char line[MAX_CAUSE_CHARS + 1];
        cause_line(bt_error_borrow_cause_by_index(error, i), line, sizeof(line));
        bool seen = false;
        for (unsigned j = 0; j < shown && !seen; j++)
            seen = strcmp(lines[j], line) == 0;
        if (seen)
            continue;
        if (shown == MAX_CAUSE_LINES) {
            hidden++;
            continue;
        }
        memcpy(lines[shown++], line, sizeof(line));
        fprintf(stderr, "  %s\n", line);
    }
    if (hidden)
        fprintf(stderr, "  (%llu more; run with --verbose, or `babeltrace2 TRACE`, for details)\n",
                (unsigned long long)hidden);
    bt_error_release(error);
}

/* ---- Trace discovery ------------------------------------------------------------------------- */

/* The traces of one source.ctf.fs component: those babeltrace2 puts in the same group (the same
 * trace UUID), which it reads as one trace. */
struct group {
    char *key;          /* owned; NULL: a group of its own */
    bt_value *inputs;   /* owned array of directory paths */
    const char *origin; /* weak (argv): the TRACE argument the first input was found under */
};

struct discovery {
    const bt_component_class *fs; /* weak */
    struct group *groups;         /* owned */
    size_t count, capacity;
    char **seen; /* owned: real paths of the traces found, to skip repeats */
    size_t seen_count, seen_capacity;
    bool failed; /* out of memory or a babeltrace2 failure, already reported */
};

static bool grow(void **array, size_t *capacity, size_t count, size_t item)
{
    if (count < *capacity)
        return true;
    size_t cap = *capacity ? 2 * *capacity : 8;
    void *grown = realloc(*array, cap * item);
    if (!grown)
        return false;
    *array = grown;
    *capacity = cap;
    return true;
}

/* Asks source.ctf.fs whether `dir` is a trace, the way the babeltrace2 CLI does: weight > 0 is
 * yes, and `group` says which traces belong together. */
static bool query_support(struct discovery *d, const char *dir, char *group, size_t group_size)
{
    bt_value *params = bt_value_map_create();
    bt_query_executor *query = NULL;
    const bt_value *result = NULL;
    bool supported = false;

    group[0] = '\0';
    if (!params || bt_value_map_insert_string_entry(params, "type", "directory") ||
        bt_value_map_insert_string_entry(params, "input", dir)) {
        complain("out of memory querying babeltrace2 about %s", dir);
        d->failed = true;
        goto end;
    }
    query = bt_query_executor_create(d->fs, "babeltrace.support-info", params);
    if (!query) {
        print_bt_error("cannot create a babeltrace2 query executor (out of memory?)");
        d->failed = true;
        goto end;
    }
    if (bt_query_executor_query(query, &result) != BT_QUERY_EXECUTOR_QUERY_STATUS_OK) {
        /* A directory source.ctf.fs cannot make sense of is simply not a trace. */
        bt_current_thread_clear_error();
        goto end;
    }
    const bt_value *weight = result;
    if (bt_value_is_map(result)) {
        weight = bt_value_map_borrow_entry_value_const(result, "weight");
        const bt_value *g = bt_value_map_borrow_entry_value_const(result, "group");
        if (g && bt_value_is_string(g))
            snprintf(group, group_size, "%s", bt_value_string_get(g));
    }
    if (weight && bt_value_is_real(weight))
        supported = bt_value_real_get(weight) > 0;
    else if (weight && bt_value_is_signed_integer(weight))
        supported = bt_value_integer_signed_get(weight) > 0;
    else if (weight && bt_value_is_unsigned_integer(weight))
        supported = bt_value_integer_unsigned_get(weight) > 0;
end:
    bt_value_put_ref(result);
    bt_query_executor_put_ref(query);
    bt_value_put_ref(params);
    return supported;
}

static void add_trace(struct discovery *d, const char *dir, const char *key, const char *origin)
{
    char real[PATH_MAX];
    if (!realpath(dir, real))
        snprintf(real, sizeof(real), "%s", dir);
    for (size_t i = 0; i < d->seen_count; i++) {
        if (strcmp(d->seen[i], real) == 0)
            return;
    }
    if (!grow((void **)&d->seen, &d->seen_capacity, d->seen_count, sizeof(*d->seen)) ||
        !(d->seen[d->seen_count] = strdup(real)))
        goto oom;
    d->seen_count++;

    struct group *g = NULL;
    for (size_t i = 0; key[0] && i < d->count && !g; i++) {
        if (d->groups[i].key && strcmp(d->groups[i].key, key) == 0)
            g = &d->groups[i];
    }
    if (!g) {
        if (!grow((void **)&d->groups, &d->capacity, d->count, sizeof(*d->groups)))
            goto oom;
        g = &d->groups[d->count];
        *g = (struct group){.origin = origin};
        g->inputs = bt_value_array_create();
        if (!g->inputs || (key[0] && !(g->key = strdup(key)))) {
            bt_value_put_ref(g->inputs);
            free(g->key);
            goto oom;
        }
        d->count++;
    }
    if (bt_value_array_append_string_element(g->inputs, dir) !=
        BT_VALUE_ARRAY_APPEND_ELEMENT_STATUS_OK)
        goto oom;
    return;
oom:
    complain("out of memory noting the trace %s", dir);
    d->failed = true;
}

/* babeltrace2 2.0's source.ctf.fs spins forever on a packetized metadata file whose last packet
 * is cut short (its read loop waits for bytes that never come), in the support-info query as in
 * the component. So the packets are checked against the file's size first. Returns true, with
 * `why` filled in, when `dir` holds such a file. */
static bool metadata_truncated(const char *dir, char *why, size_t why_size)
{
    char path[PATH_MAX];
    struct stat st;
    if (snprintf(path, sizeof(path), "%s/metadata", dir) >= (int)sizeof(path) ||
        stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return false;
    FILE *f = fopen(path, "rb");
    if (!f)
        return false; /* babeltrace2 says why it cannot read it */

    bool truncated = false;
    uint64_t offset = 0;
    unsigned char h[TSDL_HEADER_SIZE];
    while (!truncated && fseek(f, (long)offset, SEEK_SET) == 0 &&
           fread(h, 1, sizeof(h), f) == sizeof(h)) {
        uint32_t magic, content_bits, packet_bits;
        memcpy(&magic, h, 4);
        memcpy(&content_bits, h + 24, 4);
        memcpy(&packet_bits, h + 28, 4);
        if (magic == __builtin_bswap32(TSDL_MAGIC)) {
            content_bits = __builtin_bswap32(content_bits);
            packet_bits = __builtin_bswap32(packet_bits);
        } else if (magic != TSDL_MAGIC) {
            break; /* plain-text metadata, or damage babeltrace2 reports by itself */
        }
        if (content_bits / 8 < sizeof(h) || packet_bits < content_bits)
            break; /* babeltrace2 reports these */
        if (offset + content_bits / 8 > (uint64_t)st.st_size) {
            snprintf(why, why_size,
                     "the metadata file %s is truncated: its packet at offset %llu needs %u "
                     "bytes, the file ends %llu bytes later; the trace is damaged (babeltrace2 "
                     "2.0 would hang reading it)",
                     path, (unsigned long long)offset, content_bits / 8,
                     (unsigned long long)((uint64_t)st.st_size - offset));
            truncated = true;
        }
        offset += packet_bits / 8;
    }
    fclose(f);
    return truncated;
}

/* The trace-name parameter the babeltrace2 CLI gives a source.ctf.fs of a single input: its path
 * below the TRACE argument it was found under, so that reports name traces (and their streams)
 * alike through the plugin and through xtio-analyze. NULL when it would be empty. */
static const char *trace_name(const struct group *g)
{
    if (bt_value_array_get_length(g->inputs) != 1)
        return NULL;
    const char *input =
        bt_value_string_get(bt_value_array_borrow_element_by_index_const(g->inputs, 0));
    size_t n = strlen(g->origin);
    if (strncmp(input, g->origin, n) != 0)
        return NULL;
    for (input += n; *input == '/'; input++)
        ;
    return *input ? input : NULL;
}

/* Adds `dir` if it is a trace, else searches the directories below it. Returns the number of
 * traces found. */
static size_t discover(struct discovery *d, const char *origin, const char *dir, int depth)
{
    char group[512], why[PATH_MAX + 256];
    if (metadata_truncated(dir, why, sizeof(why))) {
        complain("%s", why);
        d->failed = true;
        return 0;
    }
    if (query_support(d, dir, group, sizeof(group))) {
        add_trace(d, dir, group, origin);
        return 1;
    }
    if (d->failed || depth == MAX_DEPTH)
        return 0;

    struct dirent **entries = NULL;
    int n = scandir(dir, &entries, NULL, alphasort);
    if (n < 0) {
        /* An unreadable directory below an input is skipped, as babeltrace2 does; the input
         * itself was checked by the caller. */
        return 0;
    }
    size_t found = 0;
    for (int i = 0; i < n; i++) {
        const char *name = entries[i]->d_name;
        char path[PATH_MAX];
        struct stat st;
        if (!d->failed && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
            snprintf(path, sizeof(path), "%s/%s", dir, name) < (int)sizeof(path) &&
            stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            found += discover(d, origin, path, depth + 1);
        free(entries[i]);
    }
    free(entries);
    return found;
}

static void discovery_fini(struct discovery *d)
{
    for (size_t i = 0; i < d->count; i++) {
        free(d->groups[i].key);
        bt_value_put_ref(d->groups[i].inputs);
    }
    free(d->groups);
    for (size_t i = 0; i < d->seen_count; i++)
        free(d->seen[i]);
    free(d->seen);
}

/* ---- Progress -------------------------------------------------------------------------------- */

/* A line on stderr, rewritten in place while the trace is read, when stderr is a terminal: how
 * much of the traces' time range was read, the events and their rate, and the time left. The
 * range comes from source.ctf.fs's `babeltrace.trace-infos` query; a live input has none, and
 * its line shows what was read. The clock is read every PROGRESS_BATCHES consume batches (a
 * batch is a few messages), never per event. */
#define PROGRESS_INTERVAL_S 0.25
#define PROGRESS_BATCHES    32
#define PROGRESS_COLUMNS    80 /* when the terminal does not say its width */

struct progress {
    struct xtio_bt2_sink *sink; /* weak */
    bool has_range;             /* the traces' time range is known */
    int64_t begin_ns, end_ns;
    bool has_first; /* without a range: the time of the first event read is first_ns */
    int64_t first_ns;
    struct timespec start;
    double next_s;    /* seconds after start of the next update */
    unsigned columns; /* of the terminal: the line is cut to fit, as a wrapped line stays */
    bool shown;       /* a line is on the terminal */
    bool complete;    /* the whole trace was read */
    bool done;        /* the graph stopped: no more lines */
};

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (now.tv_nsec - start->tv_nsec) / 1e9;
}

static bool value_int64(const bt_value *v, int64_t *x)
{
    if (v && bt_value_is_signed_integer(v))
        *x = bt_value_integer_signed_get(v);
    else if (v && bt_value_is_unsigned_integer(v) && bt_value_integer_unsigned_get(v) <= INT64_MAX)
        *x = (int64_t)bt_value_integer_unsigned_get(v);
    else
        return false;
    return true;
}

/* Widens p's range to the streams of the traces of `g`, as source.ctf.fs reads them (from the
 * packets' bounds). false when babeltrace2 cannot say: the line then shows no total. */
static bool query_range(const bt_component_class *fs, const struct group *g, struct progress *p)
{
    bt_value *params = bt_value_map_create();
    bt_query_executor *query = NULL;
    const bt_value *result = NULL;
    bool ok = false;

    if (!params || bt_value_map_insert_entry(params, "inputs", g->inputs) ||
        !(query = bt_query_executor_create(fs, "babeltrace.trace-infos", params)) ||
        bt_query_executor_query(query, &result) != BT_QUERY_EXECUTOR_QUERY_STATUS_OK ||
        !bt_value_is_array(result)) {
        bt_current_thread_clear_error();
        goto end;
    }
    for (uint64_t i = 0; i < bt_value_array_get_length(result); i++) {
        const bt_value *trace = bt_value_array_borrow_element_by_index_const(result, i);
        const bt_value *streams = bt_value_is_map(trace)
                                      ? bt_value_map_borrow_entry_value_const(trace, "stream-infos")
                                      : NULL;
        for (uint64_t j = 0;
             streams && bt_value_is_array(streams) && j < bt_value_array_get_length(streams); j++) {
            const bt_value *stream = bt_value_array_borrow_element_by_index_const(streams, j);
            const bt_value *range = bt_value_is_map(stream)
                                        ? bt_value_map_borrow_entry_value_const(stream, "range-ns")
                                        : NULL;
            int64_t begin, end;
            if (!range || !bt_value_is_map(range) ||
                !value_int64(bt_value_map_borrow_entry_value_const(range, "begin"), &begin) ||
                !value_int64(bt_value_map_borrow_entry_value_const(range, "end"), &end) ||
                end < begin)
                continue;
            if (!p->has_range || begin < p->begin_ns)
                p->begin_ns = begin;
            if (!p->has_range || end > p->end_ns)
                p->end_ns = end;
            p->has_range = true;
            ok = true;
        }
    }
end:
    bt_value_put_ref(result);
    bt_query_executor_put_ref(query);
    bt_value_put_ref(params);
    return ok;
}

static void format_rate(char *buf, size_t size, double per_s)
{
    if (per_s >= 1e6)
        snprintf(buf, size, "%.2fM", per_s / 1e6);
    else if (per_s >= 1e3)
        snprintf(buf, size, "%.1fk", per_s / 1e3);
    else
        snprintf(buf, size, "%.0f", per_s);
}

static void format_duration(char *buf, size_t size, double s)
{
    unsigned long long n = (unsigned long long)(s + 0.5);
    if (s < 1)
        snprintf(buf, size, "<1s");
    else if (n < 60)
        snprintf(buf, size, "%llus", n);
    else if (n < 3600)
        snprintf(buf, size, "%llum%02llus", n / 60, n % 60);
    else
        snprintf(buf, size, "%lluh%02llum", n / 3600, n / 60 % 60);
}

/* Rewrites the line: "\r", the line, then clear to the end of the line. */
static void progress_show(struct progress *p)
{
    double elapsed = seconds_since(&p->start);
    struct xtio_bt2_sink_progress read = xtio_bt2_sink_progress(p->sink);
    char line[256], rate[32] = "--", left[32] = "--";

    if (read.events && elapsed > 0)
        format_rate(rate, sizeof(rate), read.events / elapsed);
    if (p->has_range) {
        double span = (double)(p->end_ns - p->begin_ns);
        double done = read.has_time ? (double)(read.time_ns - p->begin_ns) : 0;
        done = done < 0 ? 0 : done > span ? span : done;
        /* The last event comes a little before the end of its packet, the end of the range. */
        if (p->complete)
            done = span;
        double fraction = span > 0 ? done / span : read.has_time || p->complete;
        if (fraction >= 1)
            snprintf(left, sizeof(left), "0s");
        else if (fraction > 0)
            format_duration(left, sizeof(left), elapsed * (1 - fraction) / fraction);
        /* In order of use: a narrow terminal cuts the rate first. */
        snprintf(line, sizeof(line),
                 "read %.1f of %.1f s of trace (%d%%), %s left, %llu events, %s events/s",
                 done / 1e9, span / 1e9, (int)(fraction * 100), left,
                 (unsigned long long)read.events, rate);
    } else {
        if (read.has_time && !p->has_first) {
            p->first_ns = read.time_ns;
            p->has_first = true;
        }
        double done = read.has_time ? (double)(read.time_ns - p->first_ns) : 0;
        snprintf(line, sizeof(line), "read %.1f s of trace, %llu events, %s events/s", done / 1e9,
                 (unsigned long long)read.events, rate);
    }
    if (p->columns - 1 < sizeof(line))
        line[p->columns - 1] = '\0';
    fprintf(stderr, "\r%s\033[K", line);
    p->shown = true;
}

static void progress_clear(struct progress *p)
{
    if (!p->shown)
        return;
    fputs("\r\033[K", stderr);
    p->shown = false;
}

/* Once every PROGRESS_BATCHES batches (and while a live source waits): an update when due.
 * Nothing without a progress line (p NULL). */
static void progress_tick(struct progress *p)
{
    if (!p)
        return;
    double now = seconds_since(&p->start);
    if (now < p->next_s)
        return;
    progress_show(p);
    p->next_s = now + PROGRESS_INTERVAL_S;
}

/* Before the sink writes its report: a last line (what was read in all), then none, so that the
 * report starts on a clean line. The graph runs until then: the trace was read to its end, unless
 * the input was refused. */
static void progress_before_report(void *data)
{
    struct progress *p = data;
    if (p->done)
        return;
    p->complete = !xtio_bt2_sink_refusal(p->sink);
    progress_show(p);
    progress_clear(p);
    p->done = true;
}

/* Shows the first line. `fs` and `d`: the traces whose range gives the total; NULL with a live
 * input, whose end is not known. */
static void progress_start(struct progress *p, struct xtio_bt2_sink *sink,
                           const bt_component_class *fs, const struct discovery *d)
{
    struct winsize ws;
    *p = (struct progress){.sink = sink, .columns = PROGRESS_COLUMNS};
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
        p->columns = ws.ws_col;
    for (size_t i = 0; d && i < d->count; i++) {
        if (!query_range(fs, &d->groups[i], p)) {
            p->has_range = false; /* a partial range would give a wrong total */
            break;
        }
    }
    xtio_bt2_sink_on_report(sink, progress_before_report, p);
    clock_gettime(CLOCK_MONOTONIC, &p->start);
    progress_show(p);
    p->next_s = PROGRESS_INTERVAL_S;
}

/* ---- The graph ------------------------------------------------------------------------------- */

static bt_interrupter *volatile sigint_interrupter;

static void on_sigint(int sig)
{
    (void)sig;
    bt_interrupter *interrupter = sigint_interrupter;
    if (interrupter)
        bt_interrupter_set(interrupter);
}

/* Connects every output port of `src` to a free input port of the muxer, which adds a new one
 * after each connection. */
static int connect_to_muxer(bt_graph *graph, const bt_component_source *src,
                            const bt_component_filter *mux)
{
    for (uint64_t i = 0; i < bt_component_source_get_output_port_count(src); i++) {
        const bt_port_output *out = bt_component_source_borrow_output_port_by_index_const(src, i);
        const bt_port_input *in = NULL;
        for (uint64_t j = 0; j < bt_component_filter_get_input_port_count(mux) && !in; j++) {
            const bt_port_input *candidate =
                bt_component_filter_borrow_input_port_by_index_const(mux, j);
            if (!bt_port_is_connected(bt_port_input_as_port_const(candidate)))
                in = candidate;
        }
        if (!in || bt_graph_connect_ports(graph, out, in, NULL) != BT_GRAPH_CONNECT_PORTS_STATUS_OK)
            return -1;
    }
    return 0;
}

static int add_source(bt_graph *graph, const bt_component_class_source *cls, const char *name,
                      const bt_value *params, const bt_component_filter *mux, const char *what,
                      bt_logging_level log_level)
{
    const bt_component_source *src = NULL;
    if (bt_graph_add_source_component(graph, cls, name, params, log_level, &src) !=
        BT_GRAPH_ADD_COMPONENT_STATUS_OK) {
        char msg[PATH_MAX + 64];
        snprintf(msg, sizeof(msg), "babeltrace2 cannot open %s", what);
        print_bt_error(msg);
        return -1;
    }
    if (connect_to_muxer(graph, src, mux)) {
        print_bt_error("cannot connect a source to filter.utils.muxer");
        return -1;
    }
    return 0;
}

static bt_value *sink_params(const struct options *opt)
{
    bt_value *params = bt_value_map_create();
    if (!params || bt_value_map_insert_string_entry(params, "format", opt->format) ||
        (opt->output && bt_value_map_insert_string_entry(params, "output", opt->output)) ||
        bt_value_map_insert_bool_entry(params, "strict", opt->strict) ||
        bt_value_map_insert_bool_entry(params, "by-connection", opt->by_connection) ||
        bt_value_map_insert_bool_entry(params, "by-thread", opt->by_thread) ||
        (opt->rows && bt_value_map_insert_string_entry(params, "rows", opt->rows)) ||
        (opt->begin > 0 && bt_value_map_insert_real_entry(params, "begin", opt->begin)) ||
        (opt->end > 0 && bt_value_map_insert_real_entry(params, "end", opt->end)) ||
        (opt->limit && bt_value_map_insert_unsigned_integer_entry(params, "limit", opt->limit)) ||
        (opt->window_ms &&
         bt_value_map_insert_unsigned_integer_entry(params, "window-ms", opt->window_ms))) {
        bt_value_put_ref(params);
        return NULL;
    }
    return params;
}

/* bt_graph_run(), one consume at a time, to update the progress line (when not NULL) in between;
 * a live source that waits for data (AGAIN) is polled every 100 ms until SIGINT. */
static bt_graph_run_status run_consumes(bt_graph *graph, bt_interrupter *interrupter,
                                        struct progress *progress)
{
    const struct timespec pause = {.tv_nsec = 100 * 1000 * 1000};
    unsigned batches = 0; /* consume batches since the clock was last read */
    for (;;) {
        bt_graph_run_once_status status = bt_graph_run_once(graph);
        if (status == BT_GRAPH_RUN_ONCE_STATUS_END)
            return BT_GRAPH_RUN_STATUS_OK;
        if (status != BT_GRAPH_RUN_ONCE_STATUS_OK && status != BT_GRAPH_RUN_ONCE_STATUS_AGAIN)
            return status == BT_GRAPH_RUN_ONCE_STATUS_MEMORY_ERROR
                       ? BT_GRAPH_RUN_STATUS_MEMORY_ERROR
                       : BT_GRAPH_RUN_STATUS_ERROR;
        if (bt_interrupter_is_set(interrupter))
            return BT_GRAPH_RUN_STATUS_AGAIN;
        if (status == BT_GRAPH_RUN_ONCE_STATUS_AGAIN) {
            /* A live source waits for data: retry, without spinning. */
            progress_tick(progress);
            nanosleep(&pause, NULL);
        } else if (++batches == PROGRESS_BATCHES) {
            batches = 0;
            progress_tick(progress);
        }
    }
}

/* Runs the graph to its end (or to SIGINT), with the progress line when `progress` is not NULL.
 * Returns the exit status. */
static int run_graph(bt_graph *graph, struct xtio_bt2_sink **sink, struct progress *progress)
{
    bt_interrupter *interrupter = bt_graph_borrow_default_interrupter(graph);
    struct sigaction sa = {.sa_handler = on_sigint};
    sigemptyset(&sa.sa_mask);
    sigint_interrupter = interrupter;
    sigaction(SIGINT, &sa, NULL);

    bt_graph_run_status status = run_consumes(graph, interrupter, progress);
    if (progress) {
        progress_clear(progress);
        progress->done = true;
    }
    signal(SIGINT, SIG_DFL);
    sigint_interrupter = NULL;

    /* At SIGINT, the sink ends by itself when it was waiting on a live source; otherwise the
     * graph stops between two messages and the analysis is ended here. */
    if (bt_interrupter_is_set(interrupter) && *sink &&
        (status == BT_GRAPH_RUN_STATUS_OK || status == BT_GRAPH_RUN_STATUS_AGAIN)) {
        complain("interrupted: the report covers the events read so far");
        if (xtio_bt2_sink_conclude(*sink) == 0)
            return xtio_bt2_sink_exit_code(*sink);
        status = BT_GRAPH_RUN_STATUS_ERROR;
    }
    if (status == BT_GRAPH_RUN_STATUS_OK || status == BT_GRAPH_RUN_STATUS_AGAIN) {
        if (*sink && xtio_bt2_sink_reported(*sink))
            return xtio_bt2_sink_exit_code(*sink);
        complain("the graph ended without the trace ending: no report");
        return EXIT_USAGE;
    }
    const char *refusal = *sink ? xtio_bt2_sink_refusal(*sink) : NULL;
    if (refusal) {
        /* The sink's cause says the same, within babeltrace2's chain: say it alone. */
        bt_current_thread_clear_error();
        complain("cannot analyse the trace: %s", refusal);
    } else {
        print_bt_error("babeltrace2 cannot read the trace (is it truncated or corrupt?):");
    }
    return EXIT_USAGE;
}

static int analyze(const struct options *opt, char **inputs, int count)
{
    const bt_plugin *ctf = NULL, *utils = NULL;
    bt_component_class_sink *sink_class = NULL;
    bt_graph *graph = NULL;
    bt_value *params = NULL;
    struct discovery d = {0};
    struct xtio_bt2_sink *sink = NULL;
    int status = EXIT_USAGE;

    /* Other plugins that fail to load (a broken one on BABELTRACE_PLUGIN_PATH) are no reason
     * to stop. */
    if (bt_plugin_find("ctf", BT_TRUE, BT_TRUE, BT_TRUE, BT_TRUE, BT_FALSE, &ctf) !=
            BT_PLUGIN_FIND_STATUS_OK ||
        bt_plugin_find("utils", BT_TRUE, BT_TRUE, BT_TRUE, BT_TRUE, BT_FALSE, &utils) !=
            BT_PLUGIN_FIND_STATUS_OK) {
        print_bt_error("cannot find the babeltrace2 `ctf` and `utils` plugins: install the "
                       "babeltrace2 package (libbabeltrace2 alone has no plugins)");
        goto end;
    }
    const bt_component_class_source *fs =
        bt_plugin_borrow_source_component_class_by_name_const(ctf, "fs");
    const bt_component_class_source *live =
        bt_plugin_borrow_source_component_class_by_name_const(ctf, "lttng-live");
    const bt_component_class_filter *muxer =
        bt_plugin_borrow_filter_component_class_by_name_const(utils, "muxer");
    if (!fs || !live || !muxer) {
        complain("the babeltrace2 plugins lack source.ctf.fs, source.ctf.lttng-live or "
                 "filter.utils.muxer: reinstall babeltrace2");
        goto end;
    }

    d.fs = bt_component_class_source_as_component_class_const(fs);
    for (int i = 0; i < count; i++) {
        struct stat st;
        if (strncmp(inputs[i], "net://", 6) == 0)
            continue;
        if (stat(inputs[i], &st) != 0) {
            complain("cannot read %s: %s", inputs[i], strerror(errno));
            goto end;
        }
        if (!S_ISDIR(st.st_mode)) {
            complain("%s is not a directory: give a trace directory (the one holding `metadata`) "
                     "or an lttng session output directory",
                     inputs[i]);
            goto end;
        }
        size_t found = discover(&d, inputs[i], inputs[i], 0);
        if (d.failed)
            goto end; /* already said why */
        if (found == 0) {
            complain("no CTF trace under %s: did the lttng session record anything, and "
                     "was it stopped (`lttng stop`) before reading?",
                     inputs[i]);
            goto end;
        }
    }

    const bt_component_filter *mux = NULL;
    const bt_component_sink *sink_comp = NULL;
    graph = bt_graph_create(0);
    if (!graph || bt_graph_add_filter_component(graph, muxer, "muxer", NULL, opt->log_level,
                                                &mux) != BT_GRAPH_ADD_COMPONENT_STATUS_OK) {
        print_bt_error("cannot create the babeltrace2 graph (out of memory?)");
        goto end;
    }
    for (size_t i = 0; i < d.count; i++) {
        char name[32];
        snprintf(name, sizeof(name), "ctf-fs-%zu", i);
        bt_value_put_ref(params);
        params = bt_value_map_create();
        const char *tname = trace_name(&d.groups[i]);
        if (!params || bt_value_map_insert_entry(params, "inputs", d.groups[i].inputs) ||
            (tname && bt_value_map_insert_string_entry(params, "trace-name", tname))) {
            complain("out of memory building the source parameters");
            goto end;
        }
        char what[PATH_MAX + 32];
        snprintf(what, sizeof(what), "the CTF trace %s (is it truncated or corrupt?)",
                 bt_value_string_get(
                     bt_value_array_borrow_element_by_index_const(d.groups[i].inputs, 0)));
        if (add_source(graph, fs, name, params, mux, what, opt->log_level))
            goto end;
    }
    int live_inputs = 0;
    for (int i = 0; i < count; i++) {
        if (strncmp(inputs[i], "net://", 6) != 0)
            continue;
        int n = live_inputs++;
        char name[32];
        snprintf(name, sizeof(name), "lttng-live-%d", n);
        bt_value_put_ref(params);
        params = bt_value_map_create();
        bt_value *urls = NULL;
        if (!params ||
            bt_value_map_insert_empty_array_entry(params, "inputs", &urls) !=
                BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK ||
            bt_value_array_append_string_element(urls, inputs[i]) !=
                BT_VALUE_ARRAY_APPEND_ELEMENT_STATUS_OK ||
            /* The default, "continue", waits for the session forever. */
            bt_value_map_insert_string_entry(params, "session-not-found-action", "end")) {
            complain("out of memory building the source parameters");
            goto end;
        }
        char what[PATH_MAX + 32];
        snprintf(what, sizeof(what), "the live session %s", inputs[i]);
        if (add_source(graph, live, name, params, mux, what, opt->log_level))
            goto end;
    }

    sink_class = xtio_bt2_sink_class_create();
    bt_value_put_ref(params);
    params = sink_params(opt);
    if (!sink_class || !params) {
        complain("out of memory creating the analysis sink");
        goto end;
    }
    if (bt_graph_add_sink_component_with_initialize_method_data(
            graph, sink_class, "xtio", params, &sink, opt->log_level, &sink_comp) !=
        BT_GRAPH_ADD_COMPONENT_STATUS_OK) {
        print_bt_error("cannot create the analysis:");
        goto end;
    }
    if (bt_graph_connect_ports(graph,
                               bt_component_filter_borrow_output_port_by_name_const(mux, "out"),
                               bt_component_sink_borrow_input_port_by_name_const(sink_comp, "in"),
                               NULL) != BT_GRAPH_CONNECT_PORTS_STATUS_OK) {
        print_bt_error("cannot connect filter.utils.muxer to the analysis");
        goto end;
    }
    /* Progress on a terminal only, and not when csv rows stream out to that terminal. */
    struct progress progress;
    bool show_progress =
        !opt->quiet && sink && isatty(STDERR_FILENO) &&
        !(strcmp(opt->format, "csv") == 0 && !opt->output && isatty(STDOUT_FILENO));
    if (show_progress)
        progress_start(&progress, sink, d.fs, live_inputs ? NULL : &d);
    status = run_graph(graph, &sink, show_progress ? &progress : NULL);
end:
    bt_graph_put_ref(graph);
    bt_value_put_ref(params);
    bt_component_class_sink_put_ref(sink_class);
    discovery_fini(&d);
    bt_plugin_put_ref(ctf);
    bt_plugin_put_ref(utils);
    return status;
}

/* Adds the xtio-reference file to the JSON report at opt->output, as its `reference`. 0, or
 * EXIT_USAGE with a message. */
static int embed_reference(const struct options *opt)
{
    json_error_t jerr;
    int status = EXIT_USAGE;
    json_t *report = NULL, *reference = json_load_file(opt->reference, 0, &jerr);
    const json_t *format = json_object_get(reference, "format");
    if (!reference || !json_is_string(format) ||
        strcmp(json_string_value(format), XTIO_FORMAT_REFERENCE) != 0) {
        complain("%s is not the JSON of xtio-reference (%s): give the file of `xtio-reference -o "
                 "FILE -- WORKLOAD`",
                 opt->reference,
                 reference ? "no \"format\": \"" XTIO_FORMAT_REFERENCE "\"" : jerr.text);
        goto end;
    }
    report = json_load_file(opt->output, 0, &jerr);
    if (!report || json_object_set(report, "reference", reference) != 0 ||
        json_dump_file(report, opt->output, JSON_INDENT(2) | JSON_REAL_PRECISION(15)) != 0) {
        complain("cannot add the reference to %s: check that it is writable", opt->output);
        goto end;
    }
    status = 0;
end:
    json_decref(report);
    json_decref(reference);
    return status;
}

/* ---- Main ------------------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    enum {
        OPT_STRICT = 256,
        OPT_BY_CONNECTION,
        OPT_BY_THREAD,
        OPT_REFERENCE,
        OPT_ROWS,
        OPT_BEGIN,
        OPT_END,
        OPT_LIMIT,
        OPT_WINDOW,
    };
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"strict", no_argument, NULL, OPT_STRICT},
        {"by-connection", no_argument, NULL, OPT_BY_CONNECTION},
        {"by-thread", no_argument, NULL, OPT_BY_THREAD},
        {"reference", required_argument, NULL, OPT_REFERENCE},
        {"rows", required_argument, NULL, OPT_ROWS},
        {"begin", required_argument, NULL, OPT_BEGIN},
        {"end", required_argument, NULL, OPT_END},
        {"limit", required_argument, NULL, OPT_LIMIT},
        {"window", required_argument, NULL, OPT_WINDOW},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    struct options opt = {.format = "text", .log_level = BT_LOGGING_LEVEL_NONE};
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":f:o:qvhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': {
            enum xtio_export_format view;
            if (strcmp(optarg, "text") != 0 && strcmp(optarg, "json") != 0 &&
                xtio_export_format_parse(optarg, &view) != 0) {
                complain("invalid format '%s': use text, json, html, perfetto or csv", optarg);
                return EXIT_USAGE;
            }
            opt.format = optarg;
            break;
        }
        case 'o':
            opt.output = optarg;
            break;
        case OPT_STRICT:
            opt.strict = true;
            break;
        case OPT_BY_CONNECTION:
            opt.by_connection = true;
            break;
        case OPT_BY_THREAD:
            opt.by_thread = true;
            break;
        case OPT_REFERENCE:
            opt.reference = optarg;
            break;
        case OPT_ROWS:
            if (strcmp(optarg, "handoffs") != 0) {
                complain("invalid --rows '%s': handoffs (one row per handoff) is the only kind",
                         optarg);
                return EXIT_USAGE;
            }
            opt.rows = optarg;
            break;
        case OPT_BEGIN:
        case OPT_END:
            if (!xtio_parse_seconds(optarg, 0, 1e9, c == OPT_BEGIN ? &opt.begin : &opt.end)) {
                complain("invalid %s '%s': give seconds from the first xtio event, such as 1.5",
                         argv[optind - 1], optarg);
                return EXIT_USAGE;
            }
            break;
        case OPT_LIMIT:
            if (!xtio_parse_uint(optarg, 1, UINT64_MAX, &opt.limit)) {
                complain("invalid --limit '%s': give a number of handoffs above 0", optarg);
                return EXIT_USAGE;
            }
            break;
        case OPT_WINDOW:
            if (!xtio_parse_uint(optarg, 1, 3600 * 1000, &opt.window_ms)) {
                complain("invalid --window '%s': give milliseconds, 1 to 3600000", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'q':
            opt.quiet = true;
            break;
        case 'v':
            opt.log_level = BT_LOGGING_LEVEL_WARNING;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        case 'V':
            printf("xtio-analyze (xtio) %s\n", XTIO_VERSION);
            return 0;
        case ':':
            complain("option '%s' needs a value; see --help", argv[optind - 1]);
            return EXIT_USAGE;
        default:
            if (optopt)
                complain("unknown option '-%c'; see --help", optopt);
            else
                complain("unknown option '%s'; see --help", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (optind == argc) {
        complain("no TRACE given: name an lttng session output directory, a trace directory or "
                 "a net:// URL; see --help");
        return EXIT_USAGE;
    }
    /* Options of one format given with another would be ignored: say so instead. */
    static const struct {
        const char *format;
        const char *options;
    } only[] = {
        {"csv", "--rows"}, {"perfetto", "--begin, --end and --limit"}, {"html", "--window"}};
    bool given[] = {opt.rows != NULL, opt.begin > 0 || opt.end > 0 || opt.limit, opt.window_ms};
    for (size_t i = 0; i < sizeof(only) / sizeof(only[0]); i++) {
        if (given[i] && strcmp(opt.format, only[i].format) != 0) {
            complain("%s: only with --format %s", only[i].options, only[i].format);
            return EXIT_USAGE;
        }
    }
    if (opt.end > 0 && opt.end <= opt.begin) {
        complain("--end %g is not after --begin %g: give a range that ends after it begins",
                 opt.end, opt.begin);
        return EXIT_USAGE;
    }
    if (opt.reference && (strcmp(opt.format, "json") != 0 || !opt.output)) {
        complain("--reference needs --format json and --output FILE: the reference is added to "
                 "the JSON report written there");
        return EXIT_USAGE;
    }
    int status = analyze(&opt, argv + optind, argc - optind);
    if (opt.reference && status < EXIT_USAGE && embed_reference(&opt))
        return EXIT_USAGE;
    return status;
}
