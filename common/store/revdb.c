/*
 * revdb.c - the reader of the revocation store (jwtrev.h): what httpd
 * children, their threads and PAM processes use on every decision.
 *
 * A handle holds the store's files open read-only, and gen open.  Each
 * lookup compares gen with the value its files reflect; when a writer has
 * bumped it, the handle re-opens the files that changed before answering.
 * gen is read (pread, never mapped: a file truncated under a mapping
 * kills its reader with SIGBUS) at most once per STOREP_GEN_TTL_NS, and
 * every writer waits that long after its bump before it returns, so a
 * change is still seen by every lookup that starts after the writer
 * returned.  Once a second the handle also re-checks everything by path
 * (a replaced gen file, modes, owners, a writer killed between its rename
 * and its bump).  Nothing here takes a lock a writer could hold: a killed
 * writer cannot block a reader.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "jwtrev_daemon.h"
#include "storep.h"

#define FULL_CHECK_NS 1000000000LL

/* The files of one version of the store. */
struct view {
    storep_file *base;
    storep_file *delta; /* the delta.db found, even when it is not used */
    int use_delta;      /* it extends this base (else base has it all) */
    uint64_t seen;      /* gen when these files were looked up (atomic) */
};

struct gen_file {
    int fd; /* -1: none yet */
    struct stat st;
};

struct jwtrev_revdb {
    char *dir;
    storep_dir sd;            /* the directory as last judged (refresh mutex) */
    pthread_rwlock_t lock;    /* lookups shared; swapping view/gen exclusive */
    pthread_mutex_t refresh;  /* one refresher at a time */
    pthread_mutex_t gen_lock; /* one reader of gen at a time */
    struct gen_file gen;
    uint64_t gen_value; /* gen as last read (atomic; written under gen_lock) */
    int64_t gen_stamp;  /* CLOCK_MONOTONIC ns just before that read (atomic) */
    struct view *view;  /* NULL: the store is unusable, see why */
    char why[JWTREV_DETAIL_MAX];
    int64_t next_full; /* CLOCK_MONOTONIC ns of the next full check */
    unsigned flags;    /* JWTREV_REVDB_* */
};

static int64_t
mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/*
 * gen as of at most STOREP_GEN_TTL_NS before now: the value last read if
 * that read started recently enough, else a new read.  The caller holds
 * the lock shared or the refresh mutex (db->gen stays put).  The value is
 * stored before its stamp, and only under gen_lock, so a stamp loaded
 * first is never younger than the value loaded after it.
 */
static int
gen_current(jwtrev_revdb *db, int64_t now, uint64_t *out, jwtrev_error *err)
{
    int64_t t;
    uint64_t v;
    int rc = 0;

    if (now - __atomic_load_n(&db->gen_stamp, __ATOMIC_ACQUIRE) <
        STOREP_GEN_TTL_NS) {
        *out = __atomic_load_n(&db->gen_value, __ATOMIC_RELAXED);
        return 0;
    }
    pthread_mutex_lock(&db->gen_lock);
    if (now - __atomic_load_n(&db->gen_stamp, __ATOMIC_ACQUIRE) >=
        STOREP_GEN_TTL_NS) {
        t = mono_ns();
        rc = storep_gen_read(db->gen.fd, db->dir, &v, err);
        if (rc == 0) {
            __atomic_store_n(&db->gen_value, v, __ATOMIC_RELAXED);
            __atomic_store_n(&db->gen_stamp, t, __ATOMIC_RELEASE);
        }
    }
    if (rc == 0)
        *out = __atomic_load_n(&db->gen_value, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&db->gen_lock);
    return rc;
}

