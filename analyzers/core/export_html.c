/*
 * The HTML view of export.h: one self-contained page (inline CSS and SVG; no script, no external
 * resource, and a Content-Security-Policy that forbids loading any) with the modes side by side,
 * a CDF per latency with the modes overlaid, the p99 end to end and the handoffs per second of
 * each mode over time, the findings with their evidence, the coverage (a banner when the results
 * are partial), and the per-connection and per-thread tables when asked for.
 *
 * The CDFs are read from the core's histograms at finish. The series over time are built from
 * the handoff records as the trace is fed: per (process, mode), one small histogram and a count
 * per window, so that memory follows the trace's duration, not its events; past MAX_WINDOWS
 * windows the window is doubled (neighbours merged), so that it stays bounded as well.
 */
#include "export_internal.h"
#include "internal.h"
#include "xtio_markup.h"

#include <errno.h>
#include <math.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Windows per series at most: more points than a plot is wide tell nothing more. */
#define MAX_WINDOWS      2000
/* Within 1/16: enough to see a spike, and small (a window may hold a few buckets). */
#define WINDOW_HIST_BITS 3

struct window {
    uint64_t handoffs;
    struct xtio_hist e2e; /* end to end, ns, of the handoffs completed in the window */
};

/* The windows of one (process, mode): windows[i] is window number base + i. */
struct series {
    int64_t vpid;
    int mode;
    int64_t base;
    struct window *windows; /* owned */
    size_t len;
    size_t cap;
};

struct html {
    uint64_t asked_window_ns; /* --window */
    FILE *out;
    uint64_t window_ns; /* asked_window_ns, doubled as long traces need */
    bool has_origin;
    uint64_t origin_ns;    /* window 0 starts there: the end of the first handoff record */
    struct series *series; /* owned */
    size_t nseries;
    size_t cap_series;
};

/* ---- Series over time ---------------------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static int64_t window_index(const struct html *html, uint64_t ts)
{
    if (ts >= html->origin_ns)
        return (int64_t)((ts - html->origin_ns) / html->window_ns);
    return -(int64_t)((html->origin_ns - ts + html->window_ns - 1) / html->window_ns);
}

static void free_windows(struct window *windows, size_t len)
{
    for (size_t i = 0; i < len; i++)
        xtio_hist_fini(&windows[i].e2e);
    free(windows);
}

static struct window *new_windows(size_t len)
{
    struct window *windows = calloc(len ? len : 1, sizeof(*windows));
    for (size_t i = 0; windows && i < len; i++)
        xtio_hist_init(&windows[i].e2e, WINDOW_HIST_BITS);
    return windows;
}

/* Doubles the window of every series, merging neighbours. 0 or -ENOMEM (nothing changed). */
static int coarsen(struct html *html)
{
    struct window **merged = calloc(html->nseries + 1, sizeof(*merged));
    size_t *lens = calloc(html->nseries + 1, sizeof(*lens));
    int status = merged && lens ? 0 : -ENOMEM;
    for (size_t s = 0; status == 0 && s < html->nseries; s++) {
        const struct series *series = &html->series[s];
        if (series->len == 0)
            continue;
        int64_t base = floor_div(series->base, 2);
        lens[s] = (size_t)(floor_div(series->base + (int64_t)series->len - 1, 2) - base + 1);
        merged[s] = new_windows(lens[s]);
        if (!merged[s]) {
            status = -ENOMEM;
            break;
        }
        for (size_t i = 0; i < series->len; i++) {
            struct window *to = &merged[s][floor_div(series->base + (int64_t)i, 2) - base];
            to->handoffs += series->windows[i].handoffs;
            if (xtio_hist_merge(&to->e2e, &series->windows[i].e2e)) {
                status = -ENOMEM;
                break;
            }
        }
    }
    for (size_t s = 0; s < html->nseries; s++) {
        struct series *series = &html->series[s];
        if (status) {
            if (merged && merged[s])
                free_windows(merged[s], lens[s]);
            continue;
        }
        if (series->len == 0)
            continue;
        free_windows(series->windows, series->len);
        series->windows = merged[s];
        series->base = floor_div(series->base, 2);
        series->len = series->cap = lens[s];
    }
    if (status == 0) {
        /* Window k of the old size starts at origin + k * w: keep window 0 at the origin. */
        html->window_ns *= 2;
    }
    free(merged);
    free(lens);
    return status;
}

static const struct series *series_of(const struct html *html, int64_t vpid, int mode)
{
    for (size_t i = 0; i < html->nseries; i++) {
        if (html->series[i].vpid == vpid && html->series[i].mode == mode)
            return &html->series[i];
    }
    return NULL;
}

/* The series of (vpid, mode), added when new; NULL when out of memory. */
static struct series *find_series(struct html *html, int64_t vpid, int mode)
{
    struct series *found = (struct series *)series_of(html, vpid, mode);
    if (found)
        return found;
    if (html->nseries == html->cap_series) {
        size_t cap = html->cap_series ? 2 * html->cap_series : 8;
        struct series *grown = realloc(html->series, cap * sizeof(*grown));
        if (!grown)
            return NULL;
        html->series = grown;
        html->cap_series = cap;
    }
    struct series *series = &html->series[html->nseries++];
    *series = (struct series){.vpid = vpid, .mode = mode};
    return series;
}

/* The window of `series` at `ts`, the series grown (or every window coarsened) to hold it. */
static struct window *window_at(struct html *html, struct series *series, uint64_t ts)
{
    for (;;) {
        int64_t index = window_index(html, ts);
        if (series->len == 0) {
            series->windows = new_windows(1);
            if (!series->windows)
                return NULL;
            series->base = index;
            series->len = series->cap = 1;
            return &series->windows[0];
        }
        int64_t first = index < series->base ? index : series->base;
        int64_t last = series->base + (int64_t)series->len - 1;
        if (index > last)
            last = index;
        if (last - first + 1 > MAX_WINDOWS) {
            if (coarsen(html))
                return NULL;
            continue;
        }
        size_t len = (size_t)(last - first + 1);
        if (first < series->base || len > series->cap) {
            size_t cap = len > 2 * series->cap ? len : 2 * series->cap;
            if (cap > MAX_WINDOWS)
                cap = MAX_WINDOWS;
            struct window *grown = new_windows(cap);
            if (!grown)
                return NULL;
            size_t shift = (size_t)(series->base - first);
            memcpy(grown + shift, series->windows, series->len * sizeof(*grown));
            free(series->windows); /* their histograms moved */
            series->windows = grown;
            series->cap = cap;
            series->base = first;
        }
        if (len > series->len)
            series->len = len;
        return &series->windows[index - series->base];
    }
}

