/*
 * eventlog_mirror.c — a region's event log copied to its replica sites
 * (issue 6, replication within borders).
 *
 * Each replica site holds byte-identical copies of the segment files, under
 * the same names. The flush leader writes a group of records to the primary
 * segment, syncs it, then writes the same bytes at the same position of
 * every healthy copy and syncs those, and only then publishes the new
 * durable offset — so a batch acknowledged 202 is on disk at every healthy
 * replica site, and a promoted replica has every acknowledged event.
 *
 * A copy that fails a write or a sync is dropped (writes go on with the
 * others: availability over the number of copies, and the logs say so) and
 * marked with a STALE file in its directory: `reel site promote` refuses a
 * site with a stale copy. At open, before anything is appended, every copy
 * is brought up to date:
 *   - a STALE copy is copied whole again;
 *   - a missing segment is copied; a shorter one gets the missing tail; a
 *     longer one (writes the primary never acknowledged) is cut back;
 *   - the last 64 KiB of each segment are compared byte for byte, and a
 *     difference means the copy is copied whole;
 *   - segments retention removed from the primary are removed.
 * Erasure rewrites each copy independently (eventlog_erase.c), so running it
 * again mends a copy a crash left behind.
 */
#include "events/eventlog_int.h"

#include "core/alloc.h"
#include "core/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TAIL_CHECK (64 * 1024)

static void mark_stale(struct mirror *m, const char *why)
{
    char path[LOG_PATH_MAX + 8];
    snprintf(path, sizeof path, "%s/STALE", m->dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
        if (write(fd, why, strlen(why)) < 0 || fsync(fd) < 0)
            log_error("event=eventlog_mirror_stale_marker_failed dir=%s", m->dir);
        close(fd);
    }
    if (m->healthy)
        log_error("event=eventlog_mirror_dropped dir=%s reason=\"%s\"", m->dir, why);
    m->healthy = false;
    if (m->fd >= 0)
        close(m->fd);
    m->fd = -1;
}

/* Copies bytes [from, to) of src into dst at the same positions. */
static int copy_range(int src, int dst, uint64_t from, uint64_t to)
{
    unsigned char buf[256 * 1024];
    while (from < to) {
        size_t n = to - from < sizeof buf ? (size_t)(to - from) : sizeof buf;
        if (el_read_all(src, buf, n, (off_t)from) < 0 || el_write_all(dst, buf, n, (off_t)from) < 0)
            return -1;
        from += n;
    }
    return 0;
}

static bool tails_match(int a, int b, uint64_t size)
{
    static __thread unsigned char x[TAIL_CHECK], y[TAIL_CHECK];
    uint64_t from = size > TAIL_CHECK ? size - TAIL_CHECK : 0;
    size_t n = (size_t)(size - from);
    return el_read_all(a, x, n, (off_t)from) == 0 && el_read_all(b, y, n, (off_t)from) == 0 &&
           memcmp(x, y, n) == 0;
}

/* Brings one segment's copy up to date; returns its fd (open for writing)
 * if it is the active segment's, 0 otherwise, -1 on failure. */
static int sync_segment(const struct segment *s, uint64_t size, const char *dir, bool whole,
                        bool keep_open)
{
    char path[LOG_PATH_MAX];
    el_segment_file(dir, s->base, "", path);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) < 0)
        goto fail;
    uint64_t have = (uint64_t)st.st_size;
    if (whole || (have >= size && !tails_match(s->fd, fd, size)))
        have = 0;
    if (have > size && ftruncate(fd, (off_t)size) < 0)
        goto fail;
    if (have < size && copy_range(s->fd, fd, have, size) < 0)
        goto fail;
    if (fdatasync(fd) < 0)
        goto fail;
    if (keep_open)
        return fd;
    close(fd);
    return 0;
fail:
    close(fd);
    return -1;
}

