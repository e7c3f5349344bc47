/*
 * router.c — matches "METHOD /path" against the route table.
 *
 * Patterns are split into segments at registration; a segment is a literal
 * or a parameter "{name}" that matches one non-empty segment, and a final
 * "{*name}" matches the rest of the path. Matching walks the table in order
 * (a few dozen routes: a linear scan of pre-split segments costs well under a
 * microsecond) and prefers literal over parameter segments by registering
 * literal routes first — callers list "/users/@{name}" style literals before
 * generic ones. The path is never decoded here: ids and slugs are plain
 * ASCII, and handlers validate their parameters.
 */
#include "http/http.h"

#include "core/alloc.h"

#include <stdio.h>
#include <string.h>

#define MAX_ROUTES 128
#define MAX_SEGMENTS 12

struct segment {
    char *text;      /* literal text, or the parameter name */
    size_t prefix_len; /* for "@{name}": the literal prefix before the parameter */
    bool param;
    bool rest;
};

struct compiled_route {
    struct http_route route;
    char *pattern;
    struct segment segments[MAX_SEGMENTS];
    int segment_count;
};

struct http_router {
    struct compiled_route routes[MAX_ROUTES];
    int count;
};

struct http_router *http_router_create(void)
{
    return reel_calloc(1, sizeof(struct http_router));
}

void http_router_destroy(struct http_router *router)
{
    if (!router)
        return;
    for (int i = 0; i < router->count; i++) {
        reel_free(router->routes[i].pattern);
        for (int s = 0; s < router->routes[i].segment_count; s++)
            reel_free(router->routes[i].segments[s].text);
    }
    reel_free(router);
}

static int compile(struct compiled_route *cr, const char *pattern)
{
    if (pattern[0] != '/')
        return -1;
    const char *p = pattern + 1;
    while (*p) {
        if (cr->segment_count >= MAX_SEGMENTS)
            return -1;
        size_t n = strcspn(p, "/");
        struct segment *seg = &cr->segments[cr->segment_count++];
        const char *brace = memchr(p, '{', n);
        if (brace) {
            if (p[n - 1] != '}')
                return -1;
            seg->param = true;
            seg->prefix_len = (size_t)(brace - p);
            const char *name = brace + 1;
            size_t name_len = (size_t)(p + n - 1 - name);
            if (name_len > 0 && name[0] == '*') {
                seg->rest = true;
                name++;
                name_len--;
                if (p[n] != '\0')
                    return -1; /* {*rest} must be last */
            }
            if (name_len == 0)
                return -1;
            /* Store "prefix" + "\0" + "name": text points at the prefix. */
            seg->text = reel_malloc(n + 1);
            if (!seg->text)
                return -1;
            memcpy(seg->text, p, seg->prefix_len);
            seg->text[seg->prefix_len] = '\0';
            memcpy(seg->text + seg->prefix_len + 1, name, name_len);
            seg->text[seg->prefix_len + 1 + name_len] = '\0';
        } else {
            seg->text = reel_strndup(p, n);
            if (!seg->text)
                return -1;
        }
        p += n;
        if (*p == '/')
            p++;
    }
    return 0;
}

int http_router_add(struct http_router *router, const struct http_route *route)
{
    if (router->count >= MAX_ROUTES)
        return -1;
    struct compiled_route *cr = &router->routes[router->count];
    memset(cr, 0, sizeof *cr);
    cr->pattern = reel_strdup(route->pattern);
    if (!cr->pattern || compile(cr, route->pattern) < 0) {
        reel_free(cr->pattern);
        for (int s = 0; s < cr->segment_count; s++)
            reel_free(cr->segments[s].text);
        memset(cr, 0, sizeof *cr);
        return -1;
    }
    cr->route = *route;
    cr->route.pattern = cr->pattern;
    cr->route.index = router->count;
    router->count++;
    return 0;
}

int http_router_count(const struct http_router *router)
{
    return router->count;
}

const struct http_route *http_router_route(const struct http_router *router, int index)
{
    return index >= 0 && index < router->count ? &router->routes[index].route : NULL;
}

/* Matches the path against one route; fills params on success. */
static bool match_path(const struct compiled_route *cr, const char *path,
                       struct http_request *req)
{
    const char *p = path;
    int nparams = 0;
    if (cr->segment_count == 0) {
        if (strcmp(path, "/") != 0)
            return false;
        if (req)
            req->param_count = 0;
        return true;
    }
    const char *values[HTTP_MAX_PARAMS];
    size_t lens[HTTP_MAX_PARAMS];
    const char *names[HTTP_MAX_PARAMS];
    for (int s = 0; s < cr->segment_count; s++) {
        const struct segment *seg = &cr->segments[s];
        if (*p != '/' || p[1] == '\0')
            return false;
        p++;
        size_t n = seg->rest ? strlen(p) : strcspn(p, "/");
        if (seg->param) {
            if (n <= seg->prefix_len || memcmp(p, seg->text, seg->prefix_len) != 0)
                return false;
            if (nparams >= HTTP_MAX_PARAMS)
                return false;
            values[nparams] = p + seg->prefix_len;
            lens[nparams] = n - seg->prefix_len;
            names[nparams] = seg->text + seg->prefix_len + 1;
            nparams++;
        } else if (strlen(seg->text) != n || memcmp(p, seg->text, n) != 0) {
            return false;
        }
        p += n;
    }
    if (*p != '\0')
        return false;
    if (!req)
        return true;
    for (int i = 0; i < nparams; i++) {
        req->params[i] = pool_strndup(req->pool, values[i], lens[i]);
        req->param_names[i] = names[i];
        if (!req->params[i])
            return false;
    }
    req->param_count = nparams;
    return true;
}

const struct http_route *http_router_match(const struct http_router *router,
                                           enum http_method method, const char *path,
                                           struct http_request *req, int *status, char *allow,
                                           size_t allow_size)
{
    bool methods[HTTP_METHOD_COUNT] = {false};
    bool path_known = false;
    enum http_method want = method == HTTP_HEAD ? HTTP_GET : method;
    for (int i = 0; i < router->count; i++) {
        const struct compiled_route *cr = &router->routes[i];
        if (cr->route.method == want || cr->route.method == method) {
            if (match_path(cr, path, req))
                return &cr->route;
        } else if (match_path(cr, path, NULL)) {
            path_known = true;
            methods[cr->route.method] = true;
        }
    }
    *status = 404;
    if (path_known) {
        *status = 405;
        if (methods[HTTP_GET])
            methods[HTTP_HEAD] = true;
        size_t o = 0;
        if (allow_size)
            allow[0] = '\0';
        for (int m = 0; m < HTTP_METHOD_COUNT && allow_size; m++) {
            if (!methods[m])
                continue;
            int n = snprintf(allow + o, allow_size - o, "%s%s", o ? ", " : "",
                             http_method_name((enum http_method)m));
            if (n < 0 || (size_t)n >= allow_size - o)
                break;
            o += (size_t)n;
        }
    }
    return NULL;
}

const char *http_method_name(enum http_method method)
{
    static const char *const names[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
    return (unsigned)method < HTTP_METHOD_COUNT ? names[method] : "?";
}
