/*
 * Transcoding through the job pool, end to end: landscape, portrait and
 * square sources, with and without audio, 10 s and 3 min, variable frame
 * rate, rotated, and a full-HD source that earns the 1080 rung. Each must
 * end ready, with renditions that ffprobe (not Reel) confirms are H.264 (+
 * AAC stereo when there is audio), the right size, faststart, and within
 * 100 ms of the source's duration; plus a 720x1280 JPEG thumbnail and no
 * work files left behind.
 *
 * Sources are small and the preset ultrafast so the suite stays quick under
 * ASan; the ladder itself is the real one.
 */
#include "helpers.h"

#include "media/jobs.h"
#include "media/layout.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <math.h>
#include <pthread.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

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

TestSuite(transcode, .init = setup, .fini = teardown, .timeout = 240);

struct outcome {
    pthread_mutex_t lock;
    int calls;
    uint64_t video_id;
    struct media_result result;
};

static void on_done(void *ctx, const char *site_dir, uint64_t video_id,
                    const struct media_result *result)
{
    struct outcome *o = ctx;
    (void)site_dir;
    pthread_mutex_lock(&o->lock);
    o->calls++;
    o->video_id = video_id;
    o->result = *result;
    pthread_mutex_unlock(&o->lock);
}

static struct media_result run_job(uint64_t id, const char *source)
{
    struct outcome o = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct media_jobs_options opts;
    media_jobs_options_from_config(&opts, NULL);
    opts.workers = 1;
    opts.transcode.x264_preset = "ultrafast";
    opts.transcode.x264_crf = 30;
    opts.on_done = on_done;
    opts.ctx = &o;
    struct media_jobs *jobs = media_jobs_create(&opts);
    cr_assert_not_null(jobs);
    cr_assert_eq(media_jobs_submit(jobs, site, id, source), 0);
    cr_assert(!test_exists(source), "the upload is moved into the job");
    media_jobs_wait_idle(jobs);
    media_jobs_destroy(jobs);
    cr_assert_eq(o.calls, 1, "the completion callback runs exactly once");
    cr_assert_eq(o.video_id, id);
    return o.result;
}

struct expect {
    int renditions;
    bool audio;
    int width, height; /* displayed source size */
};

static void check_ready(uint64_t id, double source_duration, const struct media_result *r,
                        const struct expect *e)
{
    cr_assert_eq(r->reason, MEDIA_OK, "%s: %s", media_reason_slug(r->reason), r->message);
    cr_assert_eq(r->rendition_count, e->renditions);
    cr_assert_eq(r->has_audio, e->audio);
    cr_assert_eq(r->width, e->width);
    cr_assert_eq(r->height, e->height);
    cr_assert(llabs(r->duration_ms - (int64_t)(source_duration * 1000)) <= 100,
              "result duration %lld ms vs source %.3f s", (long long)r->duration_ms,
              source_duration);
    static const int sizes[][2] = {{1080, 1920}, {720, 1280}, {360, 640}};
    int first = e->renditions == 3 ? 0 : 1;
    for (int i = 0; i < r->rendition_count; i++) {
        const struct media_rendition *x = &r->renditions[i];
        cr_assert_eq(x->width, sizes[first + i][0]);
        cr_assert_eq(x->height, sizes[first + i][1]);
        char path[MEDIA_PATH_MAX];
        cr_assert_eq(media_layout_file(site, id, x->file, path, sizeof path), 0, "%s", x->file);
        struct ffprobe_info info;
        cr_assert_eq(test_ffprobe(path, &info), 0, "ffprobe %s", path);
        const struct ffprobe_stream *v = test_ffprobe_stream(&info, "video");
        cr_assert_not_null(v);
        cr_assert_str_eq(v->codec, "h264");
        cr_assert_eq(v->width, x->width, "%s width", x->file);
        cr_assert_eq(v->height, x->height, "%s height", x->file);
        const struct ffprobe_stream *a = test_ffprobe_stream(&info, "audio");
        if (e->audio) {
            cr_assert_not_null(a, "%s has audio", x->file);
            cr_assert_str_eq(a->codec, "aac");
            cr_assert_eq(a->channels, 2);
            cr_assert(a->sample_rate == 44100 || a->sample_rate == 48000, "rate %d",
                      a->sample_rate);
        } else {
            cr_assert_null(a, "%s has no audio track", x->file);
        }
        cr_assert(test_mp4_faststart(path), "%s: moov before mdat", x->file);
        cr_assert(fabs(info.duration_s - source_duration) <= 0.100,
                  "%s lasts %.3f s, source %.3f s", x->file, info.duration_s, source_duration);
    }
    char thumb[MEDIA_PATH_MAX];
    cr_assert_eq(media_layout_file(site, id, "thumb.jpg", thumb, sizeof thumb), 0);
    struct ffprobe_info tinfo;
    cr_assert_eq(test_ffprobe(thumb, &tinfo), 0);
    cr_assert_str_eq(tinfo.streams[0].codec, "mjpeg");
    cr_assert_eq(tinfo.streams[0].width, 720);
    cr_assert_eq(tinfo.streams[0].height, 1280);

    struct media_result saved;
    cr_assert_eq(media_result_load(site, id, &saved), 0);
    cr_assert_eq(saved.duration_ms, r->duration_ms);
    cr_assert_eq(saved.rendition_count, r->rendition_count);
    char work[MEDIA_PATH_MAX];
    media_layout_work_dir(site, id, work, sizeof work);
    cr_assert(!test_exists(work), "no work directory left");
}

