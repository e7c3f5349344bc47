/*
 * Video records as the media pipeline uses them: the per-user daily quota's
 * usage query (count and source bytes since a moment, deleted videos no
 * longer counting) and the list of videos still processing that the
 * server's start-up check walks.
 */
#include "core/id.h"
#include "store/store.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[] = "/tmp/reel-store-videos-XXXXXX";
static char err[256];
static const unsigned char test_key[STORE_FIELD_KEY_BYTES] = "0123456789abcdef0123456789abcde";
static struct store *store;

static void setup(void)
{
    cr_assert_not_null(mkdtemp(dir));
    struct store_options opts = {.connections = 2, .field_key = test_key};
    cr_assert_eq(store_open(&store, STORE_KIND_REGION, dir, &opts, err, sizeof err), STORE_OK, "%s",
                 err);
}

static void teardown(void)
{
    store_close(store);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(store_videos, .init = setup, .fini = teardown);

static void make_user(uint64_t id, const char *name)
{
    struct store_user u;
    memset(&u, 0, sizeof u);
    u.id = id;
    snprintf(u.username, sizeof u.username, "%s", name);
    snprintf(u.email, sizeof u.email, "%s@example.com", name);
    snprintf(u.country, sizeof u.country, "DE");
    snprintf(u.password_hash, sizeof u.password_hash, "$argon2id$fake");
    cr_assert_eq(store_user_create(store, &u, NULL), STORE_OK);
}

static void make_video(uint64_t id, uint64_t creator, int status, int64_t bytes)
{
    static struct store_video v;
    memset(&v, 0, sizeof v);
    v.id = id;
    v.creator_id = creator;
    v.status = status;
    v.source_bytes = bytes;
    v.created_ms = (int64_t)id_unix_ms(id);
    cr_assert_eq(store_video_create(store, &v), STORE_OK);
}

Test(store_videos, usage_counts_videos_and_bytes_since_a_moment)
{
    const uint64_t day = 1767225600000; /* 2026-01-01T00:00:00Z */
    const uint64_t alice = id_make(1, day - 86400000, 0, 1), bob = id_make(1, day - 86400000, 0, 2);
    make_user(alice, "alice");
    make_user(bob, "bob");
    make_video(id_make(1, day - 1000, 0, 0), alice, STORE_VIDEO_READY, 5000); /* yesterday */
    make_video(id_make(1, day + 1000, 0, 0), alice, STORE_VIDEO_READY, 700);
    make_video(id_make(1, day + 2000, 0, 0), alice, STORE_VIDEO_FAILED, 300);
    make_video(id_make(1, day + 3000, 0, 0), alice, STORE_VIDEO_PROCESSING, 11);
    make_video(id_make(1, day + 4000, 0, 0), bob, STORE_VIDEO_READY, 100000);

    int64_t videos, bytes;
    cr_assert_eq(store_video_usage(store, alice, id_make(1, day, 0, 0), &videos, &bytes), STORE_OK);
    cr_assert_eq(videos, 3);
    cr_assert_eq(bytes, 1011);
    cr_assert_eq(store_video_delete(store, id_make(1, day + 1000, 0, 0)), STORE_OK);
    cr_assert_eq(store_video_usage(store, alice, id_make(1, day, 0, 0), &videos, &bytes), STORE_OK);
    cr_assert_eq(videos, 2, "a deleted video no longer counts");
    cr_assert_eq(bytes, 311);
    cr_assert_eq(store_video_usage(store, 999, 0, &videos, &bytes), STORE_OK);
    cr_assert_eq(videos, 0);
    cr_assert_eq(bytes, 0);
}

Test(store_videos, processing_list_pages_in_id_order)
{
    const uint64_t t = 1767225600000;
    const uint64_t alice = id_make(1, t, 0, 1);
    make_user(alice, "alice");
    uint64_t ids[7];
    for (int i = 0; i < 7; i++) {
        ids[i] = id_make(1, t + 1000 + (uint64_t)i, 0, 0);
        make_video(ids[i], alice, i % 2 ? STORE_VIDEO_READY : STORE_VIDEO_PROCESSING, 1);
    }
    uint64_t out[8];
    size_t n;
    cr_assert_eq(store_video_list_processing(store, 0, 2, out, &n), STORE_OK);
    cr_assert_eq(n, 2);
    cr_assert_eq(out[0], ids[0]);
    cr_assert_eq(out[1], ids[2]);
    cr_assert_eq(store_video_list_processing(store, out[1], 8, out, &n), STORE_OK);
    cr_assert_eq(n, 2);
    cr_assert_eq(out[0], ids[4]);
    cr_assert_eq(out[1], ids[6]);
    cr_assert_eq(
        store_video_set_status(store, ids[4], STORE_VIDEO_READY, NULL, 1, 2, 3, NULL, NULL),
        STORE_OK);
    cr_assert_eq(store_video_list_processing(store, 0, 8, out, &n), STORE_OK);
    cr_assert_eq(n, 3);
    cr_assert_eq(out[2], ids[6]);
}

/* A feed page's reads: store_video_get_many hands the present videos over
 * in the order asked, with their creators, skips absent ids, and stops when
 * the callback says so; store_likes_check marks exactly the liked ones. */
struct got {
    uint64_t ids[8];
    size_t index[8];
    char creator[8][32];
    size_t n, stop_after;
};

static int collect(void *ctx, size_t index, const struct store_video *v,
                   const struct store_user *creator)
{
    struct got *g = ctx;
    g->ids[g->n] = v->id;
    g->index[g->n] = index;
    snprintf(g->creator[g->n], sizeof g->creator[0], "%s", creator->username);
    cr_assert_eq(creator->email[0], '\0', "a creator card carries no private field");
    cr_assert_eq(creator->password_hash[0], '\0');
    g->n++;
    return g->n == g->stop_after ? 42 : 0;
}

Test(store_videos, many_in_one_read_keeps_order_and_skips_absent)
{
    const uint64_t t = 1767225600000;
    const uint64_t alice = id_make(1, t, 0, 1), bob = id_make(1, t, 0, 2);
    make_user(alice, "alice");
    make_user(bob, "bob");
    uint64_t v1 = id_make(1, t + 1, 0, 0), v2 = id_make(1, t + 2, 0, 0),
             v3 = id_make(1, t + 3, 0, 0);
    make_video(v1, alice, STORE_VIDEO_READY, 1);
    make_video(v2, bob, STORE_VIDEO_READY, 1);
    make_video(v3, alice, STORE_VIDEO_PROCESSING, 1);
    uint64_t ask[] = {v3, 12345, v1, v2};
    struct store_video *v = malloc(sizeof *v);
    struct store_user *u = malloc(sizeof *u);
    struct got g = {.stop_after = 99};
    cr_assert_eq(store_video_get_many(store, ask, 4, v, u, collect, &g), STORE_OK);
    cr_assert_eq(g.n, 3);
    cr_assert_eq(g.ids[0], v3);
    cr_assert_eq(g.ids[1], v1);
    cr_assert_eq(g.ids[2], v2);
    cr_assert_eq(g.index[1], 2, "the index is the position in the ids asked");
    cr_assert_str_eq(g.creator[2], "bob");
    /* The callback's nonzero return stops the read and is returned. */
    struct got h = {.stop_after = 1};
    cr_assert_eq(store_video_get_many(store, ask, 4, v, u, collect, &h), 42);
    cr_assert_eq(h.n, 1);
    /* The connection is usable afterwards (no transaction left open): a
     * write on the same pool goes through. */
    bool changed;
    struct store_delta delta;
    cr_assert_eq(store_like_put(store, alice, v2, t + 10,
                                (struct store_counter_route){.target_here = true}, &changed,
                                &delta),
                 STORE_OK);
    cr_assert(changed);
    bool liked[4];
    cr_assert_eq(store_likes_check(store, alice, ask, 4, liked), STORE_OK);
    cr_assert(!liked[0] && !liked[1] && !liked[2] && liked[3]);
    cr_assert_eq(store_likes_check(store, bob, ask, 4, liked), STORE_OK);
    cr_assert(!liked[0] && !liked[1] && !liked[2] && !liked[3]);
    free(v);
    free(u);
}

/* The change hook (store_set_change_hook) hears every videos and users row
 * written: while the statement runs and once more after the connection is
 * given back; reads say nothing; too many rows at once say "all". */
struct heard {
    enum store_row row[512];
    uint64_t id[512];
    int n;
    int deleted;
};

static void on_change(void *ctx, enum store_row row, uint64_t id, bool deleted)
{
    struct heard *h = ctx;
    h->deleted += deleted;
    if (h->n < 512) {
        h->row[h->n] = row;
        h->id[h->n] = id;
        h->n++;
    }
}

static int times_heard(const struct heard *h, enum store_row row, uint64_t id)
{
    int k = 0;
    for (int i = 0; i < h->n; i++)
        k += h->row[i] == row && h->id[i] == id;
    return k;
}

Test(store_videos, change_hook_hears_every_written_row)
{
    uint64_t user = id_make(1, 1767225600000ULL, 0, 1);
    make_user(user, "hook");
    make_video(user + 1, user, STORE_VIDEO_PROCESSING, 10);
    static struct heard h;
    store_set_change_hook(store, on_change, &h);

    cr_assert_eq(store_video_set_status(store, user + 1, STORE_VIDEO_READY, "", 1000, 720, 1280,
                                        "[]", ""),
                 STORE_OK);
    cr_assert_eq(times_heard(&h, STORE_ROW_VIDEO, user + 1), 2,
                 "during the update and after the transaction");
    cr_assert_eq(h.deleted, 0);
    h.n = 0;
    cr_assert_eq(store_user_update_profile(store, user, "Hook", "bio"), STORE_OK);
    cr_assert_eq(times_heard(&h, STORE_ROW_USER, user), 2);
    cr_assert_eq(times_heard(&h, STORE_ROW_VIDEO, user + 1), 0);

    h.n = 0;
    static struct store_video v;
    static struct store_user creator;
    cr_assert_eq(store_video_get(store, user + 1, &v, &creator), STORE_OK);
    cr_assert_eq(h.n, 0, "a read changes nothing");

    /* Erasing a user with 40 videos (more than a connection first has room
     * to remember): every row told twice, as deleted. */
    for (uint64_t i = 2; i < 42; i++)
        make_video(user + i, user, STORE_VIDEO_READY, 10);
    h.n = 0;
    h.deleted = 0;
    cr_assert_eq(store_user_purge(store, user, NULL, NULL), STORE_OK);
    cr_assert_eq(times_heard(&h, STORE_ROW_ALL, 0), 0);
    for (uint64_t i = 1; i < 42; i++)
        cr_assert_eq(times_heard(&h, STORE_ROW_VIDEO, user + i), 2, "video %llu",
                     (unsigned long long)i);
    cr_assert_eq(times_heard(&h, STORE_ROW_USER, user), 2);
    cr_assert_eq(h.deleted, 2 * 42, "the user row and its 41 videos, deleted, told twice");
    store_set_change_hook(store, NULL, NULL);
}

/* Likes have no rowid, so SQLite's hook never sees them: a like or unlike
 * that changed something is told as STORE_ROW_LIKES with the user's id,
 * during the transaction and after it; a repeat that changes nothing is not.
 * store_likes_list gives a user's likes lowest id first, and says when there
 * are more than asked for. */
Test(store_videos, likes_are_told_and_listed)
{
    uint64_t user = id_make(1, 1767225600000ULL, 0, 7);
    make_user(user, "liker");
    for (uint64_t i = 1; i <= 3; i++)
        make_video(user + 10 * i, user, STORE_VIDEO_READY, 10);
    static struct heard h;
    store_set_change_hook(store, on_change, &h);
    bool changed;
    struct store_delta delta;
    struct store_counter_route here = {.target_here = true};
    for (uint64_t i = 3; i >= 1; i--)
        cr_assert_eq(store_like_put(store, user, user + 10 * i, 1000, here, &changed, &delta),
                     STORE_OK);
    cr_assert_eq(times_heard(&h, STORE_ROW_LIKES, user), 6, "three likes, each told twice");
    h.n = 0;
    cr_assert_eq(store_like_put(store, user, user + 10, 1000, here, &changed, &delta), STORE_OK);
    cr_assert_not(changed);
    cr_assert_eq(times_heard(&h, STORE_ROW_LIKES, user), 0, "a repeat changes nothing");
    cr_assert_eq(store_like_delete(store, user, user + 20, here, &changed, &delta), STORE_OK);
    cr_assert(changed);
    cr_assert_eq(times_heard(&h, STORE_ROW_LIKES, user), 2, "an unlike");
    store_set_change_hook(store, NULL, NULL);

    uint64_t ids[4];
    size_t n;
    bool more;
    cr_assert_eq(store_likes_list(store, user, 4, ids, &n, &more), STORE_OK);
    cr_assert_eq(n, 2);
    cr_assert_not(more);
    cr_assert(ids[0] == user + 10 && ids[1] == user + 30, "lowest first, without the unliked");
    cr_assert_eq(store_likes_list(store, user, 1, ids, &n, &more), STORE_OK);
    cr_assert(n == 1 && more && ids[0] == user + 10);
    cr_assert_eq(store_likes_list(store, user + 1, 4, ids, &n, &more), STORE_OK);
    cr_assert(n == 0 && !more, "no likes");
}

/* Past SQ_CHANGED_MAX rows in one transaction the hook stops naming them:
 * after the transaction it says STORE_ROW_ALL, once, instead of the rows
 * (which it still tells while the statements run). */
static int all_heard;

static void on_change_count(void *ctx, enum store_row row, uint64_t id, bool deleted)
{
    (void)id;
    (void)deleted;
    if (row == STORE_ROW_ALL)
        all_heard++;
    else
        (*(long *)ctx)++;
}

Test(store_videos, change_hook_says_all_past_its_limit, .timeout = 300)
{
    uint64_t user = id_make(1, 1767225600000ULL, 0, 1);
    make_user(user, "many");
    enum { VIDEOS = 65536 }; /* with the user row: one past the limit */
    for (uint64_t i = 1; i <= VIDEOS; i++)
        make_video(user + i, user, STORE_VIDEO_READY, 10);
    static long rows;
    store_set_change_hook(store, on_change_count, &rows);
    cr_assert_eq(store_user_purge(store, user, NULL, NULL), STORE_OK);
    cr_assert_eq(all_heard, 1, "told STORE_ROW_ALL once");
    cr_assert_eq(rows, VIDEOS + 1, "each row told while deleted, not again after");
    store_set_change_hook(store, NULL, NULL);
}
