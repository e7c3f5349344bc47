/*
 * store_sqlite_rec.c — what the recommendation engine keeps in a user's home
 * store: the interests the user picked (cold start) and the engine's spilled
 * session state (seen filter, recent engagements) of users idle long enough
 * to leave memory. Both are personal data: exported and erased with the
 * account (store_sqlite_privacy.c), replicated only to the region's sites.
 */
#include "store/sqlite_int.h"

#include <string.h>

static const char SQL_INTERESTS_SET[] =
    "INSERT INTO user_interests (user_id, hashtags) VALUES (?1, ?2)"
    " ON CONFLICT (user_id) DO UPDATE SET hashtags = excluded.hashtags";
static const char SQL_INTERESTS_GET[] = "SELECT hashtags FROM user_interests WHERE user_id = ?1";
static const char SQL_INTERESTS_SCAN[] =
    "SELECT user_id, hashtags FROM user_interests WHERE user_id > ?1 ORDER BY user_id LIMIT 64";
static const char SQL_STATE_SAVE[] =
    "INSERT INTO rec_sessions (user_id, state, saved_ms) VALUES (?1, ?2, ?3)"
    " ON CONFLICT (user_id) DO UPDATE SET state = excluded.state, saved_ms = excluded.saved_ms";
static const char SQL_STATE_LOAD[] = "SELECT state FROM rec_sessions WHERE user_id = ?1";
static const char SQL_STATE_ERASE[] = "DELETE FROM rec_sessions WHERE user_id = ?1";
static const char SQL_STATE_SCAN[] =
    "SELECT user_id, state FROM rec_sessions WHERE user_id > ?1 ORDER BY user_id LIMIT 64";

struct interests_set {
    uint64_t user_id;
    const char *hashtags;
};

/* Cleared interests stay as an empty row: at start the engine is told
 * every user's interests, cleared ones included, so a snapshot taken before
 * the clearing cannot bring them back. The row goes with the account. */
static int set_interests(struct store *store, struct sq_conn *c, void *arg)
{
    (void)store;
    const struct interests_set *s = arg;
    sqlite3_stmt *st = sq_stmt(c, SQL_INTERESTS_SET);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)s->user_id);
    sqlite3_bind_text(st, 2, s->hashtags, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return step == SQLITE_DONE ? STORE_OK : sq_status(c, step, "interests_set");
}

int store_user_interests_set(struct store *store, uint64_t user_id, const char *hashtags)
{
    struct interests_set s = {user_id, hashtags ? hashtags : ""};
    return sq_write(store, set_interests, &s);
}

int store_user_interests_get(struct store *store, uint64_t user_id, char *out, size_t cap)
{
    struct sq_conn *c = sq_acquire(store);
    sqlite3_stmt *st = sq_stmt(c, SQL_INTERESTS_GET);
    int rc = STORE_ERROR;
    if (cap)
        out[0] = '\0';
    if (st) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)user_id);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            const char *text = (const char *)sqlite3_column_text(st, 0);
            size_t len = text ? strlen(text) : 0;
            if (len >= cap) {
                rc = STORE_ERROR;
            } else {
                memcpy(out, text ? text : "", len + 1);
                rc = STORE_OK;
            }
        } else {
            rc = step == SQLITE_DONE ? STORE_NOTFOUND : sq_status(c, step, "interests_get");
        }
        sqlite3_reset(st);
    }
    sq_release(store, c);
    return rc;
}

/* A scan in user id order, a page of SCAN_PAGE rows per connection hold:
 * sql binds ?1 to the last user id seen and has it as column 0. Calls row
 * for each; its non-zero return stops and is returned. */
#define SCAN_PAGE 64

typedef int (*scan_row_fn)(sqlite3_stmt *st, uint64_t user_id, void *arg);

