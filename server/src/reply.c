/*
 * xtio-server's reply stream: the loop's replies and the heavy commands' records, handed to
 * libxtio.
 */
#include "reply.h"

#include <errno.h>

void xtio_reply_flush(xtio_conn *conn, struct xtio_buf *reply)
{
    if (reply->failed) {
        xtio_conn_close(conn); /* a partial reply would desynchronise the client */
    } else if (reply->len) {
        xtio_conn_send(conn, XTIO_MODE_INLINE, reply->data, reply->len);
    }
    xtio_buf_reset(reply);
}

void xtio_stream_open(struct stream *out, xtio_conn *conn, enum xtio_mode mode, size_t batch_bytes)
{
    *out = (struct stream){.conn = conn, .mode = mode};
    xtio_buf_init(&out->record);
    if (mode == XTIO_MODE_BATCH)
        out->error = xtio_spool_create(&out->spool, conn, batch_bytes);
}

void xtio_stream_send(struct stream *out)
{
    if (!out->error && out->record.failed)
        out->error = -ENOMEM;
    if (!out->error && out->record.len) {
        out->error = out->spool
                         ? xtio_spool_append(out->spool, out->record.data, out->record.len)
                         : xtio_conn_send(out->conn, out->mode, out->record.data, out->record.len);
    }
    xtio_buf_reset(&out->record);
}

void xtio_stream_close(struct stream *out)
{
    if (out->spool) {
        int rc = xtio_spool_destroy(out->spool);
        if (!out->error)
            out->error = rc;
        out->spool = NULL;
    }
    xtio_buf_free(&out->record);
}
