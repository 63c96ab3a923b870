/*
 * store.c - changes to the store: one entry at a time into the delta
 * file, or a whole new base file (compact, purge, load) merged in one
 * pass from the base, the delta and a batch, in key order, so that memory
 * stays O(delta + batch) however large the base is.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "storep.h"

#define PROGRESS_EVERY 65536

/* Read the delta's entries into w->changes (at most STOREP_DELTA_MAX+1). */
static int
load_changes(storep_txn *w, jwtrev_error *err)
{
    storep_cursor c;
    int rc;

    if (w->changes_loaded || w->delta == NULL) {
        w->changes_loaded = 1;
        return 0;
    }
    rc = storep_cursor_open(w->delta, &c, err);
    while (rc == 0 && (rc = storep_cursor_next(&c, err)) == 1)
        rc = storep_set_append(&w->changes, &c.rec, NULL);
    storep_cursor_close(&c);
    if (rc < 0)
        return rc == -JWTREV_ERR_INTERNAL
                   ? jwtrevp_fail(err, JWTREV_ERR_INTERNAL, "out of memory")
                   : rc;
    w->changes_loaded = 1;
    return 0;
}

/* Write w->changes as the new delta of the current base, and publish. */
static int
write_delta(storep_txn *w, jwtrev_error *err)
{
    storep_out *o = NULL;
    storep_str *iss = NULL;
    uint32_t n_iss;
    size_t i;
    int rc;

    if (storep_iss_union(NULL, &w->changes, NULL, &iss, &n_iss) != 0)
        return jwtrevp_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    rc = storep_out_begin(w, "delta.db", w->base->id, iss, n_iss, w->changes.n,
                          &o, err);
    for (i = 0; rc == 0 && i < w->changes.n; i++)
        rc = storep_out_add(o, w->changes.v[i], err);
    if (rc == 0)
        rc = storep_out_finish(o, err);
    else
        storep_out_abort(o);
    free(iss);
    return rc == 0 ? storep_txn_bump(w, err) : rc;
}

/* After editing w->changes: a new delta, or a new base when it grew. */
static int
publish_changes(storep_txn *w, jwtrev_error *err)
{
    if (w->changes.n > STOREP_DELTA_MAX)
        return storep_compact(w, NULL, 0, NULL, NULL, err);
    return write_delta(w, err);
}

/*
 * The live entry with key's identity: from the changes (a tombstone
 * there means none), else from the base.  1 and *out (with *valbuf
 * holding its reason), 0, or an error.
 */
static int
current_entry(storep_txn *w, const jwtrev_entry *key, long *idx,
              storep_rec *out, unsigned char *valbuf, jwtrev_error *err)
{
    *idx = storep_set_find(&w->changes, key);
    if (*idx >= 0) {
        *out = *w->changes.v[*idx];
        return !(out->flags & STOREP_TOMBSTONE);
    }
    return storep_file_get(w->base, key, storep_entry_hash(w->base->hkey, key),
                           out, valbuf, err);
}

static int
txn_put(storep_txn *w, const jwtrev_entry *e, jwtrev_error *err)
{
    unsigned char valbuf[STOREP_VAL_MAX];
    storep_rec old, nw;
    long idx;
    int rc = load_changes(w, err);

    if (rc == 0)
        rc = current_entry(w, e, &idx, &old, valbuf, err);
    if (rc < 0)
        return rc;
    memset(&nw, 0, sizeof(nw));
    nw.e = *e;
    if (rc == 1)
        storep_rec_combine(&nw.e, &old.e);
    /* Shadows the base when the base has this identity: known from the
     * change already there, or from the lookup that just found it. */
    if (idx >= 0 ? (old.flags & (STOREP_SHADOW | STOREP_TOMBSTONE)) != 0
                 : rc == 1)
        nw.flags = STOREP_SHADOW;
    if (storep_set_upsert(&w->changes, &nw) != 0)
        return jwtrevp_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    return publish_changes(w, err);
}

static int
txn_remove(storep_txn *w, const jwtrev_entry *key, int *removed,
           jwtrev_error *err)
{
    unsigned char valbuf[STOREP_VAL_MAX];
    storep_rec old;
    long idx;
    int rc = load_changes(w, err);

    if (rc == 0)
        rc = current_entry(w, key, &idx, &old, valbuf, err);
    if (rc <= 0) {
        *removed = 0;
        return rc;
    }
    if (idx >= 0 && !(old.flags & STOREP_SHADOW)) {
        /* Only ever in the delta: forget it. */
        storep_set_delete(&w->changes, (size_t)idx);
    } else {
        old.e.reason_len = 0;
        old.flags = STOREP_TOMBSTONE | STOREP_SHADOW;
        if (storep_set_upsert(&w->changes, &old) != 0)
            return jwtrevp_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    }
    *removed = 1;
    return publish_changes(w, err);
}

