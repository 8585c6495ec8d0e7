/* xtio-load's model of the server's answers: populated keys and values, and the reply checks. */
#include "verify.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bytes of a key or value shown in a message before it is cut. */
#define QUOTE_BYTES 40

void xtio_load_lex_order(uint32_t *out, size_t count)
{
    if (count == 0)
        return;
    /* "0" sorts first and is the prefix of no other number; 1..count-1 follow in preorder of
     * the decimal trie: down a digit while that stays in range, else to the next sibling,
     * climbing past the 9s and the numbers beyond the end. */
    out[0] = 0;
    uint64_t last = count - 1;
    uint64_t cur = 1;
    for (size_t i = 1; i < count; i++) {
        out[i] = (uint32_t)cur;
        if (cur * 10 <= last) {
            cur *= 10;
            continue;
        }
        if (cur >= last)
            cur /= 10;
        cur++;
        while (cur % 10 == 0)
            cur /= 10;
    }
}

int xtio_load_keyset_init(struct xtio_load_keyset *ks, const char *prefix, size_t count,
                          size_t value_size)
{
    memset(ks, 0, sizeof(*ks));
    size_t plen = strlen(prefix);
    if (plen > XTIO_LOAD_MAX_PREFIX || count > XTIO_LOAD_MAX_KEYS)
        return -EINVAL;
    memcpy(ks->prefix, prefix, plen + 1);
    ks->plen = plen;
    ks->value_size = value_size;
    if (count) {
        ks->order = malloc(count * sizeof(*ks->order));
        if (!ks->order)
            return -ENOMEM;
        xtio_load_lex_order(ks->order, count);
    }
    ks->count = count;
    return 0;
}

void xtio_load_keyset_fini(struct xtio_load_keyset *ks)
{
    free(ks->order);
    memset(ks, 0, sizeof(*ks));
}

