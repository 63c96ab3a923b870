/*
 * sign.c - issue compact JWS tokens (jwtrev sign, tests): private keys in
 * PEM (PKCS#8 or traditional) or as a JWK with private members, or a raw
 * HMAC secret file.  A signing key meets the verification loader's rules,
 * so that jwtrev never issues a token its own verifier would refuse.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "keyp.h"

struct jwtrev_signkey {
    jwtrev_alg alg;
    EVP_PKEY *pkey;        /* asymmetric algorithms */
    unsigned char *secret; /* HS* */
    size_t secret_len;
    EVP_MD *md; /* NULL for EdDSA */
};

/* Never prompt for a passphrase: encrypted keys are refused instead. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
    return -1;
}

static int
pem_private(const char *data, size_t len, const jwtrevp_loadctx *lc,
            EVP_PKEY **out)
{
    BIO *bio = BIO_new_mem_buf(data, (int)len);
    EVP_PKEY *pk;

    if (bio == NULL)
        return jwtrev_fail(lc->err, JWTREV_ERR_INTERNAL, "out of memory");
    pk = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    BIO_free(bio);
    if (pk != NULL) {
        *out = pk;
        return 0;
    }
    if (strstr(data, "ENCRYPTED") != NULL)
        return jwtrevp_refuse(lc, "encrypted private keys are not supported");
    if (strstr(data, "PRIVATE KEY-----") == NULL)
        return jwtrevp_refuse(lc, "public key given where a private key is "
                                  "expected");
    return jwtrevp_refuse(lc, "unreadable private key");
}

static int sign_bytes(const jwtrev_signkey *k, const unsigned char *msg,
                      size_t len, unsigned char *sig, size_t *sig_len);

/*
 * Sign and verify a fixed text once, so that a JWK whose private and
 * public members do not belong together is refused at load.
 */
static int
pairwise_ok(const jwtrev_signkey *k)
{
    static const unsigned char msg[] = "jwtrev pairwise consistency test";
    unsigned char sig[1024];
    size_t sig_len = sizeof(sig);
    jwtrevp_key vk = {0};
    int ok;

    vk.alg = k->alg;
    vk.pkey = k->pkey;
    if (!EVP_PKEY_up_ref(vk.pkey))
        return 0;
    ok = jwtrevp_key_prepare(&vk) == 0 &&
         sign_bytes(k, msg, sizeof(msg), sig, &sig_len) == 0 &&
         jwtrevp_sig_verify(&vk, msg, sizeof(msg), sig, sig_len) == 0;
    jwtrevp_key_clear(&vk);
    return ok;
}

/* Read the key material of path into k; *type and *jwk_alg (or -1). */
static int
load_material(const char *data, size_t len, unsigned flags,
              const jwtrevp_loadctx *lc, jwtrev_signkey *k,
              jwtrevp_keytype *type, int *jwk_alg)
{
    json_t *jwk = NULL;
    int rc;

    *jwk_alg = -1;
    if (flags & JWTREV_SIGNKEY_SECRET) {
        *type = JWTREVP_KT_SECRET;
        jwtrevp_secret_trim(data, &len);
        rc = jwtrevp_secret_check((const unsigned char *)data, len, lc);
        if (rc == 0 && (k->secret = OPENSSL_memdup(data, len)) == NULL)
            rc = jwtrev_fail(lc->err, JWTREV_ERR_INTERNAL, "out of memory");
        k->secret_len = len;
        return rc;
    }
    if (len > 0 && data[strspn(data, " \t\r\n")] == '{') {
        if (jwtrevp_json_parse_object(data, len, &jwk) != 0)
            return jwtrevp_refuse(lc, "not valid JSON (strict: UTF-8, no "
                                      "duplicate members)");
        rc = jwtrevp_jwk_private(jwk, lc, &k->pkey, &k->secret, &k->secret_len,
                                 type, jwk_alg);
        json_decref(jwk);
        return rc;
    }
    if (strstr(data, "-----BEGIN ") == NULL)
        return jwtrevp_refuse(lc, "neither a PEM private key nor a JWK");
    if ((rc = pem_private(data, len, lc, &k->pkey)) != 0)
        return rc;
    return jwtrevp_pkey_type(k->pkey, lc, type);
}

