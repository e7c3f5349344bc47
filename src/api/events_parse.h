/*
 * events_parse.h — the fast path for reading an event batch
 * ({"events": [Event, ...]}) straight from the request body.
 *
 * Ingestion is the busiest route (the design load is 300,000 events/s);
 * building a jansson tree costs an allocation per value and dominated its
 * profile. This scanner reads the one shape a well-behaved client sends,
 * without allocating, and gives up (EVENTS_PARSE_FALLBACK) at the first
 * thing it does not take on — any invalid or unusual input: bad JSON, an
 * unknown or repeated key, a wrong type, an unknown event type, a bad id,
 * watched_ms out of range, a bad time, string escapes, an empty or
 * oversized batch. The caller then parses with jansson and reports every
 * problem precisely. So the fast path only ever accepts batches the full
 * validation accepts, with the same values (tests/unit/api checks both
 * paths agree).
 */
#ifndef REEL_API_EVENTS_PARSE_H
#define REEL_API_EVENTS_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { EVENTS_PARSE_OK = 0, EVENTS_PARSE_FALLBACK = 1 };

#define EVENTS_WATCHED_MS_MAX 86400000u /* a day: more is a client bug */

struct events_parse_item {
    int type; /* enum event_type (a client type) */
    uint64_t video_id;
    uint32_t watched_ms; /* 0 when absent */
    bool has_at;
    int64_t at_ms; /* unclamped client time, when has_at */
};

/* Parses body[0..len). On EVENTS_PARSE_OK, *n (1..max) items are in out.
 * Anything else — including more than max events — is
 * EVENTS_PARSE_FALLBACK. */
int api_events_parse_fast(const char *body, size_t len, struct events_parse_item *out, size_t max,
                          size_t *n);

#endif
