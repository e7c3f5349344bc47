/*
 * The SQLite store: creation, migrations, users/sessions, the directory.
 */
#include "store/store.h"

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/reel-store-XXXXXX";
static char err[256];
static const unsigned char test_key[STORE_FIELD_KEY_BYTES] = "0123456789abcdef0123456789abcde";

static int open_region(const char *path, int connections, struct store **s)
{
    struct store_options opts = {.connections = connections, .field_key = test_key};
    return store_open(s, STORE_KIND_REGION, path, &opts, err, sizeof err);
}

static void setup(void)
{
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(store, .init = setup, .fini = teardown);

static struct store_user make_user(uint64_t id, const char *name)
{
    struct store_user u;
    memset(&u, 0, sizeof u);
    u.id = id;
    snprintf(u.username, sizeof u.username, "%s", name);
    snprintf(u.display_name, sizeof u.display_name, "%s", name);
    snprintf(u.email, sizeof u.email, "%s@example.com", name);
    snprintf(u.country, sizeof u.country, "DE");
    snprintf(u.password_hash, sizeof u.password_hash, "$argon2id$fake");
    u.created_ms = 1767225600000;
    return u;
}

Test(store, opens_migrates_and_reopens)
{
    struct store *s;
    cr_assert_eq(open_region(dir, 2, &s), STORE_OK, "%s", err);
    int v = store_schema_version(s);
    cr_assert_geq(v, 1);
    struct store_user u = make_user(100, "alice");
    cr_assert_eq(store_user_create(s, &u, NULL), STORE_OK);
    store_close(s);
    cr_assert_eq(open_region(dir, 1, &s), STORE_OK, "%s", err);
    cr_assert_eq(store_schema_version(s), v, "reopening must not migrate again");
    struct store_user back;
    cr_assert_eq(store_user_get(s, 100, &back), STORE_OK);
    cr_assert_str_eq(back.email, "alice@example.com");
    store_close(s);
}

Test(store, refuses_newer_schema)
{
    struct store *s;
    cr_assert_eq(open_region(dir, 1, &s), STORE_OK);
    store_close(s);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "sqlite3 %s/reel.db 'PRAGMA user_version=999'", dir);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(open_region(dir, 1, &s), STORE_ERROR);
    cr_assert(strstr(err, "newer than this reel"), "%s", err);
}

Test(store, users_and_sessions)
{
    struct store *s;
    cr_assert_eq(open_region(dir, 2, &s), STORE_OK);
    struct store_user u = make_user(1, "bob");
    struct store_session sess = {.id = 2, .user_id = 1, .created_ms = 5, .expires_ms = 10};
    memset(sess.token_hash, 0xab, sizeof sess.token_hash);
    cr_assert_eq(store_user_create(s, &u, &sess), STORE_OK);
    /* Same id or same username (any case) conflicts, and nothing is half-written. */
    struct store_user dup = make_user(1, "other");
    struct store_session sess2 = {.id = 3, .user_id = 1};
    cr_assert_eq(store_user_create(s, &dup, &sess2), STORE_CONFLICT);
    cr_assert_eq(store_session_get(s, 3, &sess2), STORE_NOTFOUND, "rolled back");
    dup = make_user(9, "BOB");
    cr_assert_eq(store_user_create(s, &dup, NULL), STORE_CONFLICT);

    struct store_session got;
    cr_assert_eq(store_session_get(s, 2, &got), STORE_OK);
    cr_assert_eq(got.user_id, 1);
    cr_assert_eq(got.token_hash[31], 0xab);
    cr_assert_eq(got.revoked_ms, 0);
    cr_assert_eq(store_session_revoke(s, 2, 77), STORE_OK);
    cr_assert_eq(store_session_get(s, 2, &got), STORE_OK);
    cr_assert_eq(got.revoked_ms, 77);
    cr_assert_eq(store_session_revoke(s, 2, 88), STORE_NOTFOUND, "already revoked");
    cr_assert_eq(store_session_revoke(s, 999, 88), STORE_NOTFOUND);

    cr_assert_eq(store_user_update_profile(s, 1, "Bob B", NULL), STORE_OK);
    struct store_user back;
    cr_assert_eq(store_user_get(s, 1, &back), STORE_OK);
    cr_assert_str_eq(back.display_name, "Bob B");
    cr_assert_str_eq(back.bio, "");
    cr_assert_eq(store_user_update_profile(s, 404, "x", "y"), STORE_NOTFOUND);
    cr_assert_eq(store_user_get(s, 404, &back), STORE_NOTFOUND);
    store_close(s);
}

