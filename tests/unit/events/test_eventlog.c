/*
 * The event log: appends come back in order with dense offsets; batches are
 * whole; the log survives reopening; segments roll and retention deletes
 * them without passing a consumer; consumers keep their own durable
 * offsets; and the durability promises hold under injected write and fsync
 * failures and torn tails (a crash in the middle of a write).
 */
#include "core/alloc.h"
#include "events/eventlog.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEADER 64
#define RECORD 64

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
    snprintf(dir, sizeof dir, "/tmp/reel-eventlog-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    eventlog_syscalls_reset();
}

static void teardown(void)
{
    eventlog_syscalls_reset();
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(eventlog, .init = setup, .fini = teardown);

static struct eventlog *open_log(const struct eventlog_options *opts)
{
    struct eventlog *log = NULL;
    char err[256];
    int rc = eventlog_open(&log, dir, opts, err, sizeof err);
    cr_assert_eq(rc, EVENTLOG_OK, "open: %s", err);
    return log;
}

static struct eventlog_options options(void)
{
    struct eventlog_options o;
    eventlog_options_init(&o);
    o.region_id = 1;
    return o;
}

/* Event number k of batch b: every field derived from (b, k) so a reader can
 * tell exactly which batch and position a record came from. */
static struct event make_event(uint32_t batch, uint32_t k)
{
    struct event e = {0};
    e.type = (uint8_t)(1 + (batch + k) % 5);
    e.user_id = 1000 + batch;
    e.video_id = 500000 + k;
    e.creator_id = 77;
    e.at_ms = 1700000000000 + batch;
    e.watched_ms = batch * 1000 + k;
    e.duration_ms = 15000;
    return e;
}

static void append_batch(struct eventlog *log, uint32_t batch, uint32_t n, uint64_t *first)
{
    struct event ev[64];
    cr_assert_leq(n, 64);
    for (uint32_t k = 0; k < n; k++)
        ev[k] = make_event(batch, k);
    cr_assert_eq(eventlog_append(log, ev, n, first), EVENTLOG_OK, "batch %u", batch);
}

static size_t read_all_records(struct eventlog *log, struct eventlog_record *out, size_t max)
{
    size_t total = 0;
    uint64_t offset = 0;
    for (;;) {
        size_t n = 0;
        uint64_t next;
        cr_assert_eq(eventlog_read(log, offset, out + total, max - total, &n, &next), EVENTLOG_OK);
        if (n == 0)
            break;
        total += n;
        offset = next;
    }
    return total;
}

static void assert_record_is(const struct eventlog_record *r, uint32_t batch, uint32_t k)
{
    struct event want = make_event(batch, k);
    cr_assert_eq(r->event.type, want.type);
    cr_assert_eq(r->event.user_id, want.user_id);
    cr_assert_eq(r->event.video_id, want.video_id);
    cr_assert_eq(r->event.creator_id, want.creator_id);
    cr_assert_eq(r->event.at_ms, want.at_ms);
    cr_assert_eq(r->event.watched_ms, want.watched_ms);
    cr_assert_eq(r->event.duration_ms, want.duration_ms);
}

static char *last_segment_path(char *out, size_t size)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ls %s/*.seg | sort | tail -n 1", dir);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    cr_assert_not_null(fgets(out, (int)size, p));
    pclose(p);
    out[strcspn(out, "\n")] = '\0';
    return out;
}

static long file_size(const char *path)
{
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    return (long)st.st_size;
}

static int count_segments(void)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ls %s/*.seg 2>/dev/null | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int n = 0;
    cr_assert_eq(fscanf(p, "%d", &n), 1);
    pclose(p);
    return n;
}

/* ---- basics --------------------------------------------------------------- */

Test(eventlog, append_then_read_in_order)
{
    struct eventlog_options o = options();
    struct eventlog *log = open_log(&o);
    uint64_t first;
    for (uint32_t b = 0; b < 10; b++) {
        append_batch(log, b, b + 1, &first);
        cr_assert_eq(first, (uint64_t)b * (b + 1) / 2, "offsets are dense");
    }
    cr_assert_eq(eventlog_end_offset(log), 55);
    struct eventlog_record recs[64];
    cr_assert_eq(read_all_records(log, recs, 64), 55);
    size_t i = 0;
    for (uint32_t b = 0; b < 10; b++)
        for (uint32_t k = 0; k <= b; k++, i++) {
            cr_assert_eq(recs[i].offset, i);
            assert_record_is(&recs[i], b, k);
        }
    /* Reading from the middle, and past the end. */
    size_t n;
    uint64_t next;
    cr_assert_eq(eventlog_read(log, 50, recs, 64, &n, &next), EVENTLOG_OK);
    cr_assert_eq(n, 5);
    cr_assert_eq(next, 55);
    cr_assert_eq(eventlog_read(log, 55, recs, 64, &n, &next), EVENTLOG_OK);
    cr_assert_eq(n, 0);
    eventlog_close(log);
}

Test(eventlog, rejects_empty_and_oversized_batches)
{
    struct eventlog_options o = options();
    struct eventlog *log = open_log(&o);
    struct event e = make_event(0, 0);
    cr_assert_eq(eventlog_append(log, &e, 0, NULL), EVENTLOG_INVALID);
    cr_assert_eq(eventlog_append(log, &e, EVENTLOG_BATCH_MAX + 1, NULL), EVENTLOG_INVALID);
    cr_assert_eq(eventlog_end_offset(log), 0);
    eventlog_close(log);
}

Test(eventlog, survives_reopen_and_continues_offsets)
{
    struct eventlog_options o = options();
    struct eventlog *log = open_log(&o);
    append_batch(log, 0, 7, NULL);
    eventlog_close(log);
    log = open_log(&o);
    cr_assert_eq(eventlog_end_offset(log), 7);
    uint64_t first;
    append_batch(log, 1, 3, &first);
    cr_assert_eq(first, 7);
    struct eventlog_record recs[16];
    cr_assert_eq(read_all_records(log, recs, 16), 10);
    assert_record_is(&recs[6], 0, 6);
    assert_record_is(&recs[7], 1, 0);
    eventlog_close(log);
}

Test(eventlog, refuses_a_segment_of_another_region)
{
    struct eventlog_options o = options();
    struct eventlog *log = open_log(&o);
    append_batch(log, 0, 2, NULL);
    eventlog_close(log);
    o.region_id = 2;
    char err[256];
    cr_assert_neq(eventlog_open(&log, dir, &o, err, sizeof err), EVENTLOG_OK);
    cr_assert(strstr(err, "not a segment of this log"), "%s", err);
}

/* ---- group commit under concurrency -------------------------------------- */

#define THREADS 8
#define BATCHES_PER_THREAD 200

struct worker {
    struct eventlog *log;
    uint32_t id;
    uint64_t firsts[BATCHES_PER_THREAD];
};

static void *append_worker(void *arg)
{
    struct worker *w = arg;
    for (uint32_t b = 0; b < BATCHES_PER_THREAD; b++) {
        struct event ev[10];
        uint32_t batch = w->id * BATCHES_PER_THREAD + b;
        for (uint32_t k = 0; k < 10; k++)
            ev[k] = make_event(batch, k);
        if (eventlog_append(w->log, ev, 10, &w->firsts[b]) != EVENTLOG_OK)
            w->firsts[b] = UINT64_MAX;
    }
    return NULL;
}

Test(eventlog, concurrent_batches_are_whole_and_share_syncs)
{
    struct eventlog_options o = options();
    o.segment_bytes = 64 * 1024; /* rolls several times */
    struct eventlog *log = open_log(&o);
    static struct worker workers[THREADS];
    pthread_t t[THREADS];
    for (uint32_t i = 0; i < THREADS; i++) {
        workers[i].log = log;
        workers[i].id = i;
        pthread_create(&t[i], NULL, append_worker, &workers[i]);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    size_t total = THREADS * BATCHES_PER_THREAD * 10;
    cr_assert_eq(eventlog_end_offset(log), total);
    struct eventlog_record *recs = reel_calloc(total, sizeof *recs);
    cr_assert_eq(read_all_records(log, recs, total), total);
    for (uint32_t i = 0; i < THREADS; i++)
        for (uint32_t b = 0; b < BATCHES_PER_THREAD; b++) {
            uint64_t first = workers[i].firsts[b];
            cr_assert_neq(first, UINT64_MAX);
            for (uint32_t k = 0; k < 10; k++)
                assert_record_is(&recs[first + k], i * BATCHES_PER_THREAD + b, k);
        }
    struct eventlog_stats st;
    eventlog_get_stats(log, &st);
    cr_assert_eq(st.appends, THREADS * BATCHES_PER_THREAD);
    cr_assert_leq(st.syncs, st.appends);
    cr_assert_gt(st.segments, 3, "segments: %llu", (unsigned long long)st.segments);
    reel_free(recs);
    eventlog_close(log);
    /* Reopening finds the same records across all the segments. */
    log = open_log(&o);
    cr_assert_eq(eventlog_end_offset(log), total);
    cr_assert_eq(eventlog_first_offset(log), 0);
    eventlog_close(log);
}

/* ---- segments and retention ----------------------------------------------- */

Test(eventlog, size_retention_keeps_what_a_consumer_needs)
{
    struct eventlog_options o = options();
    o.segment_bytes = HEADER + 10 * RECORD; /* 10 records per segment */
    o.retention_bytes = 3 * (HEADER + 10 * RECORD);
    struct eventlog *log = open_log(&o);
    struct eventlog_consumer *c;
    cr_assert_eq(eventlog_consumer_open(log, "rec", &c), EVENTLOG_OK);
    for (uint32_t b = 0; b < 20; b++)
        append_batch(log, b, 5, NULL); /* 100 records, 10 segments */
    /* The consumer has committed nothing: everything is kept. */
    cr_assert_eq(eventlog_first_offset(log), 0);
    cr_assert_geq(count_segments(), 10);

    /* It commits 45: segments wholly below 45 may go (down to the limit). */
    cr_assert_eq(eventlog_consumer_commit(c, 45), EVENTLOG_OK);
    size_t deleted = 0;
    cr_assert_eq(eventlog_retain(log, 0, &deleted), EVENTLOG_OK);
    cr_assert_eq(deleted, 4);
    cr_assert_eq(eventlog_first_offset(log), 40);
    cr_assert_eq(count_segments(), 7);

    /* Reading from 0 starts at the oldest retained record. */
    struct eventlog_record recs[8];
    size_t n;
    uint64_t next;
    cr_assert_eq(eventlog_read(log, 0, recs, 8, &n, &next), EVENTLOG_OK);
    cr_assert_eq(recs[0].offset, 40);

    /* Without the consumer, the size limit alone rules. */
    cr_assert_eq(eventlog_consumer_delete(log, "rec"), EVENTLOG_OK);
    cr_assert_eq(eventlog_retain(log, 0, &deleted), EVENTLOG_OK);
    struct eventlog_stats st;
    eventlog_get_stats(log, &st);
    cr_assert_leq(st.bytes, o.retention_bytes);
    cr_assert_eq(eventlog_first_offset(log), 80);
    eventlog_consumer_close(c);
    eventlog_close(log);

    log = open_log(&o);
    cr_assert_eq(eventlog_first_offset(log), 80, "retention is what is on disk");
    cr_assert_eq(eventlog_end_offset(log), 100);
    eventlog_close(log);
}

Test(eventlog, age_retention_can_be_told_to_ignore_consumers)
{
    struct eventlog_options o = options();
    o.segment_bytes = HEADER + 10 * RECORD;
    o.retention_age_ms = 60000;
    struct eventlog *log = open_log(&o);
    struct eventlog_consumer *c;
    cr_assert_eq(eventlog_consumer_open(log, "slow", &c), EVENTLOG_OK);
    for (uint32_t b = 0; b < 6; b++)
        append_batch(log, b, 10, NULL);
    int64_t later = 1LL << 50; /* far in the future: every segment is old */
    size_t deleted;
    cr_assert_eq(eventlog_retain(log, later, &deleted), EVENTLOG_OK);
    cr_assert_eq(deleted, 0, "the slow consumer holds everything");
    eventlog_close(log);

    o.retention_ignores_consumers = true;
    log = open_log(&o);
    cr_assert_eq(eventlog_retain(log, later, &deleted), EVENTLOG_OK);
    cr_assert_eq(deleted, 6, "every segment but the active one");
    cr_assert_eq(eventlog_first_offset(log), 60);
    /* The consumer's position is behind the log: reading jumps to the oldest. */
    struct eventlog_consumer *c2;
    cr_assert_eq(eventlog_consumer_open(log, "slow", &c2), EVENTLOG_OK);
    cr_assert_eq(eventlog_consumer_committed(c2), 0);
    append_batch(log, 9, 2, NULL);
    struct eventlog_record recs[4];
    size_t n;
    cr_assert_eq(eventlog_consumer_read(c2, recs, 4, &n), EVENTLOG_OK);
    cr_assert_eq(n, 2);
    cr_assert_eq(recs[0].offset, 60);
    eventlog_consumer_close(c);
    eventlog_consumer_close(c2);
    eventlog_close(log);
}

Test(eventlog, consumers_resume_from_their_committed_offsets)
{
    struct eventlog_options o = options();
    struct eventlog *log = open_log(&o);
    for (uint32_t b = 0; b < 4; b++)
        append_batch(log, b, 5, NULL);
    struct eventlog_consumer *a, *b;
    cr_assert_eq(eventlog_consumer_open(log, "stats", &a), EVENTLOG_OK);
    cr_assert_eq(eventlog_consumer_open(log, "rec-eu", &b), EVENTLOG_OK);
    struct eventlog_record recs[32];
    size_t n;
    cr_assert_eq(eventlog_consumer_read(a, recs, 7, &n), EVENTLOG_OK);
    cr_assert_eq(n, 7);
    cr_assert_eq(eventlog_consumer_commit(a, 7), EVENTLOG_OK);
    cr_assert_eq(eventlog_consumer_read(a, recs, 32, &n), EVENTLOG_OK);
    cr_assert_eq(n, 13, "the rest, uncommitted");
    cr_assert_eq(eventlog_consumer_read(b, recs, 32, &n), EVENTLOG_OK);
    cr_assert_eq(n, 20, "consumers are independent");
    cr_assert_eq(eventlog_consumer_commit(b, 21), EVENTLOG_INVALID, "cannot commit the future");
    struct eventlog_consumer *bad;
    cr_assert_eq(eventlog_consumer_open(log, "../etc", &bad), EVENTLOG_INVALID);
    eventlog_consumer_close(a);
    eventlog_consumer_close(b);
    eventlog_close(log);

    log = open_log(&o);
    cr_assert_eq(eventlog_consumer_open(log, "stats", &a), EVENTLOG_OK);
    cr_assert_eq(eventlog_consumer_committed(a), 7);
    cr_assert_eq(eventlog_consumer_read(a, recs, 32, &n), EVENTLOG_OK);
    cr_assert_eq(n, 13);
    cr_assert_eq(recs[0].offset, 7);
    assert_record_is(&recs[0], 1, 2);
    eventlog_consumer_close(a);
    eventlog_close(log);
}

/* ---- torn tails ----------------------------------------------------------- */

static void append_bytes(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_APPEND);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, data, len), (ssize_t)len);
    close(fd);
}

