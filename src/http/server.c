/*
 * server.c — the libmicrohttpd front (see http.h for a request's life).
 *
 * Threads: `threads` event threads ("lanes"), each a libmicrohttpd daemon of
 * its own with one epoll set (MHD_USE_EPOLL_INTERNAL_THREAD) and no listen
 * socket, and one acceptor thread that owns the listen socket and gives each
 * new connection to the lane with the fewest open (MHD_add_connection). With
 * libmicrohttpd's thread pool, every pool thread watched the listen socket
 * and the first one awake accepted everything queued: a client that opened
 * 8 keep-alive connections at once often had all of them on one thread,
 * which left the other core idle for the connections' lifetime (For You over
 * HTTP: 3,300-4,000 pages a second on those runs, 8,000-10,000 on the others
 * of the same binary). Handlers of
 * routes that may block (password hashing, fsync-bound writes, media work)
 * run on a separate worker pool: the connection is suspended, the job runs,
 * the response is queued on the suspended connection and the connection is
 * resumed. Cheap handlers (reads, /healthz, /metrics) run inline.
 *
 * Answer timing: a response is queued on the second or later call of the
 * access handler, never the first, except to refuse a request outright
 * (declared body too large, rate limited) before its body is read. Queueing
 * on the first call makes libmicrohttpd 0.9.75 close the connection, which is
 * what we want for a refusal and ruinous for throughput otherwise.
 *
 * Ownership: each request has a `struct request_ctx` allocated from its own
 * pool; libmicrohttpd hands it back on every call (con_cls) and the
 * completion callback records metrics, logs the line and destroys the pool.
 */
#include "http/http.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/workq.h"
#include "http/metrics.h"
#include "http/ratelimit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

/* One event thread: a daemon fed connections by the acceptor. */
struct http_lane {
    struct MHD_Daemon *daemon;
    /* Connections given to it and not closed yet: counted up by the acceptor
     * when it gives one (so a burst of accepts spreads before the lane has
     * even seen them) and down by the lane when one closes. */
    _Atomic long open;
};

struct http_server {
    struct http_lane *lanes;
    unsigned nlanes;
    int listen_fd;
    int stop_fd; /* eventfd: tells the acceptor to stop */
    pthread_t acceptor;
    bool acceptor_started;
    unsigned max_connections; /* open at once, all lanes together */
    const struct http_router *router;
    struct http_server_options opts;
    struct workq *blocking;
    struct ratelimit *rate_ip;
    struct ratelimit *rate_token;
    struct http_metrics *metrics;
    uint16_t port;
    _Atomic unsigned long suspended; /* connections waiting on the worker pool */
    /* What http_server_reload may change while requests run (the rest of
     * opts is fixed at start); the rate limits live in the limiters. */
    _Atomic size_t max_body_bytes;
    atomic_bool log_requests;
};

enum req_state { REQ_HEADERS, REQ_BODY, REQ_RUNNING, REQ_ANSWERED };

/* Bodies up to this size are read and dropped before a refusal is sent. */
#define DRAIN_LIMIT (8u << 20)

struct request_ctx {
    struct http_request req;
    struct http_server *server;
    struct MHD_Connection *conn;
    enum req_state state;
    struct buf body;
    bool body_overflow;  /* more than max_body arrived: discard, answer 413 */
    bool stream_stopped; /* the streaming callback answered early */
    uint64_t dropped;    /* body bytes read and dropped */
    size_t max_body;
    bool authenticated;     /* before_handler already ran (streaming routes, offloads) */
    bool offload;           /* a TRY_INLINE handler asked to run on the worker pool */
    bool deferred;          /* the handler answers later (http_request_defer) */
    atomic_int finish_refs; /* deferred: the worker and the completer; the last sends */
};

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decoding for paths and query values, as libmicrohttpd's own except
 * that "%00" is left as it is: a decoded NUL would silently cut a path or a
 * value short ("/static/app.js%00.png" -> "/static/app.js"). Left encoded,
 * it reaches the handlers' validation and is refused there. */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    char *out = s;
    for (const char *in = s; *in;) {
        int hi, lo;
        if (in[0] == '%' && (hi = hex_value(in[1])) >= 0 && (lo = hex_value(in[2])) >= 0 &&
            (hi | lo) != 0) {
            *out++ = (char)(hi * 16 + lo);
            in += 3;
        } else {
            *out++ = *in++;
        }
    }
    *out = '\0';
    return (size_t)(out - s);
}

