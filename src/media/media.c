/*
 * media.c — reason codes, limits from the config, and libav's global set-up.
 */
#include "media/media.h"

#include "core/config.h"
#include "core/log.h"

#include <libavutil/log.h>
#include <pthread.h>

static const struct {
    enum media_reason reason;
    const char *slug;
    int status;
} reasons[] = {
    {MEDIA_OK, "ok", 200},
    {MEDIA_EMPTY, "empty-file", 422},
    {MEDIA_TOO_LARGE, "too-large", 413},
    {MEDIA_NOT_VIDEO, "not-a-video", 422},
    {MEDIA_IMAGE, "image-not-video", 422},
    {MEDIA_AUDIO_ONLY, "audio-only", 422},
    {MEDIA_NO_VIDEO, "no-decodable-video", 422},
    {MEDIA_TRUNCATED, "truncated", 422},
    {MEDIA_TOO_LONG, "too-long", 422},
    {MEDIA_BAD_DIMENSIONS, "bad-dimensions", 422},
    {MEDIA_INCONSISTENT, "inconsistent-header", 422},
    {MEDIA_IO_ERROR, "io-error", 500},
    {MEDIA_NO_MEMORY, "out-of-memory", 503},
    {MEDIA_TRANSCODE_FAILED, "transcode-failed", 500},
    {MEDIA_CANCELLED, "cancelled", 409},
};

const char *media_reason_slug(enum media_reason reason)
{
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (reasons[i].reason == reason)
            return reasons[i].slug;
    return "unknown";
}

int media_reason_http_status(enum media_reason reason)
{
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (reasons[i].reason == reason)
            return reasons[i].status;
    return 500;
}

void media_limits_from_config(struct media_limits *limits, const struct config *cfg)
{
    struct config defaults;
    if (!cfg) {
        config_init(&defaults);
        cfg = &defaults;
    }
    limits->max_bytes = cfg->media_max_upload_bytes;
    limits->max_duration_ms = cfg->media_max_duration_s * 1000u;
    limits->max_dimension = cfg->media_max_dimension;
    limits->min_dimension = cfg->media_min_dimension;
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_libav(void)
{
    av_log_set_level(log_get_level() == LOG_DEBUG ? AV_LOG_WARNING : AV_LOG_QUIET);
}

void media_init(void)
{
    pthread_once(&init_once, init_libav);
}
