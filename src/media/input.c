/*
 * input.c — opening an uploaded file with libavformat, defensively.
 *
 * An upload is hostile input handed to a large C library, so the surface is
 * kept small:
 *   - bytes come from our AVIOContext over the file descriptor; demuxers that
 *     try to open anything else (MOV data references, playlists) get EPERM;
 *   - the format is probed from the content (never the file name) and must
 *     be one of a short list of video containers; images and audio-only
 *     formats are recognised by name so the uploader hears what they sent;
 *   - decoders are limited to a list of common codecs (codec_whitelist), and
 *     the number of streams to a few.
 * Everything else — a text file named .mp4, a PDF — is "not a video".
 */
#include "media/media_int.h"

#include <errno.h>
#include <libavutil/display.h>
#include <libavutil/opt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { IO_BUFFER_SIZE = 64 * 1024, MAX_STREAMS = 16 };

/* Demuxers for video containers. Names are matched against each
 * comma-separated part of AVInputFormat.name ("mov,mp4,m4a,3gp,3g2,mj2"). */
static const char *const video_formats[] = {"mov", "matroska", "webm", "avi", "mpegts",
                                            "flv", "ogg",      "mpeg", "asf"};
/* Demuxers that only ever hold audio. */
static const char *const audio_formats[] = {"mp3",  "wav", "flac", "aac",  "ac3", "eac3",   "amr",
                                            "aiff", "w64", "wv",   "ape",  "dts", "truehd", "caf",
                                            "au",   "tta", "mpc",  "mpc8", "mp2", "oga"};
/* Demuxers for still images (image2pipe family and friends). */
static const char *const image_formats[] = {"image2",    "gif", "apng",
                                            "webp_pipe", "ico", "brender_pix"};

static const enum AVCodecID accepted_codecs[] = {
    /* video */
    AV_CODEC_ID_H264, AV_CODEC_ID_HEVC, AV_CODEC_ID_VP8, AV_CODEC_ID_VP9, AV_CODEC_ID_AV1,
    AV_CODEC_ID_MPEG4, AV_CODEC_ID_MPEG2VIDEO, AV_CODEC_ID_MPEG1VIDEO, AV_CODEC_ID_H263,
    AV_CODEC_ID_THEORA, AV_CODEC_ID_PRORES, AV_CODEC_ID_MJPEG,
    /* audio */
    AV_CODEC_ID_AAC, AV_CODEC_ID_MP3, AV_CODEC_ID_MP2, AV_CODEC_ID_OPUS, AV_CODEC_ID_VORBIS,
    AV_CODEC_ID_FLAC, AV_CODEC_ID_ALAC, AV_CODEC_ID_AC3, AV_CODEC_ID_EAC3, AV_CODEC_ID_AMR_NB,
    AV_CODEC_ID_AMR_WB, AV_CODEC_ID_PCM_S16LE, AV_CODEC_ID_PCM_S16BE, AV_CODEC_ID_PCM_S24LE,
    AV_CODEC_ID_PCM_S32LE, AV_CODEC_ID_PCM_F32LE, AV_CODEC_ID_PCM_U8, AV_CODEC_ID_PCM_ALAW,
    AV_CODEC_ID_PCM_MULAW};

/* The same list as libav decoder names, for AVFormatContext.codec_whitelist
 * (which governs the decoders avformat_find_stream_info opens). */
static const char codec_whitelist[] =
    "h264,hevc,vp8,vp9,libvpx,libvpx-vp9,av1,libdav1d,libaom-av1,mpeg4,mpeg2video,mpeg1video,"
    "h263,theora,prores,mjpeg,aac,aac_fixed,mp3,mp3float,mp2,mp2float,opus,libopus,vorbis,"
    "libvorbis,flac,alac,ac3,ac3_fixed,eac3,amrnb,amrwb,libopencore_amrnb,libopencore_amrwb,"
    "pcm_s16le,pcm_s16be,pcm_s24le,pcm_s32le,pcm_f32le,pcm_u8,pcm_alaw,pcm_mulaw";

void media_message(char *msg, size_t msglen, const char *fmt, ...)
{
    if (!msglen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, msglen, fmt, ap);
    va_end(ap);
}

bool media_codec_accepted(enum AVCodecID codec_id)
{
    for (size_t i = 0; i < sizeof accepted_codecs / sizeof accepted_codecs[0]; i++)
        if (accepted_codecs[i] == codec_id)
            return true;
    return false;
}

