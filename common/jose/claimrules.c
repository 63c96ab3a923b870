/*
 * claimrules.c - the claim rules a host applies to an already verified
 * token: "Require jwt-claim" and "Require jwt-scope" of mod_auth_jwtrev.
 * The host only translates its configuration into these calls.  (The time
 * re-check of a cached token is in policy.c, beside the rules it repeats.)
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "josep.h"

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
