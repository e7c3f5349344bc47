/*
 * store_sqlite_users.c — users and sessions in a region site's SQLite store.
 * Every value is bound as a parameter: user text is stored literally.
 */
#include "store/sqlite_int.h"

#include <stdbool.h>
#include <string.h>

static const char SQL_USER_INSERT[] =
    "INSERT INTO users (id, username, display_name, bio, email, country, password_hash,"
    " status, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
static const char SQL_SESSION_INSERT[] =
    "INSERT INTO sessions (id, user_id, token_hash, created_ms, expires_ms) VALUES (?1, ?2, ?3, "
    "?4, ?5)";
static const char SQL_USER_GET[] =
    "SELECT id, username, display_name, bio, email, country, password_hash, status, created_ms,"
    " followers, following, videos FROM users WHERE id = ?1";
static const char SQL_USER_UPDATE_PROFILE[] =
    "UPDATE users SET display_name = coalesce(?2, display_name), bio = coalesce(?3, bio)"
    " WHERE id = ?1";
static const char SQL_SESSION_GET[] =
    "SELECT id, user_id, token_hash, created_ms, expires_ms, revoked_ms FROM sessions WHERE id = ?1";
static const char SQL_SESSION_REVOKE[] =
    "UPDATE sessions SET revoked_ms = ?2 WHERE id = ?1 AND revoked_ms = 0";

static int insert_session(struct sq_conn *c, const struct store_session *s)
{
    sqlite3_stmt *st = sq_stmt(c, SQL_SESSION_INSERT);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)s->id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)s->user_id);
    sqlite3_bind_blob(st, 3, s->token_hash, sizeof s->token_hash, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, s->created_ms);
    sqlite3_bind_int64(st, 5, s->expires_ms);
    int rc = sq_status(c, sqlite3_step(st), "session_insert");
    sqlite3_reset(st);
    return rc;
}

int store_user_create(struct store *store, const struct store_user *u,
                      const struct store_session *session)
{
    struct sq_conn *c = sq_acquire(store);
    int rc = sq_txn_begin(store, c);
    if (rc != STORE_OK)
        goto out;
    sqlite3_stmt *st = sq_stmt(c, SQL_USER_INSERT);
    if (!st) {
        rc = STORE_ERROR;
        goto rollback;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)u->id);
    sq_bind_text(st, 2, u->username);
    sq_bind_text(st, 3, u->display_name);
    sq_bind_text(st, 4, u->bio);
    if (sq_bind_sealed(store, st, 5, "email", u->id, u->email) != STORE_OK ||
        sq_bind_sealed(store, st, 7, "password_hash", u->id, u->password_hash) != STORE_OK) {
        sqlite3_reset(st);
        rc = STORE_ERROR;
        goto rollback;
    }
    sq_bind_text(st, 6, u->country);
    sqlite3_bind_int(st, 8, u->status);
    sqlite3_bind_int64(st, 9, u->created_ms);
    rc = sq_status(c, sqlite3_step(st), "user_insert");
    sqlite3_reset(st);
    if (rc != STORE_OK)
        goto rollback;
    if (session && (rc = insert_session(c, session)) != STORE_OK)
        goto rollback;
    rc = sq_txn_commit(store, c);
    goto out;
rollback:
    sq_txn_rollback(store, c);
out:
    sq_release(store, c);
    return rc;
}

