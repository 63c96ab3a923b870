/*
 * check.c - the start-up check of what a directive alone cannot judge:
 * the key files a section inherits, under the allow-list it sets (or the
 * reverse: keys of its own under an inherited allow-list).  Each
 * <Directory> and <Location> section is merged with its server's
 * defaults, as a request to it would see it, and its keys are loaded;
 * a failure stops httpd (and `apache2 -t`) naming the section.
 *
 * Sections nested in other sections and .htaccess files only combine at
 * request time; a combination that fails there fails the request (500)
 * with the reason in the error log.
 */
#include "apr_strings.h"
#include "http_core.h"

#include "mod_auth_jwtrev.h"

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

/* Every section of one kind (sec_dir or sec_url) of server s. */
static int
prove_sections(server_rec *s, apr_pool_t *p, jr_dir_conf *base,
               const apr_array_header_t *sections, const char *kind)
{
    int i, rc = OK;

    for (i = 0; i < sections->nelts; i++) {
        ap_conf_vector_t *v = APR_ARRAY_IDX(sections, i, ap_conf_vector_t *);
        jr_dir_conf *add = ap_get_module_config(v, &auth_jwtrev_module);
        const core_dir_config *core = ap_get_core_module_config(v);

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
    int rc = OK;

    for (; s != NULL; s = s->next) {
        jr_dir_conf *base =
            ap_get_module_config(s->lookup_defaults, &auth_jwtrev_module);
        const core_server_config *core =
            ap_get_core_module_config(s->module_config);

        /* Each check runs, so that every bad section is reported. */
        if (prove(s, ptemp, base,
                  s->is_virtual ? "the virtual host" : "the server") != OK)
            rc = !OK;
        if (prove_sections(s, ptemp, base, core->sec_dir, "Directory") != OK)
            rc = !OK;
        if (prove_sections(s, ptemp, base, core->sec_url, "Location") != OK)
            rc = !OK;
    }
    return rc;
}
