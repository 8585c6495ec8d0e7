/*
 * xtio-server's reply stream: sending what a command wrote to its client's connection through
 * libxtio, either a reply built on the loop thread in one inline send, or a heavy command's reply
 * record by record in the server's handoff mode.
 */
#ifndef XTIO_SERVER_REPLY_H
#define XTIO_SERVER_REPLY_H

#include "buf.h"

#include <stddef.h>
#include <xtio/xtio.h>

/* Sends `reply`, built on conn's loop thread, then empties it. */
void xtio_reply_flush(xtio_conn *conn, struct xtio_buf *reply);

/* The output of a command that may run on a worker: records handed off in the server's mode. */
struct stream {
    xtio_conn *conn; /* weak: the job holds the reference */
    enum xtio_mode mode;
    xtio_spool *spool; /* owned, batch mode only */
    struct xtio_buf record;
    int error; /* sticky: first failed handoff (-EPIPE once the client is gone) */
};

/* Batch mode spools records up to `batch_bytes` per handoff. */
void xtio_stream_open(struct stream *out, xtio_conn *conn, enum xtio_mode mode, size_t batch_bytes);
/* Hands the current record off and empties it; keeps the first error. */
void xtio_stream_send(struct stream *out);
/* Hands off what a batch stream still spools. */
void xtio_stream_close(struct stream *out);

#endif
