/*
 * views.c — JSON shapes of API objects (API.md), built in one place so every
 * route answers the same `User`.
 */
#include "api/api.h"

#include "core/clock.h"
#include "core/id.h"

#include <stdio.h>

#define API_REPLY_FIRST_BYTES 8192 /* a feed page of 10 is about 5 KB */

void api_reply_begin(struct api_reply *r, size_t max)
{
    buf_init(&r->buf, max);
    /* Only a first size: the buffer still grows to max if need be. */
    (void)buf_reserve(&r->buf, max < API_REPLY_FIRST_BYTES ? max : API_REPLY_FIRST_BYTES);
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
