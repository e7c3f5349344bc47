/*
 * stats.c — `reel stats`: a region's analytics for an operator at the
 * console — active users (day, 7 and 30 days, per country), trending videos
 * and hashtags, and a creator's totals.
 *
 * It restores the analytics the server saved (<primary site>/stats), then
 * reads the region's event log (read-only, beside a running server) from the
 * position they include to its end, with a progress bar when that is a long
 * way — everything, if the analytics were never saved. Nothing is written:
 * the server owns the saved state.
 */
#include "cli/cli.h"

#include "api/api.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/id.h"
#include "core/log.h"
#include "core/parse.h"
#include "core/progress.h"
#include "events/eventlog.h"
#include "stats/stats.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define BATCH 4096

static void usage(FILE *out)
{
    fprintf(out, "usage: reel stats --region R [--creator USER_ID] [--top N]\n"
                 "                  [--config FILE] [--data DIR]\n"
                 "\n"
                 "Prints region R's active users (day, 7 days, 30 days, per country), trending\n"
                 "videos and hashtags, and with --creator that creator's totals.\n");
}

static int catch_up(struct analytics *a, struct stats *stats, const struct config *cfg,
                    const struct region *r)
{
    char dir[CONFIG_PATH_MAX + 16], err[CONFIG_ERR_MAX];
    snprintf(dir, sizeof dir, "%s/events", r->primary_dir);
    struct eventlog_options opts;
    eventlog_options_init(&opts);
    opts.region_id = r->id;
    opts.read_only = true;
    (void)cfg;
    struct eventlog *log;
    if (access(dir, F_OK) != 0)
        return 0; /* the server never ran: no events yet */
    if (eventlog_open(&log, dir, &opts, err, sizeof err) != EVENTLOG_OK) {
        fprintf(stderr, "reel: region %s event log: %s\n", r->name, err);
        return -1;
    }
    uint64_t from = stats_log_position(stats), end = eventlog_end_offset(log);
    if (from < eventlog_first_offset(log))
        from = eventlog_first_offset(log);
    struct eventlog_record *recs = reel_calloc(BATCH, sizeof *recs);
    if (!recs) {
        eventlog_close(log);
        return -1;
    }
    struct progress bar;
    progress_init(&bar, "rebuilding from the event log", end > from ? end - from : 0, 100000);
    uint64_t at = from;
    while (at < end) {
        size_t n = 0;
        uint64_t next = at;
        if (eventlog_read(log, at, recs, BATCH, &n, &next) != EVENTLOG_OK || n == 0)
            break;
        api_analytics_feed(a, recs, n);
        at = next;
        progress_update(&bar, at - from);
    }
    progress_finish(&bar);
    reel_free(recs);
    eventlog_close(log);
    return 0;
}

static void print_active(struct stats *stats, int32_t day)
{
    static const enum stats_period periods[] = {STATS_PERIOD_DAY, STATS_PERIOD_WEEK,
                                                STATS_PERIOD_MONTH};
    char err[256], day_str[STATS_DAY_STR_MAX];
    printf("active users on %s\n", stats_day_format(day, day_str));
    for (size_t i = 0; i < 3; i++) {
        uint64_t n = 0;
        stats_query_active(stats, periods[i], day, -1, &n, err, sizeof err);
        printf("  %-6s %12llu\n", stats_period_name(periods[i]), (unsigned long long)n);
    }
    printf("  30 days by country:\n");
    for (int c = 0; c < COUNTRY_COUNT; c++) {
        uint64_t n = 0;
        if (stats_query_active(stats, STATS_PERIOD_MONTH, day, c, &n, err, sizeof err) == 0 && n)
            printf("    %s %12llu\n", country_code(c), (unsigned long long)n);
    }
}

