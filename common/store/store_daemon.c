/*
 * store_daemon.c - a store that a jwtrevd owns (docs/design.md 7): the
 * marker file naming the daemon's socket, and the fold the daemon makes
 * beside the writers, holding the lock only at its two ends.
 *
 * The fold beside the writers:
 *   1. under the lock: take the delta's changes C0 and the base B0, start
 *      the new base's temporary file (flock()ed: other writers leave it);
 *   2. without it: merge B0 and C0 into the new base B1 (seconds at 1M
 *      entries) while writes go on adding to the delta, C1;
 *   3. under the lock: if B0 is still the base, put B1 in place, then the
 *      delta C1 restated against B1 (storep_rebase), and bump gen.
 * Between the two renames of step 3 (or after a writer killed there) the
 * delta extends B0 while B1 is the base: still exact, because in a store
 * a daemon owns every identity of C0 stays in C1 (removals leave
 * tombstones), so C1 answers for everything the fold took.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storep.h"

#define MARKER_MAX 4096

/* ---- the marker ---------------------------------------------------------- */

int
storep_daemon_owned(const storep_dir *d, char *socket, size_t len,
                    jwtrev_error *err)
{
    char buf[MARKER_MAX + 1], path[PATH_MAX], *nl;
    struct stat st;
    ssize_t n;
    int fd, rc;

    snprintf(path, sizeof(path), "%s/%s", d->path, STOREP_DAEMON_FILE);
    if (faccessat(AT_FDCWD, path, F_OK, AT_SYMLINK_NOFOLLOW) != 0 &&
        errno == ENOENT)
        return 0;
    rc = storep_open_in(d, STOREP_DAEMON_FILE, O_RDONLY, &fd, &st, err);
    if (rc != 0)
        return rc;
    n = pread(fd, buf, MARKER_MAX, 0);
    close(fd);
    if (n < 0)
        return storep_fail_errno(err, path, "cannot read", errno);
    buf[n] = '\0';
    nl = strchr(buf, '\n');
    if (strncmp(buf, "socket=/", 8) != 0 || nl == NULL || nl[1] != '\0' ||
        memchr(buf, '\0', (size_t)n) != NULL)
        return jwtrev_fail(err, JWTREV_ERR_DB_ERROR,
                           "%s: not a daemon marker (one line "
                           "socket=/ABSOLUTE/PATH expected)",
                           path);
    *nl = '\0';
    if ((size_t)(nl - buf - 7) >= len)
        return jwtrev_fail(err, JWTREV_ERR_DB_ERROR, "%s: socket path too long",
                           path);
    memcpy(socket, buf + 7, (size_t)(nl - buf - 7) + 1);
    return 1;
}

int
jwtrev_store_daemon_get(const char *dir, char *socket, size_t len,
                        jwtrev_error *err)
{
    storep_dir d;
    int rc = storep_dir_check(dir, &d, err);

    return rc != 0 ? rc : storep_daemon_owned(&d, socket, len, err);
}

int
jwtrev_store_daemon_set(const char *dir, const char *socket, jwtrev_error *err)
{
    char text[MARKER_MAX], tmp[64];
    storep_txn w;
    int n, rc;

    if (socket != NULL) {
        n = snprintf(text, sizeof(text), "socket=%s\n", socket);
        if (socket[0] != '/' || n < 0 || (size_t)n >= sizeof(text) ||
            strchr(socket, '\n') != NULL)
            return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                               "socket path must be absolute, one line, "
                               "shorter than %d bytes",
                               MARKER_MAX - 8);
    }
    rc = storep_txn_begin(dir, &w, err);
    if (rc != 0)
        return rc;
    if (socket == NULL) {
        if (unlinkat(w.dirfd, STOREP_DAEMON_FILE, 0) != 0 && errno != ENOENT)
            rc = storep_fail_errno(err, STOREP_DAEMON_FILE, "cannot remove",
                                   errno);
    } else {
        snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", STOREP_DAEMON_FILE,
                 (long)getpid());
        rc = storep_write_file(w.dirfd, tmp, text, (size_t)n, w.file_mode, err);
        if (rc == 0 && renameat(w.dirfd, tmp, w.dirfd, STOREP_DAEMON_FILE) != 0)
            rc = storep_fail_errno(err, STOREP_DAEMON_FILE, "cannot rename",
                                   errno);
        if (rc != 0)
            unlinkat(w.dirfd, tmp, 0);
    }
    if (rc == 0 && fsync(w.dirfd) != 0)
        rc = storep_fail_errno(err, dir, "cannot sync", errno);
    storep_txn_end(&w);
    return rc;
}

/* ---- the fold beside the writers ----------------------------------------- */

