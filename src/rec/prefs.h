/*
 * prefs.h — what users told the engine, as opposed to what it learnt:
 * follows (from FOLLOW/UNFOLLOW events), creators marked "not interested"
 * (NOT_INTERESTED events), and interest hashtags (rec_user_set_interests).
 *
 * Only users who did one of those have an entry, so it costs nothing for the
 * rest. Follows are kept as a sorted array of creator ids (binary search at
 * ranking time), at most PREFS_FOLLOWS_MAX (the oldest follow is dropped past
 * it); not-interested creators at most PREFS_BLOCKED_MAX (oldest dropped).
 *
 * The creator index (creators_*) remembers each creator's newest videos for
 * the "new videos from followed creators" source.
 */
#ifndef REEL_REC_PREFS_H
#define REEL_REC_PREFS_H

#include "rec/engine.h"
#include "rec/idmap.h"

#include <stddef.h>
#include <stdint.h>

#define PREFS_FOLLOWS_MAX 5000
#define PREFS_BLOCKED_MAX 256
#define CREATOR_RECENT 16

struct prefs_entry {
    uint64_t user_id;
    uint64_t *follows;     /* sorted */
    uint32_t follow_count, follow_cap;
    uint64_t *blocked;     /* in order of marking, oldest first */
    uint32_t blocked_count, blocked_cap;
    uint32_t interests[REC_INTERESTS_MAX]; /* tag numbers */
    uint32_t interest_count;
};

struct prefs_table {
    struct idmap map;      /* user id -> entry index */
    struct prefs_entry *entries;
    uint32_t used, cap;
    uint32_t *free_entries;
    uint32_t free_count;
};

int prefs_init(struct prefs_table *prefs);
void prefs_clear(struct prefs_table *prefs);
/* The user's entry or NULL; create makes one (NULL when out of memory). */
struct prefs_entry *prefs_get(struct prefs_table *prefs, uint64_t user, int create);
int prefs_follow(struct prefs_entry *e, uint64_t creator);
void prefs_unfollow(struct prefs_entry *e, uint64_t creator);
int prefs_follows(const struct prefs_entry *e, uint64_t creator);
int prefs_block(struct prefs_entry *e, uint64_t creator);
int prefs_blocked(const struct prefs_entry *e, uint64_t creator);
/* Drops the entry if it holds nothing any more. */
void prefs_release_if_empty(struct prefs_table *prefs, uint64_t user);
/* Drops the user's entry. Returns 0 or -1 if there was none. */
int prefs_forget(struct prefs_table *prefs, uint64_t user);
size_t prefs_bytes(const struct prefs_table *prefs);

struct creator_videos {
    uint32_t rows[CREATOR_RECENT]; /* video rows, a ring, newest at head - 1 */
    uint8_t count, head;
};

struct creator_index {
    struct idmap map;      /* creator id -> list index */
    struct creator_videos *lists;
    uint32_t used, cap;
};

int creators_init(struct creator_index *index);
void creators_clear(struct creator_index *index);
int creators_add(struct creator_index *index, uint64_t creator, uint32_t video_row);
void creators_remove(struct creator_index *index, uint64_t creator, uint32_t video_row);
const struct creator_videos *creators_get(const struct creator_index *index, uint64_t creator);
size_t creators_bytes(const struct creator_index *index);

#endif
