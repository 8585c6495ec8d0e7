/* Instantiates the `xtio` probes: this file alone makes up the provider shared object. */
#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#include "xtio_tp.h"

/* The provider's enumerations hold every value of the schema's: LTTng-UST 2.13 names each
 * enumeration's entries __enum_values__<provider>_<name>, and ends them with an empty one. */
#define ENTRIES(array) (sizeof(array) / sizeof((array)[0]) - 1)
_Static_assert(ENTRIES(__enum_values__xtio_mode) == XTIO_SCHEMA_MODE_COUNT,
               "the provider's `mode` enumeration lacks values of xtio_schema.h");
_Static_assert(ENTRIES(__enum_values__xtio_close_reason) == XTIO_SCHEMA_CLOSE_REASON_COUNT,
               "the provider's `close_reason` enumeration lacks values of xtio_schema.h");
_Static_assert(ENTRIES(__enum_values__xtio_mech) == XTIO_SCHEMA_MECH_COUNT,
               "the provider's `mech` enumeration lacks values of xtio_schema.h");
_Static_assert(ENTRIES(__enum_values__xtio_call) == XTIO_SCHEMA_CALL_COUNT,
               "the provider's `call` enumeration lacks values of xtio_schema.h");
