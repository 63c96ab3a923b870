/*
 * test_wycheproof_jws.c - every case of Wycheproof's
 * json_web_signature_test.json through the signature layer
 * (JWTREV_VERIFY_SIGNATURE_ONLY: its payloads are not claim sets), each
 * group's key loaded into a ring of its own, with the upstream labels
 * corrected by KNOWN_LABEL_ISSUES.json.  Expect every case to agree.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "jose/josep.h"
#include "tap.h"

#define NOW 1700000000

static json_t *
load(const char *dir, const char *rel)
{
    char path[1024];
    json_error_t jerr;
    json_t *doc;

    snprintf(path, sizeof(path), "%s/wycheproof/%s", dir, rel);
    doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    ok(doc != NULL, "read %s", rel);
    if (doc == NULL)
        tap_diag("%s: %s", path, jerr.text);
    return doc;
}

/*
 * The corrected label of a case, or NULL to keep upstream's.  "valid or
 * skip" (a token byte-identical to a valid one) is valid; a case that is
 * valid "only if" the key's alg were ignored or an unregistered alg name
 * mapped is invalid here, since keys are bound to their alg (SECURITY 13).
 */
static const char *
override(const json_t *issues, json_int_t tcid)
{
    const json_t *o;
    const char *use;
    size_t i;

    json_array_foreach(json_object_get(issues, "overrides"), i, o)
    {
        if (json_integer_value(json_object_get(o, "tcId")) != tcid)
            continue;
        use = json_string_value(json_object_get(o, "use"));
        return strncmp(use, "valid or", 8) == 0 ? "valid" : "invalid";
    }
    return NULL;
}

/* A ring with the group's key; NULL when the loader refuses it. */
static jwtrev_keyring *
group_ring(const json_t *g)
{
    const json_t *jwk = json_object_get(g, "public");
    jwtrev_keyring *kr = NULL;
    jwtrev_error err;
    char *text;

    if (jwk == NULL)
        jwk = json_object_get(g, "private"); /* oct keys have no public */
    text = json_dumps(jwk, JSON_COMPACT);
    if (jwtrev_keyring_new(JWTREV_ALGSET_ALL, &kr) != 0 ||
        jwtrev_keyring_add_mem(kr, text, strlen(text), "jwk", &err) != 0) {
        tap_diag("group '%s': key refused: %s",
                 json_string_value(json_object_get(g, "comment")), err.detail);
        jwtrev_keyring_free(kr);
        kr = NULL;
    }
    free(text);
    return kr;
}

struct tally {
    int total, agree, valid, overridden;
};

static void
run_group(const json_t *g, const jwtrev_policy *p, const json_t *issues,
          struct tally *n)
{
    jwtrev_keyring *kr = group_ring(g);
    const json_t *tc;
    jwtrev_token t;
    jwtrev_error err;
    size_t i;
    int rc;

    json_array_foreach(json_object_get(g, "tests"), i, tc)
    {
        json_int_t id = json_integer_value(json_object_get(tc, "tcId"));
        const char *jws = json_string_value(json_object_get(tc, "jws"));
        const char *want = override(issues, id);
        int accepted;

        if (want != NULL)
            n->overridden++;
        else
            want = json_string_value(json_object_get(tc, "result"));
        rc = kr == NULL ? -JWTREV_ERR_CONFIG_ERROR
                        : jwtrev_verify(p, kr, jws, strlen(jws), NOW,
                                        JWTREV_VERIFY_SIGNATURE_ONLY, &t, &err);
        accepted = rc == 0;
        if (accepted)
            jwtrev_token_clear(&t);
        n->total++;
        n->valid += strcmp(want, "valid") == 0;
        n->agree += accepted == (strcmp(want, "valid") == 0);
        ok(accepted == (strcmp(want, "valid") == 0), "tcId %lld %s: %s (%s)",
           (long long)id, json_string_value(json_object_get(tc, "comment")),
           want, accepted ? "accepted" : jwtrev_reason(rc));
    }
    jwtrev_keyring_free(kr);
}

int
main(void)
{
    const char *dir = getenv("JWTREV_VECTORS");
    json_t *doc, *issues;
    jwtrev_policy *p;
    jwtrev_conf c;
    struct tally n = {0, 0, 0, 0};
    const json_t *g;
    size_t i;

    ok(dir != NULL, "JWTREV_VECTORS is set");
    if (dir == NULL)
        return tap_done();
    doc = load(dir, "testvectors_v1/json_web_signature_test.json");
    issues = load(dir, "KNOWN_LABEL_ISSUES.json");
    jwtrev_conf_init(&c);
    if (doc == NULL || issues == NULL || jwtrev_policy_new(&c, &p, NULL) != 0)
        return tap_done();
    json_array_foreach(json_object_get(doc, "testGroups"), i, g)
        run_group(g, p, issues, &n);
    tap_diag("Wycheproof JWS: %d/%d agree (%d valid, %d invalid; %d labels "
             "corrected)",
             n.agree, n.total, n.valid, n.total - n.valid, n.overridden);
    ok(n.total ==
           (int)json_integer_value(json_object_get(doc, "numberOfTests")),
       "all %d cases ran", n.total);
    jwtrev_policy_free(p);
    json_decref(doc);
    json_decref(issues);
    return tap_done();
}
