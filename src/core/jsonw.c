/*
 * jsonw.c — see jsonw.h.
 */
#include "core/jsonw.h"

#include "core/clock.h"
#include "core/id.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void jsonw_init(struct jsonw *w, struct buf *out)
{
    memset(w, 0, sizeof *w);
    w->out = out;
    w->first[0] = true;
}

int jsonw_finish(struct jsonw *w)
{
    if (w->error)
        return w->error;
    if (w->depth != 0 || w->first[0] || w->after_key)
        return JSONW_MISUSE;
    return 0;
}

static void put(struct jsonw *w, const char *s, size_t n)
{
    if (w->error)
        return;
    struct buf *b = w->out;
    if (b->len + n < b->cap && b->len + n <= b->max) {
        /* Room already (the common case): no call, no checks beyond these. */
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = '\0';
        return;
    }
    int rc = buf_append(b, s, n);
    if (rc != BUF_OK)
        w->error = rc;
}

/* Called before every value: a comma between array elements, and the
 * check that object members have keys. */
static bool before_value(struct jsonw *w)
{
    if (w->error)
        return false;
    if (w->in_object[w->depth]) {
        if (!w->after_key) {
            w->error = JSONW_MISUSE;
            return false;
        }
        w->after_key = false;
        return true;
    }
    if (w->depth == 0 && !w->first[0]) {
        w->error = JSONW_MISUSE; /* a second top-level value */
        return false;
    }
    if (!w->first[w->depth])
        put(w, ",", 1);
    w->first[w->depth] = false;
    return true;
}

static void open_container(struct jsonw *w, char c, bool object)
{
    if (!before_value(w))
        return;
    if (w->depth + 1 >= JSONW_MAX_DEPTH) {
        w->error = JSONW_MISUSE;
        return;
    }
    put(w, &c, 1);
    w->depth++;
    w->first[w->depth] = true;
    w->in_object[w->depth] = object;
}

static void close_container(struct jsonw *w, char c, bool object)
{
    if (w->error)
        return;
    if (w->depth == 0 || w->in_object[w->depth] != object || w->after_key) {
        w->error = JSONW_MISUSE;
        return;
    }
    put(w, &c, 1);
    w->depth--;
}

void jsonw_object_begin(struct jsonw *w)
{
    open_container(w, '{', true);
}

void jsonw_object_end(struct jsonw *w)
{
    close_container(w, '}', true);
}

void jsonw_array_begin(struct jsonw *w)
{
    open_container(w, '[', false);
}

void jsonw_array_end(struct jsonw *w)
{
    close_container(w, ']', false);
}

/* Bytes that need escaping inside a JSON string. */
static bool needs_escape(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\';
}

static void put_escaped(struct jsonw *w, const char *s, size_t len)
{
    put(w, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!needs_escape(c))
            continue;
        put(w, s + run, i - run);
        char esc[8];
        switch (c) {
        case '"': put(w, "\\\"", 2); break;
        case '\\': put(w, "\\\\", 2); break;
        case '\n': put(w, "\\n", 2); break;
        case '\r': put(w, "\\r", 2); break;
        case '\t': put(w, "\\t", 2); break;
        default:
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put(w, esc, 6);
        }
        run = i + 1;
    }
    put(w, s + run, len - run);
    put(w, "\"", 1);
}

/* Called before every object member: the check that an object is open and
 * waits for a key, and the comma between members. */
static bool before_member(struct jsonw *w)
{
    if (w->error)
        return false;
    if (!w->in_object[w->depth] || w->after_key) {
        w->error = JSONW_MISUSE;
        return false;
    }
    if (!w->first[w->depth])
        put(w, ",", 1);
    w->first[w->depth] = false;
    return true;
}

void jsonw_key(struct jsonw *w, const char *key)
{
    if (!before_member(w))
        return;
    put_escaped(w, key, strlen(key));
    put(w, ":", 1);
    w->after_key = true;
}

void jsonw_string_n(struct jsonw *w, const char *s, size_t len)
{
    if (before_value(w))
        put_escaped(w, s, len);
}

void jsonw_string(struct jsonw *w, const char *s)
{
    jsonw_string_n(w, s, strlen(s));
}

void jsonw_uint(struct jsonw *w, uint64_t v)
{
    if (!before_value(w))
        return;
    char buf[ID_STR_MAX];
    id_format(v, buf); /* plain decimal */
    put(w, buf, strlen(buf));
}

void jsonw_int(struct jsonw *w, int64_t v)
{
    if (v >= 0) {
        jsonw_uint(w, (uint64_t)v);
        return;
    }
    if (!before_value(w))
        return;
    char buf[ID_STR_MAX + 1];
    buf[0] = '-';
    id_format((uint64_t)0 - (uint64_t)v, buf + 1);
    put(w, buf, strlen(buf));
}

void jsonw_double(struct jsonw *w, double v)
{
    if (!isfinite(v)) {
        jsonw_null(w);
        return;
    }
    if (!before_value(w))
        return;
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%.6g", v);
    put(w, buf, (size_t)n);
}

void jsonw_bool(struct jsonw *w, bool v)
{
    if (before_value(w))
        put(w, v ? "true" : "false", v ? 4 : 5);
}

void jsonw_null(struct jsonw *w)
{
    if (before_value(w))
        put(w, "null", 4);
}

void jsonw_id(struct jsonw *w, uint64_t id)
{
    if (!before_value(w))
        return;
    char buf[ID_STR_MAX + 2];
    buf[0] = '"';
    id_format(id, buf + 1);
    size_t n = strlen(buf);
    buf[n++] = '"';
    put(w, buf, n);
}

void jsonw_time(struct jsonw *w, int64_t unix_ms)
{
    if (!before_value(w))
        return;
    char buf[RFC3339_MAX + 2];
    buf[0] = '"';
    clock_format_rfc3339(unix_ms, buf + 1);
    size_t n = strlen(buf);
    buf[n++] = '"';
    put(w, buf, n);
}

void jsonw_raw(struct jsonw *w, const char *json, size_t len)
{
    if (before_value(w))
        put(w, json, len);
}

void jsonw_raw_members(struct jsonw *w, const char *members, size_t len)
{
    if (len && before_member(w))
        put(w, members, len);
}

void jsonw_kv_string(struct jsonw *w, const char *key, const char *s)
{
    jsonw_key(w, key);
    jsonw_string(w, s);
}

void jsonw_kv_int(struct jsonw *w, const char *key, int64_t v)
{
    jsonw_key(w, key);
    jsonw_int(w, v);
}

void jsonw_kv_id(struct jsonw *w, const char *key, uint64_t id)
{
    jsonw_key(w, key);
    jsonw_id(w, id);
}

void jsonw_kv_time(struct jsonw *w, const char *key, int64_t unix_ms)
{
    jsonw_key(w, key);
    jsonw_time(w, unix_ms);
}

void jsonw_kv_bool(struct jsonw *w, const char *key, bool v)
{
    jsonw_key(w, key);
    jsonw_bool(w, v);
}
