/*
 * hll.h — HyperLogLog sketches of sets of 64-bit ids: count distinct users
 * in a few kilobytes, merge sketches of different days or nodes exactly, and
 * store them in a stable byte format. hll.c explains the choices.
 *
 * A sketch is the set of ids it has seen reduced to 2^p six-bit registers
 * (dense) or, while small, to a sorted list of (index, rank) pairs at
 * precision 25 (sparse). Both forms are registers of one underlying sketch,
 * so adding, merging and counting give the same answer whichever form a
 * sketch happens to be in, and the form is a function of the set alone
 * (dense exactly when more than hll_sparse_limit(p) precision-25 registers
 * are set). merge(sketch(A), sketch(B)) is byte for byte sketch(A ∪ B).
 *
 * Not thread-safe: callers serialise access (stats.c holds a lock). Counting
 * and encoding may reorganise a sparse sketch's storage, so they take a
 * non-const pointer.
 *
 * Encoded form (all integers little-endian):
 *
 *   offset  size  field
 *   ------  ----  -----------------------------------------------------------
 *        0     4  magic "RHLL" (52 48 4C 4C)
 *        4     1  format version, 1
 *        5     1  encoding: 1 = dense, 2 = sparse
 *        6     1  precision p, 4..18
 *        7     1  reserved, 0
 *        8     4  count: dense: 2^p (registers); sparse: entries
 *       12     4  L, payload length in bytes
 *       16     L  payload
 *     16+L     4  CRC-32C of bytes [0, 16+L)
 *
 *   dense payload:  2^p registers of 6 bits, register i in bits [6i, 6i+6)
 *                   of the payload read as one little-endian bit string
 *                   (L = 6 * 2^p / 8); each value 0..65-p
 *   sparse payload: `count` LEB128 varints: the first key, then the gaps to
 *                   each next key (> 0: keys strictly increase); a key is
 *                   index << 6 | rank with index < 2^25 and rank 1..40
 *
 * Decoding checks every field (and the CRC) and refuses anything else.
 */
#ifndef REEL_STATS_HLL_H
#define REEL_STATS_HLL_H

#include "core/buf.h"

#include <stddef.h>
#include <stdint.h>

#define HLL_PRECISION_MIN 4
#define HLL_PRECISION_MAX 18
#define HLL_SPARSE_PRECISION 25
#define HLL_HEADER_BYTES 16
#define HLL_TRAILER_BYTES 4

enum {
    HLL_OK = 0,
    HLL_ENOMEM = -1,   /* out of memory (or an encode buffer reached its cap) */
    HLL_EINVAL = -2,   /* bad argument, e.g. precision out of range */
    HLL_ECORRUPT = -3, /* encoded bytes are not a valid sketch */
};

struct hll;

/* The 64-bit hash of an id: a bijective mixer (SplitMix64's finaliser), so
 * distinct ids never collide and sequential ids spread evenly. */
static inline uint64_t hll_hash(uint64_t id)
{
    uint64_t z = id + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A new empty sketch of precision p (HLL_PRECISION_MIN..MAX); standard error
 * 1.04 / sqrt(2^p). Returns NULL for a bad p or when out of memory. The
 * caller owns it: hll_destroy. */
struct hll *hll_create(unsigned precision);
void hll_destroy(struct hll *h);
/* A copy; NULL when out of memory. */
struct hll *hll_clone(const struct hll *h);
/* Forgets every id, keeping the precision. */
void hll_reset(struct hll *h);

unsigned hll_precision(const struct hll *h);
/* Whether the sketch is in dense form (after normalising a sparse one). */
int hll_is_dense(struct hll *h);
/* Precision-25 registers a sparse sketch holds before it turns dense:
 * the dense size in bytes / 4, so the sparse form is never the larger one. */
size_t hll_sparse_limit(unsigned precision);

/* Adds one id. Returns HLL_OK, or HLL_ENOMEM (sparse growth failed; the
 * sketch is unchanged). Dense sketches never allocate. */
int hll_add(struct hll *h, uint64_t id);
/* Adds an already hashed id (hll_hash). */
int hll_add_hash(struct hll *h, uint64_t hash);
/* Adds n ids; stops at the first failure. */
int hll_add_many(struct hll *h, const uint64_t *ids, size_t n);

/* dst becomes the sketch of the union of both sets. Sketches of different
 * precision merge at the lower one (dst is folded down first). Returns
 * HLL_OK or HLL_ENOMEM (dst may then hold part of src; still a valid
 * sketch of a subset of the union). */
int hll_merge(struct hll *dst, const struct hll *src);
/* Lowers the precision to p (< current) exactly as if every id had been added
 * at p. Returns HLL_OK, HLL_EINVAL or HLL_ENOMEM. */
int hll_fold(struct hll *h, unsigned precision);

/* Estimated number of distinct ids (Ertl's improved estimator). */
double hll_estimate(struct hll *h);
uint64_t hll_count(struct hll *h);

/* Bytes of memory the sketch holds now (struct and storage). */
size_t hll_memory_bytes(const struct hll *h);

/* Appends the encoded form to out. Returns HLL_OK or HLL_ENOMEM. */
int hll_encode(struct hll *h, struct buf *out);
/* Decodes one sketch from data[0..len). On success stores a new sketch in
 * *out (caller owns it) and the bytes used in *used (may be < len). Returns
 * HLL_OK, HLL_ECORRUPT (bad magic, version, field, CRC or truncated) or
 * HLL_ENOMEM. */
int hll_decode(const uint8_t *data, size_t len, struct hll **out, size_t *used);

/* 1 if both sketches hold the same registers (same precision and form after
 * normalising), else 0. */
int hll_equal(struct hll *a, struct hll *b);

#endif
