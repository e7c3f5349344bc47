/*
 * eventlog_file.c — the embedded event log backend: segment files of
 * fixed-size, checksummed records, group-committed with fdatasync.
 *
 * Why this shape:
 * - Fixed 64-byte records make offset -> file position arithmetic, so a
 *   reader seeks without an index, and a torn write is recognisable (a short
 *   tail, or a record whose CRC or own offset does not match).
 * - Group commit: appenders encode their batch into a shared `pending`
 *   buffer under the lock; the first one that finds no flush in progress
 *   becomes the leader, swaps `pending` for an empty buffer, writes it with
 *   one pwrite and syncs it with one fdatasync, without the lock. Batches
 *   that arrive meanwhile pile up in the new `pending` and share the next
 *   sync. Everyone waits on `flushed` until durable_offset passes their
 *   batch. One sync per group, not per batch, is what makes durable
 *   acknowledgement affordable (an fdatasync costs ~0.5 ms here).
 * - Each record carries a "last of its batch" flag. Recovery keeps only
 *   whole batches: a batch torn by a crash is cut at its first record, so a
 *   batch is never half in the log.
 * - Segments are written whole-batch and roll only between flushes, so a
 *   batch never spans two files; a new segment is created under a temporary
 *   name, synced, renamed and its directory synced, so a crash leaves either
 *   no segment or a valid empty one.
 *
 * Invariants (under `lock`):
 * - segs[] is sorted by base and contiguous: segs[i]->base + segs[i]->count
 *   == segs[i+1]->base; the last one is the active segment.
 * - Records below durable_offset are on disk (synced, when fsync is on) and
 *   never change; readers only ever see those.
 * - pending holds records for offsets [durable_offset or the flush's end,
 *   next_offset), in offset order.
 * - After a failed write the file is cut back to its durable size, every
 *   batch not yet durable fails (the epoch advances) and next_offset returns
 *   to durable_offset. After a failed fdatasync the log is `failed`: the
 *   kernel may have dropped the dirty pages, so nothing is trusted until a
 *   reopen recovers from what is really on disk (PostgreSQL's lesson of
 *   2018, "fsyncgate").
 */
#include "events/eventlog_int.h"

#include "core/alloc.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/crc32c.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- system calls (replaceable by tests) -------------------------------- */

static const char SEG_MAGIC[8] = {'R', 'E', 'E', 'L', 'E', 'V', 'L', 'G'};

struct eventlog_syscalls el_sys = {pwrite, fdatasync, ftruncate};

void eventlog_syscalls_set(const struct eventlog_syscalls *calls)
{
    el_sys.pwrite = calls->pwrite ? calls->pwrite : pwrite;
    el_sys.fdatasync = calls->fdatasync ? calls->fdatasync : fdatasync;
    el_sys.ftruncate = calls->ftruncate ? calls->ftruncate : ftruncate;
}

void eventlog_syscalls_reset(void)
{
    el_sys.pwrite = pwrite;
    el_sys.fdatasync = fdatasync;
    el_sys.ftruncate = ftruncate;
}

/* ---- little-endian encoding ---------------------------------------------- */

static void put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

void el_put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

void el_put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint16_t get16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

uint32_t el_get32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

