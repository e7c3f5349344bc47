/*
 * The router: literal and parameter segments, 404 vs 405 with Allow, HEAD.
 */
#include "http/http.h"

#include <criterion/criterion.h>
#include <string.h>

static void h(struct http_request *req)
{
    (void)req;
}

static struct http_router *router;
static struct pool *pool;

static void setup(void)
{
    router = http_router_create();
    pool = pool_create(0);
    static const struct http_route routes[] = {
        {.method = HTTP_GET, .pattern = "/", .handler = h},
        {.method = HTTP_GET, .pattern = "/healthz", .handler = h},
        {.method = HTTP_GET, .pattern = "/api/v1/users/@{username}", .handler = h},
        {.method = HTTP_GET, .pattern = "/api/v1/users/{id}", .handler = h},
        {.method = HTTP_PUT, .pattern = "/api/v1/users/{id}/follow", .handler = h},
        {.method = HTTP_DELETE, .pattern = "/api/v1/users/{id}/follow", .handler = h},
        {.method = HTTP_GET, .pattern = "/media/{video_id}/{file}", .handler = h},
        {.method = HTTP_GET, .pattern = "/static/{*path}", .handler = h},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        cr_assert_eq(http_router_add(router, &routes[i]), 0);
}

static void teardown(void)
{
    http_router_destroy(router);
    pool_destroy(pool);
}

static const struct http_route *match(enum http_method m, const char *path, struct http_request *req,
                                      int *status, char *allow)
{
    memset(req, 0, sizeof *req);
    req->pool = pool;
    return http_router_match(router, m, path, req, status, allow, 64);
}

TestSuite(router, .init = setup, .fini = teardown);

Test(router, literal_and_params)
{
    struct http_request req;
    int status;
    char allow[64];
    const struct http_route *r = match(HTTP_GET, "/api/v1/users/123", &req, &status, allow);
    cr_assert_not_null(r);
    cr_assert_str_eq(r->pattern, "/api/v1/users/{id}");
    cr_assert_str_eq(http_request_param(&req, "id"), "123");

    r = match(HTTP_GET, "/api/v1/users/@alice", &req, &status, allow);
    cr_assert_str_eq(r->pattern, "/api/v1/users/@{username}");
    cr_assert_str_eq(http_request_param(&req, "username"), "alice");

    r = match(HTTP_GET, "/media/77/720.mp4", &req, &status, allow);
    cr_assert_str_eq(http_request_param(&req, "video_id"), "77");
    cr_assert_str_eq(http_request_param(&req, "file"), "720.mp4");

    r = match(HTTP_GET, "/static/js/app.js", &req, &status, allow);
    cr_assert_str_eq(http_request_param(&req, "path"), "js/app.js");
}

Test(router, not_found)
{
    struct http_request req;
    int status = 0;
    char allow[64];
    const char *paths[] = {"", "/healthz/", "/healthzz", "/api/v1/users", "/api/v1/users/",
                           "/api/v1/users/1/follow/x", "/media/1", "//healthz", "healthz", NULL};
    for (int i = 0; paths[i]; i++) {
        cr_assert_null(match(HTTP_GET, paths[i], &req, &status, allow), "%s matched", paths[i]);
        cr_assert_eq(status, 404, "%s", paths[i]);
    }
}

Test(router, method_not_allowed_lists_allowed)
{
    struct http_request req;
    int status = 0;
    char allow[64];
    cr_assert_null(match(HTTP_POST, "/api/v1/users/5/follow", &req, &status, allow));
    cr_assert_eq(status, 405);
    cr_assert_str_eq(allow, "PUT, DELETE");
    cr_assert_null(match(HTTP_DELETE, "/healthz", &req, &status, allow));
    cr_assert_eq(status, 405);
    cr_assert_str_eq(allow, "GET, HEAD");
}

Test(router, root)
{
    struct http_request req;
    int status;
    char allow[64];
    const struct http_route *r = match(HTTP_GET, "/", &req, &status, allow);
    cr_assert_not_null(r);
    cr_assert_str_eq(r->pattern, "/");
    cr_assert_null(match(HTTP_GET, "//", &req, &status, allow));
}

Test(router, head_matches_get)
{
    struct http_request req;
    int status;
    char allow[64];
    cr_assert_not_null(match(HTTP_HEAD, "/healthz", &req, &status, allow));
}

Test(router, bad_patterns_refused)
{
    const char *bad[] = {"nolead", "/a/{}", "/a/{*rest}/b", "/a/{open", NULL};
    for (int i = 0; bad[i]; i++) {
        struct http_route r = {.method = HTTP_GET, .pattern = bad[i], .handler = h};
        cr_assert_eq(http_router_add(router, &r), -1, "%s accepted", bad[i]);
    }
}
