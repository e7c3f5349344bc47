/*
 * credential.c — see credential.h.
 */
#include "core/credential.h"

#include <sodium.h>
#include <string.h>

_Static_assert(PASSWORD_HASH_MAX == crypto_pwhash_STRBYTES, "pwhash string size");

int credential_init(void)
{
    return sodium_init() < 0 ? -1 : 0;
}

int credential_password_hash(const char *password, size_t len, unsigned ops, size_t mem_bytes,
                             char out[PASSWORD_HASH_MAX])
{
    if (crypto_pwhash_str_alg(out, password, len, ops, mem_bytes, crypto_pwhash_ALG_ARGON2ID13) != 0)
        return -1;
    return 0;
}

bool credential_password_verify(const char *encoded_hash, const char *password, size_t len)
{
    return crypto_pwhash_str_verify(encoded_hash, password, len) == 0;
}

void credential_password_dummy_verify(const char *password, size_t len, unsigned ops,
                                      size_t mem_bytes)
{
    char scratch[PASSWORD_HASH_MAX];
    /* Same cost as a real verification: hash with the configured parameters. */
    if (credential_password_hash(password, len, ops, mem_bytes, scratch) == 0)
        sodium_memzero(scratch, sizeof scratch);
}

void credential_token_new(struct token *token, uint64_t session_id)
{
    token->session_id = session_id;
    randombytes_buf(token->secret, sizeof token->secret);
}

void credential_token_format(const struct token *token, char out[TOKEN_STR_MAX])
{
    unsigned char raw[8 + TOKEN_SECRET_BYTES];
    for (int i = 0; i < 8; i++)
        raw[i] = (unsigned char)(token->session_id >> (56 - 8 * i));
    memcpy(raw + 8, token->secret, TOKEN_SECRET_BYTES);
    size_t prefix = sizeof TOKEN_PREFIX - 1;
    memcpy(out, TOKEN_PREFIX, prefix);
    sodium_bin2base64(out + prefix, TOKEN_STR_MAX - prefix, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

int credential_token_parse(const char *s, size_t len, struct token *token)
{
    size_t prefix = sizeof TOKEN_PREFIX - 1;
    size_t encoded = sodium_base64_ENCODED_LEN(8 + TOKEN_SECRET_BYTES,
                                               sodium_base64_VARIANT_URLSAFE_NO_PADDING) - 1;
    if (len != prefix + encoded || memcmp(s, TOKEN_PREFIX, prefix) != 0)
        return -1;
    unsigned char raw[8 + TOKEN_SECRET_BYTES];
    size_t raw_len = 0;
    const char *end = NULL;
    if (sodium_base642bin(raw, sizeof raw, s + prefix, encoded, NULL, &raw_len, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        raw_len != sizeof raw || end != s + len)
        return -1;
    uint64_t id = 0;
    for (int i = 0; i < 8; i++)
        id = (id << 8) | raw[i];
    token->session_id = id;
    memcpy(token->secret, raw + 8, TOKEN_SECRET_BYTES);
    sodium_memzero(raw, sizeof raw);
    return 0;
}

void credential_token_hash(const struct token *token, unsigned char out[TOKEN_HASH_BYTES])
{
    crypto_generichash_state st;
    unsigned char id_be[8];
    for (int i = 0; i < 8; i++)
        id_be[i] = (unsigned char)(token->session_id >> (56 - 8 * i));
    crypto_generichash_init(&st, NULL, 0, TOKEN_HASH_BYTES);
    crypto_generichash_update(&st, (const unsigned char *)"reel-session-v1", 15);
    crypto_generichash_update(&st, id_be, sizeof id_be);
    crypto_generichash_update(&st, token->secret, TOKEN_SECRET_BYTES);
    crypto_generichash_final(&st, out, TOKEN_HASH_BYTES);
}

bool credential_token_hash_equal(const unsigned char a[TOKEN_HASH_BYTES],
                                 const unsigned char b[TOKEN_HASH_BYTES])
{
    return sodium_memcmp(a, b, TOKEN_HASH_BYTES) == 0;
}
