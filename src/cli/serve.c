/*
 * serve.c — `reel serve`: load the config, open every region's store, start
 * the media pipeline (recovering what a crash left), start the HTTP front,
 * and run until SIGTERM or SIGINT, then shut down gracefully (stop
 * accepting, finish requests in flight, shelve running transcodes for the
 * next start, close the stores).
 *
 * Signals are blocked in every thread and taken synchronously with sigwait
 * in the main thread, so no handler runs in async-signal context.
 */
#include "cli/cli.h"

#include "api/api.h"
#include "core/alloc.h"
#include "core/credential.h"
#include "core/log.h"

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
    sigwait(&signals, &sig);
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
