/*
 * store.h — the storage interface every caller above store/ uses.
 *
 * One `struct store` is one database: a region site's store (all of that
 * region's users' personal data) or the public username directory. The
 * embedded backend is SQLite (store_sqlite*.c: one WAL-mode file per site);
 * a PostgreSQL backend implements this same header later, so nothing above
 * store/ mentions SQL or includes sqlite3.h.
 *
 * Conventions:
 * - Functions return STORE_OK (0) or a negative STORE_* code; they never
 *   abort and never log personal data.
 * - Results are copied into caller-provided structs (fixed-size fields sized
 *   by the API's own limits), so no memory crosses this interface.
 * - Every function is safe to call from many threads at once: each call takes
 *   a connection from the store's pool for its duration.
 * - A call that changes several rows does so in one transaction: it happens
 *   whole or not at all, and is durable (synchronous=FULL) when it returns.
 */
#ifndef REEL_STORE_STORE_H
#define REEL_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum store_status {
    STORE_OK = 0,
    STORE_NOTFOUND = -1,
    STORE_CONFLICT = -2, /* a uniqueness rule would be broken */
    STORE_ERROR = -3,    /* I/O, corruption, out of memory: logged by the store */
};

enum store_kind {
    STORE_KIND_REGION,    /* a region site: users, sessions and all personal data */
    STORE_KIND_DIRECTORY, /* public username -> user id for every region */
};

struct store;

#define STORE_MAX_REPLICAS 4
#define STORE_FIELD_KEY_BYTES 32

struct store_options {
    int connections;                 /* pool size, >= 1 */
    /* Region stores: the region's 32-byte data key (region/custody.h). The most
     * sensitive personal fields are encrypted with it; a region store cannot
     * be opened without one. Unused by the directory. */
    const unsigned char *field_key;
    /* Directories of replica sites, kept identical to this store: every write
     * transaction is applied to each replica before it commits here, so a
     * write acknowledged by the primary is already durable on every healthy
     * replica (see store_sqlite_replica.c). */
    const char *replica_dirs[STORE_MAX_REPLICAS];
    int replica_count;
};

/* Opens (creating if needed) the database of the given kind in directory
 * `dir` (created too), applies pending migrations, brings each replica up to
 * date (a full copy if it is missing, stale or diverged) and sets up the
 * connection pool. Returns STORE_OK and *out, or STORE_ERROR with a message in
 * err. */
int store_open(struct store **out, enum store_kind kind, const char *dir,
               const struct store_options *opts, char *err, size_t errlen);
/* Closes every connection. The store must have no calls in flight. */
void store_close(struct store *store);

/* Bulk loading (`reel seed`): the writes the calling thread makes to store
 * between store_batch_begin and store_batch_end are one transaction, so they
 * cost one commit, one replication and one sync between them instead of one
 * each. Each write is still whole or not at all (a savepoint inside the
 * batch), but none is durable, or seen by other connections, until
 * store_batch_end commits; a crash before then loses the whole batch. The
 * batch holds the store's write lock throughout, so it is for a loader that
 * writes alone, not for a serving process. Batches do not nest.
 * store_batch_begin returns STORE_OK, or STORE_ERROR (also for a batch
 * already open); store_batch_end returns the commit's status (the batch is
 * rolled back if it fails) and is a no-op without a batch. */
int store_batch_begin(struct store *store);
int store_batch_end(struct store *store);

/* Rows whose change a cache of rendered cards must hear about. */
enum store_row {
    STORE_ROW_VIDEO,  /* a row of videos: id is the video's */
    STORE_ROW_USER,    /* a row of users: id is the user's */
    STORE_ROW_SESSION, /* a row of sessions: id is the session's */
    STORE_ROW_LIKES,   /* a user's likes (a like or an unlike): id is the user's */
    STORE_ROW_ALL,     /* too many at once to name: anything may have changed */
};
/* deleted: the row was deleted (told while the statement runs only). */
typedef void (*store_change_fn)(void *ctx, enum store_row row, uint64_t id, bool deleted);

/* Calls fn for every video, user and session row this process inserts, updates or
 * deletes through the store (SQLite's update hook): once while the statement
 * runs, and again once the connection is given back, after its transaction
 * committed or rolled back, so a reader that looked at a version counter
 * before reading cannot keep what it read as current. Set once, before the
 * store is used by more than one thread; fn runs on the writing thread and
 * must be quick. Writes by other processes are not seen. */
