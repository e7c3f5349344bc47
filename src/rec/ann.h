/*
 * ann.h — nearest-neighbour index over video embeddings (maximum inner
 * product), so "the videos nearest to this user" stays fast at a million
 * videos.
 *
 * An inverted file (IVF): videos are filed under the nearest of `nlists`
 * centroids (k-means on the embedding and the bias together, so that the
 * query [p_u, 1] . [q_v, b_v] is exactly the model's score); a query scores
 * the centroids and scans only the best `probe` lists. Each entry keeps an
 * int8 copy of the embedding with its scale and the bias (re-quantised
 * whenever the model changes the video, in O(dim)), so a scan reads 32 bytes
 * per video for dim 32 instead of 128. The scan rounds the query too, to
 * integers in [-63, 63] (ANN_QUERY_LEVELS), and multiplies bytes by bytes;
 * the scores a search returns are those of the rounded query.
 *
 * Below ANN_TRAIN_MIN videos there is one list and a query scans it all; a
 * catalogue that doubles since the last training is re-clustered by
 * ann_train (called from rec_engine_tick). Videos whose embedding drifted keep
 * their list until the next training: the index trades a little recall for
 * never moving entries on the learning path.
 *
 * Not thread-safe: the engine lock covers it (searches under the shared lock
 * only read).
 */
#ifndef REEL_REC_ANN_H
#define REEL_REC_ANN_H

#include "rec/videos.h"

#include <stddef.h>
#include <stdint.h>

#define ANN_TRAIN_MIN 16384
#define ANN_BLOCK 8 /* entries whose codes are interleaved (ann.c) */
#define ANN_QUERY_LEVELS 63 /* the rounded query's largest magnitude */
#define ANN_DIM_MAX 64 /* dimensions: a multiple of 8, at most this */

struct ann_list {
    uint32_t count, cap;    /* cap: a multiple of ANN_BLOCK */
    uint32_t *rows;
    uint8_t *codes;         /* cap x dim, code + 128, in blocks of ANN_BLOCK entries (ann.c) */
    float *scales;
    float *biases;
};

struct ann_index {
    unsigned dim;
    uint32_t nlists;
    float *centroids;       /* nlists x (dim + 1) */
    float *half_norms;      /* |c|^2 / 2 per centroid, for L2 assignment */
    struct ann_list *lists;
    uint32_t count;
    uint32_t trained_at;    /* count at the last training, 0 = never */
    int avx2;               /* the CPU has AVX2 and FMA: the scan uses them */
};

/* Returns nonzero to leave a row out of the results (seen, blocked, ...). */
typedef int (*ann_skip_fn)(void *ctx, uint32_t row);

/* Returns 0, or -1 if dim is not a multiple of 8 up to ANN_DIM_MAX or out
 * of memory. */
int ann_init(struct ann_index *ann, unsigned dim);
void ann_clear(struct ann_index *ann);
/* Files a video (bias = its full bias, b_v + t_v). Returns 0 or -1. */
int ann_insert(struct ann_index *ann, struct video_table *videos, uint32_t row, float bias);
/* Re-quantises a filed video after a model change (no-op if not filed). */
void ann_update(struct ann_index *ann, struct video_table *videos, uint32_t row, float bias);
void ann_remove(struct ann_index *ann, struct video_table *videos, uint32_t row);
/* Re-clusters into about sqrt(count) lists with k-means on a sample and
 * refiles every video. biases[row] is each row's full bias. seed makes it
 * deterministic. Returns 0 or -1 (out of memory: the old index is kept). */
int ann_train(struct ann_index *ann, struct video_table *videos, const float *biases,
              uint64_t seed);
/* Does the index want training (grown enough since the last one)? */
int ann_wants_training(const struct ann_index *ann);

/* The k rows with the highest query . q + bias among the probed lists (all
 * lists if probe >= nlists), best first (equal scores: lower row first);
 * skip may drop rows. Returns the count (0 if out of memory). */
size_t ann_search(const struct ann_index *ann, const float *query, size_t k, unsigned probe,
                  ann_skip_fn skip, void *ctx, uint32_t *rows, float *scores);
/* The same by brute force over the float embeddings of every live video,
 * biases[row] giving each bias (the bench's reference). */
size_t ann_search_exact(const struct video_table *videos, const float *biases,
                        const float *query, size_t k, ann_skip_fn skip, void *ctx,
                        uint32_t *rows, float *scores);
size_t ann_bytes(const struct ann_index *ann);

/* For the snapshot, which stores each entry's dim codes in turn: an entry's
 * codes out of / into a list's blocked layout, and a list's arrays for count
 * entries (count is then still 0). ann_list_alloc returns 0 or -1. */
void ann_code_get(const struct ann_list *l, unsigned dim, uint32_t pos, int8_t *out);
void ann_code_set(struct ann_list *l, unsigned dim, uint32_t pos, const int8_t *in);
int ann_list_alloc(struct ann_list *l, unsigned dim, uint32_t count);

#endif
