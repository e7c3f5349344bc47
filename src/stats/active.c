/*
 * active.c — see active.h.
 *
 * Memory: a ring of STATS_ACTIVE_WINDOW day slots indexed by day modulo the
 * window. A day enters the ring when its first event arrives (or when a query
 * touches it), loading its file if one exists so a restart continues the day
 * instead of overwriting it; it leaves when the newest day moves a window
 * past it, written out first if changed. Nothing else is ever freed, so the
 * memory of a busy region is bounded by 64 days x (1 + countries) sketches,
 * most of them sparse: a 30-day region-wide window at p = 15 is 30 x 24 KiB.
 *
 * Periods are unions computed at query time. A month of daily sketches is
 * 30 merges of 24 KiB (~1 ms); no weekly or monthly sketch is kept, so there
 * is nothing to keep consistent when a late event or another node's file
 * changes a day.
 */
#include "stats/active.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/country.h"
#include "stats/hll.h"
#include "stats/statfile.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define DAY_MAGIC "REELDAY1"
#define DAY_VERSION 1
#define DAY_HEADER_BYTES 8
#define DAY_RECORD_HEADER_BYTES 6
#define DAY_FILE_MAX (64u << 20)

struct active_day {
    int32_t day;
    bool dirty;
    struct hll *region;
    struct hll *countries[COUNTRY_COUNT];
};

struct stats_active {
    unsigned precision;
    bool persistent;
    bool have_newest;
    int32_t newest;
    uint64_t dropped;
    char dir[CONFIG_PATH_MAX];
    struct active_day *ring[STATS_ACTIVE_WINDOW];
};

/* ---- calendar ------------------------------------------------------------ */

/* Howard Hinnant's civil-from-days / days-from-civil (proleptic Gregorian). */
static void civil_from_days(int32_t z, int *year, unsigned *month, unsigned *mday)
{
    z += 719468;
    int32_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *mday = doy - (153 * mp + 2) / 5 + 1;
    *month = mp < 10 ? mp + 3 : mp - 9;
    *year = (int)yoe + era * 400 + (*month <= 2);
}

static int32_t days_from_civil(int year, unsigned month, unsigned mday)
{
    year -= month <= 2;
    int32_t era = (year >= 0 ? year : year - 399) / 400;
    unsigned yoe = (unsigned)(year - era * 400);
    unsigned doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + mday - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int32_t)doe - 719468;
}

int32_t stats_day_of_ms(int64_t unix_ms)
{
    int64_t day = unix_ms / STATS_DAY_MS;
    if (unix_ms % STATS_DAY_MS < 0)
        day--;
    return (int32_t)day;
}

char *stats_day_format(int32_t day, char *buf)
{
    int year;
    unsigned month, mday;
    civil_from_days(day, &year, &month, &mday);
    snprintf(buf, STATS_DAY_STR_MAX, "%04d-%02u-%02u", year, month, mday);
    return buf;
}

int stats_day_parse(const char *s, int32_t *day)
{
    int v[3] = {0, 0, 0};
    const int widths[3] = {4, 2, 2};
    const char *p = s;
    for (int f = 0; f < 3; f++) {
        for (int i = 0; i < widths[f]; i++, p++) {
            if (*p < '0' || *p > '9')
                return -1;
            v[f] = v[f] * 10 + (*p - '0');
        }
        if (f < 2 && *p++ != '-')
            return -1;
    }
    if (*p || v[1] < 1 || v[1] > 12 || v[2] < 1)
        return -1;
    int32_t d = days_from_civil(v[0], (unsigned)v[1], (unsigned)v[2]);
    int year;
    unsigned month, mday;
    civil_from_days(d, &year, &month, &mday);
    if (year != v[0] || month != (unsigned)v[1] || mday != (unsigned)v[2])
        return -1; /* 2026-02-30 */
    *day = d;
    return 0;
}

static const char *const period_names[] = {"day", "week", "month", "calendar-week",
                                           "calendar-month"};

int stats_period_parse(const char *name, enum stats_period *out)
{
    for (size_t i = 0; i < sizeof period_names / sizeof period_names[0]; i++)
        if (strcmp(name, period_names[i]) == 0) {
            *out = (enum stats_period)i;
            return 0;
        }
    return -1;
}

