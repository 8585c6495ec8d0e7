#!/usr/bin/env bash
# analyzers.progress: xtio-analyze's progress line on a real capture of scripts/workload, run
# under a pseudo-terminal (util-linux's `script`). Checks:
#   - stderr on a terminal: a first line (0 events) and a final one (all the trace's events, as
#     babeltrace2 counts them, 100%, 0s left), with the fields of docs/analysis.md (time range
#     read, events, events/s, time left), each rewritten in place and the last one cleared;
#   - the report is byte-identical to that of a run with no terminal, whether stdout is a file
#     or the same terminal (the progress line, removed, leaves the report ungarbled);
#   - nothing on the terminal with --quiet; nothing on stderr when it is a file or a pipe; none
#     when csv rows stream to the terminal.
# Usage: progress_test.sh TRACE XTIO_ANALYZE
# TRACE: the capture of the fixture workload_trace (workload_trace.sh).
set -euo pipefail

if (($# != 2)); then
    echo "usage: $0 TRACE XTIO_ANALYZE" >&2
    exit 2
fi
trace=$1
analyze=$2
readonly step_timeout=300

# shellcheck source=view_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/view_lib.sh"
view_test progress_test
command -v script >/dev/null || die "script (util-linux, bsdutils) is missing"
command -v perl >/dev/null || die "perl is missing"


# on_tty NAME REDIRECTION COMMAND...: runs COMMAND under a pseudo-terminal (stdin, stdout and
# stderr on it, but for the shell REDIRECTION, such as ">FILE"), the terminal's bytes to
# $workdir/NAME.tty; its exit status to $workdir/NAME.rc.
on_tty() {
    local name=$1 redirection=$2 rc=0
    shift 2
    timeout "$step_timeout" script -qec "$(printf '%q ' "$@")$redirection" /dev/null \
        </dev/null >"$workdir/$name.tty" 2>"$workdir/$name.script-err" || rc=$?
    echo "$rc" >"$workdir/$name.rc"
}
# expect_status NAME STATUS: the exit status of the run NAME.
expect_status() {
    local rc
    rc=$(cat "$workdir/$1.rc")
    [[ $rc == "$2" ]] || die "$1: exit status $rc, expected $2: $(cat -v "$workdir/$1.tty" \
        "$workdir/$1.script-err" 2>/dev/null | tail -5)"
}

# The reference: no terminal at all. Exit 1: direct's off-loop writes are findings.
status=0
timeout "$step_timeout" "$analyze" "$trace" >"$workdir/plain.out" 2>"$workdir/plain.err" ||
    status=$?
((status == 1)) || die "xtio-analyze exited $status, expected 1: $(cat "$workdir/plain.err")"
[[ -s $workdir/plain.out ]] || die "the report is empty"
[[ ! -s $workdir/plain.err ]] ||
    die "stderr is a file, yet it got: $(head -c 300 "$workdir/plain.err" | cat -v)"
piped=$(timeout "$step_timeout" "$analyze" "$trace" 2>&1 >/dev/null | cat -v) || true
[[ -z $piped ]] || die "stderr is a pipe, yet it got: ${piped:0:300}"
events=$(timeout "$step_timeout" babeltrace2 "$trace" | wc -l)
((events > 0)) || die "babeltrace2 reads no event in the trace"

# stderr on the terminal, the report to a file.
on_tty progress ">$(printf %q "$workdir/progress.out")" "$analyze" "$trace"
expect_status progress 1
cmp -s "$workdir/plain.out" "$workdir/progress.out" ||
    die "the report differs when stderr is a terminal: diff $workdir/plain.out $workdir/progress.out"
# Each update is "\r", the line, then clear to the end of the line ("\e[K"); the last, a bare
# clear. Nothing else comes on the terminal.
perl -0777 -ne '
    my $rest = $_;
    $rest =~ s/\r[^\r\n\e]*\e\[K//g;
    print STDERR "outside the progress lines: ", $rest =~ s/\e/^[/gr, "\n" if length $rest;
    my @lines = /\r([^\r\n\e]*)\e\[K/g;
    print "$_\n" for @lines;
    exit(length $rest ? 1 : 0);' "$workdir/progress.tty" >"$workdir/progress.lines" ||
    die "the terminal got more than progress lines (see above)"
mapfile -t lines < <(grep -v '^$' "$workdir/progress.lines")
((${#lines[@]} >= 2)) || die "expected a first and a final progress line, got ${#lines[@]}:" \
    "$(cat "$workdir/progress.lines")"
[[ $(tail -c 4 "$workdir/progress.tty" | od -An -c | tr -d ' ') == '\r033[K' ]] ||
    die "the progress line is not cleared at the end: $(tail -c 80 "$workdir/progress.tty" | cat -v)"
field='^read [0-9]+\.[0-9] of [0-9]+\.[0-9] s of trace \(([0-9]+)%\), ([0-9hms<]+|--) left, '
field+='([0-9]+) events, ([0-9.]+[kM]?|--) events/s$'
for line in "${lines[@]}"; do
    [[ $line =~ $field ]] || die "progress line '$line' lacks a field of '$field'"
done
[[ ${lines[0]} =~ $field && ${BASH_REMATCH[3]} == 0 ]] ||
    die "the first progress line, '${lines[0]}', is not the one before reading (0 events)"
last=${lines[${#lines[@]} - 1]}
[[ $last =~ $field ]]
percent=${BASH_REMATCH[1]} left=${BASH_REMATCH[2]} count=${BASH_REMATCH[3]} rate=${BASH_REMATCH[4]}
[[ $percent == 100 && $count == "$events" && $rate =~ ^[0-9] && $left == 0s ]] ||
    die "the final progress line, '$last', does not say 100%, the trace's $events events, a rate" \
        "and 0s left"

# Everything on the terminal: with the progress lines taken out, the report is the reference
# (the terminal turns "\n" into "\r\n").
on_tty shared "" "$analyze" "$trace"
expect_status shared 1
perl -0777 -pe 's/\r[^\r\n\e]*\e\[K//g; s/\r\n/\n/g' "$workdir/shared.tty" >"$workdir/shared.out"
grep -q ' s of trace ' "$workdir/shared.tty" || die "no progress line when stdout is the terminal too"
cmp -s "$workdir/plain.out" "$workdir/shared.out" ||
    die "the report on the terminal is garbled: diff $workdir/plain.out $workdir/shared.out"

# --quiet: nothing on the terminal, the same report.
on_tty quiet ">$(printf %q "$workdir/quiet.out")" "$analyze" --quiet "$trace"
expect_status quiet 1
[[ ! -s $workdir/quiet.tty ]] ||
    die "--quiet, yet the terminal got: $(head -c 300 "$workdir/quiet.tty" | cat -v)"
cmp -s "$workdir/plain.out" "$workdir/quiet.out" || die "the report differs with --quiet"

# stdout on the terminal, stderr to a file: nothing on stderr.
on_tty to-file "2>$(printf %q "$workdir/to-file.err")" "$analyze" "$trace"
expect_status to-file 1
[[ ! -s $workdir/to-file.err ]] ||
    die "stderr is a file, yet it got: $(head -c 300 "$workdir/to-file.err" | cat -v)"

# csv rows to the terminal stream as the trace is read: no progress line among them.
on_tty csv "" "$analyze" --format csv "$trace"
expect_status csv 1
grep -q '^vpid,conn_id' "$workdir/csv.tty" || die "no csv header on the terminal"
! grep -q ' s of trace ' "$workdir/csv.tty" || die "a progress line among the csv rows on the terminal"

echo "progress_test: ${#lines[@]} progress lines, the last: '$last'; the report is unchanged"
