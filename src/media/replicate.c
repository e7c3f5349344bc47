/*
 * replicate.c — see replicate.h.
 *
 * Copies use copy_file_range(2) (the kernel copies, and shares extents on
 * file systems that can), falling back to read/write when the two sites are
 * on file systems it cannot span. Only regular files with plain names are
 * copied and nothing is followed through a symlink, so a planted link can
 * never make a replica read or write outside the two media directories.
 */
#include "media/replicate.h"

#include "media/layout.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/parse.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPY_PREFIX "copy-"
#define RESULT_MAX (64 * 1024) /* result.json is a few hundred bytes */

static int fit(int n, size_t size)
{
    if (n < 0 || (size_t)n >= size) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

/* A name a published directory may hold: letters, digits, '.', '_', '-',
 * not starting with a dot. */
static bool plain_name(const char *name)
{
    if (!name[0] || name[0] == '.')
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-'))
            return false;
    return true;
}

/* A decimal video id directory name. */
static bool video_dir_name(const char *name, uint64_t *id)
{
    unsigned long long v;
    if (name[0] < '1' || name[0] > '9' || parse_ull(name, &v) < 0)
        return false;
    *id = v;
    return true;
}

static int copy_fd(int in, int out, uint64_t size)
{
    uint64_t done = 0;
    bool kernel = true;
    char buf[64 * 1024];
    while (done < size) {
        ssize_t n;
        if (kernel) {
            size_t want = size - done > (1u << 30) ? (1u << 30) : (size_t)(size - done);
            n = copy_file_range(in, NULL, out, NULL, want, 0);
            if (n < 0 &&
                (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
                kernel = false;
                continue;
            }
        } else {
            n = read(in, buf, sizeof buf);
            if (n > 0) {
                for (ssize_t w = 0; w < n;) {
                    ssize_t k = write(out, buf + w, (size_t)(n - w));
                    if (k < 0) {
                        if (errno == EINTR)
                            continue;
                        return -1;
                    }
                    w += k;
                }
            }
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0) {
            errno = EIO; /* the file shrank under us: published files never do */
            return -1;
        }
        done += (uint64_t)n;
    }
    return 0;
}

/* Copies one regular file (no symlinks followed) and fsyncs the copy. */
static int copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0)
        return -1;
    struct stat st;
    int out = -1, rc = -1;
    if (fstat(in, &st) < 0)
        goto out;
    if (!S_ISREG(st.st_mode)) {
        errno = EINVAL;
        goto out;
    }
    out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out < 0)
        goto out;
    if (copy_fd(in, out, (uint64_t)st.st_size) == 0 && fsync(out) == 0)
        rc = 0;
out : {
    int saved = errno;
    close(in);
    if (out >= 0 && close(out) < 0 && rc == 0)
        rc = -1;
    else
        errno = saved;
}
    return rc;
}

