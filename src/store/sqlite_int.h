/*
 * sqlite_int.h — internals shared by the SQLite backend's files
 * (store_sqlite*.c). Nothing outside store/ includes this.
 *
 * A store owns a fixed pool of connections. A call borrows one with
 * sq_acquire, uses cached prepared statements from sq_stmt (prepared once per
 * connection, keyed by the address of the SQL string literal) and gives it
 * back with sq_release. Statements come back reset with bindings cleared.
 */
#ifndef REEL_STORE_SQLITE_INT_H
#define REEL_STORE_SQLITE_INT_H

#include "store/store.h"

#include <pthread.h>
#include <sqlite3.h>

#define SQ_STMT_SLOTS 256 /* per connection; open addressing on the SQL pointer */

struct sq_conn {
    sqlite3 *db;
    const char *stmt_sql[SQ_STMT_SLOTS];
    sqlite3_stmt *stmt[SQ_STMT_SLOTS];
    struct sq_conn *next_free;
};

struct store {
    enum store_kind kind;
    char path[600];
    struct sq_conn *conns;
    int conn_count;
    struct sq_conn *free_list;
    pthread_mutex_t lock;
    pthread_cond_t available;
};

/* Borrows a connection, waiting if all are in use. Never NULL. */
struct sq_conn *sq_acquire(struct store *store);
/* Returns a connection to the pool. */
void sq_release(struct store *store, struct sq_conn *conn);
/* The cached statement for `sql` (a string literal: its address is the key),
 * reset and unbound; NULL on error (logged). */
sqlite3_stmt *sq_stmt(struct sq_conn *conn, const char *sql);
/* Runs SQL without results (BEGIN, COMMIT...). Returns SQLITE_OK or the code. */
int sq_exec(struct sq_conn *conn, const char *sql);
/* Maps an SQLite result code to a STORE_* status, logging unexpected ones. */
int sq_status(struct sq_conn *conn, int rc, const char *what);
/* Copies column `col` (TEXT) into a fixed buffer, truncating safely. */
void sq_column_text(sqlite3_stmt *stmt, int col, char *out, size_t size);
/* Binds a NUL-terminated string (SQLITE_STATIC: must outlive the step). */
int sq_bind_text(sqlite3_stmt *stmt, int col, const char *text);

#endif
