/*
 * jws.c - the decision pipeline up to the revocation lookup (docs/design.md 1,
 * SECURITY 1-12, 16-17, 24-28):
 *
 *   size cap -> split -> SHA-256 of the signing input -> strict
 *   base64url of all three segments (no whitespace, control or other
 *   characters) -> header JSON -> header rules -> key selection ->
 *   signature -> payload JSON -> claims
 *
 * Each step either passes or gives the token its one reason.  The strict
 * decoder is what checks the token's bytes; the three segments are
 * decoded into one buffer, the signing input is hashed once, and each
 * JSON text is parsed once.
 *
 * The administrator's unverified view of a token (jwtrev revoke, status)
 * runs the same steps less the key, the signature and the judgement of
 * the claims, so that both readers share every rule of the bytes, the
 * size cap, the kid and the claim shapes (exp rounded up, iat down).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "josep.h"

/* RFC 7515 allows any kid; ours are file names or short ids. */
#define KID_MAX 256

/* The three segments of a compact JWS, as received. */
struct segments {
    const char *s[3];
    size_t len[3];
};

/* Decoded segments: payload first so that t->payload owns the block. */
struct decoded {
    unsigned char *hdr, *sig;
    size_t hdr_len, sig_len;
};

/* The header members that the rules look at (borrowed from t->header). */
struct hdrview {
    const json_t *alg, *crit, *typ, *cty, *kid, *b64, *jwe;
};

static int
is_b64url_char(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
           (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
}

/*
 * The detail for a segment the decoder refused (SECURITY 3-4): the first
 * byte outside the alphabet says what is wrong.  Only failures come here.
 */
static int
bad_segment(const char *seg, size_t len, const char *name, jwtrev_error *err)
{
    size_t i;
    unsigned char ch;

    for (i = 0; i < len && is_b64url_char((unsigned char)seg[i]); i++)
        ;
    ch = i < len ? (unsigned char)seg[i] : 0;
    if (i == len)
        return jwtrev_fail(err, JWTREV_ERR_MALFORMED,
                           "the %s is not canonical base64url", name);
    if (ch <= ' ' || ch == 0x7f)
        return jwtrev_fail(err, JWTREV_ERR_MALFORMED,
                           "whitespace or a control character in the %s", name);
    if (ch == '=')
        return jwtrev_fail(err, JWTREV_ERR_MALFORMED,
                           "base64 padding in the %s", name);
    return jwtrev_fail(err, JWTREV_ERR_MALFORMED,
                       "a character outside base64url in the %s", name);
}

static int
bad_split(const char *token, size_t len, jwtrev_error *err)
{
    size_t i, dots = 0;

    for (i = 0; i < len; i++)
        dots += token[i] == '.';
    if (len > 0 && token[0] == '{')
        return jwtrev_fail(err, JWTREV_ERR_MALFORMED,
                           "JWS JSON serialization is not accepted");
    if (dots == 4)
        return jwtrev_fail(err, JWTREV_ERR_MALFORMED,
                           "JWE (five segments) is not accepted");
    return jwtrev_fail(err, JWTREV_ERR_MALFORMED, "%zu segment%s, not three",
                       dots + 1, dots == 0 ? "" : "s");
}

/*
 * SECURITY 1-2: the length, then exactly three segments with a header
 * and a signature.  The bytes of each segment are judged by the strict
 * decoder (SECURITY 3-4), which refuses anything outside base64url.
 */
static int
split(const char *token, size_t len, size_t max, struct segments *sg,
      jwtrev_error *err)
{
    const char *end = token + len, *d1, *d2 = NULL;

    if (len > max)
        return jwtrev_fail(err, JWTREV_ERR_TOO_LARGE,
                           "%zu bytes, more than %zu", len, max);
    d1 = memchr(token, '.', len);
    if (d1 != NULL)
        d2 = memchr(d1 + 1, '.', (size_t)(end - d1 - 1));
    if (d2 == NULL || memchr(d2 + 1, '.', (size_t)(end - d2 - 1)) != NULL)
        return bad_split(token, len, err);
    sg->s[0] = token;
    sg->len[0] = (size_t)(d1 - token);
    sg->s[1] = d1 + 1;
    sg->len[1] = (size_t)(d2 - d1 - 1);
    sg->s[2] = d2 + 1;
    sg->len[2] = (size_t)(end - d2 - 1);
    if (sg->len[0] == 0 || sg->len[2] == 0)
        return jwtrev_fail(err, JWTREV_ERR_MALFORMED, "empty %s segment",
                           sg->len[0] == 0 ? "header" : "signature");
    return 0;
}

static const char *const segment_names[3] = {"header", "payload", "signature"};

/* SECURITY 4-5: all three segments, strict, into one block. */
static int
decode(const struct segments *sg, jwtrev_token *t, struct decoded *d,
       jwtrev_error *err)
{
    size_t cap[3], n[3], i;
    unsigned char *buf, *dst[3];

    for (i = 0; i < 3; i++)
        cap[i] = jwtrevp_b64url_declen(sg->len[i]);
    buf = malloc(cap[1] + 1 + cap[0] + cap[2]);
    if (buf == NULL)
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    dst[1] = buf;
    dst[0] = buf + cap[1] + 1;
    dst[2] = dst[0] + cap[0];
    for (i = 0; i < 3; i++) {
        if (jwtrevp_b64url_decode(sg->s[i], sg->len[i], dst[i], &n[i]) != 0) {
            free(buf);
            return bad_segment(sg->s[i], sg->len[i], segment_names[i], err);
        }
    }
    buf[n[1]] = '\0';
    t->payload = buf;
    t->payload_len = n[1];
    d->hdr = dst[0];
    d->hdr_len = n[0];
    d->sig = dst[2];
    d->sig_len = n[2];
    return 0;
}

/* ---- log ids ------------------------------------------------------------ */

/* prefix and the hex of the first n bytes of h into buf, cut to size. */
static void
hex_id(const char *prefix, const unsigned char *h, size_t n, char *buf,
       size_t size)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, o;

    if (size == 0)
        return;
    for (o = 0; prefix[o] != '\0' && o + 1 < size; o++)
        buf[o] = prefix[o];
    for (i = 0; i < n && o + 2 < size; i++) {
        buf[o++] = hex[h[i] >> 4];
        buf[o++] = hex[h[i] & 15];
    }
    buf[o] = '\0';
}

