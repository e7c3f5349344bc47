/*
 * store_sqlite_social.c — follows, likes, comments, shares and the public
 * counters they move (see store.h, "social records and public counters").
 *
 * Exactness: a counter moves by an atomic `UPDATE ... SET n = n + d` inside
 * the transaction that inserts or deletes the record, and only when the
 * record really changed (an idempotent repeat changes nothing), so
 * concurrent requests can neither lose nor double an update — SQLite
 * serialises the writers (BEGIN IMMEDIATE) and each sees the previous one's
 * result.
 *
 * Across regions the record and the counter are in two databases, which
 * cannot share a transaction. The record's transaction then writes an outbox
 * row instead (same atomicity as above), and the delta is applied to the
 * target store in a transaction that also records its id in
 * counter_applied, so applying it twice (a retry after a crash between
 * "applied" and "outbox cleared") has no effect. The applied-ids table
 * holds ids only: nothing in it names a user.
 */
#include "store/sqlite_int.h"

#include "core/buf.h"

#include <stdio.h>
#include <string.h>

static const char SQL_LIKE_INSERT[] =
    "INSERT INTO likes (user_id, video_id, created_ms) VALUES (?1, ?2, ?3)"
    " ON CONFLICT DO NOTHING";
static const char SQL_LIKE_DELETE[] = "DELETE FROM likes WHERE user_id = ?1 AND video_id = ?2";
static const char SQL_LIKE_EXISTS[] = "SELECT 1 FROM likes WHERE user_id = ?1 AND video_id = ?2";
static const char SQL_LIKES_OF_USER[] =
    "SELECT video_id FROM likes WHERE user_id = ?1 ORDER BY video_id LIMIT ?2";
static const char SQL_FOLLOW_INSERT[] =
    "INSERT INTO follows (id, follower_id, followee_id, created_ms) VALUES (?1, ?2, ?3, ?4)"
    " ON CONFLICT DO NOTHING";
static const char SQL_FOLLOW_DELETE[] =
    "DELETE FROM follows WHERE follower_id = ?1 AND followee_id = ?2";
static const char SQL_USER_FOLLOWING_ADD[] =
    "UPDATE users SET following = following + ?2 WHERE id = ?1";
static const char SQL_FOLLOWING_LIST[] =
    "SELECT id, follower_id, followee_id, created_ms FROM follows"
    " WHERE follower_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3";
static const char SQL_FOLLOWERS_LIST[] =
    "SELECT id, follower_id, followee_id, created_ms FROM follows"
    " WHERE followee_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3";
static const char SQL_COMMENT_INSERT[] =
    "INSERT INTO comments (id, video_id, author_id, text, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)";
static const char SQL_COMMENT_GET[] =
    "SELECT c.id, c.video_id, c.author_id, c.text, c.created_ms, " SQ_USER_CARD_COLUMNS(
        "u") " FROM comments c JOIN users u ON u.id = c.author_id WHERE c.id = ?1";
static const char SQL_COMMENT_VIDEO[] = "SELECT video_id FROM comments WHERE id = ?1";
static const char SQL_COMMENT_DELETE[] = "DELETE FROM comments WHERE id = ?1";
static const char SQL_COMMENT_LIST[] =
    "SELECT id FROM comments WHERE video_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3";
static const char SQL_SHARE_INSERT[] =
    "INSERT INTO shares (id, user_id, video_id, created_ms) VALUES (?1, ?2, ?3, ?4)";
static const char SQL_OUTBOX_INSERT[] =
    "INSERT INTO counter_outbox (id, target_id, counter, delta) VALUES (?1, ?2, ?3, ?4)";
static const char SQL_OUTBOX_DELETE[] = "DELETE FROM counter_outbox WHERE id = ?1";
static const char SQL_OUTBOX_LIST[] =
    "SELECT id, target_id, counter, delta FROM counter_outbox ORDER BY id LIMIT ?1";
static const char SQL_APPLIED_INSERT[] =
    "INSERT INTO counter_applied (delta_id) VALUES (?1) ON CONFLICT DO NOTHING";

