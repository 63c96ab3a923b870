/*
 * options.c - the settings of one PAM call: module arguments and
 * config=FILE through the library's one option parser, then the rules
 * that only the PAM module adds.
 */
#include "config.h"

#include <string.h>

#include <security/pam_ext.h>

#include "pam_jwtrev.h"

#define CONFIG_PREFIX "config="

/* One module argument: config=FILE, or an option for the parser. */
static int
apply_word(jwtrev_conf *c, const char *word, jwtrev_error *err)
{
    size_t plen = sizeof(CONFIG_PREFIX) - 1;

    if (strncmp(word, CONFIG_PREFIX, plen) != 0)
        return jwtrev_conf_set_word(c, word, err);
    if (word[plen] == '\0')
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "config= needs a file");
    /* Only root may say how tokens are judged: STRICT checks the owner. */
    return jwtrev_conf_load_file(c, word + plen, JWTREV_CONF_FILE_STRICT, err);
}

static int
config_fail(jwtrev_error *err, const char *msg)
{
    return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR, "%s", msg);
}

/* The claim becomes part of an environment variable name. */
static int
claim_name_ok(const char *name)
{
    size_t i, n = strlen(name);

    if (n == 0 || n > PJW_CLAIM_NAME_MAX)
        return 0;
    for (i = 0; i < n; i++) {
        char ch = name[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
              (ch >= '0' && ch <= '9') || ch == '_'))
            return 0;
    }
    return 1;
}

/* What PAM adds to (or forbids in) the shared option set. */
static int
apply_pam_rules(pam_handle_t *pamh, jwtrev_conf *c, jwtrev_error *err)
{
    const void *service = NULL;
    size_t i;

    if (c->on_db_error == JWTREV_ON_DB_ERROR_ALLOW)
        return config_fail(err, "on_db_error=allow is not available in "
                                "PAM (use deny or ignore)");
    for (i = 0; i < c->export_claims.n; i++)
        if (!claim_name_ok(c->export_claims.v[i]))
            return config_fail(err, "export_claims: a claim name must be "
                                    "1 to 64 of A-Z a-z 0-9 _");
    c->require_user = JWTREV_USER_LOGIN;
    if (!(c->flags & JWTREV_CONF_AUD_FROM_SERVICE))
        return 0;
    if (c->audiences.n > 0)
        return config_fail(err, "aud= and aud_from_service exclude each "
                                "other");
    if (pam_get_item(pamh, PAM_SERVICE, &service) != PAM_SUCCESS ||
        service == NULL || *(const char *)service == '\0')
        return config_fail(err, "aud_from_service: no PAM service name");
    return jwtrev_conf_set(c, "aud", service, err);
}

int
pjw_conf_build(pam_handle_t *pamh, int argc, const char **argv, jwtrev_conf *c,
               jwtrev_error *err)
{
    int i, rc = 0;

    jwtrev_conf_init(c);
    for (i = 0; i < argc && rc == 0; i++)
        rc = apply_word(c, argv[i], err);
    if (rc == 0)
        rc = apply_pam_rules(pamh, c, err);
    if (rc < 0) {
        jwtrev_conf_free(c);
        jwtrev_conf_init(c);
    }
    return rc;
}
