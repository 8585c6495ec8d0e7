/*
 * xtio_parse: how the xtio tools read a number on their command line, one definition of each
 * kind: a whole decimal number, a size with an optional k, m or g suffix, a TCP port, a time in
 * seconds. A whole number is decimal digits only: no sign, no space, nothing after it but a size's
 * suffix. Each returns false, leaving *value alone, for anything else or anything out of range.
 */
#ifndef XTIO_PARSE_H
#define XTIO_PARSE_H

#include <stdbool.h>
#include <stdint.h>

/* A whole decimal number in [min, max]. */
bool xtio_parse_uint(const char *text, uint64_t min, uint64_t max, uint64_t *value);
/* A whole decimal number of bytes, times 1024, 1024^2 or 1024^3 with a k, m or g suffix (K, M
 * or G too), in [min, max]. */
bool xtio_parse_size(const char *text, uint64_t min, uint64_t max, uint64_t *value);
/* A TCP port: a whole decimal number in [min, 65535], never with a suffix. min is 0 where 0
 * means "let the kernel choose" (xtio-server --port), else 1. */
bool xtio_parse_port(const char *text, unsigned min, unsigned *port);

/* Seconds as a finite decimal number, fractions allowed ("0.25", "1e-3"), in [min, max]. */
bool xtio_parse_seconds(const char *text, double min, double max, double *value);

#endif
