/*
 * cmd_query.c - the store commands that only read: status, list, stats.
 * They need read access to the store only.
 */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_store.h"

#define OPT_DB                                                                 \
    {                                                                          \
        "db", required_argument, NULL, SOPT_DB                                 \
    }
#define OPT_HELP                                                               \
    {                                                                          \
        "help", no_argument, NULL, SOPT_HELP                                   \
    }
#define OPT_END                                                                \
    {                                                                          \
        NULL, 0, NULL, 0                                                       \
    }

static const struct option status_opts[] = {
    {"now", required_argument, NULL, SOPT_NOW}, OPT_DB, OPT_HELP, OPT_END};
static const struct option list_opts[] = {
    {"json", no_argument, NULL, SOPT_JSON},
    {"kind", required_argument, NULL, SOPT_KIND},
    OPT_DB,
    OPT_HELP,
    OPT_END};
static const struct option stats_opts[] = {
    {"json", no_argument, NULL, SOPT_JSON}, OPT_DB, OPT_HELP, OPT_END};

struct query_args {
    const char *cmd, *db;
    int64_t now;
    int json, help;
    unsigned kinds; /* 0: all */
};

/* Parse the options of a->cmd with its table. */
static int
query_parse(struct query_args *a, int argc, char **argv,
            const struct option *opts)
{
    jwtrev_entry_kind k;
    int c;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if (c == ':' || c == '?')
            return cli_getopt_error(a->cmd, c, argv);
        if (c == SOPT_NOW &&
            store_parse_time(a->cmd, "--now", optarg, &a->now) != CLI_OK)
            return CLI_USAGE;
        if (c == SOPT_KIND && jwtrev_entry_kind_parse(optarg, &k) != 0)
            return cli_usage_error(a->cmd, "--kind wants token, hash, "
                                           "subject or key");
        if (c == SOPT_KIND)
            a->kinds |= JWTREV_ENTRY_BIT(k);
        a->json |= c == SOPT_JSON;
        a->help |= c == SOPT_HELP;
        if (c == SOPT_DB)
            a->db = optarg;
    }
    return CLI_OK;
}

static void
init_args(struct query_args *a, struct cli *cli, const char *cmd)
{
    memset(a, 0, sizeof(*a));
    a->cmd = cmd;
    a->db = cli->db;
    a->now = cli_now();
}

/* ---- status -------------------------------------------------------------- */

static int
status_run(const struct query_args *a, const char *arg)
{
    jwtrev_revdb *db = NULL;
    jwtrev_token t;
    jwtrev_error err;
    int rc;

    memset(&t, 0, sizeof(t));
    rc = store_read_token("status", arg, &t);
    if (rc != CLI_OK)
        return rc;
    jwtrev_error_clear(&err);
    rc = jwtrev_revdb_open(a->db, &db, &err);
    if (rc == 0)
        rc = jwtrev_revdb_check(db, &t, a->now, &err);
    jwtrev_revdb_close(db);
    jwtrev_token_clear(&t);
    if (rc == 0) {
        printf("not revoked\n");
        return CLI_OK;
    }
    if (!jwtrev_err_is_token_failure(rc))
        return store_fail("status", rc, &err);
    printf("revoked: %s: ", jwtrev_reason(rc));
    cli_fputs_printable(err.detail, stdout);
    putchar('\n');
    return CLI_REJECTED;
}

int
cmd_status(struct cli *cli, int argc, char **argv)
{
    struct query_args a;
    int rc;

    init_args(&a, cli, "status");
    rc = query_parse(&a, argc, argv, status_opts);
    if (rc != CLI_OK)
        return rc;
    if (a.help) {
        printf("usage: jwtrev status [--now EPOCH] [TOKEN|-]\n"
               "\n"
               "Tell whether the store revokes this token, and by which "
               "entry.  The token\nis not verified (see jwtrev verify "
               "--db for the whole decision).\n"
               "Exit: 0 not revoked, 1 revoked, 2 usage or not a token, "
               "3 store error.\n");
        return CLI_OK;
    }
    if (argc - optind > 1)
        return cli_usage_error("status", "unexpected argument '%s'",
                               argv[optind + 1]);
    return status_run(&a, optind < argc ? argv[optind] : NULL);
}

/* ---- list ---------------------------------------------------------------- */

static int
list_text(void *arg, const jwtrev_entry *e)
{
    (void)arg;
    store_print_entry(stdout, e);
    return ferror(stdout) ? -JWTREV_ERR_INTERNAL : 0;
}

int
cmd_list(struct cli *cli, int argc, char **argv)
{
    struct query_args a;
    jwtrev_error err;
    int rc;

    init_args(&a, cli, "list");
    rc = query_parse(&a, argc, argv, list_opts);
    if (rc != CLI_OK)
        return rc;
    if (a.help) {
        printf("usage: jwtrev list [--json] [--kind token|hash|subject|key]"
               "...\n"
               "\n"
               "List the entries in key order; --json as JSON Lines (the "
               "dump format).\n"
               "Exit: 0 listed, 2 usage, 3 store error.\n");
        return CLI_OK;
    }
    if (optind < argc)
        return cli_usage_error("list", "unexpected argument '%s'",
                               argv[optind]);
    jwtrev_error_clear(&err);
    rc = jwtrev_store_foreach(a.db, a.kinds ? a.kinds : JWTREV_ENTRY_ALL,
                              a.json ? store_print_json_line : list_text, NULL,
                              NULL, &err);
    if (rc == -JWTREV_ERR_INTERNAL && err.detail[0] == '\0')
        rc = jwtrev_fail(&err, JWTREV_ERR_INTERNAL, "cannot write the list");
    return rc == 0 && fflush(stdout) == 0 ? CLI_OK
                                          : store_fail("list", rc, &err);
}

