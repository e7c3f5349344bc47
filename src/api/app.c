/*
 * app.c — see app.h.
 */
#include "api/app.h"

#include "core/clock.h"
#include "core/id.h"
#include "api/api.h"
#include "events/eventlog.h"
#include "feed/seen.h"
#include "region/custodian.h"
#include "region/custody.h"

#include <sodium.h>

#include <stdio.h>
#include <string.h>

/* Parses [server] regions ("*" or names) into app->serves. */
static int select_served(struct app *app, char *err, size_t errlen)
{
    const char *list = app->cfg.serve_regions;
    if (strcmp(list, "*") == 0) {
        for (int i = 0; i < app->regions.count; i++)
            app->serves[i] = true;
        return 0;
    }
    char name[CONFIG_NAME_MAX];
    for (const char *p = list; *p;) {
        p += strspn(p, " ,");
        size_t n = strcspn(p, " ,");
        if (n == 0)
            break;
        snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), p);
        const struct region *r = region_by_name(&app->regions, name);
        if (!r) {
            snprintf(err, errlen, "[server] regions: no region named '%s'", name);
            return -1;
        }
        app->serves[r->index] = true;
        p += n;
    }
    for (int i = 0; i < app->regions.count; i++)
        if (app->serves[i])
            return 0;
    snprintf(err, errlen, "[server] regions: this node would serve no region");
    return -1;
}

/* The region's audit log, in its primary site, signed with the custodian's
 * key (derived from the data key). */
static int open_audit(struct app *app, const struct region *r, char *err, size_t errlen)
{
    struct custodian_key key;
    char dir[CONFIG_PATH_MAX + 8];
    snprintf(dir, sizeof dir, "%s/audit", r->primary_dir);
    if (custodian_key_load(&app->cfg, r, true, &key, err, errlen) < 0)
        return -1;
    int rc = audit_open(&app->gateway.logs[r->index], dir, r->name, &key, err, errlen);
    custodian_key_wipe(&key);
    /* Copies at every replica site, kept in step with every append. */
    for (int k = 0; rc == 0 && k < r->replica_count; k++) {
        char site_dir[CONFIG_PATH_MAX], copy[CONFIG_PATH_MAX + 8];
        if (region_site_dir(&app->cfg, r->replicas[k], site_dir) < 0)
            continue;
        snprintf(copy, sizeof copy, "%s/audit", site_dir);
        rc = audit_add_mirror(app->gateway.logs[r->index], copy, err, errlen);
    }
    return rc;
}

