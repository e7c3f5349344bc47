/*
 * videos.c — video records (API.md "Videos"): read one, delete one's own
 * (with its media on every site of its region), list a user's. Upload
 * (POST /api/v1/videos) is uploads.c: the media pipeline creates the record
 * with store_video_create and finishes it with store_video_set_status.
 *
 * Visibility: a ready video of an active creator is public; a video still
 * processing (or failed) is visible to its creator only — anyone else gets
 * 404, as for a video that does not exist.
 */
#include "api/api.h"

#include "core/alloc.h"
#include "core/id.h"
#include "core/log.h"
#include "social/hashtag.h"

#include <stdio.h>
#include <string.h>

bool api_video_caption(struct app *app, struct validation *v, const char *field,
                       const char *caption, struct store_video *video)
{
    if (!api_check_text(v, field, caption, 0, CONFIG_LIVE_GET(app->cfg.caption_max), true))
        return false;
    struct hashtag_list *tags = reel_malloc(sizeof *tags);
    if (!tags) {
        api_invalid(v, field, "could not be processed (out of memory)");
        return false;
    }
    snprintf(video->caption, sizeof video->caption, "%s", caption);
    hashtag_parse(caption, strlen(caption), CONFIG_LIVE_GET(app->cfg.hashtags_max), tags);
    hashtag_list_join(tags, video->hashtags, sizeof video->hashtags);
    reel_free(tags);
    return true;
}

static void get_video(struct http_request *req)
{
    uint64_t id;
    if (!api_param_id(req, "id", &id))
        return;
    struct app *app = api_app(req);
    if (!api_store_for_id(req, id, "video"))
        return;
    struct api_reply r;
    size_t written = 0;
    api_reply_begin(&r, API_PAGE_MAX_BYTES);
    int rc = api_write_videos(&r.w, app, &id, 1, req->user_id, &written);
    if (rc != STORE_OK || written == 0) {
        api_reply_abort(req, &r, rc == STORE_OK ? STORE_NOTFOUND : rc, "video");
        return;
    }
    api_reply_end(req, 200, &r);
}

static void delete_video(struct http_request *req)
{
    uint64_t id;
    if (!api_require_user(req) || !api_param_id(req, "id", &id))
        return;
    struct app *app = api_app(req);
    struct store_video *video = pool_alloc(req->pool, sizeof *video);
    if (!video) {
        http_problem_status(req, 503, "out of memory");
        return;
    }
    if (!api_load_video(req, id, video, NULL))
        return;
    if (video->creator_id != req->user_id) {
        http_problem(req, 403, "forbidden", "Forbidden", "only the creator can delete a video",
                     NULL);
        return;
    }
    struct store *store = api_store_for_id(req, id, "video");
    if (!store)
        return;
    int rc = store_video_delete(store, id);
    api_video_cache_forget(app, id);
    if (rc != STORE_OK) {
        api_store_problem(req, rc, "video");
        return;
    }
    /* The record first: a job finishing meanwhile finds it gone and removes
     * what it published. Then the job and the files on every site. */
    api_media_forget(app, id);
    api_rec_video_gone(app, id);
    char idbuf[ID_STR_MAX];
    log_info("event=video_deleted video=%s", id_format(id, idbuf));
    http_respond_empty(req, 204);
}

static void list_user_videos(struct http_request *req)
{
    uint64_t user_id;
    struct api_page page;
    struct store_user *user = pool_alloc(req->pool, sizeof *user);
    if (!user) {
        http_problem_status(req, 503, "out of memory");
        return;
    }
    if (!api_param_id(req, "id", &user_id) || !api_page_params(req, CURSOR_VIDEOS, &page) ||
        !api_load_user(req, user_id, user))
        return;
    struct app *app = api_app(req);
    uint64_t ids[API_LIST_MAX + 1];
    size_t n = 0;
    const struct region *region = region_for_id(&app->regions, user_id);
    int rc = store_video_list_by_creator(
        app_store_for_id(app, user_id), user_id, req->user_id == user_id,
        cursor_before_bound(page.cursor, region->id), page.limit + 1, ids, &n);
    if (rc != STORE_OK) {
        api_store_problem(req, rc, "videos");
        return;
    }
    bool more = n > page.limit;
    if (more)
        n = page.limit;
    struct api_reply r;
    api_page_begin(&r);
    rc = api_write_videos(&r.w, app, ids, n, req->user_id, NULL);
    if (rc != STORE_OK)
        api_reply_abort(req, &r, rc, "videos");
    else
        api_page_end(req, &r, CURSOR_VIDEOS, more ? ids[n - 1] : 0);
}

int api_videos_register(struct http_router *router)
{
    static const struct http_route routes[] = {
        {.method = HTTP_GET, .pattern = "/api/v1/videos/{id}", .handler = get_video},
        {.method = HTTP_DELETE, .pattern = "/api/v1/videos/{id}", .handler = delete_video},
        {.method = HTTP_GET, .pattern = "/api/v1/users/{id}/videos", .handler = list_user_videos},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (http_router_add(router, &routes[i]) < 0)
            return -1;
    return 0;
}
