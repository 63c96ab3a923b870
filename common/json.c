/*
 * json.c - strict JSON input (SECURITY.md 6 and 24): UTF-8, an object at
 * the top, duplicate member names refused, nothing after the value, and a
 * bounded nesting depth.
 */
#include "config.h"

#include "jwtrevp.h"

/*
 * Refuse nesting deeper than JWTREVP_JSON_MAX_DEPTH before jansson sees
 * the text: brackets inside strings are skipped, escapes honoured.
 */
static int
depth_ok(const unsigned char *p, size_t len)
{
    size_t i;
    int depth = 0, in_string = 0;

    for (i = 0; i < len; i++) {
        unsigned char ch = p[i];
        if (in_string) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_string = 0;
        } else if (ch == '"') {
            in_string = 1;
        } else if (ch == '{' || ch == '[') {
            if (++depth > JWTREVP_JSON_MAX_DEPTH)
                return 0;
        } else if (ch == '}' || ch == ']') {
            depth--;
        }
    }
    return 1;
}

int
jwtrevp_json_parse_object(const void *buf, size_t len, json_t **out)
{
    json_error_t jerr;
    json_t *v;

    if (!depth_ok(buf, len))
        return -JWTREV_ERR_MALFORMED;
    v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (v == NULL)
        return -JWTREV_ERR_MALFORMED;
    if (!json_is_object(v)) {
        json_decref(v);
        return -JWTREV_ERR_MALFORMED;
    }
    *out = v;
    return 0;
}
