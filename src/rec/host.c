/*
 * host.c — what the engine offers its host (the server, api/recommend.c)
 * beyond learning and ranking: what it holds about a user (the data
 * export), the registered videos, the erasure of a creator, and a trending
 * list computed outside the engine (the region's analytics).
 *
 * rec_user_describe is read-only under the shared lock (a feed request may
 * run beside it) and looks only at the in-memory session; a spilled one is
 * the host's to export (it lives in the user's home store).
 */
#include "rec/engine_int.h"

#include "core/alloc.h"
#include "rec/seen.h"
#include "rec/prefs.h"
#include "rec/session.h"
#include "rec/tags.h"
#include "rec/users.h"
#include "rec/videos.h"

#include <stdio.h>
#include <string.h>

int rec_user_describe(struct rec_engine *e, uint64_t user_id, struct rec_user_state *out)
{
    memset(out, 0, sizeof *out);
    if (user_id == 0)
        return REC_EINVAL;
    int held = 0;
    pthread_rwlock_rdlock(&e->lock);
    out->dim = e->cfg.dim;
    uint32_t row = users_find(&e->users, user_id);
    if (row != IDMAP_NONE) {
        const struct user_head *h = users_head(&e->users, row);
        const int8_t *emb = users_emb(&e->users, row);
        out->admitted = 1;
        out->bias = h->bias;
        for (unsigned i = 0; i < e->cfg.dim && i < REC_DIM_MAX; i++)
            out->embedding[i] = h->scale * (float)emb[i];
        held = 1;
    }
    struct prefs_entry *pe = prefs_get(&e->prefs, user_id, 0);
    if (pe) {
        for (uint32_t i = 0; i < pe->interest_count; i++) {
            uint32_t tag = pe->interests[i];
            if (tag && tag <= e->tags.count && e->tags.rows[tag].name)
                snprintf(out->interests[out->interest_count++], REC_HASHTAG_MAX, "%s",
                         e->tags.rows[tag].name);
        }
        out->follows = pe->follow_count;
        for (uint32_t i = 0; i < pe->blocked_count && i < REC_DESCRIBE_BLOCKED_MAX; i++)
            out->not_interested[out->not_interested_count++] = pe->blocked[i];
        held = 1;
    }
    struct session_shard *sh = session_shard_of(&e->sessions, user_id);
    pthread_mutex_lock(&sh->lock);
    const struct session *s =
        session_get(&e->sessions, sh, user_id, e->clock_ms, 0, NULL, NULL, NULL);
    if (s) {
        out->session = 1;
        out->seen = s->seen.total;
        out->recent_engagements = s->recent_count;
        out->last_active_ms = s->last_ms;
        held = 1;
    }
    pthread_mutex_unlock(&sh->lock);
    pthread_rwlock_unlock(&e->lock);
    return held ? 0 : REC_ENOENT;
}

size_t rec_engine_video_ids(struct rec_engine *e, uint64_t *out, size_t max)
{
    size_t n = 0;
    pthread_rwlock_rdlock(&e->lock);
    for (uint32_t row = 0; row < e->videos.used; row++)
        if (e->videos.rows[row].state == VIDEO_LIVE) {
            if (n < max)
                out[n] = e->videos.rows[row].id;
            n++;
        }
    pthread_rwlock_unlock(&e->lock);
    return n;
}

/* ---- erasure of a creator ---------------------------------------------------
 * rec_user_forget removes what the engine holds *about* a user as a viewer.
 * A user is also a creator other users' state points at: their follows and
 * "not interested" lists, their sessions' creator affinities, the creator
 * index, and the rows of the creator's videos. */

