#!/usr/bin/env bash
# xtio-load against a real xtio-server in one handoff mode: its command line (documented flags,
# exit 2 on bad ones), a verified mixed run whose reply records and bytes equal the server's
# handoff counters, a run under a disconnect storm and a slow reader, and exit 1 with the
# mismatches named when the expectation is wrong on purpose.
set -euo pipefail
usage="usage: load_test.sh PATH-TO-xtio-server PATH-TO-xtio-load MODE"
server=${1:?$usage}
load=${2:?$usage}
mode=${3:?$usage}
# shellcheck source=server_lib.sh
. "$(dirname "$0")/server_lib.sh"

help=$("$load" --help) || fail "xtio-load --help exited non-zero"
for flag in --host --port --connections --pipeline --threads --requests --duration --mix \
  --range-width --range-limit --populate --keys --value-size --key-prefix --flush \
  --disconnect-storm --slow-reader --slow-reader-seconds --expect-info --json --timeout --seed \
  --help --version; do
  grep -q -- "$flag" <<<"$help" || fail "xtio-load --help does not document $flag"
done
expect_usage_error() {
  local want=$1 status=0 err
  shift
  err=$("$load" "$@" 2>&1 >/dev/null) || status=$?
  ((status == 2)) || fail "xtio-load $*: exit status $status, expected 2"
  grep -q -- "$want" <<<"$err" || fail "xtio-load $*: message '$err' does not mention '$want'"
}
expect_usage_error "unknown option '--frobnicate'" --frobnicate
expect_usage_error "invalid value '0' for option '-c'" -c 0
expect_usage_error "invalid value '1k' for option '--port': use a whole number from 1 to 65535" \
  --port 1k
expect_usage_error "is not KIND=WEIGHT" --mix range=1,scan=2
expect_usage_error "need populated keys" --mix range=1
expect_usage_error "needs a value" --populate

start_server "$server" --handoff "$mode" --loops 2 --workers 2
# Every run is bounded by its request count or duration; timeout is the backstop.
run() { timeout 120 "$load" -p "$PORT" --timeout 30 "$@"; }

out=$XTIO_SERVER_DIR/load.json
expect_json() {
  local what=$1 field
  shift
  for field in "$@"; do
    grep -q -- "$field" "$out" || fail "$what: no $field in $(cat "$out")"
  done
}

# Volume: 16 connections stream 1,000,000 RANGE pairs, every one verified, and the server's
# handoff counters equal what the client received. direct is the unsafe mode: it is only required
# not to corrupt anything, below.
if [[ "$mode" != direct ]]; then
  run --flush --populate 100000 --mix range=1 --range-width 100 -n 10000 -c 16 --expect-info \
    --json >"$out" 2>"$XTIO_SERVER_DIR/load.err" ||
    fail "1M-record run failed: $(cat "$XTIO_SERVER_DIR/load.err")"
  expect_json "1M-record run" '"ok": true' '"records": 1000000,' '"records_match": true' \
    '"bytes_match": true' '"exact": true'
fi

run --flush --populate 20000 -n 3000 -c 16 -P 4 --mix range=60,get=15,set=10,keys=5,ping=10 \
  --expect-info --json >"$out" 2>"$XTIO_SERVER_DIR/load.err" ||
  fail "mixed run failed: $(cat "$XTIO_SERVER_DIR/load.err")"
expect_json "mixed run" '"ok": true' '"records_match": true' '"bytes_match": true' '"exact": true'

# Clients that vanish mid-stream and one that reads slowly, while others are verified: the server
# keeps serving and its memory stays bounded (checked without ASan, whose quarantine keeps freed
# memory on purpose).
# Anonymous memory only: an LTTng session that traces the server maps its ring buffers into it.
rss_kib() { awk '/^RssAnon:/ { print $2 }' "/proc/$SERVER_PID/status"; }
rss_before=$(rss_kib)
run --keys 20000 -d 2 -c 8 -P 2 --disconnect-storm 12 --slow-reader --expect-info \
  >"$XTIO_SERVER_DIR/abuse.out" 2>&1 ||
  fail "storm and slow reader run failed: $(cat "$XTIO_SERVER_DIR/abuse.out")"
rss_growth=$(($(rss_kib) - rss_before))
# Not `ldd | grep -q`: grep would stop at the match, and ldd, cut off, fail the pipe (pipefail).
if [[ "$(ldd "$server")" != *libasan* ]]; then
  ((rss_growth < 64 * 1024)) || fail "server memory grew by ${rss_growth} KiB under the storm"
fi

# The keys hold "value:<n>"; expecting 3-byte values must fail, naming the difference.
status=0
run --keys 20000 --value-size 3 --mix range=1 -n 20 -c 2 >/dev/null 2>"$XTIO_SERVER_DIR/bad.err" || status=$?
((status == 1)) || fail "a wrong expectation exited $status, expected 1"
grep -q 'expected value "val", got "value:' "$XTIO_SERVER_DIR/bad.err" ||
  fail "a wrong expectation did not name the value: $(cat "$XTIO_SERVER_DIR/bad.err")"

stop_server
echo "xtio-load checks against xtio-server --handoff $mode passed"
