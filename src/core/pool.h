/*
 * pool.h — a region allocator for one unit of work (an HTTP request, a CLI
 * command), freed in one call, in the manner of nginx's ngx_pool_t and h2o's
 * per-request pool.
 *
 * Small allocations are carved from chunks; allocations larger than a chunk
 * get their own block. Nothing is freed individually. Non-memory resources
 * (a jansson value, a file descriptor, a temporary file) are released by
 * cleanup callbacks, run in reverse order of registration by pool_destroy.
 */
#ifndef REEL_CORE_POOL_H
#define REEL_CORE_POOL_H

#include <stddef.h>

struct pool;

/* Creates a pool whose chunks are chunk_size bytes (0 picks 4 KiB).
 * Returns NULL when out of memory. */
struct pool *pool_create(size_t chunk_size);
/* Runs the cleanups, then frees every allocation and the pool. NULL is a no-op. */
void pool_destroy(struct pool *pool);

/* Returns size bytes aligned for any type, valid until pool_destroy; NULL
 * when out of memory. */
void *pool_alloc(struct pool *pool, size_t size);
void *pool_calloc(struct pool *pool, size_t n, size_t size);
char *pool_strdup(struct pool *pool, const char *s);
char *pool_strndup(struct pool *pool, const char *s, size_t n);
/* printf into pool memory; NULL on failure. */
char *pool_printf(struct pool *pool, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Registers fn(data) to run at pool_destroy. Returns 0, or -1 when out of
 * memory — in which case fn has NOT been registered and the caller still owns
 * data. */
int pool_cleanup_add(struct pool *pool, void (*fn)(void *), void *data);

/* Bytes handed out so far (for limits and tests). */
size_t pool_used(const struct pool *pool);

#endif
