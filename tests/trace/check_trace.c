/*
 * The reading half of the trace.events test: loads an LTTng trace of handoff_program with
 * libbabeltrace2 (source.ctf.fs -> filter.utils.muxer -> a sink class made here) and checks it
 * against the `xtio` schema (tracepoints/xtio_schema.h) and against the `key=value`
 * expectations the program printed.
 *
 * Usage: check_trace TRACE_ROOT EXPECTATIONS_FILE
 *   TRACE_ROOT is searched recursively for CTF traces (directories holding a `metadata` file),
 *   so an lttng session's --output directory will do.
 *
 * The cmocka group setup loads the trace once; each test checks one contract. Only events of the
 * program's own process (its printed pid) are considered: other processes using libxtio at the
 * same time (parallel ctest) are recorded by the same session.
 */
#include <babeltrace2/babeltrace.h>

#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "xtio_schema.h"

/* ---- The schema (tracepoints/xtio_schema.h) ----------------------------------------------------
 */

/* The schema's type of the i-th payload field of an event; its name is NULL past the last. */
static const struct xtio_schema_field *spec_of(enum xtio_event_kind id, int i)
{
    return &xtio_schema_fields[xtio_schema_events[id].fields[i]];
}

/* The babeltrace2 class a field of the schema must have in the trace; for a sequence, the class
 * of its elements (the sequence itself is a dynamic array). */
static bt_field_class_type class_of(const struct xtio_schema_field *spec)
{
    if (spec->bits == 0)
        return BT_FIELD_CLASS_TYPE_STRING;
    if (spec->enumeration != XTIO_SCHEMA_ENUM_NONE)
        return BT_FIELD_CLASS_TYPE_SIGNED_ENUMERATION;
    return spec->is_signed ? BT_FIELD_CLASS_TYPE_SIGNED_INTEGER
                           : BT_FIELD_CLASS_TYPE_UNSIGNED_INTEGER;
}

/* ---- What the trace holds, once loaded ------------------------------------------------------- */

struct event {
    enum xtio_event_kind id;
    int64_t ts_ns;
    int64_t vtid, vpid;
    char procname[32];
    /* By the index of the field in the schema; signed values are stored as their uint64_t cast. */
    uint64_t value[XTIO_SCHEMA_MAX_FIELDS];
    char label[16];  /* of the event's enumeration field, "" when it has none or it did not map */
    char string[32]; /* of the event's string field (thread_name's name) */
    /* A handoff_run's sequences: 1 + the index of their elements in trace.elements; 0 for an
     * event without sequences or whose sequences did not decode. */
    size_t elements;
    /* handoff_drop's enqueue_ns as ns from the trace clock's origin, like ts_ns (INT64_MAX when
     * it cannot be converted). */
    int64_t enqueue_ts;
    /* A handoff_enqueue that the trace does not hold as an event of its own: expand_runs() made
     * it from the handoff_run or handoff_drop that carries it, recorded at carrier_ts by another
     * thread, so that it has no procname context of its own. */
    bool carried;
    int64_t carrier_ts;
};

/* The elements of one event's sequence fields, by the index of the field in the schema. */
struct elements {
    uint64_t length[XTIO_SCHEMA_MAX_FIELDS]; /* as in the trace, even past XTIO_SCHEMA_RUN_MAX */
    /* The first XTIO_SCHEMA_RUN_MAX elements; signed values are stored as their uint64_t cast. */
    uint64_t value[XTIO_SCHEMA_MAX_FIELDS][XTIO_SCHEMA_RUN_MAX];
    /* each_enqueue_ns as ns from the trace clock's origin, so that it compares with ts_ns
     * (INT64_MAX when it cannot be converted). */
    int64_t enqueue_ts[XTIO_SCHEMA_RUN_MAX];
};

#define MAX_REPORTED 25

/* Violations found by one test: the first few are printed, all are counted. */
struct problems {
    size_t count;
    /* Found while loading, before any test runs: kept until a test replays them. */
    bool deferred;
    char saved[MAX_REPORTED][256];
};

static void problem(struct problems *p, const char *fmt, ...)
{
    if (p->count++ < MAX_REPORTED) {
        char msg[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (p->deferred)
            memcpy(p->saved[p->count - 1], msg, sizeof(msg));
        else
            print_error("  %s\n", msg);
    } else if (p->count == MAX_REPORTED + 1 && !p->deferred) {
        print_error("  (further problems not shown)\n");
    }
}

static void replay_problems(const struct problems *p)
{
    for (size_t i = 0; i < p->count && i < MAX_REPORTED; i++)
        print_error("  %s\n", p->saved[i]);
    if (p->count > MAX_REPORTED)
        print_error("  (further problems not shown)\n");
}

static void fail_on_problems(const struct problems *p, const char *what)
{
    if (p->count)
        fail_msg("%zu problem(s): %s", p->count, what);
}

struct trace {
    const char *root;
    /* From the program's output. */
    char *keys[64], *values[64];
    size_t nkeys;
    int64_t pid;

    struct event *events; /* owned; the program's events, in trace (timestamp) order */
    size_t count, capacity;
    uint64_t foreign_events; /* from other processes, ignored */
    uint64_t discarded_events, discarded_packets;
    uint64_t untimed_events; /* without a usable timestamp */
    bool ended;
    bool out_of_memory;
    /* Shape problems found while decoding, reported by test_schema_shape. */
    struct problems shape;
    /* The elements of the events' sequences (see event.elements); owned. */
    struct elements *elements;
    size_t nelements, elements_capacity;
    /* handoff_run events, each replaced in `events` by the enqueues and writes of its handoffs
     * (see expand_runs()); what was wrong with them, reported by test_runs. */
    uint64_t runs;
    struct problems run_problems;
    /* Producers whose enqueues a handoff_run or handoff_drop carries without the producer having
     * named itself first, found by expand_runs(), reported by test_producers_are_named. */
    struct problems naming_problems;
    bool shape_reported[XTIO_EVENT_KIND_COUNT];
    bool context_reported;
    bool clock_reported;
    bool unknown_reported;
};

static struct trace the_trace;

/* ---- Expectations ---------------------------------------------------------------------------- */

static const char *printed_string(const struct trace *t, const char *key)
{
    for (size_t i = 0; i < t->nkeys; i++) {
        if (strcmp(t->keys[i], key) == 0)
            return t->values[i];
    }
    return NULL;
}

/* A number the program printed; fails the current test when it did not print it. */
static uint64_t printed_u64(const struct trace *t, const char *key)
{
    const char *s = printed_string(t, key);
    if (!s)
        fail_msg("handoff_program printed no \"%s=\" line: the program and the checker disagree "
                 "on what is printed; keep them in step",
                 key);
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || end == s)
        fail_msg("handoff_program printed \"%s=%s\", which is not a number", key, s);
    return v;
}

static int load_expectations(struct trace *t, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "check_trace: cannot open the program's output %s: %s\n", path,
                strerror(errno));
        return -1;
    }
    char line[256];
    int rc = 0;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0])
            continue;
        char *eq = strchr(line, '=');
        if (!eq || eq == line || t->nkeys == sizeof(t->keys) / sizeof(t->keys[0])) {
            fprintf(stderr, "check_trace: %s: \"%s\" is not a key=value line (or too many)\n", path,
                    line);
            rc = -1;
            break;
        }
        *eq = '\0';
        t->keys[t->nkeys] = strdup(line);
        t->values[t->nkeys] = strdup(eq + 1);
        if (!t->keys[t->nkeys] || !t->values[t->nkeys]) {
            fprintf(stderr, "check_trace: out of memory reading %s\n", path);
            free(t->keys[t->nkeys]);
            free(t->values[t->nkeys]);
            rc = -1;
            break;
        }
        t->nkeys++;
    }
    fclose(f);
    if (rc == 0 && !printed_string(t, "pid")) {
        fprintf(stderr, "check_trace: %s has no pid= line: did handoff_program finish?\n", path);
        rc = -1;
    }
    if (rc == 0)
        t->pid = strtoll(printed_string(t, "pid"), NULL, 10);
    return rc;
}

/* ---- Decoding events ------------------------------------------------------------------------- */

static int find_field(enum xtio_event_kind id, const char *name)
{
    for (int i = 0; i < XTIO_SCHEMA_MAX_FIELDS && spec_of(id, i)->name; i++) {
        if (strcmp(spec_of(id, i)->name, name) == 0)
            return i;
    }
    return -1;
}

static const char *class_type_name(bt_field_class_type type)
{
    if (type == BT_FIELD_CLASS_TYPE_UNSIGNED_INTEGER)
        return "unsigned integer";
    if (type == BT_FIELD_CLASS_TYPE_SIGNED_INTEGER)
        return "signed integer";
    if (type == BT_FIELD_CLASS_TYPE_UNSIGNED_ENUMERATION)
        return "unsigned enumeration";
    if (type == BT_FIELD_CLASS_TYPE_SIGNED_ENUMERATION)
        return "signed enumeration";
    if (bt_field_class_type_is(type, BT_FIELD_CLASS_TYPE_STRING))
        return "string";
    if (bt_field_class_type_is(type, BT_FIELD_CLASS_TYPE_DYNAMIC_ARRAY))
        return "dynamic array";
    return "non-integer";
}

/* A CLOCK_MONOTONIC time that libxtio recorded (enqueue_ns), as ns from the origin of the event's
 * clock, like the events' timestamps: the trace's clock counts the same nanoseconds
 * (XTIO_SCHEMA_CLOCK_NAME, checked by capture_event()). INT64_MAX when it cannot be converted. */
static int64_t monotonic_to_ts(const bt_clock_class *clock, uint64_t ns)
{
    int64_t ts;
    if (!clock || bt_clock_class_cycles_to_ns_from_origin(clock, ns, &ts) !=
                      BT_CLOCK_CLASS_CYCLES_TO_NS_FROM_ORIGIN_STATUS_OK)
        return INT64_MAX;
    return ts;
}

/* The elements of an event's sequences, made on its first sequence field; NULL when out of
 * memory. */
static struct elements *elements_of(struct trace *t, struct event *ev)
{
    if (ev->elements)
        return &t->elements[ev->elements - 1];
    if (t->nelements == t->elements_capacity) {
        size_t cap = t->elements_capacity ? 2 * t->elements_capacity : 64;
        struct elements *grown = realloc(t->elements, cap * sizeof(*grown));
        if (!grown) {
            t->out_of_memory = true;
            return NULL;
        }
        t->elements = grown;
        t->elements_capacity = cap;
    }
    memset(&t->elements[t->nelements], 0, sizeof(t->elements[0]));
    ev->elements = ++t->nelements;
    return &t->elements[ev->elements - 1];
}

/* A sequence field: a dynamic array of the schema's integers. Keeps its length and its first
 * XTIO_SCHEMA_RUN_MAX elements (expand_runs() reports a longer one), each_enqueue_ns also on the
 * trace clock. */
