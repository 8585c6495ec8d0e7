#!/usr/bin/env bash
# `cmake --install` into a temporary prefix, then the installed tree used the way a user would:
#   - every installed program and libxtio find their libraries in the prefix, without
#     LD_LIBRARY_PATH (run paths), and not in the build tree;
#   - tests/install/consumer, a program outside the tree, builds against the installed libxtio with
#     find_package(xtio) (xtio::xtio and xtio::xtio_static) and with pkg-config (shared, and
#     static with `pkg-config --static`), and each build runs;
#   - babeltrace2 finds the installed plugin through BABELTRACE_PLUGIN_PATH, and its directory is
#     the one babeltrace2 searches under its own prefix;
#   - with tracing: the installed xtio-server, under the installed xtio-load, is recorded by an LTTng
#     session of its own (filtered to the server's pid), and both the installed xtio-analyze and
#     the installed plugin analyse the trace;
#   - last, every file of EXPECTED_FILES below is installed.
# Writes nothing outside its work directory (and the build's install_manifest.txt); no root
# needed. The session is destroyed and the server killed whatever happens; the work directory is
# kept on failure (or with XTIO_INSTALL_KEEP=1) and its path printed.
set -uo pipefail

usage="usage: install_test.sh BUILD_DIR CONSUMER_SOURCE_DIR BINDIR LIBDIR MANDIR PLUGIN_DIR"
usage+=" TRACING(ON|OFF) 'SANITIZER_FLAGS'"
if (($# != 8)); then
    echo "$usage" >&2
    exit 2
fi
build=$1
consumer_source=$2
bindir=$3
libdir=$4
mandir=$5
plugin_dir=$6
tracing=$7
read -r -a sanitizer_flags <<<"$8"

# What `cmake --install` must put in place besides the libraries, the headers, xtio.pc, the CMake
# package and the plugin, which the checks below use. Several come from other parts of the tree
# (capture/, analyzers/compare/, man/); they are checked last, all at once.
expected_files=(
    "$bindir/xtio-server"
    "$bindir/xtio-load"
    "$bindir/xtio-analyze"
    "$bindir/xtio-capture"
    "$bindir/xtio-compare"
    "$bindir/xtio-reference"
    "$mandir/man1/xtio-server.1"
    "$mandir/man1/xtio-load.1"
    "$mandir/man1/xtio-analyze.1"
    "$mandir/man1/xtio-capture.1"
    "$mandir/man1/xtio-compare.1"
    "$mandir/man1/xtio-reference.1"
    "$mandir/man7/xtio.7"
    "$mandir/man7/xtio-preload.7"
)

# Every step is bounded, and all of them together stay under the ctest TIMEOUT, so that the EXIT
# trap always gets to destroy the session.
readonly step_timeout=60
readonly lttng_timeout=30

die() {
    echo "install_test: FAIL: $*" >&2
    exit 1
}

# shellcheck source=../lttng_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lttng_lib.sh"

workdir=$(mktemp -d "${TMPDIR:-/tmp}/xtio-install.XXXXXX") || die "cannot make a work directory"
prefix=$workdir/prefix
session="xtio-install-$$"
session_created=0
server_pid=""

cleanup() {
    local rc=$?
    if [[ -n "$server_pid" ]]; then
        kill -KILL "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
    fi
    destroy_leftover_session install_test
    if ((rc == 0)) && [[ "${XTIO_INSTALL_KEEP:-0}" != 1 ]]; then
        rm -rf "$workdir"
    else
        echo "install_test: installed tree, builds, trace and logs kept in $workdir" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# run LOG COMMAND...: runs a bounded step, its output into $workdir/LOG, shown on failure.
run() {
    local log=$workdir/$1
    shift
    if ! timeout "$step_timeout" "$@" >"$log" 2>&1; then
        cat "$log" >&2
        die "'$*' failed (output above)"
    fi
}

# The installed programs and libraries must not need LD_LIBRARY_PATH, nor reach into the build.
unset LD_LIBRARY_PATH

# ---- Installing -----------------------------------------------------------------------------

run install.log cmake --install "$build" --prefix "$prefix"
echo "install_test: installed into $prefix"

# expect_resolved FILE LIBRARY: FILE's dynamic dependency LIBRARY resolves into the prefix.
expect_resolved() {
    local file=$1 library=$2 resolved
    resolved=$(ldd "$file" | awk -v lib="$library" '$1 == lib { print $3 }')
    [[ "$resolved" == "$prefix/"* ]] ||
        die "$file finds $library at '${resolved:-nowhere}', not under $prefix: $(ldd "$file")"
}

expect_no_missing_library() {
    local file=$1
    # Not `ldd | grep -q`: grep would stop at the match, and ldd, cut off, fail the pipe (pipefail).
    [[ "$(ldd "$file")" != *"not found"* ]] || die "$file misses libraries: $(ldd "$file")"
}

for program in xtio-server xtio-load xtio-analyze; do
    expect_no_missing_library "$prefix/$bindir/$program"
    "$prefix/$bindir/$program" --version >/dev/null 2>&1 ||
        die "the installed $program does not run: $("$prefix/$bindir/$program" --version 2>&1)"
done
expect_resolved "$prefix/$bindir/xtio-server" libxtio.so.0
if [[ "$tracing" == ON ]]; then
    expect_resolved "$prefix/$libdir/libxtio.so.0" libxtio-tp.so.1
    # xtio-capture --preload finds it beside itself, and it finds the provider by its run path.
    expect_resolved "$prefix/$libdir/libxtio-preload.so" libxtio-tp.so.1
    # It must take the installed one, though the build tree's is there too.
    timeout "$step_timeout" "$prefix/$bindir/xtio-capture" --preload --no-start-sessiond \
        --command-only -o "$workdir/preload-probe" -- /bin/true >/dev/null \
        2>"$workdir/preload-probe.err" || true
    grep -qF "runs with LD_PRELOAD=$prefix/$libdir/libxtio-preload.so" \
        "$workdir/preload-probe.err" ||
        die "the installed xtio-capture --preload does not run COMMAND with the installed" \
            "libxtio-preload.so: $(cat "$workdir/preload-probe.err")"
fi

# ---- A program outside the tree, built against the installed libxtio ------------------------

# expect_links PROGRAM yes|no: whether PROGRAM needs libxtio.so.0 (the shared or the static one).
expect_links() {
    local program=$1 want=$2 got=no
    readelf -d "$program" | grep -qF '[libxtio.so.0]' && got=yes
    [[ "$got" == "$want" ]] || die "$program: needs libxtio.so.0: $got, expected $want"
}

# expect_runs PROGRAM: the consumer's own check passes.
expect_runs() {
    run "$(basename "$1").log" "$1"
    grep -q 'call and post ran on the loop thread' "$workdir/$(basename "$1").log" ||
        die "$1 did not report its call and post: $(cat "$workdir/$(basename "$1").log")"
}

# find_package(xtio) with CMAKE_PREFIX_PATH, the way a CMake project finds it.
consumer_build=$workdir/consumer-cmake
sanitizer_cflags="${sanitizer_flags[*]}"
run consumer-cmake.log cmake -S "$consumer_source" -B "$consumer_build" \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_FLAGS="$sanitizer_cflags"
found=$(sed -n 's/^xtio_DIR:PATH=//p' "$consumer_build/CMakeCache.txt")
[[ "$found" == "$prefix/$libdir/cmake/xtio" ]] ||
    die "find_package(xtio) found '$found', not the package installed in $prefix"
run consumer-cmake-build.log cmake --build "$consumer_build"
expect_links "$consumer_build/consumer_shared" yes
expect_links "$consumer_build/consumer_static" no
expect_runs "$consumer_build/consumer_shared"
expect_runs "$consumer_build/consumer_static"
echo "install_test: find_package(xtio): xtio::xtio and xtio::xtio_static build and run"

# pkg-config, with plain cc. libxtio.a comes first, taken from the archive; `--static` adds what
# it needs, and --as-needed drops the shared libxtio that `-lxtio` names again.
export PKG_CONFIG_PATH=$prefix/$libdir/pkgconfig
pkg-config --exists xtio || die "pkg-config does not find xtio.pc in $PKG_CONFIG_PATH"
xtio_libdir=$(pkg-config --variable=libdir xtio)
[[ "$(realpath "$xtio_libdir")" == "$prefix/$libdir" ]] ||
    die "xtio.pc's libdir is $xtio_libdir, not $prefix/$libdir"
read -r -a pc_cflags <<<"$(pkg-config --cflags xtio)"
read -r -a pc_libs <<<"$(pkg-config --libs xtio)"
read -r -a pc_static_libs <<<"$(pkg-config --static --libs xtio)"
# shellcheck disable=SC2054 # the commas separate linker options, not array elements
cc_consumer=(cc -std=c11 -Wall -Wextra -Werror "${sanitizer_flags[@]}" "$consumer_source/main.c"
    "${pc_cflags[@]}" -Wl,-rpath,"$xtio_libdir")
run pkg-config-shared.log "${cc_consumer[@]}" "${pc_libs[@]}" -o "$workdir/consumer_pc_shared"
run pkg-config-static.log "${cc_consumer[@]}" -Wl,--push-state,-Bstatic -lxtio -Wl,--pop-state \
    -Wl,--as-needed "${pc_static_libs[@]}" -o "$workdir/consumer_pc_static"
expect_links "$workdir/consumer_pc_shared" yes
expect_links "$workdir/consumer_pc_static" no
expect_runs "$workdir/consumer_pc_shared"
expect_runs "$workdir/consumer_pc_static"
echo "install_test: pkg-config xtio: shared and --static builds run"

# ---- The babeltrace2 plugin -----------------------------------------------------------------

plugin=$prefix/$plugin_dir/babeltrace2-plugin-xtio.so
set_babeltrace "$plugin"

[[ -f "$plugin" ]] || die "the plugin is not installed at $plugin"
# Only the installed plugin directory is searched, so the xtio plugin listed can only be that one.
run plugins.txt env BABELTRACE_PLUGIN_PATH="$prefix/$plugin_dir" "${babeltrace[@]}" \
    --omit-home-plugin-path --omit-system-plugin-path list-plugins
grep -qF "'sink.xtio.analyze'" "$workdir/plugins.txt" ||
    die "babeltrace2 does not list sink.xtio.analyze: $(cat "$workdir/plugins.txt")"
grep -qF "Path: $plugin" "$workdir/plugins.txt" ||
    die "babeltrace2 does not load the xtio plugin from $plugin: $(cat "$workdir/plugins.txt")"

# The plugin directory under the prefix is babeltrace2's system one relative to its own prefix
# (Debian: /usr/lib/x86_64-linux-gnu/babeltrace2/plugins), so that an installation under that
# prefix needs no BABELTRACE_PLUGIN_PATH. With another libdir (lib for /usr/local), the part
# below the libdir must still match.
system_dir=$(env -u BABELTRACE_PLUGIN_PATH babeltrace2 --omit-home-plugin-path list-plugins 2>&1 |
    sed -n 's/^  - //p' | head -n 1)
bt_prefix=$(pkg-config --variable=prefix babeltrace2)
bt_libdir=$(pkg-config --variable=libdir babeltrace2)
[[ "$system_dir" == "$bt_libdir/"* ]] ||
    die "babeltrace2's system plugin directory '$system_dir' is not under its libdir $bt_libdir"
if [[ "$bt_prefix/$libdir" == "$bt_libdir" ]]; then
    [[ "$bt_prefix/$plugin_dir" == "$system_dir" ]] ||
        die "under prefix $bt_prefix the plugin would go to $bt_prefix/$plugin_dir, but" \
            "babeltrace2 searches $system_dir"
    echo "install_test: plugin directory $plugin_dir is babeltrace2's under $bt_prefix"
else
    [[ "${plugin_dir#"$libdir"/}" == "${system_dir#"$bt_libdir"/}" ]] ||
        die "the plugin directory $plugin_dir does not end like babeltrace2's $system_dir"
    echo "install_test: libdir $libdir is not babeltrace2's ${bt_libdir#"$bt_prefix"/}: plugin" \
        "directory checked below the libdir only (${plugin_dir#"$libdir"/})"
fi

# ---- A trace of the installed xtio-server, analysed by the installed analyzers ---------------

stop_server() {
    kill -TERM "$server_pid"
    local status=0
    timeout 20 tail --pid="$server_pid" -f /dev/null ||
        die "xtio-server did not stop within 20 s of SIGTERM"
    wait "$server_pid" || status=$?
    server_pid=""
    ((status == 0)) || die "xtio-server exited with status $status after SIGTERM"
}

record_and_analyze() {
    need_lttng
    launch_held_back "$workdir" server "$prefix/$bindir/xtio-server" --port 0 --handoff async \
        --loops 1 --workers 1
    server_pid=$launched_pid
    create_session --output="$workdir/trace"
    lttng_step enable-event -u -s "$session" 'xtio:*' --filter "\$ctx.vpid == $server_pid"
    lttng_step add-context -u -s "$session" -t vtid -t vpid -t procname
    lttng_step start "$session"
    release_held_back "$workdir"

    local port
    await_listening "$workdir" server "$server_pid" "the installed xtio-server" 60
    [[ -n "$port" ]] || die "cannot read the port from: $(cat "$workdir/server.out")"
    run load.log "$prefix/$bindir/xtio-load" -p "$port" --timeout 30 --populate 1000 \
        --mix range=1 -n 50 -c 2
    stop_server
    end_session

    run analyze.log "$prefix/$bindir/xtio-analyze" --format json --output "$workdir/report.json" \
        "$workdir/trace"
    local events
    events=$(grep -o '"events": *[0-9]*' "$workdir/report.json" | head -n 1 | grep -o '[0-9]*$')
    ((${events:-0} > 0)) ||
        die "the installed xtio-analyze read no xtio event: $(cat "$workdir/report.json")"
    grep -q '"primary_mode": *"async"' "$workdir/report.json" ||
        die "the installed xtio-analyze does not find the server's async handoffs:" \
            "$(cat "$workdir/report.json")"

    run plugin-report.txt env BABELTRACE_PLUGIN_PATH="$prefix/$plugin_dir" "${babeltrace[@]}" \
        -c sink.xtio.analyze "$workdir/trace"
    grep -qF "0 findings, exit code 0" "$workdir/plugin-report.txt" ||
        die "the installed plugin's report does not end clean: $(cat "$workdir/plugin-report.txt")"
    echo "install_test: installed xtio-server traced; xtio-analyze ($events events) and" \
        "sink.xtio.analyze read the trace"
}

if [[ "$tracing" == ON ]]; then
    record_and_analyze
else
    echo "install_test: XTIO_TRACING=OFF: no trace to record"
fi

# ---- Every file the installation promises ---------------------------------------------------

missing=()
for file in "${expected_files[@]}"; do
    [[ -e "$prefix/$file" ]] || missing+=("$file")
done
((${#missing[@]} == 0)) || die "not installed under $prefix: ${missing[*]}"
echo "install_test: passed"
