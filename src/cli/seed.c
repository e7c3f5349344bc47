/*
 * seed.c — `reel seed`: demo users and video records.
 *
 *   reel seed [--config FILE] [--data DIR] [--users N] [--videos N] [--seed N] [--json]
 *       N demo users spread over the configured regions (by country), each
 *       following a few others (with --json: their ids, names and a bearer
 *       token each, for scripts and benchmarks); N ready videos with captions and hashtags,
 *       spread over those users, each liked by a few of them.
 *   reel seed ... --creator USER_ID [--videos N] [--caption TEXT] [--duration-ms MS]
 *       N ready videos for an existing user ("{i}" in the caption becomes
 *       1..N); prints their ids. Scripts and tests use this until uploads
 *       exist.
 *
 * Videos have no media yet: renditions are [] and there is no thumbnail
 * (the media pipeline fills them for uploaded videos). Records are written
 * through the same store calls as the API (users in their home region,
 * follows and likes in the actor's region, counters in the target's), but
 * no engagement events are logged: seed opens only the stores, so it may run
 * beside a live `reel serve`.
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
#include "social/hashtag.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#define SEED_USERS_MAX 100000
#define SEED_VIDEOS_MAX 1000000

static void usage(FILE *out)
{
    fprintf(out, "usage: reel seed [--config FILE] [--data DIR] [--users N] [--videos N]\n"
                 "                 [--seed N] [--json]\n"
                 "       reel seed [--config FILE] [--data DIR] --creator USER_ID [--videos N]\n"
                 "                 [--caption TEXT] [--duration-ms MS]\n"
                 "\n"
                 "Creates demo users (password \"demo-password\") and ready video records\n"
                 "(no media files: renditions are empty), or videos for one existing user.\n"
                 "\n"
                 "  --users N        demo users (default 20)\n"
                 "  --videos N       videos (default 100; with --creator, 1)\n"
                 "  --seed N         random seed (default: from the clock)\n"
                 "  --json           print what was created as JSON\n"
                 "  --creator ID     add videos to this existing user instead\n"
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

static int seed_demo(struct app *app, size_t users, size_t videos, bool json)
{
    uint64_t *ids = reel_calloc(users ? users : 1, sizeof *ids);
    static struct store_user u;
    char token[TOKEN_STR_MAX];
    if (!ids)
        return 1;
    if (json)
        printf("{\"users\": [");
    for (size_t k = 0; k < users; k++) {
        const char *country = countries[k % (sizeof countries / sizeof countries[0])];
        int rc = create_user(app, k + 1, country, &u, token);
        if (rc != STORE_OK) {
            fprintf(stderr, "reel seed: could not create user %zu (store error %d)\n", k + 1, rc);
            reel_free(ids);
            return 1;
        }
        ids[k] = u.id;
        if (json) {
            char id[ID_STR_MAX];
            const struct region *r = region_for_id(&app->regions, u.id);
            printf("%s{\"id\": \"%s\", \"username\": \"%s\", \"password\": \"demo-password\","
                   " \"home_region\": \"%s\", \"token\": \"%s\"}",
                   k ? ", " : "", id_format(u.id, id), u.username, r->name, token);
        }
    }
    for (size_t k = 0; k < users && users > 1; k++)
        for (int f = 0; f < 3; f++) {
            size_t other = rng_below(users);
            if (other != k && follow(app, ids[k], ids[other]) != STORE_OK) {
                reel_free(ids);
                return 1;
            }
        }
    if (json)
        printf("], \"videos\": [");
    size_t created = 0;
    for (size_t k = 0; k < videos && users; k++) {
        char caption[256];
        const char *t1 = topics[rng_below(sizeof topics / sizeof topics[0])];
        const char *t2 = topics[rng_below(sizeof topics / sizeof topics[0])];
        snprintf(caption, sizeof caption, "%s #%s #%s",
                 phrases[rng_below(sizeof phrases / sizeof phrases[0])], t1, t2);
        uint64_t creator = ids[k % users], vid;
        int rc = create_video(app, creator, caption, (int32_t)(5000 + rng_below(55000)), &vid);
        if (rc != STORE_OK) {
            fprintf(stderr, "reel seed: could not create video %zu (store error %d)\n", k + 1, rc);
            reel_free(ids);
            return 1;
        }
        size_t likes = rng_below(6);
        for (size_t l = 0; l < likes; l++)
            like(app, ids[rng_below(users)], vid);
        if (json) {
            char id[ID_STR_MAX];
            printf("%s\"%s\"", created ? ", " : "", id_format(vid, id));
        }
        created++;
    }
    if (json)
        printf("]}\n");
    else
        printf("seeded %zu users and %zu videos (no media files; password \"demo-password\")\n",
               users, created);
    reel_free(ids);
    return 0;
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
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cli_common common = {0};
    unsigned long long users = 20, videos = 100, seed = 0, duration = 15000;
    bool json = false, videos_set = false;
    uint64_t creator = 0;
    const char *caption = "Video {i} #reel";
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "c:d:h", options, NULL)) != -1) {
        switch (opt) {
        case 'c': common.config_path = optarg; break;
        case 'd': common.data_dir = optarg; break;
        case 'j': json = true; break;
        case 'T': caption = optarg; break;
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
    static struct app app;
    char err[CONFIG_ERR_MAX];
    if (app_open(&app, &cfg, 2, err, sizeof err) < 0) {
        fprintf(stderr, "reel seed: %s\n", err);
        return 1;
    }
    int rc = creator ? seed_creator(&app, creator, (size_t)videos, caption, (int32_t)duration)
                     : seed_demo(&app, (size_t)users, (size_t)videos, json);
    app_close(&app);
    return rc;
bad:
    fprintf(stderr, "reel seed: bad argument\n");
    usage(stderr);
    return EXIT_USAGE;
}
