/*
 * config.c - the per-directory configuration of mod_auth_jwtrev: create,
 * merge, the directive setters and the command table.
 *
 * Every directive is allowed wherever AuthConfig is (server, virtual
 * host, <Directory>/<Location>, .htaccess with AllowOverride AuthConfig),
 * but for the store's two (AuthJWTRevocationDB, AuthJWTOnDBError): the
 * administrator's revocation must hold in every directory, so no
 * .htaccess may turn it off or weaken it (httpd answers such an
 * .htaccess with 500 and "not allowed here").
 * A value is judged when the directive is read: the library's option
 * parser for policy values, and key files are loaded, so that a bad
 * value stops `apache2 -t` (or, in .htaccess, fails that request with
 * the message in the error log) naming the directive.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "apr_strings.h"
#include "http_core.h"

#include "mod_auth_jwtrev.h"

/* The largest AuthJWTCacheSize: bounded memory per process and site. */
#define JR_CACHE_MAX 100000
#define JR_CACHE_DEFAULT 256

/* Server and virtual host (RSRC_CONF), sections and .htaccess with
 * AllowOverride AuthConfig (OR_AUTHCFG). */
#define JR_WHERE (RSRC_CONF | OR_AUTHCFG)
/* Server, virtual host and sections only, never .htaccess. */
#define JR_WHERE_ADMIN (RSRC_CONF | ACCESS_CONF)

/* clang-format off */
const struct jr_optdef jr_optdefs[JR_OPT_COUNT] = {
    [JR_OPT_KEY] = {"AuthJWTKeyFile", "key", JR_OPT_MULTI},
    [JR_OPT_SECRET] = {"AuthJWTSecretFile", "secret", JR_OPT_MULTI},
    [JR_OPT_ALG] = {"AuthJWTAlgorithms", "alg", JR_OPT_LIST},
    [JR_OPT_ISS] = {"AuthJWTIssuer", "iss", JR_OPT_MULTI},
    [JR_OPT_AUD] = {"AuthJWTAudience", "aud", JR_OPT_MULTI},
    [JR_OPT_LEEWAY] = {"AuthJWTLeeway", "leeway", JR_OPT_ONE},
    [JR_OPT_MAX_AGE] = {"AuthJWTMaxAge", "max_age", JR_OPT_ONE},
    [JR_OPT_REQUIRE] = {"AuthJWTRequireClaims", "require", JR_OPT_LIST},
    [JR_OPT_TYP] = {"AuthJWTTypes", "typ", JR_OPT_LIST},
    [JR_OPT_USER_CLAIM] = {"AuthJWTUserClaim", "user_claim", JR_OPT_ONE},
    [JR_OPT_DB] = {"AuthJWTRevocationDB", "db", JR_OPT_ONE},
    [JR_OPT_ON_DB_ERROR] = {"AuthJWTOnDBError", "on_db_error", JR_OPT_ONE},
};
/* clang-format on */

/*
 * The memo of merges: in a child, merging two fixed configurations
 * yields a fixed one, made once in memo_pool and kept on the base's
 * list.  Readers walk the lists without a lock (nodes are published
 * complete, with a release store, and never removed); writers take
 * memo_lock.  JR_MEMO_MAX bounds the memory whatever the configuration.
 */
#define JR_MEMO_MAX 4096

struct jr_memo {
    const jr_dir_conf *add;
    jr_dir_conf *merged;
    struct jr_memo *next;
};

static apr_pool_t *memo_pool; /* NULL: no memo (the parent) */
static pthread_mutex_t memo_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned memo_count;

void
jr_memo_start(void)
{
    /* Without a pool merges are made per request, as before. */
    if (memo_pool == NULL)
        (void)jr_process_pool(&memo_pool);
}

void *
jr_create_dir_conf(apr_pool_t *p, char *dir)
{
    jr_dir_conf *dc = apr_pcalloc(p, sizeof(*dc));
    int i;

    for (i = 0; i < JR_OPT_COUNT; i++)
        dc->opt[i] = apr_array_make(p, 1, sizeof(const char *));
    dc->cache_size = JR_CACHE_DEFAULT;
    /* Before the memos start: read at start-up, in pconf. */
    dc->fixed = memo_pool == NULL;
    return dc;
}

