/*
 * hashtag.h — hashtags in captions: finding them and normalising them.
 *
 * A hashtag is '#' followed by a run of letters, digits, '_', combining
 * marks and zero-width joiners in any script (Unicode-aware via glibc's
 * C.UTF-8 character classes), not preceded by such a character ("a#b" is
 * not a tag), 1..HASHTAG_MAX_CHARS code points long and containing at least
 * one letter ("#2024" is not a tag, "#euro2024" is). A longer run is not a
 * tag at all rather than a truncated one. Tags are normalised by simple
 * Unicode lower-casing, code point by code point ("#Café" and "#CAFÉ" are
 * one tag, "café"); no NFC normalisation is done, so clients should send
 * NFC text (browsers do). Duplicates count once; only the first `max_tags`
 * distinct tags are kept.
 */
#ifndef REEL_SOCIAL_HASHTAG_H
#define REEL_SOCIAL_HASHTAG_H

#include <stddef.h>

#define HASHTAG_MAX_CHARS 50
#define HASHTAG_MAX_BYTES (HASHTAG_MAX_CHARS * 4)
#define HASHTAG_LIST_MAX 32

struct hashtag_list {
    size_t count;
    char tags[HASHTAG_LIST_MAX][HASHTAG_MAX_BYTES + 1];
};

/* Finds the hashtags of UTF-8 text (invalid sequences end a tag). Keeps at
 * most max_tags (capped at HASHTAG_LIST_MAX) distinct normalised tags in
 * order of first appearance. Never fails. */
void hashtag_parse(const char *text, size_t len, size_t max_tags, struct hashtag_list *out);

/* Normalises one tag as a client names it (in a URL: "Café" or "#café"):
 * strips one leading '#', lower-cases, and checks it is a valid tag. Writes
 * it into out (HASHTAG_MAX_BYTES + 1 bytes). Returns 0, or -1 if it is not a
 * valid tag. */
int hashtag_normalize(const char *tag, char *out);

/* Lower-cases a search prefix the same way (no '#' handling, no length or
 * letter rule): for prefix matching. Returns 0 or -1 if it holds a character
 * that cannot be in a tag. */
int hashtag_normalize_prefix(const char *prefix, char *out, size_t size);

/* Writes the tags space-separated into out (size bytes); tags that would not
 * fit are left out. Returns how many were written. */
size_t hashtag_list_join(const struct hashtag_list *list, char *out, size_t size);

#endif
