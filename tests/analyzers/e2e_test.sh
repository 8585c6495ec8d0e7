#!/usr/bin/env bash
# End-to-end tests of the analyzers: a real xtio-server driven by xtio-load, recorded by an LTTng
# session of its own (its event rule filtered to the server's pid, so that concurrent tests do
# not mix in), then analysed both by xtio-analyze and by `babeltrace2 -c sink.xtio.analyze`.
# One CASE per run:
#   inline|sync|async|batch  exit 0, no finding; handoffs, bytes, records and drops per mode equal
#                            the server's INFO counters (and xtio-load's server delta)
#   direct                   off-loop writes found: xtio-analyze exits 1
#   discards                 tiny sub-buffers discard events: reported, and nothing falsely lost
#   truncated                a stream file or the metadata cut short: exit 2, no hang, no crash
#   no-vtid                  no vtid context: exit 2, naming the `lttng add-context` command
#   no-xtio                  only other providers' events: exit 2, naming the events to enable
#   live                     the async capture streamed through a private lttng-relayd (loopback
#                            only) and analysed live, from its net:// URL: xtio-analyze ends by
#                            itself once the session is destroyed, exits 0 with no finding, and
#                            its counts equal the server's INFO counters
#   unknown-schema           xtio:loop_start of the schema version after this tree's
#                            (FUTURE_SCHEMA_PROGRAM): exit 2, naming that version
#   mistyped-field           xtio:handoff_write whose owner_tid is unsigned, where the schema
#                            has it signed (FUTURE_SCHEMA_PROGRAM mistyped): exit 2, naming it
#   schema4                  SCHEMA4_PROGRAM's loop posts and writes, with LTTng-UST's statedump:
#                            exit 1 on its one off-loop write, whose site is named after its
#                            function; the eventfd posts, the handover and the writes counted
#   schema1, schema2         traces that xtio-server recorded with schema version 1 or 2 (in
#                            data/schema1, data/schema2): the queued modes analyse clean, direct
#                            is flagged, and the counts equal that server's INFO counters (no
#                            LTTng needed)
#   cli                      the command line and the plugin's registration (no LTTng needed)
# Needs a reachable lttng-sessiond (it does not start one: a daemon spawned here would outlive the
# test). The session is destroyed and the server killed whatever happens; the work directory is
# kept on failure (or with XTIO_E2E_KEEP=1) and its path printed.
set -uo pipefail

