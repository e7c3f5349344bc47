/*
 * views.c — JSON shapes of API objects (API.md), built in one place so every
 * route answers the same `User`, `Video` and `Comment`, and the visibility
 * rule for videos (ready and by an active creator, or your own).
 */
#include "api/api.h"

#include "core/alloc.h"
#include "core/clock.h"
#include "core/id.h"

#include <stdio.h>
#include <string.h>

void api_reply_begin(struct api_reply *r, size_t max)
{
    buf_init(&r->buf, max);
    jsonw_init(&r->w, &r->buf);
}

void api_reply_end(struct http_request *req, int status, struct api_reply *r)
{
    if (jsonw_finish(&r->w) != 0) {
        buf_clear(&r->buf);
        http_problem_status(req, 500, "the answer could not be written");
        return;
    }
    size_t len;
    char *body = buf_steal(&r->buf, &len);
    http_respond_owned(req, status, "application/json", body, len);
}

static void write_user_fields(struct jsonw *w, struct app *app, const struct store_user *u)
{
    const struct region *r = region_for_id(&app->regions, u->id);
    jsonw_kv_id(w, "id", u->id);
    jsonw_kv_string(w, "username", u->username);
    jsonw_kv_string(w, "display_name", u->display_name);
    jsonw_kv_string(w, "bio", u->bio);
    jsonw_kv_string(w, "home_region", r ? r->name : "");
    jsonw_kv_int(w, "followers", u->followers);
    jsonw_kv_int(w, "following", u->following);
    jsonw_kv_int(w, "videos", u->videos);
    jsonw_kv_time(w, "created_at", u->created_ms);
}

void api_write_user(struct jsonw *w, struct app *app, const struct store_user *u)
{
    jsonw_object_begin(w);
    write_user_fields(w, app, u);
    jsonw_object_end(w);
}

void api_write_me(struct jsonw *w, struct app *app, const struct store_user *u)
{
    jsonw_object_begin(w);
    write_user_fields(w, app, u);
    jsonw_kv_string(w, "email", u->email);
    jsonw_kv_string(w, "country", u->country);
    jsonw_object_end(w);
}

void api_store_problem(struct http_request *req, int status, const char *what)
{
    char detail[128];
    switch (status) {
    case STORE_NOTFOUND:
        snprintf(detail, sizeof detail, "%s not found", what);
        http_problem(req, 404, "not-found", "Not Found", detail, NULL);
        break;
    case STORE_CONFLICT:
        snprintf(detail, sizeof detail, "%s already exists", what);
        http_problem(req, 409, "conflict", "Conflict", detail, NULL);
        break;
    default:
        http_problem(req, 500, "internal-error", "Internal Server Error",
                     "the store failed; the error is logged", NULL);
        break;
    }
}

struct store *api_store_for_region(struct http_request *req, const struct region *region)
{
    struct app *app = api_app(req);
    struct store *store = app_store_for_region(app, region);
    if (store)
        return store;
    char detail[160];
    snprintf(detail, sizeof detail, "this node does not serve region %s; send the request to a "
                                    "node of that region",
             region->name);
    json_t *body = json_pack("{s:s, s:s, s:i, s:s, s:s}", "type", "/problems/wrong-region",
                             "title", "Misdirected Request", "status", 421, "detail", detail,
                             "region", region->name);
    http_respond_json(req, 421, body);
    req->resp.content_type = "application/problem+json";
    return NULL;
}

struct store *api_store_for_id(struct http_request *req, uint64_t id, const char *what)
{
    const struct region *region = region_for_id(&api_app(req)->regions, id);
    if (!region) {
        char detail[96];
        snprintf(detail, sizeof detail, "%s not found", what);
        http_problem(req, 404, "not-found", "Not Found", detail, NULL);
        return NULL;
    }
    return api_store_for_region(req, region);
}

static const char *video_status_name(int status)
{
    switch (status) {
    case STORE_VIDEO_READY: return "ready";
    case STORE_VIDEO_FAILED: return "failed";
    default: return "processing";
    }
}

static json_t *hashtags_json(const char *tags)
{
    json_t *arr = json_array();
    const char *p = tags;
    while (arr && *p) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (n == 0)
            break;
        if (json_array_append_new(arr, json_stringn(p, n)) < 0) {
            json_decref(arr);
            return NULL;
        }
        p += n;
    }
    return arr;
}

