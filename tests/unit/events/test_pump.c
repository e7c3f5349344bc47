/*
 * The consumer pump: every record reaches the callback once, in order; the
 * offset is committed only after a successful checkpoint; a clean stop
 * commits what was applied, so a new pump goes on from there.
 */
#include "events/pump.h"

#include <criterion/criterion.h>
#include <ftw.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[256];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/reel-pump-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(pump, .init = setup, .fini = teardown);

struct sink {
    uint64_t next_expected;
    atomic_ullong applied;
    atomic_int checkpoints;
    atomic_int fail_checkpoints;
    bool out_of_order;
};

static int apply(void *ctx, const struct eventlog_record *recs, size_t n)
{
    struct sink *s = ctx;
    for (size_t i = 0; i < n; i++) {
        if (recs[i].offset != s->next_expected || recs[i].event.watched_ms != recs[i].offset)
            s->out_of_order = true;
        s->next_expected = recs[i].offset + 1;
    }
    atomic_fetch_add(&s->applied, n);
    return 0;
}

static int checkpoint(void *ctx, uint64_t next)
{
    struct sink *s = ctx;
    (void)next;
    if (atomic_load(&s->fail_checkpoints))
        return -1;
    atomic_fetch_add(&s->checkpoints, 1);
    return 0;
}

static struct eventlog *open_log(void)
{
    struct eventlog_options o;
    eventlog_options_init(&o);
    o.region_id = 1;
    o.fsync = false;
    struct eventlog *log;
    char err[256];
    cr_assert_eq(eventlog_open(&log, dir, &o, err, sizeof err), EVENTLOG_OK, "%s", err);
    return log;
}

static void append(struct eventlog *log, uint64_t first, size_t n)
{
    struct event ev[100];
    for (size_t i = 0; i < n; i++) {
        ev[i] = (struct event){.type = EVENT_PLAY, .user_id = 1, .video_id = 2};
        ev[i].watched_ms = (uint32_t)(first + i); /* = its offset: checked in apply */
    }
    cr_assert_eq(eventlog_append(log, ev, n, NULL), EVENTLOG_OK);
}

static void wait_applied(struct sink *s, uint64_t n)
{
    for (int i = 0; i < 500 && atomic_load(&s->applied) < n; i++)
        usleep(10000);
    cr_assert_eq(atomic_load(&s->applied), n);
}

Test(pump, delivers_in_order_and_commits_after_checkpoints)
{
    struct eventlog *log = open_log();
    static struct sink s;
    struct eventlog_pump_options o = {.consumer = "views",
                                      .batch = 64,
                                      .commit_every_ms = 50,
                                      .apply = apply,
                                      .checkpoint = checkpoint,
                                      .ctx = &s};
    struct eventlog_pump *p;
    cr_assert_eq(eventlog_pump_start(&p, log, &o), EVENTLOG_OK);
    for (uint64_t b = 0; b < 10; b++)
        append(log, b * 100, 100);
    wait_applied(&s, 1000);
    cr_assert_not(s.out_of_order);
    cr_assert_eq(eventlog_pump_position(p), 1000);
    for (int i = 0; i < 100 && atomic_load(&s.checkpoints) == 0; i++)
        usleep(10000);
    cr_assert_gt(atomic_load(&s.checkpoints), 0);

    /* While checkpoints fail, the committed offset stays put. */
    atomic_store(&s.fail_checkpoints, 1);
    usleep(100000);
    struct eventlog_consumer *c;
    cr_assert_eq(eventlog_consumer_open(log, "views", &c), EVENTLOG_OK);
    uint64_t committed = eventlog_consumer_committed(c);
    eventlog_consumer_close(c);
    append(log, 1000, 100);
    wait_applied(&s, 1100);
    usleep(150000);
    cr_assert_eq(eventlog_consumer_open(log, "views", &c), EVENTLOG_OK);
    cr_assert_eq(eventlog_consumer_committed(c), committed, "no commit without a checkpoint");
    eventlog_consumer_close(c);

    /* A clean stop checkpoints and commits everything applied. */
    atomic_store(&s.fail_checkpoints, 0);
    eventlog_pump_stop(p);
    cr_assert_eq(eventlog_consumer_open(log, "views", &c), EVENTLOG_OK);
    cr_assert_eq(eventlog_consumer_committed(c), 1100);
    eventlog_consumer_close(c);

    /* A new pump goes on from there: nothing is applied twice. */
    static struct sink s2;
    s2.next_expected = 1100;
    o.ctx = &s2;
    cr_assert_eq(eventlog_pump_start(&p, log, &o), EVENTLOG_OK);
    append(log, 1100, 50);
    wait_applied(&s2, 50);
    cr_assert_not(s2.out_of_order);
    eventlog_pump_stop(p);
    eventlog_close(log);
}
