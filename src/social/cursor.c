/*
 * cursor.c — see cursor.h.
 */
#include "social/cursor.h"

#include "core/id.h"

#include <sodium.h>
#include <string.h>

#define CURSOR_VERSION 1
#define CURSOR_BYTES 10

void cursor_encode(enum cursor_kind kind, uint64_t id, char out[CURSOR_STR_MAX])
{
    unsigned char raw[CURSOR_BYTES];
    raw[0] = CURSOR_VERSION;
    raw[1] = (unsigned char)kind;
    for (int i = 0; i < 8; i++)
        raw[2 + i] = (unsigned char)(id >> (56 - 8 * i));
    sodium_bin2base64(out, CURSOR_STR_MAX, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int cursor_decode(const char *s, enum cursor_kind kind, uint64_t *id)
{
    unsigned char raw[CURSOR_BYTES + 1];
    size_t len = 0;
    const char *end = NULL;
    size_t slen = strnlen(s, CURSOR_STR_MAX + 1);
    if (slen == 0 || slen > CURSOR_STR_MAX ||
        sodium_base642bin(raw, sizeof raw, s, slen, NULL, &len, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        end != s + slen || len != CURSOR_BYTES || raw[0] != CURSOR_VERSION || raw[1] != kind)
        return -1;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | raw[2 + i];
    if (v >> 63 || id_region(v) == 0)
        return -1;
    *id = v;
    return 0;
}

int cursor_order(uint64_t a, uint64_t b)
{
    uint64_t ma = id_unix_ms(a), mb = id_unix_ms(b);
    if (ma != mb)
        return ma < mb ? -1 : 1;
    return a < b ? -1 : a > b;
}

/* For a cursor of another region: the smallest id of `region` that sorts
 * after the cursor. Ids of the cursor's millisecond sort after it when their
 * region bits are higher, before it when lower. */
static uint64_t first_after(uint64_t cursor, unsigned region)
{
    uint64_t ms = id_unix_ms(cursor);
    return region < id_region(cursor) ? id_make(region, ms + 1, 0, 0) : id_make(region, ms, 0, 0);
}

uint64_t cursor_before_bound(uint64_t cursor, unsigned region)
{
    if (!cursor)
        return 0;
    if (id_region(cursor) == region)
        return cursor;
    return first_after(cursor, region);
}

uint64_t cursor_after_bound(uint64_t cursor, unsigned region)
{
    if (!cursor)
        return 0;
    if (id_region(cursor) == region)
        return cursor;
    return first_after(cursor, region) - 1;
}
