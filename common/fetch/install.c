/*
 * install.c - a fetched JWKS becomes the key file, atomically and only
 * when it loads: written beside the file, loaded by the library's own
 * key loader from there, fsynced, renamed over it.  The key ids added and
 * removed are reported for the caller's log line.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "jwtrev_fetch.h"

struct kids {
    char **v;
    size_t n;
};

static void
kids_free(struct kids *k)
{
    size_t i;

    for (i = 0; i < k->n; i++)
        free(k->v[i]);
    free(k->v);
    k->v = NULL;
    k->n = 0;
}

static int
kids_has(const struct kids *k, const char *kid)
{
    size_t i;

    for (i = 0; i < k->n; i++)
        if (strcmp(k->v[i], kid) == 0)
            return 1;
    return 0;
}

/*
 * The kids of a JWKS text (keys without one are counted, not listed).
 * -JWTREV_ERR_CONFIG_ERROR: not a JWKS, or a kid twice.
 */
static int
jwks_kids(const char *data, size_t len, struct kids *out, size_t *keys,
          jwtrev_error *err)
{
    json_error_t je;
    json_t *doc, *arr, *kid;
    struct kids k = {NULL, 0};
    size_t i;
    int rc = 0;

    doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
    arr = json_object_get(doc, "keys");
    if (doc == NULL)
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "not JSON: line %d: %s", je.line, je.text);
    if (!json_is_array(arr)) {
        rc = jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                         "not a JWKS (no \"keys\" array)");
        goto done;
    }
    if ((k.v = calloc(json_array_size(arr) + 1, sizeof(*k.v))) == NULL) {
        rc = jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
        goto done;
    }
    for (i = 0; i < json_array_size(arr); i++) {
        kid = json_object_get(json_array_get(arr, i), "kid");
        if (!json_is_string(kid))
            continue;
        if (kids_has(&k, json_string_value(kid))) {
            rc = jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                             "key %zu: kid used twice", i + 1);
            goto done;
        }
        if ((k.v[k.n] = strdup(json_string_value(kid))) == NULL) {
            rc = jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
            goto done;
        }
        k.n++;
    }
    *keys = json_array_size(arr);
    *out = k;
    k.v = NULL;
    k.n = 0;
done:
    kids_free(&k);
    json_decref(doc);
    return rc;
}

/* The current file's bytes; *data NULL when there is none. */
static int
read_old(const char *file, char **data, size_t *len, struct stat *st,
         jwtrev_error *err)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    char *d;
    ssize_t r;
    size_t n = 0;

    *data = NULL;
    if (fd < 0)
        return errno == ENOENT ? 0
                               : jwtrev_fail(err, JWTREV_ERR_INTERNAL, "%s: %s",
                                             file, strerror(errno));
    if (fstat(fd, st) != 0 || (d = malloc((size_t)st->st_size + 1)) == NULL) {
        close(fd);
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "%s: cannot read", file);
    }
    while (n < (size_t)st->st_size &&
           (r = read(fd, d + n, (size_t)st->st_size - n)) > 0)
        n += (size_t)r;
    close(fd);
    d[n] = '\0';
    *data = d;
    *len = n;
    return 0;
}

/* Does the text at path load as keys?  The library's loader decides. */
static int
loads(const char *path, jwtrev_error *err)
{
    jwtrev_conf c;
    jwtrev_keyring *kr = NULL;
    jwtrev_error e;
    int rc;

    jwtrev_conf_init(&c);
    jwtrev_error_clear(&e);
    rc = jwtrev_conf_set(&c, "key", path, &e);
    if (rc == 0)
        rc = jwtrev_keyring_load(&c, &kr, &e);
    if (rc != 0)
        rc = jwtrev_fail(err, rc, "the set does not load: %s", e.detail);
    jwtrev_keyring_free(kr);
    jwtrev_conf_free(&c);
    return rc;
}

