/*
 * trending.c — see trending.h.
 *
 * Decay without touching every item. With a shared reference time r, an item
 * stores s = sum(points_i * 2^((t_i - r) / h)); its score at time t is
 * s * 2^(-(t - r) / h). The factor is the same for every item, so the order
 * of items never changes with time alone: an update is one multiply-add and
 * the top-K query ranks by s, scaling only the K answers. This is the usual
 * "forward decay" trick (Cormode, Shkapenyuk, Srivastava, Xu, ICDE 2009).
 *
 * The catch is growth: s grows as 2^((t - r) / h). When an update's exponent
 * passes REBASE_EXPONENT the reference moves to that time and every s is
 * scaled down once (O(n), once per REBASE_EXPONENT half-lives — with a 6 h
 * half-life, every 10 days), dropping items whose score fell below
 * FORGET_POINTS. Doubles keep 53 bits of mantissa at any exponent, so the
 * relative precision of scores does not depend on how far r lags.
 *
 * Negative points (skips, "not interested", an unlike) subtract the same
 * decayed amount and clamp at zero. Because a later penalty weighs more in
 * reference units than an earlier reward, an unlike right after a like
 * removes almost exactly what the like added, and later ones slightly more
 * — the conservative direction for a trending list.
 *
 * Memory is bounded by max_items: past it, the items with the lowest s are
 * dropped in one O(n) selection down to 3/4 of the bound, so the amortised
 * cost per new item stays O(1).
 */
#include "stats/trending.h"

#include "core/alloc.h"
#include "stats/hll.h"
#include "stats/statfile.h"
#include "stats/u64map.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REBASE_EXPONENT 60.0
#define FORGET_POINTS 1e-6
#define MIN_EXPONENT (-1000.0)
#define ENCODED_HEADER_BYTES 24
#define ENCODED_ITEM_BYTES 17

struct item {
    uint64_t key;
    double score; /* at the reference time */
    char *label;  /* NULL for videos */
};

struct stats_trending {
    int64_t half_life_ms;
    int64_t reference_ms;
    int have_reference;
    size_t max_items;
    struct item *items;
    size_t count, cap;
    struct u64map index; /* key -> position in items */
};

struct stats_trending *stats_trending_create(int64_t half_life_ms, size_t max_items)
{
    if (half_life_ms <= 0 || max_items < 4 || max_items > UINT32_MAX / 2)
        return NULL;
    struct stats_trending *t = reel_calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->half_life_ms = half_life_ms;
    t->max_items = max_items;
    u64map_init(&t->index);
    return t;
}

void stats_trending_destroy(struct stats_trending *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->count; i++)
        reel_free(t->items[i].label);
    reel_free(t->items);
    u64map_clear(&t->index);
    reel_free(t);
}

static double exponent_at(const struct stats_trending *t, int64_t at_ms)
{
    return (double)(at_ms - t->reference_ms) / (double)t->half_life_ms;
}

/* Rebuilds the index after items moved. */
static int reindex(struct stats_trending *t)
{
    u64map_reset(&t->index);
    for (size_t i = 0; i < t->count; i++)
        if (u64map_put(&t->index, t->items[i].key, (uint32_t)i) < 0)
            return -1;
    return 0;
}

/* Keeps, in order, the items scoring at least threshold (and above 0). */
static int compact(struct stats_trending *t, double threshold)
{
    size_t out = 0;
    for (size_t i = 0; i < t->count; i++) {
        if (t->items[i].score >= threshold && t->items[i].score > 0)
            t->items[out++] = t->items[i];
        else
            reel_free(t->items[i].label);
    }
    t->count = out;
    return reindex(t);
}

