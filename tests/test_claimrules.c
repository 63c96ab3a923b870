/*
 * test_claimrules.c - the claim rules hosts apply to verified claims
 * (jwtrev_claim_matches, jwtrev_scopes_present) and the cache's time
 * re-check (jwtrev_token_recheck_time), table-driven.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "jwtrev.h"
#include "tap.h"

#define MAXV 4

static const char claims_json[] =
    "{\"sub\":\"alice\",\"role\":\"admin\",\"groups\":[\"dev\",\"ops\",7],"
    "\"level\":42,\"neg\":-3,\"ok\":true,\"no\":false,\"ratio\":1.5,"
    "\"none\":null,\"obj\":{\"a\":\"b\"},\"empty\":\"\",\"nested\":[[\"x\"]],"
    "\"nul\":\"a\\u0000b\"}";

struct match_case {
    const char *name;
    const char *values[MAXV];
    int want;
};

/* clang-format off */
static const struct match_case match_cases[] = {
    {"role", {"admin"}, 1},
    {"role", {"user", "admin"}, 1},
    {"role", {"Admin"}, 0},              /* exact, no case folding */
    {"role", {"admi"}, 0},               /* no prefix match */
    {"role", {"admin "}, 0},
    {"groups", {"ops"}, 1},              /* any element of an array */
    {"groups", {"qa", "dev"}, 1},
    {"groups", {"7"}, 1},                /* integer element */
    {"groups", {"dev ops"}, 0},          /* elements are not joined */
    {"level", {"42"}, 1},
    {"level", {"042"}, 0},               /* decimal text exactly */
    {"level", {"42.0"}, 0},
    {"neg", {"-3"}, 1},
    {"ok", {"true"}, 1},
    {"ok", {"1"}, 0},
    {"no", {"false"}, 1},
    {"ratio", {"1.5"}, 0},               /* reals never match */
    {"none", {"null"}, 0},
    {"obj", {"{\"a\":\"b\"}"}, 0},       /* objects never match */
    {"nested", {"x"}, 0},                /* no recursion into arrays */
    {"empty", {""}, 1},
    {"nul", {"a"}, 0},                   /* NUL inside: not a prefix match */
    {"missing", {"x"}, 0},
    {"sub", {"alice"}, 1},
    {"role", {NULL}, 0},                 /* no values: nothing matches */
};
/* clang-format on */

static size_t
count_values(const char *const *v)
{
    size_t n = 0;

    while (n < MAXV && v[n] != NULL)
        n++;
    return n;
}

static void
test_matches(void)
{
    json_t *claims = json_loads(claims_json, JSON_ALLOW_NUL, NULL);
    size_t i, n;

    ok(claims != NULL, "claims fixture parses");
    for (i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
        const struct match_case *c = &match_cases[i];

        n = count_values(c->values);
        ok(jwtrev_claim_matches(claims, c->name, c->values, n) == c->want,
           "claim_matches %s %s%s -> %d", c->name,
           c->values[0] ? c->values[0] : "(none)", n > 1 ? " ..." : "",
           c->want);
    }
    ok(jwtrev_claim_matches(NULL, "role", match_cases[0].values, 1) == 0,
       "claim_matches with no claims is 0");
    json_decref(claims);
}

struct scope_case {
    const char *claims;
    const char *scopes[MAXV];
    int want;
};

/* clang-format off */
static const struct scope_case scope_cases[] = {
    {"{\"scope\":\"read write\"}", {"read"}, 1},
    {"{\"scope\":\"read write\"}", {"write", "read"}, 1},
    {"{\"scope\":\"read write\"}", {"read", "admin"}, 0},  /* all needed */
    {"{\"scope\":\"read  write \"}", {"write"}, 1},        /* extra spaces */
    {"{\"scope\":\"readwrite\"}", {"read"}, 0},            /* whole words */
    {"{\"scope\":\"read:all\"}", {"read"}, 0},
    {"{\"scope\":\"Read\"}", {"read"}, 0},                 /* case-sensitive */
    {"{\"scope\":\"read\\twrite\"}", {"write"}, 0},        /* only spaces split */
    {"{\"scp\":[\"read\",\"write\"]}", {"write"}, 1},
    {"{\"scp\":\"read write\"}", {"write"}, 1},            /* Azure form */
    {"{\"scp\":[\"read write\"]}", {"write"}, 1},
    {"{\"scp\":[\"read\",5]}", {"5"}, 0},                  /* only strings */
    {"{\"scope\":\"read\",\"scp\":[\"write\"]}", {"read", "write"}, 1},
    {"{\"scope\":[\"read\"]}", {"read"}, 1},
    {"{\"scope\":5}", {"5"}, 0},
    {"{\"scopes\":\"read\"}", {"read"}, 0},                /* other names */
    {"{}", {"read"}, 0},
    {"{\"scope\":\"read\"}", {""}, 0},                     /* empty word */
    {"{\"scope\":\"\"}", {"read"}, 0},
    {"{\"scope\":\"read\"}", {NULL}, 1},                   /* nothing asked */
};
/* clang-format on */

