/*
 * The one place libxtio reaches the `xtio` provider. With XTIO_TRACING off every tracepoint
 * compiles to nothing (its arguments are still type-checked, so both builds see the same code).
 *
 * A thread names itself with xtio:thread_name before its first recorded event, and again every
 * XTIO__THREAD_NAME_EVERY of them (so that a session started later, or a thread renamed, gets
 * it too): once, instead of the 16 bytes of a procname context in every event.
 */
#ifndef XTIO_SRC_TRACE_H
#define XTIO_SRC_TRACE_H

#include "xtio_tp_args.h"

#ifdef XTIO_TRACING
#include "xtio_tp.h"

#include <stdint.h>

#define XTIO__THREAD_NAME_EVERY 65536u

/* Events this thread recorded; initial-exec, so that reading it costs no __tls_get_addr call. */
extern _Thread_local uint32_t xtio__thread_events __attribute__((tls_model("initial-exec")));
void xtio__trace_thread_name(void);

/* Counts an event of this thread, recorded by itself or by another thread for it (a producer's
 * enqueue, carried by the loop's handoff_run), and names the thread before it when due. */
#define XTIO_TRACE_COUNT_THREAD_EVENT()                                                            \
    do {                                                                                           \
        if (xtio__thread_events++ % XTIO__THREAD_NAME_EVERY == 0)                                  \
            xtio__trace_thread_name();                                                             \
    } while (0)
#define XTIO_TRACE(event, ...)                                                                     \
    do {                                                                                           \
        if (lttng_ust_tracepoint_enabled(xtio, event)) {                                           \
            XTIO_TRACE_COUNT_THREAD_EVENT();                                                       \
            lttng_ust_do_tracepoint(xtio, event, __VA_ARGS__);                                     \
        }                                                                                          \
    } while (0)
#define XTIO_TRACE_ENABLED(event) lttng_ust_tracepoint_enabled(xtio, event)
#else
static inline void xtio__trace_nothing(int unused, ...)
{
    (void)unused;
}
#define XTIO_TRACE(event, ...)          xtio__trace_nothing(0, __VA_ARGS__)
#define XTIO_TRACE_ENABLED(event)       0
#define XTIO_TRACE_COUNT_THREAD_EVENT() ((void)0)
#endif

#endif
