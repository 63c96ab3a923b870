/*
 * cmd_revoke.c - jwtrev revoke: one token (read from standard input by
 * default, optionally verified against --key/--secret first), or a token
 * id without the token.
 */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_store.h"

static const struct option revoke_opts[] = {
    {"reason", required_argument, NULL, SOPT_REASON},
    {"jti", required_argument, NULL, SOPT_JTI},
    {"iss", required_argument, NULL, SOPT_ISS},
    {"until", required_argument, NULL, SOPT_UNTIL},
    {"leeway", required_argument, NULL, SOPT_LEEWAY},
    {"key", required_argument, NULL, SOPT_KEY},
    {"secret", required_argument, NULL, SOPT_SECRET},
    {"alg", required_argument, NULL, SOPT_ALG},
    {"wait-fleet", optional_argument, NULL, SOPT_WAIT_FLEET},
    {"db", required_argument, NULL, SOPT_DB},
    {"help", no_argument, NULL, SOPT_HELP},
    {NULL, 0, NULL, 0}};

struct revoke_args {
    const char *db, *reason, *jti, *iss, *token;
    int64_t until, leeway;
    int until_set, leeway_set, help;
    jwtrev_conf conf; /* --key, --secret, --alg: verify the token first */
    int verify;
};

static void
revoke_usage(void)
{
    printf("usage: jwtrev revoke [--reason TEXT] [--leeway S] [--key FILE|"
           "--secret FILE [--alg A]] [TOKEN|-]\n"
           "       jwtrev revoke --jti ID [--iss ISS] [--until EPOCH] "
           "[--reason TEXT]\n"
           "\n"
           "Revoke one token: by (iss, jti) when it has a jti, else by the "
           "SHA-256 of\nits signing input; the entry lasts until exp + "
           "leeway (default %d s).\nThe token is read from standard input "
           "by default and is not verified\nunless --key or --secret is "
           "given.  With --jti, revoke by id alone\n(until EPOCH, else "
           "until removed).\n"
           "--wait-fleet[=S]: through a jwtrevd in fleet mode, wait (10 s) "
           "until the\nfleet's database has it.\n"
           "Exit: 0 revoked, 1 the token failed --key verification, 2 "
           "usage, 3 store.\n",
           JWTREV_DEFAULT_LEEWAY);
}

static int
revoke_opt(struct revoke_args *a, int c, const char *arg)
{
    const char *name = c == SOPT_KEY      ? "key"
                       : c == SOPT_SECRET ? "secret"
                                          : "alg";
    jwtrev_error err;

    switch (c) {
    case SOPT_REASON:
        a->reason = arg;
        return CLI_OK;
    case SOPT_JTI:
        a->jti = arg;
        return CLI_OK;
    case SOPT_ISS:
        a->iss = arg;
        return CLI_OK;
    case SOPT_UNTIL:
        a->until_set = 1;
        return store_parse_time("revoke", "--until", arg, &a->until);
    case SOPT_LEEWAY:
        a->leeway_set = 1;
        return store_parse_time("revoke", "--leeway", arg, &a->leeway);
    case SOPT_KEY:
    case SOPT_SECRET:
    case SOPT_ALG:
        a->verify |= c != SOPT_ALG;
        jwtrev_error_clear(&err);
        if (jwtrev_conf_set(&a->conf, name, arg, &err) != 0)
            return cli_usage_error("revoke", "%s", err.detail);
        return CLI_OK;
    case SOPT_DB:
        a->db = arg;
        return CLI_OK;
    case SOPT_WAIT_FLEET:
        return store_use_wait_fleet("revoke", arg);
    case SOPT_HELP:
        a->help = 1;
        return CLI_OK;
    }
    return CLI_USAGE;
}

