/*
 * store_merge.c - a whole new base file (compact, purge, load): the base,
 * the delta and a batch merged in one pass in key order, so that memory
 * stays O(delta + batch) however large the base is.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "storep.h"

#define PROGRESS_EVERY 65536

/* ---- the merge behind compact, purge and load ---------------------------- */

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
storep_merge_into_out(const storep_file *base, const storep_set *changes,
                      const storep_set *batch, int64_t purge_now,
                      const jwtrev_store_progress *p, storep_out *o,
                      uint64_t *dropped, jwtrev_error *err)
{
    struct merge m;
    uint64_t total;
    int rc;

    memset(&m, 0, sizeof(m));
    m.changes = changes;
    m.batch = batch;
    total = base_total(base) + changes->n + (batch ? batch->n : 0);
    rc = storep_cursor_open(base, &m.base, err);
    if (rc == 0) {
        rc = storep_cursor_next(&m.base, err);
        m.base_has = rc == 1;
        rc = rc < 0 ? rc : 0;
    }
    if (rc == 0)
        rc = merge_into(&m, o, purge_now, p, total, dropped, err);
    storep_cursor_close(&m.base);
    return rc;
}

int
storep_compact(storep_txn *w, const storep_set *batch, int64_t purge_now,
               const jwtrev_store_progress *p, uint64_t *dropped,
               jwtrev_error *err)
{
    unsigned char base_id[STOREP_ID_LEN];
    storep_str *iss = NULL;
    storep_out *o = NULL;
    uint32_t n_iss = 0;
    uint64_t total, nd = 0;
    int rc = storep_txn_load_changes(w, err);

    total = base_total(w->base) + w->changes.n + (batch ? batch->n : 0);
    if (rc == 0 &&
        storep_iss_union(w->base, &w->changes, batch, &iss, &n_iss) != 0)
        rc = jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    if (rc == 0)
        rc = storep_out_begin(w, "base.db", NULL, iss, n_iss, total, &o, err);
    if (rc == 0) {
        storep_out_set_parent(o, w->base->id);
        rc = storep_merge_into_out(w->base, &w->changes, batch, purge_now, p, o,
                                   &nd, err);
    }
    if (rc == 0) {
        memcpy(base_id, storep_out_id(o), STOREP_ID_LEN);
        rc = storep_out_finish(o, err); /* frees o either way */
    } else {
        storep_out_abort(o);
    }
    /* A crash here leaves the old delta, one fold behind the new base:
     * readers and writers still read the pair right (storep_pair_kind). */
    if (rc == 0)
        rc = write_empty_delta(w, base_id, err);
    if (rc == 0)
        rc = storep_txn_bump(w, err);
    free(iss);
    if (rc == 0 && dropped != NULL)
        *dropped = nd;
    return rc;
}

/* ---- batches (jwtrev load) ----------------------------------------------- */

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
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
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
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
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
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
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
