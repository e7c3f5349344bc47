/*
 * Active users: calendar arithmetic, DAU / WAU / MAU (sliding and calendar)
 * per region and per country from daily sketches, persistence across a
 * restart, the in-memory window, merging another node's day file, and
 * refusal of corrupt or truncated day files.
 */
#include "core/country.h"
#include "core/id.h"
#include "stats/active.h"
#include "stats/hll.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define P 14
#define DAY0 20419 /* 2025-11-27 */

static char tmpdir[256];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/reel-active-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
    nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static uint64_t user(uint64_t i)
{
    return id_make(1, 1767225600000ULL, 0, 0) + i;
}

static int64_t noon(int32_t day)
{
    return (int64_t)day * STATS_DAY_MS + STATS_DAY_MS / 2;
}

static struct stats_active *create(const char *dir)
{
    char err[256];
    struct stats_active *a = stats_active_create(P, dir, err, sizeof err);
    cr_assert_not_null(a, "%s", err);
    return a;
}

static uint64_t count(struct stats_active *a, enum stats_period period, int32_t day, int country)
{
    char err[256] = "";
    uint64_t n = 0;
    cr_assert_eq(stats_active_count(a, period, day, country, &n, err, sizeof err), 0, "%s", err);
    return n;
}

static void assert_close(uint64_t got, uint64_t want, const char *what)
{
    double err = fabs((double)got - (double)want) / (double)(want ? want : 1);
    cr_assert_leq(err, 0.02, "%s: %llu, expected %llu", what, (unsigned long long)got,
                  (unsigned long long)want);
}

