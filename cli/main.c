/*
 * main.c - jwtrev, the admin tool: global options and command dispatch.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_store.h"

cli_cmd_fn cmd_fleet; /* cmd_fleet.c */
cli_cmd_fn cmd_keys;  /* cmd_keys.c */

struct command {
    const char *name;
    cli_cmd_fn *run;
    const char *summary;
};

static const struct command commands[] = {
    {"init", cmd_init, "create the revocation store with safe modes"},
    {"revoke", cmd_revoke, "revoke one token (or --jti ID)"},
    {"revoke-subject", cmd_revoke_subject,
     "revoke every token of a subject issued before a time"},
    {"revoke-key", cmd_revoke_key, "revoke every token signed by a key id"},
    {"unrevoke", cmd_unrevoke, "remove a revocation entry"},
    {"status", cmd_status, "tell whether a token is revoked, and by what"},
    {"verify", cmd_verify, "verify a token and explain the decision"},
    {"list", cmd_list, "list revocation entries"},
    {"stats", cmd_stats, "count entries per kind, sizes"},
    {"purge", cmd_purge, "drop entries that no longer matter"},
    {"compact", cmd_compact, "fold recent changes into the base file"},
    {"dump", cmd_dump, "write every entry as JSON Lines"},
    {"load", cmd_load, "add entries from JSON Lines"},
    {"check", cmd_check, "verify the whole store (--rebuild: repair it)"},
    {"sign", cmd_sign, "issue a token"},
    {"fleet", cmd_fleet, "the fleet's database: schema, init, prune, status"},
    {"keys", cmd_keys, "fetch an identity provider's keys (JWKS) into a file"},
};

static void
usage(FILE *f)
{
    size_t i;

    fprintf(f, "usage: jwtrev [--db DIR] [--socket PATH] COMMAND [OPTIONS] "
               "[ARGS]\n"
               "       jwtrev COMMAND --help\n\ncommands:\n");
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-16s %s\n", commands[i].name, commands[i].summary);
    fprintf(f,
            "\n--db DIR defaults to $JWTREV_DB, else %s.\n"
            "Writes go through the jwtrevd that owns the store, if one "
            "does;\n--socket PATH names the daemon instead.\n"
            "Exit codes: 0 success/accepted/not revoked, 1 rejected/"
            "revoked,\n2 usage or configuration error, 3 store error; check: 1 "
            "damage found.\n"
            "See jwtrev(8).\n",
            JWTREV_DEFAULT_DB);
}

int
main(int argc, char **argv)
{
    struct cli cli;
    const char *env = getenv("JWTREV_DB");
    size_t i;
    int a = 1;

    cli.db = env != NULL && *env != '\0' ? env : JWTREV_DEFAULT_DB;
    cli.db_given = 0;
    while (a < argc && argv[a][0] == '-') {
        if (strcmp(argv[a], "--help") == 0 || strcmp(argv[a], "-h") == 0) {
            usage(stdout);
            return CLI_OK;
        } else if (strcmp(argv[a], "--version") == 0) {
            printf("jwtrev %s\n", PACKAGE_VERSION);
            return CLI_OK;
        } else if (strcmp(argv[a], "--db") == 0 && a + 1 < argc) {
            cli.db = argv[a + 1];
            cli.db_given = 1;
            a += 2;
        } else if (strcmp(argv[a], "--socket") == 0 && a + 1 < argc) {
            store_use_socket(argv[a + 1]);
            a += 2;
        } else if (strncmp(argv[a], "--socket=", 9) == 0) {
            store_use_socket(argv[a] + 9);
            a++;
        } else if (strncmp(argv[a], "--db=", 5) == 0) {
            cli.db = argv[a] + 5;
            cli.db_given = 1;
            a++;
        } else {
            cli_error("unknown option '%s' (see jwtrev --help)", argv[a]);
            return CLI_USAGE;
        }
    }
    if (a >= argc) {
        usage(stderr);
        return CLI_USAGE;
    }
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[a], commands[i].name) == 0)
            return commands[i].run(&cli, argc - a, argv + a);
    }
    cli_error("unknown command '%s' (see jwtrev --help)", argv[a]);
    return CLI_USAGE;
}
