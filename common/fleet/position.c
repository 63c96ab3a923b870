/*
 * position.c - the follower's position in state_dir/position: the text
 * of the PostgreSQL snapshot (pg_current_snapshot()) of the last fetch
 * whose changes were all applied, and on a second line the server's
 * system identifier and timeline it was taken on.  Written only after apply
 * returned 0, by a temporary file, fsync and rename, so a crash leaves the old
 * position or the new one, and at worst changes are applied twice.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fleetp.h"

#define POSITION_MAX (1 << 20)

/* digits, at most 20 of them (an xid8); p moves past them */
static int
digits(const char **p)
{
    const char *s = *p;

    while (**p >= '0' && **p <= '9')
        (*p)++;
    return *p > s && *p - s <= 20;
}

int
fleetp_snapshot_valid(const char *s)
{
    if (!digits(&s) || *s++ != ':' || !digits(&s) || *s++ != ':')
        return 0;
    if (*s == '\0')
        return 1;
    for (;;) {
        if (!digits(&s))
            return 0;
        if (*s == '\0')
            return 1;
        if (*s++ != ',')
            return 0;
    }
}

int
fleetp_fsync_dir(const char *dir, jwtrev_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

    if (fd < 0 || fsync(fd) != 0)
        rc = jwtrev_fail(err, JWTREV_ERR_DB_ERROR, "%s: cannot sync: %s", dir,
                         strerror(errno));
    if (fd >= 0)
        close(fd);
    return rc;
}

int
fleetp_position_load(const char *dir, char **out, char *epoch, size_t size,
                     const char **why, jwtrev_error *err)
{
    char path[4096], *buf = NULL, *nl;
    ssize_t n;
    int fd, rc = 1;

    *out = NULL;
    *epoch = '\0';
    *why = "no position yet";
    snprintf(path, sizeof(path), "%s/position", dir);
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT
                   ? 1
                   : jwtrev_fail(err, JWTREV_ERR_DB_ERROR,
                                 "%s: cannot open: %s", path, strerror(errno));
    buf = malloc(POSITION_MAX + 1);
    if (buf == NULL) {
        rc = jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
        goto done;
    }
    n = read(fd, buf, POSITION_MAX);
    if (n < 0) {
        rc = jwtrev_fail(err, JWTREV_ERR_DB_ERROR, "%s: cannot read: %s", path,
                         strerror(errno));
        goto done;
    }
    buf[n] = '\0';
    /* the snapshot, then the server's system and timeline it is of */
    if ((nl = strchr(buf, '\n')) != NULL) {
        *nl++ = '\0';
        nl[strcspn(nl, "\n")] = '\0';
        if (strlen(nl) < size)
            memcpy(epoch, nl, strlen(nl) + 1);
    }
    if (!fleetp_snapshot_valid(buf)) {
        *why = "the position file is damaged";
        *epoch = '\0';
        goto done;
    }
    *out = buf;
    buf = NULL;
    rc = 0;
done:
    free(buf);
    close(fd);
    return rc;
}

int
fleetp_position_save(const char *dir, const char *pos, const char *epoch,
                     jwtrev_error *err)
{
    char path[4096], tmp[4096];
    int fd, rc = 0;

    snprintf(path, sizeof(path), "%s/position", dir);
    snprintf(tmp, sizeof(tmp), "%s/position.tmp", dir);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 || dprintf(fd, "%s\n%s\n", pos, epoch) < 0 ||
        fdatasync(fd) != 0 || rename(tmp, path) != 0) {
        rc = jwtrev_fail(err, JWTREV_ERR_DB_ERROR, "%s: cannot write: %s", path,
                         strerror(errno));
        unlink(tmp);
    }
    if (fd >= 0)
        close(fd);
    return rc != 0 ? rc : fleetp_fsync_dir(dir, err);
}
