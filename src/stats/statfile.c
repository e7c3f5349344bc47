/*
 * statfile.c — see statfile.h.
 */
#include "stats/statfile.h"

#include "core/alloc.h"
#include "core/config.h"
#include "core/crc32c.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void statfile_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

void statfile_put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

void statfile_put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

uint16_t statfile_get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

uint32_t statfile_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t statfile_get_u64(const uint8_t *p)
{
    return (uint64_t)statfile_get_u32(p) | (uint64_t)statfile_get_u32(p + 4) << 32;
}

static int write_all(int fd, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int fsync_parent(const char *path)
{
    char dir[CONFIG_PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else if ((size_t)(slash - path) < sizeof dir)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    else
        return -1;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int statfile_write(const char *path, const char magic[8], uint32_t version, const void *payload,
                   size_t len, char *err, size_t errlen)
{
    char tmp[CONFIG_PATH_MAX + 8];
    uint8_t header[STATFILE_HEADER_BYTES] = {0};
    uint8_t trailer[STATFILE_TRAILER_BYTES];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        snprintf(err, errlen, "%s: path too long", path);
        return STATFILE_EIO;
    }
    memcpy(header, magic, 8);
    statfile_put_u32(header + 8, version);
    statfile_put_u64(header + 16, len);
    uint32_t crc = crc32c(0, header, sizeof header);
    crc = crc32c(crc, payload, len);
    statfile_put_u32(trailer, crc);

    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        goto fail;
    if (write_all(fd, header, sizeof header) < 0 || write_all(fd, payload, len) < 0 ||
        write_all(fd, trailer, sizeof trailer) < 0 || fsync(fd) < 0)
        goto fail_fd;
    if (close(fd) < 0) {
        fd = -1;
        goto fail_fd;
    }
    if (rename(tmp, path) < 0 || fsync_parent(path) < 0)
        goto fail;
    return STATFILE_OK;
fail_fd:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
fail:
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return STATFILE_EIO;
}

int statfile_read(const char *path, const char magic[8], uint32_t *version, uint8_t **payload,
                  size_t *len, size_t max_len, char *err, size_t errlen)
{
    *payload = NULL;
    *len = 0;
    uint8_t header[STATFILE_HEADER_BYTES], trailer[STATFILE_TRAILER_BYTES];
    uint8_t *body = NULL;
    int rc = STATFILE_ECORRUPT;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return errno == ENOENT ? STATFILE_ENOENT : STATFILE_EIO;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
        return STATFILE_EIO;
    }
    size_t size = (size_t)st.st_size;
    if (size < sizeof header + sizeof trailer) {
        snprintf(err, errlen, "%s: truncated (%zu bytes, a header alone is %d)", path, size,
                 STATFILE_HEADER_BYTES);
        goto out;
    }
    if (pread(fd, header, sizeof header, 0) != (ssize_t)sizeof header)
        goto io;
    if (memcmp(header, magic, 8) != 0) {
        snprintf(err, errlen, "%s: not a %.8s file (bad magic)", path, magic);
        goto out;
    }
    uint64_t body_len = statfile_get_u64(header + 16);
    if (body_len > max_len) {
        snprintf(err, errlen, "%s: payload of %llu bytes is larger than the %zu allowed", path,
                 (unsigned long long)body_len, max_len);
        goto out;
    }
    if (size != sizeof header + body_len + sizeof trailer) {
        snprintf(err, errlen, "%s: %s (%zu bytes, header says %llu)", path,
                 size < sizeof header + body_len + sizeof trailer ? "truncated" : "trailing bytes",
                 size, (unsigned long long)(sizeof header + body_len + sizeof trailer));
        goto out;
    }
    if (body_len) {
        body = reel_malloc((size_t)body_len);
        if (!body) {
            snprintf(err, errlen, "%s: out of memory", path);
            rc = STATFILE_ENOMEM;
            goto out;
        }
        if (pread(fd, body, (size_t)body_len, sizeof header) != (ssize_t)body_len)
            goto io;
    }
    if (pread(fd, trailer, sizeof trailer, (off_t)(sizeof header + body_len)) !=
        (ssize_t)sizeof trailer)
        goto io;
    uint32_t crc = crc32c(crc32c(0, header, sizeof header), body, (size_t)body_len);
    if (crc != statfile_get_u32(trailer)) {
        snprintf(err, errlen, "%s: checksum mismatch (file is corrupt)", path);
        goto out;
    }
    *version = statfile_get_u32(header + 8);
    *payload = body;
    *len = (size_t)body_len;
    body = NULL;
    rc = STATFILE_OK;
    goto out;
io:
    snprintf(err, errlen, "%s: read error", path);
    rc = STATFILE_EIO;
out:
    reel_free(body);
    close(fd);
    return rc;
}

int statfile_mkdirs(const char *path)
{
    char tmp[CONFIG_PATH_MAX];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(tmp, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (tmp[i] != '/' && tmp[i] != '\0')
            continue;
        char saved = tmp[i];
        tmp[i] = '\0';
        if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
            return -1;
        tmp[i] = saved;
    }
    return 0;
}
