/*
 * api.h — the HTTP API: routes, authentication, JSON views and input
 * validation shared by the resource files (accounts.c, health.c, ...).
 *
 * Status conventions (API.md): malformed JSON, missing fields and wrong
 * types are 400; well-formed values that break a rule (a username with a
 * space, a short password, an unknown country) are 422; both carry an
 * `errors` list naming each bad field. Uniqueness conflicts are 409.
 */
#ifndef REEL_API_API_H
#define REEL_API_API_H

#include "api/app.h"
#include "core/jsonw.h"
#include "http/http.h"
#include "social/cursor.h"

#include <jansson.h>
#include <stdbool.h>

/* Adds every API route to the router. Returns 0 or -1. */
int api_register_routes(struct http_router *router);

/* The server's before-handler: resolves "Authorization: Bearer <token>" into
 * req->user_id / req->session_id. A malformed, unknown, revoked or expired
 * token is answered 401 at once, on every route. No header: anonymous. */
void api_authenticate(struct http_request *req);
/* For routes that need a user: true if authenticated, else answers 401. */
bool api_require_user(struct http_request *req);

static inline struct app *api_app(struct http_request *req)
{
    return req->app;
}

/* The store holding the records of the region `id` belongs to. If this node
 * does not serve that region, answers 421 naming it (a front proxy routes on
 * it) and returns NULL; if no region has the id's region bits, answers 404
 * with `what` ("user", "video"...) and returns NULL. */
struct store *api_store_for_id(struct http_request *req, uint64_t id, const char *what);
/* The same for a region chosen by name or country (sign-up). */
struct store *api_store_for_region(struct http_request *req, const struct region *region);

/* ---- views (views.c) ----------------------------------------------------- */

/* Answers written with the JSON writer (core/jsonw.h): begin, write the
 * body with r->w, end. The buffer is capped at `max` bytes; a writer error
 * (cap, misuse) becomes a 500. */
struct api_reply {
    struct buf buf;
    struct jsonw w;
};
void api_reply_begin(struct api_reply *r, size_t max);
void api_reply_end(struct http_request *req, int status, struct api_reply *r);

/* Writes the public `User` object. */
void api_write_user(struct jsonw *w, struct app *app, const struct store_user *user);
/* Writes `Me`: User plus email and country. */
void api_write_me(struct jsonw *w, struct app *app, const struct store_user *user);
/* Answers with the problem for a store failure (404 for NOTFOUND, 409, 500). */
void api_store_problem(struct http_request *req, int store_status, const char *what);
/* Writes the `Video` object; liked_by_me < 0 leaves the field out (anonymous). */
void api_write_video(struct jsonw *w, struct app *app, const struct store_video *video,
                     const struct store_user *creator, int liked_by_me);
/* Loads the videos with these ids (each from its region's store), leaves
 * out the ones gone or not visible to viewer_id (0: anonymous), and writes
 * the others as `Video` values in the same order (into an open array), with
 * liked_by_me for a viewer. Sets *written (may be NULL). Returns STORE_OK or
 * a store error (abandon the reply then). */
int api_write_videos(struct jsonw *w, struct app *app, const uint64_t *ids, size_t n,
                     uint64_t viewer_id, size_t *written);
/* Writes the `Comment` object. */
void api_write_comment(struct jsonw *w, struct app *app, const struct store_comment *comment,
                       const struct store_user *author);
/* True if viewer_id (0: anonymous) may see the video: ready, by an active
 * creator — or any status for the creator. */
bool api_video_visible(const struct store_video *video, const struct store_user *creator,
                       uint64_t viewer_id);
/* Loads a video the caller may see into *video (and *creator, may be NULL);
 * answers 404/500 and returns false otherwise. */
bool api_load_video(struct http_request *req, uint64_t id, struct store_video *video,
                    struct store_user *creator);
/* Loads an active user by id; answers 404/500 and returns false otherwise. */
bool api_load_user(struct http_request *req, uint64_t id, struct store_user *user);

/* ---- lists (lists.c) ------------------------------------------------------ */

#define API_LIST_DEFAULT 20
#define API_LIST_MAX 100

