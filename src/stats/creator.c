/*
 * creator.c — see creator.h.
 *
 * Layout: an array of videos, each with its days sorted ascending (events
 * arrive in log order, so the day wanted is almost always the last one: an
 * O(1) check before a binary search), and an array of creators, each with
 * the indexes of its videos and of its profile row. Two u64maps find a video
 * or a creator by id. Everything is addressed by index, never by pointer,
 * because the arrays move when they grow.
 *
 * A row's viewers sketch is created on the first viewer, so the many rows
 * that only count an impression or a like cost no sketch; small sketches are
 * sparse (a few bytes per viewer) until they pass the dense size
 * (3 KiB at the default precision 12).
 *
 * Expiry rebuilds both arrays and maps from the surviving rows: it runs once
 * a day, and rebuilding is simpler to keep right than deleting in place from
 * open-addressing maps and index lists.
 */
#include "stats/creator.h"

#include "core/alloc.h"
#include "stats/active.h"
#include "stats/hll.h"
#include "stats/statfile.h"
#include "stats/u64map.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROW_BYTES 88
#define NO_INDEX UINT32_MAX

struct video_day {
    int32_t day;
    struct stats_counters c;
    struct hll *viewers; /* NULL until the first viewer */
};

struct video {
    uint64_t video_id; /* 0: a creator's profile row set */
    uint64_t creator_id;
    struct video_day *days;
    uint32_t count, cap;
};

struct creator {
    uint64_t creator_id;
    uint32_t *videos;
    uint32_t count, cap;
    uint32_t profile; /* index of the profile "video", or NO_INDEX */
};

struct stats_creator {
    unsigned precision;
    struct video *videos;
    size_t video_count, video_cap;
    struct u64map video_index;
    struct creator *creators;
    size_t creator_count, creator_cap;
    struct u64map creator_index;
};

/* ---- counters ------------------------------------------------------------ */

double stats_counters_watch_ratio(const struct stats_counters *c)
{
    return c->watches ? c->watch_ratio_sum / (double)c->watches : 0.0;
}

double stats_counters_completion_rate(const struct stats_counters *c)
{
    return c->watches ? (double)c->completions / (double)c->watches : 0.0;
}

static void counters_add(struct stats_counters *dst, const struct stats_counters *src)
{
    dst->impressions += src->impressions;
    dst->views += src->views;
    dst->watches += src->watches;
    dst->completions += src->completions;
    dst->watch_ratio_sum += src->watch_ratio_sum;
    dst->likes += src->likes;
    dst->comments += src->comments;
    dst->shares += src->shares;
    dst->followers += src->followers;
}

static int encode_row(uint64_t video_id, int32_t day, const struct stats_counters *c,
                      struct hll *viewers, unsigned precision, struct buf *out)
{
    uint8_t row[ROW_BYTES] = {0};
    uint64_t ratio_bits;
    memcpy(&ratio_bits, &c->watch_ratio_sum, sizeof ratio_bits);
    statfile_put_u64(row, video_id);
    statfile_put_u32(row + 8, (uint32_t)day);
    statfile_put_u64(row + 16, c->impressions);
    statfile_put_u64(row + 24, c->views);
    statfile_put_u64(row + 32, c->watches);
    statfile_put_u64(row + 40, c->completions);
    statfile_put_u64(row + 48, ratio_bits);
    statfile_put_u64(row + 56, (uint64_t)c->likes);
    statfile_put_u64(row + 64, c->comments);
    statfile_put_u64(row + 72, c->shares);
    statfile_put_u64(row + 80, (uint64_t)c->followers);
    if (buf_append(out, row, sizeof row) != BUF_OK)
        return -1;
    if (viewers)
        return hll_encode(viewers, out) == HLL_OK ? 0 : -1;
    struct hll *empty = hll_create(precision);
    int rc = empty && hll_encode(empty, out) == HLL_OK ? 0 : -1;
    hll_destroy(empty);
    return rc;
}

