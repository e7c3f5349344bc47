/*
 * ingest.c — what every upload goes through once its bytes are on disk,
 * whichever way they came (multipart POST /api/v1/videos, a finished
 * resumable upload, `reel seed`): the caption rules, the daily quota, the
 * probe, the video record, the job. One path, so a seeded demo video is
 * processed exactly like a user's.
 *
 * Order and what a refusal leaves:
 *   caption (422) -> quota on the file's size (429) -> probe (413/422 with
 *   the reason's slug)
 *   -> record `processing` in the creator's home store -> submit the job
 *   (503 if the queue is full: the record is deleted again).
 * The uploaded file is consumed in every case: renamed into the job, or
 * removed. Nothing is recorded for a refused upload.
 *
 * The daily quota counts the videos a user created since 00:00 UTC and the
 * bytes of their sources (ids carry their creation time, so "since
 * midnight" is an id bound on the creator's index). Deleted videos no
 * longer count. Two uploads finishing at the same instant may both pass:
 * the quota bounds abuse, it is not an exact ledger.
 */
#include "api/api.h"

#include "core/alloc.h"
#include "core/clock.h"
#include "core/id.h"
#include "core/log.h"
#include "media/jobs.h"
#include "media/probe.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DAY_MS 86400000LL

void api_upload_refuse(struct http_request *req, const struct api_upload_refusal *r)
{
    json_t *errors = NULL;
    if (r->field)
        http_errors_add(&errors, r->field, r->detail);
    http_problem(req, r->status, r->type, r->title, r->detail, errors);
    if (r->retry_after) {
        char s[24];
        snprintf(s, sizeof s, "%u", r->retry_after);
        http_response_header(req, "Retry-After", s);
    }
}

static int refuse(struct api_upload_refusal *r, int status, const char *type, const char *title,
                  const char *detail)
{
    memset(r, 0, sizeof *r);
    r->status = status;
    r->type = type;
    r->title = title;
    snprintf(r->detail, sizeof r->detail, "%s", detail);
    return -1;
}

int api_upload_too_large(struct api_upload_refusal *why, uint64_t limit)
{
    char detail[160];
    snprintf(detail, sizeof detail, "the file is larger than the upload limit of %" PRIu64 " bytes",
             limit);
    return refuse(why, 413, media_reason_slug(MEDIA_TOO_LARGE), "Upload too large", detail);
}

int api_upload_quota(struct app *app, uint64_t user_id, uint64_t bytes,
                     struct api_upload_refusal *why)
{
    const struct config *cfg = &app->cfg;
    if (!cfg->media_daily_quota_videos && !cfg->media_daily_quota_bytes)
        return 0;
    const struct region *r = region_for_id(&app->regions, user_id);
    struct store *store = app_store_for_region(app, r);
    if (!store)
        return refuse(why, 503, "unavailable", "Service Unavailable",
                      "the uploader's home region is not served here");
    int64_t now = clock_now_ms(), midnight = now - now % DAY_MS;
    int64_t videos, used;
    if (store_video_usage(store, user_id, id_make(r->id, (uint64_t)midnight, 0, 0), &videos,
                          &used) != STORE_OK)
        return refuse(why, 503, "unavailable", "Service Unavailable",
                      "the upload quota could not be checked; try again");
    char detail[256];
    if (cfg->media_daily_quota_videos && videos >= (int64_t)cfg->media_daily_quota_videos)
        snprintf(detail, sizeof detail,
                 "you have uploaded %" PRId64 " videos today, the most allowed per day (%u); "
                 "the quota resets at 00:00 UTC",
                 videos, cfg->media_daily_quota_videos);
    else if (cfg->media_daily_quota_bytes &&
             (uint64_t)used + bytes > (uint64_t)cfg->media_daily_quota_bytes)
        snprintf(detail, sizeof detail,
                 "this upload of %" PRIu64 " bytes would take today's uploads past the daily "
                 "quota of %zu bytes (%" PRId64 " used); the quota resets at 00:00 UTC",
                 bytes, cfg->media_daily_quota_bytes, used);
    else
        return 0;
    refuse(why, 429, "quota-exceeded", "Daily upload quota exceeded", detail);
    /* until midnight UTC, rounded up to a second */
    why->retry_after = (unsigned)((midnight + DAY_MS - now + 999) / 1000);
    return -1;
}

