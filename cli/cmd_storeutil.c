/*
 * cmd_storeutil.c - helpers of the store commands: tokens, times, entries
 * as JSON (the dump/load format) and as text, progress on a terminal.
 */
#include "config.h"

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
    jwtrev_error err;
    int rc;

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

static const char *const id_names[] = {
    [JWTREV_ENTRY_TOKEN] = "jti",
    [JWTREV_ENTRY_HASH] = "sha256",
    [JWTREV_ENTRY_SUBJECT] = "sub",
    [JWTREV_ENTRY_KEY] = "kid",
};

static int
has_iss(int kind)
{
    return kind == JWTREV_ENTRY_TOKEN || kind == JWTREV_ENTRY_SUBJECT;
}

static void
hex(const unsigned char *p, size_t n, char *out)
{
    size_t i;

    for (i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static json_t *
id_json(const jwtrev_entry *e)
{
    char h[2 * JWTREV_STORE_HASH_LEN + 1];

    if (e->kind != JWTREV_ENTRY_HASH)
        return json_stringn((const char *)e->id, e->id_len);
    hex(e->id, JWTREV_STORE_HASH_LEN, h);
    return json_string(h);
}

/*
 * The entry as one JSON object, the dump and load format:
 * {"kind", "iss", "jti"|"sub"|"kid"|"sha256", "before", "revoked_at",
 *  "until", "reason"}.  NULL when out of memory.
 */
static json_t *
store_entry_json(const jwtrev_entry *e)
{
    json_t *o = json_object();
    int bad = o == NULL;

    bad |= json_object_set_new(o, "kind",
                               json_string(jwtrev_entry_kind_name(e->kind)));
    if (has_iss(e->kind))
        bad |= json_object_set_new(o, "iss", json_stringn(e->iss, e->iss_len));
    bad |= json_object_set_new(o, id_names[e->kind], id_json(e));
    if (e->kind == JWTREV_ENTRY_SUBJECT)
        bad |= json_object_set_new(o, "before", json_integer(e->not_before));
    bad |= json_object_set_new(o, "revoked_at", json_integer(e->revoked_at));
    bad |= json_object_set_new(o, "until", json_integer(e->until));
    bad |= json_object_set_new(o, "reason",
                               json_stringn(e->reason, e->reason_len));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int
store_print_json_line(void *arg, const jwtrev_entry *e)
{
    json_t *o = store_entry_json(e);
    int rc;

    (void)arg;
    if (o == NULL)
        return -JWTREV_ERR_INTERNAL;
    rc = json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return rc == 0 && putchar('\n') != EOF ? 0 : -JWTREV_ERR_INTERNAL;
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int
unhex(const char *s, size_t len, unsigned char *out)
{
    size_t i;
    int hi, lo;

    if (len != 2 * JWTREV_STORE_HASH_LEN)
        return -1;
    for (i = 0; i < JWTREV_STORE_HASH_LEN; i++) {
        hi = hexval(s[2 * i]);
        lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

int
store_parse_sha256(const char *s, unsigned char *out)
{
    return unhex(s, strlen(s), out);
}

static int
refuse(const char **why, const char *text)
{
    *why = text;
    return -1;
}

/* One member of an entry object; -1 and *why when it does not belong. */
static int
member(const char *name, const json_t *v, unsigned char *hash, jwtrev_entry *e,
       const char **why)
{
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    size_t len = s != NULL ? json_string_length(v) : 0;
    json_int_t n = json_is_integer(v) ? json_integer_value(v) : -1;

    if (strcmp(name, "kind") == 0)
        return 0;
    if (strcmp(name, id_names[e->kind]) == 0 && s != NULL) {
        if (e->kind == JWTREV_ENTRY_HASH && unhex(s, len, hash) != 0)
            return refuse(why, "sha256 wants 64 lowercase hex digits");
        e->id = e->kind == JWTREV_ENTRY_HASH ? hash : (const void *)s;
        e->id_len = e->kind == JWTREV_ENTRY_HASH ? JWTREV_STORE_HASH_LEN : len;
    } else if (strcmp(name, "iss") == 0 && s != NULL && has_iss(e->kind)) {
        e->iss = s, e->iss_len = len;
    } else if (strcmp(name, "reason") == 0 && s != NULL) {
        e->reason = s, e->reason_len = len;
    } else if (strcmp(name, "revoked_at") == 0 && n >= 0) {
        e->revoked_at = n;
    } else if (strcmp(name, "until") == 0 && n >= 0) {
        e->until = n;
    } else if (strcmp(name, "before") == 0 && n >= 0 &&
               e->kind == JWTREV_ENTRY_SUBJECT) {
        e->not_before = n;
    } else {
        return refuse(why, "a member is unknown for this kind or of the "
                           "wrong type");
    }
    return 0;
}

int
store_entry_from_json(json_t *o, int64_t now,
                      unsigned char hash[JWTREV_STORE_HASH_LEN],
                      jwtrev_entry *e, const char **why)
{
    const json_t *kind = json_object_get(o, "kind");
    const char *name;
    json_t *v;

    memset(e, 0, sizeof(*e));
    if (!json_is_string(kind) ||
        jwtrev_entry_kind_parse(json_string_value(kind), &e->kind) != 0)
        return refuse(why, "kind must be token, hash, subject or key");
    e->iss = e->reason = "";
    e->revoked_at = now;
    if (e->kind == JWTREV_ENTRY_SUBJECT)
        e->not_before = now;
    json_object_foreach(o, name, v)
    {
        if (member(name, v, hash, e, why) != 0)
            return -1;
    }
    if (e->id == NULL)
        return refuse(why, "the entry has no id member");
    return 0;
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
    if (has_iss(e->kind))
        print_quoted(f, "iss", e->iss, e->iss_len);
    if (e->kind == JWTREV_ENTRY_HASH) {
        hex(e->id, JWTREV_STORE_HASH_LEN, h);
        fprintf(f, " sha256=%s", h);
    } else {
        print_quoted(f, id_names[e->kind], (const char *)e->id, e->id_len);
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