int media_replicate_video(const char *from_site, const char *to_site, uint64_t video_id)
{
    static atomic_uint copy_seq;
    char src[MEDIA_PATH_MAX], dst[MEDIA_PATH_MAX], tmp[MEDIA_PATH_MAX], incoming[MEDIA_PATH_MAX];
    char a[MEDIA_PATH_MAX], b[MEDIA_PATH_MAX], root[MEDIA_PATH_MAX];
    if (media_layout_video_dir(from_site, video_id, src, sizeof src) < 0 ||
        media_layout_video_dir(to_site, video_id, dst, sizeof dst) < 0 ||
        media_layout_incoming_dir(to_site, incoming, sizeof incoming) < 0 ||
        media_layout_root(to_site, root, sizeof root) < 0 ||
        fit(snprintf(tmp, sizeof tmp, "%s/" COPY_PREFIX "%" PRIu64 "-%" PRIu64 "-%u", incoming,
                     video_id, clock_mono_ns(), atomic_fetch_add(&copy_seq, 1)),
            sizeof tmp) < 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    DIR *d = opendir(src);
    if (!d)
        return -1;
    if (media_layout_prepare(to_site) < 0 || mkdir(tmp, 0755) < 0) {
        int saved = errno;
        closedir(d);
        errno = saved;
        return -1;
    }
    int rc = 0;
    for (struct dirent *e; rc == 0 && (e = readdir(d));) {
        if (!plain_name(e->d_name))
            continue;
        if (fit(snprintf(a, sizeof a, "%s/%s", src, e->d_name), sizeof a) < 0 ||
            fit(snprintf(b, sizeof b, "%s/%s", tmp, e->d_name), sizeof b) < 0 ||
            copy_file(a, b) < 0)
            rc = -1;
    }
    closedir(d);
    if (rc == 0 && media_layout_sync_dir(tmp) < 0)
        rc = -1;
    if (rc == 0 && rename(tmp, dst) < 0) {
        /* An older copy is in the way: delete it (through .trash, so it
         * stops being served at once) and try again. */
        if ((errno == ENOTEMPTY || errno == EEXIST) &&
            media_layout_delete_video(to_site, video_id) == 0 && rename(tmp, dst) == 0)
            rc = 0;
        else
            rc = -1;
    }
    if (rc < 0) {
        int saved = errno;
        media_layout_remove_tree(tmp);
        errno = saved;
        return -1;
    }
    media_layout_sync_dir(root);
    return 0;
}

/* ---- start-up sync ------------------------------------------------------ */

/* Reads a small file whole; returns its length or -1. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, size);
    close(fd);
    return n;
}

/* True if dst holds the same published video as src: the same plain file
 * names with the same sizes, and the same result.json. */
static bool same_video(const char *src, const char *dst)
{
    char a[MEDIA_PATH_MAX], b[MEDIA_PATH_MAX];
    struct stat sa, sb;
    int files_src = 0, files_dst = 0;
    DIR *d = opendir(src);
    if (!d)
        return false;
    bool same = true;
    for (struct dirent *e; same && (e = readdir(d));) {
        if (!plain_name(e->d_name))
            continue;
        files_src++;
        same = fit(snprintf(a, sizeof a, "%s/%s", src, e->d_name), sizeof a) == 0 &&
               fit(snprintf(b, sizeof b, "%s/%s", dst, e->d_name), sizeof b) == 0 &&
               lstat(a, &sa) == 0 && lstat(b, &sb) == 0 && S_ISREG(sb.st_mode) &&
               sa.st_size == sb.st_size;
    }
    closedir(d);
    if (!same || !(d = opendir(dst)))
        return false;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.')
            files_dst++;
    closedir(d);
    if (files_src != files_dst)
        return false;
    static _Thread_local char ra[RESULT_MAX], rb[RESULT_MAX];
    if (fit(snprintf(a, sizeof a, "%s/result.json", src), sizeof a) < 0 ||
        fit(snprintf(b, sizeof b, "%s/result.json", dst), sizeof b) < 0)
        return false;
    ssize_t na = read_small(a, ra, sizeof ra), nb = read_small(b, rb, sizeof rb);
    return na == nb && (na < 0 || memcmp(ra, rb, (size_t)na) == 0);
}

/* Removes copy-* leftovers from to_site's .incoming/. */
static void clear_copies(const char *to_site)
{
    char dir[MEDIA_PATH_MAX], path[MEDIA_PATH_MAX];
    if (media_layout_incoming_dir(to_site, dir, sizeof dir) < 0)
        return;
    DIR *d = opendir(dir);
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d));)
        if (strncmp(e->d_name, COPY_PREFIX, strlen(COPY_PREFIX)) == 0 &&
            fit(snprintf(path, sizeof path, "%s/%s", dir, e->d_name), sizeof path) == 0)
            media_layout_remove_tree(path);
    closedir(d);
}

int media_replicate_sync(const char *from_site, const char *to_site,
                         struct media_sync_report *report)
{
    struct media_sync_report local;
    char from_root[MEDIA_PATH_MAX], to_root[MEDIA_PATH_MAX];
    char a[MEDIA_PATH_MAX], b[MEDIA_PATH_MAX];
    if (!report)
        report = &local;
    memset(report, 0, sizeof *report);
    if (media_layout_prepare(from_site) < 0 || media_layout_prepare(to_site) < 0 ||
        media_layout_root(from_site, from_root, sizeof from_root) < 0 ||
        media_layout_root(to_site, to_root, sizeof to_root) < 0)
        return -1;
    clear_copies(to_site);

    DIR *d = opendir(from_root);
    if (!d)
        return -1;
    for (struct dirent *e; (e = readdir(d));) {
        uint64_t id;
        if (!video_dir_name(e->d_name, &id) ||
            fit(snprintf(a, sizeof a, "%s/%s", from_root, e->d_name), sizeof a) < 0 ||
            fit(snprintf(b, sizeof b, "%s/%s", to_root, e->d_name), sizeof b) < 0)
            continue;
        report->videos++;
        if (same_video(a, b))
            continue;
        if (media_replicate_video(from_site, to_site, id) == 0) {
            report->copied++;
        } else {
            report->failed++;
            log_warn("event=media_replica_copy_failed video=%" PRIu64 " site=%s errno=%d", id,
                     to_site, errno);
        }
    }
    closedir(d);

    if (!(d = opendir(to_root)))
        return -1;
    for (struct dirent *e; (e = readdir(d));) {
        uint64_t id;
        struct stat st;
        if (!video_dir_name(e->d_name, &id) ||
            fit(snprintf(a, sizeof a, "%s/%s", from_root, e->d_name), sizeof a) < 0 ||
            lstat(a, &st) == 0)
            continue;
        if (media_layout_delete_video(to_site, id) == 0) {
            report->removed++;
        } else {
            report->failed++;
            log_warn("event=media_replica_remove_failed video=%" PRIu64 " site=%s errno=%d", id,
                     to_site, errno);
        }
    }
    closedir(d);
    return 0;
}
