/*
 * The JSON writer: output is valid JSON (checked by parsing it back with
 * jansson), escaping, nesting, misuse detection, the buffer cap.
 */
#include "core/jsonw.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

Test(jsonw, writes_what_jansson_reads_back)
{
    struct buf b;
    buf_init(&b, 1 << 16);
    struct jsonw w;
    jsonw_init(&w, &b);
    jsonw_object_begin(&w);
    jsonw_kv_string(&w, "plain", "hello");
    jsonw_kv_string(&w, "tricky", "quote\" back\\slash\nnl\ttab\x01 ctl Zoë 😀");
    jsonw_kv_int(&w, "neg", -9223372036854775807LL - 1);
    jsonw_kv_int(&w, "pos", 42);
    jsonw_kv_id(&w, "id", 148056038008356864ULL);
    jsonw_kv_time(&w, "at", 1795823997123LL);
    jsonw_kv_bool(&w, "yes", true);
    jsonw_key(&w, "list");
    jsonw_array_begin(&w);
    jsonw_int(&w, 1);
    jsonw_null(&w);
    jsonw_double(&w, 0.25);
    jsonw_array_begin(&w);
    jsonw_array_end(&w);
    jsonw_object_begin(&w);
    jsonw_object_end(&w);
    jsonw_raw(&w, "{\"pre\":1}", 9);
    jsonw_array_end(&w);
    jsonw_object_end(&w);
    cr_assert_eq(jsonw_finish(&w), 0);

    json_error_t e;
    json_t *v = json_loadb(b.data, b.len, JSON_REJECT_DUPLICATES, &e);
    cr_assert_not_null(v, "%s: %s", e.text, b.data);
    cr_assert_str_eq(json_string_value(json_object_get(v, "tricky")),
                     "quote\" back\\slash\nnl\ttab\x01 ctl Zoë 😀");
    cr_assert_eq(json_integer_value(json_object_get(v, "neg")), INT64_MIN);
    cr_assert_str_eq(json_string_value(json_object_get(v, "id")), "148056038008356864");
    cr_assert_str_eq(json_string_value(json_object_get(v, "at")), "2026-11-27T23:59:57.123Z");
    json_t *list = json_object_get(v, "list");
    cr_assert_eq(json_array_size(list), 6);
    cr_assert(json_is_null(json_array_get(list, 1)));
    cr_assert_float_eq(json_real_value(json_array_get(list, 2)), 0.25, 1e-9);
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(list, 5), "pre")), 1);
    json_decref(v);
    buf_clear(&b);
}

Test(jsonw, misuse_is_an_error_not_bad_json)
{
    struct buf b;
    struct jsonw w;
    buf_init(&b, 1024);

    jsonw_init(&w, &b);
    jsonw_object_begin(&w);
    jsonw_string(&w, "value without key");
    cr_assert_eq(jsonw_finish(&w), JSONW_MISUSE);

    buf_reset(&b);
    jsonw_init(&w, &b);
    jsonw_array_begin(&w);
    jsonw_key(&w, "key in array");
    cr_assert_eq(jsonw_finish(&w), JSONW_MISUSE);

    buf_reset(&b);
    jsonw_init(&w, &b);
    jsonw_object_begin(&w);
    jsonw_array_end(&w);
    cr_assert_eq(jsonw_finish(&w), JSONW_MISUSE);

    buf_reset(&b);
    jsonw_init(&w, &b);
    jsonw_array_begin(&w);
    cr_assert_eq(jsonw_finish(&w), JSONW_MISUSE, "unbalanced");

    buf_reset(&b);
    jsonw_init(&w, &b);
    cr_assert_eq(jsonw_finish(&w), JSONW_MISUSE, "nothing written");
    buf_clear(&b);
}

Test(jsonw, cap_is_reported)
{
    struct buf b;
    struct jsonw w;
    buf_init(&b, 16);
    jsonw_init(&w, &b);
    jsonw_array_begin(&w);
    for (int i = 0; i < 100; i++)
        jsonw_int(&w, 123456);
    jsonw_array_end(&w);
    cr_assert_eq(jsonw_finish(&w), BUF_TOO_BIG);
    buf_clear(&b);
}

/* Pre-written members go into an object with the commas right, before and
 * after other members; outside an object or after a key they are misuse. */
Test(jsonw, raw_members_join_an_object)
{
    struct buf b;
    struct jsonw w;
    buf_init(&b, 1024);
    jsonw_init(&w, &b);
    jsonw_array_begin(&w);
    jsonw_object_begin(&w);
    jsonw_raw_members(&w, "\"a\":1,\"b\":[2]", 13);
    jsonw_kv_bool(&w, "c", true);
    jsonw_object_end(&w);
    jsonw_object_begin(&w);
    jsonw_kv_int(&w, "x", 0);
    jsonw_raw_members(&w, "\"y\":{}", 6);
    jsonw_raw_members(&w, "", 0);
    jsonw_object_end(&w);
    jsonw_array_end(&w);
    cr_assert_eq(jsonw_finish(&w), 0);
    cr_assert_str_eq(b.data, "[{\"a\":1,\"b\":[2],\"c\":true},{\"x\":0,\"y\":{}}]");

    buf_reset(&b);
    jsonw_init(&w, &b);
    jsonw_array_begin(&w);
    jsonw_raw_members(&w, "\"a\":1", 5);
    cr_assert_eq(jsonw_finish(&w), JSONW_MISUSE, "members in an array");

    buf_reset(&b);
    jsonw_init(&w, &b);
    jsonw_object_begin(&w);
    jsonw_key(&w, "k");
    jsonw_raw_members(&w, "\"a\":1", 5);
    cr_assert_eq(jsonw_finish(&w), JSONW_MISUSE, "members after a key");
    buf_clear(&b);
}
