/*
 * hashtag.c — see hashtag.h. Character classes and case mapping come from
 * glibc's built-in C.UTF-8 locale through the *_l functions, so the process
 * locale is never touched (other threads may be formatting numbers). If that
 * locale is missing, only ASCII letters and digits count.
 */
#include "social/hashtag.h"

#include <locale.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <wchar.h>
#include <wctype.h>

static locale_t utf8_locale;
static pthread_once_t locale_once = PTHREAD_ONCE_INIT;

static void load_locale(void)
{
    utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

/* Decodes one code point; returns its length (0 at the end, -1 if invalid). */
static int decode(const unsigned char *s, size_t len, uint32_t *cp)
{
    if (len == 0)
        return 0;
    unsigned char c = s[0];
    int n;
    uint32_t v;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        n = 2;
        v = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3;
        v = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4;
        v = c & 0x07;
    } else {
        return -1;
    }
    if ((size_t)n > len)
        return -1;
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return -1;
        v = v << 6 | (s[i] & 0x3F);
    }
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < min[n] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return -1;
    *cp = v;
    return n;
}

static size_t encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Combining marks (virama, vowel signs, tone marks, accents) continue a
 * tag: glibc has no "mark" class, but they are the zero-width characters,
 * less the invisible format characters that must not hide inside a tag
 * (zero-width space, word joiner, BOM, direction marks, variation selectors).
 * ZWNJ/ZWJ stay: several scripts spell words with them. Needs the thread's
 * locale to be UTF-8 (with_utf8 below). */
static bool is_mark(uint32_t cp)
{
    if (cp < 0x0300)
        return false;
    if (cp == 0x200C || cp == 0x200D)
        return true;
    if (cp == 0x200B || (cp >= 0x200E && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202E) ||
        (cp >= 0x2060 && cp <= 0x206F) || cp == 0xFEFF || (cp >= 0xFE00 && cp <= 0xFE0F) ||
        cp == 0x180E || (cp >= 0xE0000 && cp <= 0xE0FFF))
        return false;
    return utf8_locale && wcwidth((wchar_t)cp) == 0;
}

static bool is_letter(uint32_t cp)
{
    if (cp < 0x80)
        return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
    return utf8_locale && iswalpha_l((wint_t)cp, utf8_locale) &&
           !iswdigit_l((wint_t)cp, utf8_locale);
}

static bool is_tag_char(uint32_t cp)
{
    if (cp < 0x80)
        return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') ||
               cp == '_';
    return is_mark(cp) || (utf8_locale && iswalnum_l((wint_t)cp, utf8_locale));
}

static uint32_t lower(uint32_t cp)
{
    if (cp < 0x80)
        return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
    return utf8_locale ? (uint32_t)towlower_l((wint_t)cp, utf8_locale) : cp;
}

/* Reads a run of tag characters at s, lower-casing it into out. Returns the
 * bytes consumed; *chars and *letters count code points and letters; *fits
 * is false if the run was longer than a tag may be. */
static size_t read_run(const unsigned char *s, size_t len, char *out, size_t *chars, bool *letters,
                       bool *fits)
{
    size_t i = 0, o = 0;
    *chars = 0;
    *letters = false;
    *fits = true;
    for (;;) {
        uint32_t cp;
        int n = decode(s + i, len - i, &cp);
        if (n <= 0 || !is_tag_char(cp))
            break;
        i += (size_t)n;
        if (++*chars > HASHTAG_MAX_CHARS) {
            *fits = false;
            continue;
        }
        *letters |= is_letter(cp);
        o += encode(lower(cp), out + o);
    }
    out[o] = '\0';
    return i;
}

/* Switches this thread (only) to the UTF-8 locale for wcwidth. */
static locale_t with_utf8(void)
{
    pthread_once(&locale_once, load_locale);
    return utf8_locale ? uselocale(utf8_locale) : (locale_t)0;
}

static void restore_locale(locale_t old)
{
    if (old)
        uselocale(old);
}

static void parse_tags(const char *text, size_t len, size_t max_tags, struct hashtag_list *out);

void hashtag_parse(const char *text, size_t len, size_t max_tags, struct hashtag_list *out)
{
    locale_t old = with_utf8();
    parse_tags(text, len, max_tags, out);
    restore_locale(old);
}

static void parse_tags(const char *text, size_t len, size_t max_tags, struct hashtag_list *out)
{
    out->count = 0;
    if (max_tags > HASHTAG_LIST_MAX)
        max_tags = HASHTAG_LIST_MAX;
    const unsigned char *s = (const unsigned char *)text;
    bool prev_tag_char = false;
    size_t i = 0;
    while (i < len && out->count < max_tags) {
        uint32_t cp;
        int n = decode(s + i, len - i, &cp);
        if (n <= 0) {
            i++;
            prev_tag_char = false;
            continue;
        }
        if (cp == '#' && !prev_tag_char) {
            char tag[HASHTAG_MAX_BYTES + 8];
            size_t chars;
            bool letters, fits;
            size_t used = read_run(s + i + 1, len - i - 1, tag, &chars, &letters, &fits);
            i += 1 + used;
            prev_tag_char = used > 0;
            if (chars == 0 || !fits || !letters)
                continue;
            bool seen = false;
            for (size_t k = 0; k < out->count && !seen; k++)
                seen = strcmp(out->tags[k], tag) == 0;
            if (!seen)
                memcpy(out->tags[out->count++], tag, strlen(tag) + 1);
            continue;
        }
        prev_tag_char = is_tag_char(cp);
        i += (size_t)n;
    }
}

int hashtag_normalize(const char *tag, char *out)
{
    if (tag[0] == '#')
        tag++;
    size_t len = strlen(tag);
    char buf[HASHTAG_MAX_BYTES + 8];
    size_t chars;
    bool letters, fits;
    locale_t old = with_utf8();
    size_t used = read_run((const unsigned char *)tag, len, buf, &chars, &letters, &fits);
    restore_locale(old);
    if (used != len || chars == 0 || !fits || !letters)
        return -1;
    memcpy(out, buf, strlen(buf) + 1);
    return 0;
}

int hashtag_normalize_prefix(const char *prefix, char *out, size_t size)
{
    size_t len = strlen(prefix);
    char buf[HASHTAG_MAX_BYTES + 8];
    size_t chars;
    bool letters, fits;
    locale_t old = with_utf8();
    size_t used = read_run((const unsigned char *)prefix, len, buf, &chars, &letters, &fits);
    restore_locale(old);
    size_t blen = strlen(buf);
    if (used != len || !fits || blen + 1 > size)
        return -1;
    memcpy(out, buf, blen + 1);
    return 0;
}

size_t hashtag_list_join(const struct hashtag_list *list, char *out, size_t size)
{
    size_t o = 0, written = 0;
    if (size)
        out[0] = '\0';
    for (size_t i = 0; i < list->count; i++) {
        size_t n = strlen(list->tags[i]);
        size_t need = n + (o ? 1 : 0);
        if (o + need + 1 > size)
            continue;
        if (o)
            out[o++] = ' ';
        memcpy(out + o, list->tags[i], n);
        o += n;
        out[o] = '\0';
        written++;
    }
    return written;
}
