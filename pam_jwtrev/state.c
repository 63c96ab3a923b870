/*
 * state.c - what a successful auth leaves for the account step of the
 * same PAM handle, and the re-check account makes with it.
 *
 * Not the token: its identifiers and exp are all that expiry and
 * revocation need (revocation is keyed on iss+jti, iss+sub+iat, kid or
 * the signing-input hash), so the bearer credential is not kept in PAM
 * data.  Under sshd both steps run in one forked child; in a process
 * where auth did not run (public-key logins) there is no state and
 * account abstains.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "pam_jwtrev.h"

struct pjw_state {
    char *user;
    char *db; /* NULL: auth had no store configured */
    int on_db_error;
    int64_t leeway;
    char *iss, *sub, *jti, *kid; /* owned copies the view points to */
    jwtrev_token view;           /* no header, claims or payload */
};

static void
state_free(struct pjw_state *s)
{
    if (s == NULL)
        return;
    free(s->user);
    free(s->db);
    free(s->iss);
    free(s->sub);
    free(s->jti);
    free(s->kid);
    free(s);
}

/* pam_set_data cleanup: PAM calls it at pam_end or when data is replaced. */
static void
state_cleanup(pam_handle_t *pamh, void *data, int error_status)
{
    state_free(data);
}

/* strdup that keeps NULL; 0 or -1 on out of memory. */
static int
dup_opt(const char *src, char **dst)
{
    *dst = NULL;
    if (src == NULL)
        return 0;
    *dst = strdup(src);
    return *dst != NULL ? 0 : -1;
}

static struct pjw_state *
state_new(const jwtrev_conf *c, const jwtrev_token *t, const char *user)
{
    struct pjw_state *s = calloc(1, sizeof(*s));

    if (s == NULL)
        return NULL;
    if (dup_opt(user, &s->user) < 0 || dup_opt(c->db, &s->db) < 0 ||
        dup_opt(t->iss, &s->iss) < 0 || dup_opt(t->sub, &s->sub) < 0 ||
        dup_opt(t->jti, &s->jti) < 0 || dup_opt(t->kid, &s->kid) < 0) {
        state_free(s);
        return NULL;
    }
    s->on_db_error = c->on_db_error;
    s->leeway = c->leeway;
    /* The re-check and the store read only the scalars and these ids. */
    s->view = *t;
    s->view.header = s->view.claims = NULL;
    s->view.payload = NULL;
    s->view.payload_len = 0;
    s->view.iss = s->iss;
    s->view.sub = s->sub;
    s->view.jti = s->jti;
    s->view.kid = s->kid;
    s->view.user = s->user;
    return s;
}

int
pjw_state_save(pam_handle_t *pamh, const jwtrev_conf *c, const jwtrev_token *t,
               const char *user, jwtrev_error *err)
{
    struct pjw_state *s = state_new(c, t, user);

    if (s == NULL)
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    /* On success PAM owns s and frees it through state_cleanup. */
    if (pam_set_data(pamh, PJW_DATA_NAME, s, state_cleanup) != PAM_SUCCESS) {
        state_free(s);
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "pam_set_data failed");
    }
    return 0;
}

void
pjw_state_drop(pam_handle_t *pamh)
{
    /* Replacing with NULL runs the old cleanup; nothing to do if absent. */
    (void)pam_set_data(pamh, PJW_DATA_NAME, NULL, NULL);
}

int
pjw_state_recheck(pam_handle_t *pamh, const char *user, int64_t now,
                  jwtrev_token *view, int *on_db_error, jwtrev_error *err)
{
    const void *data = NULL;
    const struct pjw_state *s;
    int rc;

    if (pam_get_data(pamh, PJW_DATA_NAME, &data) != PAM_SUCCESS || data == NULL)
        return PJW_ABSTAIN;
    s = data;
    *on_db_error = s->on_db_error;
    *view = s->view;
    /* The application may have changed PAM_USER since auth. */
    if (user == NULL || strcmp(user, s->user) != 0)
        return jwtrev_fail(err, JWTREV_ERR_USER_MISMATCH,
                           "PAM_USER changed since authentication");
    /* Expiry only: auth already judged the maximum age. */
    if ((rc = jwtrev_token_recheck_time(view, s->leeway, -1, now, err)) != 0)
        return rc;
    if (s->db == NULL)
        return 0;
    return pjw_revocation_check(s->db, view, now, err);
}
