/*
 * synth.c — see synth.h.
 *
 * Drawing must be cheap: the benchmark source is 60 s of 1080x1920, and
 * tests run under ASan. The background is therefore a precomputed texture
 * (diagonal stripes plus noise, 256 rows, each a little wider than the
 * frame) and every output row is one memcpy from it at an offset that moves
 * with time; the box is a memset per row. Motion is a function of the
 * frame's timestamp, not its index, so variable-frame-rate clips move at the
 * same speed as constant ones.
 *
 * Time base 1/90000 for the video: exact for every common frame rate, and
 * the last frame is shortened so the track lasts exactly duration_ms.
 */
#include "media/synth.h"

#include "media/encode.h"
#include "media/media.h"
#include "media/media_int.h"

#include "core/alloc.h"

#include <libavutil/display.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum { TICKS = 90000, TEX_ROWS = 256, TEX_EXTRA = 256 };

void media_synth_options_init(struct media_synth_options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->width = 720;
    opts->height = 1280;
    opts->fps = 30;
    opts->duration_ms = 10000;
    opts->audio = MEDIA_SYNTH_TONE;
    opts->tone_hz = 440;
    opts->sample_rate = 48000;
    opts->channels = 2;
    opts->seed = 1;
    opts->preset = "ultrafast";
    opts->crf = 23;
}

