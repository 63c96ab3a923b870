/*
 * test_sig.c - jwtrevp_sig_verify at the edges of SECURITY 18-23: HMAC
 * tags cut or extended, RSA signatures a byte short or long, PSS with
 * another salt length or MGF1 hash, ECDSA in DER, r or s zero or >= n,
 * high-S (accepted), Ed25519 with S >= L; the OpenSSL error queue left
 * empty after every call; and threads sharing the keys (SECURITY 34).
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "jose/keyp.h"
#include "tap.h"

static char datadir[4096];

#define MAXSIG 1200

/* A valid signature over msg, to be bent by a mutation. */
struct sample {
    jwtrev_alg alg;
    const jwtrevp_key *key;
    unsigned char msg[512];
    size_t msg_len;
    unsigned char sig[MAXSIG];
    size_t sig_len;
};

static void
fixture(const char *name, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s", datadir, name);
}

static jwtrev_keyring *rings[64];
static size_t nrings;

/* The verification key of file (or secret file), bound to alg. */
static const jwtrevp_key *
ring_key(const char *file, int secret, jwtrev_alg alg)
{
    char path[4200];
    jwtrev_keyring *kr;
    jwtrev_error err;
    int rc;

    fixture(file, path, sizeof(path));
    if (jwtrev_keyring_new(1u << alg, &kr) != 0 || nrings == 64)
        abort();
    rings[nrings++] = kr;
    rc = secret ? jwtrev_keyring_add_secret_file(kr, path, &err)
                : jwtrev_keyring_add_file(kr, path, &err);
    if (rc != 0) {
        printf("Bail out! %s\n", err.detail);
        exit(1);
    }
    return jwtrevp_keyring_by_alg(kr, alg, 0);
}

/* Sign a token with our signer; split it into signing input and sig. */
static void
make_sample(struct sample *s, const char *priv, int secret, jwtrev_alg alg,
            const jwtrevp_key *key)
{
    char path[4200], *tok = NULL, *dot;
    jwtrev_signkey *sk;
    jwtrev_error err;
    json_t *claims = json_pack("{s:s, s:i}", "sub", "alice", "exp", 2000000000);

    fixture(priv, path, sizeof(path));
    if (jwtrev_signkey_load(path, secret ? JWTREV_SIGNKEY_SECRET : 0, alg, &sk,
                            &err) != 0 ||
        jwtrev_sign(sk, NULL, claims, &tok, &err) != 0) {
        printf("Bail out! %s\n", err.detail);
        exit(1);
    }
    dot = strrchr(tok, '.');
    s->alg = alg;
    s->key = key;
    s->msg_len = (size_t)(dot - tok);
    memcpy(s->msg, tok, s->msg_len);
    if (jwtrevp_b64url_decode(dot + 1, strlen(dot + 1), s->sig, &s->sig_len) !=
        0)
        abort();
    free(tok);
    json_decref(claims);
    jwtrev_signkey_free(sk);
}

/* ---- mutations: each bends s->sig (and may use the key) ------------------ */

typedef void mutate_fn(struct sample *s);

static void
m_none(struct sample *s)
{
}

static void
m_drop_last(struct sample *s)
{
    s->sig_len--;
}

static void
m_append_zero(struct sample *s)
{
    s->sig[s->sig_len++] = 0;
}

static void
m_prepend_zero(struct sample *s)
{
    memmove(s->sig + 1, s->sig, s->sig_len++);
    s->sig[0] = 0;
}

static void
m_flip_last_bit(struct sample *s)
{
    s->sig[s->sig_len - 1] ^= 1;
}

static void
m_empty(struct sample *s)
{
    s->sig_len = 0;
}

static void
m_half(struct sample *s)
{
    s->sig_len /= 2;
}

static void
m_flip_msg(struct sample *s)
{
    s->msg[s->msg_len - 1] ^= 0x01;
}

/* ECDSA: the order n of the sample's curve, as a BIGNUM. */
static BIGNUM *
order_bn(const struct sample *s)
{
    return BN_bin2bn(jwtrevp_ec_order(s->alg), (int)(s->sig_len / 2), NULL);
}

static void
set_half(struct sample *s, int second, const BIGNUM *v)
{
    size_t half = s->sig_len / 2;

    if (BN_bn2binpad(v, s->sig + (second ? half : 0), (int)half) != (int)half)
        abort();
}

static void
m_r_zero(struct sample *s)
{
    memset(s->sig, 0, s->sig_len / 2);
}

static void
m_s_zero(struct sample *s)
{
    memset(s->sig + s->sig_len / 2, 0, s->sig_len / 2);
}

