/*
 * conf.c - jwtrevd.conf: the name=value file of PAM and --config
 * (jwtrev_conf_read_file), with the daemon's own options (jwtrevd(8)).
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "jwtrevd.h"

void
jd_conf_init(jd_conf *c)
{
    memset(c, 0, sizeof(*c));
    c->purge_interval = JD_DEFAULT_PURGE_INTERVAL;
    c->fold_at = JD_DEFAULT_FOLD_AT;
    c->fold_retry = JD_DEFAULT_FOLD_RETRY;
    c->jwks_refresh = JD_DEFAULT_JWKS_REFRESH;
}

static void
principals_free(jd_principals *p)
{
    free(p->uids);
    free(p->gids);
    memset(p, 0, sizeof(*p));
}

void
jd_conf_free(jd_conf *c)
{
    free(c->db);
    free(c->socket);
    free(c->fleet);
    free(c->host_id);
    free(c->state_dir);
    free(c->jwks_ca);
    for (size_t i = 0; i < c->n_keys; i++) {
        free(c->keys[i].url);
        free(c->keys[i].file);
    }
    free(c->keys);
    principals_free(&c->writers);
    principals_free(&c->admins);
    memset(c, 0, sizeof(*c));
}

/* "www-data, @adm alice": users and @groups, resolved now. */
static int
set_principals(jd_principals *p, const char *name, const char *value,
               jwtrev_error *err)
{
    char *copy = strdup(value), *save = NULL, *w;
    struct passwd *pw;
    struct group *gr;
    void *nv;
    int rc = copy == NULL
                 ? jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory")
                 : 0;

    principals_free(p);
    for (w = copy ? strtok_r(copy, ", \t", &save) : NULL; w != NULL && rc == 0;
         w = strtok_r(NULL, ", \t", &save)) {
        if (w[0] == '@') {
            gr = getgrnam(w + 1);
            nv = gr ? realloc(p->gids, (p->n_gids + 1) * sizeof(gid_t)) : NULL;
            if (gr == NULL)
                rc = jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                                 "%s: no group %s", name, w + 1);
            else if (nv == NULL)
                rc = jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
            else
                p->gids = nv, p->gids[p->n_gids++] = gr->gr_gid;
        } else {
            pw = getpwnam(w);
            nv = pw ? realloc(p->uids, (p->n_uids + 1) * sizeof(uid_t)) : NULL;
            if (pw == NULL)
                rc = jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR, "%s: no user %s",
                                 name, w);
            else if (nv == NULL)
                rc = jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
            else
                p->uids = nv, p->uids[p->n_uids++] = pw->pw_uid;
        }
    }
    free(copy);
    return rc;
}

static int
set_string(char **dst, const char *name, const char *value, int absolute,
           jwtrev_error *err)
{
    if (value == NULL || *value == '\0')
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR, "%s needs a value",
                           name);
    if (absolute && value[0] != '/')
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "%s=%s: an absolute path is needed", name, value);
    free(*dst);
    *dst = strdup(value);
    return *dst ? 0 : jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
}

static int
set_number(long *dst, const char *name, const char *value, long min,
           jwtrev_error *err)
{
    char *end;
    long n;

    errno = 0;
    n = value != NULL ? strtol(value, &end, 10) : -1;
    if (value == NULL || errno != 0 || *end != '\0' || end == value || n < min)
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "%s wants a whole number >= %ld", name, min);
    *dst = n;
    return 0;
}

/* jwks=URL FILE, issuer=URL FILE: FILE absolute, once per file. */
static int
add_keysrc(jd_conf *c, const char *name, const char *value, jwtrev_error *err)
{
    const char *sp = value != NULL ? strpbrk(value, " \t") : NULL;
    const char *file = sp;
    jd_keysrc *nk, *k;
    size_t i;

    while (file != NULL && (*file == ' ' || *file == '\t'))
        file++;
    if (sp == NULL || *file != '/' || strpbrk(file, " \t") != NULL)
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "%s= wants a URL and the absolute path of the "
                           "file to write",
                           name);
    for (i = 0; i < c->n_keys; i++) {
        if (strcmp(c->keys[i].file, file) == 0)
            return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                               "%s=: %s is written by an earlier jwks= or "
                               "issuer= already",
                               name, file);
    }
    nk = realloc(c->keys, (c->n_keys + 1) * sizeof(*nk));
    if (nk == NULL)
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    c->keys = nk;
    k = &c->keys[c->n_keys];
    memset(k, 0, sizeof(*k));
    k->url = strndup(value, (size_t)(sp - value));
    k->file = strdup(file);
    k->issuer = name[0] == 'i';
    if (k->url == NULL || k->file == NULL) {
        free(k->url);
        free(k->file);
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    }
    c->n_keys++;
    return 0;
}

