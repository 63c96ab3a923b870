/*
 * request.c - authentication of one request, as a pipeline of named
 * steps: find the compiled site -> take the token (Authorization: Bearer,
 * the cookie) -> decide (cache or verify, then revocation) -> accept
 * (REMOTE_USER, auth type, the verified claims for the authz providers
 * and the fixups).  jr_status() is the one place where a result becomes
 * an HTTP status.  The AuthBasicProvider "jwt" runs the same decision
 * on the Basic password.
 */
#include <string.h>

#include "apr_strings.h"
#include "http_core.h"
#include "http_protocol.h"
#include "http_request.h"

#include "mod_auth_jwtrev.h"

/* ---- taking the token --------------------------------------------------- */

/* RFC 6750: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" /
 * "/" ) *"=".  A table: the scan runs over every byte of every token. */
static const unsigned char b64token_chars[256] = {
    ['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1, /* GNU C ranges */
    ['-'] = 1,         ['.'] = 1,         ['_'] = 1,
    ['~'] = 1,         ['+'] = 1,         ['/'] = 1,
};

static size_t
b64token_len(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = 0;

    while (b64token_chars[u[n]])
        n++;
    if (n == 0)
        return 0;
    while (u[n] == '=')
        n++;
    return n;
}

/* RFC 9110 tchar: what may continue an auth-scheme name. */
static int
is_tchar(char c)
{
    return apr_isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

/*
 * The Bearer credentials of the Authorization header: 0 with the token,
 * -JR_ERR_NO_TOKEN when there is none (or another scheme), and
 * -JR_ERR_INVALID_REQUEST when "Bearer" is not followed by exactly one
 * b64token (RFC 6750 2.1; httpd has joined repeated headers by ", ").
 */
static int
token_from_header(request_rec *r, const char **tok, size_t *len)
{
    const char *h, *p;
    size_t n;

    h = apr_table_get(r->headers_in, PROXYREQ_PROXY == r->proxyreq
                                         ? "Proxy-Authorization"
                                         : "Authorization");
    if (h == NULL)
        return -JR_ERR_NO_TOKEN;
    while (*h == ' ' || *h == '\t')
        h++;
    if (strncasecmp(h, "Bearer", 6) != 0 || is_tchar(h[6]))
        return -JR_ERR_NO_TOKEN; /* another scheme */
    for (p = h + 6; *p == ' '; p++)
        ;
    n = b64token_len(p);
    if (p == h + 6 || n == 0 || p[n] != '\0')
        return -JR_ERR_INVALID_REQUEST;
    *tok = p;
    *len = n;
    return 0;
}

struct cookie_search {
    const char *name;
    size_t name_len;
    const char *tok; /* first value found */
    size_t len;
    int conflict; /* a second, different value */
};

/* One Cookie header: "a=1; b=2" (httpd may have joined several by ","). */
static int
cookie_scan(void *rec, const char *key, const char *value)
{
    struct cookie_search *cs = rec;
    const char *p = value, *v;
    size_t n;

    while (*p != '\0') {
        while (*p == ' ' || *p == ';' || *p == ',')
            p++;
        n = strcspn(p, ";,");
        if (n > cs->name_len && strncmp(p, cs->name, cs->name_len) == 0 &&
            p[cs->name_len] == '=') {
            v = p + cs->name_len + 1;
            n -= cs->name_len + 1;
            while (n > 0 && v[n - 1] == ' ')
                n--;
            if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
                v++, n -= 2; /* RFC 6265 allows a quoted value */
            if (cs->tok == NULL)
                cs->tok = v, cs->len = n;
            else if (cs->len != n || memcmp(cs->tok, v, n) != 0)
                cs->conflict = 1;
        }
        p += strcspn(p, ";,");
    }
    return 1;
}

static int
token_from_cookie(request_rec *r, const char *name, const char **tok,
                  size_t *len)
{
    struct cookie_search cs = {name, strlen(name), NULL, 0, 0};

    apr_table_do(cookie_scan, &cs, r->headers_in, "Cookie", NULL);
    if (cs.conflict)
        return -JR_ERR_INVALID_REQUEST;
    if (cs.tok == NULL || cs.len == 0)
        return -JR_ERR_NO_TOKEN;
    *tok = cs.tok;
    *len = cs.len;
    return 0;
}

/* The one token of the request; two different ones: invalid_request. */
static int
find_token(request_rec *r, const jr_dir_conf *dc, const char **tok, size_t *len,
           const char **source)
{
    const char *ct = NULL;
    size_t clen = 0;
    int hrc, crc;

    hrc = token_from_header(r, tok, len);
    crc = dc->cookie ? token_from_cookie(r, dc->cookie, &ct, &clen)
                     : -JR_ERR_NO_TOKEN;
    if (hrc == -JR_ERR_INVALID_REQUEST || crc == -JR_ERR_INVALID_REQUEST)
        return -JR_ERR_INVALID_REQUEST;
    if (hrc == 0 && crc == 0 && (clen != *len || memcmp(ct, *tok, clen) != 0))
        return -JR_ERR_INVALID_REQUEST;
    *source = "the Authorization header";
    if (hrc == 0)
        return 0;
    if (crc != 0)
        return crc;
    *tok = ct;
    *len = clen;
    *source = "the cookie";
    return 0;
}

/* ---- deciding ----------------------------------------------------------- */

static apr_status_t
release_verified(void *v)
{
    jr_verified_release(v);
    return APR_SUCCESS;
}

/* The token checked from scratch; the cache remembers it (if on). */
static int
verify_fresh(const jr_site *site, jwtrev_keyring *ring, uint64_t gen,
             const char *tok, size_t len, int64_t now, jr_verified **out,
             jwtrev_error *err)
{
    jr_verified *v = jr_verified_new(tok, len);
    int rc;

    if (v == NULL)
        return -JWTREV_ERR_INTERNAL;
    rc = jwtrev_verify(site->policy, ring, tok, len, now, 0, &v->tok, err);
    if (rc != 0) {
        jr_verified_release(v);
        return rc;
    }
    v->generation = gen;
    if (site->cache != NULL)
        jr_cache_put(site->cache, v);
    *out = v;
    return 0;
}

/* The token from the cache, if there, re-checked against the time now. */
static int
verify_cached(request_rec *r, const jr_site *site, uint64_t gen,
              const char *tok, size_t len, int64_t now, jr_verified **out,
              jwtrev_error *err)
{
    jr_verified *v;
    int rc;

    *out = NULL;
    v = jr_cache_get(site->cache, jr_token_hash(tok, len), tok, len, gen);
    if (v == NULL)
        return 0;
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                  "token found in the cache of verified tokens");
    rc = jwtrev_token_recheck_time(&v->tok, site->leeway, site->max_age, now,
                                   err);
    if (rc != 0) {
        jwtrev_token_logid(&v->tok, err->logid, sizeof(err->logid));
        jr_verified_release(v);
        return rc;
    }
    *out = v;
    return 0;
}

/* Revocation, with AuthJWTOnDBError deciding what a store fault means. */
static int
check_revocation(request_rec *r, const jr_site *site, const jwtrev_token *t,
                 int64_t now, jwtrev_error *err)
{
    int rc;

    if (site->store == NULL)
        return 0;
    rc = jr_store_check(site->store, t, now, err);
    if (rc == -JWTREV_ERR_DB_ERROR &&
        site->on_db_error == JWTREV_ON_DB_ERROR_ALLOW) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "revocation store cannot answer, token accepted "
                      "(AuthJWTOnDBError allow): %s",
                      err->detail);
        jwtrev_error_clear(err);
        return 0;
    }
    return rc;
}

