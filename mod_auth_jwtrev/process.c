/*
 * process.c - the module's process-wide state, in one place.  Beyond a
 * request an httpd process keeps four things, each in a pool of its own
 * (jr_process_pool) that neither a restart (pconf) nor a request clears:
 *
 *   sites    site.c    a compiled site per distinct configuration, and
 *                      the revocation store handles the sites share
 *   keysets  keyset.c  a key ring per distinct set of key files, reloaded
 *                      when the files change
 *   memo     config.c  merged per-directory configurations (children)
 *   cache    cache.c   the hash key of the sites' caches of verified
 *                      tokens (each cache is allocated with its site)
 *
 * They come to be at two hooks: pre_config, in the parent at each start
 * and restart (jr_process_init), and child_init (jr_child_init).
 *
 * Beside them, the last store trouble logged (jr_process_trouble_is_new),
 * so that a damaged store, which fails every request, is said once.
 */
#include <pthread.h>
#include <string.h>

#include "apr_strings.h"
#include "apr_time.h"

#include "mod_auth_jwtrev.h"

/* The same store trouble is logged at error again after this long. */
#define TROUBLE_REPEAT apr_time_from_sec(60)

static pthread_mutex_t trouble_lock = PTHREAD_MUTEX_INITIALIZER;
static char trouble_text[JWTREV_DETAIL_MAX];
static apr_time_t trouble_at;
static int trouble_logged; /* atomic: trouble_text holds something */

int
jr_process_pool(apr_pool_t **out)
{
    apr_allocator_t *alloc;
    apr_pool_t *p;

    if (apr_allocator_create(&alloc) != APR_SUCCESS)
        return -1;
    if (apr_pool_create_unmanaged_ex(&p, NULL, alloc) != APR_SUCCESS) {
        apr_allocator_destroy(alloc);
        return -1;
    }
    apr_allocator_owner_set(alloc, p);
    *out = p;
    return 0;
}

void
jr_process_init(void)
{
    jr_cache_init();
    /* A restart in the parent, which serves no request and so built no
     * site: drop the key files the old configuration proved, so that
     * restarts with new key files do not add up. */
    if (jr_sites_init() == JR_SITES_EMPTY_RESTART)
        jr_keysets_reset();
}

void
jr_child_init(void)
{
    jr_memo_start();
    jr_sites_child_init();
}

int
jr_process_trouble_is_new(const char *detail)
{
    apr_time_t now = apr_time_now();
    int fresh;

    pthread_mutex_lock(&trouble_lock);
    fresh =
        strcmp(detail, trouble_text) != 0 || now - trouble_at >= TROUBLE_REPEAT;
    if (fresh) {
        apr_cpystrn(trouble_text, detail, sizeof(trouble_text));
        trouble_at = now;
        __atomic_store_n(&trouble_logged, 1, __ATOMIC_RELAXED);
    }
    pthread_mutex_unlock(&trouble_lock);
    return fresh;
}

void
jr_process_trouble_over(void)
{
    /* One relaxed load on every accepted request; the lock only once. */
    if (!__atomic_load_n(&trouble_logged, __ATOMIC_RELAXED))
        return;
    pthread_mutex_lock(&trouble_lock);
    trouble_text[0] = '\0';
    __atomic_store_n(&trouble_logged, 0, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&trouble_lock);
}
