/*
 * check.c - the start-up check of what a directive alone cannot judge,
 * for each <Directory> and <Location> section as a request to it would
 * see it (its server's defaults and the sections of its kind that
 * enclose it); a failure stops httpd (and `apache2 -t`) naming the
 * section:
 *
 * - the key files a section inherits, under the allow-list it sets (or
 *   the reverse: keys of its own under an inherited allow-list);
 * - a section with AuthType Bearer (or JWT) and no key at all;
 * - the revocation store such a section uses (AuthJWTRevocationDB, or
 *   the default JWTREV_DEFAULT_DB): missing, not a directory, a path the
 *   store's files do not fit in, writable by others (the reader refuses
 *   it), or one the children's user (User, its group and supplementary
 *   groups) cannot read and search, down every directory on the way.
 *   Judged from the mode bits, never by switching users; a file with a
 *   POSIX ACL is left to the reader.  With AuthJWTOnDBError allow such a
 *   store is a warning: its requests are accepted without revocation.
 *
 * A section is refused only when the failure is certain: when no other
 * section (of the other kind, <Files>, <If>) or .htaccess could supply
 * what is missing for some request.  What only those combine at request
 * time fails the request (500) with the reason in the error log.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "apr_fnmatch.h"
#include "apr_hash.h"
#include "apr_strings.h"
#include "http_core.h"
#include "unixd.h"
#include "util_cfgtree.h"

#include "mod_auth_jwtrev.h"

#define JR_KEY_OPTS ((1u << JR_OPT_KEY) | (1u << JR_OPT_SECRET))
#define JR_DB_OPT (1u << JR_OPT_DB)
#define JR_ON_DB_ERROR_OPT (1u << JR_OPT_ON_DB_ERROR)

/* The user the children run as. */
struct jr_who {
    const char *name;
    uid_t uid;
    gid_t *groups;
    int ngroups;
    int judge; /* 0: root, or unknown: no permission judgement */
};

/* What a server's sections could set beyond a section's own chain. */
struct jr_scan {
    unsigned dir_opts, url_opts, file_opts, if_opts; /* (1u << JR_OPT_*) */
    int url_auth, file_auth, if_auth; /* some such section sets AuthType */
    int htaccess; /* some .htaccess may hold AuthConfig directives */
};

/* The state of one check_config run. */
struct jr_check {
    apr_pool_t *p;
    struct jr_who who;
    /* mod_authn_core's, of this load of the module (ap_auth_type() has
     * it only after post_config: at a restart, that of the last load) */
    APR_OPTIONAL_FN_TYPE(authn_ap_auth_type) * auth_type;
    module *authn_core;
    int auth_expr;    /* some AuthType is an expression: not judged */
    apr_hash_t *dirs; /* store directories already judged */
};

static int
has_keys(const jr_dir_conf *dc)
{
    return dc->opt[JR_OPT_KEY]->nelts > 0 || dc->opt[JR_OPT_SECRET]->nelts > 0;
}

/* Load the keys of dc as a request would; log what fails. */
static int
prove(server_rec *s, apr_pool_t *p, const jr_dir_conf *dc, const char *where)
{
    jwtrev_conf c;
    jwtrev_error err;
    jr_keyset *ks;
    int rc;

    if (!has_keys(dc))
        return OK; /* keys may come from a nested section or .htaccess */
    jwtrev_error_clear(&err);
    rc = jr_conf_build(dc, p, &c, &err);
    if (rc == 0)
        rc = jr_keyset_get((const char *const *)c.keys.v, c.keys.n,
                           (const char *const *)c.secrets.v, c.secrets.n,
                           c.algs, p, &ks, &err);
    jwtrev_conf_free(&c);
    if (rc == 0)
        return OK;
    ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, s,
                 "AuthJWTKeyFile / AuthJWTSecretFile / AuthJWTAlgorithms as "
                 "merged for %s: %s",
                 where, err.detail);
    return !OK;
}

