/*
 * The building blocks: the collision-free id map against a reference, the
 * seen filter (no false negatives, few false positives, bounded memory), the
 * nearest-neighbour index against brute force, the co-engagement gain and
 * the trending top lists' remembered answers.
 */
#include "rec/ann.h"
#include "rec/idmap.h"
#include "rec/model.h"
#include "rec/rank.h"
#include "rec/seen.h"
#include "rec/trending.h"
#include "rec/videos.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

Test(idmap, matches_a_reference_under_random_churn)
{
    struct idmap m;
    cr_assert_eq(idmap_init(&m, 4), 0);
    enum { N = 20000 };
    static uint32_t ref[N]; /* key i+1 -> row, or UINT32_MAX */
    for (int i = 0; i < N; i++)
        ref[i] = UINT32_MAX;
    uint64_t x = 7;
    for (int step = 0; step < 300000; step++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        uint64_t key = 1 + (x >> 33) % N;
        /* Keys that collide in the low bits stress the probing. */
        uint64_t k = key << 32 | key;
        if ((x >> 20) % 3 == 0) {
            uint32_t row = idmap_del(&m, k);
            cr_assert_eq(row, ref[key - 1]);
            ref[key - 1] = UINT32_MAX;
        } else {
            uint32_t row = (uint32_t)(x >> 40);
            cr_assert_eq(idmap_put(&m, k, row), 0);
            ref[key - 1] = row;
        }
    }
    size_t count = 0;
    for (uint64_t key = 1; key <= N; key++) {
        cr_assert_eq(idmap_get(&m, key << 32 | key), ref[key - 1]);
        count += ref[key - 1] != UINT32_MAX;
    }
    cr_assert_eq(m.count, count);
    cr_assert_eq(idmap_get(&m, 0), IDMAP_NONE);
    cr_assert_eq(idmap_put(&m, 0, 1), -1, "key 0 is reserved");
    idmap_clear(&m);
}

Test(seen, remembers_recent_ids_with_few_false_positives)
{
    struct seen_filter s;
    seen_init(&s);
    for (uint64_t id = 1; id <= 30000; id++)
        cr_assert_eq(seen_add(&s, id * 7919, 16384), 0);
    /* The last capacity - 4096 are certainly remembered. */
    for (uint64_t id = 30000 - 12288 + 1; id <= 30000; id++)
        cr_assert(seen_has(&s, id * 7919), "id %llu forgotten", (unsigned long long)id);
    int fp = 0;
    for (uint64_t id = 1000000; id < 1100000; id++)
        fp += seen_has(&s, id * 7919);
    cr_assert_lt(fp, 1000, "false positives %d in 100000 (> 1%%)", fp);
    cr_assert_leq(s.total, 16384);
    cr_assert_lt(seen_bytes(&s), 40000, "%zu bytes", seen_bytes(&s));
    /* Round trip. */
    unsigned char *buf = malloc(seen_serialised_size(&s));
    size_t n = seen_serialise(&s, buf);
    struct seen_filter t;
    cr_assert_eq(seen_deserialise(&t, buf, n), n);
    for (uint64_t id = 30000 - 12288 + 1; id <= 30000; id++)
        cr_assert(seen_has(&t, id * 7919));
    seen_clear(&t);
    cr_assert_eq(seen_deserialise(&t, buf, n - 1), 0, "truncated input is refused");
    free(buf);
    seen_clear(&s);
}

/* seen_has_since answers as seen_has for ids seen_has said no to at the
 * mark, looking only at the segments from the mark on: while segments are
 * added and the oldest dropped, at every step. */
