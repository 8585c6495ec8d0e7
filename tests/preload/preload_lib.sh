# shellcheck shell=bash
# Shell helper of the preload tests. Sourced, not run:
#   source "$(dirname "${BASH_SOURCE[0]}")/preload_lib.sh"
# Offers:
#   preload_for PROGRAM LIBRARY...   prints the LD_PRELOAD that runs PROGRAM with LIBRARY...:
#                                    a sanitized PROGRAM's runtime (libasan, libtsan) first, as
#                                    the runtime requires; its interceptors then reach the shim's
#                                    hooks through RTLD_NEXT
#   shim_sanitizer_env               for the run under the shim: LeakSanitizer does not list its
#                                    suppressions (liblttng-ust's) on stderr, which must stay as
#                                    the program's own

preload_for() {
    local program=$1 runtime list
    shift
    # awk reads to the end: exiting at the match would cut ldd off and fail the pipe (pipefail).
    runtime=$(ldd "$program" 2>/dev/null | awk '$1 ~ /^lib(asan|tsan)\.so/ && !found { print $3; found = 1 }')
    list=$runtime
    for library in "$@"; do
        list=${list:+$list:}$library
    done
    printf '%s\n' "$list"
}

shim_sanitizer_env() {
    export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}print_suppressions=0"
}