void store_set_change_hook(struct store *store, store_change_fn fn, void *ctx);
/* Schema version after migrations (PRAGMA user_version). */
int store_schema_version(struct store *store);
/* Path of the database file. */
const char *store_path(const struct store *store);
/* Number of replicas currently kept in step (a replica that failed to apply
 * a change is dropped until the next start, which copies it afresh). */
int store_replicas_healthy(struct store *store);
/* True if the replica in `dir` was marked stale (diverged or missed writes):
 * it must not be promoted until a start-up has copied it afresh. */
bool store_replica_is_stale(const char *dir);

/* ---- users (region store) ---------------------------------------------- */

#define STORE_USERNAME_MAX 31     /* 30 bytes + NUL */
#define STORE_DISPLAY_NAME_MAX 201 /* 50 code points of up to 4 bytes */
#define STORE_BIO_MAX 1201        /* 300 code points */
#define STORE_EMAIL_MAX 255
#define STORE_PASSWORD_HASH_MAX 128

enum store_user_status { STORE_USER_ACTIVE = 0, STORE_USER_DEACTIVATED = 1 };

struct store_user {
    uint64_t id;
    char username[STORE_USERNAME_MAX];
    char display_name[STORE_DISPLAY_NAME_MAX];
    char bio[STORE_BIO_MAX];
    char email[STORE_EMAIL_MAX];
    char country[3];
    char password_hash[STORE_PASSWORD_HASH_MAX];
    int status;
    int64_t created_ms;
    int64_t followers, following, videos; /* public counters */
};

struct store_session {
    uint64_t id;
    uint64_t user_id;
    unsigned char token_hash[32];
    int64_t created_ms;
    int64_t expires_ms;
    int64_t revoked_ms; /* 0 = not revoked */
};

/* Inserts a new user and its first session in one transaction.
 * STORE_CONFLICT if the id or username exists in this store. */
int store_user_create(struct store *store, const struct store_user *user,
                      const struct store_session *session);
/* Copies user `id` into *out. STORE_NOTFOUND if absent; STORE_ERROR also
 * when the encrypted fields cannot be decrypted (wrong key, tampering). */
int store_user_get(struct store *store, uint64_t id, struct store_user *out);
/* As store_user_get, but only the public fields: email and password_hash
 * are left empty and nothing is decrypted (public profiles, embedded
 * creators). */
int store_user_get_public(struct store *store, uint64_t id, struct store_user *out);
/* Updates the profile fields that are not NULL. STORE_NOTFOUND if absent. */
int store_user_update_profile(struct store *store, uint64_t id, const char *display_name,
                              const char *bio);

int store_session_create(struct store *store, const struct store_session *session);
/* Copies session `id` into *out. STORE_NOTFOUND if absent. */
int store_session_get(struct store *store, uint64_t id, struct store_session *out);
/* Marks a session revoked at `now_ms`. STORE_NOTFOUND if absent. */
int store_session_revoke(struct store *store, uint64_t id, int64_t now_ms);

/* ---- operators (region store) ------------------------------------------ */

/* Staff roles. An operator belongs to the region whose store holds the row. */
enum store_role {
    STORE_ROLE_NONE = 0,
    STORE_ROLE_CUSTODIAN = 1, /* the region's data custodian: full personal-data access */
    STORE_ROLE_MODERATOR = 2, /* content and conduct */
    STORE_ROLE_SUPPORT = 3,   /* account help */
};

/* "custodian" etc. <-> enum; store_role_parse returns STORE_ROLE_NONE if unknown. */
const char *store_role_name(enum store_role role);
enum store_role store_role_parse(const char *name);

/* Grants user_id (a user of this store) an operator role. STORE_CONFLICT if it
 * already has one, STORE_NOTFOUND if no such user. */
int store_operator_grant(struct store *store, uint64_t user_id, enum store_role role,
                         int64_t now_ms);
/* The role of user_id, or STORE_NOTFOUND if not an operator. */
int store_operator_get(struct store *store, uint64_t user_id, enum store_role *role);
/* ---- lists ----------------------------------------------------------------
 * Every list is keyset-paginated on record ids, which grow with time inside
 * a region (core/id.h): a page is "ids below `before`" (newest first) or
 * "ids above `after`" (oldest first), with at most `limit` ids written to
 * out. Callers that merge several regions translate their cursor into each
 * store's bound (social/cursor.h). 0 for `before` means "from the newest";
 * 0 for `after` means "from the oldest". */

