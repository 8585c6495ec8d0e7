# shellcheck shell=bash disable=SC2154 # $workdir (and die) are the caller's
# Helpers of the preload.memcached* tests: start Debian's memcached on a loopback port the kernel
# picks, plain or under `xtio-capture --preload --command-only`, and stop it with SIGTERM.
# The caller defines die() and $workdir, and calls mc_cleanup from its EXIT trap.

readonly mc_binary=/usr/bin/memcached
# Bounds of each wait: startup (port file), shutdown (exit after SIGTERM).
readonly mc_start_timeout=20 mc_stop_timeout=20

mc_pid=      # what mc_stop waits for: memcached, or the xtio-capture running it
mc_captured= # the trace directory when captured
MC_PORT=

[ -x "$mc_binary" ] || die "$mc_binary is missing: install memcached (scripts/install-deps)"

# mc_start NAME [XTIO_CAPTURE]: memcached with 4 workers, its output in $workdir/NAME.*; under
# the capture (trace in $workdir/NAME.trace) when XTIO_CAPTURE is given. Sets MC_PORT.
mc_start() {
    local name=$1 capture=${2:-}
    local portdir="$workdir/$name.port"
    local args=(-l 127.0.0.1 -p -1 -U 0 -t 4 -m 64)
    mkdir "$portdir" || die "cannot make $portdir"
    if [ "$(id -u)" = 0 ]; then
        # memcached drops to `nobody` before it writes its port file: that user must be able to.
        args=(-u nobody "${args[@]}")
        chmod 0755 "$workdir"
        chown nobody "$portdir"
    fi
    # -p -1: a port the kernel picks, written to MEMCACHED_PORT_FILENAME once memcached listens
    # (renamed into place, so the file is whole when it appears).
    if [ -n "$capture" ]; then
        mc_captured="$workdir/$name.trace"
        MEMCACHED_PORT_FILENAME="$portdir/ports" "$capture" --preload --command-only \
            --no-start-sessiond -o "$mc_captured" -- "$mc_binary" "${args[@]}" \
            >"$workdir/$name.memcached.out" 2>"$workdir/$name.memcached.err" &
    else
        mc_captured=
        MEMCACHED_PORT_FILENAME="$portdir/ports" "$mc_binary" "${args[@]}" \
            >"$workdir/$name.memcached.out" 2>"$workdir/$name.memcached.err" &
    fi
    mc_pid=$!
    MC_PORT=
    local waited=0
    while [ -z "$MC_PORT" ]; do
        kill -0 "$mc_pid" 2>/dev/null ||
            die "$name: memcached ended before it listened: $(cat "$workdir/$name.memcached.err")"
        ((waited < mc_start_timeout * 10)) ||
            die "$name: memcached wrote no port file within ${mc_start_timeout}s"
        [ -f "$portdir/ports" ] &&
            MC_PORT=$(sed -n 's/^TCP INET: \([0-9][0-9]*\)$/\1/p' "$portdir/ports")
        [ -n "$MC_PORT" ] || sleep 0.1
        waited=$((waited + 1))
    done
}

# mc_stop NAME: SIGTERM to memcached itself, which exits 0 (its main loop wakes within its 1 s
# clock tick); xtio-capture, seeing it end, stops the session and exits with its status.
mc_stop() {
    local name=$1 target=$mc_pid rc=0
    if [ -n "$mc_captured" ]; then
        target=$(pgrep -P "$mc_pid" -x memcached) ||
            die "$name: memcached is not a child of xtio-capture ($mc_pid)"
    fi
    kill -TERM "$target"
    timeout "$mc_stop_timeout" tail --pid="$mc_pid" -f /dev/null ||
        die "$name: memcached did not exit within ${mc_stop_timeout}s of SIGTERM"
    wait "$mc_pid" || rc=$?
    mc_pid=
    [ "$rc" = 0 ] || die "$name: memcached exited $rc after SIGTERM, not 0:" \
        "$(cat "$workdir/$name.memcached.err")"
    if [ -n "$mc_captured" ]; then
        grep -q "trace written to $mc_captured" "$workdir/$name.memcached.err" ||
            die "$name: xtio-capture did not write the trace: $(cat "$workdir/$name.memcached.err")"
    fi
}

# From the EXIT trap: a memcached (or capture) still running after a failed step is stopped;
# SIGTERM lets xtio-capture destroy its session.
mc_cleanup() {
    if [ -n "$mc_pid" ] && kill -0 "$mc_pid" 2>/dev/null; then
        kill -TERM "$mc_pid" 2>/dev/null
        timeout "$mc_stop_timeout" tail --pid="$mc_pid" -f /dev/null
        kill -KILL "$mc_pid" 2>/dev/null
    fi
}
