/*
 * test_keys.c - the key loader (SECURITY 13-16): which keys a file
 * yields and the algorithm each is bound to, every refusal of SECURITY
 * 15 (config_error whose detail names the file and the reason), KID#FILE,
 * secret files, whole-ring rules (duplicate kids, a refused file leaves
 * the ring unchanged), jwtrev_keyring_load and the reference count.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jose/keyp.h"
#include "tap.h"

static char datadir[4096];

#define S(a) (1u << JWTREV_ALG_##a)
#define ALL JWTREV_ALGSET_ALL
#define REFUSED (-JWTREV_ERR_CONFIG_ERROR)

enum { KEY, SECRET };

/*
 * file: a fixture name, optionally "KID#name".  keys: the ring afterwards,
 * "ALG/kid" per key in ring order ("-" for no kid).  why: a part of the
 * refusal's detail.
 */
static const struct lcase {
    const char *file;
    int kind;
    jwtrev_algset allowed;
    int rc;
    const char *keys_or_why;
} cases[] = {
    /* PEM public keys, PKCS#1 public keys and certificates */
    {"rsa2048.pub.pem", KEY, ALL, 0, "RS256/-"},
    {"rsa2048.rsapub.pem", KEY, ALL, 0, "RS256/-"},
    {"rsa2048.crt.pem", KEY, ALL, 0, "RS256/-"},
    {"rsa2048.crt.txt.pem", KEY, ALL, 0, "RS256/-"}, /* text, then PEM */
    {"rsa3072.pub.pem", KEY, ALL, 0, "RS256/-"},
    {"ec256.crt.pem", KEY, ALL, 0, "ES256/-"},
    {"ec256.pub.pem", KEY, ALL, 0, "ES256/-"},
    {"ec384.pub.pem", KEY, ALL, 0, "ES384/-"},
    {"ec521.pub.pem", KEY, ALL, 0, "ES512/-"},
    {"ed25519.pub.pem", KEY, ALL, 0, "EdDSA/-"},
    {"ed448.pub.pem", KEY, ALL, 0, "EdDSA/-"},
    {"k256.pub.pem", KEY, ALL, 0, "ES256K/-"},
    {"multi.pub.pem", KEY, ALL, 0, "RS256/- ES256/- EdDSA/-"},
    /* binding (SECURITY 13): one alg of the type allowed, else default */
    {"rsa2048.pub.pem", KEY, S(PS384), 0, "PS384/-"},
    {"rsa2048.pub.pem", KEY, S(PS384) | S(HS256) | S(ES256), 0, "PS384/-"},
    {"rsa2048.pub.pem", KEY, S(RS512) | S(PS384), REFUSED, "no usable key"},
    {"rsa2048.pub.pem", KEY, S(ES256), REFUSED, "no usable key"},
    {"ec256.pub.pem", KEY, S(ES384), REFUSED, "no usable key"},
    {"multi.pub.pem", KEY, S(ES256), 0, "ES256/-"},
    {"multi.pub.pem", KEY, S(EDDSA) | S(PS512), 0, "PS512/- EdDSA/-"},
    /* KID#FILE */
    {"mykid#rsa2048.pub.pem", KEY, ALL, 0, "RS256/mykid"},
    {"a#b#rsa2048.pub.pem", KEY, ALL, REFUSED, "cannot open"},
    {"#rsa2048.pub.pem", KEY, ALL, REFUSED, "empty kid"},
    {"k#multi.pub.pem", KEY, ALL, REFUSED, "duplicate kid \"k\""},
    {"mykid#rsa2048.jwk", KEY, ALL, 0, "RS256/mykid"},
    {"rsa1#rsa2048-kid.jwk", KEY, ALL, 0, "RS256/rsa1"},
    {"other#rsa2048-kid.jwk", KEY, ALL, REFUSED, "differs from the kid"},
    {"k#kidless2.jwks", KEY, ALL, REFUSED, "duplicate kid \"k\""},
    /* PEM refusals */
    {"rsa1024.pub.pem", KEY, ALL, REFUSED, "RSA key of 1024 bits"},
    {"rsa-e3.pub.pem", KEY, ALL, REFUSED, "exponent is even or below 65537"},
    {"rsapss.pub.pem", KEY, ALL, REFUSED, "RSASSA-PSS restricted"},
    {"x25519.pub.pem", KEY, ALL, REFUSED, "X25519 key is for key agreement"},
    {"rsa2048.pem", KEY, ALL, REFUSED, "private key given where a public"},
    {"rsa2048-trad.pem", KEY, ALL, REFUSED, "private key given where a publ"},
    {"ec256-trad.pem", KEY, ALL, REFUSED, "key 2: private key given"},
    {"ed25519.pem", KEY, ALL, REFUSED, "private key given where a public"},
    {"truncated.pub.pem", KEY, ALL, REFUSED, "malformed PEM"},
    {"hs256-newline.txt", KEY, ALL, REFUSED, "neither PEM nor a JWK"},
    {"rsa2048.pub.der", KEY, ALL, REFUSED, "neither PEM nor a JWK"},
    /* JWK and JWKS */
    {"rsa2048.jwk", KEY, ALL, 0, "RS256/-"},
    {"rsa2048-kid.jwk", KEY, ALL, 0, "RS256/rsa1"},
    {"rsa2048-ps384.jwk", KEY, ALL, 0, "PS384/ps1"},
    {"rsa2048-ps384.jwk", KEY, S(RS256), REFUSED, "no usable key"},
    {"ec256.jwk", KEY, ALL, 0, "ES256/ec256"},
    {"ec384.jwk", KEY, ALL, 0, "ES384/ec384"},
    {"ec521.jwk", KEY, ALL, 0, "ES512/ec521"},
    {"ed25519.jwk", KEY, ALL, 0, "EdDSA/ed1"},
    {"ed448.jwk", KEY, ALL, 0, "EdDSA/-"},
    {"oct.jwk", KEY, ALL, 0, "HS256/hs1"},
    {"oct.jwk", KEY, S(HS384), REFUSED, "HS384 key of 32 bytes is shorter"},
    {"oct-hs384.jwk", KEY, ALL, 0, "HS384/-"},
    {"oct.jwks", KEY, ALL, 0, "HS256/a HS512/b"},
    {"oct.jwks", KEY, S(HS512), 0, "HS512/b"},
    {"good.jwks", KEY, ALL, 0, "RS256/rsa1 ES256/ec1 EdDSA/ed1"},
    {"good.jwks", KEY, S(ES256), 0, "ES256/ec1"},
    {"kidless2.jwks", KEY, ALL, 0, "ES256/- EdDSA/-"},
    {"keyops-verify.jwk", KEY, ALL, 0, "ES256/-"},
    /* private members: only the public part is read, d is never used */
    {"rsa2048.priv.jwk", KEY, ALL, 0, "RS256/rsa1"},
    {"rsa2048-garbage-d.jwk", KEY, ALL, 0, "RS256/rsa1"},
    {"ed25519.priv.jwk", KEY, ALL, 0, "EdDSA/ed1"},
    {"ec256.priv.jwk", KEY, ALL, 0, "ES256/ec256"},
    /* JWK refusals (SECURITY 14-15) */
    {"rsa1024.jwk", KEY, ALL, REFUSED, "RSA key of 1024 bits"},
    {"rsa-8200.jwk", KEY, ALL, REFUSED, "RSA key of 8200 bits"},
    {"rsa-e3.jwk", KEY, ALL, REFUSED, "exponent is even or below 65537"},
    {"rsa-e1.jwk", KEY, ALL, REFUSED, "exponent is even or below 65537"},
    {"rsa-even-e.jwk", KEY, ALL, REFUSED, "exponent is even or below 65537"},
    {"rsa-roca.jwk", KEY, ALL, REFUSED, "ROCA fingerprint"},
    {"oct-short.jwk", KEY, ALL, REFUSED, "HS256 key of 31 bytes is shorter"},
    {"oct-short384.jwk", KEY, ALL, REFUSED, "HS384 key of 32 bytes is short"},
    {"oct-empty.jwk", KEY, ALL, REFUSED, "empty HMAC key"},
    {"ec-offcurve.jwk", KEY, ALL, REFUSED, "not on the P-256 curve"},
    {"ec-badlen.jwk", KEY, ALL, REFUSED, "wrong length for P-256"},
    {"ec-crv-mismatch.jwk", KEY, ALL, REFUSED, "wrong length for P-384"},
    {"ec-wrongcurve.jwk", KEY, ALL, REFUSED, "ES256 does not fit the EC P-384"},
    {"x25519.jwk", KEY, ALL, REFUSED, "curve X25519 is not supported"},
    {"alg-misfit.jwk", KEY, ALL, REFUSED, "RS256 does not fit the EC P-256"},
    {"rsa-hs256.jwk", KEY, ALL, REFUSED, "HS256 does not fit the RSA key"},
    {"oct-rs256.jwk", KEY, ALL, REFUSED, "RS256 does not fit the HMAC"},
    {"unknown-alg.jwk", KEY, ALL, REFUSED, "alg \"ES521\" is not a supported"},
    {"alg-none.jwk", KEY, ALL, REFUSED, "alg \"none\" is not a supported"},
    {"alg-newline.jwk", KEY, ALL, REFUSED, "alg \"HS256?forged log"},
    {"mixed.jwks", KEY, ALL, REFUSED, "mixes symmetric (oct) and asymm"},
    {"dupkid.jwks", KEY, ALL, REFUSED, "duplicate kid \"same\""},
    {"enc-only.jwks", KEY, ALL, REFUSED, "no usable key"},
    {"enc.jwk", KEY, ALL, REFUSED, "not meant for signature verification"},
    {"enc-alg.jwks", KEY, ALL, 0, "ES256/ec1"},
    /* DESIGN 10: unusable keys of a set are skipped, warned about */
    {"tolerant.jwks", KEY, ALL, 0, "RS256/rsa1"},
    {"unusable.jwks", KEY, ALL, REFUSED, "no usable key in the set: key 1"},
    {"enc-alg.jwk", KEY, ALL, REFUSED, "not meant for signature verification"},
    {"keyops-encrypt.jwk", KEY, ALL, REFUSED, "not meant for signature"},
    {"use-number.jwk", KEY, ALL, REFUSED, "\"use\" is not a string"},
    {"kid-number.jwk", KEY, ALL, REFUSED, "\"kid\" is not a string"},
    {"kty-unknown.jwk", KEY, ALL, REFUSED, "kty \"DSA\" is not supported"},
    {"b64-padding.jwk", KEY, ALL, REFUSED, "\"e\" is not canonical base64u"},
    {"dup-member.jwk", KEY, ALL, REFUSED, "not valid JSON"},
    {"empty.jwks", KEY, ALL, REFUSED, "not a non-empty array"},
    {"does-not-exist.pem", KEY, ALL, REFUSED, "cannot open"},
    /* secret files: raw bytes, one final newline stripped */
    {"hs256.bin", SECRET, ALL, 0, "HS256/-"},
    {"hs512.bin", SECRET, ALL, 0, "HS256/-"},
    {"hs384.bin", SECRET, S(HS384) | S(RS256), 0, "HS384/-"},
    {"hs256-newline.txt", SECRET, ALL, 0, "HS256/-"},
    {"hs256-crlf.txt", SECRET, ALL, 0, "HS256/-"},
    {"mykid#hs256.bin", SECRET, ALL, 0, "HS256/mykid"},
    {"hs256.bin", SECRET, S(HS384) | S(HS512), REFUSED, "no usable key"},
    {"hs384.bin", SECRET, S(HS512), REFUSED, "HS512 key of 48 bytes is short"},
    {"hs-short31.bin", SECRET, ALL, REFUSED, "HS256 key of 31 bytes is short"},
    {"hs-empty.bin", SECRET, ALL, REFUSED, "empty HMAC secret"},
    {"hs-newline-only.txt", SECRET, ALL, REFUSED, "empty HMAC secret"},
    /* public key material is never an HMAC key (SECURITY 14) */
    {"rsa2048.pub.pem", SECRET, ALL, REFUSED, "holds PEM data"},
    {"rsa2048.crt.pem", SECRET, ALL, REFUSED, "holds PEM data"},
    {"rsa2048.pub.der", SECRET, ALL, REFUSED, "DER public key or certificate"},
    {"oct.jwk", SECRET, ALL, REFUSED, "holds JSON"},
};

