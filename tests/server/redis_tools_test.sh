#!/usr/bin/env bash
# redis-cli and redis-benchmark, real Redis clients nobody here wrote, against xtio-server in one
# handoff mode: every command round-trips, pipelined replies keep request order, and
# redis-benchmark (which exits non-zero on any error reply) completes GET/SET and RANGE runs.
set -euo pipefail
usage="usage: redis_tools_test.sh PATH-TO-xtio-server MODE"
server=${1:?$usage}
mode=${2:?$usage}
# shellcheck source=server_lib.sh
. "$(dirname "$0")/server_lib.sh"
command -v redis-cli >/dev/null || fail "redis-cli not found: install redis-tools (scripts/install-deps)"

start_server "$server" --handoff "$mode" --loops 2 --workers 2

cli() { timeout 20 redis-cli -p "$PORT" "$@"; }
expect() {
  local want=$1
  shift
  local got
  got=$(cli "$@") || fail "redis-cli $* failed"
  [[ "$got" == "$want" ]] || fail "redis-cli $*: expected '$want', got '$got'"
}

expect PONG PING
expect hello PING hello
expect "hello world" ECHO "hello world"
expect OK SET k1 v1
expect v1 GET k1
expect "" GET missing
expect 1 EXISTS k1
expect 2 EXISTS k1 k1
expect 1 DEL k1 nothing
expect 0 EXISTS k1
expect OK DEBUG POPULATE 1000
expect 1000 DBSIZE
expect OK DEBUG POPULATE 1000
expect 1000 DBSIZE

# RANGE is inclusive and in byte order; build the expected reply from the same key set.
expected=$(for i in $(seq 0 999); do echo "key:$i"; done | LC_ALL=C sort |
  awk '$0 >= "key:10" && $0 <= "key:12" { print; sub("key", "value"); print }')
expect "$expected" RANGE key:10 key:12
expect "$(echo "$expected" | head -6)" RANGE key:10 key:12 LIMIT 3
expect "" RANGE key:2 key:1
expect "$(printf 'key:99\n'; for i in $(seq 990 999); do echo "key:$i"; done)" KEYS 'key:99*'
expect "" KEYS 'nomatch*'

info=$(cli INFO handoff)
grep -q "^handoff_$mode:handoffs=[1-9]" <<<"${info//$'\r'/}" ||
  fail "INFO handoff shows no $mode handoffs: $info"
expect OK FLUSHALL
expect 0 DBSIZE
expect OK QUIT

# Pipelining: a RANGE then a PING in one write; the PONG must follow the whole range.
expect OK DEBUG POPULATE 1000
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf 'RANGE key:0 key:999\r\nPING\r\nQUIT\r\n' >&3
reply=$(timeout 10 cat <&3) || fail "no reply to the pipelined RANGE, PING, QUIT"
exec 3<&-
reply=${reply//$'\r'/}
[[ "$(head -1 <<<"$reply")" == "*2000" ]] || fail "pipelined RANGE: bad header: $(head -1 <<<"$reply")"
[[ "$(tail -2 <<<"$reply" | tr '\n' ' ')" == "+PONG +OK " ]] ||
  fail "pipelined replies out of order: $(tail -3 <<<"$reply" | tr '\n' ' ')"
[[ $(grep -c '^value:' <<<"$reply") -eq 1000 ]] || fail "pipelined RANGE did not carry 1000 values"

timeout 120 redis-benchmark -p "$PORT" -t get,set -n 20000 -c 8 -P 16 -q >/dev/null ||
  fail "redis-benchmark GET/SET reported an error"
expect OK DEBUG POPULATE 10000
timeout 120 redis-benchmark -p "$PORT" -n 1000 -c 4 -P 16 -q RANGE key:1 key:2 LIMIT 200 >/dev/null ||
  fail "redis-benchmark RANGE reported an error"

stop_server
echo "redis-cli and redis-benchmark against --handoff $mode: all checks passed"
