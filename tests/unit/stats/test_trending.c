/*
 * Trending: exact exponential decay, a scripted burst that moves a video to
 * the top and decay that brings it back down, penalties, rebasing over many
 * half-lives, bounded memory, hashtags, and the snapshot round trip.
 */
#include "core/buf.h"
#include "stats/trending.h"

#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#define HOUR_MS 3600000LL
#define T0 1767225600000LL

static struct stats_trending *create(int64_t half_life_ms, size_t max_items)
{
    struct stats_trending *t = stats_trending_create(half_life_ms, max_items);
    cr_assert_not_null(t);
    return t;
}

static size_t rank_of(struct stats_trending *t, uint64_t key, int64_t now)
{
    struct stats_trending_item top[16];
    size_t n = stats_trending_top(t, now, top, 16);
    for (size_t i = 0; i < n; i++)
        if (top[i].key == key)
            return i + 1;
    return 0;
}

Test(trending, halves_every_half_life)
{
    struct stats_trending *t = create(6 * HOUR_MS, 100);
    cr_assert_eq(stats_trending_add(t, 7, NULL, 8.0, T0), 0);
    cr_assert_float_eq(stats_trending_score(t, 7, T0), 8.0, 1e-12);
    cr_assert_float_eq(stats_trending_score(t, 7, T0 + 6 * HOUR_MS), 4.0, 1e-12);
    cr_assert_float_eq(stats_trending_score(t, 7, T0 + 12 * HOUR_MS), 2.0, 1e-12);
    /* Points added later count in full at their own time. */
    cr_assert_eq(stats_trending_add(t, 7, NULL, 4.0, T0 + 6 * HOUR_MS), 0);
    cr_assert_float_eq(stats_trending_score(t, 7, T0 + 6 * HOUR_MS), 8.0, 1e-12);
    cr_assert_float_eq(stats_trending_score(t, 99, T0), 0.0, 1e-12);
    cr_assert_eq(stats_trending_add(t, 0, NULL, 1.0, T0), -1);
    stats_trending_destroy(t);
    cr_assert_null(stats_trending_create(0, 100));
}

/* Three videos with a steady stream of views each hour; at hour 24 video 3
 * gets a burst of likes and shares and jumps to the top; six hours after the
 * burst it is still first; two days later the steady videos are back ahead. */
Test(trending, burst_moves_a_video_up_and_decay_brings_it_down)
{
    struct stats_trending *t = create(6 * HOUR_MS, 1000);
    const double steady[] = {0, 10.0, 8.0, 3.0}; /* points per hour for videos 1..3 */
    for (int hour = 0; hour < 72; hour++) {
        int64_t now = T0 + hour * HOUR_MS;
        for (uint64_t v = 1; v <= 3; v++)
            cr_assert_eq(stats_trending_add(t, v, NULL, steady[v], now), 0);
        if (hour == 23) {
            cr_assert_eq(rank_of(t, 1, now), 1);
            cr_assert_eq(rank_of(t, 3, now), 3);
        }
        if (hour == 24) {
            for (int i = 0; i < 40; i++) /* 40 shares x 8 points */
                cr_assert_eq(stats_trending_add(t, 3, NULL, 8.0, now + i * 1000), 0);
            cr_assert_eq(rank_of(t, 3, now + 60000), 1, "the burst did not move video 3 up");
        }
        if (hour == 30)
            cr_assert_eq(rank_of(t, 3, now), 1, "video 3 fell too early");
        if (hour == 71) {
            cr_assert_eq(rank_of(t, 3, now), 3, "decay did not bring video 3 down");
            cr_assert_eq(rank_of(t, 1, now), 1);
        }
    }
    /* With no more events the order stays and every score decays. */
    double before = stats_trending_score(t, 1, T0 + 72 * HOUR_MS);
    cr_assert_float_eq(stats_trending_score(t, 1, T0 + 78 * HOUR_MS), before / 2, 1e-9);
    stats_trending_destroy(t);
}

