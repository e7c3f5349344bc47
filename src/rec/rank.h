/*
 * rank.h — ordering scored items: the best k of many without sorting them
 * all (quickselect), and a sort for the few that are kept.
 *
 * The order is total: higher score first, then lower row, so a ranking is
 * reproducible (a restart ranks ties as before) and a search resumed below
 * an item neither repeats nor skips a tie. `ref` is the caller's (an index
 * into its own table) and plays no part in the order.
 */
#ifndef REEL_REC_RANK_H
#define REEL_REC_RANK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct rank_hit {
    float score;
    uint32_t row;
    uint32_t ref;
};

/* Is (sa, ra) ranked before (sb, rb)? */
static inline int rank_before(float sa, uint32_t ra, float sb, uint32_t rb)
{
    return sa > sb || (sa == sb && ra < rb);
}

/* Moves the k best of h[0..n) to the front, in no particular order.
 * Expected O(n). */
void rank_select(struct rank_hit *h, size_t n, size_t k);
/* Sorts h[0..n) best first. */
void rank_sort(struct rank_hit *h, size_t n);

/* The same order as one integer, for hot loops that rank many items
 * without a ref: a larger key ranks before. The score's bits are mapped so
 * that unsigned order is float order (-0 is taken as +0), the row is
 * inverted below them. Scores must not be NaN. */
static inline uint64_t rank_key(float score, uint32_t row)
{
    uint32_t u;
    score += 0.0f; /* -0 -> +0 */
    memcpy(&u, &score, sizeof u);
    u = (u & 0x80000000u) ? ~u : u | 0x80000000u;
    return (uint64_t)u << 32 | (uint32_t)~row;
}

static inline float rank_key_score(uint64_t key)
{
    uint32_t u = (uint32_t)(key >> 32);
    u = (u & 0x80000000u) ? u & 0x7fffffffu : ~u;
    float score;
    memcpy(&score, &u, sizeof score);
    return score;
}

static inline uint32_t rank_key_row(uint64_t key)
{
    return ~(uint32_t)key;
}

/* Moves the k largest keys of keys[0..n) to the front, in no particular
 * order (branch-free partitions). Expected O(n). */
void rank_key_select(uint64_t *keys, size_t n, size_t k);
/* Sorts keys[0..n) largest first. */
void rank_key_sort(uint64_t *keys, size_t n);

#endif
