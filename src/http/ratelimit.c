/*
 * ratelimit.c — see ratelimit.h. Keys are reduced to a 64-bit hash (SipHash
 * via libsodium's shorthash with a per-process random key, so clients cannot
 * aim collisions at one another); the hash is the identity in the table.
 */
#include "http/ratelimit.h"

#include "core/alloc.h"

#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <string.h>

#define SHARDS 64
#define PROBE 8

struct bucket {
    uint64_t key;       /* 0 = empty */
    double tokens;
    uint64_t last_ns;
};

struct shard {
    pthread_mutex_t lock;
    struct bucket *buckets;
    size_t count;
};

struct ratelimit {
    /* Atomic: ratelimit_set changes them (config reload) while requests
     * take tokens; each take reads both once. */
    _Atomic unsigned rate;
    _Atomic unsigned burst;
    unsigned char hash_key[crypto_shorthash_KEYBYTES];
    struct shard shards[SHARDS];
};

struct ratelimit *ratelimit_create(unsigned rate, unsigned burst, size_t buckets)
{
    struct ratelimit *rl = reel_calloc(1, sizeof *rl);
    if (!rl)
        return NULL;
    ratelimit_set(rl, rate, burst);
    randombytes_buf(rl->hash_key, sizeof rl->hash_key);
    size_t per_shard = (buckets + SHARDS - 1) / SHARDS;
    if (per_shard < PROBE)
        per_shard = PROBE;
    for (int i = 0; i < SHARDS; i++) {
        pthread_mutex_init(&rl->shards[i].lock, NULL);
        rl->shards[i].count = per_shard;
        rl->shards[i].buckets = reel_calloc(per_shard, sizeof(struct bucket));
        if (!rl->shards[i].buckets) {
            ratelimit_destroy(rl);
            return NULL;
        }
    }
    return rl;
}

void ratelimit_set(struct ratelimit *rl, unsigned rate, unsigned burst)
{
    atomic_store_explicit(&rl->rate, rate, memory_order_relaxed);
    atomic_store_explicit(&rl->burst, burst ? burst : 1, memory_order_relaxed);
}

void ratelimit_destroy(struct ratelimit *rl)
{
    if (!rl)
        return;
    for (int i = 0; i < SHARDS; i++) {
        reel_free(rl->shards[i].buckets);
        pthread_mutex_destroy(&rl->shards[i].lock);
    }
    reel_free(rl);
}

unsigned ratelimit_take(struct ratelimit *rl, const void *key, size_t key_len, uint64_t now_ns)
{
    double rate = atomic_load_explicit(&rl->rate, memory_order_relaxed);
    double burst = atomic_load_explicit(&rl->burst, memory_order_relaxed);
    if (rate <= 0)
        return 0;
    unsigned char h[crypto_shorthash_BYTES];
    crypto_shorthash(h, key, key_len, rl->hash_key);
    uint64_t hash;
    memcpy(&hash, h, sizeof hash);
    if (hash == 0)
        hash = 1;
    struct shard *sh = &rl->shards[hash % SHARDS];
    size_t start = (size_t)((hash / SHARDS) % sh->count);

    pthread_mutex_lock(&sh->lock);
    struct bucket *b = NULL, *victim = NULL;
    for (size_t i = 0; i < PROBE; i++) {
        struct bucket *c = &sh->buckets[(start + i) % sh->count];
        if (c->key == hash) {
            b = c;
            break;
        }
        if (!victim || c->key == 0 || (victim->key != 0 && c->last_ns < victim->last_ns))
            victim = c;
    }
    if (!b) {
        b = victim;
        b->key = hash;
        b->tokens = burst;
        b->last_ns = now_ns;
    }
    double elapsed = now_ns > b->last_ns ? (double)(now_ns - b->last_ns) / 1e9 : 0.0;
    b->tokens += elapsed * rate;
    if (b->tokens > burst)
        b->tokens = burst;
    b->last_ns = now_ns;
    unsigned wait = 0;
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
    } else {
        double seconds = ceil((1.0 - b->tokens) / rate);
        wait = seconds < 1.0 ? 1 : (unsigned)seconds;
    }
    pthread_mutex_unlock(&sh->lock);
    return wait;
}
