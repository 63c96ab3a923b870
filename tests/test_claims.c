/*
 * test_claims.c - the claims rules (SECURITY 24-28) and the typ rule
 * (9), table-driven: each row is a policy, a payload, a time and the one
 * expected reason, with the boundaries on both sides.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "jose/josep.h"
#include "tap.h"

#define MAXW 4
#define I64MAX "9223372036854775807"
#define I64MIN "-9223372036854775808"

struct claim_case {
    const char *words[MAXW]; /* policy options */
    const char *claims;      /* payload JSON */
    int64_t now;
    int want; /* 0 or a JWTREV_ERR_* */
    const char *why;
};

/* No words: leeway 60, exp required. */
static const struct claim_case cases[] = {
    /* exp: accept only while now < exp + leeway */
    {{NULL}, "{\"exp\":1000}", 1059, 0, "exp: one second before the end"},
    {{NULL},
     "{\"exp\":1000}",
     1060,
     JWTREV_ERR_EXPIRED,
     "exp: now == exp + leeway rejects"},
    {{"leeway=0"}, "{\"exp\":1000}", 999, 0, "exp, no leeway: now < exp"},
    {{"leeway=0"},
     "{\"exp\":1000}",
     1000,
     JWTREV_ERR_EXPIRED,
     "exp, no leeway: now == exp rejects"},
    {{"leeway=0"}, "{\"exp\":1000.5}", 1000, 0, "exp real: now < 1000.5"},
    {{"leeway=0"},
     "{\"exp\":1000.5}",
     1001,
     JWTREV_ERR_EXPIRED,
     "exp real: 1001 > 1000.5 rejects"},
    {{"leeway=0"}, "{\"exp\":-0.5}", -1, 0, "exp negative real: -1 < -0.5"},
    {{"leeway=0"},
     "{\"exp\":-0.5}",
     0,
     JWTREV_ERR_EXPIRED,
     "exp negative real: 0 > -0.5 rejects"},
    {{"leeway=0"}, "{\"exp\":1e3}", 999, 0, "exp in exponent notation"},
    {{NULL},
     "{\"exp\":" I64MAX "}",
     INT64_MAX - 1,
     0,
     "exp at INT64_MAX: exp + leeway does not overflow"},
    {{NULL}, "{\"exp\":" I64MIN "}", 0, JWTREV_ERR_EXPIRED, "exp at INT64_MIN"},
    {{NULL},
     "{\"exp\":-9223372036854775808.0}",
     0,
     JWTREV_ERR_EXPIRED,
     "exp real -2^63 is in range"},
    {{NULL},
     "{\"exp\":9223372036854775808.0}",
     0,
     JWTREV_ERR_MALFORMED,
     "exp real 2^63 is out of range"},
    {{NULL},
     "{\"exp\":-9.3e18}",
     0,
     JWTREV_ERR_MALFORMED,
     "exp real below -2^63"},
    {{NULL}, "{\"exp\":1e300}", 0, JWTREV_ERR_MALFORMED, "exp 1e300"},
    {{NULL},
     "{\"exp\":9223372036854775808}",
     0,
     JWTREV_ERR_MALFORMED,
     "exp integer 2^63 (refused by the JSON parser)"},
    {{NULL}, "{\"exp\":\"2000\"}", 0, JWTREV_ERR_MALFORMED, "exp a string"},
    {{NULL}, "{\"exp\":true}", 0, JWTREV_ERR_MALFORMED, "exp a boolean"},
    {{NULL}, "{\"exp\":null}", 0, JWTREV_ERR_MALFORMED, "exp null"},
    {{NULL}, "{\"exp\":[1]}", 0, JWTREV_ERR_MALFORMED, "exp an array"},
    {{NULL}, "{}", 0, JWTREV_ERR_MISSING_CLAIM, "exp required by default"},
    {{"require="}, "{}", 0, 0, "require= requires nothing"},
    {{"require=iat,sub"},
     "{\"iat\":1}",
     100,
     JWTREV_ERR_MISSING_CLAIM,
     "a required sub is missing"},
    {{"require=iat,sub"},
     "{\"iat\":1,\"sub\":\"a\"}",
     100,
     0,
     "require replaces the default exp"},
    {{"require=x-custom"},
     "{\"x-custom\":null}",
     0,
     0,
     "a present null counts as present"},
    /* nbf: reject nbf > now + leeway */
    {{"require="}, "{\"nbf\":2000}", 1940, 0, "nbf == now + leeway"},
    {{"require="},
     "{\"nbf\":2000}",
     1939,
     JWTREV_ERR_NOT_YET_VALID,
     "nbf one second past now + leeway"},
    {{"require=", "leeway=0"},
     "{\"nbf\":2000.5}",
     2000,
     JWTREV_ERR_NOT_YET_VALID,
     "nbf real 2000.5 > 2000"},
    {{"require=", "leeway=0"},
     "{\"nbf\":2000.5}",
     2001,
     0,
     "nbf real 2000.5 <= 2001"},
    {{"require="},
     "{\"nbf\":" I64MAX "}",
     INT64_MAX,
     0,
     "nbf and now at INT64_MAX: no overflow"},
    {{"require="}, "{\"nbf\":\"x\"}", 0, JWTREV_ERR_MALFORMED, "nbf a string"},
    /* iat: reject iat > now + leeway */
    {{"require="}, "{\"iat\":2000}", 1940, 0, "iat == now + leeway"},
    {{"require="},
     "{\"iat\":2000}",
     1939,
     JWTREV_ERR_ISSUED_IN_FUTURE,
     "iat one second past now + leeway"},
    {{"require=", "leeway=0"},
     "{\"iat\":2000.25}",
     2000,
     JWTREV_ERR_ISSUED_IN_FUTURE,
     "iat real 2000.25 > 2000"},
    {{"require="}, "{\"iat\":{}}", 0, JWTREV_ERR_MALFORMED, "iat an object"},
    /* max age: reject iat < now - max_age - leeway */
    {{"require=", "max_age=100", "leeway=0"},
     "{\"iat\":1000}",
     1100,
     0,
     "max_age: iat == now - max_age"},
    {{"require=", "max_age=100", "leeway=0"},
     "{\"iat\":1000}",
     1101,
     JWTREV_ERR_TOO_OLD,
     "max_age: one second too old"},
    {{"require=", "max_age=100"},
     "{\"iat\":1000}",
     1160,
     0,
     "max_age: leeway counts"},
    {{"require=", "max_age=100"},
     "{\"iat\":1000}",
     1161,
     JWTREV_ERR_TOO_OLD,
     "max_age: past max_age + leeway"},
    {{"require=", "max_age=100", "leeway=0"},
     "{\"iat\":1000.5}",
     1100,
     0,
     "max_age: iat real 1000.5 >= 1000"},
    {{"require=", "max_age=100", "leeway=0"},
     "{\"iat\":1000.5}",
     1101,
     JWTREV_ERR_TOO_OLD,
     "max_age: iat real 1000.5 < 1001"},
    {{"require=", "max_age=0", "leeway=0"},
     "{\"iat\":5}",
     5,
     0,
     "max_age=0: issued this second"},
    {{"require=", "max_age=100"},
     "{\"iat\":" I64MIN "}",
     0,
     JWTREV_ERR_TOO_OLD,
     "max_age: iat at INT64_MIN"},
    {{"require=", "max_age=100"},
     "{\"iat\":" I64MIN "}",
     INT64_MIN,
     0,
     "max_age: now at INT64_MIN, no underflow"},
    {{"require=", "max_age=100"},
     "{}",
     0,
     JWTREV_ERR_MISSING_CLAIM,
     "max_age requires iat"},
    {{"require=", "max_age=0"},
     "{}",
     0,
     JWTREV_ERR_MISSING_CLAIM,
     "max_age=0 requires iat too"},
    /* iss */
    {{"require=", "iss=https://a.example"},
     "{\"iss\":\"https://a.example\"}",
     0,
     0,
     "iss equal"},
    {{"require=", "iss=https://a.example"},
     "{\"iss\":\"https://a.example/\"}",
     0,
     JWTREV_ERR_BAD_ISSUER,
     "iss with a trailing slash"},
    {{"require=", "iss=https://a.example"},
     "{\"iss\":\"https://A.example\"}",
     0,
     JWTREV_ERR_BAD_ISSUER,
     "iss differing in case"},
    {{"require=", "iss=https://a.example"},
     "{\"iss\":\"https://a.exampl\"}",
     0,
     JWTREV_ERR_BAD_ISSUER,
     "iss a prefix"},
    {{"require=", "iss=https://a.example"},
     "{\"iss\":\"https://a.example.x\"}",
     0,
     JWTREV_ERR_BAD_ISSUER,
     "iss extending the value"},
    {{"require=", "iss=a", "iss=b"},
     "{\"iss\":\"b\"}",
     0,
     0,
     "iss: the second of two"},
    {{"require=", "iss=a"},
     "{\"iss\":[\"a\"]}",
     0,
     JWTREV_ERR_BAD_CLAIMS,
     "iss an array"},
    {{"require=", "iss=a"},
     "{}",
     0,
     JWTREV_ERR_MISSING_CLAIM,
     "iss missing while issuers are configured"},
    {{"require="}, "{\"iss\":\"anything\"}", 0, 0, "no issuers configured"},
    {{"require="},
     "{\"iss\":5}",
     0,
     JWTREV_ERR_BAD_CLAIMS,
     "iss a number, even unconfigured"},
    /* aud */
    {{"require=", "aud=api"}, "{\"aud\":\"api\"}", 0, 0, "aud a string"},
    {{"require=", "aud=api"},
     "{\"aud\":[\"x\",\"api\"]}",
     0,
     0,
     "aud an array containing it"},
    {{"require=", "aud=api"},
     "{\"aud\":[\"x\",\"y\"]}",
     0,
     JWTREV_ERR_BAD_AUDIENCE,
     "aud an array without it"},
    {{"require=", "aud=api"},
     "{\"aud\":\"API\"}",
     0,
     JWTREV_ERR_BAD_AUDIENCE,
     "aud differing in case"},
    {{"require=", "aud=api"},
     "{\"aud\":\"api \"}",
     0,
     JWTREV_ERR_BAD_AUDIENCE,
     "aud with a trailing space"},
    {{"require=", "aud=api", "aud=web"},
     "{\"aud\":[\"web\"]}",
     0,
     0,
     "aud: the second configured"},
    {{"require=", "aud=api"},
     "{\"aud\":[]}",
     0,
     JWTREV_ERR_BAD_CLAIMS,
     "aud an empty array"},
    {{"require="},
     "{\"aud\":[]}",
     0,
     JWTREV_ERR_BAD_CLAIMS,
     "aud an empty array, even unconfigured"},
    {{"require=", "aud=api"},
     "{\"aud\":[\"api\",1]}",
     0,
     JWTREV_ERR_BAD_CLAIMS,
     "aud an array with a number"},
    {{"require=", "aud=api"},
     "{\"aud\":{\"api\":1}}",
     0,
     JWTREV_ERR_BAD_CLAIMS,
     "aud an object"},
    {{"require=", "aud=api"},
     "{}",
     0,
     JWTREV_ERR_MISSING_CLAIM,
     "aud missing while audiences are configured"},
    /* sub, jti, the user claim */
    {{"require="},
     "{\"sub\":\"alice\",\"jti\":\"j1\"}",
     0,
     0,
     "sub and jti strings"},
    {{"require="}, "{\"sub\":\"\"}", 0, JWTREV_ERR_BAD_CLAIMS, "sub empty"},
    {{"require="}, "{\"sub\":7}", 0, JWTREV_ERR_BAD_CLAIMS, "sub a number"},
    {{"require="}, "{\"jti\":7}", 0, JWTREV_ERR_BAD_CLAIMS, "jti a number"},
    {{"require="}, "{\"jti\":\"\"}", 0, JWTREV_ERR_BAD_CLAIMS, "jti empty"},
    {{"require=", "user_claim=email"},
     "{\"email\":\"\"}",
     0,
     JWTREV_ERR_BAD_CLAIMS,
     "the user claim empty"},
    {{"require=", "user_claim=email"},
     "{\"email\":[\"a\"]}",
     0,
     JWTREV_ERR_BAD_CLAIMS,
     "the user claim an array"},
    {{"require=", "user_claim=email"},
     "{\"sub\":\"x\"}",
     0,
     0,
     "a missing user claim is fine when no user is mapped"},
    /* unknown claims, and the order of the rules */
    {{NULL},
     "{\"exp\":9000,\"x\":{\"y\":[1,{}]},\"scope\":5}",
     0,
     0,
     "unknown claims are ignored"},
    {{"iss=a"},
     "{\"exp\":1,\"iss\":\"b\"}",
     100,
     JWTREV_ERR_EXPIRED,
     "order: expired before bad_issuer"},
    {{"iss=a"},
     "{\"exp\":1,\"iss\":5}",
     100,
     JWTREV_ERR_BAD_CLAIMS,
     "order: bad_claims before expired"},
    {{"require=exp,jti"},
     "{\"exp\":1}",
     100,
     JWTREV_ERR_MISSING_CLAIM,
     "order: missing_claim before expired"},
    {{"aud=x", "iss=a"},
     "{\"exp\":900,\"iss\":\"b\",\"aud\":\"y\"}",
     100,
     JWTREV_ERR_BAD_ISSUER,
     "order: bad_issuer before bad_audience"},
    {{"leeway=0"},
     "{\"exp\":200,\"nbf\":150,\"iat\":150}",
     100,
     JWTREV_ERR_NOT_YET_VALID,
     "order: not_yet_valid before iat"},
    {{"leeway=0"},
     "{\"exp\":50,\"nbf\":150}",
     100,
     JWTREV_ERR_EXPIRED,
     "order: expired before not_yet_valid"},
};

