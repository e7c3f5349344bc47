/*
 * engine.c — see engine.h: creation, the learning path (events), videos,
 * interests, erasure and maintenance. The feed path is feed.c, persistence
 * snapshot.c.
 *
 * How an event teaches (model.h has the objective):
 *
 *   IMPRESSION      seen filter; pending until something follows it; after
 *                   `unengaged` with nothing, a zero watch and a negative
 *   WATCH           watch example min(watched / duration, watch_cap); at least
 *                   engaged_ratio is an engagement (below), less a negative;
 *                   first, if the feed served it, an example of the
 *                   co-engagement gain (model.h)
 *   SKIP            zero watch and a negative (skip_weight); the creator
 *                   sinks for the user (session affinity)
 *   NOT_INTERESTED  the same with not_interested_weight; the creator is
 *                   removed from the user's feeds
 *   LIKE/SHARE/COMMENT/FOLLOW  an engagement, counts for the engagement
 *                   rates; FOLLOW also follows
 *   UNFOLLOW        unfollows; UNLIKE takes the like count back; PLAY nothing
 *
 * An engagement is a positive of the engagement head; the first one of a
 * user with a video while its session remembers it also adds co-engagement
 * pairs with the user's recent engagements, becomes a recent engagement
 * itself, and draws `negatives` implicit negatives (uniform over videos the
 * user has not seen). Every engagement raises the creator's affinity for the
 * user and feeds trending.
 *
 * Every change to a video's embedding or bias re-quantises its index entry,
 * so the next search sees it; that is what makes an event visible in the
 * very next feed.
 */
#include "rec/engine_int.h"

#include "core/alloc.h"

#include <math.h>
#include <string.h>

#define DAY_ZERO_MS 1577836800000LL /* 2020-01-01T00:00:00Z */
#define POPULAR_CAP 10.0f           /* watch ratio cap of the popular baseline's mean */
#define EXPIRE_BUDGET 65536         /* user table slots looked at per tick */
#define SESSION_BUDGET 256          /* sessions expired per shard per tick */
#define FRESH_BUDGET 4096           /* pool entries age-checked per tick */

uint16_t engine_day(int64_t ms)
{
    int64_t d = (ms - DAY_ZERO_MS) / 86400000LL + 1;
    if (d < 1)
        return 1;
    if (d > UINT16_MAX)
        return UINT16_MAX;
    return (uint16_t)d;
}

float engine_video_bias(const struct rec_engine *e, uint32_t row)
{
    return e->videos.rows[row].engage_bias;
}

uint32_t engine_video_row_cb(void *ctx, uint64_t id)
{
    struct rec_engine *e = ctx;
    uint32_t row = videos_find(&e->videos, id);
    return row != IDMAP_NONE && videos_live(&e->videos, row) ? row : IDMAP_NONE;
}

uint64_t engine_video_id_cb(void *ctx, uint32_t row)
{
    struct rec_engine *e = ctx;
    return row < e->videos.used ? e->videos.rows[row].id : 0;
}

const char *rec_strerror(int code)
{
    switch (code) {
    case 0: return "ok";
    case REC_ENOMEM: return "out of memory";
    case REC_EINVAL: return "invalid argument";
    case REC_ENOENT: return "not found";
    case REC_EEXIST: return "already exists";
    case REC_EIO: return "input/output error";
    case REC_EFORMAT: return "bad snapshot";
    case REC_EFULL: return "table full";
    case REC_EAGAIN: return "would wait";
    default: return "unknown error";
    }
}

/* The index takes every dimension the model does. */
_Static_assert(MODEL_DIM_MAX <= ANN_DIM_MAX, "ann.h's ANN_DIM_MAX is below MODEL_DIM_MAX");

static int config_valid(const struct config_rec *c)
{
    return c->dim >= 8 && c->dim <= MODEL_DIM_MAX && c->dim % 8 == 0 && c->watch_cap > 0 &&
           c->explore_share >= 0 && c->explore_share <= 1 && c->recent_engagements >= 1 &&
           c->recent_engagements <= SESSION_RECENT_MAX && c->admit_after >= 1 &&
           c->admit_after <= 255 && c->sessions_max >= 1 && c->seen_capacity >= 256 &&
           c->trending_half_life_s > 0 && c->learning_rate >= 0 && c->bias_prior >= 0 &&
           c->negatives <= 64 && c->ann_probe >= 1 && c->coengagement_neighbours <= 256;
}