json_t *api_video_json(struct app *app, const struct store_video *v,
                       const struct store_user *creator, int liked_by_me)
{
    char id[ID_STR_MAX], created[RFC3339_MAX];
    json_t *renditions = json_loads(v->renditions, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_array(renditions)) {
        json_decref(renditions);
        renditions = json_array();
    }
    json_t *obj = json_pack(
        "{s:s, s:o?, s:s, s:o?, s:i, s:i, s:i, s:s, s:o?, s:o?, s:I, s:I, s:I, s:I, s:s}", "id",
        id_format(v->id, id), "creator", api_user_json(app, creator), "caption", v->caption,
        "hashtags", hashtags_json(v->hashtags), "duration_ms", (int)v->duration_ms, "width",
        (int)v->width, "height", (int)v->height, "status", video_status_name(v->status),
        "renditions", renditions, "thumbnail_url",
        v->thumbnail_url[0] ? json_string(v->thumbnail_url) : json_null(), "likes",
        (json_int_t)v->likes, "comments", (json_int_t)v->comments, "shares", (json_int_t)v->shares,
        "views", (json_int_t)v->views, "created_at", clock_format_rfc3339(v->created_ms, created));
    if (!obj)
        return NULL;
    if ((v->status == STORE_VIDEO_FAILED &&
         json_object_set_new(obj, "error", json_string(v->error)) < 0) ||
        (liked_by_me >= 0 && json_object_set_new(obj, "liked_by_me", json_boolean(liked_by_me)) < 0)) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

bool api_video_visible(const struct store_video *v, const struct store_user *creator,
                       uint64_t viewer_id)
{
    if (viewer_id && viewer_id == v->creator_id)
        return true;
    return v->status == STORE_VIDEO_READY && creator->status == STORE_USER_ACTIVE;
}

json_t *api_videos_json(struct app *app, const uint64_t *ids, size_t n, uint64_t viewer_id)
{
    bool liked[API_LIST_MAX];
    if (n > API_LIST_MAX)
        n = API_LIST_MAX;
    struct store *viewer_store = viewer_id ? app_store_for_id(app, viewer_id) : NULL;
    if (viewer_store && store_likes_check(viewer_store, viewer_id, ids, n, liked) != STORE_OK)
        return NULL;
    json_t *items = json_array();
    struct store_video *v = reel_malloc(sizeof *v);
    struct store_user *creator = reel_malloc(sizeof *creator);
    if (!items || !v || !creator)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        struct store *store = app_store_for_id(app, ids[i]);
        int rc = store ? store_video_get(store, ids[i], v, creator) : STORE_NOTFOUND;
        if (rc == STORE_NOTFOUND || (rc == STORE_OK && !api_video_visible(v, creator, viewer_id)))
            continue;
        if (rc != STORE_OK)
            goto fail;
        json_t *item = api_video_json(app, v, creator, viewer_store ? liked[i] : -1);
        if (!item || json_array_append_new(items, item) < 0)
            goto fail;
    }
    reel_free(v);
    reel_free(creator);
    return items;
fail:
    reel_free(v);
    reel_free(creator);
    json_decref(items);
    return NULL;
}

json_t *api_comment_json(struct app *app, const struct store_comment *c,
                         const struct store_user *author)
{
    char id[ID_STR_MAX], video[ID_STR_MAX], created[RFC3339_MAX];
    return json_pack("{s:s, s:s, s:o?, s:s, s:s}", "id", id_format(c->id, id), "video_id",
                     id_format(c->video_id, video), "author", api_user_json(app, author), "text",
                     c->text, "created_at", clock_format_rfc3339(c->created_ms, created));
}

bool api_load_video(struct http_request *req, uint64_t id, struct store_video *video,
                    struct store_user *creator)
{
    struct app *app = api_app(req);
    struct store_user local;
    struct store_user *c = creator ? creator : &local;
    struct store *store = app_store_for_id(app, id);
    int rc = store ? store_video_get(store, id, video, c) : STORE_NOTFOUND;
    if (rc == STORE_OK && !api_video_visible(video, c, req->user_id))
        rc = STORE_NOTFOUND;
    if (rc != STORE_OK) {
        api_store_problem(req, rc, "video");
        return false;
    }
    return true;
}

bool api_load_user(struct http_request *req, uint64_t id, struct store_user *user)
{
    struct store *store = app_store_for_id(api_app(req), id);
    int rc = store ? store_user_get(store, id, user) : STORE_NOTFOUND;
    if (rc == STORE_OK && user->status != STORE_USER_ACTIVE)
        rc = STORE_NOTFOUND;
    if (rc != STORE_OK) {
        api_store_problem(req, rc, "user");
        return false;
    }
    return true;
}
