/*
 * test_sign.c - jwtrev_signkey_load and jwtrev_sign: a token for every
 * algorithm from PEM (PKCS#8 and traditional) and JWK private keys and
 * from secret files, verified through a ring and jwtrev_verify (with its
 * kid); the exact header and payload; ES signatures as fixed-length r||s
 * and PS signatures with salt = hash length, both checked with raw EVP;
 * and the signing keys the loader refuses.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "jose/keyp.h"
#include "tap.h"

static char datadir[4096];

#define NOW 1700000000
#define A(x) JWTREV_ALG_##x

static void
fixture(const char *name, char *buf, size_t cap)
{
    const char *hash = strrchr(name, '#');

    if (hash == NULL)
        snprintf(buf, cap, "%s/%s", datadir, name);
    else
        snprintf(buf, cap, "%.*s%s/%s", (int)(hash - name + 1), name, datadir,
                 hash + 1);
}

static const struct sign_case {
    const char *priv;
    unsigned flags;
    int alg;           /* -1: the key's own or its type's default */
    jwtrev_alg want;   /* the algorithm the key signs with */
    const char *kid;   /* put in the header, or NULL */
    const char *pub;   /* verification key ("KID#FILE" to give PEM a kid) */
    int pub_is_secret; /* pub is a secret file */
} cases[] = {
    {"rsa2048.pem", 0, -1, A(RS256), "r1", "r1#rsa2048.pub.pem", 0},
    {"rsa2048.pem", 0, A(RS384), A(RS384), "r1", "r1#rsa2048.pub.pem", 0},
    {"rsa2048.pem", 0, A(RS512), A(RS512), NULL, "rsa2048.crt.pem", 0},
    {"rsa2048.pem", 0, A(PS256), A(PS256), "r1", "r1#rsa2048.pub.pem", 0},
    {"rsa2048.pem", 0, A(PS384), A(PS384), NULL, "rsa2048.rsapub.pem", 0},
    {"rsa2048.pem", 0, A(PS512), A(PS512), "r1", "r1#rsa2048.jwk", 0},
    {"rsa2048-trad.pem", 0, -1, A(RS256), NULL, "rsa2048.pub.pem", 0},
    {"rsa3072.pem", 0, A(PS256), A(PS256), "big", "big#rsa3072.pub.pem", 0},
    {"rsa2048.priv.jwk", 0, -1, A(RS256), "rsa1", "rsa2048-kid.jwk", 0},
    {"rsa2048-crt-less.priv.jwk", 0, A(RS384), A(RS384), NULL,
     "rsa2048.pub.pem", 0},
    {"ec256.pem", 0, -1, A(ES256), "e1", "e1#ec256.pub.pem", 0},
    {"ec256-trad.pem", 0, -1, A(ES256), NULL, "ec256-trad.pub.pem", 0},
    {"ec384.pem", 0, -1, A(ES384), "e3", "e3#ec384.pub.pem", 0},
    {"ec521.pem", 0, A(ES512), A(ES512), NULL, "ec521.pub.pem", 0},
    {"ec256.priv.jwk", 0, -1, A(ES256), "ec256", "ec256.jwk", 0},
    {"ec384.priv.jwk", 0, -1, A(ES384), "ec384", "ec384.jwk", 0},
    {"ec521.priv.jwk", 0, -1, A(ES512), "ec521", "ec521.jwk", 0},
    {"ed25519.pem", 0, -1, A(EDDSA), NULL, "ed25519.pub.pem", 0},
    {"ed25519.priv.jwk", 0, -1, A(EDDSA), "ed1", "ed25519.jwk", 0},
    {"ed448.pem", 0, -1, A(EDDSA), NULL, "ed448.pub.pem", 0},
    {"k256.pem", 0, -1, A(ES256K), NULL, "k256.pub.pem", 0},
    {"hs256.bin", JWTREV_SIGNKEY_SECRET, -1, A(HS256), "s1", "s1#hs256.bin", 1},
    {"hs384.bin", JWTREV_SIGNKEY_SECRET, A(HS384), A(HS384), NULL, "hs384.bin",
     1},
    {"hs512.bin", JWTREV_SIGNKEY_SECRET, A(HS512), A(HS512), "s5",
     "s5#hs512.bin", 1},
    {"hs512.bin", JWTREV_SIGNKEY_SECRET, A(HS256), A(HS256), NULL, "hs512.bin",
     1},
    {"hs256-newline.txt", JWTREV_SIGNKEY_SECRET, -1, A(HS256), NULL,
     "hs256-crlf.txt", 1},
    {"oct.jwk", 0, -1, A(HS256), "hs1", "oct.jwk", 0},
    {"oct-hs384.jwk", 0, -1, A(HS384), NULL, "oct-hs384.jwk", 0},
};

