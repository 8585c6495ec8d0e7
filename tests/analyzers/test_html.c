/*
 * The HTML report (export.h, format html) on synthetic event streams: its sections and plots are
 * there, every string from the trace is escaped, nothing is loaded from anywhere, the coverage
 * banner shows exactly when the results are partial, and the series over time follow the handoff
 * records (a stall shows as a spike) with the window doubled when a trace is long.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "export.h"
#include "test_export.h"

#define CONN 1

/* A program name and a thread name that would be markup if they were not escaped. */
#define EVIL_PROGRAM "<i>srv</i>&'\""
#define EVIL_THREAD  "loop\"><img src=x>"

/* feed_every_mode() under names that would be markup if they were not escaped. */
static void feed_modes(xtio_analysis *a)
{
    feed_every_mode(a, EVIL_PROGRAM, EVIL_THREAD);
}

/* The page of feed_modes(), with the tables asked for or not (free it). */
static char *page_of_modes(bool tables)
{
    struct exported page;
    export_open(&page, XTIO_EXPORT_HTML, NULL, tables, tables);
    feed_modes(page.analysis);
    assert_int_equal(xtio_analysis_finish(page.analysis), 0);
    return export_close(&page);
}

static size_t occurrences(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void assert_has(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("the page lacks \"%s\"", needle);
}

static void assert_lacks(const char *text, const char *needle)
{
    if (strstr(text, needle))
        fail_msg("the page holds \"%s\"", needle);
}

static const char *const plot_ids[] = {"cdf-queue_wait",       "cdf-end_to_end", "cdf-flush",
                                       "cdf-producer_blocked", "cdf-wake",       "cdf-spool_delay",
                                       "cdf-loop_write",       "time-p99",       "time-rate"};
#define PLOT_COUNT (sizeof(plot_ids) / sizeof(plot_ids[0]))

/* The SVG of plot `id`, up to its end, as a string (free it). */
static char *plot_svg(const char *page, const char *id)
{
    char open[96];
    snprintf(open, sizeof(open), "<svg class=\"plot\" id=\"%s\"", id);
    const char *start = strstr(page, open);
    if (!start)
        fail_msg("plot %s is missing", id);
    const char *end = strstr(start, "</svg>");
    assert_non_null(end);
    return strndup(start, (size_t)(end - start) + strlen("</svg>"));
}

static void sections_plots_and_tables_are_there(void **state)
{
    (void)state;
    char *html = page_of_modes(true);

    assert_true(strncmp(html, "<!DOCTYPE html>", 15) == 0);
    assert_true(strstr(html, "</html>") && strstr(html, "</html>")[8] == '\0');
    assert_has(html, "<h2 id=\"modes\">");
    assert_has(html, "<h2 id=\"cdfs\">");
    assert_has(html, "<h2 id=\"over-time\">");
    assert_has(html, "<h2 id=\"findings\">");
    assert_has(html, "<h2 id=\"coverage\">");
    /* The modes side by side: one column per mode used, each with its label. */
    assert_has(html, "<table class=\"modes\">");
    for (int m = 0; m < XTIO_SCHEMA_MODE_COUNT; m++) {
        char th[64];
        snprintf(th, sizeof(th), "<th>%s</th>", xtio_schema_mode_label(m));
        assert_has(html, th);
    }
    /* Every plot, with both axes, their labels with units, and a legend. */
    for (size_t i = 0; i < PLOT_COUNT; i++) {
        char *svg = plot_svg(html, plot_ids[i]);
        assert_has(svg, "<g class=\"axis x\">");
        assert_has(svg, "<g class=\"axis y\">");
        assert_int_equal(occurrences(svg, "class=\"axis-label\""), 2);
        assert_has(svg, "<g class=\"legend\">");
        free(svg);
    }
    /* A CDF: a series per mode that has the latency, on a log axis with readable ticks. */
    char *svg = plot_svg(html, "cdf-end_to_end");
    assert_int_equal(occurrences(svg, "<g class=\"legend-item\">"), XTIO_SCHEMA_MODE_COUNT);
    assert_int_equal(occurrences(svg, "<path class=\"line\""), XTIO_SCHEMA_MODE_COUNT);
    assert_has(svg, ">1 µs</text>");
    assert_has(svg, ">100 ns</text>");
    free(svg);
    svg = plot_svg(html, "cdf-spool_delay"); /* batch only */
    assert_int_equal(occurrences(svg, "<g class=\"legend-item\">"), 1);
    free(svg);
    /* Series are told apart by more than colour: each has its own dash pattern. */
    svg = plot_svg(html, "cdf-flush");
    assert_int_equal(occurrences(svg, "stroke-dasharray=\"8 4\""), 2); /* line and legend */
    assert_int_equal(occurrences(svg, "stroke-dasharray=\"2 3\""), 2);
    free(svg);
    /* The findings with their evidence: the direct write is off the loop thread. */
    assert_has(html, "data-kind=\"off_loop_write\"");
    assert_has(html, "<table class=\"evidence\">");
    assert_has(html, "xtio:handoff_write");
    /* The tables asked for. */
    assert_has(html, "<table class=\"connections\">");
    assert_has(html, "<table class=\"loop-threads\">");
    assert_has(html, "<table class=\"producer-threads\">");
    free(html);
}

static void strings_from_the_trace_are_escaped_and_nothing_is_loaded(void **state)
{
    (void)state;
    char *html = page_of_modes(true);

    assert_lacks(html, "<script");
    assert_lacks(html, "<img");
    assert_has(html, "&lt;i&gt;srv&lt;/i&gt;&amp;&#39;&quot;");
    assert_lacks(html, "<i>");
    assert_has(html, "loop&quot;&gt;&lt;img src=x&gt;");
    /* Nothing to fetch: a policy that forbids it, no external reference of any kind. */
    assert_has(html, "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                     "style-src 'unsafe-inline'; img-src data:\">");
    assert_lacks(html, "src=\"http");
    assert_lacks(html, "href=\"http");
    assert_lacks(html, "url(");
    assert_lacks(html, "@import");
    /* The only URL is the SVG namespace, once per plot, which is a name, not a load. */
    assert_int_equal(occurrences(html, "http://"), PLOT_COUNT);
    assert_lacks(html, "https:");
    assert_int_equal(occurrences(html, "xmlns=\"http://www.w3.org/2000/svg\""), PLOT_COUNT);
    free(html);
}

static void banner_shows_when_results_are_partial(void **state)
{
    (void)state;
    struct exported page;
    char *html = page_of_modes(false);
    assert_has(html, "id=\"banner-whole\"");
    assert_lacks(html, "id=\"banner-partial\"");
    assert_lacks(html, "id=\"banner-refused\"");
    /* Not asked for: no per-connection or per-thread tables. */
    assert_lacks(html, "<table class=\"connections\">");
    assert_lacks(html, "<table class=\"loop-threads\">");
    free(html);

    /* Discarded events. */
    export_open(&page, XTIO_EXPORT_HTML, NULL, false, false);
    feed_modes(page.analysis);
    discard(page.analysis, 7, true, 2500, 2600);
    assert_int_equal(xtio_analysis_finish(page.analysis), 0);
    html = export_close(&page);
    assert_has(html, "id=\"banner-partial\"");
    assert_has(html, " 7 events were discarded");
    assert_lacks(html, "id=\"banner-whole\"");
    free(html);

    /* A write whose enqueue precedes the trace: incomplete, no discard. */
    export_open(&page, XTIO_EXPORT_HTML, NULL, false, false);
    ev_conn_open(page.analysis, 100, PID, LOOP, CONN);
    ev_write(page.analysis, 200, PID, 9, CONN, 0, ASYNC, 10, 0);
    assert_int_equal(xtio_analysis_finish(page.analysis), 0);
    html = export_close(&page);
    assert_has(html, "id=\"banner-partial\"");
    assert_has(html, "incomplete (the trace started or ended mid-run)");
    free(html);
}

static void refused_input_is_a_banner_with_its_reason_escaped(void **state)
{
    (void)state;
    struct exported page;
    export_open(&page, XTIO_EXPORT_HTML, NULL, false, false);
    feed_modes(page.analysis);
    xtio_analysis_refuse(page.analysis, -EPROTO, "event <x> & 'y' cannot be decoded");
    assert_int_equal(xtio_analysis_finish(page.analysis), -EPROTO);
    char *html = export_close(&page);
    assert_has(html, "id=\"banner-refused\"");
    assert_has(html, "event &lt;x&gt; &amp; &#39;y&#39; cannot be decoded");
    assert_has(html, "</html>");
    free(html);
}

/* One handoff record as the core gives it, straight to the export's observer. */
static void record(const struct xtio_analysis_observer *observer, int mode, uint64_t enqueue_ns,
                   uint64_t write_ns, uint64_t flush_ns)
{
    struct xtio_handoff_record r = {.vpid = PID,
                                    .conn_id = CONN,
                                    .mode = mode,
                                    .bytes = 10,
                                    .records = 1,
                                    .producer_tid = WORKER,
                                    .writer_tid = LOOP,
                                    .enqueue_ns = enqueue_ns,
                                    .write_ns = write_ns,
                                    .flush_ns = flush_ns,
                                    .finding = -1};
    assert_int_equal(observer->handoff(observer->data, &r), 0);
}

/* The numbers of the d="..." of the n-th line of a plot: y pixel of each point. */
static size_t line_points(const char *svg, size_t n, double *ys, size_t cap)
{
    const char *p = svg;
    for (size_t i = 0; i <= n; i++) {
        p = strstr(p, "<path class=\"line\"");
        assert_non_null(p);
        p++;
    }
    p = strstr(p, " d=\"");
    assert_non_null(p);
    p += 4;
    size_t count = 0;
    double x, y;
    int used;
    while ((*p == 'M' || *p == 'L') && sscanf(p + 1, "%lf %lf%n", &x, &y, &used) == 2) {
        if (count < cap)
            ys[count] = y;
        count++;
        p += 1 + used;
    }
    return count;
}

static void a_stall_shows_as_a_spike_over_time(void **state)
{
    (void)state;
    struct exported page;
    struct xtio_export_options options = {.window_ns = 10000000}; /* 10 ms */
    export_open(&page, XTIO_EXPORT_HTML, &options, false, false);
    /* Events so that the process exists and the time range starts at 0. */
    ev_loop_start(page.analysis, 1, PID, LOOP, 1, "loop");
    ev_conn_open(page.analysis, 2, PID, LOOP, CONN);
    const struct xtio_analysis_observer *observer = xtio_export_observer(page.export);
    /* 10 windows of async handoffs taking 10 µs, but in the 6th a stall holds 20 for 5 ms. */
    for (uint64_t w = 0; w < 10; w++) {
        for (uint64_t i = 0; i < 100; i++) {
            uint64_t t = w * 10000000 + 1000 + i * 10000;
            uint64_t took = w == 5 && i >= 40 && i < 60 ? 5000000 : 10000;
            record(observer, ASYNC, t, t + took / 2, t + took);
        }
    }
    /* The process must have written something for its column: one real handoff. */
    ev_enqueue(page.analysis, 100000000, PID, 1, CONN, 0, ASYNC, 10);
    ev_write(page.analysis, 100000100, PID, 1, CONN, 0, ASYNC, 10, 0);
    ev_flush(page.analysis, 100000200, PID, CONN, 10);
    assert_int_equal(xtio_analysis_finish(page.analysis), 0);
    char *html = export_close(&page);
    assert_has(html, "<span class=\"window\">10 ms</span>");
    char *svg = plot_svg(html, "time-p99");
    double ys[64];
    size_t n = line_points(svg, 0, ys, 64);
    assert_true(n >= 10 && n <= 12);
    /* The spike: in SVG y grows downwards, so the highest p99 has the smallest y. */
    size_t top = 0;
    for (size_t i = 0; i < n; i++)
        top = ys[i] < ys[top] ? i : top;
    assert_int_equal(top, 5);
    for (size_t i = 0; i < 5; i++)
        assert_true(ys[i] > ys[5] + 50);
    free(svg);
    free(html);
}

static void a_long_trace_doubles_the_window(void **state)
{
    (void)state;
    struct exported page;
    export_open(&page, XTIO_EXPORT_HTML, NULL, false, false); /* 100 ms */
    ev_loop_start(page.analysis, 1, PID, LOOP, 1, "loop");
    ev_conn_open(page.analysis, 2, PID, LOOP, CONN);
    const struct xtio_analysis_observer *observer = xtio_export_observer(page.export);
    /* 1000 s: 10000 windows of 100 ms, one handoff in each. */
    const uint64_t second = 1000000000;
    for (uint64_t w = 0; w < 10000; w++) {
        uint64_t t = 1000 + w * (second / 10);
        record(observer, SYNC, t, t + 1000, t + 2000);
    }
    /* And one that completes before the first (records come in completion order, not in
     * enqueue order, so an early one may still come late). */
    record(observer, SYNC, 500, 600, 700);
    ev_enqueue(page.analysis, 1000 * second, PID, 1, CONN, 0, SYNC, 10);
    ev_write(page.analysis, 1000 * second + 100, PID, 1, CONN, 0, SYNC, 10, 0);
    ev_flush(page.analysis, 1000 * second + 200, PID, CONN, 10);
    assert_int_equal(xtio_analysis_finish(page.analysis), 0);
    char *html = export_close(&page);
    /* 10000 windows do not fit in 2000: doubled three times, 800 ms, 1250 windows. */
    assert_has(html, "<span class=\"window\">800 ms</span>");
    assert_has(html, "it was doubled");
    char *svg = plot_svg(html, "time-rate");
    double ys[2048];
    size_t n = line_points(svg, 0, ys, 2048);
    assert_true(n >= 1250 && n <= 1252);
    free(svg);
    free(html);
}

/* Schema version 4 (a program that xtio-preload watches): its posts, writes and handovers, its
 * thread names escaped. */
static void schema4_sections_are_there(void **state)
{
    (void)state;
    struct exported page;
    export_open(&page, XTIO_EXPORT_HTML, NULL, false, false);
    xtio_analysis *a = page.analysis;
    const uint64_t conn = (1ull << 63) | 3;
    ev_thread_name(a, 500, PID, WORKER, "w<1>");
    ev_loop_post(a, 900, PID, WORKER, 1, 77, XTIO_SCHEMA_MECH_EVENTFD);
    ev_loop_run(a, 950, PID, LOOP, 1, 77, XTIO_SCHEMA_MECH_EVENTFD);
    ev_io_write(a, 2000, PID, LOOP, conn, 20, LOOP, true, XTIO_SCHEMA_CALL_WRITE, 0);
    ev_io_write(a, 3000, PID, WORKER, conn, 30, LOOP, true, XTIO_SCHEMA_CALL_WRITE, 0);
    ev_io_write(a, 4000, PID, WORKER, conn, 40, LOOP, false, XTIO_SCHEMA_CALL_WRITE, 0);
    assert_int_equal(xtio_analysis_finish(a), 0);
    char *html = export_close(&page);
    assert_has(html, "<table class=\"posts\">");
    assert_has(html, "<table class=\"writes\">");
    assert_has(html, "<table class=\"handovers\">");
    assert_has(html, "data-kind=\"off_loop_write\"");
    assert_has(html, "w&lt;1&gt;");
    assert_lacks(html, "w<1>");
    free(html);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sections_plots_and_tables_are_there),
        cmocka_unit_test(strings_from_the_trace_are_escaped_and_nothing_is_loaded),
        cmocka_unit_test(banner_shows_when_results_are_partial),
        cmocka_unit_test(refused_input_is_a_banner_with_its_reason_escaped),
        cmocka_unit_test(a_stall_shows_as_a_spike_over_time),
        cmocka_unit_test(a_long_trace_doubles_the_window),
        cmocka_unit_test(schema4_sections_are_there),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
