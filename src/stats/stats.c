/*
 * stats.c — see stats.h. One mutex guards everything: stats_apply is a few
 * hundred nanoseconds, queries are rare (an operator, a creator opening
 * their statistics, the feed refreshing its trending list), so a finer
 * scheme would buy nothing measurable.
 */
#include "stats/stats.h"

#include "core/alloc.h"
#include "stats/hll.h"
#include "stats/statfile.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define SNAP_MAGIC "REELSNAP"
#define SNAP_VERSION 1
#define SNAP_MAX (1ULL << 31)
#define SNAP_HEADER_BYTES 24
#define NO_DAY INT32_MIN

struct stats {
    pthread_mutex_t lock;
    struct stats_options opt;
    int persistent;
    char dir[CONFIG_PATH_MAX];
    struct stats_active *active;
    struct stats_trending *videos;
    struct stats_trending *hashtags;
    struct stats_creator *creators;
    uint64_t log_position;
    uint64_t events_applied;
    int32_t newest_day;
};

void stats_options_init(struct stats_options *o, const struct config *cfg)
{
    memset(o, 0, sizeof *o);
    o->active_precision = cfg->stats_hll_precision;
    o->viewer_precision = cfg->stats_viewer_hll_precision;
    o->trending_half_life_ms = (int64_t)cfg->stats_trending_half_life_s * 1000;
    o->trending_max_items = cfg->stats_trending_max_items;
    o->creator_retention_days = (cfg->stats_creator_retention_s + 86399) / 86400;
    o->weights[EVENT_IMPRESSION] = cfg->stats_weight_impression;
    o->weights[EVENT_PLAY] = cfg->stats_weight_play;
    o->weights[EVENT_WATCH] = cfg->stats_weight_watch;
    o->weights[EVENT_SKIP] = -(double)cfg->stats_penalty_skip;
    o->weights[EVENT_NOT_INTERESTED] = -(double)cfg->stats_penalty_not_interested;
    o->weights[EVENT_LIKE] = cfg->stats_weight_like;
    o->weights[EVENT_UNLIKE] = -(double)cfg->stats_weight_like;
    o->weights[EVENT_SHARE] = cfg->stats_weight_share;
    o->weights[EVENT_COMMENT] = cfg->stats_weight_comment;
    o->weights[EVENT_FOLLOW] = cfg->stats_weight_follow;
    o->weights[EVENT_UNFOLLOW] = -(double)cfg->stats_weight_follow;
}

static int snapshot_path(const struct stats *s, char *out)
{
    int n = snprintf(out, CONFIG_PATH_MAX, "%s/stats.snap", s->dir);
    return n < 0 || n >= CONFIG_PATH_MAX ? -1 : 0;
}

static int take_section(const uint8_t *p, size_t len, size_t *pos, const uint8_t **section,
                        size_t *section_len)
{
    if (len - *pos < 8)
        return -1;
    uint64_t n = statfile_get_u64(p + *pos);
    *pos += 8;
    if (n > len - *pos)
        return -1;
    *section = p + *pos;
    *section_len = (size_t)n;
    *pos += (size_t)n;
    return 0;
}

static int load_snapshot(struct stats *s, char *err, size_t errlen)
{
    char path[CONFIG_PATH_MAX];
    if (snapshot_path(s, path) < 0) {
        snprintf(err, errlen, "%s: path too long", s->dir);
        return -1;
    }
    uint8_t *p = NULL;
    size_t len = 0;
    uint32_t version = 0;
    int rc = statfile_read(path, SNAP_MAGIC, &version, &p, &len, SNAP_MAX, err, errlen);
    if (rc == STATFILE_ENOENT)
        return 0;
    if (rc != STATFILE_OK)
        return -1;
    const uint8_t *videos, *hashtags, *creators;
    size_t videos_len, hashtags_len, creators_len, pos = SNAP_HEADER_BYTES, used = 0;
    char detail[CONFIG_ERR_MAX] = "";
    if (version != SNAP_VERSION || len < SNAP_HEADER_BYTES ||
        take_section(p, len, &pos, &videos, &videos_len) < 0 ||
        take_section(p, len, &pos, &hashtags, &hashtags_len) < 0 ||
        take_section(p, len, &pos, &creators, &creators_len) < 0 || pos != len)
        goto corrupt;
    struct stats_trending *v = stats_trending_decode(videos, videos_len, s->opt.trending_max_items,
                                                     &used, detail, sizeof detail);
    if (!v || used != videos_len) {
        stats_trending_destroy(v);
        goto corrupt;
    }
    stats_trending_destroy(s->videos);
    s->videos = v;
    struct stats_trending *h = stats_trending_decode(
        hashtags, hashtags_len, s->opt.trending_max_items, &used, detail, sizeof detail);
    if (!h || used != hashtags_len) {
        stats_trending_destroy(h);
        goto corrupt;
    }
    stats_trending_destroy(s->hashtags);
    s->hashtags = h;
    struct stats_creator *c = stats_creator_decode(creators, creators_len, detail, sizeof detail);
    if (!c)
        goto corrupt;
    stats_creator_destroy(s->creators);
    s->creators = c;
    s->log_position = statfile_get_u64(p);
    s->events_applied = statfile_get_u64(p + 8);
    s->newest_day = (int32_t)statfile_get_u32(p + 16);
    reel_free(p);
    return 0;
corrupt:
    snprintf(err, errlen, "%s: corrupt snapshot%s%s", path, detail[0] ? ": " : "", detail);
    reel_free(p);
    return -1;
}

