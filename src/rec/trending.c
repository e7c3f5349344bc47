/*
 * trending.c — see trending.h.
 */
#include "rec/trending.h"

#include "core/alloc.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define REBASE_HALF_LIVES 256.0
#define BEST_MEMO_SLOTS 32 /* the global list and the hashtags users follow */
#define BEST_MEMO_ROWS 64  /* answers up to this long are remembered */

static _Atomic uint64_t toplist_ids;

int toplist_init(struct toplist *list, uint32_t cap)
{
    memset(list, 0, sizeof *list);
    list->id = atomic_fetch_add(&toplist_ids, 1) + 1;
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

void toplist_track(struct toplist *list, struct video_table *videos, unsigned index)
{
    list->videos = videos;
    list->pos_index = index;
}

static void set_pos(struct toplist *list, uint32_t i)
{
    if (list->videos)
        list->videos->rows[list->rows[i]].top_pos[list->pos_index] = (uint16_t)(i + 1);
}

static void clear_pos(struct toplist *list, uint32_t row)
{
    if (list->videos)
        list->videos->rows[row].top_pos[list->pos_index] = 0;
}

static int32_t find_row(const struct toplist *list, uint32_t row)
{
    if (list->videos) {
        uint16_t p = list->videos->rows[row].top_pos[list->pos_index];
        return p ? (int32_t)p - 1 : -1;
    }
    for (uint32_t i = 0; i < list->count; i++)
        if (list->rows[i] == row)
            return (int32_t)i;
    return -1;
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
    int full = list->count == list->cap;
    /* The common case, a full list the score cannot enter and that does not
     * hold the row, costs one comparison when positions are tracked. */
    if (full && score <= list->scores[list->min_pos] && list->videos &&
        !list->videos->rows[row].top_pos[list->pos_index])
        return;
    list->version++;
    int32_t at = find_row(list, row);
    if (at >= 0) {
        list->scores[at] = score;
        if (full && ((uint32_t)at == list->min_pos || score < list->scores[list->min_pos]))
            find_min(list);
        return;
    }
    if (!full) {
        list->rows[list->count] = row;
        list->scores[list->count] = score;
        set_pos(list, list->count);
        list->count++;
        if (list->count == list->cap)
            find_min(list);
        return;
    }
    if (score <= list->scores[list->min_pos])
        return;
    clear_pos(list, list->rows[list->min_pos]);
    list->rows[list->min_pos] = row;
    list->scores[list->min_pos] = score;
    set_pos(list, list->min_pos);
    find_min(list);
}

static void toplist_remove(struct toplist *list, uint32_t row)
{
    int32_t i = find_row(list, row);
    if (i < 0)
        return;
    list->version++;
    clear_pos(list, row);
    list->count--;
    list->rows[i] = list->rows[list->count];
    list->scores[i] = list->scores[list->count];
    if ((uint32_t)i < list->count)
        set_pos(list, (uint32_t)i);
    if (list->count)
        find_min(list);
}

int trending_init(struct trending *tr, double half_life_ms, struct video_table *videos)
{
    memset(tr, 0, sizeof *tr);
    tr->half_life_ms = half_life_ms;
    if (toplist_init(&tr->global, TOP_GLOBAL) < 0 || toplist_init(&tr->popular, TOP_GLOBAL) < 0) {
        trending_clear(tr);
        return -1;
    }
    toplist_track(&tr->global, videos, 0);
    toplist_track(&tr->popular, videos, 1);
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
    tr->global.version++;
    for (uint32_t t = 0; t < tr->tag_cap; t++) {
        for (uint32_t i = 0; i < tr->per_tag[t].count; i++)
            tr->per_tag[t].scores[i] *= f;
        tr->per_tag[t].version++;
    }
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

/* A thread's last answer for one list: its best `asked` rows, `got` of
 * them, as the list was at `version`. */
struct best_memo {
    uint64_t id, version;
    uint32_t asked, got;
    uint32_t rows[BEST_MEMO_ROWS];
};

static _Thread_local struct best_memo best_memo[BEST_MEMO_SLOTS];

static size_t toplist_select(const struct toplist *list, uint32_t *out, size_t n);

size_t toplist_best(const struct toplist *list, uint32_t *out, size_t n)
{
    if (n > TOP_GLOBAL)
        n = TOP_GLOBAL;
    if (!list->id || n > BEST_MEMO_ROWS)
        return toplist_select(list, out, n);
    struct best_memo *m = &best_memo[list->id % BEST_MEMO_SLOTS];
    if (m->id != list->id || m->version != list->version || m->asked < n) {
        m->got = (uint32_t)toplist_select(list, m->rows, n);
        m->asked = (uint32_t)n;
        m->id = list->id;
        m->version = list->version;
    }
    /* The best n are the first n of a longer answer. */
    size_t k = m->got < n ? m->got : n;
    memcpy(out, m->rows, k * sizeof *out);
    return k;
}

static size_t toplist_select(const struct toplist *list, uint32_t *out, size_t n)
{
    /* Selection of the best n by insertion into a sorted run (n is small). */
    double best[TOP_GLOBAL];
    size_t k = 0;
    for (uint32_t i = 0; i < list->count; i++) {
        double s = list->scores[i];
        /* Full: only what comes before the last in the order (score,
         * then row, as below) gets in. */
        if (k == n && (n == 0 || s < best[n - 1] ||
                       (s == best[n - 1] && list->rows[i] > out[n - 1])))
            continue;
        size_t j = k < n ? k++ : n - 1;
        while (j > 0 && (best[j - 1] < s || (best[j - 1] == s && out[j - 1] > list->rows[i]))) {
            best[j] = best[j - 1];
            out[j] = out[j - 1];
            j--;
        }
        best[j] = s;
        out[j] = list->rows[i];
    }
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
