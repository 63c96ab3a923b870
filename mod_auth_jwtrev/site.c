/*
 * site.c - a merged per-directory configuration compiled once per process
 * (not per request): its jwtrev_conf, policy, keyset, store reader and
 * token cache.  Sites are found by the configuration's identity, a text
 * of every value that changes a decision, so every request of the same
 * configuration shares one site, whatever section or .htaccess it came
 * from.
 *
 * Process state: the registries below are created by the parent before
 * the configuration is read, inherited by the children and filled there
 * on first use; a child opens the revocation store itself (after fork: a
 * Berkeley DB handle must never cross it).  Nothing is freed before the
 * process exits; the number of distinct configurations is bounded
 * (JR_SITES_MAX) and past it a request fails closed with a logged
 * configuration error.
 */
#include <string.h>
#include <time.h>

#include "apr_hash.h"
#include "apr_strings.h"

#include "mod_auth_jwtrev.h"

#define JR_SITES_MAX 1000

struct jr_store {
    const char *dir;
    jwtrev_revdb *db;     /* NULL until opened in this process; once set
                             read without the lock (atomic) */
    pthread_mutex_t lock; /* guards opening and the fields below */
    time_t retry_at;      /* after a failed open: not before this */
    jwtrev_error failure; /* why the last open failed */
};

static pthread_rwlock_t sites_lock = PTHREAD_RWLOCK_INITIALIZER;
static apr_pool_t *sites_pool; /* own allocator; written under the lock */
static apr_hash_t *sites;      /* id -> jr_site */
static apr_hash_t *stores;     /* dir -> jr_store */
static unsigned sites_count;

int
jr_sites_init(void)
{
    if (sites_pool != NULL)
        return sites_count == 0 ? JR_SITES_EMPTY_RESTART : 0;
    if (jr_process_pool(&sites_pool) != 0)
        return 0; /* jr_site_get reports it */
    sites = apr_hash_make(sites_pool);
    stores = apr_hash_make(sites_pool);
    return 0;
}

/* Every value that changes a decision, unambiguously joined. */
static const char *
site_id(const jr_dir_conf *dc, apr_pool_t *p)
{
    apr_array_header_t *parts = apr_array_make(p, 32, sizeof(const char *));
    int i, j;

    for (i = 0; i < JR_OPT_COUNT; i++) {
        const apr_array_header_t *a = dc->opt[i];

        APR_ARRAY_PUSH(parts, const char *) =
            (dc->opt_set >> i) & 1u ? "\x1e+" : "\x1e-";
        for (j = 0; j < a->nelts; j++) {
            APR_ARRAY_PUSH(parts, const char *) = "\x1f";
            APR_ARRAY_PUSH(parts, const char *) =
                APR_ARRAY_IDX(a, j, const char *);
        }
    }
    APR_ARRAY_PUSH(parts, const char *) =
        apr_psprintf(p, "\x1e%d", dc->cache_size);
    return apr_array_pstrcat(p, parts, 0);
}

int
jr_conf_build(const jr_dir_conf *dc, apr_pool_t *p, jwtrev_conf *c,
              jwtrev_error *err)
{
    int i, j, rc = 0;

    jwtrev_conf_init(c);
    c->db = strdup(JWTREV_DEFAULT_DB);
    for (i = 0; rc == 0 && i < JR_OPT_COUNT; i++) {
        const apr_array_header_t *a = dc->opt[i];
        const struct jr_optdef *od = &jr_optdefs[i];

        if (i == JR_OPT_DB && ((dc->opt_set >> i) & 1u) && a->nelts == 0) {
            free(c->db); /* AuthJWTRevocationDB Off */
            c->db = NULL;
        } else if (od->kind == JR_OPT_LIST && a->nelts > 0) {
            rc =
                jwtrev_conf_set(c, od->name, apr_array_pstrcat(p, a, ' '), err);
        } else {
            for (j = 0; rc == 0 && j < a->nelts; j++)
                rc = jwtrev_conf_set(c, od->name,
                                     APR_ARRAY_IDX(a, j, const char *), err);
        }
    }
    c->require_user = JWTREV_USER_NAME; /* the claim becomes REMOTE_USER */
    return rc;
}

/* The store reader for dir; called with sites_lock held for writing. */
static jr_store *
store_for(const char *dir)
{
    jr_store *st = apr_hash_get(stores, dir, APR_HASH_KEY_STRING);

    if (st != NULL)
        return st;
    st = apr_pcalloc(sites_pool, sizeof(*st));
    st->dir = apr_pstrdup(sites_pool, dir);
    pthread_mutex_init(&st->lock, NULL);
    apr_hash_set(stores, st->dir, APR_HASH_KEY_STRING, st);
    return st;
}

/*
 * Compile dc into a new site; called with sites_lock held for writing.
 * Nothing goes into sites_pool unless it compiles (a broken .htaccess
 * fails every request without growing the process).
 */
