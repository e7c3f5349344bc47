/*
 * The engine's promises, each checked through the public interface
 * (rec/engine.h): events change the very next feed, skips and "not
 * interested" act on creators, re-ranking rules hold over long sessions, new
 * videos get their first impressions within budget, ids are admitted and
 * expire, and concurrent feeds and events are safe.
 */
#include "helpers.h"
#include "rec/engine_int.h"

#include <pthread.h>
#include <stdlib.h>

#define OLD (T0 - 30LL * 86400000)

/* Coeng pairs: background users each engage with X_k then Y_k. After a new
 * user watches X_k, the very next page leads with Y_k. */
Test(engine, event_changes_the_very_next_feed)
{
    struct config_rec c = test_config();
    struct rec_engine *e = test_engine(&c);
    rec_engine_tick(e, T0);
    add_videos(e, 1, 400, NULL, OLD);
    int64_t t = T0;
    for (uint64_t k = 0; k < 50; k++) {
        uint64_t u = 100 + k, x = 10 + k, y = 200 + k;
        struct event evs[] = {
            ev(EVENT_IMPRESSION, u, x, t, 0), ev(EVENT_WATCH, u, x, t + 1, 10000),
            ev(EVENT_IMPRESSION, u, y, t + 2, 0), ev(EVENT_WATCH, u, y, t + 3, 10000),
        };
        cr_assert_eq(rec_engine_observe_batch(e, evs, 4), 4);
        t += 10;
    }
    struct rec_feed_item p1[10], p2[10];
    int n1 = feed(e, 1, t, 10, p1);
    cr_assert_eq(n1, 10);
    uint64_t k = 0;
    while (in_page(p1, n1, 200 + k) >= 0 || in_page(p1, n1, 10 + k) >= 0)
        k++;
    struct event w[] = {ev(EVENT_IMPRESSION, 1, 10 + k, t + 1, 0),
                        ev(EVENT_WATCH, 1, 10 + k, t + 2, 10000)};
    cr_assert_eq(rec_engine_observe_batch(e, w, 2), 2);
    int n2 = feed(e, 1, t + 3, 10, p2);
    cr_assert_eq(n2, 10);
    cr_assert_eq(in_page(p2, n2, 200 + k), 0, "the partner of the watched video leads the page");
    cr_assert(p2[0].sources & REC_SOURCE_COENGAGED);
    rec_engine_destroy(e);
}

/* The co-engaged source hands over the best candidates_coengaged partners
 * of the user's recent engagements, and no others: video 1 is co-engaged
 * with partners 20..29, partner 20 + j by j + 1 users (so the higher j, the
 * stronger), and with only that source and random fill, the page holds
 * exactly partners 27, 28 and 29 marked as co-engaged. */
/* A configuration with every candidate source and exploration off, for a
 * test that turns on the one it looks at. */
static struct config_rec no_sources_config(void)
{
    struct config_rec c = test_config();
    c.candidates_nearest = 0;
    c.candidates_coengaged = 0;
    c.candidates_trending = 0;
    c.candidates_following = 0;
    c.candidates_fresh = 0;
    c.explore_share = 0;
    return c;
}

/* Videos 1..400; video 1 co-engaged with partners 20..29 (20 + j by j + 1
 * users), then user 7 watches video 1. Returns the time after. */
static int64_t coengage_partners(struct rec_engine *e)
{
    add_videos(e, 1, 400, NULL, OLD);
    int64_t t = T0;
    uint64_t u = 100;
    for (uint64_t j = 0; j < 10; j++)
        for (uint64_t k = 0; k <= j; k++, u++, t += 10) {
            struct event evs[] = {
                ev(EVENT_IMPRESSION, u, 1, t, 0), ev(EVENT_WATCH, u, 1, t + 1, 10000),
                ev(EVENT_IMPRESSION, u, 20 + j, t + 2, 0),
                ev(EVENT_WATCH, u, 20 + j, t + 3, 10000),
            };
            cr_assert_eq(rec_engine_observe_batch(e, evs, 4), 4);
        }
    struct event w[] = {ev(EVENT_IMPRESSION, 7, 1, t, 0), ev(EVENT_WATCH, 7, 1, t + 1, 10000)};
    cr_assert_eq(rec_engine_observe_batch(e, w, 2), 2);
    return t + 2;
}