Test(eventlog, recovery_cuts_a_partial_record)
{
    struct eventlog_options o = options();
    struct eventlog *log = open_log(&o);
    append_batch(log, 0, 3, NULL);
    append_batch(log, 1, 4, NULL);
    eventlog_close(log);
    char path[512];
    last_segment_path(path, sizeof path);
    long good = file_size(path);
    char junk[30];
    memset(junk, 0x5A, sizeof junk);
    append_bytes(path, junk, sizeof junk);

    /* Read-only (a tool while the server is down): reads the valid prefix,
     * changes nothing. */
    struct eventlog_options ro = o;
    ro.read_only = true;
    log = open_log(&ro);
    cr_assert_eq(eventlog_end_offset(log), 7);
    eventlog_close(log);
    cr_assert_eq(file_size(path), good + 30);

    log = open_log(&o);
    cr_assert_eq(eventlog_end_offset(log), 7);
    cr_assert_eq(file_size(path), good, "the torn bytes are cut");
    uint64_t first;
    append_batch(log, 2, 2, &first);
    cr_assert_eq(first, 7);
    struct eventlog_record recs[16];
    cr_assert_eq(read_all_records(log, recs, 16), 9);
    assert_record_is(&recs[8], 2, 1);
    eventlog_close(log);
}

