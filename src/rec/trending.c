/*
 * trending.c — see trending.h.
 */
#include "rec/trending.h"

#include "core/alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define REBASE_HALF_LIVES 256.0

int toplist_init(struct toplist *list, uint32_t cap)
{
    memset(list, 0, sizeof *list);
    list->rows = reel_calloc(cap, sizeof *list->rows);
    list->scores = reel_calloc(cap, sizeof *list->scores);
    if (!list->rows || !list->scores) {
        toplist_clear(list);
        return -1;
    }
    list->cap = cap;
    return 0;
}

void toplist_clear(struct toplist *list)
{
    reel_free(list->rows);
    reel_free(list->scores);
    memset(list, 0, sizeof *list);
}

static void find_min(struct toplist *list)
{
    uint32_t m = 0;
    for (uint32_t i = 1; i < list->count; i++)
        if (list->scores[i] < list->scores[m])
            m = i;
    list->min_pos = m;
}

void toplist_update(struct toplist *list, uint32_t row, double score)
{
    if (!list->cap)
        return;
    /* A full list the score cannot enter and that does not hold the row is the
     * common case: one comparison, then the scan only when needed. */
    int full = list->count == list->cap;
    for (uint32_t i = 0; i < list->count; i++) {
        if (list->rows[i] == row) {
            list->scores[i] = score;
            if (full && (i == list->min_pos || score < list->scores[list->min_pos]))
                find_min(list);
            return;
        }
    }
    if (!full) {
        list->rows[list->count] = row;
        list->scores[list->count] = score;
        list->count++;
        if (list->count == list->cap)
            find_min(list);
        return;
    }
    if (score <= list->scores[list->min_pos])
        return;
    list->rows[list->min_pos] = row;
    list->scores[list->min_pos] = score;
    find_min(list);
}

static void toplist_remove(struct toplist *list, uint32_t row)
{
    for (uint32_t i = 0; i < list->count; i++) {
        if (list->rows[i] == row) {
            list->count--;
            list->rows[i] = list->rows[list->count];
            list->scores[i] = list->scores[list->count];
            if (list->count)
                find_min(list);
            return;
        }
    }
}

int trending_init(struct trending *tr, double half_life_ms)
{
    memset(tr, 0, sizeof *tr);
    tr->half_life_ms = half_life_ms;
    if (toplist_init(&tr->global, TOP_GLOBAL) < 0 || toplist_init(&tr->popular, TOP_GLOBAL) < 0) {
        trending_clear(tr);
        return -1;
    }
    return 0;
}

void trending_clear(struct trending *tr)
{
    toplist_clear(&tr->global);
    toplist_clear(&tr->popular);
    for (uint32_t i = 0; i < tr->tag_cap; i++)
        toplist_clear(&tr->per_tag[i]);
    reel_free(tr->per_tag);
    memset(tr, 0, sizeof *tr);
}

struct toplist *trending_tag_list(struct trending *tr, uint32_t tag)
{
    if (tag >= tr->tag_cap) {
        uint32_t cap = tr->tag_cap ? tr->tag_cap : 64;
        while (cap <= tag)
            cap *= 2;
        void *p = tr->per_tag;
        if (reel_array_grow(&p, cap, sizeof *tr->per_tag) < 0)
            return NULL;
        tr->per_tag = p;
        memset(tr->per_tag + tr->tag_cap, 0, (cap - tr->tag_cap) * sizeof *tr->per_tag);
        tr->tag_cap = cap;
    }
    struct toplist *l = &tr->per_tag[tag];
    if (!l->cap && toplist_init(l, TOP_TAG) < 0)
        return NULL;
    return l;
}

static void rebase(struct trending *tr, struct video_table *videos, double half_lives)
{
    double f = exp2(-half_lives);
    for (uint32_t r = 0; r < videos->used; r++)
        videos->rows[r].trend *= f;
    for (uint32_t i = 0; i < tr->global.count; i++)
        tr->global.scores[i] *= f;
    for (uint32_t t = 0; t < tr->tag_cap; t++)
        for (uint32_t i = 0; i < tr->per_tag[t].count; i++)
            tr->per_tag[t].scores[i] *= f;
    tr->epoch_ms += (int64_t)(half_lives * tr->half_life_ms);
}

int trending_add(struct trending *tr, struct video_table *videos, uint32_t row, double weight,
                 int64_t at_ms)
{
    if (tr->epoch_ms == 0)
        tr->epoch_ms = at_ms;
    double h = (double)(at_ms - tr->epoch_ms) / tr->half_life_ms;
    if (h > REBASE_HALF_LIVES) {
        rebase(tr, videos, floor(h) - 8);
        h = (double)(at_ms - tr->epoch_ms) / tr->half_life_ms;
    }
    if (h < -REBASE_HALF_LIVES) /* far older than the epoch: worth nothing now */
        return 0;
    struct video_row *v = &videos->rows[row];
    v->trend += weight * exp2(h);
    toplist_update(&tr->global, row, v->trend);
    int rc = 0;
    for (unsigned i = 0; i < v->tag_count; i++) {
        struct toplist *l = trending_tag_list(tr, v->tags[i]);
        if (l)
            toplist_update(l, row, v->trend);
        else
            rc = -1;
    }
    return rc;
}

void trending_popular(struct trending *tr, uint32_t row, double score)
{
    toplist_update(&tr->popular, row, score);
}

double trending_value(const struct trending *tr, const struct video_row *video, int64_t now_ms)
{
    if (tr->epoch_ms == 0)
        return 0;
    return video->trend * exp2(-(double)(now_ms - tr->epoch_ms) / tr->half_life_ms);
}

void trending_remove(struct trending *tr, const struct video_row *video, uint32_t row)
{
    toplist_remove(&tr->global, row);
    toplist_remove(&tr->popular, row);
    for (unsigned i = 0; i < video->tag_count; i++)
        if (video->tags[i] < tr->tag_cap)
            toplist_remove(&tr->per_tag[video->tags[i]], row);
}

static int by_score_desc(const void *a, const void *b, void *arg)
{
    const double *s = arg;
    double x = s[*(const uint32_t *)a], y = s[*(const uint32_t *)b];
    return x < y ? 1 : x > y ? -1 : 0;
}

size_t toplist_best(const struct toplist *list, uint32_t *out, size_t n)
{
    uint32_t idx[TOP_GLOBAL];
    uint32_t count = list->count < TOP_GLOBAL ? list->count : TOP_GLOBAL;
    for (uint32_t i = 0; i < count; i++)
        idx[i] = i;
    qsort_r(idx, count, sizeof idx[0], by_score_desc, list->scores);
    size_t k = n < count ? n : count;
    for (size_t i = 0; i < k; i++)
        out[i] = list->rows[idx[i]];
    return k;
}

const struct toplist *trending_tag(const struct trending *tr, uint32_t tag)
{
    return tag < tr->tag_cap && tr->per_tag[tag].cap ? &tr->per_tag[tag] : NULL;
}

size_t trending_bytes(const struct trending *tr)
{
    size_t n = (size_t)TOP_GLOBAL * 24 + (size_t)tr->tag_cap * sizeof *tr->per_tag;
    for (uint32_t t = 0; t < tr->tag_cap; t++)
        n += (size_t)tr->per_tag[t].cap * 12;
    return n;
}