static void print_trending(struct stats *stats, size_t top)
{
    struct stats_trending_item items[100];
    if (top > 100)
        top = 100;
    int64_t now = clock_now_ms();
    size_t n = stats_query_trending_videos(stats, now, items, top);
    char id[ID_STR_MAX];
    printf("trending videos\n");
    for (size_t i = 0; i < n; i++)
        printf("  %2zu. %s  %.2f\n", i + 1, id_format(items[i].key, id), items[i].score);
    n = stats_query_trending_hashtags(stats, now, items, top);
    printf("trending hashtags\n");
    for (size_t i = 0; i < n; i++)
        printf("  %2zu. #%s  %.2f\n", i + 1, items[i].label, items[i].score);
}

static int print_creator(struct stats *stats, uint64_t creator, int32_t day)
{
    struct stats_creator_report r;
    stats_creator_report_init(&r, creator);
    struct stats_counters c;
    uint64_t viewers = 0;
    int rc = stats_query_creator(stats, creator, day - 29, day, &r);
    if (rc == 0)
        rc = stats_creator_report_totals(&r, &c, &viewers);
    if (rc == 0)
        printf("creator %llu, last 30 days (viewers of this region)\n"
               "  views %llu  unique viewers %llu  likes %lld  comments %llu  shares %llu\n"
               "  average watch ratio %.3f  completion rate %.3f  followers gained %lld\n",
               (unsigned long long)creator, (unsigned long long)c.views,
               (unsigned long long)viewers, (long long)c.likes, (unsigned long long)c.comments,
               (unsigned long long)c.shares, stats_counters_watch_ratio(&c),
               stats_counters_completion_rate(&c), (long long)c.followers);
    stats_creator_report_clear(&r);
    return rc;
}

int cli_stats(int argc, char **argv)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'}, {"data", required_argument, NULL, 'd'},
        {"region", required_argument, NULL, 'r'}, {"creator", required_argument, NULL, 'u'},
        {"top", required_argument, NULL, 't'},    {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cli_common common = {0};
    const char *region_name = NULL, *creator_s = NULL;
    unsigned long long top = 10;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "c:d:r:u:t:h", options, NULL)) != -1) {
        switch (opt) {
        case 'c': common.config_path = optarg; break;
        case 'd': common.data_dir = optarg; break;
        case 'r': region_name = optarg; break;
        case 'u': creator_s = optarg; break;
        case 't':
            if (parse_ull(optarg, &top) < 0 || top == 0 || top > 100) {
                fprintf(stderr, "reel stats: --top: a number from 1 to 100\n");
                return EXIT_USAGE;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    uint64_t creator = 0;
    if (optind != argc || !region_name || (creator_s && !id_parse(creator_s, &creator))) {
        usage(stderr);
        return EXIT_USAGE;
    }
    static struct config cfg;
    if (cli_load_config(&cfg, &common) < 0)
        return 1;
    log_set_level(LOG_WARN);
    static struct app app;
    char err[CONFIG_ERR_MAX];
    if (app_open(&app, &cfg, 1, err, sizeof err) < 0) {
        fprintf(stderr, "reel: %s\n", err);
        return 1;
    }
    int status = 1;
    struct analytics *a = NULL;
    const struct region *r = region_by_name(&app.regions, region_name);
    if (!r) {
        fprintf(stderr, "reel stats: no region named '%s'\n", region_name);
        goto out;
    }
    if (!(a = api_analytics_start(&app, r, NULL, err, sizeof err))) {
        fprintf(stderr, "reel: %s\n", err);
        goto out;
    }
    struct stats *stats = api_analytics_stats(a);
    if (catch_up(a, stats, &cfg, r) < 0)
        goto out;
    int32_t day = stats_day_of_ms(clock_now_ms());
    printf("region %s\n", r->name);
    print_active(stats, day);
    print_trending(stats, (size_t)top);
    if (creator && print_creator(stats, creator, day) < 0)
        goto out;
    status = 0;
out:
    api_analytics_stop(a); /* started without a log: nothing is saved */
    app_close(&app);
    return status;
}
