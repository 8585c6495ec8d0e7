/* Growable byte buffer and RESP2 reply encoding for xtio-server. */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void xtio_buf_init(struct xtio_buf *buf)
{
    *buf = (struct xtio_buf){0};
}

void xtio_buf_free(struct xtio_buf *buf)
{
    free(buf->data);
    xtio_buf_init(buf);
}

void xtio_buf_reset(struct xtio_buf *buf)
{
    buf->len = 0;
    buf->failed = false;
}

static bool reserve(struct xtio_buf *buf, size_t extra)
{
    if (buf->failed)
        return false;
    if (buf->len + extra <= buf->cap)
        return true;
    size_t cap = buf->cap ? buf->cap : 256;
    while (cap < buf->len + extra)
        cap *= 2;
    char *data = realloc(buf->data, cap);
    if (!data) {
        buf->failed = true;
        return false;
    }
    buf->data = data;
    buf->cap = cap;
    return true;
}

void xtio_buf_append(struct xtio_buf *buf, const void *data, size_t len)
{
    if (len && reserve(buf, len)) {
        memcpy(buf->data + buf->len, data, len);
        buf->len += len;
    }
}

/* Appends a one-line RESP item: a type byte, text without CR or LF, CRLF. */
static void append_text_line(struct xtio_buf *buf, char type, const char *text)
{
    size_t len = strlen(text);
    if (reserve(buf, len + 3)) {
        buf->data[buf->len++] = type;
        memcpy(buf->data + buf->len, text, len);
        buf->len += len;
        buf->data[buf->len++] = '\r';
        buf->data[buf->len++] = '\n';
    }
}

void xtio_resp_simple(struct xtio_buf *buf, const char *status)
{
    append_text_line(buf, '+', status);
}

void xtio_resp_error(struct xtio_buf *buf, const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    /* A CR or LF inside an error would end the reply early and desynchronise the client. */
    for (char *p = message; *p; p++)
        if (*p == '\r' || *p == '\n')
            *p = ' ';
    append_text_line(buf, '-', message);
}

/* Appends a type byte, a decimal number and CRLF without printf: streamed replies put two of
 * these in every record, so they are on the hot path. */
static void append_number_line(struct xtio_buf *buf, char type, long long value)
{
    char text[24];
    size_t pos = sizeof(text);
    unsigned long long magnitude =
        value < 0 ? 0ull - (unsigned long long)value : (unsigned long long)value;
    do {
        text[--pos] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    if (value < 0)
        text[--pos] = '-';
    size_t digits = sizeof(text) - pos;
    if (reserve(buf, digits + 3)) {
        buf->data[buf->len++] = type;
        memcpy(buf->data + buf->len, text + pos, digits);
        buf->len += digits;
        buf->data[buf->len++] = '\r';
        buf->data[buf->len++] = '\n';
    }
}

void xtio_resp_integer(struct xtio_buf *buf, long long value)
{
    append_number_line(buf, ':', value);
}

void xtio_resp_bulk(struct xtio_buf *buf, const void *data, size_t len)
{
    append_number_line(buf, '$', (long long)len);
    xtio_buf_append(buf, data, len);
    xtio_buf_append(buf, "\r\n", 2);
}

void xtio_resp_nil(struct xtio_buf *buf)
{
    xtio_buf_append(buf, "$-1\r\n", 5);
}

void xtio_resp_array(struct xtio_buf *buf, size_t count)
{
    append_number_line(buf, '*', (long long)count);
}