static void
m_r_n(struct sample *s)
{
    BIGNUM *n = order_bn(s);

    set_half(s, 0, n);
    BN_free(n);
}

static void
m_s_n(struct sample *s)
{
    BIGNUM *n = order_bn(s);

    set_half(s, 1, n);
    BN_free(n);
}

/* s -> n - s: the other valid signature; JWS has no low-S rule. */
static void
m_high_s(struct sample *s)
{
    size_t half = s->sig_len / 2;
    BIGNUM *n = order_bn(s), *v = BN_bin2bn(s->sig + half, (int)half, NULL);

    BN_sub(v, n, v);
    set_half(s, 1, v);
    BN_free(n);
    BN_free(v);
}

/* s -> s + n: the same value mod n, out of range. */
static void
m_s_plus_n(struct sample *s)
{
    size_t half = s->sig_len / 2;
    BIGNUM *n = order_bn(s), *v = BN_bin2bn(s->sig + half, (int)half, NULL);

    BN_add(v, v, n);
    if (BN_num_bytes(v) <= (int)half)
        set_half(s, 1, v);
    else
        memset(s->sig + half, 0xff, half); /* still >= n */
    BN_free(n);
    BN_free(v);
}

/* The same signature DER-encoded, as OpenSSL would take it. */
static void
m_der(struct sample *s)
{
    size_t half = s->sig_len / 2;
    ECDSA_SIG *es = ECDSA_SIG_new();
    unsigned char *der = NULL;
    int len;

    ECDSA_SIG_set0(es, BN_bin2bn(s->sig, (int)half, NULL),
                   BN_bin2bn(s->sig + half, (int)half, NULL));
    len = i2d_ECDSA_SIG(es, &der);
    memcpy(s->sig, der, (size_t)len);
    s->sig_len = (size_t)len;
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
}

/* Ed25519: S -> S + L, the same scalar mod L (RFC 8032 malleability). */
static void
m_ed_s_plus_l(struct sample *s)
{
    static const unsigned char l_be[32] = {
        0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x14, 0xde, 0xf9, 0xde, 0xa2, 0xf7,
        0x9c, 0xd6, 0x58, 0x12, 0x63, 0x1a, 0x5c, 0xf5, 0xd3, 0xed,
    };
    BIGNUM *l = BN_bin2bn(l_be, 32, NULL), *v;

    v = BN_lebin2bn(s->sig + 32, 32, NULL);
    BN_add(v, v, l);
    BN_bn2lebinpad(v, s->sig + 32, 32);
    BN_free(l);
    BN_free(v);
}

/* An Ed448 signature cut to an Ed25519 length. */
static void
m_ed448_to_64(struct sample *s)
{
    s->sig_len = 64;
}

/* Ed448: S -> S + L, which still fits the 57 bytes of S (RFC 8032 5.2). */
static void
m_ed448_s_plus_l(struct sample *s)
{
    BIGNUM *l = BN_new(), *c = NULL, *v;

    /* L = 2^446 - c */
    BN_dec2bn(&c, "13818066809895115352007386748515426880336692474882178609894"
                  "547503885");
    BN_set_bit(l, 446);
    BN_sub(l, l, c);
    v = BN_lebin2bn(s->sig + 57, 57, NULL);
    BN_add(v, v, l);
    BN_bn2lebinpad(v, s->sig + 57, 57);
    BN_free(l);
    BN_free(c);
    BN_free(v);
}

/* ---- RSA-PSS signatures made directly with OpenSSL --------------------- */

static void
pss_sign(struct sample *s, int saltlen, const char *mgf1)
{
    char path[4200];
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    EVP_PKEY *pk;
    FILE *f;

    fixture("rsa2048.pem", path, sizeof(path));
    f = fopen(path, "r");
    pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    s->sig_len = MAXSIG;
    if (pk == NULL ||
        EVP_DigestSignInit_ex(mctx, &pctx, "SHA256", NULL, NULL, pk, NULL) !=
            1 ||
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, saltlen) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, mgf1, NULL) != 1 ||
        EVP_DigestSign(mctx, s->sig, &s->sig_len, s->msg, s->msg_len) != 1)
        abort();
    EVP_PKEY_free(pk);
    EVP_MD_CTX_free(mctx);
}

static void
m_pss_salt32(struct sample *s)
{
    pss_sign(s, 32, "SHA256");
}

static void
m_pss_salt0(struct sample *s)
{
    pss_sign(s, 0, "SHA256");
}

static void
m_pss_salt20(struct sample *s)
{
    pss_sign(s, 20, "SHA256");
}

