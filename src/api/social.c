/*
 * social.c — follows, likes and shares (API.md "Social").
 *
 * Where things are written (store/README.md has the full table):
 * - the record (follow, like, share) goes to the ACTOR's home store only —
 *   it is the actor's personal data;
 * - the target's public counter (followers, likes, shares) moves in the
 *   TARGET's store: in the same transaction when both are one store, else
 *   through the actor store's outbox (api/counters.c);
 * - an engagement event goes to the actor's home region log (events/), for
 *   the recommendation engine and analytics of that region only.
 * PUT and DELETE are idempotent: repeating them changes nothing, counts
 * nothing twice and logs no second event.
 */
#include "api/api.h"

#include "core/clock.h"
#include "core/id.h"
#include "events/event.h"

/* The actor's home store and region (421 if this node does not serve it). */
static struct store *actor_store(struct http_request *req, const struct region **region)
{
    *region = region_for_id(&api_app(req)->regions, req->user_id);
    return api_store_for_id(req, req->user_id, "user");
}

static void follow(struct http_request *req, bool on)
{
    uint64_t target;
    if (!api_require_user(req) || !api_param_id(req, "id", &target))
        return;
    if (target == req->user_id) {
        json_t *errors = NULL;
        http_errors_add(&errors, "id", "you cannot follow yourself");
        http_problem(req, 422, "validation-error", "Invalid field value",
                     "a user cannot follow themselves", errors);
        return;
    }
    struct store_user *user = pool_alloc(req->pool, sizeof *user);
    const struct region *region;
    struct store *store = actor_store(req, &region);
    if (!store)
        return;
    if (!user) {
        http_problem_status(req, 503, "out of memory");
        return;
    }
    if (!api_load_user(req, target, user))
        return;
    struct app *app = api_app(req);
    struct store_counter_route route = api_counter_route(app, store, target);
    struct store_delta delta;
    bool changed;
    int rc = on ? store_follow_put(store, id_next(region->id), req->user_id, target, clock_now_ms(),
                                   route, &changed, &delta)
                : store_follow_delete(store, req->user_id, target, route, &changed, &delta);
    if (rc != STORE_OK) {
        api_store_problem(req, rc, "user");
        return;
    }
    api_counter_propagate(app, store, &delta);
    if (changed)
        api_event_record(app, on ? EVENT_FOLLOW : EVENT_UNFOLLOW, req->user_id, 0, target, 0);
    http_respond_empty(req, 204);
}

static void put_follow(struct http_request *req)
{
    follow(req, true);
}

static void delete_follow(struct http_request *req)
{
    follow(req, false);
}

/* Answers a page of `User` for the users the items name. */
static void respond_users(struct http_request *req, const struct api_item *items, size_t n,
                          uint64_t next_key)
{
    struct api_reply r;
    api_page_begin(&r);
    int rc = api_write_users(&r.w, api_app(req), items, n);
    if (rc != STORE_OK)
        api_reply_abort(req, &r, rc, "users");
    else
        api_page_end(req, &r, CURSOR_FOLLOWS, next_key);
}

static int followers_part(struct store *store, const struct region *region, uint64_t bound,
                          size_t limit, struct api_item *out, size_t *n, void *arg)
{
    (void)region;
    uint64_t followee = *(const uint64_t *)arg;
    struct store_follow follows[API_LIST_MAX + 1];
    if (limit > API_LIST_MAX + 1)
        limit = API_LIST_MAX + 1;
    int rc = store_followers_list(store, followee, bound, limit, follows, n);
    for (size_t i = 0; rc == STORE_OK && i < *n; i++)
        out[i] = (struct api_item){follows[i].id, follows[i].follower_id};
    return rc;
}

static void list_followers(struct http_request *req)
{
    uint64_t target;
    struct api_page page;
    struct store_user user;
    if (!api_param_id(req, "id", &target) || !api_page_params(req, CURSOR_FOLLOWS, &page) ||
        !api_load_user(req, target, &user))
        return;
    struct app *app = api_app(req);
    struct api_item items[API_LIST_MAX];
    size_t n;
    bool more;
    int rc = api_gather(app, &page, true, followers_part, &target, items, &n, &more);
    if (rc != STORE_OK) {
        api_store_problem(req, rc, "followers");
        return;
    }
    respond_users(req, items, n, more ? items[n - 1].key : 0);
}

