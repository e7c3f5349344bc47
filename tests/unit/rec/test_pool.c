/*
 * The nearest-videos list a session keeps between feed requests (feed.c,
 * struct nearest_pool): while the user's embedding stays put it serves
 * exactly what a search on every request would, it is searched again when
 * the embedding moves, when it is old, when it runs short, and it survives a
 * snapshot.
 */
#include "helpers.h"
#include "rec/engine_int.h"

#include <stdlib.h>
#include <unistd.h>

#define OLD (T0 - 30LL * 86400000)
#define USER 7

struct pool_view {
    int present;
    uint32_t n, found;
    int64_t built_ms;
    uint8_t dim;
    float vec[MODEL_DIM_MAX];
    uint64_t ids[8192];
};

/* A copy of the user's kept list (video ids), taken under the shard lock. */
static void pool_of(struct rec_engine *e, uint64_t user, struct pool_view *out)
{
    struct session_shard *sh = session_shard_of(&e->sessions, user);
    pthread_mutex_lock(&sh->lock);
    struct session *s = session_get(&e->sessions, sh, user, T0, 0, NULL, NULL, NULL);
    memset(out, 0, offsetof(struct pool_view, ids));
    if (s && s->pool.rows) {
        out->present = 1;
        out->n = s->pool.n;
        out->found = s->pool.found;
        out->built_ms = s->pool.built_ms;
        out->dim = s->pool.dim;
        memcpy(out->vec, s->pool.vec, s->pool.dim * sizeof(float));
        for (uint32_t i = 0; i < s->pool.n; i++)
            out->ids[i] = e->videos.rows[s->pool.rows[i]].id;
    }
    pthread_mutex_unlock(&sh->lock);
}

/* The engine's test settings with 200 nearest candidates a request: the
 * depths below (a first list of 200, a kept list of 400, a catalogue of 150
 * that runs out) are written for it, whatever the default. */
static struct config_rec pool_config(void)
{
    struct config_rec c = test_config();
    c.candidates_nearest = 200;
    return c;
}

/* 3,000 videos; background users give them varied embeddings; USER watches
 * a few to get one of its own. */
static struct rec_engine *trained_engine(unsigned pool)
{
    struct config_rec c = pool_config();
    c.nearest_pool = pool;
    struct rec_engine *e = test_engine(&c);
    rec_engine_tick(e, T0);
    add_videos(e, 1, 3000, NULL, OLD);
    int64_t t = T0;
    uint64_t x = 12345;
    static struct event evs[20000];
    for (size_t i = 0; i < 20000; i += 2) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        uint64_t u = 100 + (x >> 33) % 200, v = 1 + (x >> 13) % 3000;
        /* Each background user likes one band of the catalogue. */
        uint32_t watched = (v / 300) % 10 == u % 10 ? 20000 : 1000;
        evs[i] = ev(EVENT_IMPRESSION, u, v, t, 0);
        evs[i + 1] = ev(EVENT_WATCH, u, v, t + 1, watched);
        t += 2;
    }
    cr_assert_eq(rec_engine_observe_batch(e, evs, 20000), 20000);
    for (uint64_t v = 1; v <= 20; v++) {
        struct event w[] = {ev(EVENT_IMPRESSION, USER, v * 3, t, 0),
                            ev(EVENT_WATCH, USER, v * 3, t + 1, 15000)};
        cr_assert_eq(rec_engine_observe_batch(e, w, 2), 2);
        t += 2;
    }
    return e;
}

static void same_page(const struct rec_feed_item *a, int na, const struct rec_feed_item *b,
                      int nb, int page)
{
    cr_assert_eq(na, nb, "page %d: %d vs %d items", page, na, nb);
    for (int i = 0; i < na; i++) {
        cr_assert_eq(a[i].video_id, b[i].video_id, "page %d item %d", page, i);
        cr_assert_eq(a[i].sources, b[i].sources, "page %d item %d", page, i);
    }
}

/* Without events in between, pages from the kept list are the pages a
 * search on every request gives. The first search is candidates_nearest
 * deep; the second, nearest_pool deep, lasts. */
