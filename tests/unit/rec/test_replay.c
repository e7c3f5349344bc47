/*
 * `reel replay`: loaders stop at the first bad line and say where; the two
 * protocols run end to end on tiny fixtures (tests/fixtures/replay) with
 * sane metrics; the command line rejects bad usage with status 2. The real
 * datasets (../shared/data) are loaded when present, skipped otherwise.
 */
#include "cli/cli.h"
#include "cli/replay.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *fixture(const char *rel)
{
    static char path[4][1024];
    static int next;
    const char *root = getenv("REEL_SOURCE_ROOT");
    cr_assert_not_null(root, "REEL_SOURCE_ROOT is not set");
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/tests/fixtures/replay/%s", root, rel);
    return p;
}

static const char *data_dir(void)
{
    static char path[1024];
    const char *env = getenv("REEL_DATA_DIR");
    const char *root = getenv("REEL_SOURCE_ROOT");
    if (env)
        snprintf(path, sizeof path, "%s", env);
    else if (root)
        snprintf(path, sizeof path, "%s/../shared/data", root);
    else
        return NULL;
    struct stat st;
    return stat(path, &st) == 0 ? path : NULL;
}

static void expect_error(int rc, const char *err, const char *where, const char *what)
{
    cr_assert_eq(rc, -1, "the load must fail");
    cr_assert(strstr(err, where), "'%s' does not name %s", err, where);
    cr_assert(strstr(err, what), "'%s' does not say %s", err, what);
}

Test(replay, kuairec_loader_reports_file_and_line)
{
    struct kuairec_data d;
    char err[REPLAY_ERR_MAX];
    expect_error(kuairec_load(&d, fixture("kuairec_bad_ratio/small_matrix_sample.csv"), NULL, err,
                              sizeof err),
                 err, "small_matrix_sample.csv:4:", "not a number");
    expect_error(kuairec_load(&d, fixture("kuairec_dup/small_matrix_sample.csv"), NULL, err,
                              sizeof err),
                 err, "small_matrix_sample.csv:6:", "already appear on line 2");
    expect_error(kuairec_load(&d, fixture("kuairec_short/small_matrix_sample.csv"), NULL, err,
                              sizeof err),
                 err, "small_matrix_sample.csv:5:", "expected 3 fields");
    expect_error(kuairec_load(&d, fixture("kuairec_bad_categories/small_matrix_sample.csv"),
                              fixture("kuairec_bad_categories/item_categories.csv"), err,
                              sizeof err),
                 err, "item_categories.csv:3:", "not a list");
    expect_error(kuairec_load(&d, fixture("no_such_dir/small_matrix_sample.csv"), NULL, err,
                              sizeof err),
                 err, "no_such_dir/small_matrix_sample.csv", "No such file");
}

Test(replay, movielens_loader_reports_file_and_line)
{
    struct movielens_data d;
    char err[REPLAY_ERR_MAX];
    expect_error(movielens_load(&d, fixture("movielens_bad_rating/ratings.csv"),
                                fixture("movielens_bad_rating/movies.csv"), err, sizeof err),
                 err, "ratings.csv:6:", "not in 0.5..5");
    expect_error(movielens_load(&d, fixture("movielens_bad_header/ratings.csv"), NULL, err,
                                sizeof err),
                 err, "ratings.csv:1:", "header");
    expect_error(movielens_load(&d, fixture("movielens_unknown_movie/ratings.csv"),
                                fixture("movielens_unknown_movie/movies.csv"), err, sizeof err),
                 err, "ratings.csv:5:", "movie 999");
}

Test(replay, kuairec_protocol_on_a_tiny_fixture)
{
    struct kuairec_data d;
    char err[REPLAY_ERR_MAX];
    cr_assert_eq(kuairec_load(&d, fixture("kuairec/small_matrix_sample.csv"),
                              fixture("kuairec/item_categories.csv"), err, sizeof err),
                 0, "%s", err);
    cr_assert_eq(d.users, 8);
    cr_assert_eq(d.rows, 80);
    cr_assert_eq(d.videos, 15);
    cr_assert_str_eq(d.video_tags[0][0][0] == 'c' ? "c" : "?", "c");
    struct config_rec cfg;
    config_rec_init(&cfg);
    struct kuairec_result r;
    cr_assert_eq(kuairec_run(&d, &cfg, 4, 2, 1, 0, &r, err, sizeof err), 0, "%s", err);
    for (int p = 0; p < KR_POLICIES; p++) {
        cr_assert_eq(r.shown[p], 8 * 4 * 2, "policy %d showed %llu", p,
                     (unsigned long long)r.shown[p]);
        cr_assert(r.mean_ratio[p] > 0 && r.mean_ratio[p] <= 10);
        cr_assert_leq(r.mean_ratio[p], r.mean_ratio[KR_ORACLE] + 1e-9, "nobody beats the oracle");
    }
    /* The oracle of this protocol is each user's best 8 of 10, known here. */
    double best = 0;
    for (uint32_t u = 0; u < d.users; u++) {
        float v[10];
        uint32_t n = d.offsets[u + 1] - d.offsets[u];
        for (uint32_t i = 0; i < n; i++)
            v[i] = d.ratios[d.offsets[u] + i] < 10 ? d.ratios[d.offsets[u] + i] : 10;
        for (uint32_t i = 0; i < n; i++)
            for (uint32_t j = i + 1; j < n; j++)
                if (v[j] > v[i]) {
                    float t = v[i];
                    v[i] = v[j];
                    v[j] = t;
                }
        for (uint32_t i = 0; i < 8; i++)
            best += (double)v[i];
    }
    cr_assert_float_eq(r.mean_ratio[KR_ORACLE], best / 64, 1e-4);
    /* Same seed, same numbers. */
    struct kuairec_result again;
    cr_assert_eq(kuairec_run(&d, &cfg, 4, 2, 1, 0, &again, err, sizeof err), 0);
    cr_assert_eq(memcmp(again.mean_ratio, r.mean_ratio, sizeof r.mean_ratio), 0);
    kuairec_free(&d);
}

