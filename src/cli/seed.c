/*
 * seed.c — `reel seed`: demo users and videos.
 *
 *   reel seed [--config FILE] [--data DIR] [--users N] [--videos N] [--seed N] [--json]
 *             [--no-media] [--max-seconds S] [--if-empty] [--preset P]
 *       N demo users spread over the configured regions (by country), each
 *       following a few others (with --json: their ids, names and a bearer
 *       token each, for scripts and benchmarks); N videos with captions and
 *       hashtags, spread over those users, each liked by a few of them.
 *       Each video is real: a synthetic clip (media/synth.h: a moving
 *       pattern in colours of its own, 5 to 30 s, a tone, silence or no
 *       audio; mostly portrait, some landscape and square) put through the
 *       upload path every upload takes (api_upload_ingest: probe, record,
 *       transcoding job) and waited for until ready. The pipeline runs with
 *       the configuration's settings except the x264 preset, ultrafast
 *       unless --preset says otherwise, so a first `make run` is ready in
 *       seconds rather than minutes. --no-media makes ready
 *       records without media instead (fast; for benchmarks that need many
 *       videos). --if-empty does nothing when the data directory already has
 *       users (`make run` seeds a fresh directory this way).
 *   reel seed ... --creator USER_ID [--videos N] [--caption TEXT] [--duration-ms MS]
 *       N ready records without media for an existing user ("{i}" in the
 *       caption becomes 1..N); prints their ids (tests of feeds and social
 *       features that need no playable media).
 *
 * Records are written through the same store calls as the API (users in
 * their home region, follows and likes in the actor's region, counters in
 * the target's), but no engagement events are logged. Seeding media runs
 * the transcoding pool and writes media files, which only one process may
 * do: it takes the data directory's lock and refuses to run beside a live
 * `reel serve`; record-only seeding (--no-media, --creator) may.
 */
#include "cli/cli.h"

#include "api/account.h"
#include "api/api.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/credential.h"
#include "core/id.h"
#include "core/log.h"
#include "core/parse.h"
#include "core/progress.h"
#include "media/layout.h"
#include "media/synth.h"
#include "social/hashtag.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define SEED_USERS_MAX 100000
#define SEED_VIDEOS_MAX 1000000

static void usage(FILE *out)
{
    fprintf(out, "usage: reel seed [--config FILE] [--data DIR] [--users N] [--videos N]\n"
                 "                 [--seed N] [--json] [--no-media] [--max-seconds S] [--if-empty]\n"
                 "                 [--preset P]\n"
                 "       reel seed [--config FILE] [--data DIR] --creator USER_ID [--videos N]\n"
                 "                 [--caption TEXT] [--duration-ms MS]\n"
                 "\n"
                 "Creates demo users (password \"demo-password\") and videos: synthetic clips\n"
                 "uploaded and transcoded like any upload, ready to play when it returns.\n"
                 "\n"
                 "  --users N        demo users (default 8)\n"
                 "  --videos N       videos (default 6; with --creator, 1)\n"
                 "  --no-media       ready records without media files (fast)\n"
                 "  --max-seconds S  longest clip, 5..30 (default 30)\n"
                 "  --preset P       x264 preset for the demo clips (default ultrafast)\n"
                 "  --if-empty       do nothing if the data directory already has users\n"
                 "  --seed N         random seed (default: from the clock)\n"
                 "  --json           print what was created as JSON\n"
                 "  --creator ID     add records without media to this existing user instead\n"
                 "  --caption TEXT   caption for --creator videos; {i} becomes 1..N\n"
                 "  --duration-ms MS duration of --creator videos (default 15000)\n");
}

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static size_t rng_below(size_t n)
{
    return n ? (size_t)(rng_next() % n) : 0;
}

static const char *const countries[] = {"DE", "US", "JP", "FR", "NO", "BR", "IE", "CA"};
static const char *const topics[] = {"travel", "food", "music",   "dance",   "cats",   "football",
                                     "comedy", "diy",  "science", "fashion", "nature", "art"};
