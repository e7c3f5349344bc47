/*
 * store_sqlite.c — the SQLite backend: opening, migrations, the connection
 * pool and the statement cache. Queries live in store_sqlite_<area>.c.
 *
 * Settings, and why:
 * - journal_mode=WAL: readers never block the writer and vice versa; the
 *   replication issue ships the WAL to replica sites.
 * - synchronous=FULL: a transaction is on disk when COMMIT returns, so an
 *   acknowledged write survives a crash or power loss. (The high-volume
 *   engagement log is not here: events/ has its own group-committed log.)
 * - busy_timeout: writers from different connections queue instead of failing.
 *   Multi-statement writes start with BEGIN IMMEDIATE so two writers never
 *   deadlock upgrading read locks.
 * - foreign_keys=ON, STRICT tables: the schema checks what it can.
 *
 * Migrations are an append-only list per store kind; PRAGMA user_version
 * holds how many have run. Each runs in its own transaction at open, so a
 * crash mid-migration leaves the previous version intact. Never edit a
 * migration that has shipped: add a new one.
 */
#include "store/sqlite_int.h"

#include "core/alloc.h"
#include "core/log.h"

#include <errno.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char *const region_migrations[] = {
    /* 1: accounts and sessions */
    "CREATE TABLE users ("
    "  id INTEGER PRIMARY KEY,"
    "  username TEXT NOT NULL,"
    "  display_name TEXT NOT NULL DEFAULT '',"
    "  bio TEXT NOT NULL DEFAULT '',"
    "  email BLOB NOT NULL,"
    "  country TEXT NOT NULL,"
    "  password_hash BLOB NOT NULL,"
    "  status INTEGER NOT NULL DEFAULT 0,"
    "  created_ms INTEGER NOT NULL,"
    "  followers INTEGER NOT NULL DEFAULT 0,"
    "  following INTEGER NOT NULL DEFAULT 0,"
    "  videos INTEGER NOT NULL DEFAULT 0"
    ") STRICT;"
    "CREATE UNIQUE INDEX users_username ON users(username COLLATE NOCASE);"
    "CREATE TABLE sessions ("
    "  id INTEGER PRIMARY KEY,"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  token_hash BLOB NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  expires_ms INTEGER NOT NULL,"
    "  revoked_ms INTEGER NOT NULL DEFAULT 0"
    ") STRICT;"
    "CREATE INDEX sessions_user ON sessions(user_id);"
    /* Replication sequence: bumped by every write transaction (see
     * store_sqlite_replica.c). Every replicated table needs a PRIMARY KEY. */
    "CREATE TABLE _replication (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL);"
    "INSERT INTO _replication VALUES (1, 0);",
    /* 2: operators — staff accounts of this region and their role */
    "CREATE TABLE operators ("
    "  user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,"
    "  role TEXT NOT NULL CHECK (role IN ('custodian', 'moderator', 'support')),"
    "  created_ms INTEGER NOT NULL"
    ") STRICT;",

    /* 3: videos, hashtags, caption search, and the social records of this
     * region's users (follows, likes, comments, shares) with the counter
     * outbox. See store/README.md for which region holds what. */
    "CREATE TABLE videos ("
    "  id INTEGER PRIMARY KEY,"
    "  creator_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  caption TEXT NOT NULL DEFAULT '',"
    "  hashtags TEXT NOT NULL DEFAULT '',"
    "  duration_ms INTEGER NOT NULL DEFAULT 0,"
    "  width INTEGER NOT NULL DEFAULT 0,"
    "  height INTEGER NOT NULL DEFAULT 0,"
    "  status INTEGER NOT NULL DEFAULT 0,"
    "  error TEXT NOT NULL DEFAULT '',"
    "  renditions TEXT NOT NULL DEFAULT '[]',"
    "  thumbnail_url TEXT NOT NULL DEFAULT '',"
    "  likes INTEGER NOT NULL DEFAULT 0,"
    "  comments INTEGER NOT NULL DEFAULT 0,"
    "  shares INTEGER NOT NULL DEFAULT 0,"
    "  views INTEGER NOT NULL DEFAULT 0,"
    "  created_ms INTEGER NOT NULL"
    ") STRICT;"
    "CREATE INDEX videos_creator ON videos(creator_id, id);"
    "CREATE TABLE video_hashtags ("
    "  tag TEXT NOT NULL,"
    "  video_id INTEGER NOT NULL REFERENCES videos(id) ON DELETE CASCADE,"
    "  PRIMARY KEY (tag, video_id)"
    ") STRICT, WITHOUT ROWID;"
    "CREATE INDEX video_hashtags_video ON video_hashtags(video_id);"
    "CREATE TABLE hashtags ("
    "  tag TEXT NOT NULL PRIMARY KEY,"
    "  videos INTEGER NOT NULL DEFAULT 0"
    ") STRICT, WITHOUT ROWID;"
    "CREATE VIRTUAL TABLE videos_fts USING fts5(caption, content='videos', content_rowid='id',"
    "  tokenize='unicode61 remove_diacritics 2');"
    "CREATE TRIGGER videos_fts_insert AFTER INSERT ON videos BEGIN"
    "  INSERT INTO videos_fts(rowid, caption) VALUES (new.id, new.caption);"
    " END;"
    "CREATE TRIGGER videos_fts_delete AFTER DELETE ON videos BEGIN"
    "  INSERT INTO videos_fts(videos_fts, rowid, caption) VALUES ('delete', old.id, old.caption);"
    " END;"
    "CREATE TRIGGER videos_fts_update AFTER UPDATE OF caption ON videos BEGIN"
    "  INSERT INTO videos_fts(videos_fts, rowid, caption) VALUES ('delete', old.id, old.caption);"
    "  INSERT INTO videos_fts(rowid, caption) VALUES (new.id, new.caption);"
    " END;"
    "CREATE TABLE follows ("
    "  id INTEGER PRIMARY KEY,"
    "  follower_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  followee_id INTEGER NOT NULL,"
    "  created_ms INTEGER NOT NULL"
    ") STRICT;"
    "CREATE UNIQUE INDEX follows_pair ON follows(follower_id, followee_id);"
    "CREATE INDEX follows_follower ON follows(follower_id, id);"
    "CREATE INDEX follows_followee ON follows(followee_id, id);"
    "CREATE TABLE likes ("
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  video_id INTEGER NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (user_id, video_id)"
    ") STRICT, WITHOUT ROWID;"
    "CREATE TABLE comments ("
    "  id INTEGER PRIMARY KEY,"
    "  video_id INTEGER NOT NULL,"
    "  author_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  text TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL"
    ") STRICT;"
    "CREATE INDEX comments_video ON comments(video_id, id);"
    "CREATE INDEX comments_author ON comments(author_id, id);"
    "CREATE TABLE shares ("
    "  id INTEGER PRIMARY KEY,"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  video_id INTEGER NOT NULL,"
    "  created_ms INTEGER NOT NULL"
    ") STRICT;"
    "CREATE INDEX shares_user ON shares(user_id, id);"
    /* Deltas for counters in other regions' stores, queued in the record's
     * transaction and removed once applied. */
    "CREATE TABLE counter_outbox ("
    "  id INTEGER PRIMARY KEY,"
    "  target_id INTEGER NOT NULL,"
    "  counter INTEGER NOT NULL,"
    "  delta INTEGER NOT NULL"
    ") STRICT;"
    /* Ids of deltas from other stores already applied here (no user ids). */
    "CREATE TABLE counter_applied ("
    "  delta_id INTEGER PRIMARY KEY"
    ") STRICT;",
    /* 4: account deactivation (erasure after a grace period) */
    "ALTER TABLE users ADD COLUMN deactivated_ms INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX users_deactivated ON users(deactivated_ms) WHERE deactivated_ms > 0;",
    /* 5: uploads — the size of each video's source (the per-user daily
     * quota sums it) and an index of the videos still processing (the
     * server's start-up check finds the ones a crash left behind). */
    "ALTER TABLE videos ADD COLUMN source_bytes INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX videos_processing ON videos(id) WHERE status = 0;",
    /* 6: the recommendation engine's personal state: interests picked for
     * cold start, and sessions spilled out of memory (seen filter, recent
     * engagements) as the engine's opaque blob. */
    "CREATE TABLE user_interests ("
    "  user_id INTEGER PRIMARY KEY,"
    "  hashtags TEXT NOT NULL"
    ") STRICT;"
    "CREATE TABLE rec_sessions ("
    "  user_id INTEGER PRIMARY KEY,"
    "  state BLOB NOT NULL,"
    "  saved_ms INTEGER NOT NULL"
    ") STRICT;",
};

