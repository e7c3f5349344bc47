/*
 * jobs.c — see jobs.h.
 *
 * The pool is core/workq (fixed threads, bounded ring) plus a list of the
 * jobs queued or running, kept under one mutex, which gives: refusing a
 * second job for the same video, cancelling by video id, counting the
 * queue against its limit before the upload is moved (so a refused upload
 * is still the caller's to delete), and waiting for idleness.
 *
 * The publish step — check the cancel flag, rename out/ to media/<id> — runs
 * under the mutex, so a cancel either lands before it (the job cleans up and
 * reports MEDIA_CANCELLED) or after it (the caller's delete then removes the
 * published files). Nothing can publish after a cancel returns.
 */
#include "media/jobs.h"

#include "media/layout.h"

#include "core/alloc.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "core/parse.h"
#include "core/workq.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct job {
    struct job *next;
    struct media_jobs *jobs;
    uint64_t video_id;
    char site_dir[CONFIG_PATH_MAX];
    atomic_bool cancel;
    bool running;
};

struct media_jobs {
    struct media_jobs_options opts;
    struct workq *pool;
    pthread_mutex_t lock;
    pthread_cond_t idle;
    struct job *active; /* queued and running */
    unsigned queued;
    bool stopping;
};

void media_jobs_options_from_config(struct media_jobs_options *opts, const struct config *cfg)
{
    struct config defaults;
    if (!cfg) {
        config_init(&defaults);
        cfg = &defaults;
    }
    memset(opts, 0, sizeof *opts);
    opts->workers = cfg->media_workers;
    opts->queue = cfg->media_queue;
    media_transcode_settings_from_config(&opts->transcode, cfg);
    media_limits_from_config(&opts->limits, cfg);
}

/* ---- paths -------------------------------------------------------------- */

struct job_paths {
    char work[MEDIA_PATH_MAX];
    char source[MEDIA_PATH_MAX];
    char out[MEDIA_PATH_MAX];
    char published[MEDIA_PATH_MAX];
    char root[MEDIA_PATH_MAX];
};

