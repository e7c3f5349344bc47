/*
 * Resumable uploads: an upload cut in the middle resumes from the right
 * offset and ends identical (sha256) to the source; offsets, owners, sizes
 * and ids are enforced; state survives "restarts" (it is all on disk);
 * abandoned uploads expire.
 */
#include "helpers.h"

#include "media/layout.h"
#include "media/upload.h"

#include "core/clock.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char *site;

static void setup(void)
{
    site = test_temp_dir();
    cr_assert_eq(media_layout_prepare(site), 0);
}

static void teardown(void)
{
    test_remove_tree(site);
    free(site);
}

TestSuite(upload, .init = setup, .fini = teardown, .timeout = 60);

enum { OWNER = 77, SIZE = 3 * 1000 * 1000 + 17 };

static unsigned char *source_bytes(void)
{
    unsigned char *data = malloc(SIZE);
    unsigned x = 2463534242u;
    for (size_t i = 0; i < SIZE; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        data[i] = (unsigned char)x;
    }
    return data;
}

static void sha256_file(const char *path, unsigned char out[32])
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    int fd = open(path, O_RDONLY);
    cr_assert_geq(fd, 0);
    unsigned char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        crypto_hash_sha256_update(&st, buf, (unsigned long long)n);
    close(fd);
    crypto_hash_sha256_final(&st, out);
}

/* Sends data[from..to) in pieces of `piece` bytes through one append. */
static uint64_t send_range(const char *id, const unsigned char *data, uint64_t from, uint64_t to,
                           size_t piece)
{
    struct media_upload_writer w;
    cr_assert_eq(media_upload_begin(&w, site, id, OWNER, from, NULL), MEDIA_UPLOAD_OK);
    for (uint64_t at = from; at < to; at += piece) {
        size_t n = to - at < piece ? (size_t)(to - at) : piece;
        cr_assert_eq(media_upload_write(&w, data + at, n), MEDIA_UPLOAD_OK);
    }
    uint64_t offset;
    cr_assert_eq(media_upload_end(&w, &offset), MEDIA_UPLOAD_OK);
    return offset;
}

Test(upload, cut_in_the_middle_resumes_and_ends_identical)
{
    unsigned char *data = source_bytes();
    struct media_upload_info info;
    const char meta[] = "{\"caption\":\"hello\"}";
    cr_assert_eq(media_upload_create(site, OWNER, SIZE, 1ULL << 30, meta, sizeof meta - 1, &info),
                 MEDIA_UPLOAD_OK);
    cr_assert(media_upload_id_valid(info.id));
    cr_assert_eq(info.offset, 0);

    /* The connection breaks after 1,234,567 bytes: the append simply ends. */
    cr_assert_eq(send_range(info.id, data, 0, 1234567, 65536), 1234567);

    /* Reconnect: ask where to resume (HEAD). State is read from disk only. */
    struct media_upload_info now;
    cr_assert_eq(media_upload_stat(site, info.id, OWNER, &now), MEDIA_UPLOAD_OK);
    cr_assert_eq(now.offset, 1234567);
    cr_assert_eq(now.size, SIZE);
    cr_assert_eq(now.metadata_len, sizeof meta - 1);
    cr_assert_eq(memcmp(now.metadata, meta, sizeof meta - 1), 0);

    /* A client that resumes from the wrong place is told the right one. */
    struct media_upload_writer w;
    struct media_upload_info conflict;
    cr_assert_eq(media_upload_begin(&w, site, info.id, OWNER, 1000000, &conflict),
                 MEDIA_UPLOAD_CONFLICT);
    cr_assert_eq(conflict.offset, 1234567);

    /* Finishing early is refused. */
    char path[MEDIA_PATH_MAX];
    cr_assert_eq(media_upload_finish(site, info.id, OWNER, path, sizeof path),
                 MEDIA_UPLOAD_INCOMPLETE);

    cr_assert_eq(send_range(info.id, data, 1234567, SIZE, 10007), SIZE);
    cr_assert_eq(media_upload_finish(site, info.id, OWNER, path, sizeof path), MEDIA_UPLOAD_OK);

    unsigned char want[32], got[32];
    crypto_hash_sha256(want, data, SIZE);
    sha256_file(path, got);
    cr_assert_eq(memcmp(want, got, 32), 0, "sha256 of the received file equals the source's");
    cr_assert_eq(media_upload_stat(site, info.id, OWNER, &now), MEDIA_UPLOAD_NOT_FOUND,
                 "a finished upload is gone from the upload table");
    free(data);
}

