/*
 * keyp.h - names shared by the key files of libjwtrev (alg.c, keys.c,
 * keyfile.c, keycheck.c, pem.c, jwk.c, sig.c, sign.c) and their unit
 * tests.  The rest of the library sees keys only through jwtrevp.h.
 */
#ifndef JWTREV_KEYP_H
#define JWTREV_KEYP_H

#include "josep.h"

/* ---- algorithms (alg.c) -------------------------------------------------- */

/* What a key is, as far as algorithm binding cares (SECURITY 13-14). */
typedef enum jwtrevp_keytype {
    JWTREVP_KT_SECRET,
    JWTREVP_KT_RSA,
    JWTREVP_KT_P256,
    JWTREVP_KT_P384,
    JWTREVP_KT_P521,
    JWTREVP_KT_ED25519,
    JWTREVP_KT_ED448,
    JWTREVP_KT_SECP256K1,
    JWTREVP_KT_COUNT
} jwtrevp_keytype;

/* How a signature is checked. */
typedef enum jwtrevp_family {
    JWTREVP_FAM_HMAC,
    JWTREVP_FAM_RSA,   /* RSASSA-PKCS1-v1_5 */
    JWTREVP_FAM_PSS,   /* RSASSA-PSS, MGF1 and salt length = the hash's */
    JWTREVP_FAM_ECDSA, /* raw r||s */
    JWTREVP_FAM_EDDSA  /* Ed25519, Ed448 */
} jwtrevp_family;

typedef struct jwtrevp_alginfo {
    const char *name; /* JOSE name */
    jwtrevp_family family;
    jwtrevp_keytype keytype; /* the key type the algorithm accepts (EdDSA:
                                also JWTREVP_KT_ED448) */
    const char *md;          /* hash name for EVP_MD_fetch; NULL: EdDSA */
    size_t md_len;           /* hash output length; also the HMAC minimum */
    size_t sig_len; /* fixed signature length; 0: the key's (RSA, EdDSA) */
} jwtrevp_alginfo;

const jwtrevp_alginfo *jwtrevp_alg_info(jwtrev_alg alg);
const char *jwtrevp_keytype_name(jwtrevp_keytype t);
int jwtrevp_alg_fits(jwtrev_alg alg, jwtrevp_keytype t);
jwtrev_alg jwtrevp_alg_default(jwtrevp_keytype t);

/*
 * SECURITY 13 for a key that names no algorithm: the one algorithm of
 * its type in allowed if there is exactly one, else the type's default.
 * The result may lie outside allowed: then the key is not usable.
 */
jwtrev_alg jwtrevp_alg_bind(jwtrevp_keytype t, jwtrev_algset allowed);

/* ---- loading context, refusals, files (keys.c, keyfile.c) -------------- */

/* Texts of the keys of a JWKS that were skipped (DESIGN 10). */
typedef struct jwtrevp_skips {
    char (*v)[JWTREV_DETAIL_MAX];
    size_t n, cap;
} jwtrevp_skips;

/* Where a key comes from, for binding and for error texts. */
typedef struct jwtrevp_loadctx {
    const char *name;      /* the file (or caller's name), named in errors */
    const char *dflt_kid;  /* KID of "KID#FILE", or NULL */
    jwtrev_algset allowed; /* the ring's allow-list */
    unsigned index;        /* 1-based key position in a JWKS or PEM
                              file for error texts; 0: not shown */
    jwtrev_error *err;
    const char *kid;      /* the current JWK's kid, printable, or NULL */
    jwtrevp_skips *skips; /* non-NULL inside a JWKS: a refused key is
                             recorded here by jwtrevp_skip, not fatal */
} jwtrevp_loadctx;

/*
 * config_error "NAME[: key N[ (kid "K")]]: reason", or inside a JWKS
 * "NAME: key N (kid "K") skipped: reason"; returns
 * -JWTREV_ERR_CONFIG_ERROR.
 */
