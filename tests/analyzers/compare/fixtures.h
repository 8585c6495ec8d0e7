/*
 * The fixtures of xtio-compare's unit tests: small hand-written reports in this folder, named
 * after what they hold (baseline.json: an inline, an async and a direct server; slower.json: the
 * same, every latency doubled; ...). Include after <cmocka.h>.
 */
#ifndef XTIO_TESTS_ANALYZERS_COMPARE_FIXTURES_H
#define XTIO_TESTS_ANALYZERS_COMPARE_FIXTURES_H

#include "compare.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* Fails the test unless `text` holds `part`. */
static inline void assert_contains(const char *text, const char *part)
{
    if (!strstr(text, part))
        fail_msg("\"%s\" does not contain \"%s\"", text, part);
}

/* ---- Reports made from a fixture ---------------------------------------------------------- */

/* Fixture NAME as JSON, to change before load_json(). */
static inline json_t *fixture_json(const char *name)
{
    json_error_t jerr;
    json_t *root = json_load_file(fixture(name), 0, &jerr);
    if (!root)
        fail_msg("cannot read %s: %s", name, jerr.text);
    return root;
}

/* The latency object KEY (end_to_end_us, ...) of MODE in the process whose primary_mode is
 * PRIMARY. */
static inline json_t *latency_json(json_t *root, const char *primary, const char *mode,
                                   const char *key)
{
    size_t i;
    json_t *process;
    json_array_foreach(json_object_get(root, "processes"), i, process)
    {
        const char *name = json_string_value(json_object_get(process, "primary_mode"));
        if (name && strcmp(name, primary) == 0)
            return json_object_get(json_object_get(json_object_get(process, "modes"), mode), key);
    }
    fail_msg("no %s.%s in the process of primary_mode %s", mode, key, primary);
    return NULL;
}

/* Multiplies every latency statistic of every mode of every process by scale. */
static inline void scale_latencies(json_t *root, double scale)
{
    static const char *const stats[] = {"p50", "p90", "p99", "p99_9", "max"};
    size_t i;
    json_t *process;
    json_array_foreach(json_object_get(root, "processes"), i, process)
    {
        const char *mode_name;
        json_t *mode;
        json_object_foreach(json_object_get(process, "modes"), mode_name, mode)
        {
            const char *key;
            json_t *latency;
            json_object_foreach(mode, key, latency)
            {
                for (size_t s = 0; json_is_object(latency) && s < 5; s++) {
                    json_t *value = json_object_get(latency, stats[s]);
                    if (json_is_number(value))
                        json_real_set(value, json_number_value(value) * scale);
                }
            }
        }
    }
}

/* Timings as xtio-reference writes them, every statistic of each equal to its argument. */
static inline json_t *timings_json(double wakeup_us, double loopback_us, double cpu_us)
{
    const double values[] = {wakeup_us, loopback_us, cpu_us};
    static const char *const keys[] = {"wakeup_us", "loopback_us", "cpu_us"};
    json_t *timings = json_object();
    for (size_t k = 0; k < 3; k++)
        json_object_set_new(timings, keys[k],
                            json_pack("{s:i, s:f, s:f, s:f, s:f, s:f}", "count", 100, "p50",
                                      values[k], "p90", values[k], "p99", values[k], "p99_9",
                                      values[k], "max", values[k]));
    return timings;
}

/* Gives root the `reference` of `xtio-analyze --reference`: the whole run's timings. */
static inline json_t *set_reference(json_t *root, double wakeup_us, double loopback_us,
                                    double cpu_us)
{
    json_t *reference = timings_json(wakeup_us, loopback_us, cpu_us);
    json_object_set_new(reference, "format", json_string("xtio-reference"));
    json_object_set_new(root, "reference", reference);
    return reference;
}

/* workload.json (reference.cpu_us of 10 us; inline, async and direct at 300, 450 and 700 ns of
 * server CPU per record, 300, 300 and 350 of them in their event loops) with every figure of its
 * workload times `scale`, async's times `async_scale` more, and every timing of its reference
 * times `machine`. */
static inline json_t *workload_json(double scale, double async_scale, double machine)
{
    static const char *const timings[] = {"wakeup_us", "loopback_us", "cpu_us"};
    static const char *const stats[] = {"p50", "p90", "p99", "p99_9", "max"};
    json_t *root = fixture_json("workload.json");
    json_t *reference = json_object_get(root, "reference");
    for (size_t t = 0; t < 3; t++) {
        for (size_t s = 0; s < 5; s++) {
            json_t *value = json_object_get(json_object_get(reference, timings[t]), stats[s]);
            json_real_set(value, json_number_value(value) * machine);
        }
    }
    const char *mode_name;
    json_t *mode;
    json_object_foreach(json_object_get(json_object_get(reference, "workload"), "modes"), mode_name,
                        mode)
    {
        double factor = scale * (strcmp(mode_name, "async") == 0 ? async_scale : 1.0);
        static const char *const figures[] = {"server_cpu_us", "server_cpu_ns_per_record",
                                              "loop_cpu_us", "loop_cpu_ns_per_record"};
        for (size_t f = 0; f < 4; f++) {
            json_t *value = json_object_get(mode, figures[f]);
            json_real_set(value, json_number_value(value) * factor);
        }
    }
    return root;
}

/* root (consumed) written to a temporary file and loaded as a report. */
static inline xtio_compare_report *load_json(json_t *root)
{
    char path[] = "/tmp/xtio-compare-test-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || json_dumpfd(root, fd, JSON_REAL_PRECISION(17)) != 0)
        fail_msg("cannot write a report to %s", path);
    close(fd);
    json_decref(root);
    struct xtio_compare_error error;
    xtio_compare_report *report = NULL;
    int status = xtio_compare_report_load(path, &report, &error);
    unlink(path);
    if (status != 0)
        fail_msg("cannot load the report made: %s", error.message);
    return report;
}

/* A comparison as the tests make it: its result, or its status and why it failed. The tests
 * include cmocka before this header. */
struct run {
    struct xtio_compare_result result;
    struct xtio_compare_error error;
    int status;
};

/* The row of `metric`; fails the test when there is none. */
static inline const struct xtio_compare_row *row(const struct run *run, const char *metric)
{
    for (size_t i = 0; i < run->result.row_count; i++) {
        if (strcmp(run->result.rows[i].metric, metric) == 0)
            return &run->result.rows[i];
    }
    fail_msg("no row %s", metric);
    return NULL;
}

static inline bool has_row(const struct run *run, const char *metric)
{
    for (size_t i = 0; i < run->result.row_count; i++) {
        if (strcmp(run->result.rows[i].metric, metric) == 0)
            return true;
    }
    return false;
}

/* The findings check of `kind` for the processes of primary mode `group`; fails the test when
 * there is none. */
static inline const struct xtio_compare_finding *finding(const struct run *run, const char *group,
                                                         const char *kind)
{
    for (size_t i = 0; i < run->result.finding_count; i++) {
        const struct xtio_compare_finding *f = &run->result.findings[i];
        if (strcmp(f->group, group) == 0 && strcmp(f->kind, kind) == 0)
            return f;
    }
    fail_msg("no findings check %s %s", group, kind);
    return NULL;
}

#endif