usage="usage: e2e_test.sh CASE XTIO_SERVER XTIO_LOAD XTIO_ANALYZE PLUGIN_DIR E2E_CHECK_REPORT"
usage+=" [FUTURE_SCHEMA_PROGRAM [SCHEMA4_PROGRAM]]"
if (($# < 6 || $# > 8)); then
    echo "$usage" >&2
    exit 2
fi
case=$1
server=$2
load=$3
analyze=$4
plugin_dir=$5
checker=$6
future=${7:-}
schema4=${8:-}

# Every step is bounded, and all of them together stay under the ctest TIMEOUT, so that the EXIT
# trap always gets to destroy the session.
readonly lttng_timeout=30
readonly load_timeout=120
readonly analyze_timeout=60
# A live viewer ends about 1 s after its session is destroyed.
readonly live_end_timeout=30

die() {
    echo "e2e_test $case: FAIL: $*" >&2
    exit 1
}

# shellcheck source=../lttng_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lttng_lib.sh"

workdir=$(mktemp -d "${TMPDIR:-/tmp}/xtio-e2e-$case.XXXXXX") || die "cannot make a work directory"
session="xtio-e2e-$case-$$"
session_created=0
server_pid=""
traced_pid=""
# The live case's relay daemon and viewer.
relayd_pid=""
viewer_pid=""

cleanup() {
    local rc=$?
    if [[ -n "$server_pid" ]]; then
        kill -KILL "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
    fi
    if [[ -n "$viewer_pid" ]]; then
        kill -KILL "$viewer_pid" 2>/dev/null
        wait "$viewer_pid" 2>/dev/null
    fi
    destroy_leftover_session "e2e_test $case"
    stop_relayd
    if ((rc == 0)) && [[ "${XTIO_E2E_KEEP:-0}" != 1 ]]; then
        rm -rf "$workdir"
    else
        echo "e2e_test $case: traces, reports and logs kept in $workdir" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

set_babeltrace "$plugin_dir/babeltrace2-plugin-xtio.so"

# ---- Capturing ------------------------------------------------------------------------------

# What capture records; the bad-input cases change them. Where: the live case streams to a relay
# daemon instead, and starts its viewer once the session has started.
session_output=(--output="$workdir/trace")
on_session_started=:
# lttng_ust_statedump:procname names each process after its program, as xtio-capture records it.
events='xtio:*,lttng_ust_statedump:procname'
contexts=(-t vtid -t vpid -t procname)
# 500 RANGEs of 100 records: about 50,000 handoffs, a trace of about 10 MiB in sync mode.
requests=500
# The counts only match a trace that lost nothing: 16 MiB per CPU holds the whole run even if
# the consumer daemon, on a loaded machine, drains nothing until the end.
big_buffers=(--subbuf-size=4M --num-subbuf=4)

# INFO handoff over a raw connection, right before the server stops, so that the size of its own
# reply on the wire is known: info.txt and info_reply_bytes.
read_info() {
    local port=$1 header length
    exec 3<>"/dev/tcp/127.0.0.1/$port" || die "cannot connect to xtio-server on port $port"
    printf 'INFO handoff\r\n' >&3
    IFS= read -r -t 30 header <&3 || die "xtio-server did not answer INFO"
    header=${header%$'\r'}
    [[ "$header" =~ ^\$([0-9]+)$ ]] || die "INFO answered '$header', expected a bulk string"
    length=${BASH_REMATCH[1]}
    timeout 30 head -c "$((length + 2))" <&3 >"$workdir/info.txt" || die "INFO's reply was cut"
    exec 3>&-
    # "$<length>\r\n" <text> "\r\n"
    info_reply_bytes=$((${#header} + 2 + length + 2))
}

stop_server() {
    kill -TERM "$server_pid"
    local tries=0 status=0
    while kill -0 "$server_pid" 2>/dev/null; do
        ((++tries > 400)) && die "xtio-server did not stop within 20 s of SIGTERM"
        sleep 0.05
    done
    wait "$server_pid" || status=$?
    server_pid=""
    ((status == 0)) || die "xtio-server exited with status $status after SIGTERM"
}

# start_session PID [lttng enable-channel OPTION...]: a session recording the events of process
# PID only, with the contexts of $contexts.
start_session() {
    local pid=$1
    shift
    create_session "${session_output[@]}"
    local channel=()
    if (($#)); then
        lttng_step enable-channel -u -s "$session" ch0 "$@"
        channel=(-c ch0)
    fi
    lttng_step enable-event -u -s "$session" "${channel[@]}" "$events" --filter "\$ctx.vpid == $pid"
    lttng_step add-context -u -s "$session" "${channel[@]}" "${contexts[@]}"
    lttng_step start "$session"
    "$on_session_started"
}

# capture MODE [lttng enable-channel OPTION...]: records xtio-server --handoff MODE under a RANGE
# load into $workdir/trace.
capture() {
    local mode=$1 port
    shift
    need_lttng
    launch_held_back "$workdir" server "$server" --port 0 --handoff "$mode" --loops 2 --workers 2
    server_pid=$launched_pid
    traced_pid=$server_pid
    start_session "$server_pid" "$@"
    release_held_back "$workdir"
    await_listening "$workdir" server "$server_pid" xtio-server 60
    [[ -n "$port" ]] || die "cannot read the port from: $(cat "$workdir/server.out")"

    timeout "$load_timeout" "$load" -p "$port" --timeout 30 --populate 20000 --mix range=1 \
        -n "$requests" -c 8 --expect-info --json >"$workdir/load.json" 2>"$workdir/load.err" ||
        die "xtio-load failed against --handoff $mode: $(cat "$workdir/load.err")"
    grep -q '"ok": true' "$workdir/load.json" || die "xtio-load did not verify its replies"
    read_info "$port"
    # Let the server see the INFO connection close first: stopping with a client still open is
    # a shutdown path of its own, not what these tests are about.
    sleep 0.2
    stop_server
    end_session
}

# ---- Analysing ------------------------------------------------------------------------------

# analyze_both TRACE: xtio-analyze into report.json (cli_rc, cli.err) and the plugin into
# plugin.json (bt_rc, bt.err), with the same parameters, per-connection and per-thread tables
# included so that the comparison of the two covers them.
analyze_both() {
    local trace=$1
    cli_rc=0
    timeout "$analyze_timeout" "$analyze" --format json --output "$workdir/report.json" \
        --by-connection --by-thread "$trace" 2>"$workdir/cli.err" || cli_rc=$?
    ((cli_rc == 124)) && die "xtio-analyze did not finish within ${analyze_timeout}s"
    bt_rc=0
    timeout "$analyze_timeout" "${babeltrace[@]}" --plugin-path="$plugin_dir" \
        -c sink.xtio.analyze \
        --params "format=\"json\",output=\"$workdir/plugin.json\",by-connection=yes,by-thread=yes" \
        "$trace" >"$workdir/bt.out" 2>"$workdir/bt.err" || bt_rc=$?
    ((bt_rc == 124)) && die "babeltrace2 with sink.xtio.analyze did not finish within" \
        "${analyze_timeout}s"
    return 0
}

expect_rc() {
    local who=$1 got=$2 want=$3 log=$4
    ((got == want)) || die "$who exited $got, expected $want; stderr: $(cat "$log")"
}

check() {
    "$checker" "$@" || die "e2e_check_report $1 failed (above)"
}

# ---- Cases ----------------------------------------------------------------------------------

case_safe_mode() {
    local mode=$1
    capture "$mode" "${big_buffers[@]}"
    analyze_both "$workdir/trace"
    expect_rc xtio-analyze "$cli_rc" 0 "$workdir/cli.err"
    expect_rc "babeltrace2 -c sink.xtio.analyze" "$bt_rc" 0 "$workdir/bt.err"
    check counts "$workdir/report.json" "$workdir/load.json" "$workdir/info.txt" \
        "$info_reply_bytes"
    check clean "$workdir/report.json"
    check same "$workdir/report.json" "$workdir/plugin.json"
    # The text report, to standard output, through the plugin's default parameters.
    "${babeltrace[@]}" --plugin-path="$plugin_dir" -c sink.xtio.analyze "$workdir/trace" \
        >"$workdir/plugin.txt" 2>"$workdir/bt.err" ||
        die "babeltrace2 -c sink.xtio.analyze failed: $(cat "$workdir/bt.err")"
    expect_in "the text report" "0 findings, exit code 0" "$workdir/plugin.txt"
    # The server's process takes its program's name, not one of its threads'.
    expect_in "the text report" "== xtio-server (pid $traced_pid)" "$workdir/plugin.txt"
}

case_direct() {
    capture direct "${big_buffers[@]}"
    analyze_both "$workdir/trace"
    expect_rc xtio-analyze "$cli_rc" 1 "$workdir/cli.err"
    # The plugin cannot turn findings into babeltrace2's exit status: that is xtio-analyze's job.
    expect_rc "babeltrace2 -c sink.xtio.analyze" "$bt_rc" 0 "$workdir/bt.err"
    check off-loop "$workdir/report.json"
    check counts "$workdir/report.json" "$workdir/load.json" "$workdir/info.txt" \
        "$info_reply_bytes"
    check same "$workdir/report.json" "$workdir/plugin.json"
}

case_discards() {
    # Two 4 KiB sub-buffers per CPU cannot keep up with the load: LTTng discards events.
    capture async --subbuf-size=4096 --num-subbuf=2
    analyze_both "$workdir/trace"
    expect_rc xtio-analyze "$cli_rc" 0 "$workdir/cli.err"
    expect_rc "babeltrace2 -c sink.xtio.analyze" "$bt_rc" 0 "$workdir/bt.err"
    check discards "$workdir/report.json"
    check same "$workdir/report.json" "$workdir/plugin.json"
}

case_truncated() {
    requests=300
    capture async
    local ctf stream size
    ctf=$(dirname "$(find "$workdir/trace" -name metadata -print -quit)")
    [[ -d "$ctf" ]] || die "no CTF trace under $workdir/trace"

    # A stream file cut in the middle of a packet (packets are 4 KiB-aligned, so +7 is inside).
    cp -r "$workdir/trace" "$workdir/cut-stream"
    stream=$(find "${ctf/$workdir\/trace/$workdir/cut-stream}" -maxdepth 1 -type f \
        ! -name metadata -printf '%s %p\n' | sort -n | tail -1 | cut -d' ' -f2-)
    size=$(stat -c %s "$stream")
    truncate -s "$((size / 2 + 7))" "$stream"
    analyze_both "$workdir/cut-stream"
    expect_rc xtio-analyze "$cli_rc" 2 "$workdir/cli.err"
    expect_in "xtio-analyze's message" "truncated or corrupt" "$workdir/cli.err"
    expect_in "xtio-analyze's message" "$(basename "$stream")" "$workdir/cli.err"
    [[ ! -e "$workdir/report.json" ]] || die "xtio-analyze left a report of a trace it could not read"
    ((bt_rc != 0)) || die "babeltrace2 -c sink.xtio.analyze exited 0 on a truncated trace"

    # The metadata cut inside its first packet: babeltrace2 2.0 itself would spin forever.
    cp -r "$workdir/trace" "$workdir/cut-metadata"
    truncate -s 3000 "${ctf/$workdir\/trace/$workdir/cut-metadata}/metadata"
    local rc=0
    timeout "$analyze_timeout" "$analyze" "$workdir/cut-metadata" >/dev/null \
        2>"$workdir/cli.err" || rc=$?
    ((rc != 124)) || die "xtio-analyze hung on a truncated metadata file"
    expect_rc xtio-analyze "$rc" 2 "$workdir/cli.err"
    expect_in "xtio-analyze's message" "metadata file" "$workdir/cli.err"
    expect_in "xtio-analyze's message" "truncated" "$workdir/cli.err"
}

case_no_vtid() {
    requests=300
    contexts=(-t vpid -t procname)
    capture async
    analyze_both "$workdir/trace"
    expect_rc xtio-analyze "$cli_rc" 2 "$workdir/cli.err"
    expect_in "xtio-analyze's message" "lttng add-context -u -t vtid" "$workdir/cli.err"
    check refused "$workdir/report.json" "lttng add-context -u -t vtid"
    ((bt_rc != 0)) || die "babeltrace2 -c sink.xtio.analyze exited 0 on a trace without vtid"
    expect_in "babeltrace2's error" "lttng add-context -u -t vtid" "$workdir/bt.err"
}

case_no_xtio() {
    requests=300
    # Another provider's events only: lttng-ust's own state dump of the server.
    events='lttng_ust_statedump:*'
    capture async
    analyze_both "$workdir/trace"
    expect_rc xtio-analyze "$cli_rc" 2 "$workdir/cli.err"
    expect_in "xtio-analyze's message" "lttng enable-event -u 'xtio:*'" "$workdir/cli.err"
    check refused "$workdir/report.json" "lttng enable-event -u 'xtio:*'"
    ((bt_rc != 0)) || die "babeltrace2 -c sink.xtio.analyze exited 0 on a trace without xtio"
    expect_in "babeltrace2's error" "lttng enable-event -u 'xtio:*'" "$workdir/bt.err"
}

expect_usage_error() {
    local want=$1 rc=0
    shift
    "$analyze" "$@" >/dev/null 2>"$workdir/usage.err" || rc=$?
    ((rc == 2)) || die "xtio-analyze $*: exit status $rc, expected 2"
    expect_in "xtio-analyze $*" "$want" "$workdir/usage.err"
}

# record_future_schema [ARG]: records FUTURE_SCHEMA_PROGRAM [ARG] and analyses its trace both ways.
record_future_schema() {
    [[ -x "$future" ]] || die "no FUTURE_SCHEMA_PROGRAM given; $usage"
    need_lttng
    launch_held_back "$workdir" server "$future" "$@"
    server_pid=$launched_pid
    start_session "$server_pid"
    release_held_back "$workdir"
    local status=0
    timeout "$load_timeout" tail --pid="$server_pid" -f /dev/null ||
        die "$(basename "$future") did not finish within ${load_timeout}s"
    wait "$server_pid" || status=$?
    server_pid=""
    ((status == 0)) || die "$(basename "$future") exited $status: $(cat "$workdir/server.err")"
    end_session
    analyze_both "$workdir/trace"
}

# expect_refused WHAT: both analyzers refused the trace, saying WHAT.
expect_refused() {
    expect_rc xtio-analyze "$cli_rc" 2 "$workdir/cli.err"
    expect_in "xtio-analyze's message" "$1" "$workdir/cli.err"
    check refused "$workdir/report.json" "$1"
    ((bt_rc != 0)) || die "babeltrace2 -c sink.xtio.analyze exited 0 on another schema"
    expect_in "babeltrace2's error" "$1" "$workdir/bt.err"
}

case_unknown_schema() {
    local version
    # Not waiting for a session daemon: this run emits nothing.
    version=$(LTTNG_UST_REGISTER_TIMEOUT=0 "$future" version) ||
        die "$(basename "$future") version failed"
    record_future_schema
    expect_refused "schema version $version"
}

case_mistyped_field() {
    record_future_schema mistyped
    # One word: babeltrace2 wraps its error's lines.
    expect_refused '"owner_tid"'
    expect_in "xtio-analyze's message" 'of the integer type (signed)' "$workdir/cli.err"
}

case_schema4() {
    [[ -x "$schema4" ]] || die "no SCHEMA4_PROGRAM given; $usage"
    need_lttng
    # The modules, for the call sites.
    events+=',lttng_ust_statedump:bin_info'
    launch_held_back "$workdir" server "$schema4"
    server_pid=$launched_pid
    start_session "$server_pid"
    release_held_back "$workdir"
    local status=0
    timeout "$load_timeout" tail --pid="$server_pid" -f /dev/null ||
        die "$(basename "$schema4") did not finish within ${load_timeout}s"
    wait "$server_pid" || status=$?
    server_pid=""
    ((status == 0)) || die "$(basename "$schema4") exited $status: $(cat "$workdir/server.err")"
    end_session
    analyze_both "$workdir/trace"
    expect_rc xtio-analyze "$cli_rc" 1 "$workdir/cli.err"
    expect_rc "babeltrace2 -c sink.xtio.analyze" "$bt_rc" 0 "$workdir/bt.err"
    check same "$workdir/report.json" "$workdir/plugin.json"
    timeout "$analyze_timeout" "$analyze" "$workdir/trace" >"$workdir/report.txt" \
        2>"$workdir/cli.err"
    local want
    for want in 'off-loop writes: 1 ' 'thread [0-9]* (e2e-worker), owner [0-9]* (e2e-loop); bufferevent_write at e2e_schema4+0x[0-9a-f]* (worker+0x[0-9a-f]*, e2e_schema4.c:[0-9]*)' \
        '^  posts  *3$' '^  runs  *1$' '^  coalesced posts  *2$' '^  pending at the end  *0$' \
        '^  wait (us)  *n  *3$' '^  on the loop thread  *writes 1, bytes 5$' \
        '^  off-loop (findings)  *writes 1, bytes 11$' '^  handovers  *writes 1, bytes 13$' \
        'not findings): 1$' 'summary: 1 processes, .*, 1 findings, exit code 1'; do
        grep -q -- "$want" "$workdir/report.txt" ||
            die "the text report lacks /$want/; it is in $workdir/report.txt"
    done
    grep -q '"function": "worker"' "$workdir/report.json" ||
        die "the JSON report does not name the site's function worker"
}

# The traces of data/schemaN were recorded as case_safe_mode and case_direct record theirs, with
# 20 requests, by xtio-server of schema version N: version 1 at commit 8ea43f7 (async, sync,
# direct), version 2 at commit 81af334 (async, sync, batch, direct). Each archive holds the trace,
# xtio-load's load.json and the server's INFO reply, info.txt.
case_old_schema() {
    local version=$1 data archive mode length
    data="$(dirname "${BASH_SOURCE[0]}")/data/schema$version"
    for archive in "$data"/*.tar.xz; do
        mode=$(basename "$archive" .tar.xz)
        rm -rf "$workdir/$mode"
        mkdir "$workdir/$mode"
        tar -xJf "$archive" -C "$workdir/$mode" || die "cannot unpack $archive"
        # info.txt is INFO's bulk string and its CRLF: the reply was "$<length>" CRLF, then it.
        length=$(($(stat -c %s "$workdir/$mode/info.txt") - 2))
        info_reply_bytes=$((${#length} + 1 + 2 + length + 2))
        analyze_both "$workdir/$mode/trace"
        if [[ $mode == direct ]]; then
            expect_rc xtio-analyze "$cli_rc" 1 "$workdir/cli.err"
            check off-loop "$workdir/report.json"
        else
            expect_rc xtio-analyze "$cli_rc" 0 "$workdir/cli.err"
            check clean "$workdir/report.json"
        fi
        expect_rc "babeltrace2 -c sink.xtio.analyze" "$bt_rc" 0 "$workdir/bt.err"
        check counts "$workdir/report.json" "$workdir/$mode/load.json" "$workdir/$mode/info.txt" \
            "$info_reply_bytes"
        check same "$workdir/report.json" "$workdir/plugin.json"
        grep -A2 '"schema": {' "$workdir/report.json" | grep -q "\"version\": $version" ||
            die "the report of the $mode trace does not give schema version $version"
    done
}

case_cli() {
    local help flag
    help=$("$analyze" --help) || die "xtio-analyze --help exited non-zero"
    for flag in --format --output --strict --by-connection --by-thread --verbose --help \
        --version net:// 'lttng add-context' 'Exit status'; do
        grep -qF -- "$flag" <<<"$help" || die "xtio-analyze --help does not document $flag"
    done
    "$analyze" --version | grep -q '^xtio-analyze (xtio) [0-9]' ||
        die "xtio-analyze --version does not print its version"
    mkdir "$workdir/empty"
    touch "$workdir/file"
    expect_usage_error "no TRACE given"
    expect_usage_error "unknown option '--frobnicate'" --frobnicate "$workdir/empty"
    expect_usage_error "invalid format 'xml'" --format xml "$workdir/empty"
    expect_usage_error "needs a value" "$workdir/empty" --output
    expect_usage_error "No such file or directory" "$workdir/missing"
    expect_usage_error "is not a directory" "$workdir/file"
    expect_usage_error "no CTF trace under" "$workdir/empty"

    # The plugin: exported registration symbols (hidden visibility makes babeltrace2 skip the
    # shared object silently), listed, and its parameters documented.
    local so="$plugin_dir/babeltrace2-plugin-xtio.so"
    if command -v nm >/dev/null; then
        nm -D --defined-only "$so" | grep -q '__bt_get_begin_section_plugin_descriptors' ||
            die "$so does not export __bt_get_begin_section_plugin_descriptors"
    fi
    "${babeltrace[@]}" --plugin-path="$plugin_dir" list-plugins >"$workdir/plugins.txt" 2>&1 ||
        die "babeltrace2 list-plugins failed: $(cat "$workdir/plugins.txt")"
    expect_in "babeltrace2 list-plugins" "sink.xtio.analyze" "$workdir/plugins.txt"
    "${babeltrace[@]}" --plugin-path="$plugin_dir" help sink.xtio.analyze >"$workdir/help.txt" 2>&1 ||
        die "babeltrace2 help sink.xtio.analyze failed: $(cat "$workdir/help.txt")"
    for flag in format= output= strict= by-connection= by-thread= xtio-analyze; do
        expect_in "babeltrace2 help sink.xtio.analyze" "$flag" "$workdir/help.txt"
    done
    # A bad parameter is refused with a cause naming it; input without xtio events too. Any
    # source will do: source.text.dmesg reads a one-line file.
    echo '[    0.000000] Linux version 6.1' >"$workdir/dmesg.txt"
    local rc=0
    "${babeltrace[@]}" --plugin-path="$plugin_dir" run \
        -c src:source.text.dmesg -p "path=\"$workdir/dmesg.txt\"" \
        -c xtio:sink.xtio.analyze -p 'frob=1' --connect src:xtio >/dev/null 2>"$workdir/bt.err" ||
        rc=$?
    ((rc != 0)) || die "babeltrace2 accepted sink.xtio.analyze's unknown parameter frob"
    expect_in "babeltrace2's error" 'Unknown parameter: name="frob"' "$workdir/bt.err"
    rc=0
    "${babeltrace[@]}" --plugin-path="$plugin_dir" run \
        -c src:source.text.dmesg -p "path=\"$workdir/dmesg.txt\"" \
        -c xtio:sink.xtio.analyze --connect src:xtio >/dev/null 2>"$workdir/bt.err" || rc=$?
    ((rc != 0)) || die "babeltrace2 -c sink.xtio.analyze exited 0 on input without xtio events"
    expect_in "babeltrace2's error" "lttng enable-event -u 'xtio:*'" "$workdir/bt.err"
}

# The viewer: xtio-analyze on the live URL, in the background, into report.json.
start_viewer() {
    "$analyze" --format json --output "$workdir/report.json" --by-connection --by-thread \
        "$live_url" >"$workdir/cli.out" 2>"$workdir/cli.err" &
    viewer_pid=$!
}

case_live() {
    need_lttng
    start_relayd
    live_url="net://127.0.0.1:${relayd_ports[2]}/host/$(hostname)/$session"
    session_output=(--live=200000 --ctrl-url="tcp://127.0.0.1:${relayd_ports[0]}"
        --data-url="tcp://127.0.0.1:${relayd_ports[1]}")
    on_session_started=start_viewer
    capture async "${big_buffers[@]}"
    # The session is destroyed: xtio-analyze must see it gone, end the analysis and exit.
    timeout "$live_end_timeout" tail --pid="$viewer_pid" -f /dev/null ||
        die "xtio-analyze did not end within ${live_end_timeout}s of the live session's" \
            "destruction; stderr: $(cat "$workdir/cli.err")"
    local rc=0
    wait "$viewer_pid" || rc=$?
    viewer_pid=""
    expect_rc xtio-analyze "$rc" 0 "$workdir/cli.err"
    check clean "$workdir/report.json"
    check counts "$workdir/report.json" "$workdir/load.json" "$workdir/info.txt" \
        "$info_reply_bytes"
}

case "$case" in
inline | sync | async | batch) case_safe_mode "$case" ;;
direct) case_direct ;;
discards) case_discards ;;
truncated) case_truncated ;;
no-vtid) case_no_vtid ;;
no-xtio) case_no_xtio ;;
unknown-schema) case_unknown_schema ;;
mistyped-field) case_mistyped_field ;;
live) case_live ;;
schema4) case_schema4 ;;
schema1) case_old_schema 1 ;;
schema2) case_old_schema 2 ;;
cli) case_cli ;;
*)
    echo "e2e_test: unknown case '$case'; $usage" >&2
    exit 2
    ;;
esac
echo "e2e_test $case: passed"
