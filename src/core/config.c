/*
 * config.c — see config.h.
 *
 * Scalar keys are described by a table (section, key, type, offset, range) so
 * adding a setting is one line; [site NAME] and [region NAME] sections have
 * their own small parsers. inih calls `on_entry` for every key; the first
 * error is kept with its line number (counted by our own line reader, which
 * also rejects lines longer than inih's buffer instead of splitting them).
 */
#include "core/config.h"

#include "core/alloc.h"
#include "core/parse.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum key_type {
    KEY_STRING,
    KEY_UINT,
    KEY_BYTES,
    KEY_SECONDS,
    KEY_BOOL,
    KEY_LOG_LEVEL,
    KEY_LISTEN,
    KEY_DOUBLE, /* min/max are the range x 1000 (keys_specs stay integers) */
};

struct key_spec {
    const char *section;
    const char *name;
    enum key_type type;
    size_t offset;
    size_t size;         /* KEY_STRING: buffer size; KEY_UINT etc.: field size */
    unsigned long long min, max;
};

#define F(field) offsetof(struct config, field), sizeof(((struct config *)0)->field)

static const struct key_spec key_specs[] = {
    {"server", "listen", KEY_LISTEN, 0, 0, 0, 0},
    {"server", "data_dir", KEY_STRING, F(data_dir), 0, 0},
    {"server", "web_root", KEY_STRING, F(web_root), 0, 0},
    {"server", "threads", KEY_UINT, F(threads), 0, 256},
    {"server", "node", KEY_UINT, F(node), 0, 15},
    {"server", "regions", KEY_STRING, F(serve_regions), 0, 0},
    {"limits", "max_body_bytes", KEY_BYTES, F(max_body_bytes), 1024, 64ULL << 20},
    {"limits", "max_connections", KEY_UINT, F(max_connections), 16, 1000000},
    {"limits", "rate_ip_per_s", KEY_UINT, F(rate_ip_per_s), 0, 10000000},
    {"limits", "rate_ip_burst", KEY_UINT, F(rate_ip_burst), 1, 10000000},
    {"limits", "rate_token_per_s", KEY_UINT, F(rate_token_per_s), 0, 10000000},
    {"limits", "rate_token_burst", KEY_UINT, F(rate_token_burst), 1, 10000000},
    {"limits", "connection_timeout", KEY_SECONDS, F(connection_timeout_s), 1, 3600},
    {"limits", "caption_max", KEY_UINT, F(caption_max), 1, 2200},
    {"limits", "comment_max", KEY_UINT, F(comment_max), 1, 500},
    {"limits", "hashtags_max", KEY_UINT, F(hashtags_max), 0, 32},
    {"limits", "events_per_batch", KEY_UINT, F(events_per_batch), 1, 4096},
    {"limits", "events_max_body", KEY_BYTES, F(events_max_body), 1024, 1ULL << 20},
    {"limits", "following_feed_max", KEY_UINT, F(following_feed_max), 1, 100000},
    {"events", "segment_size", KEY_BYTES, F(events_segment_bytes), 4096, 4ULL << 30},
    {"events", "retention_size", KEY_BYTES, F(events_retention_bytes), 0, 1ULL << 50},
    {"events", "retention_age", KEY_SECONDS, F(events_retention_age_s), 0, 3650ULL * 86400},
    {"events", "retention_ignores_consumers", KEY_BOOL, F(events_retention_ignores_consumers), 0,
     0},
    {"events", "fsync", KEY_BOOL, F(events_fsync), 0, 0},
    {"events", "commit_delay_us", KEY_UINT, F(events_commit_delay_us), 0, 100000},
    {"events", "max_pending", KEY_BYTES, F(events_max_pending_bytes), 1ULL << 20, 1ULL << 30},
    {"events", "max_event_age", KEY_SECONDS, F(events_max_age_s), 1, 30ULL * 86400},
    {"feed", "popular_window", KEY_SECONDS, F(feed_popular_window_s), 3600, 365ULL * 86400},
    {"feed", "seen_max", KEY_UINT, F(feed_seen_max), 16, 100000},
    {"feed", "seen_users", KEY_UINT, F(feed_seen_users), 16, 100000000},
    {"feed", "card_cache", KEY_UINT, F(card_cache), 0, 16777216},
    {"feed", "likes_cache", KEY_UINT, F(likes_cache), 0, 16777216},
    {"security", "session_ttl", KEY_SECONDS, F(session_ttl_s), 1, 400ULL * 86400},
    {"security", "session_cache", KEY_UINT, F(session_cache), 0, 16777216},
    {"security", "argon2_ops", KEY_UINT, F(argon2_ops), 1, 16},
    {"security", "argon2_mem", KEY_BYTES, F(argon2_mem_bytes), 8192, 4ULL << 30},
    {"privacy", "erasure_grace", KEY_SECONDS, F(erasure_grace_s), 0, 400ULL * 86400},
    {"privacy", "purge_interval", KEY_SECONDS, F(purge_interval_s), 1, 86400},
    {"log", "level", KEY_LOG_LEVEL, F(log_level), 0, 0},
    {"log", "requests", KEY_BOOL, F(log_requests), 0, 0},
    {"stats", "hll_precision", KEY_UINT, F(stats_hll_precision), 14, 18},
    {"stats", "viewer_hll_precision", KEY_UINT, F(stats_viewer_hll_precision), 8, 16},
    {"stats", "trending_half_life", KEY_SECONDS, F(stats_trending_half_life_s), 60, 30ULL * 86400},
    {"stats", "trending_max_items", KEY_UINT, F(stats_trending_max_items), 100, 10000000},
    {"stats", "creator_retention", KEY_SECONDS, F(stats_creator_retention_s), 86400,
     1000ULL * 86400},
    {"stats", "weight_impression", KEY_UINT, F(stats_weight_impression), 0, 1000},
    {"stats", "weight_play", KEY_UINT, F(stats_weight_play), 0, 1000},
    {"stats", "weight_watch", KEY_UINT, F(stats_weight_watch), 0, 1000},
    {"stats", "weight_like", KEY_UINT, F(stats_weight_like), 0, 1000},
    {"stats", "weight_comment", KEY_UINT, F(stats_weight_comment), 0, 1000},
    {"stats", "weight_share", KEY_UINT, F(stats_weight_share), 0, 1000},
    {"stats", "weight_follow", KEY_UINT, F(stats_weight_follow), 0, 1000},
    {"stats", "penalty_skip", KEY_UINT, F(stats_penalty_skip), 0, 1000},
    {"stats", "penalty_not_interested", KEY_UINT, F(stats_penalty_not_interested), 0, 1000},
    {"media", "max_upload_bytes", KEY_BYTES, F(media_max_upload_bytes), 1024, 64ULL << 30},
    {"media", "max_duration", KEY_SECONDS, F(media_max_duration_s), 1, 4 * 3600},
    {"media", "max_dimension", KEY_UINT, F(media_max_dimension), 64, 16384},
    {"media", "min_dimension", KEY_UINT, F(media_min_dimension), 2, 4096},
    {"media", "daily_quota_bytes", KEY_BYTES, F(media_daily_quota_bytes), 0, 1ULL << 40},
    {"media", "daily_quota_videos", KEY_UINT, F(media_daily_quota_videos), 0, 1000000},
    {"media", "workers", KEY_UINT, F(media_workers), 0, 256},
    {"media", "queue", KEY_UINT, F(media_queue), 1, 1000000},
    {"media", "x264_preset", KEY_STRING, F(media_x264_preset), 0, 0},
    {"media", "x264_crf", KEY_UINT, F(media_x264_crf), 0, 51},
    {"media", "encoder_threads", KEY_UINT, F(media_encoder_threads), 0, 64},
    {"media", "audio_kbps", KEY_UINT, F(media_audio_kbps), 32, 512},
    {"media", "upload_expiry", KEY_SECONDS, F(media_upload_expiry_s), 60, 30ULL * 86400},
    {"rec", "dim", KEY_UINT, F(rec.dim), 8, 64},
    {"rec", "learning_rate", KEY_DOUBLE, F(rec.learning_rate), 0, 1000},
    {"rec", "regularization", KEY_DOUBLE, F(rec.regularization), 0, 1000},
    {"rec", "bias_prior", KEY_DOUBLE, F(rec.bias_prior), 0, 1000000},
    {"rec", "bias_rate_min", KEY_DOUBLE, F(rec.bias_rate_min), 0, 1000},
    {"rec", "watch_cap", KEY_DOUBLE, F(rec.watch_cap), 100, 1000000},
    {"rec", "engaged_ratio", KEY_DOUBLE, F(rec.engaged_ratio), 0, 100000},
    {"rec", "skip_weight", KEY_DOUBLE, F(rec.skip_weight), 0, 100000},
    {"rec", "not_interested_weight", KEY_DOUBLE, F(rec.not_interested_weight), 0, 100000},
    {"rec", "negatives", KEY_UINT, F(rec.negatives), 0, 64},
    {"rec", "negative_weight", KEY_DOUBLE, F(rec.negative_weight), 0, 100000},
    {"rec", "unengaged", KEY_SECONDS, F(rec.unengaged_s), 1, 86400},
    {"rec", "unengaged_weight", KEY_DOUBLE, F(rec.unengaged_weight), 0, 100000},
    {"rec", "weight_watch", KEY_DOUBLE, F(rec.weight_watch), 0, 1000000},
    {"rec", "weight_engage", KEY_DOUBLE, F(rec.weight_engage), 0, 1000000},
    {"rec", "weight_like", KEY_DOUBLE, F(rec.weight_like), 0, 1000000},
    {"rec", "weight_share", KEY_DOUBLE, F(rec.weight_share), 0, 1000000},
    {"rec", "weight_comment", KEY_DOUBLE, F(rec.weight_comment), 0, 1000000},
    {"rec", "weight_coengagement", KEY_DOUBLE, F(rec.weight_coengagement), 0, 1000000},
    {"rec", "weight_creator", KEY_DOUBLE, F(rec.weight_creator), 0, 1000000},
    {"rec", "weight_follow", KEY_DOUBLE, F(rec.weight_follow), 0, 1000000},
    {"rec", "weight_interest", KEY_DOUBLE, F(rec.weight_interest), 0, 1000000},
    {"rec", "weight_trending", KEY_DOUBLE, F(rec.weight_trending), 0, 1000000},
    {"rec", "explore_bonus", KEY_DOUBLE, F(rec.explore_bonus), 0, 1000000},
    {"rec", "hashtag_spread", KEY_DOUBLE, F(rec.hashtag_spread), 0, 1000000},
    {"rec", "explore_share", KEY_DOUBLE, F(rec.explore_share), 0, 1000},
    {"rec", "candidates_nearest", KEY_UINT, F(rec.candidates_nearest), 0, 4096},
    {"rec", "candidates_coengaged", KEY_UINT, F(rec.candidates_coengaged), 0, 4096},
    {"rec", "candidates_trending", KEY_UINT, F(rec.candidates_trending), 0, 4096},
    {"rec", "candidates_following", KEY_UINT, F(rec.candidates_following), 0, 4096},
    {"rec", "candidates_fresh", KEY_UINT, F(rec.candidates_fresh), 0, 4096},
    {"rec", "ann_probe", KEY_UINT, F(rec.ann_probe), 1, 65536},
    {"rec", "nearest_pool", KEY_UINT, F(rec.nearest_pool), 0, 4096},
    {"rec", "nearest_refresh_s", KEY_UINT, F(rec.nearest_refresh_s), 1, 86400},
    {"rec", "nearest_drift", KEY_DOUBLE, F(rec.nearest_drift), 0, 1000},
    {"rec", "coengagement_neighbours", KEY_UINT, F(rec.coengagement_neighbours), 0, 256},
    {"rec", "recent_engagements", KEY_UINT, F(rec.recent_engagements), 1, 32},
    {"rec", "coengagement_decay", KEY_DOUBLE, F(rec.coengagement_decay), 0, 1000},
    {"rec", "coengagement_window", KEY_UINT, F(rec.coengagement_window), 1, 32},
    {"rec", "trending_half_life", KEY_SECONDS, F(rec.trending_half_life_s), 60, 90 * 86400},
    {"rec", "following_max_age", KEY_SECONDS, F(rec.following_max_age_s), 60, 400 * 86400},
    {"rec", "fresh_budget", KEY_UINT, F(rec.fresh_budget), 0, 100000},
    {"rec", "fresh_promote", KEY_DOUBLE, F(rec.fresh_promote), 0, 100000},
    {"rec", "fresh_max_age", KEY_SECONDS, F(rec.fresh_max_age_s), 60, 400 * 86400},
    {"rec", "admit_after", KEY_UINT, F(rec.admit_after), 1, 255},
    {"rec", "expire_days", KEY_UINT, F(rec.expire_days), 1, 3650},
    {"rec", "sessions_max", KEY_UINT, F(rec.sessions_max), 16, 100000000},
    {"rec", "session_ttl", KEY_SECONDS, F(rec.session_ttl_s), 60, 30 * 86400},
    {"rec", "seen_capacity", KEY_UINT, F(rec.seen_capacity), 256, 40000},
    {"rec", "users_expected", KEY_UINT, F(rec.users_expected), 0, 2000000000},
    {"rec", "videos_expected", KEY_UINT, F(rec.videos_expected), 0, 2000000000},
    {"rec", "snapshot_interval", KEY_SECONDS, F(rec.snapshot_interval_s), 10, 86400},
    {"rec", "seed", KEY_UINT, F(rec.seed), 0, UINT64_MAX},
};

