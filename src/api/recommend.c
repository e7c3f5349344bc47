/*
 * recommend.c — runs one recommendation engine (rec/) per served region
 * inside the server and answers the For You feed with it.
 *
 * Each region's engine learns only from that region's event log: a consumer
 * ("rec") applies every record to the engine as it is written, so an event
 * changes the user's very next feed request. Videos are public and come from
 * every region: all ready videos are registered at start, new ones when the
 * media pipeline finishes them, and deleted or erased ones are removed. The
 * region's analytics (stats/) hand their trending list to the engine's
 * trending source.
 *
 * Persistence. The engine is snapshotted to <primary site>/rec/rec.snapshot
 * every [rec] snapshot_interval, at a clean stop and after an erasure; the
 * snapshot records the log position it includes. At start the snapshot is
 * loaded and the log after that position replayed, so a restart (or a crash)
 * gives the rankings the engine had. Without a usable snapshot (first start,
 * another `dim` or `seed`, a damaged file) the engine is rebuilt from the
 * whole retained log. The snapshot, the spilled sessions (rec_sessions in
 * the user's home store) and the interests users picked (user_interests)
 * are personal data: they stay on the region's sites and go with the
 * account (api_rec_forget).
 *
 * Concurrency: feed requests call the engine directly (it has its own
 * reader-writer lock). `mu` orders the consumer's batches against snapshots,
 * so a snapshot's position matches the state it holds.
 */
#include "api/api.h"

#include "core/alloc.h"
#include "core/clock.h"
#include "core/log.h"
#include "events/catchup.h"
#include "events/pump.h"
#include "rec/engine.h"
#include "stats/stats.h"
#include "stats/trending.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SCAN_CHUNK 256

struct recommender {
    struct app *app;
    const struct region *region;
    struct rec_engine *engine;
    struct eventlog_pump *pump;
    pthread_mutex_t mu;
    uint64_t next; /* offset after the last record applied (under mu) */
    int64_t last_event_ms;
    int64_t last_tick_ms;
    uint64_t snapshot_next; /* `next` of the newest snapshot */
    atomic_bool changed;    /* videos, interests or users changed since it */
    struct eventlog *log;
    /* `next`, published after each batch, and read-your-writes
     * (api_rec_wrote): where the newest events of each user end. */
    struct catchup *applied;
    bool started;                            /* fully started: stopping snapshots it */
    bool snapshot_retry;                     /* an erasure's snapshot failed: the tick retries it */
    uint64_t scan_after[CONFIG_MAX_REGIONS]; /* the catalogue scan's position per store */
    int64_t last_scan_ms;
    char dir[CONFIG_PATH_MAX + 8];
    struct event *batch;
    uint64_t *offsets; /* batch[i]'s log offset */
    long apply_delay_ms; /* test hook: see apply_events */
};

#define WRITTEN_SLOTS_LOG2 18

static int snapshot_locked(struct recommender *r);

/* ---- spilled sessions: the user's home store ------------------------------- */

static int spill_save(void *ctx, uint64_t user_id, const void *blob, size_t len)
{
    struct recommender *r = ctx;
    struct store *store = app_store_for_id(r->app, user_id);
    if (!store || store_rec_state_save(store, user_id, blob, len, clock_now_ms()) != STORE_OK)
        return -1;
    return 0;
}

static long spill_load(void *ctx, uint64_t user_id, void *buf, size_t cap)
{
    struct recommender *r = ctx;
    struct store *store = app_store_for_id(r->app, user_id);
    size_t len = 0;
    if (!store)
        return 0;
    int rc = store_rec_state_load(store, user_id, buf, cap, &len);
    if (rc == STORE_NOTFOUND)
        return 0;
    return rc == STORE_OK ? (long)len : -1;
}

static void spill_erase(void *ctx, uint64_t user_id)
{
    struct recommender *r = ctx;
    struct store *store = app_store_for_id(r->app, user_id);
    if (store)
        store_rec_state_erase(store, user_id);
}

/* ---- registration -------------------------------------------------------- */