static void
path_of(const char *file, char *buf, size_t cap)
{
    const char *hash = strrchr(file, '#');

    if (hash == NULL)
        snprintf(buf, cap, "%s/%s", datadir, file);
    else
        snprintf(buf, cap, "%.*s%s/%s", (int)(hash - file + 1), file, datadir,
                 hash + 1);
}

/* "ALG/kid ..." for every key of the ring: by algorithm, then ring order. */
static void
describe(const jwtrev_keyring *kr, char *buf, size_t cap)
{
    const jwtrevp_key *k;
    size_t j, o = 0;
    int a;

    buf[0] = '\0';
    for (a = 0; a < JWTREV_ALG_COUNT; a++)
        for (j = 0; (k = jwtrevp_keyring_by_alg(kr, a, j)) != NULL; j++)
            o += (size_t)snprintf(buf + o, cap - o, "%s%s/%s", o ? " " : "",
                                  jwtrev_alg_name(k->alg),
                                  k->kid ? k->kid : "-");
}

static void
run_case(const struct lcase *c)
{
    char path[4200], got[512];
    jwtrev_keyring *kr;
    jwtrev_error err;
    const char *base =
        strrchr(c->file, '#') ? strrchr(c->file, '#') + 1 : c->file;
    int rc;

    jwtrev_error_clear(&err);
    path_of(c->file, path, sizeof(path));
    if (jwtrev_keyring_new(c->allowed, &kr) != 0)
        abort();
    rc = c->kind == SECRET ? jwtrev_keyring_add_secret_file(kr, path, &err)
                           : jwtrev_keyring_add_file(kr, path, &err);
    if (c->rc == 0) {
        describe(kr, got, sizeof(got));
        ok(rc == 0 && strcmp(got, c->keys_or_why) == 0, "%s %s (0x%04x): %s",
           c->kind == SECRET ? "secret" : "key", c->file, (unsigned)c->allowed,
           rc ? err.detail : got);
    } else {
        ok(rc == c->rc && err.code == -c->rc &&
               strstr(err.detail, base) != NULL &&
               strstr(err.detail, c->keys_or_why) != NULL &&
               jwtrev_keyring_count(kr) == 0,
           "%s %s refused: %s", c->kind == SECRET ? "secret" : "key", c->file,
           err.detail);
    }
    jwtrev_keyring_free(kr);
}

