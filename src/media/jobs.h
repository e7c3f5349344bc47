/*
 * jobs.h — transcoding jobs: a pool of workers, completion callbacks, and
 * recovery after a restart.
 *
 * Life of a job (see layout.h for the directories):
 *
 *   media_jobs_submit   the upload is renamed to media/.work/<id>/source
 *                       (same file system: a rename, not a copy) and queued
 *   worker              probe + transcode into .work/<id>/out/, fsync the
 *                       files, write out/result.json, then rename out/ to
 *                       media/<id>/ (the one step that publishes), call
 *                       on_done with the result, then remove .work/<id>
 *   failure             on_done gets the reason, then .work/<id> is removed;
 *                       nothing else was ever created
 *
 * So at any instant a video's files are either absent or complete, and
 * whatever a crash leaves is under .work/ where media_jobs_recover finds it.
 * Shutdown (media_jobs_destroy) cancels running jobs and skips queued ones
 * without calling on_done and without deleting their sources: the next
 * start's recovery hands them back for resubmission.
 */
#ifndef REEL_MEDIA_JOBS_H
#define REEL_MEDIA_JOBS_H

#include "media/media.h"
#include "media/transcode.h"

/* Called once per job that ran to an end (ready, failed or cancelled), on
 * the worker thread that ran it — it must be thread-safe and should be
 * quick (update the video's status). `result` is valid for the call only.
 * site_dir is the one given to media_jobs_submit. */
typedef void (*media_job_done_fn)(void *ctx, const char *site_dir, uint64_t video_id,
                                  const struct media_result *result);

struct media_jobs_options {
    unsigned workers; /* jobs at once; 0 = number of cores */
    unsigned queue;   /* jobs that may wait beyond the running ones */
    struct media_transcode_settings transcode;
    struct media_limits limits;
    media_job_done_fn on_done;
    void *ctx;
};

/* Options from the config's [media] section (defaults when cfg is NULL),
 * with on_done/ctx left NULL for the caller to set. */
struct config;
void media_jobs_options_from_config(struct media_jobs_options *opts, const struct config *cfg);

struct media_jobs;

/* Starts the workers. Returns the pool or NULL (out of memory, no threads). */
struct media_jobs *media_jobs_create(const struct media_jobs_options *opts);
/* Stops: running jobs are cancelled and queued ones skipped, all without
 * callbacks and with their sources kept for recovery; joins the workers and
 * frees the pool. NULL is a no-op. */
void media_jobs_destroy(struct media_jobs *jobs);

enum {
    MEDIA_JOBS_BUSY = -1,   /* the queue is full: answer 503, try later */
    MEDIA_JOBS_EXISTS = -2, /* a job for this video is queued, running or left over */
    MEDIA_JOBS_ERROR = -3,  /* the upload could not be moved (errno set) */
};

/* Queues a job for video_id in site_dir (the creator's home site).
 * upload_path: the uploaded file, which must be on the same file system as
 * site_dir (use the site's .incoming or .uploads directory); it is renamed
 * into the job and belongs to the job from then on. NULL resubmits a job
 * that media_jobs_recover reported as MEDIA_RECOVER_REDO. Returns 0 (on_done
 * will be called), or one of the MEDIA_JOBS_* codes — in which case the
 * upload is still at upload_path and still the caller's. */
int media_jobs_submit(struct media_jobs *jobs, const char *site_dir, uint64_t video_id,
                      const char *upload_path);

/* Cancels the job for video_id if one is queued or running: it stops at the
 * next packet, removes its files and reports MEDIA_CANCELLED. Returns true if
 * there was such a job. Call before media_layout_delete_video. */
bool media_jobs_cancel(struct media_jobs *jobs, uint64_t video_id);

/* True if a job for video_id is queued or running. */
bool media_jobs_active(struct media_jobs *jobs, uint64_t video_id);
/* Jobs queued or running. */
unsigned media_jobs_pending(struct media_jobs *jobs);
/* Blocks until no job is queued or running (tests, `reel seed`). */
void media_jobs_wait_idle(struct media_jobs *jobs);

/* ---- restart recovery --------------------------------------------------- */

enum media_recover_state {
    MEDIA_RECOVER_REDO,      /* the source is kept: resubmit (media_jobs_submit with NULL) */
    MEDIA_RECOVER_PUBLISHED, /* finished before the crash: result holds what was published */
    MEDIA_RECOVER_LOST,      /* nothing usable was left: mark the video failed */
};

typedef void (*media_recover_fn)(void *ctx, uint64_t video_id, enum media_recover_state state,
                                 const struct media_result *result);

/* Run at start-up, before any job is submitted for site_dir: creates the
 * layout, empties .incoming/ and .trash/, removes partial outputs and
 * reports every job found under .work/ through fn (result is non-NULL only
 * for MEDIA_RECOVER_PUBLISHED). Returns the number of jobs reported, or -1
 * if the media directory cannot be prepared or read. */
int media_jobs_recover(const char *site_dir, media_recover_fn fn, void *ctx);

/* ---- the result file ---------------------------------------------------- */

/* Writes result as JSON to path (fsynced). Returns 0 or -1. */
int media_result_save(const char *path, const struct media_result *result);
/* Reads media/<video_id>/result.json of a published video. Returns 0, or -1
 * if the video is not published or the file is unreadable. */
int media_result_load(const char *site_dir, uint64_t video_id, struct media_result *result);

#endif
