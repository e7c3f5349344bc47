/*
 * probe.c — see probe.h.
 *
 * Timestamps in a hostile file can be anything, so every sum and difference
 * of them is checked for overflow (UBSan would rightly stop us otherwise)
 * and durations are computed in milliseconds from the smallest start and
 * largest end seen across the video and audio streams, the same span a
 * player shows.
 *
 * Telling "truncated" from "lying":
 *   - an index entry (MOV sample table, Matroska cues) pointing past the end
 *     of the file, a packet cut short by the end of the file, or a read error
 *     other than end-of-file means the file was cut off: TRUNCATED;
 *   - a header duration much longer than the data, with a self-consistent
 *     index, is a header that lies: INCONSISTENT. "Much" is more than two
 *     seconds and more than a quarter of the data (edit lists and audio
 *     priming make honest files differ by a frame or two).
 */
#include "media/probe.h"

#include "media/media_int.h"

#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
    DECODE_CHECK_FRAMES = 3,      /* video frames that must decode */
    INCONSISTENT_SLACK_MS = 2000, /* header may exceed the data by this much... */
    INCONSISTENT_SLACK_DIV = 4,   /* ...or by this fraction of the data */
    TOO_LONG_STOP_MS = 1000,      /* stop demuxing this far past the limit */
};

