#!/usr/bin/env bash
# The gate's own tests (docs/ci.md, "Testing the gate"): does .ci/gate of this tree fail on a
# build slowed on purpose, naming the metric that moved, and pass on the unmodified build?
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: tests/gate/gate_test.sh scratch SCRATCH BUILD
       tests/gate/gate_test.sh inject SCRATCH NAME[=NS]... [--out DIR]
       tests/gate/gate_test.sh clean BUILD [--runs N] [--noise N] [--out DIR]
       tests/gate/gate_test.sh remove SCRATCH

  scratch   copy the working tree to SCRATCH/src, apply tests/gate/inject/*.patch (each
            injection off until its variable is set), build its xtio-server in SCRATCH/build,
            and make SCRATCH/gate-build: BUILD with that xtio-server in place of its own
  inject    run .ci/gate on SCRATCH/gate-build with each injection NAME on (NS nanoseconds, default
            its own size); each must exit 1 and name, in stdout and in junit.xml, a failed metric
            of a mode it slows. Names: drain sync-wake spool-flush async-record write-path
  clean     run .ci/gate N times (default 1) on the unmodified BUILD; each must exit 0.
            --noise N keeps N busy loops running meanwhile (default 0): other work on the machine
  remove    delete SCRATCH

  --out DIR   keep each run's trace, report, JUnit file and output there (default: a temporary
              directory, removed at the end)

Exit status: 0 every check held, 1 one did not (the failed check is named), 2 usage or a broken
run (a build, a patch or the gate itself failed).
EOF
}

die() {
    echo "gate_test: $*" >&2
    exit 2
}

# shellcheck source=tests/gate/gate_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/gate_lib.sh"

out=""
tmp=""
cleanup() {
    stop_noise
    [[ -z $tmp ]] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

set_out() {
    if [[ -z $out ]]; then
        tmp=$(mktemp -d /tmp/xtio-gate-test.XXXXXX)
        out=$tmp
    fi
    mkdir -p "$out"
}

# inject SCRATCH NAME[=NS]...: every injection must be caught.
cmd_inject() {
    local scratch=$1 spec name ns failed=0
    shift
    [[ -x $scratch/gate-build/server/xtio-server ]] ||
        die "$scratch has no injected build; run: gate_test.sh scratch $scratch BUILD"
    for spec in "$@"; do
        name=${spec%%=*}
        is_injection "$name" || die "unknown injection '$name' (${INJECTIONS[*]})"
        ns=${inject_ns[$name]}
        [[ $spec != *=* ]] || ns=${spec#*=}
        [[ $ns =~ ^[0-9]+$ ]] || die "$spec: the size must be a number of nanoseconds"
        inject_once "$scratch" "$out/$name-$ns" "$name" "$ns"
        echo "gate_test: inject $name=${ns}ns (${inject_what[$name]}): $verdict in" \
            "${gate_seconds}s: $verdict_detail"
        if [[ $verdict != caught ]]; then
            echo "gate_test: FAIL: the gate missed $name=${ns}ns; the rows of" \
                "${inject_modes[$name]// /, } it printed:" >&2
            moved_rows "${inject_modes[$name]}" | sed 's/^/  /' >&2
            failed=1
        fi
    done
    return "$failed"
}

# clean BUILD [--runs N] [--noise N]: every run must pass.
cmd_clean() {
    local build=$1 runs=1 noise=0
    shift
    while (($#)); do
        case $1 in
            --runs) runs=${2:?--runs needs a number} && shift ;;
            --noise) noise=${2:?--noise needs a number} && shift ;;
            *) die "clean: unknown argument '$1'" ;;
        esac
        shift
    done
    [[ $runs =~ ^[1-9][0-9]*$ && $noise =~ ^[0-9]+$ ]] || die "--runs and --noise take numbers"
    start_noise "$noise"
    clean_runs "$build" "$out" "$runs" "gate_test (noise $noise)"
    echo "gate_test: the unmodified build passed $clean_passed of $runs runs"
    ((clean_passed == runs))
}

(($#)) || {
    usage >&2
    exit 2
}
command=$1
shift
case $command in
    -h | --help) usage && exit 0 ;;
    remove)
        (($# == 1)) || die "remove takes one SCRATCH directory"
        ;;
    scratch)
        (($# == 2)) || die "scratch takes a SCRATCH directory and the BUILD tree to copy"
        ;;
    inject)
        (($# >= 2)) || die "inject needs the SCRATCH directory and injections; see --help"
        ;;
    clean)
        (($# >= 1)) || die "clean needs the BUILD tree; see --help"
        ;;
    *) die "unknown command '$command'; see --help" ;;
esac
args=()
while (($#)); do
    case $1 in
        --out) out=${2:?--out needs a directory} && shift ;;
        *) args+=("$1") ;;
    esac
    shift
done

case $command in
    scratch) scratch_build "${args[0]}" "${args[1]}" ;;
    remove) rm -rf "${args[0]}" ;;
    inject)
        set_out
        cmd_inject "${args[@]}"
        ;;
    clean)
        set_out
        cmd_clean "${args[@]}"
        ;;
esac
