/*
 * Input the analysis core refuses, and how: an event without the vtid context, a schema version
 * it does not know, a mode outside the schema, a trace without any xtio event. Each refusal is
 * sticky, explained by xtio_analysis_error() and gives exit code 2. Also the event-name helpers.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_events.h"

static void event_without_vtid_is_refused_with_the_fix(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    struct xtio_event event = event_at(XTIO_EVENT_HANDOFF_WRITE, 1000, PID, LOOP);
    event.has_vtid = false;
    assert_int_equal(xtio_analysis_feed_event(a, &event), -EPROTO);
    assert_string_equal(xtio_analysis_error(a),
                        "the trace lacks the vtid context; record it with: `lttng add-context -u "
                        "-t vtid -t vpid` (before `lttng start`)");
    assert_int_equal(xtio_analysis_exit_code(a), 2);
    xtio_analysis_destroy(a);
}

static void refusal_is_sticky(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    struct xtio_event event = event_at(XTIO_EVENT_CONN_FLUSH, 1000, PID, LOOP);
    event.has_vtid = false;
    assert_int_equal(xtio_analysis_feed_event(a, &event), -EPROTO);
    event.has_vtid = true;
    assert_int_equal(xtio_analysis_feed_event(a, &event), -EPROTO);
    assert_int_equal(xtio_analysis_finish(a), -EPROTO);
    assert_non_null(xtio_analysis_error(a));
    assert_int_equal(xtio_analysis_exit_code(a), 2);
    xtio_analysis_destroy(a);
}

static void refusal_from_the_reader_is_sticky_and_reported(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_loop_start(a, 10, PID, LOOP, 1, "xtio-loop-1");
    xtio_analysis_refuse(a, -EPROTO, "an event the reader cannot decode");
    xtio_analysis_refuse(a, -ENOMEM, "a later refusal");
    struct xtio_event event = event_at(XTIO_EVENT_CONN_FLUSH, 1000, PID, LOOP);
    assert_int_equal(xtio_analysis_feed_event(a, &event), -EPROTO);
    assert_int_equal(xtio_analysis_finish(a), -EPROTO);
    assert_string_equal(xtio_analysis_error(a), "an event the reader cannot decode");
    assert_int_equal(xtio_analysis_exit_code(a), 2);
    char *json = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&json, &size);
    assert_non_null(out);
    assert_int_equal(xtio_analysis_write_report(a, XTIO_REPORT_JSON, out), 0);
    fclose(out);
    assert_non_null(strstr(json, "\"error\": \"an event the reader cannot decode\""));
    free(json);
    xtio_analysis_destroy(a);
}

static void unknown_schema_version_is_refused_naming_versions(void **state)
{
    (void)state;
    const enum xtio_event_kind kinds[] = {XTIO_EVENT_LOOP_START, XTIO_EVENT_CONN_OPEN};
    for (size_t i = 0; i < 2; i++) {
        xtio_analysis *a = new_analysis(false, false, false);
        struct xtio_event event = event_at(kinds[i], 1000, PID, LOOP);
        event.has_schema_version = true;
        event.schema_version = XTIO_SCHEMA_VERSION + 1;
        assert_int_equal(xtio_analysis_feed_event(a, &event), -EPROTONOSUPPORT);
        const char *error = xtio_analysis_error(a);
        assert_non_null(error);
        char found[32], range[32];
        snprintf(found, sizeof(found), "version %d", XTIO_SCHEMA_VERSION + 1);
        snprintf(range, sizeof(range), "%d to %d", XTIO_SCHEMA_VERSION_MIN, XTIO_SCHEMA_VERSION);
        assert_non_null(strstr(error, found));
        assert_non_null(strstr(error, range));
        assert_int_equal(xtio_analysis_exit_code(a), 2);
        xtio_analysis_destroy(a);
    }
}

static void known_schema_version_is_checked(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_loop_start(a, 10, PID, LOOP, 1, "xtio-loop-1");
    ev_conn_open(a, 20, PID, LOOP, 1);
    assert_int_equal(xtio_analysis_finish(a), 0);
    struct xtio_process_summary p;
    assert_int_equal(xtio_analysis_process_summary(a, PID, &p), 0);
    assert_int_equal(p.schema_checked, 2);
    assert_null(xtio_analysis_error(a));
    xtio_analysis_destroy(a);
}

static void mode_outside_the_schema_is_refused(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    struct xtio_event event = event_at(XTIO_EVENT_HANDOFF_WRITE, 1000, PID, LOOP);
    event.mode = 9;
    assert_int_equal(xtio_analysis_feed_event(a, &event), -EPROTO);
    assert_non_null(strstr(xtio_analysis_error(a), "mode 9"));
    xtio_analysis_destroy(a);
}

static void no_xtio_events_is_exit_2_saying_what_to_enable(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    discard(a, 10, true, 0, 100); /* discards alone are not xtio events */
    assert_int_equal(xtio_analysis_finish(a), -ENODATA);
    assert_non_null(strstr(xtio_analysis_error(a), "lttng enable-event -u 'xtio:*'"));
    assert_int_equal(xtio_analysis_exit_code(a), 2);
    xtio_analysis_destroy(a);
}

static void finish_is_once(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_conn_open(a, 20, PID, LOOP, 1);
    assert_int_equal(xtio_analysis_finish(a), 0);
    assert_int_equal(xtio_analysis_finish(a), -EINVAL);
    assert_int_equal(xtio_analysis_feed_event(a, &(struct xtio_event){.has_vtid = true}), -EINVAL);
    xtio_analysis_destroy(a);
}

static void bad_arguments_are_einval(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    assert_int_equal(xtio_analysis_create(NULL, NULL), -EINVAL);
    assert_int_equal(xtio_analysis_feed_event(a, NULL), -EINVAL);
    struct xtio_event event = event_at((enum xtio_event_kind)XTIO_EVENT_KIND_COUNT, 1, PID, LOOP);
    assert_int_equal(xtio_analysis_feed_event(a, &event), -EINVAL);
    /* No report before finish. */
    assert_int_equal(xtio_analysis_write_report(a, XTIO_REPORT_TEXT, stdout), -EINVAL);
    xtio_analysis_destroy(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(event_without_vtid_is_refused_with_the_fix),
        cmocka_unit_test(refusal_is_sticky),
        cmocka_unit_test(refusal_from_the_reader_is_sticky_and_reported),
        cmocka_unit_test(unknown_schema_version_is_refused_naming_versions),
        cmocka_unit_test(known_schema_version_is_checked),
        cmocka_unit_test(mode_outside_the_schema_is_refused),
        cmocka_unit_test(no_xtio_events_is_exit_2_saying_what_to_enable),
        cmocka_unit_test(finish_is_once),
        cmocka_unit_test(bad_arguments_are_einval),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
