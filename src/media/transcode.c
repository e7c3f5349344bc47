/*
 * transcode.c — see transcode.h.
 *
 * Data flow for one job (all on the calling thread; libx264 and the decoder
 * add their own threads):
 *
 *   demux --video--> decode -> hold one frame -> buffer -> [transpose] -> split
 *                                                  |-> scale,pad -> sink -> x264 -> mux 1080
 *                                                  |-> scale,pad -> sink -> x264 -> mux 720
 * (+thumb)
 *                                                  '-> scale,pad -> sink -> x264 -> mux 360
 *         --audio--> decode -> abuffer -> aresample,aformat -> sink (1024) -> AAC -> every mux
 *
 * Why hold one frame: a frame's duration is the distance to the next frame's
 * timestamp (the container's per-packet duration is often missing or wrong),
 * and the encoder needs it with the frame so the MP4's last sample keeps its
 * length. The last frame keeps the duration the demuxer gave it.
 *
 * Timestamps: the input's start time is subtracted from every stream (as
 * the ffmpeg program does), frames whose timestamp does not increase are
 * dropped (x264 requires strictly increasing pts), and nothing is resampled
 * in time: variable frame rate passes through.
 *
 * A frame whose size or pixel format differs from the first (a resolution
 * change mid-stream) is converted to the first frame's geometry with
 * swscale, so the filter graph never needs rebuilding.
 */
#include "media/transcode.h"

#include "media/encode.h"
#include "media/media_int.h"
#include "media/probe.h"

#include "core/config.h"

#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

enum { AUDIO_FRAME = 1024, THUMB_AT_MS = 1000 };

static const struct {
    const char *name;
    int width, height;
    bool needs_full_size; /* only when the source is at least this large */
} ladder[MEDIA_MAX_RENDITIONS] = {
    {"1080", 1080, 1920, true},
    {"720", 720, 1280, false},
    {"360", 360, 640, false},
};

void media_transcode_settings_from_config(struct media_transcode_settings *s,
                                          const struct config *cfg)
{
    struct config defaults;
    if (!cfg) {
        config_init(&defaults);
        cfg = &defaults;
    }
    /* The preset string must outlive s: point into the static list. */
    static const char *const presets[] = {"ultrafast", "superfast", "veryfast", "faster",
                                          "fast",      "medium",    "slow",     "slower",
                                          "veryslow",  "placebo"};
    s->x264_preset = "veryfast";
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (strcmp(cfg->media_x264_preset, presets[i]) == 0)
            s->x264_preset = presets[i];
    s->x264_crf = (int)cfg->media_x264_crf;
    s->encoder_threads = (int)cfg->media_encoder_threads;
    s->decoder_threads = 0;
    s->audio_bitrate = (int)cfg->media_audio_kbps * 1000;
}

int media_transcode_ladder(int width, int height, struct media_rendition *out)
{
    int long_side = width > height ? width : height, short_side = width > height ? height : width;
    int n = 0;
    for (int i = 0; i < MEDIA_MAX_RENDITIONS; i++) {
        if (ladder[i].needs_full_size &&
            (short_side < ladder[i].width || long_side < ladder[i].height))
            continue;
        memset(&out[n], 0, sizeof out[n]);
        snprintf(out[n].name, sizeof out[n].name, "%s", ladder[i].name);
        snprintf(out[n].file, sizeof out[n].file, "%s.mp4", ladder[i].name);
        out[n].width = ladder[i].width;
        out[n].height = ladder[i].height;
        n++;
    }
    return n;
}

struct rung {
    struct media_rendition rendition;
    AVFilterContext *sink;
    AVCodecContext *enc;
    AVFormatContext *mux;
    AVStream *video_st, *audio_st;
    bool header_written;
    struct media_durations durations;
    int64_t end_pts; /* in enc time base: last pts + duration */
};