/* ---- videos (the creator's region store) ------------------------------- */

#define STORE_CAPTION_MAX 8801     /* 2,200 code points of up to 4 bytes */
#define STORE_HASHTAG_MAX 201      /* one normalised tag: 50 code points */
#define STORE_HASHTAGS_MAX 1025    /* a video's tags, space-separated */
#define STORE_RENDITIONS_MAX 4097  /* JSON array text, the API's `renditions` */
#define STORE_URL_MAX 513
#define STORE_VIDEO_ERROR_MAX 257

enum store_video_status {
    STORE_VIDEO_PROCESSING = 0,
    STORE_VIDEO_READY = 1,
    STORE_VIDEO_FAILED = 2,
};

struct store_video {
    uint64_t id;          /* carries the creator's home region */
    uint64_t creator_id;
    char caption[STORE_CAPTION_MAX];
    char hashtags[STORE_HASHTAGS_MAX]; /* normalised tags, space-separated */
    int32_t duration_ms, width, height;
    int status;           /* enum store_video_status */
    char error[STORE_VIDEO_ERROR_MAX];  /* why it failed */
    char renditions[STORE_RENDITIONS_MAX]; /* "[]" until the media pipeline fills it */
    char thumbnail_url[STORE_URL_MAX];  /* "" = none */
    int64_t likes, comments, shares, views; /* public counters */
    int64_t created_ms;
    int64_t source_bytes; /* size of the uploaded file (0 for records made without one) */
};

/* Inserts a video, indexes its hashtags (video->hashtags) and caption words,
 * and counts it on its creator, in one transaction. The creator must live in
 * this store. STORE_NOTFOUND if the creator is not here; STORE_CONFLICT if
 * the id exists. */
int store_video_create(struct store *store, const struct store_video *video);
/* Copies video `id` into *out and, if creator is not NULL, its creator's
 * public fields into *creator (email and password hash left empty).
 * STORE_NOTFOUND if absent. */
int store_video_get(struct store *store, uint64_t id, struct store_video *out,
                    struct store_user *creator);
/* Called by store_video_get_many for each video found, in the order of ids;
 * a nonzero return stops the read and is returned. */
typedef int (*store_video_fn)(void *ctx, size_t index, const struct store_video *video,
                              const struct store_user *creator);
/* store_video_get for many ids in one read transaction (a page of a feed:
 * one snapshot, and one lock round trip instead of one per video). Absent
 * ids are skipped. video and creator are the caller's scratch space.
 * Returns STORE_OK, a store error, or fn's nonzero return. */
int store_video_get_many(struct store *store, const uint64_t *ids, size_t n,
                         struct store_video *video, struct store_user *creator,
                         store_video_fn fn, void *ctx);
/* Cheap lookup for hot paths (event ingestion): creator and duration only. */
int store_video_brief(struct store *store, uint64_t id, uint64_t *creator_id,
                      int32_t *duration_ms, int *status);
/* For the media pipeline: sets the processing outcome. Strings may be NULL to
 * keep the stored value. STORE_NOTFOUND if absent. */
int store_video_set_status(struct store *store, uint64_t id, int status, const char *error,
                           int32_t duration_ms, int32_t width, int32_t height,
                           const char *renditions_json, const char *thumbnail_url);
/* A creator's uploads since a moment, for the daily quota: how many of the
 * creator's videos have an id >= since_id (ids grow with time, core/id.h)
 * and the sum of their source_bytes. Deleted videos no longer count. */
int store_video_usage(struct store *store, uint64_t creator_id, uint64_t since_id,
                      int64_t *videos, int64_t *bytes);
/* Videos still processing with id > after, in id order, up to limit (the
 * start-up check of the media pipeline; a partial index keeps it cheap). */
int store_video_list_processing(struct store *store, uint64_t after, size_t limit, uint64_t *out,
                                size_t *n);
/* Deletes a video, its hashtag and caption index entries, and uncounts it
 * from its creator. Engagement records of other users (likes, comments in
 * their own regions) stay with them. STORE_NOTFOUND if absent. */
int store_video_delete(struct store *store, uint64_t id);

