# shellcheck shell=bash
# Shell helpers for the xtio-server tests: start a real server on a kernel-chosen port, stop it
# with SIGTERM, and fail with a message that says what went wrong. Sourced, not run.

fail() {
  echo "FAIL: $*" >&2
  [[ -n "${XTIO_SERVER_LOG:-}" && -s "$XTIO_SERVER_LOG" ]] && sed 's/^/  server: /' "$XTIO_SERVER_LOG" >&2
  exit 1
}

# start_server BINARY [ARGS...]: sets SERVER_PID and PORT.
start_server() {
  local binary=$1
  shift
  XTIO_SERVER_DIR=$(mktemp -d)
  XTIO_SERVER_LOG=$XTIO_SERVER_DIR/stderr
  "$binary" --port 0 "$@" >"$XTIO_SERVER_DIR/stdout" 2>"$XTIO_SERVER_LOG" &
  SERVER_PID=$!
  trap 'kill -KILL "$SERVER_PID" 2>/dev/null || true; rm -rf "$XTIO_SERVER_DIR"' EXIT
  local tries=0
  while ! grep -q 'listening on' "$XTIO_SERVER_DIR/stdout" 2>/dev/null; do
    kill -0 "$SERVER_PID" 2>/dev/null || fail "xtio-server exited at start-up"
    ((++tries > 200)) && fail "xtio-server did not listen within 10 s"
    sleep 0.05
  done
  PORT=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\) .*/\1/p' "$XTIO_SERVER_DIR/stdout")
  [[ -n "$PORT" ]] || fail "cannot read the port from: $(cat "$XTIO_SERVER_DIR/stdout")"
}

# stop_server: SIGTERM, and the server must exit 0 within 20 s.
stop_server() {
  kill -TERM "$SERVER_PID"
  local tries=0
  while kill -0 "$SERVER_PID" 2>/dev/null; do
    ((++tries > 400)) && fail "xtio-server did not stop within 20 s of SIGTERM"
    sleep 0.05
  done
  local status=0
  wait "$SERVER_PID" || status=$?
  ((status == 0)) || fail "xtio-server exited with status $status after SIGTERM"
}
