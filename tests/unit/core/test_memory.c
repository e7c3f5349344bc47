/*
 * The pool (arena), the capped buffer and allocation fault injection.
 */
#include "core/alloc.h"
#include "core/buf.h"
#include "core/pool.h"

#include <criterion/criterion.h>
#include <stdalign.h>
#include <stdint.h>
#include <string.h>

static int cleanups_run[4];
static int cleanup_order;

static void note_cleanup(void *arg)
{
    cleanups_run[(intptr_t)arg] = ++cleanup_order;
}

Test(pool, allocations_aligned_and_independent)
{
    struct pool *p = pool_create(256);
    cr_assert_not_null(p);
    char *prev = NULL;
    for (int i = 1; i < 200; i++) {
        char *b = pool_alloc(p, (size_t)i);
        cr_assert_not_null(b);
        cr_assert_eq((uintptr_t)b % alignof(max_align_t), 0);
        memset(b, i & 0xff, (size_t)i);
        if (prev)
            cr_assert_eq((unsigned char)prev[0], (unsigned char)((i - 1) & 0xff));
        prev = b;
    }
    char *big = pool_alloc(p, 100000); /* larger than a chunk */
    cr_assert_not_null(big);
    memset(big, 1, 100000);
    cr_assert_str_eq(pool_printf(p, "%s-%d", "x", 42), "x-42");
    cr_assert_str_eq(pool_strndup(p, "abcdef", 3), "abc");
    pool_destroy(p);
}

Test(pool, cleanups_run_in_reverse_order)
{
    struct pool *p = pool_create(0);
    for (intptr_t i = 0; i < 4; i++)
        cr_assert_eq(pool_cleanup_add(p, note_cleanup, (void *)i), 0);
    pool_destroy(p);
    cr_assert_eq(cleanups_run[3], 1);
    cr_assert_eq(cleanups_run[0], 4);
}

Test(pool, out_of_memory_is_reported)
{
    struct pool *p = pool_create(128);
    reel_alloc_fail_after(0);
    cr_assert_null(pool_alloc(p, 1000)); /* needs a new block */
    cr_assert_null(pool_create(0));
    reel_alloc_fail_after(-1);
    cr_assert_not_null(pool_alloc(p, 1000));
    pool_destroy(p);
}

Test(buf, append_and_cap)
{
    struct buf b;
    buf_init(&b, 10);
    cr_assert_eq(buf_append_str(&b, "hello"), BUF_OK);
    cr_assert_eq(buf_printf(&b, "%d", 1234), BUF_OK);
    cr_assert_str_eq(b.data, "hello1234");
    cr_assert_eq(buf_append_str(&b, "xy"), BUF_TOO_BIG);
    cr_assert_str_eq(b.data, "hello1234", "a refused append must not change the buffer");
    cr_assert_eq(buf_append_str(&b, "x"), BUF_OK);
    cr_assert_eq(b.len, 10);
    cr_assert_eq(buf_printf(&b, "%s", "y"), BUF_TOO_BIG);
    size_t len;
    char *stolen = buf_steal(&b, &len);
    cr_assert_eq(len, 10);
    cr_assert_str_eq(stolen, "hello1234x");
    reel_free(stolen);
    cr_assert_null(b.data);
    buf_clear(&b);
}

Test(buf, nomem_leaves_buffer_intact)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    cr_assert_eq(buf_append_str(&b, "keep"), BUF_OK);
    reel_alloc_fail_after(0);
    char big[1000];
    memset(big, 'x', sizeof big);
    cr_assert_eq(buf_append(&b, big, sizeof big), BUF_NOMEM);
    reel_alloc_fail_after(-1);
    cr_assert_str_eq(b.data, "keep");
    buf_clear(&b);
}
