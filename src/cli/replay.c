/*
 * replay.c — `reel replay DATASET [--seed N] ...` (API.md "Command line"):
 * recommendation quality on real data, through the same engine code as
 * `reel serve`, printed as a table against baselines (replay.h has the
 * protocols). A progress bar goes to stderr, the table to stdout.
 *
 * The engine configuration is the [rec] section of --config FILE (or of the
 * default config), with --set KEY=VALUE overrides, so a measured result can
 * always be reproduced from its command line.
 */
#include "cli/cli.h"
#include "cli/replay.h"

#include "core/parse.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SETS_MAX 64
#define SEEDS_MAX 100

/* ---- options ------------------------------------------------------------ */

struct replay_opts {
    const char *dataset;
    const char *format;         /* kuairec, movielens or NULL (detect) */
    const char *config_path;
    const char *matrix, *categories, *ratings, *movies;
    const char *sets[SETS_MAX];
    unsigned nsets;
    uint64_t seed;
    unsigned seeds, rounds, page, top;
    int quiet;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: reel replay DATASET [options]\n"
            "\n"
            "Feeds a real dataset through the recommendation engine as a population of\n"
            "simulated users and prints quality metrics against baselines.\n"
            "\n"
            "  DATASET          a directory holding small_matrix_sample.csv (KuaiRec, with\n"
            "                   item_categories.csv) or ratings.csv (MovieLens, with movies.csv)\n"
            "  --seed N         seed of the user order, baselines and engine (default 1)\n"
            "  --seeds K        run seeds N .. N+K-1 and report mean and spread (default 1)\n"
            "  --rounds N       KuaiRec: rounds of one page per user (default 8)\n"
            "  --page N         KuaiRec: page size (default 5)\n"
            "  --top N          MovieLens: length of the evaluated page (default 20)\n"
            "  --config FILE    engine settings from this file's [rec] section\n"
            "  --set KEY=VALUE  override one [rec] setting (repeatable)\n"
            "  --format F       kuairec or movielens (default: from the files present)\n"
            "  --matrix FILE, --categories FILE   KuaiRec files (override DATASET)\n"
            "  --ratings FILE, --movies FILE      MovieLens files (override DATASET)\n"
            "  --quiet          no progress bar\n");
}

static int parse_uint_opt(const char *name, const char *value, unsigned long long min,
                          unsigned long long max, unsigned long long *out)
{
    if (!value || parse_ull(value, out) < 0 || *out < min || *out > max) {
        fprintf(stderr, "reel replay: %s needs a number %llu..%llu\n", name, min, max);
        return -1;
    }
    return 0;
}

