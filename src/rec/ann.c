/*
 * ann.c — see ann.h.
 *
 * Kernels use GCC vector extensions (8 floats at a time; dim is a multiple
 * of 8) and are cloned for AVX2 with a run-time switch, so one binary runs
 * everywhere and uses the wide units where present.
 */
#include "rec/ann.h"

#include "core/alloc.h"
#include "rec/idmap.h"
#include "rec/rank.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

typedef float v8f __attribute__((vector_size(32), aligned(4)));

#define CLONES __attribute__((target_clones("avx2", "default")))
#define KMEANS_ROUNDS 5
#define SAMPLE_PER_LIST 32

/* A macro, not a function: a vector passed by value to a function compiled
 * without AVX changes the ABI (clang refuses it inside target_clones). */
#define HSUM(a) (((a)[0] + (a)[1]) + ((a)[2] + (a)[3]) + ((a)[4] + (a)[5]) + ((a)[6] + (a)[7]))

static inline float dot_f32(const float *a, const float *b, unsigned dim)
{
    v8f acc = {0};
    for (unsigned i = 0; i < dim; i += 8)
        acc += *(const v8f *)(a + i) * *(const v8f *)(b + i);
    return HSUM(acc);
}

/* ---- codes --------------------------------------------------------------- */

/* A list keeps its int8 codes in blocks of ANN_BLOCK entries, four
 * dimensions at a time: block b holds dim / 4 groups of 32 bytes, each the
 * four codes of dimensions 4g..4g+3 of its 8 entries in turn. One AVX2
 * multiply of bytes by bytes then gives, for 8 entries at once, the sum over
 * four dimensions (vpmaddubsw and vpmaddwd), with no horizontal sum per
 * video. The bytes are code + 128 (1..255): the multiply wants one unsigned
 * operand, and the rounded query (|q| <= 63, so that two products never
 * overflow 16 bits) is the signed one; the 128 x sum(q) this adds is the same
 * for every entry and taken off once. Capacities are multiples of
 * ANN_BLOCK; lanes past the count hold stale bytes and are never reported. */
static inline size_t code_at(uint32_t pos, unsigned dim, unsigned d)
{
    return (size_t)(pos / ANN_BLOCK) * dim * ANN_BLOCK + (d / 4) * (4 * ANN_BLOCK) +
           (pos % ANN_BLOCK) * 4 + d % 4;
}

void ann_code_get(const struct ann_list *l, unsigned dim, uint32_t pos, int8_t *out)
{
    for (unsigned d = 0; d < dim; d++)
        out[d] = (int8_t)(l->codes[code_at(pos, dim, d)] - 128);
}

void ann_code_set(struct ann_list *l, unsigned dim, uint32_t pos, const int8_t *in)
{
    for (unsigned d = 0; d < dim; d++)
        l->codes[code_at(pos, dim, d)] = (uint8_t)(in[d] + 128);
}

/* ---- the best k ---------------------------------------------------------- */

/* The k best of the entries offered, in rank.h's order (higher score, then
 * lower row), so a search's answer does not depend on the order lists are
 * scanned in. An entry that beats the floor is appended (as its rank_key) to
 * a buffer of k + slack; a full buffer is cut back to its k best
 * (rank_key_select) and the floor becomes the worst of those. That is O(1)
 * per entry amortised, where a heap of k costs log k unpredictable branches
 * per entry that beats its floor, and at a million videos a search offers
 * thousands: the heap's sifting was a quarter of a For You page. */
struct topk {
    size_t k, n, cap;
    uint64_t *keys;
    uint64_t floor_key; /* an entry's key must be above it */
    float floor_score;  /* the floor's score: a cheaper first test */
};

#define TOPK_STACK 2048 /* keys a search keeps on its stack (16 KB) */
#define TOPK_SLACK_MIN 256

/* Keeps the keys in stack (stack_n of them) if k + slack fit, else in
 * memory of its own. Returns 0 or -1 (out of memory). */
