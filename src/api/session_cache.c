/*
 * session_cache.c — the sessions behind bearer tokens, so that checking a
 * token (every authenticated request) is a lookup in memory instead of a
 * read transaction on the session's store.
 *
 * The rules are the card cache's (card_cache.c). The stores report every
 * sessions row this process writes (store_set_change_hook: a login, a
 * logout, the revocation of all of a user's sessions, the cascade of an
 * erasure), and each bumps the version counter its id hashes to. An entry
 * keeps that counter as it was *before* its row was read and is current
 * while the counter is unchanged; an entry whose counter moved between the
 * stamp and the put is not kept. A deleted user's entries are wiped, and
 * too many rows at once (STORE_ROW_ALL) wipe every entry.
 *
 * Writes by another process (a `reel` tool revoking a user's sessions) are
 * not reported: entries also expire CACHE_TTL_MS (10 s) after their read, the
 * bound on how long a token revoked that way still opens. Only what the
 * store returned is kept; the caller checks the token's hash, revocation
 * and expiry against it every time, as against a fresh read.
 *
 * Sets, locks and counters are cache_sets.h's; a new entry takes an empty
 * way, else the one read longest ago.
 */
#include "api/api.h"

#include "api/cache_sets.h"
#include "core/alloc.h"

#include <sodium.h>
#include <string.h>

struct entry {
    struct store_session s; /* s.id 0 = empty */
    struct cache_stamp stamp;
};

struct session_cache {
    struct cache_sets sets;
    struct entry *entries;
};

struct session_cache *api_session_cache_create(unsigned slots)
{
    if (slots == 0)
        return NULL;
    struct session_cache *c = reel_calloc(1, sizeof *c);
    if (c && !(c->entries = cache_sets_open(&c->sets, slots, sizeof *c->entries))) {
        reel_free(c);
        return NULL;
    }
    return c;
}

void api_session_cache_destroy(struct session_cache *c)
{
    if (!c)
        return;
    sodium_memzero(c->entries, (size_t)cache_entries(&c->sets) * sizeof *c->entries);
    cache_sets_destroy(&c->sets);
    reel_free(c->entries);
    reel_free(c);
}

static struct entry *find(struct session_cache *c, uint32_t set, uint64_t id)
{
    struct entry *e = &c->entries[(size_t)set * CACHE_WAYS];
    for (int w = 0; w < CACHE_WAYS; w++)
        if (e[w].s.id == id)
            return &e[w];
    return NULL;
}

void api_session_cache_changed(struct session_cache *c, enum store_row row, uint64_t id,
                               bool deleted)
{
    if (!c)
        return;
    if (row == STORE_ROW_SESSION) {
        atomic_fetch_add(cache_version(&c->sets, id), 1);
        return;
    }
    if (row == STORE_ROW_ALL)
        atomic_fetch_add(&c->sets.epoch, 1);
    else if (row != STORE_ROW_USER || !deleted)
        return;
    /* An erased user: none of its sessions stays, even in memory (a scan;
     * erasures are rare). Too many rows at once: the notices of deletions
     * among them are not repeated after the commit, so everything goes. */
    for (uint32_t stripe = 0; stripe < CACHE_LOCKS; stripe++) {
        pthread_mutex_lock(&c->sets.locks[stripe]);
        for (uint32_t set = stripe; set <= c->sets.sets_mask; set += CACHE_LOCKS)
            for (int w = 0; w < CACHE_WAYS; w++) {
                struct entry *e = &c->entries[(size_t)set * CACHE_WAYS + w];
                if (e->s.id && (row == STORE_ROW_ALL || e->s.user_id == id))
                    sodium_memzero(e, sizeof *e);
            }
        pthread_mutex_unlock(&c->sets.locks[stripe]);
    }
}

bool api_session_cache_get(struct session_cache *c, uint64_t id, struct store_session *out)
{
    if (!c || !id)
        return false;
    uint32_t set = cache_set(&c->sets, id);
    int64_t now = clock_mono_ms();
    pthread_mutex_lock(cache_lock(&c->sets, set));
    const struct entry *e = find(c, set, id);
    bool hit = e && cache_stamp_current(&c->sets, id, &e->stamp, now);
    if (hit)
        *out = e->s;
    pthread_mutex_unlock(cache_lock(&c->sets, set));
    return hit;
}

void api_session_cache_stamp(struct session_cache *c, uint64_t id, struct cache_stamp *st)
{
    if (c)
        cache_stamp_take(&c->sets, id, st);
}

void api_session_cache_put(struct session_cache *c, const struct store_session *s,
                           const struct cache_stamp *st)
{
    if (!c || !s->id)
        return;
    uint32_t set = cache_set(&c->sets, s->id);
    pthread_mutex_lock(cache_lock(&c->sets, set));
    /* A change since the stamp: what was read may be outdated already. */
    if (cache_stamp_unchanged(&c->sets, s->id, st)) {
        struct entry *e = find(c, set, s->id);
        if (!e) {
            struct entry *way = &c->entries[(size_t)set * CACHE_WAYS];
            e = &way[0];
            for (int w = 0; w < CACHE_WAYS; w++) {
                if (!way[w].s.id) {
                    e = &way[w];
                    break;
                }
                if (way[w].stamp.read_ms < e->stamp.read_ms)
                    e = &way[w];
            }
        }
        e->s = *s;
        e->stamp = *st;
    }
    pthread_mutex_unlock(cache_lock(&c->sets, set));
}
