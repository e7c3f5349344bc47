/*
 * What the engine offers its host (rec/host.c): what it tells about a user
 * (the data export), what it forgets of a creator at erasure, a trending
 * list from outside; and the feed of a catalogue with one creator left.
 */
#include "helpers.h"

#include "core/alloc.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define STAR 0x5EC2E7C0FFEE1234ULL /* a creator id no other byte run matches */

static uint64_t star_or_other(unsigned i)
{
    return i % 4 == 0 ? STAR : 700 + i % 5;
}

Test(host, reports_what_the_engine_holds)
{
    struct config_rec c = test_config();
    struct rec_engine *e = test_engine(&c);
    rec_engine_tick(e, T0);
    add_videos(e, 1, 40, star_or_other, T0 - 86400000);
    const char *tags[] = {"#Cats", "travel"};
    cr_assert_eq(rec_user_set_interests(e, 7, tags, 2), 0);
    struct rec_feed_item page[10];
    int n = feed(e, 7, T0 + 10, 10, page);
    cr_assert_eq(n, 10);
    struct event evs[] = {ev(EVENT_IMPRESSION, 7, 2, T0 + 20, 0),
                          ev(EVENT_WATCH, 7, 2, T0 + 21, 15000),
                          ev(EVENT_NOT_INTERESTED, 7, 1, T0 + 22, 0)};
    evs[2].creator_id = STAR;
    cr_assert_eq(rec_engine_observe_batch(e, evs, 3), 3);

    struct rec_user_state st;
    cr_assert_eq(rec_user_describe(e, 7, &st), 0);
    cr_assert(st.admitted);
    cr_assert_eq(st.dim, c.dim);
    float norm = 0;
    for (unsigned i = 0; i < st.dim; i++)
        norm += st.embedding[i] * st.embedding[i];
    cr_assert_gt(norm, 0, "the embedding was learned from the watch");
    cr_assert_eq(st.interest_count, 2);
    cr_assert_str_eq(st.interests[0], "cats");
    cr_assert_str_eq(st.interests[1], "travel");
    cr_assert_eq(st.not_interested_count, 1);
    cr_assert_eq(st.not_interested[0], STAR);
    cr_assert(st.session);
    cr_assert_geq(st.seen, 10, "the page served is in the seen filter");

    cr_assert_eq(rec_user_describe(e, 999, &st), REC_ENOENT);
    cr_assert(!st.admitted && !st.session && st.interest_count == 0);
    cr_assert_eq(rec_user_describe(e, 0, &st), REC_EINVAL);

    /* Forgotten: nothing left to describe. */
    cr_assert_eq(rec_user_forget(e, 7), 0);
    cr_assert_eq(rec_user_describe(e, 7, &st), REC_ENOENT);
    rec_engine_destroy(e);
}

Test(host, video_ids_lists_the_live_videos)
{
    struct config_rec c = test_config();
    struct rec_engine *e = test_engine(&c);
    add_videos(e, 100, 5, NULL, T0);
    cr_assert_eq(rec_video_remove(e, 102), 0);
    uint64_t ids[8];
    cr_assert_eq(rec_engine_video_ids(e, NULL, 0), 4, "the count without room");
    cr_assert_eq(rec_engine_video_ids(e, ids, 8), 4);
    uint64_t want[] = {100, 101, 103, 104};
    for (int i = 0; i < 4; i++)
        cr_assert_eq(ids[i], want[i]);
    rec_engine_destroy(e);
}

