/*
 * jwk.c - JSON Web Keys (RFC 7517, 7518 section 6, RFC 8037) into keys:
 * a JWK or JWKS as verification keys (public parts only: private members
 * are ignored, never used), and one JWK with private members as a signing
 * key.  Every member is checked for type; base64url must be canonical.
 */
#include "config.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

#include "keyp.h"

#define JWK_MEMBER_MAX 2048 /* decoded bytes: an 8192-bit modulus is 1024 */

/* Which operation a key must allow: "verify" in a ring, "sign" to sign. */
typedef enum { FOR_VERIFY, FOR_SIGN } jwk_purpose;

/* A base64url member, decoded.  *out is NULL when the member is absent. */
static int
b64_member(const json_t *jwk, const char *name, const jwtrevp_loadctx *lc,
           unsigned char **out, size_t *len)
{
    const json_t *v = json_object_get(jwk, name);
    const char *s;
    size_t slen;
    unsigned char *buf;

    *out = NULL;
    *len = 0;
    if (v == NULL)
        return 0;
    if (!json_is_string(v))
        return jwtrevp_refuse(lc, "JWK member \"%s\" is not a string", name);
    s = json_string_value(v);
    slen = json_string_length(v);
    if (jwtrevp_b64url_declen(slen) > JWK_MEMBER_MAX)
        return jwtrevp_refuse(lc, "JWK member \"%s\" is too long", name);
    if ((buf = OPENSSL_malloc(jwtrevp_b64url_declen(slen) + 1)) == NULL)
        return jwtrev_fail(lc->err, JWTREV_ERR_INTERNAL, "out of memory");
    if (jwtrevp_b64url_decode(s, slen, buf, len) != 0) {
        OPENSSL_clear_free(buf, jwtrevp_b64url_declen(slen) + 1);
        return jwtrevp_refuse(lc,
                              "JWK member \"%s\" is not canonical "
                              "base64url",
                              name);
    }
    *out = buf;
    return 0;
}

/* A member that must be present, as b64_member. */
static int
b64_required(const json_t *jwk, const char *name, const jwtrevp_loadctx *lc,
             unsigned char **out, size_t *len)
{
    int rc = b64_member(jwk, name, lc, out, len);

    if (rc == 0 && *out == NULL)
        return jwtrevp_refuse(lc, "JWK member \"%s\" is missing", name);
    return rc;
}

/*
 * 1 when use and key_ops allow the purpose, 0 when they rule it out
 * (SECURITY 15), or a refusal when they are malformed.
 */
static int
purpose_ok(const json_t *jwk, jwk_purpose want, const jwtrevp_loadctx *lc)
{
    const char *op = want == FOR_SIGN ? "sign" : "verify";
    const json_t *use = json_object_get(jwk, "use");
    const json_t *ops = json_object_get(jwk, "key_ops"), *v;
    size_t i;
    int found = 0;

    if (use != NULL && !json_is_string(use))
        return jwtrevp_refuse(lc, "JWK \"use\" is not a string");
    if (ops != NULL && !json_is_array(ops))
        return jwtrevp_refuse(lc, "JWK \"key_ops\" is not an array");
    json_array_foreach(ops, i, v)
    {
        if (!json_is_string(v))
            return jwtrevp_refuse(lc, "JWK \"key_ops\" holds a non-string");
        found |= strcmp(json_string_value(v), op) == 0;
    }
    if (use != NULL && strcmp(json_string_value(use), "sig") != 0)
        return 0;
    return ops == NULL || found;
}

/*
 * 1 when the JWK's alg names a JWE key-management algorithm (RFC 7518
 * 4.1): an encryption key that an identity provider publishes beside its
 * signing keys, without necessarily saying "use":"enc".
 */
