/*
 * privacy.c — a person's rights over their data (API.md "Privacy"):
 *
 *   GET    /api/v1/me/export                 everything Reel holds about the caller
 *   DELETE /api/v1/me                        deactivate now, erase after the grace
 *   GET    /api/v1/admin/users/{id}/export   the same document, run by a custodian
 *   POST   /api/v1/admin/users/{id}/deactivate   moderator or custodian
 *
 * and the erasure itself (api_account_erase), run by the server's purge
 * thread for accounts past their grace period and by `reel purge`.
 *
 * The export document ("reel-export/1", documented in docs/export.md) holds
 * the account, where its data lives, every record of the home store
 * (sessions, follows, likes, comments, shares, videos, operator role), the
 * user's events from the home region's log, and the audit records whose
 * subject is the user (found by the pseudonym the log records). It is built
 * in one capped buffer; the cap bounds what one export may cost.
 *
 * Erasure, in order (each step is idempotent, so a crash part-way is mended
 * by running it again):
 *   1. the home store: the user's records, videos and the user row, moving
 *      the counters they counted (outbox deltas for other regions' targets);
 *   2. every store: follows pointing at the user and reactions to their videos;
 *   3. the outbox deltas are applied; the username is released;
 *   4. the home region's event log: the user's events become tombstones;
 *   5. in-memory state: the feed's seen filter, the video cache.
 * Before all of it, the videos' media: running jobs are cancelled and the
 * files removed from the region's primary and replica sites.
 * Audit records stay: they name the user only by a keyed pseudonym.
 */
#include "api/api.h"

#include "core/alloc.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/ticker.h"
#include "events/eventlog.h"
#include "feed/seen.h"
#include "region/audit.h"

#include "rec/engine.h"

#include <stdio.h>
#include <string.h>

#define EXPORT_MAX (256u << 20) /* bytes of one export document */
#define EVENTS_CHUNK 4096

/* ---- export ------------------------------------------------------------- */

struct export_ctx {
    struct jsonw *w;
    const char *kind; /* the array currently open */
};

static int write_record(void *arg, const char *kind, const struct store_field *f, int n)
{
    struct export_ctx *x = arg;
    struct jsonw *w = x->w;
    if (!x->kind || strcmp(x->kind, kind) != 0) {
        if (x->kind)
            jsonw_array_end(w);
        jsonw_key(w, kind);
        jsonw_array_begin(w);
        x->kind = kind;
    }
    jsonw_object_begin(w);
    for (int i = 0; i < n; i++) {
        jsonw_key(w, f[i].name);
        switch (f[i].type) {
        case STORE_FIELD_TEXT: jsonw_string(w, f[i].text); break;
        case STORE_FIELD_INT: jsonw_int(w, f[i].value); break;
        case STORE_FIELD_ID: jsonw_id(w, (uint64_t)f[i].value); break;
        case STORE_FIELD_TIME:
            if (f[i].value)
                jsonw_time(w, f[i].value);
            else
                jsonw_null(w);
            break;
        }
    }
    jsonw_object_end(w);
    return 0;
}

static void write_events(struct jsonw *w, struct eventlog *log, uint64_t user_id)
{
    jsonw_key(w, "events");
    jsonw_array_begin(w);
    struct eventlog_record *recs = log ? reel_malloc(EVENTS_CHUNK * sizeof *recs) : NULL;
    uint64_t at = log ? eventlog_first_offset(log) : 0;
    size_t n = 0;
    uint64_t next;
    while (recs && eventlog_read(log, at, recs, EVENTS_CHUNK, &n, &next) == EVENTLOG_OK && n) {
        for (size_t i = 0; i < n; i++) {
            const struct event *e = &recs[i].event;
            if (e->user_id != user_id)
                continue;
            jsonw_object_begin(w);
            jsonw_kv_string(w, "type", event_type_name(e->type));
            if (e->video_id)
                jsonw_kv_id(w, "video_id", e->video_id);
            if (e->creator_id)
                jsonw_kv_id(w, "creator_id", e->creator_id);
            if (e->type == EVENT_WATCH)
                jsonw_kv_int(w, "watched_ms", e->watched_ms);
            jsonw_kv_time(w, "at", e->at_ms);
            jsonw_kv_time(w, "received_at", recs[i].ingest_ms);
            jsonw_object_end(w);
        }
        at = next;
    }
    reel_free(recs);
    jsonw_array_end(w);
}

