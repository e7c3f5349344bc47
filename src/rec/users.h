/*
 * users.h — the user table: model state of every admitted user.
 *
 * Monolith-style sparse table: a collision-free id map (idmap.h) in front of
 * dense rows. A user gets a row only after `admit_after` sightings (events)
 * counted in a small saturating counter array (so one-off visitors and
 * crawlers cost nothing), and loses it after `expire_days` without events.
 *
 * Row layout (stride bytes, 44 for dim 32):
 *
 *   offset  size  field
 *   0       4     float   scale   embedding value = emb[i] * scale
 *   4       4     float   bias    the user's offset of the predicted value
 *   8       2     uint16  count   value observations (saturating), sets the bias step
 *   10      2     uint16  day     last active day since 2020-01-01; 0 = free row
 *   12      dim   int8    emb[]   the user embedding, quantised per row
 *
 * With the map's 16-byte slots at <= 3/4 load that is 44 + ~21 = ~65 bytes of
 * model state per user for dim 32 (the target is < 128). int8 with stochastic
 * rounding (model.c) keeps SGD steps smaller than one quantum unbiased.
 *
 * Not thread-safe: the engine lock covers it.
 */
#ifndef REEL_REC_USERS_H
#define REEL_REC_USERS_H

#include "rec/idmap.h"

#include <stddef.h>
#include <stdint.h>

struct user_head {
    float scale;
    float bias;
    uint16_t count;
    uint16_t day;
};

struct user_table {
    struct idmap map;
    unsigned dim;
    size_t stride;
    unsigned char *rows;
    uint32_t used;        /* rows handed out (high-water mark) */
    uint32_t cap;
    uint32_t *free_rows;
    uint32_t free_count, free_cap;
    uint8_t *sightings;   /* saturating counters of users not yet admitted */
    size_t sightings_mask;
    size_t sweep;         /* next map slot the expiry sweep looks at */
};

int users_init(struct user_table *users, unsigned dim, size_t expected);
void users_clear(struct user_table *users);

static inline struct user_head *users_head(const struct user_table *users, uint32_t row)
{
    return (struct user_head *)(void *)(users->rows + (size_t)row * users->stride);
}
static inline int8_t *users_emb(const struct user_table *users, uint32_t row)
{
    return (int8_t *)(users->rows + (size_t)row * users->stride + sizeof(struct user_head));
}

/* The row of an admitted user, or IDMAP_NONE. */
static inline uint32_t users_find(const struct user_table *users, uint64_t id)
{
    return idmap_get(&users->map, id);
}
/* Counts one sighting; admits the user when it reaches admit_after. Returns
 * the row (new rows are zeroed with `day` set) or IDMAP_NONE (not admitted
 * yet, or out of memory). */
uint32_t users_sight(struct user_table *users, uint64_t id, uint16_t day, unsigned admit_after);
/* Creates the row now (snapshot load). Returns the row or IDMAP_NONE. */
uint32_t users_admit(struct user_table *users, uint64_t id);
/* Drops the user's row and sighting count. Returns 0, or -1 if there was
 * neither. */
int users_remove(struct user_table *users, uint64_t id);
/* Looks at up to `budget` map slots from where the last call stopped and
 * drops users last active before min_day. Returns how many were dropped. */
size_t users_expire_step(struct user_table *users, uint16_t min_day, size_t budget);
/* Halves every sighting counter (ageing, so sightings spread over months do
 * not add up to an admission). */
void users_age_sightings(struct user_table *users);
size_t users_bytes(const struct user_table *users);

#endif
