/*
 * The SQLite store: creation, migrations, users/sessions, the directory.
 */
#include "store/store.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/reel-store-XXXXXX";
static char err[256];

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
    cr_assert_eq(store_open(&s, STORE_KIND_REGION, dir, 2, err, sizeof err), STORE_OK, "%s", err);
    int v = store_schema_version(s);
    cr_assert_geq(v, 1);
    struct store_user u = make_user(100, "alice");
    cr_assert_eq(store_user_create(s, &u, NULL), STORE_OK);
    store_close(s);
    cr_assert_eq(store_open(&s, STORE_KIND_REGION, dir, 1, err, sizeof err), STORE_OK, "%s", err);
    cr_assert_eq(store_schema_version(s), v, "reopening must not migrate again");
    struct store_user back;
    cr_assert_eq(store_user_get(s, 100, &back), STORE_OK);
    cr_assert_str_eq(back.email, "alice@example.com");
    store_close(s);
}

Test(store, refuses_newer_schema)
{
    struct store *s;
    cr_assert_eq(store_open(&s, STORE_KIND_REGION, dir, 1, err, sizeof err), STORE_OK);
    store_close(s);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "sqlite3 %s/reel.db 'PRAGMA user_version=999'", dir);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(store_open(&s, STORE_KIND_REGION, dir, 1, err, sizeof err), STORE_ERROR);
    cr_assert(strstr(err, "newer than this reel"), "%s", err);
}

Test(store, users_and_sessions)
{
    struct store *s;
    cr_assert_eq(store_open(&s, STORE_KIND_REGION, dir, 2, err, sizeof err), STORE_OK);
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
    cr_assert_eq(store_open(&d, STORE_KIND_DIRECTORY, dir, 1, err, sizeof err), STORE_OK);
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
    cr_assert_eq(store_open(&s, STORE_KIND_REGION, "/proc/reel-cannot-exist", 1, err, sizeof err),
                 STORE_ERROR);
    cr_assert(strstr(err, "/proc/reel-cannot-exist"), "%s", err);
}
