/*
 * Probe/validation: good sources are accepted with the right facts, and
 * every kind of bad upload is refused with its own reason.
 */
#include "helpers.h"

#include "media/probe.h"
#include "media/synth.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dir;

static void setup(void)
{
    dir = test_temp_dir();
}

static void teardown(void)
{
    test_remove_tree(dir);
    free(dir);
}

TestSuite(probe, .init = setup, .fini = teardown, .timeout = 120);

static struct media_limits limits(void)
{
    struct media_limits l;
    media_limits_from_config(&l, NULL);
    return l;
}

static enum media_reason probe(const char *path, struct media_probe_info *info)
{
    struct media_limits l = limits();
    return media_probe_file(path, &l, info);
}

/* A 2 s 320x240 clip with audio, moov at the end. */
static char *small_clip(const char *name, bool faststart)
{
    char *path = test_path(dir, name);
    test_synth(path, &(struct synth_request){.width = 320,
                                             .height = 240,
                                             .duration_ms = 2000,
                                             .audio = true,
                                             .faststart = faststart});
    return path;
}

Test(probe, accepts_a_video_and_measures_it)
{
    char *path = small_clip("ok.mp4", false);
    struct media_probe_info info;
    cr_assert_eq(probe(path, &info), MEDIA_OK, "%s", info.message);
    cr_assert_eq(info.width, 320);
    cr_assert_eq(info.height, 240);
    cr_assert_eq(info.rotation, 0);
    cr_assert(info.has_audio);
    cr_assert_str_eq(info.video_codec, "h264");
    cr_assert_str_eq(info.audio_codec, "aac");
    cr_assert(info.duration_ms >= 1990 && info.duration_ms <= 2100, "duration %lld",
              (long long)info.duration_ms);
    cr_assert_eq(info.video_frames, 60);
    cr_assert_float_eq(info.frame_rate, 30.0, 0.01);
    free(path);
}

Test(probe, applies_rotation_to_the_displayed_size)
{
    char *path = test_path(dir, "rot.mp4");
    test_synth(path, &(struct synth_request){
                         .width = 320, .height = 240, .duration_ms = 1000, .rotation = 90});
    struct media_probe_info info;
    cr_assert_eq(probe(path, &info), MEDIA_OK, "%s", info.message);
    cr_assert_eq(info.rotation, 90);
    cr_assert_eq(info.width, 240);
    cr_assert_eq(info.height, 320);
    cr_assert_eq(info.coded_width, 320);
    cr_assert(!info.has_audio);
    free(path);
}

Test(probe, zero_bytes_is_empty)
{
    char *path = test_path(dir, "empty.mp4");
    test_write_file(path, "", 0);
    struct media_probe_info info;
    cr_assert_eq(probe(path, &info), MEDIA_EMPTY);
    cr_assert_str_eq(media_reason_slug(info.reason), "empty-file");
    free(path);
}

Test(probe, text_named_mp4_is_not_a_video)
{
    char *path = test_path(dir, "notes.mp4");
    const char text[] = "These are my holiday notes, not a video.\nLine two.\n";
    test_write_file(path, text, sizeof text - 1);
    struct media_probe_info info;
    cr_assert_eq(probe(path, &info), MEDIA_NOT_VIDEO, "%s", media_reason_slug(info.reason));
    cr_assert_eq(media_reason_http_status(info.reason), 422);
    free(path);
}

Test(probe, random_bytes_are_not_a_video)
{
    char *path = test_path(dir, "noise.mp4");
    unsigned char noise[8192];
    unsigned x = 12345;
    for (size_t i = 0; i < sizeof noise; i++)
        noise[i] = (unsigned char)((x = x * 1103515245u + 12345u) >> 16);
    test_write_file(path, noise, sizeof noise);
    struct media_probe_info info;
    cr_assert_eq(probe(path, &info), MEDIA_NOT_VIDEO, "%s", media_reason_slug(info.reason));
    free(path);
}

Test(probe, truncated_mp4_with_index_at_the_end)
{
    char *whole = small_clip("whole.mp4", false);
    char *cut = test_path(dir, "cut.mp4");
    test_truncate_copy(whole, cut, test_file_size(whole) / 2);
    struct media_probe_info info;
    cr_assert_eq(probe(cut, &info), MEDIA_TRUNCATED, "%s: %s", media_reason_slug(info.reason),
                 info.message);
    free(whole);
    free(cut);
}

Test(probe, truncated_mp4_with_index_at_the_front)
{
    char *whole = small_clip("whole.mp4", true);
    char *cut = test_path(dir, "cut.mp4");
    test_truncate_copy(whole, cut, test_file_size(whole) / 2);
    struct media_probe_info info;
    cr_assert_eq(probe(cut, &info), MEDIA_TRUNCATED, "%s: %s", media_reason_slug(info.reason),
                 info.message);
    free(whole);
    free(cut);
}