Test(seen, asking_since_a_mark_answers_as_asking_all)
{
    struct seen_filter s;
    seen_init(&s);
    uint32_t mark = seen_mark(&s);
    static uint64_t negatives[2000];
    int nneg = 0;
    for (uint64_t id = 1000000; nneg < 2000; id++)
        if (!seen_has(&s, id * 31))
            negatives[nneg++] = id * 31;
    uint64_t next = 1;
    for (int round = 0; round < 40; round++) {
        /* Some of the negatives are added now, before the round's other
         * ids (which may start newer segments): found either way. */
        cr_assert_eq(seen_add(&s, negatives[round], 16384), 0);
        for (int k = 0; k < 700; k++, next++)
            cr_assert_eq(seen_add(&s, next * 7919, 16384), 0);
        for (int i = 0; i < nneg; i++)
            cr_assert_eq(seen_has_since(&s, negatives[i], mark), seen_has(&s, negatives[i]),
                         "round %d id %llu", round, (unsigned long long)negatives[i]);
        cr_assert(seen_has_since(&s, negatives[round], mark));
        cr_assert(seen_has_since(&s, next * 7919 - 7919, mark));
        /* Move the mark on, keeping only ids that are negative now. */
        mark = seen_mark(&s);
        int kept = 0;
        for (int i = 0; i < nneg; i++)
            if (!seen_has(&s, negatives[i]))
                negatives[kept++] = negatives[i];
        nneg = kept;
    }
    cr_assert_geq(s.nsegs, 4, "segments were added and dropped");
    seen_clear(&s);
}

/* seen_has_memo answers as seen_has for the same ids asked round after
 * round, while some of them are added, segments are started and the oldest
 * dropped (taking old answers with them), and ids collide in the memo; what
 * seen_memo_seen calls seen without the id is seen. */
Test(seen, the_memo_answers_as_asking_all)
{
    struct seen_filter s;
    seen_init(&s);
    enum { ASKED = 600 };
    static uint64_t asked[ASKED];
    for (int i = 0; i < ASKED; i++)
        asked[i] = 5000000 + (uint64_t)i * 17;
    uint64_t next = 1;
    int memo_rounds = 0, known_seen = 0;
    for (int round = 0; round < 60; round++) {
        for (int i = round * 9; i < round * 9 + 9 && i < ASKED; i++)
            cr_assert_eq(seen_add(&s, asked[i], 16384), 0);
        for (int k = 0; k < 500; k++, next++)
            cr_assert_eq(seen_add(&s, next * 7919, 16384), 0);
        for (int pass = 0; pass < 2; pass++) /* the second from the memo */
            for (int i = 0; i < ASKED; i++) {
                /* What the memo alone calls seen (no id at hand) is seen. */
                if (seen_memo_seen(&s, (uint32_t)i)) {
                    cr_assert(seen_has(&s, asked[i]), "round %d id %d: the memo is stale",
                              round, i);
                    known_seen++;
                }
                cr_assert_eq(seen_has_memo(&s, (uint32_t)i, asked[i]), seen_has(&s, asked[i]),
                             "round %d pass %d id %llu", round, pass,
                             (unsigned long long)asked[i]);
            }
        /* No false negatives for what was added recently (older ones may be
         * dropped with their segment once the filter is full). */
        for (int i = (round > 4 ? round - 4 : 0) * 9; i < round * 9 + 9 && i < ASKED; i++)
            cr_assert(seen_has_memo(&s, (uint32_t)i, asked[i]), "added id %d forgotten", i);
        memo_rounds += s.memo != NULL;
    }
    cr_assert_geq(memo_rounds, 40, "the memo was in use");
    cr_assert_gt(known_seen, 1000, "the memo answered without the id");
    cr_assert_gt(s.serial, s.nsegs + 2, "segments were dropped");
    size_t plain = seen_bytes(&s);
    cr_assert_gt(seen_memory(&s), plain, "the memo is counted in memory, not serialised");
    cr_assert_eq(seen_serialised_size(&s), 4 + (size_t)s.nsegs * 8 + plain);
    seen_clear(&s);
}