/* ---- the children's user and the store ------------------------------ */

static void
who_init(apr_pool_t *p, struct jr_who *w)
{
    gid_t gid;
    int n = 64;

    memset(w, 0, sizeof(*w));
    if (geteuid() != 0) {
        /* httpd does not switch users: the children run as we do. */
        w->uid = geteuid();
        w->name = apr_psprintf(p, "uid %ld", (long)w->uid);
        n = getgroups(0, NULL);
        w->groups = apr_pcalloc(p, (n > 0 ? n + 1 : 1) * sizeof(gid_t));
        w->ngroups = n > 0 ? getgroups(n, w->groups) : 0;
        if (w->ngroups < 0)
            w->ngroups = 0;
        w->groups[w->ngroups++] = getegid();
        w->judge = 1;
        return;
    }
    w->uid = ap_unixd_config.user_id;
    gid = ap_unixd_config.group_id;
    w->name = ap_unixd_config.user_name;
    if (w->uid == 0 || w->uid == (uid_t)-1 || w->name == NULL)
        return; /* root, or no User: nothing to judge */
    w->groups = apr_pcalloc(p, n * sizeof(gid_t));
    if (getgrouplist(w->name, gid, w->groups, &n) < 0) {
        w->groups = apr_pcalloc(p, n * sizeof(gid_t));
        if (getgrouplist(w->name, gid, w->groups, &n) < 0)
            n = 0;
    }
    if (n == 0) {
        w->groups[0] = gid;
        n = 1;
    }
    w->ngroups = n;
    w->judge = 1;
}

/* 1 when who may do what (S_IROTH | S_IXOTH bits) to path, stat st. */
static int
may(const struct jr_who *w, const char *path, const struct stat *st,
    unsigned what)
{
    unsigned bits;
    int i;

    if (!w->judge || getxattr(path, "system.posix_acl_access", NULL, 0) >= 0)
        return 1; /* an ACL may grant more than the mode says */
    if (st->st_uid == w->uid)
        bits = (st->st_mode >> 6) & 7u;
    else {
        bits = st->st_mode & 7u;
        for (i = 0; i < w->ngroups; i++)
            if (w->groups[i] == st->st_gid) {
                bits = (st->st_mode >> 3) & 7u;
                break;
            }
    }
    return (bits & what) == what;
}

