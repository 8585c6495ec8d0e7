#!/usr/bin/env bash
# xtio-server's command line and start-up errors: --help documents every flag, a bad flag (a port
# with a size suffix included) or a port in use exits 2 with a message saying what to do, and
# SIGINT stops it cleanly (exit 0).
set -euo pipefail
server=${1:?usage: startup_test.sh PATH-TO-xtio-server}
# shellcheck source=server_lib.sh
. "$(dirname "$0")/server_lib.sh"

help=$("$server" --help) || fail "--help exited non-zero"
for flag in --bind --port --loops --workers --handoff --batch-bytes --max-pending --max-clients \
  --proto-max-bulk-len --max-multibulk-len --max-inline-len --client-query-buffer-limit \
  --verbose --help --version; do
  grep -q -- "$flag" <<<"$help" || fail "--help does not document $flag"
done
"$server" --version | grep -q '^xtio-server [0-9]' || fail "--version prints no version"

expect_usage_error() {
  local want=$1 status=0 err
  shift
  err=$("$server" "$@" 2>&1 >/dev/null) || status=$?
  ((status == 2)) || fail "xtio-server $*: exit status $status, expected 2"
  grep -q -- "$want" <<<"$err" || fail "xtio-server $*: message '$err' does not mention '$want'"
}
expect_usage_error "unknown option '--frobnicate'" --frobnicate
expect_usage_error "invalid value 'fast' for option '--handoff'" --handoff fast
expect_usage_error "invalid value '0' for option '--loops'" --loops 0
expect_usage_error "needs a value" --port
# A port is a whole number: no size suffix (1k is not 1024), no sign.
expect_usage_error "invalid value '1k' for option '--port': use a whole number from 0 to 65535" \
  --port 1k
expect_usage_error "invalid value '+80' for option '--port'" --port +80
expect_usage_error "invalid value '65536' for option '--port'" --port 65536
# A count is a whole number too: only sizes take a suffix.
expect_usage_error "invalid value '1k' for option '--max-clients'" --max-clients 1k
expect_usage_error "invalid value '1k' for option '--max-multibulk-len'" --max-multibulk-len 1k
expect_usage_error "unexpected argument 'extra'" extra

start_server "$server" --handoff batch
expect_usage_error "Address already in use" --port "$PORT"
expect_usage_error "pick one with --port" --port "$PORT"

# SIGINT, like SIGTERM, is a clean stop.
kill -INT "$SERVER_PID"
status=0
wait "$SERVER_PID" || status=$?
((status == 0)) || fail "xtio-server exited with status $status after SIGINT"
echo "xtio-server start-up checks passed"