#undef F

void config_init(struct config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->listen_host, sizeof cfg->listen_host, "127.0.0.1");
    cfg->listen_port = 8080;
    snprintf(cfg->data_dir, sizeof cfg->data_dir, "./data");
    snprintf(cfg->web_root, sizeof cfg->web_root, "./web");
    snprintf(cfg->serve_regions, sizeof cfg->serve_regions, "*");
    cfg->max_body_bytes = 64 * 1024;
    cfg->max_connections = 4096;
    cfg->rate_ip_per_s = 100;
    cfg->rate_ip_burst = 200;
    cfg->rate_token_per_s = 50;
    cfg->rate_token_burst = 100;
    cfg->connection_timeout_s = 30;
    cfg->caption_max = 2200;
    cfg->comment_max = 500;
    cfg->hashtags_max = 20;
    cfg->events_per_batch = 500;
    cfg->events_max_body = 256 * 1024;
    cfg->following_feed_max = 2000;
    cfg->events_segment_bytes = 64ULL << 20;
    cfg->events_retention_bytes = 0;
    cfg->events_retention_age_s = 30 * 86400;
    cfg->events_retention_ignores_consumers = false;
    cfg->events_fsync = true;
    cfg->events_commit_delay_us = 0;
    cfg->events_max_pending_bytes = 16ULL << 20;
    cfg->events_max_age_s = 86400;
    cfg->feed_popular_window_s = 7 * 86400;
    cfg->feed_seen_max = 2000;
    cfg->feed_seen_users = 1000000;
    cfg->card_cache = 65536;
    cfg->likes_cache = 16384;
    cfg->session_cache = 65536;
    cfg->session_ttl_s = 30 * 86400;
    cfg->argon2_ops = 2;                   /* libsodium's OPSLIMIT_INTERACTIVE */
    cfg->argon2_mem_bytes = 64ULL << 20;   /* and MEMLIMIT_INTERACTIVE */
    cfg->erasure_grace_s = 30 * 86400;
    cfg->purge_interval_s = 3600;
    cfg->log_level = LOG_INFO;
    cfg->log_requests = true;
    cfg->stats_hll_precision = 15;
    cfg->stats_viewer_hll_precision = 12;
    cfg->stats_trending_half_life_s = 6 * 3600;
    cfg->stats_trending_max_items = 100000;
    cfg->stats_creator_retention_s = 400 * 86400;
    cfg->stats_weight_impression = 0;
    cfg->stats_weight_play = 1;
    cfg->stats_weight_watch = 3;
    cfg->stats_weight_like = 4;
    cfg->stats_weight_comment = 6;
    cfg->stats_weight_share = 8;
    cfg->stats_weight_follow = 10;
    cfg->stats_penalty_skip = 1;
    cfg->stats_penalty_not_interested = 5;
    cfg->media_max_upload_bytes = 512ULL << 20;
    cfg->media_max_duration_s = 10 * 60;
    cfg->media_max_dimension = 4096;
    cfg->media_min_dimension = 64;
    cfg->media_daily_quota_bytes = 4ULL << 30;
    cfg->media_daily_quota_videos = 100;
    cfg->media_workers = 0;
    cfg->media_queue = 256;
    snprintf(cfg->media_x264_preset, sizeof cfg->media_x264_preset, "veryfast");
    cfg->media_x264_crf = 23;
    cfg->media_encoder_threads = 0;
    cfg->media_audio_kbps = 128;
    cfg->media_upload_expiry_s = 24 * 3600;
    config_rec_init(&cfg->rec);
}

