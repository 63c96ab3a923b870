/*
 * store_init.c - create a store with safe modes, or repair the modes of
 * an existing one (jwtrev init).
 *
 * Modes: only the owner (0700/0600), or a group that reads (2750/0640),
 * or a group that also writes (2770, gen 0660) for the httpd logout
 * handler.  The setgid directory gives new files the group; writers
 * create files 0640 or 0600 from the directory's mode; files are never
 * rewritten in place except gen, so only gen needs the group's write bit.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storep.h"

struct modes {
    gid_t gid; /* (gid_t)-1: keep */
    mode_t dir, file, gen;
};

/*
 * The mode (and group) of name, changed on the opened file: a link, a
 * FIFO or a device in a store file's place is refused, never followed or
 * waited on.  Its modes are what init repairs, so they are not judged.
 */
static int
set_mode(const storep_dir *sd, const char *name, const struct modes *m,
         mode_t mode, jwtrev_error *err)
{
    char path[PATH_MAX];
    struct stat st;
    int fd, rc = 0;

    snprintf(path, sizeof(path), "%s/%s", sd->path, name);
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 && errno == ELOOP && lstat(path, &st) == 0)
        return storep_file_judge(sd, path, &st, err);
    if (fd < 0)
        return storep_fail_errno(err, path, "cannot open", errno);
    if (fstat(fd, &st) != 0)
        rc = storep_fail_errno(err, path, "cannot stat", errno);
    else if (!S_ISREG(st.st_mode))
        rc = storep_file_judge(sd, path, &st, err);
    else if (m->gid != (gid_t)-1 && fchown(fd, (uid_t)-1, m->gid) != 0)
        rc = storep_fail_errno(err, path, "cannot change the group", errno);
    else if (fchmod(fd, mode) != 0)
        rc = storep_fail_errno(err, path, "cannot change the mode", errno);
    close(fd);
    return rc;
}

/* Every file of the store, whatever made it, gets the store's modes. */
static int
fix_modes(int dirfd, const storep_dir *sd, const struct modes *m,
          jwtrev_error *err)
{
    struct dirent *de;
    DIR *d;
    int fd = dup(dirfd), rc = 0;

    if (fd < 0 || (d = fdopendir(fd)) == NULL) {
        if (fd >= 0)
            close(fd);
        return storep_fail_errno(err, sd->path, "cannot list", errno);
    }
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, "gen") == 0)
            rc = set_mode(sd, de->d_name, m, m->gen, err);
        else if (strcmp(de->d_name, "lock") == 0 ||
                 strcmp(de->d_name, "base.db") == 0 ||
                 strcmp(de->d_name, "delta.db") == 0 ||
                 strncmp(de->d_name, "bloom.", 6) == 0)
            rc = set_mode(sd, de->d_name, m, m->file, err);
    }
    closedir(d);
    return rc;
}

static int
make_dir(const char *dir, const struct modes *m, int *dirfd, jwtrev_error *err)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return storep_fail_errno(err, dir, "cannot create", errno);
    *dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (*dirfd < 0)
        return storep_fail_errno(err, dir, "cannot open", errno);
    if (m->gid != (gid_t)-1 && fchown(*dirfd, (uid_t)-1, m->gid) != 0)
        return storep_fail_errno(err, dir, "cannot change the group", errno);
    if (fchmod(*dirfd, m->dir) != 0)
        return storep_fail_errno(err, dir, "cannot change the mode", errno);
    return 0;
}

