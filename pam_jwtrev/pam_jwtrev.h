/*
 * pam_jwtrev.h - names shared by the files of the PAM module.  Only the
 * pam_sm_* entry points are exported (Makefile.inc's symbol regex); the
 * pjw_* functions are module-private.
 *
 * Result convention inside the module: 0 (the token is accepted), a
 * negative -JWTREV_ERR_* code, or PJW_ABSTAIN.  pjw_pam_code() is the one
 * place that turns a result into a PAM return code.
 */
#ifndef PAM_JWTREV_H
#define PAM_JWTREV_H

#include <stddef.h>
#include <stdint.h>

#include <security/pam_modules.h>

#include "jwtrev.h"

/* The module has nothing to say (account without our auth): PAM_IGNORE. */
#define PJW_ABSTAIN 1

/* pam_set_data name of what auth leaves for account (state.c). */
#define PJW_DATA_NAME "pam_jwtrev.state"

/* JWT_CLAIM_<name>: claim names are limited to this length and [A-Za-z0-9_]. */
#define PJW_CLAIM_NAME_MAX 64

/*
 * One decision, as logged by pjw_log_decision(): exactly one syslog line
 * per call of an entry point that decides.  All pointers are borrowed.
 */
struct pjw_decision {
    const char *user;        /* PAM_USER as given, or NULL */
    int rc;                  /* 0, -JWTREV_ERR_* or PJW_ABSTAIN */
    jwtrev_error err;        /* detail and logid of rc */
    size_t token_len;        /* length of the presented token, or 0 */
    const jwtrev_token *tok; /* the verified token (debug fields), or NULL */
    int debug;               /* add detail (never secrets) */
};

/* ---- options.c ----------------------------------------------------------- */

/*
 * Build the settings of one call from the module arguments, in order; a
 * config=FILE word reads FILE strictly (root-owned, not group/other
 * writable).  Adds the PAM rules: the user claim is required, on_db_error
 * is deny or ignore, export_claims names are [A-Za-z0-9_]{1,64}, and
 * aud_from_service sets the audience to the PAM service (exclusive with
 * aud=).  On success *c is filled (the caller frees it with
 * jwtrev_conf_free); on error *c is freed and re-initialised.
 */
int pjw_conf_build(pam_handle_t *pamh, int argc, const char **argv,
                   jwtrev_conf *c, jwtrev_error *err);

/* ---- log.c --------------------------------------------------------------- */

/*
 * The one mapping from a result to a PAM code: 0 -> PAM_SUCCESS; a token
 * failure -> PAM_AUTH_ERR; db_error -> PAM_AUTHINFO_UNAVAIL, or
 * PAM_IGNORE when on_db_error is ignore; config_error ->
 * PAM_AUTHINFO_UNAVAIL; PJW_ABSTAIN -> PAM_IGNORE; anything else ->
 * PAM_SERVICE_ERR.
 */
int pjw_pam_code(int rc, int on_db_error);

/* Log d as one pam_syslog line (authpriv); pam_code is what we return. */
void pjw_log_decision(pam_handle_t *pamh, const struct pjw_decision *d,
                      int pam_code);

/* One LOG_WARNING line per key of a JWKS that the load of kr skipped. */
void pjw_log_key_warnings(pam_handle_t *pamh, const jwtrev_keyring *kr);

/* ---- user.c -------------------------------------------------------------- */

/*
 * 0 when the verified token's user claim equals user byte for byte (and
 * holds no NUL); else -JWTREV_ERR_USER_MISMATCH.
 */
int pjw_user_match(const jwtrev_conf *c, const jwtrev_token *t,
                   const char *user, jwtrev_error *err);

/*
 * Put each export_claims claim of t into the PAM environment as
 * JWT_CLAIM_<name>; a listed claim the token lacks is removed from it.
 * A value with control characters refuses the whole login (bad_claims).
 */
int pjw_export_claims(pam_handle_t *pamh, const jwtrev_conf *c,
                      const jwtrev_token *t, jwtrev_error *err);

/* ---- state.c ------------------------------------------------------------- */

/*
 * Remember, for account, what a successful auth verified: the user, the
 * token's identifiers and exp (never the token), the store and leeway.
 */
int pjw_state_save(pam_handle_t *pamh, const jwtrev_conf *c,
                   const jwtrev_token *t, const char *user, jwtrev_error *err);

/* Forget it (every auth starts with this). */
void pjw_state_drop(pam_handle_t *pamh);

/*
 * Account's re-check of the remembered token for user at now: expiry,
 * then revocation.  PJW_ABSTAIN when auth did not succeed in this process.
 * Otherwise *view is a token holding the remembered identifiers (borrowed
 * from the PAM data: valid until the next auth or pam_end) and
 * *on_db_error the setting auth used (for the mapping).
 */
int pjw_state_recheck(pam_handle_t *pamh, const char *user, int64_t now,
                      jwtrev_token *view, int *on_db_error, jwtrev_error *err);

/* ---- revocation (auth.c and state.c) --------------------------------------
 */

/* Open the store at dir and check t against it; 0 or -JWTREV_ERR_*. */
int pjw_revocation_check(const char *dir, const jwtrev_token *t, int64_t now,
                         jwtrev_error *err);

#endif /* PAM_JWTREV_H */