static int file_contains(const char *path, const void *needle, size_t len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *data = malloc((size_t)size);
    cr_assert_eq(fread(data, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    int found = 0;
    for (long i = 0; i + (long)len <= size && !found; i++)
        found = memcmp(data + i, needle, len) == 0;
    free(data);
    return found;
}

/* Other users follow the star, mark it "not interested", watch its videos;
 * once forgotten as a creator, no feed shows its videos and no byte of a
 * snapshot names it — and the snapshot still loads. */
Test(host, creator_forget_leaves_no_reference)
{
    struct config_rec c = test_config();
    struct rec_engine *e = test_engine(&c);
    rec_engine_tick(e, T0);
    add_videos(e, 1, 40, star_or_other, T0 - 86400000);
    int64_t t = T0 + 1000;
    for (uint64_t u = 10; u < 30; u++) {
        struct event evs[] = {ev(EVENT_IMPRESSION, u, 1, t, 0), ev(EVENT_WATCH, u, 1, t + 1, 9000),
                              ev(EVENT_FOLLOW, u, 1, t + 2, 0),
                              ev(EVENT_NOT_INTERESTED, u, 5, t + 3, 0)};
        evs[2].creator_id = STAR;
        evs[3].creator_id = STAR;
        if (u % 2)
            evs[3].type = EVENT_IMPRESSION; /* half of them only */
        cr_assert_eq(rec_engine_observe_batch(e, evs, 4), 4);
        t += 10;
    }
    struct rec_feed_item page[20];
    feed(e, 11, t, 5, page); /* a session with the star's affinity */
    cr_assert_eq(rec_creator_forget(e, STAR), 0);
    cr_assert_eq(rec_creator_forget(e, STAR), REC_ENOENT, "nothing refers to it any more");

    for (uint64_t u = 10; u < 30; u++) {
        int n = feed(e, u, t + 100, 20, page);
        for (int i = 0; i < n; i++)
            cr_assert_neq(star_or_other((unsigned)(page[i].video_id - 1)), STAR,
                          "video %llu of the erased creator was served",
                          (unsigned long long)page[i].video_id);
        struct rec_user_state st;
        rec_user_describe(e, u, &st);
        cr_assert_eq(st.not_interested_count, 0);
    }
    char dir[] = "/tmp/reel-rec-forget-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char err[256], path[600];
    cr_assert_eq(rec_engine_snapshot(e, dir, NULL, err, sizeof err), 0, "%s", err);
    snprintf(path, sizeof path, "%s/rec.snapshot", dir);
    struct stat sb;
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert_eq(sb.st_mode & 0077, 0, "the snapshot is personal data: owner-only");
    uint64_t star = STAR;
    cr_assert(!file_contains(path, &star, sizeof star), "the snapshot still names the creator");
    struct rec_mark mark;
    int code = 0;
    struct rec_engine *back = rec_engine_load(&c, dir, &mark, &code, err, sizeof err);
    cr_assert_not_null(back, "%s", err);
    rec_engine_destroy(back);
    unlink(path);
    rmdir(dir);
    rec_engine_destroy(e);
}

static uint64_t one_creator(unsigned i)
{
    (void)i;
    return 900;
}

/* When only the last page's creator has videos left, the next page still
 * offers them (an empty feed would be worse); within a page the rule holds:
 * one video per page. */
Test(host, one_creator_left_still_fills_the_next_page)
{
    struct config_rec c = test_config();
    struct rec_engine *e = test_engine(&c);
    add_videos(e, 1, 3, one_creator, T0);
    struct rec_feed_item page[10];
    int total = 0;
    for (int round = 0; round < 5; round++) {
        int n = feed(e, 42, T0 + round, 10, page);
        cr_assert_leq(n, 1, "two videos of one creator in a row within a page");
        total += n;
    }
    cr_assert_eq(total, 3, "every video is offered once");
    rec_engine_destroy(e);
}

/* The host's trending list (the analytics') reaches the trending source:
 * the whole catalogue fits on one page, and exactly the listed videos that
 * are still live carry the trending source bit (no events: the engine's own
 * trending is empty). */
Test(host, external_trending_feeds_the_trending_source)
{
    struct config_rec c = test_config();
    c.explore_share = 0;
    struct rec_engine *e = test_engine(&c);
    rec_engine_tick(e, T0);
    add_videos(e, 1, 60, NULL, T0 - 30LL * 86400000);
    uint64_t list[] = {50, 99999 /* unknown */, 17, 33};
    cr_assert_eq(rec_engine_set_trending(e, list, 4), 3, "the unknown id is skipped");
    cr_assert_eq(rec_video_remove(e, 33), 0);
    struct rec_feed_item page[REC_FEED_MAX];
    int n = feed(e, 5, T0 + 1000, REC_FEED_MAX, page);
    cr_assert_eq(n, 59, "every live video once");
    int trending = 0;
    for (int i = 0; i < n; i++) {
        cr_assert_neq(page[i].video_id, 33, "a removed video was served");
        int listed = page[i].video_id == 50 || page[i].video_id == 17;
        cr_assert_eq(!!(page[i].sources & REC_SOURCE_TRENDING), listed,
                     "video %llu: trending bit %d", (unsigned long long)page[i].video_id,
                     page[i].sources);
        trending += listed;
    }
    cr_assert_eq(trending, 2);
    cr_assert_eq(rec_engine_set_trending(e, NULL, 0), 0);
    rec_engine_destroy(e);
}

/* A spill store in memory: the last blob saved per user (64 users). */
static struct {
    uint64_t user[64];
    unsigned char *blob[64];
    size_t len[64];
    int n;
} spilled;

static int spill_save(void *ctx, uint64_t user, const void *blob, size_t len)
{
    (void)ctx;
    int i = 0;
    while (i < spilled.n && spilled.user[i] != user)
        i++;
    if (i == 64)
        return -1;
    if (i == spilled.n)
        spilled.n++;
    free(spilled.blob[i]);
    spilled.user[i] = user;
    spilled.blob[i] = malloc(len);
    memcpy(spilled.blob[i], blob, len);
    spilled.len[i] = len;
    return 0;
}

static int contains(const unsigned char *data, size_t size, const void *needle, size_t len)
{
    for (size_t i = 0; i + len <= size; i++)
        if (memcmp(data + i, needle, len) == 0)
            return 1;
    return 0;
}

/* Sessions other users spilled while idle name the star as a creator; the
 * scrubbed copies do not, and scrubbing them again finds nothing. */
Test(host, spilled_sessions_forget_a_creator)
{
    struct config_rec c = test_config();
    c.sessions_max = 64; /* one per shard: every new user evicts (spills) another */
    struct rec_engine *e = test_engine(&c);
    struct rec_spill spill = {.save = spill_save};
    rec_engine_set_spill(e, &spill);
    rec_engine_tick(e, T0);
    add_videos(e, 1, 40, star_or_other, T0 - 86400000);
    int64_t t = T0 + 1000;
    for (uint64_t u = 100; u < 400; u++) {
        struct event evs[] = {ev(EVENT_IMPRESSION, u, 1, t, 0), ev(EVENT_WATCH, u, 1, t + 1, 9000),
                              ev(EVENT_LIKE, u, 1, t + 2, 0)};
        for (int k = 0; k < 3; k++)
            evs[k].creator_id = STAR;
        cr_assert_eq(rec_engine_observe_batch(e, evs, 3), 3);
        t += 10;
    }
    uint64_t star = STAR;
    int named = 0;
    for (int i = 0; i < spilled.n; i++) {
        int had = contains(spilled.blob[i], spilled.len[i], &star, sizeof star);
        void *out;
        size_t len;
        int rc = rec_spilled_forget_creator(e, spilled.blob[i], spilled.len[i], STAR, &out, &len);
        cr_assert_eq(rc, had, "user %llu: %d", (unsigned long long)spilled.user[i], rc);
        if (rc == 1) {
            named++;
            cr_assert(!contains(out, len, &star, sizeof star), "the scrubbed copy names the star");
            void *again;
            size_t again_len;
            cr_assert_eq(rec_spilled_forget_creator(e, out, len, STAR, &again, &again_len), 0);
            reel_free(out);
        }
    }
    cr_assert_gt(named, 0, "some spilled sessions named the star");
    for (int i = 0; i < spilled.n; i++)
        free(spilled.blob[i]);
    rec_engine_destroy(e);
}
