/*
 * account.c — see account.h.
 *
 * Residency: the home region is decided by the caller from the declared
 * country and baked into the user id; the user row and sessions are written
 * only to that region's store. The public directory gets the username and
 * id — the only thing about a user stored outside the home region, and
 * public anyway.
 *
 * Order: claim the username in the directory (the cross-region uniqueness
 * point), then create the user and first session in the home store in one
 * transaction; if that fails, release the claim. A crash between the two
 * leaves a claimed name with no user: harmless (the name stays taken) and it
 * never exposes personal data.
 */
#include "api/account.h"

#include "core/clock.h"
#include "core/country.h"
#include "core/id.h"
#include "core/log.h"

#include <stdio.h>
#include <string.h>

static void session_init(struct app *app, uint64_t user_id, struct store_session *session,
                         char token_out[TOKEN_STR_MAX])
{
    struct token token;
    int64_t now = clock_now_ms();
    credential_token_new(&token, id_next(id_region(user_id)));
    memset(session, 0, sizeof *session);
    session->id = token.session_id;
    session->user_id = user_id;
    credential_token_hash(&token, session->token_hash);
    session->created_ms = now;
    session->expires_ms = now + (int64_t)app->cfg.session_ttl_s * 1000;
    credential_token_format(&token, token_out);
}

int account_create(struct app *app, const struct account_new *in, struct store_user *user,
                   char token[TOKEN_STR_MAX])
{
    struct store *store = app_store_for_region(app, in->region);
    if (!store)
        return ACCOUNT_NOT_SERVED;
    memset(user, 0, sizeof *user);
    user->id = id_next(in->region->id);
    snprintf(user->username, sizeof user->username, "%s", in->username);
    snprintf(user->display_name, sizeof user->display_name, "%s",
             in->display_name ? in->display_name : in->username);
    snprintf(user->email, sizeof user->email, "%s", in->email);
    const char *code = country_code(country_index(in->country));
    snprintf(user->country, sizeof user->country, "%s", code ? code : "");
    user->status = STORE_USER_ACTIVE;
    user->created_ms = clock_now_ms();
    if (credential_password_hash(in->password, strlen(in->password), app->cfg.argon2_ops,
                                 app->cfg.argon2_mem_bytes, user->password_hash) < 0)
        return ACCOUNT_ERROR;

    int rc = store_directory_reserve(app->directory, in->username, user->id);
    if (rc == STORE_CONFLICT)
        return ACCOUNT_TAKEN;
    if (rc != STORE_OK)
        return ACCOUNT_ERROR;
    struct store_session session;
    if (token)
        session_init(app, user->id, &session, token);
    rc = store_user_create(store, user, token ? &session : NULL);
    if (rc != STORE_OK) {
        store_directory_release(app->directory, in->username, user->id);
        return rc == STORE_CONFLICT ? ACCOUNT_TAKEN : ACCOUNT_ERROR;
    }
    char idbuf[ID_STR_MAX];
    log_info("event=account_created user=%s region=%s", id_format(user->id, idbuf),
             in->region->name);
    return ACCOUNT_OK;
}

int account_session_open(struct app *app, uint64_t user_id, char token[TOKEN_STR_MAX])
{
    struct store *store = app_store_for_id(app, user_id);
    if (!store)
        return ACCOUNT_NOT_SERVED;
    struct store_session session;
    session_init(app, user_id, &session, token);
    return store_session_create(store, &session) == STORE_OK ? ACCOUNT_OK : ACCOUNT_ERROR;
}
