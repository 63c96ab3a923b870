/*
 * cmd_keys.c - jwtrev keys fetch: an identity provider's JWKS fetched
 * once and installed as a key file (docs/design.md 10), for hosts
 * without jwtrevd (examples/systemd/jwtrev-keys-fetch@.timer runs it).
 *
 * Exit codes: 0 the file was replaced, or already held the set; 1 the
 * fetched set does not load (not a JWKS, a kid twice, no usable key);
 * 2 usage, a refused URL (plain http off loopback) or a file that cannot
 * be written; 3 the server could not be reached or answered wrongly
 * (DNS, connect, TLS verify, timeout, status, HTML, too large).  In every
 * case but 0 the file is as it was.
 */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "jwtrev_fetch.h"

cli_cmd_fn cmd_keys; /* main.c's table */

enum { KOPT_CA = 1, KOPT_ISSUER, KOPT_TIMEOUT, KOPT_HELP };

static const struct option keys_opts[] = {
    {"ca", required_argument, NULL, KOPT_CA},
    {"issuer", no_argument, NULL, KOPT_ISSUER},
    {"timeout", required_argument, NULL, KOPT_TIMEOUT},
    {"help", no_argument, NULL, KOPT_HELP},
    {NULL, 0, NULL, 0}};

static const char keys_usage[] =
    "usage: jwtrev keys fetch URL FILE [--ca FILE] [--issuer] "
    "[--timeout SECONDS]\n"
    "\n"
    "Fetch a JWKS over https (plain http only to 127.0.0.1, ::1,\n"
    "localhost) and replace FILE with it atomically, only when it loads.\n"
    "--issuer: URL is an OpenID issuer; its\n"
    "URL/.well-known/openid-configuration names the set (jwks_uri), and\n"
    "must name URL as its issuer.  A URL ending in\n"
    "/.well-known/openid-configuration is taken as that document.\n"
    "--ca FILE: trust these CAs instead of the system's.  --timeout: the\n"
    "whole transfer, default 30 s.  Size cap 1 MiB.\n"
    "Exit: 0 replaced or unchanged, 1 the set does not load, 2 usage or\n"
    "a refused URL, 3 the server could not be reached or answered "
    "wrongly.\n"
    "FILE is kept as it was on any failure.\n";

#define WELL_KNOWN "/.well-known/openid-configuration"

/* The one map from a library result to this command's exit code. */
static int
exit_code(int rc, int why)
{
    if (rc == 0)
        return CLI_OK;
    if (why == JWTREV_FETCH_NETWORK || why == JWTREV_FETCH_ANSWER)
        return CLI_STORE; /* 3: the server's trouble */
    return CLI_USAGE;
}

static void
print_kids(const char *what, char **kids, size_t n)
{
    size_t i;

    if (n == 0)
        return;
    printf("; %s:", what);
    for (i = 0; i < n; i++) {
        putchar(' ');
        cli_fputs_printable(kids[i], stdout);
    }
}

/* The set's URL: URL itself, or the jwks_uri its issuer names. */
static int
set_url(const char *url, int issuer, const jwtrev_fetch_opts *o, char **out,
        int *why, jwtrev_error *err)
{
    size_t n = strlen(url), k = strlen(WELL_KNOWN);
    char *iss;
    int rc;

    if (!issuer && (n <= k || strcmp(url + n - k, WELL_KNOWN) != 0)) {
        if ((*out = strdup(url)) == NULL)
            return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
        return 0;
    }
    if ((iss = strdup(url)) == NULL)
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    if (!issuer)
        iss[n - k] = '\0';
    rc = jwtrev_fetch_discover(iss, o, out, why, err);
    free(iss);
    return rc;
}

static int
keys_fetch(const char *url, const char *file, int issuer,
           const jwtrev_fetch_opts *o)
{
    jwtrev_fetch_body body = {NULL, 0, -1};
    jwtrev_fetch_change ch;
    jwtrev_error err;
    char *jwks = NULL;
    int why = 0, rc;

    jwtrev_error_clear(&err);
    rc = set_url(url, issuer, o, &jwks, &why, &err);
    if (rc == 0)
        rc = jwtrev_fetch_url(jwks, o, &body, &why, &err);
    if (rc == 0) {
        rc = jwtrev_fetch_install(file, body.data, body.len, &ch, &err);
        why = 0;
    }
    if (rc != 0) {
        cli_report_error("keys fetch", rc, &err);
        rc = rc == -JWTREV_ERR_CONFIG_ERROR && why == 0 ? CLI_REJECTED
                                                        : exit_code(rc, why);
        goto done;
    }
    cli_fputs_printable(file, stdout);
    printf(": %s (%zu keys)", ch.replaced ? "replaced" : "unchanged", ch.keys);
    print_kids("added", ch.added, ch.n_added);
    print_kids("removed", ch.removed, ch.n_removed);
    putchar('\n');
    jwtrev_fetch_change_free(&ch);
done:
    jwtrev_fetch_body_free(&body);
    free(jwks);
    return rc;
}

int
cmd_keys(struct cli *cli, int argc, char **argv)
{
    jwtrev_fetch_opts o;
    int64_t t;
    int c, issuer = 0;

    (void)cli;
    memset(&o, 0, sizeof(o));
    if (argc > 1 &&
        (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(keys_usage, stdout);
        return CLI_OK;
    }
    if (argc < 2 || strcmp(argv[1], "fetch") != 0)
        return cli_usage_error("keys", "the subcommand is fetch");
    argc--;
    argv++;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", keys_opts, NULL)) != -1) {
        switch (c) {
        case KOPT_CA:
            o.ca_file = optarg;
            break;
        case KOPT_ISSUER:
            issuer = 1;
            break;
        case KOPT_TIMEOUT:
            if (cli_parse_int64("keys fetch", "--timeout", optarg, &t) != 0)
                return CLI_USAGE;
            if (t < 1 || t > 3600)
                return cli_usage_error("keys fetch",
                                       "--timeout: 1 to 3600 seconds");
            o.timeout = (long)t;
            o.connect_timeout = (long)t;
            break;
        case KOPT_HELP:
            fputs(keys_usage, stdout);
            return CLI_OK;
        default:
            return cli_getopt_error("keys fetch", c, argv);
        }
    }
    if (argc - optind != 2)
        return cli_usage_error("keys fetch", "URL and FILE are needed");
    return keys_fetch(argv[optind], argv[optind + 1], issuer, &o);
}