static int user_get(struct store *store, uint64_t id, struct store_user *out, bool private_fields)
{
    struct sq_conn *c = sq_acquire(store);
    sqlite3_stmt *st = sq_stmt(c, SQL_USER_GET);
    int rc = STORE_ERROR;
    if (!st)
        goto out;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        out->id = (uint64_t)sqlite3_column_int64(st, 0);
        sq_column_text(st, 1, out->username, sizeof out->username);
        sq_column_text(st, 2, out->display_name, sizeof out->display_name);
        sq_column_text(st, 3, out->bio, sizeof out->bio);
        sq_column_text(st, 5, out->country, sizeof out->country);
        out->status = sqlite3_column_int(st, 7);
        out->created_ms = sqlite3_column_int64(st, 8);
        out->followers = sqlite3_column_int64(st, 9);
        out->following = sqlite3_column_int64(st, 10);
        out->videos = sqlite3_column_int64(st, 11);
        out->email[0] = out->password_hash[0] = '\0';
        rc = STORE_OK;
        if (private_fields &&
            (sq_column_opened(store, st, 4, "email", out->id, out->email, sizeof out->email) !=
                 STORE_OK ||
             sq_column_opened(store, st, 6, "password_hash", out->id, out->password_hash,
                              sizeof out->password_hash) != STORE_OK))
            rc = STORE_ERROR;
    } else {
        rc = step == SQLITE_DONE ? STORE_NOTFOUND : sq_status(c, step, "user_get");
    }
    sqlite3_reset(st);
out:
    sq_release(store, c);
    return rc;
}

int store_user_get(struct store *store, uint64_t id, struct store_user *out)
{
    return user_get(store, id, out, true);
}

int store_user_get_public(struct store *store, uint64_t id, struct store_user *out)
{
    return user_get(store, id, out, false);
}

struct profile_update {
    uint64_t id;
    const char *display_name, *bio;
};

static int update_profile(struct store *store, struct sq_conn *c, void *arg)
{
    (void)store;
    const struct profile_update *u = arg;
    sqlite3_stmt *st = sq_stmt(c, SQL_USER_UPDATE_PROFILE);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)u->id);
    if (u->display_name)
        sq_bind_text(st, 2, u->display_name);
    if (u->bio)
        sq_bind_text(st, 3, u->bio);
    int rc = sq_status(c, sqlite3_step(st), "user_update_profile");
    if (rc == STORE_OK && sqlite3_changes(c->db) == 0)
        rc = STORE_NOTFOUND;
    sqlite3_reset(st);
    return rc;
}

int store_user_update_profile(struct store *store, uint64_t id, const char *display_name,
                              const char *bio)
{
    struct profile_update u = {id, display_name, bio};
    return sq_write(store, update_profile, &u);
}

static int create_session(struct store *store, struct sq_conn *c, void *arg)
{
    (void)store;
    return insert_session(c, arg);
}

int store_session_create(struct store *store, const struct store_session *session)
{
    return sq_write(store, create_session, (void *)session);
}

int store_session_get(struct store *store, uint64_t id, struct store_session *out)
{
    struct sq_conn *c = sq_acquire(store);
    sqlite3_stmt *st = sq_stmt(c, SQL_SESSION_GET);
    int rc = STORE_ERROR;
    if (!st)
        goto out;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        out->id = (uint64_t)sqlite3_column_int64(st, 0);
        out->user_id = (uint64_t)sqlite3_column_int64(st, 1);
        const void *hash = sqlite3_column_blob(st, 2);
        int len = sqlite3_column_bytes(st, 2);
        memset(out->token_hash, 0, sizeof out->token_hash);
        if (hash && len == (int)sizeof out->token_hash)
            memcpy(out->token_hash, hash, sizeof out->token_hash);
        out->created_ms = sqlite3_column_int64(st, 3);
        out->expires_ms = sqlite3_column_int64(st, 4);
        out->revoked_ms = sqlite3_column_int64(st, 5);
        rc = STORE_OK;
    } else {
        rc = step == SQLITE_DONE ? STORE_NOTFOUND : sq_status(c, step, "session_get");
    }
    sqlite3_reset(st);
out:
    sq_release(store, c);
    return rc;
}

struct revoke {
    uint64_t id;
    int64_t now_ms;
};

static int revoke_session(struct store *store, struct sq_conn *c, void *arg)
{
    (void)store;
    const struct revoke *r = arg;
    const int64_t params[] = {(int64_t)r->id, r->now_ms};
    return sq_step_ints(c, SQL_SESSION_REVOKE, "session_revoke", true, 2, params);
}

int store_session_revoke(struct store *store, uint64_t id, int64_t now_ms)
{
    struct revoke r = {id, now_ms};
    return sq_write(store, revoke_session, &r);
}
