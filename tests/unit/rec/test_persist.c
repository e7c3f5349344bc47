/*
 * Persistence and erasure: a snapshot plus the events after it gives the
 * same rankings as the engine that never stopped; forgetting a user leaves
 * nothing of them in memory, in the spill store or in the next snapshot.
 */
#include "helpers.h"
#include "rec/engine_int.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define OLD (T0 - 30LL * 86400000)

static uint64_t creator_mod30(unsigned i)
{
    return 9000 + i % 30;
}

/* A deterministic mixed stream: impressions, watches, skips, likes, shares,
 * follows, not-interested. */
static void make_events(struct event *out, size_t n, uint64_t seed, int64_t t0)
{
    uint64_t x = seed;
    for (size_t i = 0; i < n; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        uint64_t user = 1 + (x >> 33) % 60;
        uint64_t video = 1 + (x >> 13) % 800;
        unsigned kind = (unsigned)((x >> 50) % 100);
        uint8_t type = kind < 45   ? EVENT_IMPRESSION
                       : kind < 80 ? EVENT_WATCH
                       : kind < 88 ? EVENT_SKIP
                       : kind < 93 ? EVENT_LIKE
                       : kind < 95 ? EVENT_SHARE
                       : kind < 98 ? EVENT_FOLLOW
                                   : EVENT_NOT_INTERESTED;
        out[i] = ev(type, user, video, t0 + (int64_t)i * 700, (uint32_t)((x >> 24) % 25000));
        if (type == EVENT_FOLLOW)
            out[i].creator_id = creator_mod30((unsigned)(video - 1));
    }
}

