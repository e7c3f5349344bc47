/*
 * alloc.h — the one allocation wrapper every Reel subsystem goes through.
 *
 * Like libuv's uv_replace_allocator or curl's torture mode, routing every
 * allocation through one place lets tests make allocation fail on purpose
 * (reel_alloc_fail_after) and check that each caller fails cleanly instead of
 * crashing. The wrappers add no header to the block, so memory from them may
 * be handed to libraries that free with free(3) and vice versa.
 */
#ifndef REEL_CORE_ALLOC_H
#define REEL_CORE_ALLOC_H

#include <stddef.h>

/* Allocate size bytes. Returns NULL when out of memory (or when a test made
 * allocation fail); never aborts. The caller owns the block: reel_free it. */
void *reel_malloc(size_t size);
/* As calloc(3); overflow of n * size returns NULL. */
void *reel_calloc(size_t n, size_t size);
/* As realloc(3); on failure the old block is untouched and still owned. */
void *reel_realloc(void *ptr, size_t size);
/* Growth for arrays: reallocates *ptr to hold n elements of size bytes,
 * checking n * size for overflow. Returns 0, or -1 with *ptr unchanged. */
int reel_array_grow(void **ptr, size_t n, size_t size);
void reel_free(void *ptr);
/* Zeroed arrays of n elements of size bytes starting on an `align`-byte
 * boundary (a power of two, at least sizeof(void *)): elements of a cache
 * line's size or a multiple then sit in whole lines. An alignment of 2 MiB
 * or more also asks for transparent huge pages (MADV_HUGEPAGE) before the
 * memory is first touched, for big tables read at random. reel_aligned_grow
 * makes *ptr (from reel_aligned_calloc, with old_n elements) hold n, moving
 * it (a copy) and zeroing the new part; 0, or -1 with *ptr unchanged. Freed
 * with reel_free. */
void *reel_aligned_calloc(size_t align, size_t n, size_t size);
int reel_aligned_grow(void **ptr, size_t align, size_t old_n, size_t n, size_t size);
/* Copies of strings; NULL on failure. reel_strndup copies at most n bytes and
 * always terminates. */
char *reel_strdup(const char *s);
char *reel_strndup(const char *s, size_t n);

/* Test hook: after `n` more successful allocations every allocation fails,
 * until reel_alloc_fail_after(-1) restores normal behaviour. Counts are per
 * process (tests run one process each). */
void reel_alloc_fail_after(long n);

/* Installs the wrapper as jansson's allocator so JSON values obey the same
 * fault injection. Called once at start-up by every entry point. */
void reel_alloc_init(void);

#endif
