/*
 * claimtext.c - a verified claim as text for an env var or a header
 * (SECURITY 39): no CR, LF, NUL or other control character ever gets
 * through, and the text is capped on a UTF-8 character boundary.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "josep.h"

/*
 * 1 when s holds a C0 control, DEL, or a C1 control (U+0080-U+009F, UTF-8
 * C2 80-C2 9F): terminals and log viewers act on all of them.
 */
static int
has_control(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i;

    for (i = 0; i < len; i++) {
        if (u[i] < 0x20 || u[i] == 0x7f)
            return 1;
        if (u[i] == 0xc2 && i + 1 < len && u[i + 1] >= 0x80 && u[i + 1] <= 0x9f)
            return 1;
    }
    return 0;
}

static int
all_strings(const json_t *arr)
{
    size_t i;
    const json_t *v;

    json_array_foreach(arr, i, v)
    {
        if (!json_is_string(v))
            return 0;
    }
    return 1;
}

/* An array of strings joined by single spaces; the caller frees it. */
static char *
join_strings(const json_t *arr)
{
    size_t i, len = 0;
    const json_t *v;
    char *s, *o;

    json_array_foreach(arr, i, v) len += json_string_length(v) + 1;
    s = malloc(len + 1);
    if (s == NULL)
        return NULL;
    o = s;
    json_array_foreach(arr, i, v)
    {
        if (i > 0)
            *o++ = ' ';
        memcpy(o, json_string_value(v), json_string_length(v));
        o += json_string_length(v);
    }
    *o = '\0';
    return s;
}

/* The full text of value (before the cap); the caller frees it. */
static char *
render(const json_t *value, size_t *len)
{
    char *s;

    if (json_is_string(value)) {
        /* memcpy, not strndup: a NUL inside must reach has_control. */
        *len = json_string_length(value);
        s = malloc(*len + 1);
        if (s != NULL) {
            memcpy(s, json_string_value(value), *len);
            s[*len] = '\0';
        }
        return s;
    }
    if (json_is_array(value) && all_strings(value))
        s = join_strings(value);
    else
        s = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s != NULL)
        *len = strlen(s);
    return s;
}

/* The largest cut <= cap that does not split a UTF-8 sequence. */
static size_t
utf8_cut(const char *s, size_t len, size_t cap)
{
    if (len <= cap)
        return len;
    while (cap > 0 && ((unsigned char)s[cap] & 0xc0) == 0x80)
        cap--;
    return cap;
}

int
jwtrev_claim_text(const json_t *value, size_t cap, char **out,
                  jwtrev_error *err)
{
    char *s;
    size_t len = 0;

    if (value == NULL)
        return jwtrev_fail(err, JWTREV_ERR_BAD_CLAIMS, "no claim value");
    s = render(value, &len);
    if (s == NULL)
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    if (has_control(s, len)) {
        free(s);
        return jwtrev_fail(err, JWTREV_ERR_BAD_CLAIMS,
                           "the claim holds control characters");
    }
    s[utf8_cut(s, len, cap)] = '\0';
    *out = s;
    return 0;
}
