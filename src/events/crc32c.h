/*
 * crc32c.h — CRC-32C (Castagnoli), the checksum of every event log record
 * and header. The Castagnoli polynomial detects more error patterns in short
 * records than CRC-32 (IEEE) and x86-64 computes it in hardware (SSE4.2);
 * a table-driven version is used where the instruction is missing.
 */
#ifndef REEL_EVENTS_CRC32C_H
#define REEL_EVENTS_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32C of len bytes. crc32c("123456789") == 0xE3069283. */
uint32_t crc32c(const void *data, size_t len);

#endif
