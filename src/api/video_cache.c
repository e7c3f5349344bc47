/*
 * video_cache.c — creator and duration of ready videos, for event
 * ingestion: every event names a video that must exist and whose creator and
 * duration the server fills in. At 300,000 events a second a store lookup
 * per event is too slow; a direct-mapped table of recently seen videos makes
 * it a hash and a compare.
 *
 * Only ready videos are cached: a ready video's creator and duration never
 * change, so the only invalidation needed is deletion
 * (api_video_cache_forget, called by DELETE /videos/{id} in this process).
 * A video still processing is looked up in its store every time, so it
 * becomes eventable the moment the media pipeline marks it ready.
 * (Several `reel serve` nodes per region would need a deletion broadcast;
 * until then an event for a video deleted on another node could be taken
 * for as long as the entry stays in this cache.)
 */
#include "api/api.h"

#include "core/alloc.h"

#include <pthread.h>
#include <stdatomic.h>

#define CACHE_SLOTS (1u << 18) /* 8 MiB of entries */
#define CACHE_LOCKS 256

/* Readers take no lock (100 lookups per batch, many batches at once): each
 * slot is a seqlock. A writer (holding the slot's stripe lock) makes `seq`
 * odd, stores the fields, makes it even again; a reader retries or gives up
 * (and asks the store) if `seq` was odd or changed while it read. */
struct cache_entry {
    _Atomic uint32_t seq;
    _Atomic uint32_t duration_ms;
    _Atomic uint64_t video_id; /* 0 = empty */
    _Atomic uint64_t creator_id;
};

struct video_cache {
    pthread_mutex_t locks[CACHE_LOCKS];
    struct cache_entry slots[CACHE_SLOTS];
};

static uint32_t slot_of(uint64_t id)
{
    id ^= id >> 31;
    id *= 0x9E3779B97F4A7C15ULL;
    return (uint32_t)(id >> 40) & (CACHE_SLOTS - 1);
}

struct video_cache *api_video_cache_create(void)
{
    struct video_cache *c = reel_calloc(1, sizeof *c);
    if (!c)
        return NULL;
    for (int i = 0; i < CACHE_LOCKS; i++)
        pthread_mutex_init(&c->locks[i], NULL);
    return c;
}

void api_video_cache_destroy(struct video_cache *c)
{
    if (!c)
        return;
    for (int i = 0; i < CACHE_LOCKS; i++)
        pthread_mutex_destroy(&c->locks[i]);
    reel_free(c);
}

static void slot_store(struct video_cache *c, uint32_t slot, uint64_t video_id, uint64_t creator_id,
                       uint32_t duration_ms)
{
    struct cache_entry *e = &c->slots[slot];
    pthread_mutex_t *lock = &c->locks[slot % CACHE_LOCKS];
    pthread_mutex_lock(lock);
    uint32_t seq = atomic_load_explicit(&e->seq, memory_order_relaxed);
    atomic_store_explicit(&e->seq, seq + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&e->video_id, video_id, memory_order_relaxed);
    atomic_store_explicit(&e->creator_id, creator_id, memory_order_relaxed);
    atomic_store_explicit(&e->duration_ms, duration_ms, memory_order_relaxed);
    atomic_store_explicit(&e->seq, seq + 2, memory_order_release);
    pthread_mutex_unlock(lock);
}

int api_video_brief(struct app *app, uint64_t video_id, uint64_t *creator_id, uint32_t *duration_ms)
{
    struct video_cache *c = app->video_cache;
    uint32_t slot = slot_of(video_id);
    struct cache_entry *e = &c->slots[slot];
    uint32_t seq = atomic_load_explicit(&e->seq, memory_order_acquire);
    if (!(seq & 1) && atomic_load_explicit(&e->video_id, memory_order_relaxed) == video_id) {
        uint64_t creator = atomic_load_explicit(&e->creator_id, memory_order_relaxed);
        uint32_t duration = atomic_load_explicit(&e->duration_ms, memory_order_relaxed);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&e->seq, memory_order_relaxed) == seq) {
            *creator_id = creator;
            *duration_ms = duration;
            return STORE_OK;
        }
    }
    struct store *store = app_store_for_id(app, video_id);
    if (!store)
        return STORE_NOTFOUND;
    int32_t duration = 0;
    int status = 0;
    int rc = store_video_brief(store, video_id, creator_id, &duration, &status);
    if (rc != STORE_OK)
        return rc;
    if (status != STORE_VIDEO_READY)
        return STORE_NOTFOUND;
    *duration_ms = duration > 0 ? (uint32_t)duration : 0;
    slot_store(c, slot, video_id, *creator_id, *duration_ms);
    return STORE_OK;
}

void api_video_cache_forget(struct app *app, uint64_t video_id)
{
    struct video_cache *c = app->video_cache;
    uint32_t slot = slot_of(video_id);
    if (atomic_load_explicit(&c->slots[slot].video_id, memory_order_relaxed) == video_id)
        slot_store(c, slot, 0, 0, 0);
}
