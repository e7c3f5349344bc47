/*
 * engine_int.h — the engine's state, shared by engine.c, feed.c and
 * snapshot.c. Not part of the public interface (engine.h).
 */
#ifndef REEL_REC_ENGINE_INT_H
#define REEL_REC_ENGINE_INT_H

#include "rec/ann.h"
#include "rec/coeng.h"
#include "rec/engine.h"
#include "rec/fresh.h"
#include "rec/model.h"
#include "rec/prefs.h"
#include "rec/session.h"
#include "rec/tags.h"
#include "rec/trending.h"
#include "rec/users.h"
#include "rec/videos.h"

#include <pthread.h>
#include <stdint.h>

struct rec_engine {
    struct config_rec cfg;
    pthread_rwlock_t lock;
    struct model model;
    struct user_table users;
    struct video_table videos;
    struct tag_table tags;
    struct ann_index ann;
    struct coeng coeng;
    struct trending trending;
    struct fresh_pool fresh;
    struct prefs_table prefs;
    struct creator_index creators;
    struct session_table sessions;
    struct rec_spill spill;
    uint32_t ext_trending[REC_EXTERNAL_TRENDING_MAX]; /* rec_engine_set_trending's rows */
    uint32_t ext_trending_n;
    uint32_t *dirty;           /* videos whose index entry waits for the next tick */
    uint32_t dirty_count, dirty_cap;
    int64_t clock_ms;          /* latest event or tick time */
    int64_t last_age_ms;       /* last ageing of admission counters */
    uint64_t events;           /* applied */
    uint64_t unknown_video_events;
};

/* The current day number used for user activity (days since 2020-01-01). */
uint16_t engine_day(int64_t ms);
/* The bias the index files a video with: its engagement propensity. */
float engine_video_bias(const struct rec_engine *e, uint32_t row);
/* Session callbacks mapping video ids and rows (ctx is the engine). */
uint32_t engine_video_row_cb(void *ctx, uint64_t id);
uint64_t engine_video_id_cb(void *ctx, uint32_t row);

/* Re-quantises the index entries of videos changed since the last call. */
void engine_flush_dirty(struct rec_engine *e);

/* feed.c */
int feed_build(struct rec_engine *e, const struct rec_feed_request *req,
               struct rec_feed_item *out);

#endif
