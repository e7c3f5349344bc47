/*
 * session.c — see session.h.
 *
 * Each shard keeps its sessions in a slot array with a free list; the id map
 * gives the slot of a user. Everything here runs with the shard's mutex held
 * by the caller (or under the exclusive engine lock).
 */
#include "rec/session.h"

#include "core/alloc.h"
#include "rec/engine.h"

#include <math.h>
#include <string.h>

#define NONE UINT32_MAX
#define SPILL_MAX (1u << 22)

/* Slot marks for the CLOCK eviction (ref[]). */
#define REF_CLEAR 0 /* live, not used since the hand last passed */
#define REF_SET 1   /* live, used since */
#define REF_FREE 2  /* no session */

int session_table_init(struct session_table *table, uint32_t sessions_max)
{
    memset(table, 0, sizeof *table);
    table->max_per_shard = sessions_max / SESSION_SHARDS ? sessions_max / SESSION_SHARDS : 1;
    for (int i = 0; i < SESSION_SHARDS; i++) {
        struct session_shard *sh = &table->shards[i];
        if (pthread_mutex_init(&sh->lock, NULL) != 0 || idmap_init(&sh->map, 16) < 0) {
            for (int j = 0; j < i; j++) {
                pthread_mutex_destroy(&table->shards[j].lock);
                idmap_clear(&table->shards[j].map);
            }
            return -1;
        }
    }
    return 0;
}

int session_pool_reserve(struct nearest_pool *pool, uint32_t cap, unsigned dim)
{
    if (!pool->rows || pool->cap < cap || pool->vcap < dim) {
        /* rows then vec, both 4-byte items: one block. */
        uint32_t *rows = reel_malloc(((size_t)cap + dim) * sizeof(uint32_t));
        if (!rows) {
            session_pool_clear(pool);
            return -1;
        }
        reel_free(pool->rows);
        pool->rows = rows;
        pool->cap = cap;
        pool->vcap = (uint8_t)dim;
        pool->vec = (float *)(void *)(rows + cap);
    }
    pool->n = pool->asked = pool->found = pool->index_count = pool->index_trained = 0;
    pool->checked = pool->seen_mark = 0;
    pool->dim = (uint8_t)dim;
    pool->built_ms = 0;
    return 0;
}

void session_pool_clear(struct nearest_pool *pool)
{
    reel_free(pool->rows);
    memset(pool, 0, sizeof *pool);
}

void session_destroy(struct session *s)
{
    if (!s)
        return;
    seen_clear(&s->seen);
    session_pool_clear(&s->pool);
    reel_free(s);
}

void session_table_clear(struct session_table *table)
{
    for (int i = 0; i < SESSION_SHARDS; i++) {
        struct session_shard *sh = &table->shards[i];
        for (uint32_t j = 0; j < sh->used; j++)
            session_destroy(sh->slots[j]);
        reel_free(sh->slots);
        reel_free(sh->ids);
        reel_free(sh->ref);
        reel_free(sh->free_slots);
        idmap_clear(&sh->map);
        pthread_mutex_destroy(&sh->lock);
    }
    memset(table, 0, sizeof *table);
}

/* Grows the shard's slot arrays to hold at least one more slot. */
static int grow_slots(struct session_shard *sh)
{
    if (sh->used < sh->cap)
        return 0;
    uint32_t cap = sh->cap ? sh->cap * 2 : 64;
    void *slots = sh->slots, *ids = sh->ids, *ref = sh->ref, *free_slots = sh->free_slots;
    if (reel_array_grow(&slots, cap, sizeof *sh->slots) < 0)
        return -1;
    sh->slots = slots;
    if (reel_array_grow(&ids, cap, sizeof *sh->ids) < 0)
        return -1;
    sh->ids = ids;
    if (reel_array_grow(&ref, cap, sizeof *sh->ref) < 0)
        return -1;
    sh->ref = ref;
    if (reel_array_grow(&free_slots, cap, sizeof *sh->free_slots) < 0)
        return -1;
    sh->free_slots = free_slots;
    sh->cap = cap;
    return 0;
}

