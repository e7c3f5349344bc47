/*
 * sorted.h — membership in an ascending array of ids (binary search).
 */
#ifndef REEL_CORE_SORTED_H
#define REEL_CORE_SORTED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline bool sorted_u64_contains(const uint64_t *ids, size_t n, uint64_t id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && ids[lo] == id;
}

#endif
