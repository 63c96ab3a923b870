/*
 * keyset.c - key files parsed once per process and shared by every site
 * that names the same files under the same allow-list, reloaded when a
 * file changes (key rotation without a restart).
 *
 * Reload rules: the files are stat()ed at most once per second (not per
 * request).  A change is loaded once the files look settled (unchanged
 * since the previous check, or last modified over a second ago), so a
 * file caught half-written is not used; a set of files that does not
 * load keeps the previous keys and is logged once.  Replacing a key file
 * by rename() is still the safe way to rotate, and is documented so.
 */
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "apr_hash.h"
#include "apr_strings.h"

#include "mod_auth_jwtrev.h"

/* The identity of a file's content as stat() sees it. */
struct jr_stamp {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    int missing;
};

struct jr_keyset {
    jwtrev_conf conf; /* keys, secrets and algs only; owned */
    size_t nfiles;    /* files watched: the keys, then the secrets */
    const char **paths;
    /* Requests take ring_lock shared to reference the ring; a reload
     * takes it exclusively to swap it.  check_lock lets one thread at a
     * time run the stat pass (the others go on with the current ring)
     * and guards the stamps. */
    pthread_rwlock_t ring_lock;
    jwtrev_keyring *ring; /* never NULL once created */
    uint64_t generation;  /* unique per ring in this process */
    pthread_mutex_t check_lock;
    time_t checked;           /* second of the last stat pass; atomic */
    struct jr_stamp *loaded;  /* what ring was loaded from */
    struct jr_stamp *pending; /* a change seen at the last pass */
    struct jr_stamp *failed;  /* a change that did not load (logged) */
    struct jr_stamp *cur;     /* scratch for the current pass */
    int have_pending, have_failed;
};

/* The registry: keysets never go away before the process does. */
static pthread_mutex_t keysets_lock = PTHREAD_MUTEX_INITIALIZER;
static apr_pool_t *keysets_pool; /* own allocator; used under the lock */
static apr_hash_t *keysets;
static unsigned keysets_count;
static uint64_t generations; /* atomic */

#define JR_KEYSETS_MAX 1000

static uint64_t
next_generation(void)
{
    return __atomic_add_fetch(&generations, 1, __ATOMIC_RELAXED);
}

/*
 * The file a key argument names: the argument itself when it exists,
 * else what follows "KID#" (the rule of jwtrev_keyring_add_file).
 */
static const char *
watched_path(apr_pool_t *p, const char *spec)
{
    struct stat st;
    const char *hash = strchr(spec, '#');

    if (hash == NULL || stat(spec, &st) == 0)
        return apr_pstrdup(p, spec);
    return apr_pstrdup(p, hash + 1);
}

static void
take_stamps(const jr_keyset *ks, struct jr_stamp *out)
{
    struct stat st;
    size_t i;

    memset(out, 0, ks->nfiles * sizeof(*out));
    for (i = 0; i < ks->nfiles; i++) {
        if (stat(ks->paths[i], &st) != 0) {
            out[i].missing = 1;
            continue;
        }
        out[i].dev = st.st_dev;
        out[i].ino = st.st_ino;
        out[i].size = st.st_size;
        out[i].mtime = st.st_mtim;
    }
}

static int
same_stamps(const jr_keyset *ks, const struct jr_stamp *a,
            const struct jr_stamp *b)
{
    size_t i;

    for (i = 0; i < ks->nfiles; i++)
        if (a[i].missing != b[i].missing || a[i].dev != b[i].dev ||
            a[i].ino != b[i].ino || a[i].size != b[i].size ||
            a[i].mtime.tv_sec != b[i].mtime.tv_sec ||
            a[i].mtime.tv_nsec != b[i].mtime.tv_nsec)
            return 0;
    return 1;
}

/* 1 when every file was last modified at least a second before now. */
static int
settled(const jr_keyset *ks, const struct jr_stamp *s, time_t now)
{
    size_t i;

    for (i = 0; i < ks->nfiles; i++)
        if (!s[i].missing && s[i].mtime.tv_sec >= now - 1)
            return 0;
    return 1;
}

/*
 * The keys of a JWKS that were skipped (DESIGN 10), once per load: at
 * start-up (s NULL: stderr, so apache2 -t shows them, then the main
 * error log) and at each reload of changed files.
 */
static void
log_warnings(const jwtrev_keyring *kr, server_rec *s)
{
    const char *w;
    size_t i;

    for (i = 0; (w = jwtrev_keyring_warning(kr, i)) != NULL; i++)
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "AuthJWTKeyFile %s", w);
}

