# shellcheck shell=bash
# The set-up that the tests of the views on the workload_trace fixture share (csv_test.sh,
# html_test.sh, perfetto_test.sh, progress_test.sh). Sourced, not run:
#   source "$(dirname "${BASH_SOURCE[0]}")/view_lib.sh"
# Offers:
#   view_test NAME              die() with NAME's prefix, and $workdir: removed when the test
#                               passes, kept (and named) when it fails
#   analyze_findings OUT ARG... `$analyze ARG... -o $workdir/OUT $trace`, which must exit 1:
#                               direct's off-loop writes are findings; its stderr in OUT.err
# Callers set `analyze` (xtio-analyze), `trace` and `step_timeout` first.
# shellcheck disable=SC2154

view_test() {
    view_name=$1
    workdir=$(mktemp -d "${TMPDIR:-/tmp}/xtio-$view_name.XXXXXX") ||
        die "cannot make a work directory"
    trap view_cleanup EXIT
}

die() {
    echo "$view_name: FAIL: $*" >&2
    exit 1
}

view_cleanup() {
    local rc=$?
    if ((rc == 0)); then
        rm -rf "$workdir"
    else
        echo "$view_name: outputs kept in $workdir" >&2
    fi
    exit "$rc"
}

analyze_findings() {
    local out=$1 status=0
    shift
    timeout "$step_timeout" "$analyze" "$@" -o "$workdir/$out" "$trace" \
        2>"$workdir/$out.err" || status=$?
    ((status == 1)) || die "xtio-analyze $* exited $status, expected 1: $(cat "$workdir/$out.err")"
}