/* What the recommendation engine holds about the user right now (the
 * spilled part, when the user was idle, is in records.recommendation_state;
 * the picked interests in records.interests). */
static void write_recommendations(struct jsonw *w, struct app *app, uint64_t user_id)
{
    struct rec_user_state *st = reel_malloc(sizeof *st);
    jsonw_key(w, "recommendations");
    if (!st || api_rec_describe(app, user_id, st) < 0) {
        jsonw_null(w);
        reel_free(st);
        return;
    }
    jsonw_object_begin(w);
    jsonw_key(w, "interests");
    jsonw_array_begin(w);
    for (size_t i = 0; i < st->interest_count; i++)
        jsonw_string(w, st->interests[i]);
    jsonw_array_end(w);
    jsonw_key(w, "model");
    if (st->admitted) {
        jsonw_object_begin(w);
        jsonw_key(w, "bias");
        jsonw_double(w, st->bias);
        jsonw_key(w, "embedding");
        jsonw_array_begin(w);
        for (unsigned i = 0; i < st->dim && i < REC_DIM_MAX; i++)
            jsonw_double(w, st->embedding[i]);
        jsonw_array_end(w);
        jsonw_object_end(w);
    } else {
        jsonw_null(w);
    }
    jsonw_kv_int(w, "followed_creators_known", (int64_t)st->follows);
    jsonw_key(w, "not_interested_creators");
    jsonw_array_begin(w);
    for (size_t i = 0; i < st->not_interested_count; i++)
        jsonw_id(w, st->not_interested[i]);
    jsonw_array_end(w);
    jsonw_key(w, "session");
    if (st->session) {
        jsonw_object_begin(w);
        jsonw_kv_int(w, "videos_seen", (int64_t)st->seen);
        jsonw_kv_int(w, "recent_engagements", (int64_t)st->recent_engagements);
        if (st->last_active_ms > 0)
            jsonw_kv_time(w, "last_active_at", st->last_active_ms);
        jsonw_object_end(w);
    } else {
        jsonw_null(w);
    }
    jsonw_object_end(w);
    reel_free(st);
}

static void write_audit(struct jsonw *w, struct app *app, const struct region *r, uint64_t user_id)
{
    jsonw_key(w, "audit");
    jsonw_array_begin(w);
    struct audit_log *log = app->gateway.logs[r->index];
    struct audit_reader *reader = NULL;
    char dir[CONFIG_PATH_MAX + 8], err[256];
    snprintf(dir, sizeof dir, "%s/audit", r->primary_dir);
    if (log && audit_reader_open(&reader, dir, r->name, err, sizeof err) == 0) {
        uint8_t me[CUSTODIAN_PSEUDONYM_BYTES];
        audit_subject_pseudonym(log, user_id, me);
        struct audit_record rec;
        merkle_hash leaf;
        uint64_t size = audit_reader_size(reader);
        for (uint64_t i = 0; i < size; i++) {
            if (audit_reader_record(reader, i, &rec, leaf) < 0 ||
                memcmp(rec.subject, me, sizeof me) != 0)
                continue;
            jsonw_object_begin(w);
            jsonw_kv_int(w, "index", (int64_t)i);
            jsonw_kv_time(w, "time", rec.time_ms);
            jsonw_kv_string(w, "actor_role", rec.role);
            jsonw_kv_string(w, "actor_region", rec.actor_region);
            jsonw_kv_string(w, "action", rec.action);
            jsonw_key(w, "fields");
            jsonw_array_begin(w);
            for (int f = 0; f < rec.field_count; f++)
                jsonw_string(w, rec.fields[f]);
            jsonw_array_end(w);
            jsonw_kv_string(w, "purpose", rec.purpose);
            jsonw_kv_string(w, "outcome", audit_outcome_name(rec.outcome));
            jsonw_object_end(w);
        }
        audit_reader_close(reader);
    }
    jsonw_array_end(w);
}

