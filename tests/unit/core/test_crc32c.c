/*
 * CRC-32C: the standard check value, agreement with a bitwise reference at
 * every length (both the 8-byte and the byte-at-a-time steps), continuation
 * across pieces, and sensitivity to one bit.
 */
#include "core/crc32c.h"

#include <criterion/criterion.h>
#include <string.h>

Test(crc32c, check_value)
{
    cr_assert_eq(crc32c(0, "123456789", 9), 0xE3069283u);
    cr_assert_eq(crc32c(0, "", 0), 0);
}

/* Bitwise reference: no table, no instruction. */
static uint32_t reference(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    }
    return c ^ 0xFFFFFFFFu;
}

Test(crc32c, matches_reference_at_every_length)
{
    unsigned char buf[200];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(i * 37 + 11);
    for (size_t n = 0; n <= sizeof buf; n++)
        cr_assert_eq(crc32c(0, buf, n), reference(buf, n), "length %zu", n);
}

Test(crc32c, detects_a_flipped_bit)
{
    unsigned char buf[64];
    memset(buf, 0xA5, sizeof buf);
    uint32_t good = crc32c(0, buf, sizeof buf);
    for (size_t bit = 0; bit < sizeof buf * 8; bit++) {
        buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        cr_assert_neq(crc32c(0, buf, sizeof buf), good, "bit %zu", bit);
        buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    }
}

Test(crc32c, continues_across_pieces)
{
    unsigned char buf[100];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(i * 7 + 3);
    uint32_t whole = crc32c(0, buf, sizeof buf);
    for (size_t cut = 0; cut <= sizeof buf; cut++)
        cr_assert_eq(crc32c(crc32c(0, buf, cut), buf + cut, sizeof buf - cut), whole, "cut %zu",
                     cut);
}