static const char *const phrases[] = {"Morning light over the harbour",
                                      "Trying this recipe again",
                                      "Thirty seconds of pure joy",
                                      "Nobody asked but here it is",
                                      "Best view in town",
                                      "Learning something new every day",
                                      "When the beat drops",
                                      "Small steps, big results"};

/* Creates one ready video for creator in its home store. */
static int create_video(struct app *app, uint64_t creator, const char *caption, int32_t duration_ms,
                        uint64_t *out_id)
{
    const struct region *r = region_for_id(&app->regions, creator);
    struct store *store = app_store_for_region(app, r);
    if (!store)
        return STORE_NOTFOUND;
    static struct store_video v; /* large; the command is single-threaded */
    static struct hashtag_list tags;
    memset(&v, 0, sizeof v);
    v.id = id_next(r->id);
    v.creator_id = creator;
    snprintf(v.caption, sizeof v.caption, "%s", caption);
    hashtag_parse(v.caption, strlen(v.caption), app->cfg.hashtags_max, &tags);
    hashtag_list_join(&tags, v.hashtags, sizeof v.hashtags);
    v.duration_ms = duration_ms;
    v.width = 720;
    v.height = 1280;
    v.status = STORE_VIDEO_READY;
    snprintf(v.renditions, sizeof v.renditions, "[]");
    v.created_ms = (int64_t)id_unix_ms(v.id);
    *out_id = v.id;
    return store_video_create(store, &v);
}

/* What `reel seed` makes of one demo clip. */
struct clip_plan {
    struct media_synth_options synth;
    char path[MEDIA_PATH_MAX];
};

/* A clip of its own for video k: shape (mostly portrait), length
 * (5 s .. max_seconds), colours and motion (the synth seed), sound. Small
 * sources keep seeding quick; the ladder still makes every rendition. */
static void plan_clip(size_t k, int max_seconds, struct clip_plan *c)
{
    struct media_synth_options *o = &c->synth;
    media_synth_options_init(o);
    size_t shape = rng_below(20);
    if (shape < 14) {
        o->width = 360, o->height = 640;
    } else if (shape < 17) {
        o->width = 640, o->height = 360;
    } else {
        o->width = 480, o->height = 480;
    }
    o->fps = 24;
    /* 5 s .. max_seconds, more short clips than long (u squared): a short
     * feed to swipe through that still has a few long ones. */
    double u = (double)rng_below(10001) / 10000.0;
    o->duration_ms = 5000 + (int)(u * u * (max_seconds - 5) * 1000);
    size_t sound = rng_below(20);
    o->audio = sound < 12 ? MEDIA_SYNTH_TONE : sound < 17 ? MEDIA_SYNTH_SILENCE : MEDIA_SYNTH_NO_AUDIO;
    o->tone_hz = 220 + (int)rng_below(660);
    o->seed = (unsigned)(rng_next() ^ k);
    o->preset = "ultrafast";
    o->crf = 26;
}

/* Makes the clip in the creator's site's .incoming/ and uploads it the way
 * every upload goes (api_upload_ingest). */
static int upload_clip(struct app *app, uint64_t creator, const char *caption, size_t k,
                       int max_seconds, uint64_t *video_id)
{
    static struct clip_plan c;
    char dir[MEDIA_PATH_MAX], err[256];
    const char *site = api_media_site(app, creator);
    plan_clip(k, max_seconds, &c);
    if (!site || media_layout_incoming_dir(site, dir, sizeof dir) < 0 ||
        snprintf(c.path, sizeof c.path, "%s/seed-%zu-%d.mp4", dir, k, (int)getpid()) >=
            (int)sizeof c.path) {
        fprintf(stderr, "reel seed: no media directory for the creator's region\n");
        return -1;
    }
    if (media_synth_write(c.path, &c.synth, err, sizeof err) < 0) {
        fprintf(stderr, "reel seed: could not make clip %zu: %s\n", k + 1, err);
        return -1;
    }
    struct api_upload up = {.creator_id = creator, .path = c.path, .caption = caption};
    struct api_upload_refusal why;
    if (api_upload_ingest(app, &up, video_id, &why) < 0) {
        fprintf(stderr, "reel seed: clip %zu refused (%d %s): %s\n", k + 1, why.status, why.type,
                why.detail);
        return -1;
    }
    return 0;
}