static int
alg_is_for_encryption(const json_t *jwk)
{
    static const char *const prefixes[] = {"RSA1_5", "RSA-OAEP", "ECDH-ES",
                                           "PBES2-"};
    static const char *const kw[] = {"KW", "GCMKW"};
    const char *a = json_string_value(json_object_get(jwk, "alg"));
    size_t i, n;

    if (a == NULL)
        return 0;
    if (strcmp(a, "dir") == 0)
        return 1;
    for (i = 0; i < sizeof(prefixes) / sizeof(*prefixes); i++)
        if (strncmp(a, prefixes[i], strlen(prefixes[i])) == 0)
            return 1;
    /* A128KW, A192KW, A256KW, A128GCMKW, ... */
    n = strlen(a);
    for (i = 0; i < sizeof(kw) / sizeof(*kw); i++)
        if (a[0] == 'A' && n > strlen(kw[i]) &&
            strcmp(a + n - strlen(kw[i]), kw[i]) == 0)
            return 1;
    return 0;
}

/* The JWK's alg: a JWS algorithm we know, or -1 when absent. */
static int
jwk_alg(const json_t *jwk, const jwtrevp_loadctx *lc, int *alg)
{
    const json_t *v = json_object_get(jwk, "alg");
    jwtrev_alg a;

    *alg = -1;
    if (v == NULL)
        return 0;
    if (!json_is_string(v))
        return jwtrevp_refuse(lc, "JWK \"alg\" is not a string");
    if (jwtrev_alg_from_name(json_string_value(v), json_string_length(v), &a) !=
        0)
        return jwtrevp_refuse(lc,
                              "JWK alg \"%.20s\" is not a supported "
                              "signature algorithm",
                              json_string_value(v));
    *alg = (int)a;
    return 0;
}

/* ---- RSA ----------------------------------------------------------------- */

/* JWK members and the OpenSSL parameters they become; public ones first. */
static const struct {
    const char *jwk, *param;
} rsa_members[] = {
    {"n", OSSL_PKEY_PARAM_RSA_N},
    {"e", OSSL_PKEY_PARAM_RSA_E},
    {"d", OSSL_PKEY_PARAM_RSA_D},
    {"p", OSSL_PKEY_PARAM_RSA_FACTOR1},
    {"q", OSSL_PKEY_PARAM_RSA_FACTOR2},
    {"dp", OSSL_PKEY_PARAM_RSA_EXPONENT1},
    {"dq", OSSL_PKEY_PARAM_RSA_EXPONENT2},
    {"qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1},
};
#define RSA_ALL_MEMBERS 8

/* A key from params, as a public key or a key pair. */
static int
pkey_fromdata(const char *type, OSSL_PARAM_BLD *bld, int selection,
              EVP_PKEY **out)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    int ok = params != NULL && ctx != NULL &&
             EVP_PKEY_fromdata_init(ctx) == 1 &&
             EVP_PKEY_fromdata(ctx, out, selection, params) == 1;

    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return ok ? 0 : -1;
}

/*
 * nmem members of rsa_members: 2 (public), 3 (n, e, d) or all 8.  The
 * private members are used only when signing (FOR_SIGN).
 */
static int
rsa_key(const json_t *jwk, jwk_purpose want, const jwtrevp_loadctx *lc,
        EVP_PKEY **out)
{
    BIGNUM *bn[RSA_ALL_MEMBERS] = {NULL};
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    size_t i, nmem = 2, len;
    unsigned char *buf = NULL;
    int rc = 0;

    if (want == FOR_SIGN)
        nmem = json_object_get(jwk, "p") != NULL ? RSA_ALL_MEMBERS : 3;
    for (i = 0; rc == 0 && i < nmem; i++) {
        rc = b64_required(jwk, rsa_members[i].jwk, lc, &buf, &len);
        if (rc == 0 &&
            ((bn[i] = BN_bin2bn(buf, (int)len, NULL)) == NULL ||
             !OSSL_PARAM_BLD_push_BN(bld, rsa_members[i].param, bn[i])))
            rc = jwtrev_fail(lc->err, JWTREV_ERR_INTERNAL, "out of memory");
        OPENSSL_clear_free(buf, len);
        buf = NULL;
    }
    if (rc == 0 && (bld == NULL || pkey_fromdata("RSA", bld,
                                                 nmem > 2 ? EVP_PKEY_KEYPAIR
                                                          : EVP_PKEY_PUBLIC_KEY,
                                                 out) != 0))
        rc = jwtrevp_refuse(lc, "invalid RSA JWK");
    for (i = 0; i < RSA_ALL_MEMBERS; i++)
        BN_clear_free(bn[i]);
    OSSL_PARAM_BLD_free(bld);
    return rc;
}