Test(trending, penalties_clamp_at_zero)
{
    struct stats_trending *t = create(HOUR_MS, 100);
    stats_trending_add(t, 1, NULL, 5.0, T0);
    stats_trending_add(t, 1, NULL, -2.0, T0);
    cr_assert_float_eq(stats_trending_score(t, 1, T0), 3.0, 1e-12);
    stats_trending_add(t, 1, NULL, -10.0, T0);
    cr_assert_float_eq(stats_trending_score(t, 1, T0), 0.0, 1e-12);
    struct stats_trending_item top[4];
    cr_assert_eq(stats_trending_top(t, T0, top, 4), 0, "a zero score is not trending");
    /* A penalty for an unknown item adds nothing. */
    stats_trending_add(t, 2, NULL, -1.0, T0);
    cr_assert_eq(stats_trending_size(t), 1);
    stats_trending_destroy(t);
}

/* Over 500 half-lives the reference time moves several times; scores match
 * a direct computation of sum(points * 2^(-(now - t_i) / h)). */
Test(trending, rebasing_keeps_scores_exact)
{
    int64_t h = HOUR_MS;
    struct stats_trending *t = create(h, 100);
    double expected = 0;
    int64_t last = T0;
    for (int step = 0; step < 1000; step++) {
        int64_t at = T0 + step * h / 2;
        expected = expected * exp2(-(double)(at - last) / (double)h) + 1.0 + step % 3;
        last = at;
        cr_assert_eq(stats_trending_add(t, 42, NULL, 1.0 + step % 3, at), 0);
        cr_assert_float_eq(stats_trending_score(t, 42, at), expected, 1e-9 * expected,
                           "step %d: %g vs %g", step, stats_trending_score(t, 42, at), expected);
    }
    stats_trending_destroy(t);
}

Test(trending, top_k_orders_and_breaks_ties_by_key)
{
    struct stats_trending *t = create(HOUR_MS, 1000);
    for (uint64_t k = 1; k <= 200; k++)
        stats_trending_add(t, k, NULL, (double)(k % 50), T0);
    struct stats_trending_item top[5];
    cr_assert_eq(stats_trending_top(t, T0, top, 5), 5);
    /* Score 49: keys 49, 99, 149, 199; then score 48: key 48. */
    uint64_t want[] = {49, 99, 149, 199, 48};
    for (int i = 0; i < 5; i++)
        cr_assert_eq(top[i].key, want[i], "position %d: %llu", i, (unsigned long long)top[i].key);
    struct stats_trending_item all[300];
    size_t n = stats_trending_top(t, T0, all, 300);
    cr_assert_eq(n, 196); /* four keys scored 0 */
    for (size_t i = 1; i < n; i++)
        cr_assert_geq(all[i - 1].score, all[i].score);
    stats_trending_destroy(t);
}

Test(trending, memory_is_bounded_and_the_best_survive)
{
    struct stats_trending *t = create(HOUR_MS, 100);
    for (uint64_t k = 1; k <= 10000; k++)
        cr_assert_eq(stats_trending_add(t, k, NULL, (double)k, T0), 0);
    cr_assert_leq(stats_trending_size(t), 100);
    struct stats_trending_item top[10];
    cr_assert_eq(stats_trending_top(t, T0, top, 10), 10);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(top[i].key, 10000 - (uint64_t)i);
    stats_trending_destroy(t);
}

Test(trending, hashtags_keep_their_label)
{
    struct stats_trending *t = create(HOUR_MS, 100);
    cr_assert_eq(stats_hashtag_key("Cats"), stats_hashtag_key("cats"));
    cr_assert_neq(stats_hashtag_key("cats"), stats_hashtag_key("dogs"));
    stats_trending_add(t, stats_hashtag_key("Cats"), "Cats", 3, T0);
    stats_trending_add(t, stats_hashtag_key("cats"), "cats", 3, T0);
    stats_trending_add(t, stats_hashtag_key("dogs"), "dogs", 5, T0);
    char long_tag[200];
    memset(long_tag, 'a', sizeof long_tag);
    memcpy(long_tag + 62, "\xc3\xa9", 2); /* é across the cut */
    long_tag[199] = '\0';
    stats_trending_add(t, stats_hashtag_key(long_tag), long_tag, 1, T0);
    struct stats_trending_item top[3];
    cr_assert_eq(stats_trending_top(t, T0, top, 3), 3);
    cr_assert_str_eq(top[0].label, "Cats");
    cr_assert_float_eq(top[0].score, 6.0, 1e-12);
    cr_assert_str_eq(top[1].label, "dogs");
    cr_assert_eq(strlen(top[2].label), 62, "cut before the split character");
    stats_trending_destroy(t);
}