/*
 * The whole decision for a token from any source: cache or verify,
 * revocation, on_db_error; on success *out holds a reference that
 * r->pool releases.
 */
static int
jr_decide(request_rec *r, const jr_site *site, const char *tok, size_t len,
          jr_verified **out, jwtrev_error *err)
{
    int64_t now = (int64_t)apr_time_sec(r->request_time);
    jwtrev_keyring *ring;
    jr_verified *v = NULL;
    uint64_t gen;
    int rc = 0;

    jr_keyset_ring(site->keys, r->server, &ring, &gen);
    if (site->cache != NULL)
        rc = verify_cached(r, site, gen, tok, len, now, &v, err);
    if (rc == 0 && v == NULL)
        rc = verify_fresh(site, ring, gen, tok, len, now, &v, err);
    jwtrev_keyring_free(ring);
    if (rc == -JWTREV_ERR_KEY_NOT_FOUND)
        jr_keys_unknown_kid(r, site); /* a rotation the files lack yet */
    if (rc != 0)
        return rc;
    apr_pool_cleanup_register(r->pool, v, release_verified,
                              apr_pool_cleanup_null);
    if ((rc = check_revocation(r, site, &v->tok, now, err)) != 0) {
        if (err->logid[0] == '\0')
            jwtrev_token_logid(&v->tok, err->logid, sizeof(err->logid));
        return rc;
    }
    *out = v;
    return 0;
}

