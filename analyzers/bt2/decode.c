/*
 * Owns the mapping from babeltrace2's trace IR to the analysis core's structs: where the payload
 * fields of each `xtio` event of the schema (xtio_schema.h) go, where the contexts and the
 * timestamp come from, and how a discard is described.
 */
#include "decode.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where each payload field the core reads goes in struct xtio_event, and its size there (4 or 8
 * bytes): stored by offset, a field costs no branch on its name. A field without an entry is
 * checked for presence and signedness but not read: reading one costs two library calls per
 * event for nothing. */
#define INTO(member)                                                                               \
    {                                                                                              \
        offsetof(struct xtio_event, member), sizeof(((struct xtio_event *)0)->member)              \
    }
static const struct destination {
    uint16_t offset;
    uint8_t size; /* 0: not read */
} destinations[XTIO_FIELD_COUNT] = {
    [XTIO_FIELD_HANDOFF_ID] = INTO(handoff_id),
    [XTIO_FIELD_CONN_ID] = INTO(conn_id),
    [XTIO_FIELD_SEQ] = INTO(seq),
    [XTIO_FIELD_MODE] = INTO(mode),
    [XTIO_FIELD_BYTES] = INTO(bytes),
    [XTIO_FIELD_RECORDS] = INTO(records),
    [XTIO_FIELD_OWNER_TID] = INTO(owner_tid),
    [XTIO_FIELD_SPOOL_NS] = INTO(spool_ns),
    [XTIO_FIELD_OFFSET] = INTO(offset),
    [XTIO_FIELD_BYTES_FLUSHED_TOTAL] = INTO(bytes_flushed_total),
    [XTIO_FIELD_WRITTEN] = INTO(written),
    [XTIO_FIELD_QUEUED_BYTES] = INTO(queued_bytes),
    [XTIO_FIELD_QUEUE_DEPTH] = INTO(queue_depth),
    [XTIO_FIELD_COUNT_IN_RUN] = INTO(count),
    [XTIO_FIELD_RUN_BYTES] = INTO(run_bytes),
    [XTIO_FIELD_WAITED_NS] = INTO(waited_ns),
    [XTIO_FIELD_LOOP_ID] = INTO(loop_id),
    [XTIO_FIELD_SCHEMA_VERSION] = INTO(schema_version),
    [XTIO_FIELD_ENQUEUE_NS] = INTO(enqueue_ns),
    [XTIO_FIELD_PRODUCER_TID] = INTO(producer_tid),
    [XTIO_FIELD_NEXT_SEQ] = INTO(next_seq),
    [XTIO_FIELD_TASK] = INTO(task),
    [XTIO_FIELD_MECH] = INTO(mech),
    [XTIO_FIELD_SITE] = INTO(site),
    [XTIO_FIELD_WATCHED] = INTO(watched),
    [XTIO_FIELD_CALL] = INTO(call),
};

/* A handoff_run's sequences (schema version 3), one element per handoff, and where each goes in
 * struct xtio_enqueue. */
#define SEQUENCE_COUNT (XTIO_FIELD_EACH_SPOOL_NS - XTIO_FIELD_EACH_HANDOFF_ID + 1)
#define INTO_ENQUEUE(member)                                                                       \
    {                                                                                              \
        offsetof(struct xtio_enqueue, member), sizeof(((struct xtio_enqueue *)0)->member)          \
    }