static jwtrev_keyring *
ring_for(const struct sign_case *c)
{
    char path[4200];
    jwtrev_keyring *kr;
    jwtrev_error err;
    int rc;

    fixture(c->pub, path, sizeof(path));
    if (jwtrev_keyring_new(1u << c->want, &kr) != 0)
        abort();
    rc = c->pub_is_secret ? jwtrev_keyring_add_secret_file(kr, path, &err)
                          : jwtrev_keyring_add_file(kr, path, &err);
    if (rc != 0) {
        printf("Bail out! %s\n", err.detail);
        exit(1);
    }
    return kr;
}

/* The decoded header segment of tok, as text (caller frees). */
static char *
segment(const char *tok, int n)
{
    const char *p = tok, *end;
    unsigned char *buf;
    size_t len;

    while (n-- > 0)
        p = strchr(p, '.') + 1;
    end = strchr(p, '.');
    len = end ? (size_t)(end - p) : strlen(p);
    buf = calloc(1, jwtrevp_b64url_declen(len) + 1);
    if (buf == NULL || jwtrevp_b64url_decode(p, len, buf, &len) != 0)
        abort();
    return (char *)buf;
}

static void
run_case(const struct sign_case *c, const jwtrev_policy *pol)
{
    char path[4200], *tok = NULL, *hdr, want_hdr[128];
    json_t *claims = json_pack("{s:s, s:i, s:i}", "sub", "alice", "iat", NOW,
                               "exp", NOW + 600);
    jwtrev_keyring *kr = ring_for(c);
    jwtrev_signkey *sk = NULL;
    jwtrev_token t = {0};
    jwtrev_error err;
    int rc;

    fixture(c->priv, path, sizeof(path));
    rc = jwtrev_signkey_load(path, c->flags, c->alg, &sk, &err);
    ok(rc == 0 && jwtrev_signkey_alg(sk) == c->want, "load %s for %s%s%s",
       c->priv, jwtrev_alg_name(c->want), rc ? ": " : "", rc ? err.detail : "");
    if (rc == 0 && jwtrev_sign(sk, c->kid, claims, &tok, &err) == 0) {
        rc = jwtrev_verify(pol, kr, tok, strlen(tok), NOW, 0, &t, &err);
        ok(rc == 0 && t.alg == c->want &&
               (c->kid == NULL ? t.kid == NULL
                               : t.kid && strcmp(t.kid, c->kid) == 0) &&
               t.sub && strcmp(t.sub, "alice") == 0,
           "%s token from %s verifies through the ring (%s)",
           jwtrev_alg_name(c->want), c->priv, rc ? err.detail : "ok");
        hdr = segment(tok, 0);
        snprintf(want_hdr, sizeof(want_hdr),
                 "{\"alg\":\"%s\",\"typ\":\"JWT\"%s%s%s}",
                 jwtrev_alg_name(c->want), c->kid ? ",\"kid\":\"" : "",
                 c->kid ? c->kid : "", c->kid ? "\"" : "");
        ok(strcmp(hdr, want_hdr) == 0, "header is %s", hdr);
        free(hdr);
    } else {
        ok(0, "sign with %s: %s", c->priv, err.detail);
        ok(0, "no header");
    }
    jwtrev_token_clear(&t);
    free(tok);
    jwtrev_signkey_free(sk);
    jwtrev_keyring_free(kr);
    json_decref(claims);
}

