/*
 * health.c — operations endpoints: GET /healthz and GET /metrics.
 */
#include "api/api.h"

#include "core/alloc.h"

static void get_healthz(struct http_request *req)
{
    static const char body[] = "{\"status\":\"ok\"}";
    http_respond(req, 200, "application/json", body, sizeof body - 1);
}

static void get_metrics(struct http_request *req)
{
    struct app *app = api_app(req);
    size_t len = 0;
    char *text = app->server ? http_server_metrics(app->server, &len) : NULL;
    if (!text) {
        http_problem_status(req, 503, "metrics are not available");
        return;
    }
    http_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    reel_free(text);
}

int api_health_register(struct http_router *router)
{
    static const struct http_route routes[] = {
        {.method = HTTP_GET, .pattern = "/healthz", .handler = get_healthz},
        {.method = HTTP_GET, .pattern = "/metrics", .handler = get_metrics},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (http_router_add(router, &routes[i]) < 0)
            return -1;
    return 0;
}
