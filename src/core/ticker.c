/*
 * ticker.c — see ticker.h.
 */
#include "core/ticker.h"

#include "core/alloc.h"
#include "core/clock.h"

#include <pthread.h>

struct ticker {
    ticker_fn fn;
    void *arg;
    int64_t every_ms;
    bool at_once;
    bool stopping;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
};

static void *ticker_main(void *arg)
{
    struct ticker *t = arg;
    bool wait = !t->at_once;
    pthread_mutex_lock(&t->lock);
    while (!t->stopping) {
        if (wait) {
            struct timespec until = clock_deadline(CLOCK_REALTIME, t->every_ms);
            while (!t->stopping && pthread_cond_timedwait(&t->wake, &t->lock, &until) == 0)
                ;
            if (t->stopping)
                break;
        }
        wait = true;
        pthread_mutex_unlock(&t->lock);
        t->fn(t->arg);
        pthread_mutex_lock(&t->lock);
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

struct ticker *ticker_start(ticker_fn fn, void *arg, int64_t every_ms, bool at_once)
{
    if (!fn || every_ms <= 0)
        return NULL;
    struct ticker *t = reel_calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->fn = fn;
    t->arg = arg;
    t->every_ms = every_ms;
    t->at_once = at_once;
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->wake, NULL);
    if (pthread_create(&t->thread, NULL, ticker_main, t) != 0) {
        pthread_mutex_destroy(&t->lock);
        pthread_cond_destroy(&t->wake);
        reel_free(t);
        return NULL;
    }
    return t;
}

void ticker_stop(struct ticker *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    t->stopping = true;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    pthread_mutex_destroy(&t->lock);
    pthread_cond_destroy(&t->wake);
    reel_free(t);
}