/* True if any comma-separated part of `names` is in list, or (for images)
 * ends in "_pipe". */
static bool name_in(const char *names, const char *const *list, size_t count, bool pipes)
{
    const char *p = names;
    while (*p) {
        size_t n = strcspn(p, ",");
        for (size_t i = 0; i < count; i++)
            if (strlen(list[i]) == n && memcmp(list[i], p, n) == 0)
                return true;
        if (pipes && n > 5 && memcmp(p + n - 5, "_pipe", 5) == 0)
            return true;
        p += n;
        if (*p == ',')
            p++;
    }
    return false;
}

static int io_read(void *opaque, uint8_t *buf, int size)
{
    struct media_input *in = opaque;
    if (in->pos >= in->size)
        return AVERROR_EOF;
    for (;;) {
        ssize_t n = pread(in->fd, buf, (size_t)size, in->pos);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return AVERROR(errno);
        if (n == 0)
            return AVERROR_EOF;
        in->pos += n;
        return (int)n;
    }
}

static int64_t io_seek(void *opaque, int64_t offset, int whence)
{
    struct media_input *in = opaque;
    int64_t target;
    switch (whence & ~AVSEEK_FORCE) {
    case AVSEEK_SIZE: return in->size;
    case SEEK_SET: target = offset; break;
    case SEEK_CUR: target = in->pos + offset; break;
    case SEEK_END: target = in->size + offset; break;
    default: return AVERROR(EINVAL);
    }
    if (target < 0)
        return AVERROR(EINVAL);
    in->pos = target;
    return target;
}

/* Demuxers must not open anything but the upload itself. */
static int refuse_io_open(struct AVFormatContext *s, AVIOContext **pb, const char *url, int flags,
                          AVDictionary **options)
{
    (void)s;
    (void)pb;
    (void)url;
    (void)flags;
    (void)options;
    return AVERROR(EPERM);
}

void media_input_close(struct media_input *in)
{
    if (in->fmt)
        avformat_close_input(&in->fmt);
    if (in->avio) {
        av_freep(&in->avio->buffer);
        avio_context_free(&in->avio);
    }
}

enum media_reason media_input_open(struct media_input *in, int fd, char *msg, size_t msglen)
{
    enum media_reason reason = MEDIA_OK;
    AVDictionary *opts = NULL;
    const AVInputFormat *ifmt = NULL;
    struct stat st;

    memset(in, 0, sizeof *in);
    in->fd = fd;
    if (fstat(fd, &st) < 0) {
        media_message(msg, msglen, "could not read the uploaded file");
        return MEDIA_IO_ERROR;
    }
    in->size = st.st_size;

    unsigned char *iobuf = av_malloc(IO_BUFFER_SIZE);
    if (!iobuf) {
        media_message(msg, msglen, "out of memory");
        return MEDIA_NO_MEMORY;
    }
    in->avio = avio_alloc_context(iobuf, IO_BUFFER_SIZE, 0, in, io_read, NULL, io_seek);
    if (!in->avio) {
        av_free(iobuf);
        media_message(msg, msglen, "out of memory");
        return MEDIA_NO_MEMORY;
    }

    /* A low score is libavformat guessing (random bytes "look like" MP3
     * with score 1..24): treat guesses as unrecognised. */
    int score = av_probe_input_buffer2(in->avio, &ifmt, "", NULL, 0, 0);
    if (score < AVPROBE_SCORE_RETRY || !ifmt) {
        media_message(msg, msglen, "the file is not in a video format Reel recognises");
        reason = MEDIA_NOT_VIDEO;
        goto fail;
    }
    if (name_in(ifmt->name, image_formats, sizeof image_formats / sizeof image_formats[0], true)) {
        media_message(msg, msglen, "the file is an image (%s), not a video", ifmt->name);
        reason = MEDIA_IMAGE;
        goto fail;
    }
    if (name_in(ifmt->name, audio_formats, sizeof audio_formats / sizeof audio_formats[0], false)) {
        media_message(msg, msglen, "the file holds only audio (%s), no video", ifmt->name);
        reason = MEDIA_AUDIO_ONLY;
        goto fail;
    }
    if (!name_in(ifmt->name, video_formats, sizeof video_formats / sizeof video_formats[0],
                 false)) {
        media_message(msg, msglen, "the file's format (%s) is not a video container Reel accepts",
                      ifmt->name);
        reason = MEDIA_NOT_VIDEO;
        goto fail;
    }

