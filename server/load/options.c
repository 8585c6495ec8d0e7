/* xtio-load's command line: the options, their defaults, and the checks across them. */
#include "xtio_load.h"
#include "xtio_parse.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *const xtio_load_kind_names[XTIO_LOAD_KINDS] = {"range", "get", "set", "keys", "ping"};

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: xtio-load [OPTION]...\n"
            "Load generator for xtio-server (any RESP2 server with RANGE and DEBUG POPULATE):\n"
            "pipelined hiredis connections run a command mix and every reply is verified\n"
            "against what DEBUG POPULATE wrote. Reports throughput and latency percentiles.\n"
            "\n"
            "Target:\n"
            "  -h, --host HOST          server address (default 127.0.0.1)\n"
            "  -p, --port PORT          server port (default 6390)\n"
            "\n"
            "Load:\n"
            "  -c, --connections N      connections running the mix (default 16)\n"
            "  -P, --pipeline N         requests in flight per connection (default 1)\n"
            "  -t, --threads N          client threads sharing the connections (default 1)\n"
            "  -n, --requests N         total requests, all connections together\n"
            "                           (default 100000 unless --duration)\n"
            "  -d, --duration SECONDS   run for this long instead of a request count\n"
            "      --mix SPEC           command weights, e.g. range=70,get=20,set=10 (the\n"
            "                           default); kinds: range, get, set, keys, ping. GET\n"
            "                           reads populated keys, and the run's own SETs back\n"
            "      --range-width N      populated keys, consecutive in byte order, one RANGE\n"
            "                           spans (default 100)\n"
            "      --range-limit N      add LIMIT N to each RANGE (default: no LIMIT)\n"
            "\n"
            "Data:\n"
            "      --populate N         send DEBUG POPULATE N <prefix> <value-size> first\n"
            "      --keys N             the keys were populated before (same prefix and size)\n"
            "      --value-size N       value bytes: \"value:<n>\" truncated or zero-padded\n"
            "                           (default 0: \"value:<n>\" as is; at most %u)\n"
            "      --key-prefix P       keys are \"P:<n>\" (default key); SETs use \"P;set:...\"\n"
            "      --flush              FLUSHALL before populating\n"
            "\n"
            "Abuse:\n"
            "      --disconnect-storm N  open N raw connections that each send a big RANGE\n"
            "                           and close abruptly, right after sending or after\n"
            "                           reading part of the reply (what was read is verified)\n"
            "      --slow-reader        one more raw connection, with a tiny receive buffer,\n"
            "                           reads big RANGE replies 4 KB at a time with pauses\n"
            "                           while the mix runs; what it reads is verified\n"
            "      --slow-reader-seconds S  give up the slow reader after S seconds (default 10)\n"
            "\n"
            "Output:\n"
            "      --expect-info        read INFO before and after the run and print the\n"
            "                           server's handoff counters beside what the client got\n"
            "      --json               one JSON object on stdout instead of text\n"
            "      --timeout SECONDS    longest wait for any reply or connect (default 30)\n"
            "      --seed N             random seed (default: from the clock; printed)\n"
            "      --help               print this help and exit\n"
            "  -V, --version            print the version and exit\n"
            "\n"
            "Exit status: 0 when every reply was verified, 1 on any mismatch or connection\n"
            "error (the first 10 of each are printed, with their count) or on latencies left\n"
            "unrecorded for want of memory, 2 on a bad command line.\n",
            XTIO_LOAD_MAX_VALUE_SIZE);
}

