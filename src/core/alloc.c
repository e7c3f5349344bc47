/*
 * alloc.c — see alloc.h. The fail-after counter is a relaxed atomic: tests
 * that use it are single-threaded, and the hot path pays one atomic load.
 */
#include "core/alloc.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE_PAGE ((size_t)2 << 20)

static _Atomic long fail_after = -1;

static int should_fail(void)
{
    long n = atomic_load_explicit(&fail_after, memory_order_relaxed);
    if (n < 0)
        return 0;
    if (n == 0)
        return 1;
    atomic_fetch_sub_explicit(&fail_after, 1, memory_order_relaxed);
    return 0;
}

void reel_alloc_fail_after(long n)
{
    atomic_store(&fail_after, n);
}

void *reel_malloc(size_t size)
{
    if (should_fail())
        return NULL;
    return malloc(size ? size : 1);
}

void *reel_calloc(size_t n, size_t size)
{
    if (should_fail())
        return NULL;
    return calloc(n ? n : 1, size ? size : 1);
}

void *reel_realloc(void *ptr, size_t size)
{
    if (should_fail())
        return NULL;
    return realloc(ptr, size ? size : 1);
}

int reel_array_grow(void **ptr, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return -1;
    void *p = reel_realloc(*ptr, n * size);
    if (!p)
        return -1;
    *ptr = p;
    return 0;
}

void *reel_aligned_calloc(size_t align, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    size_t bytes = n * size;
    if (bytes == 0)
        bytes = 1;
    if (bytes > SIZE_MAX - align || should_fail())
        return NULL;
    bytes = (bytes + align - 1) & ~(align - 1); /* aligned_alloc: a multiple */
    void *p = aligned_alloc(align, bytes);
    if (!p)
        return NULL;
    if (align >= HUGE_PAGE)
        madvise(p, bytes, MADV_HUGEPAGE); /* advice: failure changes nothing */
    memset(p, 0, bytes);
    return p;
}

int reel_aligned_grow(void **ptr, size_t align, size_t old_n, size_t n, size_t size)
{
    void *p = reel_aligned_calloc(align, n, size);
    if (!p)
        return -1;
    if (*ptr)
        memcpy(p, *ptr, (old_n < n ? old_n : n) * size);
    free(*ptr);
    *ptr = p;
    return 0;
}

void reel_free(void *ptr)
{
    free(ptr);
}

char *reel_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *copy = reel_malloc(len + 1);
    if (!copy)
        return NULL;
    memcpy(copy, s, len);
    copy[len] = '\0';
    return copy;
}

char *reel_strdup(const char *s)
{
    return reel_strndup(s, SIZE_MAX);
}

void reel_alloc_init(void)
{
    json_set_alloc_funcs(reel_malloc, reel_free);
}
