/*
 * crc32c.h — CRC-32C (Castagnoli), the checksum of every stats file and
 * encoded sketch: it catches torn writes and flipped bits (not tampering —
 * the audit log uses SHA-256 and signatures for that).
 */
#ifndef REEL_STATS_CRC32C_H
#define REEL_STATS_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32C of data[0..len), continuing from crc (0 to start). crc32c("123456789")
 * is 0xE3069283. Thread-safe. */
uint32_t crc32c(uint32_t crc, const void *data, size_t len);

#endif