static int on_handoff(void *data, const struct xtio_handoff_record *record)
{
    struct html *html = data;
    uint64_t end = record->flush_ns ? record->flush_ns : record->write_ns;
    if (!html->has_origin) {
        html->has_origin = true;
        html->origin_ns = end;
    }
    struct series *series = find_series(html, record->vpid, record->mode);
    if (!series)
        return -ENOMEM;
    struct window *window = window_at(html, series, end);
    if (!window)
        return -ENOMEM;
    window->handoffs++;
    uint64_t start = record->enqueue_ns;
    if (start && record->flush_ns && record->flush_ns >= start)
        return xtio_hist_record(&window->e2e, record->flush_ns - start);
    return 0;
}

static void put_process(FILE *out, const struct process *process)
{
    char buf[NAME_SIZE + 32];
    xtio__format_process(buf, sizeof(buf), process);
    xtio_markup_put_escaped(out, buf);
}

/* A call site as the text report names it. */
static void put_site(FILE *out, const xtio_analysis *analysis, int64_t vpid, uint64_t site)
{
    char buf[512];
    xtio__format_site(analysis, vpid, site, buf, sizeof(buf));
    xtio_markup_put_escaped(out, buf);
}

static void put_thread(FILE *out, const xtio_analysis *analysis, int64_t vpid, int64_t tid)
{
    char buf[NAME_SIZE + 32];
    xtio__format_thread(buf, sizeof(buf), analysis, vpid, tid);
    xtio_markup_put_escaped(out, buf);
}

static const char style[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em auto;max-width:1100px;color:#222;"
    "background:#fff;padding:0 1em}"
    "h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.8em;border-bottom:1px solid #ccc}"
    "h3{font-size:1.05em}"
    "table{border-collapse:collapse;margin:.5em 0;font-variant-numeric:tabular-nums}"
    "th,td{border:1px solid #ccc;padding:2px 8px;text-align:right}"
    "th{background:#f2f2f2}td.l,th.l{text-align:left}tr.sub td{color:#555}"
    ".banner{padding:.7em 1em;margin:1em 0;border-left:6px solid;font-weight:600}"
    ".banner.partial{background:#fff4d6;border-color:#d08700}"
    ".banner.refused{background:#fde2e2;border-color:#c00000}"
    ".banner.clean{background:#e6f4ea;border-color:#2e7d32;font-weight:normal}"
    "svg.plot{display:block;margin:.5em 0 1.5em;background:#fff}"
    "svg.plot text{font:12px system-ui,sans-serif;fill:#222}"
    "svg.plot .axis line{stroke:#222;stroke-width:1}svg.plot .axis line.grid{stroke:#e4e4e4}"
    "svg.plot .series path.line{fill:none;stroke-width:2}"
    "svg.plot .title{font-weight:600;font-size:14px}"
    "p.note{color:#555;font-size:.92em}";

/* Okabe and Ito's palette, which colour-blind readers tell apart; each series also has its own
 * dash pattern and marker, so that neither hue nor print in grey is needed to tell them. */
static const char *const colours[] = {"#0072b2", "#d55e00", "#009e73", "#cc79a7",
                                      "#e69f00", "#56b4e9", "#000000", "#f0e442"};
static const char *const dashes[] = {NULL, "8 4", "2 3", "10 3 2 3", "4 2"};

/* A series' colour and dash pattern, as attributes of its line. */
static void put_stroke(FILE *out, int style)
{
    fprintf(out, " stroke=\"%s\"", colours[style % 8]);
    if (dashes[style % 5])
        fprintf(out, " stroke-dasharray=\"%s\"", dashes[style % 5]);
}
#define STYLE_COUNT 40 /* distinct (colour, dash, marker) triples before they repeat */

static void put_marker(FILE *out, int style, double x, double y)
{
    const char *colour = colours[style % 8];
    switch (style % 5) {
    case 0:
        fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>", x, y, colour);
        break;
    case 1:
        fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"7\" height=\"7\" fill=\"%s\"/>", x - 3.5,
                y - 3.5, colour);
        break;
    case 2:
        fprintf(out, "<path d=\"M%.1f %.1fl4.5 8h-9z\" fill=\"%s\"/>", x, y - 5, colour);
        break;
    case 3:
        fprintf(out, "<path d=\"M%.1f %.1fl4.5 4.5-4.5 4.5-4.5-4.5z\" fill=\"%s\"/>", x, y - 4.5,
                colour);
        break;
    default:
        fprintf(out,
                "<path d=\"M%.1f %.1fl8 8m0-8l-8 8\" stroke=\"%s\" stroke-width=\"2.5\" "
                "fill=\"none\"/>",
                x - 4, y - 4, colour);
        break;
    }
}

/* ---- Plots --------------------------------------------------------------------------------- */

struct axis {
    const char *label; /* with its unit */
    bool ns;           /* values are nanoseconds: decade ticks read "1 µs", "10 ms" */
    bool log;
    double lo, hi; /* data units; for a log axis, > 0 */
};

struct plot_series {
    char label[128]; /* raw: escaped when written */
    int style;
    size_t len;
    double *x, *y; /* owned; a NaN-free y <= 0 on a log axis breaks the line */
};

#define PLOT_W   960
#define PLOT_H   330
#define MARGIN_L 80
#define MARGIN_R 290 /* the legend */
#define MARGIN_T 34
#define MARGIN_B 52
#define AREA_W   (PLOT_W - MARGIN_L - MARGIN_R)
#define AREA_H   (PLOT_H - MARGIN_T - MARGIN_B)

static double axis_pos(const struct axis *axis, double v, double length)
{
    double lo = axis->lo, hi = axis->hi;
    if (axis->log) {
        lo = log10(lo);
        hi = log10(hi);
        v = log10(v);
    }
    double f = hi > lo ? (v - lo) / (hi - lo) : 0;
    if (f < 0)
        f = 0;
    if (f > 1)
        f = 1;
    return f * length;
}

static double px(const struct axis *x, double v)
{
    return MARGIN_L + axis_pos(x, v, AREA_W);
}
static double py(const struct axis *y, double v)
{
    return MARGIN_T + AREA_H - axis_pos(y, v, AREA_H);
}

/* "1 µs", "100 ms": a power of ten of nanoseconds. */
static void format_decade(char *buf, size_t size, int exponent)
{
    static const char *const units[] = {"ns", "µs", "ms", "s"};
    int unit = exponent / 3;
    if (unit > 3)
        unit = 3;
    snprintf(buf, size, "%.0f %s", pow(10, exponent - 3 * unit), units[unit]);
}

/* A tick's value: 0.25, 40, 1.5k, 2M. */
static void format_value(char *buf, size_t size, double v)
{
    static const char *const suffixes[] = {"", "k", "M", "G", "T"};
    int i = 0;
    while (i < 4 && (v >= 1000 || v <= -1000)) {
        v /= 1000;
        i++;
    }
    snprintf(buf, size, "%g%s", v, suffixes[i]);
}

