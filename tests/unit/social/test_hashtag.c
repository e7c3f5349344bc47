/*
 * Hashtag parsing: where a tag starts and ends, Unicode letters and case,
 * what is not a tag, duplicates, the cap, and joining for storage.
 */
#include "social/hashtag.h"

#include <criterion/criterion.h>
#include <string.h>

static struct hashtag_list parse(const char *text, size_t max)
{
    struct hashtag_list l;
    hashtag_parse(text, strlen(text), max, &l);
    return l;
}

static void assert_tags(const char *text, size_t max, const char *const *want, size_t n)
{
    struct hashtag_list l = parse(text, max);
    cr_assert_eq(l.count, n, "'%s': %zu tags, want %zu", text, l.count, n);
    for (size_t i = 0; i < n; i++)
        cr_assert_str_eq(l.tags[i], want[i], "'%s' tag %zu", text, i);
}

#define TAGS(text, ...)                                                                            \
    do {                                                                                           \
        const char *const want[] = {__VA_ARGS__};                                                  \
        assert_tags(text, 20, want, sizeof want / sizeof want[0]);                                 \
    } while (0)

Test(hashtag, ascii_tags_end_at_punctuation)
{
    TAGS("Sunset at the beach #travel #Summer_2025! #go", "travel", "summer_2025", "go");
    TAGS("#a,#b.#c", "a", "b", "c");
    TAGS("(#paren) \"#quoted\"", "paren", "quoted");
}

Test(hashtag, unicode_letters_and_case)
{
    TAGS("Kaffee #Café #CAFÉ #ÜBER #Привет #日本語 #İstanbul", "café", "über", "привет", "日本語",
         "istanbul");
    TAGS("#Ελλάδα #ΣΟΦΙΑ", "ελλάδα", "σοφια");
    /* Devanagari with its vowel signs (combining marks) stays one tag. */
    TAGS("#हिन्दी and more", "हिन्दी");
    /* Decomposed e + U+0301 combining acute stays one tag; Thai tone marks too. */
    TAGS("#Cafe\xcc\x81 ok", "cafe\xcc\x81");
    TAGS("#ไม่ #x", "ไม่", "x");
    /* An invisible zero-width space ends a tag rather than hiding in it. */
    TAGS("#ab\xe2\x80\x8b"
         "cd",
         "ab");
}

Test(hashtag, what_is_not_a_tag)
{
    struct hashtag_list l = parse("#2024 #123_456 a#b ## # #! email#x #_", 20);
    cr_assert_eq(l.count, 0, "got %zu, first '%s'", l.count, l.count ? l.tags[0] : "");
    /* An over-long run is not a tag, not a truncated one. */
    char text[200];
    memset(text, 'x', sizeof text);
    text[0] = '#';
    text[51 + 1] = ' ';
    text[53] = '#';
    text[54] = 'o';
    text[55] = 'k';
    text[56] = '\0';
    l = parse(text, 20);
    cr_assert_eq(l.count, 1);
    cr_assert_str_eq(l.tags[0], "ok");
    /* Exactly 50 characters is fine. */
    char fifty[60];
    fifty[0] = '#';
    memset(fifty + 1, 'y', 50);
    fifty[51] = '\0';
    l = parse(fifty, 20);
    cr_assert_eq(l.count, 1);
    cr_assert_eq(strlen(l.tags[0]), 50);
}

Test(hashtag, duplicates_and_the_cap)
{
    TAGS("#Cats #cats #CATS #dogs", "cats", "dogs");
    const char *const first3[] = {"a1", "b2", "c3"};
    assert_tags("#a1 #b2 #c3 #d4 #e5", 3, first3, 3);
}

Test(hashtag, survives_invalid_utf8)
{
    const char text[] = "#ok\xff\xfe #fine #bro\xc3";
    struct hashtag_list l = parse(text, 20);
    cr_assert_eq(l.count, 3);
    cr_assert_str_eq(l.tags[0], "ok");
    cr_assert_str_eq(l.tags[1], "fine");
    cr_assert_str_eq(l.tags[2], "bro");
}

Test(hashtag, normalize_a_single_tag)
{
    char out[HASHTAG_MAX_BYTES + 1];
    cr_assert_eq(hashtag_normalize("#Café", out), 0);
    cr_assert_str_eq(out, "café");
    cr_assert_eq(hashtag_normalize("Travel_2025", out), 0);
    cr_assert_str_eq(out, "travel_2025");
    cr_assert_eq(hashtag_normalize("", out), -1);
    cr_assert_eq(hashtag_normalize("2024", out), -1);
    cr_assert_eq(hashtag_normalize("two words", out), -1);
    cr_assert_eq(hashtag_normalize("semi;colon", out), -1);
    cr_assert_eq(hashtag_normalize("%20", out), -1);
    cr_assert_eq(hashtag_normalize_prefix("CA", out, sizeof out), 0);
    cr_assert_str_eq(out, "ca");
    cr_assert_eq(hashtag_normalize_prefix("a b", out, sizeof out), -1);
}

Test(hashtag, join_fits_whole_tags)
{
    struct hashtag_list l = parse("#alpha #beta #gamma", 20);
    char out[32];
    cr_assert_eq(hashtag_list_join(&l, out, sizeof out), 3);
    cr_assert_str_eq(out, "alpha beta gamma");
    char small[12];
    cr_assert_eq(hashtag_list_join(&l, small, sizeof small), 2);
    cr_assert_str_eq(small, "alpha beta");
}
