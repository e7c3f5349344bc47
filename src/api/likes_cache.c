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
 * is not kept. An erased user's entry is wiped; too many rows at once
 * (STORE_ROW_ALL) wipe every entry. Another process's likes are not reported:
 * entries expire CACHE_TTL_MS (10 s) after their read. A deleted video's likes are
 * deleted without a report; its id may stay in a list, which is harmless:
 * a deleted video is on no page.
 *
 * Sets, locks and counters are cache_sets.h's, keyed by user.
 */
#include "api/api.h"

#include "api/cache_sets.h"
#include "core/alloc.h"
#include "core/sorted.h"

#include <string.h>

#define LIKES_MANY UINT32_MAX /* count of a user with more than API_LIKES_KEPT */

struct entry {
    uint64_t user_id; /* 0 = empty */
    uint32_t count, cap;
    struct cache_stamp stamp;
    uint64_t *ids; /* sorted, count of them */
};

struct likes_cache {
    struct cache_sets sets;
    struct entry *entries;
};

struct likes_cache *api_likes_cache_create(unsigned users)
{
    if (users == 0)
        return NULL;
    struct likes_cache *c = reel_calloc(1, sizeof *c);
    if (c && !(c->entries = cache_sets_open(&c->sets, users, sizeof *c->entries))) {
        reel_free(c);
        return NULL;
    }
    return c;
}

static void entry_empty(struct entry *e)
{
    if (e->ids)
        memset(e->ids, 0, (size_t)e->cap * sizeof *e->ids);
    e->user_id = 0;
    e->count = 0;
}

void api_likes_cache_destroy(struct likes_cache *c)
{
    if (!c)
        return;
    for (uint32_t i = 0; i < cache_entries(&c->sets); i++) {
        entry_empty(&c->entries[i]);
        reel_free(c->entries[i].ids);
    }
    cache_sets_destroy(&c->sets);
    reel_free(c->entries);
    reel_free(c);
}

static struct entry *find(struct likes_cache *c, uint32_t set, uint64_t user_id)
{
    struct entry *e = &c->entries[(size_t)set * CACHE_WAYS];
    for (int w = 0; w < CACHE_WAYS; w++)
        if (e[w].user_id == user_id)
            return &e[w];
    return NULL;
}

void api_likes_cache_changed(struct likes_cache *c, enum store_row row, uint64_t id, bool deleted)
{
    if (!c)
        return;
    if (row == STORE_ROW_LIKES) {
        atomic_fetch_add(cache_version(&c->sets, id), 1);
    } else if (row == STORE_ROW_USER && deleted) {
        atomic_fetch_add(cache_version(&c->sets, id), 1);
        uint32_t set = cache_set(&c->sets, id);
        pthread_mutex_lock(cache_lock(&c->sets, set));
        struct entry *e = find(c, set, id);
        if (e)
            entry_empty(e);
        pthread_mutex_unlock(cache_lock(&c->sets, set));
    } else if (row == STORE_ROW_ALL) {
        /* Too many rows at once: the notices of deletions among them are not
         * repeated after the commit, so every list goes. */
        atomic_fetch_add(&c->sets.epoch, 1);
        for (uint32_t stripe = 0; stripe < CACHE_LOCKS; stripe++) {
            pthread_mutex_lock(&c->sets.locks[stripe]);
            for (uint32_t set = stripe; set <= c->sets.sets_mask; set += CACHE_LOCKS)
                for (int w = 0; w < CACHE_WAYS; w++)
                    entry_empty(&c->entries[(size_t)set * CACHE_WAYS + w]);
            pthread_mutex_unlock(&c->sets.locks[stripe]);
        }
    }
}

enum api_likes api_likes_cache_check(struct likes_cache *c, uint64_t user_id, const uint64_t *ids,
                                     size_t n, bool *liked)
{
    if (!c || !user_id)
        return API_LIKES_MISS;
    uint32_t set = cache_set(&c->sets, user_id);
    int64_t now = clock_mono_ms();
    enum api_likes r = API_LIKES_MISS;
    pthread_mutex_lock(cache_lock(&c->sets, set));
    const struct entry *e = find(c, set, user_id);
    if (e && cache_stamp_current(&c->sets, user_id, &e->stamp, now)) {
        if (e->count == LIKES_MANY) {
            r = API_LIKES_MANY;
        } else {
            for (size_t i = 0; i < n; i++)
                liked[i] = sorted_u64_contains(e->ids, e->count, ids[i]);
            r = API_LIKES_HIT;
        }
    }
    pthread_mutex_unlock(cache_lock(&c->sets, set));
    return r;
}

void api_likes_cache_stamp(struct likes_cache *c, uint64_t user_id, struct cache_stamp *st)
{
    if (c)
        cache_stamp_take(&c->sets, user_id, st);
}

void api_likes_cache_put(struct likes_cache *c, uint64_t user_id, const uint64_t *ids,
                         size_t count, bool more, const struct cache_stamp *st)
{
    if (!c || !user_id || (!more && count > API_LIKES_KEPT))
        return;
    uint32_t set = cache_set(&c->sets, user_id);
    pthread_mutex_lock(cache_lock(&c->sets, set));
    if (!cache_stamp_unchanged(&c->sets, user_id, st)) {
        pthread_mutex_unlock(cache_lock(&c->sets, set));
        return; /* a like or unlike since the stamp: the list may miss it */
    }
    struct entry *e = find(c, set, user_id);
    if (!e) {
        struct entry *way = &c->entries[(size_t)set * CACHE_WAYS];
        e = &way[0];
        for (int w = 0; w < CACHE_WAYS; w++) {
            if (!way[w].user_id) {
                e = &way[w];
                break;
            }
            if (way[w].stamp.read_ms < e->stamp.read_ms)
                e = &way[w];
        }
        entry_empty(e);
    }
    if (!more && count > e->cap) {
        uint64_t *grown = reel_malloc(count * sizeof *grown);
        if (!grown) {
            pthread_mutex_unlock(cache_lock(&c->sets, set));
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
    e->stamp = *st;
    pthread_mutex_unlock(cache_lock(&c->sets, set));
}