/* A log axis: its ends moved out to whole decades. */
static void log_extend(struct axis *axis)
{
    if (!(axis->lo > 0))
        axis->lo = 1;
    if (axis->hi < axis->lo)
        axis->hi = axis->lo;
    int lo = 0, hi = 0;
    while (pow(10, lo) > axis->lo)
        lo--;
    while (pow(10, lo + 1) <= axis->lo)
        lo++;
    hi = lo + 1;
    while (pow(10, hi) < axis->hi)
        hi++;
    axis->lo = pow(10, lo);
    axis->hi = pow(10, hi);
}

/* A linear axis from 0: its top moved up to a round step (1, 2 or 5 times a power of ten). */
static double linear_extend(struct axis *axis)
{
    axis->lo = 0;
    if (!(axis->hi > 0))
        axis->hi = 1;
    double raw = axis->hi / 5, step = 1;
    while (step > raw)
        step /= 10;
    while (step * 10 <= raw)
        step *= 10;
    step = raw <= step ? step : raw <= 2 * step ? 2 * step : raw <= 5 * step ? 5 * step : 10 * step;
    double top = step;
    while (top < axis->hi)
        top += step;
    axis->hi = top;
    return step;
}

static void put_tick(FILE *out, bool vertical, double pos, const char *label, bool major)
{
    int length = major ? 6 : 3;
    if (vertical) { /* on the x axis */
        if (major)
            fprintf(out, "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>", pos,
                    MARGIN_T, pos, MARGIN_T + AREA_H);
        fprintf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>", pos, MARGIN_T + AREA_H,
                pos, MARGIN_T + AREA_H + length);
        if (label)
            fprintf(out,
                    "<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>",
                    pos, MARGIN_T + AREA_H + 20, label);
    } else {
        if (major)
            fprintf(out, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>",
                    MARGIN_L, pos, MARGIN_L + AREA_W, pos);
        fprintf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>", MARGIN_L - length, pos,
                MARGIN_L, pos);
        if (label)
            fprintf(out, "<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
                    MARGIN_L - 9, pos + 4, label);
    }
}

static void put_axis(FILE *out, const struct axis *axis, bool is_x, double step)
{
    char label[32];
    fprintf(out, "<g class=\"axis %s\">", is_x ? "x" : "y");
    if (is_x)
        fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", MARGIN_L, MARGIN_T + AREA_H,
                MARGIN_L + AREA_W, MARGIN_T + AREA_H);
    else
        fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", MARGIN_L, MARGIN_T,
                MARGIN_L, MARGIN_T + AREA_H);
    if (axis->log) {
        int lo = 0;
        while (pow(10, lo) < axis->lo * (1 - 1e-9))
            lo++;
        while (pow(10, lo) > axis->lo * (1 + 1e-9))
            lo--;
        for (int e = lo; pow(10, e) <= axis->hi * (1 + 1e-9); e++) {
            double v = pow(10, e);
            if (axis->ns)
                format_decade(label, sizeof(label), e);
            else
                format_value(label, sizeof(label), v);
            double pos = is_x ? px(axis, v) : py(axis, v);
            put_tick(out, is_x, pos, label, true);
            for (int m = 2; m < 10 && v * m < axis->hi; m++)
                put_tick(out, is_x, is_x ? px(axis, v * m) : py(axis, v * m), NULL, false);
        }
    } else {
        for (double v = axis->lo; v <= axis->hi + step * 1e-9; v += step) {
            format_value(label, sizeof(label), v);
            put_tick(out, is_x, is_x ? px(axis, v) : py(axis, v), label, true);
        }
    }
    if (is_x)
        fprintf(out, "<text class=\"axis-label\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">",
                MARGIN_L + AREA_W / 2, PLOT_H - 8);
    else
        fprintf(out,
                "<text class=\"axis-label\" transform=\"translate(18 %d) rotate(-90)\" "
                "text-anchor=\"middle\">",
                MARGIN_T + AREA_H / 2);
    fputs(axis->label, out);
    fputs("</text></g>", out);
}

/* One plot: its axes with ticks and labels, a line per series with its markers, and a legend.
 * The axes' ranges are set here from the data when they are 0. */
static void put_plot(FILE *out, const char *id, const char *title, struct axis *x, struct axis *y,
                     const struct plot_series *series, size_t count)
{
    bool have_x = x->hi > 0, have_y = y->hi > 0, seeded = false;
    for (size_t s = 0; s < count; s++) {
        for (size_t i = 0; i < series[s].len; i++) {
            double vx = series[s].x[i], vy = series[s].y[i];
            if ((x->log && !(vx > 0)) || (y->log && !(vy > 0)))
                continue;
            if (!have_x) {
                x->lo = !seeded || vx < x->lo ? vx : x->lo;
                x->hi = !seeded || vx > x->hi ? vx : x->hi;
            }
            if (!have_y) {
                y->lo = !seeded || vy < y->lo ? vy : y->lo;
                y->hi = !seeded || vy > y->hi ? vy : y->hi;
            }
            seeded = true;
        }
    }
    double xstep = 0, ystep = 0;
    if (x->log)
        log_extend(x);
    else if (!have_x)
        xstep = linear_extend(x);
    else
        xstep = (x->hi - x->lo) / 5;
    if (y->log)
        log_extend(y);
    else if (!have_y)
        ystep = linear_extend(y);
    else
        ystep = (y->hi - y->lo) / 5;

    /* Taller than the plot when the legend needs it. */
    int height = MARGIN_T + 34 + 20 * (int)count;
    height = height > PLOT_H ? height : PLOT_H;
    fprintf(out,
            "<svg class=\"plot\" id=\"%s\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
            "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"%s\">",
            id, PLOT_W, height, PLOT_W, height, title);
    fprintf(out, "<text class=\"title\" x=\"%d\" y=\"20\">%s</text>", MARGIN_L, title);
    put_axis(out, x, true, xstep);
    put_axis(out, y, false, ystep);
    if (count == 0)
        fprintf(out,
                "<text class=\"empty\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">no values in this "
                "trace</text>",
                MARGIN_L + AREA_W / 2, MARGIN_T + AREA_H / 2);
    for (size_t s = 0; s < count; s++) {
        const struct plot_series *p = &series[s];
        fprintf(out, "<g class=\"series\" data-series=\"%zu\"><path class=\"line\"", s);
        put_stroke(out, p->style);
        fputs(" d=\"", out);
        bool pen = false;
        for (size_t i = 0; i < p->len; i++) {
            if ((x->log && !(p->x[i] > 0)) || (y->log && !(p->y[i] > 0))) {
                pen = false;
                continue;
            }
            fprintf(out, "%c%.1f %.1f", pen ? 'L' : 'M', px(x, p->x[i]), py(y, p->y[i]));
            pen = true;
        }
        fputs("\"/>", out);
        /* Markers at a few evenly spaced points, offset per series so that they do not pile. */
        size_t every = p->len > 8 ? p->len / 8 : 1;
        for (size_t i = (every * (size_t)p->style / 5) % every; i < p->len; i += every) {
            if ((x->log && !(p->x[i] > 0)) || (y->log && !(p->y[i] > 0)))
                continue;
            put_marker(out, p->style, px(x, p->x[i]), py(y, p->y[i]));
        }
        fputs("</g>", out);
    }
    /* The legend, to the right of the plot area. */
    int lx = MARGIN_L + AREA_W + 20;
    fprintf(out, "<g class=\"legend\"><text class=\"legend-title\" x=\"%d\" y=\"%d\">legend</text>",
            lx, MARGIN_T + 4);
    for (size_t s = 0; s < count; s++) {
        const struct plot_series *p = &series[s];
        int ly = MARGIN_T + 24 + 20 * (int)s;
        fprintf(out, "<g class=\"legend-item\"><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"", lx,
                ly, lx + 36, ly);
        put_stroke(out, p->style);
        fputs(" stroke-width=\"2\"/>", out);
        put_marker(out, p->style, lx + 18, ly);
        fprintf(out, "<text x=\"%d\" y=\"%d\">", lx + 44, ly + 4);
        xtio_markup_put_escaped(out, p->label);
        fputs("</text></g>", out);
    }
    fputs("</g></svg>\n", out);
}

