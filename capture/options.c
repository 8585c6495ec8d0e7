/* xtio-capture's option parsing and checking, and its --help and --version. */
#include "options.h"
#include "xtio_parse.h"

#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef XTIO_VERSION
#define XTIO_VERSION "unknown"
#endif

static const char usage_text[] =
    "Usage: xtio-capture [OPTION]... [--] COMMAND [ARG]...\n"
    "  or:  xtio-capture --attach PID [--duration SECONDS] [OPTION]...\n"
    "Record the xtio events of COMMAND (or of the running process PID) in an LTTng\n"
    "session of its own, made with the lttng command: a user-space channel, the\n"
    "`xtio:*` events, lttng_ust_statedump:procname (the program's name) and\n"
    "lttng_ust_statedump:bin_info (its modules, to name call sites), the vtid\n"
    "and vpid contexts (and procname, see --procname). The session is stopped and\n"
    "destroyed at the end, even on SIGINT or SIGTERM, and the last line on stderr says\n"
    "where the trace is:\n"
    "  xtio-capture: trace written to DIR\n"
    "followed by the xtio-analyze command to run next.\n"
    "\n"
    "Options:\n"
    "  -o, --output DIR        write the trace to DIR, which must not exist\n"
    "                          (default: ./SESSION)\n"
    "  -s, --session NAME      name of the LTTng session (default: xtio-PID-TIME)\n"
    "      --live URL          stream to the lttng-relayd at URL (net://HOST[:CTRL[:DATA]],\n"
    "                          as `lttng create --set-url`) as a live session, and print\n"
    "                          the net:// URL to give xtio-analyze; not with --output\n"
    "      --live-port PORT    the relayd's live port, for that URL (default 5344)\n"
    "      --subbuf-size SIZE  sub-buffer size of the channel, a power of two with an\n"
    "                          optional k, M or G suffix (default: lttng's)\n"
    "      --num-subbuf N      sub-buffers per CPU, a power of two (default: lttng's)\n"
    "  -a, --attach PID        record the running process PID instead of a COMMAND\n"
    "  -d, --duration SECONDS  with --attach: stop after SECONDS (default: when PID\n"
    "                          exits, or at SIGINT or SIGTERM)\n"
    "      --procname          add the procname context to every event: 16 bytes more per\n"
    "                          event, but every thread named from its first event (by\n"
    "                          default a thread names itself with xtio:thread_name; one\n"
    "                          already running may take up to 65,536 events to); on by\n"
    "                          default with --attach\n"
    "      --preload           run COMMAND with libxtio-preload.so in LD_PRELOAD, so that an\n"
    "                          unmodified libevent program emits xtio events\n"
    "                          (xtio-preload(7)); its children inherit it\n"
    "      --command-only      record COMMAND's own process only, not every process\n"
    "                          (its children are not recorded: run the program to\n"
    "                          trace as COMMAND, or `sh -c 'exec PROGRAM ...'`)\n"
    "      --no-start-sessiond fail when no lttng-sessiond is reachable instead of\n"
    "                          starting one\n"
    "  -h, --help              print this help and exit\n"
    "  -V, --version           print the version and exit\n"
    "\n"
    "The first SIGINT or SIGTERM is passed on to COMMAND (unless it came from the\n"
    "terminal, which sent it to COMMAND already); a second one kills COMMAND. Either\n"
    "way the session is stopped and destroyed, leaving a readable trace.\n"
    "\n"
    "Exit status:\n"
    "  COMMAND's exit status, or 128+N if it died of signal N\n"
    "  0    --attach: the recording ended at the duration or when PID exited\n"
    "  130  interrupted by SIGINT, 143 by SIGTERM (the trace is still written)\n"
    "  125  xtio-capture itself failed: bad option, lttng missing, no session daemon,\n"
    "       session name in use, output directory exists, an lttng command failed\n"
    "  126  COMMAND cannot be run\n"
    "  127  COMMAND not found\n";