/* Signing keys refused like the loader refuses verification keys. */
static const struct {
    const char *file;
    unsigned flags;
    int alg;
    const char *why;
} refused[] = {
    {"rsa2048.pub.pem", 0, -1, "public key given where a private key is"},
    {"rsa2048.crt.pem", 0, -1, "public key given where a private key is"},
    {"rsa1024.pem", 0, -1, "RSA key of 1024 bits"},
    {"rsa-e3.pem", 0, -1, "exponent is even or below 65537"},
    {"rsapss.pem", 0, -1, "RSASSA-PSS restricted"},
    {"x25519.pem", 0, -1, "X25519 key is for key agreement"},
    {"rsa2048-enc.pem", 0, -1, "encrypted private keys are not supported"},
    {"rsa2048.pem", 0, A(ES256), "ES256 does not fit the RSA key"},
    {"rsa2048.pem", 0, A(HS256), "HS256 does not fit the RSA key"},
    {"ec256.pem", 0, A(ES384), "ES384 does not fit the EC P-256 key"},
    {"rsa2048.priv.jwk", 0, A(RS384), "the JWK is for RS256, not RS384"},
    {"rsa2048.jwk", 0, -1, "JWK member \"d\" is missing"},
    {"ec256.jwk", 0, -1, "JWK member \"d\" is missing"},
    {"ed25519.jwk", 0, -1, "JWK member \"d\" is missing"},
    {"good.jwks", 0, -1, "a JWKS is not a signing key"},
    {"enc.jwk", 0, -1, "not meant for signing"},
    {"ec256-mismatch.priv.jwk", 0, -1, "parts of the key do not match"},
    {"rsa2048-mismatch.priv.jwk", 0, -1, "parts of the key do not match"},
    {"ed25519-mismatch.priv.jwk", 0, -1, "x does not belong to d"},
    {"oct-short.jwk", 0, -1, "HS256 key of 31 bytes is shorter"},
    {"oct.jwk", 0, A(HS512), "HS512 key of 32 bytes is shorter"},
    {"hs-short31.bin", JWTREV_SIGNKEY_SECRET, -1, "31 bytes is shorter"},
    {"hs256.bin", JWTREV_SIGNKEY_SECRET, A(HS384), "32 bytes is shorter"},
    {"hs256.bin", JWTREV_SIGNKEY_SECRET, A(RS256), "RS256 does not fit"},
    {"hs-empty.bin", JWTREV_SIGNKEY_SECRET, -1, "empty HMAC secret"},
    {"rsa2048.pub.pem", JWTREV_SIGNKEY_SECRET, -1, "holds PEM data"},
    {"hs256.bin", 0, -1, "neither a PEM private key nor a JWK"},
    {"does-not-exist.pem", 0, -1, "cannot open"},
    {"rsa2048.pem", 0, JWTREV_ALG_COUNT, "unknown algorithm"},
};

static void
test_refused(void)
{
    jwtrev_signkey *sk = NULL;
    jwtrev_error err;
    char path[4200];
    size_t i;
    int rc;

    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        fixture(refused[i].file, path, sizeof(path));
        jwtrev_error_clear(&err);
        sk = NULL;
        rc = jwtrev_signkey_load(path, refused[i].flags, refused[i].alg, &sk,
                                 &err);
        ok(rc == -JWTREV_ERR_CONFIG_ERROR && sk == NULL &&
               strstr(err.detail, refused[i].file) != NULL &&
               strstr(err.detail, refused[i].why) != NULL &&
               ERR_peek_error() == 0,
           "signing key %s refused: %s", refused[i].file, err.detail);
        jwtrev_signkey_free(sk);
    }
}

/* ES: r||s of the fixed length that raw EVP verifies once made DER; PS:
 * raw EVP with salt = hash length verifies it. */
static int
raw_evp_verify(const char *pub, const char *tok, const char *md, int pss,
               size_t ec_half)
{
    const char *dot = strrchr(tok, '.');
    unsigned char sig[1024], *der = NULL;
    size_t sig_len;
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *p = NULL;
    ECDSA_SIG *es = NULL;
    char path[4200];
    EVP_PKEY *pk;
    FILE *f;
    int ok_ = 0, len;

    fixture(pub, path, sizeof(path));
    f = fopen(path, "r");
    pk = PEM_read_PUBKEY(f, NULL, NULL, NULL);
    fclose(f);
    if (jwtrevp_b64url_decode(dot + 1, strlen(dot + 1), sig, &sig_len) != 0)
        abort();
    if (ec_half != 0) {
        if (sig_len != 2 * ec_half)
            goto done;
        es = ECDSA_SIG_new();
        ECDSA_SIG_set0(es, BN_bin2bn(sig, (int)ec_half, NULL),
                       BN_bin2bn(sig + ec_half, (int)ec_half, NULL));
        len = i2d_ECDSA_SIG(es, &der);
        memcpy(sig, der, (size_t)len);
        sig_len = (size_t)len;
    }
    ok_ =
        EVP_DigestVerifyInit_ex(m, &p, md, NULL, NULL, pk, NULL) == 1 &&
        (!pss || (EVP_PKEY_CTX_set_rsa_padding(p, RSA_PKCS1_PSS_PADDING) == 1 &&
                  EVP_PKEY_CTX_set_rsa_pss_saltlen(p, pss) == 1)) &&
        EVP_DigestVerify(m, sig, sig_len, (const unsigned char *)tok,
                         (size_t)(dot - tok)) == 1;
done:
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    EVP_PKEY_free(pk);
    EVP_MD_CTX_free(m);
    ERR_clear_error();
    return ok_;
}

