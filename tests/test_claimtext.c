/*
 * test_claimtext.c - jwtrev_claim_text: a claim as text for an env var or
 * a header (SECURITY 39): the rendering of each JSON type, control
 * characters refused, the cap on a UTF-8 boundary.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "jose/josep.h"
#include "tap.h"

struct text_case {
    const char *json; /* the claim value as JSON */
    size_t cap;
    const char *want; /* NULL: refused (bad_claims) */
    const char *why;
};

static const struct text_case cases[] = {
    {"\"alice\"", 64, "alice", "a string as it is"},
    {"\"a \\\"quoted\\\" \\\\ value\"", 64, "a \"quoted\" \\ value",
     "quotes and backslashes unescaped"},
    {"\"\"", 64, "", "an empty string"},
    {"42", 64, "42", "an integer"},
    {"-7", 64, "-7", "a negative integer"},
    {"1.5", 64, "1.5", "a real"},
    {"true", 64, "true", "true"},
    {"false", 64, "false", "false"},
    {"null", 64, "null", "null"},
    {"[\"read\",\"write\"]", 64, "read write", "an array of strings joined"},
    {"[]", 64, "", "an empty array"},
    {"[\"a\",1]", 64, "[\"a\",1]", "a mixed array as compact JSON"},
    {"{\"b\":[1,2]}", 64, "{\"b\":[1,2]}", "an object as compact JSON"},
    {"{\"b\":\"x\\ny\"}", 64, "{\"b\":\"x\\ny\"}",
     "an object keeps its escapes (no raw control character)"},
    {"\"a\\nb\"", 64, NULL, "LF refused"},
    {"\"a\\rb\"", 64, NULL, "CR refused"},
    {"\"a\\tb\"", 64, NULL, "TAB refused"},
    {"\"\\u001b[31m\"", 64, NULL, "ESC refused"},
    {"\"a\\u007fb\"", 64, NULL, "DEL refused"},
    {"\"a\\u0085b\"", 64, NULL, "C1 NEL refused"},
    {"\"a\\u009fb\"", 64, NULL, "C1 APC refused"},
    {"[\"ok\",\"bad\\r\\n\"]", 64, NULL, "a control inside a joined array"},
    {"\"a\\u00a0b\"", 64,
     "a\xc2\xa0"
     "b",
     "no-break space is not a control"},
    {"\"abcdef\"", 3, "abc", "cut at the cap"},
    {"\"abcdef\"", 0, "", "a cap of 0"},
    {"\"abcdef\"", 6, "abcdef", "exactly the cap"},
    {"\"\\u00e9\\u00e9\"", 3, "\xc3\xa9", "cut before a 2-byte character"},
    {"\"\\u00e9\"", 1, "", "a 2-byte character does not fit in 1"},
    {"\"a\\u20ac\"", 3, "a", "cut before a 3-byte character"},
    {"\"\\ud83d\\ude00x\"", 4, "\xf0\x9f\x98\x80", "a 4-byte character fits"},
    {"\"\\ud83d\\ude00x\"", 3, "", "a 4-byte character does not fit in 3"},
    {"[\"aa\",\"bb\"]", 4, "aa b", "a joined array is cut too"},
};

static void
test_table(void)
{
    jwtrev_error err;
    json_error_t jerr;
    json_t *v;
    char *out;
    size_t i;
    int rc;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct text_case *c = &cases[i];
        v = json_loads(c->json, JSON_DECODE_ANY, &jerr);
        out = (char *)0x1;
        rc = v ? jwtrev_claim_text(v, c->cap, &out, &err) : -1;
        if (c->want != NULL) {
            ok(rc == 0 && strcmp(out, c->want) == 0, "%s", c->why);
            if (rc == 0)
                free(out);
        } else {
            ok(rc == -JWTREV_ERR_BAD_CLAIMS && out == (char *)0x1 &&
                   err.code == JWTREV_ERR_BAD_CLAIMS,
               "%s", c->why);
        }
        json_decref(v);
    }
}

/* A NUL inside a string value (possible through JSON_ALLOW_NUL only). */
static void
test_nul(void)
{
    json_t *v = json_stringn("a\0b", 3);
    char *out = NULL;

    ok(v != NULL &&
           jwtrev_claim_text(v, 64, &out, NULL) == -JWTREV_ERR_BAD_CLAIMS,
       "a NUL inside a string refused");
    json_decref(v);
    ok(jwtrev_claim_text(NULL, 64, &out, NULL) == -JWTREV_ERR_BAD_CLAIMS,
       "no value refused");
}

int
main(void)
{
    test_table();
    test_nul();
    return tap_done();
}
