/*
 * test_jws_api.c - what jwtrev_verify gives its caller: the verified
 * token, signature-only mode, the log id (SECURITY 33), the released
 * reason strings (32), the keys a caller must pass (31), and one ring and
 * policy shared by many threads (34).
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "jwsfix.h"
#include "tap.h"

#define HS "{\"alg\":\"HS256\"}"

/* "sha256:" and 16 hex digits of SHA-256(header.payload) of tok. */
static void
expected_logid(const char *tok, char *out)
{
    unsigned char h[32];
    size_t n = strrchr(tok, '.') - tok;
    int i;

    EVP_Digest(tok, n, h, NULL, EVP_sha256(), NULL);
    strcpy(out, "sha256:");
    for (i = 0; i < 8; i++)
        sprintf(out + 7 + 2 * i, "%02x", h[i]);
}

static void
test_token_fields(void)
{
    char *tok = tok_json("{\"alg\":\"HS256\",\"kid\":\"k1\"}",
                         "{\"sub\":\"alice\",\"iss\":\"me\",\"exp\":"
                         "1700003600.5,\"jti\":\"id-1\",\"x\":[1]}",
                         &fx.sg[S_K1]);
    unsigned char h[32];
    jwtrev_token t;
    jwtrev_error err;

    ok(fix_verify(P_ALL, tok, strlen(tok), 0, &t, &err) == 0 && err.code == 0,
       "a token with every field is accepted");
    EVP_Digest(tok, strrchr(tok, '.') - tok, h, NULL, EVP_sha256(), NULL);
    ok(memcmp(t.sighash, h, 32) == 0,
       "sighash is SHA-256 of the received header.payload");
    ok(t.alg == JWTREV_ALG_HS256 && strcmp(t.kid, "k1") == 0 &&
           strcmp(t.sub, "alice") == 0 && strcmp(t.iss, "me") == 0 &&
           strcmp(t.jti, "id-1") == 0 && strcmp(t.user, "alice") == 0 &&
           t.has_exp && t.exp == 1700003601 && !t.has_nbf && !t.has_iat,
       "alg, kid, sub, iss, jti, user and exp are filled");
    ok(json_is_object(t.header) && json_is_object(t.claims) &&
           json_is_array(json_object_get(t.claims, "x")) && t.payload_len > 0 &&
           t.payload[t.payload_len] == '\0' &&
           memcmp(t.payload, "{\"sub\"", 6) == 0,
       "header, claims and the payload bytes are kept");
    ok(strcmp(err.logid, "jti=id-1") == 0, "accepted: log id jti=id-1");
    jwtrev_token_clear(&t);
    ok(t.header == NULL && t.payload == NULL && t.sub == NULL,
       "jwtrev_token_clear zeroes the token");
    jwtrev_token_clear(&t);
    jwtrev_token_clear(NULL);
    ok(1, "clearing twice and clearing NULL are allowed");
    free(tok);
}

static void
test_signature_only(void)
{
    static const unsigned char bin[] = {0, 1, 2, 0xff, 'x', 0};
    char *tok = tok_make(HS, bin, sizeof(bin), &fx.sg[S_K1], NULL);
    jwtrev_token t;
    jwtrev_error err;

    ok(fix_verify(P_ALL, tok, strlen(tok), JWTREV_VERIFY_SIGNATURE_ONLY, &t,
                  &err) == 0 &&
           t.claims == NULL && t.payload_len == sizeof(bin) &&
           memcmp(t.payload, bin, sizeof(bin)) == 0,
       "signature-only: binary payload bytes kept, no claims");
    jwtrev_token_clear(&t);
    ok(fix_verify(P_ALL, tok, strlen(tok), 0, &t, &err) ==
           -JWTREV_ERR_MALFORMED,
       "full check: the same token is malformed");
    free(tok);

    tok = tok_json(HS, "{\"exp\":5,\"sub\":7,\"iss\":\"i\",\"jti\":\"j\"}",
                   &fx.sg[S_K1]);
    ok(fix_verify(P_ALL, tok, strlen(tok), JWTREV_VERIFY_SIGNATURE_ONLY, &t,
                  &err) == 0 &&
           t.has_exp && t.exp == 5 && t.sub == NULL &&
           strcmp(t.iss, "i") == 0 && strcmp(err.logid, "jti=j") == 0,
       "signature-only: expired claims pass, well-formed ones are filled");
    jwtrev_token_clear(&t);
    free(tok);
}

