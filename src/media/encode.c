/*
 * encode.c — see encode.h.
 */
#include "media/encode.h"

#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
#include <stdio.h>

AVCodecContext *media_h264_open(int width, int height, AVRational time_base, AVRational frame_rate,
                                const struct media_h264_settings *settings, bool global_header)
{
    const AVCodec *codec = avcodec_find_encoder_by_name("libx264");
    if (!codec)
        return NULL;
    AVCodecContext *enc = avcodec_alloc_context3(codec);
    if (!enc)
        return NULL;
    enc->width = width;
    enc->height = height;
    enc->pix_fmt = AV_PIX_FMT_YUV420P;
    enc->time_base = time_base;
    if (frame_rate.num > 0 && frame_rate.den > 0)
        enc->framerate = frame_rate;
    enc->sample_aspect_ratio = (AVRational){1, 1};
    enc->thread_count = settings->threads;
    if (global_header)
        enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    char crf[16];
    snprintf(crf, sizeof crf, "%d", settings->crf);
    if (av_opt_set(enc->priv_data, "preset", settings->preset, 0) < 0 ||
        av_opt_set(enc->priv_data, "crf", crf, 0) < 0 || avcodec_open2(enc, codec, NULL) < 0) {
        avcodec_free_context(&enc);
        return NULL;
    }
    return enc;
}

AVCodecContext *media_aac_open(int sample_rate, int channels, int64_t bit_rate, bool global_header)
{
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_AAC);
    if (!codec)
        return NULL;
    AVCodecContext *enc = avcodec_alloc_context3(codec);
    if (!enc)
        return NULL;
    enc->sample_rate = sample_rate;
    enc->sample_fmt = AV_SAMPLE_FMT_FLTP;
    enc->bit_rate = bit_rate;
    enc->time_base = (AVRational){1, sample_rate};
    av_channel_layout_uninit(&enc->ch_layout);
    av_channel_layout_default(&enc->ch_layout, channels);
    if (global_header)
        enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if (avcodec_open2(enc, codec, NULL) < 0) {
        avcodec_free_context(&enc);
        return NULL;
    }
    return enc;
}

int media_jpeg_write(const AVFrame *frame, const char *path)
{
    int rc = -1;
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
    AVCodecContext *enc = codec ? avcodec_alloc_context3(codec) : NULL;
    AVFrame *jframe = av_frame_alloc();
    AVPacket *pkt = av_packet_alloc();
    struct SwsContext *sws = NULL;
    FILE *f = NULL;
    if (!enc || !jframe || !pkt)
        goto out;
    enc->width = frame->width;
    enc->height = frame->height;
    enc->pix_fmt = AV_PIX_FMT_YUVJ420P;
    enc->color_range = AVCOL_RANGE_JPEG;
    enc->time_base = (AVRational){1, 25};
    enc->flags |= AV_CODEC_FLAG_QSCALE;
    enc->global_quality = FF_QP2LAMBDA * 3; /* ~ q=3: a good-looking poster */
    if (avcodec_open2(enc, codec, NULL) < 0)
        goto out;
    jframe->format = AV_PIX_FMT_YUVJ420P;
    jframe->width = frame->width;
    jframe->height = frame->height;
    jframe->color_range = AVCOL_RANGE_JPEG;
    jframe->quality = enc->global_quality;
    if (av_frame_get_buffer(jframe, 0) < 0)
        goto out;
    sws = sws_getContext(frame->width, frame->height, frame->format, frame->width, frame->height,
                         AV_PIX_FMT_YUVJ420P, SWS_BICUBIC, NULL, NULL, NULL);
    if (!sws || sws_scale(sws, (const uint8_t *const *)frame->data, frame->linesize, 0,
                          frame->height, jframe->data, jframe->linesize) != frame->height)
        goto out;
    if (avcodec_send_frame(enc, jframe) < 0 || avcodec_send_frame(enc, NULL) < 0 ||
        avcodec_receive_packet(enc, pkt) < 0)
        goto out;
    f = fopen(path, "wbx");
    if (!f)
        goto out;
    if (fwrite(pkt->data, 1, (size_t)pkt->size, f) != (size_t)pkt->size)
        goto out;
    if (fclose(f) != 0) {
        f = NULL;
        goto out;
    }
    f = NULL;
    rc = 0;
out:
    if (f)
        fclose(f);
    sws_freeContext(sws);
    av_packet_free(&pkt);
    av_frame_free(&jframe);
    avcodec_free_context(&enc);
    return rc;
}

void media_durations_put(struct media_durations *d, int64_t pts, int64_t duration)
{
    unsigned i = d->next++ % MEDIA_DURATIONS_RING;
    d->pts[i] = pts;
    d->duration[i] = duration;
}

int64_t media_durations_get(const struct media_durations *d, int64_t pts, int64_t fallback)
{
    unsigned n = d->next < MEDIA_DURATIONS_RING ? d->next : MEDIA_DURATIONS_RING;
    for (unsigned k = 1; k <= n; k++) {
        unsigned i = (d->next - k) % MEDIA_DURATIONS_RING;
        if (d->pts[i] == pts)
            return d->duration[i];
    }
    return fallback;
}

AVFormatContext *media_mux_open(const char *path)
{
    AVFormatContext *mux = NULL;
    if (avformat_alloc_output_context2(&mux, NULL, NULL, path) < 0 || !mux)
        return NULL;
    if (avio_open(&mux->pb, path, AVIO_FLAG_WRITE) < 0) {
        avformat_free_context(mux);
        return NULL;
    }
    return mux;
}

int media_mux_start(AVFormatContext *mux, bool faststart)
{
    AVDictionary *opts = NULL;
    if (faststart && av_dict_set(&opts, "movflags", "+faststart", 0) < 0)
        return AVERROR(ENOMEM);
    int rc = avformat_write_header(mux, &opts);
    av_dict_free(&opts);
    return rc < 0 ? rc : 0;
}

int media_mux_close(AVFormatContext **muxp, bool header_written)
{
    AVFormatContext *mux = *muxp;
    int rc = 0;
    if (!mux)
        return 0;
    if (header_written)
        rc = av_write_trailer(mux);
    if (mux->pb) {
        int close_rc = avio_closep(&mux->pb);
        if (rc == 0)
            rc = close_rc;
    }
    avformat_free_context(mux);
    *muxp = NULL;
    return rc < 0 ? rc : 0;
}
