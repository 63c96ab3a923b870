/*
 * test_rfc_vectors.c - the published examples through jwtrev_verify:
 * RFC 7515 appendix A.1-A.5 and RFC 8037 A.4 with a fixed clock (their
 * exp is in 2011), the RFC 7520 cookbook JWS examples 4.1-4.8, the
 * RFC 7797 (b64=false) examples and the curve25519 example, from
 * $JWTREV_VECTORS.  Payloads that are not claim sets are checked in
 * signature-only mode.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "jose/josep.h"
#include "tap.h"

/* Just before the RFC examples' exp of 1300819380. */
#define RFC_NOW 1300819000

static const char *vectors;

static json_t *
load(const char *rel)
{
    char path[1024];
    json_error_t jerr;
    json_t *doc;

    snprintf(path, sizeof(path), "%s/%s", vectors, rel);
    doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    ok(doc != NULL, "read %s", rel);
    if (doc == NULL)
        tap_diag("%s: %s", path, jerr.text);
    return doc;
}

/* Verify token with the one key jwk, the ring allowing algs. */
static int
check(const json_t *jwk, jwtrev_algset algs, const char *token, int64_t now,
      unsigned flags, jwtrev_error *err)
{
    jwtrev_keyring *kr = NULL;
    jwtrev_policy *p = NULL;
    jwtrev_token t;
    jwtrev_conf c;
    char *text = json_dumps(jwk, JSON_COMPACT);
    int rc;

    jwtrev_conf_init(&c);
    c.algs = algs;
    if ((rc = jwtrev_keyring_new(algs, &kr)) == 0 &&
        (rc = jwtrev_keyring_add_mem(kr, text, strlen(text), "jwk", err)) ==
            0 &&
        (rc = jwtrev_policy_new(&c, &p, err)) == 0)
        rc = jwtrev_verify(p, kr, token, strlen(token), now, flags, &t, err);
    if (rc == 0)
        jwtrev_token_clear(&t);
    jwtrev_policy_free(p);
    jwtrev_keyring_free(kr);
    free(text);
    return rc;
}

static void
expect(int rc, int want, const jwtrev_error *err, const char *what)
{
    ok(rc == -want, "%s: %s", what, jwtrev_reason(want));
    if (rc != -want)
        tap_diag("got %s: %s", jwtrev_reason(rc), err->detail);
}

static const char *
str(const json_t *o, const char *path)
{
    char key[64];
    const char *dot;

    while ((dot = strchr(path, '.')) != NULL) {
        snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
        o = json_object_get(o, key);
        path = dot + 1;
    }
    return json_string_value(json_object_get(o, path));
}

static void
test_rfc(void)
{
    json_t *doc = load("rfc/rfc_examples.json"), *v;
    jwtrev_error err;
    size_t i;
    int rc;

    json_array_foreach(json_object_get(doc, "vectors"), i, v)
    {
        const char *id = str(v, "id"), *tok = str(v, "token");
        const json_t *jwk = json_object_get(v, "jwk");
        int jwt = json_is_true(json_object_get(v, "jwt"));
        int accept = strcmp(str(v, "expect"), "accept") == 0;
        unsigned flags = jwt ? 0 : JWTREV_VERIFY_SIGNATURE_ONLY;

        rc = check(jwk, JWTREV_ALGSET_ALL, tok, RFC_NOW, flags, &err);
        if (accept) {
            expect(rc, 0, &err, id);
        } else {
            /* A.5: alg none, unsigned: the empty signature is refused
             * first, whatever the header says. */
            expect(rc, JWTREV_ERR_MALFORMED, &err, id);
        }
        if (jwt && accept) {
            rc = check(jwk, JWTREV_ALGSET_ALL, tok, RFC_NOW + 440, 0, &err);
            expect(rc, JWTREV_ERR_EXPIRED, &err, "the same, 440 s later");
        } else if (accept) {
            rc = check(jwk, JWTREV_ALGSET_ALL, tok, RFC_NOW, 0, &err);
            expect(rc, JWTREV_ERR_MALFORMED, &err,
                   "the same with claims checks (payload not a claim set)");
        }
    }
    json_decref(doc);
}

