/*
 * The server's three ways of running a handler, over a real loopback socket:
 * inline on the event thread, on the worker pool (HTTP_ROUTE_BLOCKING), and
 * HTTP_ROUTE_TRY_INLINE, which starts on the event thread and moves to the
 * worker pool when the handler calls http_request_offload.
 */
#include "http/http.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* What one handler call saw. */
struct call {
    bool inline_run;
    pthread_t thread;
    char client[HTTP_CLIENT_ADDR_MAX];
};

static struct call calls[8];
static atomic_int ncalls;
static atomic_int authenticated;

static void record(struct http_request *req)
{
    int i = atomic_fetch_add(&ncalls, 1);
    if (i < 8) {
        calls[i] = (struct call){.inline_run = http_request_inline(req), .thread = pthread_self()};
        memcpy(calls[i].client, req->client_addr, sizeof calls[i].client);
    }
}

static void answer(struct http_request *req)
{
    char body[64];
    int n = snprintf(body, sizeof body, "user=%llu", (unsigned long long)req->user_id);
    http_respond(req, 200, "text/plain", body, (size_t)n);
}

/* Moves to the worker pool when asked to (?wait=1) and on the event thread. */
static void try_inline(struct http_request *req)
{
    record(req);
    const char *wait = http_request_query(req, "wait");
    if (wait && http_request_inline(req)) {
        http_request_offload(req);
        return;
    }
    answer(req);
}

/* Answers and then asks to be offloaded: the answer is sent as it is. */
static void answers_then_offloads(struct http_request *req)
{
    record(req);
    answer(req);
    http_request_offload(req);
}

/* An inline route may not offload: the call changes nothing. */
static void plain(struct http_request *req)
{
    record(req);
    http_request_offload(req);
    answer(req);
}

static void blocking(struct http_request *req)
{
    record(req);
    answer(req);
}

static void before(struct http_request *req)
{
    atomic_fetch_add(&authenticated, 1);
    req->user_id = 42;
}

static struct http_router *router;
static struct http_server *server;

