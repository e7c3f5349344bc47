/*
 * custodian.c — see custodian.h.
 */
#include "region/custodian.h"

#include "region/region.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_MAGIC "REELCKEY"
#define KEY_FILE_BYTES 40
#define KDF_CONTEXT "reelcust"
#define SUBKEY_AUDIT_SIGNING 1
#define SUBKEY_AUDIT_PSEUDONYM 2

int custodian_key_path(const struct config *cfg, const char *region, const char *suffix, char *out)
{
    int n = cfg->key_dir[0]
                ? snprintf(out, CONFIG_PATH_MAX, "%s/%s%s", cfg->key_dir, region, suffix)
                : snprintf(out, CONFIG_PATH_MAX, "%s/keys/%s%s", cfg->data_dir, region, suffix);
    return n < 0 || n >= CONFIG_PATH_MAX ? -1 : 0;
}

static void derive(struct custodian_key *key)
{
    uint8_t seed[crypto_sign_SEEDBYTES];
    crypto_kdf_derive_from_key(seed, sizeof seed, SUBKEY_AUDIT_SIGNING, KDF_CONTEXT, key->master);
    crypto_sign_seed_keypair(key->sign_public, key->sign_secret, seed);
    crypto_kdf_derive_from_key(key->pseudonym_key, sizeof key->pseudonym_key,
                               SUBKEY_AUDIT_PSEUDONYM, KDF_CONTEXT, key->master);
    sodium_memzero(seed, sizeof seed);
}

void custodian_key_wipe(struct custodian_key *key)
{
    sodium_memzero(key, sizeof *key);
}

/* <path minus ".key">.pub */
static int public_path(const char *key_path, char *out)
{
    size_t n = strlen(key_path);
    if (n > 4 && strcmp(key_path + n - 4, ".key") == 0)
        n -= 4;
    int w = snprintf(out, CONFIG_PATH_MAX, "%.*s.pub", (int)n, key_path);
    return w < 0 || w >= CONFIG_PATH_MAX ? -1 : 0;
}

static int write_file(const char *path, const void *data, size_t len, int mode, int exclusive)
{
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC);
    int fd = open(path, flags, mode);
    if (fd < 0)
        return -1;
    const uint8_t *p = data;
    size_t left = len;
    while (left) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto fail;
        p += n;
        left -= (size_t)n;
    }
    if (fsync(fd) < 0)
        goto fail;
    return close(fd);
fail:
    close(fd);
    return -1;
}

int custodian_key_create(const char *path, struct custodian_key *out, char *err, size_t errlen)
{
    char dir[CONFIG_PATH_MAX], pub[CONFIG_PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (public_path(path, pub) < 0) {
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    }
    if (slash && slash != path) {
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
        if (region_mkdirs(dir, 0700) < 0) {
            snprintf(err, errlen, "%s: %s", dir, strerror(errno));
            return -1;
        }
    }
    memset(out, 0, sizeof *out);
    randombytes_buf(out->master, sizeof out->master);
    derive(out);
    uint8_t file[KEY_FILE_BYTES];
    memcpy(file, KEY_MAGIC, 8);
    memcpy(file + 8, out->master, sizeof out->master);
    int rc = write_file(path, file, sizeof file, 0600, 1);
    sodium_memzero(file, sizeof file);
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        custodian_key_wipe(out);
        return -1;
    }
    char hex[2 * CUSTODIAN_PUBLIC_KEY_BYTES + 2];
    sodium_bin2hex(hex, sizeof hex, out->sign_public, sizeof out->sign_public);
    hex[2 * CUSTODIAN_PUBLIC_KEY_BYTES] = '\n';
    if (write_file(pub, hex, 2 * CUSTODIAN_PUBLIC_KEY_BYTES + 1, 0644, 0) < 0 ||
        region_fsync_parent(path) < 0) {
        snprintf(err, errlen, "%s: %s", pub, strerror(errno));
        custodian_key_wipe(out);
        return -1;
    }
    return 0;
}

int custodian_key_load(const char *path, struct custodian_key *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    uint8_t file[KEY_FILE_BYTES + 1];
    ssize_t n = -1;
    if (fstat(fd, &st) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
        snprintf(err, errlen, "%s: not a regular file owned by this user", path);
        goto fail;
    }
    if (st.st_mode & 077) {
        snprintf(err, errlen,
                 "%s: permissions %04o are too open: a custodian key must be readable by its "
                 "owner only (chmod 600 %s)",
                 path, (unsigned)(st.st_mode & 07777), path);
        goto fail;
    }
    n = read(fd, file, sizeof file);
    if (n != KEY_FILE_BYTES || memcmp(file, KEY_MAGIC, 8) != 0) {
        snprintf(err, errlen, "%s: not a custodian key file", path);
        goto fail;
    }
    memcpy(out->master, file + 8, sizeof out->master);
    sodium_memzero(file, sizeof file);
    close(fd);
    derive(out);
    return 0;
fail:
    sodium_memzero(file, sizeof file);
    close(fd);
    return -1;
}

int custodian_key_load_or_create(const char *path, struct custodian_key *out, char *err,
                                 size_t errlen)
{
    if (access(path, F_OK) < 0 && errno == ENOENT) {
        if (custodian_key_create(path, out, err, errlen) == 0)
            return 0;
        if (errno != EEXIST) /* lost a race with another creator: load theirs */
            return -1;
    }
    return custodian_key_load(path, out, err, errlen);
}

int custodian_public_key_read(const char *path, uint8_t out[CUSTODIAN_PUBLIC_KEY_BYTES], char *err,
                              size_t errlen)
{
    char text[2 * CUSTODIAN_PUBLIC_KEY_BYTES + 4];
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
    if (n != 2 * CUSTODIAN_PUBLIC_KEY_BYTES ||
        sodium_hex2bin(out, CUSTODIAN_PUBLIC_KEY_BYTES, text, n, NULL, &bin_len, NULL) != 0 ||
        bin_len != CUSTODIAN_PUBLIC_KEY_BYTES) {
        snprintf(err, errlen, "%s: not a public key (64 hex digits)", path);
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