Test(upload, never_past_the_declared_size_or_the_limit)
{
    struct media_upload_info info;
    cr_assert_eq(media_upload_create(site, OWNER, 100, 1000, NULL, 0, &info), MEDIA_UPLOAD_OK);
    cr_assert_eq(media_upload_create(site, OWNER, 1001, 1000, NULL, 0, &info),
                 MEDIA_UPLOAD_TOO_BIG);
    cr_assert_eq(media_upload_create(site, OWNER, 0, 1000, NULL, 0, &info), MEDIA_UPLOAD_INVALID);
    cr_assert_eq(media_upload_create(site, OWNER, 100, 1000, NULL, 0, &info), MEDIA_UPLOAD_OK);
    struct media_upload_writer w;
    char bytes[101] = {0};
    cr_assert_eq(media_upload_begin(&w, site, info.id, OWNER, 0, NULL), MEDIA_UPLOAD_OK);
    cr_assert_eq(media_upload_write(&w, bytes, 60), MEDIA_UPLOAD_OK);
    cr_assert_eq(media_upload_write(&w, bytes, 41), MEDIA_UPLOAD_TOO_BIG);
    cr_assert_eq(media_upload_write(&w, bytes, 40), MEDIA_UPLOAD_OK);
    uint64_t offset;
    cr_assert_eq(media_upload_end(&w, &offset), MEDIA_UPLOAD_OK);
    cr_assert_eq(offset, 100);
}

Test(upload, owners_ids_and_concurrent_appends)
{
    struct media_upload_info info, other;
    struct media_upload_writer w1, w2;
    cr_assert_eq(media_upload_create(site, OWNER, 10, 1000, NULL, 0, &info), MEDIA_UPLOAD_OK);
    cr_assert_eq(media_upload_stat(site, info.id, OWNER + 1, &other), MEDIA_UPLOAD_FORBIDDEN);
    cr_assert_eq(media_upload_begin(&w1, site, info.id, OWNER + 1, 0, NULL),
                 MEDIA_UPLOAD_FORBIDDEN);
    const char *bad_ids[] = {"../../../../etc/passwd", "", "ABCDEF0123456789ABCDEF0123456789",
                             "0123456789abcdef0123456789abcde",
                             "0123456789abcdef0123456789abcdef0"};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++)
        cr_assert_eq(media_upload_stat(site, bad_ids[i], OWNER, &other), MEDIA_UPLOAD_INVALID, "%s",
                     bad_ids[i]);
    cr_assert_eq(media_upload_stat(site, "0123456789abcdef0123456789abcdef", OWNER, &other),
                 MEDIA_UPLOAD_NOT_FOUND);
    cr_assert_eq(media_upload_begin(&w1, site, info.id, OWNER, 0, NULL), MEDIA_UPLOAD_OK);
    cr_assert_eq(media_upload_begin(&w2, site, info.id, OWNER, 0, NULL), MEDIA_UPLOAD_BUSY,
                 "a second connection cannot interleave bytes");
    char path[MEDIA_PATH_MAX];
    cr_assert_eq(media_upload_finish(site, info.id, OWNER, path, sizeof path), MEDIA_UPLOAD_BUSY);
    cr_assert_eq(media_upload_write(&w1, "0123456789", 10), MEDIA_UPLOAD_OK);
    cr_assert_eq(media_upload_end(&w1, NULL), MEDIA_UPLOAD_OK);
    cr_assert_eq(media_upload_delete(site, info.id, OWNER + 1), MEDIA_UPLOAD_FORBIDDEN);
    cr_assert_eq(media_upload_delete(site, info.id, OWNER), MEDIA_UPLOAD_OK);
    cr_assert_eq(media_upload_stat(site, info.id, OWNER, &other), MEDIA_UPLOAD_NOT_FOUND);
    char dir[MEDIA_PATH_MAX];
    media_layout_uploads_dir(site, dir, sizeof dir);
    cr_assert_eq(test_count_entries(dir), 0, "delete leaves nothing");
}