/* ---- stats --------------------------------------------------------------- */

static void
stats_json(const jwtrev_store_stats *s, json_t *daemon)
{
    char *d = NULL;

    /* The daemon's own status, as it sent it, under "daemon". */
    if (daemon != NULL)
        d = json_dumps(daemon, JSON_COMPACT);
    printf("{\"entries\":{\"total\":%llu,\"token\":%llu,\"hash\":%llu,"
           "\"subject\":%llu,\"key\":%llu},\"recent\":%llu,"
           "\"base_bytes\":%llu,\"delta_bytes\":%llu,"
           "\"filter_bytes\":%llu,\"issuers\":%llu,\"generation\":%llu%s%s}\n",
           (unsigned long long)s->entries[0],
           (unsigned long long)s->entries[JWTREV_ENTRY_TOKEN],
           (unsigned long long)s->entries[JWTREV_ENTRY_HASH],
           (unsigned long long)s->entries[JWTREV_ENTRY_SUBJECT],
           (unsigned long long)s->entries[JWTREV_ENTRY_KEY],
           (unsigned long long)s->recent, (unsigned long long)s->base_bytes,
           (unsigned long long)s->delta_bytes,
           (unsigned long long)s->filter_bytes, (unsigned long long)s->issuers,
           (unsigned long long)s->generation, d != NULL ? ",\"daemon\":" : "",
           d != NULL ? d : "");
    free(d);
}

/* The daemon's lines: running or not, and a fold that fails. */
static void
daemon_text(json_t *d)
{
    json_t *fold = json_object_get(d, "fold");
    const char *err = json_string_value(json_object_get(d, "error"));

    if (!json_is_true(json_object_get(d, "running"))) {
        printf("daemon          jwtrevd at %s NOT ANSWERING: %s\n",
               json_string_value(json_object_get(d, "socket")),
               err != NULL ? err : "?");
        return;
    }
    printf("daemon          jwtrevd at %s, pid %lld, %lld writes\n",
           json_string_value(json_object_get(d, "socket")),
           (long long)json_integer_value(json_object_get(d, "pid")),
           (long long)json_integer_value(json_object_get(d, "writes")));
    if (json_is_string(json_object_get(fold, "state")) &&
        strcmp(json_string_value(json_object_get(fold, "state")), "ok") != 0)
        printf("fold            FAILING since %lld: %s (the delta grows "
               "past %lld changes; revocations still succeed)\n",
               (long long)json_integer_value(
                   json_object_get(fold, "failing_since")),
               json_string_value(json_object_get(fold, "last_error")),
               (long long)json_integer_value(json_object_get(fold, "bound")));
    else
        printf("fold            ok, %lld done, last took %lld ms\n",
               (long long)json_integer_value(json_object_get(fold, "folds")),
               (long long)json_integer_value(json_object_get(fold, "last_ms")));
}

static void
stats_text(const jwtrev_store_stats *s, json_t *daemon)
{
    uint64_t bytes = s->base_bytes + s->delta_bytes + s->filter_bytes;
    int k;

    printf("entries         %llu\n", (unsigned long long)s->entries[0]);
    for (k = JWTREV_ENTRY_TOKEN; k <= JWTREV_ENTRY_KEY; k++)
        printf("  %-13s %llu\n", jwtrev_entry_kind_name(k),
               (unsigned long long)s->entries[k]);
    printf("recent changes  %llu (in delta.db, folded into base.db by "
           "compact)\n",
           (unsigned long long)s->recent);
    printf("base.db         %llu bytes\n", (unsigned long long)s->base_bytes);
    printf("delta.db        %llu bytes\n", (unsigned long long)s->delta_bytes);
    printf("filter          %llu bytes\n", (unsigned long long)s->filter_bytes);
    if (s->entries[0] > 0)
        printf("bytes/entry     %.1f\n", (double)bytes / s->entries[0]);
    printf("issuers         %llu\n", (unsigned long long)s->issuers);
    printf("generation      %llu\n", (unsigned long long)s->generation);
    if (daemon != NULL)
        daemon_text(daemon);
}

int
cmd_stats(struct cli *cli, int argc, char **argv)
{
    struct query_args a;
    jwtrev_store_stats s;
    jwtrev_error err;
    json_t *daemon;
    int rc;

    init_args(&a, cli, "stats");
    rc = query_parse(&a, argc, argv, stats_opts);
    if (rc != CLI_OK)
        return rc;
    if (a.help) {
        printf("usage: jwtrev stats [--json]\n\nCount the entries per "
               "kind; file sizes.\nExit: 0, 2 usage, 3 store error.\n");
        return CLI_OK;
    }
    if (optind < argc)
        return cli_usage_error("stats", "unexpected argument '%s'",
                               argv[optind]);
    jwtrev_error_clear(&err);
    rc = jwtrev_store_stats_get(a.db, &s, &err);
    if (rc != 0)
        return store_fail("stats", rc, &err);
    daemon = store_daemon_status(a.db);
    if (a.json)
        stats_json(&s, daemon);
    else
        stats_text(&s, daemon);
    json_decref(daemon);
    return CLI_OK;
}
