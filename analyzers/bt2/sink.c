/*
 * Owns the `analyze` sink component's lifecycle (initialize, graph_is_configured, finalize) and
 * its consume loop: messages are decoded (decode.c) and fed to the analysis core, whose report
 * is written when the upstream iterator ends. No analysis logic here.
 */
#include "sink.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis.h"
#include "decode.h"
#include "export.h"

/* The messages that explain a refusal or a decoding problem (the core keeps as long a refusal:
 * XTIO_ANALYSIS_ERROR_SIZE). */
#define MESSAGE_SIZE 1024

struct xtio_bt2_sink {
    bt_self_component *self;       /* weak: the component this is the data of */
    bt_message_iterator *iterator; /* owned */
    xtio_analysis *analysis;       /* owned */
    xtio_bt2_decoder *decoder;     /* owned */
    /* The core may keep the last event fed by reference until the next feed (analysis.h): the
     * next event is decoded into the other buffer, and the message whose fields it points to
     * (procname) is kept. */
    struct xtio_event events[2];
    unsigned next_event;           /* the buffer the next event is decoded into */
    const bt_message *fed_message; /* owned: the message of the last event fed; NULL when none */
    enum xtio_report_format format;
    xtio_export *export; /* owned: the view of an html, perfetto or csv format; else NULL */
    char *output_path;   /* owned; NULL: standard output */
    FILE *out;           /* owned when output_path is set */
    bool consumed;       /* at least one message was read */
    bool failed;         /* an error ended the run: finalize must not report */
    bool concluded;      /* xtio_bt2_sink_conclude() ran (whatever its outcome) */
    bool reported;       /* the report was written */
    int exit_code;
    struct xtio_bt2_sink_progress progress;
    void (*on_report)(void *data); /* NULL when not set */
    void *on_report_data;
};

/* ---- Parameters ------------------------------------------------------------------------------ */

static const struct {
    const char *name;
    bt_value_type type;
} known_params[] = {
    {"format", BT_VALUE_TYPE_STRING},
    {"output", BT_VALUE_TYPE_STRING},
    {"strict", BT_VALUE_TYPE_BOOL},
    {"by-connection", BT_VALUE_TYPE_BOOL},
    {"by-thread", BT_VALUE_TYPE_BOOL},
    {"rows", BT_VALUE_TYPE_STRING},
    /* Numbers: integers or reals, checked by number_param(). */
    {"begin", BT_VALUE_TYPE_REAL},
    {"end", BT_VALUE_TYPE_REAL},
    {"limit", BT_VALUE_TYPE_REAL},
    {"window-ms", BT_VALUE_TYPE_REAL},
};
#define KNOWN_PARAM_COUNT (sizeof(known_params) / sizeof(known_params[0]))
#define KNOWN_PARAM_LIST                                                                           \
    "format, output, strict, by-connection, by-thread, rows, begin, end, limit, window-ms"

struct param_check {
    char unknown[128]; /* the first key that is not a known parameter; "" when none */
};

static bt_value_map_foreach_entry_const_func_status
find_unknown_param(const char *key, const bt_value *value, void *data)
{
    (void)value;
    struct param_check *check = data;
    for (size_t i = 0; i < KNOWN_PARAM_COUNT; i++) {
        if (strcmp(key, known_params[i].name) == 0)
            return BT_VALUE_MAP_FOREACH_ENTRY_CONST_FUNC_STATUS_OK;
    }
    snprintf(check->unknown, sizeof(check->unknown), "%s", key);
    return BT_VALUE_MAP_FOREACH_ENTRY_CONST_FUNC_STATUS_INTERRUPT;
}

static const char *type_name(bt_value_type type)
{
    return type == BT_VALUE_TYPE_BOOL   ? "a boolean (yes/no)"
           : type == BT_VALUE_TYPE_REAL ? "a number"
                                        : "a string";
}