Test(store, directory_is_case_insensitive)
{
    struct store *d;
    cr_assert_eq(store_open(&d, STORE_KIND_DIRECTORY, dir, &(struct store_options){.connections = 1}, err, sizeof err), STORE_OK);
    cr_assert_eq(store_directory_reserve(d, "Alice", 10), STORE_OK);
    cr_assert_eq(store_directory_reserve(d, "alice", 11), STORE_CONFLICT);
    uint64_t id = 0;
    cr_assert_eq(store_directory_lookup(d, "ALICE", &id), STORE_OK);
    cr_assert_eq(id, 10);
    cr_assert_eq(store_directory_release(d, "alice", 11), STORE_NOTFOUND, "only the holder");
    cr_assert_eq(store_directory_release(d, "alice", 10), STORE_OK);
    cr_assert_eq(store_directory_lookup(d, "alice", &id), STORE_NOTFOUND);
    store_close(d);
}

Test(store, unwritable_directory_fails_cleanly)
{
    struct store *s = NULL;
    cr_assert_eq(open_region("/proc/reel-cannot-exist", 1, &s),
                 STORE_ERROR);
    cr_assert(strstr(err, "/proc/reel-cannot-exist"), "%s", err);
}

static bool file_contains(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    static char data[4 << 20];
    size_t n = fread(data, 1, sizeof data, f);
    fclose(f);
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(data + i, needle, m) == 0)
            return true;
    return false;
}

static bool dir_contains(const char *d, const char *needle)
{
    const char *names[] = {"reel.db", "reel.db-wal", "reel.db-shm"};
    char path[512];
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", d, names[i]);
        if (file_contains(path, needle))
            return true;
    }
    return false;
}

Test(store, region_store_needs_a_key)
{
    struct store *s;
    struct store_options opts = {.connections = 1};
    cr_assert_eq(store_open(&s, STORE_KIND_REGION, dir, &opts, err, sizeof err), STORE_ERROR);
    cr_assert(strstr(err, "data key"), "%s", err);
}

Test(store, sensitive_fields_encrypted_at_rest)
{
    struct store *s;
    cr_assert_eq(open_region(dir, 1, &s), STORE_OK, "%s", err);
    struct store_user u = make_user(5, "secretive");
    snprintf(u.email, sizeof u.email, "very.private@example.org");
    snprintf(u.password_hash, sizeof u.password_hash, "$argon2id$v=19$m=8,t=1,p=1$SALTSALT$HASH");
    cr_assert_eq(store_user_create(s, &u, NULL), STORE_OK);
    struct store_user back;
    cr_assert_eq(store_user_get(s, 5, &back), STORE_OK);
    cr_assert_str_eq(back.email, "very.private@example.org");
    cr_assert_str_eq(back.password_hash, u.password_hash);
    store_close(s);
    cr_assert_not(dir_contains(dir, "very.private@example.org"), "e-mail stored in plaintext");
    cr_assert_not(dir_contains(dir, "SALTSALT"), "password hash stored in plaintext");
    cr_assert(dir_contains(dir, "secretive"), "the username is public and not encrypted");

    /* A site without the key cannot read them. */
    static const unsigned char other_key[STORE_FIELD_KEY_BYTES] = "another key, another region....";
    struct store_options opts = {.connections = 1, .field_key = other_key};
    cr_assert_eq(store_open(&s, STORE_KIND_REGION, dir, &opts, err, sizeof err), STORE_OK);
    cr_assert_eq(store_user_get(s, 5, &back), STORE_ERROR);
    store_close(s);
}

