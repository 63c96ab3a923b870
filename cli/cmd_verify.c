/*
 * cmd_verify.c - jwtrev verify: the decision the modules make, explained.
 *
 * Every policy flag is a jwtrev_conf option (the flag's name with '-'
 * spelled '_'), handed to jwtrev_conf_set as text, so the CLI, config
 * files and the PAM module share one parser.  The command line is applied
 * after --config FILE, as if its options were lines appended to the file:
 * repeatable options add to the file's, the others replace them.
 *
 * A revocation store is consulted only when asked for (--db, the global
 * --db, db= in the file): $JWTREV_DB and the default store serve the
 * store commands, so verify also works where no store exists.  A store
 * that was asked for and cannot answer is exit 3, whatever on_db_error
 * says: the tool explains, it never fails open.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum {
    OPT_CONF = 0x100, /* a jwtrev_conf option: the name says which */
    OPT_CONFIG,
    OPT_NOW,
    OPT_SIGONLY,
    OPT_JSON,
    OPT_HELP
};

static const struct option verify_opts[] = {
    {"key", required_argument, NULL, OPT_CONF},
    {"secret", required_argument, NULL, OPT_CONF},
    {"alg", required_argument, NULL, OPT_CONF},
    {"iss", required_argument, NULL, OPT_CONF},
    {"aud", required_argument, NULL, OPT_CONF},
    {"leeway", required_argument, NULL, OPT_CONF},
    {"max-age", required_argument, NULL, OPT_CONF},
    {"require", required_argument, NULL, OPT_CONF},
    {"typ", required_argument, NULL, OPT_CONF},
    {"user-claim", required_argument, NULL, OPT_CONF},
    {"db", required_argument, NULL, OPT_CONF},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"now", required_argument, NULL, OPT_NOW},
    {"signature-only", no_argument, NULL, OPT_SIGONLY},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0}};

/* One policy flag as given; name points into verify_opts. */
struct setting {
    const char *name;
    const char *value;
};

struct verify_args {
    struct setting *settings; /* in command-line order; owned */
    size_t nsettings;
    const char *config;
    const char *token_arg; /* NULL or "-": standard input */
    int64_t now;
    int now_set;
    int sigonly;
    int json;
    int help;
};

/* What the command decided, for the output step. */
struct outcome {
    int rc;           /* 0 or a negative JWTREV_ERR_* */
    jwtrev_error err; /* the detail when rc != 0 */
    jwtrev_token tok; /* filled when rc == 0 */
};

static void
verify_usage(void)
{
    printf("usage: jwtrev verify [OPTIONS] [TOKEN|-]\n"
           "\n"
           "Verify a token (read from standard input when TOKEN is - or "
           "absent)\nwith the decision the modules make: signature, claims, "
           "then the\nrevocation store when one is given.\n"
           "\n"
           "  --key [KID#]FILE   PEM public key or certificate, JWK or JWKS;\n"
           "                     KID names its keys that have none "
           "(repeatable)\n"
           "  --secret [KID#]FILE  raw HMAC secret (repeatable)\n"
           "  --alg LIST         allowed algorithms (comma-separated)\n"
           "  --iss ISS          accepted issuer (repeatable)\n"
           "  --aud AUD          accepted audience (repeatable)\n"
           "  --leeway SECONDS   clock skew allowed (default %d)\n"
           "  --max-age SECONDS  maximum age since iat\n"
           "  --require LIST     claims that must be present (default exp)\n"
           "  --typ LIST         accepted typ header values\n"
           "  --user-claim NAME  claim naming the user; it must be present\n"
           "  --db DIR           also consult this revocation store\n"
           "  --config FILE      read name=value options first; the flags "
           "above\n"
           "                     add to (repeatable) or replace its values\n"
           "  --now EPOCH        judge the token at this Unix time\n"
           "  --signature-only   check the JWS layer only; print header and "
           "payload\n"
           "  --json             print one JSON document "
           "{result, reason, detail,\n"
           "                     header, claims} on standard output\n"
           "\n"
           "Exit: 0 accepted, 1 rejected, 2 usage, key or configuration "
           "error,\n3 store error.  See jwtrev(8).\n",
           JWTREV_DEFAULT_LEEWAY);
}

/*
 * Parse argv into *a; CLI_OK or CLI_USAGE (message printed).
 * a->settings must hold argc entries.
 */