static const struct destination sequence_destinations[SEQUENCE_COUNT] = {
    [XTIO_FIELD_EACH_HANDOFF_ID - XTIO_FIELD_EACH_HANDOFF_ID] = INTO_ENQUEUE(handoff_id),
    [XTIO_FIELD_EACH_ENQUEUE_NS - XTIO_FIELD_EACH_HANDOFF_ID] = INTO_ENQUEUE(enqueue_ns),
    [XTIO_FIELD_EACH_PRODUCER_TID - XTIO_FIELD_EACH_HANDOFF_ID] = INTO_ENQUEUE(producer_tid),
    [XTIO_FIELD_EACH_BYTES - XTIO_FIELD_EACH_HANDOFF_ID] = INTO_ENQUEUE(bytes),
    [XTIO_FIELD_EACH_RECORDS - XTIO_FIELD_EACH_HANDOFF_ID] = INTO_ENQUEUE(records),
    [XTIO_FIELD_EACH_QUEUE_DEPTH - XTIO_FIELD_EACH_HANDOFF_ID] = INTO_ENQUEUE(queue_depth),
    [XTIO_FIELD_EACH_QUEUED_BYTES - XTIO_FIELD_EACH_HANDOFF_ID] = INTO_ENQUEUE(queued_bytes),
    [XTIO_FIELD_EACH_SPOOL_NS - XTIO_FIELD_EACH_HANDOFF_ID] = INTO_ENQUEUE(spool_ns),
};
_Static_assert(sizeof(((struct xtio_event *)0)->mode) == 4 &&
                   sizeof(((struct xtio_event *)0)->records) == 4 &&
                   sizeof(((struct xtio_event *)0)->written) == 4 &&
                   sizeof(((struct xtio_event *)0)->loop_id) == 4 &&
                   sizeof(((struct xtio_event *)0)->queue_depth) == 4 &&
                   sizeof(((struct xtio_event *)0)->count) == 4 &&
                   sizeof(((struct xtio_event *)0)->schema_version) == 4 &&
                   sizeof(((struct xtio_event *)0)->mech) == 4 &&
                   sizeof(((struct xtio_event *)0)->call) == 4 &&
                   sizeof(((struct xtio_event *)0)->watched) == 4,
               "the narrow fields of struct xtio_event are 4 bytes wide");

/* Stores a value read with its field's own signedness: a narrow destination takes its low 32
 * bits, which for a signed field is the value's conversion to int (two's complement). */
static void store(void *object, struct destination to, uint64_t value)
{
    char *at = (char *)object + to.offset;
    if (to.size == 8) {
        memcpy(at, &value, 8);
    } else {
        uint32_t narrow = (uint32_t)value;
        memcpy(at, &narrow, 4);
    }
}

/* Where an integer or string member is in a structure, and, for an integer, its signedness:
 * asking each field for its class instead would cost a library call per field of every event. */
struct member {
    int64_t index; /* -1: absent, or not of the expected type */
    bool is_signed;
};

/* A payload field to read: where it is, with which signedness, and where it goes. */
struct field_read {
    uint64_t index;
    bool is_signed;
    struct destination to;
};

/* Where the schema's fields are in the events of one class, found once by name: events are then
 * decoded by member index, without the string comparisons of a lookup by name. */
struct class_info {
    const bt_event_class *cls; /* owned reference: its address cannot be reused while cached */
    bool xtio;                 /* false: another provider's, or an `xtio` event of a newer schema */
    enum xtio_event_kind kind;
    unsigned layout_version; /* the version of the layout its payload matches */
    struct field_read reads[XTIO_SCHEMA_MAX_FIELDS]; /* the fields the core reads, in order */
    unsigned read_count;
    bool carries_version;  /* the kind has a schema_version field */
    bool carries_next_seq; /* conn_close from version 3 */
    bool carries_enqueues; /* handoff_run from version 3: the each_* sequences */
    struct member sequences[SEQUENCE_COUNT];
    /* The first field of the kind's current layout the payload lacks, or has with another
     * signedness, when no layout of the kind matches; XTIO_FIELD_NONE: one matched. The event is
     * then of another schema, and only its schema_version is read. */
    enum xtio_field mismatch;
    struct member schema_version;
    struct member thread_name; /* xtio:thread_name's name, a string */
    /* lttng_ust_statedump:procname, with its payload's program name and the vpid context */
    bool names_program;
    struct member program;
    /* lttng_ust_statedump:bin_info and lttng_ust_dl:dlopen (dlmopen): a module the process
     * loaded, with its payload's baddr, memsz and path, and the vpid context */
    bool names_module;
    struct member baddr, memsz, path;
    struct member vtid, vpid; /* in the common context */
    struct member procname;
    bool has_clock; /* its stream class has a default clock class */
    /* The clock's origin in ns on the CLOCK_MONOTONIC scale of enqueue times; `clock_name` NULL
     * when the clock is another (an LTTng-UST clock plugin's), which enqueue times are not on. */
    int64_t monotonic_origin_ns;
    const char *clock_name;
    bool clock_is_monotonic;
};