struct transcode {
    const struct media_transcode_settings *settings;
    const atomic_bool *cancel;
    struct media_result *result;
    struct media_input in;
    int vi, ai;
    AVCodecContext *vdec, *adec, *aenc;
    AVFilterGraph *vgraph, *agraph;
    AVFilterContext *vsrc, *asrc, *asink;
    struct rung rungs[MEDIA_MAX_RENDITIONS];
    int rung_count;
    int thumb_rung;
    /* the geometry the video graph was built for */
    int src_width, src_height, src_format;
    struct SwsContext *normalise;
    AVFrame *frame, *held, *filtered, *thumb, *converted;
    AVPacket *pkt, *copy;
    bool have_held, thumb_done;
    int64_t video_start, audio_start; /* stream time bases */
    int64_t last_interval;
    int64_t thumb_pts; /* sink time base */
    int64_t frames_out;
    int64_t audio_samples_out;
    int out_sample_rate;
    char path[1100];
};

static enum media_reason fail(struct transcode *t, enum media_reason reason, const char *what)
{
    if (t->result->reason == MEDIA_OK) {
        t->result->reason = reason;
        snprintf(t->result->message, sizeof t->result->message, "%s", what);
    }
    return reason;
}

/* ---- encoding and muxing ------------------------------------------------ */

static int write_video_packets(struct transcode *t, struct rung *r)
{
    for (;;) {
        int rc = avcodec_receive_packet(r->enc, t->pkt);
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
            return 0;
        if (rc < 0)
            return rc;
        t->pkt->duration = media_durations_get(&r->durations, t->pkt->pts, t->pkt->duration);
        t->pkt->stream_index = r->video_st->index;
        av_packet_rescale_ts(t->pkt, r->enc->time_base, r->video_st->time_base);
        rc = av_interleaved_write_frame(r->mux, t->pkt);
        if (rc < 0)
            return rc;
    }
}

static int encode_video(struct transcode *t, struct rung *r, AVFrame *frame)
{
    if (frame) {
        int64_t end;
        media_durations_put(&r->durations, frame->pts, frame->pkt_duration);
        if (!__builtin_add_overflow(frame->pts, frame->pkt_duration, &end) && end > r->end_pts)
            r->end_pts = end;
        frame->pict_type = AV_PICTURE_TYPE_NONE;
    }
    int rc = avcodec_send_frame(r->enc, frame);
    if (rc < 0)
        return rc;
    return write_video_packets(t, r);
}

static int write_audio_packets(struct transcode *t)
{
    for (;;) {
        int rc = avcodec_receive_packet(t->aenc, t->pkt);
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
            return 0;
        if (rc < 0)
            return rc;
        for (int i = 0; i < t->rung_count; i++) {
            struct rung *r = &t->rungs[i];
            if (av_packet_ref(t->copy, t->pkt) < 0)
                return AVERROR(ENOMEM);
            t->copy->stream_index = r->audio_st->index;
            av_packet_rescale_ts(t->copy, t->aenc->time_base, r->audio_st->time_base);
            rc = av_interleaved_write_frame(r->mux, t->copy);
            av_packet_unref(t->copy);
            if (rc < 0)
                return rc;
        }
        av_packet_unref(t->pkt);
    }
}

/* ---- filter graphs ------------------------------------------------------ */

/* Fits display_w x display_h inside the rung, even sizes, centred. */
static void fit_inside(int display_w, int display_h, int box_w, int box_h, int *w, int *h, int *x,
                       int *y)
{
    if ((int64_t)display_w * box_h > (int64_t)display_h * box_w) {
        *w = box_w;
        *h = (int)((int64_t)box_w * display_h / display_w);
    } else {
        *h = box_h;
        *w = (int)((int64_t)box_h * display_w / display_h);
    }
    *w = *w < 2 ? 2 : *w & ~1;
    *h = *h < 2 ? 2 : *h & ~1;
    *x = (box_w - *w) / 2 & ~1;
    *y = (box_h - *h) / 2 & ~1;
}

static const char *rotation_filters(int rotation)
{
    switch (rotation) {
    case 90: return "transpose=clock,";
    case 180: return "hflip,vflip,";
    case 270: return "transpose=cclock,";
    default: return "";
    }
}

