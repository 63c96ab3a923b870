/*
 * cmd_sign.c - jwtrev sign: issue a token (service accounts, tests,
 * examples).
 *
 * Claims precedence: a flag (--sub, --iss, --aud, --jti, --ttl for exp)
 * replaces the member of the same name from --claims; iat (now) and exp
 * (now + 3600) are added only when neither --claims nor a flag gave them.
 * --ttl 0 leaves exp out.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "cli.h"

#define SIGN_DEFAULT_TTL 3600
#define JTI_AUTO_BYTES 16

enum {
    OPT_KEY = 0x100,
    OPT_SECRET,
    OPT_ALG,
    OPT_KID,
    OPT_CLAIMS,
    OPT_SUB,
    OPT_ISS,
    OPT_AUD,
    OPT_TTL,
    OPT_JTI,
    OPT_NOW,
    OPT_HELP
};

static const struct option sign_opts[] = {
    {"key", required_argument, NULL, OPT_KEY},
    {"secret", required_argument, NULL, OPT_SECRET},
    {"alg", required_argument, NULL, OPT_ALG},
    {"kid", required_argument, NULL, OPT_KID},
    {"claims", required_argument, NULL, OPT_CLAIMS},
    {"sub", required_argument, NULL, OPT_SUB},
    {"iss", required_argument, NULL, OPT_ISS},
    {"aud", required_argument, NULL, OPT_AUD},
    {"ttl", required_argument, NULL, OPT_TTL},
    {"jti", required_argument, NULL, OPT_JTI},
    {"now", required_argument, NULL, OPT_NOW},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0}};

struct sign_args {
    const char *key; /* the --key or --secret file */
    int secret_file; /* key is a raw HMAC secret (--secret) */
    int alg;         /* -1: the key type's default */
    const char *kid;
    const char *claims; /* JSON object text */
    const char *sub, *iss, *jti;
    const char **aud; /* argc entries; naud used */
    size_t naud;
    int64_t ttl;
    int ttl_set;
    int64_t now;
    int now_set;
    int help;
};

static void
sign_usage(void)
{
    printf("usage: jwtrev sign --key FILE|--secret FILE [OPTIONS]\n"
           "\n"
           "Issue a token and print it on standard output.\n"
           "\n"
           "  --key FILE      private key: PEM or JWK with private parts\n"
           "  --secret FILE   raw HMAC secret instead (HS256 unless "
           "--alg)\n"
           "  --alg ALG       algorithm (default: the key type's)\n"
           "  --kid KID       key id for the header\n"
           "  --claims JSON   a JSON object of claims to start from\n"
           "  --sub SUB       subject\n"
           "  --iss ISS       issuer\n"
           "  --aud AUD       audience (repeatable: an array when more "
           "than one)\n"
           "  --ttl SECONDS   exp = now + SECONDS (default %d; 0: no exp)\n"
           "  --jti ID|auto   token id; auto: 16 random bytes, base64url\n"
           "  --now EPOCH     issue at this Unix time instead of now\n"
           "\n"
           "Flags replace members of --claims; iat and exp are added when "
           "not given.\nExit: 0 signed, 2 usage, key or claims error.  "
           "See jwtrev(8).\n",
           SIGN_DEFAULT_TTL);
}

static int
set_key(struct sign_args *a, const char *path, int secret)
{
    if (a->key != NULL)
        return cli_usage_error("sign", "give one --key or --secret");
    a->key = path;
    a->secret_file = secret;
    return CLI_OK;
}

static int
set_alg(struct sign_args *a, const char *name)
{
    jwtrev_alg alg;

    if (jwtrev_alg_from_name(name, strlen(name), &alg) != 0)
        return cli_usage_error("sign", "unknown algorithm '%s'", name);
    a->alg = (int)alg;
    return CLI_OK;
}

static int
set_ttl(struct sign_args *a, const char *s)
{
    if (cli_parse_int64("sign", "--ttl", s, &a->ttl) != CLI_OK)
        return CLI_USAGE;
    if (a->ttl < 0)
        return cli_usage_error("sign", "--ttl wants seconds >= 0 (use "
                                       "--now for a token in the past)");
    a->ttl_set = 1;
    return CLI_OK;
}

/* One option; CLI_OK or CLI_USAGE (message printed). */
static int
take_option(struct sign_args *a, int c, const char *arg)
{
    switch (c) {
    case OPT_KEY:
    case OPT_SECRET:
        return set_key(a, arg, c == OPT_SECRET);
    case OPT_ALG:
        return set_alg(a, arg);
    case OPT_KID:
        a->kid = arg;
        return CLI_OK;
    case OPT_CLAIMS:
        a->claims = arg;
        return CLI_OK;
    case OPT_SUB:
        a->sub = arg;
        return CLI_OK;
    case OPT_ISS:
        a->iss = arg;
        return CLI_OK;
    case OPT_AUD:
        a->aud[a->naud++] = arg;
        return CLI_OK;
    case OPT_TTL:
        return set_ttl(a, arg);
    case OPT_JTI:
        a->jti = arg;
        return CLI_OK;
    case OPT_NOW:
        a->now_set = 1;
        return cli_parse_int64("sign", "--now", arg, &a->now);
    }
    return CLI_USAGE;
}

/* a->aud must hold argc entries. */
static int
parse_args(int argc, char **argv, struct sign_args *a)
{
    int c, rc;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", sign_opts, NULL)) != -1) {
        if (c == OPT_HELP) {
            a->help = 1;
            return CLI_OK;
        }
        if (c == ':' || c == '?')
            return cli_getopt_error("sign", c, argv);
        rc = take_option(a, c, optarg);
        if (rc != CLI_OK)
            return rc;
    }
    if (optind < argc)
        return cli_usage_error("sign", "unexpected argument '%s'",
                               argv[optind]);
    if (a->key == NULL)
        return cli_usage_error("sign", "--key FILE or --secret FILE is "
                                       "required");
    return CLI_OK;
}

