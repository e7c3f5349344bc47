/*
 * replay_movielens.c — the MovieLens protocol of `reel replay` (replay.h).
 *
 * Split: each user's ratings sorted by time (file order breaks ties); the
 * last 20% (rounded, at least one) are the test set, the rest training.
 * Training ratings are replayed into the engine in global time order as an
 * impression and a watch whose ratio grows with the rating (rating / 4: four
 * stars is a full watch). Each user then asks once for a page of `topn` over
 * the full catalogue (every movie of movies.csv, or of ratings.csv without
 * it); the seen filter keeps trained movies out, as the baselines exclude
 * them explicitly.
 *
 * Baselines, computed here from the training set alone:
 *   popular    most training interactions
 *   item-kNN   cosine similarity of the items' user sets (binary), each item
 *              keeping its 100 nearest; a candidate scores the sum of its
 *              similarities to the user's training items that list it
 * and the engine's own popular policy (mean watch value) for completeness.
 *
 * Metrics (all held-out items relevant, binary): Recall@N = hits / min(N,
 * |test|) and NDCG@N with the ideal ranking of min(N, |test|) hits, averaged
 * over users.
 */
#include "cli/replay.h"

#include "core/alloc.h"
#include "core/progress.h"
#include "rec/engine.h"
#include "rec/idmap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KNN_NEIGHBOURS 100
#define DURATION_MS 100000
#define ITEM_ID_BASE 1
#define USER_ID_BASE 1
#define CREATOR_BASE (1ULL << 40)

void movielens_free(struct movielens_data *d)
{
    reel_free(d->user);
    reel_free(d->item);
    reel_free(d->rating);
    reel_free(d->ts);
    reel_free(d->item_ids);
    reel_free(d->item_genres);
    memset(d, 0, sizeof *d);
}

static int add_item(struct movielens_data *d, struct idmap *items, uint64_t movie,
                    uint32_t *cap, uint32_t *out)
{
    uint32_t idx = idmap_get(items, movie + 1);
    if (idx != IDMAP_NONE) {
        *out = idx;
        return 0;
    }
    if (d->items == *cap) {
        uint32_t c = *cap ? *cap * 2 : 4096;
        void *p = d->item_ids, *g = d->item_genres;
        if (reel_array_grow(&p, c, sizeof *d->item_ids) < 0)
            return -1;
        d->item_ids = p;
        if (reel_array_grow(&g, c, sizeof *d->item_genres) < 0)
            return -1;
        d->item_genres = g;
        memset(d->item_genres + *cap, 0, (c - *cap) * sizeof *d->item_genres);
        *cap = c;
    }
    idx = d->items++;
    d->item_ids[idx] = movie;
    if (idmap_put(items, movie + 1, idx) < 0)
        return -1;
    *out = idx;
    return 0;
}

static int load_movies(struct movielens_data *d, struct idmap *items, uint32_t *cap,
                       const char *path, char *err, size_t errlen)
{
    struct csv_reader r;
    if (csv_open(&r, path, err, errlen) < 0)
        return -1;
    int rc = -1, n = csv_next(&r, err, errlen);
    if (n <= 0) {
        if (n == 0)
            snprintf(err, errlen, "%s: empty file (expected a movieId,title,genres header)", path);
        goto out;
    }
    if (r.nfields != 3 || strcmp(r.fields[0], "movieId") != 0 || strcmp(r.fields[2], "genres")) {
        snprintf(err, errlen, "%s:%u: expected the header movieId,title,genres", path, r.line);
        goto out;
    }
    while ((n = csv_next(&r, err, errlen)) > 0) {
        uint64_t movie;
        uint32_t idx;
        if (csv_expect_fields(&r, 3, err, errlen) < 0 ||
            csv_u64(&r, 0, "movieId", &movie, err, errlen) < 0)
            goto out;
        if (idmap_get(items, movie + 1) != IDMAP_NONE) {
            snprintf(err, errlen, "%s:%u: movie %llu listed twice", path, r.line,
                     (unsigned long long)movie);
            goto out;
        }
        if (add_item(d, items, movie, cap, &idx) < 0) {
            snprintf(err, errlen, "%s: out of memory", path);
            goto out;
        }
        const char *g = r.fields[2];
        unsigned k = 0;
        while (*g && k < 4) {
            size_t len = strcspn(g, "|");
            if (len && len < sizeof d->item_genres[0][0] && strncmp(g, "(no genres", 10) != 0) {
                memcpy(d->item_genres[idx][k], g, len);
                d->item_genres[idx][k][len] = '\0';
                k++;
            }
            g += len;
            if (*g == '|')
                g++;
        }
    }
    if (n < 0)
        goto out;
    rc = 0;
out:
    csv_close(&r);
    return rc;
}

