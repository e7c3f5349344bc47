/*
 * feed.c — one feed request: candidate sources, ranking, re-ranking.
 *
 *   sources (each adds candidates, remembering which source found them)
 *     nearest      ann_search with the user's embedding     candidates_nearest
 *                  (a list of nearest_pool kept in the session
 *                  between requests: source_nearest)
 *     coengaged    lists of the user's recent engagements    candidates_coengaged
 *     following    newest videos of followed creators        candidates_following
 *     trending     regional top list + interest hashtags     candidates_trending
 *     fresh        random draws from the exploration pool    candidates_fresh
 *   (or the caller's own list, request->candidates)
 *
 *   filters        already seen, "not interested" creator, own videos,
 *                  retired from the fresh pool (unless followed), removed
 *
 *   ranking        score = weight_watch x predicted watch value (model.h)
 *                        + weight_engage x engagement probability (model.h)
 *                        + weight_like/share/comment x engagement rates
 *                        + weight_coengagement x coeng_gain x co-engagement
 *                          (the gain calibrated from outcomes, model.h)
 *                        + weight_creator x session affinity to the creator
 *                        + weight_follow (followed) + weight_interest x matches
 *                        + weight_trending x trending (relative to the best)
 *                        + explore_bonus / sqrt(feedback + bias_prior)
 *
 *   re-ranking     greedy fill of the page: never the creator of the item
 *                  before (also across pages), hashtag_spread subtracted per
 *                  earlier item of the page sharing a hashtag, and positions
 *                  spread through the page reserved (explore_share) for the
 *                  best fresh video still within its budget
 *
 * The page is then added to the user's seen filter, so it is not served
 * again even before the client reports impressions, and to the session's
 * served list with each item's co-engagement: the watches that follow
 * calibrate the co-engagement gain (model.h).
 *
 * Runs under the shared engine lock and the user's session shard mutex; the
 * only shared state it writes is fresh_served (atomically).
 */
#include "rec/engine_int.h"

#include "core/alloc.h"
#include "rec/rank.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define RERANK_WINDOW 64   /* candidates looked at for each page position */
#define GIVEN_MAX 1000000  /* caller-supplied candidates accepted per request */

struct cand {
    uint32_t row;
    uint8_t sources;
    uint8_t used;
    uint8_t unseen_unknown; /* the seen filter is asked when re-ranking reaches it */
    float coeng;
    float score;
};

struct cand_set {
    struct cand *c;
    uint32_t n, cap;
    uint32_t *slots;   /* open addressing: index + 1, 0 = empty */
    uint32_t mask;
};

/* The slot table starts small and doubles at half full: a request sets
 * aside room for a few thousand candidates and usually has a few hundred,
 * and zeroing a table sized for the worst case was a tenth of its time. */
#define CANDS_SLOTS_MIN 1024

/* Room for cap candidates, the slot table sized for `expect` of them
 * (0: the smallest, grown as they come). */
static int cands_init(struct cand_set *cs, uint32_t cap, uint32_t expect)
{
    uint32_t size = CANDS_SLOTS_MIN;
    while (size < 2 * (uint64_t)expect && size < (1u << 30))
        size *= 2;
    cs->c = reel_malloc((size_t)cap * sizeof *cs->c);
    cs->slots = reel_calloc(size, sizeof *cs->slots);
    cs->n = 0;
    cs->cap = cap;
    cs->mask = size - 1;
    if (!cs->c || !cs->slots) {
        reel_free(cs->c);
        reel_free(cs->slots);
        return -1;
    }
    return 0;
}

static void cands_clear(struct cand_set *cs)
{
    reel_free(cs->c);
    reel_free(cs->slots);
}

static uint32_t cands_slot(const struct cand_set *cs, uint32_t row)
{
    uint32_t i = (uint32_t)rec_mix64(row) & cs->mask;
    while (cs->slots[i] && cs->c[cs->slots[i] - 1].row != row)
        i = (i + 1) & cs->mask;
    return i;
}

/* Doubles the slot table (0, or -1 out of memory: the table is unchanged). */
static int cands_grow(struct cand_set *cs)
{
    uint32_t size = (cs->mask + 1) * 2;
    uint32_t *slots = reel_calloc(size, sizeof *slots);
    if (!slots)
        return -1;
    uint32_t *old = cs->slots;
    cs->slots = slots;
    cs->mask = size - 1;
    for (uint32_t k = 0; k < cs->n; k++)
        cs->slots[cands_slot(cs, cs->c[k].row)] = k + 1;
    reel_free(old);
    return 0;
}

/* The candidate of row, adding it if absent and there is room (NULL if not). */
static struct cand *cands_get(struct cand_set *cs, uint32_t row, int add)
{
    uint32_t i = cands_slot(cs, row);
    if (cs->slots[i])
        return &cs->c[cs->slots[i] - 1];
    if (!add || cs->n == cs->cap)
        return NULL;
    if ((cs->n + 1) * 2 > cs->mask + 1) {
        if (cands_grow(cs) < 0)
            return NULL;
        i = cands_slot(cs, row);
    }
    struct cand *c = &cs->c[cs->n++];
    memset(c, 0, sizeof *c);
    c->row = row;
    cs->slots[i] = cs->n;
    return c;
}

struct feed_ctx {
    struct rec_engine *e;
    const struct rec_feed_request *req;
    struct session *s;
    const struct prefs_entry *prefs;
    uint64_t rng;
};

#define CTX_RAND_STEP 0x9e3779b97f4a7c15ULL

