/*
 * session.c — see session.h.
 *
 * Each shard keeps its sessions in a slot array with a free list and an
 * intrusive doubly linked LRU list through the slot indices; the id map gives
 * the slot of a user. Everything here runs with the shard's mutex held by the
 * caller.
 */
#include "rec/session.h"

#include "core/alloc.h"
#include "rec/engine.h"

#include <math.h>
#include <string.h>

#define NONE UINT32_MAX
#define SPILL_MAX (1u << 22)

int session_table_init(struct session_table *table, uint32_t sessions_max)
{
    memset(table, 0, sizeof *table);
    table->max_per_shard = sessions_max / SESSION_SHARDS ? sessions_max / SESSION_SHARDS : 1;
    for (int i = 0; i < SESSION_SHARDS; i++) {
        struct session_shard *sh = &table->shards[i];
        sh->lru_head = sh->lru_tail = NONE;
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

static void session_free(struct session *s)
{
    if (!s)
        return;
    seen_clear(&s->seen);
    reel_free(s);
}

void session_table_clear(struct session_table *table)
{
    for (int i = 0; i < SESSION_SHARDS; i++) {
        struct session_shard *sh = &table->shards[i];
        for (uint32_t j = 0; j < sh->used; j++)
            session_free(sh->slots[j]);
        reel_free(sh->slots);
        reel_free(sh->free_slots);
        idmap_clear(&sh->map);
        pthread_mutex_destroy(&sh->lock);
    }
    memset(table, 0, sizeof *table);
}

static void lru_unlink(struct session_shard *sh, uint32_t i)
{
    struct session *s = sh->slots[i];
    if (s->lru_prev != NONE)
        sh->slots[s->lru_prev]->lru_next = s->lru_next;
    else
        sh->lru_head = s->lru_next;
    if (s->lru_next != NONE)
        sh->slots[s->lru_next]->lru_prev = s->lru_prev;
    else
        sh->lru_tail = s->lru_prev;
    s->lru_prev = s->lru_next = NONE;
}

static void lru_push_front(struct session_shard *sh, uint32_t i)
{
    struct session *s = sh->slots[i];
    s->lru_prev = NONE;
    s->lru_next = sh->lru_head;
    if (sh->lru_head != NONE)
        sh->slots[sh->lru_head]->lru_prev = i;
    sh->lru_head = i;
    if (sh->lru_tail == NONE)
        sh->lru_tail = i;
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

/* Removes slot i from the shard (not from the spill store). */
static void drop_slot(struct session_shard *sh, uint32_t i)
{
    struct session *s = sh->slots[i];
    lru_unlink(sh, i);
    idmap_del(&sh->map, s->user_id);
    session_free(s);
    sh->slots[i] = NULL;
    sh->free_slots[sh->free_count++] = i;
    sh->live--;
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
            session_free(s);
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
        if (now_ms > s->last_ms)
            s->last_ms = now_ms;
        if (sh->lru_head != i) {
            lru_unlink(sh, i);
            lru_push_front(sh, i);
        }
        return s;
    }
    if (!create)
        return NULL;
    if (sh->live >= table->max_per_shard && sh->lru_tail != NONE) {
        uint32_t victim = sh->lru_tail;
        spill_out(table, sh->slots[victim], video_id, ctx);
        drop_slot(sh, victim);
    }
    struct session *s = spill_in(table, user, video_row, ctx);
    if (!s) {
        s = reel_calloc(1, sizeof *s);
        if (!s)
            return NULL;
        s->user_id = user;
        seen_init(&s->seen);
    }
    if (now_ms > s->last_ms)
        s->last_ms = now_ms;
    if (sh->free_count) {
        i = sh->free_slots[--sh->free_count];
    } else {
        if (sh->used == sh->cap) {
            uint32_t cap = sh->cap ? sh->cap * 2 : 64;
            void *slots = sh->slots, *free_slots = sh->free_slots;
            if (reel_array_grow(&slots, cap, sizeof *sh->slots) < 0) {
                session_free(s);
                return NULL;
            }
            sh->slots = slots;
            if (reel_array_grow(&free_slots, cap, sizeof *sh->free_slots) < 0) {
                session_free(s);
                return NULL;
            }
            sh->free_slots = free_slots;
            sh->cap = cap;
        }
        i = sh->used++;
    }
    if (idmap_put(&sh->map, user, i) < 0) {
        sh->slots[i] = NULL;
        sh->free_slots[sh->free_count++] = i;
        session_free(s);
        return NULL;
    }
    sh->slots[i] = s;
    s->lru_prev = s->lru_next = NONE;
    lru_push_front(sh, i);
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
    while (n < budget && sh->lru_tail != NONE) {
        uint32_t i = sh->lru_tail;
        if (sh->slots[i]->last_ms >= min_last_ms)
            break;
        spill_out(table, sh->slots[i], video_id, ctx);
        drop_slot(sh, i);
        n++;
    }
    return n;
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
           (size_t)s->pending_count * 16 + seen_serialised_size(&s->seen);
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
    return (size_t)(p - in);
fail:
    seen_clear(&s->seen);
    return 0;
}

size_t session_bytes(struct session_table *table)
{
    size_t n = 0;
    for (int i = 0; i < SESSION_SHARDS; i++) {
        struct session_shard *sh = &table->shards[i];
        pthread_mutex_lock(&sh->lock);
        n += idmap_bytes(&sh->map) + (size_t)sh->cap * (sizeof *sh->slots + sizeof(uint32_t));
        for (uint32_t j = 0; j < sh->used; j++)
            if (sh->slots[j])
                n += sizeof(struct session) + seen_bytes(&sh->slots[j]->seen);
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