static void setup(void)
{
    atomic_store(&ncalls, 0);
    atomic_store(&authenticated, 0);
    router = http_router_create();
    static const struct http_route routes[] = {
        {.method = HTTP_GET, .pattern = "/try", .handler = try_inline,
         .flags = HTTP_ROUTE_TRY_INLINE},
        {.method = HTTP_GET, .pattern = "/answered", .handler = answers_then_offloads,
         .flags = HTTP_ROUTE_TRY_INLINE},
        {.method = HTTP_GET, .pattern = "/plain", .handler = plain},
        {.method = HTTP_GET, .pattern = "/blocking", .handler = blocking,
         .flags = HTTP_ROUTE_BLOCKING},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        cr_assert_eq(http_router_add(router, &routes[i]), 0);
    struct http_server_options opts = {.host = "127.0.0.1", .threads = 1, .blocking_threads = 1,
                                       .before_handler = before};
    char err[256];
    cr_assert_eq(http_server_start(&server, &opts, router, err, sizeof err), 0, "%s", err);
}

static void teardown(void)
{
    http_server_stop(server);
    http_router_destroy(router);
}

/* One GET on a fresh connection; returns the status and copies the body. */
static int get(const char *path, char *body, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(http_server_port(server))};
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    cr_assert_eq(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    char req[256];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    cr_assert_eq(write(fd, req, (size_t)n), n);
    char resp[4096];
    size_t got = 0;
    ssize_t r;
    while (got < sizeof resp - 1 && (r = read(fd, resp + got, sizeof resp - 1 - got)) > 0)
        got += (size_t)r;
    close(fd);
    resp[got] = '\0';
    int status = 0;
    cr_assert_eq(sscanf(resp, "HTTP/1.1 %d", &status), 1, "no status line in: %s", resp);
    const char *b = strstr(resp, "\r\n\r\n");
    cr_assert_not_null(b);
    snprintf(body, cap, "%s", b + 4);
    return status;
}

TestSuite(server, .init = setup, .fini = teardown);

Test(server, try_inline_route_answers_on_the_event_thread)
{
    char body[64];
    cr_assert_eq(get("/try", body, sizeof body), 200);
    cr_assert_str_eq(body, "user=42");
    cr_assert_eq(atomic_load(&ncalls), 1);
    cr_assert(calls[0].inline_run);
    cr_assert_eq(atomic_load(&authenticated), 1);
    cr_assert_str_eq(calls[0].client, "127.0.0.1", "the connection's client address");
}

Test(server, an_offloaded_request_runs_again_on_a_worker_authenticated_once)
{
    char body[64];
    cr_assert_eq(get("/try?wait=1", body, sizeof body), 200);
    cr_assert_str_eq(body, "user=42", "the second run keeps what authentication set");
    cr_assert_eq(atomic_load(&ncalls), 2);
    cr_assert(calls[0].inline_run);
    cr_assert_not(calls[1].inline_run);
    cr_assert_not(pthread_equal(calls[0].thread, calls[1].thread),
                  "the second run is on a worker thread");
    cr_assert_eq(atomic_load(&authenticated), 1, "authentication ran once");

    /* The connection's event thread is free again: the next one is inline. */
    cr_assert_eq(get("/try", body, sizeof body), 200);
    cr_assert_eq(atomic_load(&ncalls), 3);
    cr_assert(calls[2].inline_run);
    cr_assert(pthread_equal(calls[0].thread, calls[2].thread));
}

Test(server, an_answer_given_before_offloading_is_sent_as_it_is)
{
    char body[64];
    cr_assert_eq(get("/answered", body, sizeof body), 200);
    cr_assert_str_eq(body, "user=42");
    cr_assert_eq(atomic_load(&ncalls), 1);
}

Test(server, only_try_inline_routes_offload)
{
    char body[64];
    cr_assert_eq(get("/plain", body, sizeof body), 200);
    cr_assert_eq(atomic_load(&ncalls), 1);
    cr_assert_not(calls[0].inline_run, "http_request_inline is false on a plain route");

    cr_assert_eq(get("/blocking", body, sizeof body), 200);
    cr_assert_eq(atomic_load(&ncalls), 2);
    cr_assert_not(calls[1].inline_run);
    cr_assert_not(pthread_equal(calls[0].thread, calls[1].thread));
}

/* A read that waits more than 10 s fails the test instead of hanging it. */
static void set_read_timeout(int fd)
{
    struct timeval tv = {.tv_sec = 10};
    cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
}

/* Reads one response to a /plain request on a kept-alive connection. */
static void read_answer(int fd)
{
    char resp[1024] = "";
    size_t got = 0;
    const char *end;
    while (!((end = strstr(resp, "\r\n\r\n")) && strstr(end, "user=42"))) {
        cr_assert_lt(got, sizeof resp - 1, "no whole answer in %zu bytes", got);
        ssize_t r = read(fd, resp + got, sizeof resp - 1 - got);
        cr_assert_gt(r, 0, "the connection closed before its answer");
        got += (size_t)r;
        resp[got] = '\0';
    }
    cr_assert(strncmp(resp, "HTTP/1.1 200", 12) == 0, "%s", resp);
}

/* Eight keep-alive connections opened at once are shared evenly by two
 * event threads: each new connection goes to the thread with the fewest
 * open. (With libmicrohttpd's own thread pool, the first thread awake took
 * every queued connection, and one core served them all.) */
Test(server, connections_opened_together_are_spread_over_the_event_threads)
{
    http_server_stop(server);
    server = NULL;
    struct http_server_options opts = {.host = "127.0.0.1", .threads = 2, .blocking_threads = 1,
                                       .before_handler = before};
    char err[256];
    cr_assert_eq(http_server_start(&server, &opts, router, err, sizeof err), 0, "%s", err);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(http_server_port(server))};
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    int fds[8];
    for (int i = 0; i < 8; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        cr_assert_geq(fds[i], 0);
        set_read_timeout(fds[i]);
        cr_assert_eq(connect(fds[i], (struct sockaddr *)&addr, sizeof addr), 0);
    }
    static const char req[] = "GET /plain HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    for (int i = 0; i < 8; i++) {
        cr_assert_eq(write(fds[i], req, sizeof req - 1), (ssize_t)(sizeof req - 1));
        read_answer(fds[i]);
    }
    cr_assert_eq(atomic_load(&ncalls), 8);
    int on_first = 0;
    for (int i = 0; i < 8; i++)
        on_first += pthread_equal(calls[i].thread, calls[0].thread) != 0;
    cr_assert_eq(on_first, 4, "%d of 8 connections on one event thread, not 4", on_first);
    /* A second request on each stays on its connection's thread. */
    pthread_t first[8];
    for (int i = 0; i < 8; i++)
        first[i] = calls[i].thread;
    for (int i = 0; i < 8; i++) {
        atomic_store(&ncalls, 0);
        cr_assert_eq(write(fds[i], req, sizeof req - 1), (ssize_t)(sizeof req - 1));
        read_answer(fds[i]);
        cr_assert(pthread_equal(calls[0].thread, first[i]));
    }
    for (int i = 0; i < 8; i++)
        close(fds[i]);
}

static int connect_to_server(void)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(http_server_port(server))};
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    set_read_timeout(fd);
    cr_assert_eq(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    return fd;
}

/* Whether a request on a fresh connection is answered (false: the server
 * closed the connection without an answer). */
static bool answered_on_new_connection(int *fd_out)
{
    static const char req[] = "GET /plain HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    int fd = connect_to_server();
    if (write(fd, req, sizeof req - 1) != (ssize_t)(sizeof req - 1)) {
        close(fd);
        return false;
    }
    char buf[16];
    ssize_t r = recv(fd, buf, sizeof buf, MSG_PEEK);
    if (r <= 0) {
        close(fd);
        return false;
    }
    read_answer(fd);
    *fd_out = fd;
    return true;
}

/* max_connections holds for all event threads together: past it a new
 * connection is closed unanswered, and once one closes a new one is served
 * again. */
Test(server, the_connection_limit_counts_every_event_thread)
{
    http_server_stop(server);
    server = NULL;
    struct http_server_options opts = {.host = "127.0.0.1", .threads = 2, .blocking_threads = 1,
                                       .max_connections = 2, .before_handler = before};
    char err[256];
    cr_assert_eq(http_server_start(&server, &opts, router, err, sizeof err), 0, "%s", err);
    int a, b, c;
    cr_assert(answered_on_new_connection(&a));
    cr_assert(answered_on_new_connection(&b));
    cr_assert_not(answered_on_new_connection(&c), "a third connection is refused");
    close(a);
    /* The lane hears of the close on its own time. */
    bool served = false;
    for (int i = 0; i < 200 && !served; i++) {
        served = answered_on_new_connection(&c);
        if (!served)
            usleep(10000);
    }
    cr_assert(served, "a connection is served again once one closed");
    close(b);
    close(c);
}