static uint64_t ctx_rand(struct feed_ctx *f)
{
    f->rng += CTX_RAND_STEP;
    return rec_mix64(f->rng);
}

/* What the k-th next ctx_rand will return (k = 1 for the next one). */
static uint64_t ctx_rand_ahead(const struct feed_ctx *f, uint64_t k)
{
    return rec_mix64(f->rng + k * CTX_RAND_STEP);
}

/* How a filter check asks the seen filter: everything; only the segments
 * since `mark`, for a row that passed at that mark (the kept nearest list);
 * through its memo, for rows asked about on every request (trending); or
 * not yet (random rows, most of which the re-ranking never reaches). */
enum seen_ask { SEEN_ALL, SEEN_SINCE, SEEN_MEMO, SEEN_LATER };

/* Filters shared by every source: nonzero to leave the video out. */
static int excluded_since(struct feed_ctx *f, uint32_t row, enum seen_ask ask, uint32_t mark)
{
    const struct rec_engine *e = f->e;
    if (!videos_live(&e->videos, row))
        return 1;
    const struct video_row *v = &e->videos.rows[row];
    if (v->creator_id && v->creator_id == f->req->user_id)
        return 1;
    int followed = f->prefs && v->creator_id && prefs_follows(f->prefs, v->creator_id);
    if (v->fresh == FRESH_RETIRED && !followed && !f->req->candidates)
        return 1;
    if (f->prefs && v->creator_id && prefs_blocked(f->prefs, v->creator_id))
        return 1;
    if (f->s && ask != SEEN_LATER &&
        (ask == SEEN_SINCE  ? seen_has_since(&f->s->seen, v->id, mark)
         : ask == SEEN_MEMO ? seen_has_memo(&f->s->seen, row, v->id)
                            : seen_has(&f->s->seen, v->id)))
        return 1;
    return 0;
}

/* For a candidate the re-ranking reaches: false (and marked used) if it
 * was added with its seen check left for later and turns out seen. */
static int still_unseen(struct feed_ctx *f, struct cand *c)
{
    if (!c->unseen_unknown)
        return 1;
    c->unseen_unknown = 0;
    if (f->s && seen_has(&f->s->seen, f->e->videos.rows[c->row].id)) {
        c->used = 1;
        return 0;
    }
    return 1;
}

static int excluded(struct feed_ctx *f, uint32_t row)
{
    return excluded_since(f, row, SEEN_ALL, 0);
}

static int ann_skip(void *ctx, uint32_t row)
{
    return excluded(ctx, row);
}

static void add_row_asking(struct feed_ctx *f, struct cand_set *cs, uint32_t row,
                           uint8_t source, enum seen_ask ask)
{
    /* A row the memo knows as seen is left out before the row is read (a
     * cache miss; every request asks the same trending rows again). */
    if (ask == SEEN_MEMO && f->s && seen_memo_seen(&f->s->seen, row))
        return;
    if (excluded_since(f, row, ask, 0))
        return;
    struct cand *c = cands_get(cs, row, 1);
    if (!c)
        return;
    if (!c->sources && ask == SEEN_LATER)
        c->unseen_unknown = 1; /* new: no other source has checked it */
    c->sources |= source;
}

static void add_row(struct feed_ctx *f, struct cand_set *cs, uint32_t row, uint8_t source)
{
    /* The trending lists change little from one request to the next: their
     * rows are asked through the seen filter's memo. */
    add_row_asking(f, cs, row, source, source == REC_SOURCE_TRENDING ? SEEN_MEMO : SEEN_ALL);
}

static unsigned coeng_seeds(const struct rec_engine *e, const struct session *s)
{
    return s->recent_count < e->cfg.recent_engagements ? s->recent_count
                                                       : e->cfg.recent_engagements;
}

/* Co-engagement scores of every partner of the recent engagements; partners
 * become candidates (the best candidates_coengaged) unless add is 0, when
 * only candidates already present get their score. */
