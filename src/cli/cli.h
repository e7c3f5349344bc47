/*
 * cli.h — the `reel` subcommands. Each takes argc/argv starting at the
 * subcommand's name and returns the process exit status: 0 success, 1
 * failure, 2 usage error (API.md "Command line").
 */
#ifndef REEL_CLI_CLI_H
#define REEL_CLI_CLI_H

#include "core/config.h"

#define EXIT_USAGE 2

int cli_serve(int argc, char **argv);
int cli_site(int argc, char **argv);
int cli_operator(int argc, char **argv);
int cli_stats(int argc, char **argv);
int cli_purge(int argc, char **argv);
int cli_seed(int argc, char **argv);
int cli_events(int argc, char **argv);
int cli_audit(int argc, char **argv);
int cli_replay(int argc, char **argv);

/* Options every command that touches stored data accepts. */
struct cli_common {
    const char *config_path; /* --config; NULL = config/reel.ini if present, else built-in */
    const char *data_dir;    /* --data */
    const char *listen;      /* --listen (serve only) */
};

/* Takes the data directory's lock (<data_dir>/reel.lock, an exclusive
 * flock). `reel serve` holds it while it runs; commands that change what a
 * running server owns (purge, site promote) take it too, so they refuse to
 * run beside a server instead of corrupting its files. Returns the open
 * descriptor (closing it releases the lock), or -1 after printing why. */
int cli_lock_data(const struct config *cfg, const char *command);

/* Loads the configuration named by the common options and applies the
 * overrides. Prints the problem to stderr and returns -1 on failure. */
int cli_load_config(struct config *cfg, const struct cli_common *common);
/* The same without printing: returns 0, or -1 with the message in err
 * ("config error: reel.ini:12: ..."). `reel serve` reloads with it. */
int cli_read_config(struct config *cfg, const struct cli_common *common, char *err, size_t errlen);

#endif
