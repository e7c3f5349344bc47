/*
 * media_pipeline.c — the server's side of the media pipeline: the job pool's
 * life, what happens when a job ends, recovery at start-up, replication of
 * published media to the region's replica sites, deletion, and the sweep of
 * abandoned resumable uploads. (The upload routes are in uploads.c and
 * ingest.c; serving is media_files.c; media/ does the work on files.)
 *
 * Where media lives: under the creator's home region's primary site
 * (region->primary_dir, which follows `reel site promote`), copied to each
 * of the region's replica sites. Every site of a region holds the region's
 * published media, and no other site does.
 *
 * A job that ends READY is recorded in this order:
 *   1. media/<id>/ is published on the primary (media/jobs.c);
 *   2. it is copied to every replica (media/replicate.c), each copy landing
 *      by one rename;
 *   3. the video is marked ready in the store, which replicates the row
 *      synchronously to the same replica sites.
 * So a replica never has a ready video without its files: a promoted
 * replica serves every ready video. A replica that could not take a copy
 * is logged and repaired by the next start's sync (availability over
 * replica count, as for the store).
 *
 * Start-up (api_media_start, before the server accepts requests), for each
 * region served here:
 *   - media_jobs_recover sorts .work/: REDO -> resubmitted, PUBLISHED ->
 *     recorded as above, LOST -> the video is marked failed;
 *   - media_replicate_sync brings every replica in line with the primary
 *     (copies what is missing or different, removes what was deleted);
 *   - videos the store still has as processing with no job and no
 *     published files (a crash between recording the upload and handing it
 *     to the pool) are marked failed, and ones whose files were published
 *     are marked ready: no video stays processing forever;
 *   - finished resumable uploads nobody took are removed.
 *
 * Deleting a video (the route, erasure, a job finding its video gone)
 * cancels its job and removes its files on the primary and every replica.
 */
#include "api/api.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/id.h"
#include "core/log.h"
#include "core/ticker.h"
#include "media/jobs.h"
#include "media/layout.h"
#include "media/replicate.h"
#include "media/upload.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

struct api_media {
    struct app *app;
    struct media_jobs *jobs;
    struct media_limits limits;
    struct ticker *sweeper; /* of abandoned resumable uploads; NULL if not swept */
};

/* ---- sites ------------------------------------------------------------------ */

/* The directories of a region's replica sites. Returns how many. */
static int replica_dirs(struct app *app, const struct region *r,
                        char dirs[CONFIG_MAX_REPLICAS][CONFIG_PATH_MAX])
{
    int n = 0;
    for (int k = 0; k < r->replica_count && k < CONFIG_MAX_REPLICAS; k++)
        if (region_site_dir(&app->cfg, r->replicas[k], dirs[n]) == 0)
            n++;
    return n;
}

const char *api_media_site(struct app *app, uint64_t id)
{
    const struct region *r = region_for_id(&app->regions, id);
    return r ? r->primary_dir : NULL;
}

/* Removes a video's files from every site of its region. */
static void delete_everywhere(struct app *app, uint64_t video_id)
{
    const struct region *r = region_for_id(&app->regions, video_id);
    if (!r)
        return;
    char dirs[CONFIG_MAX_REPLICAS][CONFIG_PATH_MAX];
    int n = replica_dirs(app, r, dirs);
    if (media_layout_delete_video(r->primary_dir, video_id) < 0)
        log_warn("event=media_delete_failed video=%" PRIu64 " site=%s", video_id, r->primary_dir);
    for (int i = 0; i < n; i++)
        if (media_layout_delete_video(dirs[i], video_id) < 0)
            log_warn("event=media_delete_failed video=%" PRIu64 " site=%s", video_id, dirs[i]);
}

void api_media_forget(struct app *app, uint64_t video_id)
{
    /* Cancel first: a job that has not published yet then never will; one
     * that has is cleaned up below (and by its own callback, which finds
     * the video gone). */
    if (app->media)
        media_jobs_cancel(app->media->jobs, video_id);
    delete_everywhere(app, video_id);
}

