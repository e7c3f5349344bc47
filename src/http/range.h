/*
 * range.h — HTTP Range requests and conditional GET for static files
 * (RFC 9110 sections 13 and 14), as the media route needs them: one byte
 * range at a time, validators (ETag, Last-Modified), and the decision
 * between 200, 206, 304 and 416.
 *
 * Choices, as the RFC allows:
 *   - a Range header that is malformed, names another unit, or asks for
 *     several ranges is ignored: the whole file is sent with 200 (players
 *     ask for one range; multipart/byteranges is not worth its complexity);
 *   - a range that starts at or past the end is 416 with
 *     "Content-Range: bytes * /size" (without the space);
 *   - a suffix range longer than the file is the whole file, as 206;
 *   - If-Range with a validator that does not match means 200, whole file;
 *   - If-None-Match (weak comparison) wins over If-Modified-Since; either
 *     may give 304.
 *
 * The ETag is strong and derived from size, modification time (ns) and
 * inode: media files never change in place (they are published by rename),
 * so a new file always gets a new tag.
 */
#ifndef REEL_HTTP_RANGE_H
#define REEL_HTTP_RANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_ETAG_MAX 64
#define HTTP_DATE_MAX 40

enum http_range_result {
    HTTP_RANGE_NONE = 0,          /* no usable Range: send everything (200) */
    HTTP_RANGE_SATISFIABLE = 1,   /* one range: send it (206) */
    HTTP_RANGE_UNSATISFIABLE = 2, /* 416 */
};

/* Parses a Range header value (NULL = absent) for a representation of
 * `size` bytes. For HTTP_RANGE_SATISFIABLE sets *first and *last (inclusive,
 * last < size). */
enum http_range_result http_range_parse(const char *header, uint64_t size, uint64_t *first,
                                        uint64_t *last);

/* A strong ETag ("\"<size>-<mtime_ns>-<inode>\"" in hex) into out
 * (HTTP_ETAG_MAX bytes). */
void http_etag_make(uint64_t size, int64_t mtime_ns, uint64_t inode, char *out);

/* IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") into out (HTTP_DATE_MAX). */
void http_date_format(int64_t unix_s, char *out);
/* Parses an IMF-fixdate. Returns 0 and *unix_s, or -1 (other formats too). */
int http_date_parse(const char *s, int64_t *unix_s);

/* The request headers that matter (NULL when absent). */
struct http_range_request {
    const char *range;
    const char *if_range;
    const char *if_none_match;
    const char *if_modified_since;
};

/* What to answer. Headers to add: ETag, Last-Modified, Accept-Ranges: bytes,
 * and Content-Range when content_range is not empty. Send `length` bytes of
 * the file from `offset` (0 for 304/416). */
struct http_range_plan {
    int status; /* 200, 206, 304 or 416 */
    uint64_t offset, length;
    char content_range[96];
    char etag[HTTP_ETAG_MAX];
    char last_modified[HTTP_DATE_MAX];
};

/* Decides the answer for a file of `size` bytes modified at mtime_s whose
 * ETag is `etag`. Never fails. */
void http_range_plan(struct http_range_plan *plan, const struct http_range_request *req,
                     uint64_t size, int64_t mtime_s, const char *etag);

#endif
