/*
 * The card cache (card_cache.c): a card is served only while neither its
 * video's nor its creator's rows changed since before they were read, and
 * never when the creator was not known before the read.
 */
#include "api/api.h"
#include "core/clock.h"

#include <criterion/criterion.h>
#include <string.h>

#define VIDEO 148056038008356864ULL
#define CREATOR 148056038008356000ULL

static struct card_cache *cache;

static void setup(void)
{
    cache = api_card_cache_create(1024);
    cr_assert_not_null(cache);
}

static void teardown(void)
{
    api_card_cache_destroy(cache);
}

TestSuite(card_cache, .init = setup, .fini = teardown);

static const char body[] = "\"id\":\"148056038008356864\",\"likes\":3";

/* One read: with no users row changed during it, the card is kept. */
static void cache_card(uint64_t video, uint64_t creator)
{
    struct card_stamp st;
    api_card_stamp(cache, video, &st);
    api_card_put(cache, video, creator, &st, body, strlen(body));
}

static bool cached(uint64_t video)
{
    struct buf b;
    buf_init(&b, 1 << 16);
    bool hit = api_card_copy(cache, video, &b);
    if (hit)
        cr_assert_str_eq(b.data, body);
    else
        cr_assert_eq(b.len, 0, "a miss appends nothing");
    buf_clear(&b);
    return hit;
}

Test(card_cache, kept_from_the_first_read_unless_a_user_changed_during_it)
{
    struct card_stamp st;
    api_card_stamp(cache, VIDEO, &st);
    cr_assert_eq(st.creator_id, 0, "the creator is not known yet");
    api_card_cache_changed(cache, STORE_ROW_USER, CREATOR + 9, false); /* some user, meanwhile */
    api_card_put(cache, VIDEO, CREATOR, &st, body, strlen(body));
    cr_assert_not(cached(VIDEO), "a users row changed during the read: maybe the creator's");
    api_card_stamp(cache, VIDEO, &st);
    cr_assert_eq(st.creator_id, CREATOR, "but the creator was learnt");
    api_card_cache_changed(cache, STORE_ROW_USER, CREATOR + 9, false);
    api_card_put(cache, VIDEO, CREATOR, &st, body, strlen(body));
    cr_assert(cached(VIDEO), "the creator's own counter did not move");
    cr_assert_not(cached(VIDEO + 1));

    api_card_stamp(cache, VIDEO + 1, &st);
    api_card_cache_changed(cache, STORE_ROW_VIDEO, VIDEO + 5, false); /* a video row does not matter */
    api_card_put(cache, VIDEO + 1, CREATOR, &st, body, strlen(body));
    cr_assert(cached(VIDEO + 1), "kept from its first read");
}

Test(card_cache, a_change_of_the_video_or_its_creator_ends_it)
{
    cache_card(VIDEO, CREATOR);
    cr_assert(cached(VIDEO));
    api_card_cache_changed(cache, STORE_ROW_USER, CREATOR + 7, false);
    api_card_cache_changed(cache, STORE_ROW_VIDEO, VIDEO + 7, false);
    cr_assert(cached(VIDEO), "other rows leave it (unless their counters collide)");
    api_card_cache_changed(cache, STORE_ROW_VIDEO, VIDEO, false);
    cr_assert_not(cached(VIDEO));
    cache_card(VIDEO, CREATOR);
    api_card_cache_changed(cache, STORE_ROW_USER, CREATOR, false);
    cr_assert_not(cached(VIDEO));
    cache_card(VIDEO, CREATOR);
    api_card_cache_changed(cache, STORE_ROW_ALL, 0, false);
    cr_assert_not(cached(VIDEO));
    cache_card(VIDEO, CREATOR);
    cr_assert(cached(VIDEO));
}

/* A change between the stamp (before the read) and the put: what was read
 * may be from before it, so the card is not taken as current, and not even
 * kept (it may have been a deletion, scrubbed before the put). */
Test(card_cache, a_change_during_the_read_is_not_missed)
{
    cache_card(VIDEO, CREATOR);
    struct card_stamp st;
    api_card_cache_changed(cache, STORE_ROW_VIDEO, VIDEO, false);
    api_card_stamp(cache, VIDEO, &st);
    api_card_cache_changed(cache, STORE_ROW_USER, CREATOR, false); /* committed meanwhile */
    api_card_put(cache, VIDEO, CREATOR, &st, body, strlen(body));
    cr_assert_not(cached(VIDEO));

    api_card_stamp(cache, VIDEO, &st);
    api_card_cache_changed(cache, STORE_ROW_VIDEO, VIDEO, true); /* deleted meanwhile */
    api_card_put(cache, VIDEO, CREATOR, &st, body, strlen(body));
    api_card_stamp(cache, VIDEO, &st);
    api_card_cache_changed(cache, STORE_ROW_VIDEO, VIDEO + 3, false);
    api_card_put(cache, VIDEO, CREATOR, &st, body, strlen(body));
    cr_assert(cached(VIDEO), "kept again from a read after the deletion");
}

