#!/usr/bin/env bash
# End-to-end test of xtio-compare on real reports. Two captures, each one LTTng session of its own
# (its event rule filtered to the servers' pids, so that concurrent tests do not mix in), each
# recording real xtio-servers under a short xtio-load, analysed by xtio-analyze --format json:
#   all.json        an inline, an async and a direct server, in one session
#   safe.json       an inline and an async server only (a baseline without the direct server)
# Then, on the reports:
#   all vs all                            exit 0: a report compared with itself
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
    if ((session_created)) && ! timeout "$lttng_timeout" lttng destroy "$session" >/dev/null 2>&1; then
        echo "compare_test: could not destroy LTTng session $session; remove it with" \
            "'lttng destroy $session'" >&2
    fi
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

lttng_step() {
    if ! timeout "$lttng_timeout" lttng "$@" >"$workdir/lttng.log" 2>&1; then
        cat "$workdir/lttng.log" >&2
        die "'lttng $*' failed (output above)"
    fi
}

need_lttng() {
    command -v lttng >/dev/null || die "the lttng command is missing: install lttng-tools"
    # `lttng list` only asks; `lttng create` would spawn a daemon of its own that nobody stops.
    local probe
    if ! probe=$(timeout "$lttng_timeout" lttng list 2>&1); then
        die "no LTTng session daemon is reachable for user $(id -un) ($probe). Start one first:" \
            "'lttng-sessiond --daemonize'"
    fi
}

# launch NAME MODE: an xtio-server in MODE, held back until $dir/go exists so that its pid can go
# into the session's filter and its first events are recorded (exec keeps the pid).
launch() {
    local name=$1 mode=$2
    (
        while [[ ! -e "$dir/go" ]]; do sleep 0.05; done
        exec "$server" --port 0 --handoff "$mode" --loops 1 --workers 2
    ) >"$dir/$name.out" 2>"$dir/$name.err" &
    server_pids+=("$!")
}

# port_of NAME: waits until the server listens and prints its port.
port_of() {
    local name=$1 pid=$2 tries=0
    while ! grep -q 'listening on' "$dir/$name.out" 2>/dev/null; do
        kill -0 "$pid" 2>/dev/null || die "xtio-server $name exited at start-up: $(cat "$dir/$name.err")"
        ((++tries > 600)) && die "xtio-server $name did not listen within 30 s"
        sleep 0.05
    done
    sed -n 's/.*listening on [^ ]*:\([0-9]*\) .*/\1/p' "$dir/$name.out"
}

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
        launch "$mode" "$mode"
    done
    for pid in "${server_pids[@]}"; do
        filter+="${filter:+ || }\$ctx.vpid == $pid"
    done
    lttng_step create "$session" --output="$dir/trace"
    session_created=1
    # Big buffers: the reports must not depend on what a loaded machine's consumer drops.
    lttng_step enable-channel -u -s "$session" ch0 --subbuf-size=4M --num-subbuf=4
    lttng_step enable-event -u -s "$session" -c ch0 'xtio:*' --filter "$filter"
    lttng_step add-context -u -s "$session" -c ch0 -t vtid -t vpid -t procname
    lttng_step start "$session"
    # liblttng-ust waits this long (ms) at start-up for the session's events to be enabled.
    export LTTNG_UST_REGISTER_TIMEOUT=${LTTNG_UST_REGISTER_TIMEOUT:-20000}
    touch "$dir/go"
    for mode in "$@"; do
        port=$(port_of "$mode" "${server_pids[i++]}") || exit 1
        [[ -n "$port" ]] || die "cannot read the port of xtio-server $mode: $(cat "$dir/$mode.out")"
        timeout "$load_timeout" "$load" -p "$port" --timeout 10 --populate 2000 --mix range=1 \
            -n 300 -c 4 >"$dir/load-$mode.out" 2>"$dir/load-$mode.err" ||
            die "xtio-load failed against --handoff $mode: $(cat "$dir/load-$mode.err")"
    done
    stop_servers
    lttng_step stop "$session"
    lttng_step destroy "$session"
    session_created=0
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

expect_in() {
    local label=$1 text=$2 file=$3
    grep -qF -- "$text" "$file" || die "$label does not say '$text': $(cat "$file")"
}

need_lttng
capture all inline async direct
capture safe inline async
all=$workdir/all.json
safe=$workdir/safe.json

expect 0 itself "$all" "$all"
for metric in async.handoffs async.queue_wait_us.p99 async.end_to_end_us.p50 \
    direct.handoffs inline.end_to_end_us.p99 "direct off_loop_write" "PASS: 0 of 0"; do
    expect_in "the comparison of a report with itself" "$metric" "$workdir/itself.out"
done

expect 1 new-findings "$safe" "$all"
grep -qE '^direct off_loop_write +0 +[1-9][0-9]* +FAIL: new$' "$workdir/new-findings.out" ||
    die "the direct server's off-loop writes are not a new finding: $(cat "$workdir/new-findings.out")"
expect_in "safe vs all" "new finding kinds: 1, expected ones missing: 0; exit status 1" "$workdir/new-findings.out"

# Medians: with a few thousand handoffs per mode on a shared machine, a p99 is a handful of
# outliers.
ratios=(--max-regress 'async.end_to_end_us.p50/inline.end_to_end_us.p50=300'
    --max-regress 'async.queue_wait_us.p50/async.end_to_end_us.p50=300')
expect 0 ratios "${ratios[@]}" "$all" "$safe"
expect_in "all vs safe with ratios" "PASS: 0 of 2 thresholds crossed" "$workdir/ratios.out"
expect_in "all vs safe with ratios" "async.end_to_end_us.p50/inline.end_to_end_us.p50" \
    "$workdir/ratios.out"

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

# JUnit: safe vs all with `*`, expanded to the 3 modes; the direct server is not in the baseline,
# so its threshold passes (skipped) while its off-loop writes fail. Findings checks: 3 primary
# modes x 4 kinds (no dropped_data without --strict).
junit=$workdir/junit.xml
expect 1 junit --junit "$junit" --max-regress '*.end_to_end_us.p99=1000' "$safe" "$all"
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