int
jwtrev_store_put(const char *dir, const jwtrev_entry *e, jwtrev_error *err)
{
    storep_txn w;
    int rc = jwtrev_entry_check(e, err);

    if (rc == 0)
        rc = storep_txn_begin(dir, &w, err);
    if (rc != 0)
        return rc;
    rc = txn_put(&w, e, err);
    storep_txn_end(&w);
    return rc;
}

int
jwtrev_store_remove(const char *dir, const jwtrev_entry *key, int *removed,
                    jwtrev_error *err)
{
    storep_txn w;
    int found = 0, rc;

    rc = storep_txn_begin(dir, &w, err);
    if (rc != 0)
        return rc;
    rc = txn_remove(&w, key, &found, err);
    storep_txn_end(&w);
    if (rc == 0)
        *removed = found;
    return rc;
}

int
jwtrev_store_compact(const char *dir, const jwtrev_store_progress *p,
                     jwtrev_error *err)
{
    storep_txn w;
    int rc = storep_txn_begin(dir, &w, err);

    if (rc != 0)
        return rc;
    rc = storep_compact(&w, NULL, 0, p, NULL, err);
    storep_txn_end(&w);
    return rc;
}

int
jwtrev_store_purge(const char *dir, int64_t now, const jwtrev_store_progress *p,
                   uint64_t *dropped, jwtrev_error *err)
{
    storep_txn w;
    uint64_t n = 0;
    int rc;

    if (now <= 0)
        return jwtrevp_fail(err, JWTREV_ERR_CONFIG_ERROR,
                            "purge needs a positive time");
    rc = storep_txn_begin(dir, &w, err);
    if (rc != 0)
        return rc;
    rc = storep_compact(&w, NULL, now, p, &n, err);
    storep_txn_end(&w);
    if (rc == 0 && dropped != NULL)
        *dropped = n;
    return rc;
}

/* ---- the merge behind compact, purge and load -------------------------------
 */

/* Where the merge stands in each of its three sorted inputs. */
struct merge {
    storep_cursor base;
    int base_has; /* base.rec is the base's next entry */
    const storep_set *changes, *batch;
    size_t ci, bi;
};

/* The smallest identity among the inputs' next entries, or NULL. */
static const jwtrev_entry *
merge_min(const struct merge *m)
{
    const jwtrev_entry *min = m->base_has ? &m->base.rec.e : NULL;
    const jwtrev_entry *c;

    if (m->ci < m->changes->n) {
        c = &m->changes->v[m->ci]->e;
        if (min == NULL || storep_rec_cmp(c, min) < 0)
            min = c;
    }
    if (m->batch != NULL && m->bi < m->batch->n) {
        c = &m->batch->v[m->bi]->e;
        if (min == NULL || storep_rec_cmp(c, min) < 0)
            min = c;
    }
    return min;
}

/*
 * The entry with identity key after base, delta and batch have had their
 * say: *out, and 1 when there is a live one.  Moves past key in the delta
 * and the batch; the base's record stays valid until merge_next_base().
 */
static int
merge_resolve(struct merge *m, const jwtrev_entry *key, storep_rec *out)
{
    storep_rec cur, nw;
    int have = 0;

    memset(&cur, 0, sizeof(cur));
    if (m->base_has && storep_rec_cmp(&m->base.rec.e, key) == 0) {
        cur = m->base.rec;
        have = 1;
    }
    if (m->ci < m->changes->n &&
        storep_rec_cmp(&m->changes->v[m->ci]->e, key) == 0) {
        cur = *m->changes->v[m->ci++];
        have = !(cur.flags & STOREP_TOMBSTONE);
    }
    if (m->batch != NULL && m->bi < m->batch->n &&
        storep_rec_cmp(&m->batch->v[m->bi]->e, key) == 0) {
        nw = *m->batch->v[m->bi++];
        if (have)
            storep_rec_combine(&nw.e, &cur.e);
        cur = nw;
        have = 1;
    }
    cur.flags = 0;
    *out = cur;
    return have;
}