/* Why the children cannot use dir as their store, or NULL. */
static const char *
store_trouble(apr_pool_t *p, const struct jr_who *w, const char *dir)
{
    char real[PATH_MAX], *cut;
    struct stat st;
    size_t n = strlen(dir);

    /* The reader opens DIR/delta.db, the longest of its fixed names. */
    if (n + sizeof("/delta.db") > PATH_MAX)
        return apr_psprintf(p,
                            "the path is %lu bytes long, the store's files "
                            "need it shorter than %lu",
                            (unsigned long)n,
                            (unsigned long)(PATH_MAX - sizeof("/delta.db")));
    if (stat(dir, &st) != 0)
        return errno == ENOENT ? "does not exist (create it with jwtrev init)"
                               : apr_pstrdup(p, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return "is not a directory";
    if (st.st_mode & S_IWOTH)
        return "is writable by others (the store's readers refuse it)";
    if (realpath(dir, real) == NULL)
        return apr_pstrdup(p, strerror(errno));
    /* Each directory on the way needs search permission. */
    for (cut = strchr(real + 1, '/');; cut = strchr(cut + 1, '/')) {
        const char *up = apr_pstrndup(p, real, cut ? (size_t)(cut - real) : 0);
        struct stat ust;

        if (cut == NULL)
            up = "/";
        if (stat(up, &ust) == 0 && !may(w, up, &ust, S_IXOTH))
            return apr_psprintf(p, "the user %s cannot search %s", w->name, up);
        if (cut == NULL)
            break;
    }
    if (!may(w, real, &st, S_IROTH | S_IXOTH))
        return apr_psprintf(p, "the user %s cannot read and search it",
                            w->name);
    return NULL;
}

/* ---- sections ------------------------------------------------------------ */

static const core_dir_config *
core_of(ap_conf_vector_t *v)
{
    return ap_get_core_module_config(v);
}

static unsigned
opts_of(ap_conf_vector_t *v)
{
    const jr_dir_conf *dc = ap_get_module_config(v, &auth_jwtrev_module);

    return dc != NULL ? dc->opt_set : 0;
}

/* The AuthType of a (merged) section, as a request would find it. */
static const char *
auth_type_of(struct jr_check *ck, server_rec *s, ap_conf_vector_t *v)
{
    request_rec r;
    conn_rec c;

    /* Evaluating an expression needs a real request.  A section holds
     * the configuration of the modules whose directives it has only. */
    if (ck->auth_expr || ck->auth_type == NULL || ck->authn_core == NULL ||
        ap_get_module_config(v, ck->authn_core) == NULL)
        return NULL;
    /* What ap_expr_str_exec() reads for a constant: pools and logs. */
    memset(&c, 0, sizeof(c));
    c.pool = ck->p;
    c.base_server = s;
    c.log = &s->log;
    memset(&r, 0, sizeof(r));
    r.pool = ck->p;
    r.connection = &c;
    r.server = s;
    r.log = &s->log;
    r.per_dir_config = v;
    return ck->auth_type(&r);
}

/* 1 when an AuthType anywhere is an expression ("%{...}"). */
static int
has_auth_expr(const ap_directive_t *d)
{
    for (; d != NULL; d = d->next)
        if ((d->directive != NULL && d->args != NULL &&
             strcasecmp(d->directive, "AuthType") == 0 &&
             strchr(d->args, '%') != NULL) ||
            has_auth_expr(d->first_child))
            return 1;
    return 0;
}

/* <If>, <ElseIf>, <Else> sections: merged after every other one. */
static void
scan_ifs(struct jr_check *ck, server_rec *s, struct jr_scan *sc,
         const apr_array_header_t *ifs)
{
    int i;

    for (i = 0; ifs != NULL && i < ifs->nelts; i++) {
        ap_conf_vector_t *v = APR_ARRAY_IDX(ifs, i, ap_conf_vector_t *);

        sc->if_opts |= opts_of(v);
        sc->if_auth |= auth_type_of(ck, s, v) != NULL;
        scan_ifs(ck, s, sc, core_of(v)->sec_if);
    }
}

static void
scan_files(struct jr_check *ck, server_rec *s, struct jr_scan *sc,
           const apr_array_header_t *files)
{
    int i;

    for (i = 0; files != NULL && i < files->nelts; i++) {
        ap_conf_vector_t *v = APR_ARRAY_IDX(files, i, ap_conf_vector_t *);

        sc->file_opts |= opts_of(v);
        sc->file_auth |= auth_type_of(ck, s, v) != NULL;
        scan_ifs(ck, s, sc, core_of(v)->sec_if);
    }
}

static void
scan_server(struct jr_check *ck, server_rec *s, struct jr_scan *sc)
{
    const core_server_config *core =
        ap_get_core_module_config(s->module_config);
    const core_dir_config *dd = ap_get_core_module_config(s->lookup_defaults);
    int i;

    memset(sc, 0, sizeof(*sc));
    scan_files(ck, s, sc, dd->sec_file);
    scan_ifs(ck, s, sc, dd->sec_if);
    for (i = 0; i < core->sec_dir->nelts; i++) {
        ap_conf_vector_t *v =
            APR_ARRAY_IDX(core->sec_dir, i, ap_conf_vector_t *);
        const core_dir_config *cd = ap_get_core_module_config(v);

        sc->dir_opts |= opts_of(v);
        if ((cd->override & OR_AUTHCFG) ||
            (cd->override_list != NULL &&
             !apr_is_empty_table(cd->override_list)))
            sc->htaccess = 1;
        scan_files(ck, s, sc, cd->sec_file);
        scan_ifs(ck, s, sc, cd->sec_if);
    }
    for (i = 0; i < core->sec_url->nelts; i++) {
        ap_conf_vector_t *v =
            APR_ARRAY_IDX(core->sec_url, i, ap_conf_vector_t *);

        sc->url_opts |= opts_of(v);
        sc->url_auth |= auth_type_of(ck, s, v) != NULL;
        scan_ifs(ck, s, sc, core_of(v)->sec_if);
    }
}

/* 1 for a section with a plain path (no regex, no wildcard). */
static int
is_literal(const core_dir_config *cd)
{
    return cd->r == NULL && !cd->d_is_fnmatch;
}

/* 1 when section y applies to a request for the path of section x. */
static int
applies(const core_dir_config *y, const char *path, int dirs)
{
    size_t len;

    if (y->r != NULL)
        return ap_regexec(y->r, path, 0, NULL, 0) == 0;
    if (y->d_is_fnmatch)
        return apr_fnmatch(y->d, path, APR_FNM_PATHNAME) == APR_SUCCESS;
    len = strlen(y->d);
    if (strncmp(y->d, path, len) != 0)
        return 0;
    /* <Location /a> holds /a and /a/b, not /ab; a directory ends in '/' */
    return dirs || len == 0 || y->d[len - 1] == '/' || path[len] == '/' ||
           path[len] == '\0';
}

/*
 * Check one section x (index ix of sections, of kind "Directory" or
 * "Location") merged as a request to its path sees it; chain_opts is
 * what the sections of its kind set, others what the rest of its kind
 * sets (for a pattern, whose requests nobody can list).
 */
static int
check_section(struct jr_check *ck, server_rec *s, const struct jr_scan *sc,
              const apr_array_header_t *sections, int ix, const char *kind)
{
    ap_conf_vector_t *x = APR_ARRAY_IDX(sections, ix, ap_conf_vector_t *);
    const core_dir_config *xc = ap_get_core_module_config(x);
    int dirs = strcmp(kind, "Directory") == 0, literal = is_literal(xc), i;
    unsigned chain_opts = 0, others = 0, outside, known;
    ap_conf_vector_t *m = s->lookup_defaults;
    const char *where, *type, *dir, *why;
    const jr_dir_conf *dc;
    jwtrev_conf c;
    jwtrev_error err;
    int rc = OK, allow;

    for (i = 0; i < sections->nelts; i++) {
        ap_conf_vector_t *y = APR_ARRAY_IDX(sections, i, ap_conf_vector_t *);

        if (i != ix)
            others |= opts_of(y);
        if (i == ix ||
            (literal && applies(ap_get_core_module_config(y), xc->d, dirs))) {
            m = ap_merge_per_dir_configs(ck->p, m, y);
            chain_opts |= opts_of(y);
        }
    }
    type = auth_type_of(ck, s, m);
    if (!jr_is_our_auth_type(type))
        return OK;
    /* Another kind could take the request's AuthType elsewhere. */
    if (sc->if_auth || (dirs && (sc->url_auth || sc->file_auth)))
        return OK;
    /* Options no other section, .htaccess or <If> can change. */
    outside =
        sc->if_opts | sc->file_opts | (dirs ? sc->url_opts : sc->dir_opts);
    if (!literal)
        outside |= others;
    known = ~outside;
    if (!dirs) /* a <Location> merges after <Directory> and .htaccess */
        known |= chain_opts & ~(sc->if_opts | (literal ? 0 : others));
    where = apr_psprintf(ck->p, "<%s %s>", kind, xc->d);
    dc = ap_get_module_config(m, &auth_jwtrev_module);
    if (dc == NULL)
        return OK;
    if (!has_keys(dc) && (known & JR_KEY_OPTS) == JR_KEY_OPTS &&
        !sc->htaccess) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, s,
                     "AuthType %s in %s without a key: set AuthJWTKeyFile or "
                     "AuthJWTSecretFile (in the section or around it)",
                     type, where);
        rc = !OK;
    }
    if ((known & (JR_DB_OPT | JR_ON_DB_ERROR_OPT)) !=
        (JR_DB_OPT | JR_ON_DB_ERROR_OPT))
        return rc;
    jwtrev_error_clear(&err);
    if (jr_conf_build(dc, ck->p, &c, &err) != 0) {
        jwtrev_conf_free(&c);
        return rc; /* a bad value: refused where it was read */
    }
    dir = c.db != NULL ? apr_pstrdup(ck->p, c.db) : NULL;
    allow = c.on_db_error == JWTREV_ON_DB_ERROR_ALLOW;
    jwtrev_conf_free(&c);
    if (dir == NULL || apr_hash_get(ck->dirs, dir, APR_HASH_KEY_STRING))
        return rc; /* Off, or judged (and reported) already */
    apr_hash_set(ck->dirs, dir, APR_HASH_KEY_STRING, "");
    if ((why = store_trouble(ck->p, &ck->who, dir)) == NULL)
        return rc;
    ap_log_error(APLOG_MARK,
                 APLOG_STARTUP | (allow ? APLOG_WARNING : APLOG_EMERG), 0, s,
                 "AuthJWTRevocationDB %s%s as merged for %s: %s%s", dir,
                 (dc->opt_set & JR_DB_OPT) ? "" : " (the default)", where, why,
                 allow ? " (AuthJWTOnDBError allow: tokens are accepted "
                         "without a revocation check)"
                       : "");
    return allow ? rc : !OK;
}

