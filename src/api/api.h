/*
 * api.h — the HTTP API: routes, authentication, JSON views and input
 * validation shared by the resource files (accounts.c, health.c, ...).
 *
 * Status conventions (API.md): malformed JSON, missing fields and wrong
 * types are 400; well-formed values that break a rule (a username with a
 * space, a short password, an unknown country) are 422; both carry an
 * `errors` list naming each bad field. Uniqueness conflicts are 409.
 */
#ifndef REEL_API_API_H
#define REEL_API_API_H

#include "api/app.h"
#include "core/jsonw.h"
#include "http/http.h"

#include <jansson.h>
#include <stdbool.h>

/* Adds every API route to the router. Returns 0 or -1. */
int api_register_routes(struct http_router *router);

/* The server's before-handler: resolves "Authorization: Bearer <token>" into
 * req->user_id / req->session_id. A malformed, unknown, revoked or expired
 * token is answered 401 at once, on every route. No header: anonymous. */
void api_authenticate(struct http_request *req);
/* For routes that need a user: true if authenticated, else answers 401. */
bool api_require_user(struct http_request *req);

static inline struct app *api_app(struct http_request *req)
{
    return req->app;
}

/* The store holding the records of the region `id` belongs to. If this node
 * does not serve that region, answers 421 naming it (a front proxy routes on
 * it) and returns NULL; if no region has the id's region bits, answers 404
 * with `what` ("user", "video"...) and returns NULL. */
struct store *api_store_for_id(struct http_request *req, uint64_t id, const char *what);
/* The same for a region chosen by name or country (sign-up). */
struct store *api_store_for_region(struct http_request *req, const struct region *region);

/* ---- views (views.c) ----------------------------------------------------- */

/* Answers written with the JSON writer (core/jsonw.h): begin, write the
 * body with r->w, end. The buffer is capped at `max` bytes; a writer error
 * (cap, misuse) becomes a 500. */
struct api_reply {
    struct buf buf;
    struct jsonw w;
};
void api_reply_begin(struct api_reply *r, size_t max);
void api_reply_end(struct http_request *req, int status, struct api_reply *r);

/* Writes the public `User` object. */
void api_write_user(struct jsonw *w, struct app *app, const struct store_user *user);
/* Writes `Me`: User plus email and country. */
void api_write_me(struct jsonw *w, struct app *app, const struct store_user *user);
/* Answers with the problem for a store failure (404 for NOTFOUND, 409, 500). */
void api_store_problem(struct http_request *req, int store_status, const char *what);

/* ---- validation (validate.c) --------------------------------------------- */

struct validation {
    json_t *errors;   /* [{"field","message"}], NULL while none */
    bool shape_error; /* a missing field or a wrong type: 400 rather than 422 */
};

/* Reads a string field. Missing (when required) or not a string is recorded
 * as a shape error; returns the string (owned by obj) or NULL. */
const char *api_field_string(json_t *obj, const char *name, bool required, struct validation *v);
/* Records a value error for field. */
void api_invalid(struct validation *v, const char *field, const char *message);
/* Records every key of obj not in `allowed` (NULL-terminated) as a shape error. */
void api_reject_unknown_fields(json_t *obj, const char *const *allowed, struct validation *v);
/* Checks free text: length in code points within [min, max], and no control
 * characters (newlines and tabs allowed when multiline). Records errors. */
bool api_check_text(struct validation *v, const char *field, const char *text, size_t min,
                    size_t max, bool multiline);
/* Answers 400/422 problem+json and returns true if any error was recorded. */
bool api_validation_failed(struct http_request *req, struct validation *v);
/* Parses an id path parameter; answers 400 and returns false if malformed. */
bool api_param_id(struct http_request *req, const char *name, uint64_t *id);

/* Username rules: 3..30 of [A-Za-z0-9_.], not starting or ending with '.',
 * no "..". Returns NULL if valid, else the reason. */
const char *api_username_problem(const char *username);
/* E-mail syntax: local@domain, local 1..64 printable non-space bytes without
 * '@', domain of dot-separated labels [A-Za-z0-9-] with at least one dot,
 * 254 bytes at most. Returns NULL if valid, else the reason. */
const char *api_email_problem(const char *email);

#define API_PASSWORD_MIN 8
#define API_PASSWORD_MAX_BYTES 1024
#define API_DISPLAY_NAME_MAX 50
#define API_BIO_MAX 300

/* ---- resources ------------------------------------------------------------ */

int api_accounts_register(struct http_router *router);
int api_health_register(struct http_router *router);
int api_web_register(struct http_router *router);
int api_regions_register(struct http_router *router);
int api_admin_register(struct http_router *router);

#endif
