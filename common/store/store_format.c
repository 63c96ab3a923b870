/*
 * store_format.c - revocation entries: names, validation, identity order,
 * and the byte layout of their values in a store file.
 *
 * Key layout: the kind byte, for token and subject entries the issuer's
 * index in the file's table (4 bytes), then the id.  Value layout
 * (big-endian): flags (1 byte), revoked_at (8), until (8), for subject
 * entries not_before (8), then the reason (the rest).
 */
#include "config.h"

#include <string.h>

#include "storep.h"

static const char *const kind_names[] = {
    [JWTREV_ENTRY_TOKEN] = "token",
    [JWTREV_ENTRY_HASH] = "hash",
    [JWTREV_ENTRY_SUBJECT] = "subject",
    [JWTREV_ENTRY_KEY] = "key",
};

const char *
jwtrev_entry_kind_name(int kind)
{
    if (kind < JWTREV_ENTRY_TOKEN || kind > JWTREV_ENTRY_KEY)
        return NULL;
    return kind_names[kind];
}

int
jwtrev_entry_kind_parse(const char *name, jwtrev_entry_kind *out)
{
    int k;

    for (k = JWTREV_ENTRY_TOKEN; k <= JWTREV_ENTRY_KEY; k++) {
        if (strcmp(name, kind_names[k]) == 0) {
            *out = (jwtrev_entry_kind)k;
            return 0;
        }
    }
    return -JWTREV_ERR_CONFIG_ERROR;
}

/* Strict UTF-8 (no overlongs, surrogates or values past U+10FFFF) and no
 * control characters: these texts end up in logs and JSON. */
static int
text_ok(const unsigned char *p, size_t len)
{
    size_t i = 0, n, j;
    uint32_t c;

    while (i < len) {
        c = p[i];
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                return 0;
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            n = 1, c &= 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            n = 2, c &= 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            n = 3, c &= 0x07;
        else
            return 0;
        if (len - i <= n)
            return 0;
        for (j = 1; j <= n; j++) {
            if ((p[i + j] & 0xc0) != 0x80)
                return 0;
            c = (c << 6) | (p[i + j] & 0x3f);
        }
        if ((n == 2 && c < 0x800) || (n == 3 && c < 0x10000) || c > 0x10ffff ||
            (c >= 0xd800 && c <= 0xdfff) || (c >= 0x80 && c < 0xa0))
            return 0;
        i += n + 1;
    }
    return 1;
}

static int
has_issuer(int kind)
{
    return kind == JWTREV_ENTRY_TOKEN || kind == JWTREV_ENTRY_SUBJECT;
}

int
jwtrev_entry_check(const jwtrev_entry *e, jwtrev_error *err)
{
    const char *kind = jwtrev_entry_kind_name(e->kind);

    if (kind == NULL)
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "unknown entry kind %d", (int)e->kind);
    if (e->kind == JWTREV_ENTRY_HASH) {
        if (e->id_len != JWTREV_STORE_HASH_LEN)
            return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                               "a hash entry needs a 32-byte SHA-256");
    } else if (e->id_len == 0 || e->id_len > JWTREV_STORE_ID_MAX ||
               !text_ok(e->id, e->id_len)) {
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "a %s entry needs an id of 1 to %d bytes of "
                           "UTF-8 text without control characters",
                           kind, JWTREV_STORE_ID_MAX);
    }
    if (has_issuer(e->kind)
            ? e->iss_len > JWTREV_STORE_ID_MAX ||
                  !text_ok((const unsigned char *)e->iss, e->iss_len)
            : e->iss_len != 0)
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "bad issuer for a %s entry", kind);
    if (e->reason_len > JWTREV_STORE_REASON_MAX ||
        !text_ok((const unsigned char *)e->reason, e->reason_len))
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "the reason must be at most %d bytes of UTF-8 "
                           "text without control characters",
                           JWTREV_STORE_REASON_MAX);
    if (e->revoked_at < 0 || e->until < 0 || e->not_before < 0 ||
        (e->kind != JWTREV_ENTRY_SUBJECT && e->not_before != 0))
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "bad times for a %s entry", kind);
    return 0;
}

int
storep_bytes_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n > 0 ? memcmp(a, b, n) : 0;

    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen;
}

int
storep_rec_cmp(const jwtrev_entry *a, const jwtrev_entry *b)
{
    int c;

    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    /* Sets intern issuers: the same pointer is the same issuer. */
    if (a->iss != b->iss || a->iss_len != b->iss_len) {
        c = storep_bytes_cmp(a->iss, a->iss_len, b->iss, b->iss_len);
        if (c != 0)
            return c;
    }
    return storep_bytes_cmp(a->id, a->id_len, b->id, b->id_len);
}

