/*
 * mod_auth_jwtrev.h - names shared between the files of the module (not
 * installed).  Everything here is jr_*; the module exports only
 * auth_jwtrev_module.
 *
 * Files: process.c (what a process keeps beyond a request, made at
 * pre_config and child_init), config.c (per-directory configuration and
 * directives),
 * site.c (a merged configuration compiled once per process: policy,
 * keys, store), keyset.c (key files parsed once per process, reloaded
 * when they change), cache.c (verified tokens), request.c (the request
 * pipeline), respond.c (the one mapping of results to HTTP, challenges,
 * logging), claims.c (claims to the backend and scrubbing), authz.c
 * (Require jwt-claim / jwt-scope), logout.c (the logout handlers),
 * check.c (the start-up check of merged sections), mod_auth_jwtrev.c
 * (hooks, module).
 */
#ifndef MOD_AUTH_JWTREV_H
#define MOD_AUTH_JWTREV_H

#include <pthread.h>
#include <stdint.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "mod_auth.h"
#include "apr_lib.h"
#include "apr_tables.h"

#include "jwtrev.h"

extern module AP_MODULE_DECLARE_DATA auth_jwtrev_module;

#ifdef APLOG_USE_MODULE
APLOG_USE_MODULE(auth_jwtrev);
#endif

/* ---- configuration (config.c) -------------------------------------------- */

/*
 * The directives that become jwtrev_conf options, by index.  The library
 * parses every value (jwtrev_conf_set), so the module and the CLI / PAM
 * agree on what a value means.
 */
enum jr_opt {
    JR_OPT_KEY,
    JR_OPT_SECRET,
    JR_OPT_ALG,
    JR_OPT_ISS,
    JR_OPT_AUD,
    JR_OPT_LEEWAY,
    JR_OPT_MAX_AGE,
    JR_OPT_REQUIRE,
    JR_OPT_TYP,
    JR_OPT_USER_CLAIM,
    JR_OPT_DB,
    JR_OPT_ON_DB_ERROR,
    JR_OPT_COUNT
};

/* How the values of an option become jwtrev_conf_set() calls. */
enum jr_opt_kind {
    JR_OPT_MULTI, /* one call per value (key, secret, iss, aud) */
    JR_OPT_LIST,  /* one call with the values joined by spaces */
    JR_OPT_ONE    /* one value; a repeated directive replaces it */
};

struct jr_optdef {
    const char *directive;
    const char *name; /* jwtrev_conf option name */
    enum jr_opt_kind kind;
};

extern const struct jr_optdef jr_optdefs[JR_OPT_COUNT];

/* Bits of jr_dir_conf.set for the fields that are not options. */
#define JR_SET_COOKIE 0x01u
#define JR_SET_CLAIMS_ENV 0x02u
#define JR_SET_CLAIMS_HEADERS 0x04u
#define JR_SET_CACHE_SIZE 0x08u
#define JR_SET_DAEMON_SOCKET 0x10u

struct jr_site;
struct jr_memo;

/*
 * Per-directory configuration.  Every field has a "set" bit so that a
 * nested section inherits exactly what it does not set (merge_dir_conf).
 * Immutable once httpd has read the configuration, but for the memo
 * fields of a fixed one.
 *
 * Fixed configurations live as long as the process: those read at
 * start-up, and in a child the merges of two fixed ones, which are made
 * once and found again (httpd merges the sections of every request
 * anew).  A fixed configuration remembers its compiled site, so that a
 * request finds it with one pointer read.  .htaccess files make
 * configurations that live for one request: never fixed.
 */
typedef struct jr_dir_conf {
    apr_array_header_t *opt[JR_OPT_COUNT]; /* const char *; empty and set:
                                              "Off" (AuthJWTRevocationDB) */
    unsigned opt_set;                      /* bit (1u << JR_OPT_*) */
    unsigned set;                          /* JR_SET_* */
    const char *cookie;                    /* NULL: no cookie source */
    int claims_env;
    const char *claims_headers; /* header prefix, NULL: Off */
    int cache_size;
    const char *daemon_socket;  /* AuthJWTDaemonSocket, or NULL: the
                                   store's marker decides */
    int fixed;                  /* see above */
    struct jr_memo *merges;     /* fixed: its merges as base (atomic) */
    const struct jr_site *site; /* fixed: its site once built (atomic) */
} jr_dir_conf;