Test(replay, movielens_protocol_on_a_tiny_fixture)
{
    struct movielens_data d;
    char err[REPLAY_ERR_MAX];
    cr_assert_eq(movielens_load(&d, fixture("movielens/ratings.csv"),
                                fixture("movielens/movies.csv"), err, sizeof err),
                 0, "%s", err);
    cr_assert_eq(d.users, 10);
    cr_assert_eq(d.items, 30);
    cr_assert_eq(d.ratings, 120);
    struct config_rec cfg;
    config_rec_init(&cfg);
    struct movielens_result r;
    cr_assert_eq(movielens_run(&d, &cfg, 5, 1, 0, &r, err, sizeof err), 0, "%s", err);
    cr_assert_eq(r.test, 10 * 2, "20%% of 12 ratings per user, rounded");
    cr_assert_eq(r.train, 100);
    cr_assert_eq(r.users_evaluated, 10);
    for (int p = 0; p < ML_POLICIES; p++) {
        cr_assert(r.recall[p] >= 0 && r.recall[p] <= 1);
        cr_assert(r.ndcg[p] >= 0 && r.ndcg[p] <= 1);
    }
    movielens_free(&d);
}

Test(replay, command_line_usage_errors_exit_2)
{
    char a0[] = "replay", bad[] = "--bogus", seeds[] = "--seeds", zero[] = "0",
         set[] = "--set", kv[] = "dim=7", dir[1024];
    snprintf(dir, sizeof dir, "%s", fixture("kuairec"));
    char *v1[] = {a0, NULL};
    cr_assert_eq(cli_replay(1, v1), EXIT_USAGE, "no DATASET");
    char *v2[] = {a0, dir, bad, NULL};
    cr_assert_eq(cli_replay(3, v2), EXIT_USAGE);
    char *v3[] = {a0, dir, seeds, zero, NULL};
    cr_assert_eq(cli_replay(4, v3), EXIT_USAGE);
    char *v4[] = {a0, dir, set, kv, NULL};
    cr_assert_eq(cli_replay(4, v4), EXIT_USAGE, "dim 7 is out of range");
    char missing[1024];
    snprintf(missing, sizeof missing, "%s", fixture("kuairec_missing"));
    char *v5[] = {a0, missing, NULL};
    cr_assert_eq(cli_replay(2, v5), 1, "a missing dataset is a failure, not usage");
    char quiet[] = "--quiet", rounds[] = "--rounds", two[] = "2";
    char *v6[] = {a0, dir, quiet, rounds, two, NULL};
    cr_assert_eq(cli_replay(5, v6), 0);
}

Test(replay, real_datasets_load_when_present)
{
    const char *data = data_dir();
    if (!data)
        cr_skip_test("no ../shared/data here");
    char m[1200], c[1200];
    snprintf(m, sizeof m, "%s/kuairec/small_matrix_sample.csv", data);
    snprintf(c, sizeof c, "%s/kuairec/item_categories.csv", data);
    struct kuairec_data d;
    char err[REPLAY_ERR_MAX];
    cr_assert_eq(kuairec_load(&d, m, c, err, sizeof err), 0, "%s", err);
    cr_assert_eq(d.users, 1411);
    cr_assert_eq(d.videos, 2519);
    cr_assert_eq(d.rows, 117113);
    struct config_rec cfg;
    config_rec_init(&cfg);
    struct kuairec_result r;
    cr_assert_eq(kuairec_run(&d, &cfg, 1, 5, 1, 0, &r, err, sizeof err), 0, "%s", err);
    cr_assert_gt(r.mean_ratio[KR_REEL], r.mean_ratio[KR_RANDOM],
                 "even in round one Reel beats random");
    kuairec_free(&d);
    snprintf(m, sizeof m, "%s/ml-latest-small/ratings.csv", data);
    snprintf(c, sizeof c, "%s/ml-latest-small/movies.csv", data);
    struct movielens_data ml;
    cr_assert_eq(movielens_load(&ml, m, c, err, sizeof err), 0, "%s", err);
    cr_assert_eq(ml.users, 610);
    cr_assert_eq(ml.ratings, 100836);
    cr_assert_eq(ml.items, 9742);
    movielens_free(&ml);
}