static const char *const directory_migrations[] = {
    /* 1: the public username directory. It holds nothing but the public
     * username and the user id (whose region bits say where the user lives). */
    "CREATE TABLE usernames ("
    "  username TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,"
    "  user_id INTEGER NOT NULL UNIQUE"
    ") STRICT, WITHOUT ROWID;",
};

struct migration_set {
    const char *const *steps;
    int count;
    const char *file;
};

static const struct migration_set migration_sets[] = {
    [STORE_KIND_REGION] = {region_migrations,
                           (int)(sizeof region_migrations / sizeof region_migrations[0]),
                           "reel.db"},
    [STORE_KIND_DIRECTORY] = {directory_migrations,
                              (int)(sizeof directory_migrations / sizeof directory_migrations[0]),
                              "directory.db"},
};

int sq_make_dirs(const char *path)
{
    char tmp[600];
    int n = snprintf(tmp, sizeof tmp, "%s", path);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
        return -1;
    return 0;
}

int sq_exec(struct sq_conn *conn, const char *sql)
{
    return sqlite3_exec(conn->db, sql, NULL, NULL, NULL);
}

static const char SQL_READ_BEGIN[] = "BEGIN";
static const char SQL_READ_END[] = "COMMIT";

static int step_once(struct sq_conn *conn, const char *sql)
{
    sqlite3_stmt *st = sq_stmt(conn, sql);
    if (!st)
        return SQLITE_ERROR;
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    return step == SQLITE_DONE ? SQLITE_OK : step;
}

