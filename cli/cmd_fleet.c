/*
 * cmd_fleet.c - jwtrev fleet: the fleet's PostgreSQL database
 * (docs/design.md 7.2).  schema prints the SQL, init applies it, prune
 * deletes the log rows that no longer matter (a role in jwtrev_admin);
 * status asks the host's jwtrevd (cmd_fleet_status).
 *
 * Exit codes (docs/design.md 5.1): 0 done, 2 usage, 3 the database
 * refused or could not be reached (the fleet's store).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd_store.h"
#include "jwtrev_fleet.h"

cli_cmd_fn cmd_fleet;
int cmd_fleet_status(struct cli *cli, int argc, char **argv);

enum { FOPT_CONNINFO = 0x100, FOPT_NOW, FOPT_HELP };

static const struct option fleet_opts[] = {
    {"conninfo", required_argument, NULL, FOPT_CONNINFO},
    {"now", required_argument, NULL, FOPT_NOW},
    {"help", no_argument, NULL, FOPT_HELP},
    {NULL, 0, NULL, 0}};

static const char fleet_usage[] =
    "usage: jwtrev fleet schema\n"
    "       jwtrev fleet init --conninfo CONNINFO\n"
    "       jwtrev fleet prune --conninfo CONNINFO [--now EPOCH]\n"
    "       jwtrev fleet status [--json] [--max-lag SECONDS]\n"
    "       jwtrev fleet unrevoke --conninfo CONNINFO [jwtrev unrevoke's "
    "selectors]\n"
    "\n"
    "schema prints the SQL of the fleet's database: roles jwtrev_host\n"
    "(read, add) and jwtrev_admin (also unrevoke and prune), the log\n"
    "table, its policies and notify trigger.  init applies it (again is\n"
    "harmless), as a role that may create roles.  prune, as a member of\n"
    "jwtrev_admin, deletes the rows whose until has passed and the adds\n"
    "an unrevoke cancelled.  status asks this host's jwtrevd.  unrevoke,\n"
    "as a member of jwtrev_admin, writes the tombstone that removes an\n"
    "entry on every host.\n"
    "CONNINFO is libpq's (key=value or a URI; several hosts allowed).\n"
    "Exit: 0 done, 2 usage, 3 the database failed or refused.\n";

struct fleet_args {
    const char *conninfo;
    int64_t now;
};

/* Options after the subcommand; CLI_OK, or the exit code (printed). */
static int
parse(const char *cmd, int argc, char **argv, int want_conninfo,
      struct fleet_args *a)
{
    int c, rc;

    a->conninfo = NULL;
    a->now = cli_now();
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", fleet_opts, NULL)) != -1) {
        if (c == ':' || c == '?')
            return cli_getopt_error(cmd, c, argv);
        if (c == FOPT_HELP) {
            fputs(fleet_usage, stdout);
            return -1;
        }
        if (c == FOPT_CONNINFO)
            a->conninfo = optarg;
        if (c == FOPT_NOW &&
            (rc = cli_parse_int64(cmd, "--now", optarg, &a->now)) != CLI_OK)
            return rc;
    }
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (want_conninfo && (a->conninfo == NULL || *a->conninfo == '\0'))
        return cli_usage_error(cmd, "--conninfo is required");
    return CLI_OK;
}

static int
fleet_schema(int argc, char **argv)
{
    struct fleet_args a;
    int rc = parse("fleet schema", argc, argv, 0, &a);

    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    if (fputs(fleet_schema_sql, stdout) == EOF || fflush(stdout) != 0) {
        cli_error("fleet schema: cannot write the schema");
        return CLI_STORE;
    }
    return CLI_OK;
}

static int
fleet_init(int argc, char **argv)
{
    struct fleet_args a;
    jwtrev_error err;
    int rc = parse("fleet init", argc, argv, 1, &a);

    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    jwtrev_error_clear(&err);
    if ((rc = fleet_schema_apply(a.conninfo, &err)) != 0) {
        cli_report_error("fleet init", rc, &err);
        return cli_exit_code(rc);
    }
    printf("fleet: schema applied\n");
    return CLI_OK;
}

