/*
 * store_write.c - the writer's side of the store protocol: take the lock,
 * clear what a dead writer left, write a new file beside the old one,
 * fsync it, rename it into place, fsync the directory, bump gen.
 *
 * A writer killed at any point leaves either the old file or the new one
 * in place (rename is atomic), at most a temporary file, and no lock (the
 * kernel drops a dead process's flock).  Readers share nothing with it.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "storep.h"

/* How long a writer waits for another one (a load of millions of entries
 * holds the lock for seconds). */
#define LOCK_WAIT_MS 30000

int
storep_random(unsigned char *buf, size_t len, jwtrev_error *err)
{
    ssize_t n;

    while (len > 0) {
        n = getrandom(buf, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "no random bytes: %s",
                               strerror(errno));
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

int
storep_lock_wait(int fd, const char *dir, jwtrev_error *err)
{
    struct timespec ts;
    long waited = 0, step = 1;

    for (;;) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return 0;
        if (errno != EWOULDBLOCK && errno != EINTR)
            return storep_fail_errno(err, dir, "cannot lock the store", errno);
        if (waited >= LOCK_WAIT_MS)
            return jwtrev_fail(err, JWTREV_ERR_DB_ERROR,
                               "%s: another writer has held the store "
                               "lock for %d s",
                               dir, LOCK_WAIT_MS / 1000);
        ts.tv_sec = 0;
        ts.tv_nsec = step * 1000000L;
        nanosleep(&ts, NULL);
        waited += step;
        step = step < 50 ? step * 2 : 50;
    }
}

int
storep_tmp_in_use(int dirfd, const char *name)
{
    int fd = openat(dirfd, name,
                    O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    int busy;

    if (fd < 0)
        return 0;
    busy = flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd);
    return busy;
}

/*
 * Remove temporary files (only lock holders make them, so they are a dead
 * writer's, unless a fold beside the writers still holds its flock) and
 * filters of bases no longer in place.
 */
static void
remove_leftovers(storep_txn *w)
{
    char keep[STOREP_BLOOM_NAME_MAX];
    struct dirent *de;
    DIR *d;
    int fd = dup(w->dirfd);

    if (fd < 0)
        return;
    d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return;
    }
    storep_bloom_name(w->base->id, keep);
    while ((de = readdir(d)) != NULL) {
        if (strstr(de->d_name, ".tmp.") != NULL) {
            if (!storep_tmp_in_use(w->dirfd, de->d_name))
                unlinkat(w->dirfd, de->d_name, 0);
        } else if (strncmp(de->d_name, "bloom.", 6) == 0 &&
                   strcmp(de->d_name, keep) != 0) {
            unlinkat(w->dirfd, de->d_name, 0);
        }
    }
    closedir(d);
}

/*
 * Open the directory, judged as the readers judge it (a writer must not
 * write a store every reader refuses); new files get the group's read
 * bit when the directory has it.
 */