void
jwtrev_token_logid(const jwtrev_token *t, char *buf, size_t size)
{
    size_t o, i, n, room;

    if (size == 0)
        return;
    if (t->jti == NULL) {
        hex_id("sha256:", t->sighash, 8, buf, size);
        return;
    }
    hex_id("jti=", NULL, 0, buf, size);
    o = strlen(buf);
    n = strlen(t->jti);
    room = size - 1 - o;
    if (n > room) /* cut: keep room for "..." */
        room = room > 3 ? room - 3 : 0;
    for (i = 0; i < n && i < room; i++) {
        unsigned char ch = (unsigned char)t->jti[i];

        buf[o++] = ch > ' ' && ch < 0x7f && ch != '"' && ch != '\\' ? ch : '?';
    }
    if (i < n) {
        size_t dots = size - 1 - o < 3 ? size - 1 - o : 3;

        memcpy(buf + o, "...", dots);
        o += dots;
    }
    buf[o] = '\0';
}

void
jwtrev_text_logid(const char *text, size_t len, jwtrev_error *err)
{
    unsigned char h[32];

    if (err == NULL || err->logid[0] != '\0' ||
        EVP_Digest(text, len, h, NULL, EVP_sha256(), NULL) != 1) {
        ERR_clear_error();
        return;
    }
    hex_id("token-sha256:", h, 8, err->logid, sizeof(err->logid));
}

/* ---- the header --------------------------------------------------------- */

