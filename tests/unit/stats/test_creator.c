/*
 * Creator statistics: a scripted event stream gives exact per-video, per-day
 * counters and viewers; reports from two regions merge (also through their
 * wire encoding) into what one instance fed everything reports; snapshots
 * round-trip; expiry forgets old days.
 */
#include "core/buf.h"
#include "stats/active.h"
#include "stats/creator.h"
#include "stats/hll.h"

#include <criterion/criterion.h>
#include <string.h>

#define DAY0 20419
#define C1 1001
#define C2 1002
#define V1 5001
#define V2 5002
#define V3 5003

static int64_t at(int day, int minute)
{
    return (int64_t)(DAY0 + day) * STATS_DAY_MS + minute * 60000LL;
}

static struct event ev(uint8_t type, uint64_t user, uint64_t video, uint64_t creator, int day)
{
    struct event e = {.user_id = user,
                      .video_id = video,
                      .creator_id = creator,
                      .at_ms = at(day, (int)(user % 600)),
                      .duration_ms = 10000,
                      .type = type};
    return e;
}

static struct event watch(uint64_t user, uint64_t video, uint64_t creator, int day,
                          uint32_t watched_ms)
{
    struct event e = ev(EVENT_WATCH, user, video, creator, day);
    e.watched_ms = watched_ms;
    return e;
}

static void apply_all(struct stats_creator *cs, const struct event *events, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(stats_creator_apply(cs, &events[i]), 0, "event %zu", i);
}

/* The scripted stream. Day 0: five users play V1 (user 1 twice), three
 * watch it (10 s, 5 s, 12 s of a 10 s video), 3 likes and 1 unlike, 2
 * comments, 1 share, 2 follows from V1 and 1 from the profile, one
 * impression, one skip. Day 1: users 1 and 6 play V1, user 7 plays V2.
 * V3 belongs to C2. */
static const struct event *script(size_t *n)
{
    static struct event e[64];
    size_t k = 0;
    for (uint64_t u = 1; u <= 5; u++)
        e[k++] = ev(EVENT_PLAY, u, V1, C1, 0);
    e[k++] = ev(EVENT_PLAY, 1, V1, C1, 0);
    e[k++] = watch(1, V1, C1, 0, 10000);
    e[k++] = watch(2, V1, C1, 0, 5000);
    e[k++] = watch(3, V1, C1, 0, 12000);
    for (uint64_t u = 1; u <= 3; u++)
        e[k++] = ev(EVENT_LIKE, u, V1, C1, 0);
    e[k++] = ev(EVENT_UNLIKE, 2, V1, C1, 0);
    e[k++] = ev(EVENT_COMMENT, 4, V1, C1, 0);
    e[k++] = ev(EVENT_COMMENT, 5, V1, C1, 0);
    e[k++] = ev(EVENT_SHARE, 1, V1, C1, 0);
    e[k++] = ev(EVENT_FOLLOW, 2, V1, C1, 0);
    e[k++] = ev(EVENT_FOLLOW, 3, V1, C1, 0);
    e[k++] = ev(EVENT_FOLLOW, 9, 0, C1, 0);
    e[k++] = ev(EVENT_IMPRESSION, 8, V1, C1, 0);
    e[k++] = ev(EVENT_SKIP, 8, V1, C1, 0);
    e[k++] = ev(EVENT_PLAY, 1, V1, C1, 1);
    e[k++] = ev(EVENT_PLAY, 6, V1, C1, 1);
    e[k++] = ev(EVENT_PLAY, 7, V2, C1, 1);
    e[k++] = ev(EVENT_PLAY, 1, V3, C2, 1);
    e[k++] = ev(EVENT_LIKE, 1, V3, C2, 1);
    *n = k;
    return e;
}

static const struct stats_creator_row *find(const struct stats_creator_report *r, uint64_t video,
                                            int day)
{
    for (size_t i = 0; i < r->count; i++)
        if (r->rows[i].video_id == video && r->rows[i].day == DAY0 + day)
            return &r->rows[i];
    return NULL;
}