static int
fleet_prune_cmd(int argc, char **argv)
{
    struct fleet_args a;
    jwtrev_error err;
    uint64_t deleted = 0;
    int rc = parse("fleet prune", argc, argv, 1, &a);

    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    jwtrev_error_clear(&err);
    if ((rc = fleet_prune(a.conninfo, a.now, &deleted, &err)) != 0) {
        cli_report_error("fleet prune", rc, &err);
        return cli_exit_code(rc);
    }
    printf("fleet: pruned %llu rows\n", (unsigned long long)deleted);
    return CLI_OK;
}

/* ---- unrevoke: jwtrev unrevoke's selectors, the fleet's tombstone ------- */

static const char *fleet_admin;

const char *
store_fleet_admin(void)
{
    return fleet_admin;
}

int
store_fleet_unrevoke(const jwtrev_entry *e, int *removed)
{
    char origin[300], host[256];
    jwtrev_error err;
    uint64_t n = 0;
    int rc;

    if (gethostname(host, sizeof(host)) != 0)
        host[0] = '\0';
    host[sizeof(host) - 1] = '\0';
    snprintf(origin, sizeof(origin), "unrevoke@%s", host);
    jwtrev_error_clear(&err);
    rc = fleet_unrevoke(fleet_admin, origin, e, cli_now(), &n, &err);
    if (rc != 0)
        return store_fail("fleet unrevoke", rc, &err);
    if (n > 0) {
        fputs("unrevoked in the fleet: ", stdout);
        store_print_identity(stdout, e);
        printf(" (%llu revocations of the log cancelled)\n",
               (unsigned long long)n);
        *removed += 1;
    }
    return CLI_OK;
}

/*
 * jwtrev fleet unrevoke --conninfo C [jwtrev unrevoke's selectors]: the
 * options of unrevoke, less --conninfo, run with the tombstone instead.
 */
static int
fleet_unrevoke_cmd(struct cli *cli, int argc, char **argv)
{
    static char name[] = "unrevoke";
    char **args = calloc((size_t)argc + 2, sizeof(*args));
    int i, n = 0, rc;

    if (args == NULL) {
        cli_error("fleet unrevoke: out of memory");
        return CLI_USAGE;
    }
    args[n++] = name;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--conninfo") == 0 && i + 1 < argc)
            fleet_admin = argv[++i];
        else if (strncmp(argv[i], "--conninfo=", 11) == 0)
            fleet_admin = argv[i] + 11;
        else
            args[n++] = argv[i];
    }
    if (fleet_admin == NULL) {
        free(args);
        return cli_usage_error(
            "fleet unrevoke",
            "--conninfo CONNINFO (a role in jwtrev_admin) is needed");
    }
    rc = cmd_unrevoke(cli, n, args);
    free(args);
    return rc;
}

int
cmd_fleet(struct cli *cli, int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "";

    if (strcmp(sub, "schema") == 0)
        return fleet_schema(argc - 1, argv + 1);
    if (strcmp(sub, "init") == 0)
        return fleet_init(argc - 1, argv + 1);
    if (strcmp(sub, "prune") == 0)
        return fleet_prune_cmd(argc - 1, argv + 1);
    if (strcmp(sub, "unrevoke") == 0)
        return fleet_unrevoke_cmd(cli, argc - 1, argv + 1);
    if (strcmp(sub, "status") == 0)
        return cmd_fleet_status(cli, argc - 1, argv + 1);
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        fputs(fleet_usage, stdout);
        return CLI_OK;
    }
    if (*sub == '\0')
        return cli_usage_error("fleet", "a subcommand is needed");
    return cli_usage_error("fleet", "unknown subcommand '%s'", sub);
}