Test(seen, small_sessions_stay_small)
{
    struct seen_filter s;
    seen_init(&s);
    for (uint64_t id = 1; id <= 5; id++)
        seen_add(&s, id, 16384);
    cr_assert_eq(seen_bytes(&s), 128);
    seen_clear(&s);
}

/* Clustered vectors (as learnt embeddings are): the index must find most of
 * the true top-k while scanning a fraction of the catalogue. */
Test(ann, finds_most_of_the_exact_top_k, .timeout = 120)
{
    const unsigned dim = 32, n = 40000, k = 50;
    struct video_table videos;
    cr_assert_eq(videos_init(&videos, dim, n), 0);
    struct ann_index ann;
    cr_assert_eq(ann_init(&ann, dim), 0);
    float *bias = calloc(n, sizeof *bias);
    float centers[64][32];
    uint64_t x = 3;
    for (int c = 0; c < 64; c++)
        for (unsigned d = 0; d < dim; d++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            centers[c][d] = (float)((double)(x >> 11) / 9007199254740992.0 - 0.5);
        }
    for (unsigned i = 0; i < n; i++) {
        uint32_t row = videos_new_row(&videos);
        cr_assert_eq(videos_publish(&videos, i + 1, row), 0);
        float *q = videos_emb(&videos, row);
        for (unsigned d = 0; d < dim; d++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            q[d] = centers[i % 64][d] + 0.15f * (float)((double)(x >> 11) / 9007199254740992.0 - 0.5);
        }
        bias[row] = 0.1f * (float)(i % 7);
        cr_assert_eq(ann_insert(&ann, &videos, row, bias[row]), 0);
    }
    cr_assert(ann_wants_training(&ann));
    cr_assert_eq(ann_train(&ann, &videos, bias, 1), 0);
    cr_assert_gt(ann.nlists, 100);
    double recall = 0;
    uint32_t rows[50], exact[50];
    float scores[50], exact_scores[50];
    for (int qn = 0; qn < 50; qn++) {
        float query[32];
        for (unsigned d = 0; d < dim; d++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            query[d] = centers[qn % 64][d] * 2 + (float)((double)(x >> 11) / 9007199254740992.0 - 0.5);
        }
        size_t got = ann_search(&ann, query, k, 16, NULL, NULL, rows, scores);
        size_t want = ann_search_exact(&videos, bias, query, k, NULL, NULL, exact, exact_scores);
        cr_assert_eq(got, k);
        cr_assert_eq(want, k);
        for (size_t i = 1; i < got; i++)
            cr_assert_geq(scores[i - 1], scores[i], "results are sorted");
        int hit = 0;
        for (size_t i = 0; i < k; i++)
            for (size_t j = 0; j < k; j++)
                hit += rows[i] == exact[j];
        recall += (double)hit / k;
    }
    recall /= 50;
    cr_assert_gt(recall, 0.9, "recall@50 %.3f", recall);
    /* Removal keeps the lists consistent. */
    for (uint32_t r = 0; r < n; r += 3)
        ann_remove(&ann, &videos, r);
    for (uint32_t l = 0; l < ann.nlists; l++)
        for (uint32_t p = 0; p < ann.lists[l].count; p++) {
            uint32_t row = ann.lists[l].rows[p];
            cr_assert_neq(row % 3, 0);
            cr_assert_eq(videos.rows[row].ann_list, l);
            cr_assert_eq(videos.rows[row].ann_pos, p);
            /* Its codes are its own embedding's (within rounding). */
            int8_t code[32];
            ann_code_get(&ann.lists[l], dim, p, code);
            const float *q = videos_emb(&videos, row);
            for (unsigned d = 0; d < dim; d++)
                cr_assert_leq(fabsf((float)code[d] * ann.lists[l].scales[p] - q[d]),
                              ann.lists[l].scales[p] * 0.51f, "list %u pos %u dim %u", l, p, d);
        }
    /* And searches after the removals (codes moved within their blocks,
     * lists ending part-way through a block) return only filed videos, with
     * the score their stored codes give against the query rounded as ann.h
     * says (to integers up to ANN_QUERY_LEVELS in magnitude). */
    float query[32], qmax = 0;
    int qi[32];
    for (unsigned d = 0; d < dim; d++) {
        query[d] = centers[5][d];
        qmax = fabsf(query[d]) > qmax ? fabsf(query[d]) : qmax;
    }
    for (unsigned d = 0; d < dim; d++)
    {
        float level = query[d] * (ANN_QUERY_LEVELS / qmax);
        qi[d] = (int)(level >= 0 ? level + 0.5f : level - 0.5f);
    }
    size_t got = ann_search(&ann, query, k, (unsigned)ann.nlists, NULL, NULL, rows, scores);
    cr_assert_eq(got, k);
    for (size_t i = 0; i < got; i++) {
        const struct video_row *v = &videos.rows[rows[i]];
        cr_assert_neq(rows[i] % 3, 0, "a removed video came back");
        const struct ann_list *l = &ann.lists[v->ann_list];
        int8_t code[32];
        ann_code_get(l, dim, v->ann_pos, code);
        float dot = 0;
        for (unsigned d = 0; d < dim; d++)
            dot += (float)code[d] * (float)qi[d];
        float want =
            dot * (qmax / ANN_QUERY_LEVELS) * l->scales[v->ann_pos] + l->biases[v->ann_pos];
        cr_assert_float_eq(scores[i], want, 1e-3f * (1 + fabsf(want)), "row %u", rows[i]);
    }
    free(bias);
    ann_clear(&ann);
    videos_clear(&videos);
}