static bool type_fits(const bt_value *v, bt_value_type type)
{
    if (type == BT_VALUE_TYPE_REAL)
        return bt_value_is_real(v) || bt_value_is_signed_integer(v) ||
               bt_value_is_unsigned_integer(v);
    return bt_value_get_type(v) == type;
}

/* A number parameter, `scale` times its value, at least 0 (false: absent). */
static bool number_param(const bt_value *params, const char *name, double scale, uint64_t *value)
{
    const bt_value *v = bt_value_map_borrow_entry_value_const(params, name);
    if (!v)
        return false;
    double x = bt_value_is_real(v)             ? bt_value_real_get(v)
               : bt_value_is_signed_integer(v) ? (double)bt_value_integer_signed_get(v)
                                               : (double)bt_value_integer_unsigned_get(v);
    *value = x > 0 ? (uint64_t)(x * scale + 0.5) : 0;
    return true;
}

static bool bool_param(const bt_value *params, const char *name)
{
    const bt_value *v = bt_value_map_borrow_entry_value_const(params, name);
    return v && bt_value_bool_get(v);
}

/* Fills the options, the format and the output path from the component's parameters. */
static bt_component_class_initialize_method_status
apply_params(struct xtio_bt2_sink *sink, const bt_value *params,
             struct xtio_analysis_options *options, bool *has_export,
             enum xtio_export_format *export_format, struct xtio_export_options *export_options)
{
    bt_component_class_initialize_method_status status =
        BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_ERROR;
    struct param_check check = {{0}};

    if (!params || !bt_value_is_map(params)) {
        BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(
            sink->self, "Invalid parameters: expected a map of: %s", KNOWN_PARAM_LIST);
        goto end;
    }
    if (bt_value_map_foreach_entry_const(params, find_unknown_param, &check) !=
        BT_VALUE_MAP_FOREACH_ENTRY_CONST_STATUS_OK) {
        BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(
            sink->self, "Unknown parameter: name=\"%s\", known parameters: %s", check.unknown,
            KNOWN_PARAM_LIST);
        goto end;
    }
    for (size_t i = 0; i < KNOWN_PARAM_COUNT; i++) {
        const bt_value *v = bt_value_map_borrow_entry_value_const(params, known_params[i].name);
        if (v && !type_fits(v, known_params[i].type)) {
            BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(
                sink->self, "Invalid parameter type: name=\"%s\", expected %s",
                known_params[i].name, type_name(known_params[i].type));
            goto end;
        }
    }

    const bt_value *format = bt_value_map_borrow_entry_value_const(params, "format");
    const char *name = format ? bt_value_string_get(format) : "text";
    sink->format = XTIO_REPORT_TEXT;
    *has_export = false;
    if (strcmp(name, "json") == 0) {
        sink->format = XTIO_REPORT_JSON;
    } else if (xtio_export_format_parse(name, export_format) == 0) {
        *has_export = true;
    } else if (strcmp(name, "text") != 0) {
        BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(
            sink->self,
            "Invalid report format: format=\"%s\", expected \"text\", \"json\", \"html\", "
            "\"perfetto\" or \"csv\"",
            name);
        goto end;
    }
    const bt_value *rows = bt_value_map_borrow_entry_value_const(params, "rows");
    if (rows && (!*has_export || *export_format != XTIO_EXPORT_CSV ||
                 strcmp(bt_value_string_get(rows), "handoffs") != 0)) {
        BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(
            sink->self, "Invalid rows: rows=\"%s\", expected \"handoffs\" with format=\"csv\"",
            bt_value_string_get(rows));
        goto end;
    }
    uint64_t window_ms = 0;
    number_param(params, "begin", 1e9, &export_options->begin_ns);
    number_param(params, "end", 1e9, &export_options->end_ns);
    number_param(params, "limit", 1, &export_options->max_handoffs);
    if (number_param(params, "window-ms", 1, &window_ms) && window_ms == 0) {
        BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(
            sink->self, "Invalid window: window-ms=0, expected a number of milliseconds above 0");
        goto end;
    }
    export_options->window_ns = window_ms * 1000000;
    if (export_options->end_ns && export_options->end_ns <= export_options->begin_ns) {
        BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(
            sink->self, "Invalid time range: begin=%.9f, end=%.9f: end must come after begin",
            export_options->begin_ns / 1e9, export_options->end_ns / 1e9);
        goto end;
    }