int movielens_load(struct movielens_data *d, const char *ratings_path, const char *movies_path,
                   char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    struct idmap items = {0}, users = {0};
    struct csv_reader r = {0};
    uint32_t item_cap = 0, cap = 0;
    int rc = -1;
    if (idmap_init(&items, 16384) < 0 || idmap_init(&users, 1024) < 0) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (movies_path && load_movies(d, &items, &item_cap, movies_path, err, errlen) < 0)
        goto out;
    if (csv_open(&r, ratings_path, err, errlen) < 0)
        goto out;
    int n = csv_next(&r, err, errlen);
    if (n <= 0) {
        if (n == 0)
            snprintf(err, errlen, "%s: empty file (expected a userId,movieId,rating,timestamp "
                                  "header)", ratings_path);
        goto out;
    }
    if (r.nfields != 4 || strcmp(r.fields[0], "userId") || strcmp(r.fields[1], "movieId") ||
        strcmp(r.fields[2], "rating") || strcmp(r.fields[3], "timestamp")) {
        snprintf(err, errlen, "%s:%u: expected the header userId,movieId,rating,timestamp",
                 ratings_path, r.line);
        goto out;
    }
    while ((n = csv_next(&r, err, errlen)) > 0) {
        uint64_t user, movie, ts;
        double rating;
        if (csv_expect_fields(&r, 4, err, errlen) < 0 ||
            csv_u64(&r, 0, "userId", &user, err, errlen) < 0 ||
            csv_u64(&r, 1, "movieId", &movie, err, errlen) < 0 ||
            csv_double(&r, 2, "rating", &rating, err, errlen) < 0 ||
            csv_u64(&r, 3, "timestamp", &ts, err, errlen) < 0)
            goto out;
        if (rating < 0.5 || rating > 5.0) {
            snprintf(err, errlen, "%s:%u: field 3 (rating): %g is not in 0.5..5", ratings_path,
                     r.line, rating);
            goto out;
        }
        if (ts > (1ULL << 40) || user >= (1ULL << 40) || movie >= (1ULL << 40)) {
            snprintf(err, errlen, "%s:%u: value out of range", ratings_path, r.line);
            goto out;
        }
        uint32_t item;
        if (movies_path) {
            item = idmap_get(&items, movie + 1);
            if (item == IDMAP_NONE) {
                snprintf(err, errlen, "%s:%u: movie %llu is not in %s", ratings_path, r.line,
                         (unsigned long long)movie, movies_path);
                goto out;
            }
        } else if (add_item(d, &items, movie, &item_cap, &item) < 0) {
            snprintf(err, errlen, "%s: out of memory", ratings_path);
            goto out;
        }
        uint32_t u = idmap_get(&users, user + 1);
        if (u == IDMAP_NONE) {
            u = d->users++;
            if (idmap_put(&users, user + 1, u) < 0) {
                snprintf(err, errlen, "%s: out of memory", ratings_path);
                goto out;
            }
        }
        if (d->ratings == cap) {
            cap = cap ? cap * 2 : 65536;
            void *a = d->user, *b = d->item, *c = d->rating, *t = d->ts;
            if (reel_array_grow(&a, cap, sizeof *d->user) < 0 ||
                (d->user = a, reel_array_grow(&b, cap, sizeof *d->item) < 0) ||
                (d->item = b, reel_array_grow(&c, cap, sizeof *d->rating) < 0) ||
                (d->rating = c, reel_array_grow(&t, cap, sizeof *d->ts) < 0)) {
                snprintf(err, errlen, "%s: out of memory", ratings_path);
                goto out;
            }
            d->ts = t;
        }
        d->user[d->ratings] = u;
        d->item[d->ratings] = item;
        d->rating[d->ratings] = (float)rating;
        d->ts[d->ratings] = (int64_t)ts;
        d->ratings++;
    }
    if (n < 0)
        goto out;
    if (d->ratings == 0) {
        snprintf(err, errlen, "%s: no ratings", ratings_path);
        goto out;
    }
    rc = 0;
out:
    csv_close(&r);
    idmap_clear(&items);
    idmap_clear(&users);
    if (rc < 0)
        movielens_free(d);
    return rc;
}