/* Creates demo user k in the region serving `country`, with a first
 * session whose bearer token is written to token. */
static int create_user(struct app *app, size_t k, const char *country, struct store_user *u,
                       char token[TOKEN_STR_MAX])
{
    char username[STORE_USERNAME_MAX], email[STORE_EMAIL_MAX], display[64];
    snprintf(display, sizeof display, "Demo %zu", k);
    struct account_new in = {
        .username = username,
        .password = "demo-password",
        .email = email,
        .region = region_for_country(&app->regions, country),
        .country = country,
        .display_name = display,
    };
    for (int attempt = 0; attempt < 20; attempt++) {
        if (attempt == 0)
            snprintf(username, sizeof username, "demo_%zu", k);
        else
            snprintf(username, sizeof username, "demo_%zu_%04x", k,
                     (unsigned)(rng_next() & 0xffff));
        snprintf(email, sizeof email, "%s@demo.invalid", username);
        int rc = account_create(app, &in, u, token);
        if (rc != ACCOUNT_TAKEN)
            return rc == ACCOUNT_OK ? STORE_OK : STORE_ERROR;
    }
    return STORE_CONFLICT;
}

static int follow(struct app *app, uint64_t follower, uint64_t followee)
{
    const struct region *r = region_for_id(&app->regions, follower);
    struct store *store = app_store_for_region(app, r);
    struct store_delta delta;
    bool changed;
    int rc = store_follow_put(store, id_next(r->id), follower, followee, clock_now_ms(),
                              api_counter_route(app, store, followee), &changed, &delta);
    if (rc == STORE_OK)
        api_counter_propagate(app, store, &delta);
    return rc;
}

static int like(struct app *app, uint64_t user, uint64_t video)
{
    struct store *store = app_store_for_id(app, user);
    struct store_delta delta;
    bool changed;
    int rc = store_like_put(store, user, video, clock_now_ms(),
                            api_counter_route(app, store, video), &changed, &delta);
    if (rc == STORE_OK)
        api_counter_propagate(app, store, &delta);
    return rc;
}

/* Record-only seeding commits its writes in groups (store_batch_begin): one
 * transaction, replication and sync per SEED_BATCH records in each store,
 * instead of one per record. A group is short, so a server running beside
 * `reel seed --no-media` waits for a store's write lock only briefly. Seeding
 * media does not group: the transcoding workers write from other threads. */
#define SEED_BATCH 512

struct seed_batch {
    struct app *app;
    bool open;
    size_t pending; /* records written in the open group */
};

/* The stores a seed writes: every served region's and the directory. */
static size_t seed_stores(struct app *app, struct store **out)
{
    size_t n = 0;
    for (size_t i = 0; i < CONFIG_MAX_REGIONS; i++)
        if (app->stores[i])
            out[n++] = app->stores[i];
    out[n++] = app->directory;
    return n;
}

/* Commits the open group; 0, or -1 (said on stderr) if a store failed. */
static int batch_close(struct seed_batch *b)
{
    if (!b->open)
        return 0;
    struct store *stores[CONFIG_MAX_REGIONS + 1];
    size_t n = seed_stores(b->app, stores);
    int rc = 0;
    for (size_t i = 0; i < n; i++)
        if (store_batch_end(stores[i]) != STORE_OK) {
            fprintf(stderr, "reel seed: could not commit to %s\n", store_path(stores[i]));
            rc = -1;
        }
    b->open = false;
    b->pending = 0;
    return rc;
}