/* The defaults are those of config/reel.ini; src/rec/README.md says how they
 * were measured (`reel replay`). */
void config_rec_init(struct config_rec *rec)
{
    memset(rec, 0, sizeof *rec);
    rec->dim = 32;
    rec->learning_rate = 0.1;
    rec->regularization = 0.003;
    rec->bias_prior = 4;
    rec->bias_rate_min = 0.002;
    rec->watch_cap = 2.5;
    rec->engaged_ratio = 0.8;
    rec->skip_weight = 1;
    rec->not_interested_weight = 4;
    rec->negatives = 4;
    rec->negative_weight = 1;
    rec->unengaged_s = 60;
    rec->unengaged_weight = 0.5;
    rec->weight_watch = 1;
    rec->weight_engage = 1;
    rec->weight_like = 1;
    rec->weight_share = 2;
    rec->weight_comment = 1;
    rec->weight_coengagement = 3;
    rec->weight_creator = 0.3;
    rec->weight_follow = 0.3;
    rec->weight_interest = 0.2;
    rec->weight_trending = 0.1;
    rec->explore_bonus = 0.05;
    rec->hashtag_spread = 0.01;
    rec->explore_share = 0.2;
    rec->candidates_nearest = 100;
    rec->candidates_coengaged = 100;
    rec->candidates_trending = 50;
    rec->candidates_following = 50;
    rec->candidates_fresh = 32;
    rec->ann_probe = 16;
    rec->nearest_pool = 400;
    rec->nearest_refresh_s = 300;
    rec->nearest_drift = 0.2;
    rec->coengagement_neighbours = 100;
    rec->recent_engagements = 32;
    rec->coengagement_decay = 0.85;
    rec->coengagement_window = 8;
    rec->trending_half_life_s = 6 * 3600;
    rec->following_max_age_s = 7 * 86400;
    rec->fresh_budget = 20;
    rec->fresh_promote = 1;
    rec->fresh_max_age_s = 2 * 86400;
    rec->admit_after = 2;
    rec->expire_days = 90;
    rec->sessions_max = 1000000;
    rec->session_ttl_s = 3600;
    rec->seen_capacity = 16384;
    rec->users_expected = 0;
    rec->videos_expected = 0;
    rec->snapshot_interval_s = 300;
    rec->seed = 1;
}

