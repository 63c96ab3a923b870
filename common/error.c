/*
 * error.c - reason codes: the stable strings of docs/design.md 3 and a
 * human sentence for each.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "jwtrev.h"

struct reason {
    const char *code;
    const char *text;
};

/* Indexed by enum jwtrev_errcode; the strings are a released interface. */
/* clang-format off */
static const struct reason reasons[JWTREV_ERR_COUNT] = {
    [JWTREV_OK] = {"ok", "success"},
    [JWTREV_ERR_MALFORMED] = {"malformed", "the token is not a well-formed compact JWS"},
    [JWTREV_ERR_TOO_LARGE] = {"too_large", "the token is longer than the configured maximum"},
    [JWTREV_ERR_BAD_HEADER] = {"bad_header", "the token header is invalid"},
    [JWTREV_ERR_UNSUPPORTED_ALG] = {"unsupported_alg", "the token algorithm is not supported"},
    [JWTREV_ERR_ALG_NOT_ALLOWED] = {"alg_not_allowed", "the token algorithm is not allowed"},
    [JWTREV_ERR_CRIT_UNSUPPORTED] = {"crit_unsupported", "the token requires an unsupported extension"},
    [JWTREV_ERR_TYP_NOT_ALLOWED] = {"typ_not_allowed", "the token type is not allowed"},
    [JWTREV_ERR_KEY_NOT_FOUND] = {"key_not_found", "no configured key matches the token"},
    [JWTREV_ERR_BAD_SIGNATURE] = {"bad_signature", "the token signature is invalid"},
    [JWTREV_ERR_BAD_CLAIMS] = {"bad_claims", "the token claims are invalid"},
    [JWTREV_ERR_MISSING_CLAIM] = {"missing_claim", "a required claim is missing"},
    [JWTREV_ERR_EXPIRED] = {"expired", "the token has expired"},
    [JWTREV_ERR_NOT_YET_VALID] = {"not_yet_valid", "the token is not valid yet"},
    [JWTREV_ERR_ISSUED_IN_FUTURE] = {"issued_in_future", "the token was issued in the future"},
    [JWTREV_ERR_TOO_OLD] = {"too_old", "the token is older than the maximum age"},
    [JWTREV_ERR_BAD_ISSUER] = {"bad_issuer", "the token issuer is not accepted"},
    [JWTREV_ERR_BAD_AUDIENCE] = {"bad_audience", "the token audience is not accepted"},
    [JWTREV_ERR_REVOKED] = {"revoked", "the token has been revoked"},
    [JWTREV_ERR_SUBJECT_REVOKED] = {"subject_revoked", "all tokens of this subject have been revoked"},
    [JWTREV_ERR_KEY_REVOKED] = {"key_revoked", "the signing key has been revoked"},
    [JWTREV_ERR_USER_MISMATCH] = {"user_mismatch", "the token is for another user"},
    [JWTREV_ERR_DB_ERROR] = {"db_error", "the revocation store cannot be read"},
    [JWTREV_ERR_CONFIG_ERROR] = {"config_error", "configuration error"},
    [JWTREV_ERR_INTERNAL] = {"internal_error", "internal error"},
};
/* clang-format on */

static const struct reason *
lookup(int err)
{
    if (err < 0)
        err = -err;
    if (err >= JWTREV_ERR_COUNT)
        err = JWTREV_ERR_INTERNAL;
    return &reasons[err];
}

const char *
jwtrev_reason(int err)
{
    return lookup(err)->code;
}

const char *
jwtrev_strerror(int err)
{
    return lookup(err)->text;
}

int
jwtrev_err_is_token_failure(int err)
{
    if (err < 0)
        err = -err;
    return err > JWTREV_OK && err <= JWTREV_ERR_USER_MISMATCH;
}

void
jwtrev_error_clear(jwtrev_error *e)
{
    if (e == NULL)
        return;
    e->code = 0;
    e->detail[0] = '\0';
    e->logid[0] = '\0';
}

int
jwtrev_fail(jwtrev_error *e, int code, const char *fmt, ...)
{
    va_list ap;

    if (code < 0)
        code = -code;
    if (e != NULL) {
        e->code = code;
        va_start(ap, fmt);
        vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
        va_end(ap);
    }
    return -code;
}
