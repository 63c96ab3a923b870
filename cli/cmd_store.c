/*
 * cmd_store.c - the store commands that change entries: init, revoke,
 * revoke-subject, revoke-key, unrevoke.  Each change is visible to every
 * reader when the command returns.
 */
#include "config.h"

#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_store.h"

#define OPT_END                                                                \
    {                                                                          \
        NULL, 0, NULL, 0                                                       \
    }

/* getopt_long over argv with the command's table, options first. */
static int
next_opt(int argc, char **argv, const struct option *opts)
{
    return getopt_long(argc, argv, ":", opts, NULL);
}

static void
start_opts(void)
{
    optind = 1;
    opterr = 0;
}

/* ---- init ---------------------------------------------------------------- */

static const struct option init_opts[] = {
    {"group", required_argument, NULL, SOPT_GROUP},
    {"logout-writable", no_argument, NULL, SOPT_LOGOUT_WRITABLE},
    {"db", required_argument, NULL, SOPT_DB},
    {"help", no_argument, NULL, SOPT_HELP},
    OPT_END};

static void
init_usage(void)
{
    printf("usage: jwtrev init [--group G [--logout-writable]] [--db DIR]\n"
           "\n"
           "Create the revocation store (or repair its modes; entries are "
           "kept).\n"
           "  --group G          the group may read it (e.g. the web "
           "server's)\n"
           "  --logout-writable  the group may also write (the httpd "
           "logout handler)\n"
           "Without --group only the owner can use the store.\n"
           "Exit: 0 done, 2 usage, 3 store error.  See jwtrev(8).\n");
}

static int
group_id(const char *name, long *out)
{
    struct group *g = getgrnam(name);
    char *end;
    long v;

    if (g != NULL) {
        *out = (long)g->gr_gid;
        return CLI_OK;
    }
    v = strtol(name, &end, 10);
    if (*name == '\0' || *end != '\0' || v < 0)
        return cli_usage_error("init", "no group '%s'", name);
    *out = v;
    return CLI_OK;
}

int
cmd_init(struct cli *cli, int argc, char **argv)
{
    const char *db = cli->db, *group = NULL;
    jwtrev_error err;
    unsigned flags = 0;
    long gid = -1;
    int c, rc;

    start_opts();
    while ((c = next_opt(argc, argv, init_opts)) != -1) {
        if (c == SOPT_GROUP)
            group = optarg;
        else if (c == SOPT_LOGOUT_WRITABLE)
            flags |= JWTREV_STORE_GROUP_WRITABLE;
        else if (c == SOPT_DB)
            db = optarg;
        else if (c == SOPT_HELP) {
            init_usage();
            return CLI_OK;
        } else
            return cli_getopt_error("init", c, argv);
    }
    if (optind < argc)
        return cli_usage_error("init", "unexpected argument '%s'",
                               argv[optind]);
    if (flags && group == NULL)
        return cli_usage_error("init", "--logout-writable needs --group");
    if (group != NULL && group_id(group, &gid) != CLI_OK)
        return CLI_USAGE;
    jwtrev_error_clear(&err);
    rc = jwtrev_store_init(db, gid, flags, &err);
    if (rc != 0)
        return store_fail("init", rc, &err);
    printf("store %s ready (%s)\n", db,
           group == NULL ? "owner only"
           : flags       ? "group may read and write"
                         : "group may read");
    return CLI_OK;
}

/* ---- revoke-subject, revoke-key ------------------------------------------ */

static const struct option subject_opts[] = {
    {"iss", required_argument, NULL, SOPT_ISS},
    {"before", required_argument, NULL, SOPT_BEFORE},
    {"until", required_argument, NULL, SOPT_UNTIL},
    {"reason", required_argument, NULL, SOPT_REASON},
    {"wait-fleet", optional_argument, NULL, SOPT_WAIT_FLEET},
    {"db", required_argument, NULL, SOPT_DB},
    {"help", no_argument, NULL, SOPT_HELP},
    OPT_END};

/* revoke-key takes the same minus the subject's options. */
static const struct option *const key_opts = subject_opts + 2;

static void
id_usage(int kind)
{
    if (kind == JWTREV_ENTRY_SUBJECT)
        printf("usage: jwtrev revoke-subject SUB [--iss ISS] [--before "
               "EPOCH] [--until EPOCH]\n"
               "                              [--reason TEXT]\n"
               "\n"
               "Reject every token of (iss, SUB) issued before EPOCH "
               "(default now), and\nevery token of it without iat, until "
               "EPOCH (default: until removed).\n");
    else
        printf("usage: jwtrev revoke-key KID [--until EPOCH] [--reason "
               "TEXT]\n"
               "\n"
               "Reject every token whose header kid is KID, until EPOCH "
               "(default: until\nremoved).\n");
    printf("--wait-fleet[=S]: through a jwtrevd in fleet mode, wait (10 s) "
           "until the\nfleet's database has it.\n"
           "Exit: 0 revoked, 2 usage, 3 store error.  See jwtrev(8).\n");
}