static void spill_out(struct session_table *table, struct session *s,
                      uint64_t (*video_id)(void *, uint32_t), void *ctx)
{
    if (!table->spill || !table->spill->save)
        return;
    size_t n = session_serialised_size(s);
    if (n > SPILL_MAX)
        return;
    unsigned char *buf = reel_malloc(n);
    if (!buf)
        return;
    size_t len = session_serialise(s, buf, video_id, ctx);
    table->spill->save(table->spill->ctx, s->user_id, buf, len);
    reel_free(buf);
}

/* Removes slot i from the shard (not from the spill store). With keep, the
 * session's memory is returned cleared for reuse instead of freed. */
static struct session *take_slot(struct session_shard *sh, uint32_t i, int keep)
{
    struct session *s = sh->slots[i];
    idmap_del(&sh->map, sh->ids[i]);
    if (keep) {
        /* Clear what is read without a count guarding it; recent[] and
         * pending[] are guarded by their counts. */
        seen_reset(&s->seen);
        s->last_ms = 0;
        s->requests = 0;
        s->log_next = 0;
        s->last_creator = 0;
        s->recent_count = s->recent_head = s->pending_count = 0;
        s->served_count = s->served_head = 0;
        memset(s->creators, 0, sizeof s->creators);
        session_pool_clear(&s->pool);
    } else {
        session_destroy(s);
        s = NULL;
    }
    sh->slots[i] = NULL;
    sh->ids[i] = 0;
    sh->ref[i] = REF_FREE;
    sh->free_slots[sh->free_count++] = i;
    sh->live--;
    return s;
}

static void drop_slot(struct session_shard *sh, uint32_t i)
{
    take_slot(sh, i, 0);
}

/* CLOCK (second chance): the hand sweeps the slots in order, clearing the
 * mark of sessions used since it last passed and stopping at the first one
 * not used: approximately the least recently used, found by a sequential
 * walk over one byte per slot instead of a list touched on every event. */
static uint32_t clock_victim(struct session_shard *sh)
{
    for (uint32_t steps = 0; steps < 2 * sh->used + 1; steps++) {
        if (sh->hand >= sh->used)
            sh->hand = 0;
        uint32_t j = sh->hand++;
        if (sh->ref[j] == REF_FREE)
            continue;
        if (sh->ref[j] == REF_SET) {
            sh->ref[j] = REF_CLEAR;
            continue;
        }
        return j;
    }
    return NONE;
}

static struct session *spill_in(struct session_table *table, uint64_t user,
                                uint32_t (*video_row)(void *, uint64_t), void *ctx)
{
    if (!table->spill || !table->spill->load)
        return NULL;
    unsigned char *buf = reel_malloc(SPILL_MAX);
    if (!buf)
        return NULL;
    struct session *s = NULL;
    long len = table->spill->load(table->spill->ctx, user, buf, SPILL_MAX);
    if (len > 0) {
        s = reel_calloc(1, sizeof *s);
        if (s && (session_deserialise(s, buf, (size_t)len, video_row, ctx) == 0 ||
                  s->user_id != user)) {
            session_destroy(s);
            s = NULL;
        }
    }
    reel_free(buf);
    return s;
}

struct session *session_get(struct session_table *table, struct session_shard *sh, uint64_t user,
                            int64_t now_ms, int create, uint32_t (*video_row)(void *, uint64_t),
                            uint64_t (*video_id)(void *, uint32_t), void *ctx)
{
    uint32_t i = idmap_get(&sh->map, user);
    if (i != NONE) {
        struct session *s = sh->slots[i];
        sh->ref[i] = REF_SET;
        if (now_ms > s->last_ms)
            s->last_ms = now_ms;
        return s;
    }
    if (!create)
        return NULL;
    struct session *recycled = NULL;
    if (sh->live >= table->max_per_shard && sh->live > 0) {
        uint32_t victim = clock_victim(sh);
        if (victim != NONE) {
            spill_out(table, sh->slots[victim], video_id, ctx);
            recycled = take_slot(sh, victim, 1);
        }
    }
    struct session *s = spill_in(table, user, video_row, ctx);
    if (s) {
        session_destroy(recycled);
    } else {
        s = recycled;
        if (!s) {
            s = reel_calloc(1, sizeof *s);
            if (!s)
                return NULL;
            seen_init(&s->seen);
        }
        s->user_id = user;
    }
    if (now_ms > s->last_ms)
        s->last_ms = now_ms;
    if (sh->free_count) {
        i = sh->free_slots[--sh->free_count];
    } else {
        if (grow_slots(sh) < 0) {
            session_destroy(s);
            return NULL;
        }
        i = sh->used++;
    }
    if (idmap_put(&sh->map, user, i) < 0) {
        sh->slots[i] = NULL;
        sh->ids[i] = 0;
        sh->ref[i] = REF_FREE;
        sh->free_slots[sh->free_count++] = i;
        session_destroy(s);
        return NULL;
    }
    sh->slots[i] = s;
    sh->ids[i] = user;
    sh->ref[i] = REF_SET;
    sh->live++;
    return s;
}

