/*
 * store_set.c - entries in memory, sorted by identity: the delta's
 * changes while a writer edits them, and a batch being loaded.  Records
 * and their bytes live in an arena freed with the set.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "storep.h"

#define CHUNK_BYTES (1024 * 1024)

struct storep_chunk {
    storep_chunk *next;
    size_t used, cap;
    unsigned char mem[];
};

void
storep_set_init(storep_set *s)
{
    memset(s, 0, sizeof(*s));
}

void
storep_set_free(storep_set *s)
{
    storep_chunk *c, *next;

    for (c = s->chunks; c != NULL; c = next) {
        next = c->next;
        free(c);
    }
    free(s->v);
    storep_set_init(s);
}

static void *
arena_alloc(storep_set *s, size_t n)
{
    storep_chunk *c = s->chunks;
    size_t need = (n + 15) & ~(size_t)15;

    if (c == NULL || c->cap - c->used < need) {
        size_t cap = need > CHUNK_BYTES ? need : CHUNK_BYTES;
        c = malloc(sizeof(*c) + cap);
        if (c == NULL)
            return NULL;
        c->used = 0;
        c->cap = cap;
        c->next = s->chunks;
        s->chunks = c;
    }
    c->used += need;
    return c->mem + c->used - need;
}

/* Copy n bytes into the arena (n may be 0). */
static const void *
arena_copy(storep_set *s, const void *p, size_t n)
{
    unsigned char *d = arena_alloc(s, n + 1);

    if (d == NULL)
        return NULL;
    if (n > 0)
        memcpy(d, p, n);
    d[n] = '\0';
    return d;
}

/* Issuers repeat: one copy each, so that records of an issuer share a
 * pointer (the sort compares pointers before bytes). */
static const char *
intern_issuer(storep_set *s, const char *iss, size_t len)
{
    const char *copy;
    size_t i;

    for (i = 0; i < s->n_iss; i++) {
        if (s->iss[i].len == len &&
            (len == 0 || memcmp(s->iss[i].s, iss, len) == 0))
            return s->iss[i].s;
    }
    copy = arena_copy(s, iss, len);
    if (copy != NULL && s->n_iss < STOREP_SET_ISSUERS) {
        s->iss[s->n_iss].s = copy;
        s->iss[s->n_iss++].len = len;
    }
    return copy;
}

/*
 * Ids compare like their first 8 bytes as a big-endian number padded with
 * zeros, as long as those differ (ids of text hold no zero byte; hashes
 * are all 32 bytes): one integer compare settles most sort steps.
 */
static uint64_t
id_prefix(const unsigned char *id, size_t len)
{
    uint64_t v = 0;
    size_t i;

    for (i = 0; i < 8; i++)
        v = v << 8 | (i < len ? id[i] : 0);
    return v;
}

/* A copy of r in the arena. */
static storep_rec *
rec_copy(storep_set *s, const storep_rec *r)
{
    storep_rec *c = arena_alloc(s, sizeof(*c));

    if (c == NULL)
        return NULL;
    *c = *r;
    c->e.iss = intern_issuer(s, r->e.iss, r->e.iss_len);
    c->e.id = arena_copy(s, r->e.id, r->e.id_len);
    c->e.reason = arena_copy(s, r->e.reason, r->e.reason_len);
    if (c->e.iss == NULL || c->e.id == NULL || c->e.reason == NULL)
        return NULL;
    c->pfx = id_prefix(c->e.id, c->e.id_len);
    return c;
}

static int
grow(storep_set *s)
{
    storep_rec **v;
    size_t cap;

    if (s->n < s->cap)
        return 0;
    cap = s->cap == 0 ? 64 : s->cap * 2;
    v = realloc(s->v, cap * sizeof(*v));
    if (v == NULL)
        return -JWTREV_ERR_INTERNAL;
    s->v = v;
    s->cap = cap;
    return 0;
}

int
storep_set_append(storep_set *s, const storep_rec *r, storep_rec **out)
{
    storep_rec *c;

    if (grow(s) != 0 || (c = rec_copy(s, r)) == NULL)
        return -JWTREV_ERR_INTERNAL;
    s->v[s->n++] = c;
    if (out != NULL)
        *out = c;
    return 0;
}

/* Identity, then tag: equal identities stay in the order they came. */
static int
cmp_ptr(const void *a, const void *b)
{
    const storep_rec *x = *(storep_rec *const *)a;
    const storep_rec *y = *(storep_rec *const *)b;
    int c;

    if (x->e.kind == y->e.kind && x->e.iss == y->e.iss && x->pfx != y->pfx)
        return x->pfx < y->pfx ? -1 : 1;
    c = storep_rec_cmp(&x->e, &y->e);
    if (c != 0)
        return c;
    return x->tag < y->tag ? -1 : x->tag > y->tag;
}

void
storep_set_sort(storep_set *s)
{
    if (s->n > 1)
        qsort(s->v, s->n, sizeof(*s->v), cmp_ptr);
}

long
storep_set_find(const storep_set *s, const jwtrev_entry *e)
{
    size_t lo = 0, hi = s->n, mid;
    int c;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        c = storep_rec_cmp(&s->v[mid]->e, e);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -(long)lo - 1;
}

int
storep_set_upsert(storep_set *s, const storep_rec *r)
{
    long i = storep_set_find(s, &r->e);
    storep_rec *c;
    size_t at;

    if (i >= 0) {
        c = rec_copy(s, r);
        if (c == NULL)
            return -JWTREV_ERR_INTERNAL;
        s->v[i] = c;
        return 0;
    }
    at = (size_t)(-i - 1);
    if (grow(s) != 0 || (c = rec_copy(s, r)) == NULL)
        return -JWTREV_ERR_INTERNAL;
    memmove(s->v + at + 1, s->v + at, (s->n - at) * sizeof(*s->v));
    s->v[at] = c;
    s->n++;
    return 0;
}

void
storep_set_delete(storep_set *s, size_t i)
{
    memmove(s->v + i, s->v + i + 1, (s->n - i - 1) * sizeof(*s->v));
    s->n--;
}

size_t
storep_set_first_duplicate(const storep_set *s)
{
    size_t i;

    for (i = 1; i < s->n; i++) {
        if (storep_rec_cmp(&s->v[i - 1]->e, &s->v[i]->e) == 0)
            return i;
    }
    return 0;
}
