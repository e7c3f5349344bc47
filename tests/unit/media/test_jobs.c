/*
 * The job pool's promises: bad uploads end failed with the right reason and
 * leave nothing behind; a cancelled job leaves nothing and cannot publish;
 * a full queue and a duplicate are refused with the upload still the
 * caller's; shutdown keeps sources for the next start; recovery sorts what
 * a crash left into redo / published / lost and cleans the rest.
 */
#include "helpers.h"

#include "media/jobs.h"
#include "media/layout.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *dir, *site;

static void setup(void)
{
    dir = test_temp_dir();
    site = test_path(dir, "site");
    cr_assert_eq(mkdir(site, 0755), 0);
    cr_assert_eq(media_layout_prepare(site), 0);
}

static void teardown(void)
{
    test_remove_tree(dir);
    free(dir);
    free(site);
}

TestSuite(jobs, .init = setup, .fini = teardown, .timeout = 180);

#define MAX_CALLS 16

struct calls {
    pthread_mutex_t lock;
    int count;
    uint64_t ids[MAX_CALLS];
    struct media_result results[MAX_CALLS];
};

static void on_done(void *ctx, const char *site_dir, uint64_t video_id,
                    const struct media_result *result)
{
    struct calls *c = ctx;
    (void)site_dir;
    pthread_mutex_lock(&c->lock);
    if (c->count < MAX_CALLS) {
        c->ids[c->count] = video_id;
        c->results[c->count] = *result;
    }
    c->count++;
    pthread_mutex_unlock(&c->lock);
}

static struct media_jobs *start(struct calls *c, unsigned workers, unsigned queue,
                                uint64_t max_bytes)
{
    struct media_jobs_options opts;
    media_jobs_options_from_config(&opts, NULL);
    opts.workers = workers;
    opts.queue = queue;
    opts.transcode.x264_preset = "ultrafast";
    if (max_bytes)
        opts.limits.max_bytes = max_bytes;
    opts.on_done = on_done;
    opts.ctx = c;
    struct media_jobs *jobs = media_jobs_create(&opts);
    cr_assert_not_null(jobs);
    return jobs;
}

/* Only the media layout's empty private directories may remain. */
static void assert_nothing_left(void)
{
    char root[MEDIA_PATH_MAX];
    media_layout_root(site, root, sizeof root);
    cr_assert_eq(test_count_entries(root), 4, "only .work .incoming .uploads .trash remain");
}

static char *upload(const char *name)
{
    char incoming[MEDIA_PATH_MAX];
    media_layout_incoming_dir(site, incoming, sizeof incoming);
    return test_path(incoming, name);
}

struct bad_input {
    const char *name;
    enum media_reason reason;
};

static void make_bad_input(const char *path, enum media_reason reason)
{
    char *tmp = test_path(dir, "good.mp4");
    switch (reason) {
    case MEDIA_EMPTY: test_write_file(path, "", 0); break;
    case MEDIA_NOT_VIDEO: test_write_file(path, "just some text, named .mp4\n", 27); break;
    case MEDIA_TRUNCATED:
        test_synth(tmp, &(struct synth_request){
                            .width = 320, .height = 240, .duration_ms = 2000, .audio = true});
        test_truncate_copy(tmp, path, test_file_size(tmp) / 2);
        break;
    case MEDIA_INCONSISTENT:
        test_synth(path, &(struct synth_request){
                             .width = 320, .height = 240, .duration_ms = 2000, .faststart = true});
        test_mp4_claim_duration(path, 10 * 3600);
        break;
    case MEDIA_AUDIO_ONLY:
        test_synth(path, &(struct synth_request){.width = 0, .duration_ms = 1000, .audio = true});
        break;
    case MEDIA_IMAGE:
        cr_assert_eq(test_run("ffmpeg -v error -y -f lavfi -i testsrc2=s=64x64 -frames:v 1 "
                              "-f image2 -c:v png '%s'",
                              path),
                     0);
        break;
    case MEDIA_TOO_LARGE:
        test_synth(path, &(struct synth_request){
                             .width = 640, .height = 480, .duration_ms = 6000, .audio = true});
        break;
    default: cr_assert_fail("no such bad input");
    }
    unlink(tmp);
    free(tmp);
}

