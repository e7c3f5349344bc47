/*
 * feed.c — the feeds (API.md "Feeds"), version 0.
 *
 * Following: the newest ready videos of the creators the caller follows.
 * The follow records are the caller's (home store); the videos are in their
 * creators' stores, so the page is gathered per region and merged
 * (api_gather), with an id cursor like every other list.
 *
 * For You: the recommendation engine of the caller's home region
 * (recommend.c, rec/). Popular (GET /api/v1/feed/popular, and For You for
 * anonymous visitors): the v0 baseline kept for comparison — the most
 * engaged ready videos of the recent window from every region, minus the
 * caller's own and whatever the caller was already shown (the seen filter:
 * impressions and other events the client reported, and what this feed
 * served before).
 */
#include "api/api.h"

#include "core/alloc.h"
#include "core/clock.h"
#include "core/id.h"
#include "core/log.h"
#include "core/parse.h"
#include "core/ticker.h"
#include "events/eventlog.h"
#include "feed/seen.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define POPULAR_CANDIDATES_MAX 2000
#define SEEN_REBUILD_RECORDS (4u << 20) /* per region: the tail of the log */

struct followees {
    uint64_t *ids[CONFIG_MAX_REGIONS]; /* per region index */
    size_t count[CONFIG_MAX_REGIONS];
};

static int following_part(struct store *store, const struct region *region, uint64_t bound,
                          size_t limit, struct api_item *out, size_t *n, void *arg)
{
    const struct followees *f = arg;
    uint64_t ids[API_LIST_MAX + 1];
    *n = 0;
    if (limit > API_LIST_MAX + 1)
        limit = API_LIST_MAX + 1;
    int rc = store_video_list_by_creators(store, f->ids[region->index], f->count[region->index],
                                          bound, limit, ids, n);
    for (size_t i = 0; rc == STORE_OK && i < *n; i++)
        out[i] = (struct api_item){ids[i], ids[i]};
    return rc;
}

/* The caller's followees (most recent follows first, up to the configured
 * maximum), grouped by region. */
static int load_followees(struct app *app, uint64_t user_id, struct pool *pool, struct followees *f)
{
    memset(f, 0, sizeof *f);
    size_t max = CONFIG_LIVE_GET(app->cfg.following_feed_max); /* reloadable */
    for (int i = 0; i < app->regions.count; i++)
        if (!(f->ids[i] = pool_alloc(pool, max * sizeof *f->ids[i])))
            return STORE_ERROR;
    struct store *store = app_store_for_id(app, user_id);
    if (!store)
        return STORE_ERROR;
    struct store_follow chunk[256];
    uint64_t before = 0;
    size_t total = 0;
    while (total < max) {
        size_t n = 0;
        size_t want = max - total < 256 ? max - total : 256;
        int rc = store_following_list(store, user_id, before, want, chunk, &n);
        if (rc != STORE_OK)
            return rc;
        for (size_t k = 0; k < n; k++) {
            const struct region *r = region_for_id(&app->regions, chunk[k].followee_id);
            if (r)
                f->ids[r->index][f->count[r->index]++] = chunk[k].followee_id;
        }
        total += n;
        if (n < want)
            break;
        before = chunk[n - 1].id;
    }
    return STORE_OK;
}

static void get_following_feed(struct http_request *req)
{
    struct api_page page;
    if (!api_require_user(req) || !api_page_params(req, CURSOR_VIDEOS, &page))
        return;
    struct app *app = api_app(req);
    struct followees *f = pool_alloc(req->pool, sizeof *f);
    int rc = f ? load_followees(app, req->user_id, req->pool, f) : STORE_ERROR;
    struct api_item items[API_LIST_MAX];
    size_t n = 0;
    bool more = false;
    if (rc == STORE_OK)
        rc = api_gather(app, &page, true, following_part, f, items, &n, &more);
    if (rc != STORE_OK) {
        api_store_problem(req, rc, "feed");
        return;
    }
    uint64_t ids[API_LIST_MAX];
    for (size_t i = 0; i < n; i++)
        ids[i] = items[i].ref;
    struct api_reply r;
    api_page_begin(&r);
    rc = api_write_videos(&r.w, app, ids, n, req->user_id, NULL);
    if (rc != STORE_OK)
        api_reply_abort(req, &r, rc, "feed");
    else
        api_page_end(req, &r, CURSOR_VIDEOS, more ? items[n - 1].key : 0);
}

