/*
 * reel-bench-events — in-process event log ingestion: T threads append batches
 * of B events for S seconds to a fresh log; prints events/s and the batch
 * latency percentiles (time from eventlog_append's call to its durable
 * return, so it includes waiting for the group's fdatasync).
 *
 *   reel-bench-events DIR THREADS BATCH SECONDS FSYNC(0|1)
 *   -> "events_per_s p50_ms p99_ms appends syncs"
 */
#include "core/alloc.h"
#include "core/clock.h"
#include "events/eventlog.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_THREADS 256
#define MAX_SAMPLES (1u << 20)

struct worker {
    struct eventlog *log;
    size_t batch;
    uint64_t events;
    uint32_t *lat_us;
    size_t samples;
    pthread_t thread;
};

static atomic_bool stop;

static void *run(void *arg)
{
    struct worker *w = arg;
    struct event *ev = reel_calloc(w->batch, sizeof *ev);
    uint64_t seed = (uint64_t)(uintptr_t)w * 0x9E3779B97F4A7C15ULL;
    for (size_t i = 0; i < w->batch; i++) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        ev[i].type = (uint8_t)(1 + seed % 4);
        ev[i].user_id = (1ULL << 57) | (seed % 1000000);
        ev[i].video_id = (1ULL << 57) | ((seed >> 20) % 100000);
        ev[i].creator_id = (1ULL << 57) | ((seed >> 40) % 10000);
        ev[i].at_ms = clock_now_ms();
        ev[i].watched_ms = (uint32_t)(seed % 60000);
        ev[i].duration_ms = 30000;
    }
    while (!atomic_load(&stop)) {
        uint64_t t0 = clock_mono_ns();
        if (eventlog_append(w->log, ev, w->batch, NULL) != EVENTLOG_OK) {
            fprintf(stderr, "append failed\n");
            exit(1);
        }
        uint64_t us = (clock_mono_ns() - t0) / 1000;
        if (w->samples < MAX_SAMPLES)
            w->lat_us[w->samples++] = (uint32_t)(us > UINT32_MAX ? UINT32_MAX : us);
        w->events += w->batch;
    }
    reel_free(ev);
    return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: reel-bench-events DIR THREADS BATCH SECONDS FSYNC\n");
        return 2;
    }
    size_t threads = strtoul(argv[2], NULL, 10), batch = strtoul(argv[3], NULL, 10);
    double seconds = strtod(argv[4], NULL);
    if (threads < 1 || threads > MAX_THREADS || batch < 1 || batch > EVENTLOG_BATCH_MAX)
        return 2;
    struct eventlog_options o;
    eventlog_options_init(&o);
    o.region_id = 1;
    o.fsync = strcmp(argv[5], "1") == 0;
    struct eventlog *log;
    char err[256];
    if (eventlog_open(&log, argv[1], &o, err, sizeof err) != EVENTLOG_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    static struct worker w[MAX_THREADS];
    uint64_t start = clock_mono_ns();
    for (size_t i = 0; i < threads; i++) {
        w[i].log = log;
        w[i].batch = batch;
        w[i].lat_us = reel_malloc(MAX_SAMPLES * sizeof *w[i].lat_us);
        pthread_create(&w[i].thread, NULL, run, &w[i]);
    }
    struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&ts, NULL);
    atomic_store(&stop, true);
    uint64_t events = 0;
    size_t samples = 0;
    for (size_t i = 0; i < threads; i++) {
        pthread_join(w[i].thread, NULL);
        events += w[i].events;
        samples += w[i].samples;
    }
    double elapsed = (double)(clock_mono_ns() - start) / 1e9;
    uint32_t *all = reel_malloc((samples ? samples : 1) * sizeof *all);
    size_t k = 0;
    for (size_t i = 0; i < threads; i++) {
        memcpy(all + k, w[i].lat_us, w[i].samples * sizeof *all);
        k += w[i].samples;
        reel_free(w[i].lat_us);
    }
    qsort(all, samples, sizeof *all, cmp_u32);
    struct eventlog_stats st;
    eventlog_get_stats(log, &st);
    printf("%.0f %.3f %.3f %llu %llu\n", (double)events / elapsed,
           samples ? all[samples / 2] / 1000.0 : 0.0,
           samples ? all[samples * 99 / 100] / 1000.0 : 0.0, (unsigned long long)st.appends,
           (unsigned long long)st.syncs);
    reel_free(all);
    eventlog_close(log);
    return 0;
}