static int add_entry(struct rec_engine *engine, const struct store_video_entry *v)
{
    const char *tags[REC_VIDEO_TAGS];
    char buf[STORE_HASHTAGS_MAX];
    size_t count = 0;
    snprintf(buf, sizeof buf, "%s", v->hashtags);
    for (char *save = NULL, *t = strtok_r(buf, " ", &save); t && count < REC_VIDEO_TAGS;
         t = strtok_r(NULL, " ", &save))
        tags[count++] = t;
    struct rec_video rv = {.id = v->id,
                           .creator_id = v->creator_id,
                           .created_ms = v->created_ms,
                           .duration_ms = v->duration_ms > 0 ? (uint32_t)v->duration_ms : 0,
                           .hashtags = tags,
                           .hashtag_count = count};
    int rc = rec_video_add(engine, &rv);
    return rc == REC_EEXIST ? 0 : rc;
}

/* Registers the ready videos of every served store with ids above the last
 * scan's: at start all of them, later the ones written by other processes
 * (`reel seed`, another node). Videos this process finishes are registered
 * at once by api_rec_video_ready. Returns how many were added, or -1. */
static long scan_new_videos(struct recommender *r)
{
    struct app *app = r->app;
    struct store_video_entry *chunk = reel_malloc(SCAN_CHUNK * sizeof *chunk);
    if (!chunk)
        return -1;
    long added = 0;
    for (int i = 0; i < app->regions.count; i++) {
        if (!app->stores[i])
            continue;
        for (;;) {
            size_t n = 0;
            if (store_video_scan_ready(app->stores[i], r->scan_after[i], SCAN_CHUNK, chunk, &n) !=
                STORE_OK) {
                reel_free(chunk);
                return -1;
            }
            for (size_t k = 0; k < n; k++)
                if (add_entry(r->engine, &chunk[k]) == 0)
                    added++;
            if (n)
                r->scan_after[i] = chunk[n - 1].id;
            if (n < SCAN_CHUNK)
                break;
        }
        /* Ids are given at upload, readiness comes later: the next scan
         * starts again below the oldest video still processing, or it
         * would never see that one become ready. */
        uint64_t oldest;
        size_t pending = 0;
        if (store_video_list_processing(app->stores[i], 0, 1, &oldest, &pending) == STORE_OK &&
            pending && oldest <= r->scan_after[i])
            r->scan_after[i] = oldest - 1;
    }
    reel_free(chunk);
    if (added)
        atomic_store(&r->changed, true);
    return added;
}

/* At start: every ready video, then the videos a snapshot still had that
 * are gone (deleted or erased while the server was stopped) are dropped. */
static int register_videos(struct recommender *r)
{
    struct app *app = r->app;
    if (scan_new_videos(r) < 0)
        return -1;
    size_t total = rec_engine_video_ids(r->engine, NULL, 0);
    uint64_t *ids = total ? reel_malloc(total * sizeof *ids) : NULL;
    size_t removed = 0;
    if (ids) {
        total = rec_engine_video_ids(r->engine, ids, total);
        for (size_t k = 0; k < total; k++) {
            struct store *store = app_store_for_id(app, ids[k]);
            uint64_t creator;
            int32_t duration;
            int status = STORE_VIDEO_READY;
            int rc = store ? store_video_brief(store, ids[k], &creator, &duration, &status)
                           : STORE_ERROR;
            if ((rc == STORE_NOTFOUND || (rc == STORE_OK && status != STORE_VIDEO_READY)) &&
                rec_video_remove(r->engine, ids[k]) == 0)
                removed++;
        }
        reel_free(ids);
    }
    log_info("event=rec_videos region=%s videos=%zu removed=%zu", r->region->name, total - removed,
             removed);
    return 0;
}

/* Splits "a b c" and hands the tags to the engine. */
static int set_interests_text(struct rec_engine *engine, uint64_t user_id, const char *text)
{
    char buf[REC_INTERESTS_MAX * (REC_HASHTAG_MAX + 1)];
    const char *tags[REC_INTERESTS_MAX];
    size_t count = 0;
    snprintf(buf, sizeof buf, "%s", text);
    for (char *save = NULL, *t = strtok_r(buf, " ", &save); t && count < REC_INTERESTS_MAX;
         t = strtok_r(NULL, " ", &save))
        tags[count++] = t;
    return rec_user_set_interests(engine, user_id, tags, count);
}

static int load_interest(void *ctx, uint64_t user_id, const char *hashtags)
{
    struct recommender *r = ctx;
    if (set_interests_text(r->engine, user_id, hashtags) < 0)
        log_warn("event=rec_interests_failed user=%" PRIu64, user_id);
    return 0;
}

/* ---- the consumer ------------------------------------------------------------ */

#define CATALOGUE_SCAN_MS 2000

