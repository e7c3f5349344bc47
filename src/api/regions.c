/*
 * regions.c — GET /api/v1/regions: the deployment's regions, the countries
 * each serves and the sites (with their countries) where its data is kept.
 * Public: the sign-up screen shows, before an account exists, where the
 * user's data will live and why.
 */
#include "api/api.h"

static void get_regions(struct http_request *req)
{
    struct app *app = api_app(req);
    struct api_reply r;
    api_reply_begin(&r, 64 * 1024);
    jsonw_object_begin(&r.w);
    jsonw_key(&r.w, "items");
    jsonw_array_begin(&r.w);
    for (int i = 0; i < app->regions.count; i++) {
        const struct region *region = &app->regions.regions[i];
        const struct config_region *rc = region->cfg;
        jsonw_object_begin(&r.w);
        jsonw_kv_string(&r.w, "name", region->name);
        jsonw_kv_bool(&r.w, "catch_all", rc->catch_all);
        jsonw_key(&r.w, "countries");
        jsonw_array_begin(&r.w);
        for (int c = 0; c < COUNTRY_COUNT; c++)
            if (app->regions.by_country[c] == i)
                jsonw_string(&r.w, country_code(c));
        jsonw_array_end(&r.w);
        jsonw_key(&r.w, "storage_countries");
        jsonw_array_begin(&r.w);
        for (int c = 0; c < COUNTRY_COUNT; c++)
            if (rc->storage[c])
                jsonw_string(&r.w, country_code(c));
        jsonw_array_end(&r.w);
        jsonw_key(&r.w, "sites");
        jsonw_array_begin(&r.w);
        for (int k = -1; k < region->replica_count; k++) {
            const struct config_site *site = k < 0 ? region->primary : region->replicas[k];
            jsonw_object_begin(&r.w);
            jsonw_kv_string(&r.w, "name", site->name);
            jsonw_kv_string(&r.w, "country", site->country);
            jsonw_kv_string(&r.w, "role", k < 0 ? "primary" : "replica");
            jsonw_object_end(&r.w);
        }
        jsonw_array_end(&r.w);
        jsonw_kv_bool(&r.w, "served_here", app->serves[i]);
        jsonw_object_end(&r.w);
    }
    jsonw_array_end(&r.w);
    jsonw_object_end(&r.w);
    api_reply_end(req, 200, &r);
}

int api_regions_register(struct http_router *router)
{
    struct http_route r = {.method = HTTP_GET, .pattern = "/api/v1/regions", .handler = get_regions};
    return http_router_add(router, &r);
}