Test(engine, coengaged_source_hands_over_the_best_partners)
{
    struct config_rec c = no_sources_config();
    c.candidates_coengaged = 3;
    struct rec_engine *e = test_engine(&c);
    rec_engine_tick(e, T0);
    int64_t t = coengage_partners(e);
    struct rec_feed_item page[10];
    int n = feed(e, 7, t, 10, page);
    cr_assert_eq(n, 10);
    int marked = 0;
    for (int i = 0; i < n; i++)
        if (page[i].sources & REC_SOURCE_COENGAGED) {
            marked++;
            cr_assert(page[i].video_id >= 27 && page[i].video_id <= 29,
                      "video %llu is not among the 3 best partners",
                      (unsigned long long)page[i].video_id);
        }
    cr_assert_eq(marked, 3, "the 3 best partners are candidates (%d marked)", marked);
    rec_engine_destroy(e);
}

static uint64_t creator_mod20(unsigned i)
{
    return 500 + i % 20;
}

static void ranking(struct rec_engine *e, uint64_t user, const uint64_t *cands, size_t n,
                    struct rec_feed_item *out, int *count)
{
    struct rec_feed_request r = {.user_id = user, .now_ms = T0 + 100000, .limit = 100,
                                 .policy = REC_POLICY_REEL, .candidates = cands,
                                 .candidate_count = n};
    *count = rec_engine_feed(e, &r, out);
    cr_assert_geq(*count, 0);
}

/* A caller's own candidates get their co-engagement with the user's recent
 * engagements, whichever is the longer list: two candidates against ten
 * partners, and sixty against them. Only partners are marked co-engaged,
 * and the stronger partner ranks above the weaker. */
Test(engine, given_candidates_get_their_coengagement)
{
    struct config_rec c = no_sources_config();
    c.candidates_coengaged = 3;
    struct rec_engine *e = test_engine(&c);
    rec_engine_tick(e, T0);
    coengage_partners(e);
    uint64_t few[] = {300, 25}, many[62];
    for (int i = 0; i < 60; i++)
        many[i] = 301 + (uint64_t)i;
    many[60] = 21;
    many[61] = 28;
    struct {
        const uint64_t *ids;
        size_t n;
    } lists[] = {{few, 2}, {many, 62}};
    for (size_t l = 0; l < 2; l++) {
        struct rec_feed_item out[100];
        int n;
        ranking(e, 7, lists[l].ids, lists[l].n, out, &n);
        cr_assert_eq(n, (int)lists[l].n);
        for (int i = 0; i < n; i++) {
            uint64_t id = out[i].video_id;
            int partner = id >= 20 && id <= 29;
            cr_assert_eq(!!(out[i].sources & REC_SOURCE_COENGAGED), partner,
                         "list %zu: video %llu", l, (unsigned long long)id);
        }
        if (l == 1)
            cr_assert_lt(in_page(out, n, 28), in_page(out, n, 21),
                         "partner 28 (9 co-engagements) ranks above 21 (2)");
    }
    rec_engine_destroy(e);
}

/* Two engines, identical but for three skips of one creator's videos by the
 * user: in the one with the skips, that creator's other videos leave the top
 * of the user's ranking. */
