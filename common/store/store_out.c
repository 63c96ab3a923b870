/*
 * store_out.c - write one new store file in key order: entries, then the
 * meta records, then sync and rename it into place.  A base file gets its
 * filter as the sidecar "bloom.<id>", renamed in before the base itself
 * so that a reader finding the base finds its filter.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storep.h"

struct storep_out {
    storep_txn *w;
    DB *db;
    const char *name; /* "base.db" or "delta.db" */
    char tmp[64];     /* its temporary name in the store directory */
    int tmpfd;        /* the temporary file, flock()ed while it is ours */
    char bloom_tmp[STOREP_BLOOM_NAME_MAX + 32]; /* base: its filter's */
    int bloomfd;                                /* ... flock()ed too */
    int is_delta;
    int sealed;
    int has_parent;
    unsigned char parent[STOREP_ID_LEN];
    storep_file fmt; /* id and issuer table for encoding (borrowed) */
    storep_bloom_builder bloom;
    int64_t count[STOREP_NCOUNT];
    uint64_t n;
    unsigned char last[STOREP_KEY_MAX]; /* the previous key, for order */
    size_t last_len;
};

/* Cache for building: big enough that a base is written sequentially. */
#define OUT_CACHE_BASE (16 * 1024 * 1024)
#define OUT_CACHE_DELTA (1024 * 1024)
/* Entries between two starts of write-back of a file being written
 * (about 2 MB of pages). */
#define OUT_WRITEBACK_EVERY 25000

static unsigned out_serial;

