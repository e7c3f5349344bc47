/*
 * helpers.h — small builders shared by the rec/ unit tests.
 */
#ifndef REEL_TESTS_REC_HELPERS_H
#define REEL_TESTS_REC_HELPERS_H

#include "core/config.h"
#include "rec/engine.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#define T0 1767225600000LL /* 2026-01-01 */

static inline struct config_rec test_config(void)
{
    struct config_rec c;
    config_rec_init(&c);
    c.admit_after = 1;
    c.sessions_max = 4096;
    return c;
}

static inline struct rec_engine *test_engine(const struct config_rec *c)
{
    int err = 0;
    struct rec_engine *e = rec_engine_create(c, &err);
    cr_assert_not_null(e, "engine: %s", rec_strerror(err));
    return e;
}

/* Registers videos first_id .. first_id + n - 1; creator of video i is
 * creator_of(i) (or 1000000 + i when NULL), hashtag "t<i % ntags>". */
static inline void add_videos(struct rec_engine *e, uint64_t first_id, unsigned n,
                              uint64_t (*creator_of)(unsigned i), int64_t created_ms)
{
    for (unsigned i = 0; i < n; i++) {
        char tag[16];
        snprintf(tag, sizeof tag, "#T%u", i % 17);
        const char *tags[] = {tag};
        struct rec_video v = {
            .id = first_id + i,
            .creator_id = creator_of ? creator_of(i) : 1000000 + i,
            .created_ms = created_ms,
            .duration_ms = 10000,
            .hashtags = tags,
            .hashtag_count = 1,
        };
        cr_assert_eq(rec_video_add(e, &v), 0);
    }
}

static inline struct event ev(uint8_t type, uint64_t user, uint64_t video, int64_t at,
                              uint32_t watched_ms)
{
    struct event x;
    memset(&x, 0, sizeof x);
    x.type = type;
    x.user_id = user;
    x.video_id = video;
    x.at_ms = at;
    x.watched_ms = watched_ms;
    x.duration_ms = 10000;
    return x;
}

static inline int feed(struct rec_engine *e, uint64_t user, int64_t now, size_t limit,
                       struct rec_feed_item *out)
{
    struct rec_feed_request r = {.user_id = user, .now_ms = now, .limit = limit,
                                 .policy = REC_POLICY_REEL};
    int n = rec_engine_feed(e, &r, out);
    cr_assert_geq(n, 0, "feed: %s", rec_strerror(n));
    return n;
}

static inline int in_page(const struct rec_feed_item *items, int n, uint64_t id)
{
    for (int i = 0; i < n; i++)
        if (items[i].video_id == id)
            return i;
    return -1;
}

#endif