/* Writes the export document of user_id (of a region this node serves). */
static int write_export(struct http_request *req, struct jsonw *w, uint64_t user_id)
{
    struct app *app = api_app(req);
    const struct region *r = region_for_id(&app->regions, user_id);
    struct store *store = app_store_for_region(app, r);
    struct store_user user;
    int rc = store ? store_user_get(store, user_id, &user) : STORE_NOTFOUND;
    if (rc != STORE_OK)
        return rc;
    int64_t deactivated = 0;
    store_user_deactivated_at(store, user_id, &deactivated);
    jsonw_object_begin(w);
    jsonw_kv_string(w, "format", "reel-export/1");
    jsonw_kv_time(w, "generated_at", clock_now_ms());
    jsonw_key(w, "account");
    api_write_me(w, app, &user);
    jsonw_kv_string(w, "status", user.status == STORE_USER_ACTIVE ? "active" : "deactivated");
    if (deactivated) {
        jsonw_kv_time(w, "deactivated_at", deactivated);
        jsonw_kv_time(w, "erase_after", deactivated + (int64_t)app->cfg.erasure_grace_s * 1000);
    }
    jsonw_key(w, "residency");
    jsonw_object_begin(w);
    jsonw_kv_string(w, "home_region", r->name);
    jsonw_key(w, "sites");
    jsonw_array_begin(w);
    for (int k = -1; k < r->replica_count; k++) {
        const struct config_site *site = k < 0 ? r->primary : r->replicas[k];
        jsonw_object_begin(w);
        jsonw_kv_string(w, "name", site->name);
        jsonw_kv_string(w, "country", site->country);
        jsonw_kv_string(w, "role", k < 0 ? "primary" : "replica");
        jsonw_object_end(w);
    }
    jsonw_array_end(w);
    jsonw_object_end(w);
    /* Records of the home store, grouped by kind ("session", "like"...). */
    jsonw_key(w, "records");
    jsonw_object_begin(w);
    struct export_ctx x = {.w = w};
    rc = store_user_records(store, user_id, write_record, &x);
    if (x.kind)
        jsonw_array_end(w);
    jsonw_object_end(w);
    if (rc != STORE_OK)
        return rc;
    write_events(w, app->logs[r->index], user_id);
    write_recommendations(w, app, user_id);
    write_audit(w, app, r, user_id);
    jsonw_object_end(w);
    return STORE_OK;
}

static void respond_export(struct http_request *req, uint64_t user_id)
{
    struct api_reply reply;
    api_reply_begin(&reply, EXPORT_MAX);
    int rc = write_export(req, &reply.w, user_id);
    if (rc != STORE_OK) {
        buf_clear(&reply.buf);
        api_store_problem(req, rc, "user");
        return;
    }
    http_response_header(req, "Content-Disposition", "attachment; filename=\"reel-export.json\"");
    api_reply_end(req, 200, &reply);
}

static void get_my_export(struct http_request *req)
{
    if (!api_require_user(req) || !api_store_for_id(req, req->user_id, "user"))
        return;
    respond_export(req, req->user_id);
}

static void delete_me(struct http_request *req)
{
    if (!api_require_user(req))
        return;
    struct app *app = api_app(req);
    struct store *store = api_store_for_id(req, req->user_id, "user");
    if (!store)
        return;
    int64_t now = clock_now_ms();
    int rc = store_user_deactivate(store, req->user_id, now);
    int64_t since = now;
    if (rc == STORE_OK)
        store_user_deactivated_at(store, req->user_id, &since);
    if (rc != STORE_OK) {
        api_store_problem(req, rc, "user");
        return;
    }
    if (app->seen)
        feed_seen_forget(app->seen, req->user_id);
    struct api_reply reply;
    api_reply_begin(&reply, 1024);
    jsonw_object_begin(&reply.w);
    jsonw_kv_string(&reply.w, "status", "deactivated");
    jsonw_kv_time(&reply.w, "deactivated_at", since);
    jsonw_kv_time(&reply.w, "erase_after", since + (int64_t)app->cfg.erasure_grace_s * 1000);
    jsonw_object_end(&reply.w);
    api_reply_end(req, 202, &reply);
}

/* ---- operators ---------------------------------------------------------- */

static const char *operator_purpose(struct http_request *req)
{
    const char *purpose = http_request_query(req, "purpose");
    struct validation v = {0};
    if (!purpose || !*purpose) {
        api_invalid(&v, "purpose", "is required: say why you need this person's data");
        v.shape_error = true;
    } else {
        api_check_text(&v, "purpose", purpose, 1, 200, false);
    }
    return api_validation_failed(req, &v) ? NULL : purpose;
}