struct rec_engine *rec_engine_create(const struct config_rec *cfg, int *err)
{
    int dummy;
    if (!err)
        err = &dummy;
    *err = REC_EINVAL;
    if (!cfg || !config_valid(cfg))
        return NULL;
    *err = REC_ENOMEM;
    struct rec_engine *e = reel_calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->cfg = *cfg;
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    int lock_rc = pthread_rwlock_init(&e->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    if (lock_rc != 0) {
        reel_free(e);
        return NULL;
    }
    model_init(&e->model, cfg->dim, cfg->seed);
    /* Each init leaves its table zeroed on failure, so destroy can run on a
     * half-built engine. */
    int failed = users_init(&e->users, cfg->dim, cfg->users_expected) < 0;
    failed |= videos_init(&e->videos, cfg->dim, cfg->videos_expected) < 0;
    failed |= tags_init(&e->tags) < 0;
    failed |= ann_init(&e->ann, cfg->dim) < 0;
    failed |= coeng_init(&e->coeng, cfg->coengagement_neighbours) < 0;
    failed |= trending_init(&e->trending, (double)cfg->trending_half_life_s * 1000.0,
                            &e->videos) < 0;
    failed |= fresh_init(&e->fresh) < 0;
    failed |= prefs_init(&e->prefs) < 0;
    failed |= creators_init(&e->creators) < 0;
    failed |= session_table_init(&e->sessions, cfg->sessions_max) < 0;
    if (failed) {
        rec_engine_destroy(e);
        return NULL;
    }
    *err = 0;
    return e;
}

void rec_engine_destroy(struct rec_engine *e)
{
    if (!e)
        return;
    users_clear(&e->users);
    videos_clear(&e->videos);
    tags_clear(&e->tags);
    ann_clear(&e->ann);
    coeng_clear(&e->coeng);
    trending_clear(&e->trending);
    fresh_clear(&e->fresh);
    prefs_clear(&e->prefs);
    creators_clear(&e->creators);
    if (e->sessions.max_per_shard)
        session_table_clear(&e->sessions);
    reel_free(e->dirty);
    pthread_rwlock_destroy(&e->lock);
    reel_free(e);
}

void rec_engine_set_spill(struct rec_engine *e, const struct rec_spill *spill)
{
    pthread_rwlock_wrlock(&e->lock);
    if (spill) {
        e->spill = *spill;
        e->sessions.spill = &e->spill;
    } else {
        memset(&e->spill, 0, sizeof e->spill);
        e->sessions.spill = NULL;
    }
    pthread_rwlock_unlock(&e->lock);
}

/* ---- videos ------------------------------------------------------------- */

static int video_is_young(const struct rec_engine *e, int64_t created_ms)
{
    int64_t now = e->clock_ms;
    return now == 0 || created_ms + (int64_t)e->cfg.fresh_max_age_s * 1000 >= now;
}

int rec_video_add(struct rec_engine *e, const struct rec_video *video)
{
    if (!video || video->id == 0 || (video->hashtag_count && !video->hashtags))
        return REC_EINVAL;
    int rc = 0;
    pthread_rwlock_wrlock(&e->lock);
    if (videos_find(&e->videos, video->id) != IDMAP_NONE) {
        rc = REC_EEXIST;
        goto out;
    }
    uint32_t row = videos_new_row(&e->videos);
    if (row == IDMAP_NONE) {
        rc = REC_ENOMEM;
        goto out;
    }
    struct video_row *v = &e->videos.rows[row];
    v->creator_id = video->creator_id;
    v->created_ms = video->created_ms;
    v->duration_ms = video->duration_ms;
    for (size_t i = 0; i < video->hashtag_count && v->tag_count < REC_VIDEO_TAGS; i++) {
        char name[REC_HASHTAG_MAX];
        if (!video->hashtags[i] || tags_normalise(video->hashtags[i], name) == 0)
            continue;
        uint32_t tag = tags_intern(&e->tags, name);
        int dup = 0;
        for (unsigned k = 0; k < v->tag_count; k++)
            dup |= v->tags[k] == tag;
        if (tag && !dup) {
            v->tags[v->tag_count++] = tag;
            e->tags.rows[tag].videos++;
        }
    }
    model_video_init(&e->videos, row, video->id);
    if (videos_publish(&e->videos, video->id, row) < 0 ||
        ann_insert(&e->ann, &e->videos, row, engine_video_bias(e, row)) < 0 ||
        creators_add(&e->creators, v->creator_id, row) < 0 ||
        (video_is_young(e, video->created_ms) && e->cfg.fresh_budget > 0 &&
         fresh_enter(&e->fresh, &e->videos, row) < 0)) {
        /* Undo what was done; the row stays dead. */
        ann_remove(&e->ann, &e->videos, row);
        creators_remove(&e->creators, v->creator_id, row);
        idmap_del(&e->videos.map, video->id);
        v->state = VIDEO_REMOVED;
        e->videos.live--;
        rc = REC_ENOMEM;
        goto out;
    }
out:
    pthread_rwlock_unlock(&e->lock);
    return rc;
}

int rec_video_remove(struct rec_engine *e, uint64_t video_id)
{
    int rc = 0;
    pthread_rwlock_wrlock(&e->lock);
    uint32_t row = videos_find(&e->videos, video_id);
    if (row == IDMAP_NONE) {
        rc = REC_ENOENT;
        goto out;
    }
    struct video_row *v = &e->videos.rows[row];
    trending_remove(&e->trending, v, row);
    ann_remove(&e->ann, &e->videos, row);
    coeng_remove(&e->coeng, row);
    fresh_leave(&e->fresh, &e->videos, row, FRESH_NONE);
    creators_remove(&e->creators, v->creator_id, row);
    for (unsigned k = 0; k < v->tag_count; k++)
        e->tags.rows[v->tags[k]].videos--;
    idmap_del(&e->videos.map, video_id);
    v->state = VIDEO_REMOVED;
    e->videos.live--;
out:
    pthread_rwlock_unlock(&e->lock);
    return rc;
}

/* ---- learning ----------------------------------------------------------- */

/* A video whose embedding or engagement bias changed: its index entry is
 * re-quantised once at the next rec_engine_tick (every second), not after
 * every event — head videos get hundreds of events a second. The index only
 * picks candidates; ranking scores them with the current model, so a
 * candidate list up to a second old changes nothing a user can see, while
 * the user's own state (embedding, session) is always current. */
static void refresh_video(struct rec_engine *e, uint32_t row)
{
    struct video_row *v = &e->videos.rows[row];
    if (v->dirty)
        return;
    if (e->dirty_count == e->dirty_cap) {
        uint32_t cap = e->dirty_cap ? e->dirty_cap * 2 : 4096;
        void *p = e->dirty;
        if (reel_array_grow(&p, cap, sizeof *e->dirty) < 0) {
            ann_update(&e->ann, &e->videos, row, engine_video_bias(e, row));
            return;
        }
        e->dirty = p;
        e->dirty_cap = cap;
    }
    v->dirty = 1;
    e->dirty[e->dirty_count++] = row;
}

void engine_flush_dirty(struct rec_engine *e)
{
    for (uint32_t i = 0; i < e->dirty_count; i++) {
        /* Hundreds of thousands of rows a second, scattered: fetch each
         * video's row and embedding 8 rows ahead, then 4 ahead (the row now
         * in cache) the index entry it is re-quantised into. */
        if (i + 8 < e->dirty_count) {
            uint32_t r = e->dirty[i + 8];
            rec_prefetch_span(&e->videos.rows[r], sizeof e->videos.rows[r]);
            rec_prefetch_span(videos_emb(&e->videos, r), e->videos.dim * sizeof(float));
        }
        if (i + 4 < e->dirty_count) {
            const struct video_row *v = &e->videos.rows[e->dirty[i + 4]];
            if (v->ann_list < e->ann.nlists) {
                const struct ann_list *l = &e->ann.lists[v->ann_list];
                /* The entry's codes are spread through its block (ann.c). */
                size_t block = (size_t)ANN_BLOCK * e->ann.dim;
                rec_prefetch_span(l->codes + (size_t)(v->ann_pos / ANN_BLOCK) * block, block);
                __builtin_prefetch(l->scales + v->ann_pos, 1);
                __builtin_prefetch(l->biases + v->ann_pos, 1);
            }
        }
        uint32_t row = e->dirty[i];
        e->videos.rows[row].dirty = 0;
        ann_update(&e->ann, &e->videos, row, engine_video_bias(e, row));
    }
    e->dirty_count = 0;
}

static void watch_step(struct rec_engine *e, uint32_t urow, uint32_t vrow, float target,
                       float weight)
{
    model_watch_step(&e->model, &e->cfg, &e->users, urow, &e->videos, &e->tags, vrow, target,
                     weight);
}

/* A sampled negative nudges a random video's embedding a little; its index
 * copy is refreshed at that video's next own event or at re-training, which
 * saves a cache miss per negative on the learning path. */
static void engage_step(struct rec_engine *e, uint32_t urow, uint32_t vrow, float label,
                        float weight, int sampled)
{
    model_engage_step(&e->model, &e->cfg, &e->users, urow, &e->videos, vrow, label, weight,
                      sampled);
    if (!sampled)
        refresh_video(e, vrow);
}

/* Judges a fresh video once it has had its first batch of impressions. */
static void judge_fresh(struct rec_engine *e, uint32_t row)
{
    struct video_row *v = &e->videos.rows[row];
    float mean = v->value_n ? v->value_sum / (float)v->value_n : 0;
    int promoted = mean >= (float)(e->cfg.fresh_promote * e->model.mu);
    fresh_leave(&e->fresh, &e->videos, row, promoted ? FRESH_PROMOTED : FRESH_RETIRED);
    if (!promoted) {
        ann_remove(&e->ann, &e->videos, row);
        trending_remove(&e->trending, v, row);
    }
}

static void record_value(struct rec_engine *e, uint32_t vrow, float ratio)
{
    struct video_row *v = &e->videos.rows[vrow];
    v->value_sum += ratio < POPULAR_CAP ? ratio : POPULAR_CAP;
    v->value_n++;
    trending_popular(&e->trending, vrow, model_popular(&e->model, v, (float)e->cfg.bias_prior));
}

/* Implicit negatives: videos drawn uniformly that the user has not been shown. */
static void sample_negatives(struct rec_engine *e, struct session *s, uint32_t urow,
                             uint32_t vrow)
{
    if (e->videos.live < 2)
        return;
    for (unsigned i = 0; i < e->cfg.negatives; i++) {
        uint32_t r = (uint32_t)(model_rand(&e->model) % e->videos.used);
        if (r == vrow || !videos_live(&e->videos, r) ||
            (s && seen_has(&s->seen, e->videos.rows[r].id)))
            continue;
        engage_step(e, urow, r, 0.0f, (float)e->cfg.negative_weight, 1);
    }
}

static int in_recent(const struct session *s, uint32_t vrow)
{
    for (unsigned k = 0; k < s->recent_count; k++)
        if (s->recent[(s->recent_head + SESSION_RECENT_MAX - 1 - k) % SESSION_RECENT_MAX] == vrow)
            return 1;
    return 0;
}

/* A positive: the engagement head learns it, and (first time while the
 * session remembers) co-engagement, trending and the negatives follow. */
static void engagement(struct rec_engine *e, struct session *s, uint32_t urow, uint32_t vrow,
                       float trend_weight, int64_t at_ms)
{
    struct video_row *v = &e->videos.rows[vrow];
    engage_step(e, urow, vrow, 1.0f, 1.0f, 0);
    if (!s || !in_recent(s, vrow)) {
        video_engaged_set(&e->videos.engaged[vrow], e->videos.engaged[vrow].users + 1);
        if (s) {
            unsigned n = s->recent_count < e->cfg.coengagement_window
                             ? s->recent_count
                             : e->cfg.coengagement_window;
            float weight = 1.0f;
            for (unsigned k = 0; k < n; k++) {
                uint32_t w = s->recent[(s->recent_head + SESSION_RECENT_MAX - 1 - k) %
                                       SESSION_RECENT_MAX];
                if (videos_live(&e->videos, w))
                    coeng_add_pair(&e->coeng, w, vrow, weight);
                weight *= (float)e->cfg.coengagement_decay;
            }
        }
        sample_negatives(e, s, urow, vrow);
    }
    if (s) {
        session_push_recent(s, vrow, e->cfg.recent_engagements);
        session_creator_add(s, v->creator_id, 1.0f, at_ms);
    }
    if (v->fresh != FRESH_RETIRED)
        trending_add(&e->trending, &e->videos, vrow, trend_weight, at_ms);
}

/* A watch of a video the feed served as an example for the co-engagement
 * gain (model.h): what the two heads missed by, in score units, against the
 * co-engagement the video was scored with. Only served videos count: the
 * gain weighs the feed's own ranking, and a watch the user found elsewhere
 * (search, a profile, a link) says nothing about it. Runs before the heads
 * learn the watch. */
static void calibrate_coeng(struct rec_engine *e, struct session *s, uint32_t urow, uint32_t vrow,
                            float target, float label)
{
    float x;
    if (!session_served_take(s, vrow, &x))
        return;
    const struct config_rec *cfg = &e->cfg;
    float user_vec[MODEL_DIM_MAX];
    const float *p = NULL;
    float user_bias = 0;
    if (urow != IDMAP_NONE) {
        model_user_vector(&e->users, urow, user_vec);
        p = user_vec;
        user_bias = users_head(&e->users, urow)->bias;
    }
    float value = model_value(&e->model, &e->videos, &e->tags, vrow, user_bias);
    float prob = model_sigmoid(model_engage_logit(&e->model, &e->videos, vrow, p));
    float residual =
        (float)cfg->weight_watch * (target - value) + (float)cfg->weight_engage * (label - prob);
    model_coeng_observe(&e->model, cfg->weight_coengagement, x, residual);
}

static void drop_pending(struct session *s, uint32_t vrow)
{
    for (unsigned i = 0; i < s->pending_count; i++) {
        if (s->pending[i].video_row == vrow) {
            s->pending[i] = s->pending[--s->pending_count];
            return;
        }
    }
}

/* Impressions nothing followed for `unengaged` become negatives of both heads. */
static void settle_pending(struct rec_engine *e, struct session *s, uint32_t urow, int64_t now_ms,
                           int force_one)
{
    int64_t after = (int64_t)e->cfg.unengaged_s * 1000;
    for (unsigned i = 0; i < s->pending_count;) {
        struct pending_impression *p = &s->pending[i];
        int due = now_ms - p->at_ms >= after || (force_one && i == 0);
        if (!due) {
            i++;
            continue;
        }
        force_one = 0;
        uint32_t r = p->video_row;
        s->pending[i] = s->pending[--s->pending_count];
        float w = (float)e->cfg.unengaged_weight;
        if (videos_live(&e->videos, r) && w > 0) {
            watch_step(e, urow, r, 0.0f, w);
            engage_step(e, urow, r, 0.0f, w, 0);
            record_value(e, r, 0.0f);
        }
    }
}

/* log_pos: the event's log offset + 1, or 0 (not from the log). */
static int apply(struct rec_engine *e, const struct event *ev, uint64_t log_pos)
{
    if (ev->user_id == 0 || ev->type < EVENT_IMPRESSION || ev->type > EVENT_TYPE_MAX)
        return REC_EINVAL;
    const struct config_rec *cfg = &e->cfg;
    int64_t now = ev->at_ms;
    if (now > e->clock_ms)
        e->clock_ms = now;
    uint32_t urow = users_sight(&e->users, ev->user_id, engine_day(now), cfg->admit_after);
    if (urow != IDMAP_NONE && users_head(&e->users, urow)->scale == 0)
        model_user_init(&e->users, urow, ev->user_id);

    uint32_t vrow = ev->video_id ? videos_find(&e->videos, ev->video_id) : IDMAP_NONE;
    if (vrow != IDMAP_NONE && !videos_live(&e->videos, vrow))
        vrow = IDMAP_NONE;
    uint64_t creator = vrow != IDMAP_NONE ? e->videos.rows[vrow].creator_id : ev->creator_id;
    if (ev->type == EVENT_FOLLOW || ev->type == EVENT_UNFOLLOW) {
        if (ev->creator_id)
            creator = ev->creator_id;
        if (creator && creator != ev->user_id) {
            struct prefs_entry *pe = prefs_get(&e->prefs, ev->user_id, ev->type == EVENT_FOLLOW);
            if (pe && ev->type == EVENT_FOLLOW && prefs_follow(pe, creator) < 0)
                return REC_ENOMEM;
            if (pe && ev->type == EVENT_UNFOLLOW) {
                prefs_unfollow(pe, creator);
                prefs_release_if_empty(&e->prefs, ev->user_id);
            }
        }
        if (vrow == IDMAP_NONE)
            return 0;
    }
    if (vrow == IDMAP_NONE) {
        e->unknown_video_events++;
        return REC_ENOENT;
    }
    struct video_row *v = &e->videos.rows[vrow];

    /* The exclusive engine lock is held: no feed runs, the shard needs no lock. */
    struct session_shard *sh = session_shard_of(&e->sessions, ev->user_id);
    struct session *s = session_get(&e->sessions, sh, ev->user_id, now, 1, engine_video_row_cb,
                                    engine_video_id_cb, e);
    if (s && log_pos) {
        /* Already in the session: a copy spilled after the snapshot being
         * replayed from (a crash). The model learns it, the session not
         * twice. */
        if (log_pos <= s->log_next)
            s = NULL;
        else
            s->log_next = log_pos;
    }
    if (s && s->pending_count)
        settle_pending(e, s, urow, now, 0);

    switch (ev->type) {
    case EVENT_IMPRESSION:
        v->impressions++;
        e->model.impressions++;
        if (s) {
            seen_add(&s->seen, v->id, cfg->seen_capacity);
            if (s->pending_count == SESSION_PENDING)
                settle_pending(e, s, urow, now, 1);
            s->pending[s->pending_count].video_row = vrow;
            s->pending[s->pending_count].at_ms = now;
            s->pending_count++;
        }
        if (v->fresh == FRESH_POOL && v->impressions >= cfg->fresh_budget)
            judge_fresh(e, vrow);
        break;
    case EVENT_PLAY:
        break;
    case EVENT_WATCH: {
        uint32_t duration = v->duration_ms ? v->duration_ms : ev->duration_ms;
        if (!duration)
            return REC_EINVAL;
        float ratio = (float)ev->watched_ms / (float)duration;
        float target = ratio < (float)cfg->watch_cap ? ratio : (float)cfg->watch_cap;
        if (s) {
            drop_pending(s, vrow);
            if (cfg->weight_coengagement > 0)
                calibrate_coeng(e, s, urow, vrow, target,
                                ratio >= (float)cfg->engaged_ratio ? 1.0f : 0.0f);
        }
        watch_step(e, urow, vrow, target, 1.0f);
        record_value(e, vrow, ratio);
        if (ratio >= (float)cfg->engaged_ratio)
            engagement(e, s, urow, vrow, target, now);
        else
            engage_step(e, urow, vrow, 0.0f, 1.0f, 0);
        break;
    }
    case EVENT_SKIP:
        if (s) {
            drop_pending(s, vrow);
            session_creator_add(s, v->creator_id, -1.0f, now);
        }
        watch_step(e, urow, vrow, 0.0f, (float)cfg->skip_weight);
        engage_step(e, urow, vrow, 0.0f, (float)cfg->skip_weight, 0);
        record_value(e, vrow, 0.0f);
        break;
    case EVENT_NOT_INTERESTED: {
        if (s) {
            drop_pending(s, vrow);
            session_creator_add(s, v->creator_id, -4.0f, now);
        }
        struct prefs_entry *pe = prefs_get(&e->prefs, ev->user_id, 1);
        if (!pe || (v->creator_id && prefs_block(pe, v->creator_id) < 0))
            return REC_ENOMEM;
        watch_step(e, urow, vrow, 0.0f, (float)cfg->not_interested_weight);
        engage_step(e, urow, vrow, 0.0f, (float)cfg->not_interested_weight, 0);
        break;
    }
    case EVENT_LIKE:
    case EVENT_SHARE:
    case EVENT_COMMENT:
    case EVENT_FOLLOW:
        if (ev->type == EVENT_LIKE) {
            v->likes++;
            e->model.likes++;
        } else if (ev->type == EVENT_SHARE) {
            v->shares++;
            e->model.shares++;
        } else if (ev->type == EVENT_COMMENT) {
            v->comments++;
            e->model.comments++;
        } else {
            v->follows++;
        }
        if (s)
            drop_pending(s, vrow);
        engagement(e, s, urow, vrow, ev->type == EVENT_SHARE ? 3.0f : 2.0f, now);
        break;
    case EVENT_UNLIKE:
        if (v->likes) {
            v->likes--;
            e->model.likes--;
        }
        break;
    case EVENT_UNFOLLOW:
        break;
    }
    e->events++;
    return 0;
}

int rec_engine_observe(struct rec_engine *e, const struct event *ev)
{
    if (!ev)
        return REC_EINVAL;
    pthread_rwlock_wrlock(&e->lock);
    int rc = apply(e, ev, 0);
    pthread_rwlock_unlock(&e->lock);
    return rc;
}

/* Step 2 of fetching ahead (rec_engine_observe_batch), with the map slots in
 * cache: the user's row, the video's row and embedding, the session. */
static void prefetch_rows(struct rec_engine *e, const struct event *ev)
{
    uint32_t u = users_find(&e->users, ev->user_id);
    if (u != IDMAP_NONE)
        rec_prefetch_span(users_head(&e->users, u), e->users.stride);
    uint32_t v = ev->video_id ? videos_find(&e->videos, ev->video_id) : IDMAP_NONE;
    if (v < e->videos.used) {
        rec_prefetch_span(&e->videos.rows[v], sizeof e->videos.rows[v]);
        rec_prefetch_span(videos_emb(&e->videos, v), e->videos.dim * sizeof(float));
    }
    session_prefetch_state(&e->sessions, ev->user_id, 1);
}

size_t rec_engine_observe_batch(struct rec_engine *e, const struct event *events, size_t n)
{
    return rec_engine_observe_log(e, events, NULL, n);
}

size_t rec_engine_observe_log(struct rec_engine *e, const struct event *events,
                              const uint64_t *offsets, size_t n)
{
    size_t applied = 0;
    for (size_t i = 0; i < n; i += REC_BATCH_MAX) {
        size_t end = i + REC_BATCH_MAX < n ? i + REC_BATCH_MAX : n;
        pthread_rwlock_wrlock(&e->lock);
        for (size_t j = i; j < end; j++) {
            /* At ten million users an event costs its cache misses more than
             * its arithmetic, and most depend on the one before (map slot ->
             * row, session -> its seen filter). So each is fetched in steps
             * ahead of apply: the map slots 8 events ahead, the rows and the
             * session they lead to 4 ahead, the seen filter 2 ahead. Lookups
             * here are hints only; apply does its own (an event can change
             * what a later one finds). */
            if (j + 8 < n) {
                idmap_prefetch(&e->users.map, events[j + 8].user_id);
                idmap_prefetch(&e->videos.map, events[j + 8].video_id);
                session_prefetch(&e->sessions, events[j + 8].user_id);
            }
            if (j + 4 < n)
                prefetch_rows(e, &events[j + 4]);
            if (j + 2 < n)
                session_prefetch_state(&e->sessions, events[j + 2].user_id, 2);
            if (apply(e, &events[j], offsets ? offsets[j] + 1 : 0) == 0)
                applied++;
        }
        pthread_rwlock_unlock(&e->lock);
    }
    return applied;
}

/* ---- users -------------------------------------------------------------- */

int rec_user_set_interests(struct rec_engine *e, uint64_t user_id, const char *const *hashtags,
                           size_t count)
{
    if (user_id == 0 || count > REC_INTERESTS_MAX || (count && !hashtags))
        return REC_EINVAL;
    int rc = 0;
    pthread_rwlock_wrlock(&e->lock);
    struct prefs_entry *pe = prefs_get(&e->prefs, user_id, count > 0);
    if (!pe) {
        rc = count ? REC_ENOMEM : 0;
        goto out;
    }
    pe->interest_count = 0;
    for (size_t i = 0; i < count; i++) {
        char name[REC_HASHTAG_MAX];
        if (!hashtags[i] || tags_normalise(hashtags[i], name) == 0)
            continue;
        uint32_t tag = tags_intern(&e->tags, name);
        int dup = 0;
        for (unsigned k = 0; k < pe->interest_count; k++)
            dup |= pe->interests[k] == tag;
        if (tag && !dup)
            pe->interests[pe->interest_count++] = tag;
    }
    prefs_release_if_empty(&e->prefs, user_id);
out:
    pthread_rwlock_unlock(&e->lock);
    return rc;
}

int rec_user_forget(struct rec_engine *e, uint64_t user_id)
{
    if (user_id == 0)
        return REC_EINVAL;
    pthread_rwlock_wrlock(&e->lock);
    int held = 0;
    held |= users_remove(&e->users, user_id) == 0;
    held |= prefs_forget(&e->prefs, user_id) == 0;
    struct session_shard *sh = session_shard_of(&e->sessions, user_id);
    held |= session_forget(&e->sessions, sh, user_id) == 0;
    pthread_rwlock_unlock(&e->lock);
    return held ? 0 : REC_ENOENT;
}

int rec_user_admitted(struct rec_engine *e, uint64_t user_id)
{
    pthread_rwlock_rdlock(&e->lock);
    int admitted = users_find(&e->users, user_id) != IDMAP_NONE;
    pthread_rwlock_unlock(&e->lock);
    return admitted;
}

/* ---- maintenance -------------------------------------------------------- */

void rec_engine_tick(struct rec_engine *e, int64_t now_ms)
{
    pthread_rwlock_wrlock(&e->lock);
    if (now_ms > e->clock_ms)
        e->clock_ms = now_ms;
    engine_flush_dirty(e);
    uint16_t today = engine_day(now_ms);
    uint16_t min_day = today > e->cfg.expire_days ? (uint16_t)(today - e->cfg.expire_days) : 0;
    users_expire_step(&e->users, min_day, EXPIRE_BUDGET);
    if (now_ms - e->last_age_ms >= (int64_t)e->cfg.expire_days * 86400000LL / 4) {
        if (e->last_age_ms)
            users_age_sightings(&e->users);
        e->last_age_ms = now_ms;
    }
    int64_t idle_before = now_ms - (int64_t)e->cfg.session_ttl_s * 1000;
    for (int i = 0; i < SESSION_SHARDS; i++)
        session_expire(&e->sessions, &e->sessions.shards[i], idle_before, SESSION_BUDGET,
                       engine_video_id_cb, e);
    /* Fresh videos past their age leave the pool, judged on what they got. */
    int64_t too_old = now_ms - (int64_t)e->cfg.fresh_max_age_s * 1000;
    for (unsigned n = 0; n < FRESH_BUDGET && e->fresh.count; n++) {
        if (e->fresh.sweep >= e->fresh.count)
            e->fresh.sweep = 0;
        uint32_t row = e->fresh.rows[e->fresh.sweep];
        if (e->videos.rows[row].created_ms < too_old)
            judge_fresh(e, row); /* moves another entry into this position */
        else
            e->fresh.sweep++;
    }
    if (ann_wants_training(&e->ann)) {
        float *biases = reel_malloc((size_t)e->videos.used * sizeof *biases);
        if (biases) {
            for (uint32_t r = 0; r < e->videos.used; r++)
                biases[r] = engine_video_bias(e, r);
            ann_train(&e->ann, &e->videos, biases, e->cfg.seed + e->ann.count);
            reel_free(biases);
        }
    }
    pthread_rwlock_unlock(&e->lock);
}

void rec_engine_memory(struct rec_engine *e, struct rec_memory *out)
{
    pthread_rwlock_wrlock(&e->lock);
    memset(out, 0, sizeof *out);
    out->users = e->users.map.count;
    out->videos = e->videos.live;
    out->sessions = session_count(&e->sessions);
    out->hashtags = e->tags.count;
    out->user_bytes = users_bytes(&e->users);
    out->video_bytes = videos_bytes(&e->videos) + ann_bytes(&e->ann) + coeng_bytes(&e->coeng);
    out->session_bytes = session_bytes(&e->sessions);
    out->other_bytes = prefs_bytes(&e->prefs) + creators_bytes(&e->creators) +
                       trending_bytes(&e->trending) + fresh_bytes(&e->fresh) +
                       tags_bytes(&e->tags);
    pthread_rwlock_unlock(&e->lock);
}
