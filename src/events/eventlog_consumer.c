/*
 * eventlog_consumer.c — consumers' durable offsets and retention for the
 * embedded event log (see eventlog.h and README.md).
 *
 * A consumer's committed offset is one small file, consumers/<name>.offset,
 * replaced atomically (write a temporary file, fdatasync, rename, sync the
 * directory), so a crash leaves the old or the new value, never a mix. The
 * log keeps every registered consumer's committed offset in memory; the
 * smallest one is the retention floor: a segment holding any offset at or
 * past it is kept, unless the log is configured to ignore consumers.
 */
#include "events/eventlog_int.h"

#include "core/alloc.h"
#include "core/log.h"
#include "core/crc32c.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char CONSUMER_MAGIC[8] = {'R', 'E', 'E', 'L', 'C', 'O', 'N', 'S'};

/* ---- consumers ------------------------------------------------------------- */

static bool valid_consumer_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > EVENTLOG_CONSUMER_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return false;
    }
    return true;
}

static void consumer_path(const struct eventlog *log, const char *name, const char *suffix,
                          char *out)
{
    if (snprintf(out, LOG_PATH_MAX, "%s/consumers/%s%s", log->dir, name, suffix) >= LOG_PATH_MAX)
        out[0] = '\0';
}

static void consumer_dir(const struct eventlog *log, char *out)
{
    if (snprintf(out, LOG_PATH_MAX, "%s/consumers", log->dir) >= LOG_PATH_MAX)
        out[0] = '\0';
}

/* Consumer file: magic (8) | committed offset (8, LE) | crc32c of the 16
 * bytes before (4) | zero (4). */
static int consumer_file_write(struct eventlog *log, const char *name, uint64_t committed)
{
    char dir[LOG_PATH_MAX], tmp[LOG_PATH_MAX], path[LOG_PATH_MAX];
    consumer_dir(log, dir);
    consumer_path(log, name, ".tmp", tmp);
    consumer_path(log, name, ".offset", path);
    if (el_make_dir(dir) < 0)
        return -1;
    unsigned char rec[24] = {0};
    memcpy(rec, CONSUMER_MAGIC, 8);
    el_put64(rec + 8, committed);
    el_put32(rec + 16, crc32c(0, rec, 16));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    int rc = el_write_all(fd, rec, sizeof rec, 0) < 0 || el_sys.fdatasync(fd) < 0 ? -1 : 0;
    close(fd);
    if (rc == 0 && (rename(tmp, path) < 0 || el_sync_dir(dir) < 0))
        rc = -1;
    if (rc < 0)
        unlink(tmp);
    return rc;
}

int el_load_consumers(struct eventlog *log, char *err, size_t errlen)
{
    char dir[LOG_PATH_MAX];
    consumer_dir(log, dir);
    DIR *d = opendir(dir);
    if (!d)
        return 0; /* none registered yet */
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d)) && rc == 0) {
        size_t len = strlen(de->d_name);
        if (len <= 7 || strcmp(de->d_name + len - 7, ".offset") != 0)
            continue;
        char name[EVENTLOG_CONSUMER_NAME_MAX + 1];
        if (len - 7 > EVENTLOG_CONSUMER_NAME_MAX)
            continue;
        memcpy(name, de->d_name, len - 7);
        name[len - 7] = '\0';
        if (!valid_consumer_name(name))
            continue;
        char path[LOG_PATH_MAX];
        consumer_path(log, name, ".offset", path);
        unsigned char rec[24];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        bool ok = fd >= 0 && el_read_all(fd, rec, sizeof rec, 0) == 0 &&
                  memcmp(rec, CONSUMER_MAGIC, 8) == 0 && el_get32(rec + 16) == crc32c(0, rec, 16);
        if (fd >= 0)
            close(fd);
        if (!ok) {
            snprintf(err, errlen, "%s: damaged consumer offset file", path);
            rc = -1;
        } else if (log->consumer_count >= MAX_CONSUMERS) {
            snprintf(err, errlen, "%s: more than %d consumers", dir, MAX_CONSUMERS);
            rc = -1;
        } else {
            struct consumer_slot *slot = &log->consumers[log->consumer_count++];
            snprintf(slot->name, sizeof slot->name, "%s", name);
            slot->committed = el_get64(rec + 8);
        }
    }
    closedir(d);
    return rc;
}

static struct consumer_slot *find_consumer(struct eventlog *log, const char *name)
{
    for (int i = 0; i < log->consumer_count; i++)
        if (strcmp(log->consumers[i].name, name) == 0)
            return &log->consumers[i];
    return NULL;
}

int eventlog_consumer_open(struct eventlog *log, const char *name, struct eventlog_consumer **out)
{
    if (!valid_consumer_name(name))
        return EVENTLOG_INVALID;
    struct eventlog_consumer *c = reel_calloc(1, sizeof *c);
    if (!c)
        return EVENTLOG_NOMEM;
    c->log = log;
    snprintf(c->name, sizeof c->name, "%s", name);
    pthread_mutex_lock(&log->lock);
    struct consumer_slot *slot = find_consumer(log, name);
    int rc = EVENTLOG_OK;
    if (slot) {
        c->committed = slot->committed;
    } else if (log->opts.read_only) {
        c->committed = log->first_offset;
    } else if (log->consumer_count >= MAX_CONSUMERS) {
        rc = EVENTLOG_INVALID;
    } else if (consumer_file_write(log, name, log->first_offset) < 0) {
        rc = EVENTLOG_IO;
    } else {
        slot = &log->consumers[log->consumer_count++];
        snprintf(slot->name, sizeof slot->name, "%s", name);
        slot->committed = c->committed = log->first_offset;
    }
    pthread_mutex_unlock(&log->lock);
    if (rc != EVENTLOG_OK) {
        reel_free(c);
        return rc;
    }
    c->position = c->committed;
    *out = c;
    return EVENTLOG_OK;
}

