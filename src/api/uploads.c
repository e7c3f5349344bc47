/*
 * uploads.c — the upload routes (API.md "Videos"; docs/api.md has the
 * protocol):
 *
 *   POST   /api/v1/videos                   multipart/form-data: file, caption -> 202 Video
 *   POST   /api/v1/uploads                  {size, caption, filename} -> 201 {id, url, offset}
 *   GET    /api/v1/uploads/{id}  (and HEAD) the offset to resume from (Upload-Offset)
 *   PATCH  /api/v1/uploads/{id}             bytes at Upload-Offset -> 204, the new Upload-Offset
 *   POST   /api/v1/uploads/{id}/finish      -> 202 Video
 *   DELETE /api/v1/uploads/{id}             -> 204
 *
 * Both kinds stream: a body never sits in memory. The multipart form goes
 * through http/form.h into a temporary file in the creator's home site's
 * media/.incoming/; a PATCH appends to the upload's .part file
 * (media/upload.h). Everything that can refuse an upload without its bytes
 * — authentication, the declared size against [media] max_upload_bytes,
 * the daily quota, the offset — is decided in on_start, before the first
 * byte is read; the size limit is also enforced as bytes arrive. Then the
 * finishing handler, on the worker pool, hands the file to
 * api_upload_ingest (probe, record, job) — the same path `reel seed` takes.
 *
 * Writing on the event thread: on_body runs on libmicrohttpd's event
 * thread, and it write(2)s each piece (at most the connection buffer, 16
 * KiB) to the temporary file there instead of handing it to the worker
 * pool. A write of that size into the page cache costs a few microseconds;
 * a hand-off per piece would cost a suspend/resume and two context switches
 * and serialise the upload behind other blocking work. Nothing that waits
 * for the disk runs on the event thread: the fsync (fdatasync of a PATCH,
 * the job's rename) happens in the finishing handler on the worker pool.
 * The risk left is the kernel throttling writers when dirty pages pile up
 * on a saturated disk, which would stall that event thread's other
 * connections too — bounded by vm.dirty_ratio and the same for any server
 * that receives uploads; the cure, if it bites, is a dedicated writer
 * thread per upload rather than the shared worker pool.
 *
 * Resumable uploads are owner-only: another user's upload id answers 404,
 * as if it did not exist. Uploads idle for [media] upload_expiry are
 * deleted by the server's sweeper (media_pipeline.c).
 */
#include "api/api.h"

#include "core/buf.h"
#include "core/clock.h"
#include "core/parse.h"
#include "http/form.h"
#include "media/layout.h"
#include "media/media.h"
#include "media/upload.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* What a multipart body may add to the file: boundaries, part headers and
 * the caption (at most 2,200 characters of 4 bytes). */
#define FORM_OVERHEAD (64u * 1024)
#define FORM_FIELD_MAX (16u * 1024)
#define FILENAME_MAX_BYTES 255
/* A streaming route's server-side cap: the routes enforce [media] limits
 * themselves, which are only known at run time. */
#define STREAM_MAX ((size_t)1 << 46)

static bool media_running(struct http_request *req)
{
    if (api_media_limits(api_app(req)))
        return true;
    http_problem(req, 503, "unavailable", "Service Unavailable",
                 "media processing is not running on this server", NULL);
    return false;
}

/* Answers 202 with the new video as its creator sees it. */
static void answer_video(struct http_request *req, uint64_t video_id)
{
    struct api_reply r;
    size_t written = 0;
    api_reply_begin(&r, 256 * 1024);
    int rc = api_write_videos(&r.w, api_app(req), &video_id, 1, req->user_id, &written);
    if (rc != STORE_OK || written == 0) {
        api_reply_abort(req, &r, rc == STORE_OK ? STORE_NOTFOUND : rc, "video");
        return;
    }
    char url[64];
    snprintf(url, sizeof url, "/api/v1/videos/%" PRIu64, video_id);
    http_response_header(req, "Location", url);
    api_reply_end(req, 202, &r);
}

/* ---- POST /api/v1/videos: one multipart/form-data request ------------------------ */

struct form_upload {
    struct http_form form;
    bool initialised;
    uint64_t limit;    /* body bytes accepted */
    uint64_t received; /* body bytes seen */
    char temp_dir[MEDIA_PATH_MAX];
};

static void form_cleanup(void *arg)
{
    struct form_upload *st = arg;
    if (st->initialised)
        http_form_clear(&st->form); /* closes and removes the temporary file */
}