/* Move the base past key (last: key may point into its record). */
static int
merge_next_base(struct merge *m, const jwtrev_entry *key, jwtrev_error *err)
{
    int rc;

    if (!m->base_has || storep_rec_cmp(&m->base.rec.e, key) != 0)
        return 0;
    rc = storep_cursor_next(&m->base, err);
    m->base_has = rc == 1;
    return rc < 0 ? rc : 0;
}

static void
progress(const jwtrev_store_progress *p, const char *what, uint64_t done,
         uint64_t total)
{
    if (p != NULL && p->fn != NULL)
        p->fn(p->arg, what, done < total ? done : total, total);
}

static uint64_t
base_total(const storep_file *f)
{
    int64_t n = 0;
    int k;

    for (k = JWTREV_ENTRY_TOKEN; k <= JWTREV_ENTRY_KEY; k++)
        n += f->count[k] > 0 ? f->count[k] : 0;
    return (uint64_t)n;
}

/* Stream the merged entries of m into o. */
static int
merge_into(struct merge *m, storep_out *o, int64_t purge_now,
           const jwtrev_store_progress *p, uint64_t total, uint64_t *dropped,
           jwtrev_error *err)
{
    const jwtrev_entry *min;
    storep_rec r;
    uint64_t seen = 0;
    int rc = 0;

    while (rc == 0 && (min = merge_min(m)) != NULL) {
        if (merge_resolve(m, min, &r)) {
            if (purge_now != 0 && !storep_rec_live(&r.e, purge_now))
                (*dropped)++;
            else
                rc = storep_out_add(o, &r, err);
        }
        if (rc == 0)
            rc = merge_next_base(m, min, err);
        if (++seen % PROGRESS_EVERY == 0)
            progress(p, "writing", seen, total);
    }
    if (rc == 0)
        progress(p, "writing", total, total);
    return rc;
}

/* Write an empty delta for the base with id base_id. */
static int
write_empty_delta(storep_txn *w, const unsigned char *base_id,
                  jwtrev_error *err)
{
    storep_out *o;
    int rc = storep_out_begin(w, "delta.db", base_id, NULL, 0, 0, &o, err);

    return rc == 0 ? storep_out_finish(o, err) : rc;
}

int
storep_compact(storep_txn *w, const storep_set *batch, int64_t purge_now,
               const jwtrev_store_progress *p, uint64_t *dropped,
               jwtrev_error *err)
{
    unsigned char base_id[STOREP_ID_LEN];
    storep_str *iss = NULL;
    storep_out *o = NULL;
    struct merge m;
    uint32_t n_iss = 0;
    uint64_t total, nd = 0;
    int rc = load_changes(w, err);

    memset(&m, 0, sizeof(m));
    m.changes = &w->changes;
    m.batch = batch;
    total = base_total(w->base) + w->changes.n + (batch ? batch->n : 0);
    if (rc == 0 &&
        storep_iss_union(w->base, &w->changes, batch, &iss, &n_iss) != 0)
        rc = jwtrevp_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    if (rc == 0)
        rc = storep_cursor_open(w->base, &m.base, err);
    if (rc == 0) {
        rc = storep_cursor_next(&m.base, err);
        m.base_has = rc == 1;
        rc = rc < 0 ? rc : 0;
    }
    if (rc == 0)
        rc = storep_out_begin(w, "base.db", NULL, iss, n_iss, total, &o, err);
    if (rc == 0)
        rc = merge_into(&m, o, purge_now, p, total, &nd, err);
    if (rc == 0) {
        memcpy(base_id, storep_out_id(o), STOREP_ID_LEN);
        rc = storep_out_finish(o, err); /* frees o either way */
    } else {
        storep_out_abort(o);
    }
    storep_cursor_close(&m.base);
    /* A crash here leaves the old delta, which readers and writers then
     * ignore: it names the old base, and the new base holds its changes. */
    if (rc == 0)
        rc = write_empty_delta(w, base_id, err);
    if (rc == 0)
        rc = storep_txn_bump(w, err);
    free(iss);
    if (rc == 0 && dropped != NULL)
        *dropped = nd;
    return rc;
}

/* ---- batches (jwtrev load)
 * ------------------------------------------------------ */

struct jwtrev_store_batch {
    storep_set set;
};

int
jwtrev_store_batch_new(jwtrev_store_batch **out)
{
    jwtrev_store_batch *b = calloc(1, sizeof(*b));

    if (b == NULL)
        return -JWTREV_ERR_INTERNAL;
    storep_set_init(&b->set);
    *out = b;
    return 0;
}