static int batch_open(struct seed_batch *b)
{
    struct store *stores[CONFIG_MAX_REGIONS + 1];
    size_t n = seed_stores(b->app, stores);
    for (size_t i = 0; i < n; i++)
        if (store_batch_begin(stores[i]) != STORE_OK) {
            fprintf(stderr, "reel seed: could not start writing to %s\n",
                    store_path(stores[i]));
            while (i-- > 0)
                store_batch_end(stores[i]);
            return -1;
        }
    b->open = true;
    return 0;
}

/* Counts a record written; starts a new group every SEED_BATCH. */
static int batch_tick(struct seed_batch *b)
{
    if (!b->open || ++b->pending < SEED_BATCH)
        return 0;
    return batch_close(b) < 0 || batch_open(b) < 0 ? -1 : 0;
}

struct demo_options {
    size_t users, videos;
    bool json, media;
    int max_seconds;
};

static int seed_demo(struct app *app, const struct demo_options *o)
{
    size_t users = o->users, videos = o->videos;
    bool json = o->json;
    uint64_t *ids = reel_calloc(users ? users : 1, sizeof *ids);
    uint64_t *vids = reel_calloc(videos ? videos : 1, sizeof *vids);
    static struct store_user u;
    char token[TOKEN_STR_MAX];
    struct seed_batch batch = {.app = app};
    int result = 1;
    if (!ids || !vids)
        goto done;
    if (!o->media && batch_open(&batch) < 0)
        goto done;
    if (json)
        printf("{\"users\": [");
    for (size_t k = 0; k < users; k++) {
        const char *country = countries[k % (sizeof countries / sizeof countries[0])];
        int rc = create_user(app, k + 1, country, &u, token);
        if (rc != STORE_OK) {
            fprintf(stderr, "reel seed: could not create user %zu (store error %d)\n", k + 1, rc);
            goto done;
        }
        ids[k] = u.id;
        if (json) {
            char id[ID_STR_MAX];
            const struct region *r = region_for_id(&app->regions, u.id);
            printf("%s{\"id\": \"%s\", \"username\": \"%s\", \"password\": \"demo-password\","
                   " \"home_region\": \"%s\", \"token\": \"%s\"}",
                   k ? ", " : "", id_format(u.id, id), u.username, r->name, token);
        }
        if (batch_tick(&batch) < 0)
            goto done;
    }
    for (size_t k = 0; k < users && users > 1; k++)
        for (int f = 0; f < 3; f++) {
            size_t other = rng_below(users);
            if (other == k)
                continue;
            if (follow(app, ids[k], ids[other]) != STORE_OK || batch_tick(&batch) < 0)
                goto done;
        }
    size_t created = 0;
    struct progress bar;
    progress_init(&bar, o->media ? "clips" : "videos", videos, o->media ? 1 : 1000);
    for (size_t k = 0; k < videos && users; k++) {
        char caption[256];
        const char *t1 = topics[rng_below(sizeof topics / sizeof topics[0])];
        const char *t2 = topics[rng_below(sizeof topics / sizeof topics[0])];
        snprintf(caption, sizeof caption, "%s #%s #%s",
                 phrases[rng_below(sizeof phrases / sizeof phrases[0])], t1, t2);
        uint64_t creator = ids[k % users];
        int rc = o->media ? (upload_clip(app, creator, caption, k, o->max_seconds, &vids[k]) == 0
                                 ? STORE_OK
                                 : STORE_ERROR)
                          : create_video(app, creator, caption,
                                         (int32_t)(5000 + rng_below(55000)), &vids[k]);
        if (rc != STORE_OK) {
            fprintf(stderr, "reel seed: could not create video %zu (error %d)\n", k + 1, rc);
            goto done;
        }
        created++;
        progress_update(&bar, created);
        if (batch_tick(&batch) < 0)
            goto done;
    }
    /* Transcoding ran beside the clip making; wait for the last jobs. */
    api_media_wait_idle(app);
    progress_finish(&bar);
    size_t ready = 0;
    struct progress likes_bar;
    progress_init(&likes_bar, "likes", created, 1000);
    for (size_t k = 0; k < created; k++) {
        uint64_t creator;
        int32_t duration;
        int status = -1;
        struct store *store = app_store_for_id(app, vids[k]);
        if (store && store_video_brief(store, vids[k], &creator, &duration, &status) == STORE_OK &&
            status == STORE_VIDEO_READY)
            ready++;
        size_t likes = rng_below(6);
        for (size_t l = 0; l < likes; l++) {
            like(app, ids[rng_below(users)], vids[k]);
            if (batch_tick(&batch) < 0)
                goto done;
        }
        progress_update(&likes_bar, k + 1);
    }
    progress_finish(&likes_bar);
    /* What was written is committed before it is reported. */
    if (batch_close(&batch) < 0)
        goto done;
    if (json) {
        printf("], \"videos\": [");
        for (size_t k = 0; k < created; k++) {
            char id[ID_STR_MAX];
            printf("%s\"%s\"", k ? ", " : "", id_format(vids[k], id));
        }
        printf("]}\n");
    } else if (o->media) {
        printf("seeded %zu users and %zu videos, %zu ready to play (password \"demo-password\")\n",
               users, created, ready);
    } else {
        printf("seeded %zu users and %zu videos (no media files; password \"demo-password\")\n",
               users, created);
    }
    if (ready < created)
        fprintf(stderr, "reel seed: %zu of %zu videos did not become ready (see the log)\n",
                created - ready, created);
    else
        result = 0;
done:
    /* On failure, what was written before it stays (as without groups). */
    batch_close(&batch);
    reel_free(ids);
    reel_free(vids);
    return result;
}