static void
m_pss_salt64(struct sample *s)
{
    pss_sign(s, 64, "SHA256");
}

static void
m_pss_saltmax(struct sample *s)
{
    pss_sign(s, RSA_PSS_SALTLEN_MAX, "SHA256");
}

static void
m_pss_mgf1_sha1(struct sample *s)
{
    pss_sign(s, 32, "SHA1");
}

/* ---- the table ---------------------------------------------------------- */

enum { VALID = 0, BAD = -JWTREV_ERR_BAD_SIGNATURE };

static const struct scase {
    const char *what;
    jwtrev_alg alg;
    int sample; /* index into samples[] */
    mutate_fn *mutate;
    int want;
} cases[] = {
    {"HS256 valid tag", JWTREV_ALG_HS256, 0, m_none, VALID},
    {"HS256 tag cut by one byte (18)", JWTREV_ALG_HS256, 0, m_drop_last, BAD},
    {"HS256 tag cut to half (18)", JWTREV_ALG_HS256, 0, m_half, BAD},
    {"HS256 tag with a byte more", JWTREV_ALG_HS256, 0, m_append_zero, BAD},
    {"HS256 empty tag", JWTREV_ALG_HS256, 0, m_empty, BAD},
    {"HS256 last bit flipped", JWTREV_ALG_HS256, 0, m_flip_last_bit, BAD},
    {"HS256 message changed", JWTREV_ALG_HS256, 0, m_flip_msg, BAD},
    {"HS512 valid tag", JWTREV_ALG_HS512, 1, m_none, VALID},
    {"HS512 tag cut to 32 bytes (18)", JWTREV_ALG_HS512, 1, m_half, BAD},
    {"RS256 valid", JWTREV_ALG_RS256, 2, m_none, VALID},
    {"RS256 one byte short (19)", JWTREV_ALG_RS256, 2, m_drop_last, BAD},
    {"RS256 one byte long (19)", JWTREV_ALG_RS256, 2, m_append_zero, BAD},
    {"RS256 with a leading zero byte (19)", JWTREV_ALG_RS256, 2, m_prepend_zero,
     BAD},
    {"RS256 last bit flipped", JWTREV_ALG_RS256, 2, m_flip_last_bit, BAD},
    {"RS256 empty", JWTREV_ALG_RS256, 2, m_empty, BAD},
    {"PS256 valid", JWTREV_ALG_PS256, 3, m_none, VALID},
    {"PS256 by OpenSSL, salt 32, MGF1-SHA256", JWTREV_ALG_PS256, 3,
     m_pss_salt32, VALID},
    {"PS256 salt length 0 (20)", JWTREV_ALG_PS256, 3, m_pss_salt0, BAD},
    {"PS256 salt length 20 (20)", JWTREV_ALG_PS256, 3, m_pss_salt20, BAD},
    {"PS256 salt length 64 (20)", JWTREV_ALG_PS256, 3, m_pss_salt64, BAD},
    {"PS256 maximal salt length (20)", JWTREV_ALG_PS256, 3, m_pss_saltmax, BAD},
    {"PS256 MGF1 with SHA-1 (20)", JWTREV_ALG_PS256, 3, m_pss_mgf1_sha1, BAD},
    {"PS256 one byte short", JWTREV_ALG_PS256, 3, m_drop_last, BAD},
    {"ES256 valid", JWTREV_ALG_ES256, 4, m_none, VALID},
    {"ES256 high-S accepted (21)", JWTREV_ALG_ES256, 4, m_high_s, VALID},
    {"ES256 DER-encoded (21)", JWTREV_ALG_ES256, 4, m_der, BAD},
    {"ES256 r = 0 (21)", JWTREV_ALG_ES256, 4, m_r_zero, BAD},
    {"ES256 s = 0 (21)", JWTREV_ALG_ES256, 4, m_s_zero, BAD},
    {"ES256 r = n (21)", JWTREV_ALG_ES256, 4, m_r_n, BAD},
    {"ES256 s = n (21)", JWTREV_ALG_ES256, 4, m_s_n, BAD},
    {"ES256 s + n (21)", JWTREV_ALG_ES256, 4, m_s_plus_n, BAD},
    {"ES256 63 bytes (21)", JWTREV_ALG_ES256, 4, m_drop_last, BAD},
    {"ES256 65 bytes (21)", JWTREV_ALG_ES256, 4, m_append_zero, BAD},
    {"ES256 last bit flipped", JWTREV_ALG_ES256, 4, m_flip_last_bit, BAD},
    {"ES384 valid", JWTREV_ALG_ES384, 5, m_none, VALID},
    {"ES384 high-S accepted (21)", JWTREV_ALG_ES384, 5, m_high_s, VALID},
    {"ES384 DER-encoded (21)", JWTREV_ALG_ES384, 5, m_der, BAD},
    {"ES384 r = n (21)", JWTREV_ALG_ES384, 5, m_r_n, BAD},
    {"ES384 s = 0 (21)", JWTREV_ALG_ES384, 5, m_s_zero, BAD},
    {"ES384 95 bytes (21)", JWTREV_ALG_ES384, 5, m_drop_last, BAD},
    {"ES512 valid", JWTREV_ALG_ES512, 6, m_none, VALID},
    {"ES512 high-S accepted (21)", JWTREV_ALG_ES512, 6, m_high_s, VALID},
    {"ES512 DER-encoded (21)", JWTREV_ALG_ES512, 6, m_der, BAD},
    {"ES512 r = 0 (21)", JWTREV_ALG_ES512, 6, m_r_zero, BAD},
    {"ES512 s = n (21)", JWTREV_ALG_ES512, 6, m_s_n, BAD},
    {"ES512 s + n (21)", JWTREV_ALG_ES512, 6, m_s_plus_n, BAD},
    {"ES512 133 bytes (21)", JWTREV_ALG_ES512, 6, m_append_zero, BAD},
    {"EdDSA valid", JWTREV_ALG_EDDSA, 7, m_none, VALID},
    {"EdDSA S + L, i.e. S >= L (22)", JWTREV_ALG_EDDSA, 7, m_ed_s_plus_l, BAD},
    {"EdDSA 63 bytes (22)", JWTREV_ALG_EDDSA, 7, m_drop_last, BAD},
    {"EdDSA 65 bytes (22)", JWTREV_ALG_EDDSA, 7, m_append_zero, BAD},
    {"EdDSA last bit of S flipped", JWTREV_ALG_EDDSA, 7, m_flip_last_bit, BAD},
    {"EdDSA message changed", JWTREV_ALG_EDDSA, 7, m_flip_msg, BAD},
    {"EdDSA Ed448 valid", JWTREV_ALG_EDDSA, 8, m_none, VALID},
    {"EdDSA Ed448 S + L, i.e. S >= L (22)", JWTREV_ALG_EDDSA, 8,
     m_ed448_s_plus_l, BAD},
    {"EdDSA Ed448 113 bytes (22)", JWTREV_ALG_EDDSA, 8, m_drop_last, BAD},
    {"EdDSA Ed448 115 bytes (22)", JWTREV_ALG_EDDSA, 8, m_append_zero, BAD},
    {"EdDSA Ed448 64 bytes (22)", JWTREV_ALG_EDDSA, 8, m_ed448_to_64, BAD},
    {"EdDSA Ed448 last bit flipped", JWTREV_ALG_EDDSA, 8, m_flip_last_bit, BAD},
    {"EdDSA Ed448 message changed", JWTREV_ALG_EDDSA, 8, m_flip_msg, BAD},
    {"ES256K valid", JWTREV_ALG_ES256K, 9, m_none, VALID},
    {"ES256K high-S accepted (21, RFC 8812)", JWTREV_ALG_ES256K, 9, m_high_s,
     VALID},
    {"ES256K DER-encoded (21)", JWTREV_ALG_ES256K, 9, m_der, BAD},
    {"ES256K r = 0 (21)", JWTREV_ALG_ES256K, 9, m_r_zero, BAD},
    {"ES256K s = n (21)", JWTREV_ALG_ES256K, 9, m_s_n, BAD},
    {"ES256K s + n (21)", JWTREV_ALG_ES256K, 9, m_s_plus_n, BAD},
    {"ES256K 63 bytes (21)", JWTREV_ALG_ES256K, 9, m_drop_last, BAD},
    {"ES256K last bit flipped", JWTREV_ALG_ES256K, 9, m_flip_last_bit, BAD},
    {"ES256K message changed", JWTREV_ALG_ES256K, 9, m_flip_msg, BAD},
};

