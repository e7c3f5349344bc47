/*
 * store_sqlite_replica.c — synchronous replication of a region store to its
 * replica sites, and the write-transaction helpers that make it happen.
 *
 * How: every write transaction records an SQLite session changeset (the
 * session extension, built into Debian's libsqlite3). Before the primary
 * commits, while it still holds the database's single write lock, the
 * changeset is applied to every healthy replica (each its own WAL database
 * with synchronous=FULL). Only then does the primary commit, and only then is
 * the write acknowledged. So:
 *
 *   - every acknowledged write is durable on every healthy replica — a
 *     promoted replica has lost nothing that was acknowledged;
 *   - replicas see transactions in exactly the primary's commit order, since
 *     changesets are applied under the primary's write lock;
 *   - a crash between a replica's apply and the primary's commit leaves the
 *     replica one unacknowledged transaction ahead. Each transaction also
 *     bumps _replication.seq, so start-up sees the mismatch and copies the
 *     primary into the replica afresh (the online backup API).
 *
 * A replica that fails to apply a change (disk full, diverged row: the
 * changeset's conflict handler aborts) is dropped from the set and marked
 * with a STALE file in its directory: it is not promoted, and the next start
 * copies it afresh. Writes continue on the primary (availability over
 * replica count; `store_replicas_healthy` and the logs say when it happens).
 */
#include "store/sqlite_int.h"

#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char SQL_BUMP_SEQ[] = "UPDATE _replication SET seq = seq + 1 WHERE id = 1";

static void stale_marker_path(const char *db_path, char *out, size_t size)
{
    /* db_path is <dir>/reel.db */
    const char *slash = strrchr(db_path, '/');
    int dir_len = slash ? (int)(slash - db_path) : 0;
    snprintf(out, size, "%.*s/STALE", dir_len, db_path);
}

static void mark_stale(struct sq_replica *r, const char *why)
{
    char marker[640];
    stale_marker_path(r->path, marker, sizeof marker);
    int fd = open(marker, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
        if (write(fd, why, strlen(why)) < 0 || fsync(fd) < 0)
            log_error("event=replica_stale_marker_failed path=%s", marker);
        close(fd);
    }
    if (r->healthy)
        log_error("event=replica_dropped path=%s reason=\"%s\"", r->path, why);
    r->healthy = false;
}

bool store_replica_is_stale(const char *dir)
{
    char path[640];
    snprintf(path, sizeof path, "%s/STALE", dir);
    if (access(path, F_OK) == 0)
        return true;
    snprintf(path, sizeof path, "%s/reel.db", dir);
    return access(path, F_OK) != 0;
}

int store_replicas_healthy(struct store *store)
{
    pthread_mutex_lock(&store->repl_lock);
    int n = 0;
    for (int i = 0; i < store->replica_count; i++)
        n += store->replicas[i].healthy;
    pthread_mutex_unlock(&store->repl_lock);
    return n;
}

/* Full-text indexes (FTS5 "<name>_fts" tables) are left out of changesets:
 * their shadow tables (<name>_fts_data, _idx, ...) are maintained by
 * triggers on the indexed table, and applying a changeset fires the
 * replica's triggers too, so the replica's index follows its rows by itself.
 * Replaying the shadow rows as well would collide with what the triggers
 * wrote and drop the replica. */
static int replicated_table(void *ctx, const char *table)
{
    (void)ctx;
    return strstr(table, "_fts_") == NULL;
}

/* A write inside a batch (store_batch_begin) is a savepoint of the batch's
 * transaction: undone alone if it fails; replicated and committed with the
 * batch. */
static const char SQL_BATCH_WRITE[] = "SAVEPOINT batch_write";
static const char SQL_BATCH_WRITE_DONE[] = "RELEASE batch_write";
static const char SQL_BATCH_WRITE_UNDO[] = "ROLLBACK TO batch_write";

int sq_txn_begin(struct store *store, struct sq_conn *conn)
{
    if (conn->batch) {
        int rc = sq_exec(conn, SQL_BATCH_WRITE);
        return rc == SQLITE_OK ? STORE_OK : sq_status(conn, rc, "savepoint");
    }
    int rc = sq_exec(conn, "BEGIN IMMEDIATE");
    if (rc != SQLITE_OK)
        return sq_status(conn, rc, "begin");
    if (store->replica_count == 0)
        return STORE_OK;
    if (sqlite3session_create(conn->db, "main", &conn->session) != SQLITE_OK)
        conn->session = NULL;
    else
        sqlite3session_table_filter(conn->session, replicated_table, NULL);
    if (!conn->session || sqlite3session_attach(conn->session, NULL) != SQLITE_OK) {
        log_error("event=session_create_failed db=%s", store->path);
        sq_txn_rollback(store, conn);
        return STORE_ERROR;
    }
    return STORE_OK;
}

