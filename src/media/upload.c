/*
 * upload.c — see upload.h for the format and the guarantees.
 *
 * The offset is never stored: it is the size of the .part file, read after
 * taking the lock. Keeping it in the .info file would need a second write
 * per append and could disagree with the bytes after a crash; the file's
 * own size cannot.
 */
#include "media/upload.h"

#include "media/layout.h"

#include "core/clock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static const char info_magic[8] = {'R', 'E', 'E', 'L', 'U', 'P', 'L', '1'};
enum { INFO_HEADER = 36 };

bool media_upload_id_valid(const char *s)
{
    for (int i = 0; i < MEDIA_UPLOAD_ID_LEN; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return s[MEDIA_UPLOAD_ID_LEN] == '\0';
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* <site>/media/.uploads/<id><suffix> */
static int upload_path(const char *site_dir, const char *id, const char *suffix, char *out,
                       size_t size)
{
    char dir[MEDIA_PATH_MAX];
    if (media_layout_uploads_dir(site_dir, dir, sizeof dir) < 0)
        return -1;
    int n = snprintf(out, size, "%s/%s%s", dir, id, suffix);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int64_t mtime_ms(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
}

/* Reads and checks <id>.info and the owner. */
static int read_info(const char *site_dir, const char *id, uint64_t owner,
                     struct media_upload_info *info)
{
    char path[MEDIA_PATH_MAX];
    unsigned char header[INFO_HEADER];
    if (!media_upload_id_valid(id))
        return MEDIA_UPLOAD_INVALID;
    if (upload_path(site_dir, id, ".info", path, sizeof path) < 0)
        return MEDIA_UPLOAD_IO;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? MEDIA_UPLOAD_NOT_FOUND : MEDIA_UPLOAD_IO;
    int rc = MEDIA_UPLOAD_IO;
    memset(info, 0, sizeof *info);
    if (pread(fd, header, sizeof header, 0) != (ssize_t)sizeof header ||
        memcmp(header, info_magic, sizeof info_magic) != 0)
        goto out;
    info->size = get_u64(header + 8);
    info->owner = get_u64(header + 16);
    info->created_ms = (int64_t)get_u64(header + 24);
    uint32_t meta = (uint32_t)header[32] | (uint32_t)header[33] << 8 | (uint32_t)header[34] << 16 |
                    (uint32_t)header[35] << 24;
    if (meta > MEDIA_UPLOAD_METADATA_MAX ||
        pread(fd, info->metadata, meta, INFO_HEADER) != (ssize_t)meta)
        goto out;
    info->metadata_len = meta;
    memcpy(info->id, id, MEDIA_UPLOAD_ID_LEN + 1);
    rc = info->owner == owner ? MEDIA_UPLOAD_OK : MEDIA_UPLOAD_FORBIDDEN;
out:
    close(fd);
    return rc;
}

int media_upload_create(const char *site_dir, uint64_t owner, uint64_t size, uint64_t max_size,
                        const void *metadata, size_t metadata_len, struct media_upload_info *info)
{
    char part[MEDIA_PATH_MAX], tmp[MEDIA_PATH_MAX], final[MEDIA_PATH_MAX], dir[MEDIA_PATH_MAX];
    unsigned char header[INFO_HEADER];
    unsigned char random[MEDIA_UPLOAD_ID_LEN / 2];

    if (size == 0 || metadata_len > MEDIA_UPLOAD_METADATA_MAX)
        return MEDIA_UPLOAD_INVALID;
    if (size > max_size)
        return MEDIA_UPLOAD_TOO_BIG;
    if (sodium_init() < 0 || media_layout_prepare(site_dir) < 0 ||
        media_layout_uploads_dir(site_dir, dir, sizeof dir) < 0)
        return MEDIA_UPLOAD_IO;
    memset(info, 0, sizeof *info);
    randombytes_buf(random, sizeof random);
    sodium_bin2hex(info->id, sizeof info->id, random, sizeof random);
    if (upload_path(site_dir, info->id, ".part", part, sizeof part) < 0 ||
        upload_path(site_dir, info->id, ".info.tmp", tmp, sizeof tmp) < 0 ||
        upload_path(site_dir, info->id, ".info", final, sizeof final) < 0)
        return MEDIA_UPLOAD_IO;

    info->size = size;
    info->owner = owner;
    info->created_ms = info->updated_ms = clock_now_ms();
    info->metadata_len = metadata_len;
    if (metadata_len)
        memcpy(info->metadata, metadata, metadata_len);
    memcpy(header, info_magic, sizeof info_magic);
    put_u64(header + 8, size);
    put_u64(header + 16, owner);
    put_u64(header + 24, (uint64_t)info->created_ms);
    for (int i = 0; i < 4; i++)
        header[32 + i] = (unsigned char)(metadata_len >> (8 * i));

    int part_fd = open(part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (part_fd < 0)
        return MEDIA_UPLOAD_IO;
    close(part_fd);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        goto fail;
    if (write_all(fd, header, sizeof header) < 0 ||
        (metadata_len && write_all(fd, metadata, metadata_len) < 0) || fsync(fd) < 0) {
        close(fd);
        goto fail;
    }
    if (close(fd) < 0 || rename(tmp, final) < 0 || media_layout_sync_dir(dir) < 0)
        goto fail;
    return MEDIA_UPLOAD_OK;
fail:
    unlink(tmp);
    unlink(final);
    unlink(part);
    return MEDIA_UPLOAD_IO;
}

int media_upload_stat(const char *site_dir, const char *id, uint64_t owner,
                      struct media_upload_info *info)
{
    char part[MEDIA_PATH_MAX];
    struct stat st;
    int rc = read_info(site_dir, id, owner, info);
    if (rc != MEDIA_UPLOAD_OK)
        return rc;
    if (upload_path(site_dir, id, ".part", part, sizeof part) < 0)
        return MEDIA_UPLOAD_IO;
    if (stat(part, &st) < 0)
        return errno == ENOENT ? MEDIA_UPLOAD_NOT_FOUND : MEDIA_UPLOAD_IO;
    info->offset = (uint64_t)st.st_size;
    info->updated_ms = mtime_ms(&st);
    return MEDIA_UPLOAD_OK;
}

/* Opens <id>.part and takes its lock without waiting. */
static int open_locked(const char *site_dir, const char *id, int flags, int *fd_out)
{
    char part[MEDIA_PATH_MAX];
    if (upload_path(site_dir, id, ".part", part, sizeof part) < 0)
        return MEDIA_UPLOAD_IO;
    int fd = open(part, flags | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? MEDIA_UPLOAD_NOT_FOUND : MEDIA_UPLOAD_IO;
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int busy = errno == EWOULDBLOCK;
        close(fd);
        return busy ? MEDIA_UPLOAD_BUSY : MEDIA_UPLOAD_IO;
    }
    *fd_out = fd;
    return MEDIA_UPLOAD_OK;
}

int media_upload_begin(struct media_upload_writer *w, const char *site_dir, const char *id,
                       uint64_t owner, uint64_t offset, struct media_upload_info *info)
{
    struct media_upload_info local;
    struct stat st;
    int fd;
    if (!info)
        info = &local;
    memset(w, 0, sizeof *w);
    w->fd = -1;
    int rc = read_info(site_dir, id, owner, info);
    if (rc != MEDIA_UPLOAD_OK)
        return rc;
    rc = open_locked(site_dir, id, O_WRONLY | O_APPEND, &fd);
    if (rc != MEDIA_UPLOAD_OK)
        return rc;
    if (fstat(fd, &st) < 0) {
        close(fd);
        return MEDIA_UPLOAD_IO;
    }
    info->offset = (uint64_t)st.st_size;
    info->updated_ms = mtime_ms(&st);
    if (offset != info->offset) {
        close(fd);
        return MEDIA_UPLOAD_CONFLICT;
    }
    w->fd = fd;
    w->offset = info->offset;
    w->size = info->size;
    return MEDIA_UPLOAD_OK;
}

int media_upload_write(struct media_upload_writer *w, const void *data, size_t len)
{
    if (w->fd < 0 || w->failed)
        return MEDIA_UPLOAD_IO;
    if (len > w->size - w->offset)
        return MEDIA_UPLOAD_TOO_BIG;
    if (write_all(w->fd, data, len) < 0) {
        w->failed = true;
        return MEDIA_UPLOAD_IO;
    }
    w->offset += len;
    return MEDIA_UPLOAD_OK;
}

int media_upload_end(struct media_upload_writer *w, uint64_t *offset)
{
    int rc = MEDIA_UPLOAD_OK;
    if (w->fd < 0)
        return MEDIA_UPLOAD_IO;
    struct stat st;
    if (fdatasync(w->fd) < 0 || fstat(w->fd, &st) < 0)
        rc = MEDIA_UPLOAD_IO;
    else
        w->offset = (uint64_t)st.st_size; /* a failed write may have left a part */
    if (offset)
        *offset = w->offset;
    close(w->fd); /* releases the flock */
    w->fd = -1;
    return w->failed ? MEDIA_UPLOAD_IO : rc;
}

int media_upload_finish(const char *site_dir, const char *id, uint64_t owner, char *path,
                        size_t path_size)
{
    struct media_upload_info info;
    char part[MEDIA_PATH_MAX], meta[MEDIA_PATH_MAX], dir[MEDIA_PATH_MAX];
    struct stat st;
    int fd;
    int rc = read_info(site_dir, id, owner, &info);
    if (rc != MEDIA_UPLOAD_OK)
        return rc;
    rc = open_locked(site_dir, id, O_RDONLY, &fd);
    if (rc != MEDIA_UPLOAD_OK)
        return rc;
    if (upload_path(site_dir, id, ".part", part, sizeof part) < 0 ||
        upload_path(site_dir, id, ".info", meta, sizeof meta) < 0 ||
        upload_path(site_dir, id, ".done", path, path_size) < 0 ||
        media_layout_uploads_dir(site_dir, dir, sizeof dir) < 0 || fstat(fd, &st) < 0) {
        rc = MEDIA_UPLOAD_IO;
    } else if ((uint64_t)st.st_size != info.size) {
        rc = MEDIA_UPLOAD_INCOMPLETE;
    } else if (rename(part, path) < 0 || unlink(meta) < 0) {
        rc = MEDIA_UPLOAD_IO;
    } else {
        media_layout_sync_dir(dir);
    }
    close(fd);
    return rc;
}

int media_upload_delete(const char *site_dir, const char *id, uint64_t owner)
{
    struct media_upload_info info;
    char part[MEDIA_PATH_MAX], meta[MEDIA_PATH_MAX];
    int rc = read_info(site_dir, id, owner, &info);
    if (rc != MEDIA_UPLOAD_OK)
        return rc;
    if (upload_path(site_dir, id, ".part", part, sizeof part) < 0 ||
        upload_path(site_dir, id, ".info", meta, sizeof meta) < 0)
        return MEDIA_UPLOAD_IO;
    /* The .info first: without it the upload no longer exists, even if
     * removing the bytes fails (expiry sweeps them). */
    if (unlink(meta) < 0)
        return errno == ENOENT ? MEDIA_UPLOAD_NOT_FOUND : MEDIA_UPLOAD_IO;
    if (unlink(part) < 0 && errno != ENOENT)
        return MEDIA_UPLOAD_IO;
    return MEDIA_UPLOAD_OK;
}

int media_upload_expire(const char *site_dir, int64_t now_ms, int64_t max_idle_ms)
{
    char dir[MEDIA_PATH_MAX], path[MEDIA_PATH_MAX], other[MEDIA_PATH_MAX];
    if (media_layout_uploads_dir(site_dir, dir, sizeof dir) < 0)
        return -1;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : -1;
    int removed = 0;
    for (struct dirent *e; (e = readdir(d));) {
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path ||
            lstat(path, &st) < 0 || now_ms - mtime_ms(&st) <= max_idle_ms)
            continue;
        const char *dot = strchr(e->d_name, '.');
        if (dot && strcmp(dot, ".part") == 0) {
            /* An idle upload: its .info goes with it. */
            if (snprintf(other, sizeof other, "%.*s.info", (int)(dot - e->d_name), e->d_name) <
                    (int)sizeof other &&
                snprintf(path, sizeof path, "%s/%s", dir, other) < (int)sizeof path)
                unlink(path);
            if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < (int)sizeof path &&
                unlink(path) == 0)
                removed++;
            continue;
        }
        if (dot && strcmp(dot, ".info") == 0) {
            /* Only stale if its .part is gone too (the .part's age rules). */
            if (snprintf(other, sizeof other, "%s/%.*s.part", dir, (int)(dot - e->d_name),
                         e->d_name) < (int)sizeof other &&
                access(other, F_OK) == 0)
                continue;
        }
        /* .info without bytes, .info.tmp of a broken create, an old .done
         * never submitted, anything else: stray. */
        unlink(path);
    }
    closedir(d);
    return removed;
}

int media_upload_recover(const char *site_dir)
{
    char dir[MEDIA_PATH_MAX], path[MEDIA_PATH_MAX];
    if (media_layout_uploads_dir(site_dir, dir, sizeof dir) < 0)
        return -1;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : -1;
    int removed = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        bool done = n > 5 && strcmp(e->d_name + n - 5, ".done") == 0;
        bool tmp = n > 9 && strcmp(e->d_name + n - 9, ".info.tmp") == 0;
        if ((done || tmp) && snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < (int)sizeof path &&
            unlink(path) == 0)
            removed++;
    }
    closedir(d);
    return removed;
}