/* Every section of one kind (sec_dir or sec_url) of server s. */
static int
prove_sections(struct jr_check *ck, server_rec *s, const struct jr_scan *sc,
               jr_dir_conf *base, const apr_array_header_t *sections,
               const char *kind)
{
    apr_pool_t *p = ck->p;
    int i, rc = OK;

    for (i = 0; i < sections->nelts; i++) {
        ap_conf_vector_t *v = APR_ARRAY_IDX(sections, i, ap_conf_vector_t *);
        jr_dir_conf *add = ap_get_module_config(v, &auth_jwtrev_module);
        const core_dir_config *core = ap_get_core_module_config(v);

        if (check_section(ck, s, sc, sections, i, kind) != OK)
            rc = !OK;
        if (add == NULL || (add->opt_set == 0 && add->set == 0))
            continue; /* nothing of ours: the server's own check covers it */
        if (prove(s, p, jr_merge_dir_conf(p, base, add),
                  apr_psprintf(p, "<%s %s>", kind, core->d)) != OK)
            rc = !OK;
    }
    return rc;
}

int
jr_check_config(apr_pool_t *ptemp, server_rec *s)
{
    struct jr_check ck;
    struct jr_scan sc;
    int rc = OK;

    ck.p = ptemp;
    who_init(ptemp, &ck.who);
    ck.auth_type = APR_RETRIEVE_OPTIONAL_FN(authn_ap_auth_type);
    ck.authn_core = ap_find_linked_module("mod_authn_core.c");
    ck.auth_expr = has_auth_expr(ap_conftree);
    ck.dirs = apr_hash_make(ptemp);
    for (; s != NULL; s = s->next) {
        jr_dir_conf *base =
            ap_get_module_config(s->lookup_defaults, &auth_jwtrev_module);
        const core_server_config *core =
            ap_get_core_module_config(s->module_config);

        scan_server(&ck, s, &sc);
        /* Each check runs, so that every bad section is reported. */
        if (prove(s, ptemp, base,
                  s->is_virtual ? "the virtual host" : "the server") != OK)
            rc = !OK;
        if (prove_sections(&ck, s, &sc, base, core->sec_dir, "Directory") != OK)
            rc = !OK;
        if (prove_sections(&ck, s, &sc, base, core->sec_url, "Location") != OK)
            rc = !OK;
    }
    return rc;
}