/* The --claims object, or an empty one; CLI_OK or CLI_USAGE. */
static int
base_claims(const char *text, json_t **out)
{
    json_error_t jerr;
    json_t *o;

    if (text == NULL)
        o = json_object();
    else
        o = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (o == NULL && text != NULL)
        return cli_usage_error("sign", "--claims is not valid JSON: %s",
                               jerr.text);
    if (!json_is_object(o)) {
        json_decref(o);
        return cli_usage_error("sign", "--claims must be a JSON object");
    }
    *out = o;
    return CLI_OK;
}

/* Set claim name (stealing value); a NULL value is a refused string. */
static int
set_claim(json_t *claims, const char *name, json_t *value)
{
    if (value == NULL)
        return cli_usage_error("sign", "the %s value is not valid UTF-8", name);
    if (json_object_set_new(claims, name, value) != 0) {
        cli_error("sign: out of memory");
        return CLI_USAGE;
    }
    return CLI_OK;
}

static json_t *
aud_value(const struct sign_args *a)
{
    json_t *arr;
    size_t i;

    if (a->naud == 1)
        return json_string(a->aud[0]);
    arr = json_array();
    for (i = 0; arr != NULL && i < a->naud; i++) {
        if (json_array_append_new(arr, json_string(a->aud[i])) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    return arr;
}

/* 16 random bytes, base64url: unique without coordination. */
static json_t *
random_jti(void)
{
    unsigned char buf[JTI_AUTO_BYTES];
    json_t *v;
    char *s;

    if (RAND_bytes(buf, sizeof(buf)) != 1)
        return NULL;
    s = cli_b64url(buf, sizeof(buf));
    v = s != NULL ? json_string(s) : NULL;
    free(s);
    return v;
}

/* iat and exp, by the precedence in the comment at the top. */
static int
set_times(const struct sign_args *a, int64_t now, json_t *claims)
{
    int64_t ttl = a->ttl_set ? a->ttl : SIGN_DEFAULT_TTL;
    int rc = CLI_OK;

    if (json_object_get(claims, "iat") == NULL)
        rc = set_claim(claims, "iat", json_integer(now));
    if (rc != CLI_OK || (!a->ttl_set && json_object_get(claims, "exp")))
        return rc;
    if (ttl == 0) {
        json_object_del(claims, "exp");
        return CLI_OK;
    }
    if (now > INT64_MAX - ttl)
        return cli_usage_error("sign", "--now plus --ttl is too large");
    return set_claim(claims, "exp", json_integer(now + ttl));
}

static int
build_claims(const struct sign_args *a, int64_t now, json_t **out)
{
    json_t *claims = NULL;
    int rc;

    rc = base_claims(a->claims, &claims);
    if (rc == CLI_OK && a->iss != NULL)
        rc = set_claim(claims, "iss", json_string(a->iss));
    if (rc == CLI_OK && a->sub != NULL)
        rc = set_claim(claims, "sub", json_string(a->sub));
    if (rc == CLI_OK && a->naud > 0)
        rc = set_claim(claims, "aud", aud_value(a));
    if (rc == CLI_OK)
        rc = set_times(a, now, claims);
    if (rc == CLI_OK && a->jti != NULL && strcmp(a->jti, "auto") == 0)
        rc = set_claim(claims, "jti", random_jti());
    else if (rc == CLI_OK && a->jti != NULL)
        rc = set_claim(claims, "jti", json_string(a->jti));
    if (rc != CLI_OK) {
        json_decref(claims);
        return rc;
    }
    *out = claims;
    return CLI_OK;
}

/* Load the key and sign; CLI_OK or an exit code (message printed). */
static int
sign_claims(const struct sign_args *a, const json_t *claims, char **out)
{
    jwtrev_signkey *k = NULL;
    jwtrev_error err;
    int rc;

    jwtrev_error_clear(&err);
    rc = jwtrev_signkey_load(a->key, a->secret_file ? JWTREV_SIGNKEY_SECRET : 0,
                             a->alg, &k, &err);
    if (rc == 0)
        rc = jwtrev_sign(k, a->kid, claims, out, &err);
    jwtrev_signkey_free(k);
    if (rc == 0)
        return CLI_OK;
    cli_report_error("sign", rc, &err);
    return cli_exit_code(rc);
}

int
cmd_sign(struct cli *cli, int argc, char **argv)
{
    struct sign_args a;
    json_t *claims = NULL;
    char *token = NULL;
    int rc;

    (void)cli; /* signing needs no store */
    memset(&a, 0, sizeof(a));
    a.alg = -1;
    a.aud = calloc((size_t)argc, sizeof(*a.aud));
    if (a.aud == NULL) {
        cli_error("sign: out of memory");
        return CLI_USAGE;
    }
    rc = parse_args(argc, argv, &a);
    if (rc != CLI_OK || a.help) {
        if (a.help)
            sign_usage();
        goto done;
    }
    rc = build_claims(&a, a.now_set ? a.now : cli_now(), &claims);
    if (rc == CLI_OK)
        rc = sign_claims(&a, claims, &token);
    if (rc == CLI_OK && (printf("%s\n", token) < 0 || fflush(stdout) != 0)) {
        cli_error("sign: cannot write to standard output");
        rc = CLI_USAGE;
    }
done:
    /* The token is a bearer credential: wipe it. */
    cli_free_secret(token, token != NULL ? strlen(token) : 0);
    json_decref(claims);
    free(a.aud);
    return rc;
}