    in->fmt = avformat_alloc_context();
    if (!in->fmt) {
        media_message(msg, msglen, "out of memory");
        reason = MEDIA_NO_MEMORY;
        goto fail;
    }
    in->fmt->pb = in->avio;
    in->fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
    in->fmt->io_open = refuse_io_open;
    in->fmt->max_streams = MAX_STREAMS;
    if (av_dict_set(&opts, "codec_whitelist", codec_whitelist, 0) < 0 ||
        av_dict_set(&opts, "protocol_whitelist", "none", 0) < 0) {
        media_message(msg, msglen, "out of memory");
        reason = MEDIA_NO_MEMORY;
        goto fail;
    }
    int rc = avformat_open_input(&in->fmt, "", ifmt, &opts);
    if (rc < 0) {
        /* avformat_open_input frees the context on failure. */
        /* ENOMEM included: a damaged header asking libav for an absurd
         * allocation (a sample table of 2^31 entries) fails that way, and
         * it is the file's fault, not ours. Found by fuzzing. */
        in->fmt = NULL;
        media_message(msg, msglen,
                      "the file looks like %s but is damaged or truncated: its header or "
                      "index is incomplete",
                      ifmt->long_name ? ifmt->long_name : ifmt->name);
        reason = MEDIA_TRUNCATED;
        goto fail;
    }
    rc = avformat_find_stream_info(in->fmt, NULL);
    if (rc < 0) {
        media_message(msg, msglen, "the file's streams could not be read (damaged or truncated)");
        reason = MEDIA_TRUNCATED; /* ENOMEM too: see above */
        goto fail;
    }
    av_dict_free(&opts);
    return MEDIA_OK;

fail:
    av_dict_free(&opts);
    media_input_close(in);
    return reason;
}

int media_pick_video_stream(const AVFormatContext *fmt)
{
    int best = -1;
    int64_t best_score = -1;
    for (unsigned i = 0; i < fmt->nb_streams; i++) {
        const AVStream *st = fmt->streams[i];
        if (st->codecpar->codec_type != AVMEDIA_TYPE_VIDEO ||
            (st->disposition & AV_DISPOSITION_ATTACHED_PIC))
            continue;
        int64_t score = (int64_t)st->codecpar->width * st->codecpar->height;
        if (st->disposition & AV_DISPOSITION_DEFAULT)
            score += 1LL << 40;
        if (media_codec_accepted(st->codecpar->codec_id))
            score += 1LL << 50;
        if (score > best_score) {
            best = (int)i;
            best_score = score;
        }
    }
    return best;
}

int media_pick_audio_stream(const AVFormatContext *fmt)
{
    int best = -1;
    for (unsigned i = 0; i < fmt->nb_streams; i++) {
        const AVStream *st = fmt->streams[i];
        if (st->codecpar->codec_type != AVMEDIA_TYPE_AUDIO ||
            !media_codec_accepted(st->codecpar->codec_id) ||
            st->codecpar->ch_layout.nb_channels <= 0 || st->codecpar->sample_rate <= 0)
            continue;
        if (best < 0 || (st->disposition & AV_DISPOSITION_DEFAULT))
            best = (int)i;
    }
    return best;
}

int media_stream_rotation(const AVStream *st)
{
    const uint8_t *matrix = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, NULL);
    if (!matrix)
        return 0;
    double theta = -av_display_rotation_get((const int32_t *)(const void *)matrix);
    if (isnan(theta))
        return 0;
    theta -= 360 * floor(theta / 360 + 0.9 / 360);
    int r = (int)lround(theta / 90) * 90;
    return ((r % 360) + 360) % 360;
}

AVCodecContext *media_decoder_open(const AVStream *st, int threads)
{
    if (!media_codec_accepted(st->codecpar->codec_id))
        return NULL;
    const AVCodec *codec = avcodec_find_decoder(st->codecpar->codec_id);
    if (!codec)
        return NULL;
    AVCodecContext *dec = avcodec_alloc_context3(codec);
    if (!dec)
        return NULL;
    if (avcodec_parameters_to_context(dec, st->codecpar) < 0)
        goto fail;
    dec->pkt_timebase = st->time_base;
    dec->thread_count = threads;
    if (avcodec_open2(dec, codec, NULL) < 0)
        goto fail;
    return dec;
fail:
    avcodec_free_context(&dec);
    return NULL;
}