static int by_engagement(const void *a, const void *b)
{
    const struct store_video_score *x = a, *y = b;
    if (x->engagement != y->engagement)
        return x->engagement < y->engagement ? 1 : -1;
    return cursor_order(y->id, x->id); /* newer first on ties */
}

/* The popular baseline's candidates, shared by every request: the
 * POPULAR_CANDIDATES_MAX most engaged ready videos of the window from each
 * region, best first. Fetching them is a query per region store that sorts
 * the window: milliseconds for thousands of videos, 0.5-1.4 s for a million.
 * Run per request, it held the popular feed, and For You for every anonymous
 * visitor, to about two hundred pages a second.
 *
 * The first request fetches the list (the others wait for it). After that,
 * requests only read it, and a thread refreshes it: every
 * POPULAR_REFRESH_MS, or, when the last fetch took longer than
 * 1/POPULAR_COST_SHARE of that, POPULAR_COST_SHARE times as long as it took
 * (at most POPULAR_IDLE_MS), so that the query never takes more than about
 * 1/POPULAR_COST_SHARE of a core. (At a million videos, refreshed by the
 * first request past each second, that request waited for the query, the
 * queries took about half a core, and p99 of the popular feed reached
 * 150 ms.) A list nobody reads is refreshed every POPULAR_IDLE_MS. A list is
 * counted by its readers, who filter it outside the lock. */
#define POPULAR_REFRESH_MS 1000
#define POPULAR_COST_SHARE 20
#define POPULAR_TICK_MS 100 /* how often the refresher looks */
#define POPULAR_IDLE_MS 60000

struct popular_list {
    atomic_int refs;
    size_t n;
    struct store_video_score cand[]; /* best first */
};

struct feed_popular {
    struct app *app;
    pthread_mutex_t mu;
    pthread_cond_t done; /* a refresh ended */
    struct popular_list *list; /* NULL until the first fetch */
    int64_t fetched_ms;
    int64_t refresh_ms;   /* the interval: POPULAR_REFRESH_MS or more */
    bool refreshing;
    bool read;            /* served since the last fetch: worth refreshing */
    struct ticker *ticker; /* started with the first list */
};

static void popular_release(struct popular_list *l)
{
    if (l && atomic_fetch_sub(&l->refs, 1) == 1)
        reel_free(l);
}

struct feed_popular *api_feed_popular_create(struct app *app)
{
    struct feed_popular *p = reel_calloc(1, sizeof *p);
    if (p) {
        p->app = app;
        p->refresh_ms = POPULAR_REFRESH_MS;
        pthread_mutex_init(&p->mu, NULL);
        pthread_cond_init(&p->done, NULL);
    }
    return p;
}

void api_feed_popular_destroy(struct feed_popular *p)
{
    if (!p)
        return;
    ticker_stop(p->ticker); /* it reads the stores: before they close */
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->done);
    popular_release(p->list);
    reel_free(p);
}

static int popular_fetch(struct app *app, struct popular_list **out)
{
    size_t regions = (size_t)app->regions.count;
    struct popular_list *l =
        reel_calloc(1, sizeof *l + regions * POPULAR_CANDIDATES_MAX * sizeof l->cand[0]);
    if (!l)
        return STORE_ERROR;
    int64_t since = clock_now_ms() - (int64_t)app->cfg.feed_popular_window_s * 1000;
    int rc = STORE_OK;
    for (size_t i = 0; i < regions && rc == STORE_OK; i++) {
        const struct region *r = &app->regions.regions[i];
        size_t got = 0;
        if (!app->stores[i])
            continue;
        rc = store_video_popular(app->stores[i], id_make(r->id, (uint64_t)since, 0, 0),
                                 POPULAR_CANDIDATES_MAX, l->cand + l->n, &got);
        l->n += got;
    }
    if (rc != STORE_OK) {
        reel_free(l);
        return rc;
    }
    qsort(l->cand, l->n, sizeof l->cand[0], by_engagement);
    atomic_init(&l->refs, 1);
    *out = l;
    return STORE_OK;
}

/* Fetches a new list (p->refreshing is set: one fetch at a time) and
 * installs it; a failed fetch keeps the old list. Returns the store status. */
