/*
 * form.h — collecting an upload form (multipart/form-data) as it streams in:
 * the file part goes straight to a temporary file, small text fields (the
 * caption) into capped buffers. Built on http/multipart.h; meant to be
 * driven from a streaming route's on_body callback, one piece at a time.
 *
 * The file's size limit is enforced as bytes arrive: the piece that would
 * cross it fails with HTTP_FORM_E_FILE_TOO_LARGE (413) and the upload stops
 * there, without reading the rest. The temporary file is removed by
 * http_form_clear unless the caller took it (http_form_take_file).
 */
#ifndef REEL_HTTP_FORM_H
#define REEL_HTTP_FORM_H

#include "http/multipart.h"

#include <stddef.h>
#include <stdint.h>

#define HTTP_FORM_MAX_FIELDS 8
#define HTTP_FORM_PATH_MAX 1100

enum http_form_error {
    HTTP_FORM_OK = 0,
    HTTP_FORM_E_NOT_MULTIPART = -1,   /* 415: not multipart/form-data */
    HTTP_FORM_E_MALFORMED = -2,       /* 400: bad boundary or body */
    HTTP_FORM_E_HEADER_TOO_BIG = -3,  /* 431-ish, answered 400 */
    HTTP_FORM_E_FILE_TOO_LARGE = -4,  /* 413 */
    HTTP_FORM_E_FIELD_TOO_LARGE = -5, /* 413 */
    HTTP_FORM_E_TOO_MANY_FIELDS = -6, /* 400 */
    HTTP_FORM_E_DUPLICATE = -7,       /* 400: the file or a field twice */
    HTTP_FORM_E_NO_FILE = -8,         /* 400: no file part */
    HTTP_FORM_E_TRUNCATED = -9,       /* 400: body ended early */
    HTTP_FORM_E_IO = -10,             /* 500: the temporary file */
    HTTP_FORM_E_NO_MEMORY = -11,      /* 503 */
};

struct http_form_options {
    const char *file_field; /* name of the file part: "file" */
    const char *temp_dir;   /* directory for the temporary file */
    uint64_t max_file_bytes;
    size_t max_field_bytes; /* per text field */
};

struct http_form_field {
    char name[HTTP_MULTIPART_NAME_MAX];
    char *value; /* NUL-terminated, reel_malloc'd */
    size_t len;
};

/* The caller provides the storage: http_form_init ... http_form_clear. */
struct http_form {
    struct http_multipart parser;
    struct http_form_options opts;
    int error;
    /* the file part */
    int fd;
    char file_path[HTTP_FORM_PATH_MAX];
    bool has_file, file_taken;
    uint64_t file_bytes;
    char file_name[HTTP_MULTIPART_FILENAME_MAX];
    char file_type[HTTP_MULTIPART_TYPE_MAX];
    /* text fields */
    struct http_form_field fields[HTTP_FORM_MAX_FIELDS];
    int field_count;
    int current; /* -1 file, >= 0 field index, -2 skipped part */
};

/* Prepares to read a body of the given Content-Type. Returns HTTP_FORM_OK,
 * HTTP_FORM_E_NOT_MULTIPART or HTTP_FORM_E_MALFORMED (bad boundary); in
 * every case http_form_clear must be called. opts strings are borrowed
 * and must outlive the form. */
int http_form_init(struct http_form *form, const char *content_type,
                   const struct http_form_options *opts);
/* Feeds a piece of the body. Returns HTTP_FORM_OK or an error (sticky). */
int http_form_feed(struct http_form *form, const char *data, size_t len);
/* At the end of the body: checks the final boundary and that a file part
 * was present. Returns HTTP_FORM_OK or an error. */
int http_form_finish(struct http_form *form);

/* A text field's value (NUL-terminated) and length, or NULL if absent.
 * Owned by the form. */
const char *http_form_field(const struct http_form *form, const char *name, size_t *len);
/* The temporary file's path; the caller owns the file from now on (it is
 * no longer removed by http_form_clear). NULL if there is no file. */
const char *http_form_take_file(struct http_form *form);
/* Frees the fields, closes and (unless taken) removes the file. */
void http_form_clear(struct http_form *form);

/* The HTTP status for an error (400, 413, 415, 500, 503) and its words. */
int http_form_error_status(int error);
const char *http_form_strerror(int error);

#endif