/* ---- split -------------------------------------------------------------- */

struct split {
    uint32_t *order;        /* rating indices sorted by (user, time, index) */
    uint32_t *user_start;   /* [users + 1] into order */
    uint32_t *train_end;    /* [users]: order[user_start[u] .. train_end[u]) is training */
};

static const struct movielens_data *sort_data;

static int by_user_time(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    const struct movielens_data *d = sort_data;
    if (d->user[x] != d->user[y])
        return d->user[x] < d->user[y] ? -1 : 1;
    if (d->ts[x] != d->ts[y])
        return d->ts[x] < d->ts[y] ? -1 : 1;
    return x < y ? -1 : x > y;
}

static int by_time(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    const struct movielens_data *d = sort_data;
    if (d->ts[x] != d->ts[y])
        return d->ts[x] < d->ts[y] ? -1 : 1;
    return x < y ? -1 : x > y;
}

static void split_free(struct split *s)
{
    reel_free(s->order);
    reel_free(s->user_start);
    reel_free(s->train_end);
}

static int split_make(const struct movielens_data *d, struct split *s)
{
    s->order = reel_malloc(d->ratings * sizeof *s->order);
    s->user_start = reel_calloc(d->users + 1, sizeof *s->user_start);
    s->train_end = reel_calloc(d->users, sizeof *s->train_end);
    if (!s->order || !s->user_start || !s->train_end)
        return -1;
    for (uint32_t i = 0; i < d->ratings; i++)
        s->order[i] = i;
    sort_data = d;
    qsort(s->order, d->ratings, sizeof *s->order, by_user_time);
    for (uint32_t i = 0; i < d->ratings; i++)
        s->user_start[d->user[s->order[i]] + 1]++;
    for (uint32_t u = 0; u < d->users; u++)
        s->user_start[u + 1] += s->user_start[u];
    for (uint32_t u = 0; u < d->users; u++) {
        uint32_t n = s->user_start[u + 1] - s->user_start[u];
        uint32_t test = (uint32_t)floor(0.2 * n + 0.5);
        if (test == 0 && n > 1)
            test = 1;
        s->train_end[u] = s->user_start[u + 1] - test;
    }
    return 0;
}

/* ---- metrics ------------------------------------------------------------ */

struct metric {
    double recall, ndcg;
    uint32_t users;
};

/* test_mark[item] == u + 1 marks the user's held-out items. */
static void metric_add(struct metric *m, const uint32_t *ranked, size_t n, uint32_t ntest,
                       const uint32_t *test_mark, uint32_t u, unsigned topn)
{
    if (ntest == 0)
        return;
    double dcg = 0, idcg = 0;
    uint32_t hits = 0;
    for (size_t i = 0; i < n && i < topn; i++)
        if (test_mark[ranked[i]] == u + 1) {
            hits++;
            dcg += 1.0 / log2((double)i + 2.0);
        }
    uint32_t ideal = ntest < topn ? ntest : topn;
    for (uint32_t i = 0; i < ideal; i++)
        idcg += 1.0 / log2((double)i + 2.0);
    m->recall += (double)hits / (double)ideal;
    m->ndcg += dcg / idcg;
    m->users++;
}