    const bt_value *output = bt_value_map_borrow_entry_value_const(params, "output");
    if (output && !(sink->output_path = strdup(bt_value_string_get(output)))) {
        BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(
            sink->self, "Failed to copy the output path: error=\"%s\"", "out of memory");
        status = BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_MEMORY_ERROR;
        goto end;
    }

    options->strict = bool_param(params, "strict");
    options->by_connection = bool_param(params, "by-connection");
    options->by_thread = bool_param(params, "by-thread");
    status = BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_OK;
end:
    return status;
}

/* ---- Lifecycle ------------------------------------------------------------------------------- */

static void sink_destroy(struct xtio_bt2_sink *sink)
{
    if (!sink)
        return;
    BT_MESSAGE_PUT_REF_AND_RESET(sink->fed_message);
    BT_MESSAGE_ITERATOR_PUT_REF_AND_RESET(sink->iterator);
    xtio_analysis_destroy(sink->analysis);
    xtio_export_destroy(sink->export);
    xtio_bt2_decoder_destroy(sink->decoder);
    if (sink->out)
        fclose(sink->out);
    /* No report, no file: an empty one would read as a report to a script. */
    if (sink->out && !sink->reported)
        unlink(sink->output_path);
    free(sink->output_path);
    free(sink);
}

bt_component_class_initialize_method_status
xtio_bt2_sink_initialize(bt_self_component_sink *self_sink,
                         bt_self_component_sink_configuration *config, const bt_value *params,
                         void *init_data)
{
    (void)config;
    bt_self_component *self = bt_self_component_sink_as_self_component(self_sink);
    bt_component_class_initialize_method_status status =
        BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_OK;
    struct xtio_analysis_options options = {0};
    struct xtio_export_options export_options = {0};
    enum xtio_export_format export_format = XTIO_EXPORT_HTML;
    bool has_export = false;
    struct xtio_bt2_sink *sink = calloc(1, sizeof(*sink));

    if (!sink) {
        BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(
            self, "Failed to allocate the sink's state: size=%zu", sizeof(*sink));
        status = BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_MEMORY_ERROR;
        goto end;
    }
    sink->self = self;
    sink->exit_code = 2;

    status = apply_params(sink, params, &options, &has_export, &export_format, &export_options);
    if (status != BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_OK)
        goto end;

    /* Opened now so that a bad path fails before a long trace is read, not after. */
    if (sink->output_path) {
        sink->out = fopen(sink->output_path, "w");
        if (!sink->out) {
            BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(
                self, "Cannot open the report file for writing: output=\"%s\", error=\"%s\"",
                sink->output_path, strerror(errno));
            status = BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_ERROR;
            goto end;
        }
    }

    int rc = 0;
    if (has_export) {
        rc = xtio_export_create(&sink->export, export_format, &export_options,
                                sink->out ? sink->out : stdout);
        if (rc < 0) {
            BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(
                self, "Failed to create the report's view: error=\"%s\"", strerror(-rc));
            status = rc == -ENOMEM ? BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_MEMORY_ERROR
                                   : BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_ERROR;
            goto end;
        }
        options.observer = xtio_export_observer(sink->export);
    }
    rc = xtio_analysis_create(&sink->analysis, &options);
    if (rc < 0) {
        BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(
            self, "Failed to create the analysis: error=\"%s\"", strerror(-rc));
        status = rc == -ENOMEM ? BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_MEMORY_ERROR
                               : BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_ERROR;
        goto end;
    }

    sink->decoder = xtio_bt2_decoder_create();
    if (!sink->decoder) {
        BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(
            self, "Failed to create the event decoder: error=\"%s\"", "out of memory");
        status = BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_MEMORY_ERROR;
        goto end;
    }

    bt_self_component_add_port_status port_status =
        bt_self_component_sink_add_input_port(self_sink, "in", NULL, NULL);
    if (port_status != BT_SELF_COMPONENT_ADD_PORT_STATUS_OK) {
        BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(
            self, "Failed to add an input port: port-name=\"%s\"", "in");
        status = port_status == BT_SELF_COMPONENT_ADD_PORT_STATUS_MEMORY_ERROR
                     ? BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_MEMORY_ERROR
                     : BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_ERROR;
        goto end;
    }

    bt_self_component_set_data(self, sink);
    if (init_data)
        *(struct xtio_bt2_sink **)init_data = sink;

end:
    if (status != BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_OK)
        sink_destroy(sink);
    return status;
}