static int
write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");

    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
        abort();
    return 0;
}

static char tmpdir[] = "/tmp/test_keys.XXXXXX";

/* Ring-wide rules: kids unique across files; a refused file changes
 * nothing. */
static void
test_ring(void)
{
    char p1[4200], p2[4200], p3[4200];
    jwtrev_keyring *kr;
    jwtrev_error err;
    const jwtrevp_key *k;

    path_of("rsa2048-kid.jwk", p1, sizeof(p1));
    path_of("rsa1#ec256.pub.pem", p2, sizeof(p2));
    path_of("multi.pub.pem", p3, sizeof(p3));
    jwtrev_keyring_new(ALL, &kr);
    ok(jwtrev_keyring_add_file(kr, p1, &err) == 0, "first file");
    ok(jwtrev_keyring_add_file(kr, p2, &err) == REFUSED &&
           strstr(err.detail, "kid \"rsa1\" is already used") != NULL &&
           strstr(err.detail, "ec256.pub.pem") != NULL,
       "a kid used by another file is refused: %s", err.detail);
    ok(jwtrev_keyring_count(kr) == 1, "the refused file added nothing");
    ok(jwtrev_keyring_add_file(kr, p3, &err) == 0 &&
           jwtrev_keyring_count(kr) == 4,
       "kid-less keys from another file join");
    k = jwtrevp_keyring_by_kid(kr, "rsa1", 4);
    ok(k != NULL && k->alg == JWTREV_ALG_RS256, "by_kid finds rsa1");
    ok(jwtrevp_keyring_by_kid(kr, "rsa", 3) == NULL &&
           jwtrevp_keyring_by_kid(kr, "rsa1x", 5) == NULL &&
           jwtrevp_keyring_by_kid(kr, "RSA1", 4) == NULL,
       "by_kid is byte-exact: no prefix, extension or case folding");
    ok(jwtrevp_keyring_by_kid(kr, "rsa1\0", 5) == NULL,
       "by_kid compares the length too");
    ok(jwtrevp_keyring_by_alg(kr, JWTREV_ALG_RS256, 0) == k &&
           jwtrevp_keyring_by_alg(kr, JWTREV_ALG_RS256, 1) != NULL &&
           jwtrevp_keyring_by_alg(kr, JWTREV_ALG_RS256, 1)->kid == NULL &&
           jwtrevp_keyring_by_alg(kr, JWTREV_ALG_RS256, 2) == NULL,
       "by_alg walks every key bound to the alg, with or without kid");
    ok(jwtrevp_keyring_by_alg(kr, JWTREV_ALG_HS256, 0) == NULL &&
           jwtrevp_keyring_by_alg(kr, JWTREV_ALG_RS512, 0) == NULL,
       "by_alg finds nothing for algs no key is bound to");
    ok(jwtrev_keyring_ref(kr) == kr, "ref returns the ring");
    jwtrev_keyring_free(kr);
    ok(jwtrev_keyring_count(kr) == 4, "one free of two references keeps it");
    jwtrev_keyring_free(kr);
    jwtrev_keyring_free(NULL);
}

