#!/usr/bin/env bash
# preload.robust.MODE: runs `preload_robust MODE` once without libxtio-preload.so and once with it
# under a fresh LTTng session of its own, then checks that
#   - its stdout and exit code are the same both times, and it wrote nothing to stderr: the shim
#     changed nothing, and it neither hung (every run is bounded) nor crashed;
#   - babeltrace2 reads the trace, and the trace holds exactly the counts of the program's
#     `expect KEY VALUE` lines, and at least those of its `atleast KEY VALUE` lines
#     (check_fixture.awk says what each key counts).
# A sanitized build of the program gets its sanitizer runtime first in LD_PRELOAD, the shim
# after it (the runtime must be the first library of the process).
# Needs a reachable lttng-sessiond (it does not start one). The session is destroyed whatever
# happens; the trace and the outputs are kept on failure and their directory is printed.
#
# Usage: run_robust_test.sh LIBXTIO_PRELOAD_SO PRELOAD_ROBUST CHECK_FIXTURE_AWK MODE [LIBRARY...]
#   LIBRARY...  preloaded after the shim (fork: liblttng-ust-fork.so.1, as xtio-capture does)
# Environment: XTIO_TRACE_KEEP=1 keeps the trace directory even on success.
set -uo pipefail

if [ $# -lt 4 ]; then
    echo "usage: $0 LIBXTIO_PRELOAD_SO PRELOAD_ROBUST CHECK_FIXTURE_AWK MODE [LIBRARY...]" >&2
    exit 2
fi
shim=$1
program=$2
checker=$3
mode=$4
shift 4

# Each step is bounded, and all of them stay under the ctest TIMEOUT (CMakeLists.txt).
readonly lttng_timeout=30
readonly program_timeout=60

die() {
    echo "run_robust_test($mode): $*" >&2
    exit 1
}

# shellcheck source=../lttng_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lttng_lib.sh"
# shellcheck source=preload_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/preload_lib.sh"

need_lttng "(as root, or as this user for a per-user daemon)."
command -v babeltrace2 >/dev/null || die "the babeltrace2 command is missing: install babeltrace2"

workdir=$(mktemp -d "${TMPDIR:-/tmp}/xtio-robust.XXXXXX") || die "cannot make a temporary directory"
session="xtio-robust-$mode-$$"
session_created=0

cleanup() {
    local rc=$?
    destroy_leftover_session run_robust_test
    if [ "$rc" = 0 ] && [ "${XTIO_TRACE_KEEP:-0}" != 1 ]; then
        rm -rf "$workdir"
    else
        echo "run_robust_test($mode): trace and outputs kept in $workdir" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

preload=$(preload_for "$program" "$shim" "$@")

timeout "$program_timeout" "$program" "$mode" >"$workdir/plain.out" 2>"$workdir/plain.err"
plain_rc=$?
[ "$plain_rc" = 0 ] || die "preload_robust $mode fails without the shim (exit $plain_rc):" \
    "$(cat "$workdir/plain.out" "$workdir/plain.err")"

create_session --output="$workdir/trace"
# Only this program's processes and threads, named "prX-*" after the mode: other programs (and
# other modes) traced at the same time (ctest -j) would otherwise share the session's buffers.
lttng_step enable-event -u -s "$session" 'xtio:*' --filter "\$ctx.procname == \"pr${mode:0:1}-*\""
lttng_step enable-event -u -s "$session" 'lttng_ust_statedump:bin_info'
lttng_step add-context -u -s "$session" -t vtid -t vpid -t procname
lttng_step start "$session"

shim_sanitizer_env
# env under timeout: timeout itself must not run with the shim.
timeout "$program_timeout" env LD_PRELOAD="$preload" \
    LTTNG_UST_REGISTER_TIMEOUT="${LTTNG_UST_REGISTER_TIMEOUT:-20000}" \
    "$program" "$mode" >"$workdir/shim.out" 2>"$workdir/shim.err"
shim_rc=$?
end_session

[ "$shim_rc" = 124 ] && die "preload_robust $mode did not finish within ${program_timeout}s" \
    "under the shim: $(cat "$workdir/shim.out" "$workdir/shim.err")"
[ "$shim_rc" = "$plain_rc" ] || die "preload_robust $mode exits $shim_rc under the shim," \
    "$plain_rc without: $(cat "$workdir/shim.out" "$workdir/shim.err")"
cmp -s "$workdir/plain.out" "$workdir/shim.out" ||
    die "the output differs under the shim: $(diff "$workdir/plain.out" "$workdir/shim.out")"
[ -s "$workdir/shim.err" ] && die "preload_robust $mode wrote to stderr under the shim:" \
    "$(cat "$workdir/shim.err")"

timeout "$lttng_timeout" babeltrace2 "$workdir/trace" >"$workdir/trace.txt" 2>"$workdir/babeltrace.err" ||
    die "babeltrace2 cannot read the trace: $(cat "$workdir/babeltrace.err")"
awk -v program=preload_robust -f "$checker" "$workdir/trace.txt" >"$workdir/got.txt" ||
    die "check_fixture.awk failed"

failures=0
checked=0
while read -r how key want; do
    have=$(awk -v k="$key" '$2 == k { print $3 }' "$workdir/got.txt")
    have=${have:-0}
    checked=$((checked + 1))
    if [ "$how" = expect ] && [ "$have" != "$want" ]; then
        echo "run_robust_test($mode): $key: the trace has $have, the program made $want" >&2
        failures=$((failures + 1))
    elif [ "$how" = atleast ] && [ "$have" -lt "$want" ]; then
        echo "run_robust_test($mode): $key: the trace has $have, the program made at least" \
            "$want" >&2
        failures=$((failures + 1))
    fi
done < <(grep -E '^(expect|atleast) ' "$workdir/shim.out")
[ "$checked" -gt 0 ] || die "preload_robust $mode printed no expectations"
[ "$failures" = 0 ] || die "$failures of $checked counts differ (all counts: $workdir/got.txt)"
echo "run_robust_test($mode): $checked counts match; the same output and exit code as without" \
    "the shim"