/* A creator's videos, newest first; only ready ones unless include_unready. */
int store_video_list_by_creator(struct store *store, uint64_t creator_id, bool include_unready,
                                uint64_t before, size_t limit, uint64_t *out, size_t *n);
/* Ready videos carrying a normalised hashtag, newest first. */
int store_video_list_by_hashtag(struct store *store, const char *tag, uint64_t before,
                                size_t limit, uint64_t *out, size_t *n);
/* Ready videos of any of `creators` (the following feed), newest first. */
int store_video_list_by_creators(struct store *store, const uint64_t *creators, size_t count,
                                 uint64_t before, size_t limit, uint64_t *out, size_t *n);
/* Ready videos whose caption matches every word (the last as a prefix),
 * newest first. `words` are plain text; quoting for the index is done here. */
int store_video_search(struct store *store, const char *const *words, size_t count, size_t limit,
                       uint64_t *out, size_t *n);

struct store_video_score {
    uint64_t id;
    uint64_t creator_id;
    double engagement; /* likes + 2 comments + 3 shares + views / 10 */
};
/* Ready videos with id >= min_id (recent ones), most engaged first. */
int store_video_popular(struct store *store, uint64_t min_id, size_t limit,
                        struct store_video_score *out, size_t *n);

/* A ready video as the recommendation engine registers it. */
struct store_video_entry {
    uint64_t id;
    uint64_t creator_id;
    int64_t created_ms;
    int32_t duration_ms;
    char hashtags[STORE_HASHTAGS_MAX]; /* space-separated */
};
/* Ready videos with id > after, in id order (a scan: the caller continues
 * after the last one until fewer than limit come back). */
int store_video_scan_ready(struct store *store, uint64_t after, size_t limit,
                           struct store_video_entry *out, size_t *n);

struct store_hashtag {
    char tag[STORE_HASHTAG_MAX];
    int64_t videos; /* videos in this store carrying it */
};
/* Hashtags starting with a normalised prefix, most used first. */
int store_hashtag_prefix(struct store *store, const char *prefix, size_t limit,
                         struct store_hashtag *out, size_t *n);

/* ---- social records and public counters ----------------------------------
 * A follow, like, comment or share is the acting user's personal data and is
 * stored in the actor's home store. The counter it moves belongs to the
 * target (a video's likes, a user's followers), in the target's store. When
 * both are the same store the counter moves in the record's transaction.
 * When they are not, the record's transaction also queues a delta in the
 * actor store's outbox and returns it; the caller applies it to the target
 * store with store_counter_apply (idempotent: each delta is applied once even
 * if retried) and then clears it with store_outbox_done. Deltas left behind
 * by a crash are found with store_outbox_pending and applied at start-up. */

enum store_counter {
    STORE_COUNTER_VIDEO_LIKES = 1,
    STORE_COUNTER_VIDEO_COMMENTS = 2,
    STORE_COUNTER_VIDEO_SHARES = 3,
    STORE_COUNTER_VIDEO_VIEWS = 4,
    STORE_COUNTER_USER_FOLLOWERS = 5,
};

struct store_delta {
    uint64_t id;        /* outbox id; 0 = nothing to apply (done in the transaction) */
    uint64_t target_id; /* the video or user whose counter moves */
    int counter;        /* enum store_counter */
    int64_t delta;
};

/* How a record change reaches its counter: `target_here` says the target
 * lives in this store; otherwise `outbox_id` (a fresh id of this store's
 * region) names the delta queued for it. */
struct store_counter_route {
    bool target_here;
    uint64_t outbox_id;
};

/* Likes: idempotent. *changed tells whether anything changed; *delta is the
 * outbox delta to apply (delta->id == 0 when none). */
int store_like_put(struct store *store, uint64_t user_id, uint64_t video_id, int64_t now_ms,
                   struct store_counter_route route, bool *changed, struct store_delta *delta);
int store_like_delete(struct store *store, uint64_t user_id, uint64_t video_id,
                      struct store_counter_route route, bool *changed, struct store_delta *delta);
/* liked[i] = whether user_id likes video_ids[i] (n <= 100). */
int store_likes_check(struct store *store, uint64_t user_id, const uint64_t *video_ids, size_t n,
                      bool *liked);
/* The videos user_id likes, lowest id first: up to max into out, *n of
 * them; *more if there are others. */
