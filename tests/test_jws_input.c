/*
 * test_jws_input.c - jwtrev_verify on the raw input: the length cap,
 * segments, characters, strict base64url and the exact signing input
 * (SECURITY 1-5 and 17).
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "jwsfix.h"
#include "tap.h"

#define HS "{\"alg\":\"HS256\"}"

/* A copy of tok with del bytes at pos replaced by ins (may hold NULs). */
static char *
splice(const char *tok, size_t pos, size_t del, const char *ins, size_t ins_len,
       size_t *len)
{
    size_t tl = strlen(tok);
    char *s = malloc(tl + ins_len + 1);

    memcpy(s, tok, pos);
    memcpy(s + pos, ins, ins_len);
    memcpy(s + pos + ins_len, tok + pos + del, tl - pos - del + 1);
    *len = tl - del + ins_len;
    return s;
}

enum where {
    AT_START,
    END_HDR,
    AT_END,
    AFTER_DOT1,
    IN_HDR,
    IN_PAYLOAD,
    IN_SIG,
    CUT_SIG
};

struct mut_case {
    const char *why;
    enum where at;
    size_t del;      /* bytes removed there */
    const char *ins; /* bytes inserted there; NULL: see fill() */
    size_t ins_len;  /* 0: strlen(ins) */
    int want;
};

static const struct mut_case muts[] = {
    {"the token as made", AT_END, 0, "", 0, 0},
    {"a trailing space", AT_END, 0, " ", 0, JWTREV_ERR_MALFORMED},
    {"a leading space", AT_START, 0, " ", 0, JWTREV_ERR_MALFORMED},
    {"a space after the first dot", AFTER_DOT1, 0, " ", 0,
     JWTREV_ERR_MALFORMED},
    {"a leading tab", AT_START, 0, "\t", 0, JWTREV_ERR_MALFORMED},
    {"a trailing newline", AT_END, 0, "\n", 0, JWTREV_ERR_MALFORMED},
    {"a trailing CR LF", AT_END, 0, "\r\n", 0, JWTREV_ERR_MALFORMED},
    {"a CR inside", IN_PAYLOAD, 0, "\r", 0, JWTREV_ERR_MALFORMED},
    {"a NUL inside", IN_PAYLOAD, 1, "\0", 1, JWTREV_ERR_MALFORMED},
    {"a trailing NUL", AT_END, 0, "\0", 1, JWTREV_ERR_MALFORMED},
    {"DEL inside", IN_SIG, 0, "\x7f", 0, JWTREV_ERR_MALFORMED},
    {"ESC inside", IN_HDR, 0, "\x1b", 0, JWTREV_ERR_MALFORMED},
    {"a UTF-8 character inside", IN_HDR, 0, "\xc3\xa9", 0,
     JWTREV_ERR_MALFORMED},
    {"a Bearer prefix", AT_START, 0, "Bearer ", 0, JWTREV_ERR_MALFORMED},
    {"four segments", AT_END, 0, ".QQ", 0, JWTREV_ERR_MALFORMED},
    {"five segments (JWE)", AT_END, 0, ".QQ.QQ", 0, JWTREV_ERR_MALFORMED},
    {"a trailing dot", AT_END, 0, ".", 0, JWTREV_ERR_MALFORMED},
    {"padding after the header", END_HDR, 0, "=", 0, JWTREV_ERR_MALFORMED},
    {"padding after the signature", AT_END, 0, "==", 0, JWTREV_ERR_MALFORMED},
    {"'+' of standard base64", IN_PAYLOAD, 1, "+", 0, JWTREV_ERR_MALFORMED},
    {"'/' of standard base64", IN_SIG, 1, "/", 0, JWTREV_ERR_MALFORMED},
    {"a '%' escape", IN_HDR, 1, "%", 0, JWTREV_ERR_MALFORMED},
    {"a payload of 1 mod 4 characters", AFTER_DOT1, 0, NULL, 0,
     JWTREV_ERR_MALFORMED},
    {"a changed payload character", IN_PAYLOAD, 1, "Q", 0,
     JWTREV_ERR_BAD_SIGNATURE},
    {"four signature characters removed", CUT_SIG, 4, "", 0,
     JWTREV_ERR_BAD_SIGNATURE},
};

