#!/usr/bin/env bash
# The gate's own tests in full (docs/ci.md, "Testing the gate"), and its detection power: every
# injected slowdown at its own size must fail .ci/gate naming the metric that moved, the
# unmodified build must pass it RUNS times out of RUNS while other work runs, and for each
# injection the smallest size the gate catches RUNS times out of RUNS is searched and printed.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: tests/gate/gate_power.sh [--build DIR] [--runs N] [--noise N] [--injections LIST]
                                [--no-power] [--scratch DIR] [--out DIR]

  1. injected build: tests/gate/gate_test.sh scratch (BUILD with an xtio-server that has every
     injection of tests/gate/inject/ patched in, each off until its variable is set)
  2. injections: .ci/gate once per injection at its own size; each must exit 1 and name a
     failed metric of the mode it slows, in stdout and in junit.xml
  3. false alarms: .ci/gate RUNS times on the unmodified BUILD; each must pass
  4. detection power, per injection: sizes on a grid of factor 2 from its own size down to
     1/64 of it (up to 4x when its own size is missed), then one step of factor 1.41 between
     the smallest size caught and the largest missed; a size is caught when RUNS runs out of
     RUNS are (the search moves on at the first miss)

  --build DIR        the unmodified build tree (default: build)
  --runs N           runs per clean check and per size (default: 5)
  --noise N          busy loops kept running beside every gate run, as more work on the
                     machine than it already has (default: 0; its load average is printed)
  --injections LIST  comma-separated (default: drain,sync-wake,spool-flush,async-record,write-path)
  --no-power         steps 1 to 3 only
  --scratch DIR      where the injected copy goes (default: a temporary directory, removed)
  --out DIR          keep every run's output there (default: a temporary directory, removed)

Exit status: 0 every injection was caught and every clean run passed, 1 otherwise (the summary
says which), 2 usage or a broken run. The detection power is a measurement: it is printed, it
does not change the exit status.
EOF
}

die() {
    echo "gate_power: $*" >&2
    exit 2
}

# shellcheck source=tests/gate/gate_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/gate_lib.sh"

build=build
runs=5
noise=0
injections=$(
    IFS=,
    echo "${INJECTIONS[*]}"
)
power=true
scratch=""
out=""
while (($#)); do
    case $1 in
        --build) build=${2:?--build needs a directory} && shift ;;
        --runs) runs=${2:?--runs needs a number} && shift ;;
        --noise) noise=${2:?--noise needs a number} && shift ;;
        --injections) injections=${2:?--injections needs a list} && shift ;;
        --no-power) power=false ;;
        --scratch) scratch=${2:?--scratch needs a directory} && shift ;;
        --out) out=${2:?--out needs a directory} && shift ;;
        -h | --help) usage && exit 0 ;;
        *) die "unknown argument '$1'; see --help" ;;
    esac
    shift
done
[[ $runs =~ ^[1-9][0-9]*$ && $noise =~ ^[0-9]+$ ]] || die "--runs and --noise take numbers"
IFS=, read -ra chosen <<<"$injections"
for name in "${chosen[@]}"; do
    is_injection "$name" || die "unknown injection '$name' (${INJECTIONS[*]})"
done
[[ -x $build/server/xtio-server ]] || die "$build has no server/xtio-server; build it first"
build=$(cd "$build" && pwd)

