/*
 * alg.c - the JOSE signature algorithms this library knows, their names,
 * the parameters each one fixes (hash, key type, signature length), the
 * allow-list parser, and the key/algorithm binding rule of SECURITY 13.
 */
#include "config.h"

#include <string.h>

#include "keyp.h"

/*
 * Indexed by jwtrev_alg.  The key type column is what makes SECURITY 14
 * hold: only JWTREVP_KT_SECRET keys can ever be bound to an HS* algorithm.
 */
static const jwtrevp_alginfo algs[JWTREV_ALG_COUNT] = {
    [JWTREV_ALG_HS256] = {"HS256", JWTREVP_FAM_HMAC, JWTREVP_KT_SECRET,
                          "SHA256", 32, 32},
    [JWTREV_ALG_HS384] = {"HS384", JWTREVP_FAM_HMAC, JWTREVP_KT_SECRET,
                          "SHA384", 48, 48},
    [JWTREV_ALG_HS512] = {"HS512", JWTREVP_FAM_HMAC, JWTREVP_KT_SECRET,
                          "SHA512", 64, 64},
    [JWTREV_ALG_RS256] = {"RS256", JWTREVP_FAM_RSA, JWTREVP_KT_RSA, "SHA256",
                          32, 0},
    [JWTREV_ALG_RS384] = {"RS384", JWTREVP_FAM_RSA, JWTREVP_KT_RSA, "SHA384",
                          48, 0},
    [JWTREV_ALG_RS512] = {"RS512", JWTREVP_FAM_RSA, JWTREVP_KT_RSA, "SHA512",
                          64, 0},
    [JWTREV_ALG_PS256] = {"PS256", JWTREVP_FAM_PSS, JWTREVP_KT_RSA, "SHA256",
                          32, 0},
    [JWTREV_ALG_PS384] = {"PS384", JWTREVP_FAM_PSS, JWTREVP_KT_RSA, "SHA384",
                          48, 0},
    [JWTREV_ALG_PS512] = {"PS512", JWTREVP_FAM_PSS, JWTREVP_KT_RSA, "SHA512",
                          64, 0},
    [JWTREV_ALG_ES256] = {"ES256", JWTREVP_FAM_ECDSA, JWTREVP_KT_P256, "SHA256",
                          32, 64},
    [JWTREV_ALG_ES384] = {"ES384", JWTREVP_FAM_ECDSA, JWTREVP_KT_P384, "SHA384",
                          48, 96},
    [JWTREV_ALG_ES512] = {"ES512", JWTREVP_FAM_ECDSA, JWTREVP_KT_P521, "SHA512",
                          64, 132},
    [JWTREV_ALG_EDDSA] = {"EdDSA", JWTREVP_FAM_EDDSA, JWTREVP_KT_ED25519, NULL,
                          0, 0},
    [JWTREV_ALG_ES256K] = {"ES256K", JWTREVP_FAM_ECDSA, JWTREVP_KT_SECP256K1,
                           "SHA256", 32, 64},
};

/* The algorithm a key of each type gets when nothing narrows it down. */
static const jwtrev_alg type_default[JWTREVP_KT_COUNT] = {
    [JWTREVP_KT_SECRET] = JWTREV_ALG_HS256,
    [JWTREVP_KT_RSA] = JWTREV_ALG_RS256,
    [JWTREVP_KT_P256] = JWTREV_ALG_ES256,
    [JWTREVP_KT_P384] = JWTREV_ALG_ES384,
    [JWTREVP_KT_P521] = JWTREV_ALG_ES512,
    [JWTREVP_KT_ED25519] = JWTREV_ALG_EDDSA,
    [JWTREVP_KT_ED448] = JWTREV_ALG_EDDSA,
    [JWTREVP_KT_SECP256K1] = JWTREV_ALG_ES256K,
};

static const char *const type_names[JWTREVP_KT_COUNT] = {
    [JWTREVP_KT_SECRET] = "HMAC secret",
    [JWTREVP_KT_RSA] = "RSA",
    [JWTREVP_KT_P256] = "EC P-256",
    [JWTREVP_KT_P384] = "EC P-384",
    [JWTREVP_KT_P521] = "EC P-521",
    [JWTREVP_KT_ED25519] = "Ed25519",
    [JWTREVP_KT_ED448] = "Ed448",
    [JWTREVP_KT_SECP256K1] = "EC secp256k1",
};

const jwtrevp_alginfo *
jwtrevp_alg_info(jwtrev_alg alg)
{
    return &algs[alg];
}

const char *
jwtrev_alg_name(jwtrev_alg alg)
{
    if ((unsigned)alg >= JWTREV_ALG_COUNT)
        return "unknown";
    return algs[alg].name;
}

int
jwtrev_alg_from_name(const char *name, size_t len, jwtrev_alg *out)
{
    int i;

    for (i = 0; i < JWTREV_ALG_COUNT; i++) {
        if (strlen(algs[i].name) == len &&
            memcmp(algs[i].name, name, len) == 0) {
            *out = (jwtrev_alg)i;
            return 0;
        }
    }
    return -JWTREV_ERR_UNSUPPORTED_ALG;
}

/* Copy at most cap - 1 printable ASCII bytes of s for an error text. */
static void
printable(const char *s, size_t len, char *buf, size_t cap)
{
    size_t i, o = 0;

    for (i = 0; i < len && o + 1 < cap; i++)
        buf[o++] = (s[i] > 0x20 && s[i] < 0x7f) ? s[i] : '?';
    buf[o] = '\0';
}

int
jwtrev_algset_parse(const char *list, jwtrev_algset *out, jwtrev_error *err)
{
    static const char sep[] = ", \t";
    jwtrev_algset set = 0;
    const char *p = list;
    jwtrev_alg alg;
    char shown[32];
    size_t len;

    for (p += strspn(p, sep); *p != '\0'; p += strspn(p, sep)) {
        len = strcspn(p, sep);
        if (jwtrev_alg_from_name(p, len, &alg) != 0) {
            printable(p, len, shown, sizeof(shown));
            return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                               "unknown or refused algorithm \"%s\"", shown);
        }
        set |= 1u << alg;
        p += len;
    }
    if (set == 0)
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "empty algorithm list");
    *out = set;
    return 0;
}

const char *
jwtrevp_keytype_name(jwtrevp_keytype t)
{
    return type_names[t];
}

/* EdDSA is one JOSE name for both curves (RFC 8037 3.1): the key decides. */
int
jwtrevp_alg_fits(jwtrev_alg alg, jwtrevp_keytype t)
{
    return algs[alg].keytype == t ||
           (alg == JWTREV_ALG_EDDSA && t == JWTREVP_KT_ED448);
}

jwtrev_alg
jwtrevp_alg_default(jwtrevp_keytype t)
{
    return type_default[t];
}

jwtrev_alg
jwtrevp_alg_bind(jwtrevp_keytype t, jwtrev_algset allowed)
{
    int i, found = -1, n = 0;

    for (i = 0; i < JWTREV_ALG_COUNT; i++) {
        if (jwtrevp_alg_fits((jwtrev_alg)i, t) &&
            JWTREV_ALGSET_HAS(allowed, i)) {
            found = i;
            n++;
        }
    }
    return n == 1 ? (jwtrev_alg)found : type_default[t];
}
