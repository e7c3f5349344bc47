/*
 * account.h — creating accounts and sessions, shared by the HTTP routes
 * (accounts.c) and the commands that make accounts (operator, seed).
 * Nothing here knows about HTTP. Inputs are validated by the caller
 * (api_username_problem, api_email_problem, password length).
 */
#ifndef REEL_API_ACCOUNT_H
#define REEL_API_ACCOUNT_H

#include "api/app.h"
#include "core/credential.h"

enum account_status {
    ACCOUNT_OK = 0,
    ACCOUNT_TAKEN = -1,      /* the username is held by another account */
    ACCOUNT_NOT_SERVED = -2, /* the home region is not served by this node */
    ACCOUNT_ERROR = -3,      /* store or memory failure (logged) */
};

struct account_new {
    const char *username;
    const char *password;
    const char *email;
    const struct region *region; /* home region (from the country) */
    const char *country;         /* ISO alpha-2, any case */
    const char *display_name;    /* NULL: the username */
};

/* Creates the account in its home region's store, claims the username in the
 * public directory and, if token is not NULL, opens a first session and
 * writes its bearer token there. Fills *out. Returns an ACCOUNT_* status. */
int account_create(struct app *app, const struct account_new *in, struct store_user *out,
                   char token[TOKEN_STR_MAX]);

/* Opens a session for user_id in its home region's store; writes the bearer
 * token. Returns ACCOUNT_OK or ACCOUNT_ERROR / ACCOUNT_NOT_SERVED. */
int account_session_open(struct app *app, uint64_t user_id, char token[TOKEN_STR_MAX]);

#endif
