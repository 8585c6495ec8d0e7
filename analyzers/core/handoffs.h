/*
 * Private to the analysis core: the handoffs in flight, by (vpid, handoff_id).
 *
 * libxtio numbers the handoffs of a process from one counter, so the ids in flight at any moment
 * lie in a window that moves forward with the trace. A ring indexed by the id's low bits holds
 * them with no hashing and no probing, consecutive ids side by side in memory, as the loop writes
 * them out. An id whose ring slot is taken (a handoff still in flight a whole ring behind, such as
 * one that will turn out lost, or another process's id) goes to an overflow hash map. Either way
 * the memory follows the handoffs in flight, not the trace's length.
 */
#ifndef XTIO_ANALYZERS_HANDOFFS_H
#define XTIO_ANALYZERS_HANDOFFS_H

#include "map.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The ring's length in slots, powers of two. It starts short and doubles while a quarter of
 * its length is displaced into the overflow map at once (a server with more in flight than the
 * ring holds); past the longest, the overflow map takes the rest. */
#define HANDOFF_RING_MIN 1024
#define HANDOFF_RING_MAX 65536

/* A handoff seen enqueued and not yet finished with. */
struct handoff {
    uint64_t enqueue_ns;
    uint64_t write_ns; /* valid once written */
    uint64_t conn_id;
    uint64_t seq;
    uint64_t bytes;
    int64_t producer_tid;
    int64_t owner_tid;
    uint32_t records;
    int8_t mode;
    bool written;
    bool dropped;
    bool waited; /* sync: its sync_wait_end was seen */
    bool enqueued_after_close;
};

struct xtio__handoff_slot {
    int64_t vpid;
    uint64_t id;
    bool used;
    struct handoff handoff;
};

struct xtio__handoffs {
    struct xtio__handoff_slot *ring; /* owned: ring_len slots, or NULL before the first add */
    size_t ring_len;
    struct xtio__map overflow; /* (vpid, id) -> owned struct handoff */
    size_t len;
};

void xtio__handoffs_fini(struct xtio__handoffs *handoffs);
/* Adds the key and returns its handoff, whose every field the caller sets (the enqueue fills it
 * in whole, so clearing it first would be a second write per handoff); NULL with *status set
 * when the key is already in flight (-EEXIST, the table unchanged) or out of memory (-ENOMEM). It
 * may move the handoffs in flight: a handoff returned before is not to be used after an add. */
struct handoff *xtio__handoffs_add(struct xtio__handoffs *handoffs, int64_t vpid, uint64_t id,
                                   int *status);
/* NULL when not in flight. */
struct handoff *xtio__handoffs_get(struct xtio__handoffs *handoffs, int64_t vpid, uint64_t id);
/* Removes a handoff returned by add or get for this key; it must not be used afterwards. */
void xtio__handoffs_remove(struct xtio__handoffs *handoffs, int64_t vpid, uint64_t id,
                           struct handoff *handoff);
/* Calls visit on every handoff in flight, in no particular order, until it returns non-zero;
 * returns that value, or 0. */
int xtio__handoffs_visit(const struct xtio__handoffs *handoffs,
                         int (*visit)(void *data, int64_t vpid, uint64_t id,
                                      const struct handoff *handoff),
                         void *data);

#endif