int session_forget(struct session_table *table, struct session_shard *sh, uint64_t user)
{
    int had = -1;
    uint32_t i = idmap_get(&sh->map, user);
    if (i != NONE) {
        drop_slot(sh, i);
        had = 0;
    }
    if (table->spill && table->spill->erase)
        table->spill->erase(table->spill->ctx, user);
    return had;
}

size_t session_expire(struct session_table *table, struct session_shard *sh, int64_t min_last_ms,
                      size_t budget, uint64_t (*video_id)(void *, uint32_t), void *ctx)
{
    size_t n = 0;
    for (size_t k = 0; k < budget && sh->used; k++) {
        if (sh->sweep >= sh->used)
            sh->sweep = 0;
        struct session *s = sh->slots[sh->sweep];
        if (s && s->last_ms < min_last_ms) {
            spill_out(table, s, video_id, ctx);
            drop_slot(sh, sh->sweep);
            n++;
        }
        sh->sweep++;
    }
    return n;
}

int session_shard_reserve(struct session_shard *sh, uint32_t used)
{
    while (sh->used < used) {
        if (grow_slots(sh) < 0)
            return -1;
        sh->ids[sh->used] = 0;
        sh->ref[sh->used] = REF_FREE;
        sh->slots[sh->used++] = NULL;
    }
    return 0;
}

int session_place(struct session_table *table, struct session_shard *sh, uint32_t slot,
                  struct session *s, uint8_t ref)
{
    (void)table;
    if (ref > REF_SET || session_shard_reserve(sh, slot + 1) < 0)
        return -1;
    if (sh->slots[slot] || idmap_get(&sh->map, s->user_id) != NONE ||
        idmap_put(&sh->map, s->user_id, slot) < 0)
        return -1;
    sh->slots[slot] = s;
    sh->ids[slot] = s->user_id;
    sh->ref[slot] = ref;
    sh->live++;
    return 0;
}

void session_served_add(struct session *s, uint32_t video_row, float coeng)
{
    s->served[s->served_head] = (struct served_item){video_row, coeng};
    s->served_head = (uint8_t)((s->served_head + 1) % SESSION_SERVED);
    if (s->served_count < SESSION_SERVED)
        s->served_count++;
}

int session_served_take(struct session *s, uint32_t video_row, float *coeng)
{
    for (unsigned k = 0; k < s->served_count; k++) {
        struct served_item *it =
            &s->served[(s->served_head + SESSION_SERVED - 1 - k) % SESSION_SERVED];
        if (it->video_row == video_row) {
            *coeng = it->coeng;
            it->video_row = IDMAP_NONE;
            return 1;
        }
    }
    return 0;
}

void session_push_recent(struct session *s, uint32_t video_row, unsigned keep)
{
    if (keep > SESSION_RECENT_MAX)
        keep = SESSION_RECENT_MAX;
    if (keep == 0)
        return;
    /* An engagement with a video already held moves it to the front. */
    for (unsigned k = 0; k < s->recent_count; k++) {
        unsigned idx = (s->recent_head + SESSION_RECENT_MAX - 1 - k) % SESSION_RECENT_MAX;
        if (s->recent[idx] == video_row) {
            for (unsigned m = k; m > 0; m--) {
                unsigned to = (s->recent_head + SESSION_RECENT_MAX - 1 - m) % SESSION_RECENT_MAX;
                unsigned from = (to + 1) % SESSION_RECENT_MAX;
                s->recent[to] = s->recent[from];
            }
            s->recent[(s->recent_head + SESSION_RECENT_MAX - 1) % SESSION_RECENT_MAX] = video_row;
            return;
        }
    }
    s->recent[s->recent_head] = video_row;
    s->recent_head = (uint8_t)((s->recent_head + 1) % SESSION_RECENT_MAX);
    if (s->recent_count < keep)
        s->recent_count++;
}

