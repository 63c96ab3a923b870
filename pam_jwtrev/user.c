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
pjw_user_match(const jwtrev_conf *c, const jwtrev_token *t, const char *user,
               jwtrev_error *err)
{
    /* The parser leaves user_claim NULL for the default. */
    const char *claim = c->user_claim != NULL ? c->user_claim : "sub";
    const json_t *v = NULL;

    if (t->claims != NULL)
        v = json_object_get(t->claims, claim);
    /*
     * The claim's JSON length as well as its C string: a claim with an
     * escaped NUL must not match the prefix before the NUL.
     */
    if (v == NULL || !json_is_string(v) || t->user == NULL ||
        json_string_length(v) != strlen(user) || strcmp(t->user, user) != 0)
        return jwtrev_fail(err, JWTREV_ERR_USER_MISMATCH,
                           "the token's %s claim is not the PAM user", claim);
    return 0;
}

/* Set JWT_CLAIM_<name>=text, or remove the variable when text is NULL. */
static int
put_env(pam_handle_t *pamh, const char *name, const char *text,
        jwtrev_error *err)
{
    char *var = NULL, *entry = NULL;
    int rc = 0, prc;

    if (asprintf(&var, ENV_PREFIX "%s", name) < 0)
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    /* Remove only what is set: libpam logs an error for an unset name. */
    if (text == NULL && pam_getenv(pamh, var) == NULL)
        goto done;
    if (text != NULL && asprintf(&entry, "%s=%s", var, text) < 0) {
        entry = NULL;
        rc = jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
        goto done;
    }
    prc = pam_putenv(pamh, entry != NULL ? entry : var);
    if (prc != PAM_SUCCESS)
        rc = jwtrev_fail(err, JWTREV_ERR_INTERNAL, "pam_putenv: %s",
                         pam_strerror(pamh, prc));
done:
    free(entry);
    free(var);
    return rc;
}

/*
 * The text of claim name for the environment, or NULL (absent claim) in
 * *out.  A refused value fails: control characters, or too long to be
 * exported whole.
 */
static int
claim_env_text(const jwtrev_conf *c, const jwtrev_token *t, const char *name,
               char **out, jwtrev_error *err)
{
    /* Larger than any value of a token under the size cap: no silent cut. */
    size_t cap = 2 * c->max_token_len;
    const json_t *v = json_object_get(t->claims, name);
    char *text = NULL;
    int rc;

    *out = NULL;
    if (v == NULL)
        return 0;
    rc = jwtrev_claim_text(v, cap, &text, err);
    if (rc == -JWTREV_ERR_BAD_CLAIMS)
        return jwtrev_fail(err, JWTREV_ERR_BAD_CLAIMS,
                           "claim %s cannot be exported: control characters",
                           name);
    if (rc < 0)
        return rc;
    /* A cut value (at most 3 bytes short of cap, on UTF-8) is refused. */
    if (strlen(text) + 4 > cap) {
        free(text);
        return jwtrev_fail(err, JWTREV_ERR_BAD_CLAIMS,
                           "claim %s cannot be exported: too long", name);
    }
    *out = text;
    return 0;
}

int
pjw_export_claims(pam_handle_t *pamh, const jwtrev_conf *c,
                  const jwtrev_token *t, jwtrev_error *err)
{
    size_t n = c->export_claims.n, i;
    char **texts;
    int rc = 0;

    if (n == 0)
        return 0;
    texts = calloc(n, sizeof(*texts));
    if (texts == NULL)
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    /* Judge every value first: a refused login exports nothing. */
    for (i = 0; i < n && rc == 0; i++)
        rc = claim_env_text(c, t, c->export_claims.v[i], &texts[i], err);
    /* Absent claims are removed: no earlier value poses as a verified one. */
    for (i = 0; i < n && rc == 0; i++)
        rc = put_env(pamh, c->export_claims.v[i], texts[i], err);
    for (i = 0; i < n; i++)
        free(texts[i]);
    free(texts);
    return rc;
}
