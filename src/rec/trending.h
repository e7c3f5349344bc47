/*
 * trending.h — time-decayed regional trending, per-hashtag trending and the
 * popular baseline's top list.
 *
 * Decay without touching every video: a video's trending mass is stored in
 * time-scaled units, each engagement adding weight * 2^((t - epoch) / half_life).
 * Comparing two masses then compares their decayed values at any common
 * time, so top lists never need re-sorting as time passes, and the value now
 * is mass * 2^(-(now - epoch) / half_life). When t - epoch passes 256 half-
 * lives every mass is divided by 2^256 and the epoch moves (trending_rebase).
 *
 * Top lists are small fixed arrays (TOP_GLOBAL, TOP_TAG entries) that keep the
 * highest scores seen: an update of a video already listed refreshes its
 * score; any other enters only if it beats the current minimum. The popular
 * list works the same way on model_popular scores, which can go down: a
 * listed video whose score drops stays until something better displaces it.
 */
#ifndef REEL_REC_TRENDING_H
#define REEL_REC_TRENDING_H

#include "rec/videos.h"

#include <stddef.h>
#include <stdint.h>

#define TOP_GLOBAL 512
#define TOP_TAG 32

struct toplist {
    uint64_t id;            /* unique in the process (toplist_init), 0 = none */
    uint64_t version;       /* changes with every change of the list */
    uint32_t cap, count;
    uint32_t *rows;
    double *scores;
    uint32_t min_pos;       /* position of the lowest score when count == cap */
    uint16_t *pos_field;    /* NULL, or where each listed row's position lives
                               (video_row.top_pos[k]): no scan to find a row */
    struct video_table *videos;
    unsigned pos_index;
};

struct trending {
    double half_life_ms;
    int64_t epoch_ms;
    struct toplist global;
    struct toplist popular;
    struct toplist *per_tag; /* indexed by tag number; lists allocated on first use */
    uint32_t tag_cap;
};

int trending_init(struct trending *tr, double half_life_ms, struct video_table *videos);
void trending_clear(struct trending *tr);
/* Adds weight to the video's trending mass at time at_ms and updates the
 * global and hashtag lists. Returns 0 or -1 (out of memory for a tag list). */
int trending_add(struct trending *tr, struct video_table *videos, uint32_t row, double weight,
                 int64_t at_ms);
/* Updates the popular list with the video's current popular score. */
void trending_popular(struct trending *tr, uint32_t row, double score);
/* The decayed trending value of a video at now_ms. */
double trending_value(const struct trending *tr, const struct video_row *video, int64_t now_ms);
/* Removes a video from every list. */
void trending_remove(struct trending *tr, const struct video_row *video, uint32_t row);
/* Copies up to n rows of a list, best first, into out; returns the count.
 * Each thread remembers its last answers for a few lists (by id and
 * version): every feed asks the same lists, which change only when an event
 * moves a listed video or brings a new one in. */
size_t toplist_best(const struct toplist *list, uint32_t *out, size_t n);
const struct toplist *trending_tag(const struct trending *tr, uint32_t tag);
size_t trending_bytes(const struct trending *tr);

/* Snapshot support: raw list access. */
int toplist_init(struct toplist *list, uint32_t cap);
void toplist_clear(struct toplist *list);
void toplist_update(struct toplist *list, uint32_t row, double score);
/* Makes the list keep each row's position in videos->rows[row].top_pos[index]. */
void toplist_track(struct toplist *list, struct video_table *videos, unsigned index);
/* Creates the tag list for tag (snapshot load). NULL when out of memory. */
struct toplist *trending_tag_list(struct trending *tr, uint32_t tag);

#endif