static int
parse_args(int argc, char **argv, struct verify_args *a)
{
    int c, idx;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", verify_opts, &idx)) != -1) {
        switch (c) {
        case OPT_CONF:
            a->settings[a->nsettings].name = verify_opts[idx].name;
            a->settings[a->nsettings].value = optarg;
            a->nsettings++;
            break;
        case OPT_CONFIG:
            if (a->config != NULL)
                return cli_usage_error("verify", "--config given twice");
            a->config = optarg;
            break;
        case OPT_NOW:
            if (cli_parse_int64("verify", "--now", optarg, &a->now) != 0)
                return CLI_USAGE;
            a->now_set = 1;
            break;
        case OPT_SIGONLY:
            a->sigonly = 1;
            break;
        case OPT_JSON:
            a->json = 1;
            break;
        case OPT_HELP:
            a->help = 1;
            return CLI_OK;
        default: /* ':' or '?' */
            return cli_getopt_error("verify", c, argv);
        }
    }
    if (argc - optind > 1)
        return cli_usage_error("verify", "one token at most");
    a->token_arg = optind < argc ? argv[optind] : NULL;
    return CLI_OK;
}

/* Flag names use '-', option names '_'; the rest is the same. */
static void
option_name(const char *flag, char *buf, size_t size)
{
    size_t i;

    for (i = 0; flag[i] != '\0' && i + 1 < size; i++)
        buf[i] = flag[i] == '-' ? '_' : flag[i];
    buf[i] = '\0';
}

/*
 * Fill c: the config file, then the global --db, then the flags in their
 * order (the command line overrides the file).
 */
static int
build_conf(const struct cli *cli, const struct verify_args *a, jwtrev_conf *c,
           jwtrev_error *err)
{
    char name[32];
    size_t i;
    int rc;

    if (a->config != NULL) {
        rc = jwtrev_conf_load_file(c, a->config, 0, err);
        if (rc != 0)
            return rc;
    }
    if (cli->db_given) {
        rc = jwtrev_conf_set(c, "db", cli->db, err);
        if (rc != 0)
            return rc;
    }
    for (i = 0; i < a->nsettings; i++) {
        option_name(a->settings[i].name, name, sizeof(name));
        rc = jwtrev_conf_set(c, name, a->settings[i].value, err);
        if (rc != 0)
            return rc;
    }
    /* Naming a user claim asks for what the modules check: a user. */
    c->require_user = c->user_claim_set ? JWTREV_USER_NAME : 0;
    return 0;
}

/* What judging needs, loaded once before the token is read. */
struct judge {
    jwtrev_keyring *kr;
    jwtrev_policy *policy;
    jwtrev_revdb *db; /* NULL: no revocation check */
};

static int
judge_setup(const jwtrev_conf *c, int sigonly, struct judge *j,
            jwtrev_error *err)
{
    int rc;

    rc = cli_keyring_load("verify", c, &j->kr, err);
    if (rc != 0)
        return rc;
    rc = jwtrev_policy_new(c, &j->policy, err);
    if (rc != 0)
        return rc;
    /* Revocation is judged only after the claims, which --signature-only
     * skips: it never needs the store. */
    if (c->db == NULL || sigonly)
        return 0;
    rc = jwtrev_revdb_open(c->db, &j->db, err);
    if (rc != 0 && rc != -JWTREV_ERR_DB_ERROR) {
        /* Whatever stopped the store from opening is store trouble to
         * the caller (exit 3); the detail says what it was. */
        if (err != NULL)
            err->code = JWTREV_ERR_DB_ERROR;
        rc = -JWTREV_ERR_DB_ERROR;
    }
    return rc;
}

static void
judge_free(struct judge *j)
{
    jwtrev_revdb_close(j->db);
    jwtrev_policy_free(j->policy);
    jwtrev_keyring_free(j->kr);
}

static int
judge_token(const struct judge *j, const struct verify_args *a,
            const char *token, size_t len, jwtrev_token *out, jwtrev_error *err)
{
    int64_t now = a->now_set ? a->now : cli_now();

    if (a->sigonly)
        return jwtrev_verify(j->policy, j->kr, token, len, now,
                             JWTREV_VERIFY_SIGNATURE_ONLY, out, err);
    return jwtrev_decide(j->policy, j->kr, j->db, token, len, now, out, err);
}

/*
 * The payload of an accepted token as JSON: the claims object, else (in
 * signature-only mode) the payload as a string, or as {"base64url": ...}
 * when it is not UTF-8.  NULL when out of memory.
 */