/* Common start of the per-user operator routes: actor, id, purpose, gateway. */
static bool operator_access(struct http_request *req, const char *action, const char *const *fields,
                            int field_count, uint64_t *id)
{
    struct gateway_actor actor;
    if (!api_admin_actor(req, &actor) || !api_param_id(req, "id", id))
        return false;
    const char *purpose = operator_purpose(req);
    if (!purpose)
        return false;
    const struct region *region = region_for_id(&api_app(req)->regions, *id);
    if (!region) {
        http_problem_status(req, 404, "user not found");
        return false;
    }
    struct gateway_access access = {.region = region,
                                    .subject_id = *id,
                                    .action = action,
                                    .fields = fields,
                                    .field_count = field_count,
                                    .purpose = purpose};
    return api_admin_authorize(req, &actor, &access) && api_store_for_region(req, region);
}

static void get_admin_export(struct http_request *req)
{
    static const char *const fields[] = {"profile", "email", "records", "events", "audit"};
    uint64_t id;
    if (operator_access(req, "user.export", fields, 5, &id))
        respond_export(req, id);
}

/* Apart from post_admin_deactivate so that GCC 12 at -O3 does not take the
 * address-taken id for a dangling pointer (a -Wdangling-pointer false
 * positive that broke the release build). */
static __attribute__((noinline)) void deactivate_user(struct http_request *req, uint64_t id)
{
    struct app *app = api_app(req);
    int rc = store_user_deactivate(app_store_for_id(app, id), id, clock_now_ms());
    if (rc != STORE_OK) {
        api_store_problem(req, rc, "user");
        return;
    }
    if (app->seen)
        feed_seen_forget(app->seen, id);
    http_respond_empty(req, 204);
}

static void post_admin_deactivate(struct http_request *req)
{
    static const char *const fields[] = {"status", "sessions"};
    uint64_t id;
    if (!operator_access(req, "user.deactivate", fields, 2, &id))
        return;
    deactivate_user(req, id);
}

/* ---- erasure ------------------------------------------------------------ */

struct video_list {
    uint64_t *ids;
    size_t n, cap;
    bool failed;
};

static void collect_video(void *arg, uint64_t video_id)
{
    struct video_list *v = arg;
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        if (reel_array_grow((void **)&v->ids, cap, sizeof *v->ids) < 0) {
            v->failed = true;
            return;
        }
        v->cap = cap;
    }
    v->ids[v->n++] = video_id;
}

/* Cancels the jobs of every video of user_id and removes their files from
 * every site of the region. Returns 0 or -1 (the store failed). */
static int forget_media(struct app *app, struct store *home, uint64_t user_id)
{
    uint64_t ids[256], before = 0;
    size_t n;
    do {
        if (store_video_list_by_creator(home, user_id, true, before, 256, ids, &n) != STORE_OK)
            return -1;
        for (size_t i = 0; i < n; i++)
            api_media_forget(app, ids[i]);
        if (n)
            before = ids[n - 1];
    } while (n == 256);
    return 0;
}