/* Step 1, under the lock: what to fold, and the new file started. */
struct fold {
    storep_txn out_w;   /* the directory the new base is written in */
    storep_file *base;  /* B0, kept open (it is immutable) */
    storep_set changes; /* C0 */
    storep_str *iss;
    uint32_t n_iss;
    storep_out *o;
    uint64_t gen; /* at step 1 */
};

static void
fold_free(struct fold *f)
{
    if (f->o != NULL)
        storep_out_abort(f->o);
    storep_file_close(f->base);
    storep_set_free(&f->changes);
    free(f->iss);
    if (f->out_w.dirfd >= 0)
        close(f->out_w.dirfd);
}

static int
fold_begin(const char *dir, struct fold *f, int64_t purge_now,
           jwtrev_error *err)
{
    storep_txn w;
    uint64_t total;
    int k, rc = storep_txn_begin(dir, &w, err);

    if (rc != 0)
        return rc;
    rc = storep_txn_load_changes(&w, err);
    if (rc == 0 && w.changes.n == 0 && purge_now == 0) {
        storep_txn_end(&w);
        return 1; /* nothing to fold */
    }
    if (rc == 0)
        rc = storep_gen_read(w.genfd, dir, &f->gen, err);
    if (rc == 0 &&
        storep_iss_union(w.base, &w.changes, NULL, &f->iss, &f->n_iss) != 0)
        rc = jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    f->out_w.dir = dir;
    f->out_w.file_mode = w.file_mode;
    f->out_w.dirfd = rc == 0 ? dup(w.dirfd) : -1;
    if (rc == 0 && f->out_w.dirfd < 0)
        rc = storep_fail_errno(err, dir, "cannot open", errno);
    for (total = w.changes.n, k = 1; k < STOREP_NCOUNT; k++)
        total += w.base->count[k] > 0 ? (uint64_t)w.base->count[k] : 0;
    if (rc == 0)
        rc = storep_out_begin(&f->out_w, "base.db", NULL, f->iss, f->n_iss,
                              total, &f->o, err);
    if (rc == 0) {
        storep_out_set_parent(f->o, w.base->id);
        /* Keep B0 and C0 past the lock. */
        f->base = w.base;
        w.base = NULL;
        f->changes = w.changes;
        storep_set_init(&w.changes);
    }
    storep_txn_end(&w);
    return rc;
}

/* Step 3, under the lock: B1 in place, then C1 restated against it. */
static int
fold_install(const char *dir, struct fold *f, int *raced, jwtrev_error *err)
{
    storep_file *b1 = NULL;
    storep_dir sd;
    storep_txn w;
    int rc = storep_txn_begin(dir, &w, err);

    if (rc != 0)
        return rc;
    if (memcmp(w.base->id, f->base->id, STOREP_ID_LEN) != 0) {
        *raced = 1; /* another writer compacted meanwhile: ours is stale */
        storep_txn_end(&w);
        return 0;
    }
    /* C1, as it is now: it extends B0 (so no rebase on loading). */
    rc = storep_txn_load_changes(&w, err);
    if (rc == 0)
        rc = storep_out_install(f->o, &w, 0, err); /* the delta syncs */
    f->o = NULL;                                   /* freed either way */
    if (rc == 0)
        rc = storep_dir_check(dir, &sd, err);
    if (rc == 0)
        rc = storep_file_open(&sd, "base.db", 0, &b1, err);
    if (rc == 0)
        rc = storep_file_attach_bloom(b1, &sd, err);
    if (rc == 0) {
        storep_file_close(w.base);
        w.base = b1;
        b1 = NULL;
        rc = storep_rebase(&w, &w.changes, &f->changes, err);
    }
    if (rc == 0)
        rc = storep_txn_write_delta(&w, err);
    storep_file_close(b1);
    storep_txn_end(&w);
    return rc;
}

int
jwtrev_store_fold(const char *dir, int64_t purge_now,
                  const jwtrev_store_progress *p, uint64_t *dropped, int *raced,
                  jwtrev_error *err)
{
    struct fold f;
    uint64_t nd = 0;
    int rc;

    memset(&f, 0, sizeof(f));
    f.out_w.dirfd = -1;
    storep_set_init(&f.changes);
    *raced = 0;
    rc = fold_begin(dir, &f, purge_now, err);
    if (rc == 1) {
        fold_free(&f);
        if (dropped != NULL)
            *dropped = 0;
        return 0;
    }
    if (rc == 0)
        rc = storep_merge_into_out(f.base, &f.changes, NULL, purge_now, p, f.o,
                                   &nd, err);
    if (rc == 0)
        rc = storep_out_seal(f.o, err);
    if (rc == 0)
        rc = fold_install(dir, &f, raced, err);
    fold_free(&f);
    if (rc == 0 && dropped != NULL)
        *dropped = *raced ? 0 : nd;
    return rc;
}
