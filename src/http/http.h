/*
 * http.h — the HTTP front's interface to the rest of Reel.
 *
 * http/ is the only subsystem that includes libmicrohttpd. What it exposes is
 * a plain request/response model: api/ registers routes on a router, and a
 * route's handler reads a `struct http_request` and fills its response.
 *
 * Life of a request (server.c):
 *   1. headers arrive: the route is matched (404/405 decided), the client's
 *      rate limits are checked (429), and a declared Content-Length over the
 *      route's body limit is refused at once (413, the body is never read);
 *   2. the body is read into a capped buffer — or, for a streaming route,
 *      authenticated and started (on_start, which may refuse before a byte
 *      is read) and then handed piece by piece to on_body (uploads);
 *   3. the handler runs: inline on the event thread for cheap routes, or on
 *      the blocking worker pool (connection suspended meanwhile) for routes
 *      that hash passwords, fsync or transcode;
 *   4. the response is sent; the request is logged (one key=value line),
 *      counted in /metrics, and its pool is freed.
 *
 * Memory: each request has a pool (req->pool) freed after the response is
 * sent. Strings returned by the accessors below live in it or in
 * libmicrohttpd's connection and are valid until the handler returns.
 */
#ifndef REEL_HTTP_HTTP_H
#define REEL_HTTP_HTTP_H

#include "core/pool.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum http_method {
    HTTP_GET,
    HTTP_HEAD,
    HTTP_POST,
    HTTP_PUT,
    HTTP_PATCH,
    HTTP_DELETE,
    HTTP_OPTIONS,
    HTTP_METHOD_COUNT,
};

#define HTTP_MAX_PARAMS 4
#define HTTP_CLIENT_ADDR_MAX 64 /* a formatted IPv6 address fits */

struct http_request;
typedef void (*http_handler_fn)(struct http_request *req);
/* Streaming body callback: called with each piece of the body as it arrives.
 * Return 0 to continue; or respond (http_problem...) and return -1 to stop
 * reading — the connection is then closed after the response. */
typedef int (*http_body_fn)(struct http_request *req, const char *data, size_t len);

enum http_route_flags {
    HTTP_ROUTE_BLOCKING = 1 << 0, /* run the handler on the worker pool */
    HTTP_ROUTE_INLINE = 1 << 1,   /* run on the event thread even if not GET */
    /* Run on the event thread; the handler hands itself over to the worker
     * pool (http_request_offload) when it finds it would have to wait. */
    HTTP_ROUTE_TRY_INLINE = 1 << 2,
};

struct http_route {
    enum http_method method;
    const char *pattern;  /* "/api/v1/users/{id}/follow"; a final "{*rest}" takes the rest */
    http_handler_fn handler;
    http_body_fn on_body; /* NULL: the body is buffered (up to max_body) */
    /* Streaming routes only (may be NULL): called once on the event thread
     * when the headers have arrived — after authentication (before_handler),
     * before any byte of the body is read — to set up req->user_data or to
     * refuse. An answer given here (401, 413, 429...) is sent without
     * reading the body: a body declared larger than a few MiB is cut off,
     * a smaller one is read and dropped first so the answer reaches the
     * client. */
    http_handler_fn on_start;
    size_t max_body;      /* 0: the server default ([limits] max_body_bytes) */
    unsigned flags;
    int index;            /* set by the router: position, for metrics */
};

struct http_response_header {
    const char *name;
    const char *value;
    struct http_response_header *next;
};

struct http_response {
    int status;                 /* 0 = not answered yet */
    const char *content_type;
    char *body;                 /* owned by the request (pool or registered cleanup) */
    size_t body_len;
    int fd;                     /* >= 0: send len bytes of this file from offset */
    off_t file_offset;
    uint64_t file_len;
    bool close_connection;
    struct http_response_header *headers;
};

struct http_request {
    struct pool *pool;
    enum http_method method;
    const char *method_name;
    const char *path;                  /* without the query string */
    const struct http_route *route;    /* NULL if nothing matched */
    const char *params[HTTP_MAX_PARAMS];
    const char *param_names[HTTP_MAX_PARAMS];
    int param_count;
    const char *body;                  /* buffered body (NUL-terminated), or NULL */
    size_t body_len;
    uint64_t content_length;           /* declared, or UINT64_MAX if absent */
    char client_addr[HTTP_CLIENT_ADDR_MAX];
    void *app;                         /* the application context given to the server */
    void *user_data;                   /* free for the route's use (streaming state) */
    /* Filled by the application's authentication (api/auth.c). */
    uint64_t user_id;
    uint64_t session_id;
    struct http_response resp;
    /* Internal to server.c. */
    void *conn;
    uint64_t start_ns;
};

/* ---- reading the request ----------------------------------------------- */

/* A request header (case-insensitive name), or NULL. */
const char *http_request_header(struct http_request *req, const char *name);
/* A decoded query parameter, or NULL. */
const char *http_request_query(struct http_request *req, const char *name);
/* A path parameter by name ("id" for "{id}"), or NULL. */
const char *http_request_param(const struct http_request *req, const char *name);
/* Parses the buffered body as a JSON object. On failure answers 400/415 with
 * problem+json and returns NULL. The value is released with the request. */
json_t *http_request_json(struct http_request *req);