/* One statement per counter; the column name cannot be a parameter. */
static const char SQL_ADD_VIDEO_LIKES[] = "UPDATE videos SET likes = likes + ?2 WHERE id = ?1";
static const char SQL_ADD_VIDEO_COMMENTS[] =
    "UPDATE videos SET comments = comments + ?2 WHERE id = ?1";
static const char SQL_ADD_VIDEO_SHARES[] = "UPDATE videos SET shares = shares + ?2 WHERE id = ?1";
static const char SQL_ADD_VIDEO_VIEWS[] = "UPDATE videos SET views = views + ?2 WHERE id = ?1";
static const char SQL_ADD_USER_FOLLOWERS[] =
    "UPDATE users SET followers = followers + ?2 WHERE id = ?1";

static const char *counter_sql(int counter)
{
    switch (counter) {
    case STORE_COUNTER_VIDEO_LIKES: return SQL_ADD_VIDEO_LIKES;
    case STORE_COUNTER_VIDEO_COMMENTS: return SQL_ADD_VIDEO_COMMENTS;
    case STORE_COUNTER_VIDEO_SHARES: return SQL_ADD_VIDEO_SHARES;
    case STORE_COUNTER_VIDEO_VIEWS: return SQL_ADD_VIDEO_VIEWS;
    case STORE_COUNTER_USER_FOLLOWERS: return SQL_ADD_USER_FOLLOWERS;
    default: return NULL;
    }
}

static int counter_add(struct sq_conn *c, uint64_t target, int counter, int64_t delta)
{
    const char *sql = counter_sql(counter);
    sqlite3_stmt *st = sql ? sq_stmt(c, sql) : NULL;
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)target);
    sqlite3_bind_int64(st, 2, delta);
    return sq_step_done(c, st, "counter_add");
}

/* Moves a target's counter for a record change in this transaction: here,
 * or through the outbox (filling *out). */
static int counter_move(struct sq_conn *c, struct store_counter_route route, uint64_t target,
                        int counter, int64_t delta, struct store_delta *out)
{
    memset(out, 0, sizeof *out);
    if (route.target_here)
        return counter_add(c, target, counter, delta);
    sqlite3_stmt *st = sq_stmt(c, SQL_OUTBOX_INSERT);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)route.outbox_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)target);
    sqlite3_bind_int(st, 3, counter);
    sqlite3_bind_int64(st, 4, delta);
    int rc = sq_step_done(c, st, "outbox_insert");
    if (rc == STORE_OK)
        *out = (struct store_delta){route.outbox_id, target, counter, delta};
    return rc;
}

/* Runs `st` (bound by the caller) as the record change of a transaction
 * and, if it changed a row, the counter moves. */
static int record_change(struct store *store, struct sq_conn *c, sqlite3_stmt *st, const char *what,
                         bool *changed)
{
    (void)store;
    int rc = sq_step_done(c, st, what);
    *changed = rc == STORE_OK && sqlite3_changes(c->db) > 0;
    return rc;
}

int store_like_put(struct store *store, uint64_t user_id, uint64_t video_id, int64_t now_ms,
                   struct store_counter_route route, bool *changed, struct store_delta *delta)
{
    memset(delta, 0, sizeof *delta);
    *changed = false;
    struct sq_conn *c = sq_acquire(store);
    int rc = sq_txn_begin(store, c);
    if (rc != STORE_OK)
        goto out;
    sqlite3_stmt *st = sq_stmt(c, SQL_LIKE_INSERT);
    if (!st) {
        rc = STORE_ERROR;
        goto rollback;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)user_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)video_id);
    sqlite3_bind_int64(st, 3, now_ms);
    if ((rc = record_change(store, c, st, "like_insert", changed)) != STORE_OK)
        goto rollback;
    if (*changed)
        sq_note_changed(c, STORE_ROW_LIKES, user_id, false);
    if (*changed &&
        (rc = counter_move(c, route, video_id, STORE_COUNTER_VIDEO_LIKES, 1, delta)) != STORE_OK)
        goto rollback;
    rc = sq_txn_commit(store, c);
    goto out;
