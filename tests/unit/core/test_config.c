/*
 * Config parsing: the default file, every kind of bad file, and the rules
 * that link sections (sites, regions, countries).
 */
#include "core/config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char err[CONFIG_ERR_MAX];

static int load(struct config *cfg, const char *text)
{
    config_init(cfg);
    return config_load_string(cfg, text, "test.ini", err, sizeof err);
}

/* A minimal valid config; tests append or substitute pieces. */
#define SITES "[site a]\ncountry = IE\n[site b]\ncountry = US\n"
#define REGIONS                                                                                    \
    "[region eu]\nid = 1\ncountries = IE FR\nstorage_countries = IE\nprimary = a\n"               \
    "[region rest]\nid = 2\ncountries = *\nstorage_countries = US\nprimary = b\n"

Test(config, builtin_default_loads)
{
    struct config cfg;
    cr_assert_eq(load(&cfg, config_default_text), 0, "%s", err);
    cr_assert_str_eq(cfg.listen_host, "127.0.0.1");
    cr_assert_eq(cfg.listen_port, 8080);
    cr_assert_eq(cfg.region_count, 3);
    const struct config_region *eu = config_region_find(&cfg, "eu");
    cr_assert_not_null(eu);
    cr_assert_str_eq(eu->primary, "eu-ie");
    cr_assert_eq(eu->replica_count, 1);
    cr_assert_str_eq(eu->replicas[0], "eu-no");
    cr_assert(eu->serves[country_index("DE")]);
    cr_assert(eu->serves[country_index("NO")]); /* continuation line */
    cr_assert_not(eu->serves[country_index("US")]);
    const struct config_region *us = config_region_find(&cfg, "us");
    cr_assert_str_eq(us->primary, "us-va");
    cr_assert_str_eq(us->replicas[0], "sg");
    cr_assert(config_region_find(&cfg, "intl")->catch_all);
    cr_assert_str_eq(config_site_find(&cfg, "eu-no")->country, "NO");
}

Test(config, repository_file_matches_builtin)
{
    const char *root = getenv("REEL_SOURCE_ROOT");
    cr_assert_not_null(root);
    char path[1024];
    snprintf(path, sizeof path, "%s/config/reel.ini", root);
    struct config from_file, builtin;
    config_init(&from_file);
    cr_assert_eq(config_load_file(&from_file, path, err, sizeof err), 0, "%s", err);
    cr_assert_eq(load(&builtin, config_default_text), 0);
    cr_assert_eq(memcmp(&from_file.regions, &builtin.regions, sizeof builtin.regions), 0);
}

Test(config, values_with_units)
{
    struct config cfg;
    cr_assert_eq(load(&cfg, "[limits]\nmax_body_bytes = 2m\nconnection_timeout = 2m\n"
                            "[security]\nsession_ttl = 7d\nargon2_mem = 8k\n"
                            "[log]\nrequests = off\nlevel = warn\n"
                            "[server]\nlisten = [::1]:9000\n" SITES REGIONS),
                 0, "%s", err);
    cr_assert_eq(cfg.max_body_bytes, 2u << 20);
    cr_assert_eq(cfg.connection_timeout_s, 120);
    cr_assert_eq(cfg.session_ttl_s, 7 * 86400);
    cr_assert_eq(cfg.argon2_mem_bytes, 8192);
    cr_assert_eq(cfg.log_requests, false);
    cr_assert_eq(cfg.log_level, LOG_WARN);
    cr_assert_str_eq(cfg.listen_host, "::1");
    cr_assert_eq(cfg.listen_port, 9000);
}

struct bad_case {
    const char *text;
    const char *expect; /* substring of the error */
};

