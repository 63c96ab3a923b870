/*
 * user.c - the user a token may log in, and the claims it hands to the
 * session.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <security/pam_ext.h>

#include "pam_jwtrev.h"

#define ENV_PREFIX "JWT_CLAIM_"

int
pjw_user_name_check(const char *name, jwtrev_error *err)
{
    const unsigned char *p;

    if (name == NULL || *name == '\0')
        return pjw_fail(err, JWTREV_ERR_USER_MISMATCH, "no user name");
    /* A leading '-' reads as an option to the tools that get the name. */
    if (*name == '-')
        return pjw_fail(err, JWTREV_ERR_USER_MISMATCH,
                        "user name refused: leading '-'");
    for (p = (const unsigned char *)name; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return pjw_fail(err, JWTREV_ERR_USER_MISMATCH,
                            "user name refused: control character");
        if (*p == '/')
            return pjw_fail(err, JWTREV_ERR_USER_MISMATCH,
                            "user name refused: '/'");
    }
    return 0;
}

int
pjw_user_match(const jwtrev_conf *c, const jwtrev_token *t, const char *user,
               jwtrev_error *err)
{
    const json_t *v = NULL;

    if (t->claims != NULL)
        v = json_object_get(t->claims, c->user_claim);
    /*
     * The claim's JSON length as well as its C string: a claim with an
     * escaped NUL must not match the prefix before the NUL.
     */
    if (v == NULL || !json_is_string(v) || t->user == NULL ||
        json_string_length(v) != strlen(user) || strcmp(t->user, user) != 0)
        return pjw_fail(err, JWTREV_ERR_USER_MISMATCH,
                        "the token's %s claim is not the PAM user",
                        c->user_claim);
    return 0;
}

/* Set JWT_CLAIM_<name>=text, or remove the variable when text is NULL. */
static int
put_env(pam_handle_t *pamh, const char *name, const char *text,
        jwtrev_error *err)
{
    char *entry = NULL;
    int n, rc;

    if (text != NULL)
        n = asprintf(&entry, ENV_PREFIX "%s=%s", name, text);
    else
        n = asprintf(&entry, ENV_PREFIX "%s", name);
    if (n < 0)
        return pjw_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    rc = pam_putenv(pamh, entry);
    free(entry);
    /* Removing a variable that was never set is not an error. */
    if (rc != PAM_SUCCESS && !(text == NULL && rc == PAM_BAD_ITEM))
        return pjw_fail(err, JWTREV_ERR_INTERNAL, "pam_putenv: %s",
                        pam_strerror(pamh, rc));
    return 0;
}

int
pjw_export_claims(pam_handle_t *pamh, const jwtrev_conf *c,
                  const jwtrev_token *t, jwtrev_error *err)
{
    /* Values are exported whole or not at all: see the cut check below. */
    size_t cap = 2 * c->max_token_len, i;
    int rc = 0;

    for (i = 0; i < c->export_claims.n && rc == 0; i++) {
        const char *name = c->export_claims.v[i];
        const json_t *v = json_object_get(t->claims, name);
        char *text = NULL;

        /* Absent: clear it, so no earlier value poses as a verified one. */
        if (v == NULL) {
            rc = put_env(pamh, name, NULL, err);
            continue;
        }
        rc = jwtrev_claim_text(v, cap, &text, err);
        if (rc == -JWTREV_ERR_BAD_CLAIMS)
            rc = pjw_fail(err, JWTREV_ERR_BAD_CLAIMS,
                          "claim %s cannot be exported: control characters",
                          name);
        /* A cut (at most 3 bytes short of cap, on UTF-8) is refused. */
        if (rc == 0 && strlen(text) + 4 > cap)
            rc = pjw_fail(err, JWTREV_ERR_BAD_CLAIMS,
                          "claim %s cannot be exported: too long", name);
        if (rc == 0)
            rc = put_env(pamh, name, text, err);
        free(text);
    }
    return rc;
}