static void decode_sequence(struct trace *t, struct event *ev, int i, const bt_field *field,
                            const bt_clock_class *clock)
{
    const struct xtio_schema_field *spec = spec_of(ev->id, i);
    const char *ev_name = xtio_schema_events[ev->id].name;
    bt_field_class_type type = bt_field_get_class_type(field);
    bt_field_class_type want = class_of(spec);
    bool report = !t->shape_reported[ev->id];

    if (!bt_field_class_type_is(type, BT_FIELD_CLASS_TYPE_DYNAMIC_ARRAY)) {
        if (report)
            problem(&t->shape, "xtio:%s.%s is a %s, the schema says a dynamic array of %ss",
                    ev_name, spec->name, class_type_name(type), class_type_name(want));
        return;
    }
    const bt_field_class *efc =
        bt_field_class_array_borrow_element_field_class_const(bt_field_borrow_class_const(field));
    bt_field_class_type etype = bt_field_class_get_type(efc);
    if (etype != want) {
        if (report)
            problem(&t->shape, "xtio:%s.%s is a dynamic array of %ss, the schema says of %ss",
                    ev_name, spec->name, class_type_name(etype), class_type_name(want));
        return;
    }
    if (bt_field_class_integer_get_field_value_range(efc) != spec->bits && report)
        problem(&t->shape, "xtio:%s.%s has elements %" PRIu64 " bits wide, the schema says %u",
                ev_name, spec->name, bt_field_class_integer_get_field_value_range(efc), spec->bits);

    struct elements *e = elements_of(t, ev);
    if (!e)
        return;
    bool enqueue_ns = xtio_schema_events[ev->id].fields[i] == XTIO_FIELD_EACH_ENQUEUE_NS;
    e->length[i] = bt_field_array_get_length(field);
    for (uint64_t j = 0; j < e->length[i] && j < XTIO_SCHEMA_RUN_MAX; j++) {
        const bt_field *element = bt_field_array_borrow_element_field_by_index_const(field, j);
        uint64_t v = spec->is_signed ? (uint64_t)bt_field_integer_signed_get_value(element)
                                     : bt_field_integer_unsigned_get_value(element);
        e->value[i][j] = v;
        if (enqueue_ns)
            e->enqueue_ts[j] = monotonic_to_ts(clock, v);
    }
}

/* `_<name>_length`, the member babeltrace2 adds before each sequence field <name> to hold its
 * length: the schema does not list it, but it belongs to the sequence. */
static bool is_length_member(enum xtio_event_kind id, const char *member)
{
    static const char suffix[] = "_length";
    size_t len = strlen(member), suffix_len = sizeof(suffix) - 1;
    if (len <= 1 + suffix_len || member[0] != '_' || strcmp(member + len - suffix_len, suffix) != 0)
        return false;
    for (int i = 0; i < XTIO_SCHEMA_MAX_FIELDS && spec_of(id, i)->name; i++) {
        const char *name = spec_of(id, i)->name;
        if (spec_of(id, i)->sequence && strlen(name) == len - 1 - suffix_len &&
            strncmp(member + 1, name, len - 1 - suffix_len) == 0)
            return true;
    }
    return false;
}

static void decode_field(struct trace *t, struct event *ev, int i, const bt_field *field,
                         const bt_clock_class *clock)
{
    const struct xtio_schema_field *spec = spec_of(ev->id, i);
    if (spec->sequence) {
        decode_sequence(t, ev, i, field, clock);
        return;
    }
    const char *ev_name = xtio_schema_events[ev->id].name;
    const bt_field_class *fc = bt_field_borrow_class_const(field);
    bt_field_class_type type = bt_field_get_class_type(field);
    bt_field_class_type want = class_of(spec);
    bool report = !t->shape_reported[ev->id];

    if (type != want) {
        if (report)
            problem(&t->shape, "xtio:%s.%s is a %s, the schema says %s", ev_name, spec->name,
                    class_type_name(type), class_type_name(want));
        if (!bt_field_class_type_is(type, BT_FIELD_CLASS_TYPE_INTEGER))
            return;
    } else if (type == BT_FIELD_CLASS_TYPE_STRING) {
        snprintf(ev->string, sizeof(ev->string), "%s", bt_field_string_get_value(field));
        return;
    } else if (bt_field_class_integer_get_field_value_range(fc) != spec->bits && report) {
        problem(&t->shape, "xtio:%s.%s is %" PRIu64 " bits wide, the schema says %u", ev_name,
                spec->name, bt_field_class_integer_get_field_value_range(fc), spec->bits);
    }

    if (bt_field_class_type_is(type, BT_FIELD_CLASS_TYPE_SIGNED_INTEGER))
        ev->value[i] = (uint64_t)bt_field_integer_signed_get_value(field);
    else
        ev->value[i] = bt_field_integer_unsigned_get_value(field);
    if (xtio_schema_events[ev->id].fields[i] == XTIO_FIELD_ENQUEUE_NS)
        ev->enqueue_ts = monotonic_to_ts(clock, ev->value[i]);

    if (type == BT_FIELD_CLASS_TYPE_SIGNED_ENUMERATION) {
        bt_field_class_enumeration_mapping_label_array labels;
        uint64_t nlabels = 0;
        if (bt_field_enumeration_signed_get_mapping_labels(field, &labels, &nlabels) !=
            BT_FIELD_ENUMERATION_GET_MAPPING_LABELS_STATUS_OK) {
            t->out_of_memory = true;
            return;
        }
        if (nlabels == 1)
            snprintf(ev->label, sizeof(ev->label), "%s", labels[0]);
        else
            snprintf(ev->label, sizeof(ev->label), "<%" PRIu64 " labels>", nlabels);
    }
}

/* Checks the payload against the schema and keeps its values. The shape of a class never
 * changes, so each problem is reported for the first event of a class only. */
static void decode_payload(struct trace *t, struct event *ev, const bt_event *event,
                           const bt_clock_class *clock)
{
    const char *ev_name = xtio_schema_events[ev->id].name;
    const bt_field *payload = bt_event_borrow_payload_field_const(event);
    bool report = !t->shape_reported[ev->id];

    if (!payload) {
        if (report)
            problem(&t->shape, "xtio:%s has no payload", ev_name);
        t->shape_reported[ev->id] = true;
        return;
    }
    for (int i = 0; i < XTIO_SCHEMA_MAX_FIELDS && spec_of(ev->id, i)->name; i++) {
        const bt_field *field =
            bt_field_structure_borrow_member_field_by_name_const(payload, spec_of(ev->id, i)->name);
        if (!field) {
            if (report)
                problem(&t->shape, "xtio:%s has no field \"%s\"", ev_name,
                        spec_of(ev->id, i)->name);
            continue;
        }
        decode_field(t, ev, i, field, clock);
    }
    if (report) {
        const bt_field_class *pfc = bt_field_borrow_class_const(payload);
        uint64_t n = bt_field_class_structure_get_member_count(pfc);
        for (uint64_t i = 0; i < n; i++) {
            const bt_field_class_structure_member *member =
                bt_field_class_structure_borrow_member_by_index_const(pfc, i);
            const char *name = bt_field_class_structure_member_get_name(member);
            if (is_length_member(ev->id, name)) {
                bt_field_class_type type = bt_field_class_get_type(
                    bt_field_class_structure_member_borrow_field_class_const(member));
                if (type != BT_FIELD_CLASS_TYPE_UNSIGNED_INTEGER)
                    problem(&t->shape, "xtio:%s.%s, a sequence's length, is a %s", ev_name, name,
                            class_type_name(type));
            } else if (find_field(ev->id, name) < 0) {
                problem(&t->shape, "xtio:%s has a field \"%s\" that the schema does not know",
                        ev_name, name);
            }
        }
    }
    t->shape_reported[ev->id] = true;
}

/* vtid, vpid and procname, as `lttng add-context -u -t vtid -t vpid -t procname` adds them.
 * Returns false when the event cannot be attributed to a process. */
static bool decode_context(struct trace *t, struct event *ev, const bt_event *event)
{
    const bt_field *ctx = bt_event_borrow_common_context_field_const(event);
    const bt_field *vtid =
        ctx ? bt_field_structure_borrow_member_field_by_name_const(ctx, "vtid") : NULL;
    const bt_field *vpid =
        ctx ? bt_field_structure_borrow_member_field_by_name_const(ctx, "vpid") : NULL;
    const bt_field *procname =
        ctx ? bt_field_structure_borrow_member_field_by_name_const(ctx, "procname") : NULL;
    bool ok = vtid && vpid && procname &&
              bt_field_get_class_type(vtid) == BT_FIELD_CLASS_TYPE_SIGNED_INTEGER &&
              bt_field_get_class_type(vpid) == BT_FIELD_CLASS_TYPE_SIGNED_INTEGER &&
              bt_field_get_class_type(procname) == BT_FIELD_CLASS_TYPE_STRING;
    if (!ok) {
        if (!t->context_reported)
            problem(&t->shape,
                    "xtio:%s lacks the vtid/vpid (signed integer) and procname (string) contexts: "
                    "was the session made with `lttng add-context -u -t vtid -t vpid -t procname`?",
                    xtio_schema_events[ev->id].name);
        t->context_reported = true;
        return false;
    }
    ev->vtid = bt_field_integer_signed_get_value(vtid);
    ev->vpid = bt_field_integer_signed_get_value(vpid);
    snprintf(ev->procname, sizeof(ev->procname), "%s", bt_field_string_get_value(procname));
    return true;
}

