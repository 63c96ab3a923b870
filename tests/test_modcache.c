/*
 * test_modcache.c - mod_auth_jwtrev's cache of verified tokens (cache.c)
 * on its own: a hit only for the same token text and keyring generation, a
 * fixed bound with the least recently used entry replaced, references
 * that keep an evicted entry alive, and many threads at once.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mod_auth_jwtrev.h"
#include "tap.h"

/* The module record cache.c's header names; never used by the cache. */
module AP_MODULE_DECLARE_DATA auth_jwtrev_module;

static jr_verified *
entry(unsigned n, uint64_t generation)
{
    char text[32];
    jr_verified *v;

    snprintf(text, sizeof(text), "token-%u", n);
    v = jr_verified_new(text, strlen(text));
    v->generation = generation;
    v->tok.exp = n; /* a marker to recognise the entry */
    return v;
}

static jr_verified *
lookup_text(jr_cache *c, const char *text, uint64_t generation)
{
    return jr_cache_get(c, jr_token_hash(text, strlen(text)), text,
                        strlen(text), generation);
}

static jr_verified *
lookup(jr_cache *c, unsigned n, uint64_t generation)
{
    char text[32];

    snprintf(text, sizeof(text), "token-%u", n);
    return lookup_text(c, text, generation);
}

static void
test_hits(void)
{
    jr_cache *c = jr_cache_create(8);
    jr_verified *v = entry(1, 7), *hit;

    ok(c != NULL, "a cache of 8 entries");
    ok(jr_cache_create(0) == NULL, "size 0: no cache");
    ok(lookup(c, 1, 7) == NULL, "empty cache: miss");
    jr_cache_put(c, v);
    hit = lookup(c, 1, 7);
    ok(hit == v, "same text, same generation: hit");
    ok(hit != NULL && hit->refs == 3, "a hit holds a reference");
    jr_verified_release(hit);
    ok(lookup(c, 1, 8) == NULL, "another keyring generation: miss");
    ok(lookup(c, 2, 7) == NULL, "another text: miss");
    ok(lookup_text(c, "token-2", 7) == NULL &&
           lookup_text(c, "token-1 ", 7) == NULL &&
           lookup_text(c, "token-", 7) == NULL,
       "a text differing in its last byte, longer or shorter: miss");
    ok(jr_cache_get(c, v->hash, "token-2", 7, 7) == NULL,
       "another text under the entry's own hash: miss (the text decides)");
    jr_verified_release(v);
    hit = lookup(c, 1, 7);
    ok(hit != NULL && hit->tok.exp == 1, "the cache keeps its own reference");
    jr_cache_destroy(c);
    ok(hit != NULL && hit->refs == 1,
       "destroying the cache drops its reference, not the caller's");
    jr_verified_release(hit);
    jr_cache_destroy(NULL);
}

/* Four entries per set: fill one cache set-exactly, use, overflow. */
static void
test_bound(void)
{
    jr_cache *c = jr_cache_create(4); /* one set of four */
    jr_verified *hit, *held;
    unsigned i, present = 0;

    for (i = 0; i < 4; i++) {
        jr_verified *v = entry(i, 1);

        jr_cache_put(c, v);
        jr_verified_release(v);
    }
    held = lookup(c, 0, 1); /* 0 becomes the most recently used */
    ok(held != NULL, "entry 0 present after four inserts");
    for (i = 4; i < 6; i++) {
        jr_verified *v = entry(i, 1);

        jr_cache_put(c, v);
        jr_verified_release(v);
    }
    for (i = 0; i < 6; i++)
        if ((hit = lookup(c, i, 1)) != NULL) {
            present++;
            jr_verified_release(hit);
        }
    ok(present == 4, "never more than 4 entries (%u)", present);
    hit = lookup(c, 0, 1);
    ok(hit != NULL, "the recently used entry survived");
    jr_verified_release(hit);
    hit = lookup(c, 1, 1);
    ok(hit == NULL, "the least recently used entry was replaced");
    jr_verified_release(hit);
    ok(held->tok.exp == 0, "a held entry stays readable");
    jr_verified_release(held);
    jr_cache_destroy(c);

    c = jr_cache_create(4);
    held = entry(9, 1);
    jr_cache_put(c, held);
    jr_cache_put(c, held);
    ok(held->refs == 2, "putting the same entry twice: one reference");
    hit = entry(9, 2);
    jr_cache_put(c, hit); /* re-verified under new keys: replaces it */
    ok(held->refs == 1, "a newer generation replaces the same token");
    jr_verified_release(held);
    jr_verified_release(hit);
    jr_cache_destroy(c);
}

#define THREADS 8
#define ROUNDS 20000

struct worker {
    jr_cache *c;
    unsigned seed;
    int bad;
};

static void *
work(void *arg)
{
    struct worker *w = arg;
    jr_verified *v;
    unsigned i, n;

    for (i = 0; i < ROUNDS; i++) {
        n = rand_r(&w->seed) % 64;
        if ((v = lookup(w->c, n, 1)) != NULL) {
            w->bad += v->tok.exp != n; /* a hit is the asked entry */
            jr_verified_release(v);
        } else {
            v = entry(n, 1);
            jr_cache_put(w->c, v);
            jr_verified_release(v);
        }
    }
    return NULL;
}

static void
test_threads(void)
{
    pthread_t t[THREADS];
    struct worker w[THREADS];
    jr_cache *c = jr_cache_create(16);
    int i, bad = 0, started = 0;

    for (i = 0; i < THREADS; i++) {
        w[i].c = c;
        w[i].seed = (unsigned)i + 1;
        w[i].bad = 0;
        started += pthread_create(&t[i], NULL, work, &w[i]) == 0;
    }
    for (i = 0; i < started; i++) {
        pthread_join(t[i], NULL);
        bad += w[i].bad;
    }
    ok(started == THREADS, "%d threads", THREADS);
    ok(bad == 0,
       "%d threads x %d lookups/inserts: every hit was the asked "
       "entry (%d wrong)",
       THREADS, ROUNDS, bad);
    jr_cache_destroy(c);
}

/* Every byte of the text counts, at every length (the 16-byte blocks
 * and the tail). */
static void
test_hash(void)
{
    char text[80];
    uint64_t h, seen[80];
    size_t i, j, len;
    int flips = 0, lengths = 0;

    memset(text, 'a', sizeof(text));
    h = jr_token_hash(text, 70);
    for (i = 0; i < 70; i++) {
        text[i] ^= 1;
        flips += jr_token_hash(text, 70) != h;
        text[i] ^= 1;
    }
    ok(flips == 70, "one changed byte anywhere changes the hash (%d of 70)",
       flips);
    for (len = 0; len < 80; len++) {
        seen[len] = jr_token_hash(text, len);
        for (j = 0; j < len && seen[j] != seen[len]; j++)
            ;
        lengths += j == len;
    }
    ok(lengths == 80, "texts of 0..79 equal bytes hash apart (%d of 80)",
       lengths);
}

int
main(void)
{
    jr_cache_init();
    test_hash();
    test_hits();
    test_bound();
    test_threads();
    return tap_done();
}
