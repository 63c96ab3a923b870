/*
 * test_ctcmp.c - SECURITY 18: an HMAC tag is compared with
 * CRYPTO_memcmp, over the whole tag.
 *
 * A plain memcmp gives the same answers, so no table of signatures can
 * tell them apart.  This program defines CRYPTO_memcmp itself: the
 * library is a static convenience library, so its objects bind to this
 * definition at link time, and every comparison they make is counted
 * with its length.  (Were the symbol not bound here, no call would be
 * counted and the test would fail, never pass by accident.)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "jose/keyp.h"
#include "tap.h"

static size_t ct_calls, ct_last_len;

/* A constant-time comparison, as OpenSSL's, that also counts its calls. */
int
CRYPTO_memcmp(const void *in_a, const void *in_b, size_t len)
{
    const volatile unsigned char *a = in_a, *b = in_b;
    unsigned char x = 0;
    size_t i;

    ct_calls++;
    ct_last_len = len;
    for (i = 0; i < len; i++)
        x |= a[i] ^ b[i];
    return x;
}

static const struct {
    const char *file;
    jwtrev_alg alg;
    const char *md;
} hmacs[] = {
    {"hs256.bin", JWTREV_ALG_HS256, "SHA256"},
    {"hs384.bin", JWTREV_ALG_HS384, "SHA384"},
    {"hs512.bin", JWTREV_ALG_HS512, "SHA512"},
};

/* Flip one bit of the tag (bit < 0: none), verify, count the compares. */
static int
verify_counted(const jwtrevp_key *k, const unsigned char *tag, size_t len,
               int bit, size_t *calls)
{
    static const unsigned char msg[] = "eyJhbGciOiJIUzI1NiJ9.e30";
    unsigned char sig[EVP_MAX_MD_SIZE];
    size_t before = ct_calls;
    int rc;

    memcpy(sig, tag, len);
    if (bit >= 0)
        sig[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    ct_last_len = 0;
    rc = jwtrevp_sig_verify(k, msg, sizeof(msg) - 1, sig, len);
    *calls = ct_calls - before;
    return rc;
}

static void
test_alg(const char *datadir, size_t i)
{
    static const unsigned char msg[] = "eyJhbGciOiJIUzI1NiJ9.e30";
    const char *name = jwtrev_alg_name(hmacs[i].alg);
    unsigned char tag[EVP_MAX_MD_SIZE];
    char path[4200];
    const jwtrevp_key *k;
    jwtrev_keyring *kr = NULL;
    jwtrev_error err;
    size_t len = 0, calls;
    int rc;

    snprintf(path, sizeof(path), "%s/%s", datadir, hmacs[i].file);
    if (jwtrev_keyring_new(1u << hmacs[i].alg, &kr) != 0 ||
        jwtrev_keyring_add_secret_file(kr, path, &err) != 0 ||
        (k = jwtrevp_keyring_by_alg(kr, hmacs[i].alg, 0)) == NULL ||
        EVP_Q_mac(NULL, "HMAC", NULL, hmacs[i].md, NULL, k->secret,
                  k->secret_len, msg, sizeof(msg) - 1, tag, sizeof(tag),
                  &len) == NULL) {
        printf("Bail out! %s: cannot set up the key\n", name);
        exit(1);
    }
    rc = verify_counted(k, tag, len, -1, &calls);
    ok(rc == 0 && calls == 1 && ct_last_len == len,
       "%s valid tag: accepted after one CRYPTO_memcmp of %zu bytes", name,
       len);
    if (calls != 1 || ct_last_len != len)
        tap_diag("%zu calls, the last of %zu bytes", calls, ct_last_len);
    rc = verify_counted(k, tag, len, (int)(len * 8 - 1), &calls);
    ok(rc == -JWTREV_ERR_BAD_SIGNATURE && calls == 1 && ct_last_len == len,
       "%s last bit flipped: refused by a CRYPTO_memcmp of all %zu bytes", name,
       len);
    rc = verify_counted(k, tag, len, 0, &calls);
    ok(rc == -JWTREV_ERR_BAD_SIGNATURE && calls == 1 && ct_last_len == len,
       "%s first bit flipped: refused by a CRYPTO_memcmp of all %zu bytes",
       name, len);
    jwtrev_keyring_free(kr);
}

int
main(void)
{
    const char *top = getenv("top_srcdir");
    char datadir[4096];
    size_t i;

    if (top == NULL) {
        printf("Bail out! top_srcdir is not set\n");
        return 1;
    }
    snprintf(datadir, sizeof(datadir), "%s/tests/data/keys", top);
    for (i = 0; i < sizeof(hmacs) / sizeof(hmacs[0]); i++)
        test_alg(datadir, i);
    return tap_done();
}