/* "kind=weight,..."; kinds left out weigh 0. */
static bool parse_mix(const char *text, unsigned *mix, FILE *err)
{
    unsigned parsed[XTIO_LOAD_KINDS] = {0};
    bool seen[XTIO_LOAD_KINDS] = {false};
    const char *p = text;
    unsigned total = 0;
    for (int items = 0; items < 64; items++) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        int kind = -1;
        for (int k = 0; eq && k < XTIO_LOAD_KINDS; k++) {
            if ((size_t)(eq - p) == strlen(xtio_load_kind_names[k]) &&
                strncmp(p, xtio_load_kind_names[k], (size_t)(eq - p)) == 0)
                kind = k;
        }
        char weight[16];
        size_t wlen = eq ? len - (size_t)(eq - p) - 1 : 0;
        uint64_t w = 0;
        if (kind < 0 || wlen == 0 || wlen >= sizeof(weight)) {
            fprintf(err,
                    "xtio-load: --mix item '%.*s' is not KIND=WEIGHT with KIND one of range, "
                    "get, set, keys, ping; see --help\n",
                    (int)len, p);
            return false;
        }
        memcpy(weight, eq + 1, wlen);
        weight[wlen] = '\0';
        if (!xtio_parse_uint(weight, 0, 1000000, &w)) {
            fprintf(err, "xtio-load: --mix weight '%s' of %s is not an integer in [0, 1000000]\n",
                    weight, xtio_load_kind_names[kind]);
            return false;
        }
        if (seen[kind]) {
            fprintf(err, "xtio-load: --mix names %s twice\n", xtio_load_kind_names[kind]);
            return false;
        }
        seen[kind] = true;
        parsed[kind] = (unsigned)w;
        total += (unsigned)w;
        if (!comma)
            break;
        p = comma + 1;
        if (items == 63) {
            fprintf(err, "xtio-load: --mix has too many items\n");
            return false;
        }
    }
    if (total == 0) {
        fprintf(err, "xtio-load: --mix weights are all 0\n");
        return false;
    }
    memcpy(mix, parsed, sizeof(parsed));
    return true;
}

void xtio_load_format_mix(const unsigned *mix, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (int k = 0; k < XTIO_LOAD_KINDS; k++) {
        if (!mix[k] || used >= cap)
            continue;
        int n = snprintf(out + used, cap - used, "%s%s=%u", used ? "," : "",
                         xtio_load_kind_names[k], mix[k]);
        if (n > 0)
            used += (size_t)n;
    }
}

enum option_id {
    OPT_MIX = 256,
    OPT_RANGE_WIDTH,
    OPT_RANGE_LIMIT,
    OPT_POPULATE,
    OPT_KEYS,
    OPT_VALUE_SIZE,
    OPT_PREFIX,
    OPT_FLUSH,
    OPT_STORM,
    OPT_SLOW,
    OPT_SLOW_SECONDS,
    OPT_EXPECT_INFO,
    OPT_JSON,
    OPT_TIMEOUT,
    OPT_SEED,
    OPT_HELP,
};

/* Checks that need every option known. */
static bool check_combination(struct xtio_load_config *cfg, bool populate_set, bool keys_set,
                              bool width_set, FILE *err)
{
    if (cfg->requests && cfg->duration > 0) {
        fprintf(err, "xtio-load: --requests and --duration exclude each other\n");
        return false;
    }
    if (!cfg->requests && cfg->duration <= 0)
        cfg->requests = 100000;
    if (populate_set && keys_set) {
        fprintf(err, "xtio-load: --populate and --keys exclude each other (--populate N implies "
                     "--keys N)\n");
        return false;
    }
    if (populate_set)
        cfg->keys = cfg->populate;
    if (cfg->threads > cfg->connections) {
        fprintf(err, "xtio-load: --threads %u is more than the %u connections\n", cfg->threads,
                cfg->connections);
        return false;
    }
    /* Without populated keys GET still has the run's own SETs to read back. */
    bool needs_keys =
        cfg->mix[XTIO_LOAD_RANGE] || cfg->mix[XTIO_LOAD_KEYS] || cfg->storm || cfg->slow_reader;
    if (needs_keys && cfg->keys == 0) {
        fprintf(err, "xtio-load: range and keys in the mix, --disconnect-storm and "
                     "--slow-reader need populated keys: give --populate N or --keys N\n");
        return false;
    }
    if (cfg->mix[XTIO_LOAD_RANGE] && cfg->range_width > cfg->keys) {
        if (width_set) {
            fprintf(err, "xtio-load: --range-width %zu is more than the %zu populated keys\n",
                    cfg->range_width, cfg->keys);
            return false;
        }
        cfg->range_width = cfg->keys; /* the default width on a small key set */
    }
    return true;
}