/* LTTng-UST's event naming a process after its program, at each statedump. */
#define PROGRAM_NAME_EVENT "lttng_ust_statedump:procname"

/* LTTng-UST's events giving the modules a process loaded: at each statedump, and (with
 * liblttng-ust-dl preloaded) at each dlopen. */
static const char *const module_events[] = {
    "lttng_ust_statedump:bin_info",
    "lttng_ust_dl:dlopen",
    "lttng_ust_dl:dlmopen",
};

struct xtio_bt2_decoder {
    struct class_info *classes; /* owned */
    size_t count, cap;
    size_t last; /* the last class looked up: events come in runs of one class */
    /* A handoff_run's enqueues, owned: two buffers used in turn, so that those of the run fed
     * last stay valid while the next one is decoded (xtio_analysis_feed_event()). */
    struct xtio_enqueue *enqueues[2];
    size_t enqueue_cap[2];
    unsigned next_enqueues;
};

xtio_bt2_decoder *xtio_bt2_decoder_create(void)
{
    return calloc(1, sizeof(struct xtio_bt2_decoder));
}

void xtio_bt2_decoder_destroy(xtio_bt2_decoder *decoder)
{
    if (!decoder)
        return;
    for (size_t i = 0; i < decoder->count; i++)
        bt_event_class_put_ref(decoder->classes[i].cls);
    free(decoder->classes);
    free(decoder->enqueues[0]);
    free(decoder->enqueues[1]);
    free(decoder);
}

enum member_type { MEMBER_INTEGER, MEMBER_STRING, MEMBER_SEQUENCE };

static struct member find_member(const bt_field_class *structure, const char *name,
                                 enum member_type want)
{
    struct member found = {.index = -1};
    if (!structure || bt_field_class_get_type(structure) != BT_FIELD_CLASS_TYPE_STRUCTURE)
        return found;
    uint64_t n = bt_field_class_structure_get_member_count(structure);
    for (uint64_t i = 0; i < n; i++) {
        const bt_field_class_structure_member *member =
            bt_field_class_structure_borrow_member_by_index_const(structure, i);
        if (strcmp(bt_field_class_structure_member_get_name(member), name) != 0)
            continue;
        const bt_field_class *fc = bt_field_class_structure_member_borrow_field_class_const(member);
        bt_field_class_type type = bt_field_class_get_type(fc);
        if (want == MEMBER_SEQUENCE) {
            /* A sequence of integers: its signedness is its elements'. */
            if (!bt_field_class_type_is(type, BT_FIELD_CLASS_TYPE_DYNAMIC_ARRAY))
                return found;
            type =
                bt_field_class_get_type(bt_field_class_array_borrow_element_field_class_const(fc));
        }
        bool ok = want == MEMBER_STRING ? bt_field_class_type_is(type, BT_FIELD_CLASS_TYPE_STRING)
                                        : bt_field_class_type_is(type, BT_FIELD_CLASS_TYPE_INTEGER);
        if (ok) {
            found.index = (int64_t)i;
            found.is_signed = bt_field_class_type_is(type, BT_FIELD_CLASS_TYPE_SIGNED_INTEGER);
        }
        return found;
    }
    return found;
}

/* The context fields of a class: vtid, vpid and procname, which `lttng add-context -u -t vtid -t
 * vpid -t procname` puts in the common context. A missing one is left unset: the core decides
 * whether it can do without. */
