/*
 * views_social.c — JSON shapes of `Video`, `Comment` and list pages
 * (API.md), written with the streaming writer like `User` (views.c), and the
 * visibility rule for videos: a ready video of an active creator is public;
 * any other is visible to its creator only.
 */
#include "api/api.h"

#include "core/alloc.h"
#include "core/id.h"
#include "core/sorted.h"

#include <string.h>

static const char *video_status_name(int status)
{
    switch (status) {
    case STORE_VIDEO_READY: return "ready";
    case STORE_VIDEO_FAILED: return "failed";
    default: return "processing";
    }
}

/* Every member of a `Video` but liked_by_me (the viewer's own): what the
 * card cache keeps. */
static void write_video_members(struct jsonw *w, struct app *app, const struct store_video *v,
                                const struct store_user *creator)
{
    jsonw_kv_id(w, "id", v->id);
    jsonw_key(w, "creator");
    api_write_user(w, app, creator);
    jsonw_kv_string(w, "caption", v->caption);
    jsonw_key(w, "hashtags");
    jsonw_array_begin(w);
    for (const char *p = v->hashtags; *p;) {
        p += strspn(p, " ");
        size_t n = strcspn(p, " ");
        if (n == 0)
            break;
        jsonw_string_n(w, p, n);
        p += n;
    }
    jsonw_array_end(w);
    jsonw_kv_int(w, "duration_ms", v->duration_ms);
    jsonw_kv_int(w, "width", v->width);
    jsonw_kv_int(w, "height", v->height);
    jsonw_kv_string(w, "status", video_status_name(v->status));
    if (v->status == STORE_VIDEO_FAILED)
        jsonw_kv_string(w, "error", v->error);
    /* Written by the media pipeline as a JSON array; anything else is shown
     * as no renditions rather than breaking the answer. */
    jsonw_key(w, "renditions");
    if (v->renditions[0] == '[')
        jsonw_raw(w, v->renditions, strlen(v->renditions));
    else
        jsonw_raw(w, "[]", 2);
    jsonw_key(w, "thumbnail_url");
    if (v->thumbnail_url[0])
        jsonw_string(w, v->thumbnail_url);
    else
        jsonw_null(w);
    jsonw_kv_int(w, "likes", v->likes);
    jsonw_kv_int(w, "comments", v->comments);
    jsonw_kv_int(w, "shares", v->shares);
    jsonw_kv_int(w, "views", v->views);
    jsonw_kv_time(w, "created_at", v->created_ms);
}

void api_write_video(struct jsonw *w, struct app *app, const struct store_video *v,
                     const struct store_user *creator, int liked_by_me)
{
    jsonw_object_begin(w);
    write_video_members(w, app, v, creator);
    if (liked_by_me >= 0)
        jsonw_kv_bool(w, "liked_by_me", liked_by_me);
    jsonw_object_end(w);
}

static bool video_public(const struct store_video *v, const struct store_user *creator)
{
    return v->status == STORE_VIDEO_READY && creator->status == STORE_USER_ACTIVE;
}

bool api_video_visible(const struct store_video *v, const struct store_user *creator,
                       uint64_t viewer_id)
{
    return (viewer_id && viewer_id == v->creator_id) || video_public(v, creator);
}

/* The videos of a page that were read from their stores: each one's card
 * members (rendered once, kept in the card cache if public), in `bodies`. */
struct write_videos {
    struct app *app;
    uint64_t viewer_id;
    const size_t *at;          /* index in the caller's list of this run's ids[i] */
    const struct card_stamp *stamps; /* by index in the caller's list */
    struct buf *bodies;
    size_t *off, *len;         /* by index; len 0: not visible */
    struct jsonw scratch;
    struct buf scratch_buf;
};

static int render_one(void *ctx, size_t index, const struct store_video *v,
                      const struct store_user *creator)
{
    struct write_videos *x = ctx;
    size_t i = x->at[index];
    if (!api_video_visible(v, creator, x->viewer_id))
        return STORE_OK;
    buf_reset(&x->scratch_buf);
    jsonw_init(&x->scratch, &x->scratch_buf);
    jsonw_object_begin(&x->scratch);
    write_video_members(&x->scratch, x->app, v, creator);
    jsonw_object_end(&x->scratch);
    if (jsonw_finish(&x->scratch) != 0)
        return STORE_ERROR;
    /* The members: the object without its braces. */
    const char *body = x->scratch_buf.data + 1;
    size_t n = x->scratch_buf.len - 2;
    x->off[i] = x->bodies->len;
    if (buf_append(x->bodies, body, n) != BUF_OK)
        return STORE_ERROR;
    x->len[i] = n; /* never 0: a card has an id */
    if (x->app->card_cache && video_public(v, creator))
        api_card_put(x->app->card_cache, v->id, v->creator_id, &x->stamps[i], body, n);
    return STORE_OK;
}