/* Load the files into a new ring; keep the old one if they do not load. */
static void
reload(jr_keyset *ks, server_rec *s, const struct jr_stamp *now_stamps)
{
    jwtrev_keyring *ring = NULL, *old;
    jwtrev_error err;

    jwtrev_error_clear(&err);
    if (jwtrev_keyring_load(&ks->conf, &ring, &err) != 0) {
        memcpy(ks->failed, now_stamps, ks->nfiles * sizeof(*now_stamps));
        ks->have_failed = 1;
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                     "key files changed but do not load, keeping the "
                     "previous keys: %s: %s",
                     jwtrev_reason(err.code), err.detail);
        return;
    }
    log_warnings(ring, s);
    pthread_rwlock_wrlock(&ks->ring_lock);
    old = ks->ring;
    ks->ring = ring;
    ks->generation = next_generation();
    pthread_rwlock_unlock(&ks->ring_lock);
    jwtrev_keyring_free(old); /* requests still using it hold a reference */
    memcpy(ks->loaded, now_stamps, ks->nfiles * sizeof(*now_stamps));
    ks->have_failed = 0;
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s,
                 "key files changed: reloaded %" APR_SIZE_T_FMT " key(s)",
                 jwtrev_keyring_count(ring));
}

/* The once-per-second pass; called with ks->check_lock held. */
static void
check_files(jr_keyset *ks, server_rec *s, time_t now)
{
    struct jr_stamp *cur = ks->cur;

    take_stamps(ks, cur);
    if (same_stamps(ks, cur, ks->loaded)) {
        ks->have_pending = 0;
        return;
    }
    if (ks->have_failed && same_stamps(ks, cur, ks->failed))
        return;
    if ((ks->have_pending && same_stamps(ks, cur, ks->pending)) ||
        settled(ks, cur, now)) {
        ks->have_pending = 0;
        reload(ks, s, cur);
        return;
    }
    memcpy(ks->pending, cur, ks->nfiles * sizeof(*cur));
    ks->have_pending = 1;
}

void
jr_keyset_ring(jr_keyset *ks, server_rec *s, jwtrev_keyring **ring,
               uint64_t *generation)
{
    time_t now = time(NULL);

    if (__atomic_load_n(&ks->checked, __ATOMIC_RELAXED) != now &&
        pthread_mutex_trylock(&ks->check_lock) == 0) {
        if (ks->checked != now) {
            __atomic_store_n(&ks->checked, now, __ATOMIC_RELAXED);
            check_files(ks, s, now);
        }
        pthread_mutex_unlock(&ks->check_lock);
    }
    pthread_rwlock_rdlock(&ks->ring_lock);
    *ring = jwtrev_keyring_ref(ks->ring);
    *generation = ks->generation;
    pthread_rwlock_unlock(&ks->ring_lock);
}

/* The registry key: the allow-list, then the files in order. */
static const char *
keyset_id(const char *const *keys, size_t nkeys, const char *const *secrets,
          size_t nsecrets, jwtrev_algset algs, apr_pool_t *p)
{
    const char *id = apr_psprintf(p, "%08x", (unsigned)algs);
    size_t i;

    for (i = 0; i < nkeys; i++)
        id = apr_pstrcat(p, id, "\x1fk", keys[i], NULL);
    for (i = 0; i < nsecrets; i++)
        id = apr_pstrcat(p, id, "\x1fs", secrets[i], NULL);
    return id;
}

/* Fill ks->conf from the lists; the library owns the copies. */
static int
keyset_conf(jr_keyset *ks, const char *const *keys, size_t nkeys,
            const char *const *secrets, size_t nsecrets, jwtrev_algset algs,
            jwtrev_error *err)
{
    size_t i;
    int rc = 0;

    jwtrev_conf_init(&ks->conf);
    ks->conf.algs = algs;
    for (i = 0; rc == 0 && i < nkeys; i++)
        rc = jwtrev_conf_set(&ks->conf, "key", keys[i], err);
    for (i = 0; rc == 0 && i < nsecrets; i++)
        rc = jwtrev_conf_set(&ks->conf, "secret", secrets[i], err);
    return rc;
}

/*
 * A new keyset, loaded; called with keysets_lock held.  Nothing goes
 * into keysets_pool unless the keys load (a broken .htaccess must not
 * grow the process with every request).
 */