static void capture_event(struct trace *t, const bt_message *msg)
{
    const bt_event *event = bt_message_event_borrow_event_const(msg);
    const char *name = bt_event_class_get_name(bt_event_borrow_class_const(event));
    struct event ev = {0};

    if (!name || strncmp(name, "xtio:", 5) != 0) {
        if (!t->unknown_reported)
            problem(&t->shape,
                    "event \"%s\" is not of the xtio provider, yet only xtio:* was "
                    "enabled",
                    name ? name : "(unnamed)");
        t->unknown_reported = true;
        return;
    }
    if (!xtio_schema_event_find(name, &ev.id)) {
        problem(&t->shape, "event \"%s\" is not in schema version %d", name, XTIO_SCHEMA_VERSION);
        return;
    }
    if (!decode_context(t, &ev, event))
        return;
    if (ev.vpid != t->pid) {
        t->foreign_events++;
        return;
    }
    /* A default clock class is the precondition for borrowing a snapshot. */
    const bt_clock_class *clock =
        bt_message_event_borrow_stream_class_default_clock_class_const(msg);
    if (!clock || bt_clock_snapshot_get_ns_from_origin(
                      bt_message_event_borrow_default_clock_snapshot_const(msg), &ev.ts_ns) !=
                      BT_CLOCK_SNAPSHOT_GET_NS_FROM_ORIGIN_STATUS_OK)
        t->untimed_events++;
    /* enqueue_ns values are CLOCK_MONOTONIC nanoseconds: they are placed among the events by
     * reading them as cycles of the event's clock, which must then be that clock at 1 GHz. */
    const char *clock_name = clock ? bt_clock_class_get_name(clock) : NULL;
    if (clock && !t->clock_reported &&
        (!clock_name || strcmp(clock_name, XTIO_SCHEMA_CLOCK_NAME) != 0 ||
         bt_clock_class_get_frequency(clock) != 1000000000)) {
        problem(&t->shape,
                "the events' clock is \"%s\" at %" PRIu64 " Hz, but enqueue_ns and "
                "each_enqueue_ns are read from the \"%s\" clock at 1 GHz: is the session's "
                "clock the default?",
                clock_name ? clock_name : "(unnamed)", bt_clock_class_get_frequency(clock),
                XTIO_SCHEMA_CLOCK_NAME);
        t->clock_reported = true;
    }
    decode_payload(t, &ev, event, clock);

    if (t->count == t->capacity) {
        size_t cap = t->capacity ? 2 * t->capacity : 1024;
        struct event *grown = realloc(t->events, cap * sizeof(*grown));
        if (!grown) {
            t->out_of_memory = true;
            return;
        }
        t->events = grown;
        t->capacity = cap;
    }
    t->events[t->count++] = ev;
}

static void capture_message(struct trace *t, const bt_message *msg)
{
    uint64_t n = 0;
    switch (bt_message_get_type(msg)) {
    case BT_MESSAGE_TYPE_EVENT:
        capture_event(t, msg);
        break;
    case BT_MESSAGE_TYPE_DISCARDED_EVENTS:
        if (bt_message_discarded_events_get_count(msg, &n) == BT_PROPERTY_AVAILABILITY_AVAILABLE)
            t->discarded_events += n;
        else
            t->discarded_events += 1; /* an unknown number, at least one */
        break;
    case BT_MESSAGE_TYPE_DISCARDED_PACKETS:
        if (bt_message_discarded_packets_get_count(msg, &n) == BT_PROPERTY_AVAILABILITY_AVAILABLE)
            t->discarded_packets += n;
        else
            t->discarded_packets += 1;
        break;
    default:
        break;
    }
}

/* ---- The in-process sink component -------------------------------------------------------- */

struct sink_state {
    struct trace *trace;       /* weak */
    bt_message_iterator *iter; /* owned */
};

static bt_component_class_initialize_method_status
sink_initialize(bt_self_component_sink *self, bt_self_component_sink_configuration *config,
                const bt_value *params, void *init_data)
{
    (void)config;
    (void)params;
    bt_self_component_set_data(bt_self_component_sink_as_self_component(self), init_data);
    if (bt_self_component_sink_add_input_port(self, "in", NULL, NULL) !=
        BT_SELF_COMPONENT_ADD_PORT_STATUS_OK)
        return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_ERROR;
    return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_OK;
}

static void sink_finalize(bt_self_component_sink *self)
{
    struct sink_state *state =
        bt_self_component_get_data(bt_self_component_sink_as_self_component(self));
    BT_MESSAGE_ITERATOR_PUT_REF_AND_RESET(state->iter);
}

static bt_component_class_sink_graph_is_configured_method_status
sink_graph_is_configured(bt_self_component_sink *self)
{
    struct sink_state *state =
        bt_self_component_get_data(bt_self_component_sink_as_self_component(self));
    bt_self_component_port_input *port =
        bt_self_component_sink_borrow_input_port_by_name(self, "in");
    if (bt_message_iterator_create_from_sink_component(self, port, &state->iter) !=
        BT_MESSAGE_ITERATOR_CREATE_FROM_SINK_COMPONENT_STATUS_OK)
        return BT_COMPONENT_CLASS_SINK_GRAPH_IS_CONFIGURED_METHOD_STATUS_ERROR;
    return BT_COMPONENT_CLASS_SINK_GRAPH_IS_CONFIGURED_METHOD_STATUS_OK;
}

static bt_component_class_sink_consume_method_status sink_consume(bt_self_component_sink *self)
{
    struct sink_state *state =
        bt_self_component_get_data(bt_self_component_sink_as_self_component(self));
    bt_message_array_const msgs;
    uint64_t count = 0;

    switch (bt_message_iterator_next(state->iter, &msgs, &count)) {
    case BT_MESSAGE_ITERATOR_NEXT_STATUS_OK:
        break;
    case BT_MESSAGE_ITERATOR_NEXT_STATUS_END:
        BT_MESSAGE_ITERATOR_PUT_REF_AND_RESET(state->iter);
        state->trace->ended = true;
        return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_END;
    case BT_MESSAGE_ITERATOR_NEXT_STATUS_AGAIN:
        return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_AGAIN;
    case BT_MESSAGE_ITERATOR_NEXT_STATUS_MEMORY_ERROR:
        return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_MEMORY_ERROR;
    default:
        return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_ERROR;
    }
    for (uint64_t i = 0; i < count; i++) {
        capture_message(state->trace, msgs[i]);
        bt_message_put_ref(msgs[i]);
    }
    return state->trace->out_of_memory ? BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_MEMORY_ERROR
                                       : BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_OK;
}

/* ---- Building and running the graph ---------------------------------------------------------- */

static void print_bt_error(const char *what)
{
    fprintf(stderr, "check_trace: %s\n", what);
    const bt_error *error = bt_current_thread_take_error();
    if (!error)
        return;
    for (uint64_t i = 0; i < bt_error_get_cause_count(error); i++) {
        const bt_error_cause *cause = bt_error_borrow_cause_by_index(error, i);
        fprintf(stderr, "  caused by %s: %s\n", bt_error_cause_get_module_name(cause),
                bt_error_cause_get_message(cause));
    }
    bt_error_release(error);
}

struct trace_dirs {
    char *paths[16];
    size_t count;
    bool too_many;
};

static struct trace_dirs *found_dirs; /* nftw() takes no user data */

static int note_trace_dir(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    if (type != FTW_F || strcmp(path + ftw->base, "metadata") != 0)
        return 0;
    if (found_dirs->count == sizeof(found_dirs->paths) / sizeof(found_dirs->paths[0])) {
        found_dirs->too_many = true;
        return 1;
    }
    char *dir = strndup(path, (size_t)ftw->base ? (size_t)ftw->base - 1 : 0);
    if (!dir)
        return -1;
    found_dirs->paths[found_dirs->count++] = dir;
    return 0;
}

static int find_trace_dirs(const char *root, struct trace_dirs *dirs)
{
    found_dirs = dirs;
    int rc = nftw(root, note_trace_dir, 16, FTW_PHYS);
    found_dirs = NULL;
    if (rc < 0) {
        fprintf(stderr, "check_trace: cannot walk %s: %s\n", root, strerror(errno));
        return -1;
    }
    if (dirs->too_many) {
        fprintf(stderr,
                "check_trace: more than %zu CTF traces under %s: point at one session's "
                "output\n",
                sizeof(dirs->paths) / sizeof(dirs->paths[0]), root);
        return -1;
    }
    if (dirs->count == 0) {
        fprintf(stderr,
                "check_trace: no CTF trace (directory with a `metadata` file) under %s: "
                "did the session record anything, and was it stopped before reading?\n",
                root);
        return -1;
    }
    return 0;
}

/* Connects every output port of the source to a free input port of the muxer, which adds a new
 * one after each connection. */
static int connect_source_to_muxer(bt_graph *graph, const bt_component_source *src,
                                   const bt_component_filter *mux)
{
    for (uint64_t i = 0; i < bt_component_source_get_output_port_count(src); i++) {
        const bt_port_output *out = bt_component_source_borrow_output_port_by_index_const(src, i);
        const bt_port_input *in = NULL;
        for (uint64_t j = 0; j < bt_component_filter_get_input_port_count(mux); j++) {
            const bt_port_input *candidate =
                bt_component_filter_borrow_input_port_by_index_const(mux, j);
            if (!bt_port_is_connected(bt_port_input_as_port_const(candidate))) {
                in = candidate;
                break;
            }
        }
        if (!in || bt_graph_connect_ports(graph, out, in, NULL) != BT_GRAPH_CONNECT_PORTS_STATUS_OK)
            return -1;
    }
    return 0;
}