struct logid_case {
    const char *hdr, *payload;
    int signer;       /* -1: junk signature */
    const char *want; /* NULL: the sha256 form */
    const char *why;
};

static const struct logid_case logids[] = {
    {"{\"alg\":1}", FIX_VALID, S_K1, NULL, "a header failure: the hash"},
    {HS, FIX_VALID, -1, NULL, "bad_signature: the hash, not the jti"},
    {HS, "{\"exp\":1}", S_K1, NULL, "no jti: the hash"},
    {HS, "{\"exp\":1,\"jti\":\"j-9\"}", S_K1, "jti=j-9",
     "expired with a jti: the jti"},
    {HS, "{\"exp\":1,\"jti\":5}", S_K1, NULL, "a jti of the wrong type"},
    {HS, "{\"exp\":1700003600,\"jti\":\"a\\\"b\\\\c\\u0001d \\u00e9\"}", S_K1,
     "jti=a?b?c?d???", "a jti made printable"},
    {HS, "{\"exp\":1700003600}", S_K1, NULL, "accepted, no jti: the hash"},
};

static void
test_logid(void)
{
    char want[80], *tok, big[300];
    jwtrev_token t;
    jwtrev_error err;
    size_t i;

    for (i = 0; i < sizeof(logids) / sizeof(logids[0]); i++) {
        const struct logid_case *c = &logids[i];
        tok = c->signer < 0 ? tok_make(c->hdr, c->payload, strlen(c->payload),
                                       NULL, "c2lnbmF0dXJl")
                            : tok_json(c->hdr, c->payload, &fx.sg[c->signer]);
        expected_logid(tok, want);
        fix_verify(P_ALL, tok, strlen(tok), 0, &t, &err);
        ok(strcmp(err.logid, c->want ? c->want : want) == 0, "log id %s: %s",
           err.logid, c->why);
        jwtrev_token_clear(&t);
        free(tok);
    }
    memset(big, 'x', sizeof(big));
    sprintf(big, "{\"exp\":1700003600,\"jti\":\"%0200d\"}", 7);
    tok = tok_json(HS, big, &fx.sg[S_K1]);
    fix_verify(P_ALL, tok, strlen(tok), 0, &t, &err);
    ok(strlen(err.logid) == 4 + 72 + 3 && strcmp(err.logid + 76, "...") == 0,
       "a long jti is cut: %zu bytes", strlen(err.logid));
    jwtrev_token_clear(&t);
    ok(jwtrev_verify(fx.pol[P_ALL], fx.kr, tok, strlen(tok), FIX_NOW, 0, &t,
                     NULL) == 0 &&
           jwtrev_verify(fx.pol[P_ALL], fx.kr, "x", 1, FIX_NOW, 0, &t, NULL) ==
               -JWTREV_ERR_MALFORMED,
       "err may be NULL");
    jwtrev_token_clear(&t);
    free(tok);
}

/*
 * The unverified view for jwtrev revoke and status: the verifier's own
 * steps, so the same bytes are refused for the same reasons and the
 * claims read the same (exp rounded up, iat down).
 */
