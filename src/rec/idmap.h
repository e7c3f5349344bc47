/*
 * idmap.h — a collision-free hash table from 64-bit ids to 32-bit row numbers.
 *
 * This is the "collision-free embedding table" of ByteDance's Monolith in its
 * simplest form: the full 64-bit key is stored, so two ids never share a row
 * (the hashing trick of older systems silently merges them). Values are row
 * numbers into the caller's dense arrays (users.c, videos.c), so rows stay put
 * when the table grows or when entries are deleted.
 *
 * Layout: open addressing with linear probing over 16-byte slots {key, row};
 * key 0 marks an empty slot (id 0 is never a valid Reel id). Deletion shifts
 * the following cluster back (no tombstones), so lookups stay short under
 * churn. The table doubles at 3/4 load; growing rehashes every slot at once.
 *
 * Not thread-safe: callers hold the engine lock (engine.h).
 */
#ifndef REEL_REC_IDMAP_H
#define REEL_REC_IDMAP_H

#include <stddef.h>
#include <stdint.h>

#define IDMAP_NONE UINT32_MAX

struct idmap_slot {
    uint64_t key; /* 0 = empty */
    uint32_t row;
    uint32_t spare; /* padding, keeps slots 16 bytes */
};

struct idmap {
    struct idmap_slot *slots;
    size_t mask;  /* capacity - 1; capacity is a power of two */
    size_t count;
};

/* Prepares an empty map with room for `expected` keys before it grows.
 * Returns 0, or -1 when out of memory (the map is then unusable). */
int idmap_init(struct idmap *map, size_t expected);
/* Frees the slots; the map may be idmap_init'ed again. */
void idmap_clear(struct idmap *map);

/* The row stored for key, or IDMAP_NONE. Inline (below): every event takes
 * several lookups. */
static inline uint32_t idmap_get(const struct idmap *map, uint64_t key);
/* Stores key -> row, replacing an existing row. key must not be 0. Returns 0,
 * or -1 when the table had to grow and could not (the map is unchanged). */
int idmap_put(struct idmap *map, uint64_t key, uint32_t row);
/* Removes key; returns the row it had, or IDMAP_NONE. */
uint32_t idmap_del(struct idmap *map, uint64_t key);
/* Hints the CPU to fetch the key's home slot (for batched lookups). */
static inline void idmap_prefetch(const struct idmap *map, uint64_t key);
/* Bytes held by the slots. */
size_t idmap_bytes(const struct idmap *map);

/* Asks the kernel to back a large table with huge pages (transparent huge
 * pages in "madvise" mode, Debian's default): at ten million users the page
 * walks of random lookups cost as much as the lookups. No-op for small
 * blocks and on failure. */
void rec_hugepages(void *ptr, size_t size);

/* Asks the CPU for the cache lines of p[0..n), for writing (a hint: nothing
 * is read). */
static inline void rec_prefetch_span(const void *p, size_t n)
{
    const char *c = p;
    for (size_t off = 0; off < n; off += 64)
        __builtin_prefetch(c + off, 1);
    __builtin_prefetch(c + n - 1, 1);
}

/* The 64-bit mixer used for every hash in rec/ (splitmix64's finalizer). */
static inline uint64_t rec_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

static inline uint32_t idmap_get(const struct idmap *map, uint64_t key)
{
    if (key == 0 || !map->slots)
        return IDMAP_NONE;
    size_t i = rec_mix64(key) & map->mask;
    for (;;) {
        const struct idmap_slot *s = &map->slots[i];
        if (s->key == key)
            return s->row;
        if (s->key == 0)
            return IDMAP_NONE;
        i = (i + 1) & map->mask;
    }
}

static inline void idmap_prefetch(const struct idmap *map, uint64_t key)
{
    if (map->slots)
        __builtin_prefetch(&map->slots[rec_mix64(key) & map->mask]);
}

#endif
