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
 */
#include "mod_auth_jwtrev.h"

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