static float decayed(const struct creator_affinity *c, int64_t now_ms)
{
    double hours = (double)(now_ms - c->at_ms) / 3600000.0;
    if (hours <= 0)
        return c->affinity;
    return c->affinity * (float)exp2(-hours);
}

float session_creator_affinity(const struct session *s, uint64_t creator, int64_t now_ms)
{
    for (int i = 0; i < SESSION_CREATORS; i++)
        if (s->creators[i].creator_id == creator && creator)
            return decayed(&s->creators[i], now_ms);
    return 0;
}

void session_creator_add(struct session *s, uint64_t creator, float delta, int64_t now_ms)
{
    if (!creator)
        return;
    int slot = -1;
    float weakest = 0;
    for (int i = 0; i < SESSION_CREATORS; i++) {
        struct creator_affinity *c = &s->creators[i];
        if (c->creator_id == creator) {
            slot = i;
            break;
        }
        float strength = c->creator_id ? fabsf(decayed(c, now_ms)) : -1;
        if (slot < 0 || strength < weakest) {
            slot = i;
            weakest = strength;
        }
    }
    struct creator_affinity *c = &s->creators[slot];
    float base = c->creator_id == creator ? decayed(c, now_ms) : 0;
    c->creator_id = creator;
    c->affinity = base + delta;
    if (c->affinity > SESSION_AFFINITY_MAX)
        c->affinity = SESSION_AFFINITY_MAX;
    if (c->affinity < -SESSION_AFFINITY_MAX)
        c->affinity = -SESSION_AFFINITY_MAX;
    c->at_ms = now_ms;
}

size_t session_serialised_size(const struct session *s)
{
    return 8 + 8 + 4 + 8 + 1 + 1 + (size_t)s->recent_count * 8 + SESSION_CREATORS * 20 +
           (size_t)s->pending_count * 16 + seen_serialised_size(&s->seen) + 1 +
           (size_t)s->served_count * 12 +
           (s->pool.rows || s->log_next ? 4 + 4 + 4 + 8 + 4 + 4 + 1 : 0) +
           (s->pool.rows ? (size_t)s->pool.dim * 4 + (size_t)s->pool.n * 8 : 0) +
           (s->log_next ? 8 : 0);
}

#define PUT(p, v)                                                                                  \
    do {                                                                                           \
        memcpy(p, &(v), sizeof(v));                                                                \
        p += sizeof(v);                                                                            \
    } while (0)

size_t session_serialise(const struct session *s, unsigned char *out,
                         uint64_t (*video_id)(void *, uint32_t), void *ctx)
{
    unsigned char *p = out;
    PUT(p, s->user_id);
    PUT(p, s->last_ms);
    PUT(p, s->requests);
    PUT(p, s->last_creator);
    PUT(p, s->recent_count);
    PUT(p, s->pending_count);
    for (unsigned k = 0; k < s->recent_count; k++) {
        unsigned idx = (s->recent_head + SESSION_RECENT_MAX - 1 - k) % SESSION_RECENT_MAX;
        uint64_t id = video_id(ctx, s->recent[idx]);
        PUT(p, id);
    }
    for (int i = 0; i < SESSION_CREATORS; i++) {
        PUT(p, s->creators[i].creator_id);
        PUT(p, s->creators[i].affinity);
        PUT(p, s->creators[i].at_ms);
    }
    for (unsigned i = 0; i < s->pending_count; i++) {
        uint64_t id = video_id(ctx, s->pending[i].video_row);
        PUT(p, id);
        PUT(p, s->pending[i].at_ms);
    }
    p += seen_serialise(&s->seen, p);
    /* Served videos last (oldest first), so a session saved before they
     * existed still reads. */
    unsigned char *countp = p++;
    uint8_t served = 0;
    for (unsigned k = s->served_count; k-- > 0;) {
        const struct served_item *it =
            &s->served[(s->served_head + SESSION_SERVED - 1 - k) % SESSION_SERVED];
        if (it->video_row == IDMAP_NONE)
            continue;
        uint64_t id = video_id(ctx, it->video_row);
        PUT(p, id);
        PUT(p, it->coeng);
        served++;
    }
    *countp = served;
    if (s->pool.rows || s->log_next) {
        /* With no pool kept, an empty one that asked for nothing, so that
         * log_next can follow. */
        static const struct nearest_pool none;
        const struct nearest_pool *pool = s->pool.rows ? &s->pool : &none;
        PUT(p, pool->n);
        PUT(p, pool->asked);
        PUT(p, pool->found);
        PUT(p, pool->built_ms);
        PUT(p, pool->index_count);
        PUT(p, pool->index_trained);
        PUT(p, pool->dim);
        if (pool->dim)
            memcpy(p, pool->vec, (size_t)pool->dim * sizeof(float));
        p += (size_t)pool->dim * sizeof(float);
        for (uint32_t i = 0; i < pool->n; i++) {
            uint64_t id = video_id(ctx, pool->rows[i]);
            PUT(p, id);
        }
        if (s->log_next)
            PUT(p, s->log_next);
    }
    return (size_t)(p - out);
}