/* Top n of scores[] over items not excluded (exclude[item] == u + 1). */
static size_t top_items(const float *scores, uint32_t items, const uint32_t *exclude, uint32_t u,
                        unsigned n, uint32_t *out)
{
    size_t k = 0;
    for (uint32_t i = 0; i < items; i++) {
        if (exclude[i] == u + 1 || scores[i] <= 0)
            continue;
        if (k < n) {
            size_t j = k++;
            while (j > 0 && scores[out[j - 1]] < scores[i]) {
                out[j] = out[j - 1];
                j--;
            }
            out[j] = i;
        } else if (scores[i] > scores[out[n - 1]]) {
            size_t j = n - 1;
            while (j > 0 && scores[out[j - 1]] < scores[i]) {
                out[j] = out[j - 1];
                j--;
            }
            out[j] = i;
        }
    }
    return k;
}

/* ---- item-kNN ----------------------------------------------------------- */

struct knn {
    uint32_t *nbr;          /* items x KNN_NEIGHBOURS */
    float *sim;
    uint16_t *count;
};

static void knn_free(struct knn *k)
{
    reel_free(k->nbr);
    reel_free(k->sim);
    reel_free(k->count);
}

static int knn_build(const struct movielens_data *d, const struct split *s, struct knn *k)
{
    int rc = -1;
    uint32_t *item_start = reel_calloc(d->items + 1, sizeof *item_start);
    uint32_t *item_users = NULL;
    float *co = reel_calloc(d->items, sizeof *co);
    uint32_t *touched = reel_malloc(d->items * sizeof *touched);
    k->nbr = reel_malloc((size_t)d->items * KNN_NEIGHBOURS * sizeof *k->nbr);
    k->sim = reel_malloc((size_t)d->items * KNN_NEIGHBOURS * sizeof *k->sim);
    k->count = reel_calloc(d->items, sizeof *k->count);
    if (!item_start || !co || !touched || !k->nbr || !k->sim || !k->count)
        goto out;
    uint32_t train = 0;
    for (uint32_t u = 0; u < d->users; u++)
        for (uint32_t p = s->user_start[u]; p < s->train_end[u]; p++) {
            item_start[d->item[s->order[p]] + 1]++;
            train++;
        }
    for (uint32_t i = 0; i < d->items; i++)
        item_start[i + 1] += item_start[i];
    item_users = reel_malloc((train + 1) * sizeof *item_users);
    uint32_t *fill = reel_malloc((d->items + 1) * sizeof *fill);
    if (!item_users || !fill) {
        reel_free(fill);
        goto out;
    }
    memcpy(fill, item_start, (d->items + 1) * sizeof *fill);
    for (uint32_t u = 0; u < d->users; u++)
        for (uint32_t p = s->user_start[u]; p < s->train_end[u]; p++)
            item_users[fill[d->item[s->order[p]]]++] = u;
    reel_free(fill);
    for (uint32_t i = 0; i < d->items; i++) {
        uint32_t ni = item_start[i + 1] - item_start[i];
        if (!ni)
            continue;
        uint32_t nt = 0;
        for (uint32_t a = item_start[i]; a < item_start[i + 1]; a++) {
            uint32_t u = item_users[a];
            for (uint32_t p = s->user_start[u]; p < s->train_end[u]; p++) {
                uint32_t j = d->item[s->order[p]];
                if (j == i)
                    continue;
                if (co[j] == 0)
                    touched[nt++] = j;
                co[j] += 1;
            }
        }
        /* Keep the KNN_NEIGHBOURS most similar (insertion into a sorted run). */
        uint32_t *nb = k->nbr + (size_t)i * KNN_NEIGHBOURS;
        float *sm = k->sim + (size_t)i * KNN_NEIGHBOURS;
        uint32_t kept = 0;
        for (uint32_t t = 0; t < nt; t++) {
            uint32_t j = touched[t];
            uint32_t nj = item_start[j + 1] - item_start[j];
            float sim = co[j] / sqrtf((float)ni * (float)nj);
            co[j] = 0;
            if (kept == KNN_NEIGHBOURS && sim <= sm[kept - 1])
                continue;
            uint32_t pos = kept < KNN_NEIGHBOURS ? kept++ : KNN_NEIGHBOURS - 1;
            while (pos > 0 && (sm[pos - 1] < sim || (sm[pos - 1] == sim && nb[pos - 1] > j))) {
                sm[pos] = sm[pos - 1];
                nb[pos] = nb[pos - 1];
                pos--;
            }
            sm[pos] = sim;
            nb[pos] = j;
        }
        k->count[i] = (uint16_t)kept;
    }
    rc = 0;
out:
    reel_free(item_start);
    reel_free(item_users);
    reel_free(co);
    reel_free(touched);
    return rc;
}

