/*
 * result.c — media/<id>/result.json: what a finished job published, kept
 * beside the files so that a restart between publishing and recording the
 * video as ready can still fill in duration, size and renditions.
 *
 *   {"duration_ms": 10005, "width": 720, "height": 1280, "has_audio": true,
 *    "thumbnail": "thumb.jpg",
 *    "renditions": [{"name": "720", "width": 720, "height": 1280, "file": "720.mp4"}, ...]}
 */
#include "media/jobs.h"
#include "media/layout.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int media_result_save(const char *path, const struct media_result *r)
{
    json_t *list = json_array();
    json_t *doc = NULL;
    int rc = -1;
    if (!list)
        return -1;
    for (int i = 0; i < r->rendition_count; i++) {
        const struct media_rendition *x = &r->renditions[i];
        if (json_array_append_new(list, json_pack("{s:s,s:i,s:i,s:s}", "name", x->name, "width",
                                                  x->width, "height", x->height, "file", x->file)) <
            0)
            goto out;
    }
    doc = json_pack("{s:I,s:i,s:i,s:b,s:s,s:O}", "duration_ms", (json_int_t)r->duration_ms, "width",
                    r->width, "height", r->height, "has_audio", r->has_audio, "thumbnail",
                    r->thumbnail, "renditions", list);
    if (!doc)
        goto out;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        goto out;
    if (json_dumpfd(doc, fd, JSON_COMPACT) == 0 && fsync(fd) == 0)
        rc = 0;
    if (close(fd) != 0)
        rc = -1;
out:
    json_decref(doc);
    json_decref(list);
    return rc;
}

static int copy_string(json_t *obj, const char *key, char *out, size_t size)
{
    const char *s = json_string_value(json_object_get(obj, key));
    if (!s || strlen(s) >= size)
        return -1;
    memcpy(out, s, strlen(s) + 1);
    return 0;
}

int media_result_load(const char *site_dir, uint64_t video_id, struct media_result *r)
{
    char dir[MEDIA_PATH_MAX], path[MEDIA_PATH_MAX];
    if (media_layout_video_dir(site_dir, video_id, dir, sizeof dir) < 0 ||
        snprintf(path, sizeof path, "%s/result.json", dir) >= (int)sizeof path)
        return -1;
    memset(r, 0, sizeof *r);
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
    if (!doc)
        return -1;
    int rc = -1;
    json_t *list = json_object_get(doc, "renditions");
    if (!json_is_array(list) || json_array_size(list) == 0 ||
        json_array_size(list) > MEDIA_MAX_RENDITIONS ||
        copy_string(doc, "thumbnail", r->thumbnail, sizeof r->thumbnail) < 0)
        goto out;
    r->duration_ms = json_integer_value(json_object_get(doc, "duration_ms"));
    r->width = (int)json_integer_value(json_object_get(doc, "width"));
    r->height = (int)json_integer_value(json_object_get(doc, "height"));
    r->has_audio = json_is_true(json_object_get(doc, "has_audio"));
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *x = json_array_get(list, i);
        struct media_rendition *out = &r->renditions[i];
        if (copy_string(x, "name", out->name, sizeof out->name) < 0 ||
            copy_string(x, "file", out->file, sizeof out->file) < 0)
            goto out;
        out->width = (int)json_integer_value(json_object_get(x, "width"));
        out->height = (int)json_integer_value(json_object_get(x, "height"));
    }
    r->rendition_count = (int)json_array_size(list);
    r->reason = MEDIA_OK;
    rc = 0;
out:
    json_decref(doc);
    return rc;
}