int eventlog_consumer_read(struct eventlog_consumer *c, struct eventlog_record *out, size_t max,
                           size_t *n)
{
    uint64_t next = c->position;
    int rc = eventlog_read(c->log, c->position, out, max, n, &next);
    if (rc == EVENTLOG_OK)
        c->position = next;
    return rc;
}

int eventlog_consumer_commit(struct eventlog_consumer *c, uint64_t next_offset)
{
    struct eventlog *log = c->log;
    if (log->opts.read_only)
        return EVENTLOG_READONLY;
    if (next_offset > eventlog_end_offset(log))
        return EVENTLOG_INVALID;
    if (consumer_file_write(log, c->name, next_offset) < 0)
        return EVENTLOG_IO;
    pthread_mutex_lock(&log->lock);
    struct consumer_slot *slot = find_consumer(log, c->name);
    if (slot)
        slot->committed = next_offset;
    pthread_mutex_unlock(&log->lock);
    c->committed = next_offset;
    return EVENTLOG_OK;
}

void eventlog_consumer_seek(struct eventlog_consumer *c, uint64_t offset)
{
    c->position = offset;
}

uint64_t eventlog_consumer_position(const struct eventlog_consumer *c)
{
    return c->position;
}

uint64_t eventlog_consumer_committed(const struct eventlog_consumer *c)
{
    return c->committed;
}

void eventlog_consumer_close(struct eventlog_consumer *c)
{
    reel_free(c);
}

int eventlog_consumer_delete(struct eventlog *log, const char *name)
{
    if (!valid_consumer_name(name))
        return EVENTLOG_INVALID;
    if (log->opts.read_only)
        return EVENTLOG_READONLY;
    char path[LOG_PATH_MAX];
    consumer_path(log, name, ".offset", path);
    pthread_mutex_lock(&log->lock);
    struct consumer_slot *slot = find_consumer(log, name);
    int rc = EVENTLOG_INVALID;
    if (slot) {
        rc = unlink(path) < 0 && errno != ENOENT ? EVENTLOG_IO : EVENTLOG_OK;
        if (rc == EVENTLOG_OK)
            *slot = log->consumers[--log->consumer_count];
    }
    pthread_mutex_unlock(&log->lock);
    return rc;
}

/* ---- retention ---------------------------------------------------------------- */

/* Detaches the segments to delete from segs[] (oldest first, never the
 * active one) and returns them; the caller unlinks and unrefs them. */
size_t el_retain_locked(struct eventlog *log, int64_t now_ms, struct segment **doomed, size_t max)
{
    const struct eventlog_options *o = &log->opts;
    if (!o->retention_bytes && !o->retention_age_ms)
        return 0;
    uint64_t protect = UINT64_MAX;
    if (!o->retention_ignores_consumers)
        for (int i = 0; i < log->consumer_count; i++)
            if (log->consumers[i].committed < protect)
                protect = log->consumers[i].committed;
    uint64_t total = 0;
    for (size_t i = 0; i < log->seg_count; i++)
        total += SEG_HEADER_SIZE + log->segs[i]->count * RECORD_SIZE;
    size_t n = 0;
    while (n < max && n + 1 < log->seg_count) {
        struct segment *s = log->segs[n];
        uint64_t size = SEG_HEADER_SIZE + s->count * RECORD_SIZE;
        bool too_old = o->retention_age_ms && s->newest_ms &&
                       s->newest_ms < now_ms - (int64_t)o->retention_age_ms;
        bool too_big = o->retention_bytes && total > o->retention_bytes;
        if (!too_old && !too_big)
            break;
        if (s->base + s->count > protect)
            break; /* a consumer still needs some of it */
        doomed[n++] = s;
        total -= size;
    }
    if (n) {
        memmove(log->segs, log->segs + n, (log->seg_count - n) * sizeof *log->segs);
        log->seg_count -= n;
        log->first_offset = log->segs[0]->base;
        log_info("event=eventlog_retention dir=%s segments_deleted=%zu first_offset=%llu", log->dir,
                 n, (unsigned long long)log->first_offset);
    }
    return n;
}

int eventlog_retain(struct eventlog *log, int64_t now_ms, size_t *deleted)
{
    if (log->opts.read_only)
        return EVENTLOG_READONLY;
    struct segment *doomed[64];
    size_t total = 0, n;
    int rc = EVENTLOG_OK;
    do {
        pthread_mutex_lock(&log->lock);
        n = el_retain_locked(log, now_ms, doomed, 64);
        pthread_mutex_unlock(&log->lock);
        for (size_t i = 0; i < n; i++) {
            if (unlink(doomed[i]->path) < 0 && errno != ENOENT)
                rc = EVENTLOG_IO;
            pthread_mutex_lock(&log->lock);
            el_mirrors_segment_removed(log, doomed[i]->base);
            el_segment_unref(doomed[i]);
            pthread_mutex_unlock(&log->lock);
        }
        total += n;
    } while (n == 64);
    if (deleted)
        *deleted = total;
    return rc;
}