int store_likes_list(struct store *store, uint64_t user_id, size_t max, uint64_t *out, size_t *n,
                     bool *more);

struct store_follow {
    uint64_t id; /* the follow record; its time orders follower lists */
    uint64_t follower_id, followee_id;
    int64_t created_ms;
};
/* Follows: idempotent; the follower's `following` counter moves in the same
 * transaction, the followee's `followers` by route. follow_id names a new
 * record. */
int store_follow_put(struct store *store, uint64_t follow_id, uint64_t follower_id,
                     uint64_t followee_id, int64_t now_ms, struct store_counter_route route,
                     bool *changed, struct store_delta *delta);
int store_follow_delete(struct store *store, uint64_t follower_id, uint64_t followee_id,
                        struct store_counter_route route, bool *changed,
                        struct store_delta *delta);
/* Whom follower_id follows (this store: the follower's), newest first by
 * follow id. */
int store_following_list(struct store *store, uint64_t follower_id, uint64_t before, size_t limit,
                         struct store_follow *out, size_t *n);
/* Followers of followee_id who live in this store, newest first by follow
 * id: the caller gathers every region's part. */
int store_followers_list(struct store *store, uint64_t followee_id, uint64_t before, size_t limit,
                         struct store_follow *out, size_t *n);

#define STORE_COMMENT_MAX 2001 /* 500 code points */

struct store_comment {
    uint64_t id; /* carries the author's home region */
    uint64_t video_id;
    uint64_t author_id;
    char text[STORE_COMMENT_MAX];
    int64_t created_ms;
};
/* Stores a comment (in its author's store) and moves the video's comment
 * counter by route. */
int store_comment_create(struct store *store, const struct store_comment *comment,
                         struct store_counter_route route, struct store_delta *delta);
/* Copies comment `id`, and its author's public fields if author is not NULL. */
int store_comment_get(struct store *store, uint64_t id, struct store_comment *out,
                      struct store_user *author);
/* Deletes a comment. STORE_NOTFOUND if absent. */
int store_comment_delete(struct store *store, uint64_t id, struct store_counter_route route,
                         struct store_delta *delta);
/* Comments on video_id written by users of this store, oldest first. */
int store_comment_list(struct store *store, uint64_t video_id, uint64_t after, size_t limit,
                       uint64_t *out, size_t *n);

/* Records a share by user_id and moves the video's share counter by route. */
int store_share_create(struct store *store, uint64_t share_id, uint64_t user_id,
                       uint64_t video_id, int64_t now_ms, struct store_counter_route route,
                       struct store_delta *delta);

/* Applies a delta to the counter of a target in this store, once: a delta
 * already applied is skipped. A target that no longer exists is skipped. */
int store_counter_apply(struct store *store, const struct store_delta *delta);
/* Adds to a counter of a target in this store directly (views, aggregated
 * from the event log). */
int store_counter_add(struct store *store, uint64_t target_id, int counter, int64_t delta);
/* The same for n targets in one transaction (targets gone are skipped). */
int store_counters_add(struct store *store, int counter, const uint64_t *target_ids,
                       const int64_t *deltas, size_t n);
/* Removes a delta from the outbox once applied. */
int store_outbox_done(struct store *store, uint64_t delta_id);
/* Deltas still in the outbox (oldest first). */
int store_outbox_pending(struct store *store, struct store_delta *out, size_t max, size_t *n);

/* ---- recommendation state (store_sqlite_rec.c) ---------------------------
 * Personal data of the user's home store, exported and erased with it. */

/* Sets the user's interest hashtags (space-separated, normalised); "" or
 * NULL clears them (an empty row remains until the account is erased). */
int store_user_interests_set(struct store *store, uint64_t user_id, const char *hashtags);
/* Copies them into out (STORE_NOTFOUND: none set). */
int store_user_interests_get(struct store *store, uint64_t user_id, char *out, size_t cap);
typedef int (*store_interests_fn)(void *ctx, uint64_t user_id, const char *hashtags);
/* Calls fn for every user who ever set interests (hashtags "" once
 * cleared), in id order (fn's non-zero return stops and is returned). */
int store_user_interests_each(struct store *store, store_interests_fn fn, void *ctx);
/* The engine's spilled session state of a user (an opaque blob). */
int store_rec_state_save(struct store *store, uint64_t user_id, const void *blob, size_t len,
                         int64_t now_ms);
