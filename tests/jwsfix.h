/*
 * jwsfix.h - test fixture for the JWS tests: tokens built with OpenSSL
 * directly (any header, payload or signature, independently of the
 * library's signer), a keyring holding every key type, and a checked call
 * of jwtrev_verify.  Test-only; failures to set up bail out.
 */
#ifndef JWTREV_TEST_JWSFIX_H
#define JWTREV_TEST_JWSFIX_H

#include <openssl/evp.h>

#include "jose/josep.h"

/* The time the fixture's tokens are judged at, and a claim set valid then. */
#define FIX_NOW 1700000000
#define FIX_VALID                                                              \
    "{\"sub\":\"alice\",\"iat\":1700000000,\"exp\":1700003600,"                \
    "\"jti\":\"id-1\"}"

/* Who signs a test token. */
struct signer {
    jwtrev_alg alg;
    const unsigned char *secret; /* HS* */
    size_t secret_len;
    EVP_PKEY *pkey; /* RS*, PS*, ES*, EdDSA private key */
    int der;        /* ES*: DER instead of raw r||s (must be refused) */
};

enum { P_ALL, P_ES, P_TYP, P_COUNT };

enum {
    S_K1,      /* HS256, kid k1 */
    S_K2,      /* HS256, no kid */
    S_K3,      /* HS384, kid k3 */
    S_K1_384,  /* k1's secret used for HS384 */
    S_ATTACK,  /* HS256 with a secret the ring does not have */
    S_PEMHMAC, /* HS256 keyed with the RSA public key's PEM text */
    S_RS256,   /* the RSA key: kid rsa1 (RS256) and kid ps1 (PS256) */
    S_RS512,
    S_PS256,
    S_ES256, /* P-256, no kid */
    S_ESDER,
    S_ES384, /* P-384, no kid */
    S_ED,    /* Ed25519, no kid */
    S_COUNT
};

struct fixture {
    jwtrev_keyring *kr;
    jwtrev_policy *pol[P_COUNT]; /* defaults; alg=ES256; typ=at+jwt */
    struct signer sg[S_COUNT];
    EVP_PKEY *rsa, *ec, *ec384, *ed;
    char *rsa_pem;
    char dir[64];
};

extern struct fixture fx;

/* Build the keys, the ring, the signers and the policies; and free them. */
void fix_setup(void);
void fix_teardown(void);

/* Print "Bail out!" and abort. */
void tok_die(const char *what) __attribute__((noreturn));

/* base64url of n bytes; the caller frees it. */
char *tok_b64(const void *p, size_t n);

/*
 * header JSON . payload bytes . signature by s, or when s is NULL the
 * signature text junk (may be empty).  The caller frees the token.
 */
char *tok_make(const char *hdr, const void *payload, size_t payload_len,
               const struct signer *s, const char *junk);

/* The same with a text payload and a real signature. */
char *tok_json(const char *hdr, const char *payload, const struct signer *s);

/*
 * jwtrev_verify at FIX_NOW with the invariants every call must keep
 * counted: an empty OpenSSL error queue, *out untouched on failure, no
 * piece of the token in err.  *out is zeroed on failure.
 */
int fix_verify(int policy, const char *token, size_t len, unsigned flags,
               jwtrev_token *out, jwtrev_error *err);

/* How many fix_verify calls broke each invariant. */
struct fix_counts {
    int calls, queue_dirty, out_touched, leaked;
};
const struct fix_counts *fix_counts(void);

/* The invariants as three test points of the including test (tap.h). */
#define FIX_REPORT()                                                           \
    do {                                                                       \
        const struct fix_counts *fc_ = fix_counts();                           \
        ok(fc_->queue_dirty == 0,                                              \
           "the OpenSSL error queue was empty after each of %d calls",         \
           fc_->calls);                                                        \
        ok(fc_->out_touched == 0,                                              \
           "a failed call never wrote its out-parameter");                     \
        ok(fc_->leaked == 0, "no detail or log id held a piece of the token"); \
    } while (0)

#endif /* JWTREV_TEST_JWSFIX_H */