/* The search's answer is exactly the k best (higher score, then lower row),
 * whatever the order the lists are scanned in and however many entries beat
 * the floor on the way: videos come in groups of ten with one embedding and
 * bias (equal scores), and k cuts a group, so only the group's lowest rows
 * may be in. k = 1505 keeps more than fits on the search's stack. */
static int by_group_score(const void *a, const void *b, void *scores)
{
    const float *s = scores;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return s[x] > s[y] ? -1 : s[x] < s[y] ? 1 : (x > y) - (x < y);
}

static int skip_odd_rows(void *ctx, uint32_t row)
{
    (void)ctx;
    return row & 1;
}

Test(ann, answers_exactly_the_k_best_with_ties_by_row, .timeout = 120)
{
    enum { DIM = 32, GROUPS = 2000, DUPS = 10, N = GROUPS * DUPS };
    struct video_table videos;
    cr_assert_eq(videos_init(&videos, DIM, N), 0);
    struct ann_index ann;
    cr_assert_eq(ann_init(&ann, DIM), 0);
    float *bias = calloc(N, sizeof *bias);
    static float emb[GROUPS][DIM];
    uint64_t x = 11;
    for (int g = 0; g < GROUPS; g++)
        for (unsigned d = 0; d < DIM; d++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            emb[g][d] = (float)((double)(x >> 11) / 9007199254740992.0 - 0.5);
        }
    /* Row i is in group i % GROUPS: a group's rows are spread over the
     * catalogue (and over lists). */
    for (uint32_t i = 0; i < N; i++) {
        uint32_t row = videos_new_row(&videos);
        cr_assert_eq(row, i);
        cr_assert_eq(videos_publish(&videos, i + 1, row), 0);
        memcpy(videos_emb(&videos, row), emb[i % GROUPS], sizeof emb[0]);
        bias[row] = 0.01f * (float)(i % GROUPS % 13);
        cr_assert_eq(ann_insert(&ann, &videos, row, bias[row]), 0);
    }
    cr_assert_eq(ann_train(&ann, &videos, bias, 1), 0);
    cr_assert_gt(ann.nlists, 100);
    /* Integers up to ANN_QUERY_LEVELS, the largest equal to it: the scan's
     * rounding of the query leaves it as it is, and the reference below is
     * exact. */
    float query[DIM];
    for (unsigned d = 0; d < DIM; d++)
        query[d] = (float)lrintf(emb[7][d] * 2 * (ANN_QUERY_LEVELS - 1));
    query[0] = ANN_QUERY_LEVELS;
    /* Each group's score from its stored codes (one member's; they are the
     * same embedding and bias). */
    static float group_score[GROUPS];
    static uint32_t order[GROUPS];
    for (uint32_t g = 0; g < GROUPS; g++) {
        const struct video_row *v = &videos.rows[g];
        const struct ann_list *l = &ann.lists[v->ann_list];
        int8_t code[DIM];
        ann_code_get(l, DIM, v->ann_pos, code);
        float dot = 0;
        for (unsigned d = 0; d < DIM; d++)
            dot += (float)code[d] * query[d];
        group_score[g] = dot * l->scales[v->ann_pos] + l->biases[v->ann_pos];
        order[g] = g;
    }
    qsort_r(order, GROUPS, sizeof *order, by_group_score, group_score);
    static const size_t ks[] = {25, 1505};
    static uint32_t rows[1505], want[1505];
    static float scores[1505];
    for (int skipping = 0; skipping < 2; skipping++)
        for (size_t t = 0; t < sizeof ks / sizeof *ks; t++) {
            size_t k = ks[t], w = 0;
            /* Whole groups in score order (with skip_odd_rows, the odd
             * groups are left out: GROUPS is even), lowest rows first. */
            size_t gi = 0;
            for (; w < k; gi++) {
                if (skipping && order[gi] % 2)
                    continue;
                for (uint32_t m = 0; m < DUPS && w < k; m++)
                    want[w++] = order[gi] + m * GROUPS;
            }
            /* The group cut and the next one it competes with are far
             * enough apart that the kernel's rounding cannot swap them. */
            size_t next = gi;
            while (skipping && order[next] % 2)
                next++;
            cr_assert_gt(group_score[order[gi - 1]] - group_score[order[next]], 1e-3f);
            size_t got = ann_search(&ann, query, k, (unsigned)ann.nlists,
                                    skipping ? skip_odd_rows : NULL, NULL, rows, scores);
            cr_assert_eq(got, k);
            for (size_t i = 0; i < k; i++)
                cr_assert_eq(rows[i], want[i], "skip %d, k %zu, rank %zu: row %u, want %u",
                             skipping, k, i, rows[i], want[i]);
            /* The portable scan (CPUs without AVX2) gives the same answer,
             * to the bit, also with a query the rounding changes. */
            if (!ann.avx2)
                continue;
            static uint32_t rows2[1505];
            static float scores2[1505];
            float query2[DIM];
            for (unsigned d = 0; d < DIM; d++)
                query2[d] = emb[9][d];
            for (int q = 0; q < 2; q++) {
                const float *qv = q ? query2 : query;
                got = ann_search(&ann, qv, k, (unsigned)ann.nlists,
                                 skipping ? skip_odd_rows : NULL, NULL, rows, scores);
                ann.avx2 = 0;
                size_t got2 = ann_search(&ann, qv, k, (unsigned)ann.nlists,
                                         skipping ? skip_odd_rows : NULL, NULL, rows2, scores2);
                ann.avx2 = 1;
                cr_assert_eq(got2, got);
                for (size_t i = 0; i < k; i++)
                    cr_assert(rows2[i] == rows[i] && scores2[i] == scores[i],
                              "query %d, rank %zu: generic (%u, %g), avx2 (%u, %g)", q, i,
                              rows2[i], (double)scores2[i], rows[i], (double)scores[i]);
            }
        }
    /* A broken query gives finite scores: a NaN coordinate counts as 0, an
     * infinite one makes the zero query (the biases rank). */
    float with_nan[DIM], zeroed[DIM], with_inf[DIM], zero[DIM] = {0};
    for (unsigned d = 0; d < DIM; d++)
        with_nan[d] = zeroed[d] = with_inf[d] = emb[9][d];
    with_nan[3] = NAN;
    zeroed[3] = 0;
    with_inf[5] = INFINITY;
    static uint32_t rows3[25];
    static float scores3[25];
    const float *broken[2] = {with_nan, with_inf}, *same[2] = {zeroed, zero};
    for (int b = 0; b < 2; b++) {
        size_t got = ann_search(&ann, broken[b], 25, (unsigned)ann.nlists, NULL, NULL, rows, scores);
        size_t got3 = ann_search(&ann, same[b], 25, (unsigned)ann.nlists, NULL, NULL, rows3, scores3);
        cr_assert_eq(got, 25);
        cr_assert_eq(got3, 25);
        for (size_t i = 0; i < 25; i++)
            cr_assert(rows[i] == rows3[i] && scores[i] == scores3[i] && isfinite(scores[i]),
                      "query %d, rank %zu", b, i);
    }
    free(bias);
    ann_clear(&ann);
    videos_clear(&videos);
}

