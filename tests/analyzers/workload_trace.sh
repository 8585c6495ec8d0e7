#!/usr/bin/env bash
# analyzers.workload_trace, the set-up of the ctest fixture `workload_trace`: one real capture of
# scripts/workload (one xtio-server per handoff mode, 100 RANGE requests each, every server
# tracked by an LTTng session of this run only), into OUT_DIR/trace, for the tests of the views
# that read a capture of every mode (analyzers.csv, .html, .perfetto.e2e, .progress).
# Usage: workload_trace.sh XTIO_CAPTURE BUILD_DIR SOURCE_DIR OUT_DIR
# Needs a reachable lttng-sessiond.
set -euo pipefail

if (($# != 4)); then
    echo "usage: $0 XTIO_CAPTURE BUILD_DIR SOURCE_DIR OUT_DIR" >&2
    exit 2
fi
capture=$1
build=$2
source_dir=$3
out=$4
readonly step_timeout=300

rm -rf "$out"
mkdir -p "$out"
session=xtio-workload-trace-$$
if ! timeout "$step_timeout" "$capture" --command-only --no-start-sessiond -s "$session" \
    -o "$out/trace" -- "$source_dir/scripts/workload" --build "$build" --requests 100 \
    --track "$session" >"$out/capture.out" 2>&1; then
    echo "workload_trace: FAIL: the traced workload failed:" >&2
    tail -5 "$out/capture.out" >&2
    exit 1
fi
echo "workload_trace: $out/trace"
