/*
 * parse.h — strict, bounds-checked parsing of the small values that come from
 * config files, command lines, query strings and JSON: numbers, sizes,
 * durations, booleans, UTF-8 text. No atoi/strtol surprises: the whole input
 * must be consumed, overflow is an error, and nothing here allocates.
 */
#ifndef REEL_CORE_PARSE_H
#define REEL_CORE_PARSE_H

#include <stdbool.h>
#include <stddef.h>

/* Unsigned decimal, digits only (no sign, no spaces), no overflow.
 * Returns 0 and sets *out, or -1. */
int parse_ull(const char *s, unsigned long long *out);
/* A byte size: decimal with an optional k/m/g suffix (powers of 1024). */
int parse_bytes(const char *s, unsigned long long *out);
/* A duration in seconds: decimal with an optional s/m/h/d suffix. */
int parse_seconds(const char *s, unsigned long long *out);
/* A finite decimal number ("0.05", "-1", "1e-3"), whole input consumed, no
 * spaces, no hex, no inf/nan. Returns 0 and sets *out, or -1. */
int parse_double(const char *s, double *out);
/* on/off, true/false, yes/no, 1/0. */
int parse_bool(const char *s, bool *out);

/* True if s[0..len) is well-formed UTF-8 (no overlongs, no surrogates, nothing
 * past U+10FFFF) without NUL bytes. */
bool utf8_valid(const char *s, size_t len);
/* Number of code points in valid UTF-8 text. */
size_t utf8_length(const char *s, size_t len);
/* True if the text holds a C0/C1 control character other than tab/newline
 * (when allow_newlines) — rejected in names and captions. */
bool utf8_has_controls(const char *s, size_t len, bool allow_newlines);

#endif
