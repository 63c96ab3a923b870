/*
 * store_token.c - what an administrator's token refers to, for jwtrev
 * revoke, unrevoke and status.  NOT a verifier: the decision path never
 * calls this (SECURITY.md 31); a token's identity is all it learns, and a
 * forged token can at most make an administrator revoke something.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "jwtrev_store.h"
#include "jwtrevp.h"

/* Far above any verifier's cap; only keeps a stray file out of memory. */
#define PARSE_MAX (64 * 1024)

static int
malformed(jwtrev_error *err, const char *what)
{
    return jwtrevp_fail(err, JWTREV_ERR_MALFORMED, "%s", what);
}

/* Decode one base64url segment; the caller frees *out. */
static int
decode(const char *s, size_t len, unsigned char **out, size_t *out_len)
{
    unsigned char *buf = malloc(jwtrevp_b64url_declen(len) + 1);

    if (buf == NULL)
        return -JWTREV_ERR_INTERNAL;
    if (jwtrevp_b64url_decode(s, len, buf, out_len) != 0) {
        free(buf);
        return -JWTREV_ERR_MALFORMED;
    }
    *out = buf;
    return 0;
}

/* An optional string member; another type is malformed. */
static int
get_string(const json_t *obj, const char *name, const char **out)
{
    const json_t *v = json_object_get(obj, name);

    *out = NULL;
    if (v == NULL)
        return 0;
    if (!json_is_string(v))
        return -1;
    *out = json_string_value(v);
    return 0;
}

/* An optional NumericDate, floored, inside int64; else malformed. */
static int
get_time(const json_t *obj, const char *name, int64_t *out, int *has)
{
    const json_t *v = json_object_get(obj, name);
    double d;

    *has = 0;
    if (v == NULL)
        return 0;
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
    } else if (json_is_real(v)) {
        d = json_real_value(v);
        if (!isfinite(d) || d < -9223372036854775808.0 ||
            d >= 9223372036854775808.0)
            return -1;
        *out = (int64_t)d; /* toward zero; floor below */
        if ((double)*out > d)
            (*out)--;
    } else {
        return -1;
    }
    *has = 1;
    return 0;
}

static int
fill_claims(jwtrev_token *t)
{
    if (get_string(t->header, "kid", &t->kid) != 0 ||
        get_string(t->claims, "iss", &t->iss) != 0 ||
        get_string(t->claims, "sub", &t->sub) != 0 ||
        get_string(t->claims, "jti", &t->jti) != 0 ||
        get_time(t->claims, "exp", &t->exp, &t->has_exp) != 0 ||
        get_time(t->claims, "nbf", &t->nbf, &t->has_nbf) != 0 ||
        get_time(t->claims, "iat", &t->iat, &t->has_iat) != 0)
        return -1;
    return 0;
}

/* Split into three non-empty segments: *dot1 and *dot2 are the dots. */
static int
split(const char *token, size_t len, size_t *dot1, size_t *dot2)
{
    const char *a = memchr(token, '.', len), *b;

    if (a == NULL)
        return -1;
    b = memchr(a + 1, '.', len - (size_t)(a + 1 - token));
    if (b == NULL || memchr(b + 1, '.', len - (size_t)(b + 1 - token)))
        return -1;
    *dot1 = (size_t)(a - token);
    *dot2 = (size_t)(b - token);
    if (*dot1 == 0 || *dot2 == *dot1 + 1 || *dot2 + 1 == len)
        return -1;
    return 0;
}

static int
parse(const char *token, size_t len, jwtrev_token *t, jwtrev_error *err)
{
    unsigned char *hdr = NULL, *sig = NULL;
    size_t d1, d2, hlen, slen;
    int rc;

    if (split(token, len, &d1, &d2) != 0)
        return malformed(err, "not three non-empty base64url segments");
    rc = decode(token, d1, &hdr, &hlen);
    if (rc == 0)
        rc = decode(token + d1 + 1, d2 - d1 - 1, &t->payload, &t->payload_len);
    if (rc == 0)
        rc = decode(token + d2 + 1, len - d2 - 1, &sig, &slen);
    if (rc == -JWTREV_ERR_MALFORMED)
        rc = malformed(err, "a segment is not canonical base64url");
    else if (rc != 0)
        rc = jwtrevp_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    if (rc == 0 && jwtrevp_json_parse_object(hdr, hlen, &t->header) != 0)
        rc = malformed(err, "the header is not a JSON object");
    if (rc == 0 &&
        jwtrevp_json_parse_object(t->payload, t->payload_len, &t->claims) != 0)
        rc = malformed(err, "the payload is not a JSON object");
    if (rc == 0 && fill_claims(t) != 0)
        rc = malformed(err, "a claim has the wrong type");
    if (rc == 0 &&
        EVP_Digest(token, d2, t->sighash, NULL, EVP_sha256(), NULL) != 1)
        rc = jwtrevp_fail(err, JWTREV_ERR_INTERNAL, "SHA-256 failed");
    free(hdr);
    free(sig);
    return rc;
}

int
jwtrev_token_parse_unverified(const char *token, size_t len, jwtrev_token *out,
                              jwtrev_error *err)
{
    jwtrev_token t;
    size_t i;
    int rc;

    if (len > PARSE_MAX)
        return jwtrevp_fail(err, JWTREV_ERR_TOO_LARGE,
                            "the token is longer than %d bytes", PARSE_MAX);
    for (i = 0; i < len; i++) {
        if ((unsigned char)token[i] <= 0x20 || token[i] == 0x7f)
            return malformed(err, "whitespace or a control character in "
                                  "the token");
    }
    memset(&t, 0, sizeof(t));
    rc = parse(token, len, &t, err);
    if (rc != 0) {
        jwtrev_token_clear(&t);
        return rc;
    }
    *out = t;
    return 0;
}
