/*
 * engine.h — the real-time "For You" recommendation engine of one region.
 *
 * One engine per region, fed only by that region's event log (events/event.h).
 * Every event updates the model at once: there is no batch retraining, so an
 * event is visible in the very next feed request of that user.
 *
 *   event log --> rec_engine_observe ----> model (user/video embeddings and
 *                                           biases, SGD), sessions (seen filter,
 *                                           recent engagements), follows,
 *                                           co-engagement, trending, fresh pool
 *   HTTP feed --> rec_engine_feed ------> candidate sources -> ranking ->
 *                                           re-ranking -> page (marked seen)
 *
 * The pieces (src/rec/README.md has the whole picture):
 *   users.c      user table: collision-free ids, admission after N sightings,
 *                expiry, int8 embeddings (< 128 bytes of model state per user)
 *   videos.c     video table, hashtags (tags.c), per-video statistics
 *   model.c      the objective and its SGD step, predictions
 *   ann.c        nearest-neighbour index (IVF) over video embeddings
 *   coeng.c      item-to-item co-engagement lists
 *   follows.c    follows learned from FOLLOW/UNFOLLOW, creators' new videos
 *   trending.c   time-decayed regional (and per-hashtag) trending
 *   fresh.c      exploration pool: first impressions of new videos
 *   session.c    per-user short-term state, seen filters (seen.c)
 *   feed.c       candidate sources -> ranking -> re-ranking
 *   snapshot.c   snapshot to a directory, load
 *
 * Thread safety: every function may be called from any thread. One
 * reader-writer lock per engine orders them: rec_engine_feed takes it shared
 * (any number of feed requests run in parallel; each locks only its user's
 * session shard), everything that changes the model takes it exclusive
 * (observe, video add/remove, interests, forget, tick, snapshot, load). The
 * lock prefers writers so a consumer thread is never starved by feed traffic;
 * rec_engine_observe_batch holds it for at most REC_BATCH_MAX events so a feed
 * request waits at most one such batch.
 *
 * Determinism: given the same configuration (seed included) and the same
 * sequence of calls, two engines give the same feeds; a loaded snapshot plus
 * the events after it gives the same feeds as the engine that took it.
 *
 * Errors: functions return 0 (or a count) on success and a negative REC_E*
 * code on failure; nothing aborts.
 */
#ifndef REEL_REC_ENGINE_H
#define REEL_REC_ENGINE_H

#include "core/config.h"
#include "events/event.h"

#include <stddef.h>
#include <stdint.h>

#define REC_FEED_MAX 100          /* items per feed request */
#define REC_VIDEO_TAGS 4          /* hashtags of a video that the model uses */
#define REC_INTERESTS_MAX 16      /* interest hashtags per user */
#define REC_HASHTAG_MAX 64        /* bytes of a hashtag */
#define REC_BATCH_MAX 256         /* events applied per exclusive lock */

enum rec_error {
    REC_ENOMEM = -1,    /* out of memory */
    REC_EINVAL = -2,    /* bad argument (id 0, unknown event type, limit 0, ...) */
    REC_ENOENT = -3,    /* no such video / user */
    REC_EEXIST = -4,    /* video already registered */
    REC_EIO = -5,       /* snapshot could not be written or read */
    REC_EFORMAT = -6,   /* snapshot is corrupt or of another configuration */
    REC_EFULL = -7,     /* a table reached its hard limit */
    REC_EAGAIN = -8,    /* would have to wait (rec_feed_request.no_wait) */
};

/* How a page is ranked. */
enum rec_policy {
    REC_POLICY_REEL = 0,    /* the personalised For You ranking */
    REC_POLICY_POPULAR = 1, /* online baseline: Bayesian mean watch value per video,
                               the same for everyone (the v0 "popular" feed) */
};

/* Where a feed item came from (bit set). */
enum rec_source {
    REC_SOURCE_NEAREST = 1,     /* nearest videos to the user's embedding */
    REC_SOURCE_COENGAGED = 2,   /* co-engaged with the user's recent engagements */
    REC_SOURCE_FOLLOWING = 4,   /* new video of a followed creator */
    REC_SOURCE_TRENDING = 8,    /* regional or interest-hashtag trending */
    REC_SOURCE_FRESH = 16,      /* exploration pool */
    REC_SOURCE_GIVEN = 32,      /* from rec_feed_request.candidates */
};

struct rec_engine;

/* A video as the engine needs it. Hashtags are copied (lower-cased, a leading
 * '#' dropped); only the first REC_VIDEO_TAGS are used. */
struct rec_video {
    uint64_t id;
    uint64_t creator_id;
    int64_t created_ms;
    uint32_t duration_ms;          /* 0 = unknown (watch ratios then use the event's) */
    const char *const *hashtags;
    size_t hashtag_count;
};

