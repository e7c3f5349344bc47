/*
 * events.c — engagement event ingestion (API.md "Engagement events") and
 * the server's own events for likes, follows, comments and shares.
 *
 * POST /api/v1/events takes {"events": [Event, ...]}: a batch is accepted
 * whole or refused whole. Every event is checked (type, video, watched_ms,
 * at); any bad one refuses the batch with 400 and one error per bad event
 * naming its index ("events[3].type"), and nothing is stored. A good batch
 * gets the user id (from the token), the video's creator and duration (from
 * the video record, via the video cache) and a clamped time, is appended to
 * the user's home region log as one batch, and is answered 202 only once the
 * log says it is durable (group commit: concurrent requests share an fsync).
 *
 * The handler runs on the blocking worker pool, but does not wait there for
 * the fsync: it defers the request (http_request_defer) and the log's
 * flusher thread answers it when the batch is durable, so a few workers
 * keep any number of batches in flight and every fsync carries all of them.
 * Well-formed batches are read by a scanner that allocates nothing
 * (events_parse.h); anything else goes through jansson for precise errors.
 */
#include "api/api.h"
#include "api/events_parse.h"

#include "core/clock.h"
#include "core/id.h"
#include "core/log.h"
#include "events/eventlog.h"
#include "feed/seen.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The route's hard body limit; [limits] events_max_body (<= this) applies
 * inside the handler. */
#define EVENTS_BODY_HARD_MAX (1u << 20)

static int client_type(const char *name)
{
    int t = event_type_parse(name);
    return event_type_is_client(t) ? t : -1;
}

static void bad(json_t **errors, size_t index, const char *field, const char *message)
{
    char name[112];
    if (snprintf(name, sizeof name, "events[%zu]%s%s", index, field[0] ? "." : "", field) < 0)
        return;
    http_errors_add(errors, name, message);
}

/* Checks one event object and fills *e (user, creator and duration later).
 * Returns true if it is well-formed. */
static bool check_event(json_t *obj, size_t i, int64_t now, int64_t oldest, struct event *e,
                        json_t **errors)
{
    memset(e, 0, sizeof *e);
    if (!json_is_object(obj)) {
        bad(errors, i, "", "must be an object");
        return false;
    }
    bool ok = true;
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value)
    {
        if (strcmp(key, "type") && strcmp(key, "video_id") && strcmp(key, "watched_ms") &&
            strcmp(key, "at")) {
            char field[80];
            snprintf(field, sizeof field, "%.60s", key);
            bad(errors, i, field, "is not a known field");
            ok = false;
        }
    }
    json_t *type = json_object_get(obj, "type");
    int t = json_is_string(type) ? client_type(json_string_value(type)) : -1;
    if (t < 0) {
        bad(errors, i, "type",
            type ? "unknown event type (impression, play, watch, skip, not_interested)"
                 : "is required");
        ok = false;
    }
    e->type = (uint8_t)(t > 0 ? t : 0);
    json_t *video = json_object_get(obj, "video_id");
    if (!json_is_string(video) || !id_parse(json_string_value(video), &e->video_id)) {
        bad(errors, i, "video_id", video ? "must be a video id (a decimal string)" : "is required");
        ok = false;
    }
    json_t *watched = json_object_get(obj, "watched_ms");
    if (watched && !json_is_null(watched)) {
        json_int_t w = json_is_integer(watched) ? json_integer_value(watched) : -1;
        if (!json_is_integer(watched) || w < 0 || w > (json_int_t)EVENTS_WATCHED_MS_MAX) {
            bad(errors, i, "watched_ms",
                "must be a whole number of milliseconds from 0 to 86400000");
            ok = false;
        } else {
            e->watched_ms = (uint32_t)w;
        }
    } else if (t == EVENT_WATCH) {
        bad(errors, i, "watched_ms", "is required for a watch event");
        ok = false;
    }
    e->at_ms = now;
    json_t *at = json_object_get(obj, "at");
    if (at && !json_is_null(at)) {
        int64_t ms;
        if (!json_is_string(at) || clock_parse_rfc3339(json_string_value(at), &ms) < 0) {
            bad(errors, i, "at", "must be an RFC 3339 UTC time");
            ok = false;
        } else {
            e->at_ms = ms > now ? now : ms < oldest ? oldest : ms;
        }
    }
    return ok;
}

