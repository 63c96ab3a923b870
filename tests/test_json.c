/*
 * test_json.c - strict JSON input (SECURITY 6 and 24): one object,
 * strict UTF-8, no duplicate names, no trailing data, bounded depth.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "json_ref.h"
#include "jose/josep.h"
#include "tap.h"

struct json_case {
    const char *text;
    size_t len; /* 0: strlen(text) */
    int ok;
    const char *why;
};

static const struct json_case cases[] = {
    {"{}", 0, 1, "an empty object"},
    {"{\"a\":1,\"b\":[1,2,{\"c\":null}]}", 0, 1, "nested values"},
    {" \t\r\n{ \"a\" : 1 ,\n\"b\":\t2 } \r\n", 0, 1, "JSON whitespace"},
    {"{\"a\":1,\"a\":2}", 0, 0, "a duplicate member name"},
    {"{\"a\":1,\"a\":1}", 0, 0, "a duplicate with the same value"},
    {"{\"x\":{\"b\":1,\"b\":2}}", 0, 0, "a duplicate in a nested object"},
    {"{\"a\":1,\"\\u0061\":2}", 0, 0, "a duplicate spelled with an escape"},
    {"[1,2]", 0, 0, "a top-level array"},
    {"[{}]", 0, 0, "an object inside a top-level array"},
    {"\"str\"", 0, 0, "a top-level string"},
    {"1", 0, 0, "a top-level number"},
    {"null", 0, 0, "a top-level null"},
    {"true", 0, 0, "a top-level true"},
    {"", 0, 0, "no text"},
    {"{", 0, 0, "an unclosed object"},
    {"{} x", 0, 0, "trailing text"},
    {"{}{}", 0, 0, "a second object"},
    {"{},", 0, 0, "a trailing comma"},
    {"{\"a\":1,}", 0, 0, "a comma before the brace"},
    {"{'a':1}", 0, 0, "single quotes"},
    {"{a:1}", 0, 0, "an unquoted name"},
    {"{\"a\":01}", 0, 0, "a leading zero"},
    {"{\"a\":NaN}", 0, 0, "NaN"},
    {"{\"a\":Infinity}", 0, 0, "Infinity"},
    {"{\"a\":1e999}", 0, 0, "a real that overflows"},
    {"{\"a\":99999999999999999999}", 0, 0, "an integer beyond int64"},
    {"{\"a\":\"\xff\"}", 0, 0, "the byte 0xff"},
    {"{\"a\":\"\xc0\xaf\"}", 0, 0, "an overlong UTF-8 sequence"},
    {"{\"a\":\"\xed\xa0\x80\"}", 0, 0, "a UTF-8 encoded surrogate"},
    {"{\"a\":\"\xe2\x82\"}", 0, 0, "a truncated UTF-8 sequence"},
    {"{\"\xff\":1}", 0, 0, "invalid UTF-8 in a name"},
    {"{\"a\":\"\\ud800\"}", 0, 0, "a lone surrogate escape"},
    {"{\"a\":\"\xe2\x82\xac \\u20ac \\ud83d\\ude00\"}", 0, 1,
     "valid UTF-8 and escapes"},
    {"{\"a\":\"\\u0000\"}", 0, 0, "a NUL escape in a value"},
    {"{\"\\u0000\":1}", 0, 0, "a NUL escape in a name"},
    {"{\"a\":\"x\0y\"}", 10, 0, "a raw NUL byte in a string"},
    {"{}\0", 3, 0, "a NUL byte after the object"},
    {"{\"a\":2\0}", 8, 0, "a NUL byte after a number (jansson 2.14 takes it)"},
    {"{\"a\":\"\x01\"}", 0, 0, "a raw control character in a string"},
    {"{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}", 0, 1,
     "brackets inside a string do not count as depth"},
    {"{\"a\":\"\\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}", 0, 1,
     "an escaped quote does not end the string"},
};

static void
test_table(void)
{
    json_t *v;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct json_case *c = &cases[i];
        size_t len = c->len ? c->len : strlen(c->text);
        int rc;
        v = (json_t *)0x1;
        rc = jwtrevp_json_parse_object(c->text, len, &v);
        if (c->ok) {
            ok(rc == 0 && json_is_object(v), "accepted: %s", c->why);
            if (rc == 0)
                json_decref(v);
        } else {
            ok(rc == -JWTREV_ERR_MALFORMED && v == (json_t *)0x1,
               "refused, out untouched: %s", c->why);
        }
    }
}

/* {"a": [[[...]]]} with the object counted: total depth d. */
static char *
nested(size_t depth, size_t *len)
{
    size_t inner = depth - 1, i, o = 0;
    char *s = malloc(inner * 2 + 16);

    o += (size_t)sprintf(s, "{\"a\":");
    for (i = 0; i < inner; i++)
        s[o++] = '[';
    for (i = 0; i < inner; i++)
        s[o++] = ']';
    s[o++] = '}';
    s[o] = '\0';
    *len = o;
    return s;
}