int rec_creator_forget(struct rec_engine *e, uint64_t creator_id)
{
    if (creator_id == 0)
        return REC_EINVAL;
    size_t touched = 0;
    pthread_rwlock_wrlock(&e->lock);
    for (uint32_t row = 0; row < e->videos.used; row++) {
        struct video_row *v = &e->videos.rows[row];
        if (v->creator_id != creator_id)
            continue;
        if (v->state == VIDEO_LIVE) {
            uint64_t id = v->id;
            pthread_rwlock_unlock(&e->lock);
            rec_video_remove(e, id);
            pthread_rwlock_wrlock(&e->lock);
            v = &e->videos.rows[row]; /* the table may have grown meanwhile */
        }
        v->creator_id = 0; /* the dead row keeps no trace of who made it */
        touched++;
    }
    uint32_t list = idmap_del(&e->creators.map, creator_id);
    if (list != IDMAP_NONE) {
        memset(&e->creators.lists[list], 0, sizeof e->creators.lists[list]);
        touched++;
    }
    for (uint32_t i = 0; i < e->prefs.used; i++) {
        struct prefs_entry *p = &e->prefs.entries[i];
        if (idmap_get(&e->prefs.map, p->user_id) != i)
            continue;
        if (prefs_follows(p, creator_id)) {
            prefs_unfollow(p, creator_id);
            touched++;
        }
        for (uint32_t k = 0; k < p->blocked_count; k++)
            if (p->blocked[k] == creator_id) {
                memmove(p->blocked + k, p->blocked + k + 1,
                        (p->blocked_count - k - 1) * sizeof *p->blocked);
                p->blocked_count--;
                touched++;
                break;
            }
    }
    for (int i = 0; i < SESSION_SHARDS; i++) {
        struct session_shard *sh = &e->sessions.shards[i];
        pthread_mutex_lock(&sh->lock);
        for (uint32_t k = 0; k < sh->used; k++) {
            struct session *s = sh->ids[k] ? sh->slots[k] : NULL;
            if (!s)
                continue;
            if (s->last_creator == creator_id)
                s->last_creator = 0;
            for (unsigned c = 0; c < SESSION_CREATORS; c++)
                if (s->creators[c].creator_id == creator_id) {
                    memset(&s->creators[c], 0, sizeof s->creators[c]);
                    touched++;
                }
        }
        pthread_mutex_unlock(&sh->lock);
    }
    pthread_rwlock_unlock(&e->lock);
    return touched ? 0 : REC_ENOENT;
}

/* ---- trending from outside ----------------------------------------------- */

int rec_engine_set_trending(struct rec_engine *e, const uint64_t *ids, size_t n)
{
    if (n > REC_EXTERNAL_TRENDING_MAX)
        n = REC_EXTERNAL_TRENDING_MAX;
    pthread_rwlock_wrlock(&e->lock);
    uint32_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t row = videos_find(&e->videos, ids[i]);
        if (row != IDMAP_NONE)
            e->ext_trending[kept++] = row;
    }
    e->ext_trending_n = kept;
    pthread_rwlock_unlock(&e->lock);
    return (int)kept;
}

/* ---- spilled sessions of other users --------------------------------------- */

int rec_spilled_forget_creator(struct rec_engine *e, const void *blob, size_t len,
                               uint64_t creator_id, void **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    struct session *s = reel_calloc(1, sizeof *s);
    if (!s)
        return REC_ENOMEM;
    int rc = 0;
    pthread_rwlock_rdlock(&e->lock); /* the video id <-> row maps */
    if (session_deserialise(s, blob, len, engine_video_row_cb, e) == 0) {
        rc = REC_EFORMAT;
        goto out;
    }
    int found = s->last_creator == creator_id;
    if (found)
        s->last_creator = 0;
    for (unsigned c = 0; c < SESSION_CREATORS; c++)
        if (s->creators[c].creator_id == creator_id) {
            memset(&s->creators[c], 0, sizeof s->creators[c]);
            found = 1;
        }
    if (!found)
        goto out;
    unsigned char *buf = reel_malloc(session_serialised_size(s));
    if (!buf) {
        rc = REC_ENOMEM;
        goto out;
    }
    *out_len = session_serialise(s, buf, engine_video_id_cb, e);
    *out = buf;
    rc = 1;
out:
    pthread_rwlock_unlock(&e->lock);
    session_destroy(s);
    return rc;
}
