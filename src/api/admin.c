/*
 * admin.c — the operators' API (API.md "Privacy and operators").
 *
 * Every route here touches other people's data or region-level data, so
 * every route resolves the caller as an actor (401 if anonymous) and asks
 * the custodian gateway (region/gateway.h) before reading anything; the
 * gateway records the decision in the audit log before the answer is sent.
 * Refusals are 403 with the gateway's reason; a failure to record is 503.
 *
 * What an operator sees of a person depends on the role:
 *   custodian, support: profile, e-mail, country, account status
 *   moderator:          profile and account status (no contact data)
 */
#include "api/api.h"

#include "core/id.h"

#include <string.h>

#define PURPOSE_MAX 200

/* The caller as an actor. Answers 401 (anonymous) and returns false;
 * otherwise fills actor, with role NONE for a plain user. */
bool api_admin_actor(struct http_request *req, struct gateway_actor *actor)
{
    if (!api_require_user(req))
        return false;
    struct app *app = api_app(req);
    memset(actor, 0, sizeof *actor);
    actor->user_id = req->user_id;
    actor->region = region_for_id(&app->regions, req->user_id);
    actor->role = STORE_ROLE_NONE;
    struct store *store = app_store_for_id(app, req->user_id);
    enum store_role role;
    int rc = store ? store_operator_get(store, req->user_id, &role) : STORE_NOTFOUND;
    if (rc == STORE_OK)
        actor->role = role;
    else if (rc != STORE_NOTFOUND) {
        api_store_problem(req, rc, "operator");
        return false;
    }
    return true;
}

/* The purpose an operator gives for touching personal data (?purpose=):
 * required, free text, recorded in the audit log. Answers 400 if missing
 * or malformed. */
static const char *require_purpose(struct http_request *req)
{
    const char *purpose = http_request_query(req, "purpose");
    struct validation v = {0};
    if (!purpose || !*purpose) {
        api_invalid(&v, "purpose", "is required: say why you need this person's data");
        v.shape_error = true;
    } else {
        api_check_text(&v, "purpose", purpose, 1, PURPOSE_MAX, false);
    }
    return api_validation_failed(req, &v) ? NULL : purpose;
}

/* Asks the gateway. Answers 403/503 and returns false when refused. */
bool api_admin_authorize(struct http_request *req, const struct gateway_actor *actor,
                         const struct gateway_access *access)
{
    enum gateway_verdict v = gateway_check(&api_app(req)->gateway, actor, access, NULL);
    if (v == GATEWAY_ALLOW)
        return true;
    if (v == GATEWAY_FAILED)
        http_problem(req, 503, "audit-unavailable", "Service Unavailable",
                     gateway_verdict_reason(v), NULL);
    else
        http_problem(req, 403, "forbidden", "Forbidden", gateway_verdict_reason(v), NULL);
    return false;
}

static void get_admin_user(struct http_request *req)
{
    struct gateway_actor actor;
    uint64_t id;
    if (!api_admin_actor(req, &actor) || !api_param_id(req, "id", &id))
        return;
    const char *purpose = require_purpose(req);
    if (!purpose)
        return;
    struct app *app = api_app(req);
    const struct region *region = region_for_id(&app->regions, id);
    if (!region) {
        http_problem_status(req, 404, "user not found");
        return;
    }
    bool contact = actor.role != STORE_ROLE_MODERATOR;
    static const char *const all_fields[] = {"profile", "status", "email", "country"};
    struct gateway_access access = {.region = region, .subject_id = id, .action = "user.read",
                                    .fields = all_fields, .field_count = contact ? 4 : 2,
                                    .purpose = purpose};
    if (!api_admin_authorize(req, &actor, &access))
        return;
    struct store *store = api_store_for_region(req, region);
    if (!store)
        return;
    struct store_user user;
    int rc = store_user_get(store, id, &user);
    if (rc != STORE_OK) {
        api_store_problem(req, rc, "user");
        return;
    }
    struct api_reply r;
    api_reply_begin(&r, 16 * 1024);
    jsonw_object_begin(&r.w);
    jsonw_key(&r.w, "user");
    jsonw_object_begin(&r.w);
    jsonw_kv_id(&r.w, "id", user.id);
    jsonw_kv_string(&r.w, "username", user.username);
    jsonw_kv_string(&r.w, "display_name", user.display_name);
    jsonw_kv_string(&r.w, "bio", user.bio);
    jsonw_kv_string(&r.w, "home_region", region->name);
    jsonw_kv_time(&r.w, "created_at", user.created_ms);
    jsonw_kv_string(&r.w, "status", user.status == STORE_USER_ACTIVE ? "active" : "deactivated");
    if (contact) {
        jsonw_kv_string(&r.w, "email", user.email);
        jsonw_kv_string(&r.w, "country", user.country);
    }
    jsonw_object_end(&r.w);
    jsonw_key(&r.w, "fields");
    jsonw_array_begin(&r.w);
    for (int i = 0; i < access.field_count; i++)
        jsonw_string(&r.w, all_fields[i]);
    jsonw_array_end(&r.w);
    jsonw_kv_string(&r.w, "viewed_as", store_role_name(actor.role));
    jsonw_object_end(&r.w);
    api_reply_end(req, 200, &r);
}

int api_admin_register(struct http_router *router)
{
    static const struct http_route routes[] = {
        /* Blocking: the gateway fsyncs the audit record before answering. */
        {.method = HTTP_GET, .pattern = "/api/v1/admin/users/{id}", .handler = get_admin_user,
         .flags = HTTP_ROUTE_BLOCKING},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (http_router_add(router, &routes[i]) < 0)
            return -1;
    return 0;
}