Test(jobs, bad_inputs_fail_with_their_reason_and_leave_nothing)
{
    if (!test_have_ffmpeg())
        cr_skip_test("ffmpeg is not installed");
    const struct bad_input inputs[] = {
        {"text.mp4", MEDIA_NOT_VIDEO},    {"truncated.mp4", MEDIA_TRUNCATED},
        {"audio.mp4", MEDIA_AUDIO_ONLY},  {"zero.mp4", MEDIA_EMPTY},
        {"liar.mp4", MEDIA_INCONSISTENT}, {"image.mp4", MEDIA_IMAGE},
        {"huge.mp4", MEDIA_TOO_LARGE},
    };
    size_t n = sizeof inputs / sizeof inputs[0];
    struct calls c = {.lock = PTHREAD_MUTEX_INITIALIZER};
    char *paths[16];
    long largest = 0;
    for (size_t i = 0; i < n; i++) {
        paths[i] = upload(inputs[i].name);
        make_bad_input(paths[i], inputs[i].reason);
        if (inputs[i].reason != MEDIA_TOO_LARGE && test_file_size(paths[i]) > largest)
            largest = test_file_size(paths[i]);
    }
    /* The size limit sits just above every input but the big one. */
    struct media_jobs *jobs = start(&c, 2, 16, (uint64_t)largest + 1);
    for (size_t i = 0; i < n; i++) {
        if (inputs[i].reason == MEDIA_TOO_LARGE)
            cr_assert_gt(test_file_size(paths[i]), largest + 1);
        cr_assert_eq(media_jobs_submit(jobs, site, 1000 + i, paths[i]), 0);
        free(paths[i]);
    }
    media_jobs_wait_idle(jobs);
    media_jobs_destroy(jobs);
    cr_assert_eq(c.count, (int)n);
    for (int k = 0; k < c.count; k++) {
        size_t i = (size_t)(c.ids[k] - 1000);
        cr_assert_eq(c.results[k].reason, inputs[i].reason, "%s: got %s (%s)", inputs[i].name,
                     media_reason_slug(c.results[k].reason), c.results[k].message);
        cr_assert_str_neq(c.results[k].message, "", "a message for the uploader");
    }
    assert_nothing_left();
}

Test(jobs, cancel_stops_a_job_and_removes_everything)
{
    char *path = upload("long.mp4");
    test_synth(path, &(struct synth_request){.width = 320, .height = 240, .duration_ms = 20000});
    struct calls c = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct media_jobs *jobs = start(&c, 1, 4, 0);
    cr_assert_eq(media_jobs_submit(jobs, site, 7, path), 0);
    usleep(200 * 1000);
    cr_assert(media_jobs_cancel(jobs, 7));
    cr_assert(!media_jobs_cancel(jobs, 8), "no such job");
    media_jobs_wait_idle(jobs);
    media_jobs_destroy(jobs);
    cr_assert_eq(c.count, 1);
    cr_assert_eq(c.results[0].reason, MEDIA_CANCELLED, "%s",
                 media_reason_slug(c.results[0].reason));
    assert_nothing_left();
    free(path);
}

Test(jobs, duplicate_and_full_queue_leave_the_upload_with_the_caller)
{
    char *a = upload("a.mp4"), *b = upload("b.mp4"), *d = upload("d.mp4");
    test_synth(a, &(struct synth_request){.width = 320, .height = 240, .duration_ms = 3000});
    test_synth(b, &(struct synth_request){.width = 320, .height = 240, .duration_ms = 1000});
    test_synth(d, &(struct synth_request){.width = 320, .height = 240, .duration_ms = 1000});
    struct calls c = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct media_jobs *jobs = start(&c, 1, 1, 0);
    cr_assert_eq(media_jobs_submit(jobs, site, 1, a), 0);
    cr_assert_eq(media_jobs_submit(jobs, site, 1, b), MEDIA_JOBS_EXISTS);
    cr_assert(test_exists(b), "refused upload stays where it was");
    /* Queue of 1: one may wait while the first runs (or both wait). */
    int second = media_jobs_submit(jobs, site, 2, b);
    int third = media_jobs_submit(jobs, site, 3, d);
    cr_assert(second == 0 || second == MEDIA_JOBS_BUSY);
    cr_assert(second == MEDIA_JOBS_BUSY || third == MEDIA_JOBS_BUSY,
              "with one worker and a queue of one, three jobs cannot all be taken");
    if (third == MEDIA_JOBS_BUSY)
        cr_assert(test_exists(d));
    media_jobs_wait_idle(jobs);
    media_jobs_destroy(jobs);
    for (int k = 0; k < c.count; k++)
        cr_assert_eq(c.results[k].reason, MEDIA_OK, "%s", c.results[k].message);
    free(a);
    free(b);
    free(d);
}

struct recovered {
    int count;
    uint64_t ids[8];
    enum media_recover_state states[8];
    struct media_result results[8];
};

static void on_recover(void *ctx, uint64_t id, enum media_recover_state state,
                       const struct media_result *result)
{
    struct recovered *r = ctx;
    r->ids[r->count] = id;
    r->states[r->count] = state;
    if (result)
        r->results[r->count] = *result;
    r->count++;
}

static int find(const struct recovered *r, uint64_t id)
{
    for (int i = 0; i < r->count; i++)
        if (r->ids[i] == id)
            return i;
    return -1;
}