static void free_plot_series(struct plot_series *series, size_t count)
{
    for (size_t s = 0; series && s < count; s++) {
        free(series[s].x);
        free(series[s].y);
    }
    free(series);
}

/* ---- The report ---------------------------------------------------------------------------- */

static void column_label(char *buf, size_t size, const struct column *column)
{
    if (column->process->name[0])
        snprintf(buf, size, "%s: %s %" PRId64, xtio_schema_mode_label(column->mode),
                 column->process->name, column->process->vpid);
    else
        snprintf(buf, size, "%s: pid %" PRId64, xtio_schema_mode_label(column->mode),
                 column->process->vpid);
}

/* The columns. A trace of several processes is typically one server per mode, each of which also
 * writes a few short replies inline: each process in the mode it was run in, as the text report's
 * "processes side by side". A trace of one process: each mode it wrote or dropped a handoff in. */
static struct column *make_columns(struct process *const *processes, size_t count, size_t *used)
{
    struct column *columns = calloc(count * XTIO_SCHEMA_MODE_COUNT + 1, sizeof(*columns));
    *used = columns ? xtio__primary_columns(processes, count, columns) : 0;
    if (*used >= 2 || !columns)
        return columns;
    *used = 0;
    for (size_t i = 0; i < count; i++) {
        for (int m = 0; m < XTIO_SCHEMA_MODE_COUNT; m++) {
            const struct mode_stats *s = &processes[i]->modes[m];
            if (s->handoffs || s->drops)
                columns[(*used)++] = (struct column){processes[i], m};
        }
    }
    return columns;
}

static void put_stat_cell(FILE *out, const struct xtio_hist *hist, int stat)
{
    char cell[32];
    xtio__format_stat(cell, sizeof(cell), hist, stat);
    fprintf(out, "<td>%s</td>", cell);
}

static void put_modes_table(FILE *out, const xtio_analysis *analysis, const struct column *columns,
                            size_t count)
{
    fputs("<h2 id=\"modes\">Modes side by side</h2>\n", out);
    if (count >= 2 && columns[0].process != columns[1].process)
        fputs("<p class=\"note\">Each process in the mode it was run in (the one with the most "
              "handoffs apart from inline); the text report has every mode of each.</p>\n",
              out);
    if (count == 0) {
        fputs("<p>No handoff was written or dropped in this trace.</p>\n", out);
        return;
    }
    fputs("<table class=\"modes\"><tr><th class=\"l\">process</th><th></th>", out);
    for (size_t c = 0; c < count; c++) {
        fputs("<th>", out);
        put_process(out, columns[c].process);
        fputs("</th>", out);
    }
    fputs("</tr>\n<tr><th class=\"l\">mode</th><th></th>", out);
    for (size_t c = 0; c < count; c++)
        fprintf(out, "<th>%s</th>", xtio_schema_mode_label(columns[c].mode));
    fputs("</tr>\n", out);
    for (int row = 0; row < XTIO__MODE_COUNTS; row++) {
        fprintf(out, "<tr><td class=\"l\" colspan=\"2\">%s</td>", xtio__mode_count_labels[row]);
        for (size_t c = 0; c < count; c++)
            fprintf(out, "<td>%" PRIu64 "</td>",
                    xtio__mode_count(&columns[c].process->modes[columns[c].mode], row));
        fputs("</tr>\n", out);
    }
    for (int metric = 0; metric < XTIO_LATENCY_KIND_COUNT; metric++) {
        for (int stat = 0; stat < PERCENTILE_COUNT + 2; stat++) {
            fprintf(out, "<tr%s><td class=\"l\">", stat ? " class=\"sub\"" : "");
            if (stat == 0) {
                fputs(xtio__latency_label(metric), out);
                fputs(" (µs)", out);
            }
            fprintf(out, "</td><td class=\"l\">%s</td>", xtio__stat_labels[stat]);
            for (size_t c = 0; c < count; c++)
                put_stat_cell(out, &columns[c].process->modes[columns[c].mode].metric[metric],
                              stat);
            fputs("</tr>\n", out);
        }
    }
    static const char *const queue_labels[] = {"queue at enqueue (handoffs)",
                                               "queue at enqueue (bytes)"};
    for (int which = 0; which < 2; which++) {
        for (int stat = 0; stat < 3; stat++) {
            fprintf(out, "<tr%s><td class=\"l\">%s</td><td class=\"l\">%s</td>",
                    stat ? " class=\"sub\"" : "", stat == 0 ? queue_labels[which] : "",
                    xtio__queue_stat_labels[stat]);
            for (size_t c = 0; c < count; c++) {
                char cell[32];
                xtio__format_queue(cell, sizeof(cell), &columns[c].process->modes[columns[c].mode],
                                   which, stat);
                fprintf(out, "<td>%s</td>", cell);
            }
            fputs("</tr>\n", out);
        }
    }
    fputs("<tr><td class=\"l\" colspan=\"2\">findings of the process</td>", out);
    for (size_t c = 0; c < count; c++)
        fprintf(out, "<td>%" PRIu64 "</td>", xtio__process_findings(analysis, columns[c].process));
    fputs("</tr></table>\n", out);
}

/* Permilles at which a CDF is drawn: every one, and the values in between repeat. */
#define CDF_POINTS 1000

