/*
 * card_cache.c — rendered `Video` cards (API.md), so that a page of videos
 * (For You above all: tens of thousands a second) is copies of cached JSON
 * instead of a store read and a JSON writer run per video.
 *
 * A card is the members of the video's object without `liked_by_me` (the
 * viewer's own, checked per request) and without braces; only cards every
 * viewer may see are kept (a ready video of an active creator).
 *
 * Invalidation is by version counters (cache_sets.h): the stores report
 * every insert, update and delete of a videos or users row this process
 * makes (store_set_change_hook, SQLite's update hook), and each bumps the
 * counter its id hashes to. A card keeps the counters of its video and its
 * creator as they were *before* its rows were read; it is current while both
 * are unchanged. A store tells again right after the transaction's COMMIT or
 * ROLLBACK, so a card read from rows a transaction was changing is current
 * only until then; and a card whose counters moved between its stamp and its
 * put is not kept. Too many rows at once (an erasure) bump `epoch` and wipe
 * every card. Writes by another process are not reported: cards also expire
 * after CACHE_TTL_MS, the bound on how stale they can be then.
 *
 * The creator of a video is needed before the read (to take its counter)
 * but, the first time, known only after it. Then `users_gen`, bumped for
 * every users row before that row's own counter, stands in: if it did not
 * move from before the read to after it, no users row changed meanwhile and
 * the creator's counter taken after the read is as good as one taken
 * before. If it moved, the read only teaches the creator (a slot with no
 * card) for the next one. A video's creator never changes.
 *
 * A card in use is renewed before it expires, off the request path: the
 * card refresher (card_refresh.c) asks every second for the cards copied
 * since they were rendered and older than CACHE_TTL_MS - CARD_RENEW_AHEAD_MS
 * (api_card_cache_due) and reads them again in batches, stamped and put as
 * a page's missing cards are. A card nobody copies is left to expire.
 *
 * A video's card goes to its own way of its set if it has one, else an empty
 * way, else the one rendered longest ago. (Direct mapping, one slot per id,
 * lost a card to a collision on every seventh copy with 20,000 videos in
 * 65,536 slots.) A writer renders outside the lock and copies in.
 */
#include "api/api.h"

#include "api/cache_sets.h"
#include "core/alloc.h"

#include <string.h>

#define CARD_MAX_BYTES 16384 /* larger cards (long captions) are not kept */

struct card {
    uint64_t video_id; /* 0 = empty */
    uint64_t creator_id;
    uint32_t video_ver, creator_ver, epoch;
    uint32_t len, cap; /* len 0: creator known, no card */
    int64_t rendered_ms;
    char *body;
    bool copied;       /* since it was rendered (api_card_cache_due) */
};

struct card_cache {
    struct cache_sets sets;
    struct card *slots;
    _Atomic uint32_t users_gen;
};

struct card_cache *api_card_cache_create(unsigned slots)
{
    if (slots == 0)
        return NULL;
    struct card_cache *c = reel_calloc(1, sizeof *c);
    if (c && !(c->slots = cache_sets_open(&c->sets, slots, sizeof *c->slots))) {
        reel_free(c);
        return NULL;
    }
    return c;
}

static void slot_empty(struct card *k)
{
    if (k->body)
        memset(k->body, 0, k->cap);
    k->video_id = k->creator_id = 0;
    k->len = 0;
    k->copied = false;
}

void api_card_cache_destroy(struct card_cache *c)
{
    if (!c)
        return;
    for (uint32_t i = 0; i < cache_entries(&c->sets); i++) {
        slot_empty(&c->slots[i]);
        reel_free(c->slots[i].body);
    }
    cache_sets_destroy(&c->sets);
    reel_free(c->slots);
    reel_free(c);
}