struct rec_feed_request {
    uint64_t user_id;
    int64_t now_ms;                /* the request time (trending decay, fresh pool age) */
    size_t limit;                  /* 1..REC_FEED_MAX */
    enum rec_policy policy;
    /* NULL: the engine's own candidate sources over the whole catalogue.
     * Otherwise rank only these (unknown ids are skipped): for evaluation
     * (`reel replay`) and for callers that pre-select a set. */
    const uint64_t *candidates;
    size_t candidate_count;
    /* Nonzero: answer REC_EAGAIN, having changed nothing, rather than wait
     * for the engine's lock (a snapshot or a batch of events holds it) or
     * read the spill store (the user's session is not in memory). For
     * callers on a thread that must not block, which retry elsewhere. */
    int no_wait;
};

struct rec_feed_item {
    uint64_t video_id;
    float score;                   /* the ranking score (higher first, before re-ranking) */
    uint8_t sources;               /* enum rec_source bits */
    uint8_t explore;               /* 1 if it fills an exploration slot */
};

/* Where a snapshot stands in the log, recorded by the caller. */
struct rec_mark {
    uint64_t log_offset;           /* the first offset NOT applied: replay starts here */
    int64_t event_ms;              /* its timestamp */
};

struct rec_memory {
    size_t users, videos, sessions, hashtags;  /* counts */
    size_t user_bytes;             /* model state of users: table + rows + admission */
    size_t video_bytes;            /* video table, embeddings, index, co-engagement */
    size_t session_bytes;          /* sessions and seen filters */
    size_t other_bytes;            /* follows, interests, trending, fresh pool */
};

/* Optional store for sessions that leave memory (idle or evicted): the seen
 * filter and short-term state of a user, as an opaque blob. save may fail
 * (the state is then dropped); load returns the blob length, 0 if none, or
 * negative on error. Called with the engine lock held: must not call back. */
struct rec_spill {
    void *ctx;
    int (*save)(void *ctx, uint64_t user_id, const void *blob, size_t len);
    long (*load)(void *ctx, uint64_t user_id, void *buf, size_t cap);
    void (*erase)(void *ctx, uint64_t user_id);
};

/* Creates an engine with a copy of cfg (checked: returns NULL and sets *err to
 * REC_EINVAL for values out of range, REC_ENOMEM when out of memory). */
struct rec_engine *rec_engine_create(const struct config_rec *cfg, int *err);
/* Frees everything. NULL is allowed. No other call may be running. */
void rec_engine_destroy(struct rec_engine *engine);
/* Installs (or with NULL removes) the session spill store. */
void rec_engine_set_spill(struct rec_engine *engine, const struct rec_spill *spill);

/* Registers a video (it becomes a candidate; new ones enter the fresh pool).
 * Returns 0, REC_EEXIST, REC_EINVAL (id 0) or REC_ENOMEM. */
int rec_video_add(struct rec_engine *engine, const struct rec_video *video);
/* Removes a video from every source and list (deleted or taken down); its
 * learned state is dropped. Returns 0 or REC_ENOENT. */
int rec_video_remove(struct rec_engine *engine, uint64_t video_id);

/* Applies one event: the model, the user's session, follows, co-engagement,
 * trending and the fresh pool are updated before it returns. Events for
 * unknown videos still count as sightings of the user and are otherwise
 * ignored (returns REC_ENOENT). Returns 0 or a REC_E* code. */
int rec_engine_observe(struct rec_engine *engine, const struct event *event);
/* Applies n events in order, taking the lock once per REC_BATCH_MAX. Events
 * that fail are skipped. Returns how many were applied. */
size_t rec_engine_observe_batch(struct rec_engine *engine, const struct event *events, size_t n);
/* rec_engine_observe_batch for events read from the region's log, with each
 * one's log offset (ascending). A session remembers the offset after the
 * last logged event applied to it, and keeps it when spilled: after a crash
 * the engine replays the log from its snapshot, and an event its user's
 * spilled session already holds is then learnt as for a user without a
 * session instead of being counted in the session again. */
size_t rec_engine_observe_log(struct rec_engine *engine, const struct event *events,
                              const uint64_t *offsets, size_t n);

/* Sets a user's interests (cold start): up to REC_INTERESTS_MAX hashtags,
 * replacing earlier ones; an empty list clears them. Returns 0 or a code. */
int rec_user_set_interests(struct rec_engine *engine, uint64_t user_id,
                           const char *const *hashtags, size_t count);

/* Fills out[0..limit) with the user's next page and marks those videos as
 * seen for that user (they are not shown again while the session lives).
 * Returns the number of items (fewer than limit when the candidates run out),
 * or REC_EINVAL (or REC_EAGAIN, see no_wait). Works for any user id, known
 * or not. */
int rec_engine_feed(struct rec_engine *engine, const struct rec_feed_request *request,
                    struct rec_feed_item *out);