static int source_coengaged(struct feed_ctx *f, struct cand_set *cs, int add)
{
    struct rec_engine *e = f->e;
    const struct session *s = f->s;
    if (!s || !s->recent_count || e->cfg.coengagement_neighbours == 0)
        return 0;
    unsigned n = coeng_seeds(e, s);
    uint32_t seeds[SESSION_RECENT_MAX];
    const struct coeng_list *lists[SESSION_RECENT_MAX];
    uint32_t partners = 0;
    for (unsigned k = 0; k < n; k++) {
        seeds[k] = s->recent[(s->recent_head + SESSION_RECENT_MAX - 1 - k) % SESSION_RECENT_MAX];
        lists[k] = coeng_get(&e->coeng, seeds[k]);
        partners += lists[k] ? lists[k]->count : 0;
    }
    if (!partners)
        return 0;
    /* The slot table sized for every partner at once: grown from the
     * smallest, it was rehashed three times a request. */
    struct cand_set acc;
    if (cands_init(&acc, partners + 1, partners) < 0)
        return -1;
    /* A partner's term (coeng.h): its count, times the seed's weight and
     * normaliser, times its own normaliser. */
    const struct video_engaged *engaged = e->videos.engaged;
    float seed_weight = 1.0f;
    for (unsigned k = 0; k < n; k++, seed_weight *= (float)e->cfg.coengagement_decay) {
        const struct coeng_list *l = lists[k];
        if (!l)
            continue;
        float w = seed_weight * engaged[seeds[k]].norm;
        for (uint16_t i = 0; i < l->count; i++) {
            struct cand *c = cands_get(&acc, l->e[i].row, 1);
            if (c)
                c->coeng += l->e[i].count * w * engaged[l->e[i].row].norm;
        }
    }
    /* Scores for the candidates already there, then (add) the best
     * candidates_coengaged of the partners join, less those filtered out.
     * The smaller set is walked and looked up in the other: the candidates
     * so far are the nearest hundred or so, the partners thousands. */
    if (cs->n < acc.n) {
        for (uint32_t i = 0; i < cs->n; i++) {
            struct cand *dst = &cs->c[i];
            const struct cand *src = cands_get(&acc, dst->row, 0);
            if (src) {
                dst->coeng = src->coeng;
                dst->sources |= REC_SOURCE_COENGAGED;
            }
        }
    } else {
        for (uint32_t i = 0; i < acc.n; i++) {
            const struct cand *src = &acc.c[i];
            struct cand *dst = cands_get(cs, src->row, 0);
            if (dst) {
                dst->coeng = src->coeng;
                dst->sources |= REC_SOURCE_COENGAGED;
            }
        }
    }
    int rc = 0;
    uint32_t want = e->cfg.candidates_coengaged;
    if (add && want > 0 && acc.n > 0) {
        /* A quickselect: 32 seeds of 100 partners each are 3,200, and a
         * selection by repeated scans cost want times that. On rank_key
         * keys (the same order), whose partitions have no branches to
         * mispredict: over struct rank_hit it was 6% of a page's samples. */
        uint64_t *keys = reel_malloc((size_t)acc.n * sizeof *keys);
        if (!keys) {
            rc = -1;
        } else {
            for (uint32_t i = 0; i < acc.n; i++)
                keys[i] = rank_key(acc.c[i].coeng, acc.c[i].row);
            if (want > acc.n)
                want = acc.n;
            rank_key_select(keys, acc.n, want);
            for (uint32_t i = 0; i < want; i++) {
                uint32_t row = rank_key_row(keys[i]);
                if (excluded(f, row))
                    continue;
                struct cand *dst = cands_get(cs, row, 1);
                if (dst) {
                    dst->coeng = rank_key_score(keys[i]);
                    dst->sources |= REC_SOURCE_COENGAGED;
                }
            }
            reel_free(keys);
        }
    }
    cands_clear(&acc);
    return rc;
}

#define NEAREST_MAX 4096 /* candidates_nearest and nearest_pool are capped at this */

/* The index's best `want` (<= NEAREST_MAX) rows for user_vec that pass the
 * filters, into out; returns the count. */
static size_t nearest_search(struct feed_ctx *f, const float *user_vec, size_t want,
                             uint32_t *out)
{
    struct rec_engine *e = f->e;
    enum { ASK_MAX = NEAREST_MAX + NEAREST_MAX / 4 + 16 };
    static _Thread_local uint32_t rows[ASK_MAX];
    static _Thread_local float scores[ASK_MAX];
    /* First without the filters (they cost a cache miss per video looked
     * at): a quarter more than wanted, filtered afterwards. Only a user who
     * has already seen much of their neighbourhood needs the filtered scan.
     * (Tried and measured worse at a million videos: skipping straight to
     * the filtered scan for a user who needed it last time, and retrying
     * unfiltered with four times the length.) */
    size_t ask = want + want / 4 + 16;
    size_t n = ann_search(&e->ann, user_vec, ask, e->cfg.ann_probe, NULL, NULL, rows, scores);
    /* Each row is a cache miss at a million videos: asked of memory
     * NEAREST_AHEAD rows ahead, so that the misses overlap. */
    enum { NEAREST_AHEAD = 8 };
    for (size_t i = 0; i < n && i < NEAREST_AHEAD; i++)
        videos_prefetch(&e->videos, rows[i]);
    size_t kept = 0;
    for (size_t i = 0; i < n && kept < want; i++) {
        if (i + NEAREST_AHEAD < n)
            videos_prefetch(&e->videos, rows[i + NEAREST_AHEAD]);
        if (!excluded(f, rows[i]))
            out[kept++] = rows[i];
    }
    if (kept < want && n == ask)
        kept = ann_search(&e->ann, user_vec, want, e->cfg.ann_probe, ann_skip, f, out, scores);
    return kept;
}

/* Whether the session's kept nearest list can serve this request: searched
 * with (nearly) the embedding the user has now, not too long ago. */
static int pool_current(const struct feed_ctx *f, const struct nearest_pool *pool,
                        const float *user_vec, unsigned dim)
{
    const struct config_rec *cfg = &f->e->cfg;
    if (!pool->rows || f->req->now_ms < pool->built_ms ||
        f->req->now_ms - pool->built_ms > (int64_t)cfg->nearest_refresh_s * 1000)
        return 0;
    if (!user_vec || !pool->dim)
        return !user_vec && !pool->dim;
    if (pool->dim != dim)
        return 0;
    float moved = 0, length = 0;
    for (unsigned i = 0; i < dim; i++) {
        float d = user_vec[i] - pool->vec[i];
        moved += d * d;
        length += pool->vec[i] * pool->vec[i];
    }
    float drift = (float)cfg->nearest_drift;
    return moved <= drift * drift * length;
}

