/*
 * main.c — `reel`, one binary with subcommands (API.md "Command line").
 */
#include "cli/cli.h"
#include "core/alloc.h"
#include "core/credential.h"

#include <stdio.h>
#include <string.h>

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"serve", cli_serve, "run the platform (HTTP API, web client, media)"},
    {"audit", cli_audit, "verify a region's audit log, print proofs and signed heads"},
    {"operator", cli_operator, "operator accounts: add a custodian, moderator or support"},
    {"purge", cli_purge, "erase deactivated accounts now (server stopped)"},
    {"stats", cli_stats, "a region's active users, trending videos and creator totals"},
    {"site", cli_site, "site operations: promote a replica to primary"},
    {"seed", cli_seed, "create demo users and video records"},
    {"events", cli_events, "read a region's engagement event log (dump, stats)"},
    {"replay", cli_replay, "evaluate the recommendation engine on a real dataset"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: reel [--help] [--version] COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'reel COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv)
{
    reel_alloc_init();
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("reel %s\n", REEL_VERSION);
        return 0;
    }
    if (credential_init() < 0) {
        fprintf(stderr, "reel: libsodium could not be initialised\n");
        return 1;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "reel: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