/* A nested section keeps what it sets and inherits the rest. */
static jr_dir_conf *
merge(apr_pool_t *p, const jr_dir_conf *base, const jr_dir_conf *add)
{
    jr_dir_conf *dc = apr_pcalloc(p, sizeof(*dc));
    int i;

    for (i = 0; i < JR_OPT_COUNT; i++)
        dc->opt[i] = (add->opt_set >> i) & 1u ? add->opt[i] : base->opt[i];
    dc->opt_set = base->opt_set | add->opt_set;
    dc->set = base->set | add->set;
#define JR_MERGE(field, bit)                                                   \
    dc->field = add->set & bit ? add->field : base->field
    JR_MERGE(cookie, JR_SET_COOKIE);
    JR_MERGE(claims_env, JR_SET_CLAIMS_ENV);
    JR_MERGE(claims_headers, JR_SET_CLAIMS_HEADERS);
    JR_MERGE(cache_size, JR_SET_CACHE_SIZE);
    JR_MERGE(daemon_socket, JR_SET_DAEMON_SOCKET);
#undef JR_MERGE
    return dc;
}

static jr_dir_conf *
memo_find(const jr_dir_conf *base, const jr_dir_conf *add)
{
    struct jr_memo *m = __atomic_load_n(&base->merges, __ATOMIC_ACQUIRE);

    for (; m != NULL; m = m->next)
        if (m->add == add)
            return m->merged;
    return NULL;
}

void *
jr_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    jr_dir_conf *base = basev, *found;
    const jr_dir_conf *add = addv;
    struct jr_memo *m;

    if (memo_pool == NULL || !base->fixed || !add->fixed)
        return merge(p, base, add);
    if ((found = memo_find(base, add)) != NULL)
        return found;
    pthread_mutex_lock(&memo_lock);
    if ((found = memo_find(base, add)) == NULL && memo_count < JR_MEMO_MAX) {
        found = merge(memo_pool, base, add);
        found->fixed = 1;
        m = apr_palloc(memo_pool, sizeof(*m));
        m->add = add;
        m->merged = found;
        m->next = base->merges;
        __atomic_store_n(&base->merges, m, __ATOMIC_RELEASE);
        memo_count++;
    }
    pthread_mutex_unlock(&memo_lock);
    return found != NULL ? found : merge(p, base, add);
}

const jr_site *
jr_memo_site(const jr_dir_conf *dc)
{
    return dc->fixed ? __atomic_load_n(&dc->site, __ATOMIC_ACQUIRE) : NULL;
}

void
jr_memo_set_site(jr_dir_conf *dc, const jr_site *site)
{
    /* A fixed configuration is the process's own (a child's copy of the
     * parent's, or made in memo_pool): only the memo fields change. */
    if (memo_pool != NULL && dc->fixed)
        __atomic_store_n(&dc->site, site, __ATOMIC_RELEASE);
}

int
jr_is_our_auth_type(const char *type)
{
    return type != NULL &&
           (strcasecmp(type, "Bearer") == 0 || strcasecmp(type, "JWT") == 0);
}

static const char *
directive_error(cmd_parms *cmd, const char *detail)
{
    return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, detail);
}

/*
 * A key file argument relative to ServerRoot.  "KID#FILE" names the kid
 * of the keys in FILE (jwtrev_keyring_add_file), unless the whole
 * argument is itself an existing file: keep the kid, resolve the file.
 */
static const char *
resolve_key_path(apr_pool_t *p, const char *arg)
{
    const char *hash = strchr(arg, '#'), *whole;
    apr_finfo_t fi;

    whole = ap_server_root_relative(p, arg);
    if (hash == NULL || whole == NULL ||
        apr_stat(&fi, whole, APR_FINFO_TYPE, p) == APR_SUCCESS)
        return whole;
    if (hash[1] == '\0')
        return whole;
    whole = ap_server_root_relative(p, hash + 1);
    if (whole == NULL)
        return NULL;
    return apr_pstrcat(p, apr_pstrndup(p, arg, hash - arg), "#", whole, NULL);
}