/* The algorithm: the one asked for, else the JWK's, else the default. */
static int
choose_alg(int alg, int jwk_alg, jwtrevp_keytype type,
           const jwtrevp_loadctx *lc, jwtrev_alg *out)
{
    if (alg >= JWTREV_ALG_COUNT)
        return jwtrevp_refuse(lc, "unknown algorithm");
    if (alg >= 0 && jwk_alg >= 0 && alg != jwk_alg)
        return jwtrevp_refuse(lc, "the JWK is for %s, not %s",
                              jwtrev_alg_name((jwtrev_alg)jwk_alg),
                              jwtrev_alg_name((jwtrev_alg)alg));
    if (alg < 0)
        alg = jwk_alg;
    if (alg < 0)
        alg = (int)jwtrevp_alg_default(type);
    if (!jwtrevp_alg_fits((jwtrev_alg)alg, type))
        return jwtrevp_refuse(lc, "alg %s does not fit the %s key",
                              jwtrev_alg_name((jwtrev_alg)alg),
                              jwtrevp_keytype_name(type));
    *out = (jwtrev_alg)alg;
    return 0;
}

int
jwtrev_signkey_load(const char *path, unsigned flags, int alg,
                    jwtrev_signkey **out, jwtrev_error *err)
{
    jwtrevp_loadctx lc = {path, NULL, JWTREV_ALGSET_ALL, 0, err, NULL, NULL};
    const jwtrevp_alginfo *ai;
    jwtrev_signkey *k = OPENSSL_zalloc(sizeof(*k));
    jwtrevp_keytype type;
    char *data = NULL;
    size_t len = 0;
    int rc, jwk_alg;

    if (k == NULL)
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    if ((rc = jwtrevp_read_file(path, JWTREVP_KEY_FILE_MAX, &data, &len,
                                err)) != 0 ||
        (rc = load_material(data, len, flags, &lc, k, &type, &jwk_alg)) != 0 ||
        (rc = choose_alg(alg, jwk_alg, type, &lc, &k->alg)) != 0)
        goto done;
    ai = jwtrevp_alg_info(k->alg);
    if (type == JWTREVP_KT_SECRET && k->secret_len < ai->md_len) {
        rc = jwtrevp_refuse(&lc,
                            "%s key of %zu bytes is shorter than the "
                            "%zu-byte hash",
                            ai->name, k->secret_len, ai->md_len);
        goto done;
    }
    if (ai->md != NULL && (k->md = EVP_MD_fetch(NULL, ai->md, NULL)) == NULL) {
        rc = jwtrev_fail(err, JWTREV_ERR_INTERNAL, "no %s in OpenSSL", ai->md);
        goto done;
    }
    if (k->pkey != NULL && !pairwise_ok(k)) {
        rc = jwtrevp_refuse(&lc, "the private and public parts of the key do "
                                 "not match");
        goto done;
    }
    *out = k;
    k = NULL;
done:
    if (data != NULL)
        OPENSSL_clear_free(data, len + 1);
    jwtrev_signkey_free(k);
    ERR_clear_error();
    return rc;
}

jwtrev_alg
jwtrev_signkey_alg(const jwtrev_signkey *k)
{
    return k->alg;
}

void
jwtrev_signkey_free(jwtrev_signkey *k)
{
    if (k == NULL)
        return;
    EVP_PKEY_free(k->pkey);
    OPENSSL_clear_free(k->secret, k->secret_len);
    EVP_MD_free(k->md);
    OPENSSL_free(k);
}

/*
 * s > n/2 becomes n - s, which verifies as well: RFC 8812 does not ask for
 * it, but verifiers built on libsecp256k1 accept only the low form.
 */
static int
low_s(BIGNUM *s, jwtrev_alg alg, size_t half)
{
    BIGNUM *n = BN_bin2bn(jwtrevp_ec_order(alg), (int)half, NULL);
    BIGNUM *h = BN_new();
    int ok = n != NULL && h != NULL && BN_rshift1(h, n) &&
             (BN_cmp(s, h) <= 0 || BN_sub(s, n, s));

    BN_free(n);
    BN_free(h);
    return ok;
}

/* JOSE wants r||s, each left-padded to the field length; OpenSSL gives DER. */
static int
ecdsa_from_der(const unsigned char *der, size_t der_len, jwtrev_alg alg,
               size_t half, unsigned char *sig)
{
    const unsigned char *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    BIGNUM *s = es != NULL ? BN_dup(ECDSA_SIG_get0_s(es)) : NULL;
    int ok = s != NULL && (alg != JWTREV_ALG_ES256K || low_s(s, alg, half)) &&
             BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, (int)half) == (int)half &&
             BN_bn2binpad(s, sig + half, (int)half) == (int)half;

    BN_free(s);
    ECDSA_SIG_free(es);
    return ok ? 0 : -1;
}

