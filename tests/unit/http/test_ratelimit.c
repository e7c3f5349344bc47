/*
 * Token buckets: burst, refill, Retry-After, independence of keys.
 */
#include "core/credential.h"
#include "http/ratelimit.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#define SEC 1000000000ULL

static void setup(void)
{
    cr_assert_eq(credential_init(), 0);
}

Test(ratelimit, burst_then_refill, .init = setup)
{
    struct ratelimit *rl = ratelimit_create(10, 5, 1024);
    uint64_t t = 1000 * SEC;
    for (int i = 0; i < 5; i++)
        cr_assert_eq(ratelimit_take(rl, "1.2.3.4", 7, t), 0, "request %d", i);
    unsigned wait = ratelimit_take(rl, "1.2.3.4", 7, t);
    cr_assert_eq(wait, 1, "a 10/s bucket refills one token within a second");
    /* Another client is unaffected. */
    cr_assert_eq(ratelimit_take(rl, "5.6.7.8", 7, t), 0);
    /* 100 ms later one token is back. */
    cr_assert_eq(ratelimit_take(rl, "1.2.3.4", 7, t + SEC / 10), 0);
    cr_assert_neq(ratelimit_take(rl, "1.2.3.4", 7, t + SEC / 10), 0);
    /* Much later the bucket is full again, but never above the burst. */
    for (int i = 0; i < 5; i++)
        cr_assert_eq(ratelimit_take(rl, "1.2.3.4", 7, t + 100 * SEC), 0);
    cr_assert_neq(ratelimit_take(rl, "1.2.3.4", 7, t + 100 * SEC), 0);
    ratelimit_destroy(rl);
}

Test(ratelimit, slow_rate_gives_longer_retry_after, .init = setup)
{
    struct ratelimit *rl = ratelimit_create(1, 1, 64);
    cr_assert_eq(ratelimit_take(rl, "k", 1, SEC), 0);
    cr_assert_eq(ratelimit_take(rl, "k", 1, SEC), 1);
    ratelimit_destroy(rl);
    /* 0 = unlimited */
    rl = ratelimit_create(0, 1, 64);
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(ratelimit_take(rl, "k", 1, SEC), 0);
    ratelimit_destroy(rl);
}

Test(ratelimit, bounded_memory_many_clients, .init = setup)
{
    struct ratelimit *rl = ratelimit_create(1, 1, 256);
    char key[32];
    /* Far more clients than buckets: no failure, no growth; each new client allowed. */
    for (int i = 0; i < 100000; i++) {
        int n = snprintf(key, sizeof key, "10.0.%d.%d", i / 256, i % 256);
        cr_assert_eq(ratelimit_take(rl, key, (size_t)n, SEC + (uint64_t)i), 0);
    }
    ratelimit_destroy(rl);
}
