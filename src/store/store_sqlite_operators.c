/*
 * store_sqlite_operators.c — operator roles in a region store.
 */
#include "store/sqlite_int.h"

#include <string.h>

static const char SQL_OP_INSERT[] =
    "INSERT INTO operators (user_id, role, created_ms) SELECT id, ?2, ?3 FROM users WHERE id = ?1";
static const char SQL_OP_GET[] = "SELECT role FROM operators WHERE user_id = ?1";

static const char *const role_names[] = {"", "custodian", "moderator", "support"};

const char *store_role_name(enum store_role role)
{
    return role > STORE_ROLE_NONE && role <= STORE_ROLE_SUPPORT ? role_names[role] : "none";
}

enum store_role store_role_parse(const char *name)
{
    for (int r = STORE_ROLE_CUSTODIAN; r <= STORE_ROLE_SUPPORT; r++)
        if (strcmp(name, role_names[r]) == 0)
            return (enum store_role)r;
    return STORE_ROLE_NONE;
}

int store_operator_grant(struct store *store, uint64_t user_id, enum store_role role,
                         int64_t now_ms)
{
    if (role == STORE_ROLE_NONE)
        return STORE_ERROR;
    struct sq_conn *c = sq_acquire(store);
    int rc = sq_txn_begin(store, c);
    if (rc != STORE_OK)
        goto out;
    sqlite3_stmt *st = sq_stmt(c, SQL_OP_INSERT);
    if (!st) {
        rc = STORE_ERROR;
        goto rollback;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)user_id);
    sq_bind_text(st, 2, store_role_name(role));
    sqlite3_bind_int64(st, 3, now_ms);
    rc = sq_status(c, sqlite3_step(st), "operator_grant");
    if (rc == STORE_OK && sqlite3_changes(c->db) == 0)
        rc = STORE_NOTFOUND;
    sqlite3_reset(st);
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

int store_operator_get(struct store *store, uint64_t user_id, enum store_role *role)
{
    struct sq_conn *c = sq_acquire(store);
    sqlite3_stmt *st = sq_stmt(c, SQL_OP_GET);
    int rc = STORE_ERROR;
    if (st) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)user_id);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            *role = store_role_parse((const char *)sqlite3_column_text(st, 0));
            rc = STORE_OK;
        } else {
            rc = step == SQLITE_DONE ? STORE_NOTFOUND : sq_status(c, step, "operator_get");
        }
        sqlite3_reset(st);
    }
    sq_release(store, c);
    return rc;
}