Test(card_cache, a_zero_size_is_no_cache)
{
    cr_assert_null(api_card_cache_create(0));
}

/* A deleted row's cards are gone from memory, not only out of date: a
 * deleted video's slot, every card of a deleted user. */
Test(card_cache, deleted_rows_leave_no_card_in_memory)
{
    cache_card(VIDEO, CREATOR);
    cache_card(VIDEO + 1, CREATOR);
    cache_card(VIDEO + 2, CREATOR + 1);
    struct card_stamp st;
    api_card_cache_changed(cache, STORE_ROW_VIDEO, VIDEO, true);
    api_card_stamp(cache, VIDEO, &st);
    cr_assert_eq(st.creator_id, 0, "the slot was emptied");
    api_card_cache_changed(cache, STORE_ROW_USER, CREATOR, true);
    api_card_stamp(cache, VIDEO + 1, &st);
    cr_assert_eq(st.creator_id, 0, "the user's other card too");
    api_card_stamp(cache, VIDEO + 2, &st);
    cr_assert_eq(st.creator_id, CREATOR + 1, "another creator's card stays");
    cr_assert(cached(VIDEO + 2));
}

/* A cache of four slots: one set of four ways. */
static void setup_one_set(void)
{
    cache = api_card_cache_create(4);
    cr_assert_not_null(cache);
}

TestSuite(card_cache_one_set, .init = setup_one_set, .fini = teardown);

/* Any four videos are kept side by side (one slot per id lost a card to
 * every collision), and a fifth takes the way rendered longest ago. */
Test(card_cache_one_set, videos_sharing_a_set_are_kept_side_by_side)
{
    for (uint64_t i = 0; i < 4; i++)
        cache_card(VIDEO + 100 * i, CREATOR);
    for (uint64_t i = 0; i < 4; i++)
        cr_assert(cached(VIDEO + 100 * i), "video %llu of 4 is kept", (unsigned long long)i);
    cache_card(VIDEO + 400, CREATOR);
    cr_assert(cached(VIDEO + 400));
    cr_assert_not(cached(VIDEO), "the first rendered gave way");
    for (uint64_t i = 1; i < 4; i++)
        cr_assert(cached(VIDEO + 100 * i), "the others stay");
}

/* A card rendered again goes back to its own way even when another way of
 * the set is empty, so deleting the video leaves no second copy behind; and
 * too many rows at once wipe every card, not only outdate it. */
Test(card_cache_one_set, one_copy_per_video_and_wiped_when_told_all)
{
    for (uint64_t i = 0; i < 4; i++)
        cache_card(VIDEO + 100 * i, CREATOR);
    api_card_cache_changed(cache, STORE_ROW_VIDEO, VIDEO, true); /* a way is empty now */
    api_card_cache_changed(cache, STORE_ROW_VIDEO, VIDEO + 200, false);
    cache_card(VIDEO + 200, CREATOR); /* rendered again after a change */
    cr_assert(cached(VIDEO + 200));
    api_card_cache_changed(cache, STORE_ROW_VIDEO, VIDEO + 200, true);
    struct card_stamp st;
    api_card_stamp(cache, VIDEO + 200, &st);
    cr_assert_eq(st.creator_id, 0, "no copy of the deleted video's card is left");

    api_card_stamp(cache, VIDEO + 100, &st);
    cr_assert_eq(st.creator_id, CREATOR);
    api_card_cache_changed(cache, STORE_ROW_ALL, 0, false);
    api_card_stamp(cache, VIDEO + 100, &st);
    cr_assert_eq(st.creator_id, 0, "told 'all': every slot is wiped");
}

/* The refresher's question: cards copied since they were rendered and old
 * enough. Each is given once (then marked not copied), a card nobody
 * copies is not given, and neither is one too young. */
Test(card_cache, due_cards_are_the_copied_old_ones_once)
{
    uint64_t other = VIDEO + 1;
    cache_card(VIDEO, CREATOR);
    cache_card(other, CREATOR);
    cr_assert(cached(VIDEO)); /* copied: in use */
    int64_t now = (int64_t)(clock_mono_ns() / 1000000);
    uint64_t ids[4];
    cr_assert_eq(api_card_cache_due(cache, now, 8000, ids, 4), 0, "not old enough yet");
    cr_assert_eq(api_card_cache_due(cache, now + 8000, 8000, ids, 4), 1);
    cr_assert_eq(ids[0], VIDEO, "the card not copied is left to expire");
    cr_assert_eq(api_card_cache_due(cache, now + 8000, 8000, ids, 4), 0, "given once");
    cr_assert(cached(VIDEO));
    cr_assert(cached(other));
    cr_assert_eq(api_card_cache_due(cache, now + 8000, 8000, ids, 1), 1, "max is kept to");
    cr_assert_eq(api_card_cache_due(cache, now + 8000, 8000, ids, 4), 1);
    /* Rendered again: not copied since. */
    cache_card(VIDEO, CREATOR);
    cr_assert_eq(api_card_cache_due(cache, now + 8000, 8000, ids, 4), 0);
}