/* The region's analytics rank videos by time-decayed engagement ([stats]
 * trending_half_life); the engine's trending source offers their top list
 * too (refreshed with the catalogue scan). */
static void share_trending(struct recommender *r, int64_t now_ms)
{
    struct stats *stats = api_analytics_stats(r->app->analytics[r->region->index]);
    if (!stats)
        return;
    static _Thread_local struct stats_trending_item items[REC_EXTERNAL_TRENDING_MAX];
    uint64_t ids[REC_EXTERNAL_TRENDING_MAX];
    size_t n = stats_query_trending_videos(stats, now_ms, items, REC_EXTERNAL_TRENDING_MAX);
    for (size_t i = 0; i < n; i++)
        ids[i] = items[i].key;
    rec_engine_set_trending(r->engine, ids, n);
}

static void tick_locked(struct recommender *r, int64_t now_ms)
{
    if (now_ms - r->last_tick_ms < 1000)
        return;
    rec_engine_tick(r->engine, now_ms);
    r->last_tick_ms = now_ms;
    if (r->snapshot_retry && snapshot_locked(r) == 0)
        r->snapshot_retry = false;
    if (now_ms - r->last_scan_ms >= CATALOGUE_SCAN_MS) {
        scan_new_videos(r);
        share_trending(r, now_ms);
        r->last_scan_ms = now_ms;
    }
}

static int apply_events(void *ctx, const struct eventlog_record *recs, size_t count)
{
    struct recommender *r = ctx;
    /* Test hook: REEL_TEST_REC_APPLY_DELAY_MS (read at start) holds every
     * batch back that long, so that a page asked right after an event
     * finds it not yet applied unless it waits for it: the e2e test of
     * read-your-writes (test_foryou.py) fails without catchup_wait. */
    if (r->apply_delay_ms > 0)
        nanosleep(&(struct timespec){.tv_sec = r->apply_delay_ms / 1000,
                                     .tv_nsec = r->apply_delay_ms % 1000 * 1000000L},
                  NULL);
    pthread_mutex_lock(&r->mu);
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        if (recs[i].offset < r->next)
            continue; /* in the snapshot already */
        r->next = recs[i].offset + 1;
        if (recs[i].event.type == EVENT_ERASED)
            continue;
        r->offsets[n] = recs[i].offset;
        r->batch[n++] = recs[i].event;
        r->last_event_ms = recs[i].event.at_ms;
    }
    if (n)
        rec_engine_observe_log(r->engine, r->batch, r->offsets, n);
    tick_locked(r, clock_now_ms());
    uint64_t next = r->next;
    pthread_mutex_unlock(&r->mu);
    catchup_applied(r->applied, next);
    return 0;
}

/* Read-your-writes for the feed: a user who just sent events (a skip, "not
 * interested") gets a next page that reflects them. The request waits until
 * the engine has applied that user's events — usually well under a
 * millisecond behind — but never more than FEED_WAIT_MS, so a consumer
 * falling behind under load delays no feed by more than that. Only the
 * user's own events are waited for (api_rec_wrote; users whose ids share a
 * slot wait for each other's): with events arriving all the time, waiting
 * for the whole log held up every feed. */
#define FEED_WAIT_MS 100

static struct recommender *rec_of(struct app *app, uint64_t user_id);

void api_rec_wrote(struct app *app, uint64_t user_id, uint64_t end_offset)
{
    struct recommender *r = rec_of(app, user_id);
    if (r)
        catchup_wrote(r->applied, user_id, end_offset);
}

static void idle(void *ctx)
{
    struct recommender *r = ctx;
    pthread_mutex_lock(&r->mu);
    tick_locked(r, clock_now_ms());
    pthread_mutex_unlock(&r->mu);
}

/* With mu held. */
static int snapshot_locked(struct recommender *r)
{
    if (r->snapshot_next == r->next && !atomic_load(&r->changed))
        return 0;
    struct rec_mark mark = {.log_offset = r->next, .event_ms = r->last_event_ms};
    char err[256];
    atomic_store(&r->changed, false);
    uint64_t t0 = clock_mono_ns();
    if (rec_engine_snapshot(r->engine, r->dir, &mark, err, sizeof err) < 0) {
        atomic_store(&r->changed, true);
        log_error("event=rec_snapshot_failed region=%s error=\"%s\"", r->region->name, err);
        return -1;
    }
    r->snapshot_next = r->next;
    log_info("event=rec_snapshot region=%s offset=%" PRIu64 " ms=%.1f", r->region->name, r->next,
             (double)(clock_mono_ns() - t0) / 1e6);
    return 0;
}

