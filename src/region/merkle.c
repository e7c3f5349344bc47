/*
 * merkle.c — see merkle.h. The proof generators follow the RFC's recursive
 * definitions of PATH and SUBPROOF literally; every subtree hash they need is
 * either a complete, aligned subtree (one lookup in levels[]) or the right
 * edge of a range, which recurses at most log2(n) times. The verifiers follow
 * RFC 9162 2.1.3.2 and 2.1.4.2 step by step (the step numbers are the RFC's).
 */
#include "region/merkle.h"

#include "core/alloc.h"

#include <sodium.h>
#include <string.h>

void merkle_leaf_hash(const void *data, size_t len, merkle_hash out)
{
    crypto_hash_sha256_state st;
    const uint8_t prefix = 0x00;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, &prefix, 1);
    crypto_hash_sha256_update(&st, data, len);
    crypto_hash_sha256_final(&st, out);
}

void merkle_node_hash(const merkle_hash left, const merkle_hash right, merkle_hash out)
{
    crypto_hash_sha256_state st;
    const uint8_t prefix = 0x01;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, &prefix, 1);
    crypto_hash_sha256_update(&st, left, MERKLE_HASH_BYTES);
    crypto_hash_sha256_update(&st, right, MERKLE_HASH_BYTES);
    crypto_hash_sha256_final(&st, out);
}

void merkle_empty_root(merkle_hash out)
{
    crypto_hash_sha256(out, (const unsigned char *)"", 0);
}

/* The largest power of two strictly smaller than n (n >= 2). */
static uint64_t split_point(uint64_t n)
{
    return 1ULL << (63 - __builtin_clzll(n - 1));
}

/* ---- frontier ------------------------------------------------------------ */

void merkle_frontier_init(struct merkle_frontier *f)
{
    memset(f, 0, sizeof *f);
}

void merkle_frontier_append(struct merkle_frontier *f, const merkle_hash leaf_hash)
{
    merkle_hash carry;
    memcpy(carry, leaf_hash, MERKLE_HASH_BYTES);
    unsigned k = 0;
    while (f->size >> k & 1) {
        merkle_node_hash(f->subtrees[k], carry, carry);
        k++;
    }
    memcpy(f->subtrees[k], carry, MERKLE_HASH_BYTES);
    f->size++;
}

void merkle_frontier_root(const struct merkle_frontier *f, merkle_hash out)
{
    if (f->size == 0) {
        merkle_empty_root(out);
        return;
    }
    /* The smallest subtree is the rightmost; fold leftwards. */
    unsigned k = (unsigned)__builtin_ctzll(f->size);
    merkle_hash root;
    memcpy(root, f->subtrees[k], MERKLE_HASH_BYTES);
    for (k++; k < 64; k++)
        if (f->size >> k & 1)
            merkle_node_hash(f->subtrees[k], root, root);
    memcpy(out, root, MERKLE_HASH_BYTES);
}

/* ---- full tree ----------------------------------------------------------- */

void merkle_tree_init(struct merkle_tree *t)
{
    memset(t, 0, sizeof *t);
}

void merkle_tree_clear(struct merkle_tree *t)
{
    for (int k = 0; k < 64; k++)
        reel_free(t->levels[k]);
    memset(t, 0, sizeof *t);
}

int merkle_tree_append(struct merkle_tree *t, const merkle_hash leaf_hash)
{
    uint64_t next = t->size + 1;
    unsigned top = (unsigned)__builtin_ctzll(next); /* levels 0..top gain a node */
    for (unsigned k = 0; k <= top; k++) {
        uint64_t need = next >> k;
        if (need <= t->caps[k])
            continue;
        uint64_t cap = t->caps[k] ? t->caps[k] * 2 : 64;
        void *grown = t->levels[k];
        if (reel_array_grow(&grown, cap, sizeof(merkle_hash)) < 0)
            return -1;
        t->levels[k] = grown;
        t->caps[k] = cap;
    }
    memcpy(t->levels[0][t->size], leaf_hash, MERKLE_HASH_BYTES);
    uint64_t i = t->size;
    for (unsigned k = 0; k < top; k++, i >>= 1)
        merkle_node_hash(t->levels[k][i - 1], t->levels[k][i], t->levels[k + 1][i >> 1]);
    t->size = next;
    return 0;
}

/* MTH(D[lo:hi]) for hi <= size, 0 < hi - lo. */
static void range_hash(const struct merkle_tree *t, uint64_t lo, uint64_t hi, merkle_hash out)
{
    uint64_t n = hi - lo;
    if ((n & (n - 1)) == 0 && lo % n == 0) {
        memcpy(out, t->levels[__builtin_ctzll(n)][lo / n], MERKLE_HASH_BYTES);
        return;
    }
    uint64_t k = split_point(n);
    merkle_hash left, right;
    range_hash(t, lo, lo + k, left);
    range_hash(t, lo + k, hi, right);
    merkle_node_hash(left, right, out);
}

int merkle_tree_root(const struct merkle_tree *t, uint64_t size, merkle_hash out)
{
    if (size > t->size)
        return -1;
    if (size == 0)
        merkle_empty_root(out);
    else
        range_hash(t, 0, size, out);
    return 0;
}

