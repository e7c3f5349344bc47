/*
 * session.h — short-term state of recently active users.
 *
 * What a user did in the last minutes or hours and what the engine has shown
 * them: the seen filter (seen.h), the last engagements (the seeds of the
 * co-engagement source), a small table of creator affinities (a skipped
 * creator sinks, an engaged one rises, both fading), and impressions not yet
 * followed by any engagement (they become negatives after `unengaged`).
 *
 * Sessions live only for recently active users: at most `sessions_max`, idle
 * ones leave after `session_ttl` (a sweep in rec_engine_tick). When a shard
 * is full, a CLOCK hand (second-chance, approximately least recently used)
 * picks the session that leaves: a use sets one byte, eviction walks a byte
 * array in order — no list to relink on every event, which cost two cache
 * misses per event at ten million users. A leaving session is handed to the
 * spill store if one is installed
 * (engine.h, struct rec_spill) and taken back from it when the user returns,
 * so seen filters survive without staying in memory.
 *
 * Locking: the table is split in SESSION_SHARDS shards by user id, each with
 * its own mutex; the engine lock (shared for feeds) plus the shard mutex give
 * a feed request exclusive use of its user's session.
 */
#ifndef REEL_REC_SESSION_H
#define REEL_REC_SESSION_H

#include "rec/idmap.h"
#include "rec/seen.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define SESSION_SHARDS 64
#define SESSION_RECENT_MAX 32
#define SESSION_CREATORS 8
#define SESSION_PENDING 4
#define SESSION_SERVED 16         /* videos of the last pages kept for the co-engagement gain */
#define SESSION_AFFINITY_MAX 4.0f /* |affinity| saturates: one creator cannot take over */

struct creator_affinity {
    uint64_t creator_id;
    float affinity;
    int64_t at_ms;        /* last change; affinity halves every hour after it */
};

struct pending_impression {
    uint32_t video_row;
    int64_t at_ms;
};

/* A video the feed served, with the co-engagement it was scored with: when
 * its watch arrives, an example for the co-engagement gain (model.h). */
struct served_item {
    uint32_t video_row; /* IDMAP_NONE once used */
    float coeng;
};

/* The nearest-videos source's candidates kept between feed requests
 * (feed.c): searched in the index with the user's embedding `vec`, best
 * first, compacted as entries are filtered out. rows and vec are one
 * allocation (NULL: none kept). */
struct nearest_pool {
    uint32_t *rows;
    float *vec;           /* dim floats; the embedding the rows were searched with */
    uint32_t n, cap;
    uint32_t asked;       /* rows the search was asked for */
    uint32_t found;       /* rows it gave (fewer than asked: it ran out) */
    uint32_t checked;     /* rows[0..checked) passed the filters when the seen
                             filter's newest segment was seen_mark (not saved) */
    uint32_t seen_mark;
    uint32_t index_count; /* the index's size and last training when searched */
    uint32_t index_trained;
    int64_t built_ms;
    uint8_t dim;          /* floats in vec; 0: searched with no embedding (zero query) */
    uint8_t vcap;         /* floats vec has room for */
};

struct session {
    uint64_t user_id;
    int64_t last_ms;      /* last activity (event or feed request) */
    uint32_t requests;    /* feed requests served (per-request randomness) */
    uint64_t log_next;    /* log offset after the last logged event applied (engine.h) */
    uint64_t last_creator;/* creator of the last video served (no two in a row) */
    uint8_t recent_count; /* engagements held in recent[] (newest at recent_head - 1) */
    uint8_t recent_head;
    uint8_t pending_count;
    uint32_t recent[SESSION_RECENT_MAX]; /* video rows, a ring */
    struct creator_affinity creators[SESSION_CREATORS];
    struct pending_impression pending[SESSION_PENDING];
    uint8_t served_count; /* entries held in served[] (newest at served_head - 1) */
    uint8_t served_head;
    struct served_item served[SESSION_SERVED];
    struct seen_filter seen;
    struct nearest_pool pool;
};

struct session_shard {
    pthread_mutex_t lock;
    struct idmap map;     /* user id -> index in slots */
    struct session **slots;
    uint64_t *ids;        /* user of each slot (0 = free): eviction reads no session */
    uint8_t *ref;         /* CLOCK mark of each slot (session.c) */
    uint32_t used, cap;
    uint32_t *free_slots;
    uint32_t free_count;
    uint32_t live;
    uint32_t sweep;       /* next slot the idle sweep looks at */
    uint32_t hand;        /* CLOCK hand */
};

struct rec_spill;

struct session_table {
    struct session_shard shards[SESSION_SHARDS];
    uint32_t max_per_shard;
    const struct rec_spill *spill; /* NULL = sessions leaving memory are dropped */
};

int session_table_init(struct session_table *table, uint32_t sessions_max);
void session_table_clear(struct session_table *table);

static inline struct session_shard *session_shard_of(struct session_table *table, uint64_t user)
{
    return &table->shards[rec_mix64(user ^ 0x5e55ULL) % SESSION_SHARDS];
}