static int
out_create(storep_out *o, jwtrev_error *err)
{
    char path[PATH_MAX];
    int ret;

    snprintf(path, sizeof(path), "%s/%s", o->w->dir, o->tmp);
    ret = db_create(&o->db, NULL, 0);
    if (ret != 0) {
        o->db = NULL;
        return storep_fail_db(err, path, "cannot create", ret);
    }
    storep_db_quiet(o->db);
    /* Page checksums: a reader checks every page it reads (store_file.c). */
    o->db->set_flags(o->db, DB_CHKSUM);
    o->db->set_cachesize(o->db, 0,
                         o->is_delta ? OUT_CACHE_DELTA : OUT_CACHE_BASE, 1);
    ret = o->db->open(o->db, NULL, path, NULL, DB_BTREE, DB_CREATE | DB_EXCL,
                      o->w->file_mode);
    if (ret != 0)
        return storep_fail_db(err, path, "cannot create", ret);
    /* Created under the writers' lock; the flock keeps a writer that
     * clears a dead writer's files off it once that lock is dropped. */
    o->tmpfd = openat(o->w->dirfd, o->tmp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (o->tmpfd < 0 || flock(o->tmpfd, LOCK_EX | LOCK_NB) != 0)
        return storep_fail_errno(err, path, "cannot lock", errno);
    return 0;
}

/*
 * A base's filter file, made now (under the writers' lock) and flock()ed
 * like the base's temporary file, so that a fold can fill and sync it
 * without the lock.
 */
static int
bloom_create(storep_out *o, jwtrev_error *err)
{
    char name[STOREP_BLOOM_NAME_MAX];

    storep_bloom_name(o->fmt.id, name);
    snprintf(o->bloom_tmp, sizeof(o->bloom_tmp), "%s.tmp.%ld.%u", name,
             (long)getpid(),
             __atomic_add_fetch(&out_serial, 1, __ATOMIC_RELAXED));
    o->bloomfd = openat(o->w->dirfd, o->bloom_tmp,
                        O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                        o->w->file_mode);
    if (o->bloomfd < 0) {
        o->bloom_tmp[0] = '\0';
        return storep_fail_errno(err, name, "cannot create", errno);
    }
    if (flock(o->bloomfd, LOCK_EX | LOCK_NB) != 0)
        return storep_fail_errno(err, o->bloom_tmp, "cannot lock", errno);
    return 0;
}

/* Fill and sync the filter file. */
static int
bloom_write(storep_out *o, jwtrev_error *err)
{
    const unsigned char *p = o->bloom.buf;
    size_t left = o->bloom.len;
    off_t off = 0;
    ssize_t n;

    while (left > 0) {
        n = pwrite(o->bloomfd, p, left, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return storep_fail_errno(err, o->bloom_tmp, "cannot write", errno);
        p += n, off += n, left -= (size_t)n;
    }
    if (fchmod(o->bloomfd, o->w->file_mode) != 0 || fsync(o->bloomfd) != 0)
        return storep_fail_errno(err, o->bloom_tmp, "cannot sync", errno);
    return 0;
}

int
storep_out_begin(storep_txn *w, const char *name, const unsigned char *base_id,
                 const storep_str *iss, uint32_t n_iss, uint64_t n,
                 storep_out **out, jwtrev_error *err)
{
    storep_out *o = calloc(1, sizeof(*o));
    int rc;

    if (o == NULL)
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    o->w = w;
    o->tmpfd = o->bloomfd = -1;
    o->name = name;
    o->is_delta = strcmp(name, "delta.db") == 0;
    o->fmt.iss = (storep_str *)(uintptr_t)iss; /* only read */
    o->fmt.n_iss = n_iss;
    /* The pid and a count: a daemon's fold and its writes share a pid. */
    snprintf(o->tmp, sizeof(o->tmp), "%s.tmp.%ld.%u", name, (long)getpid(),
             __atomic_add_fetch(&out_serial, 1, __ATOMIC_RELAXED));
    rc = storep_random(o->fmt.id, STOREP_ID_LEN, err);
    /* A delta's filter is keyed like its base's: one hash per lookup. */
    memcpy(o->fmt.base_id, o->is_delta ? base_id : o->fmt.id, STOREP_ID_LEN);
    storep_hash_key(o->fmt.base_id, o->fmt.hkey);
    if (rc == 0 && storep_bloom_build_init(&o->bloom, n, o->fmt.base_id) != 0)
        rc = jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    if (rc == 0)
        rc = out_create(o, err);
    if (rc == 0 && !o->is_delta)
        rc = bloom_create(o, err);
    if (rc != 0) {
        storep_out_abort(o);
        return rc;
    }
    *out = o;
    return 0;
}

const unsigned char *
storep_out_id(const storep_out *o)
{
    return o->fmt.id;
}

void
storep_out_set_parent(storep_out *o, const unsigned char *parent)
{
    memcpy(o->parent, parent, STOREP_ID_LEN);
    o->has_parent = 1;
}

uint64_t
storep_out_count(const storep_out *o)
{
    return o->n;
}

static void
count_entry(storep_out *o, const storep_rec *r)
{
    if (!o->is_delta)
        o->count[r->e.kind]++;
    else if (r->flags & STOREP_TOMBSTONE)
        o->count[0]++, o->count[r->e.kind] -= !!(r->flags & STOREP_SHADOW);
    else if (!(r->flags & STOREP_SHADOW))
        o->count[r->e.kind]++;
}

int
storep_out_add(storep_out *o, const storep_rec *r, jwtrev_error *err)
{
    unsigned char k[STOREP_KEY_MAX], v[STOREP_VAL_MAX];
    size_t klen;
    DBT dk, dv;
    int ret;

    if (storep_key_encode(&o->fmt, &r->e, k, &klen) != 0 ||
        (o->n > 0 && storep_bytes_cmp(o->last, o->last_len, k, klen) >= 0))
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL,
                           "%s: entry out of order or issuer not in the "
                           "table",
                           o->name);
    memset(&dk, 0, sizeof(dk));
    memset(&dv, 0, sizeof(dv));
    dk.data = k;
    dk.size = (uint32_t)klen;
    dv.data = v;
    dv.size = (uint32_t)storep_val_encode(r, v);
    ret = o->db->put(o->db, NULL, &dk, &dv, 0);
    if (ret != 0)
        return storep_fail_db(err, o->tmp, "cannot write", ret);
    storep_bloom_build_add(&o->bloom, storep_entry_hash(o->fmt.hkey, &r->e));
    count_entry(o, r);
    memcpy(o->last, k, klen);
    o->last_len = klen;
    o->n++;
    /* Start writing back what the file has so far: the final fsync then
     * has little left, and the small fsyncs of writes made beside a fold
     * do not queue behind tens of megabytes (ext4's journal orders them). */
    if (o->n % OUT_WRITEBACK_EVERY == 0)
        sync_file_range(o->tmpfd, 0, 0, SYNC_FILE_RANGE_WRITE);
    return 0;
}

static int
put_meta(storep_out *o, const char *name, const void *extra, size_t elen,
         const void *val, size_t vlen, jwtrev_error *err)
{
    unsigned char k[32];
    size_t n = strlen(name);
    DBT dk, dv;
    int ret;

    k[0] = 0;
    memcpy(k + 1, name, n);
    memcpy(k + 1 + n, extra, elen);
    memset(&dk, 0, sizeof(dk));
    memset(&dv, 0, sizeof(dv));
    dk.data = k;
    dk.size = (uint32_t)(1 + n + elen);
    dv.data = (void *)(uintptr_t)val; /* Berkeley DB only reads it */
    dv.size = (uint32_t)vlen;
    ret = o->db->put(o->db, NULL, &dk, &dv, 0);
    return ret == 0 ? 0 : storep_fail_db(err, o->tmp, "cannot write", ret);
}

static int
write_meta(storep_out *o, jwtrev_error *err)
{
    unsigned char ver[4], counts[8 * STOREP_NCOUNT], idx[4];
    uint32_t i;
    int rc;

    storep_put_u32(ver, STOREP_VERSION);
    for (i = 0; i < STOREP_NCOUNT; i++)
        storep_put_i64(counts + 8 * i, o->count[i]);
    rc = put_meta(o, "version", "", 0, ver, 4, err);
    if (rc == 0)
        rc = put_meta(o, "id", "", 0, o->fmt.id, STOREP_ID_LEN, err);
    if (rc == 0)
        rc = put_meta(o, "count", "", 0, counts, sizeof(counts), err);
    for (i = 0; rc == 0 && i < o->fmt.n_iss; i++) {
        storep_put_u32(idx, i);
        rc =
            put_meta(o, "iss", idx, 4, o->fmt.iss[i].s, o->fmt.iss[i].len, err);
    }
    if (rc == 0 && o->has_parent)
        rc = put_meta(o, "parent", "", 0, o->parent, STOREP_ID_LEN, err);
    if (rc == 0 && o->is_delta)
        rc = put_meta(o, "base", "", 0, o->fmt.base_id, STOREP_ID_LEN, err);
    if (rc == 0 && o->is_delta)
        rc = put_meta(o, "bloom", "", 0, o->bloom.buf, o->bloom.len, err);
    return rc;
}

/* Close the database (flushing it), then fsync the file ourselves. */
static int
close_and_sync(storep_out *o, jwtrev_error *err)
{
    int ret = o->db->close(o->db, 0);

    o->db = NULL;
    if (ret != 0)
        return storep_fail_db(err, o->tmp, "cannot write", ret);
    if (fchmod(o->tmpfd, o->w->file_mode) != 0 || fsync(o->tmpfd) != 0)
        return storep_fail_errno(err, o->tmp, "cannot sync", errno);
    return 0;
}

/* The base's filter as bloom.<id>, in place before the base is. */
static int
install_bloom(storep_out *o, jwtrev_error *err)
{
    char name[STOREP_BLOOM_NAME_MAX];

    storep_bloom_name(o->fmt.id, name);
    if (renameat(o->w->dirfd, o->bloom_tmp, o->w->dirfd, name) != 0)
        return storep_fail_errno(err, name, "cannot rename", errno);
    o->bloom_tmp[0] = '\0';
    return 0;
}

int
storep_out_seal(storep_out *o, jwtrev_error *err)
{
    int rc;

    storep_bloom_build_seal(&o->bloom);
    rc = write_meta(o, err);
    if (rc == 0)
        rc = close_and_sync(o, err);
    if (rc == 0 && !o->is_delta)
        rc = bloom_write(o, err);
    if (rc == 0)
        o->sealed = 1;
    return rc;
}

int
storep_out_install(storep_out *o, storep_txn *w, int sync_dir,
                   jwtrev_error *err)
{
    int rc = 0;

    o->w = w;
    if (!o->sealed)
        rc = jwtrev_fail(err, JWTREV_ERR_INTERNAL, "%s: not sealed", o->tmp);
    if (rc == 0 && !o->is_delta)
        rc = install_bloom(o, err);
    if (rc == 0 && renameat(w->dirfd, o->tmp, w->dirfd, o->name) != 0)
        rc = storep_fail_errno(err, o->name, "cannot rename", errno);
    if (rc == 0 && sync_dir && fsync(w->dirfd) != 0)
        rc = storep_fail_errno(err, w->dir, "cannot sync", errno);
    if (rc != 0) {
        storep_out_abort(o);
        return rc;
    }
    close(o->tmpfd);
    if (o->bloomfd >= 0)
        close(o->bloomfd);
    storep_bloom_build_free(&o->bloom);
    free(o);
    return 0;
}

int
storep_out_finish(storep_out *o, jwtrev_error *err)
{
    int rc = storep_out_seal(o, err);

    if (rc != 0) {
        storep_out_abort(o);
        return rc;
    }
    return storep_out_install(o, o->w, 1, err);
}

void
storep_out_abort(storep_out *o)
{
    if (o == NULL)
        return;
    char bdb_tmp[sizeof(o->tmp) + 8];

    if (o->db != NULL)
        o->db->close(o->db, DB_NOSYNC);
    /* Berkeley DB creates a file as "__db.NAME" and renames it: a create
     * that failed (a full disk) leaves that behind too. */
    snprintf(bdb_tmp, sizeof(bdb_tmp), "__db.%s", o->tmp);
    if (o->w != NULL && o->w->dirfd >= 0) {
        unlinkat(o->w->dirfd, o->tmp, 0);
        unlinkat(o->w->dirfd, bdb_tmp, 0);
    }
    if (o->w != NULL && o->w->dirfd >= 0 && o->bloom_tmp[0] != '\0')
        unlinkat(o->w->dirfd, o->bloom_tmp, 0);
    if (o->tmpfd >= 0)
        close(o->tmpfd);
    if (o->bloomfd >= 0)
        close(o->bloomfd);
    storep_bloom_build_free(&o->bloom);
    free(o);
}
