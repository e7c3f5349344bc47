/*
 * likes_cache.c — which videos a viewer likes, for `liked_by_me` on every
 * card of every page (For You above all), without a store transaction of
 * point lookups per page.
 *
 * An entry is the whole sorted list of a user's likes, if there are at most
 * LIKES_KEPT; a user with more is remembered as such and answered from the
 * store as before. The rules are the card cache's (card_cache.c): the store
 * reports every like and unlike this process makes (STORE_ROW_LIKES, from
 * store_like_put/delete through the change hook, during the transaction and
 * after it), each bumping the version counter the user's id hashes to; an
 * entry keeps that counter as it was before its list was read and is current
 * while it is unchanged; an entry whose counter moved between stamp and put
 * is not kept. An erased user's entry is dropped; too many rows at once
 * (STORE_ROW_ALL) end every entry. Another process's likes are not reported:
 * entries expire LIKES_TTL_MS after their read. A deleted video's likes are
 * deleted without a report; its id may stay in a list, which is harmless:
 * a deleted video is on no page.
 *
 * Sets of LIKES_WAYS entries keyed by user, locked in LIKES_LOCKS stripes.
 */
#include "api/api.h"

#include "core/alloc.h"
#include "core/clock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#define VERSION_SLOTS (1u << 16)
#define LIKES_LOCKS 256
#define LIKES_WAYS 4
#define LIKES_TTL_MS 10000
#define LIKES_MANY UINT32_MAX /* count of a user with more than LIKES_KEPT */

struct entry {
    uint64_t user_id; /* 0 = empty */
    uint32_t count, cap;
    uint32_t ver, epoch;
    int64_t read_ms;
    uint64_t *ids; /* sorted, count of them */
};

struct likes_cache {
    uint32_t sets_mask;
    struct entry *entries;
    pthread_mutex_t locks[LIKES_LOCKS];
    _Atomic uint32_t epoch;
    _Atomic uint32_t versions[VERSION_SLOTS];
};

static uint32_t mix(uint64_t id)
{
    id ^= id >> 31;
    id *= 0x9E3779B97F4A7C15ULL;
    return (uint32_t)(id >> 32);
}

static _Atomic uint32_t *version_of(struct likes_cache *c, uint64_t user_id)
{
    return &c->versions[mix(user_id ^ 0x6c696b6573ULL) & (VERSION_SLOTS - 1)];
}

static uint32_t set_of(const struct likes_cache *c, uint64_t user_id)
{
    return mix(user_id) & c->sets_mask;
}

static pthread_mutex_t *lock_of(struct likes_cache *c, uint32_t set)
{
    return &c->locks[set % LIKES_LOCKS];
}

static int64_t now_ms(void)
{
    return (int64_t)(clock_mono_ns() / 1000000);
}

struct likes_cache *api_likes_cache_create(unsigned users)
{
    if (users == 0)
        return NULL;
    uint32_t n = LIKES_WAYS;
    while (n < users)
        n <<= 1;
    struct likes_cache *c = reel_calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (!(c->entries = reel_calloc(n, sizeof *c->entries))) {
        reel_free(c);
        return NULL;
    }
    c->sets_mask = n / LIKES_WAYS - 1;
    for (int i = 0; i < LIKES_LOCKS; i++)
        pthread_mutex_init(&c->locks[i], NULL);
    return c;
}

void api_likes_cache_destroy(struct likes_cache *c)
{
    if (!c)
        return;
    for (uint32_t i = 0; i < (c->sets_mask + 1) * LIKES_WAYS; i++)
        reel_free(c->entries[i].ids);
    for (int i = 0; i < LIKES_LOCKS; i++)
        pthread_mutex_destroy(&c->locks[i]);
    reel_free(c->entries);
    reel_free(c);
}

static struct entry *find(struct likes_cache *c, uint32_t set, uint64_t user_id)
{
    struct entry *e = &c->entries[(size_t)set * LIKES_WAYS];
    for (int w = 0; w < LIKES_WAYS; w++)
        if (e[w].user_id == user_id)
            return &e[w];
    return NULL;
}

