/*
 * The fixtures of xtio-compare's unit tests: small hand-written reports in this folder, named
 * after what they hold (baseline.json: an inline, an async and a direct server; slower.json: the
 * same, every latency doubled; ...). Include after <cmocka.h>.
 */
#ifndef XTIO_TESTS_ANALYZERS_COMPARE_FIXTURES_H
#define XTIO_TESTS_ANALYZERS_COMPARE_FIXTURES_H

#include "compare.h"

#include <stdio.h>

/* The path of fixture NAME, in a static buffer. */
static inline const char *fixture(const char *name)
{
    static char path[4096];
    snprintf(path, sizeof(path), "%s/%s", XTIO_COMPARE_FIXTURES, name);
    return path;
}

static inline xtio_compare_report *load(const char *name)
{
    struct xtio_compare_error error;
    xtio_compare_report *report = NULL;
    if (xtio_compare_report_load(fixture(name), &report, &error) != 0)
        fail_msg("cannot load %s: %s", name, error.message);
    return report;
}

#endif