/* STORE_OK with *len, STORE_NOTFOUND, or STORE_ERROR (also when it exceeds cap). */
int store_rec_state_load(struct store *store, uint64_t user_id, void *buf, size_t cap,
                         size_t *len);
int store_rec_state_erase(struct store *store, uint64_t user_id);
typedef int (*store_rec_state_fn)(void *ctx, uint64_t user_id, const void *blob, size_t len);
/* Calls fn for every spilled state, in user id order (the blob is valid
 * for the call; fn must not write to this store). */
int store_rec_state_each(struct store *store, store_rec_state_fn fn, void *ctx);

/* ---- privacy: deactivation, export, erasure (store_sqlite_privacy.c) ------
 * A user's personal data in their home store is what store_user_records
 * lists and store_user_purge erases. Erasure also reaches other stores:
 * follows pointing at the erased user and reactions to their videos live
 * with the other users (store_erase_references). */

/* Deactivates user_id at now_ms: status deactivated, every session revoked.
 * STORE_NOTFOUND if absent. Idempotent (keeps the first deactivation time). */
int store_user_deactivate(struct store *store, uint64_t user_id, int64_t now_ms);
/* When user_id was deactivated (0: active). */
int store_user_deactivated_at(struct store *store, uint64_t user_id, int64_t *deactivated_ms);
/* Users deactivated at or before `before_ms`, oldest first. */
int store_users_deactivated_before(struct store *store, int64_t before_ms, uint64_t *out,
                                   size_t max, size_t *n);

/* One exported record: kind ("session", "following", "like", "comment",
 * "share", "video", "operator") and its fields. Strings are valid for the
 * call. */
enum store_field_type { STORE_FIELD_TEXT, STORE_FIELD_INT, STORE_FIELD_ID, STORE_FIELD_TIME };
struct store_field {
    const char *name;
    enum store_field_type type;
    const char *text;
    int64_t value;
};
typedef int (*store_record_fn)(void *ctx, const char *kind, const struct store_field *fields,
                               int count);
/* Calls fn for every record of user_id's personal data in this store (its
 * home store), kind by kind, oldest first. A non-zero return from fn stops
 * and is returned. */
int store_user_records(struct store *store, uint64_t user_id, store_record_fn fn, void *ctx);

/* Erases user_id from its home store in one transaction: its follows, likes,
 * comments and shares (moving the counters they counted: here directly, in
 * other stores through outbox deltas, which the caller then applies), its
 * videos with their hashtag and caption-index entries, its sessions and
 * operator role, and the user row. on_video (may be NULL) is told each
 * deleted video id (the caller removes media and references elsewhere).
 * Afterwards the database is checkpointed and compacted so the erased
 * bytes survive in no page of the files, replicas included.
 * STORE_NOTFOUND if absent. */
int store_user_purge(struct store *store, uint64_t user_id,
                     void (*on_video)(void *ctx, uint64_t video_id), void *ctx);
/* Checkpoints the WAL into the database file and truncates it, on the
 * primary and every replica, so no older page image (of erased rows)
 * survives in a -wal file. Returns STORE_OK, or STORE_ERROR if a reader
 * kept the WAL busy (the next checkpoint finishes the job). */
int store_checkpoint(struct store *store);
/* In any store: removes follows pointing at the erased user (moving their
 * followers' `following` counters) and likes, comments and shares of its
 * deleted videos. */
int store_erase_references(struct store *store, uint64_t user_id, const uint64_t *video_ids,
                           size_t video_count);

/* ---- directory (directory store) --------------------------------------- */

/* Claims `username` (compared case-insensitively) for user_id.
 * STORE_CONFLICT if another user holds it. */
int store_directory_reserve(struct store *dir, const char *username, uint64_t user_id);
/* Looks a username up. STORE_NOTFOUND if nobody holds it. */
int store_directory_lookup(struct store *dir, const char *username, uint64_t *user_id);
/* Releases a claim, only if held by user_id. */
int store_directory_release(struct store *dir, const char *username, uint64_t user_id);
/* User ids whose username starts with `prefix` (case-insensitive; the prefix
 * uses username characters only), in username order. */
int store_directory_prefix(struct store *dir, const char *prefix, size_t limit, uint64_t *out,
                           size_t *n);

#endif
