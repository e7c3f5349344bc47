/*
 * media_files.c — GET and HEAD /media/{video_id}/{file}: a published
 * video's renditions and thumbnail, with Range (one byte range: 206, 416),
 * validators (a strong ETag, Last-Modified) and conditional requests (304),
 * sent zero-copy (libmicrohttpd sendfile(2)s the open file).
 *
 * Media is public content once published, so any node serves any region's
 * media, reading it from the creator's home region's primary site. For a
 * region this node serves, the store also decides: a video that is not
 * ready, deleted, or whose creator left answers 404 even if a file were
 * there. For another region the published directory is the truth — it
 * exists only once complete and disappears (renamed to .trash) the moment
 * the video is deleted.
 *
 * Only the file names of the layout (media_layout_content_type) are served;
 * anything else, result.json included, is 404. Files are opened without
 * following symlinks.
 */
#include "api/api.h"

#include "core/id.h"
#include "http/range.h"
#include "media/layout.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void not_found(struct http_request *req)
{
    http_problem(req, 404, "not-found", "Not Found", "no such media file", NULL);
}

/* True if the video may be served: for a region served here, it is ready
 * and visible to anyone. Answers 404/503 otherwise. */
static bool servable(struct http_request *req, uint64_t id)
{
    struct app *app = api_app(req);
    struct store *store = app_store_for_id(app, id);
    if (!store)
        return true; /* another node's region: the published files decide */
    struct store_video *video = pool_alloc(req->pool, sizeof *video);
    struct store_user *creator = pool_alloc(req->pool, sizeof *creator);
    if (!video || !creator) {
        http_problem_status(req, 503, "out of memory");
        return false;
    }
    int rc = store_video_get(store, id, video, creator);
    if (rc == STORE_OK && video->status == STORE_VIDEO_READY &&
        api_video_visible(video, creator, 0))
        return true;
    if (rc == STORE_OK || rc == STORE_NOTFOUND)
        not_found(req);
    else
        api_store_problem(req, rc, "video");
    return false;
}

static void get_media(struct http_request *req)
{
    struct app *app = api_app(req);
    const char *id_text = http_request_param(req, "video_id");
    const char *file = http_request_param(req, "file");
    uint64_t id;
    const char *type = file ? media_layout_content_type(file) : NULL;
    const char *site;
    char path[MEDIA_PATH_MAX];
    if (!id_text || !id_parse(id_text, &id) || !type || !(site = api_media_site(app, id)) ||
        media_layout_file(site, id, file, path, sizeof path) < 0) {
        not_found(req);
        return;
    }
    if (!servable(req, id))
        return;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        not_found(req);
        return;
    }
    char etag[HTTP_ETAG_MAX];
    http_etag_make((uint64_t)st.st_size,
                   (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec,
                   (uint64_t)st.st_ino, etag);
    struct http_range_request rr = {
        .range = http_request_header(req, "Range"),
        .if_range = http_request_header(req, "If-Range"),
        .if_none_match = http_request_header(req, "If-None-Match"),
        .if_modified_since = http_request_header(req, "If-Modified-Since"),
    };
    struct http_range_plan plan;
    http_range_plan(&plan, &rr, (uint64_t)st.st_size, (int64_t)st.st_mtim.tv_sec, etag);

    switch (plan.status) {
    case 416:
        close(fd);
        http_problem(req, 416, "range-not-satisfiable", "Range Not Satisfiable",
                     "the range starts past the end of the file", NULL);
        break;
    case 304:
        close(fd);
        http_respond_empty(req, 304);
        break;
    default: /* 200, 206: the server owns fd from here */
        http_respond_file(req, plan.status, type, fd, (off_t)plan.offset, plan.length);
        break;
    }
    http_response_header(req, "ETag", plan.etag);
    http_response_header(req, "Last-Modified", plan.last_modified);
    http_response_header(req, "Accept-Ranges", "bytes");
    if (plan.content_range[0])
        http_response_header(req, "Content-Range", plan.content_range);
    /* Published files never change in place; a short lifetime still lets a
     * deletion take effect in caches soon. */
    http_response_header(req, "Cache-Control", "public, max-age=600");
}

int api_media_register(struct http_router *router)
{
    struct http_route route = {
        .method = HTTP_GET, .pattern = "/media/{video_id}/{file}", .handler = get_media};
    return http_router_add(router, &route);
}
