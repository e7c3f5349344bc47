/*
 * store_sqlite_privacy.c — deactivation, the export of a user's records and
 * their erasure (see store.h "privacy").
 *
 * Erasure must leave nothing behind on disk, not only in query results:
 *   - every connection runs with secure_delete, so freed cells and pages are
 *     overwritten with zeros instead of lingering in the file;
 *   - after the purge transaction the caption index is optimised (FTS5 keeps
 *     superseded segments until a merge) and the WAL is checkpointed and
 *     truncated on the primary and every replica, so no older page image of
 *     the user's rows survives in a -wal file.
 */
#include "store/sqlite_int.h"

#include "core/id.h"
#include "core/log.h"

#include <string.h>

static const char SQL_DEACTIVATE[] =
    "UPDATE users SET status = 1, deactivated_ms = CASE WHEN deactivated_ms > 0 THEN "
    "deactivated_ms ELSE ?2 END WHERE id = ?1";
static const char SQL_REVOKE_ALL[] =
    "UPDATE sessions SET revoked_ms = ?2 WHERE user_id = ?1 AND revoked_ms = 0";
static const char SQL_DEACTIVATED_AT[] = "SELECT deactivated_ms FROM users WHERE id = ?1";
static const char SQL_DEACTIVATED_BEFORE[] =
    "SELECT id FROM users WHERE deactivated_ms > 0 AND deactivated_ms <= ?1 "
    "ORDER BY deactivated_ms LIMIT ?2";

/* One prepared write with up to two integer parameters. */
static int exec_ids(struct sq_conn *c, const char *sql, int64_t a, int64_t b, const char *what)
{
    const int64_t params[] = {a, b};
    return sq_step_ints(c, sql, what, false, 2, params);
}

struct deactivation {
    uint64_t user_id;
    int64_t now_ms;
};

static int deactivate(struct store *store, struct sq_conn *c, void *arg)
{
    (void)store;
    const struct deactivation *d = arg;
    const int64_t params[] = {(int64_t)d->user_id, d->now_ms};
    int rc = sq_step_ints(c, SQL_DEACTIVATE, "user_deactivate", true, 2, params);
    if (rc == STORE_OK)
        rc = sq_step_ints(c, SQL_REVOKE_ALL, "sessions_revoke_all", false, 2, params);
    return rc;
}

int store_user_deactivate(struct store *store, uint64_t user_id, int64_t now_ms)
{
    struct deactivation d = {user_id, now_ms};
    return sq_write(store, deactivate, &d);
}

int store_user_deactivated_at(struct store *store, uint64_t user_id, int64_t *deactivated_ms)
{
    struct sq_conn *c = sq_acquire(store);
    sqlite3_stmt *st = sq_stmt(c, SQL_DEACTIVATED_AT);
    int rc = STORE_ERROR;
    if (st) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)user_id);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            *deactivated_ms = sqlite3_column_int64(st, 0);
            rc = STORE_OK;
        } else {
            rc = step == SQLITE_DONE ? STORE_NOTFOUND : sq_status(c, step, "deactivated_at");
        }
        sqlite3_reset(st);
    }
    sq_release(store, c);
    return rc;
}

int store_users_deactivated_before(struct store *store, int64_t before_ms, uint64_t *out,
                                   size_t max, size_t *n)
{
    *n = 0;
    struct sq_conn *c = sq_acquire(store);
    sqlite3_stmt *st = sq_stmt(c, SQL_DEACTIVATED_BEFORE);
    int rc = STORE_ERROR;
    if (st) {
        sqlite3_bind_int64(st, 1, before_ms);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW)
            out[(*n)++] = (uint64_t)sqlite3_column_int64(st, 0);
        rc = step == SQLITE_DONE ? STORE_OK : sq_status(c, step, "deactivated_before");
        sqlite3_reset(st);
    }
    sq_release(store, c);
    return rc;
}

/* ---- export ------------------------------------------------------------- */

struct export_query {
    const char *kind;
    const char *sql; /* ?1 = user id; columns named by `columns` */
    const char *columns[6];
    enum store_field_type types[6];
};

