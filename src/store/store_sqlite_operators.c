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

struct grant {
    uint64_t user_id;
    enum store_role role;
    int64_t now_ms;
};

static int grant(struct store *store, struct sq_conn *c, void *arg)
{
    (void)store;
    const struct grant *g = arg;
    sqlite3_stmt *st = sq_stmt(c, SQL_OP_INSERT);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)g->user_id);
    sq_bind_text(st, 2, store_role_name(g->role));
    sqlite3_bind_int64(st, 3, g->now_ms);
    int rc = sq_status(c, sqlite3_step(st), "operator_grant");
    if (rc == STORE_OK && sqlite3_changes(c->db) == 0)
        rc = STORE_NOTFOUND;
    sqlite3_reset(st);
    return rc;
}

int store_operator_grant(struct store *store, uint64_t user_id, enum store_role role,
                         int64_t now_ms)
{
    if (role == STORE_ROLE_NONE)
        return STORE_ERROR;
    struct grant g = {user_id, role, now_ms};
    return sq_write(store, grant, &g);
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