/* ---- answering --------------------------------------------------------- */

/* Sets the response: status, type and body bytes (copied into the pool). */
void http_respond(struct http_request *req, int status, const char *content_type,
                  const char *body, size_t len);
/* Sets the response to body bytes the caller allocated with reel_malloc;
 * the request takes ownership and frees them after sending (also on
 * failure). */
void http_respond_owned(struct http_request *req, int status, const char *content_type,
                        char *body, size_t len);
/* Serialises a JSON value (the reference is consumed) with status. */
void http_respond_json(struct http_request *req, int status, json_t *value);
/* An empty response (204, 202...). */
void http_respond_empty(struct http_request *req, int status);
/* Sends `len` bytes of an open file from `offset` (zero-copy where the platform
 * allows). The server takes ownership of fd and closes it. */
void http_respond_file(struct http_request *req, int status, const char *content_type, int fd,
                       off_t offset, uint64_t len);
/* Adds a response header (both strings copied into the pool). */
void http_response_header(struct http_request *req, const char *name, const char *value);

/* RFC 9457 problem+json. `type` is a short slug ("validation-error") turned
 * into "/problems/<slug>"; errors (may be NULL) is a JSON array of
 * {"field","message"} and is consumed. */
void http_problem(struct http_request *req, int status, const char *type, const char *title,
                  const char *detail, json_t *errors);
/* Shorthands for the common problems. */
void http_problem_status(struct http_request *req, int status, const char *detail);

/* Builds one {"field","message"} entry and appends it to *errors (created on
 * first use). Returns 0 or -1 when out of memory. */
int http_errors_add(json_t **errors, const char *field, const char *message);

/* Deferred answers, for blocking routes whose work finishes on another
 * thread (an event batch waiting for the log's group fsync), so the request
 * does not hold a worker while it waits. The handler calls
 * http_request_defer — true if the request may be deferred (it runs on the
 * worker pool; false on an inline route) — hands req to the other thread
 * and returns without touching req again; that thread fills the response
 * (http_respond...) and calls http_request_complete exactly once, which
 * sends it. */
bool http_request_defer(struct http_request *req);
void http_request_complete(struct http_request *req);

/* Routes flagged HTTP_ROUTE_TRY_INLINE, whose work is usually a few tens of
 * microseconds in memory but may have to wait (a lock, a store read, another
 * thread catching up): handing every request to the worker pool would cost
 * more than the work (a suspend, two thread wake-ups, a resume), so the
 * handler runs on the event thread and asks http_request_inline whether it
 * may wait. When it may not and would have to, it calls
 * http_request_offload before answering anything and returns: the request
 * then runs again, from the start of the handler, on the worker pool. */
bool http_request_inline(const struct http_request *req);
void http_request_offload(struct http_request *req);

/* ---- routing ----------------------------------------------------------- */

struct http_router;

struct http_router *http_router_create(void);
void http_router_destroy(struct http_router *router);
/* Registers a route (copied). Returns 0 or -1 (bad pattern, too many). */
int http_router_add(struct http_router *router, const struct http_route *route);
/* Matches method and path. Returns the route and fills params, or NULL with
 * *status set to 404 (no such path) or 405 (path exists, method does not; then
 * `allow` holds the allowed methods, "GET, HEAD"). HEAD matches GET routes. */
const struct http_route *http_router_match(const struct http_router *router,
                                           enum http_method method, const char *path,
                                           struct http_request *req, int *status, char *allow,
                                           size_t allow_size);
int http_router_count(const struct http_router *router);
const struct http_route *http_router_route(const struct http_router *router, int index);

/* ---- the server -------------------------------------------------------- */

struct http_server_options {
    const char *host;
    uint16_t port;          /* 0 = any free port */
    unsigned threads;       /* event threads; 0 = cores */
    unsigned blocking_threads; /* worker pool for blocking handlers; 0 = 4 x cores */
    unsigned max_connections;
    unsigned connection_timeout_s;
    size_t max_body_bytes;
    unsigned rate_ip_per_s, rate_ip_burst;
    unsigned rate_token_per_s, rate_token_burst;
    bool log_requests;
    void *app;
    /* Called for every request before its handler (authentication); may
     * answer (401) to stop it. NULL: none. */
    void (*before_handler)(struct http_request *req);
};

struct http_server;

/* Binds and starts serving. Returns 0 and *out, or -1 with a message. */
int http_server_start(struct http_server **out, const struct http_server_options *opts,
                      const struct http_router *router, char *err, size_t errlen);
/* Applies the options that may change while the server runs (config
 * reload): max_body_bytes, the rate limits (rate_*) and log_requests; the
 * others are ignored (they need a restart). Safe while requests are served:
 * a request uses the values it read when it began. */
void http_server_reload(struct http_server *server, const struct http_server_options *opts);
/* The port actually bound (useful with port 0). */
uint16_t http_server_port(const struct http_server *server);
/* Stops accepting, finishes requests in flight, joins threads, frees. */
void http_server_stop(struct http_server *server);

/* Prometheus text for the server's counters (appended to by /metrics). */
char *http_server_metrics(struct http_server *server, size_t *len);

const char *http_method_name(enum http_method method);
const char *http_status_reason(int status);

#endif
