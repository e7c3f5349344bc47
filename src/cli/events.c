/*
 * events.c — `reel events`: look into a region's engagement event log.
 *
 *   reel events dump  [--config FILE] [--data DIR] --region R [--from N] [--limit N]
 *       one JSON object per line per event, in log order
 *   reel events stats [--config FILE] [--data DIR] --region R
 *       offsets, segments, bytes, consumers' committed offsets
 *
 * The log is opened read-only: no recovery writes, so this is safe beside a
 * running server or after a crash (reading stops before a torn tail, which
 * the server cuts off when it next starts).
 */
#include "cli/cli.h"

#include "core/clock.h"
#include "core/id.h"
#include "core/parse.h"
#include "events/eventlog.h"
#include "region/region.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out, "usage: reel events dump [--config FILE] [--data DIR] --region R [--from N]\n"
                 "                        [--limit N]\n"
                 "       reel events stats [--config FILE] [--data DIR] --region R\n"
                 "\n"
                 "Reads a region's engagement event log (read-only). dump prints one JSON\n"
                 "object per event and line: offset, type, user_id, video_id, creator_id,\n"
                 "at, watched_ms, duration_ms, ingest.\n");
}

static int open_log(const struct config *cfg, const char *region_name, struct eventlog **log)
{
    static struct region_map map;
    char err[CONFIG_ERR_MAX];
    if (region_map_init(&map, cfg, err, sizeof err) < 0) {
        fprintf(stderr, "reel events: %s\n", err);
        return -1;
    }
    const struct region *r = region_by_name(&map, region_name);
    if (!r) {
        fprintf(stderr, "reel events: no region named '%s'\n", region_name);
        return -1;
    }
    char dir[CONFIG_PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/events", r->primary_dir);
    struct eventlog_options opts;
    eventlog_options_init(&opts);
    opts.region_id = r->id;
    opts.read_only = true;
    if (eventlog_open(log, dir, &opts, err, sizeof err) != EVENTLOG_OK) {
        fprintf(stderr, "reel events: %s\n", err);
        return -1;
    }
    return 0;
}

static int dump(struct eventlog *log, uint64_t from, uint64_t limit)
{
    static struct eventlog_record recs[1024];
    uint64_t offset = from, printed = 0;
    while (printed < limit) {
        size_t n = 0;
        size_t want = limit - printed < 1024 ? (size_t)(limit - printed) : 1024;
        int rc = eventlog_read(log, offset, recs, want, &n, &offset);
        if (rc != EVENTLOG_OK) {
            fprintf(stderr, "reel events: read error at offset %llu (%d)\n",
                    (unsigned long long)offset, rc);
            return 1;
        }
        if (n == 0)
            break;
        for (size_t i = 0; i < n; i++) {
            const struct event *e = &recs[i].event;
            char user[ID_STR_MAX], video[ID_STR_MAX], creator[ID_STR_MAX], at[RFC3339_MAX],
                ingest[RFC3339_MAX];
            printf("{\"offset\":%llu,\"type\":\"%s\",\"user_id\":\"%s\",\"video_id\":\"%s\","
                   "\"creator_id\":\"%s\",\"at\":\"%s\",\"watched_ms\":%u,\"duration_ms\":%u,"
                   "\"ingest\":\"%s\"}\n",
                   (unsigned long long)recs[i].offset, event_type_name(e->type),
                   id_format(e->user_id, user), id_format(e->video_id, video),
                   id_format(e->creator_id, creator), clock_format_rfc3339(e->at_ms, at),
                   e->watched_ms, e->duration_ms, clock_format_rfc3339(recs[i].ingest_ms, ingest));
        }
        printed += n;
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

int cli_events(int argc, char **argv)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"data", required_argument, NULL, 'd'},
        {"region", required_argument, NULL, 'r'},
        {"from", required_argument, NULL, 'f'},
        {"limit", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    const char *action = argv[1];
    if (strcmp(action, "dump") != 0 && strcmp(action, "stats") != 0) {
        fprintf(stderr, "reel events: unknown action '%s'\n", action);
        usage(stderr);
        return EXIT_USAGE;
    }
    struct cli_common common = {0};
    const char *region = NULL;
    unsigned long long from = 0, limit = UINT64_MAX;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc - 1, argv + 1, "c:d:r:h", options, NULL)) != -1) {
        switch (opt) {
        case 'c': common.config_path = optarg; break;
        case 'd': common.data_dir = optarg; break;
        case 'r': region = optarg; break;
        case 'f':
            if (parse_ull(optarg, &from) < 0)
                goto bad;
            break;
        case 'l':
            if (parse_ull(optarg, &limit) < 0)
                goto bad;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc - 1 || !region)
        goto bad;
    struct config cfg;
    if (cli_load_config(&cfg, &common) < 0)
        return 1;
    struct eventlog *log;
    if (open_log(&cfg, region, &log) < 0)
        return 1;
    int rc = 0;
    if (strcmp(action, "dump") == 0) {
        rc = dump(log, from, limit);
    } else {
        struct eventlog_stats st;
        eventlog_get_stats(log, &st);
        printf("{\"region\":\"%s\",\"first_offset\":%llu,\"end_offset\":%llu,\"segments\":%llu,"
               "\"bytes\":%llu}\n",
               region, (unsigned long long)st.first_offset, (unsigned long long)st.end_offset,
               (unsigned long long)st.segments, (unsigned long long)st.bytes);
    }
    eventlog_close(log);
    return rc;
bad:
    fprintf(stderr, "reel events: bad or missing argument (--region is required)\n");
    usage(stderr);
    return EXIT_USAGE;
}
