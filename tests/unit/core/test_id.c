/*
 * Ids: uniqueness, time order, the region in the high bits, and strict
 * parsing of their decimal form.
 */
#include "core/id.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

Test(id, carries_region_and_time)
{
    for (unsigned region = 1; region <= ID_REGION_MAX; region++) {
        uint64_t id = id_next(region);
        cr_assert_eq(id_region(id), region);
        cr_assert_eq(id >> 63, 0, "bit 63 must stay clear");
    }
    uint64_t id = id_make(5, 1767225600123ULL, 3, 42);
    cr_assert_eq(id_region(id), 5);
    cr_assert_eq(id_unix_ms(id), 1767225600123ULL);
}

Test(id, rejects_bad_regions)
{
    cr_assert_eq(id_next(0), 0);
    cr_assert_eq(id_next(64), 0);
}

Test(id, strictly_increasing_within_a_region)
{
    uint64_t prev = id_next(1);
    for (int i = 0; i < 200000; i++) {
        uint64_t next = id_next(1);
        cr_assert_gt(next, prev, "ids must increase (i=%d)", i);
        prev = next;
    }
}

#define THREADS 4
#define PER_THREAD 50000

static void *make_ids(void *arg)
{
    uint64_t *out = arg;
    for (int i = 0; i < PER_THREAD; i++)
        out[i] = id_next(2);
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

Test(id, unique_across_threads)
{
    uint64_t *ids = calloc(THREADS * PER_THREAD, sizeof *ids);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, make_ids, ids + i * PER_THREAD);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    qsort(ids, THREADS * PER_THREAD, sizeof *ids, cmp_u64);
    for (int i = 1; i < THREADS * PER_THREAD; i++)
        cr_assert_neq(ids[i], ids[i - 1], "duplicate id %llu", (unsigned long long)ids[i]);
    free(ids);
}

Test(id, format_and_parse_round_trip)
{
    char buf[ID_STR_MAX];
    for (unsigned region = 1; region <= 3; region++) {
        uint64_t id = id_next(region), back = 0;
        cr_assert(id_parse(id_format(id, buf), &back));
        cr_assert_eq(back, id);
    }
}

Test(id, parse_is_strict)
{
    uint64_t v;
    const char *bad[] = {"", "0", "-1", "+148056038008356864", "0148056038008356864",
                         "148056038008356864x", " 148056038008356864", "1.5",
                         "99999999999999999999", "9223372036854775808", /* 2^63 */
                         "12345" /* region bits 0 */};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_not(id_parse(bad[i], &v), "accepted '%s'", bad[i]);
    cr_assert(id_parse("148056038008356864", &v));
    cr_assert_eq(v, 148056038008356864ULL);
}
