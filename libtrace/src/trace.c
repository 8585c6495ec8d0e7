/* Defines the tracepoint state of libxtio; the probes themselves live in the provider library. */
#define LTTNG_UST_TRACEPOINT_DEFINE
#include "trace.h"
