/*
 * accounts.c — the HTTP side of accounts (API.md "Accounts"): sign-up,
 * log-in/out, the caller's profile, public profiles. Validation happens here;
 * creating accounts and sessions is account.c's.
 */
#include "api/account.h"
#include "api/api.h"

#include "core/clock.h"
#include "core/country.h"
#include "core/credential.h"
#include "core/id.h"
#include "core/log.h"
#include "core/parse.h"

#include <stdio.h>
#include <string.h>

static void respond_user_token(struct http_request *req, int status, const struct store_user *user,
                               const char *token)
{
    struct api_reply r;
    api_reply_begin(&r, 16 * 1024);
    jsonw_object_begin(&r.w);
    jsonw_key(&r.w, "user");
    api_write_me(&r.w, api_app(req), user);
    jsonw_kv_string(&r.w, "token", token);
    jsonw_object_end(&r.w);
    api_reply_end(req, status, &r);
}

static void respond_user(struct http_request *req, const struct store_user *user, bool me)
{
    struct api_reply r;
    api_reply_begin(&r, 16 * 1024);
    if (me)
        api_write_me(&r.w, api_app(req), user);
    else
        api_write_user(&r.w, api_app(req), user);
    api_reply_end(req, 200, &r);
}

static void create_account(struct http_request *req)
{
    struct app *app = api_app(req);
    json_t *body = http_request_json(req);
    if (!body)
        return;
    static const char *const allowed[] = {"username",     "password",  "email", "country",
                                          "display_name", "interests", NULL};
    struct validation v = {0};
    api_reject_unknown_fields(body, allowed, &v);
    const char *username = api_field_string(body, "username", true, &v);
    const char *password = api_field_string(body, "password", true, &v);
    const char *email = api_field_string(body, "email", true, &v);
    const char *country = api_field_string(body, "country", true, &v);
    const char *display_name = api_field_string(body, "display_name", false, &v);
    const char *reason;
    if (username && (reason = api_username_problem(username)))
        api_invalid(&v, "username", reason);
    if (password) {
        size_t bytes = strlen(password);
        if (bytes > API_PASSWORD_MAX_BYTES)
            api_invalid(&v, "password", "must be at most 1024 bytes");
        else if (utf8_length(password, bytes) < API_PASSWORD_MIN)
            api_invalid(&v, "password", "must be at least 8 characters long");
    }
    if (email && (reason = api_email_problem(email)))
        api_invalid(&v, "email", reason);
    const struct region *region = NULL;
    if (country && !(region = region_for_country(&app->regions, country)))
        api_invalid(&v, "country", "must be an ISO 3166-1 alpha-2 country code, e.g. \"DE\"");
    if (display_name)
        api_check_text(&v, "display_name", display_name, 0, API_DISPLAY_NAME_MAX, false);
    char interests[API_INTERESTS_BYTES];
    bool has_interests = api_parse_interests(body, &v, interests, sizeof interests);
    if (api_validation_failed(req, &v))
        return;

    struct account_new in = {.username = username,
                             .password = password,
                             .email = email,
                             .region = region,
                             .country = country,
                             .display_name = display_name};
    struct store_user user;
    char token[TOKEN_STR_MAX];
    switch (account_create(app, &in, &user, token)) {
    case ACCOUNT_OK:
        /* The account exists: interests that fail to save are logged, and
         * the user can pick them again (PUT /api/v1/me/interests). */
        if (has_interests && interests[0] &&
            api_interests_save(app, user.id, interests) != STORE_OK)
            log_error("event=interests_not_saved user=%llu", (unsigned long long)user.id);
        respond_user_token(req, 201, &user, token);
        return;
    case ACCOUNT_TAKEN: {
        json_t *errors = NULL;
        http_errors_add(&errors, "username", "is already taken");
        http_problem(req, 409, "username-taken", "Username taken",
                     "another account already uses this username", errors);
        return;
    }
    case ACCOUNT_NOT_SERVED:
        api_store_for_region(req, region); /* answers 421 naming the region */
        return;
    default:
        http_problem_status(req, 503, "the account could not be created; the error is logged");
        return;
    }
}

