/*
 * store_file.c - one store file, read-only: open it without a shared
 * Berkeley DB environment (nothing a writer could leave locked), load its
 * meta records, encode keys, look entries up, walk them.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "storep.h"

/*
 * Pages are read into Berkeley DB's private cache, never mapped: a file
 * cut short under a mapping kills its reader (SIGBUS), and a mapped page
 * skips its checksum.  Every page read is checked against the checksum
 * its writer stored (DB_CHKSUM), so a damaged page is an error, never an
 * answer.  The cache holds the upper levels of the tree and the pages
 * recently used.
 */
#ifndef STOREP_READ_CACHE
#define STOREP_READ_CACHE (1024 * 1024)
#endif

static void
db_silent(const DB_ENV *env, const char *pfx, const char *msg)
{
    (void)env, (void)pfx, (void)msg;
}

static void
db_silent_msg(const DB_ENV *env, const char *msg)
{
    (void)env, (void)msg;
}

/*
 * Berkeley DB's default key order, with memcmp instead of its byte loop:
 * the B-tree descent is most of a lookup.  Same order, so files written
 * with the default comparison read correctly with this one.
 */
static int
key_cmp(DB *db, const DBT *a, const DBT *b)
{
    (void)db;
    return storep_bytes_cmp(a->data, a->size, b->data, b->size);
}

void
storep_db_quiet(DB *db)
{
    db->set_errcall(db, db_silent);
    db->set_msgcall(db, db_silent_msg);
}

const char *
storep_db_reason(int dbret)
{
    /* What Berkeley DB says of a page that fails its checksum or cannot
     * be read whole ("run database recovery") means nothing to an admin
     * of a store that has no environment to recover. */
    if (dbret == DB_RUNRECOVERY || dbret == DB_PAGE_NOTFOUND)
        return "a page fails its checksum or is cut short; see jwtrev "
               "check";
    return db_strerror(dbret);
}

int
storep_fail_db(jwtrev_error *err, const char *name, const char *what, int dbret)
{
    return jwtrev_fail(err, JWTREV_ERR_DB_ERROR, "%s: %s: %s", name, what,
                       storep_db_reason(dbret));
}

int
storep_fail_errno(jwtrev_error *err, const char *name, const char *what,
                  int errnum)
{
    return jwtrev_fail(err, JWTREV_ERR_DB_ERROR, "%s: %s: %s", name, what,
                       strerror(errnum));
}

static int
corrupt(jwtrev_error *err, const storep_file *f, const char *what)
{
    return jwtrev_fail(err, JWTREV_ERR_DB_ERROR,
                       "%s: not a jwtrev store file or damaged (%s)", f->name,
                       what);
}

/* Record one issuer; the table must arrive in index and byte order. */
static int
meta_issuer(storep_file *f, const unsigned char *k, const DBT *v)
{
    storep_str *t;
    char *s;

    if (storep_get_u32(k + 4) != f->n_iss || v->size > JWTREV_STORE_ID_MAX)
        return -1;
    if (f->n_iss > 0 &&
        storep_bytes_cmp(f->iss[f->n_iss - 1].s, f->iss[f->n_iss - 1].len,
                         v->data, v->size) >= 0)
        return -1;
    t = realloc(f->iss, (f->n_iss + 1) * sizeof(*t));
    if (t == NULL)
        return -1;
    f->iss = t;
    s = malloc(v->size + 1);
    if (s == NULL)
        return -1;
    if (v->size > 0)
        memcpy(s, v->data, v->size);
    s[v->size] = '\0';
    t[f->n_iss].s = s;
    t[f->n_iss++].len = v->size;
    return 0;
}

static int
meta_is(const DBT *k, const char *name, size_t extra)
{
    size_t n = strlen(name);

    return k->size == 1 + n + extra &&
           memcmp((const unsigned char *)k->data + 1, name, n) == 0;
}

/*
 * The format version, read before anything else: a file of another
 * version may lay out every other record differently.
 */