/* One option into e; CLI_OK or CLI_USAGE.  getopt has checked the
 * option belongs to the command. */
static int
id_opt(const char *cmd, int c, const char *arg, jwtrev_entry *e,
       const char **db)
{
    if (c == SOPT_ISS)
        store_text(arg, &e->iss, &e->iss_len);
    else if (c == SOPT_BEFORE)
        return store_parse_time(cmd, "--before", arg, &e->not_before);
    else if (c == SOPT_UNTIL)
        return store_parse_time(cmd, "--until", arg, &e->until);
    else if (c == SOPT_REASON)
        store_text(arg, &e->reason, &e->reason_len);
    else if (c == SOPT_DB)
        *db = arg;
    else if (c == SOPT_WAIT_FLEET)
        return store_use_wait_fleet(cmd, arg);
    return CLI_OK;
}

/* revoke-subject SUB and revoke-key KID. */
static int
revoke_id(struct cli *cli, int argc, char **argv, int kind)
{
    const char *cmd = argv[0], *db = cli->db;
    jwtrev_entry e;
    int c, rc;

    memset(&e, 0, sizeof(e));
    e.kind = (jwtrev_entry_kind)kind;
    e.iss = e.reason = "";
    e.revoked_at = cli_now();
    e.not_before = kind == JWTREV_ENTRY_SUBJECT ? e.revoked_at : 0;
    start_opts();
    while ((c = next_opt(argc, argv,
                         kind == JWTREV_ENTRY_SUBJECT ? subject_opts
                                                      : key_opts)) != -1) {
        if (c == ':' || c == '?')
            return cli_getopt_error(cmd, c, argv);
        if (c == SOPT_HELP) {
            id_usage(kind);
            return CLI_OK;
        }
        if ((rc = id_opt(cmd, c, optarg, &e, &db)) != CLI_OK)
            return rc;
    }
    if (argc - optind != 1)
        return cli_usage_error(cmd, "give one %s",
                               kind == JWTREV_ENTRY_SUBJECT ? "SUB" : "KID");
    e.id = (const unsigned char *)argv[optind];
    e.id_len = strlen(argv[optind]);
    return store_put_report(cmd, db, &e);
}

int
cmd_revoke_subject(struct cli *cli, int argc, char **argv)
{
    return revoke_id(cli, argc, argv, JWTREV_ENTRY_SUBJECT);
}

int
cmd_revoke_key(struct cli *cli, int argc, char **argv)
{
    return revoke_id(cli, argc, argv, JWTREV_ENTRY_KEY);
}

/* ---- unrevoke ------------------------------------------------------------ */

static const struct option unrevoke_opts[] = {
    {"jti", required_argument, NULL, SOPT_JTI},
    {"subject", required_argument, NULL, SOPT_SUBJECT},
    {"kid", required_argument, NULL, SOPT_KID},
    {"hash", required_argument, NULL, SOPT_HASH},
    {"iss", required_argument, NULL, SOPT_ISS},
    {"db", required_argument, NULL, SOPT_DB},
    {"help", no_argument, NULL, SOPT_HELP},
    OPT_END};

static void
unrevoke_usage(void)
{
    printf("usage: jwtrev unrevoke [TOKEN|-]\n"
           "       jwtrev unrevoke --jti ID [--iss ISS]\n"
           "       jwtrev unrevoke --subject SUB [--iss ISS]\n"
           "       jwtrev unrevoke --kid KID\n"
           "       jwtrev unrevoke --hash SHA256_HEX\n"
           "\n"
           "Remove a revocation entry.  A token removes the entries of its "
           "jti and of\nits signing-input hash.\n"
           "Exit: 0 removed, 1 no such entry, 2 usage, 3 store error.\n");
}

struct unrevoke_args {
    const char *db, *iss, *token;
    jwtrev_entry sel; /* kind 0: a token instead */
    unsigned char hash[JWTREV_STORE_HASH_LEN];
    int nsel, help;
};

static jwtrev_entry_kind
selector_kind(int c)
{
    switch (c) {
    case SOPT_JTI:
        return JWTREV_ENTRY_TOKEN;
    case SOPT_SUBJECT:
        return JWTREV_ENTRY_SUBJECT;
    case SOPT_KID:
        return JWTREV_ENTRY_KEY;
    }
    return JWTREV_ENTRY_HASH;
}

