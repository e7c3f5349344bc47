/*
 * prefs.c — see prefs.h.
 */
#include "rec/prefs.h"

#include "core/alloc.h"

#include <string.h>

int prefs_init(struct prefs_table *prefs)
{
    memset(prefs, 0, sizeof *prefs);
    return idmap_init(&prefs->map, 64);
}

static void entry_free(struct prefs_entry *e)
{
    reel_free(e->follows);
    reel_free(e->blocked);
    memset(e, 0, sizeof *e);
}

void prefs_clear(struct prefs_table *prefs)
{
    for (uint32_t i = 0; i < prefs->used; i++)
        entry_free(&prefs->entries[i]);
    reel_free(prefs->entries);
    reel_free(prefs->free_entries);
    idmap_clear(&prefs->map);
    memset(prefs, 0, sizeof *prefs);
}

struct prefs_entry *prefs_get(struct prefs_table *prefs, uint64_t user, int create)
{
    uint32_t i = idmap_get(&prefs->map, user);
    if (i != IDMAP_NONE)
        return &prefs->entries[i];
    if (!create)
        return NULL;
    if (prefs->free_count) {
        i = prefs->free_entries[--prefs->free_count];
    } else {
        if (prefs->used == prefs->cap) {
            uint32_t cap = prefs->cap ? prefs->cap * 2 : 64;
            void *p = prefs->entries, *f = prefs->free_entries;
            if (reel_array_grow(&p, cap, sizeof *prefs->entries) < 0)
                return NULL;
            prefs->entries = p;
            if (reel_array_grow(&f, cap, sizeof *prefs->free_entries) < 0)
                return NULL;
            prefs->free_entries = f;
            prefs->cap = cap;
        }
        i = prefs->used++;
    }
    struct prefs_entry *e = &prefs->entries[i];
    memset(e, 0, sizeof *e);
    e->user_id = user;
    if (idmap_put(&prefs->map, user, i) < 0) {
        prefs->free_entries[prefs->free_count++] = i;
        return NULL;
    }
    return e;
}

