/*
 * sig.c - verify a JWS signature over the signing input with one bound key
 * (SECURITY 18-23).  Lengths are checked before OpenSSL sees anything;
 * only an explicit 1 from OpenSSL accepts; the OpenSSL error queue is left
 * empty, so one failure never leaks into another thread's or call's view.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include "keyp.h"

/*
 * The group orders n of P-256, P-384 and P-521 (SEC 2 v2, FIPS 186-4
 * D.1.2), big-endian in the field length of each curve; test_sig checks
 * them against OpenSSL's.
 */
static const unsigned char order_p256[32] = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17,
    0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
};
static const unsigned char order_p384[48] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf, 0x58, 0x1a, 0x0d, 0xb2,
    0x48, 0xb0, 0xa7, 0x7a, 0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73,
};
static const unsigned char order_p521[66] = {
    0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xfa, 0x51, 0x86, 0x87, 0x83, 0xbf, 0x2f, 0x96, 0x6b, 0x7f, 0xcc,
    0x01, 0x48, 0xf7, 0x09, 0xa5, 0xd0, 0x3b, 0xb5, 0xc9, 0xb8, 0x89,
    0x9c, 0x47, 0xae, 0xbb, 0x6f, 0xb7, 0x1e, 0x91, 0x38, 0x64, 0x09,
};

/* secp256k1 (SEC 2 v2, 2.4.1). */
static const unsigned char order_k256[32] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
    0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
};

/* L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
static const unsigned char ed25519_l[32] = {
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
    0xa2, 0xde, 0xf9, 0xde, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
};

/* Ed448's L = 2^446 - 1381806680989511535200738674851542688033669247488217
 *8609894547503885 (RFC 8032 5.2), little-endian in 57 bytes. */
static const unsigned char ed448_l[57] = {
    0xf3, 0x44, 0x58, 0xab, 0x92, 0xc2, 0x78, 0x23, 0x55, 0x8f, 0xc5, 0x8d,
    0x72, 0xc2, 0x6c, 0x21, 0x90, 0x36, 0xd6, 0xae, 0x49, 0xdb, 0x4e, 0xc4,
    0xe9, 0x23, 0xca, 0x7c, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x3f, 0x00,
};

const unsigned char *
jwtrevp_ec_order(jwtrev_alg alg)
{
    switch (alg) {
    case JWTREV_ALG_ES256:
        return order_p256;
    case JWTREV_ALG_ES384:
        return order_p384;
    case JWTREV_ALG_ES512:
        return order_p521;
    case JWTREV_ALG_ES256K:
        return order_k256;
    default:
        return NULL;
    }
}

static int
verify_hmac(const jwtrevp_key *k, const unsigned char *msg, size_t msg_len,
            const unsigned char *sig)
{
    unsigned char tag[EVP_MAX_MD_SIZE];
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(k->hmac);
    size_t tag_len = 0;
    int rc = -JWTREV_ERR_INTERNAL;

    if (ctx == NULL)
        return rc;
    if (EVP_MAC_update(ctx, msg, msg_len) == 1 &&
        EVP_MAC_final(ctx, tag, &tag_len, sizeof(tag)) == 1 &&
        tag_len == k->sig_len)
        rc = CRYPTO_memcmp(tag, sig, tag_len) == 0 ? 0
                                                   : -JWTREV_ERR_BAD_SIGNATURE;
    EVP_MAC_CTX_free(ctx);
    OPENSSL_cleanse(tag, sizeof(tag));
    return rc;
}

/* 1 when the n-byte big-endian v satisfies 0 < v < order. */
static int
in_range(const unsigned char *v, const unsigned char *order, size_t n)
{
    size_t i;
    unsigned char any = 0;

    for (i = 0; i < n; i++)
        any |= v[i];
    return any != 0 && memcmp(v, order, n) < 0;
}

/* A minimal DER INTEGER of the n-byte big-endian unsigned v at out. */
static size_t
der_integer(unsigned char *out, const unsigned char *v, size_t n)
{
    size_t pad;

    while (n > 1 && v[0] == 0) {
        v++;
        n--;
    }
    pad = v[0] >> 7;
    out[0] = 0x02;
    out[1] = (unsigned char)(n + pad);
    out[2] = 0;
    memcpy(out + 2 + pad, v, n);
    return 2 + pad + n;
}

/*
 * JWS carries r||s (RFC 7518 3.4); OpenSSL takes DER.  Encoding it here,
 * canonically, means no DER ever comes from the token.  At most 66-byte
 * halves: the content stays under 256 bytes.
 */
static size_t
ecdsa_to_der(const unsigned char *sig, size_t half, unsigned char *der)
{
    unsigned char body[2 * (3 + 66)];
    size_t len = der_integer(body, sig, half);
    size_t hdr;

    len += der_integer(body + len, sig + half, half);
    der[0] = 0x30;
    if (len < 0x80) {
        der[1] = (unsigned char)len;
        hdr = 2;
    } else {
        der[1] = 0x81;
        der[2] = (unsigned char)len;
        hdr = 3;
    }
    memcpy(der + hdr, body, len);
    return hdr + len;
}