/* Hints the CPU to fetch the user's slot in its shard's map. */
static inline void session_prefetch(struct session_table *table, uint64_t user)
{
    idmap_prefetch(&session_shard_of(table, user)->map, user);
}

/* Prefetching for a batch of events (engine.c): asks the CPU for what
 * session_get and the event will touch, a few events before they run. Step 1
 * (after session_prefetch, so the map slot is in cache) fetches the user's
 * session, or, when the user has none and the shard is full, the session the
 * CLOCK hand will most likely evict (take_slot resets it) and its map slot;
 * step 2 (after step 1) fetches that session's seen filter. Only hints:
 * nothing changes, a wrong guess costs a wasted fetch. */
void session_prefetch_state(struct session_table *table, uint64_t user, int step);

/* With the shard locked: whether the user's session is in memory (then
 * session_get reads and writes no store). */
static inline int session_resident(const struct session_shard *shard, uint64_t user)
{
    return idmap_get(&shard->map, user) != IDMAP_NONE;
}

/* With the shard locked: the user's session, NULL if none (and create == 0)
 * or out of memory. create brings it back from the spill store or starts an
 * empty one, evicting the least recently used session when the shard is full.
 * video_ids maps spilled video ids to rows (NULL: recent engagements of a
 * spilled session are dropped). */
struct session *session_get(struct session_table *table, struct session_shard *shard,
                            uint64_t user, int64_t now_ms, int create,
                            uint32_t (*video_row)(void *ctx, uint64_t id),
                            uint64_t (*video_id)(void *ctx, uint32_t row), void *ctx);
/* With the shard locked: drops the user's session (and its spilled copy). */
int session_forget(struct session_table *table, struct session_shard *shard, uint64_t user);
/* With the shard locked: looks at up to `budget` slots from where the last
 * sweep stopped and spills and drops sessions idle since before min_last_ms.
 * Returns how many left. */
size_t session_expire(struct session_table *table, struct session_shard *shard,
                      int64_t min_last_ms, size_t budget,
                      uint64_t (*video_id)(void *ctx, uint32_t row), void *ctx);

/* Adds an engagement with video_row (most recent first when read). */
void session_push_recent(struct session *s, uint32_t video_row, unsigned keep);
/* Remembers a served video (the oldest of SESSION_SERVED is forgotten). */
void session_served_add(struct session *s, uint32_t video_row, float coeng);
/* If video_row was served and not taken yet: its co-engagement into *coeng,
 * forgotten, 1; else 0. */
int session_served_take(struct session *s, uint32_t video_row, float *coeng);
/* The affinity of the user to a creator now (0 if none). */
float session_creator_affinity(const struct session *s, uint64_t creator, int64_t now_ms);
/* Adds delta to the affinity of the user to creator. */
void session_creator_add(struct session *s, uint64_t creator, float delta, int64_t now_ms);

/* Empties the pool and makes room for cap rows and a dim-float vector
 * (dim 0: none); memory is kept when it is big enough. Returns 0 or -1 (out
 * of memory: the pool is then cleared). */
int session_pool_reserve(struct nearest_pool *pool, uint32_t cap, unsigned dim);
void session_pool_clear(struct nearest_pool *pool);
/* Frees a session that is in no table. */
void session_destroy(struct session *s);

/* Serialised session (spill and snapshot), little-endian:
 *   u64 user_id, i64 last_ms, u32 requests, u64 last_creator, u8 recent_count,
 *   u8 pending_count,
 *   recent_count x u64 video id (newest first), SESSION_CREATORS x {u64 creator, f32 affinity,
 *   i64 at_ms}, pending_count x {u64 video id, i64 at_ms}, seen filter (seen.h),
 *   u8 served count, served x {u64 video id, f32 coeng} (oldest first),
 *   then, if a pool is kept or log_next is not 0: u32 n, u32 asked, u32 found,
 *   i64 built_ms, u32 index_count, u32 index_trained, u8 dim,
 *   dim x f32, n x u64 video id (best first) (asked 0: no pool is kept),
 *   then, if log_next is not 0: u64 log_next.
 * The trailing parts are optional: a session saved before they existed
 * reads as one without them. */
size_t session_serialised_size(const struct session *s);
size_t session_serialise(const struct session *s, unsigned char *out,
                         uint64_t (*video_id)(void *ctx, uint32_t row), void *ctx);
/* Fills *s (zeroed by the caller) from in[0..len); rows of unknown videos are
 * dropped. Returns bytes consumed or 0 if malformed / out of memory. */
size_t session_deserialise(struct session *s, const unsigned char *in, size_t len,
                           uint32_t (*video_row)(void *ctx, uint64_t id), void *ctx);
size_t session_bytes(struct session_table *table);
/* Puts a session read from a snapshot into slot `slot` of its shard (which
 * must be free) with its CLOCK mark; takes ownership. Returns 0 or -1. */
int session_place(struct session_table *table, struct session_shard *shard, uint32_t slot,
                  struct session *s, uint8_t ref);
/* Extends the shard's slot array to `used` slots (new ones empty). */
int session_shard_reserve(struct session_shard *shard, uint32_t used);
size_t session_count(struct session_table *table);

#endif