static int build_video_graph(struct transcode *t, const struct media_probe_info *info)
{
    AVStream *st = t->in.fmt->streams[t->vi];
    AVFilterInOut *outputs = NULL, *inputs = NULL;
    char args[256], desc[2048];
    int rc = AVERROR(ENOMEM);

    t->vgraph = avfilter_graph_alloc();
    if (!t->vgraph)
        return rc;
    AVRational sar =
        t->vdec->sample_aspect_ratio.num > 0 ? t->vdec->sample_aspect_ratio : (AVRational){1, 1};
    t->src_width = t->vdec->width;
    t->src_height = t->vdec->height;
    t->src_format = t->vdec->pix_fmt;
    snprintf(args, sizeof args, "video_size=%dx%d:pix_fmt=%d:time_base=%d/%d:pixel_aspect=%d/%d",
             t->src_width, t->src_height, t->src_format, st->time_base.num, st->time_base.den,
             sar.num, sar.den);
    rc = avfilter_graph_create_filter(&t->vsrc, avfilter_get_by_name("buffer"), "in", args, NULL,
                                      t->vgraph);
    if (rc < 0)
        goto out;

    size_t used = (size_t)snprintf(desc, sizeof desc, "[in]%ssplit=%d",
                                   rotation_filters(info->rotation), t->rung_count);
    for (int i = 0; i < t->rung_count && used < sizeof desc; i++)
        used += (size_t)snprintf(desc + used, sizeof desc - used, "[s%d]", i);
    for (int i = 0; i < t->rung_count && used < sizeof desc; i++) {
        const struct media_rendition *r = &t->rungs[i].rendition;
        int w, h, x, y;
        fit_inside(info->width, info->height, r->width, r->height, &w, &h, &x, &y);
        used += (size_t)snprintf(desc + used, sizeof desc - used,
                                 ";[s%d]scale=w=%d:h=%d:flags=bicubic,pad=w=%d:h=%d:x=%d:y=%d:"
                                 "color=black,setsar=1,format=yuv420p[o%d]",
                                 i, w, h, r->width, r->height, x, y, i);
    }
    if (used >= sizeof desc) {
        rc = AVERROR(EINVAL);
        goto out;
    }

    outputs = avfilter_inout_alloc();
    if (!outputs)
        goto out;
    outputs->name = av_strdup("in");
    outputs->filter_ctx = t->vsrc;
    for (int i = t->rung_count - 1; i >= 0; i--) {
        char name[16];
        snprintf(name, sizeof name, "o%d", i);
        rc = avfilter_graph_create_filter(&t->rungs[i].sink, avfilter_get_by_name("buffersink"),
                                          name, NULL, NULL, t->vgraph);
        if (rc < 0)
            goto out;
        AVFilterInOut *in = avfilter_inout_alloc();
        if (!in) {
            rc = AVERROR(ENOMEM);
            goto out;
        }
        in->name = av_strdup(name);
        in->filter_ctx = t->rungs[i].sink;
        in->next = inputs;
        inputs = in;
    }
    rc = avfilter_graph_parse_ptr(t->vgraph, desc, &inputs, &outputs, NULL);
    if (rc >= 0)
        rc = avfilter_graph_config(t->vgraph, NULL);
out:
    avfilter_inout_free(&inputs);
    avfilter_inout_free(&outputs);
    return rc;
}