static int topk_init(struct topk *t, size_t k, uint64_t *stack, size_t stack_n)
{
    t->k = k;
    t->n = 0;
    t->cap = k + (k > TOPK_SLACK_MIN ? k : TOPK_SLACK_MIN);
    t->floor_key = 0;
    t->floor_score = -INFINITY;
    t->keys = t->cap <= stack_n ? stack : reel_malloc(t->cap * sizeof *t->keys);
    return t->keys ? 0 : -1;
}

static void topk_release(struct topk *t, const uint64_t *stack)
{
    if (t->keys != stack)
        reel_free(t->keys);
}

/* The floor's score first: a NaN fails it, and most entries are rejected
 * without building a key. */
static inline int topk_beats_floor(const struct topk *t, float score, uint32_t row)
{
    return score >= t->floor_score && rank_key(score, row) > t->floor_key;
}

static void topk_cut(struct topk *t)
{
    rank_key_select(t->keys, t->n, t->k);
    t->n = t->k;
    uint64_t worst = t->keys[0];
    for (size_t i = 1; i < t->k; i++)
        worst = t->keys[i] < worst ? t->keys[i] : worst;
    t->floor_key = worst;
    t->floor_score = rank_key_score(worst);
}

/* For an entry that beats the floor. */
static inline void topk_add(struct topk *t, uint32_t row, float score)
{
    t->keys[t->n] = rank_key(score, row);
    if (++t->n == t->cap)
        topk_cut(t);
}

/* The k best, best first, into rows and scores; returns the count. */
static size_t topk_finish(struct topk *t, uint32_t *rows, float *scores)
{
    if (t->n > t->k)
        topk_cut(t);
    rank_key_sort(t->keys, t->n);
    for (size_t i = 0; i < t->n; i++) {
        rows[i] = rank_key_row(t->keys[i]);
        scores[i] = rank_key_score(t->keys[i]);
    }
    return t->n;
}

/* ---- lists -------------------------------------------------------------- */

int ann_init(struct ann_index *ann, unsigned dim)
{
    memset(ann, 0, sizeof *ann);
    if (dim == 0 || dim % 8 || dim > ANN_DIM_MAX)
        return -1;
    ann->dim = dim;
    ann->nlists = 1;
    __builtin_cpu_init();
    ann->avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    ann->lists = reel_calloc(1, sizeof *ann->lists);
    return ann->lists ? 0 : -1;
}

static void list_free(struct ann_list *l)
{
    reel_free(l->rows);
    reel_free(l->codes);
    reel_free(l->scales);
    reel_free(l->biases);
    memset(l, 0, sizeof *l);
}

void ann_clear(struct ann_index *ann)
{
    if (ann->lists)
        for (uint32_t i = 0; i < ann->nlists; i++)
            list_free(&ann->lists[i]);
    reel_free(ann->lists);
    reel_free(ann->centroids);
    reel_free(ann->half_norms);
    memset(ann, 0, sizeof *ann);
}

static int list_reserve(struct ann_list *l, unsigned dim)
{
    if (l->count < l->cap)
        return 0;
    uint32_t cap = l->cap ? l->cap * 2 : 16;
    cap = (cap + ANN_BLOCK - 1) / ANN_BLOCK * ANN_BLOCK;
    void *rows = l->rows, *codes = l->codes, *scales = l->scales, *biases = l->biases;
    if (reel_array_grow(&rows, cap, sizeof *l->rows) < 0)
        return -1;
    l->rows = rows;
    if (reel_array_grow(&codes, (size_t)cap * dim, 1) < 0)
        return -1;
    l->codes = codes;
    if (reel_array_grow(&scales, cap, sizeof *l->scales) < 0)
        return -1;
    l->scales = scales;
    if (reel_array_grow(&biases, cap, sizeof *l->biases) < 0)
        return -1;
    l->biases = biases;
    l->cap = cap;
    return 0;
}

int ann_list_alloc(struct ann_list *l, unsigned dim, uint32_t count)
{
    memset(l, 0, sizeof *l);
    uint32_t cap = count < 16 ? 16 : (count + ANN_BLOCK - 1) / ANN_BLOCK * ANN_BLOCK;
    l->rows = reel_malloc((size_t)cap * sizeof *l->rows);
    l->codes = reel_calloc((size_t)cap * dim, 1);
    l->scales = reel_malloc((size_t)cap * sizeof *l->scales);
    l->biases = reel_malloc((size_t)cap * sizeof *l->biases);
    if (!l->rows || !l->codes || !l->scales || !l->biases) {
        list_free(l);
        return -1;
    }
    l->cap = cap;
    return 0;
}