static const struct export_query export_queries[] = {
    {"session",
     "SELECT id, created_ms, expires_ms, revoked_ms FROM sessions WHERE user_id = ?1 ORDER BY id",
     {"id", "created_at", "expires_at", "revoked_at"},
     {STORE_FIELD_ID, STORE_FIELD_TIME, STORE_FIELD_TIME, STORE_FIELD_TIME}},
    {"following",
     "SELECT followee_id, created_ms FROM follows WHERE follower_id = ?1 ORDER BY id",
     {"user_id", "created_at"},
     {STORE_FIELD_ID, STORE_FIELD_TIME}},
    {"like", "SELECT video_id, created_ms FROM likes WHERE user_id = ?1 ORDER BY created_ms",
     {"video_id", "created_at"},
     {STORE_FIELD_ID, STORE_FIELD_TIME}},
    {"comment",
     "SELECT id, video_id, text, created_ms FROM comments WHERE author_id = ?1 ORDER BY id",
     {"id", "video_id", "text", "created_at"},
     {STORE_FIELD_ID, STORE_FIELD_ID, STORE_FIELD_TEXT, STORE_FIELD_TIME}},
    {"share", "SELECT id, video_id, created_ms FROM shares WHERE user_id = ?1 ORDER BY id",
     {"id", "video_id", "created_at"},
     {STORE_FIELD_ID, STORE_FIELD_ID, STORE_FIELD_TIME}},
    {"video", "SELECT id FROM videos WHERE creator_id = ?1 ORDER BY id", {"id"}, {STORE_FIELD_ID}},
    {"interests", "SELECT hashtags FROM user_interests WHERE user_id = ?1 AND hashtags <> ''",
     {"hashtags"},
     {STORE_FIELD_TEXT}},
    {"recommendation_state",
     "SELECT saved_ms, length(state) FROM rec_sessions WHERE user_id = ?1",
     {"saved_at", "bytes"},
     {STORE_FIELD_TIME, STORE_FIELD_INT}},
    {"operator", "SELECT role, created_ms FROM operators WHERE user_id = ?1",
     {"role", "since"},
     {STORE_FIELD_TEXT, STORE_FIELD_TIME}},
};

int store_user_records(struct store *store, uint64_t user_id, store_record_fn fn, void *ctx)
{
    struct sq_conn *c = sq_acquire(store);
    int rc = STORE_OK;
    /* One read transaction: a consistent picture of the user's records. */
    if (sq_read_begin(c, "user_records") != STORE_OK) {
        sq_release(store, c);
        return STORE_ERROR;
    }
    for (size_t q = 0; q < sizeof export_queries / sizeof export_queries[0] && rc == STORE_OK;
         q++) {
        const struct export_query *eq = &export_queries[q];
        sqlite3_stmt *st = sq_stmt(c, eq->sql);
        if (!st) {
            rc = STORE_ERROR;
            break;
        }
        sqlite3_bind_int64(st, 1, (sqlite3_int64)user_id);
        int step;
        while (rc == STORE_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
            struct store_field fields[6];
            int n = 0;
            for (; n < 6 && eq->columns[n]; n++) {
                fields[n].name = eq->columns[n];
                fields[n].type = eq->types[n];
                fields[n].text = eq->types[n] == STORE_FIELD_TEXT
                                     ? (const char *)sqlite3_column_text(st, n)
                                     : NULL;
                fields[n].value = sqlite3_column_int64(st, n);
                if (fields[n].type == STORE_FIELD_TEXT && !fields[n].text)
                    fields[n].text = "";
            }
            int user_rc = fn(ctx, eq->kind, fields, n);
            if (user_rc)
                rc = user_rc;
        }
        if (rc == STORE_OK && step != SQLITE_DONE)
            rc = sq_status(c, step, "user_records");
        sqlite3_reset(st);
    }
    rc = sq_read_end(c, rc, "user_records");
    sq_release(store, c);
    return rc;
}

/* ---- erasure ------------------------------------------------------------ */

static const char SQL_USER_EXISTS[] = "SELECT 1 FROM users WHERE id = ?1";
static const char SQL_MY_LIKES[] = "SELECT video_id FROM likes WHERE user_id = ?1";
static const char SQL_MY_COMMENTS[] = "SELECT video_id FROM comments WHERE author_id = ?1";
static const char SQL_MY_SHARES[] = "SELECT video_id FROM shares WHERE user_id = ?1";
static const char SQL_MY_FOLLOWS[] = "SELECT followee_id FROM follows WHERE follower_id = ?1";
static const char SQL_MY_VIDEOS[] = "SELECT id FROM videos WHERE creator_id = ?1";
static const char SQL_LOCAL_VIDEO_COUNTER[] =
    "UPDATE videos SET likes = likes + (?2 = 1) * ?3, comments = comments + (?2 = 2) * ?3, "
    "shares = shares + (?2 = 3) * ?3 WHERE id = ?1";
static const char SQL_LOCAL_FOLLOWERS[] =
    "UPDATE users SET followers = followers + ?2 WHERE id = ?1";
static const char SQL_OUTBOX_INSERT[] =
    "INSERT INTO counter_outbox (id, target_id, counter, delta) VALUES (?1, ?2, ?3, ?4)";