uint64_t el_get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Segment header (64 bytes, little-endian):
 *
 *   offset size  field
 *     0     8    magic "REELEVLG"
 *     8     2    format version (1)
 *    10     2    record size (64)
 *    12     4    region id (checked on open)
 *    16     8    base offset: offset of the segment's first record (= file name)
 *    24     8    created, ms since the Unix epoch
 *    32    28    reserved, zero
 *    60     4    CRC-32C of bytes 0..59
 *
 * Record (64 bytes, little-endian), the k-th of a segment at 64 + 64 k:
 *
 *   offset size  field
 *     0     4    CRC-32C of bytes 4..63
 *     4     1    type (enum event_type)
 *     5     1    flags: bit 0 = last record of its batch
 *     6     2    reserved, zero
 *     8     8    offset (the record's own position in the log)
 *    16     8    user_id
 *    24     8    video_id (0 for a follow)
 *    32     8    creator_id
 *    40     8    at_ms (signed)
 *    48     8    ingest_ms (signed): server time of the append
 *    56     4    watched_ms
 *    60     4    duration_ms
 */
static void record_encode(unsigned char *r, const struct event *e, uint64_t offset,
                          int64_t ingest_ms, bool batch_end)
{
    r[4] = e->type;
    r[5] = batch_end ? RECORD_FLAG_BATCH_END : 0;
    put16(r + 6, 0);
    el_put64(r + 8, offset);
    el_put64(r + 16, e->user_id);
    el_put64(r + 24, e->video_id);
    el_put64(r + 32, e->creator_id);
    el_put64(r + 40, (uint64_t)e->at_ms);
    el_put64(r + 48, (uint64_t)ingest_ms);
    el_put32(r + 56, e->watched_ms);
    el_put32(r + 60, e->duration_ms);
    el_put32(r, crc32c(0, r + 4, RECORD_SIZE - 4));
}

/* Returns true if the record is intact and is the one at `offset`. */
static bool record_decode(const unsigned char *r, uint64_t offset, struct eventlog_record *out,
                          bool *batch_end)
{
    if (el_get32(r) != crc32c(0, r + 4, RECORD_SIZE - 4) || el_get64(r + 8) != offset)
        return false;
    if (out) {
        out->offset = offset;
        out->ingest_ms = (int64_t)el_get64(r + 48);
        memset(&out->event, 0, sizeof out->event);
        out->event.type = r[4];
        out->event.user_id = el_get64(r + 16);
        out->event.video_id = el_get64(r + 24);
        out->event.creator_id = el_get64(r + 32);
        out->event.at_ms = (int64_t)el_get64(r + 40);
        out->event.watched_ms = el_get32(r + 56);
        out->event.duration_ms = el_get32(r + 60);
    }
    if (batch_end)
        *batch_end = (r[5] & RECORD_FLAG_BATCH_END) != 0;
    return true;
}

static void header_encode(unsigned char *h, unsigned region_id, uint64_t base, int64_t now_ms)
{
    memset(h, 0, SEG_HEADER_SIZE);
    memcpy(h, SEG_MAGIC, sizeof SEG_MAGIC);
    put16(h + 8, SEG_VERSION);
    put16(h + 10, RECORD_SIZE);
    el_put32(h + 12, region_id);
    el_put64(h + 16, base);
    el_put64(h + 24, (uint64_t)now_ms);
    el_put32(h + 60, crc32c(0, h, 60));
}

/* ---- the log ------------------------------------------------------------- */

void eventlog_options_init(struct eventlog_options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->region_id = 0;
    opts->segment_bytes = 64ULL << 20;
    opts->fsync = true;
    opts->max_pending_bytes = 16u << 20;
}

int el_sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int el_make_dir(const char *path)
{
    char tmp[LOG_PATH_MAX];
    int n = snprintf(tmp, sizeof tmp, "%s", path);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

int el_write_all(int fd, const void *data, size_t len, off_t offset)
{
    const unsigned char *p = data;
    while (len) {
        ssize_t w = el_sys.pwrite(fd, p, len, offset);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
        offset += w;
    }
    return 0;
}

int el_read_all(int fd, void *data, size_t len, off_t offset)
{
    unsigned char *p = data;
    while (len) {
        ssize_t r = pread(fd, p, len, offset);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        len -= (size_t)r;
        offset += r;
    }
    return 0;
}

void el_segment_unref(struct segment *s)
{
    if (--s->refs > 0)
        return;
    if (s->fd >= 0)
        close(s->fd);
    reel_free(s);
}

static int segs_push(struct eventlog *log, struct segment *s)
{
    if (log->seg_count == log->seg_cap) {
        size_t cap = log->seg_cap ? log->seg_cap * 2 : 16;
        void *p = log->segs;
        if (reel_array_grow(&p, cap, sizeof *log->segs) < 0)
            return -1;
        log->segs = p;
        log->seg_cap = cap;
    }
    log->segs[log->seg_count++] = s;
    return 0;
}

static struct segment *active_segment(struct eventlog *log)
{
    return log->seg_count ? log->segs[log->seg_count - 1] : NULL;
}

/* Paths fit: eventlog_open refuses directories within 64 bytes of the limit. */
void el_segment_file(const char *dir, uint64_t base, const char *suffix, char *out)
{
    if (snprintf(out, LOG_PATH_MAX, "%s/%020llu.seg%s", dir, (unsigned long long)base, suffix) >=
        LOG_PATH_MAX)
        out[0] = '\0';
}

static void segment_path(const struct eventlog *log, uint64_t base, const char *suffix, char *out)
{
    el_segment_file(log->dir, base, suffix, out);
}

/* Creates the segment starting at `base` (temporary name, header, sync,
 * rename, directory sync) and makes it the active one. Call with the lock
 * held or before the log is shared. Returns 0 or -1. */
static int segment_create(struct eventlog *log, uint64_t base)
{
    struct segment *s = reel_calloc(1, sizeof *s);
    if (!s)
        return -1;
    s->base = base;
    s->refs = 1;
    char tmp[LOG_PATH_MAX];
    segment_path(log, base, "", s->path);
    segment_path(log, base, ".tmp", tmp);
    unsigned char header[SEG_HEADER_SIZE];
    header_encode(header, log->opts.region_id, base, clock_now_ms());
    s->fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (s->fd < 0)
        goto fail;
    if (el_write_all(s->fd, header, sizeof header, 0) < 0 || el_sys.fdatasync(s->fd) < 0 ||
        rename(tmp, s->path) < 0 || el_sync_dir(log->dir) < 0)
        goto fail;
    if (segs_push(log, s) < 0) {
        unlink(s->path);
        goto fail_closed;
    }
    log->active_bytes = SEG_HEADER_SIZE;
    el_mirrors_segment_created(log, base, header, sizeof header);
    return 0;
fail:
    unlink(tmp);
fail_closed:
    if (s->fd >= 0)
        close(s->fd);
    reel_free(s);
    return -1;
}

/* ---- opening and recovery ------------------------------------------------ */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Parses "%020llu.seg" into *base. */
static bool parse_segment_name(const char *name, uint64_t *base)
{
    if (strlen(name) != 24 || strcmp(name + 20, ".seg") != 0)
        return false;
    uint64_t v = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9')
            return false;
        uint64_t d = (uint64_t)(name[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *base = v;
    return true;
}

/* Lists segment bases, sorted; removes leftovers of interrupted segment
 * creation (*.seg.tmp) unless read-only. */
static int list_segments(struct eventlog *log, uint64_t **bases, size_t *count, char *err,
                         size_t errlen)
{
    DIR *d = opendir(log->dir);
    if (!d) {
        snprintf(err, errlen, "%s: %s", log->dir, strerror(errno));
        return -1;
    }
    size_t n = 0, cap = 0;
    uint64_t *list = NULL;
    struct dirent *de;
    while ((de = readdir(d))) {
        uint64_t base;
        size_t len = strlen(de->d_name);
        if (len > 8 && strcmp(de->d_name + len - 8, ".seg.tmp") == 0 && !log->opts.read_only) {
            char path[LOG_PATH_MAX];
            if (snprintf(path, sizeof path, "%s/%s", log->dir, de->d_name) < (int)sizeof path)
                unlink(path);
            continue;
        }
        if (!parse_segment_name(de->d_name, &base))
            continue;
        if (n == cap) {
            void *p = list;
            cap = cap ? cap * 2 : 16;
            if (reel_array_grow(&p, cap, sizeof *list) < 0) {
                reel_free(list);
                closedir(d);
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            list = p;
        }
        list[n++] = base;
    }
    closedir(d);
    if (n)
        qsort(list, n, sizeof *list, cmp_u64);
    *bases = list;
    *count = n;
    return 0;
}

static bool header_valid(const unsigned char *h, unsigned region_id, uint64_t base)
{
    return memcmp(h, SEG_MAGIC, sizeof SEG_MAGIC) == 0 && get16(h + 8) == SEG_VERSION &&
           get16(h + 10) == RECORD_SIZE && el_get32(h + 60) == crc32c(0, h, 60) &&
           el_get64(h + 16) == base && (region_id == 0 || el_get32(h + 12) == region_id);
}

/* Scans a segment's records from the start. Sets *valid to the number of
 * records in whole, intact batches and *newest_ms to the ingest time of the
 * last of them; *torn is true if anything follows them. */
static int scan_segment(int fd, uint64_t base, uint64_t file_size, uint64_t *valid,
                        int64_t *newest_ms, bool *torn)
{
    uint64_t records = (file_size - SEG_HEADER_SIZE) / RECORD_SIZE;
    unsigned char *chunk = reel_malloc(READ_CHUNK * RECORD_SIZE);
    if (!chunk)
        return -1;
    uint64_t good = 0;
    int64_t newest = 0, batch_newest = 0;
    bool bad = false;
    for (uint64_t i = 0; i < records && !bad;) {
        uint64_t want = records - i < READ_CHUNK ? records - i : READ_CHUNK;
        if (el_read_all(fd, chunk, want * RECORD_SIZE, (off_t)(SEG_HEADER_SIZE + i * RECORD_SIZE)) <
            0) {
            reel_free(chunk);
            return -1;
        }
        for (uint64_t k = 0; k < want; k++, i++) {
            struct eventlog_record rec;
            bool end;
            if (!record_decode(chunk + k * RECORD_SIZE, base + i, &rec, &end)) {
                bad = true;
                break;
            }
            batch_newest = rec.ingest_ms > batch_newest ? rec.ingest_ms : batch_newest;
            if (end) {
                good = i + 1;
                newest = batch_newest;
            }
        }
    }
    reel_free(chunk);
    *valid = good;
    *newest_ms = newest;
    *torn = file_size != SEG_HEADER_SIZE + good * RECORD_SIZE;
    return 0;
}

/* Opens one existing segment. The last segment is scanned record by record
 * (and its torn tail cut off unless read-only); earlier ones were complete
 * when the log rolled past them, so only their size and last record are
 * checked. */
static int open_segment(struct eventlog *log, uint64_t base, bool last, char *err, size_t errlen)
{
    struct segment *s = reel_calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->base = base;
    s->refs = 1;
    segment_path(log, base, "", s->path);
    s->fd = open(s->path, (log->opts.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    struct stat st;
    unsigned char header[SEG_HEADER_SIZE];
    if (s->fd < 0 || fstat(s->fd, &st) < 0) {
        snprintf(err, errlen, "%s: %s", s->path, strerror(errno));
        goto fail;
    }
    uint64_t size = (uint64_t)st.st_size;
    if (size < SEG_HEADER_SIZE || el_read_all(s->fd, header, sizeof header, 0) < 0 ||
        !header_valid(header, log->opts.region_id, base)) {
        snprintf(err, errlen, "%s: not a segment of this log (bad or missing header)", s->path);
        goto fail;
    }
    if (last) {
        uint64_t valid;
        bool torn;
        if (scan_segment(s->fd, base, size, &valid, &s->newest_ms, &torn) < 0) {
            snprintf(err, errlen, "%s: read error", s->path);
            goto fail;
        }
        s->count = valid;
        if (torn && !log->opts.read_only) {
            uint64_t keep = SEG_HEADER_SIZE + valid * RECORD_SIZE;
            log_warn("event=eventlog_torn_tail file=%s kept_records=%llu cut_bytes=%llu", s->path,
                     (unsigned long long)valid, (unsigned long long)(size - keep));
            if (el_sys.ftruncate(s->fd, (off_t)keep) < 0 || el_sys.fdatasync(s->fd) < 0) {
                snprintf(err, errlen, "%s: cannot cut the torn tail: %s", s->path, strerror(errno));
                goto fail;
            }
        }
        log->active_bytes = SEG_HEADER_SIZE + valid * RECORD_SIZE;
    } else {
        if ((size - SEG_HEADER_SIZE) % RECORD_SIZE != 0) {
            snprintf(err, errlen, "%s: size %llu is not a whole number of records", s->path,
                     (unsigned long long)size);
            goto fail;
        }
        s->count = (size - SEG_HEADER_SIZE) / RECORD_SIZE;
        if (s->count) {
            unsigned char r[RECORD_SIZE];
            struct eventlog_record rec;
            bool end;
            if (el_read_all(s->fd, r, sizeof r, (off_t)(size - RECORD_SIZE)) < 0 ||
                !record_decode(r, base + s->count - 1, &rec, &end) || !end) {
                snprintf(err, errlen, "%s: its last record is damaged", s->path);
                goto fail;
            }
            s->newest_ms = rec.ingest_ms;
        }
    }
    struct segment *prev = active_segment(log);
    if (prev && prev->base + prev->count != base) {
        snprintf(err, errlen, "%s: starts at offset %llu but the previous segment ends at %llu",
                 s->path, (unsigned long long)base, (unsigned long long)(prev->base + prev->count));
        goto fail;
    }
    if (segs_push(log, s) < 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    return 0;
fail:
    if (s->fd >= 0)
        close(s->fd);
    reel_free(s);
    return -1;
}

int eventlog_open(struct eventlog **out, const char *dir, const struct eventlog_options *opts,
                  char *err, size_t errlen)
{
    struct eventlog *log = reel_calloc(1, sizeof *log);
    if (!log) {
        snprintf(err, errlen, "out of memory");
        return EVENTLOG_NOMEM;
    }
    if (opts)
        log->opts = *opts;
    else
        eventlog_options_init(&log->opts);
    if (log->opts.segment_bytes < SEG_HEADER_SIZE + RECORD_SIZE)
        log->opts.segment_bytes = SEG_HEADER_SIZE + RECORD_SIZE;
    if (log->opts.max_pending_bytes < RECORD_SIZE * EVENTLOG_BATCH_MAX)
        log->opts.max_pending_bytes = RECORD_SIZE * EVENTLOG_BATCH_MAX;
    int n = snprintf(log->dir, sizeof log->dir, "%s", dir);
    pthread_mutex_init(&log->lock, NULL);
    pthread_rwlock_init(&log->rewrite_lock, NULL);
    pthread_cond_init(&log->flushed, NULL);
    uint64_t *bases = NULL;
    size_t count = 0;
    if (n < 0 || (size_t)n >= sizeof log->dir - 64) {
        snprintf(err, errlen, "%s: path too long", dir);
        goto fail;
    }
    if (!log->opts.read_only && el_make_dir(dir) < 0) {
        snprintf(err, errlen, "%s: cannot create: %s", dir, strerror(errno));
        goto fail;
    }
    if (list_segments(log, &bases, &count, err, errlen) < 0)
        goto fail;
    for (size_t i = 0; i < count; i++)
        if (open_segment(log, bases[i], i + 1 == count, err, errlen) < 0)
            goto fail;
    reel_free(bases);
    bases = NULL;
    if (!log->seg_count && !log->opts.read_only && segment_create(log, 0) < 0) {
        snprintf(err, errlen, "%s: cannot create the first segment: %s", dir, strerror(errno));
        goto fail;
    }
    if (log->seg_count) {
        struct segment *a = active_segment(log);
        log->first_offset = log->segs[0]->base;
        log->durable_offset = log->next_offset = a->base + a->count;
    }
    if (el_load_consumers(log, err, errlen) < 0)
        goto fail;
    if (!log->opts.read_only && el_mirrors_open(log, err, errlen) < 0)
        goto fail;
    *out = log;
    return EVENTLOG_OK;
fail:
    reel_free(bases);
    eventlog_close(log);
    return EVENTLOG_IO;
}

void eventlog_close(struct eventlog *log)
{
    if (!log)
        return;
    pthread_mutex_lock(&log->lock);
    log->stopping = true;
    pthread_cond_broadcast(&log->flushed);
    bool join = log->flusher_started;
    pthread_mutex_unlock(&log->lock);
    if (join)
        pthread_join(log->flusher, NULL);
    pthread_mutex_lock(&log->lock);
    while (log->flush_running || log->pending_len)
        pthread_cond_wait(&log->flushed, &log->lock);
    pthread_mutex_unlock(&log->lock);
    el_mirrors_close(log);
    for (size_t i = 0; i < log->seg_count; i++)
        el_segment_unref(log->segs[i]);
    reel_free(log->segs);
    reel_free(log->pending);
    reel_free(log->flushing);
    pthread_mutex_destroy(&log->lock);
    pthread_rwlock_destroy(&log->rewrite_lock);
    pthread_cond_destroy(&log->flushed);
    reel_free(log);
}

/* ---- appending ------------------------------------------------------------ */

static int reserve(unsigned char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 64 * 1024;
    while (n < need)
        n *= 2;
    void *p = *buf;
    if (reel_array_grow(&p, n, 1) < 0)
        return -1;
    *buf = p;
    *cap = n;
    return 0;
}

/* The leader's work: write and sync what is pending. Called and returns
 * with the lock held; drops it for the I/O. */
static void flush_pending(struct eventlog *log)
{
    log->flush_running = true;
    if (log->opts.commit_delay_us) {
        pthread_mutex_unlock(&log->lock);
        struct timespec ts = {0, (long)log->opts.commit_delay_us * 1000L};
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&log->lock);
    }
    unsigned char *data = log->pending;
    size_t len = log->pending_len;
    size_t cap = log->pending_cap;
    uint64_t end = log->next_offset;
    int64_t newest = log->pending_newest_ms;
    log->pending = log->flushing;
    log->pending_cap = log->flushing_cap;
    log->pending_len = 0;
    log->flushing = data;
    log->flushing_cap = cap;
    struct segment *seg = log->segs[log->seg_count - 1]; /* a writable log has one */
    uint64_t at = log->active_bytes;
    pthread_cond_broadcast(&log->flushed); /* appenders waiting for space */
    pthread_mutex_unlock(&log->lock);

    int werr = el_write_all(seg->fd, data, len, (off_t)at);
    int serr = !werr && log->opts.fsync ? el_sys.fdatasync(seg->fd) : 0;
    if (!werr && !serr)
        el_mirrors_append(log, data, len, at); /* before anything is acknowledged */

    pthread_mutex_lock(&log->lock);
    log->syncs++;
    if (!werr && !serr) {
        log->active_bytes = at + len;
        seg->count = end - seg->base;
        seg->newest_ms = newest;
        log->durable_offset = end;
        if (log->active_bytes >= log->opts.segment_bytes) {
            /* pending (offsets from `end` on) goes to the new segment. */
            if (segment_create(log, end) < 0) {
                log_warn("event=eventlog_roll_failed dir=%s error=\"%s\"", log->dir,
                         strerror(errno));
            } else {
                struct segment *doomed[64];
                size_t nd = el_retain_locked(log, clock_now_ms(), doomed, 64);
                for (size_t i = 0; i < nd; i++) {
                    unlink(doomed[i]->path);
                    el_mirrors_segment_removed(log, doomed[i]->base);
                    el_segment_unref(doomed[i]);
                }
            }
        }
    } else {
        int saved = errno;
        /* Nothing that was not durable survives: cut the file back, fail
         * every batch in flight, and hand their offsets out again. */
        if (el_sys.ftruncate(seg->fd, (off_t)at) < 0 || serr)
            log->failed = true;
        log->pending_len = 0;
        log->next_offset = log->durable_offset;
        log->epoch_durable[log->epoch % EPOCH_RING] = log->durable_offset;
        log->epoch++;
        log_error("event=eventlog_%s_failed dir=%s error=\"%s\"%s", werr ? "write" : "fsync",
                  log->dir, strerror(saved), log->failed ? " state=failed" : "");
    }
    log->flush_running = false;
    pthread_cond_broadcast(&log->flushed);
}

/* Encodes a batch into `pending` (waiting while too much is pending) and
 * gives its offsets and the epoch it joined. Lock held. */
static int enqueue_locked(struct eventlog *log, const struct event *events, size_t n,
                          uint64_t *first, uint64_t *end, uint64_t *epoch)
{
    size_t bytes = n * RECORD_SIZE;
    int64_t now = clock_now_ms();
    while (!log->failed && log->pending_len &&
           log->pending_len + bytes > log->opts.max_pending_bytes)
        pthread_cond_wait(&log->flushed, &log->lock);
    if (log->failed)
        return EVENTLOG_FAILED;
    if (reserve(&log->pending, &log->pending_cap, log->pending_len + bytes) < 0)
        return EVENTLOG_NOMEM;
    *first = log->next_offset;
    unsigned char *p = log->pending + log->pending_len;
    for (size_t i = 0; i < n; i++)
        record_encode(p + i * RECORD_SIZE, &events[i], *first + i, now, i + 1 == n);
    log->pending_len += bytes;
    log->next_offset += n;
    if (now > log->pending_newest_ms)
        log->pending_newest_ms = now;
    log->appends++;
    *end = log->next_offset;
    *epoch = log->epoch;
    return EVENTLOG_OK;
}

/* The fate of a batch ending at `end` that joined `epoch`: 1 while still
 * pending, else an EVENTLOG_* status. Lock held. */
static int batch_status(const struct eventlog *log, uint64_t end, uint64_t epoch)
{
    if (log->epoch != epoch) {
        /* A flush failed since the batch was queued. It made it only if it
         * was durable before the first failure after it was queued: the
         * offsets past that point were discarded and handed out again. */
        bool made_it =
            log->epoch - epoch < EPOCH_RING && end <= log->epoch_durable[epoch % EPOCH_RING];
        return made_it ? EVENTLOG_OK : log->failed ? EVENTLOG_FAILED : EVENTLOG_IO;
    }
    return log->durable_offset >= end ? EVENTLOG_OK : 1;
}

int eventlog_append(struct eventlog *log, const struct event *events, size_t n,
                    uint64_t *first_offset)
{
    if (n == 0 || n > EVENTLOG_BATCH_MAX)
        return EVENTLOG_INVALID;
    if (log->opts.read_only)
        return EVENTLOG_READONLY;
    uint64_t first, end, epoch;
    pthread_mutex_lock(&log->lock);
    int rc = enqueue_locked(log, events, n, &first, &end, &epoch);
    while (rc == EVENTLOG_OK) {
        rc = batch_status(log, end, epoch);
        if (rc != 1)
            break;
        rc = EVENTLOG_OK;
        if (!log->flush_running)
            flush_pending(log);
        else
            pthread_cond_wait(&log->flushed, &log->lock);
    }
    pthread_mutex_unlock(&log->lock);
    if (rc == EVENTLOG_OK && first_offset)
        *first_offset = first;
    return rc;
}

/* The flusher thread: writes what async appends queued and settles their
 * waiters, in offset order, calling `done` outside the lock. */
static void *flusher_main(void *arg)
{
    struct eventlog *log = arg;
    pthread_mutex_lock(&log->lock);
    for (;;) {
        struct append_waiter *settled = NULL, **tail = &settled;
        int rc;
        while (log->waiters &&
               (rc = batch_status(log, log->waiters->end, log->waiters->epoch)) != 1) {
            struct append_waiter *w = log->waiters;
            log->waiters = w->next;
            w->next = NULL;
            w->epoch = (uint64_t)rc; /* reused: the outcome */
            *tail = w;
            tail = &w->next;
        }
        if (!log->waiters)
            log->waiters_tail = NULL;
        if (settled) {
            pthread_mutex_unlock(&log->lock);
            while (settled) {
                struct append_waiter *w = settled;
                settled = w->next;
                w->done(w->arg, (int)(int64_t)w->epoch, w->first);
                reel_free(w);
            }
            pthread_mutex_lock(&log->lock);
            continue;
        }
        if (log->pending_len && !log->flush_running) {
            flush_pending(log);
            continue;
        }
        if (log->stopping && !log->waiters && !log->pending_len && !log->flush_running)
            break;
        pthread_cond_wait(&log->flushed, &log->lock);
    }
    pthread_mutex_unlock(&log->lock);
    return NULL;
}

int eventlog_append_async(struct eventlog *log, const struct event *events, size_t n,
                          eventlog_done_fn done, void *arg)
{
    if (n == 0 || n > EVENTLOG_BATCH_MAX || !done)
        return EVENTLOG_INVALID;
    if (log->opts.read_only)
        return EVENTLOG_READONLY;
    struct append_waiter *w = reel_calloc(1, sizeof *w);
    if (!w)
        return EVENTLOG_NOMEM;
    w->done = done;
    w->arg = arg;
    pthread_mutex_lock(&log->lock);
    if (!log->flusher_started) {
        if (pthread_create(&log->flusher, NULL, flusher_main, log) != 0) {
            pthread_mutex_unlock(&log->lock);
            reel_free(w);
            return EVENTLOG_NOMEM;
        }
        log->flusher_started = true;
    }
    int rc = enqueue_locked(log, events, n, &w->first, &w->end, &w->epoch);
    if (rc == EVENTLOG_OK) {
        if (log->waiters_tail)
            log->waiters_tail->next = w;
        else
            log->waiters = w;
        log->waiters_tail = w;
        pthread_cond_broadcast(&log->flushed); /* wake the flusher */
    }
    pthread_mutex_unlock(&log->lock);
    if (rc != EVENTLOG_OK)
        reel_free(w);
    return rc;
}

/* ---- reading ---------------------------------------------------------------- */

/* The segment holding `offset` (which is below durable_offset), with a
 * reference taken. Lock held. */
static struct segment *segment_for(struct eventlog *log, uint64_t offset)
{
    size_t lo = 0, hi = log->seg_count;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (log->segs[mid]->base <= offset)
            lo = mid;
        else
            hi = mid;
    }
    struct segment *s = log->segs[lo];
    s->refs++;
    return s;
}

int eventlog_read(struct eventlog *log, uint64_t offset, struct eventlog_record *out, size_t max,
                  size_t *n, uint64_t *next)
{
    *n = 0;
    pthread_mutex_lock(&log->lock);
    if (offset < log->first_offset)
        offset = log->first_offset;
    if (offset >= log->durable_offset || max == 0 || !log->seg_count) {
        pthread_mutex_unlock(&log->lock);
        if (next)
            *next = offset;
        return EVENTLOG_OK;
    }
    struct segment *s = segment_for(log, offset);
    uint64_t seg_end = s->base + s->count;
    if (seg_end > log->durable_offset)
        seg_end = log->durable_offset;
    pthread_mutex_unlock(&log->lock);

    uint64_t want = seg_end - offset < max ? seg_end - offset : max;
    unsigned char chunk[READ_CHUNK * RECORD_SIZE];
    int rc = EVENTLOG_OK;
    size_t got = 0;
    pthread_rwlock_rdlock(&log->rewrite_lock);
    while (got < want) {
        uint64_t k = want - got < READ_CHUNK ? want - got : READ_CHUNK;
        uint64_t at = offset + got;
        if (el_read_all(s->fd, chunk, k * RECORD_SIZE,
                        (off_t)(SEG_HEADER_SIZE + (at - s->base) * RECORD_SIZE)) < 0) {
            rc = EVENTLOG_IO;
            break;
        }
        for (uint64_t i = 0; i < k; i++) {
            if (!record_decode(chunk + i * RECORD_SIZE, at + i, &out[got], NULL)) {
                log_error("event=eventlog_corrupt file=%s offset=%llu", s->path,
                          (unsigned long long)(at + i));
                rc = EVENTLOG_CORRUPT;
                break;
            }
            got++;
        }
        if (rc != EVENTLOG_OK)
            break;
    }
    pthread_rwlock_unlock(&log->rewrite_lock);
    pthread_mutex_lock(&log->lock);
    el_segment_unref(s);
    pthread_mutex_unlock(&log->lock);
    *n = got;
    if (next)
        *next = offset + got;
    return rc;
}

uint64_t eventlog_first_offset(struct eventlog *log)
{
    pthread_mutex_lock(&log->lock);
    uint64_t v = log->first_offset;
    pthread_mutex_unlock(&log->lock);
    return v;
}

uint64_t eventlog_end_offset(struct eventlog *log)
{
    pthread_mutex_lock(&log->lock);
    uint64_t v = log->durable_offset;
    pthread_mutex_unlock(&log->lock);
    return v;
}

bool eventlog_wait(struct eventlog *log, uint64_t offset, int timeout_ms)
{
    struct timespec deadline = clock_deadline(CLOCK_REALTIME, timeout_ms);
    pthread_mutex_lock(&log->lock);
    while (log->durable_offset <= offset) {
        if (pthread_cond_timedwait(&log->flushed, &log->lock, &deadline) != 0)
            break;
    }
    bool ready = log->durable_offset > offset;
    pthread_mutex_unlock(&log->lock);
    return ready;
}

void eventlog_get_stats(struct eventlog *log, struct eventlog_stats *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&log->lock);
    out->first_offset = log->first_offset;
    out->end_offset = log->durable_offset;
    out->segments = log->seg_count;
    for (size_t i = 0; i < log->seg_count; i++)
        out->bytes += SEG_HEADER_SIZE + log->segs[i]->count * RECORD_SIZE;
    out->appends = log->appends;
    out->syncs = log->syncs;
    out->failed = log->failed;
    pthread_mutex_unlock(&log->lock);
}
