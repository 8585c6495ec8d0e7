/* Defines the tracepoint state of libxtio; the probes themselves live in the provider library. */
#define LTTNG_UST_TRACEPOINT_DEFINE
#include "trace.h"

#include <pthread.h>

_Thread_local uint32_t xtio__thread_events __attribute__((tls_model("initial-exec")));

void xtio__trace_thread_name(void)
{
    char name[16]; /* TASK_COMM_LEN */
    if (pthread_getname_np(pthread_self(), name, sizeof(name)) != 0)
        name[0] = '\0';
    lttng_ust_tracepoint(xtio, thread_name, name);
}