/* ---- spill store ---------------------------------------------------------
 * Sessions leave memory after session_ttl of data time, years before the
 * evaluation; as in `reel serve`, they are spilled and come back with the
 * user. Here the store is a table in memory. */

struct spill_mem {
    struct idmap map;       /* user id -> slot */
    unsigned char **blobs;
    size_t *lens;
    uint32_t used, cap;
};

static int spill_save(void *ctx, uint64_t user, const void *blob, size_t len)
{
    struct spill_mem *m = ctx;
    uint32_t slot = idmap_get(&m->map, user);
    if (slot == IDMAP_NONE) {
        if (m->used == m->cap) {
            uint32_t cap = m->cap ? m->cap * 2 : 256;
            void *b = m->blobs, *l = m->lens;
            if (reel_array_grow(&b, cap, sizeof *m->blobs) < 0)
                return -1;
            m->blobs = b;
            if (reel_array_grow(&l, cap, sizeof *m->lens) < 0)
                return -1;
            m->lens = l;
            m->cap = cap;
        }
        slot = m->used;
        if (idmap_put(&m->map, user, slot) < 0)
            return -1;
        m->blobs[m->used] = NULL;
        m->lens[m->used++] = 0;
    }
    unsigned char *copy = reel_malloc(len);
    if (!copy)
        return -1;
    memcpy(copy, blob, len);
    reel_free(m->blobs[slot]);
    m->blobs[slot] = copy;
    m->lens[slot] = len;
    return 0;
}

static long spill_load(void *ctx, uint64_t user, void *buf, size_t cap)
{
    struct spill_mem *m = ctx;
    uint32_t slot = idmap_get(&m->map, user);
    if (slot == IDMAP_NONE || !m->blobs[slot])
        return 0;
    if (m->lens[slot] > cap)
        return -1;
    memcpy(buf, m->blobs[slot], m->lens[slot]);
    return (long)m->lens[slot];
}

static void spill_erase(void *ctx, uint64_t user)
{
    struct spill_mem *m = ctx;
    uint32_t slot = idmap_get(&m->map, user);
    if (slot != IDMAP_NONE) {
        reel_free(m->blobs[slot]);
        m->blobs[slot] = NULL;
        m->lens[slot] = 0;
    }
}

static void spill_free(struct spill_mem *m)
{
    for (uint32_t i = 0; i < m->used; i++)
        reel_free(m->blobs[i]);
    reel_free(m->blobs);
    reel_free(m->lens);
    idmap_clear(&m->map);
}

/* ---- the run ------------------------------------------------------------ */

static struct rec_engine *engine_for(const struct movielens_data *d, const struct config_rec *cfg,
                                     uint64_t seed, int64_t first_ms, char *err, size_t errlen)
{
    struct config_rec c = *cfg;
    c.seed = seed;
    int code;
    struct rec_engine *e = rec_engine_create(&c, &code);
    if (!e) {
        snprintf(err, errlen, "engine: %s", rec_strerror(code));
        return NULL;
    }
    /* The catalogue is old: set the clock first so no movie counts as new. */
    rec_engine_tick(e, first_ms);
    for (uint32_t i = 0; i < d->items; i++) {
        const char *tags[4];
        size_t nt = 0;
        for (int k = 0; k < 4; k++)
            if (d->item_genres[i][k][0])
                tags[nt++] = d->item_genres[i][k];
        struct rec_video v = {
            .id = d->item_ids[i] + ITEM_ID_BASE,
            .creator_id = CREATOR_BASE + d->item_ids[i],
            .created_ms = 0,
            .duration_ms = DURATION_MS,
            .hashtags = tags,
            .hashtag_count = nt,
        };
        int rc = rec_video_add(e, &v);
        if (rc < 0) {
            snprintf(err, errlen, "engine: movie %llu: %s", (unsigned long long)d->item_ids[i],
                     rec_strerror(rc));
            rec_engine_destroy(e);
            return NULL;
        }
    }
    return e;
}

