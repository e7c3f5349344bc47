/*
 * search.c — videos by hashtag, and search (API.md "Social").
 *
 * Everything searched is public and spread over the regions' stores, so
 * each query runs on every store and the answers are merged: videos newest
 * first, hashtags by how many videos use them (summed over regions), users
 * by username from the public directory (their public cards then come from
 * their home stores).
 */
#include "api/api.h"

#include "core/alloc.h"
#include "core/parse.h"
#include "social/hashtag.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEARCH_QUERY_MAX 100 /* code points */
#define SEARCH_WORDS_MAX 8
#define SEARCH_LIMIT_DEFAULT 10
#define SEARCH_LIMIT_MAX 50

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes a path segment into out (size bytes). Returns 0, or -1 if
 * malformed, too long, or not UTF-8 text. */
static int percent_decode(const char *in, char *out, size_t size)
{
    size_t o = 0;
    for (const char *p = in; *p; p++) {
        char c = *p;
        if (c == '%') {
            int hi = hex_digit(p[1]), lo = hi >= 0 ? hex_digit(p[2]) : -1;
            if (lo < 0)
                return -1;
            c = (char)(hi << 4 | lo);
            p += 2;
        }
        if (c == '\0' || o + 1 >= size)
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return utf8_valid(out, o) ? 0 : -1;
}

static int hashtag_part(struct store *store, const struct region *region, uint64_t bound,
                        size_t limit, struct api_item *out, size_t *n, void *arg)
{
    (void)region;
    uint64_t ids[API_LIST_MAX + 1];
    if (limit > API_LIST_MAX + 1)
        limit = API_LIST_MAX + 1;
    int rc = store_video_list_by_hashtag(store, arg, bound, limit, ids, n);
    for (size_t i = 0; rc == STORE_OK && i < *n; i++)
        out[i] = (struct api_item){ids[i], ids[i]};
    return rc;
}

static void list_hashtag_videos(struct http_request *req)
{
    char raw[HASHTAG_MAX_BYTES * 3 + 8], tag[HASHTAG_MAX_BYTES + 1];
    const char *param = http_request_param(req, "tag");
    if (!param || percent_decode(param, raw, sizeof raw) < 0 || hashtag_normalize(raw, tag) < 0) {
        json_t *errors = NULL;
        http_errors_add(&errors, "tag", "is not a hashtag (letters, digits, '_'; 1 to 50)");
        http_problem(req, 400, "validation-error", "Invalid request", "malformed hashtag", errors);
        return;
    }
    struct api_page page;
    if (!api_page_params(req, CURSOR_VIDEOS, &page))
        return;
    struct app *app = api_app(req);
    struct api_item items[API_LIST_MAX];
    size_t n;
    bool more;
    int rc = api_gather(app, &page, true, hashtag_part, tag, items, &n, &more);
    if (rc != STORE_OK) {
        api_store_problem(req, rc, "videos");
        return;
    }
    uint64_t ids[API_LIST_MAX];
    for (size_t i = 0; i < n; i++)
        ids[i] = items[i].ref;
    struct api_reply r;
    api_page_begin(&r);
    rc = api_write_videos(&r.w, app, ids, n, req->user_id, NULL);
    if (rc != STORE_OK)
        api_reply_abort(req, &r, rc, "videos");
    else
        api_page_end(req, &r, CURSOR_VIDEOS, more ? items[n - 1].key : 0);
}

static bool username_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.';
}

/* Users whose username starts with q (an optional leading '@' dropped). */
static int search_users(struct jsonw *w, struct app *app, const char *q, size_t limit)
{
    if (*q == '@')
        q++;
    size_t len = strlen(q);
    if (len == 0 || len > 30)
        return STORE_OK;
    for (size_t i = 0; i < len; i++)
        if (!username_char(q[i]))
            return STORE_OK;
    uint64_t ids[SEARCH_LIMIT_MAX];
    struct api_item items[SEARCH_LIMIT_MAX];
    size_t n = 0;
    int rc = store_directory_prefix(app->directory, q, limit, ids, &n);
    for (size_t i = 0; rc == STORE_OK && i < n; i++)
        items[i] = (struct api_item){ids[i], ids[i]};
    return rc == STORE_OK ? api_write_users(w, app, items, n) : rc;
}

static int by_videos_then_tag(const void *a, const void *b)
{
    const struct store_hashtag *x = a, *y = b;
    if (x->videos != y->videos)
        return x->videos < y->videos ? 1 : -1;
    return strcmp(x->tag, y->tag);
}

/* Hashtags starting with q (an optional leading '#' dropped), with their
 * video counts summed over the regions. */