static enum http_method parse_method(const char *m)
{
    static const char *const names[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
    for (int i = 0; i < HTTP_METHOD_COUNT; i++)
        if (strcmp(m, names[i]) == 0)
            return (enum http_method)i;
    return HTTP_METHOD_COUNT;
}

const char *http_request_header(struct http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_request_query(struct http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

static void format_client_address(struct MHD_Connection *conn, char *out, size_t size)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, size, "unknown");
    if (!info || !info->client_addr)
        return;
    const struct sockaddr *sa = info->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)size);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)size);
}

/* Each connection's client address, formatted once when it opens (a
 * keep-alive connection carries many requests): its socket context. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct http_lane *lane = cls;
    if (code == MHD_CONNECTION_NOTIFY_CLOSED)
        atomic_fetch_sub_explicit(&lane->open, 1, memory_order_relaxed);
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        char *addr = reel_malloc(HTTP_CLIENT_ADDR_MAX);
        if (addr)
            format_client_address(conn, addr, HTTP_CLIENT_ADDR_MAX);
        *socket_context = addr;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        reel_free(*socket_context);
        *socket_context = NULL;
    }
}

static void client_address(struct MHD_Connection *conn, char *out, size_t size)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (info && info->socket_context) {
        size_t n = strnlen(info->socket_context, size - 1);
        memcpy(out, info->socket_context, n);
        out[n] = '\0';
    } else {
        format_client_address(conn, out, size);
    }
}

/* Turns req->resp into a libmicrohttpd response and queues it. */
static enum MHD_Result send_response(struct request_ctx *ctx)
{
    struct http_request *req = &ctx->req;
    struct http_response *r = &req->resp;
    struct MHD_Response *response;
    if (r->status == 0)
        http_problem_status(req, 500, "the handler produced no response");
    if (r->fd >= 0) {
        response = MHD_create_response_from_fd_at_offset64(r->file_len, r->fd,
                                                           (uint64_t)r->file_offset);
        if (response)
            r->fd = -1; /* libmicrohttpd owns it now and closes it */
    } else {
        response = MHD_create_response_from_buffer(r->body_len, r->body, MHD_RESPMEM_PERSISTENT);
    }
    if (!response)
        return MHD_NO;
    if (r->content_type)
        MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    for (const struct http_response_header *h = r->headers; h; h = h->next)
        MHD_add_response_header(response, h->name, h->value);
    if (r->close_connection)
        MHD_add_response_header(response, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result rc = MHD_queue_response(ctx->conn, (unsigned)r->status, response);
    MHD_destroy_response(response);
    ctx->state = REQ_ANSWERED;
    return rc;
}

/* A closing refusal, queued before the body is read. */
static enum MHD_Result refuse(struct request_ctx *ctx)
{
    ctx->req.resp.close_connection = true;
    return send_response(ctx);
}

static void rate_limited(struct request_ctx *ctx, unsigned wait, const char *what)
{
    char detail[128], retry[16];
    snprintf(detail, sizeof detail, "too many requests from this %s; retry in %u s", what, wait);
    snprintf(retry, sizeof retry, "%u", wait);
    http_problem(&ctx->req, 429, "rate-limited", "Too Many Requests", detail, NULL);
    http_response_header(&ctx->req, "Retry-After", retry);
}

/* First call: set up the request, match the route, check limits. Returns
 * false if the request was refused outright (a response is queued). */
static bool begin_request(struct request_ctx *ctx, const char *url, const char *method)
{
    struct http_server *s = ctx->server;
    struct http_request *req = &ctx->req;
    req->method = parse_method(method);
    req->method_name = pool_strdup(req->pool, method);
    const char *q = strchr(url, '?');
    req->path = q ? pool_strndup(req->pool, url, (size_t)(q - url)) : url;
    req->path = req->path ? req->path : "/";
    client_address(ctx->conn, req->client_addr, sizeof req->client_addr);

    const char *cl = http_request_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
    req->content_length = UINT64_MAX;
    if (cl) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(cl, &end, 10);
        if (!errno && end != cl && *end == '\0')
            req->content_length = v;
    }

