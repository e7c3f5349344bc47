/*
 * accounts.c — sign-up, log-in/out, the caller's profile, public profiles
 * (API.md "Accounts").
 *
 * Residency: the home region comes from the declared country at sign-up and
 * is baked into the user id. The user row and sessions are written only to
 * that region's store. The public directory gets the username and id — the
 * only thing about a user stored outside the home region, and public anyway.
 *
 * Sign-up order: claim the username in the directory (the cross-region
 * uniqueness point), then create the user and first session in the home
 * store in one transaction; if that fails, release the claim. A crash
 * between the two leaves a claimed name with no user: harmless (the name
 * stays taken) and it never exposes personal data.
 */
#include "api/api.h"

#include "core/clock.h"
#include "core/country.h"
#include "core/credential.h"
#include "core/id.h"
#include "core/log.h"
#include "core/parse.h"

#include <stdio.h>
#include <string.h>

static int new_session(struct app *app, const struct region *region, uint64_t user_id,
                       struct store_session *session, char token_out[TOKEN_STR_MAX])
{
    struct token token;
    int64_t now = clock_now_ms();
    credential_token_new(&token, id_next(region->id));
    memset(session, 0, sizeof *session);
    session->id = token.session_id;
    session->user_id = user_id;
    credential_token_hash(&token, session->token_hash);
    session->created_ms = now;
    session->expires_ms = now + (int64_t)app->cfg.session_ttl_s * 1000;
    credential_token_format(&token, token_out);
    return 0;
}

static void respond_user_token(struct http_request *req, int status,
                               const struct store_user *user, const char *token)
{
    json_t *body = json_pack("{s:o?, s:s}", "user", api_me_json(api_app(req), user), "token", token);
    http_respond_json(req, status, body);
}

static void create_account(struct http_request *req)
{
    struct app *app = api_app(req);
    json_t *body = http_request_json(req);
    if (!body)
        return;
    static const char *const allowed[] = {"username", "password", "email", "country",
                                          "display_name", NULL};
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
    if (api_validation_failed(req, &v))
        return;

    struct store *store = api_store_for_region(req, region);
    if (!store)
        return;
    struct store_user user;
    memset(&user, 0, sizeof user);
    user.id = id_next(region->id);
    snprintf(user.username, sizeof user.username, "%s", username);
    snprintf(user.display_name, sizeof user.display_name, "%s", display_name ? display_name : username);
    snprintf(user.email, sizeof user.email, "%s", email);
    snprintf(user.country, sizeof user.country, "%s", country_code(country_index(country)));
    user.status = STORE_USER_ACTIVE;
    user.created_ms = clock_now_ms();
    if (credential_password_hash(password, strlen(password), app->cfg.argon2_ops,
                                 app->cfg.argon2_mem_bytes, user.password_hash) < 0) {
        http_problem_status(req, 503, "could not hash the password (out of memory)");
        return;
    }

    int rc = store_directory_reserve(app->directory, username, user.id);
    if (rc == STORE_CONFLICT) {
        json_t *errors = NULL;
        http_errors_add(&errors, "username", "is already taken");
        http_problem(req, 409, "username-taken", "Username taken",
                     "another account already uses this username", errors);
        return;
    }
    if (rc != STORE_OK) {
        api_store_problem(req, rc, "username");
        return;
    }
    struct store_session session;
    char token[TOKEN_STR_MAX];
    new_session(app, region, user.id, &session, token);
    rc = store_user_create(store, &user, &session);
    if (rc != STORE_OK) {
        store_directory_release(app->directory, username, user.id);
        api_store_problem(req, rc, "account");
        return;
    }
    char idbuf[ID_STR_MAX];
    log_info("event=account_created user=%s region=%s", id_format(user.id, idbuf), region->name);
    respond_user_token(req, 201, &user, token);
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
    struct store_session session;
    char token[TOKEN_STR_MAX];
    new_session(app, region_for_id(&app->regions, user.id), user.id, &session, token);
    rc = store_session_create(store, &session);
    if (rc != STORE_OK) {
        api_store_problem(req, rc, "session");
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
    struct app *app = api_app(req);
    struct store_user user;
    struct store *store = api_store_for_id(req, req->user_id, "user");
    if (!store)
        return;
    int rc = store_user_get(store, req->user_id, &user);
    if (rc != STORE_OK) {
        api_store_problem(req, rc, "user");
        return;
    }
    http_respond_json(req, 200, api_me_json(app, &user));
}

static void patch_me(struct http_request *req)
{
    if (!api_require_user(req))
        return;
    struct app *app = api_app(req);
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
    http_respond_json(req, 200, api_me_json(app, &user));
}

static void respond_public_user(struct http_request *req, uint64_t id)
{
    struct app *app = api_app(req);
    struct store *store = api_store_for_id(req, id, "user");
    if (!store)
        return;
    struct store_user user;
    int rc = store_user_get(store, id, &user);
    if (rc == STORE_OK && user.status != STORE_USER_ACTIVE)
        rc = STORE_NOTFOUND;
    if (rc != STORE_OK) {
        api_store_problem(req, rc, "user");
        return;
    }
    http_respond_json(req, 200, api_user_json(app, &user));
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
        {.method = HTTP_DELETE, .pattern = "/api/v1/sessions/current",
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