struct api_page {
    size_t limit;    /* 1..API_LIST_MAX */
    uint64_t cursor; /* 0: first page */
};
/* Reads ?limit= and ?cursor= (a cursor of `kind`). Answers 400 naming the
 * parameter and returns false if either is malformed. */
bool api_page_params(struct http_request *req, enum cursor_kind kind, struct api_page *page);
/* A list page is written as {"items": [...], "next_cursor": ...}:
 * api_page_begin opens it (up to API_PAGE_MAX_BYTES), the caller writes the
 * items into r->w, api_page_end closes it with the cursor of next_key (null
 * for 0) and answers 200. api_reply_abort drops a reply half-written and
 * answers the store problem instead. */
#define API_PAGE_MAX_BYTES (4u << 20)
void api_page_begin(struct api_reply *r);
void api_page_end(struct http_request *req, struct api_reply *r, enum cursor_kind kind,
                  uint64_t next_key);
void api_reply_abort(struct http_request *req, struct api_reply *r, int store_status,
                     const char *what);

/* One list entry: `key` orders it and becomes the cursor; `ref` is what it
 * points at (the follower of a follow record; the id itself for videos). */
struct api_item {
    uint64_t key;
    uint64_t ref;
};
/* Lists one region store's part of a list: up to limit items beyond `bound`
 * (a store bound: below it when newest first, above it otherwise). */
typedef int (*api_region_list_fn)(struct store *store, const struct region *region,
                                  uint64_t bound, size_t limit, struct api_item *out, size_t *n,
                                  void *arg);
/* Writes the public `User` of each item's ref (into an open array), leaving
 * out users gone or deactivated. Returns STORE_OK or a store error. */
int api_write_users(struct jsonw *w, struct app *app, const struct api_item *items, size_t n);
/* Gathers a list from every region's store and merges it in (ms, id) order:
 * up to page->limit items after page->cursor into out (room for
 * page->limit), *more set if there are further pages. Returns STORE_OK or a
 * store error. */
int api_gather(struct app *app, const struct api_page *page, bool newest_first,
               api_region_list_fn fn, void *arg, struct api_item *out, size_t *n, bool *more);

/* ---- cross-region counters (counters.c) ------------------------------------ */

/* How a record in actor_store reaches the counter of target_id. */
struct store_counter_route api_counter_route(struct app *app, struct store *actor_store,
                                             uint64_t target_id);
/* Applies an outbox delta to its target's store and clears it from the
 * actor's outbox; on failure it stays there for api_counters_drain. No-op for
 * delta->id == 0. */
void api_counter_propagate(struct app *app, struct store *actor_store,
                           const struct store_delta *delta);
/* Applies every delta left in any store's outbox. Returns 0, or -1 if a
 * store failed. */
int api_counters_drain(struct app *app);

/* ---- video cache for event ingestion (video_cache.c) ------------------------ */

struct video_cache *api_video_cache_create(void);
void api_video_cache_destroy(struct video_cache *cache);
/* Creator and duration of a ready video, from the cache or its store.
 * STORE_OK; STORE_NOTFOUND if it does not exist or is not ready;
 * STORE_ERROR. */
int api_video_brief(struct app *app, uint64_t video_id, uint64_t *creator_id,
                    uint32_t *duration_ms);
/* Drops a video from the cache (deleted). */
void api_video_cache_forget(struct app *app, uint64_t video_id);

/* ---- rendered video cards (card_cache.c) ------------------------------------ */

/* What a card read from the store is checked against (api_card_stamp). */
struct card_stamp {
    uint64_t creator_id; /* 0: not known before the read */
    uint32_t video_ver, creator_ver, epoch, users_gen;
    int64_t rendered_ms;
};

/* A cache of `slots` cards (rounded up to a power of two); NULL if slots is
 * 0 (no cache) or out of memory. */
struct card_cache *api_card_cache_create(unsigned slots);
void api_card_cache_destroy(struct card_cache *cache);
/* The stores' change hook (store_set_change_hook): ctx is the cache. */
void api_card_cache_changed(void *ctx, enum store_row row, uint64_t id, bool deleted);
/* If video_id's card is current, appends its members to out and returns
 * true. */
bool api_card_copy(struct card_cache *cache, uint64_t video_id, struct buf *out);
/* Before reading video_id from its store: the counters to keep the card
 * with. */