static void copy_name(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

static int64_t to_ms(int64_t ts, AVRational tb)
{
    return av_rescale_q_rnd(ts, tb, (AVRational){1, 1000},
                            AV_ROUND_NEAR_INF | AV_ROUND_PASS_MINMAX);
}

/* Display size from coded size, pixel aspect and rotation. Even sizes are
 * not required here; the transcoder rounds. */
static void display_size(const AVStream *st, int coded_w, int coded_h, int rotation, int *w, int *h)
{
    AVRational sar = st->sample_aspect_ratio.num > 0 ? st->sample_aspect_ratio
                                                     : st->codecpar->sample_aspect_ratio;
    int64_t dw = coded_w, dh = coded_h;
    if (sar.num > 0 && sar.den > 0 && sar.num != sar.den) {
        if (sar.num > sar.den)
            dw = av_rescale(coded_w, sar.num, sar.den);
        else
            dh = av_rescale(coded_h, sar.den, sar.num);
    }
    if (dw > INT_MAX / 2 || dh > INT_MAX / 2 || dw < 0 || dh < 0)
        dw = dh = INT_MAX / 2;
    if (rotation == 90 || rotation == 270) {
        *w = (int)dh;
        *h = (int)dw;
    } else {
        *w = (int)dw;
        *h = (int)dh;
    }
}

/* True if an index entry of the stream points past the end of the file. */
static bool index_past_end(const AVStream *st, int64_t file_size)
{
    int count = avformat_index_get_entries_count(st);
    for (int i = 0; i < count; i++) {
        const AVIndexEntry *e = avformat_index_get_entry((AVStream *)st, i);
        int64_t end;
        if (!e || __builtin_add_overflow(e->pos, (int64_t)e->size, &end))
            return true;
        if (end > file_size)
            return true;
    }
    return false;
}

/* Top-level MOV/MP4 boxes: each is size (32-bit big-endian, 1 = a 64-bit
 * size follows the type, 0 = to the end of the file) then a 4-byte type. A
 * box that claims to run past the end of the file was cut off. */
static bool mov_boxes_cut(int fd, int64_t file_size)
{
    int64_t pos = 0;
    for (int boxes = 0; pos < file_size && boxes < 4096; boxes++) {
        unsigned char h[16];
        if (file_size - pos < 8 || pread(fd, h, sizeof h, pos) < 8)
            return true;
        uint64_t box = (uint64_t)h[0] << 24 | (uint64_t)h[1] << 16 | (uint64_t)h[2] << 8 | h[3];
        if (box == 0)
            return false;
        if (box == 1) {
            if (file_size - pos < 16)
                return true;
            box = 0;
            for (int i = 8; i < 16; i++)
                box = box << 8 | h[i];
        }
        if (box < 8 || box > (uint64_t)(file_size - pos))
            return true;
        pos += (int64_t)box;
    }
    return false;
}

/* Reads an EBML variable-length integer at *pos: the count of leading zero
 * bits of the first byte gives the length. Returns 0, or -1 if malformed;
 * *unknown is set for the all-ones "unknown size". */
static int ebml_vint(const unsigned char *p, size_t avail, size_t *pos, bool keep_marker,
                     uint64_t *value, bool *unknown)
{
    if (*pos >= avail || p[*pos] == 0)
        return -1;
    int len = __builtin_clz((unsigned)p[*pos]) - 23; /* 1..8 */
    if ((size_t)len > avail - *pos)
        return -1;
    uint64_t v = keep_marker ? p[*pos] : p[*pos] & (0xFFu >> len);
    bool ones = v == (0xFFu >> len);
    for (int i = 1; i < len; i++) {
        v = v << 8 | p[*pos + (size_t)i];
        ones &= p[*pos + (size_t)i] == 0xFF;
    }
    *pos += (size_t)len;
    *value = v;
    if (unknown)
        *unknown = !keep_marker && ones;
    return 0;
}

/* Matroska/WebM: the EBML header element, then the Segment (ID 0x18538067)
 * whose declared size must fit in the file. Live recordings (MediaRecorder)
 * write an unknown size, which proves nothing. */
static bool matroska_segment_cut(int fd, int64_t file_size)
{
    unsigned char h[64];
    ssize_t n = pread(fd, h, sizeof h, 0);
    size_t pos = 0;
    uint64_t id, size;
    bool unknown;
    if (n < 8 || ebml_vint(h, (size_t)n, &pos, true, &id, NULL) < 0 || id != 0x1A45DFA3 ||
        ebml_vint(h, (size_t)n, &pos, false, &size, &unknown) < 0 || unknown)
        return false;
    if (size > (uint64_t)file_size - pos)
        return true;
    int64_t seg = (int64_t)(pos + size);
    n = pread(fd, h, sizeof h, seg);
    pos = 0;
    if (n <= 0)
        return true;
    if (ebml_vint(h, (size_t)n, &pos, true, &id, NULL) < 0 || id != 0x18538067 ||
        ebml_vint(h, (size_t)n, &pos, false, &size, &unknown) < 0)
        return false;
    return !unknown && size > (uint64_t)(file_size - seg) - pos;
}

static bool container_cut(int fd, int64_t file_size, const char *format)
{
    if (strncmp(format, "mov,", 4) == 0)
        return mov_boxes_cut(fd, file_size);
    if (strncmp(format, "matroska", 8) == 0)
        return matroska_segment_cut(fd, file_size);
    return false;
}

struct span {
    int64_t start_ms, end_ms;
    bool any;
};

static void span_add(struct span *s, const AVPacket *pkt, AVRational tb)
{
    int64_t ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
    int64_t end;
    if (ts == AV_NOPTS_VALUE)
        return;
    if (__builtin_add_overflow(ts, pkt->duration > 0 ? pkt->duration : 0, &end))
        return;
    int64_t start_ms = to_ms(ts, tb), end_ms = to_ms(end, tb);
    if (start_ms == INT64_MIN || end_ms == INT64_MAX || start_ms == INT64_MAX)
        return;
    if (!s->any || start_ms < s->start_ms)
        s->start_ms = start_ms;
    if (!s->any || end_ms > s->end_ms)
        s->end_ms = end_ms;
    s->any = true;
}

static int64_t span_ms(const struct span *s)
{
    int64_t d;
    if (!s->any || __builtin_sub_overflow(s->end_ms, s->start_ms, &d) || d < 0)
        return 0;
    return d;
}

/* Feeds one packet (or NULL to drain) to the decoder; returns frames got. */
static int decode_some(AVCodecContext *dec, const AVPacket *pkt, AVFrame *frame, int *w, int *h)
{
    int got = 0;
    if (avcodec_send_packet(dec, pkt) < 0 && pkt)
        return 0;
    while (avcodec_receive_frame(dec, frame) == 0) {
        if (frame->width > 0 && frame->height > 0) {
            *w = frame->width;
            *h = frame->height;
            got++;
        }
        av_frame_unref(frame);
    }
    return got;
}

static enum media_reason fail(struct media_probe_info *info, enum media_reason reason,
                              const char *message)
{
    info->reason = reason;
    if (message)
        copy_name(info->message, sizeof info->message, message);
    return reason;
}

static void format_hms(int64_t ms, char *out, size_t size)
{
    int64_t s = ms / 1000;
    snprintf(out, size, "%lld:%02lld:%02lld.%01lld", (long long)(s / 3600),
             (long long)(s / 60 % 60), (long long)(s % 60), (long long)(ms % 1000 / 100));
}

enum media_reason media_probe_fd(int fd, const struct media_limits *limits,
                                 struct media_probe_info *info)
{
    struct media_input in;
    AVCodecContext *dec = NULL;
    AVPacket *pkt = NULL;
    AVFrame *frame = NULL;
    enum media_reason reason;

    memset(info, 0, sizeof *info);
    info->declared_duration_ms = -1;
    media_init();

    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        return fail(info, MEDIA_IO_ERROR, "could not read the uploaded file");
    off_t size = st.st_size;
    info->size_bytes = (uint64_t)size;
    if (size == 0)
        return fail(info, MEDIA_EMPTY, "the file is empty (zero bytes)");
    if ((uint64_t)size > limits->max_bytes) {
        media_message(info->message, sizeof info->message,
                      "the file is %llu bytes, more than the limit of %llu",
                      (unsigned long long)size, (unsigned long long)limits->max_bytes);
        return fail(info, MEDIA_TOO_LARGE, NULL);
    }

    reason = media_input_open(&in, fd, info->message, sizeof info->message);
    if (reason != MEDIA_OK)
        return fail(info, reason, NULL);
    AVFormatContext *fmt = in.fmt;
    copy_name(info->format, sizeof info->format, fmt->iformat->name);

    int vi = media_pick_video_stream(fmt);
    int ai = media_pick_audio_stream(fmt);
    if (vi < 0) {
        bool any_audio = false;
        for (unsigned i = 0; i < fmt->nb_streams; i++)
            any_audio |= fmt->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO;
        reason = any_audio ? fail(info, MEDIA_AUDIO_ONLY, "the file holds only audio, no video")
                           : fail(info, MEDIA_NO_VIDEO, "the file holds no video stream");
        goto out;
    }
    AVStream *vst = fmt->streams[vi];
    const AVCodecDescriptor *vdesc = avcodec_descriptor_get(vst->codecpar->codec_id);
    copy_name(info->video_codec, sizeof info->video_codec, vdesc ? vdesc->name : "unknown");
    if (ai >= 0) {
        const AVCodecDescriptor *adesc =
            avcodec_descriptor_get(fmt->streams[ai]->codecpar->codec_id);
        copy_name(info->audio_codec, sizeof info->audio_codec, adesc ? adesc->name : "unknown");
        info->has_audio = true;
        info->audio_sample_rate = fmt->streams[ai]->codecpar->sample_rate;
        info->audio_channels = fmt->streams[ai]->codecpar->ch_layout.nb_channels;
    }
    if (!media_codec_accepted(vst->codecpar->codec_id)) {
        media_message(info->message, sizeof info->message,
                      "the video codec (%s) is not one Reel can decode", info->video_codec);
        reason = fail(info, MEDIA_NO_VIDEO, NULL);
        goto out;
    }
    dec = media_decoder_open(vst, 1);
    pkt = av_packet_alloc();
    frame = av_frame_alloc();
    if (!pkt || !frame) {
        reason = fail(info, MEDIA_NO_MEMORY, "out of memory");
        goto out;
    }
    if (!dec) {
        media_message(info->message, sizeof info->message,
                      "the video stream (%s) cannot be decoded", info->video_codec);
        reason = fail(info, MEDIA_NO_VIDEO, NULL);
        goto out;
    }

    if (fmt->duration != AV_NOPTS_VALUE && fmt->duration > 0)
        info->declared_duration_ms = fmt->duration / 1000;

    struct span span = {0};
    int decoded = 0, frame_w = 0, frame_h = 0, read_error = 0;
    bool cut_short = false, too_long = false;
    int64_t limit_ms = (int64_t)limits->max_duration_ms + TOO_LONG_STOP_MS;
    for (;;) {
        int rc = av_read_frame(fmt, pkt);
        if (rc == AVERROR_EOF)
            break;
        if (rc < 0) {
            read_error = rc; /* ENOMEM too: a damaged size field, see input.c */
            break;
        }
        if (pkt->stream_index == vi || pkt->stream_index == ai) {
            AVStream *pst = fmt->streams[pkt->stream_index];
            if (pkt->flags & AV_PKT_FLAG_CORRUPT)
                cut_short = true;
            span_add(&span, pkt, pst->time_base);
            if (pkt->stream_index == vi) {
                info->video_frames++;
                if (decoded < DECODE_CHECK_FRAMES)
                    decoded += decode_some(dec, pkt, frame, &frame_w, &frame_h);
            }
        }
        av_packet_unref(pkt);
        if (span_ms(&span) > limit_ms) {
            too_long = true;
            break;
        }
    }
    if (decoded < DECODE_CHECK_FRAMES)
        decoded += decode_some(dec, NULL, frame, &frame_w, &frame_h);
    info->duration_ms = span_ms(&span);

    if (decoded == 0) {
        reason =
            cut_short || read_error
                ? fail(info, MEDIA_TRUNCATED,
                       "the file is damaged or truncated: no video frame could be decoded")
                : fail(info, MEDIA_NO_VIDEO, "the video stream holds no frame that can be decoded");
        goto out;
    }

    info->coded_width = vst->codecpar->width > 0 ? vst->codecpar->width : frame_w;
    info->coded_height = vst->codecpar->height > 0 ? vst->codecpar->height : frame_h;
    info->rotation = media_stream_rotation(vst);
    display_size(vst, info->coded_width, info->coded_height, info->rotation, &info->width,
                 &info->height);
    AVRational fr = vst->avg_frame_rate.num > 0 && vst->avg_frame_rate.den > 0 ? vst->avg_frame_rate
                                                                               : vst->r_frame_rate;
    if (fr.num > 0 && fr.den > 0)
        info->frame_rate = av_q2d(fr);
    else if (info->duration_ms > 0)
        info->frame_rate = (double)info->video_frames * 1000.0 / (double)info->duration_ms;

    int long_side = info->width > info->height ? info->width : info->height;
    int short_side = info->width > info->height ? info->height : info->width;
    if (long_side > (int)limits->max_dimension || short_side < (int)limits->min_dimension) {
        media_message(info->message, sizeof info->message,
                      "the video is %dx%d; each side must be between %u and %u pixels", info->width,
                      info->height, limits->min_dimension, limits->max_dimension);
        reason = fail(info, MEDIA_BAD_DIMENSIONS, NULL);
        goto out;
    }
    if (too_long || info->duration_ms > (int64_t)limits->max_duration_ms) {
        char got[32], max[32];
        format_hms(too_long && info->declared_duration_ms > info->duration_ms
                       ? info->declared_duration_ms
                       : info->duration_ms,
                   got, sizeof got);
        format_hms(limits->max_duration_ms, max, sizeof max);
        media_message(info->message, sizeof info->message,
                      "the video is %s%s long; the limit is %s", too_long ? "at least " : "",
                      too_long ? max : got, max);
        reason = fail(info, MEDIA_TOO_LONG, NULL);
        goto out;
    }
    bool index_cut = container_cut(fd, (int64_t)info->size_bytes, fmt->iformat->name) ||
                     index_past_end(vst, info->size_bytes) ||
                     (ai >= 0 && index_past_end(fmt->streams[ai], info->size_bytes));
    if (index_cut || cut_short || read_error) {
        reason = fail(info, MEDIA_TRUNCATED,
                      "the file is truncated: it ends before the data its index describes");
        goto out;
    }
    if (info->declared_duration_ms > 0 &&
        info->declared_duration_ms - info->duration_ms > INCONSISTENT_SLACK_MS &&
        info->declared_duration_ms - info->duration_ms >
            info->duration_ms / INCONSISTENT_SLACK_DIV) {
        char said[32], holds[32];
        format_hms(info->declared_duration_ms, said, sizeof said);
        format_hms(info->duration_ms, holds, sizeof holds);
        media_message(info->message, sizeof info->message,
                      "the file's header claims a duration of %s but its data holds only %s", said,
                      holds);
        reason = fail(info, MEDIA_INCONSISTENT, NULL);
        goto out;
    }
    reason = fail(info, MEDIA_OK, "");

out:
    av_frame_free(&frame);
    av_packet_free(&pkt);
    avcodec_free_context(&dec);
    media_input_close(&in);
    return reason;
}

enum media_reason media_probe_file(const char *path, const struct media_limits *limits,
                                   struct media_probe_info *info)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        memset(info, 0, sizeof *info);
        return fail(info, MEDIA_IO_ERROR, "the uploaded file could not be opened");
    }
    enum media_reason reason = media_probe_fd(fd, limits, info);
    close(fd);
    return reason;
}
