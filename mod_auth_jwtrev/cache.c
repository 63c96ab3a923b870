/*
 * cache.c - a per-process, per-site cache of verified tokens, so that a
 * client sending the same token again skips the signature check.
 *
 * Safety: the key is the SHA-256 of the whole token text (any other
 * token, even one differing only in its signature bytes, misses), and an
 * entry holds only for the keyring generation that verified it (a key
 * rotation empties the cache in effect).  A hit is not an acceptance:
 * the caller re-checks exp and max age against the current time and asks
 * the revocation store, exactly as for a fresh verification.
 *
 * Shape: set-associative with JR_WAYS entries per set, least recently
 * used replaced, one lock per set.  The number of entries is fixed at
 * creation.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "mod_auth_jwtrev.h"

#define JR_WAYS 4

struct jr_slot {
    jr_verified *v;
    uint64_t used; /* the set's tick at the last hit; atomic */
};

/* Lookups take the lock shared (a hit only touches atomics), so threads
 * sending the same token do not queue; inserts take it exclusively. */
struct jr_set {
    pthread_rwlock_t lock;
    uint64_t tick; /* atomic */
    struct jr_slot slot[JR_WAYS];
};

struct jr_cache {
    size_t nsets, ways;
    struct jr_set *sets;
};

jr_verified *
jr_verified_new(void)
{
    jr_verified *v = calloc(1, sizeof(*v));

    if (v != NULL)
        v->refs = 1;
    return v;
}

static jr_verified *
verified_ref(jr_verified *v)
{
    __atomic_add_fetch(&v->refs, 1, __ATOMIC_RELAXED);
    return v;
}

void
jr_verified_release(jr_verified *v)
{
    if (v == NULL || __atomic_sub_fetch(&v->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    jwtrev_token_clear(&v->tok);
    free(v);
}

/* SHA-256, fetched once before any request (an implicit fetch per call
 * costs a provider lookup); read-only afterwards, shared by threads. */
static EVP_MD *sha256;

void
jr_cache_init(void)
{
    if (sha256 == NULL)
        sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

int
jr_token_digest(const char *tok, size_t len, unsigned char out[32])
{
    unsigned int n = 0;

    if (EVP_Digest(tok, len, out, &n, sha256 ? sha256 : EVP_sha256(), NULL) !=
            1 ||
        n != 32)
        return -JWTREV_ERR_INTERNAL;
    return 0;
}

jr_cache *
jr_cache_create(size_t entries)
{
    jr_cache *c;
    size_t i;

    if (entries == 0)
        return NULL;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->ways = entries < JR_WAYS ? entries : JR_WAYS;
    c->nsets = (entries + c->ways - 1) / c->ways;
    c->sets = calloc(c->nsets, sizeof(*c->sets));
    if (c->sets == NULL) {
        free(c);
        return NULL;
    }
    for (i = 0; i < c->nsets; i++)
        pthread_rwlock_init(&c->sets[i].lock, NULL);
    return c;
}

static struct jr_set *
set_for(jr_cache *c, const unsigned char digest[32])
{
    uint64_t h;

    memcpy(&h, digest, sizeof(h)); /* SHA-256 bits are uniform */
    return &c->sets[h % c->nsets];
}

jr_verified *
jr_cache_get(jr_cache *c, const unsigned char digest[32], uint64_t generation)
{
    struct jr_set *set = set_for(c, digest);
    jr_verified *hit = NULL;
    size_t i;

    pthread_rwlock_rdlock(&set->lock);
    for (i = 0; i < c->ways; i++) {
        struct jr_slot *s = &set->slot[i];

        if (s->v == NULL || memcmp(s->v->digest, digest, 32) != 0)
            continue;
        /* Verified with keys no longer in force: a miss; the fresh
         * verification's jr_cache_put replaces the slot. */
        if (s->v->generation == generation) {
            __atomic_store_n(
                &s->used, __atomic_add_fetch(&set->tick, 1, __ATOMIC_RELAXED),
                __ATOMIC_RELAXED);
            hit = verified_ref(s->v);
        }
        break;
    }
    pthread_rwlock_unlock(&set->lock);
    return hit;
}

void
jr_cache_put(jr_cache *c, jr_verified *v)
{
    struct jr_set *set = set_for(c, v->digest);
    struct jr_slot *victim = &set->slot[0];
    jr_verified *old;
    size_t i;

    pthread_rwlock_wrlock(&set->lock);
    for (i = 0; i < c->ways; i++) {
        struct jr_slot *s = &set->slot[i];

        if (s->v == NULL || memcmp(s->v->digest, v->digest, 32) == 0) {
            victim = s;
            break;
        }
        if (s->used < victim->used)
            victim = s;
    }
    old = victim->v;
    victim->v = verified_ref(v);
    victim->used = __atomic_add_fetch(&set->tick, 1, __ATOMIC_RELAXED);
    pthread_rwlock_unlock(&set->lock);
    jr_verified_release(old);
}
