/*
 * active.h — daily, weekly and monthly active users of one region, in total
 * and per country, from one HyperLogLog sketch per (day, country).
 *
 * A user is active on a UTC day if they produced any event that day. Each
 * day holds a region-wide sketch and one per country of residence (sparse
 * while small). A week or month is never stored: its count is the count of
 * the union of its daily sketches, which is exact as a sketch (hll.h) — so a
 * sliding 30-day MAU costs 30 merges, and sketches from other nodes of the
 * region merge in the same way (stats_active_merge_file). Only sketches and
 * counts leave this module; no id is ever stored.
 *
 * The last STATS_ACTIVE_WINDOW days stay in memory; events for older days
 * are dropped and counted (the event log's clock is clamped, so none should
 * come). Days leaving the window are written to disk first; queries reaching
 * further back read the day files.
 *
 * Day files: <dir>/YYYY-MM-DD.hll, a statfile (statfile.h) with magic
 * "REELDAY1", version 1, whose payload is (little-endian):
 *
 *   offset  size  field
 *   ------  ----  ------------------------------------------------------------
 *        0     4  day: days since 1970-01-01 (i32)
 *        4     2  n: number of sketches that follow (u16), >= 1
 *        6     2  reserved, 0
 *        8        n records, the first the region-wide sketch, then countries
 *                 in ascending ISO code order, each:
 *                   0  2  country: ISO 3166-1 alpha-2 ("\0\0" = whole region)
 *                   2  4  L: length of the sketch encoding (u32)
 *                   6  L  the sketch, encoded as in hll.h
 *
 * Not thread-safe: stats.c serialises calls.
 */
#ifndef REEL_STATS_ACTIVE_H
#define REEL_STATS_ACTIVE_H

#include <stddef.h>
#include <stdint.h>

struct hll;

#define STATS_ACTIVE_WINDOW 64
#define STATS_DAY_MS 86400000LL
/* "2026-11-27" and the terminator, with room for years past 9999. */
#define STATS_DAY_STR_MAX 32

enum stats_period {
    STATS_PERIOD_DAY,            /* the day */
    STATS_PERIOD_WEEK,           /* the 7 days ending with the day (sliding) */
    STATS_PERIOD_MONTH,          /* the 30 days ending with the day (sliding MAU) */
    STATS_PERIOD_CALENDAR_WEEK,  /* the ISO week, Monday to Sunday, holding the day */
    STATS_PERIOD_CALENDAR_MONTH, /* the calendar month holding the day */
};

/* Day number (days since 1970-01-01, UTC) of a Unix time in milliseconds. */
int32_t stats_day_of_ms(int64_t unix_ms);
/* "YYYY-MM-DD" into buf (STATS_DAY_STR_MAX bytes); returns buf. */
char *stats_day_format(int32_t day, char *buf);
/* Parses "YYYY-MM-DD" (a real date). Returns 0 or -1. */
int stats_day_parse(const char *s, int32_t *day);

/* "day", "week", "month", "calendar-week", "calendar-month". Returns 0 or -1. */
int stats_period_parse(const char *name, enum stats_period *out);
const char *stats_period_name(enum stats_period period);
/* First and last day (inclusive) of the period holding `day`. */
void stats_period_range(enum stats_period period, int32_t day, int32_t *first, int32_t *last);

struct stats_active;

/* A collection whose sketches have the given precision, persisted under dir
 * (created if missing; NULL = memory only, e.g. for tests and benchmarks).
 * Returns NULL with a message in err on failure. */
struct stats_active *stats_active_create(unsigned precision, const char *dir, char *err,
                                         size_t errlen);
/* Frees it without saving (call stats_active_save first to keep changes). */
void stats_active_destroy(struct stats_active *a);

/* Records that user_id was active at at_ms, living in country (an index
 * from core/country.h, or -1 when unknown: counted in the region only).
 * Returns 0, 1 when the day is older than the window (dropped), or -1 when
 * out of memory or a day leaving the window could not be saved. */
int stats_active_add(struct stats_active *a, uint64_t user_id, int64_t at_ms, int country);

/* Distinct active users in the period holding `day`, region-wide (country
 * -1) or for one country. Returns 0, or -1 (out of memory, unreadable day
 * file — message in err). Days with no data count as empty. */
int stats_active_count(struct stats_active *a, enum stats_period period, int32_t day, int country,
                       uint64_t *count, char *err, size_t errlen);
/* The union sketch behind stats_active_count, for shipping to another node
 * or region (a sketch holds no id). *out is new; the caller destroys it. */
int stats_active_sketch(struct stats_active *a, enum stats_period period, int32_t day, int country,
                        struct hll **out, char *err, size_t errlen);

/* Writes every day changed since it was last written. Returns 0 or -1 with
 * err. A memory-only collection has nothing to write. */
int stats_active_save(struct stats_active *a, char *err, size_t errlen);
/* Merges a day file written by another node of the region (same format)
 * into this collection. Returns 0, or -1 with err (corrupt file, different
 * region layout, out of memory). */
int stats_active_merge_file(struct stats_active *a, const char *path, char *err, size_t errlen);

/* Bytes held by the in-memory days (sketches and bookkeeping). */
size_t stats_active_memory_bytes(const struct stats_active *a);
/* Events dropped because their day had left the window. */
uint64_t stats_active_dropped(const struct stats_active *a);

#endif