    /* A refused request with a small body is answered after its body has been
     * read and dropped: closing a connection with unread data makes the kernel
     * send a reset that can destroy the answer before the client reads it
     * (nginx's "lingering close" exists for the same reason). Large bodies are
     * refused at once and the connection closed. */
    bool drain = req->content_length == UINT64_MAX || req->content_length <= DRAIN_LIMIT;

    uint64_t now = clock_mono_ns();
    unsigned wait = ratelimit_take(s->rate_ip, req->client_addr, strlen(req->client_addr), now);
    if (wait) {
        rate_limited(ctx, wait, "address");
        return drain;
    }
    const char *auth = http_request_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
    if (auth && (wait = ratelimit_take(s->rate_token, auth, strlen(auth), now))) {
        rate_limited(ctx, wait, "token");
        return drain;
    }

    if (req->method == HTTP_METHOD_COUNT) {
        http_problem_status(req, 405, "this method is not supported");
        return drain;
    }
    int status = 0;
    char allow[80];
    req->route = http_router_match(s->router, req->method, req->path, req, &status, allow,
                                   sizeof allow);
    if (!req->route) {
        if (status == 405) {
            char detail[160];
            snprintf(detail, sizeof detail, "%s is not allowed here; allowed: %s", method, allow);
            http_problem(req, 405, "method-not-allowed", "Method Not Allowed", detail, NULL);
            http_response_header(req, "Allow", allow);
        } else {
            http_problem(req, 404, "not-found", "Not Found", "no such resource", NULL);
        }
        /* Answered after the body (if any) is drained, keeping the connection. */
        return true;
    }
    ctx->max_body = req->route->max_body
                        ? req->route->max_body
                        : atomic_load_explicit(&s->max_body_bytes, memory_order_relaxed);
    if (req->content_length != UINT64_MAX && req->content_length > ctx->max_body) {
        char detail[128];
        snprintf(detail, sizeof detail, "the body is larger than the limit of %zu bytes",
                 ctx->max_body);
        http_problem(req, 413, "payload-too-large", "Content Too Large", detail, NULL);
        return drain;
    }
    buf_init(&ctx->body, ctx->max_body);
    if (req->route->on_body) {
        /* A streaming route learns who is asking, and may refuse, before
         * the first byte of a possibly huge body is read. */
        ctx->authenticated = true;
        if (s->opts.before_handler)
            s->opts.before_handler(req);
        if (!req->resp.status && req->route->on_start)
            req->route->on_start(req);
        if (req->resp.status)
            return drain;
    }
    return true;
}

/* Returns false when the client keeps sending past what we are willing to
 * drop: the connection is then cut. */
static bool consume_body(struct request_ctx *ctx, const char *data, size_t len)
{
    struct http_request *req = &ctx->req;
    if (req->resp.status || ctx->body_overflow || ctx->stream_stopped) {
        ctx->dropped += len; /* already answered (404, 413...): drain */
        return ctx->dropped <= DRAIN_LIMIT;
    }
    if (req->route->on_body) {
        if (ctx->body.len + len > ctx->max_body) {
            ctx->body_overflow = true;
            return true;
        }
        ctx->body.len += len; /* count only; the route keeps the bytes */
        if (req->route->on_body(req, data, len) < 0)
            ctx->stream_stopped = true;
        return true;
    }
    int rc = buf_append(&ctx->body, data, len);
    if (rc == BUF_TOO_BIG)
        ctx->body_overflow = true;
    else if (rc != BUF_OK)
        http_problem_status(req, 503, "out of memory reading the body");
    return true;
}

