/*
 * test_b64url.c - strict base64url (SECURITY 4-5): only the canonical
 * text of a byte string decodes.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "jose/josep.h"
#include "tap.h"

struct dec_case {
    const char *in;
    int ok;
    const char *out; /* expected bytes when ok */
    size_t out_len;
    const char *why;
};

static const struct dec_case cases[] = {
    {"", 1, "", 0, "empty text is empty bytes"},
    {"QQ", 1, "A", 1, "two characters, one byte"},
    {"QUI", 1, "AB", 2, "three characters, two bytes"},
    {"QUJD", 1, "ABC", 3, "four characters, three bytes"},
    {"-w", 1, "\xfb", 1, "'-' is 62"},
    {"_w", 1, "\xff", 1, "'_' is 63"},
    {"__8", 1, "\xff\xff", 2, "'_' in a three-character tail"},
    {"AA", 1, "\0", 1, "a zero byte"},
    {"Q", 0, NULL, 0, "length 1 mod 4"},
    {"QUJDR", 0, NULL, 0, "length 5 (1 mod 4)"},
    {"QQ==", 0, NULL, 0, "'=' padding"},
    {"QQ=", 0, NULL, 0, "one '=' of padding"},
    {"QUI=", 0, NULL, 0, "padding after three characters"},
    {"QR", 0, NULL, 0, "non-zero unused bits after two characters"},
    {"QUJ", 0, NULL, 0, "non-zero unused bits after three characters"},
    {"-_", 0, NULL, 0, "non-zero unused bits with '_'"},
    {"+w", 0, NULL, 0, "'+' of standard base64"},
    {"/w", 0, NULL, 0, "'/' of standard base64"},
    {"Q Q", 0, NULL, 0, "a space inside"},
    {"QUJD\n", 0, NULL, 0, "a trailing newline"},
    {"QU\tI", 0, NULL, 0, "a tab inside"},
    {"QUJ.", 0, NULL, 0, "a dot inside"},
    {"QUJ\x80", 0, NULL, 0, "a byte above 0x7f"},
    {"QUJ\xff", 0, NULL, 0, "the byte 0xff (the table's marker value)"},
    {"QUJDQ%JD", 0, NULL, 0, "'%' in the second group"},
};

static void
test_table(void)
{
    unsigned char buf[16];
    size_t i, n;
    int rc;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct dec_case *c = &cases[i];
        n = 12345;
        rc = jwtrevp_b64url_decode(c->in, strlen(c->in), buf, &n);
        if (c->ok)
            ok(rc == 0 && n == c->out_len && memcmp(buf, c->out, n) == 0,
               "decodes: %s", c->why);
        else
            ok(rc == -JWTREV_ERR_MALFORMED && n == 12345,
               "refused, length untouched: %s", c->why);
    }
}

/* A NUL byte is a character like any other outside the alphabet. */
static void
test_embedded_nul(void)
{
    unsigned char buf[8];
    size_t n;

    ok(jwtrevp_b64url_decode("QU\0D", 4, buf, &n) == -JWTREV_ERR_MALFORMED,
       "a NUL inside the text is refused");
}

/* Every length 0..64: encode, decode, same bytes; declen/enclen agree. */
static void
test_round_trips(void)
{
    unsigned char in[64], out[64];
    char text[100];
    size_t len, i, n;
    int good = 1;

    for (i = 0; i < sizeof(in); i++)
        in[i] = (unsigned char)(i * 151 + 7);
    for (len = 0; len <= sizeof(in); len++) {
        jwtrevp_b64url_encode(in, len, text);
        if (strlen(text) != jwtrevp_b64url_enclen(len) ||
            jwtrevp_b64url_declen(strlen(text)) != len ||
            strpbrk(text, "=+/") != NULL ||
            jwtrevp_b64url_decode(text, strlen(text), out, &n) != 0 ||
            n != len || memcmp(in, out, len) != 0) {
            good = 0;
            tap_diag("round trip failed at length %zu", len);
        }
    }
    ok(good, "round trips of every length 0..64");
}

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/*
 * Uniqueness: for every 2- and 3-character text over the alphabet, the
 * decoder accepts it exactly when encoding its bytes gives it back.
 */
static void
test_canonical_exhaustive(void)
{
    unsigned char out[4];
    char text[4], again[8];
    size_t a, b, c, n, accepted = 0, bad = 0;

    for (a = 0; a < 64; a++)
        for (b = 0; b < 64; b++)
            for (c = 0; c <= 64; c++) {
                size_t len = c == 64 ? 2 : 3;
                int rc;
                text[0] = alphabet[a];
                text[1] = alphabet[b];
                text[2] = c == 64 ? '\0' : alphabet[c];
                rc = jwtrevp_b64url_decode(text, len, out, &n);
                if (rc == 0) {
                    accepted++;
                    jwtrevp_b64url_encode(out, n, again);
                }
                if ((rc == 0) != (rc == 0 && memcmp(again, text, len) == 0))
                    bad++;
                if (rc != 0 && rc != -JWTREV_ERR_MALFORMED)
                    bad++;
            }
    /* 2^8 one-byte and 2^16 two-byte strings have a text each. */
    ok(bad == 0 && accepted == 256 + 65536,
       "exactly the canonical 2/3-character texts decode (%zu)", accepted);
}

/* Every byte value in every position of a 4-character group. */
static void
test_every_byte(void)
{
    unsigned char out[4];
    char text[4];
    size_t n, pos;
    int ch, good = 1;

    for (pos = 0; pos < 4; pos++)
        for (ch = 0; ch < 256; ch++) {
            int in_alpha = ch != 0 && strchr(alphabet, ch) != NULL;
            memcpy(text, "QUJD", 4);
            text[pos] = (char)ch;
            if ((jwtrevp_b64url_decode(text, 4, out, &n) == 0) != in_alpha)
                good = 0;
        }
    ok(good, "only the 64 alphabet bytes decode, in every position");
}

int
main(void)
{
    test_table();
    test_embedded_nul();
    test_round_trips();
    test_canonical_exhaustive();
    test_every_byte();
    return tap_done();
}
