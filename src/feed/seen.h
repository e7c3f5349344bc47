/*
 * seen.h — which videos each user has already been shown: the "minus what
 * this user was already shown" of the For You feed's popular baseline.
 *
 * Per user, the last `per_user` video ids shown (impressions and other
 * client events the user sent, and videos the feed served), oldest dropped
 * first; at most `max_users` users are remembered, the least recently
 * active dropped first. It lives in memory only: `reel serve` rebuilds it at
 * start-up from the tail of each region's event log (the impressions are
 * there; served-but-unreported videos are forgotten on restart). This is the
 * v0 filter; the recommendation engine brings its own.
 *
 * Thread-safe (sharded locks). Personal data: it holds (user, video) pairs,
 * in the process that serves the user's region.
 */
#ifndef REEL_FEED_SEEN_H
#define REEL_FEED_SEEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct feed_seen;

/* Returns NULL when out of memory. */
struct feed_seen *feed_seen_create(size_t per_user, size_t max_users);
void feed_seen_destroy(struct feed_seen *seen);

/* Records that user_id was shown video_id (repeats are kept once). Returns 0
 * or -1 when out of memory (the record is dropped). */
int feed_seen_add(struct feed_seen *seen, uint64_t user_id, uint64_t video_id);

/* feed_seen_add for the videos of a batch of one user's events (one lock). */
struct event;
int feed_seen_add_many(struct feed_seen *seen, uint64_t user_id, const struct event *events,
                       size_t n);

/* A user's seen video ids as a hash set, for checking many candidates (a
 * popular page walks hundreds). Built in one pass over the user's ring, so a
 * request costs O(ids) rather than the O(ids log ids) of a sorted copy.
 * Video id 0 is never in it. */
struct feed_seen_set {
    uint64_t *slots; /* open addressing, 0 = empty; NULL when the user saw nothing */
    size_t mask;
    size_t n; /* distinct ids */
};

/* Fills *set with user_id's seen ids (release it with feed_seen_set_free).
 * Returns 0 or -1 when out of memory (*set is then empty). */
int feed_seen_set_get(struct feed_seen *seen, uint64_t user_id, struct feed_seen_set *set);
bool feed_seen_set_has(const struct feed_seen_set *set, uint64_t video_id);
void feed_seen_set_free(struct feed_seen_set *set);

/* Users currently remembered. */
size_t feed_seen_users(struct feed_seen *seen);
/* Drops everything remembered for user_id (erasure). */
void feed_seen_forget(struct feed_seen *seen, uint64_t user_id);

#endif