static int
revoke_parse(struct revoke_args *a, int argc, char **argv)
{
    int c, rc;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", revoke_opts, NULL)) != -1) {
        if (c == ':' || c == '?')
            return cli_getopt_error("revoke", c, argv);
        if ((rc = revoke_opt(a, c, optarg)) != CLI_OK || a->help)
            return rc;
    }
    if (argc - optind > 1)
        return cli_usage_error("revoke", "unexpected argument '%s'",
                               argv[optind + 1]);
    a->token = optind < argc ? argv[optind] : NULL;
    if (a->jti != NULL && (a->token != NULL || a->verify || a->leeway_set))
        return cli_usage_error("revoke", "--jti revokes by id: no token, "
                                         "--key, --secret or --leeway");
    if (a->jti == NULL && (a->iss != NULL || a->until_set))
        return cli_usage_error("revoke", "--iss and --until go with --jti "
                                         "(a token carries its own)");
    if (!a->verify && a->conf.algs != JWTREV_ALGSET_ALL)
        return cli_usage_error("revoke", "--alg goes with --key or --secret");
    return CLI_OK;
}

/* Check the token's signature against --key/--secret before revoking. */
static int
verify_first(const jwtrev_conf *conf, const char *tok, size_t len)
{
    jwtrev_keyring *kr = NULL;
    jwtrev_policy *pol = NULL;
    jwtrev_token t;
    jwtrev_error err;
    int rc;

    jwtrev_error_clear(&err);
    memset(&t, 0, sizeof(t));
    rc = cli_keyring_load("revoke", conf, &kr, &err);
    if (rc == 0)
        rc = jwtrev_policy_new(conf, &pol, &err);
    if (rc == 0)
        rc = jwtrev_verify(pol, kr, tok, len, cli_now(),
                           JWTREV_VERIFY_SIGNATURE_ONLY, &t, &err);
    jwtrev_token_clear(&t);
    jwtrev_policy_free(pol);
    jwtrev_keyring_free(kr);
    if (rc != 0 && jwtrev_err_is_token_failure(rc)) {
        fprintf(stderr, "rejected: %s: ", jwtrev_reason(rc));
        cli_fputs_printable(err.detail, stderr);
        fputc('\n', stderr);
        return CLI_REJECTED;
    }
    return rc == 0 ? CLI_OK : store_fail("revoke", rc, &err);
}

/* The token of a (its text in *tok), verified first when asked; CLI_OK
 * or an exit code. */
static int
revoke_token_of(const struct revoke_args *a, jwtrev_token *t, char **tok,
                size_t *len)
{
    jwtrev_error err;
    int rc = cli_read_token(a->token, tok, len);

    if (rc != CLI_OK)
        return rc;
    if (a->verify)
        rc = verify_first(&a->conf, *tok, *len);
    if (rc == CLI_OK) {
        jwtrev_error_clear(&err);
        if (jwtrev_token_parse_unverified(*tok, *len, t, &err) != 0)
            rc = cli_usage_error("revoke", "not a token: %s", err.detail);
    }
    if (rc != CLI_OK) {
        cli_free_secret(*tok, *len);
        *tok = NULL;
    }
    return rc;
}

static int
revoke_run(const struct revoke_args *a)
{
    jwtrev_token t;
    jwtrev_entry e;
    int64_t now = cli_now();
    char *tok = NULL;
    size_t len = 0;
    int rc;

    if (a->jti != NULL) {
        memset(&e, 0, sizeof(e));
        e.kind = JWTREV_ENTRY_TOKEN;
        store_text(a->iss, &e.iss, &e.iss_len);
        e.id = (const unsigned char *)a->jti;
        e.id_len = strlen(a->jti);
        store_text(a->reason, &e.reason, &e.reason_len);
        e.revoked_at = now;
        e.until = a->until;
        return store_put_report("revoke", a->db, &e);
    }
    memset(&t, 0, sizeof(t));
    rc = revoke_token_of(a, &t, &tok, &len);
    if (rc != CLI_OK)
        return rc;
    rc = store_revoke_token_report(
        "revoke", a->db, tok, len, &t,
        a->leeway_set ? a->leeway : JWTREV_DEFAULT_LEEWAY, now, a->reason);
    cli_free_secret(tok, len);
    jwtrev_token_clear(&t);
    return rc;
}

int
cmd_revoke(struct cli *cli, int argc, char **argv)
{
    struct revoke_args a;
    int rc;

    memset(&a, 0, sizeof(a));
    a.db = cli->db;
    jwtrev_conf_init(&a.conf);
    rc = revoke_parse(&a, argc, argv);
    if (rc == CLI_OK && a.help)
        revoke_usage();
    else if (rc == CLI_OK)
        rc = revoke_run(&a);
    jwtrev_conf_free(&a.conf);
    return rc;
}