/* Create lock and gen when missing; take the lock into w. */
static int
make_lock_and_gen(storep_txn *w, const storep_dir *sd, const struct modes *m,
                  jwtrev_error *err)
{
    unsigned char gen[STOREP_GEN_LEN];
    char tmp[32];
    uint64_t one = 1;
    struct stat st;
    int fd, rc = 0;

    /* Created when missing (O_EXCL: never through a link), then opened
     * and judged like every store file. */
    fd = openat(w->dirfd, "lock",
                O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, m->file);
    if (fd < 0 && errno != EEXIST)
        return storep_fail_errno(err, "lock", "cannot create", errno);
    if (fd >= 0)
        close(fd);
    rc = storep_open_in(sd, "lock", O_RDONLY, &w->lockfd, &st, err);
    if (rc == 0)
        rc = storep_lock_wait(w->lockfd, w->dir, err);
    if (rc != 0)
        return rc;
    memcpy(gen, STOREP_GEN_MAGIC, 8);
    memcpy(gen + 8, &one, 8);
    /* Whole or not at all, like every file of the store. */
    snprintf(tmp, sizeof(tmp), "gen.tmp.%ld", (long)getpid());
    if (faccessat(w->dirfd, "gen", F_OK, AT_SYMLINK_NOFOLLOW) != 0) {
        rc = storep_write_file(w->dirfd, tmp, gen, sizeof(gen), m->gen, err);
        if (rc == 0 && renameat(w->dirfd, tmp, w->dirfd, "gen") != 0)
            rc = storep_fail_errno(err, "gen", "cannot rename", errno);
        if (rc != 0)
            unlinkat(w->dirfd, tmp, 0);
    }
    if (rc == 0)
        rc = storep_open_in(sd, "gen", O_RDWR, &w->genfd, &st, err);
    return rc;
}

static int
exists(const storep_txn *w, const char *name)
{
    return faccessat(w->dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Under the lock: write what is missing of base.db and delta.db. */
static int
make_files(storep_txn *w, const storep_dir *sd, jwtrev_error *err)
{
    unsigned char id[STOREP_ID_LEN];
    storep_file *base = NULL;
    storep_out *o;
    int rc = 0;

    if (!exists(w, "base.db")) {
        if (exists(w, "delta.db"))
            return jwtrev_fail(err, JWTREV_ERR_DB_ERROR,
                               "%s/base.db is missing but delta.db is "
                               "there: restore the store from a dump",
                               w->dir);
        rc = storep_out_begin(w, "base.db", NULL, NULL, 0, 0, &o, err);
        if (rc == 0) {
            memcpy(id, storep_out_id(o), STOREP_ID_LEN);
            rc = storep_out_finish(o, err);
        }
    } else if (!exists(w, "delta.db")) {
        rc = storep_file_open(sd, "base.db", 0, &base, err);
        if (rc == 0)
            memcpy(id, base->id, STOREP_ID_LEN);
        storep_file_close(base);
    } else {
        return 0;
    }
    if (rc == 0)
        rc = storep_out_begin(w, "delta.db", id, NULL, 0, 0, &o, err);
    if (rc == 0)
        rc = storep_out_finish(o, err);
    return rc == 0 ? storep_txn_bump(w, err) : rc;
}

int
jwtrev_store_init(const char *dir, long gid, unsigned flags, jwtrev_error *err)
{
    struct modes m;
    storep_txn w;
    storep_dir sd;
    int rc;

    if ((flags & JWTREV_STORE_GROUP_WRITABLE) && gid < 0)
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "a group-writable store needs a group");
    m.gid = gid < 0 ? (gid_t)-1 : (gid_t)gid;
    m.dir =
        gid < 0 ? 0700 : (flags & JWTREV_STORE_GROUP_WRITABLE ? 02770 : 02750);
    m.file = gid < 0 ? 0600 : 0640;
    m.gen = flags & JWTREV_STORE_GROUP_WRITABLE ? 0660 : m.file;
    memset(&w, 0, sizeof(w));
    w.dir = dir;
    w.dirfd = w.lockfd = w.genfd = -1;
    w.file_mode = m.file;
    storep_set_init(&w.changes);
    rc = make_dir(dir, &m, &w.dirfd, err);
    if (rc == 0)
        rc = storep_dir_check(dir, &sd, err);
    /* Existing files first: what init repairs, a writer would refuse. */
    if (rc == 0)
        rc = fix_modes(w.dirfd, &sd, &m, err);
    if (rc == 0)
        rc = make_lock_and_gen(&w, &sd, &m, err);
    if (rc == 0)
        rc = make_files(&w, &sd, err);
    storep_txn_end(&w);
    return rc;
}
