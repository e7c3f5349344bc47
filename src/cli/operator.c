/*
 * operator.c — `reel operator add`: create a staff account of one region
 * with a role (custodian, moderator, support). The password is read from
 * standard input (first line) so it never appears in a process list or a
 * shell history. Operators log in like any user; what they may do with other
 * people's data is decided by the custodian gateway (region/).
 */
#include "cli/cli.h"

#include "api/account.h"
#include "api/api.h"
#include "core/id.h"
#include "core/log.h"

#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: reel operator add --region R --role ROLE --username U [--email E]\n"
            "                         [--config FILE] [--data DIR]\n"
            "\n"
            "Creates an operator account of region R. ROLE is custodian, moderator or support.\n"
            "The password is read from standard input (one line, at least 8 characters).\n");
}

int cli_operator(int argc, char **argv)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'}, {"data", required_argument, NULL, 'd'},
        {"region", required_argument, NULL, 'r'}, {"role", required_argument, NULL, 'o'},
        {"username", required_argument, NULL, 'u'}, {"email", required_argument, NULL, 'e'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    struct cli_common common = {0};
    const char *region_name = NULL, *role_name = NULL, *username = NULL, *email = NULL;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "c:d:r:o:u:e:h", options, NULL)) != -1) {
        switch (opt) {
        case 'c': common.config_path = optarg; break;
        case 'd': common.data_dir = optarg; break;
        case 'r': region_name = optarg; break;
        case 'o': role_name = optarg; break;
        case 'u': username = optarg; break;
        case 'e': email = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (argc - optind != 1 || strcmp(argv[optind], "add") != 0 || !region_name || !role_name ||
        !username) {
        usage(stderr);
        return EXIT_USAGE;
    }
    enum store_role role = store_role_parse(role_name);
    if (role == STORE_ROLE_NONE) {
        fprintf(stderr, "reel: --role %s: expected custodian, moderator or support\n", role_name);
        return EXIT_USAGE;
    }
    const char *problem = api_username_problem(username);
    if (problem) {
        fprintf(stderr, "reel: --username: %s\n", problem);
        return 1;
    }
    char default_email[STORE_EMAIL_MAX];
    if (!email) {
        snprintf(default_email, sizeof default_email, "%s@operators.%s.invalid", username,
                 region_name);
        email = default_email;
    }
    if ((problem = api_email_problem(email))) {
        fprintf(stderr, "reel: --email: %s\n", problem);
        return 1;
    }
    char password[API_PASSWORD_MAX_BYTES + 2];
    if (!fgets(password, sizeof password, stdin)) {
        fprintf(stderr, "reel: no password on standard input\n");
        return 1;
    }
    password[strcspn(password, "\r\n")] = '\0';
    if (strlen(password) < API_PASSWORD_MIN) {
        fprintf(stderr, "reel: the password must be at least %d characters long\n",
                API_PASSWORD_MIN);
        sodium_memzero(password, sizeof password);
        return 1;
    }

    static struct config cfg;
    if (cli_load_config(&cfg, &common) < 0)
        return 1;
    log_set_level(LOG_WARN);
    static struct app app;
    char err[CONFIG_ERR_MAX];
    if (app_open(&app, &cfg, 1, err, sizeof err) < 0) {
        fprintf(stderr, "reel: %s\n", err);
        sodium_memzero(password, sizeof password);
        return 1;
    }
    int status = 1;
    const struct region *region = region_by_name(&app.regions, region_name);
    if (!region) {
        fprintf(stderr, "reel: --region: no region named '%s'\n", region_name);
        goto out;
    }
    struct account_new in = {.username = username, .password = password, .email = email,
                             .region = region, .country = region->primary->country};
    struct store_user user;
    switch (account_create(&app, &in, &user, NULL)) {
    case ACCOUNT_OK:
        break;
    case ACCOUNT_TAKEN:
        fprintf(stderr, "reel: the username %s is taken\n", username);
        goto out;
    default:
        fprintf(stderr, "reel: the account could not be created (see the log)\n");
        goto out;
    }
    if (store_operator_grant(app_store_for_region(&app, region), user.id, role, user.created_ms) !=
        STORE_OK) {
        fprintf(stderr, "reel: the role could not be granted (see the log)\n");
        goto out;
    }
    char id[ID_STR_MAX];
    printf("operator %s (id %s) added to region %s as %s\n", username, id_format(user.id, id),
           region->name, store_role_name(role));
    status = 0;
out:
    sodium_memzero(password, sizeof password);
    app_close(&app);
    return status;
}
