/*
 * crc32c.h — CRC-32C (Castagnoli): the checksum of every event log record,
 * stats file and encoded sketch. It catches torn writes and flipped bits
 * (not tampering: the audit log uses SHA-256 and signatures for that). The
 * Castagnoli polynomial detects more error patterns in short records than
 * CRC-32 (IEEE), and x86-64 computes it in hardware (SSE4.2).
 */
#ifndef REEL_CORE_CRC32C_H
#define REEL_CORE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32C of data[0..len), continuing from crc (0 to start):
 * crc32c(crc32c(0, a, n), b, m) is the CRC of a followed by b.
 * crc32c(0, "123456789", 9) == 0xE3069283. Thread-safe. */
uint32_t crc32c(uint32_t crc, const void *data, size_t len);

#endif
