/*
 * HyperLogLog: accuracy from 1 to 10^8 distinct ids, exact merging (merge of
 * sketches == sketch of the union, also across precisions and between the
 * sparse and dense forms), the encoded format's round trip, and refusal of
 * corrupt or truncated encodings.
 */
#include "core/alloc.h"
#include "core/buf.h"
#include "core/id.h"
#include "core/crc32c.h"
#include "stats/hll.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_P 15
#define CHUNK 65536

/* Synthetic user ids as the id generator makes them: region 1, time-ordered,
 * consecutive sequence numbers — the hardest input for a weak hash. */
static uint64_t synthetic_id(uint64_t i)
{
    return id_make(1, 1767225600000ULL, 0, 0) + i;
}

/* Adds ids first..first+n-1 in chunks, the way a batch consumer would. */
static void add_range(struct hll *h, uint64_t first, uint64_t n)
{
    static uint64_t ids[CHUNK];
    for (uint64_t done = 0; done < n;) {
        size_t k = n - done < CHUNK ? (size_t)(n - done) : CHUNK;
        for (size_t j = 0; j < k; j++)
            ids[j] = synthetic_id(first + done + j);
        cr_assert_eq(hll_add_many(h, ids, k), HLL_OK);
        done += k;
    }
}

static double relative_error(struct hll *h, uint64_t n)
{
    return fabs(hll_estimate(h) - (double)n) / (double)n;
}

static void check_accuracy(uint64_t n, double bound)
{
    struct hll *h = hll_create(DEFAULT_P);
    cr_assert_not_null(h);
    add_range(h, 0, n);
    double err = relative_error(h, n);
    cr_log_info("n=%llu estimate=%.0f error=%.4f%%", (unsigned long long)n, hll_estimate(h),
                100 * err);
    cr_assert_leq(err, bound, "n=%llu: estimate %.0f is %.3f%% off", (unsigned long long)n,
                  hll_estimate(h), 100 * err);
    hll_destroy(h);
}

Test(hll, empty_counts_zero)
{
    struct hll *h = hll_create(DEFAULT_P);
    cr_assert_eq(hll_count(h), 0);
    hll_destroy(h);
}

Test(hll, accuracy_1)
{
    check_accuracy(1, 0.02);
    struct hll *h = hll_create(DEFAULT_P);
    hll_add(h, 42);
    cr_assert_eq(hll_count(h), 1);
    hll_destroy(h);
}

Test(hll, accuracy_1e3)
{
    check_accuracy(1000, 0.02);
}

Test(hll, accuracy_1e6)
{
    check_accuracy(1000000, 0.02);
}

Test(hll, accuracy_1e8, .timeout = 240)
{
    check_accuracy(100000000, 0.02);
}

/* Every precision's error stays within 4 standard errors (1.04 / sqrt(m)),
 * on a size past the sparse form so the dense estimator is what is tested. */
Test(hll, error_tracks_precision)
{
    for (unsigned p = 10; p <= HLL_PRECISION_MAX; p += 2) {
        struct hll *h = hll_create(p);
        uint64_t n = 300000;
        add_range(h, (uint64_t)p << 32, n);
        double se = 1.04 / sqrt((double)(1u << p));
        cr_assert_leq(relative_error(h, n), 4 * se, "p=%u error %.4f > 4 SE %.4f", p,
                      relative_error(h, n), 4 * se);
        hll_destroy(h);
    }
}

/* Small sets counted in the sparse form are nearly exact. */
Test(hll, sparse_counts_small_sets_closely)
{
    for (uint64_t n = 1; n <= 4000; n = n * 3 + 1) {
        struct hll *h = hll_create(DEFAULT_P);
        add_range(h, 7777, n);
        cr_assert_leq(fabs(hll_estimate(h) - (double)n), 0.002 * (double)n + 1,
                      "n=%llu estimate %.1f", (unsigned long long)n, hll_estimate(h));
        hll_destroy(h);
    }
}

Test(hll, duplicates_do_not_count)
{
    struct hll *a = hll_create(DEFAULT_P), *b = hll_create(DEFAULT_P);
    add_range(a, 0, 50000);
    add_range(b, 0, 50000);
    add_range(b, 0, 50000);
    add_range(b, 10000, 20000);
    cr_assert(hll_equal(a, b));
    hll_destroy(a);
    hll_destroy(b);
}

