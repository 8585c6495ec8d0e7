# shellcheck shell=bash
# Shell helpers for the tests that record real programs with LTTng. Sourced, not run:
#   source "$(dirname "${BASH_SOURCE[0]}")/../lttng_lib.sh"
# Offers:
#   need_lttng [ADVICE]          the lttng command and a reachable session daemon, or die
#   lttng_step ARG...            one bounded lttng command, its output shown on failure
#   create_session OPTION...     lttng create $session, remembered for the clean-up
#   end_session                  stop (the trace is then complete) and destroy $session
#   destroy_leftover_session WHO for the EXIT trap: $session if still there
#   launch_held_back DIR NAME PROGRAM [ARG...], release_held_back DIR, await_listening ...
#                                a server that starts only once the session tracks its pid
#   set_babeltrace PLUGIN_SO     the babeltrace2 command that can load that build of the plugin
#   start_relayd, stop_relayd    a private lttng-relayd on free loopback ports
#   expect_in WHAT TEXT FILE     FILE says TEXT, or die
# Callers set, before using the helpers that need them:
#   die MESSAGE...     a function that prints the test's failure message and exits non-zero
#   workdir            the test's own directory: logs, the go files and the relayd's output
#   lttng_timeout      the bound, in seconds, of each lttng command
#   session            a session name of this test only; session_created=0 to start with
# The helpers read the caller's variables and set some for it (launched_pid, port, babeltrace,
# relayd_pid, relayd_ports).
# shellcheck disable=SC2034,SC2154

# need_lttng [ADVICE]: ADVICE follows the command that starts a session daemon.
# shellcheck disable=SC2120 # ADVICE is optional
need_lttng() {
    command -v lttng >/dev/null || die "the lttng command is missing: install lttng-tools"
    # `lttng list` only asks; `lttng create` would spawn a daemon of its own that nobody stops.
    local probe
    if ! probe=$(timeout "$lttng_timeout" lttng list 2>&1); then
        die "no LTTng session daemon is reachable for user $(id -un) ($probe). Start one first:" \
            "'lttng-sessiond --daemonize'${1:+ $1}"
    fi
}

lttng_step() {
    if ! timeout "$lttng_timeout" lttng "$@" >"$workdir/lttng.log" 2>&1; then
        cat "$workdir/lttng.log" >&2
        die "'lttng $*' failed (output above)"
    fi
}

create_session() {
    lttng_step create "$session" "$@"
    session_created=1
}

# stop waits until the consumer daemon has written everything out.
end_session() {
    lttng_step stop "$session"
    lttng_step destroy "$session"
    session_created=0
}

# destroy_leftover_session WHO: WHO prefixes the message that says how to remove it by hand.
destroy_leftover_session() {
    if ((session_created)) && ! timeout "$lttng_timeout" lttng destroy "$session" >/dev/null 2>&1; then
        echo "$1: could not destroy LTTng session $session; remove it with" \
            "'lttng destroy $session'" >&2
    fi
}

# launch_held_back DIR NAME PROGRAM [ARG...]: starts PROGRAM, its output in DIR/NAME.out and
# DIR/NAME.err, held back until DIR/go exists, so that its pid can go into the session's filter
# and its first events are recorded (exec keeps the pid); sets launched_pid.
launch_held_back() {
    local dir=$1 name=$2
    shift 2
    (
        while [[ ! -e "$dir/go" ]]; do sleep 0.05; done
        # liblttng-ust registers from its constructor and waits at most this long (ms) for the
        # session's events to be enabled; sanitizer builds start slowly.
        LTTNG_UST_REGISTER_TIMEOUT=${LTTNG_UST_REGISTER_TIMEOUT:-20000} exec "$@"
    ) >"$dir/$name.out" 2>"$dir/$name.err" &
    launched_pid=$!
}

release_held_back() {
    touch "$1/go"
}

