#!/usr/bin/env bash
# End-to-end test of xtio-compare on real reports. Two captures, each one LTTng session of its own
# (its event rule filtered to the servers' pids, so that concurrent tests do not mix in), each
# recording real xtio-servers under a short xtio-load, analysed by xtio-analyze --format json:
#   all.json        an inline, an async and a direct server, in one session
#   safe.json       an inline and an async server only (a baseline without the direct server)
# Then, on the reports:
#   all vs all, no rule                   exit 2: the default preset needs a reference, which
#                                         these reports lack; the message says how to record one
#   all vs all, --preset none             exit 0: a report compared with itself
#   safe vs all                           exit 1: the direct server's off-loop writes are new
#   all vs safe, ratio thresholds         exit 0: two captures of the same workload, compared by
#                                         ratios within each report with a generous PCT
#   all vs all, PCT -100                  exit 1: an impossible threshold (an improvement of 100%)
#   sync.end_to_end_us.p99                exit 2: in neither report, with the processes listed
#   a text report, a bad --max-regress    exit 2
#   --junit                               well-formed XML with one testcase per threshold and
#                                         findings check, and one failure per failed check
#   --help, --version
# Needs a reachable lttng-sessiond (it does not start one). The session is destroyed and the
# servers killed whatever happens; the work directory is kept on failure (or with
# XTIO_E2E_KEEP=1) and its path printed.
set -uo pipefail