/* Collect the members the rules need in one pass over the header. */
static void
view_header(json_t *h, struct hdrview *v)
{
    /* JWE-only parameters (RFC 7516 4.1, RFC 7518 4.6-4.8). */
    static const char *const jwe_params[] = {"enc", "zip", "epk", "apu", "apv",
                                             "iv",  "tag", "p2s", "p2c"};
    const char *key;
    json_t *val;
    size_t i;

    memset(v, 0, sizeof(*v));
    json_object_foreach(h, key, val)
    {
        if (strcmp(key, "alg") == 0)
            v->alg = val;
        else if (strcmp(key, "crit") == 0)
            v->crit = val;
        else if (strcmp(key, "typ") == 0)
            v->typ = val;
        else if (strcmp(key, "cty") == 0)
            v->cty = val;
        else if (strcmp(key, "kid") == 0)
            v->kid = val;
        else if (strcmp(key, "b64") == 0)
            v->b64 = val;
        else
            for (i = 0; i < sizeof(jwe_params) / sizeof(*jwe_params); i++)
                if (strcmp(key, jwe_params[i]) == 0)
                    v->jwe = val;
    }
}

/* SECURITY 7: alg a string, known, never none, and allowed. */
static int
check_alg(const jwtrev_policy *p, const json_t *alg, jwtrev_alg *out,
          jwtrev_error *err)
{
    if (alg == NULL || !json_is_string(alg))
        return jwtrev_fail(err, JWTREV_ERR_BAD_HEADER,
                           "alg is missing or not a string");
    if (jwtrev_alg_from_name(json_string_value(alg), json_string_length(alg),
                             out) != 0)
        return jwtrev_fail(err, JWTREV_ERR_UNSUPPORTED_ALG,
                           "the token's alg is not a supported algorithm");
    if (!JWTREV_ALGSET_HAS(p->algs, *out))
        return jwtrev_fail(err, JWTREV_ERR_ALG_NOT_ALLOWED,
                           "%s is not in the allowed algorithms",
                           jwtrev_alg_name(*out));
    return 0;
}

/* SECURITY 12: a kid is a string of at most KID_MAX bytes. */
static int
check_kid(const json_t *kid, jwtrev_error *err)
{
    if (kid != NULL &&
        (!json_is_string(kid) || json_string_length(kid) > KID_MAX))
        return jwtrev_fail(err, JWTREV_ERR_BAD_HEADER,
                           "kid is not a string of at most %d bytes", KID_MAX);
    return 0;
}

/* SECURITY 8-12, after alg; the order of the checks is the reason order. */
static int
check_header_rules(const jwtrev_policy *p, const struct hdrview *v,
                   jwtrev_error *err)
{
    if (v->crit != NULL)
        return jwtrev_fail(err, JWTREV_ERR_CRIT_UNSUPPORTED,
                           "crit: no header extension is supported");
    if (v->jwe != NULL)
        return jwtrev_fail(err, JWTREV_ERR_BAD_HEADER,
                           "a JWE header parameter in a JWS");
    if (v->typ != NULL && !json_is_string(v->typ))
        return jwtrev_fail(err, JWTREV_ERR_BAD_HEADER, "typ is not a string");
    if (!jwtrevp_policy_typ_ok(p, v->typ ? json_string_value(v->typ) : NULL))
        return jwtrev_fail(err, JWTREV_ERR_TYP_NOT_ALLOWED,
                           "the token's typ is not accepted");
    if (v->cty != NULL &&
        (!json_is_string(v->cty) ||
         jwtrevp_media_type_eq(json_string_value(v->cty), "JWT")))
        return jwtrev_fail(err, JWTREV_ERR_BAD_HEADER,
                           "cty is not a string or names a nested JWT");
    if (check_kid(v->kid, err) != 0)
        return -JWTREV_ERR_BAD_HEADER;
    /* Without crit, b64 (RFC 7797) may only repeat the default. */
    if (v->b64 != NULL && !json_is_true(v->b64))
        return jwtrev_fail(err, JWTREV_ERR_BAD_HEADER,
                           "b64 other than true without crit");
    return 0;
}

/*
 * SECURITY 6-12.  jwk, jku, x5u, x5c and x5t are never looked at: keys
 * come from the ring only (SECURITY 11).
 */
