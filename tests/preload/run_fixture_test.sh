#!/usr/bin/env bash
# preload.fixture: runs preload_fixture once without libxtio-preload.so and once with it under a
# fresh LTTng session of its own, then checks that
#   - its stdout and exit code are the same both times (the shim changes no behaviour, and the
#     program sees its own callbacks and arguments: its "as the program set them: yes" line);
#   - the trace holds exactly the counts its `expect` lines give (check_fixture.awk says what each
#     key counts), sites included: every io_write and loop_post site lies in the fixture binary.
# Needs a reachable lttng-sessiond (it does not start one). The session is destroyed whatever
# happens; the trace and the outputs are kept on failure and their directory is printed.
#
# Usage: run_fixture_test.sh LIBXTIO_PRELOAD_SO FIXTURE CHECK_FIXTURE_AWK
# Environment: XTIO_TRACE_KEEP=1 keeps the trace directory even on success.
set -uo pipefail

if [ $# -ne 3 ]; then
    echo "usage: $0 LIBXTIO_PRELOAD_SO FIXTURE CHECK_FIXTURE_AWK" >&2
    exit 2
fi
shim=$1
fixture=$2
checker=$3

# Every step is bounded; all of them together stay under the ctest TIMEOUT in CMakeLists.txt, so
# that the EXIT trap always gets to destroy the session.
readonly lttng_timeout=30
readonly program_timeout=60

die() {
    echo "run_fixture_test: $*" >&2
    exit 1
}

# shellcheck source=../lttng_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lttng_lib.sh"
# shellcheck source=preload_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/preload_lib.sh"

need_lttng "(as root, or as this user for a per-user daemon)."
command -v babeltrace2 >/dev/null || die "the babeltrace2 command is missing: install babeltrace2"

workdir=$(mktemp -d "${TMPDIR:-/tmp}/xtio-preload.XXXXXX") || die "cannot make a temporary directory"
session="xtio-preload-$$"
session_created=0

cleanup() {
    local rc=$?
    destroy_leftover_session run_fixture_test
    if [ "$rc" = 0 ] && [ "${XTIO_TRACE_KEEP:-0}" != 1 ]; then
        rm -rf "$workdir"
    else
        echo "run_fixture_test: trace and outputs kept in $workdir" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

timeout "$program_timeout" "$fixture" >"$workdir/plain.out" 2>"$workdir/plain.err"
plain_rc=$?
[ "$plain_rc" = 0 ] || die "preload_fixture fails without the shim (exit $plain_rc):" \
    "$(cat "$workdir/plain.out" "$workdir/plain.err")"

create_session --output="$workdir/trace"
# Only the fixture's threads (main is "preload_fixture", the others "pfx-*"): other programs
# traced at the same time (ctest -j) would otherwise share the session's buffers. The statedump's
# bin_info gives the fixture's mapping, to place the sites; check_fixture.awk keeps the fixture's.
# shellcheck disable=SC2016 # $ctx belongs to the LTTng filter language, not to the shell
lttng_step enable-event -u -s "$session" 'xtio:*' \
    --filter '$ctx.procname == "preload_fixture" || $ctx.procname == "pfx-*"'
lttng_step enable-event -u -s "$session" 'lttng_ust_statedump:bin_info'
lttng_step add-context -u -s "$session" -t vtid -t vpid -t procname
lttng_step start "$session"

shim_sanitizer_env
# env under timeout: timeout itself must not run with the shim.
timeout "$program_timeout" env LD_PRELOAD="$(preload_for "$fixture" "$shim")" \
    LTTNG_UST_REGISTER_TIMEOUT="${LTTNG_UST_REGISTER_TIMEOUT:-20000}" \
    "$fixture" >"$workdir/shim.out" 2>"$workdir/shim.err"
shim_rc=$?
end_session

[ "$shim_rc" = 124 ] && die "preload_fixture did not finish within ${program_timeout}s under the shim"
[ "$shim_rc" = "$plain_rc" ] || die "preload_fixture exits $shim_rc under the shim, $plain_rc" \
    "without: $(cat "$workdir/shim.out" "$workdir/shim.err")"
cmp -s "$workdir/plain.out" "$workdir/shim.out" ||
    die "preload_fixture's output differs under the shim:" \
        "$(diff "$workdir/plain.out" "$workdir/shim.out")"
[ -s "$workdir/shim.err" ] && die "preload_fixture wrote to stderr under the shim: $(cat "$workdir/shim.err")"
expect_in "preload_fixture" "as the program set them: yes" "$workdir/shim.out"

timeout "$lttng_timeout" babeltrace2 "$workdir/trace" >"$workdir/trace.txt" 2>"$workdir/babeltrace.err" ||
    die "babeltrace2 cannot read the trace: $(cat "$workdir/babeltrace.err")"
awk -f "$checker" "$workdir/trace.txt" >"$workdir/got.txt" || die "check_fixture.awk failed"

failures=0
while read -r _ key want; do
    have=$(awk -v k="$key" '$2 == k { print $3 }' "$workdir/got.txt")
    if [ "${have:-0}" != "$want" ]; then
        echo "run_fixture_test: $key: the trace has ${have:-0}, the fixture made $want" >&2
        failures=$((failures + 1))
    fi
done < <(grep '^expect ' "$workdir/shim.out")
[ "$failures" = 0 ] || die "$failures counts differ (all counts: $workdir/got.txt)"
echo "run_fixture_test: $(grep -c '^expect ' "$workdir/shim.out") exact counts match"
