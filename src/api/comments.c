/*
 * comments.c — comments on videos (API.md "Social").
 *
 * A comment is public content written by a user: it is stored in its
 * AUTHOR's home store (the comment id carries that region), and the video's
 * comment counter moves in the video's store (api/counters.c). Listing a
 * video's comments therefore gathers every region's store (api_gather,
 * oldest first), so a thread mixing EU and US authors reads the same from
 * anywhere. A comment may be deleted by its author or by the video's
 * creator.
 */
#include "api/api.h"

#include "core/id.h"
#include "events/event.h"

#include <stdio.h>

static void post_comment(struct http_request *req)
{
    uint64_t video_id;
    if (!api_require_user(req) || !api_param_id(req, "id", &video_id))
        return;
    struct app *app = api_app(req);
    json_t *body = http_request_json(req);
    if (!body)
        return;
    static const char *const allowed[] = {"text", NULL};
    struct validation v = {0};
    api_reject_unknown_fields(body, allowed, &v);
    const char *text = api_field_string(body, "text", true, &v);
    if (text)
        api_check_text(&v, "text", text, 1, CONFIG_LIVE_GET(app->cfg.comment_max), true);
    if (api_validation_failed(req, &v))
        return;
    struct store_video *video = pool_alloc(req->pool, sizeof *video);
    struct store_comment *comment = pool_calloc(req->pool, 1, sizeof *comment);
    struct store_user *author = pool_alloc(req->pool, sizeof *author);
    if (!video || !comment || !author) {
        http_problem_status(req, 503, "out of memory");
        return;
    }
    if (!api_load_video(req, video_id, video, NULL))
        return;
    const struct region *region = region_for_id(&app->regions, req->user_id);
    struct store *store = api_store_for_id(req, req->user_id, "user");
    if (!store)
        return;
    int rc = store_user_get_public(store, req->user_id, author);
    if (rc != STORE_OK) {
        api_store_problem(req, rc, "user");
        return;
    }
    comment->id = id_next(region->id);
    comment->video_id = video_id;
    comment->author_id = req->user_id;
    snprintf(comment->text, sizeof comment->text, "%s", text);
    comment->created_ms = (int64_t)id_unix_ms(comment->id);
    struct store_delta delta;
    rc = store_comment_create(store, comment, api_counter_route(app, store, video_id), &delta);
    if (rc != STORE_OK) {
        api_store_problem(req, rc, "video");
        return;
    }
    api_counter_propagate(app, store, &delta);
    api_event_record(app, EVENT_COMMENT, req->user_id, video_id, video->creator_id,
                     (uint32_t)video->duration_ms);
    struct api_reply r;
    api_reply_begin(&r, 64 * 1024);
    api_write_comment(&r.w, app, comment, author);
    api_reply_end(req, 201, &r);
}

static int comments_part(struct store *store, const struct region *region, uint64_t bound,
                         size_t limit, struct api_item *out, size_t *n, void *arg)
{
    (void)region;
    uint64_t ids[API_LIST_MAX + 1];
    if (limit > API_LIST_MAX + 1)
        limit = API_LIST_MAX + 1;
    int rc = store_comment_list(store, *(const uint64_t *)arg, bound, limit, ids, n);
    for (size_t i = 0; rc == STORE_OK && i < *n; i++)
        out[i] = (struct api_item){ids[i], ids[i]};
    return rc;
}

static void list_comments(struct http_request *req)
{
    uint64_t video_id;
    struct api_page page;
    struct store_video *video = pool_alloc(req->pool, sizeof *video);
    if (!video) {
        http_problem_status(req, 503, "out of memory");
        return;
    }
    if (!api_param_id(req, "id", &video_id) || !api_page_params(req, CURSOR_COMMENTS, &page) ||
        !api_load_video(req, video_id, video, NULL))
        return;
    struct app *app = api_app(req);
    struct api_item items[API_LIST_MAX];
    size_t n;
    bool more;
    int rc = api_gather(app, &page, false, comments_part, &video_id, items, &n, &more);
    if (rc != STORE_OK) {
        api_store_problem(req, rc, "comments");
        return;
    }
    struct store_comment *comment = pool_alloc(req->pool, sizeof *comment);
    struct store_user *author = pool_alloc(req->pool, sizeof *author);
    if (!comment || !author) {
        http_problem_status(req, 503, "out of memory");
        return;
    }
    struct api_reply r;
    api_page_begin(&r);
    for (size_t i = 0; i < n; i++) {
        struct store *store = app_store_for_id(app, items[i].ref);
        rc = store ? store_comment_get(store, items[i].ref, comment, author) : STORE_NOTFOUND;
        if (rc == STORE_NOTFOUND || (rc == STORE_OK && author->status != STORE_USER_ACTIVE))
            continue; /* deleted meanwhile, or its author left */
        if (rc != STORE_OK) {
            api_reply_abort(req, &r, rc, "comments");
            return;
        }
        api_write_comment(&r.w, app, comment, author);
    }
    api_page_end(req, &r, CURSOR_COMMENTS, more ? items[n - 1].key : 0);
}

static void delete_comment(struct http_request *req)
{
    uint64_t id;
    if (!api_require_user(req) || !api_param_id(req, "id", &id))
        return;
    struct app *app = api_app(req);
    struct store *store = api_store_for_id(req, id, "comment");
    if (!store)
        return;
    struct store_comment *comment = pool_alloc(req->pool, sizeof *comment);
    struct store_video *video = pool_alloc(req->pool, sizeof *video);
    if (!comment || !video) {
        http_problem_status(req, 503, "out of memory");
        return;
    }
    int rc = store_comment_get(store, id, comment, NULL);
    if (rc != STORE_OK) {
        api_store_problem(req, rc, "comment");
        return;
    }
    if (comment->author_id != req->user_id) {
        struct store *vstore = app_store_for_id(app, comment->video_id);
        rc = vstore ? store_video_get(vstore, comment->video_id, video, NULL) : STORE_NOTFOUND;
        if (rc == STORE_ERROR) {
            api_store_problem(req, rc, "video");
            return;
        }
        if (rc != STORE_OK || video->creator_id != req->user_id) {
            http_problem(req, 403, "forbidden", "Forbidden",
                         "only the comment's author or the video's creator can delete it", NULL);
            return;
        }
    }
    struct store_delta delta;
    rc = store_comment_delete(store, id, api_counter_route(app, store, comment->video_id), &delta);
    if (rc != STORE_OK) {
        api_store_problem(req, rc, "comment");
        return;
    }
    api_counter_propagate(app, store, &delta);
    http_respond_empty(req, 204);
}

int api_comments_register(struct http_router *router)
{
    static const struct http_route routes[] = {
        {.method = HTTP_POST, .pattern = "/api/v1/videos/{id}/comments", .handler = post_comment},
        {.method = HTTP_GET, .pattern = "/api/v1/videos/{id}/comments", .handler = list_comments},
        {.method = HTTP_DELETE, .pattern = "/api/v1/comments/{id}", .handler = delete_comment},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (http_router_add(router, &routes[i]) < 0)
            return -1;
    return 0;
}
