/*
 * The stats consumer: the [stats] config section, one scripted event stream
 * applied through stats_apply reaching active users, trending videos and
 * hashtags and creator statistics, a save/restore cycle that resumes at the
 * right log position, a corrupt snapshot refused, and concurrent use.
 */
#include "core/config.h"
#include "core/country.h"
#include "stats/hll.h"
#include "stats/stats.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DAY0 20419
#define HOUR_MS 3600000LL

static char tmpdir[256];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/reel-stats-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
    nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void default_options(struct stats_options *o)
{
    struct config cfg;
    char err[CONFIG_ERR_MAX];
    config_init(&cfg);
    cr_assert_eq(config_load_string(&cfg, config_default_text, "built-in", err, sizeof err), 0,
                 "%s", err);
    stats_options_init(o, &cfg);
}

Test(stats, config_section)
{
    struct config cfg;
    char err[CONFIG_ERR_MAX];
    config_init(&cfg);
    cr_assert_eq(config_load_string(&cfg, config_default_text, "built-in", err, sizeof err), 0,
                 "%s", err);
    cr_assert_eq(cfg.stats_hll_precision, 15);
    cr_assert_eq(cfg.stats_trending_half_life_s, 6 * 3600);
    struct stats_options o;
    stats_options_init(&o, &cfg);
    cr_assert_float_eq(o.weights[EVENT_UNLIKE], -o.weights[EVENT_LIKE], 1e-12);
    cr_assert_lt(o.weights[EVENT_SKIP], 0);
    cr_assert_eq(o.trending_half_life_ms, 6 * HOUR_MS);
    cr_assert_eq(o.creator_retention_days, 400);

    const char *regions = "[site a]\ncountry = DE\n[region eu]\nid = 1\ncountries = *\n"
                          "storage_countries = DE\nprimary = a\n";
    char text[1024];
    snprintf(text, sizeof text, "[stats]\ntrending_half_life = 2h\nweight_share = 20\n%s", regions);
    config_init(&cfg);
    cr_assert_eq(config_load_string(&cfg, text, "t.ini", err, sizeof err), 0, "%s", err);
    cr_assert_eq(cfg.stats_trending_half_life_s, 7200);
    cr_assert_eq(cfg.stats_weight_share, 20);
    snprintf(text, sizeof text, "[stats]\nhll_precision = 12\n%s", regions);
    config_init(&cfg);
    cr_assert_eq(config_load_string(&cfg, text, "t.ini", err, sizeof err), -1);
    cr_assert_not_null(strstr(err, "hll_precision"), "%s", err);
    snprintf(text, sizeof text, "[stats]\nweight_bogus = 1\n%s", regions);
    config_init(&cfg);
    cr_assert_eq(config_load_string(&cfg, text, "t.ini", err, sizeof err), -1);
}

/* Hashtags for the test's videos: video 1 #cats, video 2 #cats #dogs, 3 none. */
static int hashtags(void *ctx, uint64_t video_id, const char **tags, int max)
{
    (void)ctx;
    if (max < 2)
        return 0;
    if (video_id == 1) {
        tags[0] = "cats";
        return 1;
    }
    if (video_id == 2) {
        tags[0] = "cats";
        tags[1] = "dogs";
        return 2;
    }
    return 0;
}

static struct event make(uint8_t type, uint64_t user, uint64_t video, uint64_t creator,
                         int64_t at_ms)
{
    struct event e = {.user_id = user,
                      .video_id = video,
                      .creator_id = creator,
                      .at_ms = at_ms,
                      .watched_ms = 9000,
                      .duration_ms = 10000,
                      .type = type};
    return e;
}

/* 300 users (DE for even ids, FR for odd) play and watch video 1 or 3 on day
 * 0; at hour 30, 40 users share video 2. Returns the last log position. */
static uint64_t feed(struct stats *s, uint64_t position)
{
    int de = country_index("DE"), fr = country_index("FR");
    int64_t t0 = (int64_t)DAY0 * 86400000LL;
    for (uint64_t u = 1; u <= 300; u++) {
        uint64_t video = u % 3 ? 1 : 3;
        int country = u % 2 ? fr : de;
        struct event play = make(EVENT_PLAY, 1000 + u, video, 77, t0 + (int64_t)u * 60000);
        struct event watch = make(EVENT_WATCH, 1000 + u, video, 77, t0 + (int64_t)u * 60000 + 1);
        cr_assert_eq(stats_apply(s, &play, country, ++position), 0);
        cr_assert_eq(stats_apply(s, &watch, country, ++position), 0);
    }
    for (uint64_t u = 1; u <= 40; u++) {
        struct event share = make(EVENT_SHARE, 1000 + u, 2, 78, t0 + 30 * HOUR_MS + (int64_t)u);
        cr_assert_eq(stats_apply(s, &share, u % 2 ? fr : de, ++position), 0);
    }
    return position;
}

