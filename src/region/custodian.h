/*
 * custodian.h — the audit keys of a region's custodian, derived from the
 * region's data key (custody.h).
 *
 * The custodian holds one secret per region: the data key file
 * (<data_dir>/custody/<region>.key or the region's key_file, mode 0600,
 * outside every site directory). Rather than a second secret file to guard,
 * back up and hand over, the audit keys are derived from it with libsodium's
 * crypto_kdf (BLAKE2b; context "reelcust"):
 *
 *   subkey 1  seed of the Ed25519 key that signs audit tree heads
 *   subkey 2  key of the subject pseudonyms in audit records
 *
 * A KDF output reveals nothing about its input or about the other subkeys,
 * so a leaked pseudonym key does not expose the data key or the signing key.
 *
 * Public key file <key path minus ".key">.audit.pub (mode 0644): the signing
 * public key as 64 lower-case hex digits and a newline — all an auditor needs
 * to check signed tree heads (`reel audit verify --public-key`).
 */
#ifndef REEL_REGION_CUSTODIAN_H
#define REEL_REGION_CUSTODIAN_H

#include "region/custody.h"
#include "region/region.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CUSTODIAN_PUBLIC_KEY_BYTES 32
#define CUSTODIAN_SIGNATURE_BYTES 64
#define CUSTODIAN_PSEUDONYM_BYTES 16

struct custodian_key {
    uint8_t sign_public[CUSTODIAN_PUBLIC_KEY_BYTES];
    uint8_t sign_secret[64]; /* libsodium's Ed25519 secret key */
    uint8_t pseudonym_key[32];
};

/* Derives the audit keys from a region's data key. */
void custodian_key_derive(const unsigned char data_key[CUSTODY_KEY_BYTES],
                          struct custodian_key *out);
/* Loads region r's data key (custody_key_load, or custody_key_load_or_create
 * when create is set) and derives the audit keys. With create, also writes
 * the public key file if it is missing or stale. Returns 0, or -1 with err
 * (missing, malformed or group/other-readable key file, unwritable .pub). */
int custodian_key_load(const struct config *cfg, const struct region *r, bool create,
                       struct custodian_key *out, char *err, size_t errlen);
/* Zeroes the key material. */
void custodian_key_wipe(struct custodian_key *key);

/* <key path minus ".key">.audit.pub into out (CONFIG_PATH_MAX bytes).
 * Returns 0 or -1 if too long. */
int custodian_public_key_path(const struct config *cfg, const struct region *r, char *out);
/* Writes the public key file (atomically, fsync'd). Returns 0 or -1 with err. */
int custodian_public_key_write(const char *path, const struct custodian_key *key, char *err,
                               size_t errlen);
/* Reads a public key file. Returns 0, or -1 with err. */
int custodian_public_key_read(const char *path, uint8_t out[CUSTODIAN_PUBLIC_KEY_BYTES], char *err,
                              size_t errlen);

/* The pseudonym of a user id in audit records: keyed BLAKE2b (16 bytes) of
 * the id's 8 big-endian bytes. Stable for one key, unlinkable to the id
 * without it. */
void custodian_pseudonym(const struct custodian_key *key, uint64_t user_id,
                         uint8_t out[CUSTODIAN_PSEUDONYM_BYTES]);

#endif
