/*
 * Merkle trees (RFC 9162 2.1): the Certificate Transparency test vectors —
 * roots of the 8-leaf reference tree, known inclusion and consistency proofs —
 * and, for every tree up to 70 leaves, agreement with a naive recursive
 * implementation of the RFC's definitions and round trips of every proof.
 *
 * Test vectors: transparency-dev/merkle, testonly/constants.go (LeafInputs,
 * RootHashes) and proof/verify_test.go (inclusionProofs, consistencyProofs),
 * originally from the certificate-transparency reference implementation.
 */
#include "region/merkle.h"

#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

static void unhex(const char *hex, uint8_t *out, size_t *len)
{
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
    *len = n;
}

static void hash_of(const char *hex, merkle_hash out)
{
    size_t len;
    unhex(hex, out, &len);
    cr_assert_eq(len, MERKLE_HASH_BYTES);
}

static const char *const leaves_hex[8] = {
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
};

static const char *const roots_hex[9] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

static void build_reference_tree(struct merkle_tree *t, struct merkle_frontier *f, int n)
{
    merkle_tree_init(t);
    merkle_frontier_init(f);
    for (int i = 0; i < n; i++) {
        uint8_t leaf[32];
        size_t len;
        merkle_hash h;
        unhex(leaves_hex[i], leaf, &len);
        merkle_leaf_hash(leaf, len, h);
        cr_assert_eq(merkle_tree_append(t, h), 0);
        merkle_frontier_append(f, h);
    }
}

Test(merkle, ct_reference_roots)
{
    struct merkle_tree t;
    struct merkle_frontier f;
    build_reference_tree(&t, &f, 8);
    for (uint64_t size = 0; size <= 8; size++) {
        merkle_hash want, got;
        hash_of(roots_hex[size], want);
        cr_assert_eq(merkle_tree_root(&t, size, got), 0);
        cr_assert(memcmp(got, want, 32) == 0, "root of size %llu", (unsigned long long)size);
    }
    /* The frontier gives each root as leaves arrive. */
    for (int n = 0; n <= 8; n++) {
        struct merkle_tree t2;
        struct merkle_frontier f2;
        build_reference_tree(&t2, &f2, n);
        merkle_hash want, got;
        hash_of(roots_hex[n], want);
        merkle_frontier_root(&f2, got);
        cr_assert(memcmp(got, want, 32) == 0, "frontier root of size %d", n);
        merkle_tree_clear(&t2);
    }
    merkle_hash bad;
    cr_assert_eq(merkle_tree_root(&t, 9, bad), -1);
    merkle_tree_clear(&t);
}

struct vector {
    uint64_t a, b; /* inclusion: leaf index, size; consistency: sizes */
    int len;
    const char *hashes[3];
};

/* verify_test.go's inclusionProofs {leaf (1-based), size, proof}, with the
 * leaf index made 0-based. */
