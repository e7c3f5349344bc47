/*
 * common.c — what every subcommand shares: loading the configuration.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_CONFIG_PATH "config/reel.ini"

int cli_load_config(struct config *cfg, const struct cli_common *common)
{
    char err[CONFIG_ERR_MAX];
    config_init(cfg);
    int rc;
    if (common->config_path)
        rc = config_load_file(cfg, common->config_path, err, sizeof err);
    else if (access(DEFAULT_CONFIG_PATH, F_OK) == 0)
        rc = config_load_file(cfg, DEFAULT_CONFIG_PATH, err, sizeof err);
    else
        rc = config_load_string(cfg, config_default_text, "(built-in config)", err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "reel: config error: %s\n", err);
        return -1;
    }
    if (common->data_dir) {
        if (!common->data_dir[0] || strlen(common->data_dir) >= sizeof cfg->data_dir) {
            fprintf(stderr, "reel: --data: empty or too long\n");
            return -1;
        }
        snprintf(cfg->data_dir, sizeof cfg->data_dir, "%s", common->data_dir);
    }
    if (common->listen && config_parse_listen(cfg, common->listen) < 0) {
        fprintf(stderr, "reel: --listen %s: expected ADDR:PORT with a port 0..65535\n",
                common->listen);
        return -1;
    }
    return 0;
}
