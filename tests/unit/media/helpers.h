/*
 * helpers.h — what the media tests share: scratch directories, inputs made
 * with the synthetic generator or the Debian `ffmpeg` program, and checks
 * made with `ffprobe` (an independent reader of what Reel wrote).
 */
#ifndef REEL_TESTS_MEDIA_HELPERS_H
#define REEL_TESTS_MEDIA_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct synth_request {
    int width, height, fps, duration_ms;
    bool audio, vfr, faststart;
    int rotation, channels, sample_rate;
};

/* A fresh directory under $TMPDIR (or /tmp); the path is malloc'd. */
char *test_temp_dir(void);
/* rm -r */
void test_remove_tree(const char *path);
/* path = dir/name (malloc'd). */
char *test_path(const char *dir, const char *name);
/* Writes a synthetic clip; aborts the test on failure. */
void test_synth(const char *path, const struct synth_request *req);
/* Runs a shell command; returns its exit status. */
int test_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* True if ffmpeg and ffprobe are on PATH. */
bool test_have_ffmpeg(void);

struct ffprobe_stream {
    char type[16]; /* "video", "audio" */
    char codec[32];
    int width, height;
    int sample_rate, channels;
};
struct ffprobe_info {
    double duration_s;
    int stream_count;
    struct ffprobe_stream streams[8];
};
/* Runs ffprobe on path. Returns 0 or -1. */
int test_ffprobe(const char *path, struct ffprobe_info *info);
/* The first stream of a type, or NULL. */
const struct ffprobe_stream *test_ffprobe_stream(const struct ffprobe_info *info, const char *type);
/* True if the MP4's top-level moov box comes before its mdat. */
bool test_mp4_faststart(const char *path);
/* Patches mvhd/mdhd durations so the header claims `seconds`. Returns the
 * number of boxes patched. */
int test_mp4_claim_duration(const char *path, uint32_t seconds);
/* Copies the first n bytes of src to dst. */
void test_truncate_copy(const char *src, const char *dst, long n);
/* Writes bytes to a file. */
void test_write_file(const char *path, const void *data, size_t len);
long test_file_size(const char *path);
bool test_exists(const char *path);
/* Number of entries (files and directories, recursively) under dir. */
int test_count_entries(const char *dir);

#endif
