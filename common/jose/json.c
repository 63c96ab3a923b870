/*
 * json.c - strict JSON input (SECURITY 6 and 24): UTF-8, an object at
 * the top, duplicate member names refused, nothing after the value, and a
 * bounded nesting depth.
 *
 * The text is read here, in one pass, into jansson values: the same tree
 * json_loadb(JSON_REJECT_DUPLICATES) builds, at a fraction of its cost
 * (its lexer reads through a character stream and copies every token;
 * header and payload are parsed for every request).  Reals are the one
 * exception: their text is handed to jansson, which converts it without
 * depending on the locale's decimal point.  fuzz_json compares the two.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "josep.h"

struct parser {
    const unsigned char *p, *end;
    int depth;
    unsigned char *scratch; /* decoded strings with escapes; len bytes */
};

static json_t *parse_value(struct parser *ps);

static void
skip_ws(struct parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' ||
                               *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static int
hex4(const unsigned char *s, unsigned *out)
{
    unsigned v = 0;
    int i;

    for (i = 0; i < 4; i++) {
        unsigned char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            v |= (c | 0x20) - 'a' + 10;
        else
            return -1;
    }
    *out = v;
    return 0;
}

/*
 * Length of the UTF-8 sequence at s (at most n bytes left), or 0 when it
 * is not well-formed: no overlong forms, no surrogates, nothing above
 * U+10FFFF (RFC 3629).
 */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    unsigned char lo = 0x80, hi = 0xbf;
    size_t len, i;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
    else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return len;
}

static unsigned char *
put_utf8(unsigned char *o, unsigned cp)
{
    if (cp < 0x80) {
        *o++ = (unsigned char)cp;
    } else if (cp < 0x800) {
        *o++ = (unsigned char)(0xc0 | cp >> 6);
        *o++ = (unsigned char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *o++ = (unsigned char)(0xe0 | cp >> 12);
        *o++ = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
        *o++ = (unsigned char)(0x80 | (cp & 0x3f));
    } else {
        *o++ = (unsigned char)(0xf0 | cp >> 18);
        *o++ = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
        *o++ = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
        *o++ = (unsigned char)(0x80 | (cp & 0x3f));
    }
    return o;
}

/*
 * \uXXXX at s (after the backslash and 'u'), with a following low
 * surrogate when it is a high one; *used is the bytes consumed after "\u".
 * NUL and lone surrogates are refused.
 */
static int
unicode_escape(const unsigned char *s, const unsigned char *end, unsigned *cp,
               size_t *used)
{
    unsigned hi, lo;

    if (end - s < 4 || hex4(s, &hi) != 0 || hi == 0 ||
        (hi >= 0xdc00 && hi <= 0xdfff))
        return -1;
    *used = 4;
    if (hi < 0xd800 || hi > 0xdbff) {
        *cp = hi;
        return 0;
    }
    if (end - s < 10 || s[4] != '\\' || s[5] != 'u' || hex4(s + 6, &lo) != 0 ||
        lo < 0xdc00 || lo > 0xdfff)
        return -1;
    *cp = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
    *used = 10;
    return 0;
}

/* One escape after a backslash at s; appends to *o, returns bytes read. */
static size_t
escape(const unsigned char *s, const unsigned char *end, unsigned char **o)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *k;
    unsigned cp;
    size_t used;

    if (s >= end)
        return 0;
    if (*s == 'u') {
        if (unicode_escape(s + 1, end, &cp, &used) != 0)
            return 0;
        *o = put_utf8(*o, cp);
        return used + 1;
    }
    if (*s == '\0' || (k = strchr(from, *s)) == NULL)
        return 0;
    *(*o)++ = (unsigned char)to[k - from];
    return 1;
}

/*
 * A string after its opening quote: *out points at its bytes (in the
 * input when it has no escape, else in the scratch buffer), *len its
 * length.  Control characters and invalid UTF-8 are refused.
 */
static int
parse_string(struct parser *ps, const char **out, size_t *len)
{
    const unsigned char *s = ps->p, *start = s;
    unsigned char *o = NULL;
    size_t n;

    while (s < ps->end && *s != '"') {
        if (*s >= 0x20 && *s < 0x80 && *s != '\\') {
            if (o != NULL)
                *o++ = *s;
            s++;
            continue;
        }
        if (*s == '\\') {
            if (o == NULL) {
                o = ps->scratch;
                memcpy(o, start, (size_t)(s - start));
                o += s - start;
            }
            if ((n = escape(s + 1, ps->end, &o)) == 0)
                return -1;
            s += n + 1;
            continue;
        }
        if (*s < 0x20 || (n = utf8_len(s, (size_t)(ps->end - s))) == 0)
            return -1;
        if (o != NULL) {
            memcpy(o, s, n);
            o += n;
        }
        s += n;
    }
    if (s >= ps->end)
        return -1;
    *out = o ? (const char *)ps->scratch : (const char *)start;
    *len = o ? (size_t)(o - ps->scratch) : (size_t)(s - start);
    ps->p = s + 1;
    return 0;
}

/* Integers in int64 (outside it: refused, as jansson does); reals by
 * jansson.  Grammar of RFC 8259 section 6. */