/* Secret bytes: newline handling, binary content, no echo in errors. */
static void
test_secrets(void)
{
    static const unsigned char bin[40] = {0, 1, 2, '\n', 0, 0, 0xff, '\r'};
    char p[4200];
    jwtrev_keyring *kr;
    jwtrev_error err;
    const jwtrevp_key *k;

    path_of("hs256-crlf.txt", p, sizeof(p));
    jwtrev_keyring_new(ALL, &kr);
    jwtrev_keyring_add_secret_file(kr, p, &err);
    k = jwtrevp_keyring_by_alg(kr, JWTREV_ALG_HS256, 0);
    ok(k != NULL && k->secret_len == 32 &&
           memcmp(k->secret, "0123456789abcdef0123456789abcdef", 32) == 0,
       "one final CR LF is stripped, nothing else");
    jwtrev_keyring_free(kr);

    snprintf(p, sizeof(p), "%s/binary", tmpdir);
    write_file(p, bin, sizeof(bin));
    jwtrev_keyring_new(ALL, &kr);
    ok(jwtrev_keyring_add_secret_file(kr, p, &err) == 0 &&
           (k = jwtrevp_keyring_by_alg(kr, JWTREV_ALG_HS256, 0)) != NULL &&
           k->secret_len == 40 && memcmp(k->secret, bin, 40) == 0,
       "a binary secret with NUL bytes is kept whole");
    jwtrev_keyring_free(kr);

    snprintf(p, sizeof(p), "%s/twonl", tmpdir);
    write_file(p, "0123456789abcdef0123456789abcde\n\n", 33);
    jwtrev_keyring_new(ALL, &kr);
    ok(jwtrev_keyring_add_secret_file(kr, p, &err) == 0 &&
           (k = jwtrevp_keyring_by_alg(kr, JWTREV_ALG_HS256, 0)) != NULL &&
           k->secret_len == 32 && k->secret[31] == '\n',
       "only one of two final newlines is stripped");
    jwtrev_keyring_free(kr);

    snprintf(p, sizeof(p), "%s/short", tmpdir);
    write_file(p, "topsecret-topsecret!\n", 21);
    jwtrev_keyring_new(ALL, &kr);
    ok(jwtrev_keyring_add_secret_file(kr, p, &err) == REFUSED &&
           strstr(err.detail, "topsecret") == NULL &&
           strstr(err.detail, "20 bytes") != NULL,
       "a short secret is refused without echoing it: %s", err.detail);
    jwtrev_keyring_free(kr);
}