/*
 * S < L (RFC 8032 5.1.7 and 5.2.7), so that no second encoding of S
 * verifies.  An EdDSA signature is R || S, each half of sig_len bytes,
 * little-endian: 64 bytes for Ed25519, 114 for Ed448.
 */
static int
eddsa_s_ok(const unsigned char *sig, size_t sig_len)
{
    size_t half = sig_len / 2, i;
    const unsigned char *l = half == 32 ? ed25519_l : ed448_l;

    for (i = half; i-- > 0;)
        if (sig[half + i] != l[i])
            return sig[half + i] < l[i];
    return 0;
}

int
jwtrevp_rsa_params(EVP_PKEY_CTX *pctx, jwtrev_alg alg, EVP_MD *md)
{
    const jwtrevp_alginfo *ai = jwtrevp_alg_info(alg);

    if (ai->family == JWTREVP_FAM_RSA)
        return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
    if (ai->family != JWTREVP_FAM_PSS)
        return 1;
    return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) == 1 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, (int)ai->md_len) == 1;
}

/*
 * Copying the prepared context skips what DigestVerifyInit costs per call
 * (a few microseconds: fetching the signature method, building its
 * context).  The copy only reads k->vtpl, which takes it as const, so
 * threads may share it (openssl-threads(7)).
 */
static int
verify_pkey(const jwtrevp_key *k, const unsigned char *msg, size_t msg_len,
            const unsigned char *sig, size_t sig_len)
{
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    int rc = -JWTREV_ERR_INTERNAL;

    if (mctx != NULL && EVP_MD_CTX_copy_ex(mctx, k->vtpl) == 1) {
        /* one-shot: the final step need not keep the context usable */
        EVP_MD_CTX_set_flags(mctx, EVP_MD_CTX_FLAG_FINALISE);
        rc = EVP_DigestVerify(mctx, sig, sig_len, msg, msg_len) == 1
                 ? 0
                 : -JWTREV_ERR_BAD_SIGNATURE;
    }
    EVP_MD_CTX_free(mctx);
    return rc;
}

static int
prepare_hmac(jwtrevp_key *k, const char *md)
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    OSSL_PARAM params[2];
    int ok;

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *)(uintptr_t)md, 0);
    params[1] = OSSL_PARAM_construct_end();
    ok = mac != NULL && (k->hmac = EVP_MAC_CTX_new(mac)) != NULL &&
         EVP_MAC_init(k->hmac, k->secret, k->secret_len, params) == 1;
    EVP_MAC_free(mac);
    return ok;
}

int
jwtrevp_key_prepare(jwtrevp_key *k)
{
    const jwtrevp_alginfo *ai = jwtrevp_alg_info(k->alg);
    EVP_PKEY_CTX *pctx = NULL;
    int ok;

    if (ai->md != NULL && (k->md = EVP_MD_fetch(NULL, ai->md, NULL)) == NULL)
        return -JWTREV_ERR_INTERNAL;
    if (ai->family == JWTREVP_FAM_HMAC) {
        k->sig_len = ai->sig_len;
        ok = prepare_hmac(k, ai->md);
    } else {
        k->sig_len =
            ai->sig_len ? ai->sig_len : (size_t)EVP_PKEY_get_size(k->pkey);
        ok = (k->vtpl = EVP_MD_CTX_new()) != NULL &&
             EVP_DigestVerifyInit(k->vtpl, &pctx, k->md, NULL, k->pkey) == 1 &&
             jwtrevp_rsa_params(pctx, k->alg, k->md);
    }
    ERR_clear_error();
    return ok ? 0 : -JWTREV_ERR_INTERNAL;
}

static int
verify(const jwtrevp_key *k, const unsigned char *msg, size_t msg_len,
       const unsigned char *sig, size_t sig_len)
{
    const jwtrevp_alginfo *ai = jwtrevp_alg_info(k->alg);
    unsigned char der[3 + 2 * (3 + 66)];
    size_t half = sig_len / 2;

    if (sig_len != k->sig_len)
        return -JWTREV_ERR_BAD_SIGNATURE;
    switch (ai->family) {
    case JWTREVP_FAM_HMAC:
        return verify_hmac(k, msg, msg_len, sig);
    case JWTREVP_FAM_ECDSA:
        if (!in_range(sig, jwtrevp_ec_order(k->alg), half) ||
            !in_range(sig + half, jwtrevp_ec_order(k->alg), half))
            return -JWTREV_ERR_BAD_SIGNATURE;
        return verify_pkey(k, msg, msg_len, der, ecdsa_to_der(sig, half, der));
    case JWTREVP_FAM_EDDSA:
        if (!eddsa_s_ok(sig, sig_len))
            return -JWTREV_ERR_BAD_SIGNATURE;
        return verify_pkey(k, msg, msg_len, sig, sig_len);
    default:
        return verify_pkey(k, msg, msg_len, sig, sig_len);
    }
}

int
jwtrevp_sig_verify(const jwtrevp_key *k, const unsigned char *msg,
                   size_t msg_len, const unsigned char *sig, size_t sig_len)
{
    int rc = verify(k, msg, msg_len, sig, sig_len);

    ERR_clear_error();
    return rc;
}