static int read_trace(struct trace *t)
{
    struct trace_dirs dirs = {0};
    const bt_plugin *ctf = NULL, *utils = NULL;
    bt_component_class_sink *sink_class = NULL;
    bt_graph *graph = NULL;
    bt_value *params = NULL;
    struct sink_state state = {.trace = t};
    int rc = -1;

    if (find_trace_dirs(t->root, &dirs))
        goto end;
    if (bt_plugin_find("ctf", BT_TRUE, BT_TRUE, BT_TRUE, BT_TRUE, BT_TRUE, &ctf) !=
            BT_PLUGIN_FIND_STATUS_OK ||
        bt_plugin_find("utils", BT_TRUE, BT_TRUE, BT_TRUE, BT_TRUE, BT_TRUE, &utils) !=
            BT_PLUGIN_FIND_STATUS_OK) {
        print_bt_error("cannot find the babeltrace2 `ctf` and `utils` plugins: is the "
                       "babeltrace2 package (not only libbabeltrace2) installed?");
        goto end;
    }
    const bt_component_class_source *fs_class =
        bt_plugin_borrow_source_component_class_by_name_const(ctf, "fs");
    const bt_component_class_filter *muxer_class =
        bt_plugin_borrow_filter_component_class_by_name_const(utils, "muxer");
    if (!fs_class || !muxer_class) {
        fprintf(stderr, "check_trace: the babeltrace2 plugins lack source.ctf.fs or "
                        "filter.utils.muxer\n");
        goto end;
    }

    sink_class = bt_component_class_sink_create("xtio-check", sink_consume);
    if (!sink_class ||
        bt_component_class_sink_set_initialize_method(sink_class, sink_initialize) !=
            BT_COMPONENT_CLASS_SET_METHOD_STATUS_OK ||
        bt_component_class_sink_set_finalize_method(sink_class, sink_finalize) !=
            BT_COMPONENT_CLASS_SET_METHOD_STATUS_OK ||
        bt_component_class_sink_set_graph_is_configured_method(
            sink_class, sink_graph_is_configured) != BT_COMPONENT_CLASS_SET_METHOD_STATUS_OK) {
        print_bt_error("cannot create the checking sink component class");
        goto end;
    }

    bt_value *inputs = NULL;
    params = bt_value_map_create();
    if (!params || bt_value_map_insert_empty_array_entry(params, "inputs", &inputs) !=
                       BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK) {
        print_bt_error("out of memory building the source parameters");
        goto end;
    }
    for (size_t i = 0; i < dirs.count; i++) {
        if (bt_value_array_append_string_element(inputs, dirs.paths[i]) !=
            BT_VALUE_ARRAY_APPEND_ELEMENT_STATUS_OK) {
            print_bt_error("out of memory building the source parameters");
            goto end;
        }
    }

    const bt_component_source *src = NULL;
    const bt_component_filter *mux = NULL;
    const bt_component_sink *sink = NULL;
    graph = bt_graph_create(0);
    if (!graph ||
        bt_graph_add_source_component(graph, fs_class, "source", params, BT_LOGGING_LEVEL_WARNING,
                                      &src) != BT_GRAPH_ADD_COMPONENT_STATUS_OK) {
        char what[512];
        snprintf(what, sizeof(what), "source.ctf.fs cannot read the CTF trace(s) under %s",
                 t->root);
        print_bt_error(what);
        goto end;
    }
    if (bt_graph_add_filter_component(graph, muxer_class, "muxer", NULL, BT_LOGGING_LEVEL_WARNING,
                                      &mux) != BT_GRAPH_ADD_COMPONENT_STATUS_OK ||
        bt_graph_add_sink_component_with_initialize_method_data(
            graph, sink_class, "check", NULL, &state, BT_LOGGING_LEVEL_WARNING, &sink) !=
            BT_GRAPH_ADD_COMPONENT_STATUS_OK ||
        connect_source_to_muxer(graph, src, mux) ||
        bt_graph_connect_ports(graph,
                               bt_component_filter_borrow_output_port_by_name_const(mux, "out"),
                               bt_component_sink_borrow_input_port_by_name_const(sink, "in"),
                               NULL) != BT_GRAPH_CONNECT_PORTS_STATUS_OK) {
        print_bt_error("cannot build the source.ctf.fs -> filter.utils.muxer -> sink graph");
        goto end;
    }

    /* A finished ctf.fs trace never answers AGAIN for long; the bound only guards a hang. */
    struct timespec pause = {.tv_nsec = 10 * 1000 * 1000};
    for (int again = 0;; again++) {
        bt_graph_run_status status = bt_graph_run(graph);
        if (status == BT_GRAPH_RUN_STATUS_OK)
            break;
        if (status != BT_GRAPH_RUN_STATUS_AGAIN || again == 3000) {
            print_bt_error("reading the trace failed");
            goto end;
        }
        nanosleep(&pause, NULL);
    }
    if (!t->ended) {
        fprintf(stderr, "check_trace: the graph finished without the trace ending\n");
        goto end;
    }
    rc = 0;
end:
    bt_graph_put_ref(graph);
    bt_value_put_ref(params);
    bt_component_class_sink_put_ref(sink_class);
    bt_plugin_put_ref(ctf);
    bt_plugin_put_ref(utils);
    for (size_t i = 0; i < dirs.count; i++)
        free(dirs.paths[i]);
    return rc;
}

/* ---- Helpers for the tests ------------------------------------------------------------------- */

/* The value of `field` of an event; fails the test if the schema has no such field. */
static uint64_t val(const struct event *ev, const char *field)
{
    int i = find_field(ev->id, field);
    if (i < 0)
        fail_msg("checker bug: xtio:%s has no field %s in the schema",
                 xtio_schema_events[ev->id].name, field);
    return ev->value[i];
}

static int64_t sval(const struct event *ev, const char *field)
{
    return (int64_t)val(ev, field);
}

static size_t count_of(const struct trace *t, enum xtio_event_kind id)
{
    size_t n = 0;
    for (size_t i = 0; i < t->count; i++)
        n += t->events[i].id == id;
    return n;
}

static int mode_of(const struct event *ev)
{
    uint64_t m = val(ev, "mode");
    return m < XTIO_SCHEMA_MODE_COUNT ? (int)m : -1;
}

static const struct event *loop_start_event(const struct trace *t)
{
    for (size_t i = 0; i < t->count; i++) {
        if (t->events[i].id == XTIO_EVENT_LOOP_START)
            return &t->events[i];
    }
    fail_msg("no xtio:loop_start from the program (pid %" PRId64 ")", t->pid);
    return NULL;
}

/* ---- Tests ----------------------------------------------------------------------------------- */

static void test_trace_is_complete(void **state)
{
    struct trace *t = *state;
    if (t->count == 0)
        fail_msg("no xtio event of the program (pid %" PRId64 ") in the trace under %s (%" PRIu64
                 " of other processes): did it register with the session daemon in time, and do "
                 "the events carry the vpid context (see test_schema_shape)?",
                 t->pid, t->root, t->foreign_events);
    if (t->discarded_events || t->discarded_packets)
        fail_msg("the tracer discarded %" PRIu64 " event(s) and %" PRIu64 " packet(s): counts "
                 "cannot be checked; give the channel bigger sub-buffers",
                 t->discarded_events, t->discarded_packets);
    if (t->untimed_events)
        fail_msg("%" PRIu64 " event(s) have no usable default clock snapshot: event order "
                 "cannot be checked",
                 t->untimed_events);
}

static void test_schema_shape(void **state)
{
    struct trace *t = *state;
    replay_problems(&t->shape);
    fail_on_problems(&t->shape, "the trace does not match the xtio schema (xtio_schema.h)");
}

static void test_every_event_present(void **state)
{
    struct trace *t = *state;
    struct problems p = {0};
    /* Only recorded events had their shape checked: carried enqueues do not count. */
    bool recorded[XTIO_EVENT_KIND_COUNT] = {false};
    for (size_t i = 0; i < t->count; i++)
        recorded[t->events[i].id] |= !t->events[i].carried;
    for (int id = 0; id < XTIO_EVENT_KIND_COUNT; id++) {
        /* Runs were expanded into writes: test_runs counts them. Only xtio-preload emits
         * io_write: tests/preload checks it. */
        if (id != XTIO_EVENT_HANDOFF_RUN && id != XTIO_EVENT_IO_WRITE && !recorded[id])
            problem(&p, "no xtio:%s event", xtio_schema_events[id].name);
    }
    fail_on_problems(&p, "some events of the schema never appeared");
}

static void test_schema_version(void **state)
{
    struct trace *t = *state;
    struct problems p = {0};
    for (size_t i = 0; i < t->count; i++) {
        const struct event *ev = &t->events[i];
        if ((ev->id == XTIO_EVENT_LOOP_START || ev->id == XTIO_EVENT_CONN_OPEN) &&
            val(ev, "schema_version") != XTIO_SCHEMA_VERSION)
            problem(&p, "xtio:%s has schema_version %" PRIu64 ", expected %d",
                    xtio_schema_events[ev->id].name, val(ev, "schema_version"),
                    XTIO_SCHEMA_VERSION);
    }
    fail_on_problems(&p, "wrong schema_version");
}

static void test_enum_labels(void **state)
{
    struct trace *t = *state;
    struct problems p = {0};
    bool written_in[XTIO_SCHEMA_MODE_COUNT] = {false};

    for (size_t i = 0; i < t->count; i++) {
        const struct event *ev = &t->events[i];
        const char *const *labels;
        uint64_t nlabels, v;
        if (ev->id == XTIO_EVENT_HANDOFF_ENQUEUE || ev->id == XTIO_EVENT_HANDOFF_WRITE ||
            ev->id == XTIO_EVENT_HANDOFF_DROP) {
            labels = xtio_schema_mode_labels;
            nlabels = XTIO_SCHEMA_MODE_COUNT;
            v = val(ev, "mode");
        } else if (ev->id == XTIO_EVENT_CONN_CLOSE) {
            labels = xtio_schema_close_reason_labels;
            nlabels = XTIO_SCHEMA_CLOSE_REASON_COUNT;
            v = val(ev, "reason");
        } else {
            continue;
        }
        if (v >= nlabels || strcmp(ev->label, labels[v]) != 0)
            problem(&p,
                    "xtio:%s has enumeration value %" PRId64 " labelled \"%s\", expected \"%s\"",
                    xtio_schema_events[ev->id].name, (int64_t)v, ev->label,
                    v < nlabels ? labels[v] : "?");
        else if (ev->id == XTIO_EVENT_HANDOFF_WRITE)
            written_in[v] = true;
    }
    for (int m = 0; m < XTIO_SCHEMA_MODE_COUNT; m++) {
        if (!written_in[m])
            problem(&p, "no xtio:handoff_write with mode \"%s\"", xtio_schema_mode_labels[m]);
    }
    fail_on_problems(&p, "enumeration labels");
}

static void test_contexts_name_the_threads(void **state)
{
    struct trace *t = *state;
    struct problems p = {0};
    int64_t loop_tid = (int64_t)printed_u64(t, "loop_tid");
    int64_t worker_tid = (int64_t)printed_u64(t, "worker_tid");
    const char *loop_name = printed_string(t, "loop_name");
    const char *worker_name = printed_string(t, "worker_name");
    assert_non_null(loop_name);
    assert_non_null(worker_name);

    /* A carried enqueue was not recorded by its thread: it has no context of its own, and it
     * happened before its producer named itself for it (test_producers_are_named checks that the
     * name comes before the event that carries it). */
    for (size_t i = 0; i < t->count; i++) {
        const struct event *ev = &t->events[i];
        if (ev->carried)
            continue;
        const char *want = ev->vtid == loop_tid     ? loop_name
                           : ev->vtid == worker_tid ? worker_name
                                                    : NULL;
        if (want && strcmp(ev->procname, want) != 0)
            problem(&p, "xtio:%s on tid %" PRId64 " has procname \"%s\", expected \"%s\"",
                    xtio_schema_events[ev->id].name, ev->vtid, ev->procname, want);
        if (ev->id == XTIO_EVENT_THREAD_NAME && strcmp(ev->string, ev->procname) != 0)
            problem(&p, "xtio:thread_name on tid %" PRId64 " says \"%s\", its procname \"%s\"",
                    ev->vtid, ev->string, ev->procname);
    }
    /* Each thread names itself before its first other event. */
    int64_t named[2] = {0, 0};
    for (size_t i = 0; i < t->count; i++) {
        const struct event *ev = &t->events[i];
        int which = ev->vtid == loop_tid ? 0 : ev->vtid == worker_tid ? 1 : -1;
        if (which < 0 || ev->carried)
            continue;
        if (ev->id == XTIO_EVENT_THREAD_NAME)
            named[which] = 1;
        else if (!named[which])
            problem(&p, "xtio:%s on tid %" PRId64 " comes before the thread's xtio:thread_name",
                    xtio_schema_events[ev->id].name, ev->vtid);
        if (!named[which])
            named[which] = -1; /* reported once */
    }
    fail_on_problems(&p, "procname or thread_name does not name the emitting thread");
}

static void test_producers_are_named(void **state)
{
    struct trace *t = *state;
    replay_problems(&t->naming_problems);
    fail_on_problems(&t->naming_problems,
                     "producers whose enqueues are carried by other events never named themselves");
}