void xtio_capture_complain(const char *fmt, ...)
{
    /* One write per line: COMMAND shares this stderr, and its lines must not cut into ours. */
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "xtio-capture: %s\n", line);
}

static bool power_of_two(uint64_t v)
{
    return v && !(v & (v - 1));
}

/* The sizes `lttng enable-channel --subbuf-size` takes, and we pass on as written: a power of two,
 * with a k, K, M or G suffix (lttng has no lowercase m or g). */
static bool valid_subbuf_size(const char *text)
{
    uint64_t v;
    return xtio_parse_size(text, 1, UINT64_MAX, &v) && !strpbrk(text, "mg") && power_of_two(v);
}

/* The checks that span options, once all are read. */
static bool consistent(const struct xtio_capture_config *config, bool live_port_given,
                       bool duration_given)
{
    if (config->attach_pid && config->command) {
        xtio_capture_complain("give either --attach PID or a COMMAND, not both; see --help");
        return false;
    }
    if (!config->attach_pid && !config->command) {
        xtio_capture_complain("no COMMAND given: name the program to record (after --), or "
                              "attach to a running one with --attach PID; see --help");
        return false;
    }
    if (duration_given && !config->attach_pid) {
        xtio_capture_complain("--duration applies to --attach only; to bound a COMMAND, run it "
                              "under timeout(1)");
        return false;
    }
    if (config->preload && config->attach_pid) {
        xtio_capture_complain("--preload applies to a COMMAND: a running process cannot load "
                              "libxtio-preload.so; start the program under xtio-capture "
                              "--preload -- COMMAND instead");
        return false;
    }
    if (config->command_only && config->attach_pid) {
        xtio_capture_complain("--command-only applies to a COMMAND; --attach records PID only "
                              "already");
        return false;
    }
    if (config->live_url && config->output) {
        xtio_capture_complain("--live and --output cannot go together: a live trace is written "
                              "by the lttng-relayd, in its own output directory");
        return false;
    }
    if (live_port_given && !config->live_url) {
        xtio_capture_complain("--live-port applies to --live only");
        return false;
    }
    if (config->live_url && !strstr(config->live_url, "://")) {
        xtio_capture_complain("invalid --live URL '%s': use net://HOST[:CTRL_PORT[:DATA_PORT]], "
                              "the address of an lttng-relayd",
                              config->live_url);
        return false;
    }
    return true;
}

