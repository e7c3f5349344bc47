/*
 * Range requests and conditional GET: first byte, middle, suffix, open
 * ranges, past the end (416), malformed headers (ignored: 200), If-Range,
 * If-None-Match and If-Modified-Since, and HTTP dates.
 */
#include "http/range.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

static enum http_range_result parse(const char *h, uint64_t size, uint64_t *a, uint64_t *b)
{
    *a = *b = 12345678;
    return http_range_parse(h, size, a, b);
}

Test(range, satisfiable_ranges)
{
    uint64_t a, b;
    cr_assert_eq(parse("bytes=0-0", 1000, &a, &b), HTTP_RANGE_SATISFIABLE);
    cr_assert(a == 0 && b == 0, "first byte");
    cr_assert_eq(parse("bytes=100-199", 1000, &a, &b), HTTP_RANGE_SATISFIABLE);
    cr_assert(a == 100 && b == 199, "middle");
    cr_assert_eq(parse("bytes=-500", 1000, &a, &b), HTTP_RANGE_SATISFIABLE);
    cr_assert(a == 500 && b == 999, "suffix");
    cr_assert_eq(parse("bytes=-5000", 1000, &a, &b), HTTP_RANGE_SATISFIABLE);
    cr_assert(a == 0 && b == 999, "suffix longer than the file is the file");
    cr_assert_eq(parse("bytes=900-", 1000, &a, &b), HTTP_RANGE_SATISFIABLE);
    cr_assert(a == 900 && b == 999, "open-ended");
    cr_assert_eq(parse("bytes=990-5000", 1000, &a, &b), HTTP_RANGE_SATISFIABLE);
    cr_assert(a == 990 && b == 999, "last clamped to the end");
    cr_assert_eq(parse("BYTES = 1-2 ", 1000, &a, &b), HTTP_RANGE_SATISFIABLE);
    cr_assert(a == 1 && b == 2, "case and whitespace");
    cr_assert_eq(parse("bytes=999-999", 1000, &a, &b), HTTP_RANGE_SATISFIABLE);
}

Test(range, unsatisfiable_ranges)
{
    uint64_t a, b;
    cr_assert_eq(parse("bytes=1000-", 1000, &a, &b), HTTP_RANGE_UNSATISFIABLE);
    cr_assert_eq(parse("bytes=1000-2000", 1000, &a, &b), HTTP_RANGE_UNSATISFIABLE);
    cr_assert_eq(parse("bytes=5000-6000", 1000, &a, &b), HTTP_RANGE_UNSATISFIABLE);
    cr_assert_eq(parse("bytes=-0", 1000, &a, &b), HTTP_RANGE_UNSATISFIABLE);
    cr_assert_eq(parse("bytes=0-", 0, &a, &b), HTTP_RANGE_UNSATISFIABLE, "empty file");
    cr_assert_eq(parse("bytes=-10", 0, &a, &b), HTTP_RANGE_UNSATISFIABLE);
}

Test(range, malformed_or_unsupported_is_ignored)
{
    const char *ignored[] = {
        NULL,
        "",
        "bytes",
        "bytes=",
        "bytes=-",
        "bytes=abc",
        "bytes=5-2",
        "bytes=1-2x",
        "bytes=1-2,5-6",
        "bytes=0-1, 4-",
        "items=0-1",
        "bytes=+1-2",
        "bytes=-+1",
        "bytes=99999999999999999999999-",
        "bytes=0-99999999999999999999999",
        "bytes 0-1",
    };
    uint64_t a, b;
    for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++)
        cr_assert_eq(parse(ignored[i], 1000, &a, &b), HTTP_RANGE_NONE, "%s",
                     ignored[i] ? ignored[i] : "(null)");
}

static struct http_range_plan plan(const struct http_range_request *req)
{
    struct http_range_plan p;
    char etag[HTTP_ETAG_MAX];
    http_etag_make(1000, 1700000000123456789LL, 42, etag);
    http_range_plan(&p, req, 1000, 1700000000, etag);
    return p;
}

