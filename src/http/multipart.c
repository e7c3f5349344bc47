/*
 * multipart.c — see multipart.h.
 */
#include "http/multipart.h"

#include <string.h>
#include <strings.h>

enum state {
    S_PREAMBLE,   /* before the first delimiter */
    S_DELIM_TAIL, /* just after a delimiter: "--", padding or CRLF */
    S_DASH2,      /* after "--boundary-" */
    S_PADDING,    /* transport padding before CRLF */
    S_LF,         /* after the CR that ends a delimiter line */
    S_HEADERS,    /* part header lines */
    S_BODY,       /* part data */
    S_EPILOGUE,   /* after the final delimiter: ignored */
    S_DEAD,       /* an error happened */
};

const char *http_multipart_strerror(int error)
{
    switch (error) {
    case HTTP_MULTIPART_OK: return "ok";
    case HTTP_MULTIPART_E_MALFORMED: return "the multipart body is malformed";
    case HTTP_MULTIPART_E_HEADER_TOO_BIG: return "a part's headers are too large";
    case HTTP_MULTIPART_E_PREAMBLE_TOO_BIG: return "no multipart boundary where one was expected";
    case HTTP_MULTIPART_E_TRUNCATED: return "the multipart body ends before its final boundary";
    case HTTP_MULTIPART_E_ABORTED: return "stopped";
    default: return "unknown multipart error";
    }
}

/* RFC 2046 bchars. */
static bool boundary_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           strchr("'()+_,-./:=? ", c) != NULL;
}