/* Who emits what: the loop thread owns its connections and writes for every mode but direct. */
static void test_threads_and_owner_tid(void **state)
{
    struct trace *t = *state;
    struct problems p = {0};
    int64_t loop_tid = loop_start_event(t)->vtid;
    int64_t printed_loop_tid = (int64_t)printed_u64(t, "loop_tid");
    int64_t worker_tid = (int64_t)printed_u64(t, "worker_tid");

    if (loop_tid != printed_loop_tid)
        problem(&p, "xtio:loop_start was emitted on tid %" PRId64 ", xtio_loop_tid() said %" PRId64,
                loop_tid, printed_loop_tid);
    if (val(loop_start_event(t), "loop_id") != printed_u64(t, "loop_id"))
        problem(&p, "xtio:loop_start has loop_id %" PRIu64 ", xtio_loop_id() said %" PRIu64,
                val(loop_start_event(t), "loop_id"), printed_u64(t, "loop_id"));

    for (size_t i = 0; i < t->count; i++) {
        const struct event *ev = &t->events[i];
        const char *name = xtio_schema_events[ev->id].name;
        bool has_owner = find_field(ev->id, "owner_tid") >= 0;
        int64_t owner = has_owner ? sval(ev, "owner_tid") : 0;
        int64_t want_vtid;

        switch (ev->id) {
        case XTIO_EVENT_HANDOFF_ENQUEUE:
        case XTIO_EVENT_SYNC_WAIT_END:
        case XTIO_EVENT_BACKPRESSURE:
            want_vtid = worker_tid; /* all off-loop producing is done by the worker */
            break;
        case XTIO_EVENT_HANDOFF_WRITE:
            want_vtid = mode_of(ev) == XTIO_SCHEMA_MODE_DIRECT ? worker_tid : loop_tid;
            break;
        case XTIO_EVENT_THREAD_NAME:
        case XTIO_EVENT_LOOP_POST:
            want_vtid = ev->vtid; /* any thread names itself, and posts */
            break;
        default:
            want_vtid = loop_tid;
            break;
        }
        if (ev->vtid != want_vtid)
            problem(&p,
                    "xtio:%s (seq %" PRIu64 ") was emitted on tid %" PRId64 ", expected the %s "
                    "thread %" PRId64,
                    name, find_field(ev->id, "seq") >= 0 ? val(ev, "seq") : 0, ev->vtid,
                    want_vtid == loop_tid ? "loop" : "worker", want_vtid);
        if (has_owner && owner != loop_tid)
            problem(&p,
                    "xtio:%s has owner_tid %" PRId64 ", but the owning loop runs on tid %" PRId64,
                    name, owner, loop_tid);
        if (ev->id == XTIO_EVENT_HANDOFF_WRITE && mode_of(ev) == XTIO_SCHEMA_MODE_DIRECT &&
            ev->vtid == owner)
            problem(&p,
                    "a direct xtio:handoff_write (seq %" PRIu64 ") has vtid == owner_tid %" PRId64
                    ": it should show the foreign writer",
                    val(ev, "seq"), owner);
        if (ev->id == XTIO_EVENT_HANDOFF_WRITE && mode_of(ev) != XTIO_SCHEMA_MODE_DIRECT &&
            ev->vtid != owner)
            problem(&p,
                    "a %s xtio:handoff_write (seq %" PRIu64 ") has vtid %" PRId64
                    " != owner_tid %" PRId64,
                    ev->label, val(ev, "seq"), ev->vtid, owner);
        if ((ev->id == XTIO_EVENT_CONN_OPEN || ev->id == XTIO_EVENT_CONN_CLOSE) &&
            ev->vtid != owner)
            problem(&p, "xtio:%s has owner_tid %" PRId64 " but was emitted on tid %" PRId64, name,
                    owner, ev->vtid);
    }
    fail_on_problems(&p, "events on the wrong thread or with the wrong owner_tid");
}

struct handoff_ref {
    uint64_t id;
    size_t index;
};

