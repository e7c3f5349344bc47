/*
 * stats_routes.c — analytics over HTTP (issue 8): active users and trending
 * for operators (through the custodian gateway), and a creator's own
 * statistics.
 *
 *   GET /api/v1/admin/stats/active-users?region=R&period=day|week|month
 *       [&country=CC][&day=YYYY-MM-DD][&series=N]      operators of R (stats.read)
 *   GET /api/v1/admin/stats/trending?region=R[&limit=N] operators of R (stats.read)
 *   GET /api/v1/admin/stats/overview                    any operator (stats.aggregate):
 *       day and month active users of every region      counts only
 *   GET /api/v1/me/stats[?days=N]                       the caller's videos,
 *       aggregated over the regions their viewers live in (aggregates only)
 */
#include "api/api.h"

#include "core/clock.h"
#include "core/parse.h"
#include "stats/stats.h"

#include <stdio.h>
#include <string.h>

#define SERIES_MAX 400
#define TRENDING_MAX 100

static bool bad_param(struct http_request *req, const char *field, const char *message)
{
    json_t *errors = NULL;
    http_errors_add(&errors, field, message);
    http_problem(req, 400, "validation-error", "Invalid request", "a query parameter is invalid",
                 errors);
    return false;
}

static bool query_uint(struct http_request *req, const char *name, unsigned long long def,
                       unsigned long long min, unsigned long long max, unsigned long long *out)
{
    const char *s = http_request_query(req, name);
    *out = def;
    if (!s)
        return true;
    if (parse_ull(s, out) < 0 || *out < min || *out > max) {
        char msg[96];
        snprintf(msg, sizeof msg, "must be a whole number from %llu to %llu", min, max);
        return bad_param(req, name, msg);
    }
    return true;
}

/* ?region=NAME: a configured region served by this node. */
static const struct region *query_region(struct http_request *req, struct stats **stats)
{
    struct app *app = api_app(req);
    const char *name = http_request_query(req, "region");
    const struct region *r = name ? region_by_name(&app->regions, name) : NULL;
    if (!r) {
        bad_param(req, "region", "must name a region (GET /api/v1/regions lists them)");
        return NULL;
    }
    *stats = api_analytics_stats(app->analytics[r->index]);
    return r;
}

static bool stats_ready(struct http_request *req, const struct region *r, struct stats *stats)
{
    if (stats)
        return true;
    if (!api_store_for_region(req, r))
        return false; /* 421: another node serves it */
    http_problem_status(req, 503, "analytics are not running on this node");
    return false;
}

static void get_active_users(struct http_request *req)
{
    struct gateway_actor actor;
    if (!api_admin_actor(req, &actor))
        return;
    struct stats *stats;
    const struct region *r = query_region(req, &stats);
    if (!r)
        return;
    const char *period_name = http_request_query(req, "period");
    enum stats_period period;
    if (!period_name || stats_period_parse(period_name, &period) < 0) {
        bad_param(req, "period", "must be day, week or month");
        return;
    }
    int country = -1;
    const char *cc = http_request_query(req, "country");
    if (cc && (country = country_index(cc)) < 0) {
        bad_param(req, "country", "must be an ISO 3166-1 alpha-2 country code");
        return;
    }
    int32_t day = stats_day_of_ms(clock_now_ms());
    const char *day_s = http_request_query(req, "day");
    if (day_s) {
        char iso[32];
        int64_t ms;
        snprintf(iso, sizeof iso, "%.10sT00:00:00Z", day_s);
        if (strlen(day_s) != 10 || clock_parse_rfc3339(iso, &ms) < 0) {
            bad_param(req, "day", "must be a date, YYYY-MM-DD");
            return;
        }
        day = stats_day_of_ms(ms);
    }
    unsigned long long series;
    if (!query_uint(req, "series", 0, 0, SERIES_MAX, &series))
        return;
    static const char *const fields[] = {"active_users"};
    struct gateway_access access = {.region = r, .action = "stats.read", .fields = fields,
                                    .field_count = 1, .purpose = "analytics"};
    if (!api_admin_authorize(req, &actor, &access) || !stats_ready(req, r, stats))
        return;
    char err[256];
    uint64_t count;
    if (stats_query_active(stats, period, day, country, &count, err, sizeof err) < 0) {
        http_problem_status(req, 500, err);
        return;
    }
    struct api_reply reply;
    api_reply_begin(&reply, 64 * 1024);
    struct jsonw *w = &reply.w;
    char day_str[STATS_DAY_STR_MAX];
    jsonw_object_begin(w);
    jsonw_kv_string(w, "region", r->name);
    jsonw_kv_string(w, "period", stats_period_name(period));
    jsonw_kv_string(w, "day", stats_day_format(day, day_str));
    if (country >= 0)
        jsonw_kv_string(w, "country", country_code(country));
    jsonw_kv_int(w, "active_users", (int64_t)count);
    if (series) {
        jsonw_key(w, "series");
        jsonw_array_begin(w);
        for (int32_t d = day - (int32_t)series + 1; d <= day; d++) {
            uint64_t c = 0;
            if (stats_query_active(stats, period, d, country, &c, err, sizeof err) < 0)
                c = 0;
            jsonw_object_begin(w);
            jsonw_kv_string(w, "day", stats_day_format(d, day_str));
            jsonw_kv_int(w, "active_users", (int64_t)c);
            jsonw_object_end(w);
        }
        jsonw_array_end(w);
    }
    jsonw_object_end(w);
    api_reply_end(req, 200, &reply);
}

