/* Text into XML or HTML (see xtio_markup.h). */
#include "xtio_markup.h"

void xtio_markup_put_escaped(FILE *out, const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; p && *p; p++) {
        switch (*p) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            fputs("&#39;", out);
            break;
        case '\t':
        case '\n':
            fprintf(out, "&#%d;", *p);
            break;
        default:
            fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, out);
        }
    }
}