enum xtio_capture_parse_status xtio_capture_parse(int argc, char **argv,
                                                  struct xtio_capture_config *config)
{
    enum {
        OPT_LIVE = 256,
        OPT_LIVE_PORT,
        OPT_SUBBUF_SIZE,
        OPT_NUM_SUBBUF,
        OPT_COMMAND_ONLY,
        OPT_PROCNAME,
        OPT_PRELOAD,
        OPT_NO_START_SESSIOND
    };
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"session", required_argument, NULL, 's'},
        {"live", required_argument, NULL, OPT_LIVE},
        {"live-port", required_argument, NULL, OPT_LIVE_PORT},
        {"subbuf-size", required_argument, NULL, OPT_SUBBUF_SIZE},
        {"num-subbuf", required_argument, NULL, OPT_NUM_SUBBUF},
        {"attach", required_argument, NULL, 'a'},
        {"duration", required_argument, NULL, 'd'},
        {"command-only", no_argument, NULL, OPT_COMMAND_ONLY},
        {"procname", no_argument, NULL, OPT_PROCNAME},
        {"preload", no_argument, NULL, OPT_PRELOAD},
        {"no-start-sessiond", no_argument, NULL, OPT_NO_START_SESSIOND},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    *config = (struct xtio_capture_config){.live_port = XTIO_CAPTURE_DEFAULT_LIVE_PORT,
                                           .start_sessiond = true};
    bool live_port_given = false, duration_given = false;
    uint64_t value;
    unsigned port;
    int c;

    opterr = 0;
    /* '+': the first operand starts COMMAND, whose own options are not ours. */
    while ((c = getopt_long(argc, argv, "+:o:s:a:d:hV", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            config->output = optarg;
            break;
        case 's':
            /* lttng turns '/' into a path component and refuses names starting with '.'. */
            if (!optarg[0] || optarg[0] == '.' || strchr(optarg, '/')) {
                xtio_capture_complain("invalid session name '%s': use letters, digits, '-' or "
                                      "'_', not starting with '.'",
                                      optarg);
                return XTIO_CAPTURE_PARSE_EXIT_USAGE;
            }
            config->session = optarg;
            break;
        case OPT_LIVE:
            config->live_url = optarg;
            break;
        case OPT_LIVE_PORT:
            if (!xtio_parse_port(optarg, 1, &port)) {
                xtio_capture_complain("invalid --live-port '%s': use a TCP port, 1 to 65535",
                                      optarg);
                return XTIO_CAPTURE_PARSE_EXIT_USAGE;
            }
            config->live_port = port;
            live_port_given = true;
            break;
        case OPT_SUBBUF_SIZE:
            if (!valid_subbuf_size(optarg)) {
                xtio_capture_complain("invalid --subbuf-size '%s': use a power of two, with an "
                                      "optional k, M or G suffix, e.g. 512k or 4M",
                                      optarg);
                return XTIO_CAPTURE_PARSE_EXIT_USAGE;
            }
            config->subbuf_size = optarg;
            break;
        case OPT_NUM_SUBBUF:
            if (!xtio_parse_uint(optarg, 1, 1u << 20, &value) || !power_of_two(value)) {
                xtio_capture_complain("invalid --num-subbuf '%s': use a power of two, e.g. 4 "
                                      "or 8",
                                      optarg);
                return XTIO_CAPTURE_PARSE_EXIT_USAGE;
            }
            config->num_subbuf = optarg;
            break;
        case 'a':
            if (!xtio_parse_uint(optarg, 1, INT_MAX, &value)) {
                xtio_capture_complain("invalid --attach PID '%s': use the process id of a running "
                                      "process (see pgrep(1))",
                                      optarg);
                return XTIO_CAPTURE_PARSE_EXIT_USAGE;
            }
            config->attach_pid = (pid_t)value;
            break;
        case 'd':
            if (!xtio_parse_uint(optarg, 1, 366u * 24 * 3600, &value)) {
                xtio_capture_complain("invalid --duration '%s': use a whole number of seconds, "
                                      "at least 1",
                                      optarg);
                return XTIO_CAPTURE_PARSE_EXIT_USAGE;
            }
            config->duration = (unsigned)value;
            duration_given = true;
            break;
        case OPT_COMMAND_ONLY:
            config->command_only = true;
            break;
        case OPT_PROCNAME:
            config->procname = true;
            break;
        case OPT_PRELOAD:
            config->preload = true;
            break;
        case OPT_NO_START_SESSIOND:
            config->start_sessiond = false;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return XTIO_CAPTURE_PARSE_EXIT_OK;
        case 'V':
            printf("xtio-capture (xtio) %s\n", XTIO_VERSION);
            return XTIO_CAPTURE_PARSE_EXIT_OK;
        case ':':
            xtio_capture_complain("option '%s' needs a value; see --help", argv[optind - 1]);
            return XTIO_CAPTURE_PARSE_EXIT_USAGE;
        default:
            if (optopt)
                xtio_capture_complain("unknown option '-%c'; see --help", optopt);
            else
                xtio_capture_complain("unknown option '%s'; see --help", argv[optind - 1]);
            return XTIO_CAPTURE_PARSE_EXIT_USAGE;
        }
    }
    if (optind < argc)
        config->command = argv + optind;
    return consistent(config, live_port_given, duration_given) ? XTIO_CAPTURE_PARSE_RUN
                                                               : XTIO_CAPTURE_PARSE_EXIT_USAGE;
}
