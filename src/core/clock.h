/*
 * clock.h — wall-clock and monotonic time, and RFC 3339 formatting.
 */
#ifndef REEL_CORE_CLOCK_H
#define REEL_CORE_CLOCK_H

#include <stdint.h>
#include <time.h>

#define RFC3339_MAX 64

/* Milliseconds since the Unix epoch (wall clock). */
int64_t clock_now_ms(void);
/* Nanoseconds of a monotonic clock, for durations. */
uint64_t clock_mono_ns(void);
/* Milliseconds of the same monotonic clock (ages of cached entries). */
int64_t clock_mono_ms(void);
/* The time `ms` milliseconds from now on `clock` (CLOCK_REALTIME or
 * CLOCK_MONOTONIC), as pthread_cond_timedwait takes a deadline. */
struct timespec clock_deadline(clockid_t clock, int64_t ms);
/* "2026-11-27T23:40:01.123Z" into buf (RFC3339_MAX bytes); returns buf. */
char *clock_format_rfc3339(int64_t unix_ms, char *buf);
/* Parses an RFC 3339 UTC time ("...Z" or "+00:00", optional fraction) into
 * milliseconds. Returns 0 or -1. */
int clock_parse_rfc3339(const char *s, int64_t *unix_ms);

#endif