static int
open_dir(storep_txn *w, storep_dir *sd, jwtrev_error *err)
{
    struct stat st;
    int rc = storep_dir_check(w->dir, sd, err);

    if (rc != 0)
        return rc;
    w->dirfd = open(w->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (w->dirfd < 0)
        return storep_fail_errno(err, w->dir, "cannot open the store", errno);
    if (fstat(w->dirfd, &st) != 0)
        return storep_fail_errno(err, w->dir, "cannot stat", errno);
    w->file_mode = st.st_mode & S_IRGRP ? 0640 : 0600;
    return 0;
}

int
storep_txn_begin(const char *dir, storep_txn *w, jwtrev_error *err)
{
    char socket[PATH_MAX];
    storep_dir sd;
    struct stat st;
    uint64_t gen;
    int rc;

    memset(w, 0, sizeof(*w));
    w->dir = dir;
    w->dirfd = w->lockfd = w->genfd = -1;
    storep_set_init(&w->changes);
    rc = open_dir(w, &sd, err);
    if (rc == 0)
        rc = storep_open_in(&sd, "lock", O_RDONLY, &w->lockfd, &st, err);
    if (rc == 0)
        rc = storep_lock_wait(w->lockfd, dir, err);
    if (rc == 0)
        rc = storep_open_in(&sd, "gen", O_RDWR, &w->genfd, &st, err);
    /* A gen that cannot be bumped is refused before anything is written:
     * a change that readers would never be told of is not made. */
    if (rc == 0)
        rc = storep_gen_read(w->genfd, dir, &gen, err);
    if (rc == 0)
        rc = storep_open_pair(dir, 0, &w->base, &w->delta, err);
    if (rc == 0) {
        rc = storep_daemon_owned(&sd, socket, sizeof(socket), err);
        w->daemon_owned = rc == 1;
        rc = rc < 0 ? rc : 0;
    }
    if (rc != 0) {
        storep_txn_end(w);
        return rc;
    }
    remove_leftovers(w);
    return 0;
}

void
storep_txn_end(storep_txn *w)
{
    storep_file_close(w->base);
    storep_file_close(w->delta);
    storep_set_free(&w->changes);
    if (w->genfd >= 0)
        close(w->genfd);
    if (w->lockfd >= 0)
        close(w->lockfd); /* drops the lock */
    if (w->dirfd >= 0)
        close(w->dirfd);
    w->base = w->delta = NULL;
    w->dirfd = w->lockfd = w->genfd = -1;
}

int
storep_txn_bump(storep_txn *w, jwtrev_error *err)
{
    struct timespec ts;
    uint64_t gen;
    int rc = storep_gen_read(w->genfd, w->dir, &gen, err);

    if (rc != 0)
        return rc;
    gen++;
    /* One aligned 8-byte write; readers read gen at most
     * STOREP_GEN_TTL_NS apart, so once that has passed every reader's
     * next lookup sees the new value. */
    if (pwrite(w->genfd, &gen, sizeof(gen), 8) != (ssize_t)sizeof(gen))
        return storep_fail_errno(err, w->dir, "cannot write gen", errno);
    ts.tv_sec = 0;
    ts.tv_nsec = STOREP_GEN_TTL_NS + STOREP_GEN_TTL_NS / 10;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    return 0;
}

/* Write a whole small file (the gen file, filters) and sync it. */
int
storep_write_file(int dirfd, const char *name, const void *buf, size_t len,
                  mode_t mode, jwtrev_error *err)
{
    const unsigned char *p = buf;
    ssize_t n;
    int fd, rc = 0;

    fd = openat(dirfd, name,
                O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0)
        return storep_fail_errno(err, name, "cannot create", errno);
    while (len > 0 && rc == 0) {
        n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            rc = storep_fail_errno(err, name, "cannot write", errno);
        else
            p += n, len -= (size_t)n;
    }
    if (rc == 0 && (fchmod(fd, mode) != 0 || fsync(fd) != 0))
        rc = storep_fail_errno(err, name, "cannot sync", errno);
    if (close(fd) != 0 && rc == 0)
        rc = storep_fail_errno(err, name, "cannot write", errno);
    if (rc != 0)
        unlinkat(dirfd, name, 0);
    return rc;
}

int
storep_str_cmp(const void *a, const void *b)
{
    const storep_str *x = a, *y = b;

    return storep_bytes_cmp(x->s, x->len, y->s, y->len);
}

struct strvec {
    storep_str *v;
    size_t n, cap;
};

static int
strvec_add(struct strvec *sv, const char *s, size_t len)
{
    storep_str *nv;

    /* Sets are sorted and intern issuers: repeats come as one pointer. */
    if (sv->n > 0 && sv->v[sv->n - 1].s == s)
        return 0;
    if (sv->n == sv->cap) {
        sv->cap = sv->cap ? sv->cap * 2 : 16;
        nv = realloc(sv->v, sv->cap * sizeof(*nv));
        if (nv == NULL)
            return -1;
        sv->v = nv;
    }
    sv->v[sv->n].s = s;
    sv->v[sv->n++].len = len;
    return 0;
}

static int
strvec_add_set(struct strvec *sv, const storep_set *s)
{
    const jwtrev_entry *e;
    size_t i;

    for (i = 0; s != NULL && i < s->n; i++) {
        e = &s->v[i]->e;
        if ((e->kind == JWTREV_ENTRY_TOKEN ||
             e->kind == JWTREV_ENTRY_SUBJECT) &&
            strvec_add(sv, e->iss, e->iss_len) != 0)
            return -1;
    }
    return 0;
}

int
storep_iss_union(const storep_file *f, const storep_set *s1,
                 const storep_set *s2, storep_str **out, uint32_t *n_out)
{
    struct strvec sv = {NULL, 0, 0};
    size_t i, j;

    for (i = 0; f != NULL && i < f->n_iss; i++) {
        if (strvec_add(&sv, f->iss[i].s, f->iss[i].len) != 0)
            goto fail;
    }
    if (strvec_add_set(&sv, s1) != 0 || strvec_add_set(&sv, s2) != 0)
        goto fail;
    if (sv.n > 1)
        qsort(sv.v, sv.n, sizeof(*sv.v), storep_str_cmp);
    for (i = j = 0; i < sv.n; i++) {
        if (j == 0 || storep_str_cmp(&sv.v[j - 1], &sv.v[i]) != 0)
            sv.v[j++] = sv.v[i];
    }
    if (j > UINT32_MAX)
        goto fail;
    *out = sv.v;
    *n_out = (uint32_t)j;
    return 0;
fail:
    free(sv.v);
    return -JWTREV_ERR_INTERNAL;
}
