/*
 * credential.h — passwords and bearer tokens.
 *
 * Passwords are hashed with argon2id (libsodium crypto_pwhash_str_alg); the
 * encoded hash carries its own salt and cost, so raising the cost later only
 * affects new hashes. Verification is constant-time in libsodium.
 *
 * A bearer token is the session id followed by a 256-bit random secret:
 *
 *   "reel_" base64url( session_id (8 bytes, big-endian) || secret (32 bytes) )
 *
 * The session id is an ordinary Reel id, so its region bits say which
 * region's store holds the session, and the lookup is by primary key. Only a
 * BLAKE2b hash of the secret is stored; a stolen database does not yield
 * usable tokens, and comparison is constant-time.
 */
#ifndef REEL_CORE_CREDENTIAL_H
#define REEL_CORE_CREDENTIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PASSWORD_HASH_MAX 128 /* crypto_pwhash_STRBYTES */
#define TOKEN_SECRET_BYTES 32
#define TOKEN_HASH_BYTES 32
#define TOKEN_PREFIX "reel_"
#define TOKEN_STR_MAX 64 /* "reel_" + 54 base64url chars + NUL */

/* Initialises libsodium. Returns 0 or -1 (no usable randomness). */
int credential_init(void);

/* Hashes a password into out (PASSWORD_HASH_MAX bytes) with the given argon2id
 * cost. Returns 0, or -1 when out of memory. */
int credential_password_hash(const char *password, size_t len, unsigned ops, size_t mem_bytes,
                             char out[PASSWORD_HASH_MAX]);
/* True if password matches the encoded hash. */
bool credential_password_verify(const char *encoded_hash, const char *password, size_t len);
/* Spends the time of one verification without a hash, so that "no such user"
 * and "wrong password" take as long as each other. */
void credential_password_dummy_verify(const char *password, size_t len, unsigned ops,
                                      size_t mem_bytes);

struct token {
    uint64_t session_id;
    unsigned char secret[TOKEN_SECRET_BYTES];
};

/* Fills token->secret with fresh randomness for session_id. */
void credential_token_new(struct token *token, uint64_t session_id);
/* Writes the token's string form (TOKEN_STR_MAX bytes). */
void credential_token_format(const struct token *token, char out[TOKEN_STR_MAX]);
/* Parses a token string of exactly `len` bytes. Returns 0 or -1. */
int credential_token_parse(const char *s, size_t len, struct token *token);
/* The value stored for a token: BLAKE2b-256 of its secret keyed by nothing
 * but bound to the session id. */
void credential_token_hash(const struct token *token, unsigned char out[TOKEN_HASH_BYTES]);
/* Constant-time comparison of two token hashes. */
bool credential_token_hash_equal(const unsigned char a[TOKEN_HASH_BYTES],
                                 const unsigned char b[TOKEN_HASH_BYTES]);

#endif