static void entry_empty(struct entry *e)
{
    if (e->ids)
        memset(e->ids, 0, (size_t)e->cap * sizeof *e->ids);
    e->user_id = 0;
    e->count = 0;
}

void api_likes_cache_changed(struct likes_cache *c, enum store_row row, uint64_t id, bool deleted)
{
    if (!c)
        return;
    if (row == STORE_ROW_ALL) {
        atomic_fetch_add(&c->epoch, 1);
    } else if (row == STORE_ROW_LIKES) {
        atomic_fetch_add(version_of(c, id), 1);
    } else if (row == STORE_ROW_USER && deleted) {
        atomic_fetch_add(version_of(c, id), 1);
        uint32_t set = set_of(c, id);
        pthread_mutex_lock(lock_of(c, set));
        struct entry *e = find(c, set, id);
        if (e)
            entry_empty(e);
        pthread_mutex_unlock(lock_of(c, set));
    }
}

static bool holds(const uint64_t *ids, uint32_t n, uint64_t id)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && ids[lo] == id;
}

enum api_likes api_likes_cache_check(struct likes_cache *c, uint64_t user_id, const uint64_t *ids,
                                     size_t n, bool *liked)
{
    if (!c || !user_id)
        return API_LIKES_MISS;
    uint32_t set = set_of(c, user_id);
    int64_t now = now_ms();
    enum api_likes r = API_LIKES_MISS;
    pthread_mutex_lock(lock_of(c, set));
    const struct entry *e = find(c, set, user_id);
    if (e && now - e->read_ms < LIKES_TTL_MS && e->epoch == atomic_load(&c->epoch) &&
        e->ver == atomic_load(version_of(c, user_id))) {
        if (e->count == LIKES_MANY) {
            r = API_LIKES_MANY;
        } else {
            for (size_t i = 0; i < n; i++)
                liked[i] = holds(e->ids, e->count, ids[i]);
            r = API_LIKES_HIT;
        }
    }
    pthread_mutex_unlock(lock_of(c, set));
    return r;
}

void api_likes_cache_stamp(struct likes_cache *c, uint64_t user_id, struct likes_stamp *st)
{
    if (!c)
        return;
    st->ver = atomic_load(version_of(c, user_id));
    st->epoch = atomic_load(&c->epoch);
    st->read_ms = now_ms();
}

void api_likes_cache_put(struct likes_cache *c, uint64_t user_id, const uint64_t *ids,
                         size_t count, bool more, const struct likes_stamp *st)
{
    if (!c || !user_id || (!more && count > API_LIKES_KEPT))
        return;
    uint32_t set = set_of(c, user_id);
    pthread_mutex_lock(lock_of(c, set));
    if (atomic_load(version_of(c, user_id)) != st->ver || atomic_load(&c->epoch) != st->epoch) {
        pthread_mutex_unlock(lock_of(c, set));
        return; /* a like or unlike since the stamp: the list may miss it */
    }
    struct entry *e = find(c, set, user_id);
    if (!e) {
        struct entry *way = &c->entries[(size_t)set * LIKES_WAYS];
        e = &way[0];
        for (int w = 0; w < LIKES_WAYS; w++) {
            if (!way[w].user_id) {
                e = &way[w];
                break;
            }
            if (way[w].read_ms < e->read_ms)
                e = &way[w];
        }
        entry_empty(e);
    }
    if (!more && count > e->cap) {
        uint64_t *grown = reel_malloc(count * sizeof *grown);
        if (!grown) {
            pthread_mutex_unlock(lock_of(c, set));
            return;
        }
        if (e->ids)
            memset(e->ids, 0, (size_t)e->cap * sizeof *e->ids);
        reel_free(e->ids);
        e->ids = grown;
        e->cap = (uint32_t)count;
    }
    e->user_id = user_id;
    e->count = more ? LIKES_MANY : (uint32_t)count;
    if (!more && count)
        memcpy(e->ids, ids, count * sizeof *ids);
    e->ver = st->ver;
    e->epoch = st->epoch;
    e->read_ms = st->read_ms;
    pthread_mutex_unlock(lock_of(c, set));
}
