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

#endif