static jwtrev_algset
algset_of(const char *name)
{
    jwtrev_alg a;

    if (name == NULL || jwtrev_alg_from_name(name, strlen(name), &a) != 0)
        return 0;
    return 1u << a;
}

/* A cookbook example with a compact form: accepted in signature-only
 * mode, the ring allowing just the example's algorithm. */
static void
cookbook_compact(const char *rel, int want)
{
    json_t *doc = load(rel);
    jwtrev_error err;
    const char *alg = str(doc, "input.alg");
    int rc;

    rc = check(json_object_get(json_object_get(doc, "input"), "key"),
               algset_of(alg), str(doc, "output.compact"), RFC_NOW,
               JWTREV_VERIFY_SIGNATURE_ONLY, &err);
    expect(rc, want, &err, rel);
    json_decref(doc);
}

/* A JWS JSON serialization handed over as a token is malformed. */
static void
json_serialization(const json_t *doc, const char *which, const char *what)
{
    const json_t *key = json_object_get(json_object_get(doc, "input"), "key");
    char *text = json_dumps(
        json_object_get(json_object_get(doc, "output"), which), JSON_COMPACT);
    jwtrev_error err;

    if (json_is_array(key))
        key = json_array_get(key, 0);
    expect(check(key, JWTREV_ALGSET_ALL, text, RFC_NOW,
                 JWTREV_VERIFY_SIGNATURE_ONLY, &err),
           JWTREV_ERR_MALFORMED, &err, what);
    free(text);
}

/* protected . payload . signature of one signature of a JSON example. */
static char *
compact_of(const json_t *doc, const json_t *signing, size_t i)
{
    const json_t *out = json_object_get(doc, "output");
    const json_t *sigs =
        json_object_get(json_object_get(out, "json"), "signatures");
    const char *prot = str(signing, "protected_b64u");
    const char *payload = str(out, "json.payload");
    const char *sig = str(json_array_get(sigs, i), "signature");
    char *s =
        malloc(strlen(payload) + strlen(sig) + 8 + (prot ? strlen(prot) : 0));

    sprintf(s, "%s.%s.%s", prot ? prot : "", payload, sig);
    return s;
}

static void
test_cookbook(void)
{
    json_t *doc;
    jwtrev_error err;
    char *tok;
    size_t i;
    const json_t *sg;

    cookbook_compact("jose-cookbook/jws/4_1.rsa_v15_signature.json", 0);
    cookbook_compact("jose-cookbook/jws/4_2.rsa-pss_signature.json", 0);
    cookbook_compact("jose-cookbook/jws/4_3.ecdsa_signature.json", 0);
    cookbook_compact("jose-cookbook/jws/4_4.hmac-sha2_integrity_protection"
                     ".json",
                     0);
    /* Detached content: the signature covers a payload that is not in
     * the token, so over "header." it cannot verify. */
    cookbook_compact("jose-cookbook/jws/4_5.signature_with_detached_content"
                     ".json",
                     JWTREV_ERR_BAD_SIGNATURE);
    cookbook_compact("jose-cookbook/curve25519/jws.json", 0);

    /* 4.6: kid only in the unprotected header, which compact form drops;
     * the protected part alone verifies (keys tried by alg). */
    doc = load("jose-cookbook/jws/4_6.protecting_specific_header_fields"
               ".json");
    tok = compact_of(doc, json_object_get(doc, "signing"), 0);
    expect(check(json_object_get(json_object_get(doc, "input"), "key"),
                 JWTREV_ALGSET_ALL, tok, RFC_NOW, JWTREV_VERIFY_SIGNATURE_ONLY,
                 &err),
           0, &err, "4.6 as compact");
    free(tok);
    json_serialization(doc, "json_flat", "4.6 flattened JSON");
    json_decref(doc);

    /* 4.7: nothing protected: as compact, an empty header. */
    doc = load("jose-cookbook/jws/4_7.protecting_content_only.json");
    tok = compact_of(doc, json_object_get(doc, "signing"), 0);
    expect(check(json_object_get(json_object_get(doc, "input"), "key"),
                 JWTREV_ALGSET_ALL, tok, RFC_NOW, JWTREV_VERIFY_SIGNATURE_ONLY,
                 &err),
           JWTREV_ERR_MALFORMED, &err, "4.7 as compact (empty header)");
    free(tok);
    json_serialization(doc, "json", "4.7 general JSON");
    json_decref(doc);

    /* 4.8: several signatures exist only as JSON; each one with a
     * protected header is alone a compact JWS that verifies with its key
     * (the ES512 one protects nothing, like 4.7). */
    doc = load("jose-cookbook/jws/4_8.multiple_signatures.json");
    json_serialization(doc, "json", "4.8 general JSON");
    json_array_foreach(json_object_get(doc, "signing"), i, sg)
    {
        const json_t *keys =
            json_object_get(json_object_get(doc, "input"), "key");
        const json_t *algs =
            json_object_get(json_object_get(doc, "input"), "alg");
        int want = str(sg, "protected_b64u") ? 0 : JWTREV_ERR_MALFORMED;
        char what[64];
        snprintf(what, sizeof(what), "4.8: the %s signature as compact",
                 json_string_value(json_array_get(algs, i)));
        tok = compact_of(doc, sg, i);
        expect(check(json_array_get(keys, i),
                     algset_of(json_string_value(json_array_get(algs, i))), tok,
                     RFC_NOW, JWTREV_VERIFY_SIGNATURE_ONLY, &err),
               want, &err, what);
        free(tok);
    }
    json_decref(doc);
}

