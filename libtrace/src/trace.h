/*
 * The one place libxtio reaches the `xtio` provider. With XTIO_TRACING off every tracepoint
 * compiles to nothing (its arguments are still type-checked, so both builds see the same code).
 */
#ifndef XTIO_SRC_TRACE_H
#define XTIO_SRC_TRACE_H

#ifdef XTIO_TRACING
#include "xtio_tp.h"
#define XTIO_TRACE(event, ...)    lttng_ust_tracepoint(xtio, event, __VA_ARGS__)
#define XTIO_TRACE_ENABLED(event) lttng_ust_tracepoint_enabled(xtio, event)
#else
static inline void xtio__trace_nothing(int unused, ...)
{
    (void)unused;
}
#define XTIO_TRACE(event, ...)    xtio__trace_nothing(0, __VA_ARGS__)
#define XTIO_TRACE_ENABLED(event) 0
#endif

#endif
