/* Command-line parsing of xtio-server. */
#include "config.h"
#include "xtio_parse.h"

#include <getopt.h>
#include <stdint.h>
#include <unistd.h>

void xtio_server_config_defaults(struct xtio_server_config *config)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    *config = (struct xtio_server_config){
        .bind = "127.0.0.1",
        .port = XTIO_SERVER_DEFAULT_PORT,
        .loops = cores > 0 ? (unsigned)cores : 1,
        .workers = XTIO_SERVER_DEFAULT_WORKERS,
        .handoff = XTIO_MODE_BATCH,
        .batch_bytes = XTIO_SPOOL_DEFAULT_THRESHOLD,
        .max_pending = XTIO_CONN_DEFAULT_MAX_PENDING,
        .max_clients = XTIO_SERVER_DEFAULT_MAX_CLIENTS,
    };
    xtio_resp_limits_init(&config->limits);
}

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: xtio-server [OPTION]...\n"
            "A Redis-protocol (RESP2) server on libevent whose heavy commands (RANGE, KEYS,\n"
            "DEBUG POPULATE) run on worker threads and stream their replies back to the\n"
            "connection's loop thread through a libxtio handoff, traced by the `xtio` LTTng-UST\n"
            "provider. Drive it with redis-cli, redis-benchmark or xtio-load.\n"
            "\n"
            "Options:\n"
            "  -b, --bind ADDR         IPv4 or IPv6 address to listen on (default 127.0.0.1)\n"
            "  -p, --port PORT         TCP port; 0 lets the kernel choose (default %d)\n"
            "  -l, --loops N           loop threads that own connections (default: cores, %ld)\n"
            "  -w, --workers N         worker threads for heavy commands (default %d)\n"
            "  -m, --handoff MODE      how workers' output reaches the socket (default batch):\n"
            "                            inline  the loop runs heavy commands itself (baseline)\n"
            "                            sync    each record handed to the loop, worker waits\n"
            "                            async   each record queued to the loop, no wait\n"
            "                            batch   records spooled, one handoff per chunk\n"
            "                            direct  UNSAFE: the worker writes the socket buffer\n"
            "      --batch-bytes N     spool threshold for batch mode (default %zu)\n"
            "      --max-pending N     per-connection bound on queued plus unflushed output\n"
            "                          bytes; producers wait beyond it (default %zu)\n"
            "      --max-clients N     connections accepted at once (default %d)\n"
            "      --proto-max-bulk-len N      largest bulk argument (default %zu)\n"
            "      --max-multibulk-len N       most arguments in one request (default %zu)\n"
            "      --max-inline-len N          longest inline request (default %zu)\n"
            "      --client-query-buffer-limit N  most unparsed bytes per client (default %zu)\n"
            "  -v, --verbose           log connections and errors on stderr\n"
            "  -h, --help              print this help and exit\n"
            "  -V, --version           print the version and exit\n"
            "\n"
            "Sizes accept a k, m or g suffix (powers of 1024). SIGINT or SIGTERM stops the\n"
            "server: it stops accepting, finishes in-flight commands, flushes and exits 0.\n"
            "Exit status: 0 after a clean stop, 1 on a runtime failure, 2 on a bad command\n"
            "line or when the address cannot be listened on (e.g. port in use).\n",
            XTIO_SERVER_DEFAULT_PORT, sysconf(_SC_NPROCESSORS_ONLN), XTIO_SERVER_DEFAULT_WORKERS,
            XTIO_SPOOL_DEFAULT_THRESHOLD, XTIO_CONN_DEFAULT_MAX_PENDING,
            XTIO_SERVER_DEFAULT_MAX_CLIENTS, XTIO_RESP_DEFAULT_MAX_BULK_LEN,
            XTIO_RESP_DEFAULT_MAX_MULTIBULK_LEN, XTIO_RESP_DEFAULT_MAX_INLINE_LEN,
            XTIO_RESP_DEFAULT_MAX_QUERY_BUFFER);
}

enum option_id {
    OPT_BATCH_BYTES = 256,
    OPT_MAX_PENDING,
    OPT_MAX_CLIENTS,
    OPT_MAX_BULK,
    OPT_MAX_MULTIBULK,
    OPT_MAX_INLINE,
    OPT_QUERY_BUFFER,
};

/* Every option has a long name, which errors quote whatever spelling the user typed. */
static const char *long_name(const struct option *options, int opt)
{
    for (; options->name; options++)
        if (options->val == opt)
            return options->name;
    return "?";
}

