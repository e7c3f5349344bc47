/*
 * store_sqlite_videos.c — video records, their hashtag index and caption
 * search, in the creator's region store.
 *
 * A video row lives in the store of its creator's home region (the video id
 * carries that region), next to the creator's user row, so the creator's
 * `videos` counter moves in the video's own transaction. Hashtags are kept
 * twice on purpose: as text on the row (to render a video without a join)
 * and as (tag, video_id) rows for listing by tag; the `hashtags` table
 * counts videos per tag for prefix suggestions. Caption words are indexed by
 * an external-content FTS5 table kept in step by triggers (migration 2).
 *
 * Lists return ids only, newest first by id (ids grow with time inside a
 * region); the caller loads the page's records with store_video_get. That
 * keeps list queries on narrow indexes and lets callers merge regions by id.
 */
#include "store/sqlite_int.h"

#include "core/alloc.h"
#include "core/buf.h"

#include <stdio.h>
#include <string.h>

#define VIDEO_COLUMNS                                                                              \
    "v.id, v.creator_id, v.caption, v.hashtags, v.duration_ms, v.width, v.height, v.status,"       \
    " v.error, v.renditions, v.thumbnail_url, v.likes, v.comments, v.shares, v.views,"             \
    " v.created_ms"
#define VIDEO_COLUMN_COUNT 16

static const char SQL_VIDEO_INSERT[] =
    "INSERT INTO videos (id, creator_id, caption, hashtags, duration_ms, width, height, status,"
    " error, renditions, thumbnail_url, created_ms, source_bytes)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
static const char SQL_VIDEO_TAG_INSERT[] =
    "INSERT OR IGNORE INTO video_hashtags (tag, video_id) VALUES (?1, ?2)";
static const char SQL_HASHTAG_COUNT_UP[] = "INSERT INTO hashtags (tag, videos) VALUES (?1, 1)"
                                           " ON CONFLICT (tag) DO UPDATE SET videos = videos + 1";
static const char SQL_HASHTAG_COUNT_DOWN[] =
    "UPDATE hashtags SET videos = videos - 1 WHERE tag = ?1";
static const char SQL_HASHTAG_DROP_EMPTY[] = "DELETE FROM hashtags WHERE tag = ?1 AND videos <= 0";
static const char SQL_USER_VIDEOS_ADD[] = "UPDATE users SET videos = videos + ?2 WHERE id = ?1";
static const char SQL_VIDEO_GET[] = "SELECT " VIDEO_COLUMNS ", " SQ_USER_CARD_COLUMNS(
    "u") " FROM videos v JOIN users u ON u.id = v.creator_id WHERE v.id = ?1";
static const char SQL_VIDEO_BRIEF[] =
    "SELECT creator_id, duration_ms, status FROM videos WHERE id = ?1";
static const char SQL_VIDEO_SET_STATUS[] =
    "UPDATE videos SET status = ?2, error = coalesce(?3, error), duration_ms = ?4, width = ?5,"
    " height = ?6, renditions = coalesce(?7, renditions),"
    " thumbnail_url = coalesce(?8, thumbnail_url) WHERE id = ?1";
static const char SQL_VIDEO_FOR_DELETE[] = "SELECT creator_id, hashtags FROM videos WHERE id = ?1";
static const char SQL_VIDEO_DELETE[] = "DELETE FROM videos WHERE id = ?1";
static const char SQL_LIST_BY_CREATOR[] =
    "SELECT id FROM videos WHERE creator_id = ?1 AND id < ?2 AND (?3 OR status = 1)"
    " ORDER BY id DESC LIMIT ?4";
static const char SQL_LIST_BY_HASHTAG[] =
    "SELECT t.video_id FROM video_hashtags t JOIN videos v ON v.id = t.video_id"
    " WHERE t.tag = ?1 AND t.video_id < ?2 AND v.status = 1 ORDER BY t.video_id DESC LIMIT ?3";
static const char SQL_LIST_BY_CREATORS[] =
    "SELECT id FROM videos WHERE creator_id IN (SELECT value FROM json_each(?1))"
    " AND id < ?2 AND status = 1 ORDER BY id DESC LIMIT ?3";
