/*
 * test_jws.c - jwtrev_verify against SECURITY 1-12, 16-17, 23 and 28,
 * table-driven: each token is built here with OpenSSL (tests/tokens.h)
 * and each row asserts the exact reason.  Every call is also checked for
 * what must hold whatever the token: the OpenSSL error queue is empty,
 * the out-parameter is untouched on failure, and neither the detail nor
 * the log id holds any part of the token.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "jwsfix.h"
#include "tap.h"

#define VALID FIX_VALID
#define HS "{\"alg\":\"HS256\""
#define S_JUNK S_COUNT /* the signature text "c2lnbmF0dXJl" */
#define K16 "kkkkkkkkkkkkkkkk"
#define K256 K16 K16 K16 K16 K16 K16 K16 K16 K16 K16 K16 K16 K16 K16 K16 K16
/* A payload nesting 1 + 31 or 1 + 32 levels (JWTREVP_JSON_MAX_DEPTH 32). */
#define O8 "[[[[[[[["
#define C8 "]]]]]]]]"
#define DEPTH32                                                                \
    "{\"exp\":1700003600,\"x\":" O8 O8 O8 "[[[[[[[" C8 C8 C8 "]]]]]]]}"
#define DEPTH33 "{\"exp\":1700003600,\"x\":" O8 O8 O8 O8 C8 C8 C8 C8 "}"

struct jws_case {
    const char *why;
    const char *hdr;
    const char *payload; /* NULL: VALID */
    int signer;
    int policy;
    unsigned flags;
    int want;
};

