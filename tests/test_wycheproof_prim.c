/*
 * test_wycheproof_prim.c - the Wycheproof primitive vectors of the two
 * algorithms added after raw_jose.jsonl was made: Ed448 (ed448_test.json)
 * and ECDSA over secp256k1 with r||s signatures, ES256K
 * (ecdsa_secp256k1_sha256_p1363_test.json), read from
 * $JWTREV_VECTORS/wycheproof/testvectors_v1.  Each group's key is loaded
 * twice, as its PEM and as its JWK (when it has one), into a ring allowing
 * only the algorithm; every signature goes through jwtrevp_sig_verify.
 * valid must verify, invalid must not.  ES256K accepts a high S (RFC 8812
 * does not ask for low S; Wycheproof labels both valid).
 *
 * One test point per (file, key form, result); failing vectors are named.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jose/keyp.h"
#include "tap.h"

static int
hex_decode(const char *hex, unsigned char *out, size_t cap, size_t *len)
{
    size_t i, n = hex ? strlen(hex) : 1;
    unsigned v;

    if (n % 2 != 0 || n / 2 > cap)
        return -1;
    for (i = 0; i < n / 2; i++) {
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (unsigned char)v;
    }
    *len = n / 2;
    return 0;
}

struct tally {
    size_t seen, failed;
};

/* The ring of one key text, or NULL when the loader refused it. */
static jwtrev_keyring *
ring_of(const char *text, jwtrev_alg alg)
{
    jwtrev_keyring *kr;
    jwtrev_error err;

    if (jwtrev_keyring_new(1u << alg, &kr) != 0)
        abort();
    if (jwtrev_keyring_add_mem(kr, text, strlen(text), "vector", &err) != 0) {
        tap_diag("key refused: %s", err.detail);
        jwtrev_keyring_free(kr);
        return NULL;
    }
    return kr;
}

/* The group's tests against the key kr; tallies by result. */
static void
run_group(const json_t *g, jwtrev_keyring *kr, jwtrev_alg alg, const char *form,
          struct tally t[2])
{
    static unsigned char msg[4096], sig[512];
    const jwtrevp_key *k = kr ? jwtrevp_keyring_by_alg(kr, alg, 0) : NULL;
    const json_t *v;
    size_t i, mlen, slen;
    int valid, rc;

    json_array_foreach(json_object_get(g, "tests"), i, v)
    {
        const char *res = json_string_value(json_object_get(v, "result"));
        valid = res != NULL && strcmp(res, "valid") == 0;
        t[valid].seen++;
        rc = -1;
        if (k != NULL &&
            hex_decode(json_string_value(json_object_get(v, "msg")), msg,
                       sizeof(msg), &mlen) == 0 &&
            hex_decode(json_string_value(json_object_get(v, "sig")), sig,
                       sizeof(sig), &slen) == 0)
            rc = jwtrevp_sig_verify(k, msg, mlen, sig, slen);
        if ((rc == 0) != valid) {
            t[valid].failed++;
            tap_diag("%s tcId %lld (%s): expected %s", form,
                     (long long)json_integer_value(json_object_get(v, "tcId")),
                     json_string_value(json_object_get(v, "comment")), res);
        }
    }
}

static void
run_file(const char *dir, const char *name, jwtrev_alg alg)
{
    struct tally t[2][2] = {{{0}}}; /* [form: pem, jwk][valid] */
    static const char *const forms[2] = {"PEM", "JWK"};
    char path[4096], *jwk;
    json_error_t jerr;
    json_t *doc, *g;
    jwtrev_keyring *kr;
    size_t i;
    int f, r;

    snprintf(path, sizeof(path), "%s/wycheproof/testvectors_v1/%s", dir, name);
    doc = json_load_file(path, 0, &jerr);
    ok(doc != NULL, "%s: read", name);
    json_array_foreach(json_object_get(doc, "testGroups"), i, g)
    {
        kr =
            ring_of(json_string_value(json_object_get(g, "publicKeyPem")), alg);
        run_group(g, kr, alg, "PEM", t[0]);
        jwtrev_keyring_free(kr);
        if (json_object_get(g, "publicKeyJwk") == NULL)
            continue;
        if ((jwk = json_dumps(json_object_get(g, "publicKeyJwk"), 0)) == NULL)
            abort();
        kr = ring_of(jwk, alg);
        free(jwk);
        run_group(g, kr, alg, "JWK", t[1]);
        jwtrev_keyring_free(kr);
    }
    for (f = 0; f < 2; f++)
        for (r = 1; r >= 0; r--)
            ok(t[f][r].seen > 0 && t[f][r].failed == 0,
               "%s, %s keys: %zu %s vectors, %zu wrong", name, forms[f],
               t[f][r].seen, r ? "valid" : "invalid", t[f][r].failed);
    json_decref(doc);
}

int
main(void)
{
    const char *dir = getenv("JWTREV_VECTORS");

    if (dir == NULL) {
        ok(0, "JWTREV_VECTORS is set");
        return tap_done();
    }
    run_file(dir, "ed448_test.json", JWTREV_ALG_EDDSA);
    run_file(dir, "ecdsa_secp256k1_sha256_p1363_test.json", JWTREV_ALG_ES256K);
    return tap_done();
}
