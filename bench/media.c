/*
 * media.c — reel-bench-media, the C side of bench/media.sh.
 *
 *   reel-bench-media synth OUT.mp4 [SECONDS]
 *       the benchmark source: 1080x1920, 30 fps, with a tone (synth.h)
 *   reel-bench-media transcode SRC OUT_DIR
 *       Reel's whole ladder, exactly as a job runs it, with the [media]
 *       defaults of config/reel.ini
 *   reel-bench-media settings
 *       prints the preset, crf, threads and audio bit rate, for the ffmpeg run
 *
 * Timing is done by the script around the process, the same way for Reel
 * and for ffmpeg.
 */
#include "media/synth.h"
#include "media/transcode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "synth") == 0) {
        struct media_synth_options o;
        char err[256];
        media_synth_options_init(&o);
        o.width = 1080;
        o.height = 1920;
        o.fps = 30;
        o.duration_ms = (argc > 3 ? atoi(argv[3]) : 60) * 1000;
        o.preset = "veryfast"; /* a phone-like source: real H.264 with B-frames */
        o.crf = 20;
        o.seed = 2026;
        if (media_synth_write(argv[2], &o, err, sizeof err) < 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        return 0;
    }
    struct media_transcode_settings s;
    media_transcode_settings_from_config(&s, NULL);
    if (argc == 2 && strcmp(argv[1], "settings") == 0) {
        printf("%s %d %d %d\n", s.x264_preset, s.x264_crf, s.encoder_threads, s.audio_bitrate);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "transcode") == 0) {
        struct media_limits limits;
        struct media_result r;
        media_limits_from_config(&limits, NULL);
        if (media_transcode(argv[2], argv[3], &s, &limits, NULL, &r) != MEDIA_OK) {
            fprintf(stderr, "transcode: %s: %s\n", media_reason_slug(r.reason), r.message);
            return 1;
        }
        return 0;
    }
    fprintf(stderr,
            "usage: reel-bench-media synth OUT [SECONDS] | transcode SRC OUT_DIR | settings\n");
    return 2;
}