static const char SQL_SEARCH[] =
    "SELECT v.id FROM videos_fts f JOIN videos v ON v.id = f.rowid"
    " WHERE videos_fts MATCH ?1 AND v.status = 1 ORDER BY v.id DESC LIMIT ?2";
static const char SQL_POPULAR[] =
    "SELECT id, creator_id, likes + 2 * comments + 3 * shares + views / 10.0 AS engagement"
    " FROM videos WHERE status = 1 AND id >= ?1 ORDER BY engagement DESC, id DESC LIMIT ?2";
static const char SQL_USAGE[] =
    "SELECT count(*), coalesce(sum(source_bytes), 0) FROM videos WHERE creator_id = ?1"
    " AND id >= ?2";
static const char SQL_LIST_PROCESSING[] =
    "SELECT id FROM videos WHERE status = 0 AND id > ?1 ORDER BY id LIMIT ?2";
static const char SQL_SCAN_READY[] =
    "SELECT id, creator_id, created_ms, duration_ms, hashtags FROM videos"
    " WHERE status = 1 AND id > ?1 ORDER BY id LIMIT ?2";
static const char SQL_HASHTAG_PREFIX[] =
    "SELECT tag, videos FROM hashtags WHERE tag >= ?1 AND tag < ?2 AND videos > 0"
    " ORDER BY videos DESC, tag LIMIT ?3";

/* Calls fn for each space-separated tag of `tags`. Stops at the first error. */
static int for_each_tag(struct sq_conn *c, const char *tags, uint64_t video_id,
                        int (*fn)(struct sq_conn *, const char *tag, uint64_t video_id))
{
    char tag[STORE_HASHTAG_MAX];
    const char *p = tags;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (n == 0)
            break;
        if (n < sizeof tag) {
            memcpy(tag, p, n);
            tag[n] = '\0';
            int rc = fn(c, tag, video_id);
            if (rc != STORE_OK)
                return rc;
        }
        p += n;
    }
    return STORE_OK;
}

static int index_tag(struct sq_conn *c, const char *tag, uint64_t video_id)
{
    sqlite3_stmt *st = sq_stmt(c, SQL_VIDEO_TAG_INSERT);
    if (!st)
        return STORE_ERROR;
    sq_bind_text(st, 1, tag);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)video_id);
    int rc = sq_step_done(c, st, "video_tag_insert");
    if (rc != STORE_OK || sqlite3_changes(c->db) == 0)
        return rc; /* a duplicate tag is counted once */
    st = sq_stmt(c, SQL_HASHTAG_COUNT_UP);
    if (!st)
        return STORE_ERROR;
    sq_bind_text(st, 1, tag);
    return sq_step_done(c, st, "hashtag_count_up");
}

static int unindex_tag(struct sq_conn *c, const char *tag, uint64_t video_id)
{
    (void)video_id;
    sqlite3_stmt *st = sq_stmt(c, SQL_HASHTAG_COUNT_DOWN);
    if (!st)
        return STORE_ERROR;
    sq_bind_text(st, 1, tag);
    int rc = sq_step_done(c, st, "hashtag_count_down");
    if (rc != STORE_OK)
        return rc;
    if (!(st = sq_stmt(c, SQL_HASHTAG_DROP_EMPTY)))
        return STORE_ERROR;
    sq_bind_text(st, 1, tag);
    return sq_step_done(c, st, "hashtag_drop_empty");
}

static int user_videos_add(struct sq_conn *c, uint64_t user_id, int delta)
{
    sqlite3_stmt *st = sq_stmt(c, SQL_USER_VIDEOS_ADD);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)user_id);
    sqlite3_bind_int(st, 2, delta);
    return sq_step_done(c, st, "user_videos_add");
}