static int
make_policy(const char *const *words, int require_user, jwtrev_policy **p)
{
    jwtrev_conf c;
    int i, rc = 0;

    jwtrev_conf_init(&c);
    c.require_user = require_user;
    for (i = 0; i < MAXW && words[i] != NULL && rc == 0; i++)
        rc = jwtrev_conf_set_word(&c, words[i], NULL);
    if (rc == 0)
        rc = jwtrev_policy_new(&c, p, NULL);
    jwtrev_conf_free(&c);
    return rc;
}

/* Judge a payload as jwtrev_verify does after the signature. */
static int
judge(const jwtrev_policy *p, const char *claims, int64_t now, unsigned flags,
      jwtrev_token *t, jwtrev_error *err)
{
    memset(t, 0, sizeof(*t));
    if (jwtrevp_json_parse_object(claims, strlen(claims), &t->claims) != 0)
        return -JWTREV_ERR_MALFORMED;
    return jwtrevp_claims_check(p, t, now, flags, err);
}

static void
test_table(void)
{
    jwtrev_policy *p;
    jwtrev_token t;
    jwtrev_error err;
    size_t i;
    int rc;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct claim_case *c = &cases[i];
        if (make_policy(c->words, 0, &p) != 0) {
            ok(0, "policy for: %s", c->why);
            continue;
        }
        jwtrev_error_clear(&err);
        rc = judge(p, c->claims, c->now, 0, &t, &err);
        ok(rc == -c->want && (rc == 0 || err.code == c->want ||
                              c->want == JWTREV_ERR_MALFORMED),
           "%s: %s", jwtrev_reason(c->want), c->why);
        if (rc != -c->want)
            tap_diag("got %s: %s", jwtrev_reason(rc), err.detail);
        jwtrev_token_clear(&t);
        jwtrev_policy_free(p);
    }
}