/* ---- recording the outcome ---------------------------------------------------- */

/* The API's `renditions`: [{"name":"720p","width","height","url"}]. */
static int renditions_json(uint64_t id, const struct media_result *res, char *out, size_t size)
{
    struct buf b;
    struct jsonw w;
    char idbuf[ID_STR_MAX], name[MEDIA_NAME_MAX + 2], url[96];
    buf_init(&b, size - 1);
    jsonw_init(&w, &b);
    jsonw_array_begin(&w);
    id_format(id, idbuf);
    for (int i = 0; i < res->rendition_count; i++) {
        const struct media_rendition *r = &res->renditions[i];
        snprintf(name, sizeof name, "%sp", r->name);
        snprintf(url, sizeof url, "/media/%s/%s", idbuf, r->file);
        jsonw_object_begin(&w);
        jsonw_kv_string(&w, "name", name);
        jsonw_kv_int(&w, "width", r->width);
        jsonw_kv_int(&w, "height", r->height);
        jsonw_kv_string(&w, "url", url);
        jsonw_object_end(&w);
    }
    jsonw_array_end(&w);
    int rc = jsonw_finish(&w) == 0 && b.len < size ? 0 : -1;
    if (rc == 0) {
        memcpy(out, b.data, b.len);
        out[b.len] = '\0';
    }
    buf_clear(&b);
    return rc;
}

/* Steps 2 and 3 of a READY job (see the top of the file). */
static void record_ready(struct app *app, uint64_t id, const struct media_result *res)
{
    const struct region *r = region_for_id(&app->regions, id);
    struct store *store = app_store_for_region(app, r);
    if (!store)
        return;
    char dirs[CONFIG_MAX_REPLICAS][CONFIG_PATH_MAX];
    int n = replica_dirs(app, r, dirs);
    for (int i = 0; i < n; i++)
        if (media_replicate_video(r->primary_dir, dirs[i], id) < 0)
            log_error("event=media_replica_copy_failed video=%" PRIu64 " site=%s "
                      "(repaired at the next start)",
                      id, dirs[i]);
    static _Thread_local char renditions[STORE_RENDITIONS_MAX];
    char thumb[96], idbuf[ID_STR_MAX];
    if (renditions_json(id, res, renditions, sizeof renditions) < 0) {
        log_error("event=media_renditions_too_long video=%" PRIu64, id);
        return;
    }
    snprintf(thumb, sizeof thumb, "/media/%s/%s", id_format(id, idbuf), res->thumbnail);
    int rc = store_video_set_status(store, id, STORE_VIDEO_READY, "", (int32_t)res->duration_ms,
                                    res->width, res->height, renditions, thumb);
    if (rc == STORE_NOTFOUND) /* deleted while it was processed */
        delete_everywhere(app, id);
    else if (rc != STORE_OK)
        log_error("event=media_record_failed video=%" PRIu64 " (recorded at the next start)", id);
    else
        api_rec_video_ready(app, id); /* a For You candidate from now on */
}

static void record_failed(struct app *app, uint64_t id, const char *message)
{
    struct store *store = app_store_for_id(app, id);
    if (!store)
        return;
    int rc = store_video_set_status(store, id, STORE_VIDEO_FAILED, message, 0, 0, 0, NULL, NULL);
    if (rc == STORE_NOTFOUND)
        delete_everywhere(app, id);
    else if (rc != STORE_OK)
        log_error("event=media_record_failed video=%" PRIu64, id);
}

static void on_job_done(void *ctx, const char *site_dir, uint64_t video_id,
                        const struct media_result *result)
{
    struct app *app = ctx;
    (void)site_dir;
    if (result->reason == MEDIA_OK)
        record_ready(app, video_id, result);
    else if (result->reason != MEDIA_CANCELLED) /* cancelled: the video is gone */
        record_failed(app, video_id,
                      result->message[0] ? result->message : media_reason_slug(result->reason));
}

