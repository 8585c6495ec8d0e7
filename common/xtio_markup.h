/*
 * xtio_markup: text put into XML or HTML, one escaping for both (xtio-compare's JUnit file, the
 * analysis core's HTML report), so that a name from a trace or a report cannot end an attribute
 * or open a tag.
 */
#ifndef XTIO_MARKUP_H
#define XTIO_MARKUP_H

#include <stdio.h>

/* Writes text as XML 1.0 and HTML text or attribute content: & < > " ' as references, tab and
 * newline as character references, and other control characters (which XML 1.0 does not allow,
 * even escaped) as '?'. NULL writes nothing. */
void xtio_markup_put_escaped(FILE *out, const char *text);

#endif