Test(eventlog, recovery_cuts_a_damaged_batch_whole)
{
    struct eventlog_options o = options();
    struct eventlog *log = open_log(&o);
    append_batch(log, 0, 3, NULL);
    append_batch(log, 1, 5, NULL);
    eventlog_close(log);
    char path[512];
    last_segment_path(path, sizeof path);
    /* Flip a byte in the 2nd record of batch 1 (record 4 of the segment). */
    int fd = open(path, O_RDWR);
    unsigned char byte;
    off_t at = HEADER + 4 * RECORD + 20;
    cr_assert_eq(pread(fd, &byte, 1, at), 1);
    byte ^= 0x01;
    cr_assert_eq(pwrite(fd, &byte, 1, at), 1);
    close(fd);

    log = open_log(&o);
    cr_assert_eq(eventlog_end_offset(log), 3, "batch 1 goes whole, batch 0 stays");
    cr_assert_eq(file_size(path), HEADER + 3 * RECORD);
    eventlog_close(log);
}

/* Fault injection: pwrite writes only `budget` more bytes, then fails —
 * what a crash in the middle of a write leaves behind. */
static long write_budget = -1;
static int truncate_fails;

static ssize_t short_pwrite(int fd, const void *buf, size_t n, off_t off)
{
    if (write_budget < 0)
        return pwrite(fd, buf, n, off);
    if (write_budget == 0) {
        errno = EIO;
        return -1;
    }
    size_t k = n < (size_t)write_budget ? n : (size_t)write_budget;
    write_budget -= (long)k;
    return pwrite(fd, buf, k, off);
}