static void encode(struct ann_list *l, uint32_t pos, const float *q, unsigned dim, float bias)
{
    float max = 0;
    for (unsigned i = 0; i < dim; i++)
        if (fabsf(q[i]) > max)
            max = fabsf(q[i]);
    float scale = max > 0 ? max / 127.0f : 1.0f;
    float inv = 1.0f / scale;
    for (unsigned i = 0; i < dim; i++) {
        float x = q[i] * inv;
        l->codes[code_at(pos, dim, i)] = (uint8_t)((int)(x >= 0 ? x + 0.5f : x - 0.5f) + 128);
    }
    l->scales[pos] = scale;
    l->biases[pos] = bias;
}

CLONES static uint32_t nearest_list(const struct ann_index *ann, const float *q, float bias)
{
    if (ann->nlists == 1)
        return 0;
    unsigned stride = ann->dim + 1;
    uint32_t best = 0;
    float best_score = -INFINITY;
    for (uint32_t c = 0; c < ann->nlists; c++) {
        const float *cen = ann->centroids + (size_t)c * stride;
        /* argmin |x - c|^2 = argmax x.c - |c|^2/2 */
        float s = dot_f32(q, cen, ann->dim) + bias * cen[ann->dim] - ann->half_norms[c];
        if (s > best_score) {
            best_score = s;
            best = c;
        }
    }
    return best;
}

static int file_into(struct ann_index *ann, struct video_table *videos, uint32_t row, float bias,
                     uint32_t list)
{
    struct ann_list *l = &ann->lists[list];
    if (list_reserve(l, ann->dim) < 0)
        return -1;
    uint32_t pos = l->count++;
    l->rows[pos] = row;
    encode(l, pos, videos_emb(videos, row), ann->dim, bias);
    videos->rows[row].ann_list = list;
    videos->rows[row].ann_pos = pos;
    return 0;
}

int ann_insert(struct ann_index *ann, struct video_table *videos, uint32_t row, float bias)
{
    if (videos->rows[row].ann_list != UINT32_MAX)
        return 0;
    uint32_t list = nearest_list(ann, videos_emb(videos, row), bias);
    if (file_into(ann, videos, row, bias, list) < 0)
        return -1;
    ann->count++;
    return 0;
}

void ann_update(struct ann_index *ann, struct video_table *videos, uint32_t row, float bias)
{
    const struct video_row *v = &videos->rows[row];
    if (v->ann_list == UINT32_MAX)
        return;
    encode(&ann->lists[v->ann_list], v->ann_pos, videos_emb(videos, row), ann->dim, bias);
}

void ann_remove(struct ann_index *ann, struct video_table *videos, uint32_t row)
{
    struct video_row *v = &videos->rows[row];
    if (v->ann_list == UINT32_MAX)
        return;
    struct ann_list *l = &ann->lists[v->ann_list];
    uint32_t pos = v->ann_pos, last = l->count - 1;
    if (pos != last) {
        l->rows[pos] = l->rows[last];
        for (unsigned d = 0; d < ann->dim; d++)
            l->codes[code_at(pos, ann->dim, d)] = l->codes[code_at(last, ann->dim, d)];
        l->scales[pos] = l->scales[last];
        l->biases[pos] = l->biases[last];
        videos->rows[l->rows[pos]].ann_pos = pos;
    }
    l->count--;
    v->ann_list = UINT32_MAX;
    v->ann_pos = 0;
    ann->count--;
}

int ann_wants_training(const struct ann_index *ann)
{
    return ann->count >= ANN_TRAIN_MIN && ann->count >= 2 * ann->trained_at;
}

/* ---- training ----------------------------------------------------------- */

static uint64_t next_rand(uint64_t *s)
{
    *s += 0x9e3779b97f4a7c15ULL;
    return rec_mix64(*s);
}