static int
keyset_new(const char *const *keys, size_t nkeys, const char *const *secrets,
           size_t nsecrets, jwtrev_algset algs, apr_pool_t *scratch,
           jr_keyset **out, jwtrev_error *err)
{
    jr_keyset tmp, *ks;
    size_t i, n = nkeys + nsecrets, sz = (n + 1) * sizeof(struct jr_stamp);
    int rc;

    memset(&tmp, 0, sizeof(tmp));
    tmp.nfiles = n;
    tmp.paths = apr_pcalloc(scratch, (n + 1) * sizeof(char *));
    for (i = 0; i < n; i++)
        tmp.paths[i] =
            watched_path(scratch, i < nkeys ? keys[i] : secrets[i - nkeys]);
    tmp.loaded = apr_pcalloc(scratch, sz);
    take_stamps(&tmp, tmp.loaded); /* before loading: a change re-loads */
    rc = keyset_conf(&tmp, keys, nkeys, secrets, nsecrets, algs, err);
    if (rc == 0)
        rc = jwtrev_keyring_load(&tmp.conf, &tmp.ring, err);
    if (rc != 0) {
        jwtrev_conf_free(&tmp.conf);
        return rc;
    }
    log_warnings(tmp.ring, NULL);
    ks = apr_pmemdup(keysets_pool, &tmp, sizeof(tmp));
    ks->paths = apr_pcalloc(keysets_pool, (n + 1) * sizeof(char *));
    for (i = 0; i < n; i++)
        ks->paths[i] = apr_pstrdup(keysets_pool, tmp.paths[i]);
    ks->loaded = apr_pmemdup(keysets_pool, tmp.loaded, sz);
    ks->pending = apr_pcalloc(keysets_pool, sz);
    ks->failed = apr_pcalloc(keysets_pool, sz);
    ks->cur = apr_pcalloc(keysets_pool, sz);
    pthread_rwlock_init(&ks->ring_lock, NULL);
    pthread_mutex_init(&ks->check_lock, NULL);
    ks->generation = next_generation();
    ks->checked = time(NULL);
    *out = ks;
    return 0;
}

/* The registry's own pool, with its own allocator (never shared). */
static int
registry_init(jwtrev_error *err)
{
    if (keysets_pool != NULL)
        return 0;
    if (jr_process_pool(&keysets_pool) != 0)
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    keysets = apr_hash_make(keysets_pool);
    return 0;
}

void
jr_keysets_reset(void)
{
    apr_hash_index_t *hi;

    pthread_mutex_lock(&keysets_lock);
    if (keysets_pool != NULL) {
        for (hi = apr_hash_first(NULL, keysets); hi; hi = apr_hash_next(hi)) {
            jr_keyset *ks = apr_hash_this_val(hi);

            jwtrev_keyring_free(ks->ring);
            jwtrev_conf_free(&ks->conf);
        }
        apr_pool_clear(keysets_pool);
        keysets = apr_hash_make(keysets_pool);
        keysets_count = 0;
    }
    pthread_mutex_unlock(&keysets_lock);
}

int
jr_keyset_get(const char *const *keys, size_t nkeys, const char *const *secrets,
              size_t nsecrets, jwtrev_algset algs, apr_pool_t *scratch,
              jr_keyset **out, jwtrev_error *err)
{
    const char *id = keyset_id(keys, nkeys, secrets, nsecrets, algs, scratch);
    jr_keyset *ks;
    int rc;

    pthread_mutex_lock(&keysets_lock);
    if ((rc = registry_init(err)) != 0)
        goto done;
    ks = apr_hash_get(keysets, id, APR_HASH_KEY_STRING);
    if (ks == NULL) {
        if (keysets_count >= JR_KEYSETS_MAX) {
            rc = jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                             "more than %d distinct key file sets",
                             JR_KEYSETS_MAX);
            goto done;
        }
        if ((rc = keyset_new(keys, nkeys, secrets, nsecrets, algs, scratch, &ks,
                             err)) != 0)
            goto done;
        apr_hash_set(keysets, apr_pstrdup(keysets_pool, id),
                     APR_HASH_KEY_STRING, ks);
        keysets_count++;
    }
    *out = ks;
done:
    pthread_mutex_unlock(&keysets_lock);
    return rc;
}

const char *const *
jr_keyset_files(const jr_keyset *ks, size_t *n)
{
    *n = ks->nfiles;
    return ks->paths;
}
