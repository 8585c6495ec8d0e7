/*
 * What the JSON checkers of the analyzers' end-to-end tests share (e2e_check_report.c,
 * perfetto_check.c, each a program of its own that includes this once): problems told on stderr
 * under the checker's name and counted, and a JSON file loaded, or exit 2.
 */
#ifndef XTIO_CHECK_LIB_H
#define XTIO_CHECK_LIB_H

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* The checker's name; defined by it. */
extern const char check_name[];

static int problems;

static void problem(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void problem(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", check_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    problems++;
}

static json_t *load(const char *path)
{
    json_error_t error;
    json_t *root = json_load_file(path, 0, &error);
    if (!root) {
        fprintf(stderr, "%s: %s is not JSON: %s (line %d)\n", check_name, path, error.text,
                error.line);
        exit(2);
    }
    return root;
}

#endif