/* Files that are not plain: a directory, an oversized file, '#' in a
 * real name. */
static void
test_files(void)
{
    char p[4200], q[4200], *big;
    jwtrev_keyring *kr;
    jwtrev_error err;
    FILE *src, *dst;
    int ch;

    jwtrev_keyring_new(ALL, &kr);
    ok(jwtrev_keyring_add_file(kr, tmpdir, &err) == REFUSED &&
           strstr(err.detail, "not a regular file") != NULL,
       "a directory is refused: %s", err.detail);
    snprintf(p, sizeof(p), "%s/big.pem", tmpdir);
    big = calloc(1, JWTREVP_KEY_FILE_MAX + 1);
    memset(big, 'A', JWTREVP_KEY_FILE_MAX + 1);
    write_file(p, big, JWTREVP_KEY_FILE_MAX + 1);
    free(big);
    ok(jwtrev_keyring_add_file(kr, p, &err) == REFUSED &&
           strstr(err.detail, "big.pem: larger than") != NULL,
       "an oversized file is refused: %s", err.detail);
    /* a file whose real name holds '#' is that file, not KID#FILE */
    path_of("rsa2048.pub.pem", q, sizeof(q));
    snprintf(p, sizeof(p), "%s/a#b.pem", tmpdir);
    src = fopen(q, "rb");
    dst = fopen(p, "wb");
    while (src && dst && (ch = fgetc(src)) != EOF)
        fputc(ch, dst);
    fclose(src);
    fclose(dst);
    ok(jwtrev_keyring_add_file(kr, p, &err) == 0 &&
           jwtrevp_keyring_by_alg(kr, JWTREV_ALG_RS256, 0)->kid == NULL,
       "an existing file with '#' in its name loads without a kid");
    jwtrev_keyring_free(kr);
}

