/*
 * layout.c — see layout.h. Paths are built with snprintf into caller buffers
 * and refused when they would be truncated; removal walks the tree with
 * nftw(3) depth-first without following symlinks, so a link planted in a
 * media directory can never make Reel delete something outside it.
 */
#include "media/layout.h"

#include "core/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
    const char *name;
    const char *content_type;
} served_files[] = {
    {"1080.mp4", "video/mp4"},
    {"720.mp4", "video/mp4"},
    {"360.mp4", "video/mp4"},
    {"thumb.jpg", "image/jpeg"},
};

static int fit(int n, size_t size)
{
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

int media_layout_root(const char *site_dir, char *out, size_t size)
{
    return fit(snprintf(out, size, "%s/media", site_dir), size);
}

int media_layout_video_dir(const char *site_dir, uint64_t video_id, char *out, size_t size)
{
    return fit(snprintf(out, size, "%s/media/%" PRIu64, site_dir, video_id), size);
}

int media_layout_work_dir(const char *site_dir, uint64_t video_id, char *out, size_t size)
{
    return fit(snprintf(out, size, "%s/media/.work/%" PRIu64, site_dir, video_id), size);
}

int media_layout_incoming_dir(const char *site_dir, char *out, size_t size)
{
    return fit(snprintf(out, size, "%s/media/.incoming", site_dir), size);
}

int media_layout_uploads_dir(const char *site_dir, char *out, size_t size)
{
    return fit(snprintf(out, size, "%s/media/.uploads", site_dir), size);
}

int media_layout_trash_dir(const char *site_dir, char *out, size_t size)
{
    return fit(snprintf(out, size, "%s/media/.trash", site_dir), size);
}

const char *media_layout_content_type(const char *file)
{
    for (size_t i = 0; i < sizeof served_files / sizeof served_files[0]; i++)
        if (strcmp(file, served_files[i].name) == 0)
            return served_files[i].content_type;
    return NULL;
}

int media_layout_file(const char *site_dir, uint64_t video_id, const char *file, char *out,
                      size_t size)
{
    if (!media_layout_content_type(file))
        return -1;
    return fit(snprintf(out, size, "%s/media/%" PRIu64 "/%s", site_dir, video_id, file), size);
}

static int make_dir(const char *path)
{
    if (mkdir(path, 0755) == 0 || errno == EEXIST)
        return 0;
    return -1;
}

int media_layout_prepare(const char *site_dir)
{
    static const char *const subdirs[] = {"", "/.work", "/.incoming", "/.uploads", "/.trash"};
    char root[MEDIA_PATH_MAX], path[MEDIA_PATH_MAX];
    if (media_layout_root(site_dir, root, sizeof root) < 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (size_t i = 0; i < sizeof subdirs / sizeof subdirs[0]; i++) {
        if (fit(snprintf(path, sizeof path, "%s%s", root, subdirs[i]), sizeof path) < 0) {
            errno = ENAMETOOLONG;
            return -1;
        }
        if (make_dir(path) < 0)
            return -1;
    }
    return 0;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    int rc = type == FTW_DP ? rmdir(path) : unlink(path);
    return rc < 0 && errno != ENOENT ? -1 : 0;
}

int media_layout_remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
    return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

int media_layout_sync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int media_layout_delete_video(const char *site_dir, uint64_t video_id)
{
    static atomic_uint trash_seq;
    char dir[MEDIA_PATH_MAX], trash[MEDIA_PATH_MAX], work[MEDIA_PATH_MAX];
    if (media_layout_video_dir(site_dir, video_id, dir, sizeof dir) < 0 ||
        media_layout_work_dir(site_dir, video_id, work, sizeof work) < 0 ||
        fit(snprintf(trash, sizeof trash, "%s/media/.trash/%" PRIu64 ".%" PRIu64 ".%u", site_dir,
                     video_id, clock_mono_ns(), atomic_fetch_add(&trash_seq, 1)),
            sizeof trash) < 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int rc = 0;
    if (rename(dir, trash) == 0) {
        if (media_layout_remove_tree(trash) < 0)
            rc = -1;
    } else if (errno != ENOENT) {
        /* No .trash (layout never prepared): remove in place. */
        if (media_layout_remove_tree(dir) < 0)
            rc = -1;
    }
    if (media_layout_remove_tree(work) < 0)
        rc = -1;
    return rc;
}