static void
test_depth(void)
{
    json_t *v = NULL;
    size_t len;
    char *s;
    int rc;

    s = nested(JWTREVP_JSON_MAX_DEPTH, &len);
    rc = jwtrevp_json_parse_object(s, len, &v);
    ok(rc == 0, "depth %d is accepted", JWTREVP_JSON_MAX_DEPTH);
    if (rc == 0)
        json_decref(v);
    free(s);

    s = nested(JWTREVP_JSON_MAX_DEPTH + 1, &len);
    ok(jwtrevp_json_parse_object(s, len, &v) == -JWTREV_ERR_MALFORMED,
       "depth %d is refused", JWTREVP_JSON_MAX_DEPTH + 1);
    free(s);

    /* A depth bomb, well-formed, far past jansson's own limit. */
    s = nested(500000, &len);
    ok(jwtrevp_json_parse_object(s, len, &v) == -JWTREV_ERR_MALFORMED,
       "a depth bomb of 500000 levels is refused");
    free(s);
}

/* The text is taken by length, not up to a NUL: no read past len. */
static void
test_length_bound(void)
{
    const char text[] = "{\"a\":1}garbage";
    json_t *v = NULL;

    ok(jwtrevp_json_parse_object(text, 7, &v) == 0 && v != NULL,
       "only len bytes are parsed");
    json_decref(v);
}

/*
 * The library reads JSON itself, into jansson values: for each text it
 * must accept exactly what jansson's parser (with the same rules)
 * accepts, and build an equal tree.  fuzz_json does the same at random.
 */
static const char *const diff_texts[] = {
    "{\"a\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}",
    "{\"a\":\"\\u0041\\u00e9\\u20AC\\uFFFF\\ud83d\\ude00\"}",
    "{\"\\u00e9t\\u00e9\":1,\"\xc3\xa9t\xc3\xa9 \":2}",
    "{\"a\":\"\\ud83d\"}",
    "{\"a\":\"\\ud83d\\u0041\"}",
    "{\"a\":\"\\ude00\"}",
    "{\"a\":\"\\u12\"}",
    "{\"a\":\"\\x41\"}",
    "{\"a\":\"\\U0041\"}",
    "{\"a\":\"\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"}",
    "{\"a\":\"\xf4\x90\x80\x80\"}",
    "{\"a\":\"\xe0\x9f\xbf\"}",
    "{\"a\":\"\xc1\xbf\"}",
    "{\"a\":\"\x7f\"}",
    "{\"a\":0,\"b\":-0,\"c\":-0.0,\"d\":1.5e3,\"e\":1E-3}",
    "{\"a\":9223372036854775807,\"b\":-9223372036854775808}",
    "{\"a\":9223372036854775808}",
    "{\"a\":-9223372036854775809}",
    "{\"a\":1e308,\"b\":1e-400,\"c\":123456789012345678901234567890.5}",
    "{\"a\":1.}",
    "{\"a\":.5}",
    "{\"a\":1e}",
    "{\"a\":1e+}",
    "{\"a\":-}",
    "{\"a\":+1}",
    "{\"a\":0x10}",
    "{\"a\":1 2}",
    "{\"a\":[1,[2,[3,{}]],\"x\",true,false,null]}",
    "{\"a\":tru}",
    "{\"a\":nulll}",
    "{\"a\":True}",
    "{\"\":\"\"}",
    "{\"a\" :1 , \"b\":\n2\r}\t",
    "{\"a\":1}\f",
    "\xef\xbb\xbf{}",
    "{\"a\":1,\"b\":2,\"a\\u0000\":3}",
    "{\"a\":{\"x\":1},\"b\":{\"x\":1}}",
    "{\"a\":\"unterminated}",
    "{\"a\"}",
    "{\"a\":}",
    "{1:2}",
    "{\"a\":1,,\"b\":2}",
    "{\"a\":[1,,2]}",
    "{\"a\":[1 2]}",
    "{\"a\":[}",
};

static void
test_differential(void)
{
    json_t *ours, *ref;
    size_t i;
    int agree = 0, n = (int)(sizeof(diff_texts) / sizeof(diff_texts[0]));

    for (i = 0; i < sizeof(diff_texts) / sizeof(diff_texts[0]); i++) {
        const char *t = diff_texts[i];
        int rc = jwtrevp_json_parse_object(t, strlen(t), &ours);
        ref = json_ref_parse(t, strlen(t));
        if ((rc == 0) == (ref != NULL) &&
            (ref == NULL || json_equal(ours, ref)))
            agree++;
        else
            tap_diag("differs from jansson (%s): %s",
                     rc == 0 ? "accepted" : "refused", t);
        if (rc == 0)
            json_decref(ours);
        json_decref(ref);
    }
    ok(agree == n, "%d/%d texts read as jansson reads them", agree, n);
}

int
main(void)
{
    test_table();
    test_depth();
    test_length_bound();
    test_differential();
    return tap_done();
}
