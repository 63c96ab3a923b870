/*
 * test_json.c - strict JSON input (SECURITY.md 6 and 24): one object,
 * strict UTF-8, no duplicate names, no trailing data, bounded depth.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "jwtrevp.h"
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

int
main(void)
{
    test_table();
    test_depth();
    test_length_bound();
    return tap_done();
}