static void
test_load(void)
{
    char p1[4200], p2[4200];
    jwtrev_keyring *kr = NULL;
    jwtrev_conf c;
    jwtrev_error err;

    jwtrev_conf_init(&c);
    ok(jwtrev_keyring_load(&c, &kr, &err) == REFUSED && kr == NULL,
       "no keys configured: %s", err.detail);
    path_of("good.jwks", p1, sizeof(p1));
    path_of("hs256.bin", p2, sizeof(p2));
    if (jwtrev_conf_set(&c, "key", p1, &err) != 0 ||
        jwtrev_conf_set(&c, "secret", p2, &err) != 0 ||
        jwtrev_conf_set(&c, "alg", "ES256,HS256", &err) != 0)
        abort();
    ok(jwtrev_keyring_load(&c, &kr, &err) == 0 &&
           jwtrev_keyring_count(kr) == 2 &&
           jwtrevp_keyring_by_alg(kr, JWTREV_ALG_ES256, 0) != NULL &&
           jwtrevp_keyring_by_alg(kr, JWTREV_ALG_HS256, 0) != NULL,
       "load: keys, secrets and the allow-list of a conf");
    jwtrev_keyring_free(kr);
    kr = NULL;
    path_of("rsa1024.pub.pem", p1, sizeof(p1));
    jwtrev_conf_set(&c, "key", p1, &err);
    ok(jwtrev_keyring_load(&c, &kr, &err) == REFUSED && kr == NULL &&
           strstr(err.detail, "rsa1024.pub.pem") != NULL,
       "load: one refused file fails the whole ring: %s", err.detail);
    jwtrev_conf_free(&c);
}

