/*
 * Strict parsing of numbers, sizes, durations, booleans and UTF-8.
 */
#include "core/clock.h"
#include "core/parse.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

Test(parse, numbers)
{
    unsigned long long v;
    cr_assert_eq(parse_ull("0", &v), 0);
    cr_assert_eq(v, 0);
    cr_assert_eq(parse_ull("18446744073709551615", &v), 0);
    cr_assert_eq(v, 18446744073709551615ULL);
    const char *bad[] = {"", "18446744073709551616", "-1", "+1", " 1", "1 ", "1e3", "0x10", NULL};
    for (int i = 0; bad[i]; i++)
        cr_assert_eq(parse_ull(bad[i], &v), -1, "accepted '%s'", bad[i]);
}

Test(parse, sizes_and_durations)
{
    unsigned long long v;
    cr_assert_eq(parse_bytes("64k", &v), 0);
    cr_assert_eq(v, 65536);
    cr_assert_eq(parse_bytes("3M", &v), 0);
    cr_assert_eq(v, 3u << 20);
    cr_assert_eq(parse_bytes("1g", &v), 0);
    cr_assert_eq(v, 1u << 30);
    cr_assert_eq(parse_bytes("17", &v), 0);
    cr_assert_eq(v, 17);
    cr_assert_eq(parse_bytes("k", &v), -1);
    cr_assert_eq(parse_bytes("1t", &v), -1);
    cr_assert_eq(parse_bytes("99999999999999999999g", &v), -1);
    cr_assert_eq(parse_bytes("18014398509481984g", &v), -1); /* overflows when scaled */
    cr_assert_eq(parse_seconds("30d", &v), 0);
    cr_assert_eq(v, 30 * 86400);
    cr_assert_eq(parse_seconds("15m", &v), 0);
    cr_assert_eq(v, 900);
    cr_assert_eq(parse_seconds("2h", &v), 0);
    cr_assert_eq(v, 7200);
    cr_assert_eq(parse_seconds("1w", &v), -1);
}

Test(parse, booleans)
{
    bool b;
    cr_assert_eq(parse_bool("on", &b), 0);
    cr_assert(b);
    cr_assert_eq(parse_bool("no", &b), 0);
    cr_assert_not(b);
    cr_assert_eq(parse_bool("On", &b), -1);
    cr_assert_eq(parse_bool("", &b), -1);
}

Test(parse, utf8)
{
    const char *good[] = {"", "plain", "Zoë", "日本語", "emoji 😀", "\xf4\x8f\xbf\xbf", NULL};
    for (int i = 0; good[i]; i++)
        cr_assert(utf8_valid(good[i], strlen(good[i])), "rejected '%s'", good[i]);
    const char *bad[] = {"\xc0\xaf",         /* overlong '/' */
                         "\xe0\x80\xaf",     /* overlong */
                         "\xed\xa0\x80",     /* surrogate */
                         "\xf4\x90\x80\x80", /* past U+10FFFF */
                         "\xff", "abc\xe2\x82", /* truncated */
                         "\x80", NULL};
    for (int i = 0; bad[i]; i++)
        cr_assert_not(utf8_valid(bad[i], strlen(bad[i])), "accepted bad case %d", i);
    cr_assert_not(utf8_valid("a\0b", 3));
    cr_assert_eq(utf8_length("Zoë 日本", strlen("Zoë 日本")), 6);
    cr_assert(utf8_has_controls("a\x07", 2, true));
    cr_assert(utf8_has_controls("a\nb", 3, false));
    cr_assert_not(utf8_has_controls("a\nb\tc", 5, true));
    cr_assert(utf8_has_controls("a\xc2\x85", 3, true)); /* NEL, a C1 control */
}

Test(parse, rfc3339)
{
    int64_t ms;
    char buf[RFC3339_MAX];
    cr_assert_eq(clock_parse_rfc3339("2026-11-27T23:40:01.123Z", &ms), 0);
    cr_assert_str_eq(clock_format_rfc3339(ms, buf), "2026-11-27T23:40:01.123Z");
    cr_assert_eq(clock_parse_rfc3339("2026-11-27T23:40:01+00:00", &ms), 0);
    cr_assert_eq(ms % 1000, 0);
    cr_assert_eq(clock_parse_rfc3339("2026-02-31T00:00:00Z", &ms), -1);
    cr_assert_eq(clock_parse_rfc3339("2026-11-27 23:40:01Z", &ms), -1);
    cr_assert_eq(clock_parse_rfc3339("2026-11-27T23:40:01+02:00", &ms), -1);
    cr_assert_eq(clock_parse_rfc3339("yesterday", &ms), -1);
}

Test(parse, rfc3339_format_matches_libc)
{
    /* The hand-written civil-date conversion against gmtime over many dates. */
    char buf[RFC3339_MAX], want[RFC3339_MAX];
    for (int64_t ms = -86400000LL * 366 * 3; ms < 86400000LL * 366 * 200; ms += 86400000LL * 13 + 3723456) {
        time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
        struct tm tm;
        gmtime_r(&secs, &tm);
        snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (int)(((ms % 1000) + 1000) % 1000));
        cr_assert_str_eq(clock_format_rfc3339(ms, buf), want, "ms=%lld", (long long)ms);
    }
    cr_assert_str_eq(clock_format_rfc3339(951782400000LL, buf), "2000-02-29T00:00:00.000Z");
}
