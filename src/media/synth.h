/*
 * synth.h — synthetic video clips made with libav: a textured background
 * scrolling diagonally, a coloured box bouncing across it, colours drifting
 * over time, and a tone (or silence, or no audio track). Every choice of
 * colour and motion comes from `seed`, so clips differ from each other and
 * the same seed makes the same clip.
 *
 * Used by `reel seed` (demo content through the real upload path), by the
 * media unit tests (landscape/portrait/square, with and without audio,
 * variable frame rate, rotated) and by bench/media.sh (the 60 s 1080x1920
 * source).
 */
#ifndef REEL_MEDIA_SYNTH_H
#define REEL_MEDIA_SYNTH_H

#include <stdbool.h>
#include <stddef.h>

enum media_synth_audio {
    MEDIA_SYNTH_NO_AUDIO, /* no audio track */
    MEDIA_SYNTH_TONE,     /* a sine tone with a slow vibrato */
    MEDIA_SYNTH_SILENCE,  /* an audio track of silence */
};

struct media_synth_options {
    int width, height;        /* even; width 0 makes an audio-only file */
    int fps;                  /* nominal frames per second */
    int duration_ms;          /* exact length of the video track */
    bool variable_frame_rate; /* frame intervals vary from 0.5x to 1.5x of 1/fps */
    enum media_synth_audio audio;
    int tone_hz;
    int sample_rate;
    int channels; /* 1 or 2 */
    unsigned seed;
    bool faststart;     /* MP4: index at the front */
    int rotation;       /* display-matrix rotation, clockwise: 0, 90, 180, 270 */
    const char *preset; /* libx264 preset for the clip */
    int crf;
};

/* Defaults: 720x1280, 30 fps, 10 s, tone 440 Hz, 48 kHz stereo, seed 1,
 * ultrafast, crf 23, no faststart, no rotation. */
void media_synth_options_init(struct media_synth_options *opts);

/* Writes the clip to path; the container comes from the extension (.mp4,
 * .mov, .mkv: H.264 + AAC). An existing file is replaced. Returns 0, or -1
 * with a message in err (the partial file is removed). */
int media_synth_write(const char *path, const struct media_synth_options *opts, char *err,
                      size_t errlen);

#endif
