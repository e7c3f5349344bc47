/*
 * eventlog.h — a region's engagement event log: an ordered, durable,
 * append-only stream of `struct event` with independent consumers.
 *
 * The interface is shaped after a streaming log (Kafka, NATS JetStream) so a
 * JetStream backend can replace the embedded one without touching callers:
 *
 *   eventlog_append(batch)          -> offset of its first event, once durable
 *                                      (JetStream: async-publish the batch to
 *                                      the region's stream, wait for every
 *                                      PubAck; offset = stream sequence - 1)
 *   eventlog_consumer_open(name)    -> a named, durable reading position
 *                                      (JetStream: a durable pull consumer)
 *   eventlog_consumer_read(...)     -> the next events, in order
 *                                      (JetStream: fetch)
 *   eventlog_consumer_commit(off)   -> persist "everything before off is done"
 *                                      (JetStream: ack with AckAll policy)
 *   retention by size and age, never past the slowest consumer unless told
 *                                      (JetStream: limits + interest policy)
 *
 * Offsets are dense: the n-th event ever appended to a log has offset n
 * (from 0), forever, across restarts and retention. A batch is appended
 * whole or not at all and its events get consecutive offsets; batches from
 * concurrent callers are not interleaved.
 *
 * The embedded backend (eventlog_file.c) stores fixed-size records in segment
 * files with a CRC per record and shares one fdatasync between all batches
 * that arrive while the previous one runs (group commit). See
 * src/events/README.md for the byte layout and the recovery rules.
 *
 * Thread safety: every function may be called from any thread; a consumer
 * handle is used by one thread at a time.
 */
#ifndef REEL_EVENTS_EVENTLOG_H
#define REEL_EVENTS_EVENTLOG_H

#include "events/event.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum eventlog_status {
    EVENTLOG_OK = 0,
    EVENTLOG_IO = -1,      /* a write or read failed; the batch was not stored */
    EVENTLOG_FAILED = -2,  /* an fsync failed earlier: the log refuses writes until reopened */
    EVENTLOG_INVALID = -3, /* bad argument (empty or oversized batch, bad name, bad offset) */
    EVENTLOG_NOMEM = -4,
    EVENTLOG_CORRUPT = -5, /* a durable record failed its CRC */
    EVENTLOG_READONLY = -6,
};


/* Largest batch eventlog_append takes (a request's batch, or a tool's). */
#define EVENTLOG_BATCH_MAX 4096
#define EVENTLOG_CONSUMER_NAME_MAX 64

#define EVENTLOG_MAX_MIRRORS 4

struct eventlog_options {
    unsigned region_id;               /* written into segment headers and checked on open */
    uint64_t segment_bytes;           /* start a new segment once one reaches this size */
    uint64_t retention_bytes;         /* keep at most about this much; 0 = no size limit */
    uint64_t retention_age_ms;        /* drop segments whose newest event is older; 0 = keep */
    bool retention_ignores_consumers; /* drop even what a consumer has not committed */
    bool fsync;                       /* acknowledge only after fdatasync (off: after write) */
    unsigned commit_delay_us;         /* a group-commit leader waits this long for company */
    size_t max_pending_bytes;         /* appenders wait while this much awaits writing */
    bool read_only;                   /* tools: no recovery writes, no appends */
    /* Replica sites' copies (directories), kept byte-identical: a batch is
     * durable — and acknowledged — only once it is on every healthy copy.
     * A copy that fails a write is dropped and marked STALE until the next
     * open brings it up to date. See eventlog_mirror.c. Ignored read-only. */
    const char *mirror_dirs[EVENTLOG_MAX_MIRRORS];
    int mirror_count;
};

/* Fills opts with the defaults (64 MiB segments, fsync on, no retention). */
void eventlog_options_init(struct eventlog_options *opts);

struct eventlog;

/* Opens (creating) the log in directory `dir`: finds the segments, checks
 * them, and recovers the tail — a record that is torn or fails its CRC, and
 * the rest of its batch, are truncated away (never in read-only mode, where
 * reading simply stops there). Returns EVENTLOG_OK and *out, or an error with
 * a message in err. */
int eventlog_open(struct eventlog **out, const char *dir, const struct eventlog_options *opts,
                  char *err, size_t errlen);
/* Waits for appends in flight, then closes. NULL is a no-op. */
void eventlog_close(struct eventlog *log);

/* Erasure: rewrites every record of user_id in place as a tombstone
 * (EVENT_ERASED, every id and time zeroed; offset and batch boundary kept, so
 * offsets stay dense and consumers just skip it), clears user_id from the
 * creator_id of other users' records, then makes the rewrites durable.
 * *erased (may be NULL) receives the number of tombstones. Safe beside appends and
 * readers. Returns EVENTLOG_OK or an error (some records may be rewritten:
 * run it again). */
int eventlog_erase_user(struct eventlog *log, uint64_t user_id, uint64_t *erased);
/* Copies kept in step (healthy mirrors). */
int eventlog_mirrors_healthy(struct eventlog *log);

