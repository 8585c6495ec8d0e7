/*
 * The babeltrace2 plugin `xtio`: registrations only. The sink.xtio.analyze component lives in
 * analyzers/bt2/sink.c, shared with xtio-analyze.
 *
 * babeltrace2 finds the plugin through the __bt_get_*_section_* functions BT_PLUGIN_MODULE()
 * defines: the shared object must keep default symbol visibility.
 */
#include <babeltrace2/babeltrace.h>

#include "sink.h"

BT_PLUGIN_MODULE();

BT_PLUGIN(xtio);
BT_PLUGIN_DESCRIPTION("Analysis of xtio cross-thread I/O handoffs in LTTng-UST traces");
BT_PLUGIN_AUTHOR("The xtio authors");

BT_PLUGIN_SINK_COMPONENT_CLASS(analyze, xtio_bt2_sink_consume);
BT_PLUGIN_SINK_COMPONENT_CLASS_DESCRIPTION(analyze, XTIO_BT2_SINK_DESCRIPTION);
BT_PLUGIN_SINK_COMPONENT_CLASS_HELP(analyze, XTIO_BT2_SINK_HELP);
BT_PLUGIN_SINK_COMPONENT_CLASS_INITIALIZE_METHOD(analyze, xtio_bt2_sink_initialize);
BT_PLUGIN_SINK_COMPONENT_CLASS_FINALIZE_METHOD(analyze, xtio_bt2_sink_finalize);
BT_PLUGIN_SINK_COMPONENT_CLASS_GRAPH_IS_CONFIGURED_METHOD(analyze,
                                                          xtio_bt2_sink_graph_is_configured);