/* libx264's preset names, checked here so a typo stops start-up rather than
 * failing every transcoding job later. */
static bool x264_preset_valid(const char *name)
{
    static const char *const presets[] = {"ultrafast", "superfast", "veryfast", "faster",
                                          "fast",      "medium",    "slow",     "slower",
                                          "veryslow",  "placebo"};
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (strcmp(name, presets[i]) == 0)
            return true;
    return false;
}

/* ---- parsing state ------------------------------------------------------ */

struct parse_ctx {
    struct config *cfg;
    const char *origin;
    const char *text;    /* the whole input */
    size_t pos;
    int line;            /* line most recently handed to inih */
    int error_line;
    char *err;
    size_t errlen;
    unsigned long long seen[sizeof key_specs / sizeof key_specs[0]]; /* line set at, 0 = unset */
    struct config_region *region; /* current [region NAME] section */
    struct config_site *site;     /* current [site NAME] section */
    char last_section[80];
    unsigned region_keys_seen;    /* bitmask of region keys set in this section */
    unsigned site_keys_seen;
};

__attribute__((format(printf, 2, 3))) static int fail(struct parse_ctx *ctx, const char *fmt, ...)
{
    if (ctx->error_line)
        return 0;
    ctx->error_line = ctx->line ? ctx->line : 1;
    int n = snprintf(ctx->err, ctx->errlen, "%s:%d: ", ctx->origin, ctx->error_line);
    if (n < 0 || (size_t)n >= ctx->errlen)
        return 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->err + n, ctx->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return 0;
}

/* Line reader for ini_parse_stream: hands inih one line at a time, counting
 * lines and refusing lines that do not fit inih's buffer. */
static char *read_line(char *str, int num, void *stream)
{
    struct parse_ctx *ctx = stream;
    if (ctx->text[ctx->pos] == '\0')
        return NULL;
    const char *start = ctx->text + ctx->pos;
    const char *nl = strchr(start, '\n');
    size_t len = nl ? (size_t)(nl - start) + 1 : strlen(start);
    ctx->line++;
    ctx->pos += len;
    if (len >= (size_t)num) {
        fail(ctx, "line longer than %d bytes (continue a list on an indented next line)",
             num - 2);
        len = 0;
    }
    memcpy(str, start, len);
    str[len] = '\0';
    return str;
}