void xtio_bt2_sink_finalize(bt_self_component_sink *self_sink)
{
    struct xtio_bt2_sink *sink =
        bt_self_component_get_data(bt_self_component_sink_as_self_component(self_sink));
    if (!sink)
        return;
    /* The graph stopped before the trace ended without an error of ours or upstream's: the
     * babeltrace2 CLI was interrupted. Report what was read rather than nothing; a failed run
     * reports nothing, since its figures would mislead. */
    if (!sink->concluded && sink->consumed && !sink->failed) {
        fprintf(stderr,
                "sink.xtio.analyze: the trace did not end (interrupted?): the report covers "
                "the events read so far\n");
        if (xtio_bt2_sink_conclude(sink) && xtio_bt2_sink_refusal(sink))
            fprintf(stderr, "sink.xtio.analyze: %s\n", xtio_bt2_sink_refusal(sink));
    }
    sink_destroy(sink);
}

bt_component_class_sink_graph_is_configured_method_status
xtio_bt2_sink_graph_is_configured(bt_self_component_sink *self_sink)
{
    bt_self_component *self = bt_self_component_sink_as_self_component(self_sink);
    struct xtio_bt2_sink *sink = bt_self_component_get_data(self);
    bt_component_class_sink_graph_is_configured_method_status status =
        BT_COMPONENT_CLASS_SINK_GRAPH_IS_CONFIGURED_METHOD_STATUS_OK;
    bt_self_component_port_input *port =
        bt_self_component_sink_borrow_input_port_by_name(self_sink, "in");

    if (!bt_port_is_connected(
            bt_port_input_as_port_const(bt_self_component_port_input_as_port_input(port)))) {
        BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(
            self,
            "Input port is not connected: port-name=\"%s\"; connect a source to it (through "
            "filter.utils.muxer when the source has several output ports)",
            "in");
        status = BT_COMPONENT_CLASS_SINK_GRAPH_IS_CONFIGURED_METHOD_STATUS_ERROR;
        goto end;
    }
    bt_message_iterator_create_from_sink_component_status it_status =
        bt_message_iterator_create_from_sink_component(self_sink, port, &sink->iterator);
    if (it_status != BT_MESSAGE_ITERATOR_CREATE_FROM_SINK_COMPONENT_STATUS_OK) {
        BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(
            self, "Failed to create a message iterator: port-name=\"%s\"", "in");
        status = it_status == BT_MESSAGE_ITERATOR_CREATE_FROM_SINK_COMPONENT_STATUS_MEMORY_ERROR
                     ? BT_COMPONENT_CLASS_SINK_GRAPH_IS_CONFIGURED_METHOD_STATUS_MEMORY_ERROR
                     : BT_COMPONENT_CLASS_SINK_GRAPH_IS_CONFIGURED_METHOD_STATUS_ERROR;
        goto end;
    }
end:
    return status;
}

