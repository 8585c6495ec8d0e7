/*
 * Private to the views of export.h: what each format implements. export.c picks one by format and
 * forwards to it.
 */
#ifndef XTIO_ANALYZERS_EXPORT_INTERNAL_H
#define XTIO_ANALYZERS_EXPORT_INTERNAL_H

#include "export.h"

struct xtio__export_ops {
    /* 0 and *state, or a negative errno. */
    int (*create)(void **state, const struct xtio_export_options *options, FILE *out);
    void (*destroy)(void *state);
    /* Sets the callbacks of *observer that the format needs; export.c sets its data to state. */
    void (*observe)(struct xtio_analysis_observer *observer);
    int (*finish)(void *state, const xtio_analysis *analysis);
};

extern const struct xtio__export_ops xtio__export_html;
extern const struct xtio__export_ops xtio__export_perfetto;
extern const struct xtio__export_ops xtio__export_csv;

#endif
