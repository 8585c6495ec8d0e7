/* The in-flight handoff table of the analysis core (see handoffs.h). */
#include "handoffs.h"

#include <errno.h>
#include <stdlib.h>

_Static_assert((HANDOFF_RING_MIN & (HANDOFF_RING_MIN - 1)) == 0 &&
                   (HANDOFF_RING_MAX & (HANDOFF_RING_MAX - 1)) == 0 &&
                   HANDOFF_RING_MIN <= HANDOFF_RING_MAX,
               "the ring's lengths are powers of two");

static struct xtio__handoff_slot *slot_of(struct xtio__handoff_slot *ring, size_t ring_len,
                                          uint64_t id)
{
    return &ring[id & (ring_len - 1)];
}

static bool holds(const struct xtio__handoff_slot *slot, int64_t vpid, uint64_t id)
{
    return slot->used && slot->id == id && slot->vpid == vpid;
}

static void free_overflow(struct xtio__map *overflow)
{
    for (size_t i = 0; i < overflow->cap; i++)
        free(overflow->slots[i].value);
    xtio__map_fini(overflow);
}

void xtio__handoffs_fini(struct xtio__handoffs *handoffs)
{
    free_overflow(&handoffs->overflow);
    free(handoffs->ring);
    handoffs->ring = NULL;
    handoffs->ring_len = 0;
    handoffs->len = 0;
}

/* Moves the ring's handoffs to a ring of ring_len slots, and those of the overflow map whose slot
 * is free there: they keep their place in memory only while no add runs (handoffs.h). */
static int resize_ring(struct xtio__handoffs *handoffs, size_t ring_len)
{
    struct xtio__handoff_slot *ring = calloc(ring_len, sizeof(*ring));
    struct xtio__map overflow = {0};
    if (!ring)
        return -ENOMEM;
    /* Distinct slots of a ring stay distinct in a ring twice as long: no entry is displaced. */
    for (size_t i = 0; i < handoffs->ring_len; i++) {
        const struct xtio__handoff_slot *old = &handoffs->ring[i];
        if (old->used)
            *slot_of(ring, ring_len, old->id) = *old;
    }
    for (size_t i = 0; i < handoffs->overflow.cap; i++) {
        const struct xtio__map_slot *old = &handoffs->overflow.slots[i];
        if (!old->value)
            continue;
        struct xtio__handoff_slot *slot = slot_of(ring, ring_len, old->id);
        if (slot->used) {
            if (xtio__map_put(&overflow, old->vpid, old->id, old->value) == 0)
                continue;
            /* Out of memory: the table is left as it was. */
            free(ring);
            xtio__map_fini(&overflow);
            return -ENOMEM;
        }
        *slot = (struct xtio__handoff_slot){.vpid = old->vpid, .id = old->id, .used = true};
        slot->handoff = *(struct handoff *)old->value;
    }
    /* Those now in the ring are copies: the overflow map's own go. */
    for (size_t i = 0; i < handoffs->overflow.cap; i++) {
        const struct xtio__map_slot *old = &handoffs->overflow.slots[i];
        if (old->value && holds(slot_of(ring, ring_len, old->id), old->vpid, old->id))
            free(old->value);
    }
    xtio__map_fini(&handoffs->overflow);
    handoffs->overflow = overflow;
    free(handoffs->ring);
    handoffs->ring = ring;
    handoffs->ring_len = ring_len;
    return 0;
}

static struct handoff *add_to_overflow(struct xtio__handoffs *handoffs, int64_t vpid, uint64_t id,
                                       int *status)
{
    /* Overflowing is rare (a handful in flight on the bench's traces): no spare list. */
    struct handoff *handoff = malloc(sizeof(*handoff));
    if (!handoff) {
        *status = -ENOMEM;
        return NULL;
    }
    *status = xtio__map_add(&handoffs->overflow, vpid, id, handoff);
    if (*status) {
        free(handoff);
        return NULL;
    }
    handoffs->len++;
    return handoff;
}

struct handoff *xtio__handoffs_add(struct xtio__handoffs *handoffs, int64_t vpid, uint64_t id,
                                   int *status)
{
    *status = 0;
    if (!handoffs->ring && (*status = resize_ring(handoffs, HANDOFF_RING_MIN)))
        return NULL;
    struct xtio__handoff_slot *slot = slot_of(handoffs->ring, handoffs->ring_len, id);
    if (slot->used && !holds(slot, vpid, id) && handoffs->ring_len < HANDOFF_RING_MAX &&
        handoffs->overflow.len >= handoffs->ring_len / 4) {
        /* Not enough memory for a longer ring: the overflow map still takes the handoff. */
        if (resize_ring(handoffs, handoffs->ring_len * 2) == 0)
            slot = slot_of(handoffs->ring, handoffs->ring_len, id);
    }
    if (holds(slot, vpid, id) ||
        (handoffs->overflow.len && xtio__map_get(&handoffs->overflow, vpid, id))) {
        *status = -EEXIST;
        return NULL;
    }
    if (slot->used)
        return add_to_overflow(handoffs, vpid, id, status);
    slot->vpid = vpid;
    slot->id = id;
    slot->used = true;
    handoffs->len++;
    return &slot->handoff;
}

struct handoff *xtio__handoffs_get(struct xtio__handoffs *handoffs, int64_t vpid, uint64_t id)
{
    if (!handoffs->ring)
        return NULL;
    struct xtio__handoff_slot *slot = slot_of(handoffs->ring, handoffs->ring_len, id);
    if (holds(slot, vpid, id))
        return &slot->handoff;
    return handoffs->overflow.len ? xtio__map_get(&handoffs->overflow, vpid, id) : NULL;
}

void xtio__handoffs_remove(struct xtio__handoffs *handoffs, int64_t vpid, uint64_t id,
                           struct handoff *handoff)
{
    struct xtio__handoff_slot *slot = slot_of(handoffs->ring, handoffs->ring_len, id);
    handoffs->len--;
    if (handoff == &slot->handoff) {
        slot->used = false;
        return;
    }
    xtio__map_remove(&handoffs->overflow, vpid, id);
    free(handoff);
}

int xtio__handoffs_visit(const struct xtio__handoffs *handoffs,
                         int (*visit)(void *data, int64_t vpid, uint64_t id,
                                      const struct handoff *handoff),
                         void *data)
{
    int status = 0;
    for (size_t i = 0; i < handoffs->ring_len && !status; i++) {
        const struct xtio__handoff_slot *slot = &handoffs->ring[i];
        if (slot->used)
            status = visit(data, slot->vpid, slot->id, &slot->handoff);
    }
    for (size_t i = 0; i < handoffs->overflow.cap && !status; i++) {
        const struct xtio__map_slot *slot = &handoffs->overflow.slots[i];
        if (slot->value)
            status = visit(data, slot->vpid, slot->id, slot->value);
    }
    return status;
}
