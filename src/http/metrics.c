/*
 * metrics.c — see metrics.h.
 */
#include "http/metrics.h"

#include "core/alloc.h"
#include "http/http.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/* Statuses the API answers with; anything else is counted as "other". */
static const int tracked_status[] = {200, 201, 202, 204, 206, 304, 400, 401, 403, 404, 405, 409,
                                     410, 411, 413, 415, 416, 421, 422, 429, 500, 501, 503};
#define STATUS_SLOTS (sizeof tracked_status / sizeof tracked_status[0] + 1)

static const double bucket_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                       0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5, 5, 10};
#define BUCKETS (sizeof bucket_bounds / sizeof bucket_bounds[0])

struct route_metrics {
    _Atomic uint64_t requests[HTTP_METHOD_COUNT][STATUS_SLOTS];
    _Atomic uint64_t buckets[BUCKETS + 1]; /* last = +Inf */
    _Atomic uint64_t duration_ns_sum;
};

struct http_metrics {
    const struct http_router *router;
    int route_count;
    struct route_metrics *routes; /* route_count + 1; the last is "unmatched" */
};

struct http_metrics *http_metrics_create(const struct http_router *router)
{
    struct http_metrics *m = reel_calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->router = router;
    m->route_count = http_router_count(router);
    m->routes = reel_calloc((size_t)m->route_count + 1, sizeof *m->routes);
    if (!m->routes) {
        reel_free(m);
        return NULL;
    }
    return m;
}

void http_metrics_destroy(struct http_metrics *m)
{
    if (!m)
        return;
    reel_free(m->routes);
    reel_free(m);
}

static size_t status_slot(int status)
{
    for (size_t i = 0; i < STATUS_SLOTS - 1; i++)
        if (tracked_status[i] == status)
            return i;
    return STATUS_SLOTS - 1;
}

void http_metrics_record(struct http_metrics *m, int route_index, int method, int status,
                         uint64_t duration_ns)
{
    if (route_index < 0 || route_index >= m->route_count)
        route_index = m->route_count;
    if (method < 0 || method >= HTTP_METHOD_COUNT)
        method = HTTP_GET;
    struct route_metrics *r = &m->routes[route_index];
    atomic_fetch_add_explicit(&r->requests[method][status_slot(status)], 1, memory_order_relaxed);
    double seconds = (double)duration_ns / 1e9;
    size_t b = 0;
    while (b < BUCKETS && seconds > bucket_bounds[b])
        b++;
    atomic_fetch_add_explicit(&r->buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->duration_ns_sum, duration_ns, memory_order_relaxed);
}

int http_metrics_render(struct http_metrics *m, struct buf *out)
{
    int rc = buf_append_str(out,
                            "# HELP reel_http_requests_total HTTP requests by route, method and status.\n"
                            "# TYPE reel_http_requests_total counter\n");
    for (int i = 0; i <= m->route_count && rc == BUF_OK; i++) {
        const char *route = i < m->route_count ? http_router_route(m->router, i)->pattern
                                               : "unmatched";
        for (int meth = 0; meth < HTTP_METHOD_COUNT; meth++) {
            for (size_t s = 0; s < STATUS_SLOTS && rc == BUF_OK; s++) {
                uint64_t v = atomic_load_explicit(&m->routes[i].requests[meth][s],
                                                  memory_order_relaxed);
                if (!v)
                    continue;
                char status[8];
                if (s < STATUS_SLOTS - 1)
                    snprintf(status, sizeof status, "%d", tracked_status[s]);
                else
                    snprintf(status, sizeof status, "other");
                rc = buf_printf(out,
                                "reel_http_requests_total{route=\"%s\",method=\"%s\",status=\"%s\"} %llu\n",
                                route, http_method_name((enum http_method)meth), status,
                                (unsigned long long)v);
            }
        }
    }
    if (rc == BUF_OK)
        rc = buf_append_str(out,
                            "# HELP reel_http_request_duration_seconds Time from request to response.\n"
                            "# TYPE reel_http_request_duration_seconds histogram\n");
    for (int i = 0; i <= m->route_count && rc == BUF_OK; i++) {
        struct route_metrics *r = &m->routes[i];
        uint64_t counts[BUCKETS + 1], total = 0;
        for (size_t b = 0; b <= BUCKETS; b++) {
            counts[b] = atomic_load_explicit(&r->buckets[b], memory_order_relaxed);
            total += counts[b];
        }
        if (!total)
            continue;
        const char *route = i < m->route_count ? http_router_route(m->router, i)->pattern
                                               : "unmatched";
        uint64_t cumulative = 0;
        for (size_t b = 0; b < BUCKETS && rc == BUF_OK; b++) {
            cumulative += counts[b];
            rc = buf_printf(out,
                            "reel_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                            route, bucket_bounds[b], (unsigned long long)cumulative);
        }
        if (rc == BUF_OK)
            rc = buf_printf(out,
                            "reel_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n"
                            "reel_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
                            "reel_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
                            route, (unsigned long long)total, route,
                            (double)atomic_load_explicit(&r->duration_ns_sum, memory_order_relaxed) / 1e9,
                            route, (unsigned long long)total);
    }
    return rc;
}
