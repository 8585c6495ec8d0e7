/*
 * Writes to connections of programs that xtio-preload watches (schema version 4: io_write):
 * on-loop writes, off-loop writes (findings, with their evidence), handovers (counted per writer
 * thread and connection, not findings) and writes before the loop started; per thread counts; and
 * the exit code they lead to.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_events.h"

#define CONN  ((1ull << 63) | 3)
#define CONN2 ((1ull << 63) | 4)
#define SITE  0x7f0000001234ull

#define WRITE     XTIO_SCHEMA_CALL_WRITE
#define BEV_WRITE XTIO_SCHEMA_CALL_BUFFEREVENT_WRITE

static struct xtio_write_summary writes_of(const xtio_analysis *a, int64_t tid)
{
    struct xtio_write_summary summary;
    assert_int_equal(xtio_analysis_write_summary(a, PID, tid, &summary), 0);
    return summary;
}

static void each_write_is_told_by_its_writer_owner_and_watch(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_io_write(a, 1000, PID, LOOP, CONN, 10, 0, false, WRITE, SITE);         /* before the loop */
    ev_io_write(a, 2000, PID, LOOP, CONN, 20, LOOP, true, WRITE, SITE);       /* on the loop */
    ev_io_write(a, 3000, PID, WORKER, CONN, 30, LOOP, true, BEV_WRITE, SITE); /* off-loop */
    ev_io_write(a, 4000, PID, WORKER, CONN, 40, LOOP, false, WRITE, SITE);    /* handover */
    ev_io_write(a, 5000, PID, WORKER, CONN, 50, LOOP, false, WRITE, SITE);    /* handover */
    ev_io_write(a, 6000, PID, WORKER2, CONN, 60, 0, false, WRITE, SITE);      /* before the loop */
    ev_io_write(a, 7000, PID, LOOP, CONN, 70, LOOP, false, WRITE, SITE);      /* on the loop */
    assert_int_equal(xtio_analysis_finish(a), 0);

    struct xtio_write_summary all = writes_of(a, -1);
    assert_int_equal(all.writes[XTIO_WRITE_ON_LOOP], 2);
    assert_int_equal(all.bytes[XTIO_WRITE_ON_LOOP], 90);
    assert_int_equal(all.writes[XTIO_WRITE_OFF_LOOP], 1);
    assert_int_equal(all.bytes[XTIO_WRITE_OFF_LOOP], 30);
    assert_int_equal(all.writes[XTIO_WRITE_HANDOVER], 2);
    assert_int_equal(all.bytes[XTIO_WRITE_HANDOVER], 90);
    assert_int_equal(all.writes[XTIO_WRITE_BEFORE_LOOP], 2);
    assert_int_equal(all.bytes[XTIO_WRITE_BEFORE_LOOP], 70);

    struct xtio_write_summary worker = writes_of(a, WORKER);
    assert_int_equal(worker.writes[XTIO_WRITE_OFF_LOOP], 1);
    assert_int_equal(worker.writes[XTIO_WRITE_HANDOVER], 2);
    assert_int_equal(worker.writes[XTIO_WRITE_ON_LOOP], 0);
    assert_int_equal(writes_of(a, WORKER2).bytes[XTIO_WRITE_BEFORE_LOOP], 60);
    assert_int_equal(writes_of(a, LOOP).writes[XTIO_WRITE_ON_LOOP], 2);

    assert_int_equal(findings(a, XTIO_FINDING_OFF_LOOP_WRITE), 1);
    assert_int_equal(xtio_analysis_findings_total(a), 1);
    assert_int_equal(xtio_analysis_exit_code(a), 1);
    xtio_analysis_destroy(a);
}

