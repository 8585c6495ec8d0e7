/*
 * Emits one event of another schema (e2e_future_schema_tp.h) and exits: the trace of a libxtio
 * newer than the analyzers, which they must refuse (e2e_test.sh). With no argument, an
 * xtio:loop_start of the schema version after this tree's (case unknown-schema); with
 * "mistyped", an xtio:handoff_write whose owner_tid is unsigned (case mistyped-field). With
 * "version", it emits nothing and prints that next version, which the test expects named.
 * liblttng-ust's constructor waits for the session daemon (LTTNG_UST_REGISTER_TIMEOUT) before main
 * runs, so the event is recorded.
 */
#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#define LTTNG_UST_TRACEPOINT_DEFINE
#include "e2e_future_schema_tp.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc == 1) {
        lttng_ust_tracepoint(xtio, loop_start, 1);
    } else if (argc == 2 && strcmp(argv[1], "mistyped") == 0) {
        lttng_ust_tracepoint(xtio, handoff_write, 1, 4242);
    } else if (argc == 2 && strcmp(argv[1], "version") == 0) {
        printf("%d\n", E2E_FUTURE_SCHEMA_VERSION);
    } else {
        fprintf(stderr, "usage: %s [mistyped|version]\n", argv[0]);
        return 2;
    }
    return 0;
}
