/*
 * Decoding babeltrace2 messages into the analysis core's input: an event message of the `xtio`
 * provider into a struct xtio_event, a discarded-events (or discarded-packets) message into a
 * struct xtio_discard. No component state here, so it can be called from any sink.
 */
#ifndef XTIO_ANALYZERS_BT2_DECODE_H
#define XTIO_ANALYZERS_BT2_DECODE_H

#include <babeltrace2/babeltrace.h>

#include <stddef.h>

#include "analysis.h"

enum xtio_bt2_decode_status {
    /* The event is filled in. */
    XTIO_BT2_DECODE_OK,
    /* Not ours: another provider's event, or an `xtio` event this build does not know (newer
     * schemas may add events, which readers must ignore: docs/tracepoints.md, Versioning). */
    XTIO_BT2_DECODE_IGNORED,
    /* LTTng-UST's lttng_ust_statedump:procname: only `vpid` and `procname` are set, to the
     * process and its program's name (see xtio_analysis_name_process()). */
    XTIO_BT2_DECODE_PROGRAM_NAME,
    /* LTTng-UST's lttng_ust_statedump:bin_info or lttng_ust_dl:dlopen (or dlmopen): a module the
     * process loaded; nothing is filled in, xtio_bt2_decode_module() reads it. */
    XTIO_BT2_DECODE_MODULE,
    /* An `xtio` event whose fields are not those of the schema; `why` says which. What could be
     * read is filled in, schema_version included, so that the caller can let the core name the
     * version mismatch, which is the likelier explanation. */
    XTIO_BT2_DECODE_BAD_SHAPE,
    /* The event cannot be placed in time (no default clock class, or its time overflows). */
    XTIO_BT2_DECODE_NO_TIME,
    XTIO_BT2_DECODE_NO_MEMORY,
};

/* Remembers, per event class, where the schema's fields are, so that each event is decoded
 * without lookups by name. It holds a reference to each event class it has seen. */
typedef struct xtio_bt2_decoder xtio_bt2_decoder;

/* NULL when out of memory. */
xtio_bt2_decoder *xtio_bt2_decoder_create(void);
void xtio_bt2_decoder_destroy(xtio_bt2_decoder *decoder);

/* Decodes an event message. Strings in `event` are weak: they live as long as `msg`. `why`
 * receives a "Cannot ...: key=value" explanation for the failing statuses. */
enum xtio_bt2_decode_status xtio_bt2_decode_event(xtio_bt2_decoder *decoder, const bt_message *msg,
                                                  struct xtio_event *event, char *why,
                                                  size_t why_size);

/* A module a process loaded, with the address range and file that name its call sites (see
 * xtio_analysis_add_module()). */
struct xtio_bt2_module {
    int64_t vpid;
    uint64_t baddr;
    uint64_t memsz;
    const char *path; /* weak: lives as long as the message */
};

/* Reads the module of the message that xtio_bt2_decode_event() was last given, when it found it
 * to be one (XTIO_BT2_DECODE_MODULE); false for another message. */
bool xtio_bt2_decode_module(xtio_bt2_decoder *decoder, const bt_message *msg,
                            struct xtio_bt2_module *module);

/* Decodes a discarded-events or discarded-packets message. `stream_name` is the buffer that
 * discard->stream points to. A lost packet or an unknown count is taken as at least one lost
 * event. Returns false (with `why` filled in) when a clock snapshot cannot be converted. */
bool xtio_bt2_decode_discard(const bt_message *msg, struct xtio_discard *discard, char *stream_name,
                             size_t stream_name_size, char *why, size_t why_size);

#endif
