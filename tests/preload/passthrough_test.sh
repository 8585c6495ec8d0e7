#!/usr/bin/env bash
# preload.passthrough: a program without libevent under libxtio-preload.so prints the shim's one
# message on stderr, and otherwise runs exactly as without it: the same stdout, the same stderr
# besides that line, the same exit code.
#
# Usage: passthrough_test.sh LIBXTIO_PRELOAD_SO PLAIN_PROGRAM
set -uo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 LIBXTIO_PRELOAD_SO PLAIN_PROGRAM" >&2
    exit 2
fi
shim=$1
program=$2

die() {
    echo "passthrough_test: $*" >&2
    exit 1
}

# shellcheck source=preload_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/preload_lib.sh"

workdir=$(mktemp -d "${TMPDIR:-/tmp}/xtio-passthrough.XXXXXX") || die "cannot make a temporary directory"
trap 'rm -rf "$workdir"' EXIT

timeout 30 "$program" >"$workdir/plain.out" 2>"$workdir/plain.err"
plain_rc=$?
shim_sanitizer_env
timeout 30 env LD_PRELOAD="$(preload_for "$program" "$shim")" "$program" >"$workdir/shim.out" 2>"$workdir/shim.err"
shim_rc=$?

[ "$plain_rc" = 3 ] || die "preload_plain itself failed (exit $plain_rc): $(cat "$workdir/plain.out")"
[ "$shim_rc" = "$plain_rc" ] || die "exit $shim_rc under the shim, $plain_rc without"
cmp -s "$workdir/plain.out" "$workdir/shim.out" ||
    die "stdout differs under the shim: $(diff "$workdir/plain.out" "$workdir/shim.out")"
grep -v '^xtio-preload:' "$workdir/shim.err" >"$workdir/shim.rest"
cmp -s "$workdir/plain.err" "$workdir/shim.rest" ||
    die "stderr differs beyond the shim's message: $(diff "$workdir/plain.err" "$workdir/shim.rest")"
messages=$(grep -c '^xtio-preload:' "$workdir/shim.err")
[ "$messages" = 1 ] || die "the shim printed $messages messages, not one: $(cat "$workdir/shim.err")"
grep -q 'no dynamically linked libevent' "$workdir/shim.err" ||
    die "the shim's message does not say that libevent is missing: $(cat "$workdir/shim.err")"
echo "passthrough_test: without libevent, one message and the same run: $(cat "$workdir/shim.err")"
