/*
 * Views of an analysis beyond the text and JSON reports: an HTML report with plots, a timeline in
 * the Chrome JSON trace event format (Perfetto, chrome://tracing), and one CSV row per handoff.
 * Each watches the analysis as it is fed (struct xtio_analysis_observer) and writes its file at
 * the end, or as it goes (CSV rows stream out, so that memory stays flat). Plain C, as the core.
 *
 * Use: xtio_export_create(), put xtio_export_observer() in the analysis options before
 * xtio_analysis_create(), feed and finish the analysis, then xtio_export_finish() once, then
 * xtio_export_destroy(). docs/analysis.md documents each format.
 */
#ifndef XTIO_ANALYZERS_EXPORT_H
#define XTIO_ANALYZERS_EXPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "analysis.h"

enum xtio_export_format {
    XTIO_EXPORT_HTML,     /* "html": one self-contained page, inline SVG and CSS */
    XTIO_EXPORT_PERFETTO, /* "perfetto": Chrome JSON trace events, with flows */
    XTIO_EXPORT_CSV,      /* "csv": one row per handoff */
};

/* The format named `name` ("html", "perfetto", "csv"): 0, or -EINVAL. */
int xtio_export_format_parse(const char *name, enum xtio_export_format *format);

struct xtio_export_options {
    /* Timeline: only handoffs and findings that overlap [begin_ns, end_ns], both counted from
     * the trace's first `xtio` event (end_ns 0: to the end), and of those the first max_handoffs
     * (0: XTIO_EXPORT_DEFAULT_MAX_HANDOFFS); the file says what was left out. */
    uint64_t begin_ns;
    uint64_t end_ns;
    uint64_t max_handoffs;
    /* HTML: the window of the plots over time (0: XTIO_EXPORT_DEFAULT_WINDOW_NS). */
    uint64_t window_ns;
};
#define XTIO_EXPORT_DEFAULT_MAX_HANDOFFS 100000
#define XTIO_EXPORT_DEFAULT_WINDOW_NS    100000000ull

typedef struct xtio_export xtio_export;

/* 0 and *export, or -ENOMEM / -EINVAL. `out` is weak: it must stay open until finish. */
int xtio_export_create(xtio_export **export, enum xtio_export_format format,
                       const struct xtio_export_options *options, FILE *out);
void xtio_export_destroy(xtio_export *export);
/* What to put in struct xtio_analysis_options.observer; valid as long as the export. */
const struct xtio_analysis_observer *xtio_export_observer(xtio_export *export);
/* After xtio_analysis_finish(): writes what is left of the file (all of it, for HTML and the
 * timeline). Also after a refused input, for what was read. 0, or a negative errno (-EIO when
 * writing failed). */
int xtio_export_finish(xtio_export *export, const xtio_analysis *analysis);

#endif
