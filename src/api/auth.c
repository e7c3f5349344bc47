/*
 * auth.c — bearer-token authentication (see core/credential.h for the token
 * format). The token's session id names the region store holding the
 * session, so a check is one primary-key read in the right store, or none
 * when the session is in the cache (session_cache.c).
 */
#include "api/api.h"

#include "core/clock.h"
#include "core/credential.h"

#include <string.h>
#include <strings.h>

static void unauthorized(struct http_request *req, const char *detail)
{
    http_problem(req, 401, "unauthorized", "Unauthorized", detail, NULL);
    http_response_header(req, "WWW-Authenticate", "Bearer realm=\"reel\"");
}

void api_authenticate(struct http_request *req)
{
    req->user_id = 0;
    req->session_id = 0;
    const char *auth = http_request_header(req, "Authorization");
    if (!auth)
        return;
    if (strncasecmp(auth, "Bearer ", 7) != 0) {
        unauthorized(req, "the Authorization header must be \"Bearer <token>\"");
        return;
    }
    const char *token_str = auth + 7;
    while (*token_str == ' ')
        token_str++;
    struct token token;
    if (credential_token_parse(token_str, strlen(token_str), &token) < 0) {
        unauthorized(req, "the token is malformed");
        return;
    }
    const struct region *region = region_for_id(&api_app(req)->regions, token.session_id);
    if (!region) {
        unauthorized(req, "the token is not valid");
        return;
    }
    struct store *store = api_store_for_region(req, region);
    if (!store)
        return; /* 421: the session lives in a region this node does not serve */
    struct session_cache *cache = api_app(req)->session_cache;
    struct store_session session;
    int rc = STORE_OK;
    if (!api_session_cache_get(cache, token.session_id, &session)) {
        struct cache_stamp stamp;
        api_session_cache_stamp(cache, token.session_id, &stamp);
        rc = store_session_get(store, token.session_id, &session);
        if (rc == STORE_ERROR) {
            http_problem_status(req, 503, "the session store is unavailable");
            return;
        }
        if (rc == STORE_OK)
            api_session_cache_put(cache, &session, &stamp);
    }
    unsigned char hash[TOKEN_HASH_BYTES];
    credential_token_hash(&token, hash);
    if (rc != STORE_OK || !credential_token_hash_equal(hash, session.token_hash)) {
        unauthorized(req, "the token is not valid");
        return;
    }
    if (session.revoked_ms) {
        unauthorized(req, "the token has been revoked (logged out)");
        return;
    }
    if (clock_now_ms() >= session.expires_ms) {
        unauthorized(req, "the token has expired; log in again");
        return;
    }
    req->user_id = session.user_id;
    req->session_id = session.id;
}

bool api_require_user(struct http_request *req)
{
    if (req->user_id)
        return true;
    unauthorized(req, "this action needs a logged-in user (Authorization: Bearer <token>)");
    return false;
}
