/*
 * authz.c - the authorization providers "Require jwt-claim NAME VALUE..."
 * and "Require jwt-scope SCOPE...", composable with <RequireAll> and
 * <RequireAny>.  They judge the claims of the token this module verified
 * for the request (the library applies the rules) and never a token of
 * their own.
 *
 * A denial sets the RFC 6750 challenge error="insufficient_scope" (with
 * scope="..." for jwt-scope) so that it is in place whichever way httpd
 * answers: 403 with "AuthzSendForbiddenOnFailure On" (what RFC 6750
 * asks for, and what the examples configure), else httpd's 401.  When
 * another provider grants access after all, the fixups drop it again.
 */
#include <string.h>

#include "apr_strings.h"
#include "http_core.h"

#include "mod_auth_jwtrev.h"

/* A parsed Require line: the words after the provider name. */
struct jr_words {
    const char **v;
    size_t n;
    const char *joined; /* the words joined by spaces */
};

static const char *
parse_words(cmd_parms *cmd, const char *line, const char *provider, size_t min,
            const char *what, const void **parsed)
{
    apr_array_header_t *a = apr_array_make(cmd->pool, 4, sizeof(char *));
    struct jr_words *w = apr_pcalloc(cmd->pool, sizeof(*w));
    const char *word;

    while (*(word = ap_getword_conf(cmd->pool, &line)) != '\0')
        APR_ARRAY_PUSH(a, const char *) = word;
    if ((size_t)a->nelts < min)
        return apr_psprintf(cmd->pool, "Require %s: expected %s", provider,
                            what);
    w->v = (const char **)a->elts;
    w->n = (size_t)a->nelts;
    w->joined = apr_array_pstrcat(cmd->pool, a, ' ');
    *parsed = w;
    return NULL;
}

static const char *
parse_claim_line(cmd_parms *cmd, const char *line, const void **parsed)
{
    return parse_words(cmd, line, "jwt-claim", 2,
                       "a claim name and at least one value", parsed);
}

static const char *
parse_scope_line(cmd_parms *cmd, const char *line, const void **parsed)
{
    return parse_words(cmd, line, "jwt-scope", 1, "at least one scope", parsed);
}

/* The token to judge, or the answer when there is none. */
static const jr_req *
token_for(request_rec *r, authz_status *none)
{
    const jr_req *rq = jr_req_find(r);

    /* No user yet: httpd authenticates first and asks again. */
    *none = r->user == NULL ? AUTHZ_DENIED_NO_USER : AUTHZ_DENIED;
    if (rq == NULL && r->user != NULL)
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      "jwt-claim/jwt-scope: user %s was not authenticated "
                      "by a token: denied",
                      r->user);
    return rq;
}

/* Record the denial and put the insufficient_scope challenge in place. */
static authz_status
deny(request_rec *r, const char *scope)
{
    jr_req *own = jr_req_own(r);

    own->authz_challenge = 1;
    if (scope != NULL) /* a later jwt-claim denial keeps what was asked */
        own->scope = scope;
    apr_table_setn(r->notes, "JWTREV_REASON", "insufficient_scope");
    jr_set_challenge(r,
                     jr_challenge(r, "insufficient_scope", NULL, own->scope));
    return AUTHZ_DENIED;
}

static authz_status
check_claim(request_rec *r, const char *line, const void *parsed)
{
    const struct jr_words *w = parsed;
    authz_status none;
    const jr_req *rq = token_for(r, &none);

    if (rq == NULL)
        return none;
    if (jwtrev_claim_matches(rq->v->tok.claims, w->v[0], w->v + 1, w->n - 1)) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      "jwt-claim %s: granted to %s", w->v[0], r->user);
        return AUTHZ_GRANTED;
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                  "jwt-claim %s: no accepted value for %s: denied", w->v[0],
                  r->user);
    return deny(r, NULL);
}

static authz_status
check_scope(request_rec *r, const char *line, const void *parsed)
{
    const struct jr_words *w = parsed;
    authz_status none;
    const jr_req *rq = token_for(r, &none);

    if (rq == NULL)
        return none;
    if (jwtrev_scopes_present(rq->v->tok.claims, w->v, w->n)) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      "jwt-scope: all %" APR_SIZE_T_FMT
                      " scope(s) granted to %s",
                      w->n, r->user);
        return AUTHZ_GRANTED;
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                  "jwt-scope: a required scope is missing for %s: denied",
                  r->user);
    return deny(r, w->joined);
}

const authz_provider jr_authz_claim = {check_claim, parse_claim_line};
const authz_provider jr_authz_scope = {check_scope, parse_scope_line};
