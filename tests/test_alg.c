/*
 * test_alg.c - algorithm names both ways, case-sensitivity, "none" never
 * accepted, the allow-list parser, and the binding rule of SECURITY 13.
 */
#include "config.h"

#include <string.h>

#include "jose/keyp.h"
#include "tap.h"

static const char *const names[JWTREV_ALG_COUNT] = {
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256",
    "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "ES256K",
};

/* Names that must never resolve: case variants, none, near misses. */
static const char *const refused[] = {
    "none",   "None",     "NONE",    "nOnE",    "hs256",  "Hs256",
    "rs256",  "EDDSA",    "eddsa",   "Ed25519", "ES521",  "es256k",
    "RS1",    "HS",       "",        "HS256 ",  " HS256", "HS2560",
    "PS2 56", "RSA-OAEP", "A256GCM", "dir",
};

static void
test_names(void)
{
    jwtrev_alg a;
    size_t i;

    for (i = 0; i < JWTREV_ALG_COUNT; i++) {
        ok(strcmp(jwtrev_alg_name((jwtrev_alg)i), names[i]) == 0,
           "name of alg %zu is %s", i, names[i]);
        ok(jwtrev_alg_from_name(names[i], strlen(names[i]), &a) == 0 &&
               a == (jwtrev_alg)i,
           "%s resolves to its enum", names[i]);
    }
    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        a = JWTREV_ALG_COUNT;
        ok(jwtrev_alg_from_name(refused[i], strlen(refused[i]), &a) ==
                   -JWTREV_ERR_UNSUPPORTED_ALG &&
               a == JWTREV_ALG_COUNT,
           "\"%s\" is refused and *out untouched", refused[i]);
    }
    /* length-delimited: a prefix of a longer buffer */
    ok(jwtrev_alg_from_name("RS256xyz", 5, &a) == 0 && a == JWTREV_ALG_RS256,
       "the name is taken by length, not NUL");
    ok(jwtrev_alg_from_name("HS2", 3, &a) != 0,
       "a prefix of a name is refused");
    ok(strcmp(jwtrev_alg_name(JWTREV_ALG_COUNT), "unknown") == 0,
       "out-of-range alg has a safe name");
}

#define S(a) (1u << JWTREV_ALG_##a)

static const struct {
    const char *list;
    int rc;
    jwtrev_algset want;
} lists[] = {
    {"RS256", 0, S(RS256)},
    {"RS256,ES256", 0, S(RS256) | S(ES256)},
    {"RS256, ES256 EdDSA", 0, S(RS256) | S(ES256) | S(EDDSA)},
    {"  HS512  ,,HS512 ", 0, S(HS512)},
    {"HS256,HS384,HS512,RS256,RS384,RS512,PS256,PS384,PS512,ES256,ES384,"
     "ES512,EdDSA,ES256K",
     0, JWTREV_ALGSET_ALL},
    {"ES256K EdDSA", 0, S(ES256K) | S(EDDSA)},
    {"", -JWTREV_ERR_CONFIG_ERROR, 0},
    {" , ", -JWTREV_ERR_CONFIG_ERROR, 0},
    {"none", -JWTREV_ERR_CONFIG_ERROR, 0},
    {"RS256,none", -JWTREV_ERR_CONFIG_ERROR, 0},
    {"None", -JWTREV_ERR_CONFIG_ERROR, 0},
    {"rs256", -JWTREV_ERR_CONFIG_ERROR, 0},
    {"RS256;ES256", -JWTREV_ERR_CONFIG_ERROR, 0},
    {"ES521", -JWTREV_ERR_CONFIG_ERROR, 0},
};

static void
test_algset_parse(void)
{
    jwtrev_algset set;
    jwtrev_error err;
    size_t i;
    int rc;

    for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        set = 0xdead;
        jwtrev_error_clear(&err);
        rc = jwtrev_algset_parse(lists[i].list, &set, &err);
        if (lists[i].rc == 0)
            ok(rc == 0 && set == lists[i].want, "parse \"%s\"", lists[i].list);
        else
            ok(rc == lists[i].rc && err.code == -lists[i].rc && set == 0xdead &&
                   err.detail[0] != '\0',
               "refuse \"%s\" (%s)", lists[i].list, err.detail);
    }
    jwtrev_algset_parse("RS256,none", &set, &err);
    ok(strstr(err.detail, "\"none\"") != NULL,
       "the refusal names the offending entry");
    jwtrev_algset_parse("RS256,b\x01\xff", &set, &err);
    ok(strstr(err.detail, "b??") != NULL,
       "non-printable bytes are not copied into the detail");
}

