/*
 * users.c — see users.h.
 */
#include "rec/users.h"

#include "core/alloc.h"

#include <string.h>

int users_init(struct user_table *users, unsigned dim, size_t expected)
{
    memset(users, 0, sizeof *users);
    users->dim = dim;
    users->stride = (sizeof(struct user_head) + dim + 3) & ~(size_t)3;
    size_t sketch = (size_t)1 << 20;
    while (sketch < expected * 2 && sketch < ((size_t)1 << 26))
        sketch <<= 1;
    users->sightings = reel_calloc(sketch, 1);
    users->sightings_mask = sketch - 1;
    users->cap = expected > 1024 ? (uint32_t)(expected < UINT32_MAX / 2 ? expected : UINT32_MAX / 2)
                                 : 1024;
    users->rows = reel_calloc(users->cap, users->stride);
    if (!users->sightings || !users->rows || idmap_init(&users->map, expected) < 0) {
        users_clear(users);
        return -1;
    }
    rec_hugepages(users->rows, (size_t)users->cap * users->stride);
    return 0;
}

void users_clear(struct user_table *users)
{
    idmap_clear(&users->map);
    reel_free(users->rows);
    reel_free(users->free_rows);
    reel_free(users->sightings);
    memset(users, 0, sizeof *users);
}

static uint32_t take_row(struct user_table *users)
{
    if (users->free_count)
        return users->free_rows[--users->free_count];
    if (users->used == users->cap) {
        if (users->cap >= UINT32_MAX / 2)
            return IDMAP_NONE;
        void *rows = users->rows;
        if (reel_array_grow(&rows, (size_t)users->cap * 2, users->stride) < 0)
            return IDMAP_NONE;
        users->rows = rows;
        rec_hugepages(rows, (size_t)users->cap * 2 * users->stride);
        memset(users->rows + (size_t)users->cap * users->stride, 0,
               (size_t)users->cap * users->stride);
        users->cap *= 2;
    }
    return users->used++;
}

static void give_row(struct user_table *users, uint32_t row)
{
    memset(users->rows + (size_t)row * users->stride, 0, users->stride);
    if (users->free_count == users->free_cap) {
        uint32_t cap = users->free_cap ? users->free_cap * 2 : 1024;
        void *p = users->free_rows;
        if (reel_array_grow(&p, cap, sizeof *users->free_rows) < 0)
            return; /* the row is leaked until the next snapshot load */
        users->free_rows = p;
        users->free_cap = cap;
    }
    users->free_rows[users->free_count++] = row;
}

uint32_t users_admit(struct user_table *users, uint64_t id)
{
    uint32_t row = take_row(users);
    if (row == IDMAP_NONE)
        return IDMAP_NONE;
    if (idmap_put(&users->map, id, row) < 0) {
        give_row(users, row);
        return IDMAP_NONE;
    }
    return row;
}

uint32_t users_sight(struct user_table *users, uint64_t id, uint16_t day, unsigned admit_after)
{
    uint32_t row = idmap_get(&users->map, id);
    if (row == IDMAP_NONE) {
        uint8_t *c = &users->sightings[rec_mix64(id ^ 0x5bd1e995ULL) & users->sightings_mask];
        if (*c < 255)
            (*c)++;
        if (*c < admit_after)
            return IDMAP_NONE;
        *c = 0;
        row = users_admit(users, id);
        if (row == IDMAP_NONE)
            return IDMAP_NONE;
    }
    users_head(users, row)->day = day ? day : 1;
    return row;
}

int users_remove(struct user_table *users, uint64_t id)
{
    uint8_t *c = &users->sightings[rec_mix64(id ^ 0x5bd1e995ULL) & users->sightings_mask];
    int had = *c ? 0 : -1;
    *c = 0;
    uint32_t row = idmap_del(&users->map, id);
    if (row == IDMAP_NONE)
        return had;
    give_row(users, row);
    return 0;
}

size_t users_expire_step(struct user_table *users, uint16_t min_day, size_t budget)
{
    size_t dropped = 0;
    size_t cap = users->map.mask + 1;
    if (users->sweep >= cap)
        users->sweep = 0;
    while (budget-- && users->map.count) {
        struct idmap_slot *s = &users->map.slots[users->sweep];
        if (s->key && users_head(users, s->row)->day < min_day) {
            /* Deleting shifts a later entry into this slot: look again. */
            users_remove(users, s->key);
            dropped++;
            continue;
        }
        users->sweep = (users->sweep + 1) & users->map.mask;
    }
    return dropped;
}

void users_age_sightings(struct user_table *users)
{
    for (size_t i = 0; i <= users->sightings_mask; i++)
        users->sightings[i] >>= 1;
}

size_t users_bytes(const struct user_table *users)
{
    return idmap_bytes(&users->map) + (size_t)users->cap * users->stride +
           (users->sightings_mask + 1) + (size_t)users->free_cap * sizeof(uint32_t);
}
