/*
 * store.h — the storage interface every caller above store/ uses.
 *
 * One `struct store` is one database: a region site's store (all of that
 * region's users' personal data) or the public username directory. The
 * embedded backend is SQLite (store_sqlite*.c: one WAL-mode file per site);
 * a PostgreSQL backend implements this same header later, so nothing above
 * store/ mentions SQL or includes sqlite3.h.
 *
 * Conventions:
 * - Functions return STORE_OK (0) or a negative STORE_* code; they never
 *   abort and never log personal data.
 * - Results are copied into caller-provided structs (fixed-size fields sized
 *   by the API's own limits), so no memory crosses this interface.
 * - Every function is safe to call from many threads at once: each call takes
 *   a connection from the store's pool for its duration.
 * - A call that changes several rows does so in one transaction: it happens
 *   whole or not at all, and is durable (synchronous=FULL) when it returns.
 */
#ifndef REEL_STORE_STORE_H
#define REEL_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum store_status {
    STORE_OK = 0,
    STORE_NOTFOUND = -1,
    STORE_CONFLICT = -2, /* a uniqueness rule would be broken */
    STORE_ERROR = -3,    /* I/O, corruption, out of memory: logged by the store */
};

enum store_kind {
    STORE_KIND_REGION,    /* a region site: users, sessions and all personal data */
    STORE_KIND_DIRECTORY, /* public username -> user id for every region */
};

struct store;

#define STORE_MAX_REPLICAS 4
#define STORE_FIELD_KEY_BYTES 32

struct store_options {
    int connections;                 /* pool size, >= 1 */
    /* Region stores: the region's 32-byte data key (region/custody.h). The most
     * sensitive personal fields are encrypted with it; a region store cannot
     * be opened without one. Unused by the directory. */
    const unsigned char *field_key;
    /* Directories of replica sites, kept identical to this store: every write
     * transaction is applied to each replica before it commits here, so a
     * write acknowledged by the primary is already durable on every healthy
     * replica (see store_sqlite_replica.c). */
    const char *replica_dirs[STORE_MAX_REPLICAS];
    int replica_count;
};

/* Opens (creating if needed) the database of the given kind in directory
 * `dir` (created too), applies pending migrations, brings each replica up to
 * date (a full copy if it is missing, stale or diverged) and sets up the
 * connection pool. Returns STORE_OK and *out, or STORE_ERROR with a message in
 * err. */
int store_open(struct store **out, enum store_kind kind, const char *dir,
               const struct store_options *opts, char *err, size_t errlen);
/* Closes every connection. The store must have no calls in flight. */
void store_close(struct store *store);
/* Schema version after migrations (PRAGMA user_version). */
int store_schema_version(struct store *store);
/* Path of the database file. */
const char *store_path(const struct store *store);
/* Number of replicas currently kept in step (a replica that failed to apply
 * a change is dropped until the next start, which copies it afresh). */
int store_replicas_healthy(struct store *store);
/* True if the replica in `dir` was marked stale (diverged or missed writes):
 * it must not be promoted until a start-up has copied it afresh. */
bool store_replica_is_stale(const char *dir);

/* ---- users (region store) ---------------------------------------------- */

#define STORE_USERNAME_MAX 31     /* 30 bytes + NUL */
#define STORE_DISPLAY_NAME_MAX 201 /* 50 code points of up to 4 bytes */
#define STORE_BIO_MAX 1201        /* 300 code points */
#define STORE_EMAIL_MAX 255
#define STORE_PASSWORD_HASH_MAX 128

enum store_user_status { STORE_USER_ACTIVE = 0, STORE_USER_DEACTIVATED = 1 };

struct store_user {
    uint64_t id;
    char username[STORE_USERNAME_MAX];
    char display_name[STORE_DISPLAY_NAME_MAX];
    char bio[STORE_BIO_MAX];
    char email[STORE_EMAIL_MAX];
    char country[3];
    char password_hash[STORE_PASSWORD_HASH_MAX];
    int status;
    int64_t created_ms;
    int64_t followers, following, videos; /* public counters */
};

struct store_session {
    uint64_t id;
    uint64_t user_id;
    unsigned char token_hash[32];
    int64_t created_ms;
    int64_t expires_ms;
    int64_t revoked_ms; /* 0 = not revoked */
};

/* Inserts a new user and its first session in one transaction.
 * STORE_CONFLICT if the id or username exists in this store. */
int store_user_create(struct store *store, const struct store_user *user,
                      const struct store_session *session);
/* Copies user `id` into *out. STORE_NOTFOUND if absent; STORE_ERROR also
 * when the encrypted fields cannot be decrypted (wrong key, tampering). */
int store_user_get(struct store *store, uint64_t id, struct store_user *out);
/* As store_user_get, but only the public fields: email and password_hash
 * are left empty and nothing is decrypted (public profiles, embedded
 * creators). */
int store_user_get_public(struct store *store, uint64_t id, struct store_user *out);
/* Updates the profile fields that are not NULL. STORE_NOTFOUND if absent. */
int store_user_update_profile(struct store *store, uint64_t id, const char *display_name,
                              const char *bio);

int store_session_create(struct store *store, const struct store_session *session);
/* Copies session `id` into *out. STORE_NOTFOUND if absent. */
int store_session_get(struct store *store, uint64_t id, struct store_session *out);
/* Marks a session revoked at `now_ms`. STORE_NOTFOUND if absent. */
int store_session_revoke(struct store *store, uint64_t id, int64_t now_ms);

/* ---- operators (region store) ------------------------------------------ */

/* Staff roles. An operator belongs to the region whose store holds the row. */
enum store_role {
    STORE_ROLE_NONE = 0,
    STORE_ROLE_CUSTODIAN = 1, /* the region's data custodian: full personal-data access */
    STORE_ROLE_MODERATOR = 2, /* content and conduct */
    STORE_ROLE_SUPPORT = 3,   /* account help */
};

/* "custodian" etc. <-> enum; store_role_parse returns STORE_ROLE_NONE if unknown. */
const char *store_role_name(enum store_role role);
enum store_role store_role_parse(const char *name);

/* Grants user_id (a user of this store) an operator role. STORE_CONFLICT if it
 * already has one, STORE_NOTFOUND if no such user. */
int store_operator_grant(struct store *store, uint64_t user_id, enum store_role role,
                         int64_t now_ms);
/* The role of user_id, or STORE_NOTFOUND if not an operator. */
int store_operator_get(struct store *store, uint64_t user_id, enum store_role *role);

/* ---- directory (directory store) --------------------------------------- */

/* Claims `username` (compared case-insensitively) for user_id.
 * STORE_CONFLICT if another user holds it. */
int store_directory_reserve(struct store *dir, const char *username, uint64_t user_id);
/* Looks a username up. STORE_NOTFOUND if nobody holds it. */
int store_directory_lookup(struct store *dir, const char *username, uint64_t *user_id);
/* Releases a claim, only if held by user_id. */
int store_directory_release(struct store *dir, const char *username, uint64_t user_id);

#endif