/* Splits a list value ("IE NO, DE") and calls fn for each item. */
static int for_each_item(struct parse_ctx *ctx, const char *value,
                         int (*fn)(struct parse_ctx *, const char *item, void *arg), void *arg)
{
    char item[CONFIG_NAME_MAX];
    const char *p = value;
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        if (!*p)
            break;
        size_t n = strcspn(p, " ,\t");
        if (n >= sizeof item)
            return fail(ctx, "list item '%.*s...' is too long", 16, p);
        memcpy(item, p, n);
        item[n] = '\0';
        if (!fn(ctx, item, arg))
            return 0;
        p += n;
    }
    return 1;
}

static int add_country(struct parse_ctx *ctx, const char *item, void *arg)
{
    bool *set = arg;
    int idx = country_index(item);
    if (idx < 0)
        return fail(ctx, "'%s' is not an ISO 3166-1 alpha-2 country code", item);
    set[idx] = true;
    return 1;
}

static int add_served_country(struct parse_ctx *ctx, const char *item, void *arg)
{
    struct config_region *r = arg;
    if (strcmp(item, "*") == 0) {
        r->catch_all = true;
        return 1;
    }
    return add_country(ctx, item, r->serves);
}

static int add_replica(struct parse_ctx *ctx, const char *item, void *arg)
{
    struct config_region *r = arg;
    if (r->replica_count >= CONFIG_MAX_REPLICAS)
        return fail(ctx, "region %s: more than %d replica sites", r->name, CONFIG_MAX_REPLICAS);
    for (int i = 0; i < r->replica_count; i++)
        if (strcmp(r->replicas[i], item) == 0)
            return fail(ctx, "region %s: replica site %s listed twice", r->name, item);
    snprintf(r->replicas[r->replica_count++], CONFIG_NAME_MAX, "%s", item);
    return 1;
}

static bool valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= CONFIG_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return false;
    }
    return true;
}

/* Marks a per-section key as set; a key set twice (not a list continuation)
 * is an error. Returns 1 if first time. */
static int once(struct parse_ctx *ctx, unsigned *mask, unsigned bit, const char *section,
                const char *name)
{
    if (*mask & bit)
        return fail(ctx, "[%s] %s is set twice", section, name);
    *mask |= bit;
    return 1;
}

static int on_region_key(struct parse_ctx *ctx, const char *section, const char *name,
                         const char *value)
{
    struct config_region *r = ctx->region;
    if (strcmp(name, "id") == 0) {
        unsigned long long v;
        if (!once(ctx, &ctx->region_keys_seen, 1, section, name))
            return 0;
        if (parse_ull(value, &v) < 0 || v < 1 || v > 63)
            return fail(ctx, "[%s] id: '%s' is not a region id (1..63)", section, value);
        r->id = (unsigned)v;
        return 1;
    }
    if (strcmp(name, "countries") == 0)
        return for_each_item(ctx, value, add_served_country, r);
    if (strcmp(name, "storage_countries") == 0)
        return for_each_item(ctx, value, add_country, r->storage);
    if (strcmp(name, "primary") == 0) {
        if (!once(ctx, &ctx->region_keys_seen, 2, section, name))
            return 0;
        if (!valid_name(value))
            return fail(ctx, "[%s] primary: '%s' is not a site name", section, value);
        snprintf(r->primary, sizeof r->primary, "%s", value);
        return 1;
    }
    if (strcmp(name, "replicas") == 0)
        return for_each_item(ctx, value, add_replica, r);
    if (strcmp(name, "key_file") == 0) {
        if (!once(ctx, &ctx->region_keys_seen, 4, section, name))
            return 0;
        if (!value[0] || strlen(value) >= sizeof r->key_file)
            return fail(ctx, "[%s] key_file: empty or too long", section);
        snprintf(r->key_file, sizeof r->key_file, "%s", value);
        return 1;
    }
    return fail(ctx, "[%s]: unknown key '%s'", section, name);
}

static int on_site_key(struct parse_ctx *ctx, const char *section, const char *name,
                       const char *value)
{
    struct config_site *s = ctx->site;
    if (strcmp(name, "country") == 0) {
        if (!once(ctx, &ctx->site_keys_seen, 1, section, name))
            return 0;
        int idx = country_index(value);
        if (idx < 0)
            return fail(ctx, "[%s] country: '%s' is not an ISO 3166-1 alpha-2 country code",
                        section, value);
        snprintf(s->country, sizeof s->country, "%s", country_code(idx));
        return 1;
    }
    if (strcmp(name, "path") == 0) {
        if (!once(ctx, &ctx->site_keys_seen, 2, section, name))
            return 0;
        if (strlen(value) >= sizeof s->path || !value[0])
            return fail(ctx, "[%s] path: empty or too long", section);
        snprintf(s->path, sizeof s->path, "%s", value);
        return 1;
    }
    return fail(ctx, "[%s]: unknown key '%s'", section, name);
}