/* The co-engagement gain (model.h): it keeps the configured weight without
 * evidence, sinks to 0 when co-engagement predicts nothing the heads missed,
 * stays near 1 when it predicts what the weight says, and is bounded. */
static double gain_after(double slope, double noise, unsigned n)
{
    struct model m;
    model_init(&m, 32, 1);
    uint64_t s = 42;
    for (unsigned i = 0; i < n; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        double x = (double)((s >> 40) % 1000) / 1000.0;
        double u = (double)((s >> 20) % 1000) / 1000.0 - 0.5;
        model_coeng_observe(&m, 3.0, (float)x, (float)(slope * x + noise * u - 0.2));
    }
    return (double)m.coeng_gain;
}

Test(model, coengagement_gain_follows_what_coengagement_predicts)
{
    struct model m;
    model_init(&m, 32, 1);
    cr_assert_float_eq((double)m.coeng_gain, 1.0, 1e-6, "no evidence: the configured weight");
    double none = gain_after(0, 2, 20000);
    cr_assert_lt(none, 0.2, "unpredictive co-engagement sinks: gain %g", none);
    double right = gain_after(3, 2, 20000);
    cr_assert(right > 0.8 && right < 1.2, "predictive as configured: gain %g", right);
    cr_assert_float_eq(gain_after(-3, 1, 20000), 0.0, 1e-6, "never negative");
    cr_assert_float_eq(gain_after(30, 1, 20000), MODEL_COENG_GAIN_MAX, 1e-6, "bounded");
    double early = gain_after(0, 2, 20);
    cr_assert_gt(early, 0.8, "a few examples barely move it: gain %g", early);
}