static uint32_t next_random(uint32_t *state)
{
    uint32_t x = *state ? *state : 0x9E3779B9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

struct yuv {
    uint8_t y, u, v;
};

/* A saturated colour from a hue in [0, 1), as BT.601 limited-range YUV. */
static struct yuv colour_from_hue(double hue, double light)
{
    double r = fabs(hue * 6 - 3) - 1, g = 2 - fabs(hue * 6 - 2), b = 2 - fabs(hue * 6 - 4);
    r = fmin(fmax(r, 0), 1) * light;
    g = fmin(fmax(g, 0), 1) * light;
    b = fmin(fmax(b, 0), 1) * light;
    return (struct yuv){
        .y = (uint8_t)lrint(16 + 65.481 * r + 128.553 * g + 24.966 * b),
        .u = (uint8_t)lrint(128 - 37.797 * r - 74.203 * g + 112.0 * b),
        .v = (uint8_t)lrint(128 + 112.0 * r - 93.786 * g - 18.214 * b),
    };
}

struct painter {
    int width, height;
    uint8_t *texture; /* TEX_ROWS rows of width + TEX_EXTRA luma bytes */
    size_t texture_stride;
    double hue_bg, hue_box;
    double speed_x, speed_y; /* box: frame widths per second */
    int scroll_per_s;        /* background pixels per second */
};

static int painter_init(struct painter *p, int width, int height, unsigned seed)
{
    uint32_t rng = seed * 2654435761u + 1;
    p->width = width;
    p->height = height;
    p->texture_stride = (size_t)width + TEX_EXTRA;
    p->texture = reel_malloc(p->texture_stride * TEX_ROWS);
    if (!p->texture)
        return -1;
    p->hue_bg = (next_random(&rng) % 1000) / 1000.0;
    p->hue_box = fmod(p->hue_bg + 0.33 + (next_random(&rng) % 340) / 1000.0, 1.0);
    p->speed_x = 0.15 + (next_random(&rng) % 300) / 1000.0;
    p->speed_y = 0.10 + (next_random(&rng) % 300) / 1000.0;
    p->scroll_per_s = 40 + (int)(next_random(&rng) % 120);
    int stripe = 8 << (next_random(&rng) % 3); /* a period dividing TEX_ROWS: no seam */
    int base = 50 + (int)(next_random(&rng) % 60), contrast = 30 + (int)(next_random(&rng) % 60);
    for (int y = 0; y < TEX_ROWS; y++)
        for (size_t x = 0; x < p->texture_stride; x++) {
            int on = (int)(((size_t)y + x) / (size_t)stripe) & 1;
            int value = base + on * contrast + (int)(next_random(&rng) % 24);
            p->texture[(size_t)y * p->texture_stride + x] = (uint8_t)(value > 235 ? 235 : value);
        }
    return 0;
}

/* 0..1..0 triangle wave. */
static double bounce(double t)
{
    double f = t - floor(t);
    return f < 0.5 ? f * 2 : 2 - f * 2;
}

static void painter_draw(const struct painter *p, AVFrame *frame, double seconds)
{
    int shift = (int)(seconds * p->scroll_per_s);
    for (int y = 0; y < p->height; y++) {
        const uint8_t *row =
            p->texture + (size_t)((y + shift) & (TEX_ROWS - 1)) * p->texture_stride;
        memcpy(frame->data[0] + (size_t)y * (size_t)frame->linesize[0],
               row + (shift & (TEX_EXTRA - 1)), (size_t)p->width);
    }
    struct yuv bg = colour_from_hue(fmod(p->hue_bg + seconds * 0.02, 1.0), 0.7);
    for (int y = 0; y < p->height / 2; y++) {
        memset(frame->data[1] + (size_t)y * (size_t)frame->linesize[1], bg.u, (size_t)p->width / 2);
        memset(frame->data[2] + (size_t)y * (size_t)frame->linesize[2], bg.v, (size_t)p->width / 2);
    }
    int side = (p->width < p->height ? p->width : p->height) / 4 & ~1;
    int bx = (int)(bounce(seconds * p->speed_x) * (p->width - side)) & ~1;
    int by = (int)(bounce(seconds * p->speed_y) * (p->height - side)) & ~1;
    struct yuv box = colour_from_hue(fmod(p->hue_box + seconds * 0.05, 1.0), 1.0);
    for (int y = by; y < by + side; y++)
        memset(frame->data[0] + (size_t)y * (size_t)frame->linesize[0] + bx, box.y, (size_t)side);
    for (int y = by / 2; y < (by + side) / 2; y++) {
        memset(frame->data[1] + (size_t)y * (size_t)frame->linesize[1] + bx / 2, box.u,
               (size_t)side / 2);
        memset(frame->data[2] + (size_t)y * (size_t)frame->linesize[2] + bx / 2, box.v,
               (size_t)side / 2);
    }
}

struct track {
    AVCodecContext *enc;
    AVStream *st;
    struct media_durations durations;
};

/* Drains the encoder's packets into the muxer. */
static int drain(AVFormatContext *mux, struct track *t, AVPacket *pkt)
{
    for (;;) {
        int rc = avcodec_receive_packet(t->enc, pkt);
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
            return 0;
        if (rc < 0)
            return rc;
        if (t->enc->codec_type == AVMEDIA_TYPE_VIDEO)
            pkt->duration = media_durations_get(&t->durations, pkt->pts, pkt->duration);
        pkt->stream_index = t->st->index;
        av_packet_rescale_ts(pkt, t->enc->time_base, t->st->time_base);
        rc = av_interleaved_write_frame(mux, pkt);
        if (rc < 0)
            return rc;
    }
}

static int send_and_drain(AVFormatContext *mux, struct track *t, AVFrame *frame, AVPacket *pkt)
{
    int rc = avcodec_send_frame(t->enc, frame);
    if (rc < 0)
        return rc;
    return drain(mux, t, pkt);
}

static int add_stream(AVFormatContext *mux, struct track *t)
{
    t->st = avformat_new_stream(mux, NULL);
    if (!t->st || avcodec_parameters_from_context(t->st->codecpar, t->enc) < 0)
        return -1;
    t->st->time_base = t->enc->time_base;
    return 0;
}

/* The pts (in 1/TICKS) of the frame after one at pts, per the options. */
static int64_t next_pts(const struct media_synth_options *o, int64_t pts, uint32_t *rng)
{
    int64_t step = TICKS / o->fps;
    if (o->variable_frame_rate)
        step = step / 2 + (int64_t)(next_random(rng) % (uint32_t)step);
    return pts + (step > 0 ? step : 1);
}

int media_synth_write(const char *path, const struct media_synth_options *o, char *err,
                      size_t errlen)
{
    struct painter painter = {0};
    struct track video = {0}, audio = {0};
    AVFormatContext *mux = NULL;
    AVFrame *vframe = NULL, *aframe = NULL;
    AVPacket *pkt = NULL;
    bool header = false, has_video = o->width > 0;
    const char *what = "out of memory";
    int rc = -1;

    media_init();
    if ((has_video && (o->width < 2 || o->height < 2 || o->width % 2 || o->height % 2 ||
                       o->fps <= 0 || o->fps > 240)) ||
        o->duration_ms <= 0 || (!has_video && o->audio == MEDIA_SYNTH_NO_AUDIO) ||
        (o->audio != MEDIA_SYNTH_NO_AUDIO &&
         (o->sample_rate < 8000 || o->sample_rate > 96000 || o->channels < 1 || o->channels > 2))) {
        media_message(err, errlen, "invalid synthetic clip options");
        return -1;
    }
    unlink(path);
    mux = media_mux_open(path);
    pkt = av_packet_alloc();
    if (!mux || !pkt) {
        what = "cannot create the output file";
        goto out;
    }
    bool global = (mux->oformat->flags & AVFMT_GLOBALHEADER) != 0;
    if (has_video) {
        struct media_h264_settings h264 = {o->preset ? o->preset : "ultrafast", o->crf, 0};
        video.enc = media_h264_open(o->width, o->height, (AVRational){1, TICKS},
                                    (AVRational){o->fps, 1}, &h264, global);
        vframe = av_frame_alloc();
        if (!video.enc || !vframe || add_stream(mux, &video) < 0 ||
            painter_init(&painter, o->width, o->height, o->seed) < 0) {
            what = "cannot open the H.264 encoder";
            goto out;
        }
        vframe->format = AV_PIX_FMT_YUV420P;
        vframe->width = o->width;
        vframe->height = o->height;
        if (av_frame_get_buffer(vframe, 0) < 0)
            goto out;
        if (o->rotation) {
            uint8_t *matrix =
                av_stream_new_side_data(video.st, AV_PKT_DATA_DISPLAYMATRIX, sizeof(int32_t) * 9);
            if (!matrix)
                goto out;
            av_display_rotation_set((int32_t *)(void *)matrix, o->rotation);
        }
    }
    if (o->audio != MEDIA_SYNTH_NO_AUDIO) {
        audio.enc = media_aac_open(o->sample_rate, o->channels, 64000 * o->channels, global);
        aframe = av_frame_alloc();
        if (!audio.enc || !aframe || add_stream(mux, &audio) < 0) {
            what = "cannot open the AAC encoder";
            goto out;
        }
    }
    if (media_mux_start(mux, o->faststart) < 0) {
        what = "cannot write the container header";
        goto out;
    }
    header = true;

    int64_t video_end = (int64_t)o->duration_ms * TICKS / 1000;
    int64_t audio_end = (int64_t)o->duration_ms * o->sample_rate / 1000;
    int64_t vpts = 0, apts = 0;
    uint32_t rng = o->seed * 747796405u + 2891336453u;
    bool video_done = !has_video, audio_done = o->audio == MEDIA_SYNTH_NO_AUDIO;
    what = "encoding failed";
    while (!video_done || !audio_done) {
        /* Whichever track is behind in time goes next. */
        bool do_video =
            !video_done && (audio_done || av_compare_ts(vpts, (AVRational){1, TICKS}, apts,
                                                        (AVRational){1, o->sample_rate}) <= 0);
        if (do_video) {
            if (av_frame_make_writable(vframe) < 0)
                goto out;
            int64_t next = next_pts(o, vpts, &rng);
            if (next > video_end)
                next = video_end;
            painter_draw(&painter, vframe, (double)vpts / TICKS);
            vframe->pts = vpts;
            media_durations_put(&video.durations, vpts, next - vpts);
            if (send_and_drain(mux, &video, vframe, pkt) < 0)
                goto out;
            vpts = next;
            video_done = vpts >= video_end;
        } else {
            int n = audio.enc->frame_size;
            if (audio_end - apts < n)
                n = (int)(audio_end - apts);
            av_frame_unref(aframe);
            aframe->format = AV_SAMPLE_FMT_FLTP;
            aframe->nb_samples = n;
            aframe->sample_rate = o->sample_rate;
            if (av_channel_layout_copy(&aframe->ch_layout, &audio.enc->ch_layout) < 0 ||
                av_frame_get_buffer(aframe, 0) < 0)
                goto out;
            for (int c = 0; c < o->channels; c++) {
                float *samples = (float *)(void *)aframe->data[c];
                for (int i = 0; i < n; i++) {
                    double t = (double)(apts + i) / o->sample_rate;
                    double hz = o->tone_hz * (1.0 + 0.01 * sin(2 * M_PI * 0.5 * t));
                    samples[i] = o->audio == MEDIA_SYNTH_TONE
                                     ? (float)(0.3 * sin(2 * M_PI * hz * t + c * 0.5))
                                     : 0.0f;
                }
            }
            aframe->pts = apts;
            if (send_and_drain(mux, &audio, aframe, pkt) < 0)
                goto out;
            apts += n;
            audio_done = apts >= audio_end;
        }
    }
    if ((has_video && send_and_drain(mux, &video, NULL, pkt) < 0) ||
        (audio.enc && send_and_drain(mux, &audio, NULL, pkt) < 0))
        goto out;
    rc = 0;

out:
    if (media_mux_close(&mux, header) < 0 && rc == 0) {
        what = "cannot finish the container";
        rc = -1;
    }
    if (rc < 0) {
        media_message(err, errlen, "%s: %s", path, what);
        unlink(path);
    }
    av_packet_free(&pkt);
    av_frame_free(&vframe);
    av_frame_free(&aframe);
    avcodec_free_context(&video.enc);
    avcodec_free_context(&audio.enc);
    reel_free(painter.texture);
    return rc;
}