static void run_handler(struct request_ctx *ctx)
{
    struct http_request *req = &ctx->req;
    if (!req->route->on_body) {
        req->body = ctx->body.data;
        req->body_len = ctx->body.len;
    }
    if (ctx->server->opts.before_handler && !ctx->authenticated) {
        ctx->server->opts.before_handler(req);
        ctx->authenticated = true; /* once, even if the handler runs again */
    }
    if (!req->resp.status)
        req->route->handler(req);
}

/* Sends the answer of a suspended request and wakes its connection. The
 * connection is suspended: queueing is allowed from any thread. */
static void finish_suspended(struct request_ctx *ctx)
{
    send_response(ctx);
    atomic_fetch_sub(&ctx->server->suspended, 1);
    MHD_resume_connection(ctx->conn);
}

static void blocking_job(void *arg)
{
    struct request_ctx *ctx = arg;
    run_handler(ctx);
    /* A deferred request is finished by whichever of this worker and
     * http_request_complete comes second; the first must not touch it after
     * dropping its reference. */
    if (ctx->deferred && atomic_fetch_sub(&ctx->finish_refs, 1) != 1)
        return;
    finish_suspended(ctx);
}

bool http_request_defer(struct http_request *req)
{
    struct request_ctx *ctx = (struct request_ctx *)req; /* req is its first member */
    if (ctx->state != REQ_RUNNING)
        return false; /* an inline route: its connection is not suspended */
    ctx->deferred = true;
    atomic_store(&ctx->finish_refs, 2);
    return true;
}

void http_request_complete(struct http_request *req)
{
    struct request_ctx *ctx = (struct request_ctx *)req;
    if (atomic_fetch_sub(&ctx->finish_refs, 1) == 1)
        finish_suspended(ctx);
}

bool http_request_inline(const struct http_request *req)
{
    const struct request_ctx *ctx = (const struct request_ctx *)req;
    return (req->route->flags & HTTP_ROUTE_TRY_INLINE) && ctx->state != REQ_RUNNING;
}

void http_request_offload(struct http_request *req)
{
    struct request_ctx *ctx = (struct request_ctx *)req;
    if (http_request_inline(req))
        ctx->offload = true;
}

