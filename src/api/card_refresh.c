/*
 * card_refresh.c — renews the cards in use before they expire, off the
 * request path.
 *
 * A card expires CACHE_TTL_MS after it was rendered (the bound on how stale
 * another process's writes can leave it, card_cache.c). Without renewal
 * every card in use is read again by the first page that finds it expired:
 * a store read transaction on the request path (tens of microseconds of
 * CPU), and, as the cards of a busy catalogue are rendered together at
 * start, in waves every CACHE_TTL_MS. Here a thread wakes every
 * CARD_RENEW_EVERY_MS, asks the cache for the cards copied since they were
 * rendered and older than CACHE_TTL_MS - CARD_RENEW_AHEAD_MS, and reads them
 * again API_LIST_MAX at a time (a read transaction per batch and store). A
 * card renewed this way was read within the TTL like any other, so what a
 * viewer sees is as fresh as before; only who pays for the read changed.
 * If the thread falls behind, pages read expired cards themselves, as
 * before.
 */
#include "api/api.h"

#include "api/app.h"
#include "api/cache_sets.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/ticker.h"

#include <stdio.h>

#define CARD_RENEW_EVERY_MS 1000
#define CARD_RENEW_AHEAD_MS 2000 /* > CARD_RENEW_EVERY_MS: a card due is renewed in time */
#define CARD_RENEW_BATCH 4096    /* ids asked for at a time */

_Static_assert(CARD_RENEW_AHEAD_MS > CARD_RENEW_EVERY_MS && CARD_RENEW_AHEAD_MS < CACHE_TTL_MS,
               "a card due at one wake-up is renewed before it expires");

struct card_refresher {
    struct app *app;
    struct ticker *ticker;
    uint64_t *ids;
};

static void renew_due(void *arg)
{
    struct card_refresher *r = arg;
    size_t n;
    do {
        n = api_card_cache_due(r->app->card_cache, clock_mono_ms(),
                               CACHE_TTL_MS - CARD_RENEW_AHEAD_MS, r->ids, CARD_RENEW_BATCH);
        if (n && api_cards_renew(r->app, r->ids, n) != STORE_OK)
            log_error("event=cards_renew_failed count=%zu", n); /* pages read them instead */
    } while (n == CARD_RENEW_BATCH);
}

struct card_refresher *api_card_refresher_start(struct app *app, char *err, size_t errlen)
{
    struct card_refresher *r = reel_calloc(1, sizeof *r);
    if (!r || !(r->ids = reel_malloc(CARD_RENEW_BATCH * sizeof *r->ids))) {
        reel_free(r);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->app = app;
    if (!(r->ticker = ticker_start(renew_due, r, CARD_RENEW_EVERY_MS, false))) {
        reel_free(r->ids);
        reel_free(r);
        snprintf(err, errlen, "could not start the card refresher");
        return NULL;
    }
    return r;
}

void api_card_refresher_stop(struct card_refresher *r)
{
    if (!r)
        return;
    ticker_stop(r->ticker);
    reel_free(r->ids);
    reel_free(r);
}