static int
unrevoke_opt(struct unrevoke_args *a, int c, const char *arg)
{
    if (c == SOPT_ISS) {
        a->iss = arg;
    } else if (c == SOPT_DB) {
        a->db = arg;
    } else if (c == SOPT_HELP) {
        a->help = 1;
    } else if (c == SOPT_HASH) {
        a->nsel++;
        a->sel.kind = JWTREV_ENTRY_HASH;
        a->sel.id = a->hash;
        a->sel.id_len = sizeof(a->hash);
        if (store_parse_sha256(arg, a->hash) != 0)
            return cli_usage_error("unrevoke", "--hash wants 64 lowercase "
                                               "hex digits");
    } else {
        a->nsel++;
        a->sel.kind = selector_kind(c);
        a->sel.id = (const unsigned char *)arg;
        a->sel.id_len = strlen(arg);
    }
    return CLI_OK;
}

static int
unrevoke_parse(struct unrevoke_args *a, int argc, char **argv)
{
    int c, rc;

    start_opts();
    while ((c = next_opt(argc, argv, unrevoke_opts)) != -1) {
        if (c == ':' || c == '?')
            return cli_getopt_error("unrevoke", c, argv);
        if ((rc = unrevoke_opt(a, c, optarg)) != CLI_OK)
            return rc;
    }
    if (a->help)
        return CLI_OK;
    if (argc - optind > (a->nsel ? 0 : 1))
        return cli_usage_error("unrevoke", "unexpected argument '%s'",
                               argv[argc - 1]);
    a->token = optind < argc ? argv[optind] : NULL;
    if (a->nsel > 1)
        return cli_usage_error("unrevoke", "give one of --jti, --subject, "
                                           "--kid, --hash or a token");
    if (a->iss != NULL && a->sel.kind != JWTREV_ENTRY_TOKEN &&
        a->sel.kind != JWTREV_ENTRY_SUBJECT)
        return cli_usage_error("unrevoke", "--iss goes with --jti or "
                                           "--subject");
    store_text(a->iss, &a->sel.iss, &a->sel.iss_len);
    return CLI_OK;
}

/* Remove e's entry; *removed counts it.  CLI_OK or an exit code. */
static int
remove_one(const char *db, const jwtrev_entry *e, int *removed)
{
    char sock[PATH_MAX];
    jwtrev_error err;
    int rc, found = 0;

    /* jwtrev fleet unrevoke: the fleet's tombstone, not this store's. */
    if (store_fleet_admin() != NULL)
        return store_fleet_unrevoke(e, removed);
    rc = store_daemon_of("unrevoke", db, sock, sizeof(sock));
    if (rc < 0)
        return -rc;
    jwtrev_error_clear(&err);
    if (rc == 1) {
        rc = store_daemon_remove("unrevoke", sock, e, &found);
        if (rc != CLI_OK)
            return rc;
    } else if ((rc = jwtrev_store_remove(db, e, &found, &err)) != 0) {
        return store_fail("unrevoke", rc, &err);
    }
    if (found) {
        fputs("unrevoked: ", stdout);
        store_print_identity(stdout, e);
        fputc('\n', stdout);
    }
    *removed += found;
    return CLI_OK;
}

int
cmd_unrevoke(struct cli *cli, int argc, char **argv)
{
    struct unrevoke_args a;
    jwtrev_entry e[2];
    jwtrev_token t;
    int rc, removed = 0, i, n = 1;

    memset(&a, 0, sizeof(a));
    a.db = cli->db;
    rc = unrevoke_parse(&a, argc, argv);
    if (rc != CLI_OK || a.help) {
        if (a.help)
            unrevoke_usage();
        return rc;
    }
    memset(&t, 0, sizeof(t));
    e[0] = a.sel;
    if (a.nsel == 0) {
        if ((rc = store_read_token("unrevoke", a.token, &t)) != CLI_OK)
            return rc;
        /* Its id entry and its hash entry, whichever exist. */
        jwtrev_entry_for_token(&t, 0, 0, NULL, &e[0]);
        memset(&e[1], 0, sizeof(e[1]));
        e[1].kind = JWTREV_ENTRY_HASH;
        e[1].iss = "";
        e[1].id = t.sighash;
        e[1].id_len = sizeof(t.sighash);
        n = e[0].kind == JWTREV_ENTRY_HASH ? 1 : 2;
    }
    for (i = 0; i < n && rc == CLI_OK; i++)
        rc = remove_one(a.db, &e[i], &removed);
    jwtrev_token_clear(&t);
    if (rc == CLI_OK && removed == 0) {
        cli_error("unrevoke: no such entry");
        rc = CLI_REJECTED;
    }
    return rc;
}
