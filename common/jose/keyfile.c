/*
 * keyfile.c - what the key loaders read from files: whole files of a
 * bounded size, the "KID#FILE" syntax, and HMAC secrets (one final line
 * ending stripped; public key material refused, SECURITY 14).
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "keyp.h"

int
jwtrevp_read_file(const char *path, size_t max, char **out, size_t *len,
                  jwtrev_error *err)
{
    struct stat st = {0};
    char *buf = NULL;
    size_t got = 0;
    FILE *f;
    int rc;

    if ((f = fopen(path, "rb")) == NULL)
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR, "%s: cannot open: %m",
                           path);
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR, "%s: not a regular file",
                         path);
        goto done;
    }
    if ((size_t)st.st_size > max) {
        rc = jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                         "%s: larger than %zu bytes", path, max);
        goto done;
    }
    if ((buf = OPENSSL_malloc((size_t)st.st_size + 1)) == NULL) {
        rc = jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
        goto done;
    }
    got = fread(buf, 1, (size_t)st.st_size, f);
    if (ferror(f) || got != (size_t)st.st_size) {
        rc = jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                         "%s: read error or file changed while read", path);
        goto done;
    }
    buf[got] = '\0';
    *out = buf;
    *len = got;
    buf = NULL;
    rc = 0;
done:
    OPENSSL_clear_free(buf, (size_t)st.st_size + 1);
    fclose(f);
    return rc;
}

/* A path that exists is a file even with '#' in its name. */
int
jwtrevp_split_kid(const char *path, char **kid, const char **file,
                  jwtrev_error *err)
{
    const char *hash = strchr(path, '#');
    struct stat st;

    *kid = NULL;
    *file = path;
    if (hash == NULL || stat(path, &st) == 0)
        return 0;
    if (hash == path)
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "%s: empty kid before '#'", path);
    if ((size_t)(hash - path) > JWTREVP_KID_MAX)
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "%s: kid longer than %d bytes", path,
                           JWTREVP_KID_MAX);
    if ((*kid = OPENSSL_strndup(path, (size_t)(hash - path))) == NULL)
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    *file = hash + 1;
    return 0;
}

void
jwtrevp_secret_trim(const char *buf, size_t *len)
{
    size_t n = *len;

    if (n > 0 && buf[n - 1] == '\n') {
        n--;
        if (n > 0 && buf[n - 1] == '\r')
            n--;
    }
    *len = n;
}

/*
 * 1 when s starts with DER of a public key or certificate.  A random
 * secret does so with negligible probability.
 */
static int
is_der_public(const unsigned char *s, size_t len)
{
    const unsigned char *p;
    EVP_PKEY *pk;
    X509 *x;
    int found;

    if (len < 2 || s[0] != 0x30 || len > LONG_MAX)
        return 0;
    p = s;
    pk = d2i_PUBKEY(NULL, &p, (long)len);
    if (pk == NULL) {
        p = s;
        pk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)len);
    }
    p = s;
    x = pk == NULL ? d2i_X509(NULL, &p, (long)len) : NULL;
    found = pk != NULL || x != NULL;
    EVP_PKEY_free(pk);
    X509_free(x);
    return found;
}

int
jwtrevp_secret_check(const unsigned char *s, size_t len,
                     const jwtrevp_loadctx *lc)
{
    size_t i = 0;

    if (len == 0)
        return jwtrevp_refuse(lc, "empty HMAC secret");
    while (i < len &&
           (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
        i++;
    /* Public key material is no secret: as an HMAC key it would let
     * anyone forge tokens (SECURITY 14). */
    if (memmem(s, len, "-----BEGIN", 10) != NULL)
        return jwtrevp_refuse(lc, "holds PEM data; key material is never "
                                  "an HMAC secret");
    if (i < len && s[i] == '{')
        return jwtrevp_refuse(lc, "holds JSON (a JWK?); give JWKs as keys, "
                                  "not secrets");
    if ((len - i >= 4 && memcmp(s + i, "ssh-", 4) == 0) ||
        (len - i >= 11 && memcmp(s + i, "ecdsa-sha2-", 11) == 0))
        return jwtrevp_refuse(lc, "holds an OpenSSH public key, not a secret");
    if (is_der_public(s, len))
        return jwtrevp_refuse(lc, "holds a DER public key or certificate, "
                                  "not a secret");
    ERR_clear_error();
    return 0;
}