static int
site_build(const jr_dir_conf *dc, const char *id, apr_pool_t *p, jr_site **out,
           jwtrev_error *err)
{
    jr_site site;
    jwtrev_conf c;
    int rc;

    memset(&site, 0, sizeof(site));
    if ((rc = jr_conf_build(dc, p, &c, err)) != 0)
        goto done;
    if (c.keys.n == 0 && c.secrets.n == 0) {
        /* The directives, not the library's option names. */
        rc = jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                         "no key: set AuthJWTKeyFile or AuthJWTSecretFile");
        goto done;
    }
    rc = jr_keyset_get((const char *const *)c.keys.v, c.keys.n,
                       (const char *const *)c.secrets.v, c.secrets.n, c.algs, p,
                       &site.keys, err);
    if (rc == 0)
        rc = jwtrev_policy_new(&c, &site.policy, err);
    if (rc != 0)
        goto done;
    if (c.db != NULL) {
        site.store = store_for(c.db);
        site.store_dir = site.store->dir;
    }
    site.on_db_error = c.on_db_error == JWTREV_ON_DB_ERROR_ALLOW
                           ? JWTREV_ON_DB_ERROR_ALLOW
                           : JWTREV_ON_DB_ERROR_DENY;
    site.leeway = c.leeway;
    site.max_age = c.max_age;
    site.cache = jr_cache_create((size_t)dc->cache_size);
    site.id = apr_pstrdup(sites_pool, id);
    *out = apr_pmemdup(sites_pool, &site, sizeof(site));
done:
    jwtrev_conf_free(&c);
    return rc;
}

int
jr_site_get(jr_dir_conf *dc, apr_pool_t *scratch, const jr_site **out,
            jwtrev_error *err)
{
    const jr_site *known = jr_memo_site(dc);
    const char *id;
    jr_site *site;
    int rc = 0;

    if (known != NULL) {
        *out = known;
        return 0;
    }
    id = site_id(dc, scratch);
    pthread_rwlock_rdlock(&sites_lock);
    site = sites ? apr_hash_get(sites, id, APR_HASH_KEY_STRING) : NULL;
    pthread_rwlock_unlock(&sites_lock);
    if (site != NULL) {
        jr_memo_set_site(dc, site);
        *out = site;
        return 0;
    }
    pthread_rwlock_wrlock(&sites_lock);
    if (sites == NULL)
        rc = jwtrev_fail(err, JWTREV_ERR_INTERNAL, "no process state");
    else if ((site = apr_hash_get(sites, id, APR_HASH_KEY_STRING)) != NULL)
        *out = site; /* another thread built it meanwhile */
    else if (sites_count >= JR_SITES_MAX)
        rc = jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                         "too many distinct AuthJWT configurations");
    else if ((rc = site_build(dc, id, scratch, &site, err)) == 0) {
        apr_hash_set(sites, site->id, APR_HASH_KEY_STRING, site);
        sites_count++;
        jr_memo_set_site(dc, site);
        *out = site;
    }
    pthread_rwlock_unlock(&sites_lock);
    return rc;
}

/*
 * This process's reader of the store, opened on first use.  After a
 * failed open the store is retried at most once a second (a store that
 * appears later is picked up; a missing one is not hammered).
 */
static int
store_handle(jr_store *st, time_t now, jwtrev_revdb **out, jwtrev_error *err)
{
    jwtrev_revdb *db = __atomic_load_n(&st->db, __ATOMIC_ACQUIRE);
    int rc = 0;

    if (db != NULL) {
        *out = db;
        return 0;
    }
    pthread_mutex_lock(&st->lock);
    if ((db = st->db) == NULL && now < st->retry_at) {
        *err = st->failure;
        rc = -JWTREV_ERR_DB_ERROR;
    } else if (db == NULL) {
        jwtrev_error_clear(&st->failure);
        /* A child keeps its handle: the daemon's snapshots pay. */
        if (jwtrev_revdb_open_flags(st->dir, JWTREV_REVDB_SNAPSHOTS, &db,
                                    &st->failure) != 0) {
            st->retry_at = now + 1;
            st->failure.code = JWTREV_ERR_DB_ERROR; /* fail closed */
            *err = st->failure;
            rc = -JWTREV_ERR_DB_ERROR;
        } else {
            __atomic_store_n(&st->db, db, __ATOMIC_RELEASE);
        }
    }
    pthread_mutex_unlock(&st->lock);
    if (rc == 0)
        *out = db;
    return rc;
}

/*
 * A child starts without store handles: one opened before the fork (never
 * done: the parent serves no requests) must not be shared, nor closed.
 */
void
jr_sites_child_init(void)
{
    apr_hash_index_t *hi;

    if (stores == NULL)
        return;
    for (hi = apr_hash_first(NULL, stores); hi; hi = apr_hash_next(hi)) {
        jr_store *st = apr_hash_this_val(hi);

        st->db = NULL;
        st->retry_at = 0;
    }
}

int
jr_store_check(jr_store *st, const jwtrev_token *t, int64_t now,
               jwtrev_error *err)
{
    jwtrev_revdb *db;
    int rc;

    if ((rc = store_handle(st, time(NULL), &db, err)) != 0)
        return rc;
    return jwtrev_revdb_check(db, t, now, err);
}