static const char SQL_HASHTAGS_UNCOUNT[] =
    "UPDATE hashtags SET videos = videos - 1 WHERE tag IN "
    "(SELECT tag FROM video_hashtags WHERE video_id = ?1)";

static const char *const purge_deletes[] = {
    "DELETE FROM likes WHERE user_id = ?1",
    "DELETE FROM comments WHERE author_id = ?1",
    "DELETE FROM shares WHERE user_id = ?1",
    "DELETE FROM follows WHERE follower_id = ?1",
    "DELETE FROM videos WHERE creator_id = ?1",
    "DELETE FROM sessions WHERE user_id = ?1",
    "DELETE FROM operators WHERE user_id = ?1",
    "DELETE FROM user_interests WHERE user_id = ?1",
    "DELETE FROM rec_sessions WHERE user_id = ?1",
    "DELETE FROM users WHERE id = ?1",
};

/* Moves one counter of a target by -1: in this store if the target lives
 * here, else through an outbox delta for the caller to apply. */
static int uncount(struct sq_conn *c, uint64_t home_region, uint64_t target, int counter)
{
    if (id_region(target) == home_region) {
        if (counter == STORE_COUNTER_USER_FOLLOWERS)
            return exec_ids(c, SQL_LOCAL_FOLLOWERS, (int64_t)target, -1, "uncount_followers");
        sqlite3_stmt *st = sq_stmt(c, SQL_LOCAL_VIDEO_COUNTER);
        if (!st)
            return STORE_ERROR;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)target);
        sqlite3_bind_int(st, 2, counter);
        sqlite3_bind_int(st, 3, -1);
        int rc = sq_status(c, sqlite3_step(st), "uncount_video");
        sqlite3_reset(st);
        return rc;
    }
    sqlite3_stmt *st = sq_stmt(c, SQL_OUTBOX_INSERT);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id_next((unsigned)home_region));
    sqlite3_bind_int64(st, 2, (sqlite3_int64)target);
    sqlite3_bind_int(st, 3, counter);
    sqlite3_bind_int64(st, 4, -1);
    int rc = sq_status(c, sqlite3_step(st), "outbox_insert");
    sqlite3_reset(st);
    return rc;
}

/* For each row of `sql` (one id column), applies uncount(counter). */
static int uncount_each(struct sq_conn *c, const char *sql, uint64_t user_id, int counter)
{
    sqlite3_stmt *st = sq_stmt(c, sql);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)user_id);
    /* Collect first: the updates below must not run under an open SELECT
     * on the same table. */
    uint64_t targets[256];
    int rc = STORE_OK;
    for (;;) {
        size_t n = 0;
        int step;
        while (n < 256 && (step = sqlite3_step(st)) == SQLITE_ROW)
            targets[n++] = (uint64_t)sqlite3_column_int64(st, 0);
        bool more = n == 256;
        if (!more && step != SQLITE_DONE) {
            rc = sq_status(c, step, "purge_scan");
            break;
        }
        for (size_t i = 0; i < n && rc == STORE_OK; i++)
            rc = uncount(c, id_region(user_id), targets[i], counter);
        if (!more || rc != STORE_OK)
            break;
    }
    sqlite3_reset(st);
    return rc;
}

static int checkpoint(struct store *store, struct sq_conn *c)
{
    int rc = STORE_OK;
    if (sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL) !=
        SQLITE_OK) {
        log_warn("event=checkpoint_busy db=%s (the WAL is truncated at the next checkpoint)",
                 store->path);
        rc = STORE_ERROR;
    }
    pthread_mutex_lock(&store->repl_lock);
    for (int i = 0; i < store->replica_count; i++)
        if (store->replicas[i].healthy)
            sqlite3_wal_checkpoint_v2(store->replicas[i].db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
                                      NULL, NULL);
    pthread_mutex_unlock(&store->repl_lock);
    return rc;
}

int store_checkpoint(struct store *store)
{
    struct sq_conn *c = sq_acquire(store);
    int rc = checkpoint(store, c);
    sq_release(store, c);
    return rc;
}

static void compact(struct store *store, struct sq_conn *c)
{
    /* FTS5 keeps superseded index segments until merged; merge them all. */
    sq_exec(c, "INSERT INTO videos_fts(videos_fts) VALUES ('optimize')");
    pthread_mutex_lock(&store->repl_lock);
    for (int i = 0; i < store->replica_count; i++)
        if (store->replicas[i].healthy)
            sqlite3_exec(store->replicas[i].db,
                         "INSERT INTO videos_fts(videos_fts) VALUES ('optimize')", NULL, NULL,
                         NULL);
    pthread_mutex_unlock(&store->repl_lock);
    checkpoint(store, c);
}