/* ---- start-up ----------------------------------------------------------------- */

struct recovery {
    struct app *app;
    uint64_t *redo;
    size_t redo_count, redo_cap;
    bool failed;
};

static void on_recovered(void *ctx, uint64_t video_id, enum media_recover_state state,
                         const struct media_result *result)
{
    struct recovery *rec = ctx;
    switch (state) {
    case MEDIA_RECOVER_PUBLISHED: record_ready(rec->app, video_id, result); break;
    case MEDIA_RECOVER_LOST:
        record_failed(rec->app, video_id,
                      "processing was interrupted by a restart and the upload was lost; "
                      "upload the video again");
        break;
    case MEDIA_RECOVER_REDO:
        if (rec->redo_count == rec->redo_cap) {
            size_t cap = rec->redo_cap ? rec->redo_cap * 2 : 32;
            if (reel_array_grow((void **)&rec->redo, cap, sizeof *rec->redo) < 0) {
                rec->failed = true;
                return;
            }
            rec->redo_cap = cap;
        }
        rec->redo[rec->redo_count++] = video_id;
        break;
    }
}

/* Resubmits a job recovery returned, if its video still waits for it. */
static void resubmit(struct app *app, const char *site, uint64_t id)
{
    uint64_t creator;
    int32_t duration;
    int status;
    struct store *store = app_store_for_id(app, id);
    int rc = store ? store_video_brief(store, id, &creator, &duration, &status) : STORE_NOTFOUND;
    if (rc == STORE_NOTFOUND) {
        delete_everywhere(app, id); /* deleted (or erased) while shelved */
        return;
    }
    if (rc == STORE_OK && status != STORE_VIDEO_PROCESSING) {
        char work[MEDIA_PATH_MAX];
        if (media_layout_work_dir(site, id, work, sizeof work) == 0)
            media_layout_remove_tree(work);
        return;
    }
    rc = media_jobs_submit(app->media->jobs, site, id, NULL);
    if (rc < 0) {
        log_error("event=media_resubmit_failed video=%" PRIu64 " code=%d", id, rc);
        record_failed(app, id,
                      "processing was interrupted by a restart and could not resume; "
                      "upload the video again");
    } else {
        log_info("event=media_job_resumed video=%" PRIu64, id);
    }
}

/* Videos the store has as processing with no job: published files make
 * them ready, nothing makes them failed. */
static int settle_processing(struct app *app, const struct region *r, struct store *store)
{
    uint64_t ids[256], after = 0;
    size_t n;
    do {
        if (store_video_list_processing(store, after, 256, ids, &n) != STORE_OK)
            return -1;
        for (size_t i = 0; i < n; i++) {
            after = ids[i];
            if (media_jobs_active(app->media->jobs, ids[i]))
                continue;
            struct media_result result;
            if (media_result_load(r->primary_dir, ids[i], &result) == 0 &&
                result.reason == MEDIA_OK) {
                record_ready(app, ids[i], &result);
            } else {
                log_warn("event=media_orphan_processing video=%" PRIu64, ids[i]);
                record_failed(app, ids[i],
                              "the upload was interrupted by a restart before processing "
                              "started; upload the video again");
            }
        }
    } while (n == 256);
    return 0;
}