/* ---- EC ------------------------------------------------------------------ */

static const struct {
    const char *crv, *group;
    size_t len; /* bytes of x, y and d */
} ec_curves[] = {
    {"P-256", "prime256v1", 32},
    {"P-384", "secp384r1", 48},
    {"P-521", "secp521r1", 66},
    {"secp256k1", "secp256k1", 32}, /* RFC 8812 3.1 */
};

/* The uncompressed point 04 || x || y of a JWK on curve c. */
static int
ec_point(const json_t *jwk, int c, const jwtrevp_loadctx *lc, unsigned char *pt)
{
    unsigned char *x = NULL, *y = NULL;
    size_t xlen = 0, ylen = 0, flen = ec_curves[c].len;
    int rc;

    rc = b64_required(jwk, "x", lc, &x, &xlen);
    if (rc == 0)
        rc = b64_required(jwk, "y", lc, &y, &ylen);
    if (rc == 0 && (xlen != flen || ylen != flen))
        rc = jwtrevp_refuse(lc, "EC x or y of the wrong length for %s",
                            ec_curves[c].crv);
    if (rc == 0) {
        pt[0] = 0x04;
        memcpy(pt + 1, x, flen);
        memcpy(pt + 1 + flen, y, flen);
    }
    OPENSSL_free(x);
    OPENSSL_free(y);
    return rc;
}

/* The index of crv in ec_curves, or -1. */
static int
ec_curve(const char *crv)
{
    size_t c;

    for (c = 0; crv != NULL && c < sizeof(ec_curves) / sizeof(ec_curves[0]);
         c++)
        if (strcmp(crv, ec_curves[c].crv) == 0)
            return (int)c;
    return -1;
}

static int
ec_key(const json_t *jwk, jwk_purpose want, const jwtrevp_loadctx *lc,
       EVP_PKEY **out)
{
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    unsigned char pt[1 + 2 * 66], *d = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    BIGNUM *bn = NULL;
    int c = ec_curve(crv), rc;
    size_t dlen = 0;

    if (c < 0)
        return jwtrevp_refuse(lc,
                              "EC JWK curve %.20s is not supported "
                              "(P-256, P-384, P-521, secp256k1)",
                              crv ? crv : "(missing)");
    if ((rc = ec_point(jwk, c, lc, pt)) != 0)
        return rc;
    if (want == FOR_SIGN && (rc = b64_required(jwk, "d", lc, &d, &dlen)) != 0)
        return rc;
    if (d != NULL && dlen != ec_curves[c].len) {
        rc = jwtrevp_refuse(lc, "EC d of the wrong length for %s", crv);
        goto done;
    }
    if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
        !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                         ec_curves[c].group, 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt,
                                          1 + 2 * ec_curves[c].len) ||
        (d != NULL &&
         ((bn = BN_bin2bn(d, (int)dlen, NULL)) == NULL ||
          !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, bn)))) {
        rc = jwtrev_fail(lc->err, JWTREV_ERR_INTERNAL, "out of memory");
        goto done;
    }
    if (pkey_fromdata("EC", bld, d ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                      out) != 0)
        rc = jwtrevp_refuse(lc, "EC point is not on the %s curve", crv);
done:
    BN_clear_free(bn);
    OPENSSL_clear_free(d, dlen);
    OSSL_PARAM_BLD_free(bld);
    return rc;
}

/* ---- OKP (RFC 8037) ------------------------------------------------------ */

