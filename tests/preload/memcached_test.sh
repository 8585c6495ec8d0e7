#!/usr/bin/env bash
# preload.memcached: Debian's memcached under `xtio-capture --preload --command-only`, driven by
# memcached_client over loopback, then read back with xtio-analyze. Two captures:
#   plain  set+get traffic on several connections: the workers write every reply on their own
#          loop, no handover, no finding (exit 0);
#   watch  the same with a `watch fetchers mutations` connection, then three `lru_crawler
#          metadump all`, each followed by a get on its connection: mc-log's and
#          mc-itemcrawler's writes are handovers (mc-log's first "OK\r\n", or a whole metadump,
#          may be off-loop: they race the worker's event_del; one metadump must be a handover);
# and in both, accepted connections reach the workers by eventfd wake-ups posted by the main
# thread, each run on an mc-worker with a measured wait. e2e_check_report memcached checks the
# JSON report against the client's own counts; the text report must name the handovers' threads
# and the eventfd wait.
#
# Usage: memcached_test.sh XTIO_CAPTURE XTIO_ANALYZE MEMCACHED_CLIENT E2E_CHECK_REPORT
# Needs a reachable lttng-sessiond and /usr/bin/memcached (scripts/install-deps).
# Environment: XTIO_TRACE_KEEP=1 keeps the traces even on success.
set -uo pipefail

if [ $# -ne 4 ]; then
    echo "usage: $0 XTIO_CAPTURE XTIO_ANALYZE MEMCACHED_CLIENT E2E_CHECK_REPORT" >&2
    exit 2
fi
capture=$1
analyze=$2
client=$3
checker=$4
readonly connections=4 rounds=100
# Bounds of each wait; the whole test stays under the ctest TIMEOUT in CMakeLists.txt.
readonly client_timeout=30 analyze_timeout=60

die() {
    echo "memcached_test: $*" >&2
    exit 1
}

command -v babeltrace2 >/dev/null || die "the babeltrace2 command is missing: install babeltrace2"

workdir=$(mktemp -d "${TMPDIR:-/tmp}/xtio-preload-memcached.XXXXXX") ||
    die "cannot make a temporary directory"
# shellcheck source=memcached_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/memcached_lib.sh"

cleanup() {
    local rc=$?
    mc_cleanup
    if [ "$rc" = 0 ] && [ "${XTIO_TRACE_KEEP:-0}" != 1 ]; then
        rm -rf "$workdir"
    else
        echo "memcached_test: traces and outputs kept in $workdir" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# memcached under the capture into $workdir/NAME.trace, and the client in MODE against it.
run() {
    local name=$1 mode=$2
    mc_start "$name" "$capture"
    timeout "$client_timeout" "$client" "$mode" "$MC_PORT" "$connections" "$rounds" \
        >"$workdir/$name.client.out" 2>"$workdir/$name.client.err" ||
        die "$name: the client failed: $(cat "$workdir/$name.client.err")"
    mc_stop "$name"
}

# The JSON report against the client's counts; the text report's lines naming what was found.
analyze_run() {
    local name=$1 want_rc=$2
    local trace="$workdir/$name.trace" rc=0
    timeout "$analyze_timeout" "$analyze" --format json "$trace" >"$workdir/$name.json" \
        2>"$workdir/$name.analyze.err" || rc=$?
    [[ " $want_rc " == *" $rc "* ]] ||
        die "$name: xtio-analyze exited $rc, expected $want_rc: $(cat "$workdir/$name.analyze.err")"
    "$checker" memcached "$workdir/$name.json" "$workdir/$name.client.out" ||
        die "$name: the report does not match the client's run (above)"
    timeout "$analyze_timeout" "$analyze" "$trace" >"$workdir/$name.txt" 2>&1
    grep -Eq '^  wait \(us\) +n +[0-9]+$' "$workdir/$name.txt" ||
        die "$name: the text report gives no wait for work posted to loops"
    grep -Eq '^work posted to loops +eventfd$' "$workdir/$name.txt" ||
        die "$name: the text report does not name the eventfd handoffs"

    # Who posted and who ran the wake-ups, from the trace itself: the report counts them per
    # mechanism, not per thread. Names come from the shim's xtio:thread_name events.
    local connections_made
    connections_made=$(sed -n 's/^client connections //p' "$workdir/$name.client.out")
    babeltrace2 "$trace" 2>/dev/null | awk -v conns="$connections_made" '
        /xtio:thread_name:/ { match($0, /vtid = [0-9]+/); tid = substr($0, RSTART + 7, RLENGTH - 7)
                              match($0, /name = "[^"]*"/); name[tid] = substr($0, RSTART + 8, RLENGTH - 9) }
        /xtio:loop_(post|run):/ && /"eventfd"/ {
            match($0, /vtid = [0-9]+/); tid = substr($0, RSTART + 7, RLENGTH - 7)
            if ($0 ~ /xtio:loop_post:/) post[tid]++; else run[tid]++ }
        END {
            for (t in post) { posts += post[t]; by[name[t]] += post[t] }
            for (t in run) { if (name[t] != "mc-worker") bad = bad " " name[t] "(" t ")"; runs += run[t] }
            printf "memcached_test: eventfd posts %d (by thread:", posts
            for (n in by) printf " %s %d", n, by[n]
            printf "), runs %d on mc-worker\n", runs
            if (by["memcached"] < conns) { print "memcached_test: the main thread posted " by["memcached"] + 0 " eventfd wake-ups, fewer than the " conns " connections"; exit 1 }
            if (bad != "") { print "memcached_test: eventfd runs off the workers:" bad; exit 1 }
        }' || die "$name: the eventfd wake-ups are not the main thread's posts run by workers"
}

run plain plain
analyze_run plain 0
grep -E 'handovers|off-loop|wait \(us\)|p50|p99 ' "$workdir/plain.txt" | sed 's/^/  plain: /'

run watch watch
# 1 only when mc-log's "OK" raced the worker's event_del: e2e_check_report says how many.
analyze_run watch "0 1"
grep -Eq '^  - conn 0x[0-9a-f]+: writer [0-9]+ \(mc-log\), loop thread [0-9]+ \(mc-worker\)' \
    "$workdir/watch.txt" || die "watch: the text report does not name mc-log's handover"
grep -Eq '^  - conn 0x[0-9a-f]+: writer [0-9]+ \(mc-itemcrawler\), loop thread [0-9]+ \(mc-worker\)' \
    "$workdir/watch.txt" || die "watch: the text report does not name mc-itemcrawler's handover"
grep -E 'writer|off-loop|mc-log|mc-itemcrawler|p50|p99 ' "$workdir/watch.txt" | sed 's/^/  watch: /'
echo "memcached_test: plain traffic clean, mc-log and mc-itemcrawler handovers and the eventfd" \
    "handoffs reported"