rollback:
    sq_txn_rollback(store, c);
    *changed = false;
out:
    sq_release(store, c);
    return rc;
}

int store_like_delete(struct store *store, uint64_t user_id, uint64_t video_id,
                      struct store_counter_route route, bool *changed, struct store_delta *delta)
{
    memset(delta, 0, sizeof *delta);
    *changed = false;
    struct sq_conn *c = sq_acquire(store);
    int rc = sq_txn_begin(store, c);
    if (rc != STORE_OK)
        goto out;
    sqlite3_stmt *st = sq_stmt(c, SQL_LIKE_DELETE);
    if (!st) {
        rc = STORE_ERROR;
        goto rollback;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)user_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)video_id);
    if ((rc = record_change(store, c, st, "like_delete", changed)) != STORE_OK)
        goto rollback;
    if (*changed)
        sq_note_changed(c, STORE_ROW_LIKES, user_id, false);
    if (*changed &&
        (rc = counter_move(c, route, video_id, STORE_COUNTER_VIDEO_LIKES, -1, delta)) != STORE_OK)
        goto rollback;
    rc = sq_txn_commit(store, c);
    goto out;
rollback:
    sq_txn_rollback(store, c);
    *changed = false;
out:
    sq_release(store, c);
    return rc;
}

int store_likes_check(struct store *store, uint64_t user_id, const uint64_t *video_ids, size_t n,
                      bool *liked)
{
    for (size_t i = 0; i < n; i++)
        liked[i] = false;
    if (n == 0)
        return STORE_OK;
    /* A point lookup per video on the primary key, in one read transaction
     * (cheaper than one statement over a list: no list to build and parse). */
    struct sq_conn *c = sq_acquire(store);
    int rc = sq_read_begin(c, "likes_check");
    if (rc != STORE_OK) {
        sq_release(store, c);
        return rc;
    }
    for (size_t i = 0; rc == STORE_OK && i < n; i++) {
        sqlite3_stmt *st = sq_stmt(c, SQL_LIKE_EXISTS);
        if (!st) {
            rc = STORE_ERROR;
            break;
        }
        sqlite3_bind_int64(st, 1, (sqlite3_int64)user_id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)video_ids[i]);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW)
            liked[i] = true;
        else if (step != SQLITE_DONE)
            rc = sq_status(c, step, "likes_check");
        sqlite3_reset(st);
    }
    rc = sq_read_end(c, rc, "likes_check");
    sq_release(store, c);
    return rc;
}

int store_likes_list(struct store *store, uint64_t user_id, size_t max, uint64_t *out, size_t *n,
                     bool *more)
{
    *n = 0;
    *more = false;
    struct sq_conn *c = sq_acquire(store);
    sqlite3_stmt *st = sq_stmt(c, SQL_LIKES_OF_USER);
    int rc = STORE_ERROR;
    if (st) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)user_id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)max + 1);
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            if (*n == max) {
                *more = true;
                break;
            }
            out[(*n)++] = (uint64_t)sqlite3_column_int64(st, 0);
        }
        rc = step == SQLITE_ROW || step == SQLITE_DONE ? STORE_OK
                                                        : sq_status(c, step, "likes_list");
        sqlite3_reset(st);
    }
    sq_release(store, c);
    return rc;
}

static int user_following_add(struct sq_conn *c, uint64_t user_id, int delta)
{
    sqlite3_stmt *st = sq_stmt(c, SQL_USER_FOLLOWING_ADD);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)user_id);
    sqlite3_bind_int(st, 2, delta);
    return sq_step_done(c, st, "user_following_add");
}