/* The OKP curves for signatures, their OpenSSL names and key lengths. */
static const struct {
    const char *crv, *type;
    size_t len; /* bytes of x and d */
} okp_curves[] = {
    {"Ed25519", "ED25519", 32},
    {"Ed448", "ED448", 57},
};

static int
okp_key(const json_t *jwk, jwk_purpose want, const jwtrevp_loadctx *lc,
        EVP_PKEY **out)
{
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    unsigned char *x = NULL, *d = NULL, pub[57];
    size_t xlen = 0, dlen = 0, publen = sizeof(pub), c, n;
    EVP_PKEY *pk = NULL;
    int rc;

    for (c = 0; crv != NULL && c < 2; c++)
        if (strcmp(crv, okp_curves[c].crv) == 0)
            break;
    if (crv == NULL || c == 2)
        return jwtrevp_refuse(lc,
                              "OKP curve %.20s is not supported (EdDSA "
                              "means Ed25519 or Ed448; X25519 and X448 are "
                              "for key agreement)",
                              crv ? crv : "(missing)");
    n = okp_curves[c].len;
    rc = b64_required(jwk, "x", lc, &x, &xlen);
    if (rc == 0 && want == FOR_SIGN)
        rc = b64_required(jwk, "d", lc, &d, &dlen);
    if (rc != 0)
        goto done;
    if (xlen != n || (d != NULL && dlen != n)) {
        rc = jwtrevp_refuse(lc, "%s x or d is not %zu bytes", crv, n);
        goto done;
    }
    pk = d ? EVP_PKEY_new_raw_private_key_ex(NULL, okp_curves[c].type, NULL, d,
                                             dlen)
           : EVP_PKEY_new_raw_public_key_ex(NULL, okp_curves[c].type, NULL, x,
                                            xlen);
    if (pk == NULL) {
        rc = jwtrev_fail(lc->err, JWTREV_ERR_INTERNAL, "out of memory");
        goto done;
    }
    if (d != NULL && (!EVP_PKEY_get_raw_public_key(pk, pub, &publen) ||
                      publen != n || CRYPTO_memcmp(pub, x, n) != 0)) {
        rc = jwtrevp_refuse(lc, "%s x does not belong to d", crv);
        goto done;
    }
    *out = pk;
    pk = NULL;
done:
    EVP_PKEY_free(pk);
    OPENSSL_free(x);
    OPENSSL_clear_free(d, dlen);
    return rc;
}

/* ---- one key ------------------------------------------------------------- */

/*
 * The key material of jwk: a checked asymmetric key in *pkey, or for oct
 * the secret in k->secret.  Sets *type.
 */
static int
jwk_material(const json_t *jwk, jwk_purpose want, const jwtrevp_loadctx *lc,
             EVP_PKEY **pkey, jwtrevp_key *k, jwtrevp_keytype *type)
{
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    int rc;

    if (kty == NULL)
        return jwtrevp_refuse(lc, "JWK \"kty\" is missing or not a string");
    if (strcmp(kty, "oct") == 0) {
        *type = JWTREVP_KT_SECRET;
        rc = b64_required(jwk, "k", lc, &k->secret, &k->secret_len);
        if (rc == 0 && k->secret_len == 0)
            rc = jwtrevp_refuse(lc, "empty HMAC key");
        return rc;
    }
    if (strcmp(kty, "RSA") == 0)
        rc = rsa_key(jwk, want, lc, pkey);
    else if (strcmp(kty, "EC") == 0)
        rc = ec_key(jwk, want, lc, pkey);
    else if (strcmp(kty, "OKP") == 0)
        rc = okp_key(jwk, want, lc, pkey);
    else
        rc = jwtrevp_refuse(lc, "JWK kty \"%.20s\" is not supported", kty);
    if (rc == 0)
        rc = jwtrevp_pkey_type(*pkey, lc, type);
    return rc;
}

