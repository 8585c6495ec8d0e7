#!/usr/bin/env bash
# Records handoff_program in a fresh LTTng session of its own and checks the trace with
# check_trace. Needs a reachable lttng-sessiond (it does not start one: a daemon spawned here
# would outlive the test). The session is destroyed whatever happens; the trace and the program's
# output are kept on failure and their directory is printed.
#
# Usage: run_trace_test.sh HANDOFF_PROGRAM CHECK_TRACE
# Environment: XTIO_TRACE_KEEP=1 keeps the trace directory even on success.
set -uo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 HANDOFF_PROGRAM CHECK_TRACE" >&2
    exit 2
fi
program=$1
checker=$2

# Every step is bounded, and all of them together (7 lttng commands at most) stay under the ctest
# TIMEOUT in CMakeLists.txt, so that the EXIT trap always gets to destroy the session. The
# program's own watchdog (60 s) fires before its step's bound.
readonly lttng_timeout=30
readonly program_timeout=90
readonly checker_timeout=30

die() {
    echo "run_trace_test: $*" >&2
    exit 1
}

# shellcheck source=../lttng_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lttng_lib.sh"

need_lttng "(as root, or as this user for a per-user daemon)."

workdir=$(mktemp -d "${TMPDIR:-/tmp}/xtio-trace.XXXXXX") || die "cannot make a temporary directory"
session="xtio-trace-$$"
session_created=0

cleanup() {
    local rc=$?
    destroy_leftover_session run_trace_test
    if [ "$rc" = 0 ] && [ "${XTIO_TRACE_KEEP:-0}" != 1 ]; then
        rm -rf "$workdir"
    else
        echo "run_trace_test: trace and program output kept in $workdir" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

create_session --output="$workdir/trace"
# Only handoff_program's threads (see the thread names in handoff_program.c): other processes
# using libxtio at the same time, such as the unit tests under `ctest -j`, would otherwise share
# the session's buffers and could make it discard events.
# shellcheck disable=SC2016 # $ctx belongs to the LTTng filter language, not to the shell
lttng_step enable-event -u -s "$session" 'xtio:*' \
    --filter '$ctx.procname == "hprog-*" || $ctx.procname == "handoff_program"'
lttng_step add-context -u -s "$session" -t vtid -t vpid -t procname
lttng_step start "$session"

# liblttng-ust registers with the daemon from its constructor and waits at most this long (ms)
# for the session's events to be enabled; events emitted before that are lost. Sanitizer builds
# start slowly, so allow more than the default 3 s.
export LTTNG_UST_REGISTER_TIMEOUT=${LTTNG_UST_REGISTER_TIMEOUT:-20000}

timeout "$program_timeout" "$program" >"$workdir/expected.txt" 2>"$workdir/program.log"
program_rc=$?
cat "$workdir/program.log" >&2
[ "$program_rc" = 124 ] && die "handoff_program did not finish within ${program_timeout}s"
[ "$program_rc" = 0 ] || die "handoff_program failed (exit $program_rc); see its messages above"

end_session

timeout "$checker_timeout" "$checker" "$workdir/trace" "$workdir/expected.txt"
checker_rc=$?
[ "$checker_rc" = 124 ] && die "check_trace did not finish within ${checker_timeout}s"
[ "$checker_rc" = 0 ] || die "check_trace found problems in the trace (exit $checker_rc)"
echo "run_trace_test: trace of handoff_program matches the xtio schema"