/* What the token carries: rounded times, the user, borrowed strings. */
static void
test_fields(void)
{
    const char *const words[MAXW] = {"user_claim=email", "leeway=0"};
    jwtrev_policy *p;
    jwtrev_token t;

    ok(make_policy(words, 1, &p) == 0, "policy mapping a user");
    ok(judge(p, "{\"exp\":1000.5,\"nbf\":10.5,\"iat\":20.5}", 0, 0, &t, NULL) ==
           -JWTREV_ERR_MISSING_CLAIM,
       "require_user: a missing user claim is missing_claim");
    jwtrev_token_clear(&t);
    ok(judge(p,
             "{\"exp\":1000.5,\"nbf\":10.5,\"iat\":20.5,\"email\":\"a@b\","
             "\"sub\":\"s\",\"iss\":\"i\",\"jti\":\"j\"}",
             30, 0, &t, NULL) == 0,
       "accepted with the user claim");
    ok(t.has_exp && t.exp == 1001 && t.has_nbf && t.nbf == 11 && t.has_iat &&
           t.iat == 20,
       "exp and nbf rounded up, iat down");
    ok(t.user != NULL && strcmp(t.user, "a@b") == 0 &&
           strcmp(t.sub, "s") == 0 && strcmp(t.iss, "i") == 0 &&
           strcmp(t.jti, "j") == 0,
       "user, sub, iss and jti point into the claims");
    jwtrev_token_clear(&t);
    ok(judge(p, "{\"exp\":1000}", 0, 0, &t, NULL) == -JWTREV_ERR_MISSING_CLAIM,
       "the user claim is required");
    jwtrev_token_clear(&t);
    jwtrev_policy_free(p);
}