/* Nearest videos to the user's embedding; a user without one (not admitted
 * yet) gets the zero query, which ranks by engagement propensity alone.
 *
 * A session keeps the best nearest_pool of them between requests (struct
 * nearest_pool): the index search, with its filter checks, was most of a
 * request's time, and one page takes ten videos of the two hundred. Each
 * request takes the first candidates_nearest the filters still let through
 * (what was served since is in the seen filter) and drops the others from
 * the list for good; they are scored with the embedding the user has now, so
 * every event still moves the ranking at once. The list is searched again
 * when fewer than candidates_nearest are left (if the search ran out: once
 * the index has changed and half of the list is used), when it is older than
 * nearest_refresh_s, or when the embedding has moved by more than
 * nearest_drift of its length: what the user likes has changed enough to
 * change the neighbourhood itself. A session's first list is only
 * candidates_nearest deep (as without a kept list); the next ones are
 * nearest_pool deep. */
static void source_nearest(struct feed_ctx *f, struct cand_set *cs, const float *user_vec)
{
    static const float zero[MODEL_DIM_MAX];
    struct rec_engine *e = f->e;
    size_t k = e->cfg.candidates_nearest < NEAREST_MAX ? e->cfg.candidates_nearest : NEAREST_MAX;
    size_t keep = e->cfg.nearest_pool < NEAREST_MAX ? e->cfg.nearest_pool : NEAREST_MAX;
    const uint32_t *rows;
    size_t n;
    if (k == 0)
        return;
    if (!f->s || keep == 0) {
        static _Thread_local uint32_t found[NEAREST_MAX];
        n = nearest_search(f, user_vec ? user_vec : zero, k, found);
        rows = found;
    } else {
        if (keep < k)
            keep = k;
        struct nearest_pool *pool = &f->s->pool;
        unsigned dim = user_vec ? e->cfg.dim : 0;
        n = SIZE_MAX; /* search */
        if (pool_current(f, pool, user_vec, dim)) {
            n = 0;
            /* Drop for good what the filters now refuse; stop at k. Rows
             * that passed last time are asked only about what the seen
             * filter took since (a heavy user's filter has many segments,
             * a cache miss each). */
            size_t i = 0;
            for (; i < pool->n && n < k; i++) {
                if (i + 8 < pool->n)
                    videos_prefetch(&e->videos, pool->rows[i + 8]);
                if (!excluded_since(f, pool->rows[i], i < pool->checked ? SEEN_SINCE : SEEN_ALL,
                                    pool->seen_mark))
                    pool->rows[n++] = pool->rows[i];
            }
            if (n < i) {
                memmove(pool->rows + n, pool->rows + i, (pool->n - i) * sizeof *pool->rows);
                pool->n -= (uint32_t)(i - n);
            }
            pool->checked = (uint32_t)n;
            pool->seen_mark = seen_mark(&f->s->seen);
            /* Short of k: searched again, unless the search had run out
             * (the probed part of the index holds no more for this
             * embedding) and the index has not changed since, or it still
             * holds at least half of what that search found. */
            if (n < k && !(pool->found < pool->asked &&
                           ((pool->index_count == e->ann.count &&
                             pool->index_trained == e->ann.trained_at) ||
                            (n > 0 && 2 * n >= pool->found))))
                n = SIZE_MAX;
        }
        if (n == SIZE_MAX) {
            /* A session's first search is only as deep as one request needs:
             * most sessions never ask twice. */
            size_t depth = pool->rows ? keep : k;
            if (session_pool_reserve(pool, (uint32_t)depth, dim) < 0)
                return;
            if (user_vec)
                memcpy(pool->vec, user_vec, dim * sizeof *pool->vec);
            pool->asked = (uint32_t)depth;
            pool->n = pool->found = (uint32_t)nearest_search(f, user_vec ? user_vec : zero,
                                                             depth, pool->rows);
            pool->built_ms = f->req->now_ms;
            pool->checked = pool->n; /* nearest_search filtered them */
            pool->seen_mark = seen_mark(&f->s->seen);
            pool->index_count = e->ann.count;
            pool->index_trained = e->ann.trained_at;
            n = pool->n < k ? pool->n : k;
        }
        rows = pool->rows;
    }
    for (size_t i = 0; i < n; i++) {
        struct cand *c = cands_get(cs, rows[i], 1);
        if (c)
            c->sources |= REC_SOURCE_NEAREST;
    }
}

static void source_following(struct feed_ctx *f, struct cand_set *cs)
{
    struct rec_engine *e = f->e;
    if (!f->prefs || !f->prefs->follow_count || e->cfg.candidates_following == 0)
        return;
    int64_t since = f->req->now_ms - (int64_t)e->cfg.following_max_age_s * 1000;
    unsigned added = 0;
    /* Start at a random followed creator so big follow lists rotate. */
    uint32_t nf = f->prefs->follow_count;
    uint32_t start = (uint32_t)(ctx_rand(f) % nf);
    for (uint32_t k = 0; k < nf && k < 1024 && added < e->cfg.candidates_following; k++) {
        const struct creator_videos *cv =
            creators_get(&e->creators, f->prefs->follows[(start + k) % nf]);
        if (!cv)
            continue;
        for (unsigned i = 0; i < cv->count && added < e->cfg.candidates_following; i++) {
            uint32_t row = cv->rows[(cv->head + CREATOR_RECENT - 1 - i) % CREATOR_RECENT];
            if (!videos_live(&e->videos, row) || e->videos.rows[row].created_ms < since)
                break;
            add_row(f, cs, row, REC_SOURCE_FOLLOWING);
            added++;
        }
    }
}