static const struct {
    jwtrevp_keytype type;
    jwtrev_algset allowed;
    jwtrev_alg want;
} bindings[] = {
    {JWTREVP_KT_RSA, JWTREV_ALGSET_ALL, JWTREV_ALG_RS256},
    {JWTREVP_KT_RSA, S(PS384), JWTREV_ALG_PS384},
    {JWTREVP_KT_RSA, S(PS384) | S(HS256) | S(ES256), JWTREV_ALG_PS384},
    {JWTREVP_KT_RSA, S(PS384) | S(RS512), JWTREV_ALG_RS256},
    {JWTREVP_KT_RSA, S(ES256), JWTREV_ALG_RS256},
    {JWTREVP_KT_P256, JWTREV_ALGSET_ALL, JWTREV_ALG_ES256},
    {JWTREVP_KT_P256, S(ES384), JWTREV_ALG_ES256},
    {JWTREVP_KT_P384, S(ES384), JWTREV_ALG_ES384},
    {JWTREVP_KT_P384, JWTREV_ALGSET_ALL, JWTREV_ALG_ES384},
    {JWTREVP_KT_P521, JWTREV_ALGSET_ALL, JWTREV_ALG_ES512},
    {JWTREVP_KT_ED25519, JWTREV_ALGSET_ALL, JWTREV_ALG_EDDSA},
    {JWTREVP_KT_ED448, JWTREV_ALGSET_ALL, JWTREV_ALG_EDDSA},
    {JWTREVP_KT_ED448, S(EDDSA), JWTREV_ALG_EDDSA},
    {JWTREVP_KT_SECP256K1, JWTREV_ALGSET_ALL, JWTREV_ALG_ES256K},
    {JWTREVP_KT_SECP256K1, S(ES256), JWTREV_ALG_ES256K},
    {JWTREVP_KT_P256, S(ES256K), JWTREV_ALG_ES256},
    {JWTREVP_KT_SECRET, JWTREV_ALGSET_ALL, JWTREV_ALG_HS256},
    {JWTREVP_KT_SECRET, S(HS512), JWTREV_ALG_HS512},
    {JWTREVP_KT_SECRET, S(HS512) | S(RS256), JWTREV_ALG_HS512},
    {JWTREVP_KT_SECRET, S(HS384) | S(HS512), JWTREV_ALG_HS256},
};

static void
test_binding(void)
{
    size_t i;
    int a, t;

    for (i = 0; i < sizeof(bindings) / sizeof(bindings[0]); i++)
        ok(jwtrevp_alg_bind(bindings[i].type, bindings[i].allowed) ==
               bindings[i].want,
           "a %s key with allow-list 0x%04x binds to %s",
           jwtrevp_keytype_name(bindings[i].type),
           (unsigned)bindings[i].allowed, jwtrev_alg_name(bindings[i].want));
    /* SECURITY 14: only secrets fit HS*, and secrets fit nothing else */
    for (a = 0; a < JWTREV_ALG_COUNT; a++)
        for (t = 0; t < JWTREVP_KT_COUNT; t++)
            if ((a <= JWTREV_ALG_HS512) != (t == JWTREVP_KT_SECRET))
                ok(!jwtrevp_alg_fits((jwtrev_alg)a, (jwtrevp_keytype)t),
                   "%s does not fit a %s key", names[a],
                   jwtrevp_keytype_name((jwtrevp_keytype)t));
    /* EdDSA is both curves' (RFC 8037); secp256k1 is ES256K's alone */
    ok(jwtrevp_alg_fits(JWTREV_ALG_EDDSA, JWTREVP_KT_ED448) &&
           jwtrevp_alg_fits(JWTREV_ALG_EDDSA, JWTREVP_KT_ED25519),
       "EdDSA fits Ed25519 and Ed448 keys");
    ok(!jwtrevp_alg_fits(JWTREV_ALG_ES256, JWTREVP_KT_SECP256K1) &&
           !jwtrevp_alg_fits(JWTREV_ALG_ES256K, JWTREVP_KT_P256) &&
           jwtrevp_alg_fits(JWTREV_ALG_ES256K, JWTREVP_KT_SECP256K1),
       "ES256K fits secp256k1 keys only, ES256 none of them");
}

int
main(void)
{
    test_names();
    test_algset_parse();
    test_binding();
    return tap_done();
}
