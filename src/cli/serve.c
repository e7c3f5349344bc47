/*
 * serve.c — `reel serve`: load the config, open every region's store, start
 * the media pipeline (recovering what a crash left), start the HTTP front,
 * and run until SIGTERM or SIGINT, then shut down gracefully (stop
 * accepting, finish requests in flight, shelve running transcodes for the
 * next start, close the stores).
 *
 * Signals are blocked in every thread and taken synchronously with sigwait
 * in the main thread, so no handler runs in async-signal context.
 *
 * SIGHUP reloads the config file, as nginx and Redis do. The file is read
 * again with the same command-line overrides and must pass everything a
 * start would check (syntax, keys, ranges, references, residency and the
 * recorded promotions) or the reload is refused whole, logged with the
 * message a start would print, and the server runs on unchanged. A valid
 * file applies what is read afresh by every request — the log level,
 * request logging, the rate limits, the body and text limits — and each
 * other change (listen address, data directory, regions and sites, threads,
 * [events], [rec], [media]...) is logged as needing a restart and ignored:
 * those values were used to build stores, logs, threads and engines that
 * cannot be rebuilt under running requests. Only this thread writes the
 * reloadable values; request threads read them with relaxed atomic loads
 * (CONFIG_LIVE_GET, the rate limiters, the server's own atomics), so a
 * request sees either the old or the new value of each, never a torn one.
 */
#include "cli/cli.h"

#include "api/api.h"
#include "core/alloc.h"
#include "core/credential.h"
#include "core/log.h"
#include "region/region.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: reel serve [--config FILE] [--listen ADDR:PORT] [--data DIR]\n"
            "\n"
            "Runs the platform: the HTTP API, the web client and media, for every\n"
            "region in the configuration, on embedded storage.\n"
            "\n"
            "  --config FILE      configuration (default: config/reel.ini if present,\n"
            "                     else the built-in defaults)\n"
            "  --listen ADDR:PORT address to listen on (default 127.0.0.1:8080;\n"
            "                     port 0 picks a free port)\n"
            "  --data DIR         data directory (default ./data)\n");
}

/* [section] key pairs applied by a reload; every other change needs a
 * restart. Each is read once per request (or per log line). */
static const char *const reloadable_keys[][2] = {
    {"log", "level"},
    {"log", "requests"},
    {"limits", "max_body_bytes"},
    {"limits", "rate_ip_per_s"},
    {"limits", "rate_ip_burst"},
    {"limits", "rate_token_per_s"},
    {"limits", "rate_token_burst"},
    {"limits", "caption_max"},
    {"limits", "comment_max"},
    {"limits", "hashtags_max"},
    {"limits", "events_max_body"},
    {"limits", "following_feed_max"},
};

struct reload {
    int applied;
    int needs_restart;
};

static void on_config_change(const char *section, const char *name, void *arg)
{
    struct reload *reload = arg;
    char key[CONFIG_NAME_MAX + 96], quoted[2 * sizeof key];
    snprintf(key, sizeof key, "[%s]%s%s", section, name ? " " : "", name ? name : "");
    log_quote(quoted, sizeof quoted, key);
    for (size_t i = 0; name && i < sizeof reloadable_keys / sizeof reloadable_keys[0]; i++) {
        if (strcmp(section, reloadable_keys[i][0]) == 0 &&
            strcmp(name, reloadable_keys[i][1]) == 0) {
            reload->applied++;
            log_info("event=config_reload_applied key=%s", quoted);
            return;
        }
    }
    reload->needs_restart++;
    log_warn("event=config_reload_needs_restart key=%s", quoted);
}

/* SIGHUP: see the comment at the top. */
static void reload_config(struct app *app, struct http_server *server,
                          const struct cli_common *common)
{
    char err[CONFIG_ERR_MAX + 64], quoted[2 * sizeof err];
    struct config *next = reel_malloc(sizeof *next);
    struct region_map *map = reel_malloc(sizeof *map);
    if (!next || !map) {
        snprintf(err, sizeof err, "out of memory");
        goto refused;
    }
    log_info(
        "event=config_reload path=%s",
        log_quote(quoted, sizeof quoted, common->config_path ? common->config_path : "(default)"));
    if (cli_read_config(next, common, err, sizeof err) < 0 ||
        region_map_init(map, next, err, sizeof err) < 0 ||
        region_map_apply_promotions(map, next, err, sizeof err) < 0)
        goto refused;

    /* A more verbose level applies before the lines below, a quieter one
     * after them: either way the outcome of the reload is written. */
    if (next->log_level < log_get_level())
        log_set_level(next->log_level);
    struct reload reload = {0};
    config_diff(&app->cfg, next, on_config_change, &reload);
    /* Only this thread writes app->cfg; the fields request threads read are
     * stored atomically. */
    struct config *cfg = &app->cfg;
    CONFIG_LIVE_SET(cfg->caption_max, next->caption_max);
    CONFIG_LIVE_SET(cfg->comment_max, next->comment_max);
    CONFIG_LIVE_SET(cfg->hashtags_max, next->hashtags_max);
    CONFIG_LIVE_SET(cfg->events_max_body, next->events_max_body);
    CONFIG_LIVE_SET(cfg->following_feed_max, next->following_feed_max);
    cfg->max_body_bytes = next->max_body_bytes;
    cfg->rate_ip_per_s = next->rate_ip_per_s;
    cfg->rate_ip_burst = next->rate_ip_burst;
    cfg->rate_token_per_s = next->rate_token_per_s;
    cfg->rate_token_burst = next->rate_token_burst;
    cfg->log_requests = next->log_requests;
    cfg->log_level = next->log_level;
    struct http_server_options opts = {
        .max_body_bytes = cfg->max_body_bytes,
        .rate_ip_per_s = cfg->rate_ip_per_s,
        .rate_ip_burst = cfg->rate_ip_burst,
        .rate_token_per_s = cfg->rate_token_per_s,
        .rate_token_burst = cfg->rate_token_burst,
        .log_requests = cfg->log_requests,
    };
    http_server_reload(server, &opts);
    log_info("event=config_reloaded changed=%d needs_restart=%d", reload.applied,
             reload.needs_restart);
    log_set_level(cfg->log_level); /* last, so the lines above are written */
    goto out;
refused:
    log_error("event=config_reload_refused error=%s", log_quote(quoted, sizeof quoted, err));
out:
    reel_free(map);
    reel_free(next);
}