static int start_region(struct app *app, const struct region *r, char *err, size_t errlen)
{
    struct recovery rec = {.app = app};
    int found = media_jobs_recover(r->primary_dir, on_recovered, &rec);
    if (found < 0 || rec.failed) {
        snprintf(err, errlen, "region %s: the media directory of %s cannot be recovered", r->name,
                 r->primary_dir);
        reel_free(rec.redo);
        return -1;
    }
    char dirs[CONFIG_MAX_REPLICAS][CONFIG_PATH_MAX];
    int nrep = replica_dirs(app, r, dirs);
    for (int i = 0; i < nrep; i++) {
        struct media_sync_report rep;
        if (media_replicate_sync(r->primary_dir, dirs[i], &rep) < 0) {
            log_error("event=media_replica_sync_failed region=%s site=%s", r->name, dirs[i]);
            continue;
        }
        if (rep.copied || rep.removed || rep.failed)
            log_info("event=media_replica_synced region=%s site=%s videos=%u copied=%u "
                     "removed=%u failed=%u",
                     r->name, dirs[i], rep.videos, rep.copied, rep.removed, rep.failed);
    }
    for (size_t i = 0; i < rec.redo_count; i++)
        resubmit(app, r->primary_dir, rec.redo[i]);
    reel_free(rec.redo);
    struct store *store = app_store_for_region(app, r);
    if (store && settle_processing(app, r, store) < 0) {
        snprintf(err, errlen, "region %s: the videos still processing cannot be listed", r->name);
        return -1;
    }
    int stray = media_upload_recover(r->primary_dir);
    if (found || stray > 0)
        log_info("event=media_recovered region=%s jobs=%d stray_uploads=%d", r->name, found, stray);
    return 0;
}

/* ---- the sweep of abandoned resumable uploads ----------------------------------- */

static void expire_uploads(void *arg)
{
    struct app *app = arg;
    int64_t expiry_ms = (int64_t)app->cfg.media_upload_expiry_s * 1000;
    for (int i = 0; i < app->regions.count; i++) {
        if (!app->serves[i])
            continue;
        int n = media_upload_expire(app->regions.regions[i].primary_dir, clock_now_ms(), expiry_ms);
        if (n > 0)
            log_info("event=uploads_expired region=%s count=%d", app->regions.regions[i].name, n);
    }
}

/* Often: an upload outlives its expiry by at most 10 s (a quarter of the
 * expiry when that is shorter). A scan is a readdir and an lstat per upload
 * in progress — cheap next to the uploads themselves. */
static int64_t sweep_every_ms(const struct app *app)
{
    int64_t every_ms = (int64_t)app->cfg.media_upload_expiry_s * 1000 / 4;
    if (every_ms < 1000)
        every_ms = 1000;
    if (every_ms > 10000)
        every_ms = 10000;
    return every_ms;
}

/* ---- life ------------------------------------------------------------------------- */

int api_media_start(struct app *app, bool sweep_uploads, char *err, size_t errlen)
{
    media_init();
    struct api_media *m = reel_calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    m->app = app;
    media_limits_from_config(&m->limits, &app->cfg);
    struct media_jobs_options opts;
    media_jobs_options_from_config(&opts, &app->cfg);
    opts.on_done = on_job_done;
    opts.ctx = app;
    m->jobs = media_jobs_create(&opts);
    if (!m->jobs) {
        snprintf(err, errlen, "could not start the transcoding workers");
        goto fail;
    }
    app->media = m;
    for (int i = 0; i < app->regions.count; i++)
        if (app->serves[i] && start_region(app, &app->regions.regions[i], err, errlen) < 0)
            goto fail;
    if (sweep_uploads && !(m->sweeper = ticker_start(expire_uploads, app, sweep_every_ms(app), true))) {
        snprintf(err, errlen, "could not start the upload sweeper");
        goto fail;
    }
    return 0;
fail:
    if (app->media) {
        api_media_stop(app);
    } else {
        reel_free(m);
    }
    return -1;
}

void api_media_stop(struct app *app)
{
    struct api_media *m = app->media;
    if (!m)
        return;
    ticker_stop(m->sweeper);
    /* Running jobs are cancelled and shelved with their sources: the next
     * start resumes them. */
    media_jobs_destroy(m->jobs);
    app->media = NULL;
    reel_free(m);
}

void api_media_wait_idle(struct app *app)
{
    if (app->media)
        media_jobs_wait_idle(app->media->jobs);
}

struct media_jobs *api_media_jobs(struct app *app)
{
    return app->media ? app->media->jobs : NULL;
}

const struct media_limits *api_media_limits(struct app *app)
{
    return app->media ? &app->media->limits : NULL;
}