int sq_read_begin(struct sq_conn *conn, const char *what)
{
    if (conn->batch)
        return STORE_OK;
    int rc = step_once(conn, SQL_READ_BEGIN);
    return rc == SQLITE_OK ? STORE_OK : sq_status(conn, rc, what);
}

int sq_read_end(struct sq_conn *conn, int rc, const char *what)
{
    if (conn->batch)
        return rc;
    int end = step_once(conn, SQL_READ_END);
    if (end != SQLITE_OK) {
        if (rc == STORE_OK)
            rc = sq_status(conn, end, what);
        if (!sqlite3_get_autocommit(conn->db))
            sq_exec(conn, "ROLLBACK");
    }
    return rc;
}

/* SQLite's update hook: a row of videos, users or sessions changed on this
 * connection. */
static void row_changed(void *arg, int op, const char *db, const char *table, sqlite3_int64 rowid)
{
    struct sq_conn *conn = arg;
    struct store *store = conn->store;
    enum store_row row;
    store_change_fn fn = __atomic_load_n(&store->on_change, __ATOMIC_ACQUIRE);
    if (!fn || strcmp(db, "main") != 0)
        return;
    if (strcmp(table, "videos") == 0)
        row = STORE_ROW_VIDEO;
    else if (strcmp(table, "users") == 0)
        row = STORE_ROW_USER;
    else if (strcmp(table, "sessions") == 0)
        row = STORE_ROW_SESSION;
    else
        return;
    sq_note_changed(conn, row, (uint64_t)rowid, op == SQLITE_DELETE);
}

void sq_note_changed(struct sq_conn *conn, enum store_row row, uint64_t id, bool deleted)
{
    struct store *store = conn->store;
    store_change_fn fn = __atomic_load_n(&store->on_change, __ATOMIC_ACQUIRE);
    if (!fn)
        return;
    fn(store->on_change_ctx, row, id, deleted);
    if (conn->changed_overflow)
        return;
    if (conn->changed_count == conn->changed_cap) {
        unsigned cap = conn->changed_cap ? conn->changed_cap * 2 : 64;
        void *grown = cap <= SQ_CHANGED_MAX
                          ? reel_realloc(conn->changed, (size_t)cap * sizeof *conn->changed)
                          : NULL;
        if (!grown) {
            conn->changed_overflow = true;
            return;
        }
        conn->changed = grown;
        conn->changed_cap = cap;
    }
    conn->changed[conn->changed_count++] = (struct sq_changed){id, (uint8_t)row, deleted};
}