Test(active, calendar)
{
    char buf[STATS_DAY_STR_MAX];
    int32_t day;
    cr_assert_eq(stats_day_of_ms(0), 0);
    cr_assert_eq(stats_day_of_ms(-1), -1);
    cr_assert_eq(stats_day_of_ms(STATS_DAY_MS - 1), 0);
    cr_assert_str_eq(stats_day_format(0, buf), "1970-01-01");
    cr_assert_str_eq(stats_day_format(DAY0, buf), "2025-11-27");
    cr_assert_eq(stats_day_parse("2028-02-29", &day), 0);
    cr_assert_str_eq(stats_day_format(day, buf), "2028-02-29");
    const char *bad[] = {"2026-02-29",  "2026-13-01", "2026-00-10", "2026-1-01",
                         "2026-01-01x", "",           "2026/01/01", "2026-04-31"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(stats_day_parse(bad[i], &day), -1, "accepted %s", bad[i]);

    int32_t first, last;
    stats_day_parse("2026-11-27", &day); /* a Friday */
    stats_period_range(STATS_PERIOD_CALENDAR_WEEK, day, &first, &last);
    cr_assert_str_eq(stats_day_format(first, buf), "2026-11-23");
    cr_assert_str_eq(stats_day_format(last, buf), "2026-11-29");
    stats_period_range(STATS_PERIOD_MONTH, day, &first, &last);
    cr_assert_eq(last - first + 1, 30);
    cr_assert_eq(last, day);
    stats_period_range(STATS_PERIOD_WEEK, day, &first, &last);
    cr_assert_eq(last - first + 1, 7);
    stats_day_parse("2028-02-10", &day);
    stats_period_range(STATS_PERIOD_CALENDAR_MONTH, day, &first, &last);
    cr_assert_str_eq(stats_day_format(first, buf), "2028-02-01");
    cr_assert_str_eq(stats_day_format(last, buf), "2028-02-29");
    stats_day_parse("2026-12-31", &day);
    stats_period_range(STATS_PERIOD_CALENDAR_MONTH, day, &first, &last);
    cr_assert_str_eq(stats_day_format(first, buf), "2026-12-01");
    cr_assert_eq(last, day);

    enum stats_period p;
    cr_assert_eq(stats_period_parse("month", &p), 0);
    cr_assert_eq(p, STATS_PERIOD_MONTH);
    cr_assert_str_eq(stats_period_name(STATS_PERIOD_CALENDAR_WEEK), "calendar-week");
    cr_assert_eq(stats_period_parse("year", &p), -1);
}

/* Day d (0..39) has users [1000 d, 1000 d + 5000): consecutive days overlap,
 * so a period of k days ending on day d has 1000 (k - 1) + 5000 distinct
 * users. Users with i % 3 == 0 live in DE, 1 in FR, 2 unknown. */
static void feed(struct stats_active *a, int days)
{
    int de = country_index("DE"), fr = country_index("FR");
    for (int d = 0; d < days; d++)
        for (uint64_t i = (uint64_t)d * 1000; i < (uint64_t)d * 1000 + 5000; i++) {
            int country = i % 3 == 0 ? de : i % 3 == 1 ? fr : -1;
            cr_assert_eq(
                stats_active_add(a, user(i), noon(DAY0 + d) + (int64_t)(i % 1000), country), 0);
        }
}

static uint64_t distinct(int32_t first, int32_t last, int residue)
{
    uint64_t n = 0;
    for (uint64_t i = (uint64_t)(first - DAY0) * 1000; i < (uint64_t)(last - DAY0) * 1000 + 5000;
         i++)
        n += residue < 0 || (int)(i % 3) == residue;
    return n;
}

Test(active, dau_wau_mau_per_region_and_country)
{
    struct stats_active *a = create(NULL);
    feed(a, 40);
    int32_t today = DAY0 + 39;
    assert_close(count(a, STATS_PERIOD_DAY, today, -1), 5000, "DAU");
    assert_close(count(a, STATS_PERIOD_WEEK, today, -1), distinct(today - 6, today, -1), "WAU");
    assert_close(count(a, STATS_PERIOD_MONTH, today, -1), distinct(today - 29, today, -1), "MAU");
    assert_close(count(a, STATS_PERIOD_MONTH, DAY0 + 20, -1), distinct(DAY0, DAY0 + 20, -1),
                 "MAU before 30 days of data");
    int32_t first, last;
    stats_period_range(STATS_PERIOD_CALENDAR_MONTH, today, &first, &last);
    if (first < DAY0)
        first = DAY0;
    if (last > today)
        last = today;
    assert_close(count(a, STATS_PERIOD_CALENDAR_MONTH, today, -1), distinct(first, last, -1),
                 "calendar month");
    int de = country_index("DE"), fr = country_index("FR");
    assert_close(count(a, STATS_PERIOD_MONTH, today, de), distinct(today - 29, today, 0), "DE");
    assert_close(count(a, STATS_PERIOD_MONTH, today, fr), distinct(today - 29, today, 1), "FR");
    cr_assert_eq(count(a, STATS_PERIOD_MONTH, today, country_index("US")), 0);
    /* Days with no events count zero. */
    cr_assert_eq(count(a, STATS_PERIOD_DAY, today + 5, -1), 0);
    cr_assert_eq(count(a, STATS_PERIOD_DAY, DAY0 - 1, -1), 0);
    stats_active_destroy(a);
}

/* A sliding MAU is the union of 30 daily sketches: equal to one sketch fed
 * every user of those days. */
Test(active, sliding_mau_is_the_union_of_days)
{
    struct stats_active *a = create(NULL);
    feed(a, 40);
    char err[256];
    struct hll *mau = NULL, *direct = hll_create(P);
    cr_assert_eq(stats_active_sketch(a, STATS_PERIOD_MONTH, DAY0 + 39, -1, &mau, err, sizeof err),
                 0);
    for (uint64_t i = 10 * 1000; i < 39 * 1000 + 5000; i++)
        hll_add(direct, user(i));
    cr_assert(hll_equal(mau, direct));
    hll_destroy(mau);
    hll_destroy(direct);
    stats_active_destroy(a);
}

Test(active, survives_a_restart, .init = make_tmpdir, .fini = remove_tmpdir)
{
    char err[256];
    struct stats_active *a = create(tmpdir);
    feed(a, 10);
    uint64_t before = count(a, STATS_PERIOD_MONTH, DAY0 + 9, -1);
    uint64_t de_before = count(a, STATS_PERIOD_WEEK, DAY0 + 9, country_index("DE"));
    cr_assert_eq(stats_active_save(a, err, sizeof err), 0, "%s", err);
    stats_active_destroy(a);

    char path[512];
    snprintf(path, sizeof path, "%s/2025-11-27.hll", tmpdir);
    cr_assert_eq(access(path, R_OK), 0, "day file %s missing", path);

    a = create(tmpdir);
    cr_assert_eq(count(a, STATS_PERIOD_MONTH, DAY0 + 9, -1), before);
    cr_assert_eq(count(a, STATS_PERIOD_WEEK, DAY0 + 9, country_index("DE")), de_before);
    /* Continuing a day after the restart adds to it instead of replacing it;
     * replaying the same events changes nothing. */
    cr_assert_eq(stats_active_add(a, user(9000), noon(DAY0 + 9), -1), 0);
    assert_close(count(a, STATS_PERIOD_DAY, DAY0 + 9, -1), 5001, "continued day");
    uint64_t again = count(a, STATS_PERIOD_MONTH, DAY0 + 9, -1);
    feed(a, 10);
    cr_assert_eq(count(a, STATS_PERIOD_MONTH, DAY0 + 9, -1), again, "replay changed the count");
    stats_active_destroy(a);
}

Test(active, window_moves_and_old_days_stay_queryable, .init = make_tmpdir, .fini = remove_tmpdir)
{
    struct stats_active *a = create(tmpdir);
    for (int d = 0; d < 100; d++)
        for (uint64_t i = 0; i < 50; i++)
            cr_assert_eq(stats_active_add(a, user((uint64_t)d * 100 + i), noon(DAY0 + d), -1), 0);
    /* Day 10 left the memory window long ago; its file answers. */
    cr_assert_eq(count(a, STATS_PERIOD_DAY, DAY0 + 10, -1), 50);
    cr_assert_eq(count(a, STATS_PERIOD_WEEK, DAY0 + 10, -1), 350);
    /* An event for a day before the window is dropped and counted. */
    cr_assert_eq(stats_active_add(a, user(1), noon(DAY0), -1), 1);
    cr_assert_eq(stats_active_dropped(a), 1);
    /* Memory holds at most the window. */
    cr_assert_lt(stats_active_memory_bytes(a), (size_t)STATS_ACTIVE_WINDOW * 16 * 1024);
    stats_active_destroy(a);
}

/* Two nodes of a region each see part of a day's users; merging one node's
 * day file into the other gives the sketch of all of them. */
Test(active, merges_another_nodes_day_file, .init = make_tmpdir, .fini = remove_tmpdir)
{
    char dir_a[300], dir_b[300], err[256];
    snprintf(dir_a, sizeof dir_a, "%s/a", tmpdir);
    snprintf(dir_b, sizeof dir_b, "%s/b", tmpdir);
    struct stats_active *a = create(dir_a), *b = create(dir_b), *all = create(NULL);
    int de = country_index("DE");
    for (uint64_t i = 0; i < 20000; i++) {
        struct stats_active *node = i % 2 ? a : b;
        int country = i % 5 == 0 ? de : -1;
        cr_assert_eq(stats_active_add(node, user(i), noon(DAY0), country), 0);
        cr_assert_eq(stats_active_add(all, user(i), noon(DAY0), country), 0);
    }
    cr_assert_eq(stats_active_save(b, err, sizeof err), 0, "%s", err);
    char path[400];
    snprintf(path, sizeof path, "%s/2025-11-27.hll", dir_b);
    cr_assert_eq(stats_active_merge_file(a, path, err, sizeof err), 0, "%s", err);
    for (int country = -1; country <= de; country += de + 1) {
        struct hll *merged, *direct;
        cr_assert_eq(
            stats_active_sketch(a, STATS_PERIOD_DAY, DAY0, country, &merged, err, sizeof err), 0);
        cr_assert_eq(
            stats_active_sketch(all, STATS_PERIOD_DAY, DAY0, country, &direct, err, sizeof err), 0);
        cr_assert(hll_equal(merged, direct), "country %d differs", country);
        hll_destroy(merged);
        hll_destroy(direct);
    }
    assert_close(count(a, STATS_PERIOD_DAY, DAY0, -1), 20000, "merged day");
    assert_close(count(a, STATS_PERIOD_DAY, DAY0, de), 4000, "merged DE");
    stats_active_destroy(a);
    stats_active_destroy(b);
    stats_active_destroy(all);
}

static void corrupt_file(const char *path, long offset, int truncate_to)
{
    if (truncate_to >= 0) {
        cr_assert_eq(truncate(path, truncate_to), 0);
        return;
    }
    int fd = open(path, O_RDWR);
    cr_assert_geq(fd, 0);
    unsigned char byte;
    cr_assert_eq(pread(fd, &byte, 1, offset), 1);
    byte ^= 0x40;
    cr_assert_eq(pwrite(fd, &byte, 1, offset), 1);
    close(fd);
}

Test(active, corrupt_or_truncated_day_files_are_refused, .init = make_tmpdir, .fini = remove_tmpdir)
{
    char err[256], path[400];
    struct {
        long offset;
        int truncate_to;
        const char *expect;
    } cases[] = {
        {100, -1, "checksum"},
        {2, -1, "magic"},
        {0, 60, "truncated"},
        {0, 10, "truncated"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct stats_active *a = create(tmpdir);
        feed(a, 1);
        cr_assert_eq(stats_active_save(a, err, sizeof err), 0);
        stats_active_destroy(a);
        snprintf(path, sizeof path, "%s/2025-11-27.hll", tmpdir);
        corrupt_file(path, cases[c].offset, cases[c].truncate_to);

        a = create(tmpdir);
        uint64_t n = 0;
        err[0] = '\0';
        cr_assert_eq(stats_active_count(a, STATS_PERIOD_DAY, DAY0, -1, &n, err, sizeof err), -1,
                     "case %zu: corrupt file accepted", c);
        cr_assert_not_null(strstr(err, cases[c].expect), "case %zu: message '%s'", c, err);
        cr_assert_not_null(strstr(err, "2025-11-27.hll"), "message names the file: %s", err);
        struct stats_active *other = create(NULL);
        cr_assert_eq(stats_active_merge_file(other, path, err, sizeof err), -1);
        stats_active_destroy(other);
        stats_active_destroy(a);
        unlink(path);
    }
}
