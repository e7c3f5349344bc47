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

Test(alloc, aligned_arrays_start_on_their_boundary_zeroed_and_grow_keeping_their_contents)
{
    static const size_t aligns[] = {64, (size_t)2 << 20};
    for (size_t a = 0; a < sizeof aligns / sizeof aligns[0]; a++) {
        size_t align = aligns[a];
        uint32_t *p = reel_aligned_calloc(align, 1000, sizeof *p);
        cr_assert_not_null(p);
        cr_assert_eq((uintptr_t)p % align, 0);
        for (size_t i = 0; i < 1000; i++) {
            cr_assert_eq(p[i], 0);
            p[i] = (uint32_t)i * 7 + 1;
        }
        void *grown = p;
        cr_assert_eq(reel_aligned_grow(&grown, align, 1000, 5000, sizeof *p), 0);
        p = grown;
        cr_assert_eq((uintptr_t)p % align, 0);
        for (size_t i = 0; i < 1000; i++)
            cr_assert_eq(p[i], (uint32_t)i * 7 + 1, "kept what it held");
        for (size_t i = 1000; i < 5000; i++)
            cr_assert_eq(p[i], 0, "the new part is zeroed");
        reel_free(p);
    }
    cr_assert_null(reel_aligned_calloc(64, SIZE_MAX / 8, 16), "n * size overflows");
}

Test(alloc, aligned_growth_that_fails_leaves_the_array_as_it_was)
{
    void *p = reel_aligned_calloc(64, 10, 8);
    cr_assert_not_null(p);
    memset(p, 0xab, 80);
    void *before = p;
    reel_alloc_fail_after(0);
    int rc = reel_aligned_grow(&p, 64, 10, 20, 8);
    reel_alloc_fail_after(-1);
    cr_assert_eq(rc, -1);
    cr_assert_eq(p, before);
    cr_assert_eq(((unsigned char *)p)[79], 0xab);
    reel_free(p);
}