const char *stats_period_name(enum stats_period period)
{
    return (unsigned)period < sizeof period_names / sizeof period_names[0] ? period_names[period]
                                                                           : "?";
}

void stats_period_range(enum stats_period period, int32_t day, int32_t *first, int32_t *last)
{
    int year;
    unsigned month, mday;
    switch (period) {
    case STATS_PERIOD_WEEK:
        *first = day - 6;
        *last = day;
        return;
    case STATS_PERIOD_MONTH:
        *first = day - 29;
        *last = day;
        return;
    case STATS_PERIOD_CALENDAR_WEEK: {
        /* Day 0, 1970-01-01, was a Thursday: Monday-based weekday = (day + 3) mod 7. */
        int32_t weekday = ((day + 3) % 7 + 7) % 7;
        *first = day - weekday;
        *last = *first + 6;
        return;
    }
    case STATS_PERIOD_CALENDAR_MONTH:
        civil_from_days(day, &year, &month, &mday);
        *first = days_from_civil(year, month, 1);
        *last = month == 12 ? days_from_civil(year + 1, 1, 1) - 1
                            : days_from_civil(year, month + 1, 1) - 1;
        return;
    case STATS_PERIOD_DAY:
    default: *first = *last = day; return;
    }
}

/* ---- days ---------------------------------------------------------------- */

static void day_destroy(struct active_day *d)
{
    if (!d)
        return;
    hll_destroy(d->region);
    for (int c = 0; c < COUNTRY_COUNT; c++)
        hll_destroy(d->countries[c]);
    reel_free(d);
}

static struct active_day *day_create(int32_t day, unsigned precision)
{
    struct active_day *d = reel_calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->day = day;
    d->region = hll_create(precision);
    if (!d->region) {
        reel_free(d);
        return NULL;
    }
    return d;
}

static size_t day_memory_bytes(const struct active_day *d)
{
    size_t n = sizeof *d + hll_memory_bytes(d->region);
    for (int c = 0; c < COUNTRY_COUNT; c++)
        if (d->countries[c])
            n += hll_memory_bytes(d->countries[c]);
    return n;
}

static int day_path(const struct stats_active *a, int32_t day, char *out, size_t size)
{
    char name[STATS_DAY_STR_MAX];
    int n = snprintf(out, size, "%s/%s.hll", a->dir, stats_day_format(day, name));
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int encode_day(struct active_day *d, struct buf *out)
{
    uint8_t header[DAY_HEADER_BYTES] = {0};
    uint16_t n = 1;
    for (int c = 0; c < COUNTRY_COUNT; c++)
        n += d->countries[c] != NULL;
    statfile_put_u32(header, (uint32_t)d->day);
    statfile_put_u16(header + 4, n);
    if (buf_append(out, header, sizeof header) != BUF_OK)
        return -1;
    for (int c = -1; c < COUNTRY_COUNT; c++) {
        struct hll *h = c < 0 ? d->region : d->countries[c];
        if (!h)
            continue;
        uint8_t record[DAY_RECORD_HEADER_BYTES] = {0};
        if (c >= 0)
            memcpy(record, country_code(c), 2);
        size_t at = out->len;
        if (buf_append(out, record, sizeof record) != BUF_OK || hll_encode(h, out) != HLL_OK)
            return -1;
        statfile_put_u32((uint8_t *)out->data + at + 2,
                         (uint32_t)(out->len - at - DAY_RECORD_HEADER_BYTES));
    }
    return 0;
}

/* Parses a day payload into a new day. Returns 0, or -1 with err. */
static int decode_day(const uint8_t *p, size_t len, unsigned precision, struct active_day **out,
                      const char *origin, char *err, size_t errlen)
{
    *out = NULL;
    if (len < DAY_HEADER_BYTES) {
        snprintf(err, errlen, "%s: day payload truncated", origin);
        return -1;
    }
    int32_t day = (int32_t)statfile_get_u32(p);
    unsigned n = statfile_get_u16(p + 4);
    if (n < 1 || statfile_get_u16(p + 6) != 0) {
        snprintf(err, errlen, "%s: bad day header", origin);
        return -1;
    }
    struct active_day *d = reel_calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errlen, "%s: out of memory", origin);
        return -1;
    }
    d->day = day;
    size_t pos = DAY_HEADER_BYTES;
    int previous = -1;
    for (unsigned i = 0; i < n; i++) {
        if (len - pos < DAY_RECORD_HEADER_BYTES)
            goto truncated;
        const uint8_t *record = p + pos;
        uint32_t sketch_len = statfile_get_u32(record + 2);
        pos += DAY_RECORD_HEADER_BYTES;
        if (sketch_len > len - pos)
            goto truncated;
        int country = -1;
        if (i == 0) {
            if (record[0] || record[1]) {
                snprintf(err, errlen, "%s: first sketch is not the region's", origin);
                goto fail;
            }
        } else {
            char code[3] = {(char)record[0], (char)record[1], 0};
            country = country_index(code);
            if (country < 0 || code[0] < 'A' || code[0] > 'Z' || country <= previous) {
                snprintf(err, errlen, "%s: sketch %u: bad or out-of-order country code", origin, i);
                goto fail;
            }
            previous = country;
        }
        struct hll *h = NULL;
        size_t used = 0;
        int rc = hll_decode(record + DAY_RECORD_HEADER_BYTES, sketch_len, &h, &used);
        if (rc == HLL_OK && used != sketch_len) {
            hll_destroy(h);
            rc = HLL_ECORRUPT;
        }
        if (rc != HLL_OK) {
            snprintf(err, errlen, "%s: sketch %u: %s", origin, i,
                     rc == HLL_ENOMEM ? "out of memory" : "corrupt");
            goto fail;
        }
        if (hll_precision(h) > precision && hll_fold(h, precision) != HLL_OK) {
            hll_destroy(h);
            snprintf(err, errlen, "%s: out of memory", origin);
            goto fail;
        }
        if (country < 0)
            d->region = h;
        else
            d->countries[country] = h;
        pos += sketch_len;
    }
    if (pos != len) {
        snprintf(err, errlen, "%s: %zu bytes after the last sketch", origin, len - pos);
        goto fail;
    }
    *out = d;
    return 0;