static int job_paths(const char *site_dir, uint64_t video_id, struct job_paths *p)
{
    if (media_layout_work_dir(site_dir, video_id, p->work, sizeof p->work) < 0 ||
        media_layout_video_dir(site_dir, video_id, p->published, sizeof p->published) < 0 ||
        media_layout_root(site_dir, p->root, sizeof p->root) < 0 ||
        snprintf(p->source, sizeof p->source, "%s/source", p->work) >= (int)sizeof p->source ||
        snprintf(p->out, sizeof p->out, "%s/out", p->work) >= (int)sizeof p->out) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

/* ---- the list of active jobs (callers hold the lock) --------------------- */

static struct job *find_job(struct media_jobs *jobs, uint64_t video_id)
{
    for (struct job *j = jobs->active; j; j = j->next)
        if (j->video_id == video_id)
            return j;
    return NULL;
}

static void forget_job(struct media_jobs *jobs, struct job *job)
{
    for (struct job **p = &jobs->active; *p; p = &(*p)->next)
        if (*p == job) {
            *p = job->next;
            break;
        }
    if (!jobs->active)
        pthread_cond_broadcast(&jobs->idle);
}

/* ---- running a job ------------------------------------------------------ */

/* fsync every file of the finished output and the directory itself, so the
 * rename that publishes it never exposes files whose data is not on disk. */
static int sync_outputs(const char *out_dir, const struct media_result *result)
{
    char path[MEDIA_PATH_MAX];
    for (int i = 0; i <= result->rendition_count; i++) {
        const char *name =
            i < result->rendition_count ? result->renditions[i].file : result->thumbnail;
        if (snprintf(path, sizeof path, "%s/%s", out_dir, name) >= (int)sizeof path)
            return -1;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return -1;
        int rc = fsync(fd);
        close(fd);
        if (rc < 0)
            return -1;
    }
    if (snprintf(path, sizeof path, "%s/result.json", out_dir) >= (int)sizeof path ||
        media_result_save(path, result) < 0)
        return -1;
    return media_layout_sync_dir(out_dir);
}

static void set_failure(struct media_result *result, enum media_reason reason, const char *msg)
{
    memset(result, 0, sizeof *result);
    result->reason = reason;
    snprintf(result->message, sizeof result->message, "%s", msg);
}

/* Publishes out/ as media/<id>/ unless the job was cancelled. Returns 0,
 * or -1 with result set to the failure. */
static int publish(struct media_jobs *jobs, struct job *job, const struct job_paths *p,
                   struct media_result *result)
{
    int rc = 0;
    pthread_mutex_lock(&jobs->lock);
    if (atomic_load(&job->cancel)) {
        set_failure(result, MEDIA_CANCELLED, "the video was deleted while it was being processed");
        rc = -1;
    } else if (rename(p->out, p->published) < 0) {
        /* Left over from an earlier run of the same video: replace it. */
        if ((errno == ENOTEMPTY || errno == EEXIST) &&
            media_layout_remove_tree(p->published) == 0 && rename(p->out, p->published) == 0)
            rc = 0;
        else
            rc = -1;
        if (rc < 0)
            set_failure(result, MEDIA_IO_ERROR, "the renditions could not be published");
    }
    pthread_mutex_unlock(&jobs->lock);
    if (rc == 0)
        media_layout_sync_dir(p->root);
    return rc;
}

static void job_main(void *arg)
{
    struct job *job = arg;
    struct media_jobs *jobs = job->jobs;
    struct media_result result;
    struct job_paths p;
    bool shelve; /* shutting down: keep the source for the next start */

    pthread_mutex_lock(&jobs->lock);
    shelve = jobs->stopping;
    jobs->queued--;
    job->running = true;
    pthread_mutex_unlock(&jobs->lock);

    if (job_paths(job->site_dir, job->video_id, &p) < 0) {
        set_failure(&result, MEDIA_IO_ERROR, "media path too long");
        goto done;
    }
    if (shelve)
        goto done;
    if (atomic_load(&job->cancel)) {
        set_failure(&result, MEDIA_CANCELLED, "the video was deleted before it was processed");
        goto done;
    }
    if (media_layout_remove_tree(p.out) < 0 || mkdir(p.out, 0755) < 0) {
        set_failure(&result, MEDIA_IO_ERROR, "the job's work directory could not be prepared");
        goto done;
    }
    uint64_t start = clock_mono_ns();
    media_transcode(p.source, p.out, &jobs->opts.transcode, &jobs->opts.limits, &job->cancel,
                    &result);
    if (result.reason == MEDIA_OK && sync_outputs(p.out, &result) < 0)
        set_failure(&result, MEDIA_IO_ERROR, "the renditions could not be written to disk");
    if (result.reason == MEDIA_OK)
        publish(jobs, job, &p, &result);
    pthread_mutex_lock(&jobs->lock);
    shelve = jobs->stopping && result.reason == MEDIA_CANCELLED;
    pthread_mutex_unlock(&jobs->lock);
    char quoted[MEDIA_MESSAGE_MAX + 32];
    log_info("event=media_job video=%" PRIu64 " reason=%s ms=%" PRIu64 " message=%s", job->video_id,
             media_reason_slug(result.reason), (clock_mono_ns() - start) / 1000000,
             log_quote(quoted, sizeof quoted, result.message));

done:
    if (shelve) {
        media_layout_remove_tree(p.out);
    } else {
        /* The callback records the outcome before .work/<id> goes: a crash
         * in between leaves the job for recovery (published: its result is
         * recorded again; failed: it is redone), never a video whose
         * outcome nobody recorded. */
        media_layout_remove_tree(p.out);
        if (jobs->opts.on_done)
            jobs->opts.on_done(jobs->opts.ctx, job->site_dir, job->video_id, &result);
        media_layout_remove_tree(p.work);
    }
    pthread_mutex_lock(&jobs->lock);
    forget_job(jobs, job);
    pthread_mutex_unlock(&jobs->lock);
    reel_free(job);
}

/* ---- the pool ----------------------------------------------------------- */

struct media_jobs *media_jobs_create(const struct media_jobs_options *opts)
{
    struct media_jobs *jobs = reel_calloc(1, sizeof *jobs);
    if (!jobs)
        return NULL;
    jobs->opts = *opts;
    unsigned workers = opts->workers;
    if (workers == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        workers = cores > 0 ? (unsigned)cores : 1;
    }
    if (jobs->opts.queue == 0)
        jobs->opts.queue = 1;
    pthread_mutex_init(&jobs->lock, NULL);
    pthread_cond_init(&jobs->idle, NULL);
    jobs->pool = workq_create(workers, (size_t)jobs->opts.queue + workers);
    if (!jobs->pool) {
        pthread_mutex_destroy(&jobs->lock);
        pthread_cond_destroy(&jobs->idle);
        reel_free(jobs);
        return NULL;
    }
    return jobs;
}

void media_jobs_destroy(struct media_jobs *jobs)
{
    if (!jobs)
        return;
    pthread_mutex_lock(&jobs->lock);
    jobs->stopping = true;
    for (struct job *j = jobs->active; j; j = j->next)
        atomic_store(&j->cancel, true);
    pthread_mutex_unlock(&jobs->lock);
    workq_destroy(jobs->pool); /* queued jobs run and shelve themselves */
    pthread_mutex_destroy(&jobs->lock);
    pthread_cond_destroy(&jobs->idle);
    reel_free(jobs);
}

int media_jobs_submit(struct media_jobs *jobs, const char *site_dir, uint64_t video_id,
                      const char *upload_path)
{
    struct job_paths p;
    if (strlen(site_dir) >= CONFIG_PATH_MAX || job_paths(site_dir, video_id, &p) < 0) {
        errno = ENAMETOOLONG;
        return MEDIA_JOBS_ERROR;
    }
    struct job *job = reel_calloc(1, sizeof *job);
    if (!job) {
        errno = ENOMEM;
        return MEDIA_JOBS_ERROR;
    }
    job->jobs = jobs;
    job->video_id = video_id;
    memcpy(job->site_dir, site_dir, strlen(site_dir) + 1);
    atomic_init(&job->cancel, false);

    pthread_mutex_lock(&jobs->lock);
    int rc = find_job(jobs, video_id)                             ? MEDIA_JOBS_EXISTS
             : jobs->stopping || jobs->queued >= jobs->opts.queue ? MEDIA_JOBS_BUSY
                                                                  : 0;
    if (rc == 0) {
        job->next = jobs->active;
        jobs->active = job;
        jobs->queued++;
    }
    pthread_mutex_unlock(&jobs->lock);
    if (rc < 0) {
        reel_free(job);
        return rc;
    }

    if (upload_path) {
        if (mkdir(p.work, 0755) < 0) {
            rc = errno == EEXIST ? MEDIA_JOBS_EXISTS : MEDIA_JOBS_ERROR;
            goto fail;
        }
        if (rename(upload_path, p.source) < 0) {
            int saved = errno;
            rmdir(p.work);
            errno = saved;
            rc = MEDIA_JOBS_ERROR;
            goto fail;
        }
        media_layout_sync_dir(p.work);
    } else if (access(p.source, F_OK) < 0) {
        rc = MEDIA_JOBS_ERROR;
        goto fail;
    }
    if (workq_submit(jobs->pool, job_main, job) < 0) {
        /* Cannot happen while queued <= queue (the ring has room for more),
         * but if it does, give the upload back. */
        if (upload_path && rename(p.source, upload_path) == 0)
            rmdir(p.work);
        rc = MEDIA_JOBS_BUSY;
        goto fail;
    }
    return 0;

fail:
    pthread_mutex_lock(&jobs->lock);
    jobs->queued--;
    forget_job(jobs, job);
    pthread_mutex_unlock(&jobs->lock);
    reel_free(job);
    return rc;
}

bool media_jobs_cancel(struct media_jobs *jobs, uint64_t video_id)
{
    pthread_mutex_lock(&jobs->lock);
    struct job *job = find_job(jobs, video_id);
    if (job)
        atomic_store(&job->cancel, true);
    pthread_mutex_unlock(&jobs->lock);
    return job != NULL;
}

bool media_jobs_active(struct media_jobs *jobs, uint64_t video_id)
{
    pthread_mutex_lock(&jobs->lock);
    bool active = find_job(jobs, video_id) != NULL;
    pthread_mutex_unlock(&jobs->lock);
    return active;
}

unsigned media_jobs_pending(struct media_jobs *jobs)
{
    unsigned n = 0;
    pthread_mutex_lock(&jobs->lock);
    for (struct job *j = jobs->active; j; j = j->next)
        n++;
    pthread_mutex_unlock(&jobs->lock);
    return n;
}

void media_jobs_wait_idle(struct media_jobs *jobs)
{
    pthread_mutex_lock(&jobs->lock);
    while (jobs->active)
        pthread_cond_wait(&jobs->idle, &jobs->lock);
    pthread_mutex_unlock(&jobs->lock);
}

/* ---- recovery ----------------------------------------------------------- */

/* Removes everything inside dir, keeping dir. */
static int empty_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : -1;
    int rc = 0;
    char path[MEDIA_PATH_MAX];
    for (struct dirent *e; (e = readdir(d));) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path ||
            media_layout_remove_tree(path) < 0)
            rc = -1;
    }
    closedir(d);
    return rc;
}

