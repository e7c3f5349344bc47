/*
 * seen.c — see seen.h.
 */
#include "rec/seen.h"

#include "core/alloc.h"
#include "rec/idmap.h"

#include <string.h>

#define FIRST_CAPACITY 64
#define LAST_CAPACITY 4096
#define PROBES 7
#define MEMO_SLOTS 512 /* 4 KB: a request's hundred or so trending candidates */
#define MEMO_SEEN 0x80000000u

/* A key's last answer. Seen (MEMO_SEEN set): the number of the segment its
 * id was found in (valid while that segment is held); not seen: the newest
 * segment's number then (only it and later ones can have taken the id
 * since). Segment numbers stay below 2^31: a segment takes at least 64 ids. */
struct seen_memo_slot {
    uint32_t key; /* the caller's key + 1; 0 = empty */
    uint32_t segment;
};

struct seen_memo {
    struct seen_memo_slot slot[MEMO_SLOTS];
};

void seen_init(struct seen_filter *seen)
{
    memset(seen, 0, sizeof *seen);
}

void seen_clear(struct seen_filter *seen)
{
    for (uint32_t i = 0; i < seen->nsegs; i++)
        reel_free(seen->segs[i].blocks);
    reel_free(seen->memo);
    memset(seen, 0, sizeof *seen);
}

static uint32_t block_count(uint32_t capacity);

void seen_reset(struct seen_filter *seen)
{
    if (seen->nsegs == 0 || seen->segs[0].capacity != FIRST_CAPACITY) {
        seen_clear(seen);
        return;
    }
    for (uint32_t i = 1; i < seen->nsegs; i++)
        reel_free(seen->segs[i].blocks);
    memset(seen->segs[0].blocks, 0, (size_t)block_count(FIRST_CAPACITY) * 64);
    seen->segs[0].count = 0;
    seen->nsegs = 1;
    seen->total = 0;
    reel_free(seen->memo);
    seen->memo = NULL;
}

static uint32_t block_count(uint32_t capacity)
{
    return capacity / 32; /* 16 bits per item, 512 bits per block */
}

/* The block of segment s that holds h's bits. */
static const uint64_t *seg_block(const struct seen_segment *s, uint64_t h)
{
    return s->blocks + (size_t)(((h & 0xffffffff) * block_count(s->capacity)) >> 32) * 8;
}

/* g = rec_mix64(h) gives the probes: the same in every segment, so a
 * lookup through a chain computes it once. */
static int seg_has(const struct seen_segment *s, uint64_t h, uint64_t g)
{
    const uint64_t *b = seg_block(s, h);
    for (int i = 0; i < PROBES; i++, g >>= 9) {
        unsigned bit = (unsigned)(g & 511);
        if (!(b[bit >> 6] & (1ULL << (bit & 63))))
            return 0;
    }
    return 1;
}

static void seg_add(struct seen_segment *s, uint64_t h)
{
    uint32_t nb = block_count(s->capacity);
    uint64_t *b = s->blocks + (size_t)(((h & 0xffffffff) * nb) >> 32) * 8;
    uint64_t g = rec_mix64(h);
    for (int i = 0; i < PROBES; i++, g >>= 9) {
        unsigned bit = (unsigned)(g & 511);
        b[bit >> 6] |= 1ULL << (bit & 63);
    }
    s->count++;
}

int seen_has(const struct seen_filter *seen, uint64_t id)
{
    uint64_t h = rec_mix64(id ^ 0x5ee4f11e5ULL), g = rec_mix64(h);
    for (uint32_t i = seen->nsegs; i-- > 0;)
        if (seg_has(&seen->segs[i], h, g))
            return 1;
    return 0;
}

void seen_prefetch(const struct seen_filter *seen, uint64_t id)
{
    uint64_t h = rec_mix64(id ^ 0x5ee4f11e5ULL);
    for (uint32_t i = 0; i < seen->nsegs; i++)
        __builtin_prefetch(seg_block(&seen->segs[i], h));
}

int seen_has_since(const struct seen_filter *seen, uint64_t id, uint32_t mark)
{
    uint64_t h = rec_mix64(id ^ 0x5ee4f11e5ULL), g = rec_mix64(h);
    /* Index of segment number `mark` in segs[]; if it was dropped since,
     * every segment left is newer. */
    int32_t from = (int32_t)(mark - (seen->serial - seen->nsegs));
    if (from < 0)
        from = 0;
    for (int32_t i = (int32_t)seen->nsegs; i-- > from;)
        if (seg_has(&seen->segs[i], h, g))
            return 1;
    return 0;
}

/* The memo slot of key (MEMO_SLOTS = 2^9). */
static uint32_t memo_index(uint32_t key)
{
    return (uint32_t)(rec_mix64(key) >> 55);
}

int seen_memo_seen(const struct seen_filter *seen, uint32_t key)
{
    if (!seen->memo)
        return 0;
    const struct seen_memo_slot *m = &seen->memo->slot[memo_index(key)];
    return m->key == key + 1 && (m->segment & MEMO_SEEN) &&
           (m->segment & ~MEMO_SEEN) >= seen->serial - seen->nsegs;
}