/* The JWK's kid, or the one of "KID#FILE"; both given must agree. */
static int
jwk_kid(const json_t *jwk, const jwtrevp_loadctx *lc, jwtrevp_key *k)
{
    const json_t *v = json_object_get(jwk, "kid");
    const char *kid = lc->dflt_kid;
    size_t len = kid ? strlen(kid) : 0;

    if (v != NULL) {
        if (!json_is_string(v) || json_string_length(v) == 0 ||
            json_string_length(v) > JWTREVP_KID_MAX)
            return jwtrevp_refuse(lc,
                                  "JWK \"kid\" is not a string of 1 to "
                                  "%d bytes",
                                  JWTREVP_KID_MAX);
        if (kid != NULL && (json_string_length(v) != len ||
                            memcmp(json_string_value(v), kid, len) != 0))
            return jwtrevp_refuse(lc, "the JWK's kid differs from the kid "
                                      "given before '#'");
        kid = json_string_value(v);
        len = json_string_length(v);
    }
    if (kid != NULL && jwtrevp_key_set_kid(k, kid, len) != 0)
        return jwtrev_fail(lc->err, JWTREV_ERR_INTERNAL, "out of memory");
    return 0;
}

/* One verification key. */
static int
jwk_one(const json_t *jwk, jwtrevp_keylist *kl, const jwtrevp_loadctx *lc)
{
    jwtrevp_key k = {0};
    jwtrevp_keytype type;
    int rc, alg;

    if (!json_is_object(jwk))
        return jwtrevp_refuse(lc, "JWK is not a JSON object");
    if ((rc = purpose_ok(jwk, FOR_VERIFY, lc)) < 0)
        return rc;
    if (rc == 0 || alg_is_for_encryption(jwk))
        return jwtrevp_refuse(lc, "key is not meant for signature "
                                  "verification (use, key_ops, alg)");
    if ((rc = jwk_alg(jwk, lc, &alg)) != 0 ||
        (rc = jwk_kid(jwk, lc, &k)) != 0 ||
        (rc = jwk_material(jwk, FOR_VERIFY, lc, &k.pkey, &k, &type)) != 0) {
        jwtrevp_key_clear(&k);
        return rc;
    }
    return jwtrevp_keylist_add(kl, &k, type, alg, lc);
}

/* SECURITY 15: one set never holds both secret and public keys. */
static int
set_is_mixed(const json_t *keys)
{
    const json_t *v;
    const char *kty;
    size_t i;
    int oct = 0, asym = 0;

    json_array_foreach(keys, i, v)
    {
        kty = json_string_value(json_object_get(v, "kty"));
        if (kty != NULL && strcmp(kty, "oct") == 0)
            oct = 1;
        else if (kty != NULL)
            asym = 1;
    }
    return oct && asym;
}

/*
 * 0 when use, key_ops or alg say the key is not for signatures; 1 else,
 * malformed members included (they are refused later, by purpose_ok).
 */
static int
maybe_for_signatures(const json_t *jwk)
{
    const char *use = json_string_value(json_object_get(jwk, "use"));
    const json_t *ops = json_object_get(jwk, "key_ops"), *v;
    size_t i;
    int found = 0;

    if ((use != NULL && strcmp(use, "sig") != 0) || alg_is_for_encryption(jwk))
        return 0;
    if (!json_is_array(ops))
        return 1;
    json_array_foreach(ops, i, v)
    {
        found |=
            !json_is_string(v) || strcmp(json_string_value(v), "verify") == 0;
    }
    return found;
}

/*
 * SECURITY 15-16, decided for tolerant sets: two signature keys with one
 * kid refuse the whole set, even when one of them could not be used, since
 * nothing tells which one the issuer signs with.  Keys for encryption may
 * share a signing key's kid (RFC 7517 4.5 allows it for different uses).
 */
