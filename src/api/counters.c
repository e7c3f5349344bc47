/*
 * counters.c — public counters whose record lives in another region.
 *
 * A like by an EU user on a US video is stored in the EU store (personal
 * data stays home); the like counter is the US video's, in the US store
 * (aggregates cross regions). The EU transaction queues the +1 in the EU
 * store's outbox (store.h); this file applies it to the US store at once —
 * so the counter is right as soon as the request returns — and clears the
 * outbox entry. If the process dies in between, the entry is still in the
 * outbox and api_counters_drain applies it at the next start; applying is
 * idempotent per delta id, so a delta applied just before the crash is not
 * counted twice.
 */
#include "api/api.h"

#include "core/id.h"
#include "core/log.h"

struct store_counter_route api_counter_route(struct app *app, struct store *actor_store,
                                             uint64_t target_id)
{
    struct store_counter_route route = {0};
    struct store *target = app_store_for_id(app, target_id);
    route.target_here = target == actor_store;
    if (!route.target_here) {
        /* The outbox id is an id of the actor store's region: unique there. */
        for (int i = 0; i < app->regions.count; i++)
            if (app->stores[i] == actor_store)
                route.outbox_id = id_next(app->regions.regions[i].id);
    }
    return route;
}

void api_counter_propagate(struct app *app, struct store *actor_store, const struct store_delta *d)
{
    if (!d->id)
        return;
    struct store *target = app_store_for_id(app, d->target_id);
    char id[ID_STR_MAX];
    if (!target) {
        /* The target's region is not served by this node: the delta waits
         * in the outbox for a node that can reach it (store/README.md). */
        log_debug("event=counter_delta_waiting delta=%s", id_format(d->id, id));
        return;
    }
    if (store_counter_apply(target, d) != STORE_OK) {
        log_warn("event=counter_apply_failed delta=%s (left in the outbox)", id_format(d->id, id));
        return;
    }
    if (store_outbox_done(actor_store, d->id) != STORE_OK)
        log_warn("event=outbox_clear_failed delta=%s (will be re-applied as a no-op)",
                 id_format(d->id, id));
}

int api_counters_drain(struct app *app)
{
    struct store_delta batch[256];
    size_t applied = 0;
    for (int i = 0; i < app->regions.count; i++) {
        struct store *store = app->stores[i];
        while (store) {
            size_t n = 0;
            if (store_outbox_pending(store, batch, 256, &n) != STORE_OK)
                return -1;
            if (n == 0)
                break;
            size_t done = 0;
            for (size_t k = 0; k < n; k++) {
                struct store *target = app_store_for_id(app, batch[k].target_id);
                if (!target)
                    continue; /* not served here: stays for a node that is */
                if (store_counter_apply(target, &batch[k]) != STORE_OK ||
                    store_outbox_done(store, batch[k].id) != STORE_OK)
                    return -1;
                done++;
            }
            applied += done;
            if (done == 0)
                break; /* what is left waits for another node */
        }
    }
    if (applied)
        log_info("event=counter_outbox_drained deltas=%zu", applied);
    return 0;
}
