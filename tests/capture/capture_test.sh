#!/usr/bin/env bash
# Tests of xtio-capture against real LTTng sessions, a real xtio-server under xtio-load and a real
# lttng-relayd on loopback. One CASE per run:
#   cli        --help names every option, --version, usage errors exit 125 (no LTTng needed)
#   status     COMMAND's exit status passes through (3; 128+signal); not found 127, not
#              executable 126, and neither leaves a session
#   errors     exit 125 with a message saying what to do: lttng missing from PATH, session name in
#              use, output directory exists, no such --attach PID
#   server     xtio-server --handoff async under a bounded load: exit 0, the trace analyses clean
#              with async handoffs > 0, the session is gone
#   interrupt  SIGINT mid-load: exit 130, the trace still analyses (0 or 1), no session left; a
#              COMMAND that ignores SIGINT is killed by a second one, and no session is left
#   attach     --attach to a server while load runs, --duration 2: exit 0, xtio-analyze exit 0,
#              and it reports the cut edges ("incomplete")
#   live       --live through a private lttng-relayd on free loopback ports: analysed live from
#              the printed net:// URL and afterwards from the relayd's output, both clean
# Needs a reachable lttng-sessiond (except `cli`): xtio-capture runs with --no-start-sessiond, as
# a daemon spawned here would outlive the test. Sessions of this test are destroyed and processes
# killed whatever happens; the work directory is kept on failure and its path printed.
set -uo pipefail

