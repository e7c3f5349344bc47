/*
 * analytics.c — feeds each region's analytics (stats/) from its event log
 * and answers their queries.
 *
 * One `stats` per served region, restored from <primary site>/stats and fed
 * by a consumer ("stats") of the region's log through an eventlog_pump. The
 * stats snapshot records the log position it includes, so records the pump
 * delivers again after a crash (at-least-once) are skipped here: counts are
 * exact across restarts. The checkpoint writes the day files and snapshot
 * before the consumer's offset is committed.
 *
 * Two lookups the events do not carry, each with a small cache used only by
 * the region's consumer thread (no locks):
 *   - the user's country (per-country active users): users.country from the
 *     user's store — the user is of this region, so this never leaves it;
 *   - the video's hashtags (hashtag trending), from the video's store.
 */
#include "api/api.h"

#include "core/alloc.h"
#include "core/log.h"
#include "events/pump.h"
#include "stats/stats.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define COUNTRY_CACHE 65536 /* power of two */
#define TAG_CACHE 4096      /* power of two */
#define TAGS_BYTES 240

struct tag_entry {
    uint64_t video_id;
    int count;
    char text[TAGS_BYTES]; /* tags separated by NUL */
};

struct analytics {
    struct app *app;
    const struct region *region;
    struct stats *stats;
    struct eventlog_pump *pump;
    struct {
        uint64_t user_id;
        int16_t country;
    } countries[COUNTRY_CACHE];
    struct tag_entry tags[TAG_CACHE];
    struct store_video *scratch;
};

static size_t slot(uint64_t id, size_t size)
{
    id ^= id >> 31;
    id *= 0x9E3779B97F4A7C15ULL;
    return (size_t)(id >> 32) & (size - 1);
}

static int user_country(struct analytics *a, uint64_t user_id)
{
    size_t i = slot(user_id, COUNTRY_CACHE);
    if (a->countries[i].user_id == user_id)
        return a->countries[i].country;
    struct store *store = app_store_for_id(a->app, user_id);
    struct store_user u;
    int country = -1;
    if (store && store_user_get_public(store, user_id, &u) == STORE_OK)
        country = country_index(u.country);
    a->countries[i].user_id = user_id;
    a->countries[i].country = (int16_t)country;
    return country;
}

static int video_hashtags(void *ctx, uint64_t video_id, const char **tags, int max)
{
    struct analytics *a = ctx;
    struct tag_entry *e = &a->tags[slot(video_id, TAG_CACHE)];
    if (e->video_id != video_id) {
        e->video_id = video_id;
        e->count = 0;
        struct store *store = app_store_for_id(a->app, video_id);
        if (store && store_video_get(store, video_id, a->scratch, NULL) == STORE_OK) {
            /* "a b c" -> "a\0b\0c\0", whole tags only */
            size_t o = 0;
            for (const char *p = a->scratch->hashtags; *p;) {
                size_t n = strcspn(p, " ");
                if (n && o + n + 1 <= sizeof e->text) {
                    memcpy(e->text + o, p, n);
                    e->text[o + n] = '\0';
                    o += n + 1;
                    e->count++;
                }
                p += n;
                p += strspn(p, " ");
            }
        }
    }
    int n = 0;
    for (const char *p = e->text; n < e->count && n < max; p += strlen(p) + 1)
        tags[n++] = p;
    return n;
}

static int apply_events(void *ctx, const struct eventlog_record *recs, size_t count)
{
    struct analytics *a = ctx;
    uint64_t done = stats_log_position(a->stats);
    for (size_t i = 0; i < count; i++) {
        if (recs[i].offset < done || recs[i].event.type == EVENT_ERASED)
            continue; /* already counted before a crash, or erased */
        const struct event *ev = &recs[i].event;
        if (stats_apply(a->stats, ev, user_country(a, ev->user_id), recs[i].offset + 1) < 0)
            log_warn("event=stats_apply_failed region=%s offset=%llu", a->region->name,
                     (unsigned long long)recs[i].offset);
    }
    return 0;
}

static int save_stats(void *ctx, uint64_t next)
{
    struct analytics *a = ctx;
    (void)next;
    char err[256];
    if (stats_save(a->stats, err, sizeof err) < 0) {
        log_error("event=stats_save_failed region=%s error=\"%s\"", a->region->name, err);
        return -1;
    }
    return 0;
}

struct analytics *api_analytics_start(struct app *app, const struct region *region,
                                      struct eventlog *log, char *err, size_t errlen)
{
    struct analytics *a = reel_calloc(1, sizeof *a);
    if (!a || !(a->scratch = reel_malloc(sizeof *a->scratch))) {
        reel_free(a);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    a->app = app;
    a->region = region;
    struct stats_options o;
    stats_options_init(&o, &app->cfg);
    o.video_hashtags = video_hashtags;
    o.hooks_ctx = a;
    char dir[CONFIG_PATH_MAX + 8];
    snprintf(dir, sizeof dir, "%s/stats", region->primary_dir);
    if (!(a->stats = stats_create(&o, dir, err, errlen)))
        goto fail;
    if (log) {
        struct eventlog_pump_options p = {.consumer = "stats",
                                          .commit_every_ms = 1000,
                                          .apply = apply_events,
                                          .checkpoint = save_stats,
                                          .ctx = a};
        if (eventlog_pump_start(&a->pump, log, &p) != EVENTLOG_OK) {
            snprintf(err, errlen, "region %s: could not start the stats consumer", region->name);
            goto fail;
        }
    }
    return a;
fail:
    stats_destroy(a->stats);
    reel_free(a->scratch);
    reel_free(a);
    return NULL;
}

void api_analytics_stop(struct analytics *a)
{
    if (!a)
        return;
    eventlog_pump_stop(a->pump);
    if (a->pump) {
        char err[256];
        if (stats_save(a->stats, err, sizeof err) < 0)
            log_error("event=stats_save_failed region=%s error=\"%s\"", a->region->name, err);
    }
    stats_destroy(a->stats);
    reel_free(a->scratch);
    reel_free(a);
}

void api_analytics_feed(struct analytics *a, const struct eventlog_record *records, size_t n)
{
    apply_events(a, records, n);
}

int api_analytics_forget_creator(struct analytics *a, uint64_t creator_id, uint64_t log_end)
{
    /* Records read before the log was scrubbed may still be on their way to
     * the stats: wait until the consumer has passed the end of the log as it
     * was after the scrub, so nothing re-creates what is forgotten. */
    for (int i = 0; i < 500 && a->pump && eventlog_pump_position(a->pump) < log_end; i++)
        usleep(10000);
    char err[256];
    if (stats_forget_creator(a->stats, creator_id) < 0 || stats_save(a->stats, err, sizeof err) < 0)
        return -1;
    return 0;
}

struct stats *api_analytics_stats(struct analytics *a)
{
    return a ? a->stats : NULL;
}