static bool boundary_valid(const char *b, size_t len)
{
    if (len == 0 || len > HTTP_MULTIPART_BOUNDARY_MAX || b[len - 1] == ' ')
        return false;
    for (size_t i = 0; i < len; i++)
        if (!boundary_char(b[i]))
            return false;
    return true;
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_tchar(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Reads a token or quoted-string value at *p into out. Returns 0, -1 if
 * malformed, -2 if it does not fit. */
static int read_value(const char **p, char *out, size_t size)
{
    const char *s = *p;
    size_t n = 0;
    if (*s == '"') {
        s++;
        for (;;) {
            char c = *s++;
            if (c == '\0')
                return -1;
            if (c == '"')
                break;
            if (c == '\\') {
                c = *s++;
                if (c == '\0')
                    return -1;
            }
            if (n + 1 >= size)
                return -2;
            out[n++] = c;
        }
    } else {
        while (is_tchar(*s)) {
            if (n + 1 >= size)
                return -2;
            out[n++] = *s++;
        }
        if (n == 0)
            return -1;
    }
    out[n] = '\0';
    *p = s;
    return 0;
}

int http_multipart_boundary(const char *content_type, char *out, size_t size)
{
    static const char type[] = "multipart/form-data";
    const char *p = content_type;
    if (!p)
        return -1;
    while (is_ows(*p))
        p++;
    if (strncasecmp(p, type, sizeof type - 1) != 0)
        return -1;
    p += sizeof type - 1;
    if (*p && *p != ';' && !is_ows(*p))
        return -1;
    bool found = false;
    while (*p) {
        while (is_ows(*p))
            p++;
        if (*p != ';')
            return found ? 0 : -2;
        p++;
        while (is_ows(*p))
            p++;
        const char *name = p;
        while (is_tchar(*p))
            p++;
        size_t name_len = (size_t)(p - name);
        if (*p != '=' || name_len == 0)
            return -2;
        p++;
        char value[HTTP_MULTIPART_BOUNDARY_MAX + 2];
        int rc = read_value(&p, value, sizeof value);
        if (rc < 0)
            return -2;
        while (is_ows(*p))
            p++;
        if (*p && *p != ';')
            return -2; /* junk after the value */
        if (name_len == 8 && strncasecmp(name, "boundary", 8) == 0) {
            size_t len = strlen(value);
            if (found || !boundary_valid(value, len) || len + 1 > size)
                return -2;
            memcpy(out, value, len + 1);
            found = true;
        }
    }
    return found ? 0 : -2;
}

int http_multipart_init(struct http_multipart *mp, const char *boundary,
                        const struct http_multipart_callbacks *cb, void *ctx)
{
    size_t len = strlen(boundary);
    memset(mp, 0, sizeof *mp);
    if (!boundary_valid(boundary, len)) {
        mp->state = S_DEAD;
        mp->error = HTTP_MULTIPART_E_MALFORMED;
        return HTTP_MULTIPART_E_MALFORMED;
    }
    mp->cb = *cb;
    mp->ctx = ctx;
    memcpy(mp->delimiter, "\r\n--", 4);
    memcpy(mp->delimiter + 4, boundary, len);
    mp->delimiter_len = 4 + len;
    mp->state = S_PREAMBLE;
    mp->match = 2; /* the body may open with the delimiter minus its CRLF */
    return 0;
}

static int die(struct http_multipart *mp, int error)
{
    mp->state = S_DEAD;
    mp->error = error;
    return error;
}

/* Parses Content-Disposition: form-data; name="x"; filename="y". */
static int parse_disposition(struct http_multipart *mp, const char *v)
{
    if (strncasecmp(v, "form-data", 9) != 0 || (v[9] && v[9] != ';' && !is_ows(v[9])))
        return HTTP_MULTIPART_E_MALFORMED;
    const char *p = v + 9;
    bool seen_name = false;
    while (*p) {
        while (is_ows(*p))
            p++;
        if (!*p)
            break;
        if (*p != ';')
            return HTTP_MULTIPART_E_MALFORMED;
        p++;
        while (is_ows(*p))
            p++;
        const char *name = p;
        while (is_tchar(*p))
            p++;
        size_t name_len = (size_t)(p - name);
        while (is_ows(*p))
            p++;
        if (name_len == 0 || *p != '=')
            return HTTP_MULTIPART_E_MALFORMED;
        p++;
        while (is_ows(*p))
            p++;
        char value[HTTP_MULTIPART_FILENAME_MAX];
        int rc = read_value(&p, value, sizeof value);
        if (rc == -2)
            return HTTP_MULTIPART_E_HEADER_TOO_BIG;
        if (rc < 0)
            return HTTP_MULTIPART_E_MALFORMED;
        if (name_len == 4 && strncasecmp(name, "name", 4) == 0) {
            if (seen_name || strlen(value) >= sizeof mp->part.name)
                return seen_name ? HTTP_MULTIPART_E_MALFORMED : HTTP_MULTIPART_E_HEADER_TOO_BIG;
            memcpy(mp->part.name, value, strlen(value) + 1);
            seen_name = true;
        } else if (name_len == 8 && strncasecmp(name, "filename", 8) == 0) {
            if (mp->part.has_filename)
                return HTTP_MULTIPART_E_MALFORMED;
            memcpy(mp->part.filename, value, strlen(value) + 1);
            mp->part.has_filename = true;
        }
    }
    return seen_name ? 0 : HTTP_MULTIPART_E_MALFORMED;
}

/* One complete header line (CRLF removed). */
static int header_line(struct http_multipart *mp, const char *line, size_t len)
{
    if (is_ows(line[0]))
        return HTTP_MULTIPART_E_MALFORMED; /* obsolete line folding */
    if (++mp->header_lines > HTTP_MULTIPART_HEADERS_MAX)
        return HTTP_MULTIPART_E_HEADER_TOO_BIG;
    const char *colon = memchr(line, ':', len);
    if (!colon || colon == line)
        return HTTP_MULTIPART_E_MALFORMED;
    for (const char *c = line; c < colon; c++)
        if (!is_tchar(*c))
            return HTTP_MULTIPART_E_MALFORMED;
    size_t name_len = (size_t)(colon - line);
    const char *v = colon + 1;
    while (is_ows(*v))
        v++;
    size_t vlen = strlen(v);
    while (vlen && is_ows(v[vlen - 1]))
        vlen--;
    char value[HTTP_MULTIPART_LINE_MAX];
    memcpy(value, v, vlen);
    value[vlen] = '\0';
    if (name_len == 19 && strncasecmp(line, "content-disposition", 19) == 0) {
        if (mp->part.name[0])
            return HTTP_MULTIPART_E_MALFORMED; /* twice */
        return parse_disposition(mp, value);
    }
    if (name_len == 12 && strncasecmp(line, "content-type", 12) == 0) {
        if (vlen >= sizeof mp->part.content_type)
            return HTTP_MULTIPART_E_HEADER_TOO_BIG;
        memcpy(mp->part.content_type, value, vlen + 1);
    }
    return 0;
}

/* Feeds one byte of a part header block. */
static int header_byte(struct http_multipart *mp, char c)
{
    if (c == '\n') {
        if (mp->line_len == 0 || mp->line[mp->line_len - 1] != '\r')
            return HTTP_MULTIPART_E_MALFORMED;
        mp->line_len--;
        mp->line[mp->line_len] = '\0';
        if (mp->line_len == 0) {
            if (!mp->part.name[0])
                return HTTP_MULTIPART_E_MALFORMED; /* no Content-Disposition */
            mp->state = S_BODY;
            mp->match = 0;
            if (mp->cb.on_part_begin && mp->cb.on_part_begin(mp->ctx, &mp->part) != 0)
                return HTTP_MULTIPART_E_ABORTED;
            return 0;
        }
        int rc = header_line(mp, mp->line, mp->line_len);
        mp->line_len = 0;
        return rc;
    }
    if (c == '\0' || (mp->line_len > 0 && mp->line[mp->line_len - 1] == '\r'))
        return HTTP_MULTIPART_E_MALFORMED; /* NUL, or CR not followed by LF */
    if (mp->line_len + 1 >= sizeof mp->line)
        return HTTP_MULTIPART_E_HEADER_TOO_BIG;
    mp->line[mp->line_len++] = c;
    return 0;
}

static int emit(struct http_multipart *mp, const char *data, size_t len)
{
    if (len && mp->cb.on_part_data && mp->cb.on_part_data(mp->ctx, data, len) != 0)
        return HTTP_MULTIPART_E_ABORTED;
    return 0;
}

/* Scans part data for the delimiter from data[*pos]; returns at the end of
 * the input or just after a complete delimiter (state then S_DELIM_TAIL).
 *
 * The delimiter is CRLF "--" boundary, and a boundary has no CR (RFC 2046
 * bchars), so a delimiter can only start at a CR: the scan jumps from CR to
 * CR with memchr and compares there, and data between delimiters goes to
 * on_part_data in runs as long as the input piece. (Emitting at every CR
 * would turn binary data, where one byte in 256 is a CR, into a write(2)
 * per 256 bytes.) A delimiter prefix that reaches the end of the piece is
 * held back in mp->match until the next piece says whether it was one. */
static int scan_body(struct http_multipart *mp, const char *data, size_t len, size_t *pos)
{
    size_t i = *pos;
    int rc;
    while (mp->match > 0 && i < len) {
        if (data[i] != mp->delimiter[mp->match]) {
            /* What looked like a delimiter was data: hand it on. */
            if ((rc = emit(mp, mp->delimiter, mp->match)) != 0)
                return rc;
            mp->match = 0;
            break;
        }
        i++;
        if (++mp->match == mp->delimiter_len)
            goto delimiter;
    }
    if (mp->match > 0) { /* the piece ended inside the prefix */
        *pos = len;
        return 0;
    }
    size_t run = i;
    while (i < len) {
        const char *cr = memchr(data + i, '\r', len - i);
        if (!cr)
            break;
        size_t at = (size_t)(cr - data);
        size_t n = len - at < mp->delimiter_len ? len - at : mp->delimiter_len;
        if (memcmp(cr, mp->delimiter, n) != 0) {
            i = at + 1;
            continue;
        }
        if ((rc = emit(mp, data + run, at - run)) != 0)
            return rc;
        i = at + n;
        mp->match = n;
        if (n < mp->delimiter_len) { /* a prefix at the end of the piece */
            *pos = len;
            return 0;
        }
        goto delimiter;
    }
    if ((rc = emit(mp, data + run, len - run)) != 0)
        return rc;
    *pos = len;
    return 0;

delimiter:
    mp->match = 0;
    mp->state = S_DELIM_TAIL;
    if (mp->cb.on_part_end && mp->cb.on_part_end(mp->ctx) != 0)
        return HTTP_MULTIPART_E_ABORTED;
    *pos = i;
    return 0;
}

/* Looks for the first delimiter in the preamble, discarding bytes. */
static int scan_preamble(struct http_multipart *mp, const char *data, size_t len, size_t *pos)
{
    for (size_t i = *pos; i < len; i++) {
        char c = data[i];
        if (c == mp->delimiter[mp->match]) {
            if (++mp->match == mp->delimiter_len) {
                mp->match = 0;
                mp->state = S_DELIM_TAIL;
                *pos = i + 1;
                return 0;
            }
            continue;
        }
        mp->match = c == mp->delimiter[0] ? 1 : 0;
        if (++mp->preamble > HTTP_MULTIPART_PREAMBLE_MAX)
            return HTTP_MULTIPART_E_PREAMBLE_TOO_BIG;
    }
    *pos = len;
    return 0;
}

int http_multipart_feed(struct http_multipart *mp, const char *data, size_t len)
{
    size_t i = 0;
    int rc = 0;
    while (i < len && rc == 0) {
        char c;
        switch (mp->state) {
        case S_DEAD: return mp->error;
        case S_PREAMBLE: rc = scan_preamble(mp, data, len, &i); break;
        case S_BODY: rc = scan_body(mp, data, len, &i); break;
        case S_EPILOGUE: return 0;
        case S_HEADERS: rc = header_byte(mp, data[i++]); break;
        case S_DELIM_TAIL:
            c = data[i++];
            if (c == '-')
                mp->state = S_DASH2;
            else if (is_ows(c))
                mp->state = S_PADDING;
            else if (c == '\r')
                mp->state = S_LF;
            else
                rc = HTTP_MULTIPART_E_MALFORMED;
            break;
        case S_DASH2:
            if (data[i++] == '-')
                mp->state = S_EPILOGUE;
            else
                rc = HTTP_MULTIPART_E_MALFORMED;
            break;
        case S_PADDING:
            c = data[i++];
            if (c == '\r')
                mp->state = S_LF;
            else if (!is_ows(c))
                rc = HTTP_MULTIPART_E_MALFORMED;
            break;
        case S_LF:
            if (data[i++] != '\n') {
                rc = HTTP_MULTIPART_E_MALFORMED;
                break;
            }
            mp->state = S_HEADERS;
            mp->line_len = 0;
            mp->header_lines = 0;
            memset(&mp->part, 0, sizeof mp->part);
            break;
        default: rc = HTTP_MULTIPART_E_MALFORMED;
        }
    }
    return rc ? die(mp, rc) : 0;
}

int http_multipart_finish(struct http_multipart *mp)
{
    if (mp->state == S_DEAD)
        return mp->error;
    if (mp->state != S_EPILOGUE)
        return die(mp, HTTP_MULTIPART_E_TRUNCATED);
    return 0;
}
