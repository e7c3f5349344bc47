/*
 * app.h — the application context: everything a request handler or a
 * command needs, opened once and shared read-only between threads.
 *
 *   config -> region map -> one store per region (its primary site)
 *                        -> one engagement event log per region (its primary
 *                           site's events/ directory)
 *                        -> the public username directory
 *   + in-memory helpers shared by requests: the video cache used by event
 *     ingestion, and the v0 "already shown" filter of the For You feed
 *
 * `reel serve` opens it and hands it to the HTTP server as req->app; other
 * commands (seed, operator, audit...) open the same context without HTTP.
 */
#ifndef REEL_API_APP_H
#define REEL_API_APP_H

#include "core/config.h"
#include "region/region.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>

struct http_server;
struct eventlog;
struct feed_seen;
struct video_cache;

struct app {
    struct config cfg;
    struct region_map regions;
    struct store *stores[CONFIG_MAX_REGIONS]; /* by region index: its primary site; NULL
                                                 for a region this node does not serve */
    bool serves[CONFIG_MAX_REGIONS];          /* by region index: [server] regions */
    struct store *directory;
    struct eventlog *logs[CONFIG_MAX_REGIONS]; /* by region index: its event log */
    struct video_cache *video_cache;
    struct feed_seen *seen;
    struct http_server *server;               /* set by `reel serve` */
    int64_t started_ms;
};

/* Copies cfg, builds the region map (enforcing residency), opens and
 * migrates every region's store and the directory, with `connections`
 * database connections each, opens (recovering) every region's event log,
 * applies counter deltas a crash left in the stores' outboxes, and rebuilds
 * the feed's seen filter from the logs. Returns 0, or -1 with a message in
 * err (the app is then closed). */
int app_open(struct app *app, const struct config *cfg, int connections, char *err,
             size_t errlen);

enum app_open_flags {
    /* Stores only: no event logs, caches or seen filter. For tools that may
     * run beside a live `reel serve` (SQLite lets two processes share a
     * store; an event log has one writer). */
    APP_OPEN_STORES_ONLY = 1 << 0,
};
int app_open_flags(struct app *app, const struct config *cfg, int connections, unsigned flags,
                   char *err, size_t errlen);
void app_close(struct app *app);

/* The store of the region an id belongs to, or NULL if that region is not
 * configured or not served by this node. */
struct store *app_store_for_id(struct app *app, uint64_t id);
struct store *app_store_for_region(struct app *app, const struct region *region);
/* The event log of the region an id belongs to, or NULL. */
struct eventlog *app_log_for_id(struct app *app, uint64_t id);

#endif
