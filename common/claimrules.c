/*
 * claimrules.c - the claim rules a host applies to an already verified
 * token: "Require jwt-claim" and "Require jwt-scope" of mod_auth_jwtrev,
 * and the time re-check of a token a host cached after verifying it.
 * The host only translates its configuration into these calls.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "jwtrevp.h"

/*
 * 1 when a scalar claim value equals text: a string byte for byte, an
 * integer by its decimal form, a boolean as "true" / "false".  Reals,
 * null, objects and arrays never match (no lossy number comparison).
 */
static int
scalar_equals(const json_t *v, const char *text)
{
    char buf[24];

    if (json_is_string(v))
        return strlen(text) == json_string_length(v) &&
               memcmp(json_string_value(v), text, json_string_length(v)) == 0;
    if (json_is_integer(v)) {
        snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(v));
        return strcmp(buf, text) == 0;
    }
    if (json_is_boolean(v))
        return strcmp(text, json_is_true(v) ? "true" : "false") == 0;
    return 0;
}

static int
scalar_in(const json_t *v, const char *const *values, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (scalar_equals(v, values[i]))
            return 1;
    return 0;
}

int
jwtrev_claim_matches(const json_t *claims, const char *name,
                     const char *const *values, size_t n)
{
    const json_t *v, *e;
    size_t i;

    if (claims == NULL || name == NULL)
        return 0;
    v = json_object_get(claims, name);
    if (v == NULL)
        return 0;
    if (!json_is_array(v))
        return scalar_in(v, values, n);
    json_array_foreach(v, i, e)
    {
        if (scalar_in(e, values, n))
            return 1;
    }
    return 0;
}

/* 1 when the space-separated list s (len bytes) holds the word w. */
static int
word_in(const char *s, size_t len, const char *w)
{
    size_t wl = strlen(w), i = 0, start;

    if (wl == 0)
        return 0;
    while (i < len) {
        while (i < len && s[i] == ' ')
            i++;
        start = i;
        while (i < len && s[i] != ' ')
            i++;
        if (i - start == wl && memcmp(s + start, w, wl) == 0)
            return 1;
    }
    return 0;
}

/*
 * 1 when the scope claim value v grants w: a space-separated string
 * (RFC 8693 "scope", also Azure's "scp") or an array of such strings.
 */
static int
scope_value_has(const json_t *v, const char *w)
{
    const json_t *e;
    size_t i;

    if (json_is_string(v))
        return word_in(json_string_value(v), json_string_length(v), w);
    if (!json_is_array(v))
        return 0;
    json_array_foreach(v, i, e)
    {
        if (json_is_string(e) &&
            word_in(json_string_value(e), json_string_length(e), w))
            return 1;
    }
    return 0;
}

int
jwtrev_scopes_present(const json_t *claims, const char *const *scopes, size_t n)
{
    const json_t *scope, *scp;
    size_t i;

    if (claims == NULL)
        return 0;
    scope = json_object_get(claims, "scope");
    scp = json_object_get(claims, "scp");
    for (i = 0; i < n; i++)
        if (!scope_value_has(scope, scopes[i]) &&
            !scope_value_has(scp, scopes[i]))
            return 0;
    return 1;
}

/* Compare a + b with c without overflowing: <0, 0, >0 (as policy.c). */
static int
sum_cmp(int64_t a, int64_t b, int64_t c)
{
    int64_t s;

    if (__builtin_add_overflow(a, b, &s))
        return b > 0 ? 1 : -1;
    return (s > c) - (s < c);
}

int
jwtrev_token_recheck_time(const jwtrev_token *t, int64_t leeway,
                          int64_t max_age, int64_t now, jwtrev_error *err)
{
    int64_t limit;

    if (t == NULL || leeway < 0)
        return jwtrevp_fail(err, JWTREV_ERR_INTERNAL, "bad arguments");
    if (t->has_exp && sum_cmp(t->exp, leeway, now) <= 0)
        return jwtrevp_fail(
            err, JWTREV_ERR_EXPIRED, "expired at %lld, now %lld, leeway %lld",
            (long long)t->exp, (long long)now, (long long)leeway);
    if (max_age < 0)
        return 0;
    if (!t->has_iat)
        return jwtrevp_fail(err, JWTREV_ERR_MISSING_CLAIM,
                            "missing claim iat (a maximum age is set)");
    if (!__builtin_add_overflow(max_age, leeway, &limit) &&
        sum_cmp(t->iat, limit, now) < 0)
        return jwtrevp_fail(err, JWTREV_ERR_TOO_OLD,
                            "issued at %lld, older than %lld s (leeway "
                            "%lld) at %lld",
                            (long long)t->iat, (long long)max_age,
                            (long long)leeway, (long long)now);
    return 0;
}
