/*
 * parse.c — see parse.h.
 */
#include "core/parse.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

int parse_ull(const char *s, unsigned long long *out)
{
    if (!s || !*s)
        return -1;
    unsigned long long v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        unsigned d = (unsigned)(*s - '0');
        if (v > (ULLONG_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static int parse_with_suffix(const char *s, unsigned long long *out, const char *suffixes,
                             const unsigned long long *factors)
{
    if (!s || !*s)
        return -1;
    size_t len = strlen(s);
    char digits[32];
    unsigned long long factor = 1;
    const char *hit = strchr(suffixes, s[len - 1] | 0x20);
    if (len > 1 && (s[len - 1] < '0' || s[len - 1] > '9')) {
        if (!hit)
            return -1;
        factor = factors[hit - suffixes];
        len--;
    }
    if (len == 0 || len >= sizeof digits)
        return -1;
    memcpy(digits, s, len);
    digits[len] = '\0';
    unsigned long long v;
    if (parse_ull(digits, &v) < 0 || v > ULLONG_MAX / factor)
        return -1;
    *out = v * factor;
    return 0;
}

int parse_bytes(const char *s, unsigned long long *out)
{
    static const unsigned long long f[] = {1ULL << 10, 1ULL << 20, 1ULL << 30};
    return parse_with_suffix(s, out, "kmg", f);
}

int parse_seconds(const char *s, unsigned long long *out)
{
    static const unsigned long long f[] = {1, 60, 3600, 86400};
    return parse_with_suffix(s, out, "smhd", f);
}

int parse_double(const char *s, double *out)
{
    if (!s || !*s || strlen(s) > 64)
        return -1;
    /* Only the plain decimal forms: strtod alone would also take hex, inf,
     * nan and leading spaces. */
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '+' || *p == 'e' ||
              *p == 'E'))
            return -1;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"on", "true", "yes", "1"};
    static const char *const no[] = {"off", "false", "no", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

bool utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}

size_t utf8_length(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            n++;
    return n;
}

bool utf8_has_controls(const char *str, size_t len, bool allow_newlines)
{
    const unsigned char *s = (const unsigned char *)str;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        if (c < 0x20 || c == 0x7f) {
            if (allow_newlines && (c == '\n' || c == '\t'))
                continue;
            return true;
        }
        /* C1 controls U+0080..U+009F are encoded as C2 80..C2 9F. */
        if (c == 0xc2 && i + 1 < len && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f)
            return true;
    }
    return false;
}