struct stats *stats_create(const struct stats_options *o, const char *dir, char *err, size_t errlen)
{
    struct stats *s = reel_calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->opt = *o;
    s->newest_day = NO_DAY;
    pthread_mutex_init(&s->lock, NULL);
    char active_dir[CONFIG_PATH_MAX];
    if (dir) {
        int n = snprintf(active_dir, sizeof active_dir, "%s/active", dir);
        if (strlen(dir) >= sizeof s->dir || n < 0 || (size_t)n >= sizeof active_dir) {
            snprintf(err, errlen, "%s: path too long", dir);
            goto fail;
        }
        snprintf(s->dir, sizeof s->dir, "%s", dir);
        s->persistent = 1;
    }
    s->active = stats_active_create(o->active_precision, dir ? active_dir : NULL, err, errlen);
    if (!s->active)
        goto fail;
    s->videos = stats_trending_create(o->trending_half_life_ms, o->trending_max_items);
    s->hashtags = stats_trending_create(o->trending_half_life_ms, o->trending_max_items);
    s->creators = stats_creator_create(o->viewer_precision);
    if (!s->videos || !s->hashtags || !s->creators) {
        snprintf(err, errlen,
                 "bad [stats] options (half-life, max items, precision) or out of "
                 "memory");
        goto fail;
    }
    if (s->persistent && load_snapshot(s, err, errlen) < 0)
        goto fail;
    return s;
fail:
    stats_destroy(s);
    return NULL;
}

void stats_destroy(struct stats *s)
{
    if (!s)
        return;
    stats_active_destroy(s->active);
    stats_trending_destroy(s->videos);
    stats_trending_destroy(s->hashtags);
    stats_creator_destroy(s->creators);
    pthread_mutex_destroy(&s->lock);
    reel_free(s);
}

static int apply_trending(struct stats *s, const struct event *ev)
{
    double points = ev->type <= EVENT_TYPE_MAX ? s->opt.weights[ev->type] : 0.0;
    if (ev->type == EVENT_WATCH) {
        double ratio = ev->duration_ms ? (double)ev->watched_ms / (double)ev->duration_ms : 0.0;
        points *= ratio < 1.0 ? ratio : 1.0;
    }
    if (points == 0.0 || !ev->video_id)
        return 0;
    if (stats_trending_add(s->videos, ev->video_id, NULL, points, ev->at_ms) < 0)
        return -1;
    if (!s->opt.video_hashtags)
        return 0;
    const char *tags[STATS_MAX_HASHTAGS];
    int n = s->opt.video_hashtags(s->opt.hooks_ctx, ev->video_id, tags, STATS_MAX_HASHTAGS);
    for (int i = 0; i < n && i < STATS_MAX_HASHTAGS; i++)
        if (tags[i] && tags[i][0] &&
            stats_trending_add(s->hashtags, stats_hashtag_key(tags[i]), tags[i], points,
                               ev->at_ms) < 0)
            return -1;
    return 0;
}