static int
check_header(const jwtrev_policy *p, const struct hdrview *v, jwtrev_token *t,
             jwtrev_error *err)
{
    int rc;

    if ((rc = check_alg(p, v->alg, &t->alg, err)) != 0 ||
        (rc = check_header_rules(p, v, err)) != 0)
        return rc;
    t->kid = v->kid != NULL ? json_string_value(v->kid) : NULL;
    return 0;
}

/* Without a kid: the first key bound to alg that verifies, in ring order. */
static int
verify_by_alg(const jwtrev_keyring *kr, jwtrev_alg alg,
              const unsigned char *msg, size_t msg_len, const struct decoded *d,
              jwtrev_error *err)
{
    const jwtrevp_key *k;
    size_t i;
    int rc = -JWTREV_ERR_BAD_SIGNATURE;

    for (i = 0; rc == -JWTREV_ERR_BAD_SIGNATURE &&
                (k = jwtrevp_keyring_by_alg(kr, alg, i)) != NULL;
         i++)
        rc = jwtrevp_sig_verify(k, msg, msg_len, d->sig, d->sig_len);
    if (i == 0)
        return jwtrev_fail(err, JWTREV_ERR_KEY_NOT_FOUND,
                           "no configured key for %s", jwtrev_alg_name(alg));
    return rc;
}

/* With a kid: exactly the key of that kid, and it must be bound to alg. */
static int
verify_by_kid(const jwtrev_keyring *kr, const jwtrev_token *t,
              const unsigned char *msg, size_t msg_len, const struct decoded *d,
              jwtrev_error *err)
{
    /* The JSON reader refuses "\u0000": strlen is the kid's length. */
    const jwtrevp_key *k = jwtrevp_keyring_by_kid(kr, t->kid, strlen(t->kid));

    if (k == NULL)
        return jwtrev_fail(err, JWTREV_ERR_KEY_NOT_FOUND,
                           "no configured key has the token's kid");
    if (k->alg != t->alg)
        return jwtrev_fail(err, JWTREV_ERR_KEY_NOT_FOUND,
                           "the key with the token's kid is bound to %s, "
                           "not %s",
                           jwtrev_alg_name(k->alg), jwtrev_alg_name(t->alg));
    return jwtrevp_sig_verify(k, msg, msg_len, d->sig, d->sig_len);
}

/*
 * SECURITY 16-17 and 23: the key by kid or by alg, the signature over the
 * received header.payload bytes; only an explicit 0 accepts.
 */
static int
check_signature(const jwtrev_keyring *kr, const jwtrev_token *t,
                const struct segments *sg, const struct decoded *d,
                jwtrev_error *err)
{
    const unsigned char *msg = (const unsigned char *)sg->s[0];
    size_t msg_len = sg->len[0] + 1 + sg->len[1];
    int rc = t->kid != NULL ? verify_by_kid(kr, t, msg, msg_len, d, err)
                            : verify_by_alg(kr, t->alg, msg, msg_len, d, err);

    if (rc == 0 || rc == -JWTREV_ERR_KEY_NOT_FOUND)
        return rc;
    if (rc == -JWTREV_ERR_INTERNAL)
        return jwtrev_fail(err, rc, "the signature check failed to run");
    return jwtrev_fail(err, JWTREV_ERR_BAD_SIGNATURE,
                       "the signature does not verify with the %s key%s",
                       jwtrev_alg_name(t->alg), t->kid ? "" : "s");
}

/* Parse the payload; in signature-only mode it may be any bytes. */
static int
parse_payload(jwtrev_token *t, unsigned flags, jwtrev_error *err)
{
    if (jwtrevp_json_parse_object(t->payload, t->payload_len, &t->claims) == 0)
        return 0;
    t->claims = NULL;
    if (flags & JWTREV_VERIFY_SIGNATURE_ONLY)
        return 0;
    return jwtrev_fail(err, JWTREV_ERR_MALFORMED,
                       "the payload is not a strict JSON object");
}

void
jwtrev_token_clear(jwtrev_token *t)
{
    if (t == NULL)
        return;
    json_decref(t->header);
    json_decref(t->claims);
    free(t->payload);
    memset(t, 0, sizeof(*t));
}

