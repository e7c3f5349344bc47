/*
 * seen.c — see seen.h.
 *
 * Shards (by user id hash) each hold a chained hash table of users and an
 * LRU list; a user's seen videos are a ring buffer that grows by doubling up
 * to per_user, so memory follows real activity (a user who saw 10 videos
 * costs 10 ids, not per_user). Adding is O(1) — it runs for every ingested
 * event — so it only skips a video equal to one of the last few added (the
 * impression/play/watch of one viewing); older repeats take a slot. Reading
 * builds a hash set of the ring in one pass (a feed checks hundreds of
 * candidates at once); sorting a copy instead was most of a popular page's
 * CPU for a user with a full ring.
 */
#include "feed/seen.h"

#include "core/alloc.h"
#include "events/event.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SHARDS 64
#define BUCKETS_PER_SHARD 1024
#define RECENT_DEDUPE 8

struct seen_user {
    uint64_t user_id;
    uint64_t *ring;
    uint32_t cap, count, head; /* head: index of the oldest */
    struct seen_user *next_in_bucket;
    struct seen_user *lru_prev, *lru_next; /* lru_prev towards most recent */
};

struct shard {
    pthread_mutex_t lock;
    struct seen_user *buckets[BUCKETS_PER_SHARD];
    struct seen_user *lru_head, *lru_tail; /* head = most recent */
    size_t users;
};

struct feed_seen {
    size_t per_user;
    size_t max_users_per_shard;
    struct shard shards[SHARDS];
};

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

struct feed_seen *feed_seen_create(size_t per_user, size_t max_users)
{
    struct feed_seen *s = reel_calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->per_user = per_user ? per_user : 1;
    s->max_users_per_shard = max_users / SHARDS ? max_users / SHARDS : 1;
    for (int i = 0; i < SHARDS; i++)
        pthread_mutex_init(&s->shards[i].lock, NULL);
    return s;
}

static void user_free(struct seen_user *u)
{
    reel_free(u->ring);
    reel_free(u);
}

void feed_seen_destroy(struct feed_seen *s)
{
    if (!s)
        return;
    for (int i = 0; i < SHARDS; i++) {
        struct seen_user *u = s->shards[i].lru_head;
        while (u) {
            struct seen_user *next = u->lru_next;
            user_free(u);
            u = next;
        }
        pthread_mutex_destroy(&s->shards[i].lock);
    }
    reel_free(s);
}

static void lru_unlink(struct shard *sh, struct seen_user *u)
{
    if (u->lru_prev)
        u->lru_prev->lru_next = u->lru_next;
    else
        sh->lru_head = u->lru_next;
    if (u->lru_next)
        u->lru_next->lru_prev = u->lru_prev;
    else
        sh->lru_tail = u->lru_prev;
    u->lru_prev = u->lru_next = NULL;
}

static void lru_push_front(struct shard *sh, struct seen_user *u)
{
    u->lru_next = sh->lru_head;
    u->lru_prev = NULL;
    if (sh->lru_head)
        sh->lru_head->lru_prev = u;
    sh->lru_head = u;
    if (!sh->lru_tail)
        sh->lru_tail = u;
}

static struct seen_user **bucket_of(struct shard *sh, uint64_t user_id)
{
    return &sh->buckets[(mix(user_id) >> 6) % BUCKETS_PER_SHARD];
}

static struct seen_user *find_user(struct shard *sh, uint64_t user_id)
{
    for (struct seen_user *u = *bucket_of(sh, user_id); u; u = u->next_in_bucket)
        if (u->user_id == user_id)
            return u;
    return NULL;
}

/* Removes one user's entry. Lock held. */
static void remove_user(struct shard *sh, struct seen_user *victim)
{
    lru_unlink(sh, victim);
    struct seen_user **p = bucket_of(sh, victim->user_id);
    while (*p != victim)
        p = &(*p)->next_in_bucket;
    *p = victim->next_in_bucket;
    sh->users--;
    user_free(victim);
}

static void evict(struct shard *sh)
{
    if (sh->lru_tail)
        remove_user(sh, sh->lru_tail);
}

void feed_seen_forget(struct feed_seen *s, uint64_t user_id)
{
    struct shard *sh = &s->shards[mix(user_id) % SHARDS];
    pthread_mutex_lock(&sh->lock);
    struct seen_user *u = find_user(sh, user_id);
    if (u)
        remove_user(sh, u);
    pthread_mutex_unlock(&sh->lock);
}

/* The user's entry, created if new, moved to the LRU front. Lock held. */
static struct seen_user *touch_user(struct feed_seen *s, struct shard *sh, uint64_t user_id)
{
    struct seen_user *u = find_user(sh, user_id);
    if (!u) {
        if (sh->users >= s->max_users_per_shard)
            evict(sh);
        u = reel_calloc(1, sizeof *u);
        if (!u)
            return NULL;
        u->user_id = user_id;
        struct seen_user **b = bucket_of(sh, user_id);
        u->next_in_bucket = *b;
        *b = u;
        sh->users++;
    } else {
        lru_unlink(sh, u);
    }
    lru_push_front(sh, u);
    return u;
}

