/*
 * core/ticker: calls come at once or after the interval as asked, keep
 * coming, never overlap, and ticker_stop neither waits out an interval nor
 * returns while a call runs.
 */
#include "core/clock.h"
#include "core/ticker.h"

#include <criterion/criterion.h>
#include <stdatomic.h>
#include <time.h>

struct probe {
    atomic_int calls;
    atomic_int running; /* calls in progress */
    atomic_int overlapped;
    int sleep_ms;
};

static void tick(void *arg)
{
    struct probe *p = arg;
    if (atomic_fetch_add(&p->running, 1) != 0)
        atomic_store(&p->overlapped, 1);
    if (p->sleep_ms) {
        struct timespec ts = {0, (long)p->sleep_ms * 1000000L};
        nanosleep(&ts, NULL);
    }
    atomic_fetch_add(&p->calls, 1);
    atomic_fetch_sub(&p->running, 1);
}

/* Waits (up to 10 s) until p has seen at least n calls. */
static int wait_calls(struct probe *p, int n)
{
    uint64_t until = clock_mono_ns() + 10000000000ULL;
    while (atomic_load(&p->calls) < n && clock_mono_ns() < until) {
        struct timespec ts = {0, 1000000L};
        nanosleep(&ts, NULL);
    }
    return atomic_load(&p->calls) >= n;
}

Test(ticker, calls_again_and_again_without_overlap)
{
    struct probe p = {.sleep_ms = 3};
    struct ticker *t = ticker_start(tick, &p, 5, false);
    cr_assert_not_null(t);
    cr_assert(wait_calls(&p, 5), "only %d calls", atomic_load(&p.calls));
    ticker_stop(t);
    cr_assert_eq(atomic_load(&p.running), 0, "a call still ran after ticker_stop");
    int calls = atomic_load(&p.calls);
    struct timespec ts = {0, 30000000L};
    nanosleep(&ts, NULL);
    cr_assert_eq(atomic_load(&p.calls), calls, "a call came after ticker_stop");
    cr_assert_eq(atomic_load(&p.overlapped), 0);
}

/* An hour's interval: the first call comes at once only if asked, and
 * stopping does not wait the hour (the test's timeout would fail it). */
Test(ticker, first_call_at_once_or_after_the_interval, .timeout = 30)
{
    struct probe now = {0}, later = {0};
    struct ticker *a = ticker_start(tick, &now, 3600 * 1000, true);
    struct ticker *b = ticker_start(tick, &later, 3600 * 1000, false);
    cr_assert(a && b);
    cr_assert(wait_calls(&now, 1));
    struct timespec ts = {0, 50000000L};
    nanosleep(&ts, NULL);
    ticker_stop(a);
    ticker_stop(b);
    cr_assert_eq(atomic_load(&now.calls), 1);
    cr_assert_eq(atomic_load(&later.calls), 0);
}

Test(ticker, refuses_a_bad_interval)
{
    struct probe p = {0};
    cr_assert_null(ticker_start(tick, &p, 0, true));
    cr_assert_null(ticker_start(tick, &p, -5, true));
    cr_assert_null(ticker_start(NULL, &p, 100, true));
    ticker_stop(NULL);
}
