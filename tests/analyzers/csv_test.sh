#!/usr/bin/env bash
# analyzers.csv: `xtio-analyze --format csv --rows handoffs` on a real capture of scripts/workload
# (one xtio-server per handoff mode). Checks:
#   - the header is the one docs/analysis.md documents;
#   - one row per handoff: the rows of each process and mode are the JSON report's handoffs;
#   - the queue waits and ends to end of the rows, ranked by the percentile rule, agree with the
#     JSON report's p50, p90 and p99 within its histogram's 0.8% (1% allowed);
#   - direct's rows carry its off-loop writes, as many as the report's findings;
#   - the rows stream out: its peak RSS is within 10% of the text report's on the same trace.
# Usage: csv_test.sh TRACE XTIO_ANALYZE SOURCE_DIR
# TRACE: the capture of the fixture workload_trace (workload_trace.sh).
set -uo pipefail

if (($# != 3)); then
    echo "usage: $0 TRACE XTIO_ANALYZE SOURCE_DIR" >&2
    exit 2
fi
trace=$1
analyze=$2
source_dir=$3
readonly step_timeout=300

# shellcheck source=view_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/view_lib.sh"
view_test csv_test
command -v jq >/dev/null || die "jq is missing: run scripts/install-deps"

analyze_findings report.json --format json
status=0
/usr/bin/time -f %M -o "$workdir/csv.rss" timeout "$step_timeout" "$analyze" --format csv \
    --rows handoffs -o "$workdir/rows.csv" "$trace" 2>"$workdir/csv.err" || status=$?
((status == 1)) || die "xtio-analyze --format csv exited $status, expected 1: $(cat "$workdir/csv.err")"

header=vpid,conn_id,handoff_id,seq,mode,bytes,records,producer_tid,writer_tid,enqueue_ns,write_ns
header+=,flush_ns,queue_wait_ns,end_to_end_ns,finding
[[ $(head -1 "$workdir/rows.csv") == "$header" ]] ||
    die "header is '$(head -1 "$workdir/rows.csv")', expected '$header'"
grep -qF "$header" "$source_dir/docs/analysis.md" ||
    die "docs/analysis.md does not document the header '$header'"

# Processes by their primary mode; each runs one mode of the workload.
mapfile -t modes < <(jq -r '.processes[].primary_mode' "$workdir/report.json")
((${#modes[@]} == 5)) || die "expected 5 processes, one per mode; the report has ${#modes[@]}"
checks=0
for index in "${!modes[@]}"; do
    mode=${modes[$index]}
    pid=$(jq -r ".processes[$index].pid" "$workdir/report.json")
    handoffs=$(jq ".processes[$index].modes.$mode.handoffs" "$workdir/report.json")
    rows=$(awk -F, -v pid="$pid" -v mode="$mode" '$1 == pid && $5 == mode' "$workdir/rows.csv" |
        wc -l)
    ((rows == handoffs && rows > 0)) ||
        die "$mode: $rows rows, the report has $handoffs handoffs"
    for metric in queue_wait end_to_end; do
        column=$([[ $metric == queue_wait ]] && echo 13 || echo 14)
        awk -F, -v pid="$pid" -v mode="$mode" -v c="$column" \
            '$1 == pid && $5 == mode && $c != "" { print $c }' "$workdir/rows.csv" |
            sort -n >"$workdir/values"
        count=$(wc -l <"$workdir/values")
        expected=$(jq ".processes[$index].modes.$mode.${metric}_us.count" "$workdir/report.json")
        ((count == expected)) || die "$mode $metric: $count values in the rows, the report has $expected"
        ((count > 0)) || continue
        for stat in p50:500 p90:900 p99:990; do
            # Nearest rank, ceil(permille * count / 1000): the rule of docs/analysis.md.
            rank=$(((${stat#*:} * count + 999) / 1000))
            value_ns=$(sed -n "${rank}p" "$workdir/values")
            report_us=$(jq ".processes[$index].modes.$mode.${metric}_us.${stat%:*}" \
                "$workdir/report.json")
            awk -v v="$value_ns" -v r="$report_us" 'BEGIN {
                    d = v / 1000 - r; if (d < 0) d = -d
                    exit !(d <= 0.01 * r + 0.001) }' ||
                die "$mode $metric ${stat%:*}: the rows give $value_ns ns, the report $report_us us"
            checks=$((checks + 1))
        done
    done
    findings=$(jq ".processes[$index].findings.off_loop_write.count // 0" "$workdir/report.json")
    flagged=$(awk -F, -v pid="$pid" '$1 == pid && $15 == "off_loop_write"' "$workdir/rows.csv" |
        wc -l)
    ((flagged == findings)) ||
        die "$mode: $flagged rows flagged off_loop_write, the report has $findings findings"
    [[ $mode != direct ]] || ((flagged > 0)) || die "direct: no row flagged off_loop_write"
done

/usr/bin/time -f %M -o "$workdir/text.rss" timeout "$step_timeout" "$analyze" "$trace" \
    >/dev/null 2>&1
csv_rss=$(tail -1 "$workdir/csv.rss")
text_rss=$(tail -1 "$workdir/text.rss")
((csv_rss * 10 <= text_rss * 11)) ||
    die "the csv run peaked at $csv_rss KiB, the text report's at $text_rss KiB: rows are held"
echo "csv_test: $(($(wc -l <"$workdir/rows.csv") - 1)) rows; $checks percentiles agree;" \
    "peak RSS $csv_rss KiB (text: $text_rss KiB)"