static void age(const char *site_dir, const char *name, int64_t seconds)
{
    char dir[MEDIA_PATH_MAX];
    media_layout_uploads_dir(site_dir, dir, sizeof dir);
    char *path = test_path(dir, name);
    struct timespec times[2];
    clock_gettime(CLOCK_REALTIME, &times[0]);
    times[0].tv_sec -= seconds;
    times[1] = times[0];
    cr_assert_eq(utimensat(AT_FDCWD, path, times, 0), 0, "%s", path);
    free(path);
}

Test(upload, abandoned_uploads_expire)
{
    struct media_upload_info old, fresh;
    cr_assert_eq(media_upload_create(site, OWNER, 10, 1000, NULL, 0, &old), MEDIA_UPLOAD_OK);
    cr_assert_eq(media_upload_create(site, OWNER, 10, 1000, NULL, 0, &fresh), MEDIA_UPLOAD_OK);
    char name[64];
    snprintf(name, sizeof name, "%s.part", old.id);
    age(site, name, 2 * 86400);
    snprintf(name, sizeof name, "%s.info", old.id);
    age(site, name, 2 * 86400);
    /* and a stray temp file from a create that crashed */
    char dir[MEDIA_PATH_MAX];
    media_layout_uploads_dir(site, dir, sizeof dir);
    char *stray = test_path(dir, "ffffffffffffffffffffffffffffffff.info.tmp");
    test_write_file(stray, "x", 1);
    age(site, "ffffffffffffffffffffffffffffffff.info.tmp", 2 * 86400);

    cr_assert_eq(media_upload_expire(site, clock_now_ms(), 86400LL * 1000), 1);
    struct media_upload_info info;
    cr_assert_eq(media_upload_stat(site, old.id, OWNER, &info), MEDIA_UPLOAD_NOT_FOUND);
    cr_assert_eq(media_upload_stat(site, fresh.id, OWNER, &info), MEDIA_UPLOAD_OK);
    cr_assert(!test_exists(stray));
    free(stray);
}

Test(upload, recovery_removes_finished_files_nobody_took)
{
    struct media_upload_info info;
    char path[MEDIA_PATH_MAX], dir[MEDIA_PATH_MAX];
    cr_assert_eq(media_upload_create(site, OWNER, 3, 100, "m", 1, &info), MEDIA_UPLOAD_OK);
    struct media_upload_writer w;
    cr_assert_eq(media_upload_begin(&w, site, info.id, OWNER, 0, NULL), MEDIA_UPLOAD_OK);
    cr_assert_eq(media_upload_write(&w, "abc", 3), MEDIA_UPLOAD_OK);
    cr_assert_eq(media_upload_end(&w, NULL), MEDIA_UPLOAD_OK);
    cr_assert_eq(media_upload_finish(site, info.id, OWNER, path, sizeof path), MEDIA_UPLOAD_OK);
    cr_assert(test_exists(path));
    /* a second upload still in progress must survive */
    struct media_upload_info other;
    cr_assert_eq(media_upload_create(site, OWNER, 3, 100, "m", 1, &other), MEDIA_UPLOAD_OK);
    cr_assert_eq(media_upload_recover(site), 1);
    cr_assert(!test_exists(path), "a crash between finish and the job leaves nothing");
    cr_assert_eq(media_upload_stat(site, other.id, OWNER, &info), MEDIA_UPLOAD_OK);
    media_layout_uploads_dir(site, dir, sizeof dir);
    cr_assert_eq(test_count_entries(dir), 2, "the other upload's .part and .info");
}

Test(upload, metadata_holds_a_long_caption)
{
    static char meta[MEDIA_UPLOAD_METADATA_MAX];
    memset(meta, 'x', sizeof meta);
    static struct media_upload_info created, info;
    cr_assert_eq(media_upload_create(site, OWNER, 10, 100, meta, sizeof meta, &created),
                 MEDIA_UPLOAD_OK);
    cr_assert_eq(media_upload_stat(site, created.id, OWNER, &info), MEDIA_UPLOAD_OK);
    cr_assert_eq(info.metadata_len, sizeof meta);
    cr_assert_eq(memcmp(info.metadata, meta, sizeof meta), 0);
    cr_assert_eq(media_upload_create(site, OWNER, 10, 100, meta, sizeof meta + 1, &info),
                 MEDIA_UPLOAD_INVALID);
}