CLONES static void kmeans_assign(const float *points, uint32_t n, const float *centroids,
                                 const float *half_norms, uint32_t k, unsigned stride,
                                 uint32_t *assign)
{
    for (uint32_t i = 0; i < n; i++) {
        const float *x = points + (size_t)i * stride;
        float best = -INFINITY;
        uint32_t arg = 0;
        for (uint32_t c = 0; c < k; c++) {
            const float *cen = centroids + (size_t)c * stride;
            v8f acc = {0};
            for (unsigned d = 0; d + 8 <= stride; d += 8)
                acc += *(const v8f *)(x + d) * *(const v8f *)(cen + d);
            float s = HSUM(acc) + x[stride - 1] * cen[stride - 1] - half_norms[c];
            if (s > best) {
                best = s;
                arg = c;
            }
        }
        assign[i] = arg;
    }
}

static void compute_half_norms(const float *centroids, uint32_t k, unsigned stride, float *out)
{
    for (uint32_t c = 0; c < k; c++) {
        const float *cen = centroids + (size_t)c * stride;
        float s = 0;
        for (unsigned d = 0; d < stride; d++)
            s += cen[d] * cen[d];
        out[c] = s / 2;
    }
}

int ann_train(struct ann_index *ann, struct video_table *videos, const float *biases, uint64_t seed)
{
    unsigned dim = ann->dim, stride = dim + 1;
    uint32_t n = ann->count;
    uint32_t k = 1;
    while ((uint64_t)k * k < n)
        k <<= 1;
    if (k < 2 || n < ANN_TRAIN_MIN)
        return 0;
    /* Every indexed row, then a sample of them as training points. */
    uint32_t *all = reel_malloc((size_t)n * sizeof *all);
    uint32_t sample_n = k * SAMPLE_PER_LIST < n ? k * SAMPLE_PER_LIST : n;
    float *points = reel_malloc((size_t)sample_n * stride * sizeof *points);
    uint32_t *assign = reel_malloc((size_t)sample_n * sizeof *assign);
    float *centroids = reel_calloc((size_t)k * stride, sizeof *centroids);
    float *half_norms = reel_calloc(k, sizeof *half_norms);
    uint32_t *sizes = reel_calloc(k, sizeof *sizes);
    struct ann_list *lists = reel_calloc(k, sizeof *lists);
    int rc = -1;
    if (!all || !points || !assign || !centroids || !half_norms || !sizes || !lists)
        goto out;
    uint32_t m = 0;
    for (uint32_t l = 0; l < ann->nlists; l++)
        for (uint32_t i = 0; i < ann->lists[l].count; i++)
            all[m++] = ann->lists[l].rows[i];
    uint64_t rng = seed ^ 0xa22c0ffeeULL;
    /* Partial Fisher-Yates: the first sample_n rows become the sample. */
    for (uint32_t i = 0; i < sample_n; i++) {
        uint32_t j = i + (uint32_t)(next_rand(&rng) % (n - i));
        uint32_t t = all[i];
        all[i] = all[j];
        all[j] = t;
        float *x = points + (size_t)i * stride;
        memcpy(x, videos_emb(videos, all[i]), dim * sizeof *x);
        x[dim] = biases[all[i]];
    }
    for (uint32_t c = 0; c < k; c++)
        memcpy(centroids + (size_t)c * stride, points + (size_t)(c % sample_n) * stride,
               stride * sizeof *centroids);
    for (int round = 0; round < KMEANS_ROUNDS; round++) {
        compute_half_norms(centroids, k, stride, half_norms);
        kmeans_assign(points, sample_n, centroids, half_norms, k, stride, assign);
        memset(centroids, 0, (size_t)k * stride * sizeof *centroids);
        memset(sizes, 0, k * sizeof *sizes);
        for (uint32_t i = 0; i < sample_n; i++) {
            float *cen = centroids + (size_t)assign[i] * stride;
            const float *x = points + (size_t)i * stride;
            for (unsigned d = 0; d < stride; d++)
                cen[d] += x[d];
            sizes[assign[i]]++;
        }
        for (uint32_t c = 0; c < k; c++) {
            float *cen = centroids + (size_t)c * stride;
            if (sizes[c] == 0) { /* re-seed an empty cluster with a random point */
                memcpy(cen, points + (size_t)(next_rand(&rng) % sample_n) * stride,
                       stride * sizeof *cen);
                continue;
            }
            for (unsigned d = 0; d < stride; d++)
                cen[d] /= (float)sizes[c];
        }
    }
    compute_half_norms(centroids, k, stride, half_norms);

    /* Swap in the new lists and refile every video. */
    struct ann_list *old_lists = ann->lists;
    uint32_t old_n = ann->nlists;
    float *old_centroids = ann->centroids, *old_half = ann->half_norms;
    ann->lists = lists;
    ann->nlists = k;
    ann->centroids = centroids;
    ann->half_norms = half_norms;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t row = all[i];
        float b = biases[row];
        uint32_t list = nearest_list(ann, videos_emb(videos, row), b);
        if (file_into(ann, videos, row, b, list) < 0) {
            /* Out of memory half way: put the old index back as it was. */
            for (uint32_t l = 0; l < k; l++)
                list_free(&lists[l]);
            ann->lists = old_lists;
            ann->nlists = old_n;
            ann->centroids = old_centroids;
            ann->half_norms = old_half;
            for (uint32_t l = 0; l < old_n; l++)
                for (uint32_t p = 0; p < old_lists[l].count; p++) {
                    videos->rows[old_lists[l].rows[p]].ann_list = l;
                    videos->rows[old_lists[l].rows[p]].ann_pos = p;
                }
            lists = NULL;
            centroids = NULL;
            half_norms = NULL;
            goto out;
        }
    }
    for (uint32_t l = 0; l < old_n; l++)
        list_free(&old_lists[l]);
    reel_free(old_lists);
    reel_free(old_centroids);
    reel_free(old_half);
    ann->trained_at = n;
    lists = NULL;
    centroids = NULL;
    half_norms = NULL;
    rc = 0;
