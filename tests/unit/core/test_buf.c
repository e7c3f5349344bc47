/*
 * core/buf: growth bounded by max, and buf_reserve's room taken up front.
 */
#include "core/alloc.h"
#include "core/buf.h"

#include <criterion/criterion.h>
#include <string.h>

Test(buf, appends_within_a_reservation_do_not_move_the_bytes)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    cr_assert_eq(buf_reserve(&b, 5000), BUF_OK);
    cr_assert_not_null(b.data);
    cr_assert_str_eq(b.data, "", "a reserved buffer reads as an empty string");
    cr_assert_geq(b.cap, 5001);
    const char *first = b.data;
    char piece[500];
    memset(piece, 'x', sizeof piece);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(buf_append(&b, piece, sizeof piece), BUF_OK);
    cr_assert_eq(b.data, first, "no reallocation up to the reserved size");
    cr_assert_eq(b.len, 5000);
    cr_assert_eq(b.data[5000], '\0');
    cr_assert_eq(buf_append(&b, piece, sizeof piece), BUF_OK, "and it still grows past it");
    cr_assert_eq(b.len, 5500);
    buf_clear(&b);
}

Test(buf, a_reservation_past_max_is_refused_and_changes_nothing)
{
    struct buf b;
    buf_init(&b, 100);
    cr_assert_eq(buf_append(&b, "abc", 3), BUF_OK);
    char *data = b.data;
    size_t cap = b.cap;
    cr_assert_eq(buf_reserve(&b, 98), BUF_TOO_BIG);
    cr_assert_eq(b.data, data);
    cr_assert_eq(b.cap, cap);
    cr_assert_str_eq(b.data, "abc");
    cr_assert_eq(buf_reserve(&b, 97), BUF_OK, "up to max is allowed");
    cr_assert_geq(b.cap, 101);
    size_t len;
    char *out = buf_steal(&b, &len);
    cr_assert_eq(len, 3);
    cr_assert_str_eq(out, "abc");
    reel_free(out);
}
