/*
 * conffile.c - config files for jwtrev_conf: one option per line,
 * "name=value" or a bare flag, '#' comments and blank lines, whitespace
 * around the line, the name and the value ignored.  The PAM module reads
 * them with JWTREV_CONF_FILE_STRICT, since whoever can write the file
 * decides who logs in.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jwtrevp.h"

/* A line longer than this is refused rather than cut. */
#define LINE_MAX_LEN 4096

/* Strip whitespace at both ends of s, in place. */
static char *
trim(char *s)
{
    char *end;

    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

/*
 * Judge the opened file by its descriptor (no race with a rename of the
 * path): strict files are regular, root's, and writable by root only.
 */
static int
check_file(int fd, const char *path, unsigned flags, jwtrev_error *err)
{
    struct stat st;

    if (fstat(fd, &st) != 0)
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR, "%s: %s", path,
                           strerror(errno));
    if (!S_ISREG(st.st_mode))
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "%s: not a regular file", path);
    if (!(flags & JWTREV_CONF_FILE_STRICT))
        return 0;
    if (st.st_uid != 0)
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "%s: not owned by root", path);
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "%s: writable by group or others", path);
    return 0;
}

/* Apply one line (NUL-terminated, newline removed). */
static int
apply_line(jwtrev_option_fn *fn, void *arg, char *line, const char *path,
           unsigned lineno, jwtrev_error *err)
{
    jwtrev_error e;
    char *s = trim(line), *eq;
    int rc;

    if (*s == '\0' || *s == '#')
        return 0;
    jwtrev_error_clear(&e);
    eq = strchr(s, '=');
    if (eq != NULL) {
        *eq = '\0';
        rc = fn(arg, trim(s), trim(eq + 1), &e);
    } else {
        rc = fn(arg, s, NULL, &e);
    }
    if (rc != 0)
        return jwtrev_fail(err, rc, "%s:%u: %s", path, lineno, e.detail);
    return 0;
}

static int
read_lines(jwtrev_option_fn *fn, void *arg, FILE *f, const char *path,
           jwtrev_error *err)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned lineno = 0;
    int rc = 0;

    while ((n = getline(&line, &cap, f)) > 0) {
        lineno++;
        if (n > LINE_MAX_LEN || memchr(line, '\0', (size_t)n) != NULL) {
            rc = jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                             "%s:%u: line too long or not text", path, lineno);
            goto done;
        }
        if (line[n - 1] == '\n')
            line[n - 1] = '\0';
        if ((rc = apply_line(fn, arg, line, path, lineno, err)) != 0)
            goto done;
    }
    if (ferror(f))
        rc = jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR, "%s: read error", path);
done:
    free(line);
    return rc;
}

/*
 * Options are applied to c as they are read; on failure c holds the lines
 * before the bad one, and the caller is expected to give up on it.
 */
int
jwtrev_conf_read_file(const char *path, unsigned flags, jwtrev_option_fn *fn,
                      void *arg, jwtrev_error *err)
{
    FILE *f = NULL;
    int fd, rc;

    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        if (errno == ELOOP)
            return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                               "%s: is a symbolic link", path);
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR, "%s: %s", path,
                           strerror(errno));
    }
    if ((rc = check_file(fd, path, flags, err)) != 0)
        goto done;
    f = fdopen(fd, "r");
    if (f == NULL) {
        rc = jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR, "%s: %s", path,
                         strerror(errno));
        goto done;
    }
    fd = -1; /* f owns it now */
    rc = read_lines(fn, arg, f, path, err);
done:
    if (f != NULL)
        fclose(f);
    if (fd >= 0)
        close(fd);
    return rc;
}

static int
conf_option(void *arg, const char *name, const char *value, jwtrev_error *err)
{
    return jwtrev_conf_set(arg, name, value, err);
}

int
jwtrev_conf_load_file(jwtrev_conf *c, const char *path, unsigned flags,
                      jwtrev_error *err)
{
    return jwtrev_conf_read_file(path, flags, conf_option, c, err);
}