out:
    reel_free(all);
    reel_free(points);
    reel_free(assign);
    reel_free(centroids);
    reel_free(half_norms);
    reel_free(sizes);
    reel_free(lists);
    return rc;
}

/* ---- search ------------------------------------------------------------- */

/* Offers the entries of one block whose scores (s[lane]) beat the floor,
 * through skip. */
static inline void offer(const struct ann_list *l, uint32_t base, const float *s, unsigned lanes,
                         struct topk *t, ann_skip_fn skip, void *ctx)
{
    for (unsigned j = 0; j < lanes; j++) {
        uint32_t row = l->rows[base + j];
        if (!topk_beats_floor(t, s[j], row))
            continue;
        if (skip && skip(ctx, row))
            continue;
        topk_add(t, row, s[j]);
    }
}

/* A query rounded for the scan: q[d] ~ round(query[d] / scale), each in
 * [-ANN_QUERY_LEVELS, ANN_QUERY_LEVELS]; bias_sum = 128 x the sum of q (what
 * the codes' +128 adds to every dot product). */
struct scan_query {
    int8_t q[ANN_DIM_MAX];
    float scale;
    int32_t bias_sum;
};

static void scan_query_init(struct scan_query *sq, const float *query, unsigned dim)
{
    float max = 0;
    for (unsigned d = 0; d < dim; d++)
        max = fabsf(query[d]) > max ? fabsf(query[d]) : max;
    /* Rather than NaN scores: a query with an infinite coordinate scans as
     * the zero query (the scores are the biases), and a NaN coordinate
     * counts as 0 (below; converting it to int is undefined). */
    int usable = max > 0 && isfinite(max);
    sq->scale = usable ? max / ANN_QUERY_LEVELS : 1.0f;
    float inv = usable ? ANN_QUERY_LEVELS / max : 0.0f;
    int32_t sum = 0;
    for (unsigned d = 0; d < dim; d++) {
        float x = query[d] * inv;
        x = x > ANN_QUERY_LEVELS ? ANN_QUERY_LEVELS : x < -ANN_QUERY_LEVELS ? -ANN_QUERY_LEVELS : x;
        int v = x == x ? (int)(x >= 0 ? x + 0.5f : x - 0.5f) : 0;
        sq->q[d] = (int8_t)v;
        sum += v;
    }
    sq->bias_sum = 128 * sum;
}