void sq_txn_rollback(struct store *store, struct sq_conn *conn)
{
    if (conn->batch) {
        /* The session extension records a row's values as of the
         * changeset, so what is undone here is not replicated. */
        sq_exec(conn, SQL_BATCH_WRITE_UNDO);
        sq_exec(conn, SQL_BATCH_WRITE_DONE);
        return;
    }
    if (conn->session) {
        sqlite3session_delete(conn->session);
        conn->session = NULL;
    }
    sq_exec(conn, "ROLLBACK");
    sq_flush_changed(conn);
}

static int on_conflict(void *ctx, int type, sqlite3_changeset_iter *iter)
{
    (void)ctx;
    (void)type;
    (void)iter;
    return SQLITE_CHANGESET_ABORT; /* a replica that disagrees is diverged */
}

static void replicate(struct store *store, int size, void *changeset)
{
    pthread_mutex_lock(&store->repl_lock);
    for (int i = 0; i < store->replica_count; i++) {
        struct sq_replica *r = &store->replicas[i];
        if (!r->healthy)
            continue;
        int rc = sqlite3changeset_apply(r->db, size, changeset, NULL, on_conflict, NULL);
        if (rc != SQLITE_OK) {
            char why[256];
            snprintf(why, sizeof why, "changeset apply failed: %s", sqlite3_errmsg(r->db));
            mark_stale(r, why);
        }
    }
    pthread_mutex_unlock(&store->repl_lock);
}

int sq_txn_commit(struct store *store, struct sq_conn *conn)
{
    if (conn->batch) {
        int rc = sq_exec(conn, SQL_BATCH_WRITE_DONE);
        if (rc == SQLITE_OK)
            return STORE_OK;
        int status = sq_status(conn, rc, "release");
        sq_txn_rollback(store, conn);
        return status == STORE_OK ? STORE_ERROR : status;
    }
    if (conn->session) {
        int size = 0;
        void *changeset = NULL;
        sqlite3_stmt *st = sq_stmt(conn, SQL_BUMP_SEQ);
        int rc = st ? sqlite3_step(st) : SQLITE_ERROR;
        if (st)
            sqlite3_reset(st);
        if (rc != SQLITE_DONE ||
            sqlite3session_changeset(conn->session, &size, &changeset) != SQLITE_OK) {
            sqlite3_free(changeset);
            sq_txn_rollback(store, conn);
            return STORE_ERROR;
        }
        sqlite3session_delete(conn->session);
        conn->session = NULL;
        if (size > 0)
            replicate(store, size, changeset);
        sqlite3_free(changeset);
    }
    int rc = sq_exec(conn, "COMMIT");
    if (rc != SQLITE_OK) {
        int status = sq_status(conn, rc, "commit");
        sq_exec(conn, "ROLLBACK");
        /* The replicas already hold this transaction: they are now ahead. */
        pthread_mutex_lock(&store->repl_lock);
        for (int i = 0; i < store->replica_count; i++)
            if (store->replicas[i].healthy)
                mark_stale(&store->replicas[i], "primary commit failed after replication");
        pthread_mutex_unlock(&store->repl_lock);
        sq_flush_changed(conn);
        return status == STORE_OK ? STORE_ERROR : status;
    }
    sq_flush_changed(conn);
    return STORE_OK;
}

int sq_write(struct store *store, sq_write_fn fn, void *ctx)
{
    struct sq_conn *c = sq_acquire(store);
    int rc = sq_txn_begin(store, c);
    if (rc == STORE_OK) {
        rc = fn(store, c, ctx);
        if (rc == STORE_OK)
            rc = sq_txn_commit(store, c);
        else
            sq_txn_rollback(store, c);
    }
    sq_release(store, c);
    return rc;
}