int movielens_run(const struct movielens_data *d, const struct config_rec *cfg, unsigned topn,
                  uint64_t seed, int progress, struct movielens_result *out, char *err,
                  size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct split s = {0};
    struct knn knn = {0};
    struct rec_engine *e = NULL;
    struct idmap id_to_item = {0};
    struct spill_mem spill = {0};
    int rc = -1;
    float *scores = reel_malloc(d->items * sizeof *scores);
    float *count = reel_calloc(d->items, sizeof *count);
    uint32_t *train_mark = reel_calloc(d->items, sizeof *train_mark);
    uint32_t *test_mark = reel_calloc(d->items, sizeof *test_mark);
    uint32_t *time_order = reel_malloc(d->ratings * sizeof *time_order);
    uint32_t ranked[REC_FEED_MAX];
    struct rec_feed_item items[REC_FEED_MAX];
    struct metric m[ML_POLICIES];
    memset(m, 0, sizeof m);
    if (topn == 0 || topn > REC_FEED_MAX) {
        snprintf(err, errlen, "top-N must be 1..%d", REC_FEED_MAX);
        goto out;
    }
    if (!scores || !count || !train_mark || !test_mark || !time_order || split_make(d, &s) < 0 ||
        knn_build(d, &s, &knn) < 0 || idmap_init(&id_to_item, d->items) < 0 ||
        idmap_init(&spill.map, d->users) < 0) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (uint32_t i = 0; i < d->items; i++)
        if (idmap_put(&id_to_item, d->item_ids[i] + ITEM_ID_BASE, i) < 0) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
    for (uint32_t u = 0; u < d->users; u++)
        for (uint32_t p = s.user_start[u]; p < s.train_end[u]; p++)
            count[d->item[s.order[p]]] += 1;

    /* Replay the training ratings in time order. */
    uint32_t ntrain = 0;
    for (uint32_t u = 0; u < d->users; u++)
        for (uint32_t p = s.user_start[u]; p < s.train_end[u]; p++)
            time_order[ntrain++] = s.order[p];
    sort_data = d;
    qsort(time_order, ntrain, sizeof *time_order, by_time);
    out->train = ntrain;
    out->test = d->ratings - ntrain;
    int64_t first_ms = d->ts[time_order[0]] * 1000;
    e = engine_for(d, cfg, seed, first_ms, err, errlen);
    if (!e)
        goto out;
    struct rec_spill store = {.ctx = &spill, .save = spill_save, .load = spill_load,
                              .erase = spill_erase};
    rec_engine_set_spill(e, &store);
    char label[64];
    snprintf(label, sizeof label, "movielens seed %llu replay", (unsigned long long)seed);
    struct progress bar;
    progress_init(&bar, label, ntrain, progress ? 1 : UINT64_MAX);
    int64_t last_ms = first_ms;
    for (uint32_t k = 0; k < ntrain; k++) {
        uint32_t r = time_order[k];
        int64_t at = d->ts[r] * 1000;
        double ratio = (double)d->rating[r] / 3.0;
        struct event evs[2] = {
            {.user_id = d->user[r] + USER_ID_BASE,
             .video_id = d->item_ids[d->item[r]] + ITEM_ID_BASE,
             .at_ms = at,
             .duration_ms = DURATION_MS,
             .type = EVENT_IMPRESSION},
            {.user_id = d->user[r] + USER_ID_BASE,
             .video_id = d->item_ids[d->item[r]] + ITEM_ID_BASE,
             .at_ms = at,
             .watched_ms = (uint32_t)(ratio * DURATION_MS),
             .duration_ms = DURATION_MS,
             .type = EVENT_WATCH},
        };
        if (rec_engine_observe_batch(e, evs, 2) != 2) {
            snprintf(err, errlen, "engine refused the rating of user index %u", d->user[r]);
            goto out;
        }
        if (at - last_ms >= 3600000) { /* the consumer's maintenance, once an hour of data */
            rec_engine_tick(e, at);
            last_ms = at;
        }
        if ((k & 1023) == 0)
            progress_update(&bar, k);
    }
    progress_finish(&bar);
    int64_t now = d->ts[time_order[ntrain - 1]] * 1000 + 1000;
    rec_engine_tick(e, now);

    snprintf(label, sizeof label, "movielens seed %llu evaluate", (unsigned long long)seed);
    progress_init(&bar, label, d->users, progress ? 1 : UINT64_MAX);
    for (uint32_t u = 0; u < d->users; u++) {
        uint32_t ntest = s.user_start[u + 1] - s.train_end[u];
        for (uint32_t p = s.user_start[u]; p < s.train_end[u]; p++)
            train_mark[d->item[s.order[p]]] = u + 1;
        for (uint32_t p = s.train_end[u]; p < s.user_start[u + 1]; p++)
            test_mark[d->item[s.order[p]]] = u + 1;
        if (ntest == 0)
            continue;
        /* popular */
        size_t n = top_items(count, d->items, train_mark, u, topn, ranked);
        metric_add(&m[ML_POPULAR], ranked, n, ntest, test_mark, u, topn);
        /* item-kNN */
        memset(scores, 0, d->items * sizeof *scores);
        for (uint32_t p = s.user_start[u]; p < s.train_end[u]; p++) {
            uint32_t i = d->item[s.order[p]];
            for (uint16_t t = 0; t < knn.count[i]; t++)
                scores[knn.nbr[(size_t)i * KNN_NEIGHBOURS + t]] +=
                    knn.sim[(size_t)i * KNN_NEIGHBOURS + t];
        }
        n = top_items(scores, d->items, train_mark, u, topn, ranked);
        metric_add(&m[ML_ITEMKNN], ranked, n, ntest, test_mark, u, topn);
        /* the engine, both policies */
        for (int pol = 0; pol < 2; pol++) {
            struct rec_feed_request req = {
                .user_id = u + USER_ID_BASE,
                .now_ms = now,
                .limit = topn,
                .policy = pol ? REC_POLICY_REEL : REC_POLICY_POPULAR,
            };
            int got = rec_engine_feed(e, &req, items);
            if (got < 0) {
                snprintf(err, errlen, "engine feed: %s", rec_strerror(got));
                goto out;
            }
            n = 0;
            for (int i = 0; i < got; i++) {
                /* A trained movie coming back would be an engine bug: it
                 * stays in the ranking and counts as a miss. */
                uint32_t item = idmap_get(&id_to_item, items[i].video_id);
                if (item != IDMAP_NONE)
                    ranked[n++] = item;
            }
            metric_add(&m[pol ? ML_REEL : ML_ENGINE_POPULAR], ranked, n, ntest, test_mark, u,
                       topn);
        }
        progress_update(&bar, u + 1);
    }
    progress_finish(&bar);
    for (int p = 0; p < ML_POLICIES; p++) {
        out->recall[p] = m[p].users ? m[p].recall / m[p].users : 0;
        out->ndcg[p] = m[p].users ? m[p].ndcg / m[p].users : 0;
    }
    out->users_evaluated = m[ML_POPULAR].users;
    rc = 0;
out:
    rec_engine_destroy(e);
    spill_free(&spill);
    split_free(&s);
    knn_free(&knn);
    idmap_clear(&id_to_item);
    reel_free(scores);
    reel_free(count);
    reel_free(train_mark);
    reel_free(test_mark);
    reel_free(time_order);
    return rc;
}
