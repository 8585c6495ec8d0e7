/*
 * The RESP2 request parser: its input buffer, the incremental multibulk/inline state machine and
 * the sticky protocol error (contract in resp_parser.h).
 *
 * Positions are kept across calls so that every byte is examined a bounded number of times
 * however the input is split: a line's terminator is searched for from where the last search
 * stopped, and a bulk's data is only waited for, never rescanned. Arguments are recorded as
 * offsets from the start of their request, because feed() may move the buffer while a request is
 * half parsed; they become pointers only when the request is returned.
 */
#include "resp_parser.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERR_MULTIBULK_LEN   "Protocol error: invalid multibulk length"
#define ERR_BULK_LEN        "Protocol error: invalid bulk length"
#define ERR_INLINE_TOO_BIG  "Protocol error: too big inline request"
#define ERR_MBULK_COUNT_BIG "Protocol error: too big mbulk count string"
#define ERR_BULK_COUNT_BIG  "Protocol error: too big bulk count string"
#define ERR_UNBALANCED      "Protocol error: unbalanced quotes in request"
#define ERR_QUERY_BUFFER    "Protocol error: query buffer limit exceeded"

/* The first allocation of the buffer; a server read is typically 16 KiB. */
#define BUF_INITIAL_CAP  ((size_t)16 * 1024)
/* A drained parser keeps at most this much buffer, so an idle connection that once sent a big
 * value does not pin it. */
#define BUF_IDLE_KEEP    ((size_t)1024 * 1024)
/* Likewise for the argument arrays, in entries. */
#define ARGS_IDLE_KEEP   ((size_t)1024)
#define ARGS_INITIAL_CAP ((size_t)8)

enum parse_state {
    ST_REQUEST,   /* at the first byte of a request: its type is not known yet */
    ST_INLINE,    /* waiting for the '\n' of an inline line */
    ST_COUNT,     /* waiting for the "*N\r\n" line */
    ST_BULK_LEN,  /* waiting for a "$N\r\n" line */
    ST_BULK_DATA, /* waiting for bulk_len bytes plus two */
};

/* What one step of the state machine achieved. */
enum step {
    STEP_AGAIN,   /* input consumed, keep going */
    STEP_REQUEST, /* p->argc arguments make a complete request */
    STEP_NEED_MORE,
    STEP_ERROR,
    STEP_NOMEM,
};

struct xtio_resp_parser {
    struct xtio_resp_limits limits;

    char *buf; /* owned */
    size_t cap;
    size_t used;
    size_t start; /* first byte of the request being parsed; everything before is consumed */
    size_t pos;   /* next byte to parse */
    size_t scan;  /* how far the pending line's terminator has been searched for */

    enum parse_state state;
    size_t mb_count; /* arguments announced by the request's "*N" */
    size_t bulk_len; /* length announced by the current "$N" */

    /* The current request's arguments, arg_cap entries each (all owned). */
    size_t argc;
    size_t arg_cap;
    size_t *arg_off; /* from `start`, which stays put while the buffer may move */
    size_t *arg_len;
    const char **argv; /* filled from arg_off only when the request is returned */

    bool failed;
    char errstr[128];
};

void xtio_resp_limits_init(struct xtio_resp_limits *limits)
{
    limits->max_bulk_len = XTIO_RESP_DEFAULT_MAX_BULK_LEN;
    limits->max_multibulk_len = XTIO_RESP_DEFAULT_MAX_MULTIBULK_LEN;
    limits->max_inline_len = XTIO_RESP_DEFAULT_MAX_INLINE_LEN;
    limits->max_query_buffer = XTIO_RESP_DEFAULT_MAX_QUERY_BUFFER;
}

enum xtio_resp_status xtio_resp_parser_create(xtio_resp_parser **parser,
                                              const struct xtio_resp_limits *limits)
{
    xtio_resp_parser *p = calloc(1, sizeof(*p));

    *parser = NULL;
    if (p == NULL)
        return XTIO_RESP_NOMEM;
    if (limits != NULL)
        p->limits = *limits;
    else
        xtio_resp_limits_init(&p->limits);
    p->state = ST_REQUEST;
    *parser = p;
    return XTIO_RESP_OK;
}

