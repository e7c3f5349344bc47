/*
 * catchup.c — see catchup.h.
 */
#include "events/catchup.h"

#include "core/alloc.h"
#include "core/clock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

struct catchup {
    _Atomic uint64_t applied;
    pthread_mutex_t mu; /* with `moved`: readers waiting for `applied` */
    pthread_cond_t moved;
    uint64_t mask;
    _Atomic uint64_t slots[]; /* by a hash of the key: the offset its events end at */
};

struct catchup *catchup_create(unsigned slots_log2, uint64_t applied)
{
    if (slots_log2 > 30)
        return NULL;
    size_t n = (size_t)1 << slots_log2;
    struct catchup *c = reel_calloc(1, sizeof *c + n * sizeof c->slots[0]);
    if (!c)
        return NULL;
    c->mask = n - 1;
    atomic_init(&c->applied, applied);
    pthread_mutex_init(&c->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&c->moved, &attr);
    pthread_condattr_destroy(&attr);
    return c;
}

void catchup_destroy(struct catchup *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->moved);
    reel_free(c);
}

static _Atomic uint64_t *slot_of(struct catchup *c, uint64_t key)
{
    uint64_t h = (key ^ (key >> 31)) * 0x9E3779B97F4A7C15ULL;
    return &c->slots[(h >> 32) & c->mask];
}

void catchup_wrote(struct catchup *c, uint64_t key, uint64_t end_offset)
{
    _Atomic uint64_t *slot = slot_of(c, key);
    uint64_t cur = atomic_load(slot);
    while (cur < end_offset && !atomic_compare_exchange_weak(slot, &cur, end_offset))
        ;
}

void catchup_applied(struct catchup *c, uint64_t next)
{
    pthread_mutex_lock(&c->mu);
    atomic_store(&c->applied, next);
    pthread_cond_broadcast(&c->moved);
    pthread_mutex_unlock(&c->mu);
}

uint64_t catchup_position(const struct catchup *c)
{
    return atomic_load(&((struct catchup *)c)->applied);
}

bool catchup_done(struct catchup *c, uint64_t key)
{
    return atomic_load(&c->applied) >= atomic_load(slot_of(c, key));
}

bool catchup_wait(struct catchup *c, uint64_t key, unsigned timeout_ms)
{
    uint64_t target = atomic_load(slot_of(c, key));
    if (atomic_load(&c->applied) >= target)
        return true;
    struct timespec deadline = clock_deadline(CLOCK_MONOTONIC, timeout_ms);
    pthread_mutex_lock(&c->mu);
    while (atomic_load(&c->applied) < target &&
           pthread_cond_timedwait(&c->moved, &c->mu, &deadline) == 0)
        ;
    bool caught_up = atomic_load(&c->applied) >= target;
    pthread_mutex_unlock(&c->mu);
    return caught_up;
}
