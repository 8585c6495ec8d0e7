/*
 * xtio-reference: the machine's speed of the moment, timed on work that xtio's code does not
 * touch, before, during and after a command (a traced workload). A CI gate divides the
 * workload's latencies by it, so that a machine slowed down by its neighbours moves both sides and
 * a slower xtio moves one (docs/ci.md, "The reference"). It owns the three timings and their JSON
 * file, which also carries the workload's own figures (--workload) once COMMAND has written them;
 * the percentile rule is common/xtio_hist.h.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "xtio_formats.h"
#include "xtio_hist.h"
#include "xtio_parse.h"

#ifndef XTIO_VERSION
#define XTIO_VERSION "unknown"
#endif

#define EXIT_USAGE          2
/* Values below 2^8 ns are exact, the rest within 1/256: finer than any spread of a VM. */
#define HIST_BITS           7
/* One piece of CPU work: iterations of a xorshift step, tens of microseconds on a 2020s core. */
#define CPU_ITERATIONS      20000
/* Pieces of CPU work per burst, per round trip of each kind. */
#define CPU_PER_ROUND_TRIPS 10

static const char usage_text[] =
    "Usage: xtio-reference [OPTION]... [-- COMMAND [ARG]...]\n"
    "Time work that xtio's code does not touch, and write the figures as JSON: the reference\n"
    "that xtio-compare divides a workload's latencies by (xtio-analyze --reference FILE).\n"
    "With COMMAND: a burst of timings before it, one every --interval while it runs, one after\n"
    "it; the exit status is COMMAND's. Without: --bursts bursts back to back.\n"
    "\n"
    "Each burst times, in microseconds:\n"
    "  wakeup_us     a 1-byte round trip between two threads over a socketpair: two\n"
    "                cross-thread wake-ups, what a handoff's wake-up costs\n"
    "  loopback_us   a 1-byte round trip between two threads over TCP on 127.0.0.1\n"
    "  cpu_us        a fixed piece of CPU work (20000 xorshift steps)\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE     write the JSON there (default: standard output)\n"
    "      --interval MS     milliseconds between bursts while COMMAND runs (default 250)\n"
    "      --round-trips N   round trips of each kind per burst (default 200)\n"
    "      --bursts N        bursts without COMMAND (default 20)\n"
    "      --workload FILE   once COMMAND has exited, read FILE, a JSON object with \"format\":\n"
    "                        \"xtio-workload\" (scripts/workload --out DIR writes DIR/cpu.json:\n"
    "                        each server's CPU time per record), and carry it as \"workload\"\n"
    "  -h, --help            print this help and exit\n"
    "  -V, --version         print the version and exit\n"
    "\n"
    "Exit status: COMMAND's (127 when it cannot be run, 128+N when signal N ended it); without\n"
    "COMMAND, 0; 1 when a timing failed or the --workload file is missing or invalid; 2 on a\n"
    "bad command line.\n";

struct timings {
    struct xtio_hist wakeup, loopback, cpu;
    uint64_t bursts;
};

/* A socket pair whose far end an echo thread answers. */
struct echo {
    int near, far;
    pthread_t thread;
    bool running;
};

