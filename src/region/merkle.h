/*
 * merkle.h — Merkle trees exactly as Certificate Transparency defines them
 * (RFC 9162 section 2.1, unchanged from RFC 6962): SHA-256, leaf hash
 * SHA-256(0x00 || leaf), node hash SHA-256(0x01 || left || right), and for a
 * tree that is not a power of two the split at the largest power of two
 * smaller than its size. Inclusion proofs (2.1.3) and consistency proofs
 * (2.1.4) are generated and verified with the RFC's algorithms.
 *
 * Two structures:
 *  - merkle_frontier: the roots of the perfect subtrees of the tree so far
 *    (at most 64 hashes). Appending and the current root are O(log n) in time
 *    and O(1) in memory: what an append-only writer needs.
 *  - merkle_tree: every complete subtree's hash (2n hashes), from which any
 *    earlier root and any proof come in O(log n): what a prover needs.
 *
 * All functions are pure computation; none is thread-safe on a shared
 * structure.
 */
#ifndef REEL_REGION_MERKLE_H
#define REEL_REGION_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define MERKLE_HASH_BYTES 32
/* Longest proof for any tree of up to 2^64 - 1 leaves (a consistency proof
 * has at most ceil(log2 n) + 1 hashes). */
#define MERKLE_MAX_PROOF 66

typedef uint8_t merkle_hash[MERKLE_HASH_BYTES];

/* An inclusion path or a consistency path, in the RFC's order. */
struct merkle_proof {
    size_t len;
    merkle_hash hashes[MERKLE_MAX_PROOF];
};

/* SHA-256(0x00 || data). */
void merkle_leaf_hash(const void *data, size_t len, merkle_hash out);
/* SHA-256(0x01 || left || right). */
void merkle_node_hash(const merkle_hash left, const merkle_hash right, merkle_hash out);
/* MTH({}) = SHA-256 of the empty string. */
void merkle_empty_root(merkle_hash out);

struct merkle_frontier {
    uint64_t size;
    merkle_hash subtrees[64]; /* subtrees[k]: root of a perfect 2^k subtree, if bit k of size */
};

void merkle_frontier_init(struct merkle_frontier *f);
void merkle_frontier_append(struct merkle_frontier *f, const merkle_hash leaf_hash);
/* MTH of the leaves appended so far. */
void merkle_frontier_root(const struct merkle_frontier *f, merkle_hash out);

struct merkle_tree {
    merkle_hash *levels[64]; /* levels[k][i] = MTH of leaves [i 2^k, (i+1) 2^k) */
    uint64_t caps[64];       /* allocated hashes per level */
    uint64_t size;           /* leaves */
};

/* The caller provides the struct. */
void merkle_tree_init(struct merkle_tree *t);
void merkle_tree_clear(struct merkle_tree *t);
/* Appends a leaf by its hash. Returns 0, or -1 when out of memory (the tree
 * is unchanged). */
int merkle_tree_append(struct merkle_tree *t, const merkle_hash leaf_hash);
/* MTH of the first `size` leaves (size <= t->size). Returns 0 or -1. */
int merkle_tree_root(const struct merkle_tree *t, uint64_t size, merkle_hash out);
/* The leaf's hash. Returns 0, or -1 if index >= size. */
int merkle_tree_leaf(const struct merkle_tree *t, uint64_t index, merkle_hash out);

/* PATH(index, D[0:size]) into *out. Returns 0, or -1 if index >= size or
 * size > t->size. */
int merkle_tree_inclusion_proof(const struct merkle_tree *t, uint64_t index, uint64_t size,
                                struct merkle_proof *out);
/* PROOF(old_size, D[0:new_size]); empty when old_size is 0 or equal to
 * new_size. Returns 0, or -1 if old_size > new_size or new_size > t->size. */
int merkle_tree_consistency_proof(const struct merkle_tree *t, uint64_t old_size, uint64_t new_size,
                                  struct merkle_proof *out);

/* RFC 9162 2.1.3.2. Returns 0 if the path proves leaf_hash is leaf `index`
 * of the tree of `size` leaves whose root is `root`, else -1. */
int merkle_verify_inclusion(uint64_t index, uint64_t size, const merkle_hash leaf_hash,
                            const struct merkle_proof *proof, const merkle_hash root);
/* RFC 9162 2.1.4.2, with the cases the RFC leaves implicit: equal sizes
 * need an empty proof and equal roots; an empty old tree needs an empty
 * proof. Returns 0 if the trees are consistent, else -1. */
int merkle_verify_consistency(uint64_t old_size, uint64_t new_size, const merkle_hash old_root,
                              const merkle_hash new_root, const struct merkle_proof *proof);

#endif