static void source_trending(struct feed_ctx *f, struct cand_set *cs)
{
    struct rec_engine *e = f->e;
    uint32_t rows[TOP_GLOBAL];
    const struct toplist *list =
        f->req->policy == REC_POLICY_POPULAR ? &e->trending.popular : &e->trending.global;
    size_t want = e->cfg.candidates_trending;
    if (f->req->policy == REC_POLICY_POPULAR)
        want = TOP_GLOBAL;
    size_t n = toplist_best(list, rows, want < TOP_GLOBAL ? want : TOP_GLOBAL);
    for (size_t i = 0; i < n; i++)
        add_row(f, cs, rows[i], REC_SOURCE_TRENDING);
    /* The host's regional trending (the analytics' ranking), if it set one. */
    for (uint32_t i = 0; i < e->ext_trending_n && i < want; i++)
        add_row(f, cs, e->ext_trending[i], REC_SOURCE_TRENDING);
    if (!f->prefs)
        return;
    for (unsigned t = 0; t < f->prefs->interest_count; t++) {
        const struct toplist *tl = trending_tag(&e->trending, f->prefs->interests[t]);
        if (!tl)
            continue;
        n = toplist_best(tl, rows, TOP_TAG);
        for (size_t i = 0; i < n; i++)
            add_row(f, cs, rows[i], REC_SOURCE_TRENDING);
    }
}

static void source_fresh(struct feed_ctx *f, struct cand_set *cs)
{
    struct rec_engine *e = f->e;
    uint32_t count = e->fresh.count;
    if (!count)
        return;
    unsigned want = e->cfg.candidates_fresh;
    uint64_t draws = (uint64_t)want * 2 < (uint64_t)count * 2 ? (uint64_t)want * 2
                                                              : (uint64_t)count * 2;
    /* Random rows of the pool until `want` are within their budget, at most
     * `draws` of them. Each is a cache miss: the rows of the next few draws
     * are asked of memory together (ctx_rand_ahead), not one at a time. */
    enum { AHEAD = 16 };
    uint64_t i = 0;
    while (i < draws && want > 0) {
        uint32_t rows[AHEAD];
        unsigned chunk = draws - i < AHEAD ? (unsigned)(draws - i) : AHEAD;
        for (unsigned k = 0; k < chunk; k++) {
            rows[k] = e->fresh.rows[ctx_rand_ahead(f, k + 1) % count];
            videos_prefetch(&e->videos, rows[k]);
        }
        for (unsigned k = 0; k < chunk && want > 0; k++, i++) {
            ctx_rand(f); /* the draw rows[k] came from */
            if (__atomic_load_n(&e->videos.rows[rows[k]].fresh_served, __ATOMIC_RELAXED) >=
                e->cfg.fresh_budget)
                continue;
            add_row(f, cs, rows[k], REC_SOURCE_FRESH);
            want--;
        }
    }
}

/* Random live videos: serendipity outside what the other sources know, other
 * creators for the creator rule, and enough candidates when the sources are
 * thin (a new catalogue, a user who has seen most of it). */
static void source_fill(struct feed_ctx *f, struct cand_set *cs, size_t want)
{
    struct rec_engine *e = f->e;
    uint32_t used = e->videos.used;
    if (!used)
        return;
    /* The seen check (a cache miss per segment of a heavy user's filter) is
     * left to the re-ranking, which reaches few of these, when the other
     * sources have found enough candidates to fill the page four times
     * over: however many of these turn out seen, the page stays full. When
     * they are thin, it is asked at once, so that what is added counts. */
    enum seen_ask ask = cs->n >= 4 * f->req->limit ? SEEN_LATER : SEEN_ALL;
    /* Each draw is a cache miss on its row and, when the filter is asked at
     * once, on the filter's blocks for its id, which is known only once the
     * row is in. So rows are asked of memory ROW_AHEAD draws ahead and the
     * filter's blocks SEEN_AHEAD draws ahead, and the misses of the next
     * draws overlap instead of each waiting for the last. The draws are
     * ctx_rand's, in the same order (ctx_rand_ahead). */
    enum { ROW_AHEAD = 16, SEEN_AHEAD = 8 };
    const struct seen_filter *seen = f->s && ask != SEEN_LATER ? &f->s->seen : NULL;
    size_t max = want * 8;
    for (uint64_t k = 1; k <= ROW_AHEAD && k <= max; k++)
        videos_prefetch(&e->videos, (uint32_t)(ctx_rand_ahead(f, k) % used));
    for (uint64_t k = 1; seen && k <= SEEN_AHEAD && k <= max; k++)
        seen_prefetch(seen, e->videos.rows[ctx_rand_ahead(f, k) % used].id);
    for (size_t tries = 0; cs->n < want && tries < max; tries++) {
        if (tries + ROW_AHEAD < max)
            videos_prefetch(&e->videos, (uint32_t)(ctx_rand_ahead(f, 1 + ROW_AHEAD) % used));
        if (seen && tries + SEEN_AHEAD < max)
            seen_prefetch(seen, e->videos.rows[ctx_rand_ahead(f, 1 + SEEN_AHEAD) % used].id);
        add_row_asking(f, cs, (uint32_t)(ctx_rand(f) % used), REC_SOURCE_FRESH, ask);
    }
}

static unsigned interest_matches(const struct prefs_entry *p, const struct video_row *v)
{
    unsigned m = 0;
    if (!p)
        return 0;
    for (unsigned i = 0; i < p->interest_count; i++)
        for (unsigned k = 0; k < v->tag_count; k++)
            m += p->interests[i] == v->tags[k];
    return m;
}