/* Sign msg into sig (room for *sig_len bytes); sets *sig_len. */
static int
sign_bytes(const jwtrev_signkey *k, const unsigned char *msg, size_t len,
           unsigned char *sig, size_t *sig_len)
{
    const jwtrevp_alginfo *ai = jwtrevp_alg_info(k->alg);
    unsigned char der[3 + 2 * (3 + 66)];
    EVP_MD_CTX *mctx = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    size_t out_len;
    int ok;

    if (ai->family == JWTREVP_FAM_HMAC)
        return EVP_Q_mac(NULL, "HMAC", NULL, ai->md, NULL, k->secret,
                         k->secret_len, msg, len, sig, *sig_len,
                         sig_len) != NULL
                   ? 0
                   : -1;
    if (ai->family == JWTREVP_FAM_ECDSA && *sig_len < ai->sig_len)
        return -1;
    out_len = ai->family == JWTREVP_FAM_ECDSA ? sizeof(der) : *sig_len;
    ok = (mctx = EVP_MD_CTX_new()) != NULL &&
         EVP_DigestSignInit_ex(mctx, &pctx, ai->md, NULL, NULL, k->pkey,
                               NULL) == 1 &&
         jwtrevp_rsa_params(pctx, k->alg, k->md) &&
         EVP_DigestSign(mctx, ai->family == JWTREVP_FAM_ECDSA ? der : sig,
                        &out_len, msg, len) == 1;
    EVP_MD_CTX_free(mctx);
    if (!ok)
        return -1;
    if (ai->family == JWTREVP_FAM_ECDSA) {
        *sig_len = ai->sig_len;
        return ecdsa_from_der(der, out_len, k->alg, ai->sig_len / 2, sig);
    }
    *sig_len = out_len;
    return 0;
}

/* base64url(a) "." base64url(b) as a new string; NULL when out of memory. */
static char *
join_b64(const unsigned char *a, size_t alen, const unsigned char *b,
         size_t blen)
{
    size_t ea = jwtrevp_b64url_enclen(alen), eb = jwtrevp_b64url_enclen(blen);
    char *s = OPENSSL_malloc(ea + 1 + eb + 1);

    if (s == NULL)
        return NULL;
    jwtrevp_b64url_encode(a, alen, s);
    s[ea] = '.';
    jwtrevp_b64url_encode(b, blen, s + ea + 1);
    return s;
}

/* The signing input: base64url(header) "." base64url(compact claims). */
static int
signing_input(const jwtrev_signkey *k, const char *kid, const json_t *claims,
              char **out, jwtrev_error *err)
{
    json_t *hdr =
        json_pack("{s:s, s:s}", "alg", jwtrev_alg_name(k->alg), "typ", "JWT");
    char *h = NULL, *p = NULL;
    int rc = -JWTREV_ERR_INTERNAL;

    if (hdr == NULL)
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    if (kid != NULL && json_object_set_new(hdr, "kid", json_string(kid)) != 0) {
        rc = jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                         "the kid is not valid UTF-8");
        goto done;
    }
    h = json_dumps(hdr, JSON_COMPACT);
    p = json_dumps(claims, JSON_COMPACT);
    if (h == NULL || p == NULL ||
        (*out = join_b64((unsigned char *)h, strlen(h), (unsigned char *)p,
                         strlen(p))) == NULL) {
        rc = jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
        goto done;
    }
    rc = 0;
done:
    free(h);
    free(p);
    json_decref(hdr);
    return rc;
}

int
jwtrev_sign(const jwtrev_signkey *k, const char *kid, const json_t *claims,
            char **out, jwtrev_error *err)
{
    unsigned char sig[1024]; /* an 8192-bit RSA signature */
    size_t sig_len = sizeof(sig), si_len, enc;
    char *si = NULL, *tok = NULL;
    int rc;

    if (!json_is_object(claims))
        return jwtrev_fail(err, JWTREV_ERR_BAD_CLAIMS,
                           "the claims are not a JSON object");
    if ((rc = signing_input(k, kid, claims, &si, err)) != 0)
        return rc;
    si_len = strlen(si);
    if (sign_bytes(k, (unsigned char *)si, si_len, sig, &sig_len) != 0) {
        rc = jwtrev_fail(err, JWTREV_ERR_INTERNAL, "signing failed");
        goto done;
    }
    enc = jwtrevp_b64url_enclen(sig_len);
    if ((tok = malloc(si_len + 1 + enc + 1)) == NULL) { /* caller frees */
        rc = jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
        goto done;
    }
    memcpy(tok, si, si_len);
    tok[si_len] = '.';
    jwtrevp_b64url_encode(sig, sig_len, tok + si_len + 1);
    *out = tok;
done:
    OPENSSL_free(si);
    ERR_clear_error();
    return rc;
}