static void form_problem(struct http_request *req, int error)
{
    if (error == HTTP_FORM_E_FILE_TOO_LARGE) {
        struct api_upload_refusal why;
        api_upload_too_large(&why, api_media_limits(api_app(req))->max_bytes);
        api_upload_refuse(req, &why);
        return;
    }
    int status = http_form_error_status(error);
    const char *type = status == 415   ? "unsupported-media-type"
                       : status == 413 ? "payload-too-large"
                       : status >= 500 ? "internal-error"
                                       : "malformed-upload";
    char detail[160];
    snprintf(detail, sizeof detail,
             "%s; send multipart/form-data with a `file` part and an "
             "optional `caption`",
             http_form_strerror(error));
    http_problem(req, status, type, http_status_reason(status), detail, NULL);
}

static void form_start(struct http_request *req)
{
    if (!api_require_user(req) || !media_running(req) ||
        !api_store_for_id(req, req->user_id, "user"))
        return;
    struct app *app = api_app(req);
    uint64_t max = api_media_limits(app)->max_bytes;
    struct api_upload_refusal why;
    if (req->content_length != UINT64_MAX && req->content_length > max + FORM_OVERHEAD) {
        api_upload_too_large(&why, max);
        api_upload_refuse(req, &why);
        return;
    }
    /* The declared body less what a form adds bounds the file from below. */
    uint64_t at_least = req->content_length != UINT64_MAX && req->content_length > FORM_OVERHEAD
                            ? req->content_length - FORM_OVERHEAD
                            : 0;
    if (api_upload_quota(app, req->user_id, at_least, &why) < 0) {
        api_upload_refuse(req, &why);
        return;
    }
    struct form_upload *st = pool_calloc(req->pool, 1, sizeof *st);
    if (!st || pool_cleanup_add(req->pool, form_cleanup, st) < 0) {
        http_problem_status(req, 503, "out of memory");
        return;
    }
    if (media_layout_incoming_dir(api_media_site(app, req->user_id), st->temp_dir,
                                  sizeof st->temp_dir) < 0) {
        http_problem_status(req, 500, "the upload directory's path is too long");
        return;
    }
    struct http_form_options opts = {
        .file_field = "file",
        .temp_dir = st->temp_dir,
        .max_file_bytes = max,
        .max_field_bytes = FORM_FIELD_MAX,
    };
    st->initialised = true;
    int rc = http_form_init(&st->form, http_request_header(req, "Content-Type"), &opts);
    if (rc != HTTP_FORM_OK) {
        form_problem(req, rc);
        return;
    }
    st->limit = max + FORM_OVERHEAD;
    req->user_data = st;
}

static int form_body(struct http_request *req, const char *data, size_t len)
{
    struct form_upload *st = req->user_data;
    st->received += len;
    if (st->received > st->limit) {
        form_problem(req, HTTP_FORM_E_FILE_TOO_LARGE);
        return -1;
    }
    int rc = http_form_feed(&st->form, data, len);
    if (rc != HTTP_FORM_OK) {
        form_problem(req, rc);
        return -1;
    }
    return 0;
}

static void form_finish(struct http_request *req)
{
    struct form_upload *st = req->user_data;
    int rc = http_form_finish(&st->form);
    if (rc != HTTP_FORM_OK) {
        form_problem(req, rc);
        return;
    }
    size_t caption_len = 0;
    const char *caption = http_form_field(&st->form, "caption", &caption_len);
    if (caption && strlen(caption) != caption_len) {
        json_t *errors = NULL;
        http_errors_add(&errors, "caption", "must not contain NUL characters");
        http_problem(req, 422, "validation-error", "Invalid field value",
                     "one or more fields are missing or invalid; see errors", errors);
        return;
    }
    struct api_upload up = {
        .creator_id = req->user_id,
        .path = http_form_take_file(&st->form),
        .caption = caption,
        .check_quota = true,
    };
    uint64_t video_id;
    struct api_upload_refusal why;
    if (api_upload_ingest(api_app(req), &up, &video_id, &why) < 0) {
        api_upload_refuse(req, &why);
        return;
    }
    answer_video(req, video_id);
}

/* ---- resumable uploads -------------------------------------------------------- */

static void upload_url(const char *id, char *out, size_t size)
{
    snprintf(out, size, "/api/v1/uploads/%s", id);
}

static void set_offset_header(struct http_request *req, uint64_t offset)
{
    char s[24];
    snprintf(s, sizeof s, "%" PRIu64, offset);
    http_response_header(req, "Upload-Offset", s);
}

