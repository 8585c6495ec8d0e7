#!/usr/bin/env bash
# analyzers.perfetto.e2e: `xtio-analyze --format perfetto` on a real capture of scripts/workload
# (one xtio-server per handoff mode). Checks, with
# perfetto_check against the JSON report of the same trace:
#   - the timeline parses; every flow that starts ends; timestamps are monotonic and slices nest
#     on each track; flow events sit in slices of their track;
#   - every handoff of the capture is drawn, with its flow (enqueue -> write -> flush for a
#     queued one); every off-loop write of direct has its marker on its write; every sync wait
#     its slice;
#   - --limit N draws N handoffs and says how many it cut; --begin/--end cut before and after
#     and say so.
# Usage: perfetto_test.sh TRACE XTIO_ANALYZE PERFETTO_CHECK
# TRACE: the capture of the fixture workload_trace (workload_trace.sh).
set -euo pipefail

if (($# != 3)); then
    echo "usage: $0 TRACE XTIO_ANALYZE PERFETTO_CHECK" >&2
    exit 2
fi
trace=$1
analyze=$2
check=$3
readonly step_timeout=300
readonly limit=100

# shellcheck source=view_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/view_lib.sh"
view_test perfetto_test
command -v jq >/dev/null || die "jq is missing: run scripts/install-deps"

analyze_findings report.json --format json
analyze_findings timeline.json --format perfetto
"$check" full "$workdir/timeline.json" "$workdir/report.json" || die "the full timeline"

analyze_findings limited.json --format perfetto --limit "$limit"
"$check" limit "$workdir/limited.json" "$workdir/report.json" "$limit" ||
    die "the timeline of --limit $limit"

# 2 ms around the median write, in seconds from the first xtio event: handoffs before, in and
# after it (the trace has gaps between the modes' servers, where a window could draw nothing).
read -r begin end < <(jq -r '.otherData as $m
    | [.traceEvents[] | select(.ph == "X" and (.name | startswith("write "))) | .ts] | sort
    | [.[length / 2 | floor] * 1e3 + $m.ts_origin_ns - $m.trace_first_ns, 2e6] | max
    | "\((. - 1e6) / 1e9) \((. + 1e6) / 1e9)"' "$workdir/timeline.json")
analyze_findings window.json --format perfetto --begin "$begin" --end "$end"
"$check" window "$workdir/window.json" "$workdir/report.json" ||
    die "the timeline of --begin $begin --end $end"
[[ $(jq '.otherData.begin_ns' "$workdir/window.json") -gt 0 ]] ||
    die "--begin $begin: the timeline's begin_ns is not set"

echo "perfetto_test: timeline of $(jq '.otherData.handoffs' "$workdir/timeline.json") handoffs," \
    "$(stat -c %s "$workdir/timeline.json") bytes; --limit and --begin/--end cut as they say"