/* The allow-list this section has given so far, or every algorithm. */
static int
section_algs(const jr_dir_conf *dc, apr_pool_t *p, jwtrev_algset *out,
             jwtrev_error *err)
{
    const apr_array_header_t *a = dc->opt[JR_OPT_ALG];

    if (!((dc->opt_set >> JR_OPT_ALG) & 1u) || a->nelts == 0) {
        *out = JWTREV_ALGSET_ALL;
        return 0;
    }
    return jwtrev_algset_parse(apr_array_pstrcat(p, a, ' '), out, err);
}

/*
 * Prove key and secret files by loading them (through the process's
 * keyset cache, so a .htaccess does not parse them per request).
 */
static const char *
prove_keys(cmd_parms *cmd, const jr_dir_conf *dc)
{
    const apr_array_header_t *k = dc->opt[JR_OPT_KEY];
    const apr_array_header_t *s = dc->opt[JR_OPT_SECRET];
    jwtrev_algset algs;
    jwtrev_error err;
    jr_keyset *ks;
    int i;

    jwtrev_error_clear(&err);
    if (section_algs(dc, cmd->temp_pool, &algs, &err) != 0)
        return directive_error(cmd, err.detail);
    for (i = 0; i < k->nelts; i++)
        if (jr_keyset_get(&APR_ARRAY_IDX(k, i, const char *), 1, NULL, 0, algs,
                          cmd->temp_pool, &ks, &err) != 0)
            return directive_error(cmd, err.detail);
    for (i = 0; i < s->nelts; i++)
        if (jr_keyset_get(NULL, 0, &APR_ARRAY_IDX(s, i, const char *), 1, algs,
                          cmd->temp_pool, &ks, &err) != 0)
            return directive_error(cmd, err.detail);
    return NULL;
}

/* The library's opinion of one option value, on a scratch conf. */
static const char *
check_value(cmd_parms *cmd, const char *name, const char *value)
{
    jwtrev_conf c;
    jwtrev_error err;
    const char *detail = err.detail, *prefix;
    int rc;

    jwtrev_conf_init(&c);
    jwtrev_error_clear(&err);
    rc = jwtrev_conf_set(&c, name, value, &err);
    jwtrev_conf_free(&c);
    if (rc == 0)
        return NULL;
    /* The directive names the option already. */
    prefix = apr_pstrcat(cmd->temp_pool, "option ", name, ": ", NULL);
    if (strncmp(detail, prefix, strlen(prefix)) == 0)
        detail += strlen(prefix);
    return directive_error(cmd, detail);
}

/* The value as stored: paths resolved, "Off" for the store is NULL. */
static const char *
opt_value(cmd_parms *cmd, int opt, const char *arg, const char **msg)
{
    *msg = NULL;
    switch (opt) {
    case JR_OPT_KEY:
    case JR_OPT_SECRET:
        arg = resolve_key_path(cmd->pool, arg);
        break;
    case JR_OPT_DB:
        if (strcasecmp(arg, "Off") == 0)
            return NULL;
        arg = ap_server_root_relative(cmd->pool, arg);
        break;
    case JR_OPT_ON_DB_ERROR:
        if (strcmp(arg, "deny") != 0 && strcmp(arg, "allow") != 0)
            *msg = directive_error(cmd, "must be deny or allow");
        return arg;
    default:
        return arg;
    }
    if (arg == NULL)
        *msg = directive_error(cmd, "invalid path");
    return arg;
}

