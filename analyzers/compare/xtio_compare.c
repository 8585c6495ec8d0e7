/*
 * xtio-compare: the command-line front end of the CI gate. It owns option parsing and the exit
 * status (0 pass, 1 a threshold crossed, a new finding or an expected one missing, 2 bad input
 * or usage); the rules are in
 * compare.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"

#ifndef XTIO_VERSION
#define XTIO_VERSION "unknown"
#endif

#define EXIT_USAGE 2

static const char usage_text[] =
    "Usage: xtio-compare [OPTION]... BASELINE.json CURRENT.json\n"
    "Compare two reports of `xtio-analyze --format json`: the handoff latencies and counts of\n"
    "each mode, and the findings. Gate CI on its exit status.\n"
    "\n"
    "Options:\n"
    "      --max-regress METRIC=PCT\n"
    "                        fail when METRIC of CURRENT is worse than in BASELINE by more\n"
    "                        than PCT percent (repeatable; a negative PCT demands an\n"
    "                        improvement)\n"
    "      --expect-finding MODE.KIND\n"
    "                        fail unless CURRENT has findings of KIND in the processes of\n"
    "                        MODE (repeatable): a canary that the analysis still flags a\n"
    "                        deliberately unsafe mode, e.g. direct.off_loop_write\n"
    "      --junit FILE      also write the verdict as JUnit XML to FILE\n"
    "  -q, --quiet           print only the failures and the summary line\n"
    "  -h, --help            print this help and exit\n"
    "  -V, --version         print the version and exit\n"
    "\n"
    "Metrics:\n"
    "  MODE.COUNT           COUNT: handoffs bytes records dropped dropped_bytes\n"
    "  MODE.LATENCY.STAT    LATENCY: queue_wait_us end_to_end_us flush_us\n"
    "                       producer_blocked_us spool_delay_us; STAT: p50 p90 p99 p99_9 max\n"
    "  A/B                  the ratio of two metrics, computed within each report: use it on\n"
    "                       noisy machines, where absolute times drift between runs\n"
    "  MODE is inline, sync, async, batch or direct: the process whose primary_mode it is,\n"
    "  else the only process with handoffs in it. In --max-regress, * stands for every mode\n"
    "  a process runs in, e.g. '*.end_to_end_us.p99=25'.\n"
    "  Worse is larger, except for handoffs, bytes and records (the workload itself), where\n"
    "  a change either way is. A metric the baseline has and CURRENT lacks fails; one only\n"
    "  CURRENT has passes (refresh the baseline); one in neither report is an error.\n"
    "\n"
    "Findings (off_loop_write, ordering_break, write_after_close, lost_handoff,\n"
    "dropped_data) fail when the processes of a primary_mode have a kind in CURRENT that they\n"
    "did not have in BASELINE; those the baseline had already are shown, and pass.\n"
    "An --expect-finding kind fails when CURRENT has none of it.\n"
    "\n"
    "Exit status:\n"
    "  0  every threshold held, no new finding, every expected finding there\n"
    "  1  a threshold was crossed, a finding appeared, or an expected one is missing\n"
    "  2  bad usage or input: an unreadable file, not an xtio-analysis report of version 1,\n"
    "     the report of a refused trace, a bad --max-regress or --expect-finding, a metric\n"
    "     in neither report, an ambiguous mode\n";

static void complain(const char *fmt, ...)
{
    va_list ap;
    fputs("xtio-compare: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static int write_junit(const struct xtio_compare_result *result, const char *path,
                       const char *baseline, const char *current)
{
    FILE *file = fopen(path, "w");
    if (!file) {
        complain("cannot write the JUnit report to %s: %s; give a writable path to --junit", path,
                 strerror(errno));
        return -errno;
    }
    int status = xtio_compare_write_junit(result, baseline, current, file);
    if (fclose(file) != 0 && !status)
        status = -EIO;
    if (status)
        complain("cannot write the JUnit report to %s: %s", path, strerror(-status));
    return status;
}

static int compare(const char *baseline_path, const char *current_path,
                   const struct xtio_compare_threshold *thresholds, size_t threshold_count,
                   const struct xtio_compare_expectation *expectations, size_t expectation_count,
                   const char *junit, bool quiet)
{
    int exit_status = EXIT_USAGE;
    struct xtio_compare_error error;
    xtio_compare_report *baseline = NULL, *current = NULL;
    struct xtio_compare_result result;

    if (xtio_compare_report_load(baseline_path, &baseline, &error) ||
        xtio_compare_report_load(current_path, &current, &error) ||
        xtio_compare_run(baseline, current, thresholds, threshold_count, expectations,
                         expectation_count, &result, &error)) {
        complain("%s", error.message);
        goto end;
    }
    int status = xtio_compare_write_table(&result, quiet, stdout);
    if (status)
        complain("cannot write to standard output: %s", strerror(-status));
    else if (!junit || write_junit(&result, junit, baseline_path, current_path) == 0)
        exit_status = result.exit_code;
    xtio_compare_result_fini(&result);
end:
    xtio_compare_report_free(baseline);
    xtio_compare_report_free(current);
    return exit_status;
}

int main(int argc, char **argv)
{
    enum { OPT_MAX_REGRESS = 256, OPT_EXPECT_FINDING, OPT_JUNIT };
    static const struct option longopts[] = {
        {"max-regress", required_argument, NULL, OPT_MAX_REGRESS},
        {"expect-finding", required_argument, NULL, OPT_EXPECT_FINDING},
        {"junit", required_argument, NULL, OPT_JUNIT},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    /* Every option is one argument at least, so argc bounds their number. */
    struct xtio_compare_threshold *thresholds = calloc((size_t)argc, sizeof(*thresholds));
    struct xtio_compare_expectation *expectations = calloc((size_t)argc, sizeof(*expectations));
    size_t threshold_count = 0, expectation_count = 0;
    const char *junit = NULL;
    bool quiet = false;
    struct xtio_compare_error error;
    int exit_status = EXIT_USAGE;
    int c;

    if (!thresholds || !expectations) {
        complain("out of memory");
        goto end;
    }
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":qhV", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_MAX_REGRESS:
            if (xtio_compare_threshold_parse(optarg, &thresholds[threshold_count], &error)) {
                complain("%s", error.message);
                goto end;
            }
            threshold_count++;
            break;
        case OPT_EXPECT_FINDING:
            if (xtio_compare_expectation_parse(optarg, &expectations[expectation_count], &error)) {
                complain("%s", error.message);
                goto end;
            }
            expectation_count++;
            break;
        case OPT_JUNIT:
            junit = optarg;
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            fputs(usage_text, stdout);
            exit_status = 0;
            goto end;
        case 'V':
            printf("xtio-compare (xtio) %s\n", XTIO_VERSION);
            exit_status = 0;
            goto end;
        case ':':
            complain("option '%s' needs a value; see --help", argv[optind - 1]);
            goto end;
        default:
            if (optopt)
                complain("unknown option '-%c'; see --help", optopt);
            else
                complain("unknown option '%s'; see --help", argv[optind - 1]);
            goto end;
        }
    }
    if (argc - optind != 2) {
        complain("expected 2 reports, BASELINE.json and CURRENT.json, got %d: write them with "
                 "`xtio-analyze --format json --output FILE TRACE`; see --help",
                 argc - optind);
        goto end;
    }
    exit_status = compare(argv[optind], argv[optind + 1], thresholds, threshold_count, expectations,
                          expectation_count, junit, quiet);
end:
    free(thresholds);
    free(expectations);
    return exit_status;
}
