/*
 * response.c — building responses and problem+json bodies, and the request
 * accessors that do not need libmicrohttpd.
 */
#include "http/http.h"

#include "core/alloc.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static void json_release(void *value)
{
    json_decref(value);
}

void http_respond(struct http_request *req, int status, const char *content_type,
                  const char *body, size_t len)
{
    if (req->resp.fd >= 0) {
        close(req->resp.fd);
        req->resp.fd = -1;
    }
    req->resp.status = status;
    req->resp.content_type = content_type;
    req->resp.body = NULL;
    req->resp.body_len = 0;
    if (len) {
        char *copy = pool_alloc(req->pool, len);
        if (!copy) {
            req->resp.status = 500;
            req->resp.content_type = NULL;
            return;
        }
        memcpy(copy, body, len);
        req->resp.body = copy;
        req->resp.body_len = len;
    }
}

void http_respond_json(struct http_request *req, int status, json_t *value)
{
    if (!value) {
        http_respond(req, 500, NULL, NULL, 0);
        return;
    }
    /* Serialise once into a guess-sized pool buffer; only an answer larger
     * than the guess is serialised a second time. */
    size_t cap = 1024;
    char *body = pool_alloc(req->pool, cap);
    size_t len = body ? json_dumpb(value, body, cap, JSON_COMPACT) : 0;
    if (body && len > cap) {
        cap = len;
        body = pool_alloc(req->pool, cap);
        if (body && json_dumpb(value, body, cap, JSON_COMPACT) != len)
            body = NULL;
    }
    json_decref(value);
    if (!body || len == 0) {
        http_respond(req, 500, NULL, NULL, 0);
        return;
    }
    req->resp.status = status;
    req->resp.content_type = "application/json";
    req->resp.body = body;
    req->resp.body_len = len;
}

void http_respond_owned(struct http_request *req, int status, const char *content_type,
                        char *body, size_t len)
{
    if (pool_cleanup_add(req->pool, reel_free, body) < 0) {
        reel_free(body);
        http_respond(req, 500, NULL, NULL, 0);
        return;
    }
    http_respond(req, status, content_type, NULL, 0);
    req->resp.body = body;
    req->resp.body_len = len;
}

void http_respond_empty(struct http_request *req, int status)
{
    http_respond(req, status, NULL, NULL, 0);
}

void http_respond_file(struct http_request *req, int status, const char *content_type, int fd,
                       off_t offset, uint64_t len)
{
    req->resp.status = status;
    req->resp.content_type = content_type;
    req->resp.body = NULL;
    req->resp.body_len = 0;
    req->resp.fd = fd;
    req->resp.file_offset = offset;
    req->resp.file_len = len;
}

void http_response_header(struct http_request *req, const char *name, const char *value)
{
    struct http_response_header *h = pool_alloc(req->pool, sizeof *h);
    if (!h)
        return;
    h->name = pool_strdup(req->pool, name);
    h->value = pool_strdup(req->pool, value);
    if (!h->name || !h->value)
        return;
    h->next = req->resp.headers;
    req->resp.headers = h;
}

int http_errors_add(json_t **errors, const char *field, const char *message)
{
    if (!*errors && !(*errors = json_array()))
        return -1;
    json_t *e = json_pack("{s:s, s:s}", "field", field, "message", message);
    if (!e || json_array_append_new(*errors, e) < 0)
        return -1;
    return 0;
}

void http_problem(struct http_request *req, int status, const char *type, const char *title,
                  const char *detail, json_t *errors)
{
    char type_uri[96];
    snprintf(type_uri, sizeof type_uri, "/problems/%s", type);
    json_t *body = json_pack("{s:s, s:s, s:i, s:s}", "type", type_uri, "title",
                             title ? title : http_status_reason(status), "status", status,
                             "detail", detail ? detail : http_status_reason(status));
    if (body && errors)
        json_object_set(body, "errors", errors);
    json_decref(errors);
    if (!body) {
        http_respond(req, status, NULL, NULL, 0);
        return;
    }
    http_respond_json(req, status, body);
    req->resp.content_type = "application/problem+json";
}

/* Slugs for problem types by status. */
static const char *status_slug(int status)
{
    switch (status) {
    case 400: return "bad-request";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "not-found";
    case 405: return "method-not-allowed";
    case 409: return "conflict";
    case 413: return "payload-too-large";
    case 415: return "unsupported-media-type";
    case 421: return "wrong-region";
    case 422: return "unprocessable";
    case 429: return "rate-limited";
    case 503: return "unavailable";
    default: return status >= 500 ? "internal-error" : "error";
    }
}

void http_problem_status(struct http_request *req, int status, const char *detail)
{
    http_problem(req, status, status_slug(status), http_status_reason(status), detail, NULL);
}

json_t *http_request_json(struct http_request *req)
{
    /* Clients are not required to label JSON (curl -d sends a form type), but
     * a multipart body is certainly not JSON. */
    const char *ct = http_request_header(req, "Content-Type");
    if (ct && strncasecmp(ct, "multipart/", 10) == 0) {
        http_problem(req, 415, "unsupported-media-type", "Unsupported Media Type",
                     "the body must be JSON (Content-Type: application/json)", NULL);
        return NULL;
    }
    if (!req->body || req->body_len == 0) {
        http_problem(req, 400, "malformed-json", "Malformed JSON", "the request body is empty",
                     NULL);
        return NULL;
    }
    json_error_t error;
    json_t *value = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &error);
    if (!value) {
        char detail[300];
        snprintf(detail, sizeof detail, "the body is not valid JSON: %s (at byte %d)", error.text,
                 error.position);
        http_problem(req, 400, "malformed-json", "Malformed JSON", detail, NULL);
        return NULL;
    }
    if (!json_is_object(value)) {
        json_decref(value);
        http_problem(req, 400, "malformed-json", "Malformed JSON",
                     "the body must be a JSON object", NULL);
        return NULL;
    }
    if (pool_cleanup_add(req->pool, json_release, value) < 0) {
        json_decref(value);
        http_problem_status(req, 500, "out of memory");
        return NULL;
    }
    return value;
}

const char *http_request_param(const struct http_request *req, const char *name)
{
    for (int i = 0; i < req->param_count; i++)
        if (strcmp(req->param_names[i], name) == 0)
            return req->params[i];
    return NULL;
}

const char *http_status_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}