static struct sample samples[10];

static void
make_samples(void)
{
    static const struct {
        const char *priv, *pub;
        int secret;
        jwtrev_alg alg;
    } src[10] = {
        {"hs256.bin", "hs256.bin", 1, JWTREV_ALG_HS256},
        {"hs512.bin", "hs512.bin", 1, JWTREV_ALG_HS512},
        {"rsa2048.pem", "rsa2048.pub.pem", 0, JWTREV_ALG_RS256},
        {"rsa2048.pem", "rsa2048.pub.pem", 0, JWTREV_ALG_PS256},
        {"ec256.pem", "ec256.pub.pem", 0, JWTREV_ALG_ES256},
        {"ec384.pem", "ec384.pub.pem", 0, JWTREV_ALG_ES384},
        {"ec521.pem", "ec521.pub.pem", 0, JWTREV_ALG_ES512},
        {"ed25519.pem", "ed25519.pub.pem", 0, JWTREV_ALG_EDDSA},
        {"ed448.pem", "ed448.pub.pem", 0, JWTREV_ALG_EDDSA},
        {"k256.pem", "k256.pub.pem", 0, JWTREV_ALG_ES256K},
    };
    size_t i;

    for (i = 0; i < 10; i++)
        make_sample(&samples[i], src[i].priv, src[i].secret, src[i].alg,
                    ring_key(src[i].pub, src[i].secret, src[i].alg));
}

