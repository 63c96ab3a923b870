/*
 * util.c - helpers shared by the jwtrev commands.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "cli.h"

void
cli_error(const char *fmt, ...)
{
    va_list ap;

    fputs("jwtrev: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int
cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "jwtrev: %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see jwtrev %s --help)\n", cmd);
    return CLI_USAGE;
}

int
cli_read_token(const char *arg, char **out, size_t *len)
{
    char *buf = NULL;
    size_t n = 0, cap = 0;

    if (arg != NULL && strcmp(arg, "-") != 0) {
        buf = strdup(arg);
        if (buf == NULL) {
            cli_error("out of memory");
            return CLI_USAGE;
        }
        n = strlen(buf);
    } else {
        /* Read everything: a cap here would hide "too_large" from the
         * library, which is the one place that judges length. */
        for (;;) {
            size_t r;
            if (cap - n < 4096) {
                char *nb = realloc(buf, cap + 65536);
                if (nb == NULL) {
                    free(buf);
                    cli_error("out of memory");
                    return CLI_USAGE;
                }
                buf = nb;
                cap += 65536;
            }
            r = fread(buf + n, 1, cap - n - 1, stdin);
            n += r;
            if (r == 0)
                break;
        }
        if (ferror(stdin)) {
            free(buf);
            cli_error("cannot read the token from standard input: %s",
                      strerror(errno));
            return CLI_USAGE;
        }
        buf[n] = '\0';
    }
    if (n > 0 && buf[n - 1] == '\n') {
        buf[--n] = '\0';
        if (n > 0 && buf[n - 1] == '\r')
            buf[--n] = '\0';
    }
    if (n == 0) {
        free(buf);
        cli_error("no token given (pass it on standard input or as "
                  "an argument)");
        return CLI_USAGE;
    }
    *out = buf;
    *len = n;
    return CLI_OK;
}

int
cli_getopt_error(const char *cmd, int c, char **argv)
{
    char shortopt[3] = {'-', (char)optopt, '\0'};
    /* A short option may sit inside a cluster ("-xy"): getopt names it in
     * optopt.  For a long one optopt is 0 (unknown) or its val, which the
     * commands keep above 0xff; it is the argument before optind. */
    const char *name =
        optopt > 0 && optopt <= 0xff ? shortopt : argv[optind - 1];

    if (c == ':')
        return cli_usage_error(cmd, "%s needs a value", name);
    return cli_usage_error(cmd, "unknown option '%s'", name);
}

int
cli_parse_int64(const char *cmd, const char *opt, const char *s, int64_t *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno != 0)
        return cli_usage_error(cmd, "%s wants a whole number, not '%s'", opt,
                               s);
    *out = v;
    return CLI_OK;
}

int
cli_exit_code(int err)
{
    if (err == 0)
        return CLI_OK;
    if (jwtrev_err_is_token_failure(err))
        return CLI_REJECTED;
    if (err == -JWTREV_ERR_DB_ERROR || err == JWTREV_ERR_DB_ERROR)
        return CLI_STORE;
    return CLI_USAGE;
}

int64_t
cli_now(void)
{
    const char *s = getenv("JWTREV_NOW");
    char *end;
    long long v;

    if (s != NULL && *s != '\0') {
        errno = 0;
        v = strtoll(s, &end, 10);
        if (*end == '\0' && errno == 0)
            return v;
    }
    return (int64_t)time(NULL);
}

void
cli_fputs_printable(const char *s, FILE *f)
{
    const unsigned char *p;

    for (p = (const unsigned char *)s; *p != '\0'; p++)
        fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, f);
}

void
cli_report_error(const char *cmd, int rc, const jwtrev_error *err)
{
    fprintf(stderr, "jwtrev: %s: ", cmd);
    if (err != NULL && err->detail[0] != '\0')
        cli_fputs_printable(err->detail, stderr);
    else
        fputs(jwtrev_strerror(rc), stderr);
    fputc('\n', stderr);
}

int
cli_keyring_load(const char *cmd, const jwtrev_conf *c, jwtrev_keyring **out,
                 jwtrev_error *err)
{
    const char *w;
    size_t i;
    int rc = jwtrev_keyring_load(c, out, err);

    for (i = 0; rc == 0 && (w = jwtrev_keyring_warning(*out, i)) != NULL; i++) {
        fprintf(stderr, "jwtrev: %s: warning: ", cmd);
        cli_fputs_printable(w, stderr);
        fputc('\n', stderr);
    }
    return rc;
}

char *
cli_b64url(const unsigned char *p, size_t n)
{
    char *out;
    size_t i, len;

    if (n > (size_t)INT32_MAX / 2)
        return NULL;
    out = malloc(4 * ((n + 2) / 3) + 1);
    if (out == NULL)
        return NULL;
    /* EVP_EncodeBlock writes standard base64 with padding and a NUL;
     * base64url is the same with two letters swapped and no padding. */
    len = (size_t)EVP_EncodeBlock((unsigned char *)out, p, (int)n);
    while (len > 0 && out[len - 1] == '=')
        len--;
    out[len] = '\0';
    for (i = 0; i < len; i++) {
        if (out[i] == '+')
            out[i] = '-';
        else if (out[i] == '/')
            out[i] = '_';
    }
    return out;
}

void
cli_free_secret(char *s, size_t len)
{
    if (s == NULL)
        return;
    OPENSSL_cleanse(s, len);
    free(s);
}