#define GET(p, end, v)                                                                             \
    do {                                                                                           \
        if ((size_t)((end) - (p)) < sizeof(v))                                                     \
            goto fail;                                                                             \
        memcpy(&(v), p, sizeof(v));                                                                \
        p += sizeof(v);                                                                            \
    } while (0)

size_t session_deserialise(struct session *s, const unsigned char *in, size_t len,
                           uint32_t (*video_row)(void *, uint64_t), void *ctx)
{
    const unsigned char *p = in, *end = in + len;
    uint8_t recent_count, pending_count;
    uint32_t rows[SESSION_RECENT_MAX];
    unsigned nrows = 0;
    GET(p, end, s->user_id);
    GET(p, end, s->last_ms);
    GET(p, end, s->requests);
    GET(p, end, s->last_creator);
    GET(p, end, recent_count);
    GET(p, end, pending_count);
    if (recent_count > SESSION_RECENT_MAX || pending_count > SESSION_PENDING)
        goto fail;
    for (unsigned k = 0; k < recent_count; k++) {
        uint64_t id;
        GET(p, end, id);
        uint32_t row = video_row ? video_row(ctx, id) : IDMAP_NONE;
        if (row != IDMAP_NONE)
            rows[nrows++] = row;
    }
    /* rows[] is newest first: push oldest first. */
    for (unsigned k = nrows; k-- > 0;)
        session_push_recent(s, rows[k], SESSION_RECENT_MAX);
    for (int i = 0; i < SESSION_CREATORS; i++) {
        GET(p, end, s->creators[i].creator_id);
        GET(p, end, s->creators[i].affinity);
        GET(p, end, s->creators[i].at_ms);
    }
    for (unsigned i = 0; i < pending_count; i++) {
        uint64_t id;
        int64_t at;
        GET(p, end, id);
        GET(p, end, at);
        uint32_t row = video_row ? video_row(ctx, id) : IDMAP_NONE;
        if (row != IDMAP_NONE) {
            s->pending[s->pending_count].video_row = row;
            s->pending[s->pending_count].at_ms = at;
            s->pending_count++;
        }
    }
    size_t n = seen_deserialise(&s->seen, p, (size_t)(end - p));
    if (n == 0)
        goto fail;
    p += n;
    if (p < end) {
        uint8_t served;
        GET(p, end, served);
        if (served > SESSION_SERVED)
            goto fail;
        for (unsigned i = 0; i < served; i++) {
            uint64_t id;
            float x;
            GET(p, end, id);
            GET(p, end, x);
            uint32_t row = video_row ? video_row(ctx, id) : IDMAP_NONE;
            if (row != IDMAP_NONE)
                session_served_add(s, row, x);
        }
    }
    if (p < end) {
        uint32_t count, asked, found, index_count, index_trained;
        int64_t built_ms;
        uint8_t dim;
        GET(p, end, count);
        GET(p, end, asked);
        GET(p, end, found);
        GET(p, end, built_ms);
        GET(p, end, index_count);
        GET(p, end, index_trained);
        GET(p, end, dim);
        if (dim > REC_DIM_MAX || count > (size_t)(end - p) / 8 || count > found ||
            found > asked || (asked == 0 && dim != 0))
            goto fail;
        if ((size_t)(end - p) < (size_t)dim * sizeof(float) + (size_t)count * 8 ||
            (asked > 0 && session_pool_reserve(&s->pool, count ? count : 1, dim) < 0))
            goto fail;
        if (dim)
            memcpy(s->pool.vec, p, (size_t)dim * sizeof(float));
        p += (size_t)dim * sizeof(float);
        for (uint32_t i = 0; i < count; i++) {
            uint64_t id;
            GET(p, end, id);
            uint32_t row = video_row ? video_row(ctx, id) : IDMAP_NONE;
            if (row != IDMAP_NONE)
                s->pool.rows[s->pool.n++] = row;
        }
        if (asked > 0) {
            s->pool.asked = asked;
            s->pool.found = found;
            s->pool.built_ms = built_ms;
            s->pool.index_count = index_count;
            s->pool.index_trained = index_trained;
        }
        if (p < end)
            GET(p, end, s->log_next);
    }
    return (size_t)(p - in);
fail:
    session_pool_clear(&s->pool);
    seen_clear(&s->seen);
    return 0;
}