bt_component_class_sink *xtio_bt2_sink_class_create(void)
{
    bt_component_class_sink *cls =
        bt_component_class_sink_create(XTIO_BT2_SINK_NAME, xtio_bt2_sink_consume);
    if (!cls)
        return NULL;
    bt_component_class *base = bt_component_class_sink_as_component_class(cls);
    if (bt_component_class_set_description(base, XTIO_BT2_SINK_DESCRIPTION) !=
            BT_COMPONENT_CLASS_SET_DESCRIPTION_STATUS_OK ||
        bt_component_class_set_help(base, XTIO_BT2_SINK_HELP) !=
            BT_COMPONENT_CLASS_SET_HELP_STATUS_OK ||
        bt_component_class_sink_set_initialize_method(cls, xtio_bt2_sink_initialize) !=
            BT_COMPONENT_CLASS_SET_METHOD_STATUS_OK ||
        bt_component_class_sink_set_finalize_method(cls, xtio_bt2_sink_finalize) !=
            BT_COMPONENT_CLASS_SET_METHOD_STATUS_OK ||
        bt_component_class_sink_set_graph_is_configured_method(
            cls, xtio_bt2_sink_graph_is_configured) != BT_COMPONENT_CLASS_SET_METHOD_STATUS_OK)
        BT_COMPONENT_CLASS_SINK_PUT_REF_AND_RESET(cls);
    return cls;
}

/* ---- Consuming ------------------------------------------------------------------------------- */

/* Records why the input cannot be analysed, in the core, whose report then carries it
 * (report_refusal()), and says so as a cause. Always -1. */
static int refuse(struct xtio_bt2_sink *sink, const char *why)
{
    xtio_analysis_refuse(sink->analysis, -EPROTO, why);
    sink->exit_code = 2;
    BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(sink->self, "Cannot analyse the trace: %s",
                                                        why);
    return -1;
}

/* A negative return of the core: a refusal when the core explains it, else a plain failure. */
static int core_failed(struct xtio_bt2_sink *sink, const char *what, int rc)
{
    const char *why = xtio_analysis_error(sink->analysis);
    if (why)
        return refuse(sink, why);
    BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(sink->self, "Failed to %s: error=\"%s\"",
                                                        what, strerror(-rc));
    return -1;
}

static int write_report(struct xtio_bt2_sink *sink)
{
    FILE *out = sink->out ? sink->out : stdout;
    if (sink->on_report)
        sink->on_report(sink->on_report_data);
    int rc = sink->export ? xtio_export_finish(sink->export, sink->analysis)
                          : xtio_analysis_write_report(sink->analysis, sink->format, out);
    if (rc == 0 && fflush(out) != 0)
        rc = -errno;
    if (rc < 0) {
        BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(
            sink->self, "Failed to write the report: output=\"%s\", error=\"%s\"",
            sink->output_path ? sink->output_path : "(standard output)", strerror(-rc));
        return -1;
    }
    sink->reported = true;
    sink->exit_code = xtio_analysis_exit_code(sink->analysis);
    return 0;
}

/* The core refused an event: its report still goes out, carrying the refusal, so that a reader
 * of the output file (JSON in CI) learns why rather than finding nothing. */
static void report_refusal(struct xtio_bt2_sink *sink)
{
    if (sink->concluded || !xtio_analysis_error(sink->analysis))
        return;
    sink->concluded = true;
    (void)xtio_analysis_finish(sink->analysis); /* returns the refusal, already reported */
    (void)write_report(sink);                   /* appends its own cause on failure */
    sink->exit_code = 2;
}

/* Feeds a decoded event, and keeps what the core may still read of it: its buffer and its
 * message, whose reference the consume loop then leaves to the sink. */
