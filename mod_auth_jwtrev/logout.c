/*
 * logout.c - the handlers "jwtrev-logout" (revoke the token of the
 * request) and "jwtrev-logout-all" (revoke every token of its subject
 * issued up to now).  POST only (else 405, Allow: POST).  The token is
 * the one this module verified for the request, so the location needs
 * "AuthType Bearer" and a Require: a token that fails gets its 401 there
 * and nothing is revoked.  Success is 204.
 *
 * When a jwtrevd owns the store (or AuthJWTDaemonSocket names one), the
 * child hands the token to the daemon, which writes the entry: the
 * store stays writable by root only.  Else the child writes to the store
 * as the httpd user (exclusive lock, new file, rename), so the store must
 * be made with "jwtrev init --group <httpd group> --logout-writable".
 */
#include <string.h>

#include "apr_strings.h"
#include "http_protocol.h"
#include "http_request.h"

#include "jwtrev_daemon.h"
#include "mod_auth_jwtrev.h"

#define JR_LOGOUT "jwtrev-logout"
#define JR_LOGOUT_ALL "jwtrev-logout-all"

/*
 * Revoke (iss, sub) for tokens issued before now + 1: the token making
 * the request, and any issued in the same second, are included.  The
 * entry lasts as long as such a token can live when a maximum age is
 * configured, else until removed ("jwtrev purge" keeps it).
 */
static int
revoke_subject(const jr_site *site, const char *sock, const jr_verified *v,
               int64_t now, jwtrev_error *err)
{
    const jwtrev_token *t = &v->tok;
    int64_t until = 0;

    if (t->sub == NULL) {
        return jwtrev_fail(err, JWTREV_ERR_MISSING_CLAIM,
                           "the token has no sub to log out");
    }
    if (site->max_age >= 0 &&
        (__builtin_add_overflow(now, site->max_age, &until) ||
         __builtin_add_overflow(until, site->leeway + 1, &until)))
        until = 0;
    return jwtrev_writes_revoke_subject(site->store_dir, sock, v->text, v->len,
                                        t, now + 1, until, now, "logout-all",
                                        err);
}

/* Revoke; the token was verified, so a failure here is a server fault. */
static int
logout(request_rec *r, int all)
{
    const jr_req *rq = jr_req_find(r);
    const jr_dir_conf *dc =
        ap_get_module_config(r->per_dir_config, &auth_jwtrev_module);
    int64_t now = (int64_t)apr_time_sec(r->request_time);
    const char *sock;
    jwtrev_error err;
    char id[JWTREV_LOGID_MAX];
    int rc;

    if (rq == NULL || rq->site->store_dir == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "%s needs AuthType Bearer, a Require and "
                      "AuthJWTRevocationDB in its location",
                      all ? JR_LOGOUT_ALL : JR_LOGOUT);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    jwtrev_error_clear(&err);
    jwtrev_token_logid(&rq->v->tok, id, sizeof(id));
    sock = dc != NULL ? dc->daemon_socket : NULL;
    rc = all ? revoke_subject(rq->site, sock, rq->v, now, &err)
             : jwtrev_writes_revoke_token(
                   rq->site->store_dir, sock, rq->v->text, rq->v->len,
                   &rq->v->tok, rq->site->leeway, now, "logout", &err);
    if (rc != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "%s for user %s (%s) failed: %s: %s",
                      all ? JR_LOGOUT_ALL : JR_LOGOUT, r->user, id,
                      jwtrev_reason(rc), err.detail);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "%s: user %s (%s) logged out%s",
                  all ? JR_LOGOUT_ALL : JR_LOGOUT, r->user, id,
                  all ? " everywhere" : "");
    r->status = HTTP_NO_CONTENT;
    return OK;
}

int
jr_logout_handler(request_rec *r)
{
    int all;

    if (r->handler == NULL)
        return DECLINED;
    if (strcmp(r->handler, JR_LOGOUT) == 0)
        all = 0;
    else if (strcmp(r->handler, JR_LOGOUT_ALL) == 0)
        all = 1;
    else
        return DECLINED;
    ap_allow_methods(r, 1, "POST", NULL);
    if (r->method_number != M_POST)
        return HTTP_METHOD_NOT_ALLOWED;
    if (ap_discard_request_body(r) != OK)
        return HTTP_BAD_REQUEST;
    return logout(r, all);
}
