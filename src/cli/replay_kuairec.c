/*
 * replay_kuairec.c — the KuaiRec protocol of `reel replay` (replay.h).
 *
 * The sample is fully observed: each of its users has a true watch ratio for
 * every video listed for them, so whatever a policy shows, we know what the
 * user would have watched. Every policy sees the same shuffled user orders
 * (drawn from the seed); random and oracle need no engine, popular and Reel
 * run the real engine (rec/engine.h) with the given configuration, fed the
 * same events a client would send: an impression, then a watch of
 * ratio x duration. KuaiRec has no creators: every video is its own creator,
 * so the creator rule of re-ranking never binds; its categories become
 * hashtags.
 */
#include "cli/replay.h"

#include "core/alloc.h"
#include "core/progress.h"
#include "core/clock.h"
#include "rec/engine.h"
#include "rec/idmap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DURATION_MS 10000        /* nominal duration: only ratios matter */
#define METRIC_CAP 10.0
#define START_MS 1767225600000LL /* 2026-01-01: the replay's clock starts here */
#define CREATOR_BASE (1ULL << 40)

struct raw_row {
    uint64_t user, video;
    float ratio;
    unsigned line;
};

static int by_user_then_line(const void *a, const void *b)
{
    const struct raw_row *x = a, *y = b;
    if (x->user != y->user)
        return x->user < y->user ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

static int by_user_then_video(const void *a, const void *b)
{
    const struct raw_row *x = a, *y = b;
    if (x->user != y->user)
        return x->user < y->user ? -1 : 1;
    if (x->video != y->video)
        return x->video < y->video ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

void kuairec_free(struct kuairec_data *d)
{
    reel_free(d->user_ids);
    reel_free(d->offsets);
    reel_free(d->video_index);
    reel_free(d->ratios);
    reel_free(d->video_ids);
    reel_free(d->video_tags);
    memset(d, 0, sizeof *d);
}

static int load_categories(struct kuairec_data *d, struct idmap *videos, const char *path,
                           char *err, size_t errlen)
{
    struct csv_reader r;
    if (csv_open(&r, path, err, errlen) < 0)
        return -1;
    int rc = -1;
    int n = csv_next(&r, err, errlen);
    if (n <= 0) {
        if (n == 0)
            snprintf(err, errlen, "%s: empty file (expected a video_id,feat header)", path);
        goto out;
    }
    if (r.nfields != 2 || strcmp(r.fields[0], "video_id") != 0 || strcmp(r.fields[1], "feat") != 0) {
        snprintf(err, errlen, "%s:%u: expected the header video_id,feat", path, r.line);
        goto out;
    }
    while ((n = csv_next(&r, err, errlen)) > 0) {
        uint64_t vid;
        if (csv_expect_fields(&r, 2, err, errlen) < 0 ||
            csv_u64(&r, 0, "video_id", &vid, err, errlen) < 0)
            goto out;
        const char *feat = r.fields[1];
        size_t len = strlen(feat);
        if (len < 2 || feat[0] != '[' || feat[len - 1] != ']') {
            snprintf(err, errlen, "%s:%u: field 2 (feat): '%.40s' is not a list like [3, 7]",
                     path, r.line, feat);
            goto out;
        }
        uint32_t idx = idmap_get(videos, vid + 1);
        unsigned ntags = 0;
        const char *p = feat + 1;
        while (*p != ']') {
            while (*p == ' ')
                p++;
            unsigned long long tag = 0;
            int digits = 0;
            while (*p >= '0' && *p <= '9' && digits < 9) {
                tag = tag * 10 + (unsigned)(*p - '0');
                p++;
                digits++;
            }
            while (*p == ' ')
                p++;
            if (!digits || (*p != ',' && *p != ']')) {
                snprintf(err, errlen, "%s:%u: field 2 (feat): '%.40s' is not a list like [3, 7]",
                         path, r.line, feat);
                goto out;
            }
            if (*p == ',')
                p++;
            if (idx != IDMAP_NONE && ntags < 4)
                snprintf(d->video_tags[idx][ntags++], sizeof d->video_tags[idx][0], "c%llu",
                         tag);
        }
    }
    if (n < 0)
        goto out;
    rc = 0;
out:
    csv_close(&r);
    return rc;
}

int kuairec_load(struct kuairec_data *d, const char *matrix_path, const char *categories_path,
                 char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    struct csv_reader r;
    struct raw_row *raw = NULL;
    struct idmap videos = {0};
    size_t nraw = 0, capraw = 0;
    int rc = -1;
    if (csv_open(&r, matrix_path, err, errlen) < 0)
        return -1;
    int n;
    while ((n = csv_next(&r, err, errlen)) > 0) {
        uint64_t user, video;
        double ratio;
        if (csv_expect_fields(&r, 3, err, errlen) < 0 ||
            csv_u64(&r, 0, "user_id", &user, err, errlen) < 0 ||
            csv_u64(&r, 1, "video_id", &video, err, errlen) < 0 ||
            csv_double(&r, 2, "watch_ratio", &ratio, err, errlen) < 0)
            goto out;
        if (ratio < 0 || ratio > 1e6) {
            snprintf(err, errlen, "%s:%u: field 3 (watch_ratio): %g is not a watch ratio",
                     matrix_path, r.line, ratio);
            goto out;
        }
        if (user >= (1ULL << 40) || video >= (1ULL << 40)) {
            snprintf(err, errlen, "%s:%u: id too large", matrix_path, r.line);
            goto out;
        }
        if (nraw == capraw) {
            capraw = capraw ? capraw * 2 : 65536;
            void *p = raw;
            if (reel_array_grow(&p, capraw, sizeof *raw) < 0) {
                snprintf(err, errlen, "%s: out of memory", matrix_path);
                goto out;
            }
            raw = p;
        }
        raw[nraw++] = (struct raw_row){user, video, (float)ratio, r.line};
    }
    if (n < 0)
        goto out;
    if (nraw == 0) {
        snprintf(err, errlen, "%s: no rows", matrix_path);
        goto out;
    }
    if (nraw >= UINT32_MAX / 2) {
        snprintf(err, errlen, "%s: too many rows", matrix_path);
        goto out;
    }
    /* A (user, video) pair twice would make the outcome ambiguous. */
    qsort(raw, nraw, sizeof *raw, by_user_then_video);
    for (size_t i = 1; i < nraw; i++)
        if (raw[i].user == raw[i - 1].user && raw[i].video == raw[i - 1].video) {
            snprintf(err, errlen, "%s:%u: user %llu and video %llu already appear on line %u",
                     matrix_path, raw[i].line, (unsigned long long)raw[i].user,
                     (unsigned long long)raw[i].video, raw[i - 1].line);
            goto out;
        }
    qsort(raw, nraw, sizeof *raw, by_user_then_line);

    if (idmap_init(&videos, 4096) < 0)
        goto oom;
    d->rows = (uint32_t)nraw;
    d->video_index = reel_malloc(nraw * sizeof *d->video_index);
    d->ratios = reel_malloc(nraw * sizeof *d->ratios);
    if (!d->video_index || !d->ratios)
        goto oom;
    uint32_t users = 0, vcap = 0;
    for (size_t i = 0; i < nraw; i++) {
        if (i == 0 || raw[i].user != raw[i - 1].user)
            users++;
        uint32_t idx = idmap_get(&videos, raw[i].video + 1);
        if (idx == IDMAP_NONE) {
            if (d->videos == vcap) {
                vcap = vcap ? vcap * 2 : 1024;
                void *p = d->video_ids;
                if (reel_array_grow(&p, vcap, sizeof *d->video_ids) < 0)
                    goto oom;
                d->video_ids = p;
            }
            idx = d->videos++;
            d->video_ids[idx] = raw[i].video;
            if (idmap_put(&videos, raw[i].video + 1, idx) < 0)
                goto oom;
        }
        d->video_index[i] = idx;
        d->ratios[i] = raw[i].ratio;
    }
    d->users = users;
    d->user_ids = reel_malloc(users * sizeof *d->user_ids);
    d->offsets = reel_malloc((users + 1) * sizeof *d->offsets);
    d->video_tags = reel_calloc(d->videos, sizeof *d->video_tags);
    if (!d->user_ids || !d->offsets || !d->video_tags)
        goto oom;
    uint32_t u = 0;
    for (size_t i = 0; i < nraw; i++) {
        if (i == 0 || raw[i].user != raw[i - 1].user) {
            d->user_ids[u] = raw[i].user;
            d->offsets[u++] = (uint32_t)i;
        }
    }
    d->offsets[users] = (uint32_t)nraw;
    if (categories_path && load_categories(d, &videos, categories_path, err, errlen) < 0)
        goto out;
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "%s: out of memory", matrix_path);
out:
    csv_close(&r);
    idmap_clear(&videos);
    reel_free(raw);
    if (rc < 0)
        kuairec_free(d);
    return rc;
}

/* ---- the run ------------------------------------------------------------ */

static uint64_t rnd(uint64_t *s)
{
    *s += 0x9e3779b97f4a7c15ULL;
    return rec_mix64(*s);
}

static void shuffle(uint32_t *a, uint32_t n, uint64_t *s)
{
    for (uint32_t i = n; i > 1; i--) {
        uint32_t j = (uint32_t)(rnd(s) % i);
        uint32_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

struct tally {
    double sum;
    uint64_t above2, count;
};

static void tally_add(struct tally *t, float ratio)
{
    double r = (double)ratio < METRIC_CAP ? (double)ratio : METRIC_CAP;
    t->sum += r;
    t->above2 += ratio > 2.0f;
    t->count++;
}

static struct rec_engine *engine_for(const struct kuairec_data *d, const struct config_rec *cfg,
                                     uint64_t seed, char *err, size_t errlen)
{
    struct config_rec c = *cfg;
    c.seed = seed;
    int code;
    struct rec_engine *e = rec_engine_create(&c, &code);
    if (!e) {
        snprintf(err, errlen, "engine: %s", rec_strerror(code));
        return NULL;
    }
    for (uint32_t v = 0; v < d->videos; v++) {
        const char *tags[4];
        size_t nt = 0;
        for (int k = 0; k < 4; k++)
            if (d->video_tags[v][k][0])
                tags[nt++] = d->video_tags[v][k];
        struct rec_video video = {
            .id = d->video_ids[v] + 1,
            .creator_id = CREATOR_BASE + d->video_ids[v],
            .created_ms = START_MS,
            .duration_ms = DURATION_MS,
            .hashtags = tags,
            .hashtag_count = nt,
        };
        int rc = rec_video_add(e, &video);
        if (rc < 0) {
            snprintf(err, errlen, "engine: video %llu: %s", (unsigned long long)video.id,
                     rec_strerror(rc));
            rec_engine_destroy(e);
            return NULL;
        }
    }
    return e;
}

static int run_policy(const struct kuairec_data *d, const struct config_rec *cfg,
                      enum kuairec_policy policy, unsigned rounds, unsigned page, uint64_t seed,
                      int progress, struct tally *out, double *events_per_s, char *err,
                      size_t errlen)
{
    static const char *const names[] = {"random", "popular", "reel", "oracle"};
    int rc = -1;
    uint8_t *shown = reel_calloc(d->rows, 1);
    uint32_t *order = reel_malloc(d->users * sizeof *order);
    uint64_t *cand_ids = reel_malloc(d->rows * sizeof *cand_ids);
    uint32_t *cand_rows = reel_malloc(d->rows * sizeof *cand_rows);
    struct rec_feed_item *items = reel_malloc(REC_FEED_MAX * sizeof *items);
    struct rec_engine *e = NULL;
    uint64_t observe_ns = 0, events = 0;
    if (!shown || !order || !cand_ids || !cand_rows || !items) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (policy == KR_POPULAR || policy == KR_REEL) {
        e = engine_for(d, cfg, seed, err, errlen);
        if (!e)
            goto out;
    }
    uint64_t order_rng = rec_mix64(seed ^ 0x6f72646572ULL);
    uint64_t pick_rng = rec_mix64(seed ^ 0x7069636bULL);
    char label[64];
    snprintf(label, sizeof label, "kuairec seed %llu %s", (unsigned long long)seed,
             names[policy]);
    struct progress bar;
    progress_init(&bar, label, (uint64_t)rounds * d->users, progress ? 1 : UINT64_MAX);
    int64_t now = START_MS;
    memset(out, 0, sizeof *out);
    for (unsigned round = 0; round < rounds; round++) {
        for (uint32_t u = 0; u < d->users; u++)
            order[u] = u;
        shuffle(order, d->users, &order_rng);
        for (uint32_t k = 0; k < d->users; k++) {
            uint32_t u = order[k];
            uint32_t nc = 0;
            for (uint32_t i = d->offsets[u]; i < d->offsets[u + 1]; i++)
                if (!shown[i])
                    cand_rows[nc++] = i;
            uint32_t picks[REC_FEED_MAX];
            unsigned np = 0;
            now += 1000;
            if (policy == KR_RANDOM) {
                shuffle(cand_rows, nc, &pick_rng);
                for (; np < page && np < nc; np++)
                    picks[np] = cand_rows[np];
            } else if (policy == KR_ORACLE) {
                for (; np < page && np < nc; np++) {
                    uint32_t best = np;
                    for (uint32_t i = np + 1; i < nc; i++)
                        if (d->ratios[cand_rows[i]] > d->ratios[cand_rows[best]])
                            best = i;
                    uint32_t t = cand_rows[np];
                    cand_rows[np] = cand_rows[best];
                    cand_rows[best] = t;
                    picks[np] = cand_rows[np];
                }
            } else {
                for (uint32_t i = 0; i < nc; i++)
                    cand_ids[i] = d->video_ids[d->video_index[cand_rows[i]]] + 1;
                struct rec_feed_request req = {
                    .user_id = d->user_ids[u] + 1,
                    .now_ms = now,
                    .limit = page,
                    .policy = policy == KR_POPULAR ? REC_POLICY_POPULAR : REC_POLICY_REEL,
                    .candidates = cand_ids,
                    .candidate_count = nc,
                };
                int got = rec_engine_feed(e, &req, items);
                if (got < 0) {
                    snprintf(err, errlen, "engine feed: %s", rec_strerror(got));
                    goto out;
                }
                for (int i = 0; i < got; i++)
                    for (uint32_t c = 0; c < nc; c++)
                        if (cand_ids[c] == items[i].video_id) {
                            picks[np++] = cand_rows[c];
                            break;
                        }
            }
            for (unsigned i = 0; i < np; i++) {
                uint32_t row = picks[i];
                shown[row] = 1;
                tally_add(out, d->ratios[row]);
                if (!e)
                    continue;
                double watched = (double)d->ratios[row] * DURATION_MS;
                struct event evs[2] = {
                    {.user_id = d->user_ids[u] + 1,
                     .video_id = d->video_ids[d->video_index[row]] + 1,
                     .at_ms = now,
                     .duration_ms = DURATION_MS,
                     .type = EVENT_IMPRESSION},
                    {.user_id = d->user_ids[u] + 1,
                     .video_id = d->video_ids[d->video_index[row]] + 1,
                     .at_ms = now + 1,
                     .watched_ms = watched < 4e9 ? (uint32_t)watched : 4000000000u,
                     .duration_ms = DURATION_MS,
                     .type = EVENT_WATCH},
                };
                uint64_t t0 = clock_mono_ns();
                size_t applied = rec_engine_observe_batch(e, evs, 2);
                observe_ns += clock_mono_ns() - t0;
                events += applied;
                if (applied != 2) {
                    snprintf(err, errlen, "engine refused an event of user %llu",
                             (unsigned long long)d->user_ids[u]);
                    goto out;
                }
            }
            progress_update(&bar, (uint64_t)round * d->users + k + 1);
        }
    }
    progress_finish(&bar);
    if (events_per_s)
        *events_per_s = observe_ns ? (double)events * 1e9 / (double)observe_ns : 0;
    rc = 0;
out:
    rec_engine_destroy(e);
    reel_free(shown);
    reel_free(order);
    reel_free(cand_ids);
    reel_free(cand_rows);
    reel_free(items);
    return rc;
}

int kuairec_run(const struct kuairec_data *d, const struct config_rec *cfg, unsigned rounds,
                unsigned page, uint64_t seed, int progress, struct kuairec_result *out,
                char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (page == 0 || page > REC_FEED_MAX || rounds == 0) {
        snprintf(err, errlen, "page must be 1..%d and rounds at least 1", REC_FEED_MAX);
        return -1;
    }
    for (int p = 0; p < KR_POLICIES; p++) {
        struct tally t;
        double eps = 0;
        if (run_policy(d, cfg, (enum kuairec_policy)p, rounds, page, seed, progress, &t,
                       p == KR_REEL ? &eps : NULL, err, errlen) < 0)
            return -1;
        out->mean_ratio[p] = t.count ? t.sum / (double)t.count : 0;
        out->share_above2[p] = t.count ? (double)t.above2 / (double)t.count : 0;
        out->shown[p] = t.count;
        if (p == KR_REEL)
            out->events_per_s = eps;
    }
    double span = out->mean_ratio[KR_ORACLE] - out->mean_ratio[KR_RANDOM];
    out->lift_share = span > 0 ? (out->mean_ratio[KR_REEL] - out->mean_ratio[KR_RANDOM]) / span : 0;
    out->popular_lift_share =
        span > 0 ? (out->mean_ratio[KR_POPULAR] - out->mean_ratio[KR_RANDOM]) / span : 0;
    return 0;
}