int jwtrevp_refuse(const jwtrevp_loadctx *lc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Inside a JWKS (lc->skips set), after a key was refused with
 * config_error: record the refusal's text as a skipped key and clear the
 * error.  0, or -JWTREV_ERR_INTERNAL when out of memory.
 */
int jwtrevp_skip(const jwtrevp_loadctx *lc);

/* Keys of one file, collected before they join a ring all at once. */
typedef struct jwtrevp_keylist {
    jwtrevp_key *v;
    size_t n, cap;
} jwtrevp_keylist;

/*
 * Complete k (pkey or secret, kid set; alg_given < 0 when the source names
 * none): bind it, refuse an alg that does not fit t or a secret shorter
 * than the hash, prepare what verification needs, and append it to kl.  A
 * key whose algorithm is not allowed is dropped without error.  In every
 * case k's contents are taken over (kept in kl or freed).
 */
int jwtrevp_keylist_add(jwtrevp_keylist *kl, jwtrevp_key *k, jwtrevp_keytype t,
                        int alg_given, const jwtrevp_loadctx *lc);

/* Free what a key owns and zero it. */
void jwtrevp_key_clear(jwtrevp_key *k);

/* Set k's kid to a copy of len bytes; 0 or -JWTREV_ERR_INTERNAL. */
int jwtrevp_key_set_kid(jwtrevp_key *k, const char *kid, size_t len);

#define JWTREVP_KEY_FILE_MAX (1024 * 1024)
#define JWTREVP_KID_MAX 256

/*
 * Read a regular file of at most max bytes.  On success the caller owns
 * *out (NUL-terminated, to be freed with OPENSSL_clear_free(*out,
 * *len + 1)).  Errors are config_error naming the file.
 */
int jwtrevp_read_file(const char *path, size_t max, char **out, size_t *len,
                      jwtrev_error *err);

/*
 * "KID#FILE": when path names no existing file and holds a '#', the part
 * before the first '#' is a kid for the keys of FILE that have none.  On
 * success *file points into path and *kid is NULL or a string the caller
 * frees with OPENSSL_free.
 */
int jwtrevp_split_kid(const char *path, char **kid, const char **file,
                      jwtrev_error *err);

/* Strip one final "\n" or "\r\n" from a secret of *len bytes. */
void jwtrevp_secret_trim(const char *buf, size_t *len);

/*
 * SECURITY 14: refuse secret bytes that are really public key material
 * (PEM, JSON, DER, OpenSSH), which an attacker could know.
 */
int jwtrevp_secret_check(const unsigned char *s, size_t len,
                         const jwtrevp_loadctx *lc);

/* ---- asymmetric key checks (keycheck.c) ---------------------------------- */

/*
 * The type of pk after the loader's rules (SECURITY 15): RSA 2048-8192
 * bits with an odd e >= 65537 and no ROCA fingerprint, EC on P-256/384/521
 * or secp256k1 with a valid point, Ed25519, Ed448; anything else is refused
 * naming the reason.
 */
int jwtrevp_pkey_type(EVP_PKEY *pk, const jwtrevp_loadctx *lc,
                      jwtrevp_keytype *out);

/* ---- PEM (pem.c) and JWK (jwk.c) ----------------------------------------- */

/* Public keys and certificates of a PEM text into kl. */
int jwtrevp_pem_public(const char *data, size_t len, jwtrevp_keylist *kl,
                       jwtrevp_loadctx *lc);

/*
 * A JWK or JWKS (already parsed) into kl as verification keys; in a JWKS
 * the keys that cannot be used are recorded in skips instead (DESIGN 10).
 */
int jwtrevp_jwk_public(const json_t *doc, jwtrevp_keylist *kl,
                       jwtrevp_loadctx *lc, jwtrevp_skips *skips);

/*
 * A JWK with private members as a signing key: *pkey (asymmetric) or
 * *secret (oct), the key type, and the JWK's alg (-1 when absent).  On
 * success the caller owns *pkey or *secret.
 */
int jwtrevp_jwk_private(const json_t *jwk, const jwtrevp_loadctx *lc,
                        EVP_PKEY **pkey, unsigned char **secret,
                        size_t *secret_len, jwtrevp_keytype *type, int *alg);

/* ---- signatures (sig.c) ------------------------------------------------- */

/*
 * Prepare a bound key (alg, pkey or secret set) for jwtrevp_sig_verify:
 * fetch the hash, key an HMAC context or set up a DigestVerify context
 * that each verification copies.  0 or -JWTREV_ERR_INTERNAL.
 */
int jwtrevp_key_prepare(jwtrevp_key *k);

/* The group order of an ES* algorithm's curve, big-endian, sig_len / 2
 * bytes long; NULL for other algorithms. */
const unsigned char *jwtrevp_ec_order(jwtrev_alg alg);

/*
 * For RS*: PKCS#1 v1.5 padding.  For PS*: PSS with MGF1 over md and the
 * salt length set to the hash length (SECURITY 20).  Others: nothing.
 * 1 on success.
 */
int jwtrevp_rsa_params(EVP_PKEY_CTX *pctx, jwtrev_alg alg, EVP_MD *md);

#endif /* JWTREV_KEYP_H */
