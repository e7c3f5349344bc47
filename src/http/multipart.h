/*
 * multipart.h — an incremental multipart/form-data parser (RFC 7578 over
 * RFC 2046): bytes go in as they arrive from the socket, in pieces of any
 * size, and come out as callbacks — part headers, then the part's data in
 * runs, then the part's end. Nothing but one header line is ever buffered,
 * so a gigabyte file part costs no memory.
 *
 *   preamble  "--" boundary CRLF
 *             headers CRLF CRLF  data  CRLF "--" boundary CRLF
 *             headers CRLF CRLF  data  CRLF "--" boundary "--"  epilogue
 *
 * Data is scanned for the delimiter CRLF "--" boundary. A boundary may not
 * contain CR (RFC 2046 bchars), so after a mismatch a match can only restart
 * at a CR: the scan keeps one counter and never backtracks; bytes held back
 * as a possible delimiter are re-emitted from the delimiter itself.
 *
 * Limits (each a distinct error): header line length, header lines per
 * part, preamble length. Header lines must end in CRLF; folded lines are
 * refused. Only Content-Disposition (name, filename) and Content-Type are
 * interpreted; other part headers are checked for shape and ignored.
 */
#ifndef REEL_HTTP_MULTIPART_H
#define REEL_HTTP_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_MULTIPART_BOUNDARY_MAX 70 /* RFC 2046 */
#define HTTP_MULTIPART_LINE_MAX 1024   /* one part header line */
#define HTTP_MULTIPART_HEADERS_MAX 16  /* header lines per part */
#define HTTP_MULTIPART_PREAMBLE_MAX 4096
#define HTTP_MULTIPART_NAME_MAX 128
#define HTTP_MULTIPART_FILENAME_MAX 256
#define HTTP_MULTIPART_TYPE_MAX 128

enum http_multipart_error {
    HTTP_MULTIPART_OK = 0,
    HTTP_MULTIPART_E_MALFORMED = -1,      /* not the grammar above */
    HTTP_MULTIPART_E_HEADER_TOO_BIG = -2, /* a header line or too many lines */
    HTTP_MULTIPART_E_PREAMBLE_TOO_BIG = -3,
    HTTP_MULTIPART_E_TRUNCATED = -4, /* finish() before the final boundary */
    HTTP_MULTIPART_E_ABORTED = -5,   /* a callback returned non-zero */
};

/* A part's headers, valid during on_part_begin. */
struct http_multipart_part {
    char name[HTTP_MULTIPART_NAME_MAX];         /* Content-Disposition name, "" if none */
    char filename[HTTP_MULTIPART_FILENAME_MAX]; /* "" if none */
    bool has_filename;
    char content_type[HTTP_MULTIPART_TYPE_MAX]; /* "" if none */
};

/* Each callback returns 0 to go on, or non-zero to stop the parse
 * (feed then returns HTTP_MULTIPART_E_ABORTED and the parser is dead). */
struct http_multipart_callbacks {
    int (*on_part_begin)(void *ctx, const struct http_multipart_part *part);
    int (*on_part_data)(void *ctx, const char *data, size_t len);
    int (*on_part_end)(void *ctx);
};

/* The parser; the caller provides the storage (http_multipart_init). */
struct http_multipart {
    struct http_multipart_callbacks cb;
    void *ctx;
    int state;
    int error;
    char delimiter[4 + HTTP_MULTIPART_BOUNDARY_MAX]; /* CRLF "--" boundary */
    size_t delimiter_len;
    size_t match;    /* delimiter bytes matched so far */
    size_t preamble; /* bytes of preamble seen */
    char line[HTTP_MULTIPART_LINE_MAX];
    size_t line_len;
    unsigned header_lines;
    struct http_multipart_part part;
};

/* Extracts the boundary parameter of a multipart/form-data Content-Type
 * ("multipart/form-data; boundary=xyz", quoted or not) into out (at least
 * HTTP_MULTIPART_BOUNDARY_MAX + 1 bytes). Returns 0, -1 if the type is not
 * multipart/form-data, -2 if the boundary is missing or invalid. */
int http_multipart_boundary(const char *content_type, char *out, size_t size);

/* Prepares a parser for boundary (1..70 RFC 2046 characters, not ending in
 * a space). Returns 0 or HTTP_MULTIPART_E_MALFORMED for a bad boundary. */
int http_multipart_init(struct http_multipart *mp, const char *boundary,
                        const struct http_multipart_callbacks *cb, void *ctx);
/* Feeds bytes. Returns HTTP_MULTIPART_OK or an error; after an error every
 * later call returns the same error. */
int http_multipart_feed(struct http_multipart *mp, const char *data, size_t len);
/* Call at the end of the body. Returns OK if the final boundary was seen,
 * else HTTP_MULTIPART_E_TRUNCATED (or the earlier error). */
int http_multipart_finish(struct http_multipart *mp);
/* Words for an error code. */
const char *http_multipart_strerror(int error);

#endif
