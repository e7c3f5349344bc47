/*
 * app.c — see app.h.
 */
#include "api/app.h"

#include "core/clock.h"
#include "core/id.h"

#include <stdio.h>
#include <string.h>

int app_open(struct app *app, const struct config *cfg, int connections, char *err,
             size_t errlen)
{
    memset(app, 0, sizeof *app);
    app->cfg = *cfg;
    app->started_ms = clock_now_ms();
    if (id_set_node(app->cfg.node) < 0) {
        snprintf(err, errlen, "node %u is out of range (0..%d)", app->cfg.node, ID_NODE_MAX);
        return -1;
    }
    if (region_map_init(&app->regions, &app->cfg, err, errlen) < 0)
        return -1;
    for (int i = 0; i < app->regions.count; i++) {
        const struct region *r = &app->regions.regions[i];
        if (store_open(&app->stores[i], STORE_KIND_REGION, r->primary_dir, connections, err,
                       errlen) != STORE_OK)
            goto fail;
    }
    char dir[CONFIG_PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/directory", app->cfg.data_dir);
    if (store_open(&app->directory, STORE_KIND_DIRECTORY, dir, connections, err, errlen) !=
        STORE_OK)
        goto fail;
    return 0;
fail:
    app_close(app);
    return -1;
}

void app_close(struct app *app)
{
    for (int i = 0; i < CONFIG_MAX_REGIONS; i++) {
        store_close(app->stores[i]);
        app->stores[i] = NULL;
    }
    store_close(app->directory);
    app->directory = NULL;
}

struct store *app_store_for_region(struct app *app, const struct region *region)
{
    return region ? app->stores[region->index] : NULL;
}

struct store *app_store_for_id(struct app *app, uint64_t id)
{
    return app_store_for_region(app, region_for_id(&app->regions, id));
}