static void
test_parse_unverified(void)
{
    static const struct {
        const char *what, *tok;
        int want;
    } bad[] = {
        {"garbage", "garbage", -JWTREV_ERR_MALFORMED},
        {"two segments", "eyJhbGciOiJub25lIn0.e30", -JWTREV_ERR_MALFORMED},
        {"four segments", "e30.e30.AA.AA", -JWTREV_ERR_MALFORMED},
        {"empty signature", "e30.e30.", -JWTREV_ERR_MALFORMED},
        {"whitespace", "e30.e30 .AAAA", -JWTREV_ERR_MALFORMED},
        {"padding", "e30=.e30.AAAA", -JWTREV_ERR_MALFORMED},
        {"non-canonical bits", "e31.e30.AAAA", -JWTREV_ERR_MALFORMED},
        {"header not an object", "W10.e30.AAAA", -JWTREV_ERR_MALFORMED},
        {"payload not an object", "e30.W10.AAAA", -JWTREV_ERR_MALFORMED},
    };
    char want[80], *tok, *big;
    jwtrev_token t;
    jwtrev_error err;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ok(jwtrev_token_parse_unverified(bad[i].tok, strlen(bad[i].tok), &t,
                                         &err) == bad[i].want,
           "unverified view refuses %s", bad[i].what);
    tok = tok_make("{\"alg\":\"ES256\",\"kid\":\"k\"}",
                   "{\"iss\":\"i\",\"sub\":\"s\",\"jti\":\"j\",\"exp\":10.9,"
                   "\"iat\":-1.5,\"nbf\":3.25}",
                   strlen("{\"iss\":\"i\",\"sub\":\"s\",\"jti\":\"j\",\"exp\":"
                          "10.9,\"iat\":-1.5,\"nbf\":3.25}"),
                   NULL, "AAAA");
    ok(jwtrev_token_parse_unverified(tok, strlen(tok), &t, &err) == 0,
       "unverified view of a token");
    ok(strcmp(t.kid, "k") == 0 && strcmp(t.iss, "i") == 0 &&
           strcmp(t.sub, "s") == 0 && strcmp(t.jti, "j") == 0,
       "kid, iss, sub, jti");
    ok(t.has_exp && t.exp == 11 && t.has_iat && t.iat == -2 && t.has_nbf &&
           t.nbf == 4,
       "times as the verifier reads them: exp and nbf rounded up, iat down");
    ok(strcmp(err.logid, "jti=j") == 0, "log id from the jti");
    expected_logid(tok, want);
    jwtrev_token_clear(&t);
    free(tok);
    tok = tok_make("{}", "{\"exp\":1}", 9, NULL, "AAAA");
    ok(jwtrev_token_parse_unverified(tok, strlen(tok), &t, &err) == 0 &&
           t.jti == NULL,
       "no jti");
    expected_logid(tok, want);
    ok(strcmp(err.logid, want) == 0, "log id from the signing-input hash");
    jwtrev_token_clear(&t);
    free(tok);
    static const struct {
        const char *payload, *why;
        int want;
    } shapes[] = {
        {"{\"iss\":5}", "iss a number", -JWTREV_ERR_BAD_CLAIMS},
        {"{\"sub\":\"\"}", "an empty sub", -JWTREV_ERR_BAD_CLAIMS},
        {"{\"exp\":\"soon\"}", "exp a string", -JWTREV_ERR_MALFORMED},
        {"{\"iat\":1e300}", "iat beyond int64", -JWTREV_ERR_MALFORMED},
    };
    for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        tok = tok_make("{}", shapes[i].payload, strlen(shapes[i].payload), NULL,
                       "AAAA");
        ok(jwtrev_token_parse_unverified(tok, strlen(tok), &t, &err) ==
               shapes[i].want,
           "unverified view refuses %s as the verifier does", shapes[i].why);
        free(tok);
    }
    tok = tok_make("{\"kid\":7}", "{}", 2, NULL, "AAAA");
    ok(jwtrev_token_parse_unverified(tok, strlen(tok), &t, &err) ==
           -JWTREV_ERR_BAD_HEADER,
       "a kid that is not a string is bad_header, as in the verifier");
    free(tok);
    /* The verifier's size cap, not a looser one of its own. */
    big = malloc(JWTREV_DEFAULT_MAX_TOKEN_LEN + 2);
    memset(big, 'A', JWTREV_DEFAULT_MAX_TOKEN_LEN + 1);
    memcpy(big, "e30.e30.", 8);
    big[JWTREV_DEFAULT_MAX_TOKEN_LEN + 1] = '\0';
    ok(jwtrev_token_parse_unverified(big, strlen(big), &t, &err) ==
           -JWTREV_ERR_TOO_LARGE,
       "a token over %d bytes is too_large", JWTREV_DEFAULT_MAX_TOKEN_LEN);
    free(big);
}

