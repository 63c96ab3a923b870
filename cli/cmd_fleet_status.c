/*
 * cmd_fleet_status.c - jwtrev fleet status [--json] [--max-lag SECONDS]:
 * what this host's jwtrevd says of its link to the fleet (connected,
 * position, lag, outbox), for monitoring.
 *
 * Exit: 0 in step; 1 behind (not connected, or lag or unsent changes
 * older than --max-lag, default 10 s); 2 usage, or a daemon not in fleet
 * mode; 3 no daemon answering.
 */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_store.h"

int cmd_fleet_status(struct cli *cli, int argc, char **argv);

enum { FSOPT_JSON = 0x100, FSOPT_MAX_LAG, FSOPT_HELP };

static const struct option opts[] = {
    {"json", no_argument, NULL, FSOPT_JSON},
    {"max-lag", required_argument, NULL, FSOPT_MAX_LAG},
    {"help", no_argument, NULL, FSOPT_HELP},
    {NULL, 0, NULL, 0}};

static const char usage[] =
    "usage: jwtrev fleet status [--json] [--max-lag SECONDS]\n\n"
    "What this host's jwtrevd says of the fleet: connected, position, lag,\n"
    "outbox.  Exit: 0 in step, 1 behind (not connected, or lagging more\n"
    "than --max-lag, default 10 s), 2 usage or no fleet mode, 3 no daemon.\n";

static int
behind(json_t *f, int64_t max_lag, const char **why)
{
    double lag = json_real_value(json_object_get(f, "lag_seconds"));

    if (!json_is_true(json_object_get(f, "connected")))
        *why = "not connected to the fleet's database";
    else if (!json_is_true(json_object_get(f, "bootstrapped")))
        *why = "not yet in step with the fleet's live set";
    else if (lag > (double)max_lag)
        *why = "lagging";
    else
        return 0;
    return 1;
}

int
cmd_fleet_status(struct cli *cli, int argc, char **argv)
{
    const char *why = "";
    int64_t max_lag = 10;
    json_t *d, *f;
    int c, json = 0, rc;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if (c == ':' || c == '?')
            return cli_getopt_error("fleet status", c, argv);
        if (c == FSOPT_HELP) {
            fputs(usage, stdout);
            return CLI_OK;
        }
        if (c == FSOPT_JSON)
            json = 1;
        if (c == FSOPT_MAX_LAG && cli_parse_int64("fleet status", "--max-lag",
                                                  optarg, &max_lag) != CLI_OK)
            return CLI_USAGE;
    }
    if (optind < argc)
        return cli_usage_error("fleet status", "unexpected argument '%s'",
                               argv[optind]);
    d = store_daemon_status(cli->db);
    if (d == NULL) {
        cli_error("fleet status: no jwtrevd owns %s", cli->db);
        return CLI_STORE;
    }
    if (!json_is_true(json_object_get(d, "running"))) {
        cli_error("fleet status: %s",
                  json_string_value(json_object_get(d, "error")));
        json_decref(d);
        return CLI_STORE;
    }
    f = json_object_get(d, "fleet");
    if (!json_is_object(f)) {
        cli_error("fleet status: the jwtrevd of %s is not in fleet mode "
                  "(jwtrevd.conf fleet=)",
                  cli->db);
        json_decref(d);
        return CLI_USAGE;
    }
    rc = behind(f, max_lag, &why) ? CLI_REJECTED : CLI_OK;
    if (json) {
        json_object_set_new(f, "in_step", json_boolean(rc == CLI_OK));
        json_dumpf(f, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
        putchar('\n');
    } else {
        printf("host            %s\n",
               json_string_value(json_object_get(f, "host_id")));
        printf("connected       %s%s%s\n",
               json_is_true(json_object_get(f, "connected")) ? "yes" : "NO",
               json_is_true(json_object_get(f, "connected")) ? ", to " : "",
               json_is_true(json_object_get(f, "connected"))
                   ? json_string_value(json_object_get(f, "server"))
                   : "");
        printf("position        %s\n",
               json_string_value(json_object_get(f, "position")));
        printf("lag             %.3f s\n",
               json_real_value(json_object_get(f, "lag_seconds")));
        printf("outbox          %lld changes not yet in the database\n",
               (long long)json_integer_value(json_object_get(f, "outbox")));
        printf("applied         %lld changes from the log since start\n",
               (long long)json_integer_value(json_object_get(f, "applied")));
        if (json_integer_value(json_object_get(f, "skipped")) > 0)
            printf(
                "skipped         %lld log rows that did not parse\n",
                (long long)json_integer_value(json_object_get(f, "skipped")));
        if (json_integer_value(json_object_get(f, "refused")) > 0)
            printf(
                "refused         %lld changes the database refused\n",
                (long long)json_integer_value(json_object_get(f, "refused")));
        if (*json_string_value(json_object_get(f, "last_error")) != '\0')
            printf("last error      %s\n",
                   json_string_value(json_object_get(f, "last_error")));
        printf("state           %s%s%s\n", rc == CLI_OK ? "in step" : "BEHIND",
               rc == CLI_OK ? "" : ": ", why);
    }
    json_decref(d);
    return rc;
}