static int search_hashtags(struct jsonw *w, struct app *app, const char *q, size_t limit)
{
    char prefix[HASHTAG_MAX_BYTES + 1];
    if (*q == '#')
        q++;
    if (!*q || hashtag_normalize_prefix(q, prefix, sizeof prefix) < 0)
        return STORE_OK;
    size_t regions = (size_t)app->regions.count;
    struct store_hashtag *all = reel_calloc(regions * limit, sizeof *all);
    if (!all)
        return STORE_ERROR;
    size_t total = 0;
    int rc = STORE_OK;
    for (size_t i = 0; rc == STORE_OK && i < regions; i++) {
        size_t n = 0;
        if (!app->stores[i])
            continue;
        rc = store_hashtag_prefix(app->stores[i], prefix, limit, all + total, &n);
        /* Fold a tag already seen in another region into the first one. */
        for (size_t k = 0; rc == STORE_OK && k < n; k++) {
            struct store_hashtag *h = &all[total + k];
            for (size_t j = 0; j < total; j++)
                if (strcmp(all[j].tag, h->tag) == 0) {
                    all[j].videos += h->videos;
                    h->videos = 0;
                    break;
                }
        }
        total += n;
    }
    if (rc == STORE_OK) {
        qsort(all, total, sizeof *all, by_videos_then_tag);
        for (size_t i = 0, kept = 0; i < total && kept < limit; i++) {
            if (all[i].videos <= 0)
                continue;
            jsonw_object_begin(w);
            jsonw_kv_string(w, "tag", all[i].tag);
            jsonw_kv_int(w, "videos", all[i].videos);
            jsonw_object_end(w);
            kept++;
        }
    }
    reel_free(all);
    return rc;
}

static int by_id_newest(const void *a, const void *b)
{
    return cursor_order(*(const uint64_t *)b, *(const uint64_t *)a);
}

static int search_videos(struct jsonw *w, struct app *app, const char *q, size_t limit,
                         uint64_t viewer)
{
    /* Words: runs of non-space bytes, '#' and '@' dropped (tags are words of
     * the caption to the index). */
    char buf[SEARCH_QUERY_MAX * 4 + 1];
    const char *words[SEARCH_WORDS_MAX];
    size_t count = 0;
    snprintf(buf, sizeof buf, "%s", q);
    char *p = buf;
    while (*p && count < SEARCH_WORDS_MAX) {
        while (*p == ' ' || *p == '\t' || *p == '#' || *p == '@')
            p++;
        if (!*p)
            break;
        words[count++] = p;
        p += strcspn(p, " \t");
        if (*p)
            *p++ = '\0';
    }
    size_t regions = (size_t)app->regions.count;
    uint64_t *ids = reel_calloc(regions * limit + 1, sizeof *ids);
    if (!ids)
        return STORE_ERROR;
    size_t total = 0;
    int rc = STORE_OK;
    for (size_t i = 0; rc == STORE_OK && count && i < regions; i++) {
        size_t n = 0;
        if (!app->stores[i])
            continue;
        rc = store_video_search(app->stores[i], words, count, limit, ids + total, &n);
        total += n;
    }
    if (rc == STORE_OK) {
        qsort(ids, total, sizeof *ids, by_id_newest);
        rc = api_write_videos(w, app, ids, total < limit ? total : limit, viewer, NULL);
    }
    reel_free(ids);
    return rc;
}

static void get_search(struct http_request *req)
{
    struct app *app = api_app(req);
    const char *q = http_request_query(req, "q");
    const char *limit_s = http_request_query(req, "limit");
    json_t *errors = NULL;
    size_t len = q ? strlen(q) : 0;
    if (!q || len == 0)
        http_errors_add(&errors, "q", "is required");
    else if (!utf8_valid(q, len) || utf8_length(q, len) > SEARCH_QUERY_MAX ||
             utf8_has_controls(q, len, false))
        http_errors_add(&errors, "q", "must be text of at most 100 characters");
    unsigned long long limit = SEARCH_LIMIT_DEFAULT;
    if (limit_s && (parse_ull(limit_s, &limit) < 0 || limit < 1 || limit > SEARCH_LIMIT_MAX))
        http_errors_add(&errors, "limit", "must be a whole number from 1 to 50");
    if (errors) {
        http_problem(req, 400, "validation-error", "Invalid request",
                     "a query parameter is missing or malformed; see errors", errors);
        return;
    }
    struct api_reply r;
    api_reply_begin(&r, API_PAGE_MAX_BYTES);
    jsonw_object_begin(&r.w);
    jsonw_key(&r.w, "users");
    jsonw_array_begin(&r.w);
    int rc = search_users(&r.w, app, q, (size_t)limit);
    jsonw_array_end(&r.w);
    jsonw_key(&r.w, "hashtags");
    jsonw_array_begin(&r.w);
    if (rc == STORE_OK)
        rc = search_hashtags(&r.w, app, q, (size_t)limit);
    jsonw_array_end(&r.w);
    jsonw_key(&r.w, "videos");
    jsonw_array_begin(&r.w);
    if (rc == STORE_OK)
        rc = search_videos(&r.w, app, q, (size_t)limit, req->user_id);
    jsonw_array_end(&r.w);
    jsonw_object_end(&r.w);
    if (rc != STORE_OK) {
        api_reply_abort(req, &r, rc, "search");
        return;
    }
    api_reply_end(req, 200, &r);
}

int api_search_register(struct http_router *router)
{
    static const struct http_route routes[] = {
        {.method = HTTP_GET,
         .pattern = "/api/v1/hashtags/{tag}/videos",
         .handler = list_hashtag_videos},
        {.method = HTTP_GET, .pattern = "/api/v1/search", .handler = get_search},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (http_router_add(router, &routes[i]) < 0)
            return -1;
    return 0;
}
