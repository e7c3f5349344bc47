/*
 * region.c — see region.h.
 */
#include "region/region.h"

#include "core/id.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int region_site_dir(const struct config *cfg, const struct config_site *site, char *out)
{
    int n = site->path[0] ? snprintf(out, CONFIG_PATH_MAX, "%s", site->path)
                          : snprintf(out, CONFIG_PATH_MAX, "%s/sites/%s", cfg->data_dir, site->name);
    return n < 0 || n >= CONFIG_PATH_MAX ? -1 : 0;
}

int region_mkdirs(const char *path, unsigned mode)
{
    char tmp[CONFIG_PATH_MAX];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(tmp, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (tmp[i] != '/' && tmp[i] != '\0')
            continue;
        char saved = tmp[i];
        tmp[i] = '\0';
        if (mkdir(tmp, (mode_t)mode) < 0 && errno != EEXIST)
            return -1;
        tmp[i] = saved;
    }
    return 0;
}

int region_fsync_parent(const char *path)
{
    char dir[CONFIG_PATH_MAX];
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 0;
    if (n >= sizeof dir) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (n == 0)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)n, path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Lists a region's storage countries ("IE NO") for messages. */
static void storage_list(const struct config_region *r, char *out, size_t size)
{
    size_t o = 0;
    out[0] = '\0';
    for (int c = 0; c < COUNTRY_COUNT && o + 4 < size; c++) {
        if (!r->storage[c])
            continue;
        int n = snprintf(out + o, size - o, "%s%s", o ? " " : "", country_code(c));
        if (n < 0)
            break;
        o += (size_t)n;
    }
}

static int check_site(const struct config_region *r, const struct config_site *site,
                      const char *role, char *err, size_t errlen)
{
    int c = country_index(site->country);
    if (c >= 0 && r->storage[c])
        return 0;
    char allowed[256];
    storage_list(r, allowed, sizeof allowed);
    snprintf(err, errlen,
             "residency: region %s would store its data in %s site %s, which is in %s; "
             "region %s's data may only be stored in: %s",
             r->name, role, site->name, site->country, r->name, allowed);
    return -1;
}

int region_map_init(struct region_map *map, const struct config *cfg, char *err, size_t errlen)
{
    memset(map, 0, sizeof *map);
    memset(map->by_id, -1, sizeof map->by_id);
    memset(map->by_country, -1, sizeof map->by_country);
    int catch_all = -1;

    for (int i = 0; i < cfg->region_count; i++) {
        const struct config_region *rc = &cfg->regions[i];
        struct region *r = &map->regions[i];
        r->cfg = rc;
        r->name = rc->name;
        r->id = rc->id;
        r->index = i;
        r->primary = config_site_find(cfg, rc->primary);
        if (!r->primary) {
            snprintf(err, errlen, "region %s: primary site %s is not declared", rc->name,
                     rc->primary);
            return -1;
        }
        if (check_site(rc, r->primary, "primary", err, errlen) < 0)
            return -1;
        for (int k = 0; k < rc->replica_count; k++) {
            r->replicas[k] = config_site_find(cfg, rc->replicas[k]);
            if (!r->replicas[k]) {
                snprintf(err, errlen, "region %s: replica site %s is not declared", rc->name,
                         rc->replicas[k]);
                return -1;
            }
            if (check_site(rc, r->replicas[k], "replica", err, errlen) < 0)
                return -1;
        }
        r->replica_count = rc->replica_count;
        if (region_site_dir(cfg, r->primary, r->primary_dir) < 0) {
            snprintf(err, errlen, "site %s: directory path too long", r->primary->name);
            return -1;
        }
        map->by_id[rc->id] = (signed char)i;
        for (int c = 0; c < COUNTRY_COUNT; c++)
            if (rc->serves[c])
                map->by_country[c] = (signed char)i;
        if (rc->catch_all)
            catch_all = i;
    }
    map->count = cfg->region_count;
    for (int c = 0; c < COUNTRY_COUNT; c++) {
        if (map->by_country[c] >= 0)
            continue;
        if (catch_all < 0) {
            snprintf(err, errlen, "country %s is served by no region", country_code(c));
            return -1;
        }
        map->by_country[c] = (signed char)catch_all;
    }
    return 0;
}

const struct region *region_for_country(const struct region_map *map, const char *country)
{
    int c = country_index(country);
    if (c < 0 || map->by_country[c] < 0)
        return NULL;
    return &map->regions[(int)map->by_country[c]];
}

const struct region *region_for_id(const struct region_map *map, uint64_t id)
{
    unsigned bits = id_region(id);
    if (map->by_id[bits] < 0)
        return NULL;
    return &map->regions[(int)map->by_id[bits]];
}

const struct region *region_by_name(const struct region_map *map, const char *name)
{
    for (int i = 0; i < map->count; i++)
        if (strcmp(map->regions[i].name, name) == 0)
            return &map->regions[i];
    return NULL;
}

int region_key_path(const struct config *cfg, const struct region *r, char *out)
{
    int n = r->cfg->key_file[0]
                ? snprintf(out, CONFIG_PATH_MAX, "%s", r->cfg->key_file)
                : snprintf(out, CONFIG_PATH_MAX, "%s/custody/%s.key", cfg->data_dir, r->name);
    return n < 0 || n >= CONFIG_PATH_MAX ? -1 : 0;
}

static int promotion_path(const struct config *cfg, const char *region, char *out, size_t size)
{
    int n = snprintf(out, size, "%s/promoted/%s", cfg->data_dir, region);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

int region_map_apply_promotions(struct region_map *map, const struct config *cfg, char *err,
                                size_t errlen)
{
    for (int i = 0; i < map->count; i++) {
        struct region *r = &map->regions[i];
        char path[CONFIG_PATH_MAX + 32];
        if (promotion_path(cfg, r->name, path, sizeof path) < 0)
            continue;
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        char site[CONFIG_NAME_MAX + 2] = "";
        char *line = fgets(site, sizeof site, f);
        fclose(f);
        if (line)
            site[strcspn(site, "\n")] = '\0';
        if (strcmp(site, r->primary->name) == 0)
            continue;
        int k = -1;
        for (int j = 0; j < r->replica_count; j++)
            if (strcmp(r->replicas[j]->name, site) == 0)
                k = j;
        if (k < 0) {
            snprintf(err, errlen, "%s names site '%s', which is not a replica of region %s", path,
                     site, r->name);
            return -1;
        }
        const struct config_site *old = r->primary;
        r->primary = r->replicas[k];
        r->replicas[k] = old;
        if (region_site_dir(cfg, r->primary, r->primary_dir) < 0) {
            snprintf(err, errlen, "site %s: directory path too long", r->primary->name);
            return -1;
        }
    }
    return 0;
}

int region_promotion_record(const struct config *cfg, const struct region *r, const char *site,
                            char *err, size_t errlen)
{
    char dir[CONFIG_PATH_MAX + 16], path[CONFIG_PATH_MAX + 32], tmp[CONFIG_PATH_MAX + 48];
    snprintf(dir, sizeof dir, "%s/promoted", cfg->data_dir);
    if (promotion_path(cfg, r->name, path, sizeof path) < 0) {
        snprintf(err, errlen, "path too long");
        return -1;
    }
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        return -1;
    }
    char line[CONFIG_NAME_MAX + 2];
    int n = snprintf(line, sizeof line, "%s\n", site);
    int ok = write(fd, line, (size_t)n) == n && fsync(fd) == 0;
    close(fd);
    if (!ok || rename(tmp, path) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}