void api_card_stamp(struct card_cache *cache, uint64_t video_id, struct card_stamp *st);
/* After the read: keeps body[0..len) (the card's members) for a video every
 * viewer may see, stamped with st (taken before the read). */
void api_card_put(struct card_cache *cache, uint64_t video_id, uint64_t creator_id,
                  const struct card_stamp *st, const char *body, size_t len);
/* Cards worth renewing before they expire: copied since they were rendered,
 * and rendered age_ms or more before now_ms (clock_mono_ms's clock). Their
 * video ids go to ids[0..max) and each is marked not copied, so a card
 * nobody copies again is left to expire. Returns the count (max: there may
 * be more). */
size_t api_card_cache_due(struct card_cache *cache, int64_t now_ms, int64_t age_ms, uint64_t *ids,
                          size_t max);
/* Reads ids[0..n) from their stores and keeps their cards, as a page's
 * missing cards are (stamped before the read), without writing a page.
 * Returns a store status. */
int api_cards_renew(struct app *app, const uint64_t *ids, size_t n);
/* The card refresher (card_refresh.c): a thread that renews cards in use
 * before they expire. Started with the card cache (app_open_events); stop
 * it before the stores close. */
struct card_refresher;
struct card_refresher *api_card_refresher_start(struct app *app, char *err, size_t errlen);
void api_card_refresher_stop(struct card_refresher *refresher);

/* ---- the sessions behind tokens (session_cache.c) --------------------------- */

/* What an entry of the session or likes cache, read from a store, is checked
 * against: its key's counters as they were before the read, and when
 * (cache_sets.h). */
struct cache_stamp {
    uint32_t ver, epoch;
    int64_t read_ms;
};

/* A cache of `slots` sessions (rounded up to a power of two); NULL if slots
 * is 0 (no cache) or out of memory. Every function takes a NULL cache. */
struct session_cache *api_session_cache_create(unsigned slots);
void api_session_cache_destroy(struct session_cache *cache);
/* From the stores' change hook (app.c). */
void api_session_cache_changed(struct session_cache *cache, enum store_row row, uint64_t id,
                               bool deleted);
/* The session `id` as last read, if still current: true and *out. */
bool api_session_cache_get(struct session_cache *cache, uint64_t id, struct store_session *out);
void api_session_cache_stamp(struct session_cache *cache, uint64_t id, struct cache_stamp *st);
/* After the read: keeps *s unless its row changed since the stamp. */
void api_session_cache_put(struct session_cache *cache, const struct store_session *s,
                           const struct cache_stamp *st);

/* ---- a viewer's likes, for liked_by_me (likes_cache.c) ---------------------- */

#define API_LIKES_KEPT 256 /* a user with more likes is answered from the store */

enum api_likes {
    API_LIKES_MISS, /* not cached (or out of date): read the list */
    API_LIKES_HIT,  /* answered */
    API_LIKES_MANY, /* more than API_LIKES_KEPT: ask the store */
};

/* A cache of `users` viewers' likes (rounded up to a power of two); NULL if
 * users is 0 (no cache) or out of memory. Every function takes a NULL
 * cache. */
struct likes_cache *api_likes_cache_create(unsigned users);
void api_likes_cache_destroy(struct likes_cache *cache);
/* From the stores' change hook (app.c). */
void api_likes_cache_changed(struct likes_cache *cache, enum store_row row, uint64_t id,
                             bool deleted);
/* liked[i] for each of ids[0..n) if user_id's likes are cached (HIT). */
enum api_likes api_likes_cache_check(struct likes_cache *cache, uint64_t user_id,
                                     const uint64_t *ids, size_t n, bool *liked);
void api_likes_cache_stamp(struct likes_cache *cache, uint64_t user_id, struct cache_stamp *st);
/* After reading the list (store_likes_list, at most API_LIKES_KEPT, `more`
 * if there were others): keeps it unless a like or unlike of user_id came
 * since the stamp. */
void api_likes_cache_put(struct likes_cache *cache, uint64_t user_id, const uint64_t *ids,
                         size_t count, bool more, const struct cache_stamp *st);

/* ---- analytics (analytics.c) ------------------------------------------------ */

