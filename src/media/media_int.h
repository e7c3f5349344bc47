/*
 * media_int.h — libav plumbing shared by probe.c and transcode.c. Private to
 * media/: nothing outside this directory includes it.
 */
#ifndef REEL_MEDIA_MEDIA_INT_H
#define REEL_MEDIA_MEDIA_INT_H

#include "media/media.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <stdarg.h>

/* An uploaded file opened for demuxing. Reads go through our own AVIOContext
 * over the file descriptor (pread), never through libav's protocols, and
 * demuxers are refused any attempt to open a second resource (the external
 * data references of MOV, playlists): an upload is one file and nothing
 * else. */
struct media_input {
    AVFormatContext *fmt;
    AVIOContext *avio;
    int fd; /* borrowed, not closed */
    int64_t size;
    int64_t pos;
};

/* Opens fd (positioned anywhere; reads use pread) as media: probes the
 * format, refuses images, audio-only containers and anything not on the
 * accepted-container list, opens the demuxer and reads stream info. On
 * failure returns the reason with a message in msg and leaves `in` closed.
 * On success the caller closes with media_input_close. */
enum media_reason media_input_open(struct media_input *in, int fd, char *msg, size_t msglen);
void media_input_close(struct media_input *in);

/* True if codec_id is on the list of decoders Reel accepts from uploads. */
bool media_codec_accepted(enum AVCodecID codec_id);

/* The video stream Reel uses: the best non-cover-art video stream, or -1. */
int media_pick_video_stream(const AVFormatContext *fmt);
/* The audio stream Reel uses (an accepted codec), or -1. */
int media_pick_audio_stream(const AVFormatContext *fmt);

/* Clockwise rotation of the stream's display matrix: 0, 90, 180 or 270. */
int media_stream_rotation(const AVStream *st);

/* Opens a decoder for the stream (threads: 0 = libav's choice). Returns the
 * context or NULL. */
AVCodecContext *media_decoder_open(const AVStream *st, int threads);

/* snprintf into a message buffer (used for reason messages). */
void media_message(char *msg, size_t msglen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