/* Judge and store one value of option opt. */
static const char *
add_value(cmd_parms *cmd, jr_dir_conf *dc, int opt, const char *arg)
{
    const struct jr_optdef *od = &jr_optdefs[opt];
    const char *value, *msg;

    value = opt_value(cmd, opt, arg, &msg);
    if (msg != NULL)
        return msg;
    if (value != NULL && (msg = check_value(cmd, od->name, value)) != NULL)
        return msg;
    /* Repeats add up inside a section, except single-valued options. */
    if (od->kind == JR_OPT_ONE || !((dc->opt_set >> opt) & 1u))
        apr_array_clear(dc->opt[opt]);
    if (value != NULL)
        APR_ARRAY_PUSH(dc->opt[opt], const char *) = value;
    dc->opt_set |= 1u << opt;
    return NULL;
}

/* A directive that is a jwtrev_conf option (cmd->info: JR_OPT_*). */
static const char *
set_opt(cmd_parms *cmd, void *cfg, const char *arg)
{
    int opt = (int)(intptr_t)cmd->info;
    const char *msg = add_value(cmd, cfg, opt, arg);

    if (msg == NULL && (opt == JR_OPT_KEY || opt == JR_OPT_SECRET))
        return prove_keys(cmd, cfg);
    return msg;
}

/* A list option: all words first, so that the keys are proven against
 * the whole allow-list, not a part of it. */
static const char *
set_opt_list(cmd_parms *cmd, void *cfg, int argc, char *const argv[])
{
    int opt = (int)(intptr_t)cmd->info, i;
    const char *msg = NULL;

    if (argc == 0)
        return directive_error(cmd, "needs at least one value");
    for (i = 0; msg == NULL && i < argc; i++)
        msg = add_value(cmd, cfg, opt, argv[i]);
    if (msg == NULL && opt == JR_OPT_ALG)
        return prove_keys(cmd, cfg);
    return msg;
}

/* RFC 6265 cookie-name: a token (no separators, spaces or controls). */
static int
is_token(const char *s, const char *separators)
{
    if (*s == '\0')
        return 0;
    for (; *s != '\0'; s++)
        if (*s <= 0x20 || *s >= 0x7f || strchr(separators, *s) != NULL)
            return 0;
    return 1;
}

static const char *
set_cookie(cmd_parms *cmd, void *cfg, const char *arg)
{
    jr_dir_conf *dc = cfg;

    if (!is_token(arg, "()<>@,;:\\\"/[]?={}"))
        return directive_error(cmd, "not a valid cookie name");
    dc->cookie = arg;
    dc->set |= JR_SET_COOKIE;
    return NULL;
}

/* The jwtrevd the logout handlers write through (jwtrevd(8)). */
static const char *
set_daemon_socket(cmd_parms *cmd, void *cfg, const char *arg)
{
    jr_dir_conf *dc = cfg;

    if (arg[0] != '/')
        return directive_error(cmd, "wants the absolute path of a socket");
    dc->daemon_socket = arg;
    dc->set |= JR_SET_DAEMON_SOCKET;
    return NULL;
}

static const char *
set_claims_env(cmd_parms *cmd, void *cfg, int flag)
{
    jr_dir_conf *dc = cfg;

    dc->claims_env = flag;
    dc->set |= JR_SET_CLAIMS_ENV;
    return NULL;
}

/* A header name prefix: letters, digits and '-' only. */
static const char *
set_claims_headers(cmd_parms *cmd, void *cfg, const char *arg)
{
    jr_dir_conf *dc = cfg;
    const char *p;

    dc->set |= JR_SET_CLAIMS_HEADERS;
    if (strcasecmp(arg, "Off") == 0) {
        dc->claims_headers = NULL;
        return NULL;
    }
    for (p = arg; *p != '\0'; p++)
        if (!apr_isalnum(*p) && *p != '-')
            return directive_error(cmd, "a header prefix may hold only "
                                        "letters, digits and '-'");
    if (*arg == '\0')
        return directive_error(cmd, "empty header prefix");
    dc->claims_headers = arg;
    return NULL;
}

static const char *
set_cache_size(cmd_parms *cmd, void *cfg, const char *arg)
{
    jr_dir_conf *dc = cfg;
    apr_int64_t n;
    char *end;

    errno = 0;
    n = apr_strtoi64(arg, &end, 10);
    if (errno != 0 || end == arg || *end != '\0' || n < 0 || n > JR_CACHE_MAX ||
        !apr_isdigit(*arg))
        return directive_error(
            cmd, apr_psprintf(cmd->temp_pool, "must be a number from 0 to %d",
                              JR_CACHE_MAX));
    dc->cache_size = (int)n;
    dc->set |= JR_SET_CACHE_SIZE;
    return NULL;
}