/* rank.c against qsort: the k best first (in any order), then a full sort,
 * on inputs with many ties (the order breaks them by row). */
static int rank_ref(const void *a, const void *b)
{
    const struct rank_hit *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? 1 : -1;
    return x->row < y->row ? -1 : x->row > y->row;
}

Test(rank, select_and_sort_agree_with_qsort)
{
    enum { N = 3000 };
    static struct rank_hit a[N], ref[N];
    uint64_t rng = 7;
    for (size_t n = 0; n < N; n = n * 2 + 1) {
        for (size_t i = 0; i < n; i++) {
            rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
            a[i] = (struct rank_hit){(float)((rng >> 33) % 50), (uint32_t)i, (uint32_t)(n - i)};
        }
        memcpy(ref, a, n * sizeof *a);
        qsort(ref, n, sizeof *ref, rank_ref);
        size_t k = n / 3;
        rank_select(a, n, k);
        /* The first k are exactly ref's first k, in some order. */
        rank_sort(a, k);
        for (size_t i = 0; i < k; i++)
            cr_assert(a[i].row == ref[i].row && a[i].ref == ref[i].ref, "n %zu, k %zu, at %zu", n,
                      k, i);
        rank_sort(a, n);
        for (size_t i = 0; i < n; i++)
            cr_assert_eq(a[i].row, ref[i].row, "n %zu, sorted at %zu", n, i);
    }
}