Test(engine, skipped_creator_sinks)
{
    struct config_rec c = test_config();
    c.explore_share = 0;
    struct rec_engine *a = test_engine(&c), *b = test_engine(&c);
    rec_engine_tick(a, T0);
    rec_engine_tick(b, T0);
    add_videos(a, 1, 200, creator_mod20, OLD);
    add_videos(b, 1, 200, creator_mod20, OLD);
    /* Video ids 6, 26, 46, ... (index 5 + 20j) belong to creator 505. */
    for (uint64_t v = 6; v <= 46; v += 20) {
        struct event s[] = {ev(EVENT_IMPRESSION, 7, v, T0 + (int64_t)v, 0),
                            ev(EVENT_SKIP, 7, v, T0 + (int64_t)v + 1, 500)};
        cr_assert_eq(rec_engine_observe_batch(b, s, 2), 2);
        /* engine a sees the impressions only (the same seen videos) */
        cr_assert_eq(rec_engine_observe(a, &s[0]), 0);
    }
    uint64_t cands[200];
    size_t n = 0;
    for (uint64_t v = 1; v <= 200; v++)
        if (v != 6 && v != 26 && v != 46)
            cands[n++] = v;
    struct rec_feed_item ra[100], rb[100];
    int na, nb;
    ranking(a, 7, cands, n, ra, &na);
    ranking(b, 7, cands, n, rb, &nb);
    cr_assert_eq(na, 100);
    cr_assert_eq(nb, 100);
    int before = 0, after = 0;
    for (int i = 0; i < 100; i++) {
        before += (ra[i].video_id - 1) % 20 == 5;
        after += (rb[i].video_id - 1) % 20 == 5;
    }
    cr_assert_gt(before, 0, "without skips the creator is in the top half");
    cr_assert_eq(after, 0, "after three skips none of the creator's videos is in the top half");
    rec_engine_destroy(a);
    rec_engine_destroy(b);
}

static uint64_t skewed_creator(unsigned i)
{
    /* creator 1 owns 40% of the catalogue */
    return i % 5 < 2 ? 1 : 2 + i % 11;
}

/* A long session: pages of 10, the client reporting impressions and
 * watches (long for creator 1, so the model wants creator 1 everywhere). */
static void long_session(struct rec_engine *e, int pages, uint64_t *shown, uint64_t *creators,
                         size_t *count)
{
    size_t n = 0;
    int64_t t = T0;
    struct rec_feed_item page[10];
    for (int p = 0; p < pages; p++) {
        int got = feed(e, 42, t, 10, page);
        for (int i = 0; i < got; i++) {
            uint64_t v = page[i].video_id;
            uint64_t cr = skewed_creator((unsigned)(v - 1));
            shown[n] = v;
            creators[n] = cr;
            n++;
            struct event evs[] = {ev(EVENT_IMPRESSION, 42, v, t + 1, 0),
                                  ev(EVENT_WATCH, 42, v, t + 2, cr == 1 ? 20000 : 2000)};
            cr_assert_eq(rec_engine_observe_batch(e, evs, 2), 2);
        }
        t += 1000;
    }
    *count = n;
}

