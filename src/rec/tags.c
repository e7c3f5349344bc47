/*
 * tags.c — see tags.h.
 *
 * The map is keyed by a 64-bit hash of the name; two names with the same hash
 * are told apart by comparing the stored name and re-hashing the key until a
 * free or matching entry is found, so the table stays collision-free.
 */
#include "rec/tags.h"

#include "core/alloc.h"
#include "rec/engine.h"

#include <string.h>

static uint64_t name_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a, then mixed */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    h = rec_mix64(h);
    return h ? h : 1;
}

static uint64_t next_key(uint64_t key)
{
    key = rec_mix64(key + 0x9e3779b97f4a7c15ULL);
    return key ? key : 1;
}

int tags_init(struct tag_table *tags)
{
    memset(tags, 0, sizeof *tags);
    if (idmap_init(&tags->map, 1024) < 0)
        return -1;
    tags->cap = 1024;
    tags->rows = reel_calloc(tags->cap, sizeof *tags->rows);
    if (!tags->rows) {
        idmap_clear(&tags->map);
        return -1;
    }
    return 0;
}

void tags_clear(struct tag_table *tags)
{
    if (tags->rows)
        for (uint32_t i = 1; i <= tags->count; i++)
            reel_free(tags->rows[i].name);
    reel_free(tags->rows);
    idmap_clear(&tags->map);
    memset(tags, 0, sizeof *tags);
}

size_t tags_normalise(const char *raw, char *out)
{
    while (*raw == '#')
        raw++;
    size_t n = 0;
    for (; *raw && n < REC_HASHTAG_MAX - 1; raw++) {
        char c = *raw;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        out[n++] = c;
    }
    out[n] = '\0';
    return n;
}

uint32_t tags_find(const struct tag_table *tags, const char *name)
{
    uint64_t key = name_hash(name);
    for (;;) {
        uint32_t id = idmap_get(&tags->map, key);
        if (id == IDMAP_NONE)
            return 0;
        if (strcmp(tags->rows[id].name, name) == 0)
            return id;
        key = next_key(key);
    }
}

uint32_t tags_intern(struct tag_table *tags, const char *name)
{
    if (!name[0])
        return 0;
    uint64_t key = name_hash(name);
    for (;;) {
        uint32_t id = idmap_get(&tags->map, key);
        if (id == IDMAP_NONE)
            break;
        if (strcmp(tags->rows[id].name, name) == 0)
            return id;
        key = next_key(key);
    }
    if (tags->count + 1 >= TAGS_MAX)
        return 0;
    if (tags->count + 1 >= tags->cap) {
        void *rows = tags->rows;
        if (reel_array_grow(&rows, (size_t)tags->cap * 2, sizeof *tags->rows) < 0)
            return 0;
        tags->rows = rows;
        memset(tags->rows + tags->cap, 0, tags->cap * sizeof *tags->rows);
        tags->cap *= 2;
    }
    char *copy = reel_strdup(name);
    if (!copy)
        return 0;
    uint32_t id = tags->count + 1;
    if (idmap_put(&tags->map, key, id) < 0) {
        reel_free(copy);
        return 0;
    }
    tags->count = id;
    tags->rows[id].name = copy;
    tags->rows[id].bias = 0;
    tags->rows[id].videos = 0;
    return id;
}

size_t tags_bytes(const struct tag_table *tags)
{
    size_t n = idmap_bytes(&tags->map) + (size_t)tags->cap * sizeof *tags->rows;
    for (uint32_t i = 1; i <= tags->count; i++)
        n += strlen(tags->rows[i].name) + 1;
    return n;
}