/* Removes copies of segments the primary no longer has. */
static void remove_retained(struct eventlog *log, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        unsigned long long base;
        char rest[8];
        if (sscanf(e->d_name, "%20llu.seg%7s", &base, rest) != 1)
            continue;
        if (base >= log->first_offset)
            continue;
        char path[LOG_PATH_MAX + 300];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
}

int el_mirrors_open(struct eventlog *log, char *err, size_t errlen)
{
    for (int i = 0; i < log->opts.mirror_count && i < EVENTLOG_MAX_MIRRORS; i++) {
        struct mirror *m = &log->mirrors[i];
        m->fd = -1;
        log->mirror_count = i + 1;
        if (snprintf(m->dir, sizeof m->dir, "%s", log->opts.mirror_dirs[i]) >= (int)sizeof m->dir ||
            el_make_dir(m->dir) < 0) {
            snprintf(err, errlen, "event log copy %s: cannot create: %s", log->opts.mirror_dirs[i],
                     strerror(errno));
            return -1;
        }
        char marker[LOG_PATH_MAX + 8];
        snprintf(marker, sizeof marker, "%s/STALE", m->dir);
        bool whole = access(marker, F_OK) == 0;
        for (size_t k = 0; k < log->seg_count; k++) {
            const struct segment *s = log->segs[k];
            bool active = k + 1 == log->seg_count;
            uint64_t size = active ? log->active_bytes : SEG_HEADER_SIZE + s->count * RECORD_SIZE;
            int fd = sync_segment(s, size, m->dir, whole, active);
            if (fd < 0) {
                snprintf(err, errlen, "event log copy %s: cannot bring it up to date: %s", m->dir,
                         strerror(errno));
                return -1;
            }
            if (active)
                m->fd = fd;
        }
        remove_retained(log, m->dir);
        if (el_sync_dir(m->dir) < 0) {
            snprintf(err, errlen, "event log copy %s: %s", m->dir, strerror(errno));
            return -1;
        }
        unlink(marker);
        m->healthy = true;
    }
    return 0;
}

void el_mirrors_close(struct eventlog *log)
{
    for (int i = 0; i < log->mirror_count; i++)
        if (log->mirrors[i].fd >= 0)
            close(log->mirrors[i].fd);
    log->mirror_count = 0;
}

void el_mirrors_append(struct eventlog *log, const void *data, size_t len, uint64_t at)
{
    for (int i = 0; i < log->mirror_count; i++) {
        struct mirror *m = &log->mirrors[i];
        if (!m->healthy)
            continue;
        if (el_write_all(m->fd, data, len, (off_t)at) < 0 ||
            (log->opts.fsync && el_sys.fdatasync(m->fd) < 0))
            mark_stale(m, "write or sync failed");
    }
}

void el_mirrors_segment_created(struct eventlog *log, uint64_t base, const unsigned char *header,
                                size_t header_len)
{
    for (int i = 0; i < log->mirror_count; i++) {
        struct mirror *m = &log->mirrors[i];
        if (!m->healthy)
            continue;
        char path[LOG_PATH_MAX];
        el_segment_file(m->dir, base, "", path);
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || el_write_all(fd, header, header_len, 0) < 0 || fdatasync(fd) < 0 ||
            el_sync_dir(m->dir) < 0) {
            if (fd >= 0)
                close(fd);
            mark_stale(m, "new segment could not be created");
            continue;
        }
        if (m->fd >= 0)
            close(m->fd);
        m->fd = fd;
    }
}

void el_mirrors_segment_removed(struct eventlog *log, uint64_t base)
{
    for (int i = 0; i < log->mirror_count; i++) {
        char path[LOG_PATH_MAX];
        el_segment_file(log->mirrors[i].dir, base, "", path);
        unlink(path);
    }
}

int eventlog_mirrors_healthy(struct eventlog *log)
{
    pthread_mutex_lock(&log->lock);
    int n = 0;
    for (int i = 0; i < log->mirror_count; i++)
        n += log->mirrors[i].healthy;
    pthread_mutex_unlock(&log->lock);
    return n;
}
