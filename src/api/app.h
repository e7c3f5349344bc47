/*
 * app.h — the application context: everything a request handler or a
 * command needs, opened once and shared read-only between threads.
 *
 *   config -> region map -> one store per region (its primary site)
 *                        -> the public username directory
 *
 * `reel serve` opens it and hands it to the HTTP server as req->app; other
 * commands (seed, operator, audit...) open the same context without HTTP.
 */
#ifndef REEL_API_APP_H
#define REEL_API_APP_H

#include "core/config.h"
#include "region/gateway.h"
#include "region/region.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>

struct http_server;
struct eventlog;
struct feed_seen;
struct video_cache;
struct card_cache;
struct card_refresher;
struct session_cache;
struct likes_cache;
struct feed_popular;
struct play_counts;
struct analytics;
struct recommender;
struct api_media;

struct app {
    struct config cfg;
    struct region_map regions;
    struct store *stores[CONFIG_MAX_REGIONS]; /* by region index: its primary site; NULL
                                                 for a region this node does not serve */
    bool serves[CONFIG_MAX_REGIONS];          /* by region index: [server] regions */
    struct store *directory;
    struct gateway gateway;                   /* audit logs of the served regions */
    struct eventlog *logs[CONFIG_MAX_REGIONS]; /* by region index: its engagement event log
                                                  (server only, app_open_events) */
    struct video_cache *video_cache;          /* event ingestion's video lookups */
    struct card_cache *card_cache;            /* rendered video cards (server only;
                                                 NULL: none) */
    struct card_refresher *card_refresher;    /* renews the cards in use (with the cache) */
    struct session_cache *session_cache;      /* sessions behind tokens (server only;
                                                 NULL: none) */
    struct likes_cache *likes_cache;          /* viewers' likes (server only; NULL: none) */
    struct play_counts *play_counts[CONFIG_MAX_REGIONS]; /* views, one consumer per log */
    struct analytics *analytics[CONFIG_MAX_REGIONS]; /* stats/, one consumer per log */
    struct recommender *rec[CONFIG_MAX_REGIONS]; /* rec/: For You, one engine per log */
    struct feed_seen *seen;                   /* the For You baseline's "already shown" */
    struct feed_popular *popular;             /* its candidates, refreshed every second */
    struct api_media *media;                  /* the media pipeline (api_media_start): the
                                                 server and `reel seed`; NULL elsewhere */
    struct http_server *server;               /* set by `reel serve` */
    int64_t started_ms;
};

/* Copies cfg, builds the region map (enforcing residency), opens and
 * migrates every served region's store (with its replicas) and the
 * directory, with `connections` database connections each. Returns 0, or -1 with a message in err (the app
 * is then closed). */
int app_open(struct app *app, const struct config *cfg, int connections, char *err,
             size_t errlen);
/* Opens the audit log of every served region (for the custodian gateway).
 * Only the server does: a log is held by one process at a time (it takes an
 * exclusive lock), so tools that run beside the server leave it alone.
 * Returns 0, or -1 with err (a log that fails its check is refused). */
int app_open_audit(struct app *app, char *err, size_t errlen);
/* Opens (recovering) the engagement event log of every served region, the
 * video cache and the seen filter, applies counter deltas a crash left in
 * the stores' outboxes, rebuilds the seen filter from the logs and starts
 * the view counters, analytics and recommendation engines (a consumer per
 * log each). Only the
 * server does: a log has one writer; tools read it with `reel events`.
 * Returns 0, or -1 with err. */
int app_open_events(struct app *app, char *err, size_t errlen);
void app_close(struct app *app);

/* The store of the region an id belongs to, or NULL if that region is not
 * configured or not served by this node. */
struct store *app_store_for_id(struct app *app, uint64_t id);
struct store *app_store_for_region(struct app *app, const struct region *region);
/* The event log of the region an id belongs to, or NULL (not served, or
 * app_open_events not called). */
struct eventlog *app_log_for_id(struct app *app, uint64_t id);

#endif
