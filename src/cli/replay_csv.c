/*
 * replay_csv.c — the small strict CSV reader of `reel replay` (replay.h).
 *
 * The file is read whole (capped at REPLAY_FILE_MAX) and split in place:
 * fields point into the text. Quoted fields may hold commas; a quote inside
 * one is written "". A line that is not well-formed stops the reader with its
 * number, so a truncated or edited file is reported, never half-used.
 */
#include "cli/replay.h"

#include "core/alloc.h"
#include "core/parse.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int csv_open(struct csv_reader *r, const char *path, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 20, len = 0;
    char *text = reel_malloc(cap + 1);
    while (text) {
        size_t n = fread(text + len, 1, cap - len, f);
        len += n;
        if (len < cap)
            break;
        if (cap >= REPLAY_FILE_MAX) {
            fclose(f);
            reel_free(text);
            snprintf(err, errlen, "%s: larger than %u MiB", path, REPLAY_FILE_MAX >> 20);
            return -1;
        }
        cap *= 2;
        char *bigger = reel_realloc(text, cap + 1);
        if (!bigger)
            reel_free(text);
        text = bigger;
    }
    int read_error = ferror(f);
    fclose(f);
    if (!text) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    if (read_error) {
        reel_free(text);
        snprintf(err, errlen, "%s: read error", path);
        return -1;
    }
    if (memchr(text, '\0', len)) {
        reel_free(text);
        snprintf(err, errlen, "%s: contains NUL bytes (not a text file)", path);
        return -1;
    }
    text[len] = '\0';
    r->text = text;
    r->len = len;
    return 0;
}

void csv_close(struct csv_reader *r)
{
    reel_free(r->text);
    memset(r, 0, sizeof *r);
}

__attribute__((format(printf, 4, 5))) static int fail_at(struct csv_reader *r, char *err,
                                                         size_t errlen, const char *fmt, ...)
{
    int n = snprintf(err, errlen, "%s:%u: ", r->path, r->line);
    if (n < 0 || (size_t)n >= errlen)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

int csv_next(struct csv_reader *r, char *err, size_t errlen)
{
    for (;;) {
        if (r->pos >= r->len)
            return 0;
        char *start = r->text + r->pos;
        char *nl = strchr(start, '\n');
        size_t linelen = nl ? (size_t)(nl - start) : strlen(start);
        r->pos += linelen + (nl ? 1 : 0);
        r->line++;
        if (linelen && start[linelen - 1] == '\r')
            linelen--;
        start[linelen] = '\0';
        if (linelen == 0)
            continue; /* blank lines (a final newline) carry nothing */
        /* Split in place, unquoting. */
        r->nfields = 0;
        char *in = start, *out = start;
        for (;;) {
            if (r->nfields == CSV_FIELDS_MAX)
                return fail_at(r, err, errlen, "more than %d fields", CSV_FIELDS_MAX);
            r->fields[r->nfields++] = out;
            if (*in == '"') {
                in++;
                for (;;) {
                    if (*in == '\0')
                        return fail_at(r, err, errlen, "unterminated quoted field %u",
                                       r->nfields);
                    if (*in == '"') {
                        if (in[1] == '"') {
                            *out++ = '"';
                            in += 2;
                            continue;
                        }
                        in++;
                        break;
                    }
                    *out++ = *in++;
                }
                if (*in != ',' && *in != '\0')
                    return fail_at(r, err, errlen, "text after the closing quote of field %u",
                                   r->nfields);
            } else {
                while (*in && *in != ',') {
                    if (*in == '"')
                        return fail_at(r, err, errlen, "stray quote in field %u", r->nfields);
                    *out++ = *in++;
                }
            }
            if (*in == '\0') {
                *out = '\0';
                break;
            }
            *out++ = '\0';
            in++; /* the comma */
        }
        return 1;
    }
}

int csv_expect_fields(struct csv_reader *r, unsigned n, char *err, size_t errlen)
{
    if (r->nfields != n)
        return fail_at(r, err, errlen, "expected %u fields, found %u", n, r->nfields);
    return 0;
}

int csv_u64(struct csv_reader *r, unsigned field, const char *name, uint64_t *out, char *err,
            size_t errlen)
{
    unsigned long long v;
    if (field >= r->nfields)
        return fail_at(r, err, errlen, "field %u (%s) is missing", field + 1, name);
    if (parse_ull(r->fields[field], &v) < 0)
        return fail_at(r, err, errlen, "field %u (%s): '%.40s' is not a whole number", field + 1,
                       name, r->fields[field]);
    *out = v;
    return 0;
}

int csv_double(struct csv_reader *r, unsigned field, const char *name, double *out, char *err,
               size_t errlen)
{
    if (field >= r->nfields)
        return fail_at(r, err, errlen, "field %u (%s) is missing", field + 1, name);
    if (parse_double(r->fields[field], out) < 0)
        return fail_at(r, err, errlen, "field %u (%s): '%.40s' is not a number", field + 1, name,
                       r->fields[field]);
    return 0;
}