Test(store, sealed_values_are_bound_to_their_row)
{
    struct store *s;
    cr_assert_eq(open_region(dir, 1, &s), STORE_OK, "%s", err);
    struct store_user a = make_user(1, "alice"), b = make_user(2, "bob");
    cr_assert_eq(store_user_create(s, &a, NULL), STORE_OK);
    cr_assert_eq(store_user_create(s, &b, NULL), STORE_OK);
    store_close(s);
    /* Copy bob's sealed e-mail onto alice's row: decryption must fail, not
     * return bob's address as alice's. */
    char cmd[600];
    snprintf(cmd, sizeof cmd,
             "sqlite3 %s/reel.db \"UPDATE users SET email = (SELECT email FROM users WHERE id = 2) "
             "WHERE id = 1\"",
             dir);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(open_region(dir, 1, &s), STORE_OK, "%s", err);
    struct store_user back;
    cr_assert_eq(store_user_get(s, 1, &back), STORE_ERROR);
    cr_assert_eq(store_user_get(s, 2, &back), STORE_OK);
    store_close(s);
}

static struct store *open_with_replica(const char *primary, const char *replica)
{
    struct store *s;
    struct store_options opts = {.connections = 2, .field_key = test_key, .replica_count = 1};
    opts.replica_dirs[0] = replica;
    cr_assert_eq(store_open(&s, STORE_KIND_REGION, primary, &opts, err, sizeof err), STORE_OK,
                 "%s", err);
    return s;
}

static long long count_rows(const char *db_dir, const char *sql)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "sqlite3 %s/reel.db \"%s\"", db_dir, sql);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    long long v = -1;
    if (fscanf(p, "%lld", &v) != 1)
        v = -1;
    pclose(p);
    return v;
}

/* Users 1..n ("user1"...), each with a first session numbered 1000 + id. */
static void create_users(struct store *s, uint64_t n)
{
    for (uint64_t id = 1; id <= n; id++) {
        char name[16];
        snprintf(name, sizeof name, "user%llu", (unsigned long long)id);
        struct store_user u = make_user(id, name);
        struct store_session sess = {.id = 1000 + id, .user_id = id, .expires_ms = 1};
        cr_assert_eq(store_user_create(s, &u, &sess), STORE_OK);
    }
}

Test(store, writes_reach_the_replica_before_they_return)
{
    char primary[400], replica[400];
    snprintf(primary, sizeof primary, "%s/primary", dir);
    snprintf(replica, sizeof replica, "%s/replica", dir);
    struct store *s = open_with_replica(primary, replica);
    cr_assert_eq(store_replicas_healthy(s), 1);
    create_users(s, 20);
    cr_assert_eq(store_session_revoke(s, 1005, 9), STORE_OK);
    cr_assert_eq(store_user_update_profile(s, 3, "Three", "bio"), STORE_OK);
    /* Read the replica's file while the primary is still open. */
    cr_assert_eq(count_rows(replica, "SELECT count(*) FROM users"), 20);
    cr_assert_eq(count_rows(replica, "SELECT revoked_ms FROM sessions WHERE id = 1005"), 9);
    cr_assert_eq(count_rows(replica, "SELECT count(*) FROM users WHERE display_name = 'Three'"), 1);
    cr_assert_eq(count_rows(replica, "SELECT seq FROM _replication"),
                 count_rows(primary, "SELECT seq FROM _replication"));
    store_close(s);

    /* The replica alone, opened as a primary (promotion), has everything. */
    cr_assert_not(store_replica_is_stale(replica));
    cr_assert_eq(open_region(replica, 1, &s), STORE_OK, "%s", err);
    struct store_user back;
    cr_assert_eq(store_user_get(s, 20, &back), STORE_OK);
    cr_assert_str_eq(back.email, "user20@example.com");
    store_close(s);
}

Test(store, diverged_replica_is_dropped_then_copied_afresh)
{
    char primary[400], replica[400];
    snprintf(primary, sizeof primary, "%s/primary", dir);
    snprintf(replica, sizeof replica, "%s/replica", dir);
    struct store *s = open_with_replica(primary, replica);
    struct store_user u = make_user(1, "one");
    cr_assert_eq(store_user_create(s, &u, NULL), STORE_OK);
    /* Someone edits the replica behind Reel's back. */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "sqlite3 %s/reel.db \"UPDATE users SET display_name = 'tampered'\"",
             replica);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(store_user_update_profile(s, 1, "changed", NULL), STORE_OK,
                 "the primary keeps accepting writes");
    cr_assert_eq(store_replicas_healthy(s), 0);
    cr_assert(store_replica_is_stale(replica));
    store_close(s);

    s = open_with_replica(primary, replica);
    cr_assert_eq(store_replicas_healthy(s), 1);
    cr_assert_not(store_replica_is_stale(replica));
    cr_assert_eq(count_rows(replica, "SELECT count(*) FROM users WHERE display_name = 'changed'"), 1);
    store_close(s);
}