truncated:
    snprintf(err, errlen, "%s: day payload truncated", origin);
fail:
    day_destroy(d);
    return -1;
}

/* Reads a day file. Returns 0 with *out (NULL if there is no file), or -1. */
static int read_day_file(const char *path, unsigned precision, struct active_day **out, char *err,
                         size_t errlen)
{
    uint8_t *payload = NULL;
    size_t len = 0;
    uint32_t version = 0;
    *out = NULL;
    int rc = statfile_read(path, DAY_MAGIC, &version, &payload, &len, DAY_FILE_MAX, err, errlen);
    if (rc == STATFILE_ENOENT)
        return 0;
    if (rc != STATFILE_OK)
        return -1;
    if (version != DAY_VERSION) {
        snprintf(err, errlen, "%s: unsupported day file version %u", path, version);
        reel_free(payload);
        return -1;
    }
    rc = decode_day(payload, len, precision, out, path, err, errlen);
    reel_free(payload);
    return rc;
}

static int save_day(struct stats_active *a, struct active_day *d, char *err, size_t errlen)
{
    if (!a->persistent || !d->dirty)
        return 0;
    char path[CONFIG_PATH_MAX];
    if (day_path(a, d->day, path, sizeof path) < 0) {
        snprintf(err, errlen, "%s: path too long", a->dir);
        return -1;
    }
    struct buf b;
    buf_init(&b, DAY_FILE_MAX);
    if (encode_day(d, &b) < 0) {
        buf_clear(&b);
        snprintf(err, errlen, "%s: out of memory encoding the day", path);
        return -1;
    }
    int rc = statfile_write(path, DAY_MAGIC, DAY_VERSION, b.data, b.len, err, errlen);
    buf_clear(&b);
    if (rc != STATFILE_OK)
        return -1;
    d->dirty = false;
    return 0;
}

static unsigned slot_of(int32_t day)
{
    return (unsigned)(((day % STATS_ACTIVE_WINDOW) + STATS_ACTIVE_WINDOW) % STATS_ACTIVE_WINDOW);
}

static bool in_window(const struct stats_active *a, int32_t day)
{
    return a->have_newest && day <= a->newest && day > a->newest - STATS_ACTIVE_WINDOW;
}

/* The in-memory day, loading its file on first touch. day must be in the
 * window. Returns NULL on failure (err set). */