int merkle_tree_leaf(const struct merkle_tree *t, uint64_t index, merkle_hash out)
{
    if (index >= t->size)
        return -1;
    memcpy(out, t->levels[0][index], MERKLE_HASH_BYTES);
    return 0;
}

/* PATH(m, D[lo:hi]) with m an absolute leaf index in [lo, hi). */
static void path(const struct merkle_tree *t, uint64_t m, uint64_t lo, uint64_t hi,
                 struct merkle_proof *out)
{
    if (hi - lo == 1)
        return;
    uint64_t k = split_point(hi - lo);
    if (m < lo + k) {
        path(t, m, lo, lo + k, out);
        range_hash(t, lo + k, hi, out->hashes[out->len++]);
    } else {
        path(t, m, lo + k, hi, out);
        range_hash(t, lo, lo + k, out->hashes[out->len++]);
    }
}

int merkle_tree_inclusion_proof(const struct merkle_tree *t, uint64_t index, uint64_t size,
                                struct merkle_proof *out)
{
    out->len = 0;
    if (index >= size || size > t->size)
        return -1;
    path(t, index, 0, size, out);
    return 0;
}

/* SUBPROOF(m, D[lo:hi], b) with m counted from lo. */
static void subproof(const struct merkle_tree *t, uint64_t m, uint64_t lo, uint64_t hi,
                     int complete, struct merkle_proof *out)
{
    uint64_t n = hi - lo;
    if (m == n) {
        if (!complete)
            range_hash(t, lo, hi, out->hashes[out->len++]);
        return;
    }
    uint64_t k = split_point(n);
    if (m <= k) {
        subproof(t, m, lo, lo + k, complete, out);
        range_hash(t, lo + k, hi, out->hashes[out->len++]);
    } else {
        subproof(t, m - k, lo + k, hi, 0, out);
        range_hash(t, lo, lo + k, out->hashes[out->len++]);
    }
}

int merkle_tree_consistency_proof(const struct merkle_tree *t, uint64_t old_size, uint64_t new_size,
                                  struct merkle_proof *out)
{
    out->len = 0;
    if (old_size > new_size || new_size > t->size)
        return -1;
    if (old_size == 0 || old_size == new_size)
        return 0;
    subproof(t, old_size, 0, new_size, 1, out);
    return 0;
}

/* ---- verification -------------------------------------------------------- */

static int same(const merkle_hash a, const merkle_hash b)
{
    return memcmp(a, b, MERKLE_HASH_BYTES) == 0;
}

int merkle_verify_inclusion(uint64_t index, uint64_t size, const merkle_hash leaf_hash,
                            const struct merkle_proof *proof, const merkle_hash root)
{
    size_t len = proof->len;
    /* 1. */
    if (index >= size || len > MERKLE_MAX_PROOF)
        return -1;
    /* 2., 3. */
    uint64_t fn = index, sn = size - 1;
    merkle_hash r;
    memcpy(r, leaf_hash, MERKLE_HASH_BYTES);
    /* 4. */
    for (size_t i = 0; i < len; i++) {
        if (sn == 0) /* a. */
            return -1;
        if ((fn & 1) || fn == sn) { /* b. */
            merkle_node_hash(proof->hashes[i], r, r);
            if (!(fn & 1))
                do {
                    fn >>= 1;
                    sn >>= 1;
                } while (!(fn & 1) && fn != 0);
        } else {
            merkle_node_hash(r, proof->hashes[i], r);
        }
        fn >>= 1; /* c. */
        sn >>= 1;
    }
    /* 5. */
    return sn == 0 && same(r, root) ? 0 : -1;
}

int merkle_verify_consistency(uint64_t old_size, uint64_t new_size, const merkle_hash old_root,
                              const merkle_hash new_root, const struct merkle_proof *proof)
{
    size_t len = proof->len;
    if (old_size > new_size || len > MERKLE_MAX_PROOF)
        return -1;
    if (old_size == new_size)
        return len == 0 && same(old_root, new_root) ? 0 : -1;
    if (old_size == 0)
        return len == 0 ? 0 : -1;
    /* 1. */
    if (len == 0)
        return -1;
    /* 2. */
    merkle_hash path[MERKLE_MAX_PROOF + 1];
    size_t n = 0;
    if ((old_size & (old_size - 1)) == 0)
        memcpy(path[n++], old_root, MERKLE_HASH_BYTES);
    memcpy(path + n, proof->hashes, len * sizeof *path);
    n += len;
    /* 3., 4. */
    uint64_t fn = old_size - 1, sn = new_size - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    /* 5. */
    merkle_hash fr, sr;
    memcpy(fr, path[0], MERKLE_HASH_BYTES);
    memcpy(sr, path[0], MERKLE_HASH_BYTES);
    /* 6. */
    for (size_t i = 1; i < n; i++) {
        if (sn == 0) /* a. */
            return -1;
        if ((fn & 1) || fn == sn) { /* b. */
            merkle_node_hash(path[i], fr, fr);
            merkle_node_hash(path[i], sr, sr);
            if (!(fn & 1))
                while (!(fn & 1) && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            merkle_node_hash(sr, path[i], sr);
        }
        fn >>= 1; /* c. */
        sn >>= 1;
    }
    /* 7. */
    return same(fr, old_root) && same(sr, new_root) && sn == 0 ? 0 : -1;
}
