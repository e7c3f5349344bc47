/*
 * tags.h — hashtags interned to small numbers, with what the model learns
 * about each one.
 *
 * A video's hashtags give a prior for what it has not shown yet: the model
 * adds the mean bias of its hashtags to the video's own bias (model.c), so a
 * new video starts where videos with the same hashtags are. Interest hashtags
 * (cold start) and hashtag spread (re-ranking) use the same numbers.
 *
 * Names are normalised (leading '#' dropped, ASCII lower-cased) and at most
 * REC_HASHTAG_MAX - 1 bytes; the table holds at most TAGS_MAX names, after
 * which new names are not interned (their videos simply have fewer tags).
 * Numbers start at 1; 0 means "no tag". Ids are never reused.
 */
#ifndef REEL_REC_TAGS_H
#define REEL_REC_TAGS_H

#include "rec/idmap.h"

#include <stddef.h>
#include <stdint.h>

#define TAGS_MAX (1u << 22)

struct tag_row {
    char *name;
    float bias;        /* learned offset of its videos' value */
    uint32_t videos;   /* registered videos carrying it */
};

struct tag_table {
    struct idmap map;  /* hash of the name -> tag number */
    struct tag_row *rows; /* rows[0] unused */
    uint32_t count;    /* highest tag number */
    uint32_t cap;
};

int tags_init(struct tag_table *tags);
void tags_clear(struct tag_table *tags);
/* Normalises raw into out (REC_HASHTAG_MAX bytes). Returns its length, 0 if
 * nothing is left. */
size_t tags_normalise(const char *raw, char *out);
/* The number of a normalised name, 0 if unknown. */
uint32_t tags_find(const struct tag_table *tags, const char *name);
/* The number of a normalised name, interning it. Returns 0 when the table is
 * full or out of memory. */
uint32_t tags_intern(struct tag_table *tags, const char *name);
size_t tags_bytes(const struct tag_table *tags);

#endif