int store_follow_put(struct store *store, uint64_t follow_id, uint64_t follower_id,
                     uint64_t followee_id, int64_t now_ms, struct store_counter_route route,
                     bool *changed, struct store_delta *delta)
{
    memset(delta, 0, sizeof *delta);
    *changed = false;
    struct sq_conn *c = sq_acquire(store);
    int rc = sq_txn_begin(store, c);
    if (rc != STORE_OK)
        goto out;
    sqlite3_stmt *st = sq_stmt(c, SQL_FOLLOW_INSERT);
    if (!st) {
        rc = STORE_ERROR;
        goto rollback;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)follow_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)follower_id);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)followee_id);
    sqlite3_bind_int64(st, 4, now_ms);
    if ((rc = record_change(store, c, st, "follow_insert", changed)) != STORE_OK)
        goto rollback;
    if (*changed && ((rc = user_following_add(c, follower_id, 1)) != STORE_OK ||
                     (rc = counter_move(c, route, followee_id, STORE_COUNTER_USER_FOLLOWERS, 1,
                                        delta)) != STORE_OK))
        goto rollback;
    rc = sq_txn_commit(store, c);
    goto out;
rollback:
    sq_txn_rollback(store, c);
    *changed = false;
out:
    sq_release(store, c);
    return rc;
}

int store_follow_delete(struct store *store, uint64_t follower_id, uint64_t followee_id,
                        struct store_counter_route route, bool *changed, struct store_delta *delta)
{
    memset(delta, 0, sizeof *delta);
    *changed = false;
    struct sq_conn *c = sq_acquire(store);
    int rc = sq_txn_begin(store, c);
    if (rc != STORE_OK)
        goto out;
    sqlite3_stmt *st = sq_stmt(c, SQL_FOLLOW_DELETE);
    if (!st) {
        rc = STORE_ERROR;
        goto rollback;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)follower_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)followee_id);
    if ((rc = record_change(store, c, st, "follow_delete", changed)) != STORE_OK)
        goto rollback;
    if (*changed && ((rc = user_following_add(c, follower_id, -1)) != STORE_OK ||
                     (rc = counter_move(c, route, followee_id, STORE_COUNTER_USER_FOLLOWERS, -1,
                                        delta)) != STORE_OK))
        goto rollback;
    rc = sq_txn_commit(store, c);
    goto out;
rollback:
    sq_txn_rollback(store, c);
    *changed = false;
out:
    sq_release(store, c);
    return rc;
}

static int follow_list(struct store *store, const char *sql, uint64_t user_id, uint64_t before,
                       size_t limit, struct store_follow *out, size_t *n)
{
    struct sq_conn *c = sq_acquire(store);
    sqlite3_stmt *st = sq_stmt(c, sql);
    int rc = STORE_ERROR;
    *n = 0;
    if (st) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)user_id);
        sqlite3_bind_int64(st, 2, sq_bound_before(before));
        sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW && *n < limit) {
            struct store_follow *f = &out[(*n)++];
            f->id = (uint64_t)sqlite3_column_int64(st, 0);
            f->follower_id = (uint64_t)sqlite3_column_int64(st, 1);
            f->followee_id = (uint64_t)sqlite3_column_int64(st, 2);
            f->created_ms = sqlite3_column_int64(st, 3);
        }
        rc = step == SQLITE_ROW || step == SQLITE_DONE ? STORE_OK
                                                       : sq_status(c, step, "follow_list");
        sqlite3_reset(st);
    }
    sq_release(store, c);
    return rc;
}

int store_following_list(struct store *store, uint64_t follower_id, uint64_t before, size_t limit,
                         struct store_follow *out, size_t *n)
{
    return follow_list(store, SQL_FOLLOWING_LIST, follower_id, before, limit, out, n);
}

int store_followers_list(struct store *store, uint64_t followee_id, uint64_t before, size_t limit,
                         struct store_follow *out, size_t *n)
{
    return follow_list(store, SQL_FOLLOWERS_LIST, followee_id, before, limit, out, n);
}

