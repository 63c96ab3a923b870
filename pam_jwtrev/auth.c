/*
 * auth.c - pam_sm_authenticate: a JWT as the password, judged by the
 * library's full decision, and pam_sm_setcred.
 *
 * The pipeline, each step failing closed: settings -> keys and policy ->
 * user name -> token -> verify -> user claim == PAM_USER -> revocation ->
 * claims into the environment -> state for account.  Keys are loaded and
 * the store opened per call: PAM processes are short-lived, and nothing
 * may outlive the call but the PAM data of state.c.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <security/pam_ext.h>

#include "jwtrev_daemon.h"
#include "pam_jwtrev.h"

struct auth_call {
    pam_handle_t *pamh;
    jwtrev_conf conf;
    jwtrev_keyring *kr;
    jwtrev_policy *pol;
    const char *token; /* PAM_AUTHTOK, owned by PAM */
    jwtrev_token tok;
    struct pjw_decision d;
};

/*
 * use_first_pass: only what an earlier module stored; try_first_pass:
 * that, else prompt; neither: always prompt, as Linux-PAM's modules do.
 */
static int
get_token(struct auth_call *a)
{
    const void *item = NULL;
    const char *tok = NULL;
    unsigned f = a->conf.flags;
    int rc;

    if (f & (JWTREV_CONF_USE_FIRST_PASS | JWTREV_CONF_TRY_FIRST_PASS)) {
        if (pam_get_item(a->pamh, PAM_AUTHTOK, &item) == PAM_SUCCESS &&
            item != NULL) {
            a->token = item;
            return 0;
        }
        if (f & JWTREV_CONF_USE_FIRST_PASS)
            return jwtrev_fail(
                &a->d.err, JWTREV_ERR_MALFORMED,
                "use_first_pass: no token from an earlier module");
    } else if (pam_set_item(a->pamh, PAM_AUTHTOK, NULL) != PAM_SUCCESS) {
        return jwtrev_fail(&a->d.err, JWTREV_ERR_INTERNAL,
                           "cannot reset PAM_AUTHTOK");
    }
    rc = pam_get_authtok(a->pamh, PAM_AUTHTOK, &tok, NULL);
    if (rc != PAM_SUCCESS || tok == NULL)
        return jwtrev_fail(&a->d.err, JWTREV_ERR_MALFORMED, "no token: %s",
                           pam_strerror(a->pamh, rc));
    a->token = tok;
    return 0;
}

/* Keys and policy first: with broken settings, do not ask for a token. */
static int
load_verifier(struct auth_call *a)
{
    int rc = jwtrev_keyring_load(&a->conf, &a->kr, &a->d.err);

    if (rc == 0)
        pjw_log_key_warnings(a->pamh, a->kr);
    if (rc == 0)
        rc = jwtrev_policy_new(&a->conf, &a->pol, &a->d.err);
    return rc;
}

static int
get_user(struct auth_call *a)
{
    const char *user = NULL;

    if (pam_get_user(a->pamh, &user, NULL) != PAM_SUCCESS)
        user = NULL;
    a->d.user = user;
    /* The name the token must match, judged before a token is asked for
     * by the rule the token's claim will meet: no claim could match. */
    if (jwtrev_user_check(user, JWTREV_USER_LOGIN, &a->d.err) != 0) {
        char why[JWTREV_DETAIL_MAX];

        snprintf(why, sizeof(why), "%s", a->d.err.detail);
        return jwtrev_fail(&a->d.err, JWTREV_ERR_USER_MISMATCH, "PAM user: %s",
                           why);
    }
    return 0;
}

/* The clock is read after the prompt: the user may have taken a while. */
static int
verify_token(struct auth_call *a)
{
    int64_t now = (int64_t)time(NULL);
    size_t len = strlen(a->token);
    int rc;

    a->d.token_len = len;
    rc =
        jwtrev_verify(a->pol, a->kr, a->token, len, now, 0, &a->tok, &a->d.err);
    if (rc < 0) {
        jwtrev_text_logid(a->token, len, &a->d.err);
        /* A rotation the key files lack yet: jwtrevd may fetch it now
         * (never waiting); this login is refused as it stands. */
        if (rc == -JWTREV_ERR_KEY_NOT_FOUND && a->conf.keys.n > 0)
            jwtrev_daemon_ask_keys(a->conf.db,
                                   (const char *const *)a->conf.keys.v,
                                   a->conf.keys.n, NULL, 0);
        return rc;
    }
    a->d.tok = &a->tok;
    rc = pjw_user_match(&a->conf, &a->tok, a->d.user, &a->d.err);
    if (rc == 0 && a->conf.db != NULL)
        rc = pjw_revocation_check(a->conf.db, &a->tok, now, &a->d.err);
    return rc;
}

static int
authenticate(struct auth_call *a, int argc, const char **argv)
{
    int rc = pjw_conf_build(a->pamh, argc, argv, &a->conf, &a->d.err);

    a->d.debug = (a->conf.flags & JWTREV_CONF_DEBUG) != 0;
    if (rc == 0)
        rc = load_verifier(a);
    if (rc == 0)
        rc = get_user(a);
    if (rc == 0)
        rc = get_token(a);
    if (rc == 0)
        rc = verify_token(a);
    if (rc == 0)
        rc = pjw_export_claims(a->pamh, &a->conf, &a->tok, &a->d.err);
    if (rc == 0)
        rc = pjw_state_save(a->pamh, &a->conf, &a->tok, a->d.user, &a->d.err);
    return rc;
}

PAM_EXTERN int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    struct auth_call a;
    int rc, code;

    memset(&a, 0, sizeof(a));
    a.pamh = pamh;
    jwtrev_error_clear(&a.d.err);
    /* A success of an earlier call on this handle must not carry over. */
    pjw_state_drop(pamh);
    rc = authenticate(&a, argc, argv);
    if (rc > 0) /* PJW_ABSTAIN is never an auth result */
        rc = -JWTREV_ERR_INTERNAL;
    a.d.rc = rc;
    code = pjw_pam_code(rc, a.conf.on_db_error);
    pjw_log_decision(pamh, &a.d, code);
    jwtrev_token_clear(&a.tok);
    jwtrev_policy_free(a.pol);
    jwtrev_keyring_free(a.kr);
    jwtrev_conf_free(&a.conf);
    return code;
}

/* Nothing to establish; keyboard-interactive logins abort without this. */
PAM_EXTERN int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    return PAM_SUCCESS;
}
