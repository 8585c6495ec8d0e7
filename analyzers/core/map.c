/* The (vpid, id) hash map of the analysis core: linear probing, backward-shift deletion. */
#include "map.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

static size_t hash(int64_t vpid, uint64_t id)
{
    /* Fibonacci hashing: the ids are counters (handoff_ids, conn_ids, tids), and one
     * multiplication by 2^64 / phi spreads consecutive ones evenly over the table; the fold brings
     * the best-mixed high bits down to the mask. */
    uint64_t x =
        (id ^ (uint64_t)vpid * UINT64_C(0xBF58476D1CE4E5B9)) * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(x ^ (x >> 32));
}

static size_t find(const struct xtio__map *map, int64_t vpid, uint64_t id, bool *found)
{
    size_t mask = map->cap - 1;
    size_t i = hash(vpid, id) & mask;
    for (;;) {
        const struct xtio__map_slot *slot = &map->slots[i];
        if (!slot->value) {
            *found = false;
            return i;
        }
        if (slot->vpid == vpid && slot->id == id) {
            *found = true;
            return i;
        }
        i = (i + 1) & mask;
    }
}

static int grow(struct xtio__map *map)
{
    size_t cap = map->cap ? map->cap * 2 : 16;
    struct xtio__map_slot *slots = calloc(cap, sizeof(*slots));
    if (!slots)
        return -ENOMEM;
    struct xtio__map old = *map;
    map->slots = slots;
    map->cap = cap;
    for (size_t i = 0; i < old.cap; i++) {
        if (!old.slots[i].value)
            continue;
        bool found;
        size_t j = find(map, old.slots[i].vpid, old.slots[i].id, &found);
        map->slots[j] = old.slots[i];
    }
    free(old.slots);
    return 0;
}

void xtio__map_fini(struct xtio__map *map)
{
    free(map->slots);
    map->slots = NULL;
    map->cap = 0;
    map->len = 0;
}

void *xtio__map_get(const struct xtio__map *map, int64_t vpid, uint64_t id)
{
    if (map->len == 0)
        return NULL;
    bool found;
    size_t i = find(map, vpid, id, &found);
    return found ? map->slots[i].value : NULL;
}

/* put, or add when !replace: 0, -EEXIST or -ENOMEM. */
static int insert(struct xtio__map *map, int64_t vpid, uint64_t id, void *value, bool replace)
{
    /* Kept at most half full, so that probe runs stay short. */
    if ((map->len + 1) * 2 > map->cap) {
        int status = grow(map);
        if (status)
            return status;
    }
    bool found;
    size_t i = find(map, vpid, id, &found);
    if (found && !replace)
        return -EEXIST;
    if (!found)
        map->len++;
    map->slots[i] = (struct xtio__map_slot){.vpid = vpid, .id = id, .value = value};
    return 0;
}

int xtio__map_put(struct xtio__map *map, int64_t vpid, uint64_t id, void *value)
{
    return insert(map, vpid, id, value, true);
}

int xtio__map_add(struct xtio__map *map, int64_t vpid, uint64_t id, void *value)
{
    return insert(map, vpid, id, value, false);
}

void *xtio__map_remove(struct xtio__map *map, int64_t vpid, uint64_t id)
{
    if (map->len == 0)
        return NULL;
    bool found;
    size_t hole = find(map, vpid, id, &found);
    if (!found)
        return NULL;
    void *value = map->slots[hole].value;
    size_t mask = map->cap - 1;
    /* Backward shift instead of tombstones: a map that sees millions of inserts and removes
     * would otherwise fill with tombstones and probe ever longer. */
    for (size_t j = (hole + 1) & mask; map->slots[j].value; j = (j + 1) & mask) {
        size_t home = hash(map->slots[j].vpid, map->slots[j].id) & mask;
        bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (stays)
            continue;
        map->slots[hole] = map->slots[j];
        hole = j;
    }
    map->slots[hole].value = NULL;
    map->len--;
    return value;
}
