/*
 * workq.c — see workq.h. One mutex and two condition variables; jobs are a
 * ring buffer. Simple is fast enough here: a job is at least a database
 * round trip, so queue overhead (~1 µs) does not matter.
 */
#include "core/workq.h"

#include "core/alloc.h"

#include <pthread.h>
#include <stdbool.h>

struct job {
    workq_fn fn;
    void *arg;
};

struct workq {
    pthread_mutex_t lock;
    pthread_cond_t nonempty;
    struct job *ring;
    size_t capacity, head, count;
    bool stopping;
    pthread_t *threads;
    unsigned thread_count;
};

static void *worker_main(void *arg)
{
    struct workq *q = arg;
    for (;;) {
        pthread_mutex_lock(&q->lock);
        while (q->count == 0 && !q->stopping)
            pthread_cond_wait(&q->nonempty, &q->lock);
        if (q->count == 0 && q->stopping) {
            pthread_mutex_unlock(&q->lock);
            return NULL;
        }
        struct job job = q->ring[q->head];
        q->head = (q->head + 1) % q->capacity;
        q->count--;
        pthread_mutex_unlock(&q->lock);
        job.fn(job.arg);
    }
}

struct workq *workq_create(unsigned threads, size_t capacity)
{
    if (threads == 0)
        threads = 1;
    if (capacity == 0)
        capacity = 1;
    struct workq *q = reel_calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->ring = reel_calloc(capacity, sizeof *q->ring);
    q->threads = reel_calloc(threads, sizeof *q->threads);
    if (!q->ring || !q->threads) {
        reel_free(q->ring);
        reel_free(q->threads);
        reel_free(q);
        return NULL;
    }
    q->capacity = capacity;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->nonempty, NULL);
    for (unsigned i = 0; i < threads; i++) {
        if (pthread_create(&q->threads[i], NULL, worker_main, q) != 0)
            break;
        q->thread_count++;
    }
    if (q->thread_count == 0) {
        workq_destroy(q);
        return NULL;
    }
    return q;
}

int workq_submit(struct workq *q, workq_fn fn, void *arg)
{
    pthread_mutex_lock(&q->lock);
    if (q->stopping || q->count == q->capacity) {
        pthread_mutex_unlock(&q->lock);
        return -1;
    }
    q->ring[(q->head + q->count) % q->capacity] = (struct job){fn, arg};
    q->count++;
    pthread_cond_signal(&q->nonempty);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

void workq_destroy(struct workq *q)
{
    if (!q)
        return;
    pthread_mutex_lock(&q->lock);
    q->stopping = true;
    pthread_cond_broadcast(&q->nonempty);
    pthread_mutex_unlock(&q->lock);
    for (unsigned i = 0; i < q->thread_count; i++)
        pthread_join(q->threads[i], NULL);
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->nonempty);
    reel_free(q->ring);
    reel_free(q->threads);
    reel_free(q);
}