/* Called when a new section name is seen (on its first key). */
static int begin_section(struct parse_ctx *ctx, const char *section)
{
    struct config *cfg = ctx->cfg;
    ctx->region = NULL;
    ctx->site = NULL;
    ctx->region_keys_seen = ctx->site_keys_seen = 0;
    snprintf(ctx->last_section, sizeof ctx->last_section, "%s", section);

    if (strncmp(section, "region ", 7) == 0) {
        const char *name = section + 7;
        if (!valid_name(name))
            return fail(ctx, "[%s]: region names use a-z, 0-9, '-' and '_'", section);
        if (config_region_find(cfg, name))
            return fail(ctx, "[%s]: region declared twice", section);
        if (cfg->region_count >= CONFIG_MAX_REGIONS)
            return fail(ctx, "more than %d regions", CONFIG_MAX_REGIONS);
        ctx->region = &cfg->regions[cfg->region_count++];
        snprintf(ctx->region->name, sizeof ctx->region->name, "%s", name);
        ctx->region->line = ctx->line;
        return 1;
    }
    if (strncmp(section, "site ", 5) == 0) {
        const char *name = section + 5;
        if (!valid_name(name))
            return fail(ctx, "[%s]: site names use a-z, 0-9, '-' and '_'", section);
        if (config_site_find(cfg, name))
            return fail(ctx, "[%s]: site declared twice", section);
        if (cfg->site_count >= CONFIG_MAX_SITES)
            return fail(ctx, "more than %d sites", CONFIG_MAX_SITES);
        ctx->site = &cfg->sites[cfg->site_count++];
        snprintf(ctx->site->name, sizeof ctx->site->name, "%s", name);
        ctx->site->line = ctx->line;
        return 1;
    }
    for (size_t i = 0; i < sizeof key_specs / sizeof key_specs[0]; i++)
        if (strcmp(key_specs[i].section, section) == 0)
            return 1;
    return fail(ctx, "unknown section [%s]", section);
}

static void store_uint(void *field, size_t size, unsigned long long v)
{
    if (size == sizeof(unsigned long long))
        *(unsigned long long *)field = v;
    else if (size == sizeof(unsigned))
        *(unsigned *)field = (unsigned)v;
    else if (size == sizeof(size_t))
        *(size_t *)field = (size_t)v;
    else if (size == sizeof(uint16_t))
        *(uint16_t *)field = (uint16_t)v;
}

static int on_scalar_key(struct parse_ctx *ctx, const char *section, const char *name,
                         const char *value)
{
    size_t n = sizeof key_specs / sizeof key_specs[0];
    for (size_t i = 0; i < n; i++) {
        const struct key_spec *k = &key_specs[i];
        if (strcmp(k->section, section) != 0 || strcmp(k->name, name) != 0)
            continue;
        if (ctx->seen[i])
            return fail(ctx, "[%s] %s is set twice (first on line %llu)", section, name,
                        ctx->seen[i]);
        ctx->seen[i] = (unsigned long long)ctx->line;
        void *field = (char *)ctx->cfg + k->offset;
        unsigned long long v = 0;
        int rc = 0;
        switch (k->type) {
        case KEY_LISTEN:
            if (config_parse_listen(ctx->cfg, value) < 0)
                return fail(ctx, "[%s] %s: '%s' is not HOST:PORT with a port 0..65535", section,
                            name, value);
            return 1;
        case KEY_STRING:
            if (!value[0] || strlen(value) >= k->size)
                return fail(ctx, "[%s] %s: empty or longer than %zu bytes", section, name,
                            k->size - 1);
            snprintf(field, k->size, "%s", value);
            return 1;
        case KEY_BOOL:
            if (parse_bool(value, (bool *)field) < 0)
                return fail(ctx, "[%s] %s: '%s' is not a boolean (on/off, true/false, yes/no)",
                            section, name, value);
            return 1;
        case KEY_LOG_LEVEL:
            if (log_level_parse(value, (enum log_level *)field) < 0)
                return fail(ctx, "[%s] %s: '%s' is not one of debug, info, warn, error, off",
                            section, name, value);
            return 1;
        case KEY_DOUBLE: {
            double d;
            if (parse_double(value, &d) < 0)
                return fail(ctx, "[%s] %s: '%s' is not a decimal number", section, name, value);
            if (d < (double)k->min / 1000 || d > (double)k->max / 1000)
                return fail(ctx, "[%s] %s: %s is out of range (%g..%g)", section, name, value,
                            (double)k->min / 1000, (double)k->max / 1000);
            *(double *)field = d;
            return 1;
        }
        case KEY_UINT:
            rc = parse_ull(value, &v);
            break;
        case KEY_BYTES:
            rc = parse_bytes(value, &v);
            break;
        case KEY_SECONDS:
            rc = parse_seconds(value, &v);
            break;
        }
        if (rc < 0)
            return fail(ctx, "[%s] %s: '%s' is not a %s", section, name, value,
                        k->type == KEY_BYTES     ? "size (e.g. 64k, 10m)"
                        : k->type == KEY_SECONDS ? "duration (e.g. 30s, 15m, 30d)"
                                                 : "number");
        if (v < k->min || v > k->max)
            return fail(ctx, "[%s] %s: %s is out of range (%llu..%llu)", section, name, value,
                        k->min, k->max);
        store_uint(field, k->size, v);
        return 1;
    }
    return fail(ctx, "[%s]: unknown key '%s'", section, name);
}

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
    struct parse_ctx *ctx = user;
    if (ctx->error_line)
        return 0;
    if (!section[0])
        return fail(ctx, "key '%s' outside any section", name);
    if (strcmp(section, ctx->last_section) != 0 && !begin_section(ctx, section))
        return 0;
    if (ctx->region)
        return on_region_key(ctx, section, name, value);
    if (ctx->site)
        return on_site_key(ctx, section, name, value);
    return on_scalar_key(ctx, section, name, value);
}

int config_load_string(struct config *cfg, const char *text, const char *origin, char *err,
                       size_t errlen)
{
    struct parse_ctx ctx = {.cfg = cfg, .origin = origin, .text = text, .err = err, .errlen = errlen};
    if (errlen)
        err[0] = '\0';
    int rc = ini_parse_stream(read_line, &ctx, on_entry, &ctx);
    if (rc > 0 && ctx.error_line && rc < ctx.error_line) {
        /* inih found a syntax error before the first error of ours. */
        ctx.error_line = 0;
    } else if (ctx.error_line) {
        return -1;
    }
    if (rc != 0) {
        ctx.line = rc > 0 ? rc : 0;
        fail(&ctx, "%s", rc > 0 ? "syntax error (expected [section] or key = value)"
                                : "could not be read");
        return -1;
    }
    return config_check(cfg, err, errlen);
}