struct stats;
/* Restores region's analytics from its primary site and starts feeding them
 * from log (consumer "stats"; NULL log: queries only). NULL with err on
 * failure. Stop saves them. */
struct analytics *api_analytics_start(struct app *app, const struct region *region,
                                      struct eventlog *log, char *err, size_t errlen);
void api_analytics_stop(struct analytics *a);
/* Applies records by hand (started without a log: `reel stats` catching up
 * on what the server has not saved yet). Records already counted are
 * skipped. */
struct eventlog_record;
void api_analytics_feed(struct analytics *a, const struct eventlog_record *records, size_t n);
struct stats *api_analytics_stats(struct analytics *a);
/* Erasure: once the consumer has read up to log_end (the log's end after
 * it was scrubbed), forgets creator_id's statistics and saves. Returns 0 or
 * -1. */
int api_analytics_forget_creator(struct analytics *a, uint64_t creator_id, uint64_t log_end);

/* ---- recommendation engine (recommend.c) ----------------------------------- */

struct recommender;
struct rec_user_state;
/* Starts region's engine: loads <primary>/rec/rec.snapshot (or starts empty),
 * registers every ready video and every user's interests, and feeds it from
 * log (consumer "rec") after the snapshot's position, returning once the log
 * as it was at start is applied. NULL with err on failure. Stop snapshots. */
struct recommender *api_rec_start(struct app *app, const struct region *region,
                                  struct eventlog *log, char *err, size_t errlen);
void api_rec_stop(struct recommender *rec);
/* A video became ready (every region's engine ranks it) / was deleted. */
void api_rec_video_ready(struct app *app, uint64_t video_id);
void api_rec_video_gone(struct app *app, uint64_t video_id);
/* The user's interests changed ("a b c", "" = none). Returns 0 or -1. */
int api_rec_set_interests(struct app *app, uint64_t user_id, const char *hashtags);
/* Returned by the calls below given may_wait = false when they would have
 * had to wait (a lock, a store read, the engine catching up): nothing was
 * done; call again where waiting is allowed (http_request_offload). */
#define API_WOULD_WAIT 1
/* The user's next For You page from the home region's engine (marked seen
 * there). Returns 0, API_WOULD_WAIT, or -1 if no engine runs for that
 * region. */
int api_rec_feed(struct app *app, uint64_t user_id, size_t limit, bool may_wait, uint64_t *out,
                 size_t *n);
/* A request of user_id appended events to its region's log, ending before
 * end_offset: the user's next feed waits (a little) until the engine has
 * them. Call before answering the request. */
void api_rec_wrote(struct app *app, uint64_t user_id, uint64_t end_offset);
/* What the engine holds about the user (the data export). 0 or REC_ENOENT. */
int api_rec_describe(struct app *app, uint64_t user_id, struct rec_user_state *out);
/* Erasure, after the event logs were scrubbed: removes the user's videos
 * and every reference to the user as a creator from every engine, and what
 * the home engine holds about the user as a viewer (model row, session,
 * seen filter, interests), each once its consumer has passed the scrubbed
 * log; then snapshots the engines. Returns 0 or -1. */
int api_rec_forget(struct app *app, uint64_t user_id, const uint64_t *videos, size_t video_count);

/* ---- interests (interests.c) ------------------------------------------------ */

struct validation;
#define API_INTERESTS_BYTES 1100 /* 16 tags of < 64 bytes, space-separated */
/* Reads body's optional "interests" (an array of up to 16 hashtags) into
 * out, normalised, deduplicated and space-separated. Returns true if the
 * field was there and valid; records errors in v. */
bool api_parse_interests(json_t *body, struct validation *v, char *out, size_t cap);
/* Stores the user's interests in the home store and tells the engine. */
int api_interests_save(struct app *app, uint64_t user_id, const char *hashtags);
int api_interests_register(struct http_router *router);

/* ---- events and feeds ----------------------------------------------------------- */

/* Appends one server-side event (a like, a follow...) to the actor's home
 * region log and marks nothing else; failures are logged, not returned: the
 * action itself already happened. */
void api_event_record(struct app *app, int type, uint64_t user_id, uint64_t video_id,
                      uint64_t creator_id, uint32_t duration_ms);