static int
check_version(storep_file *f, jwtrev_error *err)
{
    unsigned char kbuf[] = "\0version", vbuf[4];
    DBT k, v;
    int ret;

    memset(&k, 0, sizeof(k));
    memset(&v, 0, sizeof(v));
    k.data = kbuf;
    k.size = k.ulen = sizeof(kbuf) - 1;
    k.flags = v.flags = DB_DBT_USERMEM;
    v.data = vbuf;
    v.ulen = sizeof(vbuf);
    ret = f->db->get(f->db, NULL, &k, &v, 0);
    if (ret == DB_NOTFOUND || ret == DB_BUFFER_SMALL ||
        (ret == 0 && v.size != 4))
        return corrupt(err, f, "no format version");
    if (ret != 0)
        return corrupt(err, f, storep_db_reason(ret));
    if (storep_get_u32(vbuf) != STOREP_VERSION)
        return jwtrev_fail(err, JWTREV_ERR_DB_ERROR,
                           "%s: store format version %u: this jwtrev reads "
                           "version %d only",
                           f->name, storep_get_u32(vbuf), STOREP_VERSION);
    return 0;
}

/* One meta record; *seen collects which ones were there (bits). */
static int
meta_record(storep_file *f, const DBT *k, const DBT *v, unsigned *seen)
{
    const unsigned char *d = v->data;
    int i;

    if (meta_is(k, "version", 0)) {
        return 0; /* checked first */
    } else if (meta_is(k, "id", 0) && v->size == STOREP_ID_LEN) {
        *seen |= 1;
        memcpy(f->id, d, STOREP_ID_LEN);
    } else if (meta_is(k, "count", 0) && v->size == 8 * STOREP_NCOUNT) {
        *seen |= 2;
        for (i = 0; i < STOREP_NCOUNT; i++)
            f->count[i] = storep_get_i64(d + 8 * i);
    } else if (meta_is(k, "parent", 0) && v->size == STOREP_ID_LEN) {
        memcpy(f->parent, d, STOREP_ID_LEN);
    } else if (meta_is(k, "base", 0) && v->size == STOREP_ID_LEN) {
        f->is_delta = 1;
        memcpy(f->base_id, d, STOREP_ID_LEN);
    } else if (meta_is(k, "bloom", 0)) {
        *seen |= 4;
        f->bloom.owned = malloc(v->size);
        if (f->bloom.owned == NULL)
            return -1;
        memcpy(f->bloom.owned, d, v->size);
        f->bloom.rec_len = v->size;
    } else if (meta_is(k, "iss", 4)) {
        return meta_issuer(f, k->data, v);
    } else {
        return -1;
    }
    return 0;
}

/* After the meta records: all there, and the delta's filter usable. */
static int
meta_complete(storep_file *f, unsigned seen, jwtrev_error *err)
{
    size_t len = f->bloom.rec_len;

    f->bloom.rec_len = 0; /* it only carried the record's length */
    if ((seen & 3) != 3 || (f->is_delta && !(seen & 4)))
        return corrupt(err, f, "meta records missing");
    if (f->is_delta &&
        storep_bloom_parse(&f->bloom, f->bloom.owned, len, f->base_id) != 0)
        return corrupt(err, f, "bad filter or checksum");
    storep_hash_key(f->is_delta ? f->base_id : f->id, f->hkey);
    return 0;
}

/* Read the meta records (keys starting with 0) and check them. */
static int
load_meta(storep_file *f, jwtrev_error *err)
{
    DBC *c = NULL;
    DBT k, v;
    unsigned seen = 0;
    int ret, rc = check_version(f, err), flag = DB_SET_RANGE;

    if (rc != 0)
        return rc;
    memset(&k, 0, sizeof(k));
    memset(&v, 0, sizeof(v));
    k.flags = v.flags = DB_DBT_REALLOC;
    k.data = calloc(1, 1);
    k.size = 1;
    if (k.data == NULL)
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    ret = f->db->cursor(f->db, NULL, &c, 0);
    while (ret == 0 && (ret = c->get(c, &k, &v, flag)) == 0) {
        flag = DB_NEXT;
        if (k.size < 2 || ((unsigned char *)k.data)[0] != 0)
            break;
        if (meta_record(f, &k, &v, &seen) != 0) {
            rc = corrupt(err, f, "bad meta record");
            break;
        }
    }
    if (rc == 0 && ret != 0 && ret != DB_NOTFOUND)
        rc = corrupt(err, f, storep_db_reason(ret));
    if (rc == 0)
        rc = meta_complete(f, seen, err);
    if (c != NULL)
        c->close(c);
    free(k.data);
    free(v.data);
    return rc;
}

