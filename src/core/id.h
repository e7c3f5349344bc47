/*
 * id.h — 64-bit, unique, time-ordered ids that carry their home region.
 *
 *   bit 63     62 ........ 57  56 ............................ 16  15 .. 12  11 ...... 0
 *  +-------+----------------+------------------------------------+----------+-----------+
 *  |   0   | region (6 bits)| ms since 2025-01-01T00:00Z (41 bits)| node (4) | seq (12)  |
 *  +-------+----------------+------------------------------------+----------+-----------+
 *
 * - Bit 63 is zero so an id is a positive SQLite INTEGER / PostgreSQL bigint.
 * - The region sits in the high bits so any node can tell, from an id alone,
 *   which region holds the record (user ids route requests; video and comment
 *   ids point at the store that holds them). Region 0 is never valid.
 * - Within one region ids increase with time; across regions they sort by
 *   region first. Lists that mix regions order by (created_at, id).
 * - 41 bits of milliseconds last until 2094; 12 bits of sequence allow 4,096
 *   ids per millisecond per node; past that the generator borrows the next
 *   millisecond, so ids stay unique and increasing even when the wall clock
 *   steps backwards.
 * Ids go to clients as decimal strings (JSON numbers lose precision past 2^53).
 */
#ifndef REEL_CORE_ID_H
#define REEL_CORE_ID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ID_REGION_BITS 6
#define ID_REGION_MAX 63
#define ID_NODE_MAX 15
#define ID_EPOCH_MS 1735689600000ULL /* 2025-01-01T00:00:00Z */
/* Room for 19 digits and the terminator. */
#define ID_STR_MAX 21

/* Sets this process's node number (0..15; default 0). Returns 0 or -1. */
int id_set_node(unsigned node);

/* Returns a new id for `region` (1..63); 0 if region is out of range. Thread-safe
 * and lock-free. */
uint64_t id_next(unsigned region);
/* Builds an id from its parts (tests, and the smallest id of a millisecond for
 * range scans). */
uint64_t id_make(unsigned region, uint64_t unix_ms, unsigned node, unsigned seq);

unsigned id_region(uint64_t id);
/* Milliseconds since the Unix epoch at which the id was made. */
uint64_t id_unix_ms(uint64_t id);

/* Writes the decimal form into buf (at least ID_STR_MAX bytes); returns buf. */
char *id_format(uint64_t id, char *buf);
/* Parses a decimal id: digits only, no sign, no leading zeros, below 2^63 and
 * with a valid region. Returns true and sets *id, or false. */
bool id_parse(const char *s, uint64_t *id);
/* As id_parse for a string that is not NUL-terminated. */
bool id_parse_n(const char *s, size_t len, uint64_t *id);

#endif
