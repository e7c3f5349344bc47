/*
 * The likes cache (likes_cache.c): a viewer's likes are answered from memory
 * only while no like or unlike of theirs came since before the list was
 * read; a viewer with too many is sent to the store; an erased user leaves
 * no list behind.
 */
#include "api/api.h"

#include <criterion/criterion.h>
#include <string.h>

#define USER 148056038008356000ULL
#define V 148056038008356864ULL

static struct likes_cache *cache;

static void setup(void)
{
    cache = api_likes_cache_create(1024);
    cr_assert_not_null(cache);
}

static void teardown(void)
{
    api_likes_cache_destroy(cache);
}

TestSuite(likes_cache, .init = setup, .fini = teardown);

static const uint64_t likes[] = {V + 1, V + 5, V + 9};

static void read_into_cache(uint64_t user)
{
    struct cache_stamp st;
    api_likes_cache_stamp(cache, user, &st);
    api_likes_cache_put(cache, user, likes, 3, false, &st);
}

Test(likes_cache, answers_from_the_list_until_a_like_or_unlike)
{
    const uint64_t page[] = {V + 5, V + 6, V + 9, V + 1, V};
    bool liked[5];
    cr_assert_eq(api_likes_cache_check(cache, USER, page, 5, liked), API_LIKES_MISS);
    read_into_cache(USER);
    memset(liked, 0x55, sizeof liked);
    cr_assert_eq(api_likes_cache_check(cache, USER, page, 5, liked), API_LIKES_HIT);
    cr_assert(liked[0] && !liked[1] && liked[2] && liked[3] && !liked[4]);
    api_likes_cache_changed(cache, STORE_ROW_LIKES, USER + 1, false); /* someone else */
    api_likes_cache_changed(cache, STORE_ROW_USER, USER, false);      /* a profile edit */
    api_likes_cache_changed(cache, STORE_ROW_VIDEO, V + 6, false);
    cr_assert_eq(api_likes_cache_check(cache, USER, page, 5, liked), API_LIKES_HIT);
    api_likes_cache_changed(cache, STORE_ROW_LIKES, USER, false); /* their like */
    cr_assert_eq(api_likes_cache_check(cache, USER, page, 5, liked), API_LIKES_MISS);
}

Test(likes_cache, a_like_during_the_read_is_not_missed)
{
    struct cache_stamp st;
    api_likes_cache_stamp(cache, USER, &st);
    api_likes_cache_changed(cache, STORE_ROW_LIKES, USER, false);
    api_likes_cache_put(cache, USER, likes, 3, false, &st);
    bool liked[1];
    cr_assert_eq(api_likes_cache_check(cache, USER, likes, 1, liked), API_LIKES_MISS);
}

Test(likes_cache, a_viewer_with_many_likes_is_sent_to_the_store)
{
    struct cache_stamp st;
    api_likes_cache_stamp(cache, USER, &st);
    api_likes_cache_put(cache, USER, likes, 3, true, &st);
    bool liked[1];
    cr_assert_eq(api_likes_cache_check(cache, USER, likes, 1, liked), API_LIKES_MANY);
    static uint64_t long_list[API_LIKES_KEPT + 1];
    api_likes_cache_stamp(cache, USER + 2, &st);
    api_likes_cache_put(cache, USER + 2, long_list, API_LIKES_KEPT + 1, false, &st);
    cr_assert_eq(api_likes_cache_check(cache, USER + 2, likes, 1, liked), API_LIKES_MISS,
                 "a list longer than kept is not taken");
}

Test(likes_cache, an_erased_user_and_too_many_rows_end_entries)
{
    read_into_cache(USER);
    read_into_cache(USER + 1);
    bool liked[3];
    api_likes_cache_changed(cache, STORE_ROW_USER, USER, true);
    cr_assert_eq(api_likes_cache_check(cache, USER, likes, 3, liked), API_LIKES_MISS);
    cr_assert_eq(api_likes_cache_check(cache, USER + 1, likes, 3, liked), API_LIKES_HIT);
    api_likes_cache_changed(cache, STORE_ROW_ALL, 0, false);
    cr_assert_eq(api_likes_cache_check(cache, USER + 1, likes, 3, liked), API_LIKES_MISS);
}

Test(likes_cache, no_cache_is_a_no_op)
{
    cr_assert_null(api_likes_cache_create(0));
    struct cache_stamp st;
    bool liked[1];
    api_likes_cache_stamp(NULL, USER, &st);
    api_likes_cache_put(NULL, USER, likes, 3, false, &st);
    api_likes_cache_changed(NULL, STORE_ROW_LIKES, USER, false);
    cr_assert_eq(api_likes_cache_check(NULL, USER, likes, 1, liked), API_LIKES_MISS);
}