Test(config, bad_files_name_the_problem)
{
    static const struct bad_case cases[] = {
        {"[server]\nlisten = 127.0.0.1:70000\n" SITES REGIONS, "test.ini:2: [server] listen"},
        {"[server]\nlisten = 127.0.0.1:http\n" SITES REGIONS, "[server] listen"},
        {"[server]\nlisten = nohost\n" SITES REGIONS, "[server] listen"},
        {"[server]\nlisten = :80\n" SITES REGIONS, "[server] listen"},
        {"[server]\nthreads = lots\n" SITES REGIONS, "test.ini:2: [server] threads: 'lots' is not a number"},
        {"[server]\nthreads = -1\n" SITES REGIONS, "is not a number"},
        {"[server]\nthreads = 100000\n" SITES REGIONS, "out of range"},
        {"[server]\ncolour = blue\n" SITES REGIONS, "test.ini:2: [server]: unknown key 'colour'"},
        {"[sever]\nlisten = 1.2.3.4:5\n" SITES REGIONS, "unknown section [sever]"},
        {"listen = 1.2.3.4:5\n" SITES REGIONS, "outside any section"},
        {"[server]\nlisten = 1.2.3.4:5\nlisten = 1.2.3.4:6\n" SITES REGIONS, "set twice"},
        {"[log]\nrequests = maybe\n" SITES REGIONS, "not a boolean"},
        {"[log]\nlevel = loud\n" SITES REGIONS, "not one of"},
        {"[limits]\nmax_body_bytes = 10x\n" SITES REGIONS, "not a size"},
        {"[security]\nsession_ttl = 1w\n" SITES REGIONS, "not a duration"},
        {"[server\nlisten = 1.2.3.4:5\n" SITES REGIONS, "test.ini:1: syntax error"},
        {"[server]\nthis is not a key value pair\n" SITES REGIONS, "test.ini:2: syntax error"},
        {SITES "[site a]\ncountry = IE\n" REGIONS, "site declared twice"},
        {"[site x]\ncountry = ZZ\n" SITES REGIONS, "'ZZ' is not an ISO 3166-1"},
        {"[site x]\n" "colour = red\n" SITES REGIONS, "[site x]: unknown key 'colour'"},
        {"[site Bad!]\ncountry = IE\n" SITES REGIONS, "site names use"},
        {"[site x]\npath = /tmp/x\n" SITES REGIONS, "site x (line 2): no country"},
        {SITES "[region eu]\nid = 1\ncountries = IE XX\nstorage_countries = IE\nprimary = a\n",
         "'XX' is not an ISO 3166-1"},
        {SITES "[region eu]\nid = 64\ncountries = *\nstorage_countries = IE\nprimary = a\n",
         "not a region id"},
        {SITES "[region eu]\ncountries = *\nstorage_countries = IE\nprimary = a\n", "no id"},
        {SITES "[region eu]\nid = 1\ncountries = *\nstorage_countries = IE\n", "no primary site"},
        {SITES "[region eu]\nid = 1\ncountries = *\nstorage_countries = IE\nprimary = nowhere\n",
         "primary site nowhere is not declared"},
        {SITES "[region eu]\nid = 1\ncountries = *\nstorage_countries = IE\nprimary = a\n"
               "replicas = ghost\n",
         "replica site ghost is not declared"},
        {SITES "[region eu]\nid = 1\ncountries = *\nprimary = a\n", "no storage_countries"},
        {SITES "[region eu]\nid = 1\ncountries = IE\nstorage_countries = IE\nprimary = a\n",
         "country AD is served by no region"},
        {SITES "[region eu]\nid = 1\ncountries = IE\nstorage_countries = IE\nprimary = a\n"
               "[region us]\nid = 2\ncountries = IE *\nstorage_countries = US\nprimary = b\n",
         "country IE is served by both regions eu and us"},
        {SITES "[region eu]\nid = 1\ncountries = IE\nstorage_countries = IE\nprimary = a\n"
               "[region us]\nid = 1\ncountries = *\nstorage_countries = US\nprimary = b\n",
         "same id 1"},
        {SITES "[region eu]\nid = 1\ncountries = IE\nstorage_countries = IE US\nprimary = a\n"
               "[region us]\nid = 2\ncountries = *\nstorage_countries = US IE\nprimary = b\n"
               "replicas = a\n",
         "site a is used by regions eu and us"},
        {SITES "[region eu]\nid = 1\nid = 2\ncountries = *\nstorage_countries = IE\nprimary = a\n",
         "[region eu] id is set twice"},
        {SITES "[region eu]\nid = 1\ncountries = *\nstorage_countries = IE\nprimary = a\n"
               "colour = red\n",
         "[region eu]: unknown key 'colour'"},
        {"", "no [region NAME] section"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct config cfg;
        cr_assert_eq(load(&cfg, cases[i].text), -1, "case %zu accepted", i);
        cr_assert(strstr(err, cases[i].expect), "case %zu: error '%s' does not mention '%s'", i,
                  err, cases[i].expect);
    }
}

Test(config, overlong_line_is_an_error_not_a_split)
{
    char text[2048];
    char countries[600] = "";
    for (int i = 0; i < 100; i++)
        strcat(countries, "IE ");
    snprintf(text, sizeof text, SITES "[region eu]\nid = 1\ncountries = %s\nstorage_countries = IE\n"
                                      "primary = a\n[region r]\nid = 2\ncountries = *\n"
                                      "storage_countries = US\nprimary = b\n",
             countries);
    struct config cfg;
    cr_assert_eq(load(&cfg, text), -1);
    cr_assert(strstr(err, "test.ini:7: line longer than"), "%s", err);
}

Test(config, missing_file)
{
    struct config cfg;
    config_init(&cfg);
    cr_assert_eq(config_load_file(&cfg, "/nonexistent/reel.ini", err, sizeof err), -1);
    cr_assert(strstr(err, "/nonexistent/reel.ini"), "%s", err);
}

Test(config, file_with_nul_byte_is_refused)
{
    char path[] = "/tmp/reel-config-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    const char text[] = "[server]\nthreads = 1\0\n";
    cr_assert_eq(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
    close(fd);
    struct config cfg;
    config_init(&cfg);
    cr_assert_eq(config_load_file(&cfg, path, err, sizeof err), -1);
    cr_assert(strstr(err, "NUL"), "%s", err);
    unlink(path);
}
