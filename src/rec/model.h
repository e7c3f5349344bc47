/*
 * model.h — the learned model and the online step every event takes.
 *
 * Two heads, as short-video rankers have (watch time and engagement):
 *
 *   watch value     value(u, v) = mu + b_u + b_v + t_v
 *                   the expected watch ratio (capped at watch_cap) of v for
 *                   u once shown: mu the global mean, b_u how much u watches,
 *                   b_v the video's quality, t_v the mean bias of its
 *                   hashtags (the prior of a new video). Squared loss. The
 *                   biases step by 1/(n + bias_prior) (floor bias_rate_min):
 *                   a shrunk running mean, i.e. a video's quality is learnt
 *                   as fast as its evidence allows.
 *   engagement      P(u engages with v) = sigmoid(c + e_v + p_u . q_v)
 *                   logistic loss; positives are watches of at least
 *                   engaged_ratio and likes, shares, comments, follows;
 *                   negatives are skips, "not interested", impressions with
 *                   nothing after them, short watches, and `negatives`
 *                   videos drawn uniformly per engagement (implicit
 *                   feedback). This head carries the personal taste: p_u
 *                   (int8 per-row scaled, users.h) and q_v (float) are its
 *                   embeddings, e_v the video's engagement propensity.
 *
 * Per-impression like/share/comment rates are Bayesian per-video counts
 * around the global rates. feed.c combines everything into one score with
 * the [rec] weights.
 *
 * Co-engagement calibration: the co-engagement term of the score is
 * weight_coengagement x coeng_gain x co-engagement. The gain is learnt from
 * outcomes: every watch is an example of how much the two heads missed by
 * (the score residual, in score units), and the slope of that residual on
 * the video's co-engagement with the user's recent engagements (a Bayesian
 * linear regression with intercept whose prior is the configured weight,
 * worth MODEL_COENG_PRIOR of squared spread) says how much co-engagement
 * adds to what the heads already predict. Where co-engaged videos are
 * engaged with beyond their predictions the gain stays near 1 (or grows,
 * up to MODEL_COENG_GAIN_MAX); where co-engagement predicts nothing beyond
 * the heads (a population without much taste structure) it sinks to 0
 * instead of pushing noise into every page.
 */
#ifndef REEL_REC_MODEL_H
#define REEL_REC_MODEL_H

#include "core/config.h"
#include "rec/tags.h"
#include "rec/users.h"
#include "rec/videos.h"

#include <stdint.h>

#define MODEL_DIM_MAX 64
#define MODEL_COENG_PRIOR 50.0 /* prior weight of the co-engagement gain (x^2 units) */
#define MODEL_COENG_GAIN_MAX 2.0

struct model {
    unsigned dim;
    double mu;              /* weighted mean of watch targets */
    double mu_weight;
    float engage_offset;    /* c: global logit offset (fixed: learning it made the
                               biases drift, ranking worse) */
    uint64_t impressions;   /* totals for the global engagement rates */
    uint64_t likes, shares, comments;
    uint64_t rng;           /* xorshift state: rounding, sampling */
    /* co-engagement calibration: sums over watches of x (co-engagement)
     * and r (score residual), and the gain they give */
    double coeng_n, coeng_sx, coeng_sr, coeng_sxx, coeng_sxr;
    float coeng_gain;
    int avx2;               /* the engagement step's AVX2 kernels run (model.c) */
};

void model_init(struct model *model, unsigned dim, uint64_t seed);

/* Next pseudo-random 64 bits from the model's stream (xorshift64*). Inline:
 * every engagement step draws dim / 4 of them. */
static inline uint64_t model_rand(struct model *model)
{
    uint64_t x = model->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    model->rng = x;
    return x * 0x2545f4914f6cdd1dULL;
}

/* A new user's / video's embedding: small values drawn from the id, so the
 * same id always starts the same way. */
void model_user_init(const struct user_table *users, uint32_t row, uint64_t id);
void model_video_init(const struct video_table *videos, uint32_t row, uint64_t id);

/* Dequantises a user's embedding into out[dim]. */
void model_user_vector(const struct user_table *users, uint32_t row, float *out);

/* Mean bias of the video's hashtags. */
float model_tag_prior(const struct tag_table *tags, const struct video_row *video);

/* The watch value of a video for a user whose bias is user_bias. */
float model_value(const struct model *model, const struct video_table *videos,
                  const struct tag_table *tags, uint32_t video_row, float user_bias);
/* The engagement logit; user_vec NULL for users without model state. */
float model_engage_logit(const struct model *model, const struct video_table *videos,
                         uint32_t video_row, const float *user_vec);

/* Watch head step: biases move towards target (a capped watch ratio) with
 * weight. user_row may be IDMAP_NONE (not admitted: the video still learns). */
void model_watch_step(struct model *model, const struct config_rec *cfg, struct user_table *users,
                      uint32_t user_row, struct video_table *videos, struct tag_table *tags,
                      uint32_t video_row, float target, float weight);
/* Engagement head step on label 0 or 1 with weight. Without a user row only
 * e_v learns; with sampled == 1 (an implicit negative) only the embeddings. */
void model_engage_step(struct model *model, const struct config_rec *cfg,
                       struct user_table *users, uint32_t user_row, struct video_table *videos,
                       uint32_t video_row, float label, float weight, int sampled);

/* One calibration example of the co-engagement gain: co-engagement x of a
 * watched video with the user's recent engagements and the score residual
 * (outcome minus what the heads predicted, in score units); weight is
 * weight_coengagement. */
void model_coeng_observe(struct model *model, double weight, float x, float residual);

/* Bayesian per-impression rates of the video, around the global rates. */
float model_like_rate(const struct model *model, const struct video_row *video, float prior);
float model_share_rate(const struct model *model, const struct video_row *video, float prior);
float model_comment_rate(const struct model *model, const struct video_row *video, float prior);

/* The popular baseline's score: the video's mean capped watch ratio shrunk
 * towards the global mean with `prior` pseudo-observations. */
float model_popular(const struct model *model, const struct video_row *video, float prior);

float model_dot(const float *a, const float *b, unsigned dim);
static inline float model_sigmoid(float z)
{
    return 1.0f / (1.0f + __builtin_expf(-z));
}

#endif