static void describe_context(struct class_info *info, const bt_event_class *cls)
{
    const bt_stream_class *stream_class = bt_event_class_borrow_stream_class_const(cls);
    const bt_field_class *ctx =
        bt_stream_class_borrow_event_common_context_field_class_const(stream_class);
    info->vtid = find_member(ctx, "vtid", MEMBER_INTEGER);
    info->vpid = find_member(ctx, "vpid", MEMBER_INTEGER);
    info->procname = find_member(ctx, "procname", MEMBER_STRING);
    const bt_clock_class *clock = bt_stream_class_borrow_default_clock_class_const(stream_class);
    info->has_clock = clock != NULL;
    if (!clock)
        return;
    /* LTTng-UST's default clock counts CLOCK_MONOTONIC in ns: a cycle is a ns, and the origin
     * is where cycle 0 lands. */
    info->clock_name = bt_clock_class_get_name(clock);
    info->clock_is_monotonic =
        info->clock_name && strcmp(info->clock_name, XTIO_SCHEMA_CLOCK_NAME) == 0 &&
        bt_clock_class_get_frequency(clock) == 1000000000 &&
        bt_clock_class_cycles_to_ns_from_origin(clock, 0, &info->monotonic_origin_ns) ==
            BT_CLOCK_CLASS_CYCLES_TO_NS_FROM_ORIGIN_STATUS_OK;
}

/* Takes the reads of a layout's fields from the payload: XTIO_FIELD_NONE when every field is
 * there with its signedness, else the first that is not (the reads are then left empty). */
static enum xtio_field match_layout(struct class_info *info, const bt_field_class *payload,
                                    const enum xtio_field *fields)
{
    enum xtio_field mismatch = XTIO_FIELD_NONE;
    info->read_count = 0;
    info->carries_version = false;
    info->carries_next_seq = false;
    info->carries_enqueues = false;
    info->thread_name.index = -1;
    for (int i = 0; i < XTIO_SCHEMA_MAX_FIELDS && fields[i] != XTIO_FIELD_NONE; i++) {
        enum xtio_field f = fields[i];
        const struct xtio_schema_field *spec = &xtio_schema_fields[f];
        enum member_type type = spec->sequence    ? MEMBER_SEQUENCE
                                : spec->bits == 0 ? MEMBER_STRING
                                                  : MEMBER_INTEGER;
        struct member at = find_member(payload, spec->name, type);
        if (at.index < 0 || at.is_signed != spec->is_signed) {
            if (mismatch == XTIO_FIELD_NONE)
                mismatch = f;
            continue;
        }
        if (f == XTIO_FIELD_THREAD_NAME) {
            info->thread_name = at;
            continue;
        }
        if (spec->sequence) {
            info->sequences[f - XTIO_FIELD_EACH_HANDOFF_ID] = at;
            info->carries_enqueues = true;
            continue;
        }
        if (f == XTIO_FIELD_SCHEMA_VERSION)
            info->carries_version = true;
        if (f == XTIO_FIELD_NEXT_SEQ)
            info->carries_next_seq = true;
        if (destinations[f].size)
            info->reads[info->read_count++] =
                (struct field_read){(uint64_t)at.index, at.is_signed, destinations[f]};
    }
    if (mismatch != XTIO_FIELD_NONE)
        info->read_count = 0;
    return mismatch;
}

