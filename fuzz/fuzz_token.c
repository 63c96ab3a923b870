/*
 * fuzz_token.c - libFuzzer target for the verification pipeline
 * (SECURITY 35): jwtrev_verify on arbitrary bytes with a fixed ring of
 * every key type (public keys of the RFC 7515, RFC 8037 and RFC 7520
 * examples, so that the seeds of fuzz/seed_token.sh verify).
 *
 * The first input byte picks how the rest is used:
 *   bit 0     signature-only mode;
 *   bit 1     the rest is a signing input "header.payload" that is MACed
 *             here with the ring's HS256 key before verification, so that
 *             mutations reach the header rules, the payload and the
 *             claims past the signature;
 *   bits 2-3  one of four policies;
 *   bits 4-5  the clock (the examples' time, 0, INT64_MIN, INT64_MAX).
 * Every result is checked for what must always hold; a violation aborts.
 * Each input also goes through the unverified view of jwtrev revoke and
 * status, which must read the bytes as the verifier does.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "jose/josep.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* RFC 7515 A.1: the HS256 key without a kid; also the re-signing key. */
#define A1_K                                                                   \
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgU"  \
    "uTwjAzZr1Z9CAow"

static const char *const jwks[] = {
    "{\"kty\":\"oct\",\"k\":\"" A1_K "\"}",
    /* RFC 7520 4.4-4.8: HS256 with a kid */
    "{\"kty\":\"oct\",\"kid\":\"018c0ae5-4d9b-471b-bfd6-eef314bc7037\","
    "\"alg\":\"HS256\",\"k\":\"hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg\"}",
    /* RFC 7515 A.2: RS256 */
    "{\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAk"
    "d_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-S"
    "Fd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSH"
    "SXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb"
    "3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91"
    "kzk2PAcDTW9gb54h4FRWyuXpoQ\"}",
    /* RFC 7520 4.2: PS384 with a kid */
    "{\"kty\":\"RSA\",\"kid\":\"bilbo.baggins@hobbiton.example\",\"alg\":"
    "\"PS384\",\"e\":\"AQAB\",\"n\":\"n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_"
    "KuKPEHLd4rHVTeT-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_AJmSCpMaJMRBSFKrKb2wqVw"
    "GU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-oBHqFEHYpPe7Tpe-"
    "OfVfHd1E6cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb"
    "9k3-tVTU4fg_3L_vniUFAKwuCLqKnS2BYwdq_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5"
    "iaiQkqgc5gHdrNP5zw\"}",
    /* RFC 7515 A.3: ES256 */
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8"
    "Tus9uPHvRVEU\",\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}",
    /* Wycheproof (raw_jose.jsonl): ES384 */
    "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"LaV92hCJJ2pUP5_9rAv_DZdsrXHrco"
    "Dn2b_Z_uS9svIPR_-IgnQ4l3LZjMV1ITiq\",\"y\":\"S20FTWnc8-JexJ34cHFeNIg7GDY"
    "ZfXb4rZYuePZXG7x0B7DWCR-eTYjwFCdEBhdP\"}",
    /* RFC 7515 A.4: ES512 */
    "{\"kty\":\"EC\",\"crv\":\"P-521\",\"x\":\"AekpBQ8ST8a8VcfVOTNl353vSrDCLL"
    "JXmPk06wTjxrrjcBpXp5EOnYG_NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk\",\"y\":\"ADS"
    "mRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDly79ajL4Kkd0AZMaZmh9"
    "ubmf63e3kyMj2\"}",
    /* RFC 8037 A.4: EdDSA */
    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPa"
    "piMlrwIaaPcHURo\"}",
};

/* Policies: defaults; strict parties and age; a typ list; HS256 only. */
static const char *const policy_words[4][4] = {
    {NULL},
    {"iss=joe", "aud=api", "max_age=86400", "require=exp,iat,jti"},
    {"typ=at+jwt,JWT", "user_claim=email", "leeway=0", NULL},
    {"alg=HS256", "require=", NULL, NULL},
};

static const int64_t clocks[4] = {1300819000, 0, INT64_MIN, INT64_MAX};

static jwtrev_keyring *ring;
static jwtrev_policy *policies[4];
static unsigned char a1_key[64];
static size_t a1_len;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    jwtrev_conf c;
    size_t i, w;

    if (jwtrev_keyring_new(JWTREV_ALGSET_ALL, &ring) != 0)
        abort();
    for (i = 0; i < sizeof(jwks) / sizeof(jwks[0]); i++)
        if (jwtrev_keyring_add_mem(ring, jwks[i], strlen(jwks[i]), "fuzz",
                                   NULL) != 0)
            abort();
    for (i = 0; i < 4; i++) {
        jwtrev_conf_init(&c);
        c.require_user = i == 2;
        for (w = 0; w < 4 && policy_words[i][w] != NULL; w++)
            if (jwtrev_conf_set_word(&c, policy_words[i][w], NULL) != 0)
                abort();
        if (jwtrev_policy_new(&c, &policies[i], NULL) != 0)
            abort();
        jwtrev_conf_free(&c);
    }
    if (jwtrevp_b64url_decode(A1_K, strlen(A1_K), a1_key, &a1_len) != 0)
        abort();
    return 0;
}

