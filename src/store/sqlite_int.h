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
#include <stdbool.h>
#include <stdint.h>
/* Debian's libsqlite3 is built with the session extension (used for
 * replication); its declarations are only visible with these defined. */
#define SQLITE_ENABLE_SESSION 1
#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#include <sqlite3.h>

#define SQ_STMT_SLOTS 256 /* per connection; open addressing on the SQL pointer */

#define SQ_CHANGED_MAX 65536 /* rows remembered per transaction for the change hook */

/* A row the change hook was told about, to tell again once its transaction
 * is over. */
struct sq_changed {
    uint64_t id;
    uint8_t row;     /* enum store_row */
    bool deleted;
};

struct sq_conn {
    sqlite3 *db;
    struct store *store;
    /* Rows changed in the current transaction (store_set_change_hook), told
     * again when it ends (sq_flush_changed); past SQ_CHANGED_MAX, or out of
     * memory, STORE_ROW_ALL instead. */
    struct sq_changed *changed;
    unsigned changed_count, changed_cap;
    bool changed_overflow;
    const char *stmt_sql[SQ_STMT_SLOTS];
    sqlite3_stmt *stmt[SQ_STMT_SLOTS];
    sqlite3_session *session; /* the changeset of the open write transaction */
    bool batch;               /* holds a batch (store_batch_begin): out of the pool */
    struct sq_conn *next_free;
};

struct sq_replica {
    char path[600];
    sqlite3 *db;       /* one connection; writes to it are serialised by repl_lock */
    bool healthy;
};

struct store {
    enum store_kind kind;
    char path[600];
    struct sq_conn *conns;
    int conn_count;
    struct sq_conn *free_list;
    pthread_mutex_t lock;
    pthread_cond_t available;
    bool has_field_key;
    unsigned char field_key[STORE_FIELD_KEY_BYTES];
    struct sq_replica replicas[STORE_MAX_REPLICAS];
    int replica_count;
    pthread_mutex_t repl_lock;
    store_change_fn on_change;
    void *on_change_ctx;
    /* store_batch_begin's connection, out of the pool until store_batch_end:
     * sq_acquire hands it to batch_owner's calls, and their write
     * transactions are savepoints in the batch's. */
    struct sq_conn *batch;
    pthread_t batch_owner;
};

/* Tells the change hook again about the rows changed on conn since the
 * last call: after COMMIT or ROLLBACK (sq_txn_*), and when the connection is
 * given back (autocommit writes). */
void sq_flush_changed(struct sq_conn *conn);
/* Tells the change hook about a row the update hook cannot see (likes has
 * no rowid): now, and again after the transaction. */
void sq_note_changed(struct sq_conn *conn, enum store_row row, uint64_t id, bool deleted);
/* Borrows a connection, waiting if all are in use. Never NULL. The thread
 * that holds a batch (store_batch_begin) always gets the batch's. */
struct sq_conn *sq_acquire(struct store *store);
/* Returns a connection to the pool. */
void sq_release(struct store *store, struct sq_conn *conn);
/* The cached statement for `sql` (a string literal: its address is the key),
 * reset and unbound; NULL on error (logged). */
sqlite3_stmt *sq_stmt(struct sq_conn *conn, const char *sql);
/* mkdir -p with mode 0700. Returns 0 or -1 (errno set). */
int sq_make_dirs(const char *path);
/* Runs SQL without results (BEGIN, COMMIT...). Returns SQLITE_OK or the code. */
int sq_exec(struct sq_conn *conn, const char *sql);
/* Read transactions: several reads from one snapshot, taking the WAL read
 * lock once rather than once per statement. sq_read_begin returns a STORE_*
 * status; sq_read_end ends the transaction (never left open on the pooled
 * connection) and returns rc, or the error of ending it if rc was STORE_OK. */