/*
 * RFC 7797: the published compact example carries its payload unencoded
 * (with spaces), so it is malformed; the same header over an encoded
 * payload, correctly MACed, is refused for its crit.
 */
static void
test_rfc7797(void)
{
    json_t *doc = load("jose-cookbook/rfc7797/hmac-sha2_b64_false.json");
    const json_t *key = json_object_get(json_object_get(doc, "input"), "key");
    const char *compact = str(doc, "output.compact");
    unsigned char secret[64], mac[32];
    char input[200], tok[300], sig[48];
    size_t slen = 0, mlen = 0;
    jwtrev_error err;

    expect(check(key, JWTREV_ALGSET_ALL, compact, RFC_NOW,
                 JWTREV_VERIFY_SIGNATURE_ONLY, &err),
           JWTREV_ERR_MALFORMED, &err, "RFC 7797 compact example");
    jwtrevp_b64url_decode(str(key, "k"), strlen(str(key, "k")), secret, &slen);
    /* The example's own protected_b64u is damaged upstream ("b64":,);
     * the compact form's header is the intended one. */
    sprintf(input, "%.*s.%s", (int)strcspn(compact, "."), compact,
            "VGhpcyBpcyB0aGUgcGF5bG9hZCBzdHJpbmch");
    EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, secret, slen,
              (unsigned char *)input, strlen(input), mac, sizeof(mac), &mlen);
    jwtrevp_b64url_encode(mac, mlen, sig);
    sprintf(tok, "%s.%s", input, sig);
    expect(check(key, JWTREV_ALGSET_ALL, tok, RFC_NOW,
                 JWTREV_VERIFY_SIGNATURE_ONLY, &err),
           JWTREV_ERR_CRIT_UNSUPPORTED, &err,
           "b64=false with crit over an encoded payload");
    json_decref(doc);

    doc = load("jose-cookbook/rfc7797/4.2.hmac-sha2_b64_false.json");
    json_serialization(doc, "json_flat", "RFC 7797 4.2 flattened JSON");
    json_decref(doc);
}

int
main(void)
{
    vectors = getenv("JWTREV_VECTORS");
    ok(vectors != NULL, "JWTREV_VECTORS is set");
    if (vectors == NULL)
        return tap_done();
    test_rfc();
    test_cookbook();
    test_rfc7797();
    return tap_done();
}
