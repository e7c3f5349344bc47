/*
 * eventlog_int.h — internals shared by the embedded event log's files:
 * eventlog_file.c (format, segments, recovery, append, read) and
 * eventlog_consumer.c (consumer offsets, retention). Nothing outside
 * src/events/ includes this.
 */
#ifndef REEL_EVENTS_EVENTLOG_INT_H
#define REEL_EVENTS_EVENTLOG_INT_H

#include "events/eventlog.h"

#include <pthread.h>

#define SEG_HEADER_SIZE 64
#define RECORD_SIZE 64
#define SEG_VERSION 1
#define RECORD_FLAG_BATCH_END 0x01
#define LOG_PATH_MAX 1024
#define MAX_CONSUMERS 64
#define READ_CHUNK 256 /* records per pread */
#define EPOCH_RING 64  /* failures remembered for late-waking appenders */

struct segment {
    uint64_t base;
    uint64_t count;    /* durable records */
    int64_t newest_ms; /* ingest time of the newest record; 0 when empty */
    int fd;
    int refs; /* the log's list holds one; each reader in flight one */
    char path[LOG_PATH_MAX];
};

struct mirror {
    char dir[LOG_PATH_MAX];
    int fd;        /* the copy of the active segment; -1 when unhealthy */
    bool healthy;
};

struct consumer_slot {
    char name[EVENTLOG_CONSUMER_NAME_MAX + 1];
    uint64_t committed;
};

/* An asynchronous append waiting for its batch to be durable. */
struct append_waiter {
    uint64_t first, end, epoch;
    eventlog_done_fn done;
    void *arg;
    struct append_waiter *next;
};

struct eventlog {
    char dir[LOG_PATH_MAX];
    struct eventlog_options opts;
    pthread_mutex_t lock;
    /* Readers hold it shared around their preads, eventlog_erase_user
     * exclusively around its rewrites: no reader sees a half-rewritten
     * record. */
    pthread_rwlock_t rewrite_lock;
    pthread_cond_t flushed; /* durable_offset advanced, a flush failed, or space freed */
    struct segment **segs;
    size_t seg_count, seg_cap;
    uint64_t active_bytes; /* size of the active segment file that is durable */
    uint64_t first_offset, durable_offset, next_offset;
    unsigned char *pending, *flushing;
    size_t pending_len, pending_cap, flushing_cap;
    int64_t pending_newest_ms;
    bool flush_running;
    bool failed;
    uint64_t epoch;                     /* advances at every failed flush */
    uint64_t epoch_durable[EPOCH_RING]; /* durable_offset when epoch e ended */
    uint64_t appends, syncs;
    struct append_waiter *waiters, *waiters_tail; /* async appends, in offset order */
    bool flusher_started, stopping;
    pthread_t flusher; /* completes async appends */
    struct consumer_slot consumers[MAX_CONSUMERS];
    int consumer_count;
    struct mirror mirrors[EVENTLOG_MAX_MIRRORS];
    int mirror_count;
};

struct eventlog_consumer {
    struct eventlog *log;
    char name[EVENTLOG_CONSUMER_NAME_MAX + 1];
    uint64_t position, committed;
};

/* The system calls in use (real ones unless a test replaced them). */
extern struct eventlog_syscalls el_sys;

void el_put32(unsigned char *p, uint32_t v);
void el_put64(unsigned char *p, uint64_t v);
uint32_t el_get32(const unsigned char *p);
uint64_t el_get64(const unsigned char *p);
/* fsync of a directory (after create, rename, unlink). Returns 0 or -1. */
int el_sync_dir(const char *dir);
/* mkdir -p. Returns 0 or -1. */
int el_make_dir(const char *path);
/* Whole-buffer pwrite / pread, retrying short transfers. Return 0 or -1. */
int el_write_all(int fd, const void *data, size_t len, off_t offset);
int el_read_all(int fd, void *data, size_t len, off_t offset);
/* Mirrors (eventlog_mirror.c). */
/* At open, after recovery: brings every copy up to date with the primary
 * (missing segments copied, longer ones cut, stale ones copied whole,
 * segments retention removed deleted) and opens the active segment's copy.
 * A copy that cannot be brought up to date is an error. */
int el_mirrors_open(struct eventlog *log, char *err, size_t errlen);
void el_mirrors_close(struct eventlog *log);
/* Writes bytes at `at` of the active segment's copies and syncs them.
 * Called by the flush leader without the lock; a copy that fails is dropped. */
void el_mirrors_append(struct eventlog *log, const void *data, size_t len, uint64_t at);
/* A new active segment (its header bytes), or one retention removed. Lock held. */
void el_mirrors_segment_created(struct eventlog *log, uint64_t base, const unsigned char *header,
                                size_t header_len);
void el_mirrors_segment_removed(struct eventlog *log, uint64_t base);
/* File name of the segment starting at base, inside dir. */
void el_segment_file(const char *dir, uint64_t base, const char *suffix, char *out);

/* Drops a reference; the last one closes the file and frees. Lock held. */
void el_segment_unref(struct segment *s);
/* Reads every consumer's committed offset at open. Returns 0 or -1 with err. */
int el_load_consumers(struct eventlog *log, char *err, size_t errlen);
/* Detaches the segments retention deletes (oldest first, never the active
 * one), at most max, into doomed; the caller unlinks and unrefs them. Lock
 * held. Returns how many. */
size_t el_retain_locked(struct eventlog *log, int64_t now_ms, struct segment **doomed, size_t max);

#endif