int media_jobs_recover(const char *site_dir, media_recover_fn fn, void *ctx)
{
    char dir[MEDIA_PATH_MAX], path[MEDIA_PATH_MAX];
    if (media_layout_prepare(site_dir) < 0)
        return -1;
    if (media_layout_incoming_dir(site_dir, dir, sizeof dir) < 0 || empty_dir(dir) < 0 ||
        media_layout_trash_dir(site_dir, dir, sizeof dir) < 0 || empty_dir(dir) < 0 ||
        media_layout_root(site_dir, dir, sizeof dir) < 0 ||
        snprintf(path, sizeof path, "%s/.work", dir) >= (int)sizeof path)
        return -1;
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int count = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        unsigned long long id;
        struct job_paths p;
        if (parse_ull(e->d_name, &id) < 0 || id == 0 || job_paths(site_dir, id, &p) < 0) {
            /* Not a job of ours: nothing under .work/ may linger. */
            if (snprintf(dir, sizeof dir, "%s/%s", path, e->d_name) < (int)sizeof dir)
                media_layout_remove_tree(dir);
            continue;
        }
        struct media_result result;
        struct stat st;
        media_layout_remove_tree(p.out);
        if (media_result_load(site_dir, id, &result) == 0) {
            media_layout_remove_tree(p.work);
            fn(ctx, id, MEDIA_RECOVER_PUBLISHED, &result);
        } else if (stat(p.source, &st) == 0 && S_ISREG(st.st_mode)) {
            /* A published directory without its result file is not ours to
             * trust: the redo publishes afresh. */
            media_layout_remove_tree(p.published);
            fn(ctx, id, MEDIA_RECOVER_REDO, NULL);
        } else {
            media_layout_remove_tree(p.work);
            fn(ctx, id, MEDIA_RECOVER_LOST, NULL);
        }
        count++;
    }
    closedir(d);
    return count;
}