tmp=$(mktemp -d /tmp/xtio-gate-power.XXXXXX)
cleanup() {
    stop_noise
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
scratch=${scratch:-$tmp/scratch}
out=${out:-$tmp/out}
mkdir -p "$out"
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
load_average() {
    cut -d ' ' -f 1-3 /proc/loadavg
}
echo "gate_power: $(nproc) CPUs ($cpu), load average $(load_average), $runs runs per check," \
    "$noise busy loop(s) beside each gate run; outputs in $out"

start=$SECONDS
scratch_build "$scratch" "$build"
start_noise "$noise"
declare -A summary=()
failures=0

# caught_in_all NAME NS: the gate catches NAME at NS in every one of `runs` runs; stops at the
# first miss.
caught_in_all() {
    local name=$1 ns=$2 i
    for ((i = 1; i <= runs; i++)); do
        inject_once "$scratch" "$out/power-$name-$ns-$i" "$name" "$ns"
        echo "gate_power:   $name=${ns}ns run $i/$runs: $verdict (${gate_seconds}s)"
        [[ $verdict == caught ]] || return 1
    done
}

echo
echo "== injections, each at its own size"
for name in "${chosen[@]}"; do
    ns=${inject_ns[$name]}
    inject_once "$scratch" "$out/inject-$name" "$name" "$ns"
    echo "gate_power: inject $name=${ns}ns (${inject_what[$name]}): $verdict in" \
        "${gate_seconds}s: $verdict_detail"
    if [[ $verdict != caught ]]; then
        moved_rows "${inject_modes[$name]}" | sed 's/^/  /'
        failures=$((failures + 1))
    fi
    summary[inject-$name]=$verdict
done

echo
echo "== false alarms: the unmodified build, $runs runs"
clean_runs "$build" "$out" "$runs" gate_power
((clean_passed == runs)) || failures=$((failures + 1))
summary[clean]="$clean_passed of $runs passed"

declare -A found=()
if $power; then
    echo
    echo "== detection power: the smallest size caught in $runs of $runs runs"
    for name in "${chosen[@]}"; do
        default=${inject_ns[$name]}
        smallest_caught="" largest_missed=""
        if caught_in_all "$name" "$default"; then
            smallest_caught=$default
            ns=$((default / 2))
            while ((ns >= default / 64 && ns > 0)); do
                if caught_in_all "$name" "$ns"; then
                    smallest_caught=$ns
                    ns=$((ns / 2))
                else
                    largest_missed=$ns
                    break
                fi
            done
        else
            largest_missed=$default
            ns=$((default * 2))
            while ((ns <= default * 4)); do
                if caught_in_all "$name" "$ns"; then
                    smallest_caught=$ns
                    break
                fi
                largest_missed=$ns
                ns=$((ns * 2))
            done
        fi
        if [[ -n $smallest_caught && -n $largest_missed ]]; then
            # One step of factor sqrt(2) between the two.
            ns=$(awk -v a="$smallest_caught" -v b="$largest_missed" \
                'BEGIN { printf "%d", sqrt(a * b) }')
            if ((ns > largest_missed && ns < smallest_caught)); then
                if caught_in_all "$name" "$ns"; then
                    smallest_caught=$ns
                else
                    largest_missed=$ns
                fi
            fi
        fi
        found[$name]="${smallest_caught:-none up to $((default * 4))}|${largest_missed:-none}"
    done
fi
stop_noise

echo
echo "==== gate_power: summary ($(date -u +%F), $(nproc) CPUs, $cpu, noise $noise, load" \
    "average $(load_average) at the end, $((SECONDS - start))s)"
printf '%-13s %-31s %-10s %-9s %-22s %s\n' injection slows size "at size" \
    "power: smallest caught" "largest missed"
for name in "${chosen[@]}"; do
    smallest=${found[$name]:-"-|-"}
    printf '%-13s %-31s %-10s %-9s %-22s %s\n' "$name" "${inject_modes[$name]// /,}" \
        "${inject_ns[$name]}ns" "${summary[inject-$name]}" \
        "${smallest%%|*}$([[ ${smallest%%|*} =~ ^[0-9]+$ ]] && echo ns)" \
        "${smallest#*|}$([[ ${smallest#*|} =~ ^[0-9]+$ ]] && echo ns)"
done
echo "clean: ${summary[clean]}"
if ((failures)); then
    echo "gate_power: FAIL: $failures check(s) did not hold (above)"
    exit 1
fi
echo "gate_power: PASS: every injection caught, every clean run passed"