/* Decodes one row at data[*pos]; *viewers is new (caller owns). */
static int decode_row(const uint8_t *data, size_t len, size_t *pos, uint64_t *video_id,
                      int32_t *day, struct stats_counters *c, struct hll **viewers)
{
    *viewers = NULL;
    if (len - *pos < ROW_BYTES)
        return -1;
    const uint8_t *row = data + *pos;
    uint64_t ratio_bits = statfile_get_u64(row + 48);
    *video_id = statfile_get_u64(row);
    *day = (int32_t)statfile_get_u32(row + 8);
    c->impressions = statfile_get_u64(row + 16);
    c->views = statfile_get_u64(row + 24);
    c->watches = statfile_get_u64(row + 32);
    c->completions = statfile_get_u64(row + 40);
    memcpy(&c->watch_ratio_sum, &ratio_bits, sizeof ratio_bits);
    c->likes = (int64_t)statfile_get_u64(row + 56);
    c->comments = statfile_get_u64(row + 64);
    c->shares = statfile_get_u64(row + 72);
    c->followers = (int64_t)statfile_get_u64(row + 80);
    if (statfile_get_u32(row + 12) != 0 || !isfinite(c->watch_ratio_sum) ||
        c->watch_ratio_sum < 0 || c->watch_ratio_sum > (double)c->watches ||
        c->completions > c->watches)
        return -1;
    *pos += ROW_BYTES;
    size_t used = 0;
    if (hll_decode(data + *pos, len - *pos, viewers, &used) != HLL_OK)
        return -1;
    *pos += used;
    return 0;
}

/* ---- reports ------------------------------------------------------------- */

void stats_creator_report_init(struct stats_creator_report *r, uint64_t creator_id)
{
    memset(r, 0, sizeof *r);
    r->creator_id = creator_id;
}

void stats_creator_report_clear(struct stats_creator_report *r)
{
    for (size_t i = 0; i < r->count; i++)
        hll_destroy(r->rows[i].viewers);
    reel_free(r->rows);
    memset(r, 0, sizeof *r);
}

/* Appends a row taking ownership of viewers (destroyed on failure). */
static int report_append(struct stats_creator_report *r, uint64_t video_id, int32_t day,
                         const struct stats_counters *c, struct hll *viewers)
{
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        void *grown = r->rows;
        if (reel_array_grow(&grown, cap, sizeof *r->rows) < 0) {
            hll_destroy(viewers);
            return -1;
        }
        r->rows = grown;
        r->cap = cap;
    }
    struct stats_creator_row *row = &r->rows[r->count++];
    row->video_id = video_id;
    row->day = day;
    row->counters = *c;
    row->viewers = viewers;
    return 0;
}

static int cmp_rows(const void *a, const void *b)
{
    const struct stats_creator_row *x = a, *y = b;
    if (x->video_id != y->video_id)
        return x->video_id < y->video_id ? -1 : 1;
    return (x->day > y->day) - (x->day < y->day);
}

/* Sorts the rows and folds rows of the same (video, day) into one. */
static int report_normalize(struct stats_creator_report *r)
{
    if (r->count < 2)
        return 0;
    qsort(r->rows, r->count, sizeof *r->rows, cmp_rows);
    size_t out = 0;
    int rc = 0;
    for (size_t i = 0; i < r->count; i++) {
        struct stats_creator_row *row = &r->rows[i];
        if (out > 0 && cmp_rows(&r->rows[out - 1], row) == 0) {
            struct stats_creator_row *into = &r->rows[out - 1];
            counters_add(&into->counters, &row->counters);
            if (hll_merge(into->viewers, row->viewers) != HLL_OK)
                rc = -1;
            hll_destroy(row->viewers);
        } else {
            r->rows[out++] = *row;
        }
    }
    r->count = out;
    return rc;
}

int stats_creator_report_merge(struct stats_creator_report *dst,
                               const struct stats_creator_report *src)
{
    if (dst->creator_id != src->creator_id)
        return -1;
    for (size_t i = 0; i < src->count; i++) {
        const struct stats_creator_row *row = &src->rows[i];
        struct hll *viewers = hll_clone(row->viewers);
        if (!viewers || report_append(dst, row->video_id, row->day, &row->counters, viewers) < 0)
            return -1;
    }
    return report_normalize(dst);
}

int stats_creator_report_totals(const struct stats_creator_report *r, struct stats_counters *total,
                                uint64_t *unique_viewers)
{
    memset(total, 0, sizeof *total);
    *unique_viewers = 0;
    if (r->count == 0)
        return 0;
    struct hll *all = hll_create(hll_precision(r->rows[0].viewers));
    if (!all)
        return -1;
    for (size_t i = 0; i < r->count; i++) {
        counters_add(total, &r->rows[i].counters);
        if (hll_merge(all, r->rows[i].viewers) != HLL_OK) {
            hll_destroy(all);
            return -1;
        }
    }
    *unique_viewers = hll_count(all);
    hll_destroy(all);
    return 0;
}