Test(pool, serves_what_a_search_each_time_would)
{
    struct rec_engine *a = trained_engine(400), *b = trained_engine(0);
    int64_t t0 = T0 + 3600000, t = t0;
    static struct pool_view pv;
    for (int p = 0; p < 15; p++, t += 1000) {
        struct rec_feed_item pa[10], pb[10];
        int na = feed(a, USER, t, 10, pa), nb = feed(b, USER, t, 10, pb);
        cr_assert_eq(na, 10);
        same_page(pa, na, pb, nb, p);
        pool_of(a, USER, &pv);
        cr_assert(pv.present);
        if (p == 0)
            cr_assert_eq(pv.found, 200, "a first list as deep as one request needs");
        else
            cr_assert_eq(pv.built_ms, t0 + 1000, "page %d: searched again", p);
        cr_assert_eq(pv.dim, 32, "searched with the user's embedding");
    }
    cr_assert_eq(pv.found, 400);
    cr_assert_lt(pv.n, 400, "served videos left the list");
    pool_of(b, USER, &pv);
    cr_assert_not(pv.present, "nearest_pool = 0 keeps nothing");
    rec_engine_destroy(a);
    rec_engine_destroy(b);
}

/* A few events move the embedding a little: the list is kept. Many
 * engagements with another band move it far: the next request searches
 * again, and then serves what a search each time would. */
Test(pool, is_searched_again_when_the_embedding_moves)
{
    struct rec_engine *a = trained_engine(400), *b = trained_engine(0);
    int64_t t = T0 + 3600000;
    struct rec_feed_item pa[10], pb[10];
    static struct pool_view pv;
    for (int p = 0; p < 2; p++) { /* the second list is the deep one */
        feed(a, USER, t + p, 10, pa);
        feed(b, USER, t + p, 10, pb);
    }
    t += 1;
    struct event one[] = {ev(EVENT_IMPRESSION, USER, pa[0].video_id, t + 1, 0)};
    cr_assert_eq(rec_engine_observe_batch(a, one, 1), 1);
    cr_assert_eq(rec_engine_observe_batch(b, one, 1), 1);
    t += 1000;
    feed(a, USER, t, 10, pa);
    feed(b, USER, t, 10, pb);
    pool_of(a, USER, &pv);
    cr_assert_eq(pv.built_ms, T0 + 3600001, "one impression does not move taste that far");
    /* Long watches of one band, skips of everything else shown. */
    for (uint64_t v = 2401; v <= 2700; v++) {
        struct event w[] = {ev(EVENT_IMPRESSION, USER, v, t + 1, 0),
                            ev(EVENT_WATCH, USER, v, t + 2, 30000)};
        cr_assert_eq(rec_engine_observe_batch(a, w, 2), 2);
        cr_assert_eq(rec_engine_observe_batch(b, w, 2), 2);
    }
    t += 1000;
    int na = feed(a, USER, t, 10, pa), nb = feed(b, USER, t, 10, pb);
    pool_of(a, USER, &pv);
    cr_assert_eq(pv.built_ms, t, "searched again after the embedding moved");
    same_page(pa, na, pb, nb, 2);
    rec_engine_destroy(a);
    rec_engine_destroy(b);
}

Test(pool, is_searched_again_when_old_or_short)
{
    struct config_rec c = pool_config();
    struct rec_engine *a = trained_engine(400);
    int64_t t = T0 + 3600000;
    struct rec_feed_item page[10];
    static struct pool_view pv;
    feed(a, USER, t - 1, 10, page);
    feed(a, USER, t, 10, page); /* the deep list */
    pool_of(a, USER, &pv);
    cr_assert_eq(pv.built_ms, t);
    cr_assert_eq(pv.found, 400);
    int64_t later = t + (int64_t)c.nearest_refresh_s * 1000;
    feed(a, USER, later, 10, page);
    pool_of(a, USER, &pv);
    cr_assert_eq(pv.built_ms, t, "still young enough");
    feed(a, USER, later + 1, 10, page);
    pool_of(a, USER, &pv);
    cr_assert_eq(pv.built_ms, later + 1, "older than nearest_refresh_s: searched again");
    /* Impressions of most of the list (seen elsewhere): fewer than
     * candidates_nearest left, searched again on the next request. */
    uint32_t drop = pv.n - c.candidates_nearest + 1;
    for (uint32_t i = 0; i < drop; i++) {
        struct event w[] = {ev(EVENT_IMPRESSION, USER, pv.ids[i], later + 2, 0)};
        cr_assert_eq(rec_engine_observe_batch(a, w, 1), 1);
    }
    feed(a, USER, later + 3, 10, page);
    pool_of(a, USER, &pv);
    cr_assert_eq(pv.built_ms, later + 3, "short of candidates_nearest: searched again");
    rec_engine_destroy(a);
}

