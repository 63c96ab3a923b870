/*
 * account.c - pam_sm_acct_mgmt: when this module authenticated the user
 * in this process, re-check that the token has not expired or been
 * revoked since; otherwise abstain (PAM_IGNORE), as for public-key logins.
 * Also the revocation lookup that auth and account share.
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include "pam_jwtrev.h"

int
pjw_revocation_check(const char *dir, const jwtrev_token *t, int64_t now,
                     jwtrev_error *err)
{
    jwtrev_revdb *db = NULL;
    int rc;

    /* Opened per call: a handle must not outlive the (forking) caller. */
    rc = jwtrev_revdb_open(dir, &db, err);
    if (rc == 0)
        rc = jwtrev_revdb_check(db, t, now, err);
    jwtrev_revdb_close(db);
    return rc;
}

PAM_EXTERN int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    struct pjw_decision d;
    jwtrev_conf conf;
    jwtrev_token view;
    const void *user = NULL;
    int on_db_error = JWTREV_ON_DB_ERROR_DENY, rc, code;

    memset(&d, 0, sizeof(d));
    memset(&view, 0, sizeof(view));
    /* The re-check uses auth's settings; these only must be valid. */
    rc = pjw_conf_build(pamh, argc, argv, &conf, &d.err);
    d.debug = (conf.flags & JWTREV_CONF_DEBUG) != 0;
    if (pam_get_item(pamh, PAM_USER, &user) != PAM_SUCCESS)
        user = NULL;
    d.user = user;
    if (rc == 0) {
        rc = pjw_state_recheck(pamh, user, (int64_t)time(NULL), &view,
                               &on_db_error, &d.err);
        if (rc != PJW_ABSTAIN)
            d.tok = &view;
    }
    d.rc = rc;
    code = pjw_pam_code(rc, on_db_error);
    pjw_log_decision(pamh, &d, code);
    jwtrev_conf_free(&conf);
    return code;
}
