/*
 * The `analyze` sink component: its methods, shared by the babeltrace2 plugin `xtio`
 * (sink.xtio.analyze, analyzers/plugin/plugin.c) and by xtio-analyze, which creates the same
 * class in-process with xtio_bt2_sink_class_create().
 *
 * Parameters (all optional):
 *   format         "text" (default), "json", or a view of export.h: "html", "perfetto", "csv"
 *   output         path of the report; default: standard output
 *   strict         bool: dropped data is a finding, not only reported
 *   by-connection  bool: per-connection latency tables as well
 *   by-thread      bool: per-thread tables as well
 *   rows           "handoffs" (csv): what a row is, the only kind so far
 *   begin, end     numbers, seconds from the first `xtio` event (perfetto): the time range kept
 *   limit          number (perfetto): at most this many handoffs (default 100000)
 *   window-ms      number (html): the window of the plots over time (default 100)
 *
 * The report is written when the upstream iterator ends. Input the analysis refuses (no vtid
 * context, an unknown schema, no `xtio` events at all) makes consume fail with a cause that says
 * what to do, so babeltrace2 exits non-zero and prints it; the report is still written when the
 * core can say why in it. Findings do not fail: a plugin cannot set the babeltrace2 CLI's exit
 * status, which is what xtio-analyze is for. An output file that got no report is removed.
 */
#ifndef XTIO_ANALYZERS_BT2_SINK_H
#define XTIO_ANALYZERS_BT2_SINK_H

#include <babeltrace2/babeltrace.h>

#include <stdbool.h>
#include <stdint.h>

#define XTIO_BT2_SINK_NAME "analyze"
#define XTIO_BT2_SINK_DESCRIPTION                                                                  \
    "Analyse the xtio handoffs of an LTTng trace: latency by mode and findings (off-loop writes, " \
    "ordering breaks, writes after close, lost handoffs, drops)."
#define XTIO_BT2_SINK_HELP                                                                         \
    "Reads `xtio` events (any other provider's are ignored) and writes a report when the\n"        \
    "trace ends. The trace needs the vtid context: lttng add-context -u -t vtid -t vpid.\n"        \
    "\n"                                                                                           \
    "Parameters:\n"                                                                                \
    "  format=\"text\"|\"json\"|\"html\"|\"perfetto\"|\"csv\"\n"                                   \
    "                         report format (default text)\n"                                      \
    "  output=PATH            write the report to PATH (default: standard output)\n"               \
    "  strict=yes             dropped data is a finding, not only reported\n"                      \
    "  by-connection=yes      per-connection latency tables as well\n"                             \
    "  by-thread=yes          per-thread tables as well\n"                                         \
    "  rows=\"handoffs\"        csv: one row per handoff (the default)\n"                          \
    "  begin=S end=S          perfetto: only seconds S from the first xtio event\n"                \
    "  limit=N                perfetto: at most N handoffs (default 100000)\n"                     \
    "  window-ms=MS           html: window of the plots over time (default 100)\n"                 \
    "\n"                                                                                           \
    "babeltrace2 exits non-zero only when the input is refused; to fail on findings (CI),\n"       \
    "run xtio-analyze, which exits 1 when there are findings.\n"

struct xtio_bt2_sink;

/* Component class methods. The initialize method's data, when not NULL, is a
 * `struct xtio_bt2_sink **` that receives the component's state (weak: it lives as long as the
 * component, that is the graph), so that an embedding program can read the outcome. */
bt_component_class_initialize_method_status
xtio_bt2_sink_initialize(bt_self_component_sink *self, bt_self_component_sink_configuration *config,
                         const bt_value *params, void *init_data);
void xtio_bt2_sink_finalize(bt_self_component_sink *self);
bt_component_class_sink_graph_is_configured_method_status
xtio_bt2_sink_graph_is_configured(bt_self_component_sink *self);
bt_component_class_sink_consume_method_status xtio_bt2_sink_consume(bt_self_component_sink *self);

/* The same class for an in-process graph (no plugin path needed). NULL when out of memory. */
bt_component_class_sink *xtio_bt2_sink_class_create(void);

/* Ends the analysis early (the graph was interrupted): finishes it and writes the report of what
 * was read, as the end of the trace would. 0, or -1 when the input was refused or the report
 * could not be written (xtio_bt2_sink_refusal() or the current thread's error says why). Does
 * nothing once the sink has concluded. */
int xtio_bt2_sink_conclude(struct xtio_bt2_sink *sink);
/* Whether the report was written (the trace ended, or xtio_bt2_sink_conclude() succeeded). */
bool xtio_bt2_sink_reported(const struct xtio_bt2_sink *sink);
/* 0 clean, 1 findings, 2 refused input (xtio_analysis_exit_code()); 2 before the end. */
int xtio_bt2_sink_exit_code(const struct xtio_bt2_sink *sink);
/* Why the input was refused, with what to do about it; NULL when it was not. */
const char *xtio_bt2_sink_refusal(const struct xtio_bt2_sink *sink);

/* How far the sink has read, for a progress display. Kept per batch of messages: reading it
 * costs the consume loop nothing per event. */
struct xtio_bt2_sink_progress {
    uint64_t events; /* event messages read, of any provider */
    bool has_time;   /* time_ns is known: an event with a clock was read */
    /* The time of the last event read, in ns from its clock's origin (as babeltrace2's
     * `babeltrace.trace-infos` query gives a stream's range-ns): the muxer's output is in time
     * order, so the trace is read up to there. */
    int64_t time_ns;
};
struct xtio_bt2_sink_progress xtio_bt2_sink_progress(const struct xtio_bt2_sink *sink);
/* Calls `fn(data)` before the sink writes its report or the rows left (to standard output or its
 * file), so that an embedding program can first clear a progress line off the terminal. */
void xtio_bt2_sink_on_report(struct xtio_bt2_sink *sink, void (*fn)(void *data), void *data);

#endif