size_t session_bytes(struct session_table *table)
{
    size_t n = 0;
    for (int i = 0; i < SESSION_SHARDS; i++) {
        struct session_shard *sh = &table->shards[i];
        pthread_mutex_lock(&sh->lock);
        n += idmap_bytes(&sh->map) + (size_t)sh->cap * (sizeof *sh->slots + sizeof *sh->ids + 1 + sizeof(uint32_t));
        for (uint32_t j = 0; j < sh->used; j++)
            if (sh->slots[j])
                n += sizeof(struct session) + seen_memory(&sh->slots[j]->seen) +
                     (sh->slots[j]->pool.rows
                          ? ((size_t)sh->slots[j]->pool.cap + sh->slots[j]->pool.vcap) * 4
                          : 0);
        pthread_mutex_unlock(&sh->lock);
    }
    return n;
}

size_t session_count(struct session_table *table)
{
    size_t n = 0;
    for (int i = 0; i < SESSION_SHARDS; i++)
        n += table->shards[i].live;
    return n;
}

/* The slot CLOCK will take next in a full shard, without moving the hand:
 * the first unused-since-last-pass slot from the hand (the marks the real
 * sweep clears on the way do not change which one that is). NONE if the
 * shard is not full or none is found within a few steps. */
static uint32_t victim_guess(const struct session_table *table, const struct session_shard *sh)
{
    if (sh->live < table->max_per_shard || sh->used == 0)
        return NONE;
    uint32_t j = sh->hand;
    for (int steps = 0; steps < 64; steps++, j++) {
        if (j >= sh->used)
            j = 0;
        if (sh->ref[j] == REF_CLEAR)
            return j;
    }
    return NONE;
}

void session_prefetch_state(struct session_table *table, uint64_t user, int step)
{
    struct session_shard *sh = session_shard_of(table, user);
    uint32_t i = idmap_get(&sh->map, user);
    if (i != NONE) {
        const struct session *s = sh->slots[i];
        if (step == 1) {
            /* What every event reads: the counts, the pending impressions,
             * the served list's count, the seen filter's newest segment. */
            __builtin_prefetch(s, 1);
            rec_prefetch_span(s->pending, sizeof s->pending);
            __builtin_prefetch(&s->served_count, 1);
            __builtin_prefetch(&s->seen.nsegs, 1);
            __builtin_prefetch(&s->seen.segs[0], 1);
        } else if (s->seen.nsegs) {
            __builtin_prefetch(s->seen.segs[s->seen.nsegs - 1].blocks, 1);
        }
        return;
    }
    /* No session: session_get will evict one and reset it (take_slot). */
    uint32_t v = victim_guess(table, sh);
    if (v == NONE || !sh->slots[v])
        return;
    const struct session *s = sh->slots[v];
    if (step == 1) {
        idmap_prefetch(&sh->map, sh->ids[v]);
        rec_prefetch_span(s, offsetof(struct session, served));
        __builtin_prefetch(&s->served_count, 1);
        __builtin_prefetch(&s->seen.nsegs, 1);
        __builtin_prefetch(&s->seen.segs[0], 1);
    } else if (s->seen.nsegs) {
        rec_prefetch_span(s->seen.segs[0].blocks, 128); /* seen_reset clears a first segment */
    }
}