void
storep_rec_combine(jwtrev_entry *nw, const jwtrev_entry *old)
{
    if (old->until == 0 || nw->until == 0)
        nw->until = 0;
    else if (old->until > nw->until)
        nw->until = old->until;
    if (old->not_before > nw->not_before)
        nw->not_before = old->not_before;
}

int
storep_rec_live(const jwtrev_entry *e, int64_t now)
{
    return e->until == 0 || now < e->until;
}

void
storep_put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

uint32_t
storep_get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

void
storep_put_i64(unsigned char *p, int64_t v)
{
    storep_put_u32(p, (uint32_t)((uint64_t)v >> 32));
    storep_put_u32(p + 4, (uint32_t)v);
}

int64_t
storep_get_i64(const unsigned char *p)
{
    return (int64_t)((uint64_t)storep_get_u32(p) << 32 | storep_get_u32(p + 4));
}

size_t
storep_val_encode(const storep_rec *r, unsigned char *buf)
{
    size_t n = 17;

    buf[0] = (unsigned char)r->flags;
    storep_put_i64(buf + 1, r->e.revoked_at);
    storep_put_i64(buf + 9, r->e.until);
    if (r->e.kind == JWTREV_ENTRY_SUBJECT) {
        storep_put_i64(buf + n, r->e.not_before);
        n += 8;
    }
    if (r->e.reason_len > 0)
        memcpy(buf + n, r->e.reason, r->e.reason_len);
    return n + r->e.reason_len;
}

int
storep_val_decode(const unsigned char *buf, size_t len, storep_rec *r)
{
    size_t n = r->e.kind == JWTREV_ENTRY_SUBJECT ? 25 : 17;

    if (len < n || len - n > JWTREV_STORE_REASON_MAX ||
        (buf[0] & ~(STOREP_TOMBSTONE | STOREP_SHADOW)) != 0)
        return -1;
    r->flags = buf[0];
    r->e.revoked_at = storep_get_i64(buf + 1);
    r->e.until = storep_get_i64(buf + 9);
    r->e.not_before =
        r->e.kind == JWTREV_ENTRY_SUBJECT ? storep_get_i64(buf + 17) : 0;
    r->e.reason = (const char *)buf + n;
    r->e.reason_len = len - n;
    return 0;
}

/* Index of issuer s in f's table, or -1. */
static long
iss_find(const storep_file *f, const char *s, size_t len)
{
    size_t lo = 0, hi = f->n_iss, mid;
    int c;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        c = storep_bytes_cmp(f->iss[mid].s, f->iss[mid].len, s, len);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

int
storep_key_encode(const storep_file *f, const jwtrev_entry *e,
                  unsigned char *buf, size_t *len)
{
    size_t off = 1;
    long idx;

    /* Kind 0 would name a meta record: never an entry. */
    if (jwtrev_entry_kind_name(e->kind) == NULL ||
        e->id_len > JWTREV_STORE_ID_MAX)
        return 1;
    buf[0] = (unsigned char)e->kind;
    if (has_issuer(e->kind)) {
        idx = iss_find(f, e->iss, e->iss_len);
        if (idx < 0)
            return 1;
        storep_put_u32(buf + 1, (uint32_t)idx);
        off = 5;
    }
    memcpy(buf + off, e->id, e->id_len);
    *len = off + e->id_len;
    return 0;
}

int
storep_key_decode(const storep_file *f, const unsigned char *buf, size_t len,
                  storep_rec *r)
{
    size_t off = 1;
    uint32_t idx;

    if (len < 2 || buf[0] < JWTREV_ENTRY_TOKEN || buf[0] > JWTREV_ENTRY_KEY)
        return -1;
    r->e.kind = (jwtrev_entry_kind)buf[0];
    r->e.iss = "";
    r->e.iss_len = 0;
    if (has_issuer(buf[0])) {
        if (len < 6)
            return -1;
        idx = storep_get_u32(buf + 1);
        if (idx >= f->n_iss)
            return -1;
        r->e.iss = f->iss[idx].s;
        r->e.iss_len = f->iss[idx].len;
        off = 5;
    }
    r->e.id = buf + off;
    r->e.id_len = len - off;
    if (r->e.id_len > JWTREV_STORE_ID_MAX ||
        (buf[0] == JWTREV_ENTRY_HASH && r->e.id_len != JWTREV_STORE_HASH_LEN))
        return -1;
    return 0;
}