/* Appends one video to a user's ring. Lock held. Returns 0 or -1. */
static int add_video(struct feed_seen *s, struct seen_user *u, uint64_t video_id)
{
    for (uint32_t i = 0; i < u->count && i < RECENT_DEDUPE; i++)
        if (u->ring[(u->head + u->count - 1 - i) % u->cap] == video_id)
            return 0;
    if (u->count == u->cap && u->cap < s->per_user) {
        /* Grow, unrolling the ring so the oldest is first. */
        uint32_t cap = u->cap ? u->cap * 2 : 16;
        if (cap > s->per_user)
            cap = (uint32_t)s->per_user;
        uint64_t *ring = reel_malloc((size_t)cap * sizeof *ring);
        if (!ring)
            return -1;
        for (uint32_t i = 0; i < u->count; i++)
            ring[i] = u->ring[(u->head + i) % u->cap];
        reel_free(u->ring);
        u->ring = ring;
        u->cap = cap;
        u->head = 0;
    }
    if (u->count < u->cap) {
        u->ring[(u->head + u->count) % u->cap] = video_id;
        u->count++;
    } else {
        u->ring[u->head] = video_id; /* full: replace the oldest */
        u->head = (u->head + 1) % u->cap;
    }
    return 0;
}

int feed_seen_add(struct feed_seen *s, uint64_t user_id, uint64_t video_id)
{
    struct shard *sh = &s->shards[mix(user_id) % SHARDS];
    pthread_mutex_lock(&sh->lock);
    struct seen_user *u = touch_user(s, sh, user_id);
    int rc = u ? add_video(s, u, video_id) : -1;
    pthread_mutex_unlock(&sh->lock);
    return rc;
}

int feed_seen_add_many(struct feed_seen *s, uint64_t user_id, const struct event *events, size_t n)
{
    struct shard *sh = &s->shards[mix(user_id) % SHARDS];
    pthread_mutex_lock(&sh->lock);
    struct seen_user *u = touch_user(s, sh, user_id);
    int rc = u ? 0 : -1;
    for (size_t i = 0; u && rc == 0 && i < n; i++)
        if (events[i].video_id)
            rc = add_video(s, u, events[i].video_id);
    pthread_mutex_unlock(&sh->lock);
    return rc;
}

/* Slot of video_id in a set of mask + 1 slots: its own or the first empty
 * one after its home (linear probing). */
static size_t set_slot(const uint64_t *slots, size_t mask, uint64_t video_id)
{
    size_t i = (size_t)mix(video_id) & mask;
    while (slots[i] && slots[i] != video_id)
        i = (i + 1) & mask;
    return i;
}

static void set_add_all(struct feed_seen_set *set, const uint64_t *ids, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        if (!ids[k])
            continue;
        size_t i = set_slot(set->slots, set->mask, ids[k]);
        if (!set->slots[i]) {
            set->slots[i] = ids[k];
            set->n++;
        }
    }
}

int feed_seen_set_get(struct feed_seen *s, uint64_t user_id, struct feed_seen_set *set)
{
    struct shard *sh = &s->shards[mix(user_id) % SHARDS];
    *set = (struct feed_seen_set){0};
    /* The ring is copied under the shard's lock and hashed after it, so
     * that events of the shard's other users wait only for the copy. */
    uint64_t *ids = NULL;
    uint32_t n = 0;
    int rc = 0;
    pthread_mutex_lock(&sh->lock);
    struct seen_user *u = find_user(sh, user_id);
    if (u && u->count) {
        ids = reel_malloc((size_t)u->count * sizeof *ids);
        if (!ids) {
            rc = -1;
        } else {
            /* From the head to the end of the buffer, then from its start
             * (no division per id; the order does not matter). */
            n = u->count;
            uint32_t first = u->cap - u->head < n ? u->cap - u->head : n;
            memcpy(ids, u->ring + u->head, (size_t)first * sizeof *ids);
            memcpy(ids + first, u->ring, (size_t)(n - first) * sizeof *ids);
        }
    }
    pthread_mutex_unlock(&sh->lock);
    if (n) {
        size_t cap = 16;
        while (cap < 2 * (size_t)n) /* at most half full */
            cap *= 2;
        set->slots = reel_calloc(cap, sizeof *set->slots);
        if (!set->slots) {
            rc = -1;
        } else {
            set->mask = cap - 1;
            set_add_all(set, ids, n);
        }
    }
    reel_free(ids);
    return rc;
}

bool feed_seen_set_has(const struct feed_seen_set *set, uint64_t video_id)
{
    if (!set->slots || !video_id)
        return false;
    return set->slots[set_slot(set->slots, set->mask, video_id)] == video_id;
}

void feed_seen_set_free(struct feed_seen_set *set)
{
    reel_free(set->slots);
    *set = (struct feed_seen_set){0};
}

size_t feed_seen_users(struct feed_seen *s)
{
    size_t total = 0;
    for (int i = 0; i < SHARDS; i++) {
        pthread_mutex_lock(&s->shards[i].lock);
        total += s->shards[i].users;
        pthread_mutex_unlock(&s->shards[i].lock);
    }
    return total;
}