enum xtio_load_verdict xtio_load_parse_args(struct xtio_load_config *cfg, int argc, char **argv,
                                            FILE *out, FILE *err)
{
    *cfg = (struct xtio_load_config){
        .host = "127.0.0.1",
        .port = 6390,
        .connections = 16,
        .pipeline = 1,
        .threads = 1,
        .mix = {[XTIO_LOAD_RANGE] = 70, [XTIO_LOAD_GET] = 20, [XTIO_LOAD_SET] = 10},
        .range_width = 100,
        .prefix = "key",
        .slow_seconds = 10,
        .timeout = 30,
    };
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    cfg->seed = (uint64_t)now.tv_sec * 1000000007u ^ (uint64_t)now.tv_nsec;

    static const struct option options[] = {
        {"host", required_argument, NULL, 'h'},
        {"port", required_argument, NULL, 'p'},
        {"connections", required_argument, NULL, 'c'},
        {"pipeline", required_argument, NULL, 'P'},
        {"threads", required_argument, NULL, 't'},
        {"requests", required_argument, NULL, 'n'},
        {"duration", required_argument, NULL, 'd'},
        {"mix", required_argument, NULL, OPT_MIX},
        {"range-width", required_argument, NULL, OPT_RANGE_WIDTH},
        {"range-limit", required_argument, NULL, OPT_RANGE_LIMIT},
        {"populate", required_argument, NULL, OPT_POPULATE},
        {"keys", required_argument, NULL, OPT_KEYS},
        {"value-size", required_argument, NULL, OPT_VALUE_SIZE},
        {"key-prefix", required_argument, NULL, OPT_PREFIX},
        {"flush", no_argument, NULL, OPT_FLUSH},
        {"disconnect-storm", required_argument, NULL, OPT_STORM},
        {"slow-reader", no_argument, NULL, OPT_SLOW},
        {"slow-reader-seconds", required_argument, NULL, OPT_SLOW_SECONDS},
        {"expect-info", no_argument, NULL, OPT_EXPECT_INFO},
        {"json", no_argument, NULL, OPT_JSON},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"seed", required_argument, NULL, OPT_SEED},
        {"help", no_argument, NULL, OPT_HELP},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    bool populate_set = false, keys_set = false, width_set = false;
    optind = 1;
    opterr = 0;
    int opt, index = -1;
    while ((opt = getopt_long(argc, argv, ":h:p:c:P:t:n:d:V", options, &index)) != -1) {
        uint64_t v = 0;
        bool ok = true;
        const char *expected = NULL; /* for the error: what the option takes */
        switch (opt) {
        case 'h':
            ok = optarg[0] != '\0';
            cfg->host = optarg;
            break;
        case 'p': {
            unsigned port = 0;
            ok = xtio_parse_port(optarg, 1, &port);
            cfg->port = (int)port;
            expected = "a whole number from 1 to 65535";
            break;
        }
        case 'c':
            ok = xtio_parse_uint(optarg, 1, 4096, &v);
            cfg->connections = (unsigned)v;
            break;
        case 'P':
            ok = xtio_parse_uint(optarg, 1, 4096, &v);
            cfg->pipeline = (unsigned)v;
            break;
        case 't':
            ok = xtio_parse_uint(optarg, 1, 64, &v);
            cfg->threads = (unsigned)v;
            break;
        case 'n':
            ok = xtio_parse_uint(optarg, 1, (uint64_t)1 << 40, &cfg->requests);
            break;
        case 'd':
            ok = xtio_parse_seconds(optarg, 0.001, 86400, &cfg->duration);
            break;
        case OPT_MIX:
            if (!parse_mix(optarg, cfg->mix, err))
                return XTIO_LOAD_ARGS_USAGE;
            break;
        case OPT_RANGE_WIDTH:
            ok = xtio_parse_uint(optarg, 1, XTIO_LOAD_MAX_KEYS, &v);
            cfg->range_width = (size_t)v;
            width_set = true;
            break;
        case OPT_RANGE_LIMIT:
            ok = xtio_parse_uint(optarg, 1, XTIO_LOAD_MAX_KEYS, &v);
            cfg->range_limit = (size_t)v;
            break;
        case OPT_POPULATE:
            ok = xtio_parse_uint(optarg, 1, XTIO_LOAD_MAX_KEYS, &v);
            cfg->populate = (size_t)v;
            populate_set = true;
            break;
        case OPT_KEYS:
            ok = xtio_parse_uint(optarg, 0, XTIO_LOAD_MAX_KEYS, &v);
            cfg->keys = (size_t)v;
            keys_set = true;
            break;
        case OPT_VALUE_SIZE:
            ok = xtio_parse_uint(optarg, 0, XTIO_LOAD_MAX_VALUE_SIZE, &v);
            cfg->value_size = (size_t)v;
            break;
        case OPT_PREFIX:
            ok = strlen(optarg) <= XTIO_LOAD_MAX_PREFIX;
            cfg->prefix = optarg;
            break;
        case OPT_FLUSH:
            cfg->flush = true;
            break;
        case OPT_STORM:
            ok = xtio_parse_uint(optarg, 0, 100000, &v);
            cfg->storm = (unsigned)v;
            break;
        case OPT_SLOW:
            cfg->slow_reader = true;
            break;
        case OPT_SLOW_SECONDS:
            ok = xtio_parse_seconds(optarg, 0.1, 3600, &cfg->slow_seconds);
            break;
        case OPT_EXPECT_INFO:
            cfg->expect_info = true;
            break;
        case OPT_JSON:
            cfg->json = true;
            break;
        case OPT_TIMEOUT:
            ok = xtio_parse_seconds(optarg, 0.1, 3600, &cfg->timeout);
            break;
        case OPT_SEED:
            ok = xtio_parse_uint(optarg, 0, UINT64_MAX, &cfg->seed);
            break;
        case OPT_HELP:
            usage(out);
            return XTIO_LOAD_ARGS_EXIT;
        case 'V':
            fprintf(out, "xtio-load %s\n", XTIO_VERSION);
            return XTIO_LOAD_ARGS_EXIT;
        case ':':
            fprintf(err, "xtio-load: option '%s' needs a value; see --help\n", argv[optind - 1]);
            return XTIO_LOAD_ARGS_USAGE;
        default:
            fprintf(err, "xtio-load: unknown option '%s'; see --help\n", argv[optind - 1]);
            return XTIO_LOAD_ARGS_USAGE;
        }
        if (!ok) {
            /* argv[optind - 1] would be the value itself when it came as a separate word. */
            char name[64];
            if (index >= 0)
                snprintf(name, sizeof(name), "--%s", options[index].name);
            else
                snprintf(name, sizeof(name), "-%c", opt);
            fprintf(err, "xtio-load: invalid value '%s' for option '%s'%s%s; see --help\n", optarg,
                    name, expected ? ": use " : "", expected ? expected : "");
            return XTIO_LOAD_ARGS_USAGE;
        }
        index = -1;
    }
    if (optind < argc) {
        fprintf(err, "xtio-load: unexpected argument '%s'; see --help\n", argv[optind]);
        return XTIO_LOAD_ARGS_USAGE;
    }
    return check_combination(cfg, populate_set, keys_set, width_set, err) ? XTIO_LOAD_ARGS_RUN
                                                                          : XTIO_LOAD_ARGS_USAGE;
}