/*
 * Open the file on fd with Berkeley DB, read-only, in a private
 * environment.  Berkeley DB opens by name: it gets the descriptor's own
 * name in /proc, so that it opens the very file judged on fd, whatever
 * has been renamed into the store since.
 */
static int
db_open_ro(storep_file *f, int fd, unsigned flags, jwtrev_error *err)
{
    int mapped = (flags & STOREP_OPEN_MAPPED) != 0;
    char path[64];
    DB_ENV *env;
    int ret;

    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    ret = db_create(&f->db, NULL, 0);
    if (ret != 0) {
        f->db = NULL;
        return storep_fail_db(err, f->name, "cannot open", ret);
    }
    storep_db_quiet(f->db);
    env = f->db->get_env(f->db);
    /* A damaged page makes Berkeley DB panic its environment, after
     * which close frees nothing: each refused open would leak. */
    env->set_flags(env, DB_NOPANIC, 1);
    /* Mapped only a sealed snapshot, which nothing can shrink (a file
     * cut short under a mapping kills its reader); its pages were
     * checked once, when it was made (storep_snapshot_make). */
    env->set_mp_mmapsize(env, mapped ? STOREP_MAP_MAX : 0);
    f->db->set_cachesize(f->db, 0, STOREP_READ_CACHE, 1);
    f->db->set_bt_compare(f->db, key_cmp);
    ret = f->db->open(f->db, NULL, path, NULL, DB_BTREE,
                      DB_RDONLY | (mapped ? 0 : DB_NOMMAP) |
                          (flags & STOREP_OPEN_THREAD ? DB_THREAD : 0),
                      0);
    if (ret == ENOENT)
        return jwtrev_fail(err, JWTREV_ERR_DB_ERROR,
                           "%s: cannot open it again through /proc/self/fd "
                           "(is /proc mounted?)",
                           f->name);
    if (ret == EACCES || ret == EPERM)
        return storep_fail_errno(err, f->name, "cannot open", ret);
    if (ret != 0)
        return corrupt(err, f, storep_db_reason(ret));
    return 0;
}

int
storep_file_copy_plain(const storep_file *f, const char *path,
                       jwtrev_error *err)
{
    DB *out = NULL;
    DBC *c = NULL;
    DBT k, v;
    int ret = db_create(&out, NULL, 0), rc = 0;

    if (ret != 0)
        return storep_fail_db(err, path, "cannot create", ret);
    storep_db_quiet(out);
    out->set_cachesize(out, 0, 16 * 1024 * 1024, 1);
    out->set_bt_compare(out, key_cmp);
    ret = out->open(out, NULL, path, NULL, DB_BTREE, DB_CREATE | DB_EXCL, 0600);
    if (ret == 0)
        ret = f->db->cursor(f->db, NULL, &c, 0);
    memset(&k, 0, sizeof(k));
    memset(&v, 0, sizeof(v));
    /* Every record, the meta records too, in key order: the same file
     * but for its pages' checksums (each checked as it is read). */
    while (ret == 0 && (ret = c->get(c, &k, &v, DB_NEXT)) == 0)
        ret = out->put(out, NULL, &k, &v, 0);
    if (ret != DB_NOTFOUND)
        rc = ret == DB_RUNRECOVERY || ret == EINVAL
                 ? corrupt(err, (storep_file *)(uintptr_t)f,
                           storep_db_reason(ret))
                 : storep_fail_db(err, path, "cannot copy", ret);
    if (c != NULL)
        c->close(c);
    ret = out->close(out, 0);
    if (rc == 0 && ret != 0)
        rc = storep_fail_db(err, path, "cannot write", ret);
    if (rc != 0)
        unlink(path);
    return rc;
}