const command_rec jr_cmds[] = {
    AP_INIT_ITERATE("AuthJWTKeyFile", set_opt, (void *)(intptr_t)JR_OPT_KEY,
                    JR_WHERE,
                    "verification key files: PEM public key or certificate, "
                    "JWK or JWKS ([KID#]FILE)"),
    AP_INIT_ITERATE("AuthJWTSecretFile", set_opt,
                    (void *)(intptr_t)JR_OPT_SECRET, JR_WHERE,
                    "raw HMAC secret files"),
    AP_INIT_TAKE_ARGV("AuthJWTAlgorithms", set_opt_list,
                      (void *)(intptr_t)JR_OPT_ALG, JR_WHERE,
                      "accepted algorithms (allow-list)"),
    AP_INIT_ITERATE("AuthJWTIssuer", set_opt, (void *)(intptr_t)JR_OPT_ISS,
                    JR_WHERE, "accepted issuers (exact match)"),
    AP_INIT_ITERATE("AuthJWTAudience", set_opt, (void *)(intptr_t)JR_OPT_AUD,
                    JR_WHERE, "accepted audiences (exact match)"),
    AP_INIT_TAKE1("AuthJWTLeeway", set_opt, (void *)(intptr_t)JR_OPT_LEEWAY,
                  JR_WHERE, "allowed clock skew in seconds (default 60)"),
    AP_INIT_TAKE1("AuthJWTMaxAge", set_opt, (void *)(intptr_t)JR_OPT_MAX_AGE,
                  JR_WHERE, "maximum age since iat in seconds"),
    AP_INIT_TAKE_ARGV("AuthJWTRequireClaims", set_opt_list,
                      (void *)(intptr_t)JR_OPT_REQUIRE, JR_WHERE,
                      "claims that must be present (default exp)"),
    AP_INIT_TAKE_ARGV("AuthJWTTypes", set_opt_list,
                      (void *)(intptr_t)JR_OPT_TYP, JR_WHERE,
                      "accepted typ header values"),
    AP_INIT_TAKE1("AuthJWTUserClaim", set_opt,
                  (void *)(intptr_t)JR_OPT_USER_CLAIM, JR_WHERE,
                  "claim that becomes REMOTE_USER (default sub)"),
    AP_INIT_TAKE1("AuthJWTRevocationDB", set_opt, (void *)(intptr_t)JR_OPT_DB,
                  JR_WHERE_ADMIN,
                  "revocation store directory, or Off (default "
                  "/var/lib/jwtrev)"),
    AP_INIT_TAKE1("AuthJWTOnDBError", set_opt,
                  (void *)(intptr_t)JR_OPT_ON_DB_ERROR, JR_WHERE_ADMIN,
                  "deny (default) or allow when the store cannot answer"),
    AP_INIT_TAKE1("AuthJWTDaemonSocket", set_daemon_socket, NULL,
                  JR_WHERE_ADMIN,
                  "the jwtrevd socket logouts write through (default: the "
                  "one the store names)"),
    AP_INIT_TAKE1("AuthJWTCookie", set_cookie, NULL, JR_WHERE,
                  "also accept the token from this cookie"),
    AP_INIT_FLAG("AuthJWTClaimsEnv", set_claims_env, NULL, JR_WHERE,
                 "On: export claims as JWT_CLAIM_<name> and JWT_CLAIMS"),
    AP_INIT_TAKE1("AuthJWTClaimsHeaders", set_claims_headers, NULL, JR_WHERE,
                  "PREFIX: forward claims as PREFIX<name> request headers; "
                  "Off"),
    AP_INIT_TAKE1("AuthJWTCacheSize", set_cache_size, NULL, JR_WHERE,
                  "verified tokens cached per process (0: off)"),
    {0},
};