static int rebase(struct stats_trending *t, int64_t at_ms)
{
    double scale = exp2(-exponent_at(t, at_ms));
    for (size_t i = 0; i < t->count; i++)
        t->items[i].score *= scale;
    t->reference_ms = at_ms;
    return compact(t, FORGET_POINTS);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Drops the lowest-scored items down to 3/4 of max_items. */
static int prune(struct stats_trending *t)
{
    double *scores = reel_malloc(t->count * sizeof *scores);
    if (!scores)
        return -1;
    for (size_t i = 0; i < t->count; i++)
        scores[i] = t->items[i].score;
    qsort(scores, t->count, sizeof *scores, cmp_double);
    size_t keep = t->max_items * 3 / 4;
    double threshold = scores[t->count - keep];
    reel_free(scores);
    /* Ties at the threshold may keep a few more than `keep`; still bounded
     * by max_items because strictly lower scores go. */
    if (compact(t, threshold) < 0)
        return -1;
    if (t->count > t->max_items) { /* everything tied: drop the tail */
        for (size_t i = keep; i < t->count; i++)
            reel_free(t->items[i].label);
        t->count = keep;
        return reindex(t);
    }
    return 0;
}

/* Bytes of label kept: at most STATS_LABEL_MAX - 1, cut at a UTF-8 boundary. */
static size_t label_length(const char *label)
{
    size_t n = strnlen(label, STATS_LABEL_MAX);
    if (n < STATS_LABEL_MAX)
        return n;
    n = STATS_LABEL_MAX - 1;
    while (n > 0 && ((unsigned char)label[n] & 0xc0) == 0x80)
        n--;
    return n;
}

int stats_trending_add(struct stats_trending *t, uint64_t key, const char *label, double points,
                       int64_t at_ms)
{
    if (!key)
        return -1;
    if (!t->have_reference) {
        t->reference_ms = at_ms;
        t->have_reference = 1;
    }
    double exponent = exponent_at(t, at_ms);
    if (exponent > REBASE_EXPONENT) {
        if (rebase(t, at_ms) < 0)
            return -1;
        exponent = 0;
    }
    double delta = exponent < MIN_EXPONENT ? 0.0 : points * exp2(exponent);
    uint32_t *at = u64map_find(&t->index, key);
    if (at) {
        struct item *it = &t->items[*at];
        it->score = it->score + delta > 0 ? it->score + delta : 0.0;
        return 0;
    }
    if (delta <= 0)
        return 0; /* a penalty for an item with no score: nothing to keep */
    if (t->count == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        void *grown = t->items;
        if (reel_array_grow(&grown, cap, sizeof *t->items) < 0)
            return -1;
        t->items = grown;
        t->cap = cap;
    }
    struct item *it = &t->items[t->count];
    it->key = key;
    it->score = delta;
    it->label = NULL;
    if (label && label[0] && !(it->label = reel_strndup(label, label_length(label))))
        return -1;
    if (u64map_put(&t->index, key, (uint32_t)t->count) < 0) {
        reel_free(it->label);
        return -1;
    }
    t->count++;
    if (t->count > t->max_items)
        return prune(t);
    return 0;
}

double stats_trending_score(const struct stats_trending *t, uint64_t key, int64_t now_ms)
{
    uint32_t *at = u64map_find(&t->index, key);
    if (!at)
        return 0.0;
    return t->items[*at].score * exp2(-exponent_at(t, now_ms));
}

/* Heap order: the root is the worst of the kept items. */
static int worse(const struct item *a, const struct item *b)
{
    return a->score < b->score || (a->score == b->score && a->key > b->key);
}

static void sift_down(const struct item **heap, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && worse(heap[l], heap[m]))
            m = l;
        if (r < n && worse(heap[r], heap[m]))
            m = r;
        if (m == i)
            return;
        const struct item *tmp = heap[i];
        heap[i] = heap[m];
        heap[m] = tmp;
        i = m;
    }
}

size_t stats_trending_top(const struct stats_trending *t, int64_t now_ms,
                          struct stats_trending_item *out, size_t k)
{
    if (k == 0 || t->count == 0)
        return 0;
    if (k > t->count)
        k = t->count;
    const struct item **heap = reel_malloc(k * sizeof *heap);
    if (!heap)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < t->count; i++) {
        const struct item *it = &t->items[i];
        if (it->score <= 0)
            continue;
        if (n < k) {
            heap[n++] = it;
            if (n == k)
                for (size_t j = k / 2 + 1; j-- > 0;)
                    sift_down(heap, n, j);
        } else if (worse(heap[0], it)) {
            heap[0] = it;
            sift_down(heap, n, 0);
        }
    }
    if (n < k)
        for (size_t j = n / 2 + 1; j-- > 0;)
            sift_down(heap, n, j);
    /* Pop worst-first into the back of out. */
    double scale = exp2(-exponent_at(t, now_ms));
    size_t written = n;
    while (n > 0) {
        const struct item *it = heap[0];
        struct stats_trending_item *o = &out[n - 1];
        o->key = it->key;
        o->score = it->score * scale;
        snprintf(o->label, sizeof o->label, "%s", it->label ? it->label : "");
        heap[0] = heap[--n];
        sift_down(heap, n, 0);
    }
    reel_free(heap);
    return written;
}

size_t stats_trending_size(const struct stats_trending *t)
{
    return t->count;
}