static int checkpoint(void *ctx, uint64_t next)
{
    struct recommender *r = ctx;
    (void)next;
    pthread_mutex_lock(&r->mu);
    int rc = snapshot_locked(r);
    pthread_mutex_unlock(&r->mu);
    return rc;
}

/* ---- start and stop --------------------------------------------------------- */

/* The engine from the region's snapshot, or a new one when there is none or
 * it cannot be used: damaged, of another dim/seed, or ahead of the log's end
 * (log_end; the log was recovered shorter or replaced). The log is the
 * source of truth: an unusable snapshot means a rebuild from it. */
static struct rec_engine *open_engine(const struct config *cfg, const struct region *region,
                                      const char *dir, uint64_t log_end, uint64_t *next,
                                      int64_t *event_ms, char *err, size_t errlen)
{
    char path[CONFIG_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/rec.snapshot", dir);
    int code = 0;
    if (access(path, F_OK) == 0) {
        struct rec_mark mark;
        char why[256];
        struct rec_engine *e = rec_engine_load(&cfg->rec, dir, &mark, &code, why, sizeof why);
        if (e && mark.log_offset <= log_end) {
            *next = mark.log_offset;
            *event_ms = mark.event_ms;
            return e;
        }
        if (e) {
            rec_engine_destroy(e);
            log_warn("event=rec_snapshot_ahead_of_log region=%s snapshot_offset=%" PRIu64
                     " log_end=%" PRIu64 " (rebuilding from the event log)",
                     region->name, mark.log_offset, log_end);
        } else if (code == REC_ENOMEM) {
            snprintf(err, errlen, "region %s: out of memory loading %s", region->name, path);
            return NULL;
        } else {
            log_warn("event=rec_snapshot_unusable region=%s path=%s error=\"%s\" (rebuilding "
                     "from the event log)",
                     region->name, path, why);
        }
    }
    *next = 0;
    *event_ms = 0;
    struct rec_engine *e = rec_engine_create(&cfg->rec, &code);
    if (!e)
        snprintf(err, errlen, "region %s: recommendation engine: %s", region->name,
                 rec_strerror(code));
    return e;
}

struct recommender *api_rec_start(struct app *app, const struct region *region,
                                  struct eventlog *log, char *err, size_t errlen)
{
    struct recommender *r = reel_calloc(1, sizeof *r);
    if (!r || !(r->batch = reel_malloc(1024 * sizeof *r->batch)) ||
        !(r->offsets = reel_malloc(1024 * sizeof *r->offsets)) ||
        !(r->applied = catchup_create(WRITTEN_SLOTS_LOG2, 0))) {
        if (r) {
            reel_free(r->batch);
            reel_free(r->offsets);
        }
        reel_free(r);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->app = app;
    r->region = region;
    const char *delay = getenv("REEL_TEST_REC_APPLY_DELAY_MS");
    r->apply_delay_ms = delay ? strtol(delay, NULL, 10) : 0;
    pthread_mutex_init(&r->mu, NULL);
    r->log = log;
    snprintf(r->dir, sizeof r->dir, "%s/rec", region->primary_dir);
    if (mkdir(r->dir, 0700) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "region %s: cannot create %s: %s", region->name, r->dir,
                 strerror(errno));
        goto fail;
    }
    uint64_t t0 = clock_mono_ns();
    uint64_t log_end = log ? eventlog_end_offset(log) : UINT64_MAX;
    if (!(r->engine = open_engine(&app->cfg, region, r->dir, log_end, &r->next, &r->last_event_ms,
                                  err, errlen)))
        goto fail;
    r->snapshot_next = r->next;
    struct rec_spill spill = {
        .ctx = r, .save = spill_save, .load = spill_load, .erase = spill_erase};
    rec_engine_set_spill(r->engine, &spill);
    struct store *store = app_store_for_region(app, region);
    if (register_videos(r) < 0 ||
        (store && store_user_interests_each(store, load_interest, r) != STORE_OK)) {
        snprintf(err, errlen,
                 "region %s: could not load the videos and interests for the "
                 "recommendation engine",
                 region->name);
        goto fail;
    }
    if (log) {
        uint64_t first = eventlog_first_offset(log);
        uint64_t from = r->next > first ? r->next : first;
        if (r->next < first && r->next > 0)
            log_warn("event=rec_log_gap region=%s snapshot_offset=%" PRIu64 " first_offset=%" PRIu64
                     " (events in between were removed by retention)",
                     region->name, r->next, first);
        r->next = from;
        catchup_applied(r->applied, from);
        uint64_t end = eventlog_end_offset(log);
        struct eventlog_pump_options p = {.consumer = "rec",
                                          .commit_every_ms =
                                              app->cfg.rec.snapshot_interval_s * 1000u,
                                          .apply = apply_events,
                                          .checkpoint = checkpoint,
                                          .idle = idle,
                                          .seek = true,
                                          .start = from,
                                          .ctx = r};
        if (eventlog_pump_start(&r->pump, log, &p) != EVENTLOG_OK) {
            snprintf(err, errlen, "region %s: could not start the recommendation consumer",
                     region->name);
            goto fail;
        }
        /* Serve no feed from a half-replayed engine: wait for the log as it
         * was at start (the replay runs at millions of events a second). */
        while (eventlog_pump_position(r->pump) < end && eventlog_pump_running(r->pump))
            usleep(2000);
        if (!eventlog_pump_running(r->pump)) {
            snprintf(err, errlen, "region %s: the recommendation consumer stopped reading the log",
                     region->name);
            eventlog_pump_stop(r->pump);
            r->pump = NULL;
            goto fail;
        }
        log_info("event=rec_started region=%s replayed=%" PRIu64 " ms=%.0f", region->name,
                 end > from ? end - from : 0, (double)(clock_mono_ns() - t0) / 1e6);
    }
    r->started = true;
    return r;
fail:
    api_rec_stop(r);
    return NULL;
}

void api_rec_stop(struct recommender *r)
{
    if (!r)
        return;
    eventlog_pump_stop(r->pump); /* snapshots what it applied */
    if (r->started) {
        /* Videos, interests or an erasure may have changed it with no event
         * since: the pump's checkpoint only follows the log. */
        pthread_mutex_lock(&r->mu);
        snapshot_locked(r);
        pthread_mutex_unlock(&r->mu);
    }
    rec_engine_destroy(r->engine);
    pthread_mutex_destroy(&r->mu);
    catchup_destroy(r->applied);
    reel_free(r->batch);
    reel_free(r->offsets);
    reel_free(r);
}

/* ---- hooks ------------------------------------------------------------------- */

void api_rec_video_ready(struct app *app, uint64_t video_id)
{
    struct store *store = app_store_for_id(app, video_id);
    struct store_video *v = reel_malloc(sizeof *v);
    if (!store || !v || store_video_get(store, video_id, v, NULL) != STORE_OK ||
        v->status != STORE_VIDEO_READY) {
        reel_free(v);
        return;
    }
    struct store_video_entry entry = {.id = v->id,
                                      .creator_id = v->creator_id,
                                      .created_ms = v->created_ms,
                                      .duration_ms = v->duration_ms};
    snprintf(entry.hashtags, sizeof entry.hashtags, "%s", v->hashtags);
    reel_free(v);
    for (int i = 0; i < app->regions.count; i++)
        if (app->rec[i]) {
            int rc = add_entry(app->rec[i]->engine, &entry);
            if (rc < 0)
                log_warn("event=rec_video_add_failed video=%" PRIu64 " error=%s", video_id,
                         rec_strerror(rc));
            atomic_store(&app->rec[i]->changed, true);
        }
}

void api_rec_video_gone(struct app *app, uint64_t video_id)
{
    for (int i = 0; i < app->regions.count; i++)
        if (app->rec[i] && rec_video_remove(app->rec[i]->engine, video_id) == 0)
            atomic_store(&app->rec[i]->changed, true);
}

static struct recommender *rec_of(struct app *app, uint64_t user_id)
{
    const struct region *region = region_for_id(&app->regions, user_id);
    return region ? app->rec[region->index] : NULL;
}

int api_rec_set_interests(struct app *app, uint64_t user_id, const char *hashtags)
{
    struct recommender *r = rec_of(app, user_id);
    if (!r)
        return 0;
    atomic_store(&r->changed, true);
    return set_interests_text(r->engine, user_id, hashtags) < 0 ? -1 : 0;
}

int api_rec_feed(struct app *app, uint64_t user_id, size_t limit, bool may_wait, uint64_t *out,
                 size_t *n)
{
    *n = 0;
    struct recommender *r = rec_of(app, user_id);
    if (!r)
        return -1;
    if (r->pump) {
        if (!may_wait && !catchup_done(r->applied, user_id))
            return API_WOULD_WAIT;
        catchup_wait(r->applied, user_id, FEED_WAIT_MS);
    }
    struct rec_feed_item items[REC_FEED_MAX];
    struct rec_feed_request req = {.user_id = user_id,
                                   .now_ms = clock_now_ms(),
                                   .limit = limit > REC_FEED_MAX ? REC_FEED_MAX : limit,
                                   .policy = REC_POLICY_REEL,
                                   .no_wait = !may_wait};
    int got = rec_engine_feed(r->engine, &req, items);
    if (got == REC_EAGAIN)
        return API_WOULD_WAIT;
    if (got < 0)
        return -1;
    for (int i = 0; i < got; i++)
        out[(*n)++] = items[i].video_id;
    return 0;
}

int api_rec_describe(struct app *app, uint64_t user_id, struct rec_user_state *out)
{
    struct recommender *r = rec_of(app, user_id);
    if (!r) {
        memset(out, 0, sizeof *out);
        return REC_ENOENT;
    }
    return rec_user_describe(r->engine, user_id, out);
}

/* Other users' sessions spilled to the region's store may name the erased
 * user as a creator: scrubbed copies are collected, then written. */
struct spilled_scrub {
    struct rec_engine *engine;
    uint64_t creator_id;
    struct scrubbed {
        uint64_t user_id;
        void *blob;
        size_t len;
    } * items;
    size_t n, cap;
    int failed;
};

static int scrub_spilled(void *ctx, uint64_t user_id, const void *blob, size_t len)
{
    struct spilled_scrub *x = ctx;
    void *out;
    size_t out_len;
    int rc = rec_spilled_forget_creator(x->engine, blob, len, x->creator_id, &out, &out_len);
    if (rc < 0 && rc != REC_EFORMAT)
        x->failed = 1;
    if (rc != 1)
        return STORE_OK;
    if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 16;
        void *p = x->items;
        if (reel_array_grow(&p, cap, sizeof *x->items) < 0) {
            reel_free(out);
            x->failed = 1;
            return STORE_OK;
        }
        x->items = p;
        x->cap = cap;
    }
    x->items[x->n++] = (struct scrubbed){user_id, out, out_len};
    return STORE_OK;
}

