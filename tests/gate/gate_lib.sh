# shellcheck shell=bash
# The gate's own tests (docs/ci.md, "Testing the gate"), shared by gate_test.sh and gate_power.sh.
# Sourced, not run. Offers:
#   INJECTIONS, inject_var, inject_ns, inject_modes, inject_what   the injected slowdowns
#   scratch_build SCRATCH BUILD   BUILD with an xtio-server that has every injection patched in
#   run_gate BUILD OUT [VAR=NS...]   .ci/gate of this tree on BUILD; sets gate_rc, gate_stdout,
#                             gate_seconds
#   gate_verdict OUT MODES    after run_gate: did the gate fail, naming a metric of one of MODES?
#                             sets verdict (caught, missed or broken), verdict_detail and
#                             verdict_failed (the metrics it failed)
#   inject_once SCRATCH OUT NAME NS   run_gate on SCRATCH's injected build with NAME at NS, and
#                             gate_verdict on it; dies (the gate's last lines shown) when broken
#   clean_runs BUILD OUT RUNS WHO   RUNS gates of the unmodified BUILD, each told as WHO; sets
#                             clean_passed; dies when one could not run
#   start_noise N, stop_noise N busy loops beside the gate: other work on the machine
# Callers define die MESSAGE... and may set gate_timeout (seconds, default 900).
# XTIO_GATE_SCRIPT names another gate to test than this tree's .ci/gate (a candidate in a copy of
# the tree: it runs the scripts/workload and the baseline of its own tree, as .ci/gate does).
# shellcheck disable=SC2034 # the tables and verdicts are read by the scripts that source this

gate_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
gate_patches=$gate_repo/tests/gate/inject

# Every injection is one patch of tests/gate/inject/ (on top of common.patch, which adds
# XTIO_INJECT to libxtio) and spins for the nanoseconds of its environment variable at one site.
# Its default size is about +50% of the cost it slows, on the 2-vCPU AMD EPYC VM of
# docs/performance.md; inject_modes are the servers whose metrics it must move.
INJECTIONS=(drain sync-wake spool-flush async-record write-path)
declare -A inject_var=(
    [drain]=XTIO_INJECT_DRAIN_NS
    [sync-wake]=XTIO_INJECT_SYNC_WAKE_NS
    [spool-flush]=XTIO_INJECT_SPOOL_FLUSH_NS
    [async-record]=XTIO_INJECT_ASYNC_RECORD_NS
    [write-path]=XTIO_INJECT_WRITE_NS
)
declare -A inject_ns=(
    [drain]=100000      # issue 15's case: 100 us at the start of every drain task, on the loop
    [sync-wake]=10000   # half of the ~19 us of server CPU per sync record (.ci/xtio-baseline)
    [spool-flush]=20000 # half of a chunk's cost: ~110 records of ~350 ns per 8 KiB chunk
    [async-record]=160  # half of the ~320 ns of server CPU per async record at 64 B
    [write-path]=200    # half of inline's cost per record, added to every mode's writes
)
declare -A inject_modes=(
    [drain]="sync async batch"
    [sync-wake]=sync
    [spool-flush]=batch
    [async-record]=async
    [write-path]="inline sync async batch direct"
)
declare -A inject_what=(
    [drain]="drain_task (conn.c), on the loop before it writes a connection's queue"
    [sync-wake]="write_queue (conn.c), before the loop wakes the sync producers it wrote for"
    [spool-flush]="xtio_spool_flush (spool.c), on the producer before the chunk is handed off"
    [async-record]="write_queue (conn.c), on the loop, per async record it writes"
    [write-path]="put_output (conn.c), per write into the bufferevent, in every mode"
)

gate_timeout=${gate_timeout:-900}
gate_script=${XTIO_GATE_SCRIPT:-$gate_repo/.ci/gate}

# is_injection NAME: NAME is one of INJECTIONS.
is_injection() {
    [[ -n ${inject_var[$1]:-} ]]
}

