/* The command-line number parsers of the xtio tools (see xtio_parse.h). */
#include "xtio_parse.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

/* Leading digits as a number; *end past them. strtoull alone would take a sign or spaces, and
 * wrap "-1" around to 2^64 - 1. */
static bool leading_number(const char *text, uint64_t *number, const char **end)
{
    if (text[0] < '0' || text[0] > '9')
        return false;
    char *stop;
    errno = 0;
    unsigned long long n = strtoull(text, &stop, 10);
    if (errno)
        return false;
    *number = n;
    *end = stop;
    return true;
}

bool xtio_parse_uint(const char *text, uint64_t min, uint64_t max, uint64_t *value)
{
    uint64_t n;
    const char *end;
    if (!leading_number(text, &n, &end) || *end || n < min || n > max)
        return false;
    *value = n;
    return true;
}

bool xtio_parse_size(const char *text, uint64_t min, uint64_t max, uint64_t *value)
{
    uint64_t n;
    const char *end;
    if (!leading_number(text, &n, &end))
        return false;
    unsigned shift = 0;
    if (*end == 'k' || *end == 'K')
        shift = 10;
    else if (*end == 'm' || *end == 'M')
        shift = 20;
    else if (*end == 'g' || *end == 'G')
        shift = 30;
    if (shift)
        end++;
    if (*end || n > (UINT64_MAX >> shift))
        return false;
    n <<= shift;
    if (n < min || n > max)
        return false;
    *value = n;
    return true;
}

bool xtio_parse_port(const char *text, unsigned min, unsigned *port)
{
    uint64_t n;
    if (!xtio_parse_uint(text, min, 65535, &n))
        return false;
    *port = (unsigned)n;
    return true;
}

bool xtio_parse_seconds(const char *text, double min, double max, double *value)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !isfinite(v) || v < min || v > max)
        return false;
    *value = v;
    return true;
}
