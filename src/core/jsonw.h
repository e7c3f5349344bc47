/*
 * jsonw.h — a streaming JSON writer for the hot responses (profiles, video
 * lists, feeds).
 *
 * jansson builds a tree of allocated values and then serialises it with
 * per-character escaping: ~30,000 instructions for one 9-field `User`,
 * measured with callgrind — more than the database read behind it. This
 * writer appends straight into a capped `struct buf`, copying runs of plain
 * bytes with memcpy, at a few hundred instructions per object. jansson stays
 * the parser and builds small one-off answers; views that are served at
 * volume are written with this.
 *
 * The writer tracks nesting to place commas; keys and values must alternate
 * inside objects (checked: misuse sets an error rather than emitting invalid
 * JSON). Strings must be valid UTF-8 (everything stored was validated on the
 * way in); control characters, '"' and '\' are escaped.
 */
#ifndef REEL_CORE_JSONW_H
#define REEL_CORE_JSONW_H

#include "core/buf.h"

#include <stdbool.h>
#include <stdint.h>

#define JSONW_MAX_DEPTH 32

struct jsonw {
    struct buf *out;
    int depth;
    int error;                          /* first BUF_* error or JSONW_MISUSE */
    bool first[JSONW_MAX_DEPTH];        /* nothing written yet at this level */
    bool in_object[JSONW_MAX_DEPTH];
    bool after_key;
};

enum { JSONW_MISUSE = -10 };

/* Starts writing into out (appending). */
void jsonw_init(struct jsonw *w, struct buf *out);
/* Returns 0 if a complete, balanced value was written, else the first error. */
int jsonw_finish(struct jsonw *w);

void jsonw_object_begin(struct jsonw *w);
void jsonw_object_end(struct jsonw *w);
void jsonw_array_begin(struct jsonw *w);
void jsonw_array_end(struct jsonw *w);
void jsonw_key(struct jsonw *w, const char *key);

void jsonw_string(struct jsonw *w, const char *s);
void jsonw_string_n(struct jsonw *w, const char *s, size_t len);
void jsonw_int(struct jsonw *w, int64_t v);
void jsonw_uint(struct jsonw *w, uint64_t v);
void jsonw_double(struct jsonw *w, double v);
void jsonw_bool(struct jsonw *w, bool v);
void jsonw_null(struct jsonw *w);
/* A 64-bit id as a decimal string ("148056038008356864"). */
void jsonw_id(struct jsonw *w, uint64_t id);
/* An RFC 3339 UTC time with milliseconds. */
void jsonw_time(struct jsonw *w, int64_t unix_ms);
/* Pre-serialised JSON, inserted as one value (trusted: not checked). */
void jsonw_raw(struct jsonw *w, const char *json, size_t len);
/* Writes members already in JSON (`"a":1,"b":[]`, no braces, no leading or
 * trailing comma) into the open object, as if each had been written with
 * jsonw_key and a value. len 0 writes nothing. */
void jsonw_raw_members(struct jsonw *w, const char *members, size_t len);

/* key + value shorthands */
void jsonw_kv_string(struct jsonw *w, const char *key, const char *s);
void jsonw_kv_int(struct jsonw *w, const char *key, int64_t v);
void jsonw_kv_id(struct jsonw *w, const char *key, uint64_t id);
void jsonw_kv_time(struct jsonw *w, const char *key, int64_t unix_ms);
void jsonw_kv_bool(struct jsonw *w, const char *key, bool v);

#endif
