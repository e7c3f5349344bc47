/*
 * audit_int.h — what audit.c (writing) and audit_read.c (verifying,
 * proving) share: file layout constants, header and head encodings, and a
 * sequential frame scanner. Not for use outside src/region.
 */
#ifndef REEL_REGION_AUDIT_INT_H
#define REEL_REGION_AUDIT_INT_H

#include "core/config.h"
#include "region/audit.h"

#include <stdio.h>

#define AUDIT_LOG_MAGIC "REELAUDL"
#define AUDIT_HEADS_MAGIC "REELAUDH"
#define AUDIT_VERSION 1
#define AUDIT_LOG_HEADER_BYTES 48
#define AUDIT_HEADS_HEADER_BYTES 80
#define AUDIT_HEAD_BYTES 112
#define AUDIT_FRAME_HEADER_BYTES 4
#define AUDIT_LOG_NAME "audit.log"
#define AUDIT_HEADS_NAME "audit.heads"

void audit_put_u64(uint8_t *p, uint64_t v);
uint64_t audit_get_u64(const uint8_t *p);

/* <dir>/audit.log and <dir>/audit.heads (CONFIG_PATH_MAX each). Returns 0 or
 * -1 if too long. */
int audit_paths(const char *dir, char *log_path, char *heads_path);

void audit_log_header(uint8_t out[AUDIT_LOG_HEADER_BYTES], const char *region);
void audit_heads_header(uint8_t out[AUDIT_HEADS_HEADER_BYTES], const char *region,
                        const uint8_t public_key[CUSTODIAN_PUBLIC_KEY_BYTES]);
/* Check magic, version, reserved bytes and region. Return 0, or -1 with err.
 * The heads check hands back the public key it names. */
int audit_check_log_header(const uint8_t h[AUDIT_LOG_HEADER_BYTES], const char *region, char *err,
                           size_t errlen);
int audit_check_heads_header(const uint8_t h[AUDIT_HEADS_HEADER_BYTES], const char *region,
                             uint8_t public_key[CUSTODIAN_PUBLIC_KEY_BYTES], char *err,
                             size_t errlen);

void audit_head_encode(const struct audit_head *head, uint8_t out[AUDIT_HEAD_BYTES]);
void audit_head_decode(const uint8_t in[AUDIT_HEAD_BYTES], struct audit_head *out);
/* Signs head (tree_size, time_ms and root set) for region. */
void audit_head_sign(struct audit_head *head, const char *region, const struct custodian_key *key);

/* Reads records one after another from a log opened for reading, positioned
 * after its header. */
struct audit_scan {
    FILE *f;
    uint64_t offset; /* of the next frame */
};

enum { AUDIT_SCAN_END = 0, AUDIT_SCAN_RECORD = 1, AUDIT_SCAN_TORN = -1 };

/* Reads the next frame into buf (AUDIT_RECORD_MAX bytes) and its length.
 * Returns AUDIT_SCAN_RECORD, AUDIT_SCAN_END at a clean end of file, or
 * AUDIT_SCAN_TORN when the rest of the file is not a whole frame (a
 * length of 0 or past AUDIT_RECORD_MAX, or fewer bytes than it says). */
int audit_scan_next(struct audit_scan *s, uint8_t *buf, size_t *len);

/* "2026-11-27T12:00:00.000Z support 123 (eu) admin.user.read: allowed" */
void audit_record_describe(const struct audit_record *r, char *out, size_t size);

#endif