Test(creator, scripted_stream_counts_exactly)
{
    struct stats_creator *cs = stats_creator_create(12);
    size_t n;
    const struct event *e = script(&n);
    apply_all(cs, e, n);

    struct stats_creator_report r;
    stats_creator_report_init(&r, C1);
    cr_assert_eq(stats_creator_report(cs, C1, DAY0, DAY0 + 1, &r), 0);
    cr_assert_eq(r.count, 4, "rows: V1 day 0, V1 day 1, V2 day 1, profile day 0");
    /* Sorted by (video, day): the profile row (video 0) first. */
    cr_assert_eq(r.rows[0].video_id, 0);
    cr_assert_eq(r.rows[1].video_id, V1);
    cr_assert_eq(r.rows[1].day, DAY0);

    const struct stats_creator_row *v1d0 = find(&r, V1, 0);
    cr_assert_not_null(v1d0);
    const struct stats_counters *c = &v1d0->counters;
    cr_assert_eq(c->views, 6);
    cr_assert_eq(stats_creator_row_viewers(v1d0), 5);
    cr_assert_eq(c->watches, 3);
    cr_assert_eq(c->completions, 2);
    cr_assert_float_eq(stats_counters_watch_ratio(c), (1.0 + 0.5 + 1.0) / 3, 1e-12);
    cr_assert_float_eq(stats_counters_completion_rate(c), 2.0 / 3, 1e-12);
    cr_assert_eq(c->likes, 2);
    cr_assert_eq(c->comments, 2);
    cr_assert_eq(c->shares, 1);
    cr_assert_eq(c->followers, 2);
    cr_assert_eq(c->impressions, 1);

    const struct stats_creator_row *v1d1 = find(&r, V1, 1), *v2d1 = find(&r, V2, 1);
    const struct stats_creator_row *profile = find(&r, 0, 0);
    cr_assert(v1d1 && v2d1 && profile);
    cr_assert_eq(v1d1->counters.views, 2);
    cr_assert_eq(stats_creator_row_viewers(v1d1), 2);
    cr_assert_eq(v2d1->counters.views, 1);
    cr_assert_eq(profile->counters.followers, 1);
    cr_assert_eq(profile->counters.views, 0);
    cr_assert_null(find(&r, V3, 1), "another creator's video leaked in");

    struct stats_counters total;
    uint64_t unique = 0;
    cr_assert_eq(stats_creator_report_totals(&r, &total, &unique), 0);
    cr_assert_eq(unique, 7, "users 1..7 viewed something");
    cr_assert_eq(total.views, 9);
    cr_assert_eq(total.followers, 3);
    stats_creator_report_clear(&r);

    /* A range selects days. */
    stats_creator_report_init(&r, C1);
    cr_assert_eq(stats_creator_report(cs, C1, DAY0 + 1, DAY0 + 1, &r), 0);
    cr_assert_eq(r.count, 2);
    stats_creator_report_clear(&r);
    /* An unknown creator has an empty report; a report for another creator is refused. */
    stats_creator_report_init(&r, 4242);
    cr_assert_eq(stats_creator_report(cs, 4242, DAY0, DAY0 + 9, &r), 0);
    cr_assert_eq(r.count, 0);
    cr_assert_eq(stats_creator_report(cs, C1, DAY0, DAY0 + 9, &r), -1);
    stats_creator_report_clear(&r);
    stats_creator_destroy(cs);
}

/* The EU region sees some viewers, the US region others; the creator's
 * combined report — built from each region's encoded report — equals what
 * one instance fed every event reports. */