int store_video_create(struct store *store, const struct store_video *v)
{
    struct sq_conn *c = sq_acquire(store);
    int rc = sq_txn_begin(store, c);
    if (rc != STORE_OK)
        goto out;
    sqlite3_stmt *st = sq_stmt(c, SQL_VIDEO_INSERT);
    if (!st) {
        rc = STORE_ERROR;
        goto rollback;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)v->id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)v->creator_id);
    sq_bind_text(st, 3, v->caption);
    sq_bind_text(st, 4, v->hashtags);
    sqlite3_bind_int(st, 5, v->duration_ms);
    sqlite3_bind_int(st, 6, v->width);
    sqlite3_bind_int(st, 7, v->height);
    sqlite3_bind_int(st, 8, v->status);
    sq_bind_text(st, 9, v->error);
    sq_bind_text(st, 10, v->renditions[0] ? v->renditions : "[]");
    sq_bind_text(st, 11, v->thumbnail_url);
    sqlite3_bind_int64(st, 12, v->created_ms);
    sqlite3_bind_int64(st, 13, v->source_bytes);
    if ((rc = sq_step_done(c, st, "video_insert")) != STORE_OK ||
        (rc = for_each_tag(c, v->hashtags, v->id, index_tag)) != STORE_OK ||
        (rc = user_videos_add(c, v->creator_id, 1)) != STORE_OK)
        goto rollback;
    rc = sq_txn_commit(store, c);
    goto out;
rollback:
    sq_txn_rollback(store, c);
out:
    sq_release(store, c);
    return rc;
}

/* Sets every field (no memset: the struct is 15 KB and a feed page reads
 * ten of them). */
static void read_video(sqlite3_stmt *st, struct store_video *v)
{
    v->id = (uint64_t)sqlite3_column_int64(st, 0);
    v->creator_id = (uint64_t)sqlite3_column_int64(st, 1);
    sq_column_text(st, 2, v->caption, sizeof v->caption);
    sq_column_text(st, 3, v->hashtags, sizeof v->hashtags);
    v->duration_ms = sqlite3_column_int(st, 4);
    v->width = sqlite3_column_int(st, 5);
    v->height = sqlite3_column_int(st, 6);
    v->status = sqlite3_column_int(st, 7);
    sq_column_text(st, 8, v->error, sizeof v->error);
    sq_column_text(st, 9, v->renditions, sizeof v->renditions);
    sq_column_text(st, 10, v->thumbnail_url, sizeof v->thumbnail_url);
    v->likes = sqlite3_column_int64(st, 11);
    v->comments = sqlite3_column_int64(st, 12);
    v->shares = sqlite3_column_int64(st, 13);
    v->views = sqlite3_column_int64(st, 14);
    v->created_ms = sqlite3_column_int64(st, 15);
    v->source_bytes = 0;
}

int store_video_get(struct store *store, uint64_t id, struct store_video *out,
                    struct store_user *creator)
{
    struct sq_conn *c = sq_acquire(store);
    sqlite3_stmt *st = sq_stmt(c, SQL_VIDEO_GET);
    int rc = STORE_ERROR;
    if (st) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            read_video(st, out);
            if (creator)
                sq_read_user_card(st, VIDEO_COLUMN_COUNT, out->creator_id, creator);
            rc = STORE_OK;
        } else {
            rc = step == SQLITE_DONE ? STORE_NOTFOUND : sq_status(c, step, "video_get");
        }
        sqlite3_reset(st);
    }
    sq_release(store, c);
    return rc;
}

int store_video_get_many(struct store *store, const uint64_t *ids, size_t n,
                         struct store_video *video, struct store_user *creator, store_video_fn fn,
                         void *ctx)
{
    if (n == 0)
        return STORE_OK;
    struct sq_conn *c = sq_acquire(store);
    int rc = sq_read_begin(c, "video_get_many");
    if (rc != STORE_OK) {
        sq_release(store, c);
        return rc;
    }
    for (size_t i = 0; rc == STORE_OK && i < n; i++) {
        sqlite3_stmt *st = sq_stmt(c, SQL_VIDEO_GET);
        if (!st) {
            rc = STORE_ERROR;
            break;
        }
        sqlite3_bind_int64(st, 1, (sqlite3_int64)ids[i]);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            read_video(st, video);
            sq_read_user_card(st, VIDEO_COLUMN_COUNT, video->creator_id, creator);
        } else if (step != SQLITE_DONE) {
            rc = sq_status(c, step, "video_get_many");
        }
        sqlite3_reset(st);
        if (step == SQLITE_ROW)
            rc = fn(ctx, i, video, creator);
    }
    rc = sq_read_end(c, rc, "video_get_many");
    sq_release(store, c);
    return rc;
}

