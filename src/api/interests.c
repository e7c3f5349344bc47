/*
 * interests.c — the hashtags a user picks so the For You feed has something
 * to start from (cold start): at sign-up ("interests" in POST
 * /api/v1/accounts) or later (GET/PUT /api/v1/me/interests).
 *
 * They are personal data of the user's home store (user_interests), handed
 * to the home region's engine at once and again at every start.
 */
#include "api/api.h"

#include "core/log.h"
#include "rec/engine.h"
#include "social/hashtag.h"

#include <stdio.h>
#include <string.h>

bool api_parse_interests(json_t *body, struct validation *v, char *out, size_t cap)
{
    out[0] = '\0';
    json_t *list = json_object_get(body, "interests");
    if (!list)
        return false;
    /* Counted after normalising and removing duplicates; a list many times
     * longer than the limit is refused before any work. */
    if (!json_is_array(list) || json_array_size(list) > 4 * REC_INTERESTS_MAX) {
        api_invalid(v, "interests", "must be an array of at most 16 hashtags");
        if (!json_is_array(list))
            v->shape_error = true;
        return false;
    }
    size_t len = 0, count = 0, i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        char tag[HASHTAG_MAX_BYTES + 1];
        const char *raw = json_string_value(item);
        if (!raw || hashtag_normalize(raw, tag) < 0) {
            api_invalid(v, "interests", "each interest must be a hashtag, e.g. \"cooking\"");
            return false;
        }
        size_t n = strlen(tag);
        if (n >= REC_HASHTAG_MAX) {
            api_invalid(v, "interests", "an interest is at most 63 bytes long (UTF-8)");
            return false;
        }
        /* Whole-word duplicate check: " tag " inside " a b c ". */
        char probe[REC_HASHTAG_MAX + 2];
        snprintf(probe, sizeof probe, " %s ", tag);
        char padded[REC_INTERESTS_MAX * REC_HASHTAG_MAX + 2];
        snprintf(padded, sizeof padded, " %s ", out);
        if (strstr(padded, probe))
            continue;
        if (++count > REC_INTERESTS_MAX || len + n + 2 > cap) {
            api_invalid(v, "interests", "must be an array of at most 16 hashtags");
            return false;
        }
        if (len)
            out[len++] = ' ';
        memcpy(out + len, tag, n + 1);
        len += n;
    }
    return true;
}

int api_interests_save(struct app *app, uint64_t user_id, const char *hashtags)
{
    struct store *store = app_store_for_id(app, user_id);
    int rc = store ? store_user_interests_set(store, user_id, hashtags) : STORE_NOTFOUND;
    if (rc == STORE_OK && api_rec_set_interests(app, user_id, hashtags) < 0)
        log_warn("event=rec_interests_failed");
    return rc;
}

static void respond_interests(struct http_request *req, const char *hashtags)
{
    struct api_reply r;
    api_reply_begin(&r, 4096);
    jsonw_object_begin(&r.w);
    jsonw_key(&r.w, "interests");
    jsonw_array_begin(&r.w);
    for (const char *p = hashtags; *p;) {
        size_t n = strcspn(p, " ");
        char tag[REC_HASHTAG_MAX];
        if (n && n < sizeof tag) {
            memcpy(tag, p, n);
            tag[n] = '\0';
            jsonw_string(&r.w, tag);
        }
        p += n;
        p += strspn(p, " ");
    }
    jsonw_array_end(&r.w);
    jsonw_object_end(&r.w);
    api_reply_end(req, 200, &r);
}

static void get_interests(struct http_request *req)
{
    if (!api_require_user(req))
        return;
    struct store *store = api_store_for_id(req, req->user_id, "user");
    if (!store)
        return;
    char tags[API_INTERESTS_BYTES];
    int rc = store_user_interests_get(store, req->user_id, tags, sizeof tags);
    if (rc != STORE_OK && rc != STORE_NOTFOUND) {
        api_store_problem(req, rc, "user");
        return;
    }
    respond_interests(req, rc == STORE_OK ? tags : "");
}

static void put_interests(struct http_request *req)
{
    if (!api_require_user(req))
        return;
    json_t *body = http_request_json(req);
    if (!body)
        return;
    static const char *const allowed[] = {"interests", NULL};
    struct validation v = {0};
    api_reject_unknown_fields(body, allowed, &v);
    char tags[API_INTERESTS_BYTES];
    if (!json_object_get(body, "interests")) {
        api_invalid(&v, "interests", "is required");
        v.shape_error = true;
    } else {
        api_parse_interests(body, &v, tags, sizeof tags);
    }
    if (api_validation_failed(req, &v) || !api_store_for_id(req, req->user_id, "user"))
        return;
    int rc = api_interests_save(api_app(req), req->user_id, tags);
    if (rc != STORE_OK) {
        api_store_problem(req, rc, "user");
        return;
    }
    respond_interests(req, tags);
}

int api_interests_register(struct http_router *router)
{
    static const struct http_route routes[] = {
        {.method = HTTP_GET, .pattern = "/api/v1/me/interests", .handler = get_interests},
        {.method = HTTP_PUT, .pattern = "/api/v1/me/interests", .handler = put_interests},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (http_router_add(router, &routes[i]) < 0)
            return -1;
    return 0;
}