/*
 * DESIGN 10's tolerance table: each unusable kind beside a good RS256 key
 * is skipped with a warning naming its kid (its position when it has
 * none) and the reason; single-key files of those kinds stay refused.
 */
static void
test_tolerance(void)
{
    static const struct {
        const char *who, *why;
    } want[] = {
        {"key 1 (kid \"x-enc\") skipped", "not meant for signature"},
        {"key 3 (kid \"small\") skipped", "RSA key of 1024 bits"},
        {"key 4 (kid \"legacy\") skipped", "alg \"RS1\" is not a supported"},
        {"key 5 (kid \"dsa\") skipped", "kty \"DSA\" is not supported"},
        {"key 6 (kid \"p192\") skipped", "curve P-192 is not supported"},
        {"key 7 skipped", "curve X448 is not supported"},
    };
    static const char *const strict[] = {"rsa1024.jwk", "enc.jwk",
                                         "kty-unknown.jwk", "x25519.jwk",
                                         "rsa1024.pub.pem"};
    char path[4200];
    const char *w;
    jwtrev_keyring *kr;
    jwtrev_error err;
    size_t i;

    path_of("tolerant.jwks", path, sizeof(path));
    if (jwtrev_keyring_new(JWTREV_ALGSET_ALL, &kr) != 0)
        abort();
    ok(jwtrev_keyring_add_file(kr, path, &err) == 0 &&
           jwtrev_keyring_count(kr) == 1,
       "tolerant.jwks loads its one good key");
    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        w = jwtrev_keyring_warning(kr, i);
        ok(w != NULL && strstr(w, "tolerant.jwks: ") != NULL &&
               strstr(w, want[i].who) != NULL && strstr(w, want[i].why) != NULL,
           "warning %zu: %s", i, w ? w : "(none)");
    }
    ok(jwtrev_keyring_warning(kr, i) == NULL, "no more warnings than keys");
    jwtrev_keyring_free(kr);
    for (i = 0; i < sizeof(strict) / sizeof(strict[0]); i++) {
        path_of(strict[i], path, sizeof(path));
        if (jwtrev_keyring_new(JWTREV_ALGSET_ALL, &kr) != 0)
            abort();
        ok(jwtrev_keyring_add_file(kr, path, &err) == REFUSED &&
               jwtrev_keyring_warning(kr, 0) == NULL,
           "one key in %s: still refused: %s", strict[i], err.detail);
        jwtrev_keyring_free(kr);
    }
}

int
main(void)
{
    const char *top = getenv("top_srcdir");
    char cmd[64];
    size_t i;

    if (top == NULL) {
        printf("Bail out! top_srcdir is not set\n");
        return 1;
    }
    snprintf(datadir, sizeof(datadir), "%s/tests/data/keys", top);
    if (mkdtemp(tmpdir) == NULL) {
        printf("Bail out! mkdtemp\n");
        return 1;
    }
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run_case(&cases[i]);
    test_ring();
    test_secrets();
    test_files();
    test_load();
    test_tolerance();
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        tap_diag("could not remove %s", tmpdir);
    return tap_done();
}