void sq_flush_changed(struct sq_conn *conn)
{
    struct store *store = conn->store;
    store_change_fn fn = __atomic_load_n(&store->on_change, __ATOMIC_ACQUIRE);
    if (fn && conn->changed_overflow)
        fn(store->on_change_ctx, STORE_ROW_ALL, 0, false);
    else if (fn)
        for (unsigned i = 0; i < conn->changed_count; i++)
            fn(store->on_change_ctx, (enum store_row)conn->changed[i].row, conn->changed[i].id,
               conn->changed[i].deleted);
    conn->changed_count = 0;
    conn->changed_overflow = false;
}

void store_set_change_hook(struct store *store, store_change_fn fn, void *ctx)
{
    store->on_change_ctx = ctx;
    __atomic_store_n(&store->on_change, fn, __ATOMIC_RELEASE);
}

static int open_conn(struct store *store, struct sq_conn *conn, char *err, size_t errlen)
{
    conn->store = store;
    int rc = sqlite3_open_v2(store->path, &conn->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", store->path,
                 conn->db ? sqlite3_errmsg(conn->db) : sqlite3_errstr(rc));
        return -1;
    }
    sqlite3_extended_result_codes(conn->db, 1);
    sqlite3_busy_timeout(conn->db, 10000);
    static const char *const pragmas =
        "PRAGMA journal_mode=WAL;"
        /* Erasure: deleted rows are overwritten, not left in free pages. */
        "PRAGMA secure_delete=ON;"
        "PRAGMA synchronous=FULL;"
        "PRAGMA foreign_keys=ON;"
        "PRAGMA temp_store=MEMORY;";
    char *msg = NULL;
    if (sqlite3_exec(conn->db, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", store->path, msg ? msg : "pragma failed");
        sqlite3_free(msg);
        return -1;
    }
    sqlite3_update_hook(conn->db, row_changed, conn);
    return 0;
}

static int read_version(sqlite3 *db);

