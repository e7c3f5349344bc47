/*
 * ratelimit.h — token-bucket rate limiting keyed by client address or token.
 *
 * Each key has a bucket of `burst` tokens refilled at `rate` per second; a
 * request takes one. Buckets live in a fixed-size table split into shards,
 * each with its own mutex, so memory is bounded whatever clients do: when a
 * shard's probe window is full, the least recently used bucket is reused
 * (the evicted client starts again with a full bucket — a bounded table
 * cannot do better, and eviction only ever errs on the side of allowing).
 */
#ifndef REEL_HTTP_RATELIMIT_H
#define REEL_HTTP_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

struct ratelimit;

/* rate per second (0 = unlimited: ratelimit_take always allows), burst size,
 * and the number of buckets to keep (rounded up). NULL when out of memory. */
struct ratelimit *ratelimit_create(unsigned rate, unsigned burst, size_t buckets);
void ratelimit_destroy(struct ratelimit *rl);
/* Changes the rate and burst (config reload); safe while other threads take
 * tokens. Buckets keep their tokens, capped at the new burst on their next
 * take. */
void ratelimit_set(struct ratelimit *rl, unsigned rate, unsigned burst);

/* Takes one token for key at time now_ns (monotonic). Returns 0 if allowed,
 * else the number of whole seconds to wait before retrying (>= 1). */
unsigned ratelimit_take(struct ratelimit *rl, const void *key, size_t key_len, uint64_t now_ns);

#endif
