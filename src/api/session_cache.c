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
 * stamp and the put is not kept. A deleted user's entries are dropped, and
 * too many rows at once (STORE_ROW_ALL) end every entry.
 *
 * Writes by another process (a `reel` tool revoking a user's sessions) are
 * not reported: entries also expire SESSION_TTL_MS after their read, the
 * bound on how long a token revoked that way still opens. Only what the
 * store returned is kept; the caller checks the token's hash, revocation
 * and expiry against it every time, as against a fresh read.
 *
 * Sets of SESSION_WAYS entries, locked in SESSION_LOCKS stripes; a new entry
 * takes an empty way, else the one read longest ago.
 */
#include "api/api.h"

#include "core/alloc.h"
#include "core/clock.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <string.h>

#define VERSION_SLOTS (1u << 16)
#define SESSION_LOCKS 256
#define SESSION_WAYS 4
#define SESSION_TTL_MS 10000

struct entry {
    struct store_session s; /* s.id 0 = empty */
    uint32_t ver, epoch;
    int64_t read_ms;
};

struct session_cache {
    uint32_t sets_mask;
    struct entry *entries;
    pthread_mutex_t locks[SESSION_LOCKS];
    _Atomic uint32_t epoch;
    _Atomic uint32_t versions[VERSION_SLOTS];
};

static uint32_t mix(uint64_t id)
{
    id ^= id >> 31;
    id *= 0x9E3779B97F4A7C15ULL;
    return (uint32_t)(id >> 32);
}

static _Atomic uint32_t *version_of(struct session_cache *c, uint64_t id)
{
    return &c->versions[mix(id ^ 0x73657373ULL) & (VERSION_SLOTS - 1)];
}

static uint32_t set_of(const struct session_cache *c, uint64_t id)
{
    return mix(id) & c->sets_mask;
}

static pthread_mutex_t *lock_of(struct session_cache *c, uint32_t set)
{
    return &c->locks[set % SESSION_LOCKS];
}

static int64_t now_ms(void)
{
    return (int64_t)(clock_mono_ns() / 1000000);
}

struct session_cache *api_session_cache_create(unsigned slots)
{
    if (slots == 0)
        return NULL;
    uint32_t n = SESSION_WAYS;
    while (n < slots)
        n <<= 1;
    struct session_cache *c = reel_calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (!(c->entries = reel_calloc(n, sizeof *c->entries))) {
        reel_free(c);
        return NULL;
    }
    c->sets_mask = n / SESSION_WAYS - 1;
    for (int i = 0; i < SESSION_LOCKS; i++)
        pthread_mutex_init(&c->locks[i], NULL);
    return c;
}

void api_session_cache_destroy(struct session_cache *c)
{
    if (!c)
        return;
    sodium_memzero(c->entries, (size_t)(c->sets_mask + 1) * SESSION_WAYS * sizeof *c->entries);
    for (int i = 0; i < SESSION_LOCKS; i++)
        pthread_mutex_destroy(&c->locks[i]);
    reel_free(c->entries);
    reel_free(c);
}

static struct entry *find(struct session_cache *c, uint32_t set, uint64_t id)
{
    struct entry *e = &c->entries[(size_t)set * SESSION_WAYS];
    for (int w = 0; w < SESSION_WAYS; w++)
        if (e[w].s.id == id)
            return &e[w];
    return NULL;
}

void api_session_cache_changed(struct session_cache *c, enum store_row row, uint64_t id,
                               bool deleted)
{
    if (!c)
        return;
    if (row == STORE_ROW_ALL) {
        atomic_fetch_add(&c->epoch, 1);
    } else if (row == STORE_ROW_SESSION) {
        atomic_fetch_add(version_of(c, id), 1);
    } else if (row == STORE_ROW_USER && deleted) {
        /* An erased user: none of its sessions stays, even in memory (a
         * scan; erasures are rare). */
        for (uint32_t stripe = 0; stripe < SESSION_LOCKS; stripe++) {
            pthread_mutex_lock(&c->locks[stripe]);
            for (uint32_t set = stripe; set <= c->sets_mask; set += SESSION_LOCKS)
                for (int w = 0; w < SESSION_WAYS; w++) {
                    struct entry *e = &c->entries[(size_t)set * SESSION_WAYS + w];
                    if (e->s.id && e->s.user_id == id)
                        sodium_memzero(e, sizeof *e);
                }
            pthread_mutex_unlock(&c->locks[stripe]);
        }
    }
}

bool api_session_cache_get(struct session_cache *c, uint64_t id, struct store_session *out)
{
    if (!c || !id)
        return false;
    uint32_t set = set_of(c, id);
    int64_t now = now_ms();
    pthread_mutex_lock(lock_of(c, set));
    const struct entry *e = find(c, set, id);
    bool hit = e && now - e->read_ms < SESSION_TTL_MS && e->epoch == atomic_load(&c->epoch) &&
               e->ver == atomic_load(version_of(c, id));
    if (hit)
        *out = e->s;
    pthread_mutex_unlock(lock_of(c, set));
    return hit;
}

void api_session_cache_stamp(struct session_cache *c, uint64_t id, struct session_stamp *st)
{
    if (!c)
        return;
    st->ver = atomic_load(version_of(c, id));
    st->epoch = atomic_load(&c->epoch);
    st->read_ms = now_ms();
}

void api_session_cache_put(struct session_cache *c, const struct store_session *s,
                           const struct session_stamp *st)
{
    if (!c || !s->id)
        return;
    uint32_t set = set_of(c, s->id);
    pthread_mutex_lock(lock_of(c, set));
    /* A change since the stamp: what was read may be outdated already. */
    if (atomic_load(version_of(c, s->id)) == st->ver && atomic_load(&c->epoch) == st->epoch) {
        struct entry *e = find(c, set, s->id);
        if (!e) {
            struct entry *way = &c->entries[(size_t)set * SESSION_WAYS];
            e = &way[0];
            for (int w = 0; w < SESSION_WAYS; w++) {
                if (!way[w].s.id) {
                    e = &way[w];
                    break;
                }
                if (way[w].read_ms < e->read_ms)
                    e = &way[w];
            }
        }
        e->s = *s;
        e->ver = st->ver;
        e->epoch = st->epoch;
        e->read_ms = st->read_ms;
    }
    pthread_mutex_unlock(lock_of(c, set));
}
