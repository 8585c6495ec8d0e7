/*
 * The views of export.h in memory, for their unit tests: an export that watches a new analysis,
 * which the test feeds and finishes, then export_close() finishes the export into a string.
 */
#ifndef XTIO_TEST_EXPORT_H
#define XTIO_TEST_EXPORT_H

#include "export.h"
#include "test_events.h"

struct exported {
    xtio_analysis *analysis;
    xtio_export *export;
    struct membuf output;
};

static inline void export_open(struct exported *e, enum xtio_export_format format,
                               const struct xtio_export_options *export_options, bool by_connection,
                               bool by_thread)
{
    memset(e, 0, sizeof(*e));
    membuf_open(&e->output);
    assert_int_equal(xtio_export_create(&e->export, format, export_options, e->output.out), 0);
    struct xtio_analysis_options options = {.observer = xtio_export_observer(e->export),
                                            .by_connection = by_connection,
                                            .by_thread = by_thread};
    assert_int_equal(xtio_analysis_create(&e->analysis, &options), 0);
}

/* Finishes the export (the caller finished the analysis); returns its output (free it). */
static inline char *export_close(struct exported *e)
{
    assert_int_equal(xtio_export_finish(e->export, e->analysis), 0);
    xtio_export_destroy(e->export);
    xtio_analysis_destroy(e->analysis);
    return membuf_text(&e->output);
}

#endif