Test(hll, turns_dense_exactly_past_the_sparse_limit)
{
    unsigned p = 12;
    struct hll *h = hll_create(p);
    size_t limit = hll_sparse_limit(p);
    cr_assert_eq(limit, 6 * 4096 / 8 / 4);
    /* Distinct ids touch distinct precision-25 registers with near certainty
     * at these sizes; count registers via the estimate's exactness. */
    uint64_t i = 0;
    while (!hll_is_dense(h)) {
        hll_add(h, synthetic_id(i++));
        cr_assert_leq(i, 2 * limit);
    }
    cr_assert_geq(i, limit + 1, "dense after %llu ids, limit %zu", (unsigned long long)i, limit);
    cr_assert_leq(hll_memory_bytes(h), 6 * 4096 / 8 + 64);
    hll_destroy(h);
}

static void encode(struct hll *h, struct buf *b)
{
    buf_init(b, 1 << 22);
    cr_assert_eq(hll_encode(h, b), HLL_OK);
}

static void assert_same_bytes(struct hll *a, struct hll *b)
{
    struct buf x, y;
    encode(a, &x);
    encode(b, &y);
    cr_assert_eq(x.len, y.len, "encodings differ in length: %zu vs %zu", x.len, y.len);
    cr_assert(memcmp(x.data, y.data, x.len) == 0, "encodings differ");
    buf_clear(&x);
    buf_clear(&y);
}

/* merge(sketch(A), sketch(B)) == sketch(A ∪ B), byte for byte, for every
 * combination of forms: both sparse, sparse into dense, dense into sparse,
 * both dense. */
Test(hll, merge_equals_sketch_of_union)
{
    struct {
        uint64_t a_first, a_n, b_first, b_n;
    } cases[] = {
        {0, 100, 50, 100},            /* sparse + sparse -> sparse */
        {0, 3000, 2000, 3000},        /* sparse + sparse -> dense */
        {0, 200000, 150000, 100},     /* dense + sparse */
        {0, 100, 50, 200000},         /* sparse + dense */
        {0, 600000, 400000, 600000},  /* dense + dense, overlapping */
        {0, 300000, 5000000, 300000}, /* dense + dense, disjoint */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct hll *a = hll_create(DEFAULT_P), *b = hll_create(DEFAULT_P);
        struct hll *u = hll_create(DEFAULT_P);
        add_range(a, cases[c].a_first, cases[c].a_n);
        add_range(b, cases[c].b_first, cases[c].b_n);
        add_range(u, cases[c].a_first, cases[c].a_n);
        add_range(u, cases[c].b_first, cases[c].b_n);
        cr_assert_eq(hll_merge(a, b), HLL_OK);
        cr_assert(hll_equal(a, u), "case %zu: merge differs from the union's sketch", c);
        assert_same_bytes(a, u);
        cr_assert_eq(hll_count(a), hll_count(u));
        hll_destroy(a);
        hll_destroy(b);
        hll_destroy(u);
    }
}

/* Merging the daily sketches of a month gives the month's sketch, and the
 * count of the union is right. */
Test(hll, merge_many_days)
{
    struct hll *month = hll_create(DEFAULT_P), *direct = hll_create(DEFAULT_P);
    for (int day = 0; day < 30; day++) {
        struct hll *d = hll_create(DEFAULT_P);
        add_range(d, (uint64_t)day * 20000, 50000); /* overlapping days */
        add_range(direct, (uint64_t)day * 20000, 50000);
        cr_assert_eq(hll_merge(month, d), HLL_OK);
        hll_destroy(d);
    }
    cr_assert(hll_equal(month, direct));
    uint64_t distinct = 29 * 20000 + 50000;
    cr_assert_leq(relative_error(month, distinct), 0.02);
    hll_destroy(month);
    hll_destroy(direct);
}

/* Folding a precision-16 sketch to 12 gives exactly the precision-12 sketch,
 * in both forms, and merging different precisions works at the lower one. */
