/* The views of export.h: picks the format's implementation and forwards to it. */
#include "export.h"
#include "export_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct xtio_export {
    const struct xtio__export_ops *ops;
    void *state;
    struct xtio_analysis_observer observer;
};

static const struct {
    const char *name;
    enum xtio_export_format format;
    const struct xtio__export_ops *ops;
} formats[] = {
    {"html", XTIO_EXPORT_HTML, &xtio__export_html},
    {"perfetto", XTIO_EXPORT_PERFETTO, &xtio__export_perfetto},
    {"csv", XTIO_EXPORT_CSV, &xtio__export_csv},
};
#define FORMAT_COUNT (sizeof(formats) / sizeof(formats[0]))

int xtio_export_format_parse(const char *name, enum xtio_export_format *format)
{
    for (size_t i = 0; name && i < FORMAT_COUNT; i++) {
        if (strcmp(name, formats[i].name) == 0) {
            *format = formats[i].format;
            return 0;
        }
    }
    return -EINVAL;
}

int xtio_export_create(xtio_export **export, enum xtio_export_format format,
                       const struct xtio_export_options *options, FILE *out)
{
    const struct xtio__export_ops *ops = NULL;
    for (size_t i = 0; i < FORMAT_COUNT; i++)
        if (formats[i].format == format)
            ops = formats[i].ops;
    if (!export || !ops || !out)
        return -EINVAL;
    struct xtio_export_options defaults = {0};
    struct xtio_export_options opts = options ? *options : defaults;
    if (opts.max_handoffs == 0)
        opts.max_handoffs = XTIO_EXPORT_DEFAULT_MAX_HANDOFFS;
    if (opts.window_ns == 0)
        opts.window_ns = XTIO_EXPORT_DEFAULT_WINDOW_NS;
    xtio_export *e = calloc(1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    e->ops = ops;
    int status = ops->create(&e->state, &opts, out);
    if (status) {
        free(e);
        return status;
    }
    ops->observe(&e->observer);
    e->observer.data = e->state;
    *export = e;
    return 0;
}

void xtio_export_destroy(xtio_export *export)
{
    if (!export)
        return;
    export->ops->destroy(export->state);
    free(export);
}

const struct xtio_analysis_observer *xtio_export_observer(xtio_export *export)
{
    return export ? &export->observer : NULL;
}

int xtio_export_finish(xtio_export *export, const xtio_analysis *analysis)
{
    if (!export || !analysis)
        return -EINVAL;
    return export->ops->finish(export->state, analysis);
}