int store_video_brief(struct store *store, uint64_t id, uint64_t *creator_id, int32_t *duration_ms,
                      int *status)
{
    struct sq_conn *c = sq_acquire(store);
    sqlite3_stmt *st = sq_stmt(c, SQL_VIDEO_BRIEF);
    int rc = STORE_ERROR;
    if (st) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            *creator_id = (uint64_t)sqlite3_column_int64(st, 0);
            *duration_ms = sqlite3_column_int(st, 1);
            *status = sqlite3_column_int(st, 2);
            rc = STORE_OK;
        } else {
            rc = step == SQLITE_DONE ? STORE_NOTFOUND : sq_status(c, step, "video_brief");
        }
        sqlite3_reset(st);
    }
    sq_release(store, c);
    return rc;
}

int store_video_set_status(struct store *store, uint64_t id, int status, const char *error,
                           int32_t duration_ms, int32_t width, int32_t height,
                           const char *renditions_json, const char *thumbnail_url)
{
    struct sq_conn *c = sq_acquire(store);
    int rc = sq_txn_begin(store, c);
    if (rc != STORE_OK)
        goto out;
    sqlite3_stmt *st = sq_stmt(c, SQL_VIDEO_SET_STATUS);
    if (!st) {
        rc = STORE_ERROR;
        goto rollback;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    sqlite3_bind_int(st, 2, status);
    if (error)
        sq_bind_text(st, 3, error);
    sqlite3_bind_int(st, 4, duration_ms);
    sqlite3_bind_int(st, 5, width);
    sqlite3_bind_int(st, 6, height);
    if (renditions_json)
        sq_bind_text(st, 7, renditions_json);
    if (thumbnail_url)
        sq_bind_text(st, 8, thumbnail_url);
    rc = sq_step_done(c, st, "video_set_status");
    if (rc == STORE_OK && sqlite3_changes(c->db) == 0)
        rc = STORE_NOTFOUND;
    if (rc != STORE_OK)
        goto rollback;
    rc = sq_txn_commit(store, c);
    goto out;
rollback:
    sq_txn_rollback(store, c);
out:
    sq_release(store, c);
    return rc;
}

int store_video_delete(struct store *store, uint64_t id)
{
    struct sq_conn *c = sq_acquire(store);
    int rc = sq_txn_begin(store, c);
    if (rc != STORE_OK)
        goto out;
    sqlite3_stmt *st = sq_stmt(c, SQL_VIDEO_FOR_DELETE);
    if (!st) {
        rc = STORE_ERROR;
        goto rollback;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    int step = sqlite3_step(st);
    if (step != SQLITE_ROW) {
        rc = step == SQLITE_DONE ? STORE_NOTFOUND : sq_status(c, step, "video_for_delete");
        sqlite3_reset(st);
        goto rollback;
    }
    uint64_t creator = (uint64_t)sqlite3_column_int64(st, 0);
    char tags[STORE_HASHTAGS_MAX];
    sq_column_text(st, 1, tags, sizeof tags);
    sqlite3_reset(st);
    if ((rc = for_each_tag(c, tags, id, unindex_tag)) != STORE_OK)
        goto rollback;
    if (!(st = sq_stmt(c, SQL_VIDEO_DELETE))) {
        rc = STORE_ERROR;
        goto rollback;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    if ((rc = sq_step_done(c, st, "video_delete")) != STORE_OK ||
        (rc = user_videos_add(c, creator, -1)) != STORE_OK)
        goto rollback;
    rc = sq_txn_commit(store, c);
    goto out;
rollback:
    sq_txn_rollback(store, c);
out:
    sq_release(store, c);
    return rc;
}

int store_video_usage(struct store *store, uint64_t creator_id, uint64_t since_id, int64_t *videos,
                      int64_t *bytes)
{
    struct sq_conn *c = sq_acquire(store);
    sqlite3_stmt *st = sq_stmt(c, SQL_USAGE);
    int rc = STORE_ERROR;
    *videos = *bytes = 0;
    if (st) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)creator_id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)since_id);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            *videos = sqlite3_column_int64(st, 0);
            *bytes = sqlite3_column_int64(st, 1);
            rc = STORE_OK;
        } else {
            rc = sq_status(c, step, "video_usage");
        }
        sqlite3_reset(st);
    }
    sq_release(store, c);
    return rc;
}

