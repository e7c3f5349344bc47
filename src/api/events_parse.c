/*
 * events_parse.c — see events_parse.h. A hand-written scanner over the
 * body bytes: whitespace per RFC 8259 (space, tab, CR, LF), strings without
 * escapes (an escape sends the batch to the full parser), integers in
 * canonical form (no sign, fraction or exponent; leading zeros refused as
 * JSON does). Each event object may hold type, video_id, watched_ms and at,
 * once each, in any order; null for watched_ms or at means absent, as in the
 * full validation.
 */
#include "api/events_parse.h"

#include "core/clock.h"
#include "core/id.h"
#include "events/event.h"

#include <string.h>

struct scanner {
    const char *p, *end;
};

static void skip_ws(struct scanner *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
        s->p++;
}

static bool take(struct scanner *s, char c)
{
    skip_ws(s);
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return true;
    }
    return false;
}

/* A string without escapes or control characters; returns its bytes. */
static bool string(struct scanner *s, const char **str, size_t *len)
{
    if (!take(s, '"'))
        return false;
    const char *start = s->p;
    while (s->p < s->end) {
        unsigned char c = (unsigned char)*s->p;
        if (c == '"') {
            *str = start;
            *len = (size_t)(s->p - start);
            s->p++;
            return true;
        }
        if (c == '\\' || c < 0x20)
            return false;
        s->p++;
    }
    return false;
}

static bool is_literal(struct scanner *s, const char *word)
{
    skip_ws(s);
    size_t n = strlen(word);
    if ((size_t)(s->end - s->p) >= n && memcmp(s->p, word, n) == 0) {
        s->p += n;
        return true;
    }
    return false;
}

/* A non-negative integer in JSON's canonical form, at most `max`. */
static bool uint_value(struct scanner *s, uint64_t max, uint64_t *out)
{
    skip_ws(s);
    const char *start = s->p;
    uint64_t v = 0;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
        v = v * 10 + (uint64_t)(*s->p - '0');
        if (v > max)
            return false;
        s->p++;
    }
    size_t digits = (size_t)(s->p - start);
    if (digits == 0 || (digits > 1 && *start == '0'))
        return false;
    if (s->p < s->end && (*s->p == '.' || *s->p == 'e' || *s->p == 'E'))
        return false;
    *out = v;
    return true;
}

static bool key_is(const char *k, size_t n, const char *name)
{
    return strlen(name) == n && memcmp(k, name, n) == 0;
}

static bool client_type(const char *t, size_t n, int *type)
{
    char name[24];
    if (n == 0 || n >= sizeof name)
        return false;
    memcpy(name, t, n);
    name[n] = '\0';
    int v = event_type_parse(name);
    if (!event_type_is_client(v))
        return false;
    *type = v;
    return true;
}

/* One event object. */
static bool event_object(struct scanner *s, struct events_parse_item *e)
{
    enum { TYPE = 1, VIDEO = 2, WATCHED = 4, AT = 8 };
    unsigned seen = 0;
    bool has_watched = false;
    memset(e, 0, sizeof *e);
    if (!take(s, '{'))
        return false;
    if (take(s, '}'))
        return false; /* no type, no video */
    do {
        const char *k, *v;
        size_t kn, vn;
        if (!string(s, &k, &kn) || !take(s, ':'))
            return false;
        if (key_is(k, kn, "type")) {
            if ((seen & TYPE) || !string(s, &v, &vn) || !client_type(v, vn, &e->type))
                return false;
            seen |= TYPE;
        } else if (key_is(k, kn, "video_id")) {
            if ((seen & VIDEO) || !string(s, &v, &vn) || !id_parse_n(v, vn, &e->video_id))
                return false;
            seen |= VIDEO;
        } else if (key_is(k, kn, "watched_ms")) {
            uint64_t w;
            if (seen & WATCHED)
                return false;
            seen |= WATCHED;
            if (is_literal(s, "null"))
                continue;
            if (!uint_value(s, EVENTS_WATCHED_MS_MAX, &w))
                return false;
            e->watched_ms = (uint32_t)w;
            has_watched = true;
        } else if (key_is(k, kn, "at")) {
            char at[48];
            if (seen & AT)
                return false;
            seen |= AT;
            if (is_literal(s, "null"))
                continue;
            if (!string(s, &v, &vn) || vn >= sizeof at)
                return false;
            memcpy(at, v, vn);
            at[vn] = '\0';
            if (clock_parse_rfc3339(at, &e->at_ms) < 0)
                return false;
            e->has_at = true;
        } else {
            return false;
        }
    } while (take(s, ','));
    if (!take(s, '}') || !(seen & TYPE) || !(seen & VIDEO))
        return false;
    /* A watch must say how long: with watched_ms null or absent, the full
     * validation reports it. */
    if (e->type == EVENT_WATCH && !has_watched)
        return false;
    return true;
}

int api_events_parse_fast(const char *body, size_t len, struct events_parse_item *out, size_t max,
                          size_t *n)
{
    struct scanner s = {body, body + len};
    const char *k;
    size_t kn;
    *n = 0;
    if (!take(&s, '{') || !string(&s, &k, &kn) || !key_is(k, kn, "events") || !take(&s, ':') ||
        !take(&s, '['))
        return EVENTS_PARSE_FALLBACK;
    do {
        if (*n >= max || !event_object(&s, &out[*n]))
            return EVENTS_PARSE_FALLBACK;
        (*n)++;
    } while (take(&s, ','));
    if (!take(&s, ']') || !take(&s, '}'))
        return EVENTS_PARSE_FALLBACK;
    skip_ws(&s);
    return s.p == s.end ? EVENTS_PARSE_OK : EVENTS_PARSE_FALLBACK;
}
