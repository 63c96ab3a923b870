/*
 * store_detail.c - the text of a rejection by the store: which entry,
 * when, why; never token material.
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include "storep.h"

/*
 * Building the detail of a rejection by hand: a revoked token is a normal
 * answer on the request path, and printf-style formatting would cost as
 * much as the lookup.
 */
struct text {
    char *p;
    size_t n, cap; /* cap includes the NUL */
};

/* Append printable ASCII of s ('?' for anything else), cut at the cap. */
static void
put(struct text *t, const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len && t->n + 1 < t->cap; i++)
        t->p[t->n++] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    t->p[t->n] = '\0';
}

static void
put_str(struct text *t, const char *s)
{
    put(t, s, strlen(s));
}

/* v >= 0 in decimal, zero-padded to width digits. */
static void
put_num(struct text *t, int64_t v, int width)
{
    char d[24];
    int n = 0;

    do {
        d[sizeof(d) - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0 || n < width);
    put(t, d + sizeof(d) - n, (size_t)n);
}

static void
put_time(struct text *t, int64_t when)
{
    time_t tt = (time_t)when;
    struct tm tm;

    if (when < 0 || gmtime_r(&tt, &tm) == NULL) {
        put_str(t, "?");
        return;
    }
    put_num(t, tm.tm_year + 1900, 4);
    put_str(t, "-");
    put_num(t, tm.tm_mon + 1, 2);
    put_str(t, "-");
    put_num(t, tm.tm_mday, 2);
    put_str(t, "T");
    put_num(t, tm.tm_hour, 2);
    put_str(t, ":");
    put_num(t, tm.tm_min, 2);
    put_str(t, ":");
    put_num(t, tm.tm_sec, 2);
    put_str(t, "Z");
}

int
storep_hit(jwtrev_error *err, int code, const storep_rec *r)
{
    struct text t;

    if (err == NULL)
        return -code;
    err->code = code;
    t.p = err->detail;
    t.n = 0;
    t.cap = sizeof(err->detail);
    if (r->e.kind == JWTREV_ENTRY_KEY) {
        put_str(&t, "key entry for kid \"");
        put(&t, (const char *)r->e.id, r->e.id_len < 40 ? r->e.id_len : 40);
        put_str(&t, "\"");
    } else if (r->e.kind == JWTREV_ENTRY_SUBJECT) {
        put_str(&t, "subject entry (tokens issued before ");
        put_time(&t, r->e.not_before);
        put_str(&t, ")");
    } else {
        put_str(&t, r->e.kind == JWTREV_ENTRY_HASH ? "token hash entry"
                                                   : "token id entry");
    }
    put_str(&t, " revoked at ");
    put_time(&t, r->e.revoked_at);
    if (r->e.reason_len > 0) {
        put_str(&t, " (");
        put(&t, r->e.reason, r->e.reason_len < 64 ? r->e.reason_len : 64);
        put_str(&t, ")");
    }
    return -code;
}