/* True if any user holds a username (any region): the directory is asked
 * for each character a username may start with. */
static bool has_users(struct app *app)
{
    static const char first[] = "abcdefghijklmnopqrstuvwxyz0123456789_";
    for (const char *c = first; *c; c++) {
        char prefix[2] = {*c, '\0'};
        uint64_t id;
        size_t n = 0;
        if (store_directory_prefix(app->directory, prefix, 1, &id, &n) != STORE_OK || n)
            return true; /* in doubt, do not seed */
    }
    return false;
}

static int seed_creator(struct app *app, uint64_t creator, size_t videos, const char *caption,
                        int32_t duration_ms)
{
    struct store *store = app_store_for_id(app, creator);
    static struct store_user user;
    if (!store || store_user_get_public(store, creator, &user) != STORE_OK) {
        fprintf(stderr, "reel seed: --creator: no such user\n");
        return 1;
    }
    printf("{\"videos\": [");
    for (size_t k = 0; k < videos; k++) {
        char text[STORE_CAPTION_MAX], num[24];
        size_t o = 0;
        snprintf(num, sizeof num, "%zu", k + 1);
        for (const char *p = caption; *p && o + 24 < sizeof text;) {
            if (strncmp(p, "{i}", 3) == 0) {
                o += (size_t)snprintf(text + o, sizeof text - o, "%s", num);
                p += 3;
            } else {
                text[o++] = *p++;
            }
        }
        text[o] = '\0';
        uint64_t vid;
        int rc = create_video(app, creator, text, duration_ms, &vid);
        if (rc != STORE_OK) {
            printf("]}\n");
            fprintf(stderr, "reel seed: could not create video (store error %d)\n", rc);
            return 1;
        }
        char id[ID_STR_MAX];
        printf("%s\"%s\"", k ? ", " : "", id_format(vid, id));
    }
    printf("]}\n");
    return 0;
}