static int put_cdfs(FILE *out, const struct column *columns, size_t count)
{
    fprintf(out,
            "<h2 id=\"cdfs\">Latency distributions</h2>\n<p class=\"note\">The fraction of "
            "handoffs whose latency is at most the time on the axis (a CDF), per mode, on a log "
            "scale: a curve to the left is faster, a long flat top is a tail. Read from the same "
            "histograms as the table (within 1/%u).</p>\n",
            HIST_ERROR(HIST_BITS_MODE));
    /* End to end first: what a client of the connection sees. */
    static const int order[XTIO_LATENCY_KIND_COUNT] = {
        XTIO_LATENCY_END_TO_END,       XTIO_LATENCY_QUEUE_WAIT, XTIO_LATENCY_FLUSH,
        XTIO_LATENCY_PRODUCER_BLOCKED, XTIO_LATENCY_WAKE,       XTIO_LATENCY_SPOOL_DELAY,
        XTIO_LATENCY_LOOP_WRITE};
    for (int o = 0; o < XTIO_LATENCY_KIND_COUNT; o++) {
        int metric = order[o];
        struct plot_series *series = calloc(count + 1, sizeof(*series));
        if (!series)
            return -ENOMEM;
        size_t used = 0;
        for (size_t c = 0; c < count; c++) {
            const struct xtio_hist *hist =
                &columns[c].process->modes[columns[c].mode].metric[metric];
            if (hist->count == 0)
                continue;
            struct plot_series *p = &series[used++];
            column_label(p->label, sizeof(p->label), &columns[c]);
            p->style = (int)(c % STYLE_COUNT);
            p->x = calloc(CDF_POINTS + 1, sizeof(double));
            p->y = calloc(CDF_POINTS + 1, sizeof(double));
            if (!p->x || !p->y) {
                free_plot_series(series, used);
                return -ENOMEM;
            }
            p->x[0] = (double)(hist->min ? hist->min : 1);
            p->y[0] = 0;
            p->len = 1;
            for (unsigned permille = 1; permille <= CDF_POINTS; permille++) {
                uint64_t value = xtio_hist_percentile(hist, permille);
                double vx = (double)(value ? value : 1), vy = permille / 1000.0;
                if (p->len > 1 && vx == p->x[p->len - 1]) {
                    p->y[p->len - 1] = vy; /* the same value: one point, at its highest rank */
                } else {
                    p->x[p->len] = vx;
                    p->y[p->len] = vy;
                    p->len++;
                }
            }
        }
        char id[64], title[96];
        const char *name = xtio_latency_kind_name((enum xtio_latency_kind)metric);
        snprintf(id, sizeof(id), "cdf-%s", name);
        snprintf(title, sizeof(title), "%s: CDF per mode", xtio__latency_label(metric));
        struct axis x = {.label = "latency (log scale)", .ns = true, .log = true};
        struct axis y = {.label = "fraction of handoffs ≤ latency", .lo = 0, .hi = 1};
        put_plot(out, id, title, &x, &y, series, used);
        free_plot_series(series, used);
    }
    return 0;
}

static int put_over_time(FILE *out, const struct html *html, const xtio_analysis *analysis,
                         const struct column *columns, size_t count)
{
    uint64_t first_ns = html->origin_ns, last_ns = html->origin_ns;
    xtio_analysis_time_range(analysis, &first_ns, &last_ns);
    double window_s = html->window_ns / 1e9;
    char window[32];
    if (html->window_ns % 1000000 == 0)
        snprintf(window, sizeof(window), "%" PRIu64 " ms", html->window_ns / 1000000);
    else
        snprintf(window, sizeof(window), "%.3f ms", html->window_ns / 1e6);
    fprintf(out,
            "<h2 id=\"over-time\">Over time</h2>\n<p class=\"note\">Per window of <span "
            "class=\"window\">%s</span>, each handoff in the window in which it completed (its "
            "flush, else its write), from the trace's first event: the p99 end to end (a stall "
            "shows as a spike) and the handoffs per second (a stall shows as a dip).",
            window);
    if (html->window_ns != html->asked_window_ns)
        fprintf(out,
                " The window asked for was %.3f ms; it was doubled until the trace fit in "
                "%d windows.",
                html->asked_window_ns / 1e6, MAX_WINDOWS);
    fputs("</p>\n", out);

    for (int which = 0; which < 2; which++) {
        struct plot_series *series = calloc(count + 1, sizeof(*series));
        if (!series)
            return -ENOMEM;
        size_t used = 0;
        for (size_t c = 0; c < count; c++) {
            const struct series *s = series_of(html, columns[c].process->vpid, columns[c].mode);
            if (!s || s->len == 0)
                continue;
            struct plot_series *p = &series[used++];
            column_label(p->label, sizeof(p->label), &columns[c]);
            p->style = (int)(c % STYLE_COUNT);
            p->x = calloc(s->len, sizeof(double));
            p->y = calloc(s->len, sizeof(double));
            if (!p->x || !p->y) {
                free_plot_series(series, used);
                return -ENOMEM;
            }
            for (size_t i = 0; i < s->len; i++) {
                /* The middle of the window, in seconds from the first event. */
                double start = (double)html->origin_ns - (double)first_ns +
                               (double)(s->base + (int64_t)i) * (double)html->window_ns;
                p->x[i] = (start + html->window_ns / 2.0) / 1e9;
                if (p->x[i] < 0)
                    p->x[i] = 0;
                if (which == 0)
                    p->y[i] = (double)xtio_hist_percentile(&s->windows[i].e2e, 990);
                else
                    p->y[i] = s->windows[i].handoffs / window_s;
            }
            p->len = s->len;
        }
        struct axis x = {.label = "time from the trace's first event (s)"};
        struct axis y0 = {.label = "p99 end to end (log scale)", .ns = true, .log = true};
        struct axis y1 = {.label = "handoffs per second"};
        if (which == 0) {
            put_plot(out, "time-p99", "p99 end to end per window", &x, &y0, series, used);
        } else {
            put_plot(out, "time-rate", "handoffs per second, per window", &x, &y1, series, used);
        }
        free_plot_series(series, used);
    }
    return 0;
}

static void put_sample(FILE *out, const xtio_analysis *analysis, const struct process *process,
                       const struct sample *s)
{
    fputs("<tr><td>", out);
    xtio__put_ts(out, s->ts_ns);
    fprintf(out, "</td><td class=\"l\">xtio:%s</td><td>", xtio_schema_events[s->event].name);
    xtio__put_conn(out, s->conn_id);
    fputs("</td><td>", out);
    if (s->has_handoff)
        fprintf(out, "%" PRIu64, s->handoff_id);
    fputs("</td><td>", out);
    if (s->has_seq)
        fprintf(out, "%" PRIu64, s->seq);
    if (s->has_prev_seq)
        fprintf(out, " after %" PRIu64, s->prev_seq);
    fprintf(out, "</td><td class=\"l\">%s</td><td>%" PRIu64 "</td><td class=\"l\">",
            s->mode >= 0 ? xtio_schema_mode_label(s->mode) : "", s->bytes);
    put_thread(out, analysis, process->vpid, s->writer_tid);
    fputs("</td><td class=\"l\">", out);
    put_thread(out, analysis, process->vpid, s->owner_tid);
    fputs("</td><td class=\"l\">", out);
    if (s->event == XTIO_EVENT_IO_WRITE) {
        fprintf(out, "%s at ", xtio_schema_call_labels[s->call]);
        put_site(out, analysis, process->vpid, s->site);
    }
    fputs("</td></tr>\n", out);
}