static int build_audio_graph(struct transcode *t)
{
    AVStream *st = t->in.fmt->streams[t->ai];
    AVFilterInOut *outputs = NULL, *inputs = NULL;
    char layout[128], args[512], desc[256];
    int rc = AVERROR(ENOMEM);

    if (t->adec->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC)
        av_channel_layout_default(&t->adec->ch_layout, t->adec->ch_layout.nb_channels);
    if (av_channel_layout_describe(&t->adec->ch_layout, layout, sizeof layout) < 0)
        return AVERROR(EINVAL);
    t->agraph = avfilter_graph_alloc();
    if (!t->agraph)
        return rc;
    snprintf(args, sizeof args, "time_base=%d/%d:sample_rate=%d:sample_fmt=%s:channel_layout=%s",
             st->time_base.num, st->time_base.den, t->adec->sample_rate,
             av_get_sample_fmt_name(t->adec->sample_fmt), layout);
    rc = avfilter_graph_create_filter(&t->asrc, avfilter_get_by_name("abuffer"), "ain", args, NULL,
                                      t->agraph);
    if (rc < 0)
        goto out;
    rc = avfilter_graph_create_filter(&t->asink, avfilter_get_by_name("abuffersink"), "aout", NULL,
                                      NULL, t->agraph);
    if (rc < 0)
        goto out;
    snprintf(desc, sizeof desc,
             "aresample=%d,aformat=sample_fmts=fltp:sample_rates=%d:channel_layouts=stereo",
             t->out_sample_rate, t->out_sample_rate);
    outputs = avfilter_inout_alloc();
    inputs = avfilter_inout_alloc();
    if (!outputs || !inputs) {
        rc = AVERROR(ENOMEM);
        goto out;
    }
    outputs->name = av_strdup("in");
    outputs->filter_ctx = t->asrc;
    inputs->name = av_strdup("out");
    inputs->filter_ctx = t->asink;
    rc = avfilter_graph_parse_ptr(t->agraph, desc, &inputs, &outputs, NULL);
    if (rc >= 0)
        rc = avfilter_graph_config(t->agraph, NULL);
    if (rc >= 0)
        av_buffersink_set_frame_size(t->asink, AUDIO_FRAME);
out:
    avfilter_inout_free(&inputs);
    avfilter_inout_free(&outputs);
    return rc;
}

/* ---- opening ------------------------------------------------------------ */

static int open_outputs(struct transcode *t, const char *out_dir)
{
    AVStream *st = t->in.fmt->streams[t->vi];
    AVRational frame_rate = st->avg_frame_rate.num > 0 ? st->avg_frame_rate : st->r_frame_rate;
    struct media_h264_settings h264 = {t->settings->x264_preset, t->settings->x264_crf,
                                       t->settings->encoder_threads};
    if (t->ai >= 0) {
        t->aenc = media_aac_open(t->out_sample_rate, 2, t->settings->audio_bitrate, true);
        if (!t->aenc)
            return -1;
    }
    for (int i = 0; i < t->rung_count; i++) {
        struct rung *r = &t->rungs[i];
        AVRational tb = av_buffersink_get_time_base(r->sink);
        r->enc =
            media_h264_open(r->rendition.width, r->rendition.height, tb, frame_rate, &h264, true);
        if (!r->enc)
            return -1;
        if (snprintf(t->path, sizeof t->path, "%s/%s", out_dir, r->rendition.file) >=
            (int)sizeof t->path)
            return -1;
        r->mux = media_mux_open(t->path);
        if (!r->mux)
            return -1;
        r->video_st = avformat_new_stream(r->mux, NULL);
        if (!r->video_st || avcodec_parameters_from_context(r->video_st->codecpar, r->enc) < 0)
            return -1;
        r->video_st->time_base = r->enc->time_base;
        if (t->aenc) {
            r->audio_st = avformat_new_stream(r->mux, NULL);
            if (!r->audio_st || avcodec_parameters_from_context(r->audio_st->codecpar, t->aenc) < 0)
                return -1;
            r->audio_st->time_base = t->aenc->time_base;
        }
        if (media_mux_start(r->mux, true) < 0)
            return -1;
        r->header_written = true;
    }
    return 0;
}

/* ---- the video path ----------------------------------------------------- */

