/*
 * jwsfix.c - the JWS tests' fixture (see jwsfix.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "jwsfix.h"

struct fixture fx;

void
tok_die(const char *what)
{
    fprintf(stderr, "Bail out! %s\n", what);
    printf("Bail out! %s\n", what);
    abort();
}

/* base64url of n bytes; the caller frees it. */
char *
tok_b64(const void *p, size_t n)
{
    char *s = malloc(jwtrevp_b64url_enclen(n) + 1);

    if (s == NULL)
        tok_die("out of memory");
    jwtrevp_b64url_encode(p, n, s);
    return s;
}

static const EVP_MD *
tok_md(jwtrev_alg alg)
{
    switch (alg) {
    case JWTREV_ALG_HS384:
    case JWTREV_ALG_RS384:
    case JWTREV_ALG_PS384:
    case JWTREV_ALG_ES384:
        return EVP_sha384();
    case JWTREV_ALG_HS512:
    case JWTREV_ALG_RS512:
    case JWTREV_ALG_PS512:
    case JWTREV_ALG_ES512:
        return EVP_sha512();
    case JWTREV_ALG_EDDSA:
        return NULL;
    default:
        return EVP_sha256();
    }
}

/* ECDSA DER -> raw r||s of 2 * field bytes. */
static size_t
tok_der_to_raw(const unsigned char *der, size_t len, size_t half,
               unsigned char *out)
{
    const unsigned char *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);
    const BIGNUM *r, *s;

    if (es == NULL)
        tok_die("d2i_ECDSA_SIG");
    ECDSA_SIG_get0(es, &r, &s);
    BN_bn2binpad(r, out, (int)half);
    BN_bn2binpad(s, out + half, (int)half);
    ECDSA_SIG_free(es);
    return 2 * half;
}

static size_t
tok_ec_half(jwtrev_alg alg)
{
    return alg == JWTREV_ALG_ES256 ? 32 : alg == JWTREV_ALG_ES384 ? 48 : 66;
}

/* Sign msg; returns the signature length written to sig (>= 1024 bytes). */
static size_t
tok_sign_bytes(const struct signer *s, const char *msg, size_t msg_len,
               unsigned char *sig)
{
    unsigned char der[1200];
    size_t n = sizeof(der);
    EVP_MD_CTX *ctx;
    EVP_PKEY_CTX *pctx = NULL;

    if (s->secret != NULL) {
        if (EVP_Q_mac(NULL, "HMAC", NULL, EVP_MD_get0_name(tok_md(s->alg)),
                      NULL, s->secret, s->secret_len,
                      (const unsigned char *)msg, msg_len, sig, 64, &n) == NULL)
            tok_die("HMAC");
        return n;
    }
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL ||
        EVP_DigestSignInit(ctx, &pctx, tok_md(s->alg), NULL, s->pkey) != 1)
        tok_die("EVP_DigestSignInit");
    if (s->alg >= JWTREV_ALG_PS256 && s->alg <= JWTREV_ALG_PS512 &&
        (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1))
        tok_die("PSS parameters");
    if (EVP_DigestSign(ctx, der, &n, (const unsigned char *)msg, msg_len) != 1)
        tok_die("EVP_DigestSign");
    EVP_MD_CTX_free(ctx);
    if (s->alg >= JWTREV_ALG_ES256 && s->alg <= JWTREV_ALG_ES512 && !s->der)
        return tok_der_to_raw(der, n, tok_ec_half(s->alg), sig);
    memcpy(sig, der, n);
    return n;
}

/*
 * header JSON . payload bytes . signature by s (NULL: the given junk
 * signature text, which may be empty).  The caller frees the token.
 */
char *
tok_make(const char *hdr, const void *payload, size_t payload_len,
         const struct signer *s, const char *junk_sig)
{
    unsigned char sig[1200];
    char *h = tok_b64(hdr, strlen(hdr));
    char *p = tok_b64(payload, payload_len);
    char *sgn, *tok;
    size_t n, len;

    len = strlen(h) + 1 + strlen(p);
    tok = malloc(len + 1 + 2000);
    if (tok == NULL)
        tok_die("out of memory");
    sprintf(tok, "%s.%s", h, p);
    if (s != NULL) {
        n = tok_sign_bytes(s, tok, len, sig);
        sgn = tok_b64(sig, n);
    } else {
        sgn = strdup(junk_sig);
    }
    sprintf(tok + len, ".%s", sgn);
    free(h);
    free(p);
    free(sgn);
    return tok;
}

/* The same with a JSON text payload. */
char *
tok_json(const char *hdr, const char *payload, const struct signer *s)
{
    return tok_make(hdr, payload, strlen(payload), s, "");
}