Test(trending, snapshot_round_trip)
{
    struct stats_trending *t = create(6 * HOUR_MS, 1000);
    for (uint64_t k = 1; k <= 300; k++)
        stats_trending_add(t, k * 7919, k % 2 ? "tag" : NULL, (double)(k % 37) + 0.5,
                           T0 + (int64_t)k * 60000);
    struct buf b;
    buf_init(&b, 1 << 20);
    cr_assert_eq(stats_trending_encode(t, &b), 0);
    char err[128];
    size_t used = 0;
    struct stats_trending *back =
        stats_trending_decode((uint8_t *)b.data, b.len, 1000, &used, err, sizeof err);
    cr_assert_not_null(back, "%s", err);
    cr_assert_eq(used, b.len);
    int64_t now = T0 + 10 * HOUR_MS;
    struct stats_trending_item x[50], y[50];
    size_t n = stats_trending_top(t, now, x, 50);
    cr_assert_eq(stats_trending_top(back, now, y, 50), n);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(x[i].key, y[i].key);
        cr_assert_float_eq(x[i].score, y[i].score, 1e-12 * x[i].score);
        cr_assert_str_eq(x[i].label, y[i].label);
    }
    /* Truncations (the header promises 300 items) and a zero key are refused. */
    for (size_t cut = 0; cut < b.len; cut += 7)
        cr_assert_null(stats_trending_decode((uint8_t *)b.data, cut, 1000, &used, err, sizeof err),
                       "truncated snapshot (%zu of %zu bytes) accepted", cut, b.len);
    memset(b.data + 24, 0, 8);
    cr_assert_null(stats_trending_decode((uint8_t *)b.data, b.len, 1000, &used, err, sizeof err));
    buf_clear(&b);
    stats_trending_destroy(back);
    stats_trending_destroy(t);
}

/* A skip after a view cancels an item out (score clamped to 0): the snapshot
 * must still load — a server that saved one could not start again. */
Test(trending, snapshot_with_cancelled_item_loads)
{
    struct stats_trending *t = create(6 * HOUR_MS, 1000);
    stats_trending_add(t, 11, NULL, 1.0, T0);
    stats_trending_add(t, 22, NULL, 1.0, T0);
    stats_trending_add(t, 22, NULL, -5.0, T0 + 1000); /* clamped to 0 */
    stats_trending_add(t, 33, "cats", 2.0, T0 + 2000);
    struct buf b;
    buf_init(&b, 1 << 16);
    cr_assert_eq(stats_trending_encode(t, &b), 0);
    char err[128];
    size_t used = 0;
    struct stats_trending *back =
        stats_trending_decode((uint8_t *)b.data, b.len, 1000, &used, err, sizeof err);
    cr_assert_not_null(back, "%s", err);
    cr_assert_eq(used, b.len);
    struct stats_trending_item top[8];
    cr_assert_eq(stats_trending_top(back, T0 + 3000, top, 8), 2, "the cancelled item is dropped");
    cr_assert_eq(top[0].key, 33);
    cr_assert_eq(top[1].key, 11);
    /* What earlier versions wrote (the zero score stored) loads too. */
    uint8_t old[24 + 17];
    memcpy(old, b.data, 24);
    old[16] = 1, old[17] = old[18] = old[19] = 0; /* one item */
    memset(old + 24, 0, 17);
    old[24] = 22; /* key 22, score bits 0 (0.0), no label */
    struct stats_trending *zero =
        stats_trending_decode(old, sizeof old, 1000, &used, err, sizeof err);
    cr_assert_not_null(zero, "%s", err);
    cr_assert_eq(stats_trending_top(zero, T0 + 3000, top, 8), 0);
    stats_trending_destroy(zero);
    buf_clear(&b);
    stats_trending_destroy(back);
    stats_trending_destroy(t);
}