/* The answer to an append: 202 {"accepted": n}, or 503 to retry. */
static void answer_appended(struct http_request *req, int status)
{
    if (status != EVENTLOG_OK) {
        http_problem_status(req, 503, "the event log could not store the batch; retry");
        http_response_header(req, "Retry-After", "1");
        return;
    }
    char answer[48];
    int len = snprintf(answer, sizeof answer, "{\"accepted\":%zu}", *(size_t *)req->user_data);
    http_respond(req, 202, "application/json", answer, (size_t)len);
}

/* The log's flusher reports the batch of a deferred request. */
static void on_durable(void *arg, int status, uint64_t first_offset)
{
    struct http_request *req = arg;
    const size_t *accepted = req->user_data;
    if (status == EVENTLOG_OK)
        api_rec_wrote(api_app(req), req->user_id, first_offset + *accepted);
    answer_appended(req, status);
    http_request_complete(req);
}

/* The full path: jansson, with an error for every bad field of every bad
 * event. Fills events (room for events_per_batch) and *n, or answers and
 * returns false. */
static bool parse_slow(struct http_request *req, struct event *events, size_t *n, int64_t now,
                       int64_t oldest)
{
    struct app *app = api_app(req);
    json_t *body = http_request_json(req);
    if (!body)
        return false;
    static const char *const allowed[] = {"events", NULL};
    struct validation v = {0};
    api_reject_unknown_fields(body, allowed, &v);
    json_t *list = json_object_get(body, "events");
    if (!json_is_array(list)) {
        api_invalid(&v, "events", list ? "must be an array of events" : "is required");
        v.shape_error = true;
    } else if (json_array_size(list) == 0) {
        api_invalid(&v, "events", "must hold at least one event");
        v.shape_error = true;
    }
    if (api_validation_failed(req, &v))
        return false;
    *n = json_array_size(list);
    if (*n > app->cfg.events_per_batch) {
        char detail[96];
        snprintf(detail, sizeof detail, "a batch holds at most %u events; this one has %zu",
                 app->cfg.events_per_batch, *n);
        json_t *errors = NULL;
        http_errors_add(&errors, "events", detail);
        http_problem(req, 413, "too-many-events", "Content Too Large", detail, errors);
        return false;
    }
    json_t *errors = NULL;
    for (size_t i = 0; i < *n; i++)
        check_event(json_array_get(list, i), i, now, oldest, &events[i], &errors);
    if (errors) {
        http_problem(req, 400, "invalid-events", "Invalid events",
                     "the batch was refused whole; see errors for each bad event", errors);
        return false;
    }
    return true;
}

/* The fast path (events_parse.h): true with the batch in events, or false
 * if the full path must decide. */
static bool parse_fast(struct http_request *req, struct event *events, size_t *n, int64_t now,
                       int64_t oldest)
{
    struct app *app = api_app(req);
    const char *ct = http_request_header(req, "Content-Type");
    if (!req->body || (ct && strncasecmp(ct, "multipart/", 10) == 0))
        return false;
    struct events_parse_item *items =
        pool_alloc(req->pool, app->cfg.events_per_batch * sizeof *items);
    if (!items || api_events_parse_fast(req->body, req->body_len, items, app->cfg.events_per_batch,
                                        n) != EVENTS_PARSE_OK)
        return false;
    for (size_t i = 0; i < *n; i++) {
        struct event *e = &events[i];
        memset(e, 0, sizeof *e);
        e->type = (uint8_t)items[i].type;
        e->video_id = items[i].video_id;
        e->watched_ms = items[i].watched_ms;
        int64_t at = items[i].has_at ? items[i].at_ms : now;
        e->at_ms = at > now ? now : at < oldest ? oldest : at;
    }
    return true;
}