static const struct jws_case cases[] = {
    {"HS256 accepted", HS "}", NULL, S_K1, P_ALL, 0, 0},
    {"JSON whitespace in the header",
     " {\n \"alg\" : \"HS256\" ,\"typ\":"
     "\"JWT\"\t}\r\n",
     NULL, S_K1, P_ALL, 0, 0},
    {"alg compared after JSON unescaping", "{\"alg\":\"HS\\u0032\\u00356\"}",
     NULL, S_K1, P_ALL, 0, 0},
    /* SECURITY 6 */
    {"header not JSON", "alg=HS256", NULL, S_K1, P_ALL, 0,
     JWTREV_ERR_MALFORMED},
    {"header a JSON array", "[\"HS256\"]", NULL, S_K1, P_ALL, 0,
     JWTREV_ERR_MALFORMED},
    {"duplicate alg", HS ",\"alg\":\"none\"}", NULL, S_K1, P_ALL, 0,
     JWTREV_ERR_MALFORMED},
    {"trailing data after the header", HS "}x", NULL, S_K1, P_ALL, 0,
     JWTREV_ERR_MALFORMED},
    {"invalid UTF-8 in the header", HS ",\"x\":\"\xff\"}", NULL, S_K1, P_ALL, 0,
     JWTREV_ERR_MALFORMED},
    /* SECURITY 7 */
    {"alg missing", "{\"typ\":\"JWT\"}", NULL, S_K1, P_ALL, 0,
     JWTREV_ERR_BAD_HEADER},
    {"alg a number", "{\"alg\":256}", NULL, S_K1, P_ALL, 0,
     JWTREV_ERR_BAD_HEADER},
    {"alg null", "{\"alg\":null}", NULL, S_K1, P_ALL, 0, JWTREV_ERR_BAD_HEADER},
    {"alg an array", "{\"alg\":[\"HS256\"]}", NULL, S_K1, P_ALL, 0,
     JWTREV_ERR_BAD_HEADER},
    {"alg none", "{\"alg\":\"none\"}", NULL, S_JUNK, P_ALL, 0,
     JWTREV_ERR_UNSUPPORTED_ALG},
    {"alg None", "{\"alg\":\"None\"}", NULL, S_JUNK, P_ALL, 0,
     JWTREV_ERR_UNSUPPORTED_ALG},
    {"alg NONE", "{\"alg\":\"NONE\"}", NULL, S_JUNK, P_ALL, 0,
     JWTREV_ERR_UNSUPPORTED_ALG},
    {"alg nOnE", "{\"alg\":\"nOnE\"}", NULL, S_JUNK, P_ALL, 0,
     JWTREV_ERR_UNSUPPORTED_ALG},
    {"alg hs256", "{\"alg\":\"hs256\"}", NULL, S_K1, P_ALL, 0,
     JWTREV_ERR_UNSUPPORTED_ALG},
    {"alg with a trailing space", "{\"alg\":\"HS256 \"}", NULL, S_K1, P_ALL, 0,
     JWTREV_ERR_UNSUPPORTED_ALG},
    {"alg empty", "{\"alg\":\"\"}", NULL, S_K1, P_ALL, 0,
     JWTREV_ERR_UNSUPPORTED_ALG},
    {"alg outside the allow-list", HS "}", NULL, S_K1, P_ES, 0,
     JWTREV_ERR_ALG_NOT_ALLOWED},
    {"ES256 inside the allow-list", "{\"alg\":\"ES256\"}", NULL, S_ES256, P_ES,
     0, 0},
    /* SECURITY 8 */
    {"crit with a name", HS ",\"crit\":[\"exp\"],\"exp\":1}", NULL, S_K1, P_ALL,
     0, JWTREV_ERR_CRIT_UNSUPPORTED},
    {"crit empty", HS ",\"crit\":[]}", NULL, S_K1, P_ALL, 0,
     JWTREV_ERR_CRIT_UNSUPPORTED},
    {"crit not an array", HS ",\"crit\":\"b64\"}", NULL, S_K1, P_ALL, 0,
     JWTREV_ERR_CRIT_UNSUPPORTED},
    {"RFC 7797 b64 false with crit", HS ",\"b64\":false,\"crit\":[\"b64\"]}",
     NULL, S_K1, P_ALL, 0, JWTREV_ERR_CRIT_UNSUPPORTED},
    {"b64 false without crit", HS ",\"b64\":false}", NULL, S_K1, P_ALL, 0,
     JWTREV_ERR_BAD_HEADER},
    {"b64 true is the default", HS ",\"b64\":true}", NULL, S_K1, P_ALL, 0, 0},
    /* SECURITY 9 */
    {"typ JWT", HS ",\"typ\":\"JWT\"}", NULL, S_K1, P_ALL, 0, 0},
    {"typ application/jwt", HS ",\"typ\":\"application/jwt\"}", NULL, S_K1,
     P_ALL, 0, 0},
    {"typ at+jwt refused by default", HS ",\"typ\":\"at+jwt\"}", NULL, S_K1,
     P_ALL, 0, JWTREV_ERR_TYP_NOT_ALLOWED},
    {"typ secevent+jwt", HS ",\"typ\":\"secevent+jwt\"}", NULL, S_K1, P_ALL, 0,
     JWTREV_ERR_TYP_NOT_ALLOWED},
    {"typ a number", HS ",\"typ\":1}", NULL, S_K1, P_ALL, 0,
     JWTREV_ERR_BAD_HEADER},
    {"typ at+jwt when configured", HS ",\"typ\":\"at+jwt\"}", NULL, S_K1, P_TYP,
     0, 0},
    {"typ absent when a list is configured", HS "}", NULL, S_K1, P_TYP, 0,
     JWTREV_ERR_TYP_NOT_ALLOWED},
    /* SECURITY 10 */
    {"cty JWT (nested)", HS ",\"cty\":\"JWT\"}", NULL, S_K1, P_ALL, 0,
     JWTREV_ERR_BAD_HEADER},
    {"cty application/jwt", HS ",\"cty\":\"application/jwt\"}", NULL, S_K1,
     P_ALL, 0, JWTREV_ERR_BAD_HEADER},
    {"cty jwt", HS ",\"cty\":\"jwt\"}", NULL, S_K1, P_ALL, 0,
     JWTREV_ERR_BAD_HEADER},
    {"cty a number", HS ",\"cty\":7}", NULL, S_K1, P_ALL, 0,
     JWTREV_ERR_BAD_HEADER},
    {"cty of another type", HS ",\"cty\":\"text/plain\"}", NULL, S_K1, P_ALL, 0,
     0},
    {"JWE enc", HS ",\"enc\":\"A128GCM\"}", NULL, S_K1, P_ALL, 0,
     JWTREV_ERR_BAD_HEADER},
    {"JWE zip", HS ",\"zip\":\"DEF\"}", NULL, S_K1, P_ALL, 0,
     JWTREV_ERR_BAD_HEADER},
    {"JWE epk", HS ",\"epk\":{}}", NULL, S_K1, P_ALL, 0, JWTREV_ERR_BAD_HEADER},
    {"JWE p2c", HS ",\"p2c\":1000}", NULL, S_K1, P_ALL, 0,
     JWTREV_ERR_BAD_HEADER},
    /* SECURITY 11: embedded keys never verify */
    {"jwk with the attacker's key",
     HS ",\"jwk\":{\"kty\":\"oct\",\"k\":"
        "\"YW4gYXR0YWNrZXIncyBvd24gMzItYnl0"
        "ZSBzZWNyZXQ\"}}",
     NULL, S_ATTACK, P_ALL, 0, JWTREV_ERR_BAD_SIGNATURE},
    {"jku to the attacker", HS ",\"jku\":\"https://evil.example/k\"}", NULL,
     S_ATTACK, P_ALL, 0, JWTREV_ERR_BAD_SIGNATURE},
    {"x5u to the attacker", HS ",\"x5u\":\"https://evil.example/c\"}", NULL,
     S_ATTACK, P_ALL, 0, JWTREV_ERR_BAD_SIGNATURE},
    {"x5c from the attacker", HS ",\"x5c\":[\"MIIB\"]}", NULL, S_ATTACK, P_ALL,
     0, JWTREV_ERR_BAD_SIGNATURE},
    {"jwk, jku, x5c, x5t ignored for a good token",
     HS ",\"jwk\":{\"kty\":\"oct\",\"k\":\"AA\"},\"jku\":\"https://x\","
        "\"x5c\":[],\"x5t\":\"AA\",\"x5u\":\"https://y\"}",
     NULL, S_K1, P_ALL, 0, 0},
    /* SECURITY 12 and 16: kid */
    {"kid k1", HS ",\"kid\":\"k1\"}", NULL, S_K1, P_ALL, 0, 0},
    {"kid k1 selects k1 only (k2 would verify)", HS ",\"kid\":\"k1\"}", NULL,
     S_K2, P_ALL, 0, JWTREV_ERR_BAD_SIGNATURE},
    {"kid in another case", HS ",\"kid\":\"K1\"}", NULL, S_K1, P_ALL, 0,
     JWTREV_ERR_KEY_NOT_FOUND},
    {"kid with a trailing space", HS ",\"kid\":\"k1 \"}", NULL, S_K1, P_ALL, 0,
     JWTREV_ERR_KEY_NOT_FOUND},
    {"kid a prefix", HS ",\"kid\":\"k\"}", NULL, S_K1, P_ALL, 0,
     JWTREV_ERR_KEY_NOT_FOUND},
    {"kid empty", HS ",\"kid\":\"\"}", NULL, S_K1, P_ALL, 0,
     JWTREV_ERR_KEY_NOT_FOUND},
    {"kid a path", HS ",\"kid\":\"../../../etc/passwd\"}", NULL, S_K1, P_ALL, 0,
     JWTREV_ERR_KEY_NOT_FOUND},
    {"kid SQL", HS ",\"kid\":\"k1' OR '1'='1\"}", NULL, S_K1, P_ALL, 0,
     JWTREV_ERR_KEY_NOT_FOUND},
    {"kid of 256 bytes, the most", HS ",\"kid\":\"" K256 "\"}", NULL, S_K1,
     P_ALL, 0, JWTREV_ERR_KEY_NOT_FOUND},
    {"kid of 257 bytes", HS ",\"kid\":\"k" K256 "\"}", NULL, S_K1, P_ALL, 0,
     JWTREV_ERR_BAD_HEADER},
    {"kid a number", HS ",\"kid\":1}", NULL, S_K1, P_ALL, 0,
     JWTREV_ERR_BAD_HEADER},
    {"kid null", HS ",\"kid\":null}", NULL, S_K1, P_ALL, 0,
     JWTREV_ERR_BAD_HEADER},
    {"kid of the HS256 key on an HS384 token",
     "{\"alg\":\"HS384\","
     "\"kid\":\"k1\"}",
     NULL, S_K1_384, P_ALL, 0, JWTREV_ERR_KEY_NOT_FOUND},
    {"kid k3 for HS384", "{\"alg\":\"HS384\",\"kid\":\"k3\"}", NULL, S_K3,
     P_ALL, 0, 0},
    {"HS384 without kid", "{\"alg\":\"HS384\"}", NULL, S_K3, P_ALL, 0, 0},
    {"no kid: the second HS256 key", HS "}", NULL, S_K2, P_ALL, 0, 0},
    {"no kid: HS384 made with an HS256 key's secret", "{\"alg\":\"HS384\"}",
     NULL, S_K1_384, P_ALL, 0, JWTREV_ERR_BAD_SIGNATURE},
    {"no key bound to HS512", "{\"alg\":\"HS512\"}", NULL, S_K1, P_ALL, 0,
     JWTREV_ERR_KEY_NOT_FOUND},
    {"RS256 with kid", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", NULL, S_RS256,
     P_ALL, 0, 0},
    {"RS256 without kid", "{\"alg\":\"RS256\"}", NULL, S_RS256, P_ALL, 0, 0},
    {"PS256 on the RS256 key's kid", "{\"alg\":\"PS256\",\"kid\":\"rsa1\"}",
     NULL, S_PS256, P_ALL, 0, JWTREV_ERR_KEY_NOT_FOUND},
    {"RS512 on the RS256 key's kid", "{\"alg\":\"RS512\",\"kid\":\"rsa1\"}",
     NULL, S_RS512, P_ALL, 0, JWTREV_ERR_KEY_NOT_FOUND},
    {"PS256 on its own kid", "{\"alg\":\"PS256\",\"kid\":\"ps1\"}", NULL,
     S_PS256, P_ALL, 0, 0},
    {"ES256", "{\"alg\":\"ES256\"}", NULL, S_ES256, P_ALL, 0, 0},
    {"ES256 with a DER signature", "{\"alg\":\"ES256\"}", NULL, S_ESDER, P_ALL,
     0, JWTREV_ERR_BAD_SIGNATURE},
    {"ES384", "{\"alg\":\"ES384\"}", NULL, S_ES384, P_ALL, 0, 0},
    {"ES512 with no such key", "{\"alg\":\"ES512\"}", NULL, S_ES256, P_ALL, 0,
     JWTREV_ERR_KEY_NOT_FOUND},
    {"ES384 header on an ES256 signature", "{\"alg\":\"ES384\"}", NULL, S_ES256,
     P_ALL, 0, JWTREV_ERR_BAD_SIGNATURE},
    {"EdDSA", "{\"alg\":\"EdDSA\"}", NULL, S_ED, P_ALL, 0, 0},
    {"key confusion: HS256 keyed with the RSA PEM", HS "}", NULL, S_PEMHMAC,
     P_ALL, 0, JWTREV_ERR_BAD_SIGNATURE},
    {"key confusion: HS256 on the RSA key's kid", HS ",\"kid\":\"rsa1\"}", NULL,
     S_PEMHMAC, P_ALL, 0, JWTREV_ERR_KEY_NOT_FOUND},
    {"RS256 header with an HMAC signature", "{\"alg\":\"RS256\"}", NULL, S_K1,
     P_ALL, 0, JWTREV_ERR_BAD_SIGNATURE},
    /* SECURITY 23 */
    {"a junk signature", HS "}", NULL, S_JUNK, P_ALL, 0,
     JWTREV_ERR_BAD_SIGNATURE},
    {"a junk signature, signature-only mode", HS "}", NULL, S_JUNK, P_ALL,
     JWTREV_VERIFY_SIGNATURE_ONLY, JWTREV_ERR_BAD_SIGNATURE},
    /* the payload, SECURITY 24 and 28 */
    {"payload not JSON", HS "}", "hello", S_K1, P_ALL, 0, JWTREV_ERR_MALFORMED},
    {"payload not JSON, signature-only", HS "}", "hello", S_K1, P_ALL,
     JWTREV_VERIFY_SIGNATURE_ONLY, 0},
    {"payload an array", HS "}", "[1]", S_K1, P_ALL, 0, JWTREV_ERR_MALFORMED},
    {"payload with duplicate claims", HS "}", "{\"exp\":1700003600,\"exp\":1}",
     S_K1, P_ALL, 0, JWTREV_ERR_MALFORMED},
    {"payload empty", HS "}", "", S_K1, P_ALL, 0, JWTREV_ERR_MALFORMED},
    {"payload with invalid UTF-8", HS "}",
     "{\"exp\":1700003600,\"x\":\"\xff\"}", S_K1, P_ALL, 0,
     JWTREV_ERR_MALFORMED},
    {"payload nested 32 levels deep", HS "}", DEPTH32, S_K1, P_ALL, 0, 0},
    {"payload nested 33 levels deep", HS "}", DEPTH33, S_K1, P_ALL, 0,
     JWTREV_ERR_MALFORMED},
    {"payload with trailing data", HS "}", "{\"exp\":1700003600} x", S_K1,
     P_ALL, 0, JWTREV_ERR_MALFORMED},
    {"expired", HS "}", "{\"exp\":1600000000}", S_K1, P_ALL, 0,
     JWTREV_ERR_EXPIRED},
    {"expired, signature-only", HS "}", "{\"exp\":1600000000}", S_K1, P_ALL,
     JWTREV_VERIFY_SIGNATURE_ONLY, 0},
    {"sub empty", HS "}", "{\"exp\":1700003600,\"sub\":\"\"}", S_K1, P_ALL, 0,
     JWTREV_ERR_BAD_CLAIMS},
    {"jti a number", HS "}", "{\"exp\":1700003600,\"jti\":5}", S_K1, P_ALL, 0,
     JWTREV_ERR_BAD_CLAIMS},
};

static void
test_table(void)
{
    jwtrev_token t;
    jwtrev_error err;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct jws_case *c = &cases[i];
        const char *payload = c->payload ? c->payload : VALID;
        char *tok = c->signer == S_JUNK
                        ? tok_make(c->hdr, payload, strlen(payload), NULL,
                                   "c2lnbmF0dXJl")
                        : tok_json(c->hdr, payload, &fx.sg[c->signer]);
        int rc = fix_verify(c->policy, tok, strlen(tok), c->flags, &t, &err);
        ok(rc == -c->want && (rc == 0 || err.code == c->want), "%s: %s",
           jwtrev_reason(c->want), c->why);
        if (rc != -c->want)
            tap_diag("got %s: %s", jwtrev_reason(rc), err.detail);
        jwtrev_token_clear(&t);
        free(tok);
    }
}

int
main(void)
{
    fix_setup();
    test_table();
    FIX_REPORT();
    fix_teardown();
    return tap_done();
}