uint64_t stats_creator_row_viewers(const struct stats_creator_row *row)
{
    return hll_count(row->viewers);
}

int stats_creator_report_encode(const struct stats_creator_report *r, struct buf *out)
{
    uint8_t header[16] = {0};
    statfile_put_u64(header, r->creator_id);
    statfile_put_u32(header + 8, (uint32_t)r->count);
    if (buf_append(out, header, sizeof header) != BUF_OK)
        return -1;
    for (size_t i = 0; i < r->count; i++) {
        const struct stats_creator_row *row = &r->rows[i];
        if (encode_row(row->video_id, row->day, &row->counters, row->viewers, 0, out) < 0)
            return -1;
    }
    return 0;
}

int stats_creator_report_decode(struct stats_creator_report *r, const uint8_t *data, size_t len,
                                char *err, size_t errlen)
{
    if (len < 16 || statfile_get_u32(data + 12) != 0) {
        snprintf(err, errlen, "creator report: bad header");
        return -1;
    }
    r->creator_id = statfile_get_u64(data);
    uint32_t n = statfile_get_u32(data + 8);
    size_t pos = 16;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t video_id;
        int32_t day;
        struct stats_counters c;
        struct hll *viewers;
        if (decode_row(data, len, &pos, &video_id, &day, &c, &viewers) < 0) {
            snprintf(err, errlen, "creator report: row %u is corrupt or truncated", i);
            return -1;
        }
        if (report_append(r, video_id, day, &c, viewers) < 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    if (pos != len) {
        snprintf(err, errlen, "creator report: %zu bytes after the last row", len - pos);
        return -1;
    }
    if (report_normalize(r) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* ---- the accumulator ----------------------------------------------------- */

struct stats_creator *stats_creator_create(unsigned viewer_precision)
{
    if (viewer_precision < HLL_PRECISION_MIN || viewer_precision > HLL_PRECISION_MAX)
        return NULL;
    struct stats_creator *cs = reel_calloc(1, sizeof *cs);
    if (!cs)
        return NULL;
    cs->precision = viewer_precision;
    u64map_init(&cs->video_index);
    u64map_init(&cs->creator_index);
    return cs;
}

static void video_clear(struct video *v)
{
    for (uint32_t i = 0; i < v->count; i++)
        hll_destroy(v->days[i].viewers);
    reel_free(v->days);
}

static void free_all(struct stats_creator *cs)
{
    for (size_t i = 0; i < cs->video_count; i++)
        video_clear(&cs->videos[i]);
    for (size_t i = 0; i < cs->creator_count; i++)
        reel_free(cs->creators[i].videos);
    reel_free(cs->videos);
    reel_free(cs->creators);
    u64map_clear(&cs->video_index);
    u64map_clear(&cs->creator_index);
}

void stats_creator_destroy(struct stats_creator *cs)
{
    if (!cs)
        return;
    free_all(cs);
    reel_free(cs);
}

static int grow(void **array, size_t *cap, size_t count, size_t size)
{
    if (count < *cap)
        return 0;
    size_t n = *cap ? *cap * 2 : 64;
    if (n > NO_INDEX - 1 || reel_array_grow(array, n, size) < 0)
        return -1;
    *cap = n;
    return 0;
}

static uint32_t creator_find_or_add(struct stats_creator *cs, uint64_t creator_id)
{
    uint32_t *at = u64map_find(&cs->creator_index, creator_id);
    if (at)
        return *at;
    void *array = cs->creators;
    int rc = grow(&array, &cs->creator_cap, cs->creator_count, sizeof *cs->creators);
    cs->creators = array;
    if (rc < 0)
        return NO_INDEX;
    uint32_t index = (uint32_t)cs->creator_count;
    if (u64map_put(&cs->creator_index, creator_id, index) < 0)
        return NO_INDEX;
    struct creator *c = &cs->creators[cs->creator_count++];
    memset(c, 0, sizeof *c);
    c->creator_id = creator_id;
    c->profile = NO_INDEX;
    return index;
}

static int creator_link(struct stats_creator *cs, uint32_t creator, uint32_t video)
{
    struct creator *c = &cs->creators[creator];
    if (c->count == c->cap) {
        size_t cap = c->cap ? (size_t)c->cap * 2 : 4;
        void *grown = c->videos;
        if (reel_array_grow(&grown, cap, sizeof *c->videos) < 0)
            return -1;
        c->videos = grown;
        c->cap = (uint32_t)cap;
    }
    c->videos[c->count++] = video;
    return 0;
}

static uint32_t video_append(struct stats_creator *cs, uint64_t video_id, uint64_t creator_id)
{
    void *array = cs->videos;
    int rc = grow(&array, &cs->video_cap, cs->video_count, sizeof *cs->videos);
    cs->videos = array;
    if (rc < 0)
        return NO_INDEX;
    struct video *v = &cs->videos[cs->video_count];
    memset(v, 0, sizeof *v);
    v->video_id = video_id;
    v->creator_id = creator_id;
    return (uint32_t)cs->video_count++;
}

/* The video's index, created on first sight; a creator learnt later is
 * attached then. video_id 0 means creator_id's profile row set. */
static uint32_t video_find_or_add(struct stats_creator *cs, uint64_t video_id, uint64_t creator_id)
{
    if (video_id == 0) {
        if (!creator_id)
            return NO_INDEX;
        uint32_t c = creator_find_or_add(cs, creator_id);
        if (c == NO_INDEX)
            return NO_INDEX;
        if (cs->creators[c].profile == NO_INDEX) {
            uint32_t v = video_append(cs, 0, creator_id);
            if (v == NO_INDEX)
                return NO_INDEX;
            cs->creators[c].profile = v;
        }
        return cs->creators[c].profile;
    }
    uint32_t *at = u64map_find(&cs->video_index, video_id);
    uint32_t v;
    if (at) {
        v = *at;
        if (cs->videos[v].creator_id || !creator_id)
            return v;
    } else {
        v = video_append(cs, video_id, creator_id);
        if (v == NO_INDEX)
            return NO_INDEX;
        if (u64map_put(&cs->video_index, video_id, v) < 0) {
            cs->video_count--;
            return NO_INDEX;
        }
        if (!creator_id)
            return v;
    }
    cs->videos[v].creator_id = creator_id;
    uint32_t c = creator_find_or_add(cs, creator_id);
    if (c == NO_INDEX || creator_link(cs, c, v) < 0) {
        cs->videos[v].creator_id = 0; /* retried on the next event */
        return NO_INDEX;
    }
    return v;
}

/* The row of (video, day), inserted in day order if new. */
static struct video_day *video_day_get(struct video *v, int32_t day)
{
    if (v->count && v->days[v->count - 1].day == day)
        return &v->days[v->count - 1];
    uint32_t lo = 0, hi = v->count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (v->days[mid].day < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < v->count && v->days[lo].day == day)
        return &v->days[lo];
    if (v->count == v->cap) {
        size_t cap = v->cap ? (size_t)v->cap * 2 : 2;
        void *grown = v->days;
        if (reel_array_grow(&grown, cap, sizeof *v->days) < 0)
            return NULL;
        v->days = grown;
        v->cap = (uint32_t)cap;
    }
    memmove(&v->days[lo + 1], &v->days[lo], (v->count - lo) * sizeof *v->days);
    v->count++;
    memset(&v->days[lo], 0, sizeof v->days[lo]);
    v->days[lo].day = day;
    return &v->days[lo];
}

static int add_viewer(struct stats_creator *cs, struct video_day *d, uint64_t user_id)
{
    if (!d->viewers && !(d->viewers = hll_create(cs->precision)))
        return -1;
    return hll_add(d->viewers, user_id) == HLL_OK ? 0 : -1;
}

int stats_creator_apply(struct stats_creator *cs, const struct event *ev)
{
    uint64_t video_id = ev->video_id, creator_id = ev->creator_id;
    switch (ev->type) {
    case EVENT_IMPRESSION:
    case EVENT_PLAY:
    case EVENT_WATCH:
    case EVENT_LIKE:
    case EVENT_UNLIKE:
    case EVENT_COMMENT:
    case EVENT_SHARE:
        if (!video_id)
            return 0;
        break;
    case EVENT_FOLLOW:
    case EVENT_UNFOLLOW:
        if (!creator_id) /* the followed user */
            return 0;
        break;
    default: return 0; /* skips and "not interested" are not creator statistics */
    }
    uint32_t v = video_find_or_add(cs, video_id, creator_id);
    if (v == NO_INDEX)
        return -1;
    struct video_day *d = video_day_get(&cs->videos[v], stats_day_of_ms(ev->at_ms));
    if (!d)
        return -1;
    struct stats_counters *c = &d->c;
    switch (ev->type) {
    case EVENT_IMPRESSION: c->impressions++; return 0;
    case EVENT_PLAY: c->views++; return add_viewer(cs, d, ev->user_id);
    case EVENT_WATCH:
        if (ev->duration_ms) {
            double ratio = (double)ev->watched_ms / (double)ev->duration_ms;
            c->watches++;
            c->watch_ratio_sum += ratio < 1.0 ? ratio : 1.0;
            c->completions += ev->watched_ms >= ev->duration_ms;
        }
        return add_viewer(cs, d, ev->user_id);
    case EVENT_LIKE: c->likes++; return 0;
    case EVENT_UNLIKE: c->likes--; return 0;
    case EVENT_COMMENT: c->comments++; return 0;
    case EVENT_SHARE: c->shares++; return 0;
    case EVENT_FOLLOW: c->followers++; return 0;
    case EVENT_UNFOLLOW: c->followers--; return 0;
    default: return 0;
    }
}

static int report_video(struct stats_creator *cs, uint32_t v, int32_t first, int32_t last,
                        struct stats_creator_report *r)
{
    const struct video *video = &cs->videos[v];
    for (uint32_t i = 0; i < video->count; i++) {
        const struct video_day *d = &video->days[i];
        if (d->day < first || d->day > last)
            continue;
        struct hll *viewers = d->viewers ? hll_clone(d->viewers) : hll_create(cs->precision);
        if (!viewers || report_append(r, video->video_id, d->day, &d->c, viewers) < 0)
            return -1;
    }
    return 0;
}

int stats_creator_report(struct stats_creator *cs, uint64_t creator_id, int32_t first, int32_t last,
                         struct stats_creator_report *r)
{
    if (r->creator_id != creator_id)
        return -1;
    uint32_t *at = u64map_find(&cs->creator_index, creator_id);
    if (!at)
        return 0;
    const struct creator *c = &cs->creators[*at];
    for (uint32_t i = 0; i < c->count; i++)
        if (report_video(cs, c->videos[i], first, last, r) < 0)
            return -1;
    if (c->profile != NO_INDEX && report_video(cs, c->profile, first, last, r) < 0)
        return -1;
    return report_normalize(r);
}

/* Rebuilds the maps and the creators' lists from the videos array. */
static int rebuild_indexes(struct stats_creator *cs)
{
    for (size_t i = 0; i < cs->creator_count; i++)
        reel_free(cs->creators[i].videos);
    cs->creator_count = 0;
    u64map_reset(&cs->creator_index);
    u64map_reset(&cs->video_index);
    for (size_t i = 0; i < cs->video_count; i++) {
        struct video *v = &cs->videos[i];
        if (v->video_id && u64map_put(&cs->video_index, v->video_id, (uint32_t)i) < 0)
            return -1;
        if (!v->creator_id)
            continue;
        uint32_t c = creator_find_or_add(cs, v->creator_id);
        if (c == NO_INDEX)
            return -1;
        if (v->video_id == 0)
            cs->creators[c].profile = (uint32_t)i;
        else if (creator_link(cs, c, (uint32_t)i) < 0)
            return -1;
    }
    return 0;
}

int stats_creator_expire(struct stats_creator *cs, int32_t oldest_day)
{
    size_t out = 0;
    for (size_t i = 0; i < cs->video_count; i++) {
        struct video *v = &cs->videos[i];
        uint32_t gone = 0;
        while (gone < v->count && v->days[gone].day < oldest_day)
            hll_destroy(v->days[gone++].viewers);
        memmove(v->days, v->days + gone, (v->count - gone) * sizeof *v->days);
        v->count -= gone;
        if (v->count == 0) {
            reel_free(v->days);
            continue;
        }
        cs->videos[out++] = *v;
    }
    cs->video_count = out;
    return rebuild_indexes(cs);
}

int stats_creator_forget(struct stats_creator *cs, uint64_t creator_id)
{
    size_t out = 0;
    for (size_t i = 0; i < cs->video_count; i++) {
        struct video *v = &cs->videos[i];
        if (v->creator_id == creator_id) {
            for (uint32_t d = 0; d < v->count; d++)
                hll_destroy(v->days[d].viewers);
            reel_free(v->days);
            continue;
        }
        cs->videos[out++] = *v;
    }
    cs->video_count = out;
    return rebuild_indexes(cs);
}

int stats_creator_encode(const struct stats_creator *cs, struct buf *out)
{
    uint8_t header[16] = {0};
    statfile_put_u32(header, cs->precision);
    statfile_put_u64(header + 8, cs->video_count);
    if (buf_append(out, header, sizeof header) != BUF_OK)
        return -1;
    for (size_t i = 0; i < cs->video_count; i++) {
        const struct video *v = &cs->videos[i];
        uint8_t head[24] = {0};
        statfile_put_u64(head, v->video_id);
        statfile_put_u64(head + 8, v->creator_id);
        statfile_put_u32(head + 16, v->count);
        if (buf_append(out, head, sizeof head) != BUF_OK)
            return -1;
        for (uint32_t d = 0; d < v->count; d++)
            if (encode_row(v->video_id, v->days[d].day, &v->days[d].c, v->days[d].viewers,
                           cs->precision, out) < 0)
                return -1;
    }
    return 0;
}

struct stats_creator *stats_creator_decode(const uint8_t *data, size_t len, char *err,
                                           size_t errlen)
{
    if (len < 16 || statfile_get_u32(data + 4) != 0) {
        snprintf(err, errlen, "creator snapshot: bad header");
        return NULL;
    }
    struct stats_creator *cs = stats_creator_create(statfile_get_u32(data));
    if (!cs) {
        snprintf(err, errlen, "creator snapshot: bad precision or out of memory");
        return NULL;
    }
    uint64_t videos = statfile_get_u64(data + 8);
    size_t pos = 16;
    for (uint64_t i = 0; i < videos; i++) {
        if (len - pos < 24 || statfile_get_u32(data + pos + 20) != 0)
            goto corrupt;
        uint64_t video_id = statfile_get_u64(data + pos);
        uint64_t creator_id = statfile_get_u64(data + pos + 8);
        uint32_t days = statfile_get_u32(data + pos + 16);
        pos += 24;
        if ((video_id == 0 && creator_id == 0) ||
            (video_id && u64map_find(&cs->video_index, video_id)))
            goto corrupt;
        uint32_t v = video_find_or_add(cs, video_id, creator_id);
        if (v == NO_INDEX)
            goto nomem;
        if (cs->videos[v].count) /* a second profile for one creator */
            goto corrupt;
        for (uint32_t d = 0; d < days; d++) {
            uint64_t row_video;
            int32_t day;
            struct stats_counters c;
            struct hll *viewers;
            if (decode_row(data, len, &pos, &row_video, &day, &c, &viewers) < 0)
                goto corrupt;
            struct video *video = &cs->videos[v];
            if (row_video != video_id ||
                (video->count && video->days[video->count - 1].day >= day)) {
                hll_destroy(viewers);
                goto corrupt;
            }
            struct video_day *slot = video_day_get(video, day);
            if (!slot) {
                hll_destroy(viewers);
                goto nomem;
            }
            slot->c = c;
            if (hll_count(viewers) == 0)
                hll_destroy(viewers);
            else
                slot->viewers = viewers;
        }
    }
    if (pos != len)
        goto corrupt;
    return cs;
corrupt:
    snprintf(err, errlen, "creator snapshot: corrupt or truncated near byte %zu", pos);
    stats_creator_destroy(cs);
    return NULL;
nomem:
    snprintf(err, errlen, "out of memory");
    stats_creator_destroy(cs);
    return NULL;
}

size_t stats_creator_memory_bytes(const struct stats_creator *cs)
{
    size_t n = sizeof *cs + cs->video_cap * sizeof *cs->videos +
               cs->creator_cap * sizeof *cs->creators + u64map_memory_bytes(&cs->video_index) +
               u64map_memory_bytes(&cs->creator_index);
    for (size_t i = 0; i < cs->video_count; i++) {
        const struct video *v = &cs->videos[i];
        n += v->cap * sizeof *v->days;
        for (uint32_t d = 0; d < v->count; d++)
            if (v->days[d].viewers)
                n += hll_memory_bytes(v->days[d].viewers);
    }
    for (size_t i = 0; i < cs->creator_count; i++)
        n += cs->creators[i].cap * sizeof *cs->creators[i].videos;
    return n;
}
