/*
 * layout.h — where media lives on disk, under the site directory of the
 * creator's home region:
 *
 *   <site_dir>/media/
 *       <video_id>/           published, complete, read-only: served as is
 *           1080.mp4          only when the source is at least 1080x1920
 *           720.mp4
 *           360.mp4
 *           thumb.jpg
 *           result.json       what the job produced (media_result), so a
 *                             restart can finish the bookkeeping
 *       .work/<video_id>/     a transcoding job in progress
 *           source            the upload, moved here when the job is made
 *           out/              the renditions being written; renamed to
 *                             ../../<video_id> in one step when complete
 *       .incoming/            multipart uploads streaming in (temp files)
 *       .uploads/             resumable uploads (<upload_id>.part/.info)
 *       .trash/               deleted videos on their way out
 *
 * Invariants: a <video_id>/ directory is either absent or complete (it
 * appears by one rename(2)); everything under a dot-directory is private and
 * may be deleted at start-up (media_jobs_recover). Video ids are decimal.
 * File names served to clients are a fixed set (media_layout_content_type),
 * so a request can never name a path outside the video's directory.
 */
#ifndef REEL_MEDIA_LAYOUT_H
#define REEL_MEDIA_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

/* Room for any path this module builds (a site directory is at most
 * CONFIG_PATH_MAX = 512 bytes). */
#define MEDIA_PATH_MAX 1024

/* Each writes a path into out (size bytes) and returns 0, or -1 if it does
 * not fit. */
int media_layout_root(const char *site_dir, char *out, size_t size);
int media_layout_video_dir(const char *site_dir, uint64_t video_id, char *out, size_t size);
int media_layout_work_dir(const char *site_dir, uint64_t video_id, char *out, size_t size);
int media_layout_incoming_dir(const char *site_dir, char *out, size_t size);
int media_layout_uploads_dir(const char *site_dir, char *out, size_t size);
int media_layout_trash_dir(const char *site_dir, char *out, size_t size);
/* The path of a served file of a video. Returns -1 also when `file` is not
 * one of the names media_layout_content_type knows. */
int media_layout_file(const char *site_dir, uint64_t video_id, const char *file, char *out,
                      size_t size);

/* The Content-Type of a served file name ("720.mp4" -> "video/mp4",
 * "thumb.jpg" -> "image/jpeg"), or NULL if the name is not one Reel serves. */
const char *media_layout_content_type(const char *file);

/* Creates media/ and its private directories if missing. Returns 0 or -1
 * (errno set). */
int media_layout_prepare(const char *site_dir);

/* Removes a video's published files and any job directory. The published
 * directory is first renamed into .trash/, so it stops being served at once,
 * then removed. Returns 0 (also when there was nothing) or -1 (errno set).
 * A job still running for the video must be cancelled first
 * (media_jobs_cancel), or it may publish again afterwards. */
int media_layout_delete_video(const char *site_dir, uint64_t video_id);

/* rm -r: removes path and everything below it without following symlinks.
 * Returns 0 (also when path does not exist) or -1. */
int media_layout_remove_tree(const char *path);

/* fsync(2) of a directory, so a rename or unlink in it is durable.
 * Returns 0 or -1. */
int media_layout_sync_dir(const char *path);

#endif
