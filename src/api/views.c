/*
 * views.c — JSON shapes of API objects (API.md), built in one place so every
 * route answers the same `User`.
 */
#include "api/api.h"

#include "core/clock.h"
#include "core/id.h"

#include <stdio.h>

json_t *api_user_json(struct app *app, const struct store_user *u)
{
    char id[ID_STR_MAX], created[RFC3339_MAX];
    const struct region *r = region_for_id(&app->regions, u->id);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s}", "id", id_format(u->id, id),
                     "username", u->username, "display_name", u->display_name, "bio", u->bio,
                     "home_region", r ? r->name : "", "followers", (json_int_t)u->followers,
                     "following", (json_int_t)u->following, "videos", (json_int_t)u->videos,
                     "created_at", clock_format_rfc3339(u->created_ms, created));
}

json_t *api_me_json(struct app *app, const struct store_user *u)
{
    json_t *me = api_user_json(app, u);
    if (!me)
        return NULL;
    if (json_object_set_new(me, "email", json_string(u->email)) < 0 ||
        json_object_set_new(me, "country", json_string(u->country)) < 0) {
        json_decref(me);
        return NULL;
    }
    return me;
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