static void list_following(struct http_request *req)
{
    uint64_t target;
    struct api_page page;
    struct store_user user;
    if (!api_param_id(req, "id", &target) || !api_page_params(req, CURSOR_FOLLOWS, &page) ||
        !api_load_user(req, target, &user))
        return;
    struct app *app = api_app(req);
    const struct region *region = region_for_id(&app->regions, target);
    struct store *store = api_store_for_id(req, target, "user");
    if (!store)
        return;
    struct store_follow follows[API_LIST_MAX + 1];
    size_t n;
    int rc = store_following_list(store, target, cursor_before_bound(page.cursor, region->id),
                                  page.limit + 1, follows, &n);
    if (rc != STORE_OK) {
        api_store_problem(req, rc, "following");
        return;
    }
    bool more = n > page.limit;
    if (more)
        n = page.limit;
    struct api_item items[API_LIST_MAX];
    for (size_t i = 0; i < n; i++)
        items[i] = (struct api_item){follows[i].id, follows[i].followee_id};
    respond_users(req, items, n, more ? items[n - 1].key : 0);
}

static void like(struct http_request *req, bool on)
{
    uint64_t video_id;
    if (!api_require_user(req) || !api_param_id(req, "id", &video_id))
        return;
    const struct region *region;
    struct store *store = actor_store(req, &region);
    struct store_video *video = pool_alloc(req->pool, sizeof *video);
    if (!store)
        return;
    if (!video) {
        http_problem_status(req, 503, "out of memory");
        return;
    }
    if (!api_load_video(req, video_id, video, NULL))
        return;
    struct app *app = api_app(req);
    struct store_counter_route route = api_counter_route(app, store, video_id);
    struct store_delta delta;
    bool changed;
    int rc =
        on ? store_like_put(store, req->user_id, video_id, clock_now_ms(), route, &changed, &delta)
           : store_like_delete(store, req->user_id, video_id, route, &changed, &delta);
    if (rc != STORE_OK) {
        api_store_problem(req, rc, "video");
        return;
    }
    api_counter_propagate(app, store, &delta);
    if (changed)
        api_event_record(app, on ? EVENT_LIKE : EVENT_UNLIKE, req->user_id, video_id,
                         video->creator_id, (uint32_t)video->duration_ms);
    http_respond_empty(req, 204);
}

static void put_like(struct http_request *req)
{
    like(req, true);
}

static void delete_like(struct http_request *req)
{
    like(req, false);
}

static void post_share(struct http_request *req)
{
    uint64_t video_id;
    if (!api_require_user(req) || !api_param_id(req, "id", &video_id))
        return;
    const struct region *region;
    struct store *store = actor_store(req, &region);
    struct store_video *video = pool_alloc(req->pool, sizeof *video);
    if (!store)
        return;
    if (!video) {
        http_problem_status(req, 503, "out of memory");
        return;
    }
    if (!api_load_video(req, video_id, video, NULL))
        return;
    struct app *app = api_app(req);
    uint64_t share_id = id_next(region->id);
    int64_t now = (int64_t)id_unix_ms(share_id);
    struct store_delta delta;
    int rc = store_share_create(store, share_id, req->user_id, video_id, now,
                                api_counter_route(app, store, video_id), &delta);
    if (rc != STORE_OK) {
        api_store_problem(req, rc, "video");
        return;
    }
    api_counter_propagate(app, store, &delta);
    api_event_record(app, EVENT_SHARE, req->user_id, video_id, video->creator_id,
                     (uint32_t)video->duration_ms);
    struct api_reply r;
    api_reply_begin(&r, 1024);
    jsonw_object_begin(&r.w);
    jsonw_kv_id(&r.w, "id", share_id);
    jsonw_kv_id(&r.w, "video_id", video_id);
    jsonw_kv_time(&r.w, "created_at", now);
    jsonw_object_end(&r.w);
    api_reply_end(req, 201, &r);
}

int api_social_register(struct http_router *router)
{
    static const struct http_route routes[] = {
        {.method = HTTP_PUT, .pattern = "/api/v1/users/{id}/follow", .handler = put_follow},
        {.method = HTTP_DELETE, .pattern = "/api/v1/users/{id}/follow", .handler = delete_follow},
        {.method = HTTP_GET, .pattern = "/api/v1/users/{id}/followers", .handler = list_followers},
        {.method = HTTP_GET, .pattern = "/api/v1/users/{id}/following", .handler = list_following},
        {.method = HTTP_PUT, .pattern = "/api/v1/videos/{id}/like", .handler = put_like},
        {.method = HTTP_DELETE, .pattern = "/api/v1/videos/{id}/like", .handler = delete_like},
        {.method = HTTP_POST, .pattern = "/api/v1/videos/{id}/shares", .handler = post_share},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (http_router_add(router, &routes[i]) < 0)
            return -1;
    return 0;
}