/* Erases everything the engine holds about a user: model row, session and
 * seen filter (and its spilled copy), follows, interests, not-interested
 * creators, admission count. Aggregates (video statistics, co-engagement
 * counts, trending) keep no trace of who contributed. Take a new snapshot
 * afterwards so older snapshots can be deleted. Returns 0 or REC_ENOENT if
 * nothing was held. */
int rec_user_forget(struct rec_engine *engine, uint64_t user_id);

#define REC_EXTERNAL_TRENDING_MAX 256
/* A regional trending list computed outside the engine (the analytics'
 * time-decayed ranking, stats/): the trending candidate source offers these
 * videos, best first, beside the engine's own trending. Replaces the
 * previous list; unknown ids are skipped; at most REC_EXTERNAL_TRENDING_MAX
 * are kept. Not part of snapshots (the host sets it again). Returns how many
 * were kept. */
int rec_engine_set_trending(struct rec_engine *engine, const uint64_t *ids, size_t n);

/* Erases a user as a creator: their videos (live ones removed, dead rows
 * cleared), their entry in the creator index, and every reference other
 * users' state holds to them (follows, "not interested", session creator
 * affinities). Spilled sessions are the host's to scrub, with
 * rec_spilled_forget_creator. Returns 0
 * or REC_ENOENT if nothing referred to them. */
int rec_creator_forget(struct rec_engine *engine, uint64_t creator_id);

/* For a session blob the spill store holds (another user's, spilled while
 * idle): if it refers to creator_id (creator affinity, last creator), writes
 * a copy without those references to *out (reel_free it) and returns 1;
 * returns 0 if it does not refer to them, or REC_EFORMAT / REC_ENOMEM. */
int rec_spilled_forget_creator(struct rec_engine *engine, const void *blob, size_t len,
                               uint64_t creator_id, void **out, size_t *out_len);

/* Maintenance, called every second or so by the consumer thread: refreshes
 * the index entries of videos that changed (the index may lag the model by
 * this interval; ranking never does), expires idle users and sessions,
 * retires fresh videos, re-clusters the index when the catalogue doubled.
 * now_ms is the region's clock. Bounded work per call. */
void rec_engine_tick(struct rec_engine *engine, int64_t now_ms);

/* Writes the whole engine state to dir/rec.snapshot (through a temporary file,
 * fsync'ed and renamed), with mark. Returns 0, or REC_EIO with a message in
 * err. Sessions are included: the snapshot is personal data of the region.
 * A forked child writes the file from its copy-on-write image, so the engine
 * is locked only for the fork and feeds and events go on meanwhile; the
 * caller waits until the file is on disk. */
int rec_engine_snapshot(struct rec_engine *engine, const char *dir, const struct rec_mark *mark,
                        char *err, size_t errlen);
/* Creates an engine from dir/rec.snapshot; cfg must have the same dim and
 * seed as the snapshot's. *mark receives the position to replay the log from
 * (events at and after mark->log_offset). Returns NULL with *errcode (REC_EIO,
 * REC_EFORMAT, REC_ENOMEM) and a message in err. */
struct rec_engine *rec_engine_load(const struct config_rec *cfg, const char *dir,
                                   struct rec_mark *mark, int *errcode, char *err, size_t errlen);

/* Counts and resident bytes of the engine's state. */
void rec_engine_memory(struct rec_engine *engine, struct rec_memory *out);

#define REC_DIM_MAX 64             /* embedding dimensions at most (config_rec.dim) */
#define REC_DESCRIBE_BLOCKED_MAX 256

/* What the engine holds about one user (rec_user_describe): personal data,
 * shown to that user in the data export. */
struct rec_user_state {
    int admitted;                  /* has a model row (embedding and bias) */
    unsigned dim;
    float bias;
    float embedding[REC_DIM_MAX];  /* dequantised, dim entries */
    char interests[REC_INTERESTS_MAX][REC_HASHTAG_MAX];
    size_t interest_count;
    size_t follows;                /* followed creators the engine knows */
    uint64_t not_interested[REC_DESCRIBE_BLOCKED_MAX]; /* creators left out of the feed */
    size_t not_interested_count;
    int session;                   /* a session is in memory: */
    size_t seen;                   /*   videos its seen filter holds */
    size_t recent_engagements;     /*   recent engagements (co-engagement source) */
    int64_t last_active_ms;
};

/* Fills *out with what the engine holds about user_id. Returns 0, or
 * REC_ENOENT if it holds nothing (out is then zeroed but for dim). */
int rec_user_describe(struct rec_engine *engine, uint64_t user_id, struct rec_user_state *out);

/* The ids of the registered videos, in registration order: writes up to max
 * into out and returns how many there are (call again with a larger out if
 * that is more than max). */
size_t rec_engine_video_ids(struct rec_engine *engine, uint64_t *out, size_t max);

/* Is this user's model row admitted (for tests and metrics)? */
int rec_user_admitted(struct rec_engine *engine, uint64_t user_id);

/* A short text for a REC_E* code. */
const char *rec_strerror(int code);

#endif
