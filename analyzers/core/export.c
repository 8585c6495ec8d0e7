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

/* By enum xtio_export_format. */
static const struct {
    const char *name;
    const struct xtio__export_ops *ops;
} formats[] = {
    [XTIO_EXPORT_HTML] = {"html", &xtio__export_html},
    [XTIO_EXPORT_PERFETTO] = {"perfetto", &xtio__export_perfetto},
    [XTIO_EXPORT_CSV] = {"csv", &xtio__export_csv},
};
#define FORMAT_COUNT (sizeof(formats) / sizeof(formats[0]))

int xtio_export_format_parse(const char *name, enum xtio_export_format *format)
{
    for (size_t i = 0; name && i < FORMAT_COUNT; i++) {
        if (strcmp(name, formats[i].name) == 0) {
            *format = (enum xtio_export_format)i;
            return 0;
        }
    }
    return -EINVAL;
}

int xtio_export_create(xtio_export **export, enum xtio_export_format format,
                       const struct xtio_export_options *options, FILE *out)
{
    if (!export || (unsigned)format >= FORMAT_COUNT || !out)
        return -EINVAL;
    const struct xtio__export_ops *ops = formats[format].ops;
    struct xtio_export_options opts = options ? *options : (struct xtio_export_options){0};
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
