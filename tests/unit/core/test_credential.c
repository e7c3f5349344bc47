/*
 * Passwords (argon2id) and bearer tokens.
 */
#include "core/credential.h"

#include <criterion/criterion.h>
#include <string.h>

static void setup(void)
{
    cr_assert_eq(credential_init(), 0);
}

/* Cheapest argon2id cost: the algorithm is what is under test, not its cost. */
#define OPS 1
#define MEM 8192

Test(credential, password_round_trip, .init = setup)
{
    char hash[PASSWORD_HASH_MAX];
    const char *pw = "correct horse battery staple";
    cr_assert_eq(credential_password_hash(pw, strlen(pw), OPS, MEM, hash), 0);
    cr_assert(strncmp(hash, "$argon2id$", 10) == 0, "%s", hash);
    cr_assert_null(strstr(hash, pw));
    cr_assert(credential_password_verify(hash, pw, strlen(pw)));
    cr_assert_not(credential_password_verify(hash, "correct horse battery stapl", strlen(pw) - 1));
    cr_assert_not(credential_password_verify(hash, "", 0));
}

Test(credential, same_password_different_salt, .init = setup)
{
    char a[PASSWORD_HASH_MAX], b[PASSWORD_HASH_MAX];
    cr_assert_eq(credential_password_hash("password1", 9, OPS, MEM, a), 0);
    cr_assert_eq(credential_password_hash("password1", 9, OPS, MEM, b), 0);
    cr_assert_str_neq(a, b);
}

Test(credential, token_round_trip, .init = setup)
{
    struct token t, back;
    char s[TOKEN_STR_MAX];
    credential_token_new(&t, 148056038008356864ULL);
    credential_token_format(&t, s);
    cr_assert(strncmp(s, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) == 0);
    cr_assert_eq(credential_token_parse(s, strlen(s), &back), 0);
    cr_assert_eq(back.session_id, t.session_id);
    cr_assert_eq(memcmp(back.secret, t.secret, TOKEN_SECRET_BYTES), 0);
}

Test(credential, tokens_are_random_and_256_bit, .init = setup)
{
    struct token a, b;
    credential_token_new(&a, 1);
    credential_token_new(&b, 1);
    cr_assert_eq(sizeof a.secret * 8, 256);
    cr_assert_neq(memcmp(a.secret, b.secret, sizeof a.secret), 0);
}

Test(credential, token_hash_binds_secret_and_session, .init = setup)
{
    struct token t, other;
    unsigned char h1[TOKEN_HASH_BYTES], h2[TOKEN_HASH_BYTES];
    credential_token_new(&t, 42);
    credential_token_hash(&t, h1);
    other = t;
    other.secret[0] ^= 1;
    credential_token_hash(&other, h2);
    cr_assert_not(credential_token_hash_equal(h1, h2));
    other = t;
    other.session_id = 43;
    credential_token_hash(&other, h2);
    cr_assert_not(credential_token_hash_equal(h1, h2));
    credential_token_hash(&t, h2);
    cr_assert(credential_token_hash_equal(h1, h2));
}

Test(credential, malformed_tokens_rejected, .init = setup)
{
    struct token t;
    char good[TOKEN_STR_MAX];
    credential_token_new(&t, 7);
    credential_token_format(&t, good);
    size_t n = strlen(good);
    char s[TOKEN_STR_MAX + 8];

    cr_assert_neq(credential_token_parse("", 0, &t), 0);
    cr_assert_neq(credential_token_parse(good, n - 1, &t), 0); /* truncated */
    memcpy(s, good, n);
    s[n] = 'A';
    cr_assert_neq(credential_token_parse(s, n + 1, &t), 0); /* too long */
    memcpy(s, good, n);
    s[0] = 'x';
    cr_assert_neq(credential_token_parse(s, n, &t), 0); /* wrong prefix */
    memcpy(s, good, n);
    s[10] = '*';
    cr_assert_neq(credential_token_parse(s, n, &t), 0); /* not base64url */
    memcpy(s, good, n);
    s[20] = '\0';
    cr_assert_neq(credential_token_parse(s, n, &t), 0); /* NUL inside */
}