/* Appends n (1..EVENTLOG_BATCH_MAX) events as one batch and returns once they
 * are durable (or written, with fsync off). Sets *first_offset (may be NULL).
 * Returns EVENTLOG_OK; EVENTLOG_IO if the batch could not be written (nothing
 * of it is stored; later appends may succeed); EVENTLOG_FAILED once an fsync
 * has failed (every append fails until the log is reopened). */
int eventlog_append(struct eventlog *log, const struct event *events, size_t n,
                    uint64_t *first_offset);

/* Called once an asynchronous append is settled: status EVENTLOG_OK (the
 * batch is durable; first_offset is its first offset), EVENTLOG_IO or
 * EVENTLOG_FAILED (not stored). Runs on the log's flusher thread: it must
 * not block long or append synchronously to the same log. */
typedef void (*eventlog_done_fn)(void *arg, int status, uint64_t first_offset);

/* As eventlog_append, but returns as soon as the batch is queued (the events
 * are copied) and reports durability through done(arg, ...) later, from the
 * log's flusher thread — so a caller waiting for many batches needs no
 * thread per batch (JetStream: publish async, PubAck future). Returns
 * EVENTLOG_OK when queued (done will be called exactly once), or an error
 * (done will not be called). */
int eventlog_append_async(struct eventlog *log, const struct event *events, size_t n,
                          eventlog_done_fn done, void *arg);

/* One stored event. */
struct eventlog_record {
    uint64_t offset;
    int64_t ingest_ms; /* server time of the append */
    struct event event;
};

/* Reads up to max durable records starting at `offset` into out; *n is how
 * many (0 at the end). An offset below the oldest retained record starts at
 * the oldest. Sets *next (may be NULL) to the offset after the last record
 * read. Returns EVENTLOG_OK, EVENTLOG_IO or EVENTLOG_CORRUPT. */
int eventlog_read(struct eventlog *log, uint64_t offset, struct eventlog_record *out, size_t max,
                  size_t *n, uint64_t *next);
/* Offset of the oldest retained record, and the offset the next append will
 * get (= one past the newest durable record). Equal when empty. */
uint64_t eventlog_first_offset(struct eventlog *log);
uint64_t eventlog_end_offset(struct eventlog *log);
/* Blocks until a record at `offset` is durable or timeout_ms passes.
 * Returns true if it is available. */
bool eventlog_wait(struct eventlog *log, uint64_t offset, int timeout_ms);

/* ---- consumers ---------------------------------------------------------- */

struct eventlog_consumer;

/* Opens the named consumer ([a-z0-9_-], 1..64 bytes), registering it on first
 * use at the oldest retained offset. Its committed offset is durable and
 * holds back retention (unless retention_ignores_consumers). Returns
 * EVENTLOG_OK and *out (eventlog_consumer_close it), or an error. */
int eventlog_consumer_open(struct eventlog *log, const char *name, struct eventlog_consumer **out);
/* Reads the next records after the consumer's position and advances the
 * position (not the committed offset). *n = 0 when caught up. */
int eventlog_consumer_read(struct eventlog_consumer *c, struct eventlog_record *out, size_t max,
                           size_t *n);
/* Makes `next_offset` (everything below it is processed) durable: written to
 * a temporary file, synced, renamed. Returns EVENTLOG_OK or EVENTLOG_IO. */
int eventlog_consumer_commit(struct eventlog_consumer *c, uint64_t next_offset);
/* Moves the reading position (not the committed offset). */
void eventlog_consumer_seek(struct eventlog_consumer *c, uint64_t offset);
uint64_t eventlog_consumer_position(const struct eventlog_consumer *c);
uint64_t eventlog_consumer_committed(const struct eventlog_consumer *c);
void eventlog_consumer_close(struct eventlog_consumer *c);
/* Unregisters a consumer so it no longer holds back retention. */
int eventlog_consumer_delete(struct eventlog *log, const char *name);

/* ---- retention and statistics ------------------------------------------ */

/* Deletes whole segments past the size/age limits at time now_ms, oldest
 * first, never the segment being written and never one holding an offset at
 * or past the slowest consumer's committed offset (unless configured).
 * Runs by itself after each segment roll; call it on a timer for age limits
 * on an idle log. Sets *deleted (may be NULL). Returns EVENTLOG_OK or
 * EVENTLOG_IO. */
int eventlog_retain(struct eventlog *log, int64_t now_ms, size_t *deleted);

struct eventlog_stats {
    uint64_t first_offset, end_offset;
    uint64_t segments, bytes;
    uint64_t appends, syncs; /* batches appended, fdatasync calls: appends/syncs = group size */
    bool failed;
};
void eventlog_get_stats(struct eventlog *log, struct eventlog_stats *out);

/* ---- test hooks ----------------------------------------------------------- */

/* The system calls the file backend makes, replaceable by tests to inject
 * failures (as SQLite's aSyscall[]). NULL members keep the real call. Not
 * thread-safe: set before opening a log. eventlog_syscalls_reset restores all. */
struct eventlog_syscalls {
    ssize_t (*pwrite)(int fd, const void *buf, size_t n, off_t offset);
    int (*fdatasync)(int fd);
    int (*ftruncate)(int fd, off_t length);
};
void eventlog_syscalls_set(const struct eventlog_syscalls *calls);
void eventlog_syscalls_reset(void);

#endif
