/*
 * play_counts.c — the public `views` counter of videos, from the event log.
 *
 * A view is a `play` event. Counting it in the request that reports it would
 * be a database write per event at the ingestion rate (hundreds of thousands
 * a second); instead one consumer per region log ("views", an
 * eventlog_pump) collects the plays it reads and, about once a second,
 * adds them up per video and applies one transaction per video store
 * (videos of every region are played by this region's users: aggregates
 * cross regions, the events do not). Then the consumer's offset is
 * committed.
 *
 * At least once: a crash between the counter transaction and the commit
 * counts that second's plays again at restart. A clean stop checkpoints
 * first, so restarts do not double count.
 */
#include "api/api.h"

#include "core/alloc.h"
#include "core/log.h"
#include "events/pump.h"

#include <stdlib.h>
#include <string.h>

#define PLAYS_MAX (1u << 20) /* plays held before a forced flush */

struct play_counts {
    struct app *app;
    uint64_t *videos; /* one entry per play since the last flush */
    size_t count;
    struct eventlog_pump *pump;
};

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Adds the collected plays to the videos' counters, one transaction per
 * store. Returns 0, or -1 (the plays are kept for the next try). */
static int flush_plays(void *arg, uint64_t next)
{
    (void)next;
    struct play_counts *pc = arg;
    if (pc->count == 0)
        return 0;
    qsort(pc->videos, pc->count, sizeof *pc->videos, cmp_u64);
    /* Runs of one id -> (id, n); ids of one region are contiguous (region
     * bits are the high bits), so each store's share is one slice. */
    size_t distinct = 0;
    int64_t *deltas = reel_malloc(pc->count * sizeof *deltas);
    if (!deltas)
        return -1;
    for (size_t i = 0; i < pc->count;) {
        size_t j = i;
        while (j < pc->count && pc->videos[j] == pc->videos[i])
            j++;
        pc->videos[distinct] = pc->videos[i];
        deltas[distinct++] = (int64_t)(j - i);
        i = j;
    }
    int rc = 0;
    for (size_t i = 0; i < distinct;) {
        struct store *store = app_store_for_id(pc->app, pc->videos[i]);
        size_t j = i;
        while (j < distinct && app_store_for_id(pc->app, pc->videos[j]) == store)
            j++;
        if (store && store_counters_add(store, STORE_COUNTER_VIDEO_VIEWS, pc->videos + i,
                                        deltas + i, j - i) != STORE_OK)
            rc = -1;
        i = j;
    }
    reel_free(deltas);
    if (rc < 0) {
        /* Some stores may have been updated: keeping everything would count
         * those twice, dropping it loses the others. Drop, and say so. */
        log_warn("event=views_flush_failed videos=%zu (their plays of this second are lost)",
                 distinct);
    }
    pc->count = 0;
    return 0;
}

static int collect_plays(void *arg, const struct eventlog_record *recs, size_t n)
{
    struct play_counts *pc = arg;
    for (size_t i = 0; i < n; i++) {
        if (recs[i].event.type != EVENT_PLAY)
            continue;
        if (pc->count == PLAYS_MAX)
            flush_plays(pc, 0);
        pc->videos[pc->count++] = recs[i].event.video_id;
    }
    return 0;
}

struct play_counts *api_play_counts_start(struct app *app, struct eventlog *log)
{
    struct play_counts *pc = reel_calloc(1, sizeof *pc);
    if (!pc)
        return NULL;
    pc->app = app;
    pc->videos = reel_malloc(PLAYS_MAX * sizeof *pc->videos);
    struct eventlog_pump_options o = {
        .consumer = "views",
        .commit_every_ms = 1000,
        .apply = collect_plays,
        .checkpoint = flush_plays,
        .ctx = pc,
    };
    if (!pc->videos || eventlog_pump_start(&pc->pump, log, &o) != EVENTLOG_OK) {
        reel_free(pc->videos);
        reel_free(pc);
        return NULL;
    }
    return pc;
}

void api_play_counts_stop(struct play_counts *pc)
{
    if (!pc)
        return;
    eventlog_pump_stop(pc->pump);
    reel_free(pc->videos);
    reel_free(pc);
}