/* "input.MAC": the signing input completed with the A.1 key's HS256. */
static char *
resign(const uint8_t *in, size_t n, size_t *len)
{
    unsigned char mac[32];
    size_t mac_len = 0;
    char *tok = malloc(n + 1 + 44);

    if (tok == NULL)
        abort();
    memcpy(tok, in, n);
    if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, a1_key, a1_len, in, n,
                  mac, sizeof(mac), &mac_len) == NULL)
        abort();
    tok[n] = '.';
    jwtrevp_b64url_encode(mac, mac_len, tok + n + 1);
    *len = n + 1 + strlen(tok + n + 1);
    return tok;
}

/* What every call must leave behind, whatever the input. */
static void
check(int rc, const jwtrev_token *t, const jwtrev_error *e, unsigned flags)
{
    if (rc > 0 || -rc >= JWTREV_ERR_COUNT || e->code != -rc ||
        memchr(e->detail, '\0', sizeof(e->detail)) == NULL ||
        memchr(e->logid, '\0', sizeof(e->logid)) == NULL)
        abort();
    if (rc == 0 && (t->header == NULL || t->payload == NULL ||
                    (!(flags & JWTREV_VERIFY_SIGNATURE_ONLY) &&
                     !json_is_object(t->claims))))
        abort();
    if (rc != 0 && *jwtrev_reason(rc) == '\0')
        abort();
}

static int
same_text(const char *a, const char *b)
{
    return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

/*
 * The unverified view of jwtrev revoke and status reads what the verifier
 * reads: where the verifier (judging claims) refused the bytes themselves
 * (too_large, malformed), the view refuses them for the same reason, and
 * a token the verifier accepted gives the view the same fields.
 */
static void
check_view(int rc, const jwtrev_token *t, unsigned flags, const char *tok,
           size_t len)
{
    jwtrev_token v;
    jwtrev_error e;
    int vrc = jwtrev_token_parse_unverified(tok, len, &v, &e);

    check(vrc, &v, &e, 0);
    if (flags & JWTREV_VERIFY_SIGNATURE_ONLY)
        goto done;
    if ((rc == -JWTREV_ERR_MALFORMED || rc == -JWTREV_ERR_TOO_LARGE) &&
        vrc != rc)
        abort();
    if (rc == 0 && (vrc != 0 || v.has_exp != t->has_exp || v.exp != t->exp ||
                    v.has_nbf != t->has_nbf || v.nbf != t->nbf ||
                    v.has_iat != t->has_iat || v.iat != t->iat ||
                    !same_text(v.iss, t->iss) || !same_text(v.sub, t->sub) ||
                    !same_text(v.jti, t->jti) || !same_text(v.kid, t->kid) ||
                    memcmp(v.sighash, t->sighash, sizeof(v.sighash)) != 0))
        abort();
done:
    if (vrc == 0)
        jwtrev_token_clear(&v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const jwtrev_policy *p;
    unsigned flags, mode;
    jwtrev_token t, again;
    jwtrev_error err, err2;
    char *tok;
    size_t len;
    int rc;

    if (size < 1)
        return 0;
    mode = data[0];
    flags = mode & 1 ? JWTREV_VERIFY_SIGNATURE_ONLY : 0;
    p = policies[(mode >> 2) & 3];
    if (mode & 2) {
        tok = resign(data + 1, size - 1, &len);
    } else {
        /* A copy, so that ASan sees a read past the end. */
        len = size - 1;
        tok = malloc(len ? len : 1);
        memcpy(tok, data + 1, len);
    }
    rc = jwtrev_verify(p, ring, tok, len, clocks[(mode >> 4) & 3], flags, &t,
                       &err);
    check(rc, &t, &err, flags);
    /* Deterministic: the same input, the same answer. */
    if (jwtrev_verify(p, ring, tok, len, clocks[(mode >> 4) & 3], flags, &again,
                      &err2) != rc ||
        strcmp(err.logid, err2.logid) != 0)
        abort();
    check_view(rc, &t, flags, tok, len);
    if (rc == 0) {
        jwtrev_token_clear(&t);
        jwtrev_token_clear(&again);
    }
    free(tok);
    return 0;
}
