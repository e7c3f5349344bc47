/*
 * fresh.h — the exploration pool: every new video gets a first batch of
 * impressions, then is promoted or retired by how it did.
 *
 * A video enters when it is registered young (created less than
 * fresh_max_age before the engine's clock). While in the pool it is eligible
 * for the exploration slots of pages (explore_share of each page, feed.c) and
 * for the fresh candidate source, until it has been served fresh_budget times.
 * Once it has fresh_budget impressions (or leaves by age), it is judged: mean
 * value at least fresh_promote x the global mean -> FRESH_PROMOTED (it keeps
 * competing on its learned score everywhere), otherwise FRESH_RETIRED (it is
 * no longer offered by the index or trending; followers still get it).
 *
 * The pool is an unordered array with each video's position stored in its
 * row, so entering, leaving and sampling are O(1).
 */
#ifndef REEL_REC_FRESH_H
#define REEL_REC_FRESH_H

#include "rec/videos.h"

#include <stddef.h>
#include <stdint.h>

struct fresh_pool {
    uint32_t *rows;
    uint32_t count, cap;
    uint32_t sweep;          /* next position the age check looks at */
};

int fresh_init(struct fresh_pool *pool);
void fresh_clear(struct fresh_pool *pool);
int fresh_enter(struct fresh_pool *pool, struct video_table *videos, uint32_t row);
/* Takes the video out of the pool with its new state (FRESH_PROMOTED,
 * FRESH_RETIRED, or FRESH_NONE when removed). */
void fresh_leave(struct fresh_pool *pool, struct video_table *videos, uint32_t row,
                 uint8_t state);
size_t fresh_bytes(const struct fresh_pool *pool);

#endif