/* An entry's score from its dot product with the rounded query: the same
 * operations, in the same order, in both scans (so they agree exactly). */
static inline float entry_score(int32_t dot, float query_scale, float scale, float bias)
{
    return (float)dot * (query_scale * scale) + bias;
}

static void scan_list_generic(const struct ann_list *l, const struct scan_query *sq,
                              unsigned dim, struct topk *t, ann_skip_fn skip, void *ctx)
{
    for (uint32_t base = 0; base < l->count; base += ANN_BLOCK) {
        const uint8_t *c = l->codes + (size_t)base * dim;
        int32_t dot[ANN_BLOCK] = {0};
        for (unsigned g = 0; g < dim / 4; g++)
            for (unsigned j = 0; j < ANN_BLOCK; j++)
                for (unsigned i = 0; i < 4; i++)
                    dot[j] += (int32_t)c[(g * ANN_BLOCK + j) * 4 + i] * sq->q[g * 4 + i];
        unsigned lanes = l->count - base < ANN_BLOCK ? l->count - base : ANN_BLOCK;
        float s[ANN_BLOCK];
        for (unsigned j = 0; j < lanes; j++)
            s[j] = entry_score(dot[j] - sq->bias_sum, sq->scale, l->scales[base + j],
                               l->biases[base + j]);
        offer(l, base, s, lanes, t, skip, ctx);
    }
}

/* Eight videos at a time: per four dimensions, one load of 32 code bytes,
 * one byte-by-byte multiply with the query's four bytes (pairs summed to 16
 * bits) and one multiply-add to 32 bits; then the scales and biases, and
 * one compare against the floor for all eight (at or above it: a tie with
 * the floor's score may still win on its row). */
__attribute__((target("avx2,fma"))) static void scan_list_avx2(const struct ann_list *l,
                                                               const struct scan_query *sq,
                                                               unsigned dim, struct topk *t,
                                                               ann_skip_fn skip, void *ctx)
{
    /* The query's four-byte groups, each in every 32-bit lane. */
    __m256i qg[ANN_DIM_MAX / 4];
    for (unsigned g = 0; g < dim / 4; g++) {
        int32_t four;
        memcpy(&four, sq->q + 4 * g, 4);
        qg[g] = _mm256_set1_epi32(four);
    }
    const __m256i ones = _mm256_set1_epi16(1), bias_sum = _mm256_set1_epi32(sq->bias_sum);
    const __m256 query_scale = _mm256_set1_ps(sq->scale);
    for (uint32_t base = 0; base < l->count; base += ANN_BLOCK) {
        const uint8_t *c = l->codes + (size_t)base * dim;
        /* Two accumulators (dim / 4 is even: dim is a multiple of 8). */
        __m256i a0 = _mm256_setzero_si256(), a1 = a0;
        for (unsigned g = 0; g < dim / 4; g += 2) {
            __m256i x0 = _mm256_loadu_si256((const void *)(c + g * 4 * ANN_BLOCK));
            __m256i x1 = _mm256_loadu_si256((const void *)(c + (g + 1) * 4 * ANN_BLOCK));
            a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_maddubs_epi16(x0, qg[g]), ones));
            a1 = _mm256_add_epi32(a1,
                                  _mm256_madd_epi16(_mm256_maddubs_epi16(x1, qg[g + 1]), ones));
        }
        __m256i dot = _mm256_sub_epi32(_mm256_add_epi32(a0, a1), bias_sum);
        unsigned lanes = l->count - base < ANN_BLOCK ? l->count - base : ANN_BLOCK;
        __m256 sc, bi;
        if (lanes == ANN_BLOCK) {
            sc = _mm256_loadu_ps(l->scales + base);
            bi = _mm256_loadu_ps(l->biases + base);
        } else {
            float tsc[ANN_BLOCK] = {0}, tbi[ANN_BLOCK] = {0};
            memcpy(tsc, l->scales + base, lanes * sizeof *tsc);
            memcpy(tbi, l->biases + base, lanes * sizeof *tbi);
            sc = _mm256_loadu_ps(tsc);
            bi = _mm256_loadu_ps(tbi);
        }
        /* entry_score's operations, unfused. */
        __m256 s = _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(dot),
                                               _mm256_mul_ps(query_scale, sc)),
                                 bi);
        unsigned above = (unsigned)_mm256_movemask_ps(
            _mm256_cmp_ps(s, _mm256_set1_ps(t->floor_score), _CMP_GE_OQ));
        above &= (1u << lanes) - 1;
        if (!above)
            continue;
        float out[ANN_BLOCK];
        _mm256_storeu_ps(out, s);
        offer(l, base, out, lanes, t, skip, ctx);
    }
}