Test(jobs, shutdown_keeps_sources_and_recovery_resumes_them)
{
    char *path = upload("clip.mp4");
    test_synth(path, &(struct synth_request){.width = 320, .height = 240, .duration_ms = 20000});
    struct calls c = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct media_jobs *jobs = start(&c, 1, 4, 0);
    cr_assert_eq(media_jobs_submit(jobs, site, 21, path), 0);
    usleep(200 * 1000);
    media_jobs_destroy(jobs); /* "restart" while the job runs */
    cr_assert_eq(c.count, 0, "no callback for a job shelved by shutdown");

    struct recovered r = {0};
    cr_assert_eq(media_jobs_recover(site, on_recover, &r), 1);
    cr_assert_eq(r.ids[0], 21);
    cr_assert_eq(r.states[0], MEDIA_RECOVER_REDO);

    jobs = start(&c, 1, 4, 0);
    cr_assert_eq(media_jobs_submit(jobs, site, 21, NULL), 0);
    media_jobs_wait_idle(jobs);
    media_jobs_destroy(jobs);
    cr_assert_eq(c.count, 1);
    cr_assert_eq(c.results[0].reason, MEDIA_OK, "%s", c.results[0].message);
    cr_assert(llabs(c.results[0].duration_ms - 20000) <= 100);
    free(path);
}

static void make_file(const char *dir_path, const char *name)
{
    char *p = test_path(dir_path, name);
    test_write_file(p, "x", 1);
    free(p);
}

Test(jobs, recovery_sorts_what_a_crash_left)
{
    char work[MEDIA_PATH_MAX], pub[MEDIA_PATH_MAX], incoming[MEDIA_PATH_MAX];
    char path[2 * MEDIA_PATH_MAX];
    /* 31: crashed mid-transcode: source and partial output. */
    media_layout_work_dir(site, 31, work, sizeof work);
    snprintf(path, sizeof path, "%s/out", work);
    test_run("mkdir -p '%s'", path);
    make_file(work, "source");
    make_file(path, "720.mp4");
    /* 32: crashed after publishing, before cleaning up. */
    media_layout_work_dir(site, 32, work, sizeof work);
    media_layout_video_dir(site, 32, pub, sizeof pub);
    test_run("mkdir -p '%s' '%s'", work, pub);
    make_file(work, "source");
    make_file(pub, "720.mp4");
    struct media_result published = {.reason = MEDIA_OK,
                                     .duration_ms = 4321,
                                     .width = 720,
                                     .height = 1280,
                                     .rendition_count = 1,
                                     .thumbnail = "thumb.jpg"};
    snprintf(published.renditions[0].name, sizeof published.renditions[0].name, "720");
    snprintf(published.renditions[0].file, sizeof published.renditions[0].file, "720.mp4");
    published.renditions[0].width = 720;
    published.renditions[0].height = 1280;
    snprintf(path, sizeof path, "%s/result.json", pub);
    cr_assert_eq(media_result_save(path, &published), 0);
    /* 33: a work directory with no source. */
    media_layout_work_dir(site, 33, work, sizeof work);
    test_run("mkdir -p '%s'", work);
    /* junk: a stray name under .work and a half-streamed multipart upload */
    media_layout_root(site, path, sizeof path);
    test_run("mkdir -p '%s/.work/not-an-id'", path);
    media_layout_incoming_dir(site, incoming, sizeof incoming);
    make_file(incoming, "upload-abc123");

    struct recovered r = {0};
    cr_assert_eq(media_jobs_recover(site, on_recover, &r), 3);
    int i31 = find(&r, 31), i32 = find(&r, 32), i33 = find(&r, 33);
    cr_assert(i31 >= 0 && i32 >= 0 && i33 >= 0);
    cr_assert_eq(r.states[i31], MEDIA_RECOVER_REDO);
    cr_assert_eq(r.states[i32], MEDIA_RECOVER_PUBLISHED);
    cr_assert_eq(r.results[i32].duration_ms, 4321);
    cr_assert_str_eq(r.results[i32].renditions[0].file, "720.mp4");
    cr_assert_eq(r.states[i33], MEDIA_RECOVER_LOST);

    media_layout_work_dir(site, 31, work, sizeof work);
    snprintf(path, sizeof path, "%s/source", work);
    cr_assert(test_exists(path), "the source is kept for the redo");
    snprintf(path, sizeof path, "%s/out", work);
    cr_assert(!test_exists(path), "partial output removed");
    media_layout_work_dir(site, 32, work, sizeof work);
    cr_assert(!test_exists(work));
    cr_assert(test_exists(pub), "published files stay");
    media_layout_work_dir(site, 33, work, sizeof work);
    cr_assert(!test_exists(work));
    cr_assert_eq(test_count_entries(incoming), 0, ".incoming emptied");
    char root[MEDIA_PATH_MAX];
    media_layout_root(site, root, sizeof root);
    snprintf(path, sizeof path, "%s/.work/not-an-id", root);
    cr_assert(!test_exists(path));
}