static int migrate(struct store *store, struct sq_conn *conn, char *err, size_t errlen)
{
    const struct migration_set *set = &migration_sets[store->kind];
    int version = read_version(conn->db);
    if (version < 0) {
        snprintf(err, errlen, "%s: cannot read schema version", store->path);
        return -1;
    }
    if (version > set->count) {
        snprintf(err, errlen,
                 "%s: schema version %d is newer than this reel (%d): refusing to touch it",
                 store->path, version, set->count);
        return -1;
    }
    for (int v = version; v < set->count; v++) {
        char *msg = NULL;
        char bump[64];
        snprintf(bump, sizeof bump, "PRAGMA user_version=%d;", v + 1);
        if (sq_exec(conn, "BEGIN IMMEDIATE") != SQLITE_OK ||
            sqlite3_exec(conn->db, set->steps[v], NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(conn->db, bump, NULL, NULL, &msg) != SQLITE_OK ||
            sq_exec(conn, "COMMIT") != SQLITE_OK) {
            snprintf(err, errlen, "%s: migration %d failed: %s", store->path, v + 1,
                     msg ? msg : sqlite3_errmsg(conn->db));
            sqlite3_free(msg);
            sq_exec(conn, "ROLLBACK");
            return -1;
        }
        log_info("event=migrated db=%s version=%d", store->path, v + 1);
    }
    return 0;
}

/* Process-wide SQLite settings, before SQLite initialises itself:
 * - MULTITHREAD: connections are never shared between threads at once (the
 *   pool hands each to one caller), so SQLite's per-connection mutexes are
 *   pure overhead;
 * - MEMSTATUS off: otherwise every SQLite allocation takes one global mutex,
 *   which serialises all threads' reads. */
static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;

static void sqlite_global_init(void)
{
    sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3_initialize();
}

int store_open(struct store **out, enum store_kind kind, const char *dir,
               const struct store_options *opts, char *err, size_t errlen)
{
    pthread_once(&sqlite_once, sqlite_global_init);
    int connections = opts->connections < 1 ? 1 : opts->connections;
    if (kind == STORE_KIND_REGION && !opts->field_key) {
        snprintf(err, errlen, "%s: a region store needs its region's data key", dir);
        return STORE_ERROR;
    }
    if (opts->replica_count < 0 || opts->replica_count > STORE_MAX_REPLICAS ||
        (kind != STORE_KIND_REGION && opts->replica_count)) {
        snprintf(err, errlen, "%s: bad replica count", dir);
        return STORE_ERROR;
    }
    struct store *store = reel_calloc(1, sizeof *store);
    if (!store) {
        snprintf(err, errlen, "out of memory");
        return STORE_ERROR;
    }
    store->kind = kind;
    if (opts->field_key) {
        memcpy(store->field_key, opts->field_key, STORE_FIELD_KEY_BYTES);
        store->has_field_key = true;
    }
    pthread_mutex_init(&store->lock, NULL);
    pthread_cond_init(&store->available, NULL);
    pthread_mutex_init(&store->repl_lock, NULL);
    int n = snprintf(store->path, sizeof store->path, "%s/%s", dir, migration_sets[kind].file);
    if (n < 0 || (size_t)n >= sizeof store->path) {
        snprintf(err, errlen, "%s: path too long", dir);
        goto fail;
    }
    if (sq_make_dirs(dir) < 0) {
        snprintf(err, errlen, "%s: cannot create directory: %s", dir, strerror(errno));
        goto fail;
    }
    store->conns = reel_calloc((size_t)connections, sizeof *store->conns);
    if (!store->conns) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    /* The first connection migrates and syncs the replicas before the others open. */
    for (int i = 0; i < connections; i++) {
        store->conn_count = i + 1;
        if (open_conn(store, &store->conns[i], err, errlen) < 0)
            goto fail;
        if (i == 0 && (migrate(store, &store->conns[0], err, errlen) < 0 ||
                       sq_replicas_open(store, opts, err, errlen) < 0))
            goto fail;
        store->conns[i].next_free = store->free_list;
        store->free_list = &store->conns[i];
    }
    *out = store;
    return STORE_OK;
fail:
    store_close(store);
    return STORE_ERROR;
}

void store_close(struct store *store)
{
    if (!store)
        return;
    for (int i = 0; i < store->conn_count; i++) {
        struct sq_conn *c = &store->conns[i];
        for (int s = 0; s < SQ_STMT_SLOTS; s++)
            if (c->stmt[s])
                sqlite3_finalize(c->stmt[s]);
        if (c->db)
            sqlite3_close(c->db);
        reel_free(c->changed);
    }
    reel_free(store->conns);
    sq_replicas_close(store);
    pthread_mutex_destroy(&store->lock);
    pthread_cond_destroy(&store->available);
    pthread_mutex_destroy(&store->repl_lock);
    sodium_memzero(store->field_key, sizeof store->field_key);
    reel_free(store);
}

const char *store_path(const struct store *store)
{
    return store->path;
}

struct sq_conn *sq_acquire(struct store *store)
{
    pthread_mutex_lock(&store->lock);
    if (store->batch && pthread_equal(store->batch_owner, pthread_self())) {
        struct sq_conn *c = store->batch;
        pthread_mutex_unlock(&store->lock);
        return c;
    }
    while (!store->free_list)
        pthread_cond_wait(&store->available, &store->lock);
    struct sq_conn *c = store->free_list;
    store->free_list = c->next_free;
    pthread_mutex_unlock(&store->lock);
    return c;
}

void sq_release(struct store *store, struct sq_conn *conn)
{
    if (conn->batch)
        return; /* kept for the batch; its rows are told once it commits */
    if (conn->changed_count || conn->changed_overflow)
        sq_flush_changed(conn);
    pthread_mutex_lock(&store->lock);
    conn->next_free = store->free_list;
    store->free_list = conn;
    pthread_cond_signal(&store->available);
    pthread_mutex_unlock(&store->lock);
}

sqlite3_stmt *sq_stmt(struct sq_conn *conn, const char *sql)
{
    uintptr_t h = (uintptr_t)sql;
    h ^= h >> 17;
    h *= 0x9E3779B97F4A7C15ULL;
    size_t slot = (size_t)(h >> 40) % SQ_STMT_SLOTS;
    for (size_t probe = 0; probe < SQ_STMT_SLOTS; probe++) {
        size_t i = (slot + probe) % SQ_STMT_SLOTS;
        if (conn->stmt_sql[i] == sql) {
            sqlite3_reset(conn->stmt[i]);
            sqlite3_clear_bindings(conn->stmt[i]);
            return conn->stmt[i];
        }
        if (!conn->stmt_sql[i]) {
            sqlite3_stmt *st = NULL;
            int rc = sqlite3_prepare_v3(conn->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
            if (rc != SQLITE_OK) {
                log_error("event=sqlite_prepare_failed error=\"%s\"", sqlite3_errmsg(conn->db));
                return NULL;
            }
            conn->stmt_sql[i] = sql;
            conn->stmt[i] = st;
            return st;
        }
    }
    log_error("event=sqlite_statement_cache_full slots=%d", SQ_STMT_SLOTS);
    return NULL;
}

int sq_status(struct sq_conn *conn, int rc, const char *what)
{
    switch (rc) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return STORE_OK;
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        return STORE_CONFLICT;
    default:
        log_error("event=sqlite_error op=%s code=%d error=\"%s\"", what, rc,
                  sqlite3_errmsg(conn->db));
        return STORE_ERROR;
    }
}

void sq_column_text(sqlite3_stmt *stmt, int col, char *out, size_t size)
{
    const unsigned char *text = sqlite3_column_text(stmt, col);
    int len = sqlite3_column_bytes(stmt, col);
    if (!text || len < 0)
        len = 0;
    size_t n = (size_t)len < size - 1 ? (size_t)len : size - 1;
    if (n)
        memcpy(out, text, n);
    out[n] = '\0';
}

int sq_bind_text(sqlite3_stmt *stmt, int col, const char *text)
{
    return sqlite3_bind_text(stmt, col, text, -1, SQLITE_STATIC);
}

static int read_version(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int version = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return version;
}

int store_schema_version(struct store *store)
{
    struct sq_conn *c = sq_acquire(store);
    int version = read_version(c->db);
    sq_release(store, c);
    return version;
}

int sq_step_done(struct sq_conn *conn, sqlite3_stmt *stmt, const char *what)
{
    int rc = sqlite3_step(stmt);
    int status;
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
        status = STORE_NOTFOUND;
    else
        status = sq_status(conn, rc, what);
    sqlite3_reset(stmt);
    return status;
}

int sq_collect_ids(struct sq_conn *conn, sqlite3_stmt *stmt, uint64_t *out, size_t limit,
                   size_t *n, const char *what)
{
    *n = 0;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW && *n < limit)
        out[(*n)++] = (uint64_t)sqlite3_column_int64(stmt, 0);
    int status = rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : sq_status(conn, rc, what);
    sqlite3_reset(stmt);
    return status;
}

void sq_read_user_card(sqlite3_stmt *stmt, int col, uint64_t id, struct store_user *out)
{
    /* Field by field, the private ones left empty (no memset of 1.8 KB). */
    out->id = id;
    out->email[0] = '\0';
    out->country[0] = '\0';
    out->password_hash[0] = '\0';
    sq_column_text(stmt, col, out->username, sizeof out->username);
    sq_column_text(stmt, col + 1, out->display_name, sizeof out->display_name);
    sq_column_text(stmt, col + 2, out->bio, sizeof out->bio);
    out->status = sqlite3_column_int(stmt, col + 3);
    out->created_ms = sqlite3_column_int64(stmt, col + 4);
    out->followers = sqlite3_column_int64(stmt, col + 5);
    out->following = sqlite3_column_int64(stmt, col + 6);
    out->videos = sqlite3_column_int64(stmt, col + 7);
}

int64_t sq_bound_before(uint64_t before)
{
    return before ? (int64_t)before : INT64_MAX;
}
