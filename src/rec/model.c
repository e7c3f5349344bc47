/*
 * model.c — see model.h.
 *
 * The user embedding is stored as int8 with one float scale per row. A step
 * dequantises it, applies the float update, and quantises it back with
 * stochastic rounding: each value rounds up with probability equal to its
 * fraction, so an update smaller than one quantum still moves the value by
 * the right amount on average instead of vanishing (the classic failure of
 * low-precision SGD). Randomness comes from the model's own xorshift stream,
 * which the snapshot stores, so a replay after load is bit-identical.
 *
 * The engagement step's embedding work (dequantise, dot product, update,
 * requantise) is most of the learning path's instructions; where the CPU has
 * AVX2 it runs 8 values at a time (the *_avx2 kernels). They do the very
 * arithmetic of the scalar code, value by value: every product, update and
 * rounding is element-wise, the dot product keeps the same eight running sums
 * and folds them in the same order, and there is no FMA (one rounding fewer
 * would change the result).
 * So both paths learn bit-identical models (tests/unit/rec/test_tables.c).
 */
#include "rec/model.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

void model_init(struct model *model, unsigned dim, uint64_t seed)
{
    memset(model, 0, sizeof *model);
    model->dim = dim;
    model->rng = rec_mix64(seed + 0x243f6a8885a308d3ULL) | 1;
    model->coeng_gain = 1.0f;
    model->avx2 = __builtin_cpu_supports("avx2");
}

void model_coeng_observe(struct model *model, double weight, float x, float residual)
{
    if (weight <= 0)
        return;
    model->coeng_n += 1;
    model->coeng_sx += (double)x;
    model->coeng_sr += (double)residual;
    model->coeng_sxx += (double)x * (double)x;
    model->coeng_sxr += (double)x * (double)residual;
    double n = model->coeng_n;
    double var = model->coeng_sxx - model->coeng_sx * model->coeng_sx / n;
    double cov = model->coeng_sxr - model->coeng_sx * model->coeng_sr / n;
    if (var < 0)
        var = 0;
    /* Slope with the configured weight as prior, in units of that weight. */
    double slope = (MODEL_COENG_PRIOR * weight + cov) / (MODEL_COENG_PRIOR + var);
    double gain = slope / weight;
    if (gain < 0)
        gain = 0;
    if (gain > MODEL_COENG_GAIN_MAX)
        gain = MODEL_COENG_GAIN_MAX;
    model->coeng_gain = (float)gain;
}

/* A small value in [-0.05, 0.05) from a hash. */
static float init_value(uint64_t h)
{
    return (float)((double)(h >> 40) / (double)(1ULL << 24) - 0.5) * 0.1f;
}

void model_user_init(const struct user_table *users, uint32_t row, uint64_t id)
{
    float v[MODEL_DIM_MAX];
    uint64_t h = rec_mix64(id ^ 0x7565736572ULL);
    float max = 0;
    for (unsigned i = 0; i < users->dim; i++) {
        h = rec_mix64(h + i);
        v[i] = init_value(h);
        if (fabsf(v[i]) > max)
            max = fabsf(v[i]);
    }
    struct user_head *head = users_head(users, row);
    int8_t *e = users_emb(users, row);
    head->scale = max > 0 ? max / 127.0f : 1.0f / 127.0f;
    for (unsigned i = 0; i < users->dim; i++)
        e[i] = (int8_t)lrintf(v[i] / head->scale);
}

void model_video_init(const struct video_table *videos, uint32_t row, uint64_t id)
{
    float *q = videos_emb(videos, row);
    uint64_t h = rec_mix64(id ^ 0x766964656fULL);
    for (unsigned i = 0; i < videos->dim; i++) {
        h = rec_mix64(h + i);
        q[i] = init_value(h);
    }
}

void model_user_vector(const struct user_table *users, uint32_t row, float *out)
{
    const struct user_head *head = users_head(users, row);
    const int8_t *e = users_emb(users, row);
    for (unsigned i = 0; i < users->dim; i++)
        out[i] = (float)e[i] * head->scale;
}

static void user_store(struct model *model, const struct user_table *users, uint32_t row,
                       const float *v)
{
    float max = 0;
    for (unsigned i = 0; i < users->dim; i++)
        if (fabsf(v[i]) > max)
            max = fabsf(v[i]);
    struct user_head *head = users_head(users, row);
    int8_t *e = users_emb(users, row);
    if (max == 0) {
        memset(e, 0, users->dim);
        return;
    }
    float scale = max / 127.0f;
    float inv = 1.0f / scale;
    head->scale = scale;
    uint64_t bits = 0;
    for (unsigned i = 0; i < users->dim; i++) {
        if ((i & 3) == 0)
            bits = model_rand(model);
        float u = (float)(bits & 0xffff) * (1.0f / 65536.0f);
        bits >>= 16;
        float x = floorf(v[i] * inv + u);
        if (x > 127)
            x = 127;
        if (x < -127)
            x = -127;
        e[i] = (int8_t)x;
    }
}