int
storep_file_open(const storep_dir *d, const char *name, unsigned flags,
                 storep_file **out, jwtrev_error *err)
{
    char path[PATH_MAX];
    struct stat st;
    int fd = -1, rc;

    snprintf(path, sizeof(path), "%s/%s", d->path, name);
    rc = storep_open_in(d, name, O_RDONLY, &fd, &st, err);
    if (rc == 0)
        rc = storep_file_open_fd(fd, &st, path, flags, out, err);
    if (fd >= 0)
        close(fd);
    return rc;
}

/*
 * Berkeley DB's meta page (DBMETA of libdb 5.3's db_page.h): magic at 12,
 * version at 16, page size at 20, encryption at 24, page type at 25, meta
 * flags at 26.  Berkeley DB believes what it finds there: a damaged byte
 * that says "partitioned" sends it into code that dereferences what the
 * file never set up (found by store_corrupt: a SIGSEGV in __partc_get).
 * So a file is opened only when its meta page is what this code writes:
 * a B-tree of version 9 in this host's byte order, unencrypted, with
 * checksums or (a snapshot) none, no other flag.
 */
#define BDB_BTREE_MAGIC 0x053162u
#define BDB_BTREE_VERSION 9u
#define BDB_P_BTREEMETA 9u
#define BDB_META_CHKSUM 0x01u

static int
meta_page_plausible(int fd, storep_file *f, jwtrev_error *err)
{
    unsigned char h[28];
    uint32_t magic, version, pagesize;

    if (pread(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h))
        return corrupt(err, f, "too short for a Berkeley DB file");
    memcpy(&magic, h + 12, 4);
    memcpy(&version, h + 16, 4);
    memcpy(&pagesize, h + 20, 4);
    if (magic != BDB_BTREE_MAGIC || version != BDB_BTREE_VERSION)
        return corrupt(err, f, "not a Berkeley DB B-tree of version 9");
    if (pagesize < 512 || pagesize > 65536 || (pagesize & (pagesize - 1)))
        return corrupt(err, f, "a page size Berkeley DB never writes");
    if (h[24] != 0 || h[25] != BDB_P_BTREEMETA ||
        (h[26] & ~BDB_META_CHKSUM) != 0)
        return corrupt(err, f, "meta page flags this store never sets");
    return 0;
}

int
storep_file_open_fd(int fd, const struct stat *stp, const char *path,
                    unsigned flags, storep_file **out, jwtrev_error *err)
{
    storep_file *f = calloc(1, sizeof(*f));
    struct stat st = *stp, dbst;
    int dbfd, rc;

    if (f == NULL || (f->name = strdup(path)) == NULL) {
        free(f);
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    }
    rc = meta_page_plausible(fd, f, err);
    if (rc == 0)
        rc = db_open_ro(f, fd, flags, err);
    /* What Berkeley DB holds is the file judged, or nothing at all. */
    if (rc == 0 && (f->db->fd(f->db, &dbfd) != 0 || fstat(dbfd, &dbst) != 0 ||
                    dbst.st_dev != st.st_dev || dbst.st_ino != st.st_ino))
        rc = jwtrev_fail(err, JWTREV_ERR_DB_ERROR,
                         "%s: changed while it was opened", path);
    if (rc != 0)
        goto done;
    f->st = st;
    f->size = (uint64_t)st.st_size;
    rc = load_meta(f, err);
    if (rc == 0 && !f->is_delta != !(flags & STOREP_OPEN_DELTA))
        rc = corrupt(err, f,
                     f->is_delta ? "a delta file in the place of "
                                   "a base file"
                                 : "a base file in the place of "
                                   "a delta file");
done:
    if (rc != 0)
        storep_file_close(f);
    else
        *out = f;
    return rc;
}

void
storep_file_close(storep_file *f)
{
    uint32_t i;

    if (f == NULL)
        return;
    if (f->db != NULL)
        f->db->close(f->db, DB_NOSYNC);
    for (i = 0; i < f->n_iss; i++)
        free((char *)(uintptr_t)f->iss[i].s); /* owned here, const for
                                                  the tables that borrow */
    free(f->iss);
    storep_bloom_release(&f->bloom);
    free(f->name);
    free(f);
}

