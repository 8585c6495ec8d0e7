#!/usr/bin/env bash
# preload.capture: `xtio-capture --preload --command-only -- preload_fixture`, then xtio-analyze
# on the trace: the capture exits as the fixture does, and the JSON report holds the fixture's
# `expect` counts (e2e_check_report preload says which), with exit code 1 for its off-loop
# writes, and names their site as a function and line of fixture.c.
#
# Usage: capture_fixture_test.sh XTIO_CAPTURE XTIO_ANALYZE FIXTURE E2E_CHECK_REPORT
# Needs a reachable lttng-sessiond, as xtio-capture does with --no-start-sessiond.
set -uo pipefail

if [ $# -ne 4 ]; then
    echo "usage: $0 XTIO_CAPTURE XTIO_ANALYZE FIXTURE E2E_CHECK_REPORT" >&2
    exit 2
fi
capture=$1
analyze=$2
fixture=$3
checker=$4
readonly step_timeout=120

die() {
    echo "capture_fixture_test: $*" >&2
    exit 1
}

workdir=$(mktemp -d "${TMPDIR:-/tmp}/xtio-preload-capture.XXXXXX") || die "cannot make a temporary directory"
cleanup() {
    local rc=$?
    if [ "$rc" = 0 ]; then
        rm -rf "$workdir"
    else
        echo "capture_fixture_test: trace and outputs kept in $workdir" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT

timeout "$step_timeout" "$capture" --preload --command-only --no-start-sessiond \
    -o "$workdir/trace" -- "$fixture" >"$workdir/fixture.out" 2>"$workdir/capture.err"
rc=$?
[ "$rc" = 0 ] || die "xtio-capture --preload exited $rc: $(cat "$workdir/capture.err")"
grep -q '^expect io_write.off_loop ' "$workdir/fixture.out" ||
    die "the fixture printed no expectations: $(cat "$workdir/fixture.out")"

timeout "$step_timeout" "$analyze" --format json "$workdir/trace" >"$workdir/report.json" \
    2>"$workdir/analyze.err"
rc=$?
[ "$rc" = 1 ] || die "xtio-analyze exited $rc on the fixture's trace, expected 1 (off-loop" \
    "writes): $(cat "$workdir/analyze.err")"
"$checker" preload "$workdir/report.json" "$workdir/fixture.out" ||
    die "the report does not hold the fixture's counts (above)"

timeout "$step_timeout" "$analyze" "$workdir/trace" >"$workdir/report.txt" 2>&1
grep -Eq 'bufferevent_write at preload_fixture\+0x[0-9a-f]+ \(worker_main\+0x[0-9a-f]+, fixture\.c:[0-9]+\)' \
    "$workdir/report.txt" ||
    die "the text report does not name the off-loop writes' site as worker_main in fixture.c:" \
        "$(grep -m3 'io_write in' "$workdir/report.txt")"
echo "capture_fixture_test: the report of the captured fixture holds its counts"