/* The log id renderer every host uses, into buffers of any size. */
static void
test_logid_render(void)
{
    jwtrev_token t;
    jwtrev_error err;
    char buf[JWTREV_LOGID_MAX], small[8];

    memset(&t, 0, sizeof(t));
    t.jti = "a\"b\\c\nd\x80";
    jwtrev_token_logid(&t, buf, sizeof(buf));
    ok(strcmp(buf, "jti=a?b?c?d?") == 0, "quote, backslash, control, 8-bit: %s",
       buf);
    t.jti = "0123456789";
    jwtrev_token_logid(&t, small, sizeof(small));
    ok(strcmp(small, "jti=...") == 0, "a tiny buffer: cut with dots: %s",
       small);
    jwtrev_token_logid(&t, small, 5);
    ok(strcmp(small, "jti=") == 0, "no room for a dot: %s", small);
    t.jti = "abc";
    jwtrev_token_logid(&t, small, sizeof(small));
    ok(strcmp(small, "jti=abc") == 0, "an id that just fits is whole: %s",
       small);
    t.jti = NULL;
    memset(t.sighash, 0xab, sizeof(t.sighash));
    jwtrev_token_logid(&t, buf, sizeof(buf));
    ok(strcmp(buf, "sha256:abababababababab") == 0, "hash id: %s", buf);
    jwtrev_error_clear(&err);
    jwtrev_text_logid("abc", 3, &err);
    ok(strcmp(err.logid, "token-sha256:ba7816bf8f01cfea") == 0,
       "a text's id is the SHA-256 of the whole text: %s", err.logid);
    jwtrev_text_logid("other", 5, &err);
    ok(strcmp(err.logid, "token-sha256:ba7816bf8f01cfea") == 0,
       "an id already there is kept");
}

/* docs/design.md 3: released strings keep their meaning and their spelling. */
static void
test_reasons(void)
{
    static const char *const released[] = {
        "ok",
        "malformed",
        "too_large",
        "bad_header",
        "unsupported_alg",
        "alg_not_allowed",
        "crit_unsupported",
        "typ_not_allowed",
        "key_not_found",
        "bad_signature",
        "bad_claims",
        "missing_claim",
        "expired",
        "not_yet_valid",
        "issued_in_future",
        "too_old",
        "bad_issuer",
        "bad_audience",
        "revoked",
        "subject_revoked",
        "key_revoked",
        "user_mismatch",
        "db_error",
        "config_error",
    };
    size_t i;
    int good = 1, token = 1;

    for (i = 0; i < sizeof(released) / sizeof(released[0]); i++) {
        if (strcmp(jwtrev_reason((int)i), released[i]) != 0 ||
            strcmp(jwtrev_reason(-(int)i), released[i]) != 0 ||
            *jwtrev_strerror((int)i) == '\0')
            good = 0;
        if (jwtrev_err_is_token_failure(-(int)i) !=
            (i > 0 && i <= JWTREV_ERR_USER_MISMATCH))
            token = 0;
    }
    ok(good, "every reason code has its released string and a sentence");
    ok(token, "token failures are exactly malformed .. user_mismatch");
    ok(strcmp(jwtrev_reason(-JWTREV_ERR_COUNT - 5), "internal_error") == 0,
       "an unknown code reads as internal_error");
}

