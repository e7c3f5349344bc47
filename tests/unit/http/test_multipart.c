/*
 * The streaming multipart parser: the same parts come out however the body
 * is cut into pieces (every split point, byte by byte), data that almost
 * looks like a delimiter is data, and malformed bodies, bad boundaries and
 * oversize headers are refused with their own errors.
 */
#include "http/multipart.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define B "----ReelBoundary7MA4YWxkTrZu0gW"

struct collected {
    int parts;
    char names[8][HTTP_MULTIPART_NAME_MAX];
    char filenames[8][HTTP_MULTIPART_FILENAME_MAX];
    char types[8][HTTP_MULTIPART_TYPE_MAX];
    char data[8][4096];
    size_t len[8];
    int ends;
    int data_calls;
};

static int on_begin(void *ctx, const struct http_multipart_part *part)
{
    struct collected *c = ctx;
    cr_assert_lt(c->parts, 8);
    snprintf(c->names[c->parts], sizeof c->names[0], "%s", part->name);
    snprintf(c->filenames[c->parts], sizeof c->filenames[0], "%s", part->filename);
    snprintf(c->types[c->parts], sizeof c->types[0], "%s", part->content_type);
    c->parts++;
    return 0;
}

static int on_data(void *ctx, const char *data, size_t len)
{
    struct collected *c = ctx;
    int i = c->parts - 1;
    cr_assert_geq(i, 0, "data before any part");
    cr_assert_leq(c->len[i] + len, sizeof c->data[0]);
    memcpy(c->data[i] + c->len[i], data, len);
    c->len[i] += len;
    c->data_calls++;
    return 0;
}

static int on_end(void *ctx)
{
    struct collected *c = ctx;
    c->ends++;
    return 0;
}

static const struct http_multipart_callbacks callbacks = {on_begin, on_data, on_end};

/* Parses body in pieces split at `cut` (and byte by byte when cut < 0). */
static int parse(const char *boundary, const char *body, size_t len, long cut, struct collected *c)
{
    struct http_multipart mp;
    memset(c, 0, sizeof *c);
    int rc = http_multipart_init(&mp, boundary, &callbacks, c);
    if (rc)
        return rc;
    if (cut < 0) {
        for (size_t i = 0; i < len; i++)
            if ((rc = http_multipart_feed(&mp, body + i, 1)) != 0)
                return rc;
    } else {
        if ((rc = http_multipart_feed(&mp, body, (size_t)cut)) != 0)
            return rc;
        if ((rc = http_multipart_feed(&mp, body + cut, len - (size_t)cut)) != 0)
            return rc;
    }
    return http_multipart_finish(&mp);
}

/* The file's bytes include CR, LF, dashes and a near-boundary. */
static const char file_bytes[] = "\x00\x01binary\r\n--not-the-boundary\r\n-"
                                 "-"
                                 "----ReelBoundary7MA4"
                                 "\r\r\n--\r\n\r\n"
                                 "tail\r";

static size_t build_body(char *out, size_t size)
{
    int n = snprintf(
        out, size,
        "preamble to ignore\r\n"
        "--" B "\r\n"
        "Content-Disposition: form-data; name=\"caption\"\r\n"
        "\r\n"
        "Sunset at the harbour #sea"
        "\r\n--" B "\r\n"
        "Content-Disposition: form-data; name=\"file\"; filename=\"clip \\\"one\\\".mp4\"\r\n"
        "Content-Type: video/mp4\r\n"
        "X-Ignored: yes\r\n"
        "\r\n");
    memcpy(out + n, file_bytes, sizeof file_bytes - 1);
    n += (int)sizeof file_bytes - 1;
    n += snprintf(out + n, size - (size_t)n, "\r\n--" B "--\r\nepilogue");
    return (size_t)n;
}

static void check_parts(const struct collected *c)
{
    cr_assert_eq(c->parts, 2);
    cr_assert_eq(c->ends, 2);
    cr_assert_str_eq(c->names[0], "caption");
    cr_assert_eq(c->len[0], strlen("Sunset at the harbour #sea"));
    cr_assert_eq(memcmp(c->data[0], "Sunset at the harbour #sea", c->len[0]), 0);
    cr_assert_str_eq(c->names[1], "file");
    cr_assert_str_eq(c->filenames[1], "clip \"one\".mp4");
    cr_assert_str_eq(c->types[1], "video/mp4");
    cr_assert_eq(c->len[1], sizeof file_bytes - 1);
    cr_assert_eq(memcmp(c->data[1], file_bytes, c->len[1]), 0);
}