static const char *probe_title(enum media_reason reason)
{
    switch (reason) {
    case MEDIA_TOO_LARGE: return "Upload too large";
    case MEDIA_TOO_LONG: return "Video too long";
    case MEDIA_BAD_DIMENSIONS: return "Unsupported picture size";
    case MEDIA_EMPTY: return "Empty file";
    case MEDIA_TRUNCATED: return "Truncated file";
    case MEDIA_INCONSISTENT: return "Inconsistent file";
    default: return "Not a playable video";
    }
}

int api_upload_ingest(struct app *app, const struct api_upload *up, uint64_t *video_id,
                      struct api_upload_refusal *why)
{
    const struct region *r = region_for_id(&app->regions, up->creator_id);
    struct store *store = app_store_for_region(app, r);
    struct media_jobs *jobs = api_media_jobs(app);
    struct store_video *video = reel_calloc(1, sizeof *video);
    struct media_probe_info *info = reel_calloc(1, sizeof *info);
    int rc = -1;
    if (!video || !info) {
        refuse(why, 503, "unavailable", "Service Unavailable", "out of memory");
        goto out;
    }
    if (!store || !jobs) {
        refuse(why, 503, "unavailable", "Service Unavailable",
               "media processing is not running for the uploader's home region");
        goto out;
    }
    struct validation v = {0};
    if (!api_video_caption(app, &v, "caption", up->caption ? up->caption : "", video)) {
        json_t *first = json_array_get(v.errors, 0);
        const char *msg = json_string_value(json_object_get(first, "message"));
        refuse(why, 422, "validation-error", "Invalid field value", msg ? msg : "invalid caption");
        why->field = "caption";
        json_decref(v.errors);
        goto out;
    }
    json_decref(v.errors);

    struct stat st;
    if (stat(up->path, &st) < 0) {
        refuse(why, 500, "internal-error", "Internal Server Error",
               "the upload could not be read back; the error is logged");
        log_error("event=upload_missing errno=%d", errno);
        goto out;
    }
    if (up->check_quota && api_upload_quota(app, up->creator_id, (uint64_t)st.st_size, why) < 0)
        goto out;
    const struct media_limits *limits = api_media_limits(app);
    enum media_reason reason = media_probe_file(up->path, limits, info);
    if (reason != MEDIA_OK) {
        int status = media_reason_http_status(reason);
        if (status >= 500)
            refuse(why, 500, "internal-error", "Internal Server Error",
                   "the upload could not be read back; the error is logged");
        else
            refuse(why, status, media_reason_slug(reason), probe_title(reason), info->message);
        if (status >= 500)
            log_error("event=upload_probe_failed reason=%s", media_reason_slug(reason));
        goto out;
    }

    video->id = id_next(r->id);
    video->creator_id = up->creator_id;
    video->duration_ms = (int32_t)info->duration_ms;
    video->width = info->width;
    video->height = info->height;
    video->status = STORE_VIDEO_PROCESSING;
    snprintf(video->renditions, sizeof video->renditions, "[]");
    video->created_ms = (int64_t)id_unix_ms(video->id);
    video->source_bytes = (int64_t)info->size_bytes;
    int created = store_video_create(store, video);
    if (created == STORE_NOTFOUND) {
        refuse(why, 404, "not-found", "Not Found", "the uploader no longer exists");
        goto out;
    }
    if (created != STORE_OK) {
        refuse(why, 503, "unavailable", "Service Unavailable",
               "the video could not be recorded; try again");
        goto out;
    }
    int sub = media_jobs_submit(jobs, r->primary_dir, video->id, up->path);
    if (sub < 0) {
        store_video_delete(store, video->id);
        if (sub == MEDIA_JOBS_BUSY) {
            refuse(why, 503, "unavailable", "Service Unavailable",
                   "too many videos are being processed; try again in a minute");
            why->retry_after = 30;
        } else {
            log_error("event=upload_submit_failed code=%d errno=%d", sub, errno);
            refuse(why, 500, "internal-error", "Internal Server Error",
                   "the upload could not be handed to processing; the error is logged");
        }
        goto out;
    }
    *video_id = video->id;
    char idbuf[ID_STR_MAX];
    log_info("event=video_uploaded video=%s bytes=%" PRIu64 " duration_ms=%" PRId64 " size=%dx%d",
             id_format(video->id, idbuf), info->size_bytes, info->duration_ms, info->width,
             info->height);
    rc = 0;
out:
    if (rc < 0 && up->path)
        unlink(up->path); /* the job did not take it */
    reel_free(video);
    reel_free(info);
    return rc;
}
