/*
 * cursor.h — opaque list cursors and keyset bounds across regions.
 *
 * Every list in the API is ordered by (time, id) of its records, where the
 * time is the id's own millisecond (core/id.h) — so the id alone is the sort
 * key and a cursor is just the last id a page returned. Keyset pagination on
 * it is stable: rows inserted later land above a newest-first list's cursor
 * (or past an oldest-first list's end) and never shift a page, so nothing is
 * repeated or skipped as new rows arrive.
 *
 * Lists that merge several regions (comments on a video, followers) order by
 * (ms, id) across regions. Inside one region ids order exactly like that, so
 * "after the cursor" becomes one id bound per region store:
 * cursor_before_bound / cursor_after_bound.
 *
 * The cursor string is base64url of 10 bytes: a version (1), the list kind
 * (so a comments cursor is refused by the followers list) and the id
 * big-endian. It is opaque to clients: they pass it back unchanged.
 */
#ifndef REEL_SOCIAL_CURSOR_H
#define REEL_SOCIAL_CURSOR_H

#include <stdbool.h>
#include <stdint.h>

#define CURSOR_STR_MAX 24

enum cursor_kind {
    CURSOR_VIDEOS = 1,   /* a user's videos, a hashtag's videos, the following feed */
    CURSOR_COMMENTS = 2, /* a video's comments, oldest first */
    CURSOR_FOLLOWS = 3,  /* followers / following, by follow record */
};

/* Writes the cursor for `id` into out (CURSOR_STR_MAX bytes). */
void cursor_encode(enum cursor_kind kind, uint64_t id, char out[CURSOR_STR_MAX]);
/* Parses a cursor of the given kind. Returns 0 and *id, or -1 if it is not
 * one (malformed, another list's, or naming no region). */
int cursor_decode(const char *s, enum cursor_kind kind, uint64_t *id);

/* Order of two ids in (ms, id) order: <0, 0, >0. */
int cursor_order(uint64_t a, uint64_t b);
/* For a store of region `region`: ids x of that region sort before `cursor`
 * exactly when x < the returned bound. cursor 0 = no bound (returns 0, which
 * the store reads as "from the newest"). */
uint64_t cursor_before_bound(uint64_t cursor, unsigned region);
/* Likewise: ids x sort after `cursor` exactly when x > the returned bound
 * (0 for cursor 0: "from the oldest"). */
uint64_t cursor_after_bound(uint64_t cursor, unsigned region);

#endif