int stats_apply(struct stats *s, const struct event *ev, int country, uint64_t position)
{
    int rc = 0;
    pthread_mutex_lock(&s->lock);
    if (ev->user_id && stats_active_add(s->active, ev->user_id, ev->at_ms, country) < 0)
        rc = -1;
    if (apply_trending(s, ev) < 0)
        rc = -1;
    int32_t day = stats_day_of_ms(ev->at_ms);
    if (day > s->newest_day) {
        /* A new day: forget creator rows past the retention. */
        s->newest_day = day;
        if (stats_creator_expire(s->creators, day - (int32_t)s->opt.creator_retention_days + 1) < 0)
            rc = -1;
    }
    if (day > s->newest_day - (int32_t)s->opt.creator_retention_days &&
        stats_creator_apply(s->creators, ev) < 0)
        rc = -1;
    if (position > s->log_position)
        s->log_position = position;
    s->events_applied++;
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int stats_forget_creator(struct stats *s, uint64_t creator_id)
{
    pthread_mutex_lock(&s->lock);
    int rc = stats_creator_forget(s->creators, creator_id);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int save_locked(struct stats *s, char *err, size_t errlen)
{
    if (!s->persistent)
        return 0;
    if (stats_active_save(s->active, err, errlen) < 0)
        return -1;
    char path[CONFIG_PATH_MAX];
    if (snapshot_path(s, path) < 0) {
        snprintf(err, errlen, "%s: path too long", s->dir);
        return -1;
    }
    struct buf b;
    buf_init(&b, SNAP_MAX);
    uint8_t header[SNAP_HEADER_BYTES] = {0};
    statfile_put_u64(header, s->log_position);
    statfile_put_u64(header + 8, s->events_applied);
    statfile_put_u32(header + 16, (uint32_t)s->newest_day);
    int rc = -1;
    if (buf_append(&b, header, sizeof header) != BUF_OK)
        goto out;
    for (int section = 0; section < 3; section++) {
        size_t at = b.len;
        uint8_t len[8] = {0};
        if (buf_append(&b, len, sizeof len) != BUF_OK)
            goto out;
        int enc = section == 0   ? stats_trending_encode(s->videos, &b)
                  : section == 1 ? stats_trending_encode(s->hashtags, &b)
                                 : stats_creator_encode(s->creators, &b);
        if (enc < 0)
            goto out;
        statfile_put_u64((uint8_t *)b.data + at, b.len - at - 8);
    }
    rc = statfile_write(path, SNAP_MAGIC, SNAP_VERSION, b.data, b.len, err, errlen) == STATFILE_OK
             ? 0
             : -1;
    buf_clear(&b);
    return rc;
out:
    snprintf(err, errlen, "%s: out of memory (or larger than 2 GiB) encoding the snapshot", path);
    buf_clear(&b);
    return -1;
}

int stats_save(struct stats *s, char *err, size_t errlen)
{
    pthread_mutex_lock(&s->lock);
    int rc = save_locked(s, err, errlen);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

uint64_t stats_log_position(struct stats *s)
{
    pthread_mutex_lock(&s->lock);
    uint64_t position = s->log_position;
    pthread_mutex_unlock(&s->lock);
    return position;
}

int stats_query_active(struct stats *s, enum stats_period period, int32_t day, int country,
                       uint64_t *count, char *err, size_t errlen)
{
    pthread_mutex_lock(&s->lock);
    int rc = stats_active_count(s->active, period, day, country, count, err, errlen);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int stats_query_active_sketch(struct stats *s, enum stats_period period, int32_t day, int country,
                              struct hll **out, char *err, size_t errlen)
{
    pthread_mutex_lock(&s->lock);
    int rc = stats_active_sketch(s->active, period, day, country, out, err, errlen);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

size_t stats_query_trending_videos(struct stats *s, int64_t now_ms, struct stats_trending_item *out,
                                   size_t k)
{
    pthread_mutex_lock(&s->lock);
    size_t n = stats_trending_top(s->videos, now_ms, out, k);
    pthread_mutex_unlock(&s->lock);
    return n;
}

size_t stats_query_trending_hashtags(struct stats *s, int64_t now_ms,
                                     struct stats_trending_item *out, size_t k)
{
    pthread_mutex_lock(&s->lock);
    size_t n = stats_trending_top(s->hashtags, now_ms, out, k);
    pthread_mutex_unlock(&s->lock);
    return n;
}

int stats_query_creator(struct stats *s, uint64_t creator_id, int32_t first, int32_t last,
                        struct stats_creator_report *r)
{
    pthread_mutex_lock(&s->lock);
    int rc = stats_creator_report(s->creators, creator_id, first, last, r);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

void stats_query_status(struct stats *s, struct stats_status *out)
{
    pthread_mutex_lock(&s->lock);
    out->log_position = s->log_position;
    out->events_applied = s->events_applied;
    out->late_events_dropped = stats_active_dropped(s->active);
    out->memory_bytes =
        sizeof *s + stats_active_memory_bytes(s->active) + stats_trending_memory_bytes(s->videos) +
        stats_trending_memory_bytes(s->hashtags) + stats_creator_memory_bytes(s->creators);
    pthread_mutex_unlock(&s->lock);
}
