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
    "Usage: xtio-compare [OPTION]... BASELINE.json CURRENT.json...\n"
    "  or:  xtio-compare [OPTION]... --baseline BASELINE.json... CURRENT.json...\n"
    "Compare reports of `xtio-analyze --format json`: the handoff latencies and counts of\n"
    "each mode, and the findings. Gate CI on its exit status. With several reports a side,\n"
    "each metric is the median over them.\n"
    "\n"
    "Without --max-regress or --preset, the preset handoffs applies: every mode's\n"
    "queue_wait_us, end_to_end_us and spool_delay_us (batch), p50 and p99, divided by\n"
    "reference.cpu_us of the same report (recorded by xtio-reference, embedded by\n"
    "xtio-analyze --reference), may be worse by at most 700% (p50) or 3000% (p99), and\n"
    "loop_write_us.p50 over it by 50% (async) or 200% (batch); when the reference\n"
    "carries the workload's figures (xtio-reference --workload), every mode's\n"
    "server_cpu_ns_per_record over reference.cpu_us too (inline 25%, others 150%), and\n"
    "the share of it its event loops take, loop_cpu_ns_per_record divided by\n"
    "server_cpu_ns_per_record (sync, async, batch 20%, direct 40%). Better by the same\n"
    "factor is reported as changed.\n"
    "\n"
    "Options:\n"
    "      --baseline FILE   a baseline report (repeatable); then every FILE operand is a\n"
    "                        current report\n"
    "      --preset NAME     handoffs (the default set above) or none (findings only)\n"
    "      --fail-on-change  fail on a metric better by more than its limit's factor too\n"
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
    "                       producer_blocked_us spool_delay_us loop_write_us wake_us;\n"
    "                       STAT: p50 p90 p99 p99_9 max\n"
    "  reference.TIMING.STAT  xtio-reference's timings: wakeup_us loopback_us cpu_us\n"
    "  MODE.WORKLOAD        the figures of the workload's MODE server that the reference\n"
    "                       carries (xtio-reference --workload): server_cpu_ns_per_record\n"
    "                       server_cpu_us loop_cpu_ns_per_record loop_cpu_us\n"
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
    "     in neither report, an ambiguous mode, a reference a report lacks\n";

static void complain(const char *fmt, ...)
{
    va_list ap;
    fputs("xtio-compare: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* paths: the baselines, then the current reports, as the result counts them. */
static int write_junit(const struct xtio_compare_result *result, const char *path,
                       const char *const *paths)
{
    FILE *file = fopen(path, "w");
    if (!file) {
        complain("cannot write the JUnit report to %s: %s; give a writable path to --junit", path,
                 strerror(errno));
        return -errno;
    }
    int status = xtio_compare_write_junit(result, paths, paths + result->baseline_reports, file);
    if (fclose(file) != 0 && !status)
        status = -EIO;
    if (status)
        complain("cannot write the JUnit report to %s: %s", path, strerror(-status));
    return status;
}

/* paths[0..count): the baselines first, then the current reports. */
static int compare(char **paths, size_t baseline_count, size_t count,
                   struct xtio_compare_inputs *inputs, const char *junit, bool quiet)
{
    int exit_status = EXIT_USAGE;
    struct xtio_compare_error error;
    xtio_compare_report **reports = calloc(count, sizeof(*reports));
    struct xtio_compare_result result;

    if (!reports) {
        complain("out of memory");
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < count; i++) {
        if (xtio_compare_report_load(paths[i], &reports[i], &error)) {
            complain("%s", error.message);
            goto end;
        }
    }
    inputs->baselines = (const xtio_compare_report *const *)reports;
    inputs->baseline_count = baseline_count;
    inputs->currents = (const xtio_compare_report *const *)reports + baseline_count;
    inputs->current_count = count - baseline_count;
    if (xtio_compare_run_inputs(inputs, &result, &error)) {
        complain("%s", error.message);
        goto end;
    }
    int status = xtio_compare_write_table(&result, quiet, stdout);
    if (status)
        complain("cannot write to standard output: %s", strerror(-status));
    else if (!junit || write_junit(&result, junit, (const char *const *)paths) == 0)
        exit_status = result.exit_code;
    xtio_compare_result_fini(&result);
end:
    for (size_t i = 0; i < count; i++)
        xtio_compare_report_free(reports[i]);
    free(reports);
    return exit_status;
}

int main(int argc, char **argv)
{
    enum {
        OPT_MAX_REGRESS = 256,
        OPT_EXPECT_FINDING,
        OPT_JUNIT,
        OPT_BASELINE,
        OPT_PRESET,
        OPT_FAIL_ON_CHANGE
    };
    static const struct option longopts[] = {
        {"baseline", required_argument, NULL, OPT_BASELINE},
        {"preset", required_argument, NULL, OPT_PRESET},
        {"fail-on-change", no_argument, NULL, OPT_FAIL_ON_CHANGE},
        {"max-regress", required_argument, NULL, OPT_MAX_REGRESS},
        {"expect-finding", required_argument, NULL, OPT_EXPECT_FINDING},
        {"junit", required_argument, NULL, OPT_JUNIT},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    /* Every option is one argument at least, so argc bounds their number, and a preset adds
     * at most XTIO_COMPARE_PRESET_MAX. */
    size_t threshold_capacity = (size_t)argc + XTIO_COMPARE_PRESET_MAX;
    struct xtio_compare_threshold *thresholds = calloc(threshold_capacity, sizeof(*thresholds));
    /* The reports: the --baseline ones, then the operands. */
    char **paths = calloc((size_t)argc + 1, sizeof(*paths));
    size_t baseline_count = 0, path_count = 0;
    const char *preset = NULL;
    bool fail_on_change = false;
    struct xtio_compare_expectation *expectations = calloc((size_t)argc, sizeof(*expectations));
    size_t threshold_count = 0, expectation_count = 0;
    const char *junit = NULL;
    bool quiet = false;
    struct xtio_compare_error error;
    int exit_status = EXIT_USAGE;
    int c;

    if (!thresholds || !expectations || !paths) {
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
        case OPT_BASELINE:
            paths[path_count++] = optarg;
            baseline_count++;
            break;
        case OPT_PRESET:
            preset = optarg;
            break;
        case OPT_FAIL_ON_CHANGE:
            fail_on_change = true;
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
    if (argc - optind < (baseline_count ? 1 : 2)) {
        complain("expected %s, got %d report operands: write them with `xtio-analyze --format "
                 "json --output FILE TRACE`; see --help",
                 baseline_count ? "1 or more CURRENT.json after --baseline"
                                : "BASELINE.json and 1 or more CURRENT.json",
                 argc - optind);
        goto end;
    }
    if (!baseline_count)
        baseline_count = 1;
    while (optind < argc)
        paths[path_count++] = argv[optind++];
    /* No threshold asked for: the default set, so that a bare run gates latencies too. */
    if (!preset && !threshold_count)
        preset = "handoffs";
    size_t preset_count = 0;
    if (preset &&
        xtio_compare_preset(preset, thresholds + threshold_count,
                            threshold_capacity - threshold_count, &preset_count, &error)) {
        complain("%s", error.message);
        goto end;
    }
    struct xtio_compare_inputs inputs = {.thresholds = thresholds,
                                         .threshold_count = threshold_count + preset_count,
                                         .expectations = expectations,
                                         .expectation_count = expectation_count,
                                         .fail_on_change = fail_on_change};
    exit_status = compare(paths, baseline_count, path_count, &inputs, junit, quiet);
end:
    free(paths);
    free(thresholds);
    free(expectations);
    return exit_status;
}
