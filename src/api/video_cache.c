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

#define CACHE_SLOTS (1u << 18) /* 6 MiB of entries */
#define CACHE_LOCKS 256

struct cache_entry {
    uint64_t video_id; /* 0 = empty */
    uint64_t creator_id;
    uint32_t duration_ms;
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

int api_video_brief(struct app *app, uint64_t video_id, uint64_t *creator_id,
                    uint32_t *duration_ms)
{
    struct video_cache *c = app->video_cache;
    uint32_t slot = slot_of(video_id);
    pthread_mutex_t *lock = &c->locks[slot % CACHE_LOCKS];
    pthread_mutex_lock(lock);
    struct cache_entry e = c->slots[slot];
    pthread_mutex_unlock(lock);
    if (e.video_id == video_id) {
        *creator_id = e.creator_id;
        *duration_ms = e.duration_ms;
        return STORE_OK;
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
    pthread_mutex_lock(lock);
    c->slots[slot] = (struct cache_entry){video_id, *creator_id, *duration_ms};
    pthread_mutex_unlock(lock);
    return STORE_OK;
}

void api_video_cache_forget(struct app *app, uint64_t video_id)
{
    struct video_cache *c = app->video_cache;
    uint32_t slot = slot_of(video_id);
    pthread_mutex_t *lock = &c->locks[slot % CACHE_LOCKS];
    pthread_mutex_lock(lock);
    if (c->slots[slot].video_id == video_id)
        c->slots[slot].video_id = 0;
    pthread_mutex_unlock(lock);
}