static int failing_ftruncate(int fd, off_t len)
{
    if (truncate_fails) {
        errno = EIO;
        return -1;
    }
    return ftruncate(fd, len);
}

Test(eventlog, a_batch_torn_by_a_crash_is_not_half_in_the_log)
{
    struct eventlog_options o = options();
    struct eventlog *log = open_log(&o);
    append_batch(log, 0, 4, NULL);
    struct eventlog_syscalls calls = {.pwrite = short_pwrite, .ftruncate = failing_ftruncate};
    eventlog_syscalls_set(&calls);
    write_budget = 2 * RECORD + 10; /* two whole records and a piece of the third */
    truncate_fails = 1;             /* and no chance to clean up: as if the process died */
    struct event ev[5];
    for (uint32_t k = 0; k < 5; k++)
        ev[k] = make_event(1, k);
    cr_assert_eq(eventlog_append(log, ev, 5, NULL), EVENTLOG_FAILED);
    cr_assert_eq(eventlog_append(log, ev, 1, NULL), EVENTLOG_FAILED, "failed logs stay failed");
    eventlog_close(log);
    eventlog_syscalls_reset();
    char path[512];
    last_segment_path(path, sizeof path);
    cr_assert_eq(file_size(path), HEADER + 6 * RECORD + 10, "the torn batch is on disk");

    log = open_log(&o);
    cr_assert_eq(eventlog_end_offset(log), 4, "only whole batches survive recovery");
    cr_assert_eq(file_size(path), HEADER + 4 * RECORD);
    struct eventlog_record recs[8];
    cr_assert_eq(read_all_records(log, recs, 8), 4);
    assert_record_is(&recs[3], 0, 3);
    eventlog_close(log);
}

