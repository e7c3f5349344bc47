/*
 * The session cache (session_cache.c): a session is served from memory
 * only while its row has not changed since before it was read; an erased
 * user's sessions leave memory; no cache is a no-op.
 */
#include "api/api.h"

#include <criterion/criterion.h>
#include <string.h>

#define SESSION 148056038008356864ULL
#define USER 148056038008356000ULL

static struct session_cache *cache;

static void setup(void)
{
    cache = api_session_cache_create(1024);
    cr_assert_not_null(cache);
}

static void teardown(void)
{
    api_session_cache_destroy(cache);
}

TestSuite(session_cache, .init = setup, .fini = teardown);

static struct store_session session(uint64_t id, uint64_t user)
{
    struct store_session s;
    memset(&s, 0, sizeof s);
    s.id = id;
    s.user_id = user;
    memset(s.token_hash, 0xab, sizeof s.token_hash);
    s.expires_ms = 4102444800000LL;
    return s;
}

/* A read with nothing changed during it. */
static void read_into_cache(uint64_t id, uint64_t user)
{
    struct cache_stamp st;
    api_session_cache_stamp(cache, id, &st);
    struct store_session s = session(id, user);
    api_session_cache_put(cache, &s, &st);
}

static bool cached(uint64_t id)
{
    struct store_session out;
    memset(&out, 0, sizeof out);
    bool hit = api_session_cache_get(cache, id, &out);
    if (hit) {
        struct store_session want = session(id, out.user_id);
        cr_assert_eq(out.id, id);
        cr_assert_eq(memcmp(out.token_hash, want.token_hash, sizeof want.token_hash), 0);
        cr_assert_eq(out.expires_ms, want.expires_ms);
    }
    return hit;
}

Test(session_cache, kept_until_its_row_changes)
{
    cr_assert_not(cached(SESSION));
    read_into_cache(SESSION, USER);
    cr_assert(cached(SESSION));
    cr_assert_not(cached(SESSION + 1));
    api_session_cache_changed(cache, STORE_ROW_SESSION, SESSION + 7, false);
    api_session_cache_changed(cache, STORE_ROW_USER, USER, false); /* a profile edit */
    api_session_cache_changed(cache, STORE_ROW_VIDEO, SESSION, false);
    cr_assert(cached(SESSION), "other rows leave it (unless their counters collide)");
    api_session_cache_changed(cache, STORE_ROW_SESSION, SESSION, false); /* a logout */
    cr_assert_not(cached(SESSION), "its row changed: read it again");
    read_into_cache(SESSION, USER);
    cr_assert(cached(SESSION), "kept again from a read after the change");
}

Test(session_cache, a_change_during_the_read_is_not_missed)
{
    struct cache_stamp st;
    api_session_cache_stamp(cache, SESSION, &st);
    api_session_cache_changed(cache, STORE_ROW_SESSION, SESSION, false); /* revoked meanwhile */
    struct store_session s = session(SESSION, USER);
    api_session_cache_put(cache, &s, &st);
    cr_assert_not(cached(SESSION), "what was read may be from before the revocation");
}

Test(session_cache, too_many_rows_at_once_end_every_entry)
{
    read_into_cache(SESSION, USER);
    read_into_cache(SESSION + 1, USER + 1);
    api_session_cache_changed(cache, STORE_ROW_ALL, 0, false);
    cr_assert_not(cached(SESSION));
    cr_assert_not(cached(SESSION + 1));
}

Test(session_cache, an_erased_users_sessions_leave_memory)
{
    read_into_cache(SESSION, USER);
    read_into_cache(SESSION + 1, USER);
    read_into_cache(SESSION + 2, USER + 1);
    api_session_cache_changed(cache, STORE_ROW_USER, USER, true);
    cr_assert_not(cached(SESSION));
    cr_assert_not(cached(SESSION + 1));
    cr_assert(cached(SESSION + 2), "another user's session stays");
}

Test(session_cache, four_sessions_sharing_a_set_are_kept_side_by_side)
{
    struct session_cache *small = api_session_cache_create(4); /* one set of four */
    cr_assert_not_null(small);
    struct session_cache *saved = cache;
    cache = small;
    for (uint64_t i = 0; i < 4; i++)
        read_into_cache(SESSION + i, USER);
    for (uint64_t i = 0; i < 4; i++)
        cr_assert(cached(SESSION + i));
    read_into_cache(SESSION + 4, USER);
    cr_assert(cached(SESSION + 4));
    int kept = 0;
    for (uint64_t i = 0; i < 4; i++)
        kept += cached(SESSION + i);
    cr_assert_eq(kept, 3, "one of the four gave way");
    cache = saved;
    api_session_cache_destroy(small);
}

Test(session_cache, no_cache_is_a_no_op)
{
    cr_assert_null(api_session_cache_create(0));
    struct cache_stamp st;
    api_session_cache_stamp(NULL, SESSION, &st);
    struct store_session s = session(SESSION, USER), out;
    api_session_cache_put(NULL, &s, &st);
    api_session_cache_changed(NULL, STORE_ROW_SESSION, SESSION, false);
    cr_assert_not(api_session_cache_get(NULL, SESSION, &out));
}
