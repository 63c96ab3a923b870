/*
 * claims.c - verified claims to the backend (AuthJWTClaimsEnv,
 * AuthJWTClaimsHeaders) and the scrubbing that makes them trustworthy:
 * incoming headers with the configured prefix, and env vars of the names
 * the module sets, are removed on every path (also where no
 * authentication runs), so a client can never forge them.
 *
 * Scrubbing runs twice: in header_parser (first of all, for the initial
 * request and internal redirects, before any handler or rewrite sees
 * the headers) and in fixups (also for subrequests), right before the
 * claims of a verified token are exported.
 */
#include <stdlib.h>
#include <string.h>

#include "apr_strings.h"
#include "http_core.h"
#include "http_protocol.h"

#include "mod_auth_jwtrev.h"

#define JR_ENV_PREFIX "JWT_CLAIM_"
#define JR_ENV_ALL "JWT_CLAIMS"
#define JR_VALUE_CAP 4096 /* bytes of one exported claim value */
#define JR_JSON_CAP 16384 /* JWT_CLAIMS is left out rather than cut */
#define JR_NAME_MAX 64    /* longer claim names are not exported */

/* Header names compare case-insensitively, with '_' as '-': a backend
 * (CGI, many frameworks) maps both to the same variable. */
static int
fold(char c)
{
    return c == '_' ? '-' : apr_tolower(c);
}

static int
has_prefix(const char *name, const char *prefix)
{
    for (; *prefix != '\0'; name++, prefix++)
        if (*name == '\0' || fold(*name) != fold(*prefix))
            return 0;
    return 1;
}

struct scrub {
    const char *prefix;
    apr_array_header_t *names;
};

static int
collect(void *rec, const char *key, const char *value)
{
    struct scrub *s = rec;

    if (has_prefix(key, s->prefix))
        APR_ARRAY_PUSH(s->names, const char *) = key;
    return 1;
}

static void
unset_matching(apr_pool_t *p, apr_table_t *t, const char *prefix)
{
    struct scrub s = {prefix, NULL};
    int i;

    s.names = apr_array_make(p, 4, sizeof(const char *));
    apr_table_do(collect, &s, t, NULL);
    for (i = 0; i < s.names->nelts; i++)
        apr_table_unset(t, APR_ARRAY_IDX(s.names, i, const char *));
}

/* Remove incoming headers and env vars that claims would be exported as. */
static void
jr_scrub(request_rec *r, const jr_dir_conf *dc)
{
    if (dc->claims_headers != NULL)
        unset_matching(r->pool, r->headers_in, dc->claims_headers);
    if (dc->claims_env) {
        unset_matching(r->pool, r->subprocess_env, JR_ENV_PREFIX);
        apr_table_unset(r->subprocess_env, JR_ENV_ALL);
    }
}

/*
 * A claim name for an env var ([A-Za-z0-9_]) or a header ([A-Za-z0-9-]);
 * anything else becomes the separator.  NULL for empty or long names.
 */
static const char *
safe_name(apr_pool_t *p, const char *name, char sep)
{
    size_t len = strlen(name), i;
    char *out;

    if (len == 0 || len > JR_NAME_MAX)
        return NULL;
    out = apr_pstrmemdup(p, name, len);
    for (i = 0; i < len; i++)
        if (!apr_isalnum(out[i]) && out[i] != sep)
            out[i] = sep;
    return out;
}

/*
 * Set name unless an earlier claim of this token took it: "Role" and
 * "role", or "a.b" and "a_b", map to one name, and the first claim keeps
 * it (the table was scrubbed of that prefix just before).
 */
static void
set_once(request_rec *r, apr_table_t *t, const char *name, const char *text)
{
    if (apr_table_get(t, name) != NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      "claim not exported: %s is taken by another claim", name);
        return;
    }
    apr_table_set(t, name, text);
}

static void
export_claim(request_rec *r, const jr_dir_conf *dc, const char *name,
             const json_t *value)
{
    const char *env = safe_name(r->pool, name, '_');
    const char *hdr = safe_name(r->pool, name, '-');
    jwtrev_error err;
    char *text = NULL;

    jwtrev_error_clear(&err);
    if (env == NULL || hdr == NULL ||
        jwtrev_claim_text(value, JR_VALUE_CAP, &text, &err) != 0) {
        ap_log_rerror(
            APLOG_MARK, APLOG_DEBUG, 0, r, "claim not exported (%s): %s",
            env ? "control characters in its value" : "empty or long name",
            err.detail);
        return;
    }
    if (dc->claims_env)
        set_once(r, r->subprocess_env,
                 apr_pstrcat(r->pool, JR_ENV_PREFIX, env, NULL), text);
    if (dc->claims_headers != NULL)
        set_once(r, r->headers_in,
                 apr_pstrcat(r->pool, dc->claims_headers, hdr, NULL), text);
    free(text);
}

/* All claims as compact ASCII JSON (escapes keep controls out). */
static void
export_json(request_rec *r, const json_t *claims)
{
    char *json = json_dumps(claims, JSON_COMPACT | JSON_ENSURE_ASCII);

    if (json != NULL && strlen(json) <= JR_JSON_CAP)
        apr_table_set(r->subprocess_env, JR_ENV_ALL, json);
    free(json);
}

/* Export the claims of t as the configuration asks. */
static void
jr_export(request_rec *r, const jr_dir_conf *dc, const jwtrev_token *t)
{
    const char *name;
    json_t *value;

    if ((!dc->claims_env && dc->claims_headers == NULL) || t->claims == NULL)
        return;
    json_object_foreach(t->claims, name, value)
    {
        export_claim(r, dc, name, value);
    }
    if (dc->claims_env)
        export_json(r, t->claims);
}

int
jr_header_parser(request_rec *r)
{
    jr_scrub(r, ap_get_module_config(r->per_dir_config, &auth_jwtrev_module));
    return DECLINED;
}

/* Access was granted: export the claims, drop an authz challenge. */
int
jr_fixups(request_rec *r)
{
    const jr_dir_conf *dc =
        ap_get_module_config(r->per_dir_config, &auth_jwtrev_module);
    const jr_req *own =
        ap_get_module_config(r->request_config, &auth_jwtrev_module);
    const jr_req *rq;

    jr_scrub(r, dc);
    if (own != NULL && own->authz_challenge)
        apr_table_unset(r->err_headers_out, PROXYREQ_PROXY == r->proxyreq
                                                ? "Proxy-Authenticate"
                                                : "WWW-Authenticate");
    if ((rq = jr_req_find(r)) != NULL)
        jr_export(r, dc, &rq->v->tok);
    return DECLINED;
}