static json_t *
payload_json(const jwtrev_token *t)
{
    json_t *s;
    char *b64;

    if (t->claims != NULL)
        return json_incref(t->claims);
    s = json_stringn((const char *)t->payload, t->payload_len);
    if (s != NULL)
        return s;
    b64 = cli_b64url(t->payload, t->payload_len);
    if (b64 == NULL)
        return NULL;
    s = json_pack("{s:s}", "base64url", b64);
    free(b64);
    return s;
}

static const char *
detail_of(const struct outcome *o)
{
    return o->err.detail[0] != '\0' ? o->err.detail : jwtrev_strerror(o->rc);
}

/* The --json document: {result, reason, detail, header, claims}. */
static json_t *
outcome_json(const struct outcome *o)
{
    const char *result = "accepted";

    if (o->rc != 0)
        result = jwtrev_err_is_token_failure(o->rc) ? "rejected" : "error";
    if (o->rc != 0)
        return json_pack("{s:s, s:s, s:s, s:n, s:n}", "result", result,
                         "reason", jwtrev_reason(o->rc), "detail", detail_of(o),
                         "header", "claims");
    return json_pack("{s:s, s:n, s:n, s:O, s:o}", "result", result, "reason",
                     "detail", "header", o->tok.header, "claims",
                     payload_json(&o->tok));
}

/* Accepted without --json: the claims, or in signature-only mode the
 * header and the payload. */
static json_t *
accepted_json(const struct verify_args *a, const struct outcome *o)
{
    if (!a->sigonly)
        return json_incref(o->tok.claims);
    return json_pack("{s:O, s:o}", "header", o->tok.header, "payload",
                     payload_json(&o->tok));
}

static int
print_json(json_t *doc)
{
    int rc;

    if (doc == NULL) {
        cli_error("verify: out of memory");
        return CLI_USAGE;
    }
    rc = json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (rc != 0 || putchar('\n') == EOF || fflush(stdout) != 0) {
        cli_error("verify: cannot write to standard output");
        return CLI_USAGE;
    }
    return CLI_OK;
}

/*
 * Tell the outcome and return the exit code.  A detail may quote a claim
 * value or a file name, so control characters are not passed to the
 * terminal (jansson escapes them in JSON).
 */
static int
report(const struct verify_args *a, const struct outcome *o)
{
    if (a->json || o->rc == 0) {
        json_t *doc = a->json ? outcome_json(o) : accepted_json(a, o);
        if (print_json(doc) != CLI_OK)
            return CLI_USAGE;
        return cli_exit_code(o->rc);
    }
    if (jwtrev_err_is_token_failure(o->rc)) {
        fprintf(stderr, "rejected: %s: ", jwtrev_reason(o->rc));
        cli_fputs_printable(detail_of(o), stderr);
        fputc('\n', stderr);
    } else {
        cli_report_error("verify", o->rc, &o->err);
    }
    return cli_exit_code(o->rc);
}

int
cmd_verify(struct cli *cli, int argc, char **argv)
{
    struct verify_args a;
    struct outcome o;
    struct judge j;
    jwtrev_conf conf;
    char *token = NULL;
    size_t len = 0;
    int rc;

    memset(&a, 0, sizeof(a));
    memset(&o, 0, sizeof(o));
    memset(&j, 0, sizeof(j));
    jwtrev_conf_init(&conf);
    a.settings = calloc((size_t)argc, sizeof(*a.settings));
    if (a.settings == NULL) {
        cli_error("verify: out of memory");
        rc = CLI_USAGE;
        goto done;
    }
    rc = parse_args(argc, argv, &a);
    if (rc != CLI_OK || a.help) {
        if (a.help)
            verify_usage();
        goto done;
    }
    /* Keys, policy and store first: a configuration error shows before
     * the command waits for a token on standard input. */
    o.rc = build_conf(cli, &a, &conf, &o.err);
    if (o.rc == 0)
        o.rc = judge_setup(&conf, a.sigonly, &j, &o.err);
    if (o.rc == 0) {
        rc = cli_read_token(a.token_arg, &token, &len);
        if (rc != CLI_OK)
            goto done;
        o.rc = judge_token(&j, &a, token, len, &o.tok, &o.err);
    }
    rc = report(&a, &o);
done:
    if (token != NULL)
        cli_free_secret(token, len);
    jwtrev_token_clear(&o.tok);
    judge_free(&j);
    jwtrev_conf_free(&conf);
    free(a.settings);
    return rc;
}