/* A fresh key: "RSA" (2048 bits), "P-256", "P-384", "P-521", "ED25519". */
static EVP_PKEY *
tok_keygen(const char *what)
{
    EVP_PKEY *k;

    if (strcmp(what, "RSA") == 0)
        k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    else if (strcmp(what, "ED25519") == 0)
        k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    else
        k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", what);
    if (k == NULL)
        tok_die("keygen");
    return k;
}

/* The public key as PEM text; the caller frees it. */
static char *
tok_public_pem(EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data, *s;
    long n;

    if (b == NULL || PEM_write_bio_PUBKEY(b, k) != 1)
        tok_die("PEM_write_bio_PUBKEY");
    n = BIO_get_mem_data(b, &data);
    s = strndup(data, (size_t)n);
    BIO_free(b);
    return s;
}

/* Write text to dir/name; returns the path (caller frees). */
static char *
tok_write(const char *dir, const char *name, const char *text)
{
    char *path = malloc(strlen(dir) + strlen(name) + 2);
    FILE *f;

    sprintf(path, "%s/%s", dir, name);
    f = fopen(path, "w");
    if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
        tok_die("writing a key file");
    return path;
}

/* An oct JWK for secret (with kid and alg when not NULL). */
static char *
tok_oct_jwk(const unsigned char *secret, size_t len, const char *kid,
            const char *alg)
{
    char *k = tok_b64(secret, len);
    char *s = malloc(strlen(k) + 200);

    sprintf(s, "{\"kty\":\"oct\",\"k\":\"%s\"%s%s%s%s%s%s}", k,
            kid ? ",\"kid\":\"" : "", kid ? kid : "", kid ? "\"" : "",
            alg ? ",\"alg\":\"" : "", alg ? alg : "", alg ? "\"" : "");
    free(k);
    return s;
}

/* An RSA public JWK of k with kid and alg. */
static char *
tok_rsa_jwk(EVP_PKEY *k, const char *kid, const char *alg)
{
    BIGNUM *n = NULL, *e = NULL;
    unsigned char nb[1024], eb[16];
    char *n64, *e64, *s;
    int nl, el;

    if (EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
        EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e) != 1)
        tok_die("RSA parameters");
    nl = BN_bn2bin(n, nb);
    el = BN_bn2bin(e, eb);
    n64 = tok_b64(nb, (size_t)nl);
    e64 = tok_b64(eb, (size_t)el);
    s = malloc(strlen(n64) + 200);
    sprintf(s,
            "{\"kty\":\"RSA\",\"kid\":\"%s\",\"alg\":\"%s\",\"n\":\"%s\","
            "\"e\":\"%s\"}",
            kid, alg, n64, e64);
    BN_free(n);
    BN_free(e);
    free(n64);
    free(e64);
    return s;
}

/* ---- the fixture ----------------------------------------------------------
 */

static const unsigned char k1[32] = "k1: thirty-two bytes of secret!";
static const unsigned char k2[32] = "k2: another 32-byte HMAC secret";
static const unsigned char k3[48] =
    "k3: forty-eight bytes of secret for HS384 tests";
static const unsigned char attack[32] = "an attacker's own 32-byte secret";

static void
add_key(char *text, const char *name)
{
    jwtrev_error err;

    if (jwtrev_keyring_add_mem(fx.kr, text, strlen(text), name, &err) != 0)
        tok_die(err.detail);
    free(text);
}

/* Ring order: k1, k2, k3, rsa1, ps1, P-256, P-384, Ed25519. */
static void
setup_keys(void)
{
    char *path, spec[600];
    jwtrev_error err;

    fx.rsa = tok_keygen("RSA");
    fx.ec = tok_keygen("P-256");
    fx.ec384 = tok_keygen("P-384");
    fx.ed = tok_keygen("ED25519");
    fx.rsa_pem = tok_public_pem(fx.rsa);
    if (jwtrev_keyring_new(JWTREV_ALGSET_ALL, &fx.kr) != 0)
        tok_die("keyring");
    add_key(tok_oct_jwk(k1, sizeof(k1), "k1", "HS256"), "k1");
    add_key(tok_oct_jwk(k2, sizeof(k2), NULL, "HS256"), "k2");
    add_key(tok_oct_jwk(k3, sizeof(k3), "k3", "HS384"), "k3");
    path = tok_write(fx.dir, "rsa.pem", fx.rsa_pem);
    snprintf(spec, sizeof(spec), "rsa1#%s", path);
    if (jwtrev_keyring_add_file(fx.kr, spec, &err) != 0)
        tok_die(err.detail);
    unlink(path);
    free(path);
    add_key(tok_rsa_jwk(fx.rsa, "ps1", "PS256"), "ps1");
    add_key(tok_public_pem(fx.ec), "ec");
    add_key(tok_public_pem(fx.ec384), "ec384");
    add_key(tok_public_pem(fx.ed), "ed");
}

