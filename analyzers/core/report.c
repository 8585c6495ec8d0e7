/* The report dispatcher: xtio_analysis_write_report() hands the finished analysis to the writer
 * of the format asked for (report_text.c, report_json.c), which read it through results.c. */
#include "internal.h"

#include <errno.h>

int xtio_analysis_write_report(const xtio_analysis *analysis, enum xtio_report_format format,
                               FILE *out)
{
    if (!analysis || !out || !analysis->finished)
        return -EINVAL;
    switch (format) {
    case XTIO_REPORT_TEXT:
        return xtio__write_text(analysis, out);
    case XTIO_REPORT_JSON:
        return xtio__write_json(analysis, out);
    }
    return -EINVAL;
}