static int popular_refresh(struct feed_popular *p)
{
    int64_t start = clock_mono_ms();
    struct popular_list *fresh = NULL;
    int rc = popular_fetch(p->app, &fresh);
    int64_t end = clock_mono_ms();
    pthread_mutex_lock(&p->mu);
    struct popular_list *old = NULL;
    if (rc == STORE_OK) {
        old = p->list;
        p->list = fresh;
        p->fetched_ms = end;
        p->read = false;
        int64_t paced = (end - start) * POPULAR_COST_SHARE;
        p->refresh_ms = paced < POPULAR_REFRESH_MS ? POPULAR_REFRESH_MS
                        : paced > POPULAR_IDLE_MS  ? POPULAR_IDLE_MS
                                                   : paced;
    }
    int64_t every = p->refresh_ms;
    p->refreshing = false;
    pthread_cond_broadcast(&p->done);
    pthread_mutex_unlock(&p->mu);
    popular_release(old);
    if (rc == STORE_OK && every > POPULAR_REFRESH_MS)
        log_info("event=popular_refreshed ms=%lld next_in_ms=%lld", (long long)(end - start),
                 (long long)every);
    return rc;
}

/* The refresher's look: a list that is due is fetched again. */
static void popular_tick(void *arg)
{
    struct feed_popular *p = arg;
    pthread_mutex_lock(&p->mu);
    int64_t age = clock_mono_ms() - p->fetched_ms;
    int64_t every = p->read ? p->refresh_ms : POPULAR_IDLE_MS;
    bool due = p->list && !p->refreshing && age >= every;
    if (due)
        p->refreshing = true;
    pthread_mutex_unlock(&p->mu);
    if (due && popular_refresh(p) != STORE_OK)
        log_warn("event=popular_refresh_failed (the older list is served)");
}

/* A reference to the list (release with popular_release). Before the first
 * list: without may_wait, NULL and API_WOULD_WAIT; with it, this request
 * fetches it, or waits for the one fetching it (NULL and the store's error
 * if that fails). */
static struct popular_list *popular_acquire(struct feed_popular *p, bool may_wait, int *rc)
{
    *rc = STORE_OK;
    pthread_mutex_lock(&p->mu);
    while (!p->list) {
        if (!may_wait) {
            pthread_mutex_unlock(&p->mu);
            *rc = API_WOULD_WAIT;
            return NULL;
        }
        if (!p->refreshing) {
            p->refreshing = true;
            pthread_mutex_unlock(&p->mu);
            *rc = popular_refresh(p);
            pthread_mutex_lock(&p->mu);
            if (*rc != STORE_OK) {
                pthread_mutex_unlock(&p->mu);
                return NULL;
            }
            /* The refresher, once there is a list to keep fresh. A node
             * without it serves the first list until restarted. */
            if (!p->ticker && !(p->ticker = ticker_start(popular_tick, p, POPULAR_TICK_MS, false)))
                log_error("event=popular_refresher_failed (the popular ranking is not refreshed)");
            break;
        }
        pthread_cond_wait(&p->done, &p->mu); /* the first list is on its way */
    }
    struct popular_list *l = p->list;
    atomic_fetch_add(&l->refs, 1);
    p->read = true;
    pthread_mutex_unlock(&p->mu);
    return l;
}

int api_feed_popular(struct app *app, uint64_t viewer_id, size_t limit, bool may_wait,
                     uint64_t *out, size_t *n)
{
    *n = 0;
    int rc;
    struct popular_list *l = popular_acquire(app->popular, may_wait, &rc);
    if (!l)
        return rc;
    struct feed_seen_set seen = {0};
    if (viewer_id && feed_seen_set_get(app->seen, viewer_id, &seen) < 0) {
        popular_release(l);
        return STORE_ERROR;
    }
    for (size_t i = 0; i < l->n && *n < limit; i++) {
        const struct store_video_score *c = &l->cand[i];
        if (c->creator_id == viewer_id || feed_seen_set_has(&seen, c->id))
            continue;
        out[(*n)++] = c->id;
    }
    popular_release(l);
    feed_seen_set_free(&seen);
    return STORE_OK;
}

/* ?limit= of the feeds that have no cursor: false after answering 400. */
static bool feed_limit(struct http_request *req, size_t *limit)
{
    *limit = API_LIST_DEFAULT;
    const char *q = http_request_query(req, "limit");
    unsigned long long v;
    if (!q)
        return true;
    if (parse_ull(q, &v) < 0 || v < 1 || v > API_LIST_MAX) {
        json_t *errors = NULL;
        http_errors_add(&errors, "limit", "must be a whole number from 1 to 100");
        http_problem(req, 400, "validation-error", "Invalid request",
                     "a query parameter is malformed; see errors", errors);
        return false;
    }
    *limit = (size_t)v;
    return true;
}