static int
option(void *arg, const char *name, const char *value, jwtrev_error *err)
{
    jd_conf *c = arg;

    if (strcmp(name, "db") == 0)
        return set_string(&c->db, name, value, 1, err);
    if (strcmp(name, "socket") == 0)
        return set_string(&c->socket, name, value, 1, err);
    if (strcmp(name, "fleet") == 0)
        return set_string(&c->fleet, name, value, 0, err);
    if (strcmp(name, "host_id") == 0)
        return set_string(&c->host_id, name, value, 0, err);
    if (strcmp(name, "state_dir") == 0)
        return set_string(&c->state_dir, name, value, 1, err);
    if (strcmp(name, "writers") == 0 || strcmp(name, "admins") == 0) {
        if (value == NULL)
            return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR, "%s needs a value",
                               name);
        return set_principals(name[0] == 'w' ? &c->writers : &c->admins, name,
                              value, err);
    }
    if (strcmp(name, "jwks") == 0 || strcmp(name, "issuer") == 0)
        return add_keysrc(c, name, value, err);
    if (strcmp(name, "jwks_ca") == 0)
        return set_string(&c->jwks_ca, name, value, 1, err);
    if (strcmp(name, "jwks_refresh") == 0)
        return set_number(&c->jwks_refresh, name, value, 1, err);
    if (strcmp(name, "purge_interval") == 0)
        return set_number(&c->purge_interval, name, value, 0, err);
    if (strcmp(name, "fold_at") == 0)
        return set_number(&c->fold_at, name, value, 1, err);
    if (strcmp(name, "fold_retry") == 0)
        return set_number(&c->fold_retry, name, value, 1, err);
    return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR, "unknown option %s", name);
}

int
jd_conf_load(jd_conf *c, const char *path, jwtrev_error *err)
{
    char host[256];
    int rc =
        jwtrev_conf_read_file(path, JWTREV_CONF_FILE_STRICT, option, c, err);

    if (rc == 0 && c->db == NULL)
        rc = set_string(&c->db, "db", JWTREV_DEFAULT_DB, 1, err);
    if (rc == 0 && c->socket == NULL)
        rc = set_string(&c->socket, "socket", JWTREV_DAEMON_SOCKET, 1, err);
    if (rc == 0 && c->state_dir == NULL)
        rc = set_string(&c->state_dir, "state_dir", "/var/lib/jwtrevd", 1, err);
    if (rc == 0 && c->host_id == NULL) {
        if (gethostname(host, sizeof(host)) != 0)
            host[0] = '\0';
        host[sizeof(host) - 1] = '\0';
        rc = set_string(&c->host_id, "host_id", host[0] ? host : "localhost", 0,
                        err);
    }
    return rc;
}

/* ---- peers --------------------------------------------------------------- */

const char *
jd_role_name(jd_role r)
{
    return r == JD_ADMIN ? "admin" : r == JD_WRITER ? "writer" : "nobody";
}

static int
listed(const jd_principals *p, uid_t uid, const gid_t *gids, size_t n)
{
    size_t i, j;

    for (i = 0; i < p->n_uids; i++) {
        if (p->uids[i] == uid)
            return 1;
    }
    for (i = 0; i < p->n_gids; i++) {
        for (j = 0; j < n; j++) {
            if (p->gids[i] == gids[j])
                return 1;
        }
    }
    return 0;
}

int
jd_peer_of(int fd, const jd_conf *c, jd_peer *out)
{
    gid_t gids[256];
    struct ucred uc;
    socklen_t len = sizeof(uc);
    size_t n = 0;

    memset(out, 0, sizeof(*out));
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) != 0)
        return -1;
    out->pid = uc.pid;
    out->uid = uc.uid;
    out->gid = uc.gid;
    gids[n++] = uc.gid;
    /* The peer's supplementary groups as the kernel knows them (not the
     * group file's: a process that dropped a group is not in it). */
    len = (socklen_t)(sizeof(gids) - sizeof(gid_t));
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, gids + 1, &len) == 0)
        n += len / sizeof(gid_t);
    out->n_groups = n < 64 ? n : 64;
    memcpy(out->groups, gids, out->n_groups * sizeof(gid_t));
    if (uc.uid == 0 || listed(&c->admins, uc.uid, gids, n))
        out->role = JD_ADMIN;
    else if (listed(&c->writers, uc.uid, gids, n))
        out->role = JD_WRITER;
    else
        out->role = JD_NOBODY;
    return 0;
}