/* What the reading of one token holds between its steps. */
struct reading {
    jwtrev_token t;
    struct segments sg;
    struct decoded d;
    struct hdrview v;
};

/*
 * The steps every reading of a token starts with (SECURITY 1-6): the size
 * cap, the split, the signing-input hash (and with it the log id), the
 * strict base64url of all three segments, the header as a strict JSON
 * object, and a view of the header members the rules look at.  rd is
 * filled from zero; whatever the result, jwtrev_token_clear(&rd->t)
 * releases it.
 */
static int
read_token(const char *token, size_t len, size_t max, const EVP_MD *sha256,
           struct reading *rd, jwtrev_error *err)
{
    int rc;

    memset(rd, 0, sizeof(*rd));
    if ((rc = split(token, len, max, &rd->sg, err)) != 0)
        return rc;
    if (EVP_Digest(token, rd->sg.len[0] + 1 + rd->sg.len[1], rd->t.sighash,
                   NULL, sha256, NULL) != 1) {
        ERR_clear_error();
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "SHA-256 failed");
    }
    if (err != NULL)
        jwtrev_token_logid(&rd->t, err->logid, sizeof(err->logid));
    if ((rc = decode(&rd->sg, &rd->t, &rd->d, err)) != 0)
        return rc;
    if (jwtrevp_json_parse_object(rd->d.hdr, rd->d.hdr_len, &rd->t.header) != 0)
        return jwtrev_fail(err, JWTREV_ERR_MALFORMED,
                           "the header is not a strict JSON object");
    view_header(rd->t.header, &rd->v);
    return 0;
}

/* Once the claims are read, a jti names the token in the log. */
static void
logid_claims(const jwtrev_token *t, jwtrev_error *err)
{
    if (err != NULL && t->jti != NULL)
        jwtrev_token_logid(t, err->logid, sizeof(err->logid));
}

int
jwtrev_verify(const jwtrev_policy *p, const jwtrev_keyring *kr,
              const char *token, size_t len, int64_t now, unsigned flags,
              jwtrev_token *out, jwtrev_error *err)
{
    struct reading rd;
    int rc;

    jwtrev_error_clear(err);
    if (p == NULL || kr == NULL || (token == NULL && len > 0) || out == NULL)
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "jwtrev_verify needs a policy, keys and a token");
    if ((rc = read_token(token, len, p->max_token_len, p->sha256, &rd, err)) ==
            0 &&
        (rc = check_header(p, &rd.v, &rd.t, err)) == 0 &&
        (rc = check_signature(kr, &rd.t, &rd.sg, &rd.d, err)) == 0 &&
        (rc = parse_payload(&rd.t, flags, err)) == 0) {
        rc = jwtrevp_claims_check(p, &rd.t, now, flags, err);
        logid_claims(&rd.t, err); /* also for a refused token with a jti */
    }
    if (rc != 0) {
        jwtrev_token_clear(&rd.t);
        return rc;
    }
    *out = rd.t;
    return 0;
}

int
jwtrev_token_parse_unverified(const char *token, size_t len, jwtrev_token *out,
                              jwtrev_error *err)
{
    struct reading rd;
    int rc;

    jwtrev_error_clear(err);
    if ((token == NULL && len > 0) || out == NULL)
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "bad arguments");
    if ((rc = read_token(token, len, JWTREV_DEFAULT_MAX_TOKEN_LEN, EVP_sha256(),
                         &rd, err)) != 0 ||
        (rc = check_kid(rd.v.kid, err)) != 0 ||
        (rc = parse_payload(&rd.t, 0, err)) != 0 ||
        (rc = jwtrevp_claims_read(rd.t.claims, NULL, &rd.t, err)) != 0) {
        jwtrev_token_clear(&rd.t);
        return rc;
    }
    rd.t.kid = rd.v.kid != NULL ? json_string_value(rd.v.kid) : NULL;
    logid_claims(&rd.t, err);
    *out = rd.t;
    return 0;
}