/* Reads ids[k] for every k in at[0..n) from their stores (runs of one store
 * in one read transaction) and renders them into x. */
static int read_videos(struct write_videos *x, const uint64_t *ids, const size_t *at, size_t n)
{
    uint64_t run_ids[API_LIST_MAX];
    struct store_video *v = reel_malloc(sizeof *v);
    struct store_user *creator = reel_malloc(sizeof *creator);
    int rc = v && creator ? STORE_OK : STORE_ERROR;
    /* A video in a store this node does not have is left out. */
    for (size_t k = 0; rc == STORE_OK && k < n;) {
        struct store *store = app_store_for_id(x->app, ids[at[k]]);
        size_t run = 0;
        while (k + run < n && app_store_for_id(x->app, ids[at[k + run]]) == store) {
            run_ids[run] = ids[at[k + run]];
            run++;
        }
        x->at = at + k;
        if (store)
            rc = store_video_get_many(store, run_ids, run, v, creator, render_one, x);
        k += run;
    }
    reel_free(v);
    reel_free(creator);
    return rc;
}

int api_cards_renew(struct app *app, const uint64_t *ids, size_t n)
{
    int rc = STORE_OK;
    struct card_stamp stamps[API_LIST_MAX];
    size_t off[API_LIST_MAX], len[API_LIST_MAX], at[API_LIST_MAX];
    for (size_t i = 0; i < API_LIST_MAX; i++)
        at[i] = i;
    for (size_t done = 0; rc == STORE_OK && app->card_cache && done < n;) {
        size_t k = n - done < API_LIST_MAX ? n - done : API_LIST_MAX;
        for (size_t i = 0; i < k; i++) {
            api_card_stamp(app->card_cache, ids[done + i], &stamps[i]);
            len[i] = 0;
        }
        /* Rendered as for a signed-out viewer: only public videos' cards
         * are kept, whoever reads them. */
        struct buf bodies;
        buf_init(&bodies, API_PAGE_MAX_BYTES);
        struct write_videos x = {.app = app, .stamps = stamps, .bodies = &bodies,
                                 .off = off, .len = len};
        buf_init(&x.scratch_buf, API_PAGE_MAX_BYTES);
        rc = read_videos(&x, ids + done, at, k);
        buf_clear(&bodies);
        buf_clear(&x.scratch_buf);
        done += k;
    }
    return rc;
}

/* liked[i]: whether the viewer likes ids[i]. From the likes cache when the
 * viewer's list is there; else the list is read (and kept) if it is short,
 * or each video asked (a viewer with many likes, or no cache). */
static int viewer_likes(struct app *app, struct store *store, uint64_t viewer_id,
                        const uint64_t *ids, size_t n, bool *liked)
{
    struct likes_cache *cache = app->likes_cache;
    enum api_likes known = api_likes_cache_check(cache, viewer_id, ids, n, liked);
    if (known == API_LIKES_HIT)
        return STORE_OK;
    if (!cache || known == API_LIKES_MANY)
        return store_likes_check(store, viewer_id, ids, n, liked);
    uint64_t list[API_LIKES_KEPT];
    size_t count = 0;
    bool more = false;
    struct cache_stamp stamp;
    api_likes_cache_stamp(cache, viewer_id, &stamp);
    int rc = store_likes_list(store, viewer_id, API_LIKES_KEPT, list, &count, &more);
    if (rc != STORE_OK)
        return rc;
    api_likes_cache_put(cache, viewer_id, list, count, more, &stamp);
    if (more)
        return store_likes_check(store, viewer_id, ids, n, liked);
    for (size_t i = 0; i < n; i++)
        liked[i] = sorted_u64_contains(list, count, ids[i]); /* the list is lowest first */
    return STORE_OK;
}