/* The problem for a media_upload_* status other than OK. */
static void upload_problem(struct http_request *req, int rc, uint64_t offset)
{
    switch (rc) {
    case MEDIA_UPLOAD_NOT_FOUND:
    case MEDIA_UPLOAD_FORBIDDEN: /* another user's upload does not exist for you */
    case MEDIA_UPLOAD_INVALID:   /* a malformed id names no upload */
        http_problem(req, 404, "not-found", "Not Found",
                     "no such upload (it finished, was deleted or expired)", NULL);
        return;
    case MEDIA_UPLOAD_CONFLICT:
    case MEDIA_UPLOAD_INCOMPLETE: {
        char detail[160];
        snprintf(detail, sizeof detail,
                 rc == MEDIA_UPLOAD_CONFLICT
                     ? "Upload-Offset does not match the bytes received; resume at %" PRIu64
                     : "the upload is not complete; resume at %" PRIu64,
                 offset);
        json_t *body = json_pack(
            "{s:s, s:s, s:i, s:s, s:I}", "type",
            rc == MEDIA_UPLOAD_CONFLICT ? "/problems/offset-mismatch"
                                        : "/problems/upload-incomplete",
            "title", rc == MEDIA_UPLOAD_CONFLICT ? "Offset mismatch" : "Upload incomplete",
            "status", 409, "detail", detail, "offset", (json_int_t)offset);
        if (!body) {
            http_problem_status(req, 503, "out of memory");
            return;
        }
        http_respond_json(req, 409, body);
        req->resp.content_type = "application/problem+json";
        set_offset_header(req, offset);
        return;
    }
    case MEDIA_UPLOAD_TOO_BIG:
        http_problem(req, 413, "payload-too-large", "Content Too Large",
                     "the bytes go past the upload's declared size", NULL);
        return;
    case MEDIA_UPLOAD_BUSY:
        http_problem(req, 503, "upload-busy", "Upload Busy",
                     "another request is appending to this upload; retry shortly", NULL);
        http_response_header(req, "Retry-After", "1");
        return;
    default:
        http_problem(req, 500, "internal-error", "Internal Server Error",
                     "the upload could not be stored; the error is logged", NULL);
        return;
    }
}

/* The upload id path parameter (its shape is checked by media/upload.c). */
static const char *upload_id(struct http_request *req)
{
    const char *id = http_request_param(req, "id");
    return id ? id : "";
}

static void write_upload(struct http_request *req, const struct media_upload_info *info, int status)
{
    struct app *app = api_app(req);
    char url[96];
    upload_url(info->id, url, sizeof url);
    json_t *meta = json_loadb(info->metadata, info->metadata_len, 0, NULL);
    const char *filename = json_string_value(json_object_get(meta, "filename"));
    struct api_reply r;
    api_reply_begin(&r, 64 * 1024);
    jsonw_object_begin(&r.w);
    jsonw_kv_string(&r.w, "id", info->id);
    jsonw_kv_string(&r.w, "url", url);
    jsonw_kv_int(&r.w, "size", (int64_t)info->size);
    jsonw_kv_int(&r.w, "offset", (int64_t)info->offset);
    jsonw_kv_string(&r.w, "filename", filename ? filename : "");
    jsonw_kv_time(&r.w, "created_at", info->created_ms);
    jsonw_kv_time(&r.w, "expires_at",
                  info->updated_ms + (int64_t)app->cfg.media_upload_expiry_s * 1000);
    jsonw_object_end(&r.w);
    json_decref(meta);
    char s[24];
    snprintf(s, sizeof s, "%" PRIu64, info->size);
    http_response_header(req, "Upload-Length", s);
    set_offset_header(req, info->offset);
    http_response_header(req, "Cache-Control", "no-store");
    if (status == 201)
        http_response_header(req, "Location", url);
    api_reply_end(req, status, &r);
}