Test(eventlog, a_failed_write_fails_its_batch_and_the_log_goes_on)
{
    struct eventlog_options o = options();
    struct eventlog *log = open_log(&o);
    append_batch(log, 0, 3, NULL);
    struct eventlog_syscalls calls = {.pwrite = short_pwrite};
    eventlog_syscalls_set(&calls);
    write_budget = RECORD + 5; /* ENOSPC-like: a piece is written, then an error */
    struct event ev[4];
    for (uint32_t k = 0; k < 4; k++)
        ev[k] = make_event(1, k);
    cr_assert_eq(eventlog_append(log, ev, 4, NULL), EVENTLOG_IO);
    write_budget = -1;
    uint64_t first;
    append_batch(log, 2, 2, &first);
    cr_assert_eq(first, 3, "the failed batch's offsets are handed out again");
    struct eventlog_record recs[8];
    cr_assert_eq(read_all_records(log, recs, 8), 5);
    assert_record_is(&recs[2], 0, 2);
    assert_record_is(&recs[3], 2, 0);
    eventlog_close(log);
    eventlog_syscalls_reset();
    log = open_log(&o);
    cr_assert_eq(eventlog_end_offset(log), 5);
    eventlog_close(log);
}

static int fsync_failures;

static int failing_fdatasync(int fd)
{
    if (fsync_failures > 0) {
        fsync_failures--;
        errno = EIO;
        return -1;
    }
    return fdatasync(fd);
}

Test(eventlog, a_failed_fsync_stops_the_log_until_reopened)
{
    struct eventlog_options o = options();
    struct eventlog *log = open_log(&o);
    append_batch(log, 0, 3, NULL);
    struct eventlog_syscalls calls = {.fdatasync = failing_fdatasync};
    eventlog_syscalls_set(&calls);
    fsync_failures = 1;
    struct event e = make_event(1, 0);
    cr_assert_eq(eventlog_append(log, &e, 1, NULL), EVENTLOG_FAILED);
    cr_assert_eq(eventlog_append(log, &e, 1, NULL), EVENTLOG_FAILED);
    struct eventlog_stats st;
    eventlog_get_stats(log, &st);
    cr_assert(st.failed);
    /* What was acknowledged is still readable. */
    struct eventlog_record recs[8];
    cr_assert_eq(read_all_records(log, recs, 8), 3);
    eventlog_close(log);
    eventlog_syscalls_reset();
    log = open_log(&o);
    cr_assert_eq(eventlog_end_offset(log), 3, "the unacknowledged batch was cut");
    append_batch(log, 2, 1, NULL);
    eventlog_close(log);
}

