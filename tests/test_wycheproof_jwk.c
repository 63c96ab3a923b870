/*
 * test_wycheproof_jwk.c - every case of Wycheproof's JSON Web Key test
 * ($JWTREV_VECTORS/wycheproof/testvectors_v1/json_web_key_test.json):
 * the group's key set (the public one, else the private one: oct keys
 * exist only there) goes through the loader; when it loads, the case's
 * token goes through jwtrev_verify (signature only: the payloads are not
 * claim sets).  "valid" must load and verify; "invalid" must be refused
 * by the loader (config_error) or rejected by the verifier.
 *
 * No overrides are needed: tcId 7 (ROCA) is refused by the loader's ROCA
 * fingerprint test, which KNOWN_LABEL_ISSUES.json calls optional.  tcId 4
 * (duplicate kid) is refused before the kids are compared, for its
 * non-canonical base64url "k"; test_keys covers duplicate kids.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "jose/keyp.h"
#include "tap.h"

struct counts {
    size_t accepted, refused_at_load, rejected_at_verify;
};

/* 0 accepted; 1 refused by the loader; 2 rejected by the verifier. */
static int
outcome(const json_t *keyset, const char *jws, const jwtrev_policy *pol,
        char *why, size_t cap)
{
    char *text = json_dumps(keyset, JSON_COMPACT);
    jwtrev_keyring *kr = NULL;
    jwtrev_token tok = {0};
    jwtrev_error err;
    int rc, result;

    if (text == NULL || jwtrev_keyring_new(JWTREV_ALGSET_ALL, &kr) != 0)
        abort();
    jwtrev_error_clear(&err);
    rc = jwtrev_keyring_add_mem(kr, text, strlen(text), "keyset", &err);
    if (rc != 0) {
        result = rc == -JWTREV_ERR_CONFIG_ERROR ? 1 : -1;
    } else {
        rc = jwtrev_verify(pol, kr, jws, strlen(jws), 0,
                           JWTREV_VERIFY_SIGNATURE_ONLY, &tok, &err);
        result = rc == 0 ? 0 : 2;
    }
    snprintf(why, cap, "%s", rc == 0 ? "accepted" : err.detail);
    jwtrev_token_clear(&tok);
    jwtrev_keyring_free(kr);
    free(text);
    return result;
}

static void
run_group(const json_t *g, const jwtrev_policy *pol, struct counts *n)
{
    const json_t *keyset = json_object_get(g, "public"), *t;
    char why[JWTREV_DETAIL_MAX];
    size_t i;
    int r, valid;

    if (keyset == NULL)
        keyset = json_object_get(g, "private");
    json_array_foreach(json_object_get(g, "tests"), i, t)
    {
        valid = strcmp(json_string_value(json_object_get(t, "result")),
                       "valid") == 0;
        r = outcome(keyset, json_string_value(json_object_get(t, "jws")), pol,
                    why, sizeof(why));
        ok(valid ? r == 0 : r > 0, "tcId %lld %s (%s): %s",
           (long long)json_integer_value(json_object_get(t, "tcId")),
           json_string_value(json_object_get(t, "comment")),
           valid ? "valid" : "invalid", why);
        if (r == 0)
            n->accepted++;
        else if (r == 1)
            n->refused_at_load++;
        else if (r == 2)
            n->rejected_at_verify++;
    }
}

int
main(void)
{
    const char *dir = getenv("JWTREV_VECTORS");
    struct counts n = {0, 0, 0};
    jwtrev_policy *pol = NULL;
    json_t *doc, *g;
    jwtrev_error err;
    jwtrev_conf conf;
    char path[4096];
    size_t i;

    if (dir == NULL) {
        printf("Bail out! JWTREV_VECTORS is not set\n");
        return 1;
    }
    snprintf(path, sizeof(path),
             "%s/wycheproof/testvectors_v1/json_web_key_test.json", dir);
    if ((doc = json_load_file(path, 0, NULL)) == NULL) {
        printf("Bail out! cannot read %s\n", path);
        return 1;
    }
    jwtrev_conf_init(&conf);
    if (jwtrev_policy_new(&conf, &pol, &err) != 0) {
        printf("Bail out! policy: %s\n", err.detail);
        return 1;
    }
    json_array_foreach(json_object_get(doc, "testGroups"), i, g)
        run_group(g, pol, &n);
    ok(n.accepted + n.refused_at_load + n.rejected_at_verify ==
           (size_t)json_integer_value(json_object_get(doc, "numberOfTests")),
       "all %lld cases run: %zu accepted, %zu refused by the loader, %zu "
       "rejected by the verifier",
       (long long)json_integer_value(json_object_get(doc, "numberOfTests")),
       n.accepted, n.refused_at_load, n.rejected_at_verify);
    jwtrev_policy_free(pol);
    jwtrev_conf_free(&conf);
    json_decref(doc);
    return tap_done();
}
