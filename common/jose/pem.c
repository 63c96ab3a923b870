/*
 * pem.c - verification keys from PEM text: "PUBLIC KEY" (SubjectPublicKey-
 * Info), "RSA PUBLIC KEY" (PKCS#1) and X.509 certificates; several blocks
 * are several keys.  Private keys are refused, never reduced to their
 * public half: a private key in a verifier's configuration is a mistake
 * the operator must hear about.
 */
#include "config.h"

#include <limits.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "keyp.h"

static EVP_PKEY *
decode_block(const char *name, const unsigned char *der, long len,
             const unsigned char **end)
{
    const unsigned char *p = der;
    EVP_PKEY *pk = NULL;
    X509 *x;

    if (strcmp(name, PEM_STRING_PUBLIC) == 0) {
        pk = d2i_PUBKEY(NULL, &p, len);
    } else if (strcmp(name, PEM_STRING_RSA_PUBLIC) == 0) {
        pk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, len);
    } else {
        /* A certificate only carries the key here: its issuer, chain and
         * dates are not checked, since trust comes from the operator who
         * configured the file, not from a CA. */
        if ((x = d2i_X509(NULL, &p, len)) != NULL)
            pk = X509_get_pubkey(x);
        X509_free(x);
    }
    *end = p;
    return pk;
}

/* One PEM block into kl (or nothing, for EC PARAMETERS). */
static int
pem_block(const char *name, const unsigned char *der, long len,
          jwtrevp_keylist *kl, const jwtrevp_loadctx *lc)
{
    const unsigned char *end = der;
    jwtrevp_key k = {0};
    jwtrevp_keytype t;
    int rc;

    if (strcmp(name, "EC PARAMETERS") == 0)
        return 0; /* written by "openssl ecparam" beside keys; no key */
    if (strstr(name, "PRIVATE KEY") != NULL)
        return jwtrevp_refuse(lc, "private key given where a public key is "
                                  "expected");
    if (strcmp(name, PEM_STRING_PUBLIC) != 0 &&
        strcmp(name, PEM_STRING_RSA_PUBLIC) != 0 &&
        strcmp(name, PEM_STRING_X509) != 0 &&
        strcmp(name, PEM_STRING_X509_OLD) != 0)
        return jwtrevp_refuse(lc, "unexpected PEM block \"%.40s\"", name);
    k.pkey = decode_block(name, der, len, &end);
    if (k.pkey == NULL)
        return jwtrevp_refuse(lc, "malformed %.40s", name);
    if (end != der + len) {
        rc = jwtrevp_refuse(lc, "trailing data in %.40s", name);
        goto done;
    }
    if ((rc = jwtrevp_pkey_type(k.pkey, lc, &t)) != 0)
        goto done;
    if (lc->dflt_kid != NULL &&
        jwtrevp_key_set_kid(&k, lc->dflt_kid, strlen(lc->dflt_kid)) != 0) {
        rc = jwtrev_fail(lc->err, JWTREV_ERR_INTERNAL, "out of memory");
        goto done;
    }
    rc = jwtrevp_keylist_add(kl, &k, t, -1, lc);
done:
    jwtrevp_key_clear(&k);
    return rc;
}

static unsigned
count_blocks(const char *data, size_t len)
{
    const char *p = data, *hit;
    unsigned n = 0;

    while ((hit = memmem(p, len - (size_t)(p - data), "-----BEGIN ", 11))) {
        n++;
        p = hit + 11;
    }
    return n;
}

int
jwtrevp_pem_public(const char *data, size_t len, jwtrevp_keylist *kl,
                   jwtrevp_loadctx *lc)
{
    char *name = NULL, *header = NULL;
    unsigned char *der = NULL;
    unsigned blocks = count_blocks(data, len), i;
    unsigned long e;
    long derlen = 0;
    BIO *bio;
    int rc = 0;

    if (len > INT_MAX || (bio = BIO_new_mem_buf(data, (int)len)) == NULL)
        return jwtrev_fail(lc->err, JWTREV_ERR_INTERNAL, "out of memory");
    for (i = 1; rc == 0; i++) {
        lc->index = blocks > 1 ? i : 0;
        if (!PEM_read_bio(bio, &name, &header, &der, &derlen)) {
            e = ERR_peek_last_error();
            if (i == 1 || ERR_GET_LIB(e) != ERR_LIB_PEM ||
                ERR_GET_REASON(e) != PEM_R_NO_START_LINE)
                rc = jwtrevp_refuse(lc, "malformed PEM");
            break;
        }
        rc = pem_block(name, der, derlen, kl, lc);
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(der);
        name = header = NULL;
        der = NULL;
    }
    lc->index = 0;
    BIO_free(bio);
    ERR_clear_error();
    return rc;
}