static void put_findings(FILE *out, const xtio_analysis *analysis, struct process *const *processes,
                         size_t count)
{
    fprintf(out, "<h2 id=\"findings\">Findings: %" PRIu64 "</h2>\n",
            xtio_analysis_findings_total(analysis));
    fputs("<p class=\"note\">The earliest of each kind, with the event that showed it; "
          "docs/analysis.md, \"Findings\", says what each kind means.</p>\n",
          out);
    for (size_t i = 0; i < count; i++) {
        const struct process *process = processes[i];
        fputs("<h3>", out);
        put_process(out, process);
        fprintf(out, ": %" PRIu64 "</h3>\n", xtio__process_findings(analysis, process));
        bool any = false;
        for (int k = 0; k < XTIO_FINDING_KIND_COUNT; k++) {
            const struct finding *finding = &process->findings[k];
            if (!xtio__finding_counts(analysis, (enum xtio_finding_kind)k) || finding->count == 0)
                continue;
            any = true;
            fprintf(out, "<p class=\"finding\" data-kind=\"%s\"><b>",
                    xtio_finding_kind_name((enum xtio_finding_kind)k));
            fputs(xtio__finding_label(k), out);
            fprintf(out, "</b>: %" PRIu64 "</p>\n", finding->count);
            fputs("<table class=\"evidence\"><tr><th>time</th><th class=\"l\">event</th>"
                  "<th>conn</th><th>handoff</th><th>seq</th><th class=\"l\">mode</th>"
                  "<th>bytes</th><th class=\"l\">thread</th><th class=\"l\">owner</th>"
                  "<th class=\"l\">call site</th></tr>\n",
                  out);
            for (unsigned j = 0; j < finding->nsamples; j++)
                put_sample(out, analysis, process, &finding->samples[j]);
            fputs("</table>\n", out);
            if (finding->count > finding->nsamples)
                fprintf(out, "<p class=\"note\">... and %" PRIu64 " more</p>\n",
                        finding->count - finding->nsamples);
        }
        if (!any)
            fputs("<p>None.</p>\n", out);
    }
}

/* What the trace could not show, summed over processes: 0 when the results are whole. */
static void partial_count(struct process *const *processes, size_t count, uint64_t *incomplete,
                          uint64_t *unknown)
{
    *incomplete = *unknown = 0;
    for (size_t i = 0; i < count; i++) {
        const struct xtio_coverage_summary *c = &processes[i]->coverage;
        *incomplete += c->incomplete_writes + c->incomplete_drops + c->incomplete_sync_waits +
                       c->incomplete_in_flight + c->incomplete_unflushed + c->conns_without_open;
        *unknown +=
            c->unknown_writes + c->unknown_drops + c->unknown_sync_waits + c->unknown_in_flight;
    }
}

static void put_banner(FILE *out, const xtio_analysis *analysis, struct process *const *processes,
                       size_t count)
{
    uint64_t incomplete, unknown;
    partial_count(processes, count, &incomplete, &unknown);
    const struct xtio_discard_summary *d = &analysis->discards;
    if (analysis->status) {
        fputs("<div class=\"banner refused\" id=\"banner-refused\" role=\"alert\">Input refused: ",
              out);
        xtio_markup_put_escaped(out, analysis->error);
        fputs(" What follows is what was read before it.</div>\n", out);
    }
    if (d->events || d->unranged || incomplete || unknown) {
        fputs("<div class=\"banner partial\" id=\"banner-partial\" role=\"alert\">Partial "
              "results:",
              out);
        if (d->events || d->unranged)
            fprintf(out,
                    " %" PRIu64 " events were discarded by the tracer (%" PRIu64
                    " discard messages, %" PRIu64
                    " without a time range): counts and latencies miss them;",
                    d->events, d->messages, d->unranged);
        if (incomplete)
            fprintf(out, " %" PRIu64 " incomplete (the trace started or ended mid-run);",
                    incomplete);
        if (unknown)
            fprintf(out,
                    " %" PRIu64 " unknown (their other half may be among the discarded "
                    "events);",
                    unknown);
        fputs(" see <a href=\"#coverage\">Coverage</a>.</div>\n", out);
    } else if (!analysis->status) {
        fputs("<div class=\"banner clean\" id=\"banner-whole\">Whole results: no event was "
              "discarded and every handoff was seen from its enqueue to its end.</div>\n",
              out);
    }
}

/* Schema version 4: work posted to loops, one column per mechanism used. */
static void put_posts(FILE *out, const struct process *process)
{
    int used[XTIO_SCHEMA_MECH_COUNT];
    int count = 0;
    for (int m = 0; m < XTIO_SCHEMA_MECH_COUNT; m++) {
        if (process->mechs[m].posts || process->mechs[m].runs)
            used[count++] = m;
    }
    fputs("<h3>Work posted to loops by ", out);
    put_process(out, process);
    fputs("</h3>\n<table class=\"posts\"><tr><th class=\"l\" colspan=\"2\">mechanism</th>", out);
    for (int c = 0; c < count; c++)
        fprintf(out, "<th>%s</th>", xtio_schema_mech_labels[used[c]]);
    fputs("</tr>\n", out);
    static const char *const labels[] = {"posts", "runs", "coalesced posts", "runs without a post",
                                         "pending at the end"};
    for (int row = 0; row < 5; row++) {
        fprintf(out, "<tr><td class=\"l\" colspan=\"2\">%s</td>", labels[row]);
        for (int c = 0; c < count; c++) {
            const struct mech_stats *m = &process->mechs[used[c]];
            uint64_t values[] = {m->posts, m->runs, m->coalesced, m->runs_without_post, m->pending};
            fprintf(out, "<td>%" PRIu64 "</td>", values[row]);
        }
        fputs("</tr>\n", out);
    }
    for (int stat = 0; stat < PERCENTILE_COUNT + 2; stat++) {
        fprintf(out, "<tr%s><td class=\"l\">%s</td><td class=\"l\">%s</td>",
                stat ? " class=\"sub\"" : "", stat == 0 ? "wait (µs)" : "",
                xtio__stat_labels[stat]);
        for (int c = 0; c < count; c++)
            put_stat_cell(out, &process->mechs[used[c]].wait, stat);
        fputs("</tr>\n", out);
    }
    fputs("</table>\n", out);
}

