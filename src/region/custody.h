/*
 * custody.h — a region's data key, held by the region's custodian.
 *
 * The most sensitive personal fields (e-mail, password hash) are encrypted
 * at rest with a per-region 256-bit key. The key lives in a file outside every
 * site directory (default <data_dir>/custody/<region>.key, or the region's
 * `key_file`), readable only by its owner (mode 0600): a copy of a site —
 * a replica, a backup, a disk sent for repair — without the key file holds
 * only ciphertext for those fields.
 *
 * Key file format (44 bytes):
 *
 *   offset  size  field
 *   0       8     magic "REELKEY1"
 *   8       32    key (random, libsodium randombytes)
 *   40      4     check: the first 4 bytes of BLAKE2b-256(key)
 */
#ifndef REEL_REGION_CUSTODY_H
#define REEL_REGION_CUSTODY_H

#include <stddef.h>

#define CUSTODY_KEY_BYTES 32

/* Loads the key at path, creating it (and its directory, mode 0700) with a
 * fresh random key if the file does not exist. Refuses a file that is
 * readable by group or others, or malformed. Returns 0 or -1 with err. */
int custody_key_load_or_create(const char *path, unsigned char key[CUSTODY_KEY_BYTES], char *err,
                               size_t errlen);
/* Loads an existing key; never creates one. Returns 0 or -1 with err. */
int custody_key_load(const char *path, unsigned char key[CUSTODY_KEY_BYTES], char *err,
                     size_t errlen);

#endif