static int forget_in_spilled(struct app *app, struct recommender *r, uint64_t creator_id)
{
    struct store *store = app_store_for_region(app, r->region);
    if (!store)
        return 0;
    struct spilled_scrub x = {.engine = r->engine, .creator_id = creator_id};
    int rc = store_rec_state_each(store, scrub_spilled, &x) == STORE_OK && !x.failed ? 0 : -1;
    int64_t now = clock_now_ms();
    for (size_t i = 0; i < x.n; i++) {
        if (store_rec_state_save(store, x.items[i].user_id, x.items[i].blob, x.items[i].len, now) !=
            STORE_OK)
            rc = -1;
        reel_free(x.items[i].blob);
    }
    reel_free(x.items);
    return rc;
}

int api_rec_forget(struct app *app, uint64_t user_id, const uint64_t *videos, size_t video_count)
{
    const struct region *home = region_for_id(&app->regions, user_id);
    if (!home)
        return 0;
    int rc = 0;
    for (size_t i = 0; i < video_count; i++)
        api_rec_video_gone(app, videos[i]);
    for (int i = 0; i < app->regions.count; i++) {
        struct recommender *r = app->rec[i];
        if (!r)
            continue;
        /* Records read before the logs were scrubbed may still be on their
         * way to the engine: wait until it has passed the scrubbed log's
         * end, so nothing re-creates what is forgotten. */
        uint64_t end = r->log ? eventlog_end_offset(r->log) : 0;
        for (int k = 0; k < 500 && r->pump && catchup_position(r->applied) < end; k++)
            usleep(10000);
        pthread_mutex_lock(&r->mu);
        rec_creator_forget(r->engine, user_id);
        if (forget_in_spilled(app, r, user_id) < 0)
            rc = -1;
        if (i == home->index)
            rec_user_forget(r->engine, user_id);
        /* A new snapshot replaces the one that may hold the user — even if
         * memory held nothing (the user may have expired from memory after
         * the snapshot was taken). A failure is retried by the tick. */
        atomic_store(&r->changed, true);
        if (snapshot_locked(r) < 0) {
            r->snapshot_retry = true;
            rc = -1;
        }
        pthread_mutex_unlock(&r->mu);
    }
    return rc;
}