static size_t lower_bound(const uint64_t *a, size_t n, uint64_t x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (a[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int prefs_follow(struct prefs_entry *e, uint64_t creator)
{
    size_t at = lower_bound(e->follows, e->follow_count, creator);
    if (at < e->follow_count && e->follows[at] == creator)
        return 0;
    if (e->follow_count >= PREFS_FOLLOWS_MAX)
        return -1; /* the cap is generous; the social store holds the truth */
    if (e->follow_count == e->follow_cap) {
        uint32_t cap = e->follow_cap ? e->follow_cap * 2 : 8;
        void *p = e->follows;
        if (reel_array_grow(&p, cap, sizeof *e->follows) < 0)
            return -1;
        e->follows = p;
        e->follow_cap = cap;
    }
    memmove(e->follows + at + 1, e->follows + at, (e->follow_count - at) * sizeof *e->follows);
    e->follows[at] = creator;
    e->follow_count++;
    return 0;
}

void prefs_unfollow(struct prefs_entry *e, uint64_t creator)
{
    size_t at = lower_bound(e->follows, e->follow_count, creator);
    if (at < e->follow_count && e->follows[at] == creator) {
        memmove(e->follows + at, e->follows + at + 1,
                (e->follow_count - at - 1) * sizeof *e->follows);
        e->follow_count--;
    }
}

int prefs_follows(const struct prefs_entry *e, uint64_t creator)
{
    size_t at = lower_bound(e->follows, e->follow_count, creator);
    return at < e->follow_count && e->follows[at] == creator;
}

int prefs_block(struct prefs_entry *e, uint64_t creator)
{
    if (prefs_blocked(e, creator))
        return 0;
    if (e->blocked_count == PREFS_BLOCKED_MAX) {
        memmove(e->blocked, e->blocked + 1, (PREFS_BLOCKED_MAX - 1) * sizeof *e->blocked);
        e->blocked_count--;
    }
    if (e->blocked_count == e->blocked_cap) {
        uint32_t cap = e->blocked_cap ? e->blocked_cap * 2 : 4;
        void *p = e->blocked;
        if (reel_array_grow(&p, cap, sizeof *e->blocked) < 0)
            return -1;
        e->blocked = p;
        e->blocked_cap = cap;
    }
    e->blocked[e->blocked_count++] = creator;
    return 0;
}

int prefs_blocked(const struct prefs_entry *e, uint64_t creator)
{
    for (uint32_t i = 0; i < e->blocked_count; i++)
        if (e->blocked[i] == creator)
            return 1;
    return 0;
}

int prefs_forget(struct prefs_table *prefs, uint64_t user)
{
    uint32_t i = idmap_del(&prefs->map, user);
    if (i == IDMAP_NONE)
        return -1;
    entry_free(&prefs->entries[i]);
    prefs->free_entries[prefs->free_count++] = i;
    return 0;
}

void prefs_release_if_empty(struct prefs_table *prefs, uint64_t user)
{
    struct prefs_entry *e = prefs_get(prefs, user, 0);
    if (e && !e->follow_count && !e->blocked_count && !e->interest_count)
        prefs_forget(prefs, user);
}

size_t prefs_bytes(const struct prefs_table *prefs)
{
    size_t n = idmap_bytes(&prefs->map) + (size_t)prefs->cap * (sizeof *prefs->entries + 4);
    for (uint32_t i = 0; i < prefs->used; i++)
        n += (size_t)prefs->entries[i].follow_cap * 8 + (size_t)prefs->entries[i].blocked_cap * 8;
    return n;
}

int creators_init(struct creator_index *index)
{
    memset(index, 0, sizeof *index);
    return idmap_init(&index->map, 64);
}

void creators_clear(struct creator_index *index)
{
    reel_free(index->lists);
    idmap_clear(&index->map);
    memset(index, 0, sizeof *index);
}

int creators_add(struct creator_index *index, uint64_t creator, uint32_t video_row)
{
    if (!creator)
        return 0;
    uint32_t i = idmap_get(&index->map, creator);
    if (i == IDMAP_NONE) {
        if (index->used == index->cap) {
            uint32_t cap = index->cap ? index->cap * 2 : 64;
            void *p = index->lists;
            if (reel_array_grow(&p, cap, sizeof *index->lists) < 0)
                return -1;
            index->lists = p;
            index->cap = cap;
        }
        i = index->used;
        if (idmap_put(&index->map, creator, i) < 0)
            return -1;
        index->used++;
        memset(&index->lists[i], 0, sizeof index->lists[i]);
    }
    struct creator_videos *l = &index->lists[i];
    l->rows[l->head] = video_row;
    l->head = (uint8_t)((l->head + 1) % CREATOR_RECENT);
    if (l->count < CREATOR_RECENT)
        l->count++;
    return 0;
}

void creators_remove(struct creator_index *index, uint64_t creator, uint32_t video_row)
{
    uint32_t i = idmap_get(&index->map, creator);
    if (i == IDMAP_NONE)
        return;
    struct creator_videos *l = &index->lists[i];
    /* Rebuild the ring without the row, keeping the order. */
    uint32_t keep[CREATOR_RECENT];
    unsigned n = 0;
    for (unsigned k = l->count; k-- > 0;) {
        uint32_t r = l->rows[(l->head + CREATOR_RECENT - 1 - k) % CREATOR_RECENT];
        if (r != video_row)
            keep[n++] = r;
    }
    memset(l, 0, sizeof *l);
    for (unsigned k = 0; k < n; k++) {
        l->rows[l->head] = keep[k];
        l->head = (uint8_t)((l->head + 1) % CREATOR_RECENT);
        l->count++;
    }
}

const struct creator_videos *creators_get(const struct creator_index *index, uint64_t creator)
{
    uint32_t i = idmap_get(&index->map, creator);
    return i == IDMAP_NONE ? NULL : &index->lists[i];
}

size_t creators_bytes(const struct creator_index *index)
{
    return idmap_bytes(&index->map) + (size_t)index->cap * sizeof *index->lists;
}
