# shellcheck shell=bash
# The on-CPU time of a process's threads, as scripts/workload and the benches (bench/handoff-modes,
# bench/preload-memcached) read it. Sourced, not run:
#   source "$(dirname "${BASH_SOURCE[0]}")/lib/tasks_cpu.sh"
#
# tasks_cpu_ns [--comm REGEX] VAR PID...: sets VAR to the on-CPU nanoseconds so far of every thread
# of the PIDs (with --comm, of those whose name matches the awk REGEX): the first field of
# /proc/PID/task/TID/schedstat. /proc/PID/stat counts 10 ms ticks, and /proc/PID/schedstat is the
# main thread's alone. A thread that exits takes its time with it. Returns 1, VAR unchanged, when
# nothing could be read (the process is gone, or the kernel lacks CONFIG_SCHED_INFO).
tasks_cpu_ns() {
  local comm='' var pid task ns
  if [[ $1 == --comm ]]; then
    comm=$2
    shift 2
  fi
  var=$1
  shift
  ns=$(for pid; do
    for task in /proc/"$pid"/task/*; do
      printf '%s\t%s\n' "$(<"$task/comm")" "$(<"$task/schedstat")"
    done
  done 2>/dev/null | awk -F '\t' -v re="$comm" '$1 ~ re { s += $2 } END { printf "%.0f", s }')
  [[ -n $ns && $ns != 0 ]] || return 1
  printf -v "$var" %s "$ns"
}
