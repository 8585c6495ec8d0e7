/* Instantiates the `xtio` probes: this file alone makes up the provider shared object. */
#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#include "xtio_tp.h"
