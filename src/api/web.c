/*
 * web.c — serves the web client: static files from [server] web_root.
 *
 *   GET /                     web_root/index.html
 *   GET /v/{id}, /@{name}, ... index.html too: the client routes by path, so a
 *                             shared link opens the right screen
 *   GET /static/{*path}       web_root/static/<path>
 *
 * Paths are checked before touching the file system: only [A-Za-z0-9._-]
 * segments, no "..", no hidden files — nothing outside web_root can be named.
 * Files go out zero-copy (http_respond_file) with a strong ETag built from
 * size and modification time, honoured by If-None-Match (304). index.html is
 * revalidated on every load; static assets may be cached for an hour.
 * Every answer carries a Content-Security-Policy that allows only this
 * origin's scripts, styles and media.
 */
#include "api/api.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char CSP[] = "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
                          "style-src 'self'; script-src 'self'; connect-src 'self'; "
                          "object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

struct mime {
    const char *ext;
    const char *type;
};

static const struct mime mimes[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".ico", "image/x-icon"},
    {".webmanifest", "application/manifest+json"},
    {".txt", "text/plain; charset=utf-8"},
    {".woff2", "font/woff2"},
};

static const char *mime_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot)
        for (size_t i = 0; i < sizeof mimes / sizeof mimes[0]; i++)
            if (strcmp(dot, mimes[i].ext) == 0)
                return mimes[i].type;
    return "application/octet-stream";
}

/* True if rel is a safe relative path: segments of [A-Za-z0-9._-], none
 * empty or starting with '.'. */
static bool safe_path(const char *rel)
{
    if (!*rel || strlen(rel) > 200)
        return false;
    const char *seg = rel;
    for (const char *p = rel;; p++) {
        if (*p == '/' || *p == '\0') {
            if (p == seg || *seg == '.')
                return false;
            if (*p == '\0')
                return true;
            seg = p + 1;
            continue;
        }
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
}

static void serve_file(struct http_request *req, const char *rel, bool revalidate)
{
    struct app *app = api_app(req);
    char path[CONFIG_PATH_MAX + 256];
    int n = snprintf(path, sizeof path, "%s/%s", app->cfg.web_root, rel);
    if (n < 0 || (size_t)n >= sizeof path) {
        http_problem_status(req, 404, "no such file");
        return;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        http_problem_status(req, 404, errno == ENOENT && strcmp(rel, "index.html") == 0
                                          ? "the web client is not installed ([server] web_root)"
                                          : "no such file");
        return;
    }
    char etag[64];
    snprintf(etag, sizeof etag, "\"%llx-%llx\"", (unsigned long long)st.st_size,
             (unsigned long long)st.st_mtim.tv_sec * 1000000000ULL +
                 (unsigned long long)st.st_mtim.tv_nsec);
    http_response_header(req, "Content-Security-Policy", CSP);
    http_response_header(req, "X-Content-Type-Options", "nosniff");
    http_response_header(req, "Referrer-Policy", "same-origin");
    http_response_header(req, "ETag", etag);
    http_response_header(req, "Cache-Control", revalidate ? "no-cache" : "public, max-age=3600");
    const char *inm = http_request_header(req, "If-None-Match");
    if (inm && strcmp(inm, etag) == 0) {
        close(fd);
        http_respond_empty(req, 304);
        return;
    }
    http_respond_file(req, 200, mime_type(rel), fd, 0, (uint64_t)st.st_size);
}

static void get_index(struct http_request *req)
{
    serve_file(req, "index.html", true);
}

static void get_static(struct http_request *req)
{
    const char *rel = http_request_param(req, "path");
    char full[256];
    if (!rel || !safe_path(rel) || snprintf(full, sizeof full, "static/%s", rel) >= (int)sizeof full) {
        http_problem_status(req, 404, "no such file");
        return;
    }
    serve_file(req, full, false);
}

int api_web_register(struct http_router *router)
{
    /* Client-side screens: each answers index.html; the client reads the path. */
    static const char *const screens[] = {
        "/",        "/following", "/login",      "/signup",     "/upload",   "/privacy",
        "/search",  "/admin",     "/v/{id}",     "/@{username}", "/tag/{tag}", "/settings",
    };
    for (size_t i = 0; i < sizeof screens / sizeof screens[0]; i++) {
        struct http_route r = {.method = HTTP_GET, .pattern = screens[i], .handler = get_index};
        if (http_router_add(router, &r) < 0)
            return -1;
    }
    struct http_route r = {.method = HTTP_GET, .pattern = "/static/{*path}", .handler = get_static};
    return http_router_add(router, &r);
}
