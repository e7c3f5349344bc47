/*
 * pump.h — a consumer thread: reads a region's event log in order under a
 * named consumer and hands the records to a callback, checkpointing and
 * committing the consumer's offset every so often.
 *
 * Delivery is at-least-once: records applied after the last commit are
 * applied again after a crash (a clean stop checkpoints and commits what
 * was applied). A consumer that must be exact keeps its own position in its
 * checkpoint (as stats/ does with its snapshot) and skips what it has.
 *
 * Used by the view counter (api/play_counts.c), analytics (api/analytics.c)
 * and the recommendation engine (api/recommend.c), one pump per region each.
 */
#ifndef REEL_EVENTS_PUMP_H
#define REEL_EVENTS_PUMP_H

#include "events/eventlog.h"

#include <stdbool.h>

struct eventlog_pump_options {
    const char *consumer;     /* consumer name ([a-z0-9_-]) */
    size_t batch;             /* records per read; 0 = 1024 */
    unsigned commit_every_ms; /* checkpoint + commit cadence; 0 = 1000 */
    /* Applies records, in log order. Returns 0, or -1 to stop the pump. */
    int (*apply)(void *ctx, const struct eventlog_record *records, size_t n);
    /* Makes everything applied so far durable before the offset `next` is
     * committed (NULL: nothing to do). Returns 0, or -1 to keep the old
     * commit and retry at the next cadence. */
    int (*checkpoint)(void *ctx, uint64_t next);
    /* Called about every 100 ms while the log has nothing new (NULL: none):
     * time-driven maintenance. */
    void (*idle)(void *ctx);
    /* Start reading here instead of at the consumer's committed offset (a
     * consumer that keeps its own position in its checkpoint). */
    bool seek;
    uint64_t start;
    void *ctx;
};

struct eventlog_pump;

/* Opens the consumer and starts the thread. Returns EVENTLOG_OK and *out,
 * or an error. */
int eventlog_pump_start(struct eventlog_pump **out, struct eventlog *log,
                        const struct eventlog_pump_options *opts);
/* Stops the thread, then checkpoints and commits what was applied. NULL is
 * a no-op. */
void eventlog_pump_stop(struct eventlog_pump *pump);
/* The offset after the last record applied. */
uint64_t eventlog_pump_position(struct eventlog_pump *pump);
/* False once the thread has ended (stopped, or a read or apply failed). */
bool eventlog_pump_running(struct eventlog_pump *pump);

#endif