static void scan_list(const struct ann_index *ann, const struct ann_list *l,
                      const struct scan_query *sq, struct topk *t, ann_skip_fn skip, void *ctx)
{
    if (ann->avx2)
        scan_list_avx2(l, sq, ann->dim, t, skip, ctx);
    else
        scan_list_generic(l, sq, ann->dim, t, skip, ctx);
}

size_t ann_search(const struct ann_index *ann, const float *query, size_t k, unsigned probe,
                  ann_skip_fn skip, void *ctx, uint32_t *rows, float *scores)
{
    uint64_t stack[TOPK_STACK], list_stack[TOPK_STACK];
    struct topk t;
    if (k == 0 || topk_init(&t, k, stack, TOPK_STACK) < 0)
        return 0;
    struct scan_query sq;
    scan_query_init(&sq, query, ann->dim);
    if (probe >= ann->nlists || ann->nlists == 1) {
        for (uint32_t l = 0; l < ann->nlists; l++)
            scan_list(ann, &ann->lists[l], &sq, &t, skip, ctx);
    } else {
        /* Best `probe` lists by query . centroid (+ the bias coordinate). */
        uint32_t best_lists[1024];
        float best_scores[1024];
        if (probe > 1024)
            probe = 1024;
        struct topk lt;
        if (topk_init(&lt, probe, list_stack, TOPK_STACK) < 0) {
            topk_release(&t, stack);
            return 0;
        }
        unsigned stride = ann->dim + 1;
        for (uint32_t c = 0; c < ann->nlists; c++) {
            const float *cen = ann->centroids + (size_t)c * stride;
            float s = dot_f32(query, cen, ann->dim) + cen[ann->dim];
            if (topk_beats_floor(&lt, s, c))
                topk_add(&lt, c, s);
        }
        /* Best list first: the floor then rises early and most later videos
         * fail one compare. */
        size_t nprobed = topk_finish(&lt, best_lists, best_scores);
        topk_release(&lt, list_stack);
        for (size_t i = 0; i < nprobed; i++)
            scan_list(ann, &ann->lists[best_lists[i]], &sq, &t, skip, ctx);
    }
    size_t n = topk_finish(&t, rows, scores);
    topk_release(&t, stack);
    return n;
}

CLONES static void scan_exact(const struct video_table *videos, const float *biases,
                              const float *query, struct topk *t, ann_skip_fn skip, void *ctx)
{
    unsigned dim = videos->dim;
    for (uint32_t r = 0; r < videos->used; r++) {
        if (videos->rows[r].state != VIDEO_LIVE)
            continue;
        float s = dot_f32(videos->emb + (size_t)r * dim, query, dim) + biases[r];
        if (!topk_beats_floor(t, s, r))
            continue;
        if (skip && skip(ctx, r))
            continue;
        topk_add(t, r, s);
    }
}

size_t ann_search_exact(const struct video_table *videos, const float *biases, const float *query,
                        size_t k, ann_skip_fn skip, void *ctx, uint32_t *rows, float *scores)
{
    uint64_t stack[TOPK_STACK];
    struct topk t;
    if (k == 0 || topk_init(&t, k, stack, TOPK_STACK) < 0)
        return 0;
    scan_exact(videos, biases, query, &t, skip, ctx);
    size_t n = topk_finish(&t, rows, scores);
    topk_release(&t, stack);
    return n;
}

size_t ann_bytes(const struct ann_index *ann)
{
    size_t n = (size_t)ann->nlists * (sizeof *ann->lists + (ann->dim + 2) * sizeof(float));
    for (uint32_t l = 0; l < ann->nlists; l++)
        n += (size_t)ann->lists[l].cap * (4 + ann->dim + 8);
    return n;
}
