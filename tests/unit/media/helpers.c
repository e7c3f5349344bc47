/*
 * helpers.c — see helpers.h.
 */
#include "helpers.h"

#include "media/synth.h"

#include <criterion/criterion.h>
#include <ftw.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

char *test_temp_dir(void)
{
    const char *base = getenv("TMPDIR");
    char templ[512];
    snprintf(templ, sizeof templ, "%s/reel-media-XXXXXX", base && *base ? base : "/tmp");
    char *dir = mkdtemp(templ);
    cr_assert_not_null(dir, "mkdtemp");
    return strdup(dir);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return type == FTW_DP ? rmdir(path) : unlink(path);
}

void test_remove_tree(const char *path)
{
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *test_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

void test_synth(const char *path, const struct synth_request *req)
{
    struct media_synth_options o;
    char err[256];
    media_synth_options_init(&o);
    o.width = req->width;
    o.height = req->height;
    o.fps = req->fps ? req->fps : 30;
    o.duration_ms = req->duration_ms;
    o.audio = req->audio ? MEDIA_SYNTH_TONE : MEDIA_SYNTH_NO_AUDIO;
    o.variable_frame_rate = req->vfr;
    o.faststart = req->faststart;
    o.rotation = req->rotation;
    if (req->channels)
        o.channels = req->channels;
    if (req->sample_rate)
        o.sample_rate = req->sample_rate;
    o.seed = (unsigned)(req->width * 31 + req->height);
    cr_assert_eq(media_synth_write(path, &o, err, sizeof err), 0, "synth: %s", err);
}

int test_run(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int status = system(cmd);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool test_have_ffmpeg(void)
{
    return test_run("command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1") == 0;
}

static const char *or_empty(const json_t *v)
{
    const char *s = json_string_value(v);
    return s ? s : "";
}

int test_ffprobe(const char *path, struct ffprobe_info *info)
{
    char cmd[1024];
    memset(info, 0, sizeof *info);
    snprintf(cmd, sizeof cmd, "ffprobe -v error -print_format json -show_format -show_streams '%s'",
             path);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    json_error_t jerr;
    json_t *doc = json_loadf(p, 0, &jerr);
    int status = pclose(p);
    if (!doc || status != 0) {
        json_decref(doc);
        return -1;
    }
    const char *dur =
        json_string_value(json_object_get(json_object_get(doc, "format"), "duration"));
    info->duration_s = dur ? strtod(dur, NULL) : -1;
    json_t *streams = json_object_get(doc, "streams");
    for (size_t i = 0; i < json_array_size(streams) && i < 8; i++) {
        json_t *s = json_array_get(streams, i);
        struct ffprobe_stream *o = &info->streams[info->stream_count++];
        snprintf(o->type, sizeof o->type, "%s", or_empty(json_object_get(s, "codec_type")));
        snprintf(o->codec, sizeof o->codec, "%s", or_empty(json_object_get(s, "codec_name")));
        o->width = (int)json_integer_value(json_object_get(s, "width"));
        o->height = (int)json_integer_value(json_object_get(s, "height"));
        o->channels = (int)json_integer_value(json_object_get(s, "channels"));
        const char *sr = json_string_value(json_object_get(s, "sample_rate"));
        o->sample_rate = sr ? (int)strtol(sr, NULL, 10) : 0;
    }
    json_decref(doc);
    return 0;
}

const struct ffprobe_stream *test_ffprobe_stream(const struct ffprobe_info *info, const char *type)
{
    for (int i = 0; i < info->stream_count; i++)
        if (strcmp(info->streams[i].type, type) == 0)
            return &info->streams[i];
    return NULL;
}

bool test_mp4_faststart(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    long pos = 0, moov = -1, mdat = -1;
    unsigned char h[16];
    while (fseek(f, pos, SEEK_SET) == 0 && fread(h, 1, 8, f) == 8) {
        uint64_t size = (uint64_t)h[0] << 24 | (uint64_t)h[1] << 16 | (uint64_t)h[2] << 8 | h[3];
        if (size == 1) {
            if (fread(h + 8, 1, 8, f) != 8)
                break;
            size = 0;
            for (int i = 8; i < 16; i++)
                size = size << 8 | h[i];
        }
        if (memcmp(h + 4, "moov", 4) == 0 && moov < 0)
            moov = pos;
        if (memcmp(h + 4, "mdat", 4) == 0 && mdat < 0)
            mdat = pos;
        if (size < 8)
            break;
        pos += (long)size;
    }
    fclose(f);
    return moov >= 0 && mdat >= 0 && moov < mdat;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

int test_mp4_claim_duration(const char *path, uint32_t seconds)
{
    FILE *f = fopen(path, "r+b");
    cr_assert_not_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    unsigned char *d = malloc((size_t)size);
    fseek(f, 0, SEEK_SET);
    cr_assert_eq(fread(d, 1, (size_t)size, f), (size_t)size);
    int patched = 0;
    /* mvhd and mdhd, version 0: type(4) version+flags(4) ctime(4) mtime(4)
     * timescale(4) duration(4). */
    for (long i = 4; i + 24 < size; i++) {
        if ((memcmp(d + i, "mvhd", 4) == 0 || memcmp(d + i, "mdhd", 4) == 0) && d[i + 4] == 0) {
            uint32_t timescale = be32(d + i + 16);
            put_be32(d + i + 20, seconds * timescale);
            patched++;
        }
    }
    fseek(f, 0, SEEK_SET);
    cr_assert_eq(fwrite(d, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    free(d);
    return patched;
}

void test_truncate_copy(const char *src, const char *dst, long n)
{
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    cr_assert(in && out);
    char buf[4096];
    while (n > 0) {
        size_t want = n < (long)sizeof buf ? (size_t)n : sizeof buf;
        size_t got = fread(buf, 1, want, in);
        if (got == 0)
            break;
        fwrite(buf, 1, got, out);
        n -= (long)got;
    }
    fclose(in);
    fclose(out);
}

void test_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "create %s", path);
    if (len)
        cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

long test_file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

bool test_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static int entry_count;

static int count_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)path;
    (void)st;
    (void)type;
    if (ftw->level > 0)
        entry_count++;
    return 0;
}

int test_count_entries(const char *dir)
{
    entry_count = 0;
    nftw(dir, count_entry, 16, FTW_PHYS);
    return entry_count;
}