static struct active_day *window_day(struct stats_active *a, int32_t day, char *err, size_t errlen)
{
    struct active_day **slot = &a->ring[slot_of(day)];
    if (*slot && (*slot)->day == day)
        return *slot;
    struct active_day *d = NULL;
    if (a->persistent) {
        char path[CONFIG_PATH_MAX];
        if (day_path(a, day, path, sizeof path) < 0) {
            snprintf(err, errlen, "%s: path too long", a->dir);
            return NULL;
        }
        if (read_day_file(path, a->precision, &d, err, errlen) < 0)
            return NULL;
        if (d && d->day != day) {
            snprintf(err, errlen, "%s: holds day %d", path, (int)d->day);
            day_destroy(d);
            return NULL;
        }
    }
    if (!d && !(d = day_create(day, a->precision))) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    /* The slot can only hold a day that left the window (already saved). */
    if (*slot && save_day(a, *slot, err, errlen) < 0) {
        day_destroy(d);
        return NULL;
    }
    day_destroy(*slot);
    *slot = d;
    return d;
}

/* Moves the window so `day` is its newest day, writing out days that leave. */
static int advance(struct stats_active *a, int32_t day, char *err, size_t errlen)
{
    if (a->have_newest && day <= a->newest)
        return 0;
    for (unsigned s = 0; s < STATS_ACTIVE_WINDOW; s++) {
        struct active_day *d = a->ring[s];
        if (d && d->day <= day - STATS_ACTIVE_WINDOW) {
            if (save_day(a, d, err, errlen) < 0)
                return -1;
            day_destroy(d);
            a->ring[s] = NULL;
        }
    }
    a->newest = day;
    a->have_newest = true;
    return 0;
}

/* ---- the collection ------------------------------------------------------ */

struct stats_active *stats_active_create(unsigned precision, const char *dir, char *err,
                                         size_t errlen)
{
    if (precision < HLL_PRECISION_MIN || precision > HLL_PRECISION_MAX) {
        snprintf(err, errlen, "sketch precision %u is outside %d..%d", precision, HLL_PRECISION_MIN,
                 HLL_PRECISION_MAX);
        return NULL;
    }
    struct stats_active *a = reel_calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    a->precision = precision;
    if (dir) {
        if (strlen(dir) + STATS_DAY_STR_MAX + 8 >= sizeof a->dir) {
            snprintf(err, errlen, "%s: path too long", dir);
            reel_free(a);
            return NULL;
        }
        snprintf(a->dir, sizeof a->dir, "%s", dir);
        if (statfile_mkdirs(dir) < 0) {
            snprintf(err, errlen, "%s: %s", dir, strerror(errno));
            reel_free(a);
            return NULL;
        }
        a->persistent = true;
    }
    return a;
}

void stats_active_destroy(struct stats_active *a)
{
    if (!a)
        return;
    for (unsigned s = 0; s < STATS_ACTIVE_WINDOW; s++)
        day_destroy(a->ring[s]);
    reel_free(a);
}

int stats_active_add(struct stats_active *a, uint64_t user_id, int64_t at_ms, int country)
{
    char err[CONFIG_ERR_MAX];
    int32_t day = stats_day_of_ms(at_ms);
    if (a->have_newest && day <= a->newest - STATS_ACTIVE_WINDOW) {
        a->dropped++;
        return 1;
    }
    if (advance(a, day, err, sizeof err) < 0)
        return -1;
    struct active_day *d = window_day(a, day, err, sizeof err);
    if (!d)
        return -1;
    uint64_t hash = hll_hash(user_id);
    if (hll_add_hash(d->region, hash) != HLL_OK)
        return -1;
    d->dirty = true;
    if (country >= 0 && country < COUNTRY_COUNT) {
        if (!d->countries[country] && !(d->countries[country] = hll_create(a->precision)))
            return -1;
        if (hll_add_hash(d->countries[country], hash) != HLL_OK)
            return -1;
    }
    return 0;
}

