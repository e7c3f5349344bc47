/*
 * region.h — regions, sites and residency policy.
 *
 * A region is a jurisdiction's deployment unit; a site is a place where data
 * is stored, in one country. The region map is built once from the config and
 * is read-only afterwards (no locks): it answers "which region serves
 * residents of country C", "which region holds id X" (from the id's region
 * bits) and "where on disk is region R's primary site".
 *
 * Residency invariant, enforced by region_map_init and therefore at every
 * start: every site that holds a region's data (its primary and replicas) is
 * in one of the region's storage countries. A config that breaks it is
 * refused with a message naming the region and the site.
 */
#ifndef REEL_REGION_REGION_H
#define REEL_REGION_REGION_H

#include "core/config.h"

#include <stdint.h>

struct region {
    const struct config_region *cfg;
    const char *name;
    unsigned id;                          /* region bits of its ids */
    const struct config_site *primary;
    const struct config_site *replicas[CONFIG_MAX_REPLICAS];
    int replica_count;
    char primary_dir[CONFIG_PATH_MAX];    /* directory of the primary site */
    int index;                            /* position in the map */
};

struct region_map {
    struct region regions[CONFIG_MAX_REGIONS];
    int count;
    signed char by_country[COUNTRY_COUNT]; /* region index per country */
    signed char by_id[64];                 /* region index per id bits, -1 = none */
};

/* Builds the map from a checked config (config_check passed) and enforces the
 * residency invariant. data_dir is the directory for sites without a path.
 * Returns 0, or -1 with a message in err. The map points into cfg, which
 * must outlive it. */
int region_map_init(struct region_map *map, const struct config *cfg, char *err, size_t errlen);

/* The region serving residents of an ISO alpha-2 country code; NULL if the
 * code is not a country. */
const struct region *region_for_country(const struct region_map *map, const char *country);
/* The region an id belongs to; NULL if its region bits name no region here. */
const struct region *region_for_id(const struct region_map *map, uint64_t id);
const struct region *region_by_name(const struct region_map *map, const char *name);

/* Promotion (`reel site promote`): the decision that a replica site now
 * holds a region's primary copy is recorded in <data_dir>/promoted/<region>
 * (the site's name). region_map_apply_promotions makes the recorded site the
 * region's primary and the former primary one of its replicas; it is called
 * after region_map_init, so the residency check has already covered both.
 * Returns 0, or -1 with err (a record naming a site that is not one of the
 * region's sites). */
int region_map_apply_promotions(struct region_map *map, const struct config *cfg, char *err,
                                size_t errlen);
/* Records that `site` (a replica of region r) becomes its primary: written to
 * a temporary file, fsynced and renamed. Returns 0 or -1 with err. */
int region_promotion_record(const struct config *cfg, const struct region *r, const char *site,
                            char *err, size_t errlen);
/* The region's data key file: its key_file or <data_dir>/custody/<name>.key. */
int region_key_path(const struct config *cfg, const struct region *r, char *out);

/* Directory of a site: its configured path or <data_dir>/sites/<name>.
 * Writes into out (CONFIG_PATH_MAX bytes); returns 0 or -1 if too long. */
int region_site_dir(const struct config *cfg, const struct config_site *site, char *out);

/* Creates a directory and its missing parents with the given mode (0700 for
 * anything holding personal data or keys). Returns 0 or -1 with errno. */
int region_mkdirs(const char *path, unsigned mode);
/* fsyncs the directory holding path, so a file created there survives a
 * crash. Returns 0 or -1 with errno. */
int region_fsync_parent(const char *path);

#endif