int store_batch_begin(struct store *store)
{
    pthread_mutex_lock(&store->lock);
    bool open = store->batch != NULL;
    pthread_mutex_unlock(&store->lock);
    if (open) {
        log_error("event=store_batch_nested db=%s", store->path);
        return STORE_ERROR;
    }
    struct sq_conn *c = sq_acquire(store);
    int rc = sq_txn_begin(store, c);
    if (rc != STORE_OK) {
        sq_release(store, c);
        return rc;
    }
    pthread_mutex_lock(&store->lock);
    open = store->batch != NULL; /* another thread's, begun meanwhile */
    if (!open) {
        c->batch = true;
        store->batch = c;
        store->batch_owner = pthread_self();
    }
    pthread_mutex_unlock(&store->lock);
    if (open) {
        sq_txn_rollback(store, c);
        sq_release(store, c);
        return STORE_ERROR;
    }
    return STORE_OK;
}

int store_batch_end(struct store *store)
{
    pthread_mutex_lock(&store->lock);
    struct sq_conn *c = store->batch;
    bool mine = c && pthread_equal(store->batch_owner, pthread_self());
    if (mine)
        store->batch = NULL; /* from here on, c is an ordinary connection */
    pthread_mutex_unlock(&store->lock);
    if (!mine)
        return c ? STORE_ERROR : STORE_OK;
    c->batch = false;
    int rc = sq_txn_commit(store, c);
    sq_release(store, c);
    return rc;
}

int sq_step_ints(struct sq_conn *conn, const char *sql, const char *what, bool notfound_if_none,
                 int n, const int64_t *params)
{
    sqlite3_stmt *st = sq_stmt(conn, sql);
    if (!st)
        return STORE_ERROR;
    for (int i = 0; i < n; i++)
        sqlite3_bind_int64(st, i + 1, params[i]);
    int rc = sq_status(conn, sqlite3_step(st), what);
    if (rc == STORE_OK && notfound_if_none && sqlite3_changes(conn->db) == 0)
        rc = STORE_NOTFOUND;
    sqlite3_reset(st);
    return rc;
}

static long long read_seq(sqlite3 *db, int *version)
{
    sqlite3_stmt *st = NULL;
    long long seq = -1;
    *version = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        *version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT seq FROM _replication WHERE id = 1", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        seq = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return seq;
}

static int full_copy(sqlite3 *from, sqlite3 *to)
{
    sqlite3_backup *b = sqlite3_backup_init(to, "main", from, "main");
    if (!b)
        return SQLITE_ERROR;
    int rc = sqlite3_backup_step(b, -1);
    int fin = sqlite3_backup_finish(b);
    return rc == SQLITE_DONE ? fin : rc;
}

int sq_replicas_open(struct store *store, const struct store_options *opts, char *err,
                     size_t errlen)
{
    sqlite3 *primary = store->conns[0].db;
    int primary_version;
    long long primary_seq = read_seq(primary, &primary_version);
    for (int i = 0; i < opts->replica_count; i++) {
        const char *dir = opts->replica_dirs[i];
        struct sq_replica *r = &store->replicas[i];
        store->replica_count = i + 1;
        int n = snprintf(r->path, sizeof r->path, "%s/reel.db", dir);
        if (n < 0 || (size_t)n >= sizeof r->path || sq_make_dirs(dir) < 0) {
            snprintf(err, errlen, "replica %s: cannot create directory: %s", dir, strerror(errno));
            return -1;
        }
        if (sqlite3_open_v2(r->path, &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                                 SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
            sqlite3_exec(r->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA secure_delete=ON;", NULL, NULL,
                         NULL) != SQLITE_OK) {
            snprintf(err, errlen, "replica %s: %s", r->path,
                     r->db ? sqlite3_errmsg(r->db) : "cannot open");
            return -1;
        }
        sqlite3_extended_result_codes(r->db, 1);
        sqlite3_busy_timeout(r->db, 10000);
        int version;
        long long seq = read_seq(r->db, &version);
        bool stale = store_replica_is_stale(dir);
        if (stale || seq != primary_seq || version != primary_version) {
            if (full_copy(primary, r->db) != SQLITE_OK) {
                snprintf(err, errlen, "replica %s: copy from the primary failed: %s", r->path,
                         sqlite3_errmsg(r->db));
                return -1;
            }
            char marker[640];
            snprintf(marker, sizeof marker, "%s/STALE", dir);
            unlink(marker);
            log_info("event=replica_copied path=%s seq=%lld", r->path, primary_seq);
        }
        r->healthy = true;
    }
    return 0;
}

void sq_replicas_close(struct store *store)
{
    for (int i = 0; i < store->replica_count; i++) {
        if (store->replicas[i].db)
            sqlite3_close(store->replicas[i].db);
        store->replicas[i].db = NULL;
    }
    store->replica_count = 0;
}