static void describe_class(struct class_info *info, const bt_event_class *cls)
{
    const char *name = bt_event_class_get_name(cls);
    const bt_field_class *payload = bt_event_class_borrow_payload_field_class_const(cls);
    if (name && strcmp(name, PROGRAM_NAME_EVENT) == 0) {
        describe_context(info, cls);
        info->program = find_member(payload, "procname", MEMBER_STRING);
        info->names_program = info->program.index >= 0 && info->vpid.index >= 0;
        return;
    }
    for (size_t i = 0; name && i < sizeof(module_events) / sizeof(module_events[0]); i++) {
        if (strcmp(name, module_events[i]) != 0)
            continue;
        describe_context(info, cls);
        info->baddr = find_member(payload, "baddr", MEMBER_INTEGER);
        info->memsz = find_member(payload, "memsz", MEMBER_INTEGER);
        info->path = find_member(payload, "path", MEMBER_STRING);
        info->names_module = info->baddr.index >= 0 && info->memsz.index >= 0 &&
                             info->path.index >= 0 && info->vpid.index >= 0;
        return;
    }
    info->xtio = xtio_schema_event_find(name, &info->kind);
    if (!info->xtio)
        return;
    describe_context(info, cls);
    /* The current layout, else an older one: a trace of an older libxtio. */
    info->mismatch = match_layout(info, payload, xtio_schema_events[info->kind].fields);
    info->layout_version = XTIO_SCHEMA_VERSION;
    for (size_t l = 0; l < XTIO_SCHEMA_OLD_LAYOUT_COUNT && info->mismatch != XTIO_FIELD_NONE; l++) {
        const struct xtio_schema_layout *layout = &xtio_schema_old_layouts[l];
        if (layout->kind == info->kind &&
            match_layout(info, payload, layout->fields) == XTIO_FIELD_NONE) {
            info->layout_version = layout->until;
            info->mismatch = XTIO_FIELD_NONE;
        }
    }
    info->schema_version =
        find_member(payload, xtio_schema_fields[XTIO_FIELD_SCHEMA_VERSION].name, MEMBER_INTEGER);
}

static const struct class_info *class_info(xtio_bt2_decoder *d, const bt_event_class *cls)
{
    if (d->count && d->classes[d->last].cls == cls)
        return &d->classes[d->last];
    for (size_t i = 0; i < d->count; i++) {
        if (d->classes[i].cls == cls) {
            d->last = i;
            return &d->classes[i];
        }
    }
    if (d->count == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 16;
        struct class_info *grown = realloc(d->classes, cap * sizeof(*grown));
        if (!grown)
            return NULL;
        d->classes = grown;
        d->cap = cap;
    }
    struct class_info *info = &d->classes[d->count];
    *info = (struct class_info){.cls = cls};
    describe_class(info, cls);
    bt_event_class_get_ref(cls);
    d->last = d->count++;
    return info;
}

/* The integer member `member` of `structure`, enumerations included (they are integer fields in
 * the IR), read with its own signedness so that a value is never reinterpreted: a signed value
 * comes back sign-extended, as the bits of its int64_t. */
static uint64_t read_integer(const bt_field *structure, struct member member)
{
    const bt_field *field =
        bt_field_structure_borrow_member_field_by_index_const(structure, (uint64_t)member.index);
    return member.is_signed ? (uint64_t)bt_field_integer_signed_get_value(field)
                            : bt_field_integer_unsigned_get_value(field);
}

/* Reads the payload fields that the core uses. */
static void read_payload(const struct class_info *info, const bt_field *payload,
                         struct xtio_event *ev)
{
    for (unsigned i = 0; i < info->read_count; i++) {
        const struct field_read *read = &info->reads[i];
        const bt_field *field =
            bt_field_structure_borrow_member_field_by_index_const(payload, read->index);
        store(ev, read->to,
              read->is_signed ? (uint64_t)bt_field_integer_signed_get_value(field)
                              : bt_field_integer_unsigned_get_value(field));
    }
    ev->has_schema_version = info->carries_version;
    ev->has_next_seq = info->carries_next_seq;
    ev->layout_version = info->layout_version;
    if (info->thread_name.index >= 0)
        ev->procname =
            bt_field_string_get_value(bt_field_structure_borrow_member_field_by_index_const(
                payload, (uint64_t)info->thread_name.index));
}

