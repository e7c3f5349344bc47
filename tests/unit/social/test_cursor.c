/*
 * Cursors: encoding round trips, garbage and other lists' cursors are
 * refused, and the per-region keyset bounds select exactly the ids that sort
 * before / after a cursor in (ms, id) order.
 */
#include "core/id.h"
#include "social/cursor.h"

#include <criterion/criterion.h>
#include <string.h>

Test(cursor, round_trip)
{
    char s[CURSOR_STR_MAX];
    for (unsigned region = 1; region <= 3; region++) {
        uint64_t id = id_next(region), back = 0;
        cursor_encode(CURSOR_COMMENTS, id, s);
        cr_assert_lt(strlen(s), CURSOR_STR_MAX);
        cr_assert_eq(cursor_decode(s, CURSOR_COMMENTS, &back), 0);
        cr_assert_eq(back, id);
    }
}

Test(cursor, refuses_garbage_and_other_lists)
{
    char s[CURSOR_STR_MAX];
    uint64_t id = id_next(1), out;
    cursor_encode(CURSOR_VIDEOS, id, s);
    cr_assert_eq(cursor_decode(s, CURSOR_FOLLOWS, &out), -1, "another list's cursor");
    const char *bad[] = {"",
                         "x",
                         "!!!!",
                         "AAAAAAAAAAAAAA",
                         "AQEAAAAAAAAAAAA=",
                         "AQEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                         "AQE AAAAAAAAAAA"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(cursor_decode(bad[i], CURSOR_VIDEOS, &out), -1, "accepted '%s'", bad[i]);
    /* A well-formed cursor whose id has no region is refused too. */
    cursor_encode(CURSOR_VIDEOS, 12345, s);
    cr_assert_eq(cursor_decode(s, CURSOR_VIDEOS, &out), -1);
    /* One changed character is either refused or a different id: never a crash. */
    cursor_encode(CURSOR_VIDEOS, id, s);
    s[5] = s[5] == 'A' ? 'B' : 'A';
    if (cursor_decode(s, CURSOR_VIDEOS, &out) == 0)
        cr_assert_neq(out, id);
}

Test(cursor, order_is_time_then_id)
{
    uint64_t a = id_make(2, 1767225600000ULL, 0, 5);
    uint64_t b = id_make(1, 1767225600001ULL, 0, 0); /* later ms, lower region */
    uint64_t c = id_make(3, 1767225600000ULL, 0, 0); /* same ms, higher region */
    cr_assert_lt(cursor_order(a, b), 0);
    cr_assert_gt(cursor_order(b, a), 0);
    cr_assert_lt(cursor_order(a, c), 0);
    cr_assert_eq(cursor_order(a, a), 0);
}

/* Exhaustive check on a small grid: for each cursor and region, the bound
 * splits that region's ids exactly as cursor_order does. */
Test(cursor, bounds_split_each_region_exactly)
{
    uint64_t ids[3 * 3 * 3];
    size_t n = 0;
    for (unsigned r = 1; r <= 3; r++)
        for (uint64_t ms = 0; ms < 3; ms++)
            for (unsigned seq = 0; seq < 3; seq++)
                ids[n++] = id_make(r, 1767225600000ULL + ms, 0, seq);
    for (size_t ci = 0; ci < n; ci++) {
        uint64_t cur = ids[ci];
        for (unsigned r = 1; r <= 3; r++) {
            uint64_t before = cursor_before_bound(cur, r);
            uint64_t after = cursor_after_bound(cur, r);
            for (size_t xi = 0; xi < n; xi++) {
                uint64_t x = ids[xi];
                if (id_region(x) != r)
                    continue;
                int ord = cursor_order(x, cur);
                cr_assert_eq(x < before, ord < 0, "before: cursor %zu, x %zu", ci, xi);
                cr_assert_eq(x > after, ord > 0, "after: cursor %zu, x %zu", ci, xi);
            }
        }
    }
    cr_assert_eq(cursor_before_bound(0, 1), 0);
    cr_assert_eq(cursor_after_bound(0, 1), 0);
}