void
storep_bloom_name(const unsigned char *id, char *buf)
{
    int i;

    memcpy(buf, "bloom.", 6);
    for (i = 0; i < STOREP_ID_LEN; i++)
        snprintf(buf + 6 + 2 * i, 3, "%02x", id[i]);
}

int
storep_file_attach_bloom(storep_file *f, const storep_dir *d, jwtrev_error *err)
{
    char name[STOREP_BLOOM_NAME_MAX], path[PATH_MAX];
    unsigned char *buf = NULL;
    struct stat st;
    ssize_t n = 0;
    int fd, rc;

    storep_bloom_name(f->id, name);
    snprintf(path, sizeof(path), "%s/%s", d->path, name);
    if (lstat(path, &st) != 0 && errno == ENOENT)
        return 0; /* no filter: every probe answers "maybe" */
    rc = storep_open_in(d, name, O_RDONLY, &fd, &st, err);
    if (rc != 0)
        return rc;
    /* Read, never mapped: a file cut short under a mapping would kill
     * the reader (SIGBUS).  Bounded by the base's size: a filter takes
     * 1.5 bytes per entry, an entry at least 32. */
    if ((uint64_t)st.st_size > f->size + 4096) {
        close(fd);
        return jwtrev_fail(err, JWTREV_ERR_DB_ERROR,
                           "%s: larger than its base could need: refusing "
                           "the store",
                           path);
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        close(fd);
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    }
    n = pread(fd, buf, (size_t)st.st_size, 0);
    close(fd);
    if (n != (ssize_t)st.st_size)
        rc = jwtrev_fail(err, JWTREV_ERR_DB_ERROR,
                         "%s: cut short while it was read", path);
    else if ((rc = storep_bloom_parse(&f->bloom, buf, (size_t)n, f->id)) == -2)
        rc = jwtrev_fail(err, JWTREV_ERR_DB_ERROR,
                         "%s: damaged (cut, or its checksum fails): "
                         "refusing the store (jwtrev check --rebuild "
                         "rewrites it)",
                         path);
    else if (rc == -1)
        rc = 0; /* not a filter of this format: none */
    if (rc != 0 || f->bloom.blocks == NULL) {
        free(buf);
        return rc;
    }
    f->bloom.owned = buf;
    f->bloom_st = st;
    return 0;
}

int
storep_file_get(const storep_file *f, const jwtrev_entry *key, uint64_t h,
                storep_rec *out, unsigned char *valbuf, jwtrev_error *err)
{
    unsigned char kbuf[STOREP_KEY_MAX];
    size_t klen;
    DBT k, v;
    int ret;

    if (!storep_bloom_maybe(&f->bloom, h) ||
        storep_key_encode(f, key, kbuf, &klen) != 0)
        return 0;
    memset(&k, 0, sizeof(k));
    memset(&v, 0, sizeof(v));
    k.data = kbuf;
    k.size = k.ulen = (uint32_t)klen;
    k.flags = DB_DBT_USERMEM; /* DB_THREAD wants it even on input */
    v.data = valbuf;
    v.ulen = STOREP_VAL_MAX;
    v.flags = DB_DBT_USERMEM;
    ret = f->db->get(f->db, NULL, &k, &v, 0);
    if (ret == DB_NOTFOUND)
        return 0;
    if (ret != 0)
        return storep_fail_db(err, f->name, "lookup failed", ret);
    memset(out, 0, sizeof(*out));
    out->e = *key;
    if (storep_val_decode(valbuf, v.size, out) != 0)
        return corrupt(err, f, "bad entry");
    return 1;
}

int
storep_cursor_open(const storep_file *f, storep_cursor *c, jwtrev_error *err)
{
    int ret;

    memset(c, 0, sizeof(*c));
    c->f = f;
    c->k.flags = c->v.flags = DB_DBT_REALLOC;
    ret = f->db->cursor(f->db, NULL, &c->c, 0);
    if (ret != 0) {
        c->c = NULL;
        return storep_fail_db(err, f->name, "cannot read", ret);
    }
    return 0;
}