Test(probe, header_claiming_ten_hours_is_inconsistent)
{
    char *path = small_clip("liar.mp4", true);
    cr_assert_geq(test_mp4_claim_duration(path, 10 * 3600), 2);
    struct media_probe_info info;
    cr_assert_eq(probe(path, &info), MEDIA_INCONSISTENT, "%s: %s", media_reason_slug(info.reason),
                 info.message);
    cr_assert_geq(info.declared_duration_ms, 10LL * 3600 * 1000 - 1000);
    cr_assert_lt(info.duration_ms, 3000);
    cr_assert(strstr(info.message, "10:00:00"), "message names the claim: %s", info.message);
    free(path);
}

Test(probe, audio_only_mp4)
{
    char *path = test_path(dir, "song.mp4");
    struct media_synth_options o;
    char err[256];
    media_synth_options_init(&o);
    o.width = 0; /* audio only */
    o.duration_ms = 1500;
    cr_assert_eq(media_synth_write(path, &o, err, sizeof err), 0, "%s", err);
    struct media_probe_info info;
    cr_assert_eq(probe(path, &info), MEDIA_AUDIO_ONLY, "%s", media_reason_slug(info.reason));
    free(path);
}

Test(probe, images_are_not_videos)
{
    if (!test_have_ffmpeg())
        cr_skip_test("ffmpeg is not installed");
    const char *kinds[] = {"png", "jpg", "gif"};
    for (size_t i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "picture.%s", kinds[i]);
        char *path = test_path(dir, name);
        cr_assert_eq(
            test_run("ffmpeg -v error -y -f lavfi -i testsrc2=s=128x128 -frames:v 1 '%s'", path),
            0);
        /* Named .mp4, as a confused client would send it. */
        char *renamed = test_path(dir, "picture.mp4");
        cr_assert_eq(rename(path, renamed), 0);
        struct media_probe_info info;
        cr_assert_eq(probe(renamed, &info), MEDIA_IMAGE, "%s: %s", kinds[i],
                     media_reason_slug(info.reason));
        free(path);
        free(renamed);
    }
}

Test(probe, over_the_size_limit_is_refused_before_parsing)
{
    char *path = small_clip("big.mp4", false);
    struct media_limits l = limits();
    l.max_bytes = (uint64_t)test_file_size(path) - 1;
    struct media_probe_info info;
    cr_assert_eq(media_probe_file(path, &l, &info), MEDIA_TOO_LARGE);
    cr_assert_eq(media_reason_http_status(MEDIA_TOO_LARGE), 413);
    free(path);
}

Test(probe, longer_than_the_limit)
{
    char *path = small_clip("long.mp4", false);
    struct media_limits l = limits();
    l.max_duration_ms = 1000;
    struct media_probe_info info;
    cr_assert_eq(media_probe_file(path, &l, &info), MEDIA_TOO_LONG, "%s",
                 media_reason_slug(info.reason));
    free(path);
}

Test(probe, dimensions_outside_the_limits)
{
    char *tiny = test_path(dir, "tiny.mp4");
    test_synth(tiny, &(struct synth_request){.width = 32, .height = 32, .duration_ms = 500});
    struct media_probe_info info;
    cr_assert_eq(probe(tiny, &info), MEDIA_BAD_DIMENSIONS, "%s", media_reason_slug(info.reason));
    char *wide = small_clip("wide.mp4", false);
    struct media_limits l = limits();
    l.max_dimension = 300;
    cr_assert_eq(media_probe_file(wide, &l, &info), MEDIA_BAD_DIMENSIONS);
    free(tiny);
    free(wide);
}

Test(probe, missing_file_is_an_io_error)
{
    struct media_probe_info info;
    cr_assert_eq(probe("/nonexistent/reel/file.mp4", &info), MEDIA_IO_ERROR);
}

Test(probe, every_reason_has_a_slug_and_status)
{
    enum media_reason all[] = {
        MEDIA_EMPTY,    MEDIA_TOO_LARGE, MEDIA_NOT_VIDEO, MEDIA_IMAGE,          MEDIA_AUDIO_ONLY,
        MEDIA_NO_VIDEO, MEDIA_TRUNCATED, MEDIA_TOO_LONG,  MEDIA_BAD_DIMENSIONS, MEDIA_INCONSISTENT};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        cr_assert_str_neq(media_reason_slug(all[i]), "unknown");
        int status = media_reason_http_status(all[i]);
        cr_assert(status == 413 || status == 422, "client reasons are 4xx");
    }
    cr_assert_eq(media_reason_http_status(MEDIA_IO_ERROR), 500);
}