static void create_upload(struct http_request *req)
{
    if (!api_require_user(req) || !media_running(req) ||
        !api_store_for_id(req, req->user_id, "user"))
        return;
    struct app *app = api_app(req);
    json_t *body = http_request_json(req);
    if (!body)
        return;
    static const char *const allowed[] = {"size", "caption", "filename", NULL};
    struct validation v = {0};
    api_reject_unknown_fields(body, allowed, &v);
    json_t *size = json_object_get(body, "size");
    if (!json_is_integer(size)) {
        v.shape_error = true;
        api_invalid(&v, "size", "required: the file's size in bytes, a whole number");
    } else if (json_integer_value(size) < 1) {
        api_invalid(&v, "size", "must be at least 1 byte");
    }
    const char *caption = api_field_string(body, "caption", false, &v);
    const char *filename = api_field_string(body, "filename", false, &v);
    struct store_video *scratch = pool_calloc(req->pool, 1, sizeof *scratch);
    if (!scratch) {
        http_problem_status(req, 503, "out of memory");
        return;
    }
    if (caption)
        api_video_caption(app, &v, "caption", caption, scratch);
    if (filename)
        api_check_text(&v, "filename", filename, 0, FILENAME_MAX_BYTES, false);
    if (filename && strlen(filename) > FILENAME_MAX_BYTES)
        api_invalid(&v, "filename", "must be at most 255 bytes");
    if (api_validation_failed(req, &v))
        return;
    uint64_t bytes = (uint64_t)json_integer_value(size);
    uint64_t max = api_media_limits(app)->max_bytes;
    struct api_upload_refusal why;
    if (bytes > max) {
        api_upload_too_large(&why, max);
        api_upload_refuse(req, &why);
        return;
    }
    if (api_upload_quota(app, req->user_id, bytes, &why) < 0) {
        api_upload_refuse(req, &why);
        return;
    }
    /* The metadata kept with the upload: {"caption", "filename"}. */
    struct buf meta;
    struct jsonw w;
    buf_init(&meta, MEDIA_UPLOAD_METADATA_MAX);
    jsonw_init(&w, &meta);
    jsonw_object_begin(&w);
    jsonw_kv_string(&w, "caption", caption ? caption : "");
    jsonw_kv_string(&w, "filename", filename ? filename : "");
    jsonw_object_end(&w);
    struct media_upload_info *info = pool_alloc(req->pool, sizeof *info);
    int rc = !info || jsonw_finish(&w) != 0
                 ? MEDIA_UPLOAD_IO
                 : media_upload_create(api_media_site(app, req->user_id), req->user_id, bytes, max,
                                       meta.data, meta.len, info);
    buf_clear(&meta);
    if (rc != MEDIA_UPLOAD_OK) {
        upload_problem(req, rc, 0);
        return;
    }
    write_upload(req, info, 201);
}

static void get_upload(struct http_request *req)
{
    if (!api_require_user(req) || !media_running(req) ||
        !api_store_for_id(req, req->user_id, "user"))
        return;
    struct app *app = api_app(req);
    struct media_upload_info *info = pool_alloc(req->pool, sizeof *info);
    if (!info) {
        http_problem_status(req, 503, "out of memory");
        return;
    }
    int rc =
        media_upload_stat(api_media_site(app, req->user_id), upload_id(req), req->user_id, info);
    if (rc != MEDIA_UPLOAD_OK) {
        upload_problem(req, rc, 0);
        return;
    }
    write_upload(req, info, 200);
}

static void delete_upload(struct http_request *req)
{
    if (!api_require_user(req) || !media_running(req) ||
        !api_store_for_id(req, req->user_id, "user"))
        return;
    int rc = media_upload_delete(api_media_site(api_app(req), req->user_id), upload_id(req),
                                 req->user_id);
    if (rc != MEDIA_UPLOAD_OK) {
        upload_problem(req, rc, 0);
        return;
    }
    http_respond_empty(req, 204);
}

/* PATCH: streamed into the .part file under its lock. */
struct patch_state {
    struct media_upload_writer writer;
};

static void patch_cleanup(void *arg)
{
    struct patch_state *st = arg;
    /* Only when the request ended without its handler (the client went
     * away mid-body): make what arrived durable and release the lock. The
     * fdatasync is of at most one request's bytes. */
    if (st->writer.fd >= 0)
        media_upload_end(&st->writer, NULL);
}

static void patch_start(struct http_request *req)
{
    if (!api_require_user(req) || !media_running(req) ||
        !api_store_for_id(req, req->user_id, "user"))
        return;
    const char *ct = http_request_header(req, "Content-Type");
    if (!ct || strncasecmp(ct, "application/offset+octet-stream", 31) != 0) {
        http_problem(req, 415, "unsupported-media-type", "Unsupported Media Type",
                     "send the bytes as Content-Type: application/offset+octet-stream", NULL);
        return;
    }
    const char *offset_text = http_request_header(req, "Upload-Offset");
    unsigned long long offset;
    if (!offset_text || parse_ull(offset_text, &offset) < 0) {
        json_t *errors = NULL;
        http_errors_add(&errors, "Upload-Offset",
                        "required: the byte offset these bytes start at (HEAD tells it)");
        http_problem(req, 400, "validation-error", "Invalid request",
                     "the Upload-Offset header is missing or malformed", errors);
        return;
    }
    struct patch_state *st = pool_calloc(req->pool, 1, sizeof *st);
    struct media_upload_info *info = pool_alloc(req->pool, sizeof *info);
    if (!st || !info || pool_cleanup_add(req->pool, patch_cleanup, st) < 0) {
        http_problem_status(req, 503, "out of memory");
        return;
    }
    st->writer.fd = -1;
    int rc = media_upload_begin(&st->writer, api_media_site(api_app(req), req->user_id),
                                upload_id(req), req->user_id, offset, info);
    if (rc != MEDIA_UPLOAD_OK) {
        upload_problem(req, rc, info->offset);
        return;
    }
    if (req->content_length != UINT64_MAX && req->content_length > info->size - info->offset) {
        upload_problem(req, MEDIA_UPLOAD_TOO_BIG, 0);
        return; /* the cleanup releases the lock */
    }
    req->user_data = st;
}

