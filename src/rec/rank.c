/*
 * rank.c — see rank.h. Typed rather than qsort: the comparison inlines, and
 * a feed request ranks a few hundred items twice.
 */
#include "rec/rank.h"

static inline int before(const struct rank_hit *a, const struct rank_hit *b)
{
    return rank_before(a->score, a->row, b->score, b->row);
}

/* Three-way partition of h[lo..hi) around a median-of-three pivot:
 * [lo, *lt) before it, [*lt, *gt) equal, [*gt, hi) after. */
static void partition(struct rank_hit *h, size_t lo, size_t hi, size_t *lt, size_t *gt)
{
    struct rank_hit a = h[lo], b = h[lo + (hi - lo) / 2], z = h[hi - 1], pivot;
    if (before(&a, &b))
        pivot = before(&b, &z) ? b : before(&a, &z) ? z : a;
    else
        pivot = before(&a, &z) ? a : before(&b, &z) ? z : b;
    size_t l = lo, i = lo, g = hi;
    while (i < g) {
        struct rank_hit t = h[i];
        if (before(&t, &pivot)) {
            h[i++] = h[l];
            h[l++] = t;
        } else if (before(&pivot, &t)) {
            h[i] = h[--g];
            h[g] = t;
        } else {
            i++;
        }
    }
    *lt = l;
    *gt = g;
}

void rank_select(struct rank_hit *h, size_t n, size_t k)
{
    size_t lo = 0, hi = n;
    while (hi - lo > 1 && k > lo && k < hi) {
        size_t lt, gt;
        partition(h, lo, hi, &lt, &gt);
        if (k <= lt)
            hi = lt;
        else if (k >= gt)
            lo = gt;
        else
            return;
    }
}

static void insertion_sort(struct rank_hit *h, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct rank_hit t = h[i];
        size_t j = i;
        for (; j > 0 && before(&t, &h[j - 1]); j--)
            h[j] = h[j - 1];
        h[j] = t;
    }
}

void rank_sort(struct rank_hit *h, size_t n)
{
    /* Quicksort, recursing into the smaller side (depth O(log n)). */
    while (n > 16) {
        size_t lt, gt;
        partition(h, 0, n, &lt, &gt);
        if (lt < n - gt) {
            rank_sort(h, lt);
            h += gt;
            n -= gt;
        } else {
            rank_sort(h + gt, n - gt);
            n = lt;
        }
    }
    insertion_sort(h, n);
}