/* Returns 0, 1 (help printed) or -1 (usage error printed). */
static int parse_args(int argc, char **argv, struct replay_opts *o)
{
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->seeds = 1;
    o->rounds = 8;
    o->page = 5;
    o->top = 20;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned long long n;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 1;
        } else if (strcmp(a, "--quiet") == 0) {
            o->quiet = 1;
            continue;
        } else if (a[0] != '-') {
            if (o->dataset) {
                fprintf(stderr, "reel replay: more than one DATASET ('%s')\n", a);
                return -1;
            }
            o->dataset = a;
            continue;
        }
        if (!v) {
            fprintf(stderr, "reel replay: %s needs a value\n", a);
            return -1;
        }
        i++;
        if (strcmp(a, "--seed") == 0) {
            if (parse_uint_opt(a, v, 0, UINT64_MAX / 2, &n) < 0)
                return -1;
            o->seed = n;
        } else if (strcmp(a, "--seeds") == 0) {
            if (parse_uint_opt(a, v, 1, SEEDS_MAX, &n) < 0)
                return -1;
            o->seeds = (unsigned)n;
        } else if (strcmp(a, "--rounds") == 0) {
            if (parse_uint_opt(a, v, 1, 1000, &n) < 0)
                return -1;
            o->rounds = (unsigned)n;
        } else if (strcmp(a, "--page") == 0) {
            if (parse_uint_opt(a, v, 1, 100, &n) < 0)
                return -1;
            o->page = (unsigned)n;
        } else if (strcmp(a, "--top") == 0) {
            if (parse_uint_opt(a, v, 1, 100, &n) < 0)
                return -1;
            o->top = (unsigned)n;
        } else if (strcmp(a, "--config") == 0) {
            o->config_path = v;
        } else if (strcmp(a, "--set") == 0) {
            if (o->nsets == SETS_MAX) {
                fprintf(stderr, "reel replay: more than %d --set\n", SETS_MAX);
                return -1;
            }
            o->sets[o->nsets++] = v;
        } else if (strcmp(a, "--format") == 0) {
            if (strcmp(v, "kuairec") != 0 && strcmp(v, "movielens") != 0) {
                fprintf(stderr, "reel replay: --format is kuairec or movielens\n");
                return -1;
            }
            o->format = v;
        } else if (strcmp(a, "--matrix") == 0) {
            o->matrix = v;
        } else if (strcmp(a, "--categories") == 0) {
            o->categories = v;
        } else if (strcmp(a, "--ratings") == 0) {
            o->ratings = v;
        } else if (strcmp(a, "--movies") == 0) {
            o->movies = v;
        } else {
            fprintf(stderr, "reel replay: unknown option '%s'\n", a);
            return -1;
        }
    }
    if (!o->dataset && !o->matrix && !o->ratings) {
        fprintf(stderr, "reel replay: no DATASET given\n\n");
        usage(stderr);
        return -1;
    }
    return 0;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int join(char *out, size_t size, const char *dir, const char *name)
{
    int n = snprintf(out, size, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int load_engine_config(const struct replay_opts *o, struct config_rec *rec)
{
    struct config cfg;
    struct cli_common common = {.config_path = o->config_path};
    if (cli_load_config(&cfg, &common) < 0)
        return -1;
    for (unsigned i = 0; i < o->nsets; i++) {
        const char *eq = strchr(o->sets[i], '=');
        char key[64];
        const char *name = o->sets[i];
        if (strncmp(name, "rec.", 4) == 0)
            name += 4;
        size_t klen = eq ? (size_t)(eq - name) : 0;
        if (!eq || klen == 0 || klen >= sizeof key || eq < name) {
            fprintf(stderr, "reel replay: --set %s: expected KEY=VALUE\n", o->sets[i]);
            return -1;
        }
        memcpy(key, name, klen);
        key[klen] = '\0';
        char err[CONFIG_ERR_MAX];
        if (config_set(&cfg, "rec", key, eq + 1, err, sizeof err) < 0) {
            fprintf(stderr, "reel replay: --set %s: %s\n", o->sets[i], err);
            return -1;
        }
    }
    *rec = cfg.rec;
    return 0;
}

/* ---- summaries ---------------------------------------------------------- */

struct stat_acc {
    double sum, sumsq, min, max;
    unsigned n;
};

static void acc_add(struct stat_acc *a, double x)
{
    if (a->n == 0 || x < a->min)
        a->min = x;
    if (a->n == 0 || x > a->max)
        a->max = x;
    a->sum += x;
    a->sumsq += x * x;
    a->n++;
}

static double acc_mean(const struct stat_acc *a)
{
    return a->n ? a->sum / a->n : 0;
}

static double acc_sd(const struct stat_acc *a)
{
    if (a->n < 2)
        return 0;
    double m = acc_mean(a);
    double v = (a->sumsq - a->n * m * m) / (a->n - 1);
    return v > 0 ? sqrt(v) : 0;
}

static int run_kuairec(const struct replay_opts *o, const struct config_rec *rec)
{
    char matrix[1024], categories[1024];
    const char *mpath = o->matrix, *cpath = o->categories;
    if (!mpath) {
        if (join(matrix, sizeof matrix, o->dataset, "small_matrix_sample.csv") < 0)
            return 2;
        mpath = matrix;
    }
    if (!cpath && o->dataset) {
        if (join(categories, sizeof categories, o->dataset, "item_categories.csv") < 0)
            return 2;
        cpath = exists(categories) ? categories : NULL;
    }
    char err[REPLAY_ERR_MAX];
    struct kuairec_data d;
    if (kuairec_load(&d, mpath, cpath, err, sizeof err) < 0) {
        fprintf(stderr, "reel replay: %s\n", err);
        return 1;
    }
    printf("KuaiRec replay: %u users, %u videos, %u observed pairs%s; %u rounds x page %u\n",
           d.users, d.videos, d.rows, cpath ? ", categories as hashtags" : "", o->rounds, o->page);
    printf("mean watch ratio (capped at 10) of everything shown; >2 = share with ratio > 2\n\n");
    printf("%-6s %8s %8s %8s %8s | %7s %7s %7s %7s | %9s %9s | %10s\n", "seed", "random",
           "popular", "reel", "oracle", ">2 rnd", ">2 pop", ">2 reel", ">2 orc", "lift pop",
           "lift reel", "learn ev/s");
    struct stat_acc acc[KR_POLICIES] = {{0}}, lift = {0}, plift = {0}, above[KR_POLICIES] = {{0}};
    int rc = 0;
    for (unsigned k = 0; k < o->seeds; k++) {
        uint64_t seed = o->seed + k;
        struct kuairec_result r;
        if (kuairec_run(&d, rec, o->rounds, o->page, seed, !o->quiet, &r, err, sizeof err) < 0) {
            fprintf(stderr, "reel replay: %s\n", err);
            rc = 1;
            break;
        }
        printf("%-6llu %8.3f %8.3f %8.3f %8.3f | %7.3f %7.3f %7.3f %7.3f | %9.3f %9.3f | %10.0f\n",
               (unsigned long long)seed, r.mean_ratio[KR_RANDOM], r.mean_ratio[KR_POPULAR],
               r.mean_ratio[KR_REEL], r.mean_ratio[KR_ORACLE], r.share_above2[KR_RANDOM],
               r.share_above2[KR_POPULAR], r.share_above2[KR_REEL], r.share_above2[KR_ORACLE],
               r.popular_lift_share, r.lift_share, r.events_per_s);
        fflush(stdout);
        for (int p = 0; p < KR_POLICIES; p++) {
            acc_add(&acc[p], r.mean_ratio[p]);
            acc_add(&above[p], r.share_above2[p]);
        }
        acc_add(&lift, r.lift_share);
        acc_add(&plift, r.popular_lift_share);
    }
    if (rc == 0 && o->seeds > 1) {
        printf("%-6s %8.3f %8.3f %8.3f %8.3f | %7.3f %7.3f %7.3f %7.3f | %9.3f %9.3f |\n", "mean",
               acc_mean(&acc[0]), acc_mean(&acc[1]), acc_mean(&acc[2]), acc_mean(&acc[3]),
               acc_mean(&above[0]), acc_mean(&above[1]), acc_mean(&above[2]),
               acc_mean(&above[3]), acc_mean(&plift), acc_mean(&lift));
        printf("%-6s %8.3f %8.3f %8.3f %8.3f | %7.3f %7.3f %7.3f %7.3f | %9.3f %9.3f |\n", "sd",
               acc_sd(&acc[0]), acc_sd(&acc[1]), acc_sd(&acc[2]), acc_sd(&acc[3]),
               acc_sd(&above[0]), acc_sd(&above[1]), acc_sd(&above[2]), acc_sd(&above[3]),
               acc_sd(&plift), acc_sd(&lift));
        printf("\nReel's share of the achievable lift over %u seeds: mean %.3f, sd %.3f, "
               "min %.3f, max %.3f (popular: mean %.3f)\n",
               lift.n, acc_mean(&lift), acc_sd(&lift), lift.min, lift.max, acc_mean(&plift));
    }
    kuairec_free(&d);
    return rc;
}

static int run_movielens(const struct replay_opts *o, const struct config_rec *rec)
{
    char ratings[1024], movies[1024];
    const char *rpath = o->ratings, *mpath = o->movies;
    if (!rpath) {
        if (join(ratings, sizeof ratings, o->dataset, "ratings.csv") < 0)
            return 2;
        rpath = ratings;
    }
    if (!mpath && o->dataset) {
        if (join(movies, sizeof movies, o->dataset, "movies.csv") < 0)
            return 2;
        mpath = exists(movies) ? movies : NULL;
    }
    char err[REPLAY_ERR_MAX];
    struct movielens_data d;
    if (movielens_load(&d, rpath, mpath, err, sizeof err) < 0) {
        fprintf(stderr, "reel replay: %s\n", err);
        return 1;
    }
    static const char *const names[] = {"popular (count)", "item-kNN (cosine, 100)",
                                        "popular (engine, mean watch)", "reel"};
    struct stat_acc recall[ML_POLICIES] = {{0}}, ndcg[ML_POLICIES] = {{0}};
    int rc = 0;
    for (unsigned k = 0; k < o->seeds; k++) {
        uint64_t seed = o->seed + k;
        struct movielens_result r;
        if (movielens_run(&d, rec, o->top, seed, !o->quiet, &r, err, sizeof err) < 0) {
            fprintf(stderr, "reel replay: %s\n", err);
            rc = 1;
            break;
        }
        if (k == 0)
            printf("MovieLens replay: %u users, %u movies, %u ratings (%u replayed, %u held "
                   "out: each user's last 20%% by time)\n\n%-6s %-30s %10s %10s\n",
                   d.users, d.items, d.ratings, r.train, r.test, "seed", "policy", "Recall@N",
                   "NDCG@N");
        for (int p = 0; p < ML_POLICIES; p++) {
            printf("%-6llu %-30s %10.4f %10.4f\n", (unsigned long long)seed, names[p], r.recall[p],
                   r.ndcg[p]);
            acc_add(&recall[p], r.recall[p]);
            acc_add(&ndcg[p], r.ndcg[p]);
        }
        fflush(stdout);
    }
    if (rc == 0) {
        printf("\n%-37s %17s %17s\n", "over seeds (N = top)", "Recall@N mean/sd", "NDCG@N mean/sd");
        for (int p = 0; p < ML_POLICIES; p++)
            printf("%-37s %10.4f/%6.4f %10.4f/%6.4f\n", names[p], acc_mean(&recall[p]),
                   acc_sd(&recall[p]), acc_mean(&ndcg[p]), acc_sd(&ndcg[p]));
    }
    movielens_free(&d);
    return rc;
}

int cli_replay(int argc, char **argv)
{
    struct replay_opts o;
    int prc = parse_args(argc, argv, &o);
    if (prc != 0)
        return prc > 0 ? 0 : EXIT_USAGE;
    struct config_rec rec;
    if (load_engine_config(&o, &rec) < 0)
        return EXIT_USAGE;
    const char *format = o.format;
    if (!format) {
        char probe[1024];
        if (o.matrix)
            format = "kuairec";
        else if (o.ratings)
            format = "movielens";
        else if (join(probe, sizeof probe, o.dataset, "small_matrix_sample.csv") == 0 &&
                 exists(probe))
            format = "kuairec";
        else if (join(probe, sizeof probe, o.dataset, "ratings.csv") == 0 && exists(probe))
            format = "movielens";
        else {
            fprintf(stderr,
                    "reel replay: %s: no small_matrix_sample.csv (KuaiRec) or ratings.csv "
                    "(MovieLens) in it\n",
                    o.dataset);
            return 1;
        }
    }
    return strcmp(format, "kuairec") == 0 ? run_kuairec(&o, &rec) : run_movielens(&o, &rec);
}
