/*
 * videos.h — the video table: what the engine knows about each video.
 *
 * Videos are registered by the caller (rec_video_add) when they are
 * published; events about unregistered ids are ignored. A row number is never
 * reused: a removed video keeps a dead row (state VIDEO_REMOVED) so that
 * row numbers held by sessions, co-engagement lists and the index can never
 * point at a different video. Removals are rare; a snapshot load compacts
 * nothing either, so rows stay stable for the engine's life.
 *
 * Embeddings are float (dim per row, 32-byte aligned) in their own array:
 * videos are few next to users, are read by every feed request and written
 * by most events, so precision is worth more here than bytes.
 */
#ifndef REEL_REC_VIDEOS_H
#define REEL_REC_VIDEOS_H

#include "rec/engine.h"
#include "rec/idmap.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>

enum video_state { VIDEO_FREE = 0, VIDEO_LIVE = 1, VIDEO_REMOVED = 2 };
enum fresh_state { FRESH_NONE = 0, FRESH_POOL = 1, FRESH_PROMOTED = 2, FRESH_RETIRED = 3 };

struct video_row {
    uint64_t id;
    uint64_t creator_id;
    int64_t created_ms;
    double trend;          /* trending mass in time-scaled units (trending.h) */
    uint32_t duration_ms;
    uint32_t tags[REC_VIDEO_TAGS]; /* tag numbers (tags.h), 0 = none */
    float bias;            /* its own offset of the predicted watch value */
    float engage_bias;     /* its own logit offset of the engagement probability */
    float engage_n;        /* weight of engagement examples: the step of engage_bias */
    float value_sum;       /* sum of capped watch ratios (popular baseline) */
    uint32_t value_n;
    float feedback;        /* weight of value observations: shrinkage, exploration */
    uint32_t impressions;
    uint32_t likes, shares, comments, follows;
    uint32_t fresh_served; /* exploration impressions served */
    uint32_t fresh_pos;    /* index in the fresh pool while FRESH_POOL */
    uint16_t top_pos[2];   /* position + 1 in the trending / popular top lists, 0 = not in */
    uint32_t ann_list;     /* index list it is filed in (ann.h), or UINT32_MAX */
    uint32_t ann_pos;
    uint8_t state;         /* enum video_state */
    uint8_t fresh;         /* enum fresh_state */
    uint8_t tag_count;
    uint8_t dirty;         /* index entry to refresh at the batch end (engine.c) */
    uint8_t spare[8];      /* unused: the row stays two whole cache lines */
};

/* Engaged users of a video and the co-engagement normaliser that follows
 * from them (coeng.h): apart from the rows because a request reads them for
 * each of a few thousand partners (feed.c source_coengaged), eight to a
 * cache line instead of one, with the square root taken once per change
 * rather than once per partner and request. */
struct video_engaged {
    uint32_t users;
    float norm; /* 1 / sqrt(max(users, 1)) */
};

static inline void video_engaged_set(struct video_engaged *g, uint32_t users)
{
    g->users = users;
    g->norm = 1.0f / sqrtf(users > 1 ? (float)users : 1.0f);
}

struct video_table {
    struct idmap map;
    unsigned dim;
    struct video_row *rows;
    float *emb;            /* rows x dim */
    struct video_engaged *engaged; /* per row */
    uint32_t used;
    uint32_t cap;
    uint32_t live;
};

int videos_init(struct video_table *videos, unsigned dim, size_t expected);
void videos_clear(struct video_table *videos);
/* A new zeroed LIVE row for id (not yet in the map: see videos_publish).
 * Returns the row or IDMAP_NONE when out of memory. */
uint32_t videos_new_row(struct video_table *videos);
/* Enters id -> row into the map. Returns 0 or -1. */
int videos_publish(struct video_table *videos, uint64_t id, uint32_t row);

/* A row is two whole cache lines (videos.c aligns the table), and the
 * filters and the scoring read both. */
_Static_assert(sizeof(struct video_row) == 128, "a video row is two cache lines");

/* Asks memory for both lines of row: a hint, nothing changes. */
static inline void videos_prefetch(const struct video_table *videos, uint32_t row)
{
    const char *p = (const char *)&videos->rows[row];
    __builtin_prefetch(p);
    __builtin_prefetch(p + 64);
}

static inline uint32_t videos_find(const struct video_table *videos, uint64_t id)
{
    return idmap_get(&videos->map, id);
}
static inline float *videos_emb(const struct video_table *videos, uint32_t row)
{
    return videos->emb + (size_t)row * videos->dim;
}
static inline int videos_live(const struct video_table *videos, uint32_t row)
{
    return row < videos->used && videos->rows[row].state == VIDEO_LIVE;
}
size_t videos_bytes(const struct video_table *videos);

#endif
