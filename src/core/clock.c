/*
 * clock.c — see clock.h.
 */
#include "core/clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t clock_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct timespec clock_deadline(clockid_t clock, int64_t ms)
{
    struct timespec t;
    clock_gettime(clock, &t);
    t.tv_sec += (time_t)(ms / 1000);
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

uint64_t clock_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int64_t clock_mono_ms(void)
{
    return (int64_t)(clock_mono_ns() / 1000000);
}

/* Days since 1970-01-01 -> civil date (Howard Hinnant's days_from_civil
 * inverse): exact for the proleptic Gregorian calendar, no tables, no libc
 * time zone machinery — formatting a timestamp is on the hot path of every
 * list the API returns. */
static void civil_from_days(int64_t z, int *year, unsigned *month, unsigned *day)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *day = doy - (153 * mp + 2) / 5 + 1;
    *month = mp < 10 ? mp + 3 : mp - 9;
    *year = (int)(y + (*month <= 2));
}

static char *put_digits(char *p, unsigned v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + width;
}

char *clock_format_rfc3339(int64_t unix_ms, char *buf)
{
    int64_t secs = unix_ms / 1000;
    int64_t ms = unix_ms % 1000;
    if (ms < 0) {
        ms += 1000;
        secs--;
    }
    int64_t days = secs / 86400;
    int64_t rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int year;
    unsigned month, day;
    civil_from_days(days, &year, &month, &day);
    if (year < 0 || year > 9999) {
        snprintf(buf, RFC3339_MAX, "%s", year < 0 ? "0000-01-01T00:00:00.000Z"
                                                  : "9999-12-31T23:59:59.999Z");
        return buf;
    }
    char *p = put_digits(buf, (unsigned)year, 4);
    *p++ = '-';
    p = put_digits(p, month, 2);
    *p++ = '-';
    p = put_digits(p, day, 2);
    *p++ = 'T';
    p = put_digits(p, (unsigned)(rem / 3600), 2);
    *p++ = ':';
    p = put_digits(p, (unsigned)(rem / 60 % 60), 2);
    *p++ = ':';
    p = put_digits(p, (unsigned)(rem % 60), 2);
    *p++ = '.';
    p = put_digits(p, (unsigned)ms, 3);
    *p++ = 'Z';
    *p = '\0';
    return buf;
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int clock_parse_rfc3339(const char *s, int64_t *unix_ms)
{
    int year, mon, day, hour, min, sec, ms = 0;
    if (strlen(s) < 20 || digits(s, 4, &year) || s[4] != '-' || digits(s + 5, 2, &mon) ||
        s[7] != '-' || digits(s + 8, 2, &day) || (s[10] != 'T' && s[10] != 't') ||
        digits(s + 11, 2, &hour) || s[13] != ':' || digits(s + 14, 2, &min) || s[16] != ':' ||
        digits(s + 17, 2, &sec))
        return -1;
    const char *p = s + 19;
    if (*p == '.') {
        int n = 0;
        p++;
        while (*p >= '0' && *p <= '9') {
            if (n < 3)
                ms = ms * 10 + (*p - '0');
            n++;
            p++;
        }
        if (n == 0)
            return -1;
        for (; n < 3; n++)
            ms *= 10;
    }
    if (!(strcmp(p, "Z") == 0 || strcmp(p, "z") == 0 || strcmp(p, "+00:00") == 0))
        return -1;
    if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
        return -1;
    struct tm tm = {.tm_year = year - 1900, .tm_mon = mon - 1, .tm_mday = day,
                    .tm_hour = hour, .tm_min = min, .tm_sec = sec};
    time_t t = timegm(&tm);
    struct tm back;
    gmtime_r(&t, &back);
    if (back.tm_mday != day && sec != 60) /* 31 February and the like */
        return -1;
    *unix_ms = (int64_t)t * 1000 + ms;
    return 0;
}
