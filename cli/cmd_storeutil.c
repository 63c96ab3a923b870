/*
 * cmd_storeutil.c - helpers of the store commands: tokens, times, entries
 * as JSON (the dump/load format) and as text, progress on a terminal.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd_store.h"

int
store_fail(const char *cmd, int rc, const jwtrev_error *err)
{
    cli_report_error(cmd, rc, err);
    return cli_exit_code(rc);
}

int
store_put_report(const char *cmd, const char *db, const jwtrev_entry *e)
{
    char sock[PATH_MAX];
    jwtrev_error err;
    int rc = store_daemon_of(cmd, db, sock, sizeof(sock));

    if (rc < 0)
        return -rc;
    if (rc == 1)
        return store_daemon_put(cmd, sock, e);
    jwtrev_error_clear(&err);
    rc = jwtrev_store_put(db, e, &err);
    if (rc != 0)
        return store_fail(cmd, rc, &err);
    fputs("revoked: ", stdout);
    store_print_entry(stdout, e);
    return CLI_OK;
}

int
store_read_token(const char *cmd, const char *arg, jwtrev_token *t)
{
    jwtrev_error err;
    char *tok;
    size_t len;
    int rc;

    rc = cli_read_token(arg, &tok, &len);
    if (rc != CLI_OK)
        return rc;
    jwtrev_error_clear(&err);
    rc = jwtrev_token_parse_unverified(tok, len, t, &err);
    cli_free_secret(tok, len);
    if (rc != 0) {
        fprintf(stderr, "jwtrev: %s: %s: ", cmd, jwtrev_reason(rc));
        cli_fputs_printable(err.detail, stderr);
        fputc('\n', stderr);
        return CLI_USAGE;
    }
    return CLI_OK;
}

int
store_parse_time(const char *cmd, const char *opt, const char *s, int64_t *out)
{
    int64_t v;

    if (cli_parse_int64(cmd, opt, s, &v) != CLI_OK)
        return CLI_USAGE;
    if (v < 0)
        return cli_usage_error(cmd, "%s wants a Unix time >= 0", opt);
    *out = v;
    return CLI_OK;
}

void
store_text(const char *s, const char **p, size_t *len)
{
    *p = s != NULL ? s : "";
    *len = strlen(*p);
}

int
store_print_json_line(void *arg, const jwtrev_entry *e)
{
    json_t *o = jwtrev_entry_to_json(e);
    int rc;

    (void)arg;
    if (o == NULL)
        return -JWTREV_ERR_INTERNAL;
    rc = json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return rc == 0 && putchar('\n') != EOF ? 0 : -JWTREV_ERR_INTERNAL;
}

int
store_parse_sha256(const char *s, unsigned char *out)
{
    return jwtrev_sha256_from_hex(s, out);
}

int
store_entry_from_json(json_t *o, int64_t now,
                      unsigned char hash[JWTREV_STORE_HASH_LEN],
                      jwtrev_entry *e, const char **why)
{
    return jwtrev_entry_from_json(o, now, hash, e, why);
}

static void
print_time(FILE *f, const char *name, int64_t t)
{
    char buf[32];
    struct tm tm;
    time_t tt = (time_t)t;

    if (t == 0 && strcmp(name, "until") == 0)
        fprintf(f, " %s=-", name);
    else if (gmtime_r(&tt, &tm) != NULL &&
             strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) > 0)
        fprintf(f, " %s=%s", name, buf);
    else
        fprintf(f, " %s=%lld", name, (long long)t);
}

/* name="text", JSON-escaped so that any byte prints safely. */
static void
print_quoted(FILE *f, const char *name, const char *s, size_t len)
{
    json_t *v = json_stringn(s, len);
    char *q = v != NULL ? json_dumps(v, JSON_ENCODE_ANY) : NULL;

    fprintf(f, " %s=%s", name, q != NULL ? q : "\"?\"");
    free(q);
    json_decref(v);
}

void
store_print_identity(FILE *f, const jwtrev_entry *e)
{
    char h[2 * JWTREV_STORE_HASH_LEN + 1];

    fputs(jwtrev_entry_kind_name(e->kind), f);
    if (jwtrev_entry_has_iss(e->kind))
        print_quoted(f, "iss", e->iss, e->iss_len);
    if (e->kind == JWTREV_ENTRY_HASH) {
        jwtrev_hex(e->id, JWTREV_STORE_HASH_LEN, h);
        fprintf(f, " sha256=%s", h);
    } else {
        print_quoted(f, jwtrev_entry_id_name(e->kind), (const char *)e->id,
                     e->id_len);
    }
}

void
store_print_entry(FILE *f, const jwtrev_entry *e)
{
    store_print_identity(f, e);
    if (e->kind == JWTREV_ENTRY_SUBJECT)
        print_time(f, "before", e->not_before);
    print_time(f, "revoked_at", e->revoked_at);
    print_time(f, "until", e->until);
    print_quoted(f, "reason", e->reason, e->reason_len);
    fputc('\n', f);
}

static void
progress_cb(void *arg, const char *what, uint64_t done, uint64_t total)
{
    store_progress_show(arg, what, done, total);
}

void
store_progress_init(struct store_progress *sp, const char *cmd)
{
    memset(sp, 0, sizeof(*sp));
    sp->cmd = cmd;
    sp->pct = -1;
    if (isatty(STDERR_FILENO)) {
        sp->p.fn = progress_cb;
        sp->p.arg = sp;
    }
}

void
store_progress_show(struct store_progress *sp, const char *what, uint64_t done,
                    uint64_t total)
{
    int pct = total > 0 ? (int)(done * 100 / total) : 100;

    if (sp->p.fn == NULL || (pct == sp->pct && what == sp->what))
        return;
    sp->pct = pct;
    sp->what = what;
    fprintf(stderr, "\rjwtrev: %s: %s %3d%%", sp->cmd, what, pct);
    fflush(stderr);
    sp->shown = 1;
}

void
store_progress_end(struct store_progress *sp)
{
    if (sp->shown)
        fputc('\n', stderr);
    sp->shown = 0;
}
