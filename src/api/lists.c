/*
 * lists.c — pagination shared by every list route: ?limit= and ?cursor=,
 * the {"items", "next_cursor"} answer, and gathering a list from every
 * region's store.
 *
 * Gathering: a list of public things stored where their authors live (the
 * comments on a video, the followers of a user) is the union of one
 * keyset-paginated query per region store. Each store is asked for
 * limit + 1 items past its own bound for the cursor (social/cursor.h), the
 * answers are merged in (ms, id) order and cut at limit; the last item kept
 * becomes the next cursor. Every store answers from the same global
 * position, so no item is repeated or skipped between pages, whatever the
 * regions' relative volumes. A node that serves only some regions
 * ([server] regions) merges only those; asking the other regions' nodes is
 * future work (store/README.md).
 */
#include "api/api.h"

#include "core/alloc.h"
#include "core/parse.h"

#include <stdlib.h>
#include <string.h>

bool api_page_params(struct http_request *req, enum cursor_kind kind, struct api_page *page)
{
    page->limit = API_LIST_DEFAULT;
    page->cursor = 0;
    const char *limit = http_request_query(req, "limit");
    const char *cursor = http_request_query(req, "cursor");
    json_t *errors = NULL;
    unsigned long long v;
    if (limit) {
        if (parse_ull(limit, &v) < 0 || v < 1 || v > API_LIST_MAX)
            http_errors_add(&errors, "limit", "must be a whole number from 1 to 100");
        else
            page->limit = (size_t)v;
    }
    if (cursor && cursor[0] && cursor_decode(cursor, kind, &page->cursor) < 0)
        http_errors_add(&errors, "cursor", "is not a cursor of this list (pass next_cursor back)");
    if (!errors)
        return true;
    http_problem(req, 400, "validation-error", "Invalid request",
                 "a query parameter is malformed; see errors", errors);
    return false;
}

static int by_key_desc(const void *a, const void *b)
{
    const struct api_item *x = a, *y = b;
    return cursor_order(y->key, x->key);
}

static int by_key_asc(const void *a, const void *b)
{
    const struct api_item *x = a, *y = b;
    return cursor_order(x->key, y->key);
}

int api_gather(struct app *app, const struct api_page *page, bool newest_first,
               api_region_list_fn fn, void *arg, struct api_item *out, size_t *n, bool *more)
{
    size_t per = page->limit + 1;
    size_t regions = (size_t)app->regions.count;
    struct api_item *all = reel_calloc(regions * per, sizeof *all);
    *n = 0;
    *more = false;
    if (!all)
        return STORE_ERROR;
    size_t total = 0;
    for (size_t i = 0; i < regions; i++) {
        const struct region *r = &app->regions.regions[i];
        if (!app->stores[i])
            continue; /* not served by this node: see store/README.md */
        uint64_t bound = newest_first ? cursor_before_bound(page->cursor, r->id)
                                      : cursor_after_bound(page->cursor, r->id);
        size_t got = 0;
        int rc = fn(app->stores[i], r, bound, per, all + total, &got, arg);
        if (rc != STORE_OK) {
            reel_free(all);
            return rc;
        }
        total += got < per ? got : per;
    }
    qsort(all, total, sizeof *all, newest_first ? by_key_desc : by_key_asc);
    *more = total > page->limit;
    *n = *more ? page->limit : total;
    memcpy(out, all, *n * sizeof *out);
    reel_free(all);
    return STORE_OK;
}