int api_write_videos(struct jsonw *w, struct app *app, const uint64_t *ids, size_t n,
                     uint64_t viewer_id, size_t *written)
{
    bool liked[API_LIST_MAX];
    struct card_stamp stamps[API_LIST_MAX];
    size_t off[API_LIST_MAX], len[API_LIST_MAX], missing[API_LIST_MAX], nmissing = 0;
    if (n > API_LIST_MAX)
        n = API_LIST_MAX;
    struct store *viewer_store = viewer_id ? app_store_for_id(app, viewer_id) : NULL;
    int rc = viewer_store ? viewer_likes(app, viewer_store, viewer_id, ids, n, liked) : STORE_OK;
    if (rc != STORE_OK)
        return rc;
    struct card_cache *cards = app->card_cache;
    struct buf bodies;
    buf_init(&bodies, API_PAGE_MAX_BYTES);
    (void)buf_reserve(&bodies, n * 640); /* a card is about 500 bytes; more grows it */
    struct write_videos x = {.app = app, .viewer_id = viewer_id, .stamps = stamps,
                             .bodies = &bodies, .off = off, .len = len};
    buf_init(&x.scratch_buf, API_PAGE_MAX_BYTES);
    /* The cards in the cache, then the others from their stores (their
     * counters stamped before the read), then all in order. */
    for (size_t i = 0; i < n; i++) {
        off[i] = bodies.len;
        if (cards && api_card_copy(cards, ids[i], &bodies)) {
            len[i] = bodies.len - off[i];
            continue;
        }
        len[i] = 0;
        if (cards)
            api_card_stamp(cards, ids[i], &stamps[i]);
        missing[nmissing++] = i;
    }
    if (nmissing)
        rc = read_videos(&x, ids, missing, nmissing);
    size_t count = 0;
    for (size_t i = 0; rc == STORE_OK && i < n; i++) {
        if (!len[i])
            continue; /* not found, or not visible to this viewer */
        jsonw_object_begin(w);
        jsonw_raw_members(w, bodies.data + off[i], len[i]);
        if (viewer_store)
            jsonw_kv_bool(w, "liked_by_me", liked[i]);
        jsonw_object_end(w);
        count++;
    }
    buf_clear(&bodies);
    buf_clear(&x.scratch_buf);
    if (written)
        *written = count;
    return rc;
}

void api_write_comment(struct jsonw *w, struct app *app, const struct store_comment *c,
                       const struct store_user *author)
{
    jsonw_object_begin(w);
    jsonw_kv_id(w, "id", c->id);
    jsonw_kv_id(w, "video_id", c->video_id);
    jsonw_key(w, "author");
    api_write_user(w, app, author);
    jsonw_kv_string(w, "text", c->text);
    jsonw_kv_time(w, "created_at", c->created_ms);
    jsonw_object_end(w);
}

int api_write_users(struct jsonw *w, struct app *app, const struct api_item *items, size_t n)
{
    struct store_user *user = reel_malloc(sizeof *user);
    int rc = user ? STORE_OK : STORE_ERROR;
    for (size_t i = 0; rc == STORE_OK && i < n; i++) {
        struct store *store = app_store_for_id(app, items[i].ref);
        int got = store ? store_user_get_public(store, items[i].ref, user) : STORE_NOTFOUND;
        if (got == STORE_NOTFOUND || (got == STORE_OK && user->status != STORE_USER_ACTIVE))
            continue;
        if (got != STORE_OK)
            rc = got;
        else
            api_write_user(w, app, user);
    }
    reel_free(user);
    return rc;
}

bool api_load_video(struct http_request *req, uint64_t id, struct store_video *video,
                    struct store_user *creator)
{
    struct store_user *local = NULL;
    if (!creator && !(creator = local = reel_malloc(sizeof *local))) {
        http_problem_status(req, 503, "out of memory");
        return false;
    }
    struct store *store = api_store_for_id(req, id, "video");
    int rc = store ? store_video_get(store, id, video, creator) : STORE_OK;
    bool ok = store && rc == STORE_OK && api_video_visible(video, creator, req->user_id);
    reel_free(local);
    if (store && !ok)
        api_store_problem(req, rc == STORE_OK ? STORE_NOTFOUND : rc, "video");
    return ok;
}

bool api_load_user(struct http_request *req, uint64_t id, struct store_user *user)
{
    struct store *store = api_store_for_id(req, id, "user");
    if (!store)
        return false;
    int rc = store_user_get_public(store, id, user);
    if (rc == STORE_OK && user->status != STORE_USER_ACTIVE)
        rc = STORE_NOTFOUND;
    if (rc != STORE_OK) {
        api_store_problem(req, rc, "user");
        return false;
    }
    return true;
}

void api_page_begin(struct api_reply *r)
{
    api_reply_begin(r, API_PAGE_MAX_BYTES);
    jsonw_object_begin(&r->w);
    jsonw_key(&r->w, "items");
    jsonw_array_begin(&r->w);
}

void api_page_end(struct http_request *req, struct api_reply *r, enum cursor_kind kind,
                  uint64_t next_key)
{
    jsonw_array_end(&r->w);
    jsonw_key(&r->w, "next_cursor");
    if (next_key) {
        char cursor[CURSOR_STR_MAX];
        cursor_encode(kind, next_key, cursor);
        jsonw_string(&r->w, cursor);
    } else {
        jsonw_null(&r->w);
    }
    jsonw_object_end(&r->w);
    api_reply_end(req, 200, r);
}

void api_reply_abort(struct http_request *req, struct api_reply *r, int store_status,
                     const char *what)
{
    buf_clear(&r->buf);
    api_store_problem(req, store_status == STORE_OK ? STORE_ERROR : store_status, what);
}