int sq_read_begin(struct sq_conn *conn, const char *what);
int sq_read_end(struct sq_conn *conn, int rc, const char *what);
/* Maps an SQLite result code to a STORE_* status, logging unexpected ones. */
int sq_status(struct sq_conn *conn, int rc, const char *what);
/* Write transactions. Every change to a region store goes through these so
 * that it reaches the replicas: sq_txn_begin takes the write lock (BEGIN
 * IMMEDIATE) and starts recording a changeset; sq_txn_commit applies the
 * changeset to every healthy replica, then commits here. Both return a
 * STORE_* status; after a failed commit the transaction is rolled back. On
 * a batch's connection they are a savepoint and its release instead (the
 * batch replicates and commits at store_batch_end), and sq_read_begin and
 * sq_read_end do nothing (the batch's transaction is the read's). */
int sq_txn_begin(struct store *store, struct sq_conn *conn);
int sq_txn_commit(struct store *store, struct sq_conn *conn);
void sq_txn_rollback(struct store *store, struct sq_conn *conn);
/* Opens the replicas and copies the primary into each one that is missing,
 * stale or diverged. Called once by store_open, before the pool is in use. */
/* Runs fn(store, conn, ctx) inside one replicated write transaction on a
 * borrowed connection: committed when fn returns STORE_OK, rolled back
 * otherwise. Returns fn's status, or the commit's. */
typedef int (*sq_write_fn)(struct store *store, struct sq_conn *conn, void *ctx);
int sq_write(struct store *store, sq_write_fn fn, void *ctx);
/* Steps the cached statement `sql` once with integer parameters ?1..?n.
 * Returns STORE_OK; STORE_NOTFOUND when it changed no row and
 * notfound_if_none is set; or the error (logged as `what`). */
int sq_step_ints(struct sq_conn *conn, const char *sql, const char *what, bool notfound_if_none,
                 int n, const int64_t *params);
int sq_replicas_open(struct store *store, const struct store_options *opts, char *err,
                     size_t errlen);
void sq_replicas_close(struct store *store);

/* Encrypted fields (store_sqlite_crypt.c). A sealed value is bound to its
 * column and row so it cannot be moved to another row or column unnoticed:
 *
 *   offset  size  field
 *   0       1     format version (1)
 *   1       24    XChaCha20-Poly1305 nonce
 *   25      n+16  ciphertext of the n-byte value, with its tag
 *
 * sq_bind_sealed binds the sealed form of `text` (SQLITE_TRANSIENT);
 * sq_column_opened decrypts column `col` into out (NUL-terminated), returning
 * STORE_OK or STORE_ERROR (wrong key, tampered or truncated value). */
int sq_bind_sealed(struct store *store, sqlite3_stmt *stmt, int col, const char *column,
                   uint64_t row_id, const char *text);
int sq_column_opened(struct store *store, sqlite3_stmt *stmt, int col, const char *column,
                     uint64_t row_id, char *out, size_t size);

/* Copies column `col` (TEXT) into a fixed buffer, truncating safely. */
void sq_column_text(sqlite3_stmt *stmt, int col, char *out, size_t size);
/* Binds a NUL-terminated string (SQLITE_STATIC: must outlive the step). */
int sq_bind_text(sqlite3_stmt *stmt, int col, const char *text);

/* Steps a statement that returns no rows and resets it. A foreign key
 * failure (a referenced user or video is not in this store) is
 * STORE_NOTFOUND. */
int sq_step_done(struct sq_conn *conn, sqlite3_stmt *stmt, const char *what);
/* Steps a query whose first column is an id, writing up to limit ids. */
int sq_collect_ids(struct sq_conn *conn, sqlite3_stmt *stmt, uint64_t *out, size_t limit,
                   size_t *n, const char *what);
/* The public user columns (username, display_name, bio, status, created_ms,
 * followers, following, videos) from column `col` on, into *out. */
#define SQ_USER_CARD_COLUMNS(u)                                                                  \
    u ".username, " u ".display_name, " u ".bio, " u ".status, " u ".created_ms, " u           \
    ".followers, " u ".following, " u ".videos"
void sq_read_user_card(sqlite3_stmt *stmt, int col, uint64_t id, struct store_user *out);
/* The SQL bound for "ids below before" (0 = no bound). */
int64_t sq_bound_before(uint64_t before);

#endif