static int
write_all(int fd, const char *p, size_t n)
{
    ssize_t w;

    while (n > 0) {
        if ((w = write(fd, p, n)) < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Write, check, fsync and rename over file; file untouched on failure. */
static int
replace(const char *file, const char *data, size_t len, const struct stat *old,
        jwtrev_error *err)
{
    size_t n = strlen(file);
    char *tmp = malloc(n + 16), *slash;
    int fd = -1, rc = 0;

    if (tmp == NULL)
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    snprintf(tmp, n + 16, "%s.new.XXXXXX", file);
    if ((fd = mkstemp(tmp)) < 0) {
        rc = jwtrev_fail(err, JWTREV_ERR_INTERNAL, "%s: %s", tmp,
                         strerror(errno));
        free(tmp);
        return rc;
    }
    /* the old owner kept when we may (root); else the file becomes ours,
       readable by its mode */
    if (old != NULL && fchown(fd, old->st_uid, old->st_gid) != 0)
        errno = 0;
    if (fchmod(fd, old != NULL ? old->st_mode & 07777 : 0644) != 0 ||
        write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        rc = jwtrev_fail(err, JWTREV_ERR_INTERNAL, "%s: %s", tmp,
                         strerror(errno));
        goto done;
    }
    if ((rc = loads(tmp, err)) != 0)
        goto done;
    if (rename(tmp, file) != 0) {
        rc = jwtrev_fail(err, JWTREV_ERR_INTERNAL, "%s: %s", file,
                         strerror(errno));
        goto done;
    }
    close(fd);
    slash = strrchr(tmp, '/');
    if (slash != NULL)
        *(slash == tmp ? slash + 1 : slash) = '\0';
    fd = open(slash != NULL ? tmp : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0)
        fsync(fd); /* the rename itself made durable */
done:
    if (fd >= 0)
        close(fd);
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

/* The kids in now and not in before, copied; the caller frees *out. */
static int
diff(const struct kids *now, const struct kids *before, char ***out, size_t *n,
     jwtrev_error *err)
{
    size_t i;

    *n = 0;
    if ((*out = calloc(now->n + 1, sizeof(**out))) == NULL)
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    for (i = 0; i < now->n; i++) {
        if (kids_has(before, now->v[i]))
            continue;
        if (((*out)[*n] = strdup(now->v[i])) == NULL)
            return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
        (*n)++;
    }
    return 0;
}

int
jwtrev_fetch_install(const char *file, const char *data, size_t len,
                     jwtrev_fetch_change *out, jwtrev_error *err)
{
    struct kids now = {NULL, 0}, before = {NULL, 0};
    jwtrev_fetch_change ch;
    struct stat st;
    char *old = NULL;
    size_t old_len = 0, old_keys;
    int rc;

    memset(&ch, 0, sizeof(ch));
    if ((rc = jwks_kids(data, len, &now, &ch.keys, err)) != 0 ||
        (rc = read_old(file, &old, &old_len, &st, err)) != 0)
        goto done;
    if (old != NULL && jwks_kids(old, old_len, &before, &old_keys, NULL) != 0)
        before.n = 0; /* not a JWKS before: every kid is new */
    ch.replaced = old == NULL || old_len != len || memcmp(old, data, len);
    if (ch.replaced &&
        (rc = replace(file, data, len, old != NULL ? &st : NULL, err)) != 0)
        goto done;
    if ((rc = diff(&now, &before, &ch.added, &ch.n_added, err)) != 0 ||
        (rc = diff(&before, &now, &ch.removed, &ch.n_removed, err)) != 0) {
        jwtrev_fetch_change_free(&ch);
        goto done;
    }
    *out = ch;
done:
    kids_free(&now);
    kids_free(&before);
    free(old);
    return rc;
}

void
jwtrev_fetch_change_free(jwtrev_fetch_change *c)
{
    size_t i;

    if (c == NULL)
        return;
    for (i = 0; c->added != NULL && i < c->n_added; i++)
        free(c->added[i]);
    for (i = 0; c->removed != NULL && i < c->n_removed; i++)
        free(c->removed[i]);
    free(c->added);
    free(c->removed);
    c->added = c->removed = NULL;
    c->n_added = c->n_removed = 0;
}
