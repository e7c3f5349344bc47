/*
 * seen.h — a per-user filter of videos already shown.
 *
 * A chain of blocked Bloom filters ("scalable Bloom filter"): segments of
 * 64, 128, 256, ... up to 4096 items, each at 16 bits per item with 7 probes
 * inside one 64-byte block (one cache line per lookup and segment), so the
 * false-positive rate stays near 0.1% whatever the count. A user with five
 * impressions costs 128 bytes; one with ten thousand about 20 KB.
 *
 * There are no false negatives: a video added is reported seen until its
 * segment is dropped. When the items held would pass `capacity`, the oldest
 * segment is dropped first, so only impressions older than the last
 * `capacity` ones can come back. A false positive only hides a video that
 * was not shown, which costs nothing visible.
 *
 * Keys are video ids (not rows), so a spilled filter stays valid for any
 * engine that knows the same videos.
 */
#ifndef REEL_REC_SEEN_H
#define REEL_REC_SEEN_H

#include <stddef.h>
#include <stdint.h>

#define SEEN_SEGMENTS_MAX 16

struct seen_segment {
    uint32_t capacity;   /* items it takes before the next segment starts */
    uint32_t count;
    uint64_t *blocks;    /* capacity / 32 blocks of 8 words */
};

struct seen_memo;

struct seen_filter {
    struct seen_segment segs[SEEN_SEGMENTS_MAX]; /* oldest first */
    uint32_t nsegs;
    uint32_t total;      /* items in the live segments */
    uint32_t serial;     /* segments ever started: segs[i] is number serial - nsegs + i */
    struct seen_memo *memo; /* seen_has_memo's answers (NULL until used); never saved */
};

void seen_init(struct seen_filter *seen);
void seen_clear(struct seen_filter *seen);
/* Empties the filter but keeps its first segment's memory if it is the
 * smallest size (a recycled session then allocates nothing). */
void seen_reset(struct seen_filter *seen);
/* True if id was added (or, rarely, a false positive). */
int seen_has(const struct seen_filter *seen, uint64_t id);
/* The newest segment's number: only it takes new ids until the next one. */
static inline uint32_t seen_mark(const struct seen_filter *seen)
{
    return seen->serial - 1;
}
/* seen_has for an id seen_has answered 0 for when seen_mark was `mark`:
 * only the segments numbered mark and after can hold it now, and only they
 * are looked at (one cache line instead of one per segment). The answer is
 * seen_has's. */
int seen_has_since(const struct seen_filter *seen, uint64_t id, uint32_t mark);
/* seen_has, for ids asked about again and again (the trending candidates of
 * every request): a filter of SEEN_MEMO_MIN_SEGS segments or more remembers
 * its last answer per key (in a small direct-mapped table, by hash), and asks
 * again only what could have changed since: nothing for an id found in a
 * segment still held, the segments started since for an id not found. The
 * key is the caller's stable number for id (a video row; below UINT32_MAX),
 * so that seen_memo_seen can answer without the id. The answer is
 * seen_has's. Fewer segments: seen_has itself. */
#define SEEN_MEMO_MIN_SEGS 4
int seen_has_memo(struct seen_filter *seen, uint32_t key, uint64_t id);
/* 1 if the memo knows key's id as seen (it is, until its segment is
 * dropped); 0 if it does not know: ask seen_has_memo. Reads one slot and
 * nothing of the id's, which the caller may not have read yet. */
int seen_memo_seen(const struct seen_filter *seen, uint32_t key);
/* Asks memory for the blocks seen_has(seen, id) will read (a hint: nothing
 * changes). A caller checking many ids asks a few checks ahead, so that
 * their cache misses overlap instead of each waiting for the last. */
void seen_prefetch(const struct seen_filter *seen, uint64_t id);
/* Adds id (no-op if already held); `capacity` caps what is remembered.
 * Returns 0 or -1 (out of memory: the id is then not remembered). */
int seen_add(struct seen_filter *seen, uint64_t id, uint32_t capacity);
/* The segments' bytes (what seen_serialise writes of them). */
size_t seen_bytes(const struct seen_filter *seen);
/* All the filter's memory: the segments and the memo. */
size_t seen_memory(const struct seen_filter *seen);

/* Serialised form (little-endian, native on every supported host):
 *   u32 nsegs, then per segment: u32 capacity, u32 count, capacity/32*64 bytes */
size_t seen_serialised_size(const struct seen_filter *seen);
/* Writes into out (seen_serialised_size bytes). Returns bytes written. */
size_t seen_serialise(const struct seen_filter *seen, unsigned char *out);
/* Reads a filter from in[0..len); returns bytes consumed, or 0 if malformed
 * or out of memory (seen is then empty). */
size_t seen_deserialise(struct seen_filter *seen, const unsigned char *in, size_t len);

#endif