Test(store, replica_behind_after_crash_is_resynced)
{
    char primary[400], replica[400];
    snprintf(primary, sizeof primary, "%s/primary", dir);
    snprintf(replica, sizeof replica, "%s/replica", dir);
    struct store *s = open_with_replica(primary, replica);
    struct store_user u = make_user(1, "one");
    cr_assert_eq(store_user_create(s, &u, NULL), STORE_OK);
    store_close(s);
    /* Simulate a replica that missed the last transaction (restored from an
     * old copy): its sequence number lags. */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "sqlite3 %s/reel.db \"DELETE FROM users; UPDATE _replication SET seq = 0\"",
             replica);
    cr_assert_eq(system(cmd), 0);
    s = open_with_replica(primary, replica);
    cr_assert_eq(count_rows(replica, "SELECT count(*) FROM users"), 1);
    store_close(s);
}

Test(store, a_batch_is_one_replicated_transaction_and_a_failed_write_is_undone_alone)
{
    char primary[400], replica[400];
    snprintf(primary, sizeof primary, "%s/primary", dir);
    snprintf(replica, sizeof replica, "%s/replica", dir);
    struct store *s = open_with_replica(primary, replica);
    cr_assert_eq(store_batch_end(s), STORE_OK, "no batch: nothing to do");
    cr_assert_eq(store_batch_begin(s), STORE_OK);
    cr_assert_eq(store_batch_begin(s), STORE_ERROR, "batches do not nest");
    create_users(s, 10);
    /* The batch's own reads see its writes... */
    struct store_user back;
    cr_assert_eq(store_user_get(s, 7, &back), STORE_OK);
    cr_assert_str_eq(back.email, "user7@example.com");
    /* ... other connections see nothing until it commits. */
    cr_assert_eq(count_rows(primary, "SELECT count(*) FROM users"), 0);
    cr_assert_eq(count_rows(replica, "SELECT count(*) FROM users"), 0);
    /* A write that fails half-way (its user is inserted, then its session
     * id is taken) is undone alone; the batch goes on. */
    struct store_user dup = make_user(11, "user11");
    struct store_session taken = {.id = 1003, .user_id = 11, .expires_ms = 1};
    cr_assert_neq(store_user_create(s, &dup, &taken), STORE_OK);
    cr_assert_eq(store_user_get(s, 11, &back), STORE_NOTFOUND);
    struct store_user last = make_user(12, "user12");
    cr_assert_eq(store_user_create(s, &last, NULL), STORE_OK);
    cr_assert_eq(store_batch_end(s), STORE_OK);

    cr_assert_eq(count_rows(primary, "SELECT count(*) FROM users"), 11);
    cr_assert_eq(count_rows(primary, "SELECT count(*) FROM users WHERE id = 11"), 0);
    cr_assert_eq(count_rows(replica, "SELECT count(*) FROM users"), 11);
    cr_assert_eq(count_rows(replica, "SELECT count(*) FROM sessions"), 10);
    cr_assert_eq(count_rows(replica, "SELECT count(*) FROM users WHERE id = 11"), 0);
    cr_assert_eq(store_replicas_healthy(s), 1, "the replica applied the batch");
    cr_assert_eq(count_rows(replica, "SELECT seq FROM _replication"),
                 count_rows(primary, "SELECT seq FROM _replication"));
    /* After the batch, writes are their own transactions again. */
    cr_assert_eq(store_user_update_profile(s, 3, "Three", "bio"), STORE_OK);
    cr_assert_eq(count_rows(replica, "SELECT count(*) FROM users WHERE display_name = 'Three'"), 1);
    store_close(s);
    cr_assert_not(store_replica_is_stale(replica));
}
