/*
 * buf.h — a growable byte buffer with a hard cap, in the manner of curl's
 * dynbuf: every buffer a client can grow has a maximum and fails cleanly with
 * BUF_TOO_BIG past it instead of growing without bound.
 *
 * The caller provides the struct (buf_init/buf_clear); the buffer owns its
 * bytes. The contents are always NUL-terminated (not counted in len) so text
 * can be used as a C string.
 */
#ifndef REEL_CORE_BUF_H
#define REEL_CORE_BUF_H

#include <stddef.h>

enum { BUF_OK = 0, BUF_NOMEM = -1, BUF_TOO_BIG = -2 };

struct buf {
    char *data;   /* NULL until the first append */
    size_t len;
    size_t cap;   /* allocated bytes */
    size_t max;   /* largest len allowed */
};

void buf_init(struct buf *b, size_t max);
/* Frees the bytes; the struct may be reused after buf_init. */
void buf_clear(struct buf *b);
/* Empties the buffer, keeping its memory. */
void buf_reset(struct buf *b);

/* Makes room for `extra` more bytes, so that appends up to them allocate
 * nothing (a buffer otherwise grows by doubling from 64 bytes). Returns
 * BUF_OK, BUF_NOMEM or BUF_TOO_BIG (buffer unchanged). */
int buf_reserve(struct buf *b, size_t extra);
/* Appends; returns BUF_OK, BUF_NOMEM or BUF_TOO_BIG (buffer unchanged). */
int buf_append(struct buf *b, const void *data, size_t len);
int buf_append_str(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Hands the bytes to the caller (reel_free them) and empties the buffer.
 * Returns NULL if nothing was ever appended or reserved. */
char *buf_steal(struct buf *b, size_t *len);

#endif