Test(engine, no_two_consecutive_videos_of_one_creator_over_1000_pages)
{
    struct config_rec c = test_config();
    struct rec_engine *e = test_engine(&c);
    rec_engine_tick(e, T0);
    add_videos(e, 1, 12000, skewed_creator, OLD);
    static uint64_t shown[10000], creators[10000];
    size_t n;
    long_session(e, 1000, shown, creators, &n);
    cr_assert_geq(n, 9900, "pages stay (nearly) full: %zu items", n);
    for (size_t i = 1; i < n; i++)
        cr_assert_neq(creators[i], creators[i - 1], "items %zu and %zu share creator %llu",
                      i - 1, i, (unsigned long long)creators[i]);
    rec_engine_destroy(e);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

Test(engine, nothing_shown_twice_in_10000_impressions)
{
    struct config_rec c = test_config();
    struct rec_engine *e = test_engine(&c);
    rec_engine_tick(e, T0);
    add_videos(e, 1, 12000, skewed_creator, OLD);
    static uint64_t shown[10000], creators[10000];
    size_t n;
    long_session(e, 1000, shown, creators, &n);
    cr_assert_geq(n, 9900);
    qsort(shown, n, sizeof shown[0], cmp_u64);
    for (size_t i = 1; i < n; i++)
        cr_assert_neq(shown[i], shown[i - 1], "video %llu shown twice",
                      (unsigned long long)shown[i]);
    rec_engine_destroy(e);
}

/* With every other source off, random rows are all there is: pages stay
 * full also once the user has seen most of the catalogue (where a random
 * row is more likely seen than not), until the last few unseen videos are
 * more than the fill's bounded random draws find. */
Test(engine, random_fill_serves_the_whole_catalogue_in_full_pages)
{
    struct config_rec c = no_sources_config();
    struct rec_engine *e = test_engine(&c);
    rec_engine_tick(e, T0);
    add_videos(e, 1, 400, NULL, OLD);
    static uint64_t shown[400];
    size_t n = 0;
    struct rec_feed_item page[10];
    for (int p = 0; p < 100 && n < 400; p++) {
        int got = feed(e, 42, T0 + p * 1000, 10, page);
        if (n <= 340)
            cr_assert_eq(got, 10, "page %d has %d items after %zu shown", p, got, n);
        for (int i = 0; i < got; i++)
            shown[n++] = page[i].video_id;
    }
    /* The seen filter's rare false positive may hide a video or two. */
    cr_assert_geq(n, 396, "%zu shown", n);
    qsort(shown, n, sizeof shown[0], cmp_u64);
    for (size_t i = 1; i < n; i++)
        cr_assert_neq(shown[i], shown[i - 1], "video %llu shown twice",
                      (unsigned long long)shown[i]);
    rec_engine_destroy(e);
}

/* A new video among 2,000 old ones is shown in the exploration slot of the
 * first pages, exactly fresh_budget times as exploration; then it is
 * judged: watched -> promoted (still served), skipped -> retired (never
 * again). */
Test(engine, new_video_gets_first_impressions_within_its_budget)
{
    struct config_rec c = test_config();
    c.fresh_budget = 5;
    c.explore_share = 0.2;
    struct rec_engine *e = test_engine(&c);
    rec_engine_tick(e, T0);
    add_videos(e, 1, 2000, NULL, OLD);
    const char *tags[] = {"new"};
    struct rec_video good = {.id = 90001, .creator_id = 7001, .created_ms = T0,
                             .duration_ms = 10000, .hashtags = tags, .hashtag_count = 1};
    struct rec_video bad = {.id = 90002, .creator_id = 7002, .created_ms = T0,
                            .duration_ms = 10000, .hashtags = tags, .hashtag_count = 1};
    cr_assert_eq(rec_video_add(e, &good), 0);
    cr_assert_eq(rec_video_add(e, &bad), 0);
    int first_good = -1, first_bad = -1, explore_good = 0, explore_bad = 0, bad_after = 0;
    int bad_impressions = 0;
    struct rec_feed_item page[10];
    for (int r = 0; r < 200; r++) {
        uint64_t user = 1000 + (uint64_t)r;
        int64_t t = T0 + 1000LL * r;
        int n = feed(e, user, t, 10, page);
        cr_assert_eq(n, 10);
        for (int i = 0; i < n; i++) {
            uint64_t v = page[i].video_id;
            if (v == good.id) {
                if (first_good < 0)
                    first_good = r;
                explore_good += page[i].explore;
            }
            if (v == bad.id) {
                if (first_bad < 0)
                    first_bad = r;
                explore_bad += page[i].explore;
                if (bad_impressions >= 5)
                    bad_after++;
                bad_impressions++;
            }
            struct event evs[] = {
                ev(EVENT_IMPRESSION, user, v, t + 1, 0),
                v == bad.id ? ev(EVENT_SKIP, user, v, t + 2, 300)
                            : ev(EVENT_WATCH, user, v, t + 2, 10000),
            };
            cr_assert_eq(rec_engine_observe_batch(e, evs, 2), 2);
        }
    }
    cr_assert(first_good >= 0 && first_good <= 1, "first shown at request %d", first_good);
    cr_assert(first_bad >= 0 && first_bad <= 5, "first shown at request %d", first_bad);
    cr_assert_eq(explore_good, 5, "exploration impressions %d, budget 5", explore_good);
    cr_assert_eq(explore_bad, 5);
    cr_assert_eq(bad_after, 0, "a retired video is not served again");
    rec_engine_destroy(e);
}

static uint64_t creator_mod10(unsigned i)
{
    return 300 + i % 10;
}

Test(engine, not_interested_removes_the_creator)
{
    struct config_rec c = test_config();
    struct rec_engine *e = test_engine(&c);
    rec_engine_tick(e, T0);
    add_videos(e, 1, 300, creator_mod10, OLD);
    struct rec_feed_item page[10];
    int n = feed(e, 5, T0, 10, page);
    cr_assert_eq(n, 10);
    uint64_t v = page[0].video_id, creator = creator_mod10((unsigned)(v - 1));
    struct event x[] = {ev(EVENT_IMPRESSION, 5, v, T0 + 1, 0),
                        ev(EVENT_NOT_INTERESTED, 5, v, T0 + 2, 0)};
    cr_assert_eq(rec_engine_observe_batch(e, x, 2), 2);
    int others_see_it = 0;
    for (int p = 0; p < 25; p++) {
        n = feed(e, 5, T0 + 10 + p, 10, page);
        for (int i = 0; i < n; i++)
            cr_assert_neq(creator_mod10((unsigned)(page[i].video_id - 1)), creator,
                          "page %d shows video %llu of the removed creator", p,
                          (unsigned long long)page[i].video_id);
        n = feed(e, 6, T0 + 10 + p, 10, page);
        for (int i = 0; i < n; i++)
            others_see_it |= creator_mod10((unsigned)(page[i].video_id - 1)) == creator;
    }
    cr_assert(others_see_it, "other users still get that creator");
    rec_engine_destroy(e);
}

Test(engine, users_are_admitted_after_n_sightings_and_expire)
{
    struct config_rec c = test_config();
    c.admit_after = 3;
    c.expire_days = 10;
    struct rec_engine *e = test_engine(&c);
    rec_engine_tick(e, T0);
    add_videos(e, 1, 10, NULL, OLD);
    struct event x = ev(EVENT_IMPRESSION, 77, 1, T0, 0);
    cr_assert_eq(rec_engine_observe(e, &x), 0);
    x.video_id = 2;
    cr_assert_eq(rec_engine_observe(e, &x), 0);
    cr_assert_not(rec_user_admitted(e, 77), "two sightings are not enough");
    x.video_id = 3;
    cr_assert_eq(rec_engine_observe(e, &x), 0);
    cr_assert(rec_user_admitted(e, 77));
    rec_engine_tick(e, T0 + 5LL * 86400000);
    cr_assert(rec_user_admitted(e, 77), "5 idle days are below expire_days");
    rec_engine_tick(e, T0 + 12LL * 86400000);
    cr_assert_not(rec_user_admitted(e, 77), "12 idle days expire the row");
    rec_engine_destroy(e);
}

Test(engine, rejects_bad_input)
{
    struct config_rec c = test_config();
    c.dim = 12; /* not a multiple of 8 */
    int err = 0;
    cr_assert_null(rec_engine_create(&c, &err));
    cr_assert_eq(err, REC_EINVAL);
    c = test_config();
    struct rec_engine *e = test_engine(&c);
    add_videos(e, 1, 3, NULL, OLD);
    struct rec_video dup = {.id = 2};
    cr_assert_eq(rec_video_add(e, &dup), REC_EEXIST);
    struct rec_video zero = {.id = 0};
    cr_assert_eq(rec_video_add(e, &zero), REC_EINVAL);
    struct event x = ev(99, 1, 1, T0, 0);
    cr_assert_eq(rec_engine_observe(e, &x), REC_EINVAL);
    x = ev(EVENT_WATCH, 1, 12345, T0, 100);
    cr_assert_eq(rec_engine_observe(e, &x), REC_ENOENT);
    struct rec_feed_item items[1];
    struct rec_feed_request r = {.user_id = 1, .now_ms = T0, .limit = 0};
    cr_assert_eq(rec_engine_feed(e, &r, items), REC_EINVAL);
    r.limit = REC_FEED_MAX + 1;
    cr_assert_eq(rec_engine_feed(e, &r, items), REC_EINVAL);
    cr_assert_eq(rec_video_remove(e, 2), 0);
    cr_assert_eq(rec_video_remove(e, 2), REC_ENOENT);
    rec_engine_destroy(e);
}

Test(engine, removed_videos_are_never_served)
{
    struct config_rec c = test_config();
    struct rec_engine *e = test_engine(&c);
    rec_engine_tick(e, T0);
    add_videos(e, 1, 50, NULL, OLD);
    for (uint64_t v = 1; v <= 50; v += 2)
        cr_assert_eq(rec_video_remove(e, v), 0);
    struct rec_feed_item page[REC_FEED_MAX];
    int n = feed(e, 9, T0, 50, page);
    cr_assert_eq(n, 25);
    for (int i = 0; i < n; i++)
        cr_assert_eq(page[i].video_id % 2, 0);
    rec_engine_destroy(e);
}

Test(engine, interests_steer_a_new_user)
{
    struct config_rec c = test_config();
    c.explore_share = 0;
    struct rec_engine *e = test_engine(&c);
    rec_engine_tick(e, T0);
    add_videos(e, 1, 340, NULL, OLD); /* hashtags t0..t16, 20 videos each */
    /* Some activity so that every hashtag has trending videos. */
    for (uint64_t v = 1; v <= 340; v++) {
        struct event w[] = {ev(EVENT_IMPRESSION, 500 + v, v, T0 + (int64_t)v, 0),
                            ev(EVENT_WATCH, 500 + v, v, T0 + (int64_t)v + 1, 10000)};
        cr_assert_eq(rec_engine_observe_batch(e, w, 2), 2);
    }
    const char *interests[] = {"#t3"};
    cr_assert_eq(rec_user_set_interests(e, 3, interests, 1), 0);
    struct rec_feed_item page[10];
    int n = feed(e, 3, T0 + 1000, 10, page);
    cr_assert_eq(n, 10);
    int matching = 0;
    for (int i = 0; i < n; i++)
        matching += (page[i].video_id - 1) % 17 == 3;
    cr_assert_geq(matching, 5, "interest hashtag on %d of 10", matching);
    rec_engine_destroy(e);
}

/* ---- concurrency ------------------------------------------------------- */

struct feeder {
    struct rec_engine *e;
    uint64_t first_user;
    int errors;
};

static void *feeder_main(void *arg)
{
    struct feeder *f = arg;
    struct rec_feed_item page[20];
    for (int i = 0; i < 1500; i++) {
        struct rec_feed_request r = {.user_id = f->first_user + (uint64_t)(i % 50),
                                     .now_ms = T0 + i, .limit = 20};
        if (rec_engine_feed(f->e, &r, page) < 0)
            f->errors++;
    }
    return NULL;
}

Test(engine, feeds_and_events_run_concurrently)
{
    struct config_rec c = test_config();
    struct rec_engine *e = test_engine(&c);
    rec_engine_tick(e, T0);
    add_videos(e, 1, 3000, NULL, OLD);
    struct feeder f1 = {.e = e, .first_user = 1}, f2 = {.e = e, .first_user = 26};
    pthread_t t1, t2;
    cr_assert_eq(pthread_create(&t1, NULL, feeder_main, &f1), 0);
    cr_assert_eq(pthread_create(&t2, NULL, feeder_main, &f2), 0);
    static struct event evs[20000];
    uint64_t x = 12345;
    for (int i = 0; i < 20000; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        evs[i] = ev(i % 2 ? EVENT_WATCH : EVENT_IMPRESSION, 1 + (x >> 33) % 80,
                    1 + (x >> 17) % 3000, T0 + i, (uint32_t)((x >> 40) % 20000));
    }
    size_t applied = 0;
    for (int i = 0; i < 20000; i += 100) {
        applied += rec_engine_observe_batch(e, evs + i, 100);
        if (i % 5000 == 0)
            rec_engine_tick(e, T0 + i);
    }
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    cr_assert_eq(applied, 20000);
    cr_assert_eq(f1.errors + f2.errors, 0);
    rec_engine_destroy(e);
}

/* The co-engagement gain learns from watches of what the feed served, each
 * once, and from nothing else. */
Test(engine, only_served_watches_calibrate_the_coengagement_gain)
{
    struct config_rec c = test_config();
    struct rec_engine *e = test_engine(&c);
    add_videos(e, 1, 200, NULL, OLD);
    struct event w[2] = {ev(EVENT_IMPRESSION, 7, 3, T0, 0), ev(EVENT_WATCH, 7, 3, T0 + 1, 9000)};
    cr_assert_eq(rec_engine_observe_batch(e, w, 2), 2);
    cr_assert_float_eq(e->model.coeng_n, 0.0, 1e-9, "a watch the feed did not serve is no example");
    cr_assert_float_eq((double)e->model.coeng_gain, 1.0, 1e-6);
    /* A page longer than the session remembers: its top is what counts. */
    struct rec_feed_item page[20];
    int n = feed(e, 7, T0 + 1000, 20, page);
    cr_assert_eq(n, 20);
    for (int k = 0; k < 2; k++) {
        struct event x[2] = {ev(EVENT_IMPRESSION, 7, page[0].video_id, T0 + 2000 + k * 10, 0),
                             ev(EVENT_WATCH, 7, page[0].video_id, T0 + 2001 + k * 10, 9000)};
        cr_assert_eq(rec_engine_observe_batch(e, x, 2), 2);
        cr_assert_float_eq(e->model.coeng_n, 1.0, 1e-9,
                           "a served video's watch is one example, once");
    }
    rec_engine_destroy(e);
}

/* Hashtag spread: 20 videos tagged #a that many users watched to the end
 * and 20 tagged #b that nobody watched. Without the penalty a page of 10 is
 * all #a; with a penalty larger than the gap per shared tag, #b videos are
 * interleaved. Each video also has its own tag, which must not count. */
static int a_count_of(double spread)
{
    struct config_rec c = test_config();
    c.hashtag_spread = spread;
    c.explore_share = 0;
    struct rec_engine *e = test_engine(&c);
    rec_engine_tick(e, T0);
    uint64_t cands[40];
    for (unsigned i = 0; i < 40; i++) {
        char own[16];
        snprintf(own, sizeof own, "#own%u", i);
        const char *tags[] = {i < 20 ? "#a" : "#b", own};
        struct rec_video v = {.id = 1 + i, .creator_id = 5000 + i, .created_ms = OLD,
                              .duration_ms = 10000, .hashtags = tags, .hashtag_count = 2};
        cr_assert_eq(rec_video_add(e, &v), 0);
        cands[i] = 1 + i;
    }
    int64_t t = T0;
    for (uint64_t u = 100; u < 160; u++)
        for (uint64_t v = 1; v <= 20; v++) {
            struct event evs[] = {ev(EVENT_IMPRESSION, u, v, t, 0),
                                  ev(EVENT_WATCH, u, v, t + 1, 10000)};
            cr_assert_eq(rec_engine_observe_batch(e, evs, 2), 2);
            t += 2;
        }
    struct rec_feed_request r = {.user_id = 1, .now_ms = t, .limit = 10,
                                 .policy = REC_POLICY_REEL, .candidates = cands,
                                 .candidate_count = 40};
    struct rec_feed_item out[10];
    int n = rec_engine_feed(e, &r, out);
    cr_assert_eq(n, 10);
    int a = 0;
    for (int i = 0; i < n; i++)
        a += out[i].video_id <= 20;
    rec_engine_destroy(e);
    return a;
}

Test(engine, hashtag_spread_interleaves_a_crowded_tag)
{
    cr_assert_eq(a_count_of(0), 10, "without the penalty the best tag fills the page");
    int a = a_count_of(100);
    cr_assert(a >= 4 && a <= 6, "with it, the page alternates: %d of 10 tagged #a", a);
}

/* The re-ranking's rule, checked position by position on a page of every
 * candidate: each pick has the best score after the hashtag penalty among
 * the candidates still available whose creator differs from the previous
 * pick's (ties to the higher score before the penalty, then the lower
 * row). The scan stops early once no later candidate can win; this is the
 * reference it must agree with. */
Test(engine, rerank_picks_the_best_after_the_penalty_at_every_position)
{
    enum { N = 48, CREATORS = 6 };
    struct config_rec c = test_config();
    c.hashtag_spread = 0.05;
    c.explore_share = 0;
    struct rec_engine *e = test_engine(&c);
    rec_engine_tick(e, T0);
    uint64_t cands[N];
    for (unsigned i = 0; i < N; i++) {
        char g[16], h[16];
        snprintf(g, sizeof g, "#g%u", i % 5);
        snprintf(h, sizeof h, "#h%u", i % 7);
        const char *tags[] = {g, h};
        struct rec_video v = {.id = 1 + i, .creator_id = 5000 + i % CREATORS, .created_ms = OLD,
                              .duration_ms = 10000, .hashtags = tags, .hashtag_count = 2};
        cr_assert_eq(rec_video_add(e, &v), 0);
        cands[i] = 1 + i;
    }
    /* Varied watch ratios give varied scores, some close together. */
    int64_t t = T0;
    for (uint64_t u = 100; u < 140; u++)
        for (uint64_t v = 1; v <= N; v++) {
            uint32_t watched = (uint32_t)(1000 + (v * 7919 + u * 31) % 15000);
            struct event evs[] = {ev(EVENT_IMPRESSION, u, v, t, 0),
                                  ev(EVENT_WATCH, u, v, t + 1, watched)};
            cr_assert_eq(rec_engine_observe_batch(e, evs, 2), 2);
            t += 2;
        }
    struct rec_feed_request r = {.user_id = 1, .now_ms = t, .limit = N,
                                 .policy = REC_POLICY_REEL, .candidates = cands,
                                 .candidate_count = N};
    struct rec_feed_item out[N];
    int n = rec_engine_feed(e, &r, out);
    cr_assert_geq(n, N - CREATORS, "%d of %d", n, N);
    unsigned tag_count[2][8] = {{0}}; /* videos on the page with #g<k>, #h<k> */
    int penalised = 0;
    for (int j = 0; j < n; j++) {
        uint64_t prev = j ? 5000 + (out[j - 1].video_id - 1) % CREATORS : 0;
        uint64_t pick = out[j].video_id;
        cr_assert_neq(5000 + (pick - 1) % CREATORS, prev, "position %d: same creator", j);
        float best = 0;
        for (int k = j; k < n; k++) {
            uint64_t v = out[k].video_id;
            if (5000 + (v - 1) % CREATORS == prev)
                continue;
            unsigned shared = tag_count[0][(v - 1) % 5] + tag_count[1][(v - 1) % 7];
            float s = out[k].score - (float)c.hashtag_spread * (float)shared;
            if (k == j) {
                best = s;
                penalised += shared > 0;
                continue;
            }
            int beaten = s > best ||
                         (s == best && (out[k].score > out[j].score ||
                                        (out[k].score == out[j].score && v < pick)));
            cr_assert_not(beaten, "position %d: video %llu (%f) beats the pick %llu (%f)", j,
                          (unsigned long long)v, (double)s, (unsigned long long)pick,
                          (double)best);
        }
        tag_count[0][(pick - 1) % 5]++;
        tag_count[1][(pick - 1) % 7]++;
    }
    cr_assert_gt(penalised, 0, "the penalty took part");
    rec_engine_destroy(e);
}
