/*
 * statfile.h — the container every stats file is written in: a small header
 * naming what the file holds, the payload, and a CRC-32C over both.
 *
 *   offset  size  field
 *   ------  ----  ------------------------------------------------------------
 *        0     8  magic: 8 ASCII bytes naming the content ("REELDAY1", ...)
 *        8     4  payload format version (u32 little-endian)
 *       12     4  reserved, 0
 *       16     8  L, payload length in bytes (u64 little-endian)
 *       24     L  payload (its layout belongs to the module that wrote it)
 *     24+L     4  CRC-32C of bytes [0, 24+L) (u32 little-endian)
 *
 * Files are replaced atomically: written to NAME.tmp, fsync'd, renamed over
 * NAME, and the directory fsync'd — a crash leaves the old file or the new
 * one, never a mix. A reader refuses a file whose length, magic or checksum
 * does not match, naming the problem.
 */
#ifndef REEL_STATS_STATFILE_H
#define REEL_STATS_STATFILE_H

#include <stddef.h>
#include <stdint.h>

#define STATFILE_HEADER_BYTES 24
#define STATFILE_TRAILER_BYTES 4

enum {
    STATFILE_OK = 0,
    STATFILE_EIO = -1,      /* open/read/write/fsync/rename failed (errno kept) */
    STATFILE_ENOENT = -2,   /* the file does not exist */
    STATFILE_ECORRUPT = -3, /* wrong magic, length or checksum; truncated */
    STATFILE_ENOMEM = -4,
};

/* Writes payload[0..len) to path atomically and durably. Returns STATFILE_OK
 * or STATFILE_EIO with a message in err. */
int statfile_write(const char *path, const char magic[8], uint32_t version, const void *payload,
                   size_t len, char *err, size_t errlen);

/* Reads a file written by statfile_write with this magic. On success
 * *payload is a new buffer the caller frees with reel_free (NULL when L = 0)
 * and *len its length; files whose payload exceeds max_len are refused as
 * corrupt. Returns STATFILE_OK, STATFILE_ENOENT, STATFILE_EIO,
 * STATFILE_ECORRUPT or STATFILE_ENOMEM, with a message in err. */
int statfile_read(const char *path, const char magic[8], uint32_t *version, uint8_t **payload,
                  size_t *len, size_t max_len, char *err, size_t errlen);

/* Creates a directory and its missing parents (mode 0700). Returns 0 or -1
 * with errno set. */
int statfile_mkdirs(const char *path);

/* Little-endian field helpers for payload layouts. */
void statfile_put_u16(uint8_t *p, uint16_t v);
void statfile_put_u32(uint8_t *p, uint32_t v);
void statfile_put_u64(uint8_t *p, uint64_t v);
uint16_t statfile_get_u16(const uint8_t *p);
uint32_t statfile_get_u32(const uint8_t *p);
uint64_t statfile_get_u64(const uint8_t *p);

#endif
