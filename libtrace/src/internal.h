/*
 * Private to libxtio: what loop.c, conn.c and spool.c share. Nothing here is API.
 */
#ifndef XTIO_SRC_INTERNAL_H
#define XTIO_SRC_INTERNAL_H

#include <xtio/xtio.h>

#include <stdatomic.h>

struct evbuffer;

/* A loop's counters for one mode; relaxed atomics, because they are only ever read as a sum. */
struct xtio__mode_counters {
    atomic_uint_fast64_t handoffs, bytes, records, drops, drop_bytes, backpressure_waits;
};

pid_t xtio__gettid(void);
uint64_t xtio__now_ns(void);
/* handoff_id is unique within a process. */
uint64_t xtio__next_handoff_id(void);

/* Loop services for conn.c. Only valid while the connection is open (the loop outlives every
 * connection it has open), so callers check that under the connection's lock. */
struct xtio__mode_counters *xtio__loop_counters(xtio_loop *loop, enum xtio_mode mode);
void xtio__loop_count_conn(xtio_loop *loop, bool opened);
/* Head of the loop's list of open connections; loop thread only. */
xtio_conn **xtio__loop_conn_list(xtio_loop *loop);

/* Closes every connection in the list (reason loop_stop); loop thread, while the loop stops. */
void xtio__conn_close_all(xtio_conn **list);

/* Hands a spooled chunk off as one batch handoff (the spool's path into the connection). Takes
 * ownership of `chunk` whatever the result. */
int xtio__conn_send_chunk(xtio_conn *conn, struct evbuffer *chunk, uint32_t records,
                          uint64_t spool_ns);

#endif