Test(range, plans)
{
    struct http_range_plan p = plan(&(struct http_range_request){0});
    cr_assert_eq(p.status, 200);
    cr_assert_eq(p.length, 1000);
    cr_assert_str_eq(p.content_range, "");
    cr_assert_str_eq(p.last_modified, "Tue, 14 Nov 2023 22:13:20 GMT");
    cr_assert_eq(p.etag[0], '"');

    p = plan(&(struct http_range_request){.range = "bytes=10-19"});
    cr_assert_eq(p.status, 206);
    cr_assert_eq(p.offset, 10);
    cr_assert_eq(p.length, 10);
    cr_assert_str_eq(p.content_range, "bytes 10-19/1000");

    p = plan(&(struct http_range_request){.range = "bytes=-1"});
    cr_assert_eq(p.status, 206);
    cr_assert_eq(p.offset, 999);
    cr_assert_str_eq(p.content_range, "bytes 999-999/1000");

    p = plan(&(struct http_range_request){.range = "bytes=2000-"});
    cr_assert_eq(p.status, 416);
    cr_assert_eq(p.length, 0);
    cr_assert_str_eq(p.content_range, "bytes */1000");

    p = plan(&(struct http_range_request){.range = "bytes=oops"});
    cr_assert_eq(p.status, 200);
    cr_assert_eq(p.length, 1000);
}

Test(range, conditionals)
{
    struct http_range_plan base = plan(&(struct http_range_request){0});
    char list[200];
    snprintf(list, sizeof list, "\"nope\", W/%s", base.etag);
    struct http_range_plan p = plan(&(struct http_range_request){.if_none_match = list});
    cr_assert_eq(p.status, 304, "weak comparison for If-None-Match");
    p = plan(&(struct http_range_request){.if_none_match = "*"});
    cr_assert_eq(p.status, 304);
    p = plan(&(struct http_range_request){.if_none_match = "\"other\""});
    cr_assert_eq(p.status, 200);
    p = plan(&(struct http_range_request){.if_modified_since = "Tue, 14 Nov 2023 22:13:20 GMT"});
    cr_assert_eq(p.status, 304);
    p = plan(&(struct http_range_request){.if_modified_since = "Tue, 14 Nov 2023 22:13:19 GMT"});
    cr_assert_eq(p.status, 200);
    p = plan(&(struct http_range_request){.if_none_match = "\"other\"",
                                          .if_modified_since = "Tue, 14 Nov 2023 22:13:20 GMT"});
    cr_assert_eq(p.status, 200, "If-None-Match wins over If-Modified-Since");

    p = plan(&(struct http_range_request){.range = "bytes=0-9", .if_range = base.etag});
    cr_assert_eq(p.status, 206, "If-Range with the current tag");
    p = plan(&(struct http_range_request){.range = "bytes=0-9", .if_range = "\"old\""});
    cr_assert_eq(p.status, 200, "If-Range with a stale tag: the whole file");
    p = plan(&(struct http_range_request){.range = "bytes=0-9",
                                          .if_range = "Tue, 14 Nov 2023 22:13:20 GMT"});
    cr_assert_eq(p.status, 206, "If-Range with the current date");
    p = plan(&(struct http_range_request){.range = "bytes=0-9",
                                          .if_range = "Mon, 13 Nov 2023 22:13:20 GMT"});
    cr_assert_eq(p.status, 200);
}

Test(range, dates_and_tags)
{
    char d[HTTP_DATE_MAX];
    http_date_format(784111777, d);
    cr_assert_str_eq(d, "Sun, 06 Nov 1994 08:49:37 GMT");
    int64_t t;
    cr_assert_eq(http_date_parse(d, &t), 0);
    cr_assert_eq(t, 784111777);
    cr_assert_eq(http_date_parse("Sunday, 06-Nov-94 08:49:37 GMT", &t), -1);
    cr_assert_eq(http_date_parse("Sun, 06 Nov 1994 08:49:37 UTC", &t), -1);
    cr_assert_eq(http_date_parse("Sun, 06 Xyz 1994 08:49:37 GMT", &t), -1);
    cr_assert_eq(http_date_parse(NULL, &t), -1);
    char a[HTTP_ETAG_MAX], b[HTTP_ETAG_MAX];
    http_etag_make(1000, 5, 7, a);
    http_etag_make(1000, 6, 7, b);
    cr_assert_str_neq(a, b, "a new mtime is a new tag");
}
