/*
 * coeng.h — item-to-item co-engagement.
 *
 * When a user engages with video v, every video among the user's recent
 * engagements w gets one more co-engagement with v, both ways. Each video
 * keeps only its `neighbours` strongest partners (a bounded list: a new
 * partner replaces the weakest one when the list is full), so memory is
 * bounded by videos x neighbours whatever the traffic, and a list exists
 * only once a video has been co-engaged.
 *
 * The score of a candidate c for a user with recent engagements W is
 *     sum over w in W of  count(w, c) / sqrt(engagements(w) * engagements(c))
 * — cosine similarity of the engagement sets, as in item-based collaborative
 * filtering, restricted to the recent seeds.
 */
#ifndef REEL_REC_COENG_H
#define REEL_REC_COENG_H

#include <stddef.h>
#include <stdint.h>

struct coeng_entry {
    uint32_t row;
    float count;
};

struct coeng_list {
    uint16_t count, cap;
    struct coeng_entry e[];
};

struct coeng {
    unsigned neighbours;
    struct coeng_list **lists; /* per video row, NULL until co-engaged */
    uint32_t cap;
    size_t bytes;
};

int coeng_init(struct coeng *co, unsigned neighbours);
void coeng_clear(struct coeng *co);
/* Adds weight to the pair (a, b) in both directions. Returns 0 or -1. */
int coeng_add_pair(struct coeng *co, uint32_t a, uint32_t b, float weight);
/* The list of a video (NULL if none). */
static inline const struct coeng_list *coeng_get(const struct coeng *co, uint32_t row)
{
    return row < co->cap ? co->lists[row] : NULL;
}
/* Drops a video's list and its entries in its partners' lists. */
void coeng_remove(struct coeng *co, uint32_t row);
/* Installs a list read from a snapshot (takes ownership). */
int coeng_set(struct coeng *co, uint32_t row, struct coeng_list *list);
size_t coeng_bytes(const struct coeng *co);

#endif