static void create_session(struct http_request *req)
{
    struct app *app = api_app(req);
    json_t *body = http_request_json(req);
    if (!body)
        return;
    static const char *const allowed[] = {"username", "password", NULL};
    struct validation v = {0};
    api_reject_unknown_fields(body, allowed, &v);
    const char *username = api_field_string(body, "username", true, &v);
    const char *password = api_field_string(body, "password", true, &v);
    if (api_validation_failed(req, &v))
        return;
    size_t password_len = strlen(password);
    if (password_len > API_PASSWORD_MAX_BYTES)
        password_len = API_PASSWORD_MAX_BYTES; /* cannot match: keep the cost bounded */

    uint64_t user_id = 0;
    struct store_user user;
    struct store *store = NULL;
    int rc = store_directory_lookup(app->directory, username, &user_id);
    if (rc == STORE_OK) {
        if (!(store = api_store_for_id(req, user_id, "user")))
            return;
        rc = store_user_get(store, user_id, &user);
    }
    if (rc == STORE_ERROR) {
        api_store_problem(req, rc, "user");
        return;
    }
    bool ok;
    if (rc == STORE_OK) {
        ok = credential_password_verify(user.password_hash, password, password_len) &&
             user.status == STORE_USER_ACTIVE;
    } else {
        credential_password_dummy_verify(password, password_len, app->cfg.argon2_ops,
                                         app->cfg.argon2_mem_bytes);
        ok = false;
    }
    if (!ok) {
        http_problem(req, 401, "bad-credentials", "Unauthorized",
                     "unknown username or wrong password", NULL);
        return;
    }
    char token[TOKEN_STR_MAX];
    if (account_session_open(app, user.id, token) != ACCOUNT_OK) {
        api_store_problem(req, STORE_ERROR, "session");
        return;
    }
    respond_user_token(req, 201, &user, token);
}

static void delete_current_session(struct http_request *req)
{
    if (!api_require_user(req))
        return;
    struct store *store = api_store_for_id(req, req->session_id, "session");
    if (!store)
        return;
    int rc = store_session_revoke(store, req->session_id, clock_now_ms());
    if (rc != STORE_OK && rc != STORE_NOTFOUND) {
        api_store_problem(req, rc, "session");
        return;
    }
    http_respond_empty(req, 204);
}

static void get_me(struct http_request *req)
{
    if (!api_require_user(req))
        return;
    struct store_user user;
    struct store *store = api_store_for_id(req, req->user_id, "user");
    if (!store)
        return;
    int rc = store_user_get(store, req->user_id, &user);
    if (rc != STORE_OK) {
        api_store_problem(req, rc, "user");
        return;
    }
    respond_user(req, &user, true);
}

static void patch_me(struct http_request *req)
{
    if (!api_require_user(req))
        return;
    json_t *body = http_request_json(req);
    if (!body)
        return;
    static const char *const allowed[] = {"display_name", "bio", NULL};
    struct validation v = {0};
    api_reject_unknown_fields(body, allowed, &v);
    const char *display_name = api_field_string(body, "display_name", false, &v);
    const char *bio = api_field_string(body, "bio", false, &v);
    if (display_name)
        api_check_text(&v, "display_name", display_name, 0, API_DISPLAY_NAME_MAX, false);
    if (bio)
        api_check_text(&v, "bio", bio, 0, API_BIO_MAX, true);
    if (api_validation_failed(req, &v))
        return;
    struct store *store = api_store_for_id(req, req->user_id, "user");
    if (!store)
        return;
    int rc = store_user_update_profile(store, req->user_id, display_name, bio);
    struct store_user user;
    if (rc == STORE_OK)
        rc = store_user_get(store, req->user_id, &user);
    if (rc != STORE_OK) {
        api_store_problem(req, rc, "user");
        return;
    }
    respond_user(req, &user, true);
}

static void respond_public_user(struct http_request *req, uint64_t id)
{
    struct store *store = api_store_for_id(req, id, "user");
    if (!store)
        return;
    struct store_user user;
    int rc = store_user_get_public(store, id, &user);
    if (rc == STORE_OK && user.status != STORE_USER_ACTIVE)
        rc = STORE_NOTFOUND;
    if (rc != STORE_OK) {
        api_store_problem(req, rc, "user");
        return;
    }
    respond_user(req, &user, false);
}

static void get_user(struct http_request *req)
{
    uint64_t id;
    if (api_param_id(req, "id", &id))
        respond_public_user(req, id);
}

static void get_user_by_name(struct http_request *req)
{
    const char *name = http_request_param(req, "username");
    uint64_t id;
    int rc = name && !api_username_problem(name)
                 ? store_directory_lookup(api_app(req)->directory, name, &id)
                 : STORE_NOTFOUND;
    if (rc != STORE_OK) {
        api_store_problem(req, rc, "user");
        return;
    }
    respond_public_user(req, id);
}

int api_accounts_register(struct http_router *router)
{
    static const struct http_route routes[] = {
        {.method = HTTP_POST, .pattern = "/api/v1/accounts", .handler = create_account},
        {.method = HTTP_POST, .pattern = "/api/v1/sessions", .handler = create_session},
        {.method = HTTP_DELETE,
         .pattern = "/api/v1/sessions/current",
         .handler = delete_current_session},
        {.method = HTTP_GET, .pattern = "/api/v1/me", .handler = get_me},
        {.method = HTTP_PATCH, .pattern = "/api/v1/me", .handler = patch_me},
        {.method = HTTP_GET, .pattern = "/api/v1/users/@{username}", .handler = get_user_by_name},
        {.method = HTTP_GET, .pattern = "/api/v1/users/{id}", .handler = get_user},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (http_router_add(router, &routes[i]) < 0)
            return -1;
    return 0;
}