/* A catalogue smaller than candidates_nearest: the search runs out. With
 * nothing new to find, the list is kept page after page; once the catalogue
 * has changed it is searched again when half of it is used. */
static int64_t short_list_built(int add_one)
{
    struct config_rec c = pool_config();
    struct rec_engine *e = test_engine(&c);
    rec_engine_tick(e, T0);
    add_videos(e, 1, 150, NULL, OLD);
    struct rec_feed_item page[10];
    static struct pool_view pv;
    feed(e, USER, T0, 10, page);
    pool_of(e, USER, &pv);
    cr_assert_eq(pv.found, 150, "fewer than candidates_nearest: the search ran out");
    if (add_one)
        add_videos(e, 151, 1, NULL, OLD);
    for (int p = 1; p < 10; p++)
        feed(e, USER, T0 + p, 10, page);
    pool_of(e, USER, &pv);
    rec_engine_destroy(e);
    return pv.built_ms;
}

Test(pool, a_short_list_is_searched_again_when_the_catalogue_changes)
{
    cr_assert_eq(short_list_built(0), T0, "nothing new to find: kept");
    int64_t built = short_list_built(1);
    cr_assert(built >= T0 + 7 && built <= T0 + 9, "searched again at half: %lld",
              (long long)(built - T0));
}

/* The kept list is part of the session in a snapshot: the loaded engine
 * has the same list, so the next pages are the same in both. */
Test(pool, survives_a_snapshot)
{
    struct rec_engine *a = trained_engine(400);
    int64_t t = T0 + 3600000;
    struct rec_feed_item page[10];
    for (int p = 0; p < 3; p++)
        feed(a, USER, t + p, 10, page);
    char dir[] = "/tmp/reel-pool-test-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char err[256];
    struct rec_mark mark = {.log_offset = 1, .event_ms = t};
    cr_assert_eq(rec_engine_snapshot(a, dir, &mark, err, sizeof err), 0, "%s", err);
    struct config_rec c = pool_config();
    c.nearest_pool = 400;
    struct rec_mark got;
    int code = 0;
    struct rec_engine *b = rec_engine_load(&c, dir, &got, &code, err, sizeof err);
    cr_assert_not_null(b, "load: %s", err);
    static struct pool_view pa, pb;
    pool_of(a, USER, &pa);
    pool_of(b, USER, &pb);
    cr_assert(pa.present && pb.present);
    cr_assert_eq(pa.n, pb.n);
    cr_assert_eq(pa.found, pb.found);
    cr_assert_eq(pa.built_ms, pb.built_ms);
    cr_assert_eq(pa.dim, pb.dim);
    cr_assert_eq(memcmp(pa.vec, pb.vec, pa.dim * sizeof(float)), 0);
    cr_assert_eq(memcmp(pa.ids, pb.ids, pa.n * sizeof(uint64_t)), 0);
    for (int p = 3; p < 6; p++) {
        struct rec_feed_item fa[10], fb[10];
        int na = feed(a, USER, t + p, 10, fa), nb = feed(b, USER, t + p, 10, fb);
        same_page(fa, na, fb, nb, p);
    }
    char path[512];
    snprintf(path, sizeof path, "%s/rec.snapshot", dir);
    unlink(path);
    rmdir(dir);
    rec_engine_destroy(a);
    rec_engine_destroy(b);
}
