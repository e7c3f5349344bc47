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

/* Partitions keys[lo..hi) (hi - lo >= 2) around the median of its first,
 * middle and last keys: returns p with keys[lo..p) > keys[p] > keys(p..hi).
 * Keys are distinct (they hold the row). The loop swaps unconditionally and
 * advances by the comparison, so it has no branch to mispredict. */
static size_t key_partition(uint64_t *k, size_t lo, size_t hi)
{
    size_t mid = lo + (hi - lo) / 2, last = hi - 1;
    uint64_t a = k[lo], b = k[mid], c = k[last];
    /* The median of the three goes to last. */
    size_t m = (a < b) == (b < c) ? mid : (b < a) == (a < c) ? lo : last;
    uint64_t pivot = k[m];
    k[m] = k[last];
    k[last] = pivot;
    size_t s = lo;
    for (size_t i = lo; i < last; i++) {
        uint64_t v = k[i];
        k[i] = k[s];
        k[s] = v;
        s += v > pivot;
    }
    k[last] = k[s];
    k[s] = pivot;
    return s;
}

void rank_key_select(uint64_t *keys, size_t n, size_t k)
{
    size_t lo = 0, hi = n;
    while (k > lo && k < hi && hi - lo > 1) {
        size_t p = key_partition(keys, lo, hi);
        if (p == k || p + 1 == k)
            return;
        if (k < p)
            hi = p;
        else
            lo = p + 1;
    }
}

void rank_key_sort(uint64_t *keys, size_t n)
{
    while (n > 16) {
        size_t p = key_partition(keys, 0, n);
        /* Recurse into the smaller side (depth O(log n)). */
        if (p < n - p - 1) {
            rank_key_sort(keys, p);
            keys += p + 1;
            n -= p + 1;
        } else {
            rank_key_sort(keys + p + 1, n - p - 1);
            n = p;
        }
    }
    for (size_t i = 1; i < n; i++) {
        uint64_t t = keys[i];
        size_t j = i;
        for (; j > 0 && keys[j - 1] < t; j--)
            keys[j] = keys[j - 1];
        keys[j] = t;
    }
}
