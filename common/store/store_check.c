/*
 * store_check.c - jwtrev check: verify the whole store as the readers
 * read it, and with --rebuild rewrite, under the writers' lock, what can
 * be rewritten from intact files without losing a revocation.
 *
 * What is read: every file judged and opened as the readers do
 * (storep_dir_check, storep_open_in, storep_file_open); every record of
 * base.db and delta.db walked with a cursor, so that every leaf and
 * overflow page is read through Berkeley DB's cache and its checksum
 * checked; then Berkeley DB's own verifier (DB->verify, read-only,
 * without an environment) over every page, free ones included.  The
 * entries are checked against the meta records (counts per kind, the
 * issuer table, key order, flags a file of its kind may carry) and each
 * against its file's filter.
 *
 * Without the lock a writer may rename a new file in during the check:
 * the check is repeated when base.db or delta.db changed under it, so a
 * compact never looks like a stale delta.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storep.h"

#define CHECK_TRIES 3

static const char *const verdict_names[] = {
    [JWTREV_CHECK_OK] = "ok",
    [JWTREV_CHECK_DAMAGED] = "damaged",
    [JWTREV_CHECK_MISSING] = "missing",
    [JWTREV_CHECK_STALE] = "stale",
    [JWTREV_CHECK_LEFTOVER] = "leftover",
    [JWTREV_CHECK_BUSY] = "busy",
    [JWTREV_CHECK_UNUSED] = "unused",
};

const char *
jwtrev_check_verdict_name(int verdict)
{
    if (verdict < JWTREV_CHECK_OK || verdict > JWTREV_CHECK_UNUSED)
        return NULL;
    return verdict_names[verdict];
}

/* One pass of the check. */
struct chk {
    const char *dir;
    storep_dir sd;
    jwtrev_store_check_report *r;
    jwtrev_error first; /* the first damage found */
    storep_file *base, *delta;
    jwtrev_store_check_file *fbase, *fdelta, *fbloom, *fgen, *flock;
    int base_ok, delta_ok, bloom_ok, gen_ok, stale;
    int locked;            /* the caller holds the writers' lock */
    storep_set stale_keep; /* stale delta: live entries base.db lacks */
    char why[128];         /* db_verify's verdict */
};

static jwtrev_store_check_file *
add_file(struct chk *c, const char *name)
{
    jwtrev_store_check_file *f;

    if (c->r->n_files == JWTREV_STORE_CHECK_FILES) {
        c->r->n_omitted++;
        return NULL;
    }
    f = &c->r->files[c->r->n_files++];
    memset(f, 0, sizeof(*f));
    snprintf(f->name, sizeof(f->name), "%s", name);
    f->checksums = -1;
    return f;
}

/* Verdicts that are not damage. */
static int
harmless(int verdict)
{
    return verdict == JWTREV_CHECK_OK || verdict == JWTREV_CHECK_BUSY ||
           verdict == JWTREV_CHECK_UNUSED;
}