int store_video_list_processing(struct store *store, uint64_t after, size_t limit, uint64_t *out,
                                size_t *n)
{
    struct sq_conn *c = sq_acquire(store);
    sqlite3_stmt *st = sq_stmt(c, SQL_LIST_PROCESSING);
    int rc = STORE_ERROR;
    *n = 0;
    if (st) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)after);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
        rc = sq_collect_ids(c, st, out, limit, n, "video_list_processing");
    }
    sq_release(store, c);
    return rc;
}

int store_video_list_by_creator(struct store *store, uint64_t creator_id, bool include_unready,
                                uint64_t before, size_t limit, uint64_t *out, size_t *n)
{
    struct sq_conn *c = sq_acquire(store);
    sqlite3_stmt *st = sq_stmt(c, SQL_LIST_BY_CREATOR);
    int rc = STORE_ERROR;
    *n = 0;
    if (st) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)creator_id);
        sqlite3_bind_int64(st, 2, sq_bound_before(before));
        sqlite3_bind_int(st, 3, include_unready);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)limit);
        rc = sq_collect_ids(c, st, out, limit, n, "video_list_by_creator");
    }
    sq_release(store, c);
    return rc;
}

int store_video_list_by_hashtag(struct store *store, const char *tag, uint64_t before, size_t limit,
                                uint64_t *out, size_t *n)
{
    struct sq_conn *c = sq_acquire(store);
    sqlite3_stmt *st = sq_stmt(c, SQL_LIST_BY_HASHTAG);
    int rc = STORE_ERROR;
    *n = 0;
    if (st) {
        sq_bind_text(st, 1, tag);
        sqlite3_bind_int64(st, 2, sq_bound_before(before));
        sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
        rc = sq_collect_ids(c, st, out, limit, n, "video_list_by_hashtag");
    }
    sq_release(store, c);
    return rc;
}

int store_video_list_by_creators(struct store *store, const uint64_t *creators, size_t count,
                                 uint64_t before, size_t limit, uint64_t *out, size_t *n)
{
    *n = 0;
    if (count == 0)
        return STORE_OK;
    struct buf json;
    buf_init(&json, count * 22 + 8);
    int rc = buf_append_str(&json, "[");
    for (size_t i = 0; i < count && rc == BUF_OK; i++)
        rc = buf_printf(&json, "%s%llu", i ? "," : "", (unsigned long long)creators[i]);
    if (rc == BUF_OK)
        rc = buf_append_str(&json, "]");
    if (rc != BUF_OK) {
        buf_clear(&json);
        return STORE_ERROR;
    }
    struct sq_conn *c = sq_acquire(store);
    sqlite3_stmt *st = sq_stmt(c, SQL_LIST_BY_CREATORS);
    rc = STORE_ERROR;
    if (st) {
        sq_bind_text(st, 1, json.data);
        sqlite3_bind_int64(st, 2, sq_bound_before(before));
        sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
        rc = sq_collect_ids(c, st, out, limit, n, "video_list_by_creators");
    }
    sq_release(store, c);
    buf_clear(&json);
    return rc;
}

/* Builds an FTS5 query: every word as a quoted string ("" escapes a quote),
 * the last one as a prefix, all required. Words are plain text: quoting
 * stops FTS5 operators (AND, NEAR, column filters) in user input. */
static int fts_query(const char *const *words, size_t count, struct buf *q)
{
    for (size_t i = 0; i < count; i++) {
        if (i && buf_append_str(q, " ") != BUF_OK)
            return -1;
        if (buf_append_str(q, "\"") != BUF_OK)
            return -1;
        for (const char *p = words[i]; *p; p++)
            if (buf_append(q, p, 1) != BUF_OK || (*p == '"' && buf_append(q, "\"", 1) != BUF_OK))
                return -1;
        if (buf_append_str(q, i + 1 == count ? "\"*" : "\"") != BUF_OK)
            return -1;
    }
    return 0;
}

