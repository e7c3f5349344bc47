/*
 * videos.c — see videos.h.
 */
#include "rec/videos.h"

#include "core/alloc.h"

#include <string.h>

int videos_init(struct video_table *videos, unsigned dim, size_t expected)
{
    memset(videos, 0, sizeof *videos);
    videos->dim = dim;
    videos->cap = expected > 256 ? (uint32_t)(expected < UINT32_MAX / 2 ? expected : UINT32_MAX / 2)
                                 : 256;
    videos->rows = reel_calloc(videos->cap, sizeof *videos->rows);
    videos->emb = reel_calloc((size_t)videos->cap * dim, sizeof *videos->emb);
    if (!videos->rows || !videos->emb || idmap_init(&videos->map, expected) < 0) {
        videos_clear(videos);
        return -1;
    }
    rec_hugepages(videos->rows, (size_t)videos->cap * sizeof *videos->rows);
    rec_hugepages(videos->emb, (size_t)videos->cap * dim * sizeof *videos->emb);
    return 0;
}

void videos_clear(struct video_table *videos)
{
    idmap_clear(&videos->map);
    reel_free(videos->rows);
    reel_free(videos->emb);
    memset(videos, 0, sizeof *videos);
}

uint32_t videos_new_row(struct video_table *videos)
{
    if (videos->used == videos->cap) {
        if (videos->cap >= UINT32_MAX / 2)
            return IDMAP_NONE;
        size_t cap = (size_t)videos->cap * 2;
        void *rows = videos->rows;
        if (reel_array_grow(&rows, cap, sizeof *videos->rows) < 0)
            return IDMAP_NONE;
        videos->rows = rows;
        void *emb = videos->emb;
        if (reel_array_grow(&emb, cap * videos->dim, sizeof *videos->emb) < 0)
            return IDMAP_NONE;
        videos->emb = emb;
        /* Before the new halves are touched, so that they fault in as huge
         * pages too (a server's table grows from 256 rows to its catalogue;
         * scoring reads rows and embeddings at random). */
        rec_hugepages(videos->rows, cap * sizeof *videos->rows);
        rec_hugepages(videos->emb, cap * videos->dim * sizeof *videos->emb);
        memset(videos->rows + videos->cap, 0, videos->cap * sizeof *videos->rows);
        memset(videos->emb + (size_t)videos->cap * videos->dim, 0,
               (size_t)videos->cap * videos->dim * sizeof *videos->emb);
        videos->cap = (uint32_t)cap;
    }
    uint32_t row = videos->used++;
    struct video_row *v = &videos->rows[row];
    memset(v, 0, sizeof *v);
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
           (size_t)videos->cap * videos->dim * sizeof *videos->emb;
}