/* Many writers, one injected write failure: exactly the acknowledged batches
 * are in the log, each whole and in one piece. */
static int write_calls_until_failure;

static ssize_t pwrite_fail_once(int fd, const void *buf, size_t n, off_t off)
{
    if (__atomic_sub_fetch(&write_calls_until_failure, 1, __ATOMIC_SEQ_CST) == 0) {
        errno = ENOSPC;
        return -1;
    }
    return pwrite(fd, buf, n, off);
}

Test(eventlog, only_acknowledged_batches_survive_a_failure_under_load)
{
    struct eventlog_options o = options();
    struct eventlog *log = open_log(&o);
    write_calls_until_failure = 20;
    struct eventlog_syscalls calls = {.pwrite = pwrite_fail_once};
    eventlog_syscalls_set(&calls);
    static struct worker workers[THREADS];
    pthread_t t[THREADS];
    for (uint32_t i = 0; i < THREADS; i++) {
        workers[i].log = log;
        workers[i].id = i;
        pthread_create(&t[i], NULL, append_worker, &workers[i]);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    eventlog_close(log);
    eventlog_syscalls_reset();

    log = open_log(&o);
    size_t acked = 0;
    for (int i = 0; i < THREADS; i++)
        for (int b = 0; b < BATCHES_PER_THREAD; b++)
            acked += workers[i].firsts[b] != UINT64_MAX;
    cr_assert_lt(acked, THREADS * BATCHES_PER_THREAD, "the failure hit some batches");
    cr_assert_eq(eventlog_end_offset(log), acked * 10);
    struct eventlog_record *recs = reel_calloc(acked * 10 + 1, sizeof *recs);
    cr_assert_eq(read_all_records(log, recs, acked * 10), acked * 10);
    for (uint32_t i = 0; i < THREADS; i++)
        for (uint32_t b = 0; b < BATCHES_PER_THREAD; b++) {
            uint64_t first = workers[i].firsts[b];
            if (first == UINT64_MAX)
                continue;
            for (uint32_t k = 0; k < 10; k++)
                assert_record_is(&recs[first + k], i * BATCHES_PER_THREAD + b, k);
        }
    reel_free(recs);
    eventlog_close(log);
}

Test(eventlog, wait_returns_when_an_offset_becomes_durable)
{
    struct eventlog_options o = options();
    o.fsync = false;
    struct eventlog *log = open_log(&o);
    cr_assert_not(eventlog_wait(log, 0, 20));
    append_batch(log, 0, 1, NULL);
    cr_assert(eventlog_wait(log, 0, 20));
    eventlog_close(log);
}

/* ---- asynchronous appends ------------------------------------------------------ */

struct async_result {
    int calls;
    int status;
    uint64_t first;
};

static pthread_mutex_t async_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_done(void *arg, int status, uint64_t first)
{
    struct async_result *r = arg;
    pthread_mutex_lock(&async_lock);
    r->calls++;
    r->status = status;
    r->first = first;
    pthread_mutex_unlock(&async_lock);
}

static int settled(struct async_result *r, int n)
{
    int done = 0;
    pthread_mutex_lock(&async_lock);
    for (int i = 0; i < n; i++)
        done += r[i].calls;
    pthread_mutex_unlock(&async_lock);
    return done;
}

Test(eventlog, async_appends_settle_once_in_order)
{
    struct eventlog_options o = options();
    struct eventlog *log = open_log(&o);
    static struct async_result res[300];
    struct event ev[10];
    for (uint32_t b = 0; b < 300; b++) {
        for (uint32_t k = 0; k < 10; k++)
            ev[k] = make_event(b, k);
        cr_assert_eq(eventlog_append_async(log, ev, 10, on_done, &res[b]), EVENTLOG_OK);
    }
    for (int spin = 0; spin < 2000 && settled(res, 300) < 300; spin++)
        usleep(1000);
    cr_assert_eq(settled(res, 300), 300);
    for (uint32_t b = 0; b < 300; b++) {
        cr_assert_eq(res[b].calls, 1);
        cr_assert_eq(res[b].status, EVENTLOG_OK);
        cr_assert_eq(res[b].first, (uint64_t)b * 10, "batch %u", b);
    }
    struct eventlog_stats st;
    eventlog_get_stats(log, &st);
    cr_assert_lt(st.syncs, 300, "async batches share fsyncs (%llu syncs)",
                 (unsigned long long)st.syncs);
    /* A synchronous append after them lands after them. */
    uint64_t first;
    append_batch(log, 999, 1, &first);
    cr_assert_eq(first, 3000);
    eventlog_close(log);
    log = open_log(&o);
    struct eventlog_record *recs = reel_calloc(3001, sizeof *recs);
    cr_assert_eq(read_all_records(log, recs, 3001), 3001);
    assert_record_is(&recs[2999], 299, 9);
    reel_free(recs);
    eventlog_close(log);
}

Test(eventlog, async_append_reports_a_failed_write)
{
    struct eventlog_options o = options();
    struct eventlog *log = open_log(&o);
    append_batch(log, 0, 2, NULL);
    struct eventlog_syscalls calls = {.pwrite = short_pwrite};
    eventlog_syscalls_set(&calls);
    write_budget = 0; /* the next write fails */
    static struct async_result r[2];
    struct event e = make_event(1, 0);
    cr_assert_eq(eventlog_append_async(log, &e, 1, on_done, &r[0]), EVENTLOG_OK);
    for (int spin = 0; spin < 2000 && settled(r, 1) < 1; spin++)
        usleep(1000);
    cr_assert_eq(r[0].calls, 1);
    cr_assert_eq(r[0].status, EVENTLOG_IO);
    write_budget = -1;
    cr_assert_eq(eventlog_append_async(log, &e, 1, on_done, &r[1]), EVENTLOG_OK);
    eventlog_close(log); /* waits for the pending batch and its callback */
    cr_assert_eq(r[1].calls, 1);
    cr_assert_eq(r[1].status, EVENTLOG_OK);
    cr_assert_eq(r[1].first, 2, "the failed batch's offset is handed out again");
}

/* Erasure: a user's records become tombstones in place; offsets, other
 * users' records, batch boundaries and later appends are untouched, and the
 * erased ids are gone from the files. */
Test(eventlog, erase_user_rewrites_records_as_tombstones)
{
    struct eventlog_options o;
    eventlog_options_init(&o);
    o.region_id = 1;
    o.segment_bytes = 64 * 40; /* several segments */
    struct eventlog *log;
    char err[256];
    cr_assert_eq(eventlog_open(&log, dir, &o, err, sizeof err), EVENTLOG_OK, "%s", err);
    const uint64_t victim = 0x0123456789abcdefULL, other = 0x0fedcba987654321ULL;
    struct event batch[10];
    for (int b = 0; b < 20; b++) {
        for (int i = 0; i < 10; i++) {
            memset(&batch[i], 0, sizeof batch[i]);
            batch[i].type = EVENT_WATCH;
            batch[i].user_id = (i % 3 == 0) ? victim : other;
            batch[i].video_id = 1000 + (uint64_t)i;
            batch[i].at_ms = 1767225600000 + b;
            batch[i].watched_ms = 5000;
        }
        cr_assert_eq(eventlog_append(log, batch, 10, NULL), EVENTLOG_OK);
    }
    uint64_t erased = 0;
    cr_assert_eq(eventlog_erase_user(log, victim, &erased), EVENTLOG_OK);
    cr_assert_eq(erased, 20 * 4);
    /* Appends go on after an erasure. */
    for (int i = 0; i < 10; i++)
        batch[i].user_id = other;
    cr_assert_eq(eventlog_append(log, batch, 10, NULL), EVENTLOG_OK);
    struct eventlog_record recs[300];
    size_t n = 0, total = 0, tombstones = 0;
    uint64_t at = 0, next;
    while (eventlog_read(log, at, recs, 300, &n, &next) == EVENTLOG_OK && n) {
        for (size_t i = 0; i < n; i++) {
            cr_assert_eq(recs[i].offset, at + i, "offsets stay dense");
            if (recs[i].event.type == EVENT_ERASED) {
                tombstones++;
                cr_assert_eq(recs[i].event.user_id, 0);
                cr_assert_eq(recs[i].event.video_id, 0);
                cr_assert_eq(recs[i].event.at_ms, 0);
            } else if (recs[i].offset < 200) {
                cr_assert_eq(recs[i].event.user_id, other);
            }
        }
        total += n;
        at = next;
    }
    cr_assert_eq(total, 210);
    cr_assert_eq(tombstones, 80);
    eventlog_close(log);

    /* The files hold the victim's id nowhere; reopening recovers nothing away. */
    char cmd[512];
    unsigned char le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (unsigned char)(victim >> (8 * i));
    snprintf(cmd, sizeof cmd, "cat %s/*.seg", dir);
    FILE *p = popen(cmd, "r");
    static unsigned char data[1 << 20];
    size_t len = fread(data, 1, sizeof data, p);
    pclose(p);
    cr_assert_gt(len, 0);
    for (size_t i = 0; i + 8 <= len; i++)
        cr_assert_neq(memcmp(data + i, le, 8), 0, "victim id still at byte %zu", i);
    cr_assert_eq(eventlog_open(&log, dir, &o, err, sizeof err), EVENTLOG_OK, "%s", err);
    cr_assert_eq(eventlog_end_offset(log), 210);
    eventlog_close(log);
}

/* Copies at replica sites: identical after appends and a roll, a copy with a
 * missing tail or extra bytes or marked STALE is brought back in step at the
 * next open, and a copy that cannot be written is dropped (the primary goes
 * on and the batch is still acknowledged). */
static bool files_equal(const char *a, const char *b)
{
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "cmp -s %s %s", a, b);
    return system(cmd) == 0;
}