int store_comment_create(struct store *store, const struct store_comment *cm,
                         struct store_counter_route route, struct store_delta *delta)
{
    memset(delta, 0, sizeof *delta);
    struct sq_conn *c = sq_acquire(store);
    int rc = sq_txn_begin(store, c);
    if (rc != STORE_OK)
        goto out;
    sqlite3_stmt *st = sq_stmt(c, SQL_COMMENT_INSERT);
    if (!st) {
        rc = STORE_ERROR;
        goto rollback;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)cm->id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)cm->video_id);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)cm->author_id);
    sq_bind_text(st, 4, cm->text);
    sqlite3_bind_int64(st, 5, cm->created_ms);
    if ((rc = sq_step_done(c, st, "comment_insert")) != STORE_OK ||
        (rc = counter_move(c, route, cm->video_id, STORE_COUNTER_VIDEO_COMMENTS, 1, delta)) !=
            STORE_OK)
        goto rollback;
    rc = sq_txn_commit(store, c);
    goto out;
rollback:
    sq_txn_rollback(store, c);
out:
    sq_release(store, c);
    return rc;
}

int store_comment_get(struct store *store, uint64_t id, struct store_comment *out,
                      struct store_user *author)
{
    struct sq_conn *c = sq_acquire(store);
    sqlite3_stmt *st = sq_stmt(c, SQL_COMMENT_GET);
    int rc = STORE_ERROR;
    if (st) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            memset(out, 0, sizeof *out);
            out->id = (uint64_t)sqlite3_column_int64(st, 0);
            out->video_id = (uint64_t)sqlite3_column_int64(st, 1);
            out->author_id = (uint64_t)sqlite3_column_int64(st, 2);
            sq_column_text(st, 3, out->text, sizeof out->text);
            out->created_ms = sqlite3_column_int64(st, 4);
            if (author)
                sq_read_user_card(st, 5, out->author_id, author);
            rc = STORE_OK;
        } else {
            rc = step == SQLITE_DONE ? STORE_NOTFOUND : sq_status(c, step, "comment_get");
        }
        sqlite3_reset(st);
    }
    sq_release(store, c);
    return rc;
}

int store_comment_delete(struct store *store, uint64_t id, struct store_counter_route route,
                         struct store_delta *delta)
{
    memset(delta, 0, sizeof *delta);
    struct sq_conn *c = sq_acquire(store);
    int rc = sq_txn_begin(store, c);
    if (rc != STORE_OK)
        goto out;
    sqlite3_stmt *st = sq_stmt(c, SQL_COMMENT_VIDEO);
    if (!st) {
        rc = STORE_ERROR;
        goto rollback;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    int step = sqlite3_step(st);
    uint64_t video_id = step == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (step != SQLITE_ROW) {
        rc = step == SQLITE_DONE ? STORE_NOTFOUND : sq_status(c, step, "comment_video");
        goto rollback;
    }
    if (!(st = sq_stmt(c, SQL_COMMENT_DELETE))) {
        rc = STORE_ERROR;
        goto rollback;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    if ((rc = sq_step_done(c, st, "comment_delete")) != STORE_OK ||
        (rc = counter_move(c, route, video_id, STORE_COUNTER_VIDEO_COMMENTS, -1, delta)) !=
            STORE_OK)
        goto rollback;
    rc = sq_txn_commit(store, c);
    goto out;
rollback:
    sq_txn_rollback(store, c);
out:
    sq_release(store, c);
    return rc;
}

int store_comment_list(struct store *store, uint64_t video_id, uint64_t after, size_t limit,
                       uint64_t *out, size_t *n)
{
    struct sq_conn *c = sq_acquire(store);
    sqlite3_stmt *st = sq_stmt(c, SQL_COMMENT_LIST);
    int rc = STORE_ERROR;
    *n = 0;
    if (st) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)video_id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)after);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
        rc = sq_collect_ids(c, st, out, limit, n, "comment_list");
    }
    sq_release(store, c);
    return rc;
}

int store_share_create(struct store *store, uint64_t share_id, uint64_t user_id, uint64_t video_id,
                       int64_t now_ms, struct store_counter_route route, struct store_delta *delta)
{
    memset(delta, 0, sizeof *delta);
    struct sq_conn *c = sq_acquire(store);
    int rc = sq_txn_begin(store, c);
    if (rc != STORE_OK)
        goto out;
    sqlite3_stmt *st = sq_stmt(c, SQL_SHARE_INSERT);
    if (!st) {
        rc = STORE_ERROR;
        goto rollback;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)share_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)user_id);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)video_id);
    sqlite3_bind_int64(st, 4, now_ms);
    if ((rc = sq_step_done(c, st, "share_insert")) != STORE_OK ||
        (rc = counter_move(c, route, video_id, STORE_COUNTER_VIDEO_SHARES, 1, delta)) != STORE_OK)
        goto rollback;
    rc = sq_txn_commit(store, c);
    goto out;
