#!/usr/bin/env bash
# preload.memccapable: libmemcached-tools' protocol conformance test, memccapable, against
# Debian's memcached run plain and then under `xtio-capture --preload --command-only`: the same
# exit status and the same test results, line for line (the shim changes no behaviour). The
# capture's report must show the shim at work (memcached's writes traced) and clean (exit 0).
#
# Usage: memccapable_test.sh XTIO_CAPTURE XTIO_ANALYZE
# Needs a reachable lttng-sessiond, memcached and memccapable (scripts/install-deps).
# Environment: XTIO_TRACE_KEEP=1 keeps the trace even on success.
set -uo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 XTIO_CAPTURE XTIO_ANALYZE" >&2
    exit 2
fi
capture=$1
analyze=$2
# memccapable's own I/O timeout (-t) and the bound of a whole run; it takes about 5 s.
readonly io_timeout=5 run_timeout=60 analyze_timeout=60

die() {
    echo "memccapable_test: $*" >&2
    exit 1
}

command -v memccapable >/dev/null ||
    die "memccapable is missing: install libmemcached-tools (scripts/install-deps)"
workdir=$(mktemp -d "${TMPDIR:-/tmp}/xtio-preload-memccapable.XXXXXX") ||
    die "cannot make a temporary directory"
# shellcheck source=memcached_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/memcached_lib.sh"

cleanup() {
    local rc=$?
    mc_cleanup
    if [ "$rc" = 0 ] && [ "${XTIO_TRACE_KEEP:-0}" != 1 ]; then
        rm -rf "$workdir"
    else
        echo "memccapable_test: trace and outputs kept in $workdir" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# memccapable against memcached started by mc_start NAME [XTIO_CAPTURE]; sets RC.
conform() {
    local name=$1
    mc_start "$@"
    RC=0
    timeout "$run_timeout" memccapable -h 127.0.0.1 -p "$MC_PORT" -t "$io_timeout" \
        >"$workdir/$name.out" 2>&1 || RC=$?
    [ "$RC" != 124 ] || die "$name: memccapable did not end within ${run_timeout}s"
    mc_stop "$name"
    grep -Eq '\[(pass|fail|skip)' "$workdir/$name.out" ||
        die "$name: memccapable ran no test (exit $RC): $(head -5 "$workdir/$name.out")"
}

conform plain
plain_rc=$RC
conform shim "$capture"
shim_rc=$RC

[ "$shim_rc" = "$plain_rc" ] || die "memccapable exits $shim_rc under the shim, $plain_rc without"
diff "$workdir/plain.out" "$workdir/shim.out" >"$workdir/diff" ||
    die "memccapable's results differ under the shim: $(cat "$workdir/diff")"

rc=0
timeout "$analyze_timeout" "$analyze" "$mc_captured" >"$workdir/report.txt" 2>&1 || rc=$?
[ "$rc" = 0 ] || die "xtio-analyze exited $rc, not 0 (clean): $(grep -A3 'findings:' "$workdir/report.txt")"
writes=$(sed -n 's/^writes to connections: \([0-9][0-9]*\),.*/\1/p' "$workdir/report.txt")
[ "${writes:-0}" -gt 0 ] || die "the trace holds no write of memcached: was the shim loaded?"

passed=$(grep -c '\[pass\]' "$workdir/shim.out")
failed=$(grep -Ec '\[(fail|FAIL)' "$workdir/shim.out")
echo "memccapable_test: the same results with and without the shim (exit $shim_rc):" \
    "$passed passed, $failed failed; the traced run made $writes writes, no finding"