usage="usage: capture_test.sh CASE XTIO_CAPTURE XTIO_SERVER XTIO_LOAD XTIO_ANALYZE E2E_CHECK_REPORT"
if (($# != 6)); then
    echo "$usage" >&2
    exit 2
fi
case=$1
capture=$(realpath "$2")
server=$(realpath "$3")
load=$(realpath "$4")
analyze=$(realpath "$5")
checker=$(realpath "$6")

# Every step is bounded, and all of them together stay under the ctest TIMEOUT.
readonly step_timeout=60
readonly lttng_timeout=30
readonly start_tries=600 # of 0.05 s

workdir=$(mktemp -d "${TMPDIR:-/tmp}/xtio-capture-$case.XXXXXX") || {
    echo "capture_test $case: FAIL: cannot make a work directory" >&2
    exit 1
}
session="xtio-capture-test-$case-$$"
# Processes started here (besides xtio-capture runs waited for in the foreground).
background_pids=()
relayd_pid=""

# shellcheck source=../server/server_lib.sh
source "$(dirname "$0")/../server/server_lib.sh"
# shellcheck source=../lttng_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lttng_lib.sh"
# Default outputs (./SESSION) land in the work directory too.
cd "$workdir" || exit 1

die() {
    echo "capture_test $case: FAIL: $*" >&2
    exit 1
}

cleanup() {
    local rc=$? pid name
    for pid in "${background_pids[@]}" ${SERVER_PID:+"$SERVER_PID"}; do
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    # Whatever a failed step left behind: this test's sessions all start with $session.
    while read -r name; do
        timeout "$lttng_timeout" lttng --no-sessiond destroy "$name" >/dev/null 2>&1 ||
            echo "capture_test $case: could not destroy $name: 'lttng destroy $name'" >&2
    done < <(lttng --no-sessiond list 2>/dev/null |
        sed -n "s/^ *[0-9]*) \(${session}[^ ]*\) .*/\1/p")
    stop_relayd
    [[ -n "${XTIO_SERVER_DIR:-}" ]] && rm -rf "$XTIO_SERVER_DIR"
    if ((rc == 0)); then
        rm -rf "$workdir"
    else
        echo "capture_test $case: traces and logs kept in $workdir" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# liblttng-ust registers from its constructor and waits at most this long (ms) for the session's
# events to be enabled; sanitizer builds start slowly.
export LTTNG_UST_REGISTER_TIMEOUT=${LTTNG_UST_REGISTER_TIMEOUT:-20000}

# run_capture NAME WANT_RC [OPTION...] [-- COMMAND...]: xtio-capture in the foreground, stderr in
# NAME.err.
run_capture() {
    local name=$1 want=$2 rc=0
    shift 2
    timeout "$step_timeout" "$capture" "$@" >"$workdir/$name.out" 2>"$workdir/$name.err" || rc=$?
    ((rc == want)) || die "xtio-capture $*: exit status $rc, expected $want; stderr:" \
        "$(cat "$workdir/$name.err")"
}

session_gone() {
    local name=$1
    ! timeout "$lttng_timeout" lttng --no-sessiond list "$name" >/dev/null 2>&1 ||
        die "xtio-capture left the LTTng session $name behind"
}

# wait_for FILE TEXT PID WHAT: until FILE says TEXT, while PID lives.
wait_for() {
    local file=$1 text=$2 pid=$3 what=$4 tries=0
    while ! grep -qF -- "$text" "$file" 2>/dev/null; do
        kill -0 "$pid" 2>/dev/null || die "$what exited early: $(cat "$file")"
        ((++tries > start_tries)) && die "$what did not say '$text' in time: $(cat "$file")"
        sleep 0.05
    done
}

# await PID WHAT: PID's exit status, in `awaited`, within the step timeout.
await() {
    local pid=$1 what=$2
    timeout "$step_timeout" tail --pid="$pid" -f /dev/null || die "$what did not end in time"
    awaited=0
    wait "$pid" || awaited=$?
}

# analyze TRACE NAME: xtio-analyze's JSON report into NAME.json, its exit status in analyzed.
analyze() {
    analyzed=0
    timeout "$step_timeout" "$analyze" --format json --output "$workdir/$2.json" "$1" \
        2>"$workdir/$2.analyze.err" || analyzed=$?
}

async_handoffs() {
    awk '/"async": \{/ { mode = 1 } mode && /"handoffs":/ { gsub(/[^0-9]/, ""); print; exit }' \
        "$1"
}

expect_async_handoffs() {
    local count
    count=$(async_handoffs "$1")
    ((${count:-0} > 0)) || die "no async handoff in $1"
}

# The report names the server's process after its program (lttng_ust_statedump:procname), not
# after one of its threads.
expect_program_name() {
    grep -Eq '"name": *"xtio-server"' "$1" ||
        die "the report does not name the process xtio-server: $(grep -E '"name"' "$1" | head -3)"
}

# start_captured_server NAME [XTIO-CAPTURE OPTION...]: xtio-capture -- xtio-server --handoff async
# in the background, recording that process only; sets capture_pid, server_pid and port.
start_captured_server() {
    local name=$1
    shift
    # sh writes its pid, then exec keeps it for xtio-server: the pid --command-only tracks.
    # shellcheck disable=SC2016 # $$ and $@ are for that sh
    "$capture" --no-start-sessiond --command-only "$@" -- \
        sh -c 'echo $$ >"$0"; exec "$@"' "$workdir/$name.pid" \
        "$server" --port 0 --handoff async --loops 2 --workers 2 \
        >"$workdir/$name.out" 2>"$workdir/$name.err" &
    capture_pid=$!
    background_pids+=("$capture_pid")
    wait_for "$workdir/$name.out" "listening on" "$capture_pid" "xtio-capture -- xtio-server"
    server_pid=$(cat "$workdir/$name.pid")
    port=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\) .*/\1/p' "$workdir/$name.out")
    [[ -n "$port" ]] || die "cannot read the port from: $(cat "$workdir/$name.out")"
}

# run_load PORT NAME [XTIO-LOAD OPTION...]: a bounded RANGE load, in the foreground.
run_load() {
    local port=$1 name=$2
    shift 2
    timeout "$step_timeout" "$load" -p "$port" --timeout 30 --populate 5000 --mix range=1 "$@" \
        >"$workdir/$name.load" 2>&1
}

# ---- Cases ----------------------------------------------------------------------------------

case_cli() {
    local help option
    help=$("$capture" --help) || die "xtio-capture --help exited non-zero"
    for option in --output --session --live --live-port --subbuf-size --num-subbuf --attach \
        --duration --command-only --preload --no-start-sessiond --help --version 'Exit status' 125 \
        126 127; do
        grep -qF -- "$option" <<<"$help" || die "xtio-capture --help does not document $option"
    done
    [[ "$("$capture" -h)" == "$help" ]] || die "xtio-capture -h differs from --help"
    "$capture" --version | grep -q '^xtio-capture (xtio) [0-9]' ||
        die "xtio-capture --version does not print its version"
    run_capture none 125
    expect_in "xtio-capture without COMMAND" "no COMMAND given" "$workdir/none.err"
    run_capture unknown 125 --frobnicate -- true
    expect_in "xtio-capture --frobnicate" "unknown option '--frobnicate'" "$workdir/unknown.err"
    run_capture subbuf 125 --subbuf-size 3k -- true
    expect_in "xtio-capture --subbuf-size 3k" "use a power of two" "$workdir/subbuf.err"
    run_capture subbuf-m 125 --subbuf-size 4m -- true
    expect_in "xtio-capture --subbuf-size 4m (lttng takes M, not m)" "use a power of two" \
        "$workdir/subbuf-m.err"
    run_capture live-port 125 --live net://127.0.0.1 --live-port 1k -- true
    expect_in "xtio-capture --live-port 1k" "invalid --live-port '1k'" "$workdir/live-port.err"
    run_capture num 125 --num-subbuf 0 -- true
    expect_in "xtio-capture --num-subbuf 0" "invalid --num-subbuf" "$workdir/num.err"
    run_capture duration 125 --duration 2 -- true
    expect_in "xtio-capture --duration with a COMMAND" "timeout(1)" "$workdir/duration.err"
    run_capture both 125 --attach 1 -- true
    expect_in "xtio-capture --attach with a COMMAND" "not both" "$workdir/both.err"
    run_capture live 125 --live net://127.0.0.1 -o "$workdir/x" -- true
    expect_in "xtio-capture --live with --output" "cannot go together" "$workdir/live.err"
    run_capture preload-attach 125 --preload --attach 1
    expect_in "xtio-capture --preload --attach" "cannot load libxtio-preload.so" \
        "$workdir/preload-attach.err"
    run_capture value 125 --session
    expect_in "xtio-capture --session" "needs a value" "$workdir/value.err"
}

case_status() {
    need_lttng
    run_capture three 3 --no-start-sessiond -o "$workdir/three" --session "$session-3" -- \
        sh -c 'exit 3'
    expect_in "xtio-capture's last lines" "trace written to $workdir/three" "$workdir/three.err"
    session_gone "$session-3"
    # Died of SIGUSR1 (10): 128 + 10, as a shell says it.
    run_capture signal 138 --no-start-sessiond -o "$workdir/signal" -- sh -c 'kill -USR1 $$'
    run_capture missing 127 --no-start-sessiond --session "$session-m" -- xtio-no-such-command
    expect_in "xtio-capture" "command not found" "$workdir/missing.err"
    session_gone "$session-m"
    [[ ! -e "$workdir/$session-m" ]] || die "xtio-capture made an output for a missing command"
    touch "$workdir/plain"
    run_capture plain 126 --no-start-sessiond --session "$session-p" -- "$workdir/plain"
    expect_in "xtio-capture" "not an executable file" "$workdir/plain.err"
    session_gone "$session-p"
}

case_errors() {
    need_lttng
    # lttng missing: a PATH without it, and xtio-capture and COMMAND by absolute path.
    local rc=0
    timeout "$step_timeout" env PATH=/nonexistent "$capture" -o "$workdir/nolttng" -- /bin/true \
        2>"$workdir/nolttng.err" || rc=$?
    ((rc == 125)) || die "without lttng in PATH: exit status $rc, expected 125"
    expect_in "xtio-capture without lttng" "install the Debian package lttng-tools" \
        "$workdir/nolttng.err"

    # A session of that name made by hand stays untouched.
    timeout "$lttng_timeout" lttng --no-sessiond create "$session" --output="$workdir/by-hand" \
        >"$workdir/create.log" 2>&1 ||
        die "lttng create $session failed: $(cat "$workdir/create.log")"
    run_capture inuse 125 --no-start-sessiond --session "$session" -o "$workdir/inuse" -- true
    expect_in "xtio-capture on a session name in use" "lttng destroy $session" \
        "$workdir/inuse.err"
    timeout "$lttng_timeout" lttng --no-sessiond list "$session" >/dev/null 2>&1 ||
        die "xtio-capture destroyed a session it did not make"
    timeout "$lttng_timeout" lttng --no-sessiond destroy "$session" >/dev/null 2>&1 ||
        die "cannot destroy $session"

    mkdir "$workdir/exists"
    touch "$workdir/exists/keep"
    run_capture exists 125 --no-start-sessiond --session "$session-e" -o "$workdir/exists" -- true
    expect_in "xtio-capture on an existing output" "exists already" "$workdir/exists.err"
    expect_in "xtio-capture on an existing output" "-o DIR" "$workdir/exists.err"
    [[ -e "$workdir/exists/keep" ]] || die "xtio-capture touched an existing output directory"
    session_gone "$session-e"

    # A pid that was just reaped: no process has it (until the kernel reuses it, much later).
    true &
    local gone=$!
    wait "$gone"
    run_capture attach 125 --no-start-sessiond --attach "$gone" --duration 1
    expect_in "xtio-capture --attach on a missing process" "no running process has PID $gone" \
        "$workdir/attach.err"
}

case_server() {
    need_lttng
    start_captured_server server -o "$workdir/trace" --session "$session" --subbuf-size 1M \
        --num-subbuf 8
    run_load "$port" server -n 300 -c 4 || die "xtio-load failed: $(cat "$workdir/server.load")"
    kill -TERM "$server_pid"
    await "$capture_pid" "xtio-capture"
    ((awaited == 0)) || die "xtio-capture exited $awaited, expected xtio-server's 0:" \
        "$(cat "$workdir/server.err")"
    expect_in "xtio-capture's last lines" "trace written to $workdir/trace" "$workdir/server.err"
    expect_in "xtio-capture's last lines" "next: xtio-analyze $workdir/trace" "$workdir/server.err"
    session_gone "$session"
    analyze "$workdir/trace" report
    ((analyzed == 0)) || die "xtio-analyze exited $analyzed: $(cat "$workdir/report.analyze.err")"
    "$checker" clean "$workdir/report.json" || die "the report is not clean (above)"
    expect_async_handoffs "$workdir/report.json"
    expect_program_name "$workdir/report.json"
    # Without the procname context, the threads are named by their own xtio:thread_name.
    timeout "$step_timeout" "$analyze" --by-thread "$workdir/trace" >"$workdir/threads.txt" \
        2>&1 || die "xtio-analyze --by-thread failed: $(cat "$workdir/threads.txt")"
    expect_in "the per-thread tables" " xtio-worker-0 " "$workdir/threads.txt"
    expect_in "the per-thread tables" " xtio-loop-1 " "$workdir/threads.txt"
}

case_interrupt() {
    need_lttng
    start_captured_server int -o "$workdir/trace" --session "$session"
    # Long enough to be cut: the server stops under it, so its failure is expected.
    run_load "$port" int -d 20 -c 1 --range-width 10 &
    local load_pid=$!
    background_pids+=("$load_pid")
    sleep 1
    kill -INT "$capture_pid"
    await "$capture_pid" "xtio-capture after SIGINT"
    ((awaited == 130)) || die "xtio-capture exited $awaited after SIGINT, expected 130:" \
        "$(cat "$workdir/int.err")"
    expect_in "xtio-capture's last lines" "trace written to $workdir/trace" "$workdir/int.err"
    session_gone "$session"
    kill -KILL "$load_pid" 2>/dev/null
    wait "$load_pid" 2>/dev/null
    analyze "$workdir/trace" report
    ((analyzed == 0 || analyzed == 1)) ||
        die "xtio-analyze exited $analyzed on an interrupted capture:" \
            "$(cat "$workdir/report.analyze.err")"
    expect_async_handoffs "$workdir/report.json"

    # A COMMAND deaf to SIGINT: the second one kills it, and the session still goes.
    "$capture" --no-start-sessiond --session "$session-deaf" -o "$workdir/deaf" -- \
        sh -c 'trap "" INT; while :; do sleep 0.1; done' >/dev/null 2>"$workdir/deaf.err" &
    capture_pid=$!
    background_pids+=("$capture_pid")
    wait_for "$workdir/deaf.err" "recording LTTng session" "$capture_pid" "xtio-capture"
    kill -INT "$capture_pid"
    sleep 0.5
    kill -0 "$capture_pid" 2>/dev/null || die "the first SIGINT ended a COMMAND that ignores it"
    kill -INT "$capture_pid"
    await "$capture_pid" "xtio-capture after a second SIGINT"
    ((awaited == 130)) || die "xtio-capture exited $awaited after two SIGINTs, expected 130:" \
        "$(cat "$workdir/deaf.err")"
    expect_in "xtio-capture after a second SIGINT" "killing COMMAND" "$workdir/deaf.err"
    session_gone "$session-deaf"
}

case_attach() {
    need_lttng
    start_server "$server" --handoff async --loops 2 --workers 2
    # start_server's trap would replace ours: both clean-ups are in cleanup().
    trap cleanup EXIT
    # PORT and SERVER_PID come from start_server.
    # shellcheck disable=SC2153
    run_load "$PORT" attach -d 4 -c 1 --range-width 10 &
    local load_pid=$!
    background_pids+=("$load_pid")
    sleep 0.5
    run_capture attach 0 --no-start-sessiond --attach "$SERVER_PID" --duration 2 \
        -o "$workdir/trace" --session "$session"
    session_gone "$session"
    await "$load_pid" "xtio-load"
    ((awaited == 0)) || die "xtio-load failed: $(cat "$workdir/attach.load")"
    stop_server
    SERVER_PID=""
    analyze "$workdir/trace" report
    ((analyzed == 0)) || die "xtio-analyze exited $analyzed on an attached capture:" \
        "$(cat "$workdir/report.analyze.err")"
    expect_async_handoffs "$workdir/report.json"
    # The statedump of a session started while the server runs names it too.
    expect_program_name "$workdir/report.json"
    # The trace starts and ends mid-run: the text report says so, and it is not a finding.
    timeout "$step_timeout" "$analyze" "$workdir/trace" >"$workdir/report.txt" 2>&1 ||
        die "xtio-analyze's text report failed: $(cat "$workdir/report.txt")"
    expect_in "the text report" "incomplete, the trace started or ended mid-run" \
        "$workdir/report.txt"
}

case_live() {
    need_lttng
    start_relayd
    start_captured_server live --session "$session" \
        --live "net://127.0.0.1:${relayd_ports[0]}:${relayd_ports[1]}" \
        --live-port "${relayd_ports[2]}"
    local url
    url=$(sed -n 's/.*analyse it live with: xtio-analyze //p' "$workdir/live.err")
    [[ "$url" == "net://127.0.0.1:${relayd_ports[2]}/host/"*"/$session" ]] ||
        die "xtio-capture printed no usable live URL: $(cat "$workdir/live.err")"
    "$analyze" --format json --output "$workdir/live.json" "$url" >/dev/null \
        2>"$workdir/viewer.err" &
    local viewer_pid=$!
    background_pids+=("$viewer_pid")
    run_load "$port" live -n 300 -c 4 || die "xtio-load failed: $(cat "$workdir/live.load")"
    kill -TERM "$server_pid"
    await "$capture_pid" "xtio-capture --live"
    ((awaited == 0)) || die "xtio-capture --live exited $awaited: $(cat "$workdir/live.err")"
    expect_in "xtio-capture's last lines" "trace streamed to" "$workdir/live.err"
    session_gone "$session"
    # The viewer ends by itself once the session is destroyed.
    await "$viewer_pid" "xtio-analyze on $url"
    ((awaited == 0)) || die "xtio-analyze $url exited $awaited: $(cat "$workdir/viewer.err")"
    "$checker" clean "$workdir/live.json" || die "the live report is not clean (above)"
    expect_async_handoffs "$workdir/live.json"
    analyze "$workdir/relayd" after
    ((analyzed == 0)) || die "xtio-analyze of the relayd's output exited $analyzed:" \
        "$(cat "$workdir/after.analyze.err")"
    expect_async_handoffs "$workdir/after.json"
}

case "$case" in
cli) case_cli ;;
status) case_status ;;
errors) case_errors ;;
server) case_server ;;
interrupt) case_interrupt ;;
attach) case_attach ;;
live) case_live ;;
*)
    echo "capture_test: unknown case '$case'; $usage" >&2
    exit 2
    ;;
esac
echo "capture_test $case: passed"
