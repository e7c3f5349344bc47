/*
 * The on-disk layout: path helpers refuse names outside the served set,
 * and deleting a video removes its published and work files only.
 */
#include "helpers.h"

#include "media/layout.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

Test(layout, paths_and_content_types)
{
    char out[MEDIA_PATH_MAX];
    cr_assert_eq(media_layout_file("/srv/site", 42, "720.mp4", out, sizeof out), 0);
    cr_assert_str_eq(out, "/srv/site/media/42/720.mp4");
    cr_assert_eq(media_layout_file("/srv/site", 42, "thumb.jpg", out, sizeof out), 0);
    cr_assert_str_eq(media_layout_content_type("thumb.jpg"), "image/jpeg");
    cr_assert_str_eq(media_layout_content_type("1080.mp4"), "video/mp4");
    const char *refused[] = {"../42/720.mp4", "result.json", "source", "",
                             "720.mp4/..",    "/etc/passwd", "720.MP4"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        cr_assert_null(media_layout_content_type(refused[i]), "%s", refused[i]);
        cr_assert_eq(media_layout_file("/srv/site", 42, refused[i], out, sizeof out), -1);
    }
    char small[16];
    cr_assert_eq(media_layout_video_dir("/a/very/long/site/directory", 42, small, sizeof small), -1,
                 "truncation is an error");
}

Test(layout, delete_removes_one_video)
{
    char *dir = test_temp_dir();
    char p[MEDIA_PATH_MAX];
    cr_assert_eq(media_layout_prepare(dir), 0);
    for (uint64_t id = 1; id <= 2; id++) {
        media_layout_video_dir(dir, id, p, sizeof p);
        cr_assert_eq(mkdir(p, 0755), 0);
        media_layout_file(dir, id, "720.mp4", p, sizeof p);
        test_write_file(p, "data", 4);
    }
    media_layout_work_dir(dir, 1, p, sizeof p);
    cr_assert_eq(mkdir(p, 0755), 0);
    cr_assert_eq(media_layout_delete_video(dir, 1), 0);
    media_layout_video_dir(dir, 1, p, sizeof p);
    cr_assert(!test_exists(p));
    media_layout_work_dir(dir, 1, p, sizeof p);
    cr_assert(!test_exists(p));
    media_layout_file(dir, 2, "720.mp4", p, sizeof p);
    cr_assert(test_exists(p), "the other video is untouched");
    media_layout_trash_dir(dir, p, sizeof p);
    cr_assert_eq(test_count_entries(p), 0, "trash emptied");
    cr_assert_eq(media_layout_delete_video(dir, 99), 0, "deleting nothing is fine");
    test_remove_tree(dir);
    free(dir);
}

Test(layout, remove_tree_does_not_follow_symlinks)
{
    char *dir = test_temp_dir();
    char *victim = test_path(dir, "victim");
    char *tree = test_path(dir, "tree");
    cr_assert_eq(mkdir(victim, 0755), 0);
    char *keep = test_path(victim, "keep");
    test_write_file(keep, "k", 1);
    cr_assert_eq(mkdir(tree, 0755), 0);
    char *link = test_path(tree, "link");
    cr_assert_eq(symlink(victim, link), 0);
    cr_assert_eq(media_layout_remove_tree(tree), 0);
    cr_assert(!test_exists(tree));
    cr_assert(test_exists(keep), "files behind a symlink survive");
    test_remove_tree(dir);
    free(dir);
    free(victim);
    free(tree);
    free(keep);
    free(link);
}
