/*
 * decide.c - the whole decision of docs/design.md 1: the token is
 * verified first, and only a token whose signature and claims passed is
 * looked up in the revocation store (SECURITY 30): no store work for
 * garbage, and no revocation oracle for forged tokens.
 */
#include "config.h"

#include <string.h>

#include "jwtrev_store.h"

int
jwtrev_decide(const jwtrev_policy *p, const jwtrev_keyring *kr,
              jwtrev_revdb *db, const char *token, size_t len, int64_t now,
              jwtrev_token *out, jwtrev_error *err)
{
    char logid[JWTREV_LOGID_MAX] = "";
    jwtrev_token t;
    int rc;

    if ((rc = jwtrev_verify(p, kr, token, len, now, 0, &t, err)) != 0)
        return rc;
    if (db != NULL) {
        if (err != NULL)
            memcpy(logid, err->logid, sizeof(logid));
        rc = jwtrev_revdb_check(db, &t, now, err);
        /* Fail closed: anything but an explicit 0 is a refusal. */
        if (rc > 0)
            rc = jwtrev_fail(err, JWTREV_ERR_DB_ERROR,
                             "the revocation store gave no answer");
        if (err != NULL)
            memcpy(err->logid, logid, sizeof(logid));
        if (rc != 0) {
            jwtrev_token_clear(&t);
            return rc;
        }
    }
    *out = t;
    return 0;
}
