/*
 * keys.c - the keyring: loading key files (PEM, JWK, JWKS) and secret
 * files into verification keys bound to one algorithm each (SECURITY
 * 13-16), and finding a token's key.
 *
 * A file's keys are collected in a jwtrevp_keylist and join the ring only
 * when the whole file was accepted, so a refused file leaves the ring as
 * it was.  Inside a JWKS a key that cannot be used is skipped and the
 * reason kept as a warning of the ring (DESIGN 10); only a set with no
 * usable key, or what concerns the whole set (mixed key kinds, duplicate
 * kids, malformed JSON), refuses the file.  Other files hold one key, or
 * a few PEM blocks an operator wrote, and stay strict.  Once a host has
 * finished loading, the ring is never changed again and may be read by any
 * number of threads.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "keyp.h"

struct jwtrev_keyring {
    atomic_uint refs;
    jwtrev_algset allowed;
    jwtrevp_keylist keys;
    jwtrevp_skips warnings; /* skipped keys of the JWKS files loaded */
};

/* At most this many skipped keys are kept per ring; the last one says
 * how many more there were. */
#define SKIPS_MAX 32

int
jwtrevp_refuse(const jwtrevp_loadctx *lc, const char *fmt, ...)
{
    char why[JWTREV_DETAIL_MAX], where[96] = "", *p;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    /* Key files are read from outside; keep their bytes from turning one
     * log line into several. */
    for (p = why; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    if (lc->index > 0)
        snprintf(where, sizeof(where), ": key %u%s%s%s%s", lc->index,
                 lc->kid ? " (kid \"" : "", lc->kid ? lc->kid : "",
                 lc->kid ? "\")" : "", lc->skips ? " skipped" : "");
    ERR_clear_error();
    return jwtrev_fail(lc->err, JWTREV_ERR_CONFIG_ERROR, "%s%s: %s", lc->name,
                       where, why);
}

/* Append text to sk; at SKIPS_MAX, count the rest in the last entry. */
static int
skips_add(jwtrevp_skips *sk, const char *text, size_t more)
{
    char(*v)[JWTREV_DETAIL_MAX];
    size_t cap = sk->cap ? sk->cap * 2 : 4;

    if (sk->n >= SKIPS_MAX) {
        snprintf(sk->v[SKIPS_MAX - 1], JWTREV_DETAIL_MAX,
                 "and %zu more keys skipped", sk->n - SKIPS_MAX + 1 + more);
        sk->n += more;
        return 0;
    }
    if (sk->n == sk->cap) {
        if ((v = OPENSSL_realloc(sk->v, cap * sizeof(*v))) == NULL)
            return -JWTREV_ERR_INTERNAL;
        sk->v = v;
        sk->cap = cap;
    }
    snprintf(sk->v[sk->n++], JWTREV_DETAIL_MAX, "%s", text);
    return 0;
}

int
jwtrevp_skip(const jwtrevp_loadctx *lc)
{
    if (skips_add(lc->skips, lc->err->detail, 1) != 0)
        return jwtrev_fail(lc->err, JWTREV_ERR_INTERNAL, "out of memory");
    memset(lc->err, 0, sizeof(*lc->err));
    return 0;
}

static void
skips_free(jwtrevp_skips *sk)
{
    OPENSSL_free(sk->v);
    memset(sk, 0, sizeof(*sk));
}

void
jwtrevp_key_clear(jwtrevp_key *k)
{
    OPENSSL_free(k->kid);
    EVP_PKEY_free(k->pkey);
    OPENSSL_clear_free(k->secret, k->secret_len);
    EVP_MD_free(k->md);
    EVP_MAC_CTX_free(k->hmac);
    EVP_MD_CTX_free(k->vtpl);
    memset(k, 0, sizeof(*k));
}

int
jwtrevp_key_set_kid(jwtrevp_key *k, const char *kid, size_t len)
{
    char *copy = OPENSSL_malloc(len + 1);

    if (copy == NULL)
        return -JWTREV_ERR_INTERNAL;
    memcpy(copy, kid, len);
    copy[len] = '\0';
    OPENSSL_free(k->kid);
    k->kid = copy;
    k->kid_len = len;
    return 0;
}

static void
keylist_free(jwtrevp_keylist *kl)
{
    size_t i;

    for (i = 0; i < kl->n; i++)
        jwtrevp_key_clear(&kl->v[i]);
    OPENSSL_free(kl->v);
    memset(kl, 0, sizeof(*kl));
}

/* Room for extra more keys in kl; 0 or -JWTREV_ERR_INTERNAL. */
static int
keylist_reserve(jwtrevp_keylist *kl, size_t extra)
{
    jwtrevp_key *v;
    size_t cap = kl->cap ? kl->cap : 4;

    while (cap < kl->n + extra)
        cap *= 2;
    if (cap == kl->cap)
        return 0;
    if ((v = OPENSSL_realloc(kl->v, cap * sizeof(*v))) == NULL)
        return -JWTREV_ERR_INTERNAL;
    kl->v = v;
    kl->cap = cap;
    return 0;
}

/* Append k, taking its contents over; room must have been reserved. */
static void
keylist_move(jwtrevp_keylist *kl, jwtrevp_key *k)
{
    kl->v[kl->n++] = *k;
    memset(k, 0, sizeof(*k));
}

int
jwtrevp_keylist_add(jwtrevp_keylist *kl, jwtrevp_key *k, jwtrevp_keytype t,
                    int alg_given, const jwtrevp_loadctx *lc)
{
    const jwtrevp_alginfo *ai;
    int rc;

    if (alg_given >= 0 && !jwtrevp_alg_fits((jwtrev_alg)alg_given, t)) {
        rc = jwtrevp_refuse(lc, "alg %s does not fit the %s key",
                            jwtrev_alg_name((jwtrev_alg)alg_given),
                            jwtrevp_keytype_name(t));
        goto done;
    }
    k->alg = alg_given >= 0 ? (jwtrev_alg)alg_given
                            : jwtrevp_alg_bind(t, lc->allowed);
    ai = jwtrevp_alg_info(k->alg);
    if (t == JWTREVP_KT_SECRET && k->secret_len < ai->md_len) {
        rc = jwtrevp_refuse(lc,
                            "%s key of %zu bytes is shorter than the "
                            "%zu-byte hash",
                            ai->name, k->secret_len, ai->md_len);
        goto done;
    }
    rc = 0;
    if (!JWTREV_ALGSET_HAS(lc->allowed, k->alg))
        goto done; /* not usable here; the file may still have others */
    if (jwtrevp_key_prepare(k) != 0 || keylist_reserve(kl, 1) != 0) {
        rc = jwtrev_fail(lc->err, JWTREV_ERR_INTERNAL,
                         "%s: out of memory preparing a key", lc->name);
        goto done;
    }
    keylist_move(kl, k);
done:
    jwtrevp_key_clear(k);
    return rc;
}

/* ---- the ring ---------------------------------------------------------- */

int
jwtrev_keyring_new(jwtrev_algset algs, jwtrev_keyring **out)
{
    jwtrev_keyring *kr = OPENSSL_zalloc(sizeof(*kr));

    if (kr == NULL)
        return -JWTREV_ERR_INTERNAL;
    atomic_init(&kr->refs, 1);
    kr->allowed = algs & JWTREV_ALGSET_ALL;
    *out = kr;
    return 0;
}

size_t
jwtrev_keyring_count(const jwtrev_keyring *kr)
{
    return kr->keys.n;
}

const char *
jwtrev_keyring_warning(const jwtrev_keyring *kr, size_t i)
{
    size_t n = kr->warnings.n < SKIPS_MAX ? kr->warnings.n : SKIPS_MAX;

    return i < n ? kr->warnings.v[i] : NULL;
}

jwtrev_keyring *
jwtrev_keyring_ref(jwtrev_keyring *kr)
{
    atomic_fetch_add_explicit(&kr->refs, 1, memory_order_relaxed);
    return kr;
}

void
jwtrev_keyring_free(jwtrev_keyring *kr)
{
    if (kr == NULL ||
        atomic_fetch_sub_explicit(&kr->refs, 1, memory_order_acq_rel) != 1)
        return;
    keylist_free(&kr->keys);
    skips_free(&kr->warnings);
    OPENSSL_free(kr);
}

static int
kid_eq(const jwtrevp_key *k, const char *kid, size_t len)
{
    return k->kid != NULL && k->kid_len == len && memcmp(k->kid, kid, len) == 0;
}

const jwtrevp_key *
jwtrevp_keyring_by_kid(const jwtrev_keyring *kr, const char *kid,
                       size_t kid_len)
{
    size_t i;

    for (i = 0; i < kr->keys.n; i++)
        if (kid_eq(&kr->keys.v[i], kid, kid_len))
            return &kr->keys.v[i];
    return NULL;
}

const jwtrevp_key *
jwtrevp_keyring_by_alg(const jwtrev_keyring *kr, jwtrev_alg alg, size_t i)
{
    size_t j;

    for (j = 0; j < kr->keys.n; j++)
        if (kr->keys.v[j].alg == alg && i-- == 0)
            return &kr->keys.v[j];
    return NULL;
}

/* A kid fit for an error text: printable ASCII only, else a placeholder. */
static const char *
kid_shown(const jwtrevp_key *k)
{
    size_t i;

    if (k->kid_len > 64)
        return "(long kid)";
    for (i = 0; i < k->kid_len; i++)
        if (k->kid[i] < 0x20 || k->kid[i] > 0x7e)
            return "(non-printable kid)";
    return k->kid;
}

/*
 * A set whose every key was skipped: one error naming the reasons, as
 * many as fit (each warning less its "NAME: " prefix).
 */
static int
refuse_all_skipped(const jwtrevp_skips *sk, const jwtrevp_loadctx *lc)
{
    char why[JWTREV_DETAIL_MAX];
    size_t i, o, skip = strlen(lc->name) + 2;
    int w;

    o = (size_t)snprintf(why, sizeof(why), "no usable key in the set:");
    for (i = 0; i < sk->n && i < SKIPS_MAX && o < sizeof(why); i++) {
        w = snprintf(why + o, sizeof(why) - o, "%s %s", i ? ";" : "",
                     strlen(sk->v[i]) > skip ? sk->v[i] + skip : sk->v[i]);
        o += w > 0 ? (size_t)w : 0;
    }
    return jwtrev_fail(lc->err, JWTREV_ERR_CONFIG_ERROR, "%s: %s", lc->name,
                       why);
}

/*
 * Move a file's keys into the ring, refusing a kid already in the ring or
 * twice among the file's usable keys (SECURITY 15-16: a kid selects
 * exactly one key; a skipped key selects none, so it does not count).
 * The file's skipped keys become the ring's warnings.
 */
static int
ring_take(jwtrev_keyring *kr, jwtrevp_keylist *kl, const jwtrevp_loadctx *lc)
{
    const jwtrevp_skips *sk = lc->skips;
    size_t i, j;

    if (kl->n == 0 && sk != NULL && sk->n > 0)
        return refuse_all_skipped(sk, lc);
    if (kl->n == 0)
        return jwtrevp_refuse(lc, "no usable key (none is meant for "
                                  "signatures with an allowed algorithm)");
    for (i = 0; i < kl->n; i++) {
        const jwtrevp_key *k = &kl->v[i];
        if (k->kid == NULL)
            continue;
        for (j = 0; j < i; j++)
            if (kid_eq(&kl->v[j], k->kid, k->kid_len))
                return jwtrevp_refuse(lc,
                                      "duplicate kid \"%s\": the whole file "
                                      "is refused, a kid must select one key",
                                      kid_shown(k));
        if (jwtrevp_keyring_by_kid(kr, k->kid, k->kid_len) != NULL)
            return jwtrevp_refuse(lc,
                                  "kid \"%s\" is already used by another "
                                  "key",
                                  kid_shown(k));
    }
    if (keylist_reserve(&kr->keys, kl->n) != 0)
        return jwtrev_fail(lc->err, JWTREV_ERR_INTERNAL, "out of memory");
    for (i = 0; sk != NULL && i < sk->n && i < SKIPS_MAX; i++)
        if (skips_add(&kr->warnings, sk->v[i],
                      i + 1 == SKIPS_MAX ? sk->n - SKIPS_MAX : 0) != 0)
            return jwtrev_fail(lc->err, JWTREV_ERR_INTERNAL, "out of memory");
    for (i = 0; i < kl->n; i++)
        keylist_move(&kr->keys, &kl->v[i]);
    kl->n = 0;
    return 0;
}

static int
add_mem(jwtrev_keyring *kr, const char *data, size_t len, const char *name,
        const char *dflt_kid, jwtrev_error *err)
{
    jwtrevp_skips skips = {NULL, 0, 0};
    jwtrevp_loadctx lc = {name, dflt_kid, kr->allowed, 0, err, NULL, NULL};
    jwtrevp_keylist kl = {NULL, 0, 0};
    size_t skip = 0;
    json_t *doc = NULL;
    int rc;

    while (skip < len && (data[skip] == ' ' || data[skip] == '\t' ||
                          data[skip] == '\r' || data[skip] == '\n'))
        skip++;
    if (skip < len && data[skip] == '{') {
        if (jwtrevp_json_parse_object(data + skip, len - skip, &doc) != 0) {
            rc = jwtrevp_refuse(&lc, "not valid JSON (strict: UTF-8, no "
                                     "duplicate members)");
            goto done;
        }
        rc = jwtrevp_jwk_public(doc, &kl, &lc, &skips);
        lc.skips = json_object_get(doc, "keys") ? &skips : NULL;
    } else if (memmem(data, len, "-----BEGIN ", 11) != NULL) {
        /* text before the first block (openssl x509 -text) is skipped */
        rc = jwtrevp_pem_public(data, len, &kl, &lc);
    } else {
        rc = jwtrevp_refuse(&lc, "neither PEM nor a JWK or JWKS");
    }
    if (rc == 0)
        rc = ring_take(kr, &kl, &lc);
done:
    json_decref(doc);
    keylist_free(&kl);
    skips_free(&skips);
    return rc;
}

int
jwtrev_keyring_add_mem(jwtrev_keyring *kr, const char *data, size_t len,
                       const char *name, jwtrev_error *err)
{
    return add_mem(kr, data, len, name, NULL, err);
}

int
jwtrev_keyring_add_file(jwtrev_keyring *kr, const char *path, jwtrev_error *err)
{
    const char *file;
    char *kid = NULL, *data = NULL;
    size_t len = 0;
    int rc;

    if ((rc = jwtrevp_split_kid(path, &kid, &file, err)) != 0)
        return rc;
    rc = jwtrevp_read_file(file, JWTREVP_KEY_FILE_MAX, &data, &len, err);
    if (rc == 0)
        rc = add_mem(kr, data, len, file, kid, err);
    if (data != NULL)
        OPENSSL_clear_free(data, len + 1);
    OPENSSL_free(kid);
    return rc;
}

int
jwtrev_keyring_add_secret_file(jwtrev_keyring *kr, const char *path,
                               jwtrev_error *err)
{
    jwtrevp_loadctx lc = {NULL, NULL, kr->allowed, 0, err, NULL, NULL};
    jwtrevp_keylist kl = {NULL, 0, 0};
    jwtrevp_key k = {0};
    char *kid = NULL, *data = NULL;
    size_t len = 0, slen;
    int rc;

    if ((rc = jwtrevp_split_kid(path, &kid, &lc.name, err)) != 0)
        return rc;
    rc = jwtrevp_read_file(lc.name, JWTREVP_KEY_FILE_MAX, &data, &len, err);
    if (rc != 0)
        goto done;
    slen = len;
    jwtrevp_secret_trim(data, &slen);
    if ((rc = jwtrevp_secret_check((unsigned char *)data, slen, &lc)) != 0)
        goto done;
    if ((k.secret = OPENSSL_memdup(data, slen)) == NULL ||
        (kid != NULL && jwtrevp_key_set_kid(&k, kid, strlen(kid)) != 0)) {
        rc = jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
        goto done;
    }
    k.secret_len = slen;
    rc = jwtrevp_keylist_add(&kl, &k, JWTREVP_KT_SECRET, -1, &lc);
    if (rc == 0)
        rc = ring_take(kr, &kl, &lc);
done:
    jwtrevp_key_clear(&k);
    keylist_free(&kl);
    if (data != NULL)
        OPENSSL_clear_free(data, len + 1);
    OPENSSL_free(kid);
    return rc;
}

int
jwtrev_keyring_load(const jwtrev_conf *c, jwtrev_keyring **out,
                    jwtrev_error *err)
{
    jwtrev_keyring *kr = NULL;
    size_t i;
    int rc;

    if (jwtrev_keyring_new(c->algs, &kr) != 0)
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    for (i = 0, rc = 0; rc == 0 && i < c->keys.n; i++)
        rc = jwtrev_keyring_add_file(kr, c->keys.v[i], err);
    for (i = 0; rc == 0 && i < c->secrets.n; i++)
        rc = jwtrev_keyring_add_secret_file(kr, c->secrets.v[i], err);
    if (rc == 0 && kr->keys.n == 0)
        rc = jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                         "no key configured (key= or secret=)");
    if (rc != 0) {
        jwtrev_keyring_free(kr);
        return rc;
    }
    *out = kr;
    return 0;
}
