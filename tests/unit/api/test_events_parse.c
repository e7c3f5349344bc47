/*
 * The fast event-batch scanner: it reads well-formed batches exactly, and
 * for everything else it defers to the full parser (FALLBACK). A mutation
 * test checks it never accepts a body that jansson plus the API's rules
 * would refuse, nor reads different values from one they accept.
 */
#include "api/events_parse.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/id.h"
#include "events/event.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define VID "148056038008356864"

static int fast(const char *body, struct events_parse_item *out, size_t max, size_t *n)
{
    return api_events_parse_fast(body, strlen(body), out, max, n);
}

Test(events_parse, reads_a_good_batch)
{
    struct events_parse_item it[8];
    size_t n;
    const char *body = " {\"events\" : [ {\"type\":\"impression\",\"video_id\":\"" VID "\"},\n"
                       "{\"video_id\":\"" VID "\",\"type\":\"watch\",\"watched_ms\":12345,"
                       "\"at\":\"2026-01-02T03:04:05.678Z\"},"
                       "{\"type\":\"skip\",\"video_id\":\"" VID "\",\"watched_ms\":0,\"at\":null},"
                       "{\"type\":\"not_interested\",\"video_id\":\"" VID "\",\"watched_ms\":null}"
                       "]}\r\n";
    cr_assert_eq(fast(body, it, 8, &n), EVENTS_PARSE_OK);
    cr_assert_eq(n, 4);
    cr_assert_eq(it[0].type, EVENT_IMPRESSION);
    cr_assert_eq(it[0].video_id, 148056038008356864ULL);
    cr_assert_not(it[0].has_at);
    cr_assert_eq(it[1].type, EVENT_WATCH);
    cr_assert_eq(it[1].watched_ms, 12345);
    cr_assert(it[1].has_at);
    int64_t at;
    cr_assert_eq(clock_parse_rfc3339("2026-01-02T03:04:05.678Z", &at), 0);
    cr_assert_eq(it[1].at_ms, at);
    cr_assert_eq(it[2].type, EVENT_SKIP);
    cr_assert_not(it[2].has_at);
    cr_assert_eq(it[3].type, EVENT_NOT_INTERESTED);
}

Test(events_parse, defers_everything_else)
{
    const char *bad[] = {
        "",
        "{}",
        "[]",
        "{\"events\":[]}",
        "{\"events\":{}}",
        "{\"events\":[{\"type\":\"play\",\"video_id\":\"" VID "\"}],\"x\":1}",
        "{\"events\":[{\"type\":\"play\",\"video_id\":\"" VID "\"}]} x",
        "{\"events\":[{\"type\":\"play\",\"video_id\":\"" VID "\"},]}",
        "{\"events\":[{\"type\":\"like\",\"video_id\":\"" VID "\"}]}",
        "{\"events\":[{\"type\":\"teleport\",\"video_id\":\"" VID "\"}]}",
        "{\"events\":[{\"type\":\"play\"}]}",
        "{\"events\":[{\"video_id\":\"" VID "\"}]}",
        "{\"events\":[{\"type\":\"play\",\"video_id\":148056038008356864}]}",
        "{\"events\":[{\"type\":\"play\",\"video_id\":\"0123\"}]}",
        "{\"events\":[{\"type\":\"play\",\"video_id\":\"" VID "\",\"type\":\"skip\"}]}",
        "{\"events\":[{\"type\":\"watch\",\"video_id\":\"" VID "\"}]}",
        "{\"events\":[{\"type\":\"watch\",\"video_id\":\"" VID "\",\"watched_ms\":null}]}",
        "{\"events\":[{\"type\":\"watch\",\"video_id\":\"" VID "\",\"watched_ms\":-1}]}",
        "{\"events\":[{\"type\":\"watch\",\"video_id\":\"" VID "\",\"watched_ms\":1.5}]}",
        "{\"events\":[{\"type\":\"watch\",\"video_id\":\"" VID "\",\"watched_ms\":1e3}]}",
        "{\"events\":[{\"type\":\"watch\",\"video_id\":\"" VID "\",\"watched_ms\":012}]}",
        "{\"events\":[{\"type\":\"watch\",\"video_id\":\"" VID "\",\"watched_ms\":86400001}]}",
        "{\"events\":[{\"type\":\"play\",\"video_id\":\"" VID "\",\"at\":\"yesterday\"}]}",
        "{\"events\":[{\"type\":\"play\",\"video_id\":\"" VID "\",\"at\":5}]}",
        "{\"events\":[{\"type\":\"pl\\u0061y\",\"video_id\":\"" VID "\"}]}",
        "{\"events\":[{\"type\":\"play\",\"video_id\":\"" VID "\",\"extra\":true}]}",
        "{\"events\":[\"play\"]}",
        "{\"events\":[{\"type\":\"play\",\"video_id\":\"" VID "\"}]",
        "{\"events\":[{\"type\":\"play\",\"video_id\":\"" VID "\"}],\"events\":[]}",
    };
    struct events_parse_item it[8];
    size_t n;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(fast(bad[i], it, 8, &n), EVENTS_PARSE_FALLBACK, "accepted: %s", bad[i]);
    /* More events than allowed. */
    cr_assert_eq(fast("{\"events\":[{\"type\":\"play\",\"video_id\":\"" VID "\"},"
                      "{\"type\":\"play\",\"video_id\":\"" VID "\"}]}",
                      it, 1, &n),
                 EVENTS_PARSE_FALLBACK);
}