static void get_trending(struct http_request *req)
{
    struct gateway_actor actor;
    if (!api_admin_actor(req, &actor))
        return;
    struct stats *stats;
    const struct region *r = query_region(req, &stats);
    unsigned long long limit;
    if (!r || !query_uint(req, "limit", 10, 1, TRENDING_MAX, &limit))
        return;
    static const char *const fields[] = {"trending"};
    struct gateway_access access = {.region = r, .action = "stats.read", .fields = fields,
                                    .field_count = 1, .purpose = "analytics"};
    if (!api_admin_authorize(req, &actor, &access) || !stats_ready(req, r, stats))
        return;
    struct stats_trending_item items[TRENDING_MAX];
    int64_t now = clock_now_ms();
    size_t nv = stats_query_trending_videos(stats, now, items, (size_t)limit);
    uint64_t ids[TRENDING_MAX];
    for (size_t i = 0; i < nv; i++)
        ids[i] = items[i].key;
    struct api_reply reply;
    api_reply_begin(&reply, 4 << 20);
    struct jsonw *w = &reply.w;
    jsonw_object_begin(w);
    jsonw_kv_string(w, "region", r->name);
    jsonw_key(w, "scores");
    jsonw_array_begin(w);
    for (size_t i = 0; i < nv; i++) {
        jsonw_object_begin(w);
        jsonw_kv_id(w, "video_id", items[i].key);
        jsonw_key(w, "score");
        jsonw_double(w, items[i].score);
        jsonw_object_end(w);
    }
    jsonw_array_end(w);
    jsonw_key(w, "videos");
    jsonw_array_begin(w);
    if (api_write_videos(w, api_app(req), ids, nv, 0, NULL) != STORE_OK) {
        buf_clear(&reply.buf);
        http_problem_status(req, 500, "the videos could not be read");
        return;
    }
    jsonw_array_end(w);
    size_t nh = stats_query_trending_hashtags(stats, now, items, (size_t)limit);
    jsonw_key(w, "hashtags");
    jsonw_array_begin(w);
    for (size_t i = 0; i < nh; i++) {
        jsonw_object_begin(w);
        jsonw_kv_string(w, "tag", items[i].label);
        jsonw_key(w, "score");
        jsonw_double(w, items[i].score);
        jsonw_object_end(w);
    }
    jsonw_array_end(w);
    jsonw_object_end(w);
    api_reply_end(req, 200, &reply);
}

static void get_overview(struct http_request *req)
{
    struct gateway_actor actor;
    if (!api_admin_actor(req, &actor))
        return;
    struct app *app = api_app(req);
    static const char *const fields[] = {"active_users"};
    /* Counts of every region: recorded in the actor's region's log. */
    struct gateway_access access = {.region = actor.region, .action = "stats.aggregate",
                                    .fields = fields, .field_count = 1, .purpose = "overview"};
    if (!api_admin_authorize(req, &actor, &access))
        return;
    int32_t day = stats_day_of_ms(clock_now_ms());
    struct api_reply reply;
    api_reply_begin(&reply, 64 * 1024);
    struct jsonw *w = &reply.w;
    char err[256];
    jsonw_object_begin(w);
    jsonw_key(w, "items");
    jsonw_array_begin(w);
    for (int i = 0; i < app->regions.count; i++) {
        struct stats *stats = api_analytics_stats(app->analytics[i]);
        if (!stats)
            continue;
        uint64_t d = 0, m = 0;
        if (stats_query_active(stats, STATS_PERIOD_DAY, day, -1, &d, err, sizeof err) < 0 ||
            stats_query_active(stats, STATS_PERIOD_MONTH, day, -1, &m, err, sizeof err) < 0)
            d = m = 0;
        jsonw_object_begin(w);
        jsonw_kv_string(w, "region", app->regions.regions[i].name);
        jsonw_kv_int(w, "daily_active_users", (int64_t)d);
        jsonw_kv_int(w, "monthly_active_users", (int64_t)m);
        jsonw_object_end(w);
    }
    jsonw_array_end(w);
    jsonw_object_end(w);
    api_reply_end(req, 200, &reply);
}