int store_user_purge(struct store *store, uint64_t user_id,
                     void (*on_video)(void *ctx, uint64_t video_id), void *ctx)
{
    struct sq_conn *c = sq_acquire(store);
    int rc = sq_txn_begin(store, c);
    if (rc != STORE_OK)
        goto out;
    sqlite3_stmt *st = sq_stmt(c, SQL_USER_EXISTS);
    if (!st) {
        rc = STORE_ERROR;
        goto rollback;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)user_id);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_ROW) {
        rc = step == SQLITE_DONE ? STORE_NOTFOUND : sq_status(c, step, "purge_user");
        goto rollback;
    }
    if ((rc = uncount_each(c, SQL_MY_LIKES, user_id, STORE_COUNTER_VIDEO_LIKES)) != STORE_OK ||
        (rc = uncount_each(c, SQL_MY_COMMENTS, user_id, STORE_COUNTER_VIDEO_COMMENTS)) !=
            STORE_OK ||
        (rc = uncount_each(c, SQL_MY_SHARES, user_id, STORE_COUNTER_VIDEO_SHARES)) != STORE_OK ||
        (rc = uncount_each(c, SQL_MY_FOLLOWS, user_id, STORE_COUNTER_USER_FOLLOWERS)) != STORE_OK)
        goto rollback;
    /* Videos: uncount their hashtags, tell the caller, then delete below. */
    st = sq_stmt(c, SQL_MY_VIDEOS);
    if (!st) {
        rc = STORE_ERROR;
        goto rollback;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)user_id);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        uint64_t video = (uint64_t)sqlite3_column_int64(st, 0);
        if (on_video)
            on_video(ctx, video);
        if ((rc = exec_ids(c, SQL_HASHTAGS_UNCOUNT, (int64_t)video, 0, "purge_hashtags")) !=
            STORE_OK)
            break;
    }
    sqlite3_reset(st);
    if (rc != STORE_OK || (step != SQLITE_DONE && step != SQLITE_ROW)) {
        rc = rc != STORE_OK ? rc : STORE_ERROR;
        goto rollback;
    }
    for (size_t i = 0; i < sizeof purge_deletes / sizeof purge_deletes[0]; i++)
        if ((rc = exec_ids(c, purge_deletes[i], (int64_t)user_id, 0, "purge_delete")) != STORE_OK)
            goto rollback;
    rc = exec_ids(c, "DELETE FROM hashtags WHERE videos <= 0", 0, 0, "purge_hashtags_empty");
    if (rc != STORE_OK)
        goto rollback;
    rc = sq_txn_commit(store, c);
    if (rc == STORE_OK)
        compact(store, c);
    goto out;
rollback:
    sq_txn_rollback(store, c);
out:
    sq_release(store, c);
    return rc;
}

static const char SQL_FOLLOWERS_UNCOUNT[] =
    "UPDATE users SET following = following - 1 WHERE id IN "
    "(SELECT follower_id FROM follows WHERE followee_id = ?1)";
static const char SQL_FOLLOWS_TO_DELETE[] = "DELETE FROM follows WHERE followee_id = ?1";
static const char SQL_VIDEO_LIKES_DELETE[] = "DELETE FROM likes WHERE video_id = ?1";
static const char SQL_VIDEO_COMMENTS_DELETE[] = "DELETE FROM comments WHERE video_id = ?1";
static const char SQL_VIDEO_SHARES_DELETE[] = "DELETE FROM shares WHERE video_id = ?1";

struct references {
    uint64_t user_id;
    const uint64_t *video_ids;
    size_t video_count;
};

static int erase_references(struct store *store, struct sq_conn *c, void *arg)
{
    (void)store;
    const struct references *r = arg;
    int rc;
    if ((rc = exec_ids(c, SQL_FOLLOWERS_UNCOUNT, (int64_t)r->user_id, 0, "erase_refs")) !=
            STORE_OK ||
        (rc = exec_ids(c, SQL_FOLLOWS_TO_DELETE, (int64_t)r->user_id, 0, "erase_refs")) !=
            STORE_OK)
        return rc;
    static const char *const per_video[] = {SQL_VIDEO_LIKES_DELETE, SQL_VIDEO_COMMENTS_DELETE,
                                            SQL_VIDEO_SHARES_DELETE};
    for (size_t i = 0; i < r->video_count; i++)
        for (size_t k = 0; k < 3; k++)
            if ((rc = exec_ids(c, per_video[k], (int64_t)r->video_ids[i], 0, "erase_refs")) !=
                STORE_OK)
                return rc;
    return STORE_OK;
}

int store_erase_references(struct store *store, uint64_t user_id, const uint64_t *video_ids,
                           size_t video_count)
{
    struct references r = {user_id, video_ids, video_count};
    return sq_write(store, erase_references, &r);
}