/* dim is a multiple of 8 (engine.c checks). Eight running sums, one per
 * lane of an AVX register, folded in the order of the AVX2 kernel below
 * (upper half onto lower, then pairs): the scoring loop runs at the speed of
 * the multiplies rather than of 32 additions in a row, and both paths still
 * give the same bits. */
float model_dot(const float *a, const float *b, unsigned dim)
{
    float l[8] = {0};
    for (unsigned i = 0; i < dim; i += 8)
        for (unsigned k = 0; k < 8; k++)
            l[k] += a[i + k] * b[i + k];
    return ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));
}

float model_tag_prior(const struct tag_table *tags, const struct video_row *video)
{
    if (!video->tag_count)
        return 0;
    float s = 0;
    for (unsigned i = 0; i < video->tag_count; i++)
        s += tags->rows[video->tags[i]].bias;
    return s / (float)video->tag_count;
}

float model_value(const struct model *model, const struct video_table *videos,
                  const struct tag_table *tags, uint32_t video_row, float user_bias)
{
    const struct video_row *v = &videos->rows[video_row];
    return (float)model->mu + user_bias + v->bias + model_tag_prior(tags, v);
}

float model_engage_logit(const struct model *model, const struct video_table *videos,
                         uint32_t video_row, const float *user_vec)
{
    float z = model->engage_offset + videos->rows[video_row].engage_bias;
    if (user_vec)
        z += model_dot(user_vec, videos_emb(videos, video_row), videos->dim);
    return z;
}

static float bias_rate(double weight_sum, const struct config_rec *cfg)
{
    double r = 1.0 / (weight_sum + cfg->bias_prior);
    return (float)(r > cfg->bias_rate_min ? r : cfg->bias_rate_min);
}

void model_watch_step(struct model *model, const struct config_rec *cfg, struct user_table *users,
                      uint32_t user_row, struct video_table *videos, struct tag_table *tags,
                      uint32_t video_row, float target, float weight)
{
    struct video_row *v = &videos->rows[video_row];
    struct user_head *head = user_row != IDMAP_NONE ? users_head(users, user_row) : NULL;
    float user_bias = head ? head->bias : 0;
    float err = target - model_value(model, videos, tags, video_row, user_bias);
    model->mu_weight += (double)weight;
    model->mu += (double)weight * ((double)target - model->mu) / model->mu_weight;
    v->bias += weight * err * bias_rate((double)v->feedback, cfg);
    v->feedback += weight;
    for (unsigned i = 0; i < v->tag_count; i++) {
        struct tag_row *t = &tags->rows[v->tags[i]];
        t->bias += weight * (err - t->bias * (float)cfg->regularization) * 0.01f /
                   (float)v->tag_count;
    }
    if (head) {
        head->bias += weight * err * bias_rate(head->count, cfg);
        if (head->count < UINT16_MAX)
            head->count++;
    }
}

/* model_user_vector into p and model_dot(p, q): the products and running
 * sums 8 at a time, folded in model_dot's order. */
__attribute__((target("avx2"))) static float user_dot_avx2(const struct user_table *users,
                                                           uint32_t row, const float *q, float *p)
{
    const int8_t *e = users_emb(users, row);
    __m256 scale = _mm256_set1_ps(users_head(users, row)->scale);
    __m256 acc = _mm256_setzero_ps();
    for (unsigned i = 0; i < users->dim; i += 8) {
        __m128i b = _mm_loadl_epi64((const __m128i *)(const void *)(e + i));
        __m256 pv = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b)), scale);
        _mm256_storeu_ps(p + i, pv);
        acc = _mm256_add_ps(acc, _mm256_mul_ps(pv, _mm256_loadu_ps(q + i)));
    }
    /* (l0+l4, l1+l5, l2+l6, l3+l7), then (.. + l2+l6, .. + l3+l7), then one. */
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
    return _mm_cvtss_f32(h);
}

/* The embedding update of model_engage_step and user_store, 8 at a time.
 * max_ps(a, m) is "a > m ? a : m", user_store's comparison; the random
 * fractions are the same 16-bit slices of the same model_rand draws. */