int seen_has_memo(struct seen_filter *seen, uint32_t key, uint64_t id)
{
    if (seen->nsegs < SEEN_MEMO_MIN_SEGS ||
        (!seen->memo && !(seen->memo = reel_calloc(1, sizeof *seen->memo))))
        return seen_has(seen, id);
    uint64_t h = rec_mix64(id ^ 0x5ee4f11e5ULL), g = rec_mix64(h);
    struct seen_memo_slot *m = &seen->memo->slot[memo_index(key)];
    uint32_t oldest = seen->serial - seen->nsegs; /* number of segs[0] */
    int32_t from = 0;
    if (m->key == key + 1) {
        uint32_t segment = m->segment & ~MEMO_SEEN;
        if (segment >= oldest && (m->segment & MEMO_SEEN))
            return 1;
        if (segment >= oldest)
            from = (int32_t)(segment - oldest);
    }
    m->key = key + 1;
    for (int32_t i = (int32_t)seen->nsegs; i-- > from;)
        if (seg_has(&seen->segs[i], h, g)) {
            m->segment = (oldest + (uint32_t)i) | MEMO_SEEN;
            return 1;
        }
    m->segment = seen->serial - 1;
    return 0;
}

static void drop_oldest(struct seen_filter *seen)
{
    seen->total -= seen->segs[0].count;
    reel_free(seen->segs[0].blocks);
    memmove(&seen->segs[0], &seen->segs[1], (seen->nsegs - 1) * sizeof seen->segs[0]);
    seen->nsegs--;
}

int seen_add(struct seen_filter *seen, uint64_t id, uint32_t capacity)
{
    uint64_t h = rec_mix64(id ^ 0x5ee4f11e5ULL);
    /* Served, then reported as an impression: count each video once, or the
     * filter would fill (and forget) twice as fast. Only the newest segment
     * is asked: a hit there (true or false) lasts as long as a new entry
     * would, so no id can be forgotten early. */
    if (seen->nsegs && seg_has(&seen->segs[seen->nsegs - 1], h, rec_mix64(h)))
        return 0;
    struct seen_segment *last = seen->nsegs ? &seen->segs[seen->nsegs - 1] : NULL;
    if (!last || last->count >= last->capacity) {
        uint32_t cap = last ? last->capacity * 2 : FIRST_CAPACITY;
        if (cap > LAST_CAPACITY)
            cap = LAST_CAPACITY;
        while (seen->nsegs && (seen->total + cap > capacity || seen->nsegs == SEEN_SEGMENTS_MAX))
            drop_oldest(seen);
        uint64_t *blocks = reel_calloc((size_t)block_count(cap) * 8, sizeof *blocks);
        if (!blocks)
            return -1;
        last = &seen->segs[seen->nsegs++];
        seen->serial++;
        last->capacity = cap;
        last->count = 0;
        last->blocks = blocks;
    }
    seg_add(last, h);
    seen->total++;
    return 0;
}

size_t seen_bytes(const struct seen_filter *seen)
{
    size_t n = 0;
    for (uint32_t i = 0; i < seen->nsegs; i++)
        n += (size_t)block_count(seen->segs[i].capacity) * 64;
    return n;
}

size_t seen_memory(const struct seen_filter *seen)
{
    return seen_bytes(seen) + (seen->memo ? sizeof *seen->memo : 0);
}

size_t seen_serialised_size(const struct seen_filter *seen)
{
    return 4 + (size_t)seen->nsegs * 8 + seen_bytes(seen);
}

size_t seen_serialise(const struct seen_filter *seen, unsigned char *out)
{
    unsigned char *p = out;
    memcpy(p, &seen->nsegs, 4);
    p += 4;
    for (uint32_t i = 0; i < seen->nsegs; i++) {
        const struct seen_segment *s = &seen->segs[i];
        memcpy(p, &s->capacity, 4);
        memcpy(p + 4, &s->count, 4);
        p += 8;
        size_t n = (size_t)block_count(s->capacity) * 64;
        memcpy(p, s->blocks, n);
        p += n;
    }
    return (size_t)(p - out);
}

size_t seen_deserialise(struct seen_filter *seen, const unsigned char *in, size_t len)
{
    seen_init(seen);
    const unsigned char *p = in, *end = in + len;
    uint32_t nsegs;
    if (len < 4)
        return 0;
    memcpy(&nsegs, p, 4);
    p += 4;
    if (nsegs > SEEN_SEGMENTS_MAX)
        return 0;
    for (uint32_t i = 0; i < nsegs; i++) {
        uint32_t cap, count;
        if ((size_t)(end - p) < 8)
            goto fail;
        memcpy(&cap, p, 4);
        memcpy(&count, p + 4, 4);
        p += 8;
        if (cap < FIRST_CAPACITY || cap > LAST_CAPACITY || (cap & (cap - 1)) || count > cap)
            goto fail;
        size_t n = (size_t)block_count(cap) * 64;
        if ((size_t)(end - p) < n)
            goto fail;
        uint64_t *blocks = reel_malloc(n);
        if (!blocks)
            goto fail;
        memcpy(blocks, p, n);
        p += n;
        seen->segs[seen->nsegs].capacity = cap;
        seen->segs[seen->nsegs].count = count;
        seen->segs[seen->nsegs].blocks = blocks;
        seen->nsegs++;
        seen->serial++;
        seen->total += count;
    }
    return (size_t)(p - in);
fail:
    seen_clear(seen);
    return 0;
}