static int pull_video(struct transcode *t)
{
    for (int i = 0; i < t->rung_count; i++) {
        struct rung *r = &t->rungs[i];
        for (;;) {
            int rc = av_buffersink_get_frame(r->sink, t->filtered);
            if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
                break;
            if (rc < 0)
                return rc;
            if (i == t->thumb_rung && !t->thumb_done) {
                av_frame_unref(t->thumb);
                if (av_frame_ref(t->thumb, t->filtered) < 0)
                    return AVERROR(ENOMEM);
                t->thumb_done = t->filtered->pts >= t->thumb_pts;
            }
            if (i == 0)
                t->frames_out++;
            rc = encode_video(t, r, t->filtered);
            av_frame_unref(t->filtered);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

static int push_held(struct transcode *t)
{
    int rc = av_buffersrc_add_frame_flags(t->vsrc, t->held, 0);
    t->have_held = false;
    av_frame_unref(t->held);
    return rc < 0 ? rc : pull_video(t);
}

/* Converts a frame whose geometry differs from the graph's into it. */
static AVFrame *normalise_frame(struct transcode *t, AVFrame *frame)
{
    if (frame->width == t->src_width && frame->height == t->src_height &&
        frame->format == t->src_format)
        return frame;
    t->normalise =
        sws_getCachedContext(t->normalise, frame->width, frame->height, frame->format, t->src_width,
                             t->src_height, t->src_format, SWS_BICUBIC, NULL, NULL, NULL);
    av_frame_unref(t->converted);
    t->converted->format = t->src_format;
    t->converted->width = t->src_width;
    t->converted->height = t->src_height;
    if (!t->normalise || av_frame_get_buffer(t->converted, 0) < 0 ||
        sws_scale(t->normalise, (const uint8_t *const *)frame->data, frame->linesize, 0,
                  frame->height, t->converted->data, t->converted->linesize) <= 0 ||
        av_frame_copy_props(t->converted, frame) < 0)
        return NULL;
    av_frame_unref(frame);
    av_frame_move_ref(frame, t->converted);
    return frame;
}

static int video_frame(struct transcode *t, AVFrame *frame)
{
    int64_t pts = frame->best_effort_timestamp;
    if (pts == AV_NOPTS_VALUE)
        pts = frame->pts;
    if (pts == AV_NOPTS_VALUE || __builtin_sub_overflow(pts, t->video_start, &pts) || pts < 0 ||
        (t->have_held && pts <= t->held->pts)) {
        av_frame_unref(frame);
        return 0;
    }
    if (!normalise_frame(t, frame))
        return AVERROR(ENOMEM);
    frame->pts = pts;
    if (t->have_held) {
        t->held->pkt_duration = pts - t->held->pts;
        t->last_interval = t->held->pkt_duration;
        int rc = push_held(t);
        if (rc < 0)
            return rc;
    }
    av_frame_move_ref(t->held, frame);
    t->have_held = true;
    return 0;
}

static int flush_video(struct transcode *t)
{
    int rc;
    if (t->have_held) {
        if (t->held->pkt_duration <= 0)
            t->held->pkt_duration = t->last_interval > 0 ? t->last_interval : 1;
        rc = push_held(t);
        if (rc < 0)
            return rc;
    }
    rc = av_buffersrc_add_frame_flags(t->vsrc, NULL, 0);
    if (rc < 0)
        return rc;
    rc = pull_video(t);
    for (int i = 0; rc >= 0 && i < t->rung_count; i++)
        rc = encode_video(t, &t->rungs[i], NULL);
    return rc;
}

/* ---- the audio path ----------------------------------------------------- */

static int pull_audio(struct transcode *t)
{
    for (;;) {
        int rc = av_buffersink_get_frame(t->asink, t->filtered);
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
            return 0;
        if (rc < 0)
            return rc;
        t->audio_samples_out += t->filtered->nb_samples;
        rc = avcodec_send_frame(t->aenc, t->filtered);
        av_frame_unref(t->filtered);
        if (rc < 0)
            return rc;
        rc = write_audio_packets(t);
        if (rc < 0)
            return rc;
    }
}

static int audio_frame(struct transcode *t, AVFrame *frame)
{
    int64_t pts = frame->best_effort_timestamp;
    if (pts != AV_NOPTS_VALUE && !__builtin_sub_overflow(pts, t->audio_start, &pts))
        frame->pts = pts;
    else
        frame->pts = AV_NOPTS_VALUE;
    int rc = av_buffersrc_add_frame_flags(t->asrc, frame, 0);
    av_frame_unref(frame);
    return rc < 0 ? rc : pull_audio(t);
}

static int flush_audio(struct transcode *t)
{
    int rc = av_buffersrc_add_frame_flags(t->asrc, NULL, 0);
    if (rc >= 0)
        rc = pull_audio(t);
    if (rc >= 0)
        rc = avcodec_send_frame(t->aenc, NULL);
    if (rc >= 0)
        rc = write_audio_packets(t);
    return rc;
}

/* ---- decoding ----------------------------------------------------------- */

/* Sends pkt (NULL: drain) to the decoder and passes its frames on. A packet
 * the decoder refuses is skipped, as players do. */
static int decode(struct transcode *t, AVCodecContext *dec, const AVPacket *pkt, bool video)
{
    int rc = avcodec_send_packet(dec, pkt);
    if (rc < 0 && rc != AVERROR_EOF && pkt)
        return rc == AVERROR(ENOMEM) ? rc : 0;
    for (;;) {
        rc = avcodec_receive_frame(dec, t->frame);
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
            return 0;
        if (rc < 0)
            return rc == AVERROR(ENOMEM) ? rc : 0;
        rc = video ? video_frame(t, t->frame) : audio_frame(t, t->frame);
        if (rc < 0)
            return rc;
    }
}

static void close_all(struct transcode *t)
{
    for (int i = 0; i < t->rung_count; i++) {
        struct rung *r = &t->rungs[i];
        media_mux_close(&r->mux, false);
        avcodec_free_context(&r->enc);
    }
    avfilter_graph_free(&t->vgraph);
    avfilter_graph_free(&t->agraph);
    avcodec_free_context(&t->vdec);
    avcodec_free_context(&t->adec);
    avcodec_free_context(&t->aenc);
    sws_freeContext(t->normalise);
    av_frame_free(&t->frame);
    av_frame_free(&t->held);
    av_frame_free(&t->filtered);
    av_frame_free(&t->thumb);
    av_frame_free(&t->converted);
    av_packet_free(&t->pkt);
    av_packet_free(&t->copy);
    media_input_close(&t->in);
}

static int run(struct transcode *t)
{
    for (;;) {
        if (t->cancel && atomic_load(t->cancel))
            return fail(t, MEDIA_CANCELLED, "the video was deleted while it was being processed");
        int rc = av_read_frame(t->in.fmt, t->pkt);
        if (rc == AVERROR_EOF)
            break;
        if (rc < 0)
            break; /* damaged tail: keep what decoded, as players do */
        if (t->pkt->stream_index == t->vi)
            rc = decode(t, t->vdec, t->pkt, true);
        else if (t->pkt->stream_index == t->ai)
            rc = decode(t, t->adec, t->pkt, false);
        av_packet_unref(t->pkt);
        if (rc < 0)
            return fail(t, MEDIA_TRANSCODE_FAILED, "encoding failed");
    }
    if (decode(t, t->vdec, NULL, true) < 0 || flush_video(t) < 0)
        return fail(t, MEDIA_TRANSCODE_FAILED, "encoding the video failed");
    if (t->adec && (decode(t, t->adec, NULL, false) < 0 || flush_audio(t) < 0))
        return fail(t, MEDIA_TRANSCODE_FAILED, "encoding the audio failed");
    if (t->frames_out == 0)
        return fail(t, MEDIA_NO_VIDEO, "no frame of the video could be decoded");
    return MEDIA_OK;
}

enum media_reason media_transcode(const char *source_path, const char *out_dir,
                                  const struct media_transcode_settings *settings,
                                  const struct media_limits *limits, const atomic_bool *cancel,
                                  struct media_result *result)
{
    struct transcode t = {
        .settings = settings, .cancel = cancel, .result = result, .thumb_rung = -1};
    struct media_probe_info info;
    enum media_reason reason;

    memset(result, 0, sizeof *result);
    media_init();
    int fd = open(source_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(&t, MEDIA_IO_ERROR, "the uploaded file could not be opened");
    reason = media_probe_fd(fd, limits, &info);
    if (reason != MEDIA_OK) {
        close(fd);
        fail(&t, reason, info.message);
        return reason;
    }
    result->width = info.width;
    result->height = info.height;
    t.out_sample_rate = info.audio_sample_rate % 11025 == 0 ? 44100 : 48000;

    reason = media_input_open(&t.in, fd, result->message, sizeof result->message);
    if (reason != MEDIA_OK) {
        result->reason = reason;
        goto out;
    }
    t.vi = media_pick_video_stream(t.in.fmt);
    t.ai = media_pick_audio_stream(t.in.fmt);
    int64_t start = t.in.fmt->start_time != AV_NOPTS_VALUE ? t.in.fmt->start_time : 0;
    t.video_start = av_rescale_q(start, AV_TIME_BASE_Q, t.in.fmt->streams[t.vi]->time_base);
    t.vdec = media_decoder_open(t.in.fmt->streams[t.vi], settings->decoder_threads);
    if (t.ai >= 0) {
        t.audio_start = av_rescale_q(start, AV_TIME_BASE_Q, t.in.fmt->streams[t.ai]->time_base);
        t.adec = media_decoder_open(t.in.fmt->streams[t.ai], 1);
        if (!t.adec)
            t.ai = -1; /* an audio stream that will not decode: keep the video */
    }
    t.frame = av_frame_alloc();
    t.held = av_frame_alloc();
    t.filtered = av_frame_alloc();
    t.thumb = av_frame_alloc();
    t.converted = av_frame_alloc();
    t.pkt = av_packet_alloc();
    t.copy = av_packet_alloc();
    if (!t.vdec || !t.frame || !t.held || !t.filtered || !t.thumb || !t.converted || !t.pkt ||
        !t.copy) {
        fail(&t, t.vdec ? MEDIA_NO_MEMORY : MEDIA_NO_VIDEO,
             t.vdec ? "out of memory" : "the video stream cannot be decoded");
        goto out;
    }

    struct media_rendition renditions[MEDIA_MAX_RENDITIONS];
    t.rung_count = media_transcode_ladder(info.width, info.height, renditions);
    for (int i = 0; i < t.rung_count; i++) {
        t.rungs[i].rendition = renditions[i];
        if (strcmp(renditions[i].name, "720") == 0)
            t.thumb_rung = i;
    }
    if (build_video_graph(&t, &info) < 0 || (t.ai >= 0 && build_audio_graph(&t) < 0)) {
        fail(&t, MEDIA_TRANSCODE_FAILED, "the video could not be set up for scaling");
        goto out;
    }
    int64_t thumb_ms = info.duration_ms / 2 < THUMB_AT_MS ? info.duration_ms / 2 : THUMB_AT_MS;
    t.thumb_pts = av_rescale_q(thumb_ms, (AVRational){1, 1000},
                               av_buffersink_get_time_base(t.rungs[t.thumb_rung].sink));
    if (open_outputs(&t, out_dir) < 0) {
        fail(&t, MEDIA_TRANSCODE_FAILED, "the encoders or output files could not be opened");
        goto out;
    }
    if (run(&t) != MEDIA_OK)
        goto out;

    for (int i = 0; i < t.rung_count; i++) {
        struct rung *r = &t.rungs[i];
        if (media_mux_close(&r->mux, true) < 0) {
            fail(&t, MEDIA_IO_ERROR, "writing a rendition failed");
            goto out;
        }
        result->renditions[i] = r->rendition;
        int64_t ms = av_rescale_q(r->end_pts, r->enc->time_base, (AVRational){1, 1000});
        if (ms > result->duration_ms)
            result->duration_ms = ms;
    }
    result->rendition_count = t.rung_count;
    if (t.aenc) {
        int64_t audio_ms = t.audio_samples_out * 1000 / t.out_sample_rate;
        if (audio_ms > result->duration_ms)
            result->duration_ms = audio_ms;
        result->has_audio = true;
    }
    snprintf(result->thumbnail, sizeof result->thumbnail, "thumb.jpg");
    if (snprintf(t.path, sizeof t.path, "%s/thumb.jpg", out_dir) >= (int)sizeof t.path ||
        !t.thumb->data[0] || media_jpeg_write(t.thumb, t.path) < 0) {
        fail(&t, MEDIA_IO_ERROR, "writing the thumbnail failed");
        goto out;
    }
    result->reason = MEDIA_OK;
    result->message[0] = '\0';

out:
    close_all(&t);
    close(fd);
    return result->reason;
}