static int scan_by_user(struct store *store, const char *sql, const char *what, scan_row_fn row,
                        void *arg)
{
    uint64_t after = 0;
    for (;;) {
        struct sq_conn *c = sq_acquire(store);
        sqlite3_stmt *st = sq_stmt(c, sql);
        int rc = STORE_ERROR, rows = 0, step = SQLITE_DONE;
        if (st) {
            sqlite3_bind_int64(st, 1, (sqlite3_int64)after);
            rc = STORE_OK;
            while (rc == STORE_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
                after = (uint64_t)sqlite3_column_int64(st, 0);
                rc = row(st, after, arg);
                rows++;
            }
            if (rc == STORE_OK && step != SQLITE_ROW && step != SQLITE_DONE)
                rc = sq_status(c, step, what);
            sqlite3_reset(st);
        }
        sq_release(store, c);
        if (rc != STORE_OK || rows < SCAN_PAGE)
            return rc;
    }
}

struct interests_each {
    store_interests_fn fn;
    void *ctx;
};

static int interests_row(sqlite3_stmt *st, uint64_t user_id, void *arg)
{
    const struct interests_each *x = arg;
    const char *tags = (const char *)sqlite3_column_text(st, 1);
    return x->fn(x->ctx, user_id, tags ? tags : "");
}

int store_user_interests_each(struct store *store, store_interests_fn fn, void *ctx)
{
    struct interests_each x = {fn, ctx};
    return scan_by_user(store, SQL_INTERESTS_SCAN, "interests_scan", interests_row, &x);
}

struct state_save {
    uint64_t user_id;
    const void *blob;
    size_t len;
    int64_t now_ms;
};

static int save_state(struct store *store, struct sq_conn *c, void *arg)
{
    (void)store;
    const struct state_save *s = arg;
    sqlite3_stmt *st = sq_stmt(c, SQL_STATE_SAVE);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)s->user_id);
    sqlite3_bind_blob64(st, 2, s->blob, (sqlite3_uint64)s->len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, s->now_ms);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return step == SQLITE_DONE ? STORE_OK : sq_status(c, step, "rec_state_save");
}

int store_rec_state_save(struct store *store, uint64_t user_id, const void *blob, size_t len,
                         int64_t now_ms)
{
    struct state_save s = {user_id, blob, len, now_ms};
    return sq_write(store, save_state, &s);
}

int store_rec_state_load(struct store *store, uint64_t user_id, void *buf, size_t cap, size_t *len)
{
    struct sq_conn *c = sq_acquire(store);
    sqlite3_stmt *st = sq_stmt(c, SQL_STATE_LOAD);
    int rc = STORE_ERROR;
    *len = 0;
    if (st) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)user_id);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            size_t n = (size_t)sqlite3_column_bytes(st, 0);
            if (n <= cap) {
                if (n)
                    memcpy(buf, sqlite3_column_blob(st, 0), n);
                *len = n;
                rc = STORE_OK;
            }
        } else {
            rc = step == SQLITE_DONE ? STORE_NOTFOUND : sq_status(c, step, "rec_state_load");
        }
        sqlite3_reset(st);
    }
    sq_release(store, c);
    return rc;
}

static int erase_state(struct store *store, struct sq_conn *c, void *arg)
{
    (void)store;
    const int64_t id = *(const int64_t *)arg;
    return sq_step_ints(c, SQL_STATE_ERASE, "rec_state_erase", false, 1, &id);
}

int store_rec_state_erase(struct store *store, uint64_t user_id)
{
    int64_t id = (int64_t)user_id;
    return sq_write(store, erase_state, &id);
}

struct state_each {
    store_rec_state_fn fn;
    void *ctx;
};

static int state_row(sqlite3_stmt *st, uint64_t user_id, void *arg)
{
    const struct state_each *x = arg;
    return x->fn(x->ctx, user_id, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1));
}

int store_rec_state_each(struct store *store, store_rec_state_fn fn, void *ctx)
{
    struct state_each x = {fn, ctx};
    return scan_by_user(store, SQL_STATE_SCAN, "rec_state_scan", state_row, &x);
}