static void
setup_signers(void)
{
    struct signer *sg = fx.sg;

    sg[S_K1] = (struct signer){JWTREV_ALG_HS256, k1, sizeof(k1), NULL, 0};
    sg[S_K2] = (struct signer){JWTREV_ALG_HS256, k2, sizeof(k2), NULL, 0};
    sg[S_K3] = (struct signer){JWTREV_ALG_HS384, k3, sizeof(k3), NULL, 0};
    sg[S_K1_384] = (struct signer){JWTREV_ALG_HS384, k1, sizeof(k1), NULL, 0};
    sg[S_ATTACK] =
        (struct signer){JWTREV_ALG_HS256, attack, sizeof(attack), NULL, 0};
    sg[S_PEMHMAC] =
        (struct signer){JWTREV_ALG_HS256, (const unsigned char *)fx.rsa_pem,
                        strlen(fx.rsa_pem), NULL, 0};
    sg[S_RS256] = (struct signer){JWTREV_ALG_RS256, NULL, 0, fx.rsa, 0};
    sg[S_RS512] = (struct signer){JWTREV_ALG_RS512, NULL, 0, fx.rsa, 0};
    sg[S_PS256] = (struct signer){JWTREV_ALG_PS256, NULL, 0, fx.rsa, 0};
    sg[S_ES256] = (struct signer){JWTREV_ALG_ES256, NULL, 0, fx.ec, 0};
    sg[S_ESDER] = (struct signer){JWTREV_ALG_ES256, NULL, 0, fx.ec, 1};
    sg[S_ES384] = (struct signer){JWTREV_ALG_ES384, NULL, 0, fx.ec384, 0};
    sg[S_ED] = (struct signer){JWTREV_ALG_EDDSA, NULL, 0, fx.ed, 0};
}

static void
setup_policies(void)
{
    static const char *const words[P_COUNT] = {NULL, "alg=ES256", "typ=at+jwt"};
    jwtrev_conf c;
    int i;

    for (i = 0; i < P_COUNT; i++) {
        jwtrev_conf_init(&c);
        if ((words[i] != NULL && jwtrev_conf_set_word(&c, words[i], NULL)) ||
            jwtrev_policy_new(&c, &fx.pol[i], NULL) != 0)
            tok_die("policy");
        jwtrev_conf_free(&c);
    }
}

void
fix_setup(void)
{
    strcpy(fx.dir, "/tmp/jwtrev-test.XXXXXX");
    if (mkdtemp(fx.dir) == NULL)
        tok_die("mkdtemp");
    setup_keys();
    setup_signers();
    setup_policies();
}

void
fix_teardown(void)
{
    int i;

    for (i = 0; i < P_COUNT; i++)
        jwtrev_policy_free(fx.pol[i]);
    jwtrev_keyring_free(fx.kr);
    EVP_PKEY_free(fx.rsa);
    EVP_PKEY_free(fx.ec);
    EVP_PKEY_free(fx.ec384);
    EVP_PKEY_free(fx.ed);
    free(fx.rsa_pem);
    rmdir(fx.dir);
}

/* ---- checked verification -------------------------------------------------
 */

static struct fix_counts inv;

/* 1 when s holds 12 consecutive bytes of one segment of the token. */
static int
leaks(const char *s, const char *token, size_t len)
{
    char piece[13];
    size_t i;

    for (i = 0; i + 12 <= len; i += 3) {
        memcpy(piece, token + i, 12);
        piece[12] = '\0';
        if (strlen(piece) == 12 && strchr(piece, '.') == NULL &&
            strstr(s, piece) != NULL)
            return 1;
    }
    return 0;
}

int
fix_verify(int policy, const char *token, size_t len, unsigned flags,
           jwtrev_token *out, jwtrev_error *err)
{
    jwtrev_token sentinel;
    int rc;

    memset(out, 0xa5, sizeof(*out));
    memset(&sentinel, 0xa5, sizeof(sentinel));
    rc = jwtrev_verify(fx.pol[policy], fx.kr, token, len, FIX_NOW, flags, out,
                       err);
    inv.calls++;
    if (ERR_peek_error() != 0) {
        inv.queue_dirty++;
        ERR_clear_error();
    }
    if (rc != 0 && memcmp(out, &sentinel, sizeof(sentinel)) != 0)
        inv.out_touched++;
    if (rc != 0)
        memset(out, 0, sizeof(*out));
    if (leaks(err->detail, token, len) || leaks(err->logid, token, len))
        inv.leaked++;
    return rc;
}

const struct fix_counts *
fix_counts(void)
{
    return &inv;
}
