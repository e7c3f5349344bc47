/*
 * metrics.h — request counters and latency histograms for /metrics
 * (Prometheus text exposition format 0.0.4).
 *
 * Counters are relaxed atomics in fixed arrays indexed by route and status
 * class, so recording a request is a handful of uncontended increments and
 * never allocates. Route index -1 counts requests that matched no route.
 */
#ifndef REEL_HTTP_METRICS_H
#define REEL_HTTP_METRICS_H

#include "core/buf.h"

#include <stdint.h>

struct http_router;
struct http_metrics;

struct http_metrics *http_metrics_create(const struct http_router *router);
void http_metrics_destroy(struct http_metrics *m);
/* Records one finished request. */
void http_metrics_record(struct http_metrics *m, int route_index, int method, int status,
                         uint64_t duration_ns);
/* Appends the exposition text to out. Returns BUF_OK or a buf error. */
int http_metrics_render(struct http_metrics *m, struct buf *out);

#endif
