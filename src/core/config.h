/*
 * config.h — Reel's configuration: an INI file read with inih.
 *
 * The commented default file is config/reel.ini; the same text is compiled
 * into the binary (config_default_text) so `reel serve` runs with no file at
 * all. Loading is strict: an unknown section or key, a malformed value or a
 * value out of range is an error naming the file, the line and the key —
 * a typo in a residency setting must never be silently ignored.
 *
 * Sections:
 *   [server] [limits] [security] [log] [stats] [events] [feed] [media]
 *                   scalar settings, see config/reel.ini
 *   [rec]           the recommendation engine (struct config_rec, rec/engine.h)
 *   [site NAME]     a place where data is stored: its country (and path)
 *   [region NAME]   a jurisdiction: id, countries served, allowed storage
 *                   countries, primary site, replica sites
 *
 * This module checks the file's shape (types, ranges, references between
 * sections, every country served by exactly one region). Whether a region's
 * sites are inside its allowed storage countries is residency policy and is
 * checked by region/ (region_map_init), which refuses to start otherwise.
 */
#ifndef REEL_CORE_CONFIG_H
#define REEL_CORE_CONFIG_H

#include "core/country.h"
#include "core/log.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_NAME_MAX 32
#define CONFIG_PATH_MAX 512
#define CONFIG_MAX_REGIONS 16
#define CONFIG_MAX_SITES 32
#define CONFIG_MAX_REPLICAS 4
#define CONFIG_ERR_MAX 512

struct config_site {
    char name[CONFIG_NAME_MAX];
    char country[3];            /* ISO 3166-1 alpha-2 */
    char path[CONFIG_PATH_MAX]; /* "" = <data_dir>/sites/<name> */
    int line;                   /* where it was declared, for messages */
};

struct config_region {
    char name[CONFIG_NAME_MAX];
    unsigned id;                /* the region bits of ids, 1..63 */
    bool catch_all;             /* countries = *: every country no other region lists */
    bool serves[COUNTRY_COUNT]; /* countries whose residents it serves */
    bool storage[COUNTRY_COUNT];/* countries where its data may be stored */
    char primary[CONFIG_NAME_MAX];
    char replicas[CONFIG_MAX_REPLICAS][CONFIG_NAME_MAX];
    int replica_count;
    char key_file[CONFIG_PATH_MAX]; /* "" = <data_dir>/custody/<name>.key */
    int line;
};

/* [rec]: the recommendation engine of every region (rec/engine.h). The keys
 * are the field names; config/reel.ini explains each one. */
struct config_rec {
    /* model */
    unsigned dim;                /* embedding dimensions (8..64, a multiple of 8) */
    double learning_rate;        /* SGD step of the embeddings */
    double regularization;       /* L2 pull of the embeddings towards 0 */
    double bias_prior;           /* pseudo-observations shrinking a new bias to its prior */
    double bias_rate_min;        /* floor of a bias's 1/(n + prior) step: keeps tracking drift */
    double watch_cap;            /* watch ratios are capped here in the objective */
    double engaged_ratio;        /* a watch this long (ratio) is an engagement */
    double skip_weight;          /* weight of a skip as a zero-watch example */
    double not_interested_weight;
    unsigned negatives;          /* sampled negatives per engagement */
    double negative_weight;
    unsigned unengaged_s;        /* an impression with nothing after it this long is a negative */
    double unengaged_weight;
    /* ranking: one score from these weights */
    double weight_watch;         /* x predicted watch ratio */
    double weight_engage;        /* x predicted engagement probability */
    double weight_like;          /* x like probability */
    double weight_share;         /* x share probability */
    double weight_comment;       /* x comment probability */
    double weight_coengagement;  /* x co-engagement with the user's recent engagements */
    double weight_creator;       /* x the user's recent affinity to the creator */
    double weight_follow;        /* bonus when the user follows the creator */
    double weight_interest;      /* bonus per matching interest hashtag */
    double weight_trending;      /* x normalised regional trending score */
    double explore_bonus;        /* upper-confidence bonus / sqrt(feedback + bias_prior) */
    /* re-ranking */
    double hashtag_spread;       /* penalty per earlier item of the page sharing a hashtag */
    double explore_share;        /* share of each page reserved for fresh videos */
    /* candidate sources */
    unsigned candidates_nearest; /* from the nearest-neighbour index */
    unsigned candidates_coengaged;
    unsigned candidates_trending;
    unsigned candidates_following;
    unsigned candidates_fresh;
    unsigned ann_probe;          /* index lists scanned per query */
    unsigned nearest_pool;       /* nearest videos kept per session between requests (0: search each time) */
    unsigned nearest_refresh_s;  /* a kept list older than this is searched again */
    double nearest_drift;        /* ... or once the user's embedding moved this far (relative) */
    unsigned coengagement_neighbours; /* co-engagement list length per video */
    unsigned recent_engagements; /* a user's engagements remembered for co-engagement */
    double coengagement_decay;   /* weight of the k-th most recent engagement: decay^k */
    unsigned coengagement_window;/* recent engagements a new one is paired with */
    unsigned trending_half_life_s;
    unsigned following_max_age_s;/* followed creators' videos this recent are candidates */
    unsigned fresh_budget;       /* first impressions every new video gets */
    double fresh_promote;        /* promoted if its mean value >= this x the global mean */
    unsigned fresh_max_age_s;    /* only videos this young enter the fresh pool */
    /* ids, expiry and memory */
    unsigned admit_after;        /* sightings of a user before it gets model state */
    unsigned expire_days;        /* model state idle this long is dropped */
    unsigned sessions_max;       /* users with a seen filter in memory */
    unsigned session_ttl_s;      /* idle time before a session leaves memory */
    unsigned seen_capacity;      /* impressions a seen filter remembers */
    unsigned users_expected;     /* pre-sizing of the tables */
    unsigned videos_expected;
    /* persistence */
    unsigned snapshot_interval_s;/* how often `reel serve` snapshots the engine */
    unsigned long long seed;     /* randomness of learning and exploration */
};

