/*
 * Media replication to a region's replica sites: a copy is whole and lands
 * by one rename; an older copy is replaced; the start-up sync copies what
 * is missing or different, removes what the primary no longer has, and
 * clears half-done copies; nothing is followed through a symlink.
 */
#include "helpers.h"

#include "media/layout.h"
#include "media/replicate.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *dir, *primary, *replica;

static void setup(void)
{
    dir = test_temp_dir();
    primary = test_path(dir, "primary");
    replica = test_path(dir, "replica");
    cr_assert_eq(mkdir(primary, 0755), 0);
    cr_assert_eq(mkdir(replica, 0755), 0);
    cr_assert_eq(media_layout_prepare(primary), 0);
}

static void teardown(void)
{
    test_remove_tree(dir);
    free(dir);
    free(primary);
    free(replica);
}

TestSuite(replicate, .init = setup, .fini = teardown);

/* A published video with files whose contents name the video and `tag`. */
static void publish(const char *site, uint64_t id, const char *tag, size_t big)
{
    char p[MEDIA_PATH_MAX], body[256];
    media_layout_video_dir(site, id, p, sizeof p);
    cr_assert_eq(mkdir(p, 0755), 0);
    const char *names[] = {"720.mp4", "360.mp4", "thumb.jpg", "result.json"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/media/%llu/%s", site, (unsigned long long)id, names[i]);
        if (i == 0 && big) {
            char *data = malloc(big);
            for (size_t k = 0; k < big; k++)
                data[k] = (char)(k * 131 + id);
            test_write_file(p, data, big);
            free(data);
        } else {
            int n =
                snprintf(body, sizeof body, "%s %llu %s", names[i], (unsigned long long)id, tag);
            test_write_file(p, body, (size_t)n);
        }
    }
}

static bool same_file(const char *a, const char *b)
{
    return test_run("cmp -s '%s' '%s'", a, b) == 0;
}

static bool same_dir(uint64_t id)
{
    char a[MEDIA_PATH_MAX], b[MEDIA_PATH_MAX];
    media_layout_video_dir(primary, id, a, sizeof a);
    media_layout_video_dir(replica, id, b, sizeof b);
    return test_run("diff -r '%s' '%s' >/dev/null", a, b) == 0;
}

Test(replicate, copies_a_published_video_whole)
{
    publish(primary, 7, "v1", 3 << 20);
    cr_assert_eq(media_replicate_video(primary, replica, 7), 0);
    cr_assert(same_dir(7));
    char p[MEDIA_PATH_MAX];
    media_layout_incoming_dir(replica, p, sizeof p);
    cr_assert_eq(test_count_entries(p), 0, "no temporary copy left");

    /* A newer publication of the same id replaces the copy. */
    char a[MEDIA_PATH_MAX];
    media_layout_video_dir(primary, 7, a, sizeof a);
    test_remove_tree(a);
    publish(primary, 7, "v2-longer", 0);
    cr_assert_eq(media_replicate_video(primary, replica, 7), 0);
    cr_assert(same_dir(7));
    media_layout_trash_dir(replica, p, sizeof p);
    cr_assert_eq(test_count_entries(p), 0);
}

Test(replicate, unpublished_video_is_an_error_and_leaves_nothing)
{
    errno = 0;
    cr_assert_eq(media_replicate_video(primary, replica, 8), -1);
    cr_assert_eq(errno, ENOENT);
    char p[MEDIA_PATH_MAX];
    media_layout_video_dir(replica, 8, p, sizeof p);
    cr_assert(!test_exists(p));
}

Test(replicate, symlinks_are_not_followed)
{
    publish(primary, 9, "x", 0);
    char secret[MEDIA_PATH_MAX], link[MEDIA_PATH_MAX], p[MEDIA_PATH_MAX];
    snprintf(secret, sizeof secret, "%s/secret", dir);
    test_write_file(secret, "secret", 6);
    snprintf(link, sizeof link, "%s/media/9/720.mp4", primary);
    cr_assert_eq(unlink(link), 0);
    cr_assert_eq(symlink(secret, link), 0);
    cr_assert_eq(media_replicate_video(primary, replica, 9), -1);
    media_layout_video_dir(replica, 9, p, sizeof p);
    cr_assert(!test_exists(p), "a failed copy publishes nothing");
    media_layout_incoming_dir(replica, p, sizeof p);
    cr_assert_eq(test_count_entries(p), 0);
}

Test(replicate, sync_copies_missing_and_changed_and_removes_extra)
{
    publish(primary, 1, "a", 0);
    publish(primary, 2, "b", 1 << 20);
    publish(primary, 3, "c", 0);
    cr_assert_eq(media_replicate_video(primary, replica, 1), 0);
    cr_assert_eq(media_replicate_video(primary, replica, 3), 0);
    /* 3 changed on the primary after it was copied (a redo after a crash) */
    char p[MEDIA_PATH_MAX];
    snprintf(p, sizeof p, "%s/media/3/result.json", primary);
    test_write_file(p, "result.json 3 redone", 20);
    /* 4 exists only on the replica: deleted while the replica was away */
    publish(replica, 4, "d", 0);
    /* a copy a crash interrupted */
    snprintf(p, sizeof p, "%s/media/.incoming/copy-5-1-1", replica);
    cr_assert_eq(mkdir(p, 0755), 0);
    /* an upload streaming in on the replica's .incoming is not a copy */
    snprintf(p, sizeof p, "%s/media/.incoming/upload-x", replica);
    test_write_file(p, "u", 1);

    struct media_sync_report r;
    cr_assert_eq(media_replicate_sync(primary, replica, &r), 0);
    cr_assert_eq(r.videos, 3);
    cr_assert_eq(r.copied, 2, "2 missing, 3 changed");
    cr_assert_eq(r.removed, 1);
    cr_assert_eq(r.failed, 0);
    for (uint64_t id = 1; id <= 3; id++)
        cr_assert(same_dir(id), "video %llu", (unsigned long long)id);
    media_layout_video_dir(replica, 4, p, sizeof p);
    cr_assert(!test_exists(p));
    snprintf(p, sizeof p, "%s/media/.incoming/copy-5-1-1", replica);
    cr_assert(!test_exists(p));
    snprintf(p, sizeof p, "%s/media/.incoming/upload-x", replica);
    cr_assert(test_exists(p));

    /* In step: a second sync changes nothing. */
    cr_assert_eq(media_replicate_sync(primary, replica, &r), 0);
    cr_assert_eq(r.copied + r.removed + r.failed, 0);
    char a[MEDIA_PATH_MAX], b[MEDIA_PATH_MAX];
    snprintf(a, sizeof a, "%s/media/2/720.mp4", primary);
    snprintf(b, sizeof b, "%s/media/2/720.mp4", replica);
    cr_assert(same_file(a, b));
}