int
jwtrev_store_batch_add(jwtrev_store_batch *b, const jwtrev_entry *e,
                       uint64_t tag, jwtrev_error *err)
{
    storep_rec r;
    int rc = jwtrev_entry_check(e, err);

    if (rc != 0)
        return rc;
    memset(&r, 0, sizeof(r));
    r.e = *e;
    r.tag = tag;
    if (storep_set_append(&b->set, &r, NULL) != 0)
        return jwtrevp_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    return 0;
}

size_t
jwtrev_store_batch_count(const jwtrev_store_batch *b)
{
    return b->set.n;
}

int
jwtrev_store_batch_commit(const char *dir, jwtrev_store_batch *b,
                          const jwtrev_store_progress *p, jwtrev_error *err)
{
    storep_txn w;
    size_t dup;
    int rc;

    progress(p, "sorting", 0, b->set.n);
    storep_set_sort(&b->set);
    dup = storep_set_first_duplicate(&b->set);
    if (dup != 0)
        return jwtrevp_fail(err, JWTREV_ERR_CONFIG_ERROR,
                            "line %llu repeats the entry of line %llu",
                            (unsigned long long)b->set.v[dup]->tag,
                            (unsigned long long)b->set.v[dup - 1]->tag);
    rc = storep_txn_begin(dir, &w, err);
    if (rc != 0)
        return rc;
    rc = storep_compact(&w, &b->set, 0, p, NULL, err);
    storep_txn_end(&w);
    return rc;
}

void
jwtrev_store_batch_free(jwtrev_store_batch *b)
{
    if (b == NULL)
        return;
    storep_set_free(&b->set);
    free(b);
}

/* ---- the writes a module makes (jwtrev.h)
 * --------------------------------------- */

static int64_t
add_sat(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

void
jwtrev_entry_for_token(const jwtrev_token *t, int64_t leeway, int64_t now,
                       const char *reason, jwtrev_entry *out)
{
    jwtrev_entry e;
    const char *r = reason != NULL ? reason : "";

    memset(&e, 0, sizeof(e));
    e.kind = JWTREV_ENTRY_TOKEN;
    e.iss = t->iss != NULL ? t->iss : "";
    e.iss_len = strlen(e.iss);
    e.id = (const unsigned char *)t->jti;
    e.id_len = t->jti != NULL ? strlen(t->jti) : 0;
    e.revoked_at = now;
    if (t->has_exp) {
        e.until = add_sat(t->exp, leeway > 0 ? leeway : 0);
        if (e.until <= 0)
            e.until = 1; /* expired long ago: purge drops it at once */
    }
    e.reason = r;
    e.reason_len = strlen(r);
    /* Without a usable (iss, jti): the hash of this token's signing
     * input, which every re-encoding of its signature shares. */
    if (t->jti == NULL || jwtrev_entry_check(&e, NULL) != 0) {
        e.kind = JWTREV_ENTRY_HASH;
        e.iss = "";
        e.iss_len = 0;
        e.id = t->sighash;
        e.id_len = sizeof(t->sighash);
    }
    *out = e;
}

int
jwtrev_store_revoke_token(const char *dir, const jwtrev_token *t,
                          int64_t leeway, int64_t now, const char *reason,
                          jwtrev_error *err)
{
    jwtrev_entry e;

    jwtrev_entry_for_token(t, leeway, now, reason, &e);
    return jwtrev_store_put(dir, &e, err);
}

int
jwtrev_store_revoke_subject(const char *dir, const char *iss, const char *sub,
                            int64_t before, int64_t until, int64_t now,
                            const char *reason, jwtrev_error *err)
{
    jwtrev_entry e;
    const char *r = reason != NULL ? reason : "";

    if (sub == NULL)
        return jwtrevp_fail(err, JWTREV_ERR_CONFIG_ERROR,
                            "a subject revocation needs a subject");
    memset(&e, 0, sizeof(e));
    e.kind = JWTREV_ENTRY_SUBJECT;
    e.iss = iss != NULL ? iss : "";
    e.iss_len = strlen(e.iss);
    e.id = (const unsigned char *)sub;
    e.id_len = strlen(sub);
    e.revoked_at = now;
    e.until = until;
    e.not_before = before;
    e.reason = r;
    e.reason_len = strlen(r);
    return jwtrev_store_put(dir, &e, err);
}