/* Keep the verified token in r's state, for the authz providers, the
 * fixups (claims to the backend) and the logout handlers. */
static void
jr_accept(request_rec *r, const jr_site *site, jr_verified *v)
{
    jr_req *rq = apr_pcalloc(r->pool, sizeof(*rq));

    rq->v = v;
    rq->site = site;
    ap_set_module_config(r->request_config, &auth_jwtrev_module, rq);
}

const jr_req *
jr_req_find(request_rec *r)
{
    const jr_req *rq =
        ap_get_module_config(r->request_config, &auth_jwtrev_module);
    request_rec *from;

    if (rq != NULL && rq->v != NULL)
        return rq;
    /* httpd skips authentication for an internal redirect or subrequest
     * with the same configuration, copying only the user. */
    from = r->prev != NULL ? r->prev : r->main;
    if (from == NULL || r->user == NULL || (rq = jr_req_find(from)) == NULL ||
        from->user == NULL || strcmp(from->user, r->user) != 0)
        return NULL;
    return rq;
}

jr_req *
jr_req_own(request_rec *r)
{
    jr_req *rq = ap_get_module_config(r->request_config, &auth_jwtrev_module);
    const jr_req *from;

    if (rq != NULL)
        return rq;
    rq = apr_pcalloc(r->pool, sizeof(*rq));
    if ((from = jr_req_find(r)) != NULL) {
        rq->v = from->v;       /* owned by the earlier request's pool, which */
        rq->site = from->site; /* outlives this one */
    }
    ap_set_module_config(r->request_config, &auth_jwtrev_module, rq);
    return rq;
}

/* ---- the entry points --------------------------------------------------- */

/* check_authn for AuthType Bearer (or JWT). */
int
jr_check_authn(request_rec *r)
{
    jr_dir_conf *dc; /* its memo may learn the site */
    const jr_site *site = NULL;
    jr_verified *v = NULL;
    const char *tok = NULL, *source = NULL;
    size_t len = 0;
    jwtrev_error err;
    int rc;

    if (!jr_is_our_auth_type(ap_auth_type(r)))
        return DECLINED;
    dc = ap_get_module_config(r->per_dir_config, &auth_jwtrev_module);
    jwtrev_error_clear(&err);
    rc = jr_site_get(dc, r->pool, &site, &err);
    if (rc == 0)
        rc = find_token(r, dc, &tok, &len, &source);
    if (rc == 0 && (rc = jr_decide(r, site, tok, len, &v, &err)) != 0)
        jwtrev_text_logid(tok, len, &err);
    if (rc == 0) {
        r->user = apr_pstrdup(r->pool, v->tok.user);
        r->ap_auth_type = apr_pstrdup(r->pool, ap_auth_type(r));
        jr_accept(r, site, v);
    }
    jr_log_result(r, rc, &err, source, v);
    return jr_status(r, rc);
}

/* The Basic user must be the token's user: its own reason code. */
static int
user_mismatch(jwtrev_error *err)
{
    return jwtrev_fail(err, JWTREV_ERR_USER_MISMATCH,
                       "the Basic user name is not the token's user claim");
}

/* AuthBasicProvider jwt: the password is the token. */
static authn_status
check_password(request_rec *r, const char *user, const char *password)
{
    jr_dir_conf *dc;
    const jr_site *site = NULL;
    jr_verified *v = NULL;
    jwtrev_error err;
    int rc;

    dc = ap_get_module_config(r->per_dir_config, &auth_jwtrev_module);
    jwtrev_error_clear(&err);
    rc = jr_site_get(dc, r->pool, &site, &err);
    if (rc == 0 &&
        (rc = jr_decide(r, site, password, strlen(password), &v, &err)) != 0)
        jwtrev_text_logid(password, strlen(password), &err);
    if (rc == 0 && strcmp(user, v->tok.user) != 0)
        rc = user_mismatch(&err);
    if (rc == 0)
        jr_accept(r, site, v);
    jr_log_result(r, rc, &err, "the Basic password", v);
    if (rc == 0)
        return AUTH_GRANTED;
    return jwtrev_err_is_token_failure(rc) ? AUTH_DENIED : AUTH_GENERAL_ERROR;
}

const authn_provider jr_authn_provider = {check_password, NULL};