/* An enqueue time (CLOCK_MONOTONIC ns) as ns from the trace clock's origin, as ts_ns is. */
static bool to_trace_clock(const struct class_info *info, uint64_t *ns, const bt_event_class *cls,
                           char *why, size_t why_size)
{
    if (!info->clock_is_monotonic) {
        snprintf(why, why_size,
                 "Cannot place the enqueue times of the event in time: libxtio reads them from "
                 "CLOCK_MONOTONIC, but the trace's clock is \"%s\", not LTTng-UST's default "
                 "\"%s\" at 1 GHz; record the trace without an LTTng-UST clock plugin "
                 "(LTTNG_UST_CLOCK_PLUGIN): event=\"%s\"",
                 info->clock_name ? info->clock_name : "(unnamed)", XTIO_SCHEMA_CLOCK_NAME,
                 bt_event_class_get_name(cls));
        return false;
    }
    int64_t at = info->monotonic_origin_ns + (int64_t)*ns;
    *ns = at > 0 ? (uint64_t)at : 1; /* 0 means "not recorded" */
    return true;
}

/* Reads a version 3 handoff_run's sequences into the next enqueue buffer: one element per
 * handoff, `count` of them in each sequence. */
static enum xtio_bt2_decode_status read_enqueues(xtio_bt2_decoder *d, const struct class_info *info,
                                                 const bt_field *payload, struct xtio_event *ev,
                                                 char *why, size_t why_size)
{
    const bt_event_class *cls = info->cls;
    unsigned which = d->next_enqueues;
    if (ev->count == 0)
        return XTIO_BT2_DECODE_OK; /* nothing to write: the core takes it as any empty run */
    if (ev->count > d->enqueue_cap[which]) {
        struct xtio_enqueue *grown = realloc(d->enqueues[which], ev->count * sizeof(*grown));
        if (!grown) {
            snprintf(why, why_size, "Failed to make room for a run's enqueues: count=%" PRIu32,
                     ev->count);
            return XTIO_BT2_DECODE_NO_MEMORY;
        }
        d->enqueues[which] = grown;
        d->enqueue_cap[which] = ev->count;
    }
    /* Every member of each element is one of the sequences: nothing to clear first. */
    struct xtio_enqueue *enqueues = d->enqueues[which];
    for (unsigned s = 0; s < SEQUENCE_COUNT; s++) {
        const struct member *at = &info->sequences[s];
        const bt_field *array =
            bt_field_structure_borrow_member_field_by_index_const(payload, (uint64_t)at->index);
        if (bt_field_array_get_length(array) != ev->count) {
            snprintf(why, why_size,
                     "Cannot decode the event: its sequence \"%s\" has %" PRIu64
                     " elements, not one per handoff of its count (%" PRIu32 "): event=\"%s\"",
                     xtio_schema_fields[XTIO_FIELD_EACH_HANDOFF_ID + s].name,
                     bt_field_array_get_length(array), ev->count, bt_event_class_get_name(cls));
            return XTIO_BT2_DECODE_BAD_SHAPE;
        }
        for (uint32_t i = 0; i < ev->count; i++) {
            const bt_field *element = bt_field_array_borrow_element_field_by_index_const(array, i);
            store(&enqueues[i], sequence_destinations[s],
                  at->is_signed ? (uint64_t)bt_field_integer_signed_get_value(element)
                                : bt_field_integer_unsigned_get_value(element));
        }
    }
    for (uint32_t i = 0; i < ev->count; i++) {
        if (enqueues[i].enqueue_ns &&
            !to_trace_clock(info, &enqueues[i].enqueue_ns, cls, why, why_size))
            return XTIO_BT2_DECODE_NO_TIME;
    }
    d->next_enqueues ^= 1;
    ev->enqueues = enqueues;
    return XTIO_BT2_DECODE_OK;
}

static void decode_context(const struct class_info *info, const bt_event *event,
                           struct xtio_event *ev)
{
    const bt_field *ctx = bt_event_borrow_common_context_field_const(event);
    if (!ctx)
        return;
    if (info->vtid.index >= 0) {
        ev->has_vtid = true;
        ev->vtid = (int64_t)read_integer(ctx, info->vtid);
    }
    if (info->vpid.index >= 0)
        ev->vpid = (int64_t)read_integer(ctx, info->vpid);
    if (info->procname.index >= 0)
        ev->procname =
            bt_field_string_get_value(bt_field_structure_borrow_member_field_by_index_const(
                ctx, (uint64_t)info->procname.index));
}