static void complain(const char *fmt, ...)
{
    va_list ap;
    fputs("xtio-reference: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Answers every byte until the near end closes. */
static void *echo_main(void *arg)
{
    const struct echo *echo = arg;
    char byte;
    while (read(echo->far, &byte, 1) == 1) {
        if (write(echo->far, &byte, 1) != 1)
            break;
    }
    return NULL;
}

static int echo_start(struct echo *echo)
{
    int status = pthread_create(&echo->thread, NULL, echo_main, echo);
    echo->running = status == 0;
    return -status;
}

static void echo_stop(struct echo *echo)
{
    if (echo->near >= 0)
        close(echo->near);
    if (echo->running)
        pthread_join(echo->thread, NULL);
    if (echo->far >= 0)
        close(echo->far);
    echo->near = echo->far = -1;
    echo->running = false;
}

static int socketpair_echo(struct echo *echo)
{
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
        return -errno;
    echo->near = fds[0];
    echo->far = fds[1];
    return echo_start(echo);
}

static int loopback_echo(struct echo *echo)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t length = sizeof(addr);
    int one = 1, status = 0;
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    echo->near = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener < 0 || echo->near < 0 ||
        bind(listener, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(listener, 1) != 0 ||
        getsockname(listener, (struct sockaddr *)&addr, &length) != 0 ||
        connect(echo->near, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
        (echo->far = accept4(listener, NULL, NULL, SOCK_CLOEXEC)) < 0 ||
        setsockopt(echo->near, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
        setsockopt(echo->far, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
        status = -errno;
    if (listener >= 0)
        close(listener);
    return status ? status : echo_start(echo);
}

static int round_trips(const struct echo *echo, unsigned count, struct xtio_hist *hist)
{
    char byte = 'x';
    for (unsigned i = 0; i < count; i++) {
        uint64_t start = now_ns();
        if (write(echo->near, &byte, 1) != 1 || read(echo->near, &byte, 1) != 1)
            return errno ? -errno : -EPIPE;
        int status = xtio_hist_record(hist, now_ns() - start);
        if (status)
            return status;
    }
    return 0;
}

/* The fixed piece of CPU work; the result is kept so that the compiler cannot drop it. */
static volatile uint64_t cpu_sink;

static int cpu_work(unsigned count, struct xtio_hist *hist)
{
    for (unsigned i = 0; i < count; i++) {
        uint64_t start = now_ns(), x = cpu_sink | 1;
        for (unsigned k = 0; k < CPU_ITERATIONS; k++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
        cpu_sink = x;
        int status = xtio_hist_record(hist, now_ns() - start);
        if (status)
            return status;
    }
    return 0;
}

static int burst(struct timings *t, const struct echo *wakeup, const struct echo *loopback,
                 unsigned count)
{
    int status = round_trips(wakeup, count, &t->wakeup);
    if (!status)
        status = round_trips(loopback, count, &t->loopback);
    if (!status)
        status = cpu_work(count / CPU_PER_ROUND_TRIPS ? count / CPU_PER_ROUND_TRIPS : 1, &t->cpu);
    t->bursts += !status;
    return status;
}

static void put_latency(FILE *out, const char *key, const struct xtio_hist *hist, bool last)
{
    static const struct {
        const char *key;
        unsigned permille;
    } stats[] = {{"p50", 500}, {"p90", 900}, {"p99", 990}, {"p99_9", 999}};
    fprintf(out, "  \"%s\": {\"count\": %llu", key, (unsigned long long)hist->count);
    for (size_t s = 0; s < sizeof(stats) / sizeof(stats[0]); s++)
        fprintf(out, ", \"%s\": %.3f", stats[s].key,
                (double)xtio_hist_percentile(hist, stats[s].permille) / 1000.0);
    fprintf(out, ", \"max\": %.3f}%s\n", (double)hist->max / 1000.0, last ? "" : ",");
}

/* The --workload file: a JSON object of format "xtio-workload" with a "modes" object, carried
 * unchanged. NULL (and a message saying what to do) when it is missing or not one. */
static json_t *read_workload(const char *path)
{
    json_error_t error;
    json_t *workload = json_load_file(path, 0, &error);
    if (!workload) {
        complain("cannot read the --workload file %s (%s): the workload must write it before it "
                 "exits (scripts/workload --out DIR writes DIR/cpu.json)",
                 path, error.text);
        return NULL;
    }
    const json_t *format = json_object_get(workload, "format");
    if (!json_is_object(workload) || !json_is_string(format) ||
        strcmp(json_string_value(format), XTIO_FORMAT_WORKLOAD) != 0 ||
        !json_is_object(json_object_get(workload, "modes"))) {
        complain("%s is not a workload's figures (a JSON object with \"format\": "
                 "\"" XTIO_FORMAT_WORKLOAD "\" and a \"modes\" object): give the cpu.json that "
                 "scripts/workload --out DIR writes",
                 path);
        json_decref(workload);
        return NULL;
    }
    return workload;
}

static int write_json(const struct timings *t, const json_t *workload, const char *path)
{
    FILE *out = path ? fopen(path, "w") : stdout;
    if (!out) {
        complain("cannot write %s: %s; give a writable path to --output", path, strerror(errno));
        return -errno;
    }
    fprintf(out, "{\n  \"format\": \"" XTIO_FORMAT_REFERENCE "\",\n  \"version\": %d,\n",
            XTIO_FORMAT_REFERENCE_VERSION);
    fprintf(out, "  \"bursts\": %llu,\n", (unsigned long long)t->bursts);
    put_latency(out, "wakeup_us", &t->wakeup, false);
    put_latency(out, "loopback_us", &t->loopback, false);
    put_latency(out, "cpu_us", &t->cpu, !workload);
    if (workload) {
        fputs("  \"workload\": ", out);
        json_dumpf(workload, out, JSON_PRESERVE_ORDER | JSON_COMPACT | JSON_REAL_PRECISION(12));
        fputc('\n', out);
    }
    fputs("}\n", out);
    int status = ferror(out) || fflush(out) != 0 ? -EIO : 0;
    if (path && fclose(out) != 0 && !status)
        status = -EIO;
    if (status)
        complain("cannot write %s: %s", path ? path : "standard output", strerror(-status));
    return status;
}

/* Sleeps up to ms, waking early when the child ends: true once it has, with *exit_status. */
static bool wait_child(pid_t child, unsigned ms, int *exit_status)
{
    for (unsigned slept = 0;; slept += 10) {
        int wstatus;
        pid_t done = waitpid(child, &wstatus, WNOHANG);
        if (done == child) {
            *exit_status = WIFEXITED(wstatus)     ? WEXITSTATUS(wstatus)
                           : WIFSIGNALED(wstatus) ? 128 + WTERMSIG(wstatus)
                                                  : 1;
            return true;
        }
        if (done < 0 && errno != EINTR) {
            *exit_status = 1;
            return true;
        }
        if (slept >= ms)
            return false;
        nanosleep(&(struct timespec){.tv_nsec = 10000000L}, NULL);
    }
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},      {"interval", required_argument, NULL, 'i'},
        {"round-trips", required_argument, NULL, 'r'}, {"bursts", required_argument, NULL, 'b'},
        {"workload", required_argument, NULL, 'w'},    {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},           {NULL, 0, NULL, 0},
    };
    const char *output = NULL, *workload_path = NULL;
    json_t *workload = NULL;
    uint64_t interval = 250, count = 200, bursts = 20;
    struct timings t = {0};
    struct echo wakeup = {.near = -1, .far = -1}, loopback = {.near = -1, .far = -1};
    int exit_status = EXIT_USAGE, c, status;

    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:o:hV", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            output = optarg;
            break;
        case 'w':
            workload_path = optarg;
            break;
        case 'i':
        case 'r':
        case 'b': {
            uint64_t *value = c == 'i' ? &interval : c == 'r' ? &count : &bursts;
            if (!xtio_parse_uint(optarg, 1, 1000000, value)) {
                complain("bad %s '%s': give a whole number from 1 to 1000000; see --help",
                         argv[optind - 1], optarg);
                return EXIT_USAGE;
            }
            break;
        }
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        case 'V':
            printf("xtio-reference (xtio) %s\n", XTIO_VERSION);
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
    xtio_hist_init(&t.wakeup, HIST_BITS);
    xtio_hist_init(&t.loopback, HIST_BITS);
    xtio_hist_init(&t.cpu, HIST_BITS);
    signal(SIGPIPE, SIG_IGN);
    if ((status = socketpair_echo(&wakeup)) || (status = loopback_echo(&loopback))) {
        complain("cannot set up the round trips (a socketpair and a TCP connection on "
                 "127.0.0.1, each with a thread): %s",
                 strerror(-status));
        exit_status = 1;
        goto end;
    }
    status = burst(&t, &wakeup, &loopback, (unsigned)count);
    if (optind < argc) {
        pid_t child = fork();
        if (child == 0) {
            execvp(argv[optind], &argv[optind]);
            complain("cannot run %s: %s; give a command on PATH or its path", argv[optind],
                     strerror(errno));
            _exit(127);
        }
        if (child < 0) {
            complain("cannot start %s: %s", argv[optind], strerror(errno));
            exit_status = 1;
            goto end;
        }
        while (!wait_child(child, (unsigned)interval, &exit_status)) {
            if (!status)
                status = burst(&t, &wakeup, &loopback, (unsigned)count);
        }
    } else {
        exit_status = 0;
        for (uint64_t b = 1; b < bursts && !status; b++)
            status = burst(&t, &wakeup, &loopback, (unsigned)count);
    }
    if (!status && optind < argc)
        status = burst(&t, &wakeup, &loopback, (unsigned)count);
    if (status) {
        complain("a timing failed: %s; the reference is not written", strerror(-status));
        exit_status = exit_status ? exit_status : 1;
    } else if (workload_path && !(workload = read_workload(workload_path))) {
        complain("the reference is not written");
        exit_status = exit_status ? exit_status : 1;
    } else if (write_json(&t, workload, output) != 0) {
        exit_status = exit_status ? exit_status : 1;
    }
end:
    json_decref(workload);
    echo_stop(&wakeup);
    echo_stop(&loopback);
    xtio_hist_fini(&t.wakeup);
    xtio_hist_fini(&t.loopback);
    xtio_hist_fini(&t.cpu);
    return exit_status;
}
