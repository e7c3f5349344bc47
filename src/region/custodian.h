/*
 * custodian.h — a region custodian's key: one secret per region from which
 * every key the region's data protection needs is derived, kept in a file
 * only the server's user can read.
 *
 * Key file <key_dir>/<region>.key (mode 0600, 40 bytes):
 *
 *   offset  size  field
 *   ------  ----  ------------------------------------------------------------
 *        0     8  magic "REELCKEY"
 *        8    32  master secret (random, libsodium randombytes_buf)
 *
 * Public key file <key_dir>/<region>.pub (mode 0644): the audit signing
 * public key as 64 lower-case hex digits and a newline — what an auditor
 * needs to check signed tree heads without the secret.
 *
 * Derived keys (crypto_kdf_derive_from_key, context "reelcust"):
 *   subkey 1  seed of the Ed25519 key that signs audit tree heads
 *   subkey 2  key of the subject pseudonyms in audit records
 *   subkey 3  reserved: encryption of personal fields at rest
 * Deriving instead of storing several keys means one file to guard, back
 * up and hand over, and a compromise of a derived key does not reveal the
 * others.
 *
 * Loading refuses a key file that group or others may access, or that
 * another user owns (as ssh does for private keys): a readable custodian key
 * would let anyone forge the audit log's signatures.
 */
#ifndef REEL_REGION_CUSTODIAN_H
#define REEL_REGION_CUSTODIAN_H

#include "core/config.h"

#include <stddef.h>
#include <stdint.h>

#define CUSTODIAN_PUBLIC_KEY_BYTES 32
#define CUSTODIAN_SIGNATURE_BYTES 64
#define CUSTODIAN_PSEUDONYM_BYTES 16

struct custodian_key {
    uint8_t master[32];
    uint8_t sign_public[CUSTODIAN_PUBLIC_KEY_BYTES];
    uint8_t sign_secret[64]; /* libsodium's Ed25519 secret key */
    uint8_t pseudonym_key[32];
};

/* <key_dir>/<region><suffix> (suffix ".key" or ".pub") into out
 * (CONFIG_PATH_MAX bytes). Returns 0 or -1 if too long. */
int custodian_key_path(const struct config *cfg, const char *region, const char *suffix, char *out);

/* Creates a new key at path (parent directories made with mode 0700; the
 * file with O_EXCL and mode 0600, fsync'd) and the matching .pub next to it.
 * Fails if the file exists. Returns 0, or -1 with err. */
int custodian_key_create(const char *path, struct custodian_key *out, char *err, size_t errlen);
/* Loads a key file. Returns 0, or -1 with err: missing, wrong size or magic,
 * permissions wider than 0600, or owned by another user. */
int custodian_key_load(const char *path, struct custodian_key *out, char *err, size_t errlen);
/* Loads the key, creating it first if the file does not exist. */
int custodian_key_load_or_create(const char *path, struct custodian_key *out, char *err,
                                 size_t errlen);
/* Zeroes the key material. */
void custodian_key_wipe(struct custodian_key *key);

/* Reads a .pub file. Returns 0, or -1 with err. */
int custodian_public_key_read(const char *path, uint8_t out[CUSTODIAN_PUBLIC_KEY_BYTES], char *err,
                              size_t errlen);

/* The pseudonym of a user id in audit records: a keyed BLAKE2b hash (16
 * bytes). Stable for one key, unlinkable to the id without it. */
void custodian_pseudonym(const struct custodian_key *key, uint64_t user_id,
                         uint8_t out[CUSTODIAN_PSEUDONYM_BYTES]);

#endif