Test(creator, reports_from_regions_merge)
{
    struct stats_creator *eu = stats_creator_create(12), *us = stats_creator_create(12);
    struct stats_creator *all = stats_creator_create(12);
    for (uint64_t u = 1; u <= 3000; u++) {
        struct event e = watch(u, u % 3 ? V1 : V2, C1, (int)(u % 2), (uint32_t)(u % 11) * 1000);
        cr_assert_eq(stats_creator_apply(u % 4 ? eu : us, &e), 0);
        cr_assert_eq(stats_creator_apply(all, &e), 0);
    }
    struct stats_creator_report r_eu, r_us, merged, direct;
    stats_creator_report_init(&r_eu, C1);
    stats_creator_report_init(&r_us, C1);
    stats_creator_report_init(&merged, C1);
    stats_creator_report_init(&direct, C1);
    cr_assert_eq(stats_creator_report(eu, C1, DAY0, DAY0 + 1, &r_eu), 0);
    cr_assert_eq(stats_creator_report(us, C1, DAY0, DAY0 + 1, &r_us), 0);
    cr_assert_eq(stats_creator_report(all, C1, DAY0, DAY0 + 1, &direct), 0);

    /* The US report travels encoded; only counts and sketches are in it. */
    struct buf wire;
    buf_init(&wire, 1 << 20);
    cr_assert_eq(stats_creator_report_encode(&r_us, &wire), 0);
    struct stats_creator_report received;
    stats_creator_report_init(&received, 0);
    char err[128];
    cr_assert_eq(
        stats_creator_report_decode(&received, (uint8_t *)wire.data, wire.len, err, sizeof err), 0,
        "%s", err);
    cr_assert_eq(received.creator_id, C1);
    for (size_t cut = 0; cut < wire.len; cut += 13) {
        struct stats_creator_report bad;
        stats_creator_report_init(&bad, 0);
        cr_assert_eq(stats_creator_report_decode(&bad, (uint8_t *)wire.data, cut, err, sizeof err),
                     -1, "truncated report accepted at %zu", cut);
        stats_creator_report_clear(&bad);
    }

    cr_assert_eq(stats_creator_report_merge(&merged, &r_eu), 0);
    cr_assert_eq(stats_creator_report_merge(&merged, &received), 0);
    cr_assert_eq(merged.count, direct.count);
    for (size_t i = 0; i < direct.count; i++) {
        struct stats_creator_row *a = &merged.rows[i], *b = &direct.rows[i];
        cr_assert_eq(a->video_id, b->video_id);
        cr_assert_eq(a->day, b->day);
        cr_assert_eq(a->counters.watches, b->counters.watches);
        cr_assert_eq(a->counters.completions, b->counters.completions);
        cr_assert_float_eq(a->counters.watch_ratio_sum, b->counters.watch_ratio_sum, 1e-9);
        cr_assert(hll_equal(a->viewers, b->viewers), "row %zu viewers differ", i);
    }
    struct stats_counters total;
    uint64_t unique;
    cr_assert_eq(stats_creator_report_totals(&merged, &total, &unique), 0);
    cr_assert_eq(total.watches, 3000);
    /* p = 12: standard error 1.6%; allow about three. */
    cr_assert_leq(unique > 3000 ? unique - 3000 : 3000 - unique, 150, "unique %llu",
                  (unsigned long long)unique);
    struct stats_creator_report other;
    stats_creator_report_init(&other, C2);
    cr_assert_eq(stats_creator_report_merge(&other, &r_eu), -1, "creators must match");

    stats_creator_report_clear(&other);
    buf_clear(&wire);
    stats_creator_report_clear(&received);
    stats_creator_report_clear(&r_eu);
    stats_creator_report_clear(&r_us);
    stats_creator_report_clear(&merged);
    stats_creator_report_clear(&direct);
    stats_creator_destroy(eu);
    stats_creator_destroy(us);
    stats_creator_destroy(all);
}

static void assert_reports_equal(struct stats_creator *a, struct stats_creator *b, uint64_t creator)
{
    struct stats_creator_report x, y;
    stats_creator_report_init(&x, creator);
    stats_creator_report_init(&y, creator);
    cr_assert_eq(stats_creator_report(a, creator, DAY0 - 10, DAY0 + 10, &x), 0);
    cr_assert_eq(stats_creator_report(b, creator, DAY0 - 10, DAY0 + 10, &y), 0);
    cr_assert_eq(x.count, y.count);
    for (size_t i = 0; i < x.count; i++) {
        cr_assert_eq(x.rows[i].video_id, y.rows[i].video_id);
        cr_assert_eq(x.rows[i].day, y.rows[i].day);
        cr_assert(memcmp(&x.rows[i].counters, &y.rows[i].counters, sizeof x.rows[i].counters) == 0);
        cr_assert(hll_equal(x.rows[i].viewers, y.rows[i].viewers));
    }
    stats_creator_report_clear(&x);
    stats_creator_report_clear(&y);
}

