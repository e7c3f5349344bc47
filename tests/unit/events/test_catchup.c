/*
 * Read-your-writes (events/catchup.h): a reader waits for its own key's
 * events to be applied, not for the rest of the log, and never longer than
 * its bound.
 */
#include "events/catchup.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct applier {
    struct catchup *c;
    unsigned delay_ms;
    uint64_t next;
    atomic_bool done; /* set just before catchup_applied */
};

static void *apply_later(void *arg)
{
    struct applier *a = arg;
    usleep(a->delay_ms * 1000);
    atomic_store(&a->done, true);
    catchup_applied(a->c, a->next);
    return NULL;
}

Test(catchup, a_reader_waits_until_its_own_events_are_applied)
{
    struct catchup *c = catchup_create(10, 0);
    cr_assert_not_null(c);
    catchup_wrote(c, 42, 10);
    struct applier a = {.c = c, .delay_ms = 50, .next = 10};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, apply_later, &a), 0);
    cr_assert(catchup_wait(c, 42, 10000), "caught up");
    cr_assert(atomic_load(&a.done), "not before the consumer applied offset 9");
    cr_assert_eq(catchup_position(c), 10);
    pthread_join(t, NULL);
    catchup_destroy(c);
}

Test(catchup, only_a_readers_own_events_are_waited_for)
{
    struct catchup *c = catchup_create(10, 5);
    catchup_wrote(c, 7, 1000); /* another user's events, far ahead */
    catchup_wrote(c, 42, 5);   /* this one's: applied already */
    uint64_t t0 = now_ms();
    cr_assert(catchup_wait(c, 42, 10000));
    cr_assert(catchup_wait(c, 43, 10000), "a user with no events waits for nothing");
    cr_assert_lt(now_ms() - t0, 1000, "neither waited for user 7's events");
    catchup_destroy(c);
}

Test(catchup, the_slot_keeps_the_newest_end)
{
    struct catchup *c = catchup_create(10, 0);
    catchup_wrote(c, 42, 20);
    catchup_wrote(c, 42, 10); /* an older append answered later */
    catchup_applied(c, 15);
    cr_assert_not(catchup_wait(c, 42, 1), "offset 19 is not applied yet");
    catchup_applied(c, 20);
    cr_assert(catchup_wait(c, 42, 1));
    catchup_destroy(c);
}

Test(catchup, a_consumer_behind_delays_a_reader_by_the_bound_only)
{
    struct catchup *c = catchup_create(10, 0);
    catchup_wrote(c, 42, 10);
    uint64_t t0 = now_ms();
    cr_assert_not(catchup_wait(c, 42, 100), "never applied: not caught up");
    uint64_t waited = now_ms() - t0;
    cr_assert_geq(waited, 100, "waited %llu ms, the whole bound", (unsigned long long)waited);
    cr_assert_lt(waited, 5000);
    catchup_destroy(c);
}

Test(catchup, done_tells_without_waiting)
{
    struct catchup *c = catchup_create(10, 5);
    cr_assert(catchup_done(c, 42), "nothing written");
    catchup_wrote(c, 42, 9);
    cr_assert_not(catchup_done(c, 42));
    cr_assert(catchup_done(c, 43), "another key's events are not its own");
    catchup_applied(c, 8);
    cr_assert_not(catchup_done(c, 42), "offset 8 is not applied yet");
    catchup_applied(c, 9);
    cr_assert(catchup_done(c, 42));
    catchup_destroy(c);
}
