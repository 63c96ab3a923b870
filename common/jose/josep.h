/*
 * josep.h - the JOSE half of libjwtrev (common/jose/): names shared by its
 * files, its unit tests and fuzzers, not by the store, the modules or the
 * CLI.  Only this half sees OpenSSL; key internals are in keyp.h.
 */
#ifndef JWTREV_JOSEP_H
#define JWTREV_JOSEP_H

#include <openssl/evp.h>

#include "jwtrevp.h"

/* ---- base64url (b64url.c) ------------------------------------------------ */

/* Decoded size of a len-byte base64url text (exact for valid input). */
size_t jwtrevp_b64url_declen(size_t len);

/*
 * Decode canonical base64url without padding (SECURITY 4).  dst holds at
 * least jwtrevp_b64url_declen(len) bytes.  0 and *out_len, or
 * -JWTREV_ERR_MALFORMED (never a length).
 */
int jwtrevp_b64url_decode(const char *src, size_t len, unsigned char *dst,
                          size_t *out_len);

/* Encoded length of n bytes, without the terminating NUL. */
size_t jwtrevp_b64url_enclen(size_t n);

/* Encode n bytes; dst holds jwtrevp_b64url_enclen(n) + 1 bytes. */
void jwtrevp_b64url_encode(const unsigned char *src, size_t n, char *dst);

/* ---- strict JSON (json.c) -------------------------------------------------
 */

#define JWTREVP_JSON_MAX_DEPTH 32

/*
 * Parse len bytes as one JSON object: strict UTF-8, duplicate names
 * refused, no trailing data, depth <= JWTREVP_JSON_MAX_DEPTH.  On success
 * the caller owns *out; otherwise -JWTREV_ERR_MALFORMED.
 */
int jwtrevp_json_parse_object(const void *buf, size_t len, json_t **out);

/* ---- keys (keys.c, jwk.c) and raw signatures (sig.c) ----------------------
 */

/*
 * One verification key, bound to exactly one algorithm (SECURITY 13).
 * Immutable once in a ring; EVP_PKEY is only read, so threads may share it.
 */
typedef struct jwtrevp_key {
    jwtrev_alg alg;
    char *kid; /* NULL when the key has no kid */
    size_t kid_len;
    EVP_PKEY *pkey;        /* RSA, EC, Ed25519 public keys */
    unsigned char *secret; /* HMAC keys */
    size_t secret_len;
    /* Prepared at load time so that verification re-parses nothing: */
    EVP_MD *md;        /* the alg's hash, fetched once (NULL for EdDSA) */
    EVP_MAC_CTX *hmac; /* HMAC keyed with secret; each call dups it */
    size_t sig_len;    /* the exact signature length k->alg takes */
    EVP_MD_CTX *vtpl;  /* DigestVerify set up for pkey and alg (PSS
                          parameters included); each call copies it */
} jwtrevp_key;

/* With a kid: the one key whose kid equals it byte for byte, or NULL. */
const jwtrevp_key *jwtrevp_keyring_by_kid(const jwtrev_keyring *kr,
                                          const char *kid, size_t kid_len);

/* Without a kid: the i-th key bound to alg (i from 0), NULL past the last. */
const jwtrevp_key *jwtrevp_keyring_by_alg(const jwtrev_keyring *kr,
                                          jwtrev_alg alg, size_t i);

/*
 * Verify sig over msg with k under k->alg's rules (SECURITY 18-23).
 * 0: valid; -JWTREV_ERR_BAD_SIGNATURE: not; -JWTREV_ERR_INTERNAL: out of
 * memory.  Leaves the OpenSSL error queue empty.
 */
int jwtrevp_sig_verify(const jwtrevp_key *k, const unsigned char *msg,
                       size_t msg_len, const unsigned char *sig,
                       size_t sig_len);

/* ---- policy and claims (policy.c) ---------------------------------------- */

/* A compiled jwtrev_conf: copies of what verification needs; immutable. */
struct jwtrev_policy {
    jwtrev_algset algs;
    size_t max_token_len;
    int64_t leeway;
    int64_t max_age; /* -1: no limit */
    jwtrev_strlist issuers, audiences, required, types;
    char *user_claim;
    int require_user;
    EVP_MD *sha256; /* fetched once: the signing-input hash */
};

/* 1 when the header's typ (NULL: absent) is accepted by p (SECURITY 9). */
int jwtrevp_policy_typ_ok(const jwtrev_policy *p, const char *typ);

/* 1 when a and b are the same media type: case-insensitive, with an
 * optional "application/" prefix on either side. */
int jwtrevp_media_type_eq(const char *a, const char *b);

/*
 * Fill t's claim fields (iss, sub, jti, user, exp, nbf, iat) from
 * t->claims and judge them at time now (SECURITY 24-28).  With
 * JWTREV_VERIFY_SIGNATURE_ONLY in flags, nothing is judged: the fields
 * are filled where the claims are well-formed and t->claims may be NULL.
 */
int jwtrevp_claims_check(const jwtrev_policy *p, jwtrev_token *t, int64_t now,
                         unsigned flags, jwtrev_error *err);

/*
 * Only the first step of jwtrevp_claims_check, for the unverified view:
 * the shapes of the claims (malformed or bad_claims as there) and t's
 * claim fields; user_claim NULL reads no user.
 */
int jwtrevp_claims_read(const json_t *claims, const char *user_claim,
                        jwtrev_token *t, jwtrev_error *err);

#endif /* JWTREV_JOSEP_H */
