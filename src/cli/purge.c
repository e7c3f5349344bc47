/*
 * purge.c — `reel purge`: run the erasure of deactivated accounts now,
 * with the server stopped (the server does the same by itself every
 * [privacy] purge_interval).
 *
 *   reel purge                 erase accounts whose grace period is over
 *   reel purge --now           erase every deactivated account, grace or not
 *   reel purge --user ID       erase one deactivated account now
 */
#include "cli/cli.h"

#include "api/api.h"
#include "core/clock.h"
#include "core/id.h"
#include "core/log.h"

#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fprintf(out, "usage: reel purge [--now | --user ID] [--config FILE] [--data DIR]\n"
                 "\n"
                 "Erases deactivated accounts from the store, the event log, replicas and the\n"
                 "search index (run it with the server stopped). Without options it erases\n"
                 "the accounts whose grace period ([privacy] erasure_grace) is over.\n");
}

int cli_purge(int argc, char **argv)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'}, {"data", required_argument, NULL, 'd'},
        {"now", no_argument, NULL, 'n'},          {"user", required_argument, NULL, 'u'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    struct cli_common common = {0};
    bool now = false;
    const char *user_s = NULL;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "c:d:nu:h", options, NULL)) != -1) {
        switch (opt) {
        case 'c': common.config_path = optarg; break;
        case 'd': common.data_dir = optarg; break;
        case 'n': now = true; break;
        case 'u': user_s = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    uint64_t user = 0;
    if (optind != argc || (user_s && (now || !id_parse(user_s, &user)))) {
        usage(stderr);
        return EXIT_USAGE;
    }
    static struct config cfg;
    if (cli_load_config(&cfg, &common) < 0)
        return 1;
    log_set_level(LOG_WARN);
    int lock_fd = cli_lock_data(&cfg, "purge");
    if (lock_fd < 0)
        return 1;
    static struct app app;
    char err[CONFIG_ERR_MAX];
    int status = 1;
    if (app_open(&app, &cfg, 2, err, sizeof err) < 0 || app_open_events(&app, err, sizeof err) < 0) {
        fprintf(stderr, "reel: %s\n", err);
        goto out;
    }
    if (user) {
        struct store *store = app_store_for_id(&app, user);
        int64_t since = 0;
        if (!store || store_user_deactivated_at(store, user, &since) != STORE_OK) {
            fprintf(stderr, "reel purge: no user %s here\n", user_s);
            goto out;
        }
        if (!since) {
            fprintf(stderr, "reel purge: user %s is active; only a deactivated account "
                            "(DELETE /api/v1/me) is erased\n",
                    user_s);
            goto out;
        }
        if (api_account_erase(&app, user, err, sizeof err) < 0) {
            fprintf(stderr, "reel purge: %s\n", err);
            goto out;
        }
        printf("erased 1 account\n");
        status = 0;
        goto out;
    }
    size_t erased = 0;
    int rc = api_purge_due(&app, clock_now_ms(), now, &erased);
    printf("erased %zu account%s\n", erased, erased == 1 ? "" : "s");
    status = rc < 0 ? 1 : 0;
out:
    app_close(&app);
    close(lock_fd);
    return status;
}
