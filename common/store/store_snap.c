/*
 * store_snap.c - a base file's snapshot in sealed memory (docs/design.md
 * 7): jwtrevd copies every record of base.db (each page's checksum
 * checked as it is read) into a Berkeley DB file without page checksums,
 * puts that in a memfd sealed so that nothing can write, grow or shrink
 * it, and hands it to long-lived readers (httpd children) over its
 * socket.  A reader maps it (Berkeley DB maps only files whose pages
 * need no checking on the way in; sealed, this one cannot change after
 * it was checked, nor be cut short under the mapping), so a revoked
 * token's lookup reads memory instead of reading and checking a page,
 * and the pages exist once for every child.  A reader that gets no
 * snapshot reads the file as before: the daemon is never in its path.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storep.h"

#define SNAP_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)

/* Copy the len bytes of fd into the memfd mfd. */
static int
copy_all(int fd, int mfd, off_t len, const char *name, jwtrev_error *err)
{
    static const size_t chunk = 1u << 20;
    char *buf = malloc(chunk);
    off_t off = 0;
    ssize_t n, w;
    int rc = buf != NULL
                 ? 0
                 : jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");

    while (rc == 0 && off < len) {
        n = pread(fd, buf,
                  (size_t)(len - off) < chunk ? (size_t)(len - off) : chunk,
                  off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n == 0 ? jwtrev_fail(err, JWTREV_ERR_DB_ERROR,
                                      "%s: cut short while it was copied", name)
                        : storep_fail_errno(err, name, "cannot read", errno);
            break;
        }
        w = pwrite(mfd, buf, (size_t)n, off);
        if (w != n)
            rc = storep_fail_errno(err, name, "cannot copy into memory",
                                   w < 0 ? errno : ENOSPC);
        off += n;
    }
    free(buf);
    return rc;
}

int
jwtrev_store_snapshot_make(const char *dir, const char *scratch, int *out,
                           unsigned char id[JWTREV_STORE_SNAPSHOT_ID],
                           jwtrev_error *err)
{
    static unsigned serial;
    char name[PATH_MAX], tmp[PATH_MAX];
    storep_file *f = NULL;
    struct stat st;
    storep_dir d;
    int fd = -1, mfd = -1, rc;

    snprintf(name, sizeof(name), "%s/base.db", dir);
    snprintf(tmp, sizeof(tmp), "%s/snapshot.tmp.%ld.%u", scratch,
             (long)getpid(), __atomic_add_fetch(&serial, 1, __ATOMIC_RELAXED));
    rc = storep_dir_check(dir, &d, err);
    if (rc == 0)
        rc = storep_file_open(&d, "base.db", 0, &f, err);
    if (rc == 0)
        rc = storep_file_copy_plain(f, tmp, err);
    if (rc == 0) {
        memcpy(id, f->id, STOREP_ID_LEN);
        fd = open(tmp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        unlink(tmp);
        if (fd < 0 || fstat(fd, &st) != 0)
            rc = storep_fail_errno(err, tmp, "cannot reopen", errno);
    }
    storep_file_close(f);
    if (rc == 0) {
        mfd = memfd_create("jwtrev-base.db", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (mfd < 0)
            rc = storep_fail_errno(err, name, "cannot make a snapshot", errno);
    }
    if (rc == 0)
        rc = copy_all(fd, mfd, st.st_size, tmp, err);
    if (rc == 0 && fcntl(mfd, F_ADD_SEALS, SNAP_SEALS) != 0)
        rc = storep_fail_errno(err, name, "cannot seal the snapshot", errno);
    if (fd >= 0)
        close(fd);
    if (rc != 0) {
        if (mfd >= 0)
            close(mfd);
        return rc;
    }
    *out = mfd;
    return 0;
}

int
storep_file_adopt_snapshot(storep_file *f, int mfd, unsigned flags,
                           jwtrev_error *err)
{
    storep_file *g = NULL;
    struct stat st;
    DB *db;
    int seals = fcntl(mfd, F_GET_SEALS), rc = 0;

    if (seals < 0 || (seals & SNAP_SEALS) != SNAP_SEALS)
        return jwtrev_fail(err, JWTREV_ERR_DB_ERROR,
                           "%s: a snapshot that is not sealed", f->name);
    if (fstat(mfd, &st) != 0)
        return storep_fail_errno(err, f->name, "cannot stat a snapshot", errno);
    rc = storep_file_open_fd(mfd, &st, f->name, flags | STOREP_OPEN_MAPPED, &g,
                             err);
    if (rc == 0 && memcmp(g->id, f->id, STOREP_ID_LEN) != 0)
        rc = jwtrev_fail(err, JWTREV_ERR_DB_ERROR,
                         "%s: a snapshot of another base", f->name);
    if (rc == 0) {
        /* The same file's bytes: keep f (its stat, filter, issuers) and
         * read through the mapping. */
        db = f->db;
        f->db = g->db;
        g->db = db;
        f->snapshot = 1;
    }
    storep_file_close(g);
    return rc;
}
