/*
 * u64map.h — an open-addressing hash map from nonzero 64-bit keys (ids) to
 * 32-bit values (indexes into the caller's arrays). Linear probing, load
 * factor <= 1/2, power-of-two capacity; no deletion — callers that drop
 * entries rebuild the map (trending and creator stats prune in batches).
 * The caller provides the struct (init/clear); not thread-safe.
 */
#ifndef REEL_STATS_U64MAP_H
#define REEL_STATS_U64MAP_H

#include <stddef.h>
#include <stdint.h>

struct u64map {
    uint64_t *keys; /* 0 = empty slot */
    uint32_t *values;
    size_t cap; /* slots, a power of two (0 before the first put) */
    size_t count;
};

void u64map_init(struct u64map *map);
/* Frees the slots; the map may be reused after u64map_init. */
void u64map_clear(struct u64map *map);
/* Empties the map, keeping its memory. */
void u64map_reset(struct u64map *map);

/* Pointer to the value stored for key (nonzero), valid until the next put;
 * NULL if absent. */
uint32_t *u64map_find(const struct u64map *map, uint64_t key);
/* Stores value for key (nonzero), replacing any previous value. Returns 0,
 * or -1 when out of memory or key is 0 (map unchanged). */
int u64map_put(struct u64map *map, uint64_t key, uint32_t value);

size_t u64map_memory_bytes(const struct u64map *map);

#endif