static json_t *
parse_number(struct parser *ps)
{
    const unsigned char *s = ps->p, *d;
    int neg = *s == '-', real = 0;
    int64_t v = 0;

    d = s + neg;
    if (d >= ps->end || *d < '0' || *d > '9' ||
        (*d == '0' && d + 1 < ps->end && d[1] >= '0' && d[1] <= '9'))
        return NULL;
    while (d < ps->end && *d >= '0' && *d <= '9')
        d++;
    if (d < ps->end && *d == '.') {
        real = 1;
        if (++d >= ps->end || *d < '0' || *d > '9')
            return NULL;
        while (d < ps->end && *d >= '0' && *d <= '9')
            d++;
    }
    if (d < ps->end && (*d == 'e' || *d == 'E')) {
        real = 1;
        if (++d < ps->end && (*d == '+' || *d == '-'))
            d++;
        if (d >= ps->end || *d < '0' || *d > '9')
            return NULL;
        while (d < ps->end && *d >= '0' && *d <= '9')
            d++;
    }
    ps->p = d;
    if (real)
        return json_loadb((const char *)s, (size_t)(d - s), JSON_DECODE_ANY,
                          NULL);
    for (s += neg; s < d; s++) {
        int digit = *s - '0';
        if (neg ? v < (INT64_MIN + digit) / 10 : v > (INT64_MAX - digit) / 10)
            return NULL;
        v = neg ? v * 10 - digit : v * 10 + digit;
    }
    return json_integer(v);
}

static json_t *
parse_literal(struct parser *ps)
{
    static const struct {
        const char *text;
        size_t len;
    } lit[] = {{"true", 4}, {"false", 5}, {"null", 4}};
    size_t i, left = (size_t)(ps->end - ps->p);

    for (i = 0; i < 3; i++) {
        if (left >= lit[i].len && memcmp(ps->p, lit[i].text, lit[i].len) == 0) {
            ps->p += lit[i].len;
            return i == 0 ? json_true() : i == 1 ? json_false() : json_null();
        }
    }
    return NULL;
}

/* One "name": value member into obj; duplicates refused. */
static int
parse_member(struct parser *ps, json_t *obj)
{
    const char *key;
    size_t klen;
    char kbuf[64], *kheap = NULL;
    json_t *v;
    int rc = -1;

    if (ps->p >= ps->end || *ps->p != '"')
        return -1;
    ps->p++;
    if (parse_string(ps, &key, &klen) != 0)
        return -1;
    /* An escaped key lives in scratch, which the value may reuse. */
    if (key == (const char *)ps->scratch) {
        if (klen < sizeof(kbuf))
            key = memcpy(kbuf, key, klen);
        else if ((kheap = malloc(klen)) != NULL)
            key = memcpy(kheap, key, klen);
        else
            return -1;
    }
    skip_ws(ps);
    if (ps->p >= ps->end || *ps->p++ != ':' ||
        json_object_getn(obj, key, klen) != NULL)
        goto done;
    skip_ws(ps);
    if ((v = parse_value(ps)) != NULL)
        rc = json_object_setn_new_nocheck(obj, key, klen, v);
done:
    free(kheap);
    return rc;
}

/* A container after its opening bracket: members or elements, commas,
 * the closing bracket. */
static json_t *
parse_container(struct parser *ps, int is_object)
{
    json_t *c = is_object ? json_object() : json_array(), *v;
    const unsigned char close = is_object ? '}' : ']';

    if (c == NULL || ++ps->depth > JWTREVP_JSON_MAX_DEPTH)
        goto fail;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        ps->depth--;
        return c;
    }
    for (;;) {
        if (is_object) {
            if (parse_member(ps, c) != 0)
                goto fail;
        } else if ((v = parse_value(ps)) == NULL ||
                   json_array_append_new(c, v) != 0) {
            goto fail;
        }
        skip_ws(ps);
        if (ps->p >= ps->end)
            goto fail;
        if (*ps->p == close)
            break;
        if (*ps->p++ != ',')
            goto fail;
        skip_ws(ps);
    }
    ps->p++;
    ps->depth--;
    return c;
fail:
    json_decref(c);
    return NULL;
}

static json_t *
parse_value(struct parser *ps)
{
    const char *s;
    size_t len;

    if (ps->p >= ps->end)
        return NULL;
    switch (*ps->p) {
    case '{':
    case '[':
        return parse_container(ps, *ps->p++ == '{');
    case '"':
        ps->p++;
        if (parse_string(ps, &s, &len) != 0)
            return NULL;
        return json_stringn_nocheck(s, len);
    case 't':
    case 'f':
    case 'n':
        return parse_literal(ps);
    default:
        return parse_number(ps);
    }
}

int
jwtrevp_json_parse_object(const void *buf, size_t len, json_t **out)
{
    unsigned char stack[512];
    struct parser ps = {buf, (const unsigned char *)buf + len, 0, stack};
    json_t *v = NULL;

    /* Out of memory reads as malformed too: either way, not accepted. */
    if (len > sizeof(stack) && (ps.scratch = malloc(len)) == NULL)
        return -JWTREV_ERR_MALFORMED;
    skip_ws(&ps);
    if (ps.p < ps.end && *ps.p == '{') {
        ps.p++;
        v = parse_container(&ps, 1);
    }
    skip_ws(&ps);
    if (ps.scratch != stack)
        free(ps.scratch);
    if (v == NULL || ps.p != ps.end) {
        json_decref(v);
        return -JWTREV_ERR_MALFORMED;
    }
    *out = v;
    return 0;
}
