/*
 * b64url.c - strict base64url (RFC 4648 section 5) without padding.
 *
 * Only the canonical encoding decodes (SECURITY 4): alphabet
 * A-Z a-z 0-9 - _, no '=', a length of 1 mod 4 refused, unused trailing
 * bits must be zero.  So one byte string has exactly one accepted text.
 */
#include "config.h"

#include "josep.h"

/* 0..63 for the alphabet, 0xff for everything else. */
/* clang-format off */
static const unsigned char dec[256] = {
#define X 0xff
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  62, X,  X,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, X,  X,  X,  X,  X,  X,
    X,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, X,  X,  X,  X,  63,
    X,  26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
#undef X
};
/* clang-format on */

static const char enc[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t
jwtrevp_b64url_declen(size_t len)
{
    return len / 4 * 3 + (len % 4 == 0 ? 0 : len % 4 - 1);
}

int
jwtrevp_b64url_decode(const char *src, size_t len, unsigned char *dst,
                      size_t *out_len)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t i, o = 0, full = len / 4 * 4;
    unsigned a, b, c, d;

    if (len % 4 == 1)
        return -JWTREV_ERR_MALFORMED;
    for (i = 0; i < full; i += 4) {
        a = dec[s[i]], b = dec[s[i + 1]], c = dec[s[i + 2]], d = dec[s[i + 3]];
        if ((a | b | c | d) == 0xff)
            return -JWTREV_ERR_MALFORMED;
        dst[o++] = (unsigned char)(a << 2 | b >> 4);
        dst[o++] = (unsigned char)(b << 4 | c >> 2);
        dst[o++] = (unsigned char)(c << 6 | d);
    }
    switch (len - full) {
    case 2:
        a = dec[s[i]], b = dec[s[i + 1]];
        if ((a | b) == 0xff || (b & 0x0f) != 0)
            return -JWTREV_ERR_MALFORMED;
        dst[o++] = (unsigned char)(a << 2 | b >> 4);
        break;
    case 3:
        a = dec[s[i]], b = dec[s[i + 1]], c = dec[s[i + 2]];
        if ((a | b | c) == 0xff || (c & 0x03) != 0)
            return -JWTREV_ERR_MALFORMED;
        dst[o++] = (unsigned char)(a << 2 | b >> 4);
        dst[o++] = (unsigned char)(b << 4 | c >> 2);
        break;
    default:
        break;
    }
    *out_len = o;
    return 0;
}

size_t
jwtrevp_b64url_enclen(size_t n)
{
    return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

void
jwtrevp_b64url_encode(const unsigned char *src, size_t n, char *dst)
{
    size_t i, o = 0;

    for (i = 0; i + 3 <= n; i += 3) {
        dst[o++] = enc[src[i] >> 2];
        dst[o++] = enc[(src[i] & 0x03) << 4 | src[i + 1] >> 4];
        dst[o++] = enc[(src[i + 1] & 0x0f) << 2 | src[i + 2] >> 6];
        dst[o++] = enc[src[i + 2] & 0x3f];
    }
    if (n - i == 1) {
        dst[o++] = enc[src[i] >> 2];
        dst[o++] = enc[(src[i] & 0x03) << 4];
    } else if (n - i == 2) {
        dst[o++] = enc[src[i] >> 2];
        dst[o++] = enc[(src[i] & 0x03) << 4 | src[i + 1] >> 4];
        dst[o++] = enc[(src[i + 1] & 0x0f) << 2];
    }
    dst[o] = '\0';
}