/* The popular baseline of the For You feed: ready videos of the last
 * [feed] popular_window from every region, most engaged first (likes,
 * comments, shares, views), without the viewer's own videos and what the
 * viewer was already shown. The ranking is shared and at most a second old
 * (feed.c). Writes up to limit ids. Returns STORE_OK, API_WOULD_WAIT (the
 * first ranking is not fetched yet) or a store error. The recommendation
 * engine keeps this as its "popular" baseline. */
int api_feed_popular(struct app *app, uint64_t viewer_id, size_t limit, bool may_wait,
                     uint64_t *out, size_t *n);
/* The popular baseline's shared candidate list (feed.c; app->popular). */
struct feed_popular *api_feed_popular_create(struct app *app);
void api_feed_popular_destroy(struct feed_popular *popular);
/* Refills the seen filter from the tail of every region's event log. */
void api_feed_seen_rebuild(struct app *app);
/* Starts counting the `play` events of one region's log into the videos'
 * public `views` counters (consumer "views", flushed about once a second;
 * see play_counts.c). NULL on failure. Stop (flushing) before closing the
 * log. */
struct play_counts *api_play_counts_start(struct app *app, struct eventlog *log);
void api_play_counts_stop(struct play_counts *counts);

/* ---- validation (validate.c) --------------------------------------------- */

struct validation {
    json_t *errors;   /* [{"field","message"}], NULL while none */
    bool shape_error; /* a missing field or a wrong type: 400 rather than 422 */
};

/* Reads a string field. Missing (when required) or not a string is recorded
 * as a shape error; returns the string (owned by obj) or NULL. */
const char *api_field_string(json_t *obj, const char *name, bool required, struct validation *v);
/* Records a value error for field. */
void api_invalid(struct validation *v, const char *field, const char *message);
/* Records every key of obj not in `allowed` (NULL-terminated) as a shape error. */
void api_reject_unknown_fields(json_t *obj, const char *const *allowed, struct validation *v);
/* Checks free text: length in code points within [min, max], and no control
 * characters (newlines and tabs allowed when multiline). Records errors. */
bool api_check_text(struct validation *v, const char *field, const char *text, size_t min,
                    size_t max, bool multiline);
/* Answers 400/422 problem+json and returns true if any error was recorded. */
bool api_validation_failed(struct http_request *req, struct validation *v);
/* For video creation (upload): checks a caption — at most [limits]
 * caption_max characters, newlines allowed, no other control characters —
 * recording errors under `field`, and fills video->caption and
 * video->hashtags (parsed and normalised, social/hashtag.h). Returns true if
 * valid. */
bool api_video_caption(struct app *app, struct validation *v, const char *field,
                       const char *caption, struct store_video *video);
/* Parses an id path parameter; answers 400 and returns false if malformed. */
bool api_param_id(struct http_request *req, const char *name, uint64_t *id);

/* Username rules: 3..30 of [A-Za-z0-9_.], not starting or ending with '.',
 * no "..". Returns NULL if valid, else the reason. */
const char *api_username_problem(const char *username);
/* E-mail syntax: local@domain, local 1..64 printable non-space bytes without
 * '@', domain of dot-separated labels [A-Za-z0-9-] with at least one dot,
 * 254 bytes at most. Returns NULL if valid, else the reason. */
const char *api_email_problem(const char *email);

#define API_PASSWORD_MIN 8
#define API_PASSWORD_MAX_BYTES 1024
#define API_DISPLAY_NAME_MAX 50
#define API_BIO_MAX 300

/* ---- resources ------------------------------------------------------------ */

int api_accounts_register(struct http_router *router);
int api_health_register(struct http_router *router);
int api_videos_register(struct http_router *router);
int api_social_register(struct http_router *router);
int api_comments_register(struct http_router *router);
int api_events_register(struct http_router *router);
int api_feed_register(struct http_router *router);
int api_search_register(struct http_router *router);
int api_web_register(struct http_router *router);
int api_regions_register(struct http_router *router);
int api_admin_register(struct http_router *router);
int api_stats_register(struct http_router *router);
int api_audit_register(struct http_router *router);
int api_privacy_register(struct http_router *router);

/* ---- media (media_pipeline.c, ingest.c, uploads.c, media_files.c) ----------- */

struct media_jobs;
struct media_limits;