static bool is_blocking(const struct http_route *route)
{
    if (route->flags & HTTP_ROUTE_BLOCKING)
        return true;
    if (route->flags & (HTTP_ROUTE_INLINE | HTTP_ROUTE_TRY_INLINE))
        return false;
    return route->method != HTTP_GET && route->method != HTTP_HEAD;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size,
                                 void **con_cls)
{
    struct http_server *s = cls;
    struct request_ctx *ctx = *con_cls;
    (void)version;

    if (!ctx) {
        struct pool *pool = pool_create(4096);
        if (!pool)
            return MHD_NO;
        ctx = pool_calloc(pool, 1, sizeof *ctx);
        if (!ctx) {
            pool_destroy(pool);
            return MHD_NO;
        }
        ctx->req.pool = pool;
        ctx->req.conn = conn;
        ctx->req.app = s->opts.app;
        ctx->req.resp.fd = -1;
        ctx->req.start_ns = clock_mono_ns();
        ctx->server = s;
        ctx->conn = conn;
        ctx->state = REQ_HEADERS;
        buf_init(&ctx->body, 0);
        *con_cls = ctx;
        if (!begin_request(ctx, url, method))
            return refuse(ctx);
        ctx->state = REQ_BODY;
        return MHD_YES;
    }

    if (ctx->state == REQ_ANSWERED || ctx->state == REQ_RUNNING)
        return MHD_YES;

    if (*upload_data_size) {
        bool keep = consume_body(ctx, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return keep ? MHD_YES : MHD_NO;
    }

    /* The whole request has arrived. */
    struct http_request *req = &ctx->req;
    if (req->resp.status)
        return send_response(ctx);
    if (ctx->body_overflow) {
        char detail[128];
        snprintf(detail, sizeof detail, "the body is larger than the limit of %zu bytes",
                 ctx->max_body);
        http_problem(req, 413, "payload-too-large", "Content Too Large", detail, NULL);
        return send_response(ctx);
    }
    if (!is_blocking(req->route)) {
        run_handler(ctx);
        if (!ctx->offload || req->resp.status)
            return send_response(ctx);
        /* The handler found it would wait: it runs again on a worker. */
    }
    ctx->state = REQ_RUNNING;
    atomic_fetch_add(&s->suspended, 1);
    MHD_suspend_connection(conn);
    if (workq_submit(s->blocking, blocking_job, ctx) < 0) {
        atomic_fetch_sub(&s->suspended, 1);
        http_problem_status(req, 503, "the server is busy; retry shortly");
        http_response_header(req, "Retry-After", "1");
        send_response(ctx);
        MHD_resume_connection(conn);
    }
    return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct http_server *s = cls;
    struct request_ctx *ctx = *con_cls;
    (void)conn;
    if (!ctx)
        return;
    struct http_request *req = &ctx->req;
    uint64_t elapsed = clock_mono_ns() - req->start_ns;
    int status = req->resp.status;
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && status == 0)
        status = 499; /* client went away before an answer */
    http_metrics_record(s->metrics, req->route ? req->route->index : -1, (int)req->method, status,
                        elapsed);
    if (atomic_load_explicit(&s->log_requests, memory_order_relaxed) &&
        log_get_level() <= LOG_INFO) {
        char path[256];
        log_info("event=request method=%s path=%s status=%d dur_us=%llu bytes_in=%zu client=%s%s",
                 req->method_name ? req->method_name : "?", log_quote(path, sizeof path, req->path),
                 status, (unsigned long long)(elapsed / 1000), ctx->body.len, req->client_addr,
                 toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=1");
    }
    if (req->resp.fd >= 0)
        close(req->resp.fd); /* a file response that never reached libmicrohttpd */
    buf_clear(&ctx->body);
    pool_destroy(req->pool);
    *con_cls = NULL;
}

/* The lane with the fewest open connections (the first of equals), and
 * how many are open in all. */
static struct http_lane *least_loaded(struct http_server *s, long *total)
{
    struct http_lane *best = &s->lanes[0];
    long fewest = atomic_load_explicit(&best->open, memory_order_relaxed);
    *total = fewest;
    for (unsigned i = 1; i < s->nlanes; i++) {
        long open = atomic_load_explicit(&s->lanes[i].open, memory_order_relaxed);
        *total += open;
        if (open < fewest) {
            fewest = open;
            best = &s->lanes[i];
        }
    }
    return best;
}

/* Waits up to ms for the stop signal; true once it came. */
static bool acceptor_stopping(struct http_server *s, int ms)
{
    struct pollfd p = {.fd = s->stop_fd, .events = POLLIN};
    return poll(&p, 1, ms) > 0;
}

/* Logs at most once a second per kind (*last: when it last logged). */
static bool log_due(int64_t *last)
{
    int64_t now = clock_mono_ms();
    if (now - *last < 1000)
        return false;
    *last = now;
    return true;
}

/* At most this many accepts between two looks at the stop signal: a client
 * that reconnects as fast as it is accepted must not keep stop waiting. */
#define ACCEPT_BATCH 64

static void *acceptor_main(void *arg)
{
    struct http_server *s = arg;
    struct pollfd p[2] = {{.fd = s->listen_fd, .events = POLLIN},
                          {.fd = s->stop_fd, .events = POLLIN}};
    int64_t last_refusal_log = INT64_MIN / 2, last_error_log = INT64_MIN / 2;
    for (;;) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            /* Out of memory for the poll, say: retried after a pause, so
             * that the server does not stop accepting for good. */
            if (log_due(&last_error_log))
                log_error("event=accept_failed error=\"poll: %s\" retry_ms=100", strerror(errno));
            if (acceptor_stopping(s, 100))
                return NULL;
            continue;
        }
        if (p[1].revents)
            return NULL;
        for (int n = 0; n < ACCEPT_BATCH; n++) {
            struct sockaddr_storage addr;
            socklen_t len = sizeof addr;
            int fd = accept4(s->listen_fd, (struct sockaddr *)&addr, &len,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) {
                if (errno == EINTR || errno == ECONNABORTED)
                    continue;
                if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                    /* The connection stays queued; retried after a pause
                     * rather than in a busy loop. */
                    if (log_due(&last_error_log))
                        log_warn("event=accept_failed error=\"%s\" retry_ms=100",
                                 strerror(errno));
                    if (acceptor_stopping(s, 100))
                        return NULL;
                }
                break; /* EAGAIN: nothing left */
            }
            long total;
            struct http_lane *lane = least_loaded(s, &total);
            /* The connection limit is kept here, for all lanes at once: a
             * lane that refused a connection at a limit of its own would
             * close it in its thread without a notification, and the
             * connection would stay counted open. */
            if (total >= (long)s->max_connections) {
                close(fd);
                if (log_due(&last_refusal_log))
                    log_warn("event=connection_refused reason=\"%ld connections open, the limit\"",
                             total);
                continue;
            }
            atomic_fetch_add_explicit(&lane->open, 1, memory_order_relaxed);
            /* On failure libmicrohttpd has closed the socket. A lane that
             * fails to start a connection later, in its own thread (out of
             * memory), closes it without a notification too: that one stays
             * counted, which only steers later connections to other lanes
             * and lowers the limit by one. */
            if (MHD_add_connection(lane->daemon, fd, (struct sockaddr *)&addr, len) != MHD_YES)
                atomic_fetch_sub_explicit(&lane->open, 1, memory_order_relaxed);
        }
    }
}