struct config {
    /* [server] */
    char listen_host[64];
    uint16_t listen_port;     /* 0 = any free port (tests) */
    char data_dir[CONFIG_PATH_MAX];
    char web_root[CONFIG_PATH_MAX]; /* the web client's static files */
    unsigned threads;         /* HTTP event threads; 0 = number of cores */
    unsigned node;            /* node number inside a region, for ids (0..15) */
    char serve_regions[256];  /* regions this node serves: "*" or names */

    /* [limits] */
    size_t max_body_bytes;    /* JSON request bodies */
    unsigned max_connections;
    unsigned rate_ip_per_s;   /* requests per second per client address; 0 = off */
    unsigned rate_ip_burst;
    unsigned rate_token_per_s;/* per bearer token; 0 = off */
    unsigned rate_token_burst;
    unsigned connection_timeout_s;
    unsigned caption_max;     /* code points in a video caption */
    unsigned comment_max;     /* code points in a comment */
    unsigned hashtags_max;    /* distinct hashtags kept per caption */
    unsigned events_per_batch;/* events in one POST /api/v1/events */
    size_t events_max_body;   /* body limit of POST /api/v1/events */
    unsigned following_feed_max; /* followed creators the following feed reads */

    /* [events] the per-region engagement event log */
    size_t events_segment_bytes;
    size_t events_retention_bytes;   /* 0 = no size limit */
    unsigned events_retention_age_s; /* 0 = keep forever */
    bool events_retention_ignores_consumers;
    bool events_fsync;
    unsigned events_commit_delay_us;
    size_t events_max_pending_bytes;
    unsigned events_max_age_s;       /* older client times are clamped to this */

    /* [feed] */
    unsigned feed_popular_window_s;  /* "recent" for the popular baseline */
    unsigned feed_seen_max;          /* impressions remembered per user */
    unsigned feed_seen_users;        /* users whose impressions are kept in memory */
    unsigned card_cache;             /* rendered video cards kept (0: none) */
    unsigned likes_cache;            /* viewers whose likes are kept (0: none) */
    unsigned session_cache;          /* sessions behind tokens kept (0: none) */

    /* [security] */
    unsigned session_ttl_s;
    unsigned argon2_ops;      /* argon2id passes */
    size_t argon2_mem_bytes;

    /* [privacy] */
    unsigned erasure_grace_s;  /* DELETE /me -> erasure after this long */
    unsigned purge_interval_s; /* how often the server looks for accounts to erase */

    /* [log] */
    enum log_level log_level;
    bool log_requests;