/* Schema version 4: io_write by class and by thread, and the handovers. */
static int put_writes(FILE *out, const xtio_analysis *analysis, const struct process *process)
{
    static const char *const classes[XTIO_WRITE_CLASS_COUNT] = {
        [XTIO_WRITE_ON_LOOP] = "on loop",
        [XTIO_WRITE_OFF_LOOP] = "off loop (findings)",
        [XTIO_WRITE_HANDOVER] = "handover",
        [XTIO_WRITE_BEFORE_LOOP] = "before the loop",
    };
    size_t count;
    struct writer **writers = xtio__sorted_writers(analysis, process->vpid, &count);
    if (!writers)
        return -ENOMEM;
    fputs("<h3>Writes to connections by ", out);
    put_process(out, process);
    fputs("</h3>\n<table class=\"writes\"><tr><th>tid</th><th class=\"l\">name</th>", out);
    for (int c = 0; c < XTIO_WRITE_CLASS_COUNT; c++)
        fprintf(out, "<th>%s: writes</th><th>bytes</th>", classes[c]);
    fputs("</tr>\n", out);
    const struct write_counts totals = xtio__process_writes(analysis, process->vpid);
    for (size_t i = 0; i <= count; i++) {
        const struct write_counts *w = i < count ? &writers[i]->counts : &totals;
        if (i < count) {
            fprintf(out, "<tr><td>%" PRId64 "</td><td class=\"l\">", writers[i]->tid);
            xtio_markup_put_escaped(out,
                                    xtio__thread_name(analysis, process->vpid, writers[i]->tid));
            fputs("</td>", out);
        } else {
            fputs("<tr><th class=\"l\" colspan=\"2\">all threads</th>", out);
        }
        for (int c = 0; c < XTIO_WRITE_CLASS_COUNT; c++)
            fprintf(out, "<td>%" PRIu64 "</td><td>%" PRIu64 "</td>", w->writes[c], w->bytes[c]);
        fputs("</tr>\n", out);
    }
    free(writers);

    struct handover **handovers = xtio__sorted_handovers(analysis, process->vpid, &count);
    if (!handovers)
        return -ENOMEM;
    if (count) {
        fputs("<p>Handovers: a thread wrote a connection whose loop had stopped watching it (not "
              "findings).</p>\n<table class=\"handovers\"><tr><th>conn</th><th "
              "class=\"l\">writer</th><th class=\"l\">loop thread</th><th>writes</th>"
              "<th>bytes</th><th>first at</th><th class=\"l\">first call site</th></tr>\n",
              out);
    }
    for (size_t i = 0; i < count; i++) {
        const struct handover *h = handovers[i];
        fputs("<tr><td>", out);
        xtio__put_conn(out, h->conn_id);
        fputs("</td><td class=\"l\">", out);
        put_thread(out, analysis, process->vpid, h->writer_tid);
        fputs("</td><td class=\"l\">", out);
        put_thread(out, analysis, process->vpid, h->owner_tid);
        fprintf(out, "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>", h->writes, h->bytes);
        xtio__put_ts(out, h->first_ns);
        fprintf(out, "</td><td class=\"l\">%s at ", xtio_schema_call_labels[h->call]);
        put_site(out, analysis, process->vpid, h->site);
        fputs("</td></tr>\n", out);
    }
    if (count)
        fputs("</table>\n", out);
    free(handovers);
    return 0;
}

static void put_coverage(FILE *out, const xtio_analysis *analysis, struct process *const *processes,
                         size_t count)
{
    fputs("<h2 id=\"coverage\">Coverage</h2>\n<table class=\"coverage\"><tr><th "
          "class=\"l\">process</th><th>schema</th><th>conns without open</th>"
          "<th>incomplete writes</th><th>incomplete drops</th><th>incomplete sync waits</th>"
          "<th>still queued at end</th><th>unflushed at end</th><th>unknown writes</th>"
          "<th>unknown drops</th><th>unknown sync waits</th><th>unknown in flight</th></tr>\n",
          out);
    for (size_t i = 0; i < count; i++) {
        const struct process *p = processes[i];
        const struct xtio_coverage_summary *c = &p->coverage;
        fputs("<tr><td class=\"l\">", out);
        put_process(out, p);
        if (p->schema_checked)
            fprintf(out, "</td><td>%u</td>", p->schema_version);
        else
            fputs("</td><td>not checked</td>", out);
        uint64_t values[] = {c->conns_without_open,   c->incomplete_writes,
                             c->incomplete_drops,     c->incomplete_sync_waits,
                             c->incomplete_in_flight, c->incomplete_unflushed,
                             c->unknown_writes,       c->unknown_drops,
                             c->unknown_sync_waits,   c->unknown_in_flight};
        for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++)
            fprintf(out, "<td>%" PRIu64 "</td>", values[v]);
        fputs("</tr>\n", out);
    }
    fputs("</table>\n", out);
    const struct xtio_discard_summary *d = &analysis->discards;
    fprintf(out,
            "<p>Discarded events: %" PRIu64 " in %" PRIu64 " discard messages, %" PRIu64
            " without a time range.</p>\n",
            d->events, d->messages, d->unranged);
    if (analysis->stream_count == 0)
        return;
    fputs("<table class=\"discards\"><tr><th class=\"l\">stream</th><th>events</th>"
          "<th>messages</th><th>from</th><th>to</th><th>without a range</th></tr>\n",
          out);
    for (size_t i = 0; i < analysis->stream_count; i++) {
        const struct stream_discards *s = &analysis->streams[i];
        fputs("<tr><td class=\"l\">", out);
        xtio_markup_put_escaped(out, s->name);
        fprintf(out, "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>", s->events, s->messages);
        if (s->has_range)
            xtio__put_ts(out, s->begin_ns);
        fputs("</td><td>", out);
        if (s->has_range)
            xtio__put_ts(out, s->end_ns);
        fprintf(out, "</td><td>%" PRIu64 "</td></tr>\n", s->unranged);
    }
    fputs("</table>\n", out);
}