int cli_seed(int argc, char **argv)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"data", required_argument, NULL, 'd'},
        {"users", required_argument, NULL, 'u'},
        {"videos", required_argument, NULL, 'v'},
        {"seed", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},
        {"creator", required_argument, NULL, 'C'},
        {"caption", required_argument, NULL, 'T'},
        {"duration-ms", required_argument, NULL, 'D'},
        {"no-media", no_argument, NULL, 'N'},
        {"max-seconds", required_argument, NULL, 'S'},
        {"if-empty", no_argument, NULL, 'E'},
        {"preset", required_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cli_common common = {0};
    unsigned long long users = 8, videos = 6, seed = 0, duration = 15000, max_seconds = 30;
    bool json = false, videos_set = false, media = true, if_empty = false;
    uint64_t creator = 0;
    const char *caption = "Video {i} #reel";
    const char *preset = "ultrafast";
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "c:d:h", options, NULL)) != -1) {
        switch (opt) {
        case 'c': common.config_path = optarg; break;
        case 'd': common.data_dir = optarg; break;
        case 'j': json = true; break;
        case 'T': caption = optarg; break;
        case 'N': media = false; break;
        case 'E': if_empty = true; break;
        case 'P': preset = optarg; break;
        case 'S':
            if (parse_ull(optarg, &max_seconds) < 0 || max_seconds < 5 || max_seconds > 30)
                goto bad;
            break;
        case 'h': usage(stdout); return 0;
        case 'u':
            if (parse_ull(optarg, &users) < 0 || users > SEED_USERS_MAX)
                goto bad;
            break;
        case 'v':
            if (parse_ull(optarg, &videos) < 0 || videos > SEED_VIDEOS_MAX)
                goto bad;
            videos_set = true;
            break;
        case 's':
            if (parse_ull(optarg, &seed) < 0)
                goto bad;
            break;
        case 'D':
            if (parse_ull(optarg, &duration) < 0 || duration > 3600000)
                goto bad;
            break;
        case 'C':
            if (!id_parse(optarg, &creator))
                goto bad;
            break;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc)
        goto bad;
    if (creator && !videos_set)
        videos = 1;
    struct config cfg;
    if (cli_load_config(&cfg, &common) < 0)
        return 1;
    log_set_level(cfg.log_level > LOG_WARN ? cfg.log_level : LOG_WARN);
    if (seed == 0 && getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed)
        seed = (unsigned long long)clock_now_ms();
    rng_state = seed | 1;
    if (creator)
        media = false;
    /* Demo clips go through the configured pipeline, but with a quick x264
     * preset unless told otherwise: seeding is about having a feed. */
    static const char *const presets[] = {"ultrafast", "superfast", "veryfast", "faster", "fast",
                                          "medium", "slow", "slower", "veryslow", "placebo"};
    bool known = false;
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        known = known || strcmp(preset, presets[i]) == 0;
    if (!known)
        goto bad;
    snprintf(cfg.media_x264_preset, sizeof cfg.media_x264_preset, "%s", preset);
    static struct app app;
    char err[CONFIG_ERR_MAX];
    int lock_fd = -1, rc = 1;
    /* The transcoding workers write to the stores too. */
    if (app_open(&app, &cfg, 8, err, sizeof err) < 0) {
        fprintf(stderr, "reel seed: %s\n", err);
        return 1;
    }
    if (if_empty && has_users(&app)) {
        printf("the data directory already has users: not seeding\n");
        rc = 0;
        goto close;
    }
    /* Media work (recovery, jobs, files) belongs to one process at a time. */
    if (media && (lock_fd = cli_lock_data(&cfg, "seed")) < 0)
        goto close;
    if (media && api_media_start(&app, false, err, sizeof err) < 0) {
        fprintf(stderr, "reel seed: media: %s\n", err);
        goto close;
    }
    struct demo_options demo = {
        .users = (size_t)users,
        .videos = (size_t)videos,
        .json = json,
        .media = media,
        .max_seconds = (int)max_seconds,
    };
    rc = creator ? seed_creator(&app, creator, (size_t)videos, caption, (int32_t)duration)
                 : seed_demo(&app, &demo);
    api_media_stop(&app);
close:
    app_close(&app);
    if (lock_fd >= 0)
        close(lock_fd);
    return rc;
bad:
    fprintf(stderr, "reel seed: bad argument\n");
    usage(stderr);
    return EXIT_USAGE;
}
