/*
 * media.h — the types every part of media/ shares: why a file was refused
 * (a reason code with a stable slug for problem+json), the limits an upload
 * is checked against, and what a finished transcode produced.
 *
 * media/ is the only subsystem that includes libav*; nothing in this header
 * does, so api/ and cli/ can include it freely.
 */
#ifndef REEL_MEDIA_MEDIA_H
#define REEL_MEDIA_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Why an upload was refused or a job failed. The first group is the client's
 * fault (the route answers 4xx), the second ours (5xx). Values are stable:
 * they may be stored with a failed video. */
enum media_reason {
    MEDIA_OK = 0,
    MEDIA_EMPTY = 1,          /* zero bytes */
    MEDIA_TOO_LARGE = 2,      /* more bytes than max_upload_bytes */
    MEDIA_NOT_VIDEO = 3,      /* no container we accept recognises it (text, garbage) */
    MEDIA_IMAGE = 4,          /* a still image (PNG, JPEG, GIF, WebP, BMP) */
    MEDIA_AUDIO_ONLY = 5,     /* audio streams and no video stream */
    MEDIA_NO_VIDEO = 6,       /* a container with no decodable video stream */
    MEDIA_TRUNCATED = 7,      /* the file ends before its index or its data does */
    MEDIA_TOO_LONG = 8,       /* longer than max_duration */
    MEDIA_BAD_DIMENSIONS = 9, /* a side over max_dimension or under min_dimension */
    MEDIA_INCONSISTENT = 10,  /* the header lies: it claims a duration the data does not hold */
    MEDIA_IO_ERROR = 20,      /* reading or writing our own files failed */
    MEDIA_NO_MEMORY = 21,
    MEDIA_TRANSCODE_FAILED = 22, /* an encoder or muxer failed on a file that probed fine */
    MEDIA_CANCELLED = 23,        /* the video was deleted while its job ran */
};

/* A short stable slug for the reason ("truncated", "too-long"...), used as the
 * problem+json type. Never NULL. */
const char *media_reason_slug(enum media_reason reason);
/* The HTTP status an upload refused for this reason gets: 413 for too large,
 * 422 for the other client reasons, 500 for ours. */
int media_reason_http_status(enum media_reason reason);

/* What an upload is checked against (from the [media] config section). */
struct media_limits {
    uint64_t max_bytes;
    uint32_t max_duration_ms;
    unsigned max_dimension; /* longest side, after rotation */
    unsigned min_dimension; /* shortest side */
};

/* Limits from the config; the defaults of config/reel.ini when cfg is NULL. */
struct config;
void media_limits_from_config(struct media_limits *limits, const struct config *cfg);

#define MEDIA_MESSAGE_MAX 256
#define MEDIA_MAX_RENDITIONS 3
#define MEDIA_NAME_MAX 16

/* One output of the ladder: name "1080", "720" or "360", its frame size and
 * its file name inside the video's media directory ("720.mp4"). */
struct media_rendition {
    char name[MEDIA_NAME_MAX];
    int width, height;
    char file[MEDIA_NAME_MAX];
};

/* The outcome of a transcoding job. On success reason is MEDIA_OK and the
 * rest describe the published files; otherwise message says what went wrong
 * in words fit for the uploader. A plain value: no pointers, copy freely. */
struct media_result {
    enum media_reason reason;
    char message[MEDIA_MESSAGE_MAX];
    int64_t duration_ms; /* of the renditions */
    int width, height;   /* of the source as displayed (after rotation) */
    bool has_audio;
    struct media_rendition renditions[MEDIA_MAX_RENDITIONS]; /* largest first */
    int rendition_count;
    char thumbnail[MEDIA_NAME_MAX]; /* "thumb.jpg" */
};

/* Sets libav's log level (quiet unless Reel's log level is debug) once per
 * process. Safe to call from any thread, any number of times. */
void media_init(void);

#endif
