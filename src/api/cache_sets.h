/*
 * cache_sets.h — what the caches of rendered cards, sessions and likes share
 * (card_cache.c, session_cache.c, likes_cache.c; internal to api/).
 *
 * Entries sit in sets of CACHE_WAYS, an entry's set chosen by a hash of its
 * key; sets are locked in CACHE_LOCKS stripes. Invalidation is by version
 * counters, not by finding entries: a change to a key bumps the counter its
 * id hashes to (CACHE_VERSION_SLOTS of them: keys sharing one invalidate each
 * other, which costs a read, never a stale answer), and `epoch` ends every
 * entry at once. An entry keeps the counters as they were before its data
 * was read and is current while they are unchanged and it is younger than
 * CACHE_TTL_MS, the bound for changes the stores cannot report (another
 * process's writes).
 */
#ifndef REEL_API_CACHE_SETS_H
#define REEL_API_CACHE_SETS_H

#include "api/api.h"
#include "core/alloc.h"
#include "core/clock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define CACHE_VERSION_SLOTS (1u << 16)
#define CACHE_LOCKS 256
#define CACHE_WAYS 4
#define CACHE_TTL_MS 10000

struct cache_sets {
    uint32_t sets_mask; /* sets - 1: entries [set * CACHE_WAYS, + CACHE_WAYS) */
    pthread_mutex_t locks[CACHE_LOCKS];
    _Atomic uint32_t epoch;
    _Atomic uint32_t versions[CACHE_VERSION_SLOTS];
};

/* Sets up for `slots` entries, rounded up to a power of two (at least
 * CACHE_WAYS); returns how many entries to allocate. */
static inline uint32_t cache_sets_init(struct cache_sets *c, unsigned slots)
{
    uint32_t n = CACHE_WAYS;
    while (n < slots)
        n <<= 1;
    c->sets_mask = n / CACHE_WAYS - 1;
    for (int i = 0; i < CACHE_LOCKS; i++)
        pthread_mutex_init(&c->locks[i], NULL);
    return n;
}

static inline void cache_sets_destroy(struct cache_sets *c)
{
    for (int i = 0; i < CACHE_LOCKS; i++)
        pthread_mutex_destroy(&c->locks[i]);
}

/* cache_sets_init, and the zeroed entries (of entry_size bytes) it asks
 * for; NULL, with the sets undone, when out of memory. */
static inline void *cache_sets_open(struct cache_sets *c, unsigned slots, size_t entry_size)
{
    void *entries = reel_calloc(cache_sets_init(c, slots), entry_size);
    if (!entries)
        cache_sets_destroy(c);
    return entries;
}

static inline uint32_t cache_entries(const struct cache_sets *c)
{
    return (c->sets_mask + 1) * CACHE_WAYS;
}

static inline uint32_t cache_mix(uint64_t id)
{
    id ^= id >> 31;
    id *= 0x9E3779B97F4A7C15ULL;
    return (uint32_t)(id >> 32);
}

static inline _Atomic uint32_t *cache_version(struct cache_sets *c, uint64_t id)
{
    return &c->versions[cache_mix(id ^ 0x7665727369ULL) & (CACHE_VERSION_SLOTS - 1)];
}

static inline uint32_t cache_set(const struct cache_sets *c, uint64_t id)
{
    return cache_mix(id) & c->sets_mask;
}

static inline pthread_mutex_t *cache_lock(struct cache_sets *c, uint32_t set)
{
    return &c->locks[set % CACHE_LOCKS];
}

/* Whether an entry stamped (ver, epoch) at read_ms is current for id. */
static inline int cache_current(struct cache_sets *c, uint64_t id, uint32_t ver, uint32_t epoch,
                                int64_t read_ms, int64_t now_ms)
{
    return now_ms - read_ms < CACHE_TTL_MS && epoch == atomic_load(&c->epoch) &&
           ver == atomic_load(cache_version(c, id));
}

/* Taken for id before its data is read from the store. */
static inline void cache_stamp_take(struct cache_sets *c, uint64_t id, struct cache_stamp *st)
{
    st->ver = atomic_load(cache_version(c, id));
    st->epoch = atomic_load(&c->epoch);
    st->read_ms = clock_mono_ms();
}

/* Whether nothing of id changed since the stamp: what was read may be kept
 * (under the set's lock). */
static inline int cache_stamp_unchanged(struct cache_sets *c, uint64_t id,
                                        const struct cache_stamp *st)
{
    return atomic_load(cache_version(c, id)) == st->ver && atomic_load(&c->epoch) == st->epoch;
}

/* cache_current for an entry kept with its stamp. */
static inline int cache_stamp_current(struct cache_sets *c, uint64_t id,
                                      const struct cache_stamp *st, int64_t now_ms)
{
    return cache_current(c, id, st->ver, st->epoch, st->read_ms, now_ms);
}

#endif