/* Hints the CPU to fetch what scoring a video reads: its row and embedding. */
static void prefetch_video(const struct video_table *videos, uint32_t row)
{
    videos_prefetch(videos, row);
    rec_prefetch_span(videos_emb(videos, row), videos->dim * sizeof(float));
}

static void score_all(struct feed_ctx *f, struct cand_set *cs, const float *user_vec,
                      float user_bias)
{
    struct rec_engine *e = f->e;
    const struct config_rec *cfg = &e->cfg;
    float prior = (float)cfg->bias_prior;
    if (f->req->policy == REC_POLICY_POPULAR) {
        for (uint32_t i = 0; i < cs->n; i++)
            cs->c[i].score = model_popular(&e->model, &e->videos.rows[cs->c[i].row], prior);
        return;
    }
    /* Per-request constants: what decays with time is decayed once here. */
    float coeng_w = (float)cfg->weight_coengagement * e->model.coeng_gain;
    double trend_now = trending_value(&e->trending, &(struct video_row){.trend = 1.0},
                                      f->req->now_ms);
    double trend_max = 0;
    if (cfg->weight_trending > 0)
        for (uint32_t i = 0; i < cs->n; i++)
            if (e->videos.rows[cs->c[i].row].trend > trend_max)
                trend_max = e->videos.rows[cs->c[i].row].trend;
    trend_max *= trend_now;
    uint64_t aff_creator[SESSION_CREATORS];
    float aff_value[SESSION_CREATORS];
    unsigned naff = 0;
    if (f->s && cfg->weight_creator > 0)
        for (unsigned k = 0; k < SESSION_CREATORS; k++)
            if (f->s->creators[k].creator_id) {
                aff_creator[naff] = f->s->creators[k].creator_id;
                aff_value[naff++] = session_creator_affinity(f->s, f->s->creators[k].creator_id,
                                                             f->req->now_ms);
            }
    float like_w = (float)cfg->weight_like, share_w = (float)cfg->weight_share,
          comment_w = (float)cfg->weight_comment;
    enum { AHEAD = 8 }; /* candidates' rows are cache misses: ask for them early */
    for (uint32_t i = 0; i < cs->n && i < AHEAD; i++)
        prefetch_video(&e->videos, cs->c[i].row);
    for (uint32_t i = 0; i < cs->n; i++) {
        if (i + AHEAD < cs->n)
            prefetch_video(&e->videos, cs->c[i + AHEAD].row);
        struct cand *c = &cs->c[i];
        const struct video_row *v = &e->videos.rows[c->row];
        float score = (float)cfg->weight_watch *
                      model_value(&e->model, &e->videos, &e->tags, c->row, user_bias);
        if (cfg->weight_engage > 0)
            score += (float)cfg->weight_engage *
                     model_sigmoid(model_engage_logit(&e->model, &e->videos, c->row, user_vec));
        if (like_w > 0)
            score += like_w * model_like_rate(&e->model, v, prior);
        if (share_w > 0)
            score += share_w * model_share_rate(&e->model, v, prior);
        if (comment_w > 0)
            score += comment_w * model_comment_rate(&e->model, v, prior);
        score += coeng_w * c->coeng;
        for (unsigned k = 0; k < naff; k++)
            if (aff_creator[k] == v->creator_id)
                score += (float)cfg->weight_creator * aff_value[k];
        if (f->prefs && v->creator_id && prefs_follows(f->prefs, v->creator_id))
            score += (float)cfg->weight_follow;
        score += (float)cfg->weight_interest * (float)interest_matches(f->prefs, v);
        if (trend_max > 0)
            score += (float)(cfg->weight_trending * v->trend * trend_now / trend_max);
        score += (float)cfg->explore_bonus / sqrtf(v->feedback + prior + 1e-3f);
        c->score = score;
    }
}

/* The candidates in ranking order, sorted only as far as the re-ranking
 * looks: a page looks at the top hundred or so of several hundred. */
struct ranking {
    struct rank_hit *h;     /* ref: index in cs->c */
    uint32_t n, sorted;     /* h[0..sorted) is in order */
    struct rank_hit *fresh; /* the candidates in the fresh pool (any order) */
    uint32_t nfresh;
};

static int ranking_init(struct ranking *r, const struct cand_set *cs,
                        const struct video_table *videos)
{
    r->n = cs->n;
    r->sorted = 0;
    r->nfresh = 0;
    r->h = reel_malloc(((size_t)cs->n + 1) * 2 * sizeof *r->h);
    if (!r->h)
        return -1;
    r->fresh = r->h + cs->n + 1;
    for (uint32_t i = 0; i < cs->n; i++) {
        r->h[i] = (struct rank_hit){cs->c[i].score, cs->c[i].row, i};
        if (videos->rows[cs->c[i].row].fresh == FRESH_POOL)
            r->fresh[r->nfresh++] = r->h[i];
    }
    return 0;
}

/* The candidate ranked i-th (i < r->n), sorting in chunks that double. */
static struct cand *ranked(struct cand_set *cs, struct ranking *r, uint32_t i)
{
    while (r->sorted <= i) {
        uint32_t rest = r->n - r->sorted;
        uint32_t chunk = r->sorted < 128 ? 128 : r->sorted;
        if (chunk > rest)
            chunk = rest;
        rank_select(r->h + r->sorted, rest, chunk);
        rank_sort(r->h + r->sorted, chunk);
        r->sorted += chunk;
    }
    return &cs->c[r->h[i].ref];
}