static int feed_event(struct xtio_bt2_sink *sink, const bt_message *msg,
                      const struct xtio_event *ev)
{
    int rc = xtio_analysis_feed_event(sink->analysis, ev);
    if (rc < 0)
        return rc;
    sink->next_event ^= 1;
    bt_message_put_ref(sink->fed_message);
    sink->fed_message = msg;
    return 0;
}

static int handle_event(struct xtio_bt2_sink *sink, const bt_message *msg)
{
    struct xtio_event *ev = &sink->events[sink->next_event];
    char why[MESSAGE_SIZE];
    int rc;

    switch (xtio_bt2_decode_event(sink->decoder, msg, ev, why, sizeof(why))) {
    case XTIO_BT2_DECODE_IGNORED:
        return 0;
    case XTIO_BT2_DECODE_PROGRAM_NAME:
        rc = xtio_analysis_name_process(sink->analysis, ev->vpid, ev->procname);
        return rc < 0 ? core_failed(sink, "name a process", rc) : 0;
    case XTIO_BT2_DECODE_MODULE: {
        struct xtio_bt2_module module;
        if (!xtio_bt2_decode_module(sink->decoder, msg, &module))
            return 0;
        /* -EINVAL: an empty range, which names no site: ignored. */
        rc = xtio_analysis_add_module(sink->analysis, module.vpid, module.baddr, module.memsz,
                                      module.path);
        return rc < 0 && rc != -EINVAL ? core_failed(sink, "add a module", rc) : 0;
    }
    case XTIO_BT2_DECODE_NO_MEMORY:
        BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(sink->self, "%s", why);
        return -1;
    case XTIO_BT2_DECODE_NO_TIME:
        return refuse(sink, why);
    case XTIO_BT2_DECODE_BAD_SHAPE:
        /* A changed field usually comes with a new schema_version, which the core names
         * better; only loop_start and conn_open carry it. */
        if (ev->has_schema_version && (rc = feed_event(sink, msg, ev)) < 0)
            return core_failed(sink, "feed an event to the analysis", rc);
        return refuse(sink, why);
    case XTIO_BT2_DECODE_OK:
        break;
    }
    rc = feed_event(sink, msg, ev);
    return rc < 0 ? core_failed(sink, "feed an event to the analysis", rc) : 0;
}

static int handle_message(struct xtio_bt2_sink *sink, const bt_message *msg)
{
    struct xtio_discard discard;
    char stream[256];
    char why[MESSAGE_SIZE];

    switch (bt_message_get_type(msg)) {
    case BT_MESSAGE_TYPE_EVENT:
        sink->progress.events++;
        return handle_event(sink, msg);
    case BT_MESSAGE_TYPE_DISCARDED_EVENTS:
    case BT_MESSAGE_TYPE_DISCARDED_PACKETS:
        if (!xtio_bt2_decode_discard(msg, &discard, stream, sizeof(stream), why, sizeof(why)))
            return refuse(sink, why);
        xtio_analysis_feed_discard(sink->analysis, &discard);
        return 0;
    default:
        return 0;
    }
}

int xtio_bt2_sink_conclude(struct xtio_bt2_sink *sink)
{
    if (sink->concluded)
        return sink->reported && !xtio_bt2_sink_refusal(sink) ? 0 : -1;
    sink->concluded = true;

    /* The core refuses here too when no `xtio` event came at all, naming what to enable; its
     * report then says so. */
    int rc = xtio_analysis_finish(sink->analysis);
    /* The core reads no event after finish; the message goes back to its pool while the
     * graph still runs. */
    BT_MESSAGE_PUT_REF_AND_RESET(sink->fed_message);
    if (rc < 0 && !xtio_analysis_error(sink->analysis))
        return core_failed(sink, "finish the analysis", rc);
    if (write_report(sink))
        return -1;
    return rc < 0 ? core_failed(sink, "finish the analysis", rc) : 0;
}

/* The time of the batch's last event that has one, for xtio_bt2_sink_progress(): once per
 * batch, not per event. */