void xtio_resp_parser_destroy(xtio_resp_parser *parser)
{
    if (parser == NULL)
        return;
    free(parser->buf);
    free(parser->arg_off);
    free(parser->arg_len);
    free(parser->argv);
    free(parser);
}

const char *xtio_resp_parser_error(const xtio_resp_parser *parser)
{
    return parser->failed ? parser->errstr : NULL;
}

static enum step fail(xtio_resp_parser *p, const char *msg)
{
    p->failed = true;
    snprintf(p->errstr, sizeof(p->errstr), "%s", msg);
    return STEP_ERROR;
}

static enum step fail_expected_dollar(xtio_resp_parser *p, char got)
{
    /* Redis turns CR and LF into spaces so the error reply stays one line; a NUL would end the
     * C string early, so it gets the same treatment. */
    if (got == '\r' || got == '\n' || got == '\0')
        got = ' ';
    p->failed = true;
    snprintf(p->errstr, sizeof(p->errstr), "Protocol error: expected '$', got '%c'", got);
    return STEP_ERROR;
}

/* Accepts what Redis's string2ll accepts, and only that: an optional '-', then digits without a
 * leading zero (except "0" itself), within the range of long long. */
static bool parse_length(const char *s, size_t n, long long *out)
{
    bool neg = false;
    size_t i = 0;
    unsigned long long v = 0;
    unsigned long long limit;

    if (n == 1 && s[0] == '0') {
        *out = 0;
        return true;
    }
    if (n > 0 && s[0] == '-') {
        neg = true;
        i = 1;
    }
    if (i == n || s[i] < '1' || s[i] > '9')
        return false;
    limit = neg ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)LLONG_MAX;
    for (; i < n; i++) {
        unsigned d;

        if (s[i] < '0' || s[i] > '9')
            return false;
        d = (unsigned)(s[i] - '0');
        if (v > (limit - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (!neg)
        *out = (long long)v;
    else if (v == (unsigned long long)LLONG_MAX + 1)
        *out = LLONG_MIN;
    else
        *out = -(long long)v;
    return true;
}

/* Returns the index of the first `c` of the line starting at p->pos, or SIZE_MAX when it has not
 * arrived. The search resumes at p->scan and never looks past max_inline_len + 1 bytes, so a
 * line fed byte by byte costs linear time and *too_long is set exactly when the line is known to
 * exceed the limit, wherever the input was split. */
static size_t find_line_end(xtio_resp_parser *p, char c, bool *too_long)
{
    size_t avail = p->used - p->pos;
    size_t window = avail > p->limits.max_inline_len ? p->limits.max_inline_len + 1 : avail;
    size_t end = p->pos + window;
    size_t from = p->scan > p->pos ? p->scan : p->pos;
    const char *hit = NULL;

    *too_long = false;
    if (from < end)
        hit = memchr(p->buf + from, c, end - from);
    if (hit != NULL) {
        p->scan = (size_t)(hit - p->buf);
        return p->scan;
    }
    p->scan = end;
    *too_long = avail > p->limits.max_inline_len;
    return SIZE_MAX;
}

static void consume_to(xtio_resp_parser *p, size_t pos)
{
    p->pos = pos;
    p->scan = pos;
}

/* Makes room for `n` arguments. Grows geometrically but never past what the request can use, so
 * a bare "*1048576\r\n" costs no memory until its arguments arrive. */
static bool reserve_args(xtio_resp_parser *p, size_t n, size_t most)
{
    size_t cap;
    size_t *off;
    size_t *len;
    const char **argv;

    if (n <= p->arg_cap)
        return true;
    cap = p->arg_cap ? p->arg_cap * 2 : ARGS_INITIAL_CAP;
    if (cap > most)
        cap = most;
    if (cap < n)
        cap = n;
    if (cap > SIZE_MAX / sizeof(*off))
        return false;
    /* Each array is replaced only once all three are allocated, so a failure changes nothing. */
    off = malloc(cap * sizeof(*off));
    len = malloc(cap * sizeof(*len));
    argv = malloc(cap * sizeof(*argv));
    if (off == NULL || len == NULL || argv == NULL) {
        free(off);
        free(len);
        free(argv);
        return false;
    }
    if (p->argc > 0) {
        memcpy(off, p->arg_off, p->argc * sizeof(*off));
        memcpy(len, p->arg_len, p->argc * sizeof(*len));
    }
    free(p->arg_off);
    free(p->arg_len);
    free(p->argv);
    p->arg_off = off;
    p->arg_len = len;
    p->argv = argv;
    p->arg_cap = cap;
    return true;
}

static bool is_inline_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Splits an inline line into arguments with the rules of Redis's sdssplitargs: blanks separate,
 * "double quotes" take \xHH, \n, \r, \t, \b, \a and \<any> escapes, 'single quotes' take \', and a
 * closing quote must be followed by a blank or the end of the line. Returns false on unbalanced
 * quotes. With off == NULL it only counts into *argc and leaves the line alone; otherwise it
 * decodes every argument in place (decoding never lengthens one, so writes stay behind reads),
 * NUL-terminates it and records it relative to `base`. The byte at line[len] must be writable. */
static bool split_inline(char *line, size_t len, size_t base, size_t *argc, size_t *off,
                         size_t *arglen)
{
    size_t r = 0;
    size_t n = 0;

    for (;;) {
        enum { BARE, DOUBLE, SINGLE } quote = BARE;
        size_t w;
        size_t first;
        bool done = false;

        while (r < len && is_inline_space(line[r]))
            r++;
        if (r == len)
            break;
        first = w = r;
        while (!done) {
            char c;

            if (r == len) {
                if (quote != BARE)
                    return false;
                break;
            }
            c = line[r];
            if (quote == DOUBLE) {
                if (c == '\\' && r + 3 < len && line[r + 1] == 'x' && hex_value(line[r + 2]) >= 0 &&
                    hex_value(line[r + 3]) >= 0) {
                    c = (char)(hex_value(line[r + 2]) * 16 + hex_value(line[r + 3]));
                    r += 4;
                } else if (c == '\\' && r + 1 < len) {
                    switch (line[r + 1]) {
                    case 'n':
                        c = '\n';
                        break;
                    case 'r':
                        c = '\r';
                        break;
                    case 't':
                        c = '\t';
                        break;
                    case 'b':
                        c = '\b';
                        break;
                    case 'a':
                        c = '\a';
                        break;
                    default:
                        c = line[r + 1];
                        break;
                    }
                    r += 2;
                } else if (c == '"') {
                    if (r + 1 < len && !is_inline_space(line[r + 1]))
                        return false;
                    r++;
                    done = true;
                    continue;
                } else {
                    r++;
                }
            } else if (quote == SINGLE) {
                if (c == '\\' && r + 1 < len && line[r + 1] == '\'') {
                    c = '\'';
                    r += 2;
                } else if (c == '\'') {
                    if (r + 1 < len && !is_inline_space(line[r + 1]))
                        return false;
                    r++;
                    done = true;
                    continue;
                } else {
                    r++;
                }
            } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                /* Only these four end a bare word; \v and \f stay inside it, as in Redis. */
                r++;
                done = true;
                continue;
            } else if (c == '"' || c == '\'') {
                quote = c == '"' ? DOUBLE : SINGLE;
                r++;
                continue;
            } else {
                r++;
            }
            if (off != NULL)
                line[w] = c;
            w++;
        }
        if (off != NULL) {
            line[w] = '\0';
            off[n] = base + first;
            arglen[n] = w - first;
        }
        n++;
    }
    *argc = n;
    return true;
}

static enum step step_inline(xtio_resp_parser *p)
{
    bool too_long;
    size_t nl = find_line_end(p, '\n', &too_long);
    size_t len;
    size_t argc;
    const char *nul;

    if (nl == SIZE_MAX)
        return too_long ? fail(p, ERR_INLINE_TOO_BIG) : STEP_NEED_MORE;
    len = nl - p->pos;
    if (len > 0 && p->buf[nl - 1] == '\r')
        len--;
    /* Redis splits the line as a C string, so a NUL ends it. */
    nul = memchr(p->buf + p->pos, '\0', len);
    if (nul != NULL)
        len = (size_t)(nul - (p->buf + p->pos));
    /* Counting first leaves the line intact if the argument arrays cannot grow. */
    if (!split_inline(p->buf + p->pos, len, 0, &argc, NULL, NULL))
        return fail(p, ERR_UNBALANCED);
    if (argc == 0) {
        consume_to(p, nl + 1);
        p->start = p->pos;
        p->state = ST_REQUEST;
        return STEP_AGAIN;
    }
    if (!reserve_args(p, argc, argc))
        return STEP_NOMEM;
    split_inline(p->buf + p->pos, len, p->pos - p->start, &p->argc, p->arg_off, p->arg_len);
    consume_to(p, nl + 1);
    return STEP_REQUEST;
}

/* Finds the "\r\n" ending a "*N" or "$N" line; the byte after the '\r' is not checked, as in
 * Redis. */
static enum step find_count_line(xtio_resp_parser *p, const char *too_big, size_t *cr)
{
    bool too_long;

    *cr = find_line_end(p, '\r', &too_long);
    if (*cr == SIZE_MAX)
        return too_long ? fail(p, too_big) : STEP_NEED_MORE;
    if (*cr + 1 >= p->used)
        return STEP_NEED_MORE;
    return STEP_AGAIN;
}

static enum step step_count(xtio_resp_parser *p)
{
    size_t cr;
    long long n;
    enum step st = find_count_line(p, ERR_MBULK_COUNT_BIG, &cr);

    if (st != STEP_AGAIN)
        return st;
    if (!parse_length(p->buf + p->pos + 1, cr - p->pos - 1, &n) ||
        (n > 0 && (unsigned long long)n > p->limits.max_multibulk_len))
        return fail(p, ERR_MULTIBULK_LEN);
    consume_to(p, cr + 2);
    if (n <= 0) {
        p->start = p->pos;
        p->state = ST_REQUEST;
        return STEP_AGAIN;
    }
    p->mb_count = (size_t)n;
    p->state = ST_BULK_LEN;
    return STEP_AGAIN;
}

static enum step step_bulk_len(xtio_resp_parser *p)
{
    size_t cr;
    long long n;
    enum step st = find_count_line(p, ERR_BULK_COUNT_BIG, &cr);

    if (st != STEP_AGAIN)
        return st;
    if (p->buf[p->pos] != '$')
        return fail_expected_dollar(p, p->buf[p->pos]);
    /* SIZE_MAX - 2 keeps bulk_len + 2 representable where size_t is narrower than long long. */
    if (!parse_length(p->buf + p->pos + 1, cr - p->pos - 1, &n) || n < 0 ||
        (unsigned long long)n > p->limits.max_bulk_len || (unsigned long long)n > SIZE_MAX - 2)
        return fail(p, ERR_BULK_LEN);
    consume_to(p, cr + 2);
    p->bulk_len = (size_t)n;
    p->state = ST_BULK_DATA;
    return STEP_AGAIN;
}

static enum step step_bulk_data(xtio_resp_parser *p)
{
    if (p->used - p->pos < p->bulk_len + 2)
        return STEP_NEED_MORE;
    if (!reserve_args(p, p->argc + 1, p->mb_count))
        return STEP_NOMEM;
    p->arg_off[p->argc] = p->pos - p->start;
    p->arg_len[p->argc] = p->bulk_len;
    p->argc++;
    /* The '\r' after the data is consumed, so it can hold the terminator. */
    p->buf[p->pos + p->bulk_len] = '\0';
    consume_to(p, p->pos + p->bulk_len + 2);
    if (p->argc == p->mb_count)
        return STEP_REQUEST;
    p->state = ST_BULK_LEN;
    return STEP_AGAIN;
}

/* Called between requests with nothing left to parse: forgets the consumed bytes for free, and
 * gives back memory that only a past request needed. */
static void reset_drained(xtio_resp_parser *p)
{
    p->start = p->pos = p->scan = p->used = 0;
    if (p->cap > BUF_IDLE_KEEP) {
        free(p->buf);
        p->buf = NULL;
        p->cap = 0;
    }
    if (p->arg_cap > ARGS_IDLE_KEEP) {
        free(p->arg_off);
        free(p->arg_len);
        free(p->argv);
        p->arg_off = p->arg_len = NULL;
        p->argv = NULL;
        p->arg_cap = 0;
    }
}

enum xtio_resp_status xtio_resp_parser_next(xtio_resp_parser *p, struct xtio_resp_request *request)
{
    if (p->failed)
        return XTIO_RESP_PROTO_ERROR;
    for (;;) {
        enum step st = STEP_AGAIN;

        switch (p->state) {
        case ST_REQUEST:
            if (p->pos == p->used) {
                reset_drained(p);
                return XTIO_RESP_NEED_MORE;
            }
            p->state = p->buf[p->pos] == '*' ? ST_COUNT : ST_INLINE;
            p->argc = 0;
            break;
        case ST_INLINE:
            st = step_inline(p);
            break;
        case ST_COUNT:
            st = step_count(p);
            break;
        case ST_BULK_LEN:
            st = step_bulk_len(p);
            break;
        case ST_BULK_DATA:
            st = step_bulk_data(p);
            break;
        }
        switch (st) {
        case STEP_AGAIN:
            break;
        case STEP_REQUEST:
            for (size_t i = 0; i < p->argc; i++)
                p->argv[i] = p->buf + p->start + p->arg_off[i];
            request->argc = p->argc;
            request->argv = p->argv;
            request->argv_len = p->arg_len;
            p->start = p->pos;
            p->state = ST_REQUEST;
            return XTIO_RESP_OK;
        case STEP_NEED_MORE:
            return XTIO_RESP_NEED_MORE;
        case STEP_ERROR:
            return XTIO_RESP_PROTO_ERROR;
        case STEP_NOMEM:
            return XTIO_RESP_NOMEM;
        }
    }
}

/* Moves the unconsumed bytes to the front. Only done when the consumed prefix is at least as long
 * as what moves, or when it saves a reallocation, so the copying stays linear in the input. */
static void compact(xtio_resp_parser *p)
{
    size_t shift = p->start;

    memmove(p->buf, p->buf + shift, p->used - shift);
    p->used -= shift;
    p->pos -= shift;
    p->scan = p->scan > shift ? p->scan - shift : 0;
    p->start = 0;
}

enum xtio_resp_status xtio_resp_parser_feed(xtio_resp_parser *p, const void *data, size_t len)
{
    size_t unconsumed;

    if (p->failed)
        return XTIO_RESP_PROTO_ERROR;
    if (len == 0)
        return XTIO_RESP_OK;
    unconsumed = p->used - p->start;
    if (unconsumed > p->limits.max_query_buffer || len > p->limits.max_query_buffer - unconsumed) {
        fail(p, ERR_QUERY_BUFFER);
        return XTIO_RESP_PROTO_ERROR;
    }
    if (unconsumed == 0)
        p->start = p->pos = p->scan = p->used = 0;
    else if (p->start > 0 &&
             (p->start >= unconsumed || (p->used + len > p->cap && unconsumed + len <= p->cap)))
        compact(p);
    if (len > SIZE_MAX - p->used)
        return XTIO_RESP_NOMEM;
    if (p->used + len > p->cap) {
        size_t need = p->used + len;
        size_t cap = p->cap ? p->cap : BUF_INITIAL_CAP;
        char *buf;

        while (cap < need)
            cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        buf = realloc(p->buf, cap);
        if (buf == NULL)
            return XTIO_RESP_NOMEM;
        p->buf = buf;
        p->cap = cap;
    }
    memcpy(p->buf + p->used, data, len);
    p->used += len;
    return XTIO_RESP_OK;
}
