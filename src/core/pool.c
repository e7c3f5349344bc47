/*
 * pool.c — see pool.h.
 *
 * Layout: a singly linked list of chunks; allocation bumps `used` in the
 * newest chunk and starts a new chunk when it does not fit. Requests over a
 * quarter of the chunk size get a dedicated block on the same list so that a
 * large allocation does not waste the tail of the current chunk.
 */
#include "core/pool.h"

#include "core/alloc.h"

#include <stdalign.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct chunk {
    struct chunk *next;
    size_t size;
    size_t used;
    alignas(max_align_t) unsigned char data[];
};

struct cleanup {
    struct cleanup *next;
    void (*fn)(void *);
    void *data;
};

struct pool {
    struct chunk *chunks;   /* newest first; small allocations come from the head */
    struct chunk *large;    /* dedicated blocks */
    struct cleanup *cleanups;
    size_t chunk_size;
    size_t total;
};

#define ALIGN_UP(n) (((n) + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1))

static struct chunk *chunk_new(size_t size)
{
    struct chunk *c = reel_malloc(sizeof *c + size);
    if (!c)
        return NULL;
    c->next = NULL;
    c->size = size;
    c->used = 0;
    return c;
}

struct pool *pool_create(size_t chunk_size)
{
    struct pool *pool = reel_calloc(1, sizeof *pool);
    if (!pool)
        return NULL;
    pool->chunk_size = chunk_size ? chunk_size : 4096;
    pool->chunks = chunk_new(pool->chunk_size);
    if (!pool->chunks) {
        reel_free(pool);
        return NULL;
    }
    return pool;
}

void pool_destroy(struct pool *pool)
{
    if (!pool)
        return;
    for (struct cleanup *c = pool->cleanups; c; c = c->next)
        c->fn(c->data);
    for (struct chunk *c = pool->large, *next; c; c = next) {
        next = c->next;
        reel_free(c);
    }
    for (struct chunk *c = pool->chunks, *next; c; c = next) {
        next = c->next;
        reel_free(c);
    }
    reel_free(pool);
}

void *pool_alloc(struct pool *pool, size_t size)
{
    if (size > SIZE_MAX - alignof(max_align_t))
        return NULL;
    size = ALIGN_UP(size ? size : 1);
    if (size > pool->chunk_size / 4) {
        struct chunk *c = chunk_new(size);
        if (!c)
            return NULL;
        c->used = size;
        c->next = pool->large;
        pool->large = c;
        pool->total += size;
        return c->data;
    }
    struct chunk *c = pool->chunks;
    if (c->size - c->used < size) {
        c = chunk_new(pool->chunk_size);
        if (!c)
            return NULL;
        c->next = pool->chunks;
        pool->chunks = c;
    }
    void *p = c->data + c->used;
    c->used += size;
    pool->total += size;
    return p;
}

void *pool_calloc(struct pool *pool, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = pool_alloc(pool, n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

char *pool_strndup(struct pool *pool, const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *copy = pool_alloc(pool, len + 1);
    if (!copy)
        return NULL;
    memcpy(copy, s, len);
    copy[len] = '\0';
    return copy;
}

char *pool_strdup(struct pool *pool, const char *s)
{
    return pool_strndup(pool, s, SIZE_MAX);
}

char *pool_printf(struct pool *pool, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *buf = pool_alloc(pool, (size_t)n + 1);
    if (!buf)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(buf, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return buf;
}

int pool_cleanup_add(struct pool *pool, void (*fn)(void *), void *data)
{
    struct cleanup *c = pool_alloc(pool, sizeof *c);
    if (!c)
        return -1;
    c->fn = fn;
    c->data = data;
    c->next = pool->cleanups;
    pool->cleanups = c;
    return 0;
}

size_t pool_used(const struct pool *pool)
{
    return pool->total;
}