/* The hashtags already on the page, with how many of its videos carry each:
 * a candidate's hashtag penalty is then one lookup per tag of its own, not a
 * comparison with every tag of every video placed so far (which, over the
 * re-ranking window, was most of a request's time). */
#define PAGE_TAG_SLOTS 512 /* a power of two, >= REC_FEED_MAX * REC_VIDEO_TAGS / 0.8 */

struct page_tags {
    uint32_t key[PAGE_TAG_SLOTS]; /* tag number, 0 = empty */
    uint16_t count[PAGE_TAG_SLOTS];
};

static uint32_t page_tag_slot(const struct page_tags *p, uint32_t tag)
{
    uint32_t i = (uint32_t)rec_mix64(tag) & (PAGE_TAG_SLOTS - 1);
    while (p->key[i] && p->key[i] != tag)
        i = (i + 1) & (PAGE_TAG_SLOTS - 1);
    return i;
}

/* Pairs (tag of v, tag of a video on the page) that are equal. */
static unsigned page_tags_shared(const struct page_tags *p, const struct video_row *v)
{
    unsigned m = 0;
    for (unsigned i = 0; i < v->tag_count; i++) {
        if (!v->tags[i])
            continue;
        uint32_t k = page_tag_slot(p, v->tags[i]);
        if (p->key[k])
            m += p->count[k];
    }
    return m;
}

static void page_tags_add(struct page_tags *p, const struct video_row *v)
{
    for (unsigned i = 0; i < v->tag_count; i++) {
        if (!v->tags[i])
            continue;
        uint32_t k = page_tag_slot(p, v->tags[i]);
        p->key[k] = v->tags[i];
        p->count[k]++;
    }
}

static int is_explore_position(size_t i, double share)
{
    /* Positions where the running count of reserved slots steps up, so the
     * reserved slots spread evenly (share 0.2: the 5th, 10th, ...). */
    return share > 0 && floor((double)(i + 1) * share + 1e-9) > floor((double)i * share + 1e-9);
}

/* Greedy re-ranking into out (and each item's co-engagement into coeng);
 * returns the count. */
static size_t rerank(struct feed_ctx *f, struct cand_set *cs, struct ranking *r,
                     struct rec_feed_item *out, float *coeng)
{
    struct rec_engine *e = f->e;
    const struct config_rec *cfg = &e->cfg;
    int popular = f->req->policy == REC_POLICY_POPULAR;
    uint64_t prev_creator = f->s ? f->s->last_creator : 0;
    struct page_tags page;
    memset(page.key, 0, sizeof page.key);
    memset(page.count, 0, sizeof page.count);
    size_t n = 0;
    uint32_t first = 0; /* candidates ranked before it are all used */
    while (n < f->req->limit) {
        int explore = !popular && is_explore_position(n, cfg->explore_share);
        struct cand *pick = NULL;
        float best = -INFINITY;
        if (explore) {
            /* The best fresh video still within its budget: one pass over
             * the fresh candidates, none of the others sorted for it. */
            const struct rank_hit *top = NULL;
            for (uint32_t j = 0; j < r->nfresh; j++) {
                const struct rank_hit *h = &r->fresh[j];
                struct cand *c = &cs->c[h->ref];
                const struct video_row *v = &e->videos.rows[c->row];
                if (c->used || (top && !rank_before(h->score, h->row, top->score, top->row)) ||
                    __atomic_load_n(&v->fresh_served, __ATOMIC_RELAXED) >= cfg->fresh_budget ||
                    (v->creator_id && v->creator_id == prev_creator) || !still_unseen(f, c))
                    continue;
                top = h;
                pick = c;
            }
        }
        if (!pick) {
            explore = 0;
            /* The best RERANK_WINDOW eligible candidates compete with the
             * hashtag penalty; past the window only the creator rule counts.
             * They come best first and the penalty only lowers a score, so
             * once one's own score is no better than the pick's after its
             * penalty, neither it nor any after it can win (a tie goes to
             * the earlier): the scan stops there, usually a few candidates
             * in, with the pick the whole window would give. */
            uint32_t looked = 0;
            for (uint32_t i = first; i < r->n && (looked < RERANK_WINDOW || !pick); i++) {
                struct cand *c = ranked(cs, r, i);
                if (pick && c->score <= best)
                    break;
                if (c->used)
                    continue;
                const struct video_row *v = &e->videos.rows[c->row];
                if ((v->creator_id && v->creator_id == prev_creator) || !still_unseen(f, c))
                    continue;
                looked++;
                float s = c->score;
                if (!popular && cfg->hashtag_spread > 0 && n > 0)
                    s -= (float)cfg->hashtag_spread * (float)page_tags_shared(&page, v);
                if (s > best) {
                    best = s;
                    pick = c;
                }
            }
        }
        if (!pick && n == 0) {
            /* Only the previous page's last creator has videos left: an
             * empty feed would be worse than breaking the rule once, at a
             * page boundary, when nothing else exists. */
            for (uint32_t i = first; i < r->n && !pick; i++)
                if (!ranked(cs, r, i)->used && still_unseen(f, ranked(cs, r, i)))
                    pick = ranked(cs, r, i);
        }
        if (!pick)
            break; /* only the previous creator's videos are left */
        struct cand *c = pick;
        c->used = 1;
        const struct video_row *v = &e->videos.rows[c->row];
        page_tags_add(&page, v);
        out[n].video_id = v->id;
        out[n].score = c->score;
        out[n].sources = c->sources;
        out[n].explore = (uint8_t)explore;
        coeng[n] = c->coeng;
        prev_creator = v->creator_id;
        n++;
        while (first < r->n && ranked(cs, r, first)->used)
            first++;
    }
    return n;
}