/* Makes the source, measures it with ffprobe, runs the job, checks it. */
static void transcode_case(uint64_t id, const struct synth_request *req, const struct expect *e)
{
    if (!test_have_ffmpeg())
        cr_skip_test("ffprobe is not installed");
    char *source = test_path(dir, "upload.mp4");
    test_synth(source, req);
    struct ffprobe_info src;
    cr_assert_eq(test_ffprobe(source, &src), 0);
    struct media_result r = run_job(id, source);
    check_ready(id, src.duration_s, &r, e);
    free(source);
}

Test(transcode, landscape_10s_with_audio)
{
    transcode_case(
        101,
        &(struct synth_request){.width = 640, .height = 360, .duration_ms = 10000, .audio = true},
        &(struct expect){.renditions = 2, .audio = true, .width = 640, .height = 360});
}

Test(transcode, portrait_10s_without_audio)
{
    transcode_case(102, &(struct synth_request){.width = 360, .height = 640, .duration_ms = 10000},
                   &(struct expect){.renditions = 2, .audio = false, .width = 360, .height = 640});
}

Test(transcode, square_10s_mono_44k_becomes_stereo)
{
    transcode_case(103,
                   &(struct synth_request){.width = 480,
                                           .height = 480,
                                           .duration_ms = 10000,
                                           .audio = true,
                                           .channels = 1,
                                           .sample_rate = 44100},
                   &(struct expect){.renditions = 2, .audio = true, .width = 480, .height = 480});
    struct ffprobe_info info;
    char path[MEDIA_PATH_MAX];
    media_layout_file(site, 103, "720.mp4", path, sizeof path);
    cr_assert_eq(test_ffprobe(path, &info), 0);
    cr_assert_eq(test_ffprobe_stream(&info, "audio")->sample_rate, 44100,
                 "the 44.1 kHz family stays at 44.1 kHz");
}

Test(transcode, variable_frame_rate_10s)
{
    transcode_case(
        104,
        &(struct synth_request){
            .width = 320, .height = 240, .duration_ms = 10000, .audio = true, .vfr = true},
        &(struct expect){.renditions = 2, .audio = true, .width = 320, .height = 240});
}

Test(transcode, three_minutes)
{
    transcode_case(105,
                   &(struct synth_request){
                       .width = 160, .height = 96, .fps = 10, .duration_ms = 180000, .audio = true},
                   &(struct expect){.renditions = 2, .audio = true, .width = 160, .height = 96});
}

Test(transcode, full_hd_portrait_gets_the_1080_rung)
{
    transcode_case(
        106,
        &(struct synth_request){.width = 1080, .height = 1920, .duration_ms = 1500, .audio = true},
        &(struct expect){.renditions = 3, .audio = true, .width = 1080, .height = 1920});
}

Test(transcode, rotated_phone_video_is_upright)
{
    transcode_case(
        107,
        &(struct synth_request){.width = 320, .height = 240, .duration_ms = 2000, .rotation = 90},
        &(struct expect){.renditions = 2, .audio = false, .width = 240, .height = 320});
}

/* Luma of row y of the first frame of a rendition, averaged. */
static double row_luma(const char *path, int width, int height, int y)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "ffmpeg -v error -i '%s' -frames:v 1 -f rawvideo -pix_fmt gray - 2>/dev/null", path);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    unsigned char *frame = malloc((size_t)width * (size_t)height);
    size_t got = fread(frame, 1, (size_t)width * (size_t)height, p);
    pclose(p);
    cr_assert_eq(got, (size_t)width * (size_t)height, "one gray frame");
    double sum = 0;
    for (int x = 0; x < width; x++)
        sum += frame[(size_t)y * (size_t)width + (size_t)x];
    free(frame);
    return sum / width;
}

Test(transcode, landscape_is_letterboxed_not_cropped)
{
    if (!test_have_ffmpeg())
        cr_skip_test("ffmpeg is not installed");
    char *source = test_path(dir, "upload.mp4");
    test_synth(source, &(struct synth_request){.width = 640, .height = 360, .duration_ms = 500});
    struct media_result r = run_job(108, source);
    cr_assert_eq(r.reason, MEDIA_OK, "%s", r.message);
    char path[MEDIA_PATH_MAX];
    media_layout_file(site, 108, "360.mp4", path, sizeof path);
    /* 640x360 fitted into 360x640: 360x202 of picture from row 218. */
    cr_assert_lt(row_luma(path, 360, 640, 10), 20.0, "black bar above");
    cr_assert_lt(row_luma(path, 360, 640, 630), 20.0, "black bar below");
    cr_assert_gt(row_luma(path, 360, 640, 320), 40.0, "picture in the middle");
    free(source);
}