/* SECURITY 31: there is no verification without keys. */
static void
test_empty_ring(void)
{
    char *tok = tok_json(HS, FIX_VALID, &fx.sg[S_K1]);
    jwtrev_keyring *kr;
    jwtrev_token t;
    jwtrev_error err;

    ok(jwtrev_verify(NULL, fx.kr, tok, strlen(tok), FIX_NOW, 0, &t, &err) ==
               -JWTREV_ERR_CONFIG_ERROR &&
           jwtrev_verify(fx.pol[P_ALL], NULL, tok, strlen(tok), FIX_NOW, 0, &t,
                         &err) == -JWTREV_ERR_CONFIG_ERROR,
       "no policy or no ring: config_error, never a decision");
    ok(jwtrev_keyring_new(JWTREV_ALGSET_ALL, &kr) == 0 &&
           jwtrev_verify(fx.pol[P_ALL], kr, tok, strlen(tok), FIX_NOW,
                         JWTREV_VERIFY_SIGNATURE_ONLY, &t,
                         &err) == -JWTREV_ERR_KEY_NOT_FOUND,
       "an empty ring finds no key, even in signature-only mode");
    jwtrev_keyring_free(kr);
    free(tok);
}

#define NTHREADS 4
#define ROUNDS 300

struct job {
    char *tok[6];
    int want[6];
    int wrong;
};

static void *
worker(void *arg)
{
    struct job *j = arg;
    jwtrev_token t;
    jwtrev_error err;
    int r, i, rc;

    for (r = 0; r < ROUNDS; r++)
        for (i = 0; i < 6; i++) {
            rc = jwtrev_verify(fx.pol[P_ALL], fx.kr, j->tok[i],
                               strlen(j->tok[i]), FIX_NOW, 0, &t, &err);
            if (rc != -j->want[i] || err.code != j->want[i])
                j->wrong++;
            if (rc == 0)
                jwtrev_token_clear(&t);
        }
    return NULL;
}

/* SECURITY 34: one ring and one policy, many threads, no shared state. */
static void
test_threads(void)
{
    static const int signers[6] = {S_K1, S_ES256, S_RS256, S_ED, S_K1, S_K2};
    static const int want[6] = {
        0, 0, 0, 0, JWTREV_ERR_EXPIRED, JWTREV_ERR_BAD_SIGNATURE};
    static const char *const hdrs[6] = {HS,
                                        "{\"alg\":\"ES256\"}",
                                        "{\"alg\":\"RS256\"}",
                                        "{\"alg\":\"EdDSA\"}",
                                        HS,
                                        "{\"alg\":\"HS256\",\"kid\":\"k1\"}"};
    struct job jobs[NTHREADS];
    pthread_t th[NTHREADS];
    int i, k, wrong = 0;

    for (i = 0; i < NTHREADS; i++) {
        memset(&jobs[i], 0, sizeof(jobs[i]));
        for (k = 0; k < 6; k++) {
            jobs[i].tok[k] =
                tok_json(hdrs[k], k == 4 ? "{\"exp\":1}" : FIX_VALID,
                         &fx.sg[signers[k]]);
            jobs[i].want[k] = want[k];
        }
        pthread_create(&th[i], NULL, worker, &jobs[i]);
    }
    for (i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        wrong += jobs[i].wrong;
        for (k = 0; k < 6; k++)
            free(jobs[i].tok[k]);
    }
    ok(wrong == 0, "%d threads x %d calls: every result right (%d wrong)",
       NTHREADS, ROUNDS * 6, wrong);
}

int
main(void)
{
    fix_setup();
    test_token_fields();
    test_signature_only();
    test_logid();
    test_logid_render();
    test_parse_unverified();
    test_reasons();
    test_empty_ring();
    test_threads();
    FIX_REPORT();
    fix_teardown();
    return tap_done();
}
