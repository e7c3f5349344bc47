/*
 * workq.h — a fixed pool of worker threads taking jobs from a bounded queue.
 *
 * Used where work must not run on an event thread: HTTP handlers that hash
 * passwords or wait on fsync, and (with its own pool) transcoding. The queue
 * is bounded so overload turns into a fast "busy" answer (503) rather than
 * unbounded memory and latency.
 */
#ifndef REEL_CORE_WORKQ_H
#define REEL_CORE_WORKQ_H

#include <stddef.h>

struct workq;
typedef void (*workq_fn)(void *arg);

/* Starts `threads` workers (>= 1) with room for `capacity` queued jobs.
 * Returns NULL on failure. */
struct workq *workq_create(unsigned threads, size_t capacity);
/* Queues fn(arg). Returns 0, or -1 if the queue is full or stopping. */
int workq_submit(struct workq *q, workq_fn fn, void *arg);
/* Runs every queued job, then stops and joins the workers and frees q. */
void workq_destroy(struct workq *q);

#endif
