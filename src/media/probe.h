/*
 * probe.h — is this uploaded file a video Reel will take?
 *
 * The probe decides from the content, never the file name or the client's
 * Content-Type, and never trusts the container's header alone: it demuxes
 * every packet to measure the duration the data really holds (so a header
 * claiming ten hours over two seconds of frames is caught, and so is a file
 * cut off in the middle) and decodes the first video frames (so a stream
 * that merely declares itself H.264 must actually decode). Demuxing without
 * decoding reads ~1 GB/s; the decode is a handful of frames.
 *
 * Order of checks (the first failing one is the reason):
 *   zero bytes -> EMPTY; over max_bytes -> TOO_LARGE (before any parsing);
 *   format unrecognised / not a video container -> NOT_VIDEO, or IMAGE, or
 *   AUDIO_ONLY for audio formats; header or index unreadable -> TRUNCATED;
 *   no video stream -> AUDIO_ONLY (if audio) or NO_VIDEO; codec not accepted
 *   or no frame decodes -> NO_VIDEO; sides outside the limits ->
 *   BAD_DIMENSIONS; data longer than max_duration -> TOO_LONG; data ends
 *   before the index says it should -> TRUNCATED; header duration far longer
 *   than the data -> INCONSISTENT.
 */
#ifndef REEL_MEDIA_PROBE_H
#define REEL_MEDIA_PROBE_H

#include "media/media.h"

#define MEDIA_CODEC_NAME_MAX 32

struct media_probe_info {
    enum media_reason reason;
    char message[MEDIA_MESSAGE_MAX]; /* for the uploader; "" when accepted */
    uint64_t size_bytes;
    char format[MEDIA_CODEC_NAME_MAX]; /* demuxer name, "mov,mp4,m4a,3gp,3g2,mj2" cut to fit */
    char video_codec[MEDIA_CODEC_NAME_MAX];
    char audio_codec[MEDIA_CODEC_NAME_MAX]; /* "" without audio */
    int64_t duration_ms;                    /* measured from the packets */
    int64_t declared_duration_ms;           /* what the header claims; -1 if nothing */
    int width, height;                      /* as displayed: after rotation and pixel aspect */
    int coded_width, coded_height;          /* as stored */
    int rotation;                           /* clockwise degrees: 0, 90, 180, 270 */
    double frame_rate;                      /* average frames per second of the video */
    int64_t video_frames;                   /* video packets in the file */
    bool has_audio;
    int audio_sample_rate, audio_channels;
};

/* Probes the open file fd against limits and fills *info. Returns
 * info->reason: MEDIA_OK if the file is a video within the limits, a client
 * reason (MEDIA_EMPTY ... MEDIA_INCONSISTENT) with info->message, or
 * MEDIA_IO_ERROR / MEDIA_NO_MEMORY. Reads with pread: the file offset is not
 * moved. Allocates nothing that outlives the call; thread-safe. */
enum media_reason media_probe_fd(int fd, const struct media_limits *limits,
                                 struct media_probe_info *info);
/* As media_probe_fd for a path; a missing file is MEDIA_IO_ERROR. */
enum media_reason media_probe_file(const char *path, const struct media_limits *limits,
                                   struct media_probe_info *info);

#endif