/* Signature-only mode judges nothing, and keeps only well-formed fields. */
static void
test_signature_only(void)
{
    const char *const words[MAXW] = {"iss=a", "aud=b", "max_age=1"};
    jwtrev_policy *p;
    jwtrev_token t;

    ok(make_policy(words, 1, &p) == 0, "a strict policy");
    ok(judge(p, "{\"exp\":\"x\",\"iat\":5,\"sub\":\"\",\"iss\":\"z\"}", 1000,
             JWTREV_VERIFY_SIGNATURE_ONLY, &t, NULL) == 0,
       "signature-only: bad and failing claims are not judged");
    ok(!t.has_exp && t.has_iat && t.iat == 5 && t.sub == NULL &&
           t.iss != NULL && strcmp(t.iss, "z") == 0,
       "signature-only: only well-formed claims are filled");
    jwtrev_token_clear(&t);
    memset(&t, 0, sizeof(t));
    ok(jwtrevp_claims_check(p, &t, 0, JWTREV_VERIFY_SIGNATURE_ONLY, NULL) == 0,
       "signature-only: a payload that is not an object is fine");
    ok(jwtrevp_claims_check(p, &t, 0, 0, NULL) == -JWTREV_ERR_MALFORMED,
       "full check: a payload that is not an object is malformed");
    jwtrev_policy_free(p);
}

