/*
 * respond.c - what a decision becomes: the HTTP status (jr_status, the
 * one switch), the RFC 6750 WWW-Authenticate challenge, the error log
 * line and the JWTREV_REASON note.
 *
 * Status policy (RFC 6750 section 3.1 and httpd practice):
 *   no token                    401, "Bearer realm=..." without an error
 *   malformed or two tokens     400, error="invalid_request"
 *   a token refused             401, error="invalid_token" and a short
 *                                    error_description
 *   store, key or config fault  500, nothing about it to the client: the
 *                                    token may be fine, the server cannot
 *                                    decide (fail closed; see the log)
 * Clients learn only what helps a legitimate one (expired, revoked, not
 * yet valid, ...); the precise reason code goes to the log.
 */
#include <string.h>

#include "apr_strings.h"
#include "http_core.h"
#include "http_protocol.h"

#include "mod_auth_jwtrev.h"

/* The note for ErrorDocument and log formats (%{JWTREV_REASON}n). */
#define JR_REASON_NOTE "JWTREV_REASON"

static const char *
reason_of(int rc)
{
    switch (rc) {
    case -JR_ERR_NO_TOKEN:
        return "no_token";
    case -JR_ERR_INVALID_REQUEST:
        return "invalid_request";
    default:
        return jwtrev_reason(rc);
    }
}

/* error_description: what a legitimate client can act on, nothing more. */
static const char *
client_description(int rc)
{
    switch (rc) {
    case -JWTREV_ERR_EXPIRED:
        return "the token expired";
    case -JWTREV_ERR_NOT_YET_VALID:
    case -JWTREV_ERR_ISSUED_IN_FUTURE:
        return "the token is not valid yet";
    case -JWTREV_ERR_TOO_OLD:
        return "the token is too old";
    case -JWTREV_ERR_REVOKED:
    case -JWTREV_ERR_SUBJECT_REVOKED:
    case -JWTREV_ERR_KEY_REVOKED:
        return "the token was revoked";
    case -JWTREV_ERR_BAD_ISSUER:
    case -JWTREV_ERR_BAD_AUDIENCE:
        return "the token is not meant for this resource";
    case -JWTREV_ERR_TOO_LARGE:
        return "the token is too large";
    default:
        return "the token is invalid";
    }
}

/* s as the inside of a quoted-string: '"' and '\' escaped, controls out. */
static const char *
quoted(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, 2 * strlen(s) + 1), *o = out;

    for (; *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            continue;
        if (*s == '"' || *s == '\\')
            *o++ = '\\';
        *o++ = *s;
    }
    *o = '\0';
    return out;
}

const char *
jr_challenge(request_rec *r, const char *error, const char *description,
             const char *scope)
{
    const char *realm = ap_auth_name(r);
    const char *v = "Bearer", *sep = " ";

    if (realm != NULL) {
        v = apr_pstrcat(r->pool, v, " realm=\"", quoted(r->pool, realm), "\"",
                        NULL);
        sep = ", ";
    }
    if (error != NULL) {
        v = apr_pstrcat(r->pool, v, sep, "error=\"", error, "\"", NULL);
        sep = ", ";
    }
    if (description != NULL)
        v = apr_pstrcat(r->pool, v, sep, "error_description=\"",
                        quoted(r->pool, description), "\"", NULL);
    if (scope != NULL)
        v = apr_pstrcat(r->pool, v, sep, "scope=\"", quoted(r->pool, scope),
                        "\"", NULL);
    return v;
}

void
jr_set_challenge(request_rec *r, const char *value)
{
    apr_table_setn(r->err_headers_out,
                   PROXYREQ_PROXY == r->proxyreq ? "Proxy-Authenticate"
                                                 : "WWW-Authenticate",
                   value);
}

int
jr_status(request_rec *r, int rc)
{
    switch (rc) {
    case 0:
        return OK;
    case -JR_ERR_NO_TOKEN:
        jr_set_challenge(r, jr_challenge(r, NULL, NULL, NULL));
        return HTTP_UNAUTHORIZED;
    case -JR_ERR_INVALID_REQUEST:
        jr_set_challenge(r, jr_challenge(r, "invalid_request",
                                         "malformed or repeated credentials",
                                         NULL));
        return HTTP_BAD_REQUEST;
    default:
        if (!jwtrev_err_is_token_failure(rc))
            return HTTP_INTERNAL_SERVER_ERROR; /* db, config, internal */
        jr_set_challenge(
            r, jr_challenge(r, "invalid_token", client_description(rc), NULL));
        return HTTP_UNAUTHORIZED;
    }
}

void
jr_log_result(request_rec *r, int rc, const jwtrev_error *err,
              const char *source, const jr_verified *v)
{
    const char *reason = reason_of(rc), *id = err->logid;
    char buf[JWTREV_LOGID_MAX];

    if (rc != 0)
        apr_table_setn(r->notes, JR_REASON_NOTE, reason);
    /* The store answered (or was not needed): trouble later is news. */
    if (rc == 0 || rc == -JWTREV_ERR_REVOKED ||
        rc == -JWTREV_ERR_SUBJECT_REVOKED || rc == -JWTREV_ERR_KEY_REVOKED)
        jr_process_trouble_over();
    if (rc == 0) {
        if (!APLOGrdebug(r))
            return;
        jwtrev_token_logid(&v->tok, buf, sizeof(buf));
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      "token from %s accepted for user %s (%s)", source,
                      v->tok.user, buf);
    } else if (rc == -JR_ERR_NO_TOKEN) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      "no token in the request: challenge");
    } else if (rc == -JR_ERR_INVALID_REQUEST) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "invalid_request: no single well-formed token");
    } else if (jwtrev_err_is_token_failure(rc)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "token from %s rejected: %s (%s): %s",
                      source ? source : "the request", reason,
                      *id ? id : "no id", err->detail);
    } else if (jr_process_trouble_is_new(err->detail)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "cannot decide on the token: %s: %s (said once a "
                      "minute while it lasts)",
                      reason, err->detail);
    } else {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      "cannot decide on the token: %s: %s", reason,
                      err->detail);
    }
}

/* httpd asks for a challenge after a failed Require (default 401 path). */
int
jr_note_auth_failure(request_rec *r, const char *auth_type)
{
    const jr_req *rq;

    if (!jr_is_our_auth_type(auth_type))
        return DECLINED;
    rq = jr_req_find(r);
    if (rq == NULL)
        jr_set_challenge(r, jr_challenge(r, NULL, NULL, NULL));
    else
        jr_set_challenge(
            r, jr_challenge(r, "insufficient_scope", NULL, rq->scope));
    return OK;
}