static size_t
position(const char *tok, enum where at)
{
    const char *d1 = strchr(tok, '.'), *d2 = strrchr(tok, '.');

    switch (at) {
    case AT_START:
        return 0;
    case END_HDR:
        return (size_t)(d1 - tok);
    case AFTER_DOT1:
        return (size_t)(d1 - tok) + 1;
    case IN_HDR:
        return 3;
    case IN_PAYLOAD:
        return (size_t)(d1 - tok) + 5;
    case IN_SIG:
        return (size_t)(d2 - tok) + 5;
    case CUT_SIG:
        return strlen(tok) - 4;
    default:
        return strlen(tok);
    }
}

/* 'A's that make the payload segment 1 mod 4 characters long. */
static const char *
fill(const char *tok)
{
    size_t plen = strcspn(strchr(tok, '.') + 1, ".");

    return &"AAAA"[(plen + 3) % 4];
}

static void
test_mutations(void)
{
    char *base = tok_json(HS, FIX_VALID, &fx.sg[S_K1]), *tok;
    jwtrev_token t;
    jwtrev_error err;
    size_t i, len;
    int rc;

    for (i = 0; i < sizeof(muts) / sizeof(muts[0]); i++) {
        const struct mut_case *m = &muts[i];
        const char *ins = m->ins != NULL ? m->ins : fill(base);
        size_t n = m->ins_len ? m->ins_len : strlen(ins);
        tok = splice(base, position(base, m->at), m->del, ins, n, &len);
        rc = fix_verify(P_ALL, tok, len, 0, &t, &err);
        ok(rc == -m->want, "%s: %s", jwtrev_reason(m->want), m->why);
        if (rc != -m->want)
            tap_diag("got %s: %s", jwtrev_reason(rc), err.detail);
        jwtrev_token_clear(&t);
        free(tok);
    }
    free(base);
}

struct text_case {
    const char *tok;
    const char *why;
};

static const struct text_case texts[] = {
    {"", "an empty token"},
    {".", "a lone dot"},
    {"..", "two dots"},
    {"eyJhbGciOiJIUzI1NiJ9.e30.", "an empty signature"},
    {".e30.c2ln", "an empty header"},
    {"eyJhbGciOiJIUzI1NiJ9.e30", "two segments"},
    {"eyJhbGciOiJub25lIn0.e30.", "alg none with an empty signature"},
    {"{\"payload\":\"e30\",\"signatures\":[{\"protected\":"
     "\"eyJhbGciOiJIUzI1NiJ9\",\"signature\":\"c2ln\"}]}",
     "the JWS JSON serialization"},
};

static void
test_texts(void)
{
    jwtrev_token t;
    jwtrev_error err;
    size_t i;

    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        ok(fix_verify(P_ALL, texts[i].tok, strlen(texts[i].tok), 0, &t, &err) ==
                   -JWTREV_ERR_MALFORMED &&
               err.logid[0] == '\0',
           "malformed, no log id: %s", texts[i].why);
}

struct detail_case {
    enum where at;
    const char *ins;
    const char *detail; /* in err.detail */
};

static const struct detail_case details[] = {
    {AT_END, " ", "whitespace or a control character in the signature"},
    {IN_HDR, "\x01", "whitespace or a control character in the header"},
    {END_HDR, "=", "base64 padding in the header"},
    {IN_PAYLOAD, "+", "a character outside base64url in the payload"},
    {AT_END, ".QQ.QQ", "JWE (five segments) is not accepted"},
    {AT_END, ".QQ", "4 segments, not three"},
};

/* The detail an operator reads says what is wrong, and where. */
static void
test_details(void)
{
    char *base = tok_json(HS, FIX_VALID, &fx.sg[S_K1]), *tok;
    jwtrev_token t;
    jwtrev_error err;
    size_t i, len;

    for (i = 0; i < sizeof(details) / sizeof(details[0]); i++) {
        tok = splice(base, position(base, details[i].at), 0, details[i].ins,
                     strlen(details[i].ins), &len);
        ok(fix_verify(P_ALL, tok, len, 0, &t, &err) == -JWTREV_ERR_MALFORMED &&
               strcmp(err.detail, details[i].detail) == 0,
           "detail: %s", details[i].detail);
        if (strcmp(err.detail, details[i].detail) != 0)
            tap_diag("got: %s", err.detail);
        free(tok);
    }
    ok(fix_verify(P_ALL, "{\"payload\":\"\"}", 14, 0, &t, &err) ==
               -JWTREV_ERR_MALFORMED &&
           strcmp(err.detail, "JWS JSON serialization is not accepted") == 0,
       "detail: JWS JSON serialization is not accepted");
    free(base);
}

