/*
 * idmap.c — see idmap.h.
 */
#include "rec/idmap.h"

#include "core/alloc.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE_PAGE ((uintptr_t)2 << 20)

void rec_hugepages(void *ptr, size_t size)
{
    if (!ptr || size < 4 * HUGE_PAGE)
        return;
    uintptr_t start = ((uintptr_t)ptr + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    uintptr_t end = ((uintptr_t)ptr + size) & ~(HUGE_PAGE - 1);
    if (end > start)
        madvise((void *)start, end - start, MADV_HUGEPAGE);
}

static size_t capacity_for(size_t expected)
{
    size_t cap = 16;
    while (cap / 4 * 3 < expected && cap < ((size_t)1 << 40))
        cap <<= 1;
    return cap;
}

int idmap_init(struct idmap *map, size_t expected)
{
    size_t cap = capacity_for(expected);
    map->slots = reel_calloc(cap, sizeof *map->slots);
    if (!map->slots) {
        map->mask = 0;
        map->count = 0;
        return -1;
    }
    rec_hugepages(map->slots, cap * sizeof *map->slots);
    map->mask = cap - 1;
    map->count = 0;
    return 0;
}

void idmap_clear(struct idmap *map)
{
    reel_free(map->slots);
    map->slots = NULL;
    map->mask = 0;
    map->count = 0;
}

static void insert_fresh(struct idmap_slot *slots, size_t mask, uint64_t key, uint32_t row)
{
    size_t i = rec_mix64(key) & mask;
    while (slots[i].key != 0)
        i = (i + 1) & mask;
    slots[i].key = key;
    slots[i].row = row;
}

static int grow(struct idmap *map)
{
    size_t cap = (map->mask + 1) * 2;
    struct idmap_slot *slots = reel_calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    rec_hugepages(slots, cap * sizeof *slots);
    for (size_t i = 0; i <= map->mask; i++)
        if (map->slots[i].key)
            insert_fresh(slots, cap - 1, map->slots[i].key, map->slots[i].row);
    reel_free(map->slots);
    map->slots = slots;
    map->mask = cap - 1;
    return 0;
}

int idmap_put(struct idmap *map, uint64_t key, uint32_t row)
{
    if (key == 0 || !map->slots)
        return -1;
    size_t i = rec_mix64(key) & map->mask;
    for (;;) {
        struct idmap_slot *s = &map->slots[i];
        if (s->key == key) {
            s->row = row;
            return 0;
        }
        if (s->key == 0)
            break;
        i = (i + 1) & map->mask;
    }
    if ((map->count + 1) > (map->mask + 1) / 4 * 3) {
        if (grow(map) < 0)
            return -1;
        insert_fresh(map->slots, map->mask, key, row);
    } else {
        map->slots[i].key = key;
        map->slots[i].row = row;
    }
    map->count++;
    return 0;
}

uint32_t idmap_del(struct idmap *map, uint64_t key)
{
    if (key == 0 || !map->slots)
        return IDMAP_NONE;
    size_t mask = map->mask;
    size_t i = rec_mix64(key) & mask;
    while (map->slots[i].key != key) {
        if (map->slots[i].key == 0)
            return IDMAP_NONE;
        i = (i + 1) & mask;
    }
    uint32_t row = map->slots[i].row;
    /* Backward-shift deletion: move each following entry whose home slot is
     * not between the hole and itself into the hole. */
    size_t hole = i;
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (map->slots[j].key == 0)
            break;
        size_t home = rec_mix64(map->slots[j].key) & mask;
        bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
        if (stays)
            continue;
        map->slots[hole] = map->slots[j];
        hole = j;
    }
    memset(&map->slots[hole], 0, sizeof map->slots[hole]);
    map->count--;
    return row;
}

size_t idmap_bytes(const struct idmap *map)
{
    return map->slots ? (map->mask + 1) * sizeof *map->slots : 0;
}