/* 1 for exactly one caller once the full-check interval has passed. */
static int
full_check_due(jwtrev_revdb *db, int64_t now)
{
    int64_t next = __atomic_load_n(&db->next_full, __ATOMIC_RELAXED);

    return now >= next && __atomic_compare_exchange_n(
                              &db->next_full, &next, now + FULL_CHECK_NS, 0,
                              __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

/* Open gen read-only (judged like every store file). */
static int
open_gen(const jwtrev_revdb *db, struct gen_file *out, jwtrev_error *err)
{
    struct stat st;
    int fd, rc = storep_open_in(&db->sd, "gen", O_RDONLY, &fd, &st, err);

    if (rc != 0)
        return rc;
    out->fd = fd;
    out->st = st;
    return 0;
}

static void
view_free_except(struct view *v, const struct view *keep)
{
    if (v == NULL)
        return;
    if (keep == NULL || v->base != keep->base)
        storep_file_close(v->base);
    if (keep == NULL || v->delta != keep->delta)
        storep_file_close(v->delta);
    free(v);
}

/*
 * The file name if it is still f (same inode: f holds it open, so the
 * number cannot have been reused) and still acceptable, else NULL:
 * opening it again then decides (and refuses what is wrong with it).
 */
static storep_file *
unchanged(const jwtrev_revdb *db, storep_file *f, const char *name)
{
    return f != NULL && storep_lstat_same(&db->sd, name, &f->st) ? f : NULL;
}

/* A full check reopens a base whose filter is missing (a retry) or is no
 * longer acceptable (then refused). */
static int
filter_ok(const jwtrev_revdb *db, const storep_file *base)
{
    char name[STOREP_BLOOM_NAME_MAX];

    if (base->bloom.blocks == NULL)
        return 0;
    storep_bloom_name(base->id, name);
    return storep_lstat_same(&db->sd, name, &base->bloom_st);
}

/*
 * The daemon's sealed snapshot of base, or -1: no daemon, none of that
 * base yet, or one it cannot trust.  The daemon is never needed: without
 * a snapshot base reads its file.
 */
static int
snapshot_of(const jwtrev_revdb *db, const storep_file *base)
{
    jwtrev_error e;
    int fd = -1;

    if (!(db->flags & JWTREV_REVDB_SNAPSHOTS))
        return -1;
    return jwtrev_daemon_snapshot(db->dir, base->id, &fd, &e) == 0 ? fd : -1;
}

/* Read base through the snapshot on fd (its checks failing: the file). */
static void
adopt_snapshot(storep_file *base, int fd)
{
    jwtrev_error e;

    storep_file_adopt_snapshot(base, fd, STOREP_OPEN_THREAD, &e);
    close(fd);
}

/*
 * Open (or keep from old) delta.db then base.db into nv.  Delta first:
 * whatever base is found after it contains every older delta.
 */
static int
open_files(const jwtrev_revdb *db, const struct view *old, int full,
           struct view *nv, jwtrev_error *err)
{
    int rc, snap = -1;

    nv->delta = old != NULL ? unchanged(db, old->delta, "delta.db") : NULL;
    if (nv->delta == NULL) {
        rc = storep_file_open(&db->sd, "delta.db",
                              STOREP_OPEN_THREAD | STOREP_OPEN_DELTA,
                              &nv->delta, err);
        if (rc != 0)
            return rc;
    }
    nv->base = old != NULL ? unchanged(db, old->base, "base.db") : NULL;
    if (nv->base != NULL && full && !filter_ok(db, nv->base))
        nv->base = NULL;
    /* Read through the daemon's snapshot once it has one (looked for at
     * each new base, and at the full checks while there is none): the
     * base is opened anew and reads through it. */
    if (nv->base != NULL && full && !nv->base->snapshot &&
        (snap = snapshot_of(db, nv->base)) >= 0)
        nv->base = NULL;
    if (nv->base == NULL) {
        rc = storep_file_open(&db->sd, "base.db", STOREP_OPEN_THREAD, &nv->base,
                              err);
        if (rc == 0)
            rc = storep_file_attach_bloom(nv->base, &db->sd, err);
        if (rc != 0) {
            if (snap >= 0)
                close(snap);
            return rc;
        }
        if (snap < 0)
            snap = snapshot_of(db, nv->base);
        if (snap >= 0)
            adopt_snapshot(nv->base, snap);
    }
    nv->use_delta = storep_pair_kind(nv->base, nv->delta) != STOREP_PAIR_OTHER;
    if (nv->use_delta ||
        (old != NULL && nv->base == old->base && nv->delta == old->delta))
        return 0; /* a pair kept from old was judged when it was opened */
    return storep_delta_covered(nv->base, nv->delta, err);
}

/* gen for a full check: the current one, or the file now in its place. */
static int
recheck_gen(const jwtrev_revdb *db, struct gen_file *g, jwtrev_error *err)
{
    *g = db->gen;
    if (g->fd >= 0 && storep_lstat_same(&db->sd, "gen", &g->st))
        return 0;
    return open_gen(db, g, err);
}

/* Remember gen's value v, read at stamp, as the one lookups use. */
static void
gen_remember(jwtrev_revdb *db, uint64_t v, int64_t stamp)
{
    pthread_mutex_lock(&db->gen_lock);
    __atomic_store_n(&db->gen_value, v, __ATOMIC_RELAXED);
    __atomic_store_n(&db->gen_stamp, stamp, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&db->gen_lock);
}

/*
 * Publish nv (NULL with err's text: unusable) and gen g with its value
 * nv->seen read at stamp; free the old.
 */
static void
swap_in(jwtrev_revdb *db, struct view *nv, const struct gen_file *g,
        int64_t stamp, const jwtrev_error *err)
{
    struct view *old;
    int old_fd = -1;

    pthread_rwlock_wrlock(&db->lock);
    old = db->view;
    db->view = nv;
    if (nv == NULL)
        snprintf(db->why, sizeof(db->why), "%s", err->detail);
    if (g != NULL && g->fd != db->gen.fd) {
        old_fd = db->gen.fd;
        db->gen = *g;
    }
    if (nv != NULL)
        gen_remember(db, nv->seen, stamp);
    pthread_rwlock_unlock(&db->lock);
    view_free_except(old, nv);
    if (old_fd >= 0)
        close(old_fd);
}

/* Build the view of the store as it is now; the refresh mutex is held. */
static int
rebuild(jwtrev_revdb *db, int full, jwtrev_error *err)
{
    struct view *old = db->view, *nv = calloc(1, sizeof(*nv));
    struct gen_file g = db->gen;
    int64_t stamp = 0;
    jwtrev_error e;
    int rc = 0;

    jwtrev_error_clear(&e);
    full = full || old == NULL || g.fd < 0;
    if (nv == NULL)
        rc = jwtrev_fail(&e, JWTREV_ERR_INTERNAL, "out of memory");
    if (rc == 0 && full)
        rc = storep_dir_check(db->dir, &db->sd, &e);
    if (rc == 0 && full)
        rc = recheck_gen(db, &g, &e);
    if (rc == 0) {
        /* gen first: files looked up after it reflect at least it. */
        stamp = mono_ns();
        rc = storep_gen_read(g.fd, db->dir, &nv->seen, &e);
    }
    if (rc == 0)
        rc = open_files(db, old, full, nv, &e);
    if (rc != 0) {
        if (g.fd >= 0 && g.fd != db->gen.fd)
            close(g.fd);
        if (nv != NULL)
            view_free_except(nv, old);
        swap_in(db, NULL, NULL, 0, &e);
        return jwtrev_fail(err, e.code, "%s", e.detail);
    }
    if (old != NULL && nv->base == old->base && nv->delta == old->delta &&
        g.fd == db->gen.fd) {
        /* Same files (a writer's bump without a change, or a full check
         * finding nothing): no need to stop the lookups. */
        __atomic_store_n(&old->seen, nv->seen, __ATOMIC_RELEASE);
        gen_remember(db, nv->seen, stamp);
        free(nv);
        return 0;
    }
    swap_in(db, nv, &g, stamp, NULL);
    return 0;
}

/* Bring the view up to date with gen (or fully, when full is set). */
static int
refresh(jwtrev_revdb *db, int full, jwtrev_error *err)
{
    int rc = 0;

    uint64_t g;

    pthread_mutex_lock(&db->refresh);
    /* Another thread may have done it while this one waited. */
    if (full || db->view == NULL || gen_current(db, mono_ns(), &g, NULL) != 0 ||
        g != __atomic_load_n(&db->view->seen, __ATOMIC_ACQUIRE))
        rc = rebuild(db, full, err);
    pthread_mutex_unlock(&db->refresh);
    return rc;
}

int
jwtrev_revdb_open(const char *dir, jwtrev_revdb **out, jwtrev_error *err)
{
    return jwtrev_revdb_open_flags(dir, 0, out, err);
}

int
jwtrev_revdb_open_flags(const char *dir, unsigned flags, jwtrev_revdb **out,
                        jwtrev_error *err)
{
    pthread_rwlockattr_t attr;
    jwtrev_revdb *db = calloc(1, sizeof(*db));
    int rc;

    if (db == NULL || (db->dir = strdup(dir)) == NULL) {
        free(db);
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    }
    db->flags = flags;
    /* Prefer the refresher: a stream of lookups must not starve it. */
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr,
                                  PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&db->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    pthread_mutex_init(&db->refresh, NULL);
    pthread_mutex_init(&db->gen_lock, NULL);
    db->gen.fd = -1;
    db->next_full = mono_ns() + FULL_CHECK_NS;
    rc = refresh(db, 1, err);
    if (rc != 0) {
        jwtrev_revdb_close(db);
        return rc;
    }
    *out = db;
    return 0;
}

void
jwtrev_revdb_close(jwtrev_revdb *db)
{
    if (db == NULL)
        return;
    view_free_except(db->view, NULL);
    if (db->gen.fd >= 0)
        close(db->gen.fd);
    pthread_rwlock_destroy(&db->lock);
    pthread_mutex_destroy(&db->refresh);
    pthread_mutex_destroy(&db->gen_lock);
    free(db->dir);
    free(db);
}

/* The live entry with key's identity in v: 1 and *out, 0, or an error.
 * One hash serves both filters: the delta's is keyed like its base's. */
static int
find(const struct view *v, const jwtrev_entry *key, int64_t now,
     storep_rec *out, unsigned char *buf, jwtrev_error *err)
{
    uint64_t h = storep_entry_hash(v->base->hkey, key);
    int rc = 0;

    /* A delta one fold behind is keyed like the base before. */
    if (v->use_delta)
        rc = storep_file_get(v->delta, key,
                             v->delta->hkey[0] == v->base->hkey[0] &&
                                     v->delta->hkey[1] == v->base->hkey[1]
                                 ? h
                                 : storep_entry_hash(v->delta->hkey, key),
                             out, buf, err);
    if (rc == 0)
        rc = storep_file_get(v->base, key, h, out, buf, err);
    else if (rc == 1 && (out->flags & STOREP_TOMBSTONE))
        return 0; /* removed since the base was written */
    return rc == 1 ? storep_rec_live(&out->e, now) : rc;
}

static void
key_of(jwtrev_entry *k, int kind, const char *iss, const void *id,
       size_t id_len)
{
    memset(k, 0, sizeof(*k));
    k->kind = (jwtrev_entry_kind)kind;
    k->iss = iss;
    k->iss_len = strlen(iss);
    k->id = id;
    k->id_len = id_len;
}

/*
 * The order of the checks, and so of the reason when several entries
 * match: this token (by id, then by hash: revoked), its subject
 * (subject_revoked), its key (key_revoked).  Most revoked tokens are
 * single logouts, so the usual hit is found first.
 */
static int
lookup(const struct view *v, const jwtrev_token *t, int64_t now,
       jwtrev_error *err)
{
    unsigned char buf[STOREP_VAL_MAX];
    const char *iss = t->iss != NULL ? t->iss : "";
    jwtrev_entry k;
    storep_rec r;
    int rc;

    if (t->jti != NULL) {
        key_of(&k, JWTREV_ENTRY_TOKEN, iss, t->jti, strlen(t->jti));
        if ((rc = find(v, &k, now, &r, buf, err)) != 0)
            return rc < 0 ? rc : storep_hit(err, JWTREV_ERR_REVOKED, &r);
    }
    key_of(&k, JWTREV_ENTRY_HASH, "", t->sighash, sizeof(t->sighash));
    if ((rc = find(v, &k, now, &r, buf, err)) != 0)
        return rc < 0 ? rc : storep_hit(err, JWTREV_ERR_REVOKED, &r);
    if (t->sub != NULL) {
        key_of(&k, JWTREV_ENTRY_SUBJECT, iss, t->sub, strlen(t->sub));
        rc = find(v, &k, now, &r, buf, err);
        if (rc < 0)
            return rc;
        if (rc == 1 && (!t->has_iat || t->iat < r.e.not_before))
            return storep_hit(err, JWTREV_ERR_SUBJECT_REVOKED, &r);
    }
    if (t->kid != NULL) {
        key_of(&k, JWTREV_ENTRY_KEY, "", t->kid, strlen(t->kid));
        if ((rc = find(v, &k, now, &r, buf, err)) != 0)
            return rc < 0 ? rc : storep_hit(err, JWTREV_ERR_KEY_REVOKED, &r);
    }
    return 0;
}

/* 1: the view reflects gen as of mono; 0: stale; or an error.  The lock
 * is held shared. */
static int
fresh(jwtrev_revdb *db, int64_t mono, jwtrev_error *err)
{
    uint64_t g;
    int rc;

    if (db->view == NULL)
        return 0;
    rc = gen_current(db, mono, &g, err);
    if (rc != 0)
        return rc;
    return g == __atomic_load_n(&db->view->seen, __ATOMIC_ACQUIRE);
}

int
jwtrev_revdb_check(jwtrev_revdb *db, const jwtrev_token *t, int64_t now,
                   jwtrev_error *err)
{
    int64_t mono = mono_ns();
    int rc;

    if (full_check_due(db, mono) && (rc = refresh(db, 1, err)) != 0)
        return rc;
    pthread_rwlock_rdlock(&db->lock);
    rc = fresh(db, mono, err);
    if (rc == 0) {
        pthread_rwlock_unlock(&db->lock);
        rc = refresh(db, 0, err);
        if (rc != 0)
            return rc;
        pthread_rwlock_rdlock(&db->lock);
    }
    if (rc < 0)
        ; /* gen is damaged: fail closed */
    else if (db->view == NULL)
        rc = jwtrev_fail(err, JWTREV_ERR_DB_ERROR, "%s", db->why);
    else
        rc = lookup(db->view, t, now, err);
    pthread_rwlock_unlock(&db->lock);
    return rc;
}