static void check_state(struct stats *s)
{
    char err[256];
    uint64_t n = 0;
    cr_assert_eq(stats_query_active(s, STATS_PERIOD_DAY, DAY0, -1, &n, err, sizeof err), 0);
    cr_assert_eq(n, 300);
    cr_assert_eq(
        stats_query_active(s, STATS_PERIOD_DAY, DAY0, country_index("DE"), &n, err, sizeof err), 0);
    cr_assert_eq(n, 150);
    cr_assert_eq(stats_query_active(s, STATS_PERIOD_MONTH, DAY0 + 1, -1, &n, err, sizeof err), 0);
    cr_assert_eq(n, 300, "the sharers were already active on day 0");

    /* Video 1 had 200 plays + 200 watches; the 40 shares of video 2 (8
     * points each) came 6 hours before "now" and still lead. */
    int64_t now = (int64_t)DAY0 * 86400000LL + 36 * HOUR_MS;
    struct stats_trending_item top[3];
    cr_assert_eq(stats_query_trending_videos(s, now, top, 3), 3);
    cr_assert_eq(top[0].key, 2);
    cr_assert_eq(top[1].key, 1);
    cr_assert_eq(top[2].key, 3);
    cr_assert_eq(stats_query_trending_hashtags(s, now, top, 3), 2);
    cr_assert_str_eq(top[0].label, "cats", "cats has video 1 and video 2");
    cr_assert_str_eq(top[1].label, "dogs");

    struct stats_creator_report r;
    stats_creator_report_init(&r, 77);
    cr_assert_eq(stats_query_creator(s, 77, DAY0, DAY0, &r), 0);
    cr_assert_eq(r.count, 2);
    cr_assert_eq(r.rows[0].video_id, 1);
    cr_assert_eq(r.rows[0].counters.views, 200);
    cr_assert_eq(stats_creator_row_viewers(&r.rows[0]), 200);
    cr_assert_float_eq(stats_counters_watch_ratio(&r.rows[0].counters), 0.9, 1e-9);
    stats_creator_report_clear(&r);
}

Test(stats, one_stream_feeds_everything)
{
    struct stats_options o;
    default_options(&o);
    o.video_hashtags = hashtags;
    char err[256];
    struct stats *s = stats_create(&o, NULL, err, sizeof err);
    cr_assert_not_null(s, "%s", err);
    uint64_t last = feed(s, 0);
    check_state(s);
    struct stats_status st;
    stats_query_status(s, &st);
    cr_assert_eq(st.log_position, last);
    cr_assert_eq(st.events_applied, 640);
    cr_assert_gt(st.memory_bytes, 0);
    stats_destroy(s);
}

Test(stats, save_and_restore_resume_at_the_log_position, .init = make_tmpdir, .fini = remove_tmpdir)
{
    struct stats_options o;
    default_options(&o);
    o.video_hashtags = hashtags;
    char err[256];
    struct stats *s = stats_create(&o, tmpdir, err, sizeof err);
    cr_assert_not_null(s, "%s", err);
    uint64_t last = feed(s, 100);
    cr_assert_eq(stats_save(s, err, sizeof err), 0, "%s", err);
    stats_destroy(s);

    s = stats_create(&o, tmpdir, err, sizeof err);
    cr_assert_not_null(s, "%s", err);
    cr_assert_eq(stats_log_position(s), last);
    check_state(s);
    /* Counting continues after the restore. */
    struct event like = make(EVENT_LIKE, 5000, 1, 77, (int64_t)DAY0 * 86400000LL + 1000);
    cr_assert_eq(stats_apply(s, &like, -1, last + 1), 0);
    struct stats_creator_report r;
    stats_creator_report_init(&r, 77);
    cr_assert_eq(stats_query_creator(s, 77, DAY0, DAY0, &r), 0);
    cr_assert_eq(r.rows[0].counters.likes, 1);
    stats_creator_report_clear(&r);
    cr_assert_eq(stats_log_position(s), last + 1);
    stats_destroy(s);

    /* A damaged snapshot stops the start with a message naming it. */
    char path[512];
    snprintf(path, sizeof path, "%s/stats.snap", tmpdir);
    int fd = open(path, O_RDWR);
    cr_assert_geq(fd, 0);
    cr_assert_eq(pwrite(fd, "X", 1, 40), 1);
    close(fd);
    cr_assert_null(stats_create(&o, tmpdir, err, sizeof err));
    cr_assert_not_null(strstr(err, "stats.snap"), "%s", err);
}

struct worker {
    struct stats *s;
    int id;
};

static void *apply_events(void *arg)
{
    struct worker *w = arg;
    int64_t t0 = (int64_t)DAY0 * 86400000LL;
    for (int i = 0; i < 20000; i++) {
        struct event e = make(EVENT_PLAY, (uint64_t)w->id * 100000 + (uint64_t)i + 1,
                              (uint64_t)(i % 50) + 1, 9, t0 + i);
        stats_apply(w->s, &e, -1, 0);
        if (i % 1000 == 0) {
            struct stats_trending_item top[5];
            stats_query_trending_videos(w->s, t0 + i, top, 5);
        }
    }
    return NULL;
}

Test(stats, concurrent_apply_and_query)
{
    struct stats_options o;
    default_options(&o);
    char err[256];
    struct stats *s = stats_create(&o, NULL, err, sizeof err);
    pthread_t threads[3];
    struct worker workers[3];
    for (int i = 0; i < 3; i++) {
        workers[i] = (struct worker){s, i};
        pthread_create(&threads[i], NULL, apply_events, &workers[i]);
    }
    for (int i = 0; i < 3; i++)
        pthread_join(threads[i], NULL);
    uint64_t n = 0;
    cr_assert_eq(stats_query_active(s, STATS_PERIOD_DAY, DAY0, -1, &n, err, sizeof err), 0);
    cr_assert_leq(n > 60000 ? n - 60000 : 60000 - n, 1200, "%llu", (unsigned long long)n);
    struct stats_creator_report r;
    stats_creator_report_init(&r, 9);
    cr_assert_eq(stats_query_creator(s, 9, DAY0, DAY0, &r), 0);
    struct stats_counters total;
    uint64_t unique;
    stats_creator_report_totals(&r, &total, &unique);
    cr_assert_eq(total.views, 60000);
    stats_creator_report_clear(&r);
    stats_destroy(s);
}
