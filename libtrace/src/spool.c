/*
 * Spools: records gathered on the producer's thread and handed off as one batch handoff, so a
 * chunk of many records costs one queue operation and one wake-up instead of one per record.
 */
#include "internal.h"

#include <errno.h>
#include <event2/buffer.h>
#include <stdlib.h>

struct xtio_spool {
    xtio_conn *conn; /* owns a reference */
    size_t threshold;
    struct evbuffer *chunk; /* owned; moved whole into the connection at handoff */
    uint32_t records;
    uint64_t first_append_ns; /* when the chunk's first record arrived, for spool_ns */
};

int xtio_spool_create(xtio_spool **out, xtio_conn *conn, size_t threshold)
{
    if (!out || !conn)
        return -EINVAL;
    *out = NULL;
    xtio_spool *spool = calloc(1, sizeof(*spool));
    if (!spool)
        return -ENOMEM;
    spool->chunk = evbuffer_new();
    if (!spool->chunk) {
        free(spool);
        return -ENOMEM;
    }
    spool->conn = xtio_conn_ref(conn);
    spool->threshold = threshold ? threshold : XTIO_SPOOL_DEFAULT_THRESHOLD;
    *out = spool;
    return 0;
}

int xtio_spool_append(xtio_spool *spool, const void *data, size_t len)
{
    if (!spool || (!data && len))
        return -EINVAL;
    if (!xtio_conn_is_open(spool->conn))
        return -EPIPE; /* do not let a producer spool for a client that is gone */
    if (spool->records == UINT32_MAX) {
        int rc = xtio_spool_flush(spool);
        if (rc != 0)
            return rc;
    }
    if (evbuffer_add(spool->chunk, data, len) != 0)
        return -ENOMEM;
    if (spool->records++ == 0)
        spool->first_append_ns = xtio__now_ns();
    if (evbuffer_get_length(spool->chunk) >= spool->threshold)
        return xtio_spool_flush(spool);
    return 0;
}

int xtio_spool_flush(xtio_spool *spool)
{
    if (!spool)
        return -EINVAL;
    if (spool->records == 0)
        return 0;
    struct evbuffer *next = evbuffer_new();
    if (!next)
        return -ENOMEM;
    struct evbuffer *chunk = spool->chunk;
    uint32_t records = spool->records;
    spool->chunk = next;
    spool->records = 0;
    return xtio__conn_send_chunk(spool->conn, chunk, records,
                                 xtio__now_ns() - spool->first_append_ns);
}

int xtio_spool_destroy(xtio_spool *spool)
{
    if (!spool)
        return 0;
    int rc = xtio_spool_flush(spool);
    evbuffer_free(spool->chunk);
    xtio_conn_unref(spool->conn);
    free(spool);
    return rc;
}

size_t xtio_spool_pending_bytes(const xtio_spool *spool)
{
    return spool ? evbuffer_get_length(spool->chunk) : 0;
}

size_t xtio_spool_pending_records(const xtio_spool *spool)
{
    return spool ? spool->records : 0;
}