/* The way of `set` holding video_id, or NULL. Under the set's lock. */
static struct card *find_way(struct card_cache *c, uint32_t set, uint64_t video_id)
{
    struct card *k = &c->slots[(size_t)set * CACHE_WAYS];
    for (int w = 0; w < CACHE_WAYS; w++)
        if (k[w].video_id == video_id)
            return &k[w];
    return NULL;
}

/* Where a card of video_id goes: its own way, an empty one, or the way
 * rendered longest ago. Under the set's lock. */
static struct card *victim_way(struct card_cache *c, uint32_t set, uint64_t video_id)
{
    struct card *own = find_way(c, set, video_id);
    if (own)
        return own; /* never a second copy of one video in a set */
    struct card *k = &c->slots[(size_t)set * CACHE_WAYS], *old = &k[0];
    for (int w = 0; w < CACHE_WAYS; w++) {
        if (k[w].video_id == 0)
            return &k[w];
        if (k[w].rendered_ms < old->rendered_ms)
            old = &k[w];
    }
    return old;
}


/* Deleted rows leave no card behind in memory (an erased user's name and
 * bio, a deleted video's caption), not only no current one: the video's
 * slot, or every card of the user's videos (a scan: deletions are rare).
 * Too many rows at once (STORE_ROW_ALL): the notices of deletions among
 * them are not repeated after the commit, so every card goes. */
static void forget_deleted(struct card_cache *c, enum store_row row, uint64_t id)
{
    if (row == STORE_ROW_VIDEO) {
        uint32_t set = cache_set(&c->sets, id);
        pthread_mutex_lock(cache_lock(&c->sets, set));
        struct card *k = find_way(c, set, id);
        if (k)
            slot_empty(k);
        pthread_mutex_unlock(cache_lock(&c->sets, set));
        return;
    }
    for (uint32_t stripe = 0; stripe < CACHE_LOCKS; stripe++) {
        pthread_mutex_lock(&c->sets.locks[stripe]);
        for (uint32_t set = stripe; set <= c->sets.sets_mask; set += CACHE_LOCKS)
            for (int w = 0; w < CACHE_WAYS; w++)
                if (row == STORE_ROW_ALL || c->slots[(size_t)set * CACHE_WAYS + w].creator_id == id)
                    slot_empty(&c->slots[(size_t)set * CACHE_WAYS + w]);
        pthread_mutex_unlock(&c->sets.locks[stripe]);
    }
}

void api_card_cache_changed(void *ctx, enum store_row row, uint64_t id, bool deleted)
{
    struct card_cache *c = ctx;
    if (row == STORE_ROW_ALL) {
        atomic_fetch_add(&c->sets.epoch, 1);
        forget_deleted(c, row, 0);
        return;
    }
    if (row != STORE_ROW_VIDEO && row != STORE_ROW_USER)
        return;
    if (row == STORE_ROW_USER)
        atomic_fetch_add(&c->users_gen, 1); /* first: see api_card_put */
    atomic_fetch_add(cache_version(&c->sets, id), 1);
    if (deleted)
        forget_deleted(c, row, id);
}

bool api_card_copy(struct card_cache *c, uint64_t video_id, struct buf *out)
{
    uint32_t set = cache_set(&c->sets, video_id);
    int64_t now = clock_mono_ms();
    pthread_mutex_t *lock = cache_lock(&c->sets, set);
    pthread_mutex_lock(lock);
    struct card *k = find_way(c, set, video_id);
    bool hit = k && k->len > 0 &&
               cache_current(&c->sets, video_id, k->video_ver, k->epoch, k->rendered_ms, now) &&
               k->creator_ver == atomic_load(cache_version(&c->sets, k->creator_id)) &&
               buf_append(out, k->body, k->len) == BUF_OK;
    if (hit)
        k->copied = true;
    pthread_mutex_unlock(lock);
    return hit;
}