int api_account_erase(struct app *app, uint64_t user_id, char *err, size_t errlen)
{
    const struct region *r = region_for_id(&app->regions, user_id);
    struct store *home = app_store_for_region(app, r);
    if (!home) {
        snprintf(err, errlen, "the user's home region is not served here");
        return -1;
    }
    struct store_user user;
    int rc = store_user_get_public(home, user_id, &user);
    if (rc == STORE_NOTFOUND) {
        snprintf(err, errlen, "no such user (already erased?)");
        return -1;
    }
    /* The media goes first: a crash after it is mended by running the
     * erasure again, whereas files of videos already purged from the store
     * would be left with nothing pointing at them. */
    if (rc == STORE_OK && forget_media(app, home, user_id) < 0) {
        snprintf(err, errlen, "the user's videos could not be listed");
        return -1;
    }
    struct video_list videos = {0};
    if (rc != STORE_OK || store_user_purge(home, user_id, collect_video, &videos) != STORE_OK ||
        videos.failed) {
        snprintf(err, errlen, "the home store could not erase the user");
        reel_free(videos.ids);
        return -1;
    }
    int status = 0;
    for (int i = 0; i < app->regions.count; i++)
        if (app->stores[i] &&
            store_erase_references(app->stores[i], user_id, videos.ids, videos.n) != STORE_OK) {
            snprintf(err, errlen, "region %s: references could not be erased (run again)",
                     app->regions.regions[i].name);
            status = -1;
        }
    if (api_counters_drain(app) < 0)
        log_warn("event=erase_counters_pending (applied at the next start)");
    store_directory_release(app->directory, user.username, user_id);
    /* No page image of the erased rows may stay in a -wal file. */
    store_checkpoint(app->directory);
    for (int i = 0; i < app->regions.count; i++)
        if (app->stores[i])
            store_checkpoint(app->stores[i]);
    /* The user's events are in the home log; other regions' logs may name
     * the user as the creator someone engaged with. */
    uint64_t events = 0;
    for (int i = 0; i < app->regions.count; i++) {
        uint64_t n = 0;
        if (app->logs[i] && eventlog_erase_user(app->logs[i], user_id, &n) != EVENTLOG_OK) {
            snprintf(err, errlen, "the event log of region %s could not be rewritten (run again)",
                     app->regions.regions[i].name);
            status = -1;
        }
        events += n;
        if (app->analytics[i] &&
            api_analytics_forget_creator(app->analytics[i], user_id,
                                         app->logs[i] ? eventlog_end_offset(app->logs[i]) : 0) < 0)
            status = -1;
    }
    /* The engine's model row, session, seen filter, interests; the user's
     * videos leave every region's engine. */
    if (api_rec_forget(app, user_id, videos.ids, videos.n) < 0) {
        snprintf(err, errlen, "the recommendation engine could not save its state (run again)");
        status = -1;
    }
    if (app->seen)
        feed_seen_forget(app->seen, user_id);
    for (size_t i = 0; i < videos.n; i++)
        api_video_cache_forget(app, videos.ids[i]);
    log_info("event=account_erased region=%s videos=%zu events=%llu", r->name, videos.n,
             (unsigned long long)events);
    reel_free(videos.ids);
    return status;
}

int api_purge_due(struct app *app, int64_t now_ms, bool ignore_grace, size_t *erased)
{
    int64_t before = ignore_grace ? now_ms : now_ms - (int64_t)app->cfg.erasure_grace_s * 1000;
    int status = 0;
    *erased = 0;
    for (int i = 0; i < app->regions.count; i++) {
        if (!app->stores[i])
            continue;
        uint64_t ids[256];
        size_t n;
        do {
            if (store_users_deactivated_before(app->stores[i], before, ids, 256, &n) != STORE_OK)
                return -1;
            for (size_t k = 0; k < n; k++) {
                char err[256];
                if (api_account_erase(app, ids[k], err, sizeof err) < 0) {
                    log_error("event=erase_failed region=%s error=\"%s\"",
                              app->regions.regions[i].name, err);
                    status = -1;
                    n = 0; /* do not spin on a user that keeps failing */
                    break;
                }
                (*erased)++;
            }
        } while (n == 256);
    }
    return status;
}

/* The server's purge thread: at start and every [privacy] purge_interval. */
struct purger {
    struct app *app;
    struct ticker *ticker;
};

static void purge_now(void *arg)
{
    struct purger *p = arg;
    size_t erased = 0;
    api_purge_due(p->app, clock_now_ms(), false, &erased);
}

struct purger *api_purger_start(struct app *app)
{
    struct purger *p = reel_calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->app = app;
    p->ticker = ticker_start(purge_now, p, (int64_t)app->cfg.purge_interval_s * 1000, true);
    if (!p->ticker) {
        reel_free(p);
        return NULL;
    }
    return p;
}

void api_purger_stop(struct purger *p)
{
    if (!p)
        return;
    ticker_stop(p->ticker);
    reel_free(p);
}

int api_privacy_register(struct http_router *router)
{
    static const struct http_route routes[] = {
        {.method = HTTP_GET,
         .pattern = "/api/v1/me/export",
         .handler = get_my_export,
         .flags = HTTP_ROUTE_BLOCKING},
        {.method = HTTP_DELETE, .pattern = "/api/v1/me", .handler = delete_me},
        {.method = HTTP_GET,
         .pattern = "/api/v1/admin/users/{id}/export",
         .handler = get_admin_export,
         .flags = HTTP_ROUTE_BLOCKING},
        {.method = HTTP_POST,
         .pattern = "/api/v1/admin/users/{id}/deactivate",
         .handler = post_admin_deactivate},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (http_router_add(router, &routes[i]) < 0)
            return -1;
    return 0;
}