static void
test_orders(void)
{
    static const struct {
        int nid;
        jwtrev_alg alg;
    } curves[] = {{NID_X9_62_prime256v1, JWTREV_ALG_ES256},
                  {NID_secp384r1, JWTREV_ALG_ES384},
                  {NID_secp521r1, JWTREV_ALG_ES512},
                  {NID_secp256k1, JWTREV_ALG_ES256K}};
    unsigned char buf[66];
    size_t i, len;

    for (i = 0; i < 4; i++) {
        EC_GROUP *g = EC_GROUP_new_by_curve_name(curves[i].nid);
        len = jwtrevp_alg_info(curves[i].alg)->sig_len / 2;
        ok(g != NULL &&
               BN_bn2binpad(EC_GROUP_get0_order(g), buf, (int)len) ==
                   (int)len &&
               memcmp(buf, jwtrevp_ec_order(curves[i].alg), len) == 0,
           "the %s group order constant equals OpenSSL's",
           jwtrev_alg_name(curves[i].alg));
        EC_GROUP_free(g);
    }
}

#define THREADS 4
#define THREAD_ROUNDS 25

/* Every sample, as it is and with its last bit flipped, many times over;
 * counts outcomes that differ from a single thread's. */
static void *
hammer(void *arg)
{
    size_t *wrong = arg, r, i;
    struct sample bad;
    int rc;

    for (r = 0; r < THREAD_ROUNDS; r++) {
        for (i = 0; i < 8; i++) {
            const struct sample *s = &samples[i];
            bad = *s;
            bad.sig[bad.sig_len - 1] ^= 1;
            rc = jwtrevp_sig_verify(s->key, s->msg, s->msg_len, s->sig,
                                    s->sig_len);
            *wrong += rc != 0;
            rc = jwtrevp_sig_verify(bad.key, bad.msg, bad.msg_len, bad.sig,
                                    bad.sig_len);
            *wrong += rc != BAD;
        }
    }
    *wrong += ERR_peek_error() != 0;
    return NULL;
}

static void
test_threads(void)
{
    pthread_t t[THREADS];
    size_t wrong[THREADS] = {0}, total = 0;
    int i, started = 0;

    for (i = 0; i < THREADS; i++)
        started += pthread_create(&t[i], NULL, hammer, &wrong[i]) == 0;
    for (i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    for (i = 0; i < THREADS; i++)
        total += wrong[i];
    ok(started == THREADS && total == 0,
       "%d threads x %d rounds over shared keys: %zu wrong outcomes", THREADS,
       THREAD_ROUNDS, total);
}

int
main(void)
{
    const char *top = getenv("top_srcdir");
    struct sample s;
    size_t i;
    int rc;

    if (top == NULL) {
        printf("Bail out! top_srcdir is not set\n");
        return 1;
    }
    snprintf(datadir, sizeof(datadir), "%s/tests/data/keys", top);
    make_samples();
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        s = samples[cases[i].sample];
        if (s.alg != cases[i].alg)
            abort();
        cases[i].mutate(&s);
        ERR_raise(ERR_LIB_USER, 1); /* a stale error from elsewhere */
        rc = jwtrevp_sig_verify(s.key, s.msg, s.msg_len, s.sig, s.sig_len);
        ok(rc == cases[i].want, "%s: %s", cases[i].what,
           rc == 0 ? "accepted" : jwtrev_reason(rc));
        ok(ERR_peek_error() == 0, "%s: OpenSSL error queue empty after",
           cases[i].what);
    }
    test_orders();
    test_threads();
    for (i = 0; i < nrings; i++)
        jwtrev_keyring_free(rings[i]);
    return tap_done();
}