struct typ_case {
    const char *types; /* typ= option, or NULL for the default rule */
    const char *typ;   /* the header's typ, NULL when absent */
    int ok;
};

static const struct typ_case typ_cases[] = {
    {NULL, NULL, 1},
    {NULL, "JWT", 1},
    {NULL, "jwt", 1},
    {NULL, "application/jwt", 1},
    {NULL, "APPLICATION/JWT", 1},
    {NULL, "Application/Jwt", 1},
    {NULL, "at+jwt", 0},
    {NULL, "secevent+jwt", 0},
    {NULL, "JWT ", 0},
    {NULL, "JWTX", 0},
    {NULL, "JW", 0},
    {NULL, "", 0},
    {NULL, "application/", 0},
    {NULL, "application/application/jwt", 0},
    {NULL, "text/jwt", 0},
    {"at+jwt", "at+jwt", 1},
    {"at+jwt", "AT+JWT", 1},
    {"at+jwt", "application/at+jwt", 1},
    {"application/at+jwt", "at+jwt", 1},
    {"at+jwt", "JWT", 0},
    {"at+jwt", NULL, 0},
    {"at+jwt,JWT", "jwt", 1},
    {"at+jwt,JWT", NULL, 0},
};

static void
test_typ(void)
{
    char word[64];
    jwtrev_policy *p;
    size_t i;

    for (i = 0; i < sizeof(typ_cases) / sizeof(typ_cases[0]); i++) {
        const struct typ_case *c = &typ_cases[i];
        const char *words[MAXW] = {NULL};
        if (c->types != NULL) {
            snprintf(word, sizeof(word), "typ=%s", c->types);
            words[0] = word;
        }
        if (make_policy(words, 0, &p) != 0) {
            ok(0, "policy typ=%s", c->types);
            continue;
        }
        ok(jwtrevp_policy_typ_ok(p, c->typ) == c->ok, "typ list '%s': %s %s",
           c->types ? c->types : "(default)", c->typ ? c->typ : "(absent)",
           c->ok ? "accepted" : "refused");
        jwtrev_policy_free(p);
    }
}

/* A conf the parser could not produce is still refused by the policy. */
static void
test_policy_refusals(void)
{
    jwtrev_policy *p = NULL;
    jwtrev_error err;
    jwtrev_conf c;

    jwtrev_conf_init(&c);
    c.leeway = -1;
    ok(jwtrev_policy_new(&c, &p, &err) == -JWTREV_ERR_CONFIG_ERROR && p == NULL,
       "negative leeway refused");
    jwtrev_conf_init(&c);
    c.algs = 0;
    ok(jwtrev_policy_new(&c, &p, &err) == -JWTREV_ERR_CONFIG_ERROR,
       "an empty algorithm set refused");
    jwtrev_conf_init(&c);
    c.max_token_len = 0;
    ok(jwtrev_policy_new(&c, &p, &err) == -JWTREV_ERR_CONFIG_ERROR,
       "a zero length cap refused");
}

int
main(void)
{
    test_table();
    test_fields();
    test_signature_only();
    test_typ();
    test_policy_refusals();
    return tap_done();
}