/* Merges the sketch of (day, country) into *acc. */
static int merge_day(struct stats_active *a, int32_t day, int country, struct hll *acc, char *err,
                     size_t errlen)
{
    struct active_day *d = NULL, *loaded = NULL;
    if (in_window(a, day)) {
        d = window_day(a, day, err, errlen);
        if (!d)
            return -1;
    } else if (a->persistent) {
        char path[CONFIG_PATH_MAX];
        if (day_path(a, day, path, sizeof path) < 0) {
            snprintf(err, errlen, "%s: path too long", a->dir);
            return -1;
        }
        if (read_day_file(path, a->precision, &loaded, err, errlen) < 0)
            return -1;
        d = loaded;
    }
    int rc = 0;
    if (d) {
        struct hll *h = country < 0 ? d->region : d->countries[country];
        if (h && hll_merge(acc, h) != HLL_OK) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
        }
    }
    day_destroy(loaded);
    return rc;
}

int stats_active_sketch(struct stats_active *a, enum stats_period period, int32_t day, int country,
                        struct hll **out, char *err, size_t errlen)
{
    *out = NULL;
    if (country >= COUNTRY_COUNT) {
        snprintf(err, errlen, "no such country");
        return -1;
    }
    struct hll *acc = hll_create(a->precision);
    if (!acc) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int32_t first, last;
    stats_period_range(period, day, &first, &last);
    for (int32_t d = first; d <= last; d++)
        if (merge_day(a, d, country, acc, err, errlen) < 0) {
            hll_destroy(acc);
            return -1;
        }
    *out = acc;
    return 0;
}

int stats_active_count(struct stats_active *a, enum stats_period period, int32_t day, int country,
                       uint64_t *count, char *err, size_t errlen)
{
    struct hll *acc;
    if (stats_active_sketch(a, period, day, country, &acc, err, errlen) < 0)
        return -1;
    *count = hll_count(acc);
    hll_destroy(acc);
    return 0;
}

int stats_active_save(struct stats_active *a, char *err, size_t errlen)
{
    for (unsigned s = 0; s < STATS_ACTIVE_WINDOW; s++)
        if (a->ring[s] && save_day(a, a->ring[s], err, errlen) < 0)
            return -1;
    return 0;
}

static int merge_into(struct active_day *dst, const struct active_day *src, unsigned precision)
{
    if (hll_merge(dst->region, src->region) != HLL_OK)
        return -1;
    for (int c = 0; c < COUNTRY_COUNT; c++) {
        if (!src->countries[c])
            continue;
        if (!dst->countries[c] && !(dst->countries[c] = hll_create(precision)))
            return -1;
        if (hll_merge(dst->countries[c], src->countries[c]) != HLL_OK)
            return -1;
    }
    dst->dirty = true;
    return 0;
}

int stats_active_merge_file(struct stats_active *a, const char *path, char *err, size_t errlen)
{
    struct active_day *src = NULL;
    if (read_day_file(path, a->precision, &src, err, errlen) < 0)
        return -1;
    if (!src) {
        snprintf(err, errlen, "%s: no such file", path);
        return -1;
    }
    int rc = -1;
    struct active_day *dst = NULL, *outside = NULL;
    if (!a->have_newest || src->day > a->newest) {
        if (advance(a, src->day, err, errlen) < 0)
            goto out;
    }
    if (in_window(a, src->day)) {
        if (!(dst = window_day(a, src->day, err, errlen)))
            goto out;
    } else {
        /* Older than the window: merge into the day's own file. */
        char own[CONFIG_PATH_MAX];
        if (!a->persistent || day_path(a, src->day, own, sizeof own) < 0) {
            snprintf(err, errlen, "%s: day is older than the in-memory window", path);
            goto out;
        }
        if (read_day_file(own, a->precision, &outside, err, errlen) < 0)
            goto out;
        if (!outside && !(outside = day_create(src->day, a->precision))) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        dst = outside;
    }
    if (merge_into(dst, src, a->precision) < 0) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (outside && save_day(a, outside, err, errlen) < 0)
        goto out;
    rc = 0;
out:
    day_destroy(outside);
    day_destroy(src);
    return rc;
}

size_t stats_active_memory_bytes(const struct stats_active *a)
{
    size_t n = sizeof *a;
    for (unsigned s = 0; s < STATS_ACTIVE_WINDOW; s++)
        if (a->ring[s])
            n += day_memory_bytes(a->ring[s]);
    return n;
}

uint64_t stats_active_dropped(const struct stats_active *a)
{
    return a->dropped;
}