Test(hll, fold_and_mixed_precision_merge_are_exact)
{
    uint64_t sizes[] = {10, 700, 5000, 250000};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        struct hll *hi = hll_create(16), *lo = hll_create(12);
        add_range(hi, 99, sizes[s]);
        add_range(lo, 99, sizes[s]);
        cr_assert_eq(hll_fold(hi, 12), HLL_OK);
        cr_assert_eq(hll_precision(hi), 12);
        cr_assert(hll_equal(hi, lo), "fold differs at n=%llu", (unsigned long long)sizes[s]);
        hll_destroy(hi);
        hll_destroy(lo);
    }
    struct hll *a = hll_create(16), *b = hll_create(12), *u = hll_create(12);
    add_range(a, 0, 100000);
    add_range(b, 50000, 100000);
    add_range(u, 0, 150000);
    cr_assert_eq(hll_merge(a, b), HLL_OK);
    cr_assert_eq(hll_precision(a), 12);
    cr_assert(hll_equal(a, u));
    struct hll *c = hll_create(12), *d = hll_create(16);
    add_range(c, 0, 100000);
    add_range(d, 50000, 100000);
    cr_assert_eq(hll_merge(c, d), HLL_OK);
    cr_assert(hll_equal(c, u));
    cr_assert_eq(hll_fold(c, 13), HLL_EINVAL);
    hll_destroy(a);
    hll_destroy(b);
    hll_destroy(c);
    hll_destroy(d);
    hll_destroy(u);
}

Test(hll, encode_decode_round_trip)
{
    uint64_t sizes[] = {0, 1, 1000, 1000000};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        struct hll *h = hll_create(DEFAULT_P);
        add_range(h, 5, sizes[s]);
        struct buf b;
        encode(h, &b);
        if (sizes[s] >= 1000000)
            cr_assert_eq(b.len, HLL_HEADER_BYTES + 6 * (1u << DEFAULT_P) / 8 + HLL_TRAILER_BYTES);
        else
            cr_assert_lt(b.len, 4 * sizes[s] + 32, "sparse encoding is compact");
        struct hll *back = NULL;
        size_t used = 0;
        cr_assert_eq(hll_decode((uint8_t *)b.data, b.len, &back, &used), HLL_OK);
        cr_assert_eq(used, b.len);
        cr_assert(hll_equal(h, back));
        cr_assert_eq(hll_count(h), hll_count(back));
        assert_same_bytes(h, back);
        hll_destroy(back);
        buf_clear(&b);
        hll_destroy(h);
    }
}

/* The encoding is stable: a fixed sketch encodes to fixed bytes. */
Test(hll, encoding_is_stable)
{
    struct hll *h = hll_create(4);
    hll_add(h, 1);
    struct buf b;
    encode(h, &b);
    const uint8_t header[] = {'R', 'H', 'L', 'L', 1, 2, 4, 0, 1, 0, 0, 0};
    cr_assert(memcmp(b.data, header, sizeof header) == 0);
    uint64_t hash = hll_hash(1);
    uint32_t key =
        (uint32_t)(hash >> 39) << 6 | (uint32_t)(__builtin_clzll((hash << 25) | (1ULL << 24)) + 1);
    uint32_t payload = (uint8_t)b.data[12];
    cr_assert_eq(payload, b.len - HLL_HEADER_BYTES - HLL_TRAILER_BYTES);
    /* One LEB128 varint holding the key. */
    uint32_t decoded = 0;
    for (uint32_t i = 0; i < payload; i++)
        decoded |= (uint32_t)((uint8_t)b.data[HLL_HEADER_BYTES + i] & 0x7f) << (7 * i);
    cr_assert_eq(decoded, key);
    cr_assert_eq(crc32c(0, "123456789", 9), 0xE3069283u);
    buf_clear(&b);
    hll_destroy(h);
}

static void reseal(uint8_t *data, size_t len)
{
    uint32_t crc = crc32c(0, data, len - 4);
    for (int i = 0; i < 4; i++)
        data[len - 4 + (size_t)i] = (uint8_t)(crc >> (8 * i));
}

Test(hll, corrupt_and_truncated_encodings_are_refused)
{
    struct hll *dense = hll_create(10), *sparse = hll_create(10), *out = NULL;
    add_range(dense, 0, 20000);
    add_range(sparse, 0, 100);
    struct hll *sketches[] = {dense, sparse};
    for (int s = 0; s < 2; s++) {
        struct buf b;
        encode(sketches[s], &b);
        uint8_t *copy = malloc(b.len);
        /* Every truncation. */
        for (size_t n = 0; n < b.len; n++)
            cr_assert_eq(hll_decode((uint8_t *)b.data, n, &out, NULL), HLL_ECORRUPT,
                         "truncated to %zu accepted", n);
        /* Every single-byte change. */
        for (size_t i = 0; i < b.len; i++) {
            memcpy(copy, b.data, b.len);
            copy[i] ^= 0x21;
            cr_assert_eq(hll_decode(copy, b.len, &out, NULL), HLL_ECORRUPT,
                         "flipped byte %zu accepted", i);
        }
        /* Structurally invalid content behind a valid checksum. */
        memcpy(copy, b.data, b.len);
        copy[6] = 30; /* precision out of range */
        reseal(copy, b.len);
        cr_assert_eq(hll_decode(copy, b.len, &out, NULL), HLL_ECORRUPT);
        if (s == 0) {
            memcpy(copy, b.data, b.len);
            copy[HLL_HEADER_BYTES] = 63; /* register 0 = 63 > 65 - 10 */
            reseal(copy, b.len);
            cr_assert_eq(hll_decode(copy, b.len, &out, NULL), HLL_ECORRUPT);
        }
        free(copy);
        buf_clear(&b);
    }
    cr_assert_null(out);
    hll_destroy(dense);
    hll_destroy(sparse);
}