/* The API's rules on a jansson tree (what api/events.c's full path checks).
 * Returns true and fills out if the batch is acceptable. */
static bool reference(const char *body, size_t len, struct events_parse_item *out, size_t max,
                      size_t *n)
{
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    bool ok = json_is_object(root) && json_object_size(root) == 1;
    json_t *list = ok ? json_object_get(root, "events") : NULL;
    ok = ok && json_is_array(list) && json_array_size(list) >= 1 && json_array_size(list) <= max;
    *n = ok ? json_array_size(list) : 0;
    for (size_t i = 0; ok && i < *n; i++) {
        json_t *e = json_array_get(list, i), *v;
        const char *key;
        struct events_parse_item *it = &out[i];
        memset(it, 0, sizeof *it);
        ok = json_is_object(e);
        json_object_foreach(e, key, v)
        {
            if (strcmp(key, "type") && strcmp(key, "video_id") && strcmp(key, "watched_ms") &&
                strcmp(key, "at"))
                ok = false;
        }
        json_t *type = json_object_get(e, "type");
        it->type = json_is_string(type) ? event_type_parse(json_string_value(type)) : -1;
        ok = ok && event_type_is_client(it->type);
        json_t *vid = json_object_get(e, "video_id");
        ok = ok && json_is_string(vid) && id_parse(json_string_value(vid), &it->video_id);
        json_t *w = json_object_get(e, "watched_ms");
        if (w && !json_is_null(w)) {
            ok = ok && json_is_integer(w) && json_integer_value(w) >= 0 &&
                 json_integer_value(w) <= EVENTS_WATCHED_MS_MAX;
            if (ok)
                it->watched_ms = (uint32_t)json_integer_value(w);
        } else {
            ok = ok && it->type != EVENT_WATCH;
        }
        json_t *at = json_object_get(e, "at");
        if (at && !json_is_null(at)) {
            ok = ok && json_is_string(at) &&
                 clock_parse_rfc3339(json_string_value(at), &it->at_ms) == 0;
            it->has_at = true;
        }
    }
    json_decref(root);
    return ok;
}

Test(events_parse, never_accepts_what_the_full_path_refuses)
{
    const char *seeds[] = {
        "{\"events\":[{\"type\":\"watch\",\"video_id\":\"" VID "\",\"watched_ms\":1234,"
        "\"at\":\"2026-01-02T03:04:05Z\"},{\"type\":\"play\",\"video_id\":\"" VID "\"}]}",
        "{ \"events\" : [ { \"type\" : \"skip\" , \"video_id\" : \"" VID "\" , \"watched_ms\" : "
        "9 } ] }",
    };
    struct events_parse_item a[16], b[16];
    char buf[512];
    unsigned long long rng = 88172645463325252ULL;
    size_t accepted = 0, checked = 0;
    for (size_t s = 0; s < sizeof seeds / sizeof seeds[0]; s++) {
        for (int round = 0; round < 20000; round++) {
            size_t len = strlen(seeds[s]);
            memcpy(buf, seeds[s], len);
            int edits = 1 + (int)(rng % 3);
            for (int k = 0; k < edits && len > 1; k++) {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                size_t at = rng % len;
                static const char alphabet[] = "{}[],:\" 0123456789.-e\\nultraskipwatch";
                switch ((rng >> 32) % 3) {
                case 0: buf[at] = alphabet[(rng >> 40) % (sizeof alphabet - 1)]; break;
                case 1:
                    memmove(buf + at, buf + at + 1, len - at - 1);
                    len--;
                    break;
                default:
                    if (len + 1 < sizeof buf) {
                        memmove(buf + at + 1, buf + at, len - at);
                        buf[at] = alphabet[(rng >> 40) % (sizeof alphabet - 1)];
                        len++;
                    }
                }
            }
            size_t na = 0, nb = 0;
            bool fast_ok = api_events_parse_fast(buf, len, a, 16, &na) == EVENTS_PARSE_OK;
            bool ref_ok = reference(buf, len, b, 16, &nb);
            checked++;
            if (!fast_ok)
                continue;
            accepted++;
            cr_assert(ref_ok, "fast path accepted what the full path refuses: %.*s", (int)len, buf);
            cr_assert_eq(na, nb);
            for (size_t i = 0; i < na; i++) {
                cr_assert_eq(a[i].type, b[i].type);
                cr_assert_eq(a[i].video_id, b[i].video_id);
                cr_assert_eq(a[i].watched_ms, b[i].watched_ms);
                cr_assert_eq(a[i].has_at, b[i].has_at);
                if (a[i].has_at)
                    cr_assert_eq(a[i].at_ms, b[i].at_ms);
            }
        }
    }
    cr_assert_gt(accepted, 100, "the mutations should keep some bodies valid (%zu/%zu)", accepted,
                 checked);
}