static void handovers_are_counted_per_writer_and_connection_not_flagged(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_io_write(a, 1000, PID, LOOP, CONN, 5, LOOP, true, WRITE, SITE);
    ev_io_write(a, 2000, PID, WORKER, CONN, 10, LOOP, false, WRITE, SITE);
    ev_io_write(a, 2100, PID, WORKER, CONN, 11, LOOP, false, WRITE, SITE);
    ev_io_write(a, 2200, PID, WORKER2, CONN, 12, LOOP, false, WRITE, SITE);
    ev_io_write(a, 2300, PID, WORKER, CONN2, 13, LOOP, false, WRITE, SITE);
    assert_int_equal(xtio_analysis_finish(a), 0);

    struct xtio_write_summary h;
    assert_int_equal(xtio_analysis_handover_summary(a, PID, WORKER, CONN, &h), 0);
    assert_int_equal(h.writes[XTIO_WRITE_HANDOVER], 2);
    assert_int_equal(h.bytes[XTIO_WRITE_HANDOVER], 21);
    assert_int_equal(xtio_analysis_handover_summary(a, PID, WORKER2, CONN, &h), 0);
    assert_int_equal(h.writes[XTIO_WRITE_HANDOVER], 1);
    assert_int_equal(xtio_analysis_handover_summary(a, PID, WORKER, CONN2, &h), 0);
    assert_int_equal(h.bytes[XTIO_WRITE_HANDOVER], 13);
    assert_int_equal(xtio_analysis_handover_summary(a, PID, LOOP, CONN, &h), -ENOENT);

    assert_int_equal(findings(a, XTIO_FINDING_OFF_LOOP_WRITE), 0);
    assert_int_equal(xtio_analysis_exit_code(a), 0);

    char *text = report(a, XTIO_REPORT_TEXT);
    assert_non_null(strstr(text, "handovers (a thread wrote a connection whose loop had stopped "
                                 "watching it; not findings): 3\n"));
    assert_non_null(strstr(text, "  - conn 0x8000000000000003: writer 1002, loop thread 1001: "
                                 "writes 2, bytes 21"));
    free(text);
    xtio_analysis_destroy(a);
}

/* A write that lands while the loop still watches the socket is off-loop, even if a handover
 * follows a moment later. */
static void a_write_racing_a_handover_is_off_loop(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_io_write(a, 1000, PID, WORKER, CONN, 3, LOOP, true, WRITE, SITE);
    ev_io_write(a, 1001, PID, WORKER, CONN, 4, LOOP, false, WRITE, SITE);
    assert_int_equal(xtio_analysis_finish(a), 0);
    assert_int_equal(findings(a, XTIO_FINDING_OFF_LOOP_WRITE), 1);
    assert_int_equal(writes_of(a, WORKER).writes[XTIO_WRITE_HANDOVER], 1);
    assert_int_equal(xtio_analysis_exit_code(a), 1);
    xtio_analysis_destroy(a);
}

static void an_off_loop_write_carries_its_site_writer_and_owner(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    ev_thread_name(a, 100, PID, LOOP, "mc-worker");
    ev_thread_name(a, 110, PID, WORKER, "mc-logger");
    ev_io_write(a, 1000, PID, WORKER, CONN, 7, LOOP, true, BEV_WRITE, SITE);
    assert_int_equal(xtio_analysis_finish(a), 0);

    char *text = report(a, XTIO_REPORT_TEXT);
    assert_non_null(strstr(text, ": xtio:io_write in pid 1000, conn 0x8000000000000003, 7 bytes; "
                                 "thread 1002 (mc-logger), owner 1001 (mc-worker); "
                                 "bufferevent_write at 0x7f0000001234\n"));
    /* No libxtio handoffs: no empty table of them. */
    assert_null(strstr(text, "handoffs by mode"));
    free(text);
    char *json = report(a, XTIO_REPORT_JSON);
    assert_non_null(strstr(json, "\"conn_id\": \"0x8000000000000003\""));
    assert_non_null(strstr(json, "\"writer_tid\": 1002,\n              \"writer_name\": "
                                 "\"mc-logger\",\n              \"owner_tid\": 1001,\n         "
                                 "     \"owner_name\": \"mc-worker\",\n              \"call\": "
                                 "\"bufferevent_write\",\n              \"site\": {\n         "
                                 "       \"address\": \"0x7f0000001234\",\n                "
                                 "\"module\": null,"));
    assert_non_null(strstr(json, "\"io_writes\": {"));
    free(json);
    xtio_analysis_destroy(a);
}

static void a_call_outside_the_schema_is_refused(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    struct xtio_event event = event_at(XTIO_EVENT_IO_WRITE, 1000, PID, WORKER);
    event.call = -1;
    assert_int_equal(xtio_analysis_feed_event(a, &event), -EPROTO);
    assert_non_null(strstr(xtio_analysis_error(a), "call -1"));
    xtio_analysis_destroy(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_write_is_told_by_its_writer_owner_and_watch),
        cmocka_unit_test(handovers_are_counted_per_writer_and_connection_not_flagged),
        cmocka_unit_test(a_write_racing_a_handover_is_off_loop),
        cmocka_unit_test(an_off_loop_write_carries_its_site_writer_and_owner),
        cmocka_unit_test(a_call_outside_the_schema_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