static char *
sign_with(const char *priv, int alg, const json_t *claims)
{
    char path[4200], *tok = NULL;
    jwtrev_signkey *sk;
    jwtrev_error err;

    fixture(priv, path, sizeof(path));
    if (jwtrev_signkey_load(path, 0, alg, &sk, &err) != 0 ||
        jwtrev_sign(sk, NULL, claims, &tok, &err) != 0)
        abort();
    jwtrev_signkey_free(sk);
    return tok;
}

static void
test_formats(void)
{
    json_t *claims = json_pack("{s:s, s:[s,s], s:f}", "sub", "b\xc3\xa9", "aud",
                               "a", "b", "x", 1.5);
    char *tok, *payload, *want = json_dumps(claims, JSON_COMPACT);
    int i;

    for (i = 0; i < 20; i++) { /* r and s often start with a zero byte */
        tok = sign_with("ec521.pem", -1, claims);
        if (!raw_evp_verify("ec521.pub.pem", tok, "SHA512", 0, 66))
            break;
        free(tok);
    }
    ok(i == 20, "20 ES512 signatures are 132-byte r||s that raw EVP verifies");
    if (i < 20)
        free(tok);
    tok = sign_with("ec256.pem", -1, claims);
    ok(raw_evp_verify("ec256.pub.pem", tok, "SHA256", 0, 32),
       "ES256: 64-byte r||s that raw EVP verifies");
    payload = segment(tok, 1);
    ok(strcmp(payload, want) == 0 && strchr(payload, ' ') == NULL,
       "the payload is the claims as compact JSON: %s", payload);
    free(payload);
    free(tok);
    tok = sign_with("rsa2048.pem", A(PS384), claims);
    ok(raw_evp_verify("rsa2048.pub.pem", tok, "SHA384", 48, 0),
       "PS384: raw EVP with salt length 48 verifies");
    ok(!raw_evp_verify("rsa2048.pub.pem", tok, "SHA384", 32, 0),
       "PS384: raw EVP with salt length 32 does not");
    free(tok);
    free(want);
    json_decref(claims);
}

static void
test_sign_errors(void)
{
    char path[4200], *tok = NULL;
    jwtrev_signkey *sk;
    jwtrev_error err;
    json_t *arr = json_array();
    json_t *obj = json_object();

    fixture("hs256.bin", path, sizeof(path));
    if (jwtrev_signkey_load(path, JWTREV_SIGNKEY_SECRET, -1, &sk, &err) != 0)
        abort();
    ok(jwtrev_sign(sk, NULL, arr, &tok, &err) == -JWTREV_ERR_BAD_CLAIMS &&
           tok == NULL,
       "claims that are not an object are refused");
    ok(jwtrev_sign(sk, "k\xff", obj, &tok, &err) == -JWTREV_ERR_CONFIG_ERROR &&
           tok == NULL,
       "a kid that is not UTF-8 is refused");
    ok(jwtrev_sign(sk, "k\"1", obj, &tok, &err) == 0 &&
           strncmp(tok,
                   "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImtcIjEifQ.",
                   54) == 0,
       "a kid is JSON-escaped in the header");
    free(tok);
    jwtrev_signkey_free(sk);
    jwtrev_signkey_free(NULL);
    json_decref(arr);
    json_decref(obj);
}

int
main(void)
{
    const char *top = getenv("top_srcdir");
    jwtrev_policy *pol = NULL;
    jwtrev_error err;
    jwtrev_conf conf;
    size_t i;

    if (top == NULL) {
        printf("Bail out! top_srcdir is not set\n");
        return 1;
    }
    snprintf(datadir, sizeof(datadir), "%s/tests/data/keys", top);
    jwtrev_conf_init(&conf);
    if (jwtrev_policy_new(&conf, &pol, &err) != 0) {
        printf("Bail out! %s\n", err.detail);
        return 1;
    }
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run_case(&cases[i], pol);
    test_refused();
    test_formats();
    test_sign_errors();
    jwtrev_policy_free(pol);
    jwtrev_conf_free(&conf);
    return tap_done();
}