/* Mark f with verdict and the reason (printf); the first one is kept. */
static void __attribute__((format(printf, 4, 5)))
flag(struct chk *c, jwtrev_store_check_file *f, int verdict, const char *fmt,
     ...)
{
    char buf[JWTREV_DETAIL_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (f != NULL && f->verdict == JWTREV_CHECK_OK) {
        f->verdict = verdict;
        snprintf(f->detail, sizeof(f->detail), "%s", buf);
    }
    if (!harmless(verdict) && c->first.code == 0)
        jwtrev_fail(&c->first, JWTREV_ERR_DB_ERROR, "%s/%s: %s", c->dir,
                    f != NULL ? f->name : "?", buf);
}

/* The detail of a store error without the directory in front. */
static const char *
tail_of(const struct chk *c, const jwtrev_error *e)
{
    size_t n = strlen(c->dir);

    if (strncmp(e->detail, c->dir, n) == 0 && e->detail[n] == '/') {
        const char *p = strchr(e->detail + n + 1, ':');
        const char *s = strchr(e->detail + n + 1, ' ');

        if (p != NULL && (s == NULL || p < s))
            return p[1] == ' ' ? p + 2 : p + 1;
        if (s != NULL)
            return s + 1;
    }
    return e->detail;
}

static int
missing(const struct chk *c, const char *name)
{
    char path[PATH_MAX];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", c->dir, name);
    return lstat(path, &st) != 0 && errno == ENOENT;
}

/* Berkeley DB's default key order (as store_file.c reads the files). */
static int
key_cmp(DB *db, const DBT *a, const DBT *b)
{
    (void)db;
    return storep_bytes_cmp(a->data, a->size, b->data, b->size);
}

/*
 * Berkeley DB's verifier over every page of name (the file judged on a
 * descriptor of its own, read-only, no environment, pages read not
 * mapped).  0, or 1 with *why.
 */
static int
db_verify(struct chk *c, const char *name, const struct stat *was,
          const char **why)
{
    char path[64];
    struct stat st;
    DB_ENV *env;
    DB *db;
    int fd, ret;

    if (storep_open_in(&c->sd, name, O_RDONLY, &fd, &st, NULL) != 0 ||
        st.st_ino != was->st_ino || st.st_dev != was->st_dev) {
        if (fd >= 0)
            close(fd);
        return 0; /* replaced meanwhile: the pass is repeated */
    }
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    ret = db_create(&db, NULL, 0);
    if (ret == 0) {
        storep_db_quiet(db);
        env = db->get_env(db);
        /* As store_file.c: a panicked environment would free nothing. */
        env->set_flags(env, DB_NOPANIC, 1);
        env->set_mp_mmapsize(env, 0);
        db->set_bt_compare(db, key_cmp);
        /* The handle is gone after verify, whatever it returns. */
        ret = db->verify(db, path, NULL, NULL, 0);
    }
    close(fd);
    if (ret == 0)
        return 0;
    snprintf(c->why, sizeof(c->why), "Berkeley DB's verifier: %s",
             ret == DB_VERIFY_BAD ? "the file is damaged"
                                  : storep_db_reason(ret));
    *why = c->why;
    return 1;
}

/* Per-walk state of one file. */
struct walk {
    int64_t count[STOREP_NCOUNT];
    uint64_t n, bloom_miss;
    unsigned char last[STOREP_KEY_MAX];
    size_t last_len;
};

/* One entry of f: order, flags, counts, filter. */
static int
walk_entry(struct chk *c, const storep_file *f, const storep_cursor *cur,
           struct walk *w, jwtrev_store_check_file *fe)
{
    const storep_rec *r = &cur->rec;
    int k = r->e.kind;

    if (w->n > 0 &&
        storep_bytes_cmp(w->last, w->last_len, cur->k.data, cur->k.size) >= 0) {
        flag(c, fe, JWTREV_CHECK_DAMAGED, "entries out of key order");
        return -1;
    }
    if (cur->k.size > sizeof(w->last))
        return -1;
    memcpy(w->last, cur->k.data, cur->k.size);
    w->last_len = cur->k.size;
    w->n++;
    if (!f->is_delta) {
        if (r->flags != 0) {
            flag(c, fe, JWTREV_CHECK_DAMAGED,
                 "an entry carries a delta's flags");
            return -1;
        }
        w->count[k]++;
    } else if (r->flags & STOREP_TOMBSTONE) {
        w->count[0]++, w->count[k] -= !!(r->flags & STOREP_SHADOW);
    } else if (!(r->flags & STOREP_SHADOW)) {
        w->count[k]++;
    }
    /* The filter's hash is keyed with the base's id, in both files. */
    if (f->bloom.blocks != NULL &&
        !storep_bloom_maybe(&f->bloom, storep_entry_hash(f->hkey, &r->e)))
        w->bloom_miss++;
    return 0;
}

/* Walk every entry of f (its meta records were read at open). */
static int
walk_file(struct chk *c, storep_file *f, jwtrev_store_check_file *fe,
          struct walk *w)
{
    storep_cursor cur;
    jwtrev_error e;
    int rc, k;

    memset(w, 0, sizeof(*w));
    jwtrev_error_clear(&e);
    rc = storep_cursor_open(f, &cur, &e);
    while (rc == 0 && (rc = storep_cursor_next(&cur, &e)) == 1) {
        rc = walk_entry(c, f, &cur, w, fe);
        if (rc == 0 && c->stale && f == c->delta &&
            !(cur.rec.flags & STOREP_TOMBSTONE)) {
            unsigned char vb[STOREP_VAL_MAX];
            storep_rec old, keep = cur.rec;
            int got = storep_file_get(c->base, &keep.e,
                                      storep_entry_hash(c->base->hkey, &keep.e),
                                      &old, vb, NULL);

            keep.flags = 0;
            if (got == 0 && storep_set_append(&c->stale_keep, &keep, NULL) != 0)
                rc = -JWTREV_ERR_INTERNAL;
        }
    }
    storep_cursor_close(&cur);
    if (rc == -JWTREV_ERR_INTERNAL)
        return rc;
    if (rc < 0) {
        flag(c, fe, JWTREV_CHECK_DAMAGED, "%s", tail_of(c, &e));
        return 1;
    }
    fe->records = w->n;
    for (k = 0; k < STOREP_NCOUNT; k++) {
        if (w->count[k] != f->count[k]) {
            flag(c, fe, JWTREV_CHECK_DAMAGED,
                 "its meta record counts %lld %s entries, the file holds "
                 "%lld",
                 (long long)f->count[k],
                 k == 0 ? "removed" : jwtrev_entry_kind_name(k),
                 (long long)w->count[k]);
            return 1;
        }
    }
    return 0;
}

/* Open name as the readers do, read its checksum flag, verify it. */
static int
open_db(struct chk *c, const char *name, unsigned flags,
        jwtrev_store_check_file *fe, storep_file **out)
{
    const char *why = NULL;
    storep_file *f = NULL;
    jwtrev_error e;
    uint32_t fl = 0;
    uint32_t i;

    jwtrev_error_clear(&e);
    if (missing(c, name)) {
        flag(c, fe, JWTREV_CHECK_MISSING, "not there");
        return 1;
    }
    if (storep_file_open(&c->sd, name, flags, &f, &e) != 0) {
        flag(c, fe, JWTREV_CHECK_DAMAGED, "%s", tail_of(c, &e));
        return 1;
    }
    if (f->db->get_flags(f->db, &fl) == 0)
        fe->checksums = (fl & DB_CHKSUM) != 0;
    if (fe->checksums == 0)
        c->r->unchecksummed++;
    for (i = 1; i < f->n_iss; i++) {
        if (storep_str_cmp(&f->iss[i - 1], &f->iss[i]) >= 0) {
            flag(c, fe, JWTREV_CHECK_DAMAGED, "issuer table out of order");
            storep_file_close(f);
            return 1;
        }
    }
    if (db_verify(c, name, &f->st, &why) != 0) {
        flag(c, fe, JWTREV_CHECK_DAMAGED, "%s", why);
        storep_file_close(f);
        return 1;
    }
    *out = f;
    return 0;
}

/* The base's filter: there, of this format, its checksum. */
static void
check_bloom(struct chk *c)
{
    char name[STOREP_BLOOM_NAME_MAX];
    jwtrev_error e;

    storep_bloom_name(c->base->id, name);
    c->fbloom = add_file(c, name);
    jwtrev_error_clear(&e);
    if (missing(c, name)) {
        flag(c, c->fbloom, JWTREV_CHECK_MISSING,
             "not there (lookups stay right, only slower)");
        return;
    }
    if (storep_file_attach_bloom(c->base, &c->sd, &e) != 0) {
        flag(c, c->fbloom, JWTREV_CHECK_DAMAGED, "%s", tail_of(c, &e));
        return;
    }
    if (c->base->bloom.blocks == NULL) {
        flag(c, c->fbloom, JWTREV_CHECK_DAMAGED,
             "not a filter of this format (readers ignore it)");
        return;
    }
    c->bloom_ok = 1;
}

static void
check_small(struct chk *c)
{
    struct stat st;
    jwtrev_error e;
    uint64_t gen;
    int fd;

    c->fgen = add_file(c, "gen");
    jwtrev_error_clear(&e);
    if (missing(c, "gen")) {
        flag(c, c->fgen, JWTREV_CHECK_MISSING, "not there");
    } else if (storep_open_in(&c->sd, "gen", O_RDONLY, &fd, &st, &e) != 0) {
        flag(c, c->fgen, JWTREV_CHECK_DAMAGED, "%s", tail_of(c, &e));
    } else {
        if (storep_gen_read(fd, c->dir, &gen, &e) != 0)
            flag(c, c->fgen, JWTREV_CHECK_DAMAGED, "%s", tail_of(c, &e));
        else
            c->gen_ok = 1;
        close(fd);
    }
    c->flock = add_file(c, "lock");
    if (missing(c, "lock")) {
        flag(c, c->flock, JWTREV_CHECK_MISSING, "not there");
    } else if (storep_open_in(&c->sd, "lock", O_RDONLY, &fd, &st, &e) != 0) {
        flag(c, c->flock, JWTREV_CHECK_DAMAGED, "%s", tail_of(c, &e));
    } else {
        close(fd);
    }
}

/* base.db, its filter, delta.db: opened as readers do (delta first). */
static int
check_files(struct chk *c)
{
    struct walk w;
    int rc, k;

    c->fbase = add_file(c, "base.db");
    c->fdelta = add_file(c, "delta.db");
    c->delta_ok =
        open_db(c, "delta.db", STOREP_OPEN_DELTA, c->fdelta, &c->delta) == 0;
    c->base_ok = open_db(c, "base.db", 0, c->fbase, &c->base) == 0;
    if (c->base_ok) {
        check_bloom(c);
        if (c->delta_ok &&
            storep_pair_kind(c->base, c->delta) == STOREP_PAIR_OTHER)
            c->stale = 1;
        rc = walk_file(c, c->base, c->fbase, &w);
        if (rc < 0)
            return rc;
        c->base_ok = rc == 0;
        for (k = 1; c->base_ok && k < STOREP_NCOUNT; k++) {
            c->r->entries[k] = (uint64_t)w.count[k];
            c->r->entries[0] += (uint64_t)w.count[k];
        }
        if (c->base_ok && c->bloom_ok && w.bloom_miss > 0) {
            flag(c, c->fbloom, JWTREV_CHECK_DAMAGED,
                 "answers \"surely absent\" for %llu entries of base.db",
                 (unsigned long long)w.bloom_miss);
            c->bloom_ok = 0;
        }
    }
    if (c->delta_ok) {
        rc = walk_file(c, c->delta, c->fdelta, &w);
        if (rc < 0)
            return rc;
        c->delta_ok = rc == 0;
        c->r->changes = w.n;
        if (c->delta_ok && w.bloom_miss > 0) {
            flag(c, c->fdelta, JWTREV_CHECK_DAMAGED,
                 "its filter answers \"surely absent\" for %llu of its "
                 "entries",
                 (unsigned long long)w.bloom_miss);
            c->delta_ok = 0;
        }
    }
    if (c->delta_ok && c->stale)
        flag(c, c->fdelta, JWTREV_CHECK_STALE,
             "written for another base.db: readers ignore its changes%s",
             c->stale_keep.n > 0 ? ", some of them revocations base.db lacks"
                                 : "");
    return 0;
}

/* Temporary files and filters of other bases. */
static int
check_leftovers(struct chk *c, int lockfd)
{
    char keep[STOREP_BLOOM_NAME_MAX] = "";
    jwtrev_store_check_file *f;
    struct dirent *de;
    DIR *d;
    int busy = 0;

    /* A writer at work holds the lock: its temporary files are its own. */
    if (!c->locked && lockfd >= 0) {
        if (flock(lockfd, LOCK_SH | LOCK_NB) != 0)
            busy = errno == EWOULDBLOCK;
    }
    if (c->base != NULL)
        storep_bloom_name(c->base->id, keep);
    d = opendir(c->dir);
    if (d == NULL) {
        if (lockfd >= 0 && !c->locked)
            flock(lockfd, LOCK_UN);
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        if (strstr(de->d_name, ".tmp.") != NULL) {
            f = add_file(c, de->d_name);
            if (busy)
                flag(c, f, JWTREV_CHECK_BUSY,
                     "a writer holds the lock: its temporary file");
            else if (storep_tmp_in_use(dirfd(d), de->d_name))
                flag(c, f, JWTREV_CHECK_BUSY,
                     "a fold beside the writers is writing it");
            else
                flag(c, f, JWTREV_CHECK_LEFTOVER,
                     "a temporary file a dead writer left");
        } else if (strncmp(de->d_name, "bloom.", 6) == 0 && c->base != NULL &&
                   strcmp(de->d_name, keep) != 0) {
            f = add_file(c, de->d_name);
            flag(c, f, JWTREV_CHECK_UNUSED,
                 "the filter of an earlier base.db (the next writer "
                 "removes it)");
        }
    }
    closedir(d);
    if (lockfd >= 0 && !c->locked)
        flock(lockfd, LOCK_UN);
    return 0;
}

static void
chk_free(struct chk *c)
{
    storep_file_close(c->base);
    storep_file_close(c->delta);
    c->base = c->delta = NULL;
    storep_set_free(&c->stale_keep);
}

static void
summarise(struct chk *c)
{
    jwtrev_store_check_report *r = c->r;
    size_t i;

    r->damaged = 0;
    for (i = 0; i < r->n_files; i++) {
        if (!harmless(r->files[i].verdict) && !r->files[i].repaired)
            r->damaged++;
    }
    if (r->damaged == 0)
        snprintf(r->summary, sizeof(r->summary),
                 "intact: %llu entries, %llu recent changes%s",
                 (unsigned long long)r->entries[0],
                 (unsigned long long)r->changes,
                 r->repaired > 0 ? " (after the repairs above)" : "");
    else
        snprintf(r->summary, sizeof(r->summary), "%u file%s not intact%s",
                 r->damaged, r->damaged == 1 ? "" : "s",
                 r->repaired > 0 ? " after the repairs above" : "");
}

/*
 * One pass over the store into c->r.  1 when base.db or delta.db changed
 * under it (run it again), 0, or -JWTREV_ERR_INTERNAL.
 */
static int
check_pass(struct chk *c, int lockfd)
{
    int rc;

    memset(c->r, 0, sizeof(*c->r));
    jwtrev_error_clear(&c->first);
    c->base_ok = c->delta_ok = c->bloom_ok = c->gen_ok = c->stale = 0;
    storep_set_init(&c->stale_keep);
    c->r->examined = 1;
    rc = check_files(c);
    if (rc < 0)
        return rc;
    check_small(c);
    if (check_leftovers(c, lockfd) != 0) {
        c->r->examined = 0;
        jwtrev_fail(&c->first, JWTREV_ERR_DB_ERROR, "%s: cannot list: %s",
                    c->dir, strerror(errno));
        return 0;
    }
    if (!c->locked && ((c->base != NULL &&
                        !storep_lstat_same(&c->sd, "base.db", &c->base->st)) ||
                       (c->delta != NULL &&
                        !storep_lstat_same(&c->sd, "delta.db", &c->delta->st))))
        return 1;
    summarise(c);
    return 0;
}

/* ---- --rebuild ----------------------------------------------------------- */

/* The writers' lock and gen, as storep_txn_begin takes them. */
static int
lock_store(struct chk *c, storep_txn *w, jwtrev_error *err)
{
    struct stat st;
    uint64_t gen;
    int rc = 0;

    memset(w, 0, sizeof(*w));
    w->dir = c->dir;
    w->dirfd = w->lockfd = w->genfd = -1;
    storep_set_init(&w->changes);
    w->dirfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (w->dirfd < 0 || fstat(w->dirfd, &st) != 0)
        return storep_fail_errno(err, c->dir, "cannot open the store", errno);
    w->file_mode = st.st_mode & S_IRGRP ? 0640 : 0600;
    rc = storep_open_in(&c->sd, "lock", O_RDONLY, &w->lockfd, &st, err);
    if (rc == 0)
        rc = storep_lock_wait(w->lockfd, c->dir, err);
    if (rc == 0 &&
        storep_open_in(&c->sd, "gen", O_RDWR, &w->genfd, &st, NULL) == 0 &&
        storep_gen_read(w->genfd, c->dir, &gen, NULL) != 0) {
        close(w->genfd);
        w->genfd = -1;
    }
    return rc;
}

static void act(jwtrev_store_check_file *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
act(jwtrev_store_check_file *f, const char *fmt, ...)
{
    va_list ap;

    if (f == NULL || f->action[0] != '\0')
        return;
    va_start(ap, fmt);
    vsnprintf(f->action, sizeof(f->action), fmt, ap);
    va_end(ap);
}

/* Remove temporary files and filters of other bases (under the lock). */
static void
remove_leftovers(struct chk *c, int dirfd)
{
    jwtrev_store_check_report *r = c->r;
    size_t i;

    for (i = 0; i < r->n_files; i++) {
        if (r->files[i].verdict != JWTREV_CHECK_LEFTOVER &&
            r->files[i].verdict != JWTREV_CHECK_UNUSED)
            continue;
        if (unlinkat(dirfd, r->files[i].name, 0) == 0 || errno == ENOENT)
            act(&r->files[i], "removed");
        else
            act(&r->files[i], "cannot remove: %s", strerror(errno));
    }
}

/* Does the store need a new base (compact) to be made intact? */
static int
wants_compact(const struct chk *c)
{
    return !c->bloom_ok || c->stale ||
           (c->fbase != NULL && c->fbase->checksums == 0) ||
           (c->fdelta != NULL && c->fdelta->checksums == 0);
}

/*
 * Under the lock: rewrite base + filter + an empty delta from the
 * intact base.db and delta.db, or refuse and say how to restore.
 */
static int
repair(struct chk *c, storep_txn *w, jwtrev_error *err)
{
    static const char restore[] =
        "restore from a backup: jwtrev --db BACKUP dump > entries.jsonl, "
        "then jwtrev load entries.jsonl into a new store (jwtrev init)";
    char name[STOREP_BLOOM_NAME_MAX];
    int rc;

    if (!c->base_ok) {
        act(c->fbase, "not rebuilt: base.db holds the entries; %s", restore);
        act(c->fdelta, "not rebuilt: base.db is not intact");
        act(c->fbloom, "not rebuilt: base.db is not intact");
        return 0;
    }
    if (!c->delta_ok && !c->stale) {
        act(c->fdelta,
            "not rebuilt: delta.db holds the recent changes and rewriting "
            "it may lose revocations; %s",
            restore);
        act(c->fbloom, "not rebuilt: delta.db is not intact");
        return 0;
    }
    if (!wants_compact(c))
        return 0;
    if (w->genfd < 0) {
        act(c->fbloom, "not rebuilt: gen cannot be written");
        act(c->fdelta, "not rebuilt: gen cannot be written");
        act(c->fgen, "not rebuilt: move it aside and run jwtrev init, "
                     "which writes a new one; then jwtrev check --rebuild");
        return 0;
    }
    /* The files as checked (the lock was held throughout). */
    w->base = c->base;
    w->delta = c->stale ? NULL : c->delta;
    if (c->stale_keep.n > 0)
        storep_set_sort(&c->stale_keep);
    rc = storep_compact(w, c->stale_keep.n > 0 ? &c->stale_keep : NULL, 0, NULL,
                        NULL, err);
    w->base = w->delta = NULL;
    if (rc != 0)
        return rc;
    /* The old base's filter, as the next writer would remove it (readers
     * hold their filters in memory). */
    storep_bloom_name(c->base->id, name);
    unlinkat(w->dirfd, name, 0);
    if (c->fbloom != NULL && !c->bloom_ok)
        act(c->fbloom, "rebuilt from base.db (a new base.db and filter)");
    if (c->stale)
        act(c->fdelta,
            c->stale_keep.n > 0
                ? "replaced by an empty delta.db; its revocations base.db "
                  "lacked were added to the new base.db"
                : "replaced by an empty delta.db (base.db holds its "
                  "changes)");
    act(c->fbase, "rewritten with its entries and the recent changes");
    return 0;
}

/* After the second pass: which of the first pass's files are now fine. */
static void
merge_passes(jwtrev_store_check_report *before,
             const jwtrev_store_check_report *after)
{
    size_t i, j;
    int now_ok;

    for (i = 0; i < before->n_files; i++) {
        jwtrev_store_check_file *f = &before->files[i];

        if (harmless(f->verdict))
            continue;
        now_ok = 1;
        for (j = 0; j < after->n_files; j++) {
            if (strcmp(after->files[j].name, f->name) == 0 &&
                after->files[j].verdict != JWTREV_CHECK_OK)
                now_ok = 0;
        }
        /* A filter of the old base is gone after a compact: made right. */
        if (now_ok && f->action[0] != '\0' &&
            strncmp(f->action, "not ", 4) != 0 &&
            strncmp(f->action, "cannot ", 7) != 0) {
            f->repaired = 1;
            before->repaired++;
        }
    }
    /* Files the second pass found and the first did not (the new ones). */
    for (j = 0; j < after->n_files; j++) {
        int known = 0;

        for (i = 0; i < before->n_files; i++)
            known |= strcmp(after->files[j].name, before->files[i].name) == 0;
        if (!known && before->n_files < JWTREV_STORE_CHECK_FILES)
            before->files[before->n_files++] = after->files[j];
    }
    memcpy(before->entries, after->entries, sizeof(before->entries));
    before->changes = after->changes;
    before->unchecksummed = after->unchecksummed;
}

static int
rebuild(struct chk *c, jwtrev_error *err)
{
    jwtrev_store_check_report *after = NULL;
    storep_txn w;
    jwtrev_error e;
    int rc;

    jwtrev_error_clear(&e);
    rc = lock_store(c, &w, &e);
    if (rc != 0) {
        /* Nothing can be rewritten: the check without the lock. */
        c->locked = 0;
        while ((rc = check_pass(c, -1)) == 1)
            chk_free(c);
        if (rc == 0)
            act(c->flock, "cannot take the writers' lock: %s", e.detail);
        storep_txn_end(&w);
        return rc;
    }
    c->locked = 1;
    rc = check_pass(c, w.lockfd);
    if (rc == 0 && (c->r->damaged > 0 || c->r->unchecksummed > 0)) {
        rc = repair(c, &w, &e);
        if (rc != 0 && rc != -JWTREV_ERR_INTERNAL) {
            act(c->fbase, "the rewrite failed: %s", e.detail);
            rc = 0;
        }
        chk_free(c);
        if (rc == 0)
            remove_leftovers(c, w.dirfd);
        after = rc == 0 ? malloc(sizeof(*after)) : NULL;
        if (rc == 0 && after == NULL)
            rc = jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
        if (rc == 0) {
            jwtrev_store_check_report *before = c->r;

            c->r = after;
            rc = check_pass(c, w.lockfd);
            c->r = before;
            if (rc == 0)
                merge_passes(before, after);
            summarise(c);
        }
    }
    free(after);
    storep_txn_end(&w);
    return rc;
}

int
jwtrev_store_check(const char *dir, unsigned flags,
                   jwtrev_store_check_report *out, jwtrev_error *err)
{
    struct stat st;
    struct chk c;
    int rc, tries, lockfd = -1;

    memset(out, 0, sizeof(*out));
    memset(&c, 0, sizeof(c));
    c.dir = dir;
    c.r = out;
    storep_set_init(&c.stale_keep);
    rc = storep_dir_check(dir, &c.sd, err);
    if (rc != 0) {
        snprintf(out->summary, sizeof(out->summary), "%s", err->detail);
        return rc;
    }
    if (flags & JWTREV_STORE_CHECK_REBUILD) {
        rc = rebuild(&c, err);
    } else {
        if (storep_open_in(&c.sd, "lock", O_RDONLY, &lockfd, &st, NULL) != 0)
            lockfd = -1;
        for (tries = 0; (rc = check_pass(&c, lockfd)) == 1; tries++) {
            chk_free(&c);
            if (tries + 1 == CHECK_TRIES) {
                c.locked = 1; /* report what the last pass saw */
            }
        }
        if (lockfd >= 0)
            close(lockfd);
    }
    chk_free(&c);
    if (rc != 0)
        return rc == -JWTREV_ERR_INTERNAL
                   ? jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory")
                   : rc;
    if (!out->examined) {
        *err = c.first;
        snprintf(out->summary, sizeof(out->summary), "%s", c.first.detail);
        return -JWTREV_ERR_DB_ERROR;
    }
    if (out->damaged == 0)
        return 0;
    if (c.first.code != 0)
        *err = c.first;
    else
        jwtrev_fail(err, JWTREV_ERR_DB_ERROR, "%s: %s", dir, out->summary);
    return -JWTREV_ERR_DB_ERROR;
}
