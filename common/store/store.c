/*
 * store.c - changes to the store one entry at a time: the delta file is
 * read into memory, edited and written anew (store_merge.c folds it into
 * the base when it grows past STOREP_DELTA_MAX); and the writes the
 * modules make.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "storep.h"

int
storep_txn_load_changes(storep_txn *w, jwtrev_error *err)
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
                   ? jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory")
                   : rc;
    /* The delta of the base before (a fold beside us put its base in
     * place and is about to put its delta, or died doing so). */
    if (storep_pair_kind(w->base, w->delta) == STOREP_PAIR_BEHIND) {
        rc = storep_rebase(w, &w->changes, NULL, err);
        if (rc != 0)
            return rc;
    }
    w->changes_loaded = 1;
    return 0;
}

/* Same times and reason: the fold took this very entry. */
static int
rec_same(const storep_rec *a, const storep_rec *b)
{
    return a->e.revoked_at == b->e.revoked_at && a->e.until == b->e.until &&
           a->e.not_before == b->e.not_before &&
           a->e.reason_len == b->e.reason_len &&
           (a->e.reason_len == 0 ||
            memcmp(a->e.reason, b->e.reason, a->e.reason_len) == 0);
}

int
storep_rebase(storep_txn *w, storep_set *changes, const storep_set *folded,
              jwtrev_error *err)
{
    unsigned char valbuf[STOREP_VAL_MAX];
    storep_rec *r, old;
    size_t i, j;
    long k;
    int got;

    for (i = j = 0; i < changes->n; i++) {
        r = changes->v[i];
        k = folded != NULL ? storep_set_find(folded, &r->e) : -1;
        if (k >= 0 && folded->v[k]->flags == r->flags &&
            ((r->flags & STOREP_TOMBSTONE) || rec_same(folded->v[k], r)))
            continue; /* in the new base as it is (or gone from it) */
        got = storep_file_get(w->base, &r->e,
                              storep_entry_hash(w->base->hkey, &r->e), &old,
                              valbuf, err);
        if (got < 0)
            return got;
        if (r->flags & STOREP_TOMBSTONE) {
            if (!got)
                continue; /* nothing left to hide */
        } else if (got && rec_same(&old, r)) {
            continue;
        }
        r->flags = (r->flags & STOREP_TOMBSTONE) | (got ? STOREP_SHADOW : 0);
        changes->v[j++] = r;
    }
    changes->n = j; /* the records dropped stay in the arena until freed */
    return 0;
}

int
storep_txn_write_delta(storep_txn *w, jwtrev_error *err)
{
    storep_out *o = NULL;
    storep_str *iss = NULL;
    uint32_t n_iss;
    size_t i;
    int rc;

    if (storep_iss_union(NULL, &w->changes, NULL, &iss, &n_iss) != 0)
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
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

/* After editing w->changes: a new delta, or a new base when it grew
 * (unless the store's daemon folds it beside the writers). */
static int
publish_changes(storep_txn *w, jwtrev_error *err)
{
    if (w->changes.n > STOREP_DELTA_MAX && !w->daemon_owned)
        return storep_compact(w, NULL, 0, NULL, NULL, err);
    return storep_txn_write_delta(w, err);
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
    int rc = storep_txn_load_changes(w, err);

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
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    return 0;
}

static int
txn_remove(storep_txn *w, const jwtrev_entry *key, int *removed,
           jwtrev_error *err)
{
    unsigned char valbuf[STOREP_VAL_MAX];
    storep_rec old;
    long idx;
    int rc = storep_txn_load_changes(w, err);

    if (rc == 0)
        rc = current_entry(w, key, &idx, &old, valbuf, err);
    if (rc <= 0) {
        *removed = 0;
        return rc;
    }
    if (idx >= 0 && !(old.flags & STOREP_SHADOW) && !w->daemon_owned) {
        /* Only ever in the delta: forget it. */
        storep_set_delete(&w->changes, (size_t)idx);
    } else {
        old.e.reason_len = 0;
        /* Only a base entry is shadowed (a daemon's store keeps
         * tombstones of delta-only entries too). */
        old.flags =
            STOREP_TOMBSTONE |
            (idx < 0 || (old.flags & STOREP_SHADOW) ? STOREP_SHADOW : 0);
        if (storep_set_upsert(&w->changes, &old) != 0)
            return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    }
    *removed = 1;
    return 0;
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
    if (rc == 0)
        rc = publish_changes(&w, err);
    storep_txn_end(&w);
    return rc;
}

int
jwtrev_store_remove(const char *dir, const jwtrev_entry *key, int *removed,
                    jwtrev_error *err)
{
    storep_txn w;
    int found = 0, rc;

    if (jwtrev_entry_kind_name(key->kind) == NULL)
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "unknown entry kind %d", (int)key->kind);
    rc = storep_txn_begin(dir, &w, err);
    if (rc != 0)
        return rc;
    rc = txn_remove(&w, key, &found, err);
    /* Nothing removed: nothing to publish. */
    if (rc == 0 && found)
        rc = publish_changes(&w, err);
    storep_txn_end(&w);
    if (rc == 0)
        *removed = found;
    return rc;
}

int
jwtrev_store_apply(const char *dir, jwtrev_store_change *c, size_t n,
                   jwtrev_error *err)
{
    storep_txn w;
    size_t i;
    int rc = 0, changed = 0;

    for (i = 0; i < n && rc == 0; i++) {
        if (!c[i].remove)
            rc = jwtrev_entry_check(&c[i].e, err);
        else if (jwtrev_entry_kind_name(c[i].e.kind) == NULL)
            rc = jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                             "unknown entry kind %d", (int)c[i].e.kind);
    }
    if (rc == 0)
        rc = storep_txn_begin(dir, &w, err);
    if (rc != 0)
        return rc;
    for (i = 0; i < n && rc == 0; i++) {
        c[i].removed = 0;
        if (c[i].remove) {
            rc = txn_remove(&w, &c[i].e, &c[i].removed, err);
            changed |= c[i].removed;
        } else {
            rc = txn_put(&w, &c[i].e, err);
            changed = 1;
        }
    }
    /* All or none: the delta is written once, with every change. */
    if (rc == 0 && changed)
        rc = publish_changes(&w, err);
    storep_txn_end(&w);
    return rc;
}

/* ---- the writes a module makes (jwtrev.h) -------------------------------- */

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
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
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
