/*
 * The popular feed's seen filter (feed/seen.c): a user's set holds the last
 * seen_max videos shown and nothing else, the oldest leaving first; repeats
 * count once; the least recently active user is dropped beyond seen_users;
 * an erased user leaves nothing behind.
 */
#include "events/event.h"
#include "feed/seen.h"

#include <criterion/criterion.h>

#define U 148056038008356000ULL
#define V 148056038008356864ULL

static size_t set_size(struct feed_seen *seen, uint64_t user)
{
    struct feed_seen_set set;
    cr_assert_eq(feed_seen_set_get(seen, user, &set), 0);
    size_t n = set.n;
    feed_seen_set_free(&set);
    return n;
}

Test(seen, the_set_holds_the_last_seen_max_videos_and_nothing_else)
{
    /* 5,000 distinct videos through a ring of 2,000 (the default): the ring
     * grows by doubling and then overwrites its oldest. */
    struct feed_seen *seen = feed_seen_create(2000, 100);
    cr_assert_not_null(seen);
    for (uint64_t i = 1; i <= 5000; i++)
        cr_assert_eq(feed_seen_add(seen, U, V + i), 0);
    struct feed_seen_set set;
    cr_assert_eq(feed_seen_set_get(seen, U, &set), 0);
    cr_assert_eq(set.n, 2000);
    for (uint64_t i = 1; i <= 5000; i++)
        cr_assert_eq(feed_seen_set_has(&set, V + i), i > 3000, "video %llu", (unsigned long long)i);
    cr_assert_not(feed_seen_set_has(&set, V + 5001));
    cr_assert_not(feed_seen_set_has(&set, 0));
    feed_seen_set_free(&set);
    cr_assert_null(set.slots);
    feed_seen_destroy(seen);
}

Test(seen, a_repeat_counts_once_and_another_user_sees_nothing_of_it)
{
    struct feed_seen *seen = feed_seen_create(64, 100);
    /* Far apart repeats take a ring slot each but are one id of the set. */
    for (int round = 0; round < 3; round++)
        for (uint64_t i = 1; i <= 10; i++)
            feed_seen_add(seen, U, V + i);
    cr_assert_eq(set_size(seen, U), 10);
    cr_assert_eq(set_size(seen, U + 1), 0);

    struct feed_seen_set other;
    cr_assert_eq(feed_seen_set_get(seen, U + 1, &other), 0);
    cr_assert_not(feed_seen_set_has(&other, V + 1));
    feed_seen_set_free(&other);
    feed_seen_destroy(seen);
}

Test(seen, a_batch_of_events_adds_its_videos)
{
    struct feed_seen *seen = feed_seen_create(64, 100);
    struct event ev[3] = {{.video_id = V + 1}, {.video_id = 0}, {.video_id = V + 2}};
    cr_assert_eq(feed_seen_add_many(seen, U, ev, 3), 0);
    struct feed_seen_set set;
    cr_assert_eq(feed_seen_set_get(seen, U, &set), 0);
    cr_assert_eq(set.n, 2);
    cr_assert(feed_seen_set_has(&set, V + 1));
    cr_assert(feed_seen_set_has(&set, V + 2));
    feed_seen_set_free(&set);
    feed_seen_destroy(seen);
}

Test(seen, forget_erases_and_the_least_recent_user_is_dropped)
{
    /* One user per shard at most (64 shards): users that share a shard push
     * each other out, least recently active first. */
    struct feed_seen *seen = feed_seen_create(64, 64);
    for (uint64_t u = 0; u < 1000; u++)
        feed_seen_add(seen, U + u, V + 1);
    cr_assert_leq(feed_seen_users(seen), 64);
    cr_assert_eq(set_size(seen, U + 999), 1, "the most recent user is kept");
    size_t kept = 0;
    for (uint64_t u = 0; u < 1000; u++)
        kept += set_size(seen, U + u);
    cr_assert_eq(kept, feed_seen_users(seen));

    feed_seen_forget(seen, U + 999);
    cr_assert_eq(set_size(seen, U + 999), 0);
    feed_seen_destroy(seen);
}