static int compare_handoff_ref(const void *a, const void *b)
{
    const struct handoff_ref *x = a, *y = b;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* One handoff_id: its enqueue (if any) and what became of it. */
static void check_handoff(const struct trace *t, struct problems *p, const struct handoff_ref *refs,
                          size_t n)
{
    const struct event *enq = NULL, *out = NULL;
    size_t outcomes = 0, enqueues = 0;
    for (size_t i = 0; i < n; i++) {
        const struct event *ev = &t->events[refs[i].index];
        if (ev->id == XTIO_EVENT_HANDOFF_ENQUEUE) {
            enqueues++;
            enq = ev;
        } else {
            outcomes++;
            out = ev;
        }
    }
    uint64_t id = refs[0].id;
    if (enqueues > 1 || outcomes > 1) {
        problem(p,
                "handoff %" PRIu64 " has %zu enqueue(s) and %zu write/drop events, expected "
                "at most one of each",
                id, enqueues, outcomes);
        return;
    }
    if (!out) {
        problem(p,
                "handoff %" PRIu64 " (%s, seq %" PRIu64 ") was enqueued but never written "
                "nor dropped",
                id, enq->label, val(enq, "seq"));
        return;
    }
    bool inline_write =
        out->id == XTIO_EVENT_HANDOFF_WRITE && mode_of(out) == XTIO_SCHEMA_MODE_INLINE;
    if (!enq) {
        if (!inline_write)
            problem(p, "xtio:%s of handoff %" PRIu64 " has no xtio:handoff_enqueue",
                    xtio_schema_events[out->id].name, id);
        return;
    }
    if (inline_write) {
        problem(p, "inline handoff %" PRIu64 " was enqueued: inline writes have no handoff", id);
        return;
    }
    if (out->ts_ns < enq->ts_ns || out < enq)
        problem(p,
                "handoff %" PRIu64 ": xtio:%s comes before its xtio:handoff_enqueue (%" PRId64
                " ns earlier)",
                id, xtio_schema_events[out->id].name, enq->ts_ns - out->ts_ns);
    if (val(out, "conn_id") != val(enq, "conn_id") || val(out, "seq") != val(enq, "seq") ||
        val(out, "bytes") != val(enq, "bytes"))
        problem(p,
                "handoff %" PRIu64 ": enqueued as conn %" PRIu64 " seq %" PRIu64 " %" PRIu64
                " bytes, but xtio:%s says conn %" PRIu64 " seq %" PRIu64 " %" PRIu64 " bytes",
                id, val(enq, "conn_id"), val(enq, "seq"), val(enq, "bytes"),
                xtio_schema_events[out->id].name, val(out, "conn_id"), val(out, "seq"),
                val(out, "bytes"));
    if (out->id == XTIO_EVENT_HANDOFF_WRITE && mode_of(out) != mode_of(enq))
        problem(p, "handoff %" PRIu64 " was enqueued as %s but written as %s", id, enq->label,
                out->label);
}

static void test_each_enqueue_has_one_outcome(void **state)
{
    struct trace *t = *state;
    struct problems p = {0};
    struct handoff_ref *refs = calloc(t->count ? t->count : 1, sizeof(*refs));
    assert_non_null(refs);
    size_t n = 0;
    for (size_t i = 0; i < t->count; i++) {
        enum xtio_event_kind id = t->events[i].id;
        if (id == XTIO_EVENT_HANDOFF_ENQUEUE || id == XTIO_EVENT_HANDOFF_WRITE ||
            id == XTIO_EVENT_HANDOFF_DROP)
            refs[n++] = (struct handoff_ref){val(&t->events[i], "handoff_id"), i};
    }
    qsort(refs, n, sizeof(*refs), compare_handoff_ref);
    for (size_t start = 0, end; start < n; start = end) {
        for (end = start + 1; end < n && refs[end].id == refs[start].id; end++) {
        }
        check_handoff(t, &p, refs + start, end - start);
    }
    free(refs);
    fail_on_problems(&p, "handoff_enqueue is not followed by exactly one matching write or drop");
}

static void test_batch_enqueues(void **state)
{
    struct trace *t = *state;
    struct problems p = {0};
    uint64_t records = 0;
    for (size_t i = 0; i < t->count; i++) {
        const struct event *ev = &t->events[i];
        if (ev->id != XTIO_EVENT_HANDOFF_ENQUEUE)
            continue;
        if (mode_of(ev) == XTIO_SCHEMA_MODE_BATCH) {
            records += val(ev, "records");
            if (val(ev, "records") < 2 || val(ev, "spool_ns") == 0)
                problem(&p,
                        "batch handoff %" PRIu64 " has records=%" PRIu64 " spool_ns=%" PRIu64
                        ", expected several records spooled for some time",
                        val(ev, "handoff_id"), val(ev, "records"), val(ev, "spool_ns"));
        }
    }
    if (records != printed_u64(t, "batch_records"))
        problem(&p, "batch handoffs carry %" PRIu64 " records in all, the program spooled %" PRIu64,
                records, printed_u64(t, "batch_records"));
    fail_on_problems(&p, "batch handoffs");
}

/* Per connection, writes come in seq order and each starts where the previous one ended. */
static void test_write_seq_and_offset_per_conn(void **state)
{
    struct trace *t = *state;
    struct problems p = {0};
    /* The program opens two connections; a short table is enough. */
    struct {
        uint64_t conn, last_seq, next_offset;
        bool any;
    } conns[16] = {{0}};
    size_t nconns = 0;

    for (size_t i = 0; i < t->count; i++) {
        const struct event *ev = &t->events[i];
        if (ev->id != XTIO_EVENT_HANDOFF_WRITE)
            continue;
        uint64_t conn = val(ev, "conn_id"), seq = val(ev, "seq");
        size_t c = 0;
        while (c < nconns && conns[c].conn != conn)
            c++;
        if (c == nconns) {
            assert_true(nconns < sizeof(conns) / sizeof(conns[0]));
            conns[nconns++].conn = conn;
        }
        if (conns[c].any && seq <= conns[c].last_seq)
            problem(&p,
                    "conn %" PRIu64 ": xtio:handoff_write seq %" PRIu64
                    " (%s) follows seq %" PRIu64,
                    conn, seq, ev->label, conns[c].last_seq);
        if (val(ev, "offset") != conns[c].next_offset)
            problem(&p,
                    "conn %" PRIu64 ": xtio:handoff_write seq %" PRIu64 " has offset %" PRIu64
                    ", but the writes before it add up to %" PRIu64 " bytes",
                    conn, seq, val(ev, "offset"), conns[c].next_offset);
        conns[c].any = true;
        conns[c].last_seq = seq;
        conns[c].next_offset = val(ev, "offset") + val(ev, "bytes");
    }
    fail_on_problems(&p, "handoff_write seq or offset out of step per connection");
}

static void test_connections(void **state)
{
    struct trace *t = *state;
    struct problems p = {0};
    uint64_t conn_a = printed_u64(t, "conn_a"), conn_b = printed_u64(t, "conn_b");
    uint64_t bytes_a = printed_u64(t, "bytes_a");
    uint64_t written_a = 0, flushed_a = 0, drop_bytes = 0, drops = 0;
    uint64_t loop_id = printed_u64(t, "loop_id");
    bool closed_a = false, closed_b = false;

    for (size_t i = 0; i < t->count; i++) {
        const struct event *ev = &t->events[i];
        switch (ev->id) {
        case XTIO_EVENT_CONN_OPEN:
            if (val(ev, "loop_id") != loop_id)
                problem(&p,
                        "xtio:conn_open of conn %" PRIu64 " has loop_id %" PRIu64
                        ", expected %" PRIu64,
                        val(ev, "conn_id"), val(ev, "loop_id"), loop_id);
            if (sval(ev, "fd") < 0)
                problem(&p, "xtio:conn_open of conn %" PRIu64 " has fd %" PRId64,
                        val(ev, "conn_id"), sval(ev, "fd"));
            break;
        case XTIO_EVENT_HANDOFF_WRITE:
            if (val(ev, "conn_id") == conn_a)
                written_a += val(ev, "bytes");
            break;
        case XTIO_EVENT_HANDOFF_DROP:
            drops++;
            drop_bytes += val(ev, "bytes");
            if (val(ev, "conn_id") != conn_b)
                problem(&p,
                        "handoff %" PRIu64 " was dropped on conn %" PRIu64 ", only conn B (%" PRIu64
                        ") drops",
                        val(ev, "handoff_id"), val(ev, "conn_id"), conn_b);
            break;
        case XTIO_EVENT_CONN_FLUSH:
            if (val(ev, "conn_id") != conn_a)
                break;
            if (val(ev, "bytes_flushed_total") < flushed_a)
                problem(&p, "conn A: bytes_flushed_total went back from %" PRIu64 " to %" PRIu64,
                        flushed_a, val(ev, "bytes_flushed_total"));
            flushed_a = val(ev, "bytes_flushed_total");
            break;
        case XTIO_EVENT_CONN_CLOSE: {
            uint64_t conn = val(ev, "conn_id");
            bool is_a = conn == conn_a;
            const char *reason = is_a ? "loop_stop" : "local";
            uint64_t pending = is_a ? 0 : printed_u64(t, "handoff_drop");
            uint64_t pending_bytes = is_a ? 0 : printed_u64(t, "drop_bytes");
            if (is_a)
                closed_a = true;
            else if (conn == conn_b)
                closed_b = true;
            else {
                problem(&p, "xtio:conn_close of unknown conn %" PRIu64, conn);
                break;
            }
            if (val(ev, "pending") != pending || val(ev, "pending_bytes") != pending_bytes ||
                strcmp(ev->label, reason) != 0)
                problem(&p,
                        "xtio:conn_close of conn %c: pending=%" PRIu64 " pending_bytes=%" PRIu64
                        " reason=%s, expected %" PRIu64 ", %" PRIu64 ", %s",
                        is_a ? 'A' : 'B', val(ev, "pending"), val(ev, "pending_bytes"), ev->label,
                        pending, pending_bytes, reason);
            break;
        }
        default:
            break;
        }
    }
    if (!closed_a || !closed_b)
        problem(&p, "conn %s never closed in the trace", closed_a ? "B" : "A");
    if (written_a != bytes_a)
        problem(&p,
                "xtio:handoff_write on conn A add up to %" PRIu64
                " bytes, the program sent %" PRIu64,
                written_a, bytes_a);
    if (flushed_a != bytes_a)
        problem(&p,
                "the last xtio:conn_flush on conn A says %" PRIu64 " bytes reached the kernel, "
                "the client received %" PRIu64,
                flushed_a, bytes_a);
    if (drops != printed_u64(t, "handoff_drop") || drop_bytes != printed_u64(t, "drop_bytes"))
        problem(&p,
                "%" PRIu64 " handoffs of %" PRIu64 " bytes dropped, expected %" PRIu64
                " of %" PRIu64,
                drops, drop_bytes, printed_u64(t, "handoff_drop"), printed_u64(t, "drop_bytes"));
    fail_on_problems(&p, "connection life cycle, flushes and drops");
}

/* conn_close's next_seq: the connection gave seqs 0 .. next_seq - 1, and each of them was written
 * or dropped before the close, once. Only a connection opened in the trace has all its seqs in
 * it. */
static void test_conn_close_next_seq(void **state)
{
    struct trace *t = *state;
    struct problems p = {0};
    for (size_t i = 0; i < t->count; i++) {
        const struct event *close = &t->events[i];
        if (close->id != XTIO_EVENT_CONN_CLOSE)
            continue;
        uint64_t conn = val(close, "conn_id"), next_seq = val(close, "next_seq");
        bool opened = false;
        for (size_t j = 0; j < i && !opened; j++)
            opened =
                t->events[j].id == XTIO_EVENT_CONN_OPEN && val(&t->events[j], "conn_id") == conn;
        if (!opened)
            continue;
        /* Each seq is one write or drop, so more seqs than events cannot all be in the trace. */
        if (next_seq > t->count) {
            problem(&p,
                    "xtio:conn_close of conn %" PRIu64 " has next_seq %" PRIu64 ", but the trace "
                    "holds only %zu events",
                    conn, next_seq, t->count);
            continue;
        }
        bool *done = calloc(next_seq ? next_seq : 1, sizeof(*done));
        assert_non_null(done);
        uint64_t covered = 0;
        for (size_t j = 0; j < i; j++) {
            const struct event *ev = &t->events[j];
            if ((ev->id != XTIO_EVENT_HANDOFF_WRITE && ev->id != XTIO_EVENT_HANDOFF_DROP) ||
                val(ev, "conn_id") != conn)
                continue;
            uint64_t seq = val(ev, "seq");
            if (seq >= next_seq) {
                problem(&p,
                        "conn %" PRIu64 ": xtio:%s of seq %" PRIu64 " before a xtio:conn_close "
                        "with next_seq %" PRIu64 ", which says no such seq was given",
                        conn, xtio_schema_events[ev->id].name, seq, next_seq);
            } else if (done[seq]) {
                problem(&p, "conn %" PRIu64 ": seq %" PRIu64 " was written or dropped twice", conn,
                        seq);
            } else {
                done[seq] = true;
                covered++;
            }
        }
        if (covered != next_seq) {
            uint64_t missing = 0;
            while (missing < next_seq && done[missing])
                missing++;
            problem(&p,
                    "xtio:conn_close of conn %" PRIu64 " has next_seq %" PRIu64 ", but %" PRIu64
                    " seqs were written or dropped before it (the first one missing: %" PRIu64 ")",
                    conn, next_seq, covered, missing);
        }
        free(done);
    }
    fail_on_problems(&p, "conn_close's next_seq does not match the seqs written or dropped");
}

static const struct event *find_handoff_event(const struct trace *t, enum xtio_event_kind id,
                                              uint64_t handoff_id)
{
    for (size_t i = 0; i < t->count; i++) {
        if (t->events[i].id == id && val(&t->events[i], "handoff_id") == handoff_id)
            return &t->events[i];
    }
    return NULL;
}

/* Each sync handoff ends its producer's wait once, after it was written, naming that handoff. */
static void test_sync_wait_end(void **state)
{
    struct trace *t = *state;
    struct problems p = {0};
    for (size_t i = 0; i < t->count; i++) {
        const struct event *ev = &t->events[i];
        if (ev->id == XTIO_EVENT_HANDOFF_ENQUEUE && mode_of(ev) == XTIO_SCHEMA_MODE_SYNC) {
            size_t ends = 0;
            for (size_t j = 0; j < t->count; j++)
                ends += t->events[j].id == XTIO_EVENT_SYNC_WAIT_END &&
                        val(&t->events[j], "handoff_id") == val(ev, "handoff_id");
            if (ends != 1)
                problem(&p,
                        "sync handoff %" PRIu64 " (seq %" PRIu64 ") has %zu xtio:sync_wait_end "
                        "events, expected 1",
                        val(ev, "handoff_id"), val(ev, "seq"), ends);
        }
        if (ev->id != XTIO_EVENT_SYNC_WAIT_END)
            continue;
        uint64_t id = val(ev, "handoff_id");
        const struct event *enq = find_handoff_event(t, XTIO_EVENT_HANDOFF_ENQUEUE, id);
        const struct event *write = find_handoff_event(t, XTIO_EVENT_HANDOFF_WRITE, id);
        if (!enq || mode_of(enq) != XTIO_SCHEMA_MODE_SYNC) {
            problem(&p,
                    "xtio:sync_wait_end names handoff %" PRIu64 ", which is not a sync "
                    "handoff_enqueue of this trace",
                    id);
            continue;
        }
        if (val(ev, "conn_id") != val(enq, "conn_id") || ev->vtid != enq->vtid)
            problem(&p,
                    "xtio:sync_wait_end of handoff %" PRIu64 " is for conn %" PRIu64
                    " on tid %" PRId64 ", but it was enqueued for conn %" PRIu64 " on tid %" PRId64,
                    id, val(ev, "conn_id"), ev->vtid, val(enq, "conn_id"), enq->vtid);
        if (val(ev, "written") != 1)
            problem(&p,
                    "xtio:sync_wait_end of handoff %" PRIu64 " has written=%" PRIu64
                    ", but every sync send succeeded",
                    id, val(ev, "written"));
        else if (!write || write->ts_ns > ev->ts_ns)
            problem(&p,
                    "xtio:sync_wait_end of handoff %" PRIu64 " says written=1 before any "
                    "xtio:handoff_write of it",
                    id);
    }
    fail_on_problems(&p, "sync_wait_end does not match the sync handoffs");
}

static void test_backpressure(void **state)
{
    struct trace *t = *state;
    struct problems p = {0};
    uint64_t conn_a = printed_u64(t, "conn_a");
    for (size_t i = 0; i < t->count; i++) {
        const struct event *ev = &t->events[i];
        if (ev->id == XTIO_EVENT_BACKPRESSURE &&
            (val(ev, "conn_id") != conn_a || val(ev, "waited_ns") == 0))
            problem(&p,
                    "xtio:backpressure on conn %" PRIu64 " waited_ns=%" PRIu64
                    ", expected conn A (%" PRIu64 ") and a wait",
                    val(ev, "conn_id"), val(ev, "waited_ns"), conn_a);
    }
    fail_on_problems(&p, "backpressure fields");
}

static void test_counts_match_program(void **state)
{
    struct trace *t = *state;
    struct problems p = {0};
    static const enum xtio_event_kind counted[] = {
        XTIO_EVENT_LOOP_START,  XTIO_EVENT_LOOP_STOP,     XTIO_EVENT_CONN_OPEN,
        XTIO_EVENT_CONN_CLOSE,  XTIO_EVENT_SYNC_WAIT_END, XTIO_EVENT_HANDOFF_DROP,
        XTIO_EVENT_BACKPRESSURE};
    for (size_t i = 0; i < sizeof(counted) / sizeof(counted[0]); i++) {
        uint64_t want = printed_u64(t, xtio_schema_events[counted[i]].name);
        uint64_t got = count_of(t, counted[i]);
        if (got != want)
            problem(&p, "%" PRIu64 " xtio:%s events, the program expects %" PRIu64, got,
                    xtio_schema_events[counted[i]].name, want);
    }
    for (int m = 0; m < XTIO_SCHEMA_MODE_COUNT; m++) {
        uint64_t writes = 0, enqueues = 0;
        for (size_t i = 0; i < t->count; i++) {
            const struct event *ev = &t->events[i];
            if (ev->id == XTIO_EVENT_HANDOFF_WRITE && mode_of(ev) == m)
                writes++;
            else if (ev->id == XTIO_EVENT_HANDOFF_ENQUEUE && mode_of(ev) == m)
                enqueues++;
        }
        char key[64];
        snprintf(key, sizeof(key), "handoff_write.%s", xtio_schema_mode_labels[m]);
        if (writes != printed_u64(t, key))
            problem(&p, "%" PRIu64 " %s xtio:handoff_write events, the program expects %" PRIu64,
                    writes, xtio_schema_mode_labels[m], printed_u64(t, key));
        snprintf(key, sizeof(key), "handoff_enqueue.%s", xtio_schema_mode_labels[m]);
        if (enqueues != printed_u64(t, key))
            problem(&p, "%" PRIu64 " %s xtio:handoff_enqueue events, the program expects %" PRIu64,
                    enqueues, xtio_schema_mode_labels[m], printed_u64(t, key));
    }
    fail_on_problems(&p, "event counts differ from what handoff_program did");
}

/* ---- Runs ------------------------------------------------------------------------------------ */

static void set_val(struct event *ev, const char *field, uint64_t value)
{
    int i = find_field(ev->id, field);
    if (i >= 0)
        ev->value[i] = value;
}

/* Element k of a handoff_run's sequence `field`. */
static uint64_t each(const struct elements *e, const char *field, uint64_t k)
{
    int i = find_field(XTIO_EVENT_HANDOFF_RUN, field);
    if (i < 0)
        fail_msg("checker bug: xtio:handoff_run has no field %s in the schema", field);
    return e->value[i][k];
}

/* The threads that named themselves (xtio:thread_name) so far, in trace order. */
struct thread_names {
    int64_t tid[64];
    char name[64][32];
    size_t count;
    bool full;
    /* Producers reported unnamed, so that each is reported once rather than per handoff. */
    int64_t unnamed[16];
    size_t nunnamed;
};

static void note_thread_name(struct thread_names *names, const struct event *ev)
{
    size_t i = 0;
    while (i < names->count && names->tid[i] != ev->vtid)
        i++;
    if (i == sizeof(names->tid) / sizeof(names->tid[0])) {
        names->full = true; /* reported by check_producer_named(), rather than a false name */
        return;
    }
    names->tid[i] = ev->vtid;
    snprintf(names->name[i], sizeof(names->name[i]), "%s", ev->string);
    if (i == names->count)
        names->count++;
}

static const char *thread_name_of(const struct thread_names *names, int64_t tid)
{
    for (size_t i = 0; i < names->count; i++) {
        if (names->tid[i] == tid)
            return names->name[i];
    }
    return NULL;
}

/* A carried enqueue has no context of its own: the producer's thread_name, recorded before the
 * event that carries it (XTIO_TRACE_COUNT_THREAD_EVENT), is what names its thread. */
static void check_producer_named(struct trace *t, struct thread_names *names,
                                 const struct event *carrier, int64_t producer, uint64_t handoff_id)
{
    if (thread_name_of(names, producer))
        return;
    for (size_t i = 0; i < names->nunnamed; i++) {
        if (names->unnamed[i] == producer)
            return;
    }
    if (names->nunnamed < sizeof(names->unnamed) / sizeof(names->unnamed[0]))
        names->unnamed[names->nunnamed++] = producer;
    if (names->full)
        problem(&t->naming_problems,
                "more than %zu threads named themselves: the checker cannot tell whether "
                "producer tid %" PRId64 " did",
                sizeof(names->tid) / sizeof(names->tid[0]), producer);
    else
        problem(&t->naming_problems,
                "producer tid %" PRId64 " has no xtio:thread_name before the xtio:%s that carries "
                "its first enqueue (handoff %" PRIu64 ")",
                producer, xtio_schema_events[carrier->id].name, handoff_id);
}

/* The handoff_enqueue of a queued handoff as schema version 2 traced it, from the event that
 * carries it since version 3 (a handoff_run or a handoff_drop): on the producer's thread, at its
 * enqueue time. The caller fills in the payload. */
static struct event carried_enqueue(const struct event *carrier, int64_t ts, int64_t producer,
                                    const struct thread_names *names)
{
    struct event enq = {.id = XTIO_EVENT_HANDOFF_ENQUEUE,
                        .ts_ns = ts,
                        .vtid = producer,
                        .vpid = carrier->vpid,
                        .carried = true,
                        .carrier_ts = carrier->ts_ns};
    const char *name = thread_name_of(names, producer);
    snprintf(enq.procname, sizeof(enq.procname), "%s", name ? name : "");
    memcpy(enq.label, carrier->label, sizeof(enq.label));
    return enq;
}

/* The owner_tid of the connection a handoff_drop (events[at]) was on, which the drop does not
 * carry: the conn_close that close_now() traces right after the drops has it. */
static uint64_t owner_after_drop(const struct trace *t, size_t at, uint64_t conn_id)
{
    for (size_t i = at + 1; i < t->count; i++) {
        const struct event *ev = &t->events[i];
        if (ev->id == XTIO_EVENT_CONN_CLOSE && val(ev, "conn_id") == conn_id)
            return val(ev, "owner_tid");
    }
    return (uint64_t)t->events[at].vtid; /* the loop thread, which closes */
}

/* Writes into out[] the events of one handoff_run: per handoff, its handoff_enqueue from the
 * run's each_* sequences, then its handoff_write as schema version 1 traced it (the run's
 * timestamp and thread, offsets one after the other). Returns how many; at most
 * 2 * XTIO_SCHEMA_RUN_MAX. Checks what only a run can get wrong. */
static size_t expand_run(struct trace *t, const struct event *run, struct thread_names *names,
                         struct event *out)
{
    struct problems *p = &t->run_problems;
    uint64_t conn_id = val(run, "conn_id"), first = val(run, "seq");
    uint64_t count = val(run, "count"), offset = val(run, "offset"), sum = 0;
    size_t n = 0;

    t->runs++;
    if (count == 0)
        problem(p, "a handoff_run of conn %" PRIu64 " at seq %" PRIu64 " has count 0", conn_id,
                first);
    if (count > XTIO_SCHEMA_RUN_MAX)
        problem(p,
                "a handoff_run of conn %" PRIu64 " at seq %" PRIu64 " has count %" PRIu64
                ", more than XTIO_SCHEMA_RUN_MAX (%d): a longer run must be several handoff_runs",
                conn_id, first, count, XTIO_SCHEMA_RUN_MAX);
    if (!run->elements) {
        problem(p, "a handoff_run of conn %" PRIu64 " at seq %" PRIu64 " has no each_* sequences",
                conn_id, first);
        return 0;
    }
    const struct elements *e = &t->elements[run->elements - 1];

    /* The handoffs that every sequence describes. */
    uint64_t described = count < XTIO_SCHEMA_RUN_MAX ? count : XTIO_SCHEMA_RUN_MAX;
    for (int f = 0; f < XTIO_SCHEMA_MAX_FIELDS && spec_of(run->id, f)->name; f++) {
        if (!spec_of(run->id, f)->sequence)
            continue;
        if (e->length[f] != count)
            problem(p,
                    "the handoff_run of conn %" PRIu64 " at seq %" PRIu64 " has %" PRIu64
                    " elements in %s, but count %" PRIu64,
                    conn_id, first, e->length[f], spec_of(run->id, f)->name, count);
        if (e->length[f] < described)
            described = e->length[f];
    }

    for (uint64_t k = 0; k < described; k++) {
        uint64_t seq = first + k, id = each(e, "each_handoff_id", k);
        uint64_t bytes = each(e, "each_bytes", k), enqueue_ns = each(e, "each_enqueue_ns", k);
        int64_t producer = (int64_t)each(e, "each_producer_tid", k);
        int64_t enqueue_ts = e->enqueue_ts[k];
        if (enqueue_ns == 0) {
            /* Left to check_handoff() to report as a write without its enqueue, too. */
            problem(p,
                    "handoff %" PRIu64 " (conn %" PRIu64 ", seq %" PRIu64 ") has "
                    "each_enqueue_ns 0 in its handoff_run: its enqueue was not recorded, though "
                    "the session was on",
                    id, conn_id, seq);
        } else if (enqueue_ts == INT64_MAX) {
            problem(p,
                    "handoff %" PRIu64 " (conn %" PRIu64 ", seq %" PRIu64 ") has each_enqueue_ns "
                    "%" PRIu64 ", which is not a time of the trace's clock",
                    id, conn_id, seq, enqueue_ns);
        } else {
            if (enqueue_ts > run->ts_ns)
                problem(p,
                        "handoff %" PRIu64 " (conn %" PRIu64 ", seq %" PRIu64
                        ") was enqueued %" PRId64
                        " ns after the handoff_run that wrote it, says its each_enqueue_ns",
                        id, conn_id, seq, enqueue_ts - run->ts_ns);
            check_producer_named(t, names, run, producer, id);
            struct event *enq = &out[n++];
            *enq = carried_enqueue(run, enqueue_ts, producer, names);
            set_val(enq, "handoff_id", id);
            set_val(enq, "conn_id", conn_id);
            set_val(enq, "seq", seq);
            set_val(enq, "mode", val(run, "mode"));
            set_val(enq, "bytes", bytes);
            set_val(enq, "records", each(e, "each_records", k));
            set_val(enq, "queue_depth", each(e, "each_queue_depth", k));
            set_val(enq, "queued_bytes", each(e, "each_queued_bytes", k));
            set_val(enq, "owner_tid", val(run, "owner_tid"));
            set_val(enq, "spool_ns", each(e, "each_spool_ns", k));
        }

        struct event *write = &out[n++];
        *write = (struct event){.id = XTIO_EVENT_HANDOFF_WRITE,
                                .ts_ns = run->ts_ns,
                                .vtid = run->vtid,
                                .vpid = run->vpid};
        memcpy(write->procname, run->procname, sizeof(write->procname));
        memcpy(write->label, run->label, sizeof(write->label));
        set_val(write, "handoff_id", id);
        set_val(write, "conn_id", conn_id);
        set_val(write, "seq", seq);
        set_val(write, "mode", val(run, "mode"));
        set_val(write, "bytes", bytes);
        set_val(write, "owner_tid", val(run, "owner_tid"));
        set_val(write, "offset", offset + sum);
        sum += bytes;
    }
    /* Only a whole run adds up; a short sequence was reported above. */
    if (described == count && sum != val(run, "run_bytes"))
        problem(p,
                "the handoff_run of conn %" PRIu64 " at seq %" PRIu64 " has run_bytes %" PRIu64
                ", its each_bytes sum to %" PRIu64,
                conn_id, first, val(run, "run_bytes"), sum);
    return n;
}

struct timed {
    int64_t ts;
    size_t index;
};

static int compare_timed(const void *a, const void *b)
{
    const struct timed *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Sorts events by timestamp, equal ones kept in their order (the muxer's, or an enqueue before
 * its write): a carried enqueue goes where it happened, among the events recorded then. */
static int sort_by_time(struct event **events, size_t count)
{
    struct timed *keys = calloc(count ? count : 1, sizeof(*keys));
    struct event *sorted = calloc(count ? count : 1, sizeof(*sorted));
    if (!keys || !sorted) {
        free(keys);
        free(sorted);
        return -1;
    }
    for (size_t i = 0; i < count; i++)
        keys[i] = (struct timed){(*events)[i].ts_ns, i};
    qsort(keys, count, sizeof(*keys), compare_timed);
    for (size_t i = 0; i < count; i++)
        sorted[i] = (*events)[keys[i].index];
    free(keys);
    free(*events);
    *events = sorted;
    return 0;
}

/* Since schema version 3 a queued handoff has no handoff_enqueue of its own: the handoff_run
 * that writes it, or the handoff_drop that drops it, carries its enqueue. Replaces each
 * handoff_run by a handoff_write per handoff in it (expand_run()), and puts back the
 * handoff_enqueue of every handoff that a run or a drop carries, at its enqueue time, so that
 * every later test checks enqueues and writes whichever event carried them. Checks what only the
 * carrying events can get wrong (see expand_run()), and that a queued handoff's write or enqueue
 * is not an event of its own. */
static int expand_runs(struct trace *t)
{
    /* A run becomes at most XTIO_SCHEMA_RUN_MAX enqueues and writes; a drop gets its enqueue. */
    size_t total = 0;
    for (size_t i = 0; i < t->count; i++) {
        enum xtio_event_kind id = t->events[i].id;
        total += id == XTIO_EVENT_HANDOFF_RUN    ? 2 * XTIO_SCHEMA_RUN_MAX
                 : id == XTIO_EVENT_HANDOFF_DROP ? 2
                                                 : 1;
    }
    struct event *out = calloc(total ? total : 1, sizeof(*out));
    if (!out)
        return -1;
    struct thread_names names = {.count = 0};
    size_t n = 0;
    for (size_t i = 0; i < t->count; i++) {
        const struct event *ev = &t->events[i];
        switch (ev->id) {
        case XTIO_EVENT_HANDOFF_WRITE:
        case XTIO_EVENT_HANDOFF_ENQUEUE:
            if (mode_of(ev) != XTIO_SCHEMA_MODE_INLINE && mode_of(ev) != XTIO_SCHEMA_MODE_DIRECT)
                problem(&t->run_problems,
                        "a xtio:%s of mode %s (conn %" PRIu64 ", seq %" PRIu64
                        "): a queued handoff is traced by its handoff_run or handoff_drop only",
                        xtio_schema_events[ev->id].name, ev->label, val(ev, "conn_id"),
                        val(ev, "seq"));
            out[n++] = *ev;
            break;
        case XTIO_EVENT_THREAD_NAME:
            note_thread_name(&names, ev);
            out[n++] = *ev;
            break;
        case XTIO_EVENT_HANDOFF_DROP:
            /* enqueue_ns 0: a direct handoff's own handoff_enqueue precedes it, or none was
             * recorded, which check_handoff() reports. */
            if (val(ev, "enqueue_ns") != 0) {
                check_producer_named(t, &names, ev, sval(ev, "producer_tid"),
                                     val(ev, "handoff_id"));
                struct event *enq = &out[n++];
                *enq = carried_enqueue(ev, ev->enqueue_ts, sval(ev, "producer_tid"), &names);
                static const char *const copied[] = {"handoff_id",  "conn_id",      "seq",
                                                     "mode",        "bytes",        "records",
                                                     "queue_depth", "queued_bytes", "spool_ns"};
                for (size_t f = 0; f < sizeof(copied) / sizeof(copied[0]); f++)
                    set_val(enq, copied[f], val(ev, copied[f]));
                set_val(enq, "owner_tid", owner_after_drop(t, i, val(ev, "conn_id")));
            }
            out[n++] = *ev;
            break;
        case XTIO_EVENT_HANDOFF_RUN:
            n += expand_run(t, ev, &names, out + n);
            break;
        default:
            out[n++] = *ev;
            break;
        }
    }
    free(t->events);
    t->events = out;
    t->count = n;
    return sort_by_time(&t->events, t->count);
}

static void test_runs(void **state)
{
    struct trace *t = *state;
    replay_problems(&t->run_problems);
    fail_on_problems(&t->run_problems, "handoff_run events");
    if (t->runs == 0)
        fail_msg("no xtio:handoff_run event: the loop wrote no queued handoff");
}

/* libxtio's posts do not coalesce: each loop_post of a task is followed by one loop_run of it on
 * its loop, with the same mech, before the task's memory (its id) can be posted again. */
static void test_posts_and_runs(void **state)
{
    struct trace *t = *state;
    struct problems p = {0};
    size_t by_mech[XTIO_SCHEMA_MECH_COUNT] = {0};
    for (size_t i = 0; i < t->count; i++) {
        const struct event *post = &t->events[i];
        if (post->id != XTIO_EVENT_LOOP_POST)
            continue;
        int64_t mech = sval(post, "mech");
        if (mech == XTIO_SCHEMA_MECH_LOOP_POST || mech == XTIO_SCHEMA_MECH_LOOP_CALL)
            by_mech[mech]++;
        else
            problem(&p, "libxtio posted task %" PRIx64 " by mech %" PRId64, val(post, "task"),
                    mech);
        if (val(post, "site") == 0)
            problem(&p, "xtio:loop_post of task %" PRIx64 " has no site", val(post, "task"));
        const struct event *run = NULL;
        for (size_t j = i + 1; j < t->count && !run; j++) {
            const struct event *ev = &t->events[j];
            if ((ev->id == XTIO_EVENT_LOOP_POST || ev->id == XTIO_EVENT_LOOP_RUN) &&
                val(ev, "task") == val(post, "task") && val(ev, "loop_id") == val(post, "loop_id"))
                run = ev;
        }
        if (!run || run->id != XTIO_EVENT_LOOP_RUN)
            problem(&p, "task %" PRIx64 " was posted %s", val(post, "task"),
                    run ? "again before it ran" : "and never ran");
        else if (sval(run, "mech") != mech)
            problem(&p, "task %" PRIx64 " was posted by %s and run as %s", val(post, "task"),
                    xtio_schema_label(XTIO_SCHEMA_ENUM_MECH, mech), run->label);
    }
    for (size_t i = 0; i < t->count; i++) {
        const struct event *run = &t->events[i];
        if (run->id != XTIO_EVENT_LOOP_RUN)
            continue;
        bool posted = false;
        for (size_t j = i; j-- > 0 && !posted;)
            posted = t->events[j].id == XTIO_EVENT_LOOP_POST &&
                     val(&t->events[j], "task") == val(run, "task");
        if (!posted)
            problem(&p, "task %" PRIx64 " ran without a loop_post", val(run, "task"));
    }
    /* The program calls xtio_loop_call() from its main thread; its connections post drains. */
    if (by_mech[XTIO_SCHEMA_MECH_LOOP_CALL] < printed_u64(t, "loop_calls"))
        problem(&p, "%zu loop_call posts, but the program made %" PRIu64 " xtio_loop_call()s",
                by_mech[XTIO_SCHEMA_MECH_LOOP_CALL], printed_u64(t, "loop_calls"));
    if (by_mech[XTIO_SCHEMA_MECH_LOOP_POST] == 0)
        problem(&p, "no loop_post by xtio_loop_post()");
    fail_on_problems(&p, "loop_post and loop_run events");
}

/* ---- Main ------------------------------------------------------------------------------------ */

static int load_trace(void **state)
{
    struct trace *t = &the_trace;
    t->shape.deferred = true;
    t->run_problems.deferred = true;
    t->naming_problems.deferred = true;
    if (read_trace(t))
        return -1;
    /* Shape problems first: a run of the wrong shape cannot be expanded. */
    if (t->shape.count == 0 && expand_runs(t))
        return -1;
    if (t->foreign_events)
        print_message("check_trace: ignored %" PRIu64 " xtio events of other processes\n",
                      t->foreign_events);
    *state = t;
    return 0;
}

static int free_trace(void **state)
{
    (void)state;
    struct trace *t = &the_trace;
    free(t->events);
    free(t->elements);
    for (size_t i = 0; i < t->nkeys; i++) {
        free(t->keys[i]);
        free(t->values[i]);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr,
                "usage: %s TRACE_ROOT EXPECTATIONS_FILE\n"
                "  TRACE_ROOT: an lttng session output directory (searched recursively)\n"
                "  EXPECTATIONS_FILE: the key=value lines handoff_program printed\n",
                argv[0]);
        return 2;
    }
    the_trace.root = argv[1];
    if (load_expectations(&the_trace, argv[2])) {
        free_trace(NULL);
        return 1;
    }

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trace_is_complete),
        cmocka_unit_test(test_schema_shape),
        cmocka_unit_test(test_every_event_present),
        cmocka_unit_test(test_schema_version),
        cmocka_unit_test(test_runs),
        cmocka_unit_test(test_enum_labels),
        cmocka_unit_test(test_contexts_name_the_threads),
        cmocka_unit_test(test_producers_are_named),
        cmocka_unit_test(test_threads_and_owner_tid),
        cmocka_unit_test(test_each_enqueue_has_one_outcome),
        cmocka_unit_test(test_batch_enqueues),
        cmocka_unit_test(test_write_seq_and_offset_per_conn),
        cmocka_unit_test(test_connections),
        cmocka_unit_test(test_conn_close_next_seq),
        cmocka_unit_test(test_sync_wait_end),
        cmocka_unit_test(test_backpressure),
        cmocka_unit_test(test_counts_match_program),
        cmocka_unit_test(test_posts_and_runs),
    };
    return cmocka_run_group_tests_name("trace.events", tests, load_trace, free_trace);
}