/* Starts the media pipeline: the transcoding pool from [media], then for
 * every served region recovery of what a crash left (jobs resumed, results
 * recorded, lost ones failed), the replica sites' media brought in line
 * with the primary's, and videos left processing settled; with
 * sweep_uploads, a thread that deletes resumable uploads idle for [media]
 * upload_expiry. Call before the server accepts uploads. Returns 0, or -1
 * with err. */
int api_media_start(struct app *app, bool sweep_uploads, char *err, size_t errlen);
/* Stops the sweeper and the pool (running jobs are shelved for the next
 * start). NULL-safe: does nothing when not started. */
void api_media_stop(struct app *app);
/* Blocks until no job is queued or running (`reel seed`). */
void api_media_wait_idle(struct app *app);
/* The job pool and upload limits, or NULL when the pipeline is not running. */
struct media_jobs *api_media_jobs(struct app *app);
const struct media_limits *api_media_limits(struct app *app);
/* The site directory holding an id's media: its region's primary site
 * (whether or not this node serves the region), or NULL for no region. */
const char *api_media_site(struct app *app, uint64_t id);
/* A video is gone (deleted, erased): cancels its job and removes its files
 * from the primary and every replica site of its region. */
void api_media_forget(struct app *app, uint64_t video_id);

/* Why an upload was refused: an HTTP status, a problem type slug (the
 * media reason's slug for files that are not acceptable videos), a title
 * and words for the uploader; for a field error the field ("caption"); for
 * 429/503 the seconds to wait. */
struct api_upload_refusal {
    int status;
    const char *type;
    const char *title;
    char detail[320];
    const char *field;
    unsigned retry_after;
};
/* Answers the refusal as problem+json (with Retry-After when set). */
void api_upload_refuse(struct http_request *req, const struct api_upload_refusal *why);
/* Fills *why with the 413 of a file over `limit` bytes; returns -1. */
int api_upload_too_large(struct api_upload_refusal *why, uint64_t limit);
/* The per-user daily quota ([media] daily_quota_videos, daily_quota_bytes,
 * per UTC day): returns 0 if one more video of `bytes` fits, else -1 with
 * a 429 `quota-exceeded` (Retry-After: until midnight UTC) in *why. */
int api_upload_quota(struct app *app, uint64_t user_id, uint64_t bytes,
                     struct api_upload_refusal *why);

struct api_upload {
    uint64_t creator_id;
    const char *path;    /* the received file, on the creator's home site's file system */
    const char *caption; /* NULL = "" */
    bool check_quota;    /* false for `reel seed` */
};
/* The one path every upload takes once its bytes are on disk: caption
 * rules, quota, probe, a `processing` video record in the creator's home
 * store, a transcoding job. Returns 0 with *video_id; or -1 with *why, and
 * then nothing was recorded. The file is consumed either way (moved into
 * the job, or removed). Blocks (probe): run it on a worker thread. */
int api_upload_ingest(struct app *app, const struct api_upload *up, uint64_t *video_id,
                      struct api_upload_refusal *why);

int api_uploads_register(struct http_router *router);
int api_media_register(struct http_router *router);

/* ---- erasure (privacy.c) -------------------------------------------------- */

/* Erases a user everywhere this node reaches (see privacy.c). Returns 0, or
 * -1 with err (running it again finishes the job). */
int api_account_erase(struct app *app, uint64_t user_id, char *err, size_t errlen);
/* Erases every account deactivated before now minus the grace period (or
 * every deactivated account, ignore_grace). *erased: how many. Returns 0 or
 * -1 if one failed (the others are still erased). */
int api_purge_due(struct app *app, int64_t now_ms, bool ignore_grace, size_t *erased);
/* The server's purge thread (at start, then every [privacy] purge_interval). */
struct purger;
struct purger *api_purger_start(struct app *app);
void api_purger_stop(struct purger *p);

/* Operators (admin.c): the caller as an actor for the custodian gateway
 * (401 if anonymous; role NONE for a plain user), and asking the gateway
 * (403/503 answered when refused). Both return false once answered. */
bool api_admin_actor(struct http_request *req, struct gateway_actor *actor);
bool api_admin_authorize(struct http_request *req, const struct gateway_actor *actor,
                         const struct gateway_access *access);

#endif