static void write_counters(struct jsonw *w, const struct stats_counters *c, uint64_t viewers)
{
    jsonw_kv_int(w, "impressions", (int64_t)c->impressions);
    jsonw_kv_int(w, "views", (int64_t)c->views);
    jsonw_kv_int(w, "unique_viewers", (int64_t)viewers);
    jsonw_key(w, "average_watch_ratio");
    jsonw_double(w, stats_counters_watch_ratio(c));
    jsonw_key(w, "completion_rate");
    jsonw_double(w, stats_counters_completion_rate(c));
    jsonw_kv_int(w, "likes", c->likes);
    jsonw_kv_int(w, "comments", (int64_t)c->comments);
    jsonw_kv_int(w, "shares", (int64_t)c->shares);
    jsonw_kv_int(w, "followers_gained", c->followers);
}

static void get_my_stats(struct http_request *req)
{
    if (!api_require_user(req))
        return;
    unsigned long long days;
    if (!query_uint(req, "days", 30, 1, 400, &days))
        return;
    struct app *app = api_app(req);
    int32_t last = stats_day_of_ms(clock_now_ms());
    int32_t first = last - (int32_t)days + 1;
    /* The creator's videos are watched from every region: each region's
     * analytics report only counts and sketches, merged here. */
    struct stats_creator_report total;
    stats_creator_report_init(&total, req->user_id);
    int rc = 0;
    for (int i = 0; i < app->regions.count && rc == 0; i++) {
        struct stats *stats = api_analytics_stats(app->analytics[i]);
        if (!stats)
            continue;
        struct stats_creator_report part;
        stats_creator_report_init(&part, req->user_id);
        rc = stats_query_creator(stats, req->user_id, first, last, &part);
        if (rc == 0)
            rc = stats_creator_report_merge(&total, &part);
        stats_creator_report_clear(&part);
    }
    struct stats_counters sum;
    uint64_t viewers = 0;
    if (rc < 0 || stats_creator_report_totals(&total, &sum, &viewers) < 0) {
        stats_creator_report_clear(&total);
        http_problem_status(req, 500, "the statistics could not be computed");
        return;
    }
    struct api_reply reply;
    api_reply_begin(&reply, 8 << 20);
    struct jsonw *w = &reply.w;
    char day_str[STATS_DAY_STR_MAX];
    jsonw_object_begin(w);
    jsonw_kv_string(w, "from", stats_day_format(first, day_str));
    jsonw_kv_string(w, "to", stats_day_format(last, day_str));
    jsonw_key(w, "totals");
    jsonw_object_begin(w);
    write_counters(w, &sum, viewers);
    jsonw_object_end(w);
    jsonw_key(w, "items");
    jsonw_array_begin(w);
    for (size_t i = 0; i < total.count; i++) {
        const struct stats_creator_row *row = &total.rows[i];
        jsonw_object_begin(w);
        if (row->video_id)
            jsonw_kv_id(w, "video_id", row->video_id);
        else
            jsonw_kv_string(w, "video_id", "profile");
        jsonw_kv_string(w, "day", stats_day_format(row->day, day_str));
        write_counters(w, &row->counters, stats_creator_row_viewers(row));
        jsonw_object_end(w);
    }
    jsonw_array_end(w);
    jsonw_object_end(w);
    stats_creator_report_clear(&total);
    api_reply_end(req, 200, &reply);
}

int api_stats_register(struct http_router *router)
{
    static const struct http_route routes[] = {
        {.method = HTTP_GET, .pattern = "/api/v1/admin/stats/active-users",
         .handler = get_active_users, .flags = HTTP_ROUTE_BLOCKING},
        {.method = HTTP_GET, .pattern = "/api/v1/admin/stats/trending", .handler = get_trending,
         .flags = HTTP_ROUTE_BLOCKING},
        {.method = HTTP_GET, .pattern = "/api/v1/admin/stats/overview", .handler = get_overview,
         .flags = HTTP_ROUTE_BLOCKING},
        {.method = HTTP_GET, .pattern = "/api/v1/me/stats", .handler = get_my_stats},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (http_router_add(router, &routes[i]) < 0)
            return -1;
    return 0;
}