Test(multipart, same_parts_at_every_split_point)
{
    char body[4096];
    size_t len = build_body(body, sizeof body);
    struct collected c;
    for (size_t cut = 0; cut <= len; cut++) {
        cr_assert_eq(parse(B, body, len, (long)cut, &c), 0, "split at %zu", cut);
        check_parts(&c);
    }
    cr_assert_eq(parse(B, body, len, -1, &c), 0, "byte by byte");
    check_parts(&c);
}

Test(multipart, body_starting_with_the_boundary_and_padding)
{
    const char body[] =
        "--" B "  \t\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--" B "--";
    struct collected c;
    cr_assert_eq(parse(B, body, sizeof body - 1, 3, &c), 0);
    cr_assert_eq(c.parts, 1);
    cr_assert_str_eq(c.names[0], "a");
    cr_assert_eq(c.len[0], 1);
}

Test(multipart, large_data_comes_out_in_runs_not_bytes)
{
    static char body[70000];
    int n = snprintf(body, sizeof body,
                     "--" B "\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n");
    memset(body + n, 'v', 60000);
    n += 60000;
    n += snprintf(body + n, sizeof body - (size_t)n, "\r\n--" B "--");
    struct http_multipart mp;
    struct collected *c = calloc(1, sizeof *c);
    size_t total = 0;
    struct http_multipart_callbacks counting = {on_begin, NULL, on_end};
    cr_assert_eq(http_multipart_init(&mp, B, &counting, c), 0);
    for (int at = 0; at < n; at += 8192)
        cr_assert_eq(http_multipart_feed(&mp, body + at, (size_t)(n - at < 8192 ? n - at : 8192)),
                     0);
    cr_assert_eq(http_multipart_finish(&mp), 0);
    (void)total;
    cr_assert_eq(c->parts, 1);
    free(c);
}

Test(multipart, boundary_from_content_type)
{
    char b[HTTP_MULTIPART_BOUNDARY_MAX + 1];
    cr_assert_eq(http_multipart_boundary("multipart/form-data; boundary=abc123", b, sizeof b), 0);
    cr_assert_str_eq(b, "abc123");
    cr_assert_eq(http_multipart_boundary("Multipart/Form-Data;boundary=\"a b:c\"", b, sizeof b), 0);
    cr_assert_str_eq(b, "a b:c");
    cr_assert_eq(
        http_multipart_boundary("multipart/form-data; charset=utf-8; boundary=x", b, sizeof b), 0);
    cr_assert_str_eq(b, "x");
    cr_assert_eq(http_multipart_boundary("application/json", b, sizeof b), -1);
    cr_assert_eq(http_multipart_boundary("multipart/form-datax; boundary=x", b, sizeof b), -1);
    cr_assert_eq(http_multipart_boundary(NULL, b, sizeof b), -1);
    const char *bad[] = {
        "multipart/form-data",
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary=\"\"",
        "multipart/form-data; boundary=\"unterminated",
        "multipart/form-data; boundary=\"has\rcr\"",
        "multipart/form-data; boundary=\"ends in space \"",
        "multipart/form-data; boundary=a; boundary=b",
        "multipart/form-data; boundary=bad{char}",
        "multipart/form-data; boundary="
        "01234567890123456789012345678901234567890123456789012345678901234567890", /* 71 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(http_multipart_boundary(bad[i], b, sizeof b), -2, "%s", bad[i]);
}

Test(multipart, malformed_bodies)
{
    const char *bodies[] = {
        /* no CRLF after the boundary */
        "--" B "X\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--" B "--",
        /* no Content-Disposition */
        "--" B "\r\nContent-Type: text/plain\r\n\r\nx\r\n--" B "--",
        /* not form-data */
        "--" B "\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--" B "--",
        /* folded header line */
        "--" B "\r\nContent-Disposition: form-data;\r\n name=a\r\n\r\nx\r\n--" B "--",
        /* bare LF line ending */
        "--" B "\r\nContent-Disposition: form-data; name=a\n\r\nx\r\n--" B "--",
        /* header without a colon */
        "--" B "\r\nContent-Disposition form-data\r\n\r\nx\r\n--" B "--",
        /* two names */
        "--" B "\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\nx\r\n--" B "--",
        /* unterminated quoted name */
        "--" B "\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--" B "--",
        /* a single dash after the final boundary */
        "--" B "\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--" B "-x",
    };
    struct collected c;
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
        cr_assert_eq(parse(B, bodies[i], strlen(bodies[i]), -1, &c), HTTP_MULTIPART_E_MALFORMED,
                     "body %zu", i);
}