size_t stats_trending_memory_bytes(const struct stats_trending *t)
{
    size_t n = sizeof *t + t->cap * sizeof *t->items + u64map_memory_bytes(&t->index);
    for (size_t i = 0; i < t->count; i++)
        if (t->items[i].label)
            n += strlen(t->items[i].label) + 1;
    return n;
}

uint64_t stats_hashtag_key(const char *tag)
{
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a, then mixed */
    for (const unsigned char *p = (const unsigned char *)tag; *p; p++) {
        unsigned char c = *p >= 'A' && *p <= 'Z' ? (unsigned char)(*p + 32) : *p;
        h = (h ^ c) * 0x100000001b3ULL;
    }
    h = hll_hash(h);
    return h ? h : 1;
}

int stats_trending_encode(const struct stats_trending *t, struct buf *out)
{
    uint8_t header[ENCODED_HEADER_BYTES] = {0};
    statfile_put_u64(header, (uint64_t)t->half_life_ms);
    statfile_put_u64(header + 8, (uint64_t)t->reference_ms);
    size_t kept = 0;
    for (size_t i = 0; i < t->count; i++)
        kept += t->items[i].score > 0;
    statfile_put_u32(header + 16, (uint32_t)kept);
    if (buf_append(out, header, sizeof header) != BUF_OK)
        return -1;
    for (size_t i = 0; i < t->count; i++) {
        const struct item *it = &t->items[i];
        if (!(it->score > 0))
            continue; /* cancelled out by penalties: nothing to keep */
        uint8_t rec[ENCODED_ITEM_BYTES];
        uint64_t bits;
        memcpy(&bits, &it->score, sizeof bits);
        size_t label_len = it->label ? strlen(it->label) : 0;
        statfile_put_u64(rec, it->key);
        statfile_put_u64(rec + 8, bits);
        rec[16] = (uint8_t)label_len;
        if (buf_append(out, rec, sizeof rec) != BUF_OK ||
            (label_len && buf_append(out, it->label, label_len) != BUF_OK))
            return -1;
    }
    return 0;
}

struct stats_trending *stats_trending_decode(const uint8_t *data, size_t len, size_t max_items,
                                             size_t *used, char *err, size_t errlen)
{
    if (len < ENCODED_HEADER_BYTES) {
        snprintf(err, errlen, "trending snapshot truncated");
        return NULL;
    }
    int64_t half_life = (int64_t)statfile_get_u64(data);
    uint32_t n = statfile_get_u32(data + 16);
    struct stats_trending *t = stats_trending_create(half_life, max_items);
    if (!t || statfile_get_u32(data + 20) != 0) {
        snprintf(err, errlen,
                 t ? "trending snapshot: bad header"
                   : "trending snapshot: bad "
                     "half-life or out of memory");
        stats_trending_destroy(t);
        return NULL;
    }
    t->reference_ms = (int64_t)statfile_get_u64(data + 8);
    t->have_reference = 1;
    size_t pos = ENCODED_HEADER_BYTES;
    char label[STATS_LABEL_MAX];
    for (uint32_t i = 0; i < n; i++) {
        if (len - pos < ENCODED_ITEM_BYTES)
            goto truncated;
        const uint8_t *rec = data + pos;
        uint64_t key = statfile_get_u64(rec), bits = statfile_get_u64(rec + 8);
        size_t label_len = rec[16];
        double score;
        memcpy(&score, &bits, sizeof score);
        pos += ENCODED_ITEM_BYTES;
        if (label_len >= STATS_LABEL_MAX || label_len > len - pos)
            goto truncated;
        /* A score of 0 (penalties cancelled an item out) was written by
         * earlier versions: such an item is kept by nobody, skipped. */
        if (!key || !isfinite(score) || score < 0 || u64map_find(&t->index, key) ||
            memchr(rec + ENCODED_ITEM_BYTES, 0, label_len)) {
            snprintf(err, errlen, "trending snapshot: item %u is invalid", i);
            goto fail;
        }
        memcpy(label, rec + ENCODED_ITEM_BYTES, label_len);
        label[label_len] = '\0';
        pos += label_len;
        /* Re-added at the reference time: exponent 0, points = stored score. */
        if (stats_trending_add(t, key, label, score, t->reference_ms) < 0) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
    }
    if (used)
        *used = pos;
    return t;
truncated:
    snprintf(err, errlen, "trending snapshot truncated");
fail:
    stats_trending_destroy(t);
    return NULL;
}
