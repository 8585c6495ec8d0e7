/*
 * A growable byte buffer and the RESP2 reply encoders that write into it. The server builds each
 * reply here, then hands the bytes to libxtio in one send.
 */
#ifndef XTIO_SERVER_BUF_H
#define XTIO_SERVER_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct xtio_buf {
    char *data; /* owned */
    size_t len;
    size_t cap;
    bool failed; /* an allocation failed: the content is incomplete, do not send it */
};

void xtio_buf_init(struct xtio_buf *buf);
void xtio_buf_free(struct xtio_buf *buf);
/* Empties the buffer but keeps its memory for the next reply. */
void xtio_buf_reset(struct xtio_buf *buf);
void xtio_buf_append(struct xtio_buf *buf, const void *data, size_t len);

void xtio_resp_simple(struct xtio_buf *buf, const char *status); /* +status */
void xtio_resp_error(struct xtio_buf *buf, const char *fmt, ...) /* -ERR ... */
    __attribute__((format(printf, 2, 3)));
void xtio_resp_integer(struct xtio_buf *buf, long long value);           /* :value */
void xtio_resp_bulk(struct xtio_buf *buf, const void *data, size_t len); /* $len data */
void xtio_resp_nil(struct xtio_buf *buf);                                /* $-1 */
void xtio_resp_array(struct xtio_buf *buf, size_t count);                /* *count */

#endif
