/*
 * custodian.c — see custodian.h.
 */
#include "region/custodian.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define KDF_CONTEXT "reelcust"
#define SUBKEY_AUDIT_SIGNING 1
#define SUBKEY_AUDIT_PSEUDONYM 2
#define PUBLIC_HEX (2 * CUSTODIAN_PUBLIC_KEY_BYTES)

void custodian_key_derive(const unsigned char data_key[CUSTODY_KEY_BYTES],
                          struct custodian_key *out)
{
    uint8_t seed[crypto_sign_SEEDBYTES];
    crypto_kdf_derive_from_key(seed, sizeof seed, SUBKEY_AUDIT_SIGNING, KDF_CONTEXT, data_key);
    crypto_sign_seed_keypair(out->sign_public, out->sign_secret, seed);
    crypto_kdf_derive_from_key(out->pseudonym_key, sizeof out->pseudonym_key,
                               SUBKEY_AUDIT_PSEUDONYM, KDF_CONTEXT, data_key);
    sodium_memzero(seed, sizeof seed);
}

void custodian_key_wipe(struct custodian_key *key)
{
    sodium_memzero(key, sizeof *key);
}

int custodian_public_key_path(const struct config *cfg, const struct region *r, char *out)
{
    char key_path[CONFIG_PATH_MAX];
    if (region_key_path(cfg, r, key_path) < 0)
        return -1;
    size_t n = strlen(key_path);
    if (n > 4 && strcmp(key_path + n - 4, ".key") == 0)
        n -= 4;
    if (n + sizeof ".audit.pub" > CONFIG_PATH_MAX)
        return -1;
    memcpy(out, key_path, n);
    memcpy(out + n, ".audit.pub", sizeof ".audit.pub");
    return 0;
}

int custodian_public_key_write(const char *path, const struct custodian_key *key, char *err,
                               size_t errlen)
{
    char text[PUBLIC_HEX + 2], tmp[CONFIG_PATH_MAX + 8];
    sodium_bin2hex(text, sizeof text, key->sign_public, sizeof key->sign_public);
    text[PUBLIC_HEX] = '\n';
    int n = snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        goto fail;
    int ok = write(fd, text, PUBLIC_HEX + 1) == PUBLIC_HEX + 1 && fsync(fd) == 0;
    if (close(fd) < 0 || !ok || rename(tmp, path) < 0 || region_fsync_parent(path) < 0) {
        unlink(tmp);
        goto fail;
    }
    return 0;
fail:
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return -1;
}

int custodian_public_key_read(const char *path, uint8_t out[CUSTODIAN_PUBLIC_KEY_BYTES], char *err,
                              size_t errlen)
{
    char text[PUBLIC_HEX + 4];
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
        text[--n] = '\0';
    size_t bin_len = 0;
    if (n != PUBLIC_HEX ||
        sodium_hex2bin(out, CUSTODIAN_PUBLIC_KEY_BYTES, text, n, NULL, &bin_len, NULL) != 0 ||
        bin_len != CUSTODIAN_PUBLIC_KEY_BYTES) {
        snprintf(err, errlen, "%s: not a public key (64 hex digits)", path);
        return -1;
    }
    return 0;
}

int custodian_key_load(const struct config *cfg, const struct region *r, bool create,
                       struct custodian_key *out, char *err, size_t errlen)
{
    char key_path[CONFIG_PATH_MAX], pub_path[CONFIG_PATH_MAX];
    unsigned char data_key[CUSTODY_KEY_BYTES];
    if (region_key_path(cfg, r, key_path) < 0 || custodian_public_key_path(cfg, r, pub_path) < 0) {
        snprintf(err, errlen, "region %s: key path too long", r->name);
        return -1;
    }
    int rc = create ? custody_key_load_or_create(key_path, data_key, err, errlen)
                    : custody_key_load(key_path, data_key, err, errlen);
    if (rc < 0)
        return -1;
    custodian_key_derive(data_key, out);
    sodium_memzero(data_key, sizeof data_key);
    if (!create)
        return 0;
    uint8_t published[CUSTODIAN_PUBLIC_KEY_BYTES];
    char ignored[CONFIG_ERR_MAX];
    if (custodian_public_key_read(pub_path, published, ignored, sizeof ignored) == 0 &&
        memcmp(published, out->sign_public, sizeof published) == 0)
        return 0;
    if (custodian_public_key_write(pub_path, out, err, errlen) < 0) {
        custodian_key_wipe(out);
        return -1;
    }
    return 0;
}

void custodian_pseudonym(const struct custodian_key *key, uint64_t user_id,
                         uint8_t out[CUSTODIAN_PSEUDONYM_BYTES])
{
    uint8_t id[8];
    for (int i = 0; i < 8; i++)
        id[i] = (uint8_t)(user_id >> (56 - 8 * i));
    crypto_generichash(out, CUSTODIAN_PSEUDONYM_BYTES, id, sizeof id, key->pseudonym_key,
                       sizeof key->pseudonym_key);
}