__attribute__((target("avx2"))) static void sgd_store_avx2(struct model *model,
                                                           const struct user_table *users,
                                                           uint32_t row, float *p, float *q,
                                                           float g, float lr, float reg)
{
    unsigned dim = users->dim;
    __m256 g8 = _mm256_set1_ps(g), lr8 = _mm256_set1_ps(lr), reg8 = _mm256_set1_ps(reg);
    __m256 sign = _mm256_set1_ps(-0.0f), max8 = _mm256_setzero_ps();
    for (unsigned i = 0; i < dim; i += 8) {
        __m256 pv = _mm256_loadu_ps(p + i), qv = _mm256_loadu_ps(q + i);
        __m256 np = _mm256_add_ps(
            pv, _mm256_mul_ps(lr8, _mm256_sub_ps(_mm256_mul_ps(g8, qv), _mm256_mul_ps(reg8, pv))));
        __m256 nq = _mm256_add_ps(
            qv, _mm256_mul_ps(lr8, _mm256_sub_ps(_mm256_mul_ps(g8, pv), _mm256_mul_ps(reg8, qv))));
        _mm256_storeu_ps(p + i, np);
        _mm256_storeu_ps(q + i, nq);
        max8 = _mm256_max_ps(_mm256_andnot_ps(sign, np), max8);
    }
    float m[8], max = 0;
    _mm256_storeu_ps(m, max8);
    for (int k = 0; k < 8; k++)
        if (m[k] > max)
            max = m[k];
    struct user_head *head = users_head(users, row);
    int8_t *e = users_emb(users, row);
    if (max == 0) {
        memset(e, 0, dim);
        return;
    }
    float scale = max / 127.0f;
    float inv = 1.0f / scale;
    head->scale = scale;
    __m256 inv8 = _mm256_set1_ps(inv), unit = _mm256_set1_ps(1.0f / 65536.0f);
    __m256 lo = _mm256_set1_ps(-127.0f), hi = _mm256_set1_ps(127.0f);
    for (unsigned i = 0; i < dim; i += 8) {
        uint64_t r0 = model_rand(model), r1 = model_rand(model);
        __m128i bits = _mm_set_epi64x((long long)r1, (long long)r0);
        __m256 u = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu16_epi32(bits)), unit);
        __m256 x = _mm256_floor_ps(_mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(p + i), inv8), u));
        x = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
        __m256i xi = _mm256_cvttps_epi32(x);
        __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(xi), _mm256_extracti128_si256(xi, 1));
        _mm_storel_epi64((__m128i *)(void *)(e + i), _mm_packs_epi16(w, w));
    }
}

void model_engage_step(struct model *model, const struct config_rec *cfg,
                       struct user_table *users, uint32_t user_row, struct video_table *videos,
                       uint32_t video_row, float label, float weight, int sampled)
{
    unsigned dim = videos->dim;
    struct video_row *v = &videos->rows[video_row];
    float *q = videos_emb(videos, video_row);
    float p[MODEL_DIM_MAX];
    int has_user = user_row != IDMAP_NONE;
    float z;
    if (has_user && model->avx2) {
        z = model->engage_offset + v->engage_bias;
        z += user_dot_avx2(users, user_row, q, p);
    } else {
        if (has_user)
            model_user_vector(users, user_row, p);
        z = model_engage_logit(model, videos, video_row, has_user ? p : NULL);
    }
    float g = weight * (label - model_sigmoid(z));
    float lr = (float)cfg->learning_rate;
    float reg = (float)cfg->regularization;
    if (!sampled) {
        v->engage_bias += (g - reg * v->engage_bias) * bias_rate((double)v->engage_n, cfg);
        v->engage_n += weight;
    }
    if (!has_user)
        return;
    if (model->avx2) {
        sgd_store_avx2(model, users, user_row, p, q, g, lr, reg);
        return;
    }
    for (unsigned i = 0; i < dim; i++) {
        float pi = p[i];
        p[i] += lr * (g * q[i] - reg * pi);
        q[i] += lr * (g * pi - reg * q[i]);
    }
    user_store(model, users, user_row, p);
}

static float rate(uint32_t count, uint32_t impressions, uint64_t total, uint64_t total_imp,
                  float prior)
{
    float global = total_imp ? (float)total / (float)total_imp : 0;
    return ((float)count + prior * global) / ((float)impressions + prior);
}

float model_like_rate(const struct model *model, const struct video_row *video, float prior)
{
    return rate(video->likes, video->impressions, model->likes, model->impressions, prior);
}

float model_share_rate(const struct model *model, const struct video_row *video, float prior)
{
    return rate(video->shares, video->impressions, model->shares, model->impressions, prior);
}

float model_comment_rate(const struct model *model, const struct video_row *video, float prior)
{
    return rate(video->comments, video->impressions, model->comments, model->impressions, prior);
}

float model_popular(const struct model *model, const struct video_row *video, float prior)
{
    return (video->value_sum + prior * (float)model->mu) / ((float)video->value_n + prior);
}
