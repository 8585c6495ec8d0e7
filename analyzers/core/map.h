/*
 * Private to the analysis core: an open-addressing hash map from a (vpid, id) key to a pointer.
 * The map owns its slots, not what the pointers point to. Its capacity follows the most entries
 * it ever held at once: for the maps of what is in flight (connections, the handoffs that overflow
 * their ring), the most in flight at once.
 */
#ifndef XTIO_ANALYZERS_MAP_H
#define XTIO_ANALYZERS_MAP_H

#include <stddef.h>
#include <stdint.h>

struct xtio__map_slot {
    int64_t vpid;
    uint64_t id;
    void *value; /* weak; NULL: the slot is free */
};

struct xtio__map {
    struct xtio__map_slot *slots; /* owned; cap of them, cap a power of two or 0 */
    size_t cap;
    size_t len;
};

void xtio__map_fini(struct xtio__map *map);
/* NULL when absent. */
void *xtio__map_get(const struct xtio__map *map, int64_t vpid, uint64_t id);
/* Inserts, or replaces the value of an existing key. value must not be NULL. 0 or -ENOMEM. */
int xtio__map_put(struct xtio__map *map, int64_t vpid, uint64_t id, void *value);
/* Inserts unless the key is there: 0, -EEXIST (the map is unchanged) or -ENOMEM. One probe where
 * a get and a put take two. value must not be NULL. */
int xtio__map_add(struct xtio__map *map, int64_t vpid, uint64_t id, void *value);
/* Removes the key; returns its value, NULL when absent. */
void *xtio__map_remove(struct xtio__map *map, int64_t vpid, uint64_t id);

#endif