    /* [stats] */
    unsigned stats_hll_precision;        /* active-user sketches (standard error 1.04/sqrt(2^p)) */
    unsigned stats_viewer_hll_precision; /* per-video unique-viewer sketches */
    unsigned stats_trending_half_life_s;
    unsigned stats_trending_max_items;   /* per region and kind (videos, hashtags) */
    unsigned stats_creator_retention_s;  /* creator statistics kept this long (whole days) */
    unsigned stats_weight_impression;    /* trending points per event; watch is scaled by */
    unsigned stats_weight_play;          /* the watch ratio; unlike/unfollow take back a */
    unsigned stats_weight_watch;         /* like/follow; penalties subtract */
    unsigned stats_weight_like;
    unsigned stats_weight_comment;
    unsigned stats_weight_share;
    unsigned stats_weight_follow;
    unsigned stats_penalty_skip;
    unsigned stats_penalty_not_interested;
    /* [media] uploads and transcoding (media/) */
    size_t media_max_upload_bytes;    /* largest upload; past it 413 while streaming */
    unsigned media_max_duration_s;    /* longest accepted video */
    unsigned media_max_dimension;     /* longest side in pixels */
    unsigned media_min_dimension;     /* shortest side in pixels */
    size_t media_daily_quota_bytes;   /* per user and UTC day; 0 = no quota */
    unsigned media_daily_quota_videos;/* per user and UTC day; 0 = no quota */
    unsigned media_workers;           /* transcoding jobs at once; 0 = number of cores */
    unsigned media_queue;             /* jobs waiting beyond the workers */
    char media_x264_preset[16];       /* ultrafast .. placebo */
    unsigned media_x264_crf;          /* 0..51, lower is better and bigger */
    unsigned media_encoder_threads;   /* libx264 threads per rendition; 0 = auto */
    unsigned media_audio_kbps;        /* AAC bit rate, stereo */
    unsigned media_upload_expiry_s;   /* abandoned resumable uploads are deleted after */

    struct config_rec rec;

    struct config_site sites[CONFIG_MAX_SITES];
    int site_count;
    struct config_region regions[CONFIG_MAX_REGIONS];
    int region_count;
};

/* The built-in default configuration (the text of config/reel.ini). */
extern const char config_default_text[];

/* Fills *cfg with the scalar defaults and no regions or sites. */
void config_init(struct config *cfg);
/* Fills *rec with the [rec] defaults (those of config/reel.ini). */
void config_rec_init(struct config_rec *rec);

/* Parses INI text / a file into *cfg (which config_init prepared), then checks
 * it with config_check. `origin` names the source in messages. Returns 0, or
 * -1 with a message in err ("reel.ini:12: [server] port: not a port number"). */
int config_load_string(struct config *cfg, const char *text, const char *origin, char *err,
                       size_t errlen);
int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen);

/* Sets one scalar key as if the file said `key = value` in [section] (for
 * command-line overrides such as `reel replay --set rec.dim=16`). Returns 0,
 * or -1 with a message in err. */
int config_set(struct config *cfg, const char *section, const char *name, const char *value,
               char *err, size_t errlen);

/* Checks references and coverage: sites exist, ids unique, each country
 * served by exactly one region (or a catch-all). Returns 0 or -1 with err. */
int config_check(const struct config *cfg, char *err, size_t errlen);

/* Parses "HOST:PORT" or "[V6]:PORT" into cfg. Returns 0 or -1. */
int config_parse_listen(struct config *cfg, const char *value);

/* Compares two loaded configurations (config reload): calls fn once for
 * every setting whose value differs between a and b, with the section as
 * the file names it ("limits", "site eu-no", "region eu") and the key
 * ("rate_ip_per_s", "country", "replicas"), or NULL as the key for a site or
 * region declared in only one of them. Returns the number of calls. */
typedef void (*config_diff_fn)(const char *section, const char *name, void *arg);
int config_diff(const struct config *a, const struct config *b, config_diff_fn fn, void *arg);

/* Settings that a config reload (SIGHUP to `reel serve`) may change while
 * other threads read them are read and written through these (relaxed
 * atomic access to a plain field: the value is independent of any other, so
 * no ordering is needed, only freedom from torn reads and data races). */
#define CONFIG_LIVE_GET(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)
#define CONFIG_LIVE_SET(field, value) __atomic_store_n(&(field), (value), __ATOMIC_RELAXED)

/* Lookups by name; NULL if absent. */
const struct config_site *config_site_find(const struct config *cfg, const char *name);
const struct config_region *config_region_find(const struct config *cfg, const char *name);

#endif
