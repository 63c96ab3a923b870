/*
 * cli.h - the jwtrev admin tool: command table entries and the helpers
 * the commands share.
 */
#ifndef JWTREV_CLI_H
#define JWTREV_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "jwtrev.h"

/* Exit codes of every command (docs/design.md 5.1). */
enum {
    CLI_OK = 0,       /* success, accepted, not revoked */
    CLI_REJECTED = 1, /* rejected, revoked */
    CLI_USAGE = 2,    /* usage or configuration error */
    CLI_STORE = 3     /* store error */
};

struct cli {
    const char *db; /* --db, else $JWTREV_DB, else JWTREV_DEFAULT_DB */
    int db_given;   /* --db was on the command line (verify consults a
                       store only when asked) */
};

/*
 * A command: argv[0] is the command name, the rest its arguments, ready
 * for getopt_long.  Returns an exit code.
 */
typedef int cli_cmd_fn(struct cli *cli, int argc, char **argv);

cli_cmd_fn cmd_init, cmd_revoke, cmd_revoke_subject, cmd_revoke_key,
    cmd_unrevoke, cmd_status, cmd_verify, cmd_list, cmd_stats, cmd_purge,
    cmd_compact, cmd_dump, cmd_load, cmd_sign, cmd_check;

/* "jwtrev: <message>" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print "jwtrev: COMMAND: <message>" and a pointer to --help; CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Read a token: arg NULL or "-" reads standard input.  One final "\n" or
 * "\r\n" is removed; nothing else is touched (other whitespace makes the
 * token malformed, as the library decides).  On success the caller frees
 * *out.  Returns CLI_OK or CLI_USAGE (message printed).
 */
int cli_read_token(const char *arg, char **out, size_t *len);

/*
 * Report what getopt_long (run with opterr = 0 and a leading ':' in the
 * option string) returned as c, ':' or '?', naming the option; CLI_USAGE.
 */
int cli_getopt_error(const char *cmd, int c, char **argv);

/* Parse a decimal int64 option value; CLI_OK or CLI_USAGE (printed). */
int cli_parse_int64(const char *cmd, const char *opt, const char *s,
                    int64_t *out);

/* The exit code for a library result: token failure 1, store 3, else 2. */
int cli_exit_code(int err);

/* The current time, or $JWTREV_NOW when set (tests, forensics). */
int64_t cli_now(void);

/* Write s to f with control characters shown as '?' (texts that may
 * quote a token's claims or a file name). */
void cli_fputs_printable(const char *s, FILE *f);

/* "jwtrev: CMD: <err's detail, else rc's sentence>" on stderr. */
void cli_report_error(const char *cmd, int rc, const jwtrev_error *err);

/*
 * jwtrev_keyring_load, then each warning of the ring (keys of a JWKS that
 * were skipped) as "jwtrev: CMD: warning: ..." on stderr.
 */
int cli_keyring_load(const char *cmd, const jwtrev_conf *c,
                     jwtrev_keyring **out, jwtrev_error *err);

/* n bytes as unpadded base64url; the caller frees; NULL: out of memory. */
char *cli_b64url(const unsigned char *p, size_t n);

/* Wipe len bytes of a secret (a token, a key) and free it; NULL is ok. */
void cli_free_secret(char *s, size_t len);

#endif /* JWTREV_CLI_H */