/* SECURITY 17: the same header JSON in other bytes is another token. */
static void
test_signing_input(void)
{
    char *a = tok_json(HS, FIX_VALID, &fx.sg[S_K1]);
    char *b = tok_json("{\"alg\":\"HS256\" }", FIX_VALID, &fx.sg[S_K1]);
    char *mix;
    size_t la = strchr(a, '.') - a, lb = strchr(b, '.') - b, len;
    jwtrev_token t;
    jwtrev_error err;

    mix = splice(a, 0, la, b, lb, &len);
    ok(fix_verify(P_ALL, mix, len, 0, &t, &err) == -JWTREV_ERR_BAD_SIGNATURE,
       "an equal header in other bytes breaks the signature");
    free(a);
    free(b);
    free(mix);
}

/* SECURITY 1: 8192 bytes pass the cap, 8193 do not, before any parsing. */
static void
test_length(void)
{
    char *payload = malloc(9000), *tok;
    jwtrev_policy *small;
    jwtrev_token t;
    jwtrev_error err;
    jwtrev_conf c;
    size_t n, len;
    int seen = 0;

    for (n = 5900; n < 6300 && seen != 3; n++) {
        sprintf(payload, "{\"exp\":1700003600,\"x\":\"%0*d\"}", (int)n, 0);
        tok = tok_json(HS, payload, &fx.sg[S_K1]);
        len = strlen(tok);
        if (len == 8192 && !(seen & 1)) {
            seen |= 1;
            ok(fix_verify(P_ALL, tok, len, 0, &t, &err) == 0,
               "a valid token of exactly 8192 bytes is accepted");
            jwtrev_token_clear(&t);
        } else if (len == 8193 && !(seen & 2)) {
            seen |= 2;
            ok(fix_verify(P_ALL, tok, len, 0, &t, &err) ==
                   -JWTREV_ERR_TOO_LARGE,
               "a valid token of 8193 bytes is too_large");
        }
        free(tok);
    }
    ok(seen == 3, "tokens of 8192 and 8193 bytes were made");
    free(payload);

    tok = malloc(1 << 20);
    memset(tok, '.', 1 << 20);
    ok(fix_verify(P_ALL, tok, 1 << 20, 0, &t, &err) == -JWTREV_ERR_TOO_LARGE,
       "a megabyte of dots is too_large");
    free(tok);

    jwtrev_conf_init(&c);
    c.max_token_len = 100;
    tok = tok_json(HS, FIX_VALID, &fx.sg[S_K1]);
    ok(jwtrev_policy_new(&c, &small, NULL) == 0 &&
           jwtrev_verify(small, fx.kr, tok, strlen(tok), FIX_NOW, 0, &t,
                         &err) == -JWTREV_ERR_TOO_LARGE,
       "a host's smaller cap applies");
    jwtrev_policy_free(small);
    free(tok);
}

/* A non-canonical last character decodes to the same bytes leniently. */
static void
test_trailing_bits(void)
{
    char *tok = tok_json(HS, FIX_VALID, &fx.sg[S_K1]);
    size_t len = strlen(tok);
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const char *p = strchr(alphabet, tok[len - 1]);
    jwtrev_token t;
    jwtrev_error err;

    /* HS256: 32 bytes in 43 characters, the last one has 2 unused bits. */
    tok[len - 1] = alphabet[(p - alphabet) | 1];
    ok(fix_verify(P_ALL, tok, len, 0, &t, &err) == -JWTREV_ERR_MALFORMED,
       "non-zero unused bits in the signature are malformed");
    free(tok);
}

int
main(void)
{
    fix_setup();
    test_mutations();
    test_texts();
    test_details();
    test_signing_input();
    test_length();
    test_trailing_bits();
    FIX_REPORT();
    fix_teardown();
    return tap_done();
}
