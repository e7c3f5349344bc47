/*
 * form.c — see form.h.
 */
#include "http/form.h"

#include "core/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
    int error;
    int status;
    const char *words;
} errors[] = {
    {HTTP_FORM_OK, 200, "ok"},
    {HTTP_FORM_E_NOT_MULTIPART, 415, "the body must be multipart/form-data"},
    {HTTP_FORM_E_MALFORMED, 400, "the multipart body is malformed"},
    {HTTP_FORM_E_HEADER_TOO_BIG, 400, "a part's headers are too large"},
    {HTTP_FORM_E_FILE_TOO_LARGE, 413, "the file is larger than the upload limit"},
    {HTTP_FORM_E_FIELD_TOO_LARGE, 413, "a form field is too long"},
    {HTTP_FORM_E_TOO_MANY_FIELDS, 400, "the form has too many fields"},
    {HTTP_FORM_E_DUPLICATE, 400, "a form field or the file appears twice"},
    {HTTP_FORM_E_NO_FILE, 400, "the form has no file part"},
    {HTTP_FORM_E_TRUNCATED, 400, "the body ended before the form did"},
    {HTTP_FORM_E_IO, 500, "the upload could not be stored"},
    {HTTP_FORM_E_NO_MEMORY, 503, "out of memory"},
};

int http_form_error_status(int error)
{
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
        if (errors[i].error == error)
            return errors[i].status;
    return 500;
}

const char *http_form_strerror(int error)
{
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
        if (errors[i].error == error)
            return errors[i].words;
    return "unknown error";
}

/* Records the first error and makes the callback stop the parser. */
static int stop(struct http_form *form, int error)
{
    if (form->error == HTTP_FORM_OK)
        form->error = error;
    return 1;
}

static int on_part_begin(void *ctx, const struct http_multipart_part *part)
{
    struct http_form *form = ctx;
    if (strcmp(part->name, form->opts.file_field) == 0) {
        if (form->has_file)
            return stop(form, HTTP_FORM_E_DUPLICATE);
        int n = snprintf(form->file_path, sizeof form->file_path, "%s/upload-XXXXXX",
                         form->opts.temp_dir);
        if (n < 0 || (size_t)n >= sizeof form->file_path)
            return stop(form, HTTP_FORM_E_IO);
        form->fd = mkostemp(form->file_path, O_CLOEXEC);
        if (form->fd < 0) {
            form->file_path[0] = '\0';
            return stop(form, HTTP_FORM_E_IO);
        }
        form->has_file = true;
        snprintf(form->file_name, sizeof form->file_name, "%s", part->filename);
        snprintf(form->file_type, sizeof form->file_type, "%s", part->content_type);
        form->current = -1;
        return 0;
    }
    if (part->has_filename) {
        form->current = -2; /* a second file under another name: ignored */
        return 0;
    }
    for (int i = 0; i < form->field_count; i++)
        if (strcmp(form->fields[i].name, part->name) == 0)
            return stop(form, HTTP_FORM_E_DUPLICATE);
    if (form->field_count >= HTTP_FORM_MAX_FIELDS)
        return stop(form, HTTP_FORM_E_TOO_MANY_FIELDS);
    struct http_form_field *f = &form->fields[form->field_count];
    f->value = reel_malloc(form->opts.max_field_bytes + 1);
    if (!f->value)
        return stop(form, HTTP_FORM_E_NO_MEMORY);
    f->value[0] = '\0';
    f->len = 0;
    snprintf(f->name, sizeof f->name, "%s", part->name);
    form->current = form->field_count++;
    return 0;
}

static int on_part_data(void *ctx, const char *data, size_t len)
{
    struct http_form *form = ctx;
    if (form->current == -2)
        return 0;
    if (form->current == -1) {
        if (len > form->opts.max_file_bytes - form->file_bytes)
            return stop(form, HTTP_FORM_E_FILE_TOO_LARGE);
        while (len) {
            ssize_t n = write(form->fd, data, len);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return stop(form, HTTP_FORM_E_IO);
            data += n;
            len -= (size_t)n;
            form->file_bytes += (uint64_t)n;
        }
        return 0;
    }
    struct http_form_field *f = &form->fields[form->current];
    if (len > form->opts.max_field_bytes - f->len)
        return stop(form, HTTP_FORM_E_FIELD_TOO_LARGE);
    memcpy(f->value + f->len, data, len);
    f->len += len;
    f->value[f->len] = '\0';
    return 0;
}

static int on_part_end(void *ctx)
{
    struct http_form *form = ctx;
    form->current = -2;
    return 0;
}

static int from_multipart(int rc)
{
    switch (rc) {
    case HTTP_MULTIPART_OK: return HTTP_FORM_OK;
    case HTTP_MULTIPART_E_HEADER_TOO_BIG: return HTTP_FORM_E_HEADER_TOO_BIG;
    case HTTP_MULTIPART_E_TRUNCATED: return HTTP_FORM_E_TRUNCATED;
    default: return HTTP_FORM_E_MALFORMED;
    }
}

int http_form_init(struct http_form *form, const char *content_type,
                   const struct http_form_options *opts)
{
    static const struct http_multipart_callbacks callbacks = {on_part_begin, on_part_data,
                                                              on_part_end};
    char boundary[HTTP_MULTIPART_BOUNDARY_MAX + 1];
    memset(form, 0, sizeof *form);
    form->fd = -1;
    form->current = -2;
    form->opts = *opts;
    int rc = http_multipart_boundary(content_type, boundary, sizeof boundary);
    if (rc == -1)
        return form->error = HTTP_FORM_E_NOT_MULTIPART;
    if (rc < 0 || http_multipart_init(&form->parser, boundary, &callbacks, form) < 0)
        return form->error = HTTP_FORM_E_MALFORMED;
    return HTTP_FORM_OK;
}

int http_form_feed(struct http_form *form, const char *data, size_t len)
{
    if (form->error)
        return form->error;
    int rc = http_multipart_feed(&form->parser, data, len);
    if (rc == HTTP_MULTIPART_E_ABORTED)
        return form->error;
    if (rc != HTTP_MULTIPART_OK)
        form->error = from_multipart(rc);
    return form->error;
}

int http_form_finish(struct http_form *form)
{
    if (form->error)
        return form->error;
    int rc = http_multipart_finish(&form->parser);
    if (rc != HTTP_MULTIPART_OK)
        return form->error = from_multipart(rc);
    if (!form->has_file)
        return form->error = HTTP_FORM_E_NO_FILE;
    if (form->fd >= 0) {
        int closed = close(form->fd);
        form->fd = -1;
        if (closed < 0)
            return form->error = HTTP_FORM_E_IO;
    }
    return HTTP_FORM_OK;
}

const char *http_form_field(const struct http_form *form, const char *name, size_t *len)
{
    for (int i = 0; i < form->field_count; i++)
        if (strcmp(form->fields[i].name, name) == 0) {
            if (len)
                *len = form->fields[i].len;
            return form->fields[i].value;
        }
    return NULL;
}

const char *http_form_take_file(struct http_form *form)
{
    if (!form->has_file || form->file_taken)
        return NULL;
    form->file_taken = true;
    return form->file_path;
}

void http_form_clear(struct http_form *form)
{
    for (int i = 0; i < form->field_count; i++)
        reel_free(form->fields[i].value);
    form->field_count = 0;
    if (form->fd >= 0)
        close(form->fd);
    form->fd = -1;
    if (form->has_file && !form->file_taken)
        unlink(form->file_path);
    form->has_file = false;
}
