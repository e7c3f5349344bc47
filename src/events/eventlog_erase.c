/*
 * eventlog_erase.c — erasure of one user from a log: each of the user's
 * records is rewritten in place as a tombstone, and other users' records
 * that name the user as the creator they engaged with (a like of the user's
 * video, a follow of the user) lose that reference.
 *
 * Records are fixed-size and found by offset, so removing one would shift
 * every later offset and break every consumer's position. A tombstone keeps
 * the record's offset and batch boundary (what recovery and readers need)
 * and zeroes everything else — type EVENT_ERASED, user, video, creator,
 * times, durations — with a fresh CRC:
 *
 *   offset size  before                 after
 *     4     1    type                   0 (EVENT_ERASED)
 *     5     1    flags                  unchanged (batch end)
 *     8     8    offset                 unchanged
 *    16..63      ids, times, durations  zero
 *
 * A record of another user that names the erased user as creator keeps
 * everything but creator_id (bytes 32..39), which becomes zero.
 *
 * Only durable records are rewritten, never the tail an append is writing.
 * Readers hold the log's rewrite lock shared around their reads; the
 * rewrite of each chunk takes it exclusively, so a reader sees a record
 * either before or after, never torn. Each rewritten segment is fdatasync'd
 * before returning.
 */
#include "events/eventlog_int.h"

#include "core/alloc.h"
#include "core/crc32c.h"
#include "core/log.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static void make_tombstone(unsigned char *r)
{
    memset(r + 6, 0, 2);
    memset(r + 16, 0, RECORD_SIZE - 16);
    r[4] = EVENT_ERASED;
    el_put32(r, crc32c(0, r + 4, RECORD_SIZE - 4));
}

/* Rewrites the user's records of one segment file (fd, first offset base)
 * up to offset end. `readers`: the primary, whose readers must not see a
 * half-rewritten record (a copy has no readers). */
static int erase_in_file(struct eventlog *log, int fd, uint64_t base, uint64_t end,
                         uint64_t user_id, uint64_t *erased, bool readers)
{
    unsigned char chunk[READ_CHUNK * RECORD_SIZE];
    bool changed = false;
    for (uint64_t at = base; at < end;) {
        uint64_t k = end - at < READ_CHUNK ? end - at : READ_CHUNK;
        off_t pos = (off_t)(SEG_HEADER_SIZE + (at - base) * RECORD_SIZE);
        if (el_read_all(fd, chunk, k * RECORD_SIZE, pos) < 0)
            return EVENTLOG_IO;
        bool hit = false;
        for (uint64_t i = 0; i < k; i++) {
            unsigned char *r = chunk + i * RECORD_SIZE;
            bool mine = el_get64(r + 16) == user_id, names_me = el_get64(r + 32) == user_id;
            if ((!mine && !names_me) || el_get32(r) != crc32c(0, r + 4, RECORD_SIZE - 4))
                continue;
            if (mine) {
                make_tombstone(r);
                (*erased)++;
            } else {
                memset(r + 32, 0, 8);
                el_put32(r, crc32c(0, r + 4, RECORD_SIZE - 4));
            }
            hit = true;
        }
        if (hit) {
            if (readers)
                pthread_rwlock_wrlock(&log->rewrite_lock);
            int rc = el_write_all(fd, chunk, k * RECORD_SIZE, pos);
            if (readers)
                pthread_rwlock_unlock(&log->rewrite_lock);
            if (rc < 0)
                return EVENTLOG_IO;
            changed = true;
        }
        at += k;
    }
    if (changed && el_sys.fdatasync(fd) != 0)
        return EVENTLOG_IO;
    return EVENTLOG_OK;
}

/* The same rewrite on every copy of the segment at base, independently of
 * the primary, so a copy a crash left behind is mended by running again. */
static int erase_in_mirrors(struct eventlog *log, uint64_t base, uint64_t end, uint64_t user_id)
{
    int rc = EVENTLOG_OK;
    for (int i = 0; i < log->mirror_count; i++) {
        if (!log->mirrors[i].healthy)
            continue;
        char path[LOG_PATH_MAX];
        el_segment_file(log->mirrors[i].dir, base, "", path);
        int fd = open(path, O_RDWR | O_CLOEXEC);
        uint64_t ignored = 0;
        if (fd < 0 || erase_in_file(log, fd, base, end, user_id, &ignored, false) != EVENTLOG_OK)
            rc = EVENTLOG_IO;
        if (fd >= 0)
            close(fd);
    }
    return rc;
}

int eventlog_erase_user(struct eventlog *log, uint64_t user_id, uint64_t *erased)
{
    uint64_t count = 0;
    if (erased)
        *erased = 0;
    if (log->opts.read_only)
        return EVENTLOG_READONLY;
    if (user_id == 0)
        return EVENTLOG_INVALID;
    /* Take a reference to every segment and the durable end, then work
     * without the log's lock (appends go on meanwhile). */
    pthread_mutex_lock(&log->lock);
    size_t n = log->seg_count;
    struct segment **segs = n ? reel_calloc(n, sizeof *segs) : NULL;
    uint64_t *ends = n ? reel_calloc(n, sizeof *ends) : NULL;
    if (n && (!segs || !ends)) {
        pthread_mutex_unlock(&log->lock);
        reel_free(segs);
        reel_free(ends);
        return EVENTLOG_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        segs[i] = log->segs[i];
        segs[i]->refs++;
        ends[i] = segs[i]->base + segs[i]->count;
        if (ends[i] > log->durable_offset)
            ends[i] = log->durable_offset;
    }
    pthread_mutex_unlock(&log->lock);

    int rc = EVENTLOG_OK;
    for (size_t i = 0; i < n && rc == EVENTLOG_OK; i++)
        if (ends[i] > segs[i]->base) {
            rc = erase_in_file(log, segs[i]->fd, segs[i]->base, ends[i], user_id, &count, true);
            if (rc == EVENTLOG_OK)
                rc = erase_in_mirrors(log, segs[i]->base, ends[i], user_id);
        }
    pthread_mutex_lock(&log->lock);
    for (size_t i = 0; i < n; i++)
        el_segment_unref(segs[i]);
    pthread_mutex_unlock(&log->lock);
    reel_free(segs);
    reel_free(ends);
    if (erased)
        *erased = count;
    if (rc != EVENTLOG_OK)
        log_error("event=eventlog_erase_failed dir=%s", log->dir);
    return rc;
}
