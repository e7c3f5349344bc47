/*
 * Region resolution and the residency policy enforced at start-up.
 */
#include "core/config.h"
#include "core/id.h"
#include "region/region.h"

#include <criterion/criterion.h>
#include <string.h>

static char err[CONFIG_ERR_MAX];
static struct config cfg;
static struct region_map map;

static void load_default(void)
{
    config_init(&cfg);
    cr_assert_eq(config_load_string(&cfg, config_default_text, "default", err, sizeof err), 0, "%s",
                 err);
    cr_assert_eq(region_map_init(&map, &cfg, err, sizeof err), 0, "%s", err);
}

Test(region, countries_resolve_to_regions, .init = load_default)
{
    const char *eu[] = {"DE", "FR", "IE", "NO", "IS", "LI", "de", "se", NULL};
    for (int i = 0; eu[i]; i++)
        cr_assert_str_eq(region_for_country(&map, eu[i])->name, "eu", "%s", eu[i]);
    cr_assert_str_eq(region_for_country(&map, "US")->name, "us");
    cr_assert_str_eq(region_for_country(&map, "PR")->name, "us");
    const char *intl[] = {"CH", "GB", "JP", "BR", "SG", NULL};
    for (int i = 0; intl[i]; i++)
        cr_assert_str_eq(region_for_country(&map, intl[i])->name, "intl", "%s", intl[i]);
    cr_assert_null(region_for_country(&map, "XX"));
    cr_assert_null(region_for_country(&map, "DEU"));
    cr_assert_null(region_for_country(&map, ""));
}

Test(region, every_country_has_exactly_one_region, .init = load_default)
{
    for (int c = 0; c < COUNTRY_COUNT; c++)
        cr_assert_not_null(region_for_country(&map, country_code(c)), "%s", country_code(c));
}

Test(region, ids_route_to_their_region, .init = load_default)
{
    const struct region *eu = region_by_name(&map, "eu");
    const struct region *us = region_by_name(&map, "us");
    cr_assert_eq(region_for_id(&map, id_next(eu->id)), eu);
    cr_assert_eq(region_for_id(&map, id_next(us->id)), us);
    cr_assert_null(region_for_id(&map, id_make(40, 1767225600000ULL, 0, 0)));
}

Test(region, primary_site_directory, .init = load_default)
{
    const struct region *eu = region_by_name(&map, "eu");
    cr_assert_str_eq(eu->primary->name, "eu-ie");
    cr_assert_str_eq(eu->primary_dir, "./data/sites/eu-ie");
    cr_assert_eq(eu->replica_count, 1);
    cr_assert_str_eq(eu->replicas[0]->name, "eu-no");
}

static int build(const char *text)
{
    config_init(&cfg);
    if (config_load_string(&cfg, text, "t.ini", err, sizeof err) < 0)
        return -2;
    return region_map_init(&map, &cfg, err, sizeof err);
}

Test(region, replica_outside_allowed_countries_is_refused)
{
    int rc = build("[site eu-ie]\ncountry = IE\n[site eu-us]\ncountry = US\n"
                   "[site us-va]\ncountry = US\n"
                   "[region eu]\nid = 1\ncountries = IE DE\nstorage_countries = IE NO\n"
                   "primary = eu-ie\nreplicas = eu-us\n"
                   "[region us]\nid = 2\ncountries = *\nstorage_countries = US\nprimary = us-va\n");
    cr_assert_eq(rc, -1, "%s", err);
    cr_assert(strstr(err, "region eu"), "%s", err);
    cr_assert(strstr(err, "site eu-us"), "%s", err);
    cr_assert(strstr(err, "IE NO"), "%s", err);
}

Test(region, primary_outside_allowed_countries_is_refused)
{
    int rc = build("[site x]\ncountry = CN\n"
                   "[region eu]\nid = 1\ncountries = *\nstorage_countries = IE\nprimary = x\n");
    cr_assert_eq(rc, -1);
    cr_assert(strstr(err, "region eu would store its data in primary site x, which is in CN"), "%s",
              err);
}

Test(region, explicit_site_path)
{
    int rc = build("[site a]\ncountry = IE\npath = /srv/reel/a\n"
                   "[region eu]\nid = 7\ncountries = *\nstorage_countries = IE\nprimary = a\n");
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert_str_eq(map.regions[0].primary_dir, "/srv/reel/a");
    cr_assert_eq(region_for_id(&map, id_next(7)), &map.regions[0]);
}