/* rank_key: one integer in rank.h's order (the ann search's top k). Its
 * score and row come back exactly; a larger key is exactly rank_before; and
 * rank_key_select / rank_key_sort agree with qsort by rank_ref, on scores
 * of both signs with many ties, -0 and +0 among them. */
Test(rank, keys_keep_the_order_and_come_back_exactly)
{
    enum { N = 3000 };
    static struct rank_hit ref[N];
    static uint64_t keys[N];
    static const float special[] = {0.0f, -0.0f, 1e-30f, -1e-30f, 3.5f, -3.5f, INFINITY, -INFINITY};
    uint64_t rng = 11;
    for (size_t n = 0; n < N; n = n * 2 + 1) {
        for (size_t i = 0; i < n; i++) {
            rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
            float score = (rng >> 60) == 0 ? special[(rng >> 20) % 8]
                                           : (float)((int)((rng >> 33) % 50) - 25) / 4;
            uint32_t row = (uint32_t)(rng >> 13) % 100000 * 3000 + (uint32_t)i; /* distinct */
            ref[i] = (struct rank_hit){score, row, 0};
            keys[i] = rank_key(score, row);
            cr_assert_eq(rank_key_row(keys[i]), row);
            float back = rank_key_score(keys[i]);
            cr_assert(back == score, "score %g came back as %g", (double)score, (double)back);
            if (i > 0)
                cr_assert_eq(keys[i] > keys[i - 1],
                             rank_before(score, row, ref[i - 1].score, ref[i - 1].row),
                             "(%g, %u) against (%g, %u)", (double)score, row,
                             (double)ref[i - 1].score, ref[i - 1].row);
        }
        qsort(ref, n, sizeof *ref, rank_ref);
        size_t k = n / 3;
        rank_key_select(keys, n, k);
        rank_key_sort(keys, k);
        for (size_t i = 0; i < k; i++)
            cr_assert_eq(rank_key_row(keys[i]), ref[i].row, "n %zu, k %zu, at %zu", n, k, i);
        rank_key_sort(keys, n);
        for (size_t i = 0; i < n; i++)
            cr_assert_eq(rank_key_row(keys[i]), ref[i].row, "n %zu, sorted at %zu", n, i);
    }
}

/* The engagement step's AVX2 kernels (model.c) learn exactly what the scalar
 * code learns: the same video embeddings and biases, the same quantised user
 * rows and the same random stream, bit for bit — with and without a user
 * row, for sampled negatives, and with steps large enough to clamp. */