int app_open(struct app *app, const struct config *cfg, int connections, char *err,
             size_t errlen)
{
    memset(app, 0, sizeof *app);
    app->cfg = *cfg;
    app->started_ms = clock_now_ms();
    if (id_set_node(app->cfg.node) < 0) {
        snprintf(err, errlen, "node %u is out of range (0..%d)", app->cfg.node, ID_NODE_MAX);
        return -1;
    }
    if (region_map_init(&app->regions, &app->cfg, err, errlen) < 0 ||
        region_map_apply_promotions(&app->regions, &app->cfg, err, errlen) < 0)
        return -1;
    if (select_served(app, err, errlen) < 0)
        return -1;
    for (int i = 0; i < app->regions.count; i++) {
        const struct region *r = &app->regions.regions[i];
        if (!app->serves[i])
            continue;
        unsigned char key[CUSTODY_KEY_BYTES];
        char key_path[CONFIG_PATH_MAX];
        char replica_dirs[STORE_MAX_REPLICAS][CONFIG_PATH_MAX];
        struct store_options opts = {.connections = connections, .field_key = key};
        if (region_key_path(&app->cfg, r, key_path) < 0 ||
            custody_key_load_or_create(key_path, key, err, errlen) < 0)
            goto fail;
        for (int k = 0; k < r->replica_count && k < STORE_MAX_REPLICAS; k++) {
            if (region_site_dir(&app->cfg, r->replicas[k], replica_dirs[k]) < 0) {
                snprintf(err, errlen, "site %s: path too long", r->replicas[k]->name);
                goto fail;
            }
            opts.replica_dirs[opts.replica_count++] = replica_dirs[k];
        }
        int rc = store_open(&app->stores[i], STORE_KIND_REGION, r->primary_dir, &opts, err, errlen);
        sodium_memzero(key, sizeof key);
        if (rc != STORE_OK)
            goto fail;
    }
    char dir[CONFIG_PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/directory", app->cfg.data_dir);
    struct store_options dir_opts = {.connections = connections};
    if (store_open(&app->directory, STORE_KIND_DIRECTORY, dir, &dir_opts, err, errlen) != STORE_OK)
        goto fail;
    return 0;
fail:
    app_close(app);
    return -1;
}

int app_open_audit(struct app *app, char *err, size_t errlen)
{
    for (int i = 0; i < app->regions.count; i++)
        if (app->serves[i] && !app->gateway.logs[i] &&
            open_audit(app, &app->regions.regions[i], err, errlen) < 0)
            return -1;
    return 0;
}

/* The stores' change hook: the caches that hold what those rows say. */
static void store_changed(void *ctx, enum store_row row, uint64_t id, bool deleted)
{
    struct app *app = ctx;
    if (app->card_cache)
        api_card_cache_changed(app->card_cache, row, id, deleted);
    api_session_cache_changed(app->session_cache, row, id, deleted);
    api_likes_cache_changed(app->likes_cache, row, id, deleted);
}

int app_open_events(struct app *app, char *err, size_t errlen)
{
    struct eventlog_options opts;
    eventlog_options_init(&opts);
    opts.segment_bytes = app->cfg.events_segment_bytes;
    opts.retention_bytes = app->cfg.events_retention_bytes;
    opts.retention_age_ms = (uint64_t)app->cfg.events_retention_age_s * 1000;
    opts.retention_ignores_consumers = app->cfg.events_retention_ignores_consumers;
    opts.fsync = app->cfg.events_fsync;
    opts.commit_delay_us = app->cfg.events_commit_delay_us;
    opts.max_pending_bytes = app->cfg.events_max_pending_bytes;
    for (int i = 0; i < app->regions.count; i++) {
        const struct region *r = &app->regions.regions[i];
        if (!app->serves[i] || app->logs[i])
            continue;
        char logdir[CONFIG_PATH_MAX + 16], logerr[CONFIG_ERR_MAX];
        char mirrors[EVENTLOG_MAX_MIRRORS][CONFIG_PATH_MAX + 16];
        snprintf(logdir, sizeof logdir, "%s/events", r->primary_dir);
        opts.region_id = r->id;
        opts.mirror_count = 0;
        for (int k = 0; k < r->replica_count && k < EVENTLOG_MAX_MIRRORS; k++) {
            char site_dir[CONFIG_PATH_MAX];
            if (region_site_dir(&app->cfg, r->replicas[k], site_dir) < 0)
                continue;
            snprintf(mirrors[k], sizeof mirrors[k], "%s/events", site_dir);
            opts.mirror_dirs[opts.mirror_count++] = mirrors[k];
        }
        if (eventlog_open(&app->logs[i], logdir, &opts, logerr, sizeof logerr) != EVENTLOG_OK) {
            snprintf(err, errlen, "region %s event log: %s", r->name, logerr);
            return -1;
        }
        eventlog_retain(app->logs[i], clock_now_ms(), NULL);
    }
    if (!app->video_cache)
        app->video_cache = api_video_cache_create();
    if (!app->seen)
        app->seen = feed_seen_create(app->cfg.feed_seen_max, app->cfg.feed_seen_users);
    if (!app->popular)
        app->popular = api_feed_popular_create(app);
    if (!app->video_cache || !app->seen || !app->popular) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* Each cache the config asks for, once; creating returns NULL only
     * when out of memory (a size of 0 is no cache). */
    if ((app->cfg.card_cache && !app->card_cache &&
         !(app->card_cache = api_card_cache_create(app->cfg.card_cache))) ||
        (app->cfg.session_cache && !app->session_cache &&
         !(app->session_cache = api_session_cache_create(app->cfg.session_cache))) ||
        (app->cfg.likes_cache && !app->likes_cache &&
         !(app->likes_cache = api_likes_cache_create(app->cfg.likes_cache)))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (app->card_cache || app->session_cache || app->likes_cache)
        for (int i = 0; i < app->regions.count; i++)
            if (app->stores[i])
                store_set_change_hook(app->stores[i], store_changed, app);
    if (app->card_cache && !app->card_refresher &&
        !(app->card_refresher = api_card_refresher_start(app, err, errlen)))
        return -1;
    if (api_counters_drain(app) < 0) {
        snprintf(err, errlen, "could not apply the counter deltas left in the stores' outboxes");
        return -1;
    }
    api_feed_seen_rebuild(app);
    for (int i = 0; i < app->regions.count; i++) {
        if (!app->logs[i] || app->play_counts[i])
            continue;
        if (!(app->play_counts[i] = api_play_counts_start(app, app->logs[i]))) {
            snprintf(err, errlen, "region %s: could not start the view counter",
                     app->regions.regions[i].name);
            return -1;
        }
        if (!(app->analytics[i] = api_analytics_start(app, &app->regions.regions[i],
                                                      app->logs[i], err, errlen)))
            return -1;
        if (!(app->rec[i] =
                  api_rec_start(app, &app->regions.regions[i], app->logs[i], err, errlen)))
            return -1;
    }
    return 0;
}

struct eventlog *app_log_for_id(struct app *app, uint64_t id)
{
    const struct region *r = region_for_id(&app->regions, id);
    return r ? app->logs[r->index] : NULL;
}

void app_close(struct app *app)
{
    api_card_refresher_stop(app->card_refresher); /* it reads the stores */
    app->card_refresher = NULL;
    for (int i = 0; i < CONFIG_MAX_REGIONS; i++) {
        api_play_counts_stop(app->play_counts[i]); /* flushes into the stores: first */
        app->play_counts[i] = NULL;
        /* The engine first: its consumer reads the analytics' trending. */
        api_rec_stop(app->rec[i]); /* snapshots the engine */
        app->rec[i] = NULL;
        api_analytics_stop(app->analytics[i]); /* saves the stats */
        app->analytics[i] = NULL;
        eventlog_close(app->logs[i]);
        app->logs[i] = NULL;
    }
    api_video_cache_destroy(app->video_cache);
    app->video_cache = NULL;
    feed_seen_destroy(app->seen);
    app->seen = NULL;
    api_feed_popular_destroy(app->popular);
    app->popular = NULL;
    for (int i = 0; i < CONFIG_MAX_REGIONS; i++) {
        store_close(app->stores[i]);
        app->stores[i] = NULL;
        audit_close(app->gateway.logs[i]);
        app->gateway.logs[i] = NULL;
    }
    store_close(app->directory);
    app->directory = NULL;
    /* After the stores: their change hook points at it. */
    api_card_cache_destroy(app->card_cache);
    app->card_cache = NULL;
    api_session_cache_destroy(app->session_cache);
    app->session_cache = NULL;
    api_likes_cache_destroy(app->likes_cache);
    app->likes_cache = NULL;
}

struct store *app_store_for_region(struct app *app, const struct region *region)
{
    return region ? app->stores[region->index] : NULL;
}

struct store *app_store_for_id(struct app *app, uint64_t id)
{
    return app_store_for_region(app, region_for_id(&app->regions, id));
}
