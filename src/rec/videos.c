/*
 * videos.c — see videos.h.
 */
#include "rec/videos.h"

#include "core/alloc.h"

#include <string.h>

/* Rows and embeddings start on a cache line, so that a 128-byte row or
 * embedding is two cache lines, not three (scoring a candidate reads both,
 * at random); large tables start on a huge page and are made of them. The
 * engaged counts, read at random too, grow the same way. */
static size_t table_align(size_t bytes)
{
    return bytes >= ((size_t)8 << 20) ? (size_t)2 << 20 : 64;
}

static int table_grow(void **ptr, size_t old_n, size_t n, size_t size)
{
    return reel_aligned_grow(ptr, table_align(n * size), old_n, n, size);
}

int videos_init(struct video_table *videos, unsigned dim, size_t expected)
{
    memset(videos, 0, sizeof *videos);
    videos->dim = dim;
    videos->cap = expected > 256 ? (uint32_t)(expected < UINT32_MAX / 2 ? expected : UINT32_MAX / 2)
                                 : 256;
    void *rows = NULL, *emb = NULL, *engaged = NULL;
    if (table_grow(&rows, 0, videos->cap, sizeof *videos->rows) == 0)
        videos->rows = rows;
    if (table_grow(&emb, 0, (size_t)videos->cap * dim, sizeof *videos->emb) == 0)
        videos->emb = emb;
    if (table_grow(&engaged, 0, videos->cap, sizeof *videos->engaged) == 0)
        videos->engaged = engaged;
    if (!videos->rows || !videos->emb || !videos->engaged ||
        idmap_init(&videos->map, expected) < 0) {
        videos_clear(videos);
        return -1;
    }
    return 0;
}

void videos_clear(struct video_table *videos)
{
    idmap_clear(&videos->map);
    reel_free(videos->rows);
    reel_free(videos->emb);
    reel_free(videos->engaged);
    memset(videos, 0, sizeof *videos);
}

uint32_t videos_new_row(struct video_table *videos)
{
    if (videos->used == videos->cap) {
        if (videos->cap >= UINT32_MAX / 2)
            return IDMAP_NONE;
        /* A server's table grows from 256 rows to its catalogue. */
        size_t cap = (size_t)videos->cap * 2;
        void *rows = videos->rows;
        if (table_grow(&rows, videos->cap, cap, sizeof *videos->rows) < 0)
            return IDMAP_NONE;
        videos->rows = rows;
        void *emb = videos->emb;
        if (table_grow(&emb, (size_t)videos->cap * videos->dim, cap * videos->dim,
                       sizeof *videos->emb) < 0)
            return IDMAP_NONE;
        videos->emb = emb;
        void *engaged = videos->engaged;
        if (table_grow(&engaged, videos->cap, cap, sizeof *videos->engaged) < 0)
            return IDMAP_NONE;
        videos->engaged = engaged;
        videos->cap = (uint32_t)cap;
    }
    uint32_t row = videos->used++;
    struct video_row *v = &videos->rows[row];
    memset(v, 0, sizeof *v);
    video_engaged_set(&videos->engaged[row], 0);
    v->state = VIDEO_LIVE;
    v->ann_list = UINT32_MAX;
    v->fresh_pos = UINT32_MAX;
    videos->live++;
    return row;
}

int videos_publish(struct video_table *videos, uint64_t id, uint32_t row)
{
    videos->rows[row].id = id;
    return idmap_put(&videos->map, id, row);
}

size_t videos_bytes(const struct video_table *videos)
{
    return idmap_bytes(&videos->map) + (size_t)videos->cap * sizeof *videos->rows +
           (size_t)videos->cap * videos->dim * sizeof *videos->emb +
           (size_t)videos->cap * sizeof *videos->engaged;
}