Test(eventlog, mirrors_stay_identical_and_heal)
{
    char copy[300], seg_a[600], seg_b[600];
    (void)seg_a;
    snprintf(copy, sizeof copy, "%s/copy", dir);
    char primary[300];
    snprintf(primary, sizeof primary, "%s/primary", dir);
    struct eventlog_options o;
    eventlog_options_init(&o);
    o.region_id = 1;
    o.segment_bytes = 64 * 20;
    o.mirror_dirs[0] = copy;
    o.mirror_count = 1;
    struct eventlog *log;
    char err[256];
    cr_assert_eq(eventlog_open(&log, primary, &o, err, sizeof err), EVENTLOG_OK, "%s", err);
    struct event ev[8];
    memset(ev, 0, sizeof ev);
    for (int i = 0; i < 8; i++) {
        ev[i].type = EVENT_PLAY;
        ev[i].user_id = 77;
        ev[i].video_id = (uint64_t)i + 1;
    }
    for (int b = 0; b < 6; b++)
        cr_assert_eq(eventlog_append(log, ev, 8, NULL), EVENTLOG_OK);
    cr_assert_eq(eventlog_mirrors_healthy(log), 1);
    eventlog_close(log);
    for (uint64_t base = 0; base < 48; base += 19) {
        snprintf(seg_a, sizeof seg_a, "%s/%020llu.seg", primary, (unsigned long long)base);
        snprintf(seg_b, sizeof seg_b, "%s/%020llu.seg", copy, (unsigned long long)base);
        if (access(seg_a, F_OK) == 0)
            cr_assert(files_equal(seg_a, seg_b), "%s differs", seg_b);
    }
    /* Damage the copy three ways; reopening mends each. */
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "truncate -s -64 $(ls %s/*.seg | tail -1)", copy);
    cr_assert_eq(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "printf 'junk' >> $(ls %s/*.seg | head -1)", copy);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(eventlog_open(&log, primary, &o, err, sizeof err), EVENTLOG_OK, "%s", err);
    eventlog_close(log);
    snprintf(cmd, sizeof cmd, "cd %s && for f in *.seg; do cmp -s $f %s/$f || exit 1; done", primary,
             copy);
    cr_assert_eq(system(cmd), 0, "copy not mended");
    /* A STALE copy is copied whole. */
    snprintf(cmd, sizeof cmd, "printf x | dd of=$(ls %s/*.seg | head -1) bs=1 seek=100 conv=notrunc 2>/dev/null && touch %s/STALE", copy, copy);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(eventlog_open(&log, primary, &o, err, sizeof err), EVENTLOG_OK, "%s", err);
    eventlog_close(log);
    snprintf(cmd, sizeof cmd, "cd %s && for f in *.seg; do cmp -s $f %s/$f || exit 1; done", primary,
             copy);
    cr_assert_eq(system(cmd), 0, "stale copy not replaced");
    snprintf(seg_b, sizeof seg_b, "%s/STALE", copy);
    cr_assert_neq(access(seg_b, F_OK), 0, "STALE marker left");
}