static void reply_feed(struct http_request *req, const uint64_t *ids, size_t n, const char *ranking)
{
    struct app *app = api_app(req);
    struct api_reply r;
    api_reply_begin(&r, API_PAGE_MAX_BYTES);
    jsonw_object_begin(&r.w);
    jsonw_kv_string(&r.w, "ranking", ranking);
    jsonw_key(&r.w, "items");
    jsonw_array_begin(&r.w);
    int rc = api_write_videos(&r.w, app, ids, n, req->user_id, NULL);
    if (rc != STORE_OK) {
        api_reply_abort(req, &r, rc, "feed");
        return;
    }
    jsonw_array_end(&r.w);
    jsonw_object_end(&r.w);
    api_reply_end(req, 200, &r);
}

/* The popular baseline; what it serves counts as shown for it, so its next
 * page moves on even if the client reports no impressions. */
static void serve_popular(struct http_request *req, size_t limit)
{
    struct app *app = api_app(req);
    uint64_t ids[API_LIST_MAX];
    size_t n = 0;
    int rc = api_feed_popular(app, req->user_id, limit, !http_request_inline(req), ids, &n);
    if (rc == API_WOULD_WAIT) {
        http_request_offload(req);
        return;
    }
    if (rc != STORE_OK) {
        api_store_problem(req, rc, "feed");
        return;
    }
    for (size_t i = 0; req->user_id && i < n; i++)
        feed_seen_add(app->seen, req->user_id, ids[i]);
    reply_feed(req, ids, n, "popular");
}

/* For You: the signed-in user's home region engine (recommend.c), which
 * marks what it serves as seen. Anonymous visitors, and a node without an
 * engine for the user's region, get the popular baseline. */
static void get_foryou_feed(struct http_request *req)
{
    size_t limit;
    if (!feed_limit(req, &limit))
        return;
    uint64_t ids[API_LIST_MAX];
    size_t n = 0;
    int rc = req->user_id ? api_rec_feed(api_app(req), req->user_id, limit,
                                         !http_request_inline(req), ids, &n)
                          : -1;
    if (rc == API_WOULD_WAIT) {
        http_request_offload(req);
        return;
    }
    if (rc == 0) {
        reply_feed(req, ids, n, "personalised");
        return;
    }
    serve_popular(req, limit);
}

static void get_popular_feed(struct http_request *req)
{
    size_t limit;
    if (feed_limit(req, &limit))
        serve_popular(req, limit);
}

void api_feed_seen_rebuild(struct app *app)
{
    enum { CHUNK = 4096 };
    struct eventlog_record *recs = reel_malloc(CHUNK * sizeof *recs);
    if (!recs)
        return;
    size_t added = 0;
    for (int i = 0; i < app->regions.count; i++) {
        struct eventlog *log = app->logs[i];
        if (!log)
            continue;
        uint64_t end = eventlog_end_offset(log);
        uint64_t offset = end > SEEN_REBUILD_RECORDS ? end - SEEN_REBUILD_RECORDS : 0;
        for (;;) {
            size_t n = 0;
            if (eventlog_read(log, offset, recs, CHUNK, &n, &offset) != EVENTLOG_OK || n == 0)
                break;
            for (size_t k = 0; k < n; k++) {
                const struct event *e = &recs[k].event;
                if (e->type >= EVENT_IMPRESSION && e->type <= EVENT_NOT_INTERESTED && e->video_id &&
                    feed_seen_add(app->seen, e->user_id, e->video_id) == 0)
                    added++;
            }
        }
    }
    reel_free(recs);
    if (added)
        log_info("event=seen_filter_rebuilt events=%zu users=%zu", added,
                 feed_seen_users(app->seen));
}

int api_feed_register(struct http_router *router)
{
    static const struct http_route routes[] = {
        {.method = HTTP_GET, .pattern = "/api/v1/feed/following", .handler = get_following_feed},
        /* Both may have to wait (the engine catching up with the log, its
         * lock during a snapshot, a spilled session, the popular ranking's
         * refresh), which never happens on an event thread: they start
         * there, and a request that finds it would wait moves to the worker
         * pool. Most pages are built in memory in tens of microseconds,
         * less than the hand-over to a worker costs. */
        {.method = HTTP_GET,
         .pattern = "/api/v1/feed/foryou",
         .handler = get_foryou_feed,
         .flags = HTTP_ROUTE_TRY_INLINE},
        {.method = HTTP_GET,
         .pattern = "/api/v1/feed/popular",
         .handler = get_popular_feed,
         .flags = HTTP_ROUTE_TRY_INLINE},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (http_router_add(router, &routes[i]) < 0)
            return -1;
    return 0;
}
