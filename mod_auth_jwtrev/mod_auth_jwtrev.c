/*
 * mod_auth_jwtrev.c - JWT bearer-token authentication with a revocation
 * store for Apache httpd 2.4: the hooks and the module record.  See
 * mod_auth_jwtrev(8) and mod_auth_jwtrev.h for where each part lives.
 */
#include "http_protocol.h"
#include "http_request.h"
#include "ap_provider.h"

#include "mod_auth_jwtrev.h"

/* The process state exists before any directive is read. */
static int
pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    jr_process_init();
    return OK;
}

static int
check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
             server_rec *s)
{
    return jr_check_config(ptemp, s);
}

static void
child_init(apr_pool_t *pchild, server_rec *s)
{
    jr_child_init();
}

static void
register_hooks(apr_pool_t *p)
{
    ap_hook_pre_config(pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(child_init, NULL, NULL, APR_HOOK_MIDDLE);
    /* Forged claim headers go before anything else reads them. */
    ap_hook_header_parser(jr_header_parser, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_check_authn(jr_check_authn, NULL, NULL, APR_HOOK_MIDDLE,
                        AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_note_auth_failure(jr_note_auth_failure, NULL, NULL,
                              APR_HOOK_MIDDLE);
    /* Claims are in place before mod_rewrite's and mod_headers' fixups. */
    ap_hook_fixups(jr_fixups, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_handler(jr_logout_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_register_auth_provider(p, AUTHN_PROVIDER_GROUP, "jwt",
                              AUTHN_PROVIDER_VERSION, &jr_authn_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "jwt-claim",
                              AUTHZ_PROVIDER_VERSION, &jr_authz_claim,
                              AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "jwt-scope",
                              AUTHZ_PROVIDER_VERSION, &jr_authz_scope,
                              AP_AUTH_INTERNAL_PER_CONF);
}

/* Not AP_DECLARE_MODULE: mod_auth_jwtrev.h already uses APLOG_USE_MODULE. */
module AP_MODULE_DECLARE_DATA auth_jwtrev_module = {
    STANDARD20_MODULE_STUFF,
    jr_create_dir_conf, /* per-directory config */
    jr_merge_dir_conf,  /* merge per-directory config */
    NULL,               /* per-server config */
    NULL,               /* merge per-server config */
    jr_cmds,            /* directives */
    register_hooks,
    AP_MODULE_FLAG_NONE,
};