void *jr_create_dir_conf(apr_pool_t *p, char *dir);
void *jr_merge_dir_conf(apr_pool_t *p, void *base, void *add);

/* From here on this process remembers merges and sites (child_init). */
void jr_memo_start(void);

/* The site remembered for dc, or NULL. */
const struct jr_site *jr_memo_site(const jr_dir_conf *dc);

/* Remember site for dc, if dc is fixed and memos have started. */
void jr_memo_set_site(jr_dir_conf *dc, const struct jr_site *site);
extern const command_rec jr_cmds[];

/* 1 when the configured AuthType is ours ("Bearer", or its alias "JWT"). */
int jr_is_our_auth_type(const char *type);

/* ---- sites, key sets, caches (site.c, keyset.c, cache.c) --------------- */

typedef struct jr_keyset jr_keyset;
typedef struct jr_cache jr_cache;
typedef struct jr_store jr_store;

/*
 * A merged configuration compiled once per process (per distinct
 * configuration, not per request).  Immutable and never freed before the
 * process exits; requests share it.
 */
typedef struct jr_site {
    const char *id;        /* the configuration identity */
    jwtrev_policy *policy; /* claims and header rules */
    jr_keyset *keys;       /* shared by sites with the same key files */
    jr_store *store;       /* NULL: AuthJWTRevocationDB Off */
    const char *store_dir; /* the store directory, for logout */
    int on_db_error;       /* JWTREV_ON_DB_ERROR_DENY or _ALLOW */
    int64_t leeway;        /* for the cache's re-check and logout */
    int64_t max_age;       /* -1: none */
    jr_cache *cache;       /* NULL: AuthJWTCacheSize 0 */
} jr_site;

/* ---- the process-wide state (process.c) -------------------------------- */

/*
 * A pool with an allocator of its own, for state that outlives requests
 * and restarts (the caller never destroys it): 0, or -1 out of memory.
 */
int jr_process_pool(apr_pool_t **out);

/* Create or, at a restart, renew the process state (pre_config). */
void jr_process_init(void);

/* What a child starts with (child_init). */
void jr_child_init(void);

/*
 * 1 when store or configuration trouble with this detail should be
 * logged at error: it differs from the last one logged by this process,
 * or that was a minute ago.  Else the caller logs it at debug.
 */
int jr_process_trouble_is_new(const char *detail);

/* A request was decided: trouble seen again later is news again. */
void jr_process_trouble_over(void);

/*
 * site.c's part: its registry, made once; JR_SITES_EMPTY_RESTART when it
 * was already there and holds no site (a restart in the parent).
 */
#define JR_SITES_EMPTY_RESTART 1
int jr_sites_init(void);

/* Forget store handles a child might have inherited. */
void jr_sites_child_init(void);

/*
 * The configuration as the library's options (the library parses every
 * value); the caller frees *c with jwtrev_conf_free, also on failure.
 */
int jr_conf_build(const jr_dir_conf *dc, apr_pool_t *p, jwtrev_conf *c,
                  jwtrev_error *err);

/*
 * Judge at start-up what directive-time checks cannot see: the key files
 * each section inherits under the allow-list it sets (check_config).
 */
int jr_check_config(apr_pool_t *ptemp, server_rec *s);

/*
 * The compiled site for a merged configuration, built on first use in
 * this process (and remembered by a fixed dc).  A configuration error is
 * config_error with the detail.
 */
int jr_site_get(jr_dir_conf *dc, apr_pool_t *scratch, const jr_site **out,
                jwtrev_error *err);

/*
 * The keyset for these key and secret files under this allow-list,
 * loaded on first use and shared by every site that names the same
 * files.  Also used at directive time to prove a key file.
 */
int jr_keyset_get(const char *const *keys, size_t nkeys,
                  const char *const *secrets, size_t nsecrets,
                  jwtrev_algset algs, apr_pool_t *scratch, jr_keyset **out,
                  jwtrev_error *err);

/* Forget every keyset (a restart in the parent; no site may use them). */
void jr_keysets_reset(void);

/*
 * A reference to the current keyring of ks (the caller frees it with
 * jwtrev_keyring_free) and its generation.  At most once per second the
 * key files are stat()ed; a changed file is reloaded once it has been
 * stable for a second, and a file that does not load keeps the old ring
 * (logged once).
 */
void jr_keyset_ring(jr_keyset *ks, server_rec *s, jwtrev_keyring **ring,
                    uint64_t *generation);