Test(multipart, truncated_and_missing_boundaries)
{
    struct collected c;
    const char cut[] = "--" B "\r\nContent-Disposition: form-data; name=a\r\n\r\nhalf of it";
    cr_assert_eq(parse(B, cut, sizeof cut - 1, 5, &c), HTTP_MULTIPART_E_TRUNCATED);
    const char other[] = "--other\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--other--";
    cr_assert_eq(parse(B, other, sizeof other - 1, -1, &c), HTTP_MULTIPART_E_TRUNCATED,
                 "a body with another boundary has no parts");
    cr_assert_eq(c.parts, 0);
    static char preamble[HTTP_MULTIPART_PREAMBLE_MAX + 100];
    memset(preamble, 'p', sizeof preamble - 1);
    cr_assert_eq(parse(B, preamble, sizeof preamble - 1, 100, &c),
                 HTTP_MULTIPART_E_PREAMBLE_TOO_BIG);
    struct http_multipart mp;
    cr_assert_eq(http_multipart_init(&mp, "bad\rboundary", &callbacks, &c),
                 HTTP_MULTIPART_E_MALFORMED);
    cr_assert_eq(http_multipart_init(&mp, "", &callbacks, &c), HTTP_MULTIPART_E_MALFORMED);
}

Test(multipart, oversize_headers)
{
    static char body[8192];
    struct collected c;
    /* one line longer than the limit */
    int n = snprintf(body, sizeof body, "--" B "\r\nContent-Disposition: form-data; name=a\r\nX: ");
    memset(body + n, 'h', HTTP_MULTIPART_LINE_MAX);
    n += HTTP_MULTIPART_LINE_MAX;
    n += snprintf(body + n, sizeof body - (size_t)n, "\r\n\r\nx\r\n--" B "--");
    cr_assert_eq(parse(B, body, (size_t)n, 7, &c), HTTP_MULTIPART_E_HEADER_TOO_BIG);
    /* too many lines */
    n = snprintf(body, sizeof body, "--" B "\r\nContent-Disposition: form-data; name=a\r\n");
    for (int i = 0; i < HTTP_MULTIPART_HEADERS_MAX; i++)
        n += snprintf(body + n, sizeof body - (size_t)n, "X-%d: y\r\n", i);
    n += snprintf(body + n, sizeof body - (size_t)n, "\r\nx\r\n--" B "--");
    cr_assert_eq(parse(B, body, (size_t)n, -1, &c), HTTP_MULTIPART_E_HEADER_TOO_BIG);
    /* a name longer than the field */
    n = snprintf(body, sizeof body, "--" B "\r\nContent-Disposition: form-data; name=\"");
    memset(body + n, 'n', HTTP_MULTIPART_NAME_MAX + 10);
    n += HTTP_MULTIPART_NAME_MAX + 10;
    n += snprintf(body + n, sizeof body - (size_t)n, "\"\r\n\r\nx\r\n--" B "--");
    cr_assert_eq(parse(B, body, (size_t)n, -1, &c), HTTP_MULTIPART_E_HEADER_TOO_BIG);
}

static int refuse(void *ctx, const char *data, size_t len)
{
    (void)ctx;
    (void)data;
    (void)len;
    return 1;
}

Test(multipart, a_callback_can_stop_the_parse)
{
    char body[4096];
    size_t len = build_body(body, sizeof body);
    struct collected c = {0};
    struct http_multipart_callbacks stopping = {on_begin, refuse, on_end};
    struct http_multipart mp;
    cr_assert_eq(http_multipart_init(&mp, B, &stopping, &c), 0);
    cr_assert_eq(http_multipart_feed(&mp, body, len), HTTP_MULTIPART_E_ABORTED);
    cr_assert_eq(http_multipart_feed(&mp, body, len), HTTP_MULTIPART_E_ABORTED, "sticky");
    cr_assert_eq(http_multipart_finish(&mp), HTTP_MULTIPART_E_ABORTED);
}