static void note_time(struct xtio_bt2_sink *sink, bt_message_array_const msgs, uint64_t count)
{
    for (uint64_t i = count; i-- > 0;) {
        const bt_message *msg = msgs[i];
        int64_t ns;
        if (bt_message_get_type(msg) != BT_MESSAGE_TYPE_EVENT ||
            !bt_message_event_borrow_stream_class_default_clock_class_const(msg))
            continue;
        if (bt_clock_snapshot_get_ns_from_origin(
                bt_message_event_borrow_default_clock_snapshot_const(msg), &ns) ==
            BT_CLOCK_SNAPSHOT_GET_NS_FROM_ORIGIN_STATUS_OK) {
            sink->progress.time_ns = ns;
            sink->progress.has_time = true;
        }
        return;
    }
}

bt_component_class_sink_consume_method_status
xtio_bt2_sink_consume(bt_self_component_sink *self_sink)
{
    bt_self_component *self = bt_self_component_sink_as_self_component(self_sink);
    struct xtio_bt2_sink *sink = bt_self_component_get_data(self);
    bt_component_class_sink_consume_method_status status =
        BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_OK;
    bt_message_array_const msgs;
    uint64_t count = 0;

    switch (bt_message_iterator_next(sink->iterator, &msgs, &count)) {
    case BT_MESSAGE_ITERATOR_NEXT_STATUS_OK:
        break;
    case BT_MESSAGE_ITERATOR_NEXT_STATUS_END:
        BT_MESSAGE_ITERATOR_PUT_REF_AND_RESET(sink->iterator);
        status = xtio_bt2_sink_conclude(sink) ? BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_ERROR
                                              : BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_END;
        goto end;
    case BT_MESSAGE_ITERATOR_NEXT_STATUS_AGAIN:
        /* A live source answers AGAIN when interrupted (SIGINT): end with the report of what
         * was read, as the end of the trace would. */
        if (bt_self_component_sink_is_interrupted(self_sink))
            status = xtio_bt2_sink_conclude(sink)
                         ? BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_ERROR
                         : BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_END;
        else
            status = BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_AGAIN;
        goto end;
    case BT_MESSAGE_ITERATOR_NEXT_STATUS_MEMORY_ERROR:
        BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(
            self, "Failed to get messages from upstream: error=\"%s\"", "out of memory");
        status = BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_MEMORY_ERROR;
        goto end;
    default:
        BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(
            self, "Failed to get messages from upstream: port-name=\"%s\"", "in");
        status = BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_ERROR;
        goto end;
    }

    sink->consumed = true;
    note_time(sink, msgs, count);
    for (uint64_t i = 0; i < count; i++) {
        if (status == BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_OK &&
            handle_message(sink, msgs[i]) < 0)
            status = BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_ERROR;
        /* The reference of the message of the last event fed is the sink's (feed_event()). */
        if (msgs[i] != sink->fed_message)
            bt_message_put_ref(msgs[i]);
    }
    if (status != BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_OK)
        report_refusal(sink);
end:
    if (status == BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_ERROR ||
        status == BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_MEMORY_ERROR)
        sink->failed = true;
    return status;
}

bool xtio_bt2_sink_reported(const struct xtio_bt2_sink *sink)
{
    return sink->reported;
}

int xtio_bt2_sink_exit_code(const struct xtio_bt2_sink *sink)
{
    return sink->exit_code;
}

const char *xtio_bt2_sink_refusal(const struct xtio_bt2_sink *sink)
{
    return xtio_analysis_error(sink->analysis);
}

struct xtio_bt2_sink_progress xtio_bt2_sink_progress(const struct xtio_bt2_sink *sink)
{
    return sink->progress;
}

void xtio_bt2_sink_on_report(struct xtio_bt2_sink *sink, void (*fn)(void *data), void *data)
{
    sink->on_report = fn;
    sink->on_report_data = data;
}