# scratch_build SCRATCH BUILD: SCRATCH/src, the working tree (tracked and untracked files, as
# they are now; a tracked file deleted is left out) with common.patch and every injection
# applied; SCRATCH/build, its xtio-server and libxtio, configured as BUILD is; and
# SCRATCH/gate-build, what .ci/gate takes as --build: BUILD with its xtio-server replaced by the
# injected one. Every other program (xtio-load, xtio-capture,
# xtio-analyze, xtio-compare, ...) is BUILD's own, so the injection is the only difference. Each
# injection stays off until its variable is set: one build serves every injection and size.
scratch_build() {
    local scratch=$1 build=$2 patch option entry
    local -a options=()
    [[ -x $build/server/xtio-server && -f $build/CMakeCache.txt ]] ||
        die "$build is not a built xtio tree (no server/xtio-server); build it first"
    build=$(cd "$build" && pwd)
    rm -rf "$scratch/src" "$scratch/gate-build"
    mkdir -p "$scratch/src" || die "cannot create $scratch/src"
    (cd "$gate_repo" && git ls-files -z -co --exclude-standard) |
        tar -C "$gate_repo" --null -T - --ignore-failed-read -cf - 2>/dev/null |
        tar -C "$scratch/src" -xf - ||
        die "cannot copy the working tree $gate_repo to $scratch/src"
    for patch in common "${INJECTIONS[@]}"; do
        patch -d "$scratch/src" -p1 --forward --batch --fuzz=0 --no-backup-if-mismatch \
            -i "$gate_patches/$patch.patch" >"$scratch/patch.log" 2>&1 || {
            cat "$scratch/patch.log" >&2
            die "tests/gate/inject/$patch.patch no longer applies to libtrace/src:" \
                "update it to the code it slows down"
        }
    done
    for option in CMAKE_BUILD_TYPE XTIO_TRACING XTIO_SANITIZE CMAKE_C_COMPILER; do
        options+=("-D$option=$(sed -n "s/^$option:[A-Z]*=//p" "$build/CMakeCache.txt")")
    done
    timeout 300 cmake -S "$scratch/src" -B "$scratch/build" -DXTIO_WERROR=ON \
        -DBUILD_TESTING=OFF "${options[@]}" >"$scratch/configure.log" 2>&1 || {
        tail -n 30 "$scratch/configure.log" >&2
        die "cmake cannot configure the injected copy (log: $scratch/configure.log)"
    }
    timeout 1200 cmake --build "$scratch/build" -j "$(nproc)" --target xtio-server \
        >"$scratch/build.log" 2>&1 || {
        tail -n 40 "$scratch/build.log" >&2
        die "the injected xtio-server does not build (log: $scratch/build.log)"
    }
    mkdir -p "$scratch/gate-build/server"
    for entry in "$build"/*; do
        [[ $entry == "$build/server" ]] || ln -s "$entry" "$scratch/gate-build/"
    done
    for entry in "$build"/server/*; do
        [[ $entry == "$build/server/xtio-server" ]] || ln -s "$entry" "$scratch/gate-build/server/"
    done
    ln -s "$scratch/build/server/xtio-server" "$scratch/gate-build/server/xtio-server"
    echo "gate: injected build ready: $scratch/gate-build ($build, with the xtio-server of" \
        "$scratch/build)"
}

# run_gate BUILD OUT [VAR=NS...]: runs the gate (this tree's .ci/gate) on BUILD with the
# injections' variables set; its stdout goes to OUT.stdout (and gate_stdout), its stderr to
# OUT.stderr, its JUnit report to OUT/junit.xml. Sets gate_rc and gate_seconds. A run that exits 2
# is tried again, twice at most: on a shared machine another job's xtio servers can land in the
# trace (xtio-capture records every process), which makes a mode ambiguous to xtio-compare.
gate_retries=${gate_retries:-2}
run_gate() {
    local build=$1 out=$2 start=$SECONDS try
    shift 2
    gate_stdout=$out.stdout
    for ((try = 0; try <= gate_retries; try++)); do
        gate_rc=0
        env "$@" timeout -k 10 "$gate_timeout" "$gate_script" --build "$build" --out "$out" \
            >"$gate_stdout" 2>"$out.stderr" || gate_rc=$?
        ((gate_rc == 2 && try < gate_retries)) || break
        echo "gate: the gate exited 2 (run again, $((try + 1)) of $gate_retries):" \
            "$(tail -n 1 "$out.stderr")" >&2
    done
    gate_seconds=$((SECONDS - start))
}

# failed_metrics_stdout FILE: the metrics a stdout table marks as failed: the first word of each
# row that names a metric (MODE.NAME, or a ratio of two) and says FAIL, apart from a value that is
# gone ("FAIL: no current value": the gate stopped measuring it, nothing moved).
failed_metrics_stdout() {
    grep -E '(^|[[:space:]])(FAIL|FAILED|REGRESSION|REGRESSED)(:|[[:space:]]|$)' "$1" |
        grep -v 'no current value' |
        awk '$1 ~ /^[a-z_*]+\.[A-Za-z0-9_.]+(\/[a-z_]+\.[A-Za-z0-9_.]+)?$/ { print $1 }' |
        sort -u
}

# failed_metrics_junit FILE: the first word of the name of each testcase with a <failure>, apart
# from a value that is gone.
failed_metrics_junit() {
    awk '
        /<testcase[ >]/ {
            name = ""
            if (match($0, /[[:space:]]name="[^"]*"/)) name = substr($0, RSTART + 7, RLENGTH - 8)
            split(name, words, " ")
            current = words[1]
        }
        /<failure[ >\/]/ { if (current != "" && $0 !~ /no longer measures/) print current }
    ' "$1" | sort -u
}

# names_mode MODES METRIC...: prints the first METRIC whose numerator's mode is one of MODES.
names_mode() {
    local modes=" $1 " metric
    shift
    for metric in "$@"; do
        if [[ $modes == *" ${metric%%.*} "* ]]; then
            echo "$metric"
            return 0
        fi
    done
    return 1
}

# gate_verdict OUT MODES...: after run_gate BUILD OUT: caught when the gate exited 1 and both its
# stdout and OUT/junit.xml name as failed a metric of one of MODES (the numerator's mode, for a
# ratio); broken when it exited neither 0 nor 1; missed otherwise. verdict_detail says why.
gate_verdict() {
    local out=$1 modes=$2 named_out named_junit
    local -a stdout_failed=() junit_failed=()
    mapfile -t stdout_failed < <(failed_metrics_stdout "$gate_stdout")
    if [[ -s $out/junit.xml ]]; then
        mapfile -t junit_failed < <(failed_metrics_junit "$out/junit.xml")
    fi
    named_out=$(names_mode "$modes" "${stdout_failed[@]}") || named_out=""
    named_junit=$(names_mode "$modes" "${junit_failed[@]}") || named_junit=""
    verdict_failed="stdout: ${stdout_failed[*]:-none}; junit.xml: ${junit_failed[*]:-none}"
    if ((gate_rc != 0 && gate_rc != 1)); then
        verdict=broken
        verdict_detail="the gate exited $gate_rc (a broken run, not a verdict): $(tail -n 3 \
            "$out.stderr" | tr '\n' ' ')"
    elif ((gate_rc == 1)) && [[ -n $named_out && -n $named_junit ]]; then
        verdict=caught
        verdict_detail="exit 1, named $named_out (stdout) and $named_junit (junit.xml)"
    elif ((gate_rc == 1)); then
        verdict=missed
        verdict_detail="exit 1, but stdout and junit.xml do not both name a failed metric of"
        verdict_detail+=" ${modes// /, } (failed: $verdict_failed)"
    else
        verdict=missed
        verdict_detail="exit 0: $(grep -E '(PASS|FAIL)' "$gate_stdout" | tail -n 1)"
    fi
}

inject_once() {
    local scratch=$1 out=$2 name=$3 ns=$4
    run_gate "$scratch/gate-build" "$out" "${inject_var[$name]}=$ns"
    gate_verdict "$out" "${inject_modes[$name]}"
    if [[ $verdict == broken ]]; then
        sed 's/^/  gate: /' "$out.stderr" | tail -n 20 >&2
        die "inject $name=${ns}ns: the gate could not run: $verdict_detail"
    fi
}

clean_runs() {
    local build=$1 out=$2 runs=$3 who=$4 i
    clean_passed=0
    for ((i = 1; i <= runs; i++)); do
        run_gate "$build" "$out/clean-$i"
        gate_verdict "$out/clean-$i" "inline sync async batch direct"
        case $gate_rc in
            0)
                clean_passed=$((clean_passed + 1))
                echo "$who: clean run $i/$runs: pass in ${gate_seconds}s"
                ;;
            1) echo "$who: clean run $i/$runs: FALSE ALARM in ${gate_seconds}s: $verdict_failed" ;;
            *)
                sed 's/^/  gate: /' "$out/clean-$i.stderr" | tail -n 20 >&2
                die "clean run $i: the gate could not run (exit $gate_rc, above)"
                ;;
        esac
    done
}

# moved_rows MODES: the rows of the last gate's table for the latencies and the CPU time per
# record of MODES (alone, or over another value), to show what moved when the gate missed it.
moved_rows() {
    local mode
    for mode in $1; do
        grep -E "^$mode\.([a-z_]+\.(p50|p99)|(server|loop)_cpu_ns_per_record)[ /]" \
            "$gate_stdout" || true
    done
}

# start_noise N: N busy loops, as other work on the machine, until stop_noise (each one bounded by
# gate_timeout × 100 in case the caller is killed before it can stop them).
noise_pids=()
start_noise() {
    local i
    for ((i = 0; i < $1; i++)); do
        timeout $((gate_timeout * 100)) bash -c 'while :; do :; done' &
        noise_pids+=($!)
    done
}

stop_noise() {
    local pid
    for pid in "${noise_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    noise_pids=()
}