int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    enum { MAX_CONFIG = 1 << 20 };
    char *text = reel_malloc(MAX_CONFIG + 1);
    if (!text) {
        fclose(f);
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    size_t n = fread(text, 1, MAX_CONFIG + 1, f);
    int read_error = ferror(f);
    fclose(f);
    if (read_error || n > MAX_CONFIG || memchr(text, '\0', n)) {
        snprintf(err, errlen, "%s: %s", path,
                 read_error ? "read error" : n > MAX_CONFIG ? "larger than 1 MiB" : "contains NUL bytes");
        reel_free(text);
        return -1;
    }
    text[n] = '\0';
    int rc = config_load_string(cfg, text, path, err, errlen);
    reel_free(text);
    return rc;
}

int config_set(struct config *cfg, const char *section, const char *name, const char *value,
               char *err, size_t errlen)
{
    struct parse_ctx ctx = {.cfg = cfg, .origin = "--set", .text = "", .err = err,
                            .errlen = errlen, .line = 1};
    if (errlen)
        err[0] = '\0';
    int known = 0;
    for (size_t i = 0; i < sizeof key_specs / sizeof key_specs[0]; i++)
        known |= strcmp(key_specs[i].section, section) == 0;
    if (!known) {
        snprintf(err, errlen, "unknown section [%s]", section);
        return -1;
    }
    on_scalar_key(&ctx, section, name, value);
    if (ctx.error_line) {
        /* Drop the "--set:1: " prefix: the caller names the option. */
        size_t skip = strlen("--set:1: ");
        if (strlen(err) > skip)
            memmove(err, err + skip, strlen(err + skip) + 1);
        return -1;
    }
    return 0;
}

int config_parse_listen(struct config *cfg, const char *value)
{
    const char *colon;
    const char *host = value;
    size_t host_len;
    if (value[0] == '[') {
        const char *close = strchr(value, ']');
        if (!close || close[1] != ':')
            return -1;
        host = value + 1;
        host_len = (size_t)(close - host);
        colon = close + 1;
    } else {
        colon = strrchr(value, ':');
        if (!colon)
            return -1;
        host_len = (size_t)(colon - value);
    }
    unsigned long long port;
    if (host_len == 0 || host_len >= sizeof cfg->listen_host || parse_ull(colon + 1, &port) < 0 ||
        port > 65535)
        return -1;
    memcpy(cfg->listen_host, host, host_len);
    cfg->listen_host[host_len] = '\0';
    cfg->listen_port = (uint16_t)port;
    return 0;
}

const struct config_site *config_site_find(const struct config *cfg, const char *name)
{
    for (int i = 0; i < cfg->site_count; i++)
        if (strcmp(cfg->sites[i].name, name) == 0)
            return &cfg->sites[i];
    return NULL;
}

const struct config_region *config_region_find(const struct config *cfg, const char *name)
{
    for (int i = 0; i < cfg->region_count; i++)
        if (strcmp(cfg->regions[i].name, name) == 0)
            return &cfg->regions[i];
    return NULL;
}

