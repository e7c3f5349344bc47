/*
 * range.c — see range.h.
 */
#include "http/range.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* Digits at *p into *out, no overflow. Returns 0, or -1 if none/overflow. */
static int read_number(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (*s < '0' || *s > '9')
        return -1;
    while (*s >= '0' && *s <= '9') {
        if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
        s++;
    }
    *p = s;
    *out = v;
    return 0;
}

enum http_range_result http_range_parse(const char *header, uint64_t size, uint64_t *first,
                                        uint64_t *last)
{
    if (!header)
        return HTTP_RANGE_NONE;
    const char *p = header;
    while (is_ows(*p))
        p++;
    if (strncasecmp(p, "bytes", 5) != 0)
        return HTTP_RANGE_NONE;
    p += 5;
    while (is_ows(*p))
        p++;
    if (*p++ != '=')
        return HTTP_RANGE_NONE;
    while (is_ows(*p))
        p++;
    uint64_t a = 0, b = 0;
    bool has_first = false, has_last = false;
    if (*p != '-') {
        if (read_number(&p, &a) < 0)
            return HTTP_RANGE_NONE;
        has_first = true;
    }
    if (*p++ != '-')
        return HTTP_RANGE_NONE;
    if (*p >= '0' && *p <= '9') {
        if (read_number(&p, &b) < 0)
            return HTTP_RANGE_NONE;
        has_last = true;
    }
    while (is_ows(*p))
        p++;
    if (*p != '\0')
        return HTTP_RANGE_NONE; /* trailing junk, or several ranges */
    if (!has_first && !has_last)
        return HTTP_RANGE_NONE; /* "bytes=-" */
    if (has_first && has_last && b < a)
        return HTTP_RANGE_NONE; /* invalid: ignore */
    if (!has_first) {
        /* suffix: the last b bytes */
        if (b == 0 || size == 0)
            return HTTP_RANGE_UNSATISFIABLE;
        *first = b >= size ? 0 : size - b;
        *last = size - 1;
        return HTTP_RANGE_SATISFIABLE;
    }
    if (a >= size)
        return HTTP_RANGE_UNSATISFIABLE;
    *first = a;
    *last = has_last && b < size ? b : size - 1;
    return HTTP_RANGE_SATISFIABLE;
}

void http_etag_make(uint64_t size, int64_t mtime_ns, uint64_t inode, char *out)
{
    snprintf(out, HTTP_ETAG_MAX, "\"%" PRIx64 "-%" PRIx64 "-%" PRIx64 "\"", size,
             (uint64_t)mtime_ns, inode);
}

static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void http_date_format(int64_t unix_s, char *out)
{
    time_t t = (time_t)unix_s;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(out, HTTP_DATE_MAX, "Thu, 01 Jan 1970 00:00:00 GMT");
        return;
    }
    snprintf(out, HTTP_DATE_MAX, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday],
             tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static int two_digits(const char *s)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return -1;
    return (s[0] - '0') * 10 + (s[1] - '0');
}

int http_date_parse(const char *s, int64_t *unix_s)
{
    /* "Sun, 06 Nov 1994 08:49:37 GMT": exactly 29 characters */
    if (!s || strlen(s) != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
        s[16] != ' ' || s[19] != ':' || s[22] != ':' || strcmp(s + 25, " GMT") != 0)
        return -1;
    int day = two_digits(s + 5), hour = two_digits(s + 17), min = two_digits(s + 20),
        sec = two_digits(s + 23), c = two_digits(s + 12), y = two_digits(s + 14);
    int month = -1;
    for (int i = 0; i < 12; i++)
        if (strncmp(s + 8, months[i], 3) == 0)
            month = i;
    if (day < 1 || day > 31 || hour < 0 || hour > 23 || min < 0 || min > 59 || sec < 0 ||
        sec > 60 || c < 0 || y < 0 || month < 0)
        return -1;
    struct tm tm = {.tm_year = c * 100 + y - 1900,
                    .tm_mon = month,
                    .tm_mday = day,
                    .tm_hour = hour,
                    .tm_min = min,
                    .tm_sec = sec};
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    *unix_s = (int64_t)t;
    return 0;
}

/* If-None-Match: "*" or a list of entity tags, compared weakly (W/ ignored). */
static bool etag_list_matches(const char *list, const char *etag)
{
    const char *p = list;
    size_t etag_len = strlen(etag);
    while (*p) {
        while (is_ows(*p) || *p == ',')
            p++;
        if (*p == '*')
            return true;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (*p != '"')
            return false;
        const char *end = strchr(p + 1, '"');
        if (!end)
            return false;
        if ((size_t)(end + 1 - p) == etag_len && memcmp(p, etag, etag_len) == 0)
            return true;
        p = end + 1;
    }
    return false;
}

void http_range_plan(struct http_range_plan *plan, const struct http_range_request *req,
                     uint64_t size, int64_t mtime_s, const char *etag)
{
    memset(plan, 0, sizeof *plan);
    snprintf(plan->etag, sizeof plan->etag, "%s", etag);
    http_date_format(mtime_s, plan->last_modified);

    int64_t since;
    if (req->if_none_match
            ? etag_list_matches(req->if_none_match, etag)
            : req->if_modified_since && http_date_parse(req->if_modified_since, &since) == 0 &&
                  mtime_s <= since) {
        plan->status = 304;
        return;
    }

    const char *range = req->range;
    if (range && req->if_range) {
        /* Strong comparison for a tag; exact match for a date. */
        bool fresh = req->if_range[0] == '"' ? strcmp(req->if_range, etag) == 0
                                             : strcmp(req->if_range, plan->last_modified) == 0;
        if (!fresh)
            range = NULL;
    }
    uint64_t first, last;
    switch (http_range_parse(range, size, &first, &last)) {
    case HTTP_RANGE_SATISFIABLE:
        plan->status = 206;
        plan->offset = first;
        plan->length = last - first + 1;
        snprintf(plan->content_range, sizeof plan->content_range,
                 "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, first, last, size);
        return;
    case HTTP_RANGE_UNSATISFIABLE:
        plan->status = 416;
        snprintf(plan->content_range, sizeof plan->content_range, "bytes */%" PRIu64, size);
        return;
    case HTTP_RANGE_NONE: break;
    }
    plan->status = 200;
    plan->offset = 0;
    plan->length = size;
}
