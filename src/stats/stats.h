/*
 * stats.h — a region's analytics, fed by its event log: active users
 * (active.h), trending videos and hashtags (trending.h) and creator
 * statistics (creator.h), behind one lock, with one consumer function
 * (stats_apply) and snapshot/restore for restarts.
 *
 * Data flow: the event log consumer calls stats_apply for each event in log
 * order, with the event's log position; HTTP handlers and `reel stats` call
 * the stats_query_* functions from any thread. Nothing here stores a user
 * id: sketches and counters only, so everything this module holds may leave
 * the region (DESIGN.md, "Regions, sites and personal data").
 *
 * Persistence, under the directory given to stats_create (the region's
 * primary site dir + "/stats"):
 *   active/YYYY-MM-DD.hll   daily sketches (active.h), idempotent to replay
 *   stats.snap              trending and creator statistics with the log
 *                           position they include: a statfile (statfile.h)
 *                           with magic "REELSNAP", version 1, payload:
 *
 *   offset  size  field
 *   ------  ----  ------------------------------------------------------------
 *        0     8  log position of the last event included (u64)
 *        8     8  events applied (u64)
 *       16     4  newest event day seen (i32), 20 4 reserved
 *       24     8  A: length of the trending-videos encoding (u64), then A bytes
 *                 (trending.h); likewise the trending-hashtags encoding, then
 *                 the creator-statistics snapshot (creator.h)
 *
 * After a restart: stats_create loads both, stats_log_position says where
 * to resume, and the consumer replays the log after it (re-adding a day's
 * users is harmless: a sketch ignores duplicates; counters are exact
 * because they resume from the position they were saved at).
 */
#ifndef REEL_STATS_STATS_H
#define REEL_STATS_STATS_H

#include "core/config.h"
#include "events/event.h"
#include "stats/active.h"
#include "stats/creator.h"
#include "stats/trending.h"

#include <stddef.h>
#include <stdint.h>

/* The hashtags of a video, for hashtag trending: stores up to max pointers
 * into tags (valid until the next call) and returns how many, or 0. Called
 * with the stats lock held: it must not call back into stats. */
typedef int (*stats_video_hashtags_fn)(void *ctx, uint64_t video_id, const char **tags, int max);

struct stats_options {
    unsigned active_precision; /* [stats] hll_precision */
    unsigned viewer_precision; /* [stats] viewer_hll_precision */
    int64_t trending_half_life_ms;
    size_t trending_max_items;
    unsigned creator_retention_days;
    /* Trending points per event type, negative for penalties; EVENT_WATCH is
     * multiplied by the watch ratio (capped at 1). */
    double weights[EVENT_TYPE_MAX + 1];
    stats_video_hashtags_fn video_hashtags; /* NULL: no hashtag trending */
    void *hooks_ctx;
};

#define STATS_MAX_HASHTAGS 16

/* Fills o from the [stats] section of a loaded config (config_init gives the
 * defaults). No hooks. */
void stats_options_init(struct stats_options *o, const struct config *cfg);

struct stats;

/* Creates a region's analytics, restoring what dir holds (NULL dir: memory
 * only). Returns NULL with a message in err (bad options, unreadable or
 * corrupt snapshot, out of memory). */
struct stats *stats_create(const struct stats_options *o, const char *dir, char *err,
                           size_t errlen);
/* Frees everything without saving. */
void stats_destroy(struct stats *s);

/* The consumer: applies one event of this region's log to active users,
 * trending and creator statistics. country: the user's country index
 * (core/country.h) or -1 if unknown. position: the event's log position
 * (increasing; 0 if untracked). Returns 0, or -1 when out of memory or a day
 * file could not be written (the event may be partly applied). */
int stats_apply(struct stats *s, const struct event *ev, int country, uint64_t position);

/* Erasure: forgets everything counted about creator_id's videos (saved at
 * the next stats_save). Returns 0 or -1. */
int stats_forget_creator(struct stats *s, uint64_t creator_id);

/* Writes changed day files and the snapshot. Returns 0 or -1 with err. */
int stats_save(struct stats *s, char *err, size_t errlen);
/* The log position the state includes (from the snapshot or stats_apply). */
uint64_t stats_log_position(struct stats *s);

/* Queries; each takes the lock. See active.h, trending.h, creator.h. */
int stats_query_active(struct stats *s, enum stats_period period, int32_t day, int country,
                       uint64_t *count, char *err, size_t errlen);
int stats_query_active_sketch(struct stats *s, enum stats_period period, int32_t day, int country,
                              struct hll **out, char *err, size_t errlen);
size_t stats_query_trending_videos(struct stats *s, int64_t now_ms, struct stats_trending_item *out,
                                   size_t k);
size_t stats_query_trending_hashtags(struct stats *s, int64_t now_ms,
                                     struct stats_trending_item *out, size_t k);
int stats_query_creator(struct stats *s, uint64_t creator_id, int32_t first, int32_t last,
                        struct stats_creator_report *r);

struct stats_status {
    uint64_t log_position;
    uint64_t events_applied;
    uint64_t late_events_dropped;
    size_t memory_bytes;
};
void stats_query_status(struct stats *s, struct stats_status *out);

#endif