__attribute__((format(printf, 3, 4))) static int check_fail(char *err, size_t errlen,
                                                            const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

int config_check(const struct config *cfg, char *err, size_t errlen)
{
    if (!x264_preset_valid(cfg->media_x264_preset))
        return check_fail(err, errlen,
                          "[media] x264_preset: '%s' is not a libx264 preset (ultrafast, "
                          "superfast, veryfast, faster, fast, medium, slow, slower, veryslow, "
                          "placebo)",
                          cfg->media_x264_preset);
    if (cfg->media_min_dimension > cfg->media_max_dimension)
        return check_fail(err, errlen, "[media] min_dimension is larger than max_dimension");
    if (cfg->region_count == 0)
        return check_fail(err, errlen, "no [region NAME] section: at least one region is needed");
    for (int i = 0; i < cfg->site_count; i++)
        if (!cfg->sites[i].country[0])
            return check_fail(err, errlen, "site %s (line %d): no country", cfg->sites[i].name,
                              cfg->sites[i].line);

    int catch_all = -1;
    const struct config_region *owner[COUNTRY_COUNT] = {0};
    for (int i = 0; i < cfg->region_count; i++) {
        const struct config_region *r = &cfg->regions[i];
        if (r->id == 0)
            return check_fail(err, errlen, "region %s (line %d): no id", r->name, r->line);
        for (int j = 0; j < i; j++)
            if (cfg->regions[j].id == r->id)
                return check_fail(err, errlen, "regions %s and %s have the same id %u",
                                  cfg->regions[j].name, r->name, r->id);
        if (!r->primary[0])
            return check_fail(err, errlen, "region %s (line %d): no primary site", r->name,
                              r->line);
        if (!config_site_find(cfg, r->primary))
            return check_fail(err, errlen, "region %s: primary site %s is not declared", r->name,
                              r->primary);
        for (int k = 0; k < r->replica_count; k++) {
            if (!config_site_find(cfg, r->replicas[k]))
                return check_fail(err, errlen, "region %s: replica site %s is not declared",
                                  r->name, r->replicas[k]);
            if (strcmp(r->replicas[k], r->primary) == 0)
                return check_fail(err, errlen, "region %s: site %s is both primary and replica",
                                  r->name, r->primary);
        }
        /* A site holds one region's data: sharing would mix jurisdictions in one file. */
        for (int j = 0; j < i; j++) {
            const struct config_region *o = &cfg->regions[j];
            const char *mine[1 + CONFIG_MAX_REPLICAS], *theirs[1 + CONFIG_MAX_REPLICAS];
            int nm = 0, nt = 0;
            mine[nm++] = r->primary;
            for (int k = 0; k < r->replica_count; k++)
                mine[nm++] = r->replicas[k];
            theirs[nt++] = o->primary;
            for (int k = 0; k < o->replica_count; k++)
                theirs[nt++] = o->replicas[k];
            for (int a = 0; a < nm; a++)
                for (int b = 0; b < nt; b++)
                    if (strcmp(mine[a], theirs[b]) == 0)
                        return check_fail(err, errlen,
                                          "site %s is used by regions %s and %s: a site holds "
                                          "one region's data",
                                          mine[a], o->name, r->name);
        }
        if (r->catch_all) {
            if (catch_all >= 0)
                return check_fail(err, errlen, "regions %s and %s both use countries = *",
                                  cfg->regions[catch_all].name, r->name);
            catch_all = i;
        }
        bool any_storage = false;
        for (int c = 0; c < COUNTRY_COUNT; c++) {
            any_storage |= r->storage[c];
            if (!r->serves[c])
                continue;
            if (owner[c])
                return check_fail(err, errlen, "country %s is served by both regions %s and %s",
                                  country_code(c), owner[c]->name, r->name);
            owner[c] = r;
        }
        if (!any_storage)
            return check_fail(err, errlen, "region %s (line %d): no storage_countries", r->name,
                              r->line);
    }
    if (catch_all < 0)
        for (int c = 0; c < COUNTRY_COUNT; c++)
            if (!owner[c])
                return check_fail(err, errlen,
                                  "country %s is served by no region (list it in a region's "
                                  "countries, or add a catch-all region with countries = *)",
                                  country_code(c));
    return 0;
}

/* ---- comparing two configurations (reload) ------------------------------ */

static bool scalar_differs(const struct key_spec *k, const struct config *a, const struct config *b)
{
    const char *fa = (const char *)a + k->offset, *fb = (const char *)b + k->offset;
    switch (k->type) {
    case KEY_LISTEN:
        return strcmp(a->listen_host, b->listen_host) != 0 || a->listen_port != b->listen_port;
    case KEY_STRING: return strncmp(fa, fb, k->size) != 0;
    case KEY_BOOL: return *(const bool *)(const void *)fa != *(const bool *)(const void *)fb;
    case KEY_LOG_LEVEL:
        return *(const enum log_level *)(const void *)fa !=
               *(const enum log_level *)(const void *)fb;
    default: return memcmp(fa, fb, k->size) != 0;
    }
}

static bool region_replicas_differ(const struct config_region *a, const struct config_region *b)
{
    if (a->replica_count != b->replica_count)
        return true;
    for (int i = 0; i < a->replica_count; i++)
        if (strcmp(a->replicas[i], b->replicas[i]) != 0)
            return true;
    return false;
}

int config_diff(const struct config *a, const struct config *b, config_diff_fn fn, void *arg)
{
    int changed = 0;
    char section[CONFIG_NAME_MAX + 8];
#define DIFF(sec, name)                                                                            \
    do {                                                                                           \
        changed++;                                                                                 \
        fn(sec, name, arg);                                                                        \
    } while (0)
    for (size_t i = 0; i < sizeof key_specs / sizeof key_specs[0]; i++)
        if (scalar_differs(&key_specs[i], a, b))
            DIFF(key_specs[i].section, key_specs[i].name);

    for (int i = 0; i < a->site_count; i++) {
        const struct config_site *sa = &a->sites[i], *sb = config_site_find(b, sa->name);
        snprintf(section, sizeof section, "site %s", sa->name);
        if (!sb) {
            DIFF(section, NULL);
            continue;
        }
        if (strcmp(sa->country, sb->country) != 0)
            DIFF(section, "country");
        if (strcmp(sa->path, sb->path) != 0)
            DIFF(section, "path");
    }
    for (int i = 0; i < b->site_count; i++)
        if (!config_site_find(a, b->sites[i].name)) {
            snprintf(section, sizeof section, "site %s", b->sites[i].name);
            DIFF(section, NULL);
        }

    for (int i = 0; i < a->region_count; i++) {
        const struct config_region *ra = &a->regions[i], *rb = config_region_find(b, ra->name);
        snprintf(section, sizeof section, "region %s", ra->name);
        if (!rb) {
            DIFF(section, NULL);
            continue;
        }
        if (ra->id != rb->id)
            DIFF(section, "id");
        if (ra->catch_all != rb->catch_all || memcmp(ra->serves, rb->serves, sizeof ra->serves))
            DIFF(section, "countries");
        if (memcmp(ra->storage, rb->storage, sizeof ra->storage) != 0)
            DIFF(section, "storage_countries");
        if (strcmp(ra->primary, rb->primary) != 0)
            DIFF(section, "primary");
        if (region_replicas_differ(ra, rb))
            DIFF(section, "replicas");
        if (strcmp(ra->key_file, rb->key_file) != 0)
            DIFF(section, "key_file");
    }
    for (int i = 0; i < b->region_count; i++)
        if (!config_region_find(a, b->regions[i].name)) {
            snprintf(section, sizeof section, "region %s", b->regions[i].name);
            DIFF(section, NULL);
        }
#undef DIFF
    return changed;
}