size_t api_card_cache_due(struct card_cache *c, int64_t now_ms, int64_t age_ms, uint64_t *ids,
                          size_t max)
{
    size_t n = 0;
    for (uint32_t stripe = 0; stripe < CACHE_LOCKS && n < max; stripe++) {
        pthread_mutex_lock(&c->sets.locks[stripe]);
        for (uint32_t set = stripe; set <= c->sets.sets_mask && n < max; set += CACHE_LOCKS)
            for (int w = 0; w < CACHE_WAYS && n < max; w++) {
                struct card *k = &c->slots[(size_t)set * CACHE_WAYS + w];
                if (k->video_id && k->len > 0 && k->copied && now_ms - k->rendered_ms >= age_ms) {
                    k->copied = false;
                    ids[n++] = k->video_id;
                }
            }
        pthread_mutex_unlock(&c->sets.locks[stripe]);
    }
    return n;
}

void api_card_stamp(struct card_cache *c, uint64_t video_id, struct card_stamp *st)
{
    uint32_t set = cache_set(&c->sets, video_id);
    pthread_mutex_t *lock = cache_lock(&c->sets, set);
    pthread_mutex_lock(lock);
    const struct card *k = find_way(c, set, video_id);
    st->creator_id = k ? k->creator_id : 0;
    pthread_mutex_unlock(lock);
    st->rendered_ms = clock_mono_ms();
    st->users_gen = atomic_load(&c->users_gen);
    st->epoch = atomic_load(&c->sets.epoch);
    st->video_ver = atomic_load(cache_version(&c->sets, video_id));
    st->creator_ver = st->creator_id ? atomic_load(cache_version(&c->sets, st->creator_id)) : 0;
}

void api_card_put(struct card_cache *c, uint64_t video_id, uint64_t creator_id,
                  const struct card_stamp *st, const char *body, size_t len)
{
    uint32_t creator_ver = st->creator_ver;
    if (st->creator_id != creator_id) {
        /* The creator's counter now, then users_gen: a bump between the
         * stamp and here moved users_gen before that counter, so an
         * unmoved users_gen means the counter read is from no later than
         * the stamp's moment. Else only the creator is learnt. */
        creator_ver = atomic_load(cache_version(&c->sets, creator_id));
        if (atomic_load(&c->users_gen) != st->users_gen)
            body = NULL, len = 0;
    }
    if (len > CARD_MAX_BYTES) /* not kept */
        body = NULL, len = 0;
    uint32_t set = cache_set(&c->sets, video_id);
    pthread_mutex_t *lock = cache_lock(&c->sets, set);
    pthread_mutex_lock(lock);
    /* A change since the stamp (it may even have been a deletion, whose
     * scrub ran before this): what was read may be gone already, so the
     * slot is left alone, not even an out-of-date card kept. */
    if (atomic_load(cache_version(&c->sets, video_id)) != st->video_ver ||
        atomic_load(cache_version(&c->sets, creator_id)) != creator_ver ||
        atomic_load(&c->sets.epoch) != st->epoch) {
        pthread_mutex_unlock(lock);
        return;
    }
    struct card *k = victim_way(c, set, video_id);
    if (k->video_id != video_id && k->body)
        memset(k->body, 0, k->cap); /* another video's card leaves nothing behind */
    if (len > k->cap) {
        size_t cap = len < 256 ? 256 : len + len / 4;
        char *grown = reel_malloc(cap);
        if (!grown) {
            len = 0;
        } else {
            if (k->body)
                memset(k->body, 0, k->cap);
            reel_free(k->body);
            k->body = grown;
            k->cap = (uint32_t)cap;
        }
    }
    k->video_id = video_id;
    k->creator_id = creator_id;
    k->video_ver = st->video_ver;
    k->creator_ver = creator_ver;
    k->epoch = st->epoch;
    k->rendered_ms = st->rendered_ms;
    k->len = (uint32_t)len;
    k->copied = false;
    if (len)
        memcpy(k->body, body, len);
    pthread_mutex_unlock(lock);
}
