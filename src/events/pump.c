/*
 * pump.c — see pump.h.
 */
#include "events/pump.h"

#include "core/alloc.h"
#include "core/clock.h"
#include "core/log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

struct eventlog_pump {
    struct eventlog *log;
    struct eventlog_consumer *consumer;
    struct eventlog_pump_options opts;
    char name[EVENTLOG_CONSUMER_NAME_MAX + 1];
    pthread_t thread;
    atomic_bool stop;
    atomic_bool ended; /* the thread returned (stopped, or a read failed) */
    _Atomic uint64_t position;
    uint64_t committed;
    struct eventlog_record *records;
};

static void checkpoint_and_commit(struct eventlog_pump *p)
{
    uint64_t pos = atomic_load(&p->position);
    if (pos == p->committed)
        return;
    if (p->opts.checkpoint && p->opts.checkpoint(p->opts.ctx, pos) < 0) {
        log_warn("event=pump_checkpoint_failed consumer=%s offset=%llu", p->name,
                 (unsigned long long)pos);
        return;
    }
    if (eventlog_consumer_commit(p->consumer, pos) == EVENTLOG_OK)
        p->committed = pos;
    else
        log_warn("event=pump_commit_failed consumer=%s offset=%llu", p->name,
                 (unsigned long long)pos);
}

static void *pump_main(void *arg)
{
    struct eventlog_pump *p = arg;
    uint64_t last = clock_mono_ns();
    uint64_t every = (uint64_t)p->opts.commit_every_ms * 1000000ULL;
    while (!atomic_load(&p->stop)) {
        size_t n = 0;
        int rc = eventlog_consumer_read(p->consumer, p->records, p->opts.batch, &n);
        if (rc != EVENTLOG_OK) {
            log_error("event=pump_read_failed consumer=%s status=%d", p->name, rc);
            break;
        }
        if (n) {
            if (p->opts.apply(p->opts.ctx, p->records, n) < 0) {
                log_error("event=pump_apply_failed consumer=%s", p->name);
                break;
            }
            atomic_store(&p->position, eventlog_consumer_position(p->consumer));
        }
        uint64_t now = clock_mono_ns();
        if (now - last >= every) {
            checkpoint_and_commit(p);
            last = now;
        }
        if (n == 0 && p->opts.idle)
            p->opts.idle(p->opts.ctx);
        if (n == 0)
            eventlog_wait(p->log, eventlog_consumer_position(p->consumer), 100);
    }
    atomic_store(&p->ended, true);
    return NULL;
}

int eventlog_pump_start(struct eventlog_pump **out, struct eventlog *log,
                        const struct eventlog_pump_options *opts)
{
    struct eventlog_pump *p = reel_calloc(1, sizeof *p);
    if (!p)
        return EVENTLOG_NOMEM;
    p->log = log;
    p->opts = *opts;
    if (!p->opts.batch)
        p->opts.batch = 1024;
    if (!p->opts.commit_every_ms)
        p->opts.commit_every_ms = 1000;
    snprintf(p->name, sizeof p->name, "%s", opts->consumer);
    p->records = reel_calloc(p->opts.batch, sizeof *p->records);
    int rc =
        p->records ? eventlog_consumer_open(log, opts->consumer, &p->consumer) : EVENTLOG_NOMEM;
    if (rc == EVENTLOG_OK) {
        if (opts->seek)
            eventlog_consumer_seek(p->consumer, opts->start);
        p->committed = eventlog_consumer_committed(p->consumer);
        atomic_store(&p->position, eventlog_consumer_position(p->consumer));
        if (pthread_create(&p->thread, NULL, pump_main, p) != 0)
            rc = EVENTLOG_NOMEM;
    }
    if (rc != EVENTLOG_OK) {
        if (p->consumer)
            eventlog_consumer_close(p->consumer);
        reel_free(p->records);
        reel_free(p);
        return rc;
    }
    *out = p;
    return EVENTLOG_OK;
}

void eventlog_pump_stop(struct eventlog_pump *p)
{
    if (!p)
        return;
    atomic_store(&p->stop, true);
    pthread_join(p->thread, NULL);
    checkpoint_and_commit(p);
    eventlog_consumer_close(p->consumer);
    reel_free(p->records);
    reel_free(p);
}

uint64_t eventlog_pump_position(struct eventlog_pump *p)
{
    return atomic_load(&p->position);
}

bool eventlog_pump_running(struct eventlog_pump *p)
{
    return !atomic_load(&p->ended);
}