int
storep_cursor_next(storep_cursor *c, jwtrev_error *err)
{
    int ret, flag = DB_NEXT;

    if (c->k.data == NULL) {
        /* Entries start at kind 1; the meta records sort before. */
        c->k.data = malloc(1);
        if (c->k.data == NULL)
            return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
        *(unsigned char *)c->k.data = JWTREV_ENTRY_TOKEN;
        c->k.size = 1;
        flag = DB_SET_RANGE;
    }
    ret = c->c->get(c->c, &c->k, &c->v, flag);
    if (ret == DB_NOTFOUND)
        return 0;
    if (ret != 0)
        return storep_fail_db(err, c->f->name, "cannot read", ret);
    memset(&c->rec, 0, sizeof(c->rec));
    if (storep_key_decode(c->f, c->k.data, c->k.size, &c->rec) != 0 ||
        storep_val_decode(c->v.data, c->v.size, &c->rec) != 0)
        return corrupt(err, c->f, "bad entry");
    return 1;
}

void
storep_cursor_close(storep_cursor *c)
{
    if (c->c != NULL)
        c->c->close(c->c);
    free(c->k.data);
    free(c->v.data);
    memset(c, 0, sizeof(*c));
}

int
storep_delta_covered(const storep_file *base, const storep_file *delta,
                     jwtrev_error *err)
{
    unsigned char buf[STOREP_VAL_MAX];
    storep_cursor c;
    storep_rec r;
    int64_t now = (int64_t)time(NULL);
    int rc = storep_cursor_open(delta, &c, err), got = 0;

    while (rc == 0 && (rc = storep_cursor_next(&c, err)) == 1) {
        /* A removal, or an entry a purge may have dropped from the new
         * base since it no longer matters: nothing lost. */
        if ((c.rec.flags & STOREP_TOMBSTONE) || !storep_rec_live(&c.rec.e, now))
            continue;
        got = storep_file_get(base, &c.rec.e,
                              storep_entry_hash(base->hkey, &c.rec.e), &r, buf,
                              err);
        if (got < 0) {
            rc = got;
            break;
        }
        if (got == 0) {
            rc = jwtrev_fail(err, JWTREV_ERR_DB_ERROR,
                             "%s was written for another base.db and holds "
                             "revocations %s lacks (a base.db restored over "
                             "a newer store?): refusing the store (jwtrev "
                             "check --rebuild merges them)",
                             delta->name, base->name);
            break;
        }
    }
    storep_cursor_close(&c);
    return rc < 0 ? rc : 0;
}

int
storep_pair_kind(const storep_file *base, const storep_file *delta)
{
    static const unsigned char none[STOREP_ID_LEN];

    if (memcmp(delta->base_id, base->id, STOREP_ID_LEN) == 0)
        return STOREP_PAIR_SAME;
    if (memcmp(base->parent, none, STOREP_ID_LEN) != 0 &&
        memcmp(delta->base_id, base->parent, STOREP_ID_LEN) == 0)
        return STOREP_PAIR_BEHIND;
    return STOREP_PAIR_OTHER;
}

int
storep_open_pair(const char *dir, unsigned flags, storep_file **base,
                 storep_file **delta, jwtrev_error *err)
{
    storep_file *b = NULL, *d = NULL;
    storep_dir sd;
    int rc = storep_dir_check(dir, &sd, err);

    /* Delta first: a base opened later contains every older delta. */
    if (rc == 0)
        rc = storep_file_open(&sd, "delta.db", flags | STOREP_OPEN_DELTA, &d,
                              err);
    if (rc == 0)
        rc = storep_file_open(&sd, "base.db", flags & ~STOREP_OPEN_DELTA, &b,
                              err);
    if (rc == 0)
        rc = storep_file_attach_bloom(b, &sd, err);
    if (rc != 0) {
        storep_file_close(b);
        storep_file_close(d);
        return rc;
    }
    if (storep_pair_kind(b, d) == STOREP_PAIR_OTHER) {
        /* A writer killed between a new base and its empty delta leaves
         * a delta the base already holds; anything else is refused. */
        rc = storep_delta_covered(b, d, err);
        storep_file_close(d);
        d = NULL;
        if (rc != 0) {
            storep_file_close(b);
            return rc;
        }
    }
    *base = b;
    *delta = d;
    return 0;
}