static int
set_dup_kid(const json_t *keys, const jwtrevp_loadctx *lc)
{
    const json_t *a, *b, *ka, *kb;
    size_t i, j;

    json_array_foreach(keys, i, a)
    {
        ka = json_object_get(a, "kid");
        if (!json_is_string(ka) || !maybe_for_signatures(a))
            continue;
        for (j = 0; j < i; j++) {
            b = json_array_get(keys, j);
            kb = json_object_get(b, "kid");
            if (json_is_string(kb) && json_equal(ka, kb) &&
                maybe_for_signatures(b))
                return jwtrevp_refuse(lc,
                                      "duplicate kid \"%.64s\" (keys %zu and "
                                      "%zu): the whole set is refused, a kid "
                                      "must select one key",
                                      json_string_value(ka), j + 1, i + 1);
        }
    }
    return 0;
}

/* The kid of a JWK of a set for texts: printable, at most 64 bytes. */
static const char *
kid_text(const json_t *jwk, char *buf, size_t cap)
{
    const char *kid = json_string_value(json_object_get(jwk, "kid"));
    size_t i, n = kid ? strlen(kid) : 0;

    if (kid == NULL || n == 0)
        return NULL;
    if (n > 64)
        return "(long kid)";
    for (i = 0; i < n && i + 1 < cap; i++)
        buf[i] = kid[i] > 0x20 && kid[i] < 0x7f && kid[i] != '"' ? kid[i] : '?';
    buf[i] = '\0';
    return buf;
}

/*
 * A JWK or JWKS.  In a set, a key that cannot be used is skipped into
 * skips (DESIGN 10); what concerns the whole set refuses it.
 */
int
jwtrevp_jwk_public(const json_t *doc, jwtrevp_keylist *kl, jwtrevp_loadctx *lc,
                   jwtrevp_skips *skips)
{
    const json_t *keys = json_object_get(doc, "keys"), *v;
    char kid[65];
    size_t i;
    int rc = 0;

    if (keys == NULL)
        return jwk_one(doc, kl, lc);
    if (!json_is_array(keys) || json_array_size(keys) == 0)
        return jwtrevp_refuse(lc, "JWKS \"keys\" is not a non-empty array");
    if (set_is_mixed(keys))
        return jwtrevp_refuse(lc, "JWKS mixes symmetric (oct) and "
                                  "asymmetric keys");
    if ((rc = set_dup_kid(keys, lc)) != 0)
        return rc;
    json_array_foreach(keys, i, v)
    {
        lc->index = (unsigned)i + 1;
        lc->kid = kid_text(v, kid, sizeof(kid));
        lc->skips = skips;
        rc = jwk_one(v, kl, lc);
        lc->skips = NULL;
        if (rc == -JWTREV_ERR_CONFIG_ERROR) {
            lc->skips = skips;
            rc = jwtrevp_skip(lc);
            lc->skips = NULL;
        }
        if (rc != 0)
            break;
    }
    lc->index = 0;
    lc->kid = NULL;
    return rc;
}

int
jwtrevp_jwk_private(const json_t *jwk, const jwtrevp_loadctx *lc,
                    EVP_PKEY **pkey, unsigned char **secret, size_t *secret_len,
                    jwtrevp_keytype *type, int *alg)
{
    jwtrevp_key k = {0};
    EVP_PKEY *pk = NULL;
    int rc;

    if (json_object_get(jwk, "keys") != NULL)
        return jwtrevp_refuse(lc, "a JWKS is not a signing key; give one JWK");
    if ((rc = purpose_ok(jwk, FOR_SIGN, lc)) < 0)
        return rc;
    if (rc == 0)
        return jwtrevp_refuse(lc, "key is not meant for signing (use, "
                                  "key_ops)");
    if ((rc = jwk_alg(jwk, lc, alg)) != 0 ||
        (rc = jwk_material(jwk, FOR_SIGN, lc, &pk, &k, type)) != 0)
        goto done;
    *pkey = pk;
    *secret = k.secret;
    *secret_len = k.secret_len;
    pk = NULL;
    k.secret = NULL;
    k.secret_len = 0;
done:
    EVP_PKEY_free(pk);
    jwtrevp_key_clear(&k);
    return rc;
}
