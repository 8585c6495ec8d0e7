/*
 * Emits one xtio:loop_start of schema version 2 (e2e_future_schema_tp.h) and exits: the trace of
 * a libxtio newer than the analyzers, which they must refuse (e2e_test.sh, case unknown-schema).
 * liblttng-ust's constructor waits for the session daemon (LTTNG_UST_REGISTER_TIMEOUT) before
 * main runs, so the event is recorded.
 */
#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#define LTTNG_UST_TRACEPOINT_DEFINE
#include "e2e_future_schema_tp.h"

int main(void)
{
    lttng_ust_tracepoint(xtio, loop_start, 1);
    return 0;
}
