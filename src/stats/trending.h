/*
 * trending.h — items (videos, hashtags) ranked by time-decayed engagement.
 *
 * Every engagement adds points that halve every half-life: the score of an
 * item at time t is sum(points_i * 2^(-(t - t_i) / half_life)). Stored as
 * scores relative to one shared reference time, an update is O(1) and
 * ranking needs no decay pass (trending.c explains). One instance ranks one
 * kind of item in one region; stats.c keeps one for videos and one for
 * hashtags per region.
 *
 * Snapshot encoding (stats_trending_encode; little-endian):
 *
 *   offset  size  field
 *   ------  ----  ------------------------------------------------------------
 *        0     8  half-life in ms (i64)
 *        8     8  reference time in Unix ms (i64)
 *       16     4  n, number of items (u32)
 *       20     4  reserved, 0
 *       24        n items, each:
 *                   0  8  key (u64, nonzero)
 *                   8  8  score at the reference time (IEEE 754 binary64 bits)
 *                  16  1  label length (0..STATS_LABEL_MAX-1)
 *                  17  l  label bytes (UTF-8, no NUL)
 *
 * Not thread-safe: stats.c serialises calls.
 */
#ifndef REEL_STATS_TRENDING_H
#define REEL_STATS_TRENDING_H

#include "core/buf.h"

#include <stddef.h>
#include <stdint.h>

#define STATS_LABEL_MAX 64

struct stats_trending_item {
    uint64_t key;                /* video id, or stats_hashtag_key(label) */
    double score;                /* decayed points at the query time */
    char label[STATS_LABEL_MAX]; /* the hashtag ("" for videos) */
};

struct stats_trending;

/* half_life_ms > 0; max_items bounds memory: past it the lowest-scored items
 * are forgotten (down to 3/4 of it). Returns NULL on bad arguments or when
 * out of memory. */
struct stats_trending *stats_trending_create(int64_t half_life_ms, size_t max_items);
void stats_trending_destroy(struct stats_trending *t);

/* Adds points (negative: a penalty; a score never goes below 0) to item key
 * (nonzero) at time at_ms. label names the item the first time it is seen
 * (copied, cut to at most STATS_LABEL_MAX - 1 bytes at a UTF-8 character
 * boundary; NULL for none). Returns 0, or -1 when out of memory or key is
 * 0 (nothing changed). */
int stats_trending_add(struct stats_trending *t, uint64_t key, const char *label, double points,
                       int64_t at_ms);

/* The item's score at now_ms (0 if unknown). */
double stats_trending_score(const struct stats_trending *t, uint64_t key, int64_t now_ms);
/* Writes the k best items at now_ms into out, best first (ties: lower key
 * first). Returns how many were written (<= k). O(n log k). */
size_t stats_trending_top(const struct stats_trending *t, int64_t now_ms,
                          struct stats_trending_item *out, size_t k);

size_t stats_trending_size(const struct stats_trending *t);
size_t stats_trending_memory_bytes(const struct stats_trending *t);

/* The key of a hashtag: a 64-bit hash of its text with ASCII letters folded
 * to lower case ("#" not included). Never 0. */
uint64_t stats_hashtag_key(const char *tag);

/* Appends the snapshot encoding to out. Returns 0 or -1 (out of memory). */
int stats_trending_encode(const struct stats_trending *t, struct buf *out);
/* Rebuilds from a snapshot; max_items as for create. Returns a new instance
 * or NULL (corrupt: message in err). *used = bytes consumed. */
struct stats_trending *stats_trending_decode(const uint8_t *data, size_t len, size_t max_items,
                                             size_t *used, char *err, size_t errlen);

#endif
