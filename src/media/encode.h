/*
 * encode.h — opening the encoders Reel writes with (libx264, AAC, MJPEG) and
 * the bookkeeping an MP4 needs from them. Private to media/.
 *
 * Packet durations: libx264 returns packets reordered and without a
 * duration, but the MP4 muxer takes the last sample's duration from its
 * packet — without it every rendition would be one frame short, and for
 * variable-frame-rate video no constant fixes that. So the caller records
 * each frame's (pts, duration) as it sends it, and looks the duration up by
 * pts when the packet comes back (struct media_durations).
 */
#ifndef REEL_MEDIA_ENCODE_H
#define REEL_MEDIA_ENCODE_H

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <stdbool.h>

struct media_h264_settings {
    const char *preset; /* "veryfast" */
    int crf;            /* 23 */
    int threads;        /* 0 = libx264 decides */
};

/* libx264 for width x height yuv420p frames in time_base, at about
 * frame_rate (a hint for rate control; the timestamps rule). global_header
 * for MP4. Returns the opened context or NULL. */
AVCodecContext *media_h264_open(int width, int height, AVRational time_base, AVRational frame_rate,
                                const struct media_h264_settings *settings, bool global_header);
/* AAC-LC, float planar, `channels` (1 or 2) at sample_rate, bit_rate bits/s. Returns the
 * opened context (frame_size 1024) or NULL. */
AVCodecContext *media_aac_open(int sample_rate, int channels, int64_t bit_rate, bool global_header);

/* Writes one frame as a JPEG file (baseline, full range). The frame may be
 * any size and yuv420p; it is converted. Returns 0 or -1. */
int media_jpeg_write(const AVFrame *frame, const char *path);

#define MEDIA_DURATIONS_RING 1024

/* (pts, duration) of frames in flight inside an encoder. */
struct media_durations {
    int64_t pts[MEDIA_DURATIONS_RING];
    int64_t duration[MEDIA_DURATIONS_RING];
    unsigned next;
};
void media_durations_put(struct media_durations *d, int64_t pts, int64_t duration);
/* The duration recorded for pts, or `fallback`. */
int64_t media_durations_get(const struct media_durations *d, int64_t pts, int64_t fallback);

/* Opens an MP4 (or another container named by the path's extension) for
 * writing at path. faststart moves the index to the front when closing.
 * Returns the context (streams to be added, header not yet written) or NULL. */
AVFormatContext *media_mux_open(const char *path);
/* Writes the header with faststart (MP4/MOV) when asked. Returns 0 or <0. */
int media_mux_start(AVFormatContext *mux, bool faststart);
/* Writes the trailer (if the header was written) and closes and frees the
 * context. Returns 0 or <0 (the trailer failed: the file is not usable). */
int media_mux_close(AVFormatContext **mux, bool header_written);

#endif