rollback:
    sq_txn_rollback(store, c);
out:
    sq_release(store, c);
    return rc;
}

int store_counter_apply(struct store *store, const struct store_delta *d)
{
    struct sq_conn *c = sq_acquire(store);
    int rc = sq_txn_begin(store, c);
    if (rc != STORE_OK)
        goto out;
    sqlite3_stmt *st = sq_stmt(c, SQL_APPLIED_INSERT);
    if (!st) {
        rc = STORE_ERROR;
        goto rollback;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)d->id);
    if ((rc = sq_step_done(c, st, "counter_applied_insert")) != STORE_OK)
        goto rollback;
    if (sqlite3_changes(c->db) > 0 &&
        (rc = counter_add(c, d->target_id, d->counter, d->delta)) != STORE_OK)
        goto rollback;
    rc = sq_txn_commit(store, c);
    goto out;
rollback:
    sq_txn_rollback(store, c);
out:
    sq_release(store, c);
    return rc;
}

int store_counter_add(struct store *store, uint64_t target_id, int counter, int64_t delta)
{
    struct sq_conn *c = sq_acquire(store);
    int rc = sq_txn_begin(store, c);
    if (rc == STORE_OK) {
        rc = counter_add(c, target_id, counter, delta);
        if (rc == STORE_OK)
            rc = sq_txn_commit(store, c);
        else
            sq_txn_rollback(store, c);
    }
    sq_release(store, c);
    return rc;
}

int store_counters_add(struct store *store, int counter, const uint64_t *target_ids,
                       const int64_t *deltas, size_t n)
{
    struct sq_conn *c = sq_acquire(store);
    int rc = sq_txn_begin(store, c);
    for (size_t i = 0; rc == STORE_OK && i < n; i++)
        rc = counter_add(c, target_ids[i], counter, deltas[i]);
    if (rc == STORE_OK)
        rc = sq_txn_commit(store, c);
    else
        sq_txn_rollback(store, c);
    sq_release(store, c);
    return rc;
}

int store_outbox_done(struct store *store, uint64_t delta_id)
{
    struct sq_conn *c = sq_acquire(store);
    int rc = sq_txn_begin(store, c);
    if (rc != STORE_OK)
        goto out;
    sqlite3_stmt *st = sq_stmt(c, SQL_OUTBOX_DELETE);
    if (!st) {
        rc = STORE_ERROR;
        goto rollback;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)delta_id);
    if ((rc = sq_step_done(c, st, "outbox_delete")) != STORE_OK)
        goto rollback;
    rc = sq_txn_commit(store, c);
    goto out;
rollback:
    sq_txn_rollback(store, c);
out:
    sq_release(store, c);
    return rc;
}

int store_outbox_pending(struct store *store, struct store_delta *out, size_t max, size_t *n)
{
    struct sq_conn *c = sq_acquire(store);
    sqlite3_stmt *st = sq_stmt(c, SQL_OUTBOX_LIST);
    int rc = STORE_ERROR;
    *n = 0;
    if (st) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)max);
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW && *n < max) {
            struct store_delta *d = &out[(*n)++];
            d->id = (uint64_t)sqlite3_column_int64(st, 0);
            d->target_id = (uint64_t)sqlite3_column_int64(st, 1);
            d->counter = sqlite3_column_int(st, 2);
            d->delta = sqlite3_column_int64(st, 3);
        }
        rc = step == SQLITE_ROW || step == SQLITE_DONE ? STORE_OK
                                                       : sq_status(c, step, "outbox_list");
        sqlite3_reset(st);
    }
    sq_release(store, c);
    return rc;
}