usage="usage: compare_test.sh XTIO_SERVER XTIO_LOAD XTIO_ANALYZE XTIO_COMPARE"
if (($# != 4)); then
    echo "$usage" >&2
    exit 2
fi
server=$1
load=$2
analyze=$3
compare=$4

# Every step is bounded, and all of them together stay under the ctest TIMEOUT, so that the EXIT
# trap always gets to destroy the session.
readonly lttng_timeout=30
readonly load_timeout=30
readonly analyze_timeout=30
readonly compare_timeout=10

die() {
    echo "compare_test: FAIL: $*" >&2
    exit 1
}

# shellcheck source=../lttng_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lttng_lib.sh"

workdir=$(mktemp -d "${TMPDIR:-/tmp}/xtio-compare.XXXXXX") || die "cannot make a work directory"
session="xtio-compare-$$"
session_created=0
server_pids=()

cleanup() {
    local rc=$? pid
    for pid in "${server_pids[@]}"; do
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    destroy_leftover_session compare_test
    if ((rc == 0)) && [[ "${XTIO_E2E_KEEP:-0}" != 1 ]]; then
        rm -rf "$workdir"
    else
        echo "compare_test: traces, reports and logs kept in $workdir" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- Capturing ------------------------------------------------------------------------------

stop_servers() {
    local pid status tries
    for pid in "${server_pids[@]}"; do
        kill -TERM "$pid"
        tries=0
        while kill -0 "$pid" 2>/dev/null; do
            ((++tries > 400)) && die "xtio-server $pid did not stop within 20 s of SIGTERM"
            sleep 0.05
        done
        status=0
        wait "$pid" || status=$?
        ((status == 0)) || die "xtio-server $pid exited with status $status after SIGTERM"
    done
    server_pids=()
}

# capture NAME MODE...: one server per MODE, recorded together in one session under the same
# short RANGE load each, then analysed into $workdir/NAME.json.
capture() {
    local name=$1 mode filter="" pid i=0 port
    shift
    dir="$workdir/$name"
    mkdir "$dir" || die "cannot make $dir"
    for mode in "$@"; do
        launch_held_back "$dir" "$mode" "$server" --port 0 --handoff "$mode" --loops 1 --workers 2
        server_pids+=("$launched_pid")
    done
    for pid in "${server_pids[@]}"; do
        filter+="${filter:+ || }\$ctx.vpid == $pid"
    done
    create_session --output="$dir/trace"
    # Big buffers: the reports must not depend on what a loaded machine's consumer drops.
    lttng_step enable-channel -u -s "$session" ch0 --subbuf-size=4M --num-subbuf=4
    lttng_step enable-event -u -s "$session" -c ch0 'xtio:*' --filter "$filter"
    lttng_step add-context -u -s "$session" -c ch0 -t vtid -t vpid -t procname
    lttng_step start "$session"
    release_held_back "$dir"
    for mode in "$@"; do
        await_listening "$dir" "$mode" "${server_pids[i++]}" "xtio-server $mode" 30
        [[ -n "$port" ]] || die "cannot read the port of xtio-server $mode: $(cat "$dir/$mode.out")"
        timeout "$load_timeout" "$load" -p "$port" --timeout 10 --populate 2000 --mix range=1 \
            -n 300 -c 4 >"$dir/load-$mode.out" 2>"$dir/load-$mode.err" ||
            die "xtio-load failed against --handoff $mode: $(cat "$dir/load-$mode.err")"
    done
    stop_servers
    end_session
    local rc=0
    timeout "$analyze_timeout" "$analyze" --format json --output "$workdir/$name.json" \
        "$dir/trace" 2>"$dir/analyze.err" || rc=$?
    # Findings (the direct server's off-loop writes) make xtio-analyze exit 1.
    ((rc == 0 || rc == 1)) || die "xtio-analyze exited $rc on $name: $(cat "$dir/analyze.err")"
}

# ---- Comparing ------------------------------------------------------------------------------

# expect WANT LABEL ARG...: runs xtio-compare ARG... into $workdir/LABEL.out and .err.
expect() {
    local want=$1 label=$2 rc=0
    shift 2
    timeout "$compare_timeout" "$compare" "$@" >"$workdir/$label.out" 2>"$workdir/$label.err" ||
        rc=$?
    ((rc == want)) || die "$label: xtio-compare $* exited $rc, expected $want;" \
        "stdout: $(cat "$workdir/$label.out") stderr: $(cat "$workdir/$label.err")"
}

need_lttng
capture all inline async direct
capture safe inline async
all=$workdir/all.json
safe=$workdir/safe.json

# Without thresholds, the preset handoffs divides by the reference, which these reports lack.
expect 2 no-reference "$all" "$all"
expect_in "a bare comparison without a reference" "needs a reference" "$workdir/no-reference.err"
expect 0 itself --preset none "$all" "$all"
for metric in async.handoffs async.queue_wait_us.p99 async.end_to_end_us.p50 \
    direct.handoffs inline.end_to_end_us.p99 "direct off_loop_write" "PASS: 0 of 0"; do
    expect_in "the comparison of a report with itself" "$metric" "$workdir/itself.out"
done

expect 1 new-findings --preset none "$safe" "$all"
grep -qE '^direct off_loop_write +0 +[1-9][0-9]* +FAIL: new$' "$workdir/new-findings.out" ||
    die "the direct server's off-loop writes are not a new finding: $(cat "$workdir/new-findings.out")"
expect_in "safe vs all" "new finding kinds: 1, expected ones missing: 0; exit status 1" "$workdir/new-findings.out"

# Ratios computed from real reports. Timings of two captures differ by chance on a shared
# machine (tests never gate on time), so the report is compared with itself, under limits of 0.
ratios=(--max-regress 'async.end_to_end_us.p50/inline.end_to_end_us.p50=0'
    --max-regress 'async.queue_wait_us.p50/async.end_to_end_us.p50=0')
expect 0 ratios "${ratios[@]}" "$all" "$all"
expect_in "all vs all with ratios" "PASS: 0 of 2 thresholds crossed" "$workdir/ratios.out"
grep -qE '^async.end_to_end_us.p50/inline.end_to_end_us.p50 +[0-9.]+ +[0-9.]+ +\+0.0% +\+0% +ok$' \
    "$workdir/ratios.out" || die "the ratio row is not computed: $(cat "$workdir/ratios.out")"

expect 1 impossible --quiet --max-regress 'async.queue_wait_us.p99=-100' "$all" "$all"
expect_in "an impossible threshold" "async.queue_wait_us.p99" "$workdir/impossible.out"
expect_in "an impossible threshold" "FAIL: 1 of 1 thresholds crossed" "$workdir/impossible.out"

expect 2 typo --max-regress 'sync.end_to_end_us.p99=10' "$all" "$all"
expect_in "a metric in neither report" "is in neither report" "$workdir/typo.err"
expect_in "a metric in neither report" "direct" "$workdir/typo.err"
expect 2 bad-syntax --max-regress 'async.end_to_end_us.p99' "$all" "$all"
expect_in "a bad --max-regress" "expected METRIC=PCT" "$workdir/bad-syntax.err"
"$analyze" "$workdir/all/trace" >"$workdir/all.txt" 2>/dev/null
expect 2 text-report "$workdir/all.txt" "$all"
expect_in "a text report" "is not JSON" "$workdir/text-report.err"

# JUnit: safe vs all with `*`, expanded to the 3 modes, on a ratio that does not depend on time
# (1 record per handoff in inline, async and direct); the direct server is not in the baseline,
# so its threshold passes (skipped) while its off-loop writes fail. Findings checks: 3 primary
# modes x 4 kinds (no dropped_data without --strict).
junit=$workdir/junit.xml
expect 1 junit --junit "$junit" --max-regress '*.records/*.handoffs=0' "$safe" "$all"
if command -v xmllint >/dev/null; then
    xmllint --noout "$junit" 2>"$workdir/xmllint.err" ||
        die "the JUnit report is not well-formed XML: $(cat "$workdir/xmllint.err")"
fi
count() { grep -o "$1" "$junit" | wc -l; }
(($(count '<testcase ') == 15)) || die "the JUnit report has $(count '<testcase ') testcases, not 15"
(($(count '</testcase>') == $(count '<failure ') + $(count '<skipped '))) ||
    die "the JUnit report's testcases are not closed: $(cat "$junit")"
(($(count '<failure ') == 1)) || die "the JUnit report has $(count '<failure ') failures, not 1"
(($(count '<skipped ') == 1)) || die "the JUnit report has $(count '<skipped ') skipped, not 1"
expect_in "the JUnit report" '<testsuite name="xtio-compare" tests="15" failures="1"' "$junit"
expect_in "the JUnit report" 'name="direct off_loop_write"' "$junit"

"$compare" --help >"$workdir/help.out" || die "xtio-compare --help exited non-zero"
for flag in --max-regress --junit --quiet --help --version 'Exit status'; do
    expect_in "xtio-compare --help" "$flag" "$workdir/help.out"
done
"$compare" -V | grep -q '^xtio-compare (xtio) [0-9]' ||
    die "xtio-compare -V does not print its version"
echo "compare_test: passed"