Test(model, avx2_engagement_step_is_bit_identical_to_scalar)
{
    if (!__builtin_cpu_supports("avx2"))
        cr_skip_test("no AVX2 on this CPU");
    enum { USERS = 16, VIDEOS = 16 };
    struct config_rec cfg;
    config_rec_init(&cfg);
    for (unsigned dim = 8; dim <= MODEL_DIM_MAX; dim *= 2) {
        struct model m[2];
        struct user_table users[2];
        struct video_table videos[2];
        for (int k = 0; k < 2; k++) {
            model_init(&m[k], dim, 9);
            m[k].avx2 = k;
            cr_assert_eq(users_init(&users[k], dim, USERS), 0);
            cr_assert_eq(videos_init(&videos[k], dim, VIDEOS), 0);
            for (uint32_t i = 0; i < USERS; i++)
                model_user_init(&users[k], users_admit(&users[k], 100 + i), 100 + i);
            for (uint32_t i = 0; i < VIDEOS; i++)
                model_video_init(&videos[k], videos_new_row(&videos[k]), 500 + i);
        }
        uint64_t s = dim;
        for (int step = 0; step < 20000; step++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            uint32_t u = (s >> 60) == 0 ? IDMAP_NONE : (uint32_t)((s >> 33) % USERS);
            uint32_t v = (uint32_t)((s >> 40) % VIDEOS);
            float label = (float)((s >> 50) & 1);
            float weight = (s >> 51) % 16 == 0 ? 4.0f : 1.0f;
            int sampled = (s >> 56) % 4 == 0;
            for (int k = 0; k < 2; k++)
                model_engage_step(&m[k], &cfg, &users[k], u, &videos[k], v, label, weight,
                                  sampled);
        }
        for (uint32_t i = 0; i < VIDEOS * dim; i++)
            cr_assert(isfinite(videos[0].emb[i]), "dim %u: steps this size stay finite", dim);
        cr_assert_eq(m[0].rng, m[1].rng, "dim %u: random stream", dim);
        cr_assert(memcmp(users[0].rows, users[1].rows, USERS * users[0].stride) == 0,
                  "dim %u: user rows", dim);
        cr_assert(memcmp(videos[0].emb, videos[1].emb, VIDEOS * dim * sizeof(float)) == 0,
                  "dim %u: video embeddings", dim);
        for (uint32_t i = 0; i < VIDEOS; i++)
            cr_assert(memcmp(&videos[0].rows[i].engage_bias, &videos[1].rows[i].engage_bias,
                             sizeof(float)) == 0,
                      "dim %u: engagement bias", dim);
        for (int k = 0; k < 2; k++) {
            users_clear(&users[k]);
            videos_clear(&videos[k]);
        }
    }
}

/* The reference: a list's rows by score (highest first), ties by row. */
static struct toplist *cmp_list;
static int by_list_score(const void *a, const void *b)
{
    uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
    double x = cmp_list->scores[i], y = cmp_list->scores[j];
    if (x != y)
        return x > y ? -1 : 1;
    return cmp_list->rows[i] < cmp_list->rows[j] ? -1 : 1;
}

/* toplist_best remembers its answers per thread (by list and version):
 * under random updates and removals of a dozen lists sharing the memo's
 * few slots, with n varying, it answers as a fresh selection would. */
Test(trending, best_remembers_nothing_stale)
{
    enum { LISTS = 12, ROWS = 300 };
    struct toplist lists[LISTS];
    for (int l = 0; l < LISTS; l++)
        cr_assert_eq(toplist_init(&lists[l], l % 2 ? TOP_TAG : 64), 0);
    uint64_t x = 11;
    for (int step = 0; step < 20000; step++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        struct toplist *l = &lists[(x >> 40) % LISTS];
        uint32_t row = (uint32_t)((x >> 20) % ROWS);
        uint32_t before[TOP_GLOBAL];
        toplist_best(l, before, 1 + (x >> 56) % 70); /* remembered, then changed */
        switch ((x >> 10) % 3) {
        case 0: toplist_update(l, row, (double)((x >> 30) % 1000)); break;
        case 1: break; /* asked again unchanged */
        default: toplist_update(l, row, (double)((x >> 30) % 50)); break;
        }
        size_t n = 1 + (x >> 50) % 70;
        uint32_t got[TOP_GLOBAL];
        size_t k = toplist_best(l, got, n);
        uint32_t idx[TOP_GLOBAL];
        for (uint32_t i = 0; i < l->count; i++)
            idx[i] = i;
        cmp_list = l;
        qsort(idx, l->count, sizeof idx[0], by_list_score);
        size_t want = l->count < n ? l->count : n;
        cr_assert_eq(k, want, "step %d: %zu rows, not %zu", step, k, want);
        for (size_t i = 0; i < k; i++)
            cr_assert_eq(got[i], l->rows[idx[i]], "step %d: row %zu differs", step, i);
    }
    for (int l = 0; l < LISTS; l++)
        toplist_clear(&lists[l]);
}