int store_video_search(struct store *store, const char *const *words, size_t count, size_t limit,
                       uint64_t *out, size_t *n)
{
    *n = 0;
    if (count == 0)
        return STORE_OK;
    struct buf q;
    buf_init(&q, 4096);
    if (fts_query(words, count, &q) < 0) {
        buf_clear(&q);
        return STORE_ERROR;
    }
    struct sq_conn *c = sq_acquire(store);
    sqlite3_stmt *st = sq_stmt(c, SQL_SEARCH);
    int rc = STORE_ERROR;
    if (st) {
        sq_bind_text(st, 1, q.data);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
        rc = sq_collect_ids(c, st, out, limit, n, "video_search");
    }
    sq_release(store, c);
    buf_clear(&q);
    return rc;
}

int store_video_popular(struct store *store, uint64_t min_id, size_t limit,
                        struct store_video_score *out, size_t *n)
{
    struct sq_conn *c = sq_acquire(store);
    sqlite3_stmt *st = sq_stmt(c, SQL_POPULAR);
    int rc = STORE_ERROR;
    *n = 0;
    if (st) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)min_id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW && *n < limit) {
            out[*n].id = (uint64_t)sqlite3_column_int64(st, 0);
            out[*n].creator_id = (uint64_t)sqlite3_column_int64(st, 1);
            out[*n].engagement = sqlite3_column_double(st, 2);
            (*n)++;
        }
        rc = step == SQLITE_ROW || step == SQLITE_DONE ? STORE_OK : sq_status(c, step, "popular");
        sqlite3_reset(st);
    }
    sq_release(store, c);
    return rc;
}

int store_hashtag_prefix(struct store *store, const char *prefix, size_t limit,
                         struct store_hashtag *out, size_t *n)
{
    /* Tags compare bytewise; 0xFF never occurs in UTF-8, so prefix + 0xFF is
     * above every tag that starts with prefix. */
    char upper[STORE_HASHTAG_MAX + 1];
    size_t len = strlen(prefix);
    *n = 0;
    if (len >= STORE_HASHTAG_MAX)
        return STORE_OK;
    memcpy(upper, prefix, len);
    upper[len] = (char)0xFF;
    upper[len + 1] = '\0';
    struct sq_conn *c = sq_acquire(store);
    sqlite3_stmt *st = sq_stmt(c, SQL_HASHTAG_PREFIX);
    int rc = STORE_ERROR;
    if (st) {
        sq_bind_text(st, 1, prefix);
        sqlite3_bind_text(st, 2, upper, (int)(len + 1), SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW && *n < limit) {
            sq_column_text(st, 0, out[*n].tag, sizeof out[*n].tag);
            out[*n].videos = sqlite3_column_int64(st, 1);
            (*n)++;
        }
        rc = step == SQLITE_ROW || step == SQLITE_DONE ? STORE_OK
                                                       : sq_status(c, step, "hashtag_prefix");
        sqlite3_reset(st);
    }
    sq_release(store, c);
    return rc;
}

int store_video_scan_ready(struct store *store, uint64_t after, size_t limit,
                           struct store_video_entry *out, size_t *n)
{
    struct sq_conn *c = sq_acquire(store);
    sqlite3_stmt *st = sq_stmt(c, SQL_SCAN_READY);
    int rc = STORE_ERROR;
    *n = 0;
    if (st) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)after);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
        int step = SQLITE_DONE;
        while (*n < limit && (step = sqlite3_step(st)) == SQLITE_ROW) {
            struct store_video_entry *v = &out[*n];
            v->id = (uint64_t)sqlite3_column_int64(st, 0);
            v->creator_id = (uint64_t)sqlite3_column_int64(st, 1);
            v->created_ms = sqlite3_column_int64(st, 2);
            v->duration_ms = sqlite3_column_int(st, 3);
            const char *tags = (const char *)sqlite3_column_text(st, 4);
            snprintf(v->hashtags, sizeof v->hashtags, "%s", tags ? tags : "");
            (*n)++;
        }
        rc = *n == limit || step == SQLITE_DONE ? STORE_OK : sq_status(c, step, "video_scan");
        sqlite3_reset(st);
    }
    sq_release(store, c);
    return rc;
}
