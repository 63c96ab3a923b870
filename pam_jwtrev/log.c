/*
 * log.c - the one mapping from results to PAM codes, and the one syslog
 * line per decision.  pam_syslog() logs to LOG_AUTHPRIV.  Nothing here
 * ever sees the token: lines carry its length, the reason, and its jti or
 * a hash prefix.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <security/pam_ext.h>

#include "pam_jwtrev.h"

/* Escaped field values are cut at this size; a line stays well under 1K. */
#define FIELD_MAX 160

int
pjw_pam_code(int rc, int on_db_error)
{
    if (rc == 0)
        return PAM_SUCCESS;
    if (rc == PJW_ABSTAIN)
        return PAM_IGNORE;
    if (rc > 0)
        return PAM_SERVICE_ERR;
    if (jwtrev_err_is_token_failure(rc))
        return PAM_AUTH_ERR;
    switch (-rc) {
    case JWTREV_ERR_DB_ERROR:
        return on_db_error == JWTREV_ON_DB_ERROR_IGNORE ? PAM_IGNORE
                                                        : PAM_AUTHINFO_UNAVAIL;
    case JWTREV_ERR_CONFIG_ERROR:
        return PAM_AUTHINFO_UNAVAIL;
    default:
        return PAM_SERVICE_ERR;
    }
}

/*
 * The transport that probably cut a token of len bytes ("sudo (511
 * bytes)", ...), or NULL when len is no known limit.
 */
static const char *
pjw_transport_limit(size_t len)
{
    switch (len) {
    case 511:
        return "sudo (511 bytes)";
    case 1023:
        return "the OpenSSH client (1023 bytes)";
    case 1024:
        return "sshd's password method (1024 bytes)";
    case 4095:
        return "Linux-PAM misc_conv: su, login (4095 bytes)";
    default:
        return NULL;
    }
}

/*
 * Copy src into dst (size n > 0) for a log line: bytes outside printable
 * ASCII, '"' and '\\' become \xNN; cut with "..." when too long.
 */
static void
pjw_log_escape(char *dst, size_t n, const char *src)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;

    for (; src != NULL && *src != '\0'; src++) {
        unsigned char ch = (unsigned char)*src;
        int plain = ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\';
        size_t need = plain ? 1 : 4;

        if (o + need + 4 > n) { /* room for "..." and the NUL */
            memcpy(dst + o, "...", 3);
            o += 3;
            break;
        }
        if (plain) {
            dst[o++] = (char)ch;
            continue;
        }
        dst[o++] = '\\';
        dst[o++] = 'x';
        dst[o++] = hex[ch >> 4];
        dst[o++] = hex[ch & 0xf];
    }
    dst[o] = '\0';
}

/* "jti=..." or "sha256:<16 hex>" of a verified token, else the error's. */
static void
format_logid(const struct pjw_decision *d, char *dst, size_t n)
{
    if (d->err.logid[0] != '\0')
        snprintf(dst, n, "%s", d->err.logid);
    else if (d->tok != NULL)
        jwtrev_token_logid(d->tok, dst, n);
    else
        snprintf(dst, n, "-");
}

static const char *
result_word(int pam_code)
{
    switch (pam_code) {
    case PAM_SUCCESS:
        return "success";
    case PAM_AUTH_ERR:
        return "denied";
    case PAM_IGNORE:
        return "ignored";
    default:
        return "error";
    }
}

static int
priority(int rc, int pam_code)
{
    if (rc < 0 && !jwtrev_err_is_token_failure(rc))
        return LOG_ERR; /* store, config, internal: an admin must act */
    if (pam_code == PAM_SUCCESS)
        return LOG_INFO;
    return rc == PJW_ABSTAIN ? LOG_DEBUG : LOG_NOTICE;
}

/* Debug only: what was verified (claims an issuer signed, never secrets). */
static void
format_debug(const struct pjw_decision *d, char *dst, size_t n)
{
    char kid[FIELD_MAX], iss[FIELD_MAX];
    const jwtrev_token *t = d->tok;

    if (t == NULL) {
        snprintf(dst, n, " len=%zu", d->token_len);
        return;
    }
    pjw_log_escape(kid, sizeof(kid), t->kid ? t->kid : "-");
    pjw_log_escape(iss, sizeof(iss), t->iss ? t->iss : "-");
    snprintf(dst, n, " len=%zu alg=%s kid=\"%s\" iss=\"%s\" exp=%lld",
             d->token_len, jwtrev_alg_name(t->alg), kid, iss,
             t->has_exp ? (long long)t->exp : -1LL);
}

/* " hint=..." when a token that failed to parse has a transport's size. */
static void
format_hint(const struct pjw_decision *d, char *dst, size_t n)
{
    const char *limit = pjw_transport_limit(d->token_len);

    dst[0] = '\0';
    /* A cut inside the signature segment still splits and decodes. */
    if (limit != NULL &&
        (d->rc == -JWTREV_ERR_MALFORMED || d->rc == -JWTREV_ERR_BAD_SIGNATURE))
        snprintf(dst, n,
                 " hint=\"token of %zu bytes: probably truncated by the "
                 "transport, limit of %s\"",
                 d->token_len, limit);
}

void
pjw_log_decision(pam_handle_t *pamh, const struct pjw_decision *d, int pam_code)
{
    const void *service = NULL;
    char svc[FIELD_MAX], user[FIELD_MAX], id[FIELD_MAX];
    char detail[2 * FIELD_MAX + 16] = "", esc[2 * FIELD_MAX];
    char hint[192], dbg[2 * FIELD_MAX + 96] = "";
    const char *reason;

    if (d->rc == PJW_ABSTAIN && !d->debug)
        return; /* e.g. every public-key login's account step */
    if (pam_get_item(pamh, PAM_SERVICE, &service) != PAM_SUCCESS)
        service = NULL;
    pjw_log_escape(svc, sizeof(svc), service);
    pjw_log_escape(user, sizeof(user), d->user);
    format_logid(d, id, sizeof(id));
    /* Token failures stay terse unless debug; admin trouble never does. */
    if (d->err.detail[0] != '\0' &&
        (d->debug || (d->rc < 0 && !jwtrev_err_is_token_failure(d->rc)))) {
        pjw_log_escape(esc, sizeof(esc), d->err.detail);
        snprintf(detail, sizeof(detail), " detail=\"%s\"", esc);
    }
    format_hint(d, hint, sizeof(hint));
    if (d->debug)
        format_debug(d, dbg, sizeof(dbg));
    reason = d->rc == PJW_ABSTAIN ? "none" : jwtrev_reason(d->rc);
    pam_syslog(pamh, priority(d->rc, pam_code),
               "service=\"%s\" user=\"%s\" result=%s reason=%s id=\"%s\"%s%s%s",
               svc, user, result_word(pam_code), reason, id, detail, hint, dbg);
}

void
pjw_log_key_warnings(pam_handle_t *pamh, const jwtrev_keyring *kr)
{
    char esc[2 * FIELD_MAX];
    const char *w;
    size_t i;

    for (i = 0; (w = jwtrev_keyring_warning(kr, i)) != NULL; i++) {
        pjw_log_escape(esc, sizeof(esc), w);
        pam_syslog(pamh, LOG_WARNING, "key file warning: %s", esc);
    }
}