Test(creator, snapshot_round_trip)
{
    struct stats_creator *cs = stats_creator_create(12);
    size_t n;
    const struct event *e = script(&n);
    apply_all(cs, e, n);
    struct buf b;
    buf_init(&b, 1 << 20);
    cr_assert_eq(stats_creator_encode(cs, &b), 0);
    char err[128];
    struct stats_creator *back = stats_creator_decode((uint8_t *)b.data, b.len, err, sizeof err);
    cr_assert_not_null(back, "%s", err);
    assert_reports_equal(cs, back, C1);
    assert_reports_equal(cs, back, C2);
    for (size_t cut = 0; cut < b.len; cut += 11)
        cr_assert_null(stats_creator_decode((uint8_t *)b.data, cut, err, sizeof err),
                       "truncated snapshot accepted at %zu", cut);
    buf_clear(&b);
    stats_creator_destroy(back);
    stats_creator_destroy(cs);
}

Test(creator, expiry_forgets_old_days)
{
    struct stats_creator *cs = stats_creator_create(12);
    size_t n;
    const struct event *e = script(&n);
    apply_all(cs, e, n);
    size_t before = stats_creator_memory_bytes(cs);
    cr_assert_eq(stats_creator_expire(cs, DAY0 + 1), 0);
    struct stats_creator_report r;
    stats_creator_report_init(&r, C1);
    cr_assert_eq(stats_creator_report(cs, C1, DAY0 - 5, DAY0 + 5, &r), 0);
    cr_assert_eq(r.count, 2, "only day 1's rows of V1 and V2 remain");
    cr_assert_null(find(&r, 0, 0));
    stats_creator_report_clear(&r);
    cr_assert_leq(stats_creator_memory_bytes(cs), before);
    /* Still counting after the rebuild. */
    struct event more = ev(EVENT_PLAY, 77, V2, C1, 1);
    cr_assert_eq(stats_creator_apply(cs, &more), 0);
    stats_creator_report_init(&r, C1);
    cr_assert_eq(stats_creator_report(cs, C1, DAY0 + 1, DAY0 + 1, &r), 0);
    const struct stats_creator_row *row = find(&r, V2, 1);
    cr_assert_not_null(row);
    cr_assert_eq(row->counters.views, 2);
    stats_creator_report_clear(&r);
    stats_creator_destroy(cs);
}

/* A video first seen without its creator is attached when the creator is
 * known; events without a video or followed user are ignored. */
Test(creator, late_creator_and_ignored_events)
{
    struct stats_creator *cs = stats_creator_create(12);
    struct event e = ev(EVENT_PLAY, 1, V1, 0, 0);
    cr_assert_eq(stats_creator_apply(cs, &e), 0);
    e = ev(EVENT_PLAY, 2, V1, C1, 0);
    cr_assert_eq(stats_creator_apply(cs, &e), 0);
    e = ev(EVENT_LIKE, 2, 0, C1, 0);
    cr_assert_eq(stats_creator_apply(cs, &e), 0);
    e = ev(EVENT_FOLLOW, 2, 0, 0, 0);
    cr_assert_eq(stats_creator_apply(cs, &e), 0);
    struct stats_creator_report r;
    stats_creator_report_init(&r, C1);
    cr_assert_eq(stats_creator_report(cs, C1, DAY0, DAY0, &r), 0);
    cr_assert_eq(r.count, 1);
    cr_assert_eq(r.rows[0].counters.views, 2);
    cr_assert_eq(r.rows[0].counters.likes, 0);
    stats_creator_report_clear(&r);
    stats_creator_destroy(cs);
}