static void
test_scopes(void)
{
    size_t i, n;

    for (i = 0; i < sizeof(scope_cases) / sizeof(scope_cases[0]); i++) {
        const struct scope_case *c = &scope_cases[i];
        json_t *claims = json_loads(c->claims, 0, NULL);

        n = count_values(c->scopes);
        ok(claims != NULL &&
               jwtrev_scopes_present(claims, c->scopes, n) == c->want,
           "scopes_present %s needs %s%s -> %d", c->claims,
           c->scopes[0] ? c->scopes[0] : "(none)", n > 1 ? " ..." : "",
           c->want);
        json_decref(claims);
    }
    ok(jwtrev_scopes_present(NULL, scope_cases[0].scopes, 1) == 0,
       "scopes_present with no claims is 0");
}

#define NOW INT64_C(1700000000)

struct time_case {
    int has_exp, has_iat;
    int64_t exp, iat, leeway, max_age, now;
    int want; /* 0 or a positive JWTREV_ERR_* */
    const char *what;
};

/* clang-format off */
static const struct time_case time_cases[] = {
    {1, 0, NOW + 10, 0, 0, -1, NOW, 0, "exp ahead"},
    {1, 0, NOW + 1, 0, 0, -1, NOW, 0, "exp one second ahead"},
    {1, 0, NOW, 0, 0, -1, NOW, JWTREV_ERR_EXPIRED, "now == exp"},
    {1, 0, NOW - 59, 0, 60, -1, NOW, 0, "inside the leeway"},
    {1, 0, NOW - 60, 0, 60, -1, NOW, JWTREV_ERR_EXPIRED,
     "now == exp + leeway"},
    {0, 0, 0, 0, 0, -1, NOW, 0, "no exp, no max age"},
    {1, 0, INT64_MAX, 0, 60, -1, NOW, 0, "exp + leeway overflows"},
    {1, 0, INT64_MIN, 0, 60, -1, NOW, JWTREV_ERR_EXPIRED, "exp at INT64_MIN"},
    {1, 1, NOW + 10, NOW - 100, 0, 100, NOW, 0, "iat == now - max_age"},
    {1, 1, NOW + 10, NOW - 101, 0, 100, NOW, JWTREV_ERR_TOO_OLD,
     "one second too old"},
    {1, 1, NOW + 10, NOW - 160, 60, 100, NOW, 0,
     "max age with leeway, at the limit"},
    {1, 1, NOW + 10, NOW - 161, 60, 100, NOW, JWTREV_ERR_TOO_OLD,
     "max age with leeway, past it"},
    {1, 0, NOW + 10, 0, 0, 100, NOW, JWTREV_ERR_MISSING_CLAIM,
     "max age without iat"},
    {1, 1, NOW + 10, NOW - 1000, 1, INT64_MAX, NOW, 0,
     "max age + leeway overflows: no limit"},
    {1, 1, NOW + 10, INT64_MIN, 0, INT64_MAX, NOW, JWTREV_ERR_TOO_OLD,
     "iat + max age at the int64 edges"},
    {1, 1, NOW - 5, NOW - 1000, 0, 100, NOW, JWTREV_ERR_EXPIRED,
     "expired wins over too old"},
    {1, 1, NOW + 10, NOW, -1, -1, NOW, JWTREV_ERR_INTERNAL,
     "negative leeway refused"},
};
/* clang-format on */

static void
test_recheck(void)
{
    size_t i;
    jwtrev_error err;
    int rc;

    for (i = 0; i < sizeof(time_cases) / sizeof(time_cases[0]); i++) {
        const struct time_case *c = &time_cases[i];
        jwtrev_token t;

        memset(&t, 0, sizeof(t));
        t.has_exp = c->has_exp;
        t.exp = c->exp;
        t.has_iat = c->has_iat;
        t.iat = c->iat;
        jwtrev_error_clear(&err);
        rc = jwtrev_token_recheck_time(&t, c->leeway, c->max_age, c->now, &err);
        ok(rc == -c->want && err.code == c->want,
           "recheck_time: %s -> %s (got %s)", c->what,
           c->want ? jwtrev_reason(c->want) : "ok",
           rc ? jwtrev_reason(rc) : "ok");
    }
    rc = jwtrev_token_recheck_time(NULL, 0, -1, NOW, NULL);
    ok(rc == -JWTREV_ERR_INTERNAL, "recheck_time refuses a NULL token");
}

int
main(void)
{
    test_matches();
    test_scopes();
    test_recheck();
    return tap_done();
}