static int patch_body(struct http_request *req, const char *data, size_t len)
{
    struct patch_state *st = req->user_data;
    int rc = media_upload_write(&st->writer, data, len);
    if (rc != MEDIA_UPLOAD_OK) {
        upload_problem(req, rc, 0);
        return -1;
    }
    return 0;
}

static void patch_finish(struct http_request *req)
{
    struct patch_state *st = req->user_data;
    uint64_t offset = 0;
    int rc = media_upload_end(&st->writer, &offset);
    if (rc != MEDIA_UPLOAD_OK) {
        upload_problem(req, rc, offset);
        return;
    }
    http_respond_empty(req, 204);
    set_offset_header(req, offset);
}

static void finish_upload(struct http_request *req)
{
    if (!api_require_user(req) || !media_running(req) ||
        !api_store_for_id(req, req->user_id, "user"))
        return;
    struct app *app = api_app(req);
    const char *site = api_media_site(app, req->user_id);
    struct media_upload_info *info = pool_alloc(req->pool, sizeof *info);
    char *path = pool_alloc(req->pool, MEDIA_PATH_MAX);
    if (!info || !path) {
        http_problem_status(req, 503, "out of memory");
        return;
    }
    int rc = media_upload_stat(site, upload_id(req), req->user_id, info);
    if (rc == MEDIA_UPLOAD_OK && info->offset < info->size)
        rc = MEDIA_UPLOAD_INCOMPLETE;
    if (rc != MEDIA_UPLOAD_OK) {
        upload_problem(req, rc, info->offset);
        return;
    }
    /* Checked before the upload is consumed, so a refused one can be
     * finished another day (until it expires). */
    struct api_upload_refusal why;
    if (api_upload_quota(app, req->user_id, info->size, &why) < 0) {
        api_upload_refuse(req, &why);
        return;
    }
    json_t *meta = json_loadb(info->metadata, info->metadata_len, 0, NULL);
    const char *caption = json_string_value(json_object_get(meta, "caption"));
    char *caption_copy = pool_strdup(req->pool, caption ? caption : "");
    json_decref(meta);
    if (!caption_copy) {
        http_problem_status(req, 503, "out of memory");
        return;
    }
    rc = media_upload_finish(site, upload_id(req), req->user_id, path, MEDIA_PATH_MAX);
    if (rc != MEDIA_UPLOAD_OK) {
        upload_problem(req, rc, info->offset);
        return;
    }
    struct api_upload up = {
        .creator_id = req->user_id,
        .path = path,
        .caption = caption_copy,
        .check_quota = false, /* just checked */
    };
    uint64_t video_id;
    if (api_upload_ingest(app, &up, &video_id, &why) < 0) {
        api_upload_refuse(req, &why);
        return;
    }
    answer_video(req, video_id);
}

int api_uploads_register(struct http_router *router)
{
    static const struct http_route routes[] = {
        {.method = HTTP_POST,
         .pattern = "/api/v1/videos",
         .handler = form_finish,
         .on_start = form_start,
         .on_body = form_body,
         .max_body = STREAM_MAX},
        {.method = HTTP_POST, .pattern = "/api/v1/uploads", .handler = create_upload},
        {.method = HTTP_GET, .pattern = "/api/v1/uploads/{id}", .handler = get_upload},
        {.method = HTTP_PATCH,
         .pattern = "/api/v1/uploads/{id}",
         .handler = patch_finish,
         .on_start = patch_start,
         .on_body = patch_body,
         .max_body = STREAM_MAX},
        {.method = HTTP_DELETE, .pattern = "/api/v1/uploads/{id}", .handler = delete_upload},
        {.method = HTTP_POST, .pattern = "/api/v1/uploads/{id}/finish", .handler = finish_upload},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (http_router_add(router, &routes[i]) < 0)
            return -1;
    return 0;
}
