/*
 * fresh.c — see fresh.h.
 */
#include "rec/fresh.h"

#include "core/alloc.h"

#include <string.h>

int fresh_init(struct fresh_pool *pool)
{
    memset(pool, 0, sizeof *pool);
    return 0;
}

void fresh_clear(struct fresh_pool *pool)
{
    reel_free(pool->rows);
    memset(pool, 0, sizeof *pool);
}

int fresh_enter(struct fresh_pool *pool, struct video_table *videos, uint32_t row)
{
    struct video_row *v = &videos->rows[row];
    if (v->fresh == FRESH_POOL)
        return 0;
    if (pool->count == pool->cap) {
        uint32_t cap = pool->cap ? pool->cap * 2 : 256;
        void *p = pool->rows;
        if (reel_array_grow(&p, cap, sizeof *pool->rows) < 0)
            return -1;
        pool->rows = p;
        pool->cap = cap;
    }
    v->fresh = FRESH_POOL;
    v->fresh_pos = pool->count;
    pool->rows[pool->count++] = row;
    return 0;
}

void fresh_leave(struct fresh_pool *pool, struct video_table *videos, uint32_t row, uint8_t state)
{
    struct video_row *v = &videos->rows[row];
    if (v->fresh != FRESH_POOL) {
        if (state == FRESH_NONE)
            v->fresh = FRESH_NONE;
        return;
    }
    uint32_t pos = v->fresh_pos;
    uint32_t last = pool->rows[--pool->count];
    pool->rows[pos] = last;
    videos->rows[last].fresh_pos = pos;
    v->fresh_pos = UINT32_MAX;
    v->fresh = state;
}

size_t fresh_bytes(const struct fresh_pool *pool)
{
    return (size_t)pool->cap * sizeof *pool->rows;
}