/* A hand-made sparse encoding: header, the given varint bytes, CRC. */
static int decode_sparse(uint32_t count, const uint8_t *payload, uint32_t len)
{
    uint8_t data[64] = {'R', 'H', 'L', 'L', 1, 2, 12, 0};
    for (int i = 0; i < 4; i++) {
        data[8 + i] = (uint8_t)(count >> (8 * i));
        data[12 + i] = (uint8_t)(len >> (8 * i));
    }
    memcpy(data + HLL_HEADER_BYTES, payload, len);
    size_t total = HLL_HEADER_BYTES + len + HLL_TRAILER_BYTES;
    reseal(data, total);
    struct hll *h = NULL;
    int rc = hll_decode(data, total, &h, NULL);
    hll_destroy(h);
    return rc;
}

Test(hll, sparse_encoding_rules_are_enforced)
{
    /* key (index 1, rank 2) = 66 = 0x42; then gaps. */
    const uint8_t good[] = {0x42, 0x40};       /* index 2, rank 2 */
    const uint8_t zero_gap[] = {0x42, 0x00};   /* the same key twice */
    const uint8_t same_index[] = {0x42, 0x01}; /* index 1 again, rank 3 */
    const uint8_t rank_zero[] = {0x40};        /* index 1, rank 0 */
    const uint8_t rank_high[] = {0x40 | 41};   /* rank 41 > 40 */
    const uint8_t overlong[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    const uint8_t unfinished[] = {0x42, 0x80};
    cr_assert_eq(decode_sparse(2, good, sizeof good), HLL_OK);
    cr_assert_eq(decode_sparse(2, zero_gap, sizeof zero_gap), HLL_ECORRUPT);
    cr_assert_eq(decode_sparse(2, same_index, sizeof same_index), HLL_ECORRUPT);
    cr_assert_eq(decode_sparse(1, rank_zero, sizeof rank_zero), HLL_ECORRUPT);
    cr_assert_eq(decode_sparse(1, rank_high, sizeof rank_high), HLL_ECORRUPT);
    cr_assert_eq(decode_sparse(1, overlong, sizeof overlong), HLL_ECORRUPT);
    cr_assert_eq(decode_sparse(2, unfinished, sizeof unfinished), HLL_ECORRUPT);
    cr_assert_eq(decode_sparse(1, good, sizeof good), HLL_ECORRUPT); /* bytes left over */
    cr_assert_eq(decode_sparse(3, good, sizeof good), HLL_ECORRUPT); /* entries missing */
}

Test(hll, clone_and_reset)
{
    struct hll *h = hll_create(DEFAULT_P);
    add_range(h, 0, 10000);
    struct hll *c = hll_clone(h);
    cr_assert(hll_equal(h, c));
    hll_reset(c);
    cr_assert_eq(hll_count(c), 0);
    cr_assert_eq(hll_precision(c), DEFAULT_P);
    hll_destroy(h);
    hll_destroy(c);
}

Test(hll, out_of_memory_fails_cleanly)
{
    struct hll *h = hll_create(DEFAULT_P);
    reel_alloc_fail_after(0);
    int rc = HLL_OK;
    for (uint64_t i = 0; i < 100 && rc == HLL_OK; i++)
        rc = hll_add(h, synthetic_id(i));
    reel_alloc_fail_after(-1);
    cr_assert_eq(rc, HLL_ENOMEM);
    cr_assert_eq(hll_count(h), 0);
    hll_destroy(h);
    cr_assert_null(hll_create(3));
    cr_assert_null(hll_create(19));
}