static void post_events(struct http_request *req)
{
    if (!api_require_user(req))
        return;
    struct app *app = api_app(req);
    size_t max_body = CONFIG_LIVE_GET(app->cfg.events_max_body); /* reloadable */
    if (req->body_len > max_body) {
        char detail[96];
        snprintf(detail, sizeof detail, "the body is larger than the limit of %zu bytes", max_body);
        http_problem(req, 413, "payload-too-large", "Content Too Large", detail, NULL);
        return;
    }
    struct eventlog *log =
        api_store_for_id(req, req->user_id, "user") ? app_log_for_id(app, req->user_id) : NULL;
    if (req->resp.status)
        return; /* 421: the user's region is not served here */
    struct event *events = pool_alloc(req->pool, app->cfg.events_per_batch * sizeof *events);
    if (!events) {
        http_problem_status(req, 503, "out of memory");
        return;
    }
    int64_t now = clock_now_ms();
    int64_t oldest = now - (int64_t)app->cfg.events_max_age_s * 1000;
    size_t n = 0;
    if (!parse_fast(req, events, &n, now, oldest) && !parse_slow(req, events, &n, now, oldest))
        return;
    json_t *errors = NULL;
    for (size_t i = 0; i < n; i++) {
        struct event *e = &events[i];
        e->user_id = req->user_id;
        int rc = api_video_brief(app, e->video_id, &e->creator_id, &e->duration_ms);
        if (rc == STORE_NOTFOUND) {
            bad(&errors, i, "video_id", "no such video");
        } else if (rc != STORE_OK) {
            json_decref(errors);
            http_problem_status(req, 503, "the video store is unavailable; retry");
            return;
        }
    }
    if (errors) {
        http_problem(req, 400, "invalid-events", "Invalid events",
                     "the batch was refused whole; see errors for each bad event", errors);
        return;
    }
    /* Shown is shown, whether or not the batch is then stored. */
    feed_seen_add_many(app->seen, req->user_id, events, n);
    size_t *accepted = pool_alloc(req->pool, sizeof *accepted);
    if (!accepted || !log) {
        http_problem_status(req, 503, "the event log is unavailable; retry");
        return;
    }
    *accepted = n;
    req->user_data = accepted;
    /* Wait for durability without holding a worker: the log's flusher
     * answers (on_durable) once the group's fdatasync is done. */
    if (http_request_defer(req)) {
        if (eventlog_append_async(log, events, n, on_durable, req) != EVENTLOG_OK) {
            answer_appended(req, EVENTLOG_IO);
            http_request_complete(req);
        }
        return;
    }
    uint64_t first = 0;
    int rc = eventlog_append(log, events, n, &first);
    if (rc == EVENTLOG_OK)
        api_rec_wrote(app, req->user_id, first + n);
    answer_appended(req, rc);
}

void api_event_record(struct app *app, int type, uint64_t user_id, uint64_t video_id,
                      uint64_t creator_id, uint32_t duration_ms)
{
    struct event e = {
        .user_id = user_id,
        .video_id = video_id,
        .creator_id = creator_id,
        .at_ms = clock_now_ms(),
        .duration_ms = duration_ms,
        .type = (uint8_t)type,
    };
    struct eventlog *log = app_log_for_id(app, user_id);
    uint64_t first = 0;
    int rc = log ? eventlog_append(log, &e, 1, &first) : EVENTLOG_IO;
    if (rc == EVENTLOG_OK)
        api_rec_wrote(app, user_id, first + 1);
    if (rc != EVENTLOG_OK) {
        char id[ID_STR_MAX];
        log_warn("event=engagement_event_lost type=%d user=%s status=%d", type,
                 id_format(user_id, id), rc);
    }
}

int api_events_register(struct http_router *router)
{
    static const struct http_route routes[] = {
        {.method = HTTP_POST,
         .pattern = "/api/v1/events",
         .handler = post_events,
         .max_body = EVENTS_BODY_HARD_MAX,
         .flags = HTTP_ROUTE_BLOCKING},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (http_router_add(router, &routes[i]) < 0)
            return -1;
    return 0;
}