static int put_rows(FILE *out, const xtio_analysis *analysis, const struct process *process,
                    enum xtio__table kind)
{
    static const char *const titles[] = {"Connections", "Loop threads", "Producer threads"};
    static const char *const ids[] = {"connections", "loop-threads", "producer-threads"};
    size_t count;
    struct row **rows = xtio__table_rows(analysis, process->vpid, kind, &count);
    if (!rows)
        return -ENOMEM;
    fprintf(out, "<h3>%s of ", titles[kind]);
    put_process(out, process);
    fprintf(out,
            " (percentiles within 1/%u, µs)</h3>\n<table class=\"%s\"><tr><th>%s</th><th "
            "class=\"l\">%s</th><th>handoffs</th><th>bytes</th><th>records</th><th>queue wait "
            "p99</th><th>e2e p50</th><th>e2e p99</th><th>e2e max</th><th>blocked p99</th>"
            "<th>backpressure waits</th><th>backpressure p99</th></tr>\n",
            HIST_ERROR(HIST_BITS_ROW), ids[kind], kind == XTIO__TABLE_CONNECTIONS ? "conn" : "tid",
            kind == XTIO__TABLE_CONNECTIONS ? "owner" : "name");
    for (size_t i = 0; i < count; i++) {
        const struct row *row = rows[i];
        char cells[XTIO__ROW_CELLS][32];
        uint64_t handoffs = xtio__row_cells(row, cells);
        fputs("<tr><td>", out);
        if (kind == XTIO__TABLE_CONNECTIONS)
            xtio__put_conn(out, row->id);
        else
            fprintf(out, "%" PRIu64, row->id);
        fputs("</td><td class=\"l\">", out);
        if (kind == XTIO__TABLE_CONNECTIONS)
            put_thread(out, analysis, process->vpid, row->owner_tid);
        else
            xtio_markup_put_escaped(out,
                                    xtio__thread_name(analysis, process->vpid, (int64_t)row->id));
        fprintf(out, "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td>", handoffs,
                row->bytes, row->records);
        for (int c = 0; c < XTIO__ROW_CELLS; c++)
            fprintf(out, "<td>%s</td>", cells[c]);
        fputs("</tr>\n", out);
    }
    fputs("</table>\n", out);
    free(rows);
    return 0;
}

static void put_head(FILE *out)
{
    /* No network: everything is inline, and the policy refuses to load anything else (the icon
     * too, which browsers would otherwise ask the origin for). */
    fprintf(out,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "style-src 'unsafe-inline'; img-src data:\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<link rel=\"icon\" href=\"data:,\">\n"
            "<title>xtio analysis report</title>\n<style>%s</style></head>\n<body>\n",
            style);
}

static void put_summary(FILE *out, const xtio_analysis *analysis, struct process *const *processes,
                        size_t count)
{
    uint64_t first_ns = 0, last_ns = 0;
    fputs("<h1>xtio analysis report</h1>\n<p class=\"summary\">", out);
    fprintf(out, "%zu processes, %" PRIu64 " events", count, analysis->events);
    if (xtio_analysis_time_range(analysis, &first_ns, &last_ns)) {
        fputs(", from ", out);
        xtio__put_ts(out, first_ns);
        fputs(" to ", out);
        xtio__put_ts(out, last_ns);
        fprintf(out, " (%.3f s)", (last_ns - first_ns) / 1e9);
    }
    fprintf(out, "; %" PRIu64 " findings; exit code %d.</p>\n",
            analysis->status ? 0 : xtio_analysis_findings_total(analysis),
            xtio_analysis_exit_code(analysis));
    if (count == 0)
        return;
    fputs("<table class=\"processes\"><tr><th class=\"l\">process</th><th>events</th>"
          "<th>loops</th><th>connections</th><th class=\"l\">run in mode</th><th>findings</th>"
          "</tr>\n",
          out);
    for (size_t i = 0; i < count; i++) {
        const struct process *p = processes[i];
        int mode = xtio__primary_mode(p);
        fputs("<tr><td class=\"l\">", out);
        put_process(out, p);
        fprintf(out,
                "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%" PRIu64
                "</td><td class=\"l\">%s</td><td>%" PRIu64 "</td></tr>\n",
                p->events, p->loops, p->conns, mode >= 0 ? xtio_schema_mode_label(mode) : "-",
                xtio__process_findings(analysis, p));
    }
    fputs("</table>\n", out);
}

static int write_page(struct html *html, const xtio_analysis *analysis)
{
    FILE *out = html->out;
    size_t count = 0, ncolumns = 0;
    struct process **processes = xtio__sorted_processes(analysis, &count);
    struct column *columns = processes ? make_columns(processes, count, &ncolumns) : NULL;
    int status = columns ? 0 : -ENOMEM;
    if (status)
        goto end;
    put_head(out);
    put_summary(out, analysis, processes, count);
    put_banner(out, analysis, processes, count);
    fputs("<nav><a href=\"#cdfs\">latency distributions</a> · <a href=\"#over-time\">over "
          "time</a> · <a href=\"#modes\">modes side by side</a> · <a "
          "href=\"#findings\">findings</a> · "
          "<a href=\"#coverage\">coverage</a></nav>\n",
          out);
    /* Pictures first, then the numbers behind them. */
    status = put_cdfs(out, columns, ncolumns);
    if (status == 0)
        status = put_over_time(out, html, analysis, columns, ncolumns);
    if (status)
        goto end;
    put_modes_table(out, analysis, columns, ncolumns);
    for (size_t i = 0; status == 0 && i < count; i++) {
        if (processes[i]->has_posts)
            put_posts(out, processes[i]);
        if (processes[i]->has_writes)
            status = put_writes(out, analysis, processes[i]);
    }
    if (status)
        goto end;
    put_findings(out, analysis, processes, count);
    put_coverage(out, analysis, processes, count);
    /* The tables the analysis kept (its options by_connection and by_thread). */
    bool by_connection = analysis->options.by_connection, by_thread = analysis->options.by_thread;
    if (by_connection || by_thread)
        fputs("<h2 id=\"tables\">Per connection and per thread</h2>\n", out);
    for (size_t i = 0; status == 0 && i < count; i++) {
        if (by_connection)
            status = put_rows(out, analysis, processes[i], XTIO__TABLE_CONNECTIONS);
        if (status == 0 && by_thread)
            status = put_rows(out, analysis, processes[i], XTIO__TABLE_LOOP_THREADS);
        if (status == 0 && by_thread)
            status = put_rows(out, analysis, processes[i], XTIO__TABLE_PRODUCER_THREADS);
    }
    fputs("<p class=\"note\">Made by xtio-analyze; docs/analysis.md says how each number is "
          "measured.</p>\n</body></html>\n",
          out);
end:
    free(columns);
    free(processes);
    if (status == 0 && (fflush(out) != 0 || ferror(out)))
        status = -EIO;
    return status;
}

/* ---- The ops of export_internal.h ---------------------------------------------------------- */

static int create(void **state, const struct xtio_export_options *options, FILE *out)
{
    if (!state || !options || !out || options->window_ns == 0)
        return -EINVAL;
    struct html *html = calloc(1, sizeof(*html));
    if (!html)
        return -ENOMEM;
    html->asked_window_ns = options->window_ns;
    html->out = out;
    html->window_ns = options->window_ns;
    *state = html;
    return 0;
}

static void destroy(void *state)
{
    struct html *html = state;
    if (!html)
        return;
    for (size_t i = 0; i < html->nseries; i++)
        free_windows(html->series[i].windows, html->series[i].len);
    free(html->series);
    free(html);
}

static void observe(struct xtio_analysis_observer *observer)
{
    observer->handoff = on_handoff;
}

static int finish(void *state, const xtio_analysis *analysis)
{
    return write_page(state, analysis);
}

const struct xtio__export_ops xtio__export_html = {create, destroy, observe, finish};
