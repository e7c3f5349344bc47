/*
 * common.c — what every subcommand shares: loading the configuration.
 */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_CONFIG_PATH "config/reel.ini"

int cli_read_config(struct config *cfg, const struct cli_common *common, char *err, size_t errlen)
{
    char why[CONFIG_ERR_MAX];
    config_init(cfg);
    int rc;
    if (common->config_path)
        rc = config_load_file(cfg, common->config_path, why, sizeof why);
    else if (access(DEFAULT_CONFIG_PATH, F_OK) == 0)
        rc = config_load_file(cfg, DEFAULT_CONFIG_PATH, why, sizeof why);
    else
        rc = config_load_string(cfg, config_default_text, "(built-in config)", why, sizeof why);
    if (rc < 0) {
        snprintf(err, errlen, "config error: %s", why);
        return -1;
    }
    if (common->data_dir) {
        if (!common->data_dir[0] || strlen(common->data_dir) >= sizeof cfg->data_dir) {
            snprintf(err, errlen, "--data: empty or too long");
            return -1;
        }
        snprintf(cfg->data_dir, sizeof cfg->data_dir, "%s", common->data_dir);
    }
    if (common->listen && config_parse_listen(cfg, common->listen) < 0) {
        snprintf(err, errlen, "--listen %s: expected ADDR:PORT with a port 0..65535",
                 common->listen);
        return -1;
    }
    return 0;
}

int cli_load_config(struct config *cfg, const struct cli_common *common)
{
    char err[CONFIG_ERR_MAX + 64];
    if (cli_read_config(cfg, common, err, sizeof err) < 0) {
        fprintf(stderr, "reel: %s\n", err);
        return -1;
    }
    return 0;
}

int cli_lock_data(const struct config *cfg, const char *command)
{
    char path[CONFIG_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/reel.lock", cfg->data_dir);
    if (mkdir(cfg->data_dir, 0700) < 0 && errno != EEXIST) {
        fprintf(stderr, "reel %s: %s: %s\n", command, cfg->data_dir, strerror(errno));
        return -1;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "reel %s: %s: %s\n", command, path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        fprintf(stderr,
                "reel %s: a reel server is running on %s (it holds %s); stop it first\n",
                command, cfg->data_dir, path);
        close(fd);
        return -1;
    }
    return fd;
}