size_t xtio_load_digits(uint64_t n, char *buf)
{
    char tmp[20];
    size_t len = 0;
    do {
        tmp[len++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    for (size_t i = 0; i < len; i++)
        buf[i] = tmp[len - 1 - i];
    buf[len] = '\0';
    return len;
}

size_t xtio_load_key(const struct xtio_load_keyset *ks, uint64_t n, char *buf)
{
    memcpy(buf, ks->prefix, ks->plen);
    buf[ks->plen] = ':';
    return ks->plen + 1 + xtio_load_digits(n, buf + ks->plen + 1);
}

static size_t natural_value(uint64_t n, char *buf)
{
    memcpy(buf, "value:", 6);
    return 6 + xtio_load_digits(n, buf + 6);
}

bool xtio_load_padded_equals(const char *natural, size_t nlen, size_t size, const void *data,
                             size_t len)
{
    size_t want = size ? size : nlen;
    if (len != want)
        return false;
    size_t copy = nlen < want ? nlen : want;
    if (copy && memcmp(data, natural, copy) != 0)
        return false;
    const unsigned char *p = data;
    for (size_t i = copy; i < want; i++) {
        if (p[i])
            return false;
    }
    return true;
}

size_t xtio_load_padded(const char *natural, size_t nlen, size_t size, char *out, size_t cap)
{
    size_t want = size ? size : nlen;
    if (want > cap)
        want = cap;
    size_t copy = nlen < want ? nlen : want;
    memcpy(out, natural, copy);
    memset(out + copy, 0, want - copy);
    return want;
}

bool xtio_load_value_equals(const struct xtio_load_keyset *ks, uint64_t n, const void *data,
                            size_t len)
{
    char natural[32];
    size_t nlen = natural_value(n, natural);
    return xtio_load_padded_equals(natural, nlen, ks->value_size, data, len);
}

size_t xtio_load_digit_block(const struct xtio_load_keyset *ks, const char *digits, size_t *first)
{
    size_t dlen = strlen(digits);
    char buf[21];
    size_t lo = 0, hi = ks->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        xtio_load_digits(ks->order[mid], buf);
        if (strcmp(buf, digits) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *first = lo;
    size_t end = lo;
    while (end < ks->count) {
        size_t len = xtio_load_digits(ks->order[end], buf);
        if (len < dlen || memcmp(buf, digits, dlen) != 0)
            break;
        end++;
    }
    return end - lo;
}

size_t xtio_load_glob_escape(const char *text, size_t len, char *out, size_t cap)
{
    size_t used = 0;
    for (size_t i = 0; i < len && used + 2 < cap; i++) {
        if (strchr("*?[]\\", text[i]))
            out[used++] = '\\';
        out[used++] = text[i];
    }
    out[used] = '\0';
    return used;
}

/* `shown` bytes of a string `total` bytes long, quoted. */
static void quote_part(const void *data, size_t shown, size_t total, char *out, size_t cap)
{
    const unsigned char *p = data;
    size_t used = 0;
    if (cap < 16) {
        if (cap)
            out[0] = '\0';
        return;
    }
    out[used++] = '"';
    if (shown > QUOTE_BYTES)
        shown = QUOTE_BYTES;
    for (size_t i = 0; i < shown && used + 8 < cap; i++) {
        if (p[i] == '"' || p[i] == '\\') {
            out[used++] = '\\';
            out[used++] = (char)p[i];
        } else if (p[i] >= 0x20 && p[i] < 0x7f) {
            out[used++] = (char)p[i];
        } else {
            used += (size_t)snprintf(out + used, cap - used, "\\x%02x", p[i]);
        }
    }
    if (shown < total)
        snprintf(out + used, cap - used, "...\" (%zu bytes)", total);
    else
        snprintf(out + used, cap - used, "\"");
}

void xtio_load_quote(const void *data, size_t len, char *out, size_t cap)
{
    quote_part(data, len, len, out, cap);
}

/* Quotes the populated value of n, or a padded value, without building it whole. */
static void quote_padded(const char *natural, size_t nlen, size_t size, char *out, size_t cap)
{
    char head[QUOTE_BYTES];
    size_t total = size ? size : nlen;
    size_t shown = xtio_load_padded(natural, nlen, size, head, sizeof(head));
    quote_part(head, shown, total, out, cap);
}

static size_t decimal_len(long long v)
{
    char buf[24];
    return (size_t)snprintf(buf, sizeof(buf), "%lld", v);
}

uint64_t xtio_load_reply_wire_bytes(const redisReply *reply)
{
    switch (reply->type) {
    case REDIS_REPLY_STRING:
        return 1 + decimal_len((long long)reply->len) + 2 + reply->len + 2;
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
        return 1 + reply->len + 2;
    case REDIS_REPLY_INTEGER:
        return 1 + decimal_len(reply->integer) + 2;
    case REDIS_REPLY_NIL:
        return 5; /* "$-1\r\n" or "*-1\r\n" */
    case REDIS_REPLY_ARRAY: {
        uint64_t total = 1 + decimal_len((long long)reply->elements) + 2;
        for (size_t i = 0; i < reply->elements; i++)
            total += xtio_load_reply_wire_bytes(reply->element[i]);
        return total;
    }
    default:
        return 0;
    }
}

static const char *type_name(const redisReply *reply)
{
    switch (reply->type) {
    case REDIS_REPLY_STRING:
        return "a bulk string";
    case REDIS_REPLY_ARRAY:
        return "an array";
    case REDIS_REPLY_INTEGER:
        return "an integer";
    case REDIS_REPLY_NIL:
        return "nil";
    case REDIS_REPLY_STATUS:
        return "a status";
    case REDIS_REPLY_ERROR:
        return "an error";
    default:
        return "an unknown reply type";
    }
}

/* Common failures of any reply: none at all, an error, or the wrong type. */
static bool check_type(const redisReply *reply, int type, const char *what, char *msg)
{
    if (!reply) {
        snprintf(msg, XTIO_LOAD_MSG_MAX, "no reply");
        return false;
    }
    if (reply->type == type)
        return true;
    if (reply->type == REDIS_REPLY_ERROR || reply->type == REDIS_REPLY_STATUS) {
        char text[128];
        xtio_load_quote(reply->str, reply->len, text, sizeof(text));
        snprintf(msg, XTIO_LOAD_MSG_MAX, "expected %s, got %s %s", what, type_name(reply), text);
    } else {
        snprintf(msg, XTIO_LOAD_MSG_MAX, "expected %s, got %s", what, type_name(reply));
    }
    return false;
}

static int bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c != 0)
        return c;
    return (alen > blen) - (alen < blen);
}

/* Checks a list of keys (stride 2 for RANGE's key/value pairs, 1 for KEYS) against the
 * expected block; values are checked too when stride is 2. */
static bool check_listing(const struct xtio_load_keyset *ks, size_t first, size_t count,
                          const redisReply *reply, size_t stride, char *msg)
{
    char what[64];
    snprintf(what, sizeof(what), "an array of %zu elements", count * stride);
    if (!check_type(reply, REDIS_REPLY_ARRAY, what, msg))
        return false;
    if (reply->elements % stride) {
        snprintf(msg, XTIO_LOAD_MSG_MAX, "expected %zu elements, got an odd %zu", count * stride,
                 reply->elements);
        return false;
    }
    size_t got = reply->elements / stride;
    const char *unit = stride == 2 ? "pair" : "key";
    char counts[96] = "";
    if (got != count)
        snprintf(counts, sizeof(counts), "%zu %ss instead of %zu; ", got, unit, count);
    size_t common = got < count ? got : count;
    char key[XTIO_LOAD_KEY_MAX], a[128], b[128];
    for (size_t i = 0; i < common; i++) {
        const redisReply *k = reply->element[i * stride];
        uint64_t n = ks->order[first + i];
        size_t klen = xtio_load_key(ks, n, key);
        xtio_load_quote(key, klen, a, sizeof(a));
        if (k->type != REDIS_REPLY_STRING) {
            snprintf(msg, XTIO_LOAD_MSG_MAX, "%s%s %zu: expected key %s, got %s", counts, unit, i,
                     a, type_name(k));
            return false;
        }
        if (i > 0) {
            const redisReply *prev = reply->element[(i - 1) * stride];
            if (bytes_cmp(prev->str, prev->len, k->str, k->len) >= 0) {
                xtio_load_quote(prev->str, prev->len, a, sizeof(a));
                xtio_load_quote(k->str, k->len, b, sizeof(b));
                snprintf(msg, XTIO_LOAD_MSG_MAX,
                         "%skeys not strictly increasing at %s %zu: %s after %s", counts, unit, i,
                         b, a);
                return false;
            }
        }
        if (k->len != klen || memcmp(k->str, key, klen) != 0) {
            xtio_load_quote(k->str, k->len, b, sizeof(b));
            snprintf(msg, XTIO_LOAD_MSG_MAX, "%s%s %zu: expected key %s, got %s", counts, unit, i,
                     a, b);
            return false;
        }
        if (stride == 1)
            continue;
        const redisReply *v = reply->element[i * stride + 1];
        if (v->type == REDIS_REPLY_STRING && xtio_load_value_equals(ks, n, v->str, v->len))
            continue;
        char natural[32], c[128];
        size_t nlen = natural_value(n, natural);
        quote_padded(natural, nlen, ks->value_size, b, sizeof(b));
        if (v->type == REDIS_REPLY_STRING)
            xtio_load_quote(v->str, v->len, c, sizeof(c));
        else
            snprintf(c, sizeof(c), "%s", type_name(v));
        snprintf(msg, XTIO_LOAD_MSG_MAX, "%s%s %zu (%s): expected value %s, got %s", counts, unit,
                 i, a, b, c);
        return false;
    }
    if (got < count) {
        size_t klen = xtio_load_key(ks, ks->order[first + got], key);
        xtio_load_quote(key, klen, a, sizeof(a));
        snprintf(msg, XTIO_LOAD_MSG_MAX, "%zu %ss instead of %zu: the reply stops before %s", got,
                 unit, count, a);
        return false;
    }
    if (got > count) {
        const redisReply *k = reply->element[count * stride];
        if (k->type == REDIS_REPLY_STRING)
            xtio_load_quote(k->str, k->len, a, sizeof(a));
        else
            snprintf(a, sizeof(a), "%s", type_name(k));
        snprintf(msg, XTIO_LOAD_MSG_MAX, "%zu %ss instead of %zu: unexpected %s after the last",
                 got, unit, count, a);
        return false;
    }
    return true;
}

bool xtio_load_check_range(const struct xtio_load_keyset *ks, size_t first, size_t pairs,
                           const redisReply *reply, char *msg)
{
    return check_listing(ks, first, pairs, reply, 2, msg);
}

bool xtio_load_check_keys(const struct xtio_load_keyset *ks, size_t first, size_t count,
                          const redisReply *reply, char *msg)
{
    return check_listing(ks, first, count, reply, 1, msg);
}

bool xtio_load_check_bulk(const redisReply *reply, const char *natural, size_t nlen, size_t size,
                          char *msg)
{
    char a[128], b[128];
    quote_padded(natural, nlen, size, a, sizeof(a));
    char what[160];
    snprintf(what, sizeof(what), "bulk %s", a);
    if (!check_type(reply, REDIS_REPLY_STRING, what, msg))
        return false;
    if (xtio_load_padded_equals(natural, nlen, size, reply->str, reply->len))
        return true;
    xtio_load_quote(reply->str, reply->len, b, sizeof(b));
    snprintf(msg, XTIO_LOAD_MSG_MAX, "expected %s, got %s", a, b);
    return false;
}

bool xtio_load_check_status(const redisReply *reply, const char *status, char *msg)
{
    char what[96];
    snprintf(what, sizeof(what), "status \"%s\"", status);
    if (!check_type(reply, REDIS_REPLY_STATUS, what, msg))
        return false;
    if (reply->len == strlen(status) && memcmp(reply->str, status, reply->len) == 0)
        return true;
    char got[128];
    xtio_load_quote(reply->str, reply->len, got, sizeof(got));
    snprintf(msg, XTIO_LOAD_MSG_MAX, "expected %s, got status %s", what, got);
    return false;
}

/* ---- Streaming RANGE check ------------------------------------------------------------------ */

enum {
    ST_ARRAY_LINE,   /* "*<count>\r\n" */
    ST_ELEMENT_LINE, /* "$<len>\r\n" */
    ST_DATA,
    ST_CR,
    ST_LF,
    ST_END,
};

void xtio_load_range_stream_init(struct xtio_load_range_stream *s,
                                 const struct xtio_load_keyset *ks, size_t first, size_t pairs)
{
    memset(s, 0, sizeof(*s));
    s->ks = ks;
    s->first = first;
    s->pairs = pairs;
    s->status = XTIO_LOAD_STREAM_MORE;
    s->state = ST_ARRAY_LINE;
}

static enum xtio_load_stream_status stream_fail(struct xtio_load_range_stream *s,
                                                const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static enum xtio_load_stream_status stream_fail(struct xtio_load_range_stream *s,
                                                const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    vsnprintf(s->msg, sizeof(s->msg), format, ap);
    va_end(ap);
    s->status = XTIO_LOAD_STREAM_MISMATCH;
    s->state = ST_END;
    return s->status;
}

/* Parses the decimal after the line's type byte; -2 when it is no number. */
static long long line_number(const struct xtio_load_range_stream *s)
{
    const char *p = s->line + 1;
    if (strcmp(p, "-1") == 0)
        return -1;
    if (!*p || strlen(p) > 18)
        return -2;
    long long v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return -2;
        v = v * 10 + (*p - '0');
    }
    return v;
}

/* The expectation for the element about to be read: the pair's key, or its value. */
static void expect_element(struct xtio_load_range_stream *s)
{
    uint64_t n = s->ks->order[s->first + s->element / 2];
    if (s->element % 2 == 0) {
        s->expect_len = xtio_load_key(s->ks, n, s->expect);
        s->expect_size = s->expect_len;
    } else {
        s->expect_len = natural_value(n, s->expect);
        s->expect_size = s->ks->value_size ? s->ks->value_size : s->expect_len;
    }
}

static enum xtio_load_stream_status line_done(struct xtio_load_range_stream *s)
{
    char shown[128];
    long long number = line_number(s);
    if (s->state == ST_ARRAY_LINE) {
        if (s->line[0] == '-' || s->line[0] == '+') {
            xtio_load_quote(s->line, s->line_len, shown, sizeof(shown));
            return stream_fail(s, "expected an array of %zu elements, got %s", 2 * s->pairs, shown);
        }
        if (s->line[0] != '*' || number < -1) {
            xtio_load_quote(s->line, s->line_len, shown, sizeof(shown));
            return stream_fail(s, "expected an array header, got line %s", shown);
        }
        if (number != (long long)(2 * s->pairs))
            return stream_fail(s, "expected an array of %zu elements, got %lld", 2 * s->pairs,
                               number);
        if (number == 0) {
            s->state = ST_END;
            return s->status = XTIO_LOAD_STREAM_DONE;
        }
        s->state = ST_ELEMENT_LINE;
        return s->status;
    }
    char key[XTIO_LOAD_KEY_MAX];
    size_t klen = xtio_load_key(s->ks, s->ks->order[s->first + s->element / 2], key);
    char at[200];
    xtio_load_quote(key, klen, shown, sizeof(shown));
    snprintf(at, sizeof(at), "pair %zu (%s) %s", s->element / 2, shown,
             s->element % 2 ? "value" : "key");
    if (s->line[0] != '$' || number < -1) {
        xtio_load_quote(s->line, s->line_len, shown, sizeof(shown));
        return stream_fail(s, "%s: expected a bulk string header, got line %s", at, shown);
    }
    if (number == -1)
        return stream_fail(s, "%s: got nil", at);
    expect_element(s);
    s->data_len = (size_t)number;
    s->data_off = 0;
    s->differs = s->data_len != s->expect_size;
    s->state = s->data_len ? ST_DATA : ST_CR;
    return s->status;
}

static enum xtio_load_stream_status element_done(struct xtio_load_range_stream *s)
{
    if (s->differs) {
        char want[128], got[128];
        quote_padded(s->expect, s->expect_len, s->expect_size, want, sizeof(want));
        size_t seen = s->data_len < sizeof(s->seen) ? s->data_len : sizeof(s->seen);
        quote_part(s->seen, seen, s->data_len, got, sizeof(got));
        if (s->element % 2 == 0)
            return stream_fail(s, "pair %zu: expected key %s, got %s", s->element / 2, want, got);
        char key[XTIO_LOAD_KEY_MAX], shown[128];
        size_t klen = xtio_load_key(s->ks, s->ks->order[s->first + s->element / 2], key);
        xtio_load_quote(key, klen, shown, sizeof(shown));
        return stream_fail(s, "pair %zu (%s): expected value %s, got %s", s->element / 2, shown,
                           want, got);
    }
    if (s->element % 2)
        s->pairs_done++;
    if (++s->element == 2 * s->pairs) {
        s->state = ST_END;
        return s->status = XTIO_LOAD_STREAM_DONE;
    }
    s->state = ST_ELEMENT_LINE;
    return s->status;
}

enum xtio_load_stream_status xtio_load_range_stream_feed(struct xtio_load_range_stream *s,
                                                         const void *data, size_t len, size_t *used)
{
    const unsigned char *p = data;
    size_t i = 0;
    while (i < len && s->status == XTIO_LOAD_STREAM_MORE) {
        switch (s->state) {
        case ST_ARRAY_LINE:
        case ST_ELEMENT_LINE: {
            unsigned char c = p[i++];
            if (c == '\n') {
                if (s->line_len == 0 || s->line[s->line_len - 1] != '\r')
                    stream_fail(s, "a header line ends in a bare LF");
                else {
                    s->line[--s->line_len] = '\0';
                    line_done(s);
                    s->line_len = 0;
                }
            } else if (s->line_len + 1 >= sizeof(s->line)) {
                stream_fail(s, "a header line longer than %zu bytes", sizeof(s->line) - 1);
            } else {
                s->line[s->line_len++] = (char)c;
                s->line[s->line_len] = '\0';
            }
            break;
        }
        case ST_DATA: {
            size_t take = len - i < s->data_len - s->data_off ? len - i : s->data_len - s->data_off;
            for (size_t j = 0; j < take; j++) {
                size_t off = s->data_off + j;
                unsigned char want = off < s->expect_len ? (unsigned char)s->expect[off] : 0;
                if (off < sizeof(s->seen))
                    s->seen[off] = (char)p[i + j];
                if (p[i + j] != want)
                    s->differs = true;
            }
            s->data_off += take;
            i += take;
            if (s->data_off == s->data_len)
                s->state = ST_CR;
            break;
        }
        case ST_CR:
            if (p[i++] != '\r')
                stream_fail(s, "pair %zu: bulk string not followed by CRLF", s->element / 2);
            else
                s->state = ST_LF;
            break;
        case ST_LF:
            if (p[i++] != '\n')
                stream_fail(s, "pair %zu: bulk string not followed by CRLF", s->element / 2);
            else
                element_done(s);
            break;
        default:
            i = len;
            break;
        }
    }
    s->bytes += i;
    if (used)
        *used = i;
    return s->status;
}
