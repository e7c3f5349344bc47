/*
 * upload.h — resumable uploads for mobile networks, in the manner of tus
 * (tus.io) and PeerTube's upload-resumable: create an upload with its total
 * size, append byte ranges at the current offset, ask for the offset after
 * a broken connection, resume from there, and finish when every byte is in.
 *
 * State lives on disk in the site's media/.uploads/ directory, so an upload
 * survives a restart of the server as well as a dropped connection:
 *
 *   <id>.part   the bytes received so far; its size IS the offset
 *   <id>.info   fixed header + the caller's metadata, written once
 *               (temp file, fsync, rename):
 *
 *     offset  size  field
 *     ------  ----  ---------------------------------------------------
 *          0     8  magic "REELUPL1"
 *          8     8  declared total size in bytes      (u64 little-endian)
 *         16     8  owner (user id)                    (u64 little-endian)
 *         24     8  created, ms since the Unix epoch   (i64 little-endian)
 *         32     4  metadata length N, <= 16384        (u32 little-endian)
 *         36     N  metadata: opaque bytes (the route's caption, file name)
 *
 * An id is 32 lowercase hex characters of fresh randomness (128 bits): it
 * names files, so anything else is refused before touching the disk; and
 * every operation also checks the owner. An append holds an exclusive
 * flock on the .part file, so two connections cannot interleave bytes; it
 * writes only at the current end and never past the declared size, and
 * fdatasyncs before reporting the new offset — an offset we report is on
 * disk. Uploads idle longer than the expiry are deleted by
 * media_upload_expire.
 */
#ifndef REEL_MEDIA_UPLOAD_H
#define REEL_MEDIA_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEDIA_UPLOAD_ID_LEN 32
#define MEDIA_UPLOAD_METADATA_MAX 16384 /* room for a caption of 2,200 4-byte characters */

enum media_upload_status {
    MEDIA_UPLOAD_OK = 0,
    MEDIA_UPLOAD_NOT_FOUND = -1,  /* no such upload (or expired): 404 */
    MEDIA_UPLOAD_FORBIDDEN = -2,  /* another user's upload: answer 404 too */
    MEDIA_UPLOAD_CONFLICT = -3,   /* offset is not the current one: 409 + the right one */
    MEDIA_UPLOAD_TOO_BIG = -4,    /* past the declared size or the limit: 413 */
    MEDIA_UPLOAD_BUSY = -5,       /* another append is in progress: 423/409 */
    MEDIA_UPLOAD_INCOMPLETE = -6, /* finish before every byte arrived: 409 */
    MEDIA_UPLOAD_INVALID = -7,    /* malformed id, zero size, metadata too long: 400 */
    MEDIA_UPLOAD_IO = -8,         /* our disk failed: 500 */
};

struct media_upload_info {
    char id[MEDIA_UPLOAD_ID_LEN + 1];
    uint64_t size;   /* declared total */
    uint64_t offset; /* bytes received and on disk */
    uint64_t owner;
    int64_t created_ms;
    int64_t updated_ms; /* last append (the .part file's mtime) */
    size_t metadata_len;
    char metadata[MEDIA_UPLOAD_METADATA_MAX];
};

/* True if s is a well-formed upload id. */
bool media_upload_id_valid(const char *s);

/* Creates an upload of `size` bytes (1..max_size) for owner with opaque
 * metadata, and fills *info (offset 0). Returns MEDIA_UPLOAD_OK,
 * MEDIA_UPLOAD_TOO_BIG, MEDIA_UPLOAD_INVALID or MEDIA_UPLOAD_IO. */
int media_upload_create(const char *site_dir, uint64_t owner, uint64_t size, uint64_t max_size,
                        const void *metadata, size_t metadata_len, struct media_upload_info *info);

/* Reads an upload's state (for HEAD: the offset to resume from). Returns
 * MEDIA_UPLOAD_OK, NOT_FOUND, FORBIDDEN, INVALID or IO. */
int media_upload_stat(const char *site_dir, const char *id, uint64_t owner,
                      struct media_upload_info *info);

/* An append in progress; the caller provides the storage. */
struct media_upload_writer {
    int fd;          /* -1 when not open */
    uint64_t offset; /* current end */
    uint64_t size;   /* declared total */
    bool failed;
};

/* Starts appending at `offset`, which must equal the current offset.
 * Returns MEDIA_UPLOAD_OK (then call media_upload_write and, whatever
 * happens, media_upload_end), or NOT_FOUND, FORBIDDEN, INVALID, BUSY, IO,
 * or CONFLICT with info->offset set to the offset to use. info may be NULL. */
int media_upload_begin(struct media_upload_writer *w, const char *site_dir, const char *id,
                       uint64_t owner, uint64_t offset, struct media_upload_info *info);
/* Appends bytes. Returns MEDIA_UPLOAD_OK, TOO_BIG (nothing of this piece is
 * written: the declared size would be passed) or IO. */
int media_upload_write(struct media_upload_writer *w, const void *data, size_t len);
/* Ends the append (normally, or because the connection broke): makes the
 * bytes durable, releases the lock and returns the new offset through
 * *offset (may be NULL). Returns MEDIA_UPLOAD_OK or IO. */
int media_upload_end(struct media_upload_writer *w, uint64_t *offset);

/* Completes an upload whose every byte has arrived: removes its state and
 * writes the path of the received file (still in .uploads/, on the site's
 * file system, ready for media_jobs_submit) into path. The caller owns the
 * file from then on. Returns OK, NOT_FOUND, FORBIDDEN, INVALID, BUSY,
 * INCOMPLETE or IO. */
int media_upload_finish(const char *site_dir, const char *id, uint64_t owner, char *path,
                        size_t path_size);

/* Deletes an upload (the client gave up). Returns OK, NOT_FOUND, FORBIDDEN,
 * INVALID or IO. */
int media_upload_delete(const char *site_dir, const char *id, uint64_t owner);

/* At start-up, before any upload is served: removes files a crash left
 * between media_upload_finish and the job taking the file (<id>.done) and
 * half-written .info.tmp files. Returns how many were removed, or -1 if the
 * directory cannot be read. */
int media_upload_recover(const char *site_dir);

/* Deletes uploads not appended to for max_idle_ms (by the .part file's
 * mtime) and stray files of broken creates. Returns how many uploads were
 * removed, or -1 if the directory cannot be read. */
int media_upload_expire(const char *site_dir, int64_t now_ms, int64_t max_idle_ms);

#endif