static bool snapshot_ns(const bt_clock_snapshot *snapshot, uint64_t *ns)
{
    int64_t value;
    if (bt_clock_snapshot_get_ns_from_origin(snapshot, &value) !=
            BT_CLOCK_SNAPSHOT_GET_NS_FROM_ORIGIN_STATUS_OK ||
        value < 0)
        return false;
    *ns = (uint64_t)value;
    return true;
}

enum xtio_bt2_decode_status xtio_bt2_decode_event(xtio_bt2_decoder *decoder, const bt_message *msg,
                                                  struct xtio_event *ev, char *why, size_t why_size)
{
    const bt_event *event = bt_message_event_borrow_event_const(msg);
    const bt_event_class *cls = bt_event_borrow_class_const(event);
    const struct class_info *info = class_info(decoder, cls);

    *ev = (struct xtio_event){0};
    if (!info) {
        snprintf(why, why_size, "Failed to remember an event class: error=\"%s\"", "out of memory");
        return XTIO_BT2_DECODE_NO_MEMORY;
    }
    if (info->names_program) {
        const bt_field *ctx = bt_event_borrow_common_context_field_const(event);
        const bt_field *payload = bt_event_borrow_payload_field_const(event);
        ev->vpid = (int64_t)read_integer(ctx, info->vpid);
        ev->procname =
            bt_field_string_get_value(bt_field_structure_borrow_member_field_by_index_const(
                payload, (uint64_t)info->program.index));
        return XTIO_BT2_DECODE_PROGRAM_NAME;
    }
    if (info->names_module)
        return XTIO_BT2_DECODE_MODULE;
    if (!info->xtio)
        return XTIO_BT2_DECODE_IGNORED;
    ev->kind = info->kind;
    decode_context(info, event, ev);

    /* Borrowing a snapshot without a default clock class breaks a precondition (an abort in a
     * developer-mode libbabeltrace2), so check first. */
    if (!info->has_clock) {
        snprintf(why, why_size,
                 "Cannot place the event in time: its stream class has no default clock: "
                 "event=\"%s\"",
                 bt_event_class_get_name(cls));
        return XTIO_BT2_DECODE_NO_TIME;
    }
    if (!snapshot_ns(bt_message_event_borrow_default_clock_snapshot_const(msg), &ev->ts_ns)) {
        snprintf(why, why_size,
                 "Cannot convert the event's timestamp to nanoseconds from the clock's origin "
                 "(it overflows or is before the origin): event=\"%s\"",
                 bt_event_class_get_name(cls));
        return XTIO_BT2_DECODE_NO_TIME;
    }

    const bt_field *payload = bt_event_borrow_payload_field_const(event);
    if (info->mismatch != XTIO_FIELD_NONE) {
        /* The core names a newer schema better than a field can: give it the version. */
        if (info->schema_version.index >= 0) {
            ev->has_schema_version = true;
            ev->schema_version = (unsigned)read_integer(payload, info->schema_version);
        }
        snprintf(why, why_size,
                 "Cannot decode the event: it has no payload field \"%s\" of the integer type "
                 "(%s) that xtio schema version %d gives it (docs/tracepoints.md); the trace was "
                 "made by another version of libxtio: event=\"%s\"",
                 xtio_schema_fields[info->mismatch].name,
                 xtio_schema_fields[info->mismatch].is_signed ? "signed" : "unsigned",
                 XTIO_SCHEMA_VERSION, bt_event_class_get_name(cls));
        return XTIO_BT2_DECODE_BAD_SHAPE;
    }
    read_payload(info, payload, ev);
    if (info->carries_enqueues)
        return read_enqueues(decoder, info, payload, ev, why, why_size);
    if (ev->enqueue_ns && !to_trace_clock(info, &ev->enqueue_ns, cls, why, why_size))
        return XTIO_BT2_DECODE_NO_TIME;
    return XTIO_BT2_DECODE_OK;
}

