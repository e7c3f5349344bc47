/*
 * custody.c — see custody.h. Creation writes a temporary file with O_EXCL and
 * mode 0600, fsyncs it and renames it into place, so a crash never leaves a
 * half-written key and two processes never create two different keys.
 */
#include "region/custody.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "REELKEY1"
#define FILE_BYTES (8 + CUSTODY_KEY_BYTES + 4)

static void key_check(const unsigned char key[CUSTODY_KEY_BYTES], unsigned char out[4])
{
    unsigned char h[32];
    crypto_generichash(h, sizeof h, key, CUSTODY_KEY_BYTES, NULL, 0);
    memcpy(out, h, 4);
}

int custody_key_load(const char *path, unsigned char key[CUSTODY_KEY_BYTES], char *err,
                     size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "key file %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    unsigned char buf[FILE_BYTES + 1];
    ssize_t n = -1;
    if (fstat(fd, &st) == 0)
        n = read(fd, buf, sizeof buf);
    close(fd);
    if (n < 0) {
        snprintf(err, errlen, "key file %s: cannot read", path);
        return -1;
    }
    if (st.st_mode & 077) {
        snprintf(err, errlen, "key file %s: readable by group or others (mode %03o); chmod 600 it",
                 path, (unsigned)(st.st_mode & 0777));
        return -1;
    }
    unsigned char check[4];
    if (n != FILE_BYTES || memcmp(buf, MAGIC, 8) != 0) {
        snprintf(err, errlen, "key file %s: not a Reel key file", path);
        return -1;
    }
    key_check(buf + 8, check);
    if (memcmp(check, buf + 8 + CUSTODY_KEY_BYTES, 4) != 0) {
        snprintf(err, errlen, "key file %s: damaged (check bytes do not match)", path);
        sodium_memzero(buf, sizeof buf);
        return -1;
    }
    memcpy(key, buf + 8, CUSTODY_KEY_BYTES);
    sodium_memzero(buf, sizeof buf);
    return 0;
}

static int make_parent(const char *path)
{
    char dir[1024];
    int n = snprintf(dir, sizeof dir, "%s", path);
    if (n < 0 || (size_t)n >= sizeof dir)
        return -1;
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return 0;
}

int custody_key_load_or_create(const char *path, unsigned char key[CUSTODY_KEY_BYTES], char *err,
                               size_t errlen)
{
    if (access(path, F_OK) == 0)
        return custody_key_load(path, key, err, errlen);
    if (make_parent(path) < 0) {
        snprintf(err, errlen, "key file %s: cannot create its directory: %s", path,
                 strerror(errno));
        return -1;
    }
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "key file %s: %s", tmp, strerror(errno));
        return -1;
    }
    unsigned char buf[FILE_BYTES];
    memcpy(buf, MAGIC, 8);
    randombytes_buf(buf + 8, CUSTODY_KEY_BYTES);
    key_check(buf + 8, buf + 8 + CUSTODY_KEY_BYTES);
    int ok = write(fd, buf, sizeof buf) == (ssize_t)sizeof buf && fsync(fd) == 0;
    close(fd);
    if (!ok || link(tmp, path) < 0) {
        int saved = errno;
        unlink(tmp);
        sodium_memzero(buf, sizeof buf);
        if (ok && saved == EEXIST) /* another process created it first: use theirs */
            return custody_key_load(path, key, err, errlen);
        snprintf(err, errlen, "key file %s: cannot create: %s", path, strerror(saved));
        return -1;
    }
    unlink(tmp);
    memcpy(key, buf + 8, CUSTODY_KEY_BYTES);
    sodium_memzero(buf, sizeof buf);
    return 0;
}