/* The listening socket (non-blocking, for the acceptor). Returns the fd or -1. */
static int listen_on(const struct sockaddr_storage *addr, socklen_t len)
{
    int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0 ||
        (addr->ss_family == AF_INET6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) < 0) ||
        bind(fd, (const struct sockaddr *)addr, len) < 0 || listen(fd, 1024) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int http_server_start(struct http_server **out, const struct http_server_options *opts,
                      const struct http_router *router, char *err, size_t errlen)
{
    struct http_server *s = reel_calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->listen_fd = s->stop_fd = -1;
    s->opts = *opts;
    atomic_init(&s->max_body_bytes, opts->max_body_bytes);
    atomic_init(&s->log_requests, opts->log_requests);
    s->router = router;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1)
        cores = 1;
    unsigned threads = opts->threads ? opts->threads : (unsigned)cores;
    unsigned blocking = opts->blocking_threads ? opts->blocking_threads : 4 * (unsigned)cores;
    s->blocking = workq_create(blocking, 4096);
    s->rate_ip = ratelimit_create(opts->rate_ip_per_s, opts->rate_ip_burst, 1 << 16);
    s->rate_token = ratelimit_create(opts->rate_token_per_s, opts->rate_token_burst, 1 << 16);
    s->metrics = http_metrics_create(router);
    s->lanes = reel_calloc(threads, sizeof *s->lanes);
    if (!s->blocking || !s->rate_ip || !s->rate_token || !s->metrics || !s->lanes) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }

    struct sockaddr_storage addr;
    memset(&addr, 0, sizeof addr);
    struct sockaddr_in *in4 = (struct sockaddr_in *)&addr;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&addr;
    socklen_t addr_len;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO |
                     MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC;
    if (inet_pton(AF_INET, opts->host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons(opts->port);
        addr_len = sizeof *in4;
    } else if (inet_pton(AF_INET6, opts->host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(opts->port);
        addr_len = sizeof *in6;
        flags |= MHD_USE_IPv6;
    } else {
        snprintf(err, errlen, "listen address %s is not an IPv4 or IPv6 address", opts->host);
        goto fail;
    }
    s->listen_fd = listen_on(&addr, addr_len);
    if (s->listen_fd < 0) {
        snprintf(err, errlen, "cannot listen on %s:%u (%s)", opts->host, (unsigned)opts->port,
                 strerror(errno));
        goto fail;
    }
    struct sockaddr_storage bound;
    socklen_t bound_len = sizeof bound;
    if (getsockname(s->listen_fd, (struct sockaddr *)&bound, &bound_len) < 0) {
        snprintf(err, errlen, "getsockname: %s", strerror(errno));
        goto fail;
    }
    s->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                : ((struct sockaddr_in *)&bound)->sin_port);

    s->max_connections = opts->max_connections ? opts->max_connections : 4096;
    for (unsigned i = 0; i < threads; i++) {
        struct http_lane *lane = &s->lanes[i];
        atomic_init(&lane->open, 0);
        lane->daemon = MHD_start_daemon(
            flags, 0, NULL, NULL, on_access, s,
            /* The acceptor keeps the limit; a lane would only meet it if
             * every connection were its own. */
            MHD_OPTION_CONNECTION_LIMIT, s->max_connections,
            MHD_OPTION_CONNECTION_TIMEOUT,
            opts->connection_timeout_s ? opts->connection_timeout_s : 30,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
            MHD_OPTION_NOTIFY_CONNECTION, on_connection, lane,
            MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
            /* Per-connection memory for headers and reads; libmicrohttpd clears it for
             * every request, so the default 32 KiB costs a measurable memset. */
            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(16 * 1024),
            MHD_OPTION_END);
        if (!lane->daemon) {
            snprintf(err, errlen, "cannot start HTTP event thread %u of %u", i + 1, threads);
            goto fail;
        }
        s->nlanes = i + 1;
    }
    s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->stop_fd < 0) {
        snprintf(err, errlen, "eventfd: %s", strerror(errno));
        goto fail;
    }
    int rc = pthread_create(&s->acceptor, NULL, acceptor_main, s);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the acceptor thread: %s", strerror(rc));
        goto fail;
    }
    s->acceptor_started = true;
    *out = s;
    return 0;