bool xtio_bt2_decode_module(xtio_bt2_decoder *decoder, const bt_message *msg,
                            struct xtio_bt2_module *module)
{
    const bt_event *event = bt_message_event_borrow_event_const(msg);
    /* The class xtio_bt2_decode_event() just looked up: a lookup of its own here would keep the
     * compiler from inlining the one of every event. */
    const struct class_info *info = decoder->count ? &decoder->classes[decoder->last] : NULL;
    if (!info || info->cls != bt_event_borrow_class_const(event) || !info->names_module)
        return false;
    const bt_field *ctx = bt_event_borrow_common_context_field_const(event);
    const bt_field *payload = bt_event_borrow_payload_field_const(event);
    module->vpid = (int64_t)read_integer(ctx, info->vpid);
    module->baddr = read_integer(payload, info->baddr);
    module->memsz = read_integer(payload, info->memsz);
    module->path = bt_field_string_get_value(
        bt_field_structure_borrow_member_field_by_index_const(payload, (uint64_t)info->path.index));
    return true;
}

static void name_stream(const bt_stream *stream, char *buf, size_t size)
{
    const char *trace = bt_trace_get_name(bt_stream_borrow_trace_const(stream));
    const char *name = bt_stream_get_name(stream);
    /* source.ctf.fs names a stream by its file's path: the file name is enough. */
    const char *slash = name ? strrchr(name, '/') : NULL;
    if (slash && slash[1])
        name = slash + 1;
    if (name)
        snprintf(buf, size, "%s/%s", trace ? trace : "trace", name);
    else
        snprintf(buf, size, "%s/stream %" PRIu64, trace ? trace : "trace",
                 bt_stream_get_id(stream));
}

bool xtio_bt2_decode_discard(const bt_message *msg, struct xtio_discard *discard, char *stream_name,
                             size_t stream_name_size, char *why, size_t why_size)
{
    bool events = bt_message_get_type(msg) == BT_MESSAGE_TYPE_DISCARDED_EVENTS;
    const bt_stream *stream = events ? bt_message_discarded_events_borrow_stream_const(msg)
                                     : bt_message_discarded_packets_borrow_stream_const(msg);
    const bt_stream_class *sc = bt_stream_borrow_class_const(stream);
    const bt_clock_snapshot *begin = NULL, *end = NULL;
    uint64_t count = 0;

    memset(discard, 0, sizeof(*discard));
    name_stream(stream, stream_name, stream_name_size);
    discard->stream = stream_name;
    if (events) {
        if (bt_message_discarded_events_get_count(msg, &count) !=
            BT_PROPERTY_AVAILABILITY_AVAILABLE)
            count = 0;
        if (bt_stream_class_discarded_events_have_default_clock_snapshots(sc)) {
            begin = bt_message_discarded_events_borrow_beginning_default_clock_snapshot_const(msg);
            end = bt_message_discarded_events_borrow_end_default_clock_snapshot_const(msg);
        }
    } else {
        /* A lost packet held an unknown number of events: at least one per packet. */
        if (bt_message_discarded_packets_get_count(msg, &count) !=
            BT_PROPERTY_AVAILABILITY_AVAILABLE)
            count = 0;
        if (bt_stream_class_discarded_packets_have_default_clock_snapshots(sc)) {
            begin = bt_message_discarded_packets_borrow_beginning_default_clock_snapshot_const(msg);
            end = bt_message_discarded_packets_borrow_end_default_clock_snapshot_const(msg);
        }
    }
    discard->count = count ? count : 1;
    if (begin && end) {
        if (!snapshot_ns(begin, &discard->begin_ns) || !snapshot_ns(end, &discard->end_ns)) {
            snprintf(why, why_size,
                     "Cannot convert the time range of a discard to nanoseconds from the clock's "
                     "origin: stream=\"%s\"",
                     stream_name);
            return false;
        }
        discard->has_range = true;
    }
    return true;
}
