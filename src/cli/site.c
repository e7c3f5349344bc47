/*
 * site.c — `reel site promote SITE`: make a replica site its region's
 * primary after the primary site is lost.
 *
 * Run it while `reel serve` is stopped. Because every acknowledged write was
 * applied to each healthy replica before it was acknowledged (see
 * store/store_sqlite_replica.c), a replica that is not marked STALE holds
 * every acknowledged write. The decision is recorded under
 * <data_dir>/promoted/<region>; at the next start the promoted site serves
 * as primary and the former primary becomes a replica, copied afresh from the
 * new primary if it differs.
 */
#include "cli/cli.h"

#include "region/audit.h"
#include "region/custodian.h"
#include "region/region.h"
#include "store/store.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: reel site promote SITE [--config FILE] [--data DIR] [--force]\n"
            "\n"
            "Makes replica SITE the primary site of its region (run with the server stopped).\n"
            "Refuses a replica marked stale (it missed writes) unless --force is given.\n");
}

/* A replica site is stale if any of its copies — the store, the event log,
 * the audit log, the media — missed writes (each marks itself STALE). */
static bool site_is_stale(const char *dir)
{
    if (store_replica_is_stale(dir))
        return true;
    static const char *const parts[] = {"events", "audit", "media"};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        char marker[CONFIG_PATH_MAX + 32];
        snprintf(marker, sizeof marker, "%s/%s/STALE", dir, parts[i]);
        if (access(marker, F_OK) == 0)
            return true;
    }
    return false;
}

/* Opens the promoted site's audit log as its writer would, which repairs an
 * append the crash interrupted (a record without its signed head was never
 * acknowledged: it is cut off) and checks the rest against its last head.
 * Returns 0 (also when the site has no audit log yet), or -1 with err. */
static int mend_audit(const struct config *cfg, const struct region *r, const char *dir, char *err,
                      size_t errlen)
{
    char path[CONFIG_PATH_MAX + 8];
    snprintf(path, sizeof path, "%s/audit", dir);
    if (access(path, F_OK) != 0)
        return 0;
    struct custodian_key key;
    if (custodian_key_load(cfg, r, false, &key, err, errlen) < 0)
        return -1;
    struct audit_log *log = NULL;
    int rc = audit_open(&log, path, r->name, &key, err, errlen);
    custodian_key_wipe(&key);
    if (rc == 0)
        audit_close(log);
    return rc;
}

int cli_site(int argc, char **argv)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"data", required_argument, NULL, 'd'},
        {"force", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cli_common common = {0};
    bool force = false;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "c:d:fh", options, NULL)) != -1) {
        switch (opt) {
        case 'c': common.config_path = optarg; break;
        case 'd': common.data_dir = optarg; break;
        case 'f': force = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (argc - optind != 2 || strcmp(argv[optind], "promote") != 0) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *site = argv[optind + 1];

    static struct config cfg;
    static struct region_map map;
    char err[CONFIG_ERR_MAX];
    if (cli_load_config(&cfg, &common) < 0)
        return 1;
    int lock_fd = cli_lock_data(&cfg, "site promote"); /* held until exit */
    if (lock_fd < 0)
        return 1;
    if (region_map_init(&map, &cfg, err, sizeof err) < 0 ||
        region_map_apply_promotions(&map, &cfg, err, sizeof err) < 0) {
        fprintf(stderr, "reel: %s\n", err);
        return 1;
    }
    for (int i = 0; i < map.count; i++) {
        const struct region *r = &map.regions[i];
        if (strcmp(r->primary->name, site) == 0) {
            fprintf(stderr, "reel: site %s is already the primary of region %s\n", site, r->name);
            return 1;
        }
        for (int k = 0; k < r->replica_count; k++) {
            if (strcmp(r->replicas[k]->name, site) != 0)
                continue;
            char dir[CONFIG_PATH_MAX];
            if (region_site_dir(&cfg, r->replicas[k], dir) < 0) {
                fprintf(stderr, "reel: site %s: path too long\n", site);
                return 1;
            }
            if (site_is_stale(dir) && !force) {
                fprintf(stderr,
                        "reel: replica %s is stale (it missed writes or was never copied); "
                        "promoting it would lose data. Use --force to promote it anyway.\n",
                        site);
                return 1;
            }
            if (mend_audit(&cfg, r, dir, err, sizeof err) < 0) {
                fprintf(stderr, "reel: replica %s: audit log: %s\n", site, err);
                return 1;
            }
            if (region_promotion_record(&cfg, r, site, err, sizeof err) < 0) {
                fprintf(stderr, "reel: %s\n", err);
                return 1;
            }
            printf("site %s is now the primary of region %s; %s becomes a replica and is "
                   "brought up to date at the next start\n",
                   site, r->name, r->primary->name);
            return 0;
        }
    }
    fprintf(stderr, "reel: no region has a replica site named '%s'\n", site);
    return 1;
}