# await_listening DIR NAME PID WHO SECONDS: waits until the server PID launched as NAME says it
# listens; sets port (empty if its line names none).
await_listening() {
    local dir=$1 name=$2 pid=$3 who=$4 seconds=$5 tries=0
    while ! grep -q 'listening on' "$dir/$name.out" 2>/dev/null; do
        kill -0 "$pid" 2>/dev/null || die "$who exited at start-up: $(cat "$dir/$name.err")"
        ((++tries > seconds * 20)) && die "$who did not listen within $seconds s"
        sleep 0.05
    done
    port=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\) .*/\1/p' "$dir/$name.out")
}

# set_babeltrace PLUGIN_SO: sets babeltrace, the command to run babeltrace2 with. babeltrace2
# loads the plugin into its own, uninstrumented, process: a sanitizer build of the plugin needs
# its runtime preloaded there, and babeltrace2's own allocations are not ours.
set_babeltrace() {
    local runtime
    babeltrace=(babeltrace2)
    # awk reads to the end: exiting at the match would cut ldd off and fail the pipe (pipefail).
    runtime=$(ldd "$1" 2>/dev/null | awk '$1 ~ /^lib(asan|tsan)\.so/ && !found { print $3; found = 1 }')
    if [[ -n "$runtime" ]]; then
        babeltrace=(env "LD_PRELOAD=$runtime" "ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0"
            babeltrace2)
    fi
}

# start_relayd: a private lttng-relayd on three consecutive free loopback ports (control, data,
# live), writing under $workdir/relayd; sets relayd_pid and relayd_ports.
start_relayd() {
    command -v lttng-relayd >/dev/null || die "the lttng-relayd command is missing"
    local attempt tries port listening
    for attempt in 1 2 3 4 5 6 7 8; do
        # Three consecutive ports from a random base in 20000-59999, none of them in use.
        local base=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        relayd_ports=("$base" "$((base + 1))" "$((base + 2))")
        listening=$(ss -Htan state listening 2>/dev/null | awk '{ print $3 }')
        for port in "${relayd_ports[@]}"; do
            grep -qE "[:.]$port\$" <<<"$listening" && continue 2
        done
        lttng-relayd -C "tcp://127.0.0.1:${relayd_ports[0]}" \
            -D "tcp://127.0.0.1:${relayd_ports[1]}" -L "tcp://127.0.0.1:${relayd_ports[2]}" \
            -o "$workdir/relayd" >"$workdir/relayd.$attempt.log" 2>&1 &
        relayd_pid=$!
        # Up when it listens on all three; gone when a port was taken in the meantime.
        tries=0
        while kill -0 "$relayd_pid" 2>/dev/null && ((++tries <= 200)); do
            listening=$(ss -Htlnp 2>/dev/null | grep -F "pid=$relayd_pid," | awk '{ print $4 }')
            if grep -qF "127.0.0.1:${relayd_ports[0]}" <<<"$listening" &&
                grep -qF "127.0.0.1:${relayd_ports[1]}" <<<"$listening" &&
                grep -qF "127.0.0.1:${relayd_ports[2]}" <<<"$listening"; then
                return 0
            fi
            sleep 0.05
        done
        kill -KILL "$relayd_pid" 2>/dev/null
        wait "$relayd_pid" 2>/dev/null
        relayd_pid=""
    done
    die "lttng-relayd did not start on free loopback ports; last log: $(cat "$workdir"/relayd.*.log)"
}

# stop_relayd: for the EXIT trap, after the sessions streaming to it are gone.
stop_relayd() {
    if [[ -n "${relayd_pid:-}" ]]; then
        kill -TERM "$relayd_pid" 2>/dev/null
        timeout 10 tail --pid="$relayd_pid" -f /dev/null || kill -KILL "$relayd_pid" 2>/dev/null
        wait "$relayd_pid" 2>/dev/null
    fi
}

expect_in() {
    local what=$1 text=$2 file=$3
    grep -qF -- "$text" "$file" || die "$what does not say '$text': $(cat "$file")"
}
