# shellcheck shell=bash
# The on-CPU time of a process's threads, as scripts/workload and the benches (bench/handoff-modes,
# bench/preload-memcached) read it. Sourced, not run:
#   source "$(dirname "${BASH_SOURCE[0]}")/lib/tasks_cpu.sh"
#
# tasks_cpu_ns [--comm REGEX MATCHED] VAR PID...: sets VAR to the on-CPU nanoseconds so far of
# every thread of the PIDs, and with --comm, MATCHED to those of the threads whose name matches
# the awk REGEX, in one reading: the first field of /proc/PID/task/TID/schedstat. /proc/PID/stat
# counts 10 ms ticks, and /proc/PID/schedstat is the main thread's alone. A thread that exits
# takes its time with it. Returns 1, the variables unchanged, when nothing could be read (the
# process is gone, or the kernel lacks CONFIG_SCHED_INFO), or no thread matched.
# tasks_cpu_unreadable PID...: what to say when tasks_cpu_ns returns 1.
# tasks_cpu_ns_or_die VAR PID...: tasks_cpu_ns, or the caller's die with that.
tasks_cpu_ns() {
  local comm='' matched='' var pid task sums all some
  if [[ $1 == --comm ]]; then
    comm=$2
    matched=$3
    shift 3
  fi
  var=$1
  shift
  sums=$(for pid; do
    for task in /proc/"$pid"/task/*; do
      printf '%s\t%s\n' "$(<"$task/comm")" "$(<"$task/schedstat")"
    done
  done 2>/dev/null | awk -F '\t' -v re="$comm" '{ s += $2 } re != "" && $1 ~ re { m += $2 }
    END { printf "%.0f %.0f", s, m }')
  read -r all some <<<"$sums"
  [[ -n $all && $all != 0 ]] || return 1
  if [[ -n $matched ]]; then
    [[ $some != 0 ]] || return 1
    printf -v "$matched" %s "$some"
  fi
  printf -v "$var" %s "$all"
}

tasks_cpu_unreadable() {
  echo "cannot read /proc/{$*}/task/*/schedstat (it needs a kernel with CONFIG_SCHED_INFO)"
}

tasks_cpu_ns_or_die() {
  tasks_cpu_ns "$@" || die "$(tasks_cpu_unreadable "${@:2}")"
}
