/*
 * transcode.h — one source file to Reel's ladder of vertical renditions.
 *
 *   1080x1920  only when the source is at least 1080 pixels on its short
 *              side and 1920 on its long side (no upscaling to the top rung)
 *   720x1280   always
 *   360x640    always
 *   thumb.jpg  720x1280, the frame at 1 s (or mid-way through shorter clips)
 *
 * H.264 (libx264, yuv420p, the configured preset and CRF) and AAC-LC stereo
 * at 48 kHz (44.1 kHz when the source is on the 44.1 kHz family) in MP4 with
 * the index at the front (faststart). Sources without audio give renditions
 * without an audio track. Frame timestamps pass through unchanged, so
 * variable-frame-rate sources stay variable and durations match the source.
 *
 * Aspect ratio: the picture is scaled to fit inside the rendition and padded
 * with black (letterbox/pillarbox) — never cropped, never stretched. The
 * display matrix (phones' rotation flag) and non-square pixels are applied
 * first, so what is fitted is the picture as a player would show it.
 *
 * The source is decoded once; a libavfilter graph splits it into one
 * scale+pad branch per rendition; each rendition has its own encoder and
 * muxer; audio is encoded once and its packets written to every rendition.
 */
#ifndef REEL_MEDIA_TRANSCODE_H
#define REEL_MEDIA_TRANSCODE_H

#include "media/media.h"

#include <stdatomic.h>

struct media_transcode_settings {
    const char *x264_preset; /* "veryfast" */
    int x264_crf;            /* 23 */
    int encoder_threads;     /* libx264 threads per rendition; 0 = auto */
    int decoder_threads;     /* 0 = auto */
    int audio_bitrate;       /* bits per second, stereo */
};

/* Settings from the config's [media] section (defaults when cfg is NULL). */
struct config;
void media_transcode_settings_from_config(struct media_transcode_settings *s,
                                          const struct config *cfg);

/* The ladder for a source displayed at width x height: fills out (room for
 * MEDIA_MAX_RENDITIONS, largest first) and returns how many rungs. */
int media_transcode_ladder(int width, int height, struct media_rendition *out);

/* Probes source_path against limits, then writes the renditions and
 * thumb.jpg into out_dir (an existing, empty directory) and fills *result.
 * Returns result->reason: MEDIA_OK, a probe reason, MEDIA_CANCELLED when
 * *cancel became true (polled between packets; may be NULL), or
 * MEDIA_TRANSCODE_FAILED / MEDIA_IO_ERROR / MEDIA_NO_MEMORY. On failure
 * out_dir may hold partial files: the caller removes the directory.
 * Thread-safe; runs on the calling thread (libx264 adds its own). */
enum media_reason media_transcode(const char *source_path, const char *out_dir,
                                  const struct media_transcode_settings *settings,
                                  const struct media_limits *limits, const atomic_bool *cancel,
                                  struct media_result *result);

#endif
