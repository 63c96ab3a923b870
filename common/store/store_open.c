/*
 * store_open.c - the one way a store file is opened, by the readers,
 * jwtrev stats and every writer: by name in the store directory, never
 * following a symbolic link in the file's place and never blocking (a FIFO
 * or a device there is refused, not waited on), and judged on the opened
 * descriptor, so that what is judged is what is read.
 *
 * Who may have written a store: the directory is owned by root or by the
 * user of this process and is not writable by others; each file is a
 * regular file, not writable by others, owned by root or by the
 * directory's owner or, in a store whose setgid directory lets its group
 * write (jwtrev init --logout-writable), of the directory's group.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storep.h"

static const char *
file_type(mode_t mode)
{
    if (S_ISLNK(mode))
        return "a symbolic link";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISCHR(mode) || S_ISBLK(mode))
        return "a device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a regular file";
}

int
storep_dir_check(const char *path, storep_dir *out, jwtrev_error *err)
{
    struct stat st;

    if (strlen(path) + STOREP_NAME_MAX + 2 > PATH_MAX)
        return jwtrev_fail(err, JWTREV_ERR_DB_ERROR, "%s: path too long", path);
    if (stat(path, &st) != 0)
        return errno == ENOENT
                   ? jwtrev_fail(err, JWTREV_ERR_DB_ERROR,
                                 "%s: missing (is the store initialised? "
                                 "see jwtrev init)",
                                 path)
                   : storep_fail_errno(err, path, "cannot open the store",
                                       errno);
    if (!S_ISDIR(st.st_mode))
        return jwtrev_fail(err, JWTREV_ERR_DB_ERROR, "%s: not a directory",
                           path);
    if (st.st_mode & S_IWOTH)
        return jwtrev_fail(err, JWTREV_ERR_DB_ERROR,
                           "%s is writable by others: refusing the store",
                           path);
    if (st.st_uid != 0 && st.st_uid != geteuid())
        return jwtrev_fail(err, JWTREV_ERR_DB_ERROR,
                           "%s is owned by uid %lu, neither root nor this "
                           "process's user: refusing the store",
                           path, (unsigned long)st.st_uid);
    out->path = path;
    out->uid = st.st_uid;
    out->gid = st.st_gid;
    out->group_writes =
        (st.st_mode & (S_ISGID | S_IWGRP)) == (S_ISGID | S_IWGRP);
    return 0;
}

int
storep_file_judge(const storep_dir *d, const char *path, const struct stat *st,
                  jwtrev_error *err)
{
    if (!S_ISREG(st->st_mode))
        return jwtrev_fail(err, JWTREV_ERR_DB_ERROR,
                           "%s is %s, not a store file: refusing the store",
                           path, file_type(st->st_mode));
    if (st->st_mode & S_IWOTH)
        return jwtrev_fail(err, JWTREV_ERR_DB_ERROR,
                           "%s is writable by others: refusing the store",
                           path);
    if (st->st_uid != 0 && st->st_uid != d->uid &&
        !(d->group_writes && st->st_gid == d->gid))
        return jwtrev_fail(err, JWTREV_ERR_DB_ERROR,
                           "%s is owned by uid %lu, not by root or the "
                           "store's owner: refusing the store",
                           path, (unsigned long)st->st_uid);
    return 0;
}

int
storep_lstat_same(const storep_dir *d, const char *name, const struct stat *was)
{
    char path[PATH_MAX];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", d->path, name);
    return lstat(path, &st) == 0 && st.st_dev == was->st_dev &&
           st.st_ino == was->st_ino && st.st_size == was->st_size &&
           st.st_ctim.tv_sec == was->st_ctim.tv_sec &&
           st.st_ctim.tv_nsec == was->st_ctim.tv_nsec &&
           storep_file_judge(d, path, &st, NULL) == 0;
}

int
storep_open_in(const storep_dir *d, const char *name, int flags, int *fd,
               struct stat *st, jwtrev_error *err)
{
    char path[PATH_MAX];
    struct stat lst;
    int rc;

    snprintf(path, sizeof(path), "%s/%s", d->path, name);
    *fd = open(path, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (*fd < 0) {
        if (errno == ENOENT)
            return jwtrev_fail(err, JWTREV_ERR_DB_ERROR,
                               "%s: missing (is the store initialised? "
                               "see jwtrev init)",
                               path);
        /* O_NOFOLLOW refuses a link with ELOOP: name what is there. */
        if (errno == ELOOP && lstat(path, &lst) == 0)
            return storep_file_judge(d, path, &lst, err);
        return storep_fail_errno(err, path, "cannot open", errno);
    }
    if (fstat(*fd, st) != 0)
        rc = storep_fail_errno(err, path, "cannot stat", errno);
    else
        rc = storep_file_judge(d, path, st, err);
    if (rc != 0) {
        close(*fd);
        *fd = -1;
    }
    return rc;
}

int
storep_gen_read(int fd, const char *dir, uint64_t *out, jwtrev_error *err)
{
    unsigned char buf[STOREP_GEN_LEN];

    if (pread(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf) ||
        memcmp(buf, STOREP_GEN_MAGIC, 8) != 0)
        return jwtrev_fail(err, JWTREV_ERR_DB_ERROR,
                           "%s/gen: truncated or not a jwtrev generation file",
                           dir);
    memcpy(out, buf + 8, sizeof(*out));
    return 0;
}