int feed_build(struct rec_engine *e, const struct rec_feed_request *req,
               struct rec_feed_item *out)
{
    const struct config_rec *cfg = &e->cfg;
    struct feed_ctx f = {.e = e, .req = req};
    struct session_shard *sh = session_shard_of(&e->sessions, req->user_id);
    int rc = 0;
    if (req->no_wait) {
        if (pthread_mutex_trylock(&sh->lock) != 0)
            return REC_EAGAIN;
        if (e->sessions.spill && !session_resident(sh, req->user_id)) {
            pthread_mutex_unlock(&sh->lock);
            return REC_EAGAIN;
        }
    } else {
        pthread_mutex_lock(&sh->lock);
    }
    f.s = session_get(&e->sessions, sh, req->user_id, req->now_ms, 1, engine_video_row_cb,
                      engine_video_id_cb, e);
    f.prefs = prefs_get(&e->prefs, req->user_id, 0);
    f.rng = rec_mix64(req->user_id ^ cfg->seed) + (f.s ? f.s->requests : 0);

    float user_vec_buf[MODEL_DIM_MAX];
    const float *user_vec = NULL;
    float user_bias = 0;
    uint32_t urow = users_find(&e->users, req->user_id);
    if (urow != IDMAP_NONE) {
        model_user_vector(&e->users, urow, user_vec_buf);
        user_vec = user_vec_buf;
        user_bias = users_head(&e->users, urow)->bias;
    }

    struct cand_set cs;
    size_t given = req->candidates ? (req->candidate_count < GIVEN_MAX ? req->candidate_count
                                                                        : GIVEN_MAX)
                                   : 0;
    uint32_t cap = req->candidates
                       ? (uint32_t)given + 1
                       : cfg->candidates_nearest + cfg->candidates_coengaged +
                             cfg->candidates_trending + cfg->candidates_following +
                             cfg->candidates_fresh + TOP_GLOBAL +
                             REC_INTERESTS_MAX * TOP_TAG + 4 * REC_FEED_MAX + 1;
    if (cands_init(&cs, cap, 0) < 0) {
        rc = REC_ENOMEM;
        goto out;
    }
    if (req->candidates) {
        for (size_t i = 0; i < given; i++) {
            uint32_t row = videos_find(&e->videos, req->candidates[i]);
            if (row != IDMAP_NONE)
                add_row(&f, &cs, row, REC_SOURCE_GIVEN);
        }
        if (req->policy == REC_POLICY_REEL && source_coengaged(&f, &cs, 0) < 0)
            rc = REC_ENOMEM;
    } else if (req->policy == REC_POLICY_POPULAR) {
        source_trending(&f, &cs);
    } else {
        source_nearest(&f, &cs, user_vec);
        if (source_coengaged(&f, &cs, 1) < 0)
            rc = REC_ENOMEM;
        source_following(&f, &cs);
        source_trending(&f, &cs);
        source_fresh(&f, &cs);
        size_t want = cs.n + 2 * req->limit;
        if (want < 4 * req->limit)
            want = 4 * req->limit;
        source_fill(&f, &cs, want < cap ? want : cap - 1);
    }
    if (rc == 0) {
        score_all(&f, &cs, user_vec, user_bias);
        float coeng[REC_FEED_MAX];
        uint32_t rows[REC_FEED_MAX];
        struct ranking ranking;
        if (ranking_init(&ranking, &cs, &e->videos) < 0) {
            rc = REC_ENOMEM;
            goto done;
        }
        rc = (int)rerank(&f, &cs, &ranking, out, coeng);
        reel_free(ranking.h);
        for (int i = 0; i < rc; i++) {
            rows[i] = videos_find(&e->videos, out[i].video_id);
            struct video_row *v = &e->videos.rows[rows[i]];
            if (f.s)
                seen_add(&f.s->seen, v->id, cfg->seen_capacity);
            if (v->fresh == FRESH_POOL)
                __atomic_fetch_add(&v->fresh_served, 1, __ATOMIC_RELAXED);
        }
        /* Bottom of the page first: a page longer than SESSION_SERVED keeps
         * its top, where most watches are. */
        if (f.s && req->policy == REC_POLICY_REEL && cfg->weight_coengagement > 0)
            for (int i = rc; i-- > 0;)
                session_served_add(f.s, rows[i], coeng[i]);
        if (f.s) {
            if (rc > 0)
                f.s->last_creator = e->videos.rows[videos_find(&e->videos,
                                                               out[rc - 1].video_id)].creator_id;
            f.s->requests++;
        }
    }
done:
    cands_clear(&cs);
out:
    pthread_mutex_unlock(&sh->lock);
    return rc;
}

int rec_engine_feed(struct rec_engine *e, const struct rec_feed_request *req,
                    struct rec_feed_item *out)
{
    if (!req || !out || req->limit == 0 || req->limit > REC_FEED_MAX || req->user_id == 0)
        return REC_EINVAL;
    if (!req->no_wait)
        pthread_rwlock_rdlock(&e->lock);
    else if (pthread_rwlock_tryrdlock(&e->lock) != 0)
        return REC_EAGAIN;
    int rc = feed_build(e, req, out);
    pthread_rwlock_unlock(&e->lock);
    return rc;
}
