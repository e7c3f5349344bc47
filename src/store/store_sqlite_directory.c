/*
 * store_sqlite_directory.c — the public username directory (directory.db).
 * Usernames compare case-insensitively (COLLATE NOCASE on the key), so
 * "Alice" and "alice" cannot both exist.
 */
#include "store/sqlite_int.h"

#include <string.h>

static const char SQL_DIR_INSERT[] = "INSERT INTO usernames (username, user_id) VALUES (?1, ?2)";
static const char SQL_DIR_LOOKUP[] = "SELECT user_id FROM usernames WHERE username = ?1";
static const char SQL_DIR_DELETE[] = "DELETE FROM usernames WHERE username = ?1 AND user_id = ?2";

int store_directory_reserve(struct store *dir, const char *username, uint64_t user_id)
{
    struct sq_conn *c = sq_acquire(dir);
    sqlite3_stmt *st = sq_stmt(c, SQL_DIR_INSERT);
    int rc = STORE_ERROR;
    if (st) {
        sq_bind_text(st, 1, username);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)user_id);
        rc = sq_status(c, sqlite3_step(st), "directory_reserve");
        sqlite3_reset(st);
    }
    sq_release(dir, c);
    return rc;
}

int store_directory_lookup(struct store *dir, const char *username, uint64_t *user_id)
{
    struct sq_conn *c = sq_acquire(dir);
    sqlite3_stmt *st = sq_stmt(c, SQL_DIR_LOOKUP);
    int rc = STORE_ERROR;
    if (st) {
        sq_bind_text(st, 1, username);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            *user_id = (uint64_t)sqlite3_column_int64(st, 0);
            rc = STORE_OK;
        } else {
            rc = step == SQLITE_DONE ? STORE_NOTFOUND : sq_status(c, step, "directory_lookup");
        }
        sqlite3_reset(st);
    }
    sq_release(dir, c);
    return rc;
}

int store_directory_release(struct store *dir, const char *username, uint64_t user_id)
{
    struct sq_conn *c = sq_acquire(dir);
    sqlite3_stmt *st = sq_stmt(c, SQL_DIR_DELETE);
    int rc = STORE_ERROR;
    if (st) {
        sq_bind_text(st, 1, username);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)user_id);
        rc = sq_status(c, sqlite3_step(st), "directory_release");
        if (rc == STORE_OK && sqlite3_changes(c->db) == 0)
            rc = STORE_NOTFOUND;
        sqlite3_reset(st);
    }
    sq_release(dir, c);
    return rc;
}

static const char SQL_DIR_PREFIX[] =
    "SELECT user_id FROM usernames WHERE username >= ?1 AND username < ?2"
    " ORDER BY username LIMIT ?3";

int store_directory_prefix(struct store *dir, const char *prefix, size_t limit, uint64_t *out,
                           size_t *n)
{
    /* Usernames use [A-Za-z0-9_.]; under NOCASE they compare as lower case,
     * and '~' sorts above all of those, so [prefix, prefix~) is the range. */
    char upper[STORE_USERNAME_MAX + 2];
    size_t len = strlen(prefix);
    *n = 0;
    if (len == 0 || len >= STORE_USERNAME_MAX)
        return STORE_OK;
    memcpy(upper, prefix, len);
    upper[len] = '~';
    upper[len + 1] = '\0';
    struct sq_conn *c = sq_acquire(dir);
    sqlite3_stmt *st = sq_stmt(c, SQL_DIR_PREFIX);
    int rc = STORE_ERROR;
    if (st) {
        sq_bind_text(st, 1, prefix);
        sq_bind_text(st, 2, upper);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
        rc = sq_collect_ids(c, st, out, limit, n, "directory_prefix");
    }
    sq_release(dir, c);
    return rc;
}