int cli_serve(int argc, char **argv)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"listen", required_argument, NULL, 'l'},
        {"data", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cli_common common = {0};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "c:l:d:h", options, NULL)) != -1) {
        switch (opt) {
        case 'c': common.config_path = optarg; break;
        case 'l': common.listen = optarg; break;
        case 'd': common.data_dir = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "reel serve: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return EXIT_USAGE;
    }

    struct config cfg;
    if (cli_load_config(&cfg, &common) < 0)
        return 1;
    log_set_level(cfg.log_level);

    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    static struct app app; /* large: keep it off the stack */
    int lock_fd = -1;
    struct http_router *router = NULL;
    struct http_server *server = NULL;
    struct purger *purger = NULL;
    int status = 1;
    char err[CONFIG_ERR_MAX];
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = cfg.threads ? cfg.threads : (unsigned)(cores > 0 ? cores : 1);
    /* One connection per thread that may touch a store, plus room for tools. */
    int connections = (int)(threads + 4 * threads + 2);
    /* The configuration is checked (residency first) before anything is
     * created; then the data directory is locked before the files only one
     * process may write (audit and event logs) are opened. */
    if (app_open(&app, &cfg, connections, err, sizeof err) < 0) {
        fprintf(stderr, "reel: %s\n", err);
        goto out;
    }
    if ((lock_fd = cli_lock_data(&cfg, "serve")) < 0)
        goto out;
    if (app_open_audit(&app, err, sizeof err) < 0 || app_open_events(&app, err, sizeof err) < 0) {
        fprintf(stderr, "reel: %s\n", err);
        goto out;
    }
    /* Media recovery (jobs resumed, replicas brought in line, videos left
     * processing settled) finishes before the first upload is accepted. */
    if (api_media_start(&app, true, err, sizeof err) < 0) {
        fprintf(stderr, "reel: media: %s\n", err);
        goto out;
    }
    router = http_router_create();
    if (!router || api_register_routes(router) < 0) {
        fprintf(stderr, "reel: could not build the route table\n");
        goto out;
    }
    struct http_server_options opts = {
        .host = cfg.listen_host,
        .port = cfg.listen_port,
        .threads = threads,
        .blocking_threads = 4 * threads,
        .max_connections = cfg.max_connections,
        .connection_timeout_s = cfg.connection_timeout_s,
        .max_body_bytes = cfg.max_body_bytes,
        .rate_ip_per_s = cfg.rate_ip_per_s,
        .rate_ip_burst = cfg.rate_ip_burst,
        .rate_token_per_s = cfg.rate_token_per_s,
        .rate_token_burst = cfg.rate_token_burst,
        .log_requests = cfg.log_requests,
        .app = &app,
        .before_handler = api_authenticate,
    };
    if (http_server_start(&server, &opts, router, err, sizeof err) < 0) {
        fprintf(stderr, "reel: %s\n", err);
        goto out;
    }
    app.server = server;
    if (!(purger = api_purger_start(&app))) {
        fprintf(stderr, "reel: could not start the erasure thread\n");
        goto out;
    }
    const char *host = cfg.listen_host;
    bool v6 = strchr(host, ':') != NULL;
    log_info("event=listening addr=%s%s%s:%u regions=%d", v6 ? "[" : "", host, v6 ? "]" : "",
             (unsigned)http_server_port(server), app.regions.count);
    printf("listening on http://%s%s%s:%u\n", v6 ? "[" : "", host, v6 ? "]" : "",
           (unsigned)http_server_port(server));
    fflush(stdout);

    int sig = 0;
    while (sigwait(&signals, &sig) == 0 && sig == SIGHUP)
        reload_config(&app, server, &common);
    log_info("event=shutdown signal=%s", sig == SIGINT ? "SIGINT" : "SIGTERM");
    status = 0;
out:
    api_purger_stop(purger);
    http_server_stop(server);
    app.server = NULL;
    api_media_stop(&app); /* running jobs are shelved for the next start */
    http_router_destroy(router);
    app_close(&app);
    if (lock_fd >= 0)
        close(lock_fd);
    if (status == 0)
        log_info("event=stopped");
    return status;
}
