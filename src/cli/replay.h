/*
 * replay.h — `reel replay`: real interaction data fed through the engine as
 * a population of simulated users, with metrics against baselines.
 *
 * Two protocols (src/rec/README.md gives the numbers):
 *
 *   KuaiRec   fully observed: every (user, video) shown has a known watch
 *             ratio. Rounds in which every user, in a shuffled order, asks
 *             for a page among its observed videos not yet shown and
 *             "watches" each for its true ratio; the events go back into the
 *             engine at once. Mean watch ratio (capped at 10) and share above
 *             2 of everything shown, for random / popular / Reel / oracle, and
 *             Reel's share of the achievable lift.
 *   MovieLens each user's last 20% of ratings by time are held out; the rest
 *             are replayed in time order as watch events; then Recall@20 and
 *             NDCG@20 of one For You page per user over the full catalogue
 *             (trained items excluded) against popular and item-kNN.
 *
 * Loaders read whole files, check every field, and fail with "FILE:LINE:
 * what" — a replay never runs on half a file.
 */
#ifndef REEL_CLI_REPLAY_H
#define REEL_CLI_REPLAY_H

#include "core/config.h"

#include <stddef.h>
#include <stdint.h>

#define REPLAY_ERR_MAX 512
#define REPLAY_FILE_MAX (512u << 20) /* largest data file read */

/* ---- CSV (replay_csv.c) ------------------------------------------------- */

#define CSV_FIELDS_MAX 64

struct csv_reader {
    const char *path;
    char *text;          /* whole file, NUL-terminated */
    size_t len, pos;
    unsigned line;       /* 1-based number of the line last read */
    char *fields[CSV_FIELDS_MAX];
    unsigned nfields;
};

/* Reads the file. Returns 0 or -1 with "PATH: reason" in err. */
int csv_open(struct csv_reader *r, const char *path, char *err, size_t errlen);
void csv_close(struct csv_reader *r);
/* Splits the next non-empty line into fields (double quotes allowed, "" is a
 * quote). Returns 1 with a line, 0 at the end, -1 on a malformed line (err
 * says where). */
int csv_next(struct csv_reader *r, char *err, size_t errlen);
/* Checked field conversions; on failure they write "PATH:LINE: field N (name):
 * reason" into err and return -1. */
int csv_u64(struct csv_reader *r, unsigned field, const char *name, uint64_t *out, char *err,
            size_t errlen);
int csv_double(struct csv_reader *r, unsigned field, const char *name, double *out, char *err,
               size_t errlen);
/* Requires exactly n fields on the current line. */
int csv_expect_fields(struct csv_reader *r, unsigned n, char *err, size_t errlen);

/* ---- KuaiRec (replay_kuairec.c) ----------------------------------------- */

struct kuairec_data {
    uint32_t users;
    uint64_t *user_ids;     /* [users] */
    uint32_t *offsets;      /* [users + 1]: rows of user u are offsets[u]..offsets[u+1] */
    uint32_t *video_index;  /* [rows] index into videos */
    float *ratios;          /* [rows] watch ratio as in the file */
    uint32_t rows;
    uint32_t videos;
    uint64_t *video_ids;    /* [videos] */
    char (*video_tags)[4][12]; /* [videos] up to 4 category names, "" = none */
};

/* Loads the matrix (user_id,video_id,watch_ratio, no header) and optionally
 * the categories file (video_id,feat with feat like "[27, 9]"). */
int kuairec_load(struct kuairec_data *d, const char *matrix_path, const char *categories_path,
                 char *err, size_t errlen);
void kuairec_free(struct kuairec_data *d);

enum kuairec_policy { KR_RANDOM, KR_POPULAR, KR_REEL, KR_ORACLE, KR_POLICIES };

struct kuairec_result {
    double mean_ratio[KR_POLICIES];  /* capped at 10 */
    double share_above2[KR_POLICIES];
    uint64_t shown[KR_POLICIES];
    double lift_share;               /* (reel - random) / (oracle - random) */
    double popular_lift_share;
    double events_per_s;             /* engine learning rate during the Reel run */
};

/* Runs every policy with the given seed. Returns 0 or -1 with err. */
int kuairec_run(const struct kuairec_data *d, const struct config_rec *cfg, unsigned rounds,
                unsigned page, uint64_t seed, int progress, struct kuairec_result *out,
                char *err, size_t errlen);

/* ---- MovieLens (replay_movielens.c) ------------------------------------- */

struct movielens_data {
    uint32_t users, items, ratings;
    uint32_t *user;         /* [ratings] dense user index */
    uint32_t *item;         /* [ratings] dense item index */
    float *rating;
    int64_t *ts;            /* seconds */
    uint64_t *item_ids;     /* [items] movieId */
    char (*item_genres)[4][24]; /* [items] up to 4 genres */
};

int movielens_load(struct movielens_data *d, const char *ratings_path, const char *movies_path,
                   char *err, size_t errlen);
void movielens_free(struct movielens_data *d);

enum movielens_policy { ML_POPULAR, ML_ITEMKNN, ML_ENGINE_POPULAR, ML_REEL, ML_POLICIES };

struct movielens_result {
    double recall[ML_POLICIES];
    double ndcg[ML_POLICIES];
    uint32_t users_evaluated;
    uint32_t train, test;
};

int movielens_run(const struct movielens_data *d, const struct config_rec *cfg, unsigned topn,
                  uint64_t seed, int progress, struct movielens_result *out, char *err,
                  size_t errlen);

#endif