fail:
    http_server_stop(s);
    return -1;
}

void http_server_reload(struct http_server *s, const struct http_server_options *opts)
{
    atomic_store_explicit(&s->max_body_bytes, opts->max_body_bytes, memory_order_relaxed);
    atomic_store_explicit(&s->log_requests, opts->log_requests, memory_order_relaxed);
    ratelimit_set(s->rate_ip, opts->rate_ip_per_s, opts->rate_ip_burst);
    ratelimit_set(s->rate_token, opts->rate_token_per_s, opts->rate_token_burst);
}

uint16_t http_server_port(const struct http_server *server)
{
    return server->port;
}

void http_server_stop(struct http_server *s)
{
    if (!s)
        return;
    /* Stop accepting. */
    if (s->acceptor_started) {
        uint64_t one = 1;
        if (write(s->stop_fd, &one, sizeof one) != (ssize_t)sizeof one)
            log_error("event=http_stop_signal_failed error=\"%s\"", strerror(errno));
        pthread_join(s->acceptor, NULL);
    }
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    if (s->stop_fd >= 0)
        close(s->stop_fd);
    if (s->nlanes) {
        /* Let suspended requests finish before the daemons go away. */
        for (int i = 0; i < 3000 && atomic_load(&s->suspended); i++)
            usleep(1000);
        for (unsigned i = 0; i < s->nlanes; i++)
            MHD_stop_daemon(s->lanes[i].daemon);
    }
    reel_free(s->lanes);
    workq_destroy(s->blocking);
    ratelimit_destroy(s->rate_ip);
    ratelimit_destroy(s->rate_token);
    http_metrics_destroy(s->metrics);
    reel_free(s);
}

char *http_server_metrics(struct http_server *server, size_t *len)
{
    struct buf out;
    buf_init(&out, 16u << 20);
    if (http_metrics_render(server->metrics, &out) != BUF_OK) {
        buf_clear(&out);
        return NULL;
    }
    return buf_steal(&out, len);
}