/* The files of ks (keys, then secrets), n of them. */
const char *const *jr_keyset_files(const jr_keyset *ks, size_t *n);

/*
 * A token's kid is in none of site's keys: ask jwtrevd, without waiting,
 * to fetch the key sets now (at most once a minute per key set).
 */
void jr_keys_unknown_kid(request_rec *r, const jr_site *site);

/*
 * The revocation check of a verified token in this process's reader of
 * the store, opened on first use (in the child, never before fork).
 */
int jr_store_check(jr_store *st, const jwtrev_token *t, int64_t now,
                   jwtrev_error *err);

/* ---- verified tokens and their cache (cache.c) --------------------------- */

/*
 * A verified token shared by the cache and the requests using it;
 * reference counted, immutable once verified.  It keeps its own copy of
 * the token text: the cache's key.
 */
typedef struct jr_verified {
    unsigned refs;       /* atomic */
    uint64_t hash;       /* jr_token_hash of text */
    uint64_t generation; /* of the keyring that verified it */
    jwtrev_token tok;
    size_t len;
    char text[]; /* the whole token, len bytes */
} jr_verified;

/* A new entry for the token text tok (copied), one reference. */
jr_verified *jr_verified_new(const char *tok, size_t len);
void jr_verified_release(jr_verified *v);

/* Prepare what the cache needs; called once, before any request. */
void jr_cache_init(void);

/*
 * The cache's hash of a token text: fast, and keyed with a secret drawn
 * per process, so that nobody can aim tokens at one cache set.  Never a
 * proof of identity: a hit also compares the whole text.
 */
uint64_t jr_token_hash(const char *tok, size_t len);

jr_cache *jr_cache_create(size_t entries);

/*
 * The cached entry for exactly this token text (hash = jr_token_hash of
 * it), verified under keyring generation generation, with a reference
 * for the caller; NULL on a miss.
 */
jr_verified *jr_cache_get(jr_cache *c, uint64_t hash, const char *tok,
                          size_t len, uint64_t generation);

/* Remember v (the cache takes its own reference). */
void jr_cache_put(jr_cache *c, jr_verified *v);

/* Drop the cache's references and free it (NULL: nothing), once no thread
 * uses it.  A child's caches last as long as the child; tests free theirs
 * so that LeakSanitizer sees only real leaks. */
void jr_cache_destroy(jr_cache *c);

/* ---- the request (request.c, respond.c, claims.c) ------------------------ */

/* Module-local results beside -JWTREV_ERR_*. */
#define JR_ERR_NO_TOKEN 1001        /* no credentials: plain challenge */
#define JR_ERR_INVALID_REQUEST 1002 /* RFC 6750 invalid_request */

/* What one request learned; kept in r->request_config. */
typedef struct jr_req {
    jr_verified *v; /* the verified token (a reference) */
    const jr_site *site;
    int authz_challenge; /* an authz provider set WWW-Authenticate */
    const char *scope;   /* the scopes jwt-scope asked for, or NULL */
} jr_req;

/* The verified token of r, or of the request r took its user from. */
const jr_req *jr_req_find(request_rec *r);

/*
 * The WWW-Authenticate value for r: Bearer realm, then error,
 * error_description and scope when not NULL, quoted and escaped.
 */
const char *jr_challenge(request_rec *r, const char *error,
                         const char *description, const char *scope);

/* Set the challenge header (Proxy-Authenticate for a forward proxy). */
void jr_set_challenge(request_rec *r, const char *value);

/* The one mapping of a result (0, -JWTREV_ERR_*, -JR_ERR_*) to HTTP. */
int jr_status(request_rec *r, int rc);

/*
 * Log a decision (never the token) and set the JWTREV_REASON note;
 * source names where the token came from, v is the accepted token.
 */
void jr_log_result(request_rec *r, int rc, const jwtrev_error *err,
                   const char *source, const jr_verified *v);

/* The request state of r itself, created on first use (authz records). */
jr_req *jr_req_own(request_rec *r);

int jr_check_authn(request_rec *r);
int jr_note_auth_failure(request_rec *r, const char *auth_type);
extern const authn_provider jr_authn_provider;

int jr_header_parser(request_rec *r);
int jr_fixups(request_rec *r);

/* ---- authorization providers and handlers (authz.c, logout.c) ------------ */

extern const authz_provider jr_authz_claim;
extern const authz_provider jr_authz_scope;

int jr_logout_handler(request_rec *r);

#endif /* MOD_AUTH_JWTREV_H */