enum xtio_config_verdict xtio_server_config_parse(struct xtio_server_config *config, int argc,
                                                  char **argv, FILE *out, FILE *err)
{
    static const struct option options[] = {
        {"bind", required_argument, NULL, 'b'},
        {"port", required_argument, NULL, 'p'},
        {"loops", required_argument, NULL, 'l'},
        {"workers", required_argument, NULL, 'w'},
        {"handoff", required_argument, NULL, 'm'},
        {"batch-bytes", required_argument, NULL, OPT_BATCH_BYTES},
        {"max-pending", required_argument, NULL, OPT_MAX_PENDING},
        {"max-clients", required_argument, NULL, OPT_MAX_CLIENTS},
        {"proto-max-bulk-len", required_argument, NULL, OPT_MAX_BULK},
        {"max-multibulk-len", required_argument, NULL, OPT_MAX_MULTIBULK},
        {"max-inline-len", required_argument, NULL, OPT_MAX_INLINE},
        {"client-query-buffer-limit", required_argument, NULL, OPT_QUERY_BUFFER},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, ":b:p:l:w:m:vhV", options, NULL)) != -1) {
        uint64_t value = 0;
        unsigned port = 0;
        bool ok = true;
        const char *expected = NULL; /* for the error: what the option takes */
        switch (opt) {
        case 'b':
            config->bind = optarg;
            break;
        case 'p':
            ok = xtio_parse_port(optarg, 0, &port);
            config->port = (int)port;
            expected = "a whole number from 0 to 65535 (0: the kernel picks one)";
            break;
        case 'l':
            ok = xtio_parse_uint(optarg, 1, 256, &value);
            config->loops = (unsigned)value;
            break;
        case 'w':
            ok = xtio_parse_uint(optarg, 1, 256, &value);
            config->workers = (unsigned)value;
            break;
        case 'm':
            ok = xtio_mode_parse(optarg, &config->handoff) == 0;
            break;
        case OPT_BATCH_BYTES:
            ok = xtio_parse_size(optarg, 1, (size_t)1 << 30, &value);
            config->batch_bytes = (size_t)value;
            break;
        case OPT_MAX_PENDING:
            ok = xtio_parse_size(optarg, 1024, SIZE_MAX, &value);
            config->max_pending = (size_t)value;
            break;
        case OPT_MAX_CLIENTS:
            ok = xtio_parse_uint(optarg, 1, 1000000, &value);
            config->max_clients = (unsigned)value;
            break;
        case OPT_MAX_BULK:
            ok = xtio_parse_size(optarg, 1, SIZE_MAX, &value);
            config->limits.max_bulk_len = (size_t)value;
            break;
        case OPT_MAX_MULTIBULK:
            ok = xtio_parse_uint(optarg, 1, SIZE_MAX, &value);
            config->limits.max_multibulk_len = (size_t)value;
            break;
        case OPT_MAX_INLINE:
            ok = xtio_parse_size(optarg, 16, SIZE_MAX, &value);
            config->limits.max_inline_len = (size_t)value;
            break;
        case OPT_QUERY_BUFFER:
            ok = xtio_parse_size(optarg, 1024, SIZE_MAX, &value);
            config->limits.max_query_buffer = (size_t)value;
            break;
        case 'v':
            config->verbose++;
            break;
        case 'h':
            usage(out);
            return XTIO_CONFIG_EXIT;
        case 'V':
            fprintf(out, "xtio-server %s\n", XTIO_VERSION);
            return XTIO_CONFIG_EXIT;
        case ':':
            fprintf(err, "xtio-server: option '--%s' needs a value; see --help\n",
                    long_name(options, optopt));
            return XTIO_CONFIG_USAGE;
        default:
            fprintf(err, "xtio-server: unknown option '%s'; see --help\n", argv[optind - 1]);
            return XTIO_CONFIG_USAGE;
        }
        if (!ok) {
            fprintf(err, "xtio-server: invalid value '%s' for option '--%s'%s%s; see --help\n",
                    optarg, long_name(options, opt), expected ? ": use " : "",
                    expected ? expected : "");
            return XTIO_CONFIG_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(err, "xtio-server: unexpected argument '%s'; see --help\n", argv[optind]);
        return XTIO_CONFIG_USAGE;
    }
    return XTIO_CONFIG_RUN;
}
