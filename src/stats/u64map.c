/*
 * u64map.c — see u64map.h. Slots are chosen by the same 64-bit mixer as the
 * sketches (ids are sequential; their low bits alone would cluster).
 */
#include "stats/u64map.h"

#include "core/alloc.h"
#include "stats/hll.h"

#include <string.h>

#define MIN_CAP 16

void u64map_init(struct u64map *map)
{
    memset(map, 0, sizeof *map);
}

void u64map_clear(struct u64map *map)
{
    reel_free(map->keys);
    reel_free(map->values);
    memset(map, 0, sizeof *map);
}

void u64map_reset(struct u64map *map)
{
    if (map->keys)
        memset(map->keys, 0, map->cap * sizeof *map->keys);
    map->count = 0;
}

static size_t slot_of(const struct u64map *map, uint64_t key)
{
    size_t mask = map->cap - 1;
    size_t i = (size_t)hll_hash(key) & mask;
    while (map->keys[i] && map->keys[i] != key)
        i = (i + 1) & mask;
    return i;
}

uint32_t *u64map_find(const struct u64map *map, uint64_t key)
{
    if (!map->cap || !key)
        return NULL;
    size_t i = slot_of(map, key);
    return map->keys[i] ? &map->values[i] : NULL;
}

static int grow(struct u64map *map)
{
    size_t cap = map->cap ? map->cap * 2 : MIN_CAP;
    struct u64map bigger = {.cap = cap};
    bigger.keys = reel_calloc(cap, sizeof *bigger.keys);
    bigger.values = reel_malloc(cap * sizeof *bigger.values);
    if (!bigger.keys || !bigger.values) {
        reel_free(bigger.keys);
        reel_free(bigger.values);
        return -1;
    }
    for (size_t i = 0; i < map->cap; i++) {
        if (!map->keys[i])
            continue;
        size_t j = slot_of(&bigger, map->keys[i]);
        bigger.keys[j] = map->keys[i];
        bigger.values[j] = map->values[i];
    }
    bigger.count = map->count;
    u64map_clear(map);
    *map = bigger;
    return 0;
}

int u64map_put(struct u64map *map, uint64_t key, uint32_t value)
{
    if (!key)
        return -1;
    if ((map->count + 1) * 2 > map->cap && grow(map) < 0)
        return -1;
    size_t i = slot_of(map, key);
    if (!map->keys[i]) {
        map->keys[i] = key;
        map->count++;
    }
    map->values[i] = value;
    return 0;
}

size_t u64map_memory_bytes(const struct u64map *map)
{
    return map->cap * (sizeof *map->keys + sizeof *map->values);
}