static const struct vector inclusion_vectors[] = {
    {0,
     8,
     3,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {5,
     8,
     3,
     {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2, 3, 1, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
    {1,
     5,
     3,
     {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

static const struct vector consistency_vectors[] = {
    {1,
     8,
     3,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {6,
     8,
     3,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2,
     5,
     2,
     {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    {6,
     7,
     3,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
};

Test(merkle, ct_inclusion_vectors)
{
    struct merkle_tree t;
    struct merkle_frontier f;
    build_reference_tree(&t, &f, 8);
    for (size_t v = 0; v < sizeof inclusion_vectors / sizeof inclusion_vectors[0]; v++) {
        const struct vector *vec = &inclusion_vectors[v];
        struct merkle_proof proof, probe;
        merkle_hash want, root, leaf;
        cr_assert_eq(merkle_tree_inclusion_proof(&t, vec->a, vec->b, &proof), 0);
        cr_assert_eq(proof.len, (size_t)vec->len, "vector %zu: proof length", v);
        for (int i = 0; i < vec->len; i++) {
            hash_of(vec->hashes[i], want);
            cr_assert(memcmp(proof.hashes[i], want, 32) == 0, "vector %zu: hash %d", v, i);
        }
        hash_of(roots_hex[vec->b], root);
        merkle_tree_leaf(&t, vec->a, leaf);
        cr_assert_eq(merkle_verify_inclusion(vec->a, vec->b, leaf, &proof, root), 0);
        /* The probes of verify_test.go: wrong index, size, leaf, root; a
         * component removed, added or with a bit flipped. */
        cr_assert_neq(merkle_verify_inclusion(vec->a + 1, vec->b, leaf, &proof, root), 0);
        if (vec->a > 0)
            cr_assert_neq(merkle_verify_inclusion(vec->a - 1, vec->b, leaf, &proof, root), 0);
        cr_assert_neq(merkle_verify_inclusion(vec->a ^ 2, vec->b, leaf, &proof, root), 0);
        cr_assert_neq(merkle_verify_inclusion(vec->a, vec->b * 2, leaf, &proof, root), 0);
        cr_assert_neq(merkle_verify_inclusion(vec->a, vec->b / 2, leaf, &proof, root), 0);
        cr_assert_neq(merkle_verify_inclusion(vec->a, vec->b, root, &proof, root), 0);
        cr_assert_neq(merkle_verify_inclusion(vec->a, vec->b, leaf, &proof, leaf), 0);
        probe = proof;
        probe.len--;
        cr_assert_neq(merkle_verify_inclusion(vec->a, vec->b, leaf, &probe, root), 0);
        probe = proof;
        memcpy(probe.hashes[probe.len++], root, 32);
        cr_assert_neq(merkle_verify_inclusion(vec->a, vec->b, leaf, &probe, root), 0);
        for (size_t i = 0; i < proof.len; i++) {
            probe = proof;
            probe.hashes[i][0] ^= 8;
            cr_assert_neq(merkle_verify_inclusion(vec->a, vec->b, leaf, &probe, root), 0);
        }
    }
    merkle_tree_clear(&t);
}

Test(merkle, ct_consistency_vectors)
{
    struct merkle_tree t;
    struct merkle_frontier f;
    build_reference_tree(&t, &f, 8);
    for (size_t v = 0; v < sizeof consistency_vectors / sizeof consistency_vectors[0]; v++) {
        const struct vector *vec = &consistency_vectors[v];
        struct merkle_proof proof, probe;
        merkle_hash want, r1, r2;
        cr_assert_eq(merkle_tree_consistency_proof(&t, vec->a, vec->b, &proof), 0);
        cr_assert_eq(proof.len, (size_t)vec->len, "vector %zu: proof length %zu", v, proof.len);
        for (int i = 0; i < vec->len; i++) {
            hash_of(vec->hashes[i], want);
            cr_assert(memcmp(proof.hashes[i], want, 32) == 0, "vector %zu: hash %d", v, i);
        }
        hash_of(roots_hex[vec->a], r1);
        hash_of(roots_hex[vec->b], r2);
        cr_assert_eq(merkle_verify_consistency(vec->a, vec->b, r1, r2, &proof), 0);
        cr_assert_neq(merkle_verify_consistency(vec->a - 1, vec->b, r1, r2, &proof), 0);
        cr_assert_neq(merkle_verify_consistency(vec->a + 1, vec->b, r1, r2, &proof), 0);
        cr_assert_neq(merkle_verify_consistency(vec->a, vec->b * 2, r1, r2, &proof), 0);
        cr_assert_neq(merkle_verify_consistency(vec->a, vec->b, r2, r1, &proof), 0);
        probe = proof;
        probe.len = 0;
        cr_assert_neq(merkle_verify_consistency(vec->a, vec->b, r1, r2, &probe), 0);
        probe = proof;
        probe.len--;
        cr_assert_neq(merkle_verify_consistency(vec->a, vec->b, r1, r2, &probe), 0);
        for (size_t i = 0; i < proof.len; i++) {
            probe = proof;
            probe.hashes[i][0] ^= 16;
            cr_assert_neq(merkle_verify_consistency(vec->a, vec->b, r1, r2, &probe), 0);
        }
    }
    /* Trivial cases. */
    struct merkle_proof none = {0};
    merkle_hash r1, r2, empty;
    hash_of(roots_hex[1], r1);
    hash_of(roots_hex[2], r2);
    merkle_empty_root(empty);
    cr_assert_eq(merkle_verify_consistency(1, 1, r1, r1, &none), 0);
    cr_assert_neq(merkle_verify_consistency(1, 1, r1, r2, &none), 0);
    cr_assert_eq(merkle_verify_consistency(0, 2, empty, r2, &none), 0);
    cr_assert_neq(merkle_verify_consistency(2, 1, r2, r1, &none), 0);
    merkle_tree_clear(&t);
}

/* ---- a naive reference straight from RFC 9162 2.1.1 - 2.1.4 --------------- */

static void ref_mth(merkle_hash *leaves, uint64_t n, merkle_hash out)
{
    if (n == 0) {
        crypto_hash_sha256(out, (const unsigned char *)"", 0);
        return;
    }
    if (n == 1) {
        memcpy(out, leaves[0], 32);
        return;
    }
    uint64_t k = 1;
    while (k * 2 < n)
        k *= 2;
    merkle_hash l, r;
    ref_mth(leaves, k, l);
    ref_mth(leaves + k, n - k, r);
    uint8_t buf[65] = {1};
    memcpy(buf + 1, l, 32);
    memcpy(buf + 33, r, 32);
    crypto_hash_sha256(out, buf, sizeof buf);
}

static void ref_path(uint64_t m, merkle_hash *d, uint64_t n, struct merkle_proof *out)
{
    if (n == 1)
        return;
    uint64_t k = 1;
    while (k * 2 < n)
        k *= 2;
    if (m < k) {
        ref_path(m, d, k, out);
        ref_mth(d + k, n - k, out->hashes[out->len++]);
    } else {
        ref_path(m - k, d + k, n - k, out);
        ref_mth(d, k, out->hashes[out->len++]);
    }
}

static void ref_subproof(uint64_t m, merkle_hash *d, uint64_t n, int b, struct merkle_proof *out)
{
    if (m == n) {
        if (!b)
            ref_mth(d, n, out->hashes[out->len++]);
        return;
    }
    uint64_t k = 1;
    while (k * 2 < n)
        k *= 2;
    if (m <= k) {
        ref_subproof(m, d, k, b, out);
        ref_mth(d + k, n - k, out->hashes[out->len++]);
    } else {
        ref_subproof(m - k, d + k, n - k, 0, out);
        ref_mth(d, k, out->hashes[out->len++]);
    }
}

#define N 70

Test(merkle, agrees_with_the_reference_on_every_small_tree)
{
    merkle_hash leaves[N];
    struct merkle_tree t;
    merkle_tree_init(&t);
    struct merkle_frontier f;
    merkle_frontier_init(&f);
    for (int i = 0; i < N; i++) {
        uint8_t data[8] = {(uint8_t)i, (uint8_t)(i * 7), 3};
        merkle_leaf_hash(data, (size_t)(i % 8) + 1, leaves[i]);
        cr_assert_eq(merkle_tree_append(&t, leaves[i]), 0);
        merkle_frontier_append(&f, leaves[i]);
        merkle_hash a, b, c;
        merkle_frontier_root(&f, a);
        merkle_tree_root(&t, (uint64_t)i + 1, b);
        ref_mth(leaves, (uint64_t)i + 1, c);
        cr_assert(memcmp(a, c, 32) == 0 && memcmp(b, c, 32) == 0, "root of %d leaves", i + 1);
    }
    merkle_hash roots[N + 1];
    for (uint64_t n = 0; n <= N; n++)
        ref_mth(leaves, n, roots[n]);
    for (uint64_t n = 1; n <= N; n++) {
        for (uint64_t m = 0; m < n; m++) {
            struct merkle_proof got, want = {0};
            cr_assert_eq(merkle_tree_inclusion_proof(&t, m, n, &got), 0);
            ref_path(m, leaves, n, &want);
            cr_assert_eq(got.len, want.len);
            cr_assert(memcmp(got.hashes, want.hashes, got.len * 32) == 0, "PATH(%llu, %llu)",
                      (unsigned long long)m, (unsigned long long)n);
            cr_assert_eq(merkle_verify_inclusion(m, n, leaves[m], &got, roots[n]), 0);
            if (n > 1)
                cr_assert_neq(merkle_verify_inclusion(m, n, leaves[(m + 1) % n], &got, roots[n]),
                              0);
        }
        for (uint64_t m = 1; m <= n; m++) {
            struct merkle_proof got, want = {0};
            cr_assert_eq(merkle_tree_consistency_proof(&t, m, n, &got), 0);
            if (m < n)
                ref_subproof(m, leaves, n, 1, &want);
            cr_assert_eq(got.len, want.len);
            cr_assert(memcmp(got.hashes, want.hashes, got.len * 32) == 0, "PROOF(%llu, %llu)",
                      (unsigned long long)m, (unsigned long long)n);
            cr_assert_eq(merkle_verify_consistency(m, n, roots[m], roots[n], &got), 0,
                         "consistency %llu -> %llu", (unsigned long long)m, (unsigned long long)n);
            if (m < n)
                cr_assert_neq(merkle_verify_consistency(m, n, roots[m - 1], roots[n], &got), 0);
        }
    }
    merkle_tree_clear(&t);
}