static char *temp_dir(void)
{
    char *dir = strdup("/tmp/reel-rec-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    return dir;
}

static void remove_dir(char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/rec.snapshot", dir);
    unlink(path);
    rmdir(dir);
    free(dir);
}

static void feeds_of(struct rec_engine *e, struct rec_feed_item (*out)[20], int *counts,
                     int64_t now)
{
    for (uint64_t u = 1; u <= 60; u++) {
        struct rec_feed_request r = {.user_id = u, .now_ms = now, .limit = 20};
        counts[u - 1] = rec_engine_feed(e, &r, out[u - 1]);
        cr_assert_geq(counts[u - 1], 0);
    }
}

static void restart_gives_same_rankings(unsigned videos)
{
    struct config_rec c = test_config();
    c.admit_after = 2;
    static struct event evs[30000];
    make_events(evs, 30000, 99, T0);
    struct rec_engine *a = test_engine(&c);
    rec_engine_tick(a, T0);
    add_videos(a, 1, 800, creator_mod30, OLD);
    add_videos(a, 800 + 1, videos - 800, creator_mod30, T0); /* some fresh ones */
    const char *interests[] = {"t4", "t9"};
    cr_assert_eq(rec_user_set_interests(a, 3, interests, 2), 0);
    /* Before the snapshot: events, feeds (sessions), maintenance. */
    struct rec_feed_item page[20];
    for (size_t i = 0; i < 20000; i += 500) {
        cr_assert_eq(rec_engine_observe_batch(a, evs + i, 500), 500);
        struct rec_feed_request r = {.user_id = 1 + i % 60, .now_ms = evs[i].at_ms, .limit = 20};
        cr_assert_geq(rec_engine_feed(a, &r, page), 0);
        rec_engine_tick(a, evs[i].at_ms);
    }
    char *dir = temp_dir();
    char err[256];
    struct rec_mark mark = {.log_offset = 20000, .event_ms = evs[19999].at_ms};
    cr_assert_eq(rec_engine_snapshot(a, dir, &mark, err, sizeof err), 0, "%s", err);
    /* The log goes on. */
    for (size_t i = 20000; i < 30000; i += 500)
        cr_assert_eq(rec_engine_observe_batch(a, evs + i, 500), 500);

    struct rec_mark got;
    int code = 0;
    struct rec_engine *b = rec_engine_load(&c, dir, &got, &code, err, sizeof err);
    cr_assert_not_null(b, "load: %s", err);
    cr_assert_eq(got.log_offset, 20000);
    cr_assert_eq(got.event_ms, evs[19999].at_ms);
    for (size_t i = got.log_offset; i < 30000; i += 500)
        cr_assert_eq(rec_engine_observe_batch(b, evs + i, 500), 500);

    static struct rec_feed_item fa[60][20], fb[60][20];
    int ca[60], cb[60];
    feeds_of(a, fa, ca, evs[29999].at_ms + 1000);
    feeds_of(b, fb, cb, evs[29999].at_ms + 1000);
    for (int u = 0; u < 60; u++) {
        cr_assert_eq(ca[u], cb[u], "user %d: %d vs %d items", u + 1, ca[u], cb[u]);
        for (int i = 0; i < ca[u]; i++) {
            cr_assert_eq(fa[u][i].video_id, fb[u][i].video_id, "user %d item %d", u + 1, i);
            cr_assert_eq(memcmp(&fa[u][i].score, &fb[u][i].score, sizeof(float)), 0);
        }
    }
    rec_engine_destroy(a);
    rec_engine_destroy(b);
    remove_dir(dir);
}

Test(persist, snapshot_and_replay_give_the_same_rankings)
{
    restart_gives_same_rankings(1000);
}

/* Past ANN_TRAIN_MIN videos the index is clustered; its lists must come back
 * exactly too. */
Test(persist, snapshot_keeps_a_trained_index, .timeout = 120)
{
    restart_gives_same_rankings(20000);
}

Test(persist, damaged_snapshots_are_refused)
{
    struct config_rec c = test_config();
    struct rec_engine *a = test_engine(&c);
    add_videos(a, 1, 100, NULL, OLD);
    char *dir = temp_dir();
    char err[256], path[512];
    cr_assert_eq(rec_engine_snapshot(a, dir, NULL, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/rec.snapshot", dir);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    /* Flip one byte in the middle. */
    FILE *f = fopen(path, "r+b");
    fseek(f, st.st_size / 2, SEEK_SET);
    int ch = fgetc(f);
    fseek(f, st.st_size / 2, SEEK_SET);
    fputc(ch ^ 0x40, f);
    fclose(f);
    int code = 0;
    cr_assert_null(rec_engine_load(&c, dir, NULL, &code, err, sizeof err));
    cr_assert_eq(code, REC_EFORMAT, "%s", err);
    cr_assert(strstr(err, "checksum") || strstr(err, "inconsistent"), "%s", err);
    /* Another configuration. */
    cr_assert_eq(rec_engine_snapshot(a, dir, NULL, err, sizeof err), 0);
    struct config_rec other = c;
    other.dim = 16;
    cr_assert_null(rec_engine_load(&other, dir, NULL, &code, err, sizeof err));
    cr_assert_eq(code, REC_EFORMAT);
    /* Truncated. */
    cr_assert_eq(truncate(path, st.st_size - 10), 0);
    cr_assert_null(rec_engine_load(&c, dir, NULL, &code, err, sizeof err));
    cr_assert_eq(code, REC_EFORMAT);
    rec_engine_destroy(a);
    remove_dir(dir);
}

/* ---- a spill store in memory -------------------------------------------- */

struct mem_spill {
    uint64_t users[64];
    unsigned char *blobs[64];
    size_t lens[64];
    int n;
    uint64_t erased[8];
    int nerased;
    int loads;
};

static int spill_save(void *ctx, uint64_t user, const void *blob, size_t len)
{
    struct mem_spill *m = ctx;
    for (int i = 0; i < m->n; i++)
        if (m->users[i] == user) {
            free(m->blobs[i]);
            m->blobs[i] = malloc(len);
            memcpy(m->blobs[i], blob, len);
            m->lens[i] = len;
            return 0;
        }
    if (m->n == 64)
        return -1;
    m->users[m->n] = user;
    m->blobs[m->n] = malloc(len);
    memcpy(m->blobs[m->n], blob, len);
    m->lens[m->n++] = len;
    return 0;
}

static long spill_load(void *ctx, uint64_t user, void *buf, size_t cap)
{
    struct mem_spill *m = ctx;
    m->loads++;
    for (int i = 0; i < m->n; i++)
        if (m->users[i] == user && m->blobs[i]) {
            if (m->lens[i] > cap)
                return -1;
            memcpy(buf, m->blobs[i], m->lens[i]);
            return (long)m->lens[i];
        }
    return 0;
}

static void spill_erase(void *ctx, uint64_t user)
{
    struct mem_spill *m = ctx;
    for (int i = 0; i < m->n; i++)
        if (m->users[i] == user) {
            free(m->blobs[i]);
            m->blobs[i] = NULL;
        }
    if (m->nerased < 8)
        m->erased[m->nerased++] = user;
}

/* An engine whose sessions spill to *m after a minute idle, with 60 videos. */
static struct rec_engine *spilling_engine(struct mem_spill *m)
{
    struct config_rec c = test_config();
    c.session_ttl_s = 60;
    struct rec_engine *e = test_engine(&c);
    struct rec_spill spill = {.ctx = m, .save = spill_save, .load = spill_load,
                              .erase = spill_erase};
    rec_engine_set_spill(e, &spill);
    rec_engine_tick(e, T0);
    add_videos(e, 1, 60, NULL, OLD);
    return e;
}

/* A session that leaves memory (idle past session_ttl) comes back from the
 * spill store with its seen filter: nothing is shown twice across it. */
Test(persist, idle_sessions_spill_and_come_back)
{
    struct mem_spill m = {0};
    struct rec_engine *e = spilling_engine(&m);
    struct rec_feed_item p1[30], p2[30];
    int n1 = feed(e, 11, T0, 30, p1);
    cr_assert_eq(n1, 30);
    struct rec_memory mem;
    rec_engine_memory(e, &mem);
    cr_assert_eq(mem.sessions, 1);
    rec_engine_tick(e, T0 + 3600 * 1000); /* an hour idle */
    rec_engine_memory(e, &mem);
    cr_assert_eq(mem.sessions, 0, "the idle session left memory");
    cr_assert_eq(m.n, 1);
    int n2 = feed(e, 11, T0 + 3601 * 1000, 30, p2);
    cr_assert_eq(n2, 30);
    for (int i = 0; i < n2; i++)
        cr_assert_lt(in_page(p1, n1, p2[i].video_id), 0, "video %llu came back",
                     (unsigned long long)p2[i].video_id);
    for (int i = 0; i < m.n; i++)
        free(m.blobs[i]);
    rec_engine_destroy(e);
}

/* A caller that must not wait (the HTTP event thread) is told REC_EAGAIN
 * instead of the engine reading the spill store; nothing changes, and the
 * same request where waiting is allowed brings the session back. */
Test(persist, no_wait_feed_does_not_read_the_spill_store)
{
    struct mem_spill m = {0};
    struct rec_engine *e = spilling_engine(&m);
    struct rec_feed_item p1[10], p2[10];
    struct rec_feed_request r = {.user_id = 11, .now_ms = T0, .limit = 10,
                                 .policy = REC_POLICY_REEL, .no_wait = 1};
    cr_assert_eq(rec_engine_feed(e, &r, p1), REC_EAGAIN, "a new user would be looked up");
    cr_assert_eq(m.loads, 0);
    r.no_wait = 0;
    cr_assert_eq(rec_engine_feed(e, &r, p1), 10);
    cr_assert_eq(m.loads, 1);
    r.no_wait = 1;
    r.now_ms = T0 + 1000;
    cr_assert_eq(rec_engine_feed(e, &r, p2), 10, "a session in memory needs no wait");
    cr_assert_eq(m.loads, 1);

    rec_engine_tick(e, T0 + 3600 * 1000); /* an hour idle: the session is spilled */
    struct rec_memory mem;
    rec_engine_memory(e, &mem);
    cr_assert_eq(mem.sessions, 0);
    r.now_ms = T0 + 3601 * 1000;
    cr_assert_eq(rec_engine_feed(e, &r, p2), REC_EAGAIN);
    cr_assert_eq(m.loads, 1, "the spill store was not read");
    rec_engine_memory(e, &mem);
    cr_assert_eq(mem.sessions, 0, "nothing changed");
    r.no_wait = 0;
    cr_assert_eq(rec_engine_feed(e, &r, p2), 10);
    cr_assert_eq(m.loads, 2);
    for (int i = 0; i < 10; i++)
        cr_assert_lt(in_page(p1, 10, p2[i].video_id), 0, "the seen filter came back with it");
    for (int i = 0; i < m.n; i++)
        free(m.blobs[i]);
    rec_engine_destroy(e);
}

/* What the user's session holds of creator 9000 and of pending impressions,
 * at now (the session is brought back from the spill store if it left). */
static void session_state(struct rec_engine *e, uint64_t user, int64_t now, float *affinity,
                          unsigned *pending)
{
    struct session_shard *sh = session_shard_of(&e->sessions, user);
    pthread_mutex_lock(&sh->lock);
    struct session *s = session_get(&e->sessions, sh, user, now, 1, engine_video_row_cb,
                                    engine_video_id_cb, e);
    cr_assert_not_null(s);
    *affinity = session_creator_affinity(s, 9000, now);
    *pending = s->pending_count;
    pthread_mutex_unlock(&sh->lock);
}

/* A crash after a session was spilled: the engine comes back from its last
 * snapshot and the log is replayed from there, but the spilled session
 * already holds the events between the snapshot and its spill. They must
 * not count in it twice (a skipped creator sinking twice as far, an
 * impression pending twice); later events count as usual. */
Test(persist, replay_after_a_crash_counts_a_spilled_sessions_events_once)
{
    struct mem_spill m = {0};
    struct config_rec c = test_config();
    c.session_ttl_s = 60;
    struct rec_engine *a = test_engine(&c);
    struct rec_spill spill = {.ctx = &m, .save = spill_save, .load = spill_load,
                              .erase = spill_erase};
    rec_engine_set_spill(a, &spill);
    rec_engine_tick(a, T0);
    add_videos(a, 1, 60, creator_mod30, OLD); /* video 1: creator 9000 */
    char *dir = temp_dir();
    char err[256];
    struct rec_mark mark = {.log_offset = 100, .event_ms = T0};
    cr_assert_eq(rec_engine_snapshot(a, dir, &mark, err, sizeof err), 0, "%s", err);

    /* After the snapshot: user 11 skips creator 9000 and leaves an
     * impression unanswered; then idles until the session is spilled. */
    struct event evs[2] = {ev(EVENT_SKIP, 11, 1, T0 + 1000, 0),
                           ev(EVENT_IMPRESSION, 11, 2, T0 + 2000, 0)};
    uint64_t offsets[2] = {100, 101};
    cr_assert_eq(rec_engine_observe_log(a, evs, offsets, 2), 2);
    float aff_a, aff_b;
    unsigned pend_a, pend_b;
    int64_t later = T0 + 120 * 1000;
    session_state(a, 11, T0 + 3000, &aff_a, &pend_a);
    cr_assert_lt(aff_a, -0.5f);
    cr_assert_eq(pend_a, 1);
    rec_engine_tick(a, later);
    struct rec_memory mem;
    rec_engine_memory(a, &mem);
    cr_assert_eq(mem.sessions, 0, "the session was spilled");

    /* The crash: a new engine from the snapshot, the log replayed from its
     * mark, the spill store as it was. */
    struct rec_mark got;
    int code = 0;
    struct rec_engine *b = rec_engine_load(&c, dir, &got, &code, err, sizeof err);
    cr_assert_not_null(b, "load: %s", err);
    rec_engine_set_spill(b, &spill);
    cr_assert_eq(got.log_offset, 100);
    cr_assert_eq(rec_engine_observe_log(b, evs, offsets, 2), 2);
    session_state(b, 11, T0 + 3000, &aff_b, &pend_b);
    cr_assert_float_eq(aff_b, aff_a, 1e-6, "the skip counted twice: %f against %f", (double)aff_b,
                       (double)aff_a);
    cr_assert_eq(pend_b, pend_a, "the impression is pending twice");

    /* The next event in the log is new to the session. */
    struct event next = ev(EVENT_SKIP, 11, 1, T0 + 2500, 0);
    uint64_t next_offset = 102;
    cr_assert_eq(rec_engine_observe_log(b, &next, &next_offset, 1), 1);
    session_state(b, 11, T0 + 3000, &aff_b, &pend_b);
    cr_assert_lt(aff_b, aff_a - 0.5f, "a later skip sinks the creator further");

    for (int i = 0; i < m.n; i++)
        free(m.blobs[i]);
    rec_engine_destroy(a);
    rec_engine_destroy(b);
    remove_dir(dir);
}

static int file_contains(const char *path, uint64_t id)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    int found = 0;
    for (long i = 0; i + 8 <= n && !found; i++)
        found = memcmp(buf + i, &id, 8) == 0;
    free(buf);
    return found;
}

Test(persist, forget_user_removes_all_state)
{
    struct config_rec c = test_config();
    struct rec_engine *e = test_engine(&c);
    struct mem_spill m = {0};
    struct rec_spill spill = {.ctx = &m, .save = spill_save, .load = spill_load,
                              .erase = spill_erase};
    rec_engine_set_spill(e, &spill);
    rec_engine_tick(e, T0);
    add_videos(e, 1, 200, creator_mod30, OLD);
    const uint64_t user = 0x5eed5eed5eed1ULL, other = 0x5eed5eed5eed2ULL;
    const char *interests[] = {"t1"};
    cr_assert_eq(rec_user_set_interests(e, user, interests, 1), 0);
    struct event x[] = {
        ev(EVENT_IMPRESSION, user, 5, T0, 0),       ev(EVENT_WATCH, user, 5, T0 + 1, 10000),
        ev(EVENT_LIKE, user, 5, T0 + 2, 0),         ev(EVENT_FOLLOW, user, 5, T0 + 3, 0),
        ev(EVENT_NOT_INTERESTED, user, 6, T0 + 4, 0), ev(EVENT_IMPRESSION, other, 5, T0 + 5, 0),
        ev(EVENT_WATCH, other, 5, T0 + 6, 10000),
    };
    cr_assert_eq(rec_engine_observe_batch(e, x, 7), 7);
    struct rec_feed_item page[10];
    feed(e, user, T0 + 10, 10, page);
    cr_assert(rec_user_admitted(e, user));
    struct rec_memory before, after;
    rec_engine_memory(e, &before);

    cr_assert_eq(rec_user_forget(e, user), 0);
    rec_engine_memory(e, &after);
    cr_assert_not(rec_user_admitted(e, user));
    cr_assert(rec_user_admitted(e, other), "other users keep their state");
    cr_assert_eq(after.users, before.users - 1);
    cr_assert_eq(after.sessions, before.sessions - 1);
    cr_assert_eq(m.nerased, 1);
    cr_assert_eq(m.erased[0], user, "the spilled copy is erased too");
    cr_assert_eq(rec_user_forget(e, user), REC_ENOENT, "nothing is left to forget");

    char *dir = temp_dir();
    char err[256], path[512];
    cr_assert_eq(rec_engine_snapshot(e, dir, NULL, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/rec.snapshot", dir);
    cr_assert_not(file_contains(path, user), "the snapshot holds no trace of the user id");
    cr_assert(file_contains(path, other), "(the scan does find ids that are there)");
    /* A returning user id starts from nothing: no follows, no blocked creator. */
    int n = feed(e, user, T0 + 20, 10, page);
    cr_assert_eq(n, 10);
    rec_engine_destroy(e);
    remove_dir(dir);
}

/* The snapshot is written by a forked child: feeds go on while it writes.
 * A FIFO in place of the temporary file holds the writer in open() until
 * this test reads from it; a feed must be served meanwhile (with the file
 * written under the engine lock, it would wait for ever). Then the writer
 * fails (a FIFO cannot be fsync'ed) and says so, naming the file. */
struct snap_call {
    struct rec_engine *e;
    const char *dir;
    int rc;
    char err[256];
};

static void *snapshot_main(void *arg)
{
    struct snap_call *s = arg;
    s->rc = rec_engine_snapshot(s->e, s->dir, NULL, s->err, sizeof s->err);
    return NULL;
}

static void *feed_main(void *arg)
{
    struct rec_engine *e = arg;
    struct rec_feed_item items[5];
    struct rec_feed_request r = {.user_id = 77, .now_ms = T0, .limit = 5};
    return (void *)(intptr_t)rec_engine_feed(e, &r, items);
}

Test(persist, feeds_are_served_while_a_snapshot_is_written, .timeout = 60)
{
    struct config_rec c = test_config();
    struct rec_engine *e = test_engine(&c);
    add_videos(e, 1, 200, NULL, OLD);
    char *dir = temp_dir();
    char fifo[512];
    snprintf(fifo, sizeof fifo, "%s/rec.snapshot.tmp", dir);
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    /* A lock this process holds (as the server holds its data directory's
     * and uploads'): the writer must not keep it once this process lets go. */
    char lockpath[512];
    snprintf(lockpath, sizeof lockpath, "%s/held.lock", dir);
    int held = open(lockpath, O_RDWR | O_CREAT, 0600);
    cr_assert_geq(held, 0);
    cr_assert_eq(flock(held, LOCK_EX), 0);
    struct snap_call s = {.e = e, .dir = dir};
    pthread_t snap, feed;
    cr_assert_eq(pthread_create(&snap, NULL, snapshot_main, &s), 0);
    usleep(200000); /* the writer is (very likely) blocked in open() by now */
    cr_assert_eq(pthread_create(&feed, NULL, feed_main, e), 0);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    void *served;
    cr_assert_eq(pthread_timedjoin_np(feed, &served, &deadline), 0,
                 "a feed waited for the snapshot to be written");
    cr_assert_eq((intptr_t)served, 5);
    close(held);
    int again = open(lockpath, O_RDWR);
    cr_assert_eq(flock(again, LOCK_EX | LOCK_NB), 0,
                 "the snapshot writer kept a copy of this process's locked descriptor");
    close(again);
    unlink(lockpath);
    /* Let the writer through: drain the FIFO. */
    int fd = open(fifo, O_RDONLY);
    cr_assert_geq(fd, 0);
    char buf[65536];
    size_t total = 0;
    for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;)
        total += (size_t)n;
    close(fd);
    pthread_join(snap, NULL);
    cr_assert_gt(total, 48, "the child wrote the snapshot into the FIFO");
    cr_assert_eq(s.rc, REC_EIO);
    cr_assert(strstr(s.err, "rec.snapshot.tmp"), "the error names the file: %s", s.err);
    char path[512];
    snprintf(path, sizeof path, "%s/rec.snapshot", dir);
    cr_assert_neq(access(path, F_OK), 0, "a failed snapshot leaves no file");
    unlink(fifo);
    /* And a normal one still works afterwards. */
    cr_assert_eq(rec_engine_snapshot(e, dir, NULL, s.err, sizeof s.err), 0, "%s", s.err);
    cr_assert_eq(access(path, F_OK), 0);
    remove_dir(dir);
    rec_engine_destroy(e);
}

/* Snapshots asked for at the same time (a periodic one and an erasure's)
 * are written one after the other: each is complete and loads. (No
 * .timeout: with two timed tests in one binary, Criterion 2.4 leaks 48
 * bytes, which LeakSanitizer reports.) */
Test(persist, concurrent_snapshots_are_serialised)
{
    struct config_rec c = test_config();
    struct rec_engine *e = test_engine(&c);
    add_videos(e, 1, 3000, NULL, OLD);
    struct event evs[4000];
    make_events(evs, 4000, 5, T0);
    rec_engine_observe_batch(e, evs, 4000);
    char *dir = temp_dir();
    struct snap_call s[2] = {{.e = e, .dir = dir}, {.e = e, .dir = dir}};
    for (int round = 0; round < 5; round++) {
        pthread_t t[2];
        for (int i = 0; i < 2; i++)
            cr_assert_eq(pthread_create(&t[i], NULL, snapshot_main, &s[i]), 0);
        for (int i = 0; i < 2; i++) {
            pthread_join(t[i], NULL);
            cr_assert_eq(s[i].rc, 0, "%s", s[i].err);
        }
        int code = 0;
        char err[256];
        struct rec_engine *back = rec_engine_load(&c, dir, NULL, &code, err, sizeof err);
        cr_assert_not_null(back, "round %d: %s", round, err);
        rec_engine_destroy(back);
    }
    remove_dir(dir);
    rec_engine_destroy(e);
}
